"""Cost of profile-likelihood and bootstrap intervals against the plain fit (``nis``, ``phase_slip_gz``).

Run: ``python benchmarks/bench_intervals.py [repeats]``.  For each model, on one seeded synthetic curve,
prints the median wall time and CPU time (``time.process_time``) of: one plain fit (lmfit leastsq from
the guess), one profile interval (the parameter named below), the profile of every free parameter, and one
residual bootstrap with 200 replicates; with the ratio to the plain fit measured in the same run, the
number of refits, and ``os.getloadavg()`` (the machine is shared: compare CPU rather than wall time
when the load is high).

Curves: ``nis`` 1001 bias points (Delta 0.5 meV, Gamma 0.03 meV, T 0.3 K, G_N 1.2, offset 0.01 mV,
noise 0.01 G_N; weights 1/sigma so the profile scale is 1) and ``phase_slip_gz`` 200 points (the
weak wire Ti4 design of ``sample_data/rt_wires``: g_xi 1.2, T_c 0.39 K, R_N 60 kOhm, 1.5 %
multiplicative noise, relative weights, scale = reduced chi-square) plus a 300-point strong wire
(g_xi 37.4, 0.21-0.6 K).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from _timing import median_time  # benchmarks/ is on sys.path when run as a script

from fitkit.fitting.intervals import bootstrap_intervals, profile_interval, profile_intervals
from fitkit.models import get_model
from fitkit.models.phase_slip import phase_slip_gz_ohm
from fitkit.models.tunneling import nis_model_conductance


def timed(func: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """Median (wall, CPU) seconds of ``repeats`` calls (wall through ``_timing.median_time``)."""
    cpu: list[float] = []

    def call() -> None:
        c0 = time.process_time()
        func()
        cpu.append(time.process_time() - c0)

    wall = median_time(call, repeats)
    return wall, statistics.median(cpu)


Case = tuple[str, Any, np.ndarray, np.ndarray, Any, str, str]


def _cases() -> list[Case]:
    rng = np.random.default_rng(11)
    x = np.linspace(-2e-3, 2e-3, 1001)
    sig = 0.01 * 1.2
    y = nis_model_conductance(x, 0.5, 0.03, 0.3, 1.2, 0.01) + rng.normal(0.0, sig, x.size)
    nis = get_model("nis")()
    out: list[Case] = [("nis, 1001 points", nis, x, y, np.full(x.size, 1.0 / sig), "bias", "temperature")]
    ps = get_model("phase_slip_gz")()
    for label, (g, tc, rn, tmin, n) in {
        "phase_slip_gz weak (Ti4), 200 points": (1.2, 0.39, 60.0, 0.05, 200),
        "phase_slip_gz strong (Ti1), 300 points": (37.4, 0.40, 25.0, 0.21, 300),
    }.items():
        t = np.linspace(tmin, 0.6, n)
        r = phase_slip_gz_ohm(t, g_xi=g, t_c=tc, r_n=rn) * (1.0 + 0.015 * rng.standard_normal(n))
        out.append((label, ps, t, r, ps.default_weights(t, r), "temperature", "g_xi"))
    return out


def main(repeats: int = 5) -> None:
    """Time fit, one profile, all profiles and a 200-replicate bootstrap for each case."""
    print(f"load average before: {os.getloadavg()}")
    for label, model, x, y, w, xname, pname in _cases():
        pars = model.guess(y, x)
        res = model.fit(y, pars, weights=w, **{xname: x})
        scale = 1.0 if label.startswith("nis") else float(res.redchi)

        def fit(m: Any = model, p: Any = pars, yy: np.ndarray = y, ww: Any = w, xn: str = xname,
                xx: np.ndarray = x) -> None:
            m.fit(yy, p, weights=ww, **{xn: xx})

        def one_profile(r: Any = res, n: str = pname, s: float = scale) -> None:
            profile_interval(r, n, scale=s)

        def all_profiles(r: Any = res, s: float = scale) -> None:
            profile_intervals(r, scale=s)

        def boot(r: Any = res) -> None:
            bootstrap_intervals(r, n_boot=200, seed=1)

        fit_t = timed(fit, repeats)
        one = profile_interval(res, pname, scale=scale)
        one_t = timed(one_profile, repeats)
        allp = profile_intervals(res, scale=scale)
        all_t = timed(all_profiles, repeats)
        boot_t = timed(boot, max(1, repeats // 3))
        print(f"\n{label}: {res.nvarys} free parameters, fit nfev {res.nfev}")
        rows = [
            ("plain fit (leastsq, from guess)", fit_t, ""),
            (f"one profile interval ({pname})", one_t, f"{one.refits} refits, {one.kind}"),
            ("profile of all free parameters", all_t, f"{sum(v.refits for v in allp.values())} refits"),
            ("bootstrap, 200 replicates", boot_t, "200 refits"),
        ]
        for what, (wall, cpu), note in rows:
            print(f"  {what:34s} wall {wall * 1e3:9.1f} ms  cpu {cpu * 1e3:9.1f} ms  "
                  f"x fit {cpu / fit_t[1]:6.1f} (cpu)  {note}")
        print(f"  16-file series, all parameters profiled: ~{16 * all_t[1]:.1f} s CPU")
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
