r"""BKT transition of a film: the I–V route and the resistive-tail fit (pure: arrays in, results out).

I–V route [STD]: below :math:`T_{BKT}` the isotherms follow :math:`V \propto I^{a(T)}` with
:math:`a(T) = 1 + \pi\hbar^2 n_s(T)/(2mk_BT)`, and the universal jump of the superfluid stiffness puts
:math:`a(T_{BKT}) = 3`.  :func:`iv_exponents` measures a(T) as the log–log slope of each isotherm in the
low-current regime; :func:`bkt_from_iv` finds where a(T) crosses 3, with a delta-method uncertainty.

Resistive tail: :func:`fit_bkt_tail` fits the registered model ``film_bkt``
(:class:`fitkit.models.films.FilmBKTModel`) through :func:`fitkit.fitting.fit_curve` and adds a record
warning when data lie at or below the fitted :math:`T_{BKT}` (where the model is 0).

References
----------
.. [1] B. I. Halperin and D. R. Nelson, J. Low Temp. Phys. 36, 599 (1979).
.. [2] J. M. Kosterlitz and D. J. Thouless, J. Phys. C 6, 1181 (1973).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from fitkit.errors import DataValidationError, FitQualityWarning
from fitkit.fitting.fit import fit_curve
from fitkit.fitting.record import FitRecord
from fitkit.io.sweep import Sweep, SweepMeta
from fitkit.models.films import FilmBKTModel

__all__ = ["BKTIVResult", "IVExponent", "bkt_from_iv", "fit_bkt_tail", "iv_exponents"]

A_BKT: float = 3.0
"""Exponent of V ∝ I^a at T_BKT (universal jump)."""


@dataclass(frozen=True)
class IVExponent:
    """Exponent of one isotherm: ``V ∝ I^a`` in the fitted current window.

    Attributes
    ----------
    temperature
        T [K].
    a, a_stderr
        Log–log slope and its standard error (OLS, residual-scaled).
    i_lo, i_hi
        Current window used [A].
    n
        Number of points in the window.
    """

    temperature: float
    a: float
    a_stderr: float
    i_lo: float
    i_hi: float
    n: int


@dataclass(frozen=True)
class BKTIVResult:
    """T_BKT from the I–V exponents.

    Attributes
    ----------
    t_bkt, t_bkt_stderr
        Temperature where a(T) = 3 [K] and its standard error [K].
    exponents
        The per-isotherm :class:`IVExponent` (sorted by temperature).
    used
        Temperatures [K] of the isotherms entering the local linear fit of a(T).
    message
        One sentence describing how T_BKT was found.
    """

    t_bkt: float
    t_bkt_stderr: float
    exponents: tuple[IVExponent, ...]
    used: tuple[float, ...]
    message: str

    def frame(self) -> pd.DataFrame:
        """The a(T) table (``temperature_K``, ``a``, ``a_stderr``, ``i_lo_A``, ``i_hi_A``, ``n``)."""
        return pd.DataFrame([{"temperature_K": e.temperature, "a": e.a, "a_stderr": e.a_stderr,
                              "i_lo_A": e.i_lo, "i_hi_A": e.i_hi, "n": e.n} for e in self.exponents])


def _isotherms(current: ArrayLike, voltage: ArrayLike, temperature: ArrayLike
               ) -> list[tuple[float, np.ndarray, np.ndarray]]:
    i = np.asarray(current, dtype=float).ravel()
    v = np.asarray(voltage, dtype=float).ravel()
    t = np.broadcast_to(np.asarray(temperature, dtype=float), i.shape).ravel() if np.ndim(temperature) == 0 \
        else np.asarray(temperature, dtype=float).ravel()
    if not (i.shape == v.shape == t.shape):
        raise DataValidationError(
            f"I-V exponents: current ({i.size}), voltage ({v.size}) and temperature ({t.size}) must have "
            "equal lengths"
        )
    ok = np.isfinite(i) & np.isfinite(v) & np.isfinite(t)
    i, v, t = np.abs(i[ok]), np.abs(v[ok]), t[ok]
    out = []
    for temp in np.unique(t):
        sel = t == temp
        out.append((float(temp), i[sel], v[sel]))
    return out


def iv_exponents(current: ArrayLike, voltage: ArrayLike, temperature: ArrayLike, *,
                 current_range: tuple[float, float] | None = None, decades: float = 1.0,
                 v_floor: float = 0.0, min_points: int = 4) -> list[IVExponent]:
    r"""Exponent a of :math:`V \propto I^a` for each isotherm, in the low-current regime.

    The window is ``current_range`` (A) if given, else the lowest ``decades`` decades of current above
    the first point with :math:`|V| > v_{floor}`; a is the OLS slope of :math:`\ln|V|` on :math:`\ln|I|`
    there (both branches of a symmetric sweep are folded with absolute values).

    Parameters
    ----------
    current, voltage
        I [A] and V [V], all isotherms concatenated.
    temperature
        T [K] per point (the isotherms are the distinct values) or one scalar.
    current_range
        ``(lo, hi)`` [A] window, common to all isotherms.
    decades
        Width of the automatic window in decades of current.
    v_floor
        Voltages at or below it [V] are noise and are not used.
    min_points
        Least number of points in the window.

    Returns
    -------
    list of IVExponent
        Sorted by temperature; isotherms with too few usable points are skipped.

    Raises
    ------
    DataValidationError
        If the arrays differ in length or no isotherm has ``min_points`` usable points.
    """
    out: list[IVExponent] = []
    for temp, i, v in _isotherms(current, voltage, temperature):
        use = (i > 0) & (v > v_floor)
        if use.sum() < min_points:
            continue
        ii, vv = i[use], v[use]
        if current_range is not None:
            lo, hi = float(current_range[0]), float(current_range[1])
        else:
            lo = float(ii.min())
            hi = lo * 10.0**decades
        win = (ii >= lo) & (ii <= hi)
        if win.sum() < min_points:
            continue
        x, y = np.log(ii[win]), np.log(vv[win])
        a_mat = np.column_stack([np.ones_like(x), x])
        coef, *_ = np.linalg.lstsq(a_mat, y, rcond=None)
        dof = x.size - 2
        s2 = float(np.sum((a_mat @ coef - y) ** 2)) / dof if dof > 0 else math.nan
        cov = s2 * np.linalg.inv(a_mat.T @ a_mat)
        out.append(IVExponent(temp, float(coef[1]), float(math.sqrt(cov[1, 1])), float(ii[win].min()),
                              float(ii[win].max()), int(win.sum())))
    if not out:
        raise DataValidationError(
            f"I-V exponents: no isotherm has {min_points} points with I > 0 and |V| > {v_floor:g} V in the "
            "low-current window; give current_range or lower v_floor"
        )
    return out


def bkt_from_iv(current: ArrayLike, voltage: ArrayLike, temperature: ArrayLike, *,
                current_range: tuple[float, float] | None = None, decades: float = 1.0,
                v_floor: float = 0.0, min_points: int = 4, n_side: int = 1) -> BKTIVResult:
    r"""T_BKT from V(I) isotherms: the temperature where the exponent a(T) crosses 3.

    a(T) comes from :func:`iv_exponents`.  Around the crossing, the ``n_side`` isotherms on each side of
    a = 3 enter a weighted straight line :math:`a = c_0 + c_1 T` (weights :math:`1/\sigma_a^2`);
    :math:`T_{BKT} = (3 - c_0)/c_1` with its error from the parameter covariance (delta method,
    covariance scaled by the reduced chi-square when it exceeds 1).

    Parameters
    ----------
    current, voltage, temperature
        As :func:`iv_exponents`.
    current_range, decades, v_floor, min_points
        Window of :func:`iv_exponents`.
    n_side
        Isotherms on each side of the crossing used in the local line (>= 1).

    Returns
    -------
    BKTIVResult

    Raises
    ------
    DataValidationError
        If fewer than two isotherms have an exponent (one temperature only), or a(T) does not cross 3
        (the sentence says on which side T_BKT lies).
    """
    exps = iv_exponents(current, voltage, temperature, current_range=current_range, decades=decades,
                        v_floor=v_floor, min_points=min_points)
    if len(exps) < 2:
        raise DataValidationError(
            f"bkt_from_iv: I-V isotherms at one temperature only ({exps[0].temperature:g} K); the a = 3 "
            "crossing needs isotherms at two or more temperatures"
        )
    t = np.array([e.temperature for e in exps])
    a = np.array([e.a for e in exps])
    s = np.array([e.a_stderr for e in exps])
    above = a > A_BKT
    if above.all():
        raise DataValidationError(
            f"bkt_from_iv: the exponent a(T) stays above 3 at every isotherm (smallest a = {a.min():.3g} at "
            f"{t[np.argmin(a)]:g} K): T_BKT lies above the highest temperature measured"
        )
    if not above.any():
        raise DataValidationError(
            f"bkt_from_iv: the exponent a(T) stays below 3 at every isotherm (largest a = {a.max():.3g} at "
            f"{t[np.argmax(a)]:g} K): T_BKT lies below the lowest temperature measured"
        )
    # last isotherm (in T) with a > 3 followed by one with a <= 3
    cross = [k for k in range(len(a) - 1) if above[k] and not above[k + 1]]
    k = cross[0] if cross else int(np.nonzero(above)[0][-1])
    lo, hi = max(0, k - n_side + 1), min(len(a), k + 1 + n_side)
    tt, aa, ss = t[lo:hi], a[lo:hi], s[lo:hi]
    ss = np.where(np.isfinite(ss) & (ss > 0), ss, np.nanmax(np.where(np.isfinite(ss), ss, 0.0)) or 1.0)
    w = 1.0 / ss**2
    x = np.column_stack([np.ones_like(tt), tt])
    cov = np.linalg.inv(x.T @ (w[:, None] * x))
    c = cov @ (x.T @ (w * aa))
    dof = tt.size - 2
    if dof > 0:
        redchi = float(np.sum(w * (x @ c - aa) ** 2)) / dof
        cov = cov * max(redchi, 1.0)
    if c[1] == 0:
        raise DataValidationError("bkt_from_iv: a(T) is flat around the crossing; T_BKT is not determined")
    t_bkt = float((A_BKT - c[0]) / c[1])
    grad = np.array([-1.0 / c[1], -(A_BKT - c[0]) / c[1] ** 2])
    err = float(math.sqrt(max(float(grad @ cov @ grad), 0.0)))
    msg = (f"a(T) crosses 3 between {t[k]:g} K and {t[min(k + 1, len(t) - 1)]:g} K; straight line through "
           f"{tt.size} isotherms gives T_BKT = {t_bkt:.4g} +- {err:.2g} K")
    return BKTIVResult(t_bkt, err, tuple(exps), tuple(float(v) for v in tt), msg)


def fit_bkt_tail(temperature: ArrayLike, resistance: ArrayLike, *, normal_channel: str = "none",
                 t_range: tuple[float | None, float | None] | None = None, params: dict | None = None,
                 sample_id: str = "film", uncertainty: str = "auto") -> FitRecord:
    r"""Fit the Halperin–Nelson tail (model ``film_bkt``) to a sheet-resistance curve.

    Data at or below the fitted :math:`T_{BKT}` are kept (the model is 0 there) and counted in a record
    warning, one sentence, so that a user who fitted across the transition sees it.

    Parameters
    ----------
    temperature
        T [K].
    resistance
        :math:`R_\square` [Ohm per square].
    normal_channel
        ``"none"`` or ``"parallel"`` (see :class:`fitkit.models.films.FilmBKTModel`).
    t_range
        ``(lo, hi)`` [K] fitted (None: all).
    params
        Parameter overrides for :func:`fitkit.fitting.fit_curve`.
    sample_id
        Copied into the record.
    uncertainty
        Interval method of :func:`fitkit.fitting.fit_curve`.

    Returns
    -------
    FitRecord
        ``model_key = "film_bkt"``; values ``t_bkt`` K, ``b``, ``r_0`` (and ``r_n``) kOhm;
        ``derived["b_issue"] = sqrt(b)`` (the b of the form exp(-2b'/sqrt(t-1))).

    Raises
    ------
    DataValidationError
        With fewer than 5 finite points.
    """
    t = np.asarray(temperature, dtype=float).ravel()
    r = np.asarray(resistance, dtype=float).ravel()
    ok = np.isfinite(t) & np.isfinite(r)
    if ok.sum() < 5:
        raise DataValidationError(f"fit_bkt_tail: need >= 5 finite points, got {int(ok.sum())}")
    sweep = Sweep(pd.DataFrame({"temperature_K": t[ok], "resistance_ohm": r[ok]}),
                  SweepMeta(sample_id=sample_id))
    model = FilmBKTModel(normal_channel=normal_channel)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitQualityWarning)
        rec = fit_curve(sweep, model, params, x="temperature_K", y="resistance_ohm", x_range=t_range,
                        uncertainty=uncertainty)
    extra: list[str] = []
    tb = rec.values.get("t_bkt", math.nan)
    if math.isfinite(tb):
        tt = t[ok]
        if t_range is not None:
            lo_r = -np.inf if t_range[0] is None else t_range[0]
            hi_r = np.inf if t_range[1] is None else t_range[1]
            tt = tt[(tt >= lo_r) & (tt <= hi_r)]
        n_below = int(np.sum(tt <= tb))
        if n_below:
            extra.append(
                f"{n_below} point(s) lie at or below the fitted T_BKT = {tb:.4g} K, where the "
                "Halperin-Nelson "
                "tail is 0; restrict t_range to T > T_BKT if they carry a measurable resistance"
            )
    b = rec.values.get("b", math.nan)
    derived = dict(rec.derived)
    dstd = dict(rec.derived_stderr)
    dun = dict(rec.derived_units)
    if math.isfinite(b) and b > 0:
        derived["b_issue"] = math.sqrt(b)
        dstd["b_issue"] = rec.stderr.get("b", math.nan) / (2.0 * math.sqrt(b))
        dun["b_issue"] = "1"
    return dataclasses.replace(rec, warnings=(*rec.warnings, *extra), derived=derived, derived_stderr=dstd,
                               derived_units=dun)
