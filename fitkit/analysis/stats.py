r"""Combining repeated measurements: the one inverse-variance mean of fitkit.

.. math::
    \bar x = \frac{\sum_i w_i x_i}{\sum_i w_i},\quad w_i = \sigma_i^{-2},\qquad
    \sigma_{\bar x} = \frac{S}{\sqrt{\sum_i w_i}},\quad
    S = \sqrt{\max(1, \chi^2_\nu)},\quad \chi^2_\nu = \frac{\sum_i w_i (x_i - \bar x)^2}{n - 1}

The error is the inverse-variance error :math:`1/\sqrt{\sum w}` when the values agree within
their errors, and is inflated by :math:`\sqrt{\chi^2_\nu}` when they scatter more than their
errors say (:math:`\chi^2_\nu > 1`): the Particle Data Group's scale-factor rule
(R. L. Workman et al. (PDG), Prog. Theor. Exp. Phys. 2022, 083C01, "Introduction", Sec. 5.2.2),
which keeps the mean and its weights and only widens the error for an unexplained scatter.
It is never shrunk below :math:`1/\sqrt{\sum w}` (a :math:`\chi^2_\nu < 1` is consistent with
overestimated errors as much as with luck; with few values it says little).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

__all__ = ["WeightedMean", "weighted_mean"]


class WeightedMean(NamedTuple):
    """Result of :func:`weighted_mean`."""

    mean: float
    error: float
    chi2_red: float
    """Reduced chi-square of the values about the mean (NaN for fewer than 2 weighted values)."""
    n: int
    """Number of values used."""
    weighted: bool
    """False when no value had a usable error (plain mean, standard error of the mean)."""


def weighted_mean(values: Sequence[float], errors: Sequence[float]) -> WeightedMean:
    """Inverse-variance weighted mean with the PDG scale factor (see the module docstring).

    Parameters
    ----------
    values, errors
        Measurements and their standard errors (same unit).  Values whose error is not finite
        and > 0 are left out; when *no* value has a usable error, the plain mean of the finite
        values is returned with the standard error of the mean (NaN for one value) and
        ``weighted=False``.

    Returns
    -------
    WeightedMean

    Examples
    --------
    Two values that agree: the error is 1/sqrt(sum w).

    >>> r = weighted_mean([1.0, 1.0], [0.1, 0.1])
    >>> round(r.mean, 6), round(r.error, 6), r.chi2_red
    (1.0, 0.070711, 0.0)

    Two values 10 sigma apart: chi2_red = 50, the error is scaled by sqrt(50).

    >>> r = weighted_mean([0.0, 1.0], [0.1, 0.1])
    >>> round(r.mean, 6), round(r.error, 4), round(r.chi2_red, 6)
    (0.5, 0.5, 50.0)
    """
    v = np.asarray(values, dtype=float).ravel()
    e = np.asarray(errors, dtype=float).ravel()
    if v.shape != e.shape:
        raise ValueError(f"weighted_mean: {v.size} values but {e.size} errors")
    ok = np.isfinite(v) & np.isfinite(e) & (e > 0)
    if not ok.any():
        fin = v[np.isfinite(v)]
        if fin.size == 0:
            return WeightedMean(math.nan, math.nan, math.nan, 0, False)
        sem = float(fin.std(ddof=1) / math.sqrt(fin.size)) if fin.size > 1 else math.nan
        return WeightedMean(float(fin.mean()), sem, math.nan, int(fin.size), False)
    v, w = v[ok], 1.0 / e[ok] ** 2
    mean = float(np.sum(w * v) / np.sum(w))
    chi2 = float(np.sum(w * (v - mean) ** 2) / (v.size - 1)) if v.size > 1 else math.nan
    scale = math.sqrt(chi2) if math.isfinite(chi2) and chi2 > 1.0 else 1.0
    return WeightedMean(mean, float(scale / np.sqrt(np.sum(w))), chi2, int(v.size), True)
