"""Bad-input corpus for every loader: each case is built in tmp_path and has one expected outcome.

An outcome is either a fitkit error whose one-sentence message names the file (and the line or
column where the case has one), or a correct load whose values are checked against an
independent reading of the same bytes (numpy/pandas/struct), or, for cut files, a load whose
every row is a row of the uncut file.  No case may raise a foreign exception, hang (each runs
under a SIGALRM timeout) or return a silently wrong result.

``python tests/io/test_bad_input_corpus.py`` prints the case x outcome table.
"""

from __future__ import annotations

import os
import re
import signal
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd
import pytest

from fitkit.errors import (
    DataValidationError,
    FitkitError,
    InputFileNotFoundError,
    LoaderError,
    UnknownFormatError,
)
from fitkit.io import load
from fitkit.io.nanonis_3ds import read_grid_header, write_3ds

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample_data"
TEST_DATA = REPO / "tests" / "data"
RT_REAL = SAMPLE / "rt_wires" / "Ti1.csv"
DIDV_REAL = SAMPLE / "tunnel_wires" / "Ti1.csv"
NANONIS_REAL = SAMPLE / "real" / "stm_sis_sctip" / "BiasSpectroscopySIS.dat"
TDI_REAL = SAMPLE / "real" / "nb_film_rt" / "nb_film_tdi.txt"
GRID_REAL = SAMPLE / "grid_3ds" / "sc_grid.3ds"
PPMS_SMALL = TEST_DATA / "ppms_small.dat"
TIMEOUT_S = 20.0

RT = "T (K),R (Ohm)\n0.30,10.0\n0.35,120.5\n0.40,800.0\n0.45,1000.0\n0.50,1000.5\n"
RT_T = [0.30, 0.35, 0.40, 0.45, 0.50]
RT_R = [10.0, 120.5, 800.0, 1000.0, 1000.5]
DIDV = "Bias (mV),dI/dV (uS)\n-2,1.5\n-1,1.2\n0,0.4\n1,1.2\n2,1.5\n"


# --------------------------------------------------------------------------- expectations
@dataclass(frozen=True)
class Err:
    """A fitkit error of this class whose message matches ``pattern`` (and names the file)."""

    cls: type[BaseException]
    pattern: str

    def __str__(self) -> str:
        return f"{self.cls.__name__} /{self.pattern}/"


@dataclass(frozen=True)
class Ok:
    """A load that ``check`` accepts (raises AssertionError otherwise)."""

    check: Callable[[Any], None]
    what: str

    def __str__(self) -> str:
        return f"load: {self.what}"


@dataclass(frozen=True)
class ErrOrSubset:
    """A fitkit error naming the file, or a load whose rows are all rows of the uncut file."""

    check: Callable[[Any], None]
    what: str

    def __str__(self) -> str:
        return f"error or {self.what}"


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[Path], tuple[Path, dict[str, Any]]]
    expect: Err | Ok | ErrOrSubset


CASES: list[Case] = []


def case(name: str, expect: Err | Ok | ErrOrSubset) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def deco(make: Callable[[Path], tuple[Path, dict[str, Any]]]) -> Callable[..., Any]:
        CASES.append(Case(name, make, expect))
        return make

    return deco


def write(tmp: Path, name: str, data: bytes | str, encoding: str = "utf-8") -> Path:
    p = tmp / name
    p.write_bytes(data.encode(encoding) if isinstance(data, str) else data)
    return p


def text_case(
    name: str,
    content: str | bytes,
    expect: Err | Ok | ErrOrSubset,
    *,
    file: str = "rt.csv",
    encoding: str = "utf-8",
    **options: Any,
) -> None:
    CASES.append(Case(name, lambda tmp: (write(tmp, file, content, encoding), options), expect))


# --------------------------------------------------------------------------- checks
def frame_is(**columns: list[float]) -> Callable[[Any], None]:
    def check(s: Any) -> None:
        for c, v in columns.items():
            np.testing.assert_allclose(s.data[c].to_numpy(dtype=float), v, rtol=1e-12, atol=0)

    return check


def rt_ok(t: list[float] = RT_T, r: list[float] = RT_R, scale_t: float = 1.0, **extra: Any) -> Ok:
    def check(s: Any) -> None:
        frame_is(temperature_K=[x * scale_t for x in t], resistance_ohm=r)(s)
        for k, v in extra.items():
            assert s.meta.extra[k] == v, (k, s.meta.extra[k], v)

    return Ok(check, f"R(T) {len(t)} rows" + (f" {extra}" if extra else ""))


def rows_subset_of(
    reference: Callable[[], np.ndarray], cols: tuple[str, ...], *, min_rows: int = 1
) -> Callable[[Any], None]:
    """Every loaded row (in SI) is a row of the uncut file (read independently)."""

    def check(s: Any) -> None:
        ref = reference()
        got = s.data[list(cols)].to_numpy(dtype=float)
        assert len(got) >= min_rows
        ref_rows = {tuple(np.round(r, 12)) for r in ref}
        bad = [tuple(r) for r in np.round(got, 12) if tuple(r) not in ref_rows]
        assert not bad, f"rows not in the uncut file: {bad[:3]}"

    return check


def rt_consistent_with(reference: Callable[[], np.ndarray], *, min_rows: int = 1) -> Callable[[Any], None]:
    """Every loaded temperature is one of the file's, and its R lies within the file's R values there
    (the loader averages exact duplicate temperatures)."""

    def check(s: Any) -> None:
        ref = reference()
        ref = ref[np.all(np.isfinite(ref), axis=1)]
        t, r = s.data["temperature_K"].to_numpy(), s.data["resistance_ohm"].to_numpy()
        assert len(t) >= min_rows
        for ti, ri in zip(t, r, strict=True):
            at = ref[ref[:, 0] == ti, 1]
            assert at.size, f"temperature {ti} is not in the file"
            assert at.min() - 1e-12 * abs(at.min()) <= ri <= at.max() + 1e-12 * abs(at.max()), (ti, ri, at)

    return check


def _rt_real_ref() -> np.ndarray:
    a = np.genfromtxt(RT_REAL, delimiter=",", comments="#", skip_header=2)
    a = a[np.argsort(a[:, 0])]
    return a


def _didv_real_ref() -> np.ndarray:
    df = pd.read_csv(DIDV_REAL, comment="#")
    return np.column_stack([df.iloc[:, 0].to_numpy() * 1e-3, df.iloc[:, 1].to_numpy()])


def _nanonis_ref() -> np.ndarray:
    lines = NANONIS_REAL.read_text(encoding="latin-1").splitlines()
    start = lines.index("[DATA]") + 2
    a = np.array([[float(x) for x in ln.split("\t") if x.strip()] for ln in lines[start:] if ln.strip()])
    return a[:, :2]  # Bias calc (V), Current (A)


def _tdi_ref() -> np.ndarray:
    df = pd.read_csv(TDI_REAL, sep="\t", encoding="latin-1", usecols=["temperature: T2", "Nb::R"])
    return df[["temperature: T2", "Nb::R"]].to_numpy(dtype=float)


# --------------------------------------------------------------------------- synthetic text tables
text_case("csv ok", RT, rt_ok())
text_case(
    "csv no final newline, variable width", RT.rstrip("\n"), rt_ok(RT_T[:4], RT_R[:4], truncated_last_line=6)
)
text_case(
    "csv no final newline, fixed width",
    "T (K),R (Ohm)\n0.30,10.00\n0.35,12.05\n0.40,80.00",
    rt_ok([0.30, 0.35, 0.40], [10.0, 12.05, 80.0], truncated_last_line=None),
)
text_case(
    "csv cut inside last number", RT.rstrip("\n")[:-4], rt_ok(RT_T[:4], RT_R[:4], truncated_last_line=6)
)
text_case(
    "csv cut after last delimiter", RT[: RT.rindex(",") + 1], rt_ok(RT_T[:4], RT_R[:4], truncated_last_line=6)
)
text_case("csv cut inside header", "T (K),R (O", Err(LoaderError, r"no data rows after the header on line 1"))
text_case("empty file", "", Err(LoaderError, r"file is empty"))
text_case("whitespace only", " \n\t\n", Err(LoaderError, r"file is empty"))
text_case("header only", "T (K),R (Ohm)\n", Err(LoaderError, r"no data rows after the header on line 1"))
text_case("comments only", "# a\n# b = 1\n", Err(LoaderError, r"file holds only comments"))
text_case("utf-16-le with BOM", "\ufeff" + RT, rt_ok(encoding="utf-16-le"), encoding="utf-16-le")
text_case("utf-16-be with BOM", "\ufeff" + RT, rt_ok(encoding="utf-16-be"), encoding="utf-16-be")
text_case("utf-16-le without BOM", RT, rt_ok(encoding="utf-16-le"), encoding="utf-16-le")
text_case("utf-32 with BOM", "\ufeff" + RT, rt_ok(encoding="utf-32-le"), encoding="utf-32-le")
text_case("utf-8 BOM", "\ufeff" + RT, rt_ok(encoding="utf-8"))
text_case("latin-1 comment", "# Probe: Müller\n" + RT, rt_ok(encoding="latin-1"), encoding="latin-1")
text_case(
    "utf-16 BOM then odd byte",
    b"\xff\xfe" + RT.encode("utf-16-le") + b"\x00\xd8",
    Err(LoaderError, r"UTF-16-LE byte-order mark but byte \d+ is not valid"),
)
text_case(
    "NUL byte inside",
    RT[:20].encode() + b"\x00" + RT[20:].encode(),
    Err(LoaderError, r"line 2 holds a NUL byte"),
)
text_case(
    "random binary as csv",
    np.random.default_rng(1).integers(0, 256, 3000, dtype=np.uint8).tobytes(),
    Err(LoaderError, r"NUL byte|cannot|no data|numbers|column|fields|quoted"),
)
text_case("PNG bytes as csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, Err(LoaderError, r"NUL byte"))
text_case(
    "quoted cell spanning two lines",
    'T (K),R (Ohm)\n0.30,"12\n34"\n0.35,120.5\n',
    Err(LoaderError, r"line 2 opens a quoted cell that does not close"),
)
text_case(
    "quoted numbers",
    'T (K),R (Ohm)\n"0.30","10.0"\n"0.35","120.5"\n0.40,800.0\n0.45,1000.0\n0.50,1000.5\n',
    rt_ok(),
)
text_case(
    "cell over 128 kB",
    'T (K),R (Ohm)\n0.30,10.0\n0.35,"' + "9" * 200_000 + '"\n',
    Err(LoaderError, r"line 3 cannot be split into cells"),
)
text_case(
    "header cell over 128 kB",
    'T (K),"R' + "x" * 200_000 + '"\n0.30,10.0\n',
    Err(LoaderError, r"line 1 cannot be split into cells"),
)
text_case(
    "number of 400 digits",
    "T (K),R (Ohm)\n0.30,10.0\n0.35," + "9" * 400 + "\n",
    Err(LoaderError, r"line 3, column 'R \(Ohm\)': '9999.*infinite or overflows"),
)
text_case(
    "duplicated column name",
    "T (K),R (Ohm),T (K)\n0.3,10,0.3\n0.4,20,0.4\n",
    Err(LoaderError, r"column name 'T \(K\)' appears 2 times in the header on line 1 \(columns \[1, 3\]\)"),
)
text_case(
    "ambiguous temperature columns",
    "T (K),T (mK),R (Ohm)\n0.3,300,10\n0.4,400,20\n",
    Err(LoaderError, r"several columns look like temperature"),
)
text_case(
    "negative kelvin",
    RT.replace("0.35,", "-0.35,"),
    Err(LoaderError, r"line 3, column 'T \(K\)': temperature -0.35 K is negative"),
)
text_case(
    "negative resistance",
    "T (K),R (Ohm)\n0.3,-10\n0.4,-20\n0.5,-30\n",
    Err(LoaderError, r"line 4, column 'R \(Ohm\)': resistance -30 ohm is negative beyond noise"),
)
text_case("noise below zero kept", RT.replace("0.30,10.0", "0.30,-0.5"), rt_ok(r=[-0.5, *RT_R[1:]]))
text_case(
    "inf cell", RT.replace("800.0", "inf"), Err(LoaderError, r"line 4, column 'R \(Ohm\)': 'inf' is infinite")
)
text_case(
    "-inf cell", RT.replace("0.40", "-inf"), Err(LoaderError, r"line 4, column 'T \(K\)': '-inf' is infinite")
)
text_case(
    "1e400 overflows", RT.replace("800.0", "1e400"), Err(LoaderError, r"line 4, column 'R \(Ohm\)': '1e400'")
)
text_case(
    "1e308 kOhm overflows on conversion",
    RT.replace("R (Ohm)", "R (kOhm)").replace("800.0", "1e308"),
    Err(LoaderError, r"line 4, column 'R \(kOhm\)': the value is infinite after conversion to SI ohm"),
)
text_case(
    "1e300 ohm unphysical",
    RT.replace("800.0", "1e300"),
    Err(LoaderError, r"line 4, column 'R \(Ohm\)': 1e\+300 ohm is outside the physical range"),
)
text_case("1e6 K unphysical", RT.replace("0.50,", "1e6,"), Err(LoaderError, r"line 6, column 'T \(K\)'"))
text_case(
    "NaN and empty cells dropped",
    RT.replace("120.5", "NaN").replace("0.45,", ","),
    rt_ok([0.30, 0.40, 0.50], [10.0, 800.0, 1000.5], dropped_nan_rows=2),
)
text_case("all NaN", "T (K),R (Ohm)\nnan,1\n2,\n", Err(LoaderError, r"all 2 data rows have NaN"))
text_case(
    "K to mK halfway",
    "T (K),R (Ohm)\n0.30,10\n0.32,20\n0.34,30\n360,40\n380,50\n",
    Err(LoaderError, r"line 5, column 'T \(K\)': temperature jumps from 0.34 K to 360 K"),
)
text_case(
    "mK throughout",
    RT.replace("T (K)", "T (mK)")
    .replace("0.30,", "300,")
    .replace("0.35,", "350,")
    .replace("0.40,", "400,")
    .replace("0.45,", "450,")
    .replace("0.50,", "500,"),
    rt_ok(),
)
text_case(
    "voltage unit on T column",
    "T (V),R (Ohm)\n0.3,10\n0.4,20\n",
    Err(LoaderError, r"no current or dIdV column found for kind='didv'"),
)
text_case("unknown unit", "T (furlong),R (Ohm)\n0.3,10\n0.4,20\n", Err(LoaderError, r"furlong"))
text_case(
    "missing units", "T,R\n0.3,10\n0.4,20\n", Err(LoaderError, r"column 'T' \(temperature\) has no unit")
)
text_case(
    "non-numeric cell",
    RT.replace("800.0", "abc"),
    Err(LoaderError, r"line 4, column 'R \(Ohm\)': cannot read 'abc'"),
)
text_case(
    "short line mid-file",
    RT.replace("0.35,120.5", "0.35"),
    Err(LoaderError, r"line 3 has 1 fields; expected 2"),
)
text_case(
    "extra non-empty field",
    RT.replace("0.35,120.5", "0.35,120.5,7"),
    Err(LoaderError, r"line 3 has 3 fields"),
)
text_case("extra empty field", RT.replace("0.35,120.5", "0.35,120.5,"), rt_ok())
text_case("semicolon decimal comma", RT.replace(",", ";").replace(".", ","), rt_ok(decimal_comma=True))
text_case("tab separated", RT.replace(",", "\t"), rt_ok(delimiter="tab"), file="rt.tsv")
text_case(
    "whitespace .dat",
    RT.replace(",", "   ").replace("T (K)   R (Ohm)", "T (K)   R (Ohm)"),
    rt_ok(delimiter="whitespace"),
    file="rt.dat",
)
text_case("CR line endings", RT.replace("\n", "\r"), rt_ok())
text_case("numbers as header", "1,2\n3,4\n", Err(LoaderError, r"line 1 holds numbers, not column names"))
text_case("single row", "T (K),R (Ohm)\n0.3,10\n", rt_ok([0.3], [10.0]))
text_case("only delimiters", ",,,\n,,,\n", Err(LoaderError, r"cannot tell which columns|no data|column"))
text_case("wrong extension", RT, Err(UnknownFormatError, r"no loader recognises this file"), file="rt.xyz")
text_case("wrong extension with format=", RT, rt_ok(), file="rt.xyz", format="text")
text_case("csv text named .h5", RT, Err(UnknownFormatError, r"no loader recognises this file"), file="rt.h5")
text_case(
    "csv text named .h5, format=hdf5",
    RT,
    Err(LoaderError, r"not a readable HDF5 file"),
    file="rt.h5",
    format="hdf5",
    x="/T",
    y="/R",
)
text_case("unknown option", RT, Err(LoaderError, r"unknown option\(s\) \['colour'\]"), colour="red")
text_case(
    "didv ok",
    DIDV,
    Ok(
        frame_is(bias_V=[-2e-3, -1e-3, 0, 1e-3, 2e-3], dIdV_S=[1.5e-6, 1.2e-6, 4e-7, 1.2e-6, 1.5e-6]),
        "bias sweep 5 rows",
    ),
    file="g.csv",
)
text_case(
    "constant bias column",
    "Bias (mV),dI/dV (uS)\n1,1.5\n1,1.2\n1,0.4\n",
    Err(LoaderError, r"column 'Bias \(mV\)': all 3 bias values equal 0.001 V"),
    file="g.csv",
)
text_case(
    "bias of 20 kV",
    DIDV.replace("Bias (mV)", "Bias (V)").replace("2,1.5", "20000,1.5"),
    Err(LoaderError, r"line 2, column 'Bias \(V\)': -20000 V is outside the physical range"),
    file="g.csv",
)
text_case(
    "unknown unit kV",
    DIDV.replace("Bias (mV)", "Bias (kV)"),
    Err(LoaderError, r"unknown unit 'kV'"),
    file="g.csv",
)
text_case(
    "didv cut inside last number",
    DIDV.rstrip("\n")[:-2],
    Ok(frame_is(bias_V=[-2e-3, -1e-3, 0, 1e-3]), "4 rows, cut row dropped"),
    file="g.csv",
)
text_case(
    "form feed and U+0085 are whitespace in a cell",
    "T (K),R (Ohm)\n0.3,10\x0c\n0.4,20\u0085\n",
    rt_ok([0.3, 0.4], [10.0, 20.0]),
)


# --------------------------------------------------------------------------- file-system cases
@case("directory named .csv", Err(LoaderError, r"is a directory; expected a data file"))
def _dir(tmp: Path) -> tuple[Path, dict[str, Any]]:
    p = tmp / "d.csv"
    p.mkdir()
    return p, {}


@case("FIFO named .csv", Err(LoaderError, r"is a FIFO \(named pipe\), not a regular file"))
def _fifo(tmp: Path) -> tuple[Path, dict[str, Any]]:
    p = tmp / "pipe.csv"
    os.mkfifo(p)
    return p, {}


@case("FIFO named .csv with format=", Err(LoaderError, r"is a FIFO"))
def _fifo2(tmp: Path) -> tuple[Path, dict[str, Any]]:
    p = tmp / "pipe2.csv"
    os.mkfifo(p)
    return p, {"format": "text"}


@case("symlink loop", Err(LoaderError, r"is a symbolic link loop"))
def _loop(tmp: Path) -> tuple[Path, dict[str, Any]]:
    a, b = tmp / "a.csv", tmp / "b.csv"
    a.symlink_to(b)
    b.symlink_to(a)
    return a, {}


@case("dangling symlink", Err(LoaderError, r"is a symbolic link to a missing file"))
def _dangling(tmp: Path) -> tuple[Path, dict[str, Any]]:
    p = tmp / "gone.csv"
    p.symlink_to(tmp / "nowhere.csv")
    return p, {}


@case("missing file", Err(InputFileNotFoundError, r"no such file"))
def _missing(tmp: Path) -> tuple[Path, dict[str, Any]]:
    return tmp / "missing.csv", {}


@case("symlink to a good file", rt_ok())
def _link(tmp: Path) -> tuple[Path, dict[str, Any]]:
    target = write(tmp, "target.csv", RT)
    p = tmp / "link.csv"
    p.symlink_to(target)
    return p, {}


# --------------------------------------------------------------------------- real text files, mutated
def real_case(
    name: str,
    src: Path,
    mutate: Callable[[bytes], bytes],
    expect: Err | Ok | ErrOrSubset,
    *,
    file: str | None = None,
    **options: Any,
) -> None:
    def make(tmp: Path) -> tuple[Path, dict[str, Any]]:
        return write(tmp, file or src.name.replace(" ", "_"), mutate(src.read_bytes())), options

    CASES.append(Case(name, make, expect))


def cut(frac: float) -> Callable[[bytes], bytes]:
    return lambda b: b[: int(len(b) * frac)]


rt_real_ok = Ok(rt_consistent_with(_rt_real_ref, min_rows=199), "200 rows as numpy reads them")
real_case("rt_wires Ti1 as is", RT_REAL, lambda b: b, rt_real_ok)
for frac in (0.13, 0.29, 0.41, 0.5, 0.57, 0.73, 0.88, 0.9973, 0.9987, 0.99996):
    real_case(
        f"rt_wires Ti1 cut at {frac:.5g}",
        RT_REAL,
        cut(frac),
        Ok(rt_consistent_with(_rt_real_ref), "rows of the uncut file"),
    )
real_case(
    "rt_wires Ti1 a line duplicated",
    RT_REAL,
    lambda b: b.replace(b"\n0.250000,", b"\n0.250000,", 1) + b"\n".join(b.split(b"\n")[40:41]) + b"\n",
    rt_real_ok,
)
real_case(
    "rt_wires Ti1 lines deleted",
    RT_REAL,
    lambda b: b"\n".join(b.split(b"\n")[:30] + b.split(b"\n")[60:]),
    Ok(rt_consistent_with(_rt_real_ref, min_rows=170), "rows of the file"),
)
real_case("rt_wires Ti1 as UTF-16", RT_REAL, lambda b: b.decode().encode("utf-16"), rt_real_ok)
real_case(
    "rt_wires Ti1 second half in mK",
    RT_REAL,
    lambda b: b"\n".join(
        ln if i < 110 else re.sub(rb"^(\d+\.\d+)", lambda m: b"%.3f" % (float(m.group(1)) * 1e3), ln)
        for i, ln in enumerate(b.split(b"\n"))
    ),
    Err(LoaderError, r"line 111, column 'T \(K\)': temperature jumps from 0.419698 K to 421.658 K"),
)
real_case(
    "rt_wires Ti1 one large negative R",
    RT_REAL,
    lambda b: b.replace(b",26.9343", b",-26934.3"),
    Err(LoaderError, r"line 3, column 'R \(Ohm\)': resistance -26934.3 ohm is negative"),
)
real_case(
    "rt_wires Ti1 duplicated header name",
    RT_REAL,
    lambda b: b.replace(b"T (K),R (Ohm)", b"R (Ohm),R (Ohm)"),
    Err(LoaderError, r"appears 2 times|cannot tell|no temperature"),
)
didv_real_ok = Ok(
    rows_subset_of(_didv_real_ref, ("bias_V", "dIdV_norm"), min_rows=480), "rows as pandas reads them"
)
real_case("tunnel_wires Ti1 as is", DIDV_REAL, lambda b: b, didv_real_ok)
for frac in (0.2, 0.5, 0.77, 0.999):
    real_case(
        f"tunnel_wires Ti1 cut at {frac}",
        DIDV_REAL,
        cut(frac),
        Ok(rows_subset_of(_didv_real_ref, ("bias_V", "dIdV_norm")), "rows of the uncut file"),
    )
real_case(
    "tunnel_wires Ti1 header replaced by latin-1 garbage",
    DIDV_REAL,
    lambda b: b"\xe9\xe8\xff" * 30 + b,
    Err(LoaderError, r"line 1|cannot tell|column"),
)

tdi_ok = Ok(rt_consistent_with(_tdi_ref, min_rows=100), "rows as pandas reads them (duplicates averaged)")
real_case("nb_film TDI as is", TDI_REAL, lambda b: b, tdi_ok, resistance="Nb::R")
for frac in (0.3, 0.6, 0.9999):
    real_case(
        f"nb_film TDI cut at {frac}",
        TDI_REAL,
        cut(frac),
        Ok(rt_consistent_with(_tdi_ref), "rows of the uncut file"),
        resistance="Nb::R",
    )
real_case(
    "nb_film TDI duplicated ::R column",
    TDI_REAL,
    lambda b: b.replace(b"Nb::Theta", b"Nb::R", 1),
    Err(LoaderError, r"column name 'Nb::R' appears 2 times in the header on line 1"),
    resistance="Nb::R",
)
real_case(
    "nb_film TDI negative T2",
    TDI_REAL,
    lambda b: b.replace(b"\t8.993E+0\t8.903E+0\t", b"\t8.993E+0\t-8.903E+0\t", 1),
    Err(LoaderError, r"line 2, column 'temperature: T2': temperature -8.903 K is negative"),
    resistance="Nb::R",
)
real_case(
    "nb_film TDI wrong magic",
    TDI_REAL,
    lambda b: b"XDI" + b[3:],
    Err(LoaderError, r"line 1 starts with"),
    format="stoner_tdi",
    resistance="Nb::R",
)
real_case(
    "nb_film TDI as UTF-16",
    TDI_REAL,
    lambda b: b.decode("latin-1").encode("utf-16"),
    tdi_ok,
    format="stoner_tdi",
    resistance="Nb::R",
)

# --------------------------------------------------------------------------- Nanonis .dat
nan_ok = Ok(rows_subset_of(_nanonis_ref, ("bias_V", "current_A"), min_rows=50), "rows as numpy reads them")
real_case("nanonis SIS as is", NANONIS_REAL, lambda b: b, nan_ok)
for frac in (0.1, 0.45, 0.6, 0.8, 0.99, 0.99999):
    real_case(
        f"nanonis SIS cut at {frac}",
        NANONIS_REAL,
        cut(frac),
        ErrOrSubset(rows_subset_of(_nanonis_ref, ("bias_V", "current_A")), "rows of the uncut file"),
    )
real_case("nanonis SIS as UTF-16", NANONIS_REAL, lambda b: b.decode("latin-1").encode("utf-16"), nan_ok)
real_case(
    "nanonis comment T=0.3-0.5K",
    NANONIS_REAL,
    lambda b: b.replace(b"T=80mK", b"T=0.3-0.5K"),
    Ok(
        lambda s: (
            None
            if s.meta.extra["temperature_source"] is None
            or "Comment" not in str(s.meta.extra["temperature_source"])
            else (_ for _ in ()).throw(AssertionError("range read as T"))
        ),
        "no temperature from a range comment",
    ),
)
real_case(
    "nanonis Vac=1.2.3mV",
    NANONIS_REAL,
    lambda b: b.replace(b"Vac=15mVrms", b"Vac=1.2.3mVrms"),
    Ok(lambda s: None, "loads"),
)
real_case(
    "nanonis sweeps = superscript two",
    NANONIS_REAL,
    lambda b: b.replace(b"Number of sweeps\t", b"Number of sweeps\t\xc2\xb2 "),
    Ok(lambda s: None, "loads"),
)
real_case(
    "nanonis Lock-in>Amplitude garbage",
    NANONIS_REAL,
    lambda b: b.replace(b"Bias>Offset (V)\t", b"Lock-in>Amplitude\tabc\t\r\nBias>Offset (V)\t"),
    Ok(lambda s: None, "loads"),
)
real_case(
    "nanonis duplicated column name",
    NANONIS_REAL,
    lambda b: b.replace(b"Input 4 (V)", b"Input 3 (V)"),
    Err(DataValidationError, r"line 84: column name 'Input 3 \(V\)' appears in columns \[3, 4\]"),
)
real_case(
    "nanonis LockIn channel name",
    NANONIS_REAL,
    lambda b: b.replace(b"Input 3 (V)", b"LockIn (V)"),
    Ok(lambda s: assert_equal(s.meta.extra["lockin_channel"], "LockIn"), "dIdV from LockIn"),
)
real_case(
    "nanonis Input channels without lock-in comment",
    NANONIS_REAL,
    lambda b: b.replace(b"Vac=15mVrms div 1/100", b"KPFM").replace(b"Input 3 (V)", b"Input 6 (V)"),
    Ok(lambda s: assert_equal("dIdV_arb" in s.data.columns, False), "no dIdV column"),
)
real_case(
    "nanonis non-numeric cell",
    NANONIS_REAL,
    lambda b: _replace_nth_cell(b, 5, col=0, value=b"xyz"),
    Err(DataValidationError, r"line 90, column 1 \('Bias calc \(V\)'\): 'xyz' is not a number"),
)
real_case(
    "nanonis inf current",
    NANONIS_REAL,
    lambda b: _replace_nth_cell(b, 5, col=1, value=b"inf"),
    Err(LoaderError, r"column 'Current \(A\)': the value is infinite"),
)
real_case(
    "nanonis constant bias",
    NANONIS_REAL,
    lambda b: _set_column(b, 0, b"1.0E-3"),
    Err(LoaderError, r"column 'Bias calc \(V\)': all \d+ bias values equal 0.001 V"),
)
real_case(
    "nanonis no [DATA]",
    NANONIS_REAL,
    lambda b: b.replace(b"[DATA]", b"[DATA"),
    Err(LoaderError, r"no '\[DATA\]' marker|has no TAB"),
)
real_case(
    "nanonis empty after [DATA]",
    NANONIS_REAL,
    lambda b: b[: b.index(b"[DATA]") + 8],
    Err(DataValidationError, r"line 83: '\[DATA\]' is not followed by a column-name line"),
)
real_case(
    "nanonis NUL in header",
    NANONIS_REAL,
    lambda b: b[:300] + b"\x00" + b[301:],
    Err(LoaderError, r"NUL byte"),
)
real_case(
    "nanonis header only first line",
    NANONIS_REAL,
    lambda b: b.split(b"\n")[0],
    Err(LoaderError, r"no '\[DATA\]' marker"),
)


def assert_equal(a: Any, b: Any) -> None:
    assert a == b, (a, b)


def _table_start(b: bytes) -> int:
    lines = b.split(b"\n")
    return next(i for i, ln in enumerate(lines) if ln.strip() == b"[DATA]") + 2


def _replace_nth_cell(b: bytes, row: int, *, col: int, value: bytes) -> bytes:
    lines = b.split(b"\n")
    i = _table_start(b) + row
    cells = lines[i].split(b"\t")
    cells[col] = value
    lines[i] = b"\t".join(cells)
    return b"\n".join(lines)


def _set_column(b: bytes, col: int, value: bytes) -> bytes:
    lines = b.split(b"\n")
    for i in range(_table_start(b), len(lines)):
        cells = lines[i].split(b"\t")
        if len(cells) > col and cells[col].strip():
            cells[col] = value
            lines[i] = b"\t".join(cells)
    return b"\n".join(lines)


# --------------------------------------------------------------------------- PPMS
ppms_ok = rt_ok([7.0, 8.0, 9.0, 10.0], [0.5, 60.0, 120.0, 120.5])
real_case("ppms small channel 1", PPMS_SMALL, lambda b: b, ppms_ok, channel=1)
real_case(
    "ppms cut inside last number",
    PPMS_SMALL,
    lambda b: b.rstrip()[:-3],
    rt_ok([8.0, 9.0, 10.0], [60.0, 120.0, 120.5]),
    channel=1,
)
real_case(
    "ppms duplicated Temperature (K)",
    PPMS_SMALL,
    lambda b: b.replace(b"Magnetic Field (Oe)", b"Temperature (K)"),
    Err(LoaderError, r"column name 'Temperature \(K\)' appears 2 times"),
    channel=1,
)
real_case(
    "ppms negative kelvin",
    PPMS_SMALL,
    lambda b: b.replace(b",9.0,", b",-9.0,"),
    Err(LoaderError, r"line 16, column 'Temperature \(K\)': temperature -9 K is negative"),
    channel=1,
)
real_case(
    "ppms tab-separated table",
    PPMS_SMALL,
    lambda b: (
        b.split(b"[Data]")[0]
        + b"[Data]"
        + b.split(b"[Data]")[1]
        .replace(b",", b"\t")
        .replace(b'"Sequence paused\t waiting"', b"Sequence paused")
    ),
    ppms_ok,
    channel=1,
)
real_case(
    "ppms trailing empty fields left off",
    PPMS_SMALL,
    lambda b: re.sub(rb",+\r\n", b"\r\n", b),
    ppms_ok,
    channel=1,
)
real_case(
    "ppms comment row with 2 fields",
    PPMS_SMALL,
    lambda b: b.replace(b'"Sequence paused, waiting",,,,,,,,,', b"Sequence paused,1015.0"),
    ppms_ok,
    channel=1,
)
real_case(
    "ppms no [Data]",
    PPMS_SMALL,
    lambda b: b.split(b"[Data]")[0],
    Err(LoaderError, r"no '\[Data\]' line found"),
)
real_case(
    "ppms header only",
    PPMS_SMALL,
    lambda b: b.split(b"\r\n,1000.5")[0] + b"\r\n",
    Err(LoaderError, r"no data rows after the header on line 14"),
    channel=1,
)
real_case(
    "ppms multi-line quoted comment",
    PPMS_SMALL,
    lambda b: b.replace(b"paused, waiting", b"paused,\r\n waiting"),
    Err(LoaderError, r"line 17 opens a quoted cell"),
    channel=1,
)
for name in ("ppms_mpms3_tab.dat", "ppms_comment_row.dat", "ppms_trailing_fields.dat"):
    want = rt_ok([9.0, 10.0, 11.0, 12.0], [2.0, 150.0, 305.0, 310.0]) if "mpms3" in name else ppms_ok
    real_case(f"fixture {name}", TEST_DATA / name, lambda b: b, want)


# --------------------------------------------------------------------------- HDF5
def h5_case(
    name: str, build: Callable[[h5py.File], None], expect: Err | Ok | ErrOrSubset, **options: Any
) -> None:
    def make(tmp: Path) -> tuple[Path, dict[str, Any]]:
        p = tmp / "d.h5"
        with h5py.File(p, "w") as f:
            build(f)
        return p, {"x": "/T", "y": "/R", **options}

    CASES.append(Case(name, make, expect))


def _ds(f: h5py.File, t: Any, r: Any, tu: str = "K", ru: str = "ohm") -> None:
    f.create_dataset("T", data=np.asarray(t, dtype=float)).attrs["units"] = tu
    f.create_dataset("R", data=np.asarray(r, dtype=float)).attrs["units"] = ru


h5_case("hdf5 ok", lambda f: _ds(f, RT_T, RT_R), rt_ok())
h5_case(
    "hdf5 two large unwritten datasets",
    lambda f: (
        f.create_dataset("T", shape=(200_000_000,), dtype="f8"),
        f.create_dataset("R", shape=(200_000_000,), dtype="f8"),
    ),
    Err(LoaderError, r"dataset '/T' declares 200000000 values"),
)
h5_case(
    "hdf5 unwritten small dataset",
    lambda f: (f.create_dataset("T", shape=(10,), dtype="f8"), f.create_dataset("R", data=np.ones(10))),
    Err(LoaderError, r"dataset '/T' declares 10 values but none were ever written"),
)
h5_case(
    "hdf5 2-D dataset",
    lambda f: _ds(f, np.ones((2, 3)), RT_R),
    Err(LoaderError, r"expected a 1-D numeric array"),
)
h5_case(
    "hdf5 string dataset",
    lambda f: (f.create_dataset("T", data=np.array([b"a", b"b"])), f.create_dataset("R", data=[1.0, 2.0])),
    Err(LoaderError, r"expected a 1-D numeric array"),
)
h5_case(
    "hdf5 inf value",
    lambda f: _ds(f, RT_T, [1, 2, np.inf, 4, 5]),
    Err(LoaderError, r"row 3, column '/R': the value is infinite"),
)
h5_case(
    "hdf5 negative kelvin",
    lambda f: _ds(f, [-1, 2, 3], [1, 2, 3]),
    Err(LoaderError, r"row 1, column '/T': temperature -1 K"),
)
h5_case("hdf5 length mismatch", lambda f: _ds(f, [1, 2, 3], [1, 2]), Err(LoaderError, r"differ in length"))
h5_case("hdf5 empty datasets", lambda f: _ds(f, [], []), Err(LoaderError, r"dataset '/T' is empty"))
h5_case("hdf5 no x=", lambda f: _ds(f, RT_T, RT_R), Err(LoaderError, r"pass x= and y= dataset paths"), x=None)
h5_case(
    "hdf5 missing dataset",
    lambda f: _ds(f, RT_T, RT_R),
    Err(LoaderError, r"y dataset '/Q' not found"),
    y="/Q",
)
h5_case(
    "hdf5 group as dataset",
    lambda f: (_ds(f, RT_T, RT_R), f.create_group("G")),
    Err(LoaderError, r"'/G' is a group, not a dataset"),
    y="/G",
)
h5_case(
    "hdf5 K to mK switch",
    lambda f: _ds(f, [0.3, 0.32, 0.34, 360, 380], RT_R),
    Err(LoaderError, r"row 4, column '/T': temperature jumps"),
)
h5_case(
    "hdf5 1e308 kOhm",
    lambda f: _ds(f, RT_T, [1, 2, 1e308, 4, 5], ru="kOhm"),
    Err(LoaderError, r"row 3, column '/R'"),
)


@case("hdf5 file cut in half", Err(LoaderError, r"not a readable HDF5 file|damaged HDF5"))
def _h5cut(tmp: Path) -> tuple[Path, dict[str, Any]]:
    p = tmp / "cut.h5"
    with h5py.File(p, "w") as f:
        _ds(f, np.linspace(1, 2, 5000), np.linspace(1, 2, 5000))
    b = p.read_bytes()
    p.write_bytes(b[: len(b) // 2])
    return p, {"x": "/T", "y": "/R"}


@case("hdf5 signature then garbage", Err(LoaderError, r"not a readable HDF5 file|damaged HDF5"))
def _h5garbage(tmp: Path) -> tuple[Path, dict[str, Any]]:
    rng = np.random.default_rng(3)
    return write(tmp, "g.h5", b"\x89HDF\r\n\x1a\n" + rng.integers(0, 256, 4000, dtype=np.uint8).tobytes()), {
        "x": "/T",
        "y": "/R",
    }


@case("hdf5 zero bytes", Err(LoaderError, r"file is empty"))
def _h5empty(tmp: Path) -> tuple[Path, dict[str, Any]]:
    return write(tmp, "e.h5", b""), {"format": "hdf5", "x": "/T", "y": "/R"}


# --------------------------------------------------------------------------- Nanonis .3ds
def _grid_ref_pixel0() -> np.ndarray:
    h = read_grid_header(GRID_REAL)
    raw = GRID_REAL.read_bytes()[h.data_offset : h.data_offset + 4 * h.record_len]
    rec = np.array(struct.unpack(f">{h.record_len}f", raw), dtype=float)
    off = h.channel_offset("Current (A)")
    return rec[off : off + h.points]


def _header_edit(old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    def f(b: bytes) -> bytes:
        head, sep, body = b.partition(b":HEADER_END:")
        assert old in head, old
        return head.replace(old, new, 1) + sep + body

    return f


grid_ok = Ok(
    lambda s: np.testing.assert_array_equal(
        s.data["current_A"].to_numpy()[: len(_grid_ref_pixel0())], _grid_ref_pixel0()
    ),
    "pixel 0 = struct.unpack",
)
real_case("3ds real pixel 0", GRID_REAL, lambda b: b, grid_ok, pixel=0)
real_case(
    "3ds zero channels",
    GRID_REAL,
    lambda b: re.sub(rb'Channels="[^"]*"', b'Channels=""', b, count=1),
    Err(LoaderError, r"header 'Channels' names 0 channels; expected 1"),
    pixel=0,
)
real_case(
    "3ds negative points",
    GRID_REAL,
    lambda b: re.sub(rb"\nPoints=\d+", b"\nPoints=-5", b, count=1),
    Err(LoaderError, r"header 'Points'=-5; expected 1 to"),
    pixel=0,
)
real_case(
    "3ds zero points",
    GRID_REAL,
    lambda b: re.sub(rb"\nPoints=\d+", b"\nPoints=0", b, count=1),
    Err(LoaderError, r"header 'Points'=0"),
    pixel=0,
)
real_case(
    "3ds 100000 x 100000 pixels",
    GRID_REAL,
    lambda b: re.sub(rb'Grid dim="[^"]*"', b'Grid dim="100000 x 100000"', b, count=1),
    Err(LoaderError, r"declares 100000 x 100000 pixels; expected 1 to"),
    pixel=0,
)
real_case(
    "3ds 0 x 5 pixels",
    GRID_REAL,
    lambda b: re.sub(rb'Grid dim="[^"]*"', b'Grid dim="0 x 5"', b, count=1),
    Err(LoaderError, r"declares 0 x 5 pixels"),
)
real_case(
    "3ds cut to the header",
    GRID_REAL,
    lambda b: b[: b.index(b":HEADER_END:") + 14],
    Err(DataValidationError, r"no pixel was measured \(0 of 256 pixels complete\)"),
)
real_case("3ds cut mid-record", GRID_REAL, cut(0.5), grid_ok, pixel=0)
real_case(
    "3ds pixel past the cut",
    GRID_REAL,
    cut(0.5),
    Err(DataValidationError, r"was not measured; the grid was aborted"),
    pixel=200,
)
real_case(
    "3ds no HEADER_END",
    GRID_REAL,
    lambda b: b.replace(b":HEADER_END:", b":HEADER_XXX:"),
    Err(LoaderError, r"no ':HEADER_END:' line in"),
    pixel=0,
)
real_case(
    "3ds duplicated channel",
    GRID_REAL,
    lambda b: re.sub(rb'Channels="([^;"]*);[^;"]*', rb'Channels="\1;\1', b, count=1),
    Err(LoaderError, r"names the channel 'Current \(A\)' 2 times"),
    pixel=0,
)
real_case(
    "3ds experiment size mismatch",
    GRID_REAL,
    lambda b: re.sub(rb"Experiment size \(bytes\)=\d+", b"Experiment size (bytes)=12", b, count=1),
    Err(LoaderError, r"'Experiment size \(bytes\)'=12; expected"),
    pixel=0,
)
real_case(
    "3ds Grid dim not numbers",
    GRID_REAL,
    lambda b: re.sub(rb'Grid dim="[^"]*"', b'Grid dim="a x b"', b, count=1),
    Err(LoaderError, r"header 'Grid dim'='a x b'; expected 'NX x NY'"),
    pixel=0,
)
real_case(
    "3ds comment T=0.3-0.5K",
    GRID_REAL,
    _header_edit(b"Filetype=", b"Comment=T=0.3-0.5K\r\nFiletype="),
    grid_ok,
    pixel=0,
)


@case(
    "3ds 200 MB header without end (size-capped)",
    Err(LoaderError, r"no ':HEADER_END:' line in the first 1048576 bytes"),
)
def _big3ds(tmp: Path) -> tuple[Path, dict[str, Any]]:
    p = tmp / "big.3ds"
    with p.open("wb") as fh:
        fh.write(b'Grid dim="2 x 2"\r\n')
        fh.truncate(200 * 2**20)  # sparse: 200 MB of NULs, no end-of-header
    return p, {}


@case("3ds synthetic: sweep start equals end", Err(LoaderError, r"all 5 bias values equal"))
def _flat3ds(tmp: Path) -> tuple[Path, dict[str, Any]]:
    p = write_3ds(tmp / "s.3ds", np.linspace(-1e-3, 1e-3, 5), {"Current (A)": np.ones((1, 2, 5))})
    b = p.read_bytes()
    h = read_grid_header(p)
    rec = np.frombuffer(b[h.data_offset :], dtype=">f4").copy().reshape(2, h.record_len)
    rec[:, 1] = rec[:, 0]
    p.write_bytes(b[: h.data_offset] + rec.astype(">f4").tobytes())
    return p, {"pixel": 0}


@case(
    "3ds synthetic: Kelvin-probe Input 6 channel",
    Ok(lambda s: assert_equal("dIdV_arb" in s.data.columns, False), "no dIdV column"),
)
def _kpfm3ds(tmp: Path) -> tuple[Path, dict[str, Any]]:
    p = write_3ds(
        tmp / "k.3ds",
        np.linspace(-1, 1, 5),
        {"Current (A)": np.ones((1, 1, 5)), "Input 6 (V)": np.zeros((1, 1, 5))},
        header={"Comment": "KPFM"},
    )
    return p, {"pixel": 0}


@case(
    "3ds synthetic: LockIn channel",
    Ok(lambda s: assert_equal(s.meta.extra["lockin_channel"], "LockIn"), "dIdV from LockIn"),
)
def _lock3ds(tmp: Path) -> tuple[Path, dict[str, Any]]:
    p = write_3ds(
        tmp / "l.3ds",
        np.linspace(-1, 1, 5),
        {"Current (A)": np.ones((1, 1, 5)), "LockIn (V)": np.zeros((1, 1, 5))},
    )
    return p, {"pixel": 0}


# --------------------------------------------------------------------------- runner
class CaseTimeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise CaseTimeout(f"no outcome within {TIMEOUT_S} s")


def run_case(c: Case, tmp: Path) -> tuple[str, str]:
    """Run one case; return (outcome, detail) where outcome is 'pass' or 'FAIL'."""
    path, options = c.make(tmp)
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, TIMEOUT_S)
    try:
        try:
            result = load(path, **options)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
    except CaseTimeout as err:
        return "FAIL", f"hang: {err}"
    except FitkitError as err:
        msg = str(err)
        if getattr(err, "unexpected", False):
            return "FAIL", f"foreign exception wrapped at the boundary: {msg}"
        if isinstance(c.expect, Ok):
            return "FAIL", f"expected a load, got {type(err).__name__}: {msg}"
        if path.name not in msg:
            return "FAIL", f"message does not name the file: {msg}"
        if "\n" in msg.strip():
            return "FAIL", f"message is not one line: {msg!r}"
        if isinstance(c.expect, Err):
            if not isinstance(err, c.expect.cls):
                return "FAIL", f"expected {c.expect.cls.__name__}, got {type(err).__name__}: {msg}"
            if not re.search(c.expect.pattern, msg):
                return "FAIL", f"message {msg!r} does not match /{c.expect.pattern}/"
        return "pass", f"{type(err).__name__}: {msg[len(str(path)) + 2 :][:110]}"
    except BaseException as err:  # noqa: BLE001 - a foreign exception is the failure being tested
        return "FAIL", f"foreign {type(err).__name__}: {err}"
    if isinstance(c.expect, Err):
        return "FAIL", f"expected {c.expect}, but it loaded"
    try:
        c.expect.check(result)
    except AssertionError as err:
        return "FAIL", f"silently wrong result: {err}"
    n = sum(len(s.data) for s in result) if isinstance(result, list) else len(result.data)
    return "pass", f"loaded {n} rows; {c.expect.what}"


@pytest.mark.parametrize("c", CASES, ids=[c.name for c in CASES])
def test_corpus_case(c: Case, tmp_path: Path) -> None:
    outcome, detail = run_case(c, tmp_path)
    assert outcome == "pass", f"{c.name}: {detail}"


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 100
    assert len({c.name for c in CASES}) == len(CASES)


def main() -> int:  # pragma: no cover - prints the table for the report
    import tempfile

    fails = 0
    print("| # | case | expected | outcome |\n|---|---|---|---|")
    for i, c in enumerate(CASES, 1):
        with tempfile.TemporaryDirectory() as d:
            outcome, detail = run_case(c, Path(d))
        fails += outcome != "pass"
        print(f"| {i} | {c.name} | {c.expect} | {outcome}: {detail} |")
    print(f"{len(CASES)} cases, {fails} failures")
    return 1 if fails else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
