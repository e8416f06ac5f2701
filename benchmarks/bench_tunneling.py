"""Timing of the tunnelling physics and the ``nis`` fit against a naive quad-per-bias-point reference.

Run: ``python benchmarks/bench_tunneling.py``.  Prints medians of repeated runs.  The naive
reference (one ``scipy.integrate.quad`` per bias point, nested quad for the lock-in) is far too
slow to run on every point, so it is timed on a small subset of bias points in the same run and
scaled per point; the output says so.  Goals: nis 2001 points <= 1 ms, sis 4001 points <= 5 ms,
nis fit of 1001 points <= 100 ms.
"""

from __future__ import annotations

import warnings

import numpy as np
from _timing import median_time  # benchmarks/ is on sys.path when run as a script
from scipy.integrate import IntegrationWarning, quad

from fitkit.constants import K_B_MEV_PER_K
from fitkit.models import get_model
from fitkit.models.tunneling import nis_model_conductance
from fitkit.physics.tunneling import nis_conductance, sis_conductance

REPEATS = 25


def _dos(e: float, d: float, g: float) -> float:
    w = complex(abs(e), g)
    return (w / np.sqrt(w * w - d * d)).real


def _mdf(e: float, t: float) -> float:
    x = e / (K_B_MEV_PER_K * t)
    return 1.0 / (4.0 * K_B_MEV_PER_K * t * np.cosh(0.5 * x) ** 2) if abs(x) < 700 else 0.0


def naive_nis_point(v: float, d: float, g: float, t: float, vrms: float) -> float:
    """Naive reference: thermal quad inside a lock-in quad (v = V_m sin(theta))."""
    kt = K_B_MEV_PER_K * t

    def thermal(u: float) -> float:
        lo, hi = u - 40 * kt, u + 40 * kt
        pts = [p for p in (-d, d, u) if lo < p < hi]
        return quad(lambda e: _dos(e, d, g) * _mdf(e - u, t), lo, hi, points=pts, limit=200)[0]

    if vrms <= 0:
        return thermal(v)
    vm = np.sqrt(2.0) * vrms
    return quad(lambda th: thermal(v + vm * np.sin(th)) * 2 / np.pi * np.cos(th) ** 2,
                -np.pi / 2, np.pi / 2, limit=50)[0]


def naive_sis_point(v: float, d1: float, g1: float, d2: float, g2: float, t: float) -> float:
    """Naive reference: dI/dV by central difference of two quad currents."""
    kt = K_B_MEV_PER_K * t

    def cur(u: float) -> float:
        lo, hi = min(0.0, u) - 40 * kt, max(0.0, u) + 40 * kt
        pts = sorted(p for p in {-d1, d1, u - d2, u + d2, 0.0, u} if lo < p < hi)

        def f(e: float) -> float:
            fe = 0.5 * (1 - np.tanh(0.5 * e / kt))
            fu = 0.5 * (1 - np.tanh(0.5 * (e - u) / kt))
            return _dos(e, d1, g1) * _dos(e - u, d2, g2) * (fu - fe)

        return quad(f, lo, hi, points=pts, limit=400)[0]

    h = 1e-4
    return (cur(v + h) - cur(v - h)) / (2 * h)


def main() -> None:
    """Run the three benchmarks and print medians and ratios."""
    warnings.simplefilter("ignore", IntegrationWarning)  # the naive reference is only timed here
    rng = np.random.default_rng(1)
    nis_p = (0.5, 0.02, 0.3, 0.01)  # delta, gamma [meV], T [K], V_rms [mV]
    v_nis = np.linspace(-2.0, 2.0, 2001)
    t_nis = median_time(lambda: nis_conductance(v_nis, *nis_p), REPEATS, warmup=True)
    sub = rng.choice(v_nis, 5, replace=False)
    t_ref = median_time(lambda: [naive_nis_point(v, *nis_p) for v in sub], 3, warmup=True) / sub.size
    print(f"nis_conductance, 2001 points (Delta=0.5 meV, Gamma=0.02 meV, T=0.3 K, V_rms=0.01 mV): "
          f"median {t_nis * 1e3:.3f} ms over {REPEATS} runs (goal <= 1 ms)")
    print(f"  naive quad reference (thermal quad nested in lock-in quad), timed on {sub.size} points and "
          f"scaled per point: {t_ref * 2001:.2f} s for 2001 points -> ratio {t_ref * 2001 / t_nis:.0f}x")

    sis_p = (0.19, 0.005, 0.05, 0.005, 0.1)  # delta, gamma, delta_tip, gamma_tip [meV], T [K]
    v_sis = np.linspace(-0.6, 0.6, 4001)
    t_sis = median_time(lambda: sis_conductance(v_sis, *sis_p), REPEATS, warmup=True)
    sub = rng.choice(v_sis, 4, replace=False)
    t_ref = median_time(lambda: [naive_sis_point(v, *sis_p) for v in sub], 3, warmup=True) / sub.size
    print(f"sis_conductance, 4001 points (0.19/0.05 meV, Gamma=5 ueV, T=0.1 K): median {t_sis * 1e3:.3f} ms "
          f"over {REPEATS} runs (goal <= 5 ms)")
    print(f"  naive quad reference (central difference of two quad currents), timed on {sub.size} points "
          f"and scaled: {t_ref * 4001:.2f} s for 4001 points -> ratio {t_ref * 4001 / t_sis:.0f}x")

    x = np.linspace(-2e-3, 2e-3, 1001)
    y = nis_model_conductance(x, 0.5, 0.03, 0.3, 1.2, 0.01) + rng.normal(0, 0.01, x.size)
    model = get_model("nis")()
    nfev = []

    def fit() -> None:
        p = model.guess(y, x)
        res = model.fit(y, p, bias=x)
        nfev.append(res.nfev)

    t_fit = median_time(fit, REPEATS, warmup=True)
    n_ev = int(np.median(nfev))
    sub = rng.choice(x * 1e3, 5, replace=False)
    t_pt = median_time(lambda: [naive_nis_point(v, 0.5, 0.03, 0.3, 0.0) for v in sub], 3,
                       warmup=True) / sub.size
    naive_fit = t_pt * x.size * n_ev
    print(f"nis fit (guess + leastsq, 1001 points, 5 free parameters): median {t_fit * 1e3:.1f} ms over "
          f"{REPEATS} runs, {n_ev} model evaluations (goal <= 100 ms)")
    print(f"  naive quad fit estimated as nfev x 1001 x (quad time per point, timed on {sub.size} points): "
          f"{naive_fit:.1f} s -> ratio {naive_fit / t_fit:.0f}x")


if __name__ == "__main__":
    main()
