"""Timing helper shared by the benchmark scripts.

``python benchmarks/<name>.py`` puts this folder on ``sys.path``, so the scripts import it as ``_timing``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def median_time(func: Callable[[], Any], repeats: int, *, warmup: bool = False) -> float:
    """Median wall time in seconds of ``repeats`` calls of ``func`` (one untimed call first if ``warmup``)."""
    if warmup:
        func()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
