"""Batch pipeline: run a validated configuration's jobs over many files, in parallel, resumably.

Public API
----------
``run(config, outdir, *, resume=False, workers=None, scheduler=None, fail_fast=False, progress=True)``
    Run every job; returns a :class:`RunSummary` (``n_ok``, ``n_failed``, ``outdir``, ``failures``).
plan(config, outdir=None)
    The item tasks a run would compute (for dry runs and tests).
JOB_KINDS, JobKind, JobContext, ItemTask, register_job_kind
    The registry of job kinds (``fit``, ``transition``, ...; :mod:`fitkit.pipeline.kinds`), the
    base class and the two context objects a kind receives.

Layout: :mod:`.base` (the kind contract and helpers), :mod:`.kinds` (one module per kind),
:mod:`.worker` (one item), :mod:`.engine` (planning, execution, finalize), :mod:`.output` (run report),
:mod:`.options` and :mod:`.sources` (option checks and per-file value sources shared by kinds).
"""

from __future__ import annotations

from fitkit.pipeline.base import ItemTask, JobContext, JobKind
from fitkit.pipeline.engine import Failure, RunSummary, job_digest, plan, run
from fitkit.pipeline.worker import run_item
from fitkit.registry import JOB_KINDS, register_job_kind

__all__ = [
    "JOB_KINDS",
    "Failure",
    "ItemTask",
    "JobContext",
    "JobKind",
    "RunSummary",
    "job_digest",
    "plan",
    "register_job_kind",
    "run",
    "run_item",
]
