"""SIT scaling collapse (fitkit.analysis.scaling): recovery, coverage, non-scaling data, bad inputs."""

from __future__ import annotations

import time

import numpy as np
import pytest

from fitkit.analysis.scaling import collapse_sit, crossing_points
from fitkit.constants import R_Q_OHM
from fitkit.errors import DataValidationError

TEMPS = np.array([0.10, 0.13, 0.17, 0.22, 0.28, 0.36, 0.46, 0.60])
X_C, ZNU, R_C = 1.2, 1.3, 0.9 * R_Q_OHM


def _collapsing(rng, noise=0.01, x=None):
    x = np.linspace(0.6, 1.8, 49) if x is None else x
    t_ref = float(np.exp(np.mean(np.log(TEMPS))))
    xs, ts, rs = [], [], []
    for t in TEMPS:
        u = (x - X_C) * (t / t_ref) ** (-1 / ZNU)
        r = R_C * np.exp(1.5 * np.tanh(u)) * (1 + noise * rng.standard_normal(x.size))
        xs.append(x)
        ts.append(np.full(x.size, t))
        rs.append(r)
    return np.concatenate(xs), np.concatenate(ts), np.concatenate(rs)


def test_recovers_xc_znu_rc_within_uncertainty():
    x, t, r = _collapsing(np.random.default_rng(3))
    res = collapse_sit(x, t, r)
    assert res.collapses
    assert abs(res.x_c - X_C) < 3 * res.x_c_stderr
    assert abs(res.znu - ZNU) < 3 * res.znu_stderr
    assert abs(res.r_c - R_C) < 3 * res.r_c_stderr
    assert res.r_c_over_rq == pytest.approx(0.9, abs=0.01)
    assert 0.5 < res.chi2_noise < 2.0
    # independent slope check agrees with the collapse
    assert abs(res.znu_slope - ZNU) < 4 * res.znu_slope_stderr
    # crossings of exact scaling data sit at X_c and do not drift significantly
    assert len(res.crossings) == len(TEMPS) - 1
    assert np.all(np.abs(res.crossings["x_cross"] - X_C) < 0.05)
    np.testing.assert_allclose(res.master_curve(np.array([0.0])), res.r_c)


@pytest.mark.slow
def test_coverage_over_seeds():
    t0 = time.perf_counter()
    n = 50
    hit_x = hit_z = 0
    for seed in range(n):
        res = collapse_sit(*_collapsing(np.random.default_rng(500 + seed)))
        assert res.collapses
        hit_x += abs(res.x_c - X_C) <= res.x_c_stderr
        hit_z += abs(res.znu - ZNU) <= res.znu_stderr
    assert 0.50 <= hit_x / n <= 0.88, hit_x
    assert 0.50 <= hit_z / n <= 0.88, hit_z
    assert time.perf_counter() - t0 < 60


def test_non_scaling_data_are_flagged():
    # crossing point drifting strongly with T: no single X_c
    rng = np.random.default_rng(4)
    x = np.linspace(0.6, 1.8, 49)
    xs, ts, rs = [], [], []
    for t in TEMPS:
        xc_t = 0.9 + 1.5 * t
        r = R_C * np.exp(1.5 * np.tanh((x - xc_t) * t ** -0.5 * 0.5) + 2.0 * t)
        r = r * (1 + 0.01 * rng.standard_normal(x.size))
        xs.append(x)
        ts.append(np.full(x.size, t))
        rs.append(r)
    res = collapse_sit(np.concatenate(xs), np.concatenate(ts), np.concatenate(rs))
    assert not res.collapses
    assert "do NOT collapse" in res.messages[0]


def test_parallel_isotherms_do_not_cross_and_do_not_collapse():
    rng = np.random.default_rng(5)
    x = np.linspace(0.0, 1.0, 30)
    xs = np.tile(x, 4)
    ts = np.repeat([0.1, 0.2, 0.3, 0.4], x.size)
    rs = 1000 * np.exp(x[None, :] + 5 * np.array([0.1, 0.2, 0.3, 0.4])[:, None]).ravel()
    rs = rs * (1 + 0.005 * rng.standard_normal(rs.size))
    res = collapse_sit(xs, ts, rs)
    assert not res.collapses
    assert any("no two neighbouring isotherms cross" in m for m in res.messages)


def test_one_temperature_only_is_one_sentence():
    x = np.linspace(0, 1, 10)
    with pytest.raises(DataValidationError, match=r"one temperature only \(T = 0.1 K\)"):
        collapse_sit(x, np.full(10, 0.1), np.exp(x))


def test_non_overlapping_ranges_are_one_sentence():
    x1, x2 = np.linspace(0, 1, 10), np.linspace(2, 3, 10)
    with pytest.raises(DataValidationError, match="X ranges of the isotherms do not overlap"):
        crossing_points(np.concatenate([x1, x2]), np.repeat([0.1, 0.2], 10), np.exp(np.concatenate([x1, x2])))


def test_length_mismatch_and_short_isotherm():
    with pytest.raises(DataValidationError, match="equal lengths"):
        collapse_sit([1, 2, 3], [0.1, 0.1], [1, 2, 3])
    with pytest.raises(DataValidationError, match="has 2 point"):
        collapse_sit([1, 2, 1, 2, 3], [0.1, 0.1, 0.2, 0.2, 0.2], [1, 2, 1, 2, 3])


def test_sample_data_rb_isotherms():
    import json
    from pathlib import Path

    import pandas as pd

    folder = Path(__file__).resolve().parents[1] / "sample_data" / "film_sit"
    truth = json.loads((folder / "truth.json").read_text())["scaling"]
    a = pd.read_csv(folder / "rb_isotherms.csv", comment="#")
    res = collapse_sit(a.iloc[:, 0], a.iloc[:, 1], a.iloc[:, 2])
    assert res.collapses
    assert abs(res.x_c - truth["b_c_T"]) < 3 * res.x_c_stderr
    assert abs(res.znu - truth["znu"]) < 3 * res.znu_stderr
    assert res.r_c_over_rq == pytest.approx(truth["r_c_over_rq"], abs=3 * res.r_c_stderr / R_Q_OHM)
