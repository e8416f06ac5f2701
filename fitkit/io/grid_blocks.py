"""Reading grid spectroscopy for fitting: the conductance channel, its unit, and blocks of spectra.

A grid dataset (:func:`fitkit.io.nanonis_3ds.open_grid`: dims ``y``, ``x``, ``bias``; coordinate
``bias_V``; the data memory-mapped) is fitted block by block.  These helpers pick the channel that
holds the lock-in conductance, resolve its unit to a canonical token, and read one block of
consecutive pixels (row-major flat index ``iy * nx + ix``) as a float array, so only that block
is copied out of the memory map.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fitkit import units as _u
from fitkit.errors import DataValidationError
from fitkit.io.nanonis_dat import choose_lockin, parse_column_name

__all__ = ["LOCKIN_PREFIXES", "channel_unit", "default_channel", "read_block", "resolve_channel"]

LOCKIN_PREFIXES: tuple[str, ...] = ("li_demod", "input")
"""Variable-name prefixes of lock-in (dI/dV) channels, in order of preference."""


def default_channel(ds: Any) -> str:
    """The conductance variable of a grid dataset: the lock-in channel.

    Chosen as for the Nanonis loaders (:func:`fitkit.io.nanonis_dat.choose_lockin`): a named
    lock-in output (``LI Demod N X``, ``LockIn``), else an ``Input N`` channel only when a header
    comment describes an external lock-in (a Kelvin-probe ``Input 6`` is not a conductance).

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
    spectral = [str(v) for v in ds.data_vars if ds[v].dims == ("y", "x", "bias")]
    by_base: dict[str, str] = {}
    for v in spectral:
        by_base.setdefault(parse_column_name(str(ds[v].attrs.get("nanonis_name", v)))["name"], v)
    try:
        raw = json.loads(ds.attrs.get("raw_header_json", "{}"))
    except (TypeError, ValueError):
        raw = {}
    chan, reason = choose_lockin(list(by_base), raw if isinstance(raw, dict) else {})
    if chan is not None:
        return by_base[chan]
    raise DataValidationError(
        f"{ds.attrs.get('source_path', 'grid')}: no lock-in channel among {spectral} ({reason}); "
        "pass channel=..."
    )


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
    unit = str(ds[var].attrs.get("units", "") or "")
    try:
        return _u.canonical_unit(unit) if unit else ""
    except _u.UnitError:
        return unit


def read_block(ds: Any, var: str, start: int = 0, stop: int | None = None
               ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Bias axis and the spectra of pixels ``start:stop`` (flat row-major index) as float64.

    Parameters
    ----------
    ds
        Grid dataset (dims ``y``, ``x``, ``bias``; coordinate ``bias_V`` in V).
    var
        Variable name (see :func:`resolve_channel`).
    start, stop
        Flat pixel range (``stop`` None: to the end).

    Returns
    -------
    bias_V : numpy.ndarray
        Bias axis, V, shape ``(points,)``.
    spectra : numpy.ndarray
        Shape ``(stop - start, points)``, in the variable's unit; only this block is copied.
    """
    ny, nx = int(ds.sizes["y"]), int(ds.sizes["x"])
    bias = np.asarray(ds["bias_V"].values, dtype=float)
    flat = ds[var].data.reshape(ny * nx, bias.size)
    return bias, np.asarray(flat[start:stop], dtype=float)
