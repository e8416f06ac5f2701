"""Generic delimited-text loader (format key ``"text"``): CSV, TSV, semicolon or whitespace tables.

File layout understood
----------------------
* Optional comment lines starting with ``#`` or ``%`` anywhere (blank lines are skipped).  A comment
  of the form ``key = value`` goes to ``meta.raw_header[key]`` (value as text); other comments are
  collected in ``meta.raw_header["comments"]``.  When the key is a column-style name with a unit
  and the value a number (``# temperature_K = 0.05``, ``# v_mod_rms_mV = 0.005``) the SI value is
  also put in ``meta.extra`` (``temperature_K``, ``v_mod_rms_V``).
* The first other line is the header with one name per column, then the data rows.
* The delimiter is detected from the header and the first data line: tab, then ``;``, then ``,``,
  else runs of whitespace (in a whitespace table a bracketed unit such as ``T (K)`` written with a
  space stays attached to its name).  CSV double quotes are honoured.
* A UTF-8 byte-order mark is ignored; text that is not UTF-8 is read as Latin-1.
* Decimal commas (``1,5``) are accepted when the delimiter is ``;`` or tab.

Units
-----
Units come from the header (``T (mK)``, ``R (kOhm)``, ``Bias [mV]``, ``dI/dV (S)``, ``G (uS)``, or a
canonical name such as ``bias_V``) through :mod:`fitkit.units`, or are declared by the caller with
``units=``.  A unit is never guessed: a bare header such as ``V,G`` raises
:class:`~fitkit.errors.LoaderError` that names the column and says how to declare it.

Row policy (see :mod:`fitkit.io._common`): non-finite rows dropped and counted, a truncated last
line dropped and recorded, R(T) sorted by temperature with exact-duplicate temperatures averaged,
bias sweeps kept in file order with ``sweep_index``/``direction`` added when they can be inferred.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from fitkit.errors import LoaderError, MissingColumnError
from fitkit.io._common import (
    QUANTITIES,
    ColumnPlan,
    build_sweep,
    canonical_target,
    decode,
    parse_numeric,
    sniff_text,
    split_header_cells,
    split_lines,
    split_table,
    units_agree,
)
from fitkit.io._registry import register_loader
from fitkit.io.base import Loader
from fitkit.io.sweep import Sweep
from fitkit.units import UNITS, UnitError, canonical_unit, parse_column, parse_unit_text

__all__ = ["TextTableLoader", "classify_header"]

_SNIFF_BYTES = 8192
_COMMENT = ("#", "%")
_SLOW_START = frozenset("#% \t\x0b\x0c")
_META = re.compile(r"^\s*(?P<key>[^=]+?)\s*=\s*(?P<value>.*?)\s*$")
_UNIT_TOKEN = re.compile(r"^[\(\[][^\)\]]*[\)\]]$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d*,\d+(?:[eE][+-]?\d+)?$")
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$|^[+-]?(?:nan|inf)$", re.IGNORECASE)
_DELIMS = ("\t", ";", ",")
_DELIM_NAMES = {"\t": "tab", ";": "semicolon", ",": "comma", None: "whitespace"}

_NAME_HINTS: dict[str, frozenset[str]] = {
    "temperature": frozenset({"t", "temp", "temperature", "t_sample", "sample temperature"}),
    "resistance": frozenset({"r", "res", "resistance", "rxx", "r_xx"}),
    "bias": frozenset({"v", "u", "bias", "voltage", "vbias", "v_bias", "bias voltage", "bias calc"}),
    "current": frozenset({"i", "current"}),
    "dIdV": frozenset({"g", "didv", "di/dv", "conductance", "g/gn", "g/g_n", "g_norm", "dg"}),
}
_UNIT_QUANTITY = {"temperature": "temperature", "resistance": "resistance", "voltage": "bias",
                  "current": "current", "conductance": "dIdV"}
_KIND_QUANTITIES = {"rt": ("temperature", "resistance"), "didv": ("bias", "current", "dIdV")}


def classify_header(header: str) -> tuple[str | None, str | None]:
    """Guess the quantity of a column from its header and split off the unit text.

    The quantity comes from the unit when the header has one (``"B (T)"`` is a field and is not
    used), otherwise from the name (``"V"`` -> bias).  The unit is never invented.

    Returns
    -------
    tuple
        ``(quantity or None, unit text or None)``; quantity is a key of
        :data:`fitkit.io._common.QUANTITIES`.
    """
    name, unit = parse_unit_text(header)
    if unit is None:
        try:
            name, unit = parse_column(header.strip())
        except UnitError:
            unit = None
    key = name.strip().lower()
    hinted = next((q for q, names in _NAME_HINTS.items() if key in names), None)
    if key in ("didv", "temperature", "resistance", "bias", "current"):
        hinted = "dIdV" if key == "didv" else key
    if unit is None:
        return hinted, None
    try:
        uq = UNITS[canonical_unit(unit)].quantity
    except UnitError:
        return hinted, unit
    if uq in _UNIT_QUANTITY:
        return _UNIT_QUANTITY[uq], unit
    if uq in ("dimensionless", "arbitrary") and hinted == "dIdV":
        return "dIdV", unit
    return None, unit


def _si_header_values(raw_header: Mapping[str, Any]) -> dict[str, float]:
    """Comment items whose key is a column-style name with a unit (``temperature_K = 0.05``,
    ``v_mod_rms_mV = 0.005``) and whose value is a number, converted to SI
    (``temperature_K``, ``v_mod_rms_V``).  The unit is the one written in the key, so nothing is
    guessed; other items stay text in ``raw_header`` only."""
    out: dict[str, float] = {}
    for key, value in raw_header.items():
        if not isinstance(value, str):
            continue
        try:
            quantity, token = parse_column(key)
            number = float(value)
        except (UnitError, ValueError):
            continue
        unit = UNITS[token]
        si = next((u.token for u in UNITS.values()
                   if u.quantity == unit.quantity and u.si_factor == 1.0), None)
        if si is None or not quantity:
            continue
        out[f"{quantity}_{si}"] = number * unit.si_factor
    return out


def _is_number(cell: str, decimal_comma: bool) -> bool:
    s = cell.strip()
    if not s:
        return True
    if decimal_comma:
        s = s.replace(",", ".")
    return bool(_NUMBER.match(s))


def _detect_delimiter(header: str, first: str | None) -> str | None:
    for d in _DELIMS:
        if d in header and (first is None or first.count(d) == header.count(d)):
            return d
    for d in _DELIMS:
        if d in header:
            return d
    return None


def _split_header(line: str, delimiter: str | None) -> list[str]:
    if delimiter is not None:
        try:
            return [h.strip() for h in next(csv.reader([line], delimiter=delimiter))]
        except csv.Error:  # can_read sniffing: an unsplittable header is simply not claimed
            return [h.strip() for h in line.split(delimiter)]
    merged: list[str] = []
    for tok in line.split():
        if merged and _UNIT_TOKEN.match(tok):
            merged[-1] = f"{merged[-1]} {tok}"
        else:
            merged.append(tok)
    return merged


def _scan(lines: list[str]) -> tuple[tuple[int, str] | None, list[tuple[int, str]], dict[str, Any]]:
    header: tuple[int, str] | None = None
    body: list[tuple[int, str]] = []
    raw: dict[str, Any] = {}
    comments: list[str] = []
    for i, line in enumerate(lines, start=1):
        if header is not None and line and line[0] not in _SLOW_START:
            body.append((i, line))  # fast path for ordinary data lines
            continue
        s = line.strip()
        if not s:
            continue
        if s[0] in _COMMENT:
            text = s.lstrip("#%").strip()
            m = _META.match(text)
            if m:
                raw[m.group("key")] = m.group("value")
            elif text:
                comments.append(text)
            continue
        if header is None:
            header = (i, line)
        else:
            body.append((i, line))
    if comments:
        raw["comments"] = comments
    return header, body, raw


@register_loader
class TextTableLoader(Loader):
    """Delimited text table with units in the header or declared by the caller."""

    key = "text"
    description = "delimited text table (CSV/TSV/semicolon/whitespace); units from headers or units="
    extensions = (".csv", ".tsv", ".txt", ".dat")

    @classmethod
    def can_read(cls, path: Path) -> bool:
        """Extension match plus a sniff.

        ``.csv``/``.tsv`` files are claimed unless they start like another known format (so an empty
        or broken CSV gets this loader's precise error); ``.txt``/``.dat`` files only when they look
        like a plain table: a header of >= 2 names, then a numeric row of the same width.
        """
        suffix = path.suffix.lower()
        if suffix not in cls.extensions:
            return False
        head, full = sniff_text(path, _SNIFF_BYTES)
        start = head.lstrip()
        if start.startswith("TDI Format") or start[:8].lower() == "[header]":
            return False
        if suffix in (".csv", ".tsv"):
            return True
        lines = split_lines(head)
        if full:
            lines = lines[:-1]  # the last line may be cut by the sniff window
        header, body, _ = _scan(lines)
        if header is None or not body:
            return False
        delim = _detect_delimiter(header[1], body[0][1])
        names = _split_header(header[1], delim)
        first = body[0][1].split() if delim is None else body[0][1].split(delim)
        if len(names) < 2 or len(first) != len(names):
            return False
        dc = delim in (";", "\t")
        if all(_is_number(c, dc) for c in names):
            return False
        return all(_is_number(c, dc) for c in first)

    def read(
        self,
        path: Path,
        *,
        kind: str | None = None,
        columns: Mapping[str, str] | None = None,
        units: Mapping[str, str] | None = None,
        normalized: bool = False,
        sample_id: str | None = None,
    ) -> Sweep:
        """Read a text table into an R(T) or bias-sweep :class:`Sweep`.

        Parameters
        ----------
        path
            File to read.
        kind
            ``"rt"``, ``"didv"`` or None (inferred: temperature + resistance columns -> ``"rt"``,
            a bias column -> ``"didv"``).
        columns
            Raw column name -> quantity (``"temperature"``, ``"resistance"``, ``"bias"``,
            ``"current"``, ``"dIdV"``).  When given, exactly these columns are used.
        units
            Raw column name (or quantity) -> unit text, e.g. ``{"V": "mV"}``; required for any used
            column whose header carries no unit.  A unit that contradicts the header raises.  For a
            column whose name is not recognised, a declared unit also gives its quantity
            (``{"Vdc": "mV"}`` makes ``Vdc`` the bias).
        normalized
            A conductance column without a unit is a normalised conductance ``dIdV_norm``.
        sample_id
            Sample name; default the file stem.

        Returns
        -------
        Sweep
            ``temperature_K``, ``resistance_ohm`` (R(T)) or ``bias_V`` plus ``current_A`` and/or
            ``dIdV_S``/``dIdV_norm``/``dIdV_arb`` (bias sweep), and possibly ``sweep_index``,
            ``direction``.

        Raises
        ------
        LoaderError
            Empty file or table, undeclared/contradicting unit, non-numeric cell, bad option value.
        MissingColumnError
            A requested column, or a column the kind needs, does not exist.
        """
        path = Path(path)
        if kind not in (None, "rt", "didv"):
            raise LoaderError(f"{path}: kind={kind!r} is not valid; expected 'rt', 'didv' or None")
        text, encoding = decode(path)
        header_ln, body, raw_header = _scan(split_lines(text))
        if header_ln is None:
            raise LoaderError(f"{path}: file holds only comments; expected a header line and data rows")
        hline, htext = header_ln
        delim = _detect_delimiter(htext, body[0][1] if body else None)
        if delim is not None:
            split_header_cells(path, htext, delim, line_no=hline)  # quoting errors name the header line
        header = _split_header(htext, delim)
        dc_allowed = delim in (";", "\t")
        if all(_is_number(c, dc_allowed) and c.strip() for c in header):
            raise LoaderError(f"{path}: line {hline} holds numbers, not column names; expected a header line "
                              "such as 'T (K),R (ohm)'")
        table = split_table(path, header, body, delim, header_line=hline,
                            ends_with_newline=text.endswith(("\n", "\r")))
        decimal_comma = dc_allowed and any(
            _DECIMAL_COMMA.match(c.strip()) for row in table.rows[:50] for c in row
        )
        plan, raw_units = self._plan(path, header, kind, columns, units, normalized)
        values: dict[str, np.ndarray] = {}
        for raw, (canon, factor, _) in plan.targets.items():
            cells = table.column(raw)
            values[canon] = parse_numeric(path, cells, table.lines, raw, decimal_comma=decimal_comma) * factor
        used = set(plan.targets)
        header_values = _si_header_values(raw_header)
        extra = {
            "encoding": encoding,
            "delimiter": _DELIM_NAMES[delim],
            "decimal_comma": bool(decimal_comma),
            "header_line": hline,
            "truncated_last_line": table.truncated_last_line,
            "ignored_columns": [h for h in header if h not in used],
            **header_values,
        }
        return build_sweep(path, loader=self.key, kind=plan.kind, values=values,
                           conversion=plan.conversion(raw_units), sample_id=sample_id,
                           raw_header=raw_header, extra=extra, lines=table.lines)

    @staticmethod
    def _plan(path: Path, header: list[str], kind: str | None, columns: Mapping[str, str] | None,
              units: Mapping[str, str] | None, normalized: bool) -> tuple[ColumnPlan, dict[str, str]]:
        units = dict(units or {})
        for k in units:
            if k not in header and k not in QUANTITIES:
                raise MissingColumnError(f"{path}: units key '{k}' is neither a column nor a quantity; "
                                         f"columns: {header}; quantities: {sorted(QUANTITIES)}")
        chosen: dict[str, tuple[str, str | None]] = {}
        if columns is not None:
            for raw, quantity in columns.items():
                if raw not in header:
                    raise MissingColumnError(f"{path}: column '{raw}' not found; available: {header}")
                if quantity not in QUANTITIES:
                    raise LoaderError(f"{path}: columns['{raw}'] = '{quantity}' is not a quantity; expected "
                                      f"one of {sorted(QUANTITIES)}")
                chosen[raw] = (quantity, classify_header(raw)[1])
        else:
            for h in header:
                q, u = classify_header(h)
                if q is None and u is None and h in units:
                    # a name we do not recognise, but the caller declared its unit: that names the quantity
                    q = classify_header(f"{h} ({units[h]})")[0]
                if q is not None:
                    chosen[h] = (q, u)
        by_q: dict[str, list[str]] = {}
        for raw, (q, _) in chosen.items():
            by_q.setdefault(q, []).append(raw)
        if kind is None:
            if "temperature" in by_q and "resistance" in by_q:
                kind = "rt"
            elif "bias" in by_q:
                kind = "didv"
            else:
                raise LoaderError(
                    f"{path}: cannot tell which columns hold temperature and resistance or bias; columns are "
                    f"{header}; pass columns= (e.g. {{'V': 'bias', 'G': 'dIdV'}}) and kind='rt' or 'didv'"
                )
        wanted = _KIND_QUANTITIES[kind]
        if columns is not None:
            stray = [raw for raw, (q, _) in chosen.items() if q not in wanted]
            if stray:
                raise LoaderError(f"{path}: columns {stray} are mapped to quantities that kind='{kind}' "
                                  f"does not "
                                  f"use; expected quantities {list(wanted)}")
        needed = [("temperature",), ("resistance",)] if kind == "rt" else [("bias",), ("current", "dIdV")]
        for group in needed:
            if not any(q in by_q for q in group):
                what = " or ".join(group)
                raise MissingColumnError(f"{path}: no {what} column found for kind='{kind}'; available: "
                                         f"{header}; "
                                         f"pass columns={{'<column>': '{group[0]}'}}")
        for q in wanted:
            if len(by_q.get(q, [])) > 1:
                raise LoaderError(f"{path}: several columns look like {q}: {by_q[q]}; pass columns= to "
                                  f"choose")
        plan = ColumnPlan(kind=kind)
        raw_units: dict[str, str] = {}
        for raw, (q, header_unit) in chosen.items():
            if q not in wanted:
                continue
            declared = units.get(raw, units.get(q))
            unit_text = header_unit
            if declared is not None:
                label = f"column '{raw}'"
                if header_unit is not None and not units_agree(path, label, declared, header_unit):
                    raise LoaderError(f"{path}: column '{raw}' says unit '{header_unit}' in the "
                                      f"header but "
                                      f"units= declares '{declared}'; expected them to agree")
                unit_text = declared
            plan.targets[raw] = canonical_target(path, raw, q, unit_text, normalized=normalized)
            if unit_text is not None:
                raw_units[raw] = unit_text
        canon = [c for c, _, _ in plan.targets.values()]
        if len(set(canon)) != len(canon):
            raise LoaderError(f"{path}: several columns map to the same canonical column {canon}; "
                              "pass columns= to choose")
        return plan, raw_units
