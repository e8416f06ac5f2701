"""Throughput of grid-map fitting: a 64 x 64 grid of 512-point ``nis`` spectra on 1 and 2 workers.

Usage::

    python benchmarks/bench_gridmap.py [--size 64] [--points 512] [--repeats 2] [--pipeline]

The grid is generated in a temporary folder with :func:`fitkit.io.nanonis_3ds.write_3ds` from
fitkit's ``nis`` model function (Delta 0.25-0.45 meV smooth map, Gamma 0.015 meV, T = 0.3 K,
V_rms = 20 uV, 2 % Gaussian noise).  Every measurement runs in a fresh subprocess so that
``ru_maxrss`` is that run's peak resident memory:

* time: :func:`fitkit.analysis.gridmap.fit_grid` (warm starts, 256-pixel blocks, the registered
  ``nis`` model with the physics layer's cached kernels, one record and verdict per pixel), median
  of ``--repeats`` runs, reported as spectra per second;
* memory: one extra run per worker count under :mod:`tracemalloc` (peak of Python allocations in
  the parent) plus ``resource.getrusage`` maxrss of the parent and of the worker processes;
* naive reference, same run: a cold-started ``lmfit.Model.fit`` of the model function
  (``nis_model_conductance``, a fresh energy grid per call) per pixel, on 64 pixels;
* ``--pipeline``: one run of the ``map`` job through :func:`fitkit.pipeline.run` (2 workers,
  including item files and the run report).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

FIXED = {"temperature": {"value": 0.3, "vary": False}, "v_mod": {"value": 0.02, "vary": False}}


def make_grid(path: Path, size: int, points: int, seed: int = 7) -> Path:
    """Write the benchmark grid (lock-in channel in A) and return its path."""
    from fitkit.io.nanonis_3ds import write_3ds
    from fitkit.models.tunneling import nis_model_conductance

    rng = np.random.default_rng(seed)
    bias = np.linspace(-2e-3, 2e-3, points)
    iy, ix = np.mgrid[0:size, 0:size] / max(size - 1, 1)
    delta = 0.25 + 0.2 * (0.5 + 0.5 * np.sin(2.5 * ix + 1.5 * iy))
    g = np.empty((size, size, points))
    for a in range(size):
        for b in range(size):
            g[a, b] = nis_model_conductance(bias, delta[a, b], 0.015, 0.3, 1.0, 0.002, 0.02, 0.0)
    v_rms = 2e-5
    li = 1e-9 * v_rms * (g + rng.normal(0.0, 0.02, g.shape))
    return write_3ds(path, bias, {"LI Demod 1 X (A)": li},
                     header={"Comment01": "T=300mK", "Lock-in>Amplitude": f"{np.sqrt(2) * v_rms:.6E}"})


def child(path: str, workers: int, trace: bool) -> dict[str, float]:
    """One measurement in this (fresh) process."""
    from fitkit.analysis.gridmap import fit_grid

    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    maps = fit_grid(path, params=FIXED, workers=workers)
    dt = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] if trace else float("nan")
    if trace:
        tracemalloc.stop()
    return {
        "elapsed_s": dt,
        "n": int(maps.sizes["y"] * maps.sizes["x"]),
        "success": float(maps["success"].values.mean()),
        "nfev_mean": float(maps["nfev"].values.mean()),
        "traced_peak_MB": peak / 2**20,
        "maxrss_self_MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "maxrss_children_MB": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def naive(path: str, n: int = 64) -> float:
    """Spectra per second of cold-started lmfit Model.fit calls on the model function."""
    from fitkit.io.nanonis_3ds import open_grid
    from fitkit.models import apply_overrides, get_model

    ds = open_grid(path)
    x = ds["bias_V"].values
    y = np.asarray(ds["li_demod_1_x_A"].values.reshape(-1, x.size)[:n], dtype=float)
    model = get_model("nis")()
    t0 = time.perf_counter()
    for row in y:
        s = float(np.median(np.r_[row[:50], row[-50:]]))
        pars = apply_overrides(model.guess(row / s, x, temperature=0.3), FIXED)
        model.fit(row / s, pars, bias=x)
    return n / (time.perf_counter() - t0)


def pipeline_run(path: str, workers: int) -> dict[str, float]:
    """Run the ``map`` job through the pipeline engine; seconds and spectra per second."""
    from fitkit.config import validate_config
    from fitkit.pipeline import run

    folder = Path(path).parent
    raw = {"schema_version": 1, "name": "bench", "report": {"plots": False},
           "jobs": [{"name": "gapmap", "kind": "map", "inputs": {"files": Path(path).name},
                     "model": "nis", "params": {"temperature": {"value": 0.3, "vary": False},
                                                "v_mod": {"value": 0.02, "vary": False}}}]}
    cfg = validate_config(raw, folder)
    t0 = time.perf_counter()
    s = run(cfg, folder / "run", workers=workers, progress=False)
    dt = time.perf_counter() - t0
    n = sum(1 for r in s.records if "iy" in r.meta)
    return {"elapsed_s": dt, "n": n, "spectra_per_s": n / dt}


def _spawn(args: list[str]) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--points", type=int, default=512)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--pipeline", action="store_true")
    ap.add_argument("--child", nargs=3, metavar=("PATH", "WORKERS", "TRACE"), help=argparse.SUPPRESS)
    ap.add_argument("--naive", metavar="PATH", help=argparse.SUPPRESS)
    ap.add_argument("--pipe", nargs=2, metavar=("PATH", "WORKERS"), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        print(json.dumps(child(a.child[0], int(a.child[1]), a.child[2] == "1")))
        return 0
    if a.naive:
        print(json.dumps({"spectra_per_s": naive(a.naive)}))
        return 0
    if a.pipe:
        print(json.dumps(pipeline_run(a.pipe[0], int(a.pipe[1]))))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        path = str(make_grid(Path(tmp) / "bench.3ds", a.size, a.points))
        print(f"grid {a.size}x{a.size} x {a.points} points ({os.path.getsize(path) / 2**20:.1f} MB) "
              f"written in {time.perf_counter() - t0:.1f} s; cores: {os.cpu_count()}")
        rows = {}
        for w in (1, 2):
            runs = [_spawn(["--child", path, str(w), "0"]) for _ in range(a.repeats)]
            mem = _spawn(["--child", path, str(w), "1"])
            med = statistics.median(r["elapsed_s"] for r in runs)
            rows[w] = {"median_s": med, "spectra_per_s": runs[0]["n"] / med,
                       "best_per_s": runs[0]["n"] / min(r["elapsed_s"] for r in runs),
                       "runs_s": [r["elapsed_s"] for r in runs], "success": runs[0]["success"],
                       "nfev_mean": runs[0]["nfev_mean"],
                       **{k: mem[k] for k in ("traced_peak_MB", "maxrss_self_MB", "maxrss_children_MB")}}
        nv = _spawn(["--naive", path])["spectra_per_s"]
        print(f"{'workers':>7} {'median s':>9} {'spectra/s':>10} {'best /s':>8} {'vs naive':>9} "
              f"{'success':>8} {'nfev':>6} "
              f"{'traced MB':>10} {'rss MB':>8} {'rss wrk MB':>10}")
        for w, r in rows.items():
            ratio = r["spectra_per_s"] / nv
            print(f"{w:>7} {r['median_s']:>9.2f} {r['spectra_per_s']:>10.1f} {r['best_per_s']:>8.1f} "
                  f"{ratio:>8.1f}x "
                  f"{r['success']:>8.3f} {r['nfev_mean']:>6.1f} {r['traced_peak_MB']:>10.1f} "
                  f"{r['maxrss_self_MB']:>8.1f} {r['maxrss_children_MB']:>10.1f}")
        print(f"naive cold-start lmfit Model.fit (64 pixels): {nv:.1f} spectra/s")
        runs1 = ", ".join(f"{t:.1f}" for t in rows[1]["runs_s"])
        runs2 = ", ".join(f"{t:.1f}" for t in rows[2]["runs_s"])
        print(f"scaling 1 -> 2 workers: {rows[2]['spectra_per_s'] / rows[1]['spectra_per_s']:.2f}x median, "
              f"{rows[2]['best_per_s'] / rows[1]['best_per_s']:.2f}x best "
              f"(runs: 1 worker {runs1} s; 2 workers {runs2} s)")
        print(f"load average during the run: {os.getloadavg()[0]:.2f} (2 cores shared with other users)")
        if a.pipeline:
            p = _spawn(["--pipe", path, "2"])
            print(f"pipeline 'map' job, 2 workers (items, report): {p['elapsed_s']:.1f} s, "
                  f"{p['spectra_per_s']:.1f} spectra/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
