"""Shared data-driven starting-value estimators for spectroscopy models.

All functions take the data ``y`` and the bias ``x`` in the units the caller chooses (the
tunnelling models pass the bias in mV) and return numbers in those units.  They never fit;
they are cheap, robust first estimates used by ``guess()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "finish_with_overrides",
    "high_bias_level",
    "is_fixed",
    "override_value",
    "symmetric_peak_positions",
    "values_only",
]


def override_value(overrides: Mapping[str, Any], name: str, default: float) -> float:
    """Value of a ``guess()`` override given as a number or as ``{"value": ...}``; ``default`` otherwise.

    Lets a guess use fixed parameters (tip gap, geometry ...) that the caller overrides; an override
    dict without ``"value"`` (e.g. ``{"vary": False}``) leaves ``default``.
    """
    val = overrides.get(name, default)
    if isinstance(val, dict):
        val = val.get("value", default)
    return float(val)


def is_fixed(overrides: Mapping[str, Any], name: str) -> bool:
    """True when the override of ``name`` holds it fixed (``{"value": v, "vary": False}``)."""
    val = overrides.get(name)
    return isinstance(val, Mapping) and val.get("vary") is False and "value" in val


def values_only(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``guess()`` overrides as plain values: ``{"value": v, ...}`` -> v; a dict without a value is dropped.

    ``lmfit.models.update_param_vals`` (used by ``_finish_guess``) only sets values; the other keys
    of a dict override (``min``, ``max``, ``vary``, ``expr``) are applied by
    :func:`fitkit.models.base.apply_overrides`.
    """
    out: dict[str, Any] = {}
    for k, v in overrides.items():
        if isinstance(v, Mapping):
            if "value" in v:
                out[k] = float(v["value"])
        else:
            out[k] = v
    return out


def finish_with_overrides(model: Any, values: Mapping[str, float], overrides: Mapping[str, Any]) -> Any:
    """``model._finish_guess(values)`` with the override values, then the dict overrides' bounds and flags.

    Lets a ``guess()`` accept ``name={"value": v, "vary": False, "min": ...}`` as well as ``name=v``.
    """
    from fitkit.models.base import apply_overrides

    pars = model._finish_guess(values, **values_only(overrides))
    dicts = {f"{model.prefix}{k}": v for k, v in overrides.items() if isinstance(v, Mapping)}
    return apply_overrides(pars, dicts)


def _sorted_finite(y: ArrayLike, x: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    xa = np.asarray(x, dtype=float).ravel()
    ya = np.asarray(y, dtype=float).ravel()
    if xa.shape != ya.shape:
        raise ValueError(f"guess: x has {xa.size} points but y has {ya.size}; expected equal lengths")
    ok = np.isfinite(xa) & np.isfinite(ya)
    order = np.argsort(xa[ok])
    return xa[ok][order], ya[ok][order]


def high_bias_level(y: ArrayLike, x: ArrayLike, fraction: float = 0.15) -> float:
    """Median of ``y`` over the outer ``fraction`` of the bias range on both sides.

    Parameters
    ----------
    y
        Conductance (any unit).
    x
        Bias (any unit).
    fraction
        Fraction (0..0.5) of the points at each end used.

    Returns
    -------
    float
        The normal-state level estimate, in the unit of ``y`` (NaN for empty input).

    Raises
    ------
    ValueError
        If ``x`` and ``y`` lengths differ.
    """
    xs, ys = _sorted_finite(y, x)
    if ys.size == 0:
        return float("nan")
    k = max(1, int(round(fraction * ys.size)))
    return float(np.median(np.concatenate([ys[:k], ys[-k:]])))


def symmetric_peak_positions(y: ArrayLike, x: ArrayLike) -> tuple[float, float]:
    """Half-separation and midpoint of the strongest conductance maxima on either side of the centre.

    Parameters
    ----------
    y
        Conductance (any unit).
    x
        Bias (any unit); should cover both polarities.

    Returns
    -------
    half_separation : float
        ``(x_+ - x_-) / 2``, the symmetrised peak position (unit of ``x``); a coherence-peak
        gap estimate that is insensitive to a bias offset.
    midpoint : float
        ``(x_+ + x_-) / 2``, an estimate of the bias offset (unit of ``x``).

    Raises
    ------
    ValueError
        If ``x`` and ``y`` lengths differ.

    Notes
    -----
    The data are lightly smoothed (5-point running mean) before locating the maxima.  The
    centre is taken as the minimum of the smoothed data within the inner half of the bias range
    (the gap centre), which also works with an offset.  When one polarity is missing, the
    other peak's distance from the centre is used and the midpoint is the centre.
    """
    xs, ys = _sorted_finite(y, x)
    if ys.size < 5:
        return float("nan"), 0.0
    k = 5
    smooth = np.convolve(np.pad(ys, k // 2, mode="edge"), np.ones(k) / k, mode="valid")
    span = xs[-1] - xs[0]
    inner = np.abs(xs - 0.5 * (xs[0] + xs[-1])) <= 0.25 * span
    centre = float(xs[inner][np.argmin(smooth[inner])]) if inner.any() else 0.5 * (xs[0] + xs[-1])
    right = xs > centre
    left = xs < centre
    if right.any() and left.any():
        xp = float(xs[right][np.argmax(smooth[right])])
        xm = float(xs[left][np.argmax(smooth[left])])
        return 0.5 * (xp - xm), 0.5 * (xp + xm)
    side = right if right.any() else left
    xp = float(xs[side][np.argmax(smooth[side])])
    return abs(xp - centre), centre
