"""Regenerate the committed real-spectra results: parameter tables, README figure, diagnostics.

Run from anywhere: ``python sample_data/real/results/make_results.py [--out RUN_FOLDER]``.

1. ``fitkit.pipeline.run`` of ``configs/real_spectra.yaml`` (workers=1) into ``--out`` (default: a
   temporary folder); each job's ``parameters.{csv,json}`` is copied here as
   ``<job>_parameters.{csv,json}``.
2. ``docs/figures/nis_real_fit.png``: N-I-S data, fit and residuals.
3. Diagnostics printed for README.md: noise estimates and chi^2 against them, the fit with the
   header lock-in amplitude fixed, the broadening-degeneracy check and the gap sums.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from fitkit.analysis.gap_temperature import broadening_degeneracy_warning  # noqa: E402
from fitkit.config import load_config  # noqa: E402
from fitkit.fitting.batch import fit_series  # noqa: E402
from fitkit.io import load  # noqa: E402
from fitkit.pipeline import run  # noqa: E402
from fitkit.preprocess import apply_steps  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
CONFIG = ROOT / "configs" / "real_spectra.yaml"
FIGURE = ROOT / "docs" / "figures" / "nis_real_fit.png"


def refit(job, overrides=None):
    """Fit the job's single file as the pipeline does, keeping the lmfit result."""
    path = job.inputs.files[0].path
    raw = load(path, format=job.inputs.format, **dict(job.inputs.options))
    sweep = apply_steps(raw, list(job.preprocess))
    pars = job.overrides()
    pars.update(overrides or {})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec = fit_series([sweep], job.model.build, pars, x=job.x, y=job.y, x_range=job.x_range)[0]
    return sweep, rec


def diff_noise(y: np.ndarray) -> float:
    """White-noise sigma from first differences (insensitive to smooth structure)."""
    return float(np.std(np.diff(y)) / np.sqrt(2.0))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    cfg = load_config(CONFIG)
    out = args.out or Path(tempfile.mkdtemp(prefix="real_spectra-"))
    summary = run(cfg, out, workers=1, progress=False)
    print(f"run: {summary.n_ok} ok, {summary.n_failed} failed -> {out}")
    for job in cfg.jobs:
        folder = next((out / "fits" / job.name).iterdir())
        for ext in ("csv", "json"):  # copied with repo-relative paths
            text = (folder / f"parameters.{ext}").read_text(encoding="utf-8")
            (HERE / f"{job.name}_parameters.{ext}").write_text(text.replace(f"{ROOT}/", ""), encoding="utf-8")
    records = {r["job"]: r["statistics"] for r in json.loads((out / "results.json").read_text())["records"]}
    jobs = {j.name: j for j in cfg.jobs}

    for name, job in jobs.items():
        sweep, rec = refit(job)
        assert abs(rec.redchi - records[name]["redchi"]) < 1e-9 * max(1.0, rec.redchi), name
        res = rec.result
        x, y, f = np.asarray(res.userkws["bias"]), np.asarray(res.data), np.asarray(res.best_fit)
        n, p = x.size, rec.nvarys
        print(f"\n== {name}: model {rec.model_key}, N={n}, free={p}, redchi(unweighted)={rec.redchi:.4g}, "
              f"rms residual={np.sqrt(np.mean((y - f) ** 2)):.4g}")
        print("   values:", {k: (round(v, 6), float(f"{rec.stderr[k]:.2g}")) for k, v in rec.values.items()
                             if rec.vary.get(k)})
        big = {f"{a}/{b}": round(c, 3) for a, row in rec.correlations.items() for b, c in row.items()
               if a < b and abs(c) > 0.5}
        print("   |corr| > 0.5:", big)
        print("   degeneracy warning:", broadening_degeneracy_warning(rec))
        hi = np.abs(x) > 0.8 * np.abs(x).max()
        sig_hi = diff_noise(y[hi])
        print(f"   diff-noise sigma at high bias: {sig_hi:.4g}; chi2_nu against it: "
              f"{np.sum((y - f) ** 2) / sig_hi ** 2 / (n - p):.3g}")
        if name == "nis_gr_re":
            raw = load(job.inputs.files[0].path, format=job.inputs.format, **dict(job.inputs.options))
            raw = apply_steps(raw, [s for s in job.preprocess if s["step"] != "average_sweeps"])
            curves = [g.sort_values("bias_V") for _, g in raw.data.groupby(["sweep_index", "direction"])]
            yy = np.array([c["dIdV_norm"].to_numpy() for c in curves])
            xx = curves[0]["bias_V"].to_numpy()
            sem = yy.std(axis=0, ddof=1) / np.sqrt(len(curves))
            sem_on_x = np.interp(x, xx, sem)
            print(f"   sweep-to-sweep SEM ({len(curves)} curves): median {np.median(sem):.4g}; chi2_nu with "
                  f"sigma=SEM per point: {np.sum(((y - f) / sem_on_x) ** 2) / (n - p):.3g}")
            make_figure(x, y, f, rec)
        v_hdr = sweep.meta.extra.get("lockin_amplitude_rms_V")
        t_hdr = sweep.meta.extra.get("temperature_K")
        vm = "a_v_mod" if "a_v_mod" in rec.values else "v_mod"
        _, rec_h = refit(job, {vm: {"value": v_hdr * 1e3, "vary": False}})
        print(f"   header: T={t_hdr} K, lock-in {v_hdr * 1e6:.0f} uV rms; with v_mod fixed there: redchi "
              f"{rec_h.redchi:.4g} ({rec_h.redchi / rec.redchi:.0f}x), delta -> "
              f"{rec_h.values.get('delta', rec_h.values.get('a_delta')):.4f} meV")
        cov = getattr(res, "covar", None)
        if name == "sis_sctip" and cov is not None:
            names = res.var_names
            i, j = names.index("delta"), names.index("delta_tip")
            s = rec.values["delta"] + rec.values["delta_tip"]
            d = rec.values["delta_tip"] - rec.values["delta"]
            es = np.sqrt(cov[i, i] + cov[j, j] + 2 * cov[i, j])
            ed = np.sqrt(cov[i, i] + cov[j, j] - 2 * cov[i, j])
            print(f"   delta + delta_tip = {s:.5f} +- {es:.2g} meV; "
                  f"delta_tip - delta = {d:.4f} +- {ed:.2g} meV")
        if name == "gap_58mK" and cov is not None:
            names = res.var_names
            i, j = names.index("a_delta"), names.index("b_delta")
            sa = rec.values["a_delta"] + rec.values["b_delta"]
            ea = np.sqrt(cov[i, i] + cov[j, j] + 2 * cov[i, j])
            print(f"   sums: delta_tip + a_delta = {sa:.5f} +- {ea:.2g} meV; delta_tip + b_delta = "
                  f"{2 * rec.values['b_delta']:.5f} +- {2 * rec.stderr['b_delta']:.2g} meV; weight "
                  f"a/(a+b) = {rec.values['a_g_n'] / (rec.values['a_g_n'] + rec.values['b_g_n']):.3f}")


def make_figure(x: np.ndarray, y: np.ndarray, f: np.ndarray, rec) -> None:
    """Data, fit and residuals of the N-I-S spectrum (README figure)."""
    fig, (ax, rax) = plt.subplots(2, 1, figsize=(6.4, 5.2), sharex=True,
                                  gridspec_kw={"height_ratios": [3, 1], "hspace": 0.06})
    mv = x * 1e3
    ax.plot(mv, y, ".", ms=2.5, color="0.35", label="data (mean of 3 sweeps x fwd/bwd)")
    ax.plot(mv, f, "-", lw=1.3, color="C3", label="N-I-S fit (Dynes, thermal + lock-in)")
    v, e = rec.values, rec.stderr
    text = (f"$\\Delta$ = {v['delta'] * 1e3:.1f} $\\pm$ {e['delta'] * 1e3:.1f} $\\mu$eV\n"
            f"$\\Gamma$ = {v['gamma'] * 1e3:.1f} $\\pm$ {e['gamma'] * 1e3:.1f} $\\mu$eV\n"
            f"$T_{{eff}}$ = {v['temperature'] * 1e3:.0f} $\\pm$ {e['temperature'] * 1e3:.0f} mK "
            "(bath 55 mK)\n"
            f"$V_{{mod}}$ = {v['v_mod'] * 1e3:.1f} $\\pm$ {e['v_mod'] * 1e3:.1f} $\\mu$V rms\n"
            f"red. $\\chi^2$ = {rec.redchi:.1e} (unweighted)")
    ax.text(0.02, 0.33, text, transform=ax.transAxes, va="top", fontsize=8)
    ax.set_ylabel("dI/dV / $G_N$")
    ax.set_ylim(-0.1, 2.75)
    ax.legend(loc="upper center", fontsize=7, frameon=False, ncol=2)
    ax.set_title("Gr/Re, normal tip, 55 mK (stmtools example data)", fontsize=9)
    rax.plot(mv, y - f, ".", ms=2.0, color="0.35")
    rax.axhline(0.0, color="C3", lw=0.8)
    rax.set_xlabel("bias, offset-corrected (mV)")
    rax.set_ylabel("residual")
    fig.savefig(FIGURE, dpi=130, bbox_inches="tight")
    plt.close(fig)
    print(f"   figure -> {FIGURE}")


if __name__ == "__main__":
    main()
