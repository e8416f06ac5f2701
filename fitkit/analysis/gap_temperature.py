r"""Gap-versus-temperature analysis and a broadening-degeneracy check for tunnelling fits.

* :func:`fit_bcs_gap_law` fits a series :math:`\Delta(T_i) \pm \sigma_i` (e.g. from ``nis``
  fits at several temperatures) with the registered model ``bcs_gap_temperature``: the weak-coupling
  BCS gap function scaled to a free :math:`\Delta(0)`, :math:`\Delta(T) = \Delta_0\,g(T/T_c)`
  (:func:`fitkit.physics.bcs.bcs_gap`), through :func:`fitkit.fitting.fit_curve`, giving a
  :class:`~fitkit.fitting.record.FitRecord` with :math:`\Delta_0`, :math:`T_c` and the ratio
  :math:`\Delta_0/k_BT_c` (1.764 in weak coupling).  :func:`fit_gap_temperature` is the older
  wrapper returning :class:`GapTemperatureFit`.
* :func:`broadening_degeneracy_warning` inspects a :class:`~fitkit.fitting.record.FitRecord`
  for the near-degeneracy of temperature, Dynes Gamma and lock-in V_rms (all three broaden the
  coherence peaks) and says which one to fix.

References
----------
.. [1] J. Bardeen, L. N. Cooper and J. R. Schrieffer, Phys. Rev. 108, 1175 (1957).
.. [2] fitkit physics note ``spectroscopy.md`` sections 2 and 5.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from fitkit.analysis.series_points import clean_series
from fitkit.constants import K_B_MEV_PER_K
from fitkit.errors import FitError, FitQualityWarning
from fitkit.fitting.fit import fit_curve
from fitkit.fitting.record import FitRecord
from fitkit.io.sweep import Sweep, SweepMeta
from fitkit.models.series_laws import BCSGapTemperatureModel

__all__ = [
    "GapTemperatureFit",
    "broadening_degeneracy_warning",
    "fit_bcs_gap_law",
    "fit_gap_temperature",
    "gap_ratio",
]

_BROADENING = ("temperature", "gamma", "v_mod")


@dataclass(frozen=True)
class GapTemperatureFit:
    """Result of :func:`fit_gap_temperature` (meV, K): the numbers of :func:`fit_bcs_gap_law`'s record.

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
        Reduced chi-square with the given errors (1 expected with honest input errors); exactly 1
        when no errors were given (the covariance is then scaled by the residual scatter).
    ndata
        Number of points used.
    record
        The full :class:`~fitkit.fitting.record.FitRecord` of the fit (model ``bcs_gap_temperature``).
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
    record: FitRecord | None = field(default=None, repr=False, compare=False)


def gap_ratio(record: FitRecord, gap: str, t_c: str = "t_c") -> tuple[float, float]:
    r"""Ratio :math:`\Delta/k_BT_c` of two fitted parameters with its error (correlation included).

    Parameters
    ----------
    record
        A record with the gap [meV] and :math:`T_c` [K] among its values.
    gap, t_c
        Parameter names.

    Returns
    -------
    tuple of float
        ``(ratio, stderr)`` (dimensionless; stderr NaN when unknown).
    """
    d0, tc = record.values[gap], record.values[t_c]
    s0, s1 = record.stderr.get(gap, math.nan), record.stderr.get(t_c, math.nan)
    rho = record.correlations.get(gap, {}).get(t_c, 0.0)
    ratio = d0 / (K_B_MEV_PER_K * tc)
    g0, g1 = 1.0 / (K_B_MEV_PER_K * tc), -d0 / (K_B_MEV_PER_K * tc**2)
    var = (g0 * s0) ** 2 + (g1 * s1) ** 2 + 2.0 * g0 * g1 * rho * s0 * s1
    return float(ratio), float(math.sqrt(max(var, 0.0))) if math.isfinite(var) else math.nan


def fit_bcs_gap_law(
    temperature: ArrayLike,
    delta: ArrayLike,
    delta_stderr: ArrayLike | None = None,
    *,
    t_c_guess: float | None = None,
    delta0_guess: float | None = None,
    sample_id: str = "",
    uncertainty: str = "auto",
) -> FitRecord:
    r"""Fit :math:`\Delta(T) = \Delta_0\,\delta_{BCS}(T/T_c)` (model ``bcs_gap_temperature``) to a gap series.

    Pure: arrays in, a :class:`~fitkit.fitting.record.FitRecord` out, through
    :func:`fitkit.fitting.fit_curve` (trust-region least squares with the bounds
    :math:`\Delta_0 \ge 0`, :math:`T_c \ge 10^{-6}` K).

    Parameters
    ----------
    temperature
        Temperatures, K (>= 0).
    delta
        Fitted gaps, meV.
    delta_stderr
        Standard errors of ``delta``, meV (> 0).  When given they weight the fit as absolute
        sigmas (covariance not rescaled); otherwise the fit is unweighted and the covariance is
        scaled by the residual scatter.
    t_c_guess
        Starting T_c, K (default: :func:`fitkit.models.series_laws.gap_temperature_start`).
    delta0_guess
        Starting Delta_0, meV (default: the largest gap).
    sample_id
        Copied into the record.
    uncertainty
        Interval method of :func:`fitkit.fitting.fit_curve` (``"auto"``, ``"linear"``, ``"profile"``,
        ``"bootstrap"``).

    Returns
    -------
    FitRecord
        ``model_key = "bcs_gap_temperature"``; values ``delta0`` [meV] and ``t_c`` [K] with stderr,
        correlations, verdict and warnings of the fitter; ``derived["gap_ratio"]`` =
        :math:`\Delta_0/k_BT_c` with its error; ``x_column = "temperature_K"``,
        ``y_column = "delta_meV"``; ``meta["points"]`` = the points fitted
        (``temperature_K``, ``delta_meV``, ``delta_meV_stderr`` (empty list if unweighted)),
        ``meta["weighted"]``, ``meta["absolute_sigma"]``.

    Raises
    ------
    DataValidationError
        If lengths differ, fewer than 3 finite points are given, or an error is not positive.
    FitError
        If the model is not finite at the start values.

    Notes
    -----
    Points with :math:`T \ge T_c` contribute :math:`\Delta = 0`.  The BCS shape with a free
    :math:`\Delta_0` is the usual strong-coupling approximation.
    """
    t, d, s = clean_series("fit_gap_temperature", temperature, delta, delta_stderr,
                            ("temperature", "delta", "delta_stderr"), "meV")
    model = BCSGapTemperatureModel()
    pars = model.guess(d, t)
    if delta0_guess is not None:
        pars["delta0"].set(value=float(delta0_guess))
    if t_c_guess is not None:
        pars["t_c"].set(value=float(t_c_guess))
    sweep = Sweep(pd.DataFrame({"temperature_K": t, "delta_meV": d}), SweepMeta(sample_id=sample_id))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitQualityWarning)
        rec = fit_curve(sweep, model, pars, x="temperature_K", y="delta_meV",
                        weights=None if s is None else 1.0 / s, method="least_squares",
                        fit_kws={"scale_covar": s is None}, uncertainty=uncertainty)
    meta = {**rec.meta, "weighted": s is not None, "absolute_sigma": s is not None,
            "points": {"temperature_K": t.tolist(), "delta_meV": d.tolist(),
                       "delta_meV_stderr": s.tolist() if s is not None else []}}
    if not rec.success or "delta0" not in rec.values:
        return dataclasses.replace(rec, meta=meta)
    ratio, ratio_err = gap_ratio(rec, "delta0")
    return dataclasses.replace(rec, meta=meta, derived={**rec.derived, "gap_ratio": ratio},
                               derived_stderr={**rec.derived_stderr, "gap_ratio": ratio_err},
                               derived_units={**rec.derived_units, "gap_ratio": "1"})


def fit_gap_temperature(
    temperature: ArrayLike,
    delta: ArrayLike,
    delta_stderr: ArrayLike | None = None,
    *,
    t_c_guess: float | None = None,
    delta0_guess: float | None = None,
) -> GapTemperatureFit:
    r"""Fit :math:`\Delta(T) = \Delta_0\,g_{BCS}(T/T_c)` to a gap-versus-temperature series.

    Thin wrapper of :func:`fit_bcs_gap_law` (same parameters) that returns the numbers as a
    :class:`GapTemperatureFit` (the record is in its ``record`` field) and raises when the fit fails.

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
    """
    rec = fit_bcs_gap_law(temperature, delta, delta_stderr, t_c_guess=t_c_guess, delta0_guess=delta0_guess)
    if not rec.success:
        raise FitError(f"fit_gap_temperature: BCS fit of {rec.ndata} points did not converge ({rec.message})")
    weighted = bool(rec.meta.get("weighted"))
    return GapTemperatureFit(
        delta0=rec.values["delta0"],
        delta0_stderr=rec.stderr["delta0"],
        t_c=rec.values["t_c"],
        t_c_stderr=rec.stderr["t_c"],
        ratio=rec.derived["gap_ratio"],
        ratio_stderr=rec.derived_stderr["gap_ratio"],
        correlation=rec.correlations.get("delta0", {}).get("t_c", math.nan),
        redchi=rec.redchi if weighted else 1.0,
        ndata=rec.ndata,
        record=rec,
    )


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
