"""Job kinds: how a configured job becomes work items and how each item is computed.

A job kind is a :class:`JobKind` subclass registered with :func:`register_job_kind`:

* :meth:`JobKind.validate` returns kind-specific config problems ``(key path, message)``;
* :meth:`JobKind.expand` turns a job into :class:`ItemTask` objects (one input file, or one block
  of curves of a multi-curve file such as a grid);
* :meth:`JobKind.run_item` computes one item (it runs in a worker process: it receives only
  picklable data and returns plain :class:`FitRecord` objects);
* :meth:`JobKind.finalize` runs after all items of the run, for every job in config order: job-level
  steps (joins, series fits across the results of other jobs given in ``from:``) and item-level
  summaries (maps); it receives the run folder (``outdir``) for files it writes itself;
* :meth:`JobKind.report_section` returns the job's own HTML for ``index.html`` (series figures).

Item-level kinds here: ``fit`` and ``transition``.  Job-level kinds: ``gap_temperature`` here,
``qps_join`` and ``finkelstein`` in :mod:`fitkit.pipeline.series` (imported at the end of this module).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import re
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from fitkit.fitting.batch import CAPTURED_ERRORS, failed_record, fit_series, load_sweeps
from fitkit.fitting.record import FitRecord
from fitkit.report.writer import sha256_file

if TYPE_CHECKING:
    from fitkit.config import JobConfig, RunConfig

__all__ = [
    "ITEM_SCHEMA",
    "JOB_KINDS",
    "FitJob",
    "ItemTask",
    "JobKind",
    "TransitionJob",
    "file_hash",
    "file_sample_id",
    "item_failure",
    "item_meta",
    "load_item",
    "preprocess_sweep",
    "register_job_kind",
    "run_item",
    "write_item_report",
]

ITEM_SCHEMA = 1
"""Version of the item-result JSON layout (``items/<job>/<item_id>.json``)."""

JOB_KINDS: dict[str, JobKind] = {}
"""Registered job kinds keyed by the ``kind`` used in configs."""


def register_job_kind(cls: type[JobKind]) -> type[JobKind]:
    """Class decorator adding a job kind (an instance) to :data:`JOB_KINDS`; duplicates raise."""
    if cls.name in JOB_KINDS:
        raise ValueError(f"job kind '{cls.name}' is already registered")
    JOB_KINDS[cls.name] = cls()
    return cls


@dataclass(frozen=True)
class ItemTask:
    """One unit of work, shipped to a worker (everything in it is picklable).

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


def file_hash(path: str | Path, *, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes (hex); :func:`fitkit.report.writer.sha256_file`."""
    return sha256_file(path, chunk)


def safe_id(text: str) -> str:
    """A file-name-safe version of ``text`` (letters, digits, ``_ - .``)."""
    out = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._")
    return out or "item"


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
    return {"job": task.job.name, "item_id": task.item_id}


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
    ``sample_id`` = the item's sample id, else the file stem, ``meta`` = :func:`item_meta`.
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
        meta=item_meta(task) if meta is None else meta,
    )


def preprocess_sweep(job: JobConfig, sweep: Any) -> Any:
    """The sweep after the job's ``preprocess`` steps (the sweep itself when there are none)."""
    if not job.preprocess:
        return sweep
    from fitkit.preprocess import apply_steps

    return apply_steps(sweep, list(job.preprocess))


def write_item_report(task: ItemTask, record: FitRecord, sweep: Any, k: int, n: int) -> None:
    """Per-fit report of record ``k`` of the ``n`` of an item: ``task.fits_dir`` (``/<k:04d>`` when n > 1)."""
    from fitkit.pipeline.output import write_fit_folder

    assert task.fits_dir is not None
    sub = Path(task.fits_dir) if n == 1 else Path(task.fits_dir) / f"{k:04d}"
    write_fit_folder(record, sweep, sub, task.display_units)


def load_item(
    task: ItemTask, model_key: str, block: tuple[int, int] | None = None
) -> tuple[list[Any], list[FitRecord]]:
    """The sweeps of the item's file, or ``([], [failed record])`` when it cannot be read."""
    inp = task.job.inputs
    assert inp is not None
    try:
        return load_sweeps(task.payload["path"], inp.format, inp.options, block), []
    except CAPTURED_ERRORS as err:
        return [], [item_failure(task, err, model_key=model_key)]


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
    option_keys
        Allowed keys of the job's ``options`` mapping.
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
    item_level: ClassVar[bool] = True

    def validate(self, job: JobConfig, cfg: RunConfig) -> list[tuple[str, str]]:
        """Kind-specific problems as ``(key path relative to the job, message)``."""
        out: list[tuple[str, str]] = []
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

    def expand(self, job: JobConfig, cfg: RunConfig, hashes: dict[Path, str]) -> list[tuple[str, dict, str]]:
        """Items of the job as ``(item_id, payload, input_hash)``; one per input file by default.

        ``hashes`` caches file hashes across jobs.
        """
        if job.inputs is None:
            return []
        items: list[tuple[str, dict, str]] = []
        used: dict[str, int] = {}
        for f in job.inputs.files:
            if f.path not in hashes:
                hashes[f.path] = file_hash(f.path)
            for block in self._blocks(job, f.path):
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

    def _blocks(self, job: JobConfig, path: Path) -> list[tuple[int, int] | None]:
        bs = job.inputs.block_size if job.inputs else None
        if not bs:
            return [None]
        n = len(load_sweeps(path, job.inputs.format, job.inputs.options))
        return [(s, min(s + bs, n)) for s in range(0, n, bs)]

    def run_item(self, task: ItemTask) -> list[FitRecord]:
        """Compute one item; errors become failed records unless ``task.strict``."""
        raise NotImplementedError

    def finalize(
        self,
        job: JobConfig,
        cfg: RunConfig,
        results: Mapping[str, list[FitRecord]],
        outdir: str | os.PathLike[str] | None = None,
    ) -> list[FitRecord]:
        """Step after all items of the run; default none.

        Called for every job, in config order, after all items: job-level kinds compute their
        records here (joins, series fits), item-level kinds may add summary records (e.g. maps
        assembled from per-pixel records).  ``results`` maps job name -> records (items, then
        the records of earlier finalize steps); ``outdir`` is the run folder, for files the
        kind writes itself (e.g. ``maps/<job>/``); None when nothing should be written.
        """
        return []

    def report_section(
        self,
        job: JobConfig,
        cfg: RunConfig,
        records: Sequence[FitRecord],
        outdir: Path,
        display_units: Mapping[str, str],
    ) -> str:
        """HTML for this job's part of ``index.html`` (series plots, tables); default none.

        Figures go to ``outdir/series/<job>/`` and are referenced by relative paths.
        """
        return ""


@register_job_kind
class FitJob(JobKind):
    """Fit each input curve with the job's model (``kind: fit``)."""

    name = "fit"
    description = "fit every curve of every input file with one model"
    needs_model = True

    def run_item(self, task: ItemTask) -> list[FitRecord]:
        job = task.job
        p = task.payload
        meta = item_meta(task)
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
            meta=meta,
            on_record=(lambda _rec, sw: fitted.append(sw)) if report else None,
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
        return [dataclasses.replace(r, result=None) for r in recs]


@register_job_kind
class TransitionJob(JobKind):
    """Model-free R(T) transition descriptors of each input curve (``kind: transition``)."""

    name = "transition"
    derived_units = {"t_c50": "K", "width_10_90": "K", "t_onset": "K", "t_10": "K", "t_zero": "K",
                     "r_n": "ohm"}
    description = "model-free superconducting-transition descriptors (T_c, width, R_N) of each R(T) curve"
    option_keys = ("r_n", "n_boot", "seed")

    def validate(self, job: JobConfig, cfg: RunConfig) -> list[tuple[str, str]]:
        out = super().validate(job, cfg)
        try:
            from fitkit.analysis.transition import transition_descriptors  # noqa: F401
        except ImportError:
            out.append(("kind", "kind 'transition' needs fitkit.analysis.transition, which is not available"))
        return out

    def run_item(self, task: ItemTask) -> list[FitRecord]:
        from fitkit.analysis.transition import transition_descriptors

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
                    meta=item_meta(task),
                )
            )
        return out


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
    from fitkit import units

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


def run_item(task: ItemTask) -> dict[str, Any]:
    """Compute one item in the current process and return its JSON-ready result.

    This is the function the engine sends to worker processes (local pool or Dask). It imports
    the config's plugins, dispatches to the job kind, and never raises unless ``task.strict``.

    Returns
    -------
    dict
        ``{"schema", "job", "kind", "item_id", "config_digest", "input_hash", "status",
        "records", "started", "finished", "elapsed_s", "pid", "host"}``.
    """
    from fitkit.config import load_plugins

    started = time.time()
    if task.plugins:
        load_plugins(task.plugins)
    kind = JOB_KINDS[task.job.kind]
    try:
        records = kind.run_item(task)
    except CAPTURED_ERRORS as err:
        records = [item_failure(task, err, model_key=task.job.kind, sample_id="")]
    finished = time.time()
    return {
        "schema": ITEM_SCHEMA,
        "job": task.job.name,
        "kind": task.job.kind,
        "item_id": task.item_id,
        "config_digest": task.config_digest,
        "input_hash": task.input_hash,
        "status": "ok" if records and all(r.success for r in records) else "failed",
        "records": [r.to_dict() for r in records],
        "started": started,
        "finished": finished,
        "elapsed_s": finished - started,
        "pid": os.getpid(),
        "host": socket.gethostname(),
    }


def records_of(results: Mapping[str, Sequence[FitRecord]], names: Sequence[str]) -> list[FitRecord]:
    """Successful records of the named jobs, in order."""
    return [r for n in names for r in results.get(n, ()) if r.success]


def _param_root(name: str, root: str) -> bool:
    return name == root or name.endswith(f"_{root}") and name[: -len(root) - 1].isidentifier()


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
    option_keys = ("delta", "temperature", "group_by", "t_c_guess", "delta0_guess")

    def validate(self, job: JobConfig, cfg: RunConfig) -> list[tuple[str, str]]:
        out = super().validate(job, cfg)
        try:
            from fitkit.analysis.gap_temperature import fit_gap_temperature  # noqa: F401
        except ImportError:
            out.append(
                ("kind", "kind 'gap_temperature' needs fitkit.analysis.gap_temperature, not available")
            )
        if job.options.get("temperature", "auto") not in ("auto", "meta", "param"):
            out.append(("options.temperature", "expected 'meta', 'param' or 'auto'"))
        if job.options.get("group_by", "none") not in ("sample_id", "none"):
            out.append(("options.group_by", "expected 'sample_id' or 'none'"))
        root = job.options.get("delta", "delta")
        for dep in job.depends_on:
            src = next((j for j in cfg.jobs if j.name == dep), None)
            if src is None or src.model is None:
                continue
            from fitkit.models import get_model

            names = [
                f"{c.prefix}{s.name}" for c in src.model.components for s in get_model(c.key).param_specs
            ]
            if not any(_param_root(n, root) for n in names):
                out.append(
                    ("options.delta", f"job '{dep}' fits no parameter '{root}'; its parameters are {names}")
                )
        return out

    def finalize(
        self,
        job: JobConfig,
        cfg: RunConfig,
        results: Mapping[str, list[FitRecord]],
        outdir: str | os.PathLike[str] | None = None,
    ) -> list[FitRecord]:
        from fitkit.analysis.gap_temperature import fit_gap_temperature

        opts = dict(job.options)
        root = opts.get("delta", "delta")
        how = opts.get("temperature", "auto")
        groups: dict[str, list[tuple[float, float, float]]] = {}
        for rec in records_of(results, job.depends_on):
            dname = next((n for n in rec.values if _param_root(n, root)), None)
            if dname is None:
                continue
            t = math.nan
            if how in ("auto", "meta"):
                t = float(rec.meta.get("extra", {}).get("temperature_K", math.nan))
            if how == "param" or (how == "auto" and not math.isfinite(t)):
                t = next((v for n, v in rec.values.items() if _param_root(n, "temperature")), math.nan)
            key = rec.sample_id if opts.get("group_by", "none") == "sample_id" else "all"
            groups.setdefault(key, []).append((t, rec.values[dname], rec.stderr.get(dname, math.nan)))
        out = []
        for key, rows in groups.items():
            t, d, s = (np.array(c, dtype=float) for c in zip(*rows, strict=True))
            good = np.isfinite(s) & (s > 0)
            if good.sum() >= 3:
                t, d, sigma = t[good], d[good], s[good]
            else:
                sigma = None
            meta = {
                "job": job.name,
                "item_id": key,
                "n_spectra": len(rows),
                "n_used": int(t.size),
                "points": {
                    "temperature_K": t.tolist(),
                    "delta_meV": d.tolist(),
                    "delta_meV_stderr": (sigma.tolist() if sigma is not None else []),
                },
            }
            try:
                fit = fit_gap_temperature(
                    t, d, sigma, t_c_guess=opts.get("t_c_guess"), delta0_guess=opts.get("delta0_guess")
                )
            except CAPTURED_ERRORS as err:
                out.append(failed_record(err, model_key=self.name, sample_id=key, meta=meta))
                continue
            out.append(
                FitRecord(
                    model_key=self.name,
                    sample_id=key,
                    x_column="temperature_K",
                    y_column=f"{root}_meV",
                    values={"delta0": fit.delta0, "t_c": fit.t_c},
                    stderr={"delta0": fit.delta0_stderr, "t_c": fit.t_c_stderr},
                    units={"delta0": "meV", "t_c": "K"},
                    vary={"delta0": True, "t_c": True},
                    correlations={"delta0": {"t_c": fit.correlation}, "t_c": {"delta0": fit.correlation}},
                    derived={"gap_ratio": fit.ratio},
                    derived_stderr={"gap_ratio": fit.ratio_stderr},
                    derived_units={"gap_ratio": "1"},
                    redchi=fit.redchi,
                    ndata=fit.ndata,
                    nvarys=2,
                    success=bool(np.isfinite(fit.delta0) and np.isfinite(fit.t_c)),
                    message="BCS Delta(T) fit",
                    meta=meta,
                )
            )
        return out

    def report_section(
        self,
        job: JobConfig,
        cfg: RunConfig,
        records: Sequence[FitRecord],
        outdir: Path,
        display_units: Mapping[str, str],
    ) -> str:
        """Delta(T) points with the fitted BCS curve, one figure per group: ``series/<job>/*.png``."""
        from fitkit.physics.bcs import bcs_gap
        from fitkit.pipeline.output import figure_tag
        from fitkit.report.plots import plot_points_with_curve
        from fitkit.report.writer import atomic_write_png

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
                curve = (
                    tt,
                    bcs_gap(tt, rec.values["t_c"], rec.values["delta0"]),
                    f"BCS: Δ0 = {rec.values['delta0']:.4g} meV, T_c = {rec.values['t_c']:.4g} K",
                )
            fig = plot_points_with_curve(
                t, d, s, label="fitted gaps", curve=curve, xlabel="temperature (K)", ylabel="Δ (meV)",
                title=f"{job.name}: {rec.sample_id}",
            )
            rel = f"series/{job.name}/{safe_id(str(rec.sample_id or 'all'))}_gap_vs_T.png"
            atomic_write_png(outdir / rel, fig)
            parts.append(figure_tag(rel, f"{rec.sample_id}: {rec.message}", inline=True))
        return "\n".join(parts)


# job-level kinds across samples (qps_join, finkelstein) register themselves on import
from fitkit.pipeline import series as _series  # noqa: E402, F401
