r"""Point-contact Andreev reflection (PCAR) spin-polarisation analysis with the ``btk_polarized`` model.

The worked example is the Co/Nb PCAR spectrum of the Stoner-PythonCode sample data (bundled in
``sample_data/pcar_co_nb/``, GPL-3.0 data).  The analysis

1. fits :math:`P`, :math:`Z`, :math:`\Delta` and the Gaussian smearing :math:`\omega` (Stoner
   convention :math:`\sigma = \omega`, no Fermi function: ``temperature = 0``, ``gamma = 0``),
   optionally with a free normal-state level and bias offset;
2. reports the correlation coefficients between :math:`P`, :math:`Z` and :math:`\Delta` (PCAR fits
   are notoriously degenerate in these);
3. computes the :math:`\chi^2(P)` profile: :math:`P` fixed on a grid (0 ... 0.9), every other free
   parameter refitted, as in Stoner's ``PCAR Chi^2`` table;
4. states :math:`P` as a profile-likelihood interval (:func:`fitkit.fitting.intervals.profile_interval`,
   :math:`\Delta\chi^2/s = 1` with :math:`s` the reduced :math:`\chi^2` times the square of the
   error widening for correlated residuals).  :math:`P`, :math:`Z` and :math:`\Delta` are almost
   degenerate, so the linearised :math:`\pm` is meaningless (Co/Nb: :math:`P = 0.09 \pm 1.0`);
   the profile gives a one-sided limit, :math:`P \le 0.38` at 68 % for white-noise scaling
   (:math:`P \le 0.44` with the widening the residual correlation calls for).

Functions return plain data (a :class:`~fitkit.fitting.FitRecord`, a DataFrame); the files and the
figure of the PCAR example are written by the ``pcar_profile`` job kind (``configs/pcar_co.yaml``).

References
----------
G. J. Strijkers et al., Phys. Rev. B 63, 104510 (2001); I. I. Mazin, A. A. Golubov,
B. Nadgorny, J. Appl. Phys. 89, 7576 (2001); Stoner-PythonCode (University of Leeds),
``scripts/PCAR-New.py``.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from pathlib import Path
from typing import Literal

import lmfit
import numpy as np
import pandas as pd

from fitkit.errors import FitQualityWarning
from fitkit.fitting import FitRecord, fit_curve
from fitkit.fitting.intervals import profile_interval
from fitkit.io import load
from fitkit.io.sweep import Sweep
from fitkit.models.andreev import BTKPolarizedModel

__all__ = [
    "BUNDLED_PCAR",
    "chi2_profile",
    "fit_pcar",
    "load_pcar",
    "polarization_statement",
]

BUNDLED_PCAR = Path(__file__).resolve().parents[2] / "sample_data" / "pcar_co_nb" / "PCAR Co Data.csv"
"""The bundled copy of the Stoner Co/Nb PCAR spectrum (source tree / repository checkout)."""

DEFAULT_P_GRID = tuple(round(0.1 * k, 1) for k in range(10))


def load_pcar(path: str | Path = BUNDLED_PCAR) -> Sweep:
    """Load a two-column ``V,G`` PCAR file (V in mV, G normalised) as a Sweep.

    Parameters
    ----------
    path
        CSV file with header ``V,G``.

    Returns
    -------
    Sweep
        Columns ``bias_V`` and ``dIdV_norm``.
    """
    out = load(path, format="text", columns={"V": "bias", "G": "dIdV"}, units={"V": "mV"}, normalized=True)
    return out if isinstance(out, Sweep) else out[0]


def _params(model: BTKPolarizedModel, sweep: Sweep, *, temperature_K: float, free_level: bool,
            delta_bounds: tuple[float, float]) -> lmfit.Parameters:
    y, x = sweep.column("dIdV_norm"), sweep.column("bias_V")
    pars = model.guess(y, x, temperature=temperature_K)
    pars["gamma"].set(value=0.0, vary=False)
    pars["smearing"].set(value=0.5, min=0.0, max=5.0, vary=True)
    pars["delta"].set(min=delta_bounds[0], max=delta_bounds[1],
                      value=float(np.clip(1.5, delta_bounds[0], delta_bounds[1])))
    pars["z"].set(value=0.4, max=10.0)
    pars["polarization"].set(value=0.3)
    pars["bias_offset"].set(min=-1.0, max=1.0)
    if not free_level:
        pars["g_n"].set(value=1.0, vary=False)
        pars["bias_offset"].set(value=0.0, vary=False)
    return pars


def fit_pcar(sweep: Sweep, *, form: Literal["strijkers", "mazin"] = "strijkers", temperature_K: float = 0.0,
             free_level: bool = True, delta_bounds: tuple[float, float] = (0.5, 2.0),
             fixed_polarization: float | None = None,
             start: lmfit.Parameters | None = None, uncertainty: str = "auto") -> FitRecord:
    r"""Fit a normalised PCAR spectrum with ``btk_polarized``.

    Parameters
    ----------
    sweep
        Spectrum with ``bias_V`` and ``dIdV_norm``.
    form
        Polarised-channel formula: ``"strijkers"`` (Stoner's model) or ``"mazin"``.
    temperature_K
        Temperature [K] (fixed); 0 reproduces Stoner's Gaussian-only broadening.
    free_level
        Fit the normal-state level ``g_n`` and the bias offset (else fixed at 1 and 0).
    delta_bounds
        Bounds on :math:`\Delta` [meV] (Stoner's fit used 0.5-2.0).
    fixed_polarization
        Hold :math:`P` at this value (for the :math:`\chi^2(P)` profile).
    start
        Start values (e.g. a previous fit); default: data-driven guess plus Stoner's starts.
    uncertainty
        Interval method of :func:`fitkit.fitting.fit_curve` for the other parameters (``"linear"``,
        ``"profile"``, ``"bootstrap"``, ``"auto"``).  A free :math:`P` is always profiled.

    Returns
    -------
    FitRecord
        Values, stderr, correlations, chi-square.  When :math:`P` is free its 68 % interval in
        ``lower``/``upper``/``interval_kind`` is the profile-likelihood one (``interval_method``
        ``"profile"``), usually ``"upper limit"``; see :func:`polarization_statement`.
    """
    model = BTKPolarizedModel(polarized_form=form)
    pars = _params(model, sweep, temperature_K=temperature_K, free_level=free_level,
                   delta_bounds=delta_bounds)
    if start is not None:
        for name, p in start.items():
            if name in pars and pars[name].vary:
                pars[name].set(value=float(np.clip(p.value, pars[name].min, pars[name].max)))
    if fixed_polarization is not None:
        pars["polarization"].set(value=float(fixed_polarization), vary=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitQualityWarning)
        rec = fit_curve(sweep, model, pars, fit_kws={"max_nfev": 2000}, uncertainty=uncertainty)
    if fixed_polarization is not None or not rec.success or rec.result is None:
        return rec
    return _with_polarization_profile(rec)


def _with_polarization_profile(rec: FitRecord) -> FitRecord:
    """Attach the profile-likelihood interval of P (scale: redchi x widening^2) to the record."""
    if rec.interval_method.get("polarization") == "profile":
        return rec  # fit_curve already profiled it (same scale)
    res = rec.result
    widen = rec.quality.get("error_scale_by_parameter", {}).get(
        "polarization", rec.quality.get("error_scale", 1.0))
    widen = float(widen) if isinstance(widen, (int, float)) and math.isfinite(widen) else 1.0
    redchi = rec.redchi if math.isfinite(rec.redchi) and rec.redchi > 0 else 1.0
    try:
        iv = profile_interval(res, "polarization", scale=redchi * widen**2)
    except (ValueError, ArithmeticError, np.linalg.LinAlgError) as err:
        return dataclasses.replace(rec, warnings=(*rec.warnings, f"profile of P failed ({err})"))
    return dataclasses.replace(
        rec,
        lower={**rec.lower, "polarization": iv.lower},
        upper={**rec.upper, "polarization": iv.upper},
        interval_method={**rec.interval_method, "polarization": iv.method},
        interval_kind={**rec.interval_kind, "polarization": iv.kind},
    )


def polarization_statement(rec: FitRecord, level_pct: int = 68) -> str:
    """The spin polarisation as the record's interval states it, e.g. ``"P ≤ 0.44 at 68 % (profile)"``.

    Falls back to ``P = value ± stderr`` when the record carries no interval for ``polarization``.
    """
    v = rec.values.get("polarization", math.nan)
    lo, hi = rec.lower.get("polarization", math.nan), rec.upper.get("polarization", math.nan)
    kind = rec.interval_kind.get("polarization", "")
    how = rec.interval_method.get("polarization", "linear")
    at = f"at {level_pct} % ({how})"
    if kind == "upper limit":
        return f"P ≤ {hi:.2f} {at}"
    if kind == "lower limit":
        return f"P ≥ {lo:.2f} {at}"
    if kind == "two-sided":
        return f"P = {v:.3f} (+{hi - v:.2g} / -{v - lo:.2g}) {at}"
    if kind == "not determined":
        return f"P not determined (best {v:.2f}, {at})"
    return f"P = {v:.3f} ± {rec.stderr.get('polarization', math.nan):.2g} (linear)"


def chi2_profile(sweep: Sweep, p_grid: tuple[float, ...] = DEFAULT_P_GRID,
                 **fit_options: object) -> pd.DataFrame:
    r"""Profile :math:`\chi^2(P)`: fit with :math:`P` fixed at each grid value, all else free.

    Parameters
    ----------
    sweep
        Spectrum.
    p_grid
        Polarisation values (dimensionless).
    **fit_options
        Passed to :func:`fit_pcar` (``form``, ``temperature_K``, ``free_level``, ``delta_bounds``).

    Returns
    -------
    pandas.DataFrame
        Columns ``polarization``, ``delta_meV``, ``z``, ``smearing_meV``, ``g_n_norm``,
        ``bias_offset_mV``, ``chisqr``, ``redchi``, ``success``.  Each P is started from the
        previous grid point's solution and from the default start; the lower chi-square is kept.
    """
    rows = []
    prev: lmfit.Parameters | None = None
    for p in p_grid:
        opts = {"uncertainty": "linear", **fit_options}  # the grid fits need no intervals
        candidates = [fit_pcar(sweep, fixed_polarization=p, **opts)]  # type: ignore[arg-type]
        if prev is not None:
            candidates.append(fit_pcar(sweep, fixed_polarization=p, start=prev, **opts))  # type: ignore[arg-type]
        ok = [c for c in candidates if c.success and math.isfinite(c.chisqr)] or candidates
        best = min(ok, key=lambda c: c.chisqr if math.isfinite(c.chisqr) else math.inf)
        prev = best.result.params if best.result is not None else prev
        v = best.values
        rows.append({"polarization": p, "delta_meV": v.get("delta", math.nan), "z": v.get("z", math.nan),
                     "smearing_meV": v.get("smearing", math.nan), "g_n_norm": v.get("g_n", math.nan),
                     "bias_offset_mV": v.get("bias_offset", math.nan), "chisqr": best.chisqr,
                     "redchi": best.redchi, "success": best.success})
    return pd.DataFrame(rows)
