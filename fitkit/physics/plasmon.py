r"""Plasmon-broadened density of states of ultrathin superconducting wires (reconstructed model).

Electrons tunnelling into a thin superconducting wire exchange energy with the Mooij-Schön
plasmons of the wire; the plasma modes act as an ohmic dissipative environment
(Radkevich, Semenov and Zaikin 2017 [2]_).  This module implements the **reconstruction** of that
theory written down in the fitkit physics note ``transport.md`` section 3.2, as the standard
dynamical-Coulomb-blockade :math:`P(E)` theory (Ingold and Nazarov [1]_) with

.. math::
    \mathrm{Re}\,Z_{env}(\omega) = \frac{Z}{2} e^{-\omega/\omega_c},\qquad
    \frac{\mathrm{Re}\,Z_{env}}{R_K} = \frac{1}{2 g_Z},\qquad g_Z = R_K/Z,

applied to the wire's own phase: the junction sees the two semi-infinite halves of the wire's
transmission line in parallel (hence :math:`Z/2`), and couples to half the superconducting phase.

Status of each ingredient (physics note section 3.2(g), tags as in the note):

============================================================  ==========================================
item                                                          status
============================================================  ==========================================
:math:`P(E)` formalism                                        exact DCB theory [STD]
effective-DOS <-> :math:`P(E)` current identity               exact, proven in the note [DER]
exponent :math:`1/g_Z` and :math:`Z_{env} = Z/2`              derived from the paper's own normalisation
                                                              (SIT at :math:`g_Z = 16`) [DER]
ohmic + exponential-cutoff kernel (shape and scale)           approximation [UNCONF]
amplitude fluctuations, gap renormalisation                   not in the kernel; Delta is fitted directly
environment of the wide Al electrode                          neglected, following the paper
============================================================  ==========================================

**Confirmed** (abstract of [2]_ and the paper [3]_): plasma modes act as a dissipative environment;
a non-perturbative DOS; subgap states at :math:`T > 0` with
:math:`\nu \propto e^{-(\Delta-|E|)/k_BT}`; the gap singularity is washed out at
:math:`g_Z \le 2`; :math:`\nu` is in units of the normal DOS.  **Unconfirmed**: the literal
expression of [2]_ and its high-frequency cutoff; fitted :math:`g_Z` depend on the cutoff
:math:`\hbar\omega_c` chosen here.

Units: energies meV, temperatures K, :math:`P` in 1/meV, DOS in units of the normal DOS,
currents in mV/R_T (i.e. :math:`e R_T I` in meV).

References
----------
.. [1] G.-L. Ingold and Yu. V. Nazarov, "Charge tunneling rates in ultrasmall junctions", in
   *Single Charge Tunneling*, eds. H. Grabert and M. H. Devoret, NATO ASI Series B 294
   (Plenum, New York, 1992), pp. 21-107; arXiv:cond-mat/0508728.
.. [2] A. Radkevich, A. G. Semenov and A. D. Zaikin, "Quantum phase fluctuations and density of
   states in superconducting nanowires", Phys. Rev. B 96, 085435 (2017); arXiv:1704.08004.
.. [3] K. Yu. Arutyunov, J. S. Lehtinen, A. Radkevich, A. G. Semenov and A. D. Zaikin,
   "Superconducting insulators and localization of Cooper pairs", Commun. Phys. 4, 146 (2021);
   doi:10.1038/s42005-021-00648-7.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import fft as sfft
from scipy import special

from fitkit.constants import K_B_MEV_PER_K
from fitkit.physics.dos import dynes_dos_cell_average
from fitkit.physics.thermal import THERMAL_CUTOFF, choose_grid, fermi, interp_on_grid
from fitkit.physics.tunneling import conductance_from_current, sis_current_from_dos, sis_grid

__all__ = [
    "G_Z_EXACT_LIMIT",
    "P_TAIL_CUTOFFS",
    "environment_pe",
    "environment_pe_tails",
    "sis_plasmon_conductance",
    "sis_plasmon_current",
    "wire_dos",
]

P_TAIL_CUTOFFS: float = 36.0
r"""Tail length of :math:`P(E)` kept on grids, in units of its decay scale.

The emission side decays as :math:`E^{1/g_Z-1}e^{-E/\hbar\omega_c}` and the absorption side as
:math:`e^{-|E|(1/k_BT + 1/\hbar\omega_c)}`; 36 decay lengths leave a tail mass below ~1e-15."""

_LOG_TOL: float = 34.0
"""``exp(-34) ~ 1.7e-15``: relative size at which the time integrand is truncated."""

_THERMAL_EDGE: float = THERMAL_CUTOFF
"""Beyond +-38 k_B T the Fermi factors are 0 or 1 to double precision."""

_MAX_TIME_POINTS: int = 2**21
"""Cap on the time samples of :math:`e^{J(t)}`; above it the T = 0 Gamma law is used."""

G_Z_EXACT_LIMIT: float = 1e15
r""":math:`g_Z` above which :math:`P(E)` is the delta function (:math:`1/g_Z` below double precision)."""


def _check_scalars(g_z: float, cutoff: float, temperature: float, where: str) -> tuple[float, float, float]:
    g, ec, t = float(g_z), float(cutoff), float(temperature)
    if not g > 0:
        raise ValueError(f"{where}: g_z must be > 0 (np.inf allowed), got {g_z!r}")
    if not (np.isfinite(ec) and ec > 0):
        raise ValueError(f"{where}: cutoff (hbar*omega_c) must be a positive finite energy in meV, "
                         f"got {cutoff!r}")
    if not (np.isfinite(t) and t >= 0):
        raise ValueError(f"{where}: temperature must be a finite value >= 0 K, got {temperature!r}")
    return g, ec, t


def _uniform_step(energy: NDArray[np.float64], where: str) -> float:
    if energy.ndim != 1 or energy.size < 2:
        raise ValueError(f"{where}: energy must be a 1-D uniform grid with >= 2 points, "
                         f"got shape {energy.shape}")
    step = (energy[-1] - energy[0]) / (energy.size - 1)
    if not step > 0 or np.max(np.abs(np.diff(energy) - step)) > 1e-6 * step:
        raise ValueError(f"{where}: energy grid must be uniform and increasing")
    return float(step)


def environment_pe_tails(g_z: float, cutoff: float, temperature: float) -> tuple[float, float]:
    r"""Energies beyond which :math:`P(E)` is negligible (< ~1e-15 of its mass).

    Parameters
    ----------
    g_z
        Dimensionless wire admittance :math:`g_Z = R_K/Z`, > 0.
    cutoff
        :math:`\hbar\omega_c`, meV, > 0.
    temperature
        Temperature, K, >= 0.

    Returns
    -------
    (emission, absorption) : tuple of float
        Lengths in meV of the positive-energy (emission) and negative-energy (absorption) tails.
    """
    g, ec, t = _check_scalars(g_z, cutoff, temperature, "environment_pe_tails")
    kt = K_B_MEV_PER_K * t
    alpha = 0.0 if not np.isfinite(g) else 1.0 / g
    emission = P_TAIL_CUTOFFS * ec * max(1.0, alpha)
    absorption = P_TAIL_CUTOFFS * (kt * ec / (kt + ec)) * max(1.0, alpha) if kt > 0 else 0.0
    return emission, absorption


def _gamma_law_cells(energy: NDArray[np.float64], step: float, alpha: float,
                     ec: float) -> NDArray[np.float64]:
    """Exact cell averages of the T = 0 Gamma law theta(E) E^(a-1) e^(-E/Ec) / (Gamma(a) Ec^a)."""
    lo = np.clip((energy - 0.5 * step) / ec, 0.0, None)
    hi = np.clip((energy + 0.5 * step) / ec, 0.0, None)
    # difference of the regularised lower (near 0) or upper (tail) incomplete gamma: no cancellation
    near = special.gammainc(alpha, hi) - special.gammainc(alpha, lo)
    far = special.gammaincc(alpha, lo) - special.gammaincc(alpha, hi)
    return np.where(lo > alpha, far, near) / step


def _gamma_law_points(energy: NDArray[np.float64], alpha: float, ec: float) -> NDArray[np.float64]:
    """Point values of the T = 0 Gamma law (inf at E = 0 when alpha < 1)."""
    x = energy / ec
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = (alpha - 1.0) * np.log(np.where(x > 0, x, 1.0)) - x - special.gammaln(alpha) - math.log(ec)
        p = np.where(x > 0, np.exp(logp), 0.0)
    at0 = np.inf if alpha < 1 else (1.0 / ec if alpha == 1 else 0.0)
    return np.where(x == 0, at0, p)


def _j_of_t(t: NDArray[np.float64], alpha: float, ec: float, kt: float) -> NDArray[np.complex128]:
    r"""Closed-form phase correlator J(t) of the ohmic environment with exponential cutoff (t in hbar/meV)."""
    kappa = kt / ec
    z = special.loggamma(1.0 + kappa + 1j * (kt * t))
    thermal = 2.0 * special.gammaln(1.0 + kappa) - 2.0 * z.real
    return -alpha * (thermal + np.log1p(1j * ec * t))


def environment_pe(
    energy: ArrayLike,
    g_z: float,
    cutoff: float,
    temperature: float,
    *,
    average: Literal["cell", "point"] = "cell",
) -> NDArray[np.float64]:
    r"""Probability :math:`P(E)` that a tunnelling electron gives energy E to the plasmon environment.

    .. math::
        P(E) = \frac{1}{2\pi\hbar}\int_{-\infty}^{\infty} dt\, e^{J(t) + iEt/\hbar},\qquad
        J(t) = -\frac{1}{g_Z}\left\{\ln\frac{\Gamma(1+\kappa)^2}{\Gamma(1+\kappa+i\tau)\,
        \Gamma(1+\kappa-i\tau)} + \ln(1 + i\omega_c t)\right\},

    with :math:`\kappa = k_BT/\hbar\omega_c` and :math:`\tau = k_BT\,t/\hbar`: the Ingold-Nazarov
    correlator of an ohmic environment :math:`\mathrm{Re}Z_{env}/R_K = e^{-\omega/\omega_c}/(2g_Z)`
    in closed form (physics note ``transport.md`` section 3.2(b), [DER]).  At :math:`T = 0`,

    .. math:: P(E) = \theta(E)\,\frac{E^{\alpha-1} e^{-E/E_c}}{\Gamma(\alpha)E_c^{\alpha}},
              \quad \alpha = 1/g_Z,\ E_c = \hbar\omega_c .

    Parameters
    ----------
    energy
        Uniform increasing grid of energies, meV (>= 2 points; any offset, need not contain 0).
    g_z
        Dimensionless wire admittance :math:`g_Z = R_K/Z`, > 0; ``np.inf`` (or > 1e15) gives
        :math:`P = \delta(E)` (see Returns).  Physical range of [3]_: 1-3.
    cutoff
        Cutoff :math:`\hbar\omega_c`, meV, > 0 (a reconstruction parameter [UNCONF]; the note
        recommends :math:`\sim\Delta`-:math:`2\Delta`).
    temperature
        Temperature, K, >= 0.
    average
        ``"cell"`` (default): exact averages of :math:`P` over each cell
        :math:`[E - h/2, E + h/2]`, the form the grid convolutions need (sums times h are exact
        integrals, so the integrable :math:`|E|^{\alpha-1}` peak is handled for any step).
        ``"point"``: point values :math:`P(E)` (infinite at :math:`E = 0` when :math:`T = 0`
        and :math:`g_Z > 1`).

    Returns
    -------
    numpy.ndarray
        :math:`P` in 1/meV on the grid.  :math:`\sum P h = 1` up to the part of the tails outside
        the grid; :math:`\langle E\rangle = \hbar\omega_c/g_Z`; detailed balance
        :math:`P(-E) = e^{-E/k_BT}P(E)` (exact for point values).  For :math:`1/g_Z = 0` the
        delta function is returned as ``1/h`` in the cell containing 0 (both modes).

    Raises
    ------
    ValueError
        If the grid is not uniform, or ``g_z``, ``cutoff`` or ``temperature`` are out of range.

    Notes
    -----
    *Numerics.*  :math:`P` is computed as a discrete Fourier sum over :math:`t_n = n\,dt` with
    :math:`dt = 2\pi\hbar/(M h)`, where the period :math:`M h` is large enough that the aliases
    :math:`E \pm Mh` of every grid energy lie beyond both tails (:func:`environment_pe_tails`),
    so aliasing is below ~1e-15.  The sum runs to
    :math:`|t| = t_{max}` where :math:`|e^{J}|` has decayed to ~1e-15,
    :math:`k_BT\,t_{max}/\hbar \approx (34 g_Z + \ln 2\pi)/\pi`, and is folded modulo M before
    one FFT of length M (so :math:`t_{max}` is independent of the energy resolution).
    Cell averages multiply the integrand by :math:`\mathrm{sinc}(h t/2\hbar)`.

    *Limits.*  At :math:`T = 0` the Gamma law is used in closed form (cell averages from the
    regularised incomplete gamma function).  The time span grows as :math:`g_Z/k_BT`; when it
    would need more than 2**21 samples (e.g. :math:`g_Z \gtrsim 600` at 21 mK, or
    :math:`k_BT \to 0`) the T = 0 Gamma law is used instead: the thermal dressing of P then
    dropped is confined to :math:`|E| \lesssim k_BT` and carries a weight of order
    :math:`1/g_Z`.  For :math:`1/g_Z = 0`, :math:`P = \delta(E)` exactly.

    *Status.*  Ingold-Nazarov formalism [STD]; closed form of J(t) and Z_env = Z/2 [DER];
    exponential cutoff shape and scale [UNCONF] (see the module docstring).

    References
    ----------
    .. [1] G.-L. Ingold and Yu. V. Nazarov, in *Single Charge Tunneling*, NATO ASI Series B 294
       (Plenum, 1992), pp. 21-107; arXiv:cond-mat/0508728 (P(E) theory, ohmic environment).
    .. [2] A. Radkevich, A. G. Semenov and A. D. Zaikin, Phys. Rev. B 96, 085435 (2017).
    .. [3] K. Yu. Arutyunov et al., Commun. Phys. 4, 146 (2021).

    Examples
    --------
    >>> import numpy as np
    >>> e = np.arange(-2000, 2001) * 5e-4            # meV, step 0.5 ueV
    >>> p = environment_pe(e, 1.5, 0.045, 0.021)
    >>> round(float(p.sum() * 5e-4), 6), round(float((e * p).sum() * 5e-4 * 1e3), 3)  # norm, <E> in ueV
    (1.0, 30.0)
    """
    grid = np.asarray(energy, dtype=float)
    step = _uniform_step(grid, "environment_pe")
    g, ec, t_k = _check_scalars(g_z, cutoff, temperature, "environment_pe")
    if average not in ("cell", "point"):
        raise ValueError(f"environment_pe: average must be 'cell' or 'point', got {average!r}")
    alpha = 1.0 / g if g < G_Z_EXACT_LIMIT else 0.0
    if alpha == 0.0:
        return np.where(np.abs(grid) < 0.5 * step, 1.0 / step, 0.0) + np.where(
            np.abs(np.abs(grid) - 0.5 * step) <= 1e-12 * step, 0.5 / step, 0.0)
    kt = K_B_MEV_PER_K * t_k
    n_t_half = 0
    if kt > 0:
        emission, absorption = environment_pe_tails(g, ec, t_k)
        # aliases E +- period must fall beyond both tails for every grid energy E
        period = max(emission - grid[0], grid[-1] + absorption, grid[-1] - grid[0]) + 2.0 * step
        m = sfft.next_fast_len(max(int(np.ceil(period / step)), grid.size))
        dt = 2.0 * np.pi / (m * step)
        t_max = (_LOG_TOL * g + math.log(2.0 * np.pi)) / (np.pi * kt) + 4.0 / kt
        n_t_half = int(np.ceil(t_max / dt))
    if kt == 0 or 2 * n_t_half + 1 > _MAX_TIME_POINTS:
        if average == "cell":
            return _gamma_law_cells(grid, step, alpha, ec)
        return _gamma_law_points(grid, alpha, ec)

    n = np.arange(0, n_t_half + 1)
    t = n * dt
    w = np.exp(_j_of_t(t, alpha, ec, kt) + 1j * grid[0] * t)
    if average == "cell":
        w *= np.sinc(step * t / (2.0 * np.pi))  # numpy sinc(x) = sin(pi x)/(pi x)
    # negative times: w(-t) = conj(w(t)) before the phase e^{i E0 t}; rebuild explicitly
    w_neg = np.conj(w[1:] * np.exp(-1j * grid[0] * t[1:])) * np.exp(-1j * grid[0] * t[1:])
    idx = np.concatenate([n % m, (-n[1:]) % m])
    vals = np.concatenate([w, w_neg])
    folded = (np.bincount(idx, weights=vals.real, minlength=m)
              + 1j * np.bincount(idx, weights=vals.imag, minlength=m))
    p = sfft.ifft(folded).real * (m * dt / (2.0 * np.pi))
    return p[: grid.size]


def wire_dos(
    energy_grid: ArrayLike,
    step: float,
    delta: float,
    g_z: float,
    cutoff: float,
    temperature: float,
    gamma_d: float = 0.0,
) -> NDArray[np.float64]:
    r"""Tunnelling density of states of a wire dressed by its plasmon environment (reconstructed).

    .. math::
        \nu(E) = \int d\varepsilon\, \nu_S(\varepsilon)\left\{[1 - f(\varepsilon)]\,
        P(E - \varepsilon) + f(\varepsilon)\,P(\varepsilon - E)\right\},\qquad
        \nu_S(E) = \left|\mathrm{Re}\frac{E + i\Gamma_D}{\sqrt{(E + i\Gamma_D)^2 - \Delta^2}}\right|,

    with :math:`P` from :func:`environment_pe` and f the Fermi function (physics note
    ``transport.md`` section 3.2(c), [DER]; the plasmon kernel is [UNCONF], see the module
    docstring).

    Parameters
    ----------
    energy_grid
        Uniform increasing grid, meV, usually from :func:`fitkit.physics.thermal.choose_grid`
        (should extend beyond :math:`\pm 38 k_BT`; the returned values are cell averages).
    step
        Grid spacing h, meV, > 0 (must equal the spacing of ``energy_grid``).
    delta
        Wire gap :math:`\Delta`, meV, >= 0 (Ti wires of [3]_: 0.037-0.050).
    g_z
        Wire admittance :math:`g_Z = R_K/Z`, > 0; ``np.inf`` gives the bare Dynes/BCS DOS.
    cutoff
        Plasmon cutoff :math:`\hbar\omega_c`, meV, > 0 [UNCONF].
    temperature
        Temperature, K, >= 0.
    gamma_d
        Dynes broadening :math:`\Gamma_D` of :math:`\nu_S`, meV, >= 0 (default 0: BCS; the square-
        root singularity is integrated exactly through cell averages).

    Returns
    -------
    numpy.ndarray
        :math:`\nu/\nu_N` (dimensionless, >= 0 up to ~1e-15) at the grid points, as cell averages.

    Raises
    ------
    ValueError
        If the grid is not uniform or does not match ``step``, or a parameter is out of range.

    Notes
    -----
    Two FFT convolutions, :math:`[\nu_S(1-f)] * P` and :math:`[\nu_S f] \star P`, on the grid
    extended by the absorption tail of P (and by the emission tail where the grid does not reach
    :math:`\pm 38 k_BT`); :math:`\nu_S` are exact Dynes cell averages
    (:func:`fitkit.physics.dos.dynes_dos_cell_average`).  Properties (checked in the tests):
    :math:`P = \delta` gives :math:`\nu_S`; at :math:`T = 0`, :math:`\nu = 0` for
    :math:`|E| < \Delta` and :math:`\nu \propto (|E|-\Delta)^{1/g_Z - 1/2}` just above the gap;
    at :math:`T > 0` a subgap tail :math:`\propto e^{-(\Delta-|E|)/k_BT}`; :math:`\nu < 1` up to
    energies of several :math:`\hbar\omega_c` (spectral weight moved up by
    :math:`\langle E\rangle = \hbar\omega_c/g_Z`).

    References
    ----------
    .. [1] G.-L. Ingold and Yu. V. Nazarov, in *Single Charge Tunneling*, NATO ASI Series B 294
       (Plenum, 1992), pp. 21-107; arXiv:cond-mat/0508728.
    .. [2] A. Radkevich, A. G. Semenov and A. D. Zaikin, Phys. Rev. B 96, 085435 (2017).
    .. [3] K. Yu. Arutyunov et al., Commun. Phys. 4, 146 (2021).

    Examples
    --------
    >>> import numpy as np
    >>> h = 2.5e-4
    >>> e = np.arange(-2400, 2401) * h                      # meV
    >>> nu = wire_dos(e, h, 0.045, 1.5, 0.045, 0.021, gamma_d=5e-5)
    >>> round(float(nu[np.argmin(abs(e - 0.060))]), 2)      # physics note check C12: 1.036
    1.04
    """
    grid = np.asarray(energy_grid, dtype=float)
    h = _uniform_step(grid, "wire_dos")
    if not (float(step) > 0 and abs(float(step) - h) <= 1e-6 * h):
        raise ValueError(f"wire_dos: step {step!r} meV does not match the grid spacing {h!r} meV")
    g, ec, t_k = _check_scalars(g_z, cutoff, temperature, "wire_dos")
    if not (np.isfinite(delta) and delta >= 0 and np.isfinite(gamma_d) and gamma_d >= 0):
        raise ValueError(f"wire_dos: delta ({delta!r}) and gamma_d ({gamma_d!r}) must be finite and >= 0 meV")
    kt = K_B_MEV_PER_K * t_k
    emission, absorption = environment_pe_tails(g, ec, t_k)
    n_em = int(np.ceil(emission / h)) + 1
    n_ab = int(np.ceil(absorption / h)) + 1
    therm = _THERMAL_EDGE * kt + h
    e_lo, e_hi = grid[0], grid[-1]
    # A = nu_S (1-f) vanishes below -38 kT and B = nu_S f above +38 kT: pad only where needed
    lo = min(e_lo - n_ab * h, max(e_lo - n_em * h, min(e_lo, -therm)))
    hi = max(e_hi + n_ab * h, min(e_hi + n_em * h, max(e_hi, therm)))
    n_lo = int(np.ceil((e_lo - lo) / h - 1e-9))
    n_hi = int(np.ceil((hi - e_hi) / h - 1e-9))
    ext = e_lo + h * np.arange(-n_lo, grid.size + n_hi)
    nu_s = dynes_dos_cell_average(ext, h, delta, gamma_d)
    occ = fermi(ext, t_k)
    if not (np.isfinite(g) and g < G_Z_EXACT_LIMIT):
        return nu_s[n_lo: n_lo + grid.size]
    offsets = h * np.arange(-n_ab, n_em + 1)
    kern = environment_pe(offsets, g, ec, t_k)
    size = sfft.next_fast_len(ext.size + kern.size - 1, real=True)
    fk = sfft.rfft(kern, size)
    # convolution A * P and correlation B (x) P; the correlation via conj(fk) lands at index i - n_ab
    conv_a = sfft.irfft(sfft.rfft(nu_s * (1.0 - occ), size) * fk, size)
    corr_b = sfft.irfft(sfft.rfft(nu_s * occ, size) * np.conj(fk), size)
    i = np.arange(n_lo, n_lo + grid.size)
    return h * (conv_a[i + n_ab] + corr_b[(i - n_ab) % size])


FAST_POINTS_PER_WIDTH: float = 16.0
"""Grid cells per smallest width (k_B T, V_rms, Gamma_T) for ``resolution="fast"``."""


def _wire_sis_on_grid(bias_max: float, delta: float, g_z: float, cutoff: float, temperature: float,
                      delta_tip: float, gamma_tip: float, gamma_d: float, v_mod_rms: float,
                      resolution: str) -> tuple[NDArray[np.float64], NDArray[np.float64], float, bool]:
    """Current I R_T (mV) on the bias grid of :func:`sis_current_from_dos`, step, and 'resolved' flag."""
    vals = {"delta_tip": delta_tip, "gamma_tip": gamma_tip, "v_mod_rms": v_mod_rms}
    bad = {k: v for k, v in vals.items() if not (np.isfinite(v) and v >= 0)}
    if bad:
        raise ValueError(f"sis_plasmon: {bad} must be finite and >= 0 (meV, mV rms)")
    if resolution not in ("fast", "reference"):
        raise ValueError(f"sis_plasmon: resolution must be 'fast' or 'reference', got {resolution!r}")
    g_sum = float(gamma_d) + float(gamma_tip)
    if resolution == "reference":
        # the grid rule of tunneling.sis_current/sis_conductance, so that 1/g_Z = 0 is exactly sis
        grid, step, resolved = sis_grid(bias_max, delta, delta_tip, g_sum, temperature, v_mod_rms)
    else:
        kt = K_B_MEV_PER_K * float(temperature)
        e_max = 1.01 * (bias_max + THERMAL_CUTOFF * kt + np.sqrt(2.0) * float(v_mod_rms))
        e_max += 0.05 * max(float(delta), float(delta_tip), 1e-3)
        widths = (kt, float(v_mod_rms), max(float(gamma_tip), float(gamma_d)))
        grid, step = choose_grid(e_max, widths=widths, points_per_width=FAST_POINTS_PER_WIDTH)
        resolved = max(g_sum, kt, float(v_mod_rms)) >= 4.0 * step
    nu_wire = wire_dos(grid, step, delta, g_z, cutoff, temperature, gamma_d=gamma_d)
    nu_tip = dynes_dos_cell_average(grid, step, delta_tip, gamma_tip)
    vgrid, cur = sis_current_from_dos(grid, step, nu_wire, nu_tip, temperature)
    return vgrid, cur, step, resolved


def sis_plasmon_current(
    bias: ArrayLike,
    delta: float,
    g_z: float,
    cutoff: float,
    temperature: float,
    delta_tip: float,
    gamma_tip: float,
    gamma_d: float = 0.0,
    *,
    resolution: Literal["fast", "reference"] = "reference",
) -> NDArray[np.float64]:
    r"""Quasiparticle current between a plasmon-dressed wire and a BCS/Dynes electrode (reconstructed).

    .. math::
        e R_T I(V) = \int dE\, \nu(E)\,\nu_T(E - eV)\,[f(E - eV) - f(E)],

    with :math:`\nu` from :func:`wire_dos` and :math:`\nu_T` the Dynes DOS of the electrode
    (Al in [3]_).  Because P(E) obeys detailed balance, this effective-DOS form is *identical* to
    the full P(E) expression
    :math:`\iint dE\,dE'\,\nu_T(E)\nu_S(E')\{f(E)[1-f(E')]P(E+eV-E') - [1-f(E)]f(E')P(E'-E-eV)\}`
    (physics note ``transport.md`` section 3.2(e), [DER]; the environment of the wide electrode
    is neglected, as in [3]_).

    Parameters
    ----------
    bias
        Wire (sample) bias V relative to the electrode, mV.
    delta
        Wire gap, meV, >= 0 (0.037-0.050 in [3]_).
    g_z
        Wire admittance :math:`g_Z = R_K/Z`, > 0 (``np.inf``: bare S-I-S).
    cutoff
        Plasmon cutoff :math:`\hbar\omega_c`, meV, > 0 [UNCONF].
    temperature
        Temperature, K, >= 0.
    delta_tip, gamma_tip
        Electrode gap and Dynes broadening, meV, >= 0 (Al: 0.19).
    gamma_d
        Dynes broadening of the bare wire DOS, meV, >= 0 (default 0).
    resolution
        ``"reference"`` (default): the grid rule of :func:`fitkit.physics.tunneling.sis_current`
        (``SIS_POINTS_PER_WIDTH`` cells per :math:`\Gamma+\Gamma_T`, k_B T, V_rms), i.e. exactly its
        numerics when :math:`1/g_Z = 0`; ``"fast"``: 16 cells per smallest width (k_B T, V_rms, Gamma_T),
        several times cheaper, relative error ~1e-4 near the peak.

    Returns
    -------
    numpy.ndarray
        :math:`I R_T` in mV, shape of ``bias``, odd in V.  At large bias
        :math:`I R_T \approx V - V_{off}` with :math:`V_{off}` containing
        :math:`\hbar\omega_c/(e g_Z)`.

    Raises
    ------
    ValueError
        If a parameter is out of range.

    Notes
    -----
    Grid from :func:`fitkit.physics.tunneling.tunneling_grid`; wire DOS by :func:`wire_dos`;
    current by :func:`fitkit.physics.tunneling.sis_current_from_dos` (one FFT correlation);
    cubic interpolation to ``bias``.  Physics note check C13 (Delta = 45 ueV, g_Z = 1.5,
    :math:`\hbar\omega_c` = 45 ueV, T = 21 mK, Delta_T = 190 ueV):
    :math:`I R_T` = 74.20, 181.35, 315.20 uV at V = 250, 300, 400 uV.

    References
    ----------
    .. [1] G.-L. Ingold and Yu. V. Nazarov, in *Single Charge Tunneling*, NATO ASI Series B 294
       (Plenum, 1992), pp. 21-107; arXiv:cond-mat/0508728.
    .. [2] A. Radkevich, A. G. Semenov and A. D. Zaikin, Phys. Rev. B 96, 085435 (2017).
    .. [3] K. Yu. Arutyunov et al., Commun. Phys. 4, 146 (2021).

    Examples
    --------
    >>> round(float(sis_plasmon_current(0.4, 0.045, 1.5, 0.045, 0.021, 0.19, 0.0) * 1e3), 1)
    315.2
    """
    v = np.asarray(bias, dtype=float)
    vmax = float(np.max(np.abs(v))) if v.size else 0.0
    vgrid, cur, _, _ = _wire_sis_on_grid(vmax, delta, g_z, cutoff, temperature, delta_tip, gamma_tip,
                                         gamma_d, 0.0, resolution)
    return interp_on_grid(vgrid, cur, v)


def sis_plasmon_conductance(
    bias: ArrayLike,
    delta: float,
    g_z: float,
    cutoff: float,
    temperature: float,
    delta_tip: float,
    gamma_tip: float,
    gamma_d: float = 0.0,
    v_mod_rms: float = 0.0,
    *,
    resolution: Literal["fast", "reference"] = "reference",
) -> NDArray[np.float64]:
    r"""Normalised differential conductance of a plasmon-dressed wire / BCS electrode junction.

    .. math::
        \frac{G(V)}{G_T} = \Big[K_{lock} * \frac{d}{dV}\int dE\,\nu(E)\,\nu_T(E - eV)\,
        [f(E - eV) - f(E)]\Big](V)

    with :math:`\nu` the plasmon-dressed wire DOS (:func:`wire_dos`, reconstructed model of
    Radkevich, Semenov and Zaikin [2]_) and :math:`\nu_T` the Dynes DOS of the electrode.

    Parameters
    ----------
    bias
        Wire bias V, mV.
    delta
        Wire gap, meV, >= 0.
    g_z
        Wire admittance :math:`g_Z = R_K/Z`, > 0 (``np.inf``: bare S-I-S).
    cutoff
        Plasmon cutoff :math:`\hbar\omega_c`, meV, > 0 [UNCONF].
    temperature
        Temperature, K, >= 0.
    delta_tip, gamma_tip
        Electrode gap and Dynes broadening, meV, >= 0 (Al: 0.19 meV).
    gamma_d
        Dynes broadening of the bare wire DOS, meV, >= 0.
    v_mod_rms
        Lock-in modulation, rms, mV, >= 0.
    resolution
        ``"reference"``: grid and derivative scheme of
        :func:`fitkit.physics.tunneling.sis_conductance` (identical to it at :math:`1/g_Z = 0`);
        ``"fast"``: coarser grid (16 cells per k_B T), for fitting.

    Returns
    -------
    numpy.ndarray
        :math:`G/G_T` (dimensionless), shape of ``bias``, even in V; peak near
        :math:`e|V| = \Delta + \Delta_T`, broadened and lowered for small :math:`g_Z`.

    Raises
    ------
    ValueError
        If a parameter is out of range.

    Notes
    -----
    The current on the grid comes from :func:`fitkit.physics.tunneling.sis_current_from_dos`;
    the derivative follows the scheme of :func:`fitkit.physics.tunneling.sis_conductance`
    (removal of the two-box :math:`O(h^2)` blur when resolved, 4th-order central difference,
    lock-in kernel through :func:`fitkit.physics.thermal.smear`, cubic interpolation).  Status:
    effective-DOS identity exact [DER]; plasmon kernel reconstructed [UNCONF] (module docstring).

    References
    ----------
    .. [1] G.-L. Ingold and Yu. V. Nazarov, in *Single Charge Tunneling*, NATO ASI Series B 294
       (Plenum, 1992), pp. 21-107; arXiv:cond-mat/0508728.
    .. [2] A. Radkevich, A. G. Semenov and A. D. Zaikin, Phys. Rev. B 96, 085435 (2017).
    .. [3] K. Yu. Arutyunov et al., Commun. Phys. 4, 146 (2021).

    Examples
    --------
    >>> g = sis_plasmon_conductance([0.0, 1.0], 0.045, 1.5, 0.045, 0.021, 0.19, 1e-3)
    >>> [round(float(x), 2) for x in g]  # gap, and the slow approach to 1 (weight moved up by <E>)
    [0.0, 1.02]
    """
    v = np.asarray(bias, dtype=float)
    vmax = float(np.max(np.abs(v))) if v.size else 0.0
    vgrid, cur, step, resolved = _wire_sis_on_grid(vmax, delta, g_z, cutoff, temperature, delta_tip,
                                                   gamma_tip, gamma_d, v_mod_rms, resolution)
    g = conductance_from_current(vgrid, cur, step, v_mod_rms, resolved)
    return interp_on_grid(vgrid, g, v)
