"""Exception and warning hierarchy of fitkit.

Every error fitkit raises on purpose derives from :class:`FitkitError`; each also derives
from the built-in exception a generic caller would expect (``ValueError``, ``LookupError``,
``RuntimeError``), so ``except ValueError`` keeps working.  Messages are one sentence that
says what is wrong, where, and what was expected.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataValidationError",
    "FitError",
    "FitQualityWarning",
    "FitkitError",
    "FitkitWarning",
    "InputFileNotFoundError",
    "LoaderError",
    "MissingColumnError",
    "UnitWarning",
    "UnknownFormatError",
    "UnknownModelError",
]


class FitkitError(Exception):
    """Base class of all fitkit errors."""


class ConfigError(FitkitError, ValueError):
    """A configuration file or object is invalid; the message names the key path."""


class LoaderError(FitkitError, ValueError):
    """A data file cannot be read as requested; the message names the file and line/column."""


class InputFileNotFoundError(FitkitError, FileNotFoundError):
    """A data file does not exist (still a :class:`FileNotFoundError` for generic callers)."""


class UnknownFormatError(LoaderError, LookupError):
    """No loader (or several loaders) claim a file; the message lists the known formats."""


class MissingColumnError(LoaderError, LookupError):
    """A requested column does not exist; the message lists the columns that do."""


class DataValidationError(FitkitError, ValueError):
    """Loaded data are unusable: empty, truncated, NaN, non-monotonic, wrong units."""


class UnknownModelError(FitkitError, LookupError):
    """A model key is not registered; the message lists the registered keys."""


class FitError(FitkitError, RuntimeError):
    """A fit failed: non-finite model output, no convergence in strict mode, bad covariance."""


class FitkitWarning(UserWarning):
    """Base class of fitkit warnings."""


class FitQualityWarning(FitkitWarning):
    """A fit finished but its result needs care (parameter at bound, stderr undetermined)."""


class UnitWarning(FitkitWarning):
    """A unit was interpreted in a way the user should know about."""
