"""Map output: the gap-map and histogram figures and the ``maps.h5`` file of grid fits.

:func:`save_maps` writes ``gap_map.png``, ``histogram.png`` and ``maps.h5`` for a map dataset
(from :func:`fitkit.analysis.gridmap.fit_grid` or the pipeline's ``map`` job) through the one
atomic writer of :mod:`fitkit.report.writer`; :func:`read_maps` reads ``maps.h5`` back.  The
drawing itself is :func:`fitkit.report.plots.plot_map` / :func:`~fitkit.report.plots.plot_histogram`.

``maps.h5`` layout (``format = "fitkit-maps"``, ``format_version = 1``): file attributes are the
dataset's attributes (non-scalars as JSON); group ``maps`` holds one dataset per map variable and
group ``coords`` one per coordinate, each with attributes ``dims`` (comma-separated), ``dtype``
(booleans are stored as int8) and the variable's own attributes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from fitkit.fitting.grid import map_variable
from fitkit.report.plots import plot_histogram, plot_map
from fitkit.report.writer import atomic_path, atomic_write_png

__all__ = ["read_maps", "save_maps", "write_maps_h5"]


def write_maps_h5(ds: Any, path: str | os.PathLike[str]) -> Path:
    """Write a map dataset to ``path`` in the ``fitkit-maps`` HDF5 layout (atomically).

    Parameters
    ----------
    ds
        Map dataset (dims y, x).
    path
        Destination file.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    OSError
        If the file cannot be written.
    """
    import h5py

    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
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
    return Path(path)


def read_maps(path: str | os.PathLike[str]) -> Any:
    """Read maps written by :func:`save_maps` (``maps.h5``) back into an :class:`xarray.Dataset`.

    Parameters
    ----------
    path
        The ``maps.h5`` file.

    Returns
    -------
    xarray.Dataset
        As returned by :func:`fitkit.analysis.gridmap.fit_grid`.

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
        Maps from :func:`fitkit.analysis.gridmap.fit_grid`.
    outdir
        Folder (created).
    parameter
        Parameter drawn in the map and the histogram (default ``"delta"``); pixels that are not
        successful and significant are blank in the map and left out of the histogram.

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

    out = Path(outdir)
    var = map_variable(ds, parameter)
    unit = str(ds[var].attrs.get("units", ""))
    ok = np.asarray(ds["success"].values, dtype=bool)
    if "significant" in ds:
        ok &= np.asarray(ds["significant"].values, dtype=bool)
    shown = np.where(ok, np.asarray(ds[var].values, dtype=float), np.nan)
    paths = {"gap_map": out / "gap_map.png", "histogram": out / "histogram.png", "maps": out / "maps.h5"}
    name = Path(str(ds.attrs.get("source_path", ""))).name
    for key in ("gap_map", "histogram"):
        fig = Figure(figsize=(5.6, 4.8))
        ax = fig.add_subplot()
        if key == "gap_map":
            plot_map(shown, ax=ax, title=parameter, unit=unit)
            if name:
                ax.set_xlabel(f"ix  ({name})")
                ax.set_ylabel("iy")
        else:
            plot_histogram(shown, ax=ax, unit=unit, quantity=parameter,
                           title=f"{parameter}: {int(ok.sum())} pixels")
        atomic_write_png(paths[key], fig, dpi=110)
    write_maps_h5(ds, paths["maps"])
    return paths
