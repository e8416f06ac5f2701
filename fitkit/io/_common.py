"""Helpers shared by the generic loaders (text, PPMS, HDF5, Stoner TDI).

This module is long because it is the single place of the loader contract that every loader shares
(file checks, decoding, truncation, duplicated columns, value checks); splitting it would spread one
policy over several files.

The helpers implement one common policy so every loader behaves the same way:

* **Decoding.** Bytes are read once; a UTF-8 byte-order mark is removed; the text is decoded
  as UTF-8 and, if that fails, as Latin-1 (which never fails).  The encoding used is recorded in
  ``meta.extra["encoding"]``.  An empty (or whitespace-only) file raises
  :class:`~fitkit.errors.LoaderError` ``"<path>: file is empty"``.
* **Truncated last line.** If the *last* data line has fewer fields than the header, or the file
  does not end with a line break and the last cell cannot be shown complete (same width as the
  cells above it), it is taken as an interrupted write: it is dropped and its 1-based line number
  is stored in ``meta.extra["truncated_last_line"]`` (``None`` when nothing was dropped).  A short
  line anywhere else is an error (PPMS: padded, see :mod:`fitkit.io.ppms`).
* **Numbers.** Only the columns a loader actually uses are converted.  Empty cells and ``NaN``
  become NaN; any other cell that is not a number raises :class:`LoaderError` naming the file, the
  line number and the column.
* **Non-finite rows.** Rows with NaN (or +-inf) in any chosen column are dropped; the count is in
  ``meta.extra["dropped_nan_rows"]``.  If no row is left, :class:`LoaderError` is raised.
* **R(T) policy.** Temperatures are sorted ascending (stable sort) and rows with *exactly* equal
  temperatures are replaced by one row holding the mean resistance.  The number of rows removed
  by this averaging is in ``meta.extra["duplicates_averaged"]``.  Fitting code can then assume a
  strictly increasing ``temperature_K`` (what :func:`fitkit.io.validate_rt` checks).
* **Bias sweeps** keep the file order.  When the bias runs in monotonic segments of at least three
  points each, the columns ``sweep_index`` and ``direction`` are added with the Nanonis meaning
  (as the ``nanonis_dat`` loader): ``"fwd"`` is the direction of the first segment, ``"bwd"`` the
  return; ``sweep_index`` is 1, 2, ... and a fwd segment and the bwd segment that follows it share
  one index.  ``meta.extra["fwd_bias_increasing"]`` says whether fwd means increasing bias.  A
  single zero step at a turning point (a repeated end point) starts the next segment.  Otherwise
  (noisy or stepped bias) the columns are omitted and ``meta.extra["sweep_direction"]`` is
  ``"not inferred"``.
"""

from __future__ import annotations

import csv
import errno
import os
import re
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fitkit.errors import InputFileNotFoundError, LoaderError
from fitkit.io.sweep import Sweep, SweepMeta
from fitkit.units import UNITS, UnitError, canonical_unit

__all__ = [
    "MAX_TEXT_BYTES",
    "QUANTITIES",
    "ColumnPlan",
    "RawTable",
    "build_sweep",
    "canonical_target",
    "check_input_file",
    "check_sweep_values",
    "decode",
    "kind_from_x_unit",
    "parse_numeric",
    "read_head",
    "unit_token",
    "units_agree",
    "y_quantity",
    "sniff_text",
    "split_header_cells",
    "split_lines",
    "split_table",
]

_UTF8_BOM = b"\xef\xbb\xbf"

QUANTITIES: dict[str, str] = {
    "temperature": "temperature",
    "resistance": "resistance",
    "bias": "voltage",
    "current": "current",
    "dIdV": "conductance",
}
"""Canonical quantity accepted in ``columns=`` options -> physical quantity of its unit."""

_CANONICAL_BASE = {"temperature": "temperature_K", "resistance": "resistance_ohm", "bias": "bias_V",
                   "current": "current_A"}
_EXAMPLE_UNIT = {"temperature": "K", "resistance": "ohm", "bias": "mV", "current": "nA", "dIdV": "uS"}


def read_head(path: Path, n: int = 8192, *, strip_bom: bool = False) -> bytes:
    """Return the first ``n`` bytes of a file (for ``can_read`` sniffing; b"" on OS errors).

    With ``strip_bom`` a leading UTF-8 byte-order mark is removed from the result.
    """
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return b""  # never open a FIFO or device: it could block forever
        with path.open("rb") as fh:
            head = fh.read(n)
    except (OSError, ValueError):
        return b""
    if strip_bom and head.startswith(_UTF8_BOM):
        head = head[len(_UTF8_BOM):]
    return head

MAX_TEXT_BYTES = 256 * 2**20
"""Largest text file a text loader reads whole (256 MiB; measured sweeps are kB to a few MB)."""

_NODE_KIND = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
              (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def check_input_file(path: Path, *, max_bytes: int | None = None, what: str = "data file") -> os.stat_result:
    """The loader contract on the file itself, checked before anything opens it.

    A path must name an existing, readable **regular file** (a FIFO named ``*.csv`` would block a
    reader forever, a directory or a symlink loop is refused with one sentence) of at most
    ``max_bytes`` bytes.

    Returns
    -------
    os.stat_result
        The stat of the file (symlinks followed).

    Raises
    ------
    InputFileNotFoundError
        If nothing exists at ``path`` (also a :class:`FileNotFoundError`).
    LoaderError
        Directory, FIFO, socket, device, symlink loop, dangling symlink, unreadable or too large.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError as err:
        if os.path.islink(path):
            raise LoaderError(f"{path}: is a symbolic link to a missing file ({os.readlink(path)!r}); "
                              f"expected a {what}") from err
        raise InputFileNotFoundError(f"{path}: no such file") from err
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise LoaderError(f"{path}: is a symbolic link loop; expected a {what}") from err
        raise LoaderError(f"{path}: cannot be examined ({err.strerror}); expected a readable {what}") from err
    except ValueError as err:  # e.g. an embedded NUL character in the path
        raise LoaderError(f"{str(path)!r}: is not a valid file name ({err})") from err
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        raise LoaderError(f"{path}: is a directory; expected a {what}")
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _NODE_KIND if test(mode)), "not a regular file")
        raise LoaderError(f"{path}: is {kind}, not a regular file; fitkit reads regular files only")
    if not os.access(path, os.R_OK):
        raise LoaderError(f"{path}: permission denied; expected a readable {what}")
    if max_bytes is not None and st.st_size > max_bytes:
        raise LoaderError(f"{path}: file has {st.st_size} bytes; expected at most {max_bytes} bytes for this "
                          "format (is it the right file?)")
    return st


def _read_bytes(path: Path) -> bytes:
    check_input_file(path, max_bytes=MAX_TEXT_BYTES)
    try:
        return path.read_bytes()
    except OSError as err:
        raise LoaderError(f"{path}: cannot be read ({err.strerror or err}); "
                          "expected a readable data file") from err


_BOMS = ((b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
         (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def sniff_text(path: Path, n: int = 8192) -> tuple[str, bool]:
    """The first ``n`` bytes of a file as text, for ``can_read`` sniffing (never raises).

    Byte-order marks are removed and UTF-16/32 (with a BOM, or BOM-less UTF-16) decoded, so a
    UTF-16 file is recognised like its UTF-8 twin; other bytes are read as Latin-1.

    Returns
    -------
    tuple
        ``(text, full)`` where ``full`` says the window was filled (its last line may be cut).
    """
    head = read_head(path, n)
    full = len(head) >= n
    for bom, enc in _BOMS:
        if head.startswith(bom):
            return head[len(bom):].decode(enc, errors="replace"), full
    if head.startswith(_UTF8_BOM):
        head = head[len(_UTF8_BOM):]
    if b"\x00" in head:
        even, odd = head[0::2], head[1::2]
        if odd and odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
            return head.decode("utf-16-le", errors="replace"), full
        if even and even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
            return head.decode("utf-16-be", errors="replace"), full
    try:
        return head.decode("utf-8"), full
    except UnicodeDecodeError as err:
        if err.start >= len(head) - 3:  # a character cut by the window
            return head[:err.start].decode("utf-8"), full
        return head.decode("latin-1"), full


def unit_token(path: Path, label: str, unit_text: str) -> str:
    """Canonical unit token of ``unit_text``; :class:`LoaderError` ``"<path>: <label>: <why>"`` if unknown.

    ``label`` names the place, e.g. ``"column 'T (K)'"`` or ``"dataset '/data/T'"``.
    """
    try:
        return canonical_unit(unit_text)
    except UnitError as err:
        raise LoaderError(f"{path}: {label}: {err}") from err


def units_agree(path: Path, label: str, declared: str, found: str) -> bool:
    """Whether two unit texts name the same unit (errors as :func:`unit_token`)."""
    return unit_token(path, label, declared) == unit_token(path, label, found)


_UNIT_TO_QUANTITY = {"temperature": "temperature", "resistance": "resistance", "voltage": "bias",
                     "current": "current", "conductance": "dIdV", "dimensionless": "dIdV",
                     "arbitrary": "dIdV"}


def kind_from_x_unit(path: Path, label: str, x_unit: str) -> tuple[str, str]:
    """Sweep kind and x quantity from the x unit: ``("rt", "temperature")`` or ``("didv", "bias")``.

    Raises
    ------
    LoaderError
        If the unit is unknown or neither a temperature nor a voltage unit.
    """
    xq = UNITS[unit_token(path, label, x_unit)].quantity
    if xq == "temperature":
        return "rt", "temperature"
    if xq == "voltage":
        return "didv", "bias"
    raise LoaderError(f"{path}: x {label} has unit '{x_unit}' ({xq}); expected a temperature unit (R(T)) "
                      "or a voltage unit (bias sweep)")


def y_quantity(path: Path, label: str, y_unit: str | None) -> str:
    """Quantity of the y column of a bias sweep from its unit (``"dIdV"`` when there is no unit)."""
    if y_unit is None:
        return "dIdV"
    return _UNIT_TO_QUANTITY.get(UNITS[unit_token(path, label, y_unit)].quantity, "dIdV")


def decode(path: Path) -> tuple[str, str]:
    """Read a text file (regular files of at most :data:`MAX_TEXT_BYTES` only) and decode it.

    A UTF-8 BOM is removed; UTF-16/32 with a BOM and BOM-less UTF-16 are read as such; other text
    that is not UTF-8 is read as Latin-1.

    Returns
    -------
    tuple
        ``(text, encoding)`` with encoding ``"utf-8"``, ``"latin-1"``, ``"utf-16-le"`` ...

    Raises
    ------
    LoaderError
        If the file is empty or holds only whitespace, holds binary data (NUL bytes), is not a
        regular file or is too large.
    """
    return decode_bytes(path, _read_bytes(path))


def decode_bytes(path: Path, raw: bytes) -> tuple[str, str]:
    """Decode the bytes of a text file (see :func:`decode`).

    UTF-8 (a BOM is removed), UTF-16/UTF-32 with a byte-order mark, and BOM-less UTF-16 (every
    other byte NUL) are read; other text that is not UTF-8 is read as Latin-1.  Any other NUL byte
    means binary data and is refused.
    """
    encoding = "utf-8"
    for bom, enc in _BOMS:
        if raw.startswith(bom):
            try:
                text = raw[len(bom):].decode(enc)
            except UnicodeDecodeError as err:
                raise LoaderError(f"{path}: starts with a {enc.upper()} byte-order mark but byte "
                                  f"{err.start} is not valid {enc.upper()}; "
                                  f"expected {enc.upper()} text") from None
            return _checked_text(path, text, enc), enc
    if raw.startswith(_UTF8_BOM):
        raw = raw[len(_UTF8_BOM):]
    if b"\x00" in raw[:4096]:
        head = raw[:4096]
        even, odd = head[0::2], head[1::2]
        if odd and odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
            encoding = "utf-16-le"
        elif even and even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
            encoding = "utf-16-be"
        if encoding != "utf-8":
            try:
                return _checked_text(path, raw.decode(encoding), encoding), encoding
            except UnicodeDecodeError as err:
                raise LoaderError(f"{path}: looks like {encoding.upper()} text without a byte-order mark "
                                  f"but byte {err.start} is not valid {encoding.upper()}; "
                                  "expected text") from None
    if not raw.strip():
        raise LoaderError(f"{path}: file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text, encoding = raw.decode("latin-1"), "latin-1"
    return _checked_text(path, text, encoding), encoding


def _checked_text(path: Path, text: str, encoding: str) -> str:
    if not text.strip():
        raise LoaderError(f"{path}: file is empty")
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise LoaderError(f"{path}: line {line} holds a NUL byte (binary data, read as {encoding}); "
                          "expected a text file")
    return text


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    r"""Split text on CRLF, CR or LF only (``str.splitlines`` also splits on U+0085 and \x0c)."""
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


@dataclass
class RawTable:
    """A table of text cells with the 1-based file line number of every row."""

    header: list[str]
    rows: list[list[str]]
    lines: list[int]
    truncated_last_line: int | None = None
    path: Path | None = None
    header_line: int | None = None

    def column(self, name: str) -> list[str]:
        """Cells of one column (every row has exactly ``len(header)`` cells).

        Raises
        ------
        LoaderError
            If ``name`` is the name of several columns (never resolved silently).
        """
        where = [j for j, h in enumerate(self.header) if h == name]
        if len(where) > 1:
            at = f" on line {self.header_line}" if self.header_line else ""
            raise LoaderError(f"{self.path}: column name '{name}' appears {len(where)} times in the "
                              f"header{at} (columns {[j + 1 for j in where]}); expected unique column names")
        j = self.header.index(name)
        return [r[j] for r in self.rows]


_TRUNC_LOOKBACK = 200


def _cut_last_row(rows: Sequence[Sequence[str]]) -> bool:
    """Whether the last row, written without a final line break, may be cut inside its last cell.

    A write interrupted inside the last number leaves a fragment that is still a number
    (``24831.1`` -> ``24``), so an unterminated last line is complete only when that can be shown:
    its last cell has the same width as that column's cells in every preceding row looked at (up to
    200; fixed-width numbers, as instruments write them).  Otherwise it counts as cut.
    """
    if len(rows) < 2:
        return True
    last = rows[-1]
    j = len(last) - 1
    width = len(last[j].strip())
    prev = {len(r[j].strip()) for r in rows[-_TRUNC_LOOKBACK - 1:-1] if j < len(r)}
    return not (width > 0 and prev == {width})


def _csv_rows(path: Path, body: Sequence[tuple[int, str]], delimiter: str) -> list[list[str]]:
    for ln, t in body:
        if t.count('"') % 2:
            raise LoaderError(f"{path}: line {ln} opens a quoted cell that does not close on that line; "
                              "expected one table row per line (cells spanning lines are not read)")
    try:
        return list(csv.reader([t for _, t in body], delimiter=delimiter))
    except csv.Error:
        pass
    for ln, t in body:  # find the line
        try:
            next(csv.reader([t], delimiter=delimiter))
        except csv.Error as err:
            raise LoaderError(f"{path}: line {ln} cannot be split into cells ({err}; the line has {len(t)} "
                              "characters); expected short numeric cells") from None
    raise LoaderError(f"{path}: the table cannot be split into cells; "  # pragma: no cover
                      "expected one row per line")


def split_header_cells(path: Path, line: str, delimiter: str, *, line_no: int) -> list[str]:
    """Split a header line into stripped names with CSV quoting (errors name the line)."""
    return [h.strip() for h in _csv_rows(path, [(line_no, line)], delimiter)[0]]


def split_table(path: Path, header: list[str], body: Sequence[tuple[int, str]], delimiter: str | None,
                *, header_line: int, quoting: bool = True, ends_with_newline: bool = True,
                pad_short: bool = False) -> RawTable:
    """Split data lines into cells and apply the truncated-last-line rule.

    Parameters
    ----------
    path
        File (for messages).
    header
        Column names.
    body
        ``(line_number, text)`` of each data line (blank and comment lines already removed).
    delimiter
        Field delimiter, or None for runs of whitespace.
    header_line
        Line number of the header (for messages).
    quoting
        Honour CSV double quotes (False: split on the delimiter only).  A quoted cell must close
        on its own line.
    ends_with_newline
        Whether the file ends with a line break.  If not, the last line was possibly cut by an
        interrupted write: it is dropped (and recorded) unless it has all its fields and its last
        cell has the same width as that column's cells in the rows before it (fixed-width
        numbers); a cut number such as ``24831.1`` -> ``24`` is never kept.
    pad_short
        Rows with fewer fields than the header are padded with empty cells (Quantum Design software
        leaves trailing empty fields off); otherwise a short row other than the last is an error.

    Raises
    ------
    LoaderError
        If the table has no data rows, or a line other than the last has too few fields, or a
        line has extra non-empty fields, or a quoted cell spans lines, or a cell is too long.
    """
    if not body:
        raise LoaderError(f"{path}: no data rows after the header on line {header_line}; the table is empty")
    texts = [t for _, t in body]
    if delimiter is None:
        cells = [t.split() for t in texts]
    elif not quoting:
        cells = [t.split(delimiter) for t in texts]
    else:
        cells = _csv_rows(path, body, delimiter)
    ncol = len(header)
    rows: list[list[str]] = cells
    lines: list[int] = [ln for ln, _ in body]
    truncated: int | None = None
    lengths = np.fromiter(map(len, cells), dtype=np.int64, count=len(cells))
    odd = np.flatnonzero(lengths != ncol)
    if odd.size:  # slow path only for files with ragged rows
        rows, lines = [], []
        for k, ((ln, _), row) in enumerate(zip(body, cells, strict=True)):
            if len(row) < ncol:
                if k == len(body) - 1 and (not pad_short or not ends_with_newline):
                    truncated = ln
                    continue
                if not pad_short:
                    raise LoaderError(
                        f"{path}: line {ln} has {len(row)} fields; expected {ncol} like the header on line "
                        f"{header_line}"
                    )
                row = row + [""] * (ncol - len(row))
            if len(row) > ncol:
                if any(c.strip() for c in row[ncol:]):
                    raise LoaderError(
                        f"{path}: line {ln} has {len(row)} fields; expected {ncol} like the header on line "
                        f"{header_line}"
                    )
                row = row[:ncol]
            rows.append(row)
            lines.append(ln)
    last_is_file_end = bool(rows) and lines[-1] == body[-1][0]
    if truncated is None and not ends_with_newline and last_is_file_end and _cut_last_row(rows):
        truncated = lines[-1]
        rows, lines = rows[:-1], lines[:-1]
    if not rows:
        raise LoaderError(f"{path}: no complete data rows after the header on line {header_line}; "
                          "the table is empty")
    return RawTable(header=list(header), rows=rows, lines=lines, truncated_last_line=truncated, path=path,
                    header_line=header_line)


_NAN_WORDS = {"", "nan", "+nan", "-nan"}


def parse_numeric(path: Path, cells: Sequence[str], lines: Sequence[int], column: str,
                  *, decimal_comma: bool = False) -> np.ndarray:
    """Convert text cells of one column to floats (vectorised through :func:`pandas.to_numeric`).

    Empty cells and ``NaN`` give NaN (rows dropped later and counted).

    Raises
    ------
    LoaderError
        Naming the file, line and column of the first cell that is not a number, or that is
        infinite (``inf``, or a number such as ``1e400`` that overflows a double).
    """
    raw = pd.Series(list(cells), dtype=object)
    if decimal_comma:
        raw = raw.str.replace(",", ".", regex=False)
    values = np.array(pd.to_numeric(raw, errors="coerce"), dtype=float)
    missing = np.flatnonzero(np.isnan(values))
    if missing.size:  # NaN is fine for empty cells and NaN words; anything else is an error
        words = raw.iloc[missing].str.strip()
        stripped = pd.to_numeric(words, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        values[missing] = stripped
        bad = missing[np.isnan(stripped) & ~words.str.lower().isin(_NAN_WORDS).to_numpy()]
        if bad.size:
            i = int(bad[0])
            raise LoaderError(
                f"{path}: line {lines[i]}, column '{column}': cannot read {_show(cells[i])} as a number"
            )
    infinite = np.flatnonzero(np.isinf(values))
    if infinite.size:
        i = int(infinite[0])
        raise LoaderError(f"{path}: line {lines[i]}, column '{column}': {_show(cells[i])} is infinite or "
                          "overflows a double; expected a finite number")
    return values


def _show(cell: str, limit: int = 40) -> str:
    """repr of a cell, shortened for messages."""
    return repr(cell) if len(cell) <= limit else repr(cell[:limit]) + f"... ({len(cell)} characters)"


def canonical_target(path: Path, raw: str, quantity: str, unit_text: str | None, *,
                     normalized: bool = False, option_hint: str = "units") -> tuple[str, float, str]:
    """Return ``(canonical column, SI factor, unit token)`` for one raw column.

    Parameters
    ----------
    path
        File (for messages).
    raw
        Raw column (or dataset) name.
    quantity
        One of :data:`QUANTITIES` (``"bias"``, ``"dIdV"`` ...).
    unit_text
        Unit as found in the header or declared by the caller, or None if unknown.
    normalized
        For ``dIdV`` without a unit: the column is a normalised conductance (``dIdV_norm``).
    option_hint
        Name of the option that declares units (for the message).

    Raises
    ------
    LoaderError
        If the unit is missing (saying how to declare it), unknown, or of the wrong quantity.
    """
    if quantity not in QUANTITIES:
        raise LoaderError(f"{path}: column '{raw}' is mapped to unknown quantity '{quantity}'; "
                          f"expected one of {sorted(QUANTITIES)}")
    if unit_text is None or not str(unit_text).strip():
        if quantity == "dIdV" and normalized:
            return "dIdV_norm", 1.0, "norm"
        hint = f"pass {option_hint}={{'{raw}': '{_EXAMPLE_UNIT[quantity]}'}}"
        if quantity == "dIdV":
            hint += " or normalized=True for G/G_N"
        raise LoaderError(
            f"{path}: column '{raw}' ({quantity}) has no unit in the file and fitkit never guesses one; "
            f"declare it, e.g. {hint}"
        )
    token = unit_token(path, f"column '{raw}'", str(unit_text))
    unit = UNITS[token]
    if quantity == "dIdV":
        if unit.quantity == "conductance":
            if normalized:
                raise LoaderError(f"{path}: column '{raw}' has unit '{unit_text}' (siemens) but "
                                  f"normalized=True "
                                  "was passed; drop one of them")
            return "dIdV_S", unit.si_factor, token
        if unit.quantity == "dimensionless":
            return "dIdV_norm", 1.0, token
        if unit.quantity == "arbitrary":
            return "dIdV_arb", 1.0, token
        raise LoaderError(f"{path}: column '{raw}' (dIdV) has unit '{unit_text}', a {unit.quantity} unit; "
                          "expected a conductance unit (S, mS, uS, nS), 'norm' or 'arb'")
    expected = QUANTITIES[quantity]
    if unit.quantity != expected:
        valid = sorted(u.token for u in UNITS.values() if u.quantity == expected)
        raise LoaderError(f"{path}: column '{raw}' ({quantity}) has unit '{unit_text}', a {unit.quantity} "
                          f"unit; "
                          f"expected a {expected} unit, one of {valid}")
    return _CANONICAL_BASE[quantity], unit.si_factor, token

_LIMITS: dict[str, tuple[float, float, str]] = {
    "temperature_K": (0.0, 1e5, "K"),
    "resistance_ohm": (-np.inf, 1e20, "ohm"),
    "bias_V": (-1e4, 1e4, "V"),
    "current_A": (-1e4, 1e4, "A"),
    "dIdV_S": (-1e6, 1e6, "S"),
    "dIdV_norm": (-1e6, 1e6, ""),
    "dIdV_arb": (-1e30, 1e30, ""),
}
"""Canonical column -> (lowest, highest, unit) of a physically possible SI value."""

NEGATIVE_R_FRACTION = 0.05
"""A resistance below ``-NEGATIVE_R_FRACTION * max|R|`` is refused (noise around zero is not)."""

_JUMP_DECADES = 2.5


def check_sweep_values(path: Path, values: Mapping[str, Any], *, lines: Sequence[int] | None = None,
                       names: Mapping[str, str] | None = None, file_order: bool = True) -> None:
    """The loader contract on values: physical, finite, in one unit.  One sentence per failure.

    For every canonical column present (``temperature_K``, ``resistance_ohm``, ``bias_V``,
    ``current_A``, ``dIdV_*``), in SI units:

    * NaN is a missing value (the row policy drops it); ``+-inf`` (written, or an overflow on
      conversion to SI such as ``1e308 kOhm``) is refused;
    * values outside the physical range of :data:`_LIMITS` are refused (negative kelvin;
      ``|V| > 10 kV`` ...);
    * a resistance more negative than ``-5 %`` of the largest ``|R|`` is refused (measurement
      noise around zero in the superconducting state stays below that);
    * in file order, a temperature that jumps by more than 10^2.5 between consecutive rows is
      refused as a unit switch (K -> mK halfway through a log);
    * a bias column whose values are all equal is refused (not a sweep).

    Parameters
    ----------
    path
        File (for messages).
    values
        Canonical column -> values in SI units.
    lines
        File line number of each row (messages say ``row N`` without them).
    names
        Canonical column -> raw column name as in the file (for messages).
    file_order
        Whether the rows are in file order (enables the unit-switch test).

    Raises
    ------
    LoaderError
        Naming file, line (or row) and column, and what was expected.
    """
    names = names or {}

    def where(i: int) -> str:
        return f"line {lines[i]}" if lines is not None and i < len(lines) else f"row {i + 1}"

    for col, (lo, hi, unit) in _LIMITS.items():
        if col not in values:
            continue
        try:
            v = np.asarray(values[col], dtype=float)
        except (TypeError, ValueError) as err:
            raise LoaderError(f"{path}: column '{names.get(col, col)}' does not hold numbers "
                              f"({err})") from err
        if v.ndim != 1 or v.size == 0:
            continue
        raw = names.get(col, col)
        u = f" {unit}" if unit else ""
        bad = np.flatnonzero(np.isinf(v))
        if bad.size:
            i = int(bad[0])
            raise LoaderError(f"{path}: {where(i)}, column '{raw}': the value is infinite after "
                              f"conversion to SI {unit or 'units'} (overflow); expected a finite number")
        with np.errstate(invalid="ignore"):
            below, above = v < lo, v > hi
        if col == "temperature_K" and below.any():
            i = int(np.flatnonzero(below)[0])
            raise LoaderError(f"{path}: {where(i)}, column '{raw}': temperature {v[i]:.6g} K is negative; "
                              "expected an absolute temperature >= 0 K")
        out = np.flatnonzero(below | above)
        if out.size:
            i = int(out[0])
            raise LoaderError(f"{path}: {where(i)}, column '{raw}': {v[i]:.6g}{u} is outside the "
                              f"physical range [{lo:g}, {hi:g}]{u} of {col}; expected a measured value "
                              "(wrong unit or corrupt cell?)")
        finite = np.isfinite(v)
        if col == "resistance_ohm" and finite.any():
            fv = v[finite]
            scale = float(np.max(np.abs(fv)))
            if float(fv.min()) < -NEGATIVE_R_FRACTION * scale:
                i = int(np.flatnonzero(finite)[int(np.argmin(fv))])
                raise LoaderError(f"{path}: {where(i)}, column '{raw}': resistance {v[i]:.6g} ohm is "
                                  f"negative beyond noise around zero (largest |R| is {scale:.6g} ohm); "
                                  "expected R >= 0 (swapped voltage leads or an inverted lock-in phase?)")
        if col == "temperature_K" and file_order:
            pos = np.flatnonzero(finite & (v > 0))
            if pos.size >= 3:
                steps = np.abs(np.diff(np.log10(v[pos])))
                jumps = np.flatnonzero(steps > _JUMP_DECADES)
                if jumps.size:
                    k = int(jumps[0])
                    a, b = v[pos[k]], v[pos[k + 1]]
                    raise LoaderError(
                        f"{path}: {where(int(pos[k + 1]))}, column '{raw}': temperature jumps from "
                        f"{a:.6g} K to {b:.6g} K (x{b / a:.3g}) between consecutive rows; expected one unit "
                        "throughout "
                        "(did the log switch between K and mK?)")
        if col == "bias_V" and finite.sum() >= 2:
            fv = v[finite]
            if float(fv.max()) == float(fv.min()):
                raise LoaderError(f"{path}: column '{raw}': all {fv.size} bias values equal {fv[0]:.6g} V; "
                                  "expected a bias sweep (a varying bias column)")


@dataclass
class ColumnPlan:
    """Chosen raw columns and how each maps to a canonical column."""

    kind: str
    targets: dict[str, tuple[str, float, str]] = field(default_factory=dict)
    """raw column -> (canonical column, SI factor, unit token)."""
    assumed: dict[str, str] = field(default_factory=dict)
    """raw column -> unit taken from a documented format convention rather than the file or caller."""

    def conversion(self, raw_units: Mapping[str, str] | None = None) -> dict[str, dict[str, Any]]:
        """``units_conversion`` entry of the meta (raw unit as written when known)."""
        raw_units = raw_units or {}
        return {raw: {"column": c, "factor": f, "unit": raw_units.get(raw, u)}
                for raw, (c, f, u) in self.targets.items()}


def _infer_direction(bias: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool] | None:
    """Split a bias column into monotonic segments (see the module docstring).

    Returns ``(sweep_index, direction, first_increasing)`` or None when not inferable.
    """
    n = bias.size
    if n < 3:
        return None
    d = np.sign(np.diff(bias))
    point_sign = np.empty(n)
    point_sign[1:] = d
    point_sign[0] = d[0]
    # a zero step (repeated point) takes the sign of the next step: only allowed at a turning point
    for i in range(n - 1, -1, -1):
        if point_sign[i] == 0:
            if i + 1 >= n or point_sign[i + 1] == 0:
                return None
            point_sign[i] = point_sign[i + 1]
    starts = np.flatnonzero(np.diff(point_sign) != 0) + 1
    bounds = np.concatenate([[0], starts, [n]])
    if np.any(np.diff(bounds) < 3):
        return None
    first = point_sign[0]
    is_fwd = point_sign == first
    # a new sweep starts at every segment that runs in the first direction (1-based, as Nanonis)
    seg_start = np.zeros(n, dtype=bool)
    seg_start[bounds[:-1]] = True
    index = np.cumsum(seg_start & is_fwd).astype(np.int64)
    direction = np.where(is_fwd, "fwd", "bwd").astype(object)
    return index, direction, bool(first > 0)


def build_sweep(path: Path, *, loader: str, kind: str, values: Mapping[str, np.ndarray],
                conversion: Mapping[str, Any], sample_id: str | None, raw_header: Mapping[str, Any],
                extra: Mapping[str, Any], nan_context: str = "",
                lines: Sequence[int] | None = None) -> Sweep:
    """Apply the NaN, sorting/averaging and direction policies and build the :class:`Sweep`.

    Parameters
    ----------
    path
        Source file.
    loader
        Loader key.
    kind
        ``"rt"`` (needs ``temperature_K`` and ``resistance_ohm``) or ``"didv"`` (needs ``bias_V``).
    values
        Canonical column name -> SI values, in file order (all the same length).
    conversion
        ``units_conversion`` for the meta.
    sample_id
        Sample name; the file stem when None.
    raw_header
        Header items as found in the file.
    extra
        Loader-specific items for ``meta.extra`` (merged with the policy records).
    nan_context
        Appended to the all-NaN message (e.g. which rows were selected).
    lines
        File line number of each row (for the messages of :func:`check_sweep_values`).

    Raises
    ------
    LoaderError
        If every row has a NaN value in a chosen column, or a value breaks
        :func:`check_sweep_values` (infinite, unphysical, unit switch, constant bias).
    """
    raw_names = {str(v["column"]): str(k) for k, v in conversion.items()
                 if isinstance(v, Mapping) and "column" in v}
    check_sweep_values(path, values, lines=lines, names=raw_names)
    names = list(values)
    arr = np.column_stack([np.asarray(values[c], dtype=float) for c in names])
    n_read = arr.shape[0]
    finite = np.all(np.isfinite(arr), axis=1)
    n_good = int(finite.sum())
    if n_good == 0:
        raise LoaderError(f"{path}: all {n_read} data rows have NaN or empty cells in the chosen columns "
                          f"{names}{nan_context}; expected numbers")
    arr = arr[finite]
    rec: dict[str, Any] = {"kind": kind, "n_rows_read": n_read, "dropped_nan_rows": n_read - n_good}
    if kind == "rt":
        it, ir = names.index("temperature_K"), names.index("resistance_ohm")
        t, r = arr[:, it], arr[:, ir]
        order = np.argsort(t, kind="stable")
        t, r = t[order], r[order]
        uniq, inv, counts = np.unique(t, return_inverse=True, return_counts=True)
        r_mean = np.bincount(inv, weights=r) / counts
        rec["duplicates_averaged"] = int(t.size - uniq.size)
        rec["reordered"] = bool(np.any(order != np.arange(order.size)))
        data = pd.DataFrame({"temperature_K": uniq, "resistance_ohm": r_mean})
    else:
        data = pd.DataFrame({c: arr[:, j] for j, c in enumerate(names)})
        inferred = _infer_direction(data["bias_V"].to_numpy())
        if inferred is None:
            rec["sweep_direction"] = "not inferred"
        else:
            idx, direction, increasing = inferred
            data["sweep_index"] = idx
            data["direction"] = pd.Series(direction, dtype=object)
            rec["sweep_direction"] = "inferred"
            rec["n_sweeps"] = int(idx.max())
            rec["fwd_bias_increasing"] = increasing
    rec.update(extra)
    meta = SweepMeta(
        source_path=str(path),
        loader=loader,
        sample_id=sample_id if sample_id is not None else path.stem,
        raw_header=dict(raw_header),
        units_conversion=dict(conversion),
        extra=rec,
    )
    return Sweep(data, meta)
