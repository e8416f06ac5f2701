r"""Film and wire models around the superconductor–insulator transition (issue 15).

Every model takes its independent variable in SI-compatible declared units (``temperature`` in K,
``thickness`` in nm) and returns K or Ohm.  Resistances of films are **sheet resistances** R_□ in Ohm
per square (convert a four-probe resistance with the geometry factor before fitting); the quantum
resistances are written out: :math:`R_K = h/e^2`, :math:`R_Q = h/4e^2`.  Physics in
:mod:`fitkit.physics.sit`.

=========================  ==============  ==================================================  ====
key                        x               parameters                                          y
=========================  ==============  ==================================================  ====
``film_bkt``               temperature K   ``t_bkt`` K, ``b`` 1, ``r_0`` kohm, ``r_n`` kohm    ohm
``film_fluctuation_2d``    temperature K   ``t_c0`` K, ``r_n`` kohm, ``delta`` 1               ohm
``film_hopping``           temperature K   ``r_0`` ohm, ``t_0`` K, ``p`` 1                     ohm
``tc_thickness``           thickness nm    ``t_c0`` K, ``d_c`` nm                              K
``tc_bilayer``             thickness nm    ``t_c0`` K, ``d_0`` nm, ``d_other`` nm,             K
                                           ``n_ratio`` 1, ``transmission`` 1
``wire_power_law``         temperature K   ``r_ref`` kohm, ``alpha`` 1, ``t_ref`` K            ohm
=========================  ==============  ==================================================  ====

Which regime each serves: ``film_fluctuation_2d`` above the mean-field :math:`T_{c0}` (pairing),
``film_bkt`` between :math:`T_{BKT}` and :math:`T_{c0}` (free vortices, phase coherence), ``film_hopping``
on the insulating side of the film SIT (activated / variable-range hopping).  For nanowires,
``wire_power_law`` is the insulating-side (g_Z < 16) perturbative quantum-phase-slip regime above the
crossover set by :math:`L_c` (R rises as a power of 1/T, no activation); the Coulomb-blockade-like
threshold :math:`V_c` of :func:`fitkit.analysis.hopping.coulomb_blockade_voltage` serves the same wires
at the lowest temperatures, where the I–V shows a zero-current gap; the thermally activated phase-slip
models (``phase_slip_gz``, ``phase_slip_lamh``) serve the superconducting side near :math:`T_c`.

References
----------
.. [1] B. I. Halperin and D. R. Nelson, J. Low Temp. Phys. 36, 599 (1979).
.. [2] L. G. Aslamazov and A. I. Larkin, Phys. Lett. A 26, 238 (1968).
.. [3] B. I. Shklovskii and A. L. Efros, Electronic Properties of Doped Semiconductors (1984).
.. [4] J. Simonin, Phys. Rev. B 33, 7830 (1986).
.. [5] J. M. Martinis et al., Nucl. Instrum. Methods A 444, 23 (2000).
.. [6] A. D. Zaikin et al., Phys. Rev. Lett. 78, 1552 (1997).
"""

from __future__ import annotations

from typing import Any, Literal

import lmfit
import numpy as np
from numpy.typing import ArrayLike

from fitkit.models import FitkitModel, ParamSpec, register_model
from fitkit.models.guesses import finish_with_overrides, override_value
from fitkit.physics.sit import (
    AL_2D_S,
    HOPPING_EXPONENTS,
    bilayer_tc_martinis,
    bkt_tail_resistance,
    film_fluctuation_sheet_resistance,
    hopping_resistance,
    simonin_tc,
    wire_power_law_resistance,
)

__all__ = [
    "FilmBKTModel",
    "FilmFluctuation2DModel",
    "FilmHoppingModel",
    "TcBilayerModel",
    "TcThicknessModel",
    "WirePowerLawModel",
    "film_bkt_ohm",
    "film_fluctuation_ohm",
    "film_hopping_ohm",
    "hopping_start",
    "tc_bilayer_kelvin",
    "tc_thickness_kelvin",
    "wire_power_law_ohm",
]

_KOHM = 1e3

NormalChannel = Literal["none", "parallel"]
HoppingLaw = Literal["free", "arrhenius", "efros_shklovskii", "mott_2d"]


def _finite_sorted(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xa = np.asarray(x, dtype=float).ravel()
    ya = np.asarray(y, dtype=float).ravel()
    ok = np.isfinite(xa) & np.isfinite(ya)
    order = np.argsort(xa[ok])
    return xa[ok][order], ya[ok][order]


def _relative_weights(y: np.ndarray) -> np.ndarray:
    """1/|y| floored at 1e-4 of max|y| (R spanning decades, noise roughly proportional to R)."""
    ay = np.abs(np.asarray(y, dtype=float))
    top = float(np.nanmax(ay)) if ay.size else 1.0
    return 1.0 / np.maximum(ay, max(1e-4 * top, 1e-300))


# ------------------------------------------------------------------------------------------ BKT
def film_bkt_ohm(temperature: ArrayLike, t_bkt: float, b: float, r_0: float, r_n: float = 2.0,
                 normal_channel: NormalChannel = "none") -> np.ndarray:
    r"""Halperin–Nelson BKT tail in model units: :math:`R_\square` [Ohm] from ``r_0``, ``r_n`` in kOhm.

    ``normal_channel="none"``: :math:`R = R_0\exp[-2\sqrt{b/(T/T_{BKT}-1)}]`;
    ``"parallel"``: :math:`R = [1/R_N + 1/R_{HN}]^{-1}` (tends to :math:`R_N` at high T).

    Parameters
    ----------
    temperature
        T [K].
    t_bkt
        :math:`T_{BKT}` [K].
    b
        Halperin–Nelson b (inside the square root; issue 15's :math:`b' = \sqrt b`).
    r_0
        Prefactor [kOhm per square].
    r_n
        Normal sheet resistance [kOhm] (used with ``normal_channel="parallel"`` only).
    normal_channel
        ``"none"`` or ``"parallel"``.

    Returns
    -------
    numpy.ndarray
        :math:`R_\square` [Ohm]; 0 at and below :math:`T_{BKT}`.
    """
    r = bkt_tail_resistance(temperature, t_bkt, b, r_0 * _KOHM)
    if normal_channel == "parallel":
        with np.errstate(divide="ignore"):
            return np.where(r > 0, 1.0 / (1.0 / (r_n * _KOHM) + 1.0 / np.where(r > 0, r, 1.0)), 0.0)
    return r


def bkt_start(t: np.ndarray, r: np.ndarray) -> tuple[float, float, float]:
    r"""Start ``(t_bkt [K], b, r_0 [Ohm])`` of a BKT tail: scan :math:`T_{BKT}`, the rest linear.

    For a fixed :math:`T_{BKT}`, :math:`\ln R = \ln R_0 - 2\sqrt b\,u` with
    :math:`u = (T/T_{BKT}-1)^{-1/2}` is linear in :math:`(\ln R_0, \sqrt b)`; the :math:`T_{BKT}` of 200
    values below the lowest positive-R temperature with the smallest squared log-residual wins.

    Parameters
    ----------
    t, r
        Temperatures [K] and resistances [Ohm] (points with R > 0 are used).

    Returns
    -------
    tuple of float
    """
    ok = (r > 0) & (t > 0)
    if ok.sum() < 3:
        return 1.0, 1.0, float(np.max(np.abs(r))) if r.size else 1e3
    ts, lr = t[ok], np.log(r[ok])
    tmin = float(ts.min())
    best = (np.inf, tmin * 0.9, 1.0, float(np.exp(lr.max())))
    for tb in tmin * (1.0 - np.geomspace(1e-3, 0.9, 200)):
        u = 1.0 / np.sqrt(ts / tb - 1.0)
        a = np.column_stack([np.ones_like(u), -2.0 * u])
        coef, *_ = np.linalg.lstsq(a, lr, rcond=None)
        if coef[1] <= 0:
            continue
        cost = float(np.sum((a @ coef - lr) ** 2))
        if cost < best[0]:
            best = (cost, float(tb), float(coef[1] ** 2), float(np.exp(coef[0])))
    return best[1], best[2], best[3]


class _FitkitOptionModel(FitkitModel):
    """Adds option-dependent ``vary`` flags of some parameters (``_option_fixed``)."""

    def _option_fixed(self) -> dict[str, float | None]:
        """Parameter name -> value to hold fixed (or None: free) given the instance's options."""
        return {}

    def _set_paramhints_prefix(self) -> None:
        super()._set_paramhints_prefix()
        if not hasattr(self, "opts"):
            return
        for name, value in self._option_fixed().items():
            spec = self.spec(name)
            if value is None:
                self.set_param_hint(name, value=spec.value, min=spec.min, max=spec.max, vary=True)
            else:
                self.set_param_hint(name, value=value, min=spec.min, max=spec.max, vary=False)


@register_model
class FilmBKTModel(_FitkitOptionModel):
    r"""BKT resistive tail of a 2D film (Halperin–Nelson), :math:`R_\square(T)` [Ohm per square].

    .. math::
        R_{HN} = R_0 \exp\Big[-2\sqrt{\frac{b}{T/T_{BKT}-1}}\Big]\ (T > T_{BKT}),\qquad
        R_\square = R_{HN}\ \ \text{or}\ \ [R_N^{-1} + R_{HN}^{-1}]^{-1}
        \ (\texttt{normal\_channel="parallel"}).

    Units: ``t_bkt`` K, ``b`` 1 (Halperin–Nelson's b *inside* the square root; the form
    :math:`\exp(-2b'/\sqrt{T/T_{BKT}-1})` of issue 15 has :math:`b' = \sqrt b`), ``r_0`` and ``r_n`` kOhm
    per square (``r_n`` fixed unless ``normal_channel="parallel"``).  Output Ohm per square.

    Data at or below :math:`T_{BKT}`: the model is exactly 0 there (the limit of the formula, R = 0 in
    the BKT phase), so the fit is defined for any data; :func:`fitkit.analysis.bkt.fit_bkt_tail` adds a
    record warning naming the number of points at :math:`T \le T_{BKT}` (decision: warn, do not mask —
    measured R > 0 there is either noise or a broadened transition the law does not describe).
    Weights :math:`1/|R|` (the tail spans decades).  Only the free-vortex regime
    :math:`T_{BKT} < T \ll T_{c0}` follows this form; near :math:`T_{c0}` use ``film_fluctuation_2d``.

    Reference: B. I. Halperin and D. R. Nelson, J. Low Temp. Phys. 36, 599 (1979) [STD].
    """

    key = "film_bkt"
    x_name = "temperature"
    x_unit = "K"
    x_example = (1.05, 3.0)
    y_unit = "ohm"
    param_specs = (
        ParamSpec("t_bkt", "K", 1.0, min=1e-4, max=1e3, description="BKT temperature T_BKT"),
        ParamSpec("b", "1", 1.0, min=1e-4, max=1e3,
                  description="Halperin-Nelson b (inside the square root; issue-15 b' = sqrt(b))"),
        ParamSpec("r_0", "kohm", 2.0, min=0.0, description="prefactor R_0 (per square)"),
        ParamSpec("r_n", "kohm", 2.0, min=1e-9, vary=False,
                  description="normal sheet resistance in parallel (normal_channel='parallel' only)"),
    )
    option_choices = {"normal_channel": ("none", "parallel")}
    model_function = staticmethod(film_bkt_ohm)

    def _option_fixed(self) -> dict[str, float | None]:
        if self.opts.get("normal_channel", "none") == "parallel":
            return {"r_n": None}
        return {}

    def default_weights(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Relative weights 1/|R| (floored at 1e-4 of the largest R)."""
        return _relative_weights(y)

    def guess(self, data: np.ndarray, x: np.ndarray, **overrides: Any) -> lmfit.Parameters:
        """Scan T_BKT with ln R_0 and sqrt(b) linear (:func:`bkt_start`); R_N from the top 15 % of T."""
        t, r = _finite_sorted(data, x)
        if t.size < 3:
            return finish_with_overrides(self, {}, overrides)
        vals: dict[str, float] = {}
        if self.opts.get("normal_channel", "none") == "parallel":
            n_top = max(3, int(0.15 * t.size))
            r_n = float(np.median(r[-n_top:]))
            vals["r_n"] = r_n / _KOHM
            sel = r < 0.5 * r_n
            if sel.sum() >= 3:
                rr = r[sel]
                r_hn = 1.0 / np.maximum(1.0 / rr - 1.0 / r_n, 1e-300)
                tb, b, r0 = bkt_start(t[sel], r_hn)
            else:
                tb, b, r0 = bkt_start(t, r)
        else:
            tb, b, r0 = bkt_start(t, r)
        vals.update({"t_bkt": tb, "b": b, "r_0": r0 / _KOHM})
        return finish_with_overrides(self, vals, overrides)


# ------------------------------------------------------------------------------------------ AL
def film_fluctuation_ohm(temperature: ArrayLike, t_c0: float, r_n: float, delta: float = 0.1,
                         maki_thompson: Literal["off", "on"] = "off",
                         epsilon: Literal["linear", "log"] = "linear") -> np.ndarray:
    r"""Sheet resistance with 2D paraconductivity in model units (``r_n`` in kOhm).

    :math:`R_\square = [1/R_N + \Delta G_{AL} (+ \Delta G_{MT})]^{-1}`.

    Parameters
    ----------
    temperature
        T [K].
    t_c0
        Mean-field :math:`T_{c0}` [K].
    r_n
        Normal sheet resistance [kOhm per square].
    delta
        Maki–Thompson pair-breaking δ (used with ``maki_thompson="on"`` only).
    maki_thompson
        ``"off"`` (Aslamazov–Larkin only) or ``"on"``.
    epsilon
        ``"linear"`` :math:`(T-T_{c0})/T_{c0}` or ``"log"`` :math:`\ln(T/T_{c0})`.

    Returns
    -------
    numpy.ndarray
        :math:`R_\square` [Ohm]; 0 at and below :math:`T_{c0}`.
    """
    return film_fluctuation_sheet_resistance(temperature, t_c0, r_n * _KOHM,
                                             delta if maki_thompson == "on" else None, epsilon)


@register_model
class FilmFluctuation2DModel(_FitkitOptionModel):
    r"""Fluctuation conductivity of a 2D film above the mean-field :math:`T_{c0}`, :math:`R_\square(T)` [Ohm].

    .. math::
        R_\square = \Big[\frac1{R_N} + \frac{e^2}{16\hbar}\frac{1}{\epsilon}
        \ \Big(+\ \frac{e^2}{8\hbar}\frac{\ln(\epsilon/\delta)}{\epsilon-\delta}\Big)\Big]^{-1},
        \qquad \epsilon = \frac{T-T_{c0}}{T_{c0}}\ \text{(default)}\ \text{or}\ \ln\frac{T}{T_{c0}},

    :math:`e^2/16\hbar = 1.52133\times10^{-5}` S per square (Aslamazov–Larkin, 2D, no free amplitude).
    The Maki–Thompson term (regularised, Larkin 1980) is optional (``maki_thompson="on"``, δ free;
    otherwise δ is ignored and held fixed).  Units: ``t_c0`` K, ``r_n`` kOhm per square, ``delta`` 1.
    Fit only the region :math:`T > T_{c0}` well above the BKT tail (typically
    :math:`0.02 \lesssim \epsilon \lesssim 1`); the model is 0 at and below :math:`T_{c0}`.

    References: Aslamazov & Larkin, Phys. Lett. A 26, 238 (1968); Larkin, JETP Lett. 31, 219 (1980);
    Varlamov, Galda & Glatz, Rev. Mod. Phys. 90, 015009 (2018) [STD].
    """

    key = "film_fluctuation_2d"
    x_name = "temperature"
    x_unit = "K"
    x_example = (1.1, 4.0)
    y_unit = "ohm"
    param_specs = (
        ParamSpec("t_c0", "K", 1.0, min=1e-4, max=1e3, description="mean-field (pairing) T_c0"),
        ParamSpec("r_n", "kohm", 1.0, min=1e-9, description="normal sheet resistance R_N (per square)"),
        ParamSpec("delta", "1", 0.1, min=1e-6, max=1e2, vary=False,
                  description="Maki-Thompson pair-breaking delta (maki_thompson='on' only)"),
    )
    option_choices = {"maki_thompson": ("off", "on"), "epsilon": ("linear", "log")}
    model_function = staticmethod(film_fluctuation_ohm)

    def _option_fixed(self) -> dict[str, float | None]:
        if self.opts.get("maki_thompson", "off") == "on":
            return {"delta": None}
        return {}

    def guess(self, data: np.ndarray, x: np.ndarray, **overrides: Any) -> lmfit.Parameters:
        r"""Scan :math:`T_{c0}` below the data; :math:`1/R_N` is the linear least-squares offset of G(T)."""
        t, r = _finite_sorted(data, x)
        ok = (r > 0) & (t > 0)
        t, r = t[ok], r[ok]
        if t.size < 3:
            return finish_with_overrides(self, {}, overrides)
        g = 1.0 / r
        eps_mode = self.opts.get("epsilon", "linear")
        best = (np.inf, 0.9 * float(t[0]), float(np.max(r)))
        for tc in float(t[0]) * (1.0 - np.geomspace(1e-4, 0.95, 300)):
            eps = (t - tc) / tc if eps_mode == "linear" else np.log(t / tc)
            dg = AL_2D_S / eps
            g_n = float(np.mean(g - dg))
            if g_n <= 0:
                continue
            res = (1.0 / (g_n + dg) - r)
            cost = float(np.sum(res * res))
            if cost < best[0]:
                best = (cost, float(tc), 1.0 / g_n)
        return finish_with_overrides(self, {"t_c0": best[1], "r_n": best[2] / _KOHM}, overrides)


# ------------------------------------------------------------------------------------------ hopping
def film_hopping_ohm(temperature: ArrayLike, r_0: float, t_0: float, p: float,
                     law: HoppingLaw = "free") -> np.ndarray:
    r"""Hopping law :math:`R = R_0\exp[(T_0/T)^p]` [Ohm] with the exponent fixed by ``law`` unless ``"free"``.

    Parameters
    ----------
    temperature
        T [K].
    r_0
        Prefactor [Ohm].
    t_0
        Characteristic temperature [K].
    p
        Exponent (used with ``law="free"`` only).
    law
        ``"free"``, ``"arrhenius"`` (p = 1), ``"efros_shklovskii"`` (1/2), ``"mott_2d"`` (1/3).

    Returns
    -------
    numpy.ndarray
        R [Ohm].
    """
    pp = p if law == "free" else HOPPING_EXPONENTS[law]
    return hopping_resistance(temperature, r_0, t_0, pp)


def hopping_start(t: np.ndarray, r: np.ndarray, p: float | None = None) -> tuple[float, float, float]:
    r"""Start ``(r_0 [Ohm], t_0 [K], p)`` of a hopping law: for each p, :math:`\ln R` is linear in
    :math:`(\ln R_0, T_0^p)` against :math:`T^{-p}`; p is scanned on [0.15, 1.5] unless given.

    Parameters
    ----------
    t, r
        T [K] and R [Ohm] (points with both > 0 are used).
    p
        Fixed exponent, or None to scan.

    Returns
    -------
    tuple of float
    """
    ok = (t > 0) & (r > 0)
    t, lr = t[ok], np.log(r[ok])
    grid = np.array([p]) if p is not None else np.linspace(0.15, 1.5, 136)
    best = (np.inf, float(np.exp(lr.min())) if lr.size else 1.0, 1.0, 0.5 if p is None else p)
    if t.size < 3:
        return best[1], best[2], best[3]
    for pp in grid:
        a = np.column_stack([np.ones_like(t), t ** (-pp)])
        coef, *_ = np.linalg.lstsq(a, lr, rcond=None)
        if coef[1] <= 0:
            continue
        cost = float(np.sum((a @ coef - lr) ** 2))
        if cost < best[0]:
            best = (cost, float(np.exp(coef[0])), float(coef[1] ** (1.0 / pp)), float(pp))
    return best[1], best[2], best[3]


@register_model
class FilmHoppingModel(_FitkitOptionModel):
    r"""Insulating film: activated or variable-range hopping, :math:`R(T) = R_0\exp[(T_0/T)^p]` [Ohm].

    ``law``: ``"free"`` (p fitted, default), ``"arrhenius"`` (p = 1, activation energy :math:`k_BT_0`),
    ``"efros_shklovskii"`` (p = 1/2, Coulomb gap), ``"mott_2d"`` (p = 1/3).  With a named law p is held
    at its value (and ignored by the function).  Choose p from the data with
    :func:`fitkit.analysis.hopping.reduced_activation_analysis` (slope of :math:`\ln W` against
    :math:`\ln T` is :math:`-p`).  Units: ``r_0`` Ohm (per square for a film), ``t_0`` K, ``p`` 1.
    Weights :math:`1/|R|`.

    Reference: Shklovskii & Efros, Electronic Properties of Doped Semiconductors (1984); Zabrodskii &
    Zinov'eva, JETP 59, 425 (1984) [STD].
    """

    key = "film_hopping"
    x_name = "temperature"
    x_unit = "K"
    x_example = (0.5, 10.0)
    y_unit = "ohm"
    param_specs = (
        ParamSpec("r_0", "ohm", 100.0, min=0.0, description="prefactor R_0"),
        ParamSpec("t_0", "K", 10.0, min=0.0, description="characteristic temperature T_0"),
        ParamSpec("p", "1", 0.5, min=0.05, max=3.0, description="hopping exponent (free law only)"),
    )
    option_choices = {"law": ("free", "arrhenius", "efros_shklovskii", "mott_2d")}
    model_function = staticmethod(film_hopping_ohm)

    def _option_fixed(self) -> dict[str, float | None]:
        law = self.opts.get("law", "free")
        return {} if law == "free" else {"p": HOPPING_EXPONENTS[law]}

    def default_weights(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Relative weights 1/|R|."""
        return _relative_weights(y)

    def guess(self, data: np.ndarray, x: np.ndarray, **overrides: Any) -> lmfit.Parameters:
        """Linear solve for (ln R_0, T_0^p) at each p of a scan (:func:`hopping_start`)."""
        t, r = _finite_sorted(data, x)
        law = self.opts.get("law", "free")
        p_fixed = None if law == "free" else HOPPING_EXPONENTS[law]
        if "p" in overrides and law == "free":
            p_fixed = override_value(overrides, "p", 0.5)
        r0, t0, p = hopping_start(t, r, p_fixed)
        return finish_with_overrides(self, {"r_0": r0, "t_0": t0, "p": p}, overrides)


# ------------------------------------------------------------------------------------------ thickness
def tc_thickness_kelvin(thickness: ArrayLike, t_c0: float, d_c: float) -> np.ndarray:
    r"""Simonin :math:`T_c(d) = T_{c0}(1 - d_c/d)` [K] (0 for :math:`d \le d_c`).

    Parameters
    ----------
    thickness
        d [nm].
    t_c0
        Thick-film :math:`T_c` [K].
    d_c
        Critical thickness [nm].

    Returns
    -------
    numpy.ndarray
        :math:`T_c` [K].
    """
    return simonin_tc(thickness, t_c0, d_c)


@register_model
class TcThicknessModel(FitkitModel):
    r"""Thickness dependence of :math:`T_c` across a film series (Simonin), :math:`T_c(d)` [K].

    .. math:: T_c(d) = T_{c0}\,(1 - d_c/d),\qquad T_c = 0\ \text{for}\ d \le d_c,

    a surface-energy (thin-film GL) result with :math:`d_c` a microscopic length (Å to nm).  Fitted across
    samples with the thickness from the sample table (:func:`fitkit.analysis.thickness.fit_thickness_law`).
    Units: ``t_c0`` K, ``d_c`` nm; x = thickness in nm.

    Reference: J. Simonin, Phys. Rev. B 33, 7830 (1986) [STD].
    """

    key = "tc_thickness"
    x_name = "thickness"
    x_unit = "nm"
    x_example = (2.0, 30.0)
    y_unit = "K"
    param_specs = (
        ParamSpec("t_c0", "K", 5.0, min=0.0, max=1e3, description="thick-film critical temperature"),
        ParamSpec("d_c", "nm", 1.0, min=0.0, max=1e3, description="critical thickness d_c"),
    )
    model_function = staticmethod(tc_thickness_kelvin)

    def guess(self, data: np.ndarray, x: np.ndarray, **overrides: Any) -> lmfit.Parameters:
        """Linear fit of T_c against 1/d over the films with T_c > 0 (intercept T_c0, slope -T_c0 d_c)."""
        d, tc = _finite_sorted(data, x)
        ok = (d > 0) & (tc > 0)
        if ok.sum() < 2:
            return finish_with_overrides(self, {}, overrides)
        slope, icpt = np.polyfit(1.0 / d[ok], tc[ok], 1)
        t_c0 = max(float(icpt), float(tc[ok].max()))
        d_c = float(np.clip(-slope / t_c0, 0.0, 0.99 * float(d[ok].min())))
        return finish_with_overrides(self, {"t_c0": t_c0, "d_c": d_c}, overrides)


def tc_bilayer_kelvin(thickness: ArrayLike, t_c0: float, d_0: float, d_other: float, n_ratio: float = 1.0,
                      transmission: float = 1.0, layer: Literal["normal", "superconductor"] = "normal"
                      ) -> np.ndarray:
    r"""Martinis bilayer :math:`T_c` [K]; ``thickness`` is the ``layer``'s, ``d_other`` the other layer's.

    Parameters
    ----------
    thickness
        Thickness of the varied layer [nm] (``layer="normal"``: :math:`d_N`;
        ``"superconductor"``: :math:`d_S`).
    t_c0
        :math:`T_c` of the bare S layer [K].
    d_0
        Length :math:`d_0` [nm].
    d_other
        Thickness of the other layer [nm].
    n_ratio
        :math:`n_N/n_S`.
    transmission
        Interface transmission t.
    layer
        Which layer ``thickness`` is.

    Returns
    -------
    numpy.ndarray
        :math:`T_c` [K] (:func:`fitkit.physics.sit.bilayer_tc_martinis`).
    """
    d = np.asarray(thickness, dtype=float)
    if layer == "superconductor":
        return bilayer_tc_martinis(d, d_other, t_c0, d_0, n_ratio, transmission)
    return bilayer_tc_martinis(d_other, d, t_c0, d_0, n_ratio, transmission)


@register_model
class TcBilayerModel(FitkitModel):
    r"""Superconductor/normal-metal bilayer :math:`T_c` (Usadel-based TES formula, Martinis et al. 2000) [K].

    .. math::
        T_c = T_{c0}\left[\frac{d_S}{d_0}\,\frac{1}{1.13\,(1 + 1/\alpha)}\,\frac1t\right]^{\alpha},\qquad
        \alpha = \frac{d_N n_N}{d_S n_S},\qquad d_0 = \frac{1}{(\pi/2)k_BT_{c0}\lambda_F^2 n_S}.

    x = the thickness of one layer in nm (``layer="normal"``: :math:`d_N`, default; ``"superconductor"``:
    :math:`d_S`), the other layer's thickness ``d_other`` (nm) is fixed.  Free by default: ``t_c0`` (K) and
    ``d_0`` (nm); fixed: ``d_other`` (nm), ``n_ratio`` :math:`= n_N/n_S` (1) and ``transmission`` t (1) —
    only :math:`d_0 t` is determined, so t stays fixed at 1 unless :math:`d_0` is known.
    Limit :math:`d_N \to 0`: :math:`T_c \to T_{c0}`.  Valid for thin layers while the bracket is < 1.

    Reference: J. M. Martinis, G. C. Hilton, K. D. Irwin and D. A. Wollman, Nucl. Instrum. Methods A 444,
    23 (2000) [STD, as commonly quoted; the limits are tested].
    """

    key = "tc_bilayer"
    x_name = "thickness"
    x_unit = "nm"
    x_example = (10.0, 200.0)
    y_unit = "K"
    param_specs = (
        ParamSpec("t_c0", "K", 1.0, min=0.0, max=1e3, description="T_c of the bare superconducting layer"),
        ParamSpec("d_0", "nm", 100.0, min=1e-3, description="Martinis length d_0 (times t)"),
        ParamSpec("d_other", "nm", 50.0, min=1e-3, vary=False, description="thickness of the other layer"),
        ParamSpec("n_ratio", "1", 1.0, min=1e-4, max=1e4, vary=False, description="DOS ratio n_N/n_S"),
        ParamSpec("transmission", "1", 1.0, min=1e-6, max=1.0, vary=False,
                  description="interface transmission t (only d_0 t is determined)"),
    )
    option_choices = {"layer": ("normal", "superconductor")}
    model_function = staticmethod(tc_bilayer_kelvin)

    def guess(self, data: np.ndarray, x: np.ndarray, **overrides: Any) -> lmfit.Parameters:
        """Scan d_0 (log grid) with T_c0 solved linearly; fixed parameters from the overrides."""
        d, tc = _finite_sorted(data, x)
        if d.size < 2:
            return finish_with_overrides(self, {}, overrides)
        fixed = {n: override_value(overrides, n, self.spec(n).value)
                 for n in ("d_other", "n_ratio", "transmission")}
        best = (np.inf, float(tc.max()), 100.0)
        for d0 in np.geomspace(1e-1, 1e6, 281):
            shape = tc_bilayer_kelvin(d, 1.0, float(d0), fixed["d_other"], fixed["n_ratio"],
                                      fixed["transmission"], layer=self.opts.get("layer", "normal"))
            den = float(np.sum(shape * shape))
            if den <= 0 or not np.isfinite(den):
                continue
            t0 = float(np.sum(shape * tc) / den)
            cost = float(np.sum((t0 * shape - tc) ** 2))
            if cost < best[0]:
                best = (cost, t0, float(d0))
        return finish_with_overrides(self, {"t_c0": best[1], "d_0": best[2]}, overrides)


# ------------------------------------------------------------------------------------------ wires
def wire_power_law_ohm(temperature: ArrayLike, r_ref: float, alpha: float, t_ref: float = 0.1) -> np.ndarray:
    r"""Power law :math:`R = R_{ref}(T/T_{ref})^\alpha` [Ohm] with ``r_ref`` in kOhm.

    Parameters
    ----------
    temperature
        T [K].
    r_ref
        R at :math:`T_{ref}` [kOhm].
    alpha
        Exponent.
    t_ref
        Reference temperature [K] (fixed).

    Returns
    -------
    numpy.ndarray
        R [Ohm].
    """
    return wire_power_law_resistance(temperature, r_ref * _KOHM, alpha, t_ref)


@register_model
class WirePowerLawModel(FitkitModel):
    r"""Insulating-side nanowire R(T) power law, :math:`R = R_{ref}(T/T_{ref})^{\alpha}` [Ohm].

    Regime: long wires with :math:`g_Z < 16` ("insulating"), perturbative quantum phase slips, at
    temperatures above the crossover set by :math:`L_c` (:math:`R \propto \gamma_{QPS}^2 T^{2\mu-3}`,
    Zaikin et al. 1997).  α is the fitted quantity; :func:`fitkit.physics.sit.zaikin_g_z` converts it to
    :math:`g_Z = 4(\alpha+3)` with :math:`\mu = g_Z/8` [STD recalled + UNCONF normalisation of μ; see
    that function].  At the lowest temperatures the same wires show a Coulomb-blockade-like threshold
    :math:`V_c` in the I–V (:func:`fitkit.analysis.hopping.coulomb_blockade_voltage`); the phase-slip
    models ``phase_slip_gz``/``phase_slip_lamh`` are for the superconducting side near :math:`T_c`.
    Units: ``r_ref`` kOhm, ``alpha`` 1, ``t_ref`` K (fixed, choose inside the data).  Weights 1/|R|.

    Reference: A. D. Zaikin, D. S. Golubev, A. van Otterlo and G. T. Zimanyi, PRL 78, 1552 (1997).
    """

    key = "wire_power_law"
    x_name = "temperature"
    x_unit = "K"
    y_unit = "ohm"
    param_specs = (
        ParamSpec("r_ref", "kohm", 10.0, min=0.0, description="resistance at T_ref"),
        ParamSpec("alpha", "1", -0.5, min=-20.0, max=20.0, description="power-law exponent alpha"),
        ParamSpec("t_ref", "K", 0.1, min=1e-6, vary=False, description="reference temperature (fixed)"),
    )
    model_function = staticmethod(wire_power_law_ohm)

    def default_weights(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Relative weights 1/|R|."""
        return _relative_weights(y)

    def guess(self, data: np.ndarray, x: np.ndarray, **overrides: Any) -> lmfit.Parameters:
        """Straight line of ln R against ln(T/T_ref)."""
        t, r = _finite_sorted(data, x)
        ok = (t > 0) & (r > 0)
        if ok.sum() < 2:
            return finish_with_overrides(self, {}, overrides)
        t_ref = override_value(overrides, "t_ref", self.spec("t_ref").value)
        alpha, c = np.polyfit(np.log(t[ok] / t_ref), np.log(r[ok]), 1)
        return finish_with_overrides(self, {"r_ref": float(np.exp(c)) / _KOHM, "alpha": float(alpha)},
                                     overrides)
