r"""Andreev (point-contact) spectroscopy models: BTK, spin-polarised BTK, two-gap BTK, collective gap.

Every model fits a differential conductance versus bias (``bias`` in V, SI) and returns it in
the unit of the data through the normal-state conductance ``g_n`` (fit ``dIdV_norm`` with
``g_n ~ 1``, or ``dIdV_S`` with ``g_n`` in S).  The model functions convert bias to energy
(:math:`E = e(V - V_0)` in meV) and call :mod:`fitkit.physics.andreev`.

Common parameters
-----------------
==================  ===============  ===========  =========================================
symbol              name             unit         meaning
==================  ===============  ===========  =========================================
:math:`\Delta`      ``delta``        meV          superconducting gap
:math:`\Gamma`      ``gamma``        meV          Dynes broadening
:math:`Z`           ``z``            1            BTK barrier strength
:math:`T`           ``temperature``  K            electron temperature (fixed by default)
:math:`G_N`         ``g_n``          data unit    normal-state conductance
:math:`V_0`         ``bias_offset``  mV           bias offset (:math:`E = e(V - V_0)`)
:math:`V_{rms}`     ``v_mod``        mV           lock-in modulation, rms (fixed 0)
:math:`\sigma`      ``smearing``     meV          Gaussian smearing, standard deviation
                                                  (Stoner's :math:`\omega`; fixed 0)
==================  ===============  ===========  =========================================
"""

from __future__ import annotations

from typing import Any

import lmfit
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.ndimage import gaussian_filter1d, uniform_filter1d
from scipy.signal import find_peaks

from fitkit.constants import K_B_MEV_PER_K
from fitkit.models import DATA_UNIT, FitkitModel, ParamSpec, register_model
from fitkit.models.guesses import finish_with_overrides, high_bias_level, is_fixed, override_value
from fitkit.physics import andreev, thermal
from fitkit.units import MEV_PER_VOLT

__all__ = [
    "AndreevCollectiveModel",
    "BTKModel",
    "BTKPolarizedModel",
    "BTKTwoGapModel",
    "andreev_collective_conductance",
    "btk_model_conductance",
    "btk_polarized_model_conductance",
    "btk_two_gap_model_conductance",
    "estimate_andreev_features",
    "z_from_zero_bias",
]

_COMMON_SPECS: tuple[ParamSpec, ...] = (
    ParamSpec("delta", "meV", 1.0, min=0.0, description="superconducting gap Delta"),
    ParamSpec("gamma", "meV", 0.01, min=0.0, description="Dynes broadening Gamma"),
    ParamSpec("z", "1", 0.5, min=0.0, max=50.0, description="BTK barrier strength Z"),
    ParamSpec("temperature", "K", 1.0, min=0.0, vary=False, description="electron temperature"),
    ParamSpec("g_n", DATA_UNIT, 1.0, min=0.0, description="normal-state conductance G_N (data unit)"),
    ParamSpec("bias_offset", "mV", 0.0, description="bias offset V_0 (E = e(V - V_0))"),
    ParamSpec("v_mod", "mV", 0.0, min=0.0, vary=False, description="lock-in modulation amplitude, rms"),
    ParamSpec("smearing", "meV", 0.0, min=0.0, vary=False,
              description="Gaussian smearing standard deviation (Stoner omega)"),
)


def _energy(bias: ArrayLike, bias_offset: float) -> NDArray:
    return np.asarray(bias, dtype=float) * MEV_PER_VOLT - float(bias_offset)


def btk_model_conductance(bias: ArrayLike, delta: float, gamma: float, z: float, temperature: float,
                          g_n: float, bias_offset: float, v_mod: float, smearing: float) -> NDArray:
    """Adapter of :class:`BTKModel`: bias [V] -> ``g_n * G/G_NN`` (unit of ``g_n``).

    Parameters are in the units of the module table (meV, K, mV); see
    :func:`fitkit.physics.andreev.btk_conductance`.
    """
    e = _energy(bias, bias_offset)
    return g_n * andreev.btk_conductance(e, delta, gamma, z, temperature, v_mod, smearing)


def btk_polarized_model_conductance(bias: ArrayLike, delta: float, gamma: float, z: float, temperature: float,
                                    g_n: float, bias_offset: float, v_mod: float, smearing: float,
                                    polarization: float,
                                    polarized_form: andreev.PolarizedForm = "strijkers") -> NDArray:
    """Adapter of :class:`BTKPolarizedModel`; see :func:`fitkit.physics.andreev.btk_polarized_conductance`."""
    e = _energy(bias, bias_offset)
    return g_n * andreev.btk_polarized_conductance(e, delta, gamma, z, polarization, temperature, v_mod,
                                                   smearing, form=polarized_form)


def btk_two_gap_model_conductance(bias: ArrayLike, delta: float, gamma: float, z: float, temperature: float,
                                  g_n: float, bias_offset: float, v_mod: float, smearing: float,
                                  delta2: float, gamma2: float, weight: float, z2: float,
                                  barrier: str = "common") -> NDArray:
    """Adapter of :class:`BTKTwoGapModel`; with ``barrier="common"`` band 2 uses ``z`` (``z2`` ignored)."""
    e = _energy(bias, bias_offset)
    z_2 = z if barrier == "common" else z2
    return g_n * andreev.btk_two_gap_conductance(e, delta, gamma, z, delta2, gamma2, z_2, weight, temperature,
                                                 v_mod, smearing)


def andreev_collective_conductance(bias: ArrayLike, delta: float, gamma: float, z: float, temperature: float,
                                   g_n: float, bias_offset: float, v_mod: float, smearing: float,
                                   delta_col: float, alpha: float,
                                   form: andreev.CollectiveForm = "pm2") -> NDArray:
    """Adapter of :class:`AndreevCollectiveModel` (physics: ``andreev.collective_gap_conductance``).

    ``alpha`` is used by ``form="pm1"`` only.
    """
    e = _energy(bias, bias_offset)
    return g_n * andreev.collective_gap_conductance(e, delta, delta_col, gamma, z, temperature, v_mod,
                                                    smearing, form=form, alpha=alpha)


def z_from_zero_bias(g0: float) -> float:
    r"""Invert the :math:`T=0` zero-bias law :math:`g_0 = 2(1+Z^2)/(1+2Z^2)^2` for :math:`Z \ge 0`.

    Parameters
    ----------
    g0
        Normalised zero-bias conductance :math:`G(0)/G_N`.

    Returns
    -------
    float
        :math:`Z` (0 for :math:`g_0 \ge 2`; large for small :math:`g_0`).

    Notes
    -----
    With :math:`x = Z^2`: :math:`4g_0x^2 + (4g_0-2)x + g_0 - 2 = 0`, so
    :math:`x = (2 - 4g_0 + \sqrt{16 g_0 + 4})/(8 g_0)`.
    """
    g = float(np.clip(g0, 1e-4, 2.0))
    x = (2.0 - 4.0 * g + np.sqrt(16.0 * g + 4.0)) / (8.0 * g)
    return float(np.sqrt(max(x, 0.0)))


def estimate_andreev_features(y: ArrayLike, bias: ArrayLike) -> dict[str, float]:
    """Model-free features of a normalisable Andreev spectrum (used by the ``guess`` methods).

    Parameters
    ----------
    y
        Conductance (any unit).
    bias
        Bias [V], any order.

    Returns
    -------
    dict
        ``g_n`` (:func:`fitkit.models.guesses.high_bias_level` divided by the gap tail
        :math:`1 + 0.35\\,\\Delta^2/V^2`, data unit), ``bias_offset`` [mV]
        (midpoint of the two gap features), ``delta`` [meV] (half the distance between the
        outermost prominent peaks, or between the steepest descents when there is no peak),
        ``g0`` (normalised conductance at the offset), ``inner_peak`` [meV] (the innermost
        prominent peak when there are two or more per side, NaN otherwise).  Prominence
        threshold: max(0.02, 5 x the noise of the smoothed normalised data).
    """
    v = np.asarray(bias, dtype=float) * MEV_PER_VOLT
    g = np.asarray(y, dtype=float)
    order = np.argsort(v)
    v, g = v[order], g[order]
    ok = np.isfinite(v) & np.isfinite(g)
    v, g = v[ok], g[ok]
    vmax = float(np.max(np.abs(v)))
    g_n = high_bias_level(g, v, 0.15)
    if not np.isfinite(g_n) or g_n <= 0:
        g_n = float(np.max(np.abs(g))) or 1.0
    size = max(3, (v.size // 100) | 1)
    gs = uniform_filter1d(g / g_n, size=size, mode="nearest")
    noise = float(np.median(np.abs(np.diff(g / g_n)))) / (0.6745 * np.sqrt(2.0))
    prominence = max(0.02, 5.0 * noise / np.sqrt(size))

    def side_feature(mask: NDArray) -> tuple[float, float]:
        # (outermost prominent peak or steepest descent, innermost prominent peak if distinct)
        vv, gg = v[mask], gs[mask]
        if vv.size < 5:
            return np.nan, np.nan
        order_out = np.argsort(np.abs(vv))
        va, ga = np.abs(vv[order_out]), gg[order_out]
        peaks, _ = find_peaks(ga, prominence=prominence)
        peaks = peaks[(va[peaks] > 0.02 * vmax) & (va[peaks] < 0.8 * vmax)]
        sign = float(np.sign(vv[0]))
        if peaks.size:
            outer_pk = float(sign * va[peaks[-1]])
            inner_pk = float(sign * va[peaks[0]]) if peaks.size > 1 else np.nan
            return outer_pk, inner_pk
        slope = np.gradient(ga, va)
        j = int(np.argmin(slope))  # steepest descent away from zero bias
        return float(sign * va[j]), np.nan

    vp, ip = side_feature(v > 0)
    vm, im = side_feature(v < 0)
    if np.isfinite(vp) and np.isfinite(vm):
        offset = 0.5 * (vp + vm)
        delta = 0.5 * (vp - vm)
    else:
        offset = 0.0
        delta = float(np.nanmax(np.abs([vp, vm]))) if np.isfinite([vp, vm]).any() else 0.1 * vmax
    if abs(offset) > 0.25 * abs(delta):
        offset = 0.0
    delta = abs(delta) if delta != 0 else 0.1 * vmax
    # the high-bias level still carries the BTK/DOS tail ~ 1 + (0.25..0.5) Delta^2/V^2
    v_out = float(np.median(np.abs(v[np.abs(v) >= 0.85 * vmax])))
    tail = 1.0 + 0.35 * (delta / v_out) ** 2 if v_out > 2.0 * delta else 1.0
    g_n /= tail
    gs = gs * tail
    g0 = float(np.interp(offset, v, gs))
    inner = [abs(x - offset) for x in (ip, im) if np.isfinite(x)]
    inner_peak = float(np.mean(inner)) if inner else np.nan
    return {"g_n": g_n, "bias_offset": float(offset), "delta": float(delta), "g0": g0,
            "inner_peak": inner_peak}


def _coarse_channels(e: NDArray, delta: float, gamma: float, z: float, temperature: float, v_mod: float,
                     smearing: float, form: str) -> tuple[NDArray, NDArray]:
    r"""Unpolarised and fully polarised channels :math:`G_u`, :math:`G_p` at energies ``e`` (meV), cheaply.

    For start values only: the T = 0 channels (:func:`fitkit.physics.andreev.spin_polarized_t0`)
    are sampled on a uniform 1201-point grid, smeared (thermal + lock-in, then Gaussian) and
    interpolated; no cell averages at the gap edge (the fit itself uses the exact
    :func:`fitkit.physics.andreev.btk_polarized_conductance`).  About 0.3 ms per call.
    """
    kt = K_B_MEV_PER_K * temperature
    if kt <= 0 and v_mod <= 0 and smearing <= 0:
        return (andreev.spin_polarized_t0(e, delta, gamma, z, 0.0, form=form),  # type: ignore[arg-type]
                andreev.spin_polarized_t0(e, delta, gamma, z, 1.0, form=form))  # type: ignore[arg-type]
    e_max = max(float(np.max(np.abs(e))), 2.0 * delta) + 12.0 * kt + 3.0 * v_mod + 6.0 * smearing
    grid = np.linspace(-e_max, e_max, 1201)
    gu = andreev.spin_polarized_t0(grid, delta, gamma, z, 0.0, form=form)  # type: ignore[arg-type]
    gp = andreev.spin_polarized_t0(grid, delta, gamma, z, 1.0, form=form)  # type: ignore[arg-type]
    if kt > 0 or v_mod > 0:
        gu, gp = thermal.smear(grid, gu, temperature, v_mod), thermal.smear(grid, gp, temperature, v_mod)
    both = np.vstack([gu, gp])
    step = float(grid[1] - grid[0])
    if smearing > 0.1 * step:
        both = gaussian_filter1d(both, smearing / step, axis=1, mode="nearest", truncate=6.0)
    return np.interp(e, grid, both[0]), np.interp(e, grid, both[1])


class _AndreevBase(FitkitModel):
    """Shared guess of the Andreev models (not registered)."""

    x_name = "bias"
    x_unit = "V"
    y_unit = DATA_UNIT

    def _feature_guess(self, data: ArrayLike, x: ArrayLike) -> dict[str, float]:
        f = estimate_andreev_features(data, x)
        return {
            "g_n": f["g_n"],
            "bias_offset": f["bias_offset"],
            "delta": f["delta"],
            "gamma": 0.05 * f["delta"],
            "z": z_from_zero_bias(f["g0"]),
            "_g0": f["g0"],
            "_inner": f["inner_peak"],
        }

    def guess(self, data: np.ndarray, x: np.ndarray, **overrides: Any) -> lmfit.Parameters:
        """Estimate start values from the data; overrides (``name=value``) are applied last.

        Gap from the coherence-peak (or steepest-descent) positions, bias offset from their
        midpoint, ``g_n`` from the high-bias level, ``z`` from the zero-bias value through
        :func:`z_from_zero_bias`, ``gamma = 0.05 * delta``.
        """
        est = self._feature_guess(data, x)
        return self._finish_guess({k: v for k, v in est.items() if not k.startswith("_")}, **overrides)


@register_model
class BTKModel(_AndreevBase):
    r"""BTK Andreev conductance with Dynes broadening, temperature, lock-in and Gaussian smearing.

    .. math:: G(V) = G_N\,\big[K_\sigma * K_{lock} * (1+Z^2)\!\int\! d\epsilon\,[1+A-B]\,(-f')\big](e(V-V_0))

    Parameters: the common table of :mod:`fitkit.models.andreev` (``delta``, ``gamma``, ``z``,
    ``temperature``, ``g_n``, ``bias_offset``, ``v_mod``, ``smearing``).  ``A`` and ``B`` come
    from the single complex-energy (Plecenik) formula.  ``smearing`` is a Gaussian standard
    deviation (Stoner convention :math:`\sigma = \omega`) applied after the thermal kernel.

    References: Blonder, Tinkham & Klapwijk, Phys. Rev. B 25, 4515 (1982); Plecenik et al.,
    Phys. Rev. B 49, 10016 (1994).
    """

    key = "btk"
    param_specs = _COMMON_SPECS
    model_function = staticmethod(btk_model_conductance)


@register_model
class BTKPolarizedModel(_AndreevBase):
    r"""Spin-polarised BTK: :math:`G = G_N[(1-P)G_u + P\,G_p]`, broadened as in ``btk``.

    Extra parameter: ``polarization`` :math:`P` (dimensionless, 0..1).  Option
    ``polarized_form`` (labels in :data:`fitkit.physics.andreev.POLARIZED_FORM_LABELS`):
    ``"strijkers"`` (default; Strijkers et al., Phys. Rev. B 63, 104510 (2001), the Stoner-PythonCode
    PCAR model; exact and cancellation-free at Gamma = 0, Lorentzian lifetime broadening of that channel
    for Gamma > 0 [reconstructed]), ``"mazin"`` (Mazin, Golubov & Nadgorny, J. Appl. Phys. 89, 7576
    (2001); Woods et al., Phys. Rev. B 70, 054416 (2004), ballistic; in-gap current proportional to the
    Dynes DOS for Gamma > 0) or ``"strijkers_continued"`` (the fitkit <= 0.1 complex-energy continuation,
    unphysical for Gamma > 0 at small Z: kept only to reproduce old fits).  The guess sets
    :math:`P` from the zero-bias value when the spectrum has no coherence peaks
    (:math:`G(0) = 2(1-P)` at :math:`Z = 0`), else :math:`P = 0.2` and :math:`Z` from the BTK law;
    then a global (Z, P, G_N, Delta) pre-search (:meth:`_pz_search`) replaces these when it fits
    better: P and Z trade off along a valley with two minima, and the zero-bias rule can start in
    the wrong one.
    """

    key = "btk_polarized"
    param_specs = (*_COMMON_SPECS,
                   ParamSpec("polarization", "1", 0.3, min=0.0, max=1.0, description="spin polarisation P"))
    option_choices = {"polarized_form": ("strijkers", "mazin", "strijkers_continued")}
    report_notes = tuple(f"polarized_form '{k}': {v}" for k, v in andreev.POLARIZED_FORM_LABELS.items())
    model_function = staticmethod(btk_polarized_model_conductance)

    def guess(self, data: np.ndarray, x: np.ndarray, **overrides: Any) -> lmfit.Parameters:
        """Start values (class docstring, then :meth:`_pz_search`); overrides are applied last."""
        est = self._feature_guess(data, x)
        g0 = est.pop("_g0")
        est.pop("_inner")
        if g0 < 1.0:
            est["polarization"] = float(np.clip(1.0 - g0 / 2.0, 0.0, 0.95))
            est["z"] = 0.2
        else:
            est["polarization"] = 0.2
        est.update(self._pz_search(np.asarray(data, dtype=float), np.asarray(x, dtype=float), est, overrides))
        return finish_with_overrides(self, est, overrides)

    _Z_GRID = (0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.7, 0.85, 1.0, 1.2, 1.5, 2.0, 3.0, 5.0)
    _DELTA_STEPS = (0.8, 0.9, 1.1, 1.2)

    def _pz_search(self, y: NDArray, x: NDArray, est: dict[str, float],
                   overrides: dict[str, Any]) -> dict[str, float]:
        r"""Global pre-search of (Z, P, G_N), then of Delta, by linear least squares.

        :math:`G = G_N[(1-P)G_u + P G_p]` is linear in :math:`a = G_N(1-P)` and :math:`b = G_N P`
        once Z and Delta are chosen (broadening is linear too), so for every Z of a 14-point grid
        (0-5) the two channel spectra are computed once and (a, b) follow from a 2x2 non-negative
        least-squares solve; the best Z (and the runner-up local minimum) then get a 5-point Delta
        scan (0.8-1.2 times the feature estimate).  Broadening (``temperature``, ``v_mod``,
        ``smearing``, ``gamma``) and the bias offset are the overrides or the feature estimates;
        a parameter fixed by an override (``z``, ``polarization``, ``delta``, ``g_n``) is held.
        About 40 spectrum evaluations on a coarsened energy grid: a few tens of ms.  This replaces
        the zero-bias rule when it lowers the sum of squares; the zero-bias rule mistakes a high-Z,
        high-P spectrum for a low-Z one (two minima along the P-Z valley).
        """
        ok = np.isfinite(x) & np.isfinite(y)
        x, y = x[ok], y[ok]
        if x.size < 8:
            return {}
        form = self.opts.get("polarized_form", "strijkers")
        temp = override_value(overrides, "temperature", self.spec("temperature").value)
        v_mod = override_value(overrides, "v_mod", self.spec("v_mod").value)
        smear = override_value(overrides, "smearing", self.spec("smearing").value)
        gamma = override_value(overrides, "gamma", est["gamma"])
        off = override_value(overrides, "bias_offset", est["bias_offset"])
        delta0 = override_value(overrides, "delta", est["delta"])
        if not (delta0 > 0 and np.all(np.array([temp, v_mod, smear, gamma]) >= 0)):
            return {}
        held = {n: is_fixed(overrides, n) for n in ("z", "polarization", "delta", "g_n")}
        e = _energy(x, off)

        def channels(delta: float, z: float) -> tuple[NDArray, NDArray]:
            return _coarse_channels(e, delta, gamma, z, temp, v_mod, smear, form)

        def solve(gu: NDArray, gp: NDArray) -> tuple[float, float, float]:
            if held["polarization"] or held["g_n"]:
                pol = override_value(overrides, "polarization", est["polarization"])
                basis = (1.0 - pol) * gu + pol * gp
                gn = override_value(overrides, "g_n", float(basis @ y / max(basis @ basis, 1e-300)))
                return float(np.sum((y - gn * basis) ** 2)), gn, pol
            m = np.array([[gu @ gu, gu @ gp], [gu @ gp, gp @ gp]])
            rhs = np.array([gu @ y, gp @ y])
            cands = []
            with np.errstate(all="ignore"):
                try:
                    a, b = np.linalg.solve(m, rhs)
                    if a >= 0 and b >= 0 and a + b > 0:
                        cands.append((a, b))
                except np.linalg.LinAlgError:
                    pass
            cands.append((max(rhs[0] / max(m[0, 0], 1e-300), 0.0), 0.0))
            cands.append((0.0, max(rhs[1] / max(m[1, 1], 1e-300), 0.0)))
            best = min(cands, key=lambda ab: float(np.sum((y - ab[0] * gu - ab[1] * gp) ** 2)))
            a, b = best
            gn = a + b
            return float(np.sum((y - a * gu - b * gp) ** 2)), float(gn), float(b / gn) if gn > 0 else 0.0

        z_grid = (override_value(overrides, "z", est["z"]),) if held["z"] else self._Z_GRID
        rows = []
        for z in z_grid:
            cost, gn, pol = solve(*channels(delta0, z))
            rows.append((cost, z, delta0, gn, pol))
        costs = np.array([r[0] for r in rows])
        if not np.isfinite(costs).any():
            return {}
        # the best grid point and the best other local minimum along Z
        order = [int(i) for i in np.argsort(costs)]
        minima = [i for i in order if (i == 0 or costs[i] <= costs[i - 1])
                  and (i == len(costs) - 1 or costs[i] <= costs[i + 1])][:2]
        best = rows[order[0]]
        if not held["delta"]:
            for i in minima:
                z = rows[i][1]
                for f in self._DELTA_STEPS:
                    cost, gn, pol = solve(*channels(delta0 * f, z))
                    if cost < best[0]:
                        best = (cost, z, delta0 * f, gn, pol)
        gu_ref, gp_ref = channels(est["delta"], est["z"])
        ref_basis = (1.0 - est["polarization"]) * gu_ref + est["polarization"] * gp_ref
        ref_cost = float(np.sum((y - est["g_n"] * ref_basis) ** 2))
        if not best[0] < ref_cost:
            return {}
        # never start on a bound (lmfit's bound transform has a zero gradient there)
        # g_n stays at the model-free high-bias level (a linear amplitude the fit finds at once; keeping it
        # leaves fits that override z, delta and P, e.g. the PCAR job, exactly where they were)
        pol = float(np.clip(best[4], 0.02, 0.98))
        out = {"z": best[1], "delta": best[2], "polarization": pol}
        return {k: v for k, v in out.items() if not held.get(k, False)}


@register_model
class BTKTwoGapModel(_AndreevBase):
    r"""Two-band BTK: :math:`G = G_N[w\,G_{BTK}(\Delta,\Gamma,Z) + (1-w)\,G_{BTK}(\Delta_2,\Gamma_2,Z_2)]`.

    Extra parameters: ``delta2`` (meV), ``gamma2`` (meV), ``weight`` :math:`w` (band-1 weight,
    0..1) and ``z2``.  Option ``barrier``: ``"common"`` (default; both bands see the barrier
    ``z``, and ``z2`` is tied to ``z`` by an lmfit expression so it is reported but not fitted)
    or ``"separate"`` (``z2`` is free).  Temperature, offset, lock-in and smearing are common.
    Reference: Daghero & Gonnelli, Supercond. Sci. Technol. 23, 043001 (2010).
    """

    key = "btk_two_gap"
    param_specs = (*_COMMON_SPECS,
                   ParamSpec("delta2", "meV", 0.3, min=0.0, description="second-band gap Delta_2"),
                   ParamSpec("gamma2", "meV", 0.01, min=0.0, description="second-band Dynes broadening"),
                   ParamSpec("weight", "1", 0.5, min=0.0, max=1.0, description="weight w of band 1"),
                   ParamSpec("z2", "1", 0.5, min=0.0, max=50.0,
                             description="second-band barrier (tied to z when barrier='common')"))
    option_choices = {"barrier": ("common", "separate")}
    model_function = staticmethod(btk_two_gap_model_conductance)

    def _set_paramhints_prefix(self) -> None:
        super()._set_paramhints_prefix()
        if getattr(self, "opts", {}).get("barrier", "common") == "common":
            self.set_param_hint("z2", expr=f"{self.prefix}z")

    def guess(self, data: np.ndarray, x: np.ndarray, **overrides: Any) -> lmfit.Parameters:
        """Band 1 from the outer gap feature, band 2 from an inner peak (else delta/3)."""
        est = self._feature_guess(data, x)
        est.pop("_g0")
        inner = est.pop("_inner")
        est["delta2"] = inner if np.isfinite(inner) else est["delta"] / 3.0
        est["gamma2"] = 0.05 * est["delta2"]
        est["weight"] = 0.5
        if self.opts.get("barrier", "common") == "separate":
            est["z2"] = est["z"]
        return self._finish_guess(est, **overrides)


@register_model
class AndreevCollectiveModel(_AndreevBase):
    r"""Andreev conductance with a collective gap :math:`\Delta_{col}` inside the single-particle gap.

    **Phenomenological proposals (PM-1/2/3 of the fitkit physics note), not published models**;
    Dubouchet et al., Nat. Phys. 15, 233 (2019) report Andreev peaks at :math:`\pm\Delta_{col}` and
    give no fit model.  Option ``form``:

    * ``"pm2"`` (default): Andreev window :math:`\Delta_{col}` inside the single-particle gap
      :math:`\Delta`, one channel and one barrier ``z``;
    * ``"pm3"``: two-electron part with :math:`\Delta_{col}`, one-electron part with :math:`\Delta`;
    * ``"pm1"``: parallel channels :math:`(1-\alpha)N_D(\Delta,\Gamma) + \alpha\,G_{BTK}(\Delta_{col}, Z_A)`;
      here ``z`` is the Andreev-channel barrier :math:`Z_A` and ``alpha`` (0..1) the
      Andreev weight.  ``alpha`` is fixed (unused) for ``pm2``/``pm3`` and free for ``pm1``.

    Extra parameters: ``delta_col`` (meV), ``alpha`` (1).  ``pm2``/``pm3`` with
    ``delta_col = delta`` are exactly the ``btk`` model.
    """

    key = "andreev_collective"
    param_specs = (
        ParamSpec("delta", "meV", 0.6, min=0.0, description="single-particle gap Delta"),
        *_COMMON_SPECS[1:],
        ParamSpec("delta_col", "meV", 0.2, min=0.0, description="collective (Andreev-window) gap Delta_col"),
        ParamSpec("alpha", "1", 0.5, min=0.0, max=1.0, vary=False,
                  description="PM-1 Andreev-channel weight (unused by pm2/pm3)"),
    )
    option_choices = {"form": ("pm2", "pm1", "pm3")}
    model_function = staticmethod(andreev_collective_conductance)

    def _set_paramhints_prefix(self) -> None:
        super()._set_paramhints_prefix()
        if getattr(self, "opts", {}).get("form", "pm2") == "pm1":
            self.set_param_hint("alpha", vary=True)

    def guess(self, data: np.ndarray, x: np.ndarray, **overrides: Any) -> lmfit.Parameters:
        """``delta`` from the outer peaks, ``delta_col`` from the inner peak (else 0.4 delta)."""
        est = self._feature_guess(data, x)
        est.pop("_g0")
        inner = est.pop("_inner")
        est["delta_col"] = inner if np.isfinite(inner) else 0.4 * est["delta"]
        est["gamma"] = 0.02 * est["delta"]
        return self._finish_guess(est, **overrides)
