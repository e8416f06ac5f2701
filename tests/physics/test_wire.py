"""Wire quantities: transport note checks C1, C4, C5, C18, error propagation against finite differences."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fitkit.constants import HBAR_OVER_E2_OHM, R_K_OHM, R_Q_OHM
from fitkit.physics.wire import (
    G_Z_SIT,
    g_xi_from_geometry,
    g_z_from_wire,
    kinetic_inductance_per_length,
    plasmon_velocity,
    qps_length,
    qps_length_with_error,
    qps_regime,
    r_xi,
    wire_impedance,
)


def test_c1_constants():
    assert pytest.approx(25812.807, abs=1e-3) == R_K_OHM
    assert pytest.approx(6453.202, abs=1e-3) == R_Q_OHM
    assert pytest.approx(4108.236, abs=1e-3) == HBAR_OVER_E2_OHM


def test_c4_qps_length():
    assert float(qps_length(7.5, 2.5, 140.0)) == pytest.approx(11920.0, rel=1e-3)
    # a g_xi - ln b = 7.5 split differently gives the same length
    assert float(qps_length(8.0, 2.5, 140.0, a=1.0, b=math.exp(0.5))) == pytest.approx(
        float(qps_length(7.5, 2.5, 140.0)), rel=1e-12)


def test_c5_sit():
    assert G_Z_SIT == 16.0
    assert math.isinf(float(qps_length(7.5, 16.0, 140.0)))
    assert math.isinf(float(qps_length(7.5, 20.0, 140.0)))
    lc, err = qps_length_with_error(7.5, 0.1, 16.0, 0.1, 140.0)
    assert math.isinf(float(lc)) and math.isinf(float(err))


def test_c18_gz_estimate():
    lk = kinetic_inductance_per_length(40e3, 20e3, 0.050)
    assert float(lk) == pytest.approx(8.381e-3, rel=2e-4)
    z = wire_impedance(lk, 50.0)
    assert float(z) == pytest.approx(12.95e3, rel=5e-4)
    assert float(R_K_OHM / z) == pytest.approx(1.99, abs=6e-3)
    assert float(plasmon_velocity(lk, 50.0)) == pytest.approx(1.545e6, rel=5e-4)
    gz = g_z_from_wire([25e3, 40e3, 70e3], 20e3, 0.050, 50.0)
    np.testing.assert_allclose(gz, [2.52, 1.99, 1.51], atol=6e-3)


def test_kinetic_inductance_temperature():
    lk0 = kinetic_inductance_per_length(40e3, 20e3, 0.050, 0.0)
    lk_low = kinetic_inductance_per_length(40e3, 20e3, 0.050, 0.01)
    assert float(lk_low) == pytest.approx(float(lk0), rel=1e-12)
    # near T_c: L -> 2 hbar k_B T R_1 / (pi Delta^2) (physics note §2.3)
    from fitkit.constants import E_CHARGE as E
    from fitkit.constants import HBAR, K_B
    t, d = 0.5, 0.001  # K, meV (Delta << k_B T)
    r1 = 40e3 / 20e-6
    expected = 2.0 * HBAR * K_B * t * r1 / (math.pi * (d * 1e-3 * E) ** 2)
    assert float(kinetic_inductance_per_length(40e3, 20e3, d, t)) == pytest.approx(expected, rel=1e-4)


def test_g_xi_geometry():
    assert float(r_xi(25e3, 20e3, 145.0)) == pytest.approx(181.25)
    assert float(g_xi_from_geometry(25e3, 20e3, 145.0)) == pytest.approx(R_K_OHM / 181.25)


def test_error_propagation_matches_finite_differences(rng):
    for _ in range(5):
        gx, gz, xi = rng.uniform(2, 10), rng.uniform(0.5, 12), rng.uniform(50, 300)
        a, b = rng.uniform(0.5, 1.5), rng.uniform(0.5, 2.0)
        sx, sz = 0.01 * gx, 0.01 * gz
        lc, err = qps_length_with_error(gx, sx, gz, sz, xi, a, b)
        h = 1e-6
        d_gx = (qps_length(gx + h, gz, xi, a, b) - qps_length(gx - h, gz, xi, a, b)) / (2 * h)
        d_gz = (qps_length(gx, gz + h, xi, a, b) - qps_length(gx, gz - h, xi, a, b)) / (2 * h)
        assert float(lc) == pytest.approx(float(qps_length(gx, gz, xi, a, b)))
        assert float(err) == pytest.approx(float(np.hypot(d_gx * sx, d_gz * sz)), rel=1e-5)


def test_error_propagation_monte_carlo(rng):
    # small errors: linear propagation agrees with the Monte-Carlo spread
    gx, gz, xi = 7.5, 2.5, 140.0
    lc, err = qps_length_with_error(gx, 0.05, gz, 0.05, xi)
    samples = qps_length(gx + 0.05 * rng.standard_normal(20000), gz + 0.05 * rng.standard_normal(20000), xi)
    assert float(np.std(samples)) == pytest.approx(float(err), rel=0.05)


def test_qps_regime():
    assert qps_regime(20e3, 11.92e3) == "crossover"
    assert qps_regime(20e3, 5e3) == "insulating"
    assert qps_regime(20e3, 50e3) == "superconducting"
    assert qps_regime(20e3, math.inf) == "superconducting"
    with pytest.raises(ValueError, match="length_nm"):
        qps_regime(-1.0, 10.0)
