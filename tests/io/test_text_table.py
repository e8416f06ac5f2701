"""Text-table loader: exact canonical frames per fixture quirk, exact errors per bad input, real PCAR file.

Expected values are written out by hand from the fixture text (SI conversion done by hand), so
the tests do not reuse the loader's own arithmetic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fitkit.errors import LoaderError, MissingColumnError
from fitkit.io import load, validate_didv, validate_rt
from fitkit.io.text_table import TextTableLoader, classify_header


def _rt(path, **options):
    s = load(path, format="text", **options)
    assert s.columns == ["temperature_K", "resistance_ohm"]
    assert s.meta.loader == "text"
    validate_rt(s, min_rows=1)
    return s


@pytest.mark.parametrize(
    ("name", "T", "R"),
    [
        # T (mK) -> K, R (kOhm) -> ohm; file order 1500, 1000, 2000 mK is sorted
        ("rt_mK_kOhm.csv", [1.0, 1.5, 2.0], [500.0, 1250.0, 2000.0]),
        ("rt_tsv_comments.txt", [4.0, 5.0, 6.0], [10.5, 20.25, 30.0]),
        ("rt_whitespace.dat", [1.0, 2.0, 3.0], [100.0, 200.0, 300.0]),
        ("rt_decimal_comma.csv", [1.5, 2.5, 3.0], [10.25, 20.5, 150.0]),
        ("rt_bom_latin1.csv", [7.0, 8.0, 9.0], [1.0, 2.0, 3.0]),
        # T = 3,1,2,2,1 with R = 30,10,18,22,12 -> 1: (10+12)/2, 2: (18+22)/2, 3: 30
        ("rt_unsorted_duplicates.csv", [1.0, 2.0, 3.0], [11.0, 20.0, 30.0]),
        ("rt_nan_rows.csv", [1.0, 3.0, 4.0], [10.0, 30.0, 40.0]),
        ("rt_truncated.csv", [1.0, 2.0, 3.0], [10.0, 20.0, 30.0]),
    ],
)
def test_rt_fixture_exact_frame(test_data, name, T, R):
    s = _rt(test_data / name)
    expected = pd.DataFrame({"temperature_K": T, "resistance_ohm": R})
    pd.testing.assert_frame_equal(s.data, expected, check_exact=False, rtol=1e-12)
    assert s.meta.sample_id == name.rsplit(".", 1)[0]
    assert s.meta.source_path.endswith(name)
    assert s.data.attrs["loader"] == "text"


def test_units_conversion_records_raw_unit_and_factor(test_data):
    s = _rt(test_data / "rt_mK_kOhm.csv")
    assert dict(s.meta.units_conversion) == {
        "T (mK)": {"column": "temperature_K", "factor": 1e-3, "unit": "mK"},
        "R (kOhm)": {"column": "resistance_ohm", "factor": 1e3, "unit": "kOhm"},
    }
    assert s.meta.extra["reordered"] is True


def test_comment_metadata_goes_to_raw_header(test_data):
    s = _rt(test_data / "rt_tsv_comments.txt")
    assert s.meta.raw_header["sample"] == "NW-07"
    assert s.meta.raw_header["operator"] == "A. Tester"
    assert s.meta.raw_header["comments"] == [
        "cooled from 300 K overnight",
        "a percent comment inside the data",
    ]
    assert s.meta.extra["delimiter"] == "tab"
    assert s.meta.extra["header_line"] == 4


def test_bom_and_latin1_fallback(test_data):
    s = _rt(test_data / "rt_bom_latin1.csv")
    assert s.meta.extra["encoding"] == "latin-1"
    assert s.meta.raw_header["operator"] == "J\u00fcrgen M\u00fcller"


def test_decimal_comma_recorded(test_data):
    s = _rt(test_data / "rt_decimal_comma.csv")
    assert (s.meta.extra["delimiter"], s.meta.extra["decimal_comma"]) == ("semicolon", True)


def test_duplicates_averaged_count(test_data):
    assert _rt(test_data / "rt_unsorted_duplicates.csv").meta.extra["duplicates_averaged"] == 2


def test_nan_rows_dropped_and_counted(test_data):
    e = _rt(test_data / "rt_nan_rows.csv").meta.extra
    assert (e["n_rows_read"], e["dropped_nan_rows"]) == (6, 3)


def test_truncated_last_line_dropped_and_recorded(test_data):
    e = _rt(test_data / "rt_truncated.csv").meta.extra
    assert e["truncated_last_line"] == 5
    assert _rt(test_data / "rt_mK_kOhm.csv").meta.extra["truncated_last_line"] is None


def test_whitespace_header_keeps_bracketed_unit(test_data):
    s = _rt(test_data / "rt_whitespace.dat")
    assert list(s.meta.units_conversion) == ["T (K)", "R (ohm)"]


def test_didv_mV_header_units_and_directions(test_data):
    s = load(test_data / "didv_mV.csv")
    expected = pd.DataFrame(
        {
            "bias_V": np.array([-2, -1, 0, 1, 2, 1, 0, -1, -2]) * 1e-3,
            "current_A": np.array([-4, -1, 0, 1, 4, 1, 0, -1, -4]) * 1e-9,
            "dIdV_S": np.array([2, 2, 1.5, 2, 2, 2, 1.5, 2, 2]) * 1e-6,
            "sweep_index": np.ones(9, dtype=np.int64),
            "direction": pd.Series(["fwd"] * 5 + ["bwd"] * 4, dtype=object),
        }
    )
    pd.testing.assert_frame_equal(s.data, expected, check_exact=False, rtol=1e-12)
    assert s.meta.units_conversion["Bias [mV]"] == {"column": "bias_V", "factor": 1e-3, "unit": "mV"}
    assert s.meta.units_conversion["dI/dV (uS)"] == {"column": "dIdV_S", "factor": 1e-6, "unit": "uS"}
    assert s.meta.extra["fwd_bias_increasing"] is True
    validate_didv(s)


def test_two_full_sweeps_share_index_per_pair(tmp_path):
    v = [0, 1, 2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0]
    p = tmp_path / "sweeps.csv"
    p.write_text("V (V),I (A)\n" + "".join(f"{x},{x}\n" for x in v))
    s = load(p)
    assert s.data["sweep_index"].tolist() == [1] * 7 + [2] * 6
    assert s.data["direction"].tolist() == ["fwd"] * 4 + ["bwd"] * 3 + ["fwd"] * 3 + ["bwd"] * 3


def test_jittery_bias_gets_no_direction(test_data):
    s = load(test_data / "didv_jitter.csv")
    assert s.columns == ["bias_V", "dIdV_arb"]
    assert s.meta.extra["sweep_direction"] == "not inferred"
    np.testing.assert_allclose(s.column("bias_V"), [-1e-3, -0.9e-3, -0.95e-3, -0.8e-3, -0.85e-3], rtol=1e-12)


def test_canonical_header_names_need_no_units(test_data):
    s = load(test_data / "didv_canonical.csv")
    np.testing.assert_allclose(s.column("bias_V"), [-1e-3, -0.5e-3, 0, 0.5e-3, 1e-3])
    np.testing.assert_allclose(s.column("dIdV_norm"), [1.01, 1.3, 0.6, 1.3, 1.01])


def test_bare_header_with_declared_units(test_data):
    s = load(
        test_data / "didv_bare_header.csv",
        columns={"V": "bias", "G": "dIdV"},
        units={"V": "mV"},
        normalized=True,
        sample_id="contact-3",
    )
    np.testing.assert_allclose(s.column("bias_V"), [3e-4, 2e-4, 1e-4, 0.0], rtol=1e-12)
    np.testing.assert_allclose(s.column("dIdV_norm"), [1.2, 1.1, 0.9, 0.8])
    assert s.meta.sample_id == "contact-3"
    assert s.meta.units_conversion["G"] == {"column": "dIdV_norm", "factor": 1.0, "unit": "norm"}
    # units keyed by quantity work too; header-inferred columns need no columns= mapping
    s2 = load(test_data / "didv_bare_header.csv", units={"bias": "mV", "dIdV": "uS"})
    np.testing.assert_allclose(s2.column("dIdV_S"), [1.2e-6, 1.1e-6, 0.9e-6, 0.8e-6], rtol=1e-12)


BAD = [
    ("rt_empty.csv", {}, LoaderError, ["rt_empty.csv", "file is empty"]),
    (
        "rt_header_only.csv",
        {},
        LoaderError,
        ["rt_header_only.csv", "no data rows", "line 1", "table is empty"],
    ),
    (
        "rt_nonnumeric.csv",
        {},
        LoaderError,
        ["rt_nonnumeric.csv", "line 3", "column 'R (Ohm)'", "'n/a'", "as a number"],
    ),
    (
        "rt_missing_units.csv",
        {},
        LoaderError,
        ["rt_missing_units.csv", "column 'T'", "no unit", "pass units={'T': 'K'}"],
    ),
    (
        "didv_bare_header.csv",
        {},
        LoaderError,
        ["didv_bare_header.csv", "column 'V'", "pass units={'V': 'mV'}"],
    ),
    (
        "didv_bare_header.csv",
        {"units": {"V": "mV"}},
        LoaderError,
        ["column 'G'", "pass units={'G': 'uS'} or normalized=True"],
    ),
    ("rt_all_nan.csv", {}, LoaderError, ["rt_all_nan.csv", "all 3 data rows", "NaN"]),
    ("rt_short_line.csv", {}, LoaderError, ["rt_short_line.csv", "line 3 has 1 fields", "expected 2"]),
    (
        "rt_two_temperatures.csv",
        {},
        LoaderError,
        ["several columns look like temperature", "T_sample (K)", "pass columns="],
    ),
    ("rt_mK_kOhm.csv", {"kind": "iv"}, LoaderError, ["kind='iv'", "expected 'rt', 'didv' or None"]),
    (
        "rt_mK_kOhm.csv",
        {"kind": "didv"},
        MissingColumnError,
        ["no bias column", "kind='didv'", "available: ['T (mK)', 'R (kOhm)']"],
    ),
    (
        "rt_mK_kOhm.csv",
        {"columns": {"Temp": "temperature"}},
        MissingColumnError,
        ["column 'Temp' not found", "available: ['T (mK)', 'R (kOhm)']"],
    ),
    (
        "rt_mK_kOhm.csv",
        {"columns": {"T (mK)": "temp"}},
        LoaderError,
        ["'temp' is not a quantity", "temperature"],
    ),
    ("rt_mK_kOhm.csv", {"units": {"Q": "K"}}, MissingColumnError, ["units key 'Q'", "neither a column"]),
    ("rt_mK_kOhm.csv", {"units": {"T (mK)": "K"}}, LoaderError, ["'T (mK)' says unit 'mK'", "declares 'K'"]),
    (
        "rt_missing_units.csv",
        {"units": {"T": "mV", "R": "ohm"}},
        LoaderError,
        ["column 'T' (temperature) has unit 'mV'", "expected a temperature unit"],
    ),
    (
        "rt_missing_units.csv",
        {"units": {"T": "furlong", "R": "ohm"}},
        LoaderError,
        ["column 'T'", "unknown unit 'furlong'"],
    ),
    ("didv_mV.csv", {"normalized": True}, LoaderError, ["'dI/dV (uS)'", "normalized=True"]),
    (
        "rt_mK_kOhm.csv",
        {"columns": {"T (mK)": "temperature", "R (kOhm)": "resistance"}, "kind": "didv"},
        LoaderError,
        ["kind='didv' does not use"],
    ),
]


@pytest.mark.parametrize(
    ("name", "options", "error", "fragments"), BAD, ids=[f"{b[0]}-{'-'.join(b[1]) or 'default'}" for b in BAD]
)
def test_bad_input_exact_error(test_data, name, options, error, fragments):
    with pytest.raises(error) as info:
        load(test_data / name, format="text", **options)
    assert type(info.value) is error
    for frag in fragments:
        assert frag in str(info.value)


def test_empty_csv_is_claimed_so_the_error_is_precise(test_data):
    with pytest.raises(LoaderError, match="file is empty"):
        load(test_data / "rt_empty.csv")


def test_classify_header():
    assert classify_header("T (mK)") == ("temperature", "mK")
    assert classify_header("Bias [mV]") == ("bias", "mV")
    assert classify_header("G (uS)") == ("dIdV", "uS")
    assert classify_header("dI/dV (S)") == ("dIdV", "S")
    assert classify_header("B (T)") == (None, "T")  # a field, never a temperature
    assert classify_header("V") == ("bias", None)
    assert classify_header("resistance_ohm") == ("resistance", "ohm")
    assert classify_header("Comment") == (None, None)


def test_can_read_rejects_other_formats(test_data):
    assert not TextTableLoader.can_read(test_data / "ppms_small.dat")
    assert not TextTableLoader.can_read(test_data / "tdi_pcar_small.txt")
    assert not TextTableLoader.can_read(test_data / "nanonis_generic4_single.dat")
    assert TextTableLoader.can_read(test_data / "rt_whitespace.dat")
    assert TextTableLoader.can_read(test_data / "rt_tsv_comments.txt")


@pytest.mark.shared
def test_real_pcar_csv(shared_data):
    path = shared_data / "pcar_co_nb_stoner" / "PCAR Co Data.csv"
    with pytest.raises(LoaderError, match=r"pass units=\{'V': 'mV'\}"):
        load(path)
    s = load(path, columns={"V": "bias", "G": "dIdV"}, units={"V": "mV"}, normalized=True)
    # independent read of the same file (CRLF, bare header) with numpy
    raw = np.loadtxt(path, delimiter=",", skiprows=1)
    assert raw.shape == (117, 2)  # PROVENANCE says "118 points": that is 118 lines including the header
    assert len(s.data) == 117
    np.testing.assert_allclose(s.column("bias_V"), raw[:, 0] * 1e-3, rtol=1e-15)
    np.testing.assert_allclose(s.column("dIdV_norm"), raw[:, 1], rtol=1e-15)
    assert s.column("bias_V")[0] == pytest.approx(20.86327e-3)
    assert s.column("bias_V").min() == pytest.approx(-26.05338e-3)
    assert s.meta.units_conversion["V"] == {"column": "bias_V", "factor": 1e-3, "unit": "mV"}
    # the file runs from +21 mV down to -26 mV in one branch: one sweep, fwd = decreasing bias
    assert set(s.data["direction"]) == {"fwd"}
    assert s.meta.extra["fwd_bias_increasing"] is False
    validate_didv(s)


@pytest.mark.parametrize("delim", [",", ";", "\t", " "])
@pytest.mark.parametrize(
    ("t_unit", "t_factor", "r_unit", "r_factor"),
    [("K", 1.0, "Ohm", 1.0), ("mK", 1e-3, "kOhm", 1e3), ("mK", 1e-3, "MOhm", 1e6)],
)
def test_roundtrip_against_pandas_groupby(tmp_path, rng, delim, t_unit, t_factor, r_unit, r_factor):
    """Random R(T) with duplicates written in several dialects; expected frame from a pandas groupby."""
    t = rng.choice(np.arange(1, 40) * 0.25, size=60)  # many exact duplicates, random order
    r = rng.uniform(0.5, 2.0, size=60)
    names = [f"T ({t_unit})", f"R ({r_unit})"]
    body = "\n".join(f"{float(a)!r}{delim}{float(b)!r}" for a, b in zip(t, r, strict=True))
    p = tmp_path / "rt.txt"
    p.write_text(delim.join(names) + "\n" + body + "\n")
    s = load(p, format="text")
    ref = (
        pd.DataFrame({"temperature_K": t * t_factor, "resistance_ohm": r * r_factor})
        .groupby("temperature_K", as_index=False)["resistance_ohm"]
        .mean()
    )
    pd.testing.assert_frame_equal(s.data, ref, check_exact=False, rtol=1e-12)
    assert s.meta.extra["duplicates_averaged"] == 60 - len(ref)


def test_declared_unit_names_the_quantity_of_an_unknown_column(tmp_path):
    p = tmp_path / "odd.csv"
    p.write_text("Vdc,Idc\n-1,-2\n0,0\n1,2\n")
    s = load(p, units={"Vdc": "mV", "Idc": "nA"})
    assert s.columns[:2] == ["bias_V", "current_A"]
    np.testing.assert_allclose(s.column("current_A"), [-2e-9, 0, 2e-9])
    with pytest.raises(LoaderError, match="cannot tell which columns"):
        load(p)


def test_numeric_header_items_with_units_go_to_extra_in_si(test_data):
    s = load(test_data / "didv_header_values.csv")
    e = s.meta.extra
    assert e["temperature_K"] == pytest.approx(0.3)
    assert e["v_mod_rms_V"] == pytest.approx(5e-6)
    assert e["field_T"] == pytest.approx(0.02)
    assert "g_contact_G0" not in e and "sample_K" not in e  # no unit token / not a number: raw_header only
    assert s.meta.raw_header["g_contact_G0"] == "2.0"
    assert s.meta.raw_header["sample_K"] == "cold"
    np.testing.assert_allclose(s.column("dIdV_norm"), [1.1, 0.5, 1.1])
