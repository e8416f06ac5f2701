"""Series job kinds: qps_join (L_c per sample), finkelstein (T_c(R_sq) fit), report folder (index.html)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fitkit.analysis.finkelstein import fit_finkelstein
from fitkit.config import FrozenDict, JobConfig, RunConfig, Sample, load_config
from fitkit.errors import ConfigError
from fitkit.fitting.record import FitRecord
from fitkit.physics.films import finkelstein_tc
from fitkit.physics.wire import qps_length_with_error
from fitkit.pipeline import JOB_KINDS, JobContext, run


# ------------------------------------------------------------------------------------------ qps_join
def _ps(sid: str, g_xi: float, err: float, *, xi: float = 145.0, length_um: float = 20.0, ok: bool = True):
    return FitRecord(
        model_key="phase_slip_gz",
        sample_id=sid,
        source_path=f"/data/{sid}_rt.csv",
        values={"g_xi": g_xi, "t_c": 0.4, "b": 1.0, "xi": xi, "length": length_um},
        stderr={"g_xi": err, "t_c": 0.001, "b": 0.0, "xi": 0.0, "length": 0.0},
        units={"g_xi": "1", "t_c": "K", "b": "1", "xi": "nm", "length": "um"},
        vary={"g_xi": True, "t_c": True, "b": False, "xi": False, "length": False},
        success=ok,
        message="" if ok else "FitError: did not converge",
        meta={"job": "rt", "item_id": sid},
    )


def _sp(sid: str, g_z: float, err: float):
    return FitRecord(
        model_key="sis_plasmon",
        sample_id=sid,
        values={"delta": 0.045, "g_z": g_z},
        stderr={"delta": 0.001, "g_z": err},
        units={"delta": "meV", "g_z": "1"},
        vary={"delta": True, "g_z": True},
        success=True,
        meta={"job": "sp", "item_id": sid},
    )


def _qps_cfg(samples, **options) -> RunConfig:
    jobs = (
        JobConfig(name="rt", kind="fit"),
        JobConfig(name="sp", kind="fit"),
        JobConfig(name="lc", kind="qps_join", depends_on=("rt", "sp"), options=FrozenDict(options)),
    )
    return RunConfig(schema_version=1, name="t", base_dir=Path("."), jobs=jobs, samples=tuple(samples))


def _independent_lc(g_xi, g_z, xi, a=1.0, b=1.0):
    # seed Eq. (3) written out again here, not through fitkit.physics.wire
    return xi * math.exp((a * g_xi - math.log(b)) / (2.0 - g_z / 8.0))


def test_qps_join_value_and_propagated_error(rng):
    gx, gz = rng.uniform(4.0, 9.0), rng.uniform(1.0, 4.0)
    gx_e, gz_e = rng.uniform(0.05, 0.3), rng.uniform(0.05, 0.3)
    cfg = _qps_cfg([Sample("W1", FrozenDict({"xi_nm": 120.0, "length_um": 2.0}))], a=1.0)
    res = {"rt": [_ps("W1", gx, gx_e)], "sp": [_sp("W1", gz, gz_e)]}
    (rec,) = JOB_KINDS["qps_join"].finalize(JobContext(cfg.jobs[2], cfg, res))
    assert rec.success, rec.message
    lc_ref, err_ref = qps_length_with_error(gx, gx_e, gz, gz_e, 120.0)
    assert rec.derived["l_c"] == pytest.approx(float(lc_ref), rel=1e-12)
    assert rec.derived_stderr["l_c"] == pytest.approx(float(err_ref), rel=1e-12)
    # independent: the formula written out, and the error by central finite differences
    assert rec.derived["l_c"] == pytest.approx(_independent_lc(gx, gz, 120.0), rel=1e-12)
    h = 1e-6
    d_gx = (_independent_lc(gx + h, gz, 120.0) - _independent_lc(gx - h, gz, 120.0)) / (2 * h)
    d_gz = (_independent_lc(gx, gz + h, 120.0) - _independent_lc(gx, gz - h, 120.0)) / (2 * h)
    assert rec.derived_stderr["l_c"] == pytest.approx(math.hypot(d_gx * gx_e, d_gz * gz_e), rel=1e-6)
    assert rec.derived["xi"] == pytest.approx(120.0) and rec.derived["length"] == pytest.approx(2000.0)
    assert rec.meta["sources"]["xi"] == "sample table" and rec.meta["sources"]["b"] == "phase_slip_gz fit"
    assert rec.derived_units["l_c"] == "nm" and rec.derived_stderr["g_z"] == gz_e


def test_qps_join_ln_error_is_relative_error():
    cfg = _qps_cfg([Sample("W", FrozenDict({"xi_nm": 140.0, "length_um": 20.0}))])
    res = {"rt": [_ps("W", 7.5, 0.2)], "sp": [_sp("W", 2.5, 0.1)]}
    (rec,) = JOB_KINDS["qps_join"].finalize(JobContext(cfg.jobs[2], cfg, res))
    assert rec.meta["regime"] == "crossover"  # 20 um vs 11.92 um
    assert rec.derived_stderr["ln_l_c"] == pytest.approx(rec.derived_stderr["l_c"] / rec.derived["l_c"])


def test_qps_join_regimes_lengths_and_missing_partner():
    # physics-note check C4: xi = 140 nm, a g_xi - ln b = 7.5, g_Z = 2.5 gives L_c = 11.92 um
    samples = [
        Sample("S", FrozenDict({"xi_nm": 140.0, "length_um": 2.0})),
        Sample("I", FrozenDict({"xi_nm": 140.0, "length_um": 50.0})),
        Sample("C", FrozenDict({"xi_nm": 140.0, "length_um": 10.0})),
        Sample("N", FrozenDict({})),  # no xi/length in the table: the fit's fixed xi and length are used
    ]
    cfg = _qps_cfg(samples, regime_factor=2.0)
    rt = [_ps(s, 7.5, 0.1) for s in ("S", "I", "C", "N", "M")] + [_ps("F", 7.0, 0.1, ok=False)]
    sp = [_sp(s, 2.5, 0.05) for s in ("S", "I", "C", "N", "F")]
    res = {"rt": rt, "sp": sp}
    out = {r.sample_id: r for r in JOB_KINDS["qps_join"].finalize(JobContext(cfg.jobs[2], cfg, res))}
    assert set(out) == {"S", "I", "C", "N", "M", "F"}
    assert out["S"].derived["l_c"] / 1e3 == pytest.approx(11.92, abs=0.005)
    assert [out[k].meta["regime"] for k in "SIC"] == ["superconducting", "insulating", "crossover"]
    assert "superconducting" in out["S"].message
    assert out["N"].derived["xi"] == pytest.approx(145.0) and out["N"].derived["length"] == pytest.approx(
        20000.0
    )
    assert out["N"].meta["sources"]["length"].startswith("fixed parameter")
    # missing partners are failed records with a clear message; the others still succeed
    assert not out["M"].success and "'M'" in out["M"].message and "'g_z'" in out["M"].message
    assert not out["F"].success and "g_xi" in out["F"].message and "did not converge" in out["F"].message
    assert sum(r.success for r in out.values()) == 4


def test_qps_join_gz_at_sit_is_superconducting_and_repeats_are_combined():
    cfg = _qps_cfg([Sample("W", FrozenDict({"xi_nm": 100.0, "length_um": 5.0}))])
    sp = [_sp("W", 15.0, 0.5), _sp("W", 17.0, 0.5)]  # mean 16 = G_Z_SIT: L_c infinite
    res = {"rt": [_ps("W", 5.0, 0.1)], "sp": sp}
    (rec,) = JOB_KINDS["qps_join"].finalize(JobContext(cfg.jobs[2], cfg, res))
    # 15 and 17 (+- 0.5) are 2.8 sigma apart: chi2_red = (1 + 1) / 0.5**2 / (2 - 1) = 8 > 1, so the
    # inverse-variance error 0.5/sqrt(2) is scaled by sqrt(8) (PDG scale factor): 1.0
    assert rec.derived["g_z"] == pytest.approx(16.0)
    assert rec.derived_stderr["g_z"] == pytest.approx(0.5 / 2**0.5 * math.sqrt(8.0))
    assert math.isinf(rec.derived["l_c"]) and rec.meta["regime"] == "superconducting"
    assert any("combined" in w for w in rec.warnings)


# ------------------------------------------------------------------------------------------ finkelstein
def test_finkelstein_takes_t_zero_or_a_fit_parameter_in_any_temperature_unit():
    samples = [
        Sample(f"F{k}", FrozenDict({"r_sq_ohm_per_sq": r})) for k, r in enumerate((300.0, 1000.0, 2000.0))
    ]
    tc = finkelstein_tc(np.array([300.0, 1000.0, 2000.0]), 3.0, 6.0)
    desc = [
        FitRecord(
            "transition",
            sample_id=s.id,
            derived={"t_zero": 1e3 * t},
            derived_stderr={"t_zero": 1.0},
            derived_units={"t_zero": "mK"},
            success=True,
            meta={"job": "rt", "item_id": s.id},
        )
        for s, t in zip(samples, tc, strict=True)
    ]
    fits = [
        FitRecord(
            "phase_slip_gz",
            sample_id=s.id,
            values={"t_c": t},
            stderr={"t_c": 0.001},
            units={"t_c": "K"},
            vary={"t_c": True},
            success=True,
            meta={"job": "rt", "item_id": s.id},
        )
        for s, t in zip(samples, tc, strict=True)
    ]
    for recs, name in ((desc, "t_zero_K"), (desc, "t_zero"), (fits, "t_c")):
        job = JobConfig(name="law", kind="finkelstein", depends_on=("rt",), options=FrozenDict({"t_c": name}))
        cfg = RunConfig(1, "t", Path("."), (JobConfig(name="rt", kind="fit"), job), tuple(samples))
        (rec,) = JOB_KINDS["finkelstein"].finalize(JobContext(job, cfg, {"rt": recs}))
        assert rec.success and rec.values["t_c0"] == pytest.approx(3.0, rel=1e-5), (name, rec.message)
        assert [p["t_c_K"] for p in rec.meta["points"]] == pytest.approx(list(tc))


def test_fit_finkelstein_exact_and_coverage(rng):
    r = np.array([300.0, 600.0, 1000.0, 1500.0, 2000.0])
    fit = fit_finkelstein(r, finkelstein_tc(r, 3.0, 6.0), None)
    assert fit["t_c0"] == pytest.approx(3.0, rel=1e-6) and fit["gamma"] == pytest.approx(6.0, rel=1e-6)
    assert fit["r_c"] == pytest.approx(5461.0, abs=1.0)  # physics-note check C17 at gamma = 6
    hits = np.zeros(2)
    n = 60
    for _ in range(n):
        sig = rng.uniform(0.01, 0.03, r.size)
        t = finkelstein_tc(r, 3.0, 6.0) + sig * rng.standard_normal(r.size)
        f = fit_finkelstein(r, t, sig)
        hits += [abs(f["t_c0"] - 3.0) <= f["t_c0_stderr"], abs(f["gamma"] - 6.0) <= f["gamma_stderr"]]
    assert np.all((0.55 * n <= hits) & (hits <= 0.80 * n)), hits / n


FILM_CONFIG = """
schema_version: 1
name: films
samples: {csv: films/samples.csv}
jobs:
  - name: rt
    kind: transition
    inputs: {files: ["films/F*.csv"], sample_id_regex: "(F\\\\d+)"}
    options: {n_boot: 60}
    plot_against: thickness_nm
  - name: tc_law
    kind: finkelstein
    from: rt
    options: {t_c: t_c50, plot_against: r_sq}
report:
  plot_against: [r_sq_ohm_per_sq]
"""


def test_finkelstein_recovers_film_series_and_writes_the_report(tmp_path, sample_data):
    src = sample_data / "film_series"
    shutil.copytree(src, tmp_path / "films")
    (tmp_path / "films" / "F9.csv").write_text("T (K),R (Ohm)\n1.0,2.0\n1.1,2.0\n")  # too short: fails
    cfg_path = tmp_path / "films.yaml"
    cfg_path.write_text(FILM_CONFIG)
    out = tmp_path / "out"
    (out / "maps" / "gm").mkdir(parents=True)  # stands in for a map job's output
    (out / "maps" / "gm" / "gap_map.png").write_bytes(b"\x89PNG stand-in")
    s = run(load_config(cfg_path), out, workers=1, progress=False)
    truth = json.loads((src / "truth.json").read_text())
    (rec,) = [r for r in s.records if r.model_key == "finkelstein"]
    assert rec.success, rec.message
    for name, key in (("t_c0", "t_c0_K"), ("gamma", "gamma")):
        assert abs(rec.values[name] - truth[key]) < 2 * rec.stderr[name], (name, rec.values, rec.stderr)
    assert len(rec.meta["points"]) == 5 and any("F9" in w for w in rec.warnings)
    assert s.n_failed == 1 and s.failures[0].item_id == "F9"
    frame = pd.read_csv(out / "results.csv")
    assert {"t_c50_K", "t_c50_K_stderr", "t_c0_K", "gamma", "sample_thickness_nm"} <= set(frame.columns)
    html = (out / "index.html").read_text()
    for link in ("results.csv", "results.json", "results.h5", "run.json"):
        assert f"href='{link}'" in html
    assert "<h2 id='job-rt'>" in html and "<h2 id='job-tc_law'>" in html
    assert "<th>t_c50</th>" in html and "<th>t_c0</th>" in html and "<th>gamma</th>" in html
    assert "3.00" in html and "K</td>" in html  # value(err) with its unit in the summary table
    assert "id='failures'" in html and "F9" in html and "DataValidationError" in html
    assert "series/tc_law/finkelstein.png" in html and (out / "series/tc_law/finkelstein.png").is_file()
    vs = "plots/rt__t_c50_K__vs__thickness_nm.png"
    assert vs in html and (out / vs).is_file()
    assert "maps/gm/gap_map.png" in html
    cfg = load_config(cfg_path)  # plot_against as a job key or among the options, bare quantity or column
    assert cfg.job("rt").plot_against == ("thickness_nm",) and cfg.job("tc_law").plot_against == ("r_sq",)
    assert "plot_against" not in cfg.job("tc_law").options


def test_series_config_errors(tmp_path, sample_data):
    shutil.copytree(sample_data / "film_series", tmp_path / "films")
    bad = FILM_CONFIG.replace("plot_against: thickness_nm", "plot_against: width_nm").replace(
        "{t_c: t_c50, ", "{errors: loose, t_c: t_c50, "
    )
    (tmp_path / "a.yaml").write_text(bad)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "a.yaml")
    msg = str(info.value)
    assert "jobs[0].plot_against: 'width_nm' is not a numeric column of the sample table" in msg
    assert "jobs[1].options.errors: 'loose' is not one of ['absolute', 'scaled']" in msg
    (tmp_path / "c.yaml").write_text(FILM_CONFIG.replace("{t_c: t_c50, ", "{t_c: t_half, "))
    with pytest.raises(ConfigError, match=r"jobs\[1\]\.options\.t_c: 't_half' is not a temperature"):
        load_config(tmp_path / "c.yaml")
    (tmp_path / "b.yaml").write_text(FILM_CONFIG.replace("samples: {csv: films/samples.csv}\n", ""))
    with pytest.raises(ConfigError, match=r"jobs\[1\]\.kind: kind 'finkelstein' needs a sample table"):
        load_config(tmp_path / "b.yaml")


def test_an_unexpected_error_in_a_series_step_is_a_failed_record(tmp_path, sample_data, monkeypatch):
    from fitkit.pipeline import JobKind

    class Boom(JobKind):
        name = "boom"
        needs_inputs = False
        needs_from = True
        item_level = False

        def finalize(self, ctx):
            raise ZeroDivisionError("division by zero in a series step")

    monkeypatch.setitem(JOB_KINDS, "boom", Boom())
    shutil.copy(sample_data / "film_series" / "F1.csv", tmp_path / "F1.csv")
    (tmp_path / "r.yaml").write_text(
        "schema_version: 1\njobs:\n"
        "  - {name: rt, kind: transition, inputs: {files: F1.csv}, options: {n_boot: 0}}\n"
        "  - {name: b, kind: boom, from: rt}\n"
    )
    s = run(load_config(tmp_path / "r.yaml"), tmp_path / "out", workers=1, progress=False)
    assert (s.n_ok, s.n_failed) == (1, 1) and s.failures[0].job == "b"
    assert s.failures[0].message == "ZeroDivisionError: division by zero in a series step"
    assert "ZeroDivisionError" in (tmp_path / "out" / "index.html").read_text()
