"""Film/wire SIT models (fitkit.models.films): behaviour, bad inputs, recovery and 1-sigma coverage."""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
import pandas as pd
import pytest

from fitkit.analysis.bkt import fit_bkt_tail
from fitkit.analysis.hopping import coulomb_blockade_voltage, reduced_activation_analysis
from fitkit.analysis.thickness import fit_thickness_law
from fitkit.errors import DataValidationError, FitQualityWarning
from fitkit.fitting.fit import fit_curve
from fitkit.io.sweep import Sweep, SweepMeta
from fitkit.models import get_model
from fitkit.physics.sit import (
    bilayer_tc_martinis,
    bkt_tail_resistance,
    film_fluctuation_sheet_resistance,
    hopping_resistance,
    simonin_tc,
)


def _fit(key, x, y, x_col, y_col, *, options=None, params=None, weights=None, fit_kws=None):
    sweep = Sweep(pd.DataFrame({x_col: x, y_col: y}), SweepMeta(sample_id="syn"))
    model = get_model(key)(**(options or {}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitQualityWarning)
        return fit_curve(sweep, model, params, x=x_col, y=y_col, weights=weights, fit_kws=fit_kws,
                         uncertainty="linear")


# ---- cases: (key, options, truth in model units, data generator(rng) -> (x, y, weights, fit_kws), columns)
def _bkt(rng):
    t = np.linspace(1.25, 4.0, 90)
    r_hn = bkt_tail_resistance(t, 1.2, 0.6, 20e3)
    r = 1.0 / (1.0 / 2000.0 + 1.0 / r_hn)
    return t, r * (1 + 0.01 * rng.standard_normal(t.size)), None, None


def _al(rng):
    t = np.linspace(1.6, 6.0, 80)
    r = film_fluctuation_sheet_resistance(t, 1.5, 2000.0) + 2.0 * rng.standard_normal(t.size)
    return t, r, None, None


def _hop_free(rng):
    t = np.geomspace(0.3, 10.0, 60)
    return t, hopping_resistance(t, 3000.0, 8.0, 0.5) * (1 + 0.01 * rng.standard_normal(t.size)), None, None


def _hop_es(rng):
    t = np.geomspace(0.3, 10.0, 60)
    return t, hopping_resistance(t, 3000.0, 8.0, 0.5) * (1 + 0.01 * rng.standard_normal(t.size)), None, None


def _simonin(rng):
    d = np.array([2.0, 2.5, 3.0, 4.0, 5.0, 7.0, 10.0, 15.0])
    tc = simonin_tc(d, 4.0, 1.2) + 0.02 * rng.standard_normal(d.size)
    return d, tc, np.full(d.size, 1 / 0.02), {"scale_covar": False}


def _bilayer(rng):
    dn = np.linspace(20.0, 300.0, 12)
    tc = bilayer_tc_martinis(40.0, dn, 0.92, 93.0, 0.3) + 0.003 * rng.standard_normal(dn.size)
    return dn, tc, np.full(dn.size, 1 / 0.003), {"scale_covar": False}


def _wire(rng):
    t = np.geomspace(0.05, 1.0, 40)
    r = 8000.0 * (t / 0.1) ** (-0.6) * (1 + 0.01 * rng.standard_normal(t.size))
    return t, r, None, None


CASES = {
    "film_bkt": ("film_bkt", {"normal_channel": "parallel"},
                 {"t_bkt": 1.2, "b": 0.6, "r_0": 20.0, "r_n": 2.0},
                 _bkt, ("temperature_K", "resistance_ohm"), None),
    "film_fluctuation_2d": ("film_fluctuation_2d", {}, {"t_c0": 1.5, "r_n": 2.0}, _al,
                            ("temperature_K", "resistance_ohm"), None),
    "film_hopping_free": ("film_hopping", {}, {"r_0": 3000.0, "t_0": 8.0, "p": 0.5}, _hop_free,
                          ("temperature_K", "resistance_ohm"), None),
    "film_hopping_es": ("film_hopping", {"law": "efros_shklovskii"}, {"r_0": 3000.0, "t_0": 8.0}, _hop_es,
                        ("temperature_K", "resistance_ohm"), None),
    "tc_thickness": ("tc_thickness", {}, {"t_c0": 4.0, "d_c": 1.2}, _simonin, ("thickness_nm", "t_c_K"),
                     None),
    "tc_bilayer": ("tc_bilayer", {}, {"t_c0": 0.92, "d_0": 93.0}, _bilayer, ("thickness_nm", "t_c_K"),
                   {"d_other": {"value": 40.0, "vary": False}, "n_ratio": {"value": 0.3, "vary": False}}),
    "wire_power_law": ("wire_power_law", {}, {"r_ref": 8.0, "alpha": -0.6}, _wire,
                       ("temperature_K", "resistance_ohm"), None),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_recovery_one_seed(case):
    key, opts, truth, gen, cols, params = CASES[case]
    x, y, w, kws = gen(np.random.default_rng(123))
    rec = _fit(key, x, y, *cols, options=opts, params=params, weights=w, fit_kws=kws)
    assert rec.success, rec.message
    for name, val in truth.items():
        err = rec.stderr[name]
        assert math.isfinite(err) and err > 0, (name, err)
        assert abs(rec.values[name] - val) < 4 * err, (name, rec.values[name], val, err)


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_coverage_50_seeds(case):
    key, opts, truth, gen, cols, params = CASES[case]
    t0 = time.perf_counter()
    hits = dict.fromkeys(truth, 0)
    n_seeds = 50
    for seed in range(n_seeds):
        x, y, w, kws = gen(np.random.default_rng(1000 + seed))
        rec = _fit(key, x, y, *cols, options=opts, params=params, weights=w, fit_kws=kws)
        assert rec.success
        for name, val in truth.items():
            hits[name] += abs(rec.values[name] - val) <= rec.stderr[name]
    for name, h in hits.items():
        frac = h / n_seeds
        # binomial(50, 0.683): 2.5 sd band is [0.52, 0.85]
        assert 0.50 <= frac <= 0.88, (case, name, frac)
    assert time.perf_counter() - t0 < 60


def test_hopping_named_law_fixes_p():
    m = get_model("film_hopping")(law="mott_2d")
    pars = m.make_params()
    assert not pars["p"].vary and pars["p"].value == pytest.approx(1 / 3)
    t = np.array([1.0, 2.0])
    y = m.eval(pars, temperature=t)
    np.testing.assert_allclose(y, hopping_resistance(t, pars["r_0"].value, pars["t_0"].value, 1 / 3))


def test_bkt_parallel_frees_r_n_and_tends_to_r_n():
    m = get_model("film_bkt")(normal_channel="parallel")
    pars = m.make_params()
    assert pars["r_n"].vary
    assert not get_model("film_bkt")().make_params()["r_n"].vary
    y = m.eval(pars, temperature=np.array([1e7]))
    assert y[0] == pytest.approx(1.0 / (1 / 2000.0 + 1 / 2000.0), rel=1e-2)


def test_fluctuation_mt_option_frees_delta():
    assert get_model("film_fluctuation_2d")(maki_thompson="on").make_params()["delta"].vary
    assert not get_model("film_fluctuation_2d")().make_params()["delta"].vary


def test_bkt_points_below_t_bkt_give_one_warning():
    rng = np.random.default_rng(7)
    t = np.linspace(0.9, 3.0, 90)
    r = bkt_tail_resistance(t, 1.2, 0.6, 20e3)
    r = np.where(r > 0, r * (1 + 0.01 * rng.standard_normal(t.size)), 0.0)
    rec = fit_bkt_tail(t, r)
    msgs = [w for w in rec.warnings if "at or below the fitted T_BKT" in w]
    assert len(msgs) == 1
    assert rec.values["t_bkt"] == pytest.approx(1.2, rel=0.02)
    assert rec.derived["b_issue"] == pytest.approx(math.sqrt(rec.values["b"]))


def test_missing_thickness_is_one_sentence():
    with pytest.raises(DataValidationError, match=r"no thickness for sample\(s\) D3 in the sample table"):
        fit_thickness_law([2.0, 3.0, None, 5.0], [1.0, 2.0, 2.5, 2.8], sample_ids=["D1", "D2", "D3", "D4"])
    with pytest.raises(DataValidationError, match="D2"):
        fit_thickness_law([2.0, float("nan"), 4.0], [1.0, 2.0, 2.5], sample_ids=["D1", "D2", "D3"])


def test_thickness_law_recovers_simonin():
    d = np.array([2.0, 2.5, 3.0, 4.0, 5.0, 7.0, 10.0])
    tc = simonin_tc(d, 4.0, 1.2)
    rec = fit_thickness_law(d, tc + 1e-4 * np.sin(d), np.full(d.size, 1e-4))
    assert rec.values["t_c0"] == pytest.approx(4.0, rel=1e-3)
    assert rec.values["d_c"] == pytest.approx(1.2, rel=1e-3)


# ---- insulating side: choose p from W, blockade voltage
@pytest.mark.parametrize(("p", "law"), [(1.0, "arrhenius"), (0.5, "efros_shklovskii"), (1 / 3, "mott_2d")])
def test_reduced_activation_picks_the_law(p, law):
    t = np.geomspace(0.3, 10.0, 80)
    r = hopping_resistance(t, 3000.0, 8.0, p) * (1 + 0.002 * np.random.default_rng(9).standard_normal(t.size))
    res = reduced_activation_analysis(t, r)
    assert res.single_p
    assert res.law == law, res.message
    assert abs(res.p - p) < 3 * res.p_stderr + 0.02


def test_reduced_activation_flags_no_single_p():
    # crossover from ES at low T to Arrhenius at high T: ln W(ln T) is curved
    t = np.geomspace(0.2, 20.0, 120)
    r = hopping_resistance(t, 1.0, 5.0, 0.5) * hopping_resistance(t, 1.0, 40.0, 1.0) ** 0.02 * (
        hopping_resistance(t, 1.0, 2.0, 1.0) ** 1.0)
    res = reduced_activation_analysis(t, r)
    assert not res.single_p
    assert "no single hopping exponent" in res.message


def test_reduced_activation_rejects_metallic_curve():
    t = np.linspace(1, 10, 20)
    with pytest.raises(DataValidationError, match="not activated"):
        reduced_activation_analysis(t, 100 + t)


def test_coulomb_blockade_voltage_recovers_offset():
    v = np.linspace(-2e-3, 2e-3, 401)
    v_c, r_inf = 0.5e-3, 1e5
    i = np.sign(v) * np.maximum(np.abs(v) - v_c, 0.0) / r_inf
    got, r_got = coulomb_blockade_voltage(i, v)
    assert got == pytest.approx(v_c, rel=1e-9)
    assert r_got == pytest.approx(r_inf, rel=1e-9)
    with pytest.raises(DataValidationError, match="no blockade"):
        coulomb_blockade_voltage(v / r_inf, v)


def test_sample_data_film_sit_recovers_truth():
    import json
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "sample_data" / "film_sit"
    truth = json.loads((folder / "truth.json").read_text())
    b = pd.read_csv(folder / "rt_bkt.csv", comment="#")
    rec = fit_bkt_tail(b.iloc[:, 0], b.iloc[:, 1], normal_channel="parallel")
    assert abs(rec.values["t_bkt"] - truth["film_bkt"]["t_bkt_K"]) < 3 * rec.stderr["t_bkt"]
    f = pd.read_csv(folder / "rt_fluct.csv", comment="#")
    rec = _fit("film_fluctuation_2d", f.iloc[:, 0], f.iloc[:, 1], "temperature_K", "resistance_ohm")
    assert abs(rec.values["t_c0"] - truth["film_fluctuation_2d"]["t_c0_K"]) < 3 * rec.stderr["t_c0"]
    h = pd.read_csv(folder / "rt_insulating.csv", comment="#")
    assert reduced_activation_analysis(h.iloc[:, 0], h.iloc[:, 1]).law == truth["film_hopping"]["law"]
    th = pd.read_csv(folder / "thickness_series.csv")
    rec = fit_thickness_law(th.thickness_nm, th.t_c_K, th.t_c_err_K, sample_ids=th.id)
    assert abs(rec.values["d_c"] - truth["tc_thickness"]["d_c_nm"]) < 3 * rec.stderr["d_c"]
