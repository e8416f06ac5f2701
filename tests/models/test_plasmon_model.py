"""Model ``sis_plasmon``: limit to ``sis``, guess, recovery and 1-sigma coverage on synthetic spectra."""

from __future__ import annotations

import json

import numpy as np
import pytest

import fitkit
from fitkit.fitting.fit import fit_curve
from fitkit.models import get_model
from fitkit.models.plasmon import SISPlasmonModel, sis_plasmon_model_conductance
from fitkit.models.tunneling import sis_model_conductance

TRUTH = {"delta": 0.042, "g_z": 1.8, "g_n": 2.0, "bias_offset": 0.002}
FREE = ("delta", "g_z", "g_n", "bias_offset")


def _synthetic(model, x, sigma, rng, **truth):
    pars = model.make_params()
    for k, v in truth.items():
        pars[k].set(value=v)
    return model.eval(pars, bias=x) + sigma * rng.normal(size=x.size)


def test_registered():
    assert get_model("sis_plasmon") is SISPlasmonModel


@pytest.mark.parametrize("g_z", [np.inf, 1e9])
def test_large_g_z_reduces_to_sis_model(g_z):
    """1/g_Z -> 0: the sis model with the same parameters, to 1e-6 (reference resolution)."""
    x = np.linspace(-0.45e-3, 0.45e-3, 181)
    common = {"delta": 0.045, "temperature": 0.05, "g_n": 1.7, "bias_offset": 0.003, "v_mod": 0.002,
              "bg_slope": 0.05, "delta_tip": 0.19, "gamma_tip": 0.002}
    ref = sis_model_conductance(x, gamma=0.001, **common)
    got = sis_plasmon_model_conductance(x, g_z=g_z, cutoff=0.045, gamma=0.001, resolution="reference",
                                        **common)
    assert np.max(np.abs(got - ref)) < 1e-6 * np.max(ref)


def test_fast_model_close_to_reference_and_scalar():
    x = np.linspace(-0.4e-3, 0.4e-3, 81)
    fast = sis_plasmon_model_conductance(x, g_z=2.0)
    ref = sis_plasmon_model_conductance(x, g_z=2.0, resolution="reference")
    assert np.max(np.abs(fast - ref)) < 5e-4 * np.max(ref)
    assert np.ndim(sis_plasmon_model_conductance(2e-4)) == 0


def test_guess_from_data(rng):
    m = SISPlasmonModel()
    x = np.linspace(-0.45e-3, 0.45e-3, 301)
    for g_z in (1.5, 2.5):
        y = _synthetic(m, x, 0.02, rng, **{**TRUTH, "g_z": g_z})
        p = m.guess(y, x)
        assert p["delta"].value == pytest.approx(TRUTH["delta"], abs=0.008)
        assert p["g_z"].value == pytest.approx(g_z, rel=0.3)
        assert p["g_n"].value == pytest.approx(TRUTH["g_n"], rel=0.05)
        assert p["bias_offset"].value == pytest.approx(TRUTH["bias_offset"], abs=0.003)
        assert not p["cutoff"].vary and not p["temperature"].vary and not p["delta_tip"].vary


def test_guess_uses_fixed_overrides(rng):
    m = SISPlasmonModel()
    x = np.linspace(-0.5e-3, 0.5e-3, 301)
    pars = m.make_params()
    for k, v in {**TRUTH, "delta_tip": 0.21}.items():
        pars[k].set(value=v)
    y = m.eval(pars, bias=x)
    p = m.guess(y, x, delta_tip=0.21)
    assert p["delta_tip"].value == 0.21
    assert p["delta"].value == pytest.approx(TRUTH["delta"], abs=0.008)


def test_recovery_within_three_sigma(rng):
    m = SISPlasmonModel()
    x = np.linspace(-0.45e-3, 0.45e-3, 301)
    sigma = 0.02
    y = _synthetic(m, x, sigma, rng, **TRUTH)
    res = m.fit(y, m.guess(y, x), bias=x, weights=np.full(x.size, 1 / sigma))
    assert res.success
    for k in FREE:
        err = res.params[k].stderr
        assert err is not None and err > 0
        assert abs(res.params[k].value - TRUTH[k]) < 3 * err


@pytest.mark.slow
def test_one_sigma_coverage_of_g_z_and_delta(rng):
    """Over 50 seeds the 1-sigma intervals of g_Z and Delta contain the truth 55-80 % of the time."""
    m = SISPlasmonModel()
    x = np.linspace(-0.33e-3, 0.33e-3, 81)
    sigma = 0.05
    pars = m.make_params()
    for k, v in TRUTH.items():
        pars[k].set(value=v)
    clean = m.eval(pars, bias=x)
    hits = {"g_z": 0, "delta": 0}
    n = 50
    for _ in range(n):
        y = clean + sigma * rng.normal(size=x.size)
        start = pars.copy()
        for k in FREE:
            start[k].set(value=TRUTH[k] * (1 + 0.05 * rng.normal()) if TRUTH[k] else 0.0)
        res = m.fit(y, start, bias=x, weights=np.full(x.size, 1 / sigma))
        for k in hits:
            err = res.params[k].stderr
            hits[k] += int(err is not None and abs(res.params[k].value - TRUTH[k]) <= err)
    for k, h in hits.items():
        assert 0.55 <= h / n <= 0.80, f"{k}: coverage {h}/{n}"


def test_bundled_ti3_spectrum_recovers_truth(sample_data):
    """End to end on sample_data/tunnel_wires/Ti3.csv (loader -> fit_curve) against truth.json."""
    folder = sample_data / "tunnel_wires"
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    sigma = truth["noise"]["sigma"]
    sweep = fitkit.load(folder / "Ti3.csv")
    rec = fit_curve(sweep, "sis_plasmon", weights=np.full(len(sweep.data), 1 / sigma))
    want = truth["wires"]["Ti3"]
    assert rec.success and 0.8 < rec.redchi < 1.25
    for k in ("delta", "g_z", "g_n", "bias_offset"):
        assert abs(rec.values[k] - want[k]) < 4 * rec.stderr[k], k
