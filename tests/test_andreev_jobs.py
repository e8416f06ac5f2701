"""Andreev job kinds in the batch pipeline: the example configs recover the generator's truth.

The contact and temperature series run ``configs/andreev_series.yaml`` on the synthetic a:InO data
(``sample_data/andreev_ino``, truth in ``truth.json``); the PCAR profile runs
``configs/pcar_co.yaml`` on the bundled Co/Nb spectrum.  Each run is done once per module.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import h5py
import pandas as pd
import pytest
import yaml
from conftest import CONFIGS, SAMPLE_DATA

import fitkit
from fitkit.config import load_config
from fitkit.constants import G0_S
from fitkit.errors import ConfigError
from fitkit.pipeline import run
from fitkit.pipeline.sources import resolve_value

INO = SAMPLE_DATA / "andreev_ino"
TRUTH = json.loads((INO / "truth.json").read_text())
K = 5.0  # tolerance in standard errors


def _by_job(summary, job):
    return [r for r in summary.records if r.meta.get("job") == job]


@pytest.fixture(scope="module")
def series_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("andreev") / "run"
    return run(load_config(CONFIGS / "andreev_series.yaml"), out, workers=1, progress=False)


@pytest.fixture(scope="module")
def pcar_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("pcar") / "run"
    return run(load_config(CONFIGS / "pcar_co.yaml"), out, workers=1, progress=False)


@pytest.mark.slow
def test_contact_series_recovers_truth(series_run):
    assert series_run.n_failed == 0, series_run.failures
    recs = [r for r in _by_job(series_run, "contact") if "regime" in r.meta]
    truth = {Path(t["file"]).name: t for t in TRUTH["contact_series"]}
    assert len(recs) == len(truth)
    for r in recs:
        t = truth[Path(r.source_path).name]
        assert r.derived["g_contact"] == t["g_contact_G0"]  # from the sample table, no round-off
        assert r.meta["regime"] == ("tunnelling" if t["model"] == "nis" else "andreev")
        assert abs(r.values["delta"] - t["delta_meV"]) < K * r.stderr["delta"]
        if t["model"] == "nis":
            assert r.model_key == "nis" and "delta_col" not in r.values
            continue
        assert r.model_key == "andreev_collective"
        assert abs(r.values["delta_col"] - t["delta_col_meV"]) < K * r.stderr["delta_col"]
        assert abs(r.values["z"] - t["z"]) < K * r.stderr["z"]
        # model-free: stderr = statistical and systematic errors in quadrature
        mf, total = r.derived["delta_col_mf"], r.derived_stderr["delta_col_mf"]
        stat, sys_ = r.derived["delta_col_mf_stat"], r.derived["delta_col_mf_sys"]
        assert r.derived_units["delta_col_mf"] == "meV" and sys_ > 0 and stat > 0
        assert total == pytest.approx(math.hypot(stat, sys_))
        assert abs(mf - t["delta_col_meV"]) < 2 * total
    summ = next(r for r in _by_job(series_run, "contact") if r.meta.get("summary"))
    assert summ.derived["n_tunnelling"] == 3 and summ.derived["n_andreev"] == 5
    assert abs(summ.derived["delta_col"] - TRUTH["contact_series"][-1]["delta_col_meV"]) < (
        K * summ.derived_stderr["delta_col"]
    )
    assert abs(summ.derived["delta"] - TRUTH["delta_meV"]) < K * summ.derived_stderr["delta"]
    assert abs(summ.derived["delta_col_mf"] - TRUTH["delta_col_law"]["delta0_meV"]) < (
        2 * summ.derived_stderr["delta_col_mf"]
    )


@pytest.mark.slow
def test_temperature_series_tc(series_run):
    recs = _by_job(series_run, "delta_col_T")
    summ = next(r for r in recs if r.meta.get("summary"))
    law = TRUTH["delta_col_law"]
    assert summ.success and summ.units == {"t_c": "K", "delta_col0": "meV"}
    assert abs(summ.values["t_c"] - law["t_c_K"]) < K * summ.stderr["t_c"]
    assert abs(summ.values["delta_col0"] - law["delta0_meV"]) < K * summ.stderr["delta_col0"]
    spectra = [r for r in recs if not r.meta.get("summary")]
    assert len(spectra) == len(TRUTH["temperature_series"])
    temps = sorted(r.values["temperature"] for r in spectra)
    assert temps == sorted(t["temperature_K"] for t in TRUTH["temperature_series"])  # from the headers
    # Delta, Gamma, Z are held after the lowest temperature: fixed in the other records
    held = [r for r in spectra if r.values["temperature"] > min(temps)]
    assert all(not r.vary["delta"] and not r.vary["z"] and r.vary["delta_col"] for r in held)


@pytest.mark.slow
def test_series_files_written(series_run):
    out = series_run.outdir
    table = pd.read_csv(out / "series" / "contact" / "contact_series.csv")
    assert len(table) == 8 and list(table["g_contact_G0"]) == sorted(table["g_contact_G0"])
    assert table["delta_col_mf_meV"].notna().sum() == 5
    for rel in (
        "series/contact/delta_vs_g_contact.png",
        "series/delta_col_T/delta_col_vs_T.png",
        "series/delta_col_T/temperature_series.csv",
    ):
        assert (out / rel).stat().st_size > 1000
    results = pd.read_csv(out / "results.csv")
    for col in (
        "g_contact_G0",
        "delta_col_mf_meV",
        "delta_col_mf_meV_stderr",
        "delta_col_mf_stat_meV",
        "delta_col_mf_sys_meV",
        "t_c_K",
        "t_c_K_stderr",
        "delta_col0_meV",
    ):
        assert col in results.columns, col
    with h5py.File(out / "results.h5") as h5:
        assert h5.attrs["n_records"] == len(series_run.records)
    assert "series/contact/delta_vs_g_contact.png" in (out / "index.html").read_text()


@pytest.mark.slow
def test_resume_reuses_the_series_and_redraws_the_files(series_run):
    out = series_run.outdir
    table = out / "series" / "contact" / "contact_series.csv"
    before = table.read_text()
    table.unlink()
    again = run(load_config(CONFIGS / "andreev_series.yaml"), out, resume=True, workers=1, progress=False)
    assert again.n_resumed == again.n_items == 2 and again.n_failed == 0
    assert table.read_text() == before


@pytest.mark.slow
def test_pcar_profile(pcar_run):
    assert pcar_run.n_failed == 0, pcar_run.failures
    (rec,) = pcar_run.records
    assert rec.model_key == "btk_polarized"
    folder = pcar_run.outdir / "series" / "pcar" / "PCAR_Co_Data"
    prof = pd.read_csv(folder / "chi2_profile.csv")
    assert len(prof) == 10 and list(prof["polarization"]) == pytest.approx([0.1 * k for k in range(10)])
    # the free-P fit minimises chi^2 over P too: no profile point may lie (clearly) below it
    assert prof["chisqr"].min() >= rec.chisqr * (1 - 1e-4)
    corr = pd.read_csv(folder / "correlations.csv").set_index("parameter")
    trio = ["polarization", "z", "delta"]
    sub = corr.loc[trio, trio].to_numpy()
    assert (abs(sub - sub.T) < 1e-12).all() and (abs(sub) <= 1 + 1e-9).all()
    assert corr.loc["polarization", "z"] == pytest.approx(rec.correlations["polarization"]["z"])
    assert (folder / "pcar.png").stat().st_size > 1000
    assert (pcar_run.outdir / "fits" / "pcar" / "PCAR_Co_Data" / "fit.png").is_file()
    assert len(rec.meta["profile"]["chisqr"]) == 10


def _write_config(tmp_path, jobs, samples=None):
    doc = {"schema_version": 1, "name": "t", "jobs": jobs, "report": {"plots": False}}
    if samples is not None:
        doc["samples"] = samples
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.mark.slow
def test_missing_contact_conductance_is_a_failed_record(tmp_path):
    names = ["ino_gc_0.03G0.csv", "ino_gc_0.10G0.csv", "ino_gc_0.80G0.csv", "ino_gc_1.50G0.csv"]
    g = {"gc_0.03G0": 0.03, "gc_0.10G0": 0.10, "gc_1.50G0": 1.50}  # no row for gc_0.80G0
    cfg = _write_config(
        tmp_path,
        [
            {
                "name": "contact",
                "kind": "andreev_contact_series",
                "inputs": {
                    "files": [str(INO / "contact_series" / n) for n in names],
                    "sample_id_regex": "ino_(gc_[0-9.]+G0)",
                },
                "options": {"g_contact": {"column": "g_contact_uS"}, "n_bootstrap": 5},
            }
        ],
        samples=[{"id": k, "g_contact_uS": v * G0_S * 1e6} for k, v in g.items()],
    )
    summary = run(load_config(cfg), tmp_path / "out", workers=1, progress=False)
    assert summary.n_failed == 1 and summary.exit_code == 1
    (fail,) = summary.failures
    assert "no contact conductance for 'ino_gc_0.80G0.csv'" in fail.message
    assert "gc_0.80G0" in fail.message and "g_contact_uS" in fail.message
    ok = [r for r in summary.records if r.success and "regime" in r.meta]
    assert sorted(r.derived["g_contact"] for r in ok) == pytest.approx([0.03, 0.10, 1.50], rel=1e-12)
    summ = next(r for r in summary.records if r.meta.get("summary"))
    assert summ.success and summ.derived["n_andreev"] == 1
    assert any("ino_gc_0.80G0" in p for p in pd.read_csv(tmp_path / "out" / "results.csv")["source"])


def test_value_sources():
    path = INO / "contact_series" / "ino_gc_0.30G0.csv"
    v, src = resolve_value({"regex": "gc_([0-9.]+)G0", "unit": "G0"}, "conductance", "G0", path, None)
    assert v == 0.30 and "file name" in src
    sweep = fitkit.load(path)
    v, src = resolve_value("auto", "conductance", "uS", path, None, sweep)
    assert v == pytest.approx(0.30 * G0_S * 1e6) and "g_contact_G0" in src
    v, src = resolve_value({"header": "nope", "unit": "G0"}, "conductance", "G0", path, None, sweep)
    assert v is None and "# nope = <number>" in src
    v, src = resolve_value("auto", "temperature", "mK", path, None, sweep)
    assert v == pytest.approx(50.0)


def test_invalid_options_are_config_errors(tmp_path):
    files = [
        str(INO / "contact_series" / "ino_gc_0.30G0.csv"),
        str(INO / "contact_series" / "ino_gc_0.80G0.csv"),
    ]
    cfg = _write_config(
        tmp_path,
        [
            {
                "name": "a",
                "kind": "andreev_contact_series",
                "inputs": {"files": files},
                "options": {"g_contact": {"regex": "gc_[0-9.]+"}, "form": "pm9", "search_mV": [0.3, 0.1]},
            },
            {
                "name": "b",
                "kind": "pcar_profile",
                "inputs": {"files": files[:1]},
                "options": {"p_grid": [0.5, 1.2]},
                "x_range": [-0.001, 0.001],
            },
        ],
    )
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    text = "\n".join(info.value.problems)
    for frag in (
        "jobs[0].options.g_contact.regex: needs one capturing group",
        "jobs[0].options.g_contact.unit: missing",
        "jobs[0].options.form: 'pm9'",
        "jobs[0].options.search_mV",
        "jobs[1].options.p_grid",
        "jobs[1].x_range: not used by kind 'pcar_profile'",
    ):
        assert frag in text, text
