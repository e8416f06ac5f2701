"""Loader registry: explicit dict filled by :func:`register_loader`, format guessing."""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from fitkit.errors import FitkitError, LoaderError, UnknownFormatError
from fitkit.io._common import check_input_file, check_sweep_values
from fitkit.io.base import Loader
from fitkit.io.sweep import Sweep

__all__ = ["LOADERS", "contract", "guess_format", "list_formats", "load", "loader_options", "register_loader"]

LOADERS: dict[str, type[Loader]] = {}
"""Registered loaders keyed by format key."""

L = TypeVar("L", bound=type[Loader])


def _one_line(err: BaseException, limit: int = 160) -> str:
    text = " ".join(str(err).split()) or "no message"
    return text if len(text) <= limit else text[:limit] + "..."


def _check_result(path: Path, key: str, out: Any) -> None:
    sweeps = out if isinstance(out, list) else [out]
    if not sweeps:
        raise LoaderError(f"{path}: the '{key}' loader found no curve in the file; expected at least one "
                          "measured curve")
    for s in sweeps:
        if not isinstance(s, Sweep):  # pragma: no cover - a loader bug, not a file problem
            raise LoaderError(f"{path}: the '{key}' loader returned {type(s).__name__}; "
                              "expected Sweep objects")
        cols = {c: s.data[c].to_numpy() for c in s.data.columns if s.data[c].dtype.kind in "fiu"}
        conv = s.meta.units_conversion
        names = {str(v.get("column")): str(k) for k, v in conv.items() if isinstance(v, dict)}
        check_sweep_values(path, cols, names=names, file_order=False)


def contract(cls: type[Loader], read: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a loader's ``read`` in the loader contract (applied by :func:`register_loader`).

    Before the read: the path must be an existing regular file of at most ``cls.max_bytes``
    bytes (:func:`fitkit.io._common.check_input_file`; a FIFO is never opened).  During the read
    numpy floating-point warnings are silenced (overflows surface as infinite values, refused
    below).  Any exception that is not a :class:`~fitkit.errors.FitkitError` becomes a
    :class:`~fitkit.errors.LoaderError` naming the file and the loader (attribute
    ``unexpected = True``; the original is the ``__cause__``).  After the read: at least one
    sweep, and every canonical column passes :func:`fitkit.io._common.check_sweep_values`
    (finite or NaN, physical range, R not negative beyond noise, bias not constant).
    """

    @functools.wraps(read)
    def checked(self: Loader, path: str | Path, *args: Any, **options: Any) -> Any:
        p = Path(path)
        check_input_file(p, max_bytes=cls.max_bytes)
        try:
            with np.errstate(all="ignore"):
                out = read(self, p, *args, **options)
            _check_result(p, cls.key, out)
        except FitkitError:
            raise
        except (Exception, RecursionError) as err:  # noqa: BLE001 - the contract boundary
            wrapped = LoaderError(f"{p}: the '{cls.key}' loader cannot read this file ({type(err).__name__}: "
                                  f"{_one_line(err)}); expected a well-formed {cls.description} file")
            wrapped.unexpected = True  # type: ignore[attr-defined]
            raise wrapped from err
        return out

    checked.__fitkit_contract__ = True  # type: ignore[attr-defined]
    return checked


def register_loader(cls: L) -> L:
    """Class decorator that adds a loader to :data:`LOADERS` (duplicate keys raise).

    The class's ``read`` is wrapped in :func:`contract`, so the contract holds for every loader,
    whether it is called through :func:`load` or directly.
    """
    if cls.key in LOADERS:
        raise ValueError(f"loader key '{cls.key}' is already registered by {LOADERS[cls.key].__name__}")
    read = cls.__dict__.get("read")
    if read is not None and not getattr(read, "__fitkit_contract__", False):
        cls.read = contract(cls, read)  # type: ignore[method-assign]
    LOADERS[cls.key] = cls
    return cls


def list_formats() -> list[str]:
    """Sorted keys of the registered loaders."""
    return sorted(LOADERS)


def loader_options(key: str) -> dict[str, Any]:
    """Option name -> default of a loader's ``read`` (for ``fitkit formats``)."""
    sig = inspect.signature(LOADERS[key].read)
    return {
        n: (None if p.default is inspect.Parameter.empty else p.default)
        for n, p in sig.parameters.items()
        if n not in ("self", "path")
    }


def _unknown(fmt: str) -> UnknownFormatError:
    close = difflib.get_close_matches(fmt, list(LOADERS), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return UnknownFormatError(f"unknown format '{fmt}'; known formats are {list_formats()}{hint}")


def guess_format(path: Path) -> str:
    """Return the key of the one loader whose ``can_read`` claims ``path``.

    Raises
    ------
    InputFileNotFoundError
        If the path does not exist (a :class:`FileNotFoundError`).
    LoaderError
        If the path is not a regular file (directory, FIFO, symlink loop ...).
    UnknownFormatError
        If no loader or more than one loader claims the file.
    """
    check_input_file(path)
    claims = [k for k, cls in sorted(LOADERS.items()) if cls.can_read(path)]
    if len(claims) == 1:
        return claims[0]
    if not claims:
        raise UnknownFormatError(
            f"{path}: no loader recognises this file; pass format= one of {list_formats()}"
        )
    raise UnknownFormatError(f"{path}: several loaders claim this file ({claims}); pass format= to choose")


def load(path: str | Path, format: str | None = None, **options: Any) -> Sweep | list[Sweep]:
    """Read a data file into a :class:`~fitkit.io.sweep.Sweep` (or a list of them).

    Parameters
    ----------
    path
        File to read.
    format
        Loader key (see :func:`list_formats`); guessed from the file when omitted.
    **options
        Keyword options of the chosen loader's ``read`` (unknown options raise).

    Returns
    -------
    Sweep or list of Sweep

    Raises
    ------
    InputFileNotFoundError, UnknownFormatError, LoaderError, DataValidationError
        Only fitkit errors (see :func:`contract`); ``InputFileNotFoundError`` is also a
        :class:`FileNotFoundError`.
    """
    p = Path(path)
    if format is not None and format not in LOADERS:
        raise _unknown(format)
    check_input_file(p)
    key = format or guess_format(p)
    valid = loader_options(key)
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise LoaderError(
            f"{p}: unknown option(s) {unknown} for format '{key}'; valid options are {sorted(valid)}"
        )
    return LOADERS[key]().read(p, **options)
