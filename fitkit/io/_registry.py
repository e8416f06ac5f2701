"""Loader registry: explicit dict filled by :func:`register_loader`, format guessing."""

from __future__ import annotations

import difflib
import inspect
from pathlib import Path
from typing import Any, TypeVar

from fitkit.errors import LoaderError, UnknownFormatError
from fitkit.io.base import Loader
from fitkit.io.sweep import Sweep

__all__ = ["LOADERS", "guess_format", "list_formats", "load", "loader_options", "register_loader"]

LOADERS: dict[str, type[Loader]] = {}
"""Registered loaders keyed by format key."""

L = TypeVar("L", bound=type[Loader])


def register_loader(cls: L) -> L:
    """Class decorator that adds a loader to :data:`LOADERS` (duplicate keys raise)."""
    if cls.key in LOADERS:
        raise ValueError(f"loader key '{cls.key}' is already registered by {LOADERS[cls.key].__name__}")
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
    FileNotFoundError
        If the path does not exist.
    UnknownFormatError
        If no loader or more than one loader claims the file.
    """
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
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
    FileNotFoundError, UnknownFormatError, LoaderError, DataValidationError
    """
    p = Path(path)
    if format is not None and format not in LOADERS:
        raise _unknown(format)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file")
    key = format or guess_format(p)
    valid = loader_options(key)
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise LoaderError(
            f"{p}: unknown option(s) {unknown} for format '{key}'; valid options are {sorted(valid)}"
        )
    return LOADERS[key]().read(p, **options)
