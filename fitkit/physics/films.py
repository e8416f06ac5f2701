r"""Thin films: Finkel'stein suppression of :math:`T_c` by disorder, :math:`T_c(R_\square)`.

Convention (fixed for all of fitkit): :math:`\gamma = \ln\big(\hbar/(k_BT_{c0}\tau)\big) > 0`, with
:math:`\tau` the elastic scattering time and :math:`T_{c0}` the clean critical temperature.
Finkel'stein's own variable is :math:`\gamma_F = 1/\ln(k_BT_{c0}\tau/\hbar) = -1/\gamma < 0`; the
"gamma = 1/ln(1/(T_c0 tau))" found in some briefs is :math:`1/\gamma = |\gamma_F|`.  Convert with
:func:`finkelstein_gamma` and never pass the reciprocal.

Units: resistances Ohm (per square), temperatures K, times s.

Status: formula [STD] recalled (the two published variants agree numerically); the
leading-order critical point agrees with the review's :math:`g_c = (1/2\pi)\ln^2(1/T_{c0}\tau)`
[SEED]; numbers of checks C15-C17 [DER].

References
----------
.. [1] A. M. Finkel'stein, "Suppression of superconductivity in homogeneously disordered
   systems", Physica B 197, 636 (1994); JETP Lett. 45, 46 (1987).
.. [2] B. Sacépé, M. Feigel'man and T. M. Klapwijk, "Quantum breakdown of superconductivity in
   low-dimensional materials", Nat. Phys. 16, 734 (2020).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from fitkit.constants import E_CHARGE, HBAR, K_B, R_K_OHM

__all__ = [
    "R_FINKELSTEIN_OHM",
    "finkelstein_critical_sheet_resistance",
    "finkelstein_critical_sheet_resistance_leading",
    "finkelstein_gamma",
    "finkelstein_tc",
    "finkelstein_tc_ratio",
]

R_FINKELSTEIN_OHM: float = 2.0 * math.pi**2 * HBAR / E_CHARGE**2
r""":math:`2\pi^2\hbar/e^2 = 81\,093` Ohm: :math:`r = R_\square / R_F`."""


def finkelstein_gamma(t_c0: ArrayLike, tau_s: ArrayLike) -> np.ndarray:
    r""":math:`\gamma = \ln(\hbar/(k_BT_{c0}\tau))` (dimensionless, fitkit's convention).

    Parameters
    ----------
    t_c0
        Clean critical temperature [K].
    tau_s
        Elastic scattering time [s].

    Returns
    -------
    numpy.ndarray
        :math:`\gamma` (positive for :math:`k_BT_{c0}\tau < \hbar`, the usual case; typical 5-8).
    """
    return np.log(HBAR / (K_B * np.asarray(t_c0, dtype=float) * np.asarray(tau_s, dtype=float)))


def finkelstein_tc_ratio(r_sheet: ArrayLike, gamma: ArrayLike) -> np.ndarray:
    r"""Finkel'stein :math:`T_c/T_{c0}` as a function of sheet resistance.

    .. math::
        \frac{T_c}{T_{c0}} = e^{\gamma}\left[\frac{1/\gamma + r/4 - \sqrt{r/2}}
        {1/\gamma + r/4 + \sqrt{r/2}}\right]^{1/\sqrt{2r}},\qquad
        r = \frac{e^2 R_\square}{2\pi^2\hbar} = \frac{R_\square}{81\,093\,\Omega}.

    Parameters
    ----------
    r_sheet
        Sheet resistance :math:`R_\square` [Ohm], ``>= 0``.
    gamma
        :math:`\gamma = \ln(\hbar/k_BT_{c0}\tau) > 0` (see the module docstring).

    Returns
    -------
    numpy.ndarray
        :math:`T_c/T_{c0}` in [0, 1]; 1 at :math:`R_\square = 0`; exactly 0 at and beyond the
        critical sheet resistance (:func:`finkelstein_critical_sheet_resistance`).

    Notes
    -----
    Small r: :math:`\ln(T_c/T_{c0}) \approx r\gamma^2/4 - r\gamma^3/6` (first order in r;
    tested).  Checks C15/C16: gamma = 6, R = 300/1000/2000 Ohm gives
    0.90185/0.68724/0.42066; gamma = 5 and 7 at 1000 Ohm give 0.82353 and 0.51738.

    References
    ----------
    .. [1] A. M. Finkel'stein, Physica B 197, 636 (1994).

    Examples
    --------
    >>> round(float(finkelstein_tc_ratio(1000.0, 6.0)), 5)
    0.68724
    """
    r = np.asarray(r_sheet, dtype=float) / R_FINKELSTEIN_OHM
    g = np.asarray(gamma, dtype=float)
    rs = np.where(r > 0.0, r, 1.0)
    s = np.sqrt(rs / 2.0)
    a = 1.0 / g + rs / 4.0
    # beyond the first zero r_c the bracket turns positive again at r ~ 2(1+sqrt(1-2/gamma))^2
    # (a spurious branch), so T_c is set to 0 for all r >= r_c
    r_c = finkelstein_critical_sheet_resistance(g) / R_FINKELSTEIN_OHM
    r_c = np.where(np.isnan(r_c), np.inf, r_c)
    alive = (r > 0.0) & (a - s > 0.0) & (r < r_c)
    num = np.where(alive, a - s, 1.0)
    # log form avoids overflow of e^gamma * (small)^(large)
    ln_ratio = g + np.log(num / (a + s)) / np.sqrt(2.0 * rs)
    out = np.where(alive, np.exp(np.minimum(ln_ratio, 0.0)), 0.0)
    return np.where(r <= 0.0, 1.0, out)


def finkelstein_tc(r_sheet: ArrayLike, t_c0: ArrayLike, gamma: ArrayLike) -> np.ndarray:
    r""":math:`T_c(R_\square)` in K (Finkel'stein); see :func:`finkelstein_tc_ratio`.

    Parameters
    ----------
    r_sheet
        Sheet resistance [Ohm].
    t_c0
        Clean critical temperature [K].
    gamma
        :math:`\ln(\hbar/k_BT_{c0}\tau) > 0`.

    Returns
    -------
    numpy.ndarray
        :math:`T_c` [K].
    """
    return np.asarray(t_c0, dtype=float) * finkelstein_tc_ratio(r_sheet, gamma)


def finkelstein_critical_sheet_resistance(gamma: ArrayLike) -> np.ndarray:
    r"""Exact sheet resistance at which the Finkel'stein :math:`T_c` vanishes, in Ohm.

    .. math::
        \sqrt{r_c/2} - r_c/4 = 1/\gamma \;\Rightarrow\;
        r_c = 2\big[1-\sqrt{1-2/\gamma}\big]^2,\qquad R_c = 81\,093\,\Omega\cdot r_c .

    Parameters
    ----------
    gamma
        :math:`\gamma > 2` (no zero otherwise: returns NaN).

    Returns
    -------
    numpy.ndarray
        :math:`R_c` [Ohm].  Check C17: 5 461 Ohm at gamma = 6.

    References
    ----------
    .. [1] A. M. Finkel'stein, Physica B 197, 636 (1994).
    """
    g = np.asarray(gamma, dtype=float)
    ok = g > 2.0
    root = np.sqrt(np.where(ok, 1.0 - 2.0 / np.where(ok, g, 4.0), 0.0))
    return np.where(ok, 2.0 * (1.0 - root) ** 2 * R_FINKELSTEIN_OHM, np.nan)


def finkelstein_critical_sheet_resistance_leading(gamma: ArrayLike) -> np.ndarray:
    r"""Leading-order critical sheet resistance :math:`R_c = R_K\,2\pi/\gamma^2` in Ohm.

    From the review's :math:`g_c = h/(e^2R_c) = \gamma^2/2\pi` [SEED]; equals :math:`2/\gamma^2`
    in units of :math:`r`.  About 20 % below the exact root.

    Parameters
    ----------
    gamma
        :math:`\gamma > 0`.

    Returns
    -------
    numpy.ndarray
        :math:`R_c` [Ohm].  Check C17: 4 505 Ohm at gamma = 6.

    References
    ----------
    .. [1] B. Sacépé, M. Feigel'man and T. M. Klapwijk, Nat. Phys. 16, 734 (2020).
    """
    g = np.asarray(gamma, dtype=float)
    return R_K_OHM * 2.0 * math.pi / g**2
