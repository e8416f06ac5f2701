r"""Profile-likelihood, bootstrap and linear confidence intervals for lmfit fits.

All functions take an lmfit :class:`~lmfit.model.ModelResult` produced by
``model.fit(y, params, weights=w, **{xname: x})`` and refit the same problem (``result.model``,
``result.params``, ``result.data``, ``result.weights``, ``result.userkws``).  They are pure: no
I/O, no figures, and the ``result`` passed in is never modified.

Profile likelihood
    The parameter :math:`\theta` is fixed on points walking out from the best value on each side,
    all other free parameters are refitted (warm start from the previous point, extrapolated), and
    the interval ends are where

    .. math:: \Delta\chi^2(\theta)/s = \chi^2(\theta) - \chi^2_{min} = q_1(\ell),

    with :math:`q_1(\ell)` the quantile of the :math:`\chi^2` distribution with one degree of
    freedom at the confidence level :math:`\ell` (:math:`q_1 = 1, 4, 9` for the 1, 2, 3 σ levels
    0.6827, 0.9545, 0.9973, which are taken as exact) and :math:`s`
    the :math:`\chi^2` normalisation (``scale``: 1 when the weights are :math:`1/\sigma`; the
    reduced :math:`\chi^2` times the square of any error widening otherwise).  The crossing is
    refined by regula falsi (Illinois) on :math:`\sqrt{\Delta\chi^2/s}`, which is linear in
    :math:`\theta` for a model linear in its parameters, so the profile interval equals the
    linearised :math:`\pm\sigma` there.  A side that reaches the parameter bound without crossing
    gives a one-sided limit (``"upper limit"``: :math:`\theta \le` upper, lower = the bound);
    when no side crosses the interval is ``"not determined"``.  A point with
    :math:`\Delta\chi^2 < 0` means the fit had stopped short of the minimum: the whole problem is
    refitted from that point and the profile restarted (``Interval.recentred``).
    Reference: W. T. Eadie et al., *Statistical Methods in Experimental Physics* (1971), ch. 9;
    F. James, *Statistical Methods in Experimental Physics*, 2nd ed. (2006), sec. 9.5;
    S. S. Wilks, Ann. Math. Stat. 9, 60 (1938).

Bootstrap
    Residual bootstrap: the weighted residuals :math:`r_i = w_i(y_i - f_i)` of the best fit are
    centred, inflated by :math:`\sqrt{n/(n-p)}` (they are smaller than the noise by the
    :math:`p` fitted degrees of freedom) and resampled with replacement in blocks of ``block``
    consecutive points (moving-block bootstrap, which keeps correlations shorter than the block),
    :math:`y^*_i = f_i + r^*_i/w_i`; every replicate is refitted from the best values and the
    interval is the percentile interval of the replicates (15.87 % / 84.13 % for 68.27 %).
    Reference: B. Efron & R. J. Tibshirani, *An Introduction to the Bootstrap* (1993), ch. 9 and 13;
    H. R. Künsch, Ann. Stat. 17, 1217 (1989) (moving blocks).

Linear
    :math:`\hat\theta \pm \sqrt{q_1(\ell)}\,\sigma_{lin}` clipped to the bounds.

Refits use MINPACK ``leastsq`` (as lmfit's default method) on lmfit's own Minuit-style bound
transform, with a modest evaluation budget and no covariance estimate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import lmfit
import numpy as np
from scipy.optimize import leastsq
from scipy.stats import chi2 as _chi2

__all__ = [
    "Interval",
    "bootstrap_intervals",
    "linear_interval",
    "profile_interval",
    "profile_intervals",
]

KINDS = ("two-sided", "upper limit", "lower limit", "not determined")
METHODS = ("profile", "bootstrap", "linear")

_BETTER_MIN = 0.01
"""A profile point with Δχ²/scale below -_BETTER_MIN counts as a better minimum (restart)."""
_MAX_RESTARTS = 3
_FTOL = 1e-8
"""Relative tolerance (chi-square and parameters) of the profile refits."""
_BOOT_TOL = 1e-5
"""Looser tolerance of the bootstrap refits (a replicate needs to be right to a small fraction of σ)."""


@dataclass(frozen=True)
class Interval:
    """A confidence interval of one parameter, in the parameter's unit.

    Attributes
    ----------
    best
        Best-fit value (re-centred when profiling found a better minimum).
    lower, upper
        Interval ends; for a one-sided limit the open side is the parameter bound (may be
        ``±inf``); NaN when unknown.
    kind
        ``"two-sided"``, ``"upper limit"`` (θ ≤ upper), ``"lower limit"`` (θ ≥ lower) or
        ``"not determined"``.
    method
        ``"profile"``, ``"bootstrap"`` or ``"linear"``.
    level
        Confidence level (0.6827 = 1σ).
    recentred
        Profiling found a lower χ² than the fit's (the fit had not converged): ``best`` is the new minimum.
    refits
        Number of refits spent (profile: points evaluated; bootstrap: replicates refitted).
    """

    best: float
    lower: float
    upper: float
    kind: str
    method: str
    level: float = 0.6827
    recentred: bool = False
    refits: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Interval.kind must be one of {KINDS}, got {self.kind!r}")
        if self.method not in METHODS:
            raise ValueError(f"Interval.method must be one of {METHODS}, got {self.method!r}")

    @property
    def minus(self) -> float:
        """Distance best - lower (NaN for an open lower side)."""
        return self.best - self.lower if self.kind in ("two-sided", "lower limit") else math.nan

    @property
    def plus(self) -> float:
        """Distance upper - best (NaN for an open upper side)."""
        return self.upper - self.best if self.kind in ("two-sided", "upper limit") else math.nan

    def statement(self, name: str = "x", unit: str = "", fmt: str = ".3g") -> str:
        """One-line human statement, e.g. ``"P ≤ 0.38 at 68 % (profile)"``."""
        u = f" {unit}" if unit and unit != "1" else ""
        pct = f"{100 * self.level:.0f} %"
        if self.kind == "upper limit":
            body = f"{name} ≤ {self.upper:{fmt}}{u}"
        elif self.kind == "lower limit":
            body = f"{name} ≥ {self.lower:{fmt}}{u}"
        elif self.kind == "two-sided":
            body = (f"{name} = {self.best:{fmt}}{u} (+{self.upper - self.best:{fmt}} / "
                    f"-{self.best - self.lower:{fmt}})")
        else:
            body = f"{name} not determined (within [{self.lower:{fmt}}, {self.upper:{fmt}}]{u})"
        return f"{body} at {pct} ({self.method})"


def _quantile(level: float) -> float:
    """χ²₁ quantile of ``level``; the rounded levels 0.6827, 0.9545, 0.9973 mean exactly 1, 2, 3 σ."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    for k in (1, 2, 3):
        if abs(level - math.erf(k / math.sqrt(2.0))) < 5e-5:
            return float(k * k)
    return float(_chi2.ppf(level, 1))


def linear_interval(value: float, stderr: float, pmin: float = -math.inf, pmax: float = math.inf, *,
                    level: float = 0.6827) -> Interval:
    r"""Linearised interval :math:`\hat\theta \pm \sqrt{q_1(\ell)}\,\sigma` clipped to ``[pmin, pmax]``.

    A side clipped by a bound is open: one clipped side gives a one-sided limit, two give
    ``"not determined"``; a non-finite ``stderr`` gives ``"not determined"`` with NaN ends.

    Parameters
    ----------
    value, stderr
        Best value and linearised standard error (same unit).
    pmin, pmax
        Parameter bounds.
    level
        Confidence level.
    """
    value = float(value)
    if not (math.isfinite(value) and math.isfinite(stderr) and stderr >= 0):
        return Interval(value, math.nan, math.nan, "not determined", "linear", level)
    half = math.sqrt(_quantile(level)) * float(stderr)
    lo, hi = value - half, value + half
    lo_open, hi_open = lo <= pmin, hi >= pmax
    lo, hi = max(lo, pmin), min(hi, pmax)
    kind = {(False, False): "two-sided", (True, False): "upper limit",
            (False, True): "lower limit", (True, True): "not determined"}[(lo_open, hi_open)]
    return Interval(value, lo, hi, kind, "linear", level)


# --------------------------------------------------------------------------------------------------
# the refit machinery


def _to_internal(v: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """lmfit's Minuit-style external -> internal transform (vectorised)."""
    u = np.array(v, dtype=float)
    both = np.isfinite(lo) & np.isfinite(hi)
    only_lo = np.isfinite(lo) & ~np.isfinite(hi)
    only_hi = ~np.isfinite(lo) & np.isfinite(hi)
    with np.errstate(invalid="ignore", divide="ignore"):
        span = np.where(both, hi - lo, 1.0)
        u[both] = np.arcsin(np.clip(2 * (v[both] - lo[both]) / span[both] - 1, -1.0, 1.0))
        u[only_lo] = np.sqrt(np.maximum((v[only_lo] - lo[only_lo] + 1.0) ** 2 - 1.0, 0.0))
        u[only_hi] = np.sqrt(np.maximum((hi[only_hi] - v[only_hi] + 1.0) ** 2 - 1.0, 0.0))
    return u


def _from_internal(u: np.ndarray, lo: np.ndarray, hi: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_to_internal` (kinds: 0 free, 1 both bounds, 2 min only, 3 max only)."""
    v = np.array(u, dtype=float)
    m = kinds == 1
    v[m] = lo[m] + (np.sin(u[m]) + 1.0) * (hi[m] - lo[m]) / 2.0
    m = kinds == 2
    v[m] = lo[m] - 1.0 + np.sqrt(u[m] * u[m] + 1.0)
    m = kinds == 3
    v[m] = hi[m] + 1.0 - np.sqrt(u[m] * u[m] + 1.0)
    return v


class _Problem:
    """The least-squares problem of a ModelResult, with cheap partial refits."""

    def __init__(self, result: lmfit.model.ModelResult) -> None:
        self.model = result.model
        self.pars = result.params.copy()
        data = np.asarray(result.data)
        self.weights = None if result.weights is None else np.asarray(result.weights)
        self.userkws = dict(result.userkws or {})
        self.free = [n for n, p in self.pars.items() if p.vary and not p.expr]
        self.has_expr = any(bool(p.expr) for p in self.pars.values())
        self.lo = np.array([self.pars[n].min if self.pars[n].min is not None else -np.inf for n in self.free],
                           dtype=float)
        self.hi = np.array([self.pars[n].max if self.pars[n].max is not None else np.inf for n in self.free],
                           dtype=float)
        self.data = data
        self.omit = getattr(self.model, "nan_policy", "raise") == "omit"
        self.mask: np.ndarray | None = None
        if self.omit:
            ok = np.isfinite(data)
            if self.weights is not None:
                ok &= np.isfinite(self.weights)
            self.mask = ok
        self.best = np.array([self.pars[n].value for n in self.free], dtype=float)
        self.nfev = 0
        self.chi2min = self.chisqr(self.best)

    # -- evaluation --
    def _set(self, values: np.ndarray, names: Sequence[str]) -> None:
        for n, v in zip(names, values, strict=True):
            self.pars[n].value = float(v)
        if self.has_expr:
            self.pars.update_constraints()

    def fitted(self, values: np.ndarray) -> np.ndarray:
        """Model values at the free-parameter vector ``values``."""
        self._set(values, self.free)
        return np.asarray(self.model.eval(self.pars, **self.userkws))

    def _residual(self, data: np.ndarray) -> np.ndarray:
        self.nfev += 1
        r = np.asarray(self.model._residual(self.pars, data, self.weights, **self.userkws), dtype=float)
        if self.mask is not None:
            r = r[self.mask]
        return r

    def chisqr(self, values: np.ndarray, data: np.ndarray | None = None) -> float:
        """Sum of squared weighted residuals at ``values`` (all free parameters)."""
        self._set(values, self.free)
        r = self._residual(self.data if data is None else data)
        return float(np.dot(r, r)) if np.all(np.isfinite(r)) else math.inf

    # -- refits --
    def refit(self, start: np.ndarray, fixed: int | None = None, fixed_value: float = math.nan,
              data: np.ndarray | None = None, max_nfev: int = 200,
              tol: float = _FTOL) -> tuple[np.ndarray, float]:
        """Minimise χ² over the free parameters (all but index ``fixed``) from ``start``.

        Returns the full free-parameter vector and its χ² (``inf`` when the model is not finite).
        """
        d = self.data if data is None else data
        vals = np.clip(np.array(start, dtype=float), self.lo, self.hi)
        if fixed is not None:
            vals[fixed] = fixed_value
        idx = np.array([i for i in range(len(self.free)) if i != fixed], dtype=int)
        if idx.size == 0:
            return vals, self.chisqr(vals, d)
        lo, hi = self.lo[idx], self.hi[idx]
        kinds = np.where(np.isfinite(lo) & np.isfinite(hi), 1,
                         np.where(np.isfinite(lo), 2, np.where(np.isfinite(hi), 3, 0)))
        names = [self.free[i] for i in idx]
        if fixed is not None:
            self._set(vals[[fixed]], [self.free[fixed]])
        n_res = int(self.mask.sum()) if self.mask is not None else int(np.size(d))
        big = np.full(n_res, 1e150)

        def fun(u: np.ndarray) -> np.ndarray:
            self._set(_from_internal(u, lo, hi, kinds), names)
            r = self._residual(d)
            return r if np.all(np.isfinite(r)) else big

        u0 = _to_internal(vals[idx], lo, hi)
        with np.errstate(all="ignore"):
            out = leastsq(fun, u0, full_output=True, maxfev=max_nfev, ftol=tol, xtol=tol)
        vals[idx] = _from_internal(np.asarray(out[0], dtype=float), lo, hi, kinds)
        return vals, self.chisqr(vals, d)


def _sigma_step(result: lmfit.model.ModelResult, name: str, scale: float) -> float:
    """Linear 1σ consistent with ``scale`` (lmfit's stderr is scaled by redchi when scale_covar)."""
    p = result.params[name]
    se = p.stderr
    if se is None or not math.isfinite(se) or se <= 0:
        return math.nan
    if getattr(result, "scale_covar", True):
        redchi = float(getattr(result, "redchi", math.nan))
        if not (math.isfinite(redchi) and redchi > 0):
            return math.nan
        return float(se) * math.sqrt(scale / redchi)
    return float(se) * math.sqrt(scale)


# --------------------------------------------------------------------------------------------------
# profile likelihood


class _Restart(Exception):
    def __init__(self, values: np.ndarray) -> None:
        super().__init__("better minimum")
        self.values = values


def _profile_once(prob: _Problem, i: int, step: float, scale: float, q: float, budget: list[int],
                  cov_row: np.ndarray | None) -> tuple[tuple[str, float], tuple[str, float]]:
    """Walk both sides of free parameter ``i``; returns ((status, end), (status, end)) for lower, upper.

    status: ``"cross"`` (end = crossing), ``"bound"`` (reached the bound or a non-finite model
    without crossing; end = that point) or ``"open"`` (refit budget exhausted; end = bound).
    """
    x0 = float(prob.best[i])
    best = prob.best.copy()
    sq = math.sqrt(q)

    def delta(vals: np.ndarray, chi2: float) -> float:
        dd = (chi2 - prob.chi2min) / scale
        if dd < -_BETTER_MIN:
            raise _Restart(vals)
        return dd

    def point(x: float, start: np.ndarray) -> tuple[np.ndarray, float]:
        budget[0] -= 1
        vals, c = prob.refit(start, fixed=i, fixed_value=x)
        return vals, delta(vals, c) if math.isfinite(c) else math.inf

    sides: list[tuple[str, float]] = []
    for sgn in (-1.0, 1.0):
        bound = float(prob.lo[i] if sgn < 0 else prob.hi[i])
        room = abs(bound - x0)
        if room <= 1e-12 * max(abs(x0), 1.0):
            sides.append(("bound", bound))
            continue
        # evaluated points along this side: distance, Δχ², parameter vector
        pts: list[tuple[float, float, np.ndarray]] = [(0.0, 0.0, best)]
        d = min(1.1 * math.sqrt(q) * step, room)  # just beyond the linear crossing: one point brackets it
        result: tuple[str, float] | None = None
        while budget[0] > 0:
            x = x0 + sgn * d
            at_bound = d >= room
            if at_bound:
                x = bound
            # warm start: extrapolate the other parameters along the profile path
            if len(pts) >= 2:
                (d1, _, v1), (d2, _, v2) = pts[-2], pts[-1]
                start = v2 + (v2 - v1) * (d - d2) / (d2 - d1)
            elif cov_row is not None:
                start = best + cov_row * (sgn * d)
            else:
                start = best
            vals, dd = point(x, start)
            if not math.isfinite(dd):
                # the model is not finite here: a physical limit (or an optimiser failure)
                lim = x0 + sgn * pts[-1][0]
                # try a plain start before giving up
                if len(pts) >= 2 and budget[0] > 0:
                    vals, dd = point(x, pts[-1][2])
                if not math.isfinite(dd):
                    result = ("bound", lim)
                    break
            if dd >= q:
                result = ("cross", _refine(prob, i, x0, sgn, pts[-1], (d, dd, vals), q, budget, point))
                break
            pts.append((d, max(dd, 0.0), vals))
            if at_bound:
                result = ("bound", bound)
                break
            # next distance: the quadratic estimate of the crossing, overshooting a little
            grow = 1.15 * sq / math.sqrt(dd) if dd > 1e-3 * q else 4.0
            d = min(d * float(np.clip(grow, 1.3, 4.0)), room)
        sides.append(result if result is not None else ("open", bound))
    return sides[0], sides[1]


def _refine(prob: _Problem, i: int, x0: float, sgn: float, inside: tuple[float, float, np.ndarray],
            outside: tuple[float, float, np.ndarray], q: float, budget: list[int], point: Any) -> float:
    """Illinois regula falsi on g(d) = sqrt(Δχ²/s) - sqrt(q) between ``inside`` and ``outside``."""
    sq = math.sqrt(q)
    da, ga, va = inside[0], math.sqrt(max(inside[1], 0.0)) - sq, inside[2]
    db, fb, _ = outside
    gb = (math.sqrt(fb) - sq) if math.isfinite(fb) else math.inf
    if not math.isfinite(gb):
        # the outer point is non-finite: bisect until finite
        gb = 1.0
    side = 0
    tol_g = 1e-3 * sq
    tol_d = 1e-6 * max(abs(db), abs(x0), 1e-300)
    for _ in range(60):
        if budget[0] <= 0 or abs(db - da) <= tol_d:
            break
        if gb > 2.0 * sq:
            # the outer point is far beyond the crossing (e.g. a bound): regula falsi would creep in from
            # the inside, so step to the quadratic estimate from the inside point, at most half-way
            fa = (ga + sq) ** 2
            est = da * math.sqrt(q / fa) * 1.05 if fa > 1e-3 * q and da > 0 else da + 0.5 * (db - da)
            dc = float(np.clip(est, da + 0.1 * (db - da), da + 0.5 * (db - da)))
        else:
            dc = db - gb * (db - da) / (gb - ga) if gb != ga else 0.5 * (da + db)
        if not (min(da, db) < dc < max(da, db)):
            dc = 0.5 * (da + db)
        start = va  # the inside point is connected to the minimum; the outer one may sit in another valley
        vc, fc = point(x0 + sgn * dc, start)
        gc = (math.sqrt(max(fc, 0.0)) - sq) if math.isfinite(fc) else 1.0
        if abs(gc) <= tol_g:
            return x0 + sgn * dc
        if gc < 0:
            da, ga, va = dc, gc, vc
            if side == -1:
                gb *= 0.5
            side = -1
        else:
            db, gb = dc, gc
            if side == 1:
                ga *= 0.5
            side = 1
    # budget exhausted: linear interpolation inside the last bracket
    dc = db - gb * (db - da) / (gb - ga) if gb != ga else 0.5 * (da + db)
    return x0 + sgn * float(np.clip(dc, min(da, db), max(da, db)))


def _cov_row(result: lmfit.model.ModelResult, prob: _Problem, name: str) -> np.ndarray | None:
    """d(other best values)/d(name) along the profile path from the covariance (a warm start)."""
    covar = getattr(result, "covar", None)
    var_names = list(getattr(result, "var_names", []) or [])
    if covar is None or name not in var_names:
        return None
    covar = np.asarray(covar, dtype=float)
    if covar.shape != (len(var_names), len(var_names)) or not np.all(np.isfinite(covar)):
        return None
    k = var_names.index(name)
    if covar[k, k] <= 0:
        return None
    row = np.zeros(len(prob.free))
    for j, n in enumerate(prob.free):
        if n in var_names:
            row[j] = covar[var_names.index(n), k] / covar[k, k]
    return row


def _initial_step(result: lmfit.model.ModelResult, prob: _Problem, name: str, scale: float) -> float:
    i = prob.free.index(name)
    step = _sigma_step(result, name, scale)
    if math.isfinite(step) and step > 0:
        return step
    lo, hi, x0 = prob.lo[i], prob.hi[i], prob.best[i]
    if math.isfinite(lo) and math.isfinite(hi):
        return 0.05 * (hi - lo)
    return 0.1 * max(abs(x0), 1e-3 if (math.isfinite(lo) or math.isfinite(hi)) else 1.0)


def _profile(result: lmfit.model.ModelResult, prob: _Problem, name: str, scale: float, level: float,
             max_refits: int) -> Interval:
    if name not in result.params:
        raise KeyError(f"no parameter {name!r} in the fit (have {list(result.params)})")
    if name not in prob.free:
        raise ValueError(f"parameter {name!r} is not a free parameter of the fit (fixed or constrained)")
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive finite number, got {scale}")
    q = _quantile(level)
    i = prob.free.index(name)
    budget = [int(max_refits)]
    recentred = False
    for _ in range(_MAX_RESTARTS + 1):
        step = _initial_step(result, prob, name, scale)
        cov = None if recentred else _cov_row(result, prob, name)
        try:
            lower, upper = _profile_once(prob, i, step, scale, q, budget, cov)
        except _Restart as r:
            # Δχ² < 0: the fit had not reached the minimum; refit everything from the better point
            vals, c = prob.refit(r.values, max_nfev=2000)
            prob.best, prob.chi2min = vals, c
            recentred = True
            budget[0] = max(budget[0], max_refits // 2)
            continue
        break
    else:
        return Interval(float(prob.best[i]), math.nan, math.nan, "not determined", "profile", level,
                        recentred, int(max_refits - budget[0]))
    kinds = {("cross", "cross"): "two-sided"}
    lo_ok, hi_ok = lower[0] == "cross", upper[0] == "cross"
    kind = kinds.get((lower[0], upper[0])) or (
        "upper limit" if hi_ok else "lower limit" if lo_ok else "not determined")
    lo_end = lower[1] if lo_ok else float(prob.lo[i]) if lower[0] == "open" else lower[1]
    hi_end = upper[1] if hi_ok else float(prob.hi[i]) if upper[0] == "open" else upper[1]
    return Interval(float(prob.best[i]), float(lo_end), float(hi_end), kind, "profile", level, recentred,
                    int(max_refits - budget[0]))


def profile_interval(result: lmfit.model.ModelResult, name: str, *, scale: float = 1.0,
                     level: float = 0.6827, max_refits: int = 40) -> Interval:
    r"""Profile-likelihood interval of one free parameter of a fit.

    Parameters
    ----------
    result
        lmfit ModelResult of ``model.fit(y, params, weights=w, **{xname: x})``.
    name
        Free parameter to profile.
    scale
        χ² normalisation :math:`s` (1 when the weights are 1/σ; pass the reduced χ² times the
        square of any error widening otherwise).
    level
        Confidence level; the crossing is at :math:`\Delta\chi^2/s = q_1(\ell)` (0.99998 for 0.6827).
    max_refits
        Budget of refits for both sides together (a restart after a better minimum adds half again).

    Returns
    -------
    Interval
        ``method="profile"``; ``kind`` ``"two-sided"``, ``"upper limit"``, ``"lower limit"`` or
        ``"not determined"``.
    """
    prob = _Problem(result)
    return _profile(result, prob, name, float(scale), level, max_refits)


def _free_names(result: lmfit.model.ModelResult, names: Iterable[str] | None) -> list[str]:
    if names is None:
        return [n for n, p in result.params.items() if p.vary and not p.expr]
    return list(names)


def profile_intervals(result: lmfit.model.ModelResult, names: Iterable[str] | None = None, *,
                      scale: float | Mapping[str, float] = 1.0, level: float = 0.6827,
                      max_refits: int = 40) -> dict[str, Interval]:
    """Profile-likelihood intervals of several parameters (default: every free parameter).

    ``scale`` is one χ² normalisation or one per parameter name (missing names: 1).  When one
    profile finds a better minimum, the parameters profiled before it are profiled again from it.
    See :func:`profile_interval`.
    """
    todo = _free_names(result, names)
    prob = _Problem(result)

    def one(n: str) -> Interval:
        s = float(scale.get(n, 1.0)) if isinstance(scale, Mapping) else float(scale)
        return _profile(result, prob, n, s, level, max_refits)

    chi2_start = prob.chi2min
    out = {n: one(n) for n in todo}
    if prob.chi2min < chi2_start and len(todo) > 1:
        # a profile found a better minimum: every interval again from it (flagged as re-centred)
        out = {n: replace(one(n), recentred=True) for n in todo}
    return out


# --------------------------------------------------------------------------------------------------
# bootstrap


def _block_indices(n: int, block: int, rng: np.random.Generator) -> np.ndarray:
    """Moving-block bootstrap indices: random blocks of ``block`` consecutive points, cut to ``n``."""
    block = int(min(max(block, 1), n))
    n_blocks = -(-n // block)
    starts = rng.integers(0, n - block + 1, size=n_blocks)
    return (starts[:, None] + np.arange(block)[None, :]).ravel()[:n]


def bootstrap_intervals(result: lmfit.model.ModelResult, names: Iterable[str] | None = None, *,
                        n_boot: int = 200, block: int = 1, seed: int = 0, level: float = 0.6827,
                        max_nfev: int = 200) -> dict[str, Interval]:
    r"""Residual (moving-block) bootstrap percentile intervals.

    Parameters
    ----------
    result
        lmfit ModelResult (real-valued data; weights 1/σ or relative).
    names
        Parameters to report (default: every free parameter); all free parameters are refitted.
    n_boot
        Number of replicates.
    block
        Block length of the moving-block bootstrap (1 = ordinary residual bootstrap); use a block
        longer than the residual correlation length for correlated noise.
    seed
        Seed of ``numpy.random.default_rng``.
    level
        Confidence level; the interval is the (1-ℓ)/2 and (1+ℓ)/2 percentiles of the replicates.
    max_nfev
        Evaluation budget of each replicate's refit (warm start from the best fit).

    Returns
    -------
    dict of Interval
        ``method="bootstrap"``.  A side whose percentile sits on the parameter bound is open
        (one-sided limit); fewer than half the replicates converging gives ``"not determined"``.
    """
    prob = _Problem(result)
    todo = _free_names(result, names)
    for n in todo:
        if n not in prob.free:
            raise ValueError(f"parameter {n!r} is not a free parameter of the fit")
    if np.iscomplexobj(prob.data):
        raise ValueError("bootstrap_intervals supports real-valued data only")
    best = prob.best.copy()
    f = prob.fitted(best)
    w = np.ones(prob.data.shape) if prob.weights is None else np.asarray(prob.weights, dtype=float)
    ok = np.isfinite(prob.data) & np.isfinite(w) & (w != 0) & np.isfinite(f)
    pos = np.flatnonzero(ok)
    r = (prob.data[pos] - f[pos]) * w[pos]
    n, p = r.size, len(prob.free)
    r = (r - r.mean()) * math.sqrt(n / max(n - p, 1))
    rng = np.random.default_rng(seed)
    reps = np.full((n_boot, p), np.nan)
    for b in range(n_boot):
        y = prob.data.astype(float).copy()
        y[pos] = f[pos] + r[_block_indices(n, block, rng)] / w[pos]
        vals, c = prob.refit(best, data=y, max_nfev=max_nfev, tol=_BOOT_TOL)
        if math.isfinite(c):
            reps[b] = vals
    good = np.all(np.isfinite(reps), axis=1)
    out: dict[str, Interval] = {}
    qlo, qhi = 50.0 * (1.0 - level), 50.0 * (1.0 + level)
    for name in todo:
        i = prob.free.index(name)
        x0 = float(best[i])
        if good.sum() < max(0.5 * n_boot, 2):
            out[name] = Interval(x0, math.nan, math.nan, "not determined", "bootstrap", level,
                                 refits=n_boot)
            continue
        lo, hi = np.percentile(reps[good, i], [qlo, qhi])
        pmin, pmax = float(prob.lo[i]), float(prob.hi[i])
        span = float(np.ptp(reps[good, i])) or max(abs(x0), 1.0)
        tol = 1e-6 * span
        lo_open = math.isfinite(pmin) and lo - pmin <= tol
        hi_open = math.isfinite(pmax) and pmax - hi <= tol
        kind = {(False, False): "two-sided", (True, False): "upper limit",
                (False, True): "lower limit", (True, True): "not determined"}[(lo_open, hi_open)]
        out[name] = Interval(x0, pmin if lo_open else float(lo), pmax if hi_open else float(hi), kind,
                             "bootstrap", level, refits=n_boot)
    return out
