"""Tests of fitkit.analysis.gap_temperature: BCS Delta(T) fits and the broadening-degeneracy warning."""

from __future__ import annotations

import numpy as np
import pytest

from fitkit.analysis.gap_temperature import broadening_degeneracy_warning, fit_gap_temperature
from fitkit.constants import K_B_MEV_PER_K
from fitkit.errors import DataValidationError
from fitkit.fitting.record import FitRecord
from fitkit.physics.bcs import bcs_gap

# Delta/Delta0 of the exact BCS solution, physics note table (section 2), independent of our code.
NOTE_T = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99])
NOTE_RATIO = np.array([1.00000, 0.99988, 0.99712, 0.98503, 0.95688, 0.90699, 0.82877, 0.71104, 0.52634,
                       0.38032, 0.17295])


def test_fit_recovers_note_table():
    t_c, delta0 = 1.3, 0.21
    res = fit_gap_temperature(NOTE_T * t_c, NOTE_RATIO * delta0, np.full(NOTE_T.size, 1e-5 * delta0))
    assert res.t_c == pytest.approx(t_c, rel=1e-4)
    assert res.delta0 == pytest.approx(delta0, rel=1e-4)
    assert res.ratio == pytest.approx(delta0 / (K_B_MEV_PER_K * t_c), rel=2e-4)
    assert res.ndata == NOTE_T.size


def test_fit_noisy_series_within_errors(rng):
    t_c, delta0, sigma = 0.4, 0.06, 0.001
    temps = np.linspace(0.05, 0.45, 17)
    hits = 0
    n = 50
    for _ in range(n):
        d = bcs_gap(temps, t_c, delta0) + rng.normal(0, sigma, temps.size)
        res = fit_gap_temperature(temps, d, np.full(temps.size, sigma))
        assert abs(res.t_c - t_c) < 5 * res.t_c_stderr
        hits += abs(res.delta0 - delta0) <= res.delta0_stderr
    assert 0.55 <= hits / n <= 0.80, hits / n


def test_fit_input_errors():
    with pytest.raises(DataValidationError, match="equal lengths"):
        fit_gap_temperature([0.1, 0.2, 0.3], [0.1, 0.1])
    with pytest.raises(DataValidationError, match=">= 3"):
        fit_gap_temperature([0.1, 0.2], [0.1, 0.1])
    with pytest.raises(DataValidationError, match="> 0"):
        fit_gap_temperature([0.1, 0.2, 0.3], [0.1, 0.1, 0.05], [0.01, 0.0, 0.01])


def _record(corr, meta=None):
    return FitRecord(model_key="nis", correlations=corr, meta=meta or {})


def test_degeneracy_warning():
    assert broadening_degeneracy_warning(_record({"temperature": {"gamma": 0.5}})) is None
    assert broadening_degeneracy_warning(_record({"delta": {"g_n": 0.99}})) is None
    corr = {"gamma": {"temperature": -0.97}, "temperature": {"gamma": -0.97}}
    msg = broadening_degeneracy_warning(_record(corr))
    assert msg is not None and "corr(gamma, temperature) = -0.970" in msg and "fix temperature" in msg
    rec = _record({"s_temperature": {"s_v_mod": 0.99}}, meta={"lockin_amplitude": 1})
    msg = broadening_degeneracy_warning(rec)
    assert msg is not None and "fix v_mod" in msg
