"""Phase-slip R(T): transport note checks C6-C9, the §2.4 plausibility table, limits, an SI re-derivation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq

from fitkit.constants import HBAR, K_B, PHI0_WB
from fitkit.physics.phase_slip import (
    C_U,
    gxi_barrier,
    lamh_attempt_frequency,
    lamh_barrier,
    lamh_resistance,
    phase_slip_resistance_gz,
    phase_slip_resistance_lamh,
    taps_resistance,
    tau_gl,
)

LAMH = {"t_c": 4.0, "r_n": 4000.0, "length_nm": 100.0, "xi0_nm": 8.0}
TI = {"length_nm": 20e3, "xi_nm": 145.0}


def test_c6_lamh_at_3k():
    assert float(lamh_barrier(3.0, **LAMH)) == pytest.approx(8.3690, rel=1e-4)
    assert float(tau_gl(3.0, 4.0)) == pytest.approx(2.9995e-12, rel=1e-4)
    assert float(lamh_attempt_frequency(3.0, **LAMH)) == pytest.approx(3.4802e12, rel=1e-4)
    assert float(lamh_resistance(3.0, **LAMH)) == pytest.approx(3513.3, rel=1e-4)
    literal = float(phase_slip_resistance_lamh(3.0, **LAMH, near_tc="literal"))
    assert literal == pytest.approx(1870.4, rel=1e-4)
    # the switch is a small correction at u = 2.8
    assert float(phase_slip_resistance_lamh(3.0, **LAMH)) == pytest.approx(1870.4, rel=1e-3)


def test_c7_lamh_at_3p5k():
    assert float(lamh_barrier(3.5, **LAMH)) == pytest.approx(2.9589, rel=1e-4)
    assert float(lamh_resistance(3.5, **LAMH)) == pytest.approx(4096.0, rel=1e-4)
    literal = float(phase_slip_resistance_lamh(3.5, **LAMH, near_tc="literal"))
    assert literal == pytest.approx(2023.7, rel=1e-4)


def test_c8_gxi_barrier():
    assert pytest.approx(0.55293, abs=1e-5) == C_U
    assert float(gxi_barrier(0.30, 37.4, 0.40)) == pytest.approx(1.0340, rel=1e-4)


@pytest.mark.parametrize("near_tc", ["switch", "literal"])
def test_c9_mh_total(near_tc):
    r = phase_slip_resistance_gz(0.30, 37.4, 0.40, 25e3, **TI, prefactor="mh", near_tc=near_tc)
    assert float(r) == pytest.approx(11797.6, rel=1e-4)


def _si_taps(temperature, g_xi, t_c, length_nm, xi_nm, b, prefactor):
    """Independent SI evaluation: R = Phi0^2 Gamma0 / k_B T with Gamma0 = (Omega/2pi) exp(-U/k_B T)."""
    t = temperature / t_c
    u_joule = C_U * g_xi * K_B * t_c * (1.0 - t) ** 1.5
    x_over_xi_t = length_nm / xi_nm * math.sqrt(1.0 - t)
    omega = b * x_over_xi_t * math.sqrt(u_joule / (K_B * temperature)) * 8.0 * K_B * t_c / (math.pi * HBAR)
    if prefactor == "mh":
        omega *= 1.0 - t
    gamma0 = omega / (2.0 * math.pi) * math.exp(-u_joule / (K_B * temperature))
    return PHI0_WB**2 * gamma0 / (K_B * temperature)


def test_taps_matches_si_rederivation(rng):
    for _ in range(6):
        t_c = rng.uniform(0.2, 5.0)
        temp = t_c * rng.uniform(0.3, 0.97)
        g = rng.uniform(1.0, 60.0)
        b = rng.uniform(0.3, 3.0)
        length, xi = rng.uniform(1e3, 5e4), rng.uniform(20.0, 300.0)
        for pre in ("gz", "mh"):
            ref = _si_taps(temp, g, t_c, length, xi, b, pre)
            got = float(taps_resistance(temp, g, t_c, length, xi, b=b, prefactor=pre))
            assert got == pytest.approx(ref, rel=1e-10)


def test_gz_over_mh_is_b_over_one_minus_t():
    t = np.linspace(0.1, 0.95, 9) * 0.4
    gz = taps_resistance(t, 20.0, 0.4, **TI, b=1.7)
    ratio = gz / taps_resistance(t, 20.0, 0.4, **TI, b=1.7, prefactor="mh")
    np.testing.assert_allclose(ratio, 1.0 / (1.0 - t / 0.4), rtol=1e-12)


def test_barrier_sensitivity_dlnr_dg():
    # d ln R_TAPS / d g_xi = -U/(g_xi k_B T) + 1/(2 g_xi) (the sqrt(U) in the prefactor)
    g, temp = 37.4, 0.3
    h = 1e-4
    up, down = taps_resistance(temp, g + h, 0.4, **TI), taps_resistance(temp, g - h, 0.4, **TI)
    num = (np.log(up) - np.log(down)) / (2 * h)
    u = float(gxi_barrier(temp, g, 0.4)) / temp
    assert float(num) == pytest.approx(-u / g + 0.5 / g, rel=1e-6)


@pytest.mark.parametrize(("g_xi", "r_n", "pre", "t_half_mk", "t_hundredth_mk"), [
    (37.4, 25e3, "mh", 303, 234),
    (37.4, 25e3, "gz", 277, 227),
    (9.0, 40e3, "mh", 175, 114),
    (9.0, 40e3, "gz", 164, 112),
])
def test_plausibility_table_2_4(g_xi, r_n, pre, t_half_mk, t_hundredth_mk):
    def at(frac):
        def f(t):
            return float(phase_slip_resistance_gz(t, g_xi, 0.4, r_n, **TI, prefactor=pre)) - frac * r_n
        return brentq(f, 0.02, 0.395) * 1e3
    assert at(0.5) == pytest.approx(t_half_mk, abs=1.0)
    assert at(0.01) == pytest.approx(t_hundredth_mk, abs=1.0)


@pytest.mark.parametrize("near_tc", ["switch", "literal"])
def test_limits_no_warnings(near_tc):
    t = np.array([0.0, 1e-9, 1e-3, 0.4, 0.40001, 0.6, 1e6])
    r = phase_slip_resistance_gz(t, 20.0, 0.4, 30e3, **TI, r_floor=100.0, near_tc=near_tc)
    assert np.all(np.isfinite(r))
    np.testing.assert_allclose(r[:3], 100.0, rtol=1e-12)
    np.testing.assert_allclose(r[3:], 30e3 + 100.0, rtol=1e-15)
    lam = phase_slip_resistance_lamh(t, 0.4, 30e3, 20e3, 145.0, near_tc=near_tc)
    assert np.all(np.isfinite(lam))
    np.testing.assert_allclose(lam[3:], 30e3, rtol=1e-15)
    assert np.all(lam[:3] == 0.0)


def test_switch_continuous_and_monotone_at_tc():
    t = np.linspace(0.02, 0.6, 3000)
    for g in (0.3, 3.0, 37.4, 200.0):
        r = phase_slip_resistance_gz(t, g, 0.4, 25e3, **TI)
        assert np.all(np.diff(r) >= -1e-9 * 25e3)
        just_below = float(phase_slip_resistance_gz(0.4 * (1 - 1e-6), g, 0.4, 25e3, **TI))
        assert just_below == pytest.approx(25e3, rel=1e-3)
    # literal formula: R -> 0 just below T_c (documented failure of the activation law there)
    assert float(phase_slip_resistance_gz(0.4 * 0.999, 37.4, 0.4, 25e3, **TI, near_tc="literal")) < 0.5 * 25e3


def test_lamh_vanishes_far_below_tc():
    r = phase_slip_resistance_lamh(np.array([0.1, 0.2]) * 4.0, 4.0, 4000.0, 1000.0, 8.0)
    assert np.all(r < 1e-6 * 4000.0)


def test_broadcast_over_parameters():
    t = np.linspace(0.05, 0.5, 7)
    g = np.array([[5.0], [10.0], [40.0]])
    r = phase_slip_resistance_gz(t, g, 0.4, 25e3, **TI)
    assert r.shape == (3, 7)
    np.testing.assert_allclose(r[1], phase_slip_resistance_gz(t, 10.0, 0.4, 25e3, **TI))


def test_bad_option_raises():
    with pytest.raises(ValueError, match="prefactor"):
        phase_slip_resistance_gz(0.3, 10.0, 0.4, 25e3, **TI, prefactor="xx")
    with pytest.raises(ValueError, match="near_tc"):
        phase_slip_resistance_lamh(0.3, 0.4, 25e3, 20e3, 145.0, near_tc="xx")
