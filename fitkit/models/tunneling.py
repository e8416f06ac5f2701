r"""Tunnel-spectroscopy models: N-I-S (``nis``) and S-I-S (``sis``) with Dynes DOS.

The models fit a differential conductance versus bias (``bias`` in V, SI) and return it in
the unit of the data through ``g_n`` (fit ``dIdV_norm`` with ``g_n ~ 1`` or ``dIdV_S`` with
``g_n`` in S).  The model functions convert bias to meV, :math:`eV = e(V - V_0)` with the
offset :math:`V_0`, and call :mod:`fitkit.physics.tunneling`.  An optional linear background
multiplies the normalised conductance: :math:`G = G_N\,g(eV)\,(1 + s\,(V - V_0))`.

Model parameters
----------------
==================  ===============  ===========  ===========================================
symbol              name             unit         meaning
==================  ===============  ===========  ===========================================
:math:`\Delta`      ``delta``        meV          sample gap
:math:`\Gamma`      ``gamma``        meV          sample Dynes broadening
:math:`T`           ``temperature``  K            electron temperature (free by default)
:math:`G_N`         ``g_n``          data unit    normal-state conductance
:math:`V_0`         ``bias_offset``  mV           bias offset
:math:`V_{rms}`     ``v_mod``        mV           lock-in modulation, rms (fixed 0)
:math:`s`           ``bg_slope``     1/mV         linear background slope (fixed 0)
:math:`\Delta_T`    ``delta_tip``    meV          tip gap (``sis`` only)
:math:`\Gamma_T`    ``gamma_tip``    meV          tip Dynes broadening (``sis`` only)
==================  ===============  ===========  ===========================================

T, Gamma and V_rms broaden the spectrum in similar ways; fit at most one or two of them free
(see :func:`fitkit.analysis.gap_temperature.broadening_degeneracy_warning`).
"""

from __future__ import annotations

from typing import Any

import lmfit
import numpy as np
from numpy.typing import ArrayLike, NDArray

from fitkit.constants import K_B_MEV_PER_K
from fitkit.models import DATA_UNIT, FitkitModel, ParamSpec, register_model
from fitkit.models.guesses import high_bias_level, override_value, symmetric_peak_positions
from fitkit.physics.tunneling import nis_conductance, sis_conductance
from fitkit.units import MEV_PER_VOLT

__all__ = ["NISModel", "SISModel", "nis_model_conductance", "sis_model_conductance"]

_NIS_SPECS: tuple[ParamSpec, ...] = (
    ParamSpec("delta", "meV", 0.5, min=0.0, description="superconducting gap Delta (sample)"),
    ParamSpec("gamma", "meV", 0.01, min=0.0, description="Dynes broadening Gamma (sample)"),
    ParamSpec("temperature", "K", 0.1, min=0.0, max=1e3, description="electron temperature"),
    ParamSpec("g_n", DATA_UNIT, 1.0, min=0.0, description="normal-state conductance G_N (data unit)"),
    ParamSpec("bias_offset", "mV", 0.0, description="bias offset V_0 (eV = e(V - V_0))"),
    ParamSpec("v_mod", "mV", 0.0, min=0.0, vary=False, description="lock-in modulation amplitude, rms"),
    ParamSpec("bg_slope", "per_mV", 0.0, vary=False, description="linear background slope s (per mV)"),
)

_SIS_SPECS: tuple[ParamSpec, ...] = _NIS_SPECS + (
    ParamSpec("delta_tip", "meV", 0.19, min=0.0, vary=False, description="tip (counter-electrode) gap"),
    ParamSpec("gamma_tip", "meV", 0.001, min=0.0, vary=False, description="tip Dynes broadening"),
)

_DEFAULT_DELTA_TIP = 0.19


def nis_model_conductance(
    bias: ArrayLike,
    delta: float = 0.5,
    gamma: float = 0.01,
    temperature: float = 0.1,
    g_n: float = 1.0,
    bias_offset: float = 0.0,
    v_mod: float = 0.0,
    bg_slope: float = 0.0,
) -> NDArray[np.float64]:
    r"""N-I-S conductance :math:`G_N\,g_{NIS}(e(V-V_0))\,(1 + s(V-V_0))` in the data unit.

    Parameters
    ----------
    bias
        Bias V, **V** (SI).
    delta, gamma
        Gap and Dynes broadening, meV.
    temperature
        Temperature, K.
    g_n
        Normal-state conductance, data unit.
    bias_offset
        Offset V_0, mV.
    v_mod
        Lock-in modulation, mV rms.
    bg_slope
        Background slope, 1/mV.

    Returns
    -------
    numpy.ndarray
        Conductance in the data unit, shape of ``bias`` (scalar in, 0-d array out).
    """
    v_mv = np.asarray(bias, dtype=float) * MEV_PER_VOLT - bias_offset
    g = nis_conductance(v_mv, max(delta, 0.0), max(gamma, 0.0), max(temperature, 0.0), max(v_mod, 0.0))
    return g_n * g * (1.0 + bg_slope * v_mv)


def sis_model_conductance(
    bias: ArrayLike,
    delta: float = 0.05,
    gamma: float = 0.001,
    temperature: float = 0.1,
    g_n: float = 1.0,
    bias_offset: float = 0.0,
    v_mod: float = 0.0,
    bg_slope: float = 0.0,
    delta_tip: float = 0.19,
    gamma_tip: float = 0.001,
) -> NDArray[np.float64]:
    r"""S-I-S conductance :math:`G_N\,g_{SIS}(e(V-V_0))\,(1 + s(V-V_0))` in the data unit.

    Parameters
    ----------
    bias
        Bias V, **V** (SI).
    delta, gamma
        Sample gap and broadening, meV.
    temperature
        Temperature, K.
    g_n
        Normal-state conductance, data unit.
    bias_offset
        Offset V_0, mV.
    v_mod
        Lock-in modulation, mV rms.
    bg_slope
        Background slope, 1/mV.
    delta_tip, gamma_tip
        Tip gap and broadening, meV.

    Returns
    -------
    numpy.ndarray
        Conductance in the data unit, shape of ``bias``.
    """
    v_mv = np.asarray(bias, dtype=float) * MEV_PER_VOLT - bias_offset
    g = sis_conductance(v_mv, max(delta, 0.0), max(gamma, 0.0), max(delta_tip, 0.0), max(gamma_tip, 0.0),
                        max(temperature, 0.0), max(v_mod, 0.0))
    return g_n * g * (1.0 + bg_slope * v_mv)


class _TunnelBase(FitkitModel):
    x_name = "bias"
    x_unit = "V"
    y_unit = DATA_UNIT

    def _common_guess(self, data: ArrayLike, x: ArrayLike) -> dict[str, float]:
        x_mv = np.asarray(x, dtype=float) * MEV_PER_VOLT
        peak, mid = symmetric_peak_positions(data, x_mv)
        g_n = high_bias_level(data, x_mv)
        return {"peak": peak, "bias_offset": mid, "g_n": g_n}


@register_model
class NISModel(_TunnelBase):
    r"""N-I-S tunnel conductance with a Dynes DOS, thermal and lock-in smearing.

    .. math:: G(V) = G_N\,[K_{lock} * \int dE\,N_D(E;\Delta,\Gamma)\,(-f'(E - eV))](V - V_0)\,(1 + s(V-V_0))

    Parameters: table of :mod:`fitkit.models.tunneling`.  The guess takes ``g_n`` from the
    high-bias level, the offset from the midpoint of the two coherence peaks, and (Delta, Gamma, T)
    from the symmetrised peak position and a least-squares scan over ~12 broadening candidates
    (overrides of ``gamma``/``temperature`` are respected).

    References: Dynes, Narayanamurti & Garno, Phys. Rev. Lett. 41, 1509 (1978); Tinkham,
    *Introduction to Superconductivity* (1996), sec. 3.5.
    """

    key = "nis"
    param_specs = _NIS_SPECS
    model_function = staticmethod(nis_model_conductance)

    def guess(self, data: np.ndarray, x: np.ndarray, **overrides: Any) -> lmfit.Parameters:
        """Estimate start values from the data; overrides (``name=value``) are applied last.

        Parameters
        ----------
        data
            Conductance (data unit).
        x
            Bias, V.
        **overrides
            ``name=value`` applied last.

        Returns
        -------
        lmfit.Parameters
        """
        est = self._common_guess(data, x)
        peak = est.pop("peak")
        if not np.isfinite(peak) or peak <= 0:
            est["delta"] = self.spec("delta").value
            est["gamma"] = self.spec("gamma").value
            return self._finish_guess(est, **overrides)
        est.update(self._broadening_scan(np.asarray(data, dtype=float), np.asarray(x, dtype=float), peak,
                                         est, overrides))
        return self._finish_guess(est, **overrides)

    def _broadening_scan(self, y: np.ndarray, x: np.ndarray, peak: float, est: dict[str, float],
                         overrides: dict[str, Any]) -> dict[str, float]:
        """Pick (Gamma, T) from a few model evaluations: a joint width scan, then a split scan.

        Gamma, k_B T and V_rms all broaden the peaks; a bad start (e.g. T far too low) sends
        the optimiser through very fine, slow grids, so the start is chosen by least squares
        over ~11 candidates.  Delta = peak - Gamma/sqrt(3) - 0.9 k_B T for each candidate.
        """
        fixed_t = "temperature" in overrides
        fixed_g = "gamma" in overrides
        t_over = override_value(overrides, "temperature", 0.0)
        g_over = override_value(overrides, "gamma", 0.0)
        v_mod = override_value(overrides, "v_mod", 0.0)
        g_n = override_value(overrides, "g_n", est["g_n"])
        off = override_value(overrides, "bias_offset", est["bias_offset"])

        def trial(gamma: float, kt: float) -> tuple[float, dict[str, float]]:
            gamma = g_over if fixed_g else gamma
            t = t_over if fixed_t else kt / K_B_MEV_PER_K
            delta = max(peak - gamma / np.sqrt(3.0) - 0.9 * K_B_MEV_PER_K * t, 0.3 * peak)
            model = nis_model_conductance(x, delta, gamma, t, g_n, off, v_mod)
            return float(np.sum((y - model) ** 2)), {"delta": delta, "gamma": gamma, "temperature": t}

        widths = peak * np.geomspace(0.004, 0.3, 7)
        best = min((trial(w, w) for w in widths), key=lambda r: r[0])
        w = max(best[1]["gamma"] if not fixed_g else K_B_MEV_PER_K * best[1]["temperature"], 1e-6)
        ratios = ((1.0, 0.25), (0.25, 1.0), (0.5, 0.5), (1.0, 0.5), (0.5, 1.0))
        splits = [trial(w * a, w * b) for a, b in ratios]
        best = min([best, *splits], key=lambda r: r[0])
        return best[1]


@register_model
class SISModel(_TunnelBase):
    r"""S-I-S tunnel conductance (sample and tip Dynes DOS), thermal and lock-in smearing.

    .. math::
        G(V) = G_N\,\Big[K_{lock} * \frac{d}{dV}\int dE\,N_S(E)N_T(E-eV)[f(E-eV)-f(E)]\Big](V-V_0)
               \,(1+s(V-V_0))

    Parameters: table of :mod:`fitkit.models.tunneling` plus ``delta_tip`` and ``gamma_tip``
    (fixed by default: usually known from the counter-electrode, e.g. Al, 0.19 meV).  The guess
    sets Delta = (peak position) - Delta_tip, using ``delta_tip`` from the overrides or the
    default 0.19 meV.

    References: Tinkham, *Introduction to Superconductivity* (1996), sec. 3.5; Arutyunov et
    al., Commun. Phys. 4, 146 (2021) (Ti-Al S-I-S).
    """

    key = "sis"
    param_specs = _SIS_SPECS
    model_function = staticmethod(sis_model_conductance)

    def guess(self, data: np.ndarray, x: np.ndarray, **overrides: Any) -> lmfit.Parameters:
        """Estimate start values from the data; overrides (``name=value``) are applied last.

        Parameters
        ----------
        data
            Conductance (data unit).
        x
            Bias, V.
        **overrides
            ``name=value`` applied last (``delta_tip`` is used to split the sum-gap peak).

        Returns
        -------
        lmfit.Parameters
        """
        est = self._common_guess(data, x)
        peak = est.pop("peak")
        d_tip = override_value(overrides, "delta_tip", _DEFAULT_DELTA_TIP)
        delta = peak - d_tip if np.isfinite(peak) else self.spec("delta").value
        if not delta > 0:
            delta = 0.25 * peak if np.isfinite(peak) and peak > 0 else self.spec("delta").value
        est["delta"] = delta
        est["gamma"] = 0.02 * delta
        est["delta_tip"] = d_tip
        return self._finish_guess(est, **overrides)
