"""BKT I-V route (fitkit.analysis.bkt): exponents, T_BKT where a = 3, coverage, bad inputs."""

from __future__ import annotations

import time

import numpy as np
import pytest

from fitkit.analysis.bkt import bkt_from_iv, iv_exponents
from fitkit.errors import DataValidationError

T_BKT, T_C0 = 1.2, 1.5
TEMPS = np.array([1.00, 1.05, 1.10, 1.15, 1.20, 1.25, 1.30, 1.35, 1.40])


def a_of_t(t):
    return 1.0 + 2.0 * (T_BKT / t) * (T_C0 - t) / (T_C0 - T_BKT)


def _iv(rng, temps=TEMPS, noise=0.02):
    cur = np.geomspace(1e-7, 1e-4, 31)
    ii, vv, tt = [], [], []
    for t in temps:
        v = 2000 * 1e-5 * (cur / 1e-5) ** a_of_t(t) * (1 + noise * rng.standard_normal(cur.size))
        ii.append(cur)
        vv.append(v)
        tt.append(np.full(cur.size, t))
    return np.concatenate(ii), np.concatenate(vv), np.concatenate(tt)


def test_exponents_exact_without_noise():
    exps = iv_exponents(*_iv(np.random.default_rng(0), noise=0.0))
    np.testing.assert_allclose([e.a for e in exps], a_of_t(TEMPS), rtol=1e-10)
    assert a_of_t(T_BKT) == pytest.approx(3.0)


def test_t_bkt_recovered_within_uncertainty():
    res = bkt_from_iv(*_iv(np.random.default_rng(11)))
    assert abs(res.t_bkt - T_BKT) < 3 * res.t_bkt_stderr
    assert res.t_bkt_stderr < 0.01
    assert "crosses 3" in res.message
    assert list(res.frame().columns)[:3] == ["temperature_K", "a", "a_stderr"]


def test_window_and_symmetric_sweep():
    i, v, t = _iv(np.random.default_rng(2), noise=0.0)
    # negative branch folded with absolute values; explicit window
    res = bkt_from_iv(np.concatenate([i, -i]), np.concatenate([v, -v]), np.concatenate([t, t]),
                      current_range=(1e-6, 1e-5))
    assert res.t_bkt == pytest.approx(T_BKT, abs=2e-3)


@pytest.mark.slow
def test_coverage_50_seeds():
    t0 = time.perf_counter()
    n = 50
    hits = 0
    for seed in range(n):
        res = bkt_from_iv(*_iv(np.random.default_rng(2000 + seed)))
        hits += abs(res.t_bkt - T_BKT) <= res.t_bkt_stderr
    assert 0.50 <= hits / n <= 0.88, hits
    assert time.perf_counter() - t0 < 60


def test_one_temperature_only():
    i, v, t = _iv(np.random.default_rng(1), temps=np.array([1.1]))
    with pytest.raises(DataValidationError, match=r"one temperature only \(1.1 K\)"):
        bkt_from_iv(i, v, t)


def test_no_crossing_says_which_side():
    i, v, t = _iv(np.random.default_rng(1), temps=np.array([1.0, 1.05, 1.1]))
    with pytest.raises(DataValidationError, match="above the highest temperature"):
        bkt_from_iv(i, v, t)
    i, v, t = _iv(np.random.default_rng(1), temps=np.array([1.3, 1.35, 1.4]))
    with pytest.raises(DataValidationError, match="below the lowest temperature"):
        bkt_from_iv(i, v, t)


def test_noise_floor_excludes_all():
    i, v, t = _iv(np.random.default_rng(1))
    with pytest.raises(DataValidationError, match="no isotherm"):
        iv_exponents(i, v, t, v_floor=1e9)


def test_sample_data_iv_isotherms():
    import json
    from pathlib import Path

    import pandas as pd

    folder = Path(__file__).resolve().parents[1] / "sample_data" / "film_sit"
    truth = json.loads((folder / "truth.json").read_text())["iv"]
    c = pd.read_csv(folder / "iv_isotherms.csv", comment="#")
    res = bkt_from_iv(c.iloc[:, 0], c.iloc[:, 1], c.iloc[:, 2])
    assert abs(res.t_bkt - truth["t_bkt_K"]) < 3 * res.t_bkt_stderr
