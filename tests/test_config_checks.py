"""The config package's declarative checks, JSON Schema export, expr checks and bounded YAML reading."""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fitkit.cli import cli
from fitkit.config import OptionSpec, json_schema, load_config, option_values, validate_config
from fitkit.config import reader as config_reader
from fitkit.config.sections import JOB, TOP
from fitkit.config.spec import INVALID, Problems, conform
from fitkit.errors import ConfigError

sys.path.insert(0, str(Path(__file__).parent))
from pipeline_support import forget_plugins, write_plugin, write_series  # noqa: E402

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
CONFIG_FILES = sorted(CONFIGS.glob("*.yaml"))


@pytest.fixture(autouse=True, scope="module")
def _clean_registries():
    yield
    forget_plugins()


@pytest.fixture
def folder(tmp_path, rng):
    write_plugin(tmp_path)
    write_series(tmp_path / "data", rng, n=2, points=20)
    return tmp_path


def _problems(fn, *args, **kwargs) -> str:
    with pytest.raises(ConfigError) as exc:
        fn(*args, **kwargs)
    return "\n".join(getattr(exc.value, "problems", [str(exc.value)]))


# ------------------------------------------------------------------------------------- OptionSpec
def test_conform_reports_every_problem_and_keeps_the_rest():
    spec = OptionSpec(
        type="object",
        fields={
            "n": OptionSpec("n", "integer", minimum=1, what="a positive integer"),
            "x": OptionSpec("x", "number", minimum=0, exclusive_minimum=True),
            "mode": OptionSpec("mode", "string", choices=("fast", "slow")),
            "pair": OptionSpec(
                "pair", "array", items=OptionSpec(type="number"), min_items=2, max_items=2, increasing=True
            ),
            "files": OptionSpec(
                "files", "array", items=OptionSpec(type="string"), accepts=("string",), coerce=lambda s: [s]
            ),
            "need": OptionSpec("need", "boolean", required=True, missing_hint="say yes or no"),
        },
        key_noun="option",
    )
    errs = Problems()
    got = conform(
        {"n": 0, "x": 0.0, "mode": "fsat", "pair": [2, 1], "files": "a.csv", "mdoe": 1}, spec, "opts", errs
    )
    text = "\n".join(errs.items)
    assert "opts.n: 0 is not a positive integer" in text
    assert "opts.x: 0.0 is not a number > 0" in text
    assert "opts.mode: 'fsat' is not one of ['fast', 'slow'] (did you mean 'fast'?)" in text
    assert "opts.pair: [2, 1]: expected increasing values" in text
    assert "opts.mdoe: unknown option (did you mean 'mode'?); valid options are" in text
    assert "opts.need: missing; say yes or no" in text
    assert len(errs) == 6
    assert got == {"files": ["a.csv"]}  # the shorthand is expanded, the bad values dropped
    assert conform("text", OptionSpec(type="number"), "v", Problems()) is INVALID


def test_messages_never_expand_huge_values():
    errs = Problems()
    conform(list(range(10**5)), OptionSpec(type="number"), "v", errs)
    assert len(errs.items[0]) < 120


def test_every_section_key_is_in_the_json_schema():
    schema = json_schema()
    assert set(schema["properties"]) == set(TOP)
    assert set(schema["$defs"]["job"]["properties"]) == set(JOB)
    assert schema["additionalProperties"] is False
    json.dumps(schema)  # serialisable


# ------------------------------------------------------------------------------------- JSON Schema
@pytest.mark.parametrize("path", CONFIG_FILES, ids=[p.stem for p in CONFIG_FILES])
def test_example_configs_validate_against_the_json_schema(path):
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), schema)


def test_json_schema_refuses_what_the_validator_refuses():
    validator = jsonschema.Draft202012Validator(json_schema())
    doc = yaml.safe_load((CONFIGS / "demo.yaml").read_text(encoding="utf-8"))
    assert not list(validator.iter_errors(doc))
    cases = [
        (lambda d: d.update(extra_top=1), []),
        (lambda d: d["jobs"][0].update(kind="fitt"), ["jobs", 0, "kind"]),
        (lambda d: d["jobs"][0].update(method="leastsqq"), ["jobs", 0, "method"]),
        (lambda d: d["jobs"][0]["inputs"].update(format="txt"), ["jobs", 0, "inputs"]),
        (lambda d: d["jobs"][0].update(preprocess=[{"step": "normalise"}]), ["jobs", 0, "preprocess", 0]),
        (lambda d: d["report"].update(formats=["pdf"]), ["report", "formats"]),
    ]
    for change, where in cases:
        bad = yaml.safe_load((CONFIGS / "demo.yaml").read_text(encoding="utf-8"))
        change(bad)
        errors = list(validator.iter_errors(bad))
        assert errors, where
        assert any(list(e.absolute_path)[: len(where)] == where for e in errors), (where, errors)


def test_open_registries_only_suggest_names():
    schema = json_schema(open_registries=True)
    doc = yaml.safe_load((CONFIGS / "demo.yaml").read_text(encoding="utf-8"))
    doc["jobs"][0]["model"] = "a_plugin_model"
    jsonschema.validate(doc, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, json_schema())


def test_cli_schema_prints_the_schema():
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == json.loads(json.dumps(json_schema()))


# ------------------------------------------------------------------------------- declared job kinds
@dataclass
class _DeclaredKind:
    """A job kind that declares its options (the mechanism the pipeline's kinds use)."""

    name: ClassVar[str] = "declared"
    needs_inputs: ClassVar[bool] = False
    needs_from: ClassVar[bool] = True
    options: ClassVar[dict[str, OptionSpec]] = {
        "errors": OptionSpec("errors", "string", default="absolute", choices=("absolute", "scaled")),
        "a": OptionSpec("a", "number", default=1.0, minimum=0, exclusive_minimum=True, unit="nm"),
        "column": OptionSpec("column", "string", required=True),
    }

    def validate(self, job: Any, cfg: Any) -> list[tuple[str, str]]:
        return [("options", "cross-check ran")]


def _kinds() -> dict[str, Any]:
    from fitkit.config import job_kinds

    return {**job_kinds(), "declared": _DeclaredKind()}


def test_declared_kind_options_checked_by_the_validator(folder):
    raw = {
        "schema_version": 1,
        "plugins": ["tk_plugin.py"],
        "jobs": [
            {"name": "rt", "inputs": {"files": ["data/*.tkcsv"], "format": "tk_csv"}, "model": "tk_step"},
            {
                "name": "law",
                "kind": "declared",
                "from": "rt",
                "options": {"erors": "loose", "a": 0, "x_range": 1},
            },
            {"name": "law2", "kind": "declared", "inputs": "data/W1.tkcsv"},
        ],
    }
    text = _problems(validate_config, raw, folder, job_kinds=_kinds())
    assert "jobs[1].options.erors: unknown option (did you mean 'errors'?); valid options are" in text
    assert "jobs[1].options.a: 0 is not a number > 0" in text
    assert "jobs[1].options.column: missing" in text
    assert "jobs[1].options: cross-check ran" in text  # validate() still adds what a table cannot say
    assert "jobs[2].from: missing; a 'declared' job needs the name of the job" in text
    assert "jobs[2].inputs: a 'declared' job reads other jobs' results (from:), not files" in text
    assert option_values(_DeclaredKind(), {"column": "c"}) == {"errors": "absolute", "a": 1.0, "column": "c"}


def test_declared_kind_options_in_the_json_schema():
    schema = json_schema(kinds=_kinds())
    rule = next(
        r
        for r in schema["$defs"]["job"]["allOf"]
        if r["if"].get("properties", {}).get("kind") == {"const": "declared"}
    )
    opts = rule["then"]["properties"]["options"]
    assert opts["required"] == ["column"] and opts["additionalProperties"] is False
    assert opts["properties"]["a"]["exclusiveMinimum"] == 0 and opts["properties"]["a"]["type"] == [
        "number",
        "null",
    ]
    assert rule["then"]["required"] == ["from"]
    job = {"name": "x", "kind": "declared", "from": "a", "options": {"column": "c", "errors": "loose"}}
    doc = {"schema_version": 1, "jobs": [job]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema)
    job["options"]["errors"] = "scaled"
    jsonschema.validate(doc, schema)


# ------------------------------------------------------------------------------------------- expr
EXPR_CONFIG = """
schema_version: 1
plugins: [tk_plugin.py]
jobs:
  - name: rt
    inputs: {{files: ["data/*.tkcsv"], format: tk_csv}}
    model: [{{key: tk_step, prefix: a_}}, {{key: tk_step, prefix: b_}}]
    params:
{params}
"""


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        (
            "      b_t_c: {expr: a_t_cc}",
            "jobs[0].params.b_t_c.expr: 'a_t_cc': a_t_cc is not a parameter of the model "
            "(did you mean 'a_t_c'?)",
        ),
        (
            "      b_t_c: {expr: 'a_t_c * (2'}",
            "jobs[0].params.b_t_c.expr: 'a_t_c * (2' is not a valid expression",
        ),
        (
            "      b_t_c: {expr: b_width}\n      b_width: {expr: b_t_c / 10}",
            "expressions refer to each other in a loop: b_t_c -> b_width -> b_t_c",
        ),
        ("      b_t_c: {expr: a_t_c / 0}", "cannot be evaluated at the start values (ZeroDivisionError)"),
    ],
)
def test_expr_errors_are_config_errors(folder, params, fragment):
    path = folder / "run.yaml"
    path.write_text(EXPR_CONFIG.format(params=params), encoding="utf-8")
    assert fragment in _problems(load_config, path)


def test_valid_exprs_pass_with_functions_and_constants(folder):
    path = folder / "run.yaml"
    params = "      b_t_c: {expr: 'a_t_c + 0.1*sqrt(abs(a_width)) * pi'}\n      b_r_n: {expr: a_r_n}"
    path.write_text(EXPR_CONFIG.format(params=params), encoding="utf-8")
    cfg = load_config(path)
    assert cfg.jobs[0].params["b_r_n"].expr == "a_r_n"
    model = cfg.jobs[0].model.build()  # the constraint is usable by lmfit exactly as validated
    pars = model.make_params(a_r_n=100.0, a_t_c=4.0, a_width=0.04, b_r_n=1.0, b_t_c=1.0, b_width=0.1)
    for name, override in cfg.jobs[0].overrides().items():
        pars[name].expr = override["expr"]
    pars.update_constraints()
    assert pars["b_r_n"].value == 100.0
    assert pars["b_t_c"].value == pytest.approx(4.0 + 0.1 * 0.2 * 3.141592653589793)


# ------------------------------------------------------------------------------------ bounded YAML
def _timed_problem(path: Path) -> str:
    t0 = time.perf_counter()
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert time.perf_counter() - t0 < 5.0
    text = str(exc.value)
    assert "\n" not in text and str(path) in text  # one sentence naming the file
    return text


def test_alias_bomb_refused_quickly(tmp_path):
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    body = "\n".join(lines)
    path = tmp_path / "bomb.yaml"
    path.write_text(f"schema_version: 1\nbombs:\n  {body.replace(chr(10), chr(10) + '  ')}\njobs: []\n")
    assert "aliases expand to more than" in _timed_problem(path)


def test_recursive_alias_refused(tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text("schema_version: 1\njobs: &j [{name: a, options: {again: *j}}]\n")
    assert "alias refers to a node that contains it" in _timed_problem(path)


@pytest.mark.parametrize("flow", [True, False])
def test_deep_nesting_refused(tmp_path, flow):
    path = tmp_path / "deep.yaml"
    if flow:  # 5000 levels: RecursionError in a plain yaml.safe_load
        path.write_text("schema_version: 1\njobs: " + "[" * 5000 + "]" * 5000 + "\n")
    else:
        path.write_text(
            "schema_version: 1\njobs:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(200))
        )
    assert "nested more than 64 levels" in _timed_problem(path)


def test_moderate_nesting_and_anchors_still_read(folder):
    path = folder / "run.yaml"
    path.write_text(
        "schema_version: 1\nplugins: [tk_plugin.py]\n"
        "jobs:\n  - &base {name: a, inputs: {files: ['data/*.tkcsv'], format: tk_csv}, model: tk_step}\n"
        "  - {<<: *base, name: b}\n",
        encoding="utf-8",
    )
    assert [j.name for j in load_config(path).jobs] == ["a", "b"]


def test_non_utf8_config_one_sentence(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("schema_version: 1\nname: T\u00e9st\n".encode("latin-1"))
    text = _timed_problem(path)
    offset = len("schema_version: 1\nname: T")
    assert f"is not UTF-8 text (byte 0xe9 at offset {offset})" in text


def test_oversized_config_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(config_reader, "MAX_BYTES", 100)
    path = tmp_path / "big.yaml"
    path.write_text("schema_version: 1\n# " + "x" * 200 + "\n")
    assert "a configuration may have at most 100" in _timed_problem(path)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlink_loop_config_one_sentence(tmp_path):
    (tmp_path / "a.yaml").symlink_to(tmp_path / "b.yaml")
    (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")
    with pytest.raises((ConfigError, FileNotFoundError)) as exc:
        load_config(tmp_path / "a.yaml")
    assert "\n" not in str(exc.value)


# ----------------------------------------------------------------------------------------- fuzzing
_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=True), st.sampled_from(
        ["fit", "map", "tk_step", "nis", "text", "a", "data/*.tkcsv", "inf", "mK", "crop", "a_t_c", "(", ""]
    ),
)
_keys = st.sampled_from(
    ["name", "kind", "inputs", "files", "format", "model", "key", "prefix", "params", "value", "unit", "min",
     "max", "vary", "expr", "x_range", "from", "options", "preprocess", "step", "report", "formats",
     "display_units", "plot_against", "samples", "id", "width_nm", "t_c", "block_size", 1]
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    jobs=st.lists(st.dictionaries(_keys, _values, max_size=6), max_size=3),
    extra=st.dictionaries(_keys, _values, max_size=3),
)
def test_any_document_gives_a_config_or_a_config_error(folder, jobs, extra):
    raw = {**extra, "schema_version": 1, "plugins": ["tk_plugin.py"], "jobs": jobs}
    try:
        validate_config(raw, folder)
    except ConfigError as err:
        assert all(": " in p or p for p in getattr(err, "problems", [str(err)]))


def test_file_problems_keep_their_index(folder):
    raw = {"schema_version": 1, "plugins": ["tk_plugin.py"],
           "jobs": [{"name": "a", "model": "tk_step",
                     "inputs": {"files": [3, "data/nope.tkcsv"], "format": "tk_csv"}}]}
    text = _problems(validate_config, raw, folder)
    assert "jobs[0].inputs.files[0]: expected a path or glob pattern; got 3" in text
    assert "jobs[0].inputs.files[1]: 'data/nope.tkcsv' does not exist" in text
