r"""Tunnel spectra in a field and with Coulomb blockade: ``nis_maki``, ``sis_maki``, ``nin_dcb``, ``nis_dcb``.

The models fit a differential conductance versus bias (``bias`` in V, SI) and return it in the unit of
the data through ``g_n`` (normal-state or tunnel conductance).  Bias is converted to meV,
:math:`eV = e(V - V_0)`, and the physics comes from :mod:`fitkit.physics.maki` (Abrikosov-Gor'kov /
Maki DOS with Zeeman splitting and spin-orbit mixing) and :mod:`fitkit.physics.dcb` (dynamical Coulomb
blockade of an ohmic environment, P(E) theory).

Model parameters
----------------
==================  ===============  ===========  ===========================================
symbol              name             unit         meaning
==================  ===============  ===========  ===========================================
:math:`\Delta`      ``delta``        meV          gap (sample)
:math:`\zeta`       ``zeta``         1            orbital (AG) depairing parameter
:math:`B`           ``field``        T            magnetic field (fixed: the measured value)
:math:`g`           ``g_factor``     1            g-factor of the Zeeman energy (fixed 2)
:math:`b_{so}`      ``b_so``         1            spin-orbit mixing hbar/(3 tau_so Delta)
:math:`\Gamma`      ``gamma``        meV          Dynes broadening (fixed 0 in the Maki models)
:math:`T`           ``temperature``  K            electron temperature (fixed by default)
:math:`G_N`         ``g_n``          data unit    normal-state / tunnel conductance
:math:`V_0`         ``bias_offset``  mV           bias offset
:math:`V_{rms}`     ``v_mod``        mV           lock-in modulation, rms (fixed 0)
:math:`R_{env}`     ``r_env``        ohm          ohmic environment resistance (DCB models)
:math:`E_c`         ``e_c``          meV          charging energy e^2/2C (DCB models)
==================  ===============  ===========  ===========================================

``field`` and ``g_factor`` enter only as the product :math:`h = (g/2)\mu_B B`; both are fixed by
default (in a field series the field is the series value).  ``b_so`` only matters when
:math:`h \ne 0`.  Zeeman splitting, orbital depairing, Dynes Gamma and T all broaden the gap edge; free at
most the ones the data can separate (a field series with fixed B separates zeta from h).
"""

from __future__ import annotations

from typing import Any

import lmfit
import numpy as np
from numpy.typing import ArrayLike, NDArray

from fitkit.models import DATA_UNIT, FitkitModel, ParamSpec, register_model
from fitkit.models.guesses import (
    finish_with_overrides,
    high_bias_level,
    override_value,
    symmetric_peak_positions,
)
from fitkit.physics.dcb import nis_dcb_conductance
from fitkit.physics.maki import maki_dos, nis_maki_conductance, sis_maki_conductance, zeeman_energy
from fitkit.units import MEV_PER_VOLT

__all__ = [
    "NINDCBModel",
    "NISDCBModel",
    "NISMakiModel",
    "SISMakiModel",
    "nin_dcb_model_conductance",
    "nis_dcb_model_conductance",
    "nis_maki_model_conductance",
    "sis_maki_model_conductance",
]

_MAKI_SPECS: tuple[ParamSpec, ...] = (
    ParamSpec("delta", "meV", 0.3, min=0.0, description="superconducting gap Delta (sample)"),
    ParamSpec("zeta", "1", 0.05, min=0.0, max=5.0, description="orbital (Abrikosov-Gor'kov) depairing zeta"),
    ParamSpec("field", "T", 0.0, vary=False, description="magnetic field B (Zeeman energy (g/2) mu_B B)"),
    ParamSpec("g_factor", "1", 2.0, min=0.0, max=50.0, vary=False, description="electron g-factor"),
    ParamSpec(
        "b_so",
        "1",
        0.0,
        min=0.0,
        max=50.0,
        vary=False,
        description="spin-orbit mixing b = hbar/(3 tau_so Delta)",
    ),
    ParamSpec("gamma", "meV", 0.0, min=0.0, vary=False, description="Dynes broadening Gamma (sample)"),
    ParamSpec("temperature", "K", 0.1, min=0.0, max=1e3, vary=False, description="electron temperature"),
    ParamSpec("g_n", DATA_UNIT, 1.0, min=0.0, description="normal-state conductance G_N (data unit)"),
    ParamSpec("bias_offset", "mV", 0.0, description="bias offset V_0 (eV = e(V - V_0))"),
    ParamSpec("v_mod", "mV", 0.0, min=0.0, vary=False, description="lock-in modulation amplitude, rms"),
)

_SIS_MAKI_SPECS: tuple[ParamSpec, ...] = _MAKI_SPECS + (
    ParamSpec("delta_tip", "meV", 0.19, min=0.0, vary=False, description="tip (counter-electrode) gap"),
    ParamSpec("gamma_tip", "meV", 0.001, min=0.0, vary=False, description="tip Dynes broadening"),
)

_DCB_SPECS: tuple[ParamSpec, ...] = (
    ParamSpec("r_env", "ohm", 1000.0, min=0.0, max=1e6, description="ohmic environment resistance R_env"),
    ParamSpec("e_c", "meV", 0.05, min=1e-6, max=1e3, description="charging energy E_c = e^2/2C"),
    ParamSpec("temperature", "K", 0.1, min=0.0, max=1e3, vary=False, description="electron temperature"),
    ParamSpec("g_n", DATA_UNIT, 1.0, min=0.0, description="tunnel conductance G_T = 1/R_T (data unit)"),
    ParamSpec("bias_offset", "mV", 0.0, description="bias offset V_0 (eV = e(V - V_0))"),
    ParamSpec("v_mod", "mV", 0.0, min=0.0, vary=False, description="lock-in modulation amplitude, rms"),
)

_NIS_DCB_SPECS: tuple[ParamSpec, ...] = (
    ParamSpec("delta", "meV", 0.3, min=0.0, description="superconducting gap Delta (sample)"),
    ParamSpec("gamma", "meV", 0.001, min=0.0, description="Dynes broadening Gamma (sample)"),
    *_DCB_SPECS,
)


def _mv(bias: ArrayLike, bias_offset: float) -> NDArray[np.float64]:
    return np.asarray(bias, dtype=float) * MEV_PER_VOLT - float(bias_offset)


def nis_maki_model_conductance(
    bias: ArrayLike,
    delta: float = 0.3,
    zeta: float = 0.05,
    field: float = 0.0,
    g_factor: float = 2.0,
    b_so: float = 0.0,
    gamma: float = 0.0,
    temperature: float = 0.1,
    g_n: float = 1.0,
    bias_offset: float = 0.0,
    v_mod: float = 0.0,
) -> NDArray[np.float64]:
    """Adapter of :class:`NISMakiModel`: bias [V] -> ``g_n * G/G_N`` (physics:
    :func:`fitkit.physics.maki.nis_maki_conductance`; parameters in the units of the module table)."""
    v = _mv(bias, bias_offset)
    return g_n * nis_maki_conductance(
        v,
        max(delta, 0.0),
        max(zeta, 0.0),
        field,
        max(g_factor, 0.0),
        max(b_so, 0.0),
        max(gamma, 0.0),
        max(temperature, 0.0),
        max(v_mod, 0.0),
    )


def sis_maki_model_conductance(
    bias: ArrayLike,
    delta: float = 0.3,
    zeta: float = 0.05,
    field: float = 0.0,
    g_factor: float = 2.0,
    b_so: float = 0.0,
    gamma: float = 0.0,
    temperature: float = 0.1,
    g_n: float = 1.0,
    bias_offset: float = 0.0,
    v_mod: float = 0.0,
    delta_tip: float = 0.19,
    gamma_tip: float = 0.001,
) -> NDArray[np.float64]:
    """Adapter of :class:`SISMakiModel` (physics: :func:`fitkit.physics.maki.sis_maki_conductance`)."""
    v = _mv(bias, bias_offset)
    return g_n * sis_maki_conductance(
        v,
        max(delta, 0.0),
        max(zeta, 0.0),
        field,
        max(g_factor, 0.0),
        max(b_so, 0.0),
        max(gamma, 0.0),
        max(delta_tip, 0.0),
        max(gamma_tip, 0.0),
        max(temperature, 0.0),
        max(v_mod, 0.0),
    )


def nin_dcb_model_conductance(
    bias: ArrayLike,
    r_env: float = 1000.0,
    e_c: float = 0.05,
    temperature: float = 0.1,
    g_n: float = 1.0,
    bias_offset: float = 0.0,
    v_mod: float = 0.0,
) -> NDArray[np.float64]:
    """Adapter of :class:`NINDCBModel` (physics: :func:`fitkit.physics.dcb.nin_dcb_conductance`)."""
    v = _mv(bias, bias_offset)
    return g_n * nis_dcb_conductance(
        v, 0.0, 0.0, max(r_env, 0.0), max(e_c, 1e-9), max(temperature, 0.0), max(v_mod, 0.0)
    )


def nis_dcb_model_conductance(
    bias: ArrayLike,
    delta: float = 0.3,
    gamma: float = 0.001,
    r_env: float = 1000.0,
    e_c: float = 0.05,
    temperature: float = 0.1,
    g_n: float = 1.0,
    bias_offset: float = 0.0,
    v_mod: float = 0.0,
) -> NDArray[np.float64]:
    """Adapter of :class:`NISDCBModel` (physics: :func:`fitkit.physics.dcb.nis_dcb_conductance`)."""
    v = _mv(bias, bias_offset)
    return g_n * nis_dcb_conductance(
        v,
        max(delta, 0.0),
        max(gamma, 0.0),
        max(r_env, 0.0),
        max(e_c, 1e-9),
        max(temperature, 0.0),
        max(v_mod, 0.0),
    )


class _FieldBase(FitkitModel):
    x_name = "bias"
    x_unit = "V"
    y_unit = DATA_UNIT

    def _set_paramhints_prefix(self) -> None:
        # lmfit strips the prefix from a hint name that starts with it, so with prefix "b_" the bare
        # name "b_so" would become a hint for "so"; passing the prefixed name avoids the ambiguity.
        for spec in getattr(self, "param_specs", ()):
            self.set_param_hint(
                f"{self.prefix or ''}{spec.name}",
                value=spec.value,
                min=spec.min,
                max=spec.max,
                vary=spec.vary,
            )

    def _peak_offset_level(self, data: ArrayLike, x: ArrayLike) -> tuple[float, float, float]:
        x_mv = np.asarray(x, dtype=float) * MEV_PER_VOLT
        peak, mid = symmetric_peak_positions(data, x_mv)
        return peak, mid, high_bias_level(data, x_mv)

    def _maki_guess(
        self, data: np.ndarray, x: np.ndarray, overrides: dict[str, Any], evaluate: Any, tip_gap: float
    ) -> dict[str, float]:
        """(Delta, zeta) by least squares over a zeta ladder, Delta from the peak for each zeta."""
        peak, mid, g_n = self._peak_offset_level(data, x)
        est: dict[str, float] = {"bias_offset": mid if np.isfinite(mid) else 0.0, "g_n": g_n}
        if not (np.isfinite(peak) and peak > tip_gap):
            est["delta"] = self.spec("delta").value
            est["zeta"] = self.spec("zeta").value
            return est
        peak -= tip_gap
        y = np.asarray(data, dtype=float)
        xv = np.asarray(x, dtype=float)
        ok = np.isfinite(xv) & np.isfinite(y)
        xv, y = xv[ok], y[ok]
        pars = {
            n: override_value(overrides, n, self.spec(n).value)
            for n in ("field", "g_factor", "b_so", "gamma", "temperature", "v_mod")
        }
        h = zeeman_energy(pars["field"], pars["g_factor"])
        off = override_value(overrides, "bias_offset", est["bias_offset"])
        best: tuple[float, dict[str, float]] | None = None
        zetas = (
            (override_value(overrides, "zeta", 0.05),)
            if "zeta" in overrides
            else (0.002, 0.01, 0.03, 0.06, 0.12, 0.25, 0.5)
        )
        e_unit = np.linspace(0.0, 3.0, 601)
        for zeta in zetas:
            # peak of the model DOS (T = 0, no h) in units of Delta; the data peak sits near it plus |h|
            dos = maki_dos(e_unit, 1.0, zeta, 0.0, 0.0, max(pars["gamma"], 0.0) / max(peak, 1e-9))
            ratio = float(e_unit[int(np.argmax(dos))]) if np.max(dos) > 1.0 else 1.0
            delta = override_value(overrides, "delta", max(peak - abs(h), 0.3 * peak) / max(ratio, 0.3))
            with np.errstate(all="ignore"):
                basis = evaluate(xv, delta, zeta, pars, off)
            bb = float(basis @ basis)
            if not (np.all(np.isfinite(basis)) and bb > 0):
                continue
            gn = override_value(overrides, "g_n", float(basis @ y) / bb)
            cost = float(np.sum((y - gn * basis) ** 2))
            if best is None or cost < best[0]:
                best = (cost, {"delta": delta, "zeta": zeta, "g_n": gn})
        if best is not None:
            est.update(best[1])
        else:
            est["delta"] = peak
            est["zeta"] = self.spec("zeta").value
        return est


@register_model
class NISMakiModel(_FieldBase):
    r"""N-I-S conductance with the Abrikosov-Gor'kov / Maki DOS (orbital depairing, Zeeman, spin-orbit).

    .. math::
        G(V) = G_N\,\Big[K_{lock} * \int dE\,[N_+(E) + N_-(E)]\,(-f'(E - eV))\Big](V - V_0)

    with :math:`u_\pm = (E \mp h + i\Gamma)/\Delta + \zeta u_\pm/\sqrt{1-u_\pm^2}`
    :math:`+ b(u_\mp-u_\pm)/\sqrt{1-u_\mp^2}`,
    :math:`N_\pm = \tfrac12\mathrm{Im}[u_\pm/\sqrt{1-u_\pm^2}]`, :math:`h = (g/2)\mu_B B`
    (:mod:`fitkit.physics.maki`).  Parameters: table of :mod:`fitkit.models.field`; ``field``,
    ``g_factor``, ``b_so``, ``gamma``, ``temperature`` and ``v_mod`` are fixed by default (set the measured
    B and T).  The guess takes ``g_n`` from the high-bias level, the offset from the peak midpoint and
    (Delta, zeta) from a least-squares scan over a zeta ladder (Delta from the peak position for each).

    References: K. Maki, Prog. Theor. Phys. 32, 29 (1964); R. Meservey and P. M. Tedrow, Phys. Rep. 238,
    173 (1994); Abrikosov and Gor'kov, Sov. Phys. JETP 12, 1243 (1961).
    """

    key = "nis_maki"
    param_specs = _MAKI_SPECS
    model_function = staticmethod(nis_maki_model_conductance)

    def guess(self, data: np.ndarray, x: np.ndarray, **overrides: Any) -> lmfit.Parameters:
        """Start values (class docstring); overrides (``name=value`` or dicts) are applied last."""

        def evaluate(xv: NDArray, delta: float, zeta: float, p: dict[str, float], off: float) -> NDArray:
            return nis_maki_model_conductance(
                xv,
                delta,
                zeta,
                p["field"],
                p["g_factor"],
                p["b_so"],
                p["gamma"],
                p["temperature"],
                1.0,
                off,
                p["v_mod"],
            )

        est = self._maki_guess(
            np.asarray(data, dtype=float), np.asarray(x, dtype=float), overrides, evaluate, 0.0
        )
        return finish_with_overrides(self, est, overrides)


@register_model
class SISMakiModel(_FieldBase):
    r"""S-I-S conductance: Maki-DOS sample (depairing, Zeeman, spin-orbit) and a BCS/Dynes tip.

    .. math::
        G(V) = G_N\,\Big[K_{lock} * \frac{d}{dV}\int dE\,N_{Maki}(E)\,N_D(E - eV;\Delta_T,\Gamma_T)
        [f(E - eV) - f(E)]\Big](V - V_0)

    As ``sis`` with the sample DOS of ``nis_maki`` (:func:`fitkit.physics.maki.sis_maki_conductance`);
    ``delta_tip`` and ``gamma_tip`` fixed by default (0.19 meV: Al).  The tip's own Zeeman splitting is
    not included (a tip with a critical field far above B).  Guess: as ``nis_maki`` with the peak
    position reduced by ``delta_tip``.
    """

    key = "sis_maki"
    param_specs = _SIS_MAKI_SPECS
    model_function = staticmethod(sis_maki_model_conductance)

    def guess(self, data: np.ndarray, x: np.ndarray, **overrides: Any) -> lmfit.Parameters:
        """Start values (class docstring); overrides are applied last."""
        d_tip = override_value(overrides, "delta_tip", self.spec("delta_tip").value)
        g_tip = override_value(overrides, "gamma_tip", self.spec("gamma_tip").value)

        def evaluate(xv: NDArray, delta: float, zeta: float, p: dict[str, float], off: float) -> NDArray:
            return sis_maki_model_conductance(
                xv,
                delta,
                zeta,
                p["field"],
                p["g_factor"],
                p["b_so"],
                p["gamma"],
                p["temperature"],
                1.0,
                off,
                p["v_mod"],
                d_tip,
                g_tip,
            )

        est = self._maki_guess(
            np.asarray(data, dtype=float), np.asarray(x, dtype=float), overrides, evaluate, d_tip
        )
        est["delta_tip"] = d_tip
        return finish_with_overrides(self, est, overrides)


class _DCBBase(_FieldBase):
    report_notes = (
        "Dynamical Coulomb blockade by one ohmic R_env (P(E) theory, Ingold-Nazarov) with an exponential "
        "high-frequency cutoff hbar*omega_c = (R_K/2R_env) E_c in place of the RC Lorentzian: exact "
        "low-energy power law G ~ V^(2R_env/R_K), <E> = E_c and the high-T dip E_c/3k_BT; the shape at "
        "E ~ E_c is approximate.  In disordered films the zero-bias anomaly also contains the "
        "Altshuler-Aronov DOS depletion: a fitted R_env is phenomenological.",
    )

    def _zba_guess(
        self, data: np.ndarray, x: np.ndarray, overrides: dict[str, Any], evaluate: Any
    ) -> dict[str, float]:
        """(R_env, E_c) by least squares on a small grid; G_T from the high-bias level (solved linearly)."""
        x_mv = np.asarray(x, dtype=float) * MEV_PER_VOLT
        y = np.asarray(data, dtype=float)
        ok = np.isfinite(x_mv) & np.isfinite(y)
        x_mv, y = x_mv[ok], y[ok]
        est: dict[str, float] = {"g_n": high_bias_level(y, x_mv), "bias_offset": 0.0}
        if x_mv.size < 8:
            return est
        span = float(np.max(np.abs(x_mv))) if x_mv.size else 1.0
        temp = override_value(overrides, "temperature", self.spec("temperature").value)
        v_mod = override_value(overrides, "v_mod", self.spec("v_mod").value)
        off = override_value(overrides, "bias_offset", 0.0)
        best: tuple[float, dict[str, float]] | None = None
        r_list = (
            (override_value(overrides, "r_env", 1000.0),)
            if "r_env" in overrides
            else (300.0, 1000.0, 3000.0, 10000.0)
        )
        ec_list = (
            (override_value(overrides, "e_c", 0.05),)
            if "e_c" in overrides
            else tuple(span * f for f in (0.01, 0.03, 0.1, 0.3))
        )
        for r in r_list:
            for ec in ec_list:
                with np.errstate(all="ignore"):
                    basis = evaluate(x_mv / MEV_PER_VOLT, r, ec, temp, off, v_mod)
                bb = float(basis @ basis)
                if not (np.all(np.isfinite(basis)) and bb > 0):
                    continue
                gn = override_value(overrides, "g_n", float(basis @ y) / bb)
                cost = float(np.sum((y - gn * basis) ** 2))
                if best is None or cost < best[0]:
                    best = (cost, {"r_env": r, "e_c": ec, "g_n": gn})
        if best is not None:
            est.update(best[1])
        return est


@register_model
class NINDCBModel(_DCBBase):
    r"""N-I-N tunnel conductance with dynamical Coulomb blockade by an ohmic environment (P(E) theory).

    .. math::
        G(V) = G_T\,\Big[K_{lock} * \int dE\,\nu(E)\,(-f'(E - eV))\Big](V - V_0),\quad
        \nu(E) = \int d\varepsilon\,\{[1-f(\varepsilon)]P(E-\varepsilon) + f(\varepsilon)P(\varepsilon-E)\}

    :math:`P(E)` of an ohmic :math:`R_{env}` with charging energy :math:`E_c` (:mod:`fitkit.physics.dcb`;
    exponential-cutoff approximation of the RC environment, see ``report_notes``).  Zero-bias dip
    :math:`\propto V^{2R_{env}/R_K}` at T = 0, depth :math:`E_c/3k_BT` at high T.  Guess: a 4x4 grid of
    (R_env, E_c) with G_T solved linearly.

    References: Ingold and Nazarov, in *Single Charge Tunneling* (1992), arXiv:cond-mat/0508728; Devoret
    et al., Phys. Rev. Lett. 64, 1824 (1990); Joyez and Esteve, Phys. Rev. B 56, 1848 (1997).
    """

    key = "nin_dcb"
    param_specs = _DCB_SPECS
    model_function = staticmethod(nin_dcb_model_conductance)

    def guess(self, data: np.ndarray, x: np.ndarray, **overrides: Any) -> lmfit.Parameters:
        """Start values (class docstring); overrides are applied last."""

        def evaluate(xv: NDArray, r: float, ec: float, t: float, off: float, vm: float) -> NDArray:
            return nin_dcb_model_conductance(xv, r, ec, t, 1.0, off, vm)

        est = self._zba_guess(np.asarray(data, dtype=float), np.asarray(x, dtype=float), overrides, evaluate)
        return finish_with_overrides(self, est, overrides)


@register_model
class NISDCBModel(_DCBBase):
    r"""N-I-S tunnel conductance (Dynes DOS) with dynamical Coulomb blockade by an ohmic environment.

    .. math::
        G(V) = G_T\,\Big[K_{lock} * \int dE\,\nu(E)\,(-f'(E - eV))\Big](V - V_0),\quad
        \nu(E) = \int d\varepsilon\,N_D(\varepsilon)\{[1-f]P(E-\varepsilon) + fP(\varepsilon-E)\}

    (:func:`fitkit.physics.dcb.nis_dcb_conductance`; the effective-DOS form is exact for a P(E) with
    detailed balance).  Parameters: table of :mod:`fitkit.models.field`.  Guess: Delta from the peak
    position, then (R_env, E_c) as in ``nin_dcb``.
    """

    key = "nis_dcb"
    param_specs = _NIS_DCB_SPECS
    model_function = staticmethod(nis_dcb_model_conductance)

    def guess(self, data: np.ndarray, x: np.ndarray, **overrides: Any) -> lmfit.Parameters:
        """Start values (class docstring); overrides are applied last."""
        peak, mid, _ = self._peak_offset_level(data, x)
        delta = override_value(
            overrides, "delta", peak if np.isfinite(peak) and peak > 0 else self.spec("delta").value
        )
        gamma = override_value(overrides, "gamma", 0.01 * delta)

        def evaluate(xv: NDArray, r: float, ec: float, t: float, off: float, vm: float) -> NDArray:
            return nis_dcb_model_conductance(xv, delta, gamma, r, ec, t, 1.0, off, vm)

        ov = dict(overrides)
        ov.setdefault("bias_offset", mid if np.isfinite(mid) else 0.0)
        est = self._zba_guess(np.asarray(data, dtype=float), np.asarray(x, dtype=float), ov, evaluate)
        est.update({"delta": delta, "gamma": gamma, "bias_offset": override_value(ov, "bias_offset", 0.0)})
        return finish_with_overrides(self, est, overrides)
