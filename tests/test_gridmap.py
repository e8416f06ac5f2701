"""Grid maps: fast nis evaluator, per-pixel map fits, aborted grids, warm starts and the ``map`` job."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from fitkit.analysis.gridmap import (
    NISGridEvaluator,
    fit_block,
    fit_grid,
    map_summary,
    read_maps,
    save_maps,
)
from fitkit.io.nanonis_3ds import open_grid, read_grid_header
from fitkit.models.tunneling import nis_model_conductance

GRID = Path(__file__).resolve().parents[1] / "sample_data" / "grid_3ds"
FIXED = {"temperature": {"value": 0.3, "vary": False}, "v_mod": {"value": 0.02, "vary": False}}


@pytest.fixture(scope="module")
def truth() -> dict[str, np.ndarray]:
    with np.load(GRID / "truth.npz") as z:
        return {k: z[k] for k in z.files}


@pytest.fixture(scope="module")
def maps():
    return fit_grid(GRID / "sc_grid.3ds")


def _truncated(tmp_path: Path, pixels: float) -> Path:
    """A copy of the sample grid cut after ``pixels`` pixel records (an aborted measurement)."""
    src = GRID / "sc_grid.3ds"
    h = read_grid_header(src)
    n_bytes = h.data_offset + int(pixels * h.record_len * 4)
    dst = tmp_path / "aborted.3ds"
    with src.open("rb") as fi, dst.open("wb") as fo:
        fo.write(fi.read(n_bytes))
    return dst


def test_fast_evaluator_matches_model_function(rng):
    bias = np.linspace(-1.5e-3, 1.5e-3, 201)
    for temperature, v_mod in ((0.3, 0.02), (0.1, 0.0), (0.5, 0.05)):
        ev = NISGridEvaluator(bias, temperature, v_mod)
        for _ in range(5):
            d, g = rng.uniform(0.15, 0.5), rng.uniform(0.005, 0.05)
            off, gn = rng.uniform(-0.02, 0.02), rng.uniform(0.5, 2.0)
            ref = nis_model_conductance(bias, d, g, temperature, gn, off, v_mod, 0.0)
            np.testing.assert_allclose(ev(d, g, gn, off), ref, rtol=2e-4)
    # no gap: flat conductance G_N (analytic)
    np.testing.assert_allclose(NISGridEvaluator(bias, 0.3, 0.02)(0.0, 0.01, 2.5), 2.5, rtol=1e-9)


def test_map_recovers_true_gap(maps, truth):
    good = ~truth["defect"]
    ok = maps["success"].values
    assert ok[good].mean() >= 0.95
    z = (maps["delta_meV"].values - truth["delta_meV"]) / maps["delta_meV_stderr"].values
    z = z[good & ok]
    assert np.median(np.abs(z)) < 1.2  # 0.67 for Gaussian errors
    assert np.mean(np.abs(z) < 2.0) > 0.85
    assert 0.55 < np.mean(np.abs(z) < 1.0) < 0.85  # honest 1-sigma errors
    rel = maps["g_n_A"].values[good & ok] / truth["g_n_A"][good & ok] - 1
    assert np.median(np.abs(rel)) < 0.01
    # the normal (defect) pixels have no significant gap: fitted fine, flagged, not counted as a gap
    sig = maps["significant"].values
    assert ok[truth["defect"]].all()
    assert not sig[truth["defect"]].any()
    assert sig[good].mean() >= 0.95
    assert maps["start"].values.min() >= 1  # every pixel measured and fitted
    s = map_summary(maps)
    assert s["delta_mean_meV"] == pytest.approx(truth["delta_meV"][good].mean(), abs=0.002)
    assert s["success_fraction"] == pytest.approx(ok.mean())
    assert s["n_significant"] == (ok & sig).sum()


def test_warm_start_agrees_with_cold_start(truth):
    ds = open_grid(GRID / "sc_grid.3ds")
    x = ds["bias_V"].values
    y = ds["li_demod_1_x_A"].values[:4].reshape(64, -1)
    iy, ix = np.divmod(np.arange(64), 16)
    warm = fit_block(x, y, params=FIXED, iy=iy, ix=ix, warm_start=True)
    cold = fit_block(x, y, params=FIXED, iy=iy, ix=ix, warm_start=False)
    both = warm.success & cold.success
    assert both.mean() > 0.9
    j = warm.names.index("delta")
    diff = np.abs(warm.values[both, j] - cold.values[both, j]) / warm.stderr[both, j]
    assert diff.max() < 0.1
    assert (warm.start[both] == 2).mean() > 0.9
    assert warm.nfev[both].mean() < cold.nfev[both].mean()


def test_bad_pixels_never_stop_a_block():
    x = np.linspace(-1.5e-3, 1.5e-3, 101)
    good = nis_model_conductance(x, 0.3, 0.02, 0.3, 1.0, 0.0, 0.02, 0.0)
    rows = np.vstack([good, np.full(101, np.nan), np.zeros(101), np.full(101, np.inf), good])
    fit = fit_block(x, rows, params=FIXED)
    assert fit.start[1] == 0 and not fit.success[1] and "no finite data" in fit.message[1]
    assert not fit.success[2] and not fit.success[3]
    assert fit.success[0] and fit.success[4]
    assert fit.values[4, fit.names.index("delta")] == pytest.approx(0.3, abs=1e-3)


def test_aborted_grid_pixels_are_nan_and_workers_do_not_matter(tmp_path):
    path = _truncated(tmp_path, 40.5)
    one = fit_grid(path, block=16)
    two = fit_grid(path, block=16, workers=2)
    assert one.attrs["pixels_complete"] == 40
    flat_ok = one["success"].values.ravel()
    assert not flat_ok[40:].any()
    assert np.isnan(one["delta_meV"].values.ravel()[40:]).all()
    assert (one["start"].values.ravel()[40:] == 0).all()
    assert flat_ok[:40].mean() > 0.9
    for v in one.data_vars:
        np.testing.assert_array_equal(one[v].values, two[v].values)


def test_save_and_read_maps(tmp_path, maps):
    paths = save_maps(maps, tmp_path / "m")
    for p in paths.values():
        assert p.is_file() and p.stat().st_size > 0
    back = read_maps(paths["maps"])
    assert set(back.data_vars) == set(maps.data_vars)
    np.testing.assert_array_equal(back["delta_meV"].values, maps["delta_meV"].values)
    assert back["success"].dtype == bool
    assert back["delta_meV"].attrs["units"] == "meV"
    assert not list((tmp_path / "m").glob(".*tmp"))


def test_map_job_in_pipeline(tmp_path):
    pipeline = pytest.importorskip("fitkit.pipeline")
    from fitkit.config import load_config

    path = _truncated(tmp_path, 40)
    cfg_path = tmp_path / "map.yaml"
    cfg_path.write_text(
        "schema_version: 1\nname: maptest\njobs:\n"
        "  - name: gapmap\n    kind: map\n    inputs: {files: aborted.3ds, block_size: 16}\n"
        "    model: nis\n    options: {channel: 'LI Demod 1 X (A)'}\n",
        encoding="utf-8",
    )
    cfg = load_config(cfg_path)
    out = tmp_path / "out"
    summary = pipeline.run(cfg, out, workers=1, progress=False)
    assert summary.n_items == 3  # 40 measured pixels in blocks of 16
    pixel_recs = [r for r in summary.records if "iy" in r.meta]
    assert len(pixel_recs) == 40
    maps_h5 = out / "maps" / "gapmap" / "maps.h5"
    for name in ("gap_map.png", "histogram.png", "maps.h5"):
        assert (out / "maps" / "gapmap" / name).is_file()
    (row,) = [r for r in summary.records if r.meta.get("item_id") == "_map"]
    assert row.success and row.derived["success_fraction"] > 0.9
    assert row.derived["delta_mean"] == pytest.approx(0.3, abs=0.05)
    assert row.derived_units["delta_mean"] == "meV"
    assert "maps/gapmap/gap_map.png" in (out / "index.html").read_text(encoding="utf-8")
    direct = fit_grid(path, block=16)
    back = read_maps(maps_h5)
    np.testing.assert_array_equal(back["delta_meV"].values, direct["delta_meV"].values)
    np.testing.assert_array_equal(back["success"].values, direct["success"].values)
    again = pipeline.run(cfg, out, workers=1, progress=False, resume=True)
    assert again.n_resumed == again.n_items == 3
    pooled = pipeline.run(cfg, tmp_path / "out2", workers=2, progress=False)
    key = {(r.meta["iy"], r.meta["ix"]): r for r in pixel_recs}
    for r in pooled.records:
        if "iy" in r.meta:
            ref = key[(r.meta["iy"], r.meta["ix"])]
            np.testing.assert_array_equal(list(r.values.values()), list(ref.values.values()))
            assert r.success == ref.success


def test_map_job_rejects_bad_options(tmp_path):
    from fitkit.config import load_config
    from fitkit.errors import ConfigError

    shutil.copy(GRID / "sc_grid.3ds", tmp_path / "g.3ds")
    cfg_path = tmp_path / "bad.yaml"
    cfg_path.write_text(
        "schema_version: 1\nname: bad\njobs:\n"
        "  - name: m\n    kind: map\n    inputs: {files: g.3ds}\n    model: nis\n"
        "    options: {bogus: 1, warm_start: 'yes', parameter: gap}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as err:
        load_config(cfg_path)
    text = str(err.value)
    assert "options.bogus" in text and "options.warm_start" in text and "options.parameter" in text


def test_preprocess_normalize_gives_dimensionless_g_n(maps):
    ds = open_grid(GRID / "sc_grid.3ds").isel(y=slice(0, 1))
    norm = fit_grid(ds, preprocess=[{"step": "normalize"}])
    assert "g_n_norm" in norm.data_vars and norm["g_n_norm"].attrs["units"] == "norm"
    assert np.all(np.abs(norm["g_n_norm"].values - 1.0) < 0.05)
    # normalising by a constant per pixel does not move the gap
    np.testing.assert_allclose(norm["delta_meV"].values[0], maps["delta_meV"].values[0], atol=1e-6)
