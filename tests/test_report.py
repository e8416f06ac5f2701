"""Report layer: tables, writers (atomic, CSV/JSON/HDF5), concise notation, report folder, plots."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import stat

import h5py
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from pipeline_support import ToyLorentzBase, toy_lorentz_S, toy_lorentz_specs  # noqa: E402

from fitkit import fit_curve
from fitkit.fitting.record import FitRecord
from fitkit.io.sweep import Sweep, SweepMeta
from fitkit.models import MODEL_REGISTRY, FitkitModel, ParamSpec
from fitkit.report.fit_report import write_fit_report
from fitkit.report.plots import model_curve, plot_fit, plot_histogram, plot_map, plot_parameter_vs
from fitkit.report.tables import (
    PARAMETER_TABLE_COLUMNS,
    RECORD_COLUMNS,
    auto_display_unit,
    parameter_table,
    read_hdf5,
    records_to_frame,
    resolve_display_unit,
    write_csv,
    write_hdf5,
    write_json,
)
from fitkit.report.writer import (
    atomic_path,
    atomic_write_bytes,
    atomic_write_text,
    format_value_error,
    write_manifest,
)
from fitkit.units import UnitError


# ---------------------------------------------------------------------------------------------
# toy models, registered only while a test needs them
# ---------------------------------------------------------------------------------------------
def toy_rt_ohm(temperature, r_n, t_c, width):
    """Logistic R(T) step: r_n / (1 + exp((t_c - T) / width)), T and t_c, width in K, r_n in ohm."""
    return r_n / (1.0 + np.exp((t_c - temperature) / width))


class ToyRT(FitkitModel):
    """Toy logistic R(T) step used only by the report tests (not a physical model, not registered)."""

    key = "toy_rt"
    x_name, x_unit, y_unit = "temperature", "K", "ohm"
    param_specs = (
        ParamSpec("r_n", "ohm", 1000.0, min=0.0, description="normal-state resistance"),
        ParamSpec("t_c", "K", 1.0, min=0.0, description="transition temperature"),
        ParamSpec("width", "K", 0.05, min=1e-4, description="transition width"),
    )
    model_function = staticmethod(toy_rt_ohm)
    report_notes = "toy model: the logistic step is not a physical R(T) law"

    def guess(self, data, x, **overrides):
        r_n = float(np.max(data))
        t_c = float(x[np.argmin(np.abs(data - r_n / 2))])
        return self._finish_guess({"r_n": r_n, "t_c": t_c, "width": 0.05}, **overrides)


class ToyLorentz(ToyLorentzBase):
    """Toy Lorentzian conductance peak used only by the report tests (bias in V, output in S)."""

    key = "toy_lorentz"
    param_specs = toy_lorentz_specs(g_bg_vary=False)


@pytest.fixture
def toys(monkeypatch):
    monkeypatch.setitem(MODEL_REGISTRY, "toy_rt", ToyRT)
    monkeypatch.setitem(MODEL_REGISTRY, "toy_lorentz", ToyLorentz)


RT_TRUTH = {"r_n": 4500.0, "t_c": 0.45, "width": 0.03}
LZ_TRUTH = {"center": 0.1, "width": 0.25, "g_peak": 6.0, "g_bg": 10.0}


@pytest.fixture
def rt_sweep(rng):
    t = np.linspace(0.2, 0.8, 61)
    r = toy_rt_ohm(t, **RT_TRUTH)
    r = r * (1 + 0.01 * rng.standard_normal(t.size)) + 0.5
    return Sweep(pd.DataFrame({"temperature_K": t, "resistance_ohm": r}),
                 SweepMeta(source_path="/data/nw1_rt.csv", loader="text", sample_id="NW1"))


@pytest.fixture
def didv_sweep(rng):
    v = np.linspace(-2e-3, 2e-3, 81)
    g = toy_lorentz_S(v, **LZ_TRUTH) + 2e-8 * rng.standard_normal(v.size)
    return Sweep(pd.DataFrame({"bias_V": v, "dIdV_S": g}),
                 SweepMeta(source_path="/data/tj.dat", loader="nanonis_dat", sample_id="TJ"))


@pytest.fixture
def rt_record(toys, rt_sweep):
    return fit_curve(rt_sweep, "toy_rt", weights=1 / (0.01 * rt_sweep.column("resistance_ohm") + 0.5))


@pytest.fixture
def didv_record(toys, didv_sweep):
    return fit_curve(didv_sweep, "toy_lorentz", {"g_bg": LZ_TRUTH["g_bg"]})  # g_bg is fixed by default


def _hand_record(**changes):
    base = FitRecord(
        model_key="toy_lorentz", sample_id="S1", source_path="/d/s1.dat", x_column="bias_V",
        y_column="dIdV_S",
        values={"center": 0.1, "width": 0.2312, "g_peak": 6.0, "g_bg": 10.0},
        stderr={"center": 0.003, "width": 0.0041, "g_peak": 0.12, "g_bg": math.nan},
        units={"center": "meV", "width": "meV", "g_peak": "uS", "g_bg": "uS"},
        vary={"center": True, "width": True, "g_peak": True, "g_bg": False},
        at_bound={"center": False, "width": False, "g_peak": False, "g_bg": False},
        init_values={"center": 0.0, "width": 0.2, "g_peak": 5.0, "g_bg": 10.0},
        correlations={"center": {"width": 0.1}, "width": {"center": 0.1, "g_peak": -0.6},
                      "g_peak": {"width": -0.6}},
        derived={"ratio": 1.76}, derived_stderr={"ratio": 0.02}, derived_units={"ratio": "1"},
        redchi=1.1, chisqr=80.0, aic=-10.0, bic=-3.0, nfev=40, ndata=81, nvarys=3, success=True,
        message="ok", warnings=("w1", "w2"), meta={"loader": "nanonis_dat", "extra": {"T_K": 0.3}},
    )
    return dataclasses.replace(base, **changes)


# ---------------------------------------------------------------------------------------------
# concise value(error) notation
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "err", "unit", "expected"), [
    (0.2312, 0.0041, "meV", "0.231(4) meV"),        # 410 -> one digit
    (1.23456, 0.0123, "K", "1.235(12) K"),          # 123 -> two digits
    (0.231, 0.0096, "meV", "0.231(10) meV"),        # 960 -> rounds up to 10 in two digits
    (0.2312, 0.000999, "meV", "0.2312(10) meV"),    # 999 -> 1000
    (2.0, 1.0, "1", "2.0(10)"),                     # dimensionless: no unit
    (5.3, 12.0, "", "5(12)"),
    (12345.0, 670.0, "ohm", "12300(700) Ω"),        # last digit left of the point: full error
    (1.234e-7, 4.1e-9, "", "1.23(4)e-7"),           # tiny: power of ten
    (123456.0, 789.0, "ohm", "1.235(8)e5 Ω"),
    (-0.0, 0.3, "uS", "0.00(30) µS"),               # no negative zero
    (-0.00004, 0.3, "uS", "-4.0e-5 ± 0.30 µS"),     # error dwarfs the value: never print 0 for it
    (0.2312, math.nan, "meV", "0.2312 meV"),        # unknown error
    (0.2312, None, "kohm", "0.2312 kΩ"),
    (0.2312, 0.0, "meV", "0.2312 meV"),
    (math.nan, 0.1, "K", "nan K"),
])
def test_format_value_error_table(value, err, unit, expected):
    assert format_value_error(value, err, unit) == expected


def test_format_value_error_round_trip(rng):
    """Parse the notation back: value within half a last digit, error within the rounding band."""
    pat = re.compile(r"^(-?\d+(?:\.(\d+))?)\((\d+)\)(?:e(-?\d+))?$")
    for _ in range(300):
        v = rng.normal() * 10.0 ** rng.uniform(-2, 4)
        e = abs(v) * 10.0 ** rng.uniform(-4, 0.5)
        m = pat.match(format_value_error(v, e))
        assert m, format_value_error(v, e)
        scale = 10.0 ** int(m.group(4) or 0)
        ndec = len(m.group(2) or "")
        v_back = float(m.group(1)) * scale
        if ndec:  # digits in parentheses count units of the last decimal
            step = 10.0**-ndec
            e_back = int(m.group(3)) * step * scale
            assert 1 <= len(m.group(3)) <= 2
        else:  # integer notation: the error is written in full; rounding is at most its leading digit
            e_back = float(m.group(3)) * scale
            step = 10.0 ** math.floor(math.log10(float(m.group(3))))
        assert abs(v_back - v) <= 0.5 * step * scale * (1 + 1e-9)
        assert abs(e_back / e - 1) <= 0.15


# ---------------------------------------------------------------------------------------------
# display units and tables
# ---------------------------------------------------------------------------------------------
def test_resolve_display_unit_order_and_errors():
    du = {"gap1_delta": "ueV", "delta": "eV", "ohm": "kohm", "temperature": "mK"}
    assert resolve_display_unit("gap1_delta", "meV", du) == "ueV"
    assert resolve_display_unit("gap2_delta", "meV", du) == "eV"
    assert resolve_display_unit("r_n", "ohm", du) == "kohm"
    assert resolve_display_unit("t_c", "K", du) == "mK"
    assert resolve_display_unit("z", "1", du) == "1"
    assert resolve_display_unit("delta", "meV", None) == "meV"
    with pytest.raises(UnitError, match="is a temperature unit"):
        resolve_display_unit("delta", "meV", {"delta": "mK"})


def test_auto_display_unit():
    assert auto_display_unit("K", [0.05, 0.6]) == "mK"
    assert auto_display_unit("K", [0.5, 4.2]) == "K"
    assert auto_display_unit("ohm", [0.0, 4500.0]) == "kohm"
    assert auto_display_unit("S", [1e-5, 2e-5]) == "uS"
    assert auto_display_unit("norm", [0.5, 1.5]) == "norm"


GOLDEN_FRAME_COLUMNS = [
    *RECORD_COLUMNS,
    "center_meV", "center_meV_stderr", "center_meV_lower", "center_meV_upper",
    "width_ueV", "width_ueV_stderr", "width_ueV_lower", "width_ueV_upper",
    "g_peak_nS", "g_peak_nS_stderr", "g_peak_nS_lower", "g_peak_nS_upper",
    "g_bg_nS", "g_bg_nS_stderr", "ratio", "ratio_stderr",
]


def test_records_to_frame_golden(toys):
    rec = _hand_record()
    frame = records_to_frame([rec], display_units={"width": "ueV", "conductance": "nS"})
    assert list(frame.columns) == GOLDEN_FRAME_COLUMNS
    row = frame.iloc[0]
    assert row["sample_id"] == "S1" and row["source"] == "/d/s1.dat" and bool(row["success"])
    assert row["warnings"] == "w1; w2"
    assert row["width_ueV"] == pytest.approx(231.2)
    assert row["width_ueV_stderr"] == pytest.approx(4.1)
    assert row["g_peak_nS"] == pytest.approx(6000.0)
    assert math.isnan(row["g_bg_nS_stderr"])
    assert row["ratio"] == pytest.approx(1.76)


def test_records_to_frame_mixed_models(toys):
    a = _hand_record()
    b = FitRecord(model_key="toy_rt", sample_id="NW", values={"r_n": 4500.0}, stderr={"r_n": 20.0},
                  units={"r_n": "ohm"}, success=False, message="boom")
    frame = records_to_frame([a, b], display_units={"r_n": "kohm"})
    assert len(frame) == 2
    assert frame.loc[1, "r_n_kohm"] == pytest.approx(4.5)
    assert frame.loc[1, "r_n_kohm_stderr"] == pytest.approx(0.02)
    assert math.isnan(frame.loc[0, "r_n_kohm"]) and math.isnan(frame.loc[1, "center_meV"])
    assert list(frame["success"]) == [True, False]
    assert list(records_to_frame([]).columns) == list(RECORD_COLUMNS)


def test_parameter_table_golden(toys):
    table = parameter_table(_hand_record())
    assert list(table.columns) == list(PARAMETER_TABLE_COLUMNS) == [
        "name", "value", "stderr", "lower", "upper", "interval", "unit", "vary", "at_bound", "init",
        "description", "kind"]
    assert list(table["name"]) == ["center", "width", "g_peak", "g_bg", "ratio"]
    assert list(table["unit"]) == ["meV", "meV", "uS", "uS", "1"]
    assert list(table["vary"]) == [True, True, True, False, False]
    assert list(table["kind"]) == ["parameter"] * 4 + ["derived"]
    assert table.loc[1, "description"] == "half width at half maximum"
    assert table.loc[2, "init"] == pytest.approx(5.0)
    shown = parameter_table(_hand_record(), display_units={"meV": "ueV"})
    assert shown.loc[1, "value"] == pytest.approx(231.2) and shown.loc[1, "init"] == pytest.approx(200.0)


def test_csv_json_hdf5_writers(tmp_path, toys):
    recs = [_hand_record(), _hand_record(sample_id="S2", success=False, values={"center": 0.2},
                                         stderr={"center": math.nan}, units={"center": "meV"},
                                         derived={}, derived_stderr={}, derived_units={}, correlations={})]
    p = write_csv(tmp_path / "out" / "fits.csv", recs)
    back = pd.read_csv(p, keep_default_na=True)
    pd.testing.assert_frame_equal(back[["center_meV", "width_meV"]],
                                  records_to_frame(recs)[["center_meV", "width_meV"]])
    doc = json.loads(write_json(tmp_path / "fits.json", recs).read_text())
    assert doc["format"] == "fitkit-records" and len(doc["records"]) == 2
    r0 = doc["records"][0]
    assert r0["parameters"]["width"] == {"value": 0.2312, "stderr": 0.0041, "unit": "meV", "vary": True,
                                         "at_bound": False, "init": 0.2, "lower": None, "upper": None,
                                         "interval_method": "", "interval_kind": ""}
    assert r0["parameters"]["g_bg"]["stderr"] is None  # NaN -> null, strict JSON
    assert r0["correlations"]["width"]["g_peak"] == -0.6
    assert r0["statistics"]["redchi"] == 1.1 and r0["statistics"]["ndata"] == 81
    assert r0["provenance"]["loader"] == "nanonis_dat" and r0["provenance"]["extra"] == {"T_K": 0.3}
    assert r0["warnings"] == ["w1", "w2"]

    h5 = write_hdf5(tmp_path / "fits.h5", recs)
    with h5py.File(h5, "r") as f:
        assert f.attrs["format"] == "fitkit-records" and f.attrs["n_records"] == 2
        g = f["records/0000"]
        assert set(g) == {"parameters", "correlation", "derived"}
        assert set(g["parameters"]) == {"name", "unit", "value", "stderr", "init", "vary", "at_bound"}
        assert g["correlation"].shape == (4, 4)
        assert g.attrs["model_key"] == "toy_lorentz"
    again = read_hdf5(h5)
    for a, b in zip(recs, again, strict=True):
        assert a.values == b.values and a.units == b.units and a.warnings == b.warnings
        assert a.correlations == b.correlations
        np.testing.assert_array_equal(list(a.stderr.values()), list(b.stderr.values()))  # NaN-aware
        assert (a.success, a.redchi, a.derived) == (b.success, b.redchi, b.derived)


def test_hdf5_stores_fitted_curve(tmp_path, rt_record):
    with h5py.File(write_hdf5(tmp_path / "f.h5", [rt_record]), "r") as f:
        c = f["records/0000/curve"]
        np.testing.assert_allclose(c["best_fit"][()], rt_record.result.best_fit)
        assert c["x"].shape == (61,)


# ---------------------------------------------------------------------------------------------
# atomic writes and manifest
# ---------------------------------------------------------------------------------------------
def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "r.csv"
    atomic_write_text(target, "old\n")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv"]  # no temp file left
    atomic_write_bytes(target, b"new\n")
    assert target.read_bytes() == b"new\n"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o644


def test_atomic_write_into_unwritable_place_raises_oserror(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OSError):
        atomic_write_text(blocker / "sub" / "a.txt", "data")


def test_write_manifest(tmp_path):
    data = tmp_path / "in.csv"
    data.write_bytes(b"a,b\n1,2\n")
    path = write_manifest(tmp_path / "run", {"schema_version": 1, "fits": []}, [data, tmp_path / "missing"],
                          "2026-11-22T10:00:00+00:00", "2026-11-22T10:00:30+00:00")
    doc = json.loads(path.read_text())
    assert path.name == "run.json"
    assert doc["inputs"][0]["sha256"] == hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    assert doc["inputs"][1]["sha256"] is None and "FileNotFoundError" in doc["inputs"][1]["error"]
    assert doc["duration_s"] == 30.0
    assert {"fitkit", "lmfit", "numpy", "scipy", "pandas"} <= set(doc["versions"])
    assert doc["config"] == {"schema_version": 1, "fits": []}


# ---------------------------------------------------------------------------------------------
# report folder
# ---------------------------------------------------------------------------------------------
def test_write_fit_report_layout_and_summary(tmp_path, rt_record, rt_sweep):
    rec = dataclasses.replace(rt_record, meta={**rt_record.meta, "notes": ["prefactor reconstructed"]})
    folder = write_fit_report(rec, rt_sweep, tmp_path, display_units={"r_n": "kohm"}, title="NW1 R(T)")
    assert folder == tmp_path / "NW1__toy_rt"
    assert sorted(p.name for p in folder.iterdir()) == ["fit.png", "parameters.csv", "parameters.json",
                                                       "summary.md"]
    assert (folder / "fit.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = pd.read_csv(folder / "parameters.csv")
    assert list(table.columns) == list(PARAMETER_TABLE_COLUMNS)
    assert table.loc[table["name"] == "r_n", "unit"].item() == "kohm"
    doc = json.loads((folder / "parameters.json").read_text())
    assert doc["parameters"]["t_c"]["unit"] == "K"
    md = (folder / "summary.md").read_text()
    assert md.startswith("# NW1 R(T)")
    r_n = rec.values["r_n"] / 1e3
    assert format_value_error(r_n, rec.stderr["r_n"] / 1e3, "kohm") in md
    assert "kΩ" in md and "reduced chi^2" in md and "/data/nw1_rt.csv" in md
    assert "prefactor reconstructed" in md and "logistic step is not a physical" in md
    assert "![fit](fit.png)" in md


def test_toy_fit_recovers_truth(rt_record, didv_record):
    """The records fed to the report are sane: truth within 4 sigma (data independent of report code)."""
    for rec, truth in ((rt_record, RT_TRUTH), (didv_record, LZ_TRUTH)):
        assert rec.success
        for k, v in truth.items():
            if rec.vary[k]:
                assert abs(rec.values[k] - v) < 4 * rec.stderr[k], (k, rec.values[k], rec.stderr[k])


# ---------------------------------------------------------------------------------------------
# plots
# ---------------------------------------------------------------------------------------------
def test_plot_fit_rt_log_scale_labels_lines(rt_record, rt_sweep):
    fig = plot_fit(rt_record, rt_sweep)
    assert isinstance(fig, Figure)
    ax, rax = fig.axes
    assert ax.get_yscale() == "log" and rax.get_yscale() == "linear"
    assert ax.yaxis.get_major_formatter()(10.0) == "10"  # plain numbers, not 10^1
    assert rax.get_xlabel() == "temperature (mK)"  # 0.2-0.8 K shown in mK
    assert ax.get_ylabel() == "resistance (kΩ)"
    assert len(ax.lines) == 2 and len(rax.lines) == 2  # data + model; residuals + zero line
    np.testing.assert_allclose(ax.lines[0].get_xdata(), rt_sweep.column("temperature_K") * 1e3)
    # log axis: relative residuals in percent, matching the relative weights of R(T) fits
    model = toy_rt_ohm(rt_sweep.column("temperature_K"), **rt_record.values)
    rel = 100.0 * (rt_sweep.column("resistance_ohm") / model - 1.0)
    np.testing.assert_allclose(rax.lines[0].get_ydata(), rel, rtol=1e-9, atol=1e-9)
    assert rax.get_ylabel() == "relative residual (%)"


def test_plot_fit_didv_linear_mV_and_given_axes(didv_record, didv_sweep):
    fig = Figure()
    ax = fig.add_subplot()
    out = plot_fit(didv_record, didv_sweep, ax=ax, display_units={"dIdV": "nS"})
    assert isinstance(out, Axes) and out is ax
    assert ax.get_yscale() == "linear"
    assert ax.get_xlabel() == "bias (mV)" and ax.get_ylabel() == "dI/dV (nS)"
    assert len(ax.lines) == 2
    np.testing.assert_allclose(ax.lines[0].get_xdata(), didv_sweep.column("bias_V") * 1e3)
    fig2 = plot_fit(didv_record, didv_sweep, display_units={"bias": "uV"})
    assert fig2.axes[1].get_xlabel() == "bias (µV)" and fig2.axes[0].get_ylabel() == "dI/dV (µS)"


def test_model_curve_without_lmfit_result(didv_record):
    """A record rebuilt from a file (no lmfit result) re-evaluates the same model curve."""
    x = np.linspace(-1e-3, 1e-3, 7)
    bare = dataclasses.replace(didv_record, result=None)
    np.testing.assert_allclose(model_curve(bare, x), toy_lorentz_S(x, **didv_record.values), rtol=1e-12)
    np.testing.assert_allclose(model_curve(didv_record, x), toy_lorentz_S(x, **didv_record.values),
                               rtol=1e-12)
    assert model_curve(dataclasses.replace(bare, model_key="nope"), x) is None


def test_series_plots(toys):
    recs = [_hand_record(values={**_hand_record().values, "width": w}, meta={"extra": {}})
            for w in (0.2, 0.3)]
    frame = records_to_frame(recs)
    frame["field_T"] = [0.0, 0.5]
    fig = plot_parameter_vs(frame, "field_T", "width_meV")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "field (T)" and ax.get_ylabel() == "width (meV)"
    assert len(ax.containers) == 1  # one errorbar container
    with pytest.raises(KeyError, match="available"):
        plot_parameter_vs(frame, "nope", "width_meV")
    fig = plot_map(np.arange(12.0).reshape(3, 4), title="gap", unit="meV")
    assert len(fig.axes) == 2 and fig.axes[0].get_title() == "gap"  # map + colour bar
    assert fig.axes[1].get_ylabel() == "gap (meV)"
    with pytest.raises(ValueError, match="2-D"):
        plot_map(np.arange(3.0))
    fig = plot_histogram([0.2, 0.21, np.nan, 0.22], quantity="delta", unit="meV")
    assert fig.axes[0].get_xlabel() == "delta (meV)" and len(fig.axes[0].patches) > 0


def test_failed_record_report_and_plot(tmp_path, toys, didv_sweep):
    """What the pipeline writes for a failed item: no values, no lmfit result, maybe no sweep."""
    rec = FitRecord(model_key="toy_lorentz", sample_id="TJ", source_path="/data/tj.dat", x_column="bias_V",
                    y_column="dIdV_S", success=False, message="fit failed: boom",
                    warnings=("fit failed: boom",))
    folder = write_fit_report(rec, None, tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == ["parameters.csv", "parameters.json", "summary.md"]
    md = (folder / "summary.md").read_text()
    assert "**FAILED**: fit failed: boom" in md and "fit.png" not in md
    fig = plot_fit(rec, didv_sweep)
    assert len(fig.axes[0].lines) == 1 and "FAILED" in fig.axes[0].get_title()
