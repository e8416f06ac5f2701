"""The loader contract (fitkit.io._registry.contract) holds for every loader, present and future.

Plus the real-file layouts of other instruments and software versions (issue 11): MPMS3 tab
tables, Quantum Design comment rows and rows without trailing empty fields, an older Nanonis
``LockIn`` channel, a Kelvin-probe ``Input 6`` channel.
"""

from __future__ import annotations

import os
import time
import tracemalloc
from pathlib import Path
from typing import ClassVar

import h5py
import numpy as np
import pandas as pd
import pytest

from fitkit.errors import FitkitError, InputFileNotFoundError, LoaderError
from fitkit.io import LOADERS, Loader, Sweep, SweepMeta, guess_format, load, register_loader
from fitkit.io.nanonis_3ds import open_grid, read_grid_header, write_3ds
from fitkit.io.text_table import TextTableLoader


def test_every_registered_loader_is_wrapped():
    assert LOADERS  # the registry is filled on import
    for key, cls in LOADERS.items():
        assert getattr(cls.read, "__fitkit_contract__", False), key


@pytest.fixture
def toy_loader():
    """A future loader registered like the real ones; removed afterwards."""

    @register_loader
    class Toy(Loader):
        key: ClassVar[str] = "toy_contract_test"
        description: ClassVar[str] = "toy"
        extensions: ClassVar[tuple[str, ...]] = (".toy",)
        behaviour: ClassVar[str] = "zero-division"

        def read(self, path: Path, *, mode: str = "zero-division") -> Sweep:
            if mode == "zero-division":
                return 1 / 0  # type: ignore[return-value]
            if mode == "negative-kelvin":
                frame = pd.DataFrame({"temperature_K": [1.0, -2.0], "resistance_ohm": [1.0, 2.0]})
                return Sweep(frame, SweepMeta(source_path=str(path)))
            if mode == "empty-list":
                return []  # type: ignore[return-value]
            frame = pd.DataFrame({"temperature_K": [1.0, 2.0], "resistance_ohm": [1.0, 2.0]})
            return Sweep(frame, SweepMeta(source_path=str(path)))

    yield Toy
    del LOADERS[Toy.key]


def test_future_loader_gets_the_contract(toy_loader, tmp_path):
    p = tmp_path / "a.toy"
    p.write_text("x")
    assert getattr(toy_loader.read, "__fitkit_contract__", False)
    with pytest.raises(
        LoaderError,
        match=r"a\.toy: the 'toy_contract_test' loader cannot read this file "
        r"\(ZeroDivisionError: division by zero\)",
    ) as info:
        load(p)
    assert info.value.unexpected is True and isinstance(info.value.__cause__, ZeroDivisionError)
    # a direct call (not through fitkit.load) is checked as well
    with pytest.raises(LoaderError, match=r"row 2, column 'temperature_K': temperature -2 K is negative"):
        toy_loader().read(p, mode="negative-kelvin")
    with pytest.raises(LoaderError, match="found no curve in the file"):
        load(p, mode="empty-list")
    assert len(load(p, mode="ok").data) == 2  # type: ignore[union-attr]
    os.mkfifo(tmp_path / "b.toy")
    with pytest.raises(LoaderError, match="is a FIFO"):
        toy_loader().read(tmp_path / "b.toy")


def test_fifo_is_never_opened(tmp_path):
    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)
    start = time.monotonic()
    for call in (
        lambda: load(fifo),
        lambda: guess_format(fifo),
        lambda: TextTableLoader().read(fifo),
        lambda: open_grid(fifo),
        lambda: TextTableLoader.can_read(fifo),
    ):
        try:
            call()
        except LoaderError as err:
            assert "is a FIFO (named pipe), not a regular file" in str(err)
    assert time.monotonic() - start < 5


def test_missing_file_is_fitkit_and_file_not_found(tmp_path):
    with pytest.raises(InputFileNotFoundError, match="no such file") as info:
        load(tmp_path / "nope.csv")
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, FitkitError)


def test_size_cap_before_reading(tmp_path, monkeypatch):
    p = tmp_path / "rt.csv"
    p.write_text("T (K),R (Ohm)\n" + "0.3,10\n" * 100)
    monkeypatch.setattr(TextTableLoader, "max_bytes", 200)
    with pytest.raises(LoaderError, match=r"rt\.csv: file has 714 bytes; expected at most 200 bytes"):
        load(p)


def test_hdf5_unwritten_datasets_are_refused_without_allocating(tmp_path):
    p = tmp_path / "lazy.h5"
    with h5py.File(p, "w") as f:
        f.create_dataset("T", shape=(180_000_000,), dtype="f8")
        f.create_dataset("R", shape=(180_000_000,), dtype="f8")
    assert p.stat().st_size < 10_000
    tracemalloc.start()
    try:
        with pytest.raises(LoaderError, match=r"dataset '/T' declares 180000000 values"):
            load(p, x="/T", y="/R")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20e6  # was 2.95 GB


def test_3ds_header_read_in_linear_time_and_capped(tmp_path):
    p = tmp_path / "big.3ds"
    with p.open("wb") as fh:
        fh.write(b'Grid dim="2 x 2"\r\n' + b"Comment=x\r\n" * 10)
        fh.truncate(200 * 2**20)  # 200 MB without ':HEADER_END:' (sparse file)
    start = time.monotonic()
    with pytest.raises(LoaderError, match=r"big\.3ds: no ':HEADER_END:' line in the first 1048576 bytes"):
        read_grid_header(p)
    assert time.monotonic() - start < 2.0  # was 271 s (quadratic)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ('Grid dim="3 x 2"', 'Grid dim="100000 x 100000"'),
            r"declares 100000 x 100000 pixels; expected 1 to",
        ),
        (('Channels="Current (A)"', 'Channels=""'), r"header 'Channels' names 0 channels"),
        (("Points=4", "Points=-3"), r"header 'Points'=-3; expected 1 to"),
    ],
)
def test_3ds_declared_shape_checked_before_allocation(tmp_path, edit, message):
    p = write_3ds(tmp_path / "g.3ds", np.linspace(0, 1, 4), {"Current (A)": np.ones((2, 3, 4))})
    b = p.read_bytes()
    p.write_bytes(b.replace(edit[0].encode(), edit[1].encode(), 1))
    tracemalloc.start()
    try:
        for call in (lambda: load(p), lambda: open_grid(p)):
            with pytest.raises(LoaderError, match=message):
                call()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20e6


# ------------------------------------------------------------------ real layouts of other versions
def test_mpms3_tab_separated_table(test_data):
    s = load(test_data / "ppms_mpms3_tab.dat")
    assert s.meta.loader == "ppms" and s.meta.extra["delimiter"] == "tab"
    assert s.meta.extra["channel"] == "Resistance Ch1 (Ohms)"
    assert s.meta.raw_header["TITLE"] == "NbN film F-12 with ETO resistance"
    pd.testing.assert_frame_equal(
        s.data,
        pd.DataFrame(
            {"temperature_K": [9.0, 10.0, 11.0, 12.0], "resistance_ohm": [2.0, 150.0, 305.0, 310.0]}
        ),
    )


@pytest.mark.parametrize("name", ["ppms_comment_row.dat", "ppms_trailing_fields.dat"])
def test_quantum_design_short_rows(test_data, name):
    s = load(test_data / name, channel=1)
    pd.testing.assert_frame_equal(
        s.data,
        pd.DataFrame({"temperature_K": [7.0, 8.0, 9.0, 10.0], "resistance_ohm": [0.5, 60.0, 120.0, 120.5]}),
    )
    assert s.meta.extra["dropped_nan_rows"] == (1 if "comment" in name else 0)


def test_nanonis_lockin_channel_is_didv(test_data):
    s = load(test_data / "nanonis_lockin_old.dat")
    assert s.meta.extra["lockin_channel"] == "LockIn"
    np.testing.assert_array_equal(s.data["dIdV_arb"], [0.5, 0.6, 0.7, 0.8, 0.9])
    np.testing.assert_allclose(s.data["bias_V"], [2e-3, 1e-3, 0, -1e-3, -2e-3], rtol=0, atol=1e-18)


def test_kelvin_probe_input_is_not_didv(test_data):
    s = load(test_data / "nanonis_kpfm_input6.dat")
    assert "dIdV_arb" not in s.data.columns and s.meta.extra["lockin_channel"] is None
    assert "no header comment describes an external lock-in" in s.meta.extra["lockin_channel_reason"]
    assert s.meta.extra["temperature_K"] == pytest.approx(4.5)
    chosen = load(test_data / "nanonis_kpfm_input6.dat", channel="Input 6")  # the user may still ask for it
    np.testing.assert_array_equal(chosen.data["dIdV_arb"], [0.31, 0.31, 0.32, 0.32, 0.33])


def test_nanonis_input_channel_with_lockin_comment_stays_didv(test_data):
    s = load(test_data / "nanonis_generic4_single.dat")
    assert s.meta.extra["lockin_channel"] == "Input 3"
    assert "external lock-in" in s.meta.extra["lockin_channel_reason"]


def test_grid_default_channel_follows_the_same_rule(tmp_path):
    from fitkit.io.grid_blocks import default_channel

    bias = np.linspace(-1e-3, 1e-3, 5)
    lock = write_3ds(
        tmp_path / "l.3ds",
        bias,
        {
            "Current (A)": np.ones((1, 2, 5)),
            "LI Demod 1 Y (A)": np.ones((1, 2, 5)),
            "LI Demod 1 X (A)": np.ones((1, 2, 5)),
        },
    )
    assert default_channel(open_grid(lock)) == "li_demod_1_x_A"  # X, not the Y component listed first
    kpfm = write_3ds(
        tmp_path / "k.3ds",
        bias,
        {"Current (A)": np.ones((1, 2, 5)), "Input 6 (V)": np.ones((1, 2, 5))},
        header={"Comment": "KPFM"},
    )
    with pytest.raises(
        FitkitError, match=r"k\.3ds: no lock-in channel .*no header comment describes an external"
    ):
        default_channel(open_grid(kpfm))
    ext = write_3ds(
        tmp_path / "e.3ds",
        bias,
        {"Current (A)": np.ones((1, 2, 5)), "Input 3 (V)": np.ones((1, 2, 5))},
        header={"Comment": "Vac=1mVrms div 1/100"},
    )
    assert default_channel(open_grid(ext)) == "input_3_V"
