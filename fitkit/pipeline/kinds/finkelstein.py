r"""Job kind ``finkelstein``: Finkel'stein's :math:`T_c(R_\square)` fit across the films of a series.

The science is :func:`fitkit.analysis.finkelstein.fit_finkelstein_law` (the registered model
``finkelstein`` through :func:`fitkit.fitting.fit_curve`, free :math:`T_{c0}` and
:math:`\gamma = \ln(\hbar/k_BT_{c0}\tau)`); this kind collects each film's :math:`T_c` from the
``from:`` jobs and its sheet resistance from the sample table, and draws the report figure.

References
----------
.. [1] A. M. Finkel'stein, "Suppression of superconductivity in homogeneously disordered
   systems", Physica B 197, 636 (1994).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from fitkit import units as _units
from fitkit.analysis.finkelstein import fit_finkelstein_law
from fitkit.analysis.records import find_quantity, quantity_in
from fitkit.config import JobConfig, OptionSpec, RunConfig, Sample
from fitkit.fitting.batch import CAPTURED_ERRORS, failed_record
from fitkit.fitting.record import FitRecord
from fitkit.pipeline.base import JobContext, JobKind
from fitkit.pipeline.kinds.fit import UNCERTAINTY
from fitkit.registry import register_job_kind
from fitkit.report.plots import model_curve, plot_points_with_curve
from fitkit.report.series import annotate_points, figure_tag, format_quantity
from fitkit.report.writer import atomic_write_png

__all__ = ["FinkelsteinJob"]

_TRANSITION_TEMPERATURES = ("t_c50", "t_zero", "t_onset", "t_10")


def _has(sample: Sample, quantity: str) -> bool:
    try:
        sample.get(quantity, "ohm_per_sq")
    except (KeyError, _units.UnitError):
        return False
    return True


@register_job_kind
class FinkelsteinJob(JobKind):
    r"""Finkel'stein :math:`T_c(R_\square)` fit across the films of a series (``kind: finkelstein``).

    Options: ``t_c`` (where each film's T_c comes from: a descriptor such as ``"t_c50"`` (default)
    or ``"t_zero"`` of a ``transition`` job, or a fit parameter root such as ``"t_c"``; any
    temperature unit is converted to K), ``r_sq`` (sample-table quantity, default ``"r_sq"``,
    converted to Ohm per square), ``errors`` (``"absolute"``, default: the T_c standard errors
    are absolute sigmas, or ``"scaled"``: the covariance is rescaled by the reduced chi-square),
    ``t_c0_guess`` [K], ``gamma_guess``.  One record (``sample_id = "series"``) with ``t_c0`` [K],
    ``gamma`` and the derived critical sheet resistance ``r_c`` [Ohm]; the points are in
    ``meta["points"]``.
    """

    name = "finkelstein"
    derived_units = {"t_c0": "K", "r_c": "ohm"}
    description = "Finkel'stein T_c(R_sq) fit (free T_c0, gamma) across the films of a series"
    needs_inputs = False
    needs_from = True
    item_level = False
    uses = ()
    options = {
        "t_c": OptionSpec("t_c", "string", default="t_c50", doc="quantity giving each film's T_c"),
        "r_sq": OptionSpec("r_sq", "string", default="r_sq", doc="sample-table quantity of R_sq"),
        "errors": OptionSpec("errors", "string", default="absolute", choices=("absolute", "scaled"),
                             doc="T_c errors as absolute sigmas, or scaled by the reduced chi-square"),
        "t_c0_guess": OptionSpec("t_c0_guess", "number", minimum=0, exclusive_minimum=True, unit="K"),
        "gamma_guess": OptionSpec("gamma_guess", "number", minimum=0, exclusive_minimum=True),
        "uncertainty": UNCERTAINTY,
    }

    def validate(self, job: JobConfig, cfg: RunConfig) -> list[tuple[str, str]]:
        out = super().validate(job, cfg)
        opts = self.opts(job)
        q = str(opts["r_sq"])
        if not cfg.samples:
            out.append(("kind", f"kind 'finkelstein' needs a sample table with a '{q}_ohm_per_sq' column"))
        elif not any(_has(s, q) for s in cfg.samples):
            cols = sorted({c for s in cfg.samples for c in s.values})
            out.append(
                ("options.r_sq", f"no sample has a '{q}' column (e.g. {q}_ohm_per_sq); columns are {cols}")
            )
        tname = str(opts["t_c"])
        for dep in job.depends_on:
            src = next((j for j in cfg.jobs if j.name == dep), None)
            if src is not None and src.kind == "transition":
                known = _TRANSITION_TEMPERATURES
                if tname not in known and tname not in [f"{k}_K" for k in known]:
                    out.append(
                        (
                            "options.t_c",
                            f"'{tname}' is not a temperature of the transition job '{dep}'; "
                            f"expected one of {list(known)}",
                        )
                    )
        return out

    def finalize(self, ctx: JobContext) -> list[FitRecord]:
        opts = self.opts(ctx.job)
        tname, rq = str(opts["t_c"]), str(opts["r_sq"])
        points: list[dict[str, Any]] = []
        skipped: list[str] = []
        for dep in ctx.job.depends_on:
            for rec in ctx.results.get(dep, ()):
                if not rec.success:
                    skipped.append(f"{rec.sample_id or rec.meta.get('item_id')}: its '{dep}' record failed")
                    continue
                q = find_quantity(rec, tname)
                sample = ctx.sample(rec.sample_id)
                if q is None:
                    skipped.append(f"{rec.sample_id}: no '{tname}' in its '{dep}' record")
                    continue
                if sample is None or not _has(sample, rq):
                    skipped.append(f"{rec.sample_id}: no '{rq}' in the sample table")
                    continue
                try:
                    qk = quantity_in(q, "K")
                except _units.UnitError:
                    skipped.append(f"{rec.sample_id}: '{tname}' is in '{q.unit}', not a temperature")
                    continue
                points.append(
                    {
                        "sample_id": rec.sample_id,
                        "r_sq_ohm_per_sq": sample.get(rq, "ohm_per_sq"),
                        "t_c_K": qk.value,
                        "t_c_K_stderr": qk.error,
                        "source": f"{dep}/{rec.meta.get('item_id', '')}",
                    }
                )
        source = f"'{tname}' of jobs {list(ctx.job.depends_on)}"
        meta = ctx.meta("series", points=points, t_c_source=source, skipped=skipped)
        try:
            fit = fit_finkelstein_law(
                [p["r_sq_ohm_per_sq"] for p in points],
                [p["t_c_K"] for p in points],
                [p["t_c_K_stderr"] for p in points],
                t_c0_guess=opts.get("t_c0_guess"),
                gamma_guess=opts.get("gamma_guess"),
                absolute_sigma=opts["errors"] == "absolute",
                uncertainty=str(opts["uncertainty"]),
            )
        except CAPTURED_ERRORS as err:
            return [failed_record(err, model_key=self.name, sample_id="series", meta=meta)]
        left_out = tuple(f"left out {s}" for s in skipped)
        return [dataclasses.replace(fit, meta={**fit.meta, **meta}, warnings=(*left_out, *fit.warnings))]

    def report_section(self, ctx: JobContext, records: Sequence[FitRecord]) -> str:
        """T_c against sheet resistance with the fitted law: ``series/<job>/finkelstein.png``."""
        assert ctx.outdir is not None
        parts = []
        for k, rec in enumerate(records):
            pts = rec.meta.get("points") or []
            if not pts:
                continue
            r = np.array([p["r_sq_ohm_per_sq"] for p in pts], dtype=float)
            t = np.array([p["t_c_K"] for p in pts], dtype=float)
            s = np.array(
                [np.nan if p["t_c_K_stderr"] is None else p["t_c_K_stderr"] for p in pts], dtype=float
            )
            curve = None
            if rec.success:
                rr = np.linspace(0.0, 1.15 * float(r.max()), 200)
                yy = model_curve(rec, rr)
                label = (
                    f"Finkel'stein: T_c0 = {format_quantity(rec.values['t_c0'], rec.stderr['t_c0'], 'K')}, "
                    f"γ = {format_quantity(rec.values['gamma'], rec.stderr['gamma'], '1')}"
                )
                curve = None if yy is None else (rr, yy, label)
            fig = plot_points_with_curve(
                r, t, s, label="films", curve=curve, xlabel="sheet resistance R_sq (Ω/□)", ylabel="T_c (K)",
                title=f"{ctx.job.name}: T_c vs sheet resistance",
            )
            annotate_points(fig.axes[0], r, t, [str(p["sample_id"]) for p in pts])
            name = "finkelstein.png" if k == 0 else f"finkelstein_{k}.png"
            rel = f"series/{ctx.job.name}/{name}"
            atomic_write_png(ctx.outdir / rel, fig)
            parts.append(figure_tag(rel, rec.message, alt=ctx.job.name, inline=True))
        return "\n".join(parts)
