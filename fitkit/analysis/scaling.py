r"""Finite-temperature scaling at the superconductor–insulator transition (pure: arrays in, result out).

Scaling form (review 001, Eq. (1) [SEED]), written with the critical resistance :math:`R_c` left free:

.. math::
    R(X, T) = R_c\,\mathcal F\big((X - X_c)\,T^{-1/z\nu}\big),

for isotherms :math:`R(X)` at several temperatures, X the tuning parameter (field, thickness, gate; any
unit).  The signed scaling variable keeps the two branches :math:`\mathcal F_\pm` (superconducting and
insulating side) on one monotonic master curve; the review's :math:`|\delta|/T^{1/z\nu}` with
:math:`\delta = (X-X_c)/X_c` differs only by the constant factor :math:`1/X_c`, which does not change
:math:`z\nu`.  :math:`R_c` is reported in Ohm and in units of :math:`R_Q = h/4e^2 = 6\,453.2` Ohm (the pair
quantum of the dirty-boson prediction; the review quotes :math:`0.7\,h/4e^2` for a:InO).

Method (:func:`collapse_sit`):

1. *Crossing points*: for each pair of neighbouring isotherms, the X where their :math:`\ln R` cross
   (linear interpolation on the common X range); their drift with temperature is fitted and reported
   (the review calls collapse alone a weak diagnostic).
2. *Collapse*: :math:`\ln R` of all points is fitted by a smooth master curve — a Legendre polynomial of
   degree ``degree`` in the scaling variable :math:`u = (X - X_c)T^{-1/z\nu}` — with
   :math:`(X_c, 1/z\nu)` nonlinear and the coefficients linear (variable projection; the polynomial span
   does not depend on the scale of u).  :math:`R_c = \exp P(0)`.  Standard errors of :math:`X_c`,
   :math:`z\nu` and :math:`R_c` come from the Jacobian of the full least-squares problem at the optimum
   (covariance scaled by the residual variance).
3. *Does it collapse?* The residual variance is compared with a model-free noise estimate from the
   second differences of :math:`\ln R` along each isotherm (``chi2_noise``); above ``chi2_max`` the
   result says the data do not collapse.
4. *Independent check*: the slope :math:`\partial\ln R/\partial X` at :math:`X_c` scales as
   :math:`T^{-1/z\nu}`; a log–log fit of the slopes gives :math:`z\nu` without the collapse.

References
----------
.. [1] B. Sacépé, M. Feigel'man and T. M. Klapwijk, Nat. Phys. 16, 734 (2020), Eq. (1).
.. [2] M. P. A. Fisher, Phys. Rev. Lett. 65, 923 (1990).
.. [3] J. Houdayer and A. K. Hartmann, Phys. Rev. B 70, 014418 (2004) (collapse quality).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.polynomial import legendre
from numpy.typing import ArrayLike
from scipy.optimize import least_squares

from fitkit.constants import R_Q_OHM
from fitkit.errors import DataValidationError

__all__ = ["ScalingResult", "collapse_sit", "crossing_points"]


@dataclass(frozen=True)
class ScalingResult:
    """Result of :func:`collapse_sit` (X in the caller's unit, R in Ohm, T in K).

    Attributes
    ----------
    x_c, x_c_stderr
        Critical value of the tuning parameter and its standard error.
    znu, znu_stderr
        Exponent product :math:`z\\nu` and its standard error.
    r_c, r_c_stderr
        Critical resistance [Ohm] (per square for films) and its standard error.
    r_c_over_rq
        :math:`R_c/(h/4e^2)`.
    collapses
        False when the residual scatter exceeds ``chi2_max`` times the noise estimate.
    chi2_noise
        Residual variance of the collapse / model-free noise variance of ln R.
    crossings
        Frame of the pairwise crossing points (``t_mean_K``, ``t_lo_K``, ``t_hi_K``, ``x_cross``,
        ``r_cross_ohm``).
    drift, drift_stderr
        Slope of the crossing X against temperature [X per K] (NaN with fewer than 3 crossings).
    znu_slope, znu_slope_stderr
        :math:`z\\nu` from the slope of ln R at :math:`X_c` against T (independent of the collapse).
    u, ln_r, temperature
        Collapsed scaling variable, ln R and temperature of every point (for the collapse plot).
    master
        Legendre coefficients of the master curve in :math:`u/u_{scale}`; ``u_scale`` the scale.
        The stored u is :math:`(X - X_c)(T/T_{ref})^{-1/z\\nu}` with ``t_ref`` [K] the geometric mean
        temperature of the data (a constant factor that keeps u of the order of X).
    messages
        Sentences for reports (collapse verdict, drift).
    """

    x_c: float
    x_c_stderr: float
    znu: float
    znu_stderr: float
    r_c: float
    r_c_stderr: float
    r_c_over_rq: float
    collapses: bool
    chi2_noise: float
    crossings: pd.DataFrame
    drift: float
    drift_stderr: float
    znu_slope: float
    znu_slope_stderr: float
    u: np.ndarray = field(repr=False)
    ln_r: np.ndarray = field(repr=False)
    temperature: np.ndarray = field(repr=False)
    master: np.ndarray = field(repr=False)
    u_scale: float = 1.0
    t_ref: float = 1.0
    messages: tuple[str, ...] = ()

    def master_curve(self, u: ArrayLike) -> np.ndarray:
        """Master curve :math:`R(u)` [Ohm] at scaling variable(s) u."""
        return np.exp(legendre.legval(np.asarray(u, dtype=float) / self.u_scale, self.master))


def _split(x: ArrayLike, temperature: ArrayLike, resistance: ArrayLike
           ) -> list[tuple[float, np.ndarray, np.ndarray]]:
    xa = np.asarray(x, dtype=float).ravel()
    ta = np.asarray(temperature, dtype=float).ravel()
    ra = np.asarray(resistance, dtype=float).ravel()
    if not (xa.shape == ta.shape == ra.shape):
        raise DataValidationError(
            f"SIT scaling: x ({xa.size}), temperature ({ta.size}) and resistance ({ra.size}) must have equal "
            "lengths"
        )
    ok = np.isfinite(xa) & np.isfinite(ta) & np.isfinite(ra) & (ra > 0) & (ta > 0)
    xa, ta, ra = xa[ok], ta[ok], ra[ok]
    temps = np.unique(ta)
    if temps.size < 2:
        only = f" (T = {temps[0]:g} K)" if temps.size else ""
        raise DataValidationError(
            f"SIT scaling: the isotherms are at one temperature only{only}; a crossing point and zν need "
            "isotherms at two or more temperatures"
        )
    out = []
    for t in temps:
        sel = ta == t
        order = np.argsort(xa[sel])
        xs, ys = xa[sel][order], np.log(ra[sel][order])
        if xs.size < 3:
            raise DataValidationError(
                f"SIT scaling: the isotherm at T = {t:g} K has {xs.size} point(s); each needs at least 3"
            )
        out.append((float(t), xs, ys))
    lo = max(xs[0] for _, xs, _ in out)
    hi = min(xs[-1] for _, xs, _ in out)
    if hi <= lo:
        t_a = next(t for t, xs, _ in out if xs[-1] == hi)
        t_b = next(t for t, xs, _ in out if xs[0] == lo)
        ra_ = next((xs[0], xs[-1]) for t, xs, _ in out if t == t_a)
        rb_ = next((xs[0], xs[-1]) for t, xs, _ in out if t == t_b)
        raise DataValidationError(
            f"SIT scaling: the X ranges of the isotherms do not overlap (T = {t_a:g} K covers "
            f"[{ra_[0]:g}, {ra_[1]:g}], T = {t_b:g} K covers [{rb_[0]:g}, {rb_[1]:g}]); a crossing point "
            "needs a common X range"
        )
    return out


def crossing_points(x: ArrayLike, temperature: ArrayLike, resistance: ArrayLike) -> pd.DataFrame:
    """Crossing points of neighbouring isotherms (in temperature) on their common X range.

    Parameters
    ----------
    x
        Tuning parameter (any unit).
    temperature
        T [K] per point; the isotherms are its distinct values.
    resistance
        R [Ohm] (> 0).

    Returns
    -------
    pandas.DataFrame
        One row per neighbouring pair that crosses: ``t_lo_K``, ``t_hi_K``, ``t_mean_K``, ``x_cross``,
        ``r_cross_ohm`` (the crossing nearest the middle of the common range when there are several).

    Raises
    ------
    DataValidationError
        For one temperature only, fewer than 3 points in an isotherm, or non-overlapping X ranges.
    """
    return _crossings(_split(x, temperature, resistance))


def _crossings(iso: list[tuple[float, np.ndarray, np.ndarray]]) -> pd.DataFrame:
    rows = []
    for (t1, x1, y1), (t2, x2, y2) in zip(iso[:-1], iso[1:], strict=True):
        lo, hi = max(x1[0], x2[0]), min(x1[-1], x2[-1])
        if hi <= lo:
            continue
        grid = np.linspace(lo, hi, 400)
        d = np.interp(grid, x1, y1) - np.interp(grid, x2, y2)
        idx = np.nonzero(np.sign(d[:-1]) * np.sign(d[1:]) < 0)[0]
        if idx.size == 0:
            continue
        mid = 0.5 * (lo + hi)
        k = idx[np.argmin(np.abs(grid[idx] - mid))]
        f = d[k] / (d[k] - d[k + 1])
        xc = float(grid[k] + f * (grid[k + 1] - grid[k]))
        rc = float(np.exp(0.5 * (np.interp(xc, x1, y1) + np.interp(xc, x2, y2))))
        rows.append({"t_lo_K": t1, "t_hi_K": t2, "t_mean_K": 0.5 * (t1 + t2), "x_cross": xc,
                     "r_cross_ohm": rc})
    return pd.DataFrame(rows, columns=["t_lo_K", "t_hi_K", "t_mean_K", "x_cross", "r_cross_ohm"])


def _noise_var(iso: list[tuple[float, np.ndarray, np.ndarray]]) -> float:
    """Pooled variance of ln R from second differences along each isotherm (model-free)."""
    s, n = 0.0, 0
    for _, _, y in iso:
        if y.size >= 3:
            d2 = np.diff(y, 2)
            s += float(np.sum(d2 * d2))
            n += d2.size
    return s / (6.0 * n) if n else math.nan


def collapse_sit(x: ArrayLike, temperature: ArrayLike, resistance: ArrayLike, *,
                 x_c_guess: float | None = None, znu_guess: float | None = None, degree: int = 7,
                 chi2_max: float = 3.0, slope_window: float | None = None) -> ScalingResult:
    r"""Scaling collapse of SIT isotherms: :math:`X_c`, :math:`R_c`, :math:`z\nu` with standard errors.

    Parameters
    ----------
    x
        Tuning parameter X per point (field T, thickness nm, gate V ...).
    temperature
        T [K] per point; each distinct value is one isotherm.
    resistance
        R [Ohm] (sheet resistance for films), > 0.
    x_c_guess, znu_guess
        Start values (default: the median crossing point, and a scan of :math:`1/z\nu` in [0.05, 5]).
    degree
        Degree of the Legendre master curve (3..12).
    chi2_max
        Largest residual-to-noise variance ratio accepted as a collapse.
    slope_window
        Half-width in X of the window for the slope check (default 15 % of the common X range).

    Returns
    -------
    ScalingResult

    Raises
    ------
    DataValidationError
        For isotherms at one temperature only, fewer than 3 points in an isotherm, non-overlapping X
        ranges, or fewer points than parameters.
    """
    iso = _split(x, temperature, resistance)
    degree = int(np.clip(degree, 3, 12))
    xs = np.concatenate([a[1] for a in iso])
    ys = np.concatenate([a[2] for a in iso])
    ts = np.concatenate([np.full(a[1].size, a[0]) for a in iso])
    if xs.size < degree + 4:
        raise DataValidationError(
            f"SIT scaling: {xs.size} points are too few for a degree-{degree} master curve")
    cross = _crossings(iso)
    lo = max(a[1][0] for a in iso)
    hi = min(a[1][-1] for a in iso)
    t_ref = float(np.exp(np.mean(np.log(ts))))
    tn = ts / t_ref  # temperatures relative to their geometric mean: keeps u of order X

    def u_of(xc: float, s: float) -> np.ndarray:
        return (xs - xc) * tn ** (-s)

    def proj_resid(p: np.ndarray) -> np.ndarray:
        u = u_of(p[0], p[1])
        scale = float(np.max(np.abs(u))) or 1.0
        a = legendre.legvander(u / scale, degree)
        coef, *_ = np.linalg.lstsq(a, ys, rcond=None)
        return a @ coef - ys

    xc0 = float(x_c_guess) if x_c_guess is not None else (
        float(np.median(cross["x_cross"])) if len(cross) else 0.5 * (lo + hi))
    if znu_guess is not None:
        s0 = 1.0 / float(znu_guess)
    else:
        grid = np.geomspace(0.05, 5.0, 41)
        costs = [float(np.sum(proj_resid(np.array([xc0, s])) ** 2)) for s in grid]
        s0 = float(grid[int(np.argmin(costs))])
    span = hi - lo
    res = least_squares(proj_resid, np.array([xc0, s0]),
                        bounds=([lo - span, 1e-3], [hi + span, 50.0]), x_scale=[max(span, 1e-12) * 0.1, 0.1])
    xc, s = float(res.x[0]), float(res.x[1])
    u = u_of(xc, s)
    u_scale = float(np.max(np.abs(u))) or 1.0
    a = legendre.legvander(u / u_scale, degree)
    coef, *_ = np.linalg.lstsq(a, ys, rcond=None)

    def full_resid(q: np.ndarray) -> np.ndarray:
        uu = (xs - q[0]) * tn ** (-q[1]) / u_scale
        return legendre.legvander(uu, degree) @ q[2:] - ys

    q0 = np.concatenate([[xc, s], coef])
    fin = least_squares(full_resid, q0, x_scale=np.concatenate([[max(span, 1e-12) * 0.1, 0.1],
                                                                 np.full(coef.size, 0.1)]))
    q = fin.x
    xc, s, coef = float(q[0]), float(q[1]), q[2:]
    r = fin.fun
    dof = xs.size - q.size
    s2 = float(np.sum(r * r)) / dof
    jac = fin.jac
    try:
        cov = s2 * np.linalg.inv(jac.T @ jac)
    except np.linalg.LinAlgError:
        cov = np.full((q.size, q.size), np.nan)
    xc_err = float(math.sqrt(cov[0, 0])) if cov[0, 0] >= 0 else math.nan
    s_err = float(math.sqrt(cov[1, 1])) if cov[1, 1] >= 0 else math.nan
    g = legendre.legvander(np.array([0.0]), degree)[0]
    ln_rc = float(g @ coef)
    ln_rc_err = float(math.sqrt(max(float(g @ cov[2:, 2:] @ g), 0.0)))
    r_c = math.exp(ln_rc)
    noise = _noise_var(iso)
    chi2 = s2 / noise if noise > 0 else math.inf
    collapses = bool(chi2 <= chi2_max)

    # crossing drift
    drift = drift_err = math.nan
    if len(cross) >= 3:
        c1, c0 = np.polyfit(cross["t_mean_K"], cross["x_cross"], 1, cov=False)
        resid = cross["x_cross"] - (c1 * cross["t_mean_K"] + c0)
        tt = cross["t_mean_K"].to_numpy()
        sxx = float(np.sum((tt - tt.mean()) ** 2))
        drift = float(c1)
        var = float(np.sum(resid**2)) / (len(cross) - 2)
        drift_err = float(math.sqrt(var / sxx)) if sxx > 0 else math.nan

    # independent slope check at X_c
    half = slope_window if slope_window is not None else 0.15 * span
    sl_t, sl = [], []
    for t, x_i, y_i in iso:
        sel = np.abs(x_i - xc) <= half
        if sel.sum() >= 3:
            k = float(np.polyfit(x_i[sel], y_i[sel], 1)[0])
            if k != 0:
                sl_t.append(t)
                sl.append(abs(k))
    znu_sl = znu_sl_err = math.nan
    if len(sl) >= 3:
        (k1, _k0), cv = np.polyfit(np.log(sl_t), np.log(sl), 1, cov=True)
        if k1 < 0:
            znu_sl = float(-1.0 / k1)
            znu_sl_err = float(math.sqrt(cv[0, 0]) / k1**2)

    msgs = []
    if collapses:
        msgs.append(f"the isotherms collapse (residual/noise variance {chi2:.2g} <= {chi2_max:g}): "
                    f"X_c = {xc:.5g} +- {xc_err:.2g}, zν = {1 / s:.4g} +- {s_err / s**2:.2g}, "
                    f"R_c = {r_c:.5g} Ohm = {r_c / R_Q_OHM:.3g} h/4e²")
    else:
        msgs.append(f"the isotherms do NOT collapse on one curve R_c F((X - X_c) T^(-1/zν)): residual/noise "
                    f"variance {chi2:.3g} > {chi2_max:g}; the X_c and zν quoted are the best compromise only")
    if len(cross) == 0:
        msgs.append("no two neighbouring isotherms cross on their common X range")
    elif math.isfinite(drift):
        sig = abs(drift) / drift_err if drift_err > 0 else math.inf
        msgs.append(f"crossing point drifts by {drift:.3g} +- {drift_err:.2g} X-units per K "
                    f"({sig:.1f} sigma) over {len(cross)} isotherm pairs")
    return ScalingResult(
        x_c=xc, x_c_stderr=xc_err, znu=1.0 / s, znu_stderr=s_err / s**2, r_c=r_c, r_c_stderr=r_c * ln_rc_err,
        r_c_over_rq=r_c / R_Q_OHM, collapses=collapses, chi2_noise=float(chi2), crossings=cross, drift=drift,
        drift_stderr=drift_err, znu_slope=znu_sl, znu_slope_stderr=znu_sl_err,
        u=(xs - xc) * tn ** (-s), ln_r=ys, temperature=ts, master=np.asarray(coef), u_scale=u_scale,
        t_ref=t_ref,
        messages=tuple(msgs),
    )
