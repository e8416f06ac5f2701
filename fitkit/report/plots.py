"""Figures of fits and fit series, object-oriented matplotlib only.

Every function takes an optional ``ax`` and returns the :class:`~matplotlib.axes.Axes` it drew
on, or a new :class:`~matplotlib.figure.Figure` when it created one.  Figures are built with
:class:`matplotlib.figure.Figure` directly (no ``pyplot`` state, no ``show()``), so they are
safe in worker threads and processes and never open a window.  Axis labels come from
:func:`fitkit.units.label` in display units (``bias (mV)``, ``dI/dV (µS)``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from fitkit.fitting.record import FitRecord
from fitkit.report.tables import auto_display_unit, resolve_display_unit
from fitkit.units import UNITS, UnitError, convert, label, parse_column

__all__ = [
    "DEFAULT_PLOT_UNITS",
    "QUANTITY_LABELS",
    "axis_unit",
    "model_curve",
    "plot_fit",
    "plot_histogram",
    "plot_map",
    "plot_parameter_vs",
]

DEFAULT_PLOT_UNITS: dict[str, str] = {"bias": "mV"}
"""Fixed display units of axis quantities; others are chosen by :func:`auto_display_unit`."""

QUANTITY_LABELS: dict[str, str] = {"dIdV": "dI/dV", "G": "G"}
"""Pretty names of column quantities for axis labels."""


class _PlainLogFormatter(ticker.LogFormatter):
    """Log-axis labels as plain numbers (``20``, ``0.5``) instead of ``2x10^1``.

    matplotlib still decides which ticks get a label (decades, and minor ticks when the axis spans
    less than about a decade); only the text changes.
    """

    def __call__(self, x: float, pos: int | None = None) -> str:
        return f"{x:g}" if super().__call__(x, pos) else ""


def _split(column: str) -> tuple[str, str]:
    try:
        return parse_column(column)
    except UnitError:
        return column, ""


def axis_unit(quantity: str, unit: str, values: Any, display_units: Mapping[str, str] | None = None) -> str:
    """Display unit of an axis: an explicit override, else :data:`DEFAULT_PLOT_UNITS`, else automatic.

    Parameters
    ----------
    quantity
        Column quantity (``"bias"``, ``"temperature"``, ``"resistance"``).
    unit
        Stored (SI) unit token.
    values
        Data on the axis, in ``unit`` (for the automatic choice).
    display_units
        Overrides (see :func:`fitkit.report.tables.resolve_display_unit`).

    Returns
    -------
    str
        Unit token.

    Raises
    ------
    fitkit.units.UnitError
        If an override does not fit the quantity.
    """
    chosen = resolve_display_unit(quantity, unit, display_units)
    if chosen != unit or unit not in UNITS:
        return chosen
    default = DEFAULT_PLOT_UNITS.get(quantity)
    if default is not None and UNITS[default].quantity == UNITS[unit].quantity:
        return default
    return auto_display_unit(unit, values)


def _factor(unit: str, to: str) -> float:
    return 1.0 if to == unit or unit not in UNITS else float(convert(1.0, unit, to))


def model_curve(record: FitRecord, x: np.ndarray) -> np.ndarray | None:
    """Evaluate the fitted model of ``record`` at ``x`` (SI), or return None if impossible.

    Uses the in-memory lmfit result when present; otherwise rebuilds a single registered model
    from ``record.model_key``, ``record.options`` and ``record.values``.
    """
    x = np.asarray(x, dtype=float)
    res = record.result
    if res is not None:
        xname = res.model.independent_vars[0]
        return np.asarray(res.eval(**{xname: x}), dtype=float)
    from fitkit.models import MODEL_REGISTRY

    cls = MODEL_REGISTRY.get(record.model_key)
    if cls is None or not record.values:
        return None
    model = cls(**record.options)
    pars = model.make_params()
    for name, value in record.values.items():
        if name in pars and pars[name].expr is None and math.isfinite(value):
            pars[name].set(value=value)
    with np.errstate(all="ignore"):
        return np.asarray(model.eval(pars, **{cls.x_name: x}), dtype=float)


def _fitted_range(record: FitRecord, x: np.ndarray) -> tuple[float, float]:
    res = record.result
    if res is not None:
        xname = res.model.independent_vars[0]
        xf = np.asarray(res.userkws.get(xname, x), dtype=float)
    else:
        xf = x
    xf = xf[np.isfinite(xf)]
    return float(xf.min()), float(xf.max())


def plot_fit(record: FitRecord, sweep: Any, ax: Axes | None = None, resid_ax: Axes | None = None,
             display_units: Mapping[str, str] | None = None, n_model: int = 400) -> Figure | Axes:
    """Plot the data, the fitted model and (in its own panel) the residuals of one fit.

    Parameters
    ----------
    record
        The fit (its ``x_column``/``y_column`` name the sweep columns).
    sweep
        The :class:`~fitkit.io.Sweep` that was fitted.
    ax, resid_ax
        Axes for the data and the residuals.  With neither, a new figure with two stacked
        panels (3:1) is made and returned.  With ``ax`` only, no residual panel is drawn.
    display_units
        Overrides of axis units (keys ``"bias"``, ``"temperature"``, ``"ohm"`` ...); defaults:
        bias in mV, other axes automatic (K or mK, Ω/kΩ/MΩ, S/mS/µS/nS).
    n_model
        Number of points of the model curve over the fitted x range.

    Returns
    -------
    Figure or Axes
        The new figure, or ``ax`` when axes were given.

    Notes
    -----
    The y axis is logarithmic when the y column is a resistance and all data are positive
    (R(T) curves span decades near T_c).  The data are drawn as markers (one line), the model as
    a line over the fitted x range (a second line); the residual panel holds the residuals
    (data - model) at the fitted points and a zero line - relative residuals
    100 (data/model - 1) % on a logarithmic axis, matching the relative weights of R(T) fits.
    """
    fig: Figure | None = None
    if ax is None:
        fig = Figure(figsize=(6.4, 5.6), layout="constrained")
        gs = fig.add_gridspec(2, 1, height_ratios=(3, 1))
        ax = fig.add_subplot(gs[0])
        resid_ax = fig.add_subplot(gs[1], sharex=ax)
    xq, xu = _split(record.x_column)
    yq, yu = _split(record.y_column)
    x = np.asarray(sweep.column(record.x_column), dtype=float)
    y = np.asarray(sweep.column(record.y_column), dtype=float)
    xd = axis_unit(xq, xu, x, display_units)
    yd = axis_unit(yq, yu, y, display_units)
    fx, fy = _factor(xu, xd), _factor(yu, yd)
    ax.plot(x * fx, y * fy, "o", ms=3, alpha=0.6, label="data")
    finite = np.isfinite(x) & np.isfinite(y)
    log_y = bool(yu in UNITS and UNITS[yu].quantity == "resistance" and finite.any()
                 and np.all(y[finite] > 0))
    if finite.any():
        lo, hi = _fitted_range(record, x[finite])
        grid = np.linspace(lo, hi, n_model)
        curve = model_curve(record, grid)
        if curve is not None:
            ax.plot(grid * fx, curve * fy, "-", lw=1.5, label=f"fit ({record.model_key})")
            if resid_ax is not None:
                sel = finite & (x >= lo) & (x <= hi)
                fitted = model_curve(record, x[sel])
                # on a log axis (R(T), fitted with relative weights) the relative residual is what counts
                resid = 100.0 * (y[sel] / fitted - 1.0) if log_y else (y[sel] - fitted) * fy
                resid_ax.plot(x[sel] * fx, resid, ".", ms=3)
                resid_ax.axhline(0.0, color="0.4", lw=0.8)
    yname = QUANTITY_LABELS.get(yq, yq)
    if log_y:
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(_PlainLogFormatter(labelOnlyBase=False))
        ax.yaxis.set_minor_formatter(_PlainLogFormatter(labelOnlyBase=False, minor_thresholds=(1, 0.4)))
    ax.set_ylabel(label(yname, yd))
    ax.legend(loc="best", fontsize="small")
    title = record.sample_id or ""
    if not record.success:
        title = f"{title} (fit FAILED)".strip()
    if title:
        ax.set_title(title, parse_math=False)  # a sample id or file name is text, never mathtext
    if resid_ax is not None:
        resid_ax.set_xlabel(label(xq, xd))
        resid_ax.set_ylabel("relative residual (%)" if log_y else label("residual", yd))
        ax.tick_params(labelbottom=False)
    else:
        ax.set_xlabel(label(xq, xd))
    return fig if fig is not None else ax


def _new_axes(ax: Axes | None, figsize: tuple[float, float] = (5.6, 4.2)) -> tuple[Figure | None, Axes]:
    if ax is not None:
        return None, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def plot_parameter_vs(frame: pd.DataFrame, x: str, y: str, ax: Axes | None = None, *,
                      label_text: str | None = None) -> Figure | Axes:
    """Plot a fitted parameter against a sample variable, with one-sigma error bars.

    Parameters
    ----------
    frame
        A :func:`~fitkit.report.tables.records_to_frame` table (possibly joined with sample
        variables such as ``field_T`` or ``temperature_K``).
    x
        Column of the sample variable (``"field_T"``).
    y
        Value column (``"delta_meV"``); error bars from ``y + "_stderr"`` when present.
    ax
        Axes to draw on; a new figure is made when None.
    label_text
        Legend label.

    Returns
    -------
    Figure or Axes
        New figure, or ``ax``.

    Raises
    ------
    KeyError
        If a column is missing (the message lists the columns).
    """
    for c in (x, y):
        if c not in frame.columns:
            raise KeyError(f"column '{c}' not in the table; available: {list(frame.columns)}")
    fig, ax = _new_axes(ax)
    err_col = y + "_stderr"
    yerr = frame[err_col].to_numpy(dtype=float) if err_col in frame.columns else None
    ax.errorbar(frame[x].to_numpy(dtype=float), frame[y].to_numpy(dtype=float), yerr=yerr,
                fmt="o", ms=4, capsize=2, label=label_text)
    for setter, col in ((ax.set_xlabel, x), (ax.set_ylabel, y)):
        q, u = _split(col)
        setter(label(QUANTITY_LABELS.get(q, q), u) if u else col)
    if label_text:
        ax.legend(fontsize="small")
    return fig if fig is not None else ax


def plot_map(values2d: Any, ax: Axes | None = None, *, title: str = "", unit: str = "",
             extent: tuple[float, float, float, float] | None = None, cmap: str = "viridis") -> Figure | Axes:
    """Show a 2-D map of a fitted quantity (e.g. a gap map from grid spectroscopy).

    Parameters
    ----------
    values2d
        2-D array (rows = y pixels); NaN pixels (failed fits) are left blank.
    ax
        Axes; a new figure is made when None.
    title
        Axes title.
    unit
        Unit token of the values, shown on the colour bar (``"meV"`` -> ``meV``).
    extent
        ``(left, right, bottom, top)`` in data coordinates; pixel indices when None.
    cmap
        Colour map name.

    Returns
    -------
    Figure or Axes
        New figure, or ``ax``.

    Raises
    ------
    ValueError
        If ``values2d`` is not two-dimensional.
    """
    arr = np.asarray(values2d, dtype=float)
    if arr.ndim != 2:
        raise ValueError(f"plot_map needs a 2-D array, got shape {arr.shape}")
    fig, ax = _new_axes(ax, (5.6, 4.8))
    im = ax.imshow(np.ma.masked_invalid(arr), origin="lower", extent=extent, cmap=cmap,
                   interpolation="nearest", aspect="auto" if extent else "equal")
    cbar = ax.figure.colorbar(im, ax=ax)
    disp = UNITS[unit].display if unit in UNITS else unit
    cbar.set_label(f"{title} ({disp})" if disp and title else (disp or title))
    if title:
        ax.set_title(title)
    return fig if fig is not None else ax


def plot_histogram(values: Any, ax: Axes | None = None, *, bins: int | str = "auto", title: str = "",
                   unit: str = "", quantity: str = "value") -> Figure | Axes:
    """Histogram of fitted values (NaN ignored), with the mean and standard deviation in the legend.

    Parameters
    ----------
    values
        Array-like of values in ``unit``.
    ax
        Axes; a new figure is made when None.
    bins
        Passed to :func:`numpy.histogram_bin_edges`.
    title
        Axes title.
    unit
        Unit token for the x label.
    quantity
        Quantity name for the x label.

    Returns
    -------
    Figure or Axes
        New figure, or ``ax``.
    """
    arr = np.asarray(values, dtype=float).ravel()
    arr = arr[np.isfinite(arr)]
    fig, ax = _new_axes(ax)
    if arr.size:
        edges = np.histogram_bin_edges(arr, bins=bins)
        sd = arr.std(ddof=1) if arr.size > 1 else 0.0
        ax.hist(arr, bins=edges.tolist(), label=f"mean {arr.mean():.4g}, sd {sd:.3g}")
        ax.legend(fontsize="small")
    ax.set_xlabel(label(quantity, unit) if unit else quantity)
    ax.set_ylabel("count")
    if title:
        ax.set_title(title)
    return fig if fig is not None else ax


def plot_points_with_curve(x: Any, y: Any, yerr: Any, *, label: str, xlabel: str, ylabel: str, title: str,
                           curve: tuple[Any, Any, str] | None = None) -> Figure:
    """Points with error bars and an optional fitted curve, both axes starting at 0 (series figures).

    Parameters
    ----------
    x, y, yerr
        Points and their standard errors (NaN: no error bar), any units (the labels name them).
    label
        Legend label of the points.
    xlabel, ylabel, title
        Axis labels and title.
    curve
        ``(x, y, label)`` of a model curve drawn over the points, or None.

    Returns
    -------
    Figure
        A new figure (5.6 x 4.0 in); add annotations to ``fig.axes[0]``.
    """
    fig = Figure(figsize=(5.6, 4.0), layout="constrained")
    ax = fig.add_subplot()
    yerr = np.asarray(yerr, dtype=float)
    ax.errorbar(x, y, yerr=np.where(np.isfinite(yerr), yerr, 0.0), fmt="o", ms=4, capsize=2, label=label)
    if curve is not None:
        ax.plot(curve[0], curve[1], "-", label=curve[2])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_xlim(left=0.0)
    ax.set_ylim(bottom=0.0)
    ax.legend(fontsize="small")
    ax.set_title(title)
    return fig
