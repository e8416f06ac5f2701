r"""Parameter maps from grid spectroscopy: one fit per pixel, warm-started from fitted neighbours.

A Nanonis ``.3ds`` grid (:func:`fitkit.io.nanonis_3ds.open_grid`) holds one dI/dV spectrum per
pixel.  :func:`fit_grid` fits every pixel with one model (default ``nis``) and returns maps of
the fitted parameters, their standard errors, the reduced chi-square and a success mask;
:func:`save_maps` writes a gap-map PNG, a histogram PNG and an HDF5 file of the maps.

Work is split into **blocks** of consecutive pixels (row-major flat index ``iy * nx + ix``,
default 256 per block).  Inside a block the pixels are visited in serpentine order (even rows
left to right, odd rows right to left), so the previously visited pixel is always a grid
neighbour, and each fit starts from the best values of an already fitted, successful
neighbour (the previous pixel, else the pixel above); when there is none, or when the
warm-started fit fails or is clearly worse than its neighbour's, the model's data-driven
``guess`` is used.  The warm-start chain never crosses a block boundary, so a block's result
does not depend on which process computes it: :func:`fit_grid` (any ``workers``) and the
pipeline's ``map`` job (local pool or Dask) give identical maps.

Speed.  With the temperature and the lock-in modulation fixed (the usual case for a map: both
are known and they are degenerate with the Dynes :math:`\Gamma`), the ``nis`` model is
evaluated by :class:`NISGridEvaluator`, which keeps the energy grid and the FFT of the
thermal-plus-lock-in kernel for the whole block and only recomputes the Dynes DOS per call.
Other models, or a free temperature/modulation, use the model function itself.

Pixels whose spectrum is all NaN (an aborted grid) are not fitted and are marked unsuccessful;
a failing pixel never stops the map.
"""

from __future__ import annotations

import math
import os
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lmfit
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import fft as sfft

from fitkit.constants import K_B_MEV_PER_K
from fitkit.errors import DataValidationError, FitkitError
from fitkit.models import DATA_UNIT, FitkitModel, apply_overrides, get_model
from fitkit.models.guesses import high_bias_level
from fitkit.physics.dos import dynes_dos_antiderivative
from fitkit.physics.thermal import (
    fermi_cell_average_kernel,
    lockin_cell_average_kernel,
)
from fitkit.units import MEV_PER_VOLT

__all__ = [
    "DEFAULT_BLOCK",
    "START_CODES",
    "BlockFit",
    "NISGridEvaluator",
    "assemble_maps",
    "blocks_of",
    "channel_unit",
    "default_channel",
    "fit_block",
    "fit_grid",
    "map_name",
    "map_summary",
    "metadata_overrides",
    "preprocess_spectra",
    "read_maps",
    "resolve_channel",
    "save_maps",
]

START_CODES: dict[int, str] = {
    0: "not fitted (no finite data)",
    1: "data-driven guess",
    2: "warm start from a fitted neighbour",
    3: "guess, after the warm-started fit failed or was worse",
}
"""Meaning of the ``start`` map values."""

DEFAULT_BLOCK = 256
"""Pixels per block (also the pipeline's default item size)."""

_MAX_NFEV = 400
# Levenberg-Marquardt relative tolerances (lmfit default 1.5e-8): with warm starts 1e-6 saves about
# one Jacobian per pixel and moves the optimum by < 0.01 standard errors (measured on sc_grid.3ds).
_TOL = 1e-6
# A warm-started fit whose reduced chi-square exceeds this factor times the neighbour's is retried
# from the guess (a neighbour's minimum can be a wrong local minimum for this pixel).
_RETRY_REDCHI_FACTOR = 2.0
_LOCKIN_NAMES = ("li_demod", "input")
# The thermal kernel -f' is cut at |E| = 20 k_B T (discarded tail weight 2 exp(-20) ~ 4e-9, renormalised).
_KERNEL_CUTOFF_KT = 20.0


# --------------------------------------------------------------------------- fast nis evaluation


class NISGridEvaluator:
    r"""Fast repeated evaluation of the ``nis`` model on one bias axis at fixed T and V_rms.

    .. math::
        G(V) = G_N\,\big[K_{lock} * K_T * \bar N_D(\,\cdot\,;\Delta,\Gamma)\big](V - V_0)\,
               \big(1 + s\,(V - V_0)\big)

    The energy grid (step ``min(k_B T, V_rms) / points_per_width``), the cell-averaged thermal
    and lock-in kernels and their FFT are computed once; a call computes the exact cell
    averages of the Dynes DOS (:func:`fitkit.physics.dos.dynes_dos_antiderivative`), one FFT
    convolution, the :math:`O(h^2)` sharpening of :func:`fitkit.physics.thermal.smear`, and a
    cubic interpolation at :math:`V - V_0`.  This is the algorithm of
    :func:`fitkit.physics.tunneling.nis_conductance` with a grid that does not depend on
    :math:`\Gamma`, so it can be reused across calls.

    Parameters
    ----------
    bias_V
        Bias axis, V (SI), 1-D.
    temperature
        Electron temperature, K, >= 0.
    v_mod
        Lock-in modulation, mV rms, >= 0.  ``temperature`` and ``v_mod`` must not both be 0.
    points_per_width
        Grid cells per smallest smoothing width (default 8: relative error <~ 1e-4 against
        ``nis_conductance`` for :math:`\Gamma \gtrsim k_BT/5`, measured in ``tests/test_gridmap.py``).
    offset_reach_mV
        Largest \|V_0\| the grid must accommodate, mV (default 10 % of the bias range).

    Raises
    ------
    ValueError
        If both smoothing widths are 0 or a value is negative or not finite.

    Notes
    -----
    Status: reconstructed (a re-arrangement of the library's NIS evaluation for fixed T and
    V_rms; accuracy checked against the model function, not a new formula).

    References
    ----------
    .. [1] R. C. Dynes, V. Narayanamurti and J. P. Garno, Phys. Rev. Lett. 41, 1509 (1978).
    .. [2] M. Tinkham, *Introduction to Superconductivity*, 2nd ed. (McGraw-Hill, 1996), sec. 3.5.
    """

    def __init__(self, bias_V: ArrayLike, temperature: float, v_mod: float, *,
                 points_per_width: float = 8.0, offset_reach_mV: float | None = None) -> None:
        t, vm = float(temperature), float(v_mod)
        if not (np.isfinite(t) and t >= 0 and np.isfinite(vm) and vm >= 0):
            raise ValueError(f"NISGridEvaluator: temperature ({temperature!r} K) and v_mod ({v_mod!r} mV) "
                             "must be finite and >= 0")
        kt = K_B_MEV_PER_K * t
        widths = [w for w in (kt, vm) if w > 0]
        if not widths:
            raise ValueError("NISGridEvaluator: needs temperature > 0 or v_mod > 0 (a smoothing width)")
        self.x_mv = np.asarray(bias_V, dtype=float) * MEV_PER_VOLT
        vmax = float(np.max(np.abs(self.x_mv)))
        reach_v0 = 0.1 * vmax if offset_reach_mV is None else float(offset_reach_mV)
        h = min(widths) / float(points_per_width)
        db = np.diff(self.x_mv)
        self._stride = 0
        if self.x_mv.size > 1 and db[0] > 0 and np.allclose(db, db[0], rtol=1e-9, atol=0.0):
            # a step that divides the bias step (the nearest such step to the target) puts every bias
            # point at the same fractional grid position: one set of interpolation weights serves all
            self._stride = max(1, round(db[0] / h))
            h = float(db[0]) / self._stride
        reach = _KERNEL_CUTOFF_KT * kt + math.sqrt(2.0) * vm
        e_max = 1.02 * (vmax + reach_v0 + reach) + 0.05
        n = int(math.ceil(e_max / h))
        self.step = h
        self.grid = h * np.arange(-n, n + 1, dtype=float)
        self._edges_pos = self.grid[n:] + 0.5 * h
        k_t = fermi_cell_average_kernel(h, t)
        cut = (k_t.size - 1) // 2 - int(math.ceil(_KERNEL_CUTOFF_KT * kt / h)) - 1
        if cut > 0:
            k_t = k_t[cut:-cut] / (np.sum(k_t[cut:-cut]) * h)  # renormalised: a flat DOS stays exact
        k_l = lockin_cell_average_kernel(h, vm)
        kernel = np.convolve(k_t, k_l) * h * h
        self._m = (kernel.size - 1) // 2
        self._size = sfft.next_fast_len(self.grid.size + 4 * self._m, real=True)
        self._kernel_f = sfft.rfft(kernel, self._size)
        self._boxes = 1 + int(k_t.size > 1) + int(k_l.size > 1)
        self._buf = np.empty(self.grid.size + 2 * self._m)
        self._cache: dict[tuple[float, float], NDArray[np.float64]] = {}

    def normalized(self, delta: float, gamma: float, bias_offset: float = 0.0) -> NDArray[np.float64]:
        """:math:`G/G_N` at :math:`V - V_0` (dimensionless); ``delta``, ``gamma`` in meV, offset in mV."""
        out = self._smeared(max(float(delta), 0.0), max(float(gamma), 0.0))
        if self._stride:
            s0 = (self.x_mv[0] - float(bias_offset) - self.grid[0]) / self.step
            i0 = int(math.floor(s0))
            last = i0 + self._stride * (self.x_mv.size - 1)
            if i0 >= 1 and last + 2 < out.size:
                t = s0 - i0
                k, stop = self._stride, last + 1
                return (-t * (t - 1.0) * (t - 2.0) / 6.0 * out[i0 - 1:stop - 1:k]
                        + (t + 1.0) * (t - 1.0) * (t - 2.0) / 2.0 * out[i0:stop:k]
                        - (t + 1.0) * t * (t - 2.0) / 2.0 * out[i0 + 1:stop + 1:k]
                        + (t + 1.0) * t * (t - 1.0) / 6.0 * out[i0 + 2:stop + 2:k])
        return _cubic(self.grid[0], self.step, out, self.x_mv - float(bias_offset))

    def _smeared(self, d: float, g: float) -> NDArray[np.float64]:
        """Smeared normalised conductance on the energy grid; the last few (Delta, Gamma) are cached
        (a finite-difference Jacobian varies g_n and V_0 at the base Delta and Gamma)."""
        key = (d, g)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        h_pos = dynes_dos_antiderivative(self._edges_pos, d, g)
        dos = np.clip(1.0 + np.diff(np.concatenate([-h_pos[::-1], h_pos])) / self.step, 0.0, None)
        m, n = self._m, self.grid.size
        buf = self._buf
        buf[:m], buf[m:m + n], buf[m + n:] = dos[0], dos, dos[-1]
        out = sfft.irfft(sfft.rfft(buf, self._size) * self._kernel_f, self._size)[2 * m - 1: 2 * m + n + 1]
        # sharpening (see fitkit.physics.thermal.smear); the two extra nodes are the true neighbours
        out = out[1:-1] - (self._boxes / 24.0) * (out[2:] - 2.0 * out[1:-1] + out[:-2])
        if len(self._cache) >= 4:
            self._cache.pop(next(iter(self._cache)))
        self._cache[key] = out
        return out

    def __call__(self, delta: float, gamma: float, g_n: float = 1.0, bias_offset: float = 0.0,
                 bg_slope: float = 0.0) -> NDArray[np.float64]:
        """Model conductance in the data unit on the evaluator's bias axis.

        Parameters
        ----------
        delta, gamma
            Gap and Dynes broadening, meV.
        g_n
            Normal-state conductance, data unit.
        bias_offset
            Offset V_0, mV.
        bg_slope
            Linear background slope, 1/mV.

        Returns
        -------
        numpy.ndarray
            Conductance, shape of the bias axis.
        """
        v = self.x_mv - float(bias_offset)
        return g_n * self.normalized(delta, gamma, bias_offset) * (1.0 + bg_slope * v)


def _cubic(e0: float, h: float, values: NDArray[np.float64], e: NDArray[np.float64]) -> NDArray[np.float64]:
    """4-point cubic Lagrange interpolation on a uniform grid (as ``physics.thermal.interp_on_grid``)."""
    s = np.clip((e - e0) / h, 0.0, values.size - 1.0)
    i = np.clip(s.astype(np.intp), 1, values.size - 3)
    t = s - i
    y0, y1, y2, y3 = values[i - 1], values[i], values[i + 1], values[i + 2]
    return (-t * (t - 1.0) * (t - 2.0) / 6.0 * y0 + (t + 1.0) * (t - 1.0) * (t - 2.0) / 2.0 * y1
            - (t + 1.0) * t * (t - 2.0) / 2.0 * y2 + (t + 1.0) * t * (t - 1.0) / 6.0 * y3)


# --------------------------------------------------------------------------- per-block fitting


@dataclass
class BlockFit:
    """Fit results of a block of pixels (plain arrays, picklable).

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
        Reduced chi-square and chi-square (unweighted fit: data unit squared).
    nfev
        Model evaluations per pixel.
    success
        Converged, finite values and uncertainties estimated.
    significant
        Successful and the ``significant`` parameters (the gap) exceed ``min_significance``
        standard errors; a successful pixel without a resolvable gap (a normal region) is a
        result, not a failure (None: same as ``success``).
    start
        How each fit was started (:data:`START_CODES`).
    message
        Per-pixel message (empty when fine).
    ndata
        Points fitted per pixel.
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


def _make_model(model: str | FitkitModel) -> FitkitModel:
    m = get_model(model)() if isinstance(model, str) else model
    if not isinstance(m, FitkitModel):
        raise FitkitError(f"fit_grid: model {model!r} is not a single registered fitkit model")
    return m


def _serpentine(iy: NDArray[np.int64], ix: NDArray[np.int64]) -> NDArray[np.int64]:
    """Visiting order: rows in order, even rows by increasing ix, odd rows by decreasing ix."""
    return np.lexsort((np.where(iy % 2 == 0, ix, -ix), iy))


class _Residual:
    """Picklable residual (model - data) for lmfit, fast or generic evaluation."""

    def __init__(self, model: FitkitModel, x: NDArray[np.float64], y: NDArray[np.float64],
                 mask: NDArray[np.bool_], fast: NISGridEvaluator | None) -> None:
        self.model, self.x, self.y, self.mask, self.fast = model, x, y, mask, fast
        self.prefix = model.prefix

    def __call__(self, params: lmfit.Parameters) -> NDArray[np.float64]:
        v = params.valuesdict()
        if self.fast is not None:
            p = self.prefix
            g = self.fast(v[f"{p}delta"], v[f"{p}gamma"], v[f"{p}g_n"], v[f"{p}bias_offset"],
                          v[f"{p}bg_slope"])
        else:
            g = self.model.func(self.x, **{k[len(self.prefix):]: val for k, val in v.items()})
        r = np.asarray(g, dtype=float)[self.mask] - self.y[self.mask]
        return np.where(np.isfinite(r), r, 1e6)


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


def _at_bound(p: lmfit.Parameter) -> bool:
    span = (p.max - p.min) if (np.isfinite(p.min) and np.isfinite(p.max)) else max(abs(p.value), 1.0)
    tol = 1e-6 * max(span, 1e-12)
    low = np.isfinite(p.min) and p.value - p.min <= tol
    return bool(low or (np.isfinite(p.max) and p.max - p.value <= tol))


def _problem(out: lmfit.minimizer.MinimizerResult | None, exempt: Sequence[str] = ()) -> str:
    """Why a fit does not count as successful ("" when it does).

    Parameters in ``exempt`` (the gap) may sit at their bound or lack an error bar: that is
    how a pixel without a gap looks, and :func:`_insignificant` reports it instead.
    """
    if out is None:
        return "fit failed"
    if not out.success:
        return f"did not converge: {out.message}"
    if not np.isfinite(out.chisqr):
        return "chi-square is not finite"
    for name, p in out.params.items():
        if not np.isfinite(p.value):
            return f"parameter '{name}' is not finite"
        if p.vary and p.expr is None and name not in exempt and _at_bound(p):
            return f"parameter '{name}' is at its bound ({p.value:.6g})"
    if any(p.vary and name not in exempt and (p.stderr is None or not np.isfinite(p.stderr))
           for name, p in out.params.items()):
        return "uncertainties could not be estimated (singular covariance)"
    return ""


def _insignificant(out: lmfit.minimizer.MinimizerResult, names: Sequence[str],
                   min_significance: float) -> str:
    """Message when a ``names`` parameter is not resolved (at its bound, or < k stderr); else ""."""
    for name in names:
        p = out.params.get(name)
        if p is None or not p.vary:
            continue
        err = p.stderr if (p.stderr is not None and np.isfinite(p.stderr)) else math.nan
        if _at_bound(p) or not math.isfinite(err) or not abs(p.value) >= min_significance * err:
            shown = f"{err:.2g}" if math.isfinite(err) else "undetermined"
            return (f"no significant {name}: {p.value:.4g} is below {min_significance:g} x stderr "
                    f"({shown}); pixel kept as a result without a resolvable {name}")
    return ""


def _ok(out: lmfit.minimizer.MinimizerResult | None) -> bool:
    return out is not None and _problem(out) == ""


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
        Use :class:`NISGridEvaluator` for ``nis`` with fixed temperature and ``v_mod``.
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
        Rows in the input order.

    Raises
    ------
    DataValidationError
        Shapes disagree or the bias window keeps fewer than 5 points.
    ConfigError
        Unknown parameter names in ``params``.
    """
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
    raw_units = {f"{m.prefix}{k}": u for k, u in m.param_units.items()}
    units = {k: (y_unit or DATA_UNIT) if raw_units.get(k) == DATA_UNIT else raw_units.get(k, "")
             for k in names}
    data_scaled = [k for k in names if raw_units.get(k) == DATA_UNIT]
    evaluator = None
    p = m.prefix
    if fast and getattr(m, "key", "") == "nis" and not template[f"{p}temperature"].vary \
            and not template[f"{p}v_mod"].vary:
        try:
            evaluator = NISGridEvaluator(x, template[f"{p}temperature"].value, template[f"{p}v_mod"].value)
        except ValueError:
            evaluator = None

    values = np.full((n, len(names)), np.nan)
    stderr = np.full((n, len(names)), np.nan)
    redchi = np.full(n, np.nan)
    chisqr = np.full(n, np.nan)
    nfev = np.zeros(n, dtype=np.int64)
    ndata = np.zeros(n, dtype=np.int64)
    success = np.zeros(n, dtype=bool)
    signif = np.zeros(n, dtype=bool)
    start = np.zeros(n, dtype=np.int8)
    message = [""] * n
    fitted: dict[tuple[int, int], tuple[dict[str, float], float]] = {}  # scaled best values, redchi

    prev: tuple[int, int] | None = None
    for k in _serpentine(iy_a, ix_a):
        key = (int(iy_a[k]), int(ix_a[k]))
        y = y_all[k]
        mask = np.isfinite(y)
        if mask.sum() < len([q for q in template.values() if q.vary]) + 2:
            message[k] = "no finite data (pixel not measured)" if not mask.any() else "too few finite points"
            prev = None
            continue
        scale = high_bias_level(y[mask], x[mask])
        if not (np.isfinite(scale) and scale > 0):
            scale = float(np.max(np.abs(y[mask]))) or 1.0
        ys = y / scale
        res = _Residual(m, x, ys, mask, evaluator)
        neighbour = None
        if warm_start:
            for cand in (prev, (key[0] - 1, key[1]), (key[0], key[1] - 1), (key[0], key[1] + 1)):
                if cand is not None and cand in fitted:
                    neighbour = fitted[cand]
                    break
        out, msg = None, ""
        if neighbour is not None:
            out, msg = _run_fit(res, _warm(template, neighbour[0]), method)
            start[k] = 2
            nfev[k] = out.nfev if out is not None else 0
            if not _ok(out) or out.redchi > _RETRY_REDCHI_FACTOR * neighbour[1]:
                cold, cmsg = _run_fit(res, _guess(m, ys[mask], x[mask], overrides), method)
                nfev[k] += cold.nfev if cold is not None else 0
                if cold is not None and (not _ok(out) or (_ok(cold) and cold.chisqr < out.chisqr)):
                    out, msg = cold, cmsg
                    start[k] = 3
        else:
            out, msg = _run_fit(res, _guess(m, ys[mask], x[mask], overrides), method)
            start[k] = 1
            nfev[k] = out.nfev if out is not None else 0
        prev = key
        if out is None:
            message[k] = msg
            continue
        ndata[k] = int(mask.sum())
        sig_names = [f"{p}{q}" for q in significant]
        why = _problem(out, exempt=sig_names)
        ok = why == ""
        insig = _insignificant(out, sig_names, min_significance) if ok else ""
        for j, name in enumerate(names):
            par = out.params[name]
            f = scale if name in data_scaled else 1.0
            values[k, j] = par.value * f
            if par.vary and par.stderr is not None and np.isfinite(par.stderr):
                stderr[k, j] = par.stderr * f
        chisqr[k] = out.chisqr * scale * scale
        redchi[k] = out.redchi * scale * scale
        success[k] = ok
        signif[k] = ok and not insig
        if signif[k]:
            fitted[key] = ({nm: out.params[nm].value for nm in names}, float(out.redchi))
        message[k] = why or insig
    return BlockFit(names=names, units=units, vary={k: bool(template[k].vary) for k in names},
                    values=values, stderr=stderr, redchi=redchi, chisqr=chisqr, nfev=nfev,
                    success=success, start=start, message=message, ndata=ndata, significant=signif)


# --------------------------------------------------------------------------- whole grids


def default_channel(ds: Any) -> str:
    """The conductance variable of a grid dataset: the first lock-in (``li_demod_*``/``input_*``) channel.

    Parameters
    ----------
    ds
        Dataset from :func:`fitkit.io.nanonis_3ds.open_grid`.

    Returns
    -------
    str
        Variable name.

    Raises
    ------
    DataValidationError
        If the dataset has no lock-in channel (pass ``channel=`` explicitly).
    """
    spectral = [v for v in ds.data_vars if ds[v].dims == ("y", "x", "bias")]
    for prefix in _LOCKIN_NAMES:
        for v in spectral:
            if v.lower().startswith(prefix):
                return str(v)
    raise DataValidationError(
        f"{ds.attrs.get('source_path', 'grid')}: no lock-in channel among {spectral}; pass channel=..."
    )


def channel_unit(ds: Any, var: str) -> str:
    """Unit token of a grid variable (``"A"`` for ``li_demod_1_x_A``); ``""`` when unknown.

    Parameters
    ----------
    ds
        Grid dataset.
    var
        Variable name.

    Returns
    -------
    str
        Canonical unit token from :mod:`fitkit.units`, or the raw ``units`` attribute.
    """
    from fitkit import units as _u

    unit = str(ds[var].attrs.get("units", "") or "")
    try:
        return _u.canonical_unit(unit) if unit else ""
    except _u.UnitError:
        return unit


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


def _fit_block_star(args: tuple[Any, ...]) -> BlockFit:
    bias, spectra, iy, ix, kw = args
    return fit_block(bias, spectra, iy=iy, ix=ix, **kw)


def blocks_of(n_pixels: int, block: int) -> list[tuple[int, int]]:
    """Flat pixel ranges ``[(start, stop), ...]`` of ``block`` pixels (the last may be shorter)."""
    return [(s, min(s + block, n_pixels)) for s in range(0, n_pixels, block)]


def fit_grid(
    dataset_or_path: Any,
    model: str | FitkitModel = "nis",
    channel: str | None = None,
    params: Mapping[str, Any] | None = None,
    preprocess: Sequence[Mapping[str, Any]] | None = None,
    warm_start: bool = True,
    block: int = DEFAULT_BLOCK,
    *,
    x_range: tuple[float | None, float | None] | None = None,
    method: str = "leastsq",
    use_metadata: bool = True,
    fast: bool = True,
    min_significance: float = 3.0,
    workers: int = 1,
) -> Any:
    """Fit every pixel of a grid and return parameter maps.

    Parameters
    ----------
    dataset_or_path
        A ``.3ds`` path or a dataset from :func:`fitkit.io.nanonis_3ds.open_grid` (dims y, x, bias;
        coordinate ``bias_V``).
    model
        Registry key (default ``"nis"``) or a single model instance.
    channel
        Conductance variable or Nanonis channel name; default :func:`default_channel`.
    params
        Parameter overrides in declared units (see :func:`fit_block`).
    preprocess
        Steps for :func:`fitkit.preprocess.apply_steps`, applied per pixel to a sweep with
        ``bias_V`` and ``dIdV_arb`` (slow: pandas per pixel); the fit then uses ``dIdV_norm``
        if a step made it, else ``dIdV_arb``.  None (default) fits the raw channel.
    warm_start
        Start from fitted neighbours (see the module notes).
    block
        Pixels per block (the warm-start chain restarts at each block).
    x_range
        Bias window ``(lo, hi)`` in V.
    method
        lmfit minimiser.
    use_metadata
        Fix ``temperature`` and ``v_mod`` at the file's metadata (``temperature_K``,
        ``lockin_amplitude_rms_V``) unless ``params`` sets them.
    fast
        Allow :class:`NISGridEvaluator` (see :func:`fit_block`).
    min_significance
        Pixels whose ``delta`` is below this many standard errors count as failed (0: off).
    workers
        Processes for the blocks (1: in this process).  The result does not depend on it.

    Returns
    -------
    xarray.Dataset
        Dims (y, x).  Variables ``<param>_<unit>`` and ``<param>_<unit>_stderr`` (e.g.
        ``delta_meV``, ``g_n_A``), ``redchi``, ``chisqr``, ``nfev``, ``start`` (int8,
        :data:`START_CODES`) and ``success`` (bool); coordinates ``ix``, ``iy`` (and ``x_m``,
        ``y_m`` when present).  Attrs: model, channel, source path, block size, the fixed
        parameters, ``params_json`` (overrides used).

    Raises
    ------
    LoaderError, MissingColumnError, DataValidationError, ConfigError
        Unreadable file, unknown channel, bad shapes or parameter overrides.
    """
    import json

    import xarray as xr

    from fitkit.io.nanonis_3ds import open_grid

    ds = open_grid(dataset_or_path) if isinstance(dataset_or_path, (str, os.PathLike)) else dataset_or_path
    m = _make_model(model)
    var = resolve_channel(ds, channel)
    ny, nx = ds.sizes["y"], ds.sizes["x"]
    bias = np.asarray(ds["bias_V"].values, dtype=float)
    y_unit = channel_unit(ds, var)
    overrides = dict(params or {})
    meta_fixed = metadata_overrides(ds, m, overrides) if use_metadata else {}
    overrides = {**meta_fixed, **overrides}
    data = np.asarray(ds[var].data.reshape(ny * nx, bias.size), dtype=float)
    if preprocess:
        data, bias, y_unit = preprocess_spectra(data, bias, preprocess, str(ds.attrs.get("source_path", "")))
    flat = np.arange(ny * nx)
    iy_all, ix_all = np.divmod(flat, nx)
    kw = {"model": m, "params": overrides, "warm_start": warm_start, "x_range": x_range,
          "method": method, "fast": fast, "y_unit": y_unit, "min_significance": min_significance}
    jobs = [(bias, data[s:e], iy_all[s:e], ix_all[s:e], kw) for s, e in blocks_of(ny * nx, block)]
    if workers > 1 and len(jobs) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods()
                                          else "spawn")
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=ctx) as pool:
            parts = list(pool.map(_fit_block_star, jobs))
    else:
        parts = [_fit_block_star(j) for j in jobs]
    out = assemble_maps(parts, [(j[2], j[3]) for j in jobs], ny, nx)
    coords = {"iy": ("y", np.arange(ny)), "ix": ("x", np.arange(nx))}
    for c in ("x_m", "y_m"):
        if c in ds.coords:
            coords[c] = (("y", "x"), np.asarray(ds[c].values, dtype=float), {"units": "m"})
    out = out.assign_coords(coords)
    out.attrs.update({
        "model": getattr(m, "key", m.name),
        "channel": var,
        "source_path": str(ds.attrs.get("source_path", "")),
        "block": int(block),
        "warm_start": int(bool(warm_start)),
        "params_json": json.dumps(overrides, default=float),
        "fixed_from_metadata_json": json.dumps(meta_fixed, default=float),
        "pixels_complete": int(ds.attrs.get("pixels_complete", ny * nx)),
    })
    return xr.Dataset(out.data_vars, coords=out.coords, attrs=out.attrs)


def resolve_channel(ds: Any, channel: str | None) -> str:
    """Variable name of a conductance channel given by variable or Nanonis name (None: default).

    Parameters
    ----------
    ds
        Grid dataset.
    channel
        ``"li_demod_1_x_A"``, ``"LI Demod 1 X (A)"`` or None (:func:`default_channel`).

    Returns
    -------
    str
        The variable name.

    Raises
    ------
    DataValidationError
        If no such channel exists.
    """
    if channel is None:
        return default_channel(ds)
    if channel in ds.data_vars:
        return channel
    for v in ds.data_vars:
        if ds[v].attrs.get("nanonis_name") == channel:
            return str(v)
    raise DataValidationError(
        f"{ds.attrs.get('source_path', 'grid')}: channel {channel!r} not found; available: "
        f"{[v for v in ds.data_vars if ds[v].dims == ('y', 'x', 'bias')]}"
    )


def preprocess_spectra(
    data: NDArray[np.float64], bias: NDArray[np.float64], steps: Sequence[Mapping[str, Any]], source: str
) -> tuple[NDArray[np.float64], NDArray[np.float64], str]:
    """Apply :func:`fitkit.preprocess.apply_steps` to each spectrum (rows of ``data``; all-NaN rows kept NaN).

    Parameters
    ----------
    data
        Spectra ``(n, points)`` (raw lock-in signal, any unit).
    bias
        Bias axis, V.
    steps
        Preprocessing steps (``[{"step": "normalize"}]``).
    source
        File name for messages.

    Returns
    -------
    spectra : numpy.ndarray
        ``dIdV_norm`` when a step made it, else the processed ``dIdV_arb``.
    bias : numpy.ndarray
        The (possibly cropped) bias axis, V.
    unit : str
        ``"norm"`` or ``""``.

    Raises
    ------
    DataValidationError
        If a step fails or changes the bias axis differently per pixel.
    """
    import pandas as pd

    from fitkit.io.sweep import Sweep, SweepMeta
    from fitkit.preprocess import apply_steps

    rows: list[NDArray[np.float64] | None] = []
    new_bias: NDArray[np.float64] | None = None
    col = "dIdV_arb"
    for k in range(data.shape[0]):
        if not np.isfinite(data[k]).any():
            rows.append(None)
            continue
        sw = Sweep(pd.DataFrame({"bias_V": bias, "dIdV_arb": data[k]}),
                   SweepMeta(source_path=source, loader="gridmap", sample_id=f"pixel{k}"))
        sw = apply_steps(sw, list(steps))
        col = "dIdV_norm" if "dIdV_norm" in sw.data.columns else "dIdV_arb"
        b = sw.data["bias_V"].to_numpy(dtype=float)
        if new_bias is None:
            new_bias = b
        elif b.shape != new_bias.shape or not np.allclose(b, new_bias):
            raise DataValidationError(f"{source}: preprocessing changed the bias axis differently per pixel")
        rows.append(sw.data[col].to_numpy(dtype=float))
    nb = new_bias if new_bias is not None else bias
    out = np.full((data.shape[0], nb.size), np.nan)
    for k, r in enumerate(rows):
        if r is not None:
            out[k] = r
    return out, nb, ("norm" if col == "dIdV_norm" else "")


def map_name(name: str, unit: str) -> str:
    """Variable name of a parameter map: ``delta`` + ``meV`` -> ``delta_meV`` (no suffix without unit)."""
    return f"{name}_{unit}" if unit and unit != "1" else name


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
        Grid size; pixels in no block are NaN / unsuccessful (``start`` 0).

    Returns
    -------
    xarray.Dataset
        The map variables of :func:`fit_grid` (no coordinates).

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
    for part, (iy, ix) in zip(parts, indices, strict=True):
        iy, ix = np.asarray(iy, dtype=np.int64), np.asarray(ix, dtype=np.int64)
        vals[iy, ix], errs[iy, ix] = part.values, part.stderr
        red[iy, ix], chi[iy, ix] = part.redchi, part.chisqr
        nfev[iy, ix], start[iy, ix], ok[iy, ix] = part.nfev, part.start, part.success
        sig[iy, ix] = part.success if part.significant is None else part.significant
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
    dv["significant"] = (("y", "x"), sig, {"units": "", "description": "successful and gap resolved"})
    return xr.Dataset(dv)


def map_summary(ds: Any, parameter: str = "delta") -> dict[str, float]:
    """Mean, spread and success fraction of a parameter map (successful pixels only).

    Parameters
    ----------
    ds
        Maps from :func:`fit_grid`.
    parameter
        Parameter name (``"delta"``).

    Returns
    -------
    dict
        ``<var>_mean``, ``<var>_mean_stderr``, ``<var>_sd``, ``<var>_median`` (``<var>`` =
        e.g. ``delta_meV``, so the unit is the last token; over pixels with a resolved gap),
        ``success_fraction`` (of measured pixels), ``n_success``, ``n_significant``,
        ``n_measured``.

    Raises
    ------
    KeyError
        If the parameter has no map.
    """
    var = next((v for v in ds.data_vars if ds[v].attrs.get("parameter") == parameter
                and not v.endswith("_stderr")), None)
    if var is None:
        raise KeyError(f"no map of parameter {parameter!r}; maps: {list(ds.data_vars)}")
    ok = np.asarray(ds["success"].values, dtype=bool)
    sig = np.asarray(ds["significant"].values, dtype=bool) if "significant" in ds else ok
    measured = np.asarray(ds["start"].values) > 0
    v = np.asarray(ds[var].values, dtype=float)[ok & sig]
    v = v[np.isfinite(v)]
    base, unit = (var.rsplit("_", 1) if "_" in var else (var, ""))
    n_meas = int(measured.sum())
    out = {
        f"{base}_mean_{unit}": float(v.mean()) if v.size else math.nan,
        f"{base}_mean_{unit}_stderr": float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else math.nan,
        f"{base}_sd_{unit}": float(v.std(ddof=1)) if v.size > 1 else math.nan,
        f"{base}_median_{unit}": float(np.median(v)) if v.size else math.nan,
        "success_fraction": float(ok.sum() / n_meas) if n_meas else math.nan,
        "n_success": float(ok.sum()),
        "n_significant": float((ok & sig).sum()),
        "n_measured": float(n_meas),
    }
    return out


# --------------------------------------------------------------------------- output


def _atomic_target(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    return Path(tmp)


def _write_h5(ds: Any, path: Path) -> None:
    import json

    import h5py

    tmp = _atomic_target(path)
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = "fitkit-maps"
            f.attrs["format_version"] = 1
            for k, v in ds.attrs.items():
                f.attrs[k] = v if isinstance(v, (int, float, str)) else json.dumps(v, default=str)
            for group, items in (("maps", ds.data_vars), ("coords", ds.coords)):
                g = f.create_group(group)
                for name in items:
                    arr = ds[name].values
                    d = g.create_dataset(name, data=arr.astype(np.int8) if arr.dtype == bool else arr)
                    d.attrs["dims"] = ",".join(ds[name].dims)
                    d.attrs["dtype"] = str(arr.dtype)
                    for ak, av in ds[name].attrs.items():
                        d.attrs[ak] = av
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_maps(path: str | os.PathLike[str]) -> Any:
    """Read maps written by :func:`save_maps` (``maps.h5``) back into an :class:`xarray.Dataset`.

    Parameters
    ----------
    path
        The ``maps.h5`` file.

    Returns
    -------
    xarray.Dataset
        As returned by :func:`fit_grid`.

    Raises
    ------
    OSError
        If the file cannot be read.
    """
    import h5py
    import xarray as xr

    def load(d: Any) -> tuple[tuple[str, ...], Any, dict[str, Any]]:
        arr = d[()]
        if d.attrs.get("dtype") == "bool":
            arr = arr.astype(bool)
        attrs = {k: (v.item() if hasattr(v, "item") else v) for k, v in d.attrs.items()
                 if k not in ("dims", "dtype")}
        return tuple(str(d.attrs["dims"]).split(",")), arr, attrs

    with h5py.File(path, "r") as f:
        data = {k: load(v) for k, v in f["maps"].items()}
        coords = {k: load(v) for k, v in f["coords"].items()}
        attrs = {k: (v.item() if hasattr(v, "item") else v) for k, v in f.attrs.items()}
    return xr.Dataset(data, coords=coords, attrs=attrs)


def save_maps(ds: Any, outdir: str | os.PathLike[str], *, parameter: str = "delta") -> dict[str, Path]:
    """Write ``gap_map.png``, ``histogram.png`` and ``maps.h5`` (all atomically) into ``outdir``.

    Parameters
    ----------
    ds
        Maps from :func:`fit_grid`.
    outdir
        Folder (created).
    parameter
        Parameter drawn in the map and the histogram (default ``"delta"``); failed pixels are
        blank in the map and left out of the histogram.

    Returns
    -------
    dict
        ``{"gap_map": path, "histogram": path, "maps": path}``.

    Raises
    ------
    KeyError
        If the parameter has no map.
    OSError
        If a file cannot be written.
    """
    from matplotlib.figure import Figure

    from fitkit.report.plots import plot_histogram, plot_map

    out = Path(outdir)
    var = next((v for v in ds.data_vars if ds[v].attrs.get("parameter") == parameter
                and not v.endswith("_stderr")), None)
    if var is None:
        raise KeyError(f"no map of parameter {parameter!r}; maps: {list(ds.data_vars)}")
    unit = str(ds[var].attrs.get("units", ""))
    ok = np.asarray(ds["success"].values, dtype=bool)
    if "significant" in ds:
        ok &= np.asarray(ds["significant"].values, dtype=bool)
    shown = np.where(ok, np.asarray(ds[var].values, dtype=float), np.nan)
    paths = {"gap_map": out / "gap_map.png", "histogram": out / "histogram.png", "maps": out / "maps.h5"}
    name = Path(str(ds.attrs.get("source_path", ""))).name
    for key, draw in (("gap_map", lambda ax: plot_map(shown, ax=ax, title=parameter, unit=unit)),
                      ("histogram", lambda ax: plot_histogram(shown, ax=ax, unit=unit, quantity=parameter,
                                                              title=f"{parameter}: {int(ok.sum())} pixels"))):
        fig = Figure(figsize=(5.6, 4.8))
        ax = fig.add_subplot()
        draw(ax)
        if name and key == "gap_map":
            ax.set_xlabel(f"ix  ({name})")
            ax.set_ylabel("iy")
        tmp = _atomic_target(paths[key])
        try:
            fig.savefig(tmp, format="png", dpi=110)
            os.replace(tmp, paths[key])
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    _write_h5(ds, paths["maps"])
    return paths
