r"""The ``pcar_profile`` job kind: PCAR spin-polarisation fit and chi^2(P) profile of each file.

Per file, :func:`fitkit.analysis.pcar.fit_pcar` (``btk_polarized``) and the profile
:func:`fitkit.analysis.pcar.chi2_profile` (P fixed on a grid, all else refitted).  Tables and
figures (:mod:`fitkit.report.series`): see :class:`PcarProfileJob`.

Example job::

    - name: pcar
      kind: pcar_profile
      inputs:
        files: "pcar_co_nb/PCAR Co Data.csv"
        format: text
        options: {columns: {V: bias, G: dIdV}, units: {V: mV}, normalized: true}

References
----------
.. [1] G. J. Strijkers et al., "Andreev reflections at metal/superconductor point contacts:
   Measurement and analysis", Phys. Rev. B 63, 104510 (2001).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fitkit.analysis.pcar import DEFAULT_P_GRID, chi2_profile, fit_pcar, polarization_statement
from fitkit.config import JobConfig, OptionSpec, option_values
from fitkit.fitting.batch import CAPTURED_ERRORS, load_sweeps
from fitkit.fitting.record import FitRecord
from fitkit.pipeline.base import (
    ItemTask,
    JobContext,
    JobKind,
    item_failure,
    load_item,
    preprocess_sweep,
    write_item_report,
)
from fitkit.registry import register_job_kind
from fitkit.report.series import correlation_table, figure_html, pcar_figure
from fitkit.report.writer import atomic_write_csv, atomic_write_png, safe_id

__all__ = ["PcarProfileJob", "pcar_dirname"]

_PCAR_FORMS = ("strijkers", "mazin")
_LOAD_ERRORS: tuple[type[BaseException], ...] = (*CAPTURED_ERRORS, IndexError)


@register_job_kind
class PcarProfileJob(JobKind):
    r"""PCAR spin-polarisation fit and chi^2(P) profile of each file (``kind: pcar_profile``).

    Options: ``form`` (``strijkers``/``mazin``), ``temperature_K`` (default 0: Gaussian smearing
    only, Stoner's convention), ``free_level`` (fit ``g_n`` and the bias offset; default true),
    ``delta_bounds`` (``[lo, hi]`` meV, default ``[0.5, 2.0]``), ``p_grid`` (fixed P values,
    default 0, 0.1, ..., 0.9).  Declare the file's units as loader options
    (``inputs.options: {units: {V: mV}, ...}``).

    One record per spectrum: the ``btk_polarized`` fit (values, stderr, full correlations),
    derived ``p_profile_min`` (the grid P of least chi-square) and ``chi2_profile_delta``
    (chi^2(P_grid min) - chi^2(fit), >= 0 up to the optimiser's tolerance); the profile in
    ``meta["profile"]``.  Files (per item): ``series/<job>/<item>/correlations.csv``
    (correlation matrix of the varied parameters), ``chi2_profile.csv`` and ``pcar.png`` (data,
    fit, residuals and chi^2(P)).
    """

    name = "pcar_profile"
    writes_fit_reports = True
    description = "PCAR btk_polarized fit, P-Z-Delta correlations and the chi^2(P) profile"
    uses = ()
    options = {
        "form": OptionSpec("form", "string", default="strijkers", choices=_PCAR_FORMS, doc="BTK form"),
        "temperature_K": OptionSpec("temperature_K", "number", default=0.0, minimum=0, unit="K",
                                    doc="0: Gaussian smearing only (Stoner's convention)"),
        "free_level": OptionSpec("free_level", "boolean", default=True, doc="fit g_n and the bias offset"),
        "delta_bounds": OptionSpec("delta_bounds", "array", default=(0.5, 2.0), min_items=2, max_items=2,
                                   items=OptionSpec(type="number", minimum=0), increasing=True, unit="meV"),
        "p_grid": OptionSpec("p_grid", "array", items=OptionSpec(type="number", minimum=0, maximum=1,
                             exclusive_maximum=True), min_items=2, doc="fixed polarisations of the profile"),
    }

    @staticmethod
    def _fit_options(job: JobConfig) -> dict[str, Any]:
        o = option_values(PcarProfileJob, job.options)
        return {
            "form": str(o["form"]),
            "temperature_K": float(o["temperature_K"]),
            "free_level": bool(o["free_level"]),
            "delta_bounds": tuple(float(x) for x in o["delta_bounds"]),
        }

    def run_item(self, task: ItemTask) -> list[FitRecord]:
        """Fit each spectrum of the file and profile chi^2(P); the per-fit report goes to ``fits/``."""
        job = task.job
        p = task.payload
        sid = p.get("sample_id") or Path(p["path"]).stem
        fit_opts = self._fit_options(job)
        grid = tuple(float(x) for x in job.options.get("p_grid", DEFAULT_P_GRID))
        sweeps, out = load_item(task, "btk_polarized")
        for k, sw in enumerate(sweeps):
            m = task.meta(**({"sweep_index": k} if len(sweeps) > 1 else {}))
            try:
                sw = preprocess_sweep(job, sw)
                rec = fit_pcar(sw, **fit_opts)
                prof = chi2_profile(sw, grid, **fit_opts)
            except CAPTURED_ERRORS as err:
                out.append(item_failure(task, err, model_key="btk_polarized", sample_id=sid, meta=m))
                continue
            chi = prof["chisqr"].to_numpy(dtype=float)
            i_min = int(np.nanargmin(chi)) if np.isfinite(chi).any() else 0
            rec = dataclasses.replace(
                rec,
                sample_id=sid,
                source_path=p["path"],
                config_digest=task.config_digest,
                derived={
                    **rec.derived,
                    "p_profile_min": float(prof["polarization"].iloc[i_min]),
                    "chi2_profile_delta": float(chi[i_min] - rec.chisqr),
                },
                derived_stderr={
                    **rec.derived_stderr,
                    "p_profile_min": math.nan,
                    "chi2_profile_delta": math.nan,
                },
                derived_units={**rec.derived_units, "p_profile_min": "1", "chi2_profile_delta": "1"},
                meta={
                    **rec.meta,
                    **m,
                    "profile": {c: prof[c].tolist() for c in prof.columns},
                    "polarization_statement": polarization_statement(rec),
                    "fit_options": {
                        k2: (list(v) if isinstance(v, tuple) else v) for k2, v in fit_opts.items()
                    },
                },
            )
            if task.fits_dir:
                write_item_report(task, rec, sw, k, len(sweeps))
            out.append(dataclasses.replace(rec, result=None))
        return out

    def finalize(self, ctx: JobContext) -> list[FitRecord]:
        """Write the correlation table, the chi^2(P) table and figure of each fitted spectrum."""
        root = ctx.series_dir()
        if root is None:
            return []
        job = ctx.job
        for rec in ctx.own_records():
            if not rec.success or "profile" not in rec.meta:
                continue
            folder = root / pcar_dirname(rec)
            atomic_write_csv(folder / "correlations.csv", correlation_table(rec))
            prof = pd.DataFrame(rec.meta["profile"])
            atomic_write_csv(folder / "chi2_profile.csv", prof)
            sweep = None
            try:
                sweeps = load_sweeps(
                    rec.source_path,
                    job.inputs.format if job.inputs else None,
                    job.inputs.options if job.inputs else None,
                )
                sweep = preprocess_sweep(job, sweeps[int(rec.meta.get("sweep_index", 0))])
            except _LOAD_ERRORS:
                sweep = None
            atomic_write_png(folder / "pcar.png", pcar_figure(rec, prof, sweep))
        return []

    def report_section(self, ctx: JobContext, records: Sequence[FitRecord]) -> str:
        """Per spectrum: the data/fit/chi^2(P) figure and links to the two tables."""
        assert ctx.outdir is not None
        job = ctx.job
        parts = []
        for rec in records:
            if not rec.success or "profile" not in rec.meta:
                continue
            base = f"series/{job.name}/{pcar_dirname(rec)}/"
            v, e = rec.values, rec.stderr
            cap = (
                f"{rec.sample_id}: {polarization_statement(rec)}, "
                f"Z = {v['z']:.3f} ± {e.get('z', math.nan):.2g}, Δ = {v['delta']:.3f} ± "
                f"{e.get('delta', math.nan):.2g} meV; χ²(P) minimum at P = {rec.derived['p_profile_min']:.1f}"
            )
            parts.append(
                figure_html(
                    [base + "pcar.png", base + "correlations.csv", base + "chi2_profile.csv"], cap, ctx.outdir
                )
            )
        return "\n".join(parts)


def pcar_dirname(rec: FitRecord) -> str:
    """Folder of one spectrum's PCAR files under ``series/<job>/``: the item id (``__<sweep>`` if several)."""
    item = safe_id(str(rec.meta.get("item_id", rec.sample_id or "pcar")))
    return item if "sweep_index" not in rec.meta else f"{item}__{int(rec.meta['sweep_index']):04d}"
