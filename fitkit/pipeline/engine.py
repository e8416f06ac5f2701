"""The batch engine: expand jobs into items, run them in parallel, keep every result, report.

Backends (identical results, since every item runs the same :func:`fitkit.pipeline.worker.run_item`):

* ``workers=1``: in this process, one item after another;
* default: a :class:`concurrent.futures.ProcessPoolExecutor` with ``workers`` (default: all
  local cores) spawned processes;
* ``scheduler="tcp://host:8786"`` (or a ``distributed.Client``): a Dask distributed cluster.
  Workers must see the input files and the output folder (shared file system).

Nothing is lost: each item's result is written atomically to ``OUT/items/<job>/<item_id>.json``
as soon as it arrives; ``resume=True`` reuses every valid item file whose config digest and
input hash still match and recomputes the rest.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import hashlib
import json
import logging
import multiprocessing
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from fitkit.config import RunConfig, load_plugins
from fitkit.errors import ConfigError, FitkitError
from fitkit.fitting.batch import CAPTURED_ERRORS, failed_record
from fitkit.fitting.record import FitRecord
from fitkit.pipeline.base import ItemTask, JobContext, item_failure
from fitkit.pipeline.output import read_item, write_run_report
from fitkit.pipeline.worker import ITEM_SCHEMA, die_with_parent, run_item
from fitkit.registry import JOB_KINDS
from fitkit.report.writer import atomic_write_json, sha256_file, write_manifest

__all__ = ["LOCK_NAME", "Failure", "RunLockedError", "RunSummary", "job_digest", "plan", "remove_stale_tmp",
           "run", "run_lock"]

log = logging.getLogger("fitkit")


@dataclass(frozen=True)
class Failure:
    """One failed record: where it came from and why."""

    job: str
    item_id: str
    source_path: str
    message: str


@dataclass(frozen=True)
class RunSummary:
    """Outcome of :func:`run`.

    Attributes
    ----------
    outdir
        The run folder.
    n_ok, n_suspect, n_failed
        Records by verdict (fits, descriptor sets, job-level results): ``ok``, ``suspect`` (the fit
        finished but is not to be trusted without a look; see ``suspects``), ``failed`` (did not
        converge, or the model grossly misses the data).
    n_items
        Work items of the run; ``n_resumed`` of them were reused from item files.
    failures
        One :class:`Failure` per failed record.
    records
        All records, items first (job order), then job-level results.
    elapsed_s
        Wall time of the run.
    """

    outdir: Path
    n_ok: int
    n_failed: int
    n_items: int = 0
    n_resumed: int = 0
    failures: tuple[Failure, ...] = ()
    records: tuple[FitRecord, ...] = field(default=(), repr=False)
    elapsed_s: float = 0.0
    n_suspect: int = 0
    suspects: tuple[Failure, ...] = ()

    @property
    def exit_code(self) -> int:
        """CLI exit code: 0 when no record failed (suspect ones included), 1 when some record failed."""
        return 1 if self.n_failed else 0


def _plugin_hashes(cfg: RunConfig) -> list[str]:
    return [sha256_file(p) for p in cfg.plugins]


def job_digest(cfg: RunConfig, job_name: str) -> str:
    """Digest of a job's settings (not its file list) and of the plugins' code.

    Two runs with equal digests compute each item identically, so an item file with the same
    digest and input hash can be reused.
    """
    d = cfg.job(job_name).to_dict()
    d.pop("plot_against", None)  # report-only: changing it must not invalidate item files
    if d.get("inputs"):
        d["inputs"] = {k: v for k, v in d["inputs"].items() if k != "files"}
    text = json.dumps(
        {"job": d, "plugins": _plugin_hashes(cfg), "item_schema": ITEM_SCHEMA}, sort_keys=True, default=str
    )
    return hashlib.sha256(text.encode()).hexdigest()


def plan(
    cfg: RunConfig,
    outdir: str | os.PathLike[str] | None = None,
    *,
    fail_fast: bool = False,
    errors: list[tuple[str, BaseException]] | None = None,
) -> list[ItemTask]:
    """All item tasks of a run, in job and file order (nothing is computed or written).

    ``errors``: when a list is given, a job whose items cannot be listed (an unreadable input,
    a grid that cannot be opened to count its curves) is appended to it as ``(job name,
    exception)`` and the other jobs are still planned; otherwise the error is raised.

    Raises
    ------
    FitkitError, OSError
        If a multi-curve file cannot be read to count its curves (``block_size``) and ``errors``
        is None.
    """
    out = Path(outdir) if outdir is not None else None
    hashes: dict[Path, str] = {}
    tasks: list[ItemTask] = []
    plugins = tuple(str(p) for p in cfg.plugins)
    for job in cfg.jobs:
        kind = JOB_KINDS[job.kind]
        if not kind.item_level:
            continue
        digest = job_digest(cfg, job.name)
        ctx = JobContext(job=job, config=cfg, outdir=out, display_units=dict(cfg.report.display_units))
        if job.inputs is not None:
            for f in job.inputs.files:  # an unreadable input fails its own item (at load), not the plan
                if f.path not in hashes:
                    try:
                        hashes[f.path] = sha256_file(f.path)
                    except OSError as err:
                        hashes[f.path] = "unreadable:" + hashlib.sha256(str(err).encode()).hexdigest()
        try:
            expanded = list(kind.expand(ctx, hashes))
        except CAPTURED_ERRORS as err:
            if errors is None or fail_fast:
                raise
            errors.append((job.name, err))
            continue
        for item_id, payload, ih in expanded:
            fits = str(out / "fits" / job.name / item_id) if (out is not None and cfg.report.plots) else None
            tasks.append(
                ItemTask(
                    job=job,
                    item_id=item_id,
                    payload=payload,
                    config_digest=digest,
                    input_hash=ih,
                    plugins=plugins,
                    fits_dir=fits,
                    display_units=dict(cfg.report.display_units),
                    strict=fail_fast,
                )
            )
    return tasks


def _item_path(outdir: Path, task: ItemTask) -> Path:
    return outdir / "items" / task.job.name / f"{task.item_id}.json"


def _reusable(doc: Mapping[str, Any] | None, task: ItemTask) -> list[FitRecord] | None:
    if not doc:
        return None
    if (
        doc.get("schema") != ITEM_SCHEMA
        or doc.get("item_id") != task.item_id
        or doc.get("config_digest") != task.config_digest
        or doc.get("input_hash") != task.input_hash
    ):
        return None
    kind = JOB_KINDS.get(task.job.kind)
    wrote = (task.fits_dir is not None and bool(getattr(kind, "writes_fit_reports", False))
             and task.payload.get("block") is None
             and any(isinstance(r, Mapping) and r.get("success") for r in doc.get("records", ())))
    if wrote:  # a fit folder that an earlier write failure left missing or incomplete
        fits = Path(str(task.fits_dir))
        if not fits.is_dir() or any(fits.rglob("error.txt")):
            return None
    try:
        return [FitRecord.from_dict(r) for r in doc["records"]]
    except (TypeError, ValueError, KeyError):
        return None


def _progress(total: int, enabled: bool, desc: str) -> Any:
    return tqdm(
        total=total, desc=desc, unit="item", disable=not (enabled and sys.stderr.isatty()), leave=False
    )


def _crashed(task: ItemTask, err: BaseException) -> dict[str, Any]:
    """The item result of a task whose worker did not return one (crash, unpicklable result)."""
    if task.strict:
        raise err
    rec = item_failure(task, err, model_key=task.job.kind)
    now = time.time()
    return {
        "schema": ITEM_SCHEMA, "job": task.job.name, "kind": task.job.kind, "item_id": task.item_id,
        "config_digest": task.config_digest, "input_hash": task.input_hash, "status": "failed",
        "records": [rec.to_dict()], "started": now, "finished": now, "elapsed_s": 0.0,
        "pid": os.getpid(), "host": socket.gethostname(),
    }


def _execute_local(tasks: list[ItemTask], workers: int, on_done: Callable[[dict[str, Any]], None]) -> None:
    # fork is fast and works from unguarded scripts and notebooks, but is unsafe once threads exist
    # (e.g. a Dask client in this process); then use spawn (scripts need the __main__ guard).
    # tqdm's monitor thread only sleeps and holds no lock we need.
    others = [
        t for t in threading.enumerate() if t is not threading.main_thread() and t.name != "tqdm_monitor"
    ]
    safe_fork = "fork" in multiprocessing.get_all_start_methods() and not others
    ctx = multiprocessing.get_context("fork" if safe_fork else "spawn")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=die_with_parent, initargs=(os.getpid(),)
    ) as pool:
        which = {pool.submit(run_item, t): t for t in tasks}
        pending = set(which)
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    try:
                        doc = fut.result()
                    except Exception as err:  # a dead worker fails its own item only
                        doc = _crashed(which[fut], err)
                    on_done(doc)
        except BaseException:
            for fut in pending:
                fut.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _execute_dask(tasks: list[ItemTask], scheduler: Any, on_done: Callable[[dict[str, Any]], None]) -> None:
    import distributed  # optional and slow to import: only for a Dask run

    own = not isinstance(scheduler, distributed.Client)
    client = distributed.Client(scheduler) if own else scheduler  # type: ignore[no-untyped-call]
    try:
        futures = [
            client.submit(run_item, t, pure=False, key=f"fitkit-{t.job.name}-{t.item_id}-{t.input_hash[:8]}")
            for t in tasks
        ]
        try:
            which = dict(zip([f.key for f in futures], tasks, strict=True))
            for fut in distributed.as_completed(futures):  # type: ignore[no-untyped-call]
                try:
                    doc = fut.result()
                except Exception as err:  # a lost worker fails its own item only
                    doc = _crashed(which[fut.key], err)
                on_done(doc)
        except BaseException:
            client.cancel(futures)
            raise
    finally:
        if own:
            client.close()


def run(
    config: RunConfig,
    outdir: str | os.PathLike[str] | None = None,
    *,
    resume: bool = False,
    workers: int | None = None,
    scheduler: Any = None,
    fail_fast: bool = False,
    progress: bool = True,
) -> RunSummary:
    """Run every job of a configuration and write the run folder.

    Parameters
    ----------
    config
        A validated configuration (:func:`fitkit.config.load_config`).
    outdir
        Run folder (created); default ``<config folder>/<name>-results``.  Layout: ``items/``,
        ``fits/``, ``plots/``, ``results.csv``, ``results.json``, ``results.h5``, ``index.html``,
        ``run.json`` (see ``docs/config.md``).
    resume
        Reuse valid item files of an earlier (possibly killed) run into the same folder.
        Without it, every item is recomputed and its file replaced.
    workers
        Local worker processes (default: all cores); ``1`` runs in this process.
    scheduler
        Address of a Dask distributed scheduler (``"tcp://127.0.0.1:8786"``) or a
        ``distributed.Client``; overrides ``workers``.
    fail_fast
        Stop at the first error and re-raise it (no result is recorded for that item).
    progress
        Show a tqdm progress bar (only when stderr is a terminal).

    Returns
    -------
    RunSummary
        ``n_failed > 0`` means the CLI exits with code 1.

    Raises
    ------
    FitkitError
        With ``fail_fast``, the first item error; otherwise only for problems before any fit
        (e.g. a grid file that cannot be opened to count its curves).
    OSError
        If the run folder cannot be written.
    """
    t0 = time.time()
    started = _dt.datetime.now(_dt.UTC)
    if outdir is None:
        outdir = config.base_dir / f"{config.name}-results"
    out = Path(outdir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    with run_lock(out):
        return _run_locked(config, out, t0, started, resume=resume, workers=workers,
                           scheduler=scheduler, fail_fast=fail_fast, progress=progress)


def _run_locked(
    config: RunConfig,
    out: Path,
    t0: float,
    started: _dt.datetime,
    *,
    resume: bool,
    workers: int | None,
    scheduler: Any,
    fail_fast: bool,
    progress: bool,
) -> RunSummary:
    if resume:
        remove_stale_tmp(out)
    if config.plugins:
        load_plugins(config.plugins)
    plan_errors: list[tuple[str, BaseException]] = []
    tasks = plan(config, out, fail_fast=fail_fast, errors=plan_errors)
    results: dict[tuple[str, str], list[FitRecord]] = {}
    todo: list[ItemTask] = []
    for t in tasks:
        path = _item_path(out, t)
        recs = _reusable(read_item(path), t) if resume and path.exists() else None
        if recs is not None:
            results[(t.job.name, t.item_id)] = recs
        else:
            todo.append(t)
    n_resumed = len(tasks) - len(todo)
    if n_resumed:
        log.info("resume: %d of %d items reused, %d to compute", n_resumed, len(tasks), len(todo))
    by_key = {(t.job.name, t.item_id): t for t in todo}
    bar = _progress(len(todo), progress, config.name)

    def on_done(doc: dict[str, Any]) -> None:
        key = (doc["job"], doc["item_id"])
        atomic_write_json(_item_path(out, by_key[key]), doc, indent=1)
        results[key] = [FitRecord.from_dict(r) for r in doc["records"]]
        bar.update(1)

    try:
        if not todo:
            pass
        elif scheduler is not None:
            _execute_dask(todo, scheduler, on_done)
        else:
            n = workers if workers is not None else (os.cpu_count() or 1)
            if n <= 1 or len(todo) == 1:
                for t in todo:
                    on_done(run_item(t))
            else:
                _execute_local(todo, min(n, len(todo)), on_done)
    finally:
        bar.close()

    ordered = [r for t in tasks for r in results.get((t.job.name, t.item_id), [])]
    for job_name, err in plan_errors:  # a job whose items could not be listed fails on its own
        log.error("job '%s' could not be planned: %s: %s", job_name, type(err).__name__, err)
        rec = failed_record(err, model_key=config.job(job_name).kind,
                            config_digest=job_digest(config, job_name),
                            source_path=str(getattr(err, "filename", "") or ""))
        ordered.append(_tag(rec, job_name))
    by_job: dict[str, list[FitRecord]] = {}
    for r in ordered:
        by_job.setdefault(str(r.meta.get("job", "")), []).append(r)
    disp = dict(config.report.display_units)
    for job in config.jobs:
        kind = JOB_KINDS[job.kind]
        ctx = JobContext(job=job, config=config, results=by_job, outdir=out, display_units=disp)
        try:
            recs = kind.finalize(ctx)
        except CAPTURED_ERRORS as err:  # one broken series step must not lose the other results
            if fail_fast:
                raise
            if not isinstance(err, FitkitError):
                log.error("job '%s' (%s) failed unexpectedly", job.name, job.kind, exc_info=err)
            recs = [failed_record(err, model_key=job.kind, config_digest=job_digest(config, job.name))]
        recs = [_tag(r, job.name) for r in recs]
        # item-level kinds keep their item records and may add summaries after them
        by_job[job.name] = [*by_job.get(job.name, []), *recs] if kind.item_level else recs
        ordered.extend(recs)

    failures = tuple(
        Failure(str(r.meta.get("job", "")), str(r.meta.get("item_id", "")), r.source_path,
                r.message if not r.success else "; ".join(r.verdict_reasons))
        for r in ordered
        if r.verdict == "failed"
    )
    suspects = tuple(
        Failure(str(r.meta.get("job", "")), str(r.meta.get("item_id", "")), r.source_path,
                "; ".join(r.verdict_reasons))
        for r in ordered
        if r.verdict == "suspect"
    )
    n_ok = sum(r.verdict == "ok" for r in ordered)
    info = {"n_ok": n_ok, "n_suspect": len(suspects), "n_failed": len(failures), "n_items": len(tasks),
            "n_resumed": n_resumed}
    write_run_report(out, config, ordered, info)
    _write_manifest(out, config, tasks, started, info, failures)
    return RunSummary(
        outdir=out,
        n_ok=n_ok,
        n_failed=len(failures),
        n_items=len(tasks),
        n_resumed=n_resumed,
        failures=failures,
        n_suspect=len(suspects),
        suspects=suspects,
        records=tuple(ordered),
        elapsed_s=time.time() - t0,
    )


LOCK_NAME = ".fitkit.lock"
"""Lock file of a run folder (JSON: pid, host, started)."""


class RunLockedError(ConfigError):
    """Another live ``fitkit run`` holds the lock of the run folder (CLI exit code 2)."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


@contextlib.contextmanager
def run_lock(out: Path) -> Any:
    """Hold ``out/.fitkit.lock`` for the duration of a run.

    The lock is created with ``O_CREAT | O_EXCL`` and holds ``{"pid", "host", "started"}``.  A lock
    of a process that no longer exists on this host is stale and taken over; a live one raises
    :class:`RunLockedError` with one sentence naming pid, host and start time.  A lock from another
    host is never taken over (remove the file by hand if that run is known to be dead).

    Raises
    ------
    RunLockedError
        If another live run holds the folder.
    """
    path = out / LOCK_NAME
    me: dict[str, Any] = {"pid": os.getpid(), "host": socket.gethostname(),
          "started": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")}
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                held = json.loads(path.read_text(encoding="utf-8"))
                pid, host, since = int(held["pid"]), str(held["host"]), str(held["started"])
            except (OSError, ValueError, KeyError, TypeError):
                # unreadable/partial lock: an owner is still writing it, or it is garbage
                if time.time() - _mtime(path) < 10:
                    time.sleep(0.5)
                    continue
                pid, host, since = -1, str(me["host"]), "?"
            if host == me["host"] and (pid <= 0 or not _pid_alive(pid)) and pid != os.getpid():
                log.warning("taking over the stale lock of %s (pid %s from %s is gone)", out, pid, since)
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                continue
            raise RunLockedError(
                f"run folder {out} is in use by another fitkit run (pid {pid} on host {host}, "
                f"started {since}); wait for it to finish, or remove {path} if that run is dead"
            ) from None
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(me, fh)
        break
    else:
        raise RunLockedError(f"could not take the lock {path} of run folder {out}")
    try:
        yield path
    finally:
        with contextlib.suppress(OSError):
            held = json.loads(path.read_text(encoding="utf-8"))
            if held.get("pid") == me["pid"] and held.get("host") == me["host"]:
                path.unlink()


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def remove_stale_tmp(out: Path) -> int:
    """Delete the temporary files (``.<name>.*.tmp``) an interrupted atomic write left in ``out``.

    Called by ``run(resume=True)`` while the folder lock is held, so no live writer owns them.
    Returns the number of files removed.
    """
    n = 0
    for p in out.rglob(".*.tmp"):
        if p.is_file() and not p.is_symlink():
            with contextlib.suppress(OSError):
                p.unlink()
                n += 1
    if n:
        log.info("resume: removed %d stale temporary file(s) in %s", n, out)
    return n


def _tag(rec: FitRecord, job: str) -> FitRecord:
    return dataclasses.replace(rec, meta={"job": job, "item_id": rec.meta.get("item_id", "_job"), **rec.meta})


def _write_manifest(
    out: Path,
    cfg: RunConfig,
    tasks: Iterable[ItemTask],
    started: _dt.datetime,
    info: Mapping[str, Any],
    failures: tuple[Failure, ...],
) -> None:
    paths: set[str] = set()
    for t in tasks:
        if "path" in t.payload:
            paths.add(str(t.payload["path"]))
        for f in t.payload.get("files", ()):  # series kinds: one item over several files
            if isinstance(f, Mapping) and "path" in f:
                paths.add(str(f["path"]))
            elif isinstance(f, (str, Path)):
                paths.add(str(f))
    inputs = sorted(paths)
    extra = {
        **info,
        "failures": [f.__dict__ for f in failures],
        "job_digests": {j.name: job_digest(cfg, j.name) for j in cfg.jobs},
    }
    write_manifest(out, cfg, inputs, started, _dt.datetime.now(_dt.UTC), extra=extra)
