r"""The ``pcar_profile`` job kind: PCAR spin-polarisation fit and chi^2(P) profile of each file.

Per file, :func:`fitkit.analysis.pcar.fit_pcar` (``btk_polarized``) and the profile
:func:`fitkit.analysis.pcar.chi2_profile` (P fixed on a grid, all else refitted).  The kind
registers itself on import; :mod:`fitkit.pipeline.andreev_jobs` imports this module, so it is
available wherever the Andreev kinds are.  Tables and figures: see :class:`PcarProfileJob`.

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
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fitkit.fitting.batch import CAPTURED_ERRORS, load_sweeps
from fitkit.fitting.record import FitRecord
from fitkit.pipeline.andreev_support import (
    check_bool,
    check_choice,
    check_number,
    check_pair,
    check_unused,
    correlation_table,
    figure_html,
    is_number,
    own_records,
    pcar_dirname,
    pcar_figure,
)
from fitkit.pipeline.jobs import (
    ItemTask,
    JobKind,
    item_failure,
    item_meta,
    load_item,
    preprocess_sweep,
    register_job_kind,
    write_item_report,
)
from fitkit.report.writer import atomic_write_csv, atomic_write_png

if TYPE_CHECKING:
    from fitkit.config import JobConfig, RunConfig

__all__ = ["PcarProfileJob"]

_PCAR_FORMS = ("strijkers", "mazin")


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
    description = "PCAR btk_polarized fit, P-Z-Delta correlations and the chi^2(P) profile"
    option_keys = ("form", "temperature_K", "free_level", "delta_bounds", "p_grid")

    def validate(self, job: JobConfig, cfg: RunConfig) -> list[tuple[str, str]]:
        """Kind-specific problems (option types and ranges)."""
        out = super().validate(job, cfg) + check_unused(job, self.name)
        out += check_choice(job, "form", _PCAR_FORMS) + check_number(job, "temperature_K", 0.0)
        out += check_bool(job, "free_level") + check_pair(job, "delta_bounds")
        grid = job.options.get("p_grid")
        if grid is not None and (
            not isinstance(grid, (list, tuple))
            or len(grid) < 2
            or not all(is_number(p) and 0 <= p < 1 for p in grid)
        ):
            out.append(("options.p_grid", f"{grid!r}: expected a list of >= 2 polarisations in [0, 1)"))
        return out

    @staticmethod
    def _fit_options(job: JobConfig) -> dict[str, Any]:
        o = job.options
        return {
            "form": str(o.get("form", "strijkers")),
            "temperature_K": float(o.get("temperature_K", 0.0)),
            "free_level": bool(o.get("free_level", True)),
            "delta_bounds": tuple(float(x) for x in o.get("delta_bounds", (0.5, 2.0))),
        }

    def run_item(self, task: ItemTask) -> list[FitRecord]:
        """Fit each spectrum of the file and profile chi^2(P); the per-fit report goes to ``fits/``."""
        from fitkit.analysis.pcar import DEFAULT_P_GRID, chi2_profile, fit_pcar

        job = task.job
        p = task.payload
        sid = p.get("sample_id") or Path(p["path"]).stem
        fit_opts = self._fit_options(job)
        grid = tuple(float(x) for x in job.options.get("p_grid", DEFAULT_P_GRID))
        sweeps, out = load_item(task, "btk_polarized")
        for k, sw in enumerate(sweeps):
            m = {**item_meta(task), **({"sweep_index": k} if len(sweeps) > 1 else {})}
            try:
                sw = preprocess_sweep(job, sw)
                rec = fit_pcar(sw, **fit_opts)  # type: ignore[arg-type]
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
                    "fit_options": {
                        k2: (list(v) if isinstance(v, tuple) else v) for k2, v in fit_opts.items()
                    },
                },
            )
            if task.fits_dir:
                write_item_report(task, rec, sw, k, len(sweeps))
            out.append(dataclasses.replace(rec, result=None))
        return out

    def finalize(
        self,
        job: JobConfig,
        cfg: RunConfig,
        results: Mapping[str, list[FitRecord]],
        outdir: str | os.PathLike[str] | None = None,
    ) -> list[FitRecord]:
        """Write the correlation table, the chi^2(P) table and figure of each fitted spectrum."""
        if outdir is None:
            return []
        for rec in own_records(results, job):
            if not rec.success or "profile" not in rec.meta:
                continue
            folder = Path(outdir) / "series" / job.name / pcar_dirname(rec)
            atomic_write_csv(folder / "correlations.csv", correlation_table(rec))
            import pandas as pd

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
            except (*CAPTURED_ERRORS, IndexError):
                sweep = None
            atomic_write_png(folder / "pcar.png", pcar_figure(rec, prof, sweep))
        return []

    def report_section(
        self,
        job: JobConfig,
        cfg: RunConfig,
        records: Sequence[FitRecord],
        outdir: Path,
        display_units: Mapping[str, str],
    ) -> str:
        """Per spectrum: the data/fit/chi^2(P) figure and links to the two tables."""
        parts = []
        for rec in records:
            if not rec.success or "profile" not in rec.meta:
                continue
            base = f"series/{job.name}/{pcar_dirname(rec)}/"
            v, e = rec.values, rec.stderr
            cap = (
                f"{rec.sample_id}: P = {v['polarization']:.3f} ± {e.get('polarization', math.nan):.2g}, "
                f"Z = {v['z']:.3f} ± {e.get('z', math.nan):.2g}, Δ = {v['delta']:.3f} ± "
                f"{e.get('delta', math.nan):.2g} meV; χ²(P) minimum at P = {rec.derived['p_profile_min']:.1f}"
            )
            parts.append(
                figure_html(
                    job,
                    [base + "pcar.png", base + "correlations.csv", base + "chi2_profile.csv"],
                    cap,
                    outdir,
                )
            )
        return "\n".join(parts)
