r"""Field- and pair-breaking-dependent tunnelling DOS: Abrikosov-Gor'kov / Maki with Zeeman and spin-orbit.

For the two spin bands :math:`s = \pm` the reduced complex energies :math:`u_\pm` solve (Maki 1964;
Meservey and Tedrow 1994, eq. for the spin-split DOS) [STD]

.. math::
    u_\pm = \frac{E \mp h + i\Gamma}{\Delta} + \zeta\,\frac{u_\pm}{\sqrt{1-u_\pm^2}}
            + b\,\frac{u_\mp - u_\pm}{\sqrt{1-u_\mp^2}},

with :math:`h = (g/2)\,\mu_B B` the Zeeman energy, :math:`\zeta` the orbital (Abrikosov-Gor'kov)
depairing parameter, :math:`b = \hbar/(3\tau_{so}\Delta)` the spin-orbit mixing and :math:`\Gamma` an
optional Dynes broadening (complex energy).  The spin-resolved DOS is
:math:`N_\pm = \tfrac12\,\mathrm{Im}[u_\pm/\sqrt{1-u_\pm^2}]` (principal root, :math:`\mathrm{Im}\,u \ge 0`;
equal to :math:`\tfrac12\mathrm{Re}[u/\sqrt{u^2-1}]` on the physical branch) and the tunnel DOS seen by an
unpolarised counter-electrode is :math:`N = N_+ + N_-` (normalised to the normal DOS).

Limits (tests/physics/test_maki.py): :math:`\zeta = b = h = 0` is BCS/Dynes; :math:`b = 0` gives two
AG bands shifted by :math:`\pm h` (peaks at :math:`\pm\Delta\pm h` for :math:`\zeta\to 0`); the AG spectral
gap edge is :math:`E_g = \Delta(1-\zeta^{2/3})^{3/2}` (gapless for :math:`\zeta \ge 1`); large :math:`b`
merges the Zeeman-split peaks.  :math:`\Delta` is a parameter (no self-consistency).

Numerics (vectorised over the energy grid; no Python loop over energies).  :math:`b = 0`: each band is
the AG equation :math:`F(u) = u - a - \zeta u/\sqrt{1-u^2} = 0`, solved by damped Newton on all energies at
once (start :math:`a + i\zeta`, iterates kept in the upper half plane, a minimum imaginary part
:math:`10^{-9}\Delta` of the energy selecting the retarded root in the gap); points that do not converge
fall back to the roots of the equivalent quartic :math:`(u-a)^2(1-u^2) = \zeta^2u^2` (companion matrices),
choosing the root that satisfies the principal-branch equation with the largest :math:`\mathrm{Im}\,u`.
The DOS then has the closed antiderivative

.. math:: \int N\,dE = \Delta\,\mathrm{Im}\Big[-\sqrt{1-u^2} - \frac{\zeta}{2(1-u^2)}\Big]

([DER], from :math:`dE/du = \Delta(1 - \zeta(1-u^2)^{-3/2})`), so exact cell averages feed the same
thermal/lock-in machinery as the Dynes DOS (:mod:`fitkit.physics.thermal`), whatever :math:`\zeta`.
:math:`b > 0`: Newton on the coupled pair (2x2 complex Jacobian per energy) with a homotopy in the
imaginary part of the energy (from far above the real axis down to Gamma); Simpson cell averages of
the DOS.  :math:`\zeta = b = 0`: the Dynes closed forms of :mod:`fitkit.physics.dos` (shifted by
:math:`\pm h`).

Units: energies meV, field T, temperatures K; DOS dimensionless.

References
----------
.. [1] K. Maki, "Pauli paramagnetism and superconducting state. II", Prog. Theor. Phys. 32, 29 (1964).
.. [2] A. A. Abrikosov and L. P. Gor'kov, Sov. Phys. JETP 12, 1243 (1961) (pair breaking by magnetic
   impurities); S. Skalski, O. Betbeder-Matibet and P. R. Weiss, Phys. Rev. 136, A1500 (1964) (AG DOS).
.. [3] R. Meservey and P. M. Tedrow, "Spin-polarized electron tunneling", Phys. Rep. 238, 173 (1994).
.. [4] fitkit physics note ``films_and_fields.md`` section 1 (equations, limits, check values).
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import constants as _sc

from fitkit.constants import K_B_MEV_PER_K
from fitkit.physics.dos import dynes_dos_antiderivative
from fitkit.physics.thermal import THERMAL_CUTOFF, interp_uniform, smear_uniform
from fitkit.physics.tunneling import (
    _tunneling_grid_size,
    conductance_from_current,
    sis_current_from_dos,
    sis_grid,
)

__all__ = [
    "MU_B_MEV_PER_T",
    "ag_gap_edge",
    "ag_u",
    "maki_dos",
    "maki_dos_antiderivative",
    "maki_dos_cell_average",
    "maki_u",
    "nis_maki_conductance",
    "sis_maki_conductance",
    "zeeman_energy",
]

MU_B_MEV_PER_T: float = _sc.physical_constants["Bohr magneton in eV/T"][0] * 1e3
"""Bohr magneton, meV/T (CODATA via scipy; 5.7883818060e-2)."""

_ETA_MIN: float = 1e-9
"""Minimum imaginary part of the reduced energy (selects the retarded root in the gap)."""

_NEWTON_ITER: int = 60
_NEWTON_TOL: float = 1e-9
_ETA_STAGES: int = 24


def zeeman_energy(field: float, g_factor: float = 2.0) -> float:
    r"""Zeeman energy :math:`h = (g/2)\,\mu_B B` in meV (field in T); 0.057884 meV at 1 T, g = 2."""
    return 0.5 * float(g_factor) * MU_B_MEV_PER_T * float(field)


def ag_gap_edge(zeta: float) -> float:
    r"""AG spectral gap in units of Delta: :math:`(1-\zeta^{2/3})^{3/2}` (0 for zeta >= 1) [STD]."""
    z = float(zeta)
    return float(max(1.0 - z ** (2.0 / 3.0), 0.0) ** 1.5) if z >= 0 else float("nan")


def _check(delta: float, zeta: float, b_so: float, gamma: float, where: str) -> None:
    vals = {"delta": delta, "zeta": zeta, "b_so": b_so, "gamma": gamma}
    bad = {k: v for k, v in vals.items() if not (np.isfinite(v) and v >= 0)}
    if bad:
        raise ValueError(
            f"{where}: {bad} must be finite and >= 0 (delta, gamma in meV; zeta, b_so dimensionless)"
        )


def _root(u: NDArray[np.complex128]) -> NDArray[np.complex128]:
    r"""Retarded :math:`\sqrt{1-u^2} = -i\sqrt{u-1}\sqrt{u+1}` (principal roots; cut on [-1, 1]).

    Equal to the principal :math:`\sqrt{1-u^2}` in the upper half plane, and analytic across the real
    axis for :math:`|\mathrm{Re}\,u| > 1`: with spin-orbit mixing at finite field one band's root can
    have a slightly negative imaginary part above the gap (its damping :math:`\zeta - 2bh/E` is
    negative), where the principal form would jump to the advanced branch.
    """
    return -1j * np.sqrt(u - 1.0) * np.sqrt(u + 1.0)


def _ag_residual(u: NDArray[np.complex128], a: NDArray[np.complex128], zeta: float) -> NDArray[np.complex128]:
    return u - a - zeta * u / _root(u)


def _ag_quartic_roots(a: NDArray[np.complex128], zeta: float) -> NDArray[np.complex128]:
    """Physical root of the AG equation from the quartic (companion matrices); slow, used as fallback."""
    n = a.size
    comp = np.zeros((n, 4, 4), dtype=complex)
    # u^4 - 2a u^3 - (1 - a^2 - zeta^2) u^2 + 2a u - a^2 = 0
    comp[:, 0, :] = -np.stack([-2.0 * a, -(1.0 - a * a - zeta * zeta), 2.0 * a, -a * a], axis=1)
    comp[:, 1, 0] = comp[:, 2, 1] = comp[:, 3, 2] = 1.0
    roots: NDArray[np.complex128] = np.asarray(np.linalg.eigvals(comp), dtype=complex)
    for _ in range(3):  # polish on the quartic
        p = ((roots - 2.0 * a[:, None]) * roots - (1.0 - a[:, None] ** 2 - zeta * zeta)) * roots
        p = (p + 2.0 * a[:, None]) * roots - a[:, None] ** 2
        dp = ((4.0 * roots - 6.0 * a[:, None]) * roots - 2.0 * (1.0 - a[:, None] ** 2 - zeta * zeta)) * roots
        dp = dp + 2.0 * a[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(dp != 0, p / dp, 0.0)
        roots = roots - step
    res = np.abs(_ag_residual(roots, a[:, None], zeta)) / (1.0 + np.abs(a[:, None]))
    score = np.where(res < 1e-8, roots.imag, -np.inf)
    best = np.argmax(score, axis=1)
    return roots[np.arange(n), best]


def _ag_newton(aa: NDArray[np.complex128], z: float) -> NDArray[np.complex128]:
    """Damped Newton for the AG root on all energies at once (Re a >= 0, Im a > 0)."""
    # start at the large-|a| asymptote a + i zeta (deterministic: the same input gives the same bits)
    u = aa + 1j * z
    active: NDArray[np.intp] | None = None  # None: all points (no gather while most are active)
    for _ in range(_NEWTON_ITER):
        ua = u if active is None else u[active]
        av = aa if active is None else aa[active]
        s = _root(ua)
        f = ua - av - z * ua / s
        step = f / (1.0 - z / (s * s * s))
        # damping: never move by more than half the distance to the real-axis branch points
        lim = 0.5 * (np.abs(ua - 1.0) + 0.05) * (np.abs(ua + 1.0) + 0.05)
        mag = np.abs(step)
        big = mag > lim
        if np.any(big):
            step = np.where(big, step * (lim / np.where(big, mag, 1.0)), step)
            mag = np.minimum(mag, lim)
        new = ua - step
        neg = new.imag < 0.0
        if np.any(neg):
            new = new.real + 1j * np.maximum(new.imag, 0.0)
        if active is None:
            u = new
        else:
            u[active] = new
        # quadratic convergence: after a step of size s the error is O(s^2)
        done = mag <= _NEWTON_TOL * (1.0 + np.abs(new))
        idx = np.arange(u.size) if active is None else active
        remaining = idx[~done]
        if remaining.size == 0:
            break
        active = remaining if remaining.size < 0.5 * u.size or active is not None else None
    return u


def ag_u(a: ArrayLike, zeta: float) -> NDArray[np.complex128]:
    r"""Retarded root :math:`u` of the AG equation :math:`u = a + \zeta u/\sqrt{1-u^2}` (one spin band).

    Parameters
    ----------
    a
        Reduced complex energies :math:`(E + i\Gamma)/\Delta` (any real part, imaginary part >= 0).
    zeta
        Depairing parameter :math:`\zeta \ge 0`.

    Returns
    -------
    numpy.ndarray
        Complex :math:`u` with :math:`\mathrm{Im}\,u \ge 0` (shape of ``a``).  Imaginary parts below
        :math:`10^{-9}` of ``a`` are raised to :math:`10^{-9}` (retarded branch in the gap).

    Notes
    -----
    Symmetry :math:`u(-\bar a) = -\bar u(a)`: the root is found for :math:`\mathrm{Re}\,a \ge 0` and mirrored.
    """
    a_in = np.asarray(a, dtype=complex)
    z = float(zeta)
    re = a_in.real
    sgn = np.where(re < 0, -1.0, 1.0)
    aa = (np.abs(re) + 1j * np.maximum(a_in.imag, _ETA_MIN)).ravel()
    u: NDArray[np.complex128]
    if z == 0.0:
        u = aa.copy()
    else:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            u = _ag_newton(aa, z)
            res = np.abs(_ag_residual(u, aa, z)) / (1.0 + np.abs(aa))
            bad = ~(res < 1e-11) | ~np.isfinite(u)
        if np.any(bad):
            u[bad] = _ag_quartic_roots(aa[bad], z)
    u = np.asarray(u, dtype=complex).reshape(a_in.shape)
    return np.where(sgn < 0, -np.conj(u), u)


def _dos_from_u(u: NDArray[np.complex128]) -> NDArray[np.float64]:
    return np.asarray((u / _root(u)).imag, dtype=np.float64)


def maki_u(
    energy: ArrayLike, delta: float, zeta: float, h: float, b_so: float, gamma: float = 0.0
) -> tuple[NDArray[np.complex128], NDArray[np.complex128]]:
    r"""Reduced energies :math:`(u_+, u_-)` of the two spin bands at real energies ``energy`` (meV).

    Parameters
    ----------
    energy
        Energies, meV.
    delta
        Gap :math:`\Delta`, meV, > 0.
    zeta
        Orbital depairing :math:`\zeta \ge 0`.
    h
        Zeeman energy :math:`(g/2)\mu_B B`, meV (any sign).
    b_so
        Spin-orbit mixing :math:`b \ge 0`.
    gamma
        Dynes broadening, meV, >= 0.

    Returns
    -------
    (u_plus, u_minus) : tuple of numpy.ndarray
        Complex, :math:`\mathrm{Im} \ge 0`, shape of ``energy``.

    Notes
    -----
    :math:`b > 0`: Newton on the coupled equations (2x2 complex Jacobian per energy), with a homotopy in
    the imaginary part of the energy: 24 geometric stages (4 Newton steps each, the last to
    convergence) from :math:`\eta = 2 + 2(\zeta + b)` (roots
    close to a, unique) down to :math:`\max(\Gamma/\Delta, 10^{-9})`, which keeps every energy on the
    retarded branch.
    """
    e = np.asarray(energy, dtype=float)
    d = float(delta)
    if not d > 0:
        raise ValueError(f"maki_u: delta must be > 0 meV, got {delta!r}")
    _check(d, zeta, b_so, gamma, "maki_u")
    b = float(b_so)
    if b == 0.0 or h == 0.0:  # at h = 0 the bands coincide and the b term vanishes identically
        return ag_u((e - h + 1j * gamma) / d, zeta), ag_u((e + h + 1j * gamma) / d, zeta)
    z = float(zeta)
    eta_end = max(float(gamma) / d, _ETA_MIN)
    # homotopy in the imaginary part of the energy: far above the real axis the roots are close to
    # a (and unique); lowering eta geometrically keeps Newton on the retarded branch at every energy
    etas = np.geomspace(2.0 + 2.0 * (z + b), eta_end, _ETA_STAGES)
    up = (e - h) / d + 1j * etas[0]
    um = (e + h) / d + 1j * etas[0]
    for stage, eta in enumerate(etas):
        last = stage == etas.size - 1
        ap = (e - h) / d + 1j * eta
        am = (e + h) / d + 1j * eta
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            # intermediate stages only need to stay in the basin: a few steps; the last converges
            for _ in range(_NEWTON_ITER if last else 4):  # noqa: B007
                sp, sm = _root(up), _root(um)
                fp = up - ap - z * up / sp - b * (um - up) / sm
                fm = um - am - z * um / sm - b * (up - um) / sp
                sp3, sm3 = sp * sp * sp, sm * sm * sm
                j11 = 1.0 - z / sp3 + b / sm
                j12 = -b / sm - b * (um - up) * um / sm3
                j22 = 1.0 - z / sm3 + b / sp
                j21 = -b / sp - b * (up - um) * up / sp3
                det = j11 * j22 - j12 * j21
                dp = (fp * j22 - fm * j12) / det
                dm = (fm * j11 - fp * j21) / det
                size = np.maximum(np.abs(dp), np.abs(dm))
                lim = 0.25 * np.minimum(np.abs(sp), np.abs(sm)) + 0.02
                scale = np.where(size > lim, lim / np.where(size > 0, size, 1.0), 1.0)
                up = up - scale * dp
                um = um - scale * dm
                if not float(np.max(size)) > _NEWTON_TOL:
                    break
    return up, um


def maki_dos(
    energy: ArrayLike, delta: float, zeta: float, h: float = 0.0, b_so: float = 0.0, gamma: float = 0.0
) -> NDArray[np.float64]:
    r"""Tunnel DOS :math:`N = N_+ + N_-` of the Maki / AG model (point values), normalised.

    Parameters
    ----------
    energy
        Energies, meV.
    delta
        Gap, meV, > 0.
    zeta
        Orbital depairing, >= 0.
    h
        Zeeman energy, meV (:func:`zeeman_energy`).
    b_so
        Spin-orbit mixing, >= 0.
    gamma
        Dynes broadening, meV, >= 0.

    Returns
    -------
    numpy.ndarray
        :math:`N/N_0` (dimensionless, >= 0, even in E).

    Examples
    --------
    >>> round(float(maki_dos(2.0, 1.0, 0.0)), 6)  # BCS: 2/sqrt(3)
    1.154701
    """
    up, um = maki_u(energy, delta, zeta, h, b_so, gamma)
    return 0.5 * (_dos_from_u(up) + _dos_from_u(um))


def _ag_antiderivative(
    x: NDArray[np.float64], delta: float, zeta: float, gamma: float
) -> NDArray[np.float64]:
    """Antiderivative of the one-band AG DOS (h = 0), odd in x, H(0) = 0; minus x (bounded at large x)."""
    ax = np.abs(x)
    u = ag_u((ax + 1j * gamma) / delta, zeta)
    s = _root(u)
    one = s * s
    phi = -s - zeta / (2.0 * one)
    u0 = ag_u(np.array([1j * gamma / delta]), zeta)
    s0 = _root(u0)
    phi0 = (-s0 - zeta / (2.0 * s0 * s0))[0]
    # Im(phi) - x / Delta stays bounded; phi(E = 0) has Im phi0 (purely from Gamma): subtract it (H odd)
    return np.sign(x) * (delta * (phi.imag - phi0.imag) - ax)


def maki_dos_antiderivative(
    energy: ArrayLike, delta: float, zeta: float, h: float = 0.0, gamma: float = 0.0
) -> NDArray[np.float64]:
    r"""Antiderivative of :math:`N(E) - 1` for :math:`b = 0` (closed form, module docstring), meV.

    :math:`H(E) = \tfrac12[H_0(E-h) + H_0(E+h)]` with :math:`H_0` the one-band AG antiderivative
    :math:`\Delta\,\mathrm{Im}[-\sqrt{1-u^2} - \zeta/2(1-u^2)] - E`, odd in E.
    """
    e = np.asarray(energy, dtype=float)
    d = float(delta)
    _check(d, zeta, 0.0, gamma, "maki_dos_antiderivative")
    if float(zeta) == 0.0:
        return 0.5 * (dynes_dos_antiderivative(e - h, d, gamma) + dynes_dos_antiderivative(e + h, d, gamma))
    if h == 0.0:
        return _ag_antiderivative(e, d, float(zeta), float(gamma))
    both = _ag_antiderivative(np.concatenate([e.ravel() - h, e.ravel() + h]), d, float(zeta), float(gamma))
    return (0.5 * (both[: e.size] + both[e.size :])).reshape(e.shape)


def maki_dos_cell_average(
    n: int, step: float, delta: float, zeta: float, h: float = 0.0, b_so: float = 0.0, gamma: float = 0.0
) -> NDArray[np.float64]:
    r"""Maki DOS on the symmetric grid ``step * arange(-n, n + 1)``: exact cell averages for b = 0.

    For :math:`b = 0` the closed antiderivative gives exact averages over each cell (any
    :math:`\zeta`, including the BCS limit).  For :math:`b > 0` (and :math:`h \ne 0`) Simpson averages
    from the DOS at the cell centres and edges (the DOS is bounded for :math:`\zeta > 0` or
    :math:`\Gamma > 0`; the grid rule of :func:`nis_maki_conductance` resolves it).
    """
    hh = float(step)
    if float(b_so) > 0.0 and h != 0.0:
        # Simpson cell averages (f(E - h/2) + 4 f(E) + f(E + h/2)) / 6 from one solve on the half grid
        e = 0.5 * hh * np.arange(0, 2 * n + 2, dtype=float)
        f = maki_dos(e, delta, zeta, h, b_so, gamma)
        centre, edge = f[0::2], f[1::2]  # E = j h and (j + 1/2) h, j = 0..n
        left = np.concatenate([edge[:1], edge[:-1]])  # f(j h - h/2); f(-h/2) = f(h/2) (even DOS)
        half = (left + 4.0 * centre + edge) / 6.0
        return np.concatenate([half[::-1], half[1:]])
    edges = (np.arange(n + 1, dtype=float) + 0.5) * hh
    h_pos = maki_dos_antiderivative(edges, delta, zeta, h, gamma)
    h_edges = np.concatenate([-h_pos[::-1], h_pos])
    return np.asarray(np.maximum(1.0 + np.diff(h_edges) / hh, 0.0), dtype=np.float64)


def _feature_width(delta: float, zeta: float, b_so: float, gamma: float) -> float:
    """Narrowest spectral width the grid must resolve (meV): Gamma, or AG edge rounding ~ zeta^(2/3) Delta."""
    w = float(gamma)
    # b = 0: exact cell averages, so the width only sets the O(h^2) blur of the smooth AG peak.
    # b > 0: Simpson averages of point values; the square-root onset at the spectral gap edge
    # converges slowly (h^1.5), hence the finer width (measured: 2e-5 against quad at Gamma = 0).
    c = 0.3 if b_so == 0 else 0.05
    if zeta > 0:
        w = max(w, c * float(zeta) ** (2.0 / 3.0) * float(delta))
    return w


@functools.lru_cache(maxsize=8)
def _nis_maki_on_grid(
    n: int,
    step: float,
    delta: float,
    zeta: float,
    h: float,
    b_so: float,
    gamma: float,
    temperature: float,
    v_mod_rms: float,
) -> NDArray[np.float64]:
    dos = maki_dos_cell_average(n, step, delta, zeta, h, b_so, gamma)
    cells = True
    width = max(_feature_width(delta, zeta, b_so, gamma), K_B_MEV_PER_K * temperature, v_mod_rms)
    sharpen = width >= 4.0 * step
    g = smear_uniform(step, dos, temperature, v_mod_rms, cell_averages=cells, sharpen=sharpen)
    g.setflags(write=False)
    return g


def nis_maki_conductance(
    bias: ArrayLike,
    delta: float,
    zeta: float,
    field: float = 0.0,
    g_factor: float = 2.0,
    b_so: float = 0.0,
    gamma: float = 0.0,
    temperature: float = 0.0,
    v_mod_rms: float = 0.0,
) -> NDArray[np.float64]:
    r"""Normalised N-I-S conductance with the Maki DOS, thermal and lock-in smearing.

    .. math::
        \frac{G(V)}{G_N} = \int dv\,K(v)\int dE\,[N_+(E) + N_-(E)]\,[-\partial_E f(E - eV - ev)]

    Parameters
    ----------
    bias
        Sample bias, mV.
    delta
        Gap :math:`\Delta`, meV, >= 0 (0: normal metal, G = 1).
    zeta
        Orbital depairing :math:`\zeta \ge 0` (dimensionless).
    field
        Magnetic field B, T (Zeeman energy :math:`(g/2)\mu_B B`).
    g_factor
        Electron g-factor (2 for free electrons).
    b_so
        Spin-orbit mixing :math:`b = \hbar/3\tau_{so}\Delta \ge 0`.
    gamma
        Dynes broadening, meV, >= 0.
    temperature
        Temperature, K, >= 0.
    v_mod_rms
        Lock-in modulation, mV rms, >= 0.

    Returns
    -------
    numpy.ndarray
        :math:`G/G_N`, shape of ``bias``.

    Raises
    ------
    ValueError
        If a parameter is negative or not finite.

    Notes
    -----
    Grid rule of :func:`fitkit.physics.tunneling.tunneling_grid` with the narrowest width
    :math:`\max(\Gamma, 0.3\zeta^{2/3}\Delta, 0.3 b^{2/3}\Delta)`; exact cell averages for b = 0
    (:func:`maki_dos_cell_average`), so :math:`\zeta = h = 0` reproduces
    :func:`fitkit.physics.tunneling.nis_conductance` (same DOS cell averages when Gamma alone sets the
    grid).  Status: Maki/AG equations [STD]; antiderivative [DER].

    Examples
    --------
    >>> g = nis_maki_conductance([0.0, 0.5, 1.0], 0.5, 0.0, gamma=0.02, temperature=0.05)
    >>> [round(float(x), 4) for x in g]
    [0.04, 2.47, 1.1544]
    """
    d, z, b, gam = float(delta), float(zeta), float(b_so), float(gamma)
    t, vm = float(temperature), float(v_mod_rms)
    _check(d, z, b, gam, "nis_maki_conductance")
    if not (np.isfinite(t) and t >= 0 and np.isfinite(vm) and vm >= 0):
        raise ValueError(
            f"nis_maki_conductance: temperature ({t!r} K) and v_mod_rms ({vm!r} mV) must be >= 0"
        )
    hz = zeeman_energy(field, g_factor)
    v = np.asarray(bias, dtype=float)
    if d == 0.0:
        return np.ones_like(v)
    kt = K_B_MEV_PER_K * t
    reach = THERMAL_CUTOFF * kt + np.sqrt(2.0) * vm
    vmax = float(np.max(np.abs(v))) if v.size else 0.0
    e_max = 1.01 * (vmax + reach) + 0.05 * max(d, gam, 1e-3) + abs(hz)
    n, step = _tunneling_grid_size(e_max, (_feature_width(d, z, b, gam),), t, vm)
    g = _nis_maki_on_grid(n, step, d, z, hz, b, gam, t, vm)
    return interp_uniform(-n * step, step, g, v)


def sis_maki_conductance(
    bias: ArrayLike,
    delta: float,
    zeta: float,
    field: float,
    g_factor: float,
    b_so: float,
    gamma: float,
    delta_tip: float,
    gamma_tip: float,
    temperature: float,
    v_mod_rms: float = 0.0,
) -> NDArray[np.float64]:
    r"""Normalised S-I-S conductance: Maki-DOS sample, BCS/Dynes tip (the tip's own Zeeman shift neglected).

    .. math::
        \frac{G}{G_N} = K_{lock} * \frac{d}{dV}\int dE\,N_{Maki}(E)\,N_D(E - eV;\Delta_T,\Gamma_T)\,
        [f(E - eV) - f(E)]

    Parameters as :func:`nis_maki_conductance`, plus ``delta_tip`` and ``gamma_tip`` (meV).  The tip is a
    Dynes DOS, as in :func:`fitkit.physics.tunneling.sis_conductance` (a bulk tip whose critical field is
    far above B; its Zeeman splitting is not included).

    Returns
    -------
    numpy.ndarray
        :math:`G/G_N`, shape of ``bias``.
    """
    from fitkit.physics.dos import dynes_dos_cell_average

    d, z, b, gam = float(delta), float(zeta), float(b_so), float(gamma)
    _check(d, z, b, gam, "sis_maki_conductance")
    hz = zeeman_energy(field, g_factor)
    v = np.asarray(bias, dtype=float)
    vmax = float(np.max(np.abs(v))) if v.size else 0.0
    width = _feature_width(d, z, b, gam) if d > 0 else gam
    grid, step, resolved = sis_grid(
        vmax + abs(hz), d, float(delta_tip), width + float(gamma_tip), float(temperature), float(v_mod_rms)
    )
    n = grid.size // 2
    ns = maki_dos_cell_average(n, step, d, z, hz, b, gam) if d > 0 else np.ones_like(grid)
    nt = dynes_dos_cell_average(grid, step, float(delta_tip), float(gamma_tip))
    vgrid, cur = sis_current_from_dos(grid, step, ns, nt, float(temperature))
    g = conductance_from_current(vgrid, cur, step, float(v_mod_rms), resolved)
    return interp_uniform(float(vgrid[0]), step, g, v)
