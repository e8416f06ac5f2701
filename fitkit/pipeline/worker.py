"""What a worker process runs for one item: :func:`run_item` (local pool, Dask, or in-process)."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import sys
import threading
import time
from typing import Any

from fitkit.config import load_plugins
from fitkit.fitting.batch import CAPTURED_ERRORS
from fitkit.pipeline.base import ItemTask, item_failure
from fitkit.registry import JOB_KINDS

__all__ = ["ITEM_SCHEMA", "die_with_parent", "run_item"]

ITEM_SCHEMA = 1
"""Version of the item-result JSON layout (``items/<job>/<item_id>.json``)."""


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
    started = time.time()
    try:
        if task.plugins:
            load_plugins(task.plugins)
        records = JOB_KINDS[task.job.kind].run_item(task)
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


_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """Pool initializer: end this worker process when the process ``parent_pid`` dies.

    On Linux the kernel sends SIGKILL on the parent's death (``prctl(PR_SET_PDEATHSIG)``);
    everywhere a daemon thread also polls ``os.getppid()`` once a second, so a worker never
    outlives a killed ``fitkit run`` (test: ``tests/test_faults.py::test_workers_die_with_parent``).
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the polling thread below still works
            pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="fitkit-parent-watch", daemon=True).start()
