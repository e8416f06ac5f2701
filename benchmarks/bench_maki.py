"""Timing of the Maki-DOS N-I-S conductance (``nis_maki``) and of one ``nis_maki`` fit.

Run: ``python benchmarks/bench_maki.py``.  Prints medians (wall and CPU time, ``time.process_time``) of
repeated runs and the load average (the machine is shared: compare CPU rather than wall time).

* one evaluation of :func:`fitkit.physics.maki.nis_maki_conductance` on 2001 bias points at T > 0
  (Delta = 0.3 meV, zeta = 0.05, B = 0.5 T, g = 2, b_so = 0, T = 0.3 K, V_rms = 5 uV); zeta is changed
  by 1e-9 relative between calls so that the grid cache never answers (a fit's Jacobian does hit
  it); goal <= 3 ms;
* the same with spin-orbit mixing b_so = 0.2 (no goal; the coupled solver);
* a quadrature reference: one ``scipy.integrate.quad`` per bias point of the point DOS against -f'
  (lock-in omitted), timed on 5 points and scaled to 2001, with the largest difference on those points;
* one ``fit_curve(..., "nis_maki")`` of a 401-point synthetic spectrum (the field_series generator's
  B = 0.6 T spectrum with noise 0.01; free delta, zeta, g_n, bias_offset; linear uncertainties);
  goal <= 150 ms.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.integrate import IntegrationWarning, quad

from fitkit.constants import K_B_MEV_PER_K
from fitkit.fitting.fit import fit_curve
from fitkit.io.sweep import Sweep, SweepMeta
from fitkit.physics.maki import maki_dos, nis_maki_conductance, zeeman_energy

REPEATS = 25
ROOT = Path(__file__).resolve().parents[1]


def timed(func: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``repeats`` calls (one untimed warm-up call first)."""
    func()
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        func()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def quad_point(v: float, delta: float, zeta: float, h: float, b: float, t: float) -> float:
    kt = K_B_MEV_PER_K * t

    def integrand(e: float) -> float:
        return float(maki_dos(np.array([e]), delta, zeta, h, b)[0]) / (
            4 * kt * np.cosh(0.5 * (e - v) / kt) ** 2
        )

    pts = [p for p in (delta - h, delta + h, -delta + h, -delta - h) if abs(p - v) < 30 * kt]
    return quad(integrand, v - 30 * kt, v + 30 * kt, points=pts or None, limit=200, epsabs=1e-9)[0]


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location(
        "gen_field_series", ROOT / "sample_data" / "generators" / "field_series.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    """Run the benchmarks and print medians, ratios and the load average."""
    warnings.simplefilter("ignore", IntegrationWarning)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (2 cores, shared)")
    v = np.linspace(-1.5, 1.5, 2001)
    delta, zeta, field, t, vrms = 0.3, 0.05, 0.5, 0.3, 0.005
    bump = itertools.count(1)
    wall, cpu = timed(
        lambda: nis_maki_conductance(v, delta, zeta * (1 + 1e-9 * next(bump)), field, 2.0, 0.0, 0.0, t, vrms),
        REPEATS,
    )
    print(
        f"nis_maki_conductance, 2001 points, b_so = 0 (Delta 0.3 meV, zeta 0.05, B 0.5 T, T 0.3 K, "
        f"V_rms 5 uV): median wall {wall * 1e3:.2f} ms, CPU {cpu * 1e3:.2f} ms (goal <= 3 ms)"
    )
    wall_so, cpu_so = timed(
        lambda: nis_maki_conductance(v, delta, zeta * (1 + 1e-9 * next(bump)), field, 2.0, 0.2, 0.0, t, vrms),
        7,
    )
    print(f"  same with b_so = 0.2 (coupled solver): wall {wall_so * 1e3:.1f} ms, CPU {cpu_so * 1e3:.1f} ms")

    h = zeeman_energy(field, 2.0)
    sub = np.random.default_rng(1).choice(v, 5, replace=False)
    t0, c0 = time.perf_counter(), time.process_time()
    ref = [quad_point(x, delta, zeta, h, 0.0, t) for x in sub]
    q_wall = (time.perf_counter() - t0) / sub.size * v.size
    q_cpu = (time.process_time() - c0) / sub.size * v.size
    got = nis_maki_conductance(sub, delta, zeta, field, 2.0, 0.0, 0.0, t, 0.0)
    print(
        f"quad reference (one quad per bias point, point DOS, no lock-in), scaled from 5 to 2001 points: "
        f"wall {q_wall:.1f} s, CPU {q_cpu:.1f} s -> ratio {q_cpu / cpu:.0f}x (CPU); "
        f"max |grid - quad| on the 5 points {np.max(np.abs(got - np.array(ref))):.1e}"
    )

    gen = _generator()
    vmv = np.linspace(-gen.BIAS_MAX_MV, gen.BIAS_MAX_MV, gen.N_POINTS)
    rng = np.random.default_rng(5)
    y = gen.spectrum(vmv, 0.6, 1.0, 0.002) + gen.NOISE * rng.standard_normal(vmv.size)
    sweep = Sweep(
        pd.DataFrame({"bias_V": vmv * 1e-3, "dIdV_norm": y}),
        SweepMeta(source_path="", loader="synthetic", sample_id="bench"),
    )
    params = {k: {"value": val, "vary": False} for k, val in gen.FIXED.items()}
    params["field"] = {"value": 0.6, "vary": False}
    rec = fit_curve(sweep, "nis_maki", params, uncertainty="linear")
    wall_f, cpu_f = timed(lambda: fit_curve(sweep, "nis_maki", params, uncertainty="linear"), 7)
    tr = gen.truth_at(0.6)
    print(
        f"fit_curve nis_maki, 401 points (free delta, zeta, g_n, bias_offset): "
        f"median wall {wall_f * 1e3:.0f} ms, "
        f"CPU {cpu_f * 1e3:.0f} ms (goal <= 150 ms); nfev {rec.nfev}; delta {rec.values['delta']:.5f} +- "
        f"{rec.stderr['delta']:.5f} (true {tr['delta']:.5f}), zeta {rec.values['zeta']:.4f} +- "
        f"{rec.stderr['zeta']:.4f} (true {tr['zeta']:.4f}), verdict {rec.verdict}"
    )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
