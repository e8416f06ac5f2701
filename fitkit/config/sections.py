"""The configuration's own sections as :class:`~fitkit.config.spec.OptionSpec` tables (``schema_version: 1``).

Each table says which keys a section has, their types, ranges, choices and shorthands; the validator
(:mod:`fitkit.config.validate`) runs :func:`~fitkit.config.spec.conform` on them and then checks only
what needs the registries, the file system or units.  The JSON Schema export is built from the same
tables.  The meaning of every key is documented in ``docs/config.md``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fitkit.config.schema import REPORT_FORMATS
from fitkit.config.spec import OptionSpec

__all__ = [
    "FILE_ENTRY",
    "INPUTS",
    "JOB",
    "LMFIT_METHODS",
    "MODEL_COMPONENT",
    "MODEL_ONE",
    "NAME_PATTERN",
    "PARAM",
    "REPORT",
    "TOP",
    "X_RANGE",
]

NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
"""Run and job names (used in output paths): letters, digits, ``_ - .``, not starting with a dot."""

LMFIT_METHODS = (
    "leastsq", "least_squares", "differential_evolution", "brute", "basinhopping", "ampgo", "nelder",
    "lbfgsb", "powell", "cg", "newton", "cobyla", "bfgs", "tnc", "trust-ncg", "trust-exact",
    "trust-krylov", "trust-constr", "dogleg", "slsqp", "emcee", "shgo", "dual_annealing",
)
"""Minimiser names :meth:`lmfit.Model.fit` accepts as ``method``."""

_NAME_HINT = "use letters, digits, '_', '-', '.'"


def _listify(v: Any) -> list[Any]:
    return [v]


def _regex_problem(rx: str) -> str | None:
    try:
        groups = re.compile(rx).groups
    except re.error as err:
        return f"invalid regular expression: {err}"
    return None if groups >= 1 else "needs one capturing group, e.g. '(W\\d+)'"


def _inf(v: Any) -> Any:
    """``"inf"``/``"-inf"`` (YAML has no bare infinity besides ``.inf``) -> float."""
    return float(v) if isinstance(v, str) and v.strip().lower() in ("inf", "+inf", "-inf") else v


_AGAINST = OptionSpec(
    type="array",
    items=OptionSpec(type="string", what="a sample-table column name"),
    accepts=("string",),
    coerce=_listify,
    what="a sample-table column name (e.g. thickness_nm) or a list of them",
    doc="sample-table columns to plot fitted quantities against",
)

FILE_ENTRY: Mapping[str, OptionSpec] = {
    "path": OptionSpec("path", "string", required=True, doc="file path or glob, relative to the config file"),
    "sample_id": OptionSpec("sample_id", "any", doc="explicit sample id of this file"),
}

INPUTS: Mapping[str, OptionSpec] = {
    "files": OptionSpec(
        "files",
        "array",
        required=True,
        items=OptionSpec(
            type="object", fields=FILE_ENTRY, accepts=("string",), coerce=lambda s: {"path": s},
            what="a path or glob pattern",
        ),
        accepts=("string", "object"),
        coerce=_listify,
        missing_hint="list the input files or glob patterns",
        doc="input files or glob patterns, relative to the config file",
    ),
    "format": OptionSpec("format", "string", what="a loader format name", doc="loader (default: guessed)"),
    "options": OptionSpec("options", "object", what="a mapping of loader options", doc="loader options"),
    "block_size": OptionSpec(
        "block_size", "integer", minimum=1, what="a positive integer", doc="curves per work item (grids)"
    ),
    "sample_id_regex": OptionSpec(
        "sample_id_regex", "string", check=_regex_problem, doc="regex whose first group is the sample id"
    ),
}

MODEL_COMPONENT: Mapping[str, OptionSpec] = {
    "key": OptionSpec("key", "string", required=True, what="a model key", doc="registered model key"),
    "prefix": OptionSpec("prefix", "string", default="", doc="parameter-name prefix (composite models)"),
    "options": OptionSpec("options", "object", what="a mapping of model options", doc="model options"),
}

PARAM: Mapping[str, OptionSpec] = {
    "value": OptionSpec("value", "number", accepts=("string",), coerce=_inf, doc="start value"),
    "unit": OptionSpec("unit", "string", what="a unit name; expected a unit token such as 'meV'",
                       doc="unit of value/min/max (default: the declared unit)"),
    "min": OptionSpec("min", "number", accepts=("string",), coerce=_inf, doc="lower bound"),
    "max": OptionSpec("max", "number", accepts=("string",), coerce=_inf, doc="upper bound"),
    "vary": OptionSpec("vary", "boolean", doc="fit it (false: hold at value)"),
    "expr": OptionSpec("expr", "string", what="an expression string",
                       doc="lmfit constraint expression over the model's parameters"),
}

X_RANGE: Mapping[str, OptionSpec] = {
    "min": OptionSpec("min", "number", doc="lower end"),
    "max": OptionSpec("max", "number", doc="upper end"),
    "unit": OptionSpec("unit", "string", what="a unit name; expected a unit token such as 'mK'",
                       doc="unit of min/max (default: SI)"),
}

MODEL_ONE = OptionSpec(type="object", fields=MODEL_COMPONENT, accepts=("string",),
                       coerce=lambda s: {"key": s},
                       what="{key: MODEL, options: {...}} (or a list of them with prefixes)")

JOB: Mapping[str, OptionSpec] = {
    "name": OptionSpec("name", "string", required=True, pattern=NAME_PATTERN,
                       what=f"a valid job name; {_NAME_HINT}", doc="unique job name (used in output paths)"),
    "kind": OptionSpec("kind", "string", default="fit", what="a job kind name", doc="job kind"),
    "inputs": OptionSpec("inputs", "object", fields=INPUTS, accepts=("string", "array"),
                         coerce=lambda v: {"files": v},
                         what="{files: [...], format: ..., options: {...}}", doc="input files"),
    "preprocess": OptionSpec("preprocess", "array", what="a list of steps",
                             doc="preprocessing steps {step: NAME, ...options}, applied in order"),
    "model": OptionSpec(
        "model", "any", doc="registered model key, {key, prefix, options} or a list of them (a sum)",
        json_schema={"anyOf": [{"type": "string"}, {"type": "object"}, {"type": "array"}]},
    ),
    "params": OptionSpec(
        "params", "object",
        values=OptionSpec(type="object", fields=PARAM, accepts=("number",), coerce=lambda v: {"value": v},
                          what="a number or a mapping {value, unit, min, max, vary, expr}"),
        what="a mapping parameter -> {value, unit, min, max, vary, expr} or a number",
        doc="parameter overrides by (prefixed) parameter name",
    ),
    "x_range": OptionSpec(
        "x_range", "any", doc="[lo, hi] in the x column's SI unit, or {min, max, unit}",
        json_schema={"anyOf": [
            {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": ["number", "null"]}},
            {"type": "object", "properties": {"min": {"type": ["number", "null"]},
                                              "max": {"type": ["number", "null"]},
                                              "unit": {"type": "string"}}, "additionalProperties": False},
        ]},
    ),
    "x": OptionSpec("x", "string", what="a column name", doc="x column (default: the model's)"),
    "y": OptionSpec("y", "string", what="a column name", doc="y column (default: the model's)"),
    "method": OptionSpec("method", "string", default="leastsq", choices=LMFIT_METHODS, doc="lmfit minimiser"),
    "from": OptionSpec("from", "array", items=OptionSpec(type="string", what="a job name"),
                       accepts=("string",),
                       coerce=_listify, what="a job name or a list of job names",
                       doc="jobs whose results this job reads"),
    "options": OptionSpec("options", "object", what="a mapping of kind-specific options",
                          doc="kind-specific options"),
    "plot_against": _AGAINST,
}

REPORT: Mapping[str, OptionSpec] = {
    "display_units": OptionSpec(
        "display_units", "object",
        values=OptionSpec(type="string", what="a unit name; expected a unit token"),
        what="a mapping quantity/parameter -> unit", doc="display unit per quantity or parameter",
    ),
    "plots": OptionSpec("plots", "boolean", default=True, doc="draw figures"),
    "formats": OptionSpec("formats", "array", items=OptionSpec(type="string", choices=REPORT_FORMATS),
                          accepts=("string",), coerce=_listify, default=REPORT_FORMATS,
                          doc="report outputs to write"),
    "plot_against": _AGAINST,
}

TOP: Mapping[str, OptionSpec] = {
    "schema_version": OptionSpec("schema_version", "integer", required=True, choices=(1,),
                                 doc="configuration schema version"),
    "name": OptionSpec("name", "string", pattern=NAME_PATTERN, what=f"a valid run name; {_NAME_HINT}",
                       doc="run name (default: the config file's stem)"),
    "plugins": OptionSpec("plugins", "array", items=OptionSpec(type="string"),
                          what="a list of Python file paths", doc="plugin files registering models/loaders"),
    "samples": OptionSpec(
        "samples", "any",
        doc="sample table: a list of rows {id, <quantity>_<unit>: number, ...} or {csv: FILE}",
        json_schema={"anyOf": [
            {"type": "string"},
            {"type": "object", "properties": {"csv": {"type": "string"}}, "required": ["csv"],
             "additionalProperties": False},
            {"type": "array", "items": {"type": "object", "required": ["id"]}},
        ]},
    ),
    "jobs": OptionSpec("jobs", "array", required=True, min_items=1,
                       what="a non-empty list of jobs", missing_hint="a configuration needs at least one job",
                       doc="the jobs, run in order"),
    "report": OptionSpec("report", "object", fields=REPORT,
                         what="{display_units: {...}, plots: true, formats: [...]}", doc="report settings"),
}
