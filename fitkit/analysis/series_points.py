"""Shared input checks of the series-level law fits (Delta(T), Delta_col(T), Finkel'stein T_c(R_sq))."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from fitkit.errors import DataValidationError

__all__ = ["clean_series"]


def clean_series(where: str, x: ArrayLike, y: ArrayLike, sigma: ArrayLike | None,
                  names: tuple[str, str, str], unit: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Finite points of an ``(x, y, sigma)`` series, with the checks every series-law fit makes.

    Parameters
    ----------
    where
        Prefix of the messages (the calling function).
    x, y
        The series (same length).
    sigma
        Standard errors of ``y`` (same length, > 0 where finite) or None.
    names
        Names of x, y and sigma for the messages.
    unit
        Unit of ``sigma`` for the messages.

    Returns
    -------
    tuple
        ``(x, y, sigma)`` restricted to the points where all given values are finite.

    Raises
    ------
    DataValidationError
        If lengths differ, an error is not positive, or fewer than 3 finite points remain.
    """
    t = np.asarray(x, dtype=float).ravel()
    d = np.asarray(y, dtype=float).ravel()
    xn, yn, sn = names
    if t.shape != d.shape:
        raise DataValidationError(
            f"{where}: {xn} has {t.size} values but {yn} has {d.size}; expected equal lengths"
        )
    s = None if sigma is None else np.asarray(sigma, dtype=float).ravel()
    ok = np.isfinite(t) & np.isfinite(d)
    if s is not None:
        if s.shape != d.shape:
            raise DataValidationError(f"{where}: {sn} has {s.size} values, expected {d.size}")
        ok &= np.isfinite(s)
        if np.any(s[ok] <= 0):
            raise DataValidationError(f"{where}: every {sn} must be > 0 {unit}")
    t, d = t[ok], d[ok]
    s = s[ok] if s is not None else None
    if t.size < 3:
        raise DataValidationError(f"{where}: need >= 3 finite points, got {t.size}")
    return t, d, s
