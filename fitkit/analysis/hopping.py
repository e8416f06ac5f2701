r"""Insulating side of the SIT: choose the hopping exponent from the data, and the wire blockade voltage.

:func:`reduced_activation_analysis` computes the Zabrodskii–Zinov'eva reduced activation energy
:math:`W = -d\ln R/d\ln T` and fits :math:`\ln W = \ln(pT_0^p) - p\ln T` [DER], so p is measured without
assuming it; it names the closest standard law (Arrhenius 1, Efros–Shklovskii 1/2, 2D Mott 1/3) and says
when the data show no single p (significant curvature of ln W against ln T).

:func:`coulomb_blockade_voltage` measures the Coulomb-blockade-like threshold :math:`V_c` of an insulating
nanowire I–V (the offset voltage of the high-bias ohmic asymptote).

References
----------
.. [1] A. G. Zabrodskii and K. N. Zinov'eva, JETP 59, 425 (1984).
.. [2] B. I. Shklovskii and A. L. Efros, Electronic Properties of Doped Semiconductors (Springer, 1984).
.. [3] K. Yu. Arutyunov et al., Commun. Phys. 4, 146 (2021) (weak Coulomb blockade of Cooper pairs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from fitkit.errors import DataValidationError
from fitkit.physics.sit import HOPPING_EXPONENTS, reduced_activation_energy

__all__ = ["HoppingAnalysis", "coulomb_blockade_voltage", "reduced_activation_analysis"]


@dataclass(frozen=True)
class HoppingAnalysis:
    """Result of :func:`reduced_activation_analysis`.

    Attributes
    ----------
    p, p_stderr
        Exponent from the slope of ln W against ln T (= -p) and its standard error.
    t_0
        :math:`T_0` [K] from the intercept, :math:`\\ln(pT_0^p)`.
    law
        Closest named law (``"arrhenius"``, ``"efros_shklovskii"``, ``"mott_2d"``) if it is within
        3 standard errors of p (and the data show a single p), else ``"free"``.
    single_p
        False when the quadratic term of ln W(ln T) is significant (> 3 sigma): no single exponent.
    curvature_z
        Significance (in sigma) of that quadratic term.
    temperature, w
        The W(T) curve used (sorted T [K], W dimensionless).
    message
        One sentence for reports.
    """

    p: float
    p_stderr: float
    t_0: float
    law: str
    single_p: bool
    curvature_z: float
    temperature: np.ndarray
    w: np.ndarray
    message: str


def _ols(x: np.ndarray, y: np.ndarray, deg: int) -> tuple[np.ndarray, np.ndarray]:
    a = np.vander(x, deg + 1, increasing=True)
    coef, *_ = np.linalg.lstsq(a, y, rcond=None)
    dof = x.size - (deg + 1)
    s2 = float(np.sum((a @ coef - y) ** 2)) / dof if dof > 0 else math.nan
    cov = s2 * np.linalg.inv(a.T @ a)
    return coef, cov


def reduced_activation_analysis(temperature: ArrayLike, resistance: ArrayLike, *, smooth: int = 1,
                                z_law: float = 3.0, z_curve: float = 3.0) -> HoppingAnalysis:
    r"""Exponent p of :math:`R = R_0\exp[(T_0/T)^p]` from the reduced activation energy W(T).

    Parameters
    ----------
    temperature
        T [K].
    resistance
        R [Ohm] (> 0).
    smooth
        Use every ``smooth``-th point for the derivative (reduces the noise of W on dense data; 1 = all).
    z_law
        A named law is reported when p lies within ``z_law`` standard errors of it.
    z_curve
        Curvature of ln W(ln T) above ``z_curve`` sigma means "no single p".

    Returns
    -------
    HoppingAnalysis

    Raises
    ------
    DataValidationError
        With fewer than 6 usable points, or when W is not positive (R does not rise on cooling: not an
        insulating curve).

    Notes
    -----
    The errors of W at neighbouring points are correlated (centred differences share points); the OLS
    standard error of p is therefore indicative.  For a decision it is the ``law`` field together with a
    fit of the ``film_hopping`` model with that law that counts.
    """
    t = np.asarray(temperature, dtype=float).ravel()
    r = np.asarray(resistance, dtype=float).ravel()
    ok = np.isfinite(t) & np.isfinite(r) & (t > 0) & (r > 0)
    t, r = t[ok], r[ok]
    order = np.argsort(t)
    t, r = t[order][:: max(int(smooth), 1)], r[order][:: max(int(smooth), 1)]
    if t.size < 6:
        raise DataValidationError(
            f"reduced_activation_analysis: need >= 6 points with T, R > 0, got {t.size}")
    ts, w = reduced_activation_energy(t, r)
    good = w > 0
    if good.sum() < 6:
        raise DataValidationError(
            "reduced_activation_analysis: W = -dlnR/dlnT is not positive over the data (R does not rise on "
            "cooling), so the curve is not activated or hopping transport"
        )
    x, y = np.log(ts[good]), np.log(w[good])
    coef, cov = _ols(x, y, 1)
    p = -float(coef[1])
    p_err = float(math.sqrt(cov[1, 1]))
    t_0 = float((math.exp(coef[0]) / p) ** (1.0 / p)) if p > 0 else math.nan
    curvature_z = 0.0
    if x.size >= 5:
        xc = x - x.mean()
        coef2, cov2 = _ols(xc, y, 2)
        curvature_z = float(abs(coef2[2]) / math.sqrt(cov2[2, 2])) if cov2[2, 2] > 0 else math.inf
    single = curvature_z <= z_curve
    law = "free"
    if single and math.isfinite(p_err):
        name, val = min(HOPPING_EXPONENTS.items(), key=lambda kv: abs(kv[1] - p))
        if abs(val - p) <= z_law * max(p_err, 1e-12):
            law = name
    if not single:
        msg = (f"ln W against ln T is curved ({curvature_z:.1f} sigma): the data show no single hopping "
               f"exponent (mean slope gives p = {p:.3g} +- {p_err:.2g})")
    elif law == "free":
        msg = f"p = {p:.3g} +- {p_err:.2g} matches none of 1, 1/2, 1/3 within {z_law:g} sigma"
    else:
        msg = f"p = {p:.3g} +- {p_err:.2g}: consistent with {law} (p = {HOPPING_EXPONENTS[law]:.3g})"
    return HoppingAnalysis(p, p_err, t_0, law, single, curvature_z, ts, w, msg)


def coulomb_blockade_voltage(current: ArrayLike, voltage: ArrayLike, *, high_fraction: float = 0.3
                             ) -> tuple[float, float]:
    r"""Coulomb-blockade-like threshold :math:`V_c` of an insulating wire from its I–V [V].

    The high-bias branches (the outer ``high_fraction`` of :math:`|V|` on each polarity) are fitted with
    straight lines :math:`I = (V \mp V_c)/R_\infty`; :math:`V_c` is the mean of the two voltage
    intercepts (offset voltage), the standard tool for blockaded junctions and wires.  With a single
    polarity that branch alone is used.

    Parameters
    ----------
    current
        I [A].
    voltage
        V [V].
    high_fraction
        Fraction of the largest |V| defining the asymptotic branch (0 < f < 1).

    Returns
    -------
    tuple of float
        ``(V_c [V], R_inf [Ohm])``: the offset voltage and the asymptotic differential resistance.

    Raises
    ------
    DataValidationError
        If a branch has fewer than 3 points or the asymptote does not extrapolate to a positive offset.
    """
    i = np.asarray(current, dtype=float).ravel()
    v = np.asarray(voltage, dtype=float).ravel()
    ok = np.isfinite(i) & np.isfinite(v)
    i, v = i[ok], v[ok]
    vmax = float(np.max(np.abs(v))) if v.size else 0.0
    offsets, slopes = [], []
    for sign in (1.0, -1.0):
        sel = sign * v >= (1.0 - high_fraction) * vmax
        if sel.sum() < 3:
            continue
        g, i0 = np.polyfit(v[sel], i[sel], 1)
        if g <= 0:
            continue
        offsets.append(sign * (-i0 / g))
        slopes.append(1.0 / g)
    if not offsets:
        raise DataValidationError("coulomb_blockade_voltage: no bias branch with >= 3 points at high |V|")
    v_c = float(np.mean(offsets))
    if v_c <= 0:
        raise DataValidationError(
            f"coulomb_blockade_voltage: the high-bias asymptote extrapolates to V_c = {v_c:.3g} V <= 0; "
            "the I-V shows no blockade"
        )
    return v_c, float(np.mean(slopes))
