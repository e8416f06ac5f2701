"""Command-line interface: every command, exit codes 0/1/2/3, messages on stderr, report folder."""

from __future__ import annotations

import json
import logging
import types

import numpy as np
import pytest
from click.testing import CliRunner
from pipeline_support import ToyLorentzBase, toy_lorentz_S, toy_lorentz_specs  # noqa: E402

import fitkit
from fitkit.cli import cli, main
from fitkit.errors import ConfigError
from fitkit.models import MODEL_REGISTRY

REPORT_FILES = ["fit.png", "parameters.csv", "parameters.json", "summary.md"]


class ToyPeak(ToyLorentzBase):
    """Toy Lorentzian conductance peak for the CLI tests (bias in V, output in S); not registered."""

    key = "toy_peak"
    param_specs = toy_lorentz_specs()


TRUTH = {"center": 0.1, "width": 0.25, "g_peak": 6.0, "g_bg": 10.0}


@pytest.fixture(autouse=True)
def toy(monkeypatch):
    monkeypatch.setitem(MODEL_REGISTRY, "toy_peak", ToyPeak)
    yield
    logging.getLogger("fitkit").handlers[:] = [
        h for h in logging.getLogger("fitkit").handlers if not getattr(h, "_fitkit_cli", False)]


@pytest.fixture
def csv_file(tmp_path, rng):
    v = np.linspace(-2e-3, 2e-3, 81)
    g = toy_lorentz_S(v, **TRUTH) + 2e-8 * rng.standard_normal(v.size)
    p = tmp_path / "junction.csv"
    rows = "".join(f"{a * 1e3:.6f},{b:.8e}\n" for a, b in zip(v, g, strict=True))
    p.write_text("bias (mV),dIdV (S)\n" + rows)
    return p


def run(args, capsys):
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


# ---------------------------------------------------------------------------------------------
# help, version, listings
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cmd", [[], ["fit"], ["models"], ["formats"], ["validate"], ["run"]])
def test_help(cmd):
    res = CliRunner().invoke(cli, [*cmd, "--help"])
    assert res.exit_code == 0, res.output
    assert "Usage:" in res.output


def test_version(capsys):
    code, out, _ = run(["--version"], capsys)
    assert code == 0 and fitkit.__version__ in out


def test_models_list_and_detail(capsys):
    code, out, _ = run(["models"], capsys)
    assert code == 0 and "toy_peak" in out and "bias [V] -> [S]" in out
    code, out, _ = run(["models", "toy_peak"], capsys)
    assert code == 0
    lines = out.splitlines()
    header = next(ln for ln in lines if ln.startswith("name"))
    assert header.split() == ["name", "unit", "default", "min", "max", "vary", "description"]
    width = next(ln for ln in lines if ln.startswith("width"))
    assert width.split()[:6] == ["width", "meV", "0.2", "0", "inf", "yes"]


def test_models_unknown_key_exit_2(capsys):
    code, out, err = run(["models", "toy_peek"], capsys)
    assert code == 2
    assert "unknown model 'toy_peek'" in err and "did you mean 'toy_peak'" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_formats(capsys):
    code, out, _ = run(["formats"], capsys)
    assert code == 0
    for key in fitkit.list_formats():
        assert f"{key}: " in out
    assert "options:" in out and "extensions:" in out


# ---------------------------------------------------------------------------------------------
# fit
# ---------------------------------------------------------------------------------------------
def test_fit_good_run_writes_report(tmp_path, csv_file, capsys):
    out_dir = tmp_path / "out"
    code, out, err = run(["fit", str(csv_file), "--model", "toy_peak", "--format", "text",
                          "--fix", "g_bg=10", "-o", str(out_dir)], capsys)
    assert code == 0, err
    folder = out_dir / "junction__toy_peak"
    assert sorted(p.name for p in folder.iterdir()) == REPORT_FILES
    doc = json.loads((folder / "parameters.json").read_text())
    assert doc["parameters"]["g_bg"] == {"value": 10.0, "stderr": None, "unit": "uS", "vary": False,
                                         "at_bound": False, "init": 10.0, "lower": None, "upper": None,
                                         "interval_method": "", "interval_kind": ""}
    assert doc["verdict"] in ("ok", "suspect", "failed") and isinstance(doc["verdict_reasons"], list)
    for k in ("center", "width", "g_peak"):
        p = doc["parameters"][k]
        assert abs(p["value"] - TRUTH[k]) < 4 * p["stderr"]
    assert doc["statistics"]["ndata"] == 81 and doc["source_path"].endswith("junction.csv")
    assert "g_bg" in out and "(fixed)" in out and str(folder) in out
    assert "meV" in out


def test_fit_options_x_range_and_param(tmp_path, csv_file, capsys):
    # the header unit is overridden from the command line: loader option as a dotted key
    bare = tmp_path / "bare.csv"
    bare.write_text(csv_file.read_text().replace("bias (mV),dIdV (S)", "V,G"))
    code, _, err = run(["fit", str(bare), "-m", "toy_peak", "-f", "text", "--option", "units.V=mV",
                        "--option", "units.G=S", "--option", 'columns={"V": "bias", "G": "dIdV"}',
                        "--x-range", "-1mV:1.0e-3", "--param", "width=0.3", "--fix", "g_bg=10",
                        "--display-unit", "width=ueV", "-o", str(tmp_path / "o")], capsys)
    assert code == 0, err
    doc = json.loads((tmp_path / "o" / "bare__toy_peak" / "parameters.json").read_text())
    assert doc["statistics"]["ndata"] == 41  # -1 mV .. +1 mV of the 0.05 mV grid
    assert doc["parameters"]["width"]["unit"] == "ueV"
    assert doc["parameters"]["width"]["init"] == pytest.approx(300.0)


@pytest.mark.parametrize(("args", "message"), [
    (["fit", "MISSING.csv", "-m", "toy_peak"], "no such file"),
    (["fit", "{csv}", "-m", "toy_peek"], "unknown model 'toy_peek'"),
    (["fit", "{csv}", "-m", "toy_peak", "-f", "txt"], "unknown format 'txt'"),
    (["fit", "{csv}", "-m", "toy_peak", "--option", "bogus=1"], "unknown option(s) ['bogus']"),
    (["fit", "{csv}", "-m", "toy_peak", "--param", "delta=1"], "params.delta: unknown parameter"),
    (["fit", "{csv}", "-m", "toy_peak", "--param", "width=abc"], "is not a number"),
    (["fit", "{csv}", "-m", "toy_peak", "--model-option", "form=x"], "unknown option(s) ['form']"),
    (["fit", "{csv}", "-m", "toy_peak", "-y", "dIdV_norm"], "column 'dIdV_norm' not found"),
    (["fit", "{csv}", "-m", "toy_peak", "--x-range", "5:6"], "fewer than 3 finite points"),
    (["fit", "{csv}", "-m", "toy_peak", "--display-unit", "width=mK"], "is a temperature unit"),
])
def test_fit_bad_input_exit_2(args, message, csv_file, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = [a.replace("{csv}", str(csv_file)) for a in args]
    code, _, err = run(args, capsys)
    assert code == 2, err
    assert message in err
    assert "Traceback" not in err
    assert err.startswith("fitkit: error: ") and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(("args", "message"), [
    (["fit", "x.csv"], "Missing option '-m'"),
    (["fit", "x.csv", "-m", "toy_peak", "--param", "width"], "is not KEY=VALUE"),
    (["fit", "x.csv", "-m", "toy_peak", "--x-range", "1"], "is not LO:HI"),
    (["fit", "x.csv", "-m", "toy_peak", "--x-range", "1mK:2"], "expected a voltage unit"),
    (["nonsense"], "No such command"),
])
def test_usage_errors_exit_2(args, message, capsys):
    code, _, err = run(args, capsys)
    assert code == 2 and message in err


def test_fit_failure_exit_1(csv_file, tmp_path, capsys):
    # width = 0 puts 0/0 in the model at the peak: the fit cannot start
    code, _, err = run(["fit", str(csv_file), "-m", "toy_peak", "--fix", "width=0", "--param", "center=0",
                        "--x-range", "-1e-3:1e-3", "-o", str(tmp_path / "o")], capsys)
    assert code == 1
    assert "fit failed" in err and "not finite at the start values" in err


def test_write_failure_exit_3(csv_file, tmp_path, capsys):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the output folder should go")
    code, _, err = run(["fit", str(csv_file), "-m", "toy_peak", "-o", str(blocker)], capsys)
    assert code == 3
    assert err.startswith("fitkit: error: cannot write output") and "Traceback" not in err


@pytest.mark.skipif(not hasattr(__import__("os"), "geteuid") or __import__("os").geteuid() == 0,
                    reason="root ignores directory permissions")
def test_read_only_outdir_exit_3(csv_file, tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        code, _, err = run(["fit", str(csv_file), "-m", "toy_peak", "-o", str(ro)], capsys)
    finally:
        ro.chmod(0o755)
    assert code == 3 and "cannot write output" in err


def test_logging_levels(csv_file, tmp_path, capsys):
    code, _, err = run(["-v", "fit", str(csv_file), "-m", "toy_peak", "-o", str(tmp_path / "o")], capsys)
    assert code == 0
    assert logging.getLogger("fitkit").level == logging.INFO
    assert "fitkit: INFO: wrote fit report" in err
    code, _, err = run(["-q", "formats"], capsys)
    assert code == 0 and logging.getLogger("fitkit").level == logging.ERROR
    assert sum(getattr(h, "_fitkit_cli", False) for h in logging.getLogger("fitkit").handlers) == 1


def test_phase_slip_gz_smoke(tmp_path, rng, capsys):
    """End to end with a real registered model: synthetic R(T) from its own function, default options."""
    ps = pytest.importorskip("fitkit.models.phase_slip")
    if "phase_slip_gz" not in MODEL_REGISTRY:
        pytest.skip("phase_slip_gz is not registered")
    t = np.linspace(0.25, 0.6, 71)
    r = ps.phase_slip_gz_ohm(t, g_xi=10.0, t_c=0.4, r_n=25.0) * (1 + 0.01 * rng.standard_normal(t.size))
    p = tmp_path / "nw.csv"
    p.write_text("temperature (K),resistance (ohm)\n"
                 + "".join(f"{a:.6f},{b:.8e}\n" for a, b in zip(t, r, strict=True)))
    code, out, err = run(["fit", str(p), "-m", "phase_slip_gz", "-o", str(tmp_path / "o")], capsys)
    assert code == 0, err
    folder = tmp_path / "o" / "nw__phase_slip_gz"
    assert sorted(q.name for q in folder.iterdir()) == REPORT_FILES
    doc = json.loads((folder / "parameters.json").read_text())
    assert doc["parameters"]["r_n"]["unit"] == "kohm"
    assert doc["parameters"]["t_c"]["value"] == pytest.approx(0.4, rel=0.05)
    assert "phase_slip_gz" in (folder / "summary.md").read_text()


# ---------------------------------------------------------------------------------------------
# validate / run (config and pipeline are written by another engineer)
# ---------------------------------------------------------------------------------------------
def test_validate_bad_config_exit_2(tmp_path, capsys):
    pytest.importorskip("fitkit.config")
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 1\nfits: [\n")
    code, _, err = run(["validate", str(bad)], capsys)
    assert code == 2 and "bad.yaml" in err and "YAML syntax error" in err and "Traceback" not in err
    code, _, err = run(["validate", str(tmp_path / "nope.yaml")], capsys)
    assert code == 2 and "no such configuration file" in err


def test_validate_key_path_in_message(tmp_path, capsys):
    pytest.importorskip("fitkit.config")
    cfg = tmp_path / "c.yaml"
    cfg.write_text("schema_version: 1\nbogus_key: 3\n")
    code, _, err = run(["validate", str(cfg)], capsys)
    assert code == 2 and "bogus_key" in err


def _fake_pipeline(monkeypatch, outcome):
    config = pytest.importorskip("fitkit.config")
    pipeline = pytest.importorskip("fitkit.pipeline")
    calls = {}

    def fake_load(path):
        calls["config"] = path
        return types.SimpleNamespace(jobs=())

    def fake_run(cfg, outdir, **kw):
        calls["outdir"], calls["kw"] = outdir, kw
        if isinstance(outcome, BaseException):
            raise outcome
        return types.SimpleNamespace(n_ok=outcome[0], n_failed=outcome[1], outdir=outdir, n_suspect=0,
                                     suspects=(), failures=())

    monkeypatch.setattr(config, "load_config", fake_load)
    monkeypatch.setattr(pipeline, "run", fake_run)
    return calls


@pytest.mark.parametrize(("outcome", "code", "message"), [
    ((3, 0), 0, "3 fit(s) ok, 0 suspect, 0 failed"),
    ((2, 1), 1, "2 fit(s) ok, 0 suspect, 1 failed"),
    (ConfigError("c.yaml: fits[0].model.key: unknown model 'x'"), 2, "fits[0].model.key"),
    (FileNotFoundError("data/x.dat: no such file"), 2, "no such file"),
    (PermissionError(13, "Permission denied", "out/fits.csv"), 3, "cannot write output"),
])
def test_run_exit_codes(outcome, code, message, monkeypatch, tmp_path, capsys):
    calls = _fake_pipeline(monkeypatch, outcome)
    got, out, err = run(["run", "c.yaml", "-o", str(tmp_path), "--workers", "2", "--resume", "--fail-fast"],
                        capsys)
    assert got == code, err
    assert message in (out + err)
    assert calls["kw"] == {"resume": True, "workers": 2, "scheduler": None, "fail_fast": True,
                           "progress": True}
    assert str(calls["outdir"]) == str(tmp_path)


def test_run_default_outdir(monkeypatch, tmp_path, capsys):
    calls = _fake_pipeline(monkeypatch, (1, 0))
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(["-q", "run", "configs/nw_rt.yaml"], capsys)
    assert code == 0
    assert calls["outdir"].as_posix() == "fitkit-results/nw_rt"
    assert calls["kw"]["progress"] is False  # -q
