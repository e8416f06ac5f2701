"""Nanonis ``.dat`` bias-spectroscopy loader (SW "Generic 4" and "Generic 5").

File layout
-----------
A text header of ``Key<TAB>Value<TAB>`` lines (first line ``Experiment<TAB>bias spectroscopy``),
a blank line, the marker ``[DATA]``, one TAB-separated line of column names and the table.
Column names carry the unit in parentheses and optional bracket tags, in either order::

    Bias calc (V)              calibrated junction bias (preferred bias column)
    Current [AVG] (A)          average of the stored sweeps
    Input 3 [00002] (V)        sweep 2 of an external lock-in output
    Current [00001] [bwd] (A)  backward branch of sweep 1
    LI Demod 1 X (A) [filt]    Generic 5: filtered copy (ignored)

Output frame (long format, one row per bias point and curve)
-------------------------------------------------------------
``bias_V``, ``current_A`` (if a current channel exists), ``dIdV_arb`` (the selected lock-in
channel, raw instrument units, if one exists), ``temperature_K`` (if a temperature channel
exists), ``sweep_index`` (int) and ``direction`` (``"fwd"``/``"bwd"``).

Conventions
-----------
* ``sweep_index`` is 1, 2, ... for individually stored sweeps (``[00001]`` ...) and **-1 for an
  average stored by Nanonis** (``[AVG]`` columns, or untagged columns when the header declares
  more than one sweep - Nanonis then saves only the average).  Untagged columns of a one-sweep
  file are sweep 1.
* ``direction`` ``"fwd"`` is the Nanonis forward branch, i.e. from ``Sweep Start`` to
  ``Sweep End`` (often from positive to negative bias); ``"bwd"`` is the ``[bwd]`` branch.
  Rows keep the file order within each curve; curves are ordered by sweep index, fwd first.
* Lock-in outputs stay in instrument units (``dIdV_arb``): ``Input N (V)`` of an external lock-in
  is arbitrary, and ``LI Demod N X (A)`` of the internal lock-in is a current amplitude whose
  rms/peak convention is not stated in the file; use
  :func:`fitkit.preprocess.calibrate_lockin` to scale it to siemens.
* ``lockin_amplitude_V`` is the **zero-to-peak** bias modulation at the junction and
  ``lockin_amplitude_rms_V = lockin_amplitude_V / sqrt(2)``.  The internal Nanonis lock-in
  (``Lock-in>Amplitude``) is taken as zero-to-peak (the Nanonis convention for the modulation
  amplitude; the file itself does not say, recorded as ``lockin_amplitude_convention``); an
  external lock-in described in a comment such as ``Vac=150mVrms div 1/1000`` is rms at the
  source, divided by the stated divider.
* ``temperature_K``: an operator comment (``T=55mK``) wins, then the mean of a temperature
  channel recorded during the sweep, then a ``Temperature N>Temperature N (K)`` header value; the
  other candidates are kept (``temperature_channel_mean_K``, ``temperature_header_K``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from fitkit.errors import DataValidationError, LoaderError, MissingColumnError
from fitkit.io._common import _cut_last_row, decode, sniff_text, split_lines
from fitkit.io._registry import register_loader
from fitkit.io.base import Loader
from fitkit.io.sweep import Sweep, SweepMeta
from fitkit.units import UnitError, canonical_unit, to_si_factor

__all__ = ["NanonisDatLoader", "parse_column_name", "read_header"]

_COLUMN = re.compile(
    r"^(?P<name>[^\[\(]*?)\s*(?P<pre>(?:\[[^\]]*\]\s*)*)(?:\((?P<unit>[^)]*)\))?\s*(?P<post>(?:\[[^\]]*\]\s*)*)$"
)
_TAG = re.compile(r"\[([^\]]*)\]")
_LOCKIN = (re.compile(r"^LI Demod \d+ X$", re.I), re.compile(r"^Input \d+$", re.I))
_NAMED_LOCKIN = re.compile(
    r"^(?:LI Demod \d+ X|Lock-?In(?:\s*\d+)?(?:\s*X)?|LIX(?:\s*\d+)?(?:\s*omega)?)$", re.I
)
_INPUT = re.compile(r"^Input \d+$", re.I)
_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_TEMP_COMMENT = re.compile(rf"(?<![A-Za-z])T\s*=\s*(?P<v>{_NUM})\s*(?P<u>mK|K)\b")
_VAC_COMMENT = re.compile(
    rf"V\s*ac\s*=\s*(?P<v>{_NUM})\s*(?P<u>[mu\u00b5]?V)\s*(?P<kind>rms|pp|p-p|peak|pk)?"
    r"(?:\s*div(?:ider)?\s*1\s*/\s*(?P<div>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?))?",
    re.I,
)
_EXTERNAL_LOCKIN = re.compile(r"lock-?in|V\s*ac\s*=|\bInput \d+\s*:", re.I)


def is_lockin_name(name: str) -> bool:
    """Whether a channel base name is a lock-in output by its name alone.

    ``LI Demod N X`` (internal lock-in, Generic 5), ``LockIn``/``Lock-in N X`` and ``LIX``
    (older Nanonis versions) are; ``Input N`` is not (see :func:`choose_lockin`).
    """
    return bool(_NAMED_LOCKIN.match(name.strip()))


def choose_lockin(base_names: Sequence[str], header: Mapping[str, str]) -> tuple[str | None, str]:
    """Default dI/dV channel of a Nanonis file and why.

    A named lock-in channel (:func:`is_lockin_name`; ``LI Demod`` first) is taken.  An ``Input N``
    channel is a generic analogue input (a Kelvin-probe controller output, a second preamplifier
    ...) and is taken as dI/dV only when a header comment describes an external lock-in
    (``Vac=...``, "lock-in", ``Input 3: X gain 1k``).

    Returns
    -------
    tuple
        ``(channel base name or None, reason)``.
    """
    named = [n for n in base_names if is_lockin_name(n)]
    named.sort(key=lambda n: not n.lower().startswith("li demod"))
    if named:
        return named[0], f"named lock-in channel {named[0]!r}"
    inputs = [n for n in base_names if _INPUT.match(n.strip())]
    if not inputs:
        return None, "no lock-in channel in the file"
    comments = " ".join(v for k, v in header.items() if re.fullmatch(r"Comment\d*", k))
    if _EXTERNAL_LOCKIN.search(comments):
        return inputs[0], f"{inputs[0]!r}: a header comment describes an external lock-in"
    return None, (f"input channels {inputs} not taken as dI/dV: no header comment describes an external "
                  f"lock-in; pass channel='{inputs[0]}' if it is one")


def parse_column_name(raw: str) -> dict[str, Any]:
    """Split a Nanonis column name into base name, unit and tags.

    Parameters
    ----------
    raw
        Column name as in the file, e.g. ``"Input 3 [00002] [bwd] (V)"``.

    Returns
    -------
    dict
        ``name`` (``"Input 3"``), ``unit`` (``"V"`` or None), ``sweep`` (int >= 1, -1 for
        ``[AVG]``, None when untagged), ``direction`` (``"fwd"``/``"bwd"``), ``filtered`` (bool).
    """
    m = _COLUMN.match(raw.strip())
    if m is None:  # pragma: no cover - the pattern matches any string without stray ')'
        return {"name": raw.strip(), "unit": None, "sweep": None, "direction": "fwd", "filtered": False}
    tags = [t.strip() for t in _TAG.findall((m.group("pre") or "") + (m.group("post") or ""))]
    sweep: int | None = None
    direction = "fwd"
    filtered = False
    for t in tags:
        if t.upper() == "AVG":
            sweep = -1
        elif re.fullmatch(r"[0-9]{1,9}", t):
            sweep = int(t)
        elif t.lower() == "bwd":
            direction = "bwd"
        elif t.lower() == "filt":
            filtered = True
    unit = m.group("unit")
    return {
        "name": m.group("name").strip(),
        "unit": unit.strip() if unit is not None else None,
        "sweep": sweep,
        "direction": direction,
        "filtered": filtered,
    }


def _read_lines(path: Path) -> list[str]:
    """Lines of the file (regular files only; encodings as :func:`fitkit.io._common.decode`).

    A file that does not end with a line break gets an empty last line, so the table parser can
    tell an interrupted write.
    """
    text, _ = decode(path)
    lines = split_lines(text)
    if not text.endswith(("\n", "\r")):
        lines.append(_NO_FINAL_BREAK)
    return lines


_NO_FINAL_BREAK = "\x00no final line break"


def read_header(path: Path, lines: Sequence[str] | None = None) -> tuple[dict[str, str], int]:
    """Parse the header of a Nanonis ``.dat`` file.

    Parameters
    ----------
    path
        File path (used for reading when ``lines`` is None, and in messages).
    lines
        Already-read lines of the file.

    Returns
    -------
    header : dict
        Key -> value text, in file order.
    data_line : int
        0-based index of the ``[DATA]`` line.

    Raises
    ------
    LoaderError
        If the first line is not ``Experiment<TAB>bias spectroscopy``, a header line has no TAB,
        or the ``[DATA]`` marker is missing.
    """
    lines = _read_lines(path) if lines is None else lines
    header: dict[str, str] = {}
    first_seen = False
    for i, line in enumerate(lines):
        s = line.strip()
        if not s or line == _NO_FINAL_BREAK:
            continue
        if s == "[DATA]":
            if not first_seen:
                break
            return header, i
        if "\t" not in line:
            raise LoaderError(
                f"{path}: line {i + 1}: header line {s[:60]!r} has no TAB-separated value; "
                "expected 'Key<TAB>Value<TAB>' lines up to a '[DATA]' marker"
            )
        key, _, rest = line.partition("\t")
        value = rest.split("\t")[0].strip()
        if not first_seen:
            first_seen = True
            if key.strip() != "Experiment" or value.lower() != "bias spectroscopy":
                raise LoaderError(
                    f"{path}: line {i + 1}: found {s[:60]!r}; expected a Nanonis bias-spectroscopy "
                    "header starting with 'Experiment<TAB>bias spectroscopy'"
                )
        header[key.strip()] = value
    if not first_seen:
        raise LoaderError(f"{path}: line 1: empty header; expected 'Experiment<TAB>bias spectroscopy'")
    raise LoaderError(
        f"{path}: no '[DATA]' marker found after {len(lines)} lines; expected the header to end with "
        "a line '[DATA]' followed by the column names and the table"
    )


def _float(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _count(text: str | None) -> int | None:
    """A positive integer count from header text (``"128"``, ``"128E+0"``), else None."""
    value = _float(text)
    if value is None or not math.isfinite(value) or value < 1 or value != int(value) or value > 1e9:
        return None
    return int(value)


def _parse_date(header: dict[str, str]) -> str | None:
    for key in ("Date", "Start time", "Saved Date"):
        text = header.get(key, "").strip()
        if not text:
            continue
        try:
            return datetime.strptime(text, "%d.%m.%Y %H:%M:%S").isoformat()
        except ValueError:
            return text
    return None


def _comment_items(header: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in header.items() if re.fullmatch(r"Comment\d*", k) and v}


def _temperature_from_comments(comments: dict[str, str]) -> tuple[float, str] | None:
    for key, text in comments.items():
        m = _TEMP_COMMENT.search(text)
        if m:
            value = float(m.group("v")) * to_si_factor(m.group("u"), "temperature")
            if math.isfinite(value) and value >= 0:  # 'T=-3K' or 'T=1e400K' is no temperature
                return value, f"{key} {text!r}"
    return None


def _lockin_amplitude(header: dict[str, str], comments: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    freq = _float(header.get("Lock-in>Frequency (Hz)"))
    if freq is not None:
        out["lockin_frequency_Hz"] = freq
    amp = _float(header.get("Lock-in>Amplitude"))
    if amp is not None:
        out.update(
            lockin_amplitude_V=amp,
            lockin_amplitude_rms_V=amp / math.sqrt(2.0),
            lockin_amplitude_source="header Lock-in>Amplitude",
            lockin_amplitude_convention="zero-to-peak (Nanonis internal lock-in; not stated in the file)",
            lockin_status=header.get("Lock-in>Lock-in status"),
            lockin_modulated_signal=header.get("Lock-in>Modulated signal"),
        )
        return out
    for key, text in comments.items():
        m = _VAC_COMMENT.search(text)
        if not m:
            continue
        value = float(m.group("v")) * to_si_factor(m.group("u").replace("\u00b5", "u"), "voltage")
        divider = float(m.group("div")) if m.group("div") else 1.0
        if not (math.isfinite(value) and math.isfinite(divider) and divider > 0):
            continue  # 'div 1/0' or an overflowing value: no amplitude from this comment
        kind = (m.group("kind") or "rms").lower()
        junction = value / divider
        if kind in ("pp", "p-p"):
            peak = junction / 2.0
        elif kind in ("peak", "pk"):
            peak = junction
        else:
            peak = junction * math.sqrt(2.0)
        out.update(
            lockin_amplitude_V=peak,
            lockin_amplitude_rms_V=peak / math.sqrt(2.0),
            lockin_amplitude_source=f"{key} {text!r}",
            lockin_amplitude_convention=(
                f"comment states {kind} at the source (rms assumed when unstated), divided by {divider:g}"
            ),
        )
        return out
    return out


def _parse_table(path: Path, lines: Sequence[str], data_line: int) -> tuple[list[str], np.ndarray]:
    i = data_line + 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines):
        raise DataValidationError(
            f"{path}: line {data_line + 1}: '[DATA]' is not followed by a column-name line; "
            "expected TAB-separated column names and a table"
        )
    names = [c.strip() for c in lines[i].rstrip("\t").split("\t")]
    ncol = len(names)
    rows: list[list[str]] = []
    first_row = i + 1
    body = list(lines[first_row:])
    unterminated = bool(body) and body[-1] == _NO_FINAL_BREAK
    if unterminated:
        body.pop()
    while body and not body[-1].strip():
        body.pop()
    for j, line in enumerate(body):
        fields = line.split("\t")
        if len(fields) == ncol + 1 and fields[-1].strip() == "":
            fields = fields[:-1]
        if len(fields) != ncol:
            raise DataValidationError(
                f"{path}: line {first_row + j + 1}: {len(fields)} fields; expected {ncol} "
                f"(one per column name on line {i + 1}); the table is truncated or ragged"
            )
        rows.append(fields)
    if not rows:
        raise DataValidationError(f"{path}: line {i + 1}: no data rows after the column names")
    if unterminated and _cut_last_row(rows):
        raise DataValidationError(
            f"{path}: line {first_row + len(rows)}: the last line has no line break and its last number "
            f"{rows[-1][-1].strip()!r} is not as wide as those above it; the file is truncated (Nanonis ends "
            "every line with a line break)"
        )
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        where = [k + 1 for k, n in enumerate(names) if n == dup[0]]
        raise DataValidationError(f"{path}: line {i + 1}: column name {dup[0]!r} appears in columns {where}; "
                                  "expected unique column names")
    try:
        table = np.asarray(rows, dtype=float)
    except ValueError:
        for j, fields in enumerate(rows):
            for k, cell in enumerate(fields):
                try:
                    float(cell)
                except ValueError:
                    raise DataValidationError(
                        f"{path}: line {first_row + j + 1}, column {k + 1} ({names[k]!r}): "
                        f"{cell!r} is not a number; expected a decimal number"
                    ) from None
        raise  # pragma: no cover
    return names, table


def _si(path: Path, raw: str, unit: str | None, quantity: str) -> float:
    if unit is None:
        raise LoaderError(f"{path}: column {raw!r} has no unit in parentheses; expected a {quantity} unit")
    try:
        return to_si_factor(unit, quantity)
    except UnitError as err:
        raise LoaderError(f"{path}: column {raw!r}: {err}") from err


@register_loader
class NanonisDatLoader(Loader):
    """Nanonis ``.dat`` bias spectroscopy (Generic 4/5), long format with sweeps and directions."""

    key = "nanonis_dat"
    description = "Nanonis .dat bias spectroscopy (Generic 4/5): sweeps, [AVG], [bwd], lock-in channels"
    extensions = (".dat",)

    @classmethod
    def can_read(cls, path: Path) -> bool:
        """Return True for a ``.dat`` file whose first line is ``Experiment<TAB>bias spectroscopy``."""
        if path.suffix.lower() not in cls.extensions:
            return False
        return sniff_text(path, 256)[0].lower().startswith("experiment\tbias spectroscopy")

    def read(
        self,
        path: Path,
        *,
        channel: str | None = None,
        sweeps: Literal["all", "avg"] | Sequence[int] = "all",
        directions: Literal["both", "fwd", "bwd"] = "both",
        sample_id: str | None = None,
    ) -> Sweep:
        """Read a Nanonis bias-spectroscopy file into one long-format :class:`Sweep`.

        Parameters
        ----------
        path
            The ``.dat`` file.
        channel
            Lock-in channel for ``dIdV_arb``, by base name or full name (``"Input 3"``,
            ``"LI Demod 1 X (A)"``); default: the first ``LI Demod N X`` channel, else the first
            ``Input N`` channel, else no ``dIdV_arb`` column.
        sweeps
            ``"all"``: every individually stored sweep (or the stored average when the file holds
            only an average); ``"avg"``: the average stored by Nanonis (``sweep_index`` -1; a
            one-sweep file returns its sweep); a list of ints selects sweeps, -1 being the average.
        directions
            ``"both"``, ``"fwd"`` or ``"bwd"``.
        sample_id
            Sample name; default the file stem.

        Returns
        -------
        Sweep
            Frame with ``bias_V`` [V], ``current_A`` [A], ``dIdV_arb`` [instrument units],
            ``temperature_K`` [K] (when present), ``sweep_index``, ``direction``; metadata in
            ``meta.extra`` (see the module docstring).

        Raises
        ------
        LoaderError
            Not a bias-spectroscopy file, missing ``[DATA]``, unknown units, invalid options.
        MissingColumnError
            No bias column, or the requested ``channel`` does not exist.
        DataValidationError
            Truncated/ragged table or non-numeric cells (with line and column).
        """
        path = Path(path)
        if directions not in ("both", "fwd", "bwd"):
            raise LoaderError(f"{path}: option directions={directions!r}; expected 'both', 'fwd' or 'bwd'")
        lines = _read_lines(path)
        header, data_line = read_header(path, lines)
        names, table = _parse_table(path, lines, data_line)
        cols = [parse_column_name(n) for n in names]
        declared = header.get("Bias Spectroscopy>Number of sweeps")
        sweeps_declared = int(declared) if declared and re.fullmatch(r"\s*[0-9]{1,9}\s*", declared) else None

        # bias column: calibrated 'Bias calc' first, then 'Bias'
        bias_idx = None
        for want in ("bias calc", "bias"):
            for k, c in enumerate(cols):
                if c["name"].lower() == want and c["sweep"] is None and not c["filtered"]:
                    bias_idx = k
                    break
            if bias_idx is not None:
                break
        if bias_idx is None:
            raise MissingColumnError(
                f"{path}: no bias column; expected 'Bias calc (V)' or 'Bias (V)'; available: {names}"
            )
        bias_factor = _si(path, names[bias_idx], cols[bias_idx]["unit"], "voltage")
        bias = table[:, bias_idx] * bias_factor

        data_cols = [
            (k, c) for k, c in enumerate(cols) if k != bias_idx and not c["filtered"]
        ]
        base_names: list[str] = []
        for _, c in data_cols:
            if c["name"] not in base_names:
                base_names.append(c["name"])
        chan_reason = "chosen by channel="
        chan: str | None
        if channel is None:
            chan, chan_reason = choose_lockin(base_names, header)
        else:
            wanted = parse_column_name(channel)["name"].lower()
            match = [n for n in base_names if n.lower() == wanted]
            if not match:
                raise MissingColumnError(
                    f"{path}: channel {channel!r} not found; available channels: {base_names}"
                )
            chan = match[0]
        current_name = next((n for n in base_names if n.lower() == "current"), None)
        temp_name = next((n for n in base_names if n.lower().startswith("temperature")), None)

        untagged = -1 if (sweeps_declared or 1) > 1 else 1
        curves: dict[tuple[int, str], dict[str, int]] = {}
        for k, c in data_cols:
            key = (untagged if c["sweep"] is None else c["sweep"], c["direction"])
            curves.setdefault(key, {})[c["name"]] = k
        if not curves:
            raise MissingColumnError(f"{path}: no data channel besides the bias column; available: {names}")
        available = sorted({s for s, _ in curves})
        individual = [s for s in available if s >= 1]

        if isinstance(sweeps, str):
            if sweeps == "all":
                chosen = individual or [-1]
            elif sweeps == "avg":
                if -1 in available:
                    chosen = [-1]
                elif len(individual) == 1:
                    chosen = individual
                else:
                    raise LoaderError(
                        f"{path}: sweeps='avg' but the file stores no average; stored sweeps are "
                        f"{individual}; use sweeps='all' and fitkit.preprocess.average_sweeps"
                    )
            else:
                raise LoaderError(
                    f"{path}: option sweeps={sweeps!r}; expected 'all', 'avg' or a list of ints"
                )
        else:
            try:
                chosen = [int(s) for s in sweeps]
            except (TypeError, ValueError) as err:
                raise LoaderError(
                    f"{path}: option sweeps={sweeps!r}; expected 'all', 'avg' or a list of ints"
                ) from err
            missing = [s for s in chosen if s not in available]
            if missing:
                raise LoaderError(
                    f"{path}: sweeps {missing} are not in the file; stored sweep indices are {available} "
                    "(-1 = average)"
                )
        dirs = ("fwd", "bwd") if directions == "both" else (directions,)
        keys = [(s, d) for s in sorted(chosen) for d in ("fwd", "bwd") if d in dirs and (s, d) in curves]
        if not keys:
            have = sorted({d for _, d in curves})
            raise LoaderError(f"{path}: no {directions!r} curves for sweeps {chosen}; the file has {have}")

        conversion: dict[str, Any] = {
            names[bias_idx]: {"column": "bias_V", "factor": bias_factor},
        }
        n = len(bias)
        parts: dict[str, list[np.ndarray]] = {"bias_V": []}
        wanted_cols = [("current_A", current_name, "current"), ("dIdV_arb", chan, None),
                       ("temperature_K", temp_name, "temperature")]
        for col, base, _ in wanted_cols:
            if base is not None:
                parts[col] = []
        sweep_idx: list[np.ndarray] = []
        direction: list[np.ndarray] = []
        for key in keys:
            members = curves[key]
            parts["bias_V"].append(bias)
            for col, base, quantity in wanted_cols:
                if base is None:
                    continue
                member = members.get(base)
                if member is None:
                    parts[col].append(np.full(n, np.nan))
                    continue
                factor = 1.0 if quantity is None else _si(path, names[member], cols[member]["unit"], quantity)
                parts[col].append(table[:, member] * factor)
                conversion[names[member]] = {"column": col, "factor": factor}
            sweep_idx.append(np.full(n, key[0], dtype=np.int64))
            direction.append(np.full(n, key[1], dtype=object))
        frame = pd.DataFrame({c: np.concatenate(v) for c, v in parts.items()})
        frame["sweep_index"] = np.concatenate(sweep_idx)
        frame["direction"] = pd.Series(np.concatenate(direction), dtype=object)

        extra = self._metadata(header, cols, names, table, curves, chan, temp_name, sweeps_declared, n)
        extra["lockin_channel_reason"] = chan_reason
        meta = SweepMeta(
            source_path=str(path),
            loader=self.key,
            sample_id=sample_id if sample_id is not None else path.stem,
            raw_header=header,
            units_conversion=conversion,
            extra=extra,
        )
        return Sweep(frame, meta)

    @staticmethod
    def _metadata(
        header: dict[str, str],
        cols: list[dict[str, Any]],
        names: list[str],
        table: np.ndarray,
        curves: dict[tuple[int, str], dict[str, int]],
        chan: str | None,
        temp_name: str | None,
        sweeps_declared: int | None,
        n_points: int,
    ) -> dict[str, Any]:
        comments = _comment_items(header)
        individual = sorted({s for s, _ in curves if s >= 1})
        extra: dict[str, Any] = {
            "experiment": header.get("Experiment"),
            "sw_version": header.get("NanonisMain>SW Version"),
            "date": _parse_date(header),
            "comments": comments,
            "sweeps_declared": sweeps_declared,
            "sweeps_found": len(individual),
            "average_stored": any(s == -1 for s, _ in curves),
            "backward_stored": any(d == "bwd" for _, d in curves),
            "backward_declared": header.get("Bias Spectroscopy>backward sweep", "").upper() == "TRUE",
            "points_declared": _count(header.get("Bias Spectroscopy>Num Pixel")),
            "points_found": n_points,
            "sweep_start_V": _float(header.get("Bias Spectroscopy>Sweep Start (V)")),
            "sweep_end_V": _float(header.get("Bias Spectroscopy>Sweep End (V)")),
            "bias_calibration_V_per_V": _float(header.get("Bias>Calibration (V/V)")),
            "bias_offset_V": _float(header.get("Bias>Offset (V)")),
            "setpoint_current_A": _float(header.get("Current>Current (A)")),
            "x_m": _float(header.get("X (m)")),
            "y_m": _float(header.get("Y (m)")),
            "z_m": _float(header.get("Z (m)")),
            "integration_time_s": _float(header.get("Bias Spectroscopy>Integration time (s)")),
            "ignored_columns": [n for n, c in zip(names, cols, strict=True) if c["filtered"]],
        }
        if chan is not None:
            unit = next(c["unit"] for c in cols if c["name"] == chan)
            raw = f"{chan} ({unit})" if unit else chan
            extra.update(lockin_channel=chan, lockin_channel_raw=raw, lockin_channel_unit=unit)
            if chan.lower().startswith("li demod"):
                extra["dIdV_arb_note"] = (
                    f"internal lock-in output in {unit} (current amplitude at the modulation); "
                    "dI/dV = X / V_mod up to the demodulator rms/peak convention, which the file does "
                    "not state: kept as dIdV_arb, calibrate with fitkit.preprocess.calibrate_lockin"
                )
            else:
                extra["dIdV_arb_note"] = (
                    f"external lock-in output in {unit} (arbitrary scale); calibrate with "
                    "fitkit.preprocess.calibrate_lockin"
                )
        else:
            extra["lockin_channel"] = None
        extra.update(_lockin_amplitude(header, comments))

        temps: dict[str, Any] = {}
        from_comment = _temperature_from_comments(comments)
        if temp_name is not None:
            idx = [k for k, c in enumerate(cols) if c["name"] == temp_name and not c["filtered"]]
            try:
                factor = to_si_factor(cols[idx[0]]["unit"] or "K", "temperature")
            except UnitError:
                factor = math.nan  # not a temperature unit: no channel temperature
            values = table[:, idx]
            if np.isfinite(factor) and np.isfinite(values).any():
                temps["temperature_channel_mean_K"] = float(np.mean(values[np.isfinite(values)]) * factor)
        header_t = next(
            (
                value * to_si_factor(canonical_unit(u), "temperature")
                for k, v in header.items()
                for u in re.findall(r"^Temperature \d+>.*\((m?K)\)$", k)
                if (value := _float(v)) is not None and math.isfinite(value) and value >= 0
            ),
            None,
        )
        if header_t is not None:
            temps["temperature_header_K"] = header_t
        if from_comment is not None:
            temps.update(temperature_K=from_comment[0], temperature_source=from_comment[1])
        elif "temperature_channel_mean_K" in temps:
            temps.update(temperature_K=temps["temperature_channel_mean_K"],
                         temperature_source=f"mean of channel {temp_name!r}")
        elif header_t is not None:
            temps.update(temperature_K=header_t, temperature_source="header Temperature N value")
        else:
            temps.update(temperature_K=None, temperature_source=None)
        extra.update(temps)
        return extra
