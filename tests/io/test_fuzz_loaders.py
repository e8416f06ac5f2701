"""Property-based fuzzing of every loader: mutated real files and random bytes raise only fitkit errors.

Seeds are the bundled real files (and small fixtures) of every format.  A mutation is a short list
of edits: byte flips, truncation, line duplication or deletion, a header value replaced by a
hostile one (``-1``, ``1e308``, ``nan``, ``0.3-0.5``, a superscript digit ...), random bytes
inserted.  The property: ``fitkit.load`` either returns sweeps or raises a
:class:`~fitkit.errors.FitkitError` that was raised on purpose (not a foreign exception wrapped at
the contract boundary, which would mean a cause to fix), within a timeout, with a message that
names the file.

CI budget: ``FUZZ_EXAMPLES`` examples per seed (fixed, derandomized); the whole module runs in well
under 60 s.  ``FITKIT_FUZZ_EXAMPLES=5000 python3 -m pytest -q tests/io/test_fuzz_loaders.py`` runs a
bigger budget by hand.
"""

from __future__ import annotations

import os
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fitkit.errors import FitkitError
from fitkit.io import load
from fitkit.io.nanonis_3ds import write_3ds

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample_data"
TEST_DATA = REPO / "tests" / "data"
FUZZ_EXAMPLES = int(os.environ.get("FITKIT_FUZZ_EXAMPLES", "80"))
TIMEOUT_S = 20.0


def _lines_up_to(b: bytes, n: int) -> bytes:
    """The whole lines within the first ``n`` bytes (a valid, shorter file)."""
    return b[: b.rindex(b"\n", 0, n) + 1]


def _tdi_head() -> bytes:
    lines = (SAMPLE / "real" / "nb_film_rt" / "nb_film_tdi.txt").read_bytes().split(b"\n")
    return b"\n".join(lines[:120]) + b"\n"


def _grid_small() -> bytes:
    with tempfile.TemporaryDirectory() as d:
        rng = np.random.default_rng(5)
        p = write_3ds(
            Path(d) / "g.3ds",
            np.linspace(-2e-3, 2e-3, 8),
            {
                "Current (A)": rng.normal(0, 1e-9, (2, 2, 8)),
                "LI Demod 1 X (A)": rng.normal(0, 1e-12, (2, 2, 8)),
            },
            header={"Comment": "T=300mK", "Lock-in>Amplitude": "100E-6"},
        )
        return p.read_bytes()


def _real_grid_head() -> bytes:
    """The real grid's header and its first 3 pixel records (the fuzzed file stays small)."""
    b = (SAMPLE / "grid_3ds" / "sc_grid.3ds").read_bytes()
    end = b.index(b":HEADER_END:") + len(b":HEADER_END:\r\n")
    return b[: end + 3 * (len(b) - end) // 256]


# name -> (file name, bytes, load options)
SEEDS: dict[str, tuple[str, Any, dict[str, Any]]] = {
    "text_rt_real": ("Ti1.csv", lambda: (SAMPLE / "rt_wires" / "Ti1.csv").read_bytes(), {}),
    "text_didv_real": (
        "Ti1.csv",
        lambda: _lines_up_to((SAMPLE / "tunnel_wires" / "Ti1.csv").read_bytes(), 6000),
        {},
    ),
    "text_fixture_mK": ("rt.csv", lambda: (TEST_DATA / "rt_mK_kOhm.csv").read_bytes(), {}),
    "nanonis_dat_real": (
        "s.dat",
        lambda: _lines_up_to(
            (SAMPLE / "real" / "stm_nis_gr_re" / "BiasSpectroscopyNIS.dat").read_bytes(), 40000
        ),
        {},
    ),
    "nanonis_dat_generic5": ("s.dat", lambda: (TEST_DATA / "nanonis_generic5_lidemod.dat").read_bytes(), {}),
    "stoner_tdi_real": ("t.txt", _tdi_head, {"resistance": "Nb::R"}),
    "ppms": ("p.dat", lambda: (TEST_DATA / "ppms_small.dat").read_bytes(), {"channel": 1}),
    "ppms_mpms3": ("p.dat", lambda: (TEST_DATA / "ppms_mpms3_tab.dat").read_bytes(), {}),
    "hdf5": ("d.h5", lambda: (TEST_DATA / "rt_small.h5").read_bytes(), {"x": "/data/T", "y": "/data/R"}),
    "nanonis_3ds_real": ("g.3ds", _real_grid_head, {"pixel": 0}),
    "nanonis_3ds_small": ("g.3ds", _grid_small, {}),
}
_CACHE: dict[str, bytes] = {}


def seed_bytes(name: str) -> bytes:
    if name not in _CACHE:
        _CACHE[name] = SEEDS[name][1]()
    return _CACHE[name]


HOSTILE = [
    b"",
    b"-1",
    b"0",
    b"-0",
    b"1e308",
    b"-1e308",
    b"1e-320",
    b"nan",
    b"inf",
    b"abc",
    b"99999999999999999999",
    b"0.3-0.5",
    b"\xc2\xb2",
    b"1,5",
    b'"',
    b"\t",
    b";",
    b"=",
    b"[DATA]",
    b":HEADER_END:",
    b"\x00",
    b"\xff\xfe",
    b"1e",
    b"--1",
    b"0x10",
    b"1 x 1",
    b"65536 x 65536",
    b"-5 x 3",
    b"T=-3K",
    b"Vac=1e400Vrms div 1/0",
]

edit = st.one_of(
    st.tuples(st.just("flip"), st.floats(0, 1, exclude_max=True), st.integers(0, 255)),
    st.tuples(st.just("truncate"), st.floats(0, 1, exclude_max=True), st.just(0)),
    st.tuples(st.just("dup_line"), st.floats(0, 1, exclude_max=True), st.integers(1, 3)),
    st.tuples(st.just("del_line"), st.floats(0, 1, exclude_max=True), st.integers(1, 3)),
    st.tuples(st.just("header_value"), st.floats(0, 1, exclude_max=True), st.integers(0, len(HOSTILE) - 1)),
    st.tuples(st.just("insert"), st.floats(0, 1, exclude_max=True), st.binary(min_size=1, max_size=16)),
)


def _header_span(b: bytes) -> int:
    for marker in (b"[DATA]", b"[Data]", b":HEADER_END:"):
        k = b.find(marker)
        if k > 0:
            return k
    return min(len(b), 2000)


def mutate(b: bytes, edits: list[tuple[str, float, Any]]) -> bytes:
    for op, where, arg in edits:
        if not b:
            break
        i = int(where * len(b))
        if op == "flip":
            b = b[:i] + bytes([arg]) + b[i + 1 :]
        elif op == "truncate":
            b = b[:i]
        elif op in ("dup_line", "del_line"):
            lines = b.split(b"\n")
            k = int(where * len(lines))
            chunk = lines[k : k + arg]
            lines[k : k + arg] = chunk * 2 if op == "dup_line" else []
            b = b"\n".join(lines)
        elif op == "header_value":
            span = _header_span(b)
            j = int(where * span)
            # replace the value after the next separator in the header (=, TAB or comma)
            seps = [p for p in (b.find(s, j, span) for s in (b"=", b"\t", b",")) if p >= 0]
            if not seps:
                continue
            s0 = min(seps) + 1
            e0 = min(
                [p for p in (b.find(s, s0) for s in (b"\r", b"\n", b"\t", b",", b";", b'"')) if p >= 0]
                or [len(b)]
            )
            b = b[:s0] + HOSTILE[arg] + b[e0:]
        elif op == "insert":
            b = b[:i] + arg + b[i:]
    return b


class FuzzTimeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise FuzzTimeout("load did not finish in time")


def check_load(path: Path, options: dict[str, Any]) -> None:
    """The property: a load returns, or raises an intended fitkit error naming the file, in time."""
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, TIMEOUT_S)
    try:
        load(path, **options)
    except FitkitError as err:
        assert not getattr(err, "unexpected", False), (
            f"foreign exception reached the contract boundary: {err}"
        )
        assert path.name in str(err), f"message does not name the file: {err}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture(scope="module")
def fuzz_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as d:
        yield Path(d)


FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@pytest.mark.parametrize("seed", list(SEEDS))
def test_seed_loads_unmutated(seed: str, fuzz_dir: Path) -> None:
    name, _, options = SEEDS[seed]
    p = fuzz_dir / f"plain_{name}"
    p.write_bytes(seed_bytes(seed))
    got = load(p, **options)  # the unmutated seed is a valid file
    sweeps = got if isinstance(got, list) else [got]
    assert sweeps and all(len(sw.data) > 0 for sw in sweeps)


SEED_FORMAT = {
    "text_rt_real": "text",
    "text_didv_real": "text",
    "text_fixture_mK": "text",
    "nanonis_dat_real": "nanonis_dat",
    "nanonis_dat_generic5": "nanonis_dat",
    "stoner_tdi_real": "stoner_tdi",
    "ppms": "ppms",
    "ppms_mpms3": "ppms",
    "hdf5": "hdf5",
    "nanonis_3ds_real": "nanonis_3ds",
    "nanonis_3ds_small": "nanonis_3ds",
}


@pytest.mark.parametrize("seed", list(SEEDS))
@FUZZ
@given(edits=st.lists(edit, min_size=1, max_size=4), explicit=st.booleans())
def test_mutated_real_files(
    seed: str, fuzz_dir: Path, edits: list[tuple[str, float, Any]], explicit: bool
) -> None:
    """Half the examples name the format, so a mutated magic number still reaches the loader's parser."""
    name, _, options = SEEDS[seed]
    p = fuzz_dir / name
    p.write_bytes(mutate(seed_bytes(seed), edits))
    check_load(p, {**options, "format": SEED_FORMAT[seed]} if explicit else options)


EXTENSIONS = [".csv", ".txt", ".dat", ".tsv", ".h5", ".3ds"]


@FUZZ
@given(
    data=st.binary(max_size=3000),
    ext=st.sampled_from(EXTENSIONS),
    prefix=st.sampled_from(
        [
            b"",
            b"\x89HDF\r\n\x1a\n",
            b'Grid dim="2 x 2"\r\n',
            b"Experiment\tbias spectroscopy\t\r\n",
            b"[Header]\r\n",
            b"TDI Format 1.5\t",
            b"T (K),R (Ohm)\n",
            b"\xff\xfe",
        ]
    ),
)
def test_random_bytes(fuzz_dir: Path, data: bytes, ext: str, prefix: bytes) -> None:
    p = fuzz_dir / f"random{ext}"
    p.write_bytes(prefix + data)
    check_load(p, {"x": "/T", "y": "/R"} if ext == ".h5" else {})
