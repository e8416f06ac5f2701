"""Explicit preprocessing steps for bias sweeps (dI/dV spectra).

Every step is a pure function ``Sweep -> Sweep``: it never modifies its input, and it records
itself in ``meta.extra["steps"]`` through :meth:`fitkit.io.Sweep.with_data` as a dict holding the
step name, its parameters and its results (estimated offset, normalisation factor ...), so a fit
result can always be traced back to the exact processing.

Steps
-----
``average_sweeps``       several sweeps/directions (long format) -> one curve on a common grid
``correct_bias_offset``  shift the bias so the spectrum is symmetric about 0 (or by a given value)
``normalize``            divide by the high-bias level or a polynomial background -> ``dIdV_norm``
``differentiate``        Savitzky-Golay dI/dV of ``current_A`` -> ``dIdV_S``
``calibrate_lockin``     scale ``dIdV_arb`` to siemens against the measured current -> ``dIdV_S``
``crop``                 keep ``v_min <= bias <= v_max``

:func:`apply_steps` runs a list of ``{"step": name, **options}`` dicts (the YAML pipeline form)
and raises :class:`~fitkit.errors.ConfigError` naming the step index for bad entries.

Conventions
-----------
* Frames may be long format (columns ``sweep_index`` and ``direction``, one curve per pair, as
  the Nanonis loader writes them); per-curve steps (``normalize``, ``differentiate``) work curve
  by curve and keep the curve order, whole-sweep estimates (``correct_bias_offset``,
  ``calibrate_lockin``) use all curves together.
* Outputs of ``average_sweeps`` and ``differentiate`` are sorted by increasing bias.
* The bias offset ``offset_V`` is the bias at which the measured spectrum is centred; the
  corrected bias is ``bias_V - offset_V``.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.interpolate import CubicSpline
from scipy.optimize import minimize_scalar
from scipy.signal import fftconvolve, savgol_filter

from fitkit.errors import ConfigError, DataValidationError, FitkitError, MissingColumnError
from fitkit.io.sweep import Sweep

__all__ = [
    "STEPS",
    "apply_steps",
    "average_sweeps",
    "calibrate_lockin",
    "correct_bias_offset",
    "crop",
    "differentiate",
    "normalize",
]

_CURVE_KEYS = ("sweep_index", "direction")
_CONDUCTANCE = ("dIdV_norm", "dIdV_S", "dIdV_arb")


# ----------------------------------------------------------------------------- helpers
def _where(sweep: Sweep) -> str:
    return sweep.meta.source_path or "sweep"


def _require(sweep: Sweep, column: str, step: str) -> None:
    if column not in sweep.data.columns:
        raise MissingColumnError(
            f"{_where(sweep)}: {step} needs column '{column}'; available: {list(sweep.data.columns)}"
        )


def _pick_column(sweep: Sweep, column: str | None, candidates: Sequence[str], step: str) -> str:
    if column is not None:
        _require(sweep, column, step)
        return column
    for c in candidates:
        if c in sweep.data.columns:
            return c
    raise MissingColumnError(
        f"{_where(sweep)}: {step} needs one of the columns {list(candidates)}; "
        f"available: {list(sweep.data.columns)}"
    )


def _curves(frame: pd.DataFrame) -> list[tuple[tuple[Any, ...], pd.DataFrame]]:
    """Split a long-format frame into curves, in order of first appearance."""
    keys = [k for k in _CURVE_KEYS if k in frame.columns]
    if not keys:
        return [((), frame)]
    return [((k,) if not isinstance(k, tuple) else k, g) for k, g in frame.groupby(keys, sort=False)]


def _map_curves(frame: pd.DataFrame, fn: Callable[[pd.DataFrame], pd.DataFrame]) -> pd.DataFrame:
    parts = [fn(g) for _, g in _curves(frame)]
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)


def _sorted_xy(g: pd.DataFrame, ycol: str) -> tuple[np.ndarray, np.ndarray]:
    x = g["bias_V"].to_numpy(dtype=float)
    y = g[ycol].to_numpy(dtype=float)
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    ok = np.isfinite(x) & np.isfinite(y)
    return x[ok], y[ok]


def _numeric_columns(frame: pd.DataFrame) -> list[str]:
    return [
        c for c in frame.columns
        if c not in ("bias_V", *_CURVE_KEYS) and pd.api.types.is_numeric_dtype(frame[c])
    ]


def _mean_curve(frame: pd.DataFrame, columns: Sequence[str], where: str) -> tuple[pd.DataFrame, str]:
    """Average all curves of ``frame`` onto a common increasing bias grid."""
    curves = [g for _, g in _curves(frame)]
    xs = [np.sort(g["bias_V"].to_numpy(dtype=float)) for g in curves]
    if any(x.size < 2 for x in xs):
        raise DataValidationError(f"{where}: a curve has fewer than 2 points; cannot average")
    same = all(x.shape == xs[0].shape and np.allclose(x, xs[0], rtol=0, atol=1e-12 * np.ptp(xs[0]))
               for x in xs)
    if same:
        grid, how = xs[0], "shared"
    else:
        lo, hi = max(x[0] for x in xs), min(x[-1] for x in xs)
        if not lo < hi:
            raise DataValidationError(f"{where}: the curves do not share a bias range; cannot average")
        grid = xs[0][(xs[0] >= lo) & (xs[0] <= hi)]
        how = "interpolated onto the first curve's grid"
    out = {"bias_V": grid}
    sem: dict[str, float] = {}
    for c in columns:
        stack = []
        for g in curves:
            x, y = _sorted_xy(g, c)
            stack.append(np.interp(grid, x, y) if x.size else np.full(grid.shape, np.nan))
        out[c] = np.mean(stack, axis=0)
        if len(stack) >= 2:
            # standard error of the mean per point from the sweep-to-sweep spread (median over the grid)
            spread = np.std(stack, axis=0, ddof=1) / np.sqrt(len(stack))
            good = spread[np.isfinite(spread)]
            if good.size:
                sem[c] = float(np.median(good))
    frame = pd.DataFrame(out)
    frame.attrs["sem"] = sem
    return frame, how


def _json(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, tuple | list):
        return [_json(x) for x in v]
    if isinstance(v, Mapping):
        return {k: _json(x) for k, x in v.items()}
    return v


# ----------------------------------------------------------------------------- steps
def average_sweeps(
    sweep: Sweep,
    sweeps: Literal["all", "avg"] | Sequence[int] = "all",
    directions: Literal["both", "fwd", "bwd"] = "both",
) -> Sweep:
    """Average several sweeps and/or directions into one curve on a common bias grid.

    Parameters
    ----------
    sweep
        Long-format sweep (``sweep_index``/``direction`` columns); a frame without them is one
        curve and is only sorted.
    sweeps
        ``"all"``: every individual sweep (index >= 1; the stored average -1 only when nothing
        else is present); ``"avg"``: the stored average (-1); or a list of indices.
    directions
        ``"both"``, ``"fwd"`` or ``"bwd"``.

    Returns
    -------
    Sweep
        One curve sorted by increasing ``bias_V`` [V]; every other numeric column is the mean
        over the selected curves (linear interpolation onto the first curve's grid when the
        grids differ).  ``sweep_index``/``direction`` are dropped.  The step records the curves
        used (``curves``), their number and how the grid was built.

    Raises
    ------
    ConfigError
        Invalid ``sweeps`` or ``directions``.
    DataValidationError
        Nothing selected, or curves without a common bias range.
    """
    _require(sweep, "bias_V", "average_sweeps")
    where = _where(sweep)
    frame = sweep.data
    if directions not in ("both", "fwd", "bwd"):
        raise ConfigError(f"average_sweeps: directions={directions!r}; expected 'both', 'fwd' or 'bwd'")
    mask = np.ones(len(frame), dtype=bool)
    if "sweep_index" in frame.columns:
        idx = frame["sweep_index"].to_numpy()
        present = sorted(set(idx.tolist()))
        if isinstance(sweeps, str):
            if sweeps == "all":
                chosen = [s for s in present if s >= 1] or present
            elif sweeps == "avg":
                chosen = [-1]
            else:
                raise ConfigError(
                    f"average_sweeps: sweeps={sweeps!r}; expected 'all', 'avg' or a list of ints"
                )
        else:
            chosen = [int(s) for s in sweeps]
        mask &= np.isin(idx, chosen)
    if directions != "both" and "direction" in frame.columns:
        mask &= frame["direction"].to_numpy() == directions
    sel = frame[mask]
    if sel.empty:
        raise DataValidationError(
            f"{where}: average_sweeps selected no rows (sweeps={sweeps!r}, directions={directions!r})"
        )
    curves = [list(_json(k)) for k, _ in _curves(sel)]
    out, how = _mean_curve(sel, _numeric_columns(sel), where)
    sem = dict(out.attrs.pop("sem", {}))
    step = {"step": "average_sweeps", "sweeps": _json(sweeps), "directions": directions,
            "n_curves": len(curves), "curves": curves, "grid": how, "n_points": len(out)}
    if sem:
        step["sem"] = sem  # median sweep-to-sweep standard error of the mean per column (noise estimate)
    return sweep.with_data(out, step=_json(step))


def _symmetry_cost(spline: CubicSpline, s: float, u: np.ndarray) -> float:
    d = spline(s + u) - spline(s - u)
    return float(np.mean(d * d))


def correct_bias_offset(
    sweep: Sweep,
    method: Literal["symmetry", "value"] = "symmetry",
    value: float | None = None,
    window: float | Sequence[float] | None = None,
    column: str | None = None,
    max_shift: float | None = None,
) -> Sweep:
    r"""Remove a bias offset: ``bias_V -> bias_V - offset_V``.

    Parameters
    ----------
    sweep
        Sweep with ``bias_V`` and a conductance column.
    method
        ``"value"``: subtract ``value``; ``"symmetry"``: estimate the offset :math:`V_0` that
        makes :math:`G(V_0 + u) = G(V_0 - u)` (spectra of superconductors are symmetric about
        zero bias).
    value
        Offset in V (method ``"value"`` only).
    window
        Range of :math:`|u|` [V] compared: a half-width ``W`` (``0 <= |u| <= W``) or a pair
        ``(u_lo, u_hi)``.  Default: the widest symmetric range left inside the data once
        ``max_shift`` is allowed for.
    column
        Conductance column used; default the first of ``dIdV_norm``, ``dIdV_S``, ``dIdV_arb``.
    max_shift
        Largest offset searched [V]; default a quarter of the smaller bias half-range.

    Returns
    -------
    Sweep
        Same rows with ``bias_V`` shifted.  The step records ``offset_V`` (and, for the symmetry
        method, ``coarse_offset_V``, ``window_V``, ``max_shift_V``, ``asymmetry_rms``).

    Raises
    ------
    ConfigError
        Unknown method, missing or extra ``value``, bad ``window``.
    DataValidationError
        The bias range does not include both signs, or too few points.

    Notes
    -----
    All curves are first averaged onto a common grid (the offset is one number for the whole
    sweep).  A coarse estimate comes from the peak of the cross-correlation of :math:`G(V)`
    with :math:`G(-V)` on a uniform grid four times finer than the data (computed by FFT,
    refined by a parabola through the peak); the result minimises
    :math:`\langle [G(V_0+u) - G(V_0-u)]^2 \rangle_u` with a cubic-spline interpolant
    (bounded Brent search), which is accurate to a small fraction of the sample spacing.
    """
    _require(sweep, "bias_V", "correct_bias_offset")
    where = _where(sweep)
    if method == "value":
        if value is None:
            raise ConfigError("correct_bias_offset: method='value' needs value= (the offset in V)")
        offset = float(value)
        step: dict[str, Any] = {"step": "correct_bias_offset", "method": "value", "offset_V": offset}
    elif method == "symmetry":
        if value is not None:
            raise ConfigError("correct_bias_offset: value= is only used with method='value'")
        col = _pick_column(sweep, column, _CONDUCTANCE, "correct_bias_offset")
        mean, _ = _mean_curve(sweep.data, [col], where)
        x, y = _sorted_xy(mean, col)
        if x.size < 8 or not (x[0] < 0 < x[-1]):
            raise DataValidationError(
                f"{where}: correct_bias_offset needs at least 8 points on both sides of zero bias; "
                f"bias range is [{x[0] if x.size else np.nan:g}, {x[-1] if x.size else np.nan:g}] V"
            )
        half = min(-x[0], x[-1])
        shift = 0.25 * half if max_shift is None else float(max_shift)
        if not 0 < shift < half:
            raise ConfigError(
                f"correct_bias_offset: max_shift={max_shift!r}; expected 0 < max_shift < {half:g} V"
            )
        if window is None:
            u_lo, u_hi = 0.0, half - shift
        elif np.ndim(window) == 0:
            u_lo, u_hi = 0.0, float(window)  # type: ignore[arg-type]
        else:
            u_lo, u_hi = (float(w) for w in window)  # type: ignore[union-attr]
        if not (0 <= u_lo < u_hi <= half - shift + 1e-15):
            raise ConfigError(
                f"correct_bias_offset: window={window!r}; expected 0 <= u_lo < u_hi <= {half - shift:g} V "
                "(the symmetric range left inside the data after max_shift)"
            )
        spline = CubicSpline(x, y)
        dx = float(np.median(np.diff(x)))
        h = dx / 4.0
        # coarse: cross-correlation of G(V) with G(-V) on a fine uniform grid symmetric about 0
        n_half = int(np.floor(half / h))
        grid = np.arange(-n_half, n_half + 1) * h
        f = spline(grid)
        f = f - f.mean()
        corr = fftconvolve(f, f, mode="full")
        overlap = np.minimum(np.arange(corr.size) + 1, corr.size - np.arange(corr.size))
        corr = corr / overlap
        centre = grid[0] + np.arange(corr.size) * h / 2.0  # symmetry point of each lag
        allowed = np.abs(centre) <= shift
        k = int(np.flatnonzero(allowed)[np.argmax(corr[allowed])])
        coarse = centre[k]
        if 0 < k < corr.size - 1:
            a, b, c = corr[k - 1], corr[k], corr[k + 1]
            denom = a - 2 * b + c
            if denom < 0:
                coarse += 0.5 * (a - c) / denom * h / 2.0
        u = np.linspace(u_lo, u_hi, max(64, int(np.ceil((u_hi - u_lo) / h)) + 1))
        lo_b, hi_b = max(-shift, coarse - 3 * dx), min(shift, coarse + 3 * dx)
        res = minimize_scalar(lambda s: _symmetry_cost(spline, s, u), bounds=(lo_b, hi_b),
                              method="bounded", options={"xatol": 1e-4 * dx})
        offset = float(res.x)
        scale = float(np.sqrt(np.mean(spline(u) ** 2))) or 1.0
        step = {"step": "correct_bias_offset", "method": "symmetry", "column": col, "offset_V": offset,
                "coarse_offset_V": float(coarse), "window_V": [u_lo, u_hi], "max_shift_V": shift,
                "asymmetry_rms": float(np.sqrt(res.fun)) / scale}
    else:
        raise ConfigError(f"correct_bias_offset: method={method!r}; expected 'symmetry' or 'value'")
    out = sweep.data.copy()
    out["bias_V"] = out["bias_V"].to_numpy(dtype=float) - offset
    return sweep.with_data(out, step=_json(step))


def normalize(
    sweep: Sweep,
    method: Literal["window", "polynomial"] = "window",
    window: Sequence[float] | None = None,
    degree: int = 1,
    column: str | None = None,
) -> Sweep:
    r"""Normalise the conductance to the normal state: adds ``dIdV_norm``.

    Parameters
    ----------
    sweep
        Sweep with ``bias_V`` and ``dIdV_S`` or ``dIdV_arb``.
    method
        ``"window"``: divide by the mean conductance over :math:`v_{lo} \le |V| \le v_{hi}`;
        ``"polynomial"``: fit a polynomial of ``degree`` in V to the same region (outside the
        gap, :math:`|V| \ge v_{lo}`) and divide by it point by point.
    window
        ``(v_lo, v_hi)`` in V; default the outer fifth of the bias range,
        ``(0.8 max|V|, max|V|)``.
    degree
        Polynomial degree (method ``"polynomial"``), 0 to 5.
    column
        Source column; default ``dIdV_S`` if present, else ``dIdV_arb``.

    Returns
    -------
    Sweep
        The sweep with ``dIdV_norm`` (dimensionless).  Each curve is normalised separately; the
        step records ``factor`` (the mean level, or the background at zero bias, in the source
        column's unit; a list with one value per curve for long-format frames) and, for the
        polynomial, ``coefficients`` (ascending powers of V in volts).

    Raises
    ------
    ConfigError
        Unknown method, bad window or degree.
    DataValidationError
        Too few points in the window, or a non-positive normalisation level.
    """
    _require(sweep, "bias_V", "normalize")
    where = _where(sweep)
    col = _pick_column(sweep, column, ("dIdV_S", "dIdV_arb"), "normalize")
    if method not in ("window", "polynomial"):
        raise ConfigError(f"normalize: method={method!r}; expected 'window' or 'polynomial'")
    if not (isinstance(degree, int | np.integer) and 0 <= degree <= 5):
        raise ConfigError(f"normalize: degree={degree!r}; expected an integer 0..5")
    vmax = float(np.nanmax(np.abs(sweep.data["bias_V"].to_numpy(dtype=float))))
    if window is None:
        v_lo, v_hi = 0.8 * vmax, vmax
    else:
        try:
            v_lo, v_hi = (float(w) for w in window)
        except (TypeError, ValueError) as err:
            raise ConfigError(f"normalize: window={window!r}; expected (v_lo, v_hi) in V") from err
        if not 0 <= v_lo < v_hi:
            raise ConfigError(f"normalize: window={window!r}; expected 0 <= v_lo < v_hi (in V)")
    factors: list[float] = []
    coefs: list[list[float]] = []

    def one(g: pd.DataFrame) -> pd.DataFrame:
        v = g["bias_V"].to_numpy(dtype=float)
        y = g[col].to_numpy(dtype=float)
        sel = (np.abs(v) >= v_lo) & (np.abs(v) <= v_hi) & np.isfinite(y)
        need = 1 if method == "window" else degree + 2
        if sel.sum() < need:
            raise DataValidationError(
                f"{where}: normalize window ({v_lo:g}, {v_hi:g}) V holds {int(sel.sum())} points; "
                f"at least {need} are needed (bias range is ±{vmax:g} V)"
            )
        if method == "window":
            base = np.full_like(y, float(np.mean(y[sel])))
            factors.append(float(base[0]))
        else:
            poly = np.polynomial.Polynomial.fit(v[sel], y[sel], degree).convert()
            base = poly(v)
            factors.append(float(poly(0.0)))
            coefs.append([float(c) for c in poly.coef])
        if not np.all(base[np.isfinite(base)] > 0):
            raise DataValidationError(
                f"{where}: normalize: the {method} normal-state level of '{col}' is not positive; "
                "expected a positive conductance outside the gap"
            )
        out = g.copy()
        out["dIdV_norm"] = y / base
        return out

    frame = _map_curves(sweep.data, one)
    step: dict[str, Any] = {"step": "normalize", "method": method, "column": col, "window_V": [v_lo, v_hi],
                            "factor": factors[0] if len(factors) == 1 else factors}
    if method == "polynomial":
        step.update(degree=int(degree), coefficients=coefs[0] if len(coefs) == 1 else coefs)
    return sweep.with_data(frame, step=_json(step))


def _uniform(g: pd.DataFrame, where: str, rtol: float = 1e-3) -> tuple[pd.DataFrame, float, bool]:
    """Sort a curve by bias and resample it onto a uniform grid if needed."""
    g = g.sort_values("bias_V", kind="stable").reset_index(drop=True)
    x = g["bias_V"].to_numpy(dtype=float)
    if x.size < 3 or np.any(np.diff(x) <= 0):
        raise DataValidationError(f"{where}: bias_V must have >= 3 distinct increasing values per curve")
    dx = np.diff(x)
    h = (x[-1] - x[0]) / (x.size - 1)
    if np.max(np.abs(dx - h)) <= rtol * h:
        return g, h, False
    grid = np.linspace(x[0], x[-1], x.size)
    out = {"bias_V": grid}
    for c in g.columns:
        if c == "bias_V":
            continue
        if c in _CURVE_KEYS or not pd.api.types.is_numeric_dtype(g[c]):
            out[c] = np.repeat(g[c].iloc[0], grid.size)
        else:
            out[c] = np.interp(grid, x, g[c].to_numpy(dtype=float))
    return pd.DataFrame(out), h, True


def _window_points(window_V: float | None, h: float, polyorder: int, n: int, where: str) -> int:
    if window_V is None:
        w = max(polyorder + 2, int(np.ceil(0.01 * (n - 1))))
    else:
        if not window_V > 0:
            raise ConfigError(f"differentiate: window_V={window_V!r}; expected a positive width in V")
        w = int(round(window_V / h))
    w = w + 1 if w % 2 == 0 else w
    w = max(w, polyorder + 2 + (polyorder % 2 == 0))
    if w > n:
        raise DataValidationError(
            f"{where}: Savitzky-Golay window of {w} points exceeds the {n} points of a curve; "
            "use a smaller window_V"
        )
    return w


def differentiate(sweep: Sweep, window_V: float | None = None, polyorder: int = 3) -> Sweep:
    r"""Numerical dI/dV from ``current_A`` with a Savitzky-Golay derivative: adds ``dIdV_S``.

    Parameters
    ----------
    sweep
        Sweep with ``bias_V`` [V] and ``current_A`` [A].
    window_V
        Width of the Savitzky-Golay window [V] (rounded to an odd number of samples, at least
        ``polyorder + 2``); default 1 % of the bias span.
    polyorder
        Order of the local polynomial, 1 to 7.

    Returns
    -------
    Sweep
        Each curve sorted by increasing bias (resampled by linear interpolation onto a uniform
        grid with the same number of points if the spacing varies by more than 0.1 %), with
        ``dIdV_S`` [S] (replacing an existing one).  The step records ``window_points``,
        ``window_V`` and ``resampled``.

    Raises
    ------
    ConfigError
        Bad ``window_V`` or ``polyorder``.
    DataValidationError
        Too few points for the window.

    Notes
    -----
    The derivative of the local least-squares polynomial (Savitzky & Golay 1964) is exact for
    polynomials of degree ``<= polyorder`` and otherwise has an error of order
    :math:`h^{p+1} I^{(p+2)}` inside the window.

    References
    ----------
    A. Savitzky and M. J. E. Golay, "Smoothing and differentiation of data by simplified least
    squares procedures", Anal. Chem. 36, 1627-1639 (1964).
    """
    _require(sweep, "bias_V", "differentiate")
    _require(sweep, "current_A", "differentiate")
    where = _where(sweep)
    if not (isinstance(polyorder, int | np.integer) and 1 <= polyorder <= 7):
        raise ConfigError(f"differentiate: polyorder={polyorder!r}; expected an integer 1..7")
    info: dict[str, Any] = {"resampled": False}

    def one(g: pd.DataFrame) -> pd.DataFrame:
        u, h, resampled = _uniform(g, where)
        w = _window_points(window_V, h, polyorder, len(u), where)
        u["dIdV_S"] = savgol_filter(u["current_A"].to_numpy(dtype=float), w, polyorder, deriv=1, delta=h)
        info.update(window_points=w, window_V=w * h)
        info["resampled"] = info["resampled"] or resampled
        return u

    frame = _map_curves(sweep.data, one)
    step = {"step": "differentiate", "polyorder": int(polyorder),
            "replaced_existing": "dIdV_S" in sweep.data.columns, **info}
    return sweep.with_data(frame, step=_json(step))


def _derivative_correlation(curves: list[tuple[Any, pd.DataFrame]], where: str, polyorder: int) -> float:
    """Correlation of the smoothed lock-in channel with a smoothed numerical dI/dV (a sanity check)."""
    xs, ys = [], []
    for _, g in curves:
        u, h, _ = _uniform(g, where)
        w = _window_points(0.05 * h * (len(u) - 1), h, min(polyorder, 3), len(u), where)
        xs.append(savgol_filter(u["current_A"].to_numpy(dtype=float), w, min(polyorder, 3), deriv=1, delta=h))
        ys.append(savgol_filter(u["dIdV_arb"].to_numpy(dtype=float), w, min(polyorder, 3)))
    x, y = np.concatenate(xs), np.concatenate(ys)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3 or np.std(x[ok]) == 0 or np.std(y[ok]) == 0:
        return float("nan")
    return float(np.corrcoef(x[ok], y[ok])[0, 1])


def calibrate_lockin(
    sweep: Sweep,
    method: Literal["integral", "derivative"] = "integral",
    intercept: bool = False,
    window_V: float | None = None,
    polyorder: int = 3,
) -> Sweep:
    r"""Scale a lock-in channel ``dIdV_arb`` to siemens using the measured current: adds ``dIdV_S``.

    Parameters
    ----------
    sweep
        Sweep with ``bias_V`` [V], ``current_A`` [A] and ``dIdV_arb`` [instrument units].
    method
        ``"integral"``: least squares of :math:`I(V) = a \int_{V_0}^{V} G_{arb}\,dV' + b V + c_k`
        (one integration constant :math:`c_k` per curve; robust to noise);
        ``"derivative"``: least squares of :math:`dI/dV_{SG} = a\,G_{arb} + b` against a
        Savitzky-Golay derivative of the current.
    intercept
        Fit the lock-in zero offset ``b`` [S] too (otherwise ``b = 0``).
    window_V, polyorder
        Savitzky-Golay settings for method ``"derivative"`` (see :func:`differentiate`).

    Returns
    -------
    Sweep
        The sweep with ``dIdV_S = a * dIdV_arb + b`` [S].  The step records ``factor_S_per_arb``
        (``a``), ``offset_S`` (``b``), ``r2`` of the regression and ``r_derivative``, the
        correlation of the smoothed channel with a smoothed numerical dI/dV (window 5 % of the
        span), which must exceed 0.5 (with the sign of ``a``).

    Raises
    ------
    ConfigError
        Unknown method.
    DataValidationError
        Too few points, or a lock-in channel uncorrelated with the current.
    """
    for c in ("bias_V", "current_A", "dIdV_arb"):
        _require(sweep, c, "calibrate_lockin")
    where = _where(sweep)
    if method not in ("integral", "derivative"):
        raise ConfigError(f"calibrate_lockin: method={method!r}; expected 'integral' or 'derivative'")
    curves = _curves(sweep.data)
    blocks_a, blocks_rest, targets = [], [], []
    for j, (_, g) in enumerate(curves):
        if method == "integral":
            s = g.sort_values("bias_V", kind="stable")
            v = s["bias_V"].to_numpy(dtype=float)
            garb = s["dIdV_arb"].to_numpy(dtype=float)
            cum = np.concatenate([[0.0], np.cumsum(0.5 * (garb[1:] + garb[:-1]) * np.diff(v))])
            consts = np.zeros((v.size, len(curves)))
            consts[:, j] = 1.0
            rest = np.column_stack([v, consts]) if intercept else consts
            blocks_a.append(cum)
            blocks_rest.append(rest)
            targets.append(s["current_A"].to_numpy(dtype=float))
        else:
            u, h, _ = _uniform(g, where)
            w = _window_points(window_V, h, polyorder, len(u), where)
            num = savgol_filter(u["current_A"].to_numpy(dtype=float), w, polyorder, deriv=1, delta=h)
            blocks_a.append(u["dIdV_arb"].to_numpy(dtype=float))
            blocks_rest.append(np.ones((len(u), 1)) if intercept else np.zeros((len(u), 0)))
            targets.append(num)
    design = np.column_stack([np.concatenate(blocks_a), np.concatenate(blocks_rest)])
    target = np.concatenate(targets)
    ok = np.all(np.isfinite(design), axis=1) & np.isfinite(target)
    if ok.sum() <= design.shape[1]:
        raise DataValidationError(f"{where}: calibrate_lockin has {int(ok.sum())} usable points; too few")
    # scale columns to unit norm: lock-in and current values of 1e-12 would otherwise fall below
    # lstsq's relative singular-value cutoff next to the unit integration-constant columns
    norms = np.linalg.norm(design[ok], axis=0)
    norms[norms == 0] = 1.0
    sol, *_ = np.linalg.lstsq(design[ok] / norms, target[ok], rcond=None)
    sol = sol / norms
    a = float(sol[0])
    b = float(sol[1]) if intercept else 0.0
    resid = target[ok] - design[ok] @ sol
    ss = float(np.sum((target[ok] - target[ok].mean()) ** 2))
    r2 = 1.0 - float(np.sum(resid**2)) / ss if ss > 0 else float("nan")
    r_deriv = _derivative_correlation(curves, where, polyorder)
    if not np.isfinite(a) or a == 0 or not a * r_deriv > 0.5 * abs(a):
        raise DataValidationError(
            f"{where}: calibrate_lockin: dIdV_arb does not track the current (correlation with the "
            f"smoothed numerical dI/dV {r_deriv:.3g}, fit r2 {r2:.3g}); expected the lock-in X channel "
            "of the same measurement"
        )
    out = sweep.data.copy()
    out["dIdV_S"] = a * out["dIdV_arb"].to_numpy(dtype=float) + b
    step = {"step": "calibrate_lockin", "method": method, "intercept": bool(intercept),
            "factor_S_per_arb": a, "offset_S": b, "r2": r2, "r_derivative": r_deriv}
    return sweep.with_data(out, step=_json(step))


def crop(sweep: Sweep, v_min: float, v_max: float) -> Sweep:
    """Keep the rows with ``v_min <= bias_V <= v_max``.

    Parameters
    ----------
    sweep
        Sweep with ``bias_V``.
    v_min, v_max
        Bias limits [V], ``v_min < v_max``.

    Returns
    -------
    Sweep
        The selected rows (order kept); the step records the number of rows kept.

    Raises
    ------
    ConfigError
        ``v_min >= v_max``.
    DataValidationError
        No rows left.
    """
    _require(sweep, "bias_V", "crop")
    lo, hi = float(v_min), float(v_max)
    if not lo < hi:
        raise ConfigError(f"crop: v_min={v_min!r} must be smaller than v_max={v_max!r} (in V)")
    v = sweep.data["bias_V"].to_numpy(dtype=float)
    keep = (v >= lo) & (v <= hi)
    if not keep.any():
        raise DataValidationError(
            f"{_where(sweep)}: crop to [{lo:g}, {hi:g}] V leaves no rows; bias range is "
            f"[{np.nanmin(v):g}, {np.nanmax(v):g}] V"
        )
    out = sweep.data[keep].reset_index(drop=True)
    return sweep.with_data(out, step={"step": "crop", "v_min": lo, "v_max": hi, "rows_kept": int(keep.sum())})


STEPS: dict[str, Callable[..., Sweep]] = {
    "average_sweeps": average_sweeps,
    "correct_bias_offset": correct_bias_offset,
    "normalize": normalize,
    "differentiate": differentiate,
    "calibrate_lockin": calibrate_lockin,
    "crop": crop,
}
"""Step name -> function, as used by :func:`apply_steps` and YAML configs."""


def _step_options(fn: Callable[..., Sweep]) -> dict[str, inspect.Parameter]:
    params = list(inspect.signature(fn).parameters.values())[1:]
    return {p.name: p for p in params}


def apply_steps(sweep: Sweep, steps: Sequence[Mapping[str, Any]]) -> Sweep:
    """Run a list of preprocessing steps, e.g. ``[{"step": "average_sweeps"}, {"step": "crop", ...}]``.

    Parameters
    ----------
    sweep
        Input sweep.
    steps
        Each item is a mapping with the key ``"step"`` (a name from :data:`STEPS`) and that
        step's keyword options; lists are passed as tuples.

    Returns
    -------
    Sweep
        The processed sweep; ``meta.extra["steps"]`` lists what each step did.

    Raises
    ------
    ConfigError
        An item is not a mapping, names an unknown step, has an unknown option or misses a
        required one; the message names ``steps[i]`` and the valid names.  Errors raised by a
        step itself are re-raised with the same type, prefixed by ``steps[i] (name)``.
    """
    if isinstance(steps, Mapping) or not isinstance(steps, Sequence):
        raise ConfigError(
            f"steps: expected a list of {{'step': name, ...}} mappings; got {type(steps).__name__}"
        )
    calls = []
    for i, item in enumerate(steps):
        if not isinstance(item, Mapping):
            raise ConfigError(f"steps[{i}]: expected a mapping with a 'step' key; got {item!r}")
        name = item.get("step")
        if name not in STEPS:
            close = difflib.get_close_matches(str(name), list(STEPS), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            what = "missing 'step' key" if name is None else f"unknown step {name!r}"
            raise ConfigError(f"steps[{i}]: {what}; valid steps are {sorted(STEPS)}{hint}")
        options = _step_options(STEPS[name])
        given = {k: v for k, v in item.items() if k != "step"}
        unknown = sorted(set(given) - set(options))
        if unknown:
            raise ConfigError(
                f"steps[{i}] ({name}): unknown option(s) {unknown}; valid options are {sorted(options)}"
            )
        missing = [k for k, p in options.items() if p.default is inspect.Parameter.empty and k not in given]
        if missing:
            raise ConfigError(f"steps[{i}] ({name}): missing required option(s) {missing}")
        calls.append((i, name, {k: tuple(v) if isinstance(v, list) else v for k, v in given.items()}))
    for i, name, kwargs in calls:
        try:
            sweep = STEPS[name](sweep, **kwargs)
        except FitkitError as err:
            raise type(err)(f"steps[{i}] ({name}): {err}") from err
    return sweep
