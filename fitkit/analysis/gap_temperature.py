r"""Gap-versus-temperature analysis and a broadening-degeneracy check for tunnelling fits.

* :func:`fit_gap_temperature` fits a series :math:`\Delta(T_i) \pm \sigma_i` (e.g. from ``nis``
  fits at several temperatures) with the weak-coupling BCS gap function scaled to a free
  :math:`\Delta(0)`, :math:`\Delta(T) = \Delta_0\,g(T/T_c)` (:func:`fitkit.physics.bcs.bcs_gap`),
  giving :math:`\Delta_0` and :math:`T_c` with standard errors and the ratio
  :math:`\Delta_0/k_BT_c` (1.764 in weak coupling).
* :func:`broadening_degeneracy_warning` inspects a :class:`~fitkit.fitting.record.FitRecord`
  for the near-degeneracy of temperature, Dynes Gamma and lock-in V_rms (all three broaden the
  coherence peaks) and says which one to fix.

References
----------
.. [1] J. Bardeen, L. N. Cooper and J. R. Schrieffer, Phys. Rev. 108, 1175 (1957).
.. [2] fitkit physics note ``spectroscopy.md`` sections 2 and 5.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import curve_fit

from fitkit.constants import K_B_MEV_PER_K
from fitkit.errors import DataValidationError, FitError
from fitkit.fitting.record import FitRecord
from fitkit.physics.bcs import bcs_gap

__all__ = ["GapTemperatureFit", "broadening_degeneracy_warning", "fit_gap_temperature"]

_BROADENING = ("temperature", "gamma", "v_mod")


@dataclass(frozen=True)
class GapTemperatureFit:
    """Result of :func:`fit_gap_temperature` (meV, K).

    Attributes
    ----------
    delta0, delta0_stderr
        Zero-temperature gap and its standard error, meV.
    t_c, t_c_stderr
        Critical temperature and its standard error, K.
    ratio, ratio_stderr
        :math:`\\Delta_0/k_BT_c` (dimensionless) with propagated error (covariance included).
    correlation
        Correlation coefficient of (delta0, t_c).
    redchi
        Reduced chi-square (1 expected with honest input errors).
    ndata
        Number of points used.
    """

    delta0: float
    delta0_stderr: float
    t_c: float
    t_c_stderr: float
    ratio: float
    ratio_stderr: float
    correlation: float
    redchi: float
    ndata: int


def _bcs_model(temperature: np.ndarray, delta0: float, t_c: float) -> np.ndarray:
    return bcs_gap(temperature, t_c, delta0)


def fit_gap_temperature(
    temperature: ArrayLike,
    delta: ArrayLike,
    delta_stderr: ArrayLike | None = None,
    *,
    t_c_guess: float | None = None,
    delta0_guess: float | None = None,
) -> GapTemperatureFit:
    r"""Fit :math:`\Delta(T) = \Delta_0\,g_{BCS}(T/T_c)` to a gap-versus-temperature series.

    Parameters
    ----------
    temperature
        Temperatures, K (>= 0).
    delta
        Fitted gaps, meV.
    delta_stderr
        Standard errors of ``delta``, meV (> 0).  When given, they are used as absolute
        sigmas; otherwise the errors are scaled by the residual scatter.
    t_c_guess
        Starting T_c, K (default: 1.1 x the highest temperature with a gap above 10 % of the
        largest gap, or from the weak-coupling ratio).
    delta0_guess
        Starting Delta_0, meV (default: the largest gap).

    Returns
    -------
    GapTemperatureFit
        Delta_0 and T_c with standard errors.

    Raises
    ------
    DataValidationError
        If lengths differ, fewer than 3 finite points are given, or an error is not positive.
    FitError
        If the least-squares fit fails.

    Notes
    -----
    Points with :math:`T \ge T_c` contribute :math:`\Delta = 0`.  The BCS shape with a free
    :math:`\Delta_0` is the usual strong-coupling approximation.
    """
    t = np.asarray(temperature, dtype=float).ravel()
    d = np.asarray(delta, dtype=float).ravel()
    if t.shape != d.shape:
        raise DataValidationError(
            f"fit_gap_temperature: temperature has {t.size} values but delta has {d.size}; "
            "expected equal lengths"
        )
    s = None if delta_stderr is None else np.asarray(delta_stderr, dtype=float).ravel()
    ok = np.isfinite(t) & np.isfinite(d)
    if s is not None:
        if s.shape != d.shape:
            raise DataValidationError(
                f"fit_gap_temperature: delta_stderr has {s.size} values, expected {d.size}"
            )
        ok &= np.isfinite(s)
        if np.any(s[ok] <= 0):
            raise DataValidationError("fit_gap_temperature: every delta_stderr must be > 0 meV")
    t, d = t[ok], d[ok]
    s = s[ok] if s is not None else None
    if t.size < 3:
        raise DataValidationError(f"fit_gap_temperature: need >= 3 finite points, got {t.size}")
    d0 = float(delta0_guess) if delta0_guess is not None else float(np.max(d))
    if t_c_guess is not None:
        tc0 = float(t_c_guess)
    else:
        gapped = t[d > 0.1 * np.max(d)]
        tc0 = max(1.1 * float(np.max(gapped)) if gapped.size else 0.0, d0 / (1.764 * K_B_MEV_PER_K))
    try:
        popt, pcov = curve_fit(_bcs_model, t, d, p0=[d0, tc0], sigma=s, absolute_sigma=s is not None,
                               bounds=([0.0, 1e-6], [np.inf, np.inf]))
    except (RuntimeError, ValueError) as exc:
        raise FitError(f"fit_gap_temperature: BCS fit of {t.size} points did not converge ({exc})") from exc
    resid = (d - _bcs_model(t, *popt)) / (s if s is not None else 1.0)
    dof = max(t.size - 2, 1)
    redchi = float(np.sum(resid**2) / dof) if s is not None else 1.0
    err = np.sqrt(np.clip(np.diag(pcov), 0.0, None))
    corr = float(pcov[0, 1] / (err[0] * err[1])) if err[0] > 0 and err[1] > 0 else math.nan
    ratio = popt[0] / (K_B_MEV_PER_K * popt[1])
    grad = np.array([1.0 / (K_B_MEV_PER_K * popt[1]), -popt[0] / (K_B_MEV_PER_K * popt[1] ** 2)])
    ratio_err = float(np.sqrt(max(grad @ pcov @ grad, 0.0)))
    return GapTemperatureFit(float(popt[0]), float(err[0]), float(popt[1]), float(err[1]),
                             float(ratio), ratio_err, corr, redchi, int(t.size))


def _root(name: str) -> str:
    for b in _BROADENING:
        if name == b or name.endswith("_" + b):
            return b
    return ""


def broadening_degeneracy_warning(record: FitRecord, threshold: float = 0.95) -> str | None:
    """Warn when temperature, Dynes Gamma and lock-in V_rms are nearly degenerate in a fit.

    Parameters
    ----------
    record
        A fit record with ``correlations`` (prefixed parameter names allowed, e.g. ``s_gamma``).
    threshold
        Absolute correlation above which a pair is reported (default 0.95).

    Returns
    -------
    str or None
        One sentence naming the correlated pair(s) and which parameter to fix, or None.

    Notes
    -----
    The suggestion uses the record's metadata: a measured temperature (``meta`` key containing
    ``temperature`` or ``T``) means fix ``temperature``; a known modulation (key containing
    ``v_mod``, ``lockin`` or ``modulation``) means fix ``v_mod``; otherwise fix ``v_mod`` if it
    is involved (its value is an instrument setting), else ``temperature`` at the bath value.
    """
    pairs: list[tuple[str, str, float]] = []
    for a, row in record.correlations.items():
        ra = _root(a)
        if not ra:
            continue
        for b, c in row.items():
            rb = _root(b)
            if rb and rb != ra and a < b and np.isfinite(c) and abs(c) > threshold:
                pairs.append((a, b, float(c)))
    if not pairs:
        return None
    involved = {_root(n) for p in pairs for n in p[:2]}
    meta_keys = [str(k).lower() for k in record.meta]
    has_t = any("temperature" in k or k in ("t", "t_k", "temperature_k") for k in meta_keys)
    has_v = any(("v_mod" in k) or ("lockin" in k) or ("modulation" in k) for k in meta_keys)
    if has_t and "temperature" in involved:
        fix = "temperature (a measured temperature is in the metadata)"
    elif has_v and "v_mod" in involved:
        fix = "v_mod (the lock-in amplitude is in the metadata)"
    elif "v_mod" in involved:
        fix = "v_mod at the lock-in setting"
    else:
        fix = "temperature at the measured bath temperature"
    text = ", ".join(f"corr({a}, {b}) = {c:+.3f}" for a, b, c in pairs)
    return (f"{record.model_key}: broadening parameters are nearly degenerate ({text} exceeds "
            f"|{threshold}|); fix {fix} and refit.")
