"""Plasmon-broadened P(E), wire DOS and S-I-S current (physics note transport.md section 3, checks C10-C14).

References are independent of the code under test: the note's check table (C10-C13), closed-form
limits (Gamma law, detailed balance, exponents), direct frequency quadrature of J(t), and slow
``scipy.integrate.quad`` evaluations of P(E) and nu(E).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, special

from fitkit.constants import K_B_MEV_PER_K
from fitkit.physics.dos import dynes_dos_cell_average
from fitkit.physics.plasmon import (
    _j_of_t,
    environment_pe,
    sis_plasmon_conductance,
    sis_plasmon_current,
    wire_dos,
)
from fitkit.physics.thermal import interp_on_grid
from fitkit.physics.tunneling import sis_conductance, sis_current

UEV = 1e-3  # meV per ueV


def _grid(half: float, step: float) -> np.ndarray:
    n = int(round(half / step))
    return step * np.arange(-n, n + 1)


# ---------------------------------------------------------------- P(E): C10, C11, identities


def test_c10_normalisation_mean_and_detailed_balance():
    h = 0.05 * UEV
    e = h * np.arange(-20000, 40001)
    p = environment_pe(e, 1.5, 45 * UEV, 0.021)
    assert p.sum() * h == pytest.approx(1.0, abs=1e-9)              # C10: int P = 1.000000
    assert (e * p).sum() * h / UEV == pytest.approx(30.000, abs=1e-3)  # C10: <E> = 30.000 ueV
    pts = environment_pe(np.array([-2.0, 2.0]) * UEV, 1.5, 45 * UEV, 0.021, average="point")
    ratio = pts[0] / pts[1]
    assert ratio == pytest.approx(np.exp(-2 * UEV / (K_B_MEV_PER_K * 0.021)), rel=1e-9)
    # the note quotes 0.33090; the identity it states gives 0.331147 (k_B T = 1.80964 ueV)
    assert ratio == pytest.approx(0.33090, rel=1e-3)


@pytest.mark.parametrize(("g_z", "cutoff", "temp"), [(1.0, 0.03, 0.05), (2.7, 0.08, 0.1), (0.8, 0.05, 0.2)])
def test_detailed_balance_and_moments_random_sets(g_z, cutoff, temp):
    e = np.linspace(-0.02, 0.02, 41)
    both = environment_pe(e, g_z, cutoff, temp, average="point")
    boltzmann = np.exp(-e[21:] / (K_B_MEV_PER_K * temp))
    np.testing.assert_allclose(both[:20][::-1] / both[21:], boltzmann, rtol=1e-8)
    h = 2e-4
    grid = h * np.arange(-int(1.0 / h), int(4.0 / h))
    pc = environment_pe(grid, g_z, cutoff, temp)
    assert pc.sum() * h == pytest.approx(1.0, abs=1e-8)
    assert (grid * pc).sum() * h == pytest.approx(cutoff / g_z, rel=1e-5)
    assert pc.min() > -1e-12


@pytest.mark.parametrize(("e_uev", "expected"), [(5.0, 3.0545e-2), (20.0, 1.3789e-2)])
def test_c11_gamma_law_at_zero_temperature(e_uev, expected):
    p = environment_pe(np.array([e_uev, 2 * e_uev]) * UEV, 1.5, 45 * UEV, 0.0, average="point")
    assert p[0] * UEV == pytest.approx(expected, rel=1e-4)


def test_low_temperature_fft_approaches_gamma_law():
    e = np.array([5.0, 20.0]) * UEV
    p = environment_pe(e, 1.5, 45 * UEV, 0.0005, average="point")  # k_B T = 0.043 ueV << E
    assert p * UEV == pytest.approx([3.0545e-2, 1.3789e-2], rel=1e-3)


def test_cell_averages_integrate_gamma_law_exactly():
    h = 1 * UEV
    e = h * np.arange(-10, 3000)
    p = environment_pe(e, 3.0, 45 * UEV, 0.0)
    a = 1 / 3.0
    cdf = special.gammainc(a, np.clip((e + h / 2) / (45 * UEV), 0, None))
    np.testing.assert_allclose(np.cumsum(p) * h, cdf, atol=1e-12)
    assert p[e < -h / 2].max() == 0.0


def test_cell_average_fft_matches_gamma_law_cells_at_low_temperature():
    h = 0.5 * UEV
    e = h * np.arange(-200, 2000)
    cold = environment_pe(e, 2.0, 45 * UEV, 0.0)
    warm = environment_pe(e, 2.0, 45 * UEV, 0.002)  # k_B T = 0.17 ueV < h
    far = np.abs(e) > 5 * UEV
    np.testing.assert_allclose(warm[far], cold[far], rtol=2e-3, atol=1e-9)
    assert warm.sum() * h == pytest.approx(1.0, abs=1e-9)


def test_infinite_g_z_is_delta():
    h = 0.1
    e = h * np.arange(-5, 6)
    p = environment_pe(e, np.inf, 0.05, 0.02)
    assert p[5] == pytest.approx(1 / h) and np.count_nonzero(p) == 1


def _j_re_integrand(w, t, g_z, ec, kt):
    return (np.exp(-w / ec) / g_z) / w * (np.cos(w * t) - 1.0) / np.tanh(w / (2 * kt))


def _j_im_integrand(w, t, g_z, ec, kt):
    return -(np.exp(-w / ec) / g_z) / w * np.sin(w * t)


def test_j_closed_form_matches_frequency_quadrature(rng):
    """Closed-form J(t) (loggamma) against the defining integral over omega (transport.md 3.2(b))."""
    for _ in range(3):
        g_z, ec, temp = rng.uniform(1, 3), rng.uniform(0.02, 0.08), rng.uniform(0.02, 0.2)
        kt = K_B_MEV_PER_K * temp
        for t in rng.uniform(1, 400, size=2):
            lim = 60 * ec
            pts = np.linspace(0, lim, 50)[1:-1]
            args = (t, g_z, ec, kt)
            jr = integrate.quad(_j_re_integrand, 0, lim, args=args, limit=2000, points=pts)[0]
            ji = integrate.quad(_j_im_integrand, 0, lim, args=args, limit=2000, points=pts)[0]
            got = _j_of_t(np.array([t]), 1 / g_z, ec, kt)[0]
            assert got.real == pytest.approx(jr, rel=1e-6, abs=1e-9)
            assert got.imag == pytest.approx(ji, rel=1e-6, abs=1e-9)


def test_pe_against_quad_of_time_integral(rng):
    """P(E) from the FFT against a slow quad of (1/pi) int_0^inf Re e^{J(t)+iEt} dt."""
    g_z, ec, temp = 1.7, 0.04, 0.05
    kt = K_B_MEV_PER_K * temp
    for e0 in rng.uniform(-0.01, 0.06, size=3):
        def integrand(t, e0=e0):
            return (np.exp(_j_of_t(np.array([t]), 1 / g_z, ec, kt)[0] + 1j * e0 * t)).real / np.pi

        t_end = 60.0 / kt
        ref = integrate.quad(integrand, 0, t_end, limit=4000, points=np.linspace(0, t_end, 200)[1:-1])[0]
        got = environment_pe(np.array([e0, e0 + 1e-3]), g_z, ec, temp, average="point")[0]
        assert got == pytest.approx(ref, rel=1e-6, abs=1e-8)


def test_gamma_law_against_quad_of_time_integral():
    """T = 0 Gamma law against the Fourier integral of (1 + i E_c t)^(-1/g_Z) (QAWF quadrature)."""
    g_z, ec = 1.5, 45 * UEV
    a = 1 / g_z
    for e0 in (5 * UEV, 20 * UEV, 70 * UEV):
        re = integrate.quad(lambda t: ((1 + 1j * ec * t) ** (-a)).real, 0, np.inf, weight="cos", wvar=e0)[0]
        im = integrate.quad(lambda t: ((1 + 1j * ec * t) ** (-a)).imag, 0, np.inf, weight="sin", wvar=e0)[0]
        ref = (re - im) / np.pi
        got = environment_pe(np.array([e0, 2 * e0]), g_z, ec, 0.0, average="point")[0]
        assert got == pytest.approx(ref, rel=1e-5)


def test_pe_input_validation():
    with pytest.raises(ValueError, match="g_z"):
        environment_pe(np.linspace(-1, 1, 5), -1.0, 0.05, 0.02)
    with pytest.raises(ValueError, match="uniform"):
        environment_pe(np.array([0.0, 0.1, 0.3]), 1.0, 0.05, 0.02)
    with pytest.raises(ValueError, match="cutoff"):
        environment_pe(np.linspace(-1, 1, 5), 1.0, 0.0, 0.02)


# ---------------------------------------------------------------- wire DOS: C12, C14, tail


C12 = [(40, 2.49e-2, 0.02), (45, 0.374, 0.01), (50, 0.869, 0.01), (60, 1.036, 0.003), (90, 1.096, 0.003),
       (300, 1.015, 0.003)]


def test_c12_wire_dos_values():
    h = 0.25 * UEV
    e = _grid(0.6, h)
    nu = wire_dos(e, h, 45 * UEV, 1.5, 45 * UEV, 0.021, gamma_d=0.05 * UEV)
    got = interp_on_grid(e, nu, np.array([c[0] for c in C12]) * UEV)
    for (_, want, rel), g in zip(C12, got, strict=True):
        assert g == pytest.approx(want, rel=rel)
    np.testing.assert_allclose(nu, nu[::-1], rtol=1e-9, atol=1e-13)  # particle-hole symmetric


def test_infinite_g_z_gives_bare_dynes():
    h = 0.5 * UEV
    e = _grid(0.3, h)
    nu = wire_dos(e, h, 0.045, np.inf, 0.045, 0.021, gamma_d=1e-4)
    np.testing.assert_allclose(nu, dynes_dos_cell_average(e, h, 0.045, 1e-4), rtol=1e-10)


def test_wire_dos_against_quad_at_zero_temperature():
    """nu(E) = int_Delta^E nu_BCS(eps) P(E - eps) d eps at T = 0, both endpoint singularities by QAWS."""
    delta, g_z, ec = 0.045, 1.5, 0.045
    a = 1 / g_z
    h = 0.05 * UEV
    e = _grid(0.12, h)
    nu = wire_dos(e, h, delta, g_z, ec, 0.0)
    for e0 in (0.050, 0.070, 0.100):
        def smooth(eps, e0=e0):
            return eps / np.sqrt(eps + delta) * np.exp(-(e0 - eps) / ec) / (special.gamma(a) * ec**a)

        ref = integrate.quad(smooth, delta, e0, weight="alg", wvar=(-0.5, a - 1))[0]
        got = interp_on_grid(e, nu, np.array([e0]))[0]
        assert got == pytest.approx(ref, rel=2e-4)
    assert np.max(np.abs(nu[np.abs(e) < delta - h])) < 1e-12  # hard gap at T = 0


def test_wire_dos_against_quad_at_finite_temperature():
    """One finite-T value: the double integral done by quad on the BCS DOS with FFT-independent P."""
    delta, g_z, ec, temp = 0.045, 2.2, 0.05, 0.06
    kt = K_B_MEV_PER_K * temp
    e0 = 0.052

    def p_of(x):  # point value of P at x (a 2-point grid ending at x)
        return environment_pe(np.array([x - 0.01, x]), g_z, ec, temp, average="point")[1]

    def f(x):
        return special.expit(-x / kt)

    def integrand(eps):
        nus = abs(eps) / np.sqrt(eps * eps - delta * delta)
        return nus * ((1 - f(eps)) * p_of(e0 - eps) + f(eps) * p_of(eps - e0))

    # |eps| > Delta only; substitute eps = Delta + u^2 to remove the 1/sqrt singularity
    def pos(u):
        return 2 * u * integrand(delta + u * u)

    def neg(u):
        return 2 * u * integrand(-delta - u * u)

    ref = integrate.quad(pos, 1e-12, np.sqrt(1.4), limit=2000, points=[np.sqrt(max(e0 - delta, 1e-9))])[0]
    ref += integrate.quad(neg, 1e-12, np.sqrt(0.3), limit=2000)[0]
    h = 0.1 * UEV
    e = _grid(0.4, h)
    got = interp_on_grid(e, wire_dos(e, h, delta, g_z, ec, temp), np.array([e0]))[0]
    assert got == pytest.approx(ref, rel=2e-3)


@pytest.mark.parametrize(("g_z", "exponent"), [(1.5, 1 / 1.5 - 0.5), (2.0, 0.0), (4.0, -0.25)])
def test_c14_near_gap_exponent(g_z, exponent):
    delta, ec = 0.045, 0.045
    h = 0.01 * UEV
    e = h * np.arange(-100, 6001)
    nu = wire_dos(e, h, delta, g_z, ec, 0.0)
    x = np.array([0.2, 0.4]) * UEV
    v = interp_on_grid(e, nu, delta + x)
    slope = np.log(v[1] / v[0]) / np.log(x[1] / x[0])
    assert slope == pytest.approx(exponent, abs=0.02)


def test_subgap_tail_slope_is_inverse_temperature():
    delta, temp = 0.045, 0.060
    kt = K_B_MEV_PER_K * temp
    h = 0.2 * UEV
    e = _grid(0.4, h)
    nu = wire_dos(e, h, delta, 1.5, 0.045, temp)
    pts = np.array([25.0, 35.0]) * UEV
    v = interp_on_grid(e, nu, pts)
    slope = np.log(v[1] / v[0]) / (pts[1] - pts[0])
    assert 0.75 / kt < slope < 1.25 / kt


# ---------------------------------------------------------------- S-I-S current: C13, limits


def test_c13_current_values():
    v = np.array([250.0, 300.0, 400.0]) * UEV
    cur = sis_plasmon_current(v, 45 * UEV, 1.5, 45 * UEV, 0.021, 190 * UEV, 0.0, gamma_d=0.05 * UEV)
    np.testing.assert_allclose(cur / UEV, [74.20, 181.35, 315.20], rtol=3e-4)


def test_effective_dos_route_equals_full_pe_route():
    """C13: I(V) from nu_eff equals the double integral with P(E) (done here as a dense matrix sum)."""
    delta, g_z, ec, temp, d_tip = 0.045, 1.5, 0.045, 0.021, 0.19
    h = 1.0 * UEV
    e = _grid(0.65, h)
    nu_s = dynes_dos_cell_average(e, h, delta, 0.05 * UEV)
    nu_t = dynes_dos_cell_average(e, h, d_tip, 0.0)
    f = special.expit(-e / (K_B_MEV_PER_K * temp))
    n = e.size
    offs = h * np.arange(-(2 * n), 2 * n + 1)
    p = environment_pe(offs, g_z, ec, temp)
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")  # i: electrode E, j: wire E'
    for v in (250 * UEV, 300 * UEV, 400 * UEV):
        m = int(round(v / h))
        fwd = p[(i + m - j) + 2 * n]       # P(E + eV - E')
        bwd = p[(j - i - m) + 2 * n]       # P(E' - E - eV)
        integrand = nu_t[i] * nu_s[j] * (f[i] * (1 - f[j]) * fwd - (1 - f[i]) * f[j] * bwd)
        full = integrand.sum() * h * h
        eff = sis_plasmon_current(np.array([v]), delta, g_z, ec, temp, d_tip, 0.0, gamma_d=0.05 * UEV)[0]
        assert full == pytest.approx(eff, rel=1e-4)  # C13: the two routes agree to <= 1e-4


def test_infinite_g_z_reduces_to_sis_exactly():
    v = np.linspace(-0.4, 0.4, 161)
    args = (0.045, 0.021, 0.19, 0.002)
    ref_i = sis_current(v, 0.045, 0.001, 0.19, 0.002, 0.021)
    ref_g = sis_conductance(v, 0.045, 0.001, 0.19, 0.002, 0.021, 0.003)
    for g_z, tol in ((np.inf, 1e-10), (1e9, 1e-6)):
        cur = sis_plasmon_current(v, 0.045, g_z, *args, gamma_d=0.001)
        cond = sis_plasmon_conductance(v, 0.045, g_z, *args, gamma_d=0.001, v_mod_rms=0.003)
        assert np.max(np.abs(cur - ref_i)) < tol * np.max(np.abs(ref_i))
        assert np.max(np.abs(cond - ref_g)) < tol * np.max(ref_g)


def test_fast_resolution_close_to_reference():
    v = np.linspace(0.0, 0.45, 181)
    for g_z in (1.5, 3.0):
        ref = sis_plasmon_conductance(v, 0.045, g_z, 0.045, 0.021, 0.19, 0.001)
        fast = sis_plasmon_conductance(v, 0.045, g_z, 0.045, 0.021, 0.19, 0.001, resolution="fast")
        assert np.max(np.abs(fast - ref)) < 5e-4 * np.max(ref)


def test_conductance_is_derivative_of_current_and_high_bias_offset():
    v = np.linspace(0.3, 0.6, 61)
    cur = sis_plasmon_current(v, 0.045, 2.0, 0.045, 0.021, 0.19, 0.001)
    cond = sis_plasmon_conductance(v, 0.045, 2.0, 0.045, 0.021, 0.19, 0.001)
    np.testing.assert_allclose(np.gradient(cur, v)[1:-1], cond[1:-1], rtol=2e-3)
    # large-bias excess-current offset contains <E>/e = hbar omega_c / (e g_Z) (transport.md 3.2(e))
    big = sis_plasmon_current(np.array([3.0]), 0.045, 2.0, 0.045, 0.021, 0.19, 0.001)[0]
    bcs = sis_current(np.array([3.0]), 0.045, 0.0, 0.19, 0.001, 0.021)[0]
    assert (bcs - big) == pytest.approx(0.045 / 2.0, rel=0.05)
