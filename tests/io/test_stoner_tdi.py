"""Stoner TDI Format 1.5 loader: typed metadata, ::R selection, T2 default, ramps, x/y mode, real files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fitkit.errors import LoaderError, MissingColumnError
from fitkit.io import guess_format, load, validate_didv, validate_rt
from fitkit.io.stoner_tdi import parse_tdi_metadata


def test_parse_tdi_metadata_types():
    meta = parse_tdi_metadata(
        [
            "a{Double Float}=1.5",
            "b{I32}=-3",
            "c{U16}=7",
            "d{Boolean}=False",
            "e{String}=x=y",
            "f{Enum U16 ((A,B))}=B",
            "g{I32}=notanint",
            " ",
            "",
            "garbage",
            "h{Cluster (Cluster (U16,U16))}=(1,2)",
        ]
    )
    assert meta == {
        "a": 1.5,
        "b": -3,
        "c": 7,
        "d": False,
        "e": "x=y",
        "f": "B",
        "g": "notanint",
        "h": "(1,2)",
        "unparsed_metadata": ["garbage"],
    }


def test_two_samples_need_resistance_option(test_data):
    path = test_data / "tdi_rt_two_samples.txt"
    assert guess_format(path) == "stoner_tdi"
    with pytest.raises(LoaderError) as info:
        load(path)
    assert type(info.value) is LoaderError
    assert "several resistance columns ['A::R', 'B::R']" in str(info.value)
    assert "pass resistance=" in str(info.value)


def test_rt_exact_frame_default_T2(test_data):
    s = load(test_data / "tdi_rt_two_samples.txt", resistance="A::R")
    # (T2, A::R) rows: (7,1.0) (8,1.5) (9,1.7) (7.5,1.2) (8,1.4) (NaN,1.6) (9.5,1.9)
    pd.testing.assert_frame_equal(
        s.data,
        pd.DataFrame(
            {"temperature_K": [7.0, 7.5, 8.0, 9.0, 9.5], "resistance_ohm": [1.0, 1.2, 1.45, 1.7, 1.9]}
        ),
    )
    e = s.meta.extra
    assert (e["n_rows_read"], e["dropped_nan_rows"], e["duplicates_averaged"]) == (7, 1, 1)
    assert s.meta.sample_id == "A"
    assert s.meta.units_conversion["temperature: T2"] == {
        "column": "temperature_K",
        "factor": 1.0,
        "unit": "K",
    }
    assert s.meta.units_conversion["A::R"] == {"column": "resistance_ohm", "factor": 1.0, "unit": "ohm"}
    assert e["encoding"] == "latin-1"
    assert e["units_assumed"] == {"temperature: T2": "K", "A::R": "ohm"}
    h = s.meta.raw_header
    assert (h["TDI Format"], h["Temp"], h["Count"], h["Flag"], h["Mode"], h["Bad"]) == (
        "1.5",
        7.5,
        3,
        True,
        "B",
        "x",
    )
    assert h["Label"] == "Nb 30\u00b0 film"
    validate_rt(s)


def test_ramp_selects_iterator_rows(test_data):
    s = load(test_data / "tdi_rt_two_samples.txt", resistance="B::R", ramp=1, sample_id="bilayer")
    pd.testing.assert_frame_equal(
        s.data, pd.DataFrame({"temperature_K": [7.5, 8.0, 9.0, 9.5], "resistance_ohm": [2.2, 2.4, 2.7, 2.9]})
    )
    assert (s.meta.extra["n_rows_read"], s.meta.extra["dropped_nan_rows"], s.meta.extra["ramp"]) == (5, 1, 1)
    assert s.meta.sample_id == "bilayer"
    both = load(test_data / "tdi_rt_two_samples.txt", resistance="B::R", ramp=[0, 1])
    assert both.meta.extra["n_rows_read"] == 7


def test_other_temperature_and_unit_override(test_data):
    s = load(
        test_data / "tdi_rt_two_samples.txt",
        resistance="A::R",
        temperature="temperature: T1",
        units={"A::R": "kohm"},
    )
    np.testing.assert_allclose(s.column("temperature_K"), [7.1, 7.6, 8.1, 9.1, 9.6])
    np.testing.assert_allclose(s.column("resistance_ohm"), [1000.0, 1200.0, 1450.0, 1700.0, 1900.0])
    assert s.meta.extra["units_assumed"] == {"temperature: T1": "K"}


def test_pcar_small_xy(test_data):
    s = load(test_data / "tdi_pcar_small.txt", x="V", y="G", units={"V": "mV"}, normalized=True)
    pd.testing.assert_frame_equal(
        s.data,
        pd.DataFrame(
            {
                "bias_V": [2e-3, 1e-3, 0.0, -1e-3, -2e-3],
                "dIdV_norm": [1.01, 1.20, 0.80, 1.22, 1.00],
                "sweep_index": np.ones(5, dtype=np.int64),
                "direction": pd.Series(["fwd"] * 5, dtype=object),
            }
        ),
        check_exact=False,
        rtol=1e-12,
    )
    assert s.meta.raw_header["Energy Gap"] == 1.5
    assert s.meta.sample_id == "tdi_pcar_small"


BAD = [
    (
        "tdi_pcar_small.txt",
        {},
        MissingColumnError,
        ["no '<sample>::R' resistance column", "['V', 'G', 'Fit']"],
    ),
    ("tdi_pcar_small.txt", {"x": "V", "y": "G"}, LoaderError, ["column 'V'", "pass units={'V': 'mV'}"]),
    (
        "tdi_pcar_small.txt",
        {"x": "V", "y": "G", "units": {"V": "mV"}},
        LoaderError,
        ["column 'G'", "normalized=True"],
    ),
    ("tdi_pcar_small.txt", {"x": "V"}, LoaderError, ["pass both x= and y="]),
    (
        "tdi_pcar_small.txt",
        {"x": "V", "y": "Q", "units": {"V": "mV"}},
        MissingColumnError,
        ["y column 'Q' not found", "available: ['V', 'G', 'Fit']"],
    ),
    (
        "tdi_pcar_small.txt",
        {"x": "V", "y": "G", "units": {"Volts": "mV"}},
        MissingColumnError,
        ["units key 'Volts'"],
    ),
    (
        "tdi_pcar_small.txt",
        {"x": "G", "y": "V", "units": {"G": "S"}},
        LoaderError,
        ["x column 'G' has unit 'S'", "voltage unit"],
    ),
    (
        "tdi_pcar_small.txt",
        {"x": "V", "y": "G", "units": {"V": "mV"}, "normalized": True, "ramp": 0},
        MissingColumnError,
        ["ramp= needs an 'iterator' column"],
    ),
    (
        "tdi_rt_two_samples.txt",
        {"resistance": "C::R"},
        MissingColumnError,
        ["resistance column 'C::R' not found", "['A::R', 'B::R']"],
    ),
    (
        "tdi_rt_two_samples.txt",
        {"resistance": "A::R", "ramp": 4},
        LoaderError,
        ["ramp [4] not found", "ramps present: [0, 1]"],
    ),
    (
        "tdi_rt_two_samples.txt",
        {"resistance": "A::R", "temperature": "temperature: T3"},
        LoaderError,
        ["all 7 data rows have NaN"],
    ),
    (
        "tdi_rt_two_samples.txt",
        {"resistance": "A::R", "x": "A::R", "y": "B::R"},
        LoaderError,
        ["either x=/y= or resistance="],
    ),
    (
        "tdi_nonnumeric.txt",
        {},
        LoaderError,
        ["tdi_nonnumeric.txt", "line 3", "column 'temperature: T2'", "'over'"],
    ),
    ("rt_mK_kOhm.csv", {}, LoaderError, ["line 1 starts with 'T (mK),R (kOhm)'", "TDI Format 1.5"]),
]


@pytest.mark.parametrize(("name", "options", "error", "fragments"), BAD)
def test_bad_input_exact_error(test_data, name, options, error, fragments):
    with pytest.raises(error) as info:
        load(test_data / name, format="stoner_tdi", **options)
    assert type(info.value) is error
    for frag in [*fragments, name]:
        assert frag in str(info.value)


@pytest.mark.shared
def test_real_nb_film(shared_data):
    path = shared_data / "rt_nb_film_stoner" / "6221-Lockin-DAQ Temperature Control -30.0Deg 0.004T.txt"
    assert guess_format(path) == "stoner_tdi"
    with pytest.raises(LoaderError) as info:
        load(path)
    assert "['YIG-Nb-Co::R', 'Nb::R', 'YIG-Co-Nb::R']" in str(info.value)
    s = load(path, resistance="Nb::R")
    e = s.meta.extra
    assert e["n_rows_read"] == 9102 and e["rows_in_file"] == 9102
    assert e["resistance_columns"] == ["YIG-Nb-Co::R", "Nb::R", "YIG-Co-Nb::R"]
    assert e["dropped_nan_rows"] == 0  # T2 is complete; only T3/T4 are all-NaN
    assert len(s.data) == 9102 - e["duplicates_averaged"]
    t = s.column("temperature_K")
    assert 7.0 <= t.min() < 7.01 and 8.89 < t.max() <= 9.0
    r = s.column("resistance_ohm")
    assert r[t > 8.8].mean() > 0.5 and r[t < 7.5].mean() < 0.01  # normal state above, superconducting below
    assert s.meta.sample_id == "Nb"
    assert s.meta.raw_header["2nd Parameter Class"] == "Temperature Control"
    assert s.meta.raw_header["Control: Gate delay"] == 0.0
    validate_rt(s)
    ramp0 = load(path, resistance="Nb::R", ramp=0)
    assert ramp0.meta.extra["n_rows_read"] == 4604
    with pytest.raises(LoaderError, match="all 9102 data rows have NaN"):
        load(path, resistance="Nb::R", temperature="temperature: T3")


@pytest.mark.shared
def test_real_pcar_tdi_matches_csv(shared_data):
    folder = shared_data / "pcar_co_nb_stoner"
    tdi = load(folder / "PCAR TDI.txt", x="V", y="G", units={"V": "mV"}, normalized=True)
    csv = load(
        folder / "PCAR Co Data.csv", columns={"V": "bias", "G": "dIdV"}, units={"V": "mV"}, normalized=True
    )
    assert len(tdi.data) == 117
    np.testing.assert_array_equal(tdi.column("bias_V"), csv.column("bias_V"))
    np.testing.assert_array_equal(tdi.column("dIdV_norm"), csv.column("dIdV_norm"))
    assert tdi.meta.raw_header["Spin Polarisation"] == pytest.approx(0.361109489269)
    assert tdi.meta.raw_header["data_format.v_scale"] == 1000
    fit = load(folder / "PCAR TDI.txt", x="V", y="Fit", units={"V": "mV", "Fit": "norm"})
    assert fit.columns[:2] == ["bias_V", "dIdV_norm"]
    validate_didv(tdi)


def test_empty_and_header_only(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(LoaderError, match="empty.txt: file is empty"):
        load(empty, format="stoner_tdi")
    head = tmp_path / "head.txt"
    head.write_text("TDI Format 1.5\tS::R\ttemperature: T2\n")
    with pytest.raises(LoaderError, match="head.txt: no data rows after the header on line 1"):
        load(head)
