r"""Finkel'stein :math:`T_c(R_\square)` across a film series (pure: arrays in, a record out).

:func:`fit_finkelstein_law` fits the registered model ``finkelstein``
(:class:`fitkit.models.series_laws.FinkelsteinModel`) to the critical temperatures and sheet resistances
of a series of films through :func:`fitkit.fitting.fit_curve`, with free :math:`T_{c0}` and
:math:`\gamma = \ln(\hbar/k_BT_{c0}\tau)` (fitkit's convention, bounded to [2, 50]), and adds the
critical sheet resistance :math:`R_c(\gamma)` at which :math:`T_c` vanishes.
:func:`fit_finkelstein` is the dict-returning form the ``finkelstein`` job kind used before.

.. math::
    T_c = T_{c0}\,e^{\gamma}\left[\frac{1/\gamma + r/4 - \sqrt{r/2}}
    {1/\gamma + r/4 + \sqrt{r/2}}\right]^{1/\sqrt{2r}},\qquad r = R_\square/(2\pi^2\hbar/e^2),
    \qquad R_c = 2\big[1-\sqrt{1-2/\gamma}\big]^2\,\frac{2\pi^2\hbar}{e^2}

Units: sheet resistances Ohm (per square), temperatures K.

References
----------
.. [1] A. M. Finkel'stein, Physica B 197, 636 (1994); JETP Lett. 45, 46 (1987).
.. [2] B. Sacépé, M. Feigel'man and T. M. Klapwijk, Nat. Phys. 16, 734 (2020).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from fitkit.errors import DataValidationError, FitError, FitQualityWarning
from fitkit.fitting.fit import fit_curve
from fitkit.fitting.record import FitRecord
from fitkit.io.sweep import Sweep, SweepMeta
from fitkit.models.series_laws import FinkelsteinModel, check_finkelstein_gamma, finkelstein_start
from fitkit.physics.films import finkelstein_critical_sheet_resistance

__all__ = ["critical_sheet_resistance_with_error", "fit_finkelstein", "fit_finkelstein_law"]


def critical_sheet_resistance_with_error(gamma: float, gamma_stderr: float) -> tuple[float, float]:
    r"""Critical sheet resistance :math:`R_c(\gamma)` [Ohm] and its error propagated from :math:`\gamma`.

    Parameters
    ----------
    gamma
        :math:`\gamma > 2` (fitkit's convention).
    gamma_stderr
        Its standard error (NaN allowed).

    Returns
    -------
    tuple of float
        ``(R_c, stderr)`` [Ohm]; the derivative is a central difference with step
        :math:`10^{-4}\max(\gamma, 1)`.
    """
    r_c = float(finkelstein_critical_sheet_resistance(gamma))
    h = 1e-4 * max(gamma, 1.0)
    slope = float(
        (finkelstein_critical_sheet_resistance(gamma + h) - finkelstein_critical_sheet_resistance(gamma - h))
        / (2 * h)
    )
    return r_c, abs(slope) * gamma_stderr


def fit_finkelstein_law(
    r_sheet: ArrayLike,
    t_c: ArrayLike,
    t_c_stderr: ArrayLike | None = None,
    *,
    t_c0_guess: float | None = None,
    gamma_guess: float | None = None,
    absolute_sigma: bool = True,
    sample_id: str = "series",
    uncertainty: str = "auto",
) -> FitRecord:
    r"""Fit Finkel'stein's :math:`T_c(R_\square)` (model ``finkelstein``): free :math:`T_{c0}`, γ.

    Parameters
    ----------
    r_sheet
        Sheet resistances [Ohm per square] (taken as exact, ``>= 0``).
    t_c
        Critical temperatures [K].
    t_c_stderr
        Their standard errors [K]; when all (finite points) are finite and > 0 they weight the fit.
    t_c0_guess, gamma_guess
        Start values; default from a scan over gamma in [2.2, 15] with T_c0 solved linearly
        (:func:`fitkit.models.series_laws.finkelstein_start`).  ``gamma_guess`` must be in fitkit's
        convention (in [2, 50]).
    absolute_sigma
        Take the errors as absolute (covariance not rescaled by the reduced chi-square); with no
        usable errors the covariance is always rescaled.
    sample_id
        Copied into the record (default ``"series"``).
    uncertainty
        Interval method of :func:`fitkit.fitting.fit_curve` (``"auto"``, ``"linear"``, ``"profile"``,
        ``"bootstrap"``).

    Returns
    -------
    FitRecord
        ``model_key = "finkelstein"``; values ``t_c0`` [K] and ``gamma`` (1) with stderr,
        correlations, verdict and warnings of the fitter; ``derived["r_c"]`` [ohm] with its error
        from gamma; ``x_column = "r_sq_ohm_per_sq"``, ``y_column = "t_c_K"``; ``meta`` holds
        ``weighted``, ``absolute_sigma`` (bools) and ``init`` (start values).

    Raises
    ------
    DataValidationError
        If fewer than 3 finite points are given, lengths differ, or R_sq < 0.
    ConfigError
        If ``gamma_guess`` is outside [2, 50] (e.g. given in the reciprocal convention; the message
        names both conventions).
    FitError
        If the model is not finite at the start values.

    References
    ----------
    .. [1] A. M. Finkel'stein, Physica B 197, 636 (1994).
    """
    r = np.asarray(r_sheet, dtype=float).ravel()
    t = np.asarray(t_c, dtype=float).ravel()
    s = None if t_c_stderr is None else np.asarray(t_c_stderr, dtype=float).ravel()
    if r.shape != t.shape or (s is not None and s.shape != t.shape):
        raise DataValidationError(
            f"fit_finkelstein: r_sheet ({r.size}), t_c ({t.size}) and t_c_stderr must have equal lengths"
        )
    keep = np.isfinite(r) & np.isfinite(t)
    r, t = r[keep], t[keep]
    s = s[keep] if s is not None else None
    if r.size < 3:
        raise DataValidationError(f"fit_finkelstein: need >= 3 films with R_sq and T_c, got {r.size}")
    if np.any(r < 0):
        raise DataValidationError("fit_finkelstein: sheet resistances must be >= 0 Ohm")
    if gamma_guess is not None:
        check_finkelstein_gamma(gamma_guess, "fit_finkelstein: gamma_guess")
    weighted = s is not None and bool(np.all(np.isfinite(s) & (s > 0)))
    w = 1.0 / s if weighted and s is not None else np.ones_like(t)
    tc0_start, g_start = finkelstein_start(r, t, w)
    g0 = float(gamma_guess) if gamma_guess is not None else g_start
    tc00 = float(t_c0_guess) if t_c0_guess is not None else tc0_start
    model = FinkelsteinModel()
    pars = model.make_params()
    pars["t_c0"].set(value=tc00)
    pars["gamma"].set(value=g0)
    sweep = Sweep(pd.DataFrame({"r_sq_ohm_per_sq": r, "t_c_K": t}), SweepMeta(sample_id=sample_id))
    scaled = not (weighted and absolute_sigma)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitQualityWarning)
        rec = fit_curve(sweep, model, pars, x="r_sq_ohm_per_sq", y="t_c_K", weights=w,
                        fit_kws={"scale_covar": scaled}, uncertainty=uncertainty)
    meta = {**rec.meta, "weighted": weighted, "absolute_sigma": bool(weighted and absolute_sigma),
            "init": {"t_c0": tc00, "gamma": g0}}
    extra = [] if weighted else [
        "some T_c have no standard error: unweighted fit, covariance scaled by redchi"
    ]
    rec = dataclasses.replace(rec, meta=meta, warnings=(*rec.warnings, *extra))
    if "gamma" not in rec.values or not math.isfinite(rec.values["gamma"]):
        return rec
    r_c, r_c_err = critical_sheet_resistance_with_error(rec.values["gamma"], rec.stderr["gamma"])
    return dataclasses.replace(rec, derived={**rec.derived, "r_c": r_c},
                               derived_stderr={**rec.derived_stderr, "r_c": r_c_err},
                               derived_units={**rec.derived_units, "r_c": "ohm"})


def fit_finkelstein(
    r_sheet: Sequence[float],
    t_c: Sequence[float],
    t_c_stderr: Sequence[float] | None = None,
    *,
    t_c0_guess: float | None = None,
    gamma_guess: float | None = None,
    absolute_sigma: bool = True,
) -> dict[str, Any]:
    r"""Dict form of :func:`fit_finkelstein_law` (same parameters), as the ``finkelstein`` job kind used it.

    Returns
    -------
    dict
        ``t_c0``, ``t_c0_stderr`` [K], ``gamma``, ``gamma_stderr``, ``correlation``, ``r_c`` and
        ``r_c_stderr`` [Ohm] (critical sheet resistance, error from gamma), ``redchi``, ``chisqr``,
        ``ndata``, ``nfev``, ``aic``, ``bic``, ``weighted`` (bool), ``absolute_sigma`` (bool),
        ``success`` (converged with finite standard errors), ``message``, ``init``, and ``record``
        (the :class:`~fitkit.fitting.record.FitRecord`).

    Raises
    ------
    DataValidationError, ConfigError
        As :func:`fit_finkelstein_law`.
    FitError
        If the fit raised.
    """
    rec = fit_finkelstein_law(r_sheet, t_c, t_c_stderr, t_c0_guess=t_c0_guess, gamma_guess=gamma_guess,
                              absolute_sigma=absolute_sigma)
    if not rec.values:
        raise FitError(f"fit_finkelstein: the fit of {len(list(r_sheet))} films failed ({rec.message})")
    t_c0_e, gam_e = rec.stderr["t_c0"], rec.stderr["gamma"]
    ok = bool(rec.success and math.isfinite(t_c0_e) and math.isfinite(gam_e))
    return {
        "t_c0": rec.values["t_c0"],
        "t_c0_stderr": t_c0_e,
        "gamma": rec.values["gamma"],
        "gamma_stderr": gam_e,
        "correlation": rec.correlations.get("t_c0", {}).get("gamma", math.nan),
        "r_c": rec.derived.get("r_c", math.nan),
        "r_c_stderr": rec.derived_stderr.get("r_c", math.nan),
        "redchi": rec.redchi,
        "chisqr": rec.chisqr,
        "ndata": rec.ndata,
        "nfev": rec.nfev,
        "aic": rec.aic,
        "bic": rec.bic,
        "weighted": bool(rec.meta["weighted"]),
        "absolute_sigma": bool(rec.meta["absolute_sigma"]),
        "success": ok,
        "message": rec.message if ok else f"standard errors not estimated: {rec.message}",
        "init": dict(rec.meta["init"]),
        "record": rec,
    }
