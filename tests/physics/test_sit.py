"""Physics of the film/wire SIT laws (fitkit.physics.sit): constants, analytic limits, reference values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import constants as sc

from fitkit.physics.sit import (
    AL_2D_S,
    aslamazov_larkin_conductance,
    bilayer_tc_martinis,
    bkt_tail_resistance,
    film_fluctuation_sheet_resistance,
    hopping_resistance,
    maki_thompson_conductance,
    reduced_activation_energy,
    simonin_tc,
    wire_power_law_resistance,
    zaikin_exponent,
    zaikin_g_z,
)


def test_al_prefactor_reference_value():
    # films_and_fields.md: e^2/16hbar = 1.52133e-5 S; Delta G(eps = 0.1) = 1.5213e-4 S
    assert pytest.approx(1.52133e-5, rel=5e-6) == AL_2D_S
    assert pytest.approx(sc.e**2 / (16 * sc.hbar), rel=1e-12) == AL_2D_S
    assert float(aslamazov_larkin_conductance(1.1, 1.0)) == pytest.approx(1.5213e-4, rel=1e-4)


def test_al_log_and_linear_agree_to_first_order():
    eps = np.array([1e-4, 1e-3])
    lin = aslamazov_larkin_conductance(1 + eps, 1.0, "linear")
    log = aslamazov_larkin_conductance(1 + eps, 1.0, "log")
    np.testing.assert_allclose(log / lin, 1 + eps / 2, rtol=1e-6)  # ln(1+e) = e - e^2/2


def test_fluctuation_film_limits():
    r_n = 2000.0
    assert float(film_fluctuation_sheet_resistance(1e6, 1.0, r_n)) == pytest.approx(r_n, rel=1e-6)
    assert float(film_fluctuation_sheet_resistance(1.0, 1.0, r_n)) == 0.0
    assert float(film_fluctuation_sheet_resistance(0.5, 1.0, r_n)) == 0.0
    expected = 1.0 / (1.0 / r_n + 1.52133e-4)
    assert float(film_fluctuation_sheet_resistance(1.1, 1.0, r_n)) == pytest.approx(expected, rel=1e-5)


def test_maki_thompson_continuous_at_eps_equal_delta():
    delta = 0.05
    at = float(maki_thompson_conductance(1.05, 1.0, delta))
    near = float(maki_thompson_conductance(1.05 * (1 + 1e-6), 1.0, delta))
    assert at == pytest.approx(sc.e**2 / (8 * sc.hbar) / delta, rel=1e-9)
    assert near == pytest.approx(at, rel=1e-4)
    # large eps: ln(eps/delta)/eps
    assert float(maki_thompson_conductance(3.0, 1.0, delta)) == pytest.approx(
        sc.e**2 / (8 * sc.hbar) * math.log(2.0 / delta) / (2.0 - delta), rel=1e-12)


def test_bkt_tail_limits_and_conventions():
    t = np.array([0.5, 1.0, 1.0 + 1e-9])
    r = bkt_tail_resistance(t, 1.0, 0.5, 1000.0)
    assert r[0] == 0.0 and r[1] == 0.0 and r[2] < 1e-300 + 1e-200
    assert float(bkt_tail_resistance(1e8, 1.0, 0.5, 1000.0)) == pytest.approx(1000.0, rel=1e-3)
    # issue-15 form exp(-2 b'/sqrt(t - 1)) with b' = sqrt(b)
    tt = np.linspace(1.05, 3.0, 20)
    b = 0.7
    np.testing.assert_allclose(bkt_tail_resistance(tt, 1.0, b, 1.0),
                               np.exp(-2 * math.sqrt(b) / np.sqrt(tt - 1.0)), rtol=1e-12)


def test_bkt_linearisation_check():
    # (d lnR/dT)^(-2/3) = (sqrt(b)/T_BKT)^(-2/3) (T/T_BKT - 1): linear, zero at T_BKT
    t_bkt, b = 2.0, 0.8
    t = np.linspace(2.2, 4.0, 4001)
    lnr = np.log(bkt_tail_resistance(t, t_bkt, b, 1.0))
    d = np.gradient(lnr, t)
    lhs = d ** (-2.0 / 3.0)
    rhs = (math.sqrt(b) / t_bkt) ** (-2.0 / 3.0) * (t / t_bkt - 1.0)
    np.testing.assert_allclose(lhs[5:-5], rhs[5:-5], rtol=1e-5)
    slope, icpt = np.polyfit(t, lhs, 1)
    assert -icpt / slope == pytest.approx(t_bkt, rel=1e-4)


@pytest.mark.parametrize("p", [1.0, 0.5, 1.0 / 3.0])
def test_reduced_activation_energy_matches_analytic(p):
    t = np.geomspace(0.5, 20.0, 400)
    r = hopping_resistance(t, 100.0, 30.0, p)
    ts, w = reduced_activation_energy(t, r)
    np.testing.assert_allclose(w[1:-1], p * (30.0 / ts[1:-1]) ** p, rtol=2e-3)


def test_hopping_no_overflow():
    assert np.isfinite(hopping_resistance(1e-6, 1.0, 1e6, 1.0))


def test_simonin_limits():
    assert float(simonin_tc(2.0, 5.0, 1.0)) == pytest.approx(2.5)
    assert float(simonin_tc(1.0, 5.0, 1.0)) == 0.0
    assert float(simonin_tc(0.5, 5.0, 1.0)) == 0.0
    assert float(simonin_tc(1e9, 5.0, 1.0)) == pytest.approx(5.0)


def test_martinis_bilayer_limits_and_value():
    # d_N -> 0: T_c -> T_c0; thicker normal layer lowers T_c monotonically
    assert float(bilayer_tc_martinis(40.0, 0.0, 0.92, 93.0, 0.3)) == pytest.approx(0.92)
    assert float(bilayer_tc_martinis(40.0, 1e-3, 0.92, 93.0, 0.3)) == pytest.approx(0.92, rel=1e-4)
    dn = np.linspace(10, 400, 40)
    tc = bilayer_tc_martinis(40.0, dn, 0.92, 93.0, 0.3)
    assert np.all(np.diff(tc) < 0)
    # hand value: alpha = 200*0.3/40 = 1.5; bracket = (40/93)/(1.13*(1 + 1/1.5)) = 0.2283757
    bracket = (40.0 / 93.0) / (1.13 * (1.0 + 1.0 / 1.5))
    assert bracket == pytest.approx(0.2283757, rel=1e-6)
    assert float(bilayer_tc_martinis(40.0, 200.0, 0.92, 93.0, 0.3)) == pytest.approx(0.92 * 0.2283757**1.5,
                                                                                     rel=1e-6)
    # only d_0 * t enters
    assert float(bilayer_tc_martinis(40.0, 200.0, 0.92, 46.5, 0.3, 2.0)) == pytest.approx(
        float(bilayer_tc_martinis(40.0, 200.0, 0.92, 93.0, 0.3, 1.0)), rel=1e-12)


def test_wire_power_law_and_zaikin_exponent():
    assert float(wire_power_law_resistance(0.1, 5000.0, -0.7, 0.1)) == pytest.approx(5000.0)
    assert float(wire_power_law_resistance(0.2, 5000.0, -1.0, 0.1)) == pytest.approx(2500.0)
    assert float(zaikin_exponent(16.0)) == pytest.approx(1.0)  # 2 mu - 3 at the SIT mu = 2
    assert float(zaikin_exponent(12.0)) == pytest.approx(0.0)
    np.testing.assert_allclose(zaikin_g_z(zaikin_exponent([1.5, 2.5, 8.0])), [1.5, 2.5, 8.0])
