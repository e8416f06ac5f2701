r"""N-I-S and S-I-S quasiparticle tunnelling (Dynes DOS, thermal and lock-in smearing).

Units: bias in mV (so :math:`eV` in meV equals V in mV), energies in meV, temperatures in K,
lock-in modulation as an rms amplitude in mV.  Conductances are normalised, :math:`G/G_N`;
currents are returned as :math:`I R_N` in mV.

Sign convention (sample bias): V is the sample bias relative to the tip, and

.. math::
    I(V) = \frac{G_N}{e}\int dE\, N_S(E)\, N_T(E - eV)\,\left[f(E - eV) - f(E)\right],

so positive V probes empty sample states at :math:`E = +eV`.  For N-I-S, :math:`N_T = 1` and
:math:`dI/dV = G_N\int dE\,N_S(E)\,[-f'(E - eV)]`.

All integrals are done on a uniform energy grid (:mod:`fitkit.physics.thermal`) with exact
cell averages of the DOS (:func:`fitkit.physics.dos.dynes_dos_cell_average`) and FFT
convolutions; no per-bias-point quadrature.

References
----------
.. [1] I. Giaever, "Energy gap in superconductors measured by electron tunneling",
   Phys. Rev. Lett. 5, 147 (1960).
.. [2] M. Tinkham, *Introduction to Superconductivity*, 2nd ed. (McGraw-Hill, 1996), sec. 3.5.
.. [3] R. C. Dynes, V. Narayanamurti and J. P. Garno, Phys. Rev. Lett. 41, 1509 (1978).
.. [4] fitkit physics note ``spectroscopy.md`` sections 3-5 and 12 (checks 7-12).
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import fft as sfft

from fitkit.constants import K_B_MEV_PER_K
from fitkit.physics.dos import dynes_dos_cell_average, dynes_dos_cell_average_symmetric
from fitkit.physics.thermal import (
    THERMAL_CUTOFF,
    choose_grid,
    fermi,
    grid_size,
    interp_on_grid,
    interp_uniform,
    smear,
    smear_uniform,
)

__all__ = [
    "SINGULAR_POINTS_PER_WIDTH",
    "SIS_POINTS_PER_WIDTH",
    "conductance_from_current",
    "sis_grid",
    "nis_conductance",
    "sis_conductance",
    "sis_current",
    "sis_current_from_dos",
    "tunneling_grid",
]

SINGULAR_POINTS_PER_WIDTH: float = 128.0
"""Cells per smoothing width (k_B T or V_rms) when Gamma is too small to be resolved."""

_RESOLVED_POINTS_PER_WIDTH: float = 5.0
_LADDER: float = 8.0  # rungs per octave of the resolved-regime step (see tunneling_grid)

SIS_POINTS_PER_WIDTH: float = 20.0
"""Cells per (Gamma + Gamma_T) for S-I-S: where the two DOS peaks coincide (sum and difference gap)
the product of cell averages errs by O((h/Gamma)^2); 20 keeps it below ~6e-5 at the sum-gap peak."""


def _check_nonneg(where: str, **kw: float) -> None:
    bad = {k: v for k, v in kw.items() if not (np.isfinite(v) and v >= 0)}
    if bad:
        raise ValueError(f"{where}: parameters {bad} must be finite and >= 0 (meV, K, mV rms)")


def tunneling_grid(
    e_max: float, gammas: tuple[float, ...], temperature: float, v_mod_rms: float
) -> tuple[NDArray[np.float64], float]:
    r"""Energy grid for tunnelling integrals, choosing the step from the broadening regime.

    Parameters
    ----------
    e_max
        Half-range of the grid, meV, > 0.
    gammas
        Dynes broadenings of the electrodes involved, meV (>= 0).
    temperature
        Temperature, K, >= 0.
    v_mod_rms
        Lock-in modulation, rms, mV, >= 0.

    Returns
    -------
    energy_grid : numpy.ndarray
        Uniform grid, meV (see :func:`fitkit.physics.thermal.choose_grid`).
    step : float
        Spacing, meV.

    Notes
    -----
    Resolved regime (smallest Gamma >= 1/12 of the largest smoothing width
    :math:`w_s = \max(k_BT, V_{rms})`, or no smoothing): step <= min(Gamma, k_BT, V_rms)/5; the
    sharpened cell-averaged scheme is then accurate to ~5e-6 (measured).  With smoothing, the
    narrowest width is first rounded down to :math:`w_s 2^{-k/8}` (at most 9 % finer), so that the
    step, and the cached smearing kernel of :func:`~fitkit.physics.thermal.smear`, do not change
    while a fit varies Gamma by a few per cent.  Singular regime (Gamma << w_s,
    including Gamma = 0): the DOS edge is an unresolved integrable singularity and the error
    falls only as :math:`h^{1.5}`, so step = w_s/128 (relative error <~ 5e-5).  Both are capped at
    2**17 points by :func:`~fitkit.physics.thermal.choose_grid`.
    """
    n, step = _tunneling_grid_size(e_max, tuple(float(g) for g in gammas), float(temperature),
                                   float(v_mod_rms))
    return step * np.arange(-n, n + 1, dtype=float), step


def _tunneling_grid_size(e_max: float, gammas: tuple[float, ...], temperature: float,
                         v_mod_rms: float) -> tuple[int, float]:
    """``(n, step)`` of :func:`tunneling_grid` (grid ``step * arange(-n, n + 1)``), without building it."""
    kt = K_B_MEV_PER_K * temperature
    smooth = max(kt, v_mod_rms)
    gmin = min(gammas) if gammas else 0.0
    if smooth > 0 and gmin < smooth / 12.0:
        return grid_size(e_max, widths=(smooth,), points_per_width=SINGULAR_POINTS_PER_WIDTH)
    widths = [w for w in (*gammas, kt, v_mod_rms) if math.isfinite(w) and w > 0]
    if smooth > 0 and widths:
        # snap the narrowest width down to the ladder smooth * 2**(-k/8): the step (and with it the
        # cached smearing kernel) stays the same while a fit varies Gamma by less than ~9 %
        k = math.ceil(_LADDER * math.log2(smooth / min(widths)) - 1e-9)
        widths = [smooth * 2.0 ** (-k / _LADDER)]
    return grid_size(e_max, widths=widths, points_per_width=_RESOLVED_POINTS_PER_WIDTH)


def nis_conductance(
    bias: ArrayLike, delta: float, gamma: float, temperature: float, v_mod_rms: float = 0.0
) -> NDArray[np.float64]:
    r"""Normalised N-I-S tunnel conductance with a Dynes DOS, thermal and lock-in smearing.

    .. math::
        \frac{G(V)}{G_N} = \int dv\,K(v)\int dE\, N_D(E;\Delta,\Gamma)\,
        \left[-\partial_E f(E - eV - ev)\right]

    Parameters
    ----------
    bias
        Sample bias V, mV (any shape).
    delta
        Gap :math:`\Delta`, meV, >= 0.
    gamma
        Dynes broadening :math:`\Gamma`, meV, >= 0.
    temperature
        Electron temperature, K, >= 0.
    v_mod_rms
        Lock-in modulation amplitude (rms), mV, >= 0 (semicircle kernel, :math:`V_m=\sqrt2V_{rms}`).

    Returns
    -------
    numpy.ndarray
        :math:`G/G_N` (dimensionless), shape of ``bias``; even in V, -> 1 for \|V\| >> Delta.

    Raises
    ------
    ValueError
        If a parameter is negative or not finite.

    Notes
    -----
    At T = 0 and V_rms = 0 the result is the DOS itself (as a cell average when Gamma is not
    resolved, e.g. the BCS limit).  Accuracy against adaptive quadrature: <~1e-5 relative when
    Gamma is resolved (~5e-6 measured), <~5e-5 in the singular regime (see :func:`tunneling_grid`).
    Status: confirmed (standard tunnelling formula, physics note section 3).

    References
    ----------
    .. [1] M. Tinkham, *Introduction to Superconductivity*, 2nd ed. (McGraw-Hill, 1996), eq. 3.82.
    .. [2] R. C. Dynes, V. Narayanamurti and J. P. Garno, Phys. Rev. Lett. 41, 1509 (1978).

    Examples
    --------
    >>> g = nis_conductance([0.0, 0.5, 1.0], 0.5, 0.02, 0.05)
    >>> [round(float(x), 4) for x in g]
    [0.04, 2.47, 1.1544]
    """
    _check_nonneg("nis_conductance", delta=float(delta), gamma=float(gamma),
                  temperature=float(temperature), v_mod_rms=float(v_mod_rms))
    v = np.asarray(bias, dtype=float)
    kt = K_B_MEV_PER_K * float(temperature)
    reach = THERMAL_CUTOFF * kt + np.sqrt(2.0) * float(v_mod_rms)
    vmax = float(np.max(np.abs(v))) if v.size else 0.0
    e_max = 1.01 * (vmax + reach) + 0.05 * max(float(delta), float(gamma), 1e-3)
    n, step = _tunneling_grid_size(e_max, (float(gamma),), float(temperature), float(v_mod_rms))
    g = _nis_on_grid(n, step, float(delta), float(gamma), float(temperature), float(v_mod_rms))
    return interp_uniform(-n * step, step, g, v)


@functools.lru_cache(maxsize=8)
def _nis_on_grid(n: int, step: float, delta: float, gamma: float, temperature: float,
                 v_mod_rms: float) -> NDArray[np.float64]:
    """Smeared N-I-S conductance on the grid ``step * arange(-n, n + 1)`` (read-only; cached).

    A fit's finite-difference Jacobian varies G_N, V_0 and the background at the same
    (Delta, Gamma, T, V_rms) and usually the same grid; those evaluations then only interpolate.
    """
    dos = dynes_dos_cell_average_symmetric(n, step, delta, gamma)
    sharpen = max(gamma, K_B_MEV_PER_K * temperature, v_mod_rms) >= 4.0 * step
    g = smear_uniform(step, dos, temperature, v_mod_rms, cell_averages=True, sharpen=sharpen)
    g.setflags(write=False)
    return g


def sis_current_from_dos(
    energy_grid: ArrayLike,
    step: float,
    dos_sample: ArrayLike,
    dos_tip: ArrayLike,
    temperature: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    r"""Tunnel current between two electrodes from their DOS given on an energy grid.

    .. math::
        I R_N(V) = \int dE\, N_S(E)\,N_T(E - eV)\,[f(E - eV) - f(E)]
                 = \mathrm{corr}(N_S, N_T f) - \mathrm{corr}(N_S f, N_T),

    with :math:`\mathrm{corr}(a, b)(V) = \int dE\, a(E)\,b(E - eV)`, evaluated by FFT.

    Parameters
    ----------
    energy_grid
        Uniform grid symmetric about 0 (from :func:`~fitkit.physics.thermal.choose_grid` or
        :func:`tunneling_grid`), meV.
    step
        Grid spacing, meV.
    dos_sample, dos_tip
        Normalised DOS of the sample and of the tip on the grid, preferably **cell averages**
        (e.g. :func:`~fitkit.physics.dos.dynes_dos_cell_average`, or a plasmon-broadened DOS).
    temperature
        Temperature, K, >= 0 (same for both electrodes).

    Returns
    -------
    bias_grid : numpy.ndarray
        Bias values ``m * step``, mV, for \|V\| <= e_max - 38 k_B T (where the result does not
        depend on the DOS outside the grid).
    current : numpy.ndarray
        :math:`I R_N` in mV (sample bias convention; odd in V for symmetric DOS).

    Raises
    ------
    ValueError
        If the arrays do not match the grid or the temperature is negative.

    Notes
    -----
    Sum over cells of (cell average x point value of f): exact for integrable singularities of
    the DOS, :math:`O(h^2)` blur otherwise.  The Fermi factor is sampled at the nodes (0.5 at
    E = 0 when T = 0, i.e. the trapezoid end weights of the window [0, eV]).
    """
    grid = np.asarray(energy_grid, dtype=float)
    s = np.asarray(dos_sample, dtype=float)
    t = np.asarray(dos_tip, dtype=float)
    if s.shape != grid.shape or t.shape != grid.shape or grid.ndim != 1:
        raise ValueError(
            f"sis_current_from_dos: dos_sample {s.shape} and dos_tip {t.shape} must match grid {grid.shape}"
        )
    if float(temperature) < 0:
        raise ValueError(f"sis_current_from_dos: temperature must be >= 0 K, got {temperature!r}")
    h = float(step)
    n = grid.size
    f = fermi(grid, temperature)
    # corr(a, b)[m] = sum_i a[i] b[i - m] = (a conv reversed b)[m + n - 1]; one inverse FFT for both.
    size = sfft.next_fast_len(2 * n - 1, real=True)
    spec = (sfft.rfft(s, size) * sfft.rfft((t * f)[::-1], size)
            - sfft.rfft(s * f, size) * sfft.rfft(t[::-1], size))
    full = sfft.irfft(spec, size)[: 2 * n - 1] * h
    m = np.arange(-(n - 1), n)
    kt = K_B_MEV_PER_K * float(temperature)
    half = (n - 1) // 2
    mmax = half - int(np.ceil(THERMAL_CUTOFF * kt / h)) if kt > 0 else half
    keep = np.abs(m) <= max(mmax, 0)
    return np.asarray(m[keep] * h, dtype=np.float64), np.asarray(full[keep], dtype=np.float64)


def sis_grid(bias_max: float, delta: float, delta_tip: float, gamma_sum: float, temperature: float,
             v_mod_rms: float = 0.0) -> tuple[NDArray[np.float64], float, bool]:
    r"""Energy grid used for S-I-S currents up to ``bias_max`` (the grid rule of :func:`sis_current`).

    Parameters
    ----------
    bias_max
        Largest \|bias\| needed, mV.
    delta, delta_tip
        Sample and tip gaps, meV (they set a small margin).
    gamma_sum
        Sum of the two Dynes widths, meV: the sum- and difference-gap features have width
        ~ Gamma + Gamma_T whatever T is, so the step follows it as well as k_B T and V_rms.
    temperature
        K.
    v_mod_rms
        Lock-in modulation, mV rms.

    Returns
    -------
    grid, step, resolved
        Uniform energy grid (meV), its step (meV), and whether the narrowest broadening is resolved
        by at least 4 cells (then :func:`conductance_from_current` removes the O(h^2) blur).
    """
    kt = K_B_MEV_PER_K * float(temperature)
    e_max = 1.01 * (bias_max + THERMAL_CUTOFF * kt + np.sqrt(2.0) * float(v_mod_rms))
    e_max += 0.05 * max(float(delta), float(delta_tip), 1e-3)
    if gamma_sum > 0:
        grid, step = choose_grid(e_max, widths=(gamma_sum, kt, float(v_mod_rms)),
                                 points_per_width=SIS_POINTS_PER_WIDTH)
    else:
        grid, step = tunneling_grid(e_max, (0.0,), temperature, v_mod_rms)
    resolved = max(gamma_sum, kt, float(v_mod_rms)) >= 4.0 * step
    return grid, step, resolved


def conductance_from_current(vgrid: NDArray[np.float64], current: NDArray[np.float64], step: float,
                             v_mod_rms: float = 0.0, resolved: bool = True) -> NDArray[np.float64]:
    r"""dI/dV on the bias grid from a current computed with cell-averaged DOS, then lock-in smeared.

    The O(h^2) triangle blur of the cell-averaged correlation is removed when the broadening is
    resolved, the derivative is the 4th-order central difference, and the lock-in kernel is applied
    with :func:`~fitkit.physics.thermal.smear` at T = 0.

    Parameters
    ----------
    vgrid
        Uniform bias grid, mV (from :func:`sis_current_from_dos`).
    current
        :math:`I R_N` on that grid, mV.
    step
        Grid step, mV.
    v_mod_rms
        Lock-in modulation, mV rms.
    resolved
        Whether the broadening is resolved (see :func:`sis_grid`).

    Returns
    -------
    numpy.ndarray
        :math:`G/G_N` on ``vgrid``.
    """
    cur = current
    if resolved:
        p = np.pad(cur, 1, mode="edge")
        cur = cur - (2.0 / 24.0) * (p[2:] - 2.0 * cur + p[:-2])
    p = np.pad(cur, 2, mode="edge")
    g = (-p[4:] + 8.0 * p[3:-1] - 8.0 * p[1:-3] + p[:-4]) / (12.0 * step)
    # the padded edge values make the two outermost derivatives wrong; extend the interior instead
    g[:2] = g[2]
    g[-2:] = g[-3]
    if float(v_mod_rms) > 0:
        g = smear(vgrid, g, 0.0, v_mod_rms, cell_averages=False, sharpen=resolved)
    return g


def _sis_on_grid(bias_max: float, delta: float, gamma: float, delta_tip: float, gamma_tip: float,
                 temperature: float, v_mod_rms: float
                 ) -> tuple[NDArray[np.float64], NDArray[np.float64], float, bool]:
    _check_nonneg("sis", delta=float(delta), gamma=float(gamma), delta_tip=float(delta_tip),
                  gamma_tip=float(gamma_tip), temperature=float(temperature), v_mod_rms=float(v_mod_rms))
    grid, step, resolved = sis_grid(bias_max, delta, delta_tip, float(gamma) + float(gamma_tip),
                                    temperature, v_mod_rms)
    ns = dynes_dos_cell_average(grid, step, delta, gamma)
    nt = dynes_dos_cell_average(grid, step, delta_tip, gamma_tip)
    vgrid, cur = sis_current_from_dos(grid, step, ns, nt, temperature)
    return vgrid, cur, step, resolved


def sis_current(
    bias: ArrayLike, delta: float, gamma: float, delta_tip: float, gamma_tip: float, temperature: float
) -> NDArray[np.float64]:
    r"""S-I-S quasiparticle current :math:`I R_N` (mV) for two Dynes electrodes.

    .. math::
        I R_N(V) = \int dE\, N_D(E;\Delta,\Gamma)\,N_D(E - eV;\Delta_T,\Gamma_T)\,[f(E - eV) - f(E)]

    Parameters
    ----------
    bias
        Sample bias V, mV.
    delta, gamma
        Sample gap and Dynes broadening, meV, >= 0.
    delta_tip, gamma_tip
        Tip (counter-electrode) gap and broadening, meV, >= 0.
    temperature
        Temperature, K, >= 0.

    Returns
    -------
    numpy.ndarray
        :math:`I R_N` in mV, shape of ``bias``, odd in V.

    Raises
    ------
    ValueError
        If a parameter is negative or not finite.

    Notes
    -----
    T = 0, BCS: zero below :math:`\Delta+\Delta_T`, jump to :math:`(\pi/2)\sqrt{\Delta\Delta_T}`
    there, and :math:`I R_N \approx V - (\Delta^2+\Delta_T^2)/2V` at large V.  The difference-gap
    feature at \|Delta - Delta_T\| appears for T > 0.  Status: confirmed (physics note section 4).

    References
    ----------
    .. [1] M. Tinkham, *Introduction to Superconductivity*, 2nd ed. (McGraw-Hill, 1996), sec. 3.5.
    .. [2] I. Giaever and K. Megerle, "Study of superconductors by electron tunneling",
       Phys. Rev. 122, 1101 (1961).

    Examples
    --------
    >>> round(float(sis_current(2.0, 0.19, 0.0, 0.05, 0.0, 0.0)), 3)  # 2 - (0.19^2+0.05^2)/4
    1.99
    """
    v = np.asarray(bias, dtype=float)
    vmax = float(np.max(np.abs(v))) if v.size else 0.0
    vgrid, cur, _, _ = _sis_on_grid(vmax, delta, gamma, delta_tip, gamma_tip, temperature, 0.0)
    return interp_on_grid(vgrid, cur, v)


def sis_conductance(
    bias: ArrayLike,
    delta: float,
    gamma: float,
    delta_tip: float,
    gamma_tip: float,
    temperature: float,
    v_mod_rms: float = 0.0,
) -> NDArray[np.float64]:
    r"""Normalised S-I-S differential conductance :math:`G/G_N = d(IR_N)/dV`, lock-in smeared.

    Parameters
    ----------
    bias
        Sample bias V, mV.
    delta, gamma
        Sample gap and Dynes broadening, meV, >= 0.
    delta_tip, gamma_tip
        Tip gap and broadening, meV, >= 0.
    temperature
        Temperature, K, >= 0.
    v_mod_rms
        Lock-in modulation, rms, mV, >= 0.

    Returns
    -------
    numpy.ndarray
        :math:`G/G_N`, shape of ``bias``, even in V; peak at :math:`e|V| = \Delta+\Delta_T`.

    Raises
    ------
    ValueError
        If a parameter is negative or not finite.

    Notes
    -----
    The current is computed on the grid (:func:`sis_current_from_dos`), its :math:`O(h^2)`
    triangle blur removed, differentiated with the 4th-order central difference, smeared
    with the lock-in kernel (:func:`~fitkit.physics.thermal.smear` with T = 0) and interpolated.
    Physics note check 12: Delta = 0.19/0.05 meV, Gamma = 0.5 ueV, T = 21 mK peaks at 0.240 mV.

    References
    ----------
    .. [1] M. Tinkham, *Introduction to Superconductivity*, 2nd ed. (McGraw-Hill, 1996), sec. 3.5.
    .. [2] J. Klein et al., Phys. Rev. B 7, 2336 (1973) (lock-in broadening) [unverified].

    Examples
    --------
    >>> round(float(sis_conductance(3.0, 0.19, 0.001, 0.05, 0.001, 0.1)), 3)
    1.002
    """
    v = np.asarray(bias, dtype=float)
    vmax = float(np.max(np.abs(v))) if v.size else 0.0
    vgrid, cur, step, resolved = _sis_on_grid(vmax, delta, gamma, delta_tip, gamma_tip, temperature,
                                              v_mod_rms)
    return interp_on_grid(vgrid, conductance_from_current(vgrid, cur, step, v_mod_rms, resolved), v)
