r"""fitkit: fit superconducting-transport and tunnelling data with physical models.

Public API
----------
load(path, format=None, \*\*options)
    Read a data file into a :class:`~fitkit.io.Sweep` (or a list of sweeps).
get_model(key) / list_models()
    Registered :class:`lmfit.Model` subclasses with declared parameter units.
fit_curve(sweep, model, params=None, ...)
    Fit one sweep; returns a plain-data :class:`~fitkit.fitting.FitRecord`.
fit_series(sweeps_or_paths, model, params=None, ...)
    Fit many curves; a bad file or failed fit becomes a ``success=False`` record, never an exception.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from fitkit.fitting import FitRecord, fit_curve, fit_series
from fitkit.io import Sweep, SweepMeta, list_formats, load
from fitkit.models import get_model, list_models

try:
    __version__ = version("fitkit")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = [
    "FitRecord",
    "Sweep",
    "SweepMeta",
    "__version__",
    "fit_curve",
    "fit_series",
    "get_model",
    "list_formats",
    "list_models",
    "load",
]
