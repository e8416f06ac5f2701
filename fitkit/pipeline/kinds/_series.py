"""Common part of the Andreev series kinds: all input files of a job form one item (one series).

:class:`SeriesKind` expands a job into the single item ``series`` (each file with its per-file
value, :func:`fitkit.pipeline.sources.resolve_value`), loads the files, and writes the series table
and figure (drawn by :mod:`fitkit.report.series`) in ``finalize``; :func:`series_record` labels the
fitter's record of each spectrum for the run (verdict, intervals and quality kept).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fitkit.config import JobConfig, OptionSpec
from fitkit.errors import DataValidationError
from fitkit.fitting.batch import CAPTURED_ERRORS, load_sweeps
from fitkit.fitting.record import FitRecord
from fitkit.io.sweep import Sweep
from fitkit.pipeline.base import (
    ItemTask,
    JobContext,
    JobKind,
    file_sample_id,
    item_failure,
    preprocess_sweep,
)
from fitkit.pipeline.options import check_source, is_number
from fitkit.pipeline.sources import resolve_value
from fitkit.report.series import figure_html
from fitkit.report.writer import atomic_write_csv, atomic_write_png, sha256_file

__all__ = [
    "FORMS", "SERIES_ITEM", "SERIES_OPTIONS", "SeriesKind", "finite", "load_one", "series_hash",
    "series_record", "source_doc",
]

SERIES_ITEM = "series"
"""Item id of the single item of a series job (``items/<job>/series.json``)."""

FORMS = ("pm2", "pm1", "pm3")


def _v_mod_problem(v: Any) -> str | None:
    if v == "auto" or (is_number(v) and v >= 0):
        return None
    return f"{v!r}: expected 'auto' or a number >= 0 (mV rms)"


SERIES_OPTIONS: dict[str, OptionSpec] = {
    "v_mod_rms_mV": OptionSpec("v_mod_rms_mV", "any", default="auto", unit="mV", check=_v_mod_problem,
                               doc="lock-in modulation (rms); auto: the files' metadata, else 0"),
    "form": OptionSpec("form", "string", default="pm2", choices=FORMS, doc="collective-gap form"),
}
"""Options shared by the Andreev series kinds."""


def source_doc(quantity: str) -> str:
    return f"where each file's {quantity} comes from: auto, {{column}}, {{regex, unit}} or {{header}}"


class SeriesKind(JobKind):
    """Common part of the series kinds: all input files of the job are one item."""

    uses = ()

    value_option: str = ""
    value_quantity: str = ""
    value_unit: str = ""
    table_file: str = ""
    figure_file: str = ""

    def expand(self, ctx: JobContext, hashes: dict[Path, str]) -> list[tuple[str, dict[str, Any], str]]:
        """One item holding every input file, with the per-file values known before loading."""
        job, cfg = ctx.job, ctx.config
        if job.inputs is None:
            return []
        spec = job.options.get(self.value_option, "auto")
        files = []
        for f in job.inputs.files:
            sid = str(file_sample_id(job, f.path, f.sample_id, default=f.path.stem))
            value, source = resolve_value(
                spec, self.value_quantity, self.value_unit, f.path, cfg.sample(sid), sample_id=sid
            )
            files.append({"path": str(f.path), "sample_id": sid, "value": value, "source": source})
        payload = {"files": files}
        return [(SERIES_ITEM, payload, series_hash(files, hashes))]

    def _load(
        self, task: ItemTask
    ) -> tuple[list[tuple[Mapping[str, Any], Sweep, float, str]], list[FitRecord]]:
        """Load every file and its value; files that fail become failed records."""
        job = task.job
        spec = job.options.get(self.value_option, "auto")
        good, bad = [], []
        for f in task.payload["files"]:
            meta = task.meta(file=Path(f["path"]).name)
            try:
                sw = load_one(f["path"], job)
                value, source = f["value"], f["source"]
                if value is None and source == "header":
                    value, source = resolve_value(
                        spec,
                        self.value_quantity,
                        self.value_unit,
                        Path(f["path"]),
                        None,
                        sw,
                        sample_id=f["sample_id"],
                    )
                if value is None or not math.isfinite(value):
                    raise DataValidationError(
                        f"{self.name} job '{job.name}': no {self._what()} for "
                        f"'{Path(f['path']).name}': {source}"
                    )
            except CAPTURED_ERRORS as err:
                sid, path = f["sample_id"], f["path"]
                bad.append(
                    item_failure(task, err, model_key=self.name, sample_id=sid, source_path=path, meta=meta)
                )
                continue
            good.append((f, sw, float(value), source))
        return good, bad

    def _series_failed(
        self, task: ItemTask, err: BaseException | str, earlier: Sequence[FitRecord]
    ) -> list[FitRecord]:
        """``earlier`` and a failed record of the whole series (an exception is re-raised when strict)."""
        failed = item_failure(task, err, model_key=self.name, sample_id=task.job.name, source_path="")
        return [*earlier, failed]

    def _table_and_figure(self, records: Sequence[FitRecord]) -> tuple[Any, Any] | None:
        """The series table and figure drawn from the job's records (None: nothing to draw)."""
        raise NotImplementedError

    def _caption(self, job: JobConfig, summary: FitRecord | None) -> str:
        """Caption of the series figure in ``index.html``."""
        raise NotImplementedError

    def finalize(self, ctx: JobContext) -> list[FitRecord]:
        """Write ``series/<job>/<table_file>`` and ``<figure_file>`` from the records (no new records)."""
        folder = ctx.series_dir()
        if folder is None:
            return []
        got = self._table_and_figure(ctx.own_records())
        if got is None:
            return []
        atomic_write_csv(folder / self.table_file, got[0])
        atomic_write_png(folder / self.figure_file, got[1])
        return []

    def report_section(self, ctx: JobContext, records: Sequence[FitRecord]) -> str:
        """The series figure (with the summary as caption) and the table link."""
        assert ctx.outdir is not None
        base = f"series/{ctx.job.name}/"
        summ = next((r for r in records if r.meta.get("summary")), None)
        files = [base + self.figure_file, base + self.table_file]
        return figure_html(files, self._caption(ctx.job, summ), ctx.outdir)

    def _what(self) -> str:
        return {"conductance": "contact conductance", "temperature": "temperature"}[self.value_quantity]

    def _validate_common(self, job: JobConfig) -> list[tuple[str, str]]:
        out = check_source(job.options.get(self.value_option, "auto"), self.value_option, self.value_quantity)
        if job.inputs is not None and len(job.inputs.files) < 2:
            out.append(
                (
                    "inputs.files",
                    f"a '{self.name}' job needs the files of a whole series (>= 2); "
                    f"got {len(job.inputs.files)}",
                )
            )
        return out


def series_hash(files: Sequence[Mapping[str, Any]], hashes: dict[Path, str]) -> str:
    h = hashlib.sha256()
    for f in files:
        p = Path(f["path"])
        if p not in hashes:
            hashes[p] = sha256_file(p)
        h.update(hashes[p].encode())
    h.update(json.dumps(list(files), sort_keys=True, default=str).encode())
    return h.hexdigest()


def load_one(path: str, job: JobConfig) -> Sweep:
    inp = job.inputs
    assert inp is not None
    sweeps = load_sweeps(path, inp.format, inp.options)
    if len(sweeps) != 1:
        raise DataValidationError(
            f"{Path(path).name}: {len(sweeps)} spectra in the file; a series job expects one spectrum "
            "per file"
        )
    return preprocess_sweep(job, sweeps[0])


def finite(x: Any) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def series_record(
    fitted: FitRecord,
    *,
    sample_id: str,
    options: Mapping[str, Any],
    config_digest: str,
    meta: Mapping[str, Any],
    message: str,
) -> FitRecord:
    """The fitter's record of one spectrum of a series, labelled for the run (its verdict, intervals and
    quality are kept; ``message`` replaces the minimiser's message when the fit succeeded)."""
    return dataclasses.replace(
        fitted,
        sample_id=sample_id,
        options={**fitted.options, **dict(options)},
        config_digest=config_digest,
        meta={**fitted.meta, **dict(meta)},
        message=message if fitted.success else f"{message}: the fit did not converge ({fitted.message})",
    )
