"""Typed schema of a run configuration: frozen, picklable dataclasses (:class:`RunConfig` and its parts).

These objects are what the validator (:mod:`fitkit.config.validate`) produces and what the pipeline
consumes; they hold resolved values only (absolute paths, parameter overrides in the model's declared
units, x ranges in SI).  Mappings inside them are :class:`FrozenDict` so a whole configuration is
immutable, hashable and crosses process boundaries.  ``to_dict`` gives the JSON-friendly form written
to ``run.json`` (and hashed into job digests: changing it changes every digest).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fitkit import units as _units
from fitkit.models import get_model

__all__ = [
    "REPORT_FORMATS",
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
    "freeze",
    "plain",
]

SCHEMA_VERSION = 1
"""The only configuration schema version this fitkit reads."""

REPORT_FORMATS = ("csv", "json", "hdf5", "html")
"""Report outputs that ``report.formats`` may list."""


class FrozenDict(dict):
    """A read-only, picklable, JSON-serialisable dict (config objects cross process boundaries)."""

    def _readonly(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("configuration mappings are read-only")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _readonly  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (dict(self),))

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted((k, repr(v)) for k, v in self.items())))


def freeze(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return FrozenDict({str(k): freeze(v) for k, v in obj.items()})
    if isinstance(obj, (list, tuple)):
        return tuple(freeze(v) for v in obj)
    return obj


def plain(obj: Any) -> Any:
    """JSON-friendly copy: mappings -> dict, tuples -> list, paths -> str, NaN/inf -> None."""
    if isinstance(obj, Mapping):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if hasattr(obj, "to_dict"):
        return plain(obj.to_dict())
    return obj


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
            "options": plain(self.options),
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
        Job kind key (``"fit"``, ``"transition"``, ...; see :func:`fitkit.config.kinds.job_kinds`).
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
            "preprocess": plain(self.preprocess),
            "model": self.model.to_dict() if self.model else None,
            "params": {k: v.to_dict() for k, v in self.params.items()},
            "x_range": list(self.x_range) if self.x_range else None,
            "x": self.x,
            "y": self.y,
            "method": self.method,
            "from": list(self.depends_on),
            "options": plain(self.options),
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
