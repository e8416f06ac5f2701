"""Nanonis ``.3ds`` grid spectroscopy: memory-mapped reader, per-pixel loader and a small writer.

The module is long because the reader, the size checks made before any allocation and the writer used
by the tests must agree on one binary layout, which is kept in one file.

File layout
-----------
An ASCII header of ``Key=Value`` lines (values with lists are quoted, items separated by
``;``) ending with the line ``:HEADER_END:``, then for every pixel, row by row with x varying
fastest, one record of big-endian float32 numbers::

    [fixed parameters (e.g. Sweep Start, Sweep End)] [experiment parameters (X (m), Y (m), ...)]
    [channel 1: Points values] [channel 2: Points values] ...

``Grid dim="nx x ny"``, ``# Parameters (4 byte)`` = number of fixed + experiment parameters,
``Experiment size (bytes)`` = 4 x channels x points.  A grid aborted during the measurement
leaves a file shorter than declared: only whole records count, the rest are missing pixels.

API
---
:func:`open_grid` (xarray, memory-mapped and lazy through dask), :func:`iter_pixel_blocks`
(batch fitting), :class:`Nanonis3dsLoader` (registry key ``"nanonis_3ds"``: one :class:`Sweep`
per pixel), :func:`read_grid_header` and :func:`write_3ds`.

Naming
------
Channel ``"Current (A)"`` becomes the variable ``current_A``, ``"LI Demod 1 X (A)"`` becomes
``li_demod_1_x_A`` (snake-case name + unit token); a ``"Bias (V)"`` channel is
``bias_measured_V`` (``bias_V`` is the sweep coordinate), and ``X (m)``/``Y (m)`` channels are
``x_channel_m``/``y_channel_m`` (``x_m``/``y_m`` are the pixel-position coordinates).
Parameters become ``param_<name>`` variables of dims (y, x), e.g. ``param_z_m`` and
``param_sweep_start_V`` (fixed sweep parameters take the sweep signal's unit).  The Nanonis
name is kept in each variable's ``attrs["nanonis_name"]``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fitkit.errors import DataValidationError, LoaderError, MissingColumnError
from fitkit.io._common import check_input_file, read_head
from fitkit.io._registry import register_loader
from fitkit.io.base import Loader
from fitkit.io.nanonis_dat import (
    _lockin_amplitude,
    _temperature_from_comments,
    choose_lockin,
    is_lockin_name,
    parse_column_name,
)
from fitkit.io.sweep import Sweep, SweepMeta
from fitkit.units import UnitError, canonical_unit, to_si_factor

__all__ = [
    "GridHeader",
    "Nanonis3dsLoader",
    "iter_pixel_blocks",
    "open_grid",
    "read_grid_header",
    "variable_name",
    "write_3ds",
]

_END = b":HEADER_END:"
MAX_HEADER_BYTES = 1 << 20
"""Largest ``.3ds`` text header read (1 MiB; real headers are a few kB)."""
MAX_PIXELS = 1 << 22
"""Largest declared grid (4 194 304 pixels, e.g. 2048 x 2048)."""
MAX_POINTS = 1 << 20
"""Largest declared number of points per spectrum."""
MAX_FIELDS = 4096
"""Largest declared number of channels or parameters."""
_DTYPE = np.dtype(">f4")
# channel names that would collide with the dataset coordinates
_COORD_NAMES = {"bias_V": "bias_measured_V", "x_m": "x_channel_m", "y_m": "y_channel_m"}
_LOCKIN = (re.compile(r"^LI Demod \d+ X$", re.I), re.compile(r"^Input \d+$", re.I))


@dataclass(frozen=True)
class GridHeader:
    """Parsed ``.3ds`` header.

    Attributes
    ----------
    raw
        Key -> value text (quotes removed), in file order.
    nx, ny
        Grid size (pixels along x and y).
    points
        Points per spectrum.
    channels
        Channel names as in the file (``"Current (A)"``).
    fixed_params, experiment_params
        Parameter names; each pixel record starts with these values, in this order.
    data_offset
        Byte offset of the first pixel record.
    sweep_signal
        Name of the swept signal (``"Bias (V)"``).
    """

    raw: Mapping[str, str]
    nx: int
    ny: int
    points: int
    channels: tuple[str, ...]
    fixed_params: tuple[str, ...]
    experiment_params: tuple[str, ...]
    data_offset: int
    sweep_signal: str
    path: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def params(self) -> tuple[str, ...]:
        """All per-pixel parameter names (fixed first)."""
        return self.fixed_params + self.experiment_params

    @property
    def record_len(self) -> int:
        """Number of float32 values per pixel record."""
        return len(self.params) + len(self.channels) * self.points

    @property
    def n_pixels(self) -> int:
        """Declared number of pixels, ``nx * ny``."""
        return self.nx * self.ny

    def channel_offset(self, name: str) -> int:
        """Index of the first value of channel ``name`` inside a pixel record."""
        return len(self.params) + self.channels.index(name) * self.points


def _split_list(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.split(";") if s.strip())


def read_grid_header(path: str | Path) -> GridHeader:
    """Read and check the text header of a ``.3ds`` file.

    Parameters
    ----------
    path
        The ``.3ds`` file.

    Returns
    -------
    GridHeader

    Raises
    ------
    LoaderError
        If the path is not a regular file, ``:HEADER_END:`` is missing from the first
        :data:`MAX_HEADER_BYTES`, a required key is absent or malformed, the declared sizes are
        out of range (no channel, no point, more than :data:`MAX_PIXELS` pixels) or inconsistent
        (parameter count, experiment size), or a channel name repeats.  The header is read in
        linear time and nothing is allocated from the declared sizes.
    """
    path = Path(path)
    check_input_file(path, what="Nanonis .3ds grid")
    buf = bytearray()
    found = -1
    with path.open("rb") as fh:
        while found < 0:  # linear: each chunk is searched once (with an overlap for a split marker)
            chunk = fh.read(65536)
            if not chunk:
                raise LoaderError(
                    f"{path}: no ':HEADER_END:' line in {len(buf)} bytes; expected a Nanonis .3ds text "
                    "header terminated by ':HEADER_END:'"
                )
            start = max(0, len(buf) - len(_END) + 1)
            buf += chunk
            found = buf.find(_END, start)
            if found < 0 and len(buf) > MAX_HEADER_BYTES:
                raise LoaderError(
                    f"{path}: no ':HEADER_END:' line in the first {MAX_HEADER_BYTES} bytes; expected a "
                    "Nanonis .3ds text header (a few kB) terminated by ':HEADER_END:'"
                )
    end = found + len(_END)
    if buf[end:end + 2] == b"\r\n":
        end += 2
    elif buf[end:end + 1] == b"\n":
        end += 1
    text = bytes(buf[:found]).decode("latin-1")
    raw: dict[str, str] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if "=" not in line:
            raise LoaderError(f"{path}: header line {lineno}: {line[:60]!r} has no '='; expected 'Key=Value'")
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        raw[key.strip()] = value

    def need(key: str) -> str:
        if key not in raw:
            raise LoaderError(f"{path}: header key {key!r} is missing; expected a Nanonis .3ds grid header")
        return raw[key]

    m = re.fullmatch(r"\s*([0-9]{1,9})\s*x\s*([0-9]{1,9})\s*", need("Grid dim"))
    if m is None:
        raise LoaderError(f"{path}: header 'Grid dim'={raw['Grid dim']!r}; expected 'NX x NY'")
    nx, ny = int(m.group(1)), int(m.group(2))
    try:
        points = int(need("Points"))
        n_params = int(need("# Parameters (4 byte)"))
        exp_size = int(raw.get("Experiment size (bytes)", "-1"))
    except ValueError as err:
        raise LoaderError(f"{path}: header sizes are not integers ({err}); expected integer counts") from err
    fixed = _split_list(raw.get("Fixed parameters", ""))
    exp = _split_list(raw.get("Experiment parameters", ""))
    channels = _split_list(need("Channels"))
    if nx < 1 or ny < 1 or nx * ny > MAX_PIXELS:
        raise LoaderError(f"{path}: header 'Grid dim'={raw['Grid dim']!r} declares {nx} x {ny} pixels; "
                          f"expected 1 to {MAX_PIXELS} pixels")
    if not 1 <= points <= MAX_POINTS:
        raise LoaderError(f"{path}: header 'Points'={points}; expected 1 to {MAX_POINTS} points per spectrum")
    if not channels or len(channels) > MAX_FIELDS:
        raise LoaderError(f"{path}: header 'Channels' names {len(channels)} channels; "
                          f"expected 1 to {MAX_FIELDS}")
    if not 0 <= n_params <= MAX_FIELDS:
        raise LoaderError(f"{path}: header '# Parameters (4 byte)'={n_params}; expected 0 to {MAX_FIELDS}")
    if nx * ny * max(n_params, 1) > MAX_PIXELS * 16:
        raise LoaderError(f"{path}: header declares {nx} x {ny} pixels with {n_params} parameters each; "
                          f"expected at most {MAX_PIXELS * 16} parameter values in a grid")
    for what, names in (("channel", channels), ("parameter", fixed + exp)):
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise LoaderError(f"{path}: header names the {what} {dup[0]!r} {names.count(dup[0])} times; "
                              f"expected unique {what} names")
    if len(fixed) + len(exp) != n_params:
        raise LoaderError(
            f"{path}: header declares {n_params} parameters but names {len(fixed)} fixed + {len(exp)} "
            "experiment parameters; expected the counts to agree"
        )
    if exp_size >= 0 and exp_size != 4 * len(channels) * points:
        raise LoaderError(
            f"{path}: 'Experiment size (bytes)'={exp_size}; expected 4 x {len(channels)} channels x "
            f"{points} points = {4 * len(channels) * points}"
        )
    return GridHeader(raw=raw, nx=nx, ny=ny, points=points, channels=channels, fixed_params=fixed,
                      experiment_params=exp, data_offset=end, sweep_signal=raw.get("Sweep Signal", ""),
                      path=str(path))


def _memmap(header: GridHeader) -> tuple[np.memmap | np.ndarray, int]:
    """Memory-map the whole pixel records present in the file."""
    size = os.path.getsize(header.path)
    rec_bytes = header.record_len * _DTYPE.itemsize
    complete = max(0, min(header.n_pixels, (size - header.data_offset) // rec_bytes))
    if complete == 0:
        return np.empty((0, header.record_len), dtype=_DTYPE), 0
    mm = np.memmap(header.path, dtype=_DTYPE, mode="r", offset=header.data_offset,
                   shape=(complete, header.record_len))
    return mm, complete


class _ChannelArray:
    """Array-like (ny, nx, points) view of one channel over the memory map, NaN for missing pixels.

    Handing this object (not the memmap itself) to :func:`dask.array.from_array` keeps dask from
    copying or hashing the data: values are read from the map only inside ``__getitem__``.
    """

    def __init__(self, mm: np.ndarray, complete: int, ny: int, nx: int, offset: int, points: int) -> None:
        self._mm, self._complete, self._nx, self._offset = mm, complete, nx, offset
        self.shape = (ny, nx, points)
        self.dtype = np.dtype(np.float32)
        self.ndim = 3

    def __getitem__(self, key: Any) -> np.ndarray:
        key = key if isinstance(key, tuple) else (key,)
        key = key + (slice(None),) * (3 - len(key))
        idx = [np.arange(n)[k] for n, k in zip(self.shape, key, strict=True)]
        scalar = [np.ndim(i) == 0 for i in idx]
        iy, ix, ib = (np.atleast_1d(i) for i in idx)
        flat = iy[:, None] * self._nx + ix[None, :]
        out = np.full((iy.size, ix.size, ib.size), np.nan, dtype=np.float32)
        ok = flat < self._complete
        if ok.any():
            out[ok] = self._mm[flat[ok][:, None], self._offset + ib[None, :]]
        return out[tuple(0 if sc else slice(None) for sc in scalar)]


def _snake(name: str) -> str:
    return re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower()


def variable_name(nanonis_name: str, prefix: str = "") -> str:
    """Dataset variable name of a channel or parameter: ``"Current (A)"`` -> ``"current_A"``.

    Parameters
    ----------
    nanonis_name
        Name as in the header, unit in parentheses.
    prefix
        Prepended as is (``"param_"`` for parameters).

    Returns
    -------
    str
        ``<prefix><snake_case name>_<unit token>`` (unit token from :mod:`fitkit.units` when
        known, else the cleaned unit text; no suffix without a unit).
    """
    c = parse_column_name(nanonis_name)
    base = _snake(c["name"])
    tags = [t for t in (("avg" if c["sweep"] == -1 else f"{c['sweep']:05d}" if c["sweep"] else ""),
                        "bwd" if c["direction"] == "bwd" else "", "filt" if c["filtered"] else "") if t]
    base = "_".join([base, *tags])
    unit = c["unit"]
    if unit:
        try:
            token = canonical_unit(unit)
        except UnitError:
            token = _snake(unit) or "1"
        name = f"{prefix}{base}_{token}"
    else:
        name = f"{prefix}{base}"
    if not prefix and name in _COORD_NAMES:
        return _COORD_NAMES[name]
    return name


def _unit(nanonis_name: str) -> str:
    return parse_column_name(nanonis_name)["unit"] or ""


def _bias_from(header: GridHeader, params: np.ndarray) -> np.ndarray:
    """Bias axis [V] from a pixel's Sweep Start/End parameters (or the header)."""
    names = list(header.params)
    start: float | None = None
    end: float | None = None
    if "Sweep Start" in names and "Sweep End" in names:
        start, end = float(params[names.index("Sweep Start")]), float(params[names.index("Sweep End")])
    if start is None or end is None or not (np.isfinite(start) and np.isfinite(end)):
        try:
            start = float(header.raw["Bias Spectroscopy>Sweep Start (V)"])
            end = float(header.raw["Bias Spectroscopy>Sweep End (V)"])
        except (KeyError, ValueError) as err:
            raise LoaderError(
                f"{header.path}: no sweep range; expected fixed parameters 'Sweep Start;Sweep End' or "
                "header keys 'Bias Spectroscopy>Sweep Start (V)'/'Sweep End (V)'"
            ) from err
    factor = 1.0
    unit = _unit(header.sweep_signal)
    if unit:
        try:
            factor = to_si_factor(unit, "voltage")
        except UnitError as err:
            raise LoaderError(
                f"{header.path}: sweep signal {header.sweep_signal!r} is not a voltage"
            ) from err
    return np.linspace(start, end, header.points) * factor


def _metadata(header: GridHeader) -> dict[str, Any]:
    raw = dict(header.raw)
    comments = {k: v for k, v in raw.items() if re.fullmatch(r"Comment\d*", k) and v}
    extra: dict[str, Any] = {
        "experiment": raw.get("Experiment"),
        "sw_version": raw.get("NanonisMain>SW Version"),
        "start_time": raw.get("Start time"),
        "end_time": raw.get("End time"),
        "comments": comments,
        "grid_nx": header.nx,
        "grid_ny": header.ny,
        "points": header.points,
        "channels": list(header.channels),
        "sweep_signal": header.sweep_signal,
    }
    for key, name in (("Bias>Calibration (V/V)", "bias_calibration_V_per_V"),
                      ("Bias>Offset (V)", "bias_offset_V")):
        try:
            extra[name] = float(raw[key])
        except (KeyError, ValueError):
            extra[name] = None
    extra.update(_lockin_amplitude(raw, comments))
    t = _temperature_from_comments(comments)
    extra["temperature_K"], extra["temperature_source"] = (t if t is not None else (None, None))
    return extra


def open_grid(path: str | Path, *, channels: Sequence[str] | None = None, chunk_pixels: int = 4096) -> Any:
    """Open a ``.3ds`` grid as a lazy :class:`xarray.Dataset` backed by a memory map.

    Parameters
    ----------
    path
        The ``.3ds`` file.
    channels
        Channels to expose, by Nanonis name (``"Current (A)"``) or variable name
        (``"current_A"``); default all.
    chunk_pixels
        Approximate pixels per dask chunk (rounded to whole grid rows).

    Returns
    -------
    xarray.Dataset
        Dims ``(y, x, bias)``.  Coordinates: ``bias_V`` [V] (dim ``bias``, from the first
        complete pixel's Sweep Start/End), ``x_m``/``y_m`` [m] (dims y, x; from the per-pixel
        ``X (m)``/``Y (m)`` parameters, NaN for missing pixels), ``ix``/``iy`` indices.  One
        float32 data variable per channel (dims y, x, bias; lazy dask arrays over the memory
        map, so nothing is read until computed) and one ``param_*`` variable per parameter
        (dims y, x; read eagerly, they are small).  Variable attrs: ``units``,
        ``nanonis_name``.  Dataset attrs: ``source_path``, ``pixels_declared``,
        ``pixels_complete``, ``aborted``, parsed metadata (temperature, lock-in amplitude ...)
        and ``raw_header_json``.  Missing pixels of an aborted grid are NaN.

    Raises
    ------
    LoaderError
        Bad header (see :func:`read_grid_header`).
    MissingColumnError
        A requested channel does not exist.
    """
    import dask.array as da
    import xarray as xr
    from dask.base import tokenize

    header = read_grid_header(path)
    chosen = _choose_channels(header, channels)
    mm, complete = _memmap(header)
    ny, nx, nb, n_par = header.ny, header.nx, header.points, len(header.params)
    params = np.full((header.n_pixels, n_par), np.nan)
    if complete:
        params[:complete] = np.asarray(mm[:, :n_par], dtype=float)
    first = params[0] if complete else np.full(n_par, np.nan)
    bias = _bias_from(header, first)
    rows = max(1, chunk_pixels // max(nx, 1))
    stat = os.stat(header.path)
    data_vars: dict[str, Any] = {}
    for ch in chosen:
        view = _ChannelArray(mm, complete, ny, nx, header.channel_offset(ch), nb)
        name = "nanonis3ds-" + tokenize(header.path, stat.st_mtime_ns, stat.st_size, ch, rows)
        arr = da.from_array(view, chunks=(rows, nx, nb), name=name, asarray=True)
        data_vars[variable_name(ch)] = xr.Variable(
            ("y", "x", "bias"), arr, attrs={"units": _unit(ch), "nanonis_name": ch}
        )
    for k, p in enumerate(header.params):
        named = p
        if p in header.fixed_params and not _unit(p) and _unit(header.sweep_signal):
            named = f"{p} ({_unit(header.sweep_signal)})"  # Sweep Start/End carry the sweep unit
        data_vars[variable_name(named, prefix="param_")] = xr.Variable(
            ("y", "x"), params[:, k].reshape(ny, nx), attrs={"units": _unit(named), "nanonis_name": p}
        )
    coords: dict[str, Any] = {
        "bias_V": ("bias", bias, {"units": "V"}),
        "ix": ("x", np.arange(nx)),
        "iy": ("y", np.arange(ny)),
    }
    names = list(header.params)
    for axis in ("X", "Y"):
        key = f"{axis} (m)"
        if key in names:
            pos = params[:, names.index(key)].reshape(ny, nx)
            coords[f"{axis.lower()}_m"] = (("y", "x"), pos, {"units": "m", "nanonis_name": key})
    attrs = {
        "source_path": str(path),
        "loader": Nanonis3dsLoader.key,
        "pixels_declared": header.n_pixels,
        "pixels_complete": complete,
        "aborted": complete < header.n_pixels,
        **{k: v for k, v in _metadata(header).items() if v is not None and not isinstance(v, dict)},
        "comments_json": json.dumps(_metadata(header)["comments"]),
        "raw_header_json": json.dumps(dict(header.raw)),
    }
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def _choose_channels(header: GridHeader, channels: Sequence[str] | None) -> list[str]:
    if channels is None:
        return list(header.channels)
    if isinstance(channels, str):
        channels = [channels]
    by_var = {variable_name(c): c for c in header.channels}
    out = []
    for c in channels:
        if c in header.channels:
            out.append(c)
        elif c in by_var:
            out.append(by_var[c])
        else:
            raise MissingColumnError(
                f"{header.path}: channel {c!r} not found; available: {list(header.channels)} "
                f"(or as variables {list(by_var)})"
            )
    return out


def iter_pixel_blocks(
    path: str | Path, block: int = 256, *, channels: Sequence[str] | None = None
) -> Iterator[tuple[tuple[np.ndarray, np.ndarray], dict[str, np.ndarray]]]:
    """Iterate over the measured pixels in blocks, for batch fitting.

    Parameters
    ----------
    path
        The ``.3ds`` file.
    block
        Pixels per block (the last block may be shorter).
    channels
        Channels to return (Nanonis or variable names); default all.

    Yields
    ------
    (iy, ix) : tuple of int arrays
        Grid indices of the pixels in the block (``result[iy, ix] = ...`` works).
    arrays : dict
        Variable name -> float64 array of shape ``(n, points)``; also ``"bias_V"`` -> the bias
        axis [V] of shape ``(points,)``.  Missing pixels of an aborted grid are never yielded.

    Raises
    ------
    LoaderError, MissingColumnError
    """
    header = read_grid_header(path)
    chosen = _choose_channels(header, channels)
    if block < 1:
        raise LoaderError(f"{path}: block={block!r}; expected a positive number of pixels")
    mm, complete = _memmap(header)
    if not complete:
        return
    bias = _bias_from(header, np.asarray(mm[0, : len(header.params)], dtype=float))
    nb = header.points
    for start in range(0, complete, block):
        stop = min(complete, start + block)
        flat = np.arange(start, stop)
        iy, ix = np.divmod(flat, header.nx)
        rec = np.asarray(mm[start:stop], dtype=float)
        arrays = {"bias_V": bias}
        for ch in chosen:
            off = header.channel_offset(ch)
            arrays[variable_name(ch)] = rec[:, off:off + nb]
        yield (iy, ix), arrays


@register_loader
class Nanonis3dsLoader(Loader):
    """Nanonis ``.3ds`` grid spectroscopy; one :class:`Sweep` per pixel."""

    key = "nanonis_3ds"
    description = "Nanonis .3ds grid spectroscopy (binary, big-endian float32); one sweep per pixel"
    extensions = (".3ds",)
    max_bytes = None

    @classmethod
    def can_read(cls, path: Path) -> bool:
        """Return True for a ``.3ds`` file starting with a ``Grid dim=`` line."""
        if path.suffix.lower() not in cls.extensions:
            return False
        return read_head(path, 16).lstrip(b"\xef\xbb\xbf").startswith(b"Grid dim=")

    def read(
        self,
        path: Path,
        *,
        pixel: int | tuple[int, int] | None = None,
        channel: str | None = None,
        sample_id: str | None = None,
    ) -> Sweep | list[Sweep]:
        """Read one pixel (or every measured pixel) of a grid as :class:`Sweep` objects.

        Parameters
        ----------
        path
            The ``.3ds`` file.
        pixel
            ``(iy, ix)`` or a flat index ``iy * nx + ix``; None returns a list with every
            measured pixel (for large grids prefer :func:`open_grid` or
            :func:`iter_pixel_blocks`).
        channel
            Conductance channel for ``dIdV_arb``: default the first ``LI Demod N X`` or
            ``Input N`` channel (none if absent); any other channel given here is added under
            its variable name instead (e.g. ``frequency_shift_Hz``).
        sample_id
            Sample name; default ``"<file stem>[iy,ix]"``.

        Returns
        -------
        Sweep or list of Sweep
            Frame ``bias_V`` [V], ``current_A`` [A] (if recorded), ``dIdV_arb`` (lock-in, raw
            units), ``sweep_index`` (1, or -1 for ``[AVG]`` channels) and ``direction``;
            ``meta.extra`` holds the pixel indices, position, all pixel parameters and the
            grid metadata.

        Raises
        ------
        LoaderError
            Bad header or pixel index out of the grid.
        DataValidationError
            The pixel was not measured (aborted grid).
        MissingColumnError
            Unknown channel.
        """
        path = Path(path)
        header = read_grid_header(path)
        mm, complete = _memmap(header)
        groups: dict[tuple[int, str], dict[str, str]] = {}
        for ch in header.channels:
            c = parse_column_name(ch)
            groups.setdefault((c["sweep"] or 1, c["direction"]), {})[c["name"]] = ch
        bases = [parse_column_name(ch)["name"] for ch in header.channels]
        chan: str | None
        if channel is None:
            chan, _ = choose_lockin(list(dict.fromkeys(bases)), header.raw)
            col = "dIdV_arb"
        else:
            want = parse_column_name(channel)["name"].lower()
            match = [b for b in bases if b.lower() == want or variable_name(b).lower() == channel.lower()]
            match += [parse_column_name(ch)["name"] for ch in header.channels if variable_name(ch) == channel]
            if not match:
                raise MissingColumnError(
                    f"{path}: channel {channel!r} not found; available: {list(header.channels)}"
                )
            chan = match[0]
            is_lock = any(p.match(chan) for p in _LOCKIN) or is_lockin_name(chan)
            raw = next(ch for ch in header.channels if parse_column_name(ch)["name"] == chan)
            col = "dIdV_arb" if is_lock else variable_name(
                re.sub(r"\s*\[[^\]]*\]", "", raw)
            )
        if pixel is None:
            if complete == 0:
                raise DataValidationError(
                    f"{path}: no pixel was measured (0 of {header.n_pixels} pixels complete); the grid was "
                    "aborted before its first pixel"
                )
            flats = list(range(complete))
        else:
            flats = [self._flat(header, pixel, complete, path)]
        meta_common = _metadata(header)
        out = []
        for flat in flats:
            rec = np.asarray(mm[flat], dtype=float)
            params = rec[: len(header.params)]
            bias = _bias_from(header, params)
            parts = []
            conversion: dict[str, Any] = {}
            for (sw, d), members in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] == "bwd")):
                frame = {"bias_V": bias}
                for base_name, target, quantity in (("Current", "current_A", "current"), (chan, col, None)):
                    if base_name is None or base_name not in members:
                        continue
                    raw = members[base_name]
                    off = header.channel_offset(raw)
                    factor = 1.0
                    if quantity is not None:
                        try:
                            factor = to_si_factor(_unit(raw) or "A", quantity)
                        except UnitError as err:
                            raise LoaderError(f"{path}: channel {raw!r}: {err}") from err
                    frame[target] = rec[off:off + header.points] * factor
                    conversion[raw] = {"column": target, "factor": factor}
                if len(frame) == 1:
                    continue
                f = pd.DataFrame(frame)
                f["sweep_index"] = np.int64(sw)
                f["direction"] = pd.Series([d] * len(f), dtype=object)
                parts.append(f)
            frame_all = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({"bias_V": bias})
            iy, ix = divmod(flat, header.nx)
            pdict = {p: float(v) for p, v in zip(header.params, params, strict=True)}
            extra = {
                **meta_common,
                "pixel": [iy, ix],
                "pixel_flat": flat,
                "pixels_complete": complete,
                "x_m": pdict.get("X (m)"),
                "y_m": pdict.get("Y (m)"),
                "z_m": pdict.get("Z (m)"),
                "pixel_params": pdict,
                "lockin_channel": chan if col == "dIdV_arb" else None,
            }
            meta = SweepMeta(
                source_path=str(path), loader=self.key,
                sample_id=sample_id if sample_id is not None else f"{path.stem}[{iy},{ix}]",
                raw_header=dict(header.raw), units_conversion=conversion, extra=extra,
            )
            out.append(Sweep(frame_all, meta))
        return out if pixel is None else out[0]

    @staticmethod
    def _flat(header: GridHeader, pixel: int | tuple[int, int], complete: int, path: Path) -> int:
        if isinstance(pixel, tuple | list) and len(pixel) == 2:
            iy, ix = int(pixel[0]), int(pixel[1])
            if not (0 <= iy < header.ny and 0 <= ix < header.nx):
                raise LoaderError(
                    f"{path}: pixel {(iy, ix)} is outside the {header.ny} x {header.nx} grid (iy, ix)"
                )
            flat = iy * header.nx + ix
        else:
            try:
                flat = int(pixel)
            except (TypeError, ValueError) as err:
                raise LoaderError(f"{path}: pixel={pixel!r}; expected (iy, ix) or a flat index") from err
            if not 0 <= flat < header.n_pixels:
                raise LoaderError(f"{path}: pixel {flat} is outside 0..{header.n_pixels - 1}")
        if flat >= complete:
            raise DataValidationError(
                f"{path}: pixel {divmod(flat, header.nx)} (iy, ix) was not measured; the grid was aborted "
                f"after {complete} of {header.n_pixels} pixels"
            )
        return flat


def write_3ds(
    path: str | Path,
    bias_V: np.ndarray,
    channels: Mapping[str, np.ndarray],
    *,
    params: Mapping[str, np.ndarray] | None = None,
    header: Mapping[str, str] | None = None,
    grid_settings: Sequence[float] | None = None,
    sweep_signal: str = "Bias (V)",
    experiment: str = "Grid Spectroscopy",
) -> Path:
    """Write a Nanonis-style ``.3ds`` grid (big-endian float32), atomically.

    Parameters
    ----------
    path
        Output file.
    bias_V
        Uniform bias axis [V], shape ``(points,)``; stored per pixel as the fixed parameters
        ``Sweep Start``/``Sweep End``.
    channels
        Nanonis channel name (``"Current (A)"``, ``"LI Demod 1 X (A)"``) -> array
        ``(ny, nx, points)`` in that unit.
    params
        Experiment parameters ``name -> (ny, nx)`` array; ``X (m)``, ``Y (m)`` and ``Z (m)``
        are added from ``grid_settings`` (and Z = 0) when absent.
    header
        Extra ``Key -> Value`` header lines (e.g. ``{"Comment": "T=300mK",
        "Lock-in>Amplitude": "100E-6"}``).
    grid_settings
        ``(centre x, centre y, width, height, angle)`` in m, m, m, m, degrees; default a
        1 nm pitch grid centred at 0.
    sweep_signal, experiment
        Header values.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    DataValidationError
        Shapes disagree, the bias axis is not uniform, or a channel name has no unit.
    """
    path = Path(path)
    bias = np.asarray(bias_V, dtype=float)
    if bias.ndim != 1 or bias.size < 2:
        raise DataValidationError(f"write_3ds: bias_V must be 1-D with >= 2 points; got shape {bias.shape}")
    if not np.allclose(np.diff(bias), (bias[-1] - bias[0]) / (bias.size - 1), rtol=1e-6, atol=0):
        raise DataValidationError("write_3ds: bias_V must be uniform (Nanonis stores only start and end)")
    if not channels:
        raise DataValidationError("write_3ds: at least one channel is needed")
    arrays = {k: np.asarray(v) for k, v in channels.items()}
    shapes = {v.shape for v in arrays.values()}
    if len(shapes) != 1 or len(next(iter(shapes))) != 3 or next(iter(shapes))[2] != bias.size:
        raise DataValidationError(
            f"write_3ds: every channel must have shape (ny, nx, {bias.size}); got {sorted(shapes)}"
        )
    for name in arrays:
        if parse_column_name(name)["unit"] is None:
            raise DataValidationError(f"write_3ds: channel {name!r} has no unit; expected 'Name (unit)'")
    ny, nx, nb = next(iter(shapes))
    default_settings = (0.0, 0.0, nx * 1e-9, ny * 1e-9, 0.0)
    cx, cy, w, h, angle = grid_settings if grid_settings is not None else default_settings
    exp = {k: np.broadcast_to(np.asarray(v, dtype=float), (ny, nx)) for k, v in (params or {}).items()}
    gx = cx + (np.arange(nx) - (nx - 1) / 2) * (w / max(nx, 1))
    gy = cy + (np.arange(ny) - (ny - 1) / 2) * (h / max(ny, 1))
    exp.setdefault("X (m)", np.broadcast_to(gx[None, :], (ny, nx)))
    exp.setdefault("Y (m)", np.broadcast_to(gy[:, None], (ny, nx)))
    exp.setdefault("Z (m)", np.zeros((ny, nx)))
    exp_names = list(exp)
    fixed = ["Sweep Start", "Sweep End"]
    ch_names = list(arrays)
    lines = {
        "Grid dim": f'"{nx} x {ny}"',
        "Grid settings": ";".join(f"{v:.6E}" for v in (cx, cy, w, h, angle)),
        "Filetype": "Linear",
        "Sweep Signal": f'"{sweep_signal}"',
        "Fixed parameters": '"' + ";".join(fixed) + '"',
        "Experiment parameters": '"' + ";".join(exp_names) + '"',
        "# Parameters (4 byte)": str(len(fixed) + len(exp_names)),
        "Experiment size (bytes)": str(4 * len(ch_names) * nb),
        "Points": str(nb),
        "Channels": '"' + ";".join(ch_names) + '"',
        "Experiment": f'"{experiment}"',
        "Bias Spectroscopy>Sweep Start (V)": repr(float(bias[0])),
        "Bias Spectroscopy>Sweep End (V)": repr(float(bias[-1])),
        "Bias Spectroscopy>Num Pixel": str(nb),
    }
    for k, v in (header or {}).items():
        lines[k] = str(v)
    text = "".join(f"{k}={v}\r\n" for k, v in lines.items()) + ":HEADER_END:\r\n"
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as fh:
        fh.write(text.encode("latin-1"))
        for iy in range(ny):
            rows = np.empty((nx, len(fixed) + len(exp_names) + len(ch_names) * nb), dtype=_DTYPE)
            rows[:, 0], rows[:, 1] = bias[0], bias[-1]
            for j, name in enumerate(exp_names):
                rows[:, 2 + j] = exp[name][iy]
            base = 2 + len(exp_names)
            for j, name in enumerate(ch_names):
                rows[:, base + j * nb: base + (j + 1) * nb] = arrays[name][iy]
            fh.write(rows.tobytes())
    os.replace(tmp, path)
    return path
