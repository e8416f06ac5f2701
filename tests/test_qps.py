"""QPS length join (fitkit.analysis.qps): check C4, error propagation, regimes, record plumbing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fitkit.analysis.qps import qps_join, qps_join_records, qps_join_samples
from fitkit.errors import DataValidationError
from fitkit.fitting.record import FitRecord


def _lc(g_xi, g_z, xi):  # seed Eq. (3) with a = b = 1, written out independently
    return xi * math.exp(g_xi / (2 - g_z / 8))


def _records(g_xi=9.0, g_xi_err=0.3, g_z=2.4, g_z_err=0.05, sid="Ti2", prefix=""):
    ps = FitRecord(model_key="phase_slip_gz", sample_id=sid, source_path=f"rt/{sid}.csv",
                   values={f"{prefix}g_xi": g_xi, f"{prefix}xi": 145.0, f"{prefix}length": 20.0},
                   stderr={f"{prefix}g_xi": g_xi_err, f"{prefix}xi": math.nan, f"{prefix}length": math.nan},
                   units={f"{prefix}g_xi": "1", f"{prefix}xi": "nm", f"{prefix}length": "um"})
    tu = FitRecord(model_key="sis_plasmon", sample_id=sid, source_path=f"tunnel/{sid}.csv",
                   values={"g_z": g_z, "delta": 0.047}, stderr={"g_z": g_z_err, "delta": 1e-4},
                   units={"g_z": "1", "delta": "meV"})
    return ps, tu


def test_c4_value():
    r = qps_join(7.5, 0.0, 2.5, 0.0, 140.0, 20_000.0)
    assert r.l_c_nm / 1e3 == pytest.approx(11.92, abs=0.005)   # transport.md C4: 11.92 um
    assert r.l_c_err_nm == 0.0
    assert r.regime == "crossover"                              # 20 um between L_c/2 and 2 L_c


def test_error_matches_finite_difference_propagation():
    g_xi, s_xi, g_z, s_z, xi = 9.0, 0.2, 2.4, 0.1, 145.0
    r = qps_join(g_xi, s_xi, g_z, s_z, xi, 20_000.0)
    d = 1e-6
    dx = (_lc(g_xi + d, g_z, xi) - _lc(g_xi - d, g_z, xi)) / (2 * d)
    dz = (_lc(g_xi, g_z + d, xi) - _lc(g_xi, g_z - d, xi)) / (2 * d)
    assert r.l_c_nm == pytest.approx(_lc(g_xi, g_z, xi), rel=1e-12)
    assert r.l_c_err_nm == pytest.approx(math.hypot(dx * s_xi, dz * s_z), rel=1e-6)
    assert r.ln_l_c_err == pytest.approx(r.l_c_err_nm / r.l_c_nm, rel=1e-12)


def test_error_against_monte_carlo_for_small_errors(rng):
    g_xi, s_xi, g_z, s_z, xi = 5.0, 0.02, 1.5, 0.03, 140.0
    r = qps_join(g_xi, s_xi, g_z, s_z, xi, 1000.0)
    samples = [_lc(a, b, xi) for a, b in zip(rng.normal(g_xi, s_xi, 4000), rng.normal(g_z, s_z, 4000),
                                             strict=True)]
    assert np.std(samples) == pytest.approx(r.l_c_err_nm, rel=0.08)


@pytest.mark.parametrize(("length_nm", "regime"), [(500.0, "superconducting"), (1e7, "insulating")])
def test_regimes(length_nm, regime):
    r = qps_join(5.0, 0.01, 2.0, 0.01, 140.0, length_nm)   # L_c ~ 2.7 um
    assert r.regime == regime == r.regime_lc_minus == r.regime_lc_plus
    assert not r.warnings


def test_regime_ambiguous_within_one_sigma_is_flagged():
    lc = _lc(7.5, 2.5, 140.0)
    r = qps_join(7.5, 1.0, 2.5, 0.2, 140.0, 2.2 * lc)       # just beyond 2 L_c, but sigma is large
    assert r.regime == "insulating"
    assert r.regime_lc_plus == "crossover"
    assert any("not determined" in w for w in r.warnings)
    assert any("skewed" in w for w in r.warnings)


def test_sit_side_gives_infinite_length():
    r = qps_join(5.0, 0.1, 17.0, 0.5, 140.0, 20_000.0)
    assert math.isinf(r.l_c_nm) and r.regime == "superconducting"


def test_invalid_inputs_raise():
    with pytest.raises(DataValidationError, match="g_xi"):
        qps_join(-1.0, 0.1, 2.0, 0.1, 140.0, 1000.0)


def test_join_records_uses_geometry_of_the_phase_slip_record():
    ps, tu = _records()
    r = qps_join_records(ps, tu)
    assert r.xi_nm == 145.0 and r.length_nm == pytest.approx(20_000.0, rel=1e-12)  # um -> nm
    assert r.l_c_nm == pytest.approx(_lc(9.0, 2.4, 145.0), rel=1e-12)
    assert r.sample_id == "Ti2" and "sis_plasmon" in r.sources[1]
    r2 = qps_join_records(ps, tu, xi_nm=100.0, length_nm=5000.0)
    assert r2.l_c_nm == pytest.approx(_lc(9.0, 2.4, 100.0), rel=1e-12)


def test_join_records_with_prefix_and_missing_parameter():
    ps, tu = _records(prefix="ps_")
    with pytest.raises(DataValidationError, match="ps_g_xi"):
        qps_join_records(ps, tu)
    assert qps_join_records(ps, tu, phase_slip_prefix="ps_").g_xi == 9.0


def test_join_samples_table():
    a_ps, a_tu = _records(sid="Ti1", g_xi=37.4)
    b_ps, b_tu = _records(sid="Ti3", g_xi=2.5, g_z=1.5)
    frame = qps_join_samples({"Ti1": a_ps, "Ti3": b_ps, "Ti9": b_ps}, {"Ti1": a_tu, "Ti3": b_tu})
    assert list(frame["sample_id"]) == ["Ti1", "Ti3"]
    assert frame.attrs["unmatched"] == ["Ti9"]
    assert frame.set_index("sample_id").loc["Ti3", "regime"] == "insulating"
    assert frame.set_index("sample_id").loc["Ti1", "regime"] == "superconducting"
