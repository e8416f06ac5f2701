"""The job-kind registry, the kinds' context objects and the shared helpers the kinds use."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

import fitkit.registry as registry
from fitkit.analysis.records import find_quantity, matches_root
from fitkit.analysis.stats import weighted_mean
from fitkit.fitting.record import FitRecord
from fitkit.pipeline import JOB_KINDS, JobContext, JobKind


def test_builtin_kinds_are_registered_with_option_tables():
    expected = {
        "fit", "transition", "gap_temperature", "qps_join", "finkelstein", "map",
        "andreev_contact_series", "andreev_temperature_series", "pcar_profile",
    }
    assert expected <= set(JOB_KINDS)
    for key in expected:
        kind = JOB_KINDS[key]
        assert isinstance(kind, JobKind) and kind.name == key
        assert isinstance(kind.options, dict), f"{key} declares no option table"


def test_registry_loads_builtins_lazily_and_entry_points(monkeypatch):
    class ThirdParty(JobKind):
        name = "third_party"

    ep = SimpleNamespace(name="third_party", load=lambda: ThirdParty)
    monkeypatch.setattr(registry, "entry_points", lambda group: [ep] if group == "g" else [])
    reg = registry.Registry("kind", group="g", builtins=("fitkit.pipeline.kinds",))
    assert "third_party" in reg and isinstance(reg["third_party"], ThirdParty)
    with pytest.raises(ValueError, match="already registered"):
        reg.register("third_party", ThirdParty())


def test_job_context_inputs_and_meta():
    ok = FitRecord("m", sample_id="a", success=True)
    bad = FitRecord("m", sample_id="b", success=False)
    job = SimpleNamespace(name="j", depends_on=("src",), options={})
    ctx = JobContext(job=job, config=None, results={"src": [ok, bad], "j": [ok]})  # type: ignore[arg-type]
    assert ctx.inputs() == [ok] and ctx.inputs(ok_only=False) == [ok, bad]
    assert ctx.own_records() == [ok]
    assert ctx.meta("x", n=1) == {"job": "j", "item_id": "x", "n": 1}
    assert ctx.series_dir() is None


def test_find_quantity_order_and_units():
    rec = FitRecord(
        "m",
        values={"xi": 145.0, "g_xi": 7.0, "w1_t_c": 1.2},
        stderr={"g_xi": 0.1, "w1_t_c": 0.01},
        units={"xi": "nm", "w1_t_c": "K"},
        derived={"t_zero": 0.9},
        derived_units={"t_zero": "K"},
    )
    assert find_quantity(rec, "xi").value == 145.0  # exact name first, not g_xi
    assert find_quantity(rec, "t_c").value == 1.2 and find_quantity(rec, "t_c").unit == "K"
    assert find_quantity(rec, "t_zero_K").value == 0.9
    assert math.isnan(find_quantity(rec, "xi").error)
    assert find_quantity(rec, "nothing") is None
    assert matches_root("a_delta", "delta") and not matches_root("1a_delta", "delta")


def test_weighted_mean_against_independent_formula(rng):
    # scatter larger than the errors: the PDG scale factor applies
    v = rng.normal(10.0, 1.0, 7)
    e = rng.uniform(0.05, 0.2, 7)
    w = e**-2
    m = (w * v).sum() / w.sum()
    chi2 = (w * (v - m) ** 2).sum() / 6
    r = weighted_mean(v, e)
    assert r.mean == pytest.approx(m, rel=1e-14)
    assert chi2 > 1 and r.error == pytest.approx(np.sqrt(chi2 / w.sum()), rel=1e-12)
    # values consistent with their errors: the plain inverse-variance error, never shrunk
    r2 = weighted_mean([1.0, 1.01], [0.1, 0.1])
    assert r2.chi2_red < 1 and r2.error == pytest.approx(0.1 / np.sqrt(2.0), rel=1e-14)
    # no usable error: plain mean and the standard error of the mean, flagged unweighted
    r3 = weighted_mean([1.0, 3.0], [math.nan, 0.0])
    assert (r3.mean, r3.weighted) == (2.0, False) and r3.error == pytest.approx(1.0)


def test_weighted_mean_coverage(rng):
    """The scaled error covers the true value about 68 % of the time (inflated or not)."""
    hits = 0
    n = 400
    for _ in range(n):
        e = rng.uniform(0.5, 2.0, 5)
        v = 3.0 + e * rng.standard_normal(5)
        r = weighted_mean(v, e)
        hits += abs(r.mean - 3.0) <= r.error
    # without scaling the coverage is 68.3 %; the sqrt(max(1, chi2)) factor only widens: 0.68 - 0.80
    assert 0.64 * n <= hits <= 0.82 * n, hits / n
