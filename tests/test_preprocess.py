"""Preprocessing steps: known offsets, normalisation factors and derivatives are recovered."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fitkit.errors import ConfigError, DataValidationError, MissingColumnError
from fitkit.io import Sweep, SweepMeta, load
from fitkit.preprocess import (
    STEPS,
    apply_steps,
    average_sweeps,
    calibrate_lockin,
    correct_bias_offset,
    crop,
    differentiate,
    normalize,
)


def bcs_like(v, delta=1e-3, gamma=3e-5):
    """Dynes-broadened BCS density of states |Re[(E+iG)/sqrt((E+iG)^2-D^2)]|, written here
    independently of fitkit.physics; symmetric in v by construction."""
    z = np.abs(v) + 1j * gamma
    return np.abs(np.real(z / np.sqrt(z * z - delta * delta)))


def make(frame: pd.DataFrame) -> Sweep:
    return Sweep(frame, SweepMeta(source_path="synthetic.dat", loader="test"))


def long_format(v, curves):
    parts = []
    for (idx, d), cols in curves.items():
        f = pd.DataFrame({"bias_V": v, **cols})
        f["sweep_index"] = idx
        f["direction"] = d
        parts.append(f)
    return pd.concat(parts, ignore_index=True)


@pytest.mark.parametrize("v0", [37.3e-6, -123.45e-6, 0.7e-6])
def test_symmetry_offset_recovered_to_1uV_noiseless(v0):
    v = np.linspace(3e-3, -3e-3, 601)  # Nanonis order: + to -, 10 uV spacing
    s = make(pd.DataFrame({"bias_V": v, "dIdV_arb": 2.0 * bcs_like(v - v0)}))
    out = correct_bias_offset(s)
    st = out.meta.extra["steps"][-1]
    assert abs(st["offset_V"] - v0) <= 1e-6
    assert abs(st["offset_V"] - v0) <= 0.05e-6  # in fact far better than 1 uV
    np.testing.assert_allclose(out.column("bias_V"), v - st["offset_V"])
    np.testing.assert_array_equal(s.column("bias_V"), v)  # input untouched


def test_symmetry_offset_recovered_with_noise_and_two_directions(rng):
    v0 = 58.2e-6
    v = np.linspace(1.5e-3, -1.5e-3, 1001)
    g = bcs_like(v - v0, delta=0.3e-3, gamma=1e-5)
    frame = long_format(v, {
        (1, "fwd"): {"dIdV_arb": g + rng.normal(0, 0.01, v.size)},
        (1, "bwd"): {"dIdV_arb": g + rng.normal(0, 0.01, v.size)},
    })
    st = correct_bias_offset(make(frame)).meta.extra["steps"][-1]
    assert abs(st["offset_V"] - v0) <= 1e-6


def test_offset_by_value_and_errors():
    v = np.linspace(-1e-3, 1e-3, 11)
    s = make(pd.DataFrame({"bias_V": v, "dIdV_arb": np.ones(11)}))
    out = correct_bias_offset(s, method="value", value=2e-4)
    np.testing.assert_allclose(out.column("bias_V"), v - 2e-4)
    assert out.meta.extra["steps"][-1] == {"step": "correct_bias_offset", "method": "value", "offset_V": 2e-4}
    with pytest.raises(ConfigError, match="method='value' needs value="):
        correct_bias_offset(s, method="value")
    with pytest.raises(ConfigError, match="method='mirror'; expected 'symmetry' or 'value'"):
        correct_bias_offset(s, method="mirror")
    pos = make(pd.DataFrame({"bias_V": np.linspace(1e-4, 1e-3, 20), "dIdV_arb": np.ones(20)}))
    with pytest.raises(DataValidationError, match="both sides of zero bias"):
        correct_bias_offset(pos)


def test_normalize_window_recovers_factor():
    g_n = 3.7e-6
    v = np.linspace(-3e-3, 3e-3, 301)
    shape = 1 + 0.3 * np.exp(-((v / 0.5e-3) ** 2))  # = 1 to 1e-11 for |V| >= 2.5 mV
    s = make(pd.DataFrame({"bias_V": v, "dIdV_S": g_n * shape}))
    out = normalize(s, window=[2.5e-3, 3e-3])
    st = out.meta.extra["steps"][-1]
    assert st["factor"] == pytest.approx(g_n, rel=1e-9)
    np.testing.assert_allclose(out.column("dIdV_norm"), shape, rtol=1e-9)
    # default window = outer fifth of the range, also flat here
    assert normalize(s).meta.extra["steps"][-1]["factor"] == pytest.approx(g_n, rel=1e-9)


def test_normalize_polynomial_recovers_background():
    v = np.linspace(-3e-3, 3e-3, 301)
    shape = 1 + 0.3 * np.exp(-((v / 0.4e-3) ** 2))
    background = 2.0 + 150.0 * v  # arbitrary units, tilted normal state
    s = make(pd.DataFrame({"bias_V": v, "dIdV_arb": background * shape}))
    out = normalize(s, method="polynomial", window=(2e-3, 3e-3), degree=1)
    st = out.meta.extra["steps"][-1]
    np.testing.assert_allclose(st["coefficients"], [2.0, 150.0], rtol=1e-8)
    assert st["factor"] == pytest.approx(2.0, rel=1e-8)
    np.testing.assert_allclose(out.column("dIdV_norm"), shape, rtol=1e-8)


def test_normalize_per_curve_and_errors():
    v = np.linspace(-2e-3, 2e-3, 41)
    frame = long_format(v, {(1, "fwd"): {"dIdV_arb": np.full(41, 2.0)},
                            (2, "fwd"): {"dIdV_arb": np.full(41, 4.0)}})
    out = normalize(make(frame), window=(1.5e-3, 2e-3))
    assert out.meta.extra["steps"][-1]["factor"] == [2.0, 4.0]
    np.testing.assert_allclose(out.column("dIdV_norm"), 1.0)
    with pytest.raises(DataValidationError, match=r"window \(0.005, 0.006\) V holds 0 points"):
        normalize(make(frame), window=(5e-3, 6e-3))
    with pytest.raises(ConfigError, match="expected 0 <= v_lo < v_hi"):
        normalize(make(frame), window=(2e-3, 1e-3))
    with pytest.raises(MissingColumnError, match=r"needs one of the columns \['dIdV_S', 'dIdV_arb'\]"):
        normalize(make(pd.DataFrame({"bias_V": v})))


def test_differentiate_known_iv():
    g1, v1 = 2e-6, 0.4e-3
    v = np.linspace(2e-3, -2e-3, 801)
    current = 1e-6 * v + 3e-3 * v**3 + g1 * v1 * np.tanh(v / v1)
    exact = 1e-6 + 9e-3 * v**2 + g1 / np.cosh(v / v1) ** 2
    out = differentiate(make(pd.DataFrame({"bias_V": v, "current_A": current})), window_V=0.1e-3)
    x = out.column("bias_V")
    assert np.all(np.diff(x) > 0)
    np.testing.assert_allclose(out.column("dIdV_S"), np.interp(x, v[::-1], exact[::-1]), rtol=2e-4)
    st = out.meta.extra["steps"][-1]
    assert st["window_points"] == 21 and st["resampled"] is False


def test_differentiate_cubic_is_exact_and_resamples_nonuniform():
    v = np.sort(np.concatenate([np.linspace(-1, 1, 101)[::2], np.linspace(-0.99, 0.99, 50)[::3]])) * 1e-3
    current = 1e-6 * v + 2e-3 * v**3
    out = differentiate(make(pd.DataFrame({"bias_V": v, "current_A": current})), polyorder=3)
    x = out.column("bias_V")
    assert out.meta.extra["steps"][-1]["resampled"] is True
    np.testing.assert_allclose(np.diff(x), np.diff(x)[0], rtol=1e-9)
    # linear interpolation of a cubic is not a cubic: check against exact derivative loosely
    np.testing.assert_allclose(out.column("dIdV_S"), 1e-6 + 6e-3 * x**2, rtol=2e-3)
    u = np.linspace(-1e-3, 1e-3, 41)
    exact = differentiate(make(pd.DataFrame({"bias_V": u, "current_A": 1e-6 * u + 2e-3 * u**3})))
    np.testing.assert_allclose(exact.column("dIdV_S"), 1e-6 + 6e-3 * u**2, rtol=1e-9)
    with pytest.raises(DataValidationError, match="exceeds the 41 points"):
        differentiate(make(pd.DataFrame({"bias_V": u, "current_A": u})), window_V=1.0)


@pytest.mark.parametrize("method", ["integral", "derivative"])
def test_calibrate_lockin_recovers_scale(rng, method):
    k = 4.2e-7  # S per lock-in volt
    v = np.linspace(1.5e-3, -1.5e-3, 1001)
    g_s = 1e-6 * bcs_like(v, delta=0.3e-3, gamma=2e-5)
    order = np.argsort(v)
    current = np.empty_like(v)
    xs, gs = v[order], g_s[order]
    current[order] = np.concatenate([[0.0], np.cumsum(0.5 * (gs[1:] + gs[:-1]) * np.diff(xs))])
    arb = g_s / k + rng.normal(0, 0.002, v.size)
    s = make(pd.DataFrame({"bias_V": v, "current_A": current + 1e-12, "dIdV_arb": arb}))
    out = calibrate_lockin(s, method=method, window_V=2e-5)
    st = out.meta.extra["steps"][-1]
    assert st["factor_S_per_arb"] == pytest.approx(k, rel=2e-3 if method == "integral" else 2e-2)
    assert st["r2"] > 0.9
    np.testing.assert_allclose(out.column("dIdV_S"), st["factor_S_per_arb"] * arb)


def test_calibrate_lockin_rejects_uncorrelated_channel(rng):
    v = np.linspace(-1e-3, 1e-3, 201)
    s = make(pd.DataFrame({"bias_V": v, "current_A": 1e-6 * v, "dIdV_arb": rng.normal(0, 1, 201)}))
    with pytest.raises(DataValidationError, match="does not track the current"):
        calibrate_lockin(s)


def test_average_sweeps_on_fixture(test_data):
    s = load(test_data / "nanonis_sweeps_bwd.dat")
    all_ = average_sweeps(s)
    assert list(all_.data.columns) == ["bias_V", "current_A", "dIdV_arb"]
    np.testing.assert_allclose(all_.column("bias_V"), [-2e-3, -1e-3, 0, 1e-3, 2e-3])
    # sweeps 1, 2 fwd: 10 i + 1, 10 i + 3; bwd: +100 -> mean 10 i + 52
    np.testing.assert_allclose(all_.column("dIdV_arb"), (np.arange(5)[::-1] * 10 + 52) * 1e-3)
    st = all_.meta.extra["steps"][-1]
    assert st["n_curves"] == 4 and st["grid"] == "shared"
    fwd = average_sweeps(s, directions="fwd")
    np.testing.assert_allclose(fwd.column("dIdV_arb"), (np.arange(5)[::-1] * 10 + 2) * 1e-3)
    one = average_sweeps(s, sweeps=[2], directions="bwd")
    np.testing.assert_allclose(one.column("current_A"), (np.arange(5)[::-1] * 10 + 103) * 1e-12)
    with pytest.raises(DataValidationError, match="selected no rows"):
        average_sweeps(s, sweeps="avg")  # the loader did not include the stored average


def test_average_sweeps_interpolates_different_grids():
    a = np.linspace(-1, 1, 21)
    b = np.linspace(-0.95, 1.05, 21)
    frame = pd.concat([
        pd.DataFrame({"bias_V": a, "dIdV_arb": 2 * a + 1, "sweep_index": 1, "direction": "fwd"}),
        pd.DataFrame({"bias_V": b, "dIdV_arb": 2 * b + 3, "sweep_index": 2, "direction": "fwd"}),
    ], ignore_index=True)
    out = average_sweeps(make(frame))
    x = out.column("bias_V")
    assert x[0] == pytest.approx(-0.9) and x[-1] == pytest.approx(1.0)
    np.testing.assert_allclose(out.column("dIdV_arb"), 2 * x + 2)


def test_crop():
    v = np.linspace(-2e-3, 2e-3, 9)
    s = make(pd.DataFrame({"bias_V": v, "dIdV_arb": v}))
    out = crop(s, -1e-3, 1.5e-3)
    np.testing.assert_allclose(out.column("bias_V"), [-1e-3, -0.5e-3, 0, 0.5e-3, 1e-3, 1.5e-3])
    assert out.meta.extra["steps"][-1]["rows_kept"] == 6
    with pytest.raises(ConfigError, match="must be smaller"):
        crop(s, 1e-3, -1e-3)
    with pytest.raises(DataValidationError, match="leaves no rows"):
        crop(s, 5e-3, 6e-3)


def test_apply_steps_pipeline_records_each_step(test_data):
    s = load(test_data / "nanonis_sweeps_bwd.dat")
    out = apply_steps(s, [
        {"step": "average_sweeps", "directions": "fwd"},
        {"step": "crop", "v_min": -1.5e-3, "v_max": 2e-3},
        {"step": "normalize", "window": [1.5e-3, 2e-3]},
    ])
    names = [st["step"] for st in out.meta.extra["steps"]]
    assert names == ["average_sweeps", "crop", "normalize"]
    assert out.meta.extra["steps"][-1]["factor"] == pytest.approx(2e-3)
    np.testing.assert_allclose(out.column("dIdV_norm"), [16, 11, 6, 1])
    assert "steps" not in s.meta.extra  # pure: the input sweep is unchanged


def test_apply_steps_config_errors():
    s = make(pd.DataFrame({"bias_V": np.linspace(-1, 1, 11) * 1e-3, "dIdV_arb": np.ones(11)}))
    with pytest.raises(ConfigError, match=r"steps\[1\]: unknown step 'normalise'; valid steps are \[.*\]; "
                                          r"did you mean 'normalize'\?"):
        apply_steps(s, [{"step": "crop", "v_min": -1, "v_max": 1}, {"step": "normalise"}])
    with pytest.raises(ConfigError, match=r"steps\[0\] \(normalize\): unknown option\(s\) \['windw'\]; "
                                          r"valid options are \['column', 'degree', 'method', 'window'\]"):
        apply_steps(s, [{"step": "normalize", "windw": [1, 2]}])
    with pytest.raises(ConfigError, match=r"steps\[0\]: missing 'step' key"):
        apply_steps(s, [{"window": [1, 2]}])
    with pytest.raises(ConfigError, match=r"steps\[0\]: expected a mapping"):
        apply_steps(s, ["normalize"])
    with pytest.raises(ConfigError, match=r"steps\[0\] \(crop\): missing required option\(s\) \['v_max'\]"):
        apply_steps(s, [{"step": "crop", "v_min": 0}])
    with pytest.raises(ConfigError, match="steps: expected a list"):
        apply_steps(s, {"step": "crop"})
    with pytest.raises(DataValidationError, match=r"steps\[0\] \(crop\): .*leaves no rows"):
        apply_steps(s, [{"step": "crop", "v_min": 1, "v_max": 2}])
    assert sorted(STEPS) == ["average_sweeps", "calibrate_lockin", "correct_bias_offset", "crop",
                             "differentiate", "normalize"]


@pytest.mark.shared
def test_real_nis_offset_matches_peak_midpoint(shared_data):
    s = load(shared_data / "stm_nis_gr_re_stmtools" / "BiasSpectroscopyNIS.dat")
    out = apply_steps(s, [{"step": "average_sweeps"}, {"step": "correct_bias_offset"},
                          {"step": "calibrate_lockin"}, {"step": "normalize", "window": [1.2e-3, 1.5e-3]}])
    steps = {st["step"]: st for st in out.meta.extra["steps"]}
    # PROVENANCE: coherence peaks at -0.306 / +0.423 mV -> centre +58.5 uV (peak positions, 3 uV grid)
    assert steps["correct_bias_offset"]["offset_V"] == pytest.approx(58.5e-6, abs=4e-6)
    assert steps["calibrate_lockin"]["r2"] > 0.999
    assert 0.9 < out.data["dIdV_norm"].iloc[-20:].mean() < 1.1
