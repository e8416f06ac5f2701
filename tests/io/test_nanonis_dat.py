"""Nanonis .dat loader: exact frames and metadata from tiny fixtures, real files, bad inputs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from fitkit.errors import DataValidationError, LoaderError, MissingColumnError
from fitkit.io import guess_format, load
from fitkit.io.nanonis_dat import parse_column_name

BIAS = np.array([2e-3, 1e-3, 0.0, -1e-3, -2e-3])


def test_parse_column_name_tags_and_unit_in_any_order():
    assert parse_column_name("Input 3 [00002] [bwd] (V)") == {
        "name": "Input 3", "unit": "V", "sweep": 2, "direction": "bwd", "filtered": False}
    assert parse_column_name("Current [AVG] (A)")["sweep"] == -1
    c = parse_column_name("LI Demod 1 X (A) [filt]")
    assert (c["name"], c["unit"], c["filtered"], c["sweep"]) == ("LI Demod 1 X", "A", True, None)
    assert parse_column_name("Bias calc (V)")["name"] == "Bias calc"


def test_generic4_single_exact_frame_and_metadata(test_data):
    path = test_data / "nanonis_generic4_single.dat"
    assert guess_format(path) == "nanonis_dat"
    s = load(path)
    expected = pd.DataFrame({
        "bias_V": BIAS,
        "current_A": np.array([1, 2, 3, 4, 5]) * 1e-9,
        "dIdV_arb": [0.5, 0.6, 0.7, 0.8, 0.9],
        "sweep_index": np.ones(5, dtype=np.int64),
        "direction": pd.Series(["fwd"] * 5, dtype=object),
    })
    pd.testing.assert_frame_equal(s.data, expected, check_exact=False, rtol=1e-12)
    e = s.meta.extra
    assert e["temperature_K"] == pytest.approx(0.055)
    assert "Comment04" in e["temperature_source"]
    # 250 mV rms through a 1/1000 divider = 250 uV rms = 353.6 uV zero-to-peak
    assert e["lockin_amplitude_rms_V"] == pytest.approx(250e-6)
    assert e["lockin_amplitude_V"] == pytest.approx(250e-6 * math.sqrt(2))
    assert e["lockin_channel_raw"] == "Input 3 (V)"
    assert e["bias_calibration_V_per_V"] == pytest.approx(893.1e-6)
    assert e["bias_offset_V"] == pytest.approx(4e-3)
    assert e["date"] == "2022-04-27T17:49:02"
    assert (e["sweeps_declared"], e["sweeps_found"], e["average_stored"]) == (1, 1, False)
    assert (e["points_declared"], e["points_found"]) == (5, 5)
    assert s.meta.sample_id == "nanonis_generic4_single"
    assert s.meta.loader == "nanonis_dat"
    assert s.meta.raw_header["Comment04"] == "T=55mK"
    assert s.meta.units_conversion["Bias calc (V)"] == {"column": "bias_V", "factor": 1.0}


def test_generic4_channel_option_selects_input4(test_data):
    s = load(test_data / "nanonis_generic4_single.dat", channel="Input 4 (V)", sample_id="S1")
    np.testing.assert_allclose(s.column("dIdV_arb"), [0, -1e-3, -2e-3, -3e-3, -4e-3])
    assert s.meta.sample_id == "S1"
    assert s.meta.extra["lockin_channel"] == "Input 4"


def test_generic5_li_demod_temperature_channel_and_filt_ignored(test_data):
    s = load(test_data / "nanonis_generic5_lidemod.dat")
    assert list(s.data.columns) == ["bias_V", "current_A", "dIdV_arb", "temperature_K", "sweep_index",
                                    "direction"]
    np.testing.assert_allclose(s.column("bias_V"), BIAS)
    np.testing.assert_allclose(s.column("current_A"), [2e-10, 1e-10, 0, -1e-10, -2e-10])
    np.testing.assert_allclose(s.column("dIdV_arb"), np.arange(1, 6) * 1e-12)
    np.testing.assert_allclose(s.column("temperature_K"), [1.620, 1.621, 1.622, 1.623, 1.624])
    e = s.meta.extra
    assert e["lockin_channel_raw"] == "LI Demod 1 X (A)"
    assert "rms/peak" in e["dIdV_arb_note"]
    assert e["lockin_amplitude_V"] == pytest.approx(2e-3)
    assert e["lockin_amplitude_rms_V"] == pytest.approx(2e-3 / math.sqrt(2))
    assert e["lockin_frequency_Hz"] == pytest.approx(1e3)
    assert "zero-to-peak" in e["lockin_amplitude_convention"]
    # no comment: the temperature channel measured during the sweep wins over the header value
    assert e["temperature_K"] == pytest.approx(1.622)
    assert e["temperature_header_K"] == pytest.approx(2.4591)
    assert len(e["ignored_columns"]) == 5
    assert e["sw_version"] == "Generic 5"


def test_sweeps_and_backward_long_format(test_data):
    path = test_data / "nanonis_sweeps_bwd.dat"
    s = load(path)
    keys = list(s.data.groupby(["sweep_index", "direction"], sort=False).size().items())
    assert keys == [((1, "fwd"), 5), ((1, "bwd"), 5), ((2, "fwd"), 5), ((2, "bwd"), 5)]
    sub = s.data[(s.data.sweep_index == 2) & (s.data.direction == "bwd")]
    np.testing.assert_allclose(sub["dIdV_arb"], np.arange(5) * 10e-3 + 103e-3)
    np.testing.assert_allclose(sub["current_A"], (np.arange(5) * 10 + 103) * 1e-12)
    np.testing.assert_allclose(sub["bias_V"], BIAS)
    e = s.meta.extra
    assert (e["sweeps_declared"], e["sweeps_found"], e["backward_stored"]) == (2, 2, True)

    avg = load(path, sweeps="avg", directions="fwd")
    assert set(avg.data.sweep_index) == {-1} and set(avg.data.direction) == {"fwd"}
    np.testing.assert_allclose(avg.column("dIdV_arb"), np.arange(5) * 10e-3 + 2e-3)

    mixed = load(path, sweeps=[-1, 2], directions="bwd")
    assert list(mixed.data.groupby("sweep_index").size().items()) == [(-1, 5), (2, 5)]


def test_header_promising_more_sweeps_than_present(test_data):
    s = load(test_data / "nanonis_sweeps_promised.dat")
    e = s.meta.extra
    assert (e["sweeps_declared"], e["sweeps_found"], e["average_stored"]) == (4, 2, True)
    assert sorted(set(s.data.sweep_index)) == [1, 2]
    np.testing.assert_allclose(s.data.loc[s.data.sweep_index == 2, "dIdV_arb"], [2, 3, 4, 5, 6])
    msg = r"sweeps \[3\] are not in the file; stored sweep indices are \[-1, 1, 2\]"
    with pytest.raises(LoaderError, match=msg):
        load(test_data / "nanonis_sweeps_promised.dat", sweeps=[1, 3])


def test_missing_lockin_gives_current_only(test_data):
    s = load(test_data / "nanonis_current_only.dat")
    assert list(s.data.columns) == ["bias_V", "current_A", "sweep_index", "direction"]
    np.testing.assert_allclose(s.column("current_A"), [2e-9, 1e-9, 0, -1e-9, -2e-9])
    assert s.meta.extra["lockin_channel"] is None
    assert s.meta.extra["temperature_K"] is None
    assert "lockin_amplitude_V" not in s.meta.extra


def test_no_data_marker_raises_loader_error(test_data):
    with pytest.raises(LoaderError, match=r"nanonis_no_data_marker\.dat: no '\[DATA\]' marker"):
        load(test_data / "nanonis_no_data_marker.dat")


def test_truncated_table_names_line_and_expectation(test_data):
    with pytest.raises(DataValidationError, match=r"nanonis_truncated\.dat: line 27: 2 fields; expected 4"):
        load(test_data / "nanonis_truncated.dat")


def test_bad_options_and_channel(test_data):
    path = test_data / "nanonis_generic4_single.dat"
    with pytest.raises(MissingColumnError, match=r"channel 'Input 7' not found; available channels: "
                                                 r"\['Current', 'Input 3', 'Input 4'\]"):
        load(path, channel="Input 7")
    with pytest.raises(LoaderError, match="directions='up'; expected 'both', 'fwd' or 'bwd'"):
        load(path, directions="up")
    with pytest.raises(LoaderError, match="no 'bwd' curves"):
        load(path, directions="bwd")
    with pytest.raises(LoaderError, match="sweeps='some'"):
        load(path, sweeps="some")


def test_wrong_first_line_and_bad_number(tmp_path):
    p = tmp_path / "x.dat"
    p.write_text("Experiment\tZ spectroscopy\t\n[DATA]\nBias calc (V)\tCurrent (A)\n1\t2\n")
    with pytest.raises(LoaderError, match=r"x\.dat: line 1: .*expected a Nanonis bias-spectroscopy header"):
        load(p, format="nanonis_dat")
    p.write_text("Experiment\tbias spectroscopy\t\n\n[DATA]\nBias calc (V)\tCurrent (A)\n1E-3\t2\n0\tabc\n")
    msg = r"line 6, column 2 \('Current \(A\)'\): 'abc' is not a number"
    with pytest.raises(DataValidationError, match=msg):
        load(p)
    p.write_text("Experiment\tbias spectroscopy\t\nno tab here\n[DATA]\n")
    with pytest.raises(LoaderError, match="line 2: header line 'no tab here' has no TAB"):
        load(p)


EXPECTED_REAL = {
    # folder: (rows, sweeps found, sweeps declared, temperature K, lock-in peak amplitude V)
    "stm_nis_gr_re_stmtools": (6006, 3, 5, 0.055, 250e-6 * math.sqrt(2)),
    "stm_gap_58mK_ga_session_stmtools": (4001, 1, 1, 0.058, 150e-6 * math.sqrt(2)),
    "stm_sis_sctip_stmtools": (4001, 1, 1, 0.080, 150e-6 * math.sqrt(2)),
    "format_fixture_dat_generic5_pynxtools": (2048, 0, 10, 1.6252, 2e-3),
}


@pytest.mark.shared
def test_every_real_dat_loads(shared_data):
    files = sorted(shared_data.glob("*/*.dat"))
    assert files
    for f in files:
        s = load(f)
        assert s.meta.loader == "nanonis_dat"
        assert np.all(np.isfinite(s.column("bias_V")))
        assert {"bias_V", "current_A", "dIdV_arb", "sweep_index", "direction"} <= set(s.columns)
        if f.parent.name in EXPECTED_REAL:
            rows, found, declared, temp, amp = EXPECTED_REAL[f.parent.name]
            e = s.meta.extra
            assert len(s.data) == rows
            assert (e["sweeps_found"], e["sweeps_declared"]) == (found, declared)
            assert e["temperature_K"] == pytest.approx(temp, rel=1e-4)
            assert e["lockin_amplitude_V"] == pytest.approx(amp)


@pytest.mark.shared
def test_real_nis_average_matches_mean_of_stored_sweeps(shared_data):
    path = shared_data / "stm_nis_gr_re_stmtools" / "BiasSpectroscopyNIS.dat"
    s = load(path, sweeps=[-1, 1, 2, 3], directions="fwd")
    g = {k: v["dIdV_arb"].to_numpy() for k, v in s.data.groupby("sweep_index")}
    # Nanonis' [AVG] is the mean of the 3 stored sweeps (not of the 5 declared), to print precision
    np.testing.assert_allclose(g[-1], (g[1] + g[2] + g[3]) / 3, atol=1e-5)
    assert s.data["bias_V"].iloc[0] == pytest.approx(1.5e-3)
