"""The sample table: rows ``{id, <quantity>_<unit>: number, ...}`` given inline or as a CSV file.

Numeric columns carry their unit in the name (``width_nm``, ``r_sq_ohm_per_sq``; see
:func:`fitkit.units.parse_column`); the columns of a known quantity (:data:`SAMPLE_QUANTITIES`) must
have a unit of that quantity.  Other columns are kept as text.  Ids are unique.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from fitkit import units as _units
from fitkit.config.schema import FrozenDict, Sample, freeze
from fitkit.config.spec import Problems, did_you_mean, is_number, short
from fitkit.config.unitcheck import quantity_mismatch, quantity_tokens

__all__ = ["SAMPLE_QUANTITIES", "read_samples", "sample_column"]

SAMPLE_QUANTITIES: dict[str, str | None] = {
    "width": "length",
    "length": "length",
    "thickness": "length",
    "diameter": "length",
    "xi": "length",
    "r_sq": "sheet_resistance",
    "r_n": "resistance",
    "t_c": "temperature",
    "area": None,
}
"""Sample-table columns whose quantity is known: a bare name or a unit of another quantity is an error."""


def _csv_rows(rel: Any, base: Path, problems: Problems) -> list[tuple[str, Mapping[str, Any]]] | None:
    if not isinstance(rel, str):
        problems.add("samples.csv", "expected the path of a CSV file with one row per sample")
        return None
    p = (base / rel).resolve()
    if not p.is_file():
        problems.add("samples.csv", f"'{rel}' does not exist (relative to {base})")
        return None
    try:
        frame = pd.read_csv(p, comment="#", skipinitialspace=True)
    except (ValueError, OSError) as err:
        problems.add("samples.csv", f"'{rel}' could not be read as CSV: {err}")
        return None
    rows: list[tuple[str, Mapping[str, Any]]] = []
    for i, rec in enumerate(frame.to_dict(orient="records")):
        clean = {
            str(k).strip(): (None if isinstance(v, float) and math.isnan(v) else v) for k, v in rec.items()
        }
        rows.append((f"samples.csv[row {i + 2}]", clean))
    return rows


def read_samples(raw: Any, base: Path, problems: Problems) -> list[Sample]:
    """The sample rows of the ``samples:`` section (a list of rows, ``{csv: FILE}`` or ``FILE``)."""
    if raw is None:
        return []
    rows: list[tuple[str, Mapping[str, Any]]] = []
    if isinstance(raw, (str, Mapping)):
        if isinstance(raw, Mapping):
            for k in raw:
                if k != "csv":
                    problems.add(
                        f"samples.{k}", f"unknown key{did_you_mean(k, ['csv'])}; valid keys are ['csv']"
                    )
        got = _csv_rows(raw.get("csv") if isinstance(raw, Mapping) else raw, base, problems)
        if got is None:
            return []
        rows = got
    elif isinstance(raw, list):
        for i, rec in enumerate(raw):
            if not isinstance(rec, Mapping):
                problems.add(f"samples[{i}]", "expected a mapping such as {id: W1, width_nm: 100}")
                continue
            rows.append((f"samples[{i}]", rec))
    else:
        problems.add("samples", "expected a list of rows, or {csv: FILE}")
        return []
    out: list[Sample] = []
    seen: set[str] = set()
    for path, rec in rows:
        sample = _row(path, rec, problems)
        if sample is None:
            continue
        if sample.id in seen:
            problems.add(f"{path}.id", f"duplicate sample id '{sample.id}'")
        seen.add(sample.id)
        out.append(sample)
    return out


def _row(path: str, rec: Mapping[str, Any], problems: Problems) -> Sample | None:
    sid = rec.get("id")
    if sid is None or (isinstance(sid, float) and math.isnan(sid)):
        problems.add(f"{path}.id", "missing; every sample needs an id")
        return None
    values: dict[str, float] = {}
    text: dict[str, Any] = {}
    for key, v in rec.items():
        if key == "id" or v is None:
            continue
        key = str(key)
        try:
            qty, unit = _units.parse_column(key)
        except _units.UnitError:
            qty, unit = key, None
        if unit is None:
            if key in SAMPLE_QUANTITIES:
                q = SAMPLE_QUANTITIES[key]
                hint = f" such as {key}_{quantity_tokens(q)[0]}" if q else ""
                problems.add(f"{path}.{key}", f"a number needs a unit suffix{hint} (<quantity>_<unit>)")
            else:
                text[key] = v
            continue
        if not is_number(v):
            problems.add(f"{path}.{key}", f"{short(v)} is not a number")
            continue
        expected = SAMPLE_QUANTITIES.get(qty)
        if expected and _units.UNITS[unit].quantity != expected:
            problems.add(f"{path}.{key}", quantity_mismatch(unit, expected))
            continue
        values[f"{qty}_{unit}"] = float(v)
    return Sample(id=str(sid), values=FrozenDict(values), text=freeze(text))


def sample_column(samples: Iterable[Sample], name: str) -> str | None:
    """The numeric sample-table column ``name`` refers to (exact column or bare quantity), or None.

    ``"thickness_nm"`` and ``"thickness"`` both give ``"thickness_nm"`` when the table has it.
    """
    cols = list(dict.fromkeys(c for s in samples for c in s.values))
    if name in cols:
        return name
    for c in cols:
        try:
            if _units.parse_column(c)[0] == name:
                return c
        except _units.UnitError:
            continue
    return None
