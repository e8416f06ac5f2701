"""Finkel'stein T_c(R_sq): transport note checks C15-C17, limits, the gamma convention."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq

from fitkit.constants import HBAR, K_B
from fitkit.physics.films import (
    R_FINKELSTEIN_OHM,
    finkelstein_critical_sheet_resistance,
    finkelstein_critical_sheet_resistance_leading,
    finkelstein_gamma,
    finkelstein_tc,
    finkelstein_tc_ratio,
)


def test_r_unit():
    assert pytest.approx(81093.0, abs=1.0) == R_FINKELSTEIN_OHM


@pytest.mark.parametrize(("r_sq", "gamma", "expected"), [
    (300.0, 6.0, 0.90185), (1000.0, 6.0, 0.68724), (2000.0, 6.0, 0.42066),   # C15
    (1000.0, 5.0, 0.82353), (1000.0, 7.0, 0.51738),                          # C16
])
def test_c15_c16(r_sq, gamma, expected):
    assert float(finkelstein_tc_ratio(r_sq, gamma)) == pytest.approx(expected, abs=6e-6)


def test_c17_critical_point():
    assert float(finkelstein_critical_sheet_resistance(6.0)) == pytest.approx(5461.0, abs=1.0)
    assert float(finkelstein_critical_sheet_resistance_leading(6.0)) == pytest.approx(4505.0, abs=1.0)
    # the closed form is the root of the bracket found numerically
    root = brentq(lambda r: math.sqrt(r / 2) - r / 4 - 1 / 6.0, 1e-6, 1.0) * R_FINKELSTEIN_OHM
    assert float(finkelstein_critical_sheet_resistance(6.0)) == pytest.approx(root, rel=1e-10)
    assert float(finkelstein_tc_ratio(root * 1.001, 6.0)) == 0.0
    assert 0.0 < float(finkelstein_tc_ratio(root * 0.98, 6.0)) < 1e-3
    assert math.isnan(float(finkelstein_critical_sheet_resistance(1.5)))


def test_second_published_variant_agrees(rng):
    # Finkel'stein's own variable gamma_F = -1/gamma (note §4.1)
    for _ in range(5):
        g = rng.uniform(4.0, 9.0)
        rsq = rng.uniform(10.0, 0.8 * float(finkelstein_critical_sheet_resistance(g)))
        r = rsq / R_FINKELSTEIN_OHM
        gf = -1.0 / g
        s = math.sqrt(r / 2)
        q = s / (gf - r / 4)
        variant = math.exp(-1.0 / gf) * ((1 + q) / (1 - q)) ** (1 / math.sqrt(2 * r))
        assert float(finkelstein_tc_ratio(rsq, g)) == pytest.approx(variant, rel=1e-10)


def test_small_r_expansion():
    g = 6.0
    for rsq in (0.5, 2.0):
        r = rsq / R_FINKELSTEIN_OHM
        expected = r * g**2 / 4 - r * g**3 / 6
        assert math.log(float(finkelstein_tc_ratio(rsq, g))) == pytest.approx(expected, rel=2e-3)


def test_limits_vectorised_and_gamma():
    rs = np.array([0.0, 1e-9, 1000.0, 1e5, 1e9])
    out = finkelstein_tc_ratio(rs, 6.0)
    assert out[0] == 1.0 and out[1] == pytest.approx(1.0, abs=1e-9)
    assert out[3] == 0.0 and out[4] == 0.0
    assert np.all(np.diff(out) <= 0)
    assert float(finkelstein_tc(1000.0, 9.2, 6.0)) == pytest.approx(9.2 * 0.68724, rel=1e-5)
    tau = HBAR / (K_B * 9.2) * math.exp(-6.0)
    assert float(finkelstein_gamma(9.2, tau)) == pytest.approx(6.0, rel=1e-12)
