"""Run-folder output of the pipeline: item files and the run report with each job kind's section.

The files themselves are written by :mod:`fitkit.report` (:func:`fitkit.report.run.write_run_report`:
tables, plots, ``index.html``); this module reads item files back and collects what only the
pipeline knows: each job kind's own report section and the ``plot_against`` sample columns.
Layout: see ``docs/config.md``.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fitkit.config import RunConfig, sample_column
from fitkit.fitting.record import FitRecord
from fitkit.pipeline.base import JobContext
from fitkit.registry import JOB_KINDS
from fitkit.report import run as _run

__all__ = ["read_item", "write_run_report"]

log = logging.getLogger("fitkit")


def read_item(path: Path) -> dict[str, Any] | None:
    """Parse an item file; None when it is missing, partial or not an item result."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("records"), list):
        return None
    return doc


def write_run_report(
    outdir: Path, cfg: RunConfig, records: Sequence[FitRecord], summary: Mapping[str, Any]
) -> None:
    """Write ``results.csv``/``.json``/``.h5``, the report plots and ``index.html`` of a finished run.

    Raises
    ------
    OSError
        If a file cannot be written.
    """
    against = {}
    if cfg.samples:
        for job in cfg.jobs:
            names = job.plot_against or cfg.report.plot_against
            cols = [sample_column(cfg.samples, n) for n in names or ()]
            against[job.name] = [c for c in cols if c is not None]
    sections = _series_sections(outdir, cfg, records) if "html" in cfg.report.formats else {}
    _run.write_run_report(outdir, cfg, records, summary, sections=sections, against=against)


def _series_sections(outdir: Path, cfg: RunConfig, records: Sequence[FitRecord]) -> dict[str, str]:
    """HTML of each job kind's report section (series fits, joins); drawing errors are shown, not raised."""
    out: dict[str, str] = {}
    if not cfg.report.plots:
        return out
    by_job: dict[str, list[FitRecord]] = {}
    for r in records:
        by_job.setdefault(str(r.meta.get("job", "")), []).append(r)
    disp = dict(cfg.report.display_units)
    for job in cfg.jobs:
        kind = JOB_KINDS.get(job.kind)
        recs = by_job.get(job.name, [])
        if kind is None or not recs:
            continue
        ctx = JobContext(job=job, config=cfg, results=by_job, outdir=outdir, display_units=disp)
        try:
            text = kind.report_section(ctx, recs)
        except Exception as err:  # a report problem must never lose the results
            log.error("report section of job '%s' failed: %s: %s", job.name, type(err).__name__, err)
            why = html.escape(f"{type(err).__name__}: {err}")
            text = f"<p class='failed'>report section failed: {why}</p>"
        if text:
            out[job.name] = text
    return out
