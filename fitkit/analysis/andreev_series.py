r"""Series analyses of Andreev spectroscopy: tunnelling -> contact series and Delta_col(T).

(a) :func:`fit_contact_series` - a series of spectra of one tip position at increasing contact
conductance (Dubouchet et al., Nat. Phys. 15, 233 (2019), Fig. 1): the low-conductance
(tunnelling) spectra are fitted with the ``nis`` model (single-particle gap :math:`\Delta`,
:math:`\Gamma`), the transparent ones with ``andreev_collective`` (:math:`\Delta_{col}`, :math:`Z`, and
:math:`\Delta`).  Returns a table and the fitter's records; :mod:`fitkit.report.series` draws
:math:`\Delta` and :math:`\Delta_{col}` versus the contact conductance.

(b) :func:`fit_temperature_series` - :math:`\Delta_{col}` fitted at each temperature of one contact,
then the BCS-shaped law :math:`\Delta_{col}(T) = \Delta_{col}(0)\,g(T/T_c)`
(:func:`fitkit.physics.bcs.bcs_gap`) fitted to give :math:`T_c`.

Energies are in meV, temperatures in K, contact conductances in :math:`G_0 = 2e^2/h` (or S,
converted with :data:`fitkit.constants.G0_S`).  The analysis is pure (no files, no figures).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from fitkit.analysis.gap_temperature import gap_ratio
from fitkit.analysis.series_points import clean_series
from fitkit.constants import G0_S, K_B_MEV_PER_K
from fitkit.errors import DataValidationError, FitError, FitQualityWarning
from fitkit.fitting import FitRecord, fit_curve
from fitkit.io.sweep import Sweep, SweepMeta
from fitkit.models import get_model
from fitkit.models.series_laws import DeltaColTemperatureModel, delta_col_temperature_mev

__all__ = [
    "TemperatureSeriesResult",
    "bcs_delta_col_law",
    "fit_contact_series",
    "fit_delta_col_law",
    "fit_temperature_series",
    "sweep_meta_float",
]

_ROW_PARAMS = ("delta", "gamma", "delta_col", "z", "temperature", "g_n")
_UNITS = {"delta": "meV", "gamma": "meV", "delta_col": "meV", "z": "1", "temperature": "K", "g_n": "norm"}


def sweep_meta_float(sweep: Sweep, key: str) -> float:
    """A number stored with a sweep: ``meta.extra[key]`` or a ``# key = value`` header line (NaN if absent).

    Parameters
    ----------
    sweep
        The sweep.
    key
        Metadata key such as ``"temperature_K"`` or ``"g_contact_G0"``.

    Returns
    -------
    float
        The value, NaN when absent or not a number.
    """
    for source in (sweep.meta.extra, sweep.meta.raw_header):
        if key in source:
            try:
                return float(source[key])
            except (TypeError, ValueError):
                return math.nan
    return math.nan


def _fit(sweep: Sweep, key: str, options: dict[str, Any], overrides: dict[str, Any],
         bounds: dict[str, tuple[float, float]] | None = None,
         fixed: dict[str, float] | None = None) -> FitRecord:
    model = get_model(key)(**options)
    y = sweep.column("dIdV_norm") if "dIdV_norm" in sweep.data else sweep.column("dIdV_S")
    x = sweep.column("bias_V")
    pars = model.guess(y, x, **overrides)
    for name, val in (fixed or {}).items():
        pars[name].set(value=val, vary=False)
    for name, (lo, hi) in (bounds or {}).items():
        pars[name].set(min=lo, max=hi)
        pars[name].set(value=float(np.clip(pars[name].value, lo, hi)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitQualityWarning)
        return fit_curve(sweep, model, pars, fit_kws={"max_nfev": 400})


def _row(rec: FitRecord, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict(extra)
    for p in _ROW_PARAMS:
        unit = _UNITS[p]
        col = p if unit == "1" else f"{p}_{unit}"
        row[col] = rec.values.get(p, math.nan)
        row[f"{col}_stderr"] = rec.stderr.get(p, math.nan) if rec.vary.get(p, False) else math.nan
    row["redchi"] = rec.redchi
    row["success"] = bool(rec.success)
    row["model"] = rec.model_key
    row["source_path"] = rec.source_path
    return row


def fit_contact_series(
    sweeps: Sequence[Sweep],
    g_contact: Sequence[float],
    *,
    unit: Literal["G0", "S"] = "G0",
    tunnel_below_G0: float = 0.2,
    temperature_K: float | Sequence[float] | None = None,
    v_mod_rms_mV: float = 0.0,
    form: Literal["pm2", "pm1", "pm3"] = "pm2",
) -> tuple[pd.DataFrame, list[FitRecord]]:
    r"""Fit a tunnelling -> Andreev contact series (pure: no figure; :mod:`fitkit.report.series` draws it).

    Parameters
    ----------
    sweeps
        Normalised spectra (``bias_V`` and ``dIdV_norm`` columns), one per contact.
    g_contact
        Normal-state contact conductance of each sweep, in ``unit``.
    unit
        ``"G0"`` (:math:`2e^2/h`) or ``"S"``.
    tunnel_below_G0
        Spectra with :math:`g < ` this value [G0] are "tunnelling" and fitted with ``nis``; the
        others are "andreev" and fitted with ``andreev_collective``.
    temperature_K
        Electron temperature [K] (fixed in the fits): one value, one per sweep, or None to read
        ``temperature_K`` from each sweep's metadata.
    v_mod_rms_mV
        Lock-in modulation [mV rms] (fixed).
    form
        Collective-gap form for the Andreev fits (``"pm2"`` default; phenomenological).

    Returns
    -------
    table : pandas.DataFrame
        One row per spectrum, sorted by conductance: ``g_contact_G0``, ``regime``,
        ``delta_meV``, ``gamma_meV``, ``delta_col_meV``, ``z``, ``temperature_K``, ``g_n_norm``,
        each with ``*_stderr`` (NaN when not fitted), ``redchi``, ``success``, ``model``,
        ``source_path``.
    records : list of FitRecord
        The records of :func:`fitkit.fitting.fit_curve` (verdict, intervals, quality), in table order.

    Raises
    ------
    DataValidationError
        If the lengths differ, the unit is unknown, or a temperature is missing.
    """
    if len(sweeps) != len(g_contact):
        raise DataValidationError(f"contact series: {len(sweeps)} sweeps but {len(g_contact)} conductances")
    if unit not in ("G0", "S"):
        raise DataValidationError(f"contact series: unit={unit!r}; expected 'G0' or 'S'")
    g0 = np.asarray(g_contact, dtype=float) / (G0_S if unit == "S" else 1.0)
    temps = _temperatures(sweeps, temperature_K)
    rows, records = [], []
    for i in np.argsort(g0, kind="stable"):
        sweep, g, t = sweeps[i], float(g0[i]), temps[i]
        tunnel = g < tunnel_below_G0
        fixed = {"temperature": t, "v_mod": v_mod_rms_mV}
        if tunnel:
            rec = _fit(sweep, "nis", {}, {}, fixed=fixed)
        else:
            rec = _fit(sweep, "andreev_collective", {"form": form}, {}, fixed=fixed)
        rows.append(_row(rec, g_contact_G0=g, regime="tunnelling" if tunnel else "andreev"))
        records.append(rec)
    return pd.DataFrame(rows), records


def _temperatures(sweeps: Sequence[Sweep], temperature_K: float | Sequence[float] | None) -> list[float]:
    if temperature_K is None:
        temps = [sweep_meta_float(s, "temperature_K") for s in sweeps]
    elif np.ndim(temperature_K) == 0:
        temps = [float(temperature_K)] * len(sweeps)  # type: ignore[arg-type]
    else:
        temps = [float(t) for t in temperature_K]  # type: ignore[union-attr]
    if len(temps) != len(sweeps) or not all(np.isfinite(temps)):
        raise DataValidationError(
            "series: a temperature is missing; pass temperature_K= or store 'temperature_K' in each "
            "sweep's metadata"
        )
    return temps


def bcs_delta_col_law(temperature: np.ndarray, t_c: float, delta0: float) -> np.ndarray:
    r"""BCS-shaped law :math:`\Delta_{col}(T) = \Delta_0\,g(T/T_c)` [meV] (kept for callers).

    The registered model is ``delta_col_temperature``
    (:func:`fitkit.models.series_laws.delta_col_temperature_mev`).

    Parameters
    ----------
    temperature
        Temperature [K].
    t_c
        Critical temperature [K].
    delta0
        Zero-temperature value [meV].

    Returns
    -------
    numpy.ndarray
        :math:`\Delta_{col}` [meV], 0 above :math:`T_c` (:func:`fitkit.physics.bcs.bcs_gap`).
    """
    return delta_col_temperature_mev(temperature, t_c, delta0)


def fit_delta_col_law(
    temperature: ArrayLike,
    delta_col: ArrayLike,
    delta_col_stderr: ArrayLike | None = None,
    *,
    t_c_above_data: bool = True,
    t_c_guess: float | None = None,
    delta_col0_guess: float | None = None,
    sample_id: str = "",
    uncertainty: str = "auto",
) -> FitRecord:
    r"""Fit :math:`\Delta_{col}(T) = \Delta_{col}(0)\,\delta_{BCS}(T/T_c)` (model ``delta_col_temperature``).

    Pure: arrays in, a :class:`~fitkit.fitting.record.FitRecord` out, through
    :func:`fitkit.fitting.fit_curve` (Levenberg-Marquardt; weights :math:`1/\sigma_i`, covariance
    scaled by the reduced chi-square, as lmfit does by default).

    Parameters
    ----------
    temperature
        Temperatures [K].
    delta_col
        Collective gaps [meV] fitted per spectrum.
    delta_col_stderr
        Their standard errors [meV] (> 0; floored at 1e-12); None: unweighted.
    t_c_above_data
        Bound :math:`T_c \ge 1.0001\,\max T` (every fitted spectrum shows a collective gap).
    t_c_guess, delta_col0_guess
        Start values (default: 1.1 x the highest temperature; the largest gap).
    sample_id
        Copied into the record.
    uncertainty
        Interval method of :func:`fitkit.fitting.fit_curve` (``"auto"``, ``"linear"``, ``"profile"``,
        ``"bootstrap"``).

    Returns
    -------
    FitRecord
        ``model_key = "delta_col_temperature"``; values ``t_c`` [K] and ``delta_col0`` [meV] with
        stderr, correlations, verdict and warnings of the fitter (``at_bound["t_c"]`` when
        :math:`T_c` sits on the highest temperature); ``derived["gap_ratio"]`` =
        :math:`\Delta_{col}(0)/k_BT_c` with its error; ``x_column = "temperature_K"``,
        ``y_column = "delta_col_meV"``; ``meta["points"]`` (``temperature_K``, ``delta_col_meV``,
        ``delta_col_meV_stderr``).

    Raises
    ------
    DataValidationError
        If lengths differ, fewer than 3 finite points are given, or an error is not positive.
    """
    t, d, e = clean_series("fit_delta_col_law", temperature, delta_col, delta_col_stderr,
                            ("temperature", "delta_col", "delta_col_stderr"), "meV")
    model = DeltaColTemperatureModel()
    pars = model.guess(d, t)
    if t_c_above_data:
        pars["t_c"].set(min=float(t.max()) * 1.0001)
    pars["t_c"].set(value=1.1 * float(t.max()) if t_c_guess is None else float(t_c_guess))
    if delta_col0_guess is not None:
        pars["delta_col0"].set(value=float(delta_col0_guess))
    sweep = Sweep(pd.DataFrame({"temperature_K": t, "delta_col_meV": d}), SweepMeta(sample_id=sample_id))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitQualityWarning)
        rec = fit_curve(sweep, model, pars, x="temperature_K", y="delta_col_meV",
                        weights=None if e is None else 1.0 / np.maximum(e, 1e-12), uncertainty=uncertainty)
    meta = {**rec.meta, "weighted": e is not None,
            "points": {"temperature_K": t.tolist(), "delta_col_meV": d.tolist(),
                       "delta_col_meV_stderr": e.tolist() if e is not None else []}}
    if not rec.success or "delta_col0" not in rec.values:
        return dataclasses.replace(rec, meta=meta)
    ratio, ratio_err = gap_ratio(rec, "delta_col0")
    return dataclasses.replace(rec, meta=meta, derived={**rec.derived, "gap_ratio": ratio},
                               derived_stderr={**rec.derived_stderr, "gap_ratio": ratio_err},
                               derived_units={**rec.derived_units, "gap_ratio": "1"})


@dataclass(frozen=True)
class TemperatureSeriesResult:
    r"""Result of :func:`fit_temperature_series`.

    Attributes
    ----------
    table
        One row per spectrum (columns as in :func:`fit_contact_series` plus ``temperature_K``).
    t_c, t_c_stderr
        :math:`T_c` [K] of the BCS-law fit and its standard error.
    delta0, delta0_stderr
        :math:`\Delta_{col}(0)` [meV] and its standard error.
    ratio
        :math:`\Delta_{col}(0)/k_BT_c` (BCS weak coupling: 1.764).
    redchi
        Reduced chi-square of the law fit (weights 1/stderr of :math:`\Delta_{col}`).
    law
        The record of the law fit (:func:`fit_delta_col_law`, model ``delta_col_temperature``).
    records
        The per-spectrum records of :func:`fitkit.fitting.fit_curve`, in table order.
    """

    table: pd.DataFrame
    t_c: float
    t_c_stderr: float
    delta0: float
    delta0_stderr: float
    ratio: float
    redchi: float
    law: FitRecord | None = field(default=None, repr=False, compare=False)
    records: tuple[FitRecord, ...] = field(default=(), repr=False, compare=False)


def fit_temperature_series(
    sweeps: Sequence[Sweep],
    temperature_K: Sequence[float] | None = None,
    *,
    v_mod_rms_mV: float = 0.0,
    form: Literal["pm2", "pm1", "pm3"] = "pm2",
    hold: tuple[str, ...] = ("delta", "gamma", "z"),
) -> TemperatureSeriesResult:
    r"""Fit :math:`\Delta_{col}` at each temperature of one contact, then the BCS law for :math:`T_c`.

    Parameters
    ----------
    sweeps
        Normalised spectra of one contact.
    temperature_K
        Temperatures [K] (None: read ``temperature_K`` from the sweeps' metadata).
    v_mod_rms_mV
        Lock-in modulation [mV rms] (fixed).
    form
        Collective-gap form (``"pm2"`` default; phenomenological).
    hold
        Parameters fitted freely at the lowest temperature only and then held fixed (the
        single-particle gap stays pseudogap-like; barrier and broadening belong to the contact).
        Holding them removes their degeneracy with :math:`\Delta_{col}` near :math:`T_c`.

    Returns
    -------
    TemperatureSeriesResult
        Per-spectrum table, :math:`T_c`, :math:`\Delta_{col}(0)`, their errors, the records.

    Raises
    ------
    DataValidationError
        If fewer than 3 spectra are fitted successfully.
    """
    temps = np.asarray(_temperatures(sweeps, temperature_K))
    order = np.argsort(temps)
    rows = []
    records: list[FitRecord] = []
    held: dict[str, float] = {}
    prev_dcol = math.nan
    for k, i in enumerate(order):
        fixed = {"temperature": float(temps[i]), "v_mod": v_mod_rms_mV, **held}
        bounds = None
        overrides: dict[str, Any] = {}
        if k > 0 and np.isfinite(prev_dcol):
            overrides["delta_col"] = prev_dcol
            bounds = {"delta_col": (0.0, held.get("delta", np.inf))}
        rec = _fit(sweeps[i], "andreev_collective", {"form": form}, overrides, bounds=bounds, fixed=fixed)
        if k == 0:
            held = {p: rec.values[p] for p in hold}
        if rec.success:
            prev_dcol = rec.values["delta_col"]
        rows.append(_row(rec, regime="andreev"))
        records.append(rec)
    table = pd.DataFrame(rows)
    ok = table["success"].to_numpy(dtype=bool) & np.isfinite(table["delta_col_meV_stderr"].to_numpy())
    if ok.sum() < 3:
        raise DataValidationError(f"temperature series: only {int(ok.sum())} spectra fitted; need at least 3")
    t, d, e = (table[c].to_numpy()[ok] for c in ("temperature_K", "delta_col_meV", "delta_col_meV_stderr"))
    law = fit_delta_col_law(t, d, e)
    if not law.success:
        raise FitError(f"temperature series: the BCS-law fit of {t.size} points failed ({law.message})")
    tc, d0 = law.values["t_c"], law.values["delta_col0"]
    return TemperatureSeriesResult(
        table=table,
        t_c=float(tc),
        t_c_stderr=law.stderr["t_c"],
        delta0=float(d0),
        delta0_stderr=law.stderr["delta_col0"],
        ratio=float(d0 / (K_B_MEV_PER_K * tc)),
        redchi=law.redchi,
        law=law,
        records=tuple(records),
    )
