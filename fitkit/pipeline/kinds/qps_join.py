r"""Job kind ``qps_join``: QPS correlation length per sample from a phase-slip fit and a plasmon fit.

The science is :func:`fitkit.analysis.qps.qps_join_series` (inverse-variance means of repeated fits,
then :math:`L_c = \xi\exp[(a g_\xi-\ln b)/(2-g_Z/8)]` with its propagated error and the regime,
:func:`fitkit.analysis.qps.qps_join`) and :func:`fitkit.analysis.qps.qps_record`; this kind pairs
the records of the ``from:`` jobs by sample, takes the lengths from the sample table or the options,
and shows the L_c table in the report.

References
----------
.. [1] K. Yu. Arutyunov et al., "Superconducting insulators and localization of Cooper pairs",
   Commun. Phys. 4, 146 (2021), Eq. (3).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fitkit.analysis.qps import qps_join_series, qps_record
from fitkit.analysis.records import find_quantity
from fitkit.config import OptionSpec
from fitkit.fitting.batch import CAPTURED_ERRORS, failed_record
from fitkit.fitting.record import FitRecord
from fitkit.pipeline.base import JobContext, JobKind
from fitkit.pipeline.options import length_option
from fitkit.registry import register_job_kind
from fitkit.report.series import qps_table_html

__all__ = ["QpsJoinJob"]

_JOIN_ERRORS: tuple[type[BaseException], ...] = (*CAPTURED_ERRORS, KeyError)


def _length_problem(spec: object) -> str | None:
    try:
        length_option(spec)
    except ValueError as err:
        return str(err)
    return None


@register_job_kind
class QpsJoinJob(JobKind):
    r"""QPS correlation length per sample from a phase-slip fit and a plasmon fit (``kind: qps_join``).

    For each sample id found in the ``from:`` jobs, :math:`g_\xi` (option ``g_xi``, a parameter
    root, default ``"g_xi"``) comes from the records that fit it and :math:`g_Z` (option ``g_z``,
    default ``"g_z"``) from the records that fit that one (e.g. ``sis_plasmon``); repeated
    records of one sample are combined by inverse-variance weighting
    (:func:`fitkit.analysis.stats.weighted_mean`).  The coherence length
    :math:`\xi` and the wire length X come from the sample table (``xi_nm``, ``length_um``, any
    length unit), else the options ``xi`` / ``length`` (``{value: 145, unit: nm}``), else the
    phase-slip fit's fixed ``xi`` / ``length`` parameters.  ``a`` (default 1) and ``b`` (default:
    the fit's ``b``, else 1) are taken as exact; ``regime_factor`` (default 2) sets the crossover
    band of :func:`fitkit.physics.wire.qps_regime`.

    One record per sample, ``derived``: ``l_c`` [nm] with its first-order propagated error
    (g_xi and g_Z uncorrelated), ``g_xi``, ``g_z`` (with errors), ``xi``, ``length`` [nm] and
    ``length_over_l_c``; ``meta["regime"]`` is ``"superconducting"``, ``"crossover"`` or
    ``"insulating"`` (L_c = inf for g_Z >= 16 counts as superconducting).
    """

    name = "qps_join"
    derived_units = {"l_c": "nm", "length": "nm", "xi": "nm"}
    description = "QPS correlation length L_c per sample from g_xi (phase-slip fit) and g_Z (plasmon fit)"
    needs_inputs = False
    needs_from = True
    item_level = False
    uses = ()
    options = {
        "g_xi": OptionSpec("g_xi", "string", default="g_xi", doc="name of g_xi (phase-slip fits)"),
        "g_z": OptionSpec("g_z", "string", default="g_z", doc="name (root) of g_Z in the plasmon fits"),
        "xi": OptionSpec("xi", "any", check=_length_problem, doc="coherence length (fallback)"),
        "length": OptionSpec("length", "any", check=_length_problem, doc="wire length (fallback)"),
        "a": OptionSpec("a", "number", default=1.0, minimum=0, exclusive_minimum=True, doc="QPS action a"),
        "b": OptionSpec("b", "number", minimum=0, exclusive_minimum=True, doc="QPS action b (default: fit)"),
        "regime_factor": OptionSpec("regime_factor", "number", default=2.0, minimum=1,
                                    doc="crossover band X in [L_c/f, f L_c]"),
    }

    def finalize(self, ctx: JobContext) -> list[FitRecord]:
        job = ctx.job
        opts = self.opts(job)
        names = {"g_xi": str(opts["g_xi"]), "g_z": str(opts["g_z"])}
        ok: dict[str, dict[str, list[FitRecord]]] = {}
        bad: dict[str, list[FitRecord]] = {}
        order: list[str] = []
        for rec in ctx.inputs(ok_only=False):
            sid = rec.sample_id or str(rec.meta.get("item_id", ""))
            if not rec.success:
                bad.setdefault(sid, []).append(rec)
                order.append(sid)
                continue
            for role, pname in names.items():
                if find_quantity(rec, pname) is not None:
                    ok.setdefault(sid, {}).setdefault(role, []).append(rec)
                    order.append(sid)
        out: list[FitRecord] = []
        for sid in dict.fromkeys(order):
            meta = ctx.meta(sid)
            have = ok.get(sid, {})
            missing = [r for r in ("g_xi", "g_z") if r not in have]
            if missing:
                role = missing[0]
                what = "phase-slip" if role == "g_xi" else "plasmon"
                why = ""
                if bad.get(sid):
                    why = f"; {len(bad[sid])} record(s) of this sample failed (first: {bad[sid][0].message})"
                out.append(
                    failed_record(
                        f"qps_join: sample '{sid}' has no successful fit with parameter '{names[role]}' in "
                        f"jobs {list(job.depends_on)}{why}; expected one {what} fit per sample",
                        model_key=self.name,
                        sample_id=sid,
                        meta=meta,
                    )
                )
                continue
            try:
                out.append(self._join(ctx, sid, have, names, meta))
            except _JOIN_ERRORS as err:
                out.append(failed_record(err, model_key=self.name, sample_id=sid, meta=meta))
        return out

    def _join(
        self,
        ctx: JobContext,
        sid: str,
        have: dict[str, list[FitRecord]],
        names: dict[str, str],
        meta: dict[str, Any],
    ) -> FitRecord:
        sample = ctx.sample(sid)
        given: dict[str, tuple[float, str] | None] = {}
        for key in ("xi", "length"):
            v: tuple[float, str] | None = None
            if sample is not None:
                try:
                    v = (float(sample.get(key, "nm")), "sample table")
                except KeyError:
                    v = None
            if v is None and key in ctx.options:
                v = (length_option(ctx.options[key]), "job option")
            given[key] = v
        b = (float(ctx.options["b"]), "job option") if ctx.options.get("b") is not None else None
        opts = self.opts(ctx.job)
        a, factor = float(opts["a"]), float(opts["regime_factor"])
        res = qps_join_series(
            have["g_xi"], have["g_z"], g_xi=names["g_xi"], g_z=names["g_z"], xi_nm=given["xi"],
            length_nm=given["length"], b=b, a=a, factor=factor, sample_id=sid,
        )
        inputs = {
            role: [f"{r.meta.get('job', '')}/{r.meta.get('item_id', '')}" for r in have[role]]
            for role in ("g_xi", "g_z")
        }
        return qps_record(
            res, model_key=self.name, source_path=have["g_xi"][0].source_path,
            meta={**meta, "regime_factor": factor, "inputs": inputs},
        )

    def report_section(self, ctx: JobContext, records: Sequence[FitRecord]) -> str:
        return qps_table_html(records, ctx.display_units)
