"""Output files: atomic writes, value formatting, file-name slugs and the run manifest.

Every file fitkit writes goes through :func:`atomic_write_bytes` (a temporary file in the
target folder, ``fsync``, then :func:`os.replace`), so a crash or a full disk never leaves a
half-written result behind: readers see either the old file or the complete new one.

The per-fit report folder (layout there) is written by
:func:`fitkit.report.fit_report.write_fit_report`, which uses the tables and plots; this module
imports neither, so the report package has no import cycle.

A run folder also holds ``run.json`` (:func:`write_manifest`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import hashlib
import html
import io
import json
import logging
import math
import os
import platform
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from fitkit.fitting.record import FitRecord
from fitkit.units import UNITS

__all__ = [
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_csv",
    "atomic_write_json",
    "atomic_write_png",
    "atomic_write_text",
    "format_value_error",
    "json_default",
    "markdown_text",
    "neutralise_cell",
    "neutralise_frame",
    "report_dirname",
    "safe_id",
    "sha256_file",
    "write_manifest",
]

log = logging.getLogger("fitkit")

_DEFAULT_MODE = 0o644


# --------------------------------------------------------------------------------------------
# atomic writes
# --------------------------------------------------------------------------------------------
def _fsync_dir(folder: Path) -> None:
    # Makes the rename durable; not possible on every platform/file system, hence best effort.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path`` atomically.

    Use it for writers that need a file name (h5py, external tools).  On an exception the
    temporary file is removed and ``path`` is untouched.

    Parameters
    ----------
    path
        Final destination.  Its folder is created if needed.

    Yields
    ------
    Path
        Temporary file in the same folder (so :func:`os.replace` is atomic).

    Raises
    ------
    OSError
        If the folder cannot be created or the file cannot be written or renamed.
    """
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        try:
            # mkstemp creates 0600 files; keep the mode of the file we replace, or a normal 0644.
            mode = dest.stat().st_mode & 0o777 if dest.exists() else _DEFAULT_MODE
            os.fchmod(fd, mode)
        finally:
            os.close(fd)
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(dest.parent)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file in the same folder, fsync, ``os.replace``).

    Parameters
    ----------
    path
        Destination file; parent folders are created.
    data
        Content.

    Returns
    -------
    Path
        The destination path.

    Raises
    ------
    OSError
        If the file cannot be written (read-only folder, disk full ...); ``path`` is then unchanged.
    """
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
    return Path(path)


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write text atomically (see :func:`atomic_write_bytes`); newlines are written as ``\\n``.

    Returns
    -------
    Path
        The destination path.

    Raises
    ------
    OSError
        If the file cannot be written.
    """
    return atomic_write_bytes(path, text.encode(encoding))


def atomic_write_png(path: str | os.PathLike[str], fig: Any, *, dpi: int = 110) -> Path:
    """Render a matplotlib figure to PNG and write it atomically (see :func:`atomic_write_bytes`).

    Returns
    -------
    Path
        The destination path.
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return atomic_write_bytes(path, buf.getvalue())


def atomic_write_csv(path: str | os.PathLike[str], frame: Any) -> Path:
    """Write a DataFrame as CSV (no index, ``\\n`` line ends) atomically.

    Returns
    -------
    Path
        The destination path.
    """
    return atomic_write_text(path, neutralise_frame(frame).to_csv(index=False, lineterminator="\n"))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _is_number_text(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def neutralise_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula, made inert by a leading ``'``.

    Text starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return is prefixed with ``'``
    (the OWASP "CSV injection" advice); numbers, and text that is a plain number such as ``-1.5e-3``,
    are left alone.  Line ends inside text become ``\\n`` (so the CSV writer quotes the cell).
    Test: ``tests/test_untrusted_strings.py``.
    """
    if not isinstance(value, str):
        return value
    if value.startswith(_FORMULA_START) and not _is_number_text(value):
        value = "'" + value
    # a bare CR is not quoted by the csv module with "\n" line ends and would split the row
    return value.replace("\r\n", "\n").replace("\r", "\n")


def neutralise_frame(frame: Any) -> Any:
    """A copy of a DataFrame whose text cells pass :func:`neutralise_cell` (column names too)."""
    from pandas.api.types import is_object_dtype, is_string_dtype

    out = frame.copy()
    for col in out.columns:
        if is_object_dtype(out[col].dtype) or is_string_dtype(out[col].dtype):
            out[col] = out[col].map(neutralise_cell)
    out.columns = [neutralise_cell(c) for c in out.columns]
    return out


def markdown_text(text: str) -> str:
    """Untrusted text (sample ids, file names) for Markdown: HTML-escaped; ``\\ ` * [ ] |`` backslashed.

    Raw HTML in a sample id is shown as text, never rendered; ``|`` cannot break a table row.
    """
    out = html.escape(str(text), quote=False)
    for ch in "\\`*[]|":  # code spans, emphasis, links, table cells; "_" inside words is inert
        out = out.replace(ch, "\\" + ch)
    return out.replace("\n", " ").replace("\r", " ")


def json_default(obj: Any) -> Any:
    """``json.dumps`` fallback: numpy scalars/arrays, paths, datetimes, sets, dataclasses, mappings."""
    if hasattr(obj, "tolist") and callable(obj.tolist):
        return obj.tolist()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, (_dt.datetime, _dt.date)):
        return obj.isoformat()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj, key=str)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, Mapping):
        return dict(obj)
    return repr(obj)


def _finite_json(obj: Any) -> Any:
    """Replace NaN/inf floats by None recursively (strict JSON has no NaN)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {str(k): _finite_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite_json(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item) and getattr(obj, "ndim", 1) == 0:
        return _finite_json(obj.item())
    return obj


def atomic_write_json(path: str | os.PathLike[str], obj: Any, *, indent: int = 2) -> Path:
    """Write ``obj`` as strict JSON (NaN/inf -> null; numpy, paths, datetimes converted) atomically.

    Returns
    -------
    Path
        The destination path.

    Raises
    ------
    OSError
        If the file cannot be written.
    """
    text = json.dumps(_finite_json(obj), indent=indent, default=json_default, allow_nan=False,
                      ensure_ascii=False)
    return atomic_write_text(path, text + "\n")


# --------------------------------------------------------------------------------------------
# concise value(error) notation
# --------------------------------------------------------------------------------------------
def _unit_text(unit: str) -> str:
    if unit in ("", "1"):
        return ""
    u = UNITS.get(unit)
    return u.display if u is not None else unit


def _sig_text(x: float, ndig: int) -> str:
    """``x`` rounded to ``ndig`` significant digits, trailing zeros kept: ``1.4``, ``0.30``, ``12000``.

    Magnitudes below 1e-3 or from 1e5 (after rounding) use a power of ten: ``-4.0e-5``, ``1.2e5``.
    """
    if x == 0:
        return "0"
    exp = math.floor(math.log10(abs(x)))
    r = round(x, ndig - 1 - exp)
    if r != 0 and math.floor(math.log10(abs(r))) != exp:  # 9.96 -> 10: one more integer digit
        exp += 1
    if 1e-3 <= abs(r) < 1e5:
        decimals = max(0, ndig - 1 - exp)
        return f"{r:.{decimals}f}"
    return f"{r / 10.0**exp:.{ndig - 1}f}e{exp}"


def format_value_error(value: float, err: float | None, unit: str = "") -> str:
    """Format a value and its standard error in concise notation: ``0.231(4) meV``.

    The uncertainty is rounded with the Particle Data Group rule: its three leading digits
    100-354 keep two significant digits, 355-949 one, 950-999 round up to 1000 and keep two;
    the value is rounded to the same decimal place.  The digits in parentheses are the error
    in units of the last digit shown (``1.2345(12)`` means 1.2345 +/- 0.0012; when the last
    digit is left of the decimal point, the error is written in full: ``12300(700)``).
    Magnitudes below 1e-3 or from 1e5 use a power of ten: ``1.23(4)e-7``.

    When the error dwarfs the value, so that the value is smaller than one unit of the last
    digit the error allows (rounding it there would print ``0`` or a digit that is not its
    own: ``0(12000)`` for 1.408), the concise form would misquote the fitted value.  Then the
    value is printed with two significant digits and the error separately with its PDG
    digits: ``1.4 ± 12000``, ``-4.0e-5 ± 0.30 µS``.  So the printed central value always
    rounds to the fitted value at the printed precision, and it is ``0`` only for a value
    that is exactly zero.

    Parameters
    ----------
    value
        Best value, in ``unit``.
    err
        One-sigma standard error in ``unit``; None, NaN, inf or <= 0 means unknown, and the
        value is then shown with 4 significant digits and no parentheses.
    unit
        Unit token (``"meV"``, ``"kohm"``) shown in its display form (``meV``, ``kΩ``);
        ``""`` or ``"1"`` for none.

    Returns
    -------
    str
        E.g. ``"0.231(4) meV"``, ``"5.3(12) K"``, ``"0.2312 meV"`` (no error),
        ``"1.4 ± 12000"`` (error much larger than the value).

    References
    ----------
    R. L. Workman et al. (Particle Data Group), "Review of Particle Physics",
    Prog. Theor. Exp. Phys. 2022, 083C01, Introduction, section 5.3 (rounding of errors).
    """
    u = _unit_text(unit)
    suffix = f" {u}" if u else ""
    v = float(value)
    if not math.isfinite(v):
        return f"{v}{suffix}"
    e = None if err is None else float(err)
    if e is None or not math.isfinite(e) or e <= 0:
        return f"{v:.4g}{suffix}"
    v0 = v
    mag = max(abs(v), e)
    exp10 = 0
    if mag >= 1e5 or mag < 1e-3:
        exp10 = math.floor(math.log10(mag))
        v, e = v / 10.0**exp10, e / 10.0**exp10
    lead_exp = math.floor(math.log10(e))
    lead3 = round(e / 10.0 ** (lead_exp - 2))
    if lead3 >= 1000:  # e.g. 0.09996 rounds to 1000 in three digits
        lead_exp += 1
        lead3 = 100
    if lead3 <= 354:
        ndig = 2
    elif lead3 <= 949:
        ndig = 1
    else:
        ndig, lead_exp = 2, lead_exp + 1
        e = 10.0**lead_exp
    decimals = ndig - 1 - lead_exp
    step = 10.0 ** (-decimals)
    if v != 0 and abs(v) < step:  # the error's last digit would swallow the value
        e_round = round(e / step) * step * 10.0**exp10
        return f"{_sig_text(v0, 2)} ± {_sig_text(e_round, ndig)}{suffix}"
    if decimals > 0:
        err_digits = round(e * 10.0**decimals)
        text = f"{v:.{decimals}f}({err_digits})"
    else:
        text = f"{round(v / step) * step:.0f}({round(e / step) * step:.0f})"
    if text.startswith("-") and float(text.split("(")[0]) == 0:
        text = text[1:]
    if exp10:
        text += f"e{exp10}"
    return text + suffix


# --------------------------------------------------------------------------------------------
# report folder
# --------------------------------------------------------------------------------------------
_SLUG = re.compile(r"[^A-Za-z0-9._+-]+")


def safe_id(text: str, default: str = "item") -> str:
    """A file-name-safe version of ``text``: runs of other characters than letters, digits and
    ``. _ + -`` become ``_``; leading/trailing ``.`` and ``_`` are stripped; ``default`` if nothing is left.

    The one slug function of fitkit (item ids, report folders, plot and series file names).

    >>> safe_id("Ti wire #3 (20 um)"), safe_id("sis+sis"), safe_id("..", "fit")
    ('Ti_wire_3_20_um', 'sis+sis', 'fit')
    """
    return _SLUG.sub("_", str(text)).strip("._") or default


def report_dirname(record: FitRecord) -> str:
    """Default folder name of a fit report: ``"<sample>__<model_key>"`` (file-system safe).

    The sample is ``record.sample_id``, else the stem of ``record.source_path``, else ``"fit"``.
    """
    sample = record.sample_id or (Path(record.source_path).stem if record.source_path else "fit")
    return f"{safe_id(sample, 'fit')}__{safe_id(record.model_key, 'fit')}"


# --------------------------------------------------------------------------------------------
# manifest
# --------------------------------------------------------------------------------------------
def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks.

    Raises
    ------
    OSError
        If the file cannot be read.
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("fitkit", "lmfit", "numpy", "scipy", "pandas", "matplotlib", "h5py"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _config_dict(config: Any) -> Any:
    if config is None:
        return None
    for attr in ("to_dict", "as_dict", "model_dump"):
        fn = getattr(config, attr, None)
        if callable(fn):
            return fn()
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return dataclasses.asdict(config)
    if isinstance(config, Mapping):
        return dict(config)
    return repr(config)


def _time(t: Any) -> str | None:
    if t is None:
        return None
    if isinstance(t, (int, float)):
        return _dt.datetime.fromtimestamp(t, tz=_dt.UTC).isoformat()
    if isinstance(t, _dt.datetime):
        return (t if t.tzinfo else t.astimezone()).isoformat()
    return str(t)


def write_manifest(outdir: str | os.PathLike[str], config: Any, inputs: Iterable[str | os.PathLike[str]],
                   started: Any, finished: Any, *, extra: Mapping[str, Any] | None = None) -> Path:
    """Write ``run.json``: resolved config, package versions, input hashes and times.

    Parameters
    ----------
    outdir
        Run folder (created if needed).
    config
        The resolved configuration: a dataclass, an object with ``to_dict()``, or a mapping.
    inputs
        Input data files; each is hashed (SHA-256).  A missing file is recorded with
        ``"sha256": null`` and an ``"error"``.
    started, finished
        Start and end times (``datetime``, POSIX timestamp or ISO string).
    extra
        Further JSON-able entries (e.g. ``{"n_ok": 10, "n_failed": 1}``).

    Returns
    -------
    Path
        ``outdir / "run.json"``.

    Raises
    ------
    OSError
        If the manifest cannot be written.
    """
    files = []
    for p in inputs:
        entry: dict[str, Any] = {"path": os.fspath(p)}
        try:
            entry["sha256"] = sha256_file(p)
            entry["bytes"] = os.path.getsize(p)
        except OSError as err:
            entry["sha256"] = None
            entry["error"] = f"{type(err).__name__}: {err}"
        files.append(entry)
    t0, t1 = _time(started), _time(finished)
    duration = None
    with contextlib.suppress(TypeError, ValueError):
        if t0 is not None and t1 is not None:
            duration = (_dt.datetime.fromisoformat(t1) - _dt.datetime.fromisoformat(t0)).total_seconds()
    manifest = {
        "manifest_version": 1,
        "started": t0,
        "finished": t1,
        "duration_s": duration,
        "versions": _versions(),
        "platform": platform.platform(),
        "command": sys.argv,
        "config": _config_dict(config),
        "inputs": files,
    }
    if extra:
        manifest.update(dict(extra))
    return atomic_write_json(Path(outdir) / "run.json", manifest)
