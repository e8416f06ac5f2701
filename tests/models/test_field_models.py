"""Models nis_maki, sis_maki, nin_dcb, nis_dcb: limits, guesses, and recovery / 1-sigma coverage on
synthetic field series (the generator sample_data/generators/field_series.py and fresh seeded noise)."""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fitkit.fitting.fit import fit_curve
from fitkit.models import get_model
from fitkit.models.field import (
    nin_dcb_model_conductance,
    nis_dcb_model_conductance,
    nis_maki_model_conductance,
    sis_maki_model_conductance,
)
from fitkit.models.tunneling import nis_model_conductance, sis_model_conductance

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from synthetic_support import bias_sweep  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


def _generator():
    spec = importlib.util.spec_from_file_location(
        "gen_field_series", SAMPLE / "generators" / "field_series.py"
    )
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


GEN = _generator()
FIXED = {k: {"value": v, "vary": False} for k, v in GEN.FIXED.items()}


def test_zero_field_limits_equal_the_zero_field_models() -> None:
    x = np.linspace(-1.5e-3, 1.5e-3, 301)
    a = nis_maki_model_conductance(x, 0.5, 0.0, 0.0, 2.0, 0.0, 0.01, 0.2, 1.1, 0.01, 0.0)
    b = nis_model_conductance(x, 0.5, 0.01, 0.2, 1.1, 0.01, 0.0, 0.0)
    assert np.max(np.abs(a - b)) < 1e-6
    a = sis_maki_model_conductance(x, 0.3, 0.0, 0.0, 2.0, 0.0, 0.005, 0.3, 1.0, 0.0, 0.0, 0.19, 0.002)
    b = sis_model_conductance(x, 0.3, 0.005, 0.3, 1.0, 0.0, 0.0, 0.0, 0.19, 0.002)
    assert np.max(np.abs(a - b)) < 1e-6
    assert np.allclose(nin_dcb_model_conductance(x, 0.0, 0.05, 0.1, 2.0), 2.0)
    a = nis_dcb_model_conductance(x, 0.3, 0.003, 0.0, 0.05, 0.2, 1.0, 0.0, 0.0)
    b = nis_model_conductance(x, 0.3, 0.003, 0.2, 1.0, 0.0, 0.0, 0.0)
    assert np.max(np.abs(a - b)) < 1e-6


def test_generated_field_series_matches_truth() -> None:
    truth = json.loads((SAMPLE / "field_series" / "truth.json").read_text())
    assert len(truth["spectra"]) == 10
    for name, tr in truth["spectra"].items():
        df = pd.read_csv(SAMPLE / "field_series" / f"{name}.csv", comment="#")
        v = df["V (mV)"].to_numpy()
        clean = GEN.spectrum(v, tr["field"], tr["g_n"], tr["bias_offset"])
        resid = df["dIdV (norm)"].to_numpy() - clean
        assert abs(resid.std() / GEN.NOISE - 1) < 0.15
    long = pd.read_csv(SAMPLE / "field_series" / "field_series_long.csv", comment="#")
    assert sorted(long["B (T)"].unique()) == pytest.approx(list(GEN.FIELDS_T))


def _fit_nis_maki(v_mv: np.ndarray, y: np.ndarray, field: float):
    params = {**FIXED, "field": {"value": field, "vary": False}}
    return fit_curve(bias_sweep(v_mv * 1e-3, y), "nis_maki", params, uncertainty="linear")


def test_recovery_on_the_committed_field_series() -> None:
    truth = json.loads((SAMPLE / "field_series" / "truth.json").read_text())
    for name in ("B_0.3T", "B_0.9T"):
        tr = truth["spectra"][name]
        df = pd.read_csv(SAMPLE / "field_series" / f"{name}.csv", comment="#")
        rec = _fit_nis_maki(df["V (mV)"].to_numpy(), df["dIdV (norm)"].to_numpy(), tr["field"])
        assert rec.success
        for p in ("delta", "zeta"):
            assert abs(rec.values[p] - tr[p]) < 4 * rec.stderr[p] + 1e-4, (name, p, rec.values[p], tr[p])


def test_guesses_land_near_truth() -> None:
    v = np.linspace(-1.0, 1.0, 401)
    for field in (0.2, 0.8):
        tr = GEN.truth_at(field)
        y = GEN.spectrum(v, field, 1.0, 0.0)
        m = get_model("nis_maki")()
        pars = m.guess(y, v * 1e-3, field=field, **GEN.FIXED)
        assert pars["delta"].value == pytest.approx(tr["delta"], rel=0.15)
        assert pars["g_n"].value == pytest.approx(1.0, abs=0.05)
    x = np.linspace(-0.5e-3, 0.5e-3, 201)
    y = nin_dcb_model_conductance(x, 3000.0, 0.02, 0.1)
    pars = get_model("nin_dcb")().guess(y, x, temperature=0.1)
    assert 300.0 <= pars["r_env"].value <= 10000.0


def test_nin_dcb_fit_recovers_environment() -> None:
    rng = np.random.default_rng(3)
    x = np.linspace(-0.4e-3, 0.4e-3, 241)
    y = nin_dcb_model_conductance(x, 2500.0, 0.03, 0.08, 1.0) + 0.002 * rng.standard_normal(x.size)
    rec = fit_curve(
        bias_sweep(x, y), "nin_dcb", {"temperature": {"value": 0.08, "vary": False}}, uncertainty="linear"
    )
    assert rec.success
    assert abs(rec.values["r_env"] - 2500.0) < 4 * rec.stderr["r_env"] + 50
    assert abs(rec.values["e_c"] - 0.03) < 4 * rec.stderr["e_c"] + 1e-3


@pytest.mark.slow
def test_field_series_coverage_over_seeds() -> None:
    """1-sigma coverage of delta and zeta over 51 seeded field-series spectra (3 fields x 17 seeds)."""
    start = time.perf_counter()
    v = np.linspace(-GEN.BIAS_MAX_MV, GEN.BIAS_MAX_MV, GEN.N_POINTS)
    hits = {"delta": 0, "zeta": 0}
    n = 0
    bias_err = {"delta": [], "zeta": []}
    for field in (0.3, 0.6, 0.9):
        clean = GEN.spectrum(v, field, 1.0, 0.002)
        tr = GEN.truth_at(field)
        for seed in range(17):
            rng = np.random.default_rng(1000 + seed)
            rec = _fit_nis_maki(v, clean + GEN.NOISE * rng.standard_normal(v.size), field)
            assert rec.success
            n += 1
            for p in hits:
                z = (rec.values[p] - tr[p]) / rec.stderr[p]
                hits[p] += int(abs(z) <= 1.0)
                bias_err[p].append(z)
    elapsed = time.perf_counter() - start
    for p, k in hits.items():
        frac = k / n
        # binomial 68.3 % +- 2 sigma for 51 trials: [0.55, 0.81]
        assert 0.55 <= frac <= 0.82, (p, frac)
        assert abs(np.mean(bias_err[p])) < 0.45, (p, np.mean(bias_err[p]))  # no systematic bias
    assert elapsed < 60.0
