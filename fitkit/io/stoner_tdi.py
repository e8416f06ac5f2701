"""Stoner-lab "TDI Format 1.5" loader (format key ``"stoner_tdi"``).

The Leeds Condensed Matter group's LabVIEW programs and the ``Stoner`` Python package write
tab-separated Latin-1 text files in which

* the first cell of row 0 is ``TDI Format 1.5`` and the other cells of row 0 are column names;
* column 0 of every later row holds one metadata item ``key{Type}=value`` (or is blank), and the
  other cells hold the data.

The metadata go to ``meta.raw_header`` with typed values: ``{Double Float}``/``{Single Float}`` ->
float, integer types (``{I32}``, ``{U16}`` ...) -> int, ``{Boolean}`` -> bool, anything else
(``{String}``, ``{Path}``, enums, clusters, arrays) -> the text as written.  A value that does not
parse as its declared type is kept as text.  ``raw_header["TDI Format"]`` holds the version.

Two ways to choose columns
--------------------------
**R(T)** (default): the resistance column is the one ``<sample>::R`` column (``resistance=`` picks
one when the file has several, e.g. the Nb-film file has ``YIG-Nb-Co::R``, ``Nb::R``,
``YIG-Co-Nb::R``).  The temperature column defaults to ``temperature: T2`` when present: the
PROVENANCE note of the Leeds Nb-film data says T2 is the sample thermometer used by the authors'
own analysis script (T1 is the other cryostat sensor; T3/T4 are unused and hold NaN).  TDI files
carry no units: the Leeds transport programs record ``::R`` in ohm and ``temperature: *`` in
kelvin, which is the default here; ``units=`` overrides it.  ``sample_id`` defaults to the text
before ``::`` of the resistance column.

**Any two columns** (``x=``, ``y=``): the kind follows from the x unit (temperature -> R(T),
voltage -> bias sweep) and the units must be declared with ``units=`` (the PCAR file has ``V`` in
mV, stated nowhere: ``units={'V': 'mV'}, normalized=True``).

``ramp=`` keeps only rows whose ``iterator`` column equals the given value(s) (the Nb-film file
holds two temperature ramps, iterator 0 and 1).  The common row policy of
:mod:`fitkit.io._common` then applies (NaN rows dropped and counted, R(T) sorted with exact
duplicate temperatures averaged, bias sweeps kept in file order).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fitkit.errors import LoaderError, MissingColumnError
from fitkit.io._common import (
    ColumnPlan,
    build_sweep,
    canonical_target,
    decode,
    kind_from_x_unit,
    parse_numeric,
    sniff_text,
    split_lines,
    split_table,
    y_quantity,
)
from fitkit.io._registry import register_loader
from fitkit.io.base import Loader
from fitkit.io.sweep import Sweep

__all__ = ["StonerTDILoader", "parse_tdi_metadata"]

_MAGIC = "TDI Format"
_ITEM = re.compile(r"^(?P<key>.*?)\{(?P<type>.*?)\}=(?P<value>.*)$", re.DOTALL)
_INT_TYPES = frozenset({"I8", "I16", "I32", "I64", "U8", "U16", "U32", "U64"})
_FLOAT_TYPES = frozenset({"Double Float", "Single Float", "Extended Float", "Float"})
_DEFAULT_T = "temperature: T2"


def _typed(type_name: str, value: str) -> Any:
    t = type_name.strip()
    try:
        if t in _FLOAT_TYPES:
            return float(value)
        if t in _INT_TYPES:
            return int(value)
    except ValueError:
        return value
    if t == "Boolean" and value.strip() in ("True", "False"):
        return value.strip() == "True"
    return value


def parse_tdi_metadata(cells: Sequence[str]) -> dict[str, Any]:
    """Parse column-0 cells ``key{Type}=value`` into a dict of typed values.

    Blank cells are skipped; cells that do not match the pattern are listed under
    ``"unparsed_metadata"``.  Types: floats, integers and booleans are converted; every other type
    keeps the text.
    """
    out: dict[str, Any] = {}
    unparsed: list[str] = []
    for cell in cells:
        if not cell.strip():
            continue
        m = _ITEM.match(cell)
        if m is None:
            unparsed.append(cell)
            continue
        out[m.group("key")] = _typed(m.group("type"), m.group("value"))
    if unparsed:
        out["unparsed_metadata"] = unparsed
    return out


@register_loader
class StonerTDILoader(Loader):
    """Stoner-lab "TDI Format 1.5" tab-separated file with ``key{Type}=value`` metadata in column 0."""

    key = "stoner_tdi"
    description = "Stoner-lab TDI Format 1.5 (tab separated, key{Type}=value metadata in column 0)"
    extensions = (".txt", ".tdi", ".dat")

    @classmethod
    def can_read(cls, path: Path) -> bool:
        """Known extension and a file starting with ``TDI Format``."""
        if path.suffix.lower() not in cls.extensions:
            return False
        return sniff_text(path, 256)[0].startswith(_MAGIC)

    def read(
        self,
        path: Path,
        *,
        resistance: str | None = None,
        temperature: str | None = None,
        x: str | None = None,
        y: str | None = None,
        units: Mapping[str, str] | None = None,
        normalized: bool = False,
        ramp: int | Sequence[int] | None = None,
        sample_id: str | None = None,
    ) -> Sweep:
        """Read a TDI file into an R(T) or bias-sweep :class:`Sweep`.

        Parameters
        ----------
        path
            File to read.
        resistance
            Resistance column (``'Nb::R'``); required when several ``::R`` columns exist.
        temperature
            Temperature column; default ``'temperature: T2'`` (the sample thermometer) when present.
        x, y
            Any two columns instead of ``resistance``/``temperature`` (both must be given).
        units
            Column name -> unit text.  Required for ``x``/``y`` columns; for R(T) it overrides the
            ohm/kelvin convention of the Leeds programs.
        normalized
            A ``y`` conductance column without a unit is a normalised conductance ``dIdV_norm``.
        ramp
            Keep only rows whose ``iterator`` equals this value (or one of these values).
        sample_id
            Sample name; default the text before ``::`` of the resistance (or y) column, else the
            file stem.

        Returns
        -------
        Sweep

        Raises
        ------
        LoaderError
            Not a TDI file, ambiguous resistance column, undeclared unit, bad ramp, non-numeric cell.
        MissingColumnError
            A requested column (or the ``iterator`` column for ``ramp``) does not exist.
        """
        path = Path(path)
        text, encoding = decode(path)
        lines = split_lines(text)
        first = lines[0].split("\t") if lines else [""]
        if not first[0].startswith(_MAGIC):
            raise LoaderError(f"{path}: line 1 starts with {first[0][:30]!r}; expected 'TDI Format 1.5'")
        header = [h.strip() for h in first]
        data_cols = header[1:]
        body = [(i, ln) for i, ln in enumerate(lines[1:], start=2) if ln.strip()]
        table = split_table(path, header, body, "\t", header_line=1, quoting=False,
                            ends_with_newline=text.endswith(("\n", "\r")))
        raw_header: dict[str, Any] = {"TDI Format": first[0][len(_MAGIC):].strip()}
        raw_header.update(parse_tdi_metadata(table.column(header[0])))
        units = dict(units or {})
        for k in units:
            if k not in data_cols:
                raise MissingColumnError(f"{path}: units key '{k}' is not a column; available: {data_cols}")

        if (x is None) != (y is None):
            raise LoaderError(f"{path}: pass both x= and y= (got x={x!r}, y={y!r})")
        if x is not None and (resistance is not None or temperature is not None):
            raise LoaderError(f"{path}: pass either x=/y= or resistance=/temperature=, not both")
        if x is not None and y is not None:
            plan, raw_units, sid = self._plan_xy(path, data_cols, x, y, units, normalized)
        else:
            plan, raw_units, sid = self._plan_rt(path, data_cols, resistance, temperature, units)

        keep = np.ones(len(table.rows), dtype=bool)
        nan_context = ""
        if ramp is not None:
            keep = self._ramp_mask(path, table, data_cols, ramp)
            nan_context = f" of ramp {ramp!r}"
        lines_kept = [ln for ln, k in zip(table.lines, keep, strict=True) if k]
        values = {}
        for raw, (canon, factor, _) in plan.targets.items():
            cells = [c for c, k in zip(table.column(raw), keep, strict=True) if k]
            values[canon] = parse_numeric(path, cells, lines_kept, raw) * factor
        extra = {
            "encoding": encoding,
            "ramp": ramp if ramp is None or isinstance(ramp, int) else list(ramp),
            "rows_in_file": len(table.rows),
            "resistance_columns": [c for c in data_cols if c.endswith("::R")],
            "truncated_last_line": table.truncated_last_line,
            # units taken from the Leeds-program convention (::R in ohm, temperature: * in K), not declared
            "units_assumed": dict(plan.assumed),
        }
        return build_sweep(path, loader=self.key, kind=plan.kind, values=values,
                           conversion=plan.conversion(raw_units),
                           sample_id=sample_id if sample_id is not None else (sid or path.stem),
                           raw_header=raw_header, extra=extra, nan_context=nan_context, lines=lines_kept)

    @staticmethod
    def _plan_rt(path: Path, cols: list[str], resistance: str | None, temperature: str | None,
                 units: dict[str, str]) -> tuple[ColumnPlan, dict[str, str], str | None]:
        r_cols = [c for c in cols if c.endswith("::R")]
        if resistance is None:
            if len(r_cols) == 1:
                resistance = r_cols[0]
            elif not r_cols:
                raise MissingColumnError(f"{path}: no '<sample>::R' resistance column; available: {cols}; "
                                         "pass resistance= or x=/y= with units=")
            else:
                raise LoaderError(f"{path}: several resistance columns {r_cols}; pass resistance= to choose "
                                  f"one, e.g. resistance='{r_cols[0]}'")
        elif resistance not in cols:
            raise MissingColumnError(f"{path}: resistance column '{resistance}' not found; resistance "
                                     f"columns: {r_cols}; available: {cols}")
        if temperature is None:
            if _DEFAULT_T not in cols:
                t_cols = [c for c in cols if c.lower().startswith("temperature")]
                raise MissingColumnError(f"{path}: no '{_DEFAULT_T}' column; pass temperature= (one of "
                                         f"{t_cols}); "
                                         f"available: {cols}")
            temperature = _DEFAULT_T
        elif temperature not in cols:
            raise MissingColumnError(f"{path}: temperature column '{temperature}' not found; available: "
                                     f"{cols}")
        plan = ColumnPlan(kind="rt")
        t_unit = units.get(temperature, "K" if temperature.lower().startswith("temperature") else None)
        r_unit = units.get(resistance, "ohm" if resistance.endswith("::R") else None)
        plan.targets[temperature] = canonical_target(path, temperature, "temperature", t_unit)
        plan.targets[resistance] = canonical_target(path, resistance, "resistance", r_unit)
        raw_units = {k: v for k, v in ((temperature, t_unit), (resistance, r_unit)) if v is not None}
        plan.assumed = {k: v for k, v in raw_units.items() if k not in units}
        sid = resistance.split("::")[0] if "::" in resistance else None
        return plan, raw_units, sid

    @staticmethod
    def _plan_xy(path: Path, cols: list[str], x: str, y: str, units: dict[str, str],
                 normalized: bool) -> tuple[ColumnPlan, dict[str, str], str | None]:
        for name, col in (("x", x), ("y", y)):
            if col not in cols:
                raise MissingColumnError(f"{path}: {name} column '{col}' not found; available: {cols}")
        x_unit = units.get(x)
        if x_unit is None:
            raise LoaderError(f"{path}: column '{x}' has no unit in the file and fitkit never guesses one; "
                              f"declare it, e.g. pass units={{'{x}': 'mV'}}")
        kind, x_q = kind_from_x_unit(path, f"column '{x}'", x_unit)
        y_unit = units.get(y)
        y_q = "resistance" if kind == "rt" else y_quantity(path, f"column '{y}'", y_unit)
        plan = ColumnPlan(kind=kind)
        plan.targets[x] = canonical_target(path, x, x_q, x_unit)
        plan.targets[y] = canonical_target(path, y, y_q, y_unit, normalized=normalized)
        raw_units = {k: v for k, v in ((x, x_unit), (y, y_unit)) if v is not None}
        sid = y.split("::")[0] if "::" in y else None
        return plan, raw_units, sid

    @staticmethod
    def _ramp_mask(path: Path, table: Any, cols: list[str], ramp: int | Sequence[int]) -> np.ndarray:
        if "iterator" not in cols:
            raise MissingColumnError(f"{path}: ramp= needs an 'iterator' column; available: {cols}")
        it = parse_numeric(path, table.column("iterator"), table.lines, "iterator")
        wanted = [ramp] if isinstance(ramp, int | float) else list(ramp)
        present = sorted({int(v) for v in it[np.isfinite(it)]})
        missing = [r for r in wanted if r not in present]
        if missing:
            raise LoaderError(f"{path}: ramp {missing} not found in column 'iterator'; ramps present: "
                              f"{present}")
        return np.isin(it, wanted)
