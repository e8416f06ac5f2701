"""Series-level law models (bcs_gap_temperature, delta_col_temperature, finkelstein) and their analysis fits.

Each model is checked against an independent computation (a quad + brentq solution of the BCS gap
equation; Finkel'stein's closed form written out here and its published limits), and each analysis
function recovers the truth of synthetic data with known, seeded noise.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad
from scipy.optimize import brentq

from fitkit.analysis.andreev_series import fit_delta_col_law
from fitkit.analysis.finkelstein import fit_finkelstein, fit_finkelstein_law
from fitkit.analysis.gap_temperature import fit_bcs_gap_law, fit_gap_temperature
from fitkit.constants import E_CHARGE, HBAR, K_B_MEV_PER_K
from fitkit.errors import ConfigError, DataValidationError
from fitkit.fitting import fit_curve
from fitkit.io.sweep import Sweep
from fitkit.models import get_model

# ------------------------------------------------------------------------------------------ BCS shape


def _bcs_ratio_quad(t: float) -> float:
    r"""Delta(T)/Delta(0) at t = T/T_c from the weak-coupling gap equation, by quad + brentq.

    ln(Delta_00/Delta) = 2 int_0^inf dxi f(E)/E, E = sqrt(xi^2 + Delta^2), in units k_B T_c = 1
    where Delta_00 = pi exp(-gamma_E).
    """
    d00 = math.pi * math.exp(-np.euler_gamma)

    def rhs(delta: float) -> float:
        def f(xi: float) -> float:
            e = math.hypot(xi, delta)
            return 1.0 / (e * (math.exp(min(e / t, 700.0)) + 1.0))

        return 2.0 * quad(f, 0.0, np.inf, epsabs=1e-13, epsrel=1e-12, limit=200)[0]

    delta = brentq(lambda d: math.log(d00 / d) - rhs(d), 1e-8, d00, xtol=1e-14, rtol=1e-13)
    return delta / d00


@pytest.mark.parametrize("key, names", [("bcs_gap_temperature", ("delta0", "t_c")),
                                        ("delta_col_temperature", ("delta_col0", "t_c"))])
def test_gap_laws_match_the_gap_equation(key, names):
    t_c, gap0 = 1.3, 0.21
    model = get_model(key)()
    pars = model.make_params()
    pars[names[0]].set(value=gap0)
    pars[names[1]].set(value=t_c)
    t = np.array([0.3, 0.6, 0.9, 0.97])
    got = model.eval(pars, temperature=t * t_c) / gap0
    ref = np.array([_bcs_ratio_quad(float(x)) for x in t])
    np.testing.assert_allclose(got, ref, rtol=2e-6)
    # exactly zero at and above T_c, Delta_0 at T = 0
    assert model.eval(pars, temperature=np.array([t_c, 1.5 * t_c])).tolist() == [0.0, 0.0]
    assert float(model.eval(pars, temperature=0.0)) == pytest.approx(gap0, rel=1e-12)


def test_gap_law_near_tc_slope():
    # Delta -> 3.0633 k_B T_c sqrt(1 - t) in weak coupling (Tinkham eq. 3.54), with Delta_0 = 1.764 k_B T_c
    t_c = 2.0
    d0 = math.pi * math.exp(-np.euler_gamma) * K_B_MEV_PER_K * t_c
    model = get_model("bcs_gap_temperature")()
    tt = 1.0 - 1e-5
    val = float(model.eval(model.make_params(delta0=d0, t_c=t_c), temperature=tt * t_c))
    assert val / (K_B_MEV_PER_K * t_c * math.sqrt(1.0 - tt)) == pytest.approx(3.0633, abs=2e-3)


# ------------------------------------------------------------------------------------------ Finkel'stein
R_F = 2.0 * math.pi**2 * HBAR / E_CHARGE**2  # 81 093 Ohm, from CODATA constants


def _finkelstein_closed_form(r_sq: float, g: float) -> float:
    """T_c/T_c0 of Finkel'stein (Physica B 197, 636 (1994)) written out directly (no clipping)."""
    r = r_sq / R_F
    a, s = 1.0 / g + r / 4.0, math.sqrt(r / 2.0)
    return math.exp(g) * ((a - s) / (a + s)) ** (1.0 / math.sqrt(2.0 * r))


def test_finkelstein_matches_closed_form_and_limits():
    model = get_model("finkelstein")()
    pars = model.make_params(t_c0=3.0, gamma=6.0)
    r = np.array([50.0, 300.0, 1000.0, 2000.0, 4000.0])
    ref = 3.0 * np.array([_finkelstein_closed_form(x, 6.0) for x in r])
    np.testing.assert_allclose(model.eval(pars, sheet_resistance=r), ref, rtol=1e-12)
    # R -> 0: T_c -> T_c0 with ln(T_c/T_c0) = r gamma^2/4 - r gamma^3/6 + O(r^2)
    for g in (4.0, 6.0, 8.0):
        rs = 2.0  # Ohm: r = 2.5e-5
        ln_ratio = math.log(float(model.eval(model.make_params(t_c0=1.0, gamma=g), sheet_resistance=rs)))
        lin = (rs / R_F) * (g**2 / 4.0 - g**3 / 6.0)
        assert ln_ratio == pytest.approx(lin, rel=5e-3)
    assert float(model.eval(pars, sheet_resistance=0.0)) == 3.0


@pytest.mark.parametrize("g", [6.0, 20.0, 48.0])
def test_finkelstein_critical_resistance(g):
    # T_c vanishes at r_c = 2 (1 - sqrt(1 - 2/gamma))^2, which tends to the review's g_c = gamma^2 / 2 pi,
    # i.e. R_c = (h/e^2) 2 pi / gamma^2 = 2 R_F / gamma^2, at large gamma (Sacepe et al., Nat. Phys. 16, 734)
    model = get_model("finkelstein")()
    pars = model.make_params(t_c0=1.0, gamma=g)
    r_c = 2.0 * (1.0 - math.sqrt(1.0 - 2.0 / g)) ** 2 * R_F
    below, above = model.eval(pars, sheet_resistance=np.array([0.999 * r_c, 1.001 * r_c]))
    assert 0.0 < below < 0.05 and above == 0.0
    lead = 2.0 * R_F / g**2
    assert r_c / lead == pytest.approx(1.0, abs=1.5 / g)  # r_c = (2/gamma^2)(1 + 1/gamma + ...)
    if g == 6.0:
        assert r_c == pytest.approx(5461.0, abs=1.0)  # physics-note check C17


def test_finkelstein_reciprocal_gamma_is_refused():
    model = get_model("finkelstein")()
    pars = model.make_params(t_c0=3.0, gamma=6.0)
    pars["gamma"].set(min=0.0)  # bypass the bound: the model function itself refuses
    pars["gamma"].set(value=1.0 / 6.0)
    with pytest.raises(ConfigError, match=r"reciprocal.*pass gamma = 6"):
        model.eval(pars, sheet_resistance=np.array([500.0]))
    with pytest.raises(ConfigError, match="gamma_F"):
        model.guess(np.array([2.9, 2.7, 2.5]), np.array([300.0, 600.0, 900.0]), gamma=0.17)
    r = np.array([300.0, 600.0, 1000.0, 1500.0])
    with pytest.raises(ConfigError, match="ln\\(hbar/\\(k_B T_c0 tau\\)\\)"):
        fit_finkelstein_law(r, [2.7, 2.4, 2.0, 1.5], gamma_guess=0.17)
    assert pars["gamma"].value == pytest.approx(1.0 / 6.0)
    assert get_model("finkelstein")().make_params()["gamma"].min == 2.0


# ------------------------------------------------------------------------------------------ fits
def test_models_fit_through_fit_curve_by_key():
    t = np.linspace(0.1, 1.2, 12)
    d = get_model("bcs_gap_temperature")().eval(get_model("bcs_gap_temperature")().make_params(
        delta0=0.2, t_c=1.3), temperature=t)
    rec = fit_curve(Sweep(pd.DataFrame({"temperature_K": t, "delta_meV": d})), "bcs_gap_temperature",
                    y="delta_meV")
    assert rec.success and rec.units == {"delta0": "meV", "t_c": "K"}
    assert rec.values["t_c"] == pytest.approx(1.3, rel=1e-6)
    r = np.linspace(100.0, 2500.0, 8)
    tc = get_model("finkelstein")().eval(get_model("finkelstein")().make_params(t_c0=4.0, gamma=7.0),
                                         sheet_resistance=r)
    rec = fit_curve(Sweep(pd.DataFrame({"sheet_resistance_ohm_per_sq": r, "t_c_K": tc})), "finkelstein",
                    y="t_c_K")
    assert rec.success and rec.units == {"t_c0": "K", "gamma": "1"}
    assert rec.values["gamma"] == pytest.approx(7.0, rel=1e-5)


def _pull_ok(rec, name, truth, k=4.0):
    return abs(rec.values[name] - truth) < k * rec.stderr[name]


def test_bcs_gap_law_recovers_truth(rng):
    t_c, d0, sigma = 0.9, 0.14, 0.002
    t = np.linspace(0.05, 0.85, 15)
    d = get_model("bcs_gap_temperature").model_function(t, d0, t_c) + rng.normal(0, sigma, t.size)
    rec = fit_bcs_gap_law(t, d, np.full(t.size, sigma), sample_id="s1")
    assert rec.success and rec.model_key == "bcs_gap_temperature" and rec.sample_id == "s1"
    assert _pull_ok(rec, "t_c", t_c) and _pull_ok(rec, "delta0", d0)
    ratio = rec.values["delta0"] / (K_B_MEV_PER_K * rec.values["t_c"])
    assert rec.derived["gap_ratio"] == pytest.approx(ratio, rel=1e-12)
    # the ratio error is the linear propagation through the full covariance matrix of the fit
    cov = rec.result.covar * rec.quality.get("error_scale", 1.0) ** 2
    x0, x1 = rec.values["delta0"], rec.values["t_c"]
    grad = np.array([1.0 / (K_B_MEV_PER_K * x1), -x0 / (K_B_MEV_PER_K * x1**2)])
    assert rec.derived_stderr["gap_ratio"] == pytest.approx(math.sqrt(grad @ cov @ grad), rel=1e-6)
    assert rec.meta["points"]["delta_meV_stderr"] == pytest.approx([sigma] * t.size)
    assert rec.verdict in ("ok", "suspect") and rec.units["t_c"] == "K"
    old = fit_gap_temperature(t, d, np.full(t.size, sigma))
    assert old.t_c == rec.values["t_c"] and old.record is not None


def test_delta_col_law_recovers_truth_and_bounds_tc(rng):
    t_c, d0 = 1.05, 0.30
    t = np.linspace(0.1, 1.0, 8)
    e = rng.uniform(0.004, 0.008, t.size)
    d = get_model("delta_col_temperature").model_function(t, t_c, d0) + e * rng.standard_normal(t.size)
    rec = fit_delta_col_law(t, d, e)
    assert rec.success and rec.model_key == "delta_col_temperature"
    assert _pull_ok(rec, "t_c", t_c) and _pull_ok(rec, "delta_col0", d0)
    assert rec.values["t_c"] > t.max()
    assert set(rec.derived) == {"gap_ratio"} and rec.derived_units["gap_ratio"] == "1"
    # a series whose gap has closed inside the data pushes T_c onto its bound: flagged, not hidden
    d_closed = get_model("delta_col_temperature").model_function(t, 0.8, d0) + 0.001
    rec = fit_delta_col_law(t, d_closed, np.full(t.size, 0.005))
    assert rec.at_bound["t_c"] and any("bound" in w for w in rec.warnings)


def test_finkelstein_law_record(rng):
    r = np.array([300.0, 600.0, 1000.0, 1500.0, 2000.0, 2500.0])
    sig = np.full(r.size, 0.02)
    t = get_model("finkelstein").model_function(r, 3.0, 6.0) + sig * rng.standard_normal(r.size)
    rec = fit_finkelstein_law(r, t, sig)
    assert rec.success and rec.model_key == "finkelstein" and rec.sample_id == "series"
    assert _pull_ok(rec, "t_c0", 3.0) and _pull_ok(rec, "gamma", 6.0)
    assert rec.x_column == "r_sq_ohm_per_sq" and rec.y_column == "t_c_K"
    assert rec.derived_units["r_c"] == "ohm" and rec.derived["r_c"] > r.max()
    assert rec.meta["weighted"] and rec.meta["absolute_sigma"]
    prof = fit_finkelstein_law(r, t, sig, uncertainty="profile")
    assert prof.values == rec.values and prof.interval_method["gamma"] == "profile"
    assert prof.lower["gamma"] < prof.values["gamma"] < prof.upper["gamma"]
    unweighted = fit_finkelstein_law(r, t)
    assert not unweighted.meta["weighted"] and any("unweighted" in w for w in unweighted.warnings)
    d = fit_finkelstein(r, t, sig)
    assert d["t_c0"] == rec.values["t_c0"] and d["record"].values == rec.values
    with pytest.raises(DataValidationError, match=">= 0 Ohm"):
        fit_finkelstein_law([-1.0, 300.0, 600.0], [3.0, 2.9, 2.7])
    with pytest.raises(DataValidationError, match=">= 3 films"):
        fit_finkelstein_law([300.0, 600.0], [2.9, 2.7])


def test_law_input_errors():
    with pytest.raises(DataValidationError, match="equal lengths"):
        fit_delta_col_law([0.1, 0.2, 0.3], [0.1, 0.1])
    with pytest.raises(DataValidationError, match="> 0 meV"):
        fit_delta_col_law([0.1, 0.2, 0.3], [0.1, 0.1, 0.05], [0.01, 0.0, 0.01])
    with pytest.raises(DataValidationError, match=">= 3"):
        fit_bcs_gap_law([0.1, 0.2, np.nan], [0.1, 0.1, 0.1])


@pytest.mark.slow
def test_delta_col_law_coverage(rng):
    # 1-sigma coverage of t_c and delta_col0 over 80 seeded series (absolute noise known; covariance scaled
    # by redchi as in the law fit, so ~68 % minus a small-sample deficit with 6 degrees of freedom)
    t_c, d0, sigma = 1.05, 0.30, 0.006
    t = np.linspace(0.1, 1.0, 8)
    clean = get_model("delta_col_temperature").model_function(t, t_c, d0)
    n, hits = 80, np.zeros(2)
    for _ in range(n):
        rec = fit_delta_col_law(t, clean + rng.normal(0, sigma, t.size), np.full(t.size, sigma))
        hits += [abs(rec.values["t_c"] - t_c) <= rec.stderr["t_c"],
                 abs(rec.values["delta_col0"] - d0) <= rec.stderr["delta_col0"]]
    assert np.all((0.5 * n <= hits) & (hits <= 0.8 * n)), hits / n
