"""Helpers shared by the generic loaders (text, PPMS, HDF5, Stoner TDI).

The helpers implement one common policy so every loader behaves the same way:

* **Decoding.** Bytes are read once; a UTF-8 byte-order mark is removed; the text is decoded
  as UTF-8 and, if that fails, as Latin-1 (which never fails).  The encoding used is recorded in
  ``meta.extra["encoding"]``.  An empty (or whitespace-only) file raises
  :class:`~fitkit.errors.LoaderError` ``"<path>: file is empty"``.
* **Truncated last line.** If the *last* data line has fewer fields than the header it is taken as
  an interrupted write: it is dropped and its 1-based line number is stored in
  ``meta.extra["truncated_last_line"]`` (``None`` when nothing was dropped).  A short line anywhere
  else is an error.
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
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fitkit.errors import LoaderError
from fitkit.io.sweep import Sweep, SweepMeta
from fitkit.units import UNITS, UnitError, canonical_unit

__all__ = [
    "QUANTITIES",
    "ColumnPlan",
    "RawTable",
    "build_sweep",
    "canonical_target",
    "decode",
    "kind_from_x_unit",
    "parse_numeric",
    "read_head",
    "unit_token",
    "units_agree",
    "y_quantity",
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
        with path.open("rb") as fh:
            head = fh.read(n)
    except OSError:
        return b""
    if strip_bom and head.startswith(_UTF8_BOM):
        head = head[len(_UTF8_BOM):]
    return head


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
    """Read a text file, strip a UTF-8 BOM and decode it (UTF-8, else Latin-1).

    Returns
    -------
    tuple
        ``(text, encoding)`` with encoding ``"utf-8"`` or ``"latin-1"``.

    Raises
    ------
    LoaderError
        If the file is empty or holds only whitespace.
    """
    raw = path.read_bytes()
    if raw.startswith(_UTF8_BOM):
        raw = raw[len(_UTF8_BOM):]
    if not raw.strip():
        raise LoaderError(f"{path}: file is empty")
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


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

    def column(self, name: str) -> list[str]:
        """Cells of one column (every row has exactly ``len(header)`` cells)."""
        j = self.header.index(name)
        return [r[j] for r in self.rows]


def split_table(path: Path, header: list[str], body: Sequence[tuple[int, str]], delimiter: str | None,
                *, header_line: int, quoting: bool = True) -> RawTable:
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
        Honour CSV double quotes (False: split on the delimiter only).

    Raises
    ------
    LoaderError
        If the table has no data rows, or a line other than the last has too few fields, or a
        line has extra non-empty fields.
    """
    if not body:
        raise LoaderError(f"{path}: no data rows after the header on line {header_line}; the table is empty")
    texts = [t for _, t in body]
    if delimiter is None:
        cells = [t.split() for t in texts]
    elif not quoting:
        cells = [t.split(delimiter) for t in texts]
    else:
        cells = list(csv.reader(texts, delimiter=delimiter))
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
                if k == len(body) - 1:
                    truncated = ln
                    continue
                raise LoaderError(
                    f"{path}: line {ln} has {len(row)} fields; expected {ncol} like the header on line "
                    f"{header_line}"
                )
            if len(row) > ncol:
                if any(c.strip() for c in row[ncol:]):
                    raise LoaderError(
                        f"{path}: line {ln} has {len(row)} fields; expected {ncol} like the header on line "
                        f"{header_line}"
                    )
                row = row[:ncol]
            rows.append(row)
            lines.append(ln)
    if not rows:
        raise LoaderError(f"{path}: no complete data rows after the header on line {header_line}; "
                          "the table is empty")
    return RawTable(header=list(header), rows=rows, lines=lines, truncated_last_line=truncated)


_NAN_WORDS = {"", "nan", "+nan", "-nan"}


def parse_numeric(path: Path, cells: Sequence[str], lines: Sequence[int], column: str,
                  *, decimal_comma: bool = False) -> np.ndarray:
    """Convert text cells of one column to floats (vectorised through :func:`pandas.to_numeric`).

    Empty cells and ``NaN`` give NaN; ``inf`` is accepted (and later dropped as non-finite).

    Raises
    ------
    LoaderError
        Naming the file, line and column of the first cell that is not a number.
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
                f"{path}: line {lines[i]}, column '{column}': cannot read {cells[i]!r} as a number"
            )
    return values


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
                extra: Mapping[str, Any], nan_context: str = "") -> Sweep:
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

    Raises
    ------
    LoaderError
        If every row has a non-finite value in a chosen column.
    """
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
