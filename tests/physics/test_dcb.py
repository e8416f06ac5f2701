"""Dynamical Coulomb blockade (issue 14 item 3): P(E) sum rules and the known ohmic-environment limits.

Independent references: the exact T = 0 ohmic law G/G_T = int_0^eV P (regularised incomplete gamma of the
exponential-cutoff environment), its power-law exponent 2 R/R_K, the high-temperature dip E_c/3k_BT
(Joyez and Esteve 1997), the Coulomb offset I R_T -> V - E_c/e, and numerical integration of P(E).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from fitkit.constants import K_B_MEV_PER_K, R_K_OHM
from fitkit.physics.dcb import dcb_environment, dcb_pe, nin_dcb_conductance, nis_dcb_conductance
from fitkit.physics.tunneling import nis_conductance


@pytest.mark.parametrize(("r_env", "temperature"), [(500.0, 0.1), (3000.0, 0.5), (20000.0, 1.0)])
def test_pe_normalisation_first_moment_and_detailed_balance(r_env: float, temperature: float) -> None:
    e_c = 0.05
    h = 1e-3
    e = np.arange(-6000, 6001) * h
    p = dcb_pe(e, r_env, e_c, temperature, average="point")
    kt = K_B_MEV_PER_K * temperature
    pc = dcb_pe(e, r_env, e_c, temperature)
    _, cutoff = dcb_environment(r_env, e_c)
    tail_mass = float(special.gammaincc(2 * r_env / R_K_OHM, 6.0 / cutoff))  # emission tail beyond 6 meV
    assert np.sum(pc) * h == pytest.approx(1.0 - tail_mass, abs=1e-6)
    if tail_mass < 1e-8:
        assert np.sum(e * pc) * h == pytest.approx(e_c, rel=1e-3)  # <E> = E_c for any environment
    i = np.arange(1, 3000)
    pos, neg = p[6000 + i], p[6000 - i]
    ok = pos > 1e-12
    assert np.allclose(neg[ok], pos[ok] * np.exp(-e[6000 + i][ok] / kt), rtol=1e-6, atol=1e-12 * p.max())


def test_zero_resistance_is_bare_junction() -> None:
    v = np.linspace(-1, 1, 201)
    assert np.allclose(nin_dcb_conductance(v, 0.0, 0.05, 0.1), 1.0, atol=1e-12)
    assert np.allclose(
        nis_dcb_conductance(v, 0.3, 0.003, 0.0, 0.05, 0.2), nis_conductance(v, 0.3, 0.003, 0.2), atol=1e-6
    )


def test_t0_power_law() -> None:
    r_env, e_c = 2000.0, 0.1
    alpha = 2 * r_env / R_K_OHM
    _, cutoff = dcb_environment(r_env, e_c)
    v = np.array([5e-4, 1e-3, 2e-3, 4e-3, 8e-3])
    g = nin_dcb_conductance(v, r_env, e_c, 0.0)
    assert np.allclose(g, special.gammainc(alpha, v / cutoff), rtol=2e-3)
    slope = np.diff(np.log(g)) / np.diff(np.log(v))
    assert np.allclose(slope, alpha, rtol=0.01)  # G ~ V^(2 R/R_K) for eV << E_c


@pytest.mark.parametrize(("r_env", "t"), [(5000.0, 4.0), (5000.0, 8.0), (50000.0, 2.0)])
def test_high_temperature_dip(r_env: float, t: float) -> None:
    e_c = 0.01
    kt = K_B_MEV_PER_K * t
    dip = 1.0 - float(nin_dcb_conductance(0.0, r_env, e_c, t))
    assert dip == pytest.approx(e_c / (3 * kt), rel=0.02)  # leading order; next order ~ (E_c/kT)


def test_high_bias_recovery_and_coulomb_offset() -> None:
    r_env, e_c, t = 2000.0, 0.05, 0.1
    v = np.linspace(0.0, 5.0, 4001)
    g = nin_dcb_conductance(v, r_env, e_c, t)
    assert g[-1] == pytest.approx(1.0, abs=1e-6)
    current = np.concatenate([[0.0], np.cumsum(0.5 * (g[1:] + g[:-1]) * np.diff(v))])
    assert v[-1] - current[-1] == pytest.approx(e_c, rel=1e-3)  # I R_T -> V - E_c/e
    assert g[0] < 0.9  # a zero-bias dip


def test_nis_dcb_gap_and_high_bias() -> None:
    v = np.linspace(-2.0, 2.0, 801)
    g = nis_dcb_conductance(v, 0.3, 0.002, 3000.0, 0.03, 0.15)
    bare = nis_conductance(v, 0.3, 0.002, 0.15)
    assert abs(g[-1] - bare[-1]) < 2e-3
    assert g.max() < bare.max()  # the coherence peak is smeared by the environment
    assert np.allclose(g, g[::-1], atol=1e-9)
