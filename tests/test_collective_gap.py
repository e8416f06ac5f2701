"""Model-free collective gap (Savitzky-Golay derivatives) against generator truth and closed-form shapes."""

from __future__ import annotations

import json

import numpy as np
import pytest

import fitkit
from fitkit.analysis.collective_gap import collective_gap_from_derivatives
from fitkit.errors import DataValidationError


def _truth(sample_data):
    return json.loads((sample_data / "andreev_ino" / "truth.json").read_text())


def test_delta_col_within_systematic_error_of_generator(sample_data):
    truth = _truth(sample_data)
    for item in truth["contact_series"]:
        if item["model"] != "pm2":
            continue
        s = fitkit.load(sample_data / "andreev_ino" / item["file"])
        est = collective_gap_from_derivatives(s.column("bias_V") * 1e3, s.column("dIdV_norm"),
                                              search_mV=(0.05, 0.45), n_bootstrap=10)
        assert abs(est.delta_col - item["delta_col_meV"]) <= est.total_error, item["file"]
        assert est.sys_error > 0 and est.stat_error > 0
        assert est.derivative.startswith("d2G/dV2") and est.source == "G(V)"
        assert len(est.values) == len(est.windows_mV) >= 3
        assert abs(est.bias_offset) < 0.01


def test_from_current_matches_from_conductance(sample_data):
    s = fitkit.load(sample_data / "andreev_ino" / "contact_series" / "ino_gc_4.00G0.csv")
    v = s.column("bias_V") * 1e3
    g = s.column("dIdV_norm")
    current = np.concatenate([[0.0], np.cumsum(0.5 * (g[1:] + g[:-1]) * np.diff(v))])
    a = collective_gap_from_derivatives(v, g, search_mV=(0.05, 0.45), n_bootstrap=0)
    b = collective_gap_from_derivatives(v, current, search_mV=(0.05, 0.45), kind="current", n_bootstrap=0)
    assert b.source == "I(V)"
    assert b.delta_col == pytest.approx(a.delta_col, abs=0.005)


def test_dg_route_finds_a_gaussian_peak_and_removes_offset():
    # a smooth test shape independent of the physics: two Gaussian peaks at +/-0.3 shifted by 0.02
    v = np.linspace(-1, 1, 1001)
    g = 1 + np.exp(-0.5 * ((v - 0.32) / 0.03) ** 2) + np.exp(-0.5 * ((v + 0.28) / 0.03) ** 2)
    est = collective_gap_from_derivatives(v, g, search_mV=(0.1, 0.6), derivative="dG", n_bootstrap=0)
    assert est.delta_col == pytest.approx(0.30, abs=1e-3)
    assert est.bias_offset == pytest.approx(0.02, abs=1e-3)
    est2 = collective_gap_from_derivatives(v, g, search_mV=(0.1, 0.6), n_bootstrap=0)
    assert est2.delta_col == pytest.approx(0.30, abs=2e-3)  # d2G minimum of a Gaussian is at its centre


def test_errors():
    v = np.linspace(-1, 1, 201)
    with pytest.raises(DataValidationError, match="search_mV"):
        collective_gap_from_derivatives(v, np.ones_like(v), search_mV=(0.5, 0.1))
    with pytest.raises(DataValidationError, match="no d2G feature"):
        collective_gap_from_derivatives(v, v**2, search_mV=(0.1, 0.5), n_bootstrap=0)
    with pytest.raises(DataValidationError, match="at least 11"):
        collective_gap_from_derivatives(v[:5], v[:5], search_mV=(0.1, 0.5))
