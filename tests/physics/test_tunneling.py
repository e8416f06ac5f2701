"""Tests of fitkit.physics.tunneling: note checks 7-9, 11-12, analytic limits, independent quad references."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad

from fitkit.constants import K_B_MEV_PER_K
from fitkit.physics.dos import dynes_dos_cell_average
from fitkit.physics.thermal import choose_grid
from fitkit.physics.tunneling import (
    nis_conductance,
    sis_conductance,
    sis_current,
    sis_current_from_dos,
)

KB = K_B_MEV_PER_K


# ----------------------------------------------------------------------------- independent references
def _dos(e, d, g):
    """Dynes DOS written independently: |Re[z / sqrt(z^2 - d^2)]| with z = E + i g (note form 3)."""
    z = complex(e, g)
    r = np.sqrt(z * z - d * d + 0j)
    if r == 0:
        return np.inf
    return abs((z / r).real)


def _ddos(e, d, g):
    """dN/dE of the Dynes DOS by complex differentiation (g > 0)."""
    w = complex(abs(e), g)
    return float(np.sign(e)) * (-d * d / (w * w - d * d) ** 1.5).real


def _fermi(e, t):
    if t == 0:
        return 1.0 if e < 0 else (0.5 if e == 0 else 0.0)
    x = e / (KB * t)
    return 0.5 * (1.0 - np.tanh(0.5 * x))


def _mdf(e, t):
    x = e / (KB * t)
    return 1.0 / (4.0 * KB * t * np.cosh(0.5 * x) ** 2) if abs(x) < 700 else 0.0


def nis_quad(v, d, g, t):
    """G/G_N = int N(E) (-f'(E - V)) dE; E = d cosh(u) substitution when g = 0."""
    kt = KB * t
    lo, hi = v - 45 * kt, v + 45 * kt
    if g == 0:
        total = 0.0
        for sgn in (1.0, -1.0):
            a, b = max(d, sgn * lo if sgn > 0 else -hi), max(d, hi if sgn > 0 else -lo)
            if b > a:
                total += quad(lambda u, s=sgn: d * np.cosh(u) * _mdf(s * d * np.cosh(u) - v, t),
                              np.arccosh(a / d), np.arccosh(b / d), limit=400, epsabs=1e-14, epsrel=1e-12)[0]
        return total
    pts = [p for p in (-d, d, v) if lo < p < hi]
    return quad(lambda e: _dos(e, d, g) * _mdf(e - v, t), lo, hi, points=pts, limit=400,
                epsabs=1e-14, epsrel=1e-12)[0]


def sis_current_quad(v, d1, g1, d2, g2, t):
    """I R_N = int N1(E) N2(E - V) [f(E - V) - f(E)] dE."""
    kt = KB * t
    lo, hi = min(0.0, v) - 45 * kt, max(0.0, v) + 45 * kt
    pts = sorted(p for p in {-d1, d1, v - d2, v + d2, 0.0, v} if lo < p < hi)
    return quad(lambda e: _dos(e, d1, g1) * _dos(e - v, d2, g2) * (_fermi(e - v, t) - _fermi(e, t)),
                lo, hi, points=pts, limit=1000, epsabs=1e-14, epsrel=1e-12)[0]


def sis_conductance_quad(v, d1, g1, d2, g2, t):
    """d/dV of I = int N1(E + V) N2(E) [f(E) - f(E + V)] dE, differentiated under the integral."""
    kt = KB * t
    lo, hi = min(0.0, -v) - 45 * kt, max(0.0, -v) + 45 * kt

    def integrand(e):
        return (_ddos(e + v, d1, g1) * _dos(e, d2, g2) * (_fermi(e, t) - _fermi(e + v, t))
                + _dos(e + v, d1, g1) * _dos(e, d2, g2) * _mdf(e + v, t))

    pts = sorted(p for p in {-d2, d2, -v - d1, -v + d1, 0.0, -v} if lo < p < hi)
    return quad(integrand, lo, hi, points=pts, limit=1000, epsabs=1e-14, epsrel=1e-12)[0]


# ----------------------------------------------------------------------------- note checks
def test_check7_nis_zero_bias_bcs():
    g0 = nis_conductance(0.0, 1.0, 0.0, 0.1 / KB)
    assert g0 == pytest.approx(3.72952e-4, rel=2e-4)


@pytest.mark.parametrize(("kt", "v_peak", "g_peak"), [(0.1, 1.12869, 1.92698), (0.05, 1.05990, 2.61389)])
def test_check8_nis_peak(kt, v_peak, g_peak):
    v = np.linspace(1.0, 1.3, 30001)
    g = nis_conductance(v, 1.0, 0.0, kt / KB)
    i = np.argmax(g)
    assert v[i] == pytest.approx(v_peak, abs=3e-5)
    assert g[i] == pytest.approx(g_peak, abs=5e-5)


def test_check8_nis_two_delta():
    assert nis_conductance(2.0, 1.0, 0.0, 0.1 / KB) == pytest.approx(1.16214, abs=1e-5)


def test_check9_nis_dynes():
    np.testing.assert_allclose(nis_conductance([0.0, 0.25, 0.5, 1.0], 0.5, 0.02, 0.05),
                               [0.03998, 0.06149, 2.47001, 1.15444], atol=1e-5)
    v = np.linspace(0.45, 0.6, 15001)
    g = nis_conductance(v, 0.5, 0.02, 0.05)
    assert v[np.argmax(g)] == pytest.approx(0.51468, abs=2e-5)
    assert g.max() == pytest.approx(2.85176, abs=1e-5)


def test_check11_sis_current_step_and_deficit():
    assert 1.0 - sis_current(1.0, 0.19, 0.0, 0.05, 0.0, 0.0) == pytest.approx(0.019274, abs=2e-6)
    # the jump at the sum gap on a fine explicit grid, from the lower-level API
    for d1, d2 in ((0.19, 0.05), (0.19, 0.19)):
        grid, step = choose_grid(0.5, widths=(2e-5,), points_per_width=1)
        v, cur = sis_current_from_dos(grid, step, dynes_dos_cell_average(grid, step, d1, 0.0),
                                      dynes_dos_cell_average(grid, step, d2, 0.0), 0.0)
        below = np.interp(d1 + d2 - 20 * step, v, cur)
        # the discrete step settles within ~10 cells; extrapolate from 20 and 40 cells back to V = D1 + D2
        above = 2 * np.interp(d1 + d2 + 20 * step, v, cur) - np.interp(d1 + d2 + 40 * step, v, cur)
        assert below == pytest.approx(0.0, abs=1e-12)
        assert above == pytest.approx(np.pi / 2 * np.sqrt(d1 * d2), rel=1e-3)


def test_check12_sis_peaks():
    v = np.linspace(0.2, 0.28, 8001)
    g = sis_conductance(v, 0.19, 0.0005, 0.05, 0.0005, 0.021)
    assert v[np.argmax(g)] == pytest.approx(0.240, abs=5e-4)
    v = np.linspace(0.1, 0.2, 1001)
    g = sis_conductance(v, 0.19, 0.001, 0.05, 0.001, 0.3)
    i = np.argmax(g)
    assert 0.137 <= v[i] <= 0.141 and 0 < i < v.size - 1


# ----------------------------------------------------------------------------- analytic limits
def test_nis_limits():
    v = np.array([-3.0, -1.7, 0.0, 0.4, 1.3, 2.2])
    # T -> 0, V_rms = 0: the conductance is the DOS itself
    e = np.concatenate([v, [0.9, 1.05]])
    np.testing.assert_allclose(nis_conductance(e, 1.0, 0.05, 0.0),
                               [_dos(x, 1.0, 0.05) for x in e], rtol=2e-4)
    # |V| >> Delta -> 1; Delta = 0 -> 1; even in V
    assert nis_conductance(40.0, 0.5, 0.01, 1.0) == pytest.approx(1.0 + 0.5**2 / (2 * 40.0**2), rel=1e-4)
    np.testing.assert_allclose(nis_conductance(v, 0.0, 0.0, 0.5, 0.01), 1.0, rtol=1e-12)
    np.testing.assert_allclose(nis_conductance(v, 0.6, 0.02, 0.4, 0.02),
                               nis_conductance(-v, 0.6, 0.02, 0.4, 0.02), rtol=1e-10)


def test_sis_large_bias_and_symmetry():
    v = np.array([2.0, 3.0])
    dev = v - sis_current(v, 0.19, 0.0, 0.05, 0.0, 0.0)
    np.testing.assert_allclose(dev, (0.19**2 + 0.05**2) / (2 * v), rtol=2e-3)
    w = np.linspace(-0.5, 0.5, 11)
    np.testing.assert_allclose(sis_current(w, 0.2, 0.01, 0.1, 0.01, 0.3),
                               -sis_current(-w, 0.2, 0.01, 0.1, 0.01, 0.3), atol=1e-12)


def test_invalid_parameters_raise():
    with pytest.raises(ValueError, match="must be finite and >= 0"):
        nis_conductance(0.0, -1.0, 0.0, 0.1)
    with pytest.raises(ValueError, match="must be finite and >= 0"):
        sis_conductance(0.0, 0.2, 0.0, 0.1, 0.0, np.nan)


# ----------------------------------------------------------------------------- quad cross-checks
def _random_sets(rng, n):
    out = []
    for _ in range(n):
        d = rng.uniform(0.1, 1.0)
        out.append((d, d * 10 ** rng.uniform(-3, -1), rng.uniform(0.02, 1.2) * d / KB / 1.764 / 2))
    return out


def test_nis_matches_quad_random(rng):
    # plus the Gamma -> 0 and T -> 0 edges
    sets = _random_sets(rng, 5) + [(0.5, 0.0, 0.3), (0.4, 1e-5, 0.2), (0.5, 0.02, 1e-3)]
    worst = 0.0
    for d, g, t in sets:
        v = np.concatenate([rng.uniform(-3 * d, 3 * d, 6), [0.0, d + 0.3 * KB * t]])
        got = nis_conductance(v, d, g, t)
        ref = np.array([nis_quad(x, d, g, t) for x in v])
        rel = np.max(np.abs(got - ref) / np.maximum(np.abs(ref), 1e-3))
        worst = max(worst, rel)
        assert rel <= 1e-4, (d, g, t, rel)
    print(f"nis vs quad: worst relative deviation {worst:.2e}")


def test_sis_matches_quad_random(rng):
    sets = []
    for d, g, t in _random_sets(rng, 5):
        d2 = d * rng.uniform(0.2, 0.9)
        sets.append((d, g, d2, g * rng.uniform(0.5, 2.0), t))
    sets.append((0.19, 5e-4, 0.05, 5e-4, 0.021))  # Gamma -> 0 and T -> 0 edge of check 12
    worst_i = worst_g = 0.0
    for d1, g1, d2, g2, t in sets:
        v = np.concatenate([rng.uniform(-2 * (d1 + d2), 2 * (d1 + d2), 5), [d1 + d2 + 1e-3]])
        cur = sis_current(v, d1, g1, d2, g2, t)
        cond = sis_conductance(v, d1, g1, d2, g2, t)
        iref = np.array([sis_current_quad(x, d1, g1, d2, g2, t) for x in v])
        gref = np.array([sis_conductance_quad(x, d1, g1, d2, g2, t) for x in v])
        ri = np.max(np.abs(cur - iref) / np.maximum(np.abs(iref), 1e-3 * (d1 + d2)))
        rg = np.max(np.abs(cond - gref) / np.maximum(np.abs(gref), 1e-3))
        worst_i, worst_g = max(worst_i, ri), max(worst_g, rg)
        assert ri <= 1e-4 and rg <= 1e-4, (d1, g1, d2, g2, t, ri, rg)
    print(f"sis vs quad: worst relative deviation current {worst_i:.2e}, conductance {worst_g:.2e}")
