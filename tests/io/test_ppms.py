"""PPMS .dat loader: header parsing, channel choice, empty cells, bad inputs."""

from __future__ import annotations

import pandas as pd
import pytest

from fitkit.errors import LoaderError, MissingColumnError
from fitkit.io import guess_format, load, validate_rt
from fitkit.io.ppms import PPMSLoader, resistance_channels


def test_guess_format(test_data):
    assert guess_format(test_data / "ppms_small.dat") == "ppms"
    assert guess_format(test_data / "ppms_eto_channel.dat") == "ppms"
    assert not PPMSLoader.can_read(test_data / "rt_whitespace.dat")


@pytest.mark.parametrize("channel", [1, "Bridge 1 Resistance (Ohms)"])
def test_channel_1_exact_frame(test_data, channel):
    s = load(test_data / "ppms_small.dat", channel=channel)
    # cooling 10 -> 7 K; the quoted comment row (empty numbers) is dropped
    expected = pd.DataFrame(
        {"temperature_K": [7.0, 8.0, 9.0, 10.0], "resistance_ohm": [0.5, 60.0, 120.0, 120.5]}
    )
    pd.testing.assert_frame_equal(s.data, expected)
    e = s.meta.extra
    assert (e["n_rows_read"], e["dropped_nan_rows"], e["duplicates_averaged"]) == (5, 1, 0)
    assert e["channel"] == "Bridge 1 Resistance (Ohms)"
    assert s.meta.units_conversion["Bridge 1 Resistance (Ohms)"] == {
        "column": "resistance_ohm",
        "factor": 1.0,
        "unit": "Ohms",
    }
    assert s.meta.units_conversion["Temperature (K)"] == {
        "column": "temperature_K",
        "factor": 1.0,
        "unit": "K",
    }
    assert s.meta.sample_id == "ppms_small"
    validate_rt(s)


def test_channel_2_has_an_extra_empty_cell(test_data):
    s = load(test_data / "ppms_small.dat", channel=2, sample_id="ref")
    pd.testing.assert_frame_equal(
        s.data, pd.DataFrame({"temperature_K": [7.0, 9.0, 10.0], "resistance_ohm": [20.0, 54.5, 55.0]})
    )
    assert s.meta.extra["dropped_nan_rows"] == 2
    assert s.meta.sample_id == "ref"


def test_header_items_into_raw_header(test_data):
    h = load(test_data / "ppms_small.dat", channel=1).meta.raw_header
    assert h["TITLE"] == "Nb nanowire NW-07 cooldown"
    assert h["BYAPP"] == "Resistivity,1.4,1.0"
    assert h["INFO"] == ["NW-07,SAMPLE1_NAME", "Reference film,SAMPLE2_NAME", "APPNAME,Resistivity"]
    assert h["DATATYPE"] == ["COMMENT,1", "TIME,2"]
    assert h["comments"] == ["PPMS Resistivity option data file (hand-made fixture, realistic layout)"]


def test_eto_naming_auto_channel_and_duplicate_average(test_data):
    s = load(test_data / "ppms_eto_channel.dat")
    # Ch2 is empty, so Ch1 is chosen; T = 2.0 twice with R = 1.0, 2.0 -> 1.5
    pd.testing.assert_frame_equal(
        s.data, pd.DataFrame({"temperature_K": [1.5, 2.0, 2.5], "resistance_ohm": [0.0, 1.5, 1.5]})
    )
    assert s.meta.extra["channel"] == "Resistance Ch1 (Ohms)"
    assert s.meta.extra["duplicates_averaged"] == 1


def test_resistance_channels_excludes_resistivity():
    header = [
        "Bridge 1 Resistivity (Ohm-cm)",
        "Bridge 1 Resistance (Ohms)",
        "Resistance Ch2 (Ohms)",
        "Temperature (K)",
    ]
    assert resistance_channels(header) == ["Bridge 1 Resistance (Ohms)", "Resistance Ch2 (Ohms)"]


BAD = [
    (
        "ppms_small.dat",
        {},
        LoaderError,
        ["several resistance channels have data", "Bridge 2 Resistance (Ohms)", "pass channel="],
    ),
    (
        "ppms_small.dat",
        {"channel": 3},
        MissingColumnError,
        ["no resistance channel 3", "Bridge 1 Resistance (Ohms)"],
    ),
    (
        "ppms_small.dat",
        {"channel": "Bridge 9 Resistance (Ohms)"},
        MissingColumnError,
        ["'Bridge 9 Resistance (Ohms)' not found", "available:"],
    ),
    ("ppms_small.dat", {"channel": 1.5}, LoaderError, ["channel=1.5 is not valid"]),
    (
        "ppms_small.dat",
        {"channel": 1, "temperature": "T (K)"},
        MissingColumnError,
        ["temperature column 'T (K)' not found"],
    ),
    ("ppms_no_data.dat", {}, LoaderError, ["ppms_no_data.dat", "no '[Data]' line"]),
]


@pytest.mark.parametrize(("name", "options", "error", "fragments"), BAD)
def test_bad_input_exact_error(test_data, name, options, error, fragments):
    with pytest.raises(error) as info:
        load(test_data / name, **options)
    assert type(info.value) is error
    for frag in fragments:
        assert frag in str(info.value)


def test_nonnumeric_and_truncated(tmp_path, test_data):
    text = (test_data / "ppms_eto_channel.dat").read_text()
    bad = tmp_path / "bad.dat"
    bad.write_text(text.replace(",3.0,2.0,0,2.0,,0.1", ",3.0,2.0,0,oops,,0.1"))
    with pytest.raises(
        LoaderError, match=r"bad.dat: line 8, column 'Resistance Ch1 \(Ohms\)': cannot read 'oops'"
    ):
        load(bad)
    cut = tmp_path / "cut.dat"
    cut.write_text(text.rstrip("\n").rsplit(",", 3)[0])  # last line loses its last fields
    s = load(cut)
    assert s.meta.extra["truncated_last_line"] == 9
    assert len(s.data) == 2


def test_empty_and_header_only(tmp_path):
    empty = tmp_path / "empty.dat"
    empty.write_bytes(b"")
    with pytest.raises(LoaderError, match="empty.dat: file is empty"):
        load(empty, format="ppms")
    head = tmp_path / "head.dat"
    head.write_text("[Header]\nTITLE,x\n[Data]\nComment,Temperature (K),Bridge 1 Resistance (Ohms)\n")
    with pytest.raises(
        LoaderError, match="head.dat: no data rows after the header on line 4; the table is empty"
    ):
        load(head)
    nocols = tmp_path / "nocols.dat"
    nocols.write_text("[Header]\nTITLE,x\n[Data]\n")
    with pytest.raises(LoaderError, match="no column header after \\[Data\\] on line 3"):
        load(nocols)
