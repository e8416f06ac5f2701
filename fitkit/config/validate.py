"""Registry-aware validation: a raw YAML document becomes a frozen :class:`~fitkit.config.RunConfig`.

Types, ranges, choices and unknown keys are checked declaratively from the section tables
(:mod:`fitkit.config.sections`); this module adds what needs the outside world, in one pass that
reports **all** problems together, each with its key path and, for names, a "did you mean":

* paths are resolved against the config file's folder and globs expanded (sorted);
* loader formats and options, model keys and options, preprocessing steps and their options,
  parameter names and ``expr`` constraints are checked against the registries
  (:mod:`fitkit.io`, :mod:`fitkit.models`, :data:`fitkit.preprocess.STEPS`);
* parameter overrides with a ``unit`` are converted into the model's declared unit and x ranges into
  SI (:mod:`fitkit.units`);
* job kinds come from :func:`fitkit.config.kinds.job_kinds` (or the ``job_kinds`` argument) and add
  their own checks (:func:`fitkit.config.kinds.kind_problems`).
"""

from __future__ import annotations

import ast
import glob
import inspect
import types
import typing
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import lmfit

from fitkit import units as _units
from fitkit.config.kinds import job_kinds as _registered_kinds
from fitkit.config.kinds import kind_problems
from fitkit.config.plugins import load_plugins
from fitkit.config.reader import read_yaml
from fitkit.config.samples import read_samples, sample_column
from fitkit.config.schema import (
    SCHEMA_VERSION,
    FrozenDict,
    InputFile,
    InputsConfig,
    JobConfig,
    ModelComponent,
    ModelConfig,
    ParamOverride,
    ReportConfig,
    RunConfig,
    freeze,
)
from fitkit.config.sections import INPUTS, JOB, MODEL_ONE, TOP, X_RANGE
from fitkit.config.spec import INVALID, OptionSpec, Problems, conform, did_you_mean, is_number, join, short
from fitkit.config.unitcheck import article, quantity_mismatch, quantity_tokens, unit_of
from fitkit.errors import ConfigError, FitkitError
from fitkit.io import LOADERS, guess_format, list_formats, loader_options
from fitkit.models import DATA_UNIT, apply_overrides, get_model
from fitkit.preprocess import STEPS

__all__ = ["load_config", "step_fields", "validate_config"]

# Column quantities of the canonical frame names -> physical quantity (for report.display_units).
_COLUMN_QUANTITIES = {
    "bias": "voltage",
    "current": "current",
    "dIdV": "conductance",
    "temperature": "temperature",
    "resistance": "resistance",
    "field": "field",
    "time": "time",
}
_TOP_SPEC = OptionSpec(type="object", fields={**TOP, "report": OptionSpec("report", "any")})  # report later
_REPORT_SPEC = TOP["report"]
_JOB_SPEC = OptionSpec(type="object", fields=JOB, what="a mapping with name, kind, inputs, model, ...")
_MODEL_LIST = OptionSpec(type="array", items=MODEL_ONE, min_items=1)
_X_RANGE_MAP = OptionSpec(type="object", fields=X_RANGE)
_FILE = INPUTS["files"].items or OptionSpec()
_X_RANGE_PAIR = OptionSpec(type="array", min_items=2, max_items=2,
                           what="[lo, hi] in the x column's SI unit or {min, max, unit}")


# ------------------------------------------------------------------------------------------ entry points
def load_config(path: str | Path, *, job_kinds: Mapping[str, Any] | None = None) -> RunConfig:
    """Read and validate a YAML run configuration.

    Parameters
    ----------
    path
        The YAML file; relative paths inside it are resolved against its folder.
    job_kinds
        ``name -> kind`` to validate against (default: the registered kinds).

    Returns
    -------
    RunConfig

    Raises
    ------
    ConfigError
        For an unreadable document (YAML syntax error with line and column, not UTF-8, too large,
        too deep, alias bomb: one sentence), a missing or unsupported ``schema_version``, and every
        schema problem (all listed together with key paths).
    FileNotFoundError
        If ``path`` does not exist.
    """
    try:
        p = Path(path).resolve()
    except (OSError, RuntimeError) as err:
        raise ConfigError(f"{path}: cannot resolve the path ({err})") from None
    if not p.is_file():
        raise FileNotFoundError(f"{path}: no such configuration file")
    return validate_config(read_yaml(p, shown=path), p.parent, source=p, job_kinds=job_kinds)


def validate_config(
    raw: Any,
    base_dir: str | Path,
    *,
    source: str | Path | None = None,
    job_kinds: Mapping[str, Any] | None = None,
) -> RunConfig:
    """Validate a configuration dict (as read from YAML) into a :class:`RunConfig`.

    Parameters
    ----------
    raw
        The parsed YAML document.
    base_dir
        Folder that relative paths are resolved against (the config file's folder).
    source
        The config file, for messages and the manifest.
    job_kinds
        ``name -> kind`` to validate against (default: :func:`fitkit.config.kinds.job_kinds`).

    Returns
    -------
    RunConfig

    Raises
    ------
    ConfigError
        With every problem found, one per line, each prefixed by its key path.
    """
    base = Path(base_dir).resolve()
    where = str(source) if source else "config"
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f"{where}: the configuration must be a mapping with keys {list(TOP)}; got {type(raw).__name__}"
        )
    version = raw.get("schema_version")
    if version is None:
        raise ConfigError(
            f"{where}: schema_version: missing; add 'schema_version: {SCHEMA_VERSION}' at the top")
    if version != SCHEMA_VERSION or isinstance(version, bool):
        raise ConfigError(
            f"{where}: schema_version: {short(version)} is not supported; this fitkit reads "
            f"schema_version {SCHEMA_VERSION} only"
        )
    errs = Problems()
    top = conform(raw, _TOP_SPEC, "", errs)
    name = top.get("name", Path(source).stem if source else "run")
    plugins = _plugins(top.get("plugins", []), base, errs)
    # after the plugins: a plugin may register job kinds
    kinds = dict(job_kinds) if job_kinds is not None else _registered_kinds()
    samples = read_samples(raw.get("samples"), base, errs)
    jobs: list[JobConfig] = []
    given: list[tuple[int, set[str]]] = []
    jobs_raw = raw.get("jobs")
    for i, jr in enumerate(jobs_raw if isinstance(jobs_raw, list) else []):
        job = _job(jr, f"jobs[{i}]", base, kinds, errs)
        if job is not None:
            jobs.append(job)
            given.append((i, {k for k, v in jr.items() if v is not None}))
    _job_names(jobs, [i for i, _ in given], errs)
    report_raw = conform(raw["report"], _REPORT_SPEC, "report", errs) if raw.get("report") is not None else {}
    report_raw = {} if report_raw is INVALID else report_raw
    report = ReportConfig(
        display_units=FrozenDict(_display_units(report_raw.get("display_units", {}), jobs, kinds, errs)),
        plots=report_raw.get("plots", True),
        formats=tuple(report_raw.get("formats", ReportConfig().formats)),
        plot_against=tuple(report_raw.get("plot_against", ())),
    )
    cfg = RunConfig(
        schema_version=SCHEMA_VERSION,
        name=name,
        base_dir=base,
        jobs=tuple(jobs),
        samples=tuple(samples),
        report=report,
        plugins=tuple(plugins),
        source=Path(source) if source else None,
    )
    _check_against(cfg, [i for i, _ in given], errs)
    for job, (i, keys) in zip(jobs, given, strict=True):  # kind-specific checks need the whole config
        kind = kinds.get(job.kind)
        if kind is None:
            continue
        for path, msg in kind_problems(kind, job, cfg):
            if path in keys and msg.startswith("missing"):
                continue  # given but invalid: already reported
            errs.add(join(f"jobs[{i}]", path) if path else f"jobs[{i}]", msg)
    errs.raise_if_any(where)
    return cfg


def _plugins(raw: list[str], base: Path, errs: Problems) -> list[Path]:
    out = []
    for i, rel in enumerate(raw):
        p = (base / rel).resolve()
        if not p.is_file():
            errs.add(f"plugins[{i}]", f"'{rel}' does not exist (relative to {base})")
        else:
            out.append(p)
    if out:
        try:
            load_plugins(out)
        except (ConfigError, OSError) as err:
            errs.add("plugins", str(err))
    return out


def _job_names(jobs: list[JobConfig], index: list[int], errs: Problems) -> None:
    seen: set[str] = set()
    names = [j.name for j in jobs]
    for i, job in zip(index, jobs, strict=True):
        if job.name in seen:
            errs.add(f"jobs[{i}].name", f"duplicate job name '{job.name}'")
        seen.add(job.name)
    for k, (i, job) in enumerate(zip(index, jobs, strict=True)):
        for dep in job.depends_on:
            if dep not in names:
                errs.add(f"jobs[{i}].from",
                         f"no job named '{dep}'{did_you_mean(dep, names)}; jobs are {names}")
            elif names.index(dep) >= k:
                errs.add(f"jobs[{i}].from", f"job '{dep}' must come before '{job.name}'")


# ------------------------------------------------------------------------------------------------ jobs
def _job(raw: Any, path: str, base: Path, kinds: Mapping[str, Any], errs: Problems) -> JobConfig | None:
    j = conform(raw, _JOB_SPEC, path, errs)
    if j is INVALID:
        return None
    kind = j.get("kind", "fit")
    if kind not in kinds:
        errs.add(f"{path}.kind",
                 f"unknown job kind '{kind}'{did_you_mean(kind, kinds)}; known kinds are {sorted(kinds)}")
    inputs = _inputs(j["inputs"], raw["inputs"], f"{path}.inputs", base, errs) if "inputs" in j else None
    if inputs is None and raw.get("inputs") is not None:
        inputs = InputsConfig()  # given but invalid (reported): not "missing"
    pre = list(j.get("preprocess", []))
    if "preprocess" in j:
        _steps(raw["preprocess"], f"{path}.preprocess", errs)
    model_cfg, model = (None, None)
    if raw.get("model") is not None:
        model_cfg, model = _model(raw["model"], f"{path}.model", errs)
    y = j.get("y")
    params: dict[str, ParamOverride] = {}
    if "params" in j and model is not None:
        params = _params(j["params"], f"{path}.params", model, y, errs)
    elif j.get("params") and raw.get("model") is None:
        errs.add(f"{path}.params", "parameter overrides need a model")
    xq = _x_quantity(model) if model is not None else getattr(kinds.get(kind), "x_quantity", None)
    if xq is None and model is None and kind == "transition":  # until the kind declares x_quantity
        xq = "temperature"
    x_range = _x_range(raw.get("x_range"), f"{path}.x_range", xq, errs)
    options = dict(j.get("options", {}))
    against = tuple(j.get("plot_against", ()))
    if "plot_against" in options:  # also accepted among the options (a report setting, valid for every kind)
        if against:
            errs.add(f"{path}.options.plot_against", "given twice; keep either the job key or the option")
        got = conform(options.pop("plot_against"), JOB["plot_against"], f"{path}.options.plot_against", errs)
        against = () if got is INVALID else tuple(got)
    return JobConfig(
        name=j.get("name", f"job{path}"),
        kind=str(kind),
        inputs=inputs,
        preprocess=freeze(pre),
        model=model_cfg,
        params=FrozenDict(params),
        x_range=x_range,
        x=j.get("x"),
        y=y,
        method=j.get("method", "leastsq"),
        depends_on=tuple(j.get("from", ())),
        options=freeze(options),
        plot_against=against,
    )


def _inputs(raw: Mapping[str, Any], given: Any, path: str, base: Path, errs: Problems) -> InputsConfig:
    """Resolve the (type-checked) inputs ``raw``; ``given`` is the document's value, for the indexes."""
    fmt = raw.get("format")
    fmt_ok = fmt is None or fmt in LOADERS
    if not fmt_ok:
        errs.add(f"{path}.format",
                 f"unknown format '{fmt}'{did_you_mean(fmt, LOADERS)}; known formats are {list_formats()}")
    options = raw.get("options", {})
    files: dict[Path, InputFile] = {}  # insertion-ordered, first occurrence wins
    given_files = given.get("files") if isinstance(given, Mapping) else given
    given_files = given_files if isinstance(given_files, list) else [given_files]
    for k, item in enumerate(given_files if "files" in raw else []):
        fpath = f"{path}.files[{k}]"
        entry = conform(item, _FILE, fpath, Problems())  # problems were reported with the section
        if entry is INVALID or "path" not in entry:
            continue
        rel, sid = entry["path"], entry.get("sample_id")
        sid = None if sid is None else str(sid)
        try:
            if glob.has_magic(rel):
                found = [Path(m) for m in sorted(glob.glob(str(base / rel), recursive=True))]
                found = [m.resolve() for m in found if m.is_file()]
                if not found:
                    errs.add(fpath, f"pattern '{rel}' matches no file (relative to {base})")
            else:
                p = (base / rel).resolve()
                found = [p] if p.is_file() else []
                if not found:
                    errs.add(fpath, f"'{rel}' does not exist (relative to {base})")
        except (OSError, RuntimeError) as err:  # symlink loops, unreadable folders
            errs.add(fpath, f"'{rel}' cannot be resolved: {err}")
            continue
        for m in found:
            files.setdefault(m, InputFile(m, sid))
    if fmt_ok:
        keys = {fmt} if fmt else set()
        if fmt is None:
            for f in files.values():
                try:
                    keys.add(guess_format(f.path))
                except (FitkitError, OSError) as err:
                    errs.add(f"{path}.files", f"{err} (set {path}.format)")
                    break
        for key in sorted(keys):
            valid = loader_options(key)
            bad = sorted(set(options) - set(valid))
            if bad:
                errs.add(f"{path}.options",
                         f"unknown option(s) {bad} for format '{key}'; valid options are {sorted(valid)}")
    return InputsConfig(
        files=tuple(files.values()),
        format=fmt,
        options=freeze(options),
        block_size=raw.get("block_size"),
        sample_id_regex=raw.get("sample_id_regex"),
    )


def _annotation_spec(name: str, hint: Any, default: Any, step: str) -> OptionSpec:
    """OptionSpec of a step's keyword from its type hint (``float``, ``int``, ``bool``, ``str``, Literal)."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(args) == 1:
        hint = args[0]
    required = default is inspect.Parameter.empty
    dflt = None if required else default
    need = f"step '{step}' needs it"
    if typing.get_origin(hint) is typing.Literal:
        return OptionSpec(name, "string", required, dflt, choices=typing.get_args(hint), missing_hint=need)
    simple = {float: "number", int: "integer", bool: "boolean", str: "string"}
    return OptionSpec(name, simple.get(hint, "any"), required, dflt, missing_hint=need)


def step_fields(fn: Callable[..., Any]) -> dict[str, OptionSpec]:
    """The keyword options of a preprocessing step as OptionSpecs (from its signature and type hints)."""
    try:
        hints = typing.get_type_hints(fn)
    except (NameError, TypeError):
        hints = {}
    params = list(inspect.signature(fn).parameters.values())[1:]
    return {
        p.name: _annotation_spec(p.name, hints.get(p.name, Any), p.default, getattr(fn, "__name__", "?"))
        for p in params
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }


def _steps(steps: list[Any], path: str, errs: Problems) -> None:
    """Check preprocessing steps against :data:`fitkit.preprocess.STEPS` and the steps' signatures."""
    for i, item in enumerate(steps):
        ipath = f"{path}[{i}]"
        if not isinstance(item, Mapping):
            errs.add(ipath, f"expected a mapping {{step: NAME, ...options}}; got {short(item)}")
            continue
        name = item.get("step")
        if name not in STEPS:
            what = f"unknown step '{name}'{did_you_mean(name, STEPS)}" if name else "missing 'step' key"
            errs.add(ipath, f"{what}; valid steps are {sorted(STEPS)}")
            continue
        fields = {"step": OptionSpec("step", "string"), **step_fields(STEPS[name])}
        spec = OptionSpec(type="object", fields=fields, key_noun="option")
        conform(item, spec, ipath, errs)


def _model(raw: Any, path: str, errs: Problems) -> tuple[ModelConfig | None, Any]:
    """The model config and an instance (for parameter names and units), or (None, None)."""
    entries = conform(raw, _MODEL_LIST if isinstance(raw, list) else MODEL_ONE, path, errs)
    if entries is INVALID:
        return None, None
    if not isinstance(raw, list):
        entries = [entries]
    elif len(entries) != len(raw):
        return None, None
    comps: list[ModelComponent] = []
    model = None
    for k, entry in enumerate(entries):
        cpath = f"{path}[{k}]" if isinstance(raw, list) else path
        if "key" not in entry:
            continue  # reported
        key, prefix, options = entry["key"], entry.get("prefix", ""), entry.get("options", {})
        try:
            m = get_model(key)(prefix=prefix, **options)
        except FitkitError as err:
            errs.add(f"{cpath}.{'key' if 'unknown model' in str(err) else 'options'}", str(err))
            continue
        except (ValueError, TypeError) as err:
            errs.add(f"{cpath}.prefix", f"{short(prefix)}: {err}")
            continue
        comps.append(ModelComponent(key=key, prefix=prefix, options=freeze(options)))
        model = m if model is None else model + m
    if len(comps) != len(entries):
        return None, None
    names = [f"{c.prefix}{s.name}" for c in comps for s in get_model(c.key).param_specs]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        errs.add(path, f"parameter names {dup} collide; give each component a distinct prefix")
        return None, None
    return ModelConfig(tuple(comps)), model


def _leaves(model: Any) -> list[Any]:
    if isinstance(model, lmfit.model.CompositeModel):
        return _leaves(model.left) + _leaves(model.right)
    return [model]


def _x_quantity(model: Any) -> str | None:
    xu = getattr(_leaves(model)[0], "x_unit", None)
    return _units.UNITS[xu].quantity if xu in _units.UNITS else None


def _params(
    raw: Mapping[str, Any], path: str, model: Any, y: str | None, errs: Problems
) -> dict[str, ParamOverride]:
    declared: dict[str, str] = {}
    for leaf in _leaves(model):
        declared.update(getattr(leaf, "param_units", {}))
    out: dict[str, ParamOverride] = {}
    for name, spec in raw.items():
        ppath = f"{path}.{name}"
        if name not in declared:
            errs.add(ppath, f"unknown parameter{did_you_mean(name, declared)}; "
                            f"the model's parameters are {sorted(declared)}")
            continue
        dunit = declared[name]
        target = (y.rsplit("_", 1)[-1] if y and "_" in y else DATA_UNIT) if dunit == DATA_UNIT else dunit
        factor = _param_factor(spec.get("unit"), target, dunit, f"{ppath}.unit", errs)
        if factor is None:
            continue
        lo, hi, val = (spec[k] * factor if k in spec else None for k in ("min", "max", "value"))
        if lo is not None and hi is not None and lo > hi:
            errs.add(ppath, f"min {spec['min']} is above max {spec['max']}")
            continue
        if val is not None and ((lo is not None and val < lo) or (hi is not None and val > hi)):
            errs.add(f"{ppath}.value", f"{spec['value']} is outside [min, max]")
            continue
        given = spec.get("unit")
        out[name] = ParamOverride(name=name, unit=target, value=val, min=lo, max=hi, vary=spec.get("vary"),
                                  expr=spec.get("expr"), given_unit=None if given is None else str(given))
    _check_exprs(model, out, path, errs)
    return out


def _param_factor(given: str | None, target: str, dunit: str, path: str, errs: Problems) -> float | None:
    """Factor from the user's unit to the parameter's unit, or None (a problem is recorded)."""
    if given is None:
        return 1.0
    gu = unit_of(given, path, errs)
    if gu is None:
        return None
    if target in (_units.DIMENSIONLESS, "norm") and gu.quantity == "dimensionless":
        return 1.0
    if target == DATA_UNIT:
        errs.add(path, "this parameter is in the unit of the fitted column; set the job's 'y' column "
                       "(e.g. dIdV_S) so the unit can be checked, or omit 'unit'")
        return None
    tu = _units.UNITS.get(target)
    if tu is None or tu.quantity != gu.quantity:
        if tu is None:
            errs.add(path, f"'{given}' is not {article(target)} {target} unit; expected one of {[target]} "
                           f"(declared unit: {dunit})")
        else:
            errs.add(path, quantity_mismatch(given, tu.quantity, f" (declared unit: {dunit})"))
        return None
    return gu.si_factor / tu.si_factor


def _check_exprs(model: Any, params: Mapping[str, ParamOverride], path: str, errs: Problems) -> None:
    """``expr`` constraints name only the model's parameters (and asteval's functions), form no cycle,
    and evaluate at the start values, exactly as :func:`fitkit.models.apply_overrides` will set them."""
    exprs = {n: p.expr for n, p in params.items() if p.expr}
    if not exprs:
        return
    pars = model.make_params()
    known = sorted(pars)
    symbols = set(getattr(getattr(pars, "_asteval", None), "symtable", {}))
    deps: dict[str, set[str]] = {n: set() for n in known}
    for n in known:
        if pars[n].expr:
            deps[n] = _names(pars[n].expr) or set()
    bad = False
    for n, e in exprs.items():
        names = _names(e)
        epath = f"{path}.{n}.expr"
        if names is None:
            errs.add(epath, f"'{e}' is not a valid expression")
            bad = True
            continue
        unknown = sorted(names - set(known) - symbols)
        if unknown:
            which = "is not a parameter" if len(unknown) == 1 else "are not parameters"
            errs.add(epath, f"'{e}': {', '.join(unknown)} {which} of the model"
                            f"{did_you_mean(unknown[0], known)}; its parameters are {known}")
            bad = True
        deps[n] = names & set(known)
    cycle = _cycle(deps, list(exprs))
    if cycle:
        errs.add(f"{path}.{cycle[0]}.expr",
                 f"expressions refer to each other in a loop: {' -> '.join(cycle)}")
        bad = True
    if bad:
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # NaN at the start values is the fit's business, not an error
            apply_overrides(pars, {n: p.as_override() for n, p in params.items()}, where=path)
            pars.update_constraints()
    except (FitkitError, ArithmeticError, ValueError, TypeError, NameError, SyntaxError) as err:
        detail = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
        errs.add(path, f"the parameter expressions cannot be evaluated at the start values ({detail})")


def _names(expr: str) -> set[str] | None:
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError:
        return None
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def _cycle(deps: Mapping[str, set[str]], starts: list[str]) -> list[str] | None:
    """A dependency loop through one of ``starts`` (``[a, b, a]``), or None."""
    for start in starts:
        stack: list[tuple[str, list[str]]] = [(start, [start])]
        seen: set[str] = set()
        while stack:
            node, trail = stack.pop()
            for d in sorted(deps.get(node, ())):
                if d == start:
                    return [*trail, start]
                if d not in seen:
                    seen.add(d)
                    stack.append((d, [*trail, d]))
    return None


def _x_range(
    raw: Any, path: str, quantity: str | None, errs: Problems
) -> tuple[float | None, float | None] | None:
    if raw is None:
        return None
    if isinstance(raw, Mapping):
        got = conform(raw, _X_RANGE_MAP, path, errs)
        if got is INVALID or len(got) < sum(v is not None for v in raw.values()):
            return None
        lo, hi, unit = got.get("min"), got.get("max"), got.get("unit")
    else:
        pair = conform(raw, _X_RANGE_PAIR, path, errs)
        if pair is INVALID:
            return None
        (lo, hi), unit = pair, None
        for k, v in (("min", lo), ("max", hi)):
            if v is not None and not is_number(v):
                errs.add(f"{path}.{k}", f"{short(v)} is not a number")
                return None
    factor = 1.0
    if unit is not None:
        u = unit_of(unit, f"{path}.unit", errs)
        if u is None:
            return None
        if quantity is not None and u.quantity != quantity:
            errs.add(f"{path}.unit", quantity_mismatch(unit, quantity))
            return None
        factor = u.si_factor
    lo_si = None if lo is None else float(lo) * factor
    hi_si = None if hi is None else float(hi) * factor
    if lo_si is not None and hi_si is not None and lo_si >= hi_si:
        errs.add(path, f"min {lo} is not below max {hi}")
        return None
    return (lo_si, hi_si)


# ---------------------------------------------------------------------------------------------- report
def _display_units(
    raw: Mapping[str, str], jobs: list[JobConfig], kinds: Mapping[str, Any], errs: Problems
) -> dict[str, str]:
    param_units: dict[str, str] = {}
    for j in jobs:
        for c in j.model.components if j.model else ():
            for s in get_model(c.key).param_specs:
                param_units.setdefault(f"{c.prefix}{s.name}", s.unit)
        for name, unit in getattr(kinds.get(j.kind), "derived_units", {}).items():
            param_units.setdefault(name, unit)
    quantities = {u.quantity for u in _units.UNITS.values()}
    out: dict[str, str] = {}
    for key, unit in raw.items():
        kpath = f"report.display_units.{key}"
        u = unit_of(unit, kpath, errs)
        if u is None:
            continue
        if key in quantities:
            q = key
        elif key in _COLUMN_QUANTITIES:
            q = _COLUMN_QUANTITIES[key]
        elif key in param_units and param_units[key] in _units.UNITS:
            q = _units.UNITS[param_units[key]].quantity
        else:
            names = sorted(quantities | set(_COLUMN_QUANTITIES)) + sorted(param_units)
            errs.add(kpath, f"'{key}'{did_you_mean(key, names)} is neither a quantity "
                            f"({sorted(quantities | set(_COLUMN_QUANTITIES))}) nor a parameter with a unit "
                            f"({sorted(param_units)})")
            continue
        if u.quantity != q:
            errs.add(kpath, f"'{unit}' is not {article(q)} {q} unit; expected one of {quantity_tokens(q)}")
            continue
        out[str(key)] = u.token
    return out


def _check_against(cfg: RunConfig, index: list[int], errs: Problems) -> None:
    items = [("report.plot_against", cfg.report.plot_against)]
    items += [(f"jobs[{i}].plot_against", j.plot_against) for i, j in zip(index, cfg.jobs, strict=True)]
    cols = sorted({c for s in cfg.samples for c in s.values})
    for path, names in items:
        for k, name in enumerate(names):
            where = f"{path}[{k}]" if len(names) > 1 else path
            if not cfg.samples:
                errs.add(where, f"'{name}' needs a sample table (samples:) with that column")
            elif sample_column(cfg.samples, name) is None:
                errs.add(where, f"'{name}' is not a numeric column of the sample table"
                                f"{did_you_mean(name, cols)}; columns are {cols}")
