r"""Derived quantities of a superconducting nanowire: g_xi, kinetic inductance, impedance, g_Z, L_c.

Units: resistances Ohm, lengths nm (wire length too), energies meV, temperatures K,
capacitance per length pF/m (typical tens of pF/m), inductance per length H/m, velocity m/s.

Two resistance quanta appear and are kept apart (physics note §1):
:data:`fitkit.constants.R_K_OHM` = h/e^2 = 25 812.807 Ohm (Zaikin/Arutyunov's "R_q", used in
g_xi and g_Z here) and :data:`fitkit.constants.R_Q_OHM` = h/4e^2 = 6 453.202 Ohm (Lau/Tinkham's
"R_q", used in the LAMH formula of :mod:`fitkit.physics.phase_slip`).

References
----------
.. [1] K. Yu. Arutyunov, J. S. Lehtinen, A. Radkevich, A. G. Semenov and A. D. Zaikin,
   "Superconducting insulators and localization of Cooper pairs", Commun. Phys. 4, 146 (2021),
   Eqs. (1)-(3).
.. [2] J. E. Mooij and G. Schön, "Propagating plasma mode in thin superconducting filaments",
   Phys. Rev. Lett. 55, 114 (1985).
.. [3] D. C. Mattis and J. Bardeen, Phys. Rev. 111, 412 (1958) (local-limit kinetic inductance).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from fitkit.constants import E_CHARGE, HBAR, K_B_MEV_PER_K, R_K_OHM

__all__ = [
    "G_Z_SIT",
    "g_xi_from_geometry",
    "g_z_from_wire",
    "kinetic_inductance_per_length",
    "plasmon_velocity",
    "qps_length",
    "qps_length_with_error",
    "qps_regime",
    "r_xi",
    "wire_impedance",
]

G_Z_SIT: float = 16.0
"""g_Z at the superconductor-insulator transition (T -> 0) [SEED]."""

_PF = 1e-12  # pF -> F
_NM = 1e-9   # nm -> m
_MEV_J = 1e-3 * E_CHARGE  # meV -> J


def r_xi(r_n: ArrayLike, length_nm: ArrayLike, xi_nm: ArrayLike) -> np.ndarray:
    r"""Normal resistance of one coherence length of wire, :math:`R_\xi = R_N\xi/X`, in Ohm.

    Parameters
    ----------
    r_n
        Normal-state resistance of the whole wire [Ohm].
    length_nm
        Wire length X [nm].
    xi_nm
        Coherence length [nm]; state the convention (xi_GL(0) or xi_0 = sqrt(hbar D/Delta_0)).

    Returns
    -------
    numpy.ndarray
        :math:`R_\xi` [Ohm].

    Notes
    -----
    [SEED] (Eq. 1 of Arutyunov et al. 2021).

    Examples
    --------
    >>> float(r_xi(25e3, 20e3, 145.0))
    181.25
    """
    return np.asarray(r_n, dtype=float) * np.asarray(xi_nm, dtype=float) / np.asarray(length_nm, dtype=float)


def g_xi_from_geometry(r_n: ArrayLike, length_nm: ArrayLike, xi_nm: ArrayLike) -> np.ndarray:
    r"""Dimensionless conductance :math:`g_\xi = R_K/R_\xi = R_K X/(R_N\xi)`, :math:`R_K = h/e^2`.

    Parameters
    ----------
    r_n
        Normal-state resistance [Ohm].
    length_nm
        Wire length X [nm].
    xi_nm
        Coherence length [nm].  g_xi scales as 1/xi: xi_GL(0) = 0.8323 xi_0 in the dirty limit.

    Returns
    -------
    numpy.ndarray
        :math:`g_\xi` (dimensionless).

    Notes
    -----
    [SEED].  The g_xi fitted from R(T) need not equal this geometric value (cross-section
    non-uniformity, prefactor systematics; see :mod:`fitkit.physics.phase_slip`).
    """
    return R_K_OHM / r_xi(r_n, length_nm, xi_nm)


def kinetic_inductance_per_length(r_n: ArrayLike, length_nm: ArrayLike, delta_mev: ArrayLike,
                                  temperature: ArrayLike = 0.0) -> np.ndarray:
    r"""Dirty-BCS kinetic inductance per unit length in H/m.

    .. math::
        \mathcal{L} = \frac{\hbar R_1}{\pi\Delta\tanh(\Delta/2k_BT)},\qquad R_1 = R_N/X .

    Parameters
    ----------
    r_n
        Normal-state resistance [Ohm].
    length_nm
        Wire length X [nm].
    delta_mev
        Gap :math:`\Delta(T)` [meV], ``> 0``.
    temperature
        T [K], ``>= 0`` (T = 0 gives :math:`\hbar R_1/\pi\Delta`).

    Returns
    -------
    numpy.ndarray
        :math:`\mathcal{L}` [H/m].

    Notes
    -----
    [STD] (Mattis-Bardeen local limit).  Check C18: R_N = 40 kOhm, X = 20 um,
    Delta = 50 ueV, T = 0 gives 8.381 mH/m.

    References
    ----------
    .. [1] D. C. Mattis and J. Bardeen, Phys. Rev. 111, 412 (1958).
    """
    r1 = np.asarray(r_n, dtype=float) / (np.asarray(length_nm, dtype=float) * _NM)
    d = np.asarray(delta_mev, dtype=float)
    tt = np.asarray(temperature, dtype=float)
    with np.errstate(divide="ignore"):
        x = np.where(tt > 0.0, d / (2.0 * K_B_MEV_PER_K * np.where(tt > 0.0, tt, 1.0)), np.inf)
    return HBAR * r1 / (np.pi * d * _MEV_J * np.tanh(x))


def wire_impedance(l_per_m: ArrayLike, capacitance_pf_per_m: ArrayLike) -> np.ndarray:
    r"""Wire (transmission-line) impedance :math:`Z = \sqrt{\mathcal{L}/\mathcal{C}}` in Ohm.

    Parameters
    ----------
    l_per_m
        Kinetic inductance per length [H/m].
    capacitance_pf_per_m
        Geometric capacitance per length [pF/m].

    Returns
    -------
    numpy.ndarray
        Z [Ohm].  The dimensionless admittance is :math:`g_Z = R_K/Z` [SEED].
    """
    return np.sqrt(np.asarray(l_per_m, dtype=float) / (np.asarray(capacitance_pf_per_m, dtype=float) * _PF))


def plasmon_velocity(l_per_m: ArrayLike, capacitance_pf_per_m: ArrayLike) -> np.ndarray:
    r"""Mooij-Schön plasmon velocity :math:`v = 1/\sqrt{\mathcal{L}\mathcal{C}}` in m/s.

    Parameters
    ----------
    l_per_m
        Kinetic inductance per length [H/m].
    capacitance_pf_per_m
        Capacitance per length [pF/m].

    Returns
    -------
    numpy.ndarray
        v [m/s].  Check C18: 1.545e6 m/s.

    References
    ----------
    .. [1] J. E. Mooij and G. Schön, Phys. Rev. Lett. 55, 114 (1985).
    """
    c_per_m = np.asarray(capacitance_pf_per_m, dtype=float) * _PF
    return 1.0 / np.sqrt(np.asarray(l_per_m, dtype=float) * c_per_m)


def g_z_from_wire(r_n: ArrayLike, length_nm: ArrayLike, delta_mev: ArrayLike,
                  capacitance_pf_per_m: ArrayLike, temperature: ArrayLike = 0.0) -> np.ndarray:
    r"""Dimensionless admittance :math:`g_Z = R_K/Z` from wire data.

    .. math::
        g_Z = \frac{R_K}{\sqrt{\mathcal{L}/\mathcal{C}}},\qquad
        \mathcal{L} = \frac{\hbar R_N/X}{\pi\Delta\tanh(\Delta/2k_BT)} .

    Parameters
    ----------
    r_n
        Normal-state resistance [Ohm].
    length_nm
        Wire length X [nm].
    delta_mev
        Gap [meV].
    capacitance_pf_per_m
        Capacitance per length [pF/m] (geometry-dependent; a fit or input parameter).
    temperature
        T [K] (default 0).

    Returns
    -------
    numpy.ndarray
        :math:`g_Z` (dimensionless).  Check C18: 1.99 for R_N = 40 kOhm, X = 20 um,
        Delta = 50 ueV, C = 50 pF/m.

    Notes
    -----
    [SEED] definition, [STD] inductance.
    """
    lk = kinetic_inductance_per_length(r_n, length_nm, delta_mev, temperature)
    return R_K_OHM / wire_impedance(lk, capacitance_pf_per_m)


def qps_length(g_xi: ArrayLike, g_z: ArrayLike, xi_nm: ArrayLike, a: ArrayLike = 1.0,
               b: ArrayLike = 1.0) -> np.ndarray:
    r"""QPS correlation (Cooper-pair localisation) length in nm, seed Eq. (3).

    .. math::
        L_c \simeq \xi\,\exp\!\Big[\frac{a g_\xi - \ln b}{2 - g_Z/8}\Big],\qquad g_Z < 16 .

    Parameters
    ----------
    g_xi
        Dimensionless conductance (``> 0``).
    g_z
        Dimensionless admittance :math:`R_K/Z`.
    xi_nm
        Coherence length [nm].
    a, b
        QPS action coefficient and amplitude factor, both O(1) [SEED, values not confirmed].

    Returns
    -------
    numpy.ndarray
        :math:`L_c` [nm]; ``inf`` for :math:`g_Z \ge 16` (no localisation: superconducting side of
        the SIT, where :math:`1/\alpha = 2-g_Z/8 \le 0`).

    Notes
    -----
    [SEED] (Arutyunov et al. 2021, Eq. 3, :math:`L_c\propto\gamma_{qps}^{-\alpha}`,
    :math:`1/\alpha = 2-g_Z/8`).  Check C4: xi = 140 nm, a g_xi - ln b = 7.5, g_Z = 2.5 gives
    11.92 um.  The exponential makes L_c extremely sensitive to a and g_xi.

    Examples
    --------
    >>> round(float(qps_length(7.5, 2.5, 140.0)) / 1e3, 2)
    11.92
    """
    inv_alpha = 2.0 - np.asarray(g_z, dtype=float) / 8.0
    num = np.asarray(a, dtype=float) * np.asarray(g_xi, dtype=float) - np.log(np.asarray(b, dtype=float))
    ok = inv_alpha > 0.0
    with np.errstate(over="ignore"):
        expo = np.exp(num / np.where(ok, inv_alpha, 1.0))
    return np.where(ok, np.asarray(xi_nm, dtype=float) * expo, np.inf)


def qps_length_with_error(g_xi: ArrayLike, g_xi_err: ArrayLike, g_z: ArrayLike, g_z_err: ArrayLike,
                          xi_nm: ArrayLike, a: ArrayLike = 1.0,
                          b: ArrayLike = 1.0) -> tuple[np.ndarray, np.ndarray]:
    r"""QPS length and its first-order propagated standard error, both in nm.

    .. math::
        \frac{\sigma_{L_c}}{L_c} = \sqrt{\Big(\frac{a\,\sigma_{g_\xi}}{D}\Big)^2
        + \Big(\frac{(a g_\xi - \ln b)\,\sigma_{g_Z}}{8D^2}\Big)^2},\qquad D = 2-\frac{g_Z}{8},

    from the analytic partial derivatives of :math:`\ln L_c`, with g_xi and g_Z uncorrelated.

    Parameters
    ----------
    g_xi, g_xi_err
        g_xi and its standard error.
    g_z, g_z_err
        g_Z and its standard error.
    xi_nm
        Coherence length [nm] (taken as exact).
    a, b
        As in :func:`qps_length` (exact).

    Returns
    -------
    tuple of numpy.ndarray
        ``(l_c_nm, err_nm)``; both ``inf`` for :math:`g_Z \ge 16`.

    Notes
    -----
    Linear propagation through an exponential: when the relative error exceeds ~0.3 the
    distribution of L_c is strongly skewed (log-normal-like); quote :math:`\ln L_c` then.
    Systematics from a, b and the g_xi prefactor (tens of %) are **not** included.
    """
    gx = np.asarray(g_xi, dtype=float)
    gz = np.asarray(g_z, dtype=float)
    aa = np.asarray(a, dtype=float)
    lc = qps_length(gx, gz, xi_nm, aa, b)
    d = 2.0 - gz / 8.0
    ok = d > 0.0
    ds = np.where(ok, d, 1.0)
    num = aa * gx - np.log(np.asarray(b, dtype=float))
    rel = np.hypot(aa * np.asarray(g_xi_err, dtype=float) / ds,
                   num * np.asarray(g_z_err, dtype=float) / (8.0 * ds * ds))
    return lc, np.where(ok, lc * rel, np.inf)


Regime = Literal["superconducting", "insulating", "crossover"]


def qps_regime(length_nm: float, l_c_nm: float, factor: float = 2.0) -> Regime:
    r"""Classify a wire by its length X against the QPS correlation length :math:`L_c`.

    Rule (a fitkit convention, not from a paper): ``"superconducting"`` if
    :math:`X \le L_c/\text{factor}` (or :math:`L_c = \infty`, i.e. :math:`g_Z \ge 16`);
    ``"insulating"`` if :math:`X \ge \text{factor}\cdot L_c` (Cooper pairs localised on the
    wire's scale, R grows as T -> 0); ``"crossover"`` in between.

    Parameters
    ----------
    length_nm
        Wire length X [nm].
    l_c_nm
        QPS correlation length [nm] (from :func:`qps_length`).
    factor
        Width of the crossover band (default 2: half to twice L_c).

    Returns
    -------
    str
        ``"superconducting"``, ``"insulating"`` or ``"crossover"``.

    Raises
    ------
    ValueError
        If a length is not positive or ``factor < 1``.
    """
    x, lc = float(length_nm), float(l_c_nm)
    if not (x > 0.0 and lc > 0.0 and factor >= 1.0):
        raise ValueError(f"qps_regime: need length_nm > 0, l_c_nm > 0, factor >= 1; got {x}, {lc}, {factor}")
    if x * factor <= lc:
        return "superconducting"
    if x >= factor * lc:
        return "insulating"
    return "crossover"
