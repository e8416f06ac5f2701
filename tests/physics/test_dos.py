"""Tests of fitkit.physics.dos against checks 1-3 of the physics note and quad cell averages."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad

from fitkit.physics.dos import dynes_dos, dynes_dos_antiderivative, dynes_dos_cell_average


def test_check1_closed_forms():
    assert dynes_dos(0.0, 1.0, 0.1) == pytest.approx(0.1 / np.sqrt(1.01), rel=1e-14)
    assert dynes_dos(0.0, 1.0, 0.1) == pytest.approx(0.0995037, abs=1e-7)
    assert dynes_dos(2.0, 1.0, 0.0) == pytest.approx(1.1547005, abs=1e-7)
    np.testing.assert_array_equal(dynes_dos([-0.99, -0.5, 0.0, 0.5, 0.99], 1.0, 0.0), 0.0)
    np.testing.assert_allclose(dynes_dos([-30.0, 30.0], 1.0, 0.0), 30 / np.sqrt(899), rtol=1e-14)


def test_check2_even_and_nonnegative():
    """The naive principal-branch formula is negative for E < 0; ours must not be."""
    e = np.linspace(-5, 5, 20001)
    for g in (0.0, 0.01, 0.1, 1.0):
        n = dynes_dos(e, 1.0, g)
        assert np.all(n >= 0)
        np.testing.assert_array_equal(n, dynes_dos(-e, 1.0, g))
    naive = (lambda z: (z / np.sqrt(z * z - 1.0)).real)(e[:10000] + 0.1j)
    assert naive.min() < 0  # the check can fail


@pytest.mark.parametrize(("gamma", "e_peak", "n_peak"), [(0.01, 1.00584, 5.748), (0.05, 1.03053, 2.660),
                                                          (0.1, 1.06438, 1.960)])
def test_check3_peak(gamma, e_peak, n_peak):
    e = np.linspace(0.95, 1.2, 250001)
    n = dynes_dos(e, 1.0, gamma)
    i = np.argmax(n)
    assert e[i] == pytest.approx(e_peak, abs=2e-5)
    assert n[i] == pytest.approx(n_peak, abs=1e-3)


def test_antiderivative_continuous_at_zero_and_derivative():
    for g in (0.0, 0.03):
        assert dynes_dos_antiderivative(1e-12, 1.0, g) == pytest.approx(0.0, abs=1e-10)
        assert dynes_dos_antiderivative(-1e-12, 1.0, g) == pytest.approx(0.0, abs=1e-10)
    e = np.array([-2.3, -1.02, -0.4, 0.0, 0.3, 0.999, 1.5, 7.0])
    eps = 1e-6
    hi, lo = dynes_dos_antiderivative(e + eps, 1.0, 0.05), dynes_dos_antiderivative(e - eps, 1.0, 0.05)
    num = (hi - lo) / (2 * eps)
    np.testing.assert_allclose(num, dynes_dos(e, 1.0, 0.05) - 1.0, atol=1e-7)


@pytest.mark.parametrize("gamma", [0.0, 1e-4, 0.02])
def test_cell_average_matches_quad(rng, gamma):
    h = 0.037
    centres = np.concatenate([rng.uniform(-3, 3, 8), [1.0, -1.0, 1.0 + h / 3, 0.0]])
    got = dynes_dos_cell_average(centres, h, 1.0, gamma)
    for c, g in zip(centres, got, strict=True):
        a, b = c - h / 2, c + h / 2
        if gamma == 0.0:
            # E = cosh(u) removes the square-root singularity: N dE = cosh(u) du for E > 1.
            def part(lo, hi):
                lo, hi = max(lo, 1.0), max(hi, 1.0)
                return quad(np.cosh, np.arccosh(lo), np.arccosh(hi))[0] if hi > lo else 0.0
            ref = (part(a, b) + part(-b, -a)) / h
        else:
            pts = [p for p in (-1.0, 1.0, 0.0) if a < p < b]
            ref = quad(lambda e: dynes_dos(e, 1.0, gamma), a, b, points=pts or None, limit=400,
                       epsabs=1e-13, epsrel=1e-12)[0] / h
        assert g == pytest.approx(ref, rel=1e-9, abs=1e-12)
