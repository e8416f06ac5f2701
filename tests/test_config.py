"""Configuration validation: one pass, all problems with key paths, units converted, paths resolved."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

from fitkit.config import FrozenDict, load_config, validate_config
from fitkit.errors import ConfigError

sys.path.insert(0, str(Path(__file__).parent))
from pipeline_support import forget_plugins, write_plugin, write_series  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _clean_registries():
    yield
    forget_plugins()


@pytest.fixture
def folder(tmp_path, rng):
    write_plugin(tmp_path)
    write_series(tmp_path / "data", rng, n=3, points=20)
    return tmp_path


def _write(folder: Path, text: str) -> Path:
    p = folder / "run.yaml"
    p.write_text(text)
    return p


GOOD = """
schema_version: 1
name: wires
plugins: [tk_plugin.py]
samples:
  - {id: W1, width_nm: 100, length_um: 2.5, material: Nb}
jobs:
  - name: rt
    kind: fit
    inputs:
      files: ["data/W*.tkcsv"]
      format: tk_csv
      options: {split: 1}
    model: {key: tk_step}
    params:
      width: {value: 150, unit: mK, min: 10, max: 1000}
      r_n: 110
    x_range: {min: 1500, max: 9000, unit: mK}
report:
  display_units: {temperature: mK, t_c: mK}
  plots: false
  formats: [csv, json]
"""


def test_good_config_resolves_paths_globs_units(folder):
    cfg = load_config(_write(folder, GOOD))
    job = cfg.job("rt")
    assert [f.path.name for f in job.inputs.files] == ["W1.tkcsv", "W2.tkcsv", "W3.tkcsv"]
    assert all(f.path.is_absolute() and f.path.is_file() for f in job.inputs.files)
    w = job.params["width"]
    assert w.value == pytest.approx(0.15) and w.min == pytest.approx(0.01) and w.max == pytest.approx(1.0)
    assert w.unit == "K" and w.given_unit == "mK"
    assert job.overrides()["r_n"] == {"value": 110.0}
    assert job.x_range == pytest.approx((1.5, 9.0))
    s = cfg.sample("W1")
    assert s.get("width", "nm") == pytest.approx(100.0)
    assert s.get("length", "nm") == pytest.approx(2500.0)
    assert s.text["material"] == "Nb"
    assert cfg.report.display_units == {"temperature": "mK", "t_c": "mK"}
    assert cfg.report.formats == ("csv", "json")
    # frozen all the way down
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.name = "x"
    with pytest.raises(TypeError):
        job.inputs.options["split"] = 3
    assert isinstance(cfg.to_dict()["jobs"][0]["params"]["width"], dict)


def test_many_errors_reported_together_with_key_paths(folder):
    text = (
        GOOD.replace("format: tk_csv", "format: tk_csv\n      colour: red")
        .replace("unit: mK, min: 10", "unit: mV, min: 10")
        .replace('"data/W*.tkcsv"', '"data/W*.tkcsv", "data/missing.tkcsv"')
        .replace("r_n: 110", "r_n: 110\n      delta: 0.2")
        .replace("display_units: {temperature: mK, t_c: mK}", "display_units: {temperature: meV}")
    )
    text += "extra_top: 1\n"
    with pytest.raises(ConfigError) as exc:
        load_config(_write(folder, text))
    problems = exc.value.problems
    msg = str(exc.value)
    expected = [
        "jobs[0].inputs.colour: unknown key",
        "jobs[0].params.width.unit: 'mV' is not a temperature unit; expected one of ['K', 'mK']",
        "jobs[0].inputs.files[1]: 'data/missing.tkcsv' does not exist",
        "jobs[0].params.delta: unknown parameter; the model's parameters are ['r_n', 't_c', 'width']",
        "report.display_units.temperature: 'meV' is not a temperature unit",
        "extra_top: unknown key",
    ]
    for e in expected:
        assert any(p.startswith(e) for p in problems), (e, problems)
        assert e in msg
    assert len(problems) == len(expected)
    assert str(folder / "run.yaml") in msg


def test_unknown_model_format_option_and_kind(folder):
    text = """
schema_version: 1
plugins: [tk_plugin.py]
jobs:
  - name: a
    kind: fit
    inputs: {files: data/W1.tkcsv, format: tk_cvs}
    model: {key: tk_stepp}
  - name: b
    kind: fitt
    inputs: {files: data/W1.tkcsv, format: tk_csv, options: {splitt: 2}}
    model: {key: tk_step, options: {form: x}}
  - name: a
    kind: fit
    inputs: {files: data/W1.tkcsv, format: tk_csv}
    from: nowhere
"""
    with pytest.raises(ConfigError) as exc:
        load_config(_write(folder, text))
    p = "\n".join(exc.value.problems)
    assert "jobs[0].inputs.format: unknown format 'tk_cvs' (did you mean 'tk_csv'?)" in p
    assert "jobs[0].model.key: unknown model 'tk_stepp'" in p and "did you mean 'tk_step'" in p
    assert "jobs[1].kind: unknown job kind 'fitt'" in p
    assert "jobs[1].inputs.options: unknown option(s) ['splitt'] for format 'tk_csv'" in p
    assert "jobs[1].model.options: model 'tk_step': unknown option(s) ['form']" in p
    assert "jobs[2].name: duplicate job name 'a'" in p
    assert "jobs[2].from: no job named 'nowhere'" in p
    assert "jobs[2].model: missing; a 'fit' job needs a model" in p


@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        ("", "schema_version: missing; add 'schema_version: 1'"),
        (
            "schema_version: 2\n",
            "schema_version: 2 is not supported; this fitkit reads schema_version 1 only",
        ),
        ("schema_version: '1'\n", "schema_version: '1' is not supported"),
    ],
)
def test_schema_version_refused_clearly(folder, header, fragment):
    body = GOOD.replace("schema_version: 1\n", "")
    with pytest.raises(ConfigError, match="schema_version") as exc:
        load_config(_write(folder, header + body))
    assert fragment in str(exc.value)


def test_yaml_syntax_error_has_line_and_column(folder):
    with pytest.raises(ConfigError) as exc:
        load_config(_write(folder, "schema_version: 1\njobs: [\n  - {name: a\n"))
    assert "YAML syntax error" in str(exc.value)
    assert f"{folder / 'run.yaml'}:" in str(exc.value)


def test_samples_from_csv_and_unit_checks(folder):
    (folder / "samples.csv").write_text(
        "id,width_nm,thickness_K,length,r_sq_ohm_per_sq\nW1,100,3,2000,50\nW1,90,3,2000,60\n"
    )
    text = GOOD.replace("  - {id: W1, width_nm: 100, length_um: 2.5, material: Nb}\n", "").replace(
        "samples:\n", "samples: {csv: samples.csv}\n"
    )
    with pytest.raises(ConfigError) as exc:
        load_config(_write(folder, text))
    p = exc.value.problems
    assert any(x.startswith("samples.csv[row 2].thickness_K: 'K' is not a length unit") for x in p), p
    assert any(
        x.startswith("samples.csv[row 2].length: a number needs a unit suffix such as length_m") for x in p
    )
    assert any(x.startswith("samples.csv[row 3].id: duplicate sample id 'W1'") for x in p)
    (folder / "samples.csv").write_text("id,width_nm,r_sq_ohm_per_sq,note\nW1,100,50,good\nW2,80,55,\n")
    cfg = load_config(_write(folder, text))
    assert [s.id for s in cfg.samples] == ["W1", "W2"]
    assert cfg.sample("W2").get("r_sq", "ohm_per_sq") == 55.0
    assert "note" not in cfg.sample("W2").text


def test_param_unit_conversion_and_dimensionless(folder):
    text = GOOD.replace(
        "width: {value: 150, unit: mK, min: 10, max: 1000}",
        "width: {value: 0.2, unit: K, vary: false}\n      t_c: {value: 4500, unit: mK}\n"
        "      r_n: {value: 0.1, unit: kohm, min: 0, max: inf}",
    ).replace("      r_n: 110\n", "")
    cfg = load_config(_write(folder, text))
    job = cfg.job("rt")
    assert job.overrides() == {
        "width": {"value": 0.2, "vary": False},
        "t_c": {"value": pytest.approx(4.5)},
        "r_n": {"value": pytest.approx(100.0), "min": 0.0, "max": float("inf")},
    }
    bad = text.replace("unit: kohm", "unit: kohms_typo").replace("vary: false", "vary: maybe")
    with pytest.raises(ConfigError) as exc:
        load_config(_write(folder, bad))
    p = "\n".join(exc.value.problems)
    assert "jobs[0].params.r_n.unit: unknown unit 'kohms_typo'" in p
    assert "jobs[0].params.width.vary: 'maybe' is not true/false" in p


def test_validate_config_dict_relative_to_base_dir(folder):
    raw = {
        "schema_version": 1,
        "plugins": ["tk_plugin.py"],
        "jobs": [
            {"name": "rt", "inputs": {"files": ["data/*.tkcsv"], "format": "tk_csv"}, "model": "tk_step"}
        ],
    }
    cfg = validate_config(raw, folder)
    assert cfg.jobs[0].kind == "fit" and len(cfg.jobs[0].inputs.files) == 3
    with pytest.raises(
        ConfigError, match=r"jobs\[0\]\.inputs\.files\[0\]: pattern 'data/\*\.tkcsv' matches no"
    ):
        validate_config(raw, folder / "data")


def test_frozendict_pickles_and_is_readonly():
    import pickle

    d = FrozenDict({"a": 1})
    assert pickle.loads(pickle.dumps(d)) == {"a": 1}
    with pytest.raises(TypeError):
        d.update(b=2)
