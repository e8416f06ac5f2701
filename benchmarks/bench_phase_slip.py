"""Timing of the phase-slip R(T) model: one evaluation and one full fit of a 300-point curve.

Run: ``python benchmarks/bench_phase_slip.py``.  Prints medians over repeated runs and the ratio to a
naive reference measured in the same run (a pure-Python per-point loop with ``math``, wrapped in a
plain ``lmfit.Model`` for the fit).
"""

from __future__ import annotations

import math

import lmfit
import numpy as np
from _timing import median_time  # benchmarks/ is on sys.path when run as a script

from fitkit.constants import R_Q_OHM
from fitkit.models.phase_slip import PhaseSlipGZModel, phase_slip_gz_ohm
from fitkit.physics.phase_slip import C_U

TRUTH = {"g_xi": 37.4, "t_c": 0.40, "r_n": 25.0}


def naive_gz(temperature, g_xi, t_c, r_n, b=1.0, r_floor=0.0, length=20.0, xi=145.0):
    """Reference: the same formula point by point (switch included), no vectorisation, no log space."""
    out = []
    for tk in np.atleast_1d(temperature):
        t = tk / t_c
        if t >= 1.0:
            out.append(r_n * 1e3 + r_floor)
            continue
        if t <= 0.0:
            out.append(r_floor)
            continue
        u = C_U * g_xi * (1.0 - t) ** 1.5 / t
        prefactor = b * (length * 1e3 / xi) * math.sqrt(1.0 - t) * math.sqrt(u) * 8.0 / (math.pi * t)
        g_ps = math.exp(min(u, 700.0)) / (R_Q_OHM * prefactor) * (1.0 - math.exp(-u * u))
        out.append(1.0 / (1.0 / (r_n * 1e3) + g_ps) + r_floor)
    return np.asarray(out)


def main() -> None:
    rng = np.random.default_rng(7)
    t = np.linspace(0.21, 0.6, 300)
    y = phase_slip_gz_ohm(t, **TRUTH) * (1.0 + 0.015 * rng.standard_normal(t.size))
    np.testing.assert_allclose(naive_gz(t, **TRUTH), phase_slip_gz_ohm(t, **TRUTH), rtol=1e-9)

    model = PhaseSlipGZModel()
    w = model.default_weights(t, y)
    pars0 = model.guess(y, t)
    pars_eval = model.make_params(**TRUTH)

    ev = median_time(lambda: model.eval(pars_eval, temperature=t), 200)
    ev_fn = median_time(lambda: phase_slip_gz_ohm(t, **TRUTH), 200)
    ev_naive = median_time(lambda: naive_gz(t, **TRUTH), 50)
    guess = median_time(lambda: model.guess(y, t), 20)
    fit = median_time(lambda: model.fit(y, pars0, temperature=t, weights=w), 20)
    fit_guess = median_time(lambda: model.fit(y, model.guess(y, t), temperature=t, weights=w), 20)

    naive_model = lmfit.Model(naive_gz, independent_vars=["temperature"])
    npars = naive_model.make_params(**{k: pars0[k].value for k in TRUTH})
    for k in TRUTH:
        npars[k].set(min=pars0[k].min, max=pars0[k].max)
    for k in ("b", "r_floor", "length", "xi"):
        npars[k].set(value=pars0[k].value, vary=False)
    fit_naive = median_time(lambda: naive_model.fit(y, npars, temperature=t, weights=w), 5)

    print("phase_slip_gz, 300 points")
    print(f"  model.eval                 median {ev * 1e6:9.1f} us")
    print(f"  model function alone       median {ev_fn * 1e6:9.1f} us")
    ratio = ev_naive / ev_fn
    print(f"  naive per-point loop       median {ev_naive * 1e6:9.1f} us   (naive/vectorised {ratio:.0f}x)")
    print(f"  guess()                    median {guess * 1e3:9.2f} ms")
    print(f"  fit (from guess)           median {fit * 1e3:9.2f} ms")
    print(f"  guess + fit                median {fit_guess * 1e3:9.2f} ms")
    print(f"  naive-loop model fit       median {fit_naive * 1e3:9.2f} ms   (ratio {fit_naive / fit:.1f}x)")


if __name__ == "__main__":
    main()
