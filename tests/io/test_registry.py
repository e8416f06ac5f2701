"""Loader registry with the generic loaders: format guessing, ambiguity, unknown formats and options."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

import fitkit
from fitkit.errors import LoaderError, UnknownFormatError
from fitkit.io import LOADERS, Loader, guess_format, list_formats, loader_options
from fitkit.io.sweep import Sweep

GUESSES = {
    "rt_mK_kOhm.csv": "text",
    "rt_tsv_comments.txt": "text",
    "rt_whitespace.dat": "text",
    "rt_decimal_comma.csv": "text",
    "rt_bom_latin1.csv": "text",
    "rt_empty.csv": "text",
    "didv_mV.csv": "text",
    "ppms_small.dat": "ppms",
    "ppms_eto_channel.dat": "ppms",
    "ppms_no_data.dat": "ppms",
    "rt_small.h5": "hdf5",
    "didv_small.h5": "hdf5",
    "tdi_rt_two_samples.txt": "stoner_tdi",
    "tdi_pcar_small.txt": "stoner_tdi",
}


@pytest.mark.parametrize(("name", "key"), sorted(GUESSES.items()))
def test_guess_format(test_data, name, key):
    assert guess_format(test_data / name) == key


def test_registered_with_exact_options():
    assert {"text", "ppms", "hdf5", "stoner_tdi"} <= set(list_formats())
    assert list(loader_options("text")) == ["kind", "columns", "units", "normalized", "sample_id"]
    assert list(loader_options("ppms")) == ["channel", "temperature", "sample_id"]
    assert list(loader_options("hdf5")) == ["x", "y", "kind", "units", "normalized", "sample_id"]
    assert list(loader_options("stoner_tdi")) == [
        "resistance",
        "temperature",
        "x",
        "y",
        "units",
        "normalized",
        "ramp",
        "sample_id",
    ]
    assert loader_options("text")["normalized"] is False


def test_load_guesses_and_returns_sweep(test_data):
    s = fitkit.load(test_data / "rt_mK_kOhm.csv")
    assert isinstance(s, Sweep) and s.meta.loader == "text"


def test_unknown_extension(tmp_path):
    p = tmp_path / "data.xyz"
    p.write_text("T (K),R (Ohm)\n1,2\n")
    with pytest.raises(UnknownFormatError, match="data.xyz: no loader recognises this file"):
        fitkit.load(p)


def test_unclaimed_txt_is_unknown(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("just some prose\nwith no table in it\n")
    with pytest.raises(UnknownFormatError, match="notes.txt: no loader recognises"):
        fitkit.load(p)


def test_ambiguous_format_names_all_claimants(test_data, monkeypatch):
    class Greedy(Loader):
        key: ClassVar[str] = "greedy"
        description: ClassVar[str] = "claims every file (test only)"

        @classmethod
        def can_read(cls, path: Path) -> bool:
            return True

        def read(self, path: Path) -> Sweep:
            raise AssertionError("not called")

    monkeypatch.setitem(LOADERS, "greedy", Greedy)
    with pytest.raises(UnknownFormatError, match=r"several loaders claim this file \(\['greedy', 'text'\]\)"):
        fitkit.load(test_data / "rt_mK_kOhm.csv")


def test_unknown_option_raises_listing_valid_ones(test_data):
    with pytest.raises(LoaderError, match=r"unknown option\(s\) \['unit'\] for format 'text'.*'units'"):
        fitkit.load(test_data / "rt_mK_kOhm.csv", unit={"T (mK)": "mK"})
    with pytest.raises(LoaderError, match=r"unknown option\(s\) \['chanel'\] for format 'ppms'"):
        fitkit.load(test_data / "ppms_small.dat", chanel=1)


def test_unknown_format_key_suggests_closest(test_data):
    with pytest.raises(UnknownFormatError, match="did you mean 'text'"):
        fitkit.load(test_data / "rt_mK_kOhm.csv", format="txt")


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        fitkit.load(tmp_path / "absent.csv")
