r"""Model-free collective gap :math:`\Delta_{col}` from Savitzky-Golay derivatives of an Andreev spectrum.

Recipe (fitkit physics note §7.3; Dubouchet et al., Nat. Phys. 15, 233 (2019), SI §III read the
Andreev peaks from "the second derivative of the conductance"):

1. interpolate the spectrum onto a uniform bias grid;
2. differentiate with a Savitzky-Golay filter (polynomial order 3 by default):

   * ``derivative="d2G"`` (default): :math:`d^2G/dV^2 = d^3I/dV^3`; a peak of :math:`G`, or the
     downward change of slope at the edge of the Andreev window, is a **minimum**;
   * ``derivative="dG"``: :math:`dG/dV = d^2I/dV^2`; a peak of :math:`G` is a zero crossing from
     + to - (for either bias polarity);

   from :math:`I(V)` (``kind="current"``) the derivative order is one higher;
3. locate the feature separately at positive and negative bias inside the search range
   (strictly inside the single-particle gap);
4. symmetrise, :math:`\Delta_{col} = (V_+ - V_-)/2`, which removes a bias offset;
5. repeat for several window lengths and extrapolate the per-window values linearly to zero
   window (a longer window pulls the feature inwards);
6. significance: the feature must stand out of the noise.  For each window the depth of the
   located feature (``d2G``: the depth of the :math:`d^2G/dV^2` minimum below the lowest of
   the highest values on its two sides inside the search range and the median over that
   range; ``dG``: the smaller of the
   positive and negative :math:`dG/dV` lobes around the zero crossing) is divided by the
   noise standard deviation of that derivative,
   :math:`\sigma_d = \sigma\,\lVert c\rVert_2` (:math:`c`: the Savitzky-Golay derivative
   coefficients, :math:`\sigma`: the noise of the data, see below), with a round-off floor
   :math:`10^{-7}\max|d|`.  The feature is significant when this depth is at least
   ``z_min`` (default 5) noise standard deviations **at both bias polarities** in at least two
   windows (one when only one window fits) and the per-window values of those windows agree
   to within the largest window length.  Otherwise the estimate reports
   ``significant=False``, NaN values and the reason, instead of a number read from the noise
   (a featureless parabola has a constant :math:`d^2G/dV^2`, whose "minimum" is a
   round-off tie);
7. systematic error: the half-range of the per-window and extrapolated values, added in
   quadrature to the resolution (half width at half depth of the :math:`d^2G/dV^2` dip at the
   smallest window: an edge is located only to within the width of its broadened image);
   statistical error: a parametric bootstrap (noise estimated from the residual of the smallest
   window; the generator is seeded, so the result is reproducible).

Only windows with a significant feature enter steps 5-7.  Equal candidate minima (within the
round-off floor) are resolved deterministically (the candidate nearest zero bias, the centre
of a flat bottom), so the result does not depend on the CPU's last-bit rounding.

The physics note reports that the raw peak route sits 3-7 % below the model parameter of a PM-2
spectrum (the broadened window edge); fitting ``andreev_collective`` recovers the parameter.
Measured on PM-2 spectra (Delta = 0.6, Delta_col = 0.2 meV, Gamma = 5-10 ueV, T = 50 mK,
V_rms = 5 uV, noise up to 0.02 G_N): the ``d2G`` route with zero-window extrapolation gives
0.193-0.197 meV, within its systematic error; the ``dG`` route (the peak of G, which a Dynes
broadened square-root edge pulls below the edge by ~sqrt(Delta_col Gamma)) gives 0.175-0.194 meV
and can fall outside it for small Z.
Energies in meV equal biases in mV.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy.signal import savgol_coeffs, savgol_filter

from fitkit.errors import DataValidationError

__all__ = ["CollectiveGapEstimate", "collective_gap_from_derivatives"]

DEFAULT_WINDOWS_MV: tuple[float, ...] = (0.02, 0.04, 0.06, 0.08)
"""Default Savitzky-Golay window lengths [mV]: ~1-2x the expected feature width for a:InO."""

DEFAULT_Z_MIN: float = 5.0
"""Default significance threshold: feature depth in noise standard deviations of the derivative."""

_ROUNDOFF_REL: float = 1e-7
"""Round-off floor of a derivative's noise, relative to its largest magnitude on the grid."""


@dataclass(frozen=True)
class CollectiveGapEstimate:
    """Result of :func:`collective_gap_from_derivatives`.

    Attributes
    ----------
    delta_col
        :math:`\\Delta_{col}` [meV]: per-window values extrapolated linearly to zero window
        (NaN when the feature is not significant).
    stat_error
        Statistical (noise) standard error [meV] from a seeded parametric bootstrap.
    sys_error
        Systematic error [meV]: half the range of the per-window values in quadrature with the
        feature resolution.
    windows_mV
        Window lengths actually used [mV] (after rounding to an odd number of points).
    values
        Per-window :math:`\\Delta_{col}` [meV] (NaN where no feature was found).
    v_plus, v_minus
        Per-window feature positions at positive and negative bias [mV].
    derivative
        Which derivative was searched: ``"d2G/dV2 (= d3I/dV3)"`` or ``"dG/dV (= d2I/dV2)"``.
    source
        ``"G(V)"`` or ``"I(V)"``.
    bias_offset
        :math:`(V_+ + V_-)/2` [mV], median over the significant windows.
    significant
        True when the feature passes the significance test (module docstring, step 6).
    reason
        One sentence: why the feature is (not) significant.
    z_plus, z_minus
        Per-window feature depth in noise standard deviations of the derivative, at positive
        and negative bias (0 where no interior feature was found).
    noise_sigma
        Noise standard deviation of the data estimated from the smallest-window residual
        (unit of ``y``).
    """

    delta_col: float
    stat_error: float
    sys_error: float
    windows_mV: tuple[float, ...]
    values: tuple[float, ...]
    v_plus: tuple[float, ...]
    v_minus: tuple[float, ...]
    derivative: str
    source: str
    bias_offset: float
    significant: bool
    reason: str
    z_plus: tuple[float, ...]
    z_minus: tuple[float, ...]
    noise_sigma: float

    @property
    def total_error(self) -> float:
        """Statistical and systematic errors added in quadrature [meV] (NaN if not significant)."""
        return float(np.hypot(self.stat_error, self.sys_error))


def _uniform(bias_mv: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    ok = np.isfinite(bias_mv) & np.isfinite(y)
    v, g = bias_mv[ok], y[ok]
    order = np.argsort(v, kind="stable")
    v, g = v[order], g[order]
    v, idx = np.unique(v, return_index=True)
    # average exactly repeated biases (forward/backward sweeps)
    g = np.add.reduceat(g, idx) / np.diff(np.r_[idx, g.size])
    if v.size < 11:
        raise DataValidationError(f"collective gap: {v.size} distinct finite bias points; at least 11 needed")
    step = float(np.median(np.diff(v)))
    grid = np.arange(v[0], v[-1] + 0.5 * step, step)
    return grid, np.interp(grid, v, g), step


def _refine_min(x: np.ndarray, f: np.ndarray, i: int) -> float:
    if 0 < i < f.size - 1:
        den = f[i - 1] - 2 * f[i] + f[i + 1]
        if den > 0:
            return float(x[i] + 0.5 * (f[i - 1] - f[i + 1]) / den * (x[1] - x[0]))
    return float(x[i])


def _locate(v: np.ndarray, d: np.ndarray, g: np.ndarray, lo: float, hi: float, sign: float,
            derivative: str, tol: float) -> tuple[float, float]:
    """Feature position [mV] and depth (unit of ``d``) at one polarity; (NaN, 0) if none.

    ``tol`` is the round-off floor: values of ``d`` closer than ``tol`` count as equal, and the
    tie is resolved deterministically (candidate nearest zero bias; centre of a flat bottom).
    """
    idx = np.flatnonzero((sign * v >= lo) & (sign * v <= hi))
    if idx.size < 3:
        return np.nan, 0.0
    if sign < 0:
        idx = idx[::-1]  # walk outwards from zero bias at both polarities
    if derivative == "d2G":
        dd = d[idx]
        cand = dd <= dd.min() + tol
        first = int(np.argmax(cand))  # candidate nearest zero bias
        last = first
        while last + 1 < idx.size and cand[last + 1]:
            last += 1
        if first == 0 or last == idx.size - 1:
            return np.nan, 0.0  # minimum on the border of the search range: no interior feature
        k = (first + last) // 2
        i = int(idx[k])
        # prominence inside the search range, and depth below the range's median (a noise minimum
        # next to a steep slope has a large prominence on one side only, a noise minimum in a
        # long flat range a prominence of twice the noise extremes)
        depth = float(min(dd[:first].max(), dd[last + 1:].max(), np.median(dd)) - dd[k])
        pos = _refine_min(v, d, i) if first == last else float(v[i])
        return pos, depth
    # dG: + -> - zero crossings (in increasing bias) inside the range; keep the one at the highest G
    j = np.sort(idx)[:-1]
    cross = j[(d[j] > 0) & (d[j + 1] <= 0)]
    if cross.size == 0:
        return np.nan, 0.0
    gc = g[cross]
    near = cross[gc >= gc.max() - tol * max(1.0, float(np.abs(gc).max()))]
    k = int(near[np.argmin(np.abs(v[near]))])
    a = k
    while a > 0 and d[a - 1] > 0:
        a -= 1
    b = k + 1
    while b < d.size - 1 and d[b + 1] <= 0:
        b += 1
    depth = float(min(d[a:k + 1].max(), -d[k + 1:b + 1].min()))
    return float(v[k] + d[k] / (d[k] - d[k + 1]) * (v[k + 1] - v[k])), depth


def _estimate(v: np.ndarray, y: np.ndarray, step: float, lengths: list[int], order: int, polyorder: int,
              search: tuple[float, float], derivative: str
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per window: positions (V+, V-), depths (+, -) and the round-off floor of the derivative."""
    n = len(lengths)
    vp, vm = np.full(n, np.nan), np.full(n, np.nan)
    dp, dm, floor = np.zeros(n), np.zeros(n), np.zeros(n)
    for k, wl in enumerate(lengths):
        d = savgol_filter(y, wl, polyorder, deriv=order, delta=step, mode="interp")
        smooth = savgol_filter(y, wl, polyorder, deriv=order - (2 if derivative == "d2G" else 1),
                               delta=step, mode="interp")
        floor[k] = _ROUNDOFF_REL * float(np.abs(d).max()) + np.finfo(float).tiny
        vp[k], dp[k] = _locate(v, d, smooth, search[0], search[1], 1.0, derivative, floor[k])
        vm[k], dm[k] = _locate(v, d, smooth, search[0], search[1], -1.0, derivative, floor[k])
    return vp, vm, dp, dm, floor


def _half_width(v: np.ndarray, d2: np.ndarray, pos: float) -> float:
    """Half width at half depth of the d2G/dV2 dip at ``pos`` (NaN if it is not a dip)."""
    i = int(np.clip(np.floor((pos - v[0]) / (v[1] - v[0]) + 0.5), 0, v.size - 1))
    depth = d2[i]
    if not depth < 0:
        return np.nan
    inside = d2 < 0.5 * depth
    left = i
    while left > 0 and inside[left - 1]:
        left -= 1
    right = i
    while right < v.size - 1 and inside[right + 1]:
        right += 1
    return 0.5 * float(v[right] - v[left] + (v[1] - v[0]))


def _extrapolate(windows: np.ndarray, values: np.ndarray) -> float:
    """Linear extrapolation of the per-window values to zero window (one window: its value)."""
    if values.size >= 2:
        return float(np.polyfit(windows, values, 1)[1])
    return float(values[0])


def collective_gap_from_derivatives(
    bias_mV: ArrayLike,
    y: ArrayLike,
    *,
    search_mV: tuple[float, float],
    kind: Literal["conductance", "current"] = "conductance",
    derivative: Literal["d2G", "dG"] = "d2G",
    windows_mV: tuple[float, ...] = DEFAULT_WINDOWS_MV,
    polyorder: int = 3,
    n_bootstrap: int = 40,
    seed: int = 0,
    z_min: float = DEFAULT_Z_MIN,
) -> CollectiveGapEstimate:
    r"""Estimate :math:`\Delta_{col}` from the Savitzky-Golay derivative of :math:`G(V)` or :math:`I(V)`.

    Parameters
    ----------
    bias_mV
        Bias [mV] (any order; repeated biases are averaged).
    y
        Conductance :math:`G(V)` (any unit) or current :math:`I(V)` (``kind="current"``).
    search_mV
        ``(lo, hi)`` [mV]: the feature is searched in :math:`lo \le \pm V \le hi`.  Keep ``hi``
        below the single-particle coherence peak (e.g. 0.8 :math:`\Delta`) and ``lo`` above a
        few grid steps.
    kind
        ``"conductance"`` (``y`` is dI/dV) or ``"current"`` (``y`` is I; derivatives one order higher).
    derivative
        ``"d2G"``: minimum of :math:`d^2G/dV^2 = d^3I/dV^3` (default, the Dubouchet SI choice);
        ``"dG"``: + to - zero crossing of :math:`dG/dV = d^2I/dV^2`.
    windows_mV
        Savitzky-Golay window lengths [mV]; each is rounded to an odd number of points
        (at least ``polyorder + 3``).
    polyorder
        Savitzky-Golay polynomial order (3 or 4).
    n_bootstrap
        Parametric bootstrap replicas for the statistical error (0: no statistical error).
    seed
        Seed of the bootstrap generator (the result is reproducible for a given seed).
    z_min
        Significance threshold: the feature depth in noise standard deviations of the
        derivative that both polarities must reach (module docstring, step 6).

    Returns
    -------
    CollectiveGapEstimate
        :math:`\Delta_{col}` [meV], statistical and systematic errors [meV], per-window values,
        the significance flag and its reason.  A feature that is not significant gives
        ``significant=False`` and NaN for ``delta_col`` and its errors.

    Raises
    ------
    DataValidationError
        If there are too few points or the search range is empty or no window fits the data.

    Notes
    -----
    The statistical error: the noise :math:`\sigma` is the rms residual of the data about the
    smallest-window smoothing (corrected for the filter's degrees of freedom); replicas add
    Gaussian noise of that size to the smoothed curve and repeat the whole estimate; the error
    is the standard deviation of the replicas' extrapolated values.  The systematic error is the
    half-range of the per-window and extrapolated values in quadrature with the feature
    resolution (module docstring); quote both.
    """
    if kind not in ("conductance", "current"):
        raise ValueError(f"collective gap: kind={kind!r}; expected 'conductance' or 'current'")
    if derivative not in ("d2G", "dG"):
        raise ValueError(f"collective gap: derivative={derivative!r}; expected 'd2G' or 'dG'")
    lo, hi = float(search_mV[0]), float(search_mV[1])
    if not 0 <= lo < hi:
        raise DataValidationError(f"collective gap: search_mV={search_mV!r} must satisfy 0 <= lo < hi")
    v, g, step = _uniform(np.asarray(bias_mV, dtype=float).ravel(), np.asarray(y, dtype=float).ravel())
    order = (2 if derivative == "d2G" else 1) + (1 if kind == "current" else 0)
    lengths = sorted({max(polyorder + 3, int(round(w / step)) | 1) for w in windows_mV})
    lengths = [n for n in lengths if n < v.size]
    if not lengths:
        raise DataValidationError(f"collective gap: windows {windows_mV} mV do not fit in {v.size} points")
    windows = np.array([n * step for n in lengths])
    label = "d2G/dV2 (= d3I/dV3)" if derivative == "d2G" else "dG/dV (= d2I/dV2)"
    feature = "dip" if derivative == "d2G" else "peak"

    # noise of the data and of each derivative (white noise through the linear S-G filter)
    base = savgol_filter(g, lengths[0], polyorder, mode="interp")
    dof = 1.0 - 1.0 * (polyorder + 1) / lengths[0]
    sigma = float(np.sqrt(np.mean((g - base) ** 2) / max(dof, 0.1)))
    gain = np.array([np.linalg.norm(savgol_coeffs(n, polyorder, deriv=order, delta=step)) for n in lengths])

    vp, vm, dp, dm, floor = _estimate(v, g, step, lengths, order, polyorder, (lo, hi), derivative)
    sigma_d = np.maximum(sigma * gain, floor)
    zp, zm = dp / sigma_d, dm / sigma_d
    values = 0.5 * (vp - vm)
    sig = np.isfinite(values) & (zp >= z_min) & (zm >= z_min)
    n_need = min(2, len(lengths))
    reason = ""
    if sig.sum() < n_need:
        reason = (
            f"no significant {label} {feature} within {lo:g}..{hi:g} mV: the deepest feature is "
            f"{np.max(zp):.1f} sigma at positive and {np.max(zm):.1f} sigma at negative bias; "
            f"{z_min:g} sigma at both polarities in {n_need} window(s) is required"
        )
    elif np.ptp(values[sig]) > windows[sig].max():
        reason = (
            f"no consistent {label} {feature}: the per-window values "
            f"{', '.join(f'{x:.3g}' for x in values[sig])} mV spread by more than the largest "
            f"window ({windows[sig].max():.3g} mV)"
        )
    if reason:
        return CollectiveGapEstimate(
            delta_col=np.nan, stat_error=np.nan, sys_error=np.nan,
            windows_mV=tuple(float(w) for w in windows), values=tuple(float(x) for x in values),
            v_plus=tuple(float(x) for x in vp), v_minus=tuple(float(x) for x in vm),
            derivative=label, source="G(V)" if kind == "conductance" else "I(V)", bias_offset=np.nan,
            significant=False, reason=reason, z_plus=tuple(float(x) for x in zp),
            z_minus=tuple(float(x) for x in zm), noise_sigma=sigma,
        )

    # the smoothing window pulls the feature inwards roughly linearly: extrapolate to zero window
    delta_col = _extrapolate(windows[sig], values[sig])
    spread = np.r_[values[sig], delta_col]
    first = int(np.flatnonzero(sig)[0])
    d2 = savgol_filter(g, lengths[first], polyorder, deriv=2 + (kind == "current"), delta=step, mode="interp")
    widths = np.array([_half_width(v, d2, x) for x in (vp[first], vm[first])])
    resolution = float(np.mean(widths[np.isfinite(widths)])) if np.isfinite(widths).any() else 0.0
    sys_error = float(np.hypot(0.5 * (spread.max() - spread.min()), resolution))
    stat_error = np.nan
    if n_bootstrap > 0:
        rng = np.random.default_rng(seed)
        use = [n for n, s in zip(lengths, sig, strict=True) if s]
        reps = []
        for _ in range(n_bootstrap):
            yb = base + rng.normal(0.0, sigma, base.size)
            bp, bm, _dp, _dm, _fl = _estimate(v, yb, step, use, order, polyorder, (lo, hi), derivative)
            vals = 0.5 * (bp - bm)
            okb = np.isfinite(vals)
            if okb.any():
                reps.append(_extrapolate(windows[sig][okb], vals[okb]))
        stat_error = float(np.std(reps, ddof=1)) if len(reps) > 2 else np.nan
    zmin_both = float(np.min(np.minimum(zp, zm)[sig]))
    return CollectiveGapEstimate(
        delta_col=delta_col,
        stat_error=stat_error,
        sys_error=sys_error,
        windows_mV=tuple(float(w) for w in windows),
        values=tuple(float(x) for x in values),
        v_plus=tuple(float(x) for x in vp),
        v_minus=tuple(float(x) for x in vm),
        derivative=label,
        source="G(V)" if kind == "conductance" else "I(V)",
        bias_offset=float(np.median(0.5 * (vp + vm)[sig])),
        significant=True,
        reason=(
            f"{label} {feature} at both polarities in {int(sig.sum())} of {len(lengths)} windows, "
            f"at least {zmin_both:.1f} sigma deep (threshold {z_min:g})"
        ),
        z_plus=tuple(float(x) for x in zp),
        z_minus=tuple(float(x) for x in zm),
        noise_sigma=sigma,
    )
