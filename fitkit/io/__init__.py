"""File loaders: every supported format turns a file into SI :class:`Sweep` objects.

Loader modules register themselves with :func:`register_loader` when imported; this package
imports all of its public submodules so the registry is complete.
"""

from __future__ import annotations

import importlib
import pkgutil

from fitkit.io._registry import LOADERS, guess_format, list_formats, load, loader_options, register_loader
from fitkit.io.base import Loader
from fitkit.io.sweep import Sweep, SweepMeta, validate_didv, validate_rt

__all__ = [
    "LOADERS",
    "Loader",
    "Sweep",
    "SweepMeta",
    "guess_format",
    "list_formats",
    "load",
    "loader_options",
    "register_loader",
    "validate_didv",
    "validate_rt",
]

_INFRASTRUCTURE = {"base", "sweep"}
for _m in pkgutil.iter_modules(__path__):
    if not _m.name.startswith("_") and _m.name not in _INFRASTRUCTURE:
        importlib.import_module(f"{__name__}.{_m.name}")
