r"""Plasmon-broadened S-I-S tunnel conductance of ultrathin wires (model ``sis_plasmon``).

A superconducting wire whose quasiparticle DOS is dressed by its Mooij-Schön plasmons
(reconstructed Radkevich-Semenov-Zaikin theory, :mod:`fitkit.physics.plasmon`) tunnels into a
BCS/Dynes counter-electrode (Al in Arutyunov et al. 2021).  The model fits a differential
conductance versus bias (``bias`` in V, SI) in the unit of the data through ``g_n``:

.. math::
    G(V) = G_N\, g_{\rm pl}\big(e(V - V_0);\,\Delta, g_Z, \hbar\omega_c, T, \Delta_T, \Gamma_T, \Gamma,
    V_{rms}\big)\,\big(1 + s\,(V - V_0)\big).

Model parameters
----------------
=======================  ===============  =========  ===============================================
symbol                   name             unit       meaning (default vary)
=======================  ===============  =========  ===============================================
:math:`\Delta`           ``delta``        meV        wire gap (free)
:math:`g_Z`              ``g_z``          1          wire admittance R_K/Z (free; 0.2-50)
:math:`\hbar\omega_c`    ``cutoff``       meV        plasmon cutoff (fixed 0.045, free on request)
:math:`T`                ``temperature``  K          electron temperature (fixed 0.021)
:math:`G_N`              ``g_n``          data unit  normal-state conductance (free)
:math:`V_0`              ``bias_offset``  mV         bias offset (free)
:math:`\Delta_T`         ``delta_tip``    meV        electrode gap, Al 0.19 (fixed)
:math:`\Gamma_T`         ``gamma_tip``    meV        electrode Dynes broadening (fixed 0.001)
:math:`\Gamma`           ``gamma``        meV        Dynes broadening of the bare wire DOS (fixed 0)
:math:`V_{rms}`          ``v_mod``        mV         lock-in modulation, rms (fixed 0)
:math:`s`                ``bg_slope``     1/mV       linear background slope (fixed 0)
=======================  ===============  =========  ===============================================

Limits and bounds.  For :math:`1/g_Z \to 0` the model is the ``sis`` model with the same
parameters (``gamma`` = sample Dynes broadening): at ``g_z = inf`` exactly, and within ~1e-7 at
``g_z = 1e9``, with ``resolution="reference"``.  The fit bound is :math:`g_Z \le 50`: beyond it the
plasmon broadening :math:`\hbar\omega_c/g_Z` is below ~1 ueV (the sis regime) and the time span of
P(E) grows as :math:`g_Z/k_BT` (cost ~0.1 s per evaluation at 21 mK).  Temperature is fixed by
default because at :math:`g_Z \sim 1-3` the plasmon broadening dominates :math:`k_BT` and the two
are nearly degenerate; the cutoff is fixed because the theory's cutoff is unconfirmed and it is
strongly correlated with :math:`g_Z` (fitted :math:`g_Z` depend on it: quote it with every result).

References: Radkevich, Semenov and Zaikin, Phys. Rev. B 96, 085435 (2017); Arutyunov et al.,
Commun. Phys. 4, 146 (2021); Ingold and Nazarov, arXiv:cond-mat/0508728 (1992).
"""

from __future__ import annotations

from typing import Any, Literal

import lmfit
import numpy as np
from numpy.typing import ArrayLike, NDArray

from fitkit.models import DATA_UNIT, FitkitModel, ParamSpec, register_model
from fitkit.models.guesses import high_bias_level, override_value, symmetric_peak_positions
from fitkit.physics.plasmon import sis_plasmon_conductance
from fitkit.units import MEV_PER_VOLT

__all__ = ["G_Z_FIT_MAX", "SISPlasmonModel", "sis_plasmon_model_conductance"]

G_Z_FIT_MAX: float = 50.0
"""Upper fit bound of ``g_z`` (see the module docstring)."""

_DEFAULTS = {"delta_tip": 0.19, "cutoff": 0.045, "temperature": 0.021, "gamma_tip": 0.001, "gamma": 0.0,
             "v_mod": 0.0}

_SPECS: tuple[ParamSpec, ...] = (
    ParamSpec("delta", "meV", 0.045, min=0.0, max=10.0, description="wire gap Delta"),
    ParamSpec("g_z", "1", 2.0, min=0.2, max=G_Z_FIT_MAX,
              description="wire admittance g_Z = R_K/Z (plasmon coupling 1/g_Z)"),
    ParamSpec("cutoff", "meV", _DEFAULTS["cutoff"], min=1e-3, max=10.0, vary=False,
              description="plasmon cutoff hbar*omega_c (reconstruction parameter; fixed by default)"),
    ParamSpec("temperature", "K", _DEFAULTS["temperature"], min=0.0, max=10.0, vary=False,
              description="electron temperature (fixed by default)"),
    ParamSpec("g_n", DATA_UNIT, 1.0, min=0.0, description="normal-state conductance G_N (data unit)"),
    ParamSpec("bias_offset", "mV", 0.0, description="bias offset V_0 (eV = e(V - V_0))"),
    ParamSpec("delta_tip", "meV", _DEFAULTS["delta_tip"], min=0.0, vary=False,
              description="counter-electrode gap (Al: 0.19 meV)"),
    ParamSpec("gamma_tip", "meV", _DEFAULTS["gamma_tip"], min=0.0, vary=False,
              description="counter-electrode Dynes broadening"),
    ParamSpec("gamma", "meV", _DEFAULTS["gamma"], min=0.0, vary=False,
              description="Dynes broadening of the bare wire DOS"),
    ParamSpec("v_mod", "mV", _DEFAULTS["v_mod"], min=0.0, vary=False, description="lock-in modulation, rms"),
    ParamSpec("bg_slope", "per_mV", 0.0, vary=False, description="linear background slope s (per mV)"),
)


def sis_plasmon_model_conductance(
    bias: ArrayLike,
    delta: float = 0.045,
    g_z: float = 2.0,
    cutoff: float = 0.045,
    temperature: float = 0.021,
    g_n: float = 1.0,
    bias_offset: float = 0.0,
    delta_tip: float = 0.19,
    gamma_tip: float = 0.001,
    gamma: float = 0.0,
    v_mod: float = 0.0,
    bg_slope: float = 0.0,
    resolution: Literal["fast", "reference"] = "fast",
) -> NDArray[np.float64]:
    r"""Plasmon-broadened S-I-S conductance :math:`G_N g_{pl}(e(V-V_0))(1 + s(V-V_0))` in the data unit.

    Parameters
    ----------
    bias
        Bias V, **V** (SI).
    delta
        Wire gap, meV.
    g_z
        Wire admittance :math:`g_Z = R_K/Z` (dimensionless, > 0; ``inf`` allowed).
    cutoff
        Plasmon cutoff :math:`\hbar\omega_c`, meV.
    temperature
        Temperature, K.
    g_n
        Normal-state conductance, data unit.
    bias_offset
        Offset V_0, mV.
    delta_tip, gamma_tip
        Counter-electrode gap and Dynes broadening, meV.
    gamma
        Dynes broadening of the bare wire DOS, meV.
    v_mod
        Lock-in modulation, mV rms.
    bg_slope
        Background slope, 1/mV.
    resolution
        ``"fast"`` (default, ~1e-4 relative) or ``"reference"`` (the grid of the ``sis`` model).

    Returns
    -------
    numpy.ndarray
        Conductance in the data unit, shape of ``bias``.
    """
    v_mv = np.asarray(bias, dtype=float) * MEV_PER_VOLT - bias_offset
    g = sis_plasmon_conductance(v_mv, max(delta, 0.0), g_z if g_z > 0 else np.inf, max(cutoff, 1e-6),
                                max(temperature, 0.0), max(delta_tip, 0.0), max(gamma_tip, 0.0),
                                max(gamma, 0.0), max(v_mod, 0.0), resolution=resolution)
    return g_n * g * (1.0 + bg_slope * v_mv)


@register_model
class SISPlasmonModel(FitkitModel):
    r"""S-I-S conductance of a plasmon-dressed superconducting wire against a BCS/Dynes electrode.

    .. math:: G(V) = G_N\Big[K_{lock} * \frac{d}{dV}\int dE\,\nu(E)\nu_T(E-eV)[f(E-eV)-f(E)]\Big](V-V_0)
              \,(1+s(V-V_0)),

    with :math:`\nu` the wire DOS dressed by an ohmic plasmon environment
    :math:`\mathrm{Re}Z_{env}/R_K = e^{-\omega/\omega_c}/(2g_Z)` (reconstructed model, physics note
    ``transport.md`` section 3.2; see :mod:`fitkit.physics.plasmon` for what is confirmed, derived
    and unconfirmed).  Parameters, units and bounds: table of :mod:`fitkit.models.plasmon`.

    The guess takes Delta = (peak position) - Delta_T (Delta_T from the overrides or 0.19 meV) and
    g_Z from the peak height over the high-bias level, matched to the model's own peak heights at
    g_Z = 0.7 ... 40 (monotonic), then G_N from the high-bias level.

    References: Radkevich, Semenov and Zaikin, Phys. Rev. B 96, 085435 (2017); Arutyunov et al.,
    Commun. Phys. 4, 146 (2021); Ingold and Nazarov, arXiv:cond-mat/0508728 (1992).
    """

    key = "sis_plasmon"
    x_name = "bias"
    x_unit = "V"
    y_unit = DATA_UNIT
    param_specs = _SPECS
    option_choices = {"resolution": ("fast", "reference")}
    report_notes = (
        "Reconstructed model: P(E) of an ohmic plasmon environment Z/2 with an exponential cutoff; the "
        "exponent 1/g_Z follows from the seed paper's normalisation, the cutoff shape is an assumption.",
        "g_Z is strongly correlated with the cutoff hbar*omega_c: quote the cutoff with every g_Z.",
    )
    model_function = staticmethod(sis_plasmon_model_conductance)

    def guess(self, data: np.ndarray, x: np.ndarray, **overrides: Any) -> lmfit.Parameters:
        """Estimate start values from the data; overrides (``name=value``) are applied last.

        Parameters
        ----------
        data
            Conductance (data unit).
        x
            Bias, V.
        **overrides
            ``name=value`` applied last; the fixed parameters (``delta_tip``, ``cutoff``,
            ``temperature``, ``gamma_tip``, ``gamma``, ``v_mod``) are also used by the estimate.

        Returns
        -------
        lmfit.Parameters
        """
        y = np.asarray(data, dtype=float)
        x_mv = np.asarray(x, dtype=float) * MEV_PER_VOLT
        peak, mid = symmetric_peak_positions(y, x_mv)
        level = high_bias_level(y, x_mv)
        fixed = {k: override_value(overrides, k, v) for k, v in _DEFAULTS.items()}
        est: dict[str, float] = {"bias_offset": mid if np.isfinite(mid) else 0.0}
        delta = peak - fixed["delta_tip"] if np.isfinite(peak) else self.spec("delta").value
        if not delta > 0:
            delta = 0.25 * peak if np.isfinite(peak) and peak > 0 else self.spec("delta").value
        est["delta"] = delta
        g_z = self.spec("g_z").value
        v_rel = x_mv - est["bias_offset"]
        outer = np.abs(v_rel) >= np.quantile(np.abs(v_rel), 0.85) if v_rel.size else v_rel > 0
        if np.isfinite(peak) and np.isfinite(level) and level > 0 and np.any(outer):
            # model peak heights (relative to the same outer-bias level) on a g_Z ladder
            ladder = np.array([0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 40.0])
            vv = np.concatenate([peak + np.linspace(-0.02, 0.02, 41), np.abs(v_rel[outer])])
            ratios = []
            for g in ladder:
                c = sis_plasmon_conductance(vv, delta, g, fixed["cutoff"], fixed["temperature"],
                                            fixed["delta_tip"], fixed["gamma_tip"], fixed["gamma"],
                                            fixed["v_mod"], resolution="fast")
                ratios.append(c[:41].max() / np.median(c[41:]))
            y_peak = np.max(y[np.abs(np.abs(v_rel) - peak) <= 0.02 + 1e-12]) if np.any(
                np.abs(np.abs(v_rel) - peak) <= 0.02 + 1e-12) else np.max(y)
            r_data = y_peak / level
            r = np.log(np.maximum(np.asarray(ratios), 1e-9))
            g_z = float(np.exp(np.interp(np.log(max(r_data, 1e-9)), r, np.log(ladder))))
            c = sis_plasmon_conductance(np.abs(v_rel[outer]), delta, g_z, fixed["cutoff"],
                                        fixed["temperature"], fixed["delta_tip"], fixed["gamma_tip"],
                                        fixed["gamma"], fixed["v_mod"], resolution="fast")
            est["g_n"] = float(level / np.median(c))
        elif np.isfinite(level):
            est["g_n"] = level
        est["g_z"] = g_z
        return self._finish_guess(est, **overrides)
