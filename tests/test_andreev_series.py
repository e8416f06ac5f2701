"""Contact-conductance and temperature series of Andreev spectra on the bundled synthetic a:InO data."""

from __future__ import annotations

import json

import numpy as np
import pytest

import fitkit
from fitkit.analysis.andreev_series import fit_contact_series, fit_temperature_series, sweep_meta_float
from fitkit.constants import G0_S
from fitkit.errors import DataValidationError


@pytest.fixture
def ino(sample_data):
    root = sample_data / "andreev_ino"
    return root, json.loads((root / "truth.json").read_text())


@pytest.mark.slow
def test_contact_series_recovers_truth(ino):
    root, truth = ino
    items = truth["contact_series"]
    sweeps = [fitkit.load(root / it["file"]) for it in items]
    g = [sweep_meta_float(s, "g_contact_G0") for s in sweeps]
    assert g == [it["g_contact_G0"] for it in items]
    table, records = fit_contact_series(sweeps, np.asarray(g) * G0_S, unit="S",
                                        v_mod_rms_mV=truth["v_mod_rms_mV"])
    assert len(records) == len(table) and all(r.verdict in ("ok", "suspect") for r in records)
    assert [r.model_key for r in records] == list(table["model"])
    assert list(table["g_contact_G0"]) == pytest.approx(sorted(g))
    assert table["success"].all()
    assert set(table["regime"]) == {"tunnelling", "andreev"}
    for row, it in zip(table.itertuples(), sorted(items, key=lambda d: d["g_contact_G0"]), strict=True):
        assert row.regime == ("tunnelling" if it["model"] == "nis" else "andreev")
        assert abs(row.delta_meV - it["delta_meV"]) < 5 * row.delta_meV_stderr
        if row.regime == "andreev":
            assert abs(row.delta_col_meV - it["delta_col_meV"]) < 5 * row.delta_col_meV_stderr
            assert abs(row.z - it["z"]) < 5 * row.z_stderr
        else:
            assert np.isnan(row.delta_col_meV)


@pytest.mark.slow
def test_temperature_series_gives_tc(ino):
    root, truth = ino
    sweeps = [fitkit.load(root / it["file"]) for it in truth["temperature_series"]]
    res = fit_temperature_series(sweeps, v_mod_rms_mV=truth["v_mod_rms_mV"])
    law = truth["delta_col_law"]
    assert abs(res.t_c - law["t_c_K"]) < 5 * res.t_c_stderr + 1e-3
    assert abs(res.delta0 - law["delta0_meV"]) < 5 * res.delta0_stderr + 1e-3
    assert len(res.table) == len(sweeps)
    assert len(res.records) == len(res.table)
    # the law is fitted by the one fitter: its record carries units, the correlation-aware ratio and a verdict
    rec = res.law
    assert rec is not None and rec.model_key == "delta_col_temperature"
    assert (rec.values["t_c"], rec.values["delta_col0"]) == (res.t_c, res.delta0)
    assert rec.units == {"t_c": "K", "delta_col0": "meV"} and rec.verdict in ("ok", "suspect")
    tab = res.table
    used = tab["success"].to_numpy(dtype=bool) & np.isfinite(tab["delta_col_meV_stderr"].to_numpy())
    assert rec.ndata == int(used.sum()) >= 3


def test_series_input_errors(ino):
    root, truth = ino
    s = fitkit.load(root / truth["contact_series"][0]["file"])
    with pytest.raises(DataValidationError, match="conductances"):
        fit_contact_series([s], [0.1, 0.2])
    with pytest.raises(DataValidationError, match="unit"):
        fit_contact_series([s], [0.1], unit="ohm")  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match="at least 3"):
        fit_temperature_series([s], [0.05])
