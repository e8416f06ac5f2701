"""The job-kind contract: :class:`JobKind`, the two context objects, and the helpers kinds share.

A job kind is a thin adapter between a configured job and the science in :mod:`fitkit.analysis` /
:mod:`fitkit.fitting` (numbers) and :mod:`fitkit.report` (figures, tables).  It is a
:class:`JobKind` subclass registered with :func:`fitkit.registry.register_job_kind`; every method
receives *one* context object:

* :meth:`JobKind.validate` ``(job, cfg)`` returns kind-specific config problems ``(key path, message)``
  (called by :mod:`fitkit.config` while it builds the run configuration);
* :meth:`JobKind.expand` ``(ctx, hashes)`` turns the job into items ``(item_id, payload, input_hash)``;
* :meth:`JobKind.run_item` ``(task)`` computes one item in a worker process; :class:`ItemTask` is the
  item's (picklable) context and the kind returns plain :class:`FitRecord` objects;
* :meth:`JobKind.finalize` ``(ctx)`` runs after all items, for every job in config order: job-level
  steps (joins, series fits over the results of the ``from:`` jobs) and item-level summaries (maps);
* :meth:`JobKind.report_section` ``(ctx, records)`` returns the job's HTML for ``index.html``.

:class:`JobContext` carries the job, the run configuration, the records of the jobs finalized so
far, the run folder and the display units.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from fitkit import units
from fitkit.config import JobConfig, OptionSpec, RunConfig, Sample, option_values
from fitkit.fitting.batch import CAPTURED_ERRORS, failed_record, load_sweeps
from fitkit.fitting.record import FitRecord
from fitkit.io.sweep import Sweep
from fitkit.preprocess import apply_steps
from fitkit.report.fit_report import write_fit_report
from fitkit.report.writer import atomic_write_text, safe_id, sha256_file

__all__ = [
    "ItemTask",
    "JobContext",
    "JobKind",
    "descriptor_record",
    "file_sample_id",
    "item_failure",
    "item_meta",
    "load_item",
    "preprocess_sweep",
    "write_item_report",
]

log = logging.getLogger("fitkit")


@dataclass(frozen=True)
class ItemTask:
    """One unit of work, shipped to a worker (everything in it is picklable): the context of ``run_item``.

    Attributes
    ----------
    job
        The job's configuration.
    item_id
        File-name-safe id, unique within the job.
    payload
        Kind-specific data (``path``, ``sample_id``, ``block``).
    config_digest
        Digest of the job's settings (without its file list).
    input_hash
        Digest of the item's input (file content and block).
    plugins
        Plugin files the worker must import before running.
    fits_dir
        Folder for this item's per-fit report (None: no per-fit report).
    display_units
        ``report.display_units`` (for per-fit plots).
    strict
        Re-raise errors instead of recording them (``fail_fast``).
    """

    job: JobConfig
    item_id: str
    payload: Mapping[str, Any]
    config_digest: str
    input_hash: str
    plugins: tuple[str, ...] = ()
    fits_dir: str | None = None
    display_units: Mapping[str, str] = field(default_factory=dict)
    strict: bool = False

    @property
    def options(self) -> Mapping[str, Any]:
        """The job's ``options`` mapping."""
        return self.job.options

    def meta(self, **extra: Any) -> dict[str, Any]:
        """The ``meta`` every record of the item starts from: ``{"job", "item_id", **extra}``."""
        return {"job": self.job.name, "item_id": self.item_id, **extra}


@dataclass(frozen=True)
class JobContext:
    """Everything a job kind needs outside one item: the context of expand/finalize/report_section.

    Attributes
    ----------
    job
        The job's configuration.
    config
        The whole run configuration (sample table, other jobs).
    results
        Job name -> records of the jobs computed so far (items, then earlier finalize steps).
    outdir
        The run folder (None: nothing is written, e.g. in tests of ``finalize``).
    display_units
        ``report.display_units``.
    """

    job: JobConfig
    config: RunConfig
    results: Mapping[str, Sequence[FitRecord]] = field(default_factory=dict)
    outdir: Path | None = None
    display_units: Mapping[str, str] = field(default_factory=dict)

    @property
    def options(self) -> Mapping[str, Any]:
        """The job's ``options`` mapping."""
        return self.job.options

    def sample(self, sample_id: str) -> Sample | None:
        """The sample-table row of ``sample_id`` (None if there is none)."""
        return self.config.sample(sample_id)

    def inputs(self, *, ok_only: bool = True) -> list[FitRecord]:
        """Records of the ``from:`` jobs, in order (only successful ones unless ``ok_only=False``)."""
        return [r for n in self.job.depends_on for r in self.results.get(n, ()) if r.success or not ok_only]

    def own_records(self) -> list[FitRecord]:
        """This job's records so far (its items, for item-level kinds)."""
        return list(self.results.get(self.job.name, ()))

    def meta(self, item_id: str, **extra: Any) -> dict[str, Any]:
        """``meta`` of a job-level record: ``{"job", "item_id", **extra}``."""
        return {"job": self.job.name, "item_id": item_id, **extra}

    def series_dir(self) -> Path | None:
        """``<outdir>/series/<job>`` (None without a run folder)."""
        return None if self.outdir is None else Path(self.outdir) / "series" / self.job.name


class JobKind:
    """Base class of job kinds (see the module docstring for the contract).

    Class variables
    ---------------
    name
        Key used as ``kind:`` in configs.
    description
        One line for ``fitkit`` help and docs.
    needs_inputs, needs_model, allows_model, needs_from
        Which job keys this kind requires or accepts.
    options
        The declarative option table (``name -> OptionSpec``, :mod:`fitkit.config.spec`): the config
        validator checks the job's ``options`` and the structural flags against it; :meth:`validate`
        then only adds what a table cannot say.  None (plugins written before it): :meth:`validate`
        checks the flags and ``option_keys`` itself.
    uses
        Job keys among ``x_range``, ``x``, ``y`` the kind reads (the others are refused).
    option_keys
        Legacy list of allowed option names (kinds without ``options``).
    item_level
        True if the kind has items (run in parallel); False for job-level steps.
    derived_units
        Unit of each derived quantity its records carry (lets ``report.display_units`` name them).
    """

    name: ClassVar[str]
    derived_units: ClassVar[Mapping[str, str]] = {}
    description: ClassVar[str] = ""
    needs_inputs: ClassVar[bool] = True
    needs_model: ClassVar[bool] = False
    allows_model: ClassVar[bool] = False
    needs_from: ClassVar[bool] = False
    option_keys: ClassVar[tuple[str, ...]] = ()
    options: ClassVar[Mapping[str, OptionSpec] | None] = None
    uses: ClassVar[tuple[str, ...]] = ("x_range", "x", "y")
    item_level: ClassVar[bool] = True
    writes_fit_reports: ClassVar[bool] = False
    """Whether items write per-fit report folders under ``fits/`` (resume then checks they are complete)."""

    def opts(self, job: JobConfig) -> dict[str, Any]:
        """The job's options with the declared defaults filled in (the defaults live in :attr:`options`)."""
        return option_values(self, job.options)

    def validate(self, job: JobConfig, cfg: RunConfig) -> list[tuple[str, str]]:
        """Kind-specific problems as ``(key path relative to the job, message)``.

        With a declared :attr:`options` table the validator has checked the structure and the options
        already: return only the extra (cross-job, sample-table, model) problems.
        """
        out: list[tuple[str, str]] = []
        if self.options is not None:
            return out
        if self.needs_inputs and job.inputs is None:
            out.append(("inputs", f"missing; a '{self.name}' job reads input files"))
        if not self.needs_inputs and job.inputs is not None:
            out.append(("inputs", f"a '{self.name}' job reads other jobs' results (from:), not files"))
        if self.needs_model and job.model is None:
            out.append(("model", f"missing; a '{self.name}' job needs a model"))
        if not (self.needs_model or self.allows_model) and job.model is not None:
            out.append(("model", f"a '{self.name}' job takes no model"))
        if self.needs_from and not job.depends_on:
            out.append(
                ("from", f"missing; a '{self.name}' job needs the name of the job whose results it uses")
            )
        if not self.needs_from and job.depends_on:
            out.append(("from", f"a '{self.name}' job does not read other jobs"))
        for k in job.options:
            if k not in self.option_keys:
                out.append(
                    (
                        f"options.{k}",
                        f"unknown option for kind '{self.name}'; valid options are {list(self.option_keys)}",
                    )
                )
        return out

    def expand(self, ctx: JobContext, hashes: dict[Path, str]) -> list[tuple[str, dict[str, Any], str]]:
        """Items of the job as ``(item_id, payload, input_hash)``; one per input file (or block) by default.

        ``hashes`` caches file hashes across jobs.
        """
        job = ctx.job
        if job.inputs is None:
            return []
        items: list[tuple[str, dict[str, Any], str]] = []
        used: dict[str, int] = {}
        for f in job.inputs.files:
            if f.path not in hashes:
                hashes[f.path] = sha256_file(f.path)
            for block in self.blocks(job, f.path):
                base = safe_id(f.path.stem)
                if block is not None:
                    base = f"{base}__{block[0]:06d}-{block[1] - 1:06d}"
                n = used.get(base, 0)
                used[base] = n + 1
                item_id = base if n == 0 else f"{base}__{n + 1}"
                payload = {
                    "path": str(f.path),
                    "sample_id": file_sample_id(job, f.path, f.sample_id),
                    "block": block,
                }
                ih = hashlib.sha256(f"{hashes[f.path]}|{block}".encode()).hexdigest()
                items.append((item_id, payload, ih))
        return items

    def blocks(self, job: JobConfig, path: Path) -> list[tuple[int, int] | None]:
        """Blocks ``(start, stop)`` of curves of a multi-curve file (``[None]``: the whole file)."""
        bs = job.inputs.block_size if job.inputs else None
        if not bs or job.inputs is None:
            return [None]
        n = len(load_sweeps(path, job.inputs.format, job.inputs.options))
        return [(s, min(s + bs, n)) for s in range(0, n, bs)]

    def run_item(self, task: ItemTask) -> list[FitRecord]:
        """Compute one item; errors become failed records unless ``task.strict``."""
        raise NotImplementedError

    def finalize(self, ctx: JobContext) -> list[FitRecord]:
        """Step after all items of the run; default none.

        Called for every job, in config order, after all items: job-level kinds compute their
        records here (joins, series fits), item-level kinds may add summary records (e.g. maps
        assembled from per-pixel records) or write files under ``ctx.outdir``.
        """
        return []

    def report_section(self, ctx: JobContext, records: Sequence[FitRecord]) -> str:
        """HTML for this job's part of ``index.html`` (series plots, tables); default none.

        Figures go to ``<outdir>/series/<job>/`` and are referenced by relative paths.
        """
        return ""


# ------------------------------------------------------------------------------------ item helpers
def file_sample_id(
    job: JobConfig, path: Path, explicit: str | None, default: str | None = None
) -> str | None:
    """Sample id of an input file: the explicit one, else the first group of ``inputs.sample_id_regex``
    matched in the file name, else ``default``."""
    if explicit:
        return explicit
    rx = job.inputs.sample_id_regex if job.inputs else None
    if rx:
        m = re.search(rx, path.name)
        if m:
            return m.group(1)
    return default


def item_meta(task: ItemTask) -> dict[str, Any]:
    """The ``meta`` every record of an item starts from: ``{"job": ..., "item_id": ...}``."""
    return task.meta()


def item_failure(
    task: ItemTask,
    err: BaseException | str,
    *,
    model_key: str,
    sample_id: str | None = None,
    source_path: str | None = None,
    meta: Mapping[str, Any] | None = None,
) -> FitRecord:
    """A failed record of an item; an exception is re-raised instead when ``task.strict``.

    Call it inside the ``except`` block.  Defaults: ``source_path`` = the item's ``path``,
    ``sample_id`` = the item's sample id, else the file stem, ``meta`` = :meth:`ItemTask.meta`.
    """
    if task.strict and isinstance(err, BaseException):
        raise err
    path = str(task.payload.get("path", ""))
    if sample_id is None:
        sample_id = task.payload.get("sample_id") or Path(path).stem
    return failed_record(
        err,
        model_key=model_key,
        sample_id=sample_id,
        source_path=path if source_path is None else source_path,
        config_digest=task.config_digest,
        meta=task.meta() if meta is None else meta,
    )


def preprocess_sweep(job: JobConfig, sweep: Sweep) -> Sweep:
    """The sweep after the job's ``preprocess`` steps (validated by the config; the sweep itself if none)."""
    return apply_steps(sweep, list(job.preprocess)) if job.preprocess else sweep


def write_item_report(task: ItemTask, record: FitRecord, sweep: Any, k: int, n: int) -> None:
    """Per-fit report of record ``k`` of the ``n`` of an item: ``task.fits_dir`` (``/<k:04d>`` when n > 1).

    A failure to draw or write is logged and recorded in ``<folder>/error.txt``; it never fails the fit.
    """
    assert task.fits_dir is not None
    folder = Path(task.fits_dir) if n == 1 else Path(task.fits_dir) / f"{k:04d}"
    try:
        write_fit_report(
            record,
            sweep if record.success else None,
            folder.parent,
            display_units=dict(task.display_units),
            name=folder.name,
        )
    except Exception as err:  # a report problem must never lose the fit result
        log.error("could not write the fit report in %s: %s: %s", folder, type(err).__name__, err)
        atomic_write_text(folder / "error.txt", f"{type(err).__name__}: {err}\n")


def load_item(
    task: ItemTask, model_key: str, block: tuple[int, int] | None = None
) -> tuple[list[Sweep], list[FitRecord]]:
    """The sweeps of the item's file, or ``([], [failed record])`` when it cannot be read."""
    inp = task.job.inputs
    assert inp is not None
    try:
        return load_sweeps(task.payload["path"], inp.format, inp.options, block), []
    except CAPTURED_ERRORS as err:
        return [], [item_failure(task, err, model_key=model_key)]


def descriptor_record(
    desc: Mapping[str, Any],
    *,
    model_key: str,
    sample_id: str = "",
    source_path: str = "",
    config_digest: str = "",
    meta: Mapping[str, Any] | None = None,
) -> FitRecord:
    """A record holding model-free numbers in ``derived`` (units from ``<name>_<unit>`` keys).

    A key ``t_c50_K`` becomes ``derived["t_c50"]`` with unit ``K`` (table column ``t_c50_K``);
    keys ending in ``_stderr`` become ``derived_stderr``; non-numeric entries go into ``meta``.
    """
    derived: dict[str, float] = {}
    dstd: dict[str, float] = {}
    dunits: dict[str, str] = {}
    other: dict[str, Any] = {}
    warn: list[str] = []
    for k, v in desc.items():
        if k == "warnings" and isinstance(v, (list, tuple)):
            warn.extend(str(w) for w in v)
            continue
        if isinstance(v, bool) or not (isinstance(v, (int, float)) or hasattr(v, "item")):
            other[k] = [float(x) for x in v] if isinstance(v, (list, tuple)) else v
            continue
        v = float(v)
        std = k.endswith("_stderr")
        base = k[: -len("_stderr")] if std else k
        try:  # "t_c50_K" is stored as t_c50 [K], so table columns read t_c50_K, not t_c50_K_K
            name, unit = units.parse_column(base)
        except units.UnitError:
            name, unit = base, ""
        if std:
            dstd[name] = v
            continue
        derived[name] = v
        dunits[name] = unit
    ok = any(math.isfinite(v) for v in derived.values())
    warn += [f"'{k}' is undefined (NaN)" for k, v in derived.items() if not math.isfinite(v)]
    return FitRecord(
        model_key=model_key,
        sample_id=sample_id,
        source_path=source_path,
        derived=derived,
        derived_stderr=dstd,
        derived_units=dunits,
        success=ok,
        message="" if ok else "no descriptor could be computed",
        warnings=tuple(warn),
        config_digest=config_digest,
        meta={**dict(meta or {}), **({"info": other} if other else {})},
    )


def without_result(records: Sequence[FitRecord]) -> list[FitRecord]:
    """The records without their lmfit result objects (what a worker sends back)."""
    return [dataclasses.replace(r, result=None) for r in records]
