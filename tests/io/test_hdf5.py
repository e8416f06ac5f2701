"""HDF5 loader: dataset selection, unit attributes, declared units, bad inputs."""

from __future__ import annotations

import h5py
import numpy as np
import pandas as pd
import pytest

from fitkit.errors import LoaderError, MissingColumnError
from fitkit.io import guess_format, load, validate_rt
from fitkit.io.hdf5_ import HDF5Loader


def test_guess_format_and_sniff(test_data, tmp_path):
    assert guess_format(test_data / "rt_small.h5") == "hdf5"
    fake = tmp_path / "fake.h5"
    fake.write_text("T,R\n1,2\n")
    assert not HDF5Loader.can_read(fake)


def test_rt_exact_frame_units_from_attributes(test_data):
    s = load(test_data / "rt_small.h5", x="/data/T", y="/data/R")
    # T = 3, 1, NaN, 2 K and R = 0.3, 0.1, 0.25, 0.2 kOhm: NaN row dropped, sorted, kOhm -> ohm
    pd.testing.assert_frame_equal(
        s.data,
        pd.DataFrame({"temperature_K": [1.0, 2.0, 3.0], "resistance_ohm": [100.0, 200.0, 300.0]}),
        check_exact=False,
        rtol=1e-12,
    )
    assert s.meta.units_conversion["/data/R"] == {"column": "resistance_ohm", "factor": 1e3, "unit": "kOhm"}
    assert s.meta.extra["dropped_nan_rows"] == 1
    assert dict(s.meta.raw_header) == {
        "sample": "NW-07",
        "operator": "A. Tester",
        "n_points": 4,
        "field_T": 0.5,
    }
    assert s.meta.sample_id == "rt_small"
    assert s.meta.extra["datasets"] == ["/data/R", "/data/R_bare", "/data/T", "/data/label"]
    validate_rt(s)


@pytest.mark.parametrize("key", ["/data/R_bare", "data/R_bare", "R_bare", "resistance"])
def test_declared_unit_for_dataset_without_attribute(test_data, key):
    s = load(test_data / "rt_small.h5", x="/data/T", y="/data/R_bare", units={key: "ohm"}, sample_id="x")
    np.testing.assert_array_equal(s.column("resistance_ohm"), [100.0, 200.0, 300.0])
    assert s.meta.sample_id == "x"


def test_didv_unit_attribute_singular_and_normalized(test_data):
    s = load(test_data / "didv_small.h5", x="/sweep/bias", y="/sweep/G", normalized=True)
    pd.testing.assert_frame_equal(
        s.data,
        pd.DataFrame(
            {
                "bias_V": [-2e-3, -1e-3, 0.0, 1e-3, 2e-3],
                "dIdV_norm": [1.0, 1.4, 0.2, 1.4, 1.0],
                "sweep_index": np.ones(5, dtype=np.int64),
                "direction": pd.Series(["fwd"] * 5, dtype=object),
            }
        ),
        check_exact=False,
        rtol=1e-12,
    )
    s = load(test_data / "didv_small.h5", x="/sweep/bias", y="/sweep/I")
    np.testing.assert_allclose(s.column("current_A"), [-2e-9, -1.2e-9, 0, 1.2e-9, 2e-9], rtol=1e-12)


BAD = [
    ({}, LoaderError, ["pass x= and y=", "/data/T"]),
    (
        {"x": "/data/T", "y": "/data/nope"},
        MissingColumnError,
        ["y dataset '/data/nope' not found", "/data/R_bare"],
    ),
    ({"x": "/data", "y": "/data/R"}, LoaderError, ["'/data' is a group"]),
    ({"x": "/data/T", "y": "/data/label"}, LoaderError, ["'/data/label'", "expected a 1-D numeric array"]),
    (
        {"x": "/data/T", "y": "/data/R_bare"},
        LoaderError,
        ["'/data/R_bare'", "pass units={'/data/R_bare': 'ohm'}"],
    ),
    (
        {"x": "/data/T", "y": "/data/R", "units": {"/data/R": "ohm"}},
        LoaderError,
        ["attribute units='kOhm'", "declares 'ohm'"],
    ),
    (
        {"x": "/data/R", "y": "/data/T"},
        LoaderError,
        ["x dataset '/data/R' has unit 'kOhm'", "temperature unit"],
    ),
    ({"x": "/data/T", "y": "/data/R", "kind": "didv"}, LoaderError, ["'/data/T' (bias) has unit 'K'"]),
    ({"x": "/data/T", "y": "/data/R", "kind": "xy"}, LoaderError, ["kind='xy' is not valid"]),
]


@pytest.mark.parametrize(("options", "error", "fragments"), BAD)
def test_bad_options_exact_error(test_data, options, error, fragments):
    with pytest.raises(error) as info:
        load(test_data / "rt_small.h5", **options)
    assert type(info.value) is error
    for frag in [*fragments, "rt_small.h5"]:
        assert frag in str(info.value)


def test_empty_corrupt_mismatched(tmp_path):
    empty = tmp_path / "empty.h5"
    empty.write_bytes(b"")
    with pytest.raises(LoaderError, match="empty.h5: file is empty"):
        load(empty, format="hdf5", x="/a", y="/b")
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 64)
    with pytest.raises(LoaderError, match="junk.h5: not a readable HDF5 file"):
        load(junk, x="/a", y="/b")
    mism = tmp_path / "mism.h5"
    with h5py.File(mism, "w") as f:
        f.create_dataset("T", data=[1.0, 2.0]).attrs["units"] = "K"
        f.create_dataset("R", data=[1.0, 2.0, 3.0]).attrs["units"] = "ohm"
        f.create_dataset("Rnan", data=[np.nan, np.nan]).attrs["units"] = "ohm"
    with pytest.raises(LoaderError, match="differ in length"):
        load(mism, x="/T", y="/R")
    with pytest.raises(LoaderError, match="all 2 data rows have NaN"):
        load(mism, x="/T", y="/Rnan")


def test_empty_dataset(tmp_path):
    p = tmp_path / "zero.h5"
    with h5py.File(p, "w") as f:
        f.create_dataset("T", data=np.zeros(0)).attrs["units"] = "K"
        f.create_dataset("R", data=np.zeros(0)).attrs["units"] = "ohm"
    with pytest.raises(LoaderError, match="zero.h5: dataset '/T' is empty; the table is empty"):
        load(p, x="/T", y="/R")
