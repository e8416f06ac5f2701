r"""Film and wire transport laws around the superconductor–insulator transition (SIT).

Pure, vectorised physics functions behind the models of :mod:`fitkit.models.films`.  Units:
temperatures K, resistances Ohm (a *sheet* resistance :math:`R_\square` is in Ohm per square: the
caller converts a four-probe resistance with the geometry factor), conductances S, thicknesses nm.

Conventions (explicit everywhere in fitkit): :math:`R_K = h/e^2 = 25\,812.807` Ohm,
:math:`R_Q = h/4e^2 = 6\,453.20` Ohm (the pair quantum, prefactor of the SIT scaling form),
:math:`e^2/16\hbar = 1.52133\times10^{-5}` S (2D Aslamazov–Larkin).

Provenance tags as in the team's physics notes (``films_and_fields.md``): [STD] standard result
recalled, not re-read from the original; [DER] derived and checked numerically here; [UNCONF] proposed.

=====================================  ==========================================  ========
law                                    function                                    tag
=====================================  ==========================================  ========
Halperin–Nelson BKT tail               :func:`bkt_tail_resistance`                 [STD]
2D Aslamazov–Larkin (+ Maki–Thompson)  :func:`aslamazov_larkin_conductance`,        [STD]
                                       :func:`maki_thompson_conductance`
hopping / activated                    :func:`hopping_resistance`                  [STD]
reduced activation energy              :func:`reduced_activation_energy`           [DER]
Simonin thickness law                  :func:`simonin_tc`                          [STD]
Martinis S/N bilayer (Usadel)          :func:`bilayer_tc_martinis`                 [STD]
wire QPS power law                     :func:`wire_power_law_resistance`,          [STD]/
                                       :func:`zaikin_exponent`                     [UNCONF]
=====================================  ==========================================  ========

References
----------
.. [1] B. I. Halperin and D. R. Nelson, J. Low Temp. Phys. 36, 599 (1979).
.. [2] L. G. Aslamazov and A. I. Larkin, Phys. Lett. A 26, 238 (1968).
.. [3] A. I. Larkin, JETP Lett. 31, 219 (1980); A. A. Varlamov, A. Galda and A. Glatz, Rev. Mod. Phys.
   90, 015009 (2018).
.. [4] B. I. Shklovskii and A. L. Efros, *Electronic Properties of Doped Semiconductors* (Springer,
   1984); A. G. Zabrodskii and K. N. Zinov'eva, JETP 59, 425 (1984).
.. [5] J. Simonin, Phys. Rev. B 33, 7830 (1986).
.. [6] J. M. Martinis, G. C. Hilton, K. D. Irwin and D. A. Wollman, Nucl. Instrum. Methods A 444, 23
   (2000).
.. [7] A. D. Zaikin, D. S. Golubev, A. van Otterlo and G. T. Zimanyi, Phys. Rev. Lett. 78, 1552 (1997).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from fitkit.constants import E_CHARGE, HBAR, R_K_OHM, R_Q_OHM

__all__ = [
    "AL_2D_S",
    "HOPPING_EXPONENTS",
    "MT_2D_S",
    "R_K_OHM",
    "R_Q_OHM",
    "aslamazov_larkin_conductance",
    "bilayer_tc_martinis",
    "bkt_tail_resistance",
    "film_fluctuation_sheet_resistance",
    "hopping_resistance",
    "maki_thompson_conductance",
    "reduced_activation_energy",
    "simonin_tc",
    "wire_power_law_resistance",
    "zaikin_exponent",
    "zaikin_g_z",
]

AL_2D_S: float = E_CHARGE**2 / (16.0 * HBAR)
r""":math:`e^2/16\hbar = 1.52133\times10^{-5}` S: 2D Aslamazov–Larkin prefactor (per square)."""

MT_2D_S: float = E_CHARGE**2 / (8.0 * HBAR)
r""":math:`e^2/8\hbar`: 2D Maki–Thompson prefactor (per square)."""

HOPPING_EXPONENTS: dict[str, float] = {
    "arrhenius": 1.0,
    "efros_shklovskii": 0.5,
    "mott_2d": 1.0 / 3.0,
}
"""Named exponents p of :math:`R = R_0\\exp[(T_0/T)^p]` (2D Mott is 1/3; 3D Mott, 1/4, is not a film law)."""

_EXP_MAX = 700.0  # exp overflow guard


def bkt_tail_resistance(temperature: ArrayLike, t_bkt: float, b: float, r_0: float) -> np.ndarray:
    r"""Halperin–Nelson resistive tail of a 2D film above :math:`T_{BKT}` [Ohm per square].

    .. math::
        R(T) = R_0 \exp\!\Big[-2\sqrt{\frac{b}{T/T_{BKT} - 1}}\Big],\qquad T > T_{BKT};
        \qquad R = 0,\quad T \le T_{BKT}.

    Convention: ``b`` is Halperin–Nelson's dimensionless constant *inside* the square root
    (:math:`b \sim (T_{c0}-T_{BKT})/T_{BKT}` times a number of order one), as in the team notes.  The
    form :math:`R_0\exp(-2b'/\sqrt{T/T_{BKT}-1})` quoted in issue 15 has :math:`b' = \sqrt{b}`; the
    other common form :math:`R_0\exp(-\tilde b/\sqrt{t})` has :math:`\tilde b = 2\sqrt b`.

    Parameters
    ----------
    temperature
        T [K].
    t_bkt
        :math:`T_{BKT}` [K], ``> 0``.
    b
        Halperin–Nelson constant (dimensionless, ``> 0``).
    r_0
        Prefactor [Ohm per square] (of the order of the normal sheet resistance).

    Returns
    -------
    numpy.ndarray
        R [Ohm per square]; exactly 0 at and below :math:`T_{BKT}` (the limit of the formula), so a fit
        may cross the data's lowest temperature.

    Notes
    -----
    Linearisation [DER]: :math:`(d\ln R/dT)^{-2/3} = (\sqrt b/T_{BKT})^{-2/3}(T/T_{BKT}-1)`, linear in
    T and zero at :math:`T_{BKT}` (tested).  [STD]

    References
    ----------
    .. [1] B. I. Halperin and D. R. Nelson, J. Low Temp. Phys. 36, 599 (1979).
    """
    t = np.asarray(temperature, dtype=float)
    red = t / t_bkt - 1.0
    above = red > 0.0
    red_safe = np.where(above, red, 1.0)
    expo = -2.0 * np.sqrt(b / red_safe)
    return np.where(above, r_0 * np.exp(np.maximum(expo, -_EXP_MAX)), 0.0)


def _epsilon(t: np.ndarray, t_c0: float, epsilon: Literal["linear", "log"]) -> np.ndarray:
    if epsilon == "log":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(np.where(t > 0, t, np.nan) / t_c0)
    return (t - t_c0) / t_c0


def aslamazov_larkin_conductance(temperature: ArrayLike, t_c0: float,
                                 epsilon: Literal["linear", "log"] = "linear") -> np.ndarray:
    r"""2D Aslamazov–Larkin paraconductivity per square [S].

    .. math::
        \Delta G_\square^{AL} = \frac{e^2}{16\hbar}\,\frac{1}{\epsilon},\qquad
        \epsilon = \frac{T - T_{c0}}{T_{c0}}\ (\texttt{"linear"})\quad\text{or}\quad
        \epsilon = \ln(T/T_{c0})\ (\texttt{"log"}).

    The linear form is Aslamazov and Larkin's (valid for :math:`\epsilon \ll 1`); the log form is the
    usual extension to :math:`T \sim 2T_{c0}` (Varlamov et al.).  Both agree to first order in ε.

    Parameters
    ----------
    temperature
        T [K].
    t_c0
        Mean-field (pairing) critical temperature [K].
    epsilon
        ``"linear"`` or ``"log"``.

    Returns
    -------
    numpy.ndarray
        :math:`\Delta G` [S]; ``inf`` at and below :math:`T_{c0}` (where the 2D film is superconducting
        in mean-field theory).  Check: ε = 0.1 gives 1.5213e-4 S [DER].

    References
    ----------
    .. [1] L. G. Aslamazov and A. I. Larkin, Phys. Lett. A 26, 238 (1968).
    """
    t = np.asarray(temperature, dtype=float)
    eps = _epsilon(t, t_c0, epsilon)
    ok = np.isfinite(eps) & (eps > 0.0)
    return np.where(ok, AL_2D_S / np.where(ok, eps, 1.0), np.inf)


def maki_thompson_conductance(temperature: ArrayLike, t_c0: float, delta: float,
                              epsilon: Literal["linear", "log"] = "linear") -> np.ndarray:
    r"""Regularised 2D Maki–Thompson correction per square [S] (Larkin 1980).

    .. math::
        \Delta G_\square^{MT} = \frac{e^2}{8\hbar}\,\frac{\ln(\epsilon/\delta)}{\epsilon - \delta},
        \qquad \delta = \frac{\pi\hbar}{8k_BT\tau_\varphi},

    with the limit :math:`1/\delta` at :math:`\epsilon = \delta`.  δ is treated as a constant (its value
    near :math:`T_{c0}`); only the anomalous MT term is included, not the DOS and regular terms
    (for those see the MIT package fluctuoscopy).  [STD]

    Parameters
    ----------
    temperature
        T [K].
    t_c0
        :math:`T_{c0}` [K].
    delta
        Pair-breaking parameter δ (dimensionless, ``> 0``).
    epsilon
        ``"linear"`` or ``"log"`` reduced temperature.

    Returns
    -------
    numpy.ndarray
        :math:`\Delta G^{MT}` [S]; ``inf`` at and below :math:`T_{c0}`.

    References
    ----------
    .. [1] A. I. Larkin, JETP Lett. 31, 219 (1980).
    .. [2] A. A. Varlamov, A. Galda and A. Glatz, Rev. Mod. Phys. 90, 015009 (2018).
    """
    t = np.asarray(temperature, dtype=float)
    eps = _epsilon(t, t_c0, epsilon)
    ok = np.isfinite(eps) & (eps > 0.0)
    e = np.where(ok, eps, 1.0)
    d = float(delta)
    diff = e - d
    near = np.abs(diff) < 1e-8 * max(d, 1e-300)
    ratio = np.where(near, 1.0 / d, np.log(e / d) / np.where(near, 1.0, diff))
    return np.where(ok, MT_2D_S * ratio, np.inf)


def film_fluctuation_sheet_resistance(temperature: ArrayLike, t_c0: float, r_n: float,
                                      delta: float | None = None,
                                      epsilon: Literal["linear", "log"] = "linear") -> np.ndarray:
    r"""Sheet resistance with 2D fluctuation conductance: :math:`R_\square = 1/(1/R_N + \Delta G)` [Ohm].

    :math:`\Delta G = \Delta G^{AL}` (+ :math:`\Delta G^{MT}` when ``delta`` is given).

    Parameters
    ----------
    temperature
        T [K].
    t_c0
        :math:`T_{c0}` [K].
    r_n
        Normal sheet resistance [Ohm per square].
    delta
        Maki–Thompson pair-breaking parameter, or None for Aslamazov–Larkin only.
    epsilon
        ``"linear"`` or ``"log"``.

    Returns
    -------
    numpy.ndarray
        :math:`R_\square` [Ohm]; 0 at and below :math:`T_{c0}`; tends to :math:`R_N` at high T.
    """
    g = 1.0 / r_n + aslamazov_larkin_conductance(temperature, t_c0, epsilon)
    if delta is not None:
        g = g + maki_thompson_conductance(temperature, t_c0, delta, epsilon)
    return 1.0 / g


def hopping_resistance(temperature: ArrayLike, r_0: float, t_0: float, p: float) -> np.ndarray:
    r"""Activated / variable-range-hopping resistance :math:`R = R_0\exp[(T_0/T)^p]` [Ohm].

    p = 1 Arrhenius (activation energy :math:`k_BT_0`), 1/2 Efros–Shklovskii, 1/3 2D Mott
    (:data:`HOPPING_EXPONENTS`).  [STD]

    Parameters
    ----------
    temperature
        T [K], ``> 0``.
    r_0
        Prefactor [Ohm].
    t_0
        Characteristic temperature [K], ``>= 0``.
    p
        Exponent (dimensionless, ``> 0``).

    Returns
    -------
    numpy.ndarray
        R [Ohm] (the exponent is capped at 700 to avoid overflow).

    References
    ----------
    .. [1] B. I. Shklovskii and A. L. Efros, Electronic Properties of Doped Semiconductors (1984).
    """
    t = np.asarray(temperature, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        expo = (t_0 / t) ** p
    return r_0 * np.exp(np.minimum(expo, _EXP_MAX))


def reduced_activation_energy(temperature: ArrayLike, resistance: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    r"""Zabrodskii–Zinov'eva reduced activation energy :math:`W = -d\ln R/d\ln T` from data.

    For :math:`R = R_0\exp[(T_0/T)^p]`: :math:`W = p(T_0/T)^p`, so
    :math:`\ln W = \ln(pT_0^p) - p\ln T` [DER].  The derivative is a centred difference of
    :math:`\ln R` against :math:`\ln T` on the sorted data (``numpy.gradient``, second order on
    non-uniform grids).

    Parameters
    ----------
    temperature
        T [K] (``> 0``; at least 3 points).
    resistance
        R [Ohm] (``> 0``).

    Returns
    -------
    tuple of numpy.ndarray
        ``(T, W)`` sorted by temperature; W dimensionless.

    Raises
    ------
    ValueError
        With fewer than 3 positive points.
    """
    t = np.asarray(temperature, dtype=float).ravel()
    r = np.asarray(resistance, dtype=float).ravel()
    ok = np.isfinite(t) & np.isfinite(r) & (t > 0) & (r > 0)
    t, r = t[ok], r[ok]
    if t.size < 3:
        raise ValueError(f"reduced_activation_energy: need >= 3 points with T > 0 and R > 0, got {t.size}")
    order = np.argsort(t)
    t, r = t[order], r[order]
    w = -np.gradient(np.log(r), np.log(t))
    return t, w


def simonin_tc(thickness: ArrayLike, t_c0: float, d_c: float) -> np.ndarray:
    r"""Simonin's thickness law :math:`T_c(d) = T_{c0}(1 - d_c/d)` [K], 0 for :math:`d \le d_c`.  [STD]

    Parameters
    ----------
    thickness
        Film thickness d [nm].
    t_c0
        Bulk (thick-film) critical temperature [K].
    d_c
        Critical thickness [nm] (a microscopic length, a few Å to nm).

    Returns
    -------
    numpy.ndarray
        :math:`T_c` [K].

    References
    ----------
    .. [1] J. Simonin, Phys. Rev. B 33, 7830 (1986).
    """
    d = np.asarray(thickness, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = t_c0 * (1.0 - d_c / d)
    return np.where(d > d_c, out, 0.0)


def bilayer_tc_martinis(d_s: ArrayLike, d_n: ArrayLike, t_c0: float, d_0: float, n_ratio: float,
                        transmission: float = 1.0) -> np.ndarray:
    r"""S/N bilayer critical temperature, Usadel-based formula of Martinis et al. (TES design) [K].

    .. math::
        T_c = T_{c0}\left[\frac{d_S}{d_0}\,\frac{1}{1.13\,(1 + 1/\alpha)}\,\frac1t\right]^{\alpha},
        \qquad \alpha = \frac{d_N n_N}{d_S n_S},\qquad
        d_0 = \frac{1}{(\pi/2)\,k_BT_{c0}\lambda_F^2 n_S},

    with :math:`n_{N,S}` the densities of states of the normal and superconducting layers,
    :math:`\lambda_F` the Fermi wavelength of S and t the interface transmission.  Only the product
    :math:`d_0 t` enters.  Limits: :math:`d_N \to 0` gives :math:`T_c \to T_{c0}`; the formula is a
    thin-bilayer (Cooper-limit-like) result, meaningful while the bracket is below 1.  [STD, as
    commonly quoted; checked against the limits here, not re-read from the paper]

    Parameters
    ----------
    d_s, d_n
        Superconductor and normal-metal thickness [nm] (``d_s > 0``, ``d_n >= 0``).
    t_c0
        Critical temperature of the S layer alone [K].
    d_0
        Length :math:`d_0` [nm].
    n_ratio
        :math:`n_N/n_S` (dimensionless).
    transmission
        Interface transmission t (dimensionless, ``> 0``).

    Returns
    -------
    numpy.ndarray
        :math:`T_c` [K].

    References
    ----------
    .. [1] J. M. Martinis, G. C. Hilton, K. D. Irwin and D. A. Wollman, Nucl. Instrum. Methods A 444, 23
       (2000).
    """
    ds = np.asarray(d_s, dtype=float)
    dn = np.asarray(d_n, dtype=float)
    alpha = dn * n_ratio / ds
    pos = alpha > 0.0
    a = np.where(pos, alpha, 1.0)
    base = ds / d_0 / (1.13 * (1.0 + 1.0 / a)) / transmission
    with np.errstate(divide="ignore", invalid="ignore"):
        ln_ratio = a * np.log(np.maximum(base, 1e-300))
    return np.where(pos, t_c0 * np.exp(np.clip(ln_ratio, -_EXP_MAX, _EXP_MAX)), t_c0 * np.ones_like(a))


def wire_power_law_resistance(temperature: ArrayLike, r_ref: float, alpha: float, t_ref: float) -> np.ndarray:
    r"""Power-law wire resistance :math:`R = R_{ref}\,(T/T_{ref})^{\alpha}` [Ohm].

    Parameters
    ----------
    temperature
        T [K], ``> 0``.
    r_ref
        Resistance at :math:`T_{ref}` [Ohm].
    alpha
        Exponent (negative: insulating-like rise on cooling).
    t_ref
        Reference temperature [K].

    Returns
    -------
    numpy.ndarray
        R [Ohm].
    """
    t = np.asarray(temperature, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        lnr = math.log(r_ref) + alpha * np.log(t / t_ref) if r_ref > 0 else np.full_like(t, -np.inf)
    return np.exp(np.clip(lnr, -_EXP_MAX, _EXP_MAX))


def zaikin_exponent(g_z: ArrayLike) -> np.ndarray:
    r"""QPS power-law exponent :math:`\alpha = 2\mu - 3`, :math:`\mu = g_Z/8` (so :math:`\alpha = g_Z/4 - 3`).

    Zaikin et al. (1997) give the perturbative QPS resistance of a long wire as
    :math:`R \propto \gamma_{QPS}^2 T^{2\mu-3}` with the SIT at :math:`\mu = 2` [STD, recalled].  Its
    :math:`\mu` is identified here with the Luttinger parameter :math:`K = g_Z/8` of the team notes
    (transport.md §1 [DER]), which puts the SIT at :math:`g_Z = 16` as the seed does [UNCONF: the
    normalisation of μ was not re-read].  The relation ":math:`\alpha = 2/g_Z - 2`" proposed in the issue
    brief is not in the notes and is not used.  Valid on the insulating side only above the crossover
    temperature set by :math:`L_c` (perturbative regime).

    Parameters
    ----------
    g_z
        :math:`g_Z = R_K/Z` (dimensionless).

    Returns
    -------
    numpy.ndarray
        α (dimensionless).

    References
    ----------
    .. [1] A. D. Zaikin, D. S. Golubev, A. van Otterlo and G. T. Zimanyi, PRL 78, 1552 (1997).
    """
    return np.asarray(g_z, dtype=float) / 4.0 - 3.0


def zaikin_g_z(alpha: ArrayLike) -> np.ndarray:
    r"""Inverse of :func:`zaikin_exponent`: :math:`g_Z = 4(\alpha + 3)` (same provenance caveat).

    Parameters
    ----------
    alpha
        Power-law exponent of R(T).

    Returns
    -------
    numpy.ndarray
        :math:`g_Z` (dimensionless).
    """
    return 4.0 * (np.asarray(alpha, dtype=float) + 3.0)

