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
    with pytest.raises(DataValidationError, match="at least 11"):
        collective_gap_from_derivatives(v[:5], v[:5], search_mV=(0.1, 0.5))


def _assert_not_significant(est):
    assert est.significant is False
    assert np.isnan(est.delta_col) and np.isnan(est.sys_error) and np.isnan(est.total_error)
    assert "no significant" in est.reason or "no consistent" in est.reason


@pytest.mark.parametrize("shape", ["parabola", "flat", "cubic", "cosh"])
def test_featureless_curve_has_no_significant_feature(shape):
    """A featureless curve has a constant or monotonic d2G/dV2: its 'minimum' is a round-off tie."""
    v = np.linspace(-1, 1, 201)
    g = {"parabola": v**2, "flat": np.ones_like(v), "cubic": 1 + v**3, "cosh": np.cosh(v)}[shape]
    for derivative in ("d2G", "dG"):
        est = collective_gap_from_derivatives(v, g, search_mV=(0.1, 0.5), derivative=derivative)
        _assert_not_significant(est)
        assert "no significant" in est.reason


def test_featureless_result_does_not_depend_on_last_bit_rounding(rng):
    """Perturbations of one part in 1e15 (what another CPU/BLAS may change) leave the verdict and value."""
    v = np.linspace(-1, 1, 201)
    g = 1 + np.exp(-0.5 * ((np.abs(v) - 0.3) / 0.03) ** 2)  # two peaks at +/-0.3
    ref = collective_gap_from_derivatives(v, g, search_mV=(0.1, 0.6), n_bootstrap=0)
    assert ref.significant
    for _ in range(20):
        eps = 1 + 2e-15 * rng.standard_normal(v.size)
        _assert_not_significant(collective_gap_from_derivatives(v, v**2 * eps, search_mV=(0.1, 0.5)))
        est = collective_gap_from_derivatives(v, g * eps, search_mV=(0.1, 0.6), n_bootstrap=0)
        assert est.significant and est.delta_col == pytest.approx(ref.delta_col, abs=1e-9)


def test_noise_alone_is_not_a_feature():
    """White noise on a flat or parabolic background: no false feature in 100 seeds (either route)."""
    v = np.linspace(-0.6, 0.6, 401)
    found = 0
    for seed in range(100):
        noise = 0.01 * np.random.default_rng(seed).standard_normal(v.size)
        for base in (np.ones_like(v), 1 + 0.5 * v**2):
            for derivative in ("d2G", "dG"):
                est = collective_gap_from_derivatives(v, base + noise, search_mV=(0.05, 0.45),
                                                      derivative=derivative, n_bootstrap=0)
                found += est.significant
    assert found == 0


def test_feature_needs_both_polarities():
    """A peak at positive bias only is not a symmetric gap edge."""
    v = np.linspace(-1, 1, 1001)
    g = 1 + np.exp(-0.5 * ((v - 0.3) / 0.03) ** 2)
    est = collective_gap_from_derivatives(v, g, search_mV=(0.1, 0.6), n_bootstrap=0)
    _assert_not_significant(est)
    assert max(est.z_plus) > 100 and max(est.z_minus) < 5


def test_noisy_feature_is_found_and_bootstrap_is_seeded():
    """Gaussian peaks at +/-0.3 (amplitude 0.2) under noise 0.01: found, within errors, reproducible."""
    v = np.linspace(-1, 1, 1001)
    g0 = 1 + 0.2 * np.exp(-0.5 * ((np.abs(v) - 0.3) / 0.03) ** 2)
    g = g0 + 0.01 * np.random.default_rng(5).standard_normal(v.size)
    a = collective_gap_from_derivatives(v, g, search_mV=(0.1, 0.6), n_bootstrap=20, seed=3)
    b = collective_gap_from_derivatives(v, g, search_mV=(0.1, 0.6), n_bootstrap=20, seed=3)
    c = collective_gap_from_derivatives(v, g, search_mV=(0.1, 0.6), n_bootstrap=20, seed=4)
    assert a.significant and "sigma deep" in a.reason
    assert abs(a.delta_col - 0.30) <= 2 * a.total_error
    assert a.stat_error == b.stat_error and a.delta_col == b.delta_col
    assert c.stat_error != a.stat_error
    assert a.noise_sigma == pytest.approx(0.01, rel=0.2)
