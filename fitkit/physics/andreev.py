r"""Andreev (N/S point-contact) conductance: Dynes-broadened BTK and its extensions.

The module is long because the plain, polarised (three forms), two-gap and collective-gap BTK
functions share the complex-energy coefficients and the grid smearing; the next addition should move
the polarised forms into a module of their own.

All energies are in meV, temperatures in K, conductances normalised to the normal-state
conductance :math:`G_{NN}` of the same contact (so :math:`G/G_{NN}\to 1` at high bias).
For an electron, an energy of ``x`` meV corresponds to a bias of ``x`` mV.

Contents
--------
Zero-temperature spectra (evaluated point by point, vectorised):

* :func:`btk_coefficients` - Andreev and normal reflection probabilities :math:`A(E), B(E)`
  with the single complex-energy (Plecenik) formula.
* :func:`btk_t0` - :math:`(1+Z^2)(1+A-B)`.
* :func:`spin_polarized_t0` - spin-polarised BTK, Strijkers or Mazin/Woods polarised channel.
* :func:`two_gap_t0` - weighted sum of two BTK channels.
* :func:`collective_gap_t0` - the phenomenological collective-gap proposals PM-1, PM-2, PM-3.

Finite temperature, lock-in modulation and Gaussian smearing (energy grid + convolution,
composed from :func:`fitkit.physics.thermal.smear`):

* :func:`btk_conductance`, :func:`btk_polarized_conductance`, :func:`btk_two_gap_conductance`,
  :func:`collective_gap_conductance`.

Symbols
-------
=========================  ================  =====
symbol                     argument          unit
=========================  ================  =====
:math:`E`                  ``energy``        meV
:math:`\Delta`             ``delta``         meV
:math:`\Delta_{col}`       ``delta_col``     meV
:math:`\Gamma`             ``gamma``         meV
:math:`Z`                  ``z``             1
:math:`P`                  ``polarization``  1
:math:`T`                  ``temperature``   K
:math:`V_{rms}`            ``v_mod_rms``     meV (= mV of bias, rms)
:math:`\sigma`             ``smearing``      meV (Gaussian standard deviation)
=========================  ================  =====

References
----------
.. [BTK] G. E. Blonder, M. Tinkham, T. M. Klapwijk, "Transition from metallic to tunneling regimes in
   superconducting microconstrictions: Excess current, charge imbalance, and supercurrent conversion",
   Phys. Rev. B 25, 4515 (1982).
.. [Plecenik] A. Plecenik, M. Grajcar, S. Benacka, P. Seidel, A. Pfuch, "Finite-quasiparticle-lifetime
   effects in the differential conductance of Bi2Sr2CaCu2Oy/Au junctions", Phys. Rev. B 49, 10016 (1994).
.. [Strijkers] G. J. Strijkers, Y. Ji, F. Y. Yang, C. L. Chien, J. M. Byers, "Andreev reflections at
   metal/superconductor point contacts: Measurement and analysis", Phys. Rev. B 63, 104510 (2001).
.. [Mazin] I. I. Mazin, A. A. Golubov, B. Nadgorny, "Probing spin polarization with Andreev reflection:
   A theoretical basis", J. Appl. Phys. 89, 7576 (2001).
.. [Woods] G. T. Woods, R. J. Soulen Jr., I. Mazin, B. Nadgorny, M. S. Osofsky, J. Sanders, H. Srikanth,
   W. F. Egelhoff, R. Datla, "Analysis of point-contact Andreev reflection spectra in spin polarization
   measurements", Phys. Rev. B 70, 054416 (2004).
.. [Daghero] D. Daghero, R. S. Gonnelli, "Probing multiband superconductivity by point-contact
   spectroscopy", Supercond. Sci. Technol. 23, 043001 (2010), arXiv:0912.4858.
.. [Dubouchet] T. Dubouchet, B. Sacepe, J. Seidemann, D. Shahar, M. Sanquer, C. Chapelier, "Collective
   energy gap of preformed Cooper pairs in disordered superconductors", Nat. Phys. 15, 233 (2019),
   arXiv:1806.00323.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.signal import fftconvolve

from fitkit.constants import K_B_MEV_PER_K
from fitkit.physics import dos, thermal

__all__ = [
    "btk_coefficients",
    "btk_conductance",
    "btk_polarized_conductance",
    "btk_t0",
    "btk_two_gap_conductance",
    "btk_zero_bias_t0",
    "collective_gap_conductance",
    "collective_gap_t0",
    "POLARIZED_FORM_LABELS",
    "gaussian_smear",
    "spin_polarized_t0",
    "two_gap_t0",
]

PolarizedForm = Literal["strijkers", "mazin", "strijkers_continued"]
CollectiveForm = Literal["pm2", "pm1", "pm3"]

_POLARIZED_FORMS = ("strijkers", "mazin", "strijkers_continued")
POLARIZED_FORM_LABELS: dict[str, str] = {
    "strijkers": ("Strijkers et al. 2001 polarised channel; Gamma = 0 exact (cancellation-free), Gamma > 0 "
                  "as the Lorentzian (lifetime) broadening of the Gamma = 0 channel [reconstructed]: in-gap "
                  "transmission only through broadened quasiparticle states, ~ 2 Gamma/(pi Delta) at Z = 0"),
    "mazin": ("Mazin-Golubov-Nadgorny 2001 / Woods 2004 ballistic half-metal channel (evanescent Andreev "
              "hole); "
              "Gamma > 0 by the complex energy w = |E| + i Gamma, in-gap transmission proportional to the "
              "Dynes DOS Re[w/Omega]"),
    "strijkers_continued": ("Strijkers channel continued with the complex energy as B_u/(1 - A_u) "
                            "(fitkit <= 0.1 "
                            "behaviour, kept for reproducibility); UNPHYSICAL for Gamma > 0 at small Z: its "
                            "in-gap transmission tends to 1 as Z -> 0"),
}
"""One-line label of every polarised-channel form (used in docstrings, ``fitkit models`` and reports)."""
_COLLECTIVE_FORMS = ("pm2", "pm1", "pm3")


def _w_omega(energy: ArrayLike, delta: float, gamma: float) -> tuple[NDArray, NDArray]:
    # w = |E| + i Gamma lies in the closed first quadrant, so w^2 - Delta^2 has Im >= 0 and the
    # principal square root Omega is in the first quadrant too: the physical (retarded) branch.
    w = np.abs(np.asarray(energy, dtype=float)) + 1j * float(gamma)
    omega = np.sqrt(w * w - float(delta) ** 2 + 0j)
    return w, omega


def btk_coefficients(energy: ArrayLike, delta: float, gamma: float, z: float) -> tuple[NDArray, NDArray]:
    r"""BTK Andreev and normal-reflection probabilities with Dynes (complex-energy) broadening.

    With :math:`w = |E| + i\Gamma` and :math:`\Omega = \sqrt{w^2-\Delta^2}` (principal root),
    the BTK coherence factors :math:`u_0^2 = (w+\Omega)/2w`, :math:`v_0^2 = (w-\Omega)/2w` and
    :math:`\gamma = u_0^2 + Z^2(u_0^2-v_0^2)` give the single formula, valid for all :math:`E`,

    .. math::

        A(E) = \frac{|u_0^2 v_0^2|}{|\gamma|^2} = \frac{\Delta^2}{|w + (1+2Z^2)\,\Omega|^2},
        \qquad
        B(E) = \frac{|u_0^2-v_0^2|^2 Z^2(1+Z^2)}{|\gamma|^2}
             = \frac{4Z^2(1+Z^2)\,|\Omega|^2}{|w + (1+2Z^2)\,\Omega|^2}.

    The right-hand forms (multiplied through by :math:`4|w|^2`) have no :math:`1/w`, so
    :math:`E = 0` with :math:`\Gamma = 0` needs no special case.

    Parameters
    ----------
    energy
        Quasiparticle energy :math:`E` [meV], any shape.
    delta
        Gap :math:`\Delta \ge 0` [meV].
    gamma
        Dynes broadening :math:`\Gamma \ge 0` [meV].
    z
        BTK barrier strength :math:`Z` (dimensionless, any real; only :math:`Z^2` enters).

    Returns
    -------
    (A, B) : tuple of ndarray
        Probabilities (dimensionless), the shape of ``energy``; even in :math:`E`.

    Notes
    -----
    [confirmed] For :math:`\Gamma = 0` this is the piecewise BTK result: in the gap
    :math:`A = \Delta^2/[E^2 + (\Delta^2-E^2)(1+2Z^2)^2]`, :math:`B = 1-A`; above it
    :math:`A = (\varepsilon^2-1)/(\varepsilon+1+2Z^2)^2`, :math:`B = 4Z^2(1+Z^2)/(\varepsilon+1+2Z^2)^2`
    with :math:`\varepsilon = |E|/\sqrt{E^2-\Delta^2}`.  For :math:`\Gamma > 0`,
    :math:`A + B + C + D = 1` is not conserved; the conductance is kept as
    :math:`(1+Z^2)(1+A-B)` as in [Plecenik]_.  This is *not* the piecewise real-part variant
    (complex :math:`E` in the piecewise formulas, then :math:`\mathrm{Re}`), which is discontinuous
    at :math:`|E| = \Delta`.  The only point where the formula is 0/0 is
    :math:`E = \Gamma = \Delta = 0`; the normal-state limit :math:`A = 0`, :math:`B = Z^2/(1+Z^2)`
    is returned there.

    References
    ----------
    [BTK]_, [Plecenik]_ (see the module docstring for full citations).

    Examples
    --------
    >>> A, B = btk_coefficients(0.0, 1.0, 0.0, 0.5)
    >>> round(float(A), 6), round(float(B), 6)
    (0.444444, 0.555556)
    """
    w, omega = _w_omega(energy, delta, gamma)
    z2 = float(z) ** 2
    den = np.abs(w + (1.0 + 2.0 * z2) * omega) ** 2
    safe = den > 0.0
    den = np.where(safe, den, 1.0)
    a = np.where(safe, float(delta) ** 2 / den, 0.0)
    b = np.where(safe, 4.0 * z2 * (1.0 + z2) * np.abs(omega) ** 2 / den, z2 / (1.0 + z2))
    return a, b


def btk_t0(energy: ArrayLike, delta: float, gamma: float, z: float) -> NDArray:
    r"""Normalised BTK conductance at :math:`T = 0`: :math:`G/G_{NN} = (1+Z^2)\,[1 + A(E) - B(E)]`.

    Parameters
    ----------
    energy
        Energy :math:`E = eV` [meV].
    delta
        Gap [meV], :math:`\ge 0`.
    gamma
        Dynes broadening [meV], :math:`\ge 0`.
    z
        Barrier strength (dimensionless).

    Returns
    -------
    ndarray
        :math:`G/G_{NN}` (dimensionless), the shape of ``energy``.

    Notes
    -----
    [confirmed] Limits: :math:`Z = 0` gives 2 inside the gap; :math:`G(0) = 2(1+Z^2)/(1+2Z^2)^2`;
    :math:`G(\Delta) = 2(1+Z^2)`; :math:`Z\to\infty` gives the Dynes density of states
    :math:`\mathrm{Re}[w/\Omega]`.  Normalised to the normal-state conductance
    :math:`G_{NN} = G_{Sharvin}/(1+Z^2)`.

    References
    ----------
    [BTK]_, [Plecenik]_.

    Examples
    --------
    >>> round(float(btk_t0(0.5, 1.0, 0.0, 1.0)), 5)
    0.57143
    """
    a, b = btk_coefficients(energy, delta, gamma, z)
    return (1.0 + float(z) ** 2) * (1.0 + a - b)


def btk_zero_bias_t0(z: ArrayLike) -> NDArray:
    r"""Zero-bias, zero-temperature BTK conductance :math:`G(0)/G_{NN} = 2(1+Z^2)/(1+2Z^2)^2`.

    Parameters
    ----------
    z
        Barrier strength (dimensionless).

    Returns
    -------
    ndarray
        :math:`G(0)/G_{NN}`, between 0 and 2.

    Notes
    -----
    [confirmed] Decreasing in :math:`|Z|`; used to estimate :math:`Z` from a measured zero-bias value.
    """
    z2 = np.asarray(z, dtype=float) ** 2
    return 2.0 * (1.0 + z2) / (1.0 + 2.0 * z2) ** 2


def _strijkers_pass_fraction(w: NDArray, omega: NDArray, delta: float, z2: float) -> NDArray:
    r""":math:`B_p = B_u/(1-A_u)` of the Plecenik coefficients, evaluated without cancellation.

    With :math:`c = 1+2Z^2`, :math:`B_p = 2Z^2(c+1)|\Omega|^2 / [D_0 + 2Z^2(2\,\mathrm{Re}(w\bar\Omega)
    + (c+1)|\Omega|^2)]`, where :math:`D_0 = |w+\Omega|^2-\Delta^2 = 4|w+\Omega|\,\mathrm{Re}(w\bar\Omega)/
    (|w+\Omega|+|w-\Omega|)` (from :math:`\Delta^2 = |w+\Omega||w-\Omega|`) is a sum of non-negative
    terms.  The former form :math:`(c^2-1)|\Omega|^2/(|w+c\Omega|^2-\Delta^2)` subtracted two
    nearly equal numbers and lost all digits in the gap as :math:`Z\to 0` (1.0 instead of 0 at Z = 0).
    A 0/0 (Z = 0 in the gap at Gamma = 0) takes its limit 1.
    """
    re_w_om = (w * np.conj(omega)).real
    ap, am = np.abs(w + omega), np.abs(w - omega)
    with np.errstate(invalid="ignore", divide="ignore"):
        d0 = np.where(ap + am > 0.0, 4.0 * ap * re_w_om / np.where(ap + am > 0.0, ap + am, 1.0), 0.0)
    om2 = np.abs(omega) ** 2
    c1 = 2.0 + 2.0 * z2  # c + 1
    num = 2.0 * z2 * c1 * om2
    den = d0 + 2.0 * z2 * (2.0 * re_w_om + c1 * om2)
    ok = den > 0.0
    return np.where(ok, np.minimum(num / np.where(ok, den, 1.0), 1.0), 1.0)


_LIFETIME_NODES = 320


def _strijkers_lifetime(energy: NDArray, delta: float, gamma: float, z2: float) -> NDArray:
    r"""Strijkers polarised channel broadened by a Lorentzian of half-width Gamma (Gamma > 0).

    :math:`G_p^\Gamma(E) = \int dx\,L_\Gamma(E-x)\,G_p^0(x)`, with :math:`G_p^0` the
    :math:`\Gamma = 0` channel, which is :math:`\theta(|x|-\Delta)\,[1 + (1+Z^2)\,p(x)]`,
    :math:`p = 2c(c-1)(\varepsilon-1)/[(c+1)(c^2+1+2c\varepsilon)]`, :math:`c = 1+2Z^2`,
    :math:`\varepsilon = |x|/\sqrt{x^2-\Delta^2}`.  The step part is closed form (arctan); the
    :math:`p` part is integrated exactly against the Lorentzian for a piecewise-linear :math:`p`
    (product integration on nodes :math:`x = \Delta/\sin\phi`, uniform in :math:`\phi`), so any
    Gamma > 0, however small, is handled without resolving the Lorentzian.
    """
    e = np.asarray(energy, dtype=float)
    d, g = float(delta), float(gamma)
    step = 1.0 - (np.arctan((d - e) / g) + np.arctan((d + e) / g)) / np.pi
    if z2 == 0.0 or d == 0.0:
        return step
    c = 1.0 + 2.0 * z2
    phi = 0.5 * np.pi * np.arange(1, _LIFETIME_NODES + 1) / _LIFETIME_NODES
    x = d / np.sin(phi)[::-1]  # ascending from Delta
    cphi = np.cos(phi)[::-1]
    p = 2.0 * c * (2.0 * z2) * (1.0 - cphi) / ((c + 1.0) * ((c * c + 1.0) * cphi + 2.0 * c))
    slope = np.diff(p) / np.diff(x)
    flat = e.ravel()
    out = np.empty(flat.size)
    chunk = max(1, 2_000_000 // x.size)
    for i0 in range(0, flat.size, chunk):
        ee = flat[i0:i0 + chunk]
        total = np.zeros(ee.size)
        for sgn in (1.0, -1.0):
            u = x[None, :] - sgn * ee[:, None]
            at = np.arctan(u / g)
            lg = np.log(u * u + g * g)
            a_k = np.diff(at, axis=1) / np.pi
            b_k = 0.5 * g / np.pi * np.diff(lg, axis=1)
            # p(x) = p_k + s_k (x - x_k) = [p_k + s_k (E - x_k)] + s_k (x - E) on each segment
            total += ((p[:-1] + slope * (sgn * ee[:, None] - x[:-1])) * a_k + slope * b_k).sum(axis=1)
            # beyond the last node p is flat (p -> its large-x limit): Lorentzian tail mass times p
            total += p[-1] * (0.5 - at[:, -1] / np.pi)
        out[i0:i0 + chunk] = total
    return step + (1.0 + z2) * out.reshape(e.shape)


def spin_polarized_t0(energy: ArrayLike, delta: float, gamma: float, z: float, polarization: float,
                      *, form: PolarizedForm = "strijkers") -> NDArray:
    r"""Spin-polarised BTK at :math:`T = 0`: :math:`G = (1-P)\,G_u + P\,G_p`.

    :math:`G_u` is :func:`btk_t0` (Plecenik complex-energy BTK).  The fully polarised channel
    :math:`G_p` (no Andreev reflection) is, by ``form``:

    * ``"strijkers"`` (default) [Strijkers]_: for :math:`\Gamma = 0`, :math:`A_p = 0`,
      :math:`B_p = B_u/(1-A_u)` (:math:`=1` in the gap), :math:`G_p = (1+Z^2)(1-B_p)`, evaluated in a
      cancellation-free form (exactly 0 in the gap at every Z).  For :math:`\Gamma > 0`
      [reconstructed]: the Lorentzian (lifetime) broadening of that channel,
      :math:`G_p^\Gamma = L_\Gamma * G_p^0` -- the same operation that turns the BCS DOS into the
      Dynes DOS (:math:`N_D = L_\Gamma * N_{BCS}`), so the in-gap current flows only through the
      broadened quasiparticle states (:math:`\approx 2\Gamma/\pi\Delta` at :math:`E = 0`, Z = 0)
      and :math:`\Gamma\to 0` recovers the published channel continuously.
    * ``"mazin"`` [Mazin]_ [Woods]_ (ballistic half-metal, evanescent Andreev hole): with
      :math:`\beta = w/\Omega`, :math:`G_p = (1+Z^2)\,4\,\mathrm{Re}\,\beta/(|1+\beta|^2+4Z^2)`; 0 in the gap
      for :math:`\Gamma = 0`, proportional to the Dynes DOS :math:`\mathrm{Re}\,\beta` in the gap for
      :math:`\Gamma > 0`.
    * ``"strijkers_continued"``: :math:`B_p = B_u/(1-A_u)` with the complex-energy coefficients for all
      :math:`\Gamma` (the fitkit <= 0.1 form, kept to reproduce old fits).  Identical to ``"strijkers"``
      at :math:`\Gamma = 0`; **unphysical** for :math:`\Gamma > 0` at small Z (in-gap transmission
      :math:`\to 1` as :math:`Z\to 0`, 0.34 at :math:`\Gamma = 0.01\Delta`, Z = 0.1).

    Parameters
    ----------
    energy
        Energy [meV].
    delta
        Gap [meV], :math:`\ge 0`.
    gamma
        Dynes broadening [meV], :math:`\ge 0`.
    z
        Barrier strength (dimensionless).
    polarization
        Transport spin polarisation :math:`P`, in [0, 1].
    form
        ``"strijkers"``, ``"mazin"`` or ``"strijkers_continued"`` (see above and
        :data:`POLARIZED_FORM_LABELS`).

    Returns
    -------
    ndarray
        :math:`G/G_{NN}` (dimensionless).

    Raises
    ------
    ValueError
        If ``form`` is not one of the names.

    Notes
    -----
    [confirmed] For :math:`\Gamma = 0` the ``strijkers`` and ``mazin`` forms are the published ones;
    :math:`Z = 0` gives :math:`G(0) = 2(1-P)`.  The two differ near the gap edge: at
    :math:`E\to\Delta^+` Strijkers gives :math:`1+Z^2`, Mazin gives 0.  Default ``"strijkers"``:
    it is the channel of the Stoner/PCAR literature whose P values users compare with, it is
    unchanged at :math:`\Gamma = 0` (where most PCAR fits, e.g. :func:`fitkit.analysis.pcar.fit_pcar`,
    hold Gamma), and its :math:`\Gamma > 0` continuation is now physical.

    References
    ----------
    [Strijkers]_, [Mazin]_, [Woods]_, [Plecenik]_.

    Examples
    --------
    >>> round(float(spin_polarized_t0(0.0, 1.0, 0.0, 0.0, 0.5)), 6)
    1.0
    >>> float(spin_polarized_t0(0.5, 1.0, 0.0, 1e-8, 1.0))  # fully polarised, in the gap
    0.0
    """
    if form not in _POLARIZED_FORMS:
        raise ValueError(f"spin_polarized_t0: form={form!r} is not one of {list(_POLARIZED_FORMS)}")
    z2 = float(z) ** 2
    p = float(polarization)
    g_u = btk_t0(energy, delta, gamma, z)
    if p == 0.0:
        return g_u
    w, omega = _w_omega(energy, delta, gamma)
    if form == "strijkers" and float(gamma) > 0.0:
        g_p = _strijkers_lifetime(np.asarray(energy, dtype=float), float(delta), float(gamma), z2)
    elif form in ("strijkers", "strijkers_continued"):
        g_p = (1.0 + z2) * (1.0 - _strijkers_pass_fraction(w, omega, float(delta), z2))
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            beta = w / omega
        # Omega = 0 only at |E| = Delta with Gamma = 0: the channel's transmission vanishes (beta -> inf).
        beta_ok = np.isfinite(beta)
        beta = np.where(beta_ok, beta, 0.0)
        g_p = np.where(beta_ok, (1.0 + z2) * 4.0 * beta.real / (np.abs(1.0 + beta) ** 2 + 4.0 * z2), 0.0)
    return (1.0 - p) * g_u + p * g_p


def two_gap_t0(energy: ArrayLike, delta1: float, gamma1: float, z1: float, delta2: float, gamma2: float,
               z2: float, weight: float) -> NDArray:
    r"""Two-band BTK at :math:`T=0`, a weighted sum of two BTK channels.

    .. math:: G = w\,G_{BTK}(\Delta_1,\Gamma_1,Z_1) + (1-w)\,G_{BTK}(\Delta_2,\Gamma_2,Z_2)

    Parameters
    ----------
    energy
        Energy [meV].
    delta1, delta2
        Gaps of the two bands [meV].
    gamma1, gamma2
        Dynes broadenings [meV].
    z1, z2
        Barrier strengths of the two channels (often equal).
    weight
        Weight :math:`w \in [0, 1]` of band 1.

    Returns
    -------
    ndarray
        :math:`G/G_{NN}` (dimensionless).

    Notes
    -----
    [confirmed] The usual two-band phenomenology (independent parallel channels) [Daghero]_.

    References
    ----------
    [Daghero]_, [BTK]_.
    """
    w = float(weight)
    return w * btk_t0(energy, delta1, gamma1, z1) + (1.0 - w) * btk_t0(energy, delta2, gamma2, z2)


def collective_gap_t0(energy: ArrayLike, delta: float, delta_col: float, gamma: float, z: float,
                      *, form: CollectiveForm = "pm2", alpha: float = 1.0) -> NDArray:
    r"""Phenomenological Andreev conductance with a collective gap :math:`\Delta_{col} \ne \Delta` (T = 0).

    **These are phenomenological proposals of the fitkit physics note (§7.2), not published
    models.**  :math:`(A_c, B_c)` are BTK coefficients (:func:`btk_coefficients`) with gap
    :math:`\Delta_{col}`, :math:`(A_s, B_s)` with gap :math:`\Delta`, both with the same
    :math:`\Gamma` and :math:`Z`.

    * ``"pm2"`` (default, "Andreev window inside the single-particle gap"):
      :math:`A, B = A_c, B_c` for :math:`|E| < \Delta_{col}`; :math:`A = A_c, B = 1-A_c` for
      :math:`\Delta_{col} \le |E| < \Delta`; :math:`A, B = A_s, B_s` for :math:`|E| \ge \Delta`;
      :math:`G = (1+Z^2)(1+A-B)`.
    * ``"pm3"`` ("channel decomposition"): :math:`G = (1+Z^2)[2A_c + (1 - A_s - B_s)]`.
    * ``"pm1"`` ("parallel channels"):
      :math:`G = (1-\alpha)\,N_D(E;\Delta,\Gamma) + \alpha\,(1+Z_A^2)(1 + A_c - B_c)`, where
      :math:`Z_A` is ``z`` (the barrier of the Andreev channel) and :math:`N_D` the Dynes DOS.

    Parameters
    ----------
    energy
        Energy [meV].
    delta
        Single-particle gap :math:`\Delta` [meV].
    delta_col
        Collective (Andreev-window) gap :math:`\Delta_{col}` [meV], intended range
        :math:`0 \le \Delta_{col} \le \Delta`.
    gamma
        Dynes broadening [meV].
    z
        Barrier strength (``pm1``: of the Andreev channel).
    form
        ``"pm2"``, ``"pm1"`` or ``"pm3"``.
    alpha
        Andreev-channel weight of ``pm1`` in [0, 1]; ignored by ``pm2`` and ``pm3``.

    Returns
    -------
    ndarray
        :math:`G/G_{NN}` (dimensionless).

    Raises
    ------
    ValueError
        If ``form`` is unknown.

    Notes
    -----
    [reconstructed] ``pm2`` and ``pm3`` reduce exactly to Dynes-BTK when
    :math:`\Delta_{col} = \Delta`.  ``pm1`` with :math:`\Delta_{col}=\Delta` is the weighted sum of
    BTK(:math:`Z_A`) and its :math:`Z\to\infty` limit; it is exactly BTK only for
    :math:`\alpha = 1`.  The PM-2 regions use the real :math:`|E|`; if
    :math:`\Delta_{col} > \Delta` the middle region is empty and PM-2 is BTK(:math:`\Delta_{col}`)
    below :math:`\Delta` and BTK(:math:`\Delta`) above.  Dubouchet et al. [Dubouchet]_ report
    the peaks at :math:`\pm\Delta_{col}` and give no fitting model.

    References
    ----------
    [Dubouchet]_, [BTK]_, [Plecenik]_.

    Examples
    --------
    >>> round(float(collective_gap_t0(0.61, 0.6, 0.2, 0.0, 0.5)), 5)
    1.96774
    """
    if form not in _COLLECTIVE_FORMS:
        raise ValueError(f"collective_gap_t0: form={form!r} is not one of {list(_COLLECTIVE_FORMS)}")
    e_abs = np.abs(np.asarray(energy, dtype=float))
    z2 = float(z) ** 2
    a_c, b_c = btk_coefficients(e_abs, delta_col, gamma, z)
    if form == "pm1":
        al = float(alpha)
        andreev_part = al * (1.0 + z2) * (1.0 + a_c - b_c)
        if al == 1.0:  # skip the DOS: 0 * inf at |E| = Delta for Gamma = 0
            return andreev_part
        return (1.0 - al) * dos.dynes_dos(e_abs, delta, gamma) + andreev_part
    a_s, b_s = btk_coefficients(e_abs, delta, gamma, z)
    if form == "pm3":
        return (1.0 + z2) * (2.0 * a_c + 1.0 - a_s - b_s)
    outer = e_abs >= float(delta)
    middle = (e_abs >= float(delta_col)) & ~outer
    a = np.where(outer, a_s, a_c)
    b = np.where(outer, b_s, np.where(middle, 1.0 - a_c, b_c))
    return (1.0 + z2) * (1.0 + a - b)


def gaussian_smear(energy_grid: NDArray, values: NDArray, sigma: float) -> NDArray:
    r"""Convolve values on a uniform energy grid with a unit-area Gaussian of standard deviation ``sigma``.

    .. math:: G_\sigma(E) = \int d\epsilon\, G(E-\epsilon)\,
              \frac{e^{-\epsilon^2/2\sigma^2}}{\sqrt{2\pi}\sigma}

    Parameters
    ----------
    energy_grid
        Uniform, increasing energy grid [meV].
    values
        Function values on the grid.
    sigma
        Standard deviation [meV], :math:`\ge 0`; 0 returns a copy.

    Returns
    -------
    ndarray
        Smeared values on the same grid.

    Notes
    -----
    Convention: :math:`\sigma = \omega` of the current Stoner-PythonCode Strijkers model (an older
    Stoner version used :math:`\exp[-((E-V)/2\omega)^2]`, i.e. :math:`\sigma=\sqrt2\,\omega`).
    Beyond the grid ends the values are continued with the end values (a conductance is flat
    far from the gap).  The kernel is sampled on the grid and renormalised to unit sum; a
    sigma below a tenth of the grid step leaves the values unchanged.
    """
    values = np.asarray(values, dtype=float)
    sigma = float(sigma)
    step = float(energy_grid[1] - energy_grid[0])
    if sigma <= 0.1 * step:
        return values.copy()
    half = int(np.ceil(6.0 * sigma / step))
    k = np.arange(-half, half + 1) * step
    kernel = np.exp(-0.5 * (k / sigma) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(values, half, mode="edge")
    return fftconvolve(padded, kernel, mode="valid")


_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(8)
_GL_U = 0.5 * (_GL_NODES + 1.0)
_GL_WU = 0.5 * _GL_WEIGHTS * 2.0 * _GL_U  # weights of int_0^1 g(u^2) 2u du
_EDGE_CELLS = 4


def _grid_values(spectrum: Callable[[NDArray], NDArray], grid: NDArray, step: float,
                 edges: tuple[float, ...]) -> NDArray:
    """Spectrum on a grid: point values, replaced by exact cell averages near the gap edges.

    With Gamma -> 0 a BTK spectrum has square-root cusps, jumps (polarised channel, PM-2) or
    integrable 1/sqrt singularities (PM-1 DOS) at |E| = Delta.  Point sampling of such a feature
    has an O(h^1.5) or O(h) error; cell averages make the discrete convolution exact up to the
    smooth blur of the scheme (see :mod:`fitkit.physics.thermal`).  Each cell within
    ``_EDGE_CELLS`` cells of an edge is split at the edge and each part is integrated with
    8-point Gauss-Legendre after the substitution x = anchor +/- length * u^2, which is exact
    for sqrt and 1/sqrt behaviour at the anchor.
    """
    values = np.array(spectrum(grid), dtype=float)
    points = np.array([sgn * d for d in edges if d > 0.0 for sgn in (-1.0, 1.0)])
    if points.size == 0:
        return values
    centre = np.rint((points - grid[0]) / step).astype(np.intp)
    idx = np.unique((centre[:, None] + np.arange(-_EDGE_CELLS, _EDGE_CELLS + 1)[None, :]).ravel())
    idx = idx[(idx >= 0) & (idx < grid.size)]
    if idx.size == 0:
        return values
    x0 = grid[idx]
    nearest = points[np.argmin(np.abs(x0[:, None] - points[None, :]), axis=1)]
    lo, hi = x0 - 0.5 * step, x0 + 0.5 * step
    split = np.clip(nearest, lo, hi)
    u2 = _GL_U**2
    left = (split - lo)[:, None]
    right = (hi - split)[:, None]
    x = np.concatenate([(split[:, None] - left * u2).ravel(), (split[:, None] + right * u2).ravel()])
    f = np.asarray(spectrum(x), dtype=float).reshape(2, idx.size, _GL_U.size)
    integral = (f[0] * _GL_WU).sum(axis=1) * left[:, 0] + (f[1] * _GL_WU).sum(axis=1) * right[:, 0]
    values[idx] = integral / step
    return values


def _broadened(spectrum: Callable[[NDArray], NDArray], energy: ArrayLike, edges: tuple[float, ...],
               temperature: float, v_mod_rms: float, smearing: float, width: float) -> NDArray:
    """Evaluate a T = 0 spectrum on an energy grid, apply thermal, lock-in and Gaussian smearing.

    ``spectrum(e)`` returns the T = 0 spectrum at energies ``e`` [meV]; ``edges`` are its gap
    edges [meV] (size the grid and get exact cell averages), ``width`` is its narrowest feature.
    """
    e = np.asarray(energy, dtype=float)
    t = float(temperature)
    v = float(v_mod_rms)
    s = float(smearing)
    if t < 0.0 or v < 0.0 or s < 0.0:
        raise ValueError(f"temperature ({t} K), v_mod_rms ({v} mV) and smearing ({s} meV) must be >= 0")
    if t == 0.0 and v == 0.0 and s == 0.0:
        return spectrum(e)
    kt = K_B_MEV_PER_K * t
    e_top = float(np.max(np.abs(e))) if e.size else 0.0
    # Window: the data plus the kernels' reach; smear() continues the grid with its edge values.
    e_max = max(e_top, 2.0 * max(edges)) + 12.0 * kt + 3.0 * v + 6.0 * s
    # Features much narrower than the narrowest smearing kernel need not be resolved point by point
    # (cell averages at the edges carry their weight); this bounds the grid for Z >> 1 and Gamma -> 0.
    kernel_width = min(x for x in (kt, v, s) if x > 0.0)
    grid, step = thermal.choose_grid(e_max, widths=(max(width, 0.125 * kernel_width), kt, v, s))
    g = _grid_values(spectrum, grid, step, edges)
    if t > 0.0 or v > 0.0:
        g = thermal.smear(grid, g, t, v)
    if s > 0.0:
        g = gaussian_smear(grid, g, s)
    return thermal.interp_on_grid(grid, g, e)


def _feature_width(delta: float, gamma: float, z: float) -> float:
    # With Gamma = 0 the BTK gap-edge peak has A >= 1/2 over Delta - E <~ Delta / (2 (1 + 2 Z^2)^2);
    # Dynes broadening widens it to ~Gamma.  Half of that width keeps the O(h^2) blur of the grid
    # scheme on this curved peak below ~5e-5 (checked against quad on the physics-note check 13).
    return max(float(gamma), 0.25 * float(delta) / (1.0 + 2.0 * float(z) ** 2) ** 2)


def btk_conductance(energy: ArrayLike, delta: float, gamma: float, z: float, temperature: float = 0.0,
                    v_mod_rms: float = 0.0, smearing: float = 0.0) -> NDArray:
    r"""BTK conductance with Dynes broadening, temperature, lock-in modulation and Gaussian smearing.

    .. math::

        \frac{G(V)}{G_{NN}} = \Big[K_\sigma * K_{lock} * \Big((1+Z^2)\!\int\! d\epsilon\,
        [1 + A(\epsilon) - B(\epsilon)]\Big(-\frac{\partial f(\epsilon - E)}{\partial \epsilon}\Big)
        \Big)\Big](E = eV)

    The :math:`T = 0` spectrum :func:`btk_t0` is evaluated on a uniform energy grid
    (:func:`fitkit.physics.thermal.choose_grid`), convolved with :math:`-f'` and the lock-in
    semicircle (:func:`fitkit.physics.thermal.smear`), then with a Gaussian of standard
    deviation ``smearing`` (:func:`gaussian_smear`), and interpolated at ``energy``.

    Parameters
    ----------
    energy
        Energy :math:`E = eV` [meV] (bias in mV).
    delta
        Gap [meV], :math:`\ge 0`.
    gamma
        Dynes broadening [meV], :math:`\ge 0`.
    z
        Barrier strength (dimensionless).
    temperature
        Electron temperature [K], :math:`\ge 0`.
    v_mod_rms
        Lock-in modulation [mV rms], :math:`\ge 0`.
    smearing
        Gaussian standard deviation :math:`\sigma` [meV], :math:`\ge 0` (Stoner's :math:`\omega`).

    Returns
    -------
    ndarray
        :math:`G/G_{NN}` (dimensionless), the shape of ``energy``.

    Notes
    -----
    With all three broadenings zero the exact :math:`T=0` values are returned (no grid).  The
    grid step resolves :math:`k_BT`, :math:`V_{rms}`, :math:`\sigma` and the narrowest spectral
    feature, :math:`\max(\Gamma, \Delta/4(1+2Z^2)^2)` (the gap-edge peak), but need not go below
    1/8 of the narrowest smearing kernel; grid cells within 4 steps of a gap edge hold exact cell
    averages (split at the edge, Gauss-Legendre after a square-root substitution), so
    square-root cusps, jumps and 1/sqrt singularities at :math:`|E| = \Delta` cost no accuracy.
    Measured: agreement with an adaptive ``quad`` of the same integral to better than 1e-4
    relative (physics-note checks 13, 14, 16, 17 to their printed digits, 1e-4 at the
    :math:`\Gamma = 0` gap edge).

    References
    ----------
    [BTK]_, [Plecenik]_.

    Examples
    --------
    >>> round(float(btk_conductance(0.0, 1.0, 0.0, 0.5, temperature=0.0)), 5)
    1.11111
    """
    return _broadened(partial(btk_t0, delta=delta, gamma=gamma, z=z), energy, (float(delta),),
                      temperature, v_mod_rms, smearing, _feature_width(delta, gamma, z))


def btk_polarized_conductance(energy: ArrayLike, delta: float, gamma: float, z: float, polarization: float,
                              temperature: float = 0.0, v_mod_rms: float = 0.0, smearing: float = 0.0,
                              *, form: PolarizedForm = "strijkers") -> NDArray:
    r"""Spin-polarised BTK (:func:`spin_polarized_t0`) with temperature, lock-in and Gaussian smearing.

    Parameters
    ----------
    energy
        Energy [meV].
    delta
        Gap [meV].
    gamma
        Dynes broadening [meV].
    z
        Barrier strength.
    polarization
        Spin polarisation :math:`P \in [0, 1]`.
    temperature
        Electron temperature [K].
    v_mod_rms
        Lock-in modulation [mV rms].
    smearing
        Gaussian standard deviation [meV] (Stoner convention :math:`\sigma = \omega`).
    form
        ``"strijkers"`` or ``"mazin"``.

    Returns
    -------
    ndarray
        :math:`G/G_{NN}`.

    Notes
    -----
    Broadening as in :func:`btk_conductance`.  Stoner's PCAR model is ``temperature=0`` with
    ``smearing`` :math:`=\omega` and ``form="strijkers"``.

    References
    ----------
    [Strijkers]_, [Mazin]_, [Woods]_.
    """
    if form not in _POLARIZED_FORMS:
        raise ValueError(f"btk_polarized_conductance: form={form!r} is not one of {list(_POLARIZED_FORMS)}")
    spectrum = partial(spin_polarized_t0, delta=delta, gamma=gamma, z=z, polarization=polarization,
                       form=form)
    return _broadened(spectrum, energy, (float(delta),), temperature, v_mod_rms, smearing,
                      _feature_width(delta, gamma, z))


def btk_two_gap_conductance(energy: ArrayLike, delta1: float, gamma1: float, z1: float, delta2: float,
                            gamma2: float, z2: float, weight: float, temperature: float = 0.0,
                            v_mod_rms: float = 0.0, smearing: float = 0.0) -> NDArray:
    r"""Two-band BTK (:func:`two_gap_t0`) with temperature, lock-in and Gaussian smearing.

    Parameters
    ----------
    energy
        Energy [meV].
    delta1, gamma1, z1
        Gap [meV], broadening [meV] and barrier of band 1.
    delta2, gamma2, z2
        The same for band 2.
    weight
        Weight of band 1 in [0, 1].
    temperature
        Electron temperature [K].
    v_mod_rms
        Lock-in modulation [mV rms].
    smearing
        Gaussian standard deviation [meV].

    Returns
    -------
    ndarray
        :math:`G/G_{NN}`.

    References
    ----------
    [Daghero]_.
    """
    width = min(_feature_width(delta1, gamma1, z1), _feature_width(delta2, gamma2, z2))
    spectrum = partial(two_gap_t0, delta1=delta1, gamma1=gamma1, z1=z1, delta2=delta2, gamma2=gamma2,
                       z2=z2, weight=weight)
    return _broadened(spectrum, energy, (float(delta1), float(delta2)), temperature, v_mod_rms, smearing,
                      width)


def collective_gap_conductance(energy: ArrayLike, delta: float, delta_col: float, gamma: float, z: float,
                               temperature: float = 0.0, v_mod_rms: float = 0.0, smearing: float = 0.0,
                               *, form: CollectiveForm = "pm2", alpha: float = 1.0) -> NDArray:
    r"""Collective-gap Andreev conductance (:func:`collective_gap_t0`) with thermal and lock-in smearing.

    **Phenomenological proposal (PM-1/2/3 of the fitkit physics note), not a published model.**

    Parameters
    ----------
    energy
        Energy [meV].
    delta
        Single-particle gap [meV].
    delta_col
        Collective gap [meV].
    gamma
        Dynes broadening [meV].
    z
        Barrier strength.
    temperature
        Electron temperature [K].
    v_mod_rms
        Lock-in modulation [mV rms].
    smearing
        Gaussian standard deviation [meV].
    form
        ``"pm2"`` (default), ``"pm1"`` or ``"pm3"``.
    alpha
        ``pm1`` Andreev-channel weight.

    Returns
    -------
    ndarray
        :math:`G/G_{NN}`.

    Notes
    -----
    ``pm1`` with :math:`\Gamma = 0` has the integrable BCS singularity at :math:`\Delta`; the grid
    uses exact cell averages there, so finite temperature or smearing handles it.  With
    :math:`\Gamma > 0`, ``pm2`` keeps its hard region edges at :math:`|E| = \Delta_{col}, \Delta`
    (as specified in the physics note), so for :math:`Z \to \infty` it tends to the Dynes DOS *cut
    to zero* for :math:`|E| < \Delta`, not to the full Dynes DOS (``pm3`` tends to the full one);
    the difference is the Dynes tail below :math:`\Delta`, of width :math:`\sim\sqrt{\Delta\Gamma}`.

    References
    ----------
    [Dubouchet]_, [BTK]_.
    """
    if form not in _COLLECTIVE_FORMS:
        raise ValueError(f"collective_gap_conductance: form={form!r} is not one of {list(_COLLECTIVE_FORMS)}")
    width = min(_feature_width(delta, gamma, z), _feature_width(delta_col, gamma, z))
    spectrum = partial(collective_gap_t0, delta=delta, delta_col=delta_col, gamma=gamma, z=z, form=form,
                       alpha=alpha)
    return _broadened(spectrum, energy, (float(delta), float(delta_col)), temperature, v_mod_rms,
                      smearing, width)
