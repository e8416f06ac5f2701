"""Regenerate the tiny HDF5 fixtures of tests/data (run: python tests/data/make_h5.py).

rt_small.h5
    /data/T  (units="K", unsorted, one NaN) and /data/R (units=b"kOhm" as bytes), /data/R_bare
    (no units attribute), /data/label (strings, not numeric); file attributes sample, operator,
    n_points (int) and field_T (float).
didv_small.h5
    /sweep/bias (unit="mV", the singular attribute name), /sweep/G (no unit: needs
    normalized=True or units=), /sweep/I (units="nA").
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

HERE = Path(__file__).resolve().parent


def main() -> None:
    with h5py.File(HERE / "rt_small.h5", "w", track_order=True) as f:
        f.attrs["sample"] = "NW-07"
        f.attrs["operator"] = b"A. Tester"
        f.attrs["n_points"] = np.int64(4)
        f.attrs["field_T"] = 0.5
        g = f.create_group("data")
        t = g.create_dataset("T", data=np.array([3.0, 1.0, np.nan, 2.0]))
        t.attrs["units"] = "K"
        r = g.create_dataset("R", data=np.array([0.3, 0.1, 0.25, 0.2]))
        r.attrs["units"] = b"kOhm"
        g.create_dataset("R_bare", data=np.array([300.0, 100.0, 250.0, 200.0]))
        g.create_dataset("label", data=np.array([b"a", b"b", b"c", b"d"]))
    with h5py.File(HERE / "didv_small.h5", "w", track_order=True) as f:
        f.attrs["temperature_K"] = 0.055
        g = f.create_group("sweep")
        b = g.create_dataset("bias", data=np.array([-2.0, -1.0, 0.0, 1.0, 2.0]))
        b.attrs["unit"] = "mV"
        g.create_dataset("G", data=np.array([1.0, 1.4, 0.2, 1.4, 1.0]))
        i = g.create_dataset("I", data=np.array([-2.0, -1.2, 0.0, 1.2, 2.0]))
        i.attrs["units"] = "nA"


if __name__ == "__main__":
    main()
