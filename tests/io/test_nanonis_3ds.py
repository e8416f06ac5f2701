"""Nanonis .3ds: header and binary layout of a real grid, write/read round trip, aborted grids."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest

from fitkit.errors import DataValidationError, LoaderError, MissingColumnError
from fitkit.io import guess_format, load
from fitkit.io.nanonis_3ds import iter_pixel_blocks, open_grid, read_grid_header, variable_name, write_3ds

NY, NX, NB = 3, 4, 7


@pytest.fixture
def grid(tmp_path, rng):
    bias = np.linspace(-2e-3, 2e-3, NB)
    current = rng.normal(0, 1e-9, (NY, NX, NB)).astype(np.float32)
    lix = rng.normal(0, 1e-12, (NY, NX, NB)).astype(np.float32)
    z = rng.normal(0, 1e-10, (NY, NX)).astype(np.float32)
    path = write_3ds(
        tmp_path / "g.3ds", bias, {"Current (A)": current, "LI Demod 1 X (A)": lix},
        params={"Z (m)": z},
        header={"Comment": "T=300mK", "Lock-in>Amplitude": "100E-6", "Bias>Calibration (V/V)": "1E+0"},
        grid_settings=(10e-9, 20e-9, 4e-9, 3e-9, 0.0),
    )
    return path, bias, current, lix, z


def test_variable_names():
    assert variable_name("Current (A)") == "current_A"
    assert variable_name("LI Demod 1 X (A)") == "li_demod_1_x_A"
    assert variable_name("Bias (V)") == "bias_measured_V"
    assert variable_name("Current [bwd] (A)") == "current_bwd_A"
    assert variable_name("Scan:Frequency Shift (Hz)", prefix="param_") == "param_scan_frequency_shift_Hz"


def test_round_trip_open_grid(grid):
    path, bias, current, lix, z = grid
    assert guess_format(path) == "nanonis_3ds"
    ds = open_grid(path)
    assert dict(ds.sizes) == {"y": NY, "x": NX, "bias": NB}
    assert isinstance(ds["current_A"].data, da.Array)  # lazy over the memory map
    np.testing.assert_array_equal(ds["current_A"].values, current)
    np.testing.assert_array_equal(ds["li_demod_1_x_A"].values, lix)
    np.testing.assert_array_equal(ds["param_z_m"].values, z.astype(float))
    np.testing.assert_allclose(ds["bias_V"].values, bias, rtol=1e-6)
    # 4 nm x 3 nm field centred at (10, 20) nm, 1 nm pitch, x fastest
    np.testing.assert_allclose(ds["x_m"].values[0], [8.5e-9, 9.5e-9, 10.5e-9, 11.5e-9], rtol=1e-6)
    np.testing.assert_allclose(ds["y_m"].values[:, 0], [19e-9, 20e-9, 21e-9], rtol=1e-6)
    assert ds["current_A"].attrs == {"units": "A", "nanonis_name": "Current (A)"}
    assert ds.attrs["pixels_complete"] == NX * NY and ds.attrs["aborted"] is False
    assert ds.attrs["temperature_K"] == pytest.approx(0.3)
    assert ds.attrs["lockin_amplitude_V"] == pytest.approx(100e-6)
    sub = open_grid(path, channels=["li_demod_1_x_A"])
    assert [v for v in sub.data_vars if not v.startswith("param_")] == ["li_demod_1_x_A"]
    with pytest.raises(MissingColumnError, match="channel 'Input 9' not found"):
        open_grid(path, channels=["Input 9"])


def test_round_trip_read_pixel(grid):
    path, bias, current, lix, z = grid
    s = load(path, pixel=(2, 1))
    assert list(s.data.columns) == ["bias_V", "current_A", "dIdV_arb", "sweep_index", "direction"]
    np.testing.assert_allclose(s.column("bias_V"), bias, rtol=1e-6)
    np.testing.assert_array_equal(s.column("current_A"), current[2, 1].astype(float))
    np.testing.assert_array_equal(s.column("dIdV_arb"), lix[2, 1].astype(float))
    e = s.meta.extra
    assert e["pixel"] == [2, 1] and e["pixel_flat"] == 9
    assert e["z_m"] == pytest.approx(float(z[2, 1]))
    assert e["lockin_channel"] == "LI Demod 1 X"
    assert s.meta.sample_id == "g[2,1]"
    assert load(path, pixel=9).column("current_A")[0] == current[2, 1, 0]
    every = load(path)
    assert len(every) == NX * NY
    np.testing.assert_array_equal(every[7].column("dIdV_arb"), lix[1, 3].astype(float))


def test_iter_pixel_blocks_covers_grid(grid):
    path, bias, current, lix, z = grid
    seen = np.zeros((NY, NX), dtype=int)
    for (iy, ix), arrays in iter_pixel_blocks(path, block=5):
        assert arrays["current_A"].shape == (iy.size, NB)
        np.testing.assert_array_equal(arrays["current_A"], current[iy, ix])
        seen[iy, ix] += 1
    assert np.all(seen == 1)


def test_aborted_grid_missing_pixels_are_nan(grid):
    path, bias, current, lix, z = grid
    header = read_grid_header(path)
    rec = 4 * header.record_len
    with path.open("r+b") as fh:  # keep 5 whole pixels and half of the 6th
        fh.truncate(header.data_offset + 5 * rec + rec // 2)
    ds = open_grid(path)
    assert ds.attrs["pixels_complete"] == 5 and ds.attrs["aborted"] is True
    values = ds["current_A"].values.reshape(NY * NX, NB)
    np.testing.assert_array_equal(values[:5], current.reshape(-1, NB)[:5])
    assert np.all(np.isnan(values[5:]))
    assert np.isnan(ds["x_m"].values.ravel()[5:]).all()
    assert sum(iy.size for (iy, _), _ in iter_pixel_blocks(path, block=2)) == 5
    assert len(load(path)) == 5
    with pytest.raises(DataValidationError, match=r"pixel \(1, 2\) \(iy, ix\) was not measured; the grid "
                                                  r"was aborted after 5 of 12 pixels"):
        load(path, pixel=(1, 2))


def test_grid_aborted_before_first_pixel(grid):
    path, bias = grid[0], grid[1]
    header = read_grid_header(path)
    with path.open("r+b") as fh:
        fh.truncate(header.data_offset + 10)
    ds = open_grid(path)  # bias axis falls back to the header's Sweep Start/End
    assert ds.attrs["pixels_complete"] == 0
    assert np.isnan(ds["current_A"].values).all()
    np.testing.assert_allclose(ds["bias_V"].values, bias)
    with pytest.raises(DataValidationError, match=r"g\.3ds: no pixel was measured \(0 of 12 pixels"):
        load(path)  # a zero-pixel grid is an error, not an empty result that vanishes from a batch


def test_bad_inputs(tmp_path, grid):
    path = grid[0]
    with pytest.raises(LoaderError, match=r"pixel \(3, 0\) is outside the 3 x 4 grid"):
        load(path, pixel=(3, 0))
    with pytest.raises(MissingColumnError, match="channel 'Input 3' not found"):
        load(path, pixel=0, channel="Input 3")
    bad = tmp_path / "bad.3ds"
    bad.write_bytes(b'Grid dim="2 x 2"\r\nPoints=3\r\n')
    with pytest.raises(LoaderError, match=r"bad\.3ds: no ':HEADER_END:' line"):
        open_grid(bad)
    bad.write_bytes(b'Grid dim="2 x 2"\r\nPoints=3\r\nChannels="Current (A)"\r\n# Parameters (4 byte)=3\r\n'
                    b'Fixed parameters="Sweep Start;Sweep End"\r\n:HEADER_END:\r\n')
    with pytest.raises(LoaderError, match="declares 3 parameters but names 2 fixed"):
        open_grid(bad)
    with pytest.raises(Exception, match="must be uniform"):
        write_3ds(tmp_path / "w.3ds", np.array([0, 1, 3.0]), {"Current (A)": np.zeros((1, 1, 3))})


@pytest.mark.shared
def test_real_kpfm_grid_layout(shared_data):
    path = shared_data / "format_fixture_3ds_kpfm_spmgrids" / "Grid Spectroscopy002.3ds"
    h = read_grid_header(path)
    sizes = (h.nx, h.ny, h.points, len(h.channels), len(h.params), h.data_offset)
    assert sizes == (20, 20, 128, 10, 18, 5051)
    ds = open_grid(path)
    assert ds.attrs["pixels_complete"] == 400 and not ds.attrs["aborted"]
    p0 = ds.isel(y=0, x=0)
    assert float(p0["param_sweep_start_V"]) == pytest.approx(0.2)
    assert float(p0["param_sweep_end_V"]) == pytest.approx(-0.1)
    assert float(p0["x_m"]) == pytest.approx(103.5e-9, abs=0.1e-9)
    assert float(p0["y_m"]) == pytest.approx(226.0e-9, abs=0.1e-9)
    assert float(p0["param_z_m"]) == pytest.approx(-11.13e-9, abs=0.01e-9)
    # independent layout check: the recorded "Bias (V)" channel equals the bias axis everywhere
    axis = np.broadcast_to(ds["bias_V"].values, (20, 20, 128))
    np.testing.assert_allclose(ds["bias_measured_V"].values, axis, atol=2e-7)
    # x varies fastest: pixel (0, 1) is 0.75 nm to the right of (0, 0), pixel (1, 0) above it
    assert float(ds["x_m"][0, 1] - ds["x_m"][0, 0]) == pytest.approx(0.75e-9, rel=1e-3)
    assert float(ds["y_m"][1, 0] - ds["y_m"][0, 0]) == pytest.approx(0.75e-9, rel=1e-3)
    s = load(path, pixel=(0, 0))
    assert s.column("current_A")[0] == pytest.approx(8.781005e-11, rel=1e-6)
    assert "dIdV_arb" not in s.columns  # KPFM grid: no lock-in channel
