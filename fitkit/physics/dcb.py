r"""Dynamical Coulomb blockade: N-I-N and N-I-S tunnel conductance dressed by an ohmic environment.

A tunnel junction of charging energy :math:`E_c = e^2/2C` in series with an ohmic environment
:math:`R_{env}` exchanges energy with the environment; the probability of giving energy E to it is
:math:`P(E)` (Ingold and Nazarov [1]_, Devoret et al. [2]_) [STD].  This module builds :math:`P(E)` with the
ohmic-environment machinery of :mod:`fitkit.physics.plasmon` (closed-form phase correlator, FFT):

.. math::
    \frac{\mathrm{Re}\,Z_t(\omega)}{R_K} = \frac{R_{env}}{R_K}\,e^{-\omega/\omega_c},\qquad
    \hbar\omega_c = \frac{R_K}{2R_{env}}\,E_c ,

i.e. :func:`fitkit.physics.plasmon.environment_pe` with :math:`g_Z = R_K/2R_{env}` (exponent
:math:`\alpha = 1/g_Z = 2R_{env}/R_K`) and cutoff :math:`\hbar\omega_c = g_Z E_c`.

**Approximation (stated).**  The RC form :math:`\mathrm{Re}\,Z_t = R/(1+(\omega RC)^2)` is replaced by an
exponential cutoff of the same low-frequency value :math:`R` and the same integral
:math:`\int_0^\infty d\omega\,\mathrm{Re}Z_t = \pi/2C`; hence the exact statements that depend only on
these two are kept: the low-energy power law :math:`P(E)\propto E^{2R/R_K-1}` (so
:math:`G_{NIN}\propto V^{2R/R_K}` at :math:`T = 0`, :math:`eV \ll E_c`), the first moment
:math:`\int E\,P = E_c` (so :math:`I R_T \to V - E_c/e` at high bias), the high-temperature dip
:math:`\Delta G/G_T = -E_c/3k_BT` (:math:`k_BT \gg E_c`), normalisation and detailed balance.  The shape
of :math:`P` at :math:`E \sim E_c` differs from the RC result ([UNCONF] at that scale).  As the seed
review notes, a zero-bias anomaly of a disordered film also contains the Altshuler-Aronov DOS
depletion; one ohmic :math:`R_{env}` is a phenomenological description of it.

**Validity limit (measured).**  The P(E) tails kept by the plasmon machinery are set by
:math:`\hbar\omega_c\max(1, 2R/R_K)`; for a hot, strong environment (:math:`R \gg R_K` and
:math:`k_BT \gg \hbar\omega_c`) the thermal width :math:`\sqrt{2E_ck_BT}` of P can exceed them and the
dip is then wrong (E_c = 10 ueV, R = 50 kOhm: dip within 0.7 % of E_c/3k_BT at 2 K, 4 % off at 4 K,
20 % at 8 K; at R = 5 kOhm within 0.3 % up to 16 K).  Use the models at R <~ R_K or k_BT <~ E_c there.

The current follows from the effective-DOS identity (exact for a P(E) obeying detailed balance,
:func:`fitkit.physics.plasmon.wire_dos`):
:math:`\nu(E) = \int d\varepsilon\,N_S(\varepsilon)\{[1-f(\varepsilon)]P(E-\varepsilon)
+ f(\varepsilon)P(\varepsilon-E)\}`,
:math:`G/G_T = \int dE\,\nu(E)\,[-f'(E - eV)]` (then the lock-in kernel); :math:`N_S = 1` gives N-I-N and
the Dynes DOS gives N-I-S.

Units: energies meV, bias mV, resistances Ohm, temperatures K.

References
----------
.. [1] G.-L. Ingold and Yu. V. Nazarov, "Charge tunneling rates in ultrasmall junctions", in *Single Charge
   Tunneling*, NATO ASI Series B 294 (Plenum, 1992), pp. 21-107; arXiv:cond-mat/0508728.
.. [2] M. H. Devoret, D. Esteve, H. Grabert, G.-L. Ingold, H. Pothier and C. Urbina, Phys. Rev. Lett. 64,
   1824 (1990).
.. [3] P. Joyez and D. Esteve, Phys. Rev. B 56, 1848 (1997) (high-temperature expansion) [STD].
.. [4] fitkit physics note ``films_and_fields.md`` section 2.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fitkit.constants import K_B_MEV_PER_K, R_K_OHM
from fitkit.physics.plasmon import G_Z_EXACT_LIMIT, environment_pe, wire_dos
from fitkit.physics.thermal import THERMAL_CUTOFF, interp_uniform, smear_uniform
from fitkit.physics.tunneling import _tunneling_grid_size

__all__ = ["dcb_environment", "dcb_pe", "nin_dcb_conductance", "nis_dcb_conductance"]


def dcb_environment(r_env: float, e_c: float) -> tuple[float, float]:
    r"""Parameters ``(g_z, cutoff)`` of :func:`fitkit.physics.plasmon.environment_pe` for an ohmic
    :math:`R_{env}` (Ohm) and charging energy :math:`E_c` (meV): :math:`g_Z = R_K/2R_{env}`,
    :math:`\hbar\omega_c = g_Z E_c` (so that :math:`\langle E\rangle_P = E_c`).  ``r_env = 0`` gives
    ``(inf, e_c)`` (:math:`P = \delta`)."""
    r, ec = float(r_env), float(e_c)
    if not (np.isfinite(r) and r >= 0):
        raise ValueError(f"dcb: r_env must be a finite resistance >= 0 Ohm, got {r_env!r}")
    if not (np.isfinite(ec) and ec > 0):
        raise ValueError(f"dcb: e_c (charging energy e^2/2C) must be > 0 meV, got {e_c!r}")
    if r == 0.0:
        return float("inf"), ec
    g_z = R_K_OHM / (2.0 * r)
    if g_z >= G_Z_EXACT_LIMIT:
        return float("inf"), ec
    return g_z, g_z * ec


def dcb_pe(
    energy: ArrayLike, r_env: float, e_c: float, temperature: float, *, average: str = "cell"
) -> NDArray[np.float64]:
    r""":math:`P(E)` (1/meV) of the ohmic environment on a uniform energy grid (meV).

    Parameters
    ----------
    energy
        Uniform increasing grid, meV.
    r_env
        Environment resistance, Ohm, >= 0.
    e_c
        Charging energy :math:`e^2/2C`, meV, > 0.
    temperature
        K, >= 0.
    average
        ``"cell"`` (cell averages, default) or ``"point"``.

    Returns
    -------
    numpy.ndarray
        :math:`P` in 1/meV; :math:`\sum P h = 1`, :math:`\langle E\rangle = E_c`,
        :math:`P(-E) = e^{-E/k_BT}P(E)` (point values).

    Examples
    --------
    >>> import numpy as np
    >>> e = np.arange(-4000, 4001) * 2e-3
    >>> p = dcb_pe(e, 2000.0, 0.05, 0.2)
    >>> round(float(p.sum() * 2e-3), 6), round(float((e * p).sum() * 2e-3), 4)
    (1.0, 0.05)
    """
    g_z, cutoff = dcb_environment(r_env, e_c)
    if average not in ("cell", "point"):
        raise ValueError(f"dcb_pe: average must be 'cell' or 'point', got {average!r}")
    return environment_pe(energy, g_z, cutoff, temperature, average="cell" if average == "cell" else "point")


@functools.lru_cache(maxsize=8)
def _nis_dcb_on_grid(
    n: int,
    step: float,
    delta: float,
    gamma: float,
    r_env: float,
    e_c: float,
    temperature: float,
    v_mod_rms: float,
) -> NDArray[np.float64]:
    g_z, cutoff = dcb_environment(r_env, e_c)
    grid = step * np.arange(-n, n + 1, dtype=float)
    nu = wire_dos(grid, step, delta, g_z, cutoff, temperature, gamma_d=gamma)
    width = max(gamma if delta > 0 else 0.0, K_B_MEV_PER_K * temperature, v_mod_rms)
    g = smear_uniform(step, nu, temperature, v_mod_rms, cell_averages=True, sharpen=width >= 4.0 * step)
    g.setflags(write=False)
    return g


def nis_dcb_conductance(
    bias: ArrayLike,
    delta: float,
    gamma: float,
    r_env: float,
    e_c: float,
    temperature: float,
    v_mod_rms: float = 0.0,
) -> NDArray[np.float64]:
    r"""N-I-S conductance :math:`G/G_T` with a Dynes DOS and dynamical Coulomb blockade.

    .. math::
        \frac{G(V)}{G_T} = K_{lock} * \int dE\,\nu(E)\,[-\partial_E f(E - eV)],\quad
        \nu = \int d\varepsilon\,N_D(\varepsilon)\{[1-f]P(E-\varepsilon) + fP(\varepsilon-E)\}

    Parameters
    ----------
    bias
        Bias, mV.
    delta, gamma
        Gap and Dynes broadening, meV, >= 0 (``delta = 0``: N-I-N).
    r_env
        Ohmic environment resistance, Ohm, >= 0 (0: bare junction).
    e_c
        Charging energy :math:`e^2/2C`, meV, > 0.
    temperature
        K, >= 0.
    v_mod_rms
        Lock-in modulation, mV rms, >= 0.

    Returns
    -------
    numpy.ndarray
        :math:`G/G_T`, shape of ``bias`` (-> 1 at high bias; :math:`G_T = 1/R_T`).

    Notes
    -----
    Grid rule of :func:`fitkit.physics.tunneling.tunneling_grid` (widths Gamma, or E_c for N-I-N, k_B T,
    V_rms); environment :math:`P(E)` and effective DOS from :mod:`fitkit.physics.plasmon`; see the module
    docstring for the exponential-cutoff approximation of the RC environment.

    Examples
    --------
    >>> round(float(nin_dcb_conductance(0.0, 0.0, 0.05, 1.0)), 3)  # R_env = 0: no blockade
    1.0
    """
    d, gam, t, vm = float(delta), float(gamma), float(temperature), float(v_mod_rms)
    bad = {
        k: x
        for k, x in {"delta": d, "gamma": gam, "temperature": t, "v_mod_rms": vm}.items()
        if not (np.isfinite(x) and x >= 0)
    }
    if bad:
        raise ValueError(f"nis_dcb_conductance: {bad} must be finite and >= 0 (meV, K, mV rms)")
    dcb_environment(r_env, e_c)
    v = np.asarray(bias, dtype=float)
    kt = K_B_MEV_PER_K * t
    vmax = float(np.max(np.abs(v))) if v.size else 0.0
    e_max = 1.01 * (vmax + THERMAL_CUTOFF * kt + np.sqrt(2.0) * vm) + 0.05 * max(d, gam, float(e_c), 1e-3)
    width = gam if d > 0 else float(e_c)
    if d > 0 and gam == 0.0:
        width = 0.0
    n, step = _tunneling_grid_size(e_max, (width, float(e_c)), t, vm)
    g = _nis_dcb_on_grid(n, step, d, gam, float(r_env), float(e_c), t, vm)
    return interp_uniform(-n * step, step, g, v)


def nin_dcb_conductance(
    bias: ArrayLike, r_env: float, e_c: float, temperature: float, v_mod_rms: float = 0.0
) -> NDArray[np.float64]:
    r"""N-I-N conductance :math:`G/G_T` with Coulomb blockade (:func:`nis_dcb_conductance`, Delta = 0).

    At :math:`T = 0`: :math:`G/G_T = \int_0^{e|V|} P(E)\,dE \propto |V|^{2R_{env}/R_K}` for
    :math:`e|V| \ll E_c`; for :math:`k_BT \gg E_c`: :math:`G(0)/G_T \approx 1 - E_c/3k_BT`.
    """
    return nis_dcb_conductance(bias, 0.0, 0.0, r_env, e_c, temperature, v_mod_rms)
