"""Spin-polarised BTK (issue 14 item 1): every form against an independent direct evaluation or quadrature.

References are written out here from the piecewise BTK amplitudes (Gamma = 0) and by scipy ``quad`` of the
Lorentzian lifetime convolution (Gamma > 0); nothing is taken from fitkit except the function under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from fitkit.constants import K_B_MEV_PER_K
from fitkit.physics.andreev import (
    POLARIZED_FORM_LABELS,
    btk_polarized_conductance,
    spin_polarized_t0,
)

DELTA = 1.0
ZS = (0.0, 1e-8, 0.1, 1.0)
PS = (0.0, 0.5, 1.0)


def _eps(e: float) -> float:
    return abs(e) / math.sqrt(e * e - DELTA * DELTA)


def _gu_direct(e: float, z: float) -> float:
    """Piecewise BTK (Gamma = 0), BTK 1982 in the physics note's closed forms."""
    z2 = z * z
    c = 1.0 + 2.0 * z2
    if abs(e) < DELTA:
        a = DELTA**2 / (e * e + (DELTA**2 - e * e) * c * c)
        return (1.0 + z2) * 2.0 * a  # 1 + A - B with B = 1 - A
    eps = _eps(e)
    a = (eps * eps - 1.0) / (eps + c) ** 2
    b = 4.0 * z2 * (1.0 + z2) / (eps + c) ** 2
    return (1.0 + z2) * (1.0 + a - b)


def _gp_strijkers_direct(e: float, z: float) -> float:
    """Strijkers polarised channel at Gamma = 0: 0 in the gap, (1+Z^2)(1 - B_u/(1 - A_u)) above."""
    if abs(e) <= DELTA:
        return 0.0
    z2 = z * z
    c = 1.0 + 2.0 * z2
    eps = _eps(e)
    a = (eps * eps - 1.0) / (eps + c) ** 2
    b = 4.0 * z2 * (1.0 + z2) / (eps + c) ** 2
    return (1.0 + z2) * (1.0 - b / (1.0 - a))


def _gp_mazin_direct(e: float, z: float) -> float:
    if abs(e) <= DELTA:
        return 0.0
    beta = _eps(e)
    return (1.0 + z * z) * 4.0 * beta / ((1.0 + beta) ** 2 + 4.0 * z * z)


def _lorentz_quad(f, e: float, gamma: float) -> float:
    """int dx Gamma/pi / ((e-x)^2 + Gamma^2) f(x) over |x| > Delta, by adaptive quad (x = Delta cosh u)."""
    def integrand(u: float, sgn: float) -> float:
        x = sgn * DELTA * math.cosh(u)
        return gamma / math.pi / ((e - x) ** 2 + gamma**2) * f(x) * DELTA * math.sinh(u)

    total = 0.0
    for sgn in (1.0, -1.0):
        pts = [math.acosh(max(abs(e), DELTA * 1.0000001) / DELTA)] if sgn * e > DELTA else None
        val, _ = integrate.quad(integrand, 0.0, 12.0, args=(sgn,), points=pts, limit=400,
                                epsabs=1e-11, epsrel=1e-10)
        total += val
    return total


ENERGIES = (0.0, 0.3, 0.7, 0.95, 1.05, 1.5, 3.0)


@pytest.mark.parametrize("z", ZS)
@pytest.mark.parametrize("p", PS)
@pytest.mark.parametrize("form", ["strijkers", "strijkers_continued", "mazin"])
def test_gamma_zero_equals_direct_evaluation(z: float, p: float, form: str) -> None:
    for e in ENERGIES:
        gp = _gp_mazin_direct(e, z) if form == "mazin" else _gp_strijkers_direct(e, z)
        ref = (1.0 - p) * _gu_direct(e, z) + p * gp
        got = float(spin_polarized_t0(e, DELTA, 0.0, z, p, form=form))  # type: ignore[arg-type]
        assert got == pytest.approx(ref, abs=1e-12, rel=1e-12), (e, z, p, form)


@pytest.mark.parametrize("z", [0.0, 1e-12, 1e-8, 3e-8, 1e-6, 1e-3])
def test_fully_polarised_in_gap_is_zero_at_small_z(z: float) -> None:
    """The cancellation: before the fix 1.0 at Z = 0 and 0.95 at Z = 1e-8 somewhere in the gap."""
    e = np.linspace(-0.999, 0.999, 1999)
    g = spin_polarized_t0(e, DELTA, 0.0, z, 1.0)
    assert np.max(np.abs(g)) < 1e-12
    t = 0.05 * DELTA / K_B_MEV_PER_K
    g_t = btk_polarized_conductance(np.array([0.0, 0.5]), DELTA, 0.0, z, 1.0, temperature=t)
    # thermal tail of the above-gap states only: ~exp(-(Delta - |E|)/kT) = 2e-9 and 4.5e-5 (before: 0.21 at
    # E = 0.5 Delta, Z = 1e-8)
    assert abs(g_t[0]) < 1e-8 and abs(g_t[1]) < 1e-4


@pytest.mark.parametrize("z", ZS)
@pytest.mark.parametrize("p", PS)
def test_strijkers_gamma_positive_is_lorentzian_broadening(z: float, p: float) -> None:
    gamma = 0.05 * DELTA
    for e in ENERGIES:
        gp = _lorentz_quad(lambda x: _gp_strijkers_direct(x, z), e, gamma)
        # unpolarised channel: the Plecenik complex-energy BTK, written out independently
        w = abs(e) + 1j * gamma
        om = np.sqrt(w - DELTA) * np.sqrt(w + DELTA)
        c = 1.0 + 2.0 * z * z
        a = DELTA**2 / abs(w + c * om) ** 2
        b = 4.0 * z * z * (1.0 + z * z) * abs(om) ** 2 / abs(w + c * om) ** 2
        gu = (1.0 + z * z) * (1.0 + a - b)
        ref = (1.0 - p) * gu + p * gp
        got = float(spin_polarized_t0(e, DELTA, gamma, z, p))
        assert got == pytest.approx(ref, abs=2e-5), (e, z, p)


@pytest.mark.parametrize("z", ZS)
def test_gamma_positive_in_gap_follows_quasiparticle_states(z: float) -> None:
    """Half-metal channel in the gap: of order Gamma/Delta, never -> 1 as Z -> 0 (both physical forms)."""
    gamma = 0.05 * DELTA
    e = np.linspace(0.0, 0.8, 9)
    n_d = (np.abs(e) + 1j * gamma) / np.sqrt((np.abs(e) + 1j * gamma) ** 2 - DELTA**2)
    n_d = np.abs(n_d.real)
    for form in ("strijkers", "mazin"):
        g = spin_polarized_t0(e, DELTA, gamma, z, 1.0, form=form)  # type: ignore[arg-type]
        assert np.all(g > 0)
        assert np.all(g < 4.0 * (1.0 + z * z) * n_d + 1e-12), form
    # the kept legacy continuation shows the defect at small Z (documented as unphysical)
    if z < 0.2:
        assert float(spin_polarized_t0(0.0, DELTA, gamma, z, 1.0, form="strijkers_continued")) > 0.5


def test_strijkers_continuous_in_gamma() -> None:
    e = np.array([0.0, 0.5, 0.9, 1.2, 2.0])
    for z in (0.0, 0.1, 1.0):
        g0 = spin_polarized_t0(e, DELTA, 0.0, z, 1.0)
        g1 = spin_polarized_t0(e, DELTA, 1e-7, z, 1.0)
        assert np.allclose(g0, g1, atol=1e-5)


@pytest.mark.parametrize("z", [0.0, 1e-8, 0.5])
def test_thermal_conductance_against_quad(z: float) -> None:
    """T > 0 through the grid machinery vs quad of the T = 0 direct formula against -f'."""
    kt = 0.1 * DELTA
    t = kt / K_B_MEV_PER_K
    for p in PS:
        def g0(x: float, p: float = p) -> float:
            return (1.0 - p) * _gu_direct(x, z) + p * _gp_strijkers_direct(x, z)

        for v in (0.0, 0.5, 1.0, 1.5):
            def integrand(x: float, v: float = v) -> float:
                y = (x - v) / (2.0 * kt)
                return g0(x) / (4.0 * kt * math.cosh(y) ** 2)

            ref, _ = integrate.quad(integrand, v - 40 * kt, v + 40 * kt, points=[-DELTA, DELTA], limit=400,
                                    epsabs=1e-12)
            got = float(btk_polarized_conductance(v, DELTA, 0.0, z, p, temperature=t))
            assert got == pytest.approx(ref, abs=2e-4), (z, p, v)


def test_every_form_is_labelled() -> None:
    assert set(POLARIZED_FORM_LABELS) == {"strijkers", "mazin", "strijkers_continued"}
    assert "UNPHYSICAL" in POLARIZED_FORM_LABELS["strijkers_continued"]
