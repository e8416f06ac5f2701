"""Cost of the verdict (fitkit.fitting.quality.assess) per fit, beside the fit itself.

Run ``python benchmarks/bench_verdict.py``.  For each case the script fits once, then times (medians of
``REPEATS`` calls, wall and CPU time):

* the plain lmfit fit from the same start values (the baseline, measured in the same run);
* ``assess`` on its result (noise estimate, residual tests, localisation, identifiability and, for
  correlated residuals, the AR sandwich with its finite-difference Jacobian);
* the whole ``fit_curve`` with ``uncertainty="linear"`` and with the default ``"auto"``.

Cases: ``nis`` with 1001 bias points, white noise and AR(1) noise (φ = 0.8, which triggers the sandwich);
``phase_slip_gz`` with 200 temperatures and 1.5 % multiplicative noise.  The load average is printed
because the machine may be shared.
"""

from __future__ import annotations

import os
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

import fitkit
from fitkit.fitting.fit import record_from_result
from fitkit.io.sweep import Sweep, SweepMeta

REPEATS = 15


def timed(func: Callable[[], Any], repeats: int = REPEATS) -> tuple[float, float]:
    """Median wall and CPU time [s] of ``repeats`` calls (one untimed warm-up call first)."""
    func()
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        func()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def ar1(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    e = rng.standard_normal(n)
    out = np.empty(n)
    out[0] = e[0]
    for i in range(1, n):
        out[i] = phi * out[i - 1] + np.sqrt(1 - phi * phi) * e[i]
    return out


def nis_sweep(phi: float) -> Sweep:
    rng = np.random.default_rng(3)
    m = fitkit.get_model("nis")()
    p = m.make_params(delta=0.3, gamma=0.01, temperature=0.1, g_n=1.0, bias_offset=0.0, v_mod=0.01)
    x = np.linspace(-1.2e-3, 1.2e-3, 1001)
    noise = ar1(rng, x.size, phi) if phi else rng.standard_normal(x.size)
    y = m.eval(p, bias=x) + 0.01 * noise
    return Sweep(pd.DataFrame({"bias_V": x, "dIdV_norm": y}), SweepMeta(sample_id="nis"))


def rt_sweep() -> Sweep:
    rng = np.random.default_rng(4)
    m = fitkit.get_model("phase_slip_gz")(prefactor="gz")
    p = m.make_params(g_xi=9.0, t_c=0.4, r_n=40.0)
    t = np.linspace(0.1, 0.6, 200)
    r = m.eval(p, temperature=t) * (1 + 0.015 * rng.standard_normal(t.size))
    return Sweep(pd.DataFrame({"temperature_K": t, "resistance_ohm": r}), SweepMeta(sample_id="rt"))


def main() -> None:
    warnings.simplefilter("ignore")
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} "
          f"on {os.cpu_count()} cores; medians of {REPEATS}")
    cases = [("nis 1001 pts, white", nis_sweep(0.0), "nis", {}),
             ("nis 1001 pts, AR(1) 0.8", nis_sweep(0.8), "nis", {}),
             ("phase_slip_gz 200 pts", rt_sweep(), fitkit.get_model("phase_slip_gz")(prefactor="gz"),
              {"length": {"value": 20, "vary": False}})]
    print(f"{'case':<26} {'fit ms':>14} {'verdict ms':>14} {'ratio':>6} {'fit_curve lin':>14} "
          f"{'fit_curve auto':>15}")
    for label, sweep, model, params in cases:
        rec = fitkit.fit_curve(sweep, model, params, uncertainty="linear")
        res = rec.result

        def refit(res: Any = res) -> Any:
            return res.model.fit(res.data, res.init_params, weights=res.weights, **res.userkws)

        def verdict(res: Any = res, rec: Any = rec, sweep: Sweep = sweep) -> Any:
            return record_from_result(res, model_key=rec.model_key, sweep=sweep, x_column=rec.x_column,
                                      y_column=rec.y_column, units=rec.units, uncertainty="linear")

        def whole(how: str, sweep: Sweep = sweep, model: Any = model, params: Any = params) -> Any:
            return fitkit.fit_curve(sweep, model, params, uncertainty=how)

        fw, fc = timed(refit)
        vw, vc = timed(verdict)
        lw, _ = timed(lambda: whole("linear"), 7)
        aw, _ = timed(lambda: whole("auto"), 7)
        print(f"{label:<26} {1e3 * fw:6.1f} ({1e3 * fc:5.1f}) {1e3 * vw:6.1f} ({1e3 * vc:5.1f}) "
              f"{vw / fw:6.2f} {1e3 * lw:14.1f} {1e3 * aw:15.1f}")
    print("(wall ms, CPU ms in parentheses; ratio = verdict / fit wall time; the verdict includes building "
          "the record)")


if __name__ == "__main__":
    main()
