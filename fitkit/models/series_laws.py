r"""Series-level laws: one value per sample (a gap, a :math:`T_c`) against a series variable.

These models are fitted across the results of other fits (one point per spectrum or per film), through
the same fitter as every curve (:func:`fitkit.fitting.fit_curve`), so they get units, bounds, warnings
and verdicts like any other model.  The pure analysis functions that build the series and call the
fitter are :func:`fitkit.analysis.gap_temperature.fit_bcs_gap_law`,
:func:`fitkit.analysis.andreev_series.fit_delta_col_law` and
:func:`fitkit.analysis.finkelstein.fit_finkelstein_law`.

=========================  ====================  ==================================  =====
key                        independent variable  parameters                          y
=========================  ====================  ==================================  =====
``bcs_gap_temperature``    ``temperature`` (K)   ``delta0`` (meV), ``t_c`` (K)       meV
``delta_col_temperature``  ``temperature`` (K)   ``t_c`` (K), ``delta_col0`` (meV)   meV
``finkelstein``            ``sheet_resistance``  ``t_c0`` (K), ``gamma`` (1)         K
                           (ohm_per_sq)
=========================  ====================  ==================================  =====

References
----------
.. [1] J. Bardeen, L. N. Cooper and J. R. Schrieffer, Phys. Rev. 108, 1175 (1957).
.. [2] B. Mühlschlegel, Z. Phys. 155, 313 (1959).
.. [3] T. Dubouchet et al., "Collective energy gap of preformed Cooper pairs in disordered
   superconductors", Nat. Phys. 15, 233 (2019).
.. [4] A. M. Finkel'stein, Physica B 197, 636 (1994); JETP Lett. 45, 46 (1987).
"""

from __future__ import annotations

from typing import Any

import lmfit
import numpy as np
from numpy.typing import ArrayLike

from fitkit.constants import K_B_MEV_PER_K
from fitkit.errors import ConfigError
from fitkit.models import FitkitModel, ParamSpec, register_model
from fitkit.models.guesses import override_value
from fitkit.physics.bcs import bcs_gap
from fitkit.physics.films import finkelstein_tc, finkelstein_tc_ratio

__all__ = [
    "FINKELSTEIN_GAMMA_MAX",
    "FINKELSTEIN_GAMMA_MIN",
    "BCSGapTemperatureModel",
    "DeltaColTemperatureModel",
    "FinkelsteinModel",
    "bcs_gap_temperature_mev",
    "check_finkelstein_gamma",
    "delta_col_temperature_mev",
    "finkelstein_start",
    "finkelstein_tc_kelvin",
    "gap_temperature_start",
]

FINKELSTEIN_GAMMA_MIN: float = 2.0
r"""Smallest :math:`\gamma` of the ``finkelstein`` model: a critical sheet resistance exists only for
:math:`\gamma > 2` (:func:`fitkit.physics.films.finkelstein_critical_sheet_resistance`)."""

FINKELSTEIN_GAMMA_MAX: float = 50.0
r"""Largest :math:`\gamma` of the ``finkelstein`` model (:math:`k_BT_{c0}\tau/\hbar = e^{-50}`)."""


# ------------------------------------------------------------------------------------------ BCS gap
def bcs_gap_temperature_mev(temperature: ArrayLike, delta0: float, t_c: float) -> np.ndarray:
    r"""BCS gap law :math:`\Delta(T) = \Delta_0\,\delta_{BCS}(T/T_c)` in meV (model function).

    Parameters
    ----------
    temperature
        T [K], ``>= 0``.
    delta0
        :math:`\Delta_0 = \Delta(T=0)` [meV] (free: a free :math:`\Delta_0` with the BCS shape is the
        usual strong-coupling approximation).
    t_c
        :math:`T_c` [K], ``> 0``.

    Returns
    -------
    numpy.ndarray
        :math:`\Delta(T)` [meV]; exactly 0 for :math:`T \ge T_c`.  :math:`\delta_{BCS}` is the exact
        weak-coupling solution tabulated by :func:`fitkit.physics.bcs.bcs_gap`.
    """
    return bcs_gap(temperature, t_c, delta0)


def gap_temperature_start(temperature: ArrayLike, gap: ArrayLike) -> tuple[float, float]:
    r"""Start values ``(gap0, t_c)`` [meV, K] for a BCS-shaped gap law.

    ``gap0`` is the largest gap; ``t_c`` is 1.1 x the highest temperature with a gap above 10 % of
    the largest, or the weak-coupling :math:`T_c = \Delta_0/(1.764\,k_B)` if that is higher.

    Parameters
    ----------
    temperature
        T [K].
    gap
        Gaps [meV] (finite, same length).

    Returns
    -------
    tuple of float
        ``(gap0 [meV], t_c [K])``.
    """
    t = np.asarray(temperature, dtype=float).ravel()
    d = np.asarray(gap, dtype=float).ravel()
    d0 = float(np.max(d))
    gapped = t[d > 0.1 * d0]
    tc = max(1.1 * float(np.max(gapped)) if gapped.size else 0.0, d0 / (1.764 * K_B_MEV_PER_K))
    return d0, tc


def _finite_pairs(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xa = np.asarray(x, dtype=float).ravel()
    ya = np.asarray(y, dtype=float).ravel()
    ok = np.isfinite(xa) & np.isfinite(ya)
    return xa[ok], ya[ok]


@register_model
class BCSGapTemperatureModel(FitkitModel):
    r"""BCS gap against temperature, :math:`\Delta(T) = \Delta_0\,\delta_{BCS}(T/T_c)` [meV].

    :math:`\delta_{BCS}(t) = \Delta(t)/\Delta(0)` is the exact weak-coupling solution of the BCS gap
    equation, :math:`\ln(\Delta_0/\Delta) = 2\int_0^\infty d\xi\,f(E)/E`, tabulated and splined by
    :func:`fitkit.physics.bcs.bcs_gap` (accuracy better than 1e-6).  :math:`\Delta_0` and :math:`T_c`
    are both free, so the ratio :math:`\Delta_0/k_BT_c` (1.764 in weak coupling) measures the coupling
    strength; the BCS shape with a free :math:`\Delta_0` is the usual strong-coupling approximation.
    Points at :math:`T \ge T_c` contribute :math:`\Delta = 0`.

    Fitted to a series :math:`\Delta_i \pm \sigma_i` from tunnelling fits at several temperatures by
    :func:`fitkit.analysis.gap_temperature.fit_bcs_gap_law`.

    References: Bardeen, Cooper and Schrieffer, Phys. Rev. 108, 1175 (1957); Mühlschlegel, Z. Phys. 155,
    313 (1959).
    """

    key = "bcs_gap_temperature"
    x_name = "temperature"
    x_unit = "K"
    y_unit = "meV"
    param_specs = (
        ParamSpec("delta0", "meV", 0.2, min=0.0, description="zero-temperature gap Δ(0)"),
        ParamSpec("t_c", "K", 1.3, min=1e-6, description="critical temperature (Δ = 0 at and above it)"),
    )
    model_function = staticmethod(bcs_gap_temperature_mev)

    def guess(self, data: np.ndarray, x: np.ndarray, **overrides: Any) -> lmfit.Parameters:
        """Largest gap for ``delta0``; ``t_c`` from the last clearly gapped temperature (see
        :func:`gap_temperature_start`)."""
        t, d = _finite_pairs(data, x)
        if t.size == 0:
            return self._finish_guess({}, **overrides)
        d0, tc = gap_temperature_start(t, d)
        return self._finish_guess({"delta0": d0, "t_c": tc}, **overrides)


# ------------------------------------------------------------------------------------------ Delta_col(T)
def delta_col_temperature_mev(temperature: ArrayLike, t_c: float, delta_col0: float) -> np.ndarray:
    r"""Collective-gap law :math:`\Delta_{col}(T) = \Delta_{col}(0)\,\delta_{BCS}(T/T_c)` in meV.

    Parameters
    ----------
    temperature
        T [K].
    t_c
        :math:`T_c` [K] at which the collective gap closes.
    delta_col0
        :math:`\Delta_{col}(0)` [meV].

    Returns
    -------
    numpy.ndarray
        :math:`\Delta_{col}(T)` [meV], 0 at and above :math:`T_c`.
    """
    return bcs_gap(temperature, t_c, delta_col0)


@register_model
class DeltaColTemperatureModel(FitkitModel):
    r"""Collective (Andreev) gap law :math:`\Delta_{col}(T) = \Delta_{col}(0)\,\delta_{BCS}(T/T_c)` [meV].

    In disordered films with preformed pairs the single-particle gap :math:`\Delta` stays open above
    :math:`T_c` (pseudogap) while the collective gap :math:`\Delta_{col}` seen by Andreev reflection
    closes at :math:`T_c` (Dubouchet et al., Nat. Phys. 15, 233 (2019)).  Its temperature dependence is
    taken to follow the BCS shape :math:`\delta_{BCS}(T/T_c)` (:func:`fitkit.physics.bcs.bcs_gap`) with a
    free :math:`\Delta_{col}(0)` — a phenomenological law whose fitted :math:`T_c` is the quantity of
    interest.  Same shape as ``bcs_gap_temperature``, kept as its own key so that the parameter names
    (``delta_col0``) and report columns say which gap was fitted.

    Fitted by :func:`fitkit.analysis.andreev_series.fit_delta_col_law`, which also requires :math:`T_c`
    above the highest measured temperature (every fitted spectrum still shows a collective gap).
    """

    key = "delta_col_temperature"
    x_name = "temperature"
    x_unit = "K"
    y_unit = "meV"
    param_specs = (
        ParamSpec("t_c", "K", 1.3, min=1e-6, description="temperature at which Δ_col closes"),
        ParamSpec("delta_col0", "meV", 0.2, min=0.0, description="zero-temperature collective gap Δ_col(0)"),
    )
    model_function = staticmethod(delta_col_temperature_mev)

    def guess(self, data: np.ndarray, x: np.ndarray, **overrides: Any) -> lmfit.Parameters:
        """``delta_col0`` = largest gap, ``t_c`` = 1.1 x the highest temperature measured."""
        t, d = _finite_pairs(data, x)
        if t.size == 0:
            return self._finish_guess({}, **overrides)
        return self._finish_guess({"t_c": 1.1 * float(t.max()), "delta_col0": float(d.max())}, **overrides)


# ------------------------------------------------------------------------------------------ Finkel'stein
_CONVENTIONS = (
    "fitkit's gamma is ln(hbar/(k_B T_c0 tau)) > 0 (typically 5-8; a critical sheet resistance exists "
    "only for gamma > 2); Finkel'stein's own gamma_F = 1/ln(k_B T_c0 tau/hbar) = -1/gamma and the "
    "'gamma = 1/ln(1/(T_c0 tau))' of some texts are the reciprocal convention (|gamma_F| = 1/gamma)"
)


def check_finkelstein_gamma(gamma: ArrayLike, where: str = "finkelstein") -> None:
    r"""Raise if :math:`\gamma` is outside ``[2, 50]``, naming both conventions (issue 15 item 6).

    A :math:`\gamma` given in the reciprocal convention (:math:`|\gamma_F| = 1/\gamma \approx 0.15`)
    would otherwise make :func:`fitkit.physics.films.finkelstein_tc_ratio` return 1 for every
    :math:`R_\square` (its small-r expansion is positive for :math:`\gamma < 3/2` and is clipped).

    Parameters
    ----------
    gamma
        Value(s) to check (dimensionless).
    where
        Prefix of the message.

    Raises
    ------
    ConfigError
        With the offending value and both conventions.
    """
    g = np.asarray(gamma, dtype=float)
    bad = ~((g >= FINKELSTEIN_GAMMA_MIN) & (g <= FINKELSTEIN_GAMMA_MAX))
    if np.any(bad):
        v = float(g[bad].ravel()[0]) if g.ndim else float(g)
        hint = f"; if {v:.4g} is |gamma_F|, pass gamma = {1.0 / v:.4g}" if 0.0 < v < 1.0 else ""
        raise ConfigError(
            f"{where}: gamma = {v:.4g} is outside [{FINKELSTEIN_GAMMA_MIN:g}, {FINKELSTEIN_GAMMA_MAX:g}]; "
            f"{_CONVENTIONS}{hint}"
        )


def finkelstein_tc_kelvin(sheet_resistance: ArrayLike, t_c0: float, gamma: float) -> np.ndarray:
    r"""Finkel'stein :math:`T_c(R_\square)` in K (model function).

    .. math::
        T_c = T_{c0}\,e^{\gamma}\left[\frac{1/\gamma + r/4 - \sqrt{r/2}}
        {1/\gamma + r/4 + \sqrt{r/2}}\right]^{1/\sqrt{2r}},\qquad
        r = \frac{e^2R_\square}{2\pi^2\hbar} = \frac{R_\square}{81\,093\,\Omega}

    (:func:`fitkit.physics.films.finkelstein_tc`; 0 at and beyond the critical sheet resistance).

    Parameters
    ----------
    sheet_resistance
        :math:`R_\square` [Ohm per square], ``>= 0``.
    t_c0
        Clean critical temperature :math:`T_{c0}` [K].
    gamma
        :math:`\gamma = \ln(\hbar/k_BT_{c0}\tau)`, in ``[2, 50]`` (fitkit's convention).

    Returns
    -------
    numpy.ndarray
        :math:`T_c` [K].

    Raises
    ------
    ConfigError
        If ``gamma`` is outside ``[2, 50]`` (e.g. given in the reciprocal convention).
    """
    check_finkelstein_gamma(gamma)
    return finkelstein_tc(sheet_resistance, t_c0, gamma)


def finkelstein_start(r_sheet: ArrayLike, t_c: ArrayLike, weights: ArrayLike | None = None,
                      grid: np.ndarray | None = None) -> tuple[float, float]:
    r"""Start values ``(t_c0, gamma)`` of a Finkel'stein fit: scan :math:`\gamma`, :math:`T_{c0}` linear.

    For each :math:`\gamma` of ``grid`` (default 257 values in [2.2, 15]) the best :math:`T_{c0}` is the
    weighted linear least-squares factor :math:`\sum w^2 T_c\,\rho / \sum w^2\rho^2` with
    :math:`\rho = T_c/T_{c0}` of the law; the :math:`\gamma` with the smallest :math:`\chi^2` wins.

    Parameters
    ----------
    r_sheet
        :math:`R_\square` [Ohm] (finite, ``>= 0``).
    t_c
        :math:`T_c` [K].
    weights
        :math:`1/\sigma` per point (default 1).
    grid
        The :math:`\gamma` values to scan.

    Returns
    -------
    tuple of float
        ``(t_c0 [K], gamma)``; ``t_c0`` falls back to the largest :math:`T_c` if the scan found none.
    """
    r = np.asarray(r_sheet, dtype=float).ravel()
    t = np.asarray(t_c, dtype=float).ravel()
    w = np.ones_like(t) if weights is None else np.asarray(weights, dtype=float).ravel()
    g = np.linspace(2.2, 15.0, 257) if grid is None else np.asarray(grid, dtype=float)
    ratio = finkelstein_tc_ratio(r[None, :], g[:, None])
    num = np.sum(w**2 * t * ratio, axis=1)
    den = np.sum(w**2 * ratio**2, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        tc0s = np.where(den > 0, num / den, np.nan)
        chi = np.sum((w * (t - tc0s[:, None] * ratio)) ** 2, axis=1)
    chi = np.where(np.isfinite(chi), chi, np.inf)
    k = int(np.argmin(chi))
    tc0 = float(tc0s[k]) if np.isfinite(tc0s[k]) else float(np.max(t))
    return tc0, float(g[k])


@register_model
class FinkelsteinModel(FitkitModel):
    r"""Finkel'stein suppression of :math:`T_c` by disorder, :math:`T_c(R_\square)` [K], across a film series.

    .. math::
        T_c = T_{c0}\,e^{\gamma}\left[\frac{1/\gamma + r/4 - \sqrt{r/2}}
        {1/\gamma + r/4 + \sqrt{r/2}}\right]^{1/\sqrt{2r}},\qquad r = R_\square/(2\pi^2\hbar/e^2)

    with :math:`\gamma = \ln(\hbar/k_BT_{c0}\tau)` (fitkit's convention, see :mod:`fitkit.physics.films`).
    Limits: :math:`T_c \to T_{c0}` for :math:`R_\square \to 0`, with
    :math:`\ln(T_c/T_{c0}) \simeq r\gamma^2/4 - r\gamma^3/6` at small r; :math:`T_c = 0` at the critical
    sheet resistance :math:`r_c = 2[1-\sqrt{1-2/\gamma}]^2` (:math:`\simeq 2/\gamma^2` at large
    :math:`\gamma`, the review's :math:`g_c = \gamma^2/2\pi`).

    Guard (issue 15 item 6): :math:`\gamma` is bounded to ``[2, 50]`` (a critical resistance exists only
    for :math:`\gamma > 2`), and a start value outside that range — typically :math:`|\gamma_F| =
    1/\gamma` of the reciprocal convention, which would otherwise silently give :math:`T_c = T_{c0}` —
    raises an error naming both conventions.

    References: A. M. Finkel'stein, Physica B 197, 636 (1994); B. Sacépé, M. Feigel'man and T. M.
    Klapwijk, Nat. Phys. 16, 734 (2020).
    """

    key = "finkelstein"
    x_name = "sheet_resistance"
    x_unit = "ohm_per_sq"
    x_example = (0.0, 3000.0)
    y_unit = "K"
    param_specs = (
        ParamSpec("t_c0", "K", 3.0, min=0.0, description="clean critical temperature T_c0"),
        ParamSpec("gamma", "1", 6.0, min=FINKELSTEIN_GAMMA_MIN, max=FINKELSTEIN_GAMMA_MAX,
                  description="ln(ħ/(k_B T_c0 τ)) (fitkit convention; > 2 for a critical R_sq)"),
    )
    model_function = staticmethod(finkelstein_tc_kelvin)

    def guess(self, data: np.ndarray, x: np.ndarray, **overrides: Any) -> lmfit.Parameters:
        """Scan gamma with T_c0 solved linearly (:func:`finkelstein_start`); a gamma override is checked."""
        if "gamma" in overrides:
            check_finkelstein_gamma(override_value(overrides, "gamma", 6.0), "finkelstein: gamma override")
        r, t = _finite_pairs(data, x)
        if r.size == 0:
            return self._finish_guess({}, **overrides)
        tc0, gam = finkelstein_start(np.maximum(r, 0.0), t)
        return self._finish_guess({"t_c0": tc0, "gamma": gam}, **overrides)

