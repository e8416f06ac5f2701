"""Batch pipeline: run a validated configuration's jobs over many files, in parallel, resumably.

Public API
----------
``run(config, outdir, *, resume=False, workers=None, scheduler=None, fail_fast=False, progress=True)``
    Run every job; returns a :class:`RunSummary` (``n_ok``, ``n_failed``, ``outdir``, ``failures``).
plan(config, outdir=None)
    The item tasks a run would compute (for dry runs and tests).
JOB_KINDS, JobKind, register_job_kind
    The registry of job kinds (``fit``, ``transition``, ...) and how to add one.
"""

from __future__ import annotations

from fitkit.pipeline import andreev_jobs as _andreev_jobs  # noqa: F401  (registers the Andreev kinds)
from fitkit.pipeline import gridmap as _gridmap  # noqa: F401  (registers the "map" job kind)
from fitkit.pipeline.engine import Failure, RunSummary, job_digest, plan, run
from fitkit.pipeline.jobs import JOB_KINDS, ItemTask, JobKind, register_job_kind, run_item

__all__ = [
    "JOB_KINDS",
    "Failure",
    "ItemTask",
    "JobKind",
    "RunSummary",
    "job_digest",
    "plan",
    "register_job_kind",
    "run",
    "run_item",
]
