"""Job kind ``fit``: fit every curve of every input file with the job's model.

The science is :func:`fitkit.fitting.batch.fit_series` (one :func:`fitkit.fitting.fit_curve` per
curve, preprocessing steps first); this kind only ties it to the item, numbers the curves of a
multi-curve file (``meta["sweep_index"]``) and writes the per-fit report folders.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from fitkit.config import OptionSpec
from fitkit.fitting.batch import fit_series
from fitkit.fitting.record import FitRecord
from fitkit.pipeline.base import ItemTask, JobKind, load_item, without_result, write_item_report
from fitkit.registry import register_job_kind

__all__ = ["UNCERTAINTY", "FitJob"]

UNCERTAINTY = OptionSpec(
    "uncertainty", "string", default="auto", choices=("linear", "profile", "bootstrap", "auto"),
    doc="interval method of fit_curve (auto: linear, profile where the linear error is not trustworthy)",
)
"""The ``uncertainty`` option of the fitting kinds (passed to :func:`fitkit.fitting.fit_curve`)."""


@register_job_kind
class FitJob(JobKind):
    """Fit each input curve with the job's model (``kind: fit``)."""

    name = "fit"
    writes_fit_reports = True
    description = "fit every curve of every input file with one model"
    needs_model = True
    options = {"uncertainty": UNCERTAINTY}

    def run_item(self, task: ItemTask) -> list[FitRecord]:
        job = task.job
        p = task.payload
        assert job.model is not None
        block = tuple(p["block"]) if p.get("block") is not None else None
        sweeps, failed = load_item(task, job.model.key, block)
        if failed:
            return failed
        report = bool(task.fits_dir) and block is None
        fitted: list[Any] = []  # the sweep each record was fitted to (preprocessed), for the per-fit report
        recs = fit_series(
            sweeps,
            job.model.build,
            job.overrides(),
            x=job.x,
            y=job.y,
            x_range=job.x_range,
            method=job.method,
            preprocess=job.preprocess,
            sample_id=p.get("sample_id"),
            strict=task.strict,
            config_digest=task.config_digest,
            meta=task.meta(),
            on_record=(lambda _rec, sw: fitted.append(sw)) if report else None,
            uncertainty=str(self.opts(job)["uncertainty"]),
        )
        if block is not None or len(sweeps) > 1:
            first = block[0] if block is not None else 0
            recs = [
                dataclasses.replace(r, meta={**r.meta, "sweep_index": first + k}) for k, r in enumerate(recs)
            ]
        if report:
            # the figure shows the data that were fitted (e.g. dIdV_norm made by a normalize step)
            for k, (rec, sw) in enumerate(zip(recs, fitted, strict=True)):
                write_item_report(task, rec, sw, k, len(recs))
        return without_result(recs)
