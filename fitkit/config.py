"""YAML run configuration: parsed once into frozen, validated objects (:class:`RunConfig`).

The schema (``schema_version: 1``) is documented in ``docs/config.md``.  Everything is checked
in one pass and **all** problems are reported together, each with its key path::

    ConfigError: configs/run.yaml: 2 problems
      - jobs[2].params.delta.unit: 'mV' is not an energy unit; expected one of ['eV', 'meV', 'ueV']
      - jobs[0].inputs.files[1]: 'data/W9.csv' does not exist (relative to /home/me/configs)

Paths are relative to the config file, globs are expanded (sorted), loader formats and
options, model keys, model options and parameter names are checked against the registries,
parameter overrides given with a ``unit`` are converted into the model's declared unit
through :mod:`fitkit.units`.  Job kinds are looked up in :data:`fitkit.pipeline.jobs.JOB_KINDS`
and validate their own kind-specific keys.
"""

from __future__ import annotations

import glob
import hashlib
import importlib.util
import math
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fitkit import units as _units
from fitkit.errors import ConfigError, FitkitError

__all__ = [
    "SCHEMA_VERSION",
    "FrozenDict",
    "InputFile",
    "InputsConfig",
    "JobConfig",
    "ModelComponent",
    "ModelConfig",
    "ParamOverride",
    "ReportConfig",
    "RunConfig",
    "Sample",
    "load_config",
    "load_plugins",
    "sample_column",
    "validate_config",
]

SCHEMA_VERSION = 1
"""The only configuration schema version this fitkit reads."""

REPORT_FORMATS = ("csv", "json", "hdf5", "html")
"""Report outputs that ``report.formats`` may list."""

_TOP_KEYS = ("schema_version", "name", "plugins", "samples", "jobs", "report")
_JOB_KEYS = (
    "name",
    "kind",
    "inputs",
    "preprocess",
    "model",
    "params",
    "x_range",
    "x",
    "y",
    "method",
    "from",
    "options",
    "plot_against",
)
_INPUT_KEYS = ("files", "format", "options", "block_size", "sample_id_regex")
_MODEL_KEYS = ("key", "prefix", "options")
_PARAM_KEYS = ("value", "unit", "min", "max", "vary", "expr")
_REPORT_KEYS = ("display_units", "plots", "formats", "plot_against")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

# Sample-table columns whose quantity is known: a bare name or a unit of another quantity is an error.
_SAMPLE_QUANTITIES = {
    "width": "length",
    "length": "length",
    "thickness": "length",
    "diameter": "length",
    "xi": "length",
    "r_sq": "sheet_resistance",
    "r_n": "resistance",
    "t_c": "temperature",
    "area": None,
}
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


class FrozenDict(dict):
    """A read-only, picklable, JSON-serialisable dict (config objects cross process boundaries)."""

    def _readonly(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("configuration mappings are read-only")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _readonly  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (dict(self),))

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted((k, repr(v)) for k, v in self.items())))


def _freeze(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return FrozenDict({str(k): _freeze(v) for k, v in obj.items()})
    if isinstance(obj, (list, tuple)):
        return tuple(_freeze(v) for v in obj)
    return obj


def _plain(obj: Any) -> Any:
    """JSON-friendly copy: mappings -> dict, tuples -> list, paths -> str, NaN/inf -> None."""
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if hasattr(obj, "to_dict"):
        return _plain(obj.to_dict())
    return obj


# --------------------------------------------------------------------------------------------- objects
@dataclass(frozen=True)
class ParamOverride:
    """A parameter override, already converted into the model's declared unit.

    Attributes
    ----------
    name
        Prefixed lmfit parameter name.
    unit
        Declared unit of the parameter (the unit of ``value``, ``min``, ``max``).
    value, min, max
        Start value and bounds (None when not given).
    vary
        Whether it is fitted (None: the model's default).
    expr
        lmfit constraint expression (None when not given).
    given_unit
        The unit the user wrote (None when omitted).
    """

    name: str
    unit: str
    value: float | None = None
    min: float | None = None
    max: float | None = None
    vary: bool | None = None
    expr: str | None = None
    given_unit: str | None = None

    def as_override(self) -> dict[str, Any]:
        """The ``{value, min, max, vary, expr}`` dict understood by :func:`fitkit.models.apply_overrides`."""
        return {
            k: getattr(self, k)
            for k in ("value", "min", "max", "vary", "expr")
            if getattr(self, k) is not None
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class ModelComponent:
    """One registered model in a (possibly composite) fit model."""

    key: str
    prefix: str = ""
    options: Mapping[str, Any] = field(default_factory=FrozenDict)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return {"key": self.key, "prefix": self.prefix, "options": dict(self.options)}


@dataclass(frozen=True)
class ModelConfig:
    """A fit model: the sum of one or more registered model components."""

    components: tuple[ModelComponent, ...]

    @property
    def key(self) -> str:
        """``"+"``-joined component keys."""
        return "+".join(c.key for c in self.components)

    def build(self) -> Any:
        """Instantiate the lmfit model (a composite sum when there are several components).

        Returns
        -------
        lmfit.Model

        Raises
        ------
        UnknownModelError, ConfigError
        """
        from fitkit.models import get_model

        model = None
        for comp in self.components:
            m = get_model(comp.key)(prefix=comp.prefix, **dict(comp.options))
            model = m if model is None else model + m
        return model

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return {"components": [c.to_dict() for c in self.components]}


@dataclass(frozen=True)
class InputFile:
    """One resolved input file (absolute path) with an optional explicit sample id."""

    path: Path
    sample_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return {"path": str(self.path), "sample_id": self.sample_id}


@dataclass(frozen=True)
class InputsConfig:
    """The input files of a job and how to read them."""

    files: tuple[InputFile, ...] = ()
    format: str | None = None
    options: Mapping[str, Any] = field(default_factory=FrozenDict)
    block_size: int | None = None
    sample_id_regex: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return {
            "files": [f.to_dict() for f in self.files],
            "format": self.format,
            "options": _plain(self.options),
            "block_size": self.block_size,
            "sample_id_regex": self.sample_id_regex,
        }


@dataclass(frozen=True)
class JobConfig:
    """One job of a run: a kind, its inputs and its fit settings.

    Attributes
    ----------
    name
        Unique job name (used in output paths).
    kind
        Job kind key (``"fit"``, ``"transition"``, ...; see :data:`fitkit.pipeline.jobs.JOB_KINDS`).
    inputs
        Input files (None for job-level kinds that read other jobs' results).
    preprocess
        Preprocessing steps for :func:`fitkit.preprocess.apply_steps`.
    model
        Fit model (None for kinds without a model).
    params
        Parameter overrides keyed by prefixed parameter name, in declared units.
    x_range
        ``(lo, hi)`` in the SI unit of the x column (None = all rows).
    x, y
        Column names (None = the defaults of :func:`fitkit.fit_curve`).
    method
        lmfit minimiser.
    depends_on
        Names of jobs whose results this job reads (``from:``).
    options
        Kind-specific options (validated by the kind).
    plot_against
        Sample-table columns (``thickness_nm``) to plot this job's fitted quantities against
        (default: ``report.plot_against``); report only, not part of the job digest.
    """

    name: str
    kind: str
    inputs: InputsConfig | None = None
    preprocess: tuple[Mapping[str, Any], ...] = ()
    model: ModelConfig | None = None
    params: Mapping[str, ParamOverride] = field(default_factory=FrozenDict)
    x_range: tuple[float | None, float | None] | None = None
    x: str | None = None
    y: str | None = None
    method: str = "leastsq"
    depends_on: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=FrozenDict)
    plot_against: tuple[str, ...] = ()

    def overrides(self) -> dict[str, dict[str, Any]]:
        """Parameter overrides as ``name -> {value, min, max, vary, expr}``."""
        return {n: p.as_override() for n, p in self.params.items()}

    def to_dict(self) -> dict[str, Any]:
        """Resolved, JSON-friendly dict (the basis of the job's config digest)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "inputs": self.inputs.to_dict() if self.inputs else None,
            "preprocess": _plain(self.preprocess),
            "model": self.model.to_dict() if self.model else None,
            "params": {k: v.to_dict() for k, v in self.params.items()},
            "x_range": list(self.x_range) if self.x_range else None,
            "x": self.x,
            "y": self.y,
            "method": self.method,
            "from": list(self.depends_on),
            "options": _plain(self.options),
            "plot_against": list(self.plot_against),
        }


@dataclass(frozen=True)
class Sample:
    """One row of the sample table.

    Attributes
    ----------
    id
        Sample id (matched against ``FitRecord.sample_id``).
    values
        Numeric metadata as given, keyed by their validated ``<quantity>_<unit>`` column name
        (``width_nm``, ``r_sq_ohm_per_sq``); :meth:`get` converts.
    text
        Other (non-numeric or unit-less) columns, as given.
    """

    id: str
    values: Mapping[str, float] = field(default_factory=FrozenDict)
    text: Mapping[str, Any] = field(default_factory=FrozenDict)

    def get(self, quantity: str, unit: str) -> float:
        """Value of ``quantity`` converted to ``unit`` (``sample.get("width", "nm")``).

        Raises
        ------
        KeyError
            If the sample has no such quantity.
        """
        for col, v in self.values.items():
            q, u = _units.parse_column(col)
            if q == quantity:
                return _units.convert(v, u, unit)
        raise KeyError(f"sample '{self.id}' has no '{quantity}'; it has {sorted(self.values)}")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return {"id": self.id, **dict(self.values), **dict(self.text)}


@dataclass(frozen=True)
class ReportConfig:
    """Report settings: display units (quantity or parameter name -> unit), plots, formats.

    ``plot_against`` names sample-table columns (``thickness_nm``) that every job's fitted
    quantities are plotted against (a job's own ``plot_against`` replaces it).
    """

    display_units: Mapping[str, str] = field(default_factory=FrozenDict)
    plots: bool = True
    formats: tuple[str, ...] = REPORT_FORMATS
    plot_against: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return {
            "display_units": dict(self.display_units),
            "plots": self.plots,
            "formats": list(self.formats),
            "plot_against": list(self.plot_against),
        }


@dataclass(frozen=True)
class RunConfig:
    """A validated run configuration (build with :func:`load_config` or :func:`validate_config`)."""

    schema_version: int
    name: str
    base_dir: Path
    jobs: tuple[JobConfig, ...]
    samples: tuple[Sample, ...] = ()
    report: ReportConfig = field(default_factory=ReportConfig)
    plugins: tuple[Path, ...] = ()
    source: Path | None = None

    def job(self, name: str) -> JobConfig:
        """The job called ``name``."""
        for j in self.jobs:
            if j.name == name:
                return j
        raise KeyError(f"no job named '{name}'; jobs are {[j.name for j in self.jobs]}")

    def sample(self, sample_id: str) -> Sample | None:
        """The sample row with this id, or None."""
        for s in self.samples:
            if s.id == sample_id:
                return s
        return None

    def to_dict(self) -> dict[str, Any]:
        """The resolved configuration as a JSON-friendly dict (written to ``run.json``)."""
        return {
            "schema_version": self.schema_version,
            "name": self.name,
            "base_dir": str(self.base_dir),
            "source": str(self.source) if self.source else None,
            "plugins": [str(p) for p in self.plugins],
            "samples": [s.to_dict() for s in self.samples],
            "jobs": [j.to_dict() for j in self.jobs],
            "report": self.report.to_dict(),
        }


# ------------------------------------------------------------------------------------------ helpers
class _Errors:
    """Collects ``key.path: message`` problems."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: str, msg: str) -> None:
        self.items.append(f"{path}: {msg}")

    def raise_if_any(self, where: str) -> None:
        if self.items:
            n = len(self.items)
            text = f"{where}: {n} problem{'s' if n > 1 else ''} in the configuration\n" + "\n".join(
                f"  - {p}" for p in self.items
            )
            err = ConfigError(text)
            err.problems = list(self.items)  # type: ignore[attr-defined]
            raise err


def _check_keys(d: Mapping[str, Any], allowed: Iterable[str], path: str, errs: _Errors) -> None:
    allowed = tuple(allowed)
    for k in d:
        if k not in allowed:
            import difflib

            close = difflib.get_close_matches(str(k), allowed, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            errs.add(f"{path}.{k}" if path else str(k), f"unknown key{hint}; valid keys are {list(allowed)}")


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _quantity_tokens(quantity: str) -> list[str]:
    return sorted(u.token for u in _units.UNITS.values() if u.quantity == quantity)


def _unit_of(text: Any, path: str, errs: _Errors) -> _units.Unit | None:
    if not isinstance(text, str):
        errs.add(path, f"{text!r} is not a unit name; expected a unit token such as 'meV'")
        return None
    try:
        return _units.UNITS[_units.canonical_unit(text)]
    except _units.UnitError:
        errs.add(path, f"unknown unit '{text}'; known units are {sorted(_units.UNITS)}")
        return None


def load_plugins(paths: Iterable[str | Path]) -> list[str]:
    """Import plugin modules (files that register models/loaders) once per process.

    Parameters
    ----------
    paths
        Python files; each is imported under a name derived from its content hash, so the
        same plugin is never executed twice in one process (workers call this too).

    Returns
    -------
    list of str
        The module names.

    Raises
    ------
    ConfigError
        If a plugin cannot be imported.
    """
    names = []
    for p in paths:
        path = Path(p)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        name = f"fitkit_plugin_{re.sub(r'[^0-9A-Za-z_]', '_', path.stem)}_{digest}"
        names.append(name)
        if name in sys.modules:
            continue
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ConfigError(f"plugins: cannot import '{path}'")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as err:
            del sys.modules[name]
            raise ConfigError(f"plugins: importing '{path}' failed: {type(err).__name__}: {err}") from err
    return names


# ------------------------------------------------------------------------------------------ parsing
def load_config(path: str | Path) -> RunConfig:
    """Read and validate a YAML run configuration.

    Parameters
    ----------
    path
        The YAML file; relative paths inside it are resolved against its folder.

    Returns
    -------
    RunConfig

    Raises
    ------
    ConfigError
        For YAML syntax errors (with line and column), a missing or unsupported
        ``schema_version``, and every schema problem (all listed together with key paths).
    FileNotFoundError
        If ``path`` does not exist.
    """
    p = Path(path).resolve()
    if not p.is_file():
        raise FileNotFoundError(f"{path}: no such configuration file")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError(f"{where}: YAML syntax error: {problem}") from err
    return validate_config(raw, p.parent, source=p)


def validate_config(raw: Any, base_dir: str | Path, *, source: str | Path | None = None) -> RunConfig:
    """Validate a configuration dict (as read from YAML) into a :class:`RunConfig`.

    Parameters
    ----------
    raw
        The parsed YAML document.
    base_dir
        Folder that relative paths are resolved against (the config file's folder).
    source
        The config file, for messages and the manifest.

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
            f"{where}: the configuration must be a mapping with keys {list(_TOP_KEYS)}; "
            f"got {type(raw).__name__}"
        )
    version = raw.get("schema_version")
    if version is None:
        raise ConfigError(
            f"{where}: schema_version: missing; add 'schema_version: {SCHEMA_VERSION}' at the top"
        )
    if version != SCHEMA_VERSION or isinstance(version, bool):
        raise ConfigError(
            f"{where}: schema_version: {version!r} is not supported; this fitkit reads "
            f"schema_version {SCHEMA_VERSION} only"
        )
    errs = _Errors()
    _check_keys(raw, _TOP_KEYS, "", errs)

    name = raw.get("name", Path(source).stem if source else "run")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        errs.add("name", f"{name!r} is not a valid run name; use letters, digits, '_', '-', '.'")
        name = "run"

    plugins = _parse_plugins(raw.get("plugins"), base, errs)
    if plugins:
        try:
            load_plugins(plugins)
        except (ConfigError, OSError) as err:
            errs.add("plugins", str(err))

    samples = _parse_samples(raw.get("samples"), base, errs)

    jobs_raw = raw.get("jobs")
    jobs: list[JobConfig] = []
    if jobs_raw is None:
        errs.add("jobs", "missing; a configuration needs at least one job")
    elif not isinstance(jobs_raw, list) or not jobs_raw:
        errs.add("jobs", "must be a non-empty list of jobs")
    else:
        seen: set[str] = set()
        for i, jr in enumerate(jobs_raw):
            job = _parse_job(jr, f"jobs[{i}]", base, errs)
            if job is None:
                continue
            if job.name in seen:
                errs.add(f"jobs[{i}].name", f"duplicate job name '{job.name}'")
            seen.add(job.name)
            jobs.append(job)
        names = [j.name for j in jobs]
        for i, job in enumerate(jobs):
            for dep in job.depends_on:
                if dep not in names:
                    errs.add(f"jobs[{i}].from", f"no job named '{dep}'; jobs are {names}")
                elif names.index(dep) >= i:
                    errs.add(f"jobs[{i}].from", f"job '{dep}' must come before '{job.name}'")

    report = _parse_report(raw.get("report"), jobs, errs)
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
    _check_against(cfg, errs)
    # kind-specific checks need the whole config (e.g. the sample table for joins)
    from fitkit.pipeline.jobs import JOB_KINDS

    for i, job in enumerate(jobs):
        kind = JOB_KINDS.get(job.kind)
        if kind is not None:
            for path, msg in kind.validate(job, cfg):
                errs.add(f"jobs[{i}].{path}" if path else f"jobs[{i}]", msg)
    errs.raise_if_any(where)
    return cfg


def _parse_plugins(raw: Any, base: Path, errs: _Errors) -> list[Path]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        errs.add("plugins", "must be a list of Python file paths")
        return []
    out = []
    for i, rel in enumerate(raw):
        p = (base / rel).resolve()
        if not p.is_file():
            errs.add(f"plugins[{i}]", f"'{rel}' does not exist (relative to {base})")
        else:
            out.append(p)
    return out


def _parse_samples(raw: Any, base: Path, errs: _Errors) -> list[Sample]:
    if raw is None:
        return []
    rows: list[tuple[str, Mapping[str, Any]]] = []
    if isinstance(raw, (str, Mapping)):
        if isinstance(raw, Mapping):
            _check_keys(raw, ("csv",), "samples", errs)
            rel = raw.get("csv")
        else:
            rel = raw
        if not isinstance(rel, str):
            errs.add("samples.csv", "expected the path of a CSV file with one row per sample")
            return []
        p = (base / rel).resolve()
        if not p.is_file():
            errs.add("samples.csv", f"'{rel}' does not exist (relative to {base})")
            return []
        import pandas as pd

        try:
            frame = pd.read_csv(p, comment="#", skipinitialspace=True)
        except (ValueError, OSError) as err:
            errs.add("samples.csv", f"'{rel}' could not be read as CSV: {err}")
            return []
        for i, rec in enumerate(frame.to_dict(orient="records")):
            clean = {
                str(k).strip(): (None if isinstance(v, float) and math.isnan(v) else v)
                for k, v in rec.items()
            }
            rows.append((f"samples.csv[row {i + 2}]", clean))
    elif isinstance(raw, list):
        for i, rec in enumerate(raw):
            if not isinstance(rec, Mapping):
                errs.add(f"samples[{i}]", "expected a mapping such as {id: W1, width_nm: 100}")
                continue
            rows.append((f"samples[{i}]", rec))
    else:
        errs.add("samples", "expected a list of rows, or {csv: FILE}")
        return []

    out: list[Sample] = []
    seen: set[str] = set()
    for path, rec in rows:
        sid = rec.get("id")
        if sid is None or (isinstance(sid, float) and math.isnan(sid)):
            errs.add(f"{path}.id", "missing; every sample needs an id")
            continue
        sid = str(sid)
        if sid in seen:
            errs.add(f"{path}.id", f"duplicate sample id '{sid}'")
        seen.add(sid)
        values: dict[str, float] = {}
        text: dict[str, Any] = {}
        for key, v in rec.items():
            if key == "id" or v is None:
                continue
            key = str(key)
            try:
                qty, unit = _units.parse_column(key)
            except _units.UnitError:
                qty, unit = key, None
            expected = _SAMPLE_QUANTITIES.get(qty, "") if qty in _SAMPLE_QUANTITIES else ""
            if unit is None:
                if key in _SAMPLE_QUANTITIES:
                    q = _SAMPLE_QUANTITIES[key]
                    hint = f" such as {key}_{_quantity_tokens(q)[0]}" if q else ""
                    errs.add(f"{path}.{key}", f"a number needs a unit suffix{hint} (<quantity>_<unit>)")
                else:
                    text[key] = v
                continue
            if not _is_number(v):
                errs.add(f"{path}.{key}", f"{v!r} is not a number")
                continue
            u = _units.UNITS[unit]
            if expected and u.quantity != expected:
                errs.add(
                    f"{path}.{key}",
                    f"'{unit}' is not {_article(expected)} {expected} unit; "
                    f"expected one of {_quantity_tokens(expected)}",
                )
                continue
            values[f"{qty}_{unit}"] = float(v)
        out.append(Sample(id=sid, values=FrozenDict(values), text=_freeze(text)))
    return out


def _parse_inputs(raw: Any, path: str, base: Path, errs: _Errors) -> InputsConfig | None:
    from fitkit.io import LOADERS, guess_format, list_formats, loader_options

    if isinstance(raw, (str, list)):
        raw = {"files": raw}
    if not isinstance(raw, Mapping):
        errs.add(path, "expected {files: [...], format: ..., options: {...}}")
        return None
    _check_keys(raw, _INPUT_KEYS, path, errs)
    fmt = raw.get("format")
    fmt_ok = True
    if fmt is not None and fmt not in LOADERS:
        import difflib

        close = difflib.get_close_matches(str(fmt), list(LOADERS), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        errs.add(f"{path}.format", f"unknown format '{fmt}'{hint}; known formats are {list_formats()}")
        fmt_ok = False
    options = raw.get("options") or {}
    if not isinstance(options, Mapping):
        errs.add(f"{path}.options", "expected a mapping of loader options")
        options = {}
    files_raw = raw.get("files")
    if files_raw is None:
        errs.add(f"{path}.files", "missing; list the input files or glob patterns")
        files_raw = []
    if isinstance(files_raw, (str, Mapping)):
        files_raw = [files_raw]
    files: list[InputFile] = []
    for k, entry in enumerate(files_raw):
        fpath = f"{path}.files[{k}]"
        sample_id = None
        if isinstance(entry, Mapping):
            _check_keys(entry, ("path", "sample_id"), fpath, errs)
            sample_id = entry.get("sample_id")
            entry = entry.get("path")
            if sample_id is not None:
                sample_id = str(sample_id)
        if not isinstance(entry, str):
            errs.add(fpath, f"{entry!r} is not a path or glob pattern")
            continue
        if glob.has_magic(entry):
            matches = sorted(glob.glob(str(base / entry), recursive=True))
            matches = [m for m in matches if Path(m).is_file()]
            if not matches:
                errs.add(fpath, f"pattern '{entry}' matches no file (relative to {base})")
            files.extend(InputFile(Path(m).resolve(), sample_id) for m in matches)
        else:
            p = (base / entry).resolve()
            if not p.is_file():
                errs.add(fpath, f"'{entry}' does not exist (relative to {base})")
            else:
                files.append(InputFile(p, sample_id))
    seen: set[Path] = set()
    unique = []
    for f in files:
        if f.path not in seen:
            seen.add(f.path)
            unique.append(f)
    files = unique
    if fmt_ok:
        keys = {fmt} if fmt else set()
        if fmt is None:
            for f in files:
                try:
                    keys.add(guess_format(f.path))
                except (FitkitError, FileNotFoundError) as err:
                    errs.add(f"{path}.files", f"{err} (set {path}.format)")
                    break
        for key in keys:
            valid = loader_options(key)
            bad = sorted(set(options) - set(valid))
            if bad:
                errs.add(
                    f"{path}.options",
                    f"unknown option(s) {bad} for format '{key}'; valid options are {sorted(valid)}",
                )
    block = raw.get("block_size")
    if block is not None and (not isinstance(block, int) or isinstance(block, bool) or block < 1):
        errs.add(f"{path}.block_size", f"{block!r} is not a positive integer")
        block = None
    rx = raw.get("sample_id_regex")
    if rx is not None:
        try:
            if re.compile(rx).groups < 1:
                errs.add(f"{path}.sample_id_regex", "needs one capturing group, e.g. '(W\\d+)'")
        except (re.error, TypeError) as err:
            errs.add(f"{path}.sample_id_regex", f"invalid regular expression: {err}")
    return InputsConfig(
        files=tuple(files), format=fmt, options=_freeze(options), block_size=block, sample_id_regex=rx
    )


def _parse_model(raw: Any, path: str, errs: _Errors) -> tuple[ModelConfig | None, Any]:
    """Return the model config and an instance (for parameter names and units), or (None, None)."""
    from fitkit.models import get_model

    if isinstance(raw, str):
        raw = {"key": raw}
    entries = raw if isinstance(raw, list) else [raw]
    comps: list[ModelComponent] = []
    model = None
    ok = True
    for k, entry in enumerate(entries):
        cpath = f"{path}[{k}]" if isinstance(raw, list) else path
        if isinstance(entry, str):
            entry = {"key": entry}
        if not isinstance(entry, Mapping) or "key" not in entry:
            errs.add(cpath, "expected {key: MODEL, options: {...}} (or a list of them with prefixes)")
            ok = False
            continue
        _check_keys(entry, _MODEL_KEYS, cpath, errs)
        key = str(entry["key"])
        prefix = entry.get("prefix", "") or ""
        options = entry.get("options") or {}
        if not isinstance(options, Mapping):
            errs.add(f"{cpath}.options", "expected a mapping of model options")
            options = {}
        try:
            m = get_model(key)(prefix=prefix, **options)
        except FitkitError as err:
            sub = "key" if "unknown model" in str(err) else "options"
            errs.add(f"{cpath}.{sub}", str(err))
            ok = False
            continue
        except (ValueError, TypeError) as err:
            errs.add(f"{cpath}.prefix", f"{prefix!r}: {err}")
            ok = False
            continue
        comps.append(ModelComponent(key=key, prefix=prefix, options=_freeze(options)))
        model = m if model is None else model + m
    if not ok or not comps:
        return None, None
    if len(comps) > 1:
        names = [n for c in comps for n in (f"{c.prefix}{s.name}" for s in get_model(c.key).param_specs)]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            errs.add(path, f"parameter names {dup} collide; give each component a distinct prefix")
            return None, None
    return ModelConfig(tuple(comps)), model


def _param_units(model: Any) -> dict[str, str]:
    import lmfit

    if isinstance(model, lmfit.model.CompositeModel):
        return {**_param_units(model.left), **_param_units(model.right)}
    return dict(getattr(model, "param_units", {}))


def _parse_params(raw: Any, path: str, model: Any, y: str | None, errs: _Errors) -> dict[str, ParamOverride]:
    from fitkit.models import DATA_UNIT

    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        errs.add(path, "expected a mapping parameter -> {value, unit, min, max, vary, expr} or a number")
        return {}
    if model is None:
        return {}
    declared = _param_units(model)
    out: dict[str, ParamOverride] = {}
    for name, spec in raw.items():
        ppath = f"{path}.{name}"
        if name not in declared:
            errs.add(ppath, f"unknown parameter; the model's parameters are {sorted(declared)}")
            continue
        if _is_number(spec):
            spec = {"value": spec}
        if not isinstance(spec, Mapping):
            errs.add(ppath, f"{spec!r} is not a number or a mapping {{value, unit, min, max, vary, expr}}")
            continue
        _check_keys(spec, _PARAM_KEYS, ppath, errs)
        dunit = declared[name]
        target = dunit
        factor = 1.0
        given = spec.get("unit")
        if dunit == DATA_UNIT:
            target = y.rsplit("_", 1)[-1] if y and "_" in y else DATA_UNIT
        if given is not None:
            gu = _unit_of(given, f"{ppath}.unit", errs)
            if gu is None:
                continue
            if target in (_units.DIMENSIONLESS, "norm") and gu.quantity == "dimensionless":
                factor = 1.0
            elif target == DATA_UNIT:
                errs.add(
                    f"{ppath}.unit",
                    "this parameter is in the unit of the fitted column; set the job's "
                    "'y' column (e.g. dIdV_S) so the unit can be checked, or omit 'unit'",
                )
                continue
            else:
                tu = _units.UNITS.get(target)
                if tu is None or tu.quantity != gu.quantity:
                    q = tu.quantity if tu else target
                    expected = _quantity_tokens(q) if tu else [target]
                    errs.add(
                        f"{ppath}.unit",
                        f"'{given}' is not {_article(q)} {q} unit; expected one of "
                        f"{expected} (declared unit: {dunit})",
                    )
                    continue
                factor = gu.si_factor / tu.si_factor
        vals: dict[str, Any] = {}
        bad = False
        for k in ("value", "min", "max"):
            v = spec.get(k)
            if v is None:
                continue
            if isinstance(v, str) and v.strip().lower() in ("inf", "+inf", "-inf"):
                v = float(v)
            if not _is_number(v):
                errs.add(f"{ppath}.{k}", f"{v!r} is not a number")
                bad = True
                continue
            vals[k] = float(v) * factor
        vary = spec.get("vary")
        if vary is not None and not isinstance(vary, bool):
            errs.add(f"{ppath}.vary", f"{vary!r} is not true/false")
            bad = True
        expr = spec.get("expr")
        if expr is not None and not isinstance(expr, str):
            errs.add(f"{ppath}.expr", f"{expr!r} is not an expression string")
            bad = True
        if bad:
            continue
        lo, hi, val = vals.get("min"), vals.get("max"), vals.get("value")
        if lo is not None and hi is not None and lo > hi:
            errs.add(ppath, f"min {spec.get('min')} is above max {spec.get('max')}")
            continue
        if val is not None and ((lo is not None and val < lo) or (hi is not None and val > hi)):
            errs.add(f"{ppath}.value", f"{spec.get('value')} is outside [min, max]")
            continue
        out[name] = ParamOverride(
            name=name,
            unit=target,
            value=val,
            min=lo,
            max=hi,
            vary=vary,
            expr=expr,
            given_unit=str(given) if given is not None else None,
        )
    return out


def _x_quantity(model: Any) -> str | None:
    import lmfit

    if isinstance(model, lmfit.model.CompositeModel):
        return _x_quantity(model.left)
    xu = getattr(model, "x_unit", None)
    return _units.UNITS[xu].quantity if xu in _units.UNITS else None


def _parse_x_range(
    raw: Any, path: str, quantity: str | None, errs: _Errors
) -> tuple[float | None, float | None] | None:
    if raw is None:
        return None
    unit = None
    if isinstance(raw, Mapping):
        _check_keys(raw, ("min", "max", "unit"), path, errs)
        lo, hi, unit = raw.get("min"), raw.get("max"), raw.get("unit")
    elif isinstance(raw, list) and len(raw) == 2:
        lo, hi = raw
    else:
        errs.add(path, "expected [lo, hi] in the x column's SI unit or {min, max, unit}")
        return None
    factor = 1.0
    if unit is not None:
        u = _unit_of(unit, f"{path}.unit", errs)
        if u is None:
            return None
        if quantity is not None and u.quantity != quantity:
            errs.add(
                f"{path}.unit",
                f"'{unit}' is not {_article(quantity)} {quantity} unit; expected one of "
                f"{_quantity_tokens(quantity)}",
            )
            return None
        factor = u.si_factor
    out = []
    for k, v in (("min", lo), ("max", hi)):
        if v is None:
            out.append(None)
        elif not _is_number(v):
            errs.add(f"{path}.{k}", f"{v!r} is not a number")
            return None
        else:
            out.append(float(v) * factor)
    if out[0] is not None and out[1] is not None and out[0] >= out[1]:
        errs.add(path, f"min {lo} is not below max {hi}")
        return None
    return (out[0], out[1])


def _parse_job(raw: Any, path: str, base: Path, errs: _Errors) -> JobConfig | None:
    from fitkit.pipeline.jobs import JOB_KINDS

    if not isinstance(raw, Mapping):
        errs.add(path, "expected a mapping with name, kind, inputs, model, ...")
        return None
    _check_keys(raw, _JOB_KEYS, path, errs)
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        errs.add(f"{path}.name", f"{name!r} is not a valid job name; use letters, digits, '_', '-', '.'")
        name = f"job{path}"
    kind = raw.get("kind", "fit")
    if kind not in JOB_KINDS:
        errs.add(f"{path}.kind", f"unknown job kind '{kind}'; known kinds are {sorted(JOB_KINDS)}")
    inputs = _parse_inputs(raw["inputs"], f"{path}.inputs", base, errs) if "inputs" in raw else None
    pre = raw.get("preprocess") or []
    if not isinstance(pre, list):
        errs.add(f"{path}.preprocess", "expected a list of steps")
        pre = []
    for k, msg in _check_preprocess(pre):
        errs.add(f"{path}.preprocess[{k}]" if k is not None else f"{path}.preprocess", msg)
    model_cfg, model = (None, None)
    if raw.get("model") is not None:
        model_cfg, model = _parse_model(raw["model"], f"{path}.model", errs)
    for col in ("x", "y"):
        v = raw.get(col)
        if v is not None and not isinstance(v, str):
            errs.add(f"{path}.{col}", f"{v!r} is not a column name")
    y = raw.get("y") if isinstance(raw.get("y"), str) else None
    params = _parse_params(raw.get("params"), f"{path}.params", model, y, errs)
    if raw.get("params") and model_cfg is None and raw.get("model") is None:
        errs.add(f"{path}.params", "parameter overrides need a model")
    xq = _x_quantity(model) if model is not None else ("temperature" if kind == "transition" else None)
    x_range = _parse_x_range(raw.get("x_range"), f"{path}.x_range", xq, errs)
    method = raw.get("method", "leastsq")
    if not isinstance(method, str):
        errs.add(f"{path}.method", f"{method!r} is not an lmfit method name")
        method = "leastsq"
    dep = raw.get("from") or []
    if isinstance(dep, str):
        dep = [dep]
    if not isinstance(dep, list) or not all(isinstance(d, str) for d in dep):
        errs.add(f"{path}.from", "expected a job name or a list of job names")
        dep = []
    options = raw.get("options") or {}
    if not isinstance(options, Mapping):
        errs.add(f"{path}.options", "expected a mapping of kind-specific options")
        options = {}
    against = _parse_against(raw.get("plot_against"), f"{path}.plot_against", errs)
    if "plot_against" in options:  # also accepted among the options (a report setting, valid for every kind)
        if against:
            errs.add(f"{path}.options.plot_against", "given twice; keep either the job key or the option")
        against = _parse_against(options["plot_against"], f"{path}.options.plot_against", errs)
        options = {k: v for k, v in options.items() if k != "plot_against"}
    return JobConfig(
        name=str(name),
        kind=str(kind),
        inputs=inputs,
        preprocess=_freeze(pre),
        model=model_cfg,
        params=FrozenDict(params),
        x_range=x_range,
        x=raw.get("x"),
        y=y,
        method=method,
        depends_on=tuple(dep),
        options=_freeze(options),
        plot_against=against,
    )


def _check_preprocess(steps: list[Any]) -> list[tuple[int | None, str]]:
    """Problems with preprocessing steps, checked against :data:`fitkit.preprocess.STEPS`."""
    if not steps:
        return []
    try:
        import fitkit.preprocess as pre
    except ImportError:
        return [(None, "preprocessing steps are given but fitkit.preprocess is not available")]
    import difflib
    import inspect

    registry = getattr(pre, "STEPS", {})
    out: list[tuple[int | None, str]] = []
    for i, item in enumerate(steps):
        if not isinstance(item, Mapping):
            out.append((i, f"expected a mapping {{step: NAME, ...options}}; got {item!r}"))
            continue
        name = item.get("step")
        if name not in registry:
            close = difflib.get_close_matches(str(name), list(registry), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            what = "missing 'step' key" if name is None else f"unknown step '{name}'{hint}"
            out.append((i, f"{what}; valid steps are {sorted(registry)}"))
            continue
        params = {
            n: p
            for n, p in list(inspect.signature(registry[name]).parameters.items())[1:]
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        }
        given = {k for k in item if k != "step"}
        for k in sorted(given - set(params)):
            out.append((i, f"{k}: unknown option of step '{name}'; valid options are {sorted(params)}"))
        missing = [k for k, p in params.items() if p.default is inspect.Parameter.empty and k not in given]
        if missing:
            out.append((i, f"step '{name}' needs option(s) {missing}"))
    return out


def _parse_report(raw: Any, jobs: list[JobConfig], errs: _Errors) -> ReportConfig:
    if raw is None:
        return ReportConfig()
    if not isinstance(raw, Mapping):
        errs.add("report", "expected {display_units: {...}, plots: true, formats: [...]}")
        return ReportConfig()
    _check_keys(raw, _REPORT_KEYS, "report", errs)
    du = raw.get("display_units") or {}
    disp: dict[str, str] = {}
    if not isinstance(du, Mapping):
        errs.add("report.display_units", "expected a mapping quantity/parameter -> unit")
        du = {}
    param_units: dict[str, str] = {}
    for j in jobs:
        for c in j.model.components if j.model else ():
            from fitkit.models import get_model

            for s in get_model(c.key).param_specs:
                param_units.setdefault(f"{c.prefix}{s.name}", s.unit)
    from fitkit.pipeline.jobs import JOB_KINDS

    for j in jobs:
        kind = JOB_KINDS.get(j.kind)
        for name, unit in getattr(kind, "derived_units", {}).items():
            param_units.setdefault(name, unit)
    quantities = {u.quantity for u in _units.UNITS.values()}
    for key, unit in du.items():
        kpath = f"report.display_units.{key}"
        u = _unit_of(unit, kpath, errs)
        if u is None:
            continue
        if key in quantities:
            q = key
        elif key in _COLUMN_QUANTITIES:
            q = _COLUMN_QUANTITIES[key]
        elif key in param_units and param_units[key] in _units.UNITS:
            q = _units.UNITS[param_units[key]].quantity
        else:
            errs.add(
                kpath,
                f"'{key}' is neither a quantity ({sorted(quantities | set(_COLUMN_QUANTITIES))}) "
                f"nor a parameter with a unit ({sorted(param_units)})",
            )
            continue
        if u.quantity != q:
            errs.add(kpath, f"'{unit}' is not {_article(q)} {q} unit; expected one of {_quantity_tokens(q)}")
            continue
        disp[str(key)] = u.token
    plots = raw.get("plots", True)
    if not isinstance(plots, bool):
        errs.add("report.plots", f"{plots!r} is not true/false")
        plots = True
    formats = raw.get("formats", list(REPORT_FORMATS))
    if isinstance(formats, str):
        formats = [formats]
    if not isinstance(formats, list) or any(f not in REPORT_FORMATS for f in formats):
        errs.add("report.formats", f"{formats!r}: expected a list drawn from {list(REPORT_FORMATS)}")
        formats = list(REPORT_FORMATS)
    against = _parse_against(raw.get("plot_against"), "report.plot_against", errs)
    return ReportConfig(
        display_units=FrozenDict(disp), plots=plots, formats=tuple(formats), plot_against=against
    )


def _parse_against(raw: Any, path: str, errs: _Errors) -> tuple[str, ...]:
    """``plot_against``: a sample column name or a list of them (checked against the table later)."""
    if raw is None:
        return ()
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        errs.add(path, f"{raw!r}: expected a sample-table column name (e.g. thickness_nm) or a list of them")
        return ()
    return tuple(raw)


def sample_column(samples: Iterable[Sample], name: str) -> str | None:
    """The numeric sample-table column ``name`` refers to (exact column or bare quantity), or None.

    ``"thickness_nm"`` and ``"thickness"`` both give ``"thickness_nm"`` when the table has it.
    """
    cols = list(dict.fromkeys(c for s in samples for c in s.values))
    if name in cols:
        return name
    for c in cols:
        try:
            if _units.parse_column(c)[0] == name:
                return c
        except _units.UnitError:
            continue
    return None


def _check_against(cfg: RunConfig, errs: _Errors) -> None:
    items = [("report.plot_against", cfg.report.plot_against)]
    items += [(f"jobs[{i}].plot_against", j.plot_against) for i, j in enumerate(cfg.jobs)]
    cols = sorted({c for s in cfg.samples for c in s.values})
    for path, names in items:
        for k, name in enumerate(names):
            where = f"{path}[{k}]" if len(names) > 1 else path
            if not cfg.samples:
                errs.add(where, f"'{name}' needs a sample table (samples:) with that column")
            elif sample_column(cfg.samples, name) is None:
                errs.add(where, f"'{name}' is not a numeric column of the sample table; columns are {cols}")
