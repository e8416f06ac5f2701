"""Profile-likelihood, bootstrap and linear intervals (fitkit.fitting.intervals).

Every expectation is computed independently of the code under test: exact linear least squares
(numpy lstsq / the analytic covariance), brute-force chi-square grids with full refits written here,
Monte-Carlo spreads over seeds, and the known truth of seeded synthetic data.
"""

from __future__ import annotations

import math
import time

import lmfit
import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from fitkit.fitting.intervals import (
    Interval,
    bootstrap_intervals,
    linear_interval,
    profile_interval,
    profile_intervals,
)
from fitkit.models import get_model
from fitkit.models.phase_slip import phase_slip_gz_ohm

Q68 = 1.0  # the crossing level of a 68.27 % (1 sigma) interval: Delta chi2 = 1


def _line(x: np.ndarray, a: float, b: float) -> np.ndarray:
    return a + b * x


def _linear_data(seed: int, n: int = 60, sigma: float = 0.3) -> tuple[np.ndarray, np.ndarray, float]:
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 10.0, n)
    return x, 1.0 + 0.5 * x + sigma * rng.standard_normal(n), sigma


def _exact_line(x: np.ndarray, y: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least squares by hand: best (a, b) and their standard errors for known sigma."""
    a_mat = np.column_stack([np.ones_like(x), x]) / sigma
    cov = np.linalg.inv(a_mat.T @ a_mat)
    best = cov @ a_mat.T @ (y / sigma)
    return best, np.sqrt(np.diag(cov))


# ------------------------------------------------------------------------------------------------
# linear model: the profile interval is exactly the linear one


def test_linear_model_profile_equals_exact_linear_errors() -> None:
    x, y, sig = _linear_data(1)
    best, se = _exact_line(x, y, sig)
    model = lmfit.Model(_line)
    res = model.fit(y, model.make_params(a=0.0, b=0.0), x=x, weights=np.full(x.size, 1 / sig),
                    scale_covar=False)
    half = math.sqrt(Q68)
    for k, name in enumerate(("a", "b")):
        iv = profile_interval(res, name)
        assert iv.kind == "two-sided" and iv.method == "profile" and not iv.recentred
        assert iv.best == pytest.approx(best[k], abs=1e-6 * se[k])
        assert iv.lower == pytest.approx(best[k] - half * se[k], abs=1e-3 * se[k])
        assert iv.upper == pytest.approx(best[k] + half * se[k], abs=1e-3 * se[k])
        assert iv.refits <= 8  # a quadratic profile is bracketed and interpolated in very few refits
    # the result passed in is untouched
    assert res.params["a"].value == pytest.approx(best[0], abs=1e-6 * se[0])


def test_scale_is_the_chi2_normalisation() -> None:
    """Unit weights: profiling with scale = redchi reproduces lmfit's (redchi-scaled) stderr."""
    x, y, _ = _linear_data(2)
    model = lmfit.Model(_line)
    res = model.fit(y, model.make_params(a=0.0, b=0.0), x=x)
    for name in ("a", "b"):
        p = res.params[name]
        iv = profile_interval(res, name, scale=res.redchi)
        assert (iv.upper - iv.lower) / 2 == pytest.approx(p.stderr, rel=1e-3)
        wide = profile_interval(res, name, scale=4 * res.redchi)  # errors widened by 2
        assert (wide.upper - wide.lower) / 2 == pytest.approx(2 * p.stderr, rel=1e-3)
    ivs = profile_intervals(res, scale={"a": res.redchi, "b": res.redchi}, level=0.9545)
    # 95.45 % <-> Delta chi2 = 4 <-> +-2 sigma
    assert (ivs["b"].upper - ivs["b"].lower) / 4 == pytest.approx(res.params["b"].stderr, rel=1e-3)


def test_bootstrap_matches_linear_errors_for_white_noise() -> None:
    x, y, sig = _linear_data(3, n=80)
    best, se = _exact_line(x, y, sig)
    model = lmfit.Model(_line)
    res = model.fit(y, model.make_params(a=0.0, b=0.0), x=x, weights=np.full(x.size, 1 / sig),
                    scale_covar=False)
    ivs = bootstrap_intervals(res, n_boot=300, seed=4)
    again = bootstrap_intervals(res, n_boot=300, seed=4)
    assert ivs == again  # seeded
    for k, name in enumerate(("a", "b")):
        iv = ivs[name]
        assert iv.method == "bootstrap" and iv.kind == "two-sided"
        # the residuals of this realisation estimate sigma to ~ 1/sqrt(2n) = 8 %; the percentiles of 300
        # replicates add ~ 10 %
        assert (iv.upper - iv.lower) / 2 == pytest.approx(se[k], rel=0.25)
        assert abs((iv.upper + iv.lower) / 2 - best[k]) < 0.3 * se[k]


@pytest.mark.slow
def test_block_bootstrap_covers_correlated_noise() -> None:
    """AR(1) phi = 0.8 noise: the moving-block bootstrap widens the slope interval to the true spread.

    The true spread of the OLS slope is measured by Monte Carlo over 2000 noise realisations.
    """
    n, phi, x = 300, 0.8, np.linspace(0.0, 1.0, 300)

    def ar1(rng: np.random.Generator) -> np.ndarray:
        e = rng.standard_normal(n) * math.sqrt(1 - phi**2)
        out = np.empty(n)
        out[0] = rng.standard_normal()
        for i in range(1, n):
            out[i] = phi * out[i - 1] + e[i]
        return 0.1 * out

    design = np.column_stack([np.ones(n), x])
    rng = np.random.default_rng(5)
    slopes = [np.linalg.lstsq(design, 2.0 * x + ar1(rng), rcond=None)[0][1] for _ in range(2000)]
    true_sd = float(np.std(slopes))
    model = lmfit.Model(_line)
    widths_iid, widths_block = [], []
    for seed in range(6):
        y = 2.0 * x + ar1(np.random.default_rng(100 + seed))
        res = model.fit(y, model.make_params(a=0.0, b=1.0), x=x)
        iid = bootstrap_intervals(res, ["b"], n_boot=150, seed=seed)["b"]
        blk = bootstrap_intervals(res, ["b"], n_boot=150, block=25, seed=seed)["b"]
        widths_iid.append((iid.upper - iid.lower) / 2)
        widths_block.append((blk.upper - blk.lower) / 2)
    # iid resampling ignores the correlation: ~ sqrt((1-phi)/(1+phi)) = 1/3 of the true spread
    assert np.median(widths_iid) / true_sd < 0.5
    assert 0.6 < np.median(widths_block) / true_sd < 1.3


# ------------------------------------------------------------------------------------------------
# one-sided limits


def _quad(x: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    return a + b * x + c * x**2


def test_parameter_at_bound_gives_upper_limit_with_brute_force_crossing() -> None:
    """y = a + b x + c x^2 with c >= 0 and true c = 0: when the unconstrained c is negative the fit sits
    at c = 0 and the profile gives "c <= c_up".  c_up from a brute-force grid of exact refits of (a, b)."""
    sig = 0.2
    x = np.linspace(-1.0, 1.0, 40)
    design = np.column_stack([np.ones_like(x), x, x**2])
    for seed in range(100):  # the first seed with the unconstrained c clearly negative
        y = 0.3 + 0.7 * x + sig * np.random.default_rng(seed).standard_normal(x.size)
        c_free = np.linalg.lstsq(design, y, rcond=None)[0][2]
        c_se = sig * math.sqrt(np.linalg.inv(design.T @ design)[2, 2])
        if c_free < -0.5 * c_se:
            break
    model = lmfit.Model(_quad)
    pars = model.make_params(a=0.0, b=0.0, c=0.1)
    pars["c"].set(min=0.0)
    res = model.fit(y, pars, x=x, weights=np.full(x.size, 1 / sig), scale_covar=False)
    assert res.params["c"].value < 1e-3 * c_se

    ab = design[:, :2]

    def chi2_at(c: float) -> float:  # exact refit of (a, b) at fixed c
        z = y - c * x**2
        return float(np.sum((z - ab @ np.linalg.lstsq(ab, z, rcond=None)[0]) ** 2)) / sig**2

    chi2_min = chi2_at(0.0)  # the unconstrained minimum is at c < 0: on c >= 0 the minimum is the bound
    coarse = np.linspace(0.0, 4 * c_se, 401)
    d = np.array([chi2_at(c) for c in coarse]) - chi2_min
    assert d.min() > -1e-9
    k = int(np.argmax(d >= Q68))
    fine = np.linspace(coarse[k - 1], coarse[k], 2001)
    c_up = float(np.interp(Q68, np.array([chi2_at(c) for c in fine]) - chi2_min, fine))
    # and analytically: chi2(c) - chi2(0) = ((c - c_free)^2 - c_free^2) / c_se^2
    assert c_up == pytest.approx(c_free + math.sqrt(Q68 * c_se**2 + c_free**2), abs=1e-4 * c_se)

    iv = profile_interval(res, "c")
    assert iv.kind == "upper limit"
    assert iv.lower == 0.0
    assert iv.upper == pytest.approx(c_up, abs=2e-3 * c_se)
    assert "c ≤" in iv.statement("c")
    # the linear interval clipped at the bound also says "upper limit", but 0 + sigma is too wide here
    lin = linear_interval(res.params["c"].value, c_se, 0.0, math.inf)
    assert lin.kind == "upper limit" and lin.upper > iv.upper + 0.1 * c_se


def _decay(x: np.ndarray, b: float, amp: float, tau: float) -> np.ndarray:
    return b + amp * np.exp(-x / tau)


def test_nonlinear_flat_profile_upper_limit() -> None:
    """y = b + A exp(-x/tau) with A >= 0 and no decay in the data: tau is undetermined when A -> 0, the
    profile of A is flat at the bound.  Brute force: for each A, the exact b for every tau of a dense
    grid, then a bounded scalar minimisation over tau around the grid minimum."""
    sig = 0.05
    x = np.linspace(0.0, 5.0, 60)
    rng = np.random.default_rng(7)
    y = 1.0 + 0.02 * np.exp(-x / 1.0) + sig * rng.standard_normal(x.size)
    model = lmfit.Model(_decay)
    pars = model.make_params(b=1.0, amp=0.05, tau=1.0)
    pars["amp"].set(min=0.0)
    pars["tau"].set(min=0.2, max=5.0)
    res = model.fit(y, pars, x=x, weights=np.full(x.size, 1 / sig), scale_covar=False)

    taus = np.geomspace(0.2, 5.0, 400)

    def chi2_at(amp: float) -> float:
        def at_tau(tau: float) -> float:
            z = y - amp * np.exp(-x / tau)
            return float(np.sum((z - z.mean()) ** 2)) / sig**2

        vals = [at_tau(t) for t in taus]
        k = int(np.argmin(vals))
        lo, hi = taus[max(k - 1, 0)], taus[min(k + 1, taus.size - 1)]
        return float(min(vals[k], minimize_scalar(at_tau, bounds=(lo, hi), method="bounded").fun))

    amps = np.linspace(0.0, 0.2, 81)
    prof = np.array([chi2_at(a) for a in amps])
    chi_min = min(prof.min(), res.chisqr)
    k = int(np.argmax(prof - chi_min >= Q68))
    fine = np.linspace(amps[k - 1], amps[k], 41)
    prof_f = np.array([chi2_at(a) for a in fine])
    a_up = float(np.interp(Q68, prof_f - chi_min, fine))
    assert prof[0] - chi_min < Q68  # the flat profile does not cross at the bound

    iv = profile_interval(res, "amp")
    assert iv.kind == "upper limit" and iv.lower == 0.0
    assert iv.upper == pytest.approx(a_up, abs=0.003)


def test_profile_restarts_from_a_better_minimum() -> None:
    """A fit that stopped short of the minimum (here: the slope moved 3 sigma off by hand): the profile
    sees Delta chi2 < 0, refits and reports the exact least-squares interval, flagged as re-centred."""
    x, y, sig = _linear_data(8)
    best, se = _exact_line(x, y, sig)
    model = lmfit.Model(_line)
    res = model.fit(y, model.make_params(a=5.0, b=-2.0), x=x, weights=np.full(x.size, 1 / sig),
                    scale_covar=False)
    res.params["b"].value = best[1] + 3 * se[1]
    ivs = profile_intervals(res, ["a", "b"])
    assert all(v.recentred for v in ivs.values())
    assert ivs["a"].best == pytest.approx(best[0], abs=1e-4 * se[0])
    iv = profile_interval(res, "b", scale=1.0)
    assert iv.recentred
    assert iv.best == pytest.approx(best[1], abs=1e-4 * se[1])
    half = math.sqrt(Q68)
    assert iv.lower == pytest.approx(best[1] - half * se[1], abs=2e-3 * se[1])
    assert iv.upper == pytest.approx(best[1] + half * se[1], abs=2e-3 * se[1])


def test_not_determined_when_neither_side_crosses() -> None:
    """A parameter the model ignores over its whole bounded range: flat profile, no crossing."""

    def flat(x: np.ndarray, a: float, k: float) -> np.ndarray:
        return a + 0.0 * k * x

    x, y, sig = _linear_data(9)
    model = lmfit.Model(flat)
    pars = model.make_params(a=1.0, k=0.3)
    pars["k"].set(min=-1.0, max=1.0)
    res = model.fit(y, pars, x=x, weights=np.full(x.size, 1 / sig))
    iv = profile_interval(res, "k", scale=res.redchi)
    assert iv.kind == "not determined"
    assert (iv.lower, iv.upper) == (-1.0, 1.0)


def test_linear_interval_kinds() -> None:
    assert linear_interval(1.0, 0.2) == Interval(1.0, 0.8, 1.2, "two-sided", "linear")
    iv = linear_interval(0.09, 1.02, 0.0, 1.0)
    assert iv.kind == "not determined" and (iv.lower, iv.upper) == (0.0, 1.0)
    assert linear_interval(0.1, 0.2, 0.0, 1.0).kind == "upper limit"
    assert linear_interval(0.9, 0.2, 0.0, 1.0).kind == "lower limit"
    assert linear_interval(1.0, math.nan).kind == "not determined"
    assert linear_interval(0.0, 1.0, level=0.9545).upper == 2.0  # 2 sigma
    assert linear_interval(0.0, 1.0, level=0.9).upper == pytest.approx(1.6448536, rel=1e-6)
    with pytest.raises(ValueError):
        Interval(0.0, -1.0, 1.0, "two sided", "profile")


def test_bad_arguments() -> None:
    x, y, sig = _linear_data(10)
    model = lmfit.Model(_line)
    pars = model.make_params(a=0.0, b=0.0)
    pars["a"].set(vary=False, value=1.0)
    res = model.fit(y, pars, x=x, weights=np.full(x.size, 1 / sig))
    with pytest.raises(ValueError, match="not a free parameter"):
        profile_interval(res, "a")
    with pytest.raises(KeyError):
        profile_interval(res, "nope")
    with pytest.raises(ValueError, match="scale"):
        profile_interval(res, "b", scale=0.0)


# ------------------------------------------------------------------------------------------------
# weak nanowires: coverage of the 68 % intervals over seeds

WEAK_WIRES = {  # the stays-resistive wires of sample_data/rt_wires (truth.json): g_xi, T_c [K], R_N [kOhm]
    "Ti3": (2.5, 0.405, 50.0),
    "Ti4": (1.2, 0.390, 60.0),
    "Ti5": (0.6, 0.400, 70.0),
}


@pytest.mark.slow
def test_weak_wire_profile_coverage() -> None:
    """phase_slip_gz, g_xi = 0.6 / 1.2 / 2.5, the generator's design (200 points, 0.05-0.6 K, 1.5 %
    multiplicative noise, relative weights): over 50 seeds x 3 wires the 68 % profile intervals (scale =
    reduced chi-square) of g_xi and T_c contain the truth in 0.55-0.80 of cases."""
    model = get_model("phase_slip_gz")()
    t = np.linspace(0.05, 0.6, 200)
    hits: dict[str, dict[str, list[bool]]] = {m: {"g_xi": [], "t_c": []} for m in ("profile", "linear")}
    t0 = time.perf_counter()
    n_seeds = 50
    for seed in range(n_seeds):
        for g, tc, rn in WEAK_WIRES.values():
            rng = np.random.default_rng(1000 + seed)
            r = phase_slip_gz_ohm(t, g_xi=g, t_c=tc, r_n=rn) * (1.0 + 0.015 * rng.standard_normal(t.size))
            res = model.fit(r, model.guess(r, t), weights=model.default_weights(t, r), temperature=t)
            ivs = profile_intervals(res, ["g_xi", "t_c"], scale=res.redchi)
            for name, truth in (("g_xi", g), ("t_c", tc)):
                p = res.params[name]
                lin = linear_interval(p.value, p.stderr if p.stderr is not None else math.nan, p.min, p.max)
                hits["profile"][name].append(ivs[name].lower <= truth <= ivs[name].upper)
                hits["linear"][name].append(lin.lower <= truth <= lin.upper)
    elapsed = time.perf_counter() - t0
    cov = {m: {n: float(np.mean(v)) for n, v in d.items()} for m, d in hits.items()}
    print(f"\nweak wires, {3 * n_seeds} fits in {elapsed:.1f} s; 68 % coverage: profile {cov['profile']}, "
          f"linear {cov['linear']}")
    for name in ("g_xi", "t_c"):
        assert 0.55 <= cov["profile"][name] <= 0.80, (name, cov)


# ------------------------------------------------------------------------------------------------
# PCAR Co/Nb: the polarisation is an upper limit


@pytest.mark.slow
def test_pcar_polarization_is_an_upper_limit() -> None:
    """The bundled Co/Nb spectrum: the profile of P (scale = reduced chi-square) is flat down to the
    bound P = 0 and crosses Delta chi2 = 1 near P = 0.38.  The crossing is checked against the existing
    brute-force chi^2(P) table of fitkit.analysis.pcar (full multi-start refits at fixed P)."""
    from fitkit.analysis.pcar import chi2_profile, fit_pcar, load_pcar, polarization_statement

    sweep = load_pcar()
    rec = fit_pcar(sweep, uncertainty="linear")
    res = rec.result
    iv = profile_interval(res, "polarization", scale=res.redchi)
    print(f"\nPCAR Co/Nb: {iv.statement('P')} (linear: {rec.values['polarization']:.2f} ± "
          f"{res.params['polarization'].stderr:.2f}); the record states {polarization_statement(rec)} "
          f"(scale widened x{rec.quality.get('error_scale_by_parameter', {}).get('polarization', 1.0):.2f} "
          "for correlated residuals)")
    assert iv.kind == "upper limit" and iv.lower == 0.0
    # fit_pcar always profiles P: the record carries the one-sided statement, never the linear +-1
    assert rec.interval_method["polarization"] == "profile"
    assert rec.interval_kind["polarization"] == "upper limit"
    assert rec.lower["polarization"] == 0.0 and iv.upper <= rec.upper["polarization"] < 1.0
    assert polarization_statement(rec).startswith("P ≤ ")
    grid = (0.0, 0.30, 0.34, 0.36, 0.38, 0.40, 0.42, 0.46)
    table = chi2_profile(sweep, grid)
    d = (table["chisqr"].to_numpy() - min(table["chisqr"].min(), res.chisqr)) / res.redchi
    assert d[0] < 1.0  # flat at the bound
    k = int(np.argmax(d >= 1.0))
    assert k > 0
    p_cross = float(np.interp(1.0, d[k - 1:k + 1], np.asarray(grid[k - 1:k + 1])))
    assert iv.upper == pytest.approx(p_cross, abs=0.01)
