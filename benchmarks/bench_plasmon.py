"""Timing of the plasmon-broadened S-I-S model (``sis_plasmon``).

Run: ``python benchmarks/bench_plasmon.py``.  Prints medians of repeated runs of

* one model evaluation at 2001 bias points (``resolution="fast"``, the fitting default; goal <= 20 ms)
  and the same with ``resolution="reference"``;
* one complete fit (guess + least squares) of a noisy synthetic Ti-like spectrum, 481 points (goal <= 2 s);
* a naive reference measured in the same run: the same physics on the same "fast" grid, with the
  two DOS convolutions done by direct ``np.convolve`` (O(N K)) and the current as a Python loop over
  bias points (one vectorised sum per point), then a finite-difference derivative.
"""

from __future__ import annotations

import numpy as np
from _timing import median_time  # benchmarks/ is on sys.path when run as a script

from fitkit.constants import K_B_MEV_PER_K
from fitkit.models.plasmon import SISPlasmonModel, sis_plasmon_model_conductance
from fitkit.physics.dos import dynes_dos_cell_average
from fitkit.physics.plasmon import FAST_POINTS_PER_WIDTH, environment_pe, environment_pe_tails
from fitkit.physics.thermal import THERMAL_CUTOFF, choose_grid, fermi

PARAMS = {"delta": 0.043, "g_z": 1.5, "cutoff": 0.045, "temperature": 0.021, "delta_tip": 0.19,
          "gamma_tip": 0.001}


def naive_conductance(bias_mv: np.ndarray) -> np.ndarray:
    """Same physics without FFTs: direct convolutions and a loop over bias points (reference only)."""
    p = PARAMS
    kt = K_B_MEV_PER_K * p["temperature"]
    e_max = 1.01 * (np.max(np.abs(bias_mv)) + THERMAL_CUTOFF * kt) + 0.05 * p["delta_tip"]
    grid, h = choose_grid(e_max, widths=(kt, p["gamma_tip"]), points_per_width=FAST_POINTS_PER_WIDTH)
    emission, absorption = environment_pe_tails(p["g_z"], p["cutoff"], p["temperature"])
    n_em, n_ab = int(np.ceil(emission / h)) + 1, int(np.ceil(absorption / h)) + 1
    ext = grid[0] + h * np.arange(-n_ab, grid.size + n_ab)
    nu_s = dynes_dos_cell_average(ext, h, p["delta"], 0.0)
    occ = fermi(ext, p["temperature"])
    kern = environment_pe(h * np.arange(-n_ab, n_em + 1), p["g_z"], p["cutoff"], p["temperature"])
    conv_a = np.convolve(nu_s * (1 - occ), kern)             # direct O(N K)
    corr_b = np.convolve(nu_s * occ, kern[::-1])
    i = np.arange(n_ab, n_ab + grid.size)
    nu = h * (conv_a[i + n_ab] + corr_b[i + n_em])
    nu_t = dynes_dos_cell_average(grid, h, p["delta_tip"], p["gamma_tip"])
    f = fermi(grid, p["temperature"])
    vs = np.concatenate([bias_mv - h, bias_mv + h])
    cur = np.empty(vs.size)
    for k, v in enumerate(vs):                               # one sum per bias point
        nt = np.interp(grid - v, grid, nu_t)
        ft = fermi(grid - v, p["temperature"])
        cur[k] = h * np.sum(nu * nt * (ft - f))
    return (cur[bias_mv.size:] - cur[: bias_mv.size]) / (2 * h)


def main() -> None:
    """Print the benchmark medians and ratios."""
    bias_v = np.linspace(-0.45e-3, 0.45e-3, 2001)
    sis_plasmon_model_conductance(bias_v, **PARAMS)  # warm-up
    t_fast = median_time(lambda: sis_plasmon_model_conductance(bias_v, **PARAMS), 15)
    t_ref = median_time(lambda: sis_plasmon_model_conductance(bias_v, **PARAMS, resolution="reference"), 5)
    t_naive = median_time(lambda: naive_conductance(bias_v[::10] * 1e3), 3) * 10  # 201 points, x10

    model = SISPlasmonModel()
    rng = np.random.default_rng(7)
    x = np.linspace(-0.4e-3, 0.4e-3, 481)
    pars = model.make_params()
    for k, v in {"delta": 0.043, "g_z": 1.5, "g_n": 1.01, "bias_offset": 0.0005}.items():
        pars[k].set(value=v)
    clean = model.eval(pars, bias=x)

    def one_fit() -> None:
        y = clean + 0.015 * rng.normal(size=x.size)
        model.fit(y, model.guess(y, x), bias=x, weights=np.full(x.size, 1 / 0.015))

    t_fit = median_time(one_fit, 5)
    print("sis_plasmon benchmark (medians)")
    print(f"  eval, 2001 points, resolution=fast      : {t_fast * 1e3:8.1f} ms   (goal <= 20 ms)")
    print(f"  eval, 2001 points, resolution=reference : {t_ref * 1e3:8.1f} ms")
    print(f"  naive reference (direct conv + loop), 2001 points (201 x 10): {t_naive * 1e3:8.1f} ms")
    print(f"  speed-up fast vs naive                  : {t_naive / t_fast:8.1f} x")
    print(f"  one fit (guess + leastsq), 481 points   : {t_fit:8.2f} s    (goal <= 2 s)")


if __name__ == "__main__":
    main()
