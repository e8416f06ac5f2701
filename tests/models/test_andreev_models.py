"""Andreev models: adapters, options, guesses, recovery, 1-sigma coverage, PCAR smoke tests."""

from __future__ import annotations

import numpy as np
import pytest

import fitkit
from fitkit.analysis import pcar
from fitkit.errors import ConfigError
from fitkit.models import get_model
from fitkit.models.andreev import estimate_andreev_features, z_from_zero_bias
from fitkit.physics import andreev as an

BIAS = np.linspace(-3e-3, 3e-3, 201)  # V


def test_z_from_zero_bias_inverts_the_btk_law(rng):
    z = rng.uniform(0, 4, 30)
    g0 = 2 * (1 + z**2) / (1 + 2 * z**2) ** 2  # written here, not taken from the module
    np.testing.assert_allclose([z_from_zero_bias(g) for g in g0], z, rtol=1e-9, atol=1e-7)
    assert z_from_zero_bias(2.5) == 0.0


def test_btk_adapter_units():
    m = get_model("btk")()
    pars = m.make_params(delta=0.8, gamma=0.02, z=0.6, temperature=0.5, g_n=3.0, bias_offset=0.1)
    y = m.eval(pars, bias=BIAS)
    ref = 3.0 * an.btk_conductance(BIAS * 1e3 - 0.1, 0.8, 0.02, 0.6, 0.5)
    np.testing.assert_allclose(y, ref, rtol=1e-13)


def test_collective_model_equals_btk_when_delta_col_is_delta():
    btk = get_model("btk")()
    for form in ("pm2", "pm3"):
        col = get_model("andreev_collective")(form=form)
        common = {"delta": 0.7, "gamma": 0.01, "z": 0.8, "temperature": 0.3, "g_n": 1.2, "bias_offset": 0.02}
        y1 = btk.eval(btk.make_params(**common), bias=BIAS)
        y2 = col.eval(col.make_params(delta_col=0.7, **common), bias=BIAS)
        np.testing.assert_allclose(y2, y1, rtol=1e-12)


def test_options_and_hints():
    assert get_model("andreev_collective")().make_params()["alpha"].vary is False
    assert get_model("andreev_collective")(form="pm1").make_params()["alpha"].vary is True
    two = get_model("btk_two_gap")(prefix="s_")
    pars = two.make_params()
    assert pars["s_z2"].expr == "s_z"
    pars["s_z"].value = 1.7
    pars.update_constraints()
    assert pars["s_z2"].value == pytest.approx(1.7)
    sep = get_model("btk_two_gap")(barrier="separate").make_params()
    assert sep["z2"].expr is None and sep["z2"].vary is True
    with pytest.raises(ConfigError, match="polarized_form"):
        get_model("btk_polarized")(polarized_form="woods")


def test_polarized_model_forms_differ():
    s = get_model("btk_polarized")(polarized_form="strijkers")
    m = get_model("btk_polarized")(polarized_form="mazin")
    kw = {"delta": 1.0, "gamma": 0.01, "z": 0.5, "temperature": 0.3, "polarization": 0.6}
    diff = s.eval(s.make_params(**kw), bias=BIAS) - m.eval(m.make_params(**kw), bias=BIAS)
    assert np.max(np.abs(diff)) > 0.05


def test_guess_features_on_synthetic_btk():
    y = 2.0 * an.btk_conductance(BIAS * 1e3 - 0.05, 0.9, 0.02, 0.8, 0.5)
    f = estimate_andreev_features(y, BIAS)
    assert f["delta"] == pytest.approx(0.9, rel=0.1)
    assert f["bias_offset"] == pytest.approx(0.05, abs=0.02)
    assert f["g_n"] == pytest.approx(2.0, rel=0.03)
    pars = get_model("btk")().guess(y, BIAS, temperature=0.5)
    assert pars["z"].value == pytest.approx(0.8, abs=0.25)


def _fit_once(model, truth, noise, rng, x):
    y = model.eval(model.make_params(**truth), bias=x) + rng.normal(0, noise, x.size)
    pars = model.guess(y, x, temperature=truth["temperature"])
    pars["bias_offset"].set(value=0.0, vary=False)
    return model.fit(y, pars, bias=x)


def test_btk_recovery(rng):
    m = get_model("btk")()
    truth = {"delta": 1.0, "gamma": 0.03, "z": 0.6, "temperature": 1.0, "g_n": 1.0, "bias_offset": 0.0}
    res = _fit_once(m, truth, 0.01, rng, BIAS)
    for name in ("delta", "gamma", "z", "g_n"):
        p = res.params[name]
        assert abs(p.value - truth[name]) < 4 * p.stderr, name


def test_collective_recovery_pm2(rng):
    m = get_model("andreev_collective")()
    x = np.linspace(-1.5e-3, 1.5e-3, 601)
    truth = {"delta": 0.6, "delta_col": 0.22, "gamma": 0.01, "z": 0.7, "temperature": 0.1, "g_n": 1.0,
             "bias_offset": 0.0}
    res = _fit_once(m, truth, 0.01, rng, x)
    for name in ("delta", "delta_col", "gamma", "z"):
        p = res.params[name]
        assert abs(p.value - truth[name]) < 4 * p.stderr, name


@pytest.mark.slow
def test_btk_one_sigma_coverage():
    m = get_model("btk")()
    x = np.linspace(-3e-3, 3e-3, 121)
    truth = {"delta": 1.0, "gamma": 0.05, "z": 0.5, "temperature": 1.5, "g_n": 1.0, "bias_offset": 0.0}
    hits, total = 0, 0
    for seed in range(60):
        res = _fit_once(m, truth, 0.01, np.random.default_rng(1000 + seed), x)
        for name in ("delta", "gamma", "z", "g_n"):
            p = res.params[name]
            if p.stderr is None or not np.isfinite(p.stderr):
                continue
            total += 1
            hits += abs(p.value - truth[name]) <= p.stderr
    frac = hits / total
    print(f"btk 1-sigma coverage: {hits}/{total} = {frac:.3f}")
    assert total >= 200
    assert 0.55 <= frac <= 0.80, frac


def test_guess_on_bundled_sample_data(sample_data):
    for f in sorted((sample_data / "andreev_ino" / "contact_series").glob("*.csv"))[-3:]:
        s = fitkit.load(f)
        pars = get_model("andreev_collective")().guess(s.column("dIdV_norm"), s.column("bias_V"))
        assert pars["delta"].value == pytest.approx(0.55, rel=0.1)
        assert pars["delta_col"].value == pytest.approx(0.21, rel=0.15)


def _check_pcar(path):
    s = pcar.load_pcar(path)
    rec = pcar.fit_pcar(s)
    assert rec.success
    assert rec.redchi < 3e-5  # residual rms ~ 3.6e-3 of G_N
    assert 0.0 <= rec.values["polarization"] <= 0.5
    assert abs(rec.correlations["polarization"]["z"]) > 0.9  # the known P-Z degeneracy
    return rec


def test_pcar_fit_on_shared_file(shared_data):
    _check_pcar(shared_data / "pcar_co_nb_stoner" / "PCAR Co Data.csv")


def test_pcar_fit_on_bundled_copy(sample_data):
    rec = _check_pcar(sample_data / "pcar_co_nb" / "PCAR Co Data.csv")
    assert rec.values["smearing"] == pytest.approx(1.5, abs=0.3)


@pytest.mark.slow
def test_pcar_chi2_profile(sample_data):
    prof = pcar.chi2_profile(pcar.load_pcar(sample_data / "pcar_co_nb" / "PCAR Co Data.csv"))
    assert len(prof) == 10
    # chi^2(P) is flat for P <= 0.4 and rises above, as in Stoner's own PCAR Chi^2 table
    i_min = int(prof["chisqr"].to_numpy().argmin())
    assert prof["polarization"].iloc[i_min] <= 0.4
    assert prof["chisqr"].iloc[-1] > 5 * prof["chisqr"].min()
