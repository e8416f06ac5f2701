"""Tests of the ``nis`` and ``sis`` models: guesses, parameter recovery and 1-sigma coverage."""

from __future__ import annotations

import numpy as np
import pytest

from fitkit.models import get_model
from fitkit.models.guesses import high_bias_level, symmetric_peak_positions
from fitkit.models.tunneling import nis_model_conductance, sis_model_conductance
from fitkit.physics.tunneling import nis_conductance

NIS_TRUTH = {"delta": 0.5, "gamma": 0.03, "temperature": 0.3, "g_n": 1.2, "bias_offset": 0.0}


def _nis_data(rng, n=151, sigma=0.02, **truth):
    x = np.linspace(-1.5e-3, 1.5e-3, n)
    y = nis_model_conductance(x, **truth) + rng.normal(0.0, sigma, n)
    return x, y


def test_model_function_units_and_background():
    x = np.array([-1e-3, 0.0, 0.6e-3])
    base = nis_conductance(x * 1e3 - 0.01, 0.5, 0.02, 0.1)
    np.testing.assert_allclose(nis_model_conductance(x, 0.5, 0.02, 0.1, 2.0, 0.01), 2.0 * base, rtol=1e-12)
    with_bg = nis_model_conductance(x, 0.5, 0.02, 0.1, 2.0, 0.01, bg_slope=0.1)
    np.testing.assert_allclose(with_bg, 2.0 * base * (1.0 + 0.1 * (x * 1e3 - 0.01)), rtol=1e-12)


def test_guess_estimators():
    x = np.linspace(-2, 2, 401)
    y = nis_conductance(x - 0.05, 0.6, 0.01, 0.1) * 3.0
    half, mid = symmetric_peak_positions(y, x)
    assert half == pytest.approx(0.61, abs=0.02)
    assert mid == pytest.approx(0.05, abs=0.011)
    assert high_bias_level(y, x) == pytest.approx(3.0 * 1.05, rel=0.05)


def test_nis_guess_close_to_truth(rng):
    x, y = _nis_data(rng, **{**NIS_TRUTH, "bias_offset": 0.02})
    p = get_model("nis")().guess(y, x, temperature=0.3)
    assert p["delta"].value == pytest.approx(0.5, rel=0.1)
    assert p["g_n"].value == pytest.approx(1.2, rel=0.1)
    assert p["bias_offset"].value == pytest.approx(0.02, abs=0.02)


def test_sis_guess_uses_delta_tip(rng):
    x = np.linspace(-0.6e-3, 0.6e-3, 601)
    y = sis_model_conductance(x, 0.05, 0.002, 0.1, 1.0, 0.0, 0.0, 0.0, 0.19, 0.002)
    y = y + rng.normal(0, 0.01, x.size)
    m = get_model("sis")()
    p = m.guess(y, x, delta_tip=0.19)
    assert p["delta"].value == pytest.approx(0.05, abs=0.01)
    assert not p["delta_tip"].vary and p["delta_tip"].value == 0.19


def test_nis_recovery(rng):
    truth = {**NIS_TRUTH, "bias_offset": 0.01}
    x, y = _nis_data(rng, n=301, **truth)
    m = get_model("nis")()
    p = m.guess(y, x, temperature=0.3)
    p["temperature"].vary = False
    res = m.fit(y, p, bias=x)
    assert res.success
    for name in ("delta", "gamma", "g_n", "bias_offset"):
        par = res.params[name]
        assert abs(par.value - truth[name]) <= 4 * par.stderr, (name, par.value, par.stderr)


def test_sis_recovery(rng):
    truth = {"delta": 0.05, "gamma": 0.002, "temperature": 0.1, "g_n": 1.0, "bias_offset": 0.0, "v_mod": 0.0,
             "bg_slope": 0.0, "delta_tip": 0.19, "gamma_tip": 0.002}
    x = np.linspace(-0.5e-3, 0.5e-3, 201)
    y = sis_model_conductance(x, **truth) + rng.normal(0, 0.02, x.size)
    m = get_model("sis")()
    p = m.guess(y, x, delta_tip=0.19, gamma_tip=0.002, temperature=0.1)
    p["temperature"].vary = False
    res = m.fit(y, p, bias=x)
    for name in ("delta", "gamma", "g_n"):
        par = res.params[name]
        assert abs(par.value - truth[name]) <= 4 * par.stderr, (name, par.value, par.stderr)


@pytest.mark.slow
def test_nis_coverage(rng):
    """Fraction of 1-sigma intervals containing the truth over 100 seeds must be 55-80 %."""
    m = get_model("nis")()
    hits = {"delta": 0, "gamma": 0}
    n_seeds = 100
    for _ in range(n_seeds):
        x, y = _nis_data(rng, n=121, sigma=0.03, **NIS_TRUTH)
        p = m.guess(y, x, temperature=0.3, bias_offset=0.0)
        p["temperature"].vary = p["bias_offset"].vary = False
        res = m.fit(y, p, bias=x)
        for name in hits:
            par = res.params[name]
            hits[name] += abs(par.value - NIS_TRUTH[name]) <= par.stderr
    frac = {k: v / n_seeds for k, v in hits.items()}
    print(f"nis 1-sigma coverage over {n_seeds} seeds: {frac}")
    for name, f in frac.items():
        assert 0.55 <= f <= 0.80, (name, f)
