"""Job kind ``gap_temperature``: BCS fit of the gap against temperature over another job's spectra.

The science is :func:`fitkit.analysis.gap_temperature.fit_bcs_gap_law` (the registered model
``bcs_gap_temperature`` through :func:`fitkit.fitting.fit_curve`); this kind collects the gaps and
temperatures from the records of the ``from:`` jobs, groups them and draws the report figure.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from fitkit.analysis.gap_temperature import fit_bcs_gap_law
from fitkit.analysis.records import find_quantity, matches_root
from fitkit.config import JobConfig, OptionSpec, RunConfig
from fitkit.fitting.batch import CAPTURED_ERRORS, failed_record
from fitkit.fitting.record import FitRecord
from fitkit.models import get_model
from fitkit.pipeline.base import JobContext, JobKind
from fitkit.pipeline.kinds.fit import UNCERTAINTY
from fitkit.registry import register_job_kind
from fitkit.report.plots import model_curve, plot_points_with_curve
from fitkit.report.series import figure_tag
from fitkit.report.writer import atomic_write_png, safe_id

__all__ = ["GapTemperatureJob"]


@register_job_kind
class GapTemperatureJob(JobKind):
    """BCS fit of the gap against temperature across the spectra of another job (``kind: gap_temperature``).

    Options: ``delta`` (fitted gap parameter, default ``"delta"``), ``temperature`` (where each
    spectrum's temperature comes from: ``"meta"`` = the loader's ``temperature_K`` metadata,
    ``"param"`` = the fit's ``temperature`` parameter; default: meta, then param), ``group_by``
    (``"none"``, default: one fit over all spectra, or ``"sample_id"``: one fit per sample),
    ``t_c_guess`` [K], ``delta0_guess`` [meV].  Gaps with a finite standard error are fitted
    weighted (absolute sigmas) when there are at least 3; gaps without one are then left out.
    One record per group: ``delta0`` [meV], ``t_c`` [K] and the derived ratio Delta_0/(k_B T_c).
    """

    name = "gap_temperature"
    derived_units = {"delta0": "meV", "t_c": "K"}
    description = "BCS Delta(T) fit over the gap values fitted by another job"
    needs_inputs = False
    needs_from = True
    item_level = False
    uses = ()
    options = {
        "delta": OptionSpec("delta", "string", default="delta", doc="fitted gap parameter (name root)"),
        "temperature": OptionSpec("temperature", "string", default="auto", choices=("auto", "meta", "param"),
                                  doc="where each temperature comes from"),
        "group_by": OptionSpec("group_by", "string", default="none", choices=("none", "sample_id"),
                               doc="one fit over all spectra, or one per sample"),
        "t_c_guess": OptionSpec("t_c_guess", "number", minimum=0, exclusive_minimum=True, unit="K"),
        "delta0_guess": OptionSpec("delta0_guess", "number", minimum=0, exclusive_minimum=True, unit="meV"),
        "uncertainty": UNCERTAINTY,
    }

    def validate(self, job: JobConfig, cfg: RunConfig) -> list[tuple[str, str]]:
        out = super().validate(job, cfg)
        root = self.opts(job)["delta"]
        for dep in job.depends_on:
            src = next((j for j in cfg.jobs if j.name == dep), None)
            if src is None or src.model is None:
                continue
            names = [
                f"{c.prefix}{s.name}" for c in src.model.components for s in get_model(c.key).param_specs
            ]
            if not any(matches_root(n, root) for n in names):
                out.append(
                    ("options.delta", f"job '{dep}' fits no parameter '{root}'; its parameters are {names}")
                )
        return out

    def finalize(self, ctx: JobContext) -> list[FitRecord]:
        opts = self.opts(ctx.job)
        root = str(opts["delta"])
        how = opts["temperature"]
        groups: dict[str, list[tuple[float, float, float]]] = {}
        for rec in ctx.inputs():
            gap = next((n for n in rec.values if matches_root(n, root)), None)
            if gap is None:
                continue
            temp = math.nan
            if how in ("auto", "meta"):
                temp = float(rec.meta.get("extra", {}).get("temperature_K", math.nan))
            if how == "param" or (how == "auto" and not math.isfinite(temp)):
                q = find_quantity(rec, "temperature")
                temp = q.value if q is not None else math.nan
            key = rec.sample_id if opts["group_by"] == "sample_id" else "all"
            groups.setdefault(key, []).append((temp, rec.values[gap], rec.stderr.get(gap, math.nan)))
        out = []
        for key, rows in groups.items():
            t, d, s = (np.array(c, dtype=float) for c in zip(*rows, strict=True))
            good = np.isfinite(s) & (s > 0)
            sigma = None
            if good.sum() >= 3:
                t, d, sigma = t[good], d[good], s[good]
            meta = ctx.meta(key, n_spectra=len(rows), n_used=int(t.size))
            try:
                rec = fit_bcs_gap_law(
                    t, d, sigma, t_c_guess=opts.get("t_c_guess"), delta0_guess=opts.get("delta0_guess"),
                    sample_id=key, uncertainty=str(opts["uncertainty"]),
                )
            except CAPTURED_ERRORS as err:
                points = {"temperature_K": t.tolist(), "delta_meV": d.tolist(),
                          "delta_meV_stderr": sigma.tolist() if sigma is not None else []}
                meta["points"] = points
                out.append(failed_record(err, model_key=self.name, sample_id=key, meta=meta))
                continue
            out.append(dataclasses.replace(rec, y_column=f"{root}_meV", meta={**rec.meta, **meta}))
        return out

    def report_section(self, ctx: JobContext, records: Sequence[FitRecord]) -> str:
        """Delta(T) points with the fitted BCS curve, one figure per group: ``series/<job>/*.png``."""
        assert ctx.outdir is not None
        parts = []
        for rec in records:
            pts = rec.meta.get("points") or {}
            t = np.asarray(pts.get("temperature_K", []), dtype=float)
            if t.size == 0:
                continue
            d = np.asarray(pts.get("delta_meV", []), dtype=float)
            s = np.asarray(pts.get("delta_meV_stderr") or [np.nan] * t.size, dtype=float)
            curve = None
            if rec.success:
                tt = np.linspace(0.0, 1.05 * max(float(t.max()), rec.values["t_c"]), 200)
                yy = model_curve(rec, tt)
                label = f"BCS: Δ0 = {rec.values['delta0']:.4g} meV, T_c = {rec.values['t_c']:.4g} K"
                curve = None if yy is None else (tt, yy, label)
            fig = plot_points_with_curve(
                t, d, s, label="fitted gaps", curve=curve, xlabel="temperature (K)", ylabel="Δ (meV)",
                title=f"{ctx.job.name}: {rec.sample_id}",
            )
            rel = f"series/{ctx.job.name}/{safe_id(str(rec.sample_id or 'all'))}_gap_vs_T.png"
            atomic_write_png(ctx.outdir / rel, fig)
            parts.append(figure_tag(rel, f"{rec.sample_id}: {rec.message}", inline=True))
        return "\n".join(parts)
