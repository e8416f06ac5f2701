"""Job kind ``transition``: model-free R(T) transition descriptors of each input curve.

The science is :func:`fitkit.analysis.transition.transition_descriptors` (T_c at 50 %, 10-90 %
width, onset, T(R -> 0), R_N); the job's ``options`` are its keyword arguments.  One record per
curve with the descriptors in ``derived`` (:func:`fitkit.pipeline.base.descriptor_record`).
"""

from __future__ import annotations

import math
from pathlib import Path

from fitkit.analysis.transition import transition_descriptors
from fitkit.config import OptionSpec
from fitkit.fitting.batch import CAPTURED_ERRORS
from fitkit.fitting.record import FitRecord
from fitkit.pipeline.base import (
    ItemTask,
    JobKind,
    descriptor_record,
    item_failure,
    load_item,
    preprocess_sweep,
)
from fitkit.registry import register_job_kind

__all__ = ["TransitionJob"]


@register_job_kind
class TransitionJob(JobKind):
    """Model-free R(T) transition descriptors of each input curve (``kind: transition``)."""

    name = "transition"
    derived_units = {"t_c50": "K", "width_10_90": "K", "t_onset": "K", "t_10": "K", "t_zero": "K",
                     "r_n": "ohm"}
    description = "model-free superconducting-transition descriptors (T_c, width, R_N) of each R(T) curve"
    x_quantity = "temperature"
    options = {
        "r_n": OptionSpec("r_n", "number", minimum=0, exclusive_minimum=True, unit="ohm",
                          doc="normal-state resistance (default: the high-temperature plateau)"),
        "n_boot": OptionSpec("n_boot", "integer", minimum=0, default=200, doc="bootstrap resamples"),
        "seed": OptionSpec("seed", "integer", default=0, doc="bootstrap seed"),
    }

    def run_item(self, task: ItemTask) -> list[FitRecord]:
        job = task.job
        p = task.payload
        sweeps, out = load_item(task, self.name)
        for sw in sweeps:
            sid = p.get("sample_id") or sw.meta.sample_id or Path(p["path"]).stem
            try:
                sw = preprocess_sweep(job, sw)
                t = sw.column(job.x or "temperature_K")
                r = sw.column(job.y or "resistance_ohm")
                if job.x_range is not None:
                    lo, hi = job.x_range
                    keep = (t >= (lo if lo is not None else -math.inf)) & (
                        t <= (hi if hi is not None else math.inf)
                    )
                    t, r = t[keep], r[keep]
                desc = transition_descriptors(t, r, **dict(job.options))
            except CAPTURED_ERRORS as err:
                out.append(item_failure(task, err, model_key=self.name, sample_id=sid))
                continue
            out.append(
                descriptor_record(
                    desc,
                    model_key=self.name,
                    sample_id=sid,
                    source_path=p["path"],
                    config_digest=task.config_digest,
                    meta=task.meta(),
                )
            )
        return out
