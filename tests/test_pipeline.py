"""Batch engine: series runs, error capture, atomic item files, resume, kill-and-resume, backends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fitkit.config import load_config
from fitkit.errors import FitkitError, LoaderError
from fitkit.fitting.batch import fit_series
from fitkit.io import Sweep, SweepMeta
from fitkit.pipeline import plan, run

sys.path.insert(0, str(Path(__file__).parent))
from pipeline_support import forget_plugins, write_plugin, write_series  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True, scope="module")
def _clean_registries():
    yield
    forget_plugins()


CONFIG = """
schema_version: 1
name: series
plugins: [tk_plugin.py]
samples:
  - {{id: W1, width_nm: 100}}
  - {{id: W2, width_nm: 120}}
jobs:
  - name: rt
    kind: fit
    inputs: {{files: ["data/*.tkcsv"], format: tk_csv}}
    model: {{key: tk_step}}
    params:
      width: {{value: 100, unit: mK, min: 5}}
report: {{plots: {plots}, formats: [csv, json, hdf5, html]}}
"""


def _setup(
    tmp_path: Path,
    rng: np.random.Generator,
    n: int = 6,
    *,
    plots: bool = False,
    bad: bool = True,
    text: str = CONFIG,
) -> tuple[Path, list[tuple[Path, float]]]:
    write_plugin(tmp_path)
    truth = write_series(tmp_path / "data", rng, n=n, points=40)
    if bad:
        (tmp_path / "data" / "X_garbage.tkcsv").write_text("temperature_K,resistance_ohm\nabc,def\n")
        (tmp_path / "data" / "X_short.tkcsv").write_text("temperature_K,resistance_ohm\n1,2\n2,3\n")
    cfg = tmp_path / "run.yaml"
    cfg.write_text(text.format(plots="true" if plots else "false"))
    return cfg, truth


def _values(summary) -> dict[tuple[str, str], dict[str, float]]:
    return {(r.meta["job"], r.meta["item_id"]): dict(r.values) for r in summary.records if r.success}


def test_fit_series_records_bad_items_and_goes_on(tmp_path, rng):
    write_plugin(tmp_path)
    from fitkit.config import load_plugins

    load_plugins([tmp_path / "tk_plugin.py"])
    ((p, t_c),) = write_series(tmp_path, rng, n=1, points=40)
    t = np.linspace(3, 6, 4)
    tiny = Sweep(
        pd.DataFrame({"temperature_K": t[:2], "resistance_ohm": [1.0, 2.0]}),
        SweepMeta(source_path="tiny", sample_id="tiny"),
    )
    recs = fit_series(
        [p, tmp_path / "nope.tkcsv", tiny],
        "tk_step",
        {"width": {"value": 0.1}},
        format="tk_csv",
        meta={"job": "j"},
    )
    assert [r.success for r in recs] == [True, False, False]
    assert abs(recs[0].values["t_c"] - t_c) < 5 * recs[0].stderr["t_c"]
    assert recs[1].message.split(":")[0] in ("FileNotFoundError", "InputFileNotFoundError")
    assert "nope.tkcsv" in recs[1].message
    assert (
        recs[2].message.startswith("DataValidationError:") and "fewer than 3 finite points" in recs[2].message
    )
    assert all(r.meta["job"] == "j" for r in recs)
    with pytest.raises(FileNotFoundError):
        fit_series([tmp_path / "nope.tkcsv"], "tk_step", format="tk_csv", strict=True)


def test_series_run_with_bad_inputs(tmp_path, rng):
    cfg_path, truth = _setup(tmp_path, rng, n=5)
    out = tmp_path / "out"
    s = run(load_config(cfg_path), out, workers=1, progress=False)
    assert (s.n_ok, s.n_failed, s.n_items, s.exit_code) == (5, 2, 7, 1)
    msgs = {f.item_id: f.message for f in s.failures}
    assert msgs["X_garbage"].startswith("LoaderError:") and "not a tk_csv file" in msgs["X_garbage"]
    assert msgs["X_short"].startswith("DataValidationError:")
    for (p, t_c), rec in zip(truth, [r for r in s.records if r.success], strict=True):
        assert rec.source_path == str(p.resolve())
        assert abs(rec.values["t_c"] - t_c) < 5 * rec.stderr["t_c"]
        assert rec.config_digest
    # every item has its own complete JSON file
    items = sorted((out / "items" / "rt").glob("*.json"))
    assert [p.stem for p in items] == ["W1", "W2", "W3", "W4", "W5", "X_garbage", "X_short"]
    doc = json.loads(items[0].read_text())
    assert doc["status"] == "ok" and doc["input_hash"] and doc["records"][0]["values"]["t_c"]
    frame = pd.read_csv(out / "results.csv")
    assert list(frame["item_id"]) == [p.stem for p in items]
    assert frame.loc[frame.sample_id == "W2", "sample_width_nm"].item() == 120
    assert frame["success"].sum() == 5
    assert json.loads((out / "results.json").read_text())["records"][0]["job"] == "rt"
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["n_failed"] == 2 and len(manifest["inputs"]) == 7
    assert manifest["config"]["jobs"][0]["params"]["width"]["value"] == pytest.approx(0.1)
    html = (out / "index.html").read_text()
    assert "X_garbage" in html and "5 records ok, 0 suspect, 2 failed" in html
    assert (out / "results.h5").is_file()
    assert not list(out.rglob("*.tmp"))


def test_resume_reuses_valid_items_and_redoes_corrupt_missing_or_changed(tmp_path, rng):
    cfg_path, _ = _setup(tmp_path, rng, n=4, bad=False)
    out = tmp_path / "out"
    cfg = load_config(cfg_path)
    first = run(cfg, out, workers=1, progress=False)
    items = out / "items" / "rt"
    before = {p.name: p.read_bytes() for p in items.glob("*.json")}
    (items / "W2.json").write_text(before["W2.json"].decode()[:50])  # partial write
    (items / "W3.json").unlink()
    s = run(cfg, out, workers=1, progress=False, resume=True)
    assert (s.n_items, s.n_resumed) == (4, 2)
    assert (items / "W1.json").read_bytes() == before["W1.json"]
    assert (items / "W4.json").read_bytes() == before["W4.json"]
    assert json.loads((items / "W2.json").read_text())["started"] > json.loads(before["W2.json"])["finished"]
    assert _values(s) == _values(first)
    # a changed setting changes the digest: nothing is reused
    cfg_path.write_text(cfg_path.read_text().replace("value: 100, unit: mK", "value: 120, unit: mK"))
    s2 = run(load_config(cfg_path), out, workers=1, progress=False, resume=True)
    assert s2.n_resumed == 0
    # a changed input file is recomputed, the others are reused
    data = tmp_path / "data" / "W1.tkcsv"
    data.write_text(data.read_text() + "\n")
    s3 = run(load_config(cfg_path), out, workers=1, progress=False, resume=True)
    assert s3.n_resumed == 3


def test_fail_fast_reraises(tmp_path, rng):
    cfg_path, _ = _setup(tmp_path, rng, n=2)
    with pytest.raises(LoaderError, match="not a tk_csv file"):
        run(load_config(cfg_path), tmp_path / "out", workers=1, progress=False, fail_fast=True)


BLOCKS = """
schema_version: 1
plugins: [tk_plugin.py]
jobs:
  - name: grid
    inputs: {{files: data/W1.tkcsv, format: tk_csv, options: {{split: 5}}, block_size: 2}}
    model: tk_step
  - name: tr
    kind: transition
    inputs: {{files: ["data/W*.tkcsv"], format: tk_csv}}
    options: {{n_boot: 0}}
report: {{plots: {plots}}}
"""


def test_blocks_and_transition_kind(tmp_path, rng):
    write_plugin(tmp_path)
    truth = write_series(tmp_path / "data", rng, n=2, points=40, repeats=5)
    (tmp_path / "run.yaml").write_text(BLOCKS.format(plots="false"))
    cfg = load_config(tmp_path / "run.yaml")
    assert [t.item_id for t in plan(cfg)][:3] == [
        "W1__000000-000001",
        "W1__000002-000003",
        "W1__000004-000004",
    ]
    s = run(cfg, tmp_path / "out", workers=1, progress=False)
    assert s.n_failed == 0
    grid = [r for r in s.records if r.meta["job"] == "grid"]
    assert [r.meta["sweep_index"] for r in grid] == [0, 1, 2, 3, 4]
    assert all(abs(r.values["t_c"] - truth[0][1]) < 5 * r.stderr["t_c"] for r in grid)
    tr = [r for r in s.records if r.meta["job"] == "tr"]
    assert len(tr) == 2 and all(r.model_key == "transition" for r in tr)
    assert tr[1].derived["t_c50"] == pytest.approx(truth[1][1], abs=0.05)
    assert tr[1].derived_units["t_c50"] == "K"


def test_plots_and_fit_folders(tmp_path, rng):
    cfg_path, _ = _setup(tmp_path, rng, n=2, plots=True)
    out = tmp_path / "out"
    run(load_config(cfg_path), out, workers=1, progress=False)
    assert (out / "fits" / "rt" / "W1" / "fit.png").is_file()
    assert (out / "fits" / "rt" / "W2" / "parameters.csv").is_file()
    assert list((out / "plots").glob("rt__t_c*.png"))
    html = (out / "index.html").read_text()
    assert "fits/rt/W1/fit.png" in html and "plots/rt__t_c" in html


@pytest.mark.slow
def test_kill_and_resume(tmp_path, rng):
    cfg_path, _ = _setup(tmp_path, rng, n=8, bad=False)
    out = tmp_path / "out"
    items = out / "items" / "rt"
    env = {**os.environ, "FITKIT_TEST_DELAY": "0.4"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "fitkit", "run", str(cfg_path), "-o", str(out), "--workers", "1"],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.time() + 40
        while time.time() < deadline and len(list(items.glob("*.json"))) < 3:
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
    done = sorted(items.glob("*.json"))
    assert 3 <= len(done) < 8, "the run was not interrupted mid-way"
    assert not (out / "results.csv").exists()
    before = {p.name: (p.read_bytes(), json.loads(p.read_bytes())["pid"]) for p in done}  # all valid JSON
    s = run(load_config(cfg_path), out, workers=1, progress=False, resume=True)
    assert s.n_resumed == len(done) and s.n_ok == 8
    after = {p.name: json.loads(p.read_text()) for p in items.glob("*.json")}
    for name, doc in after.items():
        if name in before:
            assert (items / name).read_bytes() == before[name][0]
        else:
            assert doc["pid"] == os.getpid()
    fresh = run(load_config(cfg_path), tmp_path / "fresh", workers=1, progress=False)
    assert _values(s) == _values(fresh)


@pytest.mark.slow
def test_backends_give_equal_results(tmp_path, rng):
    distributed = pytest.importorskip("distributed")
    cfg_path, _ = _setup(tmp_path, rng, n=4)
    cfg = load_config(cfg_path)
    local1 = run(cfg, tmp_path / "w1", workers=1, progress=False)
    local2 = run(cfg, tmp_path / "w2", workers=2, progress=False)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        dask = run(cfg, tmp_path / "dask", scheduler=cluster.scheduler_address, progress=False)
    ref = _values(local1)
    assert len(ref) == 4
    assert _values(local2) == ref
    assert _values(dask) == ref
    assert [f.message for f in dask.failures] == [f.message for f in local1.failures]
    for name in ("w2", "dask"):
        a = pd.read_csv(tmp_path / "w1" / "results.csv")
        b = pd.read_csv(tmp_path / name / "results.csv")
        pd.testing.assert_frame_equal(a.drop(columns=["source"]), b.drop(columns=["source"]))


def test_unknown_kind_error_is_a_fitkit_error(tmp_path, rng):
    cfg_path, _ = _setup(tmp_path, rng, n=1, bad=False)
    cfg_path.write_text(cfg_path.read_text().replace("kind: fit", "kind: qps"))
    with pytest.raises(FitkitError, match=r"jobs\[0\]\.kind: unknown job kind 'qps'"):
        load_config(cfg_path)


GAP = """
schema_version: 1
plugins: [tk_plugin.py]
jobs:
  - name: spectra
    inputs: {files: ["data/*.tkcsv"], format: tk_csv}
    model: nis
  - name: gap_t
    kind: gap_temperature
    from: spectra
    options: {temperature: meta, group_by: sample_id}
"""


def test_gap_temperature_job_level_step(tmp_path, rng):
    from fitkit.constants import K_B_MEV_PER_K
    from fitkit.fitting.record import FitRecord
    from fitkit.pipeline import JOB_KINDS, JobContext

    pytest.importorskip("fitkit.analysis.gap_temperature")
    if "nis" not in __import__("fitkit").list_models():
        pytest.skip("model 'nis' not registered")
    write_plugin(tmp_path)
    write_series(tmp_path / "data", rng, n=1, points=10)
    (tmp_path / "run.yaml").write_text(GAP)
    cfg = load_config(tmp_path / "run.yaml")
    # BCS-like synthetic gaps: Delta(T) from the independent interpolation Delta0*tanh(1.74 sqrt(Tc/T - 1))
    delta0, t_c = 1.5, 1.5 / (1.764 * K_B_MEV_PER_K)
    temps = np.linspace(0.2, 0.95, 12) * t_c
    gaps = delta0 * np.tanh(1.74 * np.sqrt(t_c / temps - 1.0))
    recs = [
        FitRecord(
            model_key="nis",
            sample_id="S1",
            values={"delta": g},
            stderr={"delta": 0.01},
            success=True,
            meta={"job": "spectra", "extra": {"temperature_K": t}},
        )
        for t, g in zip(temps, gaps, strict=True)
    ]
    out = JOB_KINDS["gap_temperature"].finalize(JobContext(cfg.job("gap_t"), cfg, {"spectra": recs}))
    assert len(out) == 1 and out[0].success and out[0].sample_id == "S1"
    assert out[0].values["t_c"] == pytest.approx(t_c, rel=0.02)
    assert out[0].values["delta0"] == pytest.approx(delta0, rel=0.02)
    assert out[0].meta["points"]["temperature_K"] == pytest.approx(list(temps))
    ctx = JobContext(cfg.job("gap_t"), cfg, outdir=tmp_path / "o")
    html = JOB_KINDS["gap_temperature"].report_section(ctx, out)
    assert "series/gap_t/S1_gap_vs_T.png" in html and (tmp_path / "o/series/gap_t/S1_gap_vs_T.png").is_file()
    bad = load_config(tmp_path / "run.yaml")  # wrong parameter name is caught at validation
    (tmp_path / "run.yaml").write_text(GAP.replace("temperature: meta", "delta: gap"))
    with pytest.raises(
        FitkitError, match=r"jobs\[1\]\.options\.delta: job 'spectra' fits no parameter 'gap'"
    ):
        load_config(tmp_path / "run.yaml")
    assert bad.job("gap_t").depends_on == ("spectra",)
