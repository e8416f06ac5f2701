"""Timing of the ``btk`` model: one evaluation (2001 bias points, T > 0, Gamma > 0) and one full fit.

Run: ``python benchmarks/bench_andreev.py``.  Prints medians over repeated runs and the ratio to a
naive reference measured in the same run: ``scipy.integrate.quad`` of the T = 0 Dynes-BTK spectrum
times -f' at each bias point (timed on 101 points and scaled to 2001).  Goals: evaluation <= 1 ms,
fit <= 100 ms.
"""

from __future__ import annotations

import statistics

import numpy as np
from _timing import median_time  # benchmarks/ is on sys.path when run as a script
from scipy import integrate

from fitkit.constants import K_B_MEV_PER_K
from fitkit.models.andreev import BTKModel
from fitkit.physics.andreev import btk_conductance, btk_t0

TRUTH = {"delta": 1.0, "gamma": 0.05, "z": 0.5, "temperature": 1.0, "g_n": 1.0, "bias_offset": 0.0}
BIAS_MV = np.linspace(-3.0, 3.0, 2001)


def quad_reference(bias_mv: np.ndarray, delta: float, gamma: float, z: float,
                   temperature: float) -> np.ndarray:
    """Naive reference: one adaptive quad per bias point."""
    kt = K_B_MEV_PER_K * temperature
    out = []
    for v in bias_mv:
        def integrand(e: float, v: float = v) -> float:
            return float(btk_t0(e, delta, gamma, z)) / (4 * kt * np.cosh((e - v) / (2 * kt)) ** 2)

        out.append(integrate.quad(integrand, v - 40 * kt, v + 40 * kt, points=[-delta, delta], limit=200)[0])
    return np.asarray(out)


def main() -> None:
    args = (TRUTH["delta"], TRUTH["gamma"], TRUTH["z"], TRUTH["temperature"])
    t_eval = median_time(lambda: btk_conductance(BIAS_MV, *args), 200)
    sub = BIAS_MV[::20]
    t_quad = median_time(lambda: quad_reference(sub, *args), 3) * BIAS_MV.size / sub.size
    err = np.max(np.abs(btk_conductance(sub, *args) / quad_reference(sub, *args) - 1))
    print(f"btk evaluation, 2001 points (T = 1 K, Gamma = 0.05 meV): median {t_eval * 1e3:.3f} ms "
          f"(goal <= 1 ms); quad reference {t_quad * 1e3:.0f} ms -> speed-up x{t_quad / t_eval:.0f}; "
          f"max relative deviation from quad {err:.1e}")

    model = BTKModel()
    x = BIAS_MV * 1e-3
    rng = np.random.default_rng(7)
    y = model.eval(model.make_params(**TRUTH), bias=x) + rng.normal(0, 0.01, x.size)
    nfev = []

    def one_fit() -> None:
        pars = model.guess(y, x, temperature=TRUTH["temperature"])
        pars["bias_offset"].set(vary=False)
        nfev.append(model.fit(y, pars, bias=x).nfev)

    t_fit = median_time(one_fit, 15)
    n = int(statistics.median(nfev))
    print(f"btk fit, 2001 points, 4 free parameters: median {t_fit * 1e3:.1f} ms over 15 fits "
          f"(goal <= 100 ms), median nfev {n}; the same fit with the quad reference would take "
          f"~{n * t_quad:.0f} s (x{n * t_quad / t_fit:.0f})")


if __name__ == "__main__":
    main()
