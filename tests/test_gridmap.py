"""Grid maps: the pixel model is the registered model, per-pixel records come from the one record path,
map fits, aborted grids, warm starts and the ``map`` job."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from fitkit.analysis.gridmap import fit_block, fit_grid, map_summary
from fitkit.fitting.grid import PixelModel, pixel_records
from fitkit.io.nanonis_3ds import open_grid, read_grid_header
from fitkit.models import get_model
from fitkit.models.tunneling import nis_model_conductance
from fitkit.report.maps import read_maps, save_maps

GRID = Path(__file__).resolve().parents[1] / "sample_data" / "grid_3ds"
FIXED = {"temperature": {"value": 0.3, "vary": False}, "v_mod": {"value": 0.02, "vary": False}}


@pytest.fixture(scope="module")
def truth() -> dict[str, np.ndarray]:
    with np.load(GRID / "truth.npz") as z:
        return {k: z[k] for k in z.files}


@pytest.fixture(scope="module")
def maps():
    return fit_grid(GRID / "sc_grid.3ds")


def _truncated(tmp_path: Path, pixels: float) -> Path:
    """A copy of the sample grid cut after ``pixels`` pixel records (an aborted measurement)."""
    src = GRID / "sc_grid.3ds"
    h = read_grid_header(src)
    n_bytes = h.data_offset + int(pixels * h.record_len * 4)
    dst = tmp_path / "aborted.3ds"
    with src.open("rb") as fi, dst.open("wb") as fo:
        fo.write(fi.read(n_bytes))
    return dst


def test_pixel_model_equals_registered_nis_model(rng):
    """The map fitter evaluates the registered ``nis`` model itself (no second N-I-S implementation)."""
    model = get_model("nis")()
    bias = np.linspace(-1.5e-3, 1.5e-3, 201)
    pixel = PixelModel(model, bias)
    for _ in range(12):
        pars = model.make_params()
        for name, val in (("delta", rng.uniform(0.05, 0.6)), ("gamma", rng.uniform(1e-4, 0.08)),
                          ("temperature", rng.uniform(0.05, 1.5)), ("g_n", rng.uniform(0.2, 3.0)),
                          ("bias_offset", rng.uniform(-0.05, 0.05)), ("v_mod", rng.uniform(0.0, 0.06)),
                          ("bg_slope", rng.uniform(-0.05, 0.05))):
            pars[name].set(value=val)
        ref = model.eval(pars, bias=bias)
        np.testing.assert_allclose(pixel(pars), ref, rtol=1e-10, atol=0.0)
        # twice: the second call is served by the physics layer's caches and must not differ
        np.testing.assert_allclose(pixel(pars), ref, rtol=1e-10, atol=0.0)
    # no gap: flat conductance G_N (analytic), whatever the smearing
    flat = model.make_params(delta=0.0, gamma=0.01, temperature=0.3, g_n=2.5, v_mod=0.02)
    np.testing.assert_allclose(pixel(flat), 2.5, rtol=1e-9)


def test_cached_kernels_do_not_change_the_physics(rng):
    """A cached N-I-S evaluation equals one computed with empty caches (independent of call history)."""
    from fitkit.physics import thermal, tunneling

    v = np.linspace(-1.2, 1.2, 97)
    args = [(rng.uniform(0.1, 0.5), rng.uniform(0.001, 0.05), rng.uniform(0.05, 1.0), rng.uniform(0, 0.05))
            for _ in range(6)]
    warm = [tunneling.nis_conductance(v, *a) for a in args + args]
    tunneling._nis_on_grid.cache_clear()
    thermal.smearing_kernel.cache_clear()
    thermal._kernel_spectrum.cache_clear()
    for a, w in zip(args, warm[len(args):], strict=True):
        cold = tunneling.nis_conductance(v, *a)
        np.testing.assert_array_equal(cold, w)
        cold[:] = 0.0  # callers may write into the result; the cache keeps its own copy
    np.testing.assert_array_equal(tunneling.nis_conductance(v, *args[0]), warm[0])


def test_pixel_record_has_the_verdict_of_the_same_curve_fit():
    """A pixel's record is built by record_from_result: same verdict, at_bound and values as fit_curve."""
    import pandas as pd

    from fitkit.fitting import fit_curve
    from fitkit.io.sweep import Sweep, SweepMeta

    ds = open_grid(GRID / "sc_grid.3ds")
    x = ds["bias_V"].values
    y = np.asarray(ds["li_demod_1_x_A"].values[2, 5], dtype=float)
    y = y / np.median(np.r_[y[:30], y[-30:]])  # a normalised spectrum, g_n ~ 1
    blk = fit_block(x, y[None, :], params=FIXED, warm_start=False, y_unit="norm")
    (rec,) = pixel_records(blk, [2], [5], model_key="nis", sample_id="g", source_path="g.3ds",
                           y_column="dIdV_norm")
    sweep = Sweep(pd.DataFrame({"bias_V": x, "dIdV_norm": y}), SweepMeta(sample_id="g"))
    ref = fit_curve(sweep, "nis", FIXED, uncertainty="linear")
    assert rec.verdict == ref.verdict and rec.at_bound == ref.at_bound
    assert set(rec.quality) >= {"noise_sigma", "chi2_noise", "lag1", "durbin_watson"}
    for name in ("delta", "gamma", "g_n", "bias_offset"):
        assert abs(rec.values[name] - ref.values[name]) < 0.05 * ref.stderr[name]
        assert rec.stderr[name] == pytest.approx(ref.stderr[name], rel=0.02)
    assert rec.sample_id == "g[2,5]" and rec.meta["iy"] == 2 and rec.meta["significant"]


def test_map_recovers_true_gap(maps, truth):
    good = ~truth["defect"]
    ok = maps["success"].values
    assert ok[good].mean() >= 0.95
    z = (maps["delta_meV"].values - truth["delta_meV"]) / maps["delta_meV_stderr"].values
    z = z[good & ok]
    assert np.median(np.abs(z)) < 1.2  # 0.67 for Gaussian errors
    assert np.mean(np.abs(z) < 2.0) > 0.85
    assert 0.55 < np.mean(np.abs(z) < 1.0) < 0.85  # honest 1-sigma errors
    rel = maps["g_n_A"].values[good & ok] / truth["g_n_A"][good & ok] - 1
    assert np.median(np.abs(rel)) < 0.01
    # the normal (defect) pixels have no significant gap: fitted fine, flagged, not counted as a gap
    sig = maps["significant"].values
    assert ok[truth["defect"]].all()
    assert not sig[truth["defect"]].any()
    assert sig[good].mean() >= 0.95
    assert maps["start"].values.min() >= 1  # every pixel measured and fitted
    s = map_summary(maps)
    assert s["delta_mean_meV"] == pytest.approx(truth["delta_meV"][good].mean(), abs=0.002)
    assert s["success_fraction"] == pytest.approx(ok.mean())
    assert s["n_significant"] == (ok & sig).sum()


def test_warm_start_agrees_with_cold_start(truth):
    ds = open_grid(GRID / "sc_grid.3ds")
    x = ds["bias_V"].values
    y = ds["li_demod_1_x_A"].values[:4].reshape(64, -1)
    iy, ix = np.divmod(np.arange(64), 16)
    warm = fit_block(x, y, params=FIXED, iy=iy, ix=ix, warm_start=True)
    cold = fit_block(x, y, params=FIXED, iy=iy, ix=ix, warm_start=False)
    both = warm.success & cold.success
    assert both.mean() > 0.9
    j = warm.names.index("delta")
    diff = np.abs(warm.values[both, j] - cold.values[both, j]) / warm.stderr[both, j]
    assert diff.max() < 0.1
    assert (warm.start[both] == 2).mean() > 0.9
    assert warm.nfev[both].mean() < cold.nfev[both].mean()


def test_bad_pixels_never_stop_a_block():
    x = np.linspace(-1.5e-3, 1.5e-3, 101)
    good = nis_model_conductance(x, 0.3, 0.02, 0.3, 1.0, 0.0, 0.02, 0.0)
    rows = np.vstack([good, np.full(101, np.nan), np.zeros(101), np.full(101, np.inf), good])
    fit = fit_block(x, rows, params=FIXED)
    assert fit.start[1] == 0 and not fit.success[1] and "no finite data" in fit.message[1]
    # a flat zero spectrum converges (the one success rule of fitkit.fitting: converged, finite) but
    # its record says why it is no result: g_n at its bound, undetermined errors -> not usable
    assert fit.records[2].verdict != "ok" and not fit.significant[2] and "bound" in fit.message[2]
    assert not fit.success[3] and fit.verdict[3] == 2
    assert fit.success[0] and fit.success[4] and fit.significant[0] and fit.significant[4]
    assert fit.values[4, fit.names.index("delta")] == pytest.approx(0.3, abs=1e-3)


def test_aborted_grid_pixels_are_nan_and_workers_do_not_matter(tmp_path):
    path = _truncated(tmp_path, 40.5)
    one = fit_grid(path, block=16)
    two = fit_grid(path, block=16, workers=2)
    assert one.attrs["pixels_complete"] == 40
    flat_ok = one["success"].values.ravel()
    assert not flat_ok[40:].any()
    assert np.isnan(one["delta_meV"].values.ravel()[40:]).all()
    assert (one["start"].values.ravel()[40:] == 0).all()
    assert flat_ok[:40].mean() > 0.9
    for v in one.data_vars:
        np.testing.assert_array_equal(one[v].values, two[v].values)


def test_save_and_read_maps(tmp_path, maps):
    paths = save_maps(maps, tmp_path / "m")
    for p in paths.values():
        assert p.is_file() and p.stat().st_size > 0
    back = read_maps(paths["maps"])
    assert set(back.data_vars) == set(maps.data_vars)
    np.testing.assert_array_equal(back["delta_meV"].values, maps["delta_meV"].values)
    assert back["success"].dtype == bool
    assert back["delta_meV"].attrs["units"] == "meV"
    assert not list((tmp_path / "m").glob(".*tmp"))


def test_map_job_in_pipeline(tmp_path):
    pipeline = pytest.importorskip("fitkit.pipeline")
    from fitkit.config import load_config

    path = _truncated(tmp_path, 40)
    cfg_path = tmp_path / "map.yaml"
    cfg_path.write_text(
        "schema_version: 1\nname: maptest\njobs:\n"
        "  - name: gapmap\n    kind: map\n    inputs: {files: aborted.3ds, block_size: 16}\n"
        "    model: nis\n    options: {channel: 'LI Demod 1 X (A)'}\n",
        encoding="utf-8",
    )
    cfg = load_config(cfg_path)
    out = tmp_path / "out"
    summary = pipeline.run(cfg, out, workers=1, progress=False)
    assert summary.n_items == 3  # 40 measured pixels in blocks of 16
    pixel_recs = [r for r in summary.records if "iy" in r.meta]
    assert len(pixel_recs) == 40
    maps_h5 = out / "maps" / "gapmap" / "maps.h5"
    for name in ("gap_map.png", "histogram.png", "maps.h5"):
        assert (out / "maps" / "gapmap" / name).is_file()
    (row,) = [r for r in summary.records if r.meta.get("item_id") == "_map"]
    assert row.success and row.derived["success_fraction"] > 0.9
    assert row.derived["delta_mean"] == pytest.approx(0.3, abs=0.05)
    assert row.derived_units["delta_mean"] == "meV"
    assert "maps/gapmap/gap_map.png" in (out / "index.html").read_text(encoding="utf-8")
    direct = fit_grid(path, block=16)
    back = read_maps(maps_h5)
    np.testing.assert_array_equal(back["delta_meV"].values, direct["delta_meV"].values)
    np.testing.assert_array_equal(back["success"].values, direct["success"].values)
    again = pipeline.run(cfg, out, workers=1, progress=False, resume=True)
    assert again.n_resumed == again.n_items == 3
    pooled = pipeline.run(cfg, tmp_path / "out2", workers=2, progress=False)
    key = {(r.meta["iy"], r.meta["ix"]): r for r in pixel_recs}
    for r in pooled.records:
        if "iy" in r.meta:
            ref = key[(r.meta["iy"], r.meta["ix"])]
            np.testing.assert_array_equal(list(r.values.values()), list(ref.values.values()))
            assert r.success == ref.success


def test_map_job_rejects_bad_options(tmp_path):
    from fitkit.config import load_config
    from fitkit.errors import ConfigError

    shutil.copy(GRID / "sc_grid.3ds", tmp_path / "g.3ds")
    cfg_path = tmp_path / "bad.yaml"
    cfg_path.write_text(
        "schema_version: 1\nname: bad\njobs:\n"
        "  - name: m\n    kind: map\n    inputs: {files: g.3ds}\n    model: nis\n"
        "    options: {bogus: 1, warm_start: 'yes', parameter: gap}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as err:
        load_config(cfg_path)
    text = str(err.value)
    assert "options.bogus" in text and "options.warm_start" in text and "options.parameter" in text


def test_preprocess_normalize_gives_dimensionless_g_n(maps):
    ds = open_grid(GRID / "sc_grid.3ds").isel(y=slice(0, 1))
    norm = fit_grid(ds, preprocess=[{"step": "normalize"}])
    assert "g_n_norm" in norm.data_vars and norm["g_n_norm"].attrs["units"] == "norm"
    assert np.all(np.abs(norm["g_n_norm"].values - 1.0) < 0.05)
    # normalising by a constant per pixel does not move the gap
    np.testing.assert_allclose(norm["delta_meV"].values[0], maps["delta_meV"].values[0], atol=1e-6)
