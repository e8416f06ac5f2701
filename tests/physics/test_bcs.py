"""BCS gap: reference values (transport note C2/C3, spectroscopy note §12 checks 4-6), limits, quad."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.optimize import brentq

from fitkit.constants import K_B_MEV_PER_K
from fitkit.physics.bcs import DELTA0_OVER_KTC, NEAR_TC_SLOPE, bcs_gap, bcs_gap_ratio, bcs_gap_tanh

# (t, exact Delta/Delta0, tanh interpolation) from transport.md C2/C3 and spectroscopy.md §12.5-6
C2_C3 = [
    (0.5, 0.9569, 0.9402),
    (0.8, 0.7110, 0.7014),
    (0.9, 0.5263, 0.5227),
    (0.95, 0.3803, 0.3793),
]
SPEC_12 = [(0.5, 0.95688, 0.94023), (0.7, 0.82877, 0.81411), (0.9, 0.52634, 0.52267)]


def _quad_gap_ratio(t: float) -> float:
    """Independent solution of ln(D0/D) = 2 int_0^inf dxi f(E)/E with quad + brentq (energies in D0)."""
    tau = t / DELTA0_OVER_KTC

    def integrand(x: float, d: float) -> float:
        e = math.hypot(x, d)
        return math.exp(-e / tau) / (e * (1.0 + math.exp(-e / tau)))

    def resid(d: float) -> float:
        return math.log(1.0 / d) - 2.0 * quad(integrand, 0.0, np.inf, args=(d,), epsabs=1e-13,
                                              epsrel=1e-12, limit=400)[0]

    return brentq(resid, 1e-8, 1.0, xtol=1e-14, rtol=1e-14)


def test_delta0_ratio():
    assert pytest.approx(1.763877, abs=1e-6) == DELTA0_OVER_KTC
    assert pytest.approx(math.pi * math.exp(-0.5772156649015329), rel=1e-12) == DELTA0_OVER_KTC


@pytest.mark.parametrize(("t", "exact", "tanh"), C2_C3)
def test_c2_c3(t, exact, tanh):
    assert float(bcs_gap_ratio(t)) == pytest.approx(exact, abs=6e-5)
    assert float(bcs_gap_tanh(t, 1.0, delta0=1.0)) == pytest.approx(tanh, abs=6e-5)


@pytest.mark.parametrize(("t", "exact", "tanh"), SPEC_12)
def test_spectroscopy_note_checks(t, exact, tanh):
    assert float(bcs_gap_ratio(t)) == pytest.approx(exact, abs=6e-6)
    assert float(bcs_gap_tanh(t, 1.0, delta0=1.0)) == pytest.approx(tanh, abs=6e-6)


def test_against_independent_quad(rng):
    ts = np.concatenate([rng.uniform(0.05, 0.999, 5), [0.3, 0.99]])
    for t in ts:
        assert float(bcs_gap_ratio(t)) == pytest.approx(_quad_gap_ratio(float(t)), abs=1e-6)


def test_near_tc_slope():
    assert pytest.approx(3.0633, abs=1e-4) == NEAR_TC_SLOPE
    for one_minus_t in (1e-4, 1e-6):
        t = 1.0 - one_minus_t
        slope = float(bcs_gap_ratio(t)) * DELTA0_OVER_KTC / math.sqrt(one_minus_t)
        assert slope == pytest.approx(3.0633, rel=1e-3)


def test_limits_and_units():
    t = np.array([-1.0, 0.0, 0.05, 1.0, 1.5, 100.0])
    np.testing.assert_allclose(bcs_gap_ratio(t), [1.0, 1.0, 1.0, 0.0, 0.0, 0.0], rtol=0, atol=1e-11)
    tc = 9.2
    assert float(bcs_gap(0.0, tc)) == pytest.approx(1.763877 * K_B_MEV_PER_K * tc, rel=1e-6)
    assert float(bcs_gap(tc * 1.01, tc)) == 0.0
    assert float(bcs_gap(0.5 * tc, tc, delta0=2.0)) == pytest.approx(2.0 * 0.95688, abs=2e-5)
    assert float(bcs_gap_tanh(0.0, tc, delta0=1.5)) == 1.5
    assert float(bcs_gap_tanh(2 * tc, tc)) == 0.0


def test_tanh_error_band():
    t = np.linspace(0.01, 0.999, 400)
    rel = bcs_gap_tanh(t, 1.0, 1.0) / bcs_gap_ratio(t) - 1.0
    assert rel.min() > -0.02
    assert rel.min() < -0.015  # the note's "up to about -1.8 %"
    outer = (t <= 0.3) | (t >= 0.9)
    assert np.max(np.abs(rel[outer])) < 0.007


def test_vectorised_and_monotone():
    t = np.linspace(0.0, 1.2, 600).reshape(3, -1)
    g = bcs_gap(t, 1.0)
    assert g.shape == t.shape
    assert np.all(np.diff(g.ravel()) <= 1e-12)
    assert np.all(np.isfinite(g))
