"""Tables of fit results and the CSV / JSON / HDF5 writers.

This is where display units are applied (never upstream).  Parameter values live in the
records in their declared units (``meV``, ``K``, ``ohm``); a ``display_units`` mapping may
ask for another unit of the same quantity.  Its keys are matched, in this order, against

1. the full (prefixed) parameter name (``"gap1_delta"``),
2. an unprefixed parameter name (``"delta"`` also matches ``gap1_delta``),
3. the stored unit token (``"ohm": "kohm"`` shows every resistance in kOhm),
4. the physical quantity (``"energy": "ueV"``, ``"temperature": "mK"``).

Table columns follow the ``<name>_<unit>`` convention: ``delta_meV``, ``delta_meV_stderr``,
``r_n_kohm``; dimensionless parameters have no suffix (``z``, ``z_stderr``).

HDF5 layout (:func:`write_hdf5`, read back by :func:`read_hdf5`)::

    /                         attrs: format="fitkit-records", layout_version=1,
                                     fitkit_version, created (ISO time), n_records
    /records/<NNNN>           one group per record, NNNN = 0000, 0001 ... in input order
        attrs                 sample_id, source_path, model_key, x_column, y_column,
                              success (bool), message, redchi, chisqr, aic, bic, nfev,
                              ndata, nvarys, config_digest,
                              warnings, options, meta (JSON text)
        parameters/           aligned 1-D datasets over the fit parameters, declared units:
            name, unit        UTF-8 strings
            value, stderr, init   float64 (NaN = unknown)
            vary, at_bound    bool
        correlation           (n, n) float64 in ``parameters/name`` order; 1 on the diagonal of
                              varied parameters, NaN where not estimated
        derived/              name, unit (strings), value, stderr (float64)
        curve/                only when the lmfit result is in memory: x, data, best_fit
                              (float64, SI units of x_column / y_column, fitted points only)

Values in HDF5 and in :func:`write_json` without ``display_units`` are in the declared units;
each file states the unit next to every value.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fitkit.fitting.record import FitRecord
from fitkit.report.writer import atomic_write_bytes, atomic_write_csv, atomic_write_json, json_default
from fitkit.units import DIMENSIONLESS, UNITS, UnitError, canonical_unit, convert

__all__ = [
    "PARAMETER_TABLE_COLUMNS",
    "RECORD_COLUMNS",
    "auto_display_unit",
    "parameter_table",
    "read_hdf5",
    "record_to_json",
    "records_to_frame",
    "records_to_json",
    "resolve_display_unit",
    "value_column",
    "write_csv",
    "write_hdf5",
    "write_json",
]

RECORD_COLUMNS: tuple[str, ...] = (
    "sample_id", "model_key", "source", "success", "verdict", "verdict_reasons", "chi2_noise", "noise_method",
    "error_scale", "redchi", "chisqr", "aic", "bic", "nfev", "ndata", "nvarys", "message", "warnings",
    "intervals",
)
"""Leading columns of :func:`records_to_frame`; parameter columns follow."""

PARAMETER_TABLE_COLUMNS: tuple[str, ...] = (
    "name", "value", "stderr", "lower", "upper", "interval", "unit", "vary", "at_bound", "init",
    "description", "kind",
)
"""Columns of :func:`parameter_table` (``kind`` is ``"parameter"`` or ``"derived"``)."""

_AUTO_CHOICES: dict[str, tuple[str, ...]] = {
    "voltage": ("V", "mV", "uV"),
    "current": ("A", "mA", "uA", "nA", "pA"),
    "conductance": ("S", "mS", "uS", "nS"),
    "resistance": ("Mohm", "kohm", "ohm"),
    "temperature": ("K", "mK"),
    "field": ("T", "mT"),
    "energy": ("eV", "meV", "ueV"),
    "length": ("m", "um", "nm"),
}


def _version() -> str:
    try:
        return version("fitkit")
    except PackageNotFoundError:
        return "unknown"


# --------------------------------------------------------------------------------------------
# display units
# --------------------------------------------------------------------------------------------
def resolve_display_unit(name: str, unit: str, display_units: Mapping[str, str] | None = None) -> str:
    """Return the unit token in which to show quantity ``name`` stored in ``unit``.

    Parameters
    ----------
    name
        Parameter or column quantity name (``"gap1_delta"``, ``"bias"``).
    unit
        Unit token the value is stored in (``"meV"``).
    display_units
        Overrides; keys are matched against the full name, an unprefixed name, the unit token
        and the physical quantity, in that order (see the module docstring).

    Returns
    -------
    str
        A unit token of the same quantity, or ``unit`` itself when nothing matches or the unit
        is not in the vocabulary.

    Raises
    ------
    fitkit.units.UnitError
        If the requested display unit is unknown or measures another quantity.
    """
    if not display_units or unit not in UNITS or unit == DIMENSIONLESS:
        return unit
    target = display_units.get(name)
    if target is None:
        suffixes = [k for k in display_units if name.endswith("_" + k)]
        if suffixes:
            target = display_units[max(suffixes, key=len)]
    if target is None:
        target = display_units.get(unit, display_units.get(UNITS[unit].quantity))
    if target is None:
        return unit
    token = canonical_unit(str(target))
    if UNITS[token].quantity != UNITS[unit].quantity:
        raise UnitError(
            f"display unit '{target}' for '{name}' is a {UNITS[token].quantity} unit; "
            f"'{name}' is a {UNITS[unit].quantity} in '{unit}'"
        )
    return token


def auto_display_unit(unit: str, values: Any) -> str:
    """Pick a readable unit of the same quantity for plotting ``values`` (stored in ``unit``).

    The largest unit in which the largest finite magnitude is at least 1 is chosen
    (``0.3 K`` -> ``mK``, ``4500 ohm`` -> ``kohm``, ``2e-5 S`` -> ``uS``).

    Parameters
    ----------
    unit
        Stored unit token.
    values
        Array-like of values in ``unit``.

    Returns
    -------
    str
        A unit token (``unit`` itself for quantities without a choice list, e.g. ``norm``).
    """
    if unit not in UNITS:
        return unit
    choices = _AUTO_CHOICES.get(UNITS[unit].quantity)
    arr = np.abs(np.asarray(values, dtype=float))
    arr = arr[np.isfinite(arr) & (arr > 0)]
    if not choices or arr.size == 0:
        return unit
    top = float(arr.max())
    for token in choices:
        if convert(top, unit, token) >= 1.0:
            return token
    return choices[-1]


def value_column(name: str, unit: str) -> str:
    """Table column of a value: ``("delta", "meV")`` -> ``"delta_meV"``; dimensionless -> ``"z"``."""
    return name if unit in ("", DIMENSIONLESS) else f"{name}_{unit}"


def _convert(value: float, unit: str, to: str) -> float:
    if to == unit or value is None:
        return math.nan if value is None else float(value)
    return float(convert(float(value), unit, to))


def _entries(record: FitRecord) -> list[tuple[str, str, float, float, str]]:
    """(name, unit, value, stderr, kind) for parameters then derived quantities.

    lmfit reports a zero stderr for fixed parameters; that is "not estimated", shown as NaN
    (constrained ``expr`` parameters keep their propagated, non-zero stderr).
    """
    out = []
    for n, v in record.values.items():
        err = record.stderr.get(n, math.nan)
        if not record.vary.get(n, True) and err == 0:
            err = math.nan
        out.append((n, record.units.get(n, ""), v, err, "parameter"))
    out += [(n, record.derived_units.get(n, ""), v, record.derived_stderr.get(n, math.nan), "derived")
            for n, v in record.derived.items()]
    return out


# --------------------------------------------------------------------------------------------
# frames
# --------------------------------------------------------------------------------------------
def _float(v: Any) -> float:
    return float(v) if isinstance(v, (int, float)) else math.nan


def interval_label(record: FitRecord, name: str) -> str:
    """How the interval of ``name`` was obtained: ``"linear"``, ``"profile"``, ``"profile, upper limit"``."""
    method = record.interval_method.get(name, "")
    kind = record.interval_kind.get(name, "")
    if not method:
        return ""
    return method if kind in ("", "two-sided") else f"{method}, {kind}"


def records_to_frame(records: Iterable[FitRecord],
                     display_units: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per record: identifiers, statistics and every parameter in display units.

    Parameters
    ----------
    records
        Fit records (any mix of models; missing parameters are NaN).
    display_units
        Display-unit overrides (see :func:`resolve_display_unit`); default: declared units.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`RECORD_COLUMNS` (``source`` is the source path, ``warnings`` joined with
        ``"; "``), then for each parameter and derived quantity ``<name>_<unit>`` and
        ``<name>_<unit>_stderr`` (e.g. ``delta_meV``, ``delta_meV_stderr``).

    Raises
    ------
    fitkit.units.UnitError
        If a display unit does not fit the quantity.
    """
    rows: list[dict[str, Any]] = []
    value_cols: list[str] = []
    seen: set[str] = set()
    for rec in records:
        row: dict[str, Any] = {
            "sample_id": rec.sample_id, "model_key": rec.model_key, "source": rec.source_path,
            "success": bool(rec.success), "verdict": rec.verdict,
            "verdict_reasons": "; ".join(rec.verdict_reasons),
            "chi2_noise": _float(rec.quality.get("chi2_noise")),
            "noise_method": rec.quality.get("noise_method", ""),
            "error_scale": _float(rec.quality.get("error_scale")),
            "redchi": rec.redchi, "chisqr": rec.chisqr, "aic": rec.aic,
            "bic": rec.bic, "nfev": rec.nfev, "ndata": rec.ndata, "nvarys": rec.nvarys,
            "message": rec.message, "warnings": "; ".join(rec.warnings),
            "intervals": "; ".join(f"{n}: {interval_label(rec, n)}" for n in rec.interval_method
                                   if rec.interval_method[n] != "linear"
                                   or rec.interval_kind.get(n, "two-sided") != "two-sided"),
        }
        for name, unit, val, err, _kind in _entries(rec):
            du = resolve_display_unit(name, unit, display_units)
            col = value_column(name, du)
            row[col] = _convert(val, unit, du)
            row[col + "_stderr"] = _convert(err, unit, du)
            cols = [col, col + "_stderr"]
            if _kind == "parameter" and (rec.vary.get(name) or name in rec.lower):
                row[col + "_lower"] = _convert(rec.lower.get(name, math.nan), unit, du)
                row[col + "_upper"] = _convert(rec.upper.get(name, math.nan), unit, du)
                cols += [col + "_lower", col + "_upper"]
            for c in cols:
                if c not in seen:
                    seen.add(c)
                    value_cols.append(c)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=[*RECORD_COLUMNS, *value_cols])
    return frame.astype(dict.fromkeys(value_cols, float))


def _descriptions(model_key: str) -> dict[str, str]:
    """Unprefixed parameter name -> description from the registered model classes."""
    from fitkit.models import MODEL_REGISTRY

    out: dict[str, str] = {}
    for key in model_key.split("+"):
        cls = MODEL_REGISTRY.get(key)
        for spec in getattr(cls, "param_specs", ()):
            out.setdefault(spec.name, spec.description)
    return out


def _describe(name: str, desc: Mapping[str, str]) -> str:
    if name in desc:
        return desc[name]
    hits = [k for k in desc if name.endswith("_" + k)]
    return desc[max(hits, key=len)] if hits else ""


def parameter_table(record: FitRecord, display_units: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Table of one fit: one row per parameter, then one per derived quantity.

    Parameters
    ----------
    record
        The fit.
    display_units
        Display-unit overrides (see :func:`resolve_display_unit`).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PARAMETER_TABLE_COLUMNS`: ``name``, ``value``, ``stderr`` (NaN when not
        estimated or fixed), ``unit`` (display token), ``vary``, ``at_bound``, ``init`` (start
        value), ``description`` (from the model's ``ParamSpec``), ``kind``.

    Raises
    ------
    fitkit.units.UnitError
        If a display unit does not fit the quantity.
    """
    desc = _descriptions(record.model_key)
    rows = []
    for name, unit, val, err, kind in _entries(record):
        du = resolve_display_unit(name, unit, display_units)
        is_par = kind == "parameter"
        rows.append({
            "name": name,
            "value": _convert(val, unit, du),
            "stderr": _convert(err, unit, du),
            "lower": _convert(record.lower.get(name, math.nan), unit, du) if is_par else math.nan,
            "upper": _convert(record.upper.get(name, math.nan), unit, du) if is_par else math.nan,
            "interval": interval_label(record, name) if is_par else "",
            "unit": du,
            "vary": bool(record.vary.get(name, False)) if is_par else False,
            "at_bound": bool(record.at_bound.get(name, False)) if is_par else False,
            "init": _convert(record.init_values.get(name, math.nan), unit, du) if is_par else math.nan,
            "description": _describe(name, desc) if is_par else "derived from the fit parameters",
            "kind": kind,
        })
    frame = pd.DataFrame(rows, columns=list(PARAMETER_TABLE_COLUMNS))
    for c in ("value", "stderr", "lower", "upper", "init"):
        frame[c] = frame[c].astype(float)
    for c in ("vary", "at_bound"):
        frame[c] = frame[c].astype(bool)
    return frame


# --------------------------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------------------------
def record_to_json(record: FitRecord, display_units: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Plain-dict form of one record for JSON files (values next to their units).

    Returns
    -------
    dict
        Keys ``sample_id``, ``model_key``, ``source_path``, ``x_column``, ``y_column``,
        ``success``, ``verdict``, ``verdict_reasons``, ``quality``, ``message``, ``warnings``,
        ``parameters`` (name -> value, stderr, lower, upper, interval_method, interval_kind, unit,
        vary, at_bound, init), ``derived`` (name -> value, stderr, unit), ``correlations``,
        ``statistics`` (redchi, chisqr, aic, bic, nfev, ndata, nvarys), ``options`` and
        ``provenance`` (source_path, loader, config_digest, extra metadata, fitkit version).
        NaN is written as null by the writers.
    """
    params: dict[str, Any] = {}
    derived: dict[str, Any] = {}
    for name, unit, val, err, kind in _entries(record):
        du = resolve_display_unit(name, unit, display_units)
        item = {"value": _convert(val, unit, du), "stderr": _convert(err, unit, du), "unit": du}
        if kind == "parameter":
            item.update(vary=bool(record.vary.get(name, False)),
                        at_bound=bool(record.at_bound.get(name, False)),
                        lower=_convert(record.lower.get(name, math.nan), unit, du),
                        upper=_convert(record.upper.get(name, math.nan), unit, du),
                        interval_method=record.interval_method.get(name, ""),
                        interval_kind=record.interval_kind.get(name, ""),
                        init=_convert(record.init_values.get(name, math.nan), unit, du))
            params[name] = item
        else:
            derived[name] = item
    meta = dict(record.meta) if isinstance(record.meta, Mapping) else {}
    return {
        "sample_id": record.sample_id,
        "model_key": record.model_key,
        "source_path": record.source_path,
        "x_column": record.x_column,
        "y_column": record.y_column,
        "success": bool(record.success),
        "verdict": record.verdict,
        "verdict_reasons": list(record.verdict_reasons),
        "quality": dict(record.quality),
        "message": record.message,
        "warnings": list(record.warnings),
        "parameters": params,
        "derived": derived,
        "correlations": {k: dict(v) for k, v in record.correlations.items()},
        "statistics": {"redchi": record.redchi, "chisqr": record.chisqr, "aic": record.aic,
                       "bic": record.bic, "nfev": record.nfev, "ndata": record.ndata,
                       "nvarys": record.nvarys},
        "options": dict(record.options),
        "provenance": {"source_path": record.source_path, "loader": meta.get("loader", ""),
                       "config_digest": record.config_digest, "extra": meta.get("extra", {}),
                       "fitkit_version": _version()},
        "notes": meta.get("notes"),
    }


def records_to_json(records: Iterable[FitRecord],
                    display_units: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """:func:`record_to_json` for each record."""
    return [record_to_json(r, display_units) for r in records]


def write_json(path: str | os.PathLike[str], records: Iterable[FitRecord],
               display_units: Mapping[str, str] | None = None) -> Path:
    """Write records as JSON ``{"format": "fitkit-records", "version": 1, "records": [...]}``.

    Each record is :func:`record_to_json`; NaN becomes null.  The write is atomic.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    OSError
        If the file cannot be written.
    """
    doc = {"format": "fitkit-records", "version": 1, "fitkit_version": _version(),
           "records": records_to_json(records, display_units)}
    return atomic_write_json(path, doc)


def write_csv(path: str | os.PathLike[str], records: Iterable[FitRecord] | pd.DataFrame,
              display_units: Mapping[str, str] | None = None) -> Path:
    """Write :func:`records_to_frame` (or a ready frame) as CSV, atomically.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    OSError
        If the file cannot be written.
    """
    frame = records if isinstance(records, pd.DataFrame) else records_to_frame(records, display_units)
    return atomic_write_csv(path, frame)


# --------------------------------------------------------------------------------------------
# HDF5
# --------------------------------------------------------------------------------------------
def _str_array(items: Sequence[str]) -> np.ndarray:
    import h5py

    return np.array(list(items), dtype=h5py.string_dtype())


def _correlation_matrix(record: FitRecord, names: list[str]) -> np.ndarray:
    n = len(names)
    mat = np.full((n, n), np.nan)
    for i, a in enumerate(names):
        if record.vary.get(a, False) and math.isfinite(record.stderr.get(a, math.nan)):
            mat[i, i] = 1.0
        for j, b in enumerate(names):
            c = record.correlations.get(a, {}).get(b)
            if c is not None:
                mat[i, j] = mat[j, i] = c
    return mat


def write_hdf5(path: str | os.PathLike[str], records: Iterable[FitRecord]) -> Path:
    """Write records to an HDF5 file with the layout given in the module docstring, atomically.

    Parameters
    ----------
    path
        Destination ``.h5`` file (replaced as a whole).
    records
        Fit records; values are stored in their declared units.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    OSError
        If the file cannot be written.
    """
    import h5py

    records = list(records)
    buf = io.BytesIO()
    with h5py.File(buf, "w") as h5:
        h5.attrs.update(format="fitkit-records", layout_version=1, fitkit_version=_version(),
                        created=_dt.datetime.now(_dt.UTC).isoformat(), n_records=len(records))
        top = h5.create_group("records")
        for i, rec in enumerate(records):
            g = top.create_group(f"{i:04d}")
            g.attrs.update(
                sample_id=rec.sample_id, source_path=rec.source_path, model_key=rec.model_key,
                x_column=rec.x_column, y_column=rec.y_column, success=bool(rec.success),
                message=rec.message, redchi=rec.redchi, chisqr=rec.chisqr, aic=rec.aic, bic=rec.bic,
                nfev=rec.nfev, ndata=rec.ndata, nvarys=rec.nvarys, config_digest=rec.config_digest,
                warnings=json.dumps(list(rec.warnings)),
                options=json.dumps(rec.options, default=json_default),
                meta=json.dumps(rec.meta, default=json_default),
            )
            names = list(rec.values)
            p = g.create_group("parameters")
            p["name"] = _str_array(names)
            p["unit"] = _str_array([rec.units.get(n, "") for n in names])
            p["value"] = np.array([rec.values[n] for n in names], dtype=float)
            p["stderr"] = np.array([rec.stderr.get(n, math.nan) for n in names], dtype=float)
            p["init"] = np.array([rec.init_values.get(n, math.nan) for n in names], dtype=float)
            p["vary"] = np.array([bool(rec.vary.get(n, False)) for n in names], dtype=bool)
            p["at_bound"] = np.array([bool(rec.at_bound.get(n, False)) for n in names], dtype=bool)
            g["correlation"] = _correlation_matrix(rec, names)
            dnames = list(rec.derived)
            d = g.create_group("derived")
            d["name"] = _str_array(dnames)
            d["unit"] = _str_array([rec.derived_units.get(n, "") for n in dnames])
            d["value"] = np.array([rec.derived[n] for n in dnames], dtype=float)
            d["stderr"] = np.array([rec.derived_stderr.get(n, math.nan) for n in dnames], dtype=float)
            res = rec.result
            if res is not None and getattr(res, "best_fit", None) is not None:
                xname = res.model.independent_vars[0]
                c = g.create_group("curve")
                c["x"] = np.asarray(res.userkws[xname], dtype=float)
                c["data"] = np.asarray(res.data, dtype=float)
                c["best_fit"] = np.asarray(res.best_fit, dtype=float)
    return atomic_write_bytes(path, buf.getvalue())


def _strs(ds: Any) -> list[str]:
    return [s.decode() if isinstance(s, bytes) else str(s) for s in ds[()]]


def read_hdf5(path: str | os.PathLike[str]) -> list[FitRecord]:
    """Read records written by :func:`write_hdf5` (the ``curve`` group is not restored).

    Returns
    -------
    list of FitRecord
        In file order.

    Raises
    ------
    OSError
        If the file cannot be opened.
    ValueError
        If the file is not a fitkit records file.
    """
    import h5py

    out = []
    with h5py.File(path, "r") as h5:
        if h5.attrs.get("format") != "fitkit-records":
            raise ValueError(f"{path}: not a fitkit records file (attribute format != 'fitkit-records')")
        for key in sorted(h5["records"]):
            g = h5["records"][key]
            a = g.attrs
            p, d = g["parameters"], g["derived"]
            names = _strs(p["name"])
            corr_m = g["correlation"][()]
            corr: dict[str, dict[str, float]] = {}
            for i, n in enumerate(names):
                row = {m: float(corr_m[i, j]) for j, m in enumerate(names)
                       if j != i and np.isfinite(corr_m[i, j])}
                if row:
                    corr[n] = row
            dnames = _strs(d["name"])
            out.append(FitRecord(
                model_key=str(a["model_key"]), sample_id=str(a["sample_id"]),
                source_path=str(a["source_path"]), x_column=str(a["x_column"]), y_column=str(a["y_column"]),
                values=dict(zip(names, map(float, p["value"][()]), strict=True)),
                stderr=dict(zip(names, map(float, p["stderr"][()]), strict=True)),
                units=dict(zip(names, _strs(p["unit"]), strict=True)),
                vary=dict(zip(names, map(bool, p["vary"][()]), strict=True)),
                at_bound=dict(zip(names, map(bool, p["at_bound"][()]), strict=True)),
                init_values=dict(zip(names, map(float, p["init"][()]), strict=True)),
                correlations=corr,
                derived=dict(zip(dnames, map(float, d["value"][()]), strict=True)),
                derived_stderr=dict(zip(dnames, map(float, d["stderr"][()]), strict=True)),
                derived_units=dict(zip(dnames, _strs(d["unit"]), strict=True)),
                redchi=float(a["redchi"]), chisqr=float(a["chisqr"]),
                aic=float(a["aic"]), bic=float(a["bic"]),
                nfev=int(a["nfev"]), ndata=int(a["ndata"]), nvarys=int(a["nvarys"]),
                success=bool(a["success"]), message=str(a["message"]),
                warnings=tuple(json.loads(a["warnings"])), options=json.loads(a["options"]),
                meta=json.loads(a["meta"]), config_digest=str(a["config_digest"]),
            ))
    return out
