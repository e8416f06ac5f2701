r"""Batch fitting of spectra that share one axis: blocks of grid pixels, warm-started from neighbours.

This is the per-pixel fitter behind the parameter maps of :mod:`fitkit.analysis.gridmap` and the
pipeline's ``map`` job.  It adds no physics and no success rule of its own:

* every pixel is evaluated by the **registered model function** (:class:`PixelModel` calls
  ``model.func``, e.g. :func:`fitkit.models.tunneling.nis_model_conductance`); the speed comes
  from the kernel caches of :mod:`fitkit.physics.thermal` and :mod:`fitkit.physics.tunneling`,
  which serve single-curve fits as well;
* every fitted pixel becomes a :class:`~fitkit.fitting.record.FitRecord` through
  :func:`fitkit.fitting.fit.record_from_result`, the record/quality path of
  :func:`~fitkit.fitting.fit.fit_curve`, so a pixel gets the same ``success``, ``verdict``,
  ``at_bound`` and warnings as the same spectrum fitted as a curve.

Blocks and warm starts.  A block is a run of consecutive pixels (row-major flat index
``iy * nx + ix``, default :data:`DEFAULT_BLOCK`).  Inside a block the pixels are visited in
serpentine order (even rows left to right, odd rows right to left), so the previously visited
pixel is a grid neighbour, and each fit starts from the best values of an already fitted,
usable neighbour (the previous pixel, else the pixel above, left or right); when there is none,
or when the warm-started fit is unusable or its reduced chi-square exceeds
:data:`RETRY_REDCHI_FACTOR` times the neighbour's, the model's data-driven ``guess`` is tried
too and the better fit kept.  The chain never crosses a block boundary, so a block's result does
not depend on which process computes it.

Scaling.  Each spectrum is divided by its high-bias level before the fit (so ``g_n`` is ~1 and
the bounded-parameter transform of lmfit keeps full precision).  The record is built from that
fit (verdict, ``at_bound`` and quality judged on the problem actually solved) and then expressed
in the data's own unit: data-unit parameters and their errors are multiplied back by the scale,
chi-square by its square (an unweighted fit of the raw spectrum has the same optimum).

A pixel is **usable** (a warm start, and counted in the gap statistics) when its record
succeeded, no varied parameter other than the ``significant`` ones is at its bound
(``record.at_bound``) or lacks an error, and the ``significant`` parameters (the gap) exceed
``min_significance`` standard errors; a converged pixel without a resolvable gap (a normal
region) is a result with ``significant = False``, not a failure.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import lmfit
import numpy as np
from numpy.typing import ArrayLike, NDArray

from fitkit.errors import DataValidationError, FitkitError
from fitkit.fitting.batch import failed_record
from fitkit.fitting.fit import record_from_result
from fitkit.fitting.record import FitRecord
from fitkit.models import DATA_UNIT, FitkitModel, apply_overrides, get_model
from fitkit.models.guesses import high_bias_level
from fitkit.units import MEV_PER_VOLT

__all__ = [
    "DEFAULT_BLOCK",
    "RETRY_REDCHI_FACTOR",
    "START_CODES",
    "VERDICT_CODES",
    "BlockFit",
    "PixelModel",
    "assemble_maps",
    "blocks_of",
    "fit_block",
    "map_name",
    "map_variable",
    "metadata_overrides",
    "pixel_records",
]

START_CODES: dict[int, str] = {
    0: "not fitted (no finite data)",
    1: "data-driven guess",
    2: "warm start from a fitted neighbour",
    3: "guess, after the warm-started fit failed or was worse",
}
"""Meaning of the ``start`` map values."""

VERDICT_CODES: dict[int, str] = {0: "ok", 1: "suspect", 2: "failed"}
"""Meaning of the ``verdict`` map values (the record's :attr:`FitRecord.verdict`)."""

DEFAULT_BLOCK = 256
"""Pixels per block (also the pipeline's default item size)."""

RETRY_REDCHI_FACTOR = 2.0
"""A warm-started fit whose reduced chi-square exceeds this factor times the neighbour's is retried
from the guess (a neighbour's minimum can be a wrong local minimum for this pixel)."""

_MAX_NFEV = 400
# Levenberg-Marquardt relative tolerances (lmfit default 1.5e-8): with warm starts 1e-6 saves about
# one Jacobian per pixel and moves the optimum by < 0.01 standard errors (measured on sc_grid.3ds).
_TOL = 1e-6
_NOT_FINITE = 1e6  # residual of a non-finite model value: steers the minimiser away


class PixelModel:
    r"""The registered model function evaluated on one spectrum's axis.

    ``PixelModel(model, x)(params)`` is ``model.eval(params, <x name>=x)`` without lmfit's
    per-call argument handling: it calls ``model.func`` itself, so a map pixel and a single
    curve are computed by the same code (for ``nis``:
    :func:`fitkit.models.tunneling.nis_model_conductance`, which reuses the cached thermal and
    lock-in kernels of :mod:`fitkit.physics.thermal` across calls).

    Parameters
    ----------
    model
        A single registered model.
    x
        Independent variable in the model's SI unit (bias in V for spectral models), 1-D.
    """

    def __init__(self, model: FitkitModel, x: ArrayLike) -> None:
        self.model = model
        self.x = np.asarray(x, dtype=float)
        self.prefix = model.prefix
        self._names = tuple(model.param_names)

    def __call__(self, params: lmfit.Parameters | Mapping[str, float]) -> NDArray[np.float64]:
        """Model values on ``x`` (the model's y unit) for parameter values keyed by full name."""
        v = params.valuesdict() if isinstance(params, lmfit.Parameters) else params
        n = len(self.prefix)
        return np.asarray(self.model.func(self.x, **{k[n:]: v[k] for k in self._names}), dtype=float)


class _Residual:
    """Picklable residual ``model - data`` over the finite points of one spectrum."""

    def __init__(self, pixel: PixelModel, y: NDArray[np.float64], mask: NDArray[np.bool_]) -> None:
        self.pixel, self.y, self.mask = pixel, y, mask

    def __call__(self, params: lmfit.Parameters) -> NDArray[np.float64]:
        r = self.pixel(params)[self.mask] - self.y[self.mask]
        return np.where(np.isfinite(r), r, _NOT_FINITE)


@dataclass
class BlockFit:
    """Fit results of a block of pixels (plain arrays plus the per-pixel records; picklable).

    Attributes
    ----------
    names
        Parameter names (columns of ``values``/``stderr``).
    units
        Parameter name -> unit token (the data unit resolved to the channel's unit).
    vary
        Parameter name -> varied in the fit.
    values, stderr
        Arrays ``(n, len(names))`` in the declared units; NaN where not fitted or unknown.
    redchi, chisqr
        Reduced chi-square and chi-square of the record (unweighted fit: data unit squared).
    nfev
        Model evaluations per pixel (both fits when a warm start was retried).
    success
        The record's ``success`` (converged, finite values).
    significant
        Usable (see the module notes) and the gap resolved (None: same as ``success``).
    start
        How each fit was started (:data:`START_CODES`).
    message
        Per-pixel message (empty when fine).
    ndata
        Points fitted per pixel.
    verdict
        The record's verdict as a code (:data:`VERDICT_CODES`; None: unknown).
    records
        One record per row (input order); pixels without a fit have a ``success=False`` record
        without values.  ``sample_id``/``meta`` are filled by :func:`pixel_records`.
    """

    names: tuple[str, ...]
    units: dict[str, str]
    vary: dict[str, bool]
    values: NDArray[np.float64]
    stderr: NDArray[np.float64]
    redchi: NDArray[np.float64]
    chisqr: NDArray[np.float64]
    nfev: NDArray[np.int64]
    success: NDArray[np.bool_]
    start: NDArray[np.int8]
    message: list[str] = field(default_factory=list)
    ndata: NDArray[np.int64] | None = None
    significant: NDArray[np.bool_] | None = None
    verdict: NDArray[np.int8] | None = None
    records: list[FitRecord] | None = None


def _make_model(model: str | FitkitModel) -> FitkitModel:
    m = get_model(model)() if isinstance(model, str) else model
    if not isinstance(m, FitkitModel):
        raise FitkitError(f"fit_block: model {model!r} is not a single registered fitkit model")
    return m


def _key(model: FitkitModel) -> str:
    return str(getattr(model, "key", "") or model.name)


def _serpentine(iy: NDArray[np.int64], ix: NDArray[np.int64]) -> NDArray[np.int64]:
    """Visiting order: rows in order, even rows by increasing ix, odd rows by decreasing ix."""
    return np.lexsort((np.where(iy % 2 == 0, ix, -ix), iy))


def _run_fit(res: _Residual, pars: lmfit.Parameters,
             method: str) -> tuple[lmfit.minimizer.MinimizerResult | None, str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kws = {"ftol": _TOL, "xtol": _TOL} if method == "leastsq" else {}
            out = lmfit.minimize(res, pars, method=method, max_nfev=_MAX_NFEV, **kws)
    except (ValueError, FloatingPointError, np.linalg.LinAlgError, ZeroDivisionError) as err:
        return None, f"fit failed: {type(err).__name__}: {err}"
    return out, ""


def _guess(model: FitkitModel, y: NDArray[np.float64], x: NDArray[np.float64],
           overrides: Mapping[str, Any]) -> lmfit.Parameters:
    simple = {}
    t = overrides.get(f"{model.prefix}temperature")
    if t is not None:
        simple["temperature"] = float(t["value"] if isinstance(t, Mapping) else t)
    try:
        pars = model.guess(y, x, **simple) if simple else model.guess(y, x)
    except (NotImplementedError, ValueError, FitkitError):
        pars = model.make_params()
    return apply_overrides(pars, overrides)


def _warm(template: lmfit.Parameters, start: Mapping[str, float]) -> lmfit.Parameters:
    # lmfit.minimize works on its own deep copy, so the template itself is updated and passed
    pars = template
    for name, p in pars.items():
        if p.vary and p.expr is None and name in start and np.isfinite(start[name]):
            lo = p.min if np.isfinite(p.min) else -np.inf
            hi = p.max if np.isfinite(p.max) else np.inf
            p.value = float(np.clip(start[name], lo, hi))
    return pars


def _as_model_result(out: lmfit.minimizer.MinimizerResult, model: FitkitModel, x: NDArray[np.float64],
                     y: NDArray[np.float64]) -> lmfit.model.ModelResult:
    """The minimiser result of a pixel fit as the ``ModelResult`` of ``model`` fitted to ``y`` (unweighted).

    A real :class:`lmfit.model.ModelResult` (``model``, ``data``, ``userkws``, ``best_fit``,
    ``residual`` set, as :func:`fitkit.fitting.fit.record_from_result` and the quality checks use
    them), built without a second fit or a deep copy of the parameters.
    """
    res = lmfit.model.ModelResult.__new__(lmfit.model.ModelResult)
    res.__dict__.update(out.__dict__)
    res.model, res.data, res.weights = model, y, None
    res.userkws = {model.independent_vars[0]: x}
    res.fcn_args, res.fcn_kws, res.nan_policy = (), dict(res.userkws), "raise"
    res.residual = np.asarray(out.residual, dtype=float)
    res.best_fit = y + res.residual
    res.best_values = {n: float(p.value) for n, p in out.params.items()}
    res.init_params = None
    res.ci_out = res.user_options = None
    return res


def _rescale(rec: FitRecord, scale: float, data_scaled: Sequence[str]) -> FitRecord:
    """A record of a fit of ``y / scale`` expressed as the fit of ``y`` (same optimum, data unit).

    Data-unit parameters (values, errors, start values, interval ends) are multiplied by
    ``scale``, chi-square by ``scale**2`` (AIC/BIC shift by ``ndata ln scale**2``) and the noise
    estimate by ``scale``; every dimensionless figure, the verdict and ``at_bound`` stay as they are.
    """
    def times(d: Mapping[str, float]) -> dict[str, float]:
        return {k: (v * scale if k in data_scaled else v) for k, v in d.items()}

    s2 = scale * scale
    shift = rec.ndata * math.log(s2) if s2 > 0 else 0.0
    quality = dict(rec.quality)
    if isinstance(quality.get("noise_sigma"), float):
        quality["noise_sigma"] = quality["noise_sigma"] * scale
    return dataclasses.replace(
        rec, values=times(rec.values), stderr=times(rec.stderr), init_values=times(rec.init_values),
        lower=times(rec.lower), upper=times(rec.upper), chisqr=rec.chisqr * s2, redchi=rec.redchi * s2,
        aic=rec.aic + shift, bic=rec.bic + shift, quality=quality, result=None,
    )


def _unusable(rec: FitRecord, exempt: Sequence[str]) -> str:
    """Why a record is not usable as a map pixel ("" when it is); ``exempt`` parameters (the gap) may
    sit at their bound or lack an error bar: that is how a pixel without a gap looks."""
    if not rec.success:
        return rec.message or "the fit did not converge"
    if not math.isfinite(rec.chisqr):
        return "chi-square is not finite"
    for name, hit in rec.at_bound.items():
        if hit and name not in exempt:
            return f"parameter '{name}' is at its bound ({rec.values[name]:.6g})"
    if any(rec.vary.get(n) and n not in exempt and not math.isfinite(e) for n, e in rec.stderr.items()):
        return "uncertainties could not be estimated (singular covariance)"
    return ""


def _insignificant(rec: FitRecord, names: Sequence[str], min_significance: float) -> str:
    """Message when a ``names`` parameter is not resolved (at its bound, or < k stderr); else ""."""
    for name in names:
        if name not in rec.values or not rec.vary.get(name):
            continue
        val, err = rec.values[name], rec.stderr.get(name, math.nan)
        if rec.at_bound.get(name) or not math.isfinite(err) or not abs(val) >= min_significance * err:
            shown = f"{err:.2g}" if math.isfinite(err) else "undetermined"
            return (f"no significant {name}: {val:.4g} is below {min_significance:g} x stderr "
                    f"({shown}); pixel kept as a result without a resolvable {name}")
    return ""


class _Pixel:
    """One spectrum prepared for fitting (scaled), and how to turn a fit of it into a record."""

    def __init__(self, model: FitkitModel, x: NDArray[np.float64], y: NDArray[np.float64],
                 mask: NDArray[np.bool_], units: Mapping[str, str], data_scaled: Sequence[str],
                 y_column: str) -> None:
        scale = high_bias_level(y[mask], x[mask])
        if not (np.isfinite(scale) and scale > 0):
            scale = float(np.max(np.abs(y[mask]))) or 1.0
        self.model, self.x, self.y, self.mask, self.scale = model, x, y, mask, float(scale)
        self.units, self.data_scaled, self.y_column = units, data_scaled, y_column
        self.residual = _Residual(PixelModel(model, x), y / self.scale, mask)

    def record(self, out: lmfit.minimizer.MinimizerResult) -> FitRecord:
        """The record of a fit of this pixel, through :func:`~fitkit.fitting.fit.record_from_result`.

        The verdict, ``at_bound`` and the quality figures are judged on the scaled spectrum (the
        problem the minimiser solved, ``g_n`` ~ 1); the record is then expressed in the data unit
        (:func:`_rescale`).  Intervals are linear (a profile per pixel would cost a fit per
        parameter).
        """
        res = _as_model_result(out, self.model, self.x[self.mask], self.residual.y[self.mask])
        rec = record_from_result(res, model_key=_key(self.model), sweep=None,
                                 x_column="bias_V", y_column=self.y_column, units=self.units,
                                 uncertainty="linear")
        return _rescale(rec, self.scale, self.data_scaled)


def fit_block(
    bias_V: ArrayLike,
    spectra: ArrayLike,
    *,
    model: str | FitkitModel = "nis",
    params: Mapping[str, Any] | None = None,
    iy: ArrayLike | None = None,
    ix: ArrayLike | None = None,
    warm_start: bool = True,
    x_range: tuple[float | None, float | None] | None = None,
    method: str = "leastsq",
    fast: bool = True,
    y_unit: str = "",
    significant: Sequence[str] = ("delta",),
    min_significance: float = 3.0,
) -> BlockFit:
    """Fit a block of spectra that share one bias axis, warm-starting from fitted neighbours.

    Parameters
    ----------
    bias_V
        Bias axis, V, shape ``(points,)``.
    spectra
        Conductance, shape ``(n, points)``, any unit (``g_n`` comes out in it).  Rows that are
        all NaN are skipped (``start`` 0, unsuccessful); other NaN points are left out of the fit.
    model
        Registry key or a single :class:`~fitkit.models.FitkitModel` instance.
    params
        Overrides ``name -> value`` or ``name -> {value, min, max, vary, expr}`` in declared
        units, applied on top of the guess (and kept for warm starts: bounds, ``vary``).
    iy, ix
        Grid indices of the rows (default: one grid row, ``iy = 0``, ``ix = 0..n-1``); they
        define the serpentine visiting order and which pixels are neighbours.
    warm_start
        Start each fit from a fitted neighbour's values (False: every pixel from its guess).
    x_range
        ``(lo, hi)`` bias window in V (None = open).
    method
        lmfit minimiser (``"leastsq"``: Levenberg-Marquardt).
    fast
        Accepted for compatibility and ignored: every model is evaluated by its registered
        function, with the physics layer's kernel caches.
    y_unit
        Unit token of the data (for ``g_n``'s unit); ``""`` leaves the data-unit marker.
    significant, min_significance
        A pixel where one of these (varied) parameters is at its bound or below
        ``min_significance`` standard errors (no resolvable gap, e.g. a normal defect) is a
        successful fit with ``significant = False`` and a message; it is not used as a warm
        start and is left out of the gap statistics.

    Returns
    -------
    BlockFit
        Rows in the input order, with one :class:`FitRecord` per row in ``records``.

    Raises
    ------
    DataValidationError
        Shapes disagree or the bias window keeps fewer than 5 points.
    ConfigError
        Unknown parameter names in ``params``.
    """
    del fast  # one implementation per model: the registered function (see PixelModel)
    m = _make_model(model)
    x = np.asarray(bias_V, dtype=float)
    y_all = np.atleast_2d(np.asarray(spectra, dtype=float))
    if x.ndim != 1 or y_all.shape[1] != x.size:
        raise DataValidationError(
            f"fit_block: spectra shape {y_all.shape} does not match the bias axis of {x.size} points"
        )
    n = y_all.shape[0]
    keep = np.isfinite(x)
    if x_range is not None:
        lo, hi = x_range
        keep &= (x >= (lo if lo is not None else -np.inf)) & (x <= (hi if hi is not None else np.inf))
    if keep.sum() < 5:
        raise DataValidationError(
            f"fit_block: only {int(keep.sum())} bias points in x_range={x_range}; need >= 5"
        )
    x, y_all = x[keep], y_all[:, keep]
    iy_a = np.zeros(n, dtype=np.int64) if iy is None else np.asarray(iy, dtype=np.int64)
    ix_a = np.arange(n, dtype=np.int64) if ix is None else np.asarray(ix, dtype=np.int64)
    overrides = dict(params or {})
    template = apply_overrides(m.make_params(), overrides)
    names = tuple(template)
    raw_units = m.param_units
    units = {k: (y_unit or DATA_UNIT) if raw_units.get(k) == DATA_UNIT else raw_units.get(k, "")
             for k in names}
    data_scaled = [k for k in names if raw_units.get(k) == DATA_UNIT]
    y_column = f"dIdV_{y_unit}" if y_unit else "dIdV"
    sig_names = [f"{m.prefix}{q}" for q in significant]
    key = _key(m)
    nvary = len([q for q in template.values() if q.vary])

    values = np.full((n, len(names)), np.nan)
    stderr = np.full((n, len(names)), np.nan)
    redchi = np.full(n, np.nan)
    chisqr = np.full(n, np.nan)
    nfev = np.zeros(n, dtype=np.int64)
    ndata = np.zeros(n, dtype=np.int64)
    success = np.zeros(n, dtype=bool)
    signif = np.zeros(n, dtype=bool)
    verdict = np.full(n, 2, dtype=np.int8)
    start = np.zeros(n, dtype=np.int8)
    message = [""] * n
    records: list[FitRecord | None] = [None] * n
    fitted: dict[tuple[int, int], tuple[dict[str, float], float]] = {}  # scaled best values, redchi
    codes = {v: k for k, v in VERDICT_CODES.items()}

    prev: tuple[int, int] | None = None
    for k in _serpentine(iy_a, ix_a):
        here = (int(iy_a[k]), int(ix_a[k]))
        mask = np.isfinite(y_all[k])
        if mask.sum() < nvary + 2:
            message[k] = "no finite data (pixel not measured)" if not mask.any() else "too few finite points"
            records[k] = failed_record(message[k], model_key=key)
            prev = None
            continue
        px = _Pixel(m, x, y_all[k], mask, units, data_scaled, y_column)
        neighbour = None
        if warm_start:
            for cand in (prev, (here[0] - 1, here[1]), (here[0], here[1] - 1), (here[0], here[1] + 1)):
                if cand is not None and cand in fitted:
                    neighbour = fitted[cand]
                    break
        ys, xm = px.residual.y[mask], x[mask]
        rec: FitRecord | None = None
        best: dict[str, float] = {}
        warm_redchi = math.inf
        if neighbour is not None:
            out, msg = _run_fit(px.residual, _warm(template, neighbour[0]), method)
            start[k] = 2
            nfev[k] = out.nfev if out is not None else 0
            if out is not None:
                best = {nm: out.params[nm].value for nm in names}
                warm_redchi = float(out.redchi)
                rec = px.record(out)
            if rec is None or _unusable(rec, ()) or warm_redchi > RETRY_REDCHI_FACTOR * neighbour[1]:
                cold, cmsg = _run_fit(px.residual, _guess(m, ys, xm, overrides), method)
                nfev[k] += cold.nfev if cold is not None else 0
                if cold is not None:
                    cold_best = {nm: cold.params[nm].value for nm in names}
                    cold_redchi = float(cold.redchi)
                    crec = px.record(cold)
                    if (rec is None or _unusable(rec, ())
                            or (not _unusable(crec, ()) and crec.chisqr < rec.chisqr)):
                        rec, msg, best, start[k] = crec, cmsg, cold_best, 3
                        warm_redchi = cold_redchi
        else:
            out, msg = _run_fit(px.residual, _guess(m, ys, xm, overrides), method)
            start[k] = 1
            nfev[k] = out.nfev if out is not None else 0
            if out is not None:
                best = {nm: out.params[nm].value for nm in names}
                warm_redchi = float(out.redchi)
                rec = px.record(out)
        prev = here
        if rec is None:
            message[k] = msg
            records[k] = failed_record(msg, model_key=key)
            continue
        records[k] = rec
        ndata[k] = rec.ndata
        why = _unusable(rec, sig_names)
        insig = "" if why else _insignificant(rec, sig_names, min_significance)
        for j, name in enumerate(names):
            values[k, j] = rec.values[name]
            if rec.vary.get(name):
                stderr[k, j] = rec.stderr[name]
        chisqr[k], redchi[k] = rec.chisqr, rec.redchi
        success[k] = rec.success
        verdict[k] = codes.get(rec.verdict, 1)
        signif[k] = not why and not insig
        if signif[k]:
            fitted[here] = (best, warm_redchi)
        message[k] = why or insig
    return BlockFit(names=names, units=units, vary={k: bool(template[k].vary) for k in names},
                    values=values, stderr=stderr, redchi=redchi, chisqr=chisqr, nfev=nfev,
                    success=success, start=start, message=message, ndata=ndata, significant=signif,
                    verdict=verdict, records=[r for r in records if r is not None])


def pixel_records(fit: BlockFit, iy: ArrayLike, ix: ArrayLike, *, model_key: str, sample_id: str,
                  source_path: str, y_column: str, config_digest: str = "",
                  meta: Mapping[str, Any] | None = None) -> list[FitRecord]:
    """The per-pixel records of a block, labelled for a run (``sample_id[iy,ix]``, ``meta``).

    Parameters
    ----------
    fit
        Result of :func:`fit_block` (its ``records``, built by
        :func:`fitkit.fitting.fit.record_from_result`).
    iy, ix
        Grid indices of the block's rows.
    model_key, sample_id, source_path, y_column, config_digest
        Identifiers written into each record (``model_key`` only for pixels without a fit).
    meta
        Extra metadata; ``iy``, ``ix``, ``start`` and ``significant`` are added.

    Returns
    -------
    list of FitRecord
        One per row, in the input order.

    Raises
    ------
    ValueError
        If the block carries no records (a :class:`BlockFit` built by hand).
    """
    if fit.records is None or len(fit.records) != len(fit.success):
        raise ValueError("pixel_records: the BlockFit has no per-pixel records (use fit_block)")
    iy_a, ix_a = np.asarray(iy, dtype=np.int64), np.asarray(ix, dtype=np.int64)
    sig = fit.success if fit.significant is None else fit.significant
    out = []
    for k, rec in enumerate(fit.records):
        warn = rec.warnings
        if fit.message[k] and fit.message[k] not in warn:
            warn = (*warn, fit.message[k])
        out.append(dataclasses.replace(
            rec, model_key=rec.model_key or model_key,
            sample_id=f"{sample_id}[{int(iy_a[k])},{int(ix_a[k])}]", source_path=source_path,
            y_column=y_column, config_digest=config_digest, warnings=warn,
            meta={**dict(meta or {}), "iy": int(iy_a[k]), "ix": int(ix_a[k]), "start": int(fit.start[k]),
                  "significant": bool(sig[k])},
        ))
    return out


def metadata_overrides(ds: Any, model: FitkitModel, params: Mapping[str, Any]) -> dict[str, Any]:
    """Fix ``temperature`` and ``v_mod`` at the grid's metadata values unless ``params`` sets them.

    Parameters
    ----------
    ds
        Grid dataset (attrs ``temperature_K`` and ``lockin_amplitude_rms_V`` from the loader).
    model
        The model (its prefix and parameter names).
    params
        The user's overrides.

    Returns
    -------
    dict
        ``{name: {"value": ..., "vary": False}}`` for the parameters set from metadata
        (``v_mod`` converted from V to mV rms).
    """
    out: dict[str, Any] = {}
    p = model.prefix
    names = {s.name for s in model.param_specs}
    t = ds.attrs.get("temperature_K")
    if "temperature" in names and f"{p}temperature" not in params and t is not None and np.isfinite(t):
        out[f"{p}temperature"] = {"value": float(t), "vary": False}
    vr = ds.attrs.get("lockin_amplitude_rms_V")
    if "v_mod" in names and f"{p}v_mod" not in params and vr is not None and np.isfinite(vr):
        out[f"{p}v_mod"] = {"value": float(vr) * MEV_PER_VOLT, "vary": False}
    return out


def blocks_of(n_pixels: int, block: int) -> list[tuple[int, int]]:
    """Flat pixel ranges ``[(start, stop), ...]`` of ``block`` pixels (the last may be shorter)."""
    return [(s, min(s + block, n_pixels)) for s in range(0, n_pixels, block)]


def map_name(name: str, unit: str) -> str:
    """Variable name of a parameter map: ``delta`` + ``meV`` -> ``delta_meV`` (no suffix without unit)."""
    return f"{name}_{unit}" if unit and unit != "1" else name


def map_variable(ds: Any, parameter: str) -> str:
    """Name of the map variable of a fitted parameter (``"delta"`` -> ``"delta_meV"``).

    Raises
    ------
    KeyError
        If the parameter has no map.
    """
    var = next((str(v) for v in ds.data_vars if ds[v].attrs.get("parameter") == parameter
                and not str(v).endswith("_stderr")), None)
    if var is None:
        raise KeyError(f"no map of parameter {parameter!r}; maps: {list(ds.data_vars)}")
    return var


def assemble_maps(parts: Sequence[BlockFit], indices: Sequence[tuple[ArrayLike, ArrayLike]],
                  ny: int, nx: int) -> Any:
    """Put block results into (y, x) maps.

    Parameters
    ----------
    parts
        Block results.
    indices
        ``(iy, ix)`` arrays of each block's rows.
    ny, nx
        Grid size; pixels in no block are NaN / unsuccessful (``start`` 0, verdict failed).

    Returns
    -------
    xarray.Dataset
        Variables ``<param>_<unit>`` and ``<param>_<unit>_stderr``, ``redchi``, ``chisqr``,
        ``nfev``, ``start``, ``success``, ``significant`` and ``verdict`` (no coordinates).

    Raises
    ------
    ValueError
        If no block is given.
    """
    import xarray as xr

    if not parts:
        raise ValueError("assemble_maps: no block results")
    names, units = parts[0].names, parts[0].units
    vals = np.full((ny, nx, len(names)), np.nan)
    errs = np.full((ny, nx, len(names)), np.nan)
    red = np.full((ny, nx), np.nan)
    chi = np.full((ny, nx), np.nan)
    nfev = np.zeros((ny, nx), dtype=np.int64)
    start = np.zeros((ny, nx), dtype=np.int8)
    ok = np.zeros((ny, nx), dtype=bool)
    sig = np.zeros((ny, nx), dtype=bool)
    verdict = np.full((ny, nx), 2, dtype=np.int8)
    for part, (iy, ix) in zip(parts, indices, strict=True):
        iy, ix = np.asarray(iy, dtype=np.int64), np.asarray(ix, dtype=np.int64)
        vals[iy, ix], errs[iy, ix] = part.values, part.stderr
        red[iy, ix], chi[iy, ix] = part.redchi, part.chisqr
        nfev[iy, ix], start[iy, ix], ok[iy, ix] = part.nfev, part.start, part.success
        sig[iy, ix] = part.success if part.significant is None else part.significant
        verdict[iy, ix] = np.where(part.success, 0, 2) if part.verdict is None else part.verdict
    dv: dict[str, Any] = {}
    for j, name in enumerate(names):
        u = units.get(name, "")
        var = map_name(name, u)
        attrs = {"units": u, "parameter": name, "varied": int(parts[0].vary.get(name, True))}
        dv[var] = (("y", "x"), vals[:, :, j], attrs)
        dv[f"{var}_stderr"] = (("y", "x"), errs[:, :, j], attrs)
    dv["redchi"] = (("y", "x"), red, {"units": "", "description": "reduced chi-square (data unit^2)"})
    dv["chisqr"] = (("y", "x"), chi, {"units": ""})
    dv["nfev"] = (("y", "x"), nfev, {"units": ""})
    codes = "; ".join(f"{k}={v}" for k, v in START_CODES.items())
    dv["start"] = (("y", "x"), start, {"units": "", "codes": codes})
    dv["success"] = (("y", "x"), ok, {"units": ""})
    dv["significant"] = (("y", "x"), sig, {"units": "", "description": "usable fit and gap resolved"})
    dv["verdict"] = (("y", "x"), verdict, {"units": "",
                                           "codes": "; ".join(f"{k}={v}" for k, v in VERDICT_CODES.items())})
    return xr.Dataset(dv)
