"""Maki / Abrikosov-Gor'kov DOS and the N-I-S / S-I-S conductances built on it (issue 14 item 2).

Independent references: per-energy roots of the AG quartic by ``numpy.roots`` (b = 0), a per-energy
``scipy.optimize.root`` of the coupled spin equations (b > 0), and ``scipy.integrate.quad`` against -f'.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, optimize

from fitkit.constants import K_B_MEV_PER_K
from fitkit.physics.maki import (
    MU_B_MEV_PER_T,
    ag_gap_edge,
    maki_dos,
    nis_maki_conductance,
    sis_maki_conductance,
    zeeman_energy,
)
from fitkit.physics.tunneling import nis_conductance, sis_conductance


def _ret_root(u: complex) -> complex:
    """Retarded sqrt(1 - u^2), analytic across the real axis outside [-1, 1] (cut on [-1, 1])."""
    return complex(-1j * np.sqrt(complex(u) - 1) * np.sqrt(complex(u) + 1))


def _ag_root_slow(a: complex, zeta: float) -> complex:
    """Retarded AG root for one reduced energy a (Im a > 0) from the quartic, by numpy.roots."""
    coeffs = [1.0, -2.0 * a, -(1.0 - a * a - zeta * zeta), 2.0 * a, -a * a]
    best = None
    for r in np.roots(coeffs):
        valid = abs(r - a - zeta * r / np.sqrt(1.0 - r * r)) < 1e-8 * (1 + abs(a)) and r.imag > -1e-12
        if valid and (best is None or r.imag > best.imag):
            best = r
    assert best is not None
    return complex(best)


def _dos_slow(e: float, delta: float, zeta: float, h: float, b: float, gamma: float) -> float:
    """N_+ + N_- at one energy, independent of fitkit (b = 0: quartic roots; b > 0: scipy root, homotopy)."""
    eta = max(gamma, 1e-9 * delta)
    ap = (e - h + 1j * eta) / delta
    am = (e + h + 1j * eta) / delta
    up = _ag_root_slow(ap, zeta) if ap.real >= 0 else -np.conj(_ag_root_slow(-np.conj(ap), zeta))
    um = _ag_root_slow(am, zeta) if am.real >= 0 else -np.conj(_ag_root_slow(-np.conj(am), zeta))
    if b > 0:
        # homotopy in the imaginary part of the energy with scipy's hybrid solver on 4 real unknowns
        def eqs(xv: np.ndarray, eta: float) -> list[float]:
            p, m = xv[0] + 1j * xv[1], xv[2] + 1j * xv[3]
            a_p, a_m = (e - h) / delta + 1j * eta, (e + h) / delta + 1j * eta
            sp, sm = _ret_root(p), _ret_root(m)
            fp = p - a_p - zeta * p / sp - b * (m - p) / sm
            fm = m - a_m - zeta * m / sm - b * (p - m) / sp
            return [fp.real, fp.imag, fm.real, fm.imag]

        etas = np.geomspace(3.0 + 3.0 * (zeta + b), eta / delta, 80 if gamma == 0 else 25)
        x = np.array([(e - h) / delta, etas[0], (e + h) / delta, etas[0]])
        for et in etas:
            x = optimize.root(eqs, x, args=(et,), method="hybr", tol=1e-14).x
        assert max(abs(v) for v in eqs(x, etas[-1])) < 1e-9
        up, um = x[0] + 1j * x[1], x[2] + 1j * x[3]
        return 0.5 * float((up / _ret_root(up)).imag + (um / _ret_root(um)).imag)
    return 0.5 * float((up / np.sqrt(1 - up * up)).imag + (um / np.sqrt(1 - um * um)).imag)


def test_zeeman_energy() -> None:
    assert zeeman_energy(1.0, 2.0) == pytest.approx(MU_B_MEV_PER_T)
    assert 2 * zeeman_energy(1.0) == pytest.approx(0.11577, abs=1e-5)  # physics note: splitting 2h at 1 T


@pytest.mark.parametrize("temperature", [0.0, 0.05, 0.5])
def test_zeta_zero_field_zero_equals_nis(temperature: float) -> None:
    v = np.linspace(-1.5, 1.5, 601)
    for gamma in (0.0, 0.01):
        got = nis_maki_conductance(v, 0.5, 0.0, 0.0, 2.0, 0.0, gamma, temperature, 0.0)
        ref = nis_conductance(v, 0.5, gamma, temperature)
        assert np.max(np.abs(got - ref)) < 1e-6


def test_small_zeta_approaches_bcs_through_the_ag_path() -> None:
    """zeta = 1e-6 goes through the AG root solver and antiderivative, yet matches BCS (Gamma = 0)."""
    v = np.linspace(-1.5, 1.5, 301)
    got = nis_maki_conductance(v, 0.5, 1e-6, 0.0, 2.0, 0.0, 0.0, 0.3, 0.0)
    ref = nis_conductance(v, 0.5, 0.0, 0.3)
    assert np.max(np.abs(got - ref)) < 2e-3  # the AG peak rounding ~ zeta^(2/3) Delta = 5e-5 meV


@pytest.mark.parametrize("zeta", [0.005, 0.05, 0.3])
def test_b_zero_is_two_shifted_ag_bands(zeta: float) -> None:
    delta, h = 1.0, 0.2
    e = np.array([-2.0, -1.1, -0.5, 0.0, 0.3, 0.7, 0.85, 1.0, 1.2, 1.5, 3.0])
    got = maki_dos(e, delta, zeta, h, 0.0, 0.0)
    ref = [
        0.5 * (_dos_slow(x - h, delta, zeta, 0.0, 0.0, 0.0) + _dos_slow(x + h, delta, zeta, 0.0, 0.0, 0.0))
        for x in e
    ]
    assert np.allclose(got, ref, atol=1e-9)


def test_zeeman_peaks_at_delta_plus_minus_h() -> None:
    delta, h = 1.0, zeeman_energy(10.0)  # 0.579 meV at 10 T, g = 2: two well separated spin bands
    e = np.linspace(0.0, 2.5, 25001)
    n = maki_dos(e, delta, 1e-4, h, 0.0, 0.0)
    peaks = e[1:-1][(n[1:-1] > n[:-2]) & (n[1:-1] > n[2:])]
    assert peaks.size == 2
    # AG peak of each band sits at Delta (1 - zeta^(2/3))^(3/2) + O(zeta^(2/3)) above its shifted edge
    assert peaks[0] == pytest.approx(delta - h, abs=3e-3)
    assert peaks[1] == pytest.approx(delta + h, abs=3e-3)


@pytest.mark.parametrize(("zeta", "note_value"), [(0.02, 0.8915), (0.1, 0.6949), (0.3, 0.4100)])
def test_ag_spectral_gap_edge(zeta: float, note_value: float) -> None:
    edge = ag_gap_edge(zeta)
    assert edge == pytest.approx((1 - zeta ** (2 / 3)) ** 1.5, rel=1e-12)
    assert edge == pytest.approx(note_value, abs=1e-4)  # physics note films_and_fields.md section 1
    e = np.linspace(0.0, 1.0, 200001)
    n = maki_dos(e, 1.0, zeta, 0.0, 0.0, 0.0)
    first = e[np.argmax(n > 1e-6)]
    assert first == pytest.approx(edge, abs=2e-4)
    assert np.all(n[e < edge * (1 - 1e-3)] < 1e-6)


def test_gapless_beyond_zeta_one() -> None:
    n0 = float(maki_dos(0.0, 1.0, 1.5, 0.0, 0.0, 0.0))
    assert n0 > 0.1
    assert n0 == pytest.approx(_dos_slow(0.0, 1.0, 1.5, 0.0, 0.0, 0.0), abs=1e-10)


def test_spin_orbit_against_independent_root_and_merges_peaks() -> None:
    delta, h = 1.0, 0.15
    for zeta, b in ((0.05, 0.1), (0.02, 0.5), (0.2, 1.0)):
        e = np.array([0.0, 0.6, 0.85, 1.0, 1.15, 1.4, 2.5])
        got = maki_dos(e, delta, zeta, h, b, 0.0)
        ref = [_dos_slow(x, delta, zeta, h, b, 0.0) for x in e]
        assert np.allclose(got, ref, atol=1e-8), (zeta, b)
    e = np.linspace(0.5, 1.6, 2201)

    def n_peaks(b: float) -> int:
        n = maki_dos(e, delta, 0.01, h, b, 0.0)
        return int(np.sum((n[1:-1] > n[:-2]) & (n[1:-1] > n[2:])))

    assert n_peaks(0.0) == 2
    assert n_peaks(5.0) == 1


def _quad_conductance(
    v: float, delta: float, zeta: float, h: float, b: float, gamma: float, t: float
) -> float:
    kt = K_B_MEV_PER_K * t

    def integrand(x: float) -> float:
        y = (x - v) / (2 * kt)
        return _dos_slow(x, delta, zeta, h, b, gamma) / (4 * kt * math.cosh(y) ** 2)

    pts = sorted({p for p in (delta - h, delta + h, -delta + h, -delta - h) if abs(p - v) < 30 * kt})
    val, _ = integrate.quad(integrand, v - 30 * kt, v + 30 * kt, points=pts or None, limit=200, epsabs=2e-6)
    return val


def test_nis_maki_against_quadrature_at_random_parameters() -> None:
    rng = np.random.default_rng(20261202)
    for _ in range(3):
        delta = rng.uniform(0.2, 0.6)
        zeta = rng.uniform(0.01, 0.3)
        field = rng.uniform(0.0, 2.0)
        t = rng.uniform(0.1, 0.6)
        h = zeeman_energy(field, 2.0)
        for v in rng.uniform(0.0, 1.5 * delta, 3):
            got = float(nis_maki_conductance(v, delta, zeta, field, 2.0, 0.0, 0.0, t, 0.0))
            ref = _quad_conductance(v, delta, zeta, h, 0.0, 0.0, t)
            assert got == pytest.approx(ref, abs=1e-4), (delta, zeta, field, t, v)


@pytest.mark.slow
def test_nis_maki_with_spin_orbit_against_quadrature() -> None:
    """b > 0 through the coupled solver and Simpson cell averages, Gamma = 0 and Gamma > 0."""
    cases = (
        (0.446, 0.163, 0.26, 0.95, 0.0, 0.28, (0.2704,)),  # square-root gap-edge onset (Gamma = 0)
        (0.3, 0.05, 0.4, 1.5, 0.006, 0.3, (0.15, 0.33)),
    )
    for delta, zeta, b, field, gamma, t, biases in cases:
        h = zeeman_energy(field, 2.0)
        for v in biases:
            got = float(nis_maki_conductance(v, delta, zeta, field, 2.0, b, gamma, t, 0.0))
            ref = _quad_conductance(v, delta, zeta, h, b, gamma, t)
            assert got == pytest.approx(ref, abs=1e-4), (delta, zeta, b, field, gamma, t, v)


def test_sis_maki_reduces_to_sis() -> None:
    v = np.linspace(-1.0, 1.0, 401)
    got = sis_maki_conductance(v, 0.3, 0.0, 0.0, 2.0, 0.0, 0.005, 0.19, 0.002, 0.3)
    ref = sis_conductance(v, 0.3, 0.005, 0.19, 0.002, 0.3)
    assert np.max(np.abs(got - ref)) < 1e-6
    # with depairing the sum-gap peak moves below Delta + Delta_T and lowers
    g2 = sis_maki_conductance(v, 0.3, 0.1, 0.0, 2.0, 0.0, 0.005, 0.19, 0.002, 0.3)
    pos = v > 0
    assert v[pos][np.argmax(g2[pos])] < v[pos][np.argmax(got[pos])]
    assert g2.max() < got.max()


def test_invalid_parameters_raise() -> None:
    with pytest.raises(ValueError, match="zeta"):
        nis_maki_conductance(0.0, 0.3, -0.1)
    with pytest.raises(ValueError, match="temperature"):
        nis_maki_conductance(0.0, 0.3, 0.1, temperature=-1.0)
