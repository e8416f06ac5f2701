"""Fit one sweep with one model and return a :class:`FitRecord`."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

import lmfit
import numpy as np

from fitkit.errors import DataValidationError, FitError, FitQualityWarning
from fitkit.fitting.intervals import bootstrap_intervals, linear_interval, profile_intervals
from fitkit.fitting.quality import Assessment, assess, sweep_noise
from fitkit.fitting.record import FitRecord
from fitkit.io.sweep import Sweep
from fitkit.models import DATA_UNIT, FitkitModel, apply_overrides, get_model

__all__ = ["UNCERTAINTY_METHODS", "default_y_column", "fit_curve", "is_at_bound", "record_from_result"]

_Y_CANDIDATES = ("resistance_ohm", "dIdV_norm", "dIdV_S", "dIdV_arb", "G_norm")


def default_y_column(sweep: Sweep, model: lmfit.Model) -> str:
    """Pick the dependent column for a model: the first canonical y column present."""
    for c in _Y_CANDIDATES:
        if c in sweep.data.columns:
            return c
    raise DataValidationError(
        f"{sweep.meta.source_path or 'sweep'}: no dependent column found; expected one of "
        f"{list(_Y_CANDIDATES)}, available: {list(sweep.data.columns)} (pass y=...)"
    )


def _components(model: lmfit.Model) -> list[FitkitModel]:
    if isinstance(model, lmfit.model.CompositeModel):
        return _components(model.left) + _components(model.right)
    return [model] if isinstance(model, FitkitModel) else []


def _x_name(model: lmfit.Model) -> str:
    return model.independent_vars[0]


def _bounds_tol(p: lmfit.Parameter, stderr: float) -> float:
    if np.isfinite(p.min) and np.isfinite(p.max):
        span = p.max - p.min
    else:  # one-sided: the parameter's own scale (value or start), never an absolute 1 (g_n in S ~ 1e-9)
        init = getattr(p, "init_value", None)
        span = max(abs(p.value), abs(init) if init is not None and np.isfinite(init) else 0.0)
    # a bound closer than 0.1 sigma constrains the fit even if the minimiser stopped just short of it
    return float(max(1e-6 * max(span, 1e-12), 0.1 * stderr if math.isfinite(stderr) else 0.0))


def is_at_bound(p: lmfit.Parameter, stderr: float = math.nan) -> bool:
    """The one definition of "at its bound" in fitkit: a free parameter within 0.1σ (or 1e-6 of the
    bound span; of its own magnitude for a one-sided bound) of its min or max."""
    tol = _bounds_tol(p, stderr)
    return bool(p.vary and p.expr is None
                and ((np.isfinite(p.min) and abs(p.value - p.min) <= tol)
                     or (np.isfinite(p.max) and abs(p.value - p.max) <= tol)))


UNCERTAINTY_METHODS = ("linear", "profile", "bootstrap", "auto")
"""How :func:`fit_curve` states parameter intervals (``auto``: profile the parameters the verdict flags)."""


def _x_unit_of(x_column: str) -> str:
    return x_column.rsplit("_", 1)[-1] if "_" in x_column else ""


def record_from_result(result: lmfit.model.ModelResult, *, model_key: str, sweep: Sweep | None,
                       x_column: str, y_column: str, units: Mapping[str, str],
                       extra_warnings: list[str] | None = None,
                       uncertainty: str = "auto", noise_sigma_y: float | None = None) -> FitRecord:
    """Turn an lmfit ``ModelResult`` into a :class:`FitRecord` with its verdict, warnings and intervals.

    The verdict, the calibrated warnings and the widening of errors for correlated residuals come from
    :func:`fitkit.fitting.quality.assess`; intervals from :mod:`fitkit.fitting.intervals` according to
    ``uncertainty`` (``linear``, ``profile``, ``bootstrap`` or ``auto``).
    """
    if uncertainty not in UNCERTAINTY_METHODS:
        raise FitError(f"uncertainty={uncertainty!r}; expected one of {list(UNCERTAINTY_METHODS)}")
    params = result.params
    values, stderr, vary, at_bound, init, corr = {}, {}, {}, {}, {}, {}
    bounds: dict[str, tuple[float, float]] = {}
    exprs: dict[str, str | None] = {}
    errors_ok = bool(getattr(result, "errorbars", False))
    init_map = getattr(result, "init_values", None)
    for name, p in params.items():
        values[name] = float(p.value)
        stderr[name] = float(p.stderr) if (p.stderr is not None and np.isfinite(p.stderr)) else math.nan
        vary[name] = bool(p.vary)
        init[name] = float(init_map.get(name, p.value)) if init_map is not None else math.nan
        at_bound[name] = is_at_bound(p, stderr[name])
        bounds[name] = (float(p.min), float(p.max))
        exprs[name] = p.expr
        if p.correl:
            corr[name] = {k: float(v) for k, v in p.correl.items()}
    if result.nvarys and not errors_ok:
        for name, p in params.items():
            if p.vary and p.expr is None:
                stderr[name] = math.nan
    success = bool(result.success) and all(np.isfinite(v) for v in values.values())
    xname = result.model.independent_vars[0]
    xv = np.asarray(result.userkws.get(xname), dtype=float)
    yv = np.asarray(result.data, dtype=float)
    if noise_sigma_y is None and sweep is not None:
        noise_sigma_y = sweep_noise(sweep.meta.extra.get("steps", ()), y_column)
    verdict = assess(result, xv, yv, weights=result.weights, values=values, stderr=stderr, vary=vary,
                     at_bound=at_bound, bounds=bounds, correlations=corr, units=units,
                     x_unit=_x_unit_of(x_column), exprs=exprs, noise_sigma_y=noise_sigma_y, success=success)
    stderr = verdict.stderr
    corr = verdict.correlations
    lower, upper, imethod, ikind = _intervals(result, values, stderr, vary, exprs, bounds, verdict,
                                              uncertainty)
    limits = [f"parameter '{n}' is not determined by the data: the {imethod[n]} finds no 68 % bound on "
              "either side" for n, k in ikind.items() if k == "not determined" and imethod.get(n) != "linear"]
    meta = sweep.meta.to_dict() if sweep is not None else {}
    return FitRecord(
        model_key=model_key,
        sample_id=meta.get("sample_id", ""),
        source_path=meta.get("source_path", ""),
        x_column=x_column,
        y_column=y_column,
        values=values,
        stderr=stderr,
        units=dict(units),
        vary=vary,
        at_bound=at_bound,
        init_values=init,
        correlations=corr,
        redchi=float(result.redchi) if result.nfree > 0 else math.nan,
        chisqr=float(result.chisqr),
        aic=float(result.aic) if result.nfree > 0 else math.nan,
        bic=float(result.bic) if result.nfree > 0 else math.nan,
        nfev=int(result.nfev),
        ndata=int(result.ndata),
        nvarys=int(result.nvarys),
        success=success,
        message=str(result.message or ""),
        warnings=tuple(dict.fromkeys([*(extra_warnings or []), *verdict.warnings, *limits])),
        verdict=verdict.verdict,
        verdict_reasons=verdict.reasons,
        quality=verdict.quality,
        lower=lower,
        upper=upper,
        interval_method=imethod,
        interval_kind=ikind,
        options={k: v for k, v in getattr(result.model, "opts", {}).items()
                 if isinstance(v, (str, int, float, bool))},
        meta={"extra": meta.get("extra", {}), "loader": meta.get("loader", "")},
        result=result,
    )


def _intervals(result: lmfit.model.ModelResult, values: Mapping[str, float], stderr: Mapping[str, float],
               vary: Mapping[str, bool], exprs: Mapping[str, str | None],
               bounds: Mapping[str, tuple[float, float]], verdict: Assessment, uncertainty: str
               ) -> tuple[dict[str, float], dict[str, float], dict[str, str], dict[str, str]]:
    """68 % intervals per parameter: linear for all, replaced by profile/bootstrap where asked."""
    lower: dict[str, float] = {}
    upper: dict[str, float] = {}
    method: dict[str, str] = {}
    kind: dict[str, str] = {}
    for name, v in values.items():
        if not vary.get(name) and not exprs.get(name):
            continue
        lo, hi = bounds.get(name, (-math.inf, math.inf))
        iv = linear_interval(v, stderr.get(name, math.nan), lo, hi)
        lower[name], upper[name], method[name], kind[name] = iv.lower, iv.upper, iv.method, iv.kind
    free = [n for n in values if vary.get(n) and not exprs.get(n)]
    if uncertainty == "linear" or not free or not bool(result.success):
        return lower, upper, method, kind
    if uncertainty == "auto":
        todo = [n for n in free if n in verdict.flagged]
        if not todo:
            return lower, upper, method, kind
    else:
        todo = free
    factors = verdict.quality.get("error_scale_by_parameter", {})
    redchi = float(result.redchi) if result.nfree > 0 and math.isfinite(result.redchi) else 1.0
    scale = {n: redchi * float(factors.get(n, 1.0)) ** 2 for n in todo}
    try:
        if uncertainty == "bootstrap":
            got = bootstrap_intervals(result, todo, block=_block_length(verdict))
        else:
            got = profile_intervals(result, todo, scale=scale)
    except (ValueError, ArithmeticError, np.linalg.LinAlgError, RuntimeError) as err:
        warnings.warn(f"interval estimation failed ({err}); linear intervals kept", FitQualityWarning,
                      stacklevel=3)
        return lower, upper, method, kind
    for name, iv in got.items():
        lower[name], upper[name], method[name], kind[name] = iv.lower, iv.upper, iv.method, iv.kind
    return lower, upper, method, kind


def _block_length(verdict: Assessment) -> int:
    """Moving-block length for the bootstrap: ~ the correlation length of the residuals."""
    rho = verdict.quality.get("lag1", 0.0)
    if not isinstance(rho, float) or not math.isfinite(rho) or rho <= 0:
        return 1
    return int(max(1, min(50, math.ceil(2.0 * (1.0 + rho) / (1.0 - min(rho, 0.98))))))


def fit_curve(
    sweep: Sweep,
    model: lmfit.Model | str,
    params: Mapping[str, Any] | lmfit.Parameters | None = None,
    *,
    x: str | None = None,
    y: str | None = None,
    weights: np.ndarray | None = None,
    x_range: tuple[float | None, float | None] | None = None,
    method: str = "leastsq",
    strict: bool = False,
    fit_kws: Mapping[str, Any] | None = None,
    uncertainty: str = "auto",
) -> FitRecord:
    """Fit one sweep with one model.

    Parameters
    ----------
    sweep
        The data (SI columns).
    model
        A model instance (any lmfit model, including composites) or a registry key.
    params
        Either complete ``lmfit.Parameters``, or overrides ``name -> value`` /
        ``name -> {value, min, max, vary, expr}`` applied on top of ``model.guess``.
    x, y
        Column names; ``x`` defaults to ``<independent var>_<x_unit>`` of the model
        (``temperature_K``, ``bias_V``), ``y`` to the first canonical dependent column present.
    weights
        lmfit weights (1/sigma); defaults to ``model.default_weights``.
    x_range
        ``(lo, hi)`` in the x column's SI unit; rows outside are not fitted (None = open).
    method
        lmfit minimiser name.
    strict
        Raise :class:`FitError` instead of returning ``success=False``.
    fit_kws
        Extra keyword arguments for ``lmfit.Model.fit``.
    uncertainty
        ``"linear"`` (± from the covariance, widened for correlated residuals), ``"profile"``
        (profile-likelihood intervals of every free parameter), ``"bootstrap"`` (residual block
        bootstrap) or ``"auto"`` (default: linear, and profile intervals for the parameters the
        verdict flags — degenerate, poorly determined, at a bound).

    Returns
    -------
    FitRecord
        Values, stderr, intervals (``lower``/``upper``), units, correlations, statistics, the
        verdict with its reasons (:mod:`fitkit.fitting.quality`) and warnings.  ``record.result`` holds
        the lmfit ``ModelResult`` (in memory only).

    Raises
    ------
    FitError
        If the model output is not finite at the start values, or (``strict``) the fit failed.
    DataValidationError, MissingColumnError
        If the columns are missing or hold no finite data.
    """
    if isinstance(model, str):
        model = get_model(model)()
    comps = _components(model)
    xname = _x_name(model)
    if x is None:
        x_unit = comps[0].x_unit if comps else ""
        x = f"{xname}_{x_unit}" if x_unit else xname
    y = y or default_y_column(sweep, model)
    xv = sweep.column(x)
    yv = sweep.column(y)
    where = sweep.meta.source_path or sweep.meta.sample_id or "sweep"
    mask = np.isfinite(xv) & np.isfinite(yv)
    if x_range is not None:
        lo, hi = x_range
        if lo is not None:
            mask &= xv >= lo
        if hi is not None:
            mask &= xv <= hi
    if mask.sum() < 3:
        raise DataValidationError(f"{where}: fewer than 3 finite points to fit in '{x}' / '{y}'")
    xv, yv = xv[mask], yv[mask]
    if weights is not None:
        weights = np.asarray(weights, dtype=float)[mask]
    elif len(comps) == 1 and comps[0] is model:
        weights = model.default_weights(xv, yv)

    if isinstance(params, lmfit.Parameters):
        pars = params.copy()
    else:
        if hasattr(model, "guess") and not isinstance(model, lmfit.model.CompositeModel):
            try:
                pars = model.guess(yv, xv)
            except NotImplementedError:
                pars = model.make_params()
        else:
            pars = model.make_params()
        apply_overrides(pars, params)

    start = model.eval(pars, **{xname: xv})
    if not np.all(np.isfinite(start)):
        name = getattr(model, "key", model.name)
        raise FitError(f"{where}: model '{name}' is not finite at the start values")

    units: dict[str, str] = {}
    y_unit = y.rsplit("_", 1)[-1] if "_" in y else ""
    for c in comps:
        for n, u in c.param_units.items():
            units[n] = y_unit if u == DATA_UNIT else u
    extra: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            result = model.fit(yv, pars, weights=weights, method=method, **{xname: xv}, **dict(fit_kws or {}))
        except (ValueError, FloatingPointError, np.linalg.LinAlgError) as err:
            if strict:
                raise FitError(f"{where}: fit failed: {err}") from err
            return FitRecord(model_key=str(getattr(model, "key", model.name)), sample_id=sweep.meta.sample_id,
                             source_path=sweep.meta.source_path, x_column=x, y_column=y,
                             units=units, success=False, message=f"fit failed: {err}",
                             warnings=(f"fit failed: {err}",))
        key = "+".join(c.key for c in comps) if comps else model.name
        rec = record_from_result(result, model_key=key, sweep=sweep, x_column=x, y_column=y, units=units,
                                 extra_warnings=extra, uncertainty=uncertainty)
    if strict and not rec.success:
        raise FitError(f"{where}: fit with model '{key}' did not converge: {rec.message}")
    for w in rec.warnings:
        warnings.warn(f"{where}: {w}", FitQualityWarning, stacklevel=2)
    return rec
