"""Quantum Design PPMS ``.dat`` loader (format key ``"ppms"``) for R(T) measurements.

File layout understood
----------------------
::

    [Header]
    ; comment lines start with a semicolon
    TITLE,<text>
    BYAPP,Resistivity,1.4,1.0
    INFO,<value>,<label>          (repeated)
    ...
    [Data]
    Comment,Time Stamp (sec),Temperature (K),...,Bridge 1 Resistance (Ohms),...
    ,1000.5,10.0,...

Header lines are split at the first comma: ``meta.raw_header[KEY]`` holds the rest of the line as
text; a key that occurs several times (``INFO``, ``DATATYPE`` ...) holds the list of its values
in file order.  Header ``;`` comments go to ``raw_header["comments"]``.

The data table is CSV (quotes honoured, many empty cells), or tab separated when its header line
is (MPMS3).  Rows may leave off trailing empty fields (Quantum Design software writes them so,
including comment rows that hold only the ``Comment`` and time-stamp cells): they are padded
with empty cells.  Lines starting with ``;`` in the data section are comments.  Resistance
channels are the columns whose name contains "Resistance" (not "Resistivity") and whose unit is
a resistance unit (``Bridge 1 Resistance (Ohms)``, ``Resistance Ch1 (Ohms)``).  The temperature column is
``Temperature (K)`` (or the one column named like ``... Temperature (<unit>)``).

Row policy (see :mod:`fitkit.io._common`): rows with an empty temperature or resistance (comment
rows, unused channels) are dropped and counted; temperatures are sorted ascending and exact
duplicate temperatures averaged; a truncated last line is dropped and recorded.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fitkit.errors import LoaderError, MissingColumnError
from fitkit.io._common import (
    ColumnPlan,
    build_sweep,
    canonical_target,
    decode,
    parse_numeric,
    sniff_text,
    split_header_cells,
    split_lines,
    split_table,
)
from fitkit.io._registry import register_loader
from fitkit.io.base import Loader
from fitkit.io.sweep import Sweep
from fitkit.units import UNITS, UnitError, canonical_unit, parse_unit_text

__all__ = ["PPMSLoader", "resistance_channels"]


def _unit_quantity(unit: str | None) -> str | None:
    if unit is None:
        return None
    try:
        return UNITS[canonical_unit(unit)].quantity
    except UnitError:
        return None


def resistance_channels(header: list[str]) -> list[str]:
    """Columns of a PPMS data header that hold a resistance (name has "Resistance", unit is ohm-like)."""
    out = []
    for h in header:
        name, unit = parse_unit_text(h)
        if "resistance" in name.lower() and _unit_quantity(unit) == "resistance":
            out.append(h)
    return out


def _channel_number_matches(column: str, n: int) -> bool:
    name = parse_unit_text(column)[0]
    return bool(re.search(rf"(?:bridge|ch|channel|sample)\s*{n}(?!\d)", name, flags=re.IGNORECASE))


def _delimiter(line: str) -> str:
    """Tab when the line has at least as many tabs as commas (MPMS3 writes tab tables), else comma."""
    return "\t" if "\t" in line and line.count("\t") >= line.count(",") else ","


@register_loader
class PPMSLoader(Loader):
    """Quantum Design PPMS/MPMS ``.dat`` file (``[Header]`` ... ``[Data]``) holding R(T)."""

    key = "ppms"
    description = "Quantum Design PPMS .dat ([Header] ... [Data], resistance channels vs Temperature (K))"
    extensions = (".dat",)

    @classmethod
    def can_read(cls, path: Path) -> bool:
        """``.dat`` extension and a first non-blank line ``[Header]``."""
        if path.suffix.lower() not in cls.extensions:
            return False
        return sniff_text(path, 512)[0].lstrip()[:8].lower() == "[header]"

    def read(
        self,
        path: Path,
        *,
        channel: int | str | None = None,
        temperature: str | None = None,
        sample_id: str | None = None,
    ) -> Sweep:
        """Read one resistance channel against temperature.

        Parameters
        ----------
        path
            File to read.
        channel
            Resistance channel: a number (``1`` matches ``Bridge 1 Resistance (Ohms)`` or
            ``Resistance Ch1 (Ohms)``) or an exact column name.  Default: the only resistance
            column that has data (several raise and list them).
        temperature
            Exact name of the temperature column; default ``Temperature (K)``.
        sample_id
            Sample name; default the file stem.

        Returns
        -------
        Sweep
            ``temperature_K``, ``resistance_ohm``.

        Raises
        ------
        LoaderError
            No ``[Data]`` section, ambiguous channel, non-numeric cell, all rows empty.
        MissingColumnError
            The requested channel or temperature column does not exist.
        """
        path = Path(path)
        text, encoding = decode(path)
        lines = split_lines(text)
        raw_header, data_at = self._header(path, lines)
        body = [(i + 1, ln) for i, ln in enumerate(lines[data_at + 1:], start=data_at + 1) if ln.strip()]
        if not body:
            raise LoaderError(f"{path}: no column header after [Data] on line {data_at + 1}; the table is "
                              f"empty")
        hline, htext = body[0]
        hdelim = _delimiter(htext)
        header = split_header_cells(path, htext, hdelim, line_no=hline)
        rows = [(ln, t) for ln, t in body[1:] if not t.lstrip().startswith(";")]
        ddelim = _delimiter(rows[0][1]) if rows else hdelim
        table = split_table(path, header, rows, ddelim, header_line=hline, pad_short=True,
                            ends_with_newline=text.endswith(("\n", "\r")))
        t_col = self._temperature_column(path, header, temperature)
        r_col = self._channel(path, header, table.column, channel)
        plan = ColumnPlan(kind="rt")
        raw_units: dict[str, str] = {}
        for raw, q in ((t_col, "temperature"), (r_col, "resistance")):
            unit = parse_unit_text(raw)[1]
            plan.targets[raw] = canonical_target(path, raw, q, unit)
            raw_units[raw] = unit or ""
        values = {canon: parse_numeric(path, table.column(raw), table.lines, raw) * factor
                  for raw, (canon, factor, _) in plan.targets.items()}
        extra = {
            "encoding": encoding,
            "channel": r_col,
            "resistance_channels": resistance_channels(header),
            "header_line": hline,
            "delimiter": "tab" if ddelim == "\t" else "comma",
            "truncated_last_line": table.truncated_last_line,
        }
        return build_sweep(path, loader=self.key, kind="rt", values=values,
                           conversion=plan.conversion(raw_units), sample_id=sample_id,
                           raw_header=raw_header, extra=extra, lines=table.lines)

    @staticmethod
    def _header(path: Path, lines: list[str]) -> tuple[dict[str, Any], int]:
        raw: dict[str, Any] = {}
        comments: list[str] = []
        for i, line in enumerate(lines):
            s = line.strip()
            if not s or s.lower() == "[header]":
                continue
            if s.lower() == "[data]":
                if comments:
                    raw["comments"] = comments
                return raw, i
            if s.startswith(";"):
                comments.append(s.lstrip(";").strip())
                continue
            cut = min((k for k in (s.find(","), s.find("\t")) if k >= 0), default=len(s))
            key, value = s[:cut], s[cut + 1:]
            key, value = key.strip(), value.strip()
            if key in raw:
                prev = raw[key]
                raw[key] = [*prev, value] if isinstance(prev, list) else [prev, value]
            else:
                raw[key] = value
        raise LoaderError(f"{path}: no '[Data]' line found after '[Header]'; expected a PPMS .dat file with "
                          "a [Data] section")

    @staticmethod
    def _temperature_column(path: Path, header: list[str], temperature: str | None) -> str:
        if temperature is not None:
            if temperature not in header:
                raise MissingColumnError(f"{path}: temperature column '{temperature}' not found; "
                                         f"available: {header}")
            return temperature
        if "Temperature (K)" in header:
            return "Temperature (K)"
        cands = [h for h in header if "temperature" in parse_unit_text(h)[0].lower()
                 and _unit_quantity(parse_unit_text(h)[1]) == "temperature"]
        if len(cands) == 1:
            return cands[0]
        if not cands:
            raise MissingColumnError(f"{path}: no temperature column such as 'Temperature (K)'; "
                                     f"available: {header}")
        raise LoaderError(f"{path}: several temperature columns {cands}; pass temperature= to choose")

    @staticmethod
    def _channel(path: Path, header: list[str], column: Any, channel: int | str | None) -> str:
        chans = resistance_channels(header)
        if isinstance(channel, str):
            if channel not in header:
                raise MissingColumnError(f"{path}: channel column '{channel}' not found; resistance "
                                         f"channels: "
                                         f"{chans}; available: {header}")
            return channel
        if channel is not None:
            if isinstance(channel, bool) or not isinstance(channel, int):
                raise LoaderError(f"{path}: channel={channel!r} is not valid; expected a channel number or a "
                                  f"column name from {chans}")
            hits = [c for c in chans if _channel_number_matches(c, channel)]
            if len(hits) == 1:
                return hits[0]
            if not hits:
                raise MissingColumnError(f"{path}: no resistance channel {channel}; resistance channels: "
                                         f"{chans}")
            raise LoaderError(f"{path}: channel={channel} matches several columns {hits}; pass the column "
                              f"name")
        if not chans:
            raise MissingColumnError(f"{path}: no resistance column such as 'Bridge 1 Resistance (Ohms)'; "
                                     f"available: {header}")
        filled = [c for c in chans if any(cell.strip() for cell in column(c))]
        if len(filled) == 1:
            return filled[0]
        if not filled:
            raise LoaderError(f"{path}: every resistance channel {chans} is empty; expected data in one "
                              f"of them")
        raise LoaderError(f"{path}: several resistance channels have data {filled}; pass channel= "
                          f"(a number such as 1 or a column name) to choose")
