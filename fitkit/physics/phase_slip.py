r"""Thermally activated phase slips (TAPS) in superconducting nanowires: R(T).

Two barrier/prefactor families are provided:

* **LAMH / McCumber-Halperin in the Lau-Tinkham parametrisation** (:func:`lamh_barrier`,
  :func:`lamh_resistance`, :func:`phase_slip_resistance_lamh`), as used by the Bezryadin group.
* **The g_xi barrier with a Golubev-Zaikin-like prefactor** (:func:`gxi_barrier`,
  :func:`taps_resistance`, :func:`phase_slip_resistance_gz`), the stand-in for the fits of
  Arutyunov et al. (2021).

Units: temperatures K, lengths nm, resistances Ohm, rates 1/s.

Provenance
----------
Tags of the fitkit physics note ``transport.md``, §0; read before trusting numbers.

==================================================================  =========================================
item                                                                status
==================================================================  =========================================
rate -> resistance, :math:`R = R_Q(\hbar\Omega/k_BT)e^{-U/k_BT}`    [STD], algebra re-derived [DER]
Lau-Tinkham barrier with the coefficient 0.83                       [STD] recalled, not re-read; it is 8/3
                                                                    smaller than the note's dirty-GL value
                                                                    2.21 (unresolved)
:math:`\tau_{GL}`, McCumber-Halperin attempt frequency              [STD] recalled
normal channel in parallel with the phase-slip channel              [STD/UNCONF]
g_xi barrier :math:`U = C_U g_\xi k_BT_c(1-t)^{3/2}`,               [DER] (dirty limit, *near T_c*); its
:math:`C_U = \sqrt2\pi^2/(21\zeta(3))`, xi_GL(0) convention         use at all T is an extrapolation [UNCONF]
GZ rate exceeds MH by :math:`\sim(1-T/T_c)^{-1}`                    confirmed at abstract level [ABS]
GZ prefactor :math:`b(X/\xi(T))(U/k_BT)^{1/2}8k_BT_c/\pi\hbar`      stand-in, not the published formula
                                                                    [UNCONF]; b is an O(1) nuisance factor
near-:math:`T_c` switch ``near_tc="switch"``                        fitkit's own regularisation, in no source
                                                                    [UNCONF] (see below)
==================================================================  =========================================

**Systematic uncertainty of g_xi.**  Because the exact Golubev-Zaikin prefactor is unknown, a
factor e in the prefactor shifts the fitted g_xi by :math:`\delta g_\xi/g_\xi = k_BT/U`, about
30 % for Ti1 near 0.3 K.  Fitted g_xi values therefore carry a **tens-of-percent systematic**
on top of their statistical stderr; the published values (37.4, 9.0) cannot be reproduced
to better than that.  g_xi also depends on the coherence-length convention
(:math:`\xi_{GL}(0) = 0.8323\,\xi_0`, :math:`\xi_0=\sqrt{\hbar D/\Delta_0}`): record it.

**Behaviour at and above T_c.**  Both prefactors vanish at :math:`T_c` (MH as
:math:`(1-t)^{9/4}`, GZ as :math:`(1-t)^{5/4}`), so the *literal* formulas give a phase-slip
resistance that tends to **zero** as :math:`T\to T_c^-`, and the parallel combination then
drops to 0 just below :math:`T_c` before jumping to :math:`R_N` above it.  That is the
activation law used outside its validity (:math:`U \gg k_BT`).  With ``near_tc="switch"``
(default) the phase-slip *conductance* is multiplied by :math:`s(u)=1-e^{-u^2}`,
:math:`u=U/k_BT`: this changes R by less than 1e-5 relative wherever :math:`u \ge 3.4`
(all reference checks), and makes R rise continuously and monotonically to :math:`R_N`
at :math:`T_c`.  It is a numerical regularisation chosen by fitkit, not physics from a
paper; data with :math:`U \lesssim 2k_BT` (the last ~10-20 % below :math:`T_c`) should not
be used to pin parameters.  ``near_tc="literal"`` reproduces the bare formulas.
For :math:`T \ge T_c` the result is exactly :math:`R_N` (+ floor); for :math:`T\to 0` it tends
to the floor.  No NaN, overflow or warning is produced for any :math:`T \ge 0`.

References
----------
.. [1] J. S. Langer and V. Ambegaokar, Phys. Rev. 164, 498 (1967).
.. [2] D. E. McCumber and B. I. Halperin, Phys. Rev. B 1, 1054 (1970).
.. [3] C. N. Lau, N. Markovic, M. Bockrath, A. Bezryadin and M. Tinkham, "Quantum phase slips
   in superconducting nanowires", Phys. Rev. Lett. 87, 217003 (2001).
.. [4] M. Tinkham and C. N. Lau, Appl. Phys. Lett. 80, 2946 (2002).
.. [5] D. S. Golubev and A. D. Zaikin, "Thermally activated phase slips in superconducting
   nanowires", Phys. Rev. B 78, 144502 (2008), arXiv:0806.2959.
.. [6] K. Yu. Arutyunov, J. S. Lehtinen, A. Radkevich, A. G. Semenov and A. D. Zaikin,
   "Superconducting insulators and localization of Cooper pairs", Commun. Phys. 4, 146 (2021).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit, zeta

from fitkit.constants import HBAR, K_B, R_Q_OHM

__all__ = [
    "C_U",
    "LAU_COEFFICIENT",
    "gxi_barrier",
    "lamh_attempt_frequency",
    "lamh_barrier",
    "lamh_resistance",
    "phase_slip_resistance_gz",
    "phase_slip_resistance_lamh",
    "taps_resistance",
    "tau_gl",
]

C_U: float = math.sqrt(2.0) * math.pi**2 / (21.0 * zeta(3.0))
r"""Barrier coefficient :math:`C_U = \sqrt2\pi^2/(21\zeta(3)) = 0.55293` of the g_xi form [DER]."""

LAU_COEFFICIENT: float = 0.83
"""Coefficient of the Lau-Tinkham barrier (recalled from Lau et al. 2001, [STD])."""

Prefactor = Literal["gz", "mh"]
NearTc = Literal["switch", "literal"]


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"phase_slip: option {name}={value!r} is not one of {list(choices)}")


def _reduced(temperature: ArrayLike, t_c: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reduced temperature t, a mask of 0 < t < 1, and a safe copy of t (0.5 outside the mask)."""
    t = np.asarray(temperature, dtype=float) / np.asarray(t_c, dtype=float)
    inside = (t > 0.0) & (t < 1.0)
    return t, inside, np.where(inside, t, 0.5)


def tau_gl(temperature: ArrayLike, t_c: ArrayLike) -> np.ndarray:
    r"""Ginzburg-Landau relaxation time :math:`\tau_{GL} = \pi\hbar / (8 k_B (T_c - T))` in s.

    Parameters
    ----------
    temperature
        T [K], below ``t_c``.
    t_c
        Critical temperature [K].

    Returns
    -------
    numpy.ndarray
        :math:`\tau_{GL}` [s]; ``inf`` for :math:`T \ge T_c`.

    Notes
    -----
    [STD] (Tinkham's convention).  Check C6: T_c = 4 K, T = 3 K gives 2.9995e-12 s.

    References
    ----------
    .. [1] M. Tinkham, *Introduction to Superconductivity*, 2nd ed. (1996), §8.
    """
    dt = np.asarray(t_c, dtype=float) - np.asarray(temperature, dtype=float)
    safe = np.where(dt > 0.0, dt, 1.0)
    return np.where(dt > 0.0, math.pi * HBAR / (8.0 * K_B * safe), np.inf)


def lamh_barrier(temperature: ArrayLike, t_c: ArrayLike, r_n: ArrayLike, length_nm: ArrayLike,
                 xi0_nm: ArrayLike) -> np.ndarray:
    r"""Lau-Tinkham LAMH barrier :math:`\Delta F(T)/k_B` in K.

    .. math::
        \Delta F(T) = 0.83\, k_BT_c\, \frac{R_Q}{R_N}\, \frac{X}{\xi(0)}\, (1-t)^{3/2},
        \qquad R_Q = h/4e^2,\ t = T/T_c .

    Parameters
    ----------
    temperature
        T [K], ``>= 0``.
    t_c
        Critical temperature [K], ``> 0``.
    r_n
        Normal-state resistance of the whole wire [Ohm], ``> 0``.
    length_nm
        Wire length X [nm].
    xi0_nm
        GL coherence length extrapolated to T = 0, :math:`\xi(0)` [nm].

    Returns
    -------
    numpy.ndarray
        :math:`\Delta F/k_B` [K]; 0 for :math:`T \ge T_c`.

    Notes
    -----
    [STD] recalled (equivalent to :math:`I_c(T) = 92\,\mu A\, X T_c/(R_N\xi(0))(1-t)^{3/2}`).
    The dirty-limit GL evaluation of the physics note gives 2.21 instead of 0.83; use this
    function to reproduce Bezryadin-group numbers only.  Check C6: 8.3690 K.

    References
    ----------
    .. [1] C. N. Lau et al., Phys. Rev. Lett. 87, 217003 (2001).
    .. [2] M. Tinkham and C. N. Lau, Appl. Phys. Lett. 80, 2946 (2002).
    """
    t = np.asarray(temperature, dtype=float) / np.asarray(t_c, dtype=float)
    one_minus = np.clip(1.0 - t, 0.0, None)
    return (LAU_COEFFICIENT * np.asarray(t_c, dtype=float) * (R_Q_OHM / np.asarray(r_n, dtype=float))
            * (np.asarray(length_nm, dtype=float) / np.asarray(xi0_nm, dtype=float)) * one_minus**1.5)


def lamh_attempt_frequency(temperature: ArrayLike, t_c: ArrayLike, r_n: ArrayLike, length_nm: ArrayLike,
                           xi0_nm: ArrayLike) -> np.ndarray:
    r"""McCumber-Halperin attempt frequency :math:`\Omega = (X/\xi(T))(\Delta F/k_BT)^{1/2}/\tau_{GL}` in 1/s.

    Parameters
    ----------
    temperature, t_c, r_n, length_nm, xi0_nm
        As in :func:`lamh_barrier` (K, K, Ohm, nm, nm); :math:`\xi(T)=\xi(0)/\sqrt{1-t}`.

    Returns
    -------
    numpy.ndarray
        :math:`\Omega` [1/s] (angular); 0 for :math:`T \ge T_c` or T = 0.

    Notes
    -----
    [STD] recalled.  Check C6: 3.4802e12 1/s.

    References
    ----------
    .. [1] D. E. McCumber and B. I. Halperin, Phys. Rev. B 1, 1054 (1970).
    """
    t, inside, ts = _reduced(temperature, t_c)
    tc = np.asarray(t_c, dtype=float)
    u = lamh_barrier(ts * tc, tc, r_n, length_nm, xi0_nm) / (ts * tc)
    x_over_xi = np.asarray(length_nm, dtype=float) / np.asarray(xi0_nm, dtype=float) * np.sqrt(1.0 - ts)
    rate = x_over_xi * np.sqrt(u) * 8.0 * K_B * tc * (1.0 - ts) / (math.pi * HBAR)
    return np.where(inside, rate, 0.0)


def _ln_attempt(ts: np.ndarray, u: np.ndarray, x_over_xi: ArrayLike, b: ArrayLike,
                prefactor: str) -> np.ndarray:
    r"""ln of :math:`\hbar\Omega/k_BT` for 0 < t < 1 and u > 0 (both prefactors, dimensionless).

    :math:`\hbar\Omega_{GZ}/k_BT = b\,(X/\xi)\sqrt{1-t}\,u^{1/2}\,8/(\pi t)`; MH has an extra
    factor :math:`(1-t)`.  No physical constant enters: :math:`8k_BT_c/\pi\hbar \times \hbar/k_BT
    = 8/(\pi t)`.
    """
    ln = (np.log(np.asarray(b, dtype=float)) + np.log(np.asarray(x_over_xi, dtype=float))
          + 0.5 * np.log1p(-ts) + 0.5 * np.log(u) + math.log(8.0 / math.pi) - np.log(ts))
    if prefactor == "mh":
        ln = ln + np.log1p(-ts)
    return ln


def _total(t: np.ndarray, inside: np.ndarray, ts: np.ndarray, u: np.ndarray, r_n: ArrayLike,
           x_over_xi: ArrayLike, b: ArrayLike, r_floor: ArrayLike, prefactor: str,
           near_tc: str) -> np.ndarray:
    r""":math:`[R_N^{-1} + s(u)R_{ps}^{-1}]^{-1} + R_{floor}`, evaluated in log space (no overflow)."""
    rn = np.asarray(r_n, dtype=float)
    active = inside & (u > 0.0)
    us = np.where(active, u, 1.0)
    # z = ln(R_N / R_ps) = ln(R_N/R_Q) - ln(hbar Omega / k_B T) + U/k_B T  (+ ln s(u))
    z = np.log(rn / R_Q_OHM) - _ln_attempt(ts, us, x_over_xi, b, prefactor) + us
    if near_tc == "switch":
        z = z + np.log(-np.expm1(-us * us))
    z = np.where(active, z, np.where(t <= 0.0, np.inf, -np.inf))
    return rn * expit(-z) + np.asarray(r_floor, dtype=float)


def gxi_barrier(temperature: ArrayLike, g_xi: ArrayLike, t_c: ArrayLike) -> np.ndarray:
    r"""Phase-slip barrier in the g_xi form, :math:`U(T)/k_B = C_U\, g_\xi\, T_c\, (1-t)^{3/2}` in K.

    .. math::
        U(T) = \frac{\sqrt2}{24}\, g_\xi(T)\frac{\Delta(T)^2}{k_BT}
        \simeq C_U\, g_\xi\, k_BT_c\,(1-t)^{3/2},\qquad
        C_U = \frac{\sqrt2\,\pi^2}{21\,\zeta(3)} = 0.55293 .

    Parameters
    ----------
    temperature
        T [K], ``>= 0``.
    g_xi
        :math:`g_\xi = R_K/R_\xi` with :math:`R_\xi = R_N\xi_{GL}(0)/X` and
        :math:`R_K = h/e^2` (dimensionless, ``> 0``).  **Convention: xi_GL(0)** (dirty limit
        :math:`\xi_{GL}(0)=\sqrt{\pi\hbar D/8k_BT_c}`).  With :math:`\xi_0=\sqrt{\hbar D/\Delta_0}`
        instead the coefficient becomes 0.6644 (g_xi rescales by 0.8323).
    t_c
        Critical temperature [K], ``> 0``.

    Returns
    -------
    numpy.ndarray
        :math:`U/k_B` [K]; 0 for :math:`T \ge T_c`.

    Notes
    -----
    [DER] in the physics note (dirty-limit GL depairing current, :math:`\Delta F=\sqrt6\hbar
    I_c/2e`), valid near :math:`T_c`; using it at all T is [UNCONF].  Check C8:
    g_xi = 37.4, T_c = 0.40 K, T = 0.30 K gives 1.0340 K.

    References
    ----------
    .. [1] K. Yu. Arutyunov et al., Commun. Phys. 4, 146 (2021), Eq. (1) (definition of g_xi).
    .. [2] D. S. Golubev and A. D. Zaikin, Phys. Rev. B 78, 144502 (2008).
    """
    tc = np.asarray(t_c, dtype=float)
    one_minus = np.clip(1.0 - np.asarray(temperature, dtype=float) / tc, 0.0, None)
    return C_U * np.asarray(g_xi, dtype=float) * tc * one_minus**1.5


def taps_resistance(temperature: ArrayLike, g_xi: ArrayLike, t_c: ArrayLike, length_nm: ArrayLike,
                    xi_nm: ArrayLike, b: ArrayLike = 1.0, prefactor: Prefactor = "gz") -> np.ndarray:
    r"""Phase-slip channel alone, :math:`R_{TAPS} = R_Q (\hbar\Omega/k_BT) e^{-U/k_BT}` in Ohm.

    .. math::
        \Omega_{GZ} = b\,\frac{X}{\xi(T)}\Big(\frac{U}{k_BT}\Big)^{1/2}\frac{8k_BT_c}{\pi\hbar},
        \qquad \Omega_{MH} = \Omega_{GZ}\,(1-t),\qquad \xi(T) = \xi/\sqrt{1-t}.

    Parameters
    ----------
    temperature
        T [K], ``>= 0``.
    g_xi
        Dimensionless conductance (xi_GL(0) convention, see :func:`gxi_barrier`).
    t_c
        Critical temperature [K].
    length_nm
        Wire length X [nm].
    xi_nm
        Coherence length :math:`\xi_{GL}(0)` [nm] (sets the number X/xi(T) of independent
        segments in the prefactor).
    b
        O(1) prefactor factor (dimensionless); multiplies the attempt frequency for both choices.
    prefactor
        ``"gz"`` (Golubev-Zaikin-like stand-in [UNCONF]) or ``"mh"`` (McCumber-Halperin, [STD]).

    Returns
    -------
    numpy.ndarray
        :math:`R_{TAPS}` [Ohm]; ``inf`` where there is no barrier (:math:`T\ge T_c`), 0 at T = 0.

    Notes
    -----
    Literal formula (no near-T_c switch).  Overflows to ``inf`` silently when the activation
    exponent exceeds ~700.  See the module docstring for the provenance of each factor.

    References
    ----------
    .. [1] D. S. Golubev and A. D. Zaikin, Phys. Rev. B 78, 144502 (2008).
    .. [2] D. E. McCumber and B. I. Halperin, Phys. Rev. B 1, 1054 (1970).
    """
    _check_choice("prefactor", prefactor, ("gz", "mh"))
    t, inside, ts = _reduced(temperature, t_c)
    u = C_U * np.asarray(g_xi, dtype=float) * (1.0 - ts) ** 1.5 / ts
    active = inside & (u > 0.0)
    us = np.where(active, u, 1.0)
    x_over_xi = np.asarray(length_nm, dtype=float) / np.asarray(xi_nm, dtype=float)
    ln_r = math.log(R_Q_OHM) + _ln_attempt(ts, us, x_over_xi, b, prefactor) - us
    ln_r = np.where(active, ln_r, np.where(t <= 0.0, -np.inf, np.inf))
    with np.errstate(over="ignore"):
        return np.exp(ln_r)


def phase_slip_resistance_gz(temperature: ArrayLike, g_xi: ArrayLike, t_c: ArrayLike, r_n: ArrayLike,
                             length_nm: ArrayLike, xi_nm: ArrayLike, b: ArrayLike = 1.0,
                             r_floor: ArrayLike = 0.0, prefactor: Prefactor = "gz",
                             near_tc: NearTc = "switch") -> np.ndarray:
    r"""Total TAPS resistance of a wire, g_xi barrier, GZ-like or MH prefactor, in Ohm.

    .. math::
        R(T) = \Big[R_N^{-1} + s(u)\,R_{TAPS}^{-1}\Big]^{-1} + R_{floor},\quad
        R_{TAPS} = R_Q\frac{\hbar\Omega}{k_BT}e^{-u},\quad u = \frac{U}{k_BT}
        = \frac{C_U g_\xi (1-t)^{3/2}}{t},

    with :math:`\Omega` from :func:`taps_resistance` and :math:`s(u) = 1-e^{-u^2}`
    (``near_tc="switch"``) or :math:`s=1` (``"literal"``).

    Parameters
    ----------
    temperature
        T [K], any value ``>= 0``.
    g_xi
        Dimensionless conductance :math:`R_K/R_\xi` (xi_GL(0) convention), ``> 0``; typical 1-100.
    t_c
        Critical temperature [K], ``> 0``.
    r_n
        Normal-state resistance [Ohm], ``> 0``.
    length_nm
        Wire length X [nm].
    xi_nm
        Coherence length :math:`\xi_{GL}(0)` [nm].
    b
        O(1) attempt-frequency factor (dimensionless, ``> 0``).
    r_floor
        Residual series resistance [Ohm] (instrumental floor, not physics), ``>= 0``.
    prefactor
        ``"gz"`` (default; MH x b/(1-t), the note's §2.4 stand-in) or ``"mh"``.
    near_tc
        ``"switch"`` (default) or ``"literal"``; see the module docstring.

    Returns
    -------
    numpy.ndarray
        R [Ohm]: :math:`R_N + R_{floor}` for :math:`T\ge T_c`, :math:`\to R_{floor}` as T -> 0.

    Notes
    -----
    Only the :math:`(1-t)^{-1}` enhancement of the GZ rate over MH is confirmed [ABS]; the
    prefactor, the all-T barrier and the parallel combination are a stand-in [UNCONF].
    The fitted g_xi carries a tens-of-percent systematic from the unknown prefactor (module
    docstring).  Check C9 (``prefactor="mh"``, g_xi = 37.4, T_c = 0.40 K, R_N = 25 kOhm,
    X = 20 um, xi = 145 nm, T = 0.30 K): 11 797.6 Ohm.

    References
    ----------
    .. [1] D. S. Golubev and A. D. Zaikin, Phys. Rev. B 78, 144502 (2008), arXiv:0806.2959.
    .. [2] K. Yu. Arutyunov et al., Commun. Phys. 4, 146 (2021).

    Examples
    --------
    >>> r = phase_slip_resistance_gz(0.30, 37.4, 0.40, 25e3, 20e3, 145.0, prefactor="mh", near_tc="literal")
    >>> round(float(r), 1)
    11797.6
    """
    _check_choice("prefactor", prefactor, ("gz", "mh"))
    _check_choice("near_tc", near_tc, ("switch", "literal"))
    t, inside, ts = _reduced(temperature, t_c)
    u = C_U * np.asarray(g_xi, dtype=float) * (1.0 - ts) ** 1.5 / ts
    x_over_xi = np.asarray(length_nm, dtype=float) / np.asarray(xi_nm, dtype=float)
    return _total(t, inside, ts, u, r_n, x_over_xi, b, r_floor, prefactor, near_tc)


def lamh_resistance(temperature: ArrayLike, t_c: ArrayLike, r_n: ArrayLike, length_nm: ArrayLike,
                    xi0_nm: ArrayLike) -> np.ndarray:
    r"""LAMH phase-slip channel :math:`R_{LAMH} = R_Q(\hbar\Omega/k_BT)e^{-\Delta F/k_BT}` in Ohm.

    Parameters
    ----------
    temperature, t_c, r_n, length_nm, xi0_nm
        As in :func:`lamh_barrier` (K, K, Ohm, nm, nm).

    Returns
    -------
    numpy.ndarray
        :math:`R_{LAMH}` [Ohm] (literal formula); ``inf`` for :math:`T \ge T_c`.

    Notes
    -----
    [STD] recalled.  Checks C6/C7: 3 513.3 Ohm at 3.0 K and 4 096.0 Ohm at 3.5 K for
    T_c = 4 K, R_N = 4 kOhm, X = 100 nm, xi(0) = 8 nm.

    References
    ----------
    .. [1] C. N. Lau et al., Phys. Rev. Lett. 87, 217003 (2001).
    .. [2] D. E. McCumber and B. I. Halperin, Phys. Rev. B 1, 1054 (1970).
    """
    t, inside, ts = _reduced(temperature, t_c)
    tc = np.asarray(t_c, dtype=float)
    u = lamh_barrier(ts * tc, tc, r_n, length_nm, xi0_nm) / (ts * tc)
    active = inside & (u > 0.0)
    us = np.where(active, u, 1.0)
    x_over_xi = np.asarray(length_nm, dtype=float) / np.asarray(xi0_nm, dtype=float)
    ln_r = math.log(R_Q_OHM) + _ln_attempt(ts, us, x_over_xi, 1.0, "mh") - us
    ln_r = np.where(active, ln_r, np.where(t <= 0.0, -np.inf, np.inf))
    with np.errstate(over="ignore"):
        return np.exp(ln_r)


def phase_slip_resistance_lamh(temperature: ArrayLike, t_c: ArrayLike, r_n: ArrayLike,
                               length_nm: ArrayLike, xi0_nm: ArrayLike, r_floor: ArrayLike = 0.0,
                               near_tc: NearTc = "switch") -> np.ndarray:
    r"""Total LAMH resistance :math:`[R_N^{-1} + s(u)R_{LAMH}^{-1}]^{-1} + R_{floor}` in Ohm.

    Parameters
    ----------
    temperature
        T [K], ``>= 0``.
    t_c
        Critical temperature [K].
    r_n
        Normal-state resistance [Ohm].
    length_nm
        Wire length X [nm].
    xi0_nm
        :math:`\xi(0)` [nm] (GL-extrapolated).
    r_floor
        Residual series resistance [Ohm].
    near_tc
        ``"switch"`` (default, :math:`s = 1-e^{-u^2}`, :math:`u=\Delta F/k_BT`) or ``"literal"``
        (:math:`s = 1`, the Lau et al. combination).

    Returns
    -------
    numpy.ndarray
        R [Ohm]; :math:`R_N + R_{floor}` for :math:`T\ge T_c`, :math:`\to R_{floor}` as T -> 0.

    Notes
    -----
    [STD/UNCONF] (parallel combination recalled; R_QPS omitted as for short wires).  With
    ``near_tc="literal"``: checks C6 (1 870.4 Ohm at 3.0 K) and C7 (2 023.7 Ohm at 3.5 K).
    The switch changes C6 by 2e-4 relative and C7 strongly (:math:`u = 0.85` there): the
    LAMH formula is not valid at C7's temperature anyway.

    References
    ----------
    .. [1] C. N. Lau et al., Phys. Rev. Lett. 87, 217003 (2001).
    """
    _check_choice("near_tc", near_tc, ("switch", "literal"))
    t, inside, ts = _reduced(temperature, t_c)
    tc = np.asarray(t_c, dtype=float)
    u = lamh_barrier(ts * tc, tc, r_n, length_nm, xi0_nm) / (ts * tc)
    x_over_xi = np.asarray(length_nm, dtype=float) / np.asarray(xi0_nm, dtype=float)
    return _total(t, inside, ts, u, r_n, x_over_xi, 1.0, r_floor, "mh", near_tc)
