r"""Parameter maps from grid spectroscopy: fit every pixel of a grid, and the map statistics.

A Nanonis ``.3ds`` grid (:func:`fitkit.io.nanonis_3ds.open_grid`) holds one dI/dV spectrum per
pixel.  :func:`fit_grid` fits every pixel with one model (default ``nis``) and returns maps of
the fitted parameters, their standard errors, the reduced chi-square, the record verdict and the
success and significance masks; :func:`map_summary` gives the mean, spread and median of a
parameter map.  This module only orchestrates; the work is done one layer down:

=====================================  ================================================================
:mod:`fitkit.io.grid_blocks`           channel and unit of the conductance, blocks read from the memory map
:mod:`fitkit.fitting.grid`             the per-pixel fitter (:func:`fit_block`: serpentine warm starts,
                                       registered model function, records through
                                       :func:`fitkit.fitting.fit.record_from_result`) and map assembly
:mod:`fitkit.report.maps`              figures and ``maps.h5`` (:func:`~fitkit.report.maps.save_maps`,
                                       :func:`~fitkit.report.maps.read_maps`)
=====================================  ================================================================

The names of the fitter and of the grid readers are re-exported here for existing callers.
Pixels whose spectrum is all NaN (an aborted grid) are not fitted and are marked unsuccessful;
a failing pixel never stops the map.  The result does not depend on ``workers`` (a block's warm
start chain never leaves the block).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fitkit.errors import DataValidationError, FitkitError
from fitkit.fitting.grid import (
    DEFAULT_BLOCK,
    START_CODES,
    VERDICT_CODES,
    BlockFit,
    PixelModel,
    assemble_maps,
    blocks_of,
    fit_block,
    map_name,
    map_variable,
    metadata_overrides,
    pixel_records,
)
from fitkit.io.grid_blocks import channel_unit, default_channel, read_block, resolve_channel
from fitkit.io.nanonis_3ds import open_grid
from fitkit.io.sweep import Sweep, SweepMeta
from fitkit.models import FitkitModel, get_model
from fitkit.preprocess import apply_steps

__all__ = [
    "DEFAULT_BLOCK",
    "START_CODES",
    "VERDICT_CODES",
    "BlockFit",
    "PixelModel",
    "assemble_maps",
    "blocks_of",
    "channel_unit",
    "default_channel",
    "fit_block",
    "fit_grid",
    "map_name",
    "map_summary",
    "map_variable",
    "metadata_overrides",
    "pixel_records",
    "preprocess_spectra",
    "read_block",
    "resolve_channel",
]


def _fit_block_star(args: tuple[Any, ...]) -> BlockFit:
    bias, spectra, iy, ix, kw = args
    return fit_block(bias, spectra, iy=iy, ix=ix, **kw)


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
        Ignored (kept for compatibility; see :func:`fit_block`).
    min_significance
        Pixels whose ``delta`` is below this many standard errors are marked ``significant =
        False`` and left out of the statistics (0: off).
    workers
        Processes for the blocks (1: in this process).  The result does not depend on it.

    Returns
    -------
    xarray.Dataset
        Dims (y, x).  Variables ``<param>_<unit>`` and ``<param>_<unit>_stderr`` (e.g.
        ``delta_meV``, ``g_n_A``), ``redchi``, ``chisqr``, ``nfev``, ``start`` (int8,
        :data:`START_CODES`), ``success`` and ``significant`` (bool) and ``verdict`` (int8,
        :data:`~fitkit.fitting.grid.VERDICT_CODES`); coordinates ``ix``, ``iy`` (and ``x_m``,
        ``y_m`` when present).  Attrs: model, channel, source path, block size, the fixed
        parameters, ``params_json`` (overrides used).

    Raises
    ------
    LoaderError, MissingColumnError, DataValidationError, ConfigError
        Unreadable file, unknown channel, bad shapes or parameter overrides.
    """
    import xarray as xr

    if isinstance(dataset_or_path, (str, os.PathLike)):
        ds = open_grid(os.fspath(dataset_or_path))
    else:
        ds = dataset_or_path
    m = get_model(model)() if isinstance(model, str) else model
    if not isinstance(m, FitkitModel):
        raise FitkitError(f"fit_grid: model {model!r} is not a single registered fitkit model")
    var = resolve_channel(ds, channel)
    ny, nx = ds.sizes["y"], ds.sizes["x"]
    y_unit = channel_unit(ds, var)
    overrides = dict(params or {})
    meta_fixed = metadata_overrides(ds, m, overrides) if use_metadata else {}
    overrides = {**meta_fixed, **overrides}
    bias, data = read_block(ds, var)
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
    coords: dict[str, Any] = {"iy": ("y", np.arange(ny)), "ix": ("x", np.arange(nx))}
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
    var = map_variable(ds, parameter)
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
