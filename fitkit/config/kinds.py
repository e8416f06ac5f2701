"""Job kinds as the validator sees them: found in :data:`fitkit.registry.JOB_KINDS`; declared option schemas.

The configuration layer sits *below* the pipeline (the pipeline consumes :class:`~fitkit.config.RunConfig`),
so it never imports :mod:`fitkit.pipeline`.  It finds the job kinds in the registry
:data:`fitkit.registry.JOB_KINDS` (which loads the built-in kinds by module name and third-party kinds
through the entry-point group ``fitkit.job_kinds``), or in the ``job_kinds`` argument of
:func:`fitkit.config.validate_config`.

What the validator reads from a kind (all optional except ``name``):

``name``
    The ``kind:`` key.
``options: Mapping[str, OptionSpec]``
    The kind's option schema (declarative).  When present, the validator checks ``options`` against it
    (unknown keys with "did you mean", types, ranges, choices, required) and the structural flags below;
    ``validate(job, cfg)`` then only adds what a table cannot express (cross-job, sample-table checks).
    When absent, ``validate(job, cfg)`` is the whole check (the legacy contract).
``needs_inputs, needs_model, allows_model, needs_from``
    Which job keys the kind requires or accepts (defaults: True, False, False, False).
``uses``
    Job keys among ``x_range``, ``x``, ``y`` the kind reads (default: all three); the others are refused.
``x_quantity``
    Quantity of the x column when the job has no model (for ``x_range.unit``), e.g. ``"temperature"``.
``option_keys``
    Legacy list of option names (JSON Schema only, when ``options`` is absent).
``derived_units``
    Unit of each derived quantity of its records (``report.display_units`` may name them).
``validate(job, cfg) -> list[(path relative to the job, message)]``
    Extra problems.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fitkit.config.spec import OptionSpec, Problems, conform
from fitkit.registry import JOB_KINDS

if TYPE_CHECKING:
    from fitkit.config.schema import JobConfig, RunConfig

__all__ = ["job_kinds", "kind_option_spec", "kind_problems", "option_values"]


def job_kinds() -> dict[str, Any]:
    """The registered job kinds, ``name -> kind`` (a snapshot of :data:`fitkit.registry.JOB_KINDS`)."""
    return dict(JOB_KINDS)


def kind_option_spec(kind: Any) -> OptionSpec | None:
    """The object spec of a kind's ``options`` mapping, or None when the kind declares no option table."""
    table = getattr(kind, "options", None)
    if not isinstance(table, Mapping):
        return None
    return OptionSpec(
        "options",
        "object",
        fields=table,
        key_noun="option",
        what=f"a mapping of options of kind '{kind.name}'",
    )


def option_values(kind: Any, given: Mapping[str, Any]) -> dict[str, Any]:
    """A job's options completed with the kind's declared defaults (for the kind's own use)."""
    table = getattr(kind, "options", None) or {}
    out = {k: s.default for k, s in table.items() if s.default is not None}
    out.update(given)
    return out


def _structure(kind: Any, job: JobConfig) -> list[tuple[str, str]]:
    name = kind.name
    needs_inputs = getattr(kind, "needs_inputs", True)
    needs_model = getattr(kind, "needs_model", False)
    allows_model = needs_model or getattr(kind, "allows_model", False)
    needs_from = getattr(kind, "needs_from", False)
    out: list[tuple[str, str]] = []
    if needs_inputs and job.inputs is None:
        out.append(("inputs", f"missing; a '{name}' job reads input files"))
    if not needs_inputs and job.inputs is not None:
        out.append(("inputs", f"a '{name}' job reads other jobs' results (from:), not files"))
    if needs_model and job.model is None:
        out.append(("model", f"missing; a '{name}' job needs a model"))
    if not allows_model and job.model is not None:
        out.append(("model", f"a '{name}' job takes no model"))
    if needs_from and not job.depends_on:
        out.append(("from", f"missing; a '{name}' job needs the name of the job whose results it uses"))
    if not needs_from and job.depends_on:
        out.append(("from", f"a '{name}' job does not read other jobs"))
    uses = getattr(kind, "uses", ("x_range", "x", "y"))
    for key in ("x_range", "x", "y"):
        if key not in uses and getattr(job, key) is not None:
            out.append((key, f"not used by kind '{name}'"))
    return out


def kind_problems(kind: Any, job: JobConfig, cfg: RunConfig) -> list[tuple[str, str]]:
    """Kind-specific problems of ``job`` as ``(path relative to the job, message)``.

    Declared kinds (with an ``options`` table) are checked declaratively and then by their
    ``validate``; legacy kinds by their ``validate`` alone.  Exact duplicates are dropped.
    """
    spec = kind_option_spec(kind)
    out: list[tuple[str, str]] = []
    if spec is not None:
        out += _structure(kind, job)
        probs = Problems()
        conform(dict(job.options), spec, "options", probs)
        out += probs.pairs
    validate = getattr(kind, "validate", None)
    if validate is not None:
        out += [p for p in validate(job, cfg) if p not in out]
    return out
