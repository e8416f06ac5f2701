r"""Model-free descriptors of a resistive superconducting transition R(T) (films, wires).

:func:`transition_descriptors` returns the normal-state resistance, the 50 % temperature,
the 10-90 % width, the onset (90 %) and the zero-resistance extrapolation, each with a
standard error, and flags curves that pass through the transition more than once (several
temperature ramps in one file).

Definitions (all levels are fractions of :math:`R_N`)
------------------------------------------------------
``r_n_ohm``
    :math:`R_N`: given, or the median R of the points in the top 20 % of the temperature span
    (the normal-state plateau; a weak metallic slope of the plateau shifts the levels by a
    negligible amount for sharp transitions).
``t_c50_K``, ``t_onset_K``, and the 10 % point
    Temperatures where R crosses 0.5, 0.9, 0.1 :math:`R_N`: linear interpolation on the curve
    sorted by T with repeated temperatures averaged.  Noise can make the sorted curve cross a
    level several times inside a narrow band; the median of those crossings is used.
    ``t_onset_K`` is the 90 % point (not the first departure from :math:`R_N`, which depends on
    the noise level).
``width_10_90_K``
    :math:`T_{90} - T_{10}`.
``t_zero_K``
    The "steepest part" of the drop is taken as the points with
    :math:`0.25 \le R/R_N \le 0.75`; a least-squares straight line through them is extrapolated
    to R = 0.  With fewer than 2 such points the two points bracketing 50 % are used.

Uncertainties (``<name>_stderr``)
---------------------------------
A bootstrap over points (``n_boot`` resamples with replacement, seeded) gives the scatter
due to noise and sampling; it is added in quadrature to a resolution term
:math:`\delta T/\sqrt{12}`, :math:`\delta T` being the spacing of the two (averaged)
temperatures that bracket the crossing (0 for ``r_n_ohm`` and ``t_zero_K``).  For an estimated
``r_n_ohm`` the error is at least the asymptotic standard error of a median,
:math:`\sqrt{\pi/2}\,s/\sqrt{n}` of the plateau points (quantised readings can make every
bootstrap median identical); a given ``r_n`` has error 0.  Systematic
effects (thermometer lag between up and down ramps, a sloped plateau) are not included:
for files with several passes compare ``t_c50_per_pass_K``.

Passes (``n_crossings``)
------------------------
Counted in acquisition order with hysteresis (a pass = going from below 0.4 :math:`R_N` to
above 0.6 :math:`R_N` or back), so noise near 50 % is not counted.  When it is larger than
one, a message is added to ``warnings`` and ``t_c50_per_pass_K`` lists the 50 % point of
each pass separately (data split half-way between successive passes).

References
----------
.. [1] M. Tinkham, *Introduction to Superconductivity*, 2nd ed. (1996), ch. 8 (resistive
   transition).  The descriptors are conventional definitions, not a model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from fitkit.errors import DataValidationError

__all__ = ["transition_descriptors"]

_LEVELS = {"t10": 0.1, "t50": 0.5, "t90": 0.9}


def _average_duplicates(t: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort by T and average R over identical temperatures."""
    tu, inv = np.unique(t, return_inverse=True)
    sums = np.bincount(inv, weights=r, minlength=tu.size)
    counts = np.bincount(inv, minlength=tu.size)
    return tu, sums / counts


def _crossing(tu: np.ndarray, ru: np.ndarray, level: float) -> tuple[float, float]:
    """Median crossing temperature of ``ru = level`` and the spacing of its bracketing points."""
    f = ru - level
    idx = np.nonzero((f[:-1] * f[1:] <= 0.0) & (f[:-1] != f[1:]))[0]
    if idx.size == 0:
        return np.nan, np.nan
    t0, t1, f0, f1 = tu[idx], tu[idx + 1], f[idx], f[idx + 1]
    tx = t0 + (t1 - t0) * f0 / (f0 - f1)
    k = int(np.argsort(tx)[(tx.size - 1) // 2])
    return float(np.median(tx)), float(t1[k] - t0[k])


def _plateau(t: np.ndarray, r: np.ndarray) -> float:
    top = t >= t.max() - 0.2 * (t.max() - t.min())
    return float(np.median(r[top]))


def _t_zero(tu: np.ndarray, ru: np.ndarray) -> float:
    sel = (ru >= 0.25) & (ru <= 0.75)
    if sel.sum() < 2:
        f = ru - 0.5
        idx = np.nonzero(f[:-1] * f[1:] <= 0.0)[0]
        if idx.size == 0:
            return np.nan
        sel = np.zeros(tu.size, dtype=bool)
        sel[idx[0]] = sel[idx[0] + 1] = True
    slope, intercept = np.polyfit(tu[sel], ru[sel], 1)
    return float(-intercept / slope) if slope > 0 else np.nan


def _estimate(t: np.ndarray, r: np.ndarray, r_n: float | None) -> tuple[dict[str, float], dict[str, float]]:
    rn = _plateau(t, r) if r_n is None else float(r_n)
    tu, ru = _average_duplicates(t, r / rn)
    vals: dict[str, float] = {"r_n": rn}
    spacing: dict[str, float] = {"r_n": 0.0}
    for name, lev in _LEVELS.items():
        vals[name], spacing[name] = _crossing(tu, ru, lev)
    vals["width"] = vals["t90"] - vals["t10"]
    spacing["width"] = float(np.hypot(spacing["t90"], spacing["t10"]))
    vals["t_zero"] = _t_zero(tu, ru)
    spacing["t_zero"] = 0.0
    return vals, spacing


def _passes(r_norm: np.ndarray) -> tuple[int, np.ndarray]:
    """Hysteretic pass count in acquisition order and the indices where each pass completes."""
    state = np.where(r_norm < 0.4, -1, np.where(r_norm > 0.6, 1, 0))
    pos = np.nonzero(state)[0]          # points outside the dead band keep their state
    changes = pos[1:][state[pos][1:] != state[pos][:-1]]
    return int(changes.size), changes


def transition_descriptors(temperature_K: ArrayLike, resistance_ohm: ArrayLike,
                           r_n: float | None = None, *, n_boot: int = 200,
                           seed: int = 0) -> dict[str, Any]:
    r"""Model-free descriptors of a resistive transition (see the module docstring for definitions).

    Parameters
    ----------
    temperature_K
        Temperatures [K], in acquisition order (needed for the pass count); any order otherwise.
    resistance_ohm
        Resistances [Ohm], same length.
    r_n
        Normal-state resistance [Ohm]; estimated from the high-T plateau when None.
    n_boot
        Number of bootstrap resamples for the standard errors (0 disables the bootstrap; the
        stderr then holds only the resolution term).
    seed
        Seed of the bootstrap generator (results are reproducible).

    Returns
    -------
    dict
        ``r_n_ohm``, ``t_c50_K``, ``width_10_90_K``, ``t_onset_K``, ``t_zero_K`` (values, K or
        Ohm; NaN when the curve does not reach the level), each with ``<key>_stderr``; also
        ``t_10_K`` (with stderr), ``n_crossings`` (int), ``t_c50_per_pass_K`` (list of float),
        ``n_points`` and ``warnings`` (list of str).

    Raises
    ------
    DataValidationError
        If the arrays differ in length, hold fewer than 5 finite points, or ``r_n <= 0``.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(7.0, 9.0, 201)
    >>> d = transition_descriptors(t, 1.0 / (1.0 + np.exp(-(t - 8.0) / 0.01)), n_boot=0)
    >>> round(d["t_c50_K"], 3)
    8.0
    """
    t_all = np.asarray(temperature_K, dtype=float).ravel()
    r_all = np.asarray(resistance_ohm, dtype=float).ravel()
    if t_all.size != r_all.size:
        raise DataValidationError(
            f"transition_descriptors: temperature has {t_all.size} points but resistance has {r_all.size}; "
            "expected equal lengths")
    ok = np.isfinite(t_all) & np.isfinite(r_all)
    t, r = t_all[ok], r_all[ok]
    if t.size < 5:
        raise DataValidationError(
            f"transition_descriptors: only {t.size} finite (T, R) points; expected >= 5")
    if r_n is not None and not r_n > 0:
        raise DataValidationError(f"transition_descriptors: r_n must be > 0 Ohm, got {r_n!r}")

    vals, spacing = _estimate(t, r, r_n)
    boot = np.full((max(n_boot, 0), len(vals)), np.nan)
    rng = np.random.default_rng(seed)
    for k in range(boot.shape[0]):
        idx = rng.integers(0, t.size, t.size)
        bv, _ = _estimate(t[idx], r[idx], r_n)
        boot[k] = list(bv.values())
    names = list(vals)
    with np.errstate(invalid="ignore"):
        finite_rows = np.isfinite(boot)
        sd = np.array([np.std(boot[finite_rows[:, j], j], ddof=1) if finite_rows[:, j].sum() > 2 else 0.0
                       for j in range(len(names))])
    err = {n: float(np.hypot(sd[j], spacing[n] / np.sqrt(12.0))) if np.isfinite(vals[n]) else np.nan
           for j, n in enumerate(names)}
    if r_n is None:
        # quantised readings can make every bootstrap median identical; floor the error by the
        # asymptotic standard error of a median, sqrt(pi/2) * sd / sqrt(n)
        top = t >= t.max() - 0.2 * (t.max() - t.min())
        n_top = int(top.sum())
        sem_median = np.sqrt(np.pi / 2.0) * np.std(r[top], ddof=1) / np.sqrt(n_top) if n_top > 1 else 0.0
        err["r_n"] = float(max(err["r_n"], sem_median))
    else:
        err["r_n"] = 0.0

    warnings: list[str] = []
    n_cross, where = _passes(r / vals["r_n"])
    per_pass: list[float] = []
    if n_cross > 1:
        cuts = [0, *((where[:-1] + where[1:]) // 2).tolist(), t.size]
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            tu, ru = _average_duplicates(t[a:b], r[a:b] / vals["r_n"])
            per_pass.append(_crossing(tu, ru, 0.5)[0])
        listed = np.round(per_pass, 4).tolist()
        warnings.append(f"the curve passes through the transition {n_cross} times (several temperature "
                        f"ramps); t_c50_K combines them, per-pass 50 % points are {listed} K")
    elif n_cross == 1:
        per_pass.append(vals["t50"])
    for key, label in (("t10", "10 %"), ("t50", "50 %"), ("t90", "90 %")):
        if not np.isfinite(vals[key]):
            warnings.append(f"R never crosses {label} of R_N = {vals['r_n']:.6g} Ohm")

    return {
        "r_n_ohm": vals["r_n"], "r_n_ohm_stderr": err["r_n"],
        "t_c50_K": vals["t50"], "t_c50_K_stderr": err["t50"],
        "width_10_90_K": vals["width"], "width_10_90_K_stderr": err["width"],
        "t_onset_K": vals["t90"], "t_onset_K_stderr": err["t90"],
        "t_10_K": vals["t10"], "t_10_K_stderr": err["t10"],
        "t_zero_K": vals["t_zero"], "t_zero_K_stderr": err["t_zero"],
        "n_crossings": int(n_cross),
        "t_c50_per_pass_K": per_pass,
        "n_points": int(t.size),
        "warnings": warnings,
    }
