r"""Fit quality: noise measured from the data, residual tests, honest errors and the verdict.

Every fit in fitkit passes through :func:`assess` (called by :func:`fitkit.fitting.fit.record_from_result`),
which returns a :class:`Assessment`: the verdict (``ok`` / ``suspect`` / ``failed``) with one sentence per
reason, calibrated warnings, the goodness-of-fit figures and, when the residuals are correlated, widened
standard errors.  The rules live here and nowhere else.

Noise, independently of the model
---------------------------------
``sweeps``
    When the curve is the average of several sweeps (:func:`fitkit.preprocess.average_sweeps` records the
    median standard error of the mean ``sem``), that spread is the noise per point, scaled by later
    normalisation steps.
``difference``
    Otherwise a difference estimator: the deviation of each point from the straight line through its two
    neighbours (sorted in x),

    .. math:: e_i = y_i - \frac{h_+ y_{i-1} + h_- y_{i+1}}{h_- + h_+},\qquad
              \operatorname{var} e_i = \sigma^2\left(1 + \frac{h_-^2 + h_+^2}{(h_- + h_+)^2}\right),

    with :math:`h_\mp` the spacings to the neighbours, taken robustly as
    :math:`\sigma = 1.4826\,\mathrm{median}|e_i/\sqrt{\cdot}|` so that a few sharp features do not count
    as noise (Rice 1984; Gasser, Sroka & Jennen-Steinmetz 1986).  For relative weights (R(T) fits) the
    estimator works on :math:`\ln|y|`.  Correlated noise (a lock-in time constant) makes neighbours alike
    and this estimate too small by :math:`(1.5 - 2\rho_1 + 0.5\rho_2)/1.5`; when the residual correlation is
    short-ranged (see below) the estimate is corrected by that factor, with :math:`\rho_{1,2}` the residual
    autocorrelations.

Residual tests
--------------
``lag1`` and ``durbin_watson`` (:math:`d = \sum (r_i - r_{i-1})^2/\sum r_i^2 \approx 2(1-\rho_1)`);
``runs_z`` (Wald–Wolfowitz runs test on the residual signs, standard normal under independence;
negative: too few runs); ``structure_z``: the residuals are whitened with an AR(2) model fitted by
Yule–Walker, and the sum of the whitened autocorrelations at lags 3..L is compared with its null spread
:math:`\sqrt{(L-2)/N}`.  Correlated *noise* (an AR process of low order) whitens to zero; a *misfit*
(a smooth systematic deviation) leaves positive long-range correlation.

Errors under correlated residuals
---------------------------------
When the residual lag-1 autocorrelation is significant (:math:`\rho_1 > 3/\sqrt N`), the residuals are
modelled as an autoregressive process AR(p), :math:`p \le 10` chosen by AIC (Yule–Walker), and the
covariance of the least-squares estimate is the sandwich

.. math:: C = (J^T J)^{-1} J^T \Sigma J (J^T J)^{-1},

with :math:`J` the Jacobian of the weighted model and :math:`\Sigma` the AR autocovariance (Toeplitz) scaled
to the residual variance.  For white residuals this equals lmfit's :math:`\chi^2_\nu (J^T J)^{-1}`; errors
are only ever widened, never narrowed.  (Fuller, *Introduction to Statistical Time Series*, 2nd ed., 1996,
§9.1; the sandwich form is the one of White 1980 / Newey & West 1987 with a parametric autocovariance.)

Verdict
-------
``failed``: no convergence or non-finite values; no degrees of freedom; a gross miss (χ²/ν against the
data's own noise above :data:`GROSS_MISS`).  ``suspect``: residuals well above the noise with systematic
structure, or above :data:`CHI2_SUSPECT` against a sweep-to-sweep noise; parameters at a bound that is not a
physical limit at 0; parameters that are not separately identifiable (:math:`R^2 > 0.9999` of a parameter
predicted by the others from the correlation matrix); fewer points than the fit supports; x values that
repeat (several curves in one); no significant feature (an F-test against a straight line); errors that
could not be estimated.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats
from scipy.linalg import matmul_toeplitz, solve_toeplitz

from fitkit.units import UNITS

__all__ = [
    "CHI2_SUSPECT",
    "GROSS_MISS",
    "Assessment",
    "assess",
    "estimate_noise",
    "residual_tests",
    "sweep_noise",
]

GROSS_MISS = 100.0
"""χ²/ν against the data's own noise above which a fit has failed (rms misfit ≥ 10 noise σ)."""

CHI2_SUSPECT = 4.0
"""χ²/ν against a sweep-to-sweep noise above which a fit is suspect (rms misfit ≥ 2 noise σ)."""

STRUCTURE_Z = 5.0
"""Whitened long-range residual correlation (in null σ) above which the residuals have structure."""

STRUCTURED_CHI2 = 2.0
"""With structured residuals, χ²/ν against the noise above which the structure matters (suspect)."""

IDENTIFIABLE_R2 = 0.9999
"""A parameter predicted by the others with R² above this is not separately determined."""

DEGENERATE_R2 = 0.99
"""Above this R² a parameter's error is dominated by a trade-off with others (warning, auto-profiled)."""

LOCALIZED_RATIO = 12.0
"""Worst-bin / median-bin ratio of residual to local noise variance above which a misfit is local."""

STRONG_CORRELATION = 0.85
"""Residual lag-1 autocorrelation above which correlated noise and a smooth misfit cannot be told apart
in one sweep (an AR(1) noise with this coefficient spans ~12 points)."""

MAX_CORRELATION_FACTOR = 10.0
"""Largest allowance (in variance) for correlated noise when the data give no sweep-to-sweep noise."""

POORLY_DETERMINED = 0.5
"""Relative standard error above which a positive (scale-like) parameter is poorly determined."""

MIN_POINTS_PER_PARAMETER = 3
"""Fewer points than this per free parameter (or ν < 5) make a fit suspect."""

FEATURE_ALPHA = 1e-3
"""F-test level: a model that does not beat a straight line at this level shows no significant feature."""

_MAD = 1.482602218505602  # 1/Phi^-1(3/4): MAD -> sigma for a normal distribution


@dataclass(frozen=True)
class Assessment:
    """What :func:`assess` found for one fit (plain data)."""

    verdict: str = "ok"
    reasons: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    quality: dict[str, Any] = field(default_factory=dict)
    stderr: dict[str, float] = field(default_factory=dict)
    correlations: dict[str, dict[str, float]] = field(default_factory=dict)
    flagged: tuple[str, ...] = ()
    """Free parameters whose linear error is not trustworthy (profile them in ``auto`` mode)."""


# ------------------------------------------------------------------------------------------ noise
def _neighbour_residuals(x: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normalised deviations from the line through the two neighbours (x sorted); index of centre."""
    h1 = x[1:-1] - x[:-2]
    h2 = x[2:] - x[1:-1]
    ok = (h1 > 0) & (h2 > 0)
    s = h1 + h2
    with np.errstate(invalid="ignore", divide="ignore"):
        pred = (h2 * z[:-2] + h1 * z[2:]) / s
        var = 1.0 + (h1 * h1 + h2 * h2) / (s * s)
        e = (z[1:-1] - pred) / np.sqrt(var)
    idx = np.arange(1, x.size - 1)
    good = ok & np.isfinite(e)
    return e[good], idx[good]


def estimate_noise(x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None,
                   relative: bool = False) -> float:
    """Noise per point in weighted-residual units, by the robust neighbour-difference estimator.

    Parameters
    ----------
    x, y
        The data (any order; sorted here by x, stable).
    weights
        The fit weights (1/σ_i up to a factor); None for unweighted fits.
    relative
        Estimate on ln|y| (multiplicative noise); the weighted scale is then ``w·|y|``.

    Returns
    -------
    float
        σ such that ``weights·(y − model)`` has standard deviation σ for white noise; NaN with < 5 points.
    """
    order = np.argsort(x, kind="stable")
    xs = np.asarray(x, dtype=float)[order]
    ys = np.asarray(y, dtype=float)[order]
    w = np.ones_like(ys) if weights is None else np.asarray(weights, dtype=float)[order]
    if relative:
        with np.errstate(divide="ignore"):
            z = np.log(np.abs(ys))
        scale = w * np.abs(ys)
    else:
        z = ys
        scale = w
    e, idx = _neighbour_residuals(xs, z)
    if e.size < 3:
        return math.nan
    ew = e * scale[idx]
    ew = ew[np.isfinite(ew)]
    if ew.size < 3:
        return math.nan
    return float(_MAD * np.median(np.abs(ew)))


def sweep_noise(steps: Sequence[Mapping[str, Any]], y_column: str) -> float | None:
    """Noise per point (in ``y_column``'s unit) from the sweep-to-sweep spread recorded by ``average_sweeps``.

    The ``sem`` recorded for the averaged source column is carried through later ``normalize`` steps
    (divided by their factor).  None when no such record exists or a later step changes the column in a
    way that is not a plain scaling (``differentiate``).
    """
    sem: dict[str, float] | None = None
    for st in steps:
        name = st.get("step")
        if name == "average_sweeps":
            rec = st.get("sem")
            sem = {str(k): float(v) for k, v in rec.items()} if isinstance(rec, Mapping) else None
        elif sem is not None and name == "normalize":
            src = str(st.get("column", ""))
            fac = st.get("factor")
            plain = st.get("method", "window") == "window"
            if src in sem and isinstance(fac, (int, float)) and fac > 0 and plain:
                sem["dIdV_norm"] = sem[src] / float(fac)
            else:
                sem.pop("dIdV_norm", None)
        elif sem is not None and name in ("differentiate", "calibrate_lockin"):
            sem = None
    if not sem or y_column not in sem:
        return None
    v = sem[y_column]
    return v if math.isfinite(v) and v > 0 else None


# -------------------------------------------------------------------------------- residual tests
def _acf(r: np.ndarray, nlags: int) -> np.ndarray:
    r = r - r.mean()
    d = float(np.dot(r, r))
    n = r.size
    if d <= 0 or n < 3:
        return np.zeros(nlags + 1)
    nl = min(nlags, n - 1)
    f = np.fft.rfft(r, 2 * n)
    ac = np.fft.irfft(f * np.conj(f))[: nl + 1] / d
    out = np.zeros(nlags + 1)
    out[: nl + 1] = ac
    return out


def _yule_walker(acf: np.ndarray, p: int) -> tuple[np.ndarray, float]:
    """AR(p) coefficients and innovation variance (relative to γ0) from autocorrelations."""
    if p == 0:
        return np.zeros(0), 1.0
    a = solve_toeplitz(acf[:p], acf[1 : p + 1])
    v = float(1.0 - np.dot(a, acf[1 : p + 1]))
    return np.asarray(a), v


def _ar_acf(acf: np.ndarray, a: np.ndarray, n: int) -> np.ndarray:
    """Autocorrelation of the fitted AR model up to lag n-1 (sample values up to lag p, then recursion)."""
    p = a.size
    out = np.zeros(n)
    out[: min(p + 1, n)] = acf[: min(p + 1, n)]
    for k in range(p + 1, n):
        out[k] = float(np.dot(a, out[k - 1 : k - p - 1 : -1])) if p else 0.0
        if abs(out[k]) < 1e-12:
            break
    return out


def residual_tests(r: np.ndarray) -> dict[str, float]:
    """Lag-1/lag-2 autocorrelation, Durbin–Watson, runs test z and the whitened structure z.

    ``r`` are weighted residuals in x order.
    """
    n = r.size
    out = {"lag1": math.nan, "lag2": math.nan, "durbin_watson": math.nan, "runs_z": math.nan,
           "structure_z": math.nan}
    if n < 8 or not np.any(r):
        return out
    nl = max(3, min(25, n // 10))
    acf = _acf(r, nl)
    out["lag1"], out["lag2"] = float(acf[1]), float(acf[2])
    out["durbin_watson"] = float(np.sum(np.diff(r) ** 2) / np.dot(r, r))
    pos = r > 0
    n1, n2 = int(pos.sum()), int((~pos).sum())
    if n1 and n2:
        runs = 1 + int(np.count_nonzero(pos[1:] != pos[:-1]))
        mu = 2.0 * n1 * n2 / n + 1.0
        var = 2.0 * n1 * n2 * (2.0 * n1 * n2 - n) / (n * n * (n - 1.0))
        out["runs_z"] = float((runs - mu) / math.sqrt(var)) if var > 0 else math.nan
    # whiten with AR(2) and look for correlation left at lags 3..L
    if n >= 30 and nl >= 4:
        try:
            a, _ = _yule_walker(acf, 2)
        except (np.linalg.LinAlgError, ValueError):
            a = np.zeros(2)
        rc = r - r.mean()
        e = rc[2:] - a[0] * rc[1:-1] - a[1] * rc[:-2]
        acf_e = _acf(e, nl)
        s = float(np.sum(acf_e[3 : nl + 1]))
        out["structure_z"] = s / math.sqrt((nl - 2) / e.size)
    return out


# ----------------------------------------------------------------------------- covariance tools
def _jacobian(result: Any, names: list[str]) -> np.ndarray | None:
    """Jacobian of the weighted model w.r.t. the free parameters (central differences)."""
    model = result.model
    params = result.params
    w = result.weights
    kws = dict(result.userkws)
    cols = []
    for n in names:
        p = params[n]
        v = float(p.value)
        se = p.stderr if (p.stderr is not None and np.isfinite(p.stderr) and p.stderr > 0) else None
        h = 1e-3 * se if se else 1e-6 * max(abs(v), 1e-6)
        lo, hi = v - h, v + h
        if np.isfinite(p.min) and lo < p.min:
            lo = v
        if np.isfinite(p.max) and hi > p.max:
            hi = v
        if hi == lo:
            return None
        pp = params.copy()
        for q in pp.values():
            q.vary = False
        pp[n].set(value=hi, min=-np.inf, max=np.inf)
        fp = model.eval(pp, **kws)
        pp[n].set(value=lo)
        fm = model.eval(pp, **kws)
        col = (np.asarray(fp, dtype=float) - np.asarray(fm, dtype=float)) / (hi - lo)
        if w is not None:
            col = col * np.asarray(w, dtype=float)
        cols.append(np.ravel(col))
    jac = np.column_stack(cols)
    return jac if np.all(np.isfinite(jac)) else None


def _projected_acf(q: np.ndarray, rho: np.ndarray, nl: int) -> np.ndarray:
    """Expected autocovariance (lags 0..nl, per point) of least-squares residuals of a unit-variance
    stationary noise with autocorrelation ``rho``: diagonals of (I − H) Σ (I − H), H = Q Qᵀ."""
    n = q.shape[0]
    m = matmul_toeplitz((rho, rho), q)  # Σ Q
    g = q.T @ m  # Qᵀ Σ Q
    qg = q @ g
    out = np.empty(nl + 1)
    for lag in range(nl + 1):
        a, b = slice(0, n - lag), slice(lag, n)
        s = (n - lag) * rho[lag]
        s -= float(np.sum(q[a] * m[b])) + float(np.sum(m[a] * q[b]))
        s += float(np.sum(qg[a] * q[b]))
        out[lag] = s / n
    return out


def _ar_sandwich(jac_sorted: np.ndarray, r_sorted: np.ndarray) -> np.ndarray | None:
    """Covariance of LS estimates under AR(p) residuals (p by AIC, ≤ 10), scaled to the noise variance.

    Residuals of a fit are the noise projected off the model's tangent space, which removes mostly its
    slow (correlated) part: their autocorrelation is biased low and their variance is smaller than the
    noise's.  Both are corrected with the exact expectation for an AR(1) noise, E[r rᵀ] = (I − H)Σ(I − H)
    (H the hat matrix): φ is solved so that the expected residual lag-1 autocorrelation equals the
    observed one, the observed autocorrelations are shifted by the expected bias, and the noise variance
    is the residual variance divided by the expected ratio.
    """
    n, k = jac_sorted.shape
    pmax = int(min(10, max(1, n // 20)))
    acf = _acf(r_sorted, pmax + 1)
    try:
        q, _ = np.linalg.qr(jac_sorted)
    except np.linalg.LinAlgError:
        return None
    lags = np.arange(n)
    phi = float(np.clip(acf[1], 0.0, 0.98))
    ratio = 1.0
    exp_rho = acf[: pmax + 2]
    for _ in range(4):  # fixed point on lag 1: expected residual ρ1 at φ equals the observed one
        pr = _projected_acf(q, phi ** lags, pmax + 1)
        if not pr[0] > 0:
            break
        exp_rho = pr / pr[0]
        ratio = float(pr[0])
        new_phi = float(np.clip(phi + (acf[1] - exp_rho[1]), 0.0, 0.98))
        if abs(new_phi - phi) < 1e-4:
            phi = new_phi
            break
        phi = new_phi
    acf_c = acf.copy()
    acf_c[1:] = np.clip(acf[1:] + (phi ** lags[1 : pmax + 2] - exp_rho[1 : pmax + 2]), -0.99, 0.99)
    best_p, best_aic, best_a = 0, 0.0, np.zeros(0)
    for p in range(1, pmax + 1):
        try:
            a, v = _yule_walker(acf_c, p)
        except (np.linalg.LinAlgError, ValueError):
            break
        if not (v > 0):
            break
        aic = n * math.log(v) + 2 * p
        if aic < best_aic:
            best_p, best_aic, best_a = p, aic, a
    if best_p == 0:
        return None
    rho = _ar_acf(acf_c, best_a, n)
    gamma0 = float(np.dot(r_sorted, r_sorted)) / n / max(ratio, 0.05)
    col = gamma0 * rho
    jtj = jac_sorted.T @ jac_sorted
    try:
        inv = np.linalg.inv(jtj)
    except np.linalg.LinAlgError:
        return None
    sj = matmul_toeplitz((col, col), jac_sorted)
    meat = jac_sorted.T @ sj
    cov = inv @ meat @ inv
    cov = 0.5 * (cov + cov.T)  # exactly symmetric (round-off of the triple product)
    return cov if np.all(np.isfinite(cov)) else None


def _r2_from_correlations(names: list[str], corr: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """R² of each free parameter predicted linearly by the others: 1 − 1/(C⁻¹)_ii."""
    k = len(names)
    if k < 2:
        return {}
    c = np.eye(k)
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            if i != j:
                c[i, j] = float(corr.get(a, {}).get(b, corr.get(b, {}).get(a, 0.0)))
    try:
        ci = np.linalg.inv(c)
    except np.linalg.LinAlgError:
        return dict.fromkeys(names, 1.0)
    d = np.diag(ci)
    return {n: (1.0 - 1.0 / d[i]) if d[i] > 0 else 1.0 for i, n in enumerate(names)}


# --------------------------------------------------------------------------------------- assess
def _is_relative(weights: np.ndarray | None, y: np.ndarray) -> bool:
    if weights is None:
        return False
    w = np.asarray(weights, dtype=float)
    prod = w * np.abs(y)
    good = np.isfinite(prod) & (prod > 0)
    if good.sum() < 3 or np.ptp(np.abs(y[good])) <= 0:
        return False
    return bool(np.ptp(prod[good]) <= 1e-6 * np.max(prod[good]))


def _localized_misfit(x: np.ndarray, y: np.ndarray, w: np.ndarray | None, resid: np.ndarray,
                      relative: bool) -> tuple[float, float, float]:
    """Is the misfit concentrated in one region of x?

    The sorted data are cut into bins of equal counts (≥ 20 points, ≤ 16 bins); in each bin the mean
    square residual is divided by the local noise variance (neighbour differences in the same bin).
    Returns (largest ratio / median ratio, largest ratio, centre x of the worst bin); NaN when the
    data are too short.  Stationary noise, white or correlated, gives similar ratios in every bin; a
    feature the model does not describe gives one bin far above the rest.
    """
    n = x.size
    nb = min(16, n // 20)
    if nb < 4:
        return math.nan, math.nan, math.nan
    order = np.argsort(x, kind="stable")
    xs, ys, rs = x[order], y[order], resid[order]
    ws = np.ones(n) if w is None else w[order]
    if relative:
        with np.errstate(divide="ignore"):
            z = np.log(np.abs(ys))
        scale = ws * np.abs(ys)
    else:
        z, scale = ys, ws
    e, idx = _neighbour_residuals(xs, z)
    ew = np.full(n, np.nan)
    ew[idx] = np.abs(e * scale[idx])
    m = n // nb  # equal-count bins; the last n - nb*m points join no bin
    noise = ew[: nb * m].reshape(nb, m)
    res2 = (rs[: nb * m] ** 2).reshape(nb, m)
    counts = np.sum(np.isfinite(noise), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN bin gives NaN, dropped below
        s2 = (_MAD * np.nanmedian(noise, axis=1)) ** 2
        ratios = np.mean(res2, axis=1) / s2
    good = (counts >= 8) & np.isfinite(ratios) & (s2 > 0)
    if good.sum() < 4:
        return math.nan, math.nan, math.nan
    arr = ratios[good]
    med = float(np.median(arr))
    if not med > 0:
        return math.nan, math.nan, math.nan
    k = int(np.argmax(arr))
    b = int(np.flatnonzero(good)[k])
    return float(arr[k] / med), float(arr[k]), float(np.median(xs[b * m : (b + 1) * m]))


def _feature_test(x: np.ndarray, y: np.ndarray, w: np.ndarray | None, chisqr: float, nvarys: int
                  ) -> float | None:
    """p-value of the fit against a weighted straight line (F-test); None when not applicable."""
    n = x.size
    if nvarys <= 2 or n <= nvarys + 2 or not math.isfinite(chisqr):
        return None
    ww = np.ones(n) if w is None else np.asarray(w, dtype=float)
    a = np.column_stack([np.ones(n), x - x.mean()]) * ww[:, None]
    b = y * ww
    coef, *_ = np.linalg.lstsq(a, b, rcond=None)
    chi0 = float(np.sum((b - a @ coef) ** 2))
    if chisqr <= 0:
        return 0.0
    dfn, dfd = nvarys - 2, n - nvarys
    f = ((chi0 - chisqr) / dfn) / (chisqr / dfd)
    if f <= 0:
        return 1.0
    return float(stats.f.sf(f, dfn, dfd))


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def assess(
    result: Any,
    x: np.ndarray,
    y: np.ndarray,
    *,
    weights: np.ndarray | None,
    values: Mapping[str, float],
    stderr: Mapping[str, float],
    vary: Mapping[str, bool],
    at_bound: Mapping[str, bool],
    bounds: Mapping[str, tuple[float, float]],
    correlations: Mapping[str, Mapping[str, float]],
    units: Mapping[str, str] | None = None,
    x_unit: str = "",
    exprs: Mapping[str, str | None] | None = None,
    noise_sigma_y: float | None = None,
    success: bool = True,
) -> Assessment:
    """Judge one finished fit.

    Parameters
    ----------
    result
        The lmfit ``ModelResult`` (residuals, Jacobian refits); may be None for records made without one
        (then only the parameter rules apply).
    x, y, weights
        The fitted data and weights, in the fit's order.
    values, stderr, vary, at_bound, bounds, correlations, units, exprs
        Per-parameter facts from the record (declared units; ``bounds`` as ``(min, max)``).
    x_unit
        SI unit token of ``x`` (``"V"``, ``"K"``), to judge location parameters against the x step.
    noise_sigma_y
        Noise per point in y units measured from repeated sweeps (:func:`sweep_noise`), if known.
    success
        Whether the minimiser converged.

    Returns
    -------
    Assessment
    """
    units = dict(units or {})
    exprs = dict(exprs or {})
    failed: list[str] = []
    suspect: list[str] = []
    notes: list[str] = []
    flagged: set[str] = set()
    q: dict[str, Any] = {}
    free = [n for n in values if vary.get(n) and not exprs.get(n)]
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = int(x.size)
    k = len(free)
    nu = n - k
    new_stderr = dict(stderr)
    new_corr = {a: dict(b) for a, b in correlations.items()}

    if not success or not all(math.isfinite(v) for v in values.values()):
        failed.append("the minimiser did not converge to finite parameter values")
    if k and nu <= 0:
        failed.append(f"no degrees of freedom: {n} points for {k} free parameters")
    elif k and (n < MIN_POINTS_PER_PARAMETER * k or nu < 5):
        suspect.append(f"only {n} points for {k} free parameters: too few to check the fit or trust its "
                       "errors")

    # x values that repeat: several curves in one
    if n >= 10:
        span = float(np.ptp(x)) if n else 0.0
        tol = 1e-9 * span if span > 0 else 0.0
        xs = np.sort(x)
        distinct = 1 + int(np.count_nonzero(np.diff(xs) > tol))
        if distinct < 0.5 * n:
            suspect.append(
                f"the x values repeat ({distinct} distinct values in {n} points): the data hold several "
                "curves (e.g. one per field or temperature); split them (group_by) and fit each"
            )
            q["x_distinct"] = distinct

    # ---------------------------------------------------------------- residuals and noise
    resid = None
    if result is not None and getattr(result, "residual", None) is not None:
        resid = np.asarray(result.residual, dtype=float)
        if resid.size != n:
            resid = None
    if resid is not None and n >= 8 and nu > 0:
        order = np.argsort(x, kind="stable")
        rs = resid[order]
        tests = residual_tests(rs)
        q.update(tests)
        w = None if weights is None else np.asarray(weights, dtype=float)
        relative = _is_relative(w, y)
        structured = math.isfinite(tests["structure_z"]) and tests["structure_z"] > STRUCTURE_Z
        chisqr = float(np.dot(resid, resid))
        rho1, rho2 = tests["lag1"], tests["lag2"]
        corr_factor = 1.0
        if math.isfinite(rho1) and math.isfinite(rho2) and rho1 > 3.0 / math.sqrt(n):
            # short-range correlated noise: neighbour differences see only part of its variance
            corr_factor = min(1.5 / max(1.5 - 2.0 * rho1 + 0.5 * rho2, 1e-9), MAX_CORRELATION_FACTOR)
        localized, worst, where_x = _localized_misfit(x, y, w, resid, relative)
        q.update(localized_ratio=localized, localized_worst=worst, localized_x=where_x)
        if noise_sigma_y is not None:
            wmed = 1.0 if w is None else float(np.median(np.abs(w[np.isfinite(w)])))
            sigma = generous = white = noise_sigma_y * wmed
            q["noise_method"] = "sweeps"
        else:
            sigma = white = estimate_noise(x, y, w, relative=relative)
            generous = sigma * math.sqrt(corr_factor)
            q["noise_method"] = "difference" + (" (ln y)" if relative else "")
            if not structured and corr_factor > 1.0:
                sigma = generous
                q["noise_method"] += ", corrected for correlated noise"
        q["noise_sigma"] = sigma
        if math.isfinite(sigma) and sigma > 0:
            chi2n = chisqr / nu / sigma**2
            chi2g = chisqr / nu / generous**2
            q["chi2_noise"] = chi2n
            excess = chi2n * nu - nu > 5.0 * math.sqrt(2.0 * nu)
            if chi2g > GROSS_MISS and excess:
                failed.append(
                    f"the model misses the data: its rms deviation is {math.sqrt(chi2g):.3g} times the noise "
                    f"measured from the data themselves, even allowing for correlated noise (χ²/ν = "
                    f"{chi2g:.3g})"
                )
            elif structured and chi2n > STRUCTURED_CHI2 and excess:
                suspect.append(
                    f"the residuals show systematic structure (whitened correlation z = "
                    f"{tests['structure_z']:.1f}, runs z = {tests['runs_z']:.1f}) and are "
                    f"{math.sqrt(chi2n):.2g} times the noise (χ²/ν = {chi2n:.3g}): the model does not "
                    "describe the data"
                )
            elif (math.isfinite(localized) and localized > LOCALIZED_RATIO
                  and q.get("localized_worst", 0.0) / corr_factor > 4.0):
                suspect.append(
                    f"the model misses the data locally: near x = {q.get('localized_x', math.nan):.4g} the "
                    f"residuals are {math.sqrt(localized):.2g} times larger than elsewhere relative to the "
                    "local noise: a feature of the data is not described by the model"
                )
            elif (q["noise_method"] != "sweeps" and math.isfinite(rho1) and rho1 > STRONG_CORRELATION
                  and chisqr / nu / white**2 > CHI2_SUSPECT and excess):
                suspect.append(
                    f"the residuals are strongly correlated (lag-1 autocorrelation {rho1:.2f}) and "
                    f"{math.sqrt(chisqr / nu / white**2):.2g} times the point-to-point noise: noise "
                    "correlated over many points and a smooth misfit look alike in one sweep; compare with a "
                    "second sweep or another start"
                )
            elif q["noise_method"] == "sweeps" and chi2n > CHI2_SUSPECT and excess:
                suspect.append(
                    f"χ²/ν = {chi2n:.3g} against the sweep-to-sweep noise: the model misses the data by "
                    f"{math.sqrt(chi2n):.2g} times the noise"
                )
        p_feat = _feature_test(x, y, w, chisqr, k)
        if p_feat is not None:
            q["feature_p"] = p_feat
            if p_feat > FEATURE_ALPHA and not failed:
                suspect.append(
                    f"no significant feature: a straight line describes the data as well as the model "
                    f"(F-test p = {p_feat:.2g}), so its parameters are not determined by these data"
                )
        # ----------------------------------------------------------- widen errors
        rho1 = tests["lag1"]
        q["error_scale"] = 1.0
        if math.isfinite(rho1) and rho1 > 3.0 / math.sqrt(n) and k:
            jac = _jacobian(result, free)
            cov = _ar_sandwich(jac[order], rs) if jac is not None else None
            if cov is not None:
                se_new = np.sqrt(np.clip(np.diag(cov), 0, None))
                factors = {}
                for i, name in enumerate(free):
                    old = stderr.get(name, math.nan)
                    if math.isfinite(old) and old > 0 and math.isfinite(se_new[i]):
                        f = max(1.0, float(se_new[i] / old))
                        factors[name] = f
                        new_stderr[name] = old * f
                if factors:
                    fmax = max(factors.values())
                    q["error_scale"] = fmax
                    q["error_scale_by_parameter"] = factors
                    q["stderr_white"] = {nm: stderr[nm] for nm in factors}
                    # expression-constrained parameters: widened by the largest factor (conservative)
                    for name in values:
                        if exprs.get(name) and math.isfinite(stderr.get(name, math.nan)):
                            new_stderr[name] = stderr[name] * fmax
                    dd = np.sqrt(np.diag(cov))
                    with np.errstate(invalid="ignore", divide="ignore"):
                        cc = cov / np.outer(dd, dd)
                    cc = 0.5 * (cc + cc.T)
                    for i, a in enumerate(free):
                        new_corr[a] = {b: float(cc[i, j]) for j, b in enumerate(free) if j != i
                                       and math.isfinite(cc[i, j])}
                    if fmax > 1.2:
                        notes.append(
                            f"the residuals are correlated (lag-1 autocorrelation {rho1:.2f}, as lock-in "
                            f"or drift noise makes them): errors widened up to ×{fmax:.2g} with an AR "
                            "noise model"
                        )
    else:
        q.setdefault("error_scale", 1.0)

    # ------------------------------------------------------------------ parameters
    r2 = _r2_from_correlations(free, new_corr)
    q["r2_max"] = max(r2.values()) if r2 else math.nan
    nonid = [nm for nm in free if r2.get(nm, 0.0) > IDENTIFIABLE_R2]
    if nonid:
        def partner(nm: str) -> str:
            c = new_corr.get(nm, {})
            others = [(abs(v), o) for o, v in c.items() if o in free and o != nm]
            if not others:
                return ""
            _, o = max(others)
            return f" (corr with {o} = {c[o]:+.3f})"

        desc = ", ".join(f"'{nm}'{partner(nm)}" for nm in nonid)
        suspect.append(
            f"parameters {desc} are not separately determined by the data: only a combination is; "
            "their ± is meaningless — quote the profile intervals or fix one of them"
        )
        flagged.update(nonid)
    for nm in free:
        if nm in nonid:
            continue
        if r2.get(nm, 0.0) > DEGENERATE_R2:
            flagged.add(nm)
    for nm in free:
        v = values[nm]
        se = new_stderr.get(nm, math.nan)
        lo, hi = bounds.get(nm, (-math.inf, math.inf))
        if at_bound.get(nm):
            flagged.add(nm)
            d_lo = abs(v - lo) if math.isfinite(lo) else math.inf
            d_hi = abs(v - hi) if math.isfinite(hi) else math.inf
            bound = lo if d_lo <= d_hi else hi
            if bound != 0.0:  # at a physical limit 0 the result is a one-sided limit (its interval says so)
                suspect.append(f"parameter '{nm}' is at its bound ({v:.6g}): the bound, not the data, "
                               "fixes it")
            continue
        if not math.isfinite(se):
            continue
        location = math.isfinite(lo) is False or lo < 0
        if location:
            # offsets: judged on an absolute scale, the x step when the unit is x's
            u = units.get(nm, "")
            xu = UNITS.get(x_unit)
            pu = UNITS.get(u)
            if xu is not None and pu is not None and xu.quantity == pu.quantity:
                xs = np.unique(x)
                step = float(np.median(np.diff(xs))) if xs.size > 2 else math.nan
                step_u = step * xu.si_factor / pu.si_factor
                if math.isfinite(step_u) and se > step_u:
                    notes.append(
                        f"parameter '{nm}' is poorly determined: ±{_fmt(se)} {u} exceeds the x step "
                        f"{_fmt(step_u)} {u}"
                    )
                    flagged.add(nm)
            continue
        rel = se / abs(v) if v != 0 else math.inf
        if rel > POORLY_DETERMINED:
            # poorly determined: its linear ± is not reliable; the profile interval (auto) states it,
            # and a warning follows only if that interval is not two-sided (see fit.record_from_result)
            flagged.add(nm)
    if k and any(math.isnan(stderr.get(nm, math.nan)) for nm in free):
        suspect.append("the uncertainties could not be estimated (singular covariance): the parameters are "
                       "not all determined by the data")
        flagged.update(nm for nm in free if math.isnan(stderr.get(nm, math.nan)))

    verdict = "failed" if failed else ("suspect" if suspect else "ok")
    reasons = tuple(failed + suspect)
    warns = tuple(dict.fromkeys(list(reasons) + notes))
    return Assessment(verdict=verdict, reasons=reasons, warnings=warns, quality=q, stderr=new_stderr,
                      correlations=new_corr, flagged=tuple(sorted(flagged)))
