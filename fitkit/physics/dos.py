r"""BCS and Dynes quasiparticle densities of states (normalised to the normal-state DOS).

Units: energies (E, Delta, Gamma) in meV; the DOS is dimensionless (N/N_0).

References
----------
.. [1] J. Bardeen, L. N. Cooper and J. R. Schrieffer, "Theory of superconductivity",
   Phys. Rev. 108, 1175 (1957).
.. [2] R. C. Dynes, V. Narayanamurti and J. P. Garno, "Direct measurement of quasiparticle-
   lifetime broadening in a strong-coupled superconductor", Phys. Rev. Lett. 41, 1509 (1978).
.. [3] R. C. Dynes, J. P. Garno, G. B. Hertel and T. P. Orlando, "Tunneling study of
   superconductivity near the metal-insulator transition", Phys. Rev. Lett. 53, 2437 (1984).
.. [4] fitkit physics note ``spectroscopy.md`` section 1 (branch choice, checks 1-3 of section 12).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["dynes_dos", "dynes_dos_antiderivative", "dynes_dos_cell_average",
           "dynes_dos_cell_average_symmetric"]


def _w_and_root(
    energy: NDArray[np.float64], delta: float, gamma: float
) -> tuple[NDArray[np.complex128], NDArray[np.complex128]]:
    """``w = |E| + i Gamma`` and ``sqrt(w - Delta) sqrt(w + Delta)`` (= principal sqrt(w^2 - Delta^2))."""
    w = np.abs(energy) + 1j * gamma
    # Product of principal roots: for Re w >= 0, Im w >= 0 it equals the principal root of
    # w^2 - Delta^2 (argument sum stays in [0, pi]) and is accurate near |E| = Delta.
    root = np.sqrt(w - delta) * np.sqrt(w + delta)
    return w, root


def _check(delta: float, gamma: float, where: str) -> tuple[float, float]:
    d, g = float(delta), float(gamma)
    if not (np.isfinite(d) and d >= 0 and np.isfinite(g) and g >= 0):
        raise ValueError(f"{where}: delta ({delta!r} meV) and gamma ({gamma!r} meV) must be finite and >= 0")
    return d, g


def dynes_dos(energy: ArrayLike, delta: float, gamma: float) -> NDArray[np.float64]:
    r"""Dynes-broadened BCS density of states.

    .. math::
        N_D(E;\Delta,\Gamma) = \mathrm{Re}\,\frac{w}{\sqrt{w^2-\Delta^2}},\qquad w = |E| + i\Gamma .

    Parameters
    ----------
    energy
        Quasiparticle energy from the Fermi level, meV (any real values).
    delta
        Gap :math:`\Delta`, meV, >= 0.
    gamma
        Dynes broadening :math:`\Gamma`, meV, >= 0.  ``gamma = 0`` gives the BCS DOS
        (0 for \|E\| < Delta, ``inf`` exactly at \|E\| = Delta).

    Returns
    -------
    numpy.ndarray
        :math:`N/N_0` (dimensionless), even in E and >= 0; :math:`N_D(0) = \Gamma/\sqrt{\Gamma^2+\Delta^2}`;
        tends to 1 for \|E\| >> Delta.

    Raises
    ------
    ValueError
        If ``delta`` or ``gamma`` is negative or not finite.

    Notes
    -----
    Branch: with :math:`w = |E| + i\Gamma` in the first quadrant the principal root is the
    physical one for every E; the naive :math:`z = E + i\Gamma` form has the wrong sign for E < 0,
    and ``sign(E) Re[...]`` wrongly vanishes at E = 0 (physics note section 1).  The root is
    evaluated as :math:`\sqrt{w-\Delta}\sqrt{w+\Delta}` (same branch, better accuracy near the
    gap edge).  Peak at :math:`\approx\Delta + \Gamma/\sqrt3` for :math:`\Gamma \ll \Delta`.
    Status: confirmed (Dynes et al. 1978 form).

    References
    ----------
    .. [1] R. C. Dynes, V. Narayanamurti and J. P. Garno, Phys. Rev. Lett. 41, 1509 (1978).

    Examples
    --------
    >>> round(float(dynes_dos(0.0, 1.0, 0.1)), 7)
    0.0995037
    >>> round(float(dynes_dos(2.0, 1.0, 0.0)), 7)
    1.1547005
    """
    d, g = _check(delta, gamma, "dynes_dos")
    e = np.asarray(energy, dtype=float)
    if d == 0.0:
        return np.ones_like(e)
    w, root = _w_and_root(e, d, g)
    with np.errstate(divide="ignore", invalid="ignore"):
        n = (w / root).real
    # Gamma = 0 and |E| = Delta exactly: root = 0, the DOS is infinite (integrable singularity).
    return np.where(root == 0, np.inf, n)


def dynes_dos_antiderivative(energy: ArrayLike, delta: float, gamma: float) -> NDArray[np.float64]:
    r"""Antiderivative of :math:`N_D(E) - 1`, vanishing at :math:`E = 0` and at :math:`|E|\to\infty`-ish.

    .. math::
        H(E) = \mathrm{sign}(E)\,\mathrm{Re}\left[\sqrt{w^2-\Delta^2} - w\right]
             = -\mathrm{sign}(E)\,\mathrm{Re}\,\frac{\Delta^2}{\sqrt{w^2-\Delta^2} + w},
        \qquad w = |E| + i\Gamma .

    Parameters
    ----------
    energy
        Energy, meV.
    delta
        Gap, meV, >= 0.
    gamma
        Dynes broadening, meV, >= 0.

    Returns
    -------
    numpy.ndarray
        :math:`H(E)` in meV, odd in E, continuous (also at E = 0 where it is 0), with
        :math:`H' = N_D - 1`.  :math:`F(E) = E + H(E) = \mathrm{sign}(E)\,\mathrm{Re}\sqrt{w^2-\Delta^2}`
        is the antiderivative of :math:`N_D` itself.

    Raises
    ------
    ValueError
        If ``delta`` or ``gamma`` is negative or not finite.

    Notes
    -----
    For :math:`E > 0`, :math:`d/dE\,\mathrm{Re}\sqrt{w^2-\Delta^2} = \mathrm{Re}[w/\sqrt{w^2-\Delta^2}]`;
    :math:`w^2-\Delta^2` stays in the closed upper half plane, so the principal root has no jump
    for E > 0, and at E = 0 it is :math:`i\sqrt{\Gamma^2+\Delta^2}` (real part 0), so the odd
    extension is continuous.  The rationalised form avoids cancellation at large \|E\|
    (:math:`H \to -\Delta^2/2E`).

    Examples
    --------
    >>> round(float(dynes_dos_antiderivative(2.0, 1.0, 0.0)), 6)  # sqrt(3) - 2
    -0.267949
    """
    d, g = _check(delta, gamma, "dynes_dos_antiderivative")
    e = np.asarray(energy, dtype=float)
    if d == 0.0:
        return np.zeros_like(e)
    w, root = _w_and_root(e, d, g)
    # root + w != 0 whenever Delta > 0 (both lie in the closed first quadrant, not both zero).
    h = -(d * d / (root + w)).real
    return np.sign(e) * h


def dynes_dos_cell_average(
    energy_grid: ArrayLike, step: float, delta: float, gamma: float
) -> NDArray[np.float64]:
    r"""Exact average of the Dynes DOS over each cell :math:`[E - h/2, E + h/2]` of a grid.

    .. math::
        \bar N(E) = 1 + \frac{H(E + h/2) - H(E - h/2)}{h}

    with :math:`H` from :func:`dynes_dos_antiderivative`.

    Parameters
    ----------
    energy_grid
        Cell centres, meV (usually from :func:`fitkit.physics.thermal.choose_grid`).
    step
        Cell width h, meV, > 0.
    delta
        Gap, meV, >= 0.
    gamma
        Dynes broadening, meV, >= 0 (0 allowed: the square-root singularity at \|E\| = Delta is
        integrated exactly on any grid).

    Returns
    -------
    numpy.ndarray
        Cell-averaged :math:`N/N_0`, dimensionless, >= 0.

    Raises
    ------
    ValueError
        If ``step <= 0`` or ``delta``/``gamma`` are invalid.

    Notes
    -----
    These averages are what the grid convolutions in :mod:`fitkit.physics.thermal` and
    :mod:`fitkit.physics.tunneling` expect: sums of cell averages times h are exact integrals.

    Examples
    --------
    >>> import numpy as np
    >>> n = dynes_dos_cell_average(np.array([1.5]), 1.0, 1.0, 0.0)  # cell [1, 2]
    >>> round(float(n[0]), 6)  # sqrt(3) - 0
    1.732051
    """
    h = float(step)
    if not h > 0:
        raise ValueError(f"dynes_dos_cell_average: step must be > 0 meV, got {step!r}")
    e = np.asarray(energy_grid, dtype=float)
    n = e.size
    if (e.ndim == 1 and n >= 3 and n % 2 == 1 and abs(e[0] + e[-1]) <= 1e-9 * h
            and np.allclose(np.diff(e), h, rtol=1e-9, atol=0.0)):
        return dynes_dos_cell_average_symmetric(n // 2, h, delta, gamma, edges=e[n // 2:] + 0.5 * h)
    upper = dynes_dos_antiderivative(e + 0.5 * h, delta, gamma)
    lower = dynes_dos_antiderivative(e - 0.5 * h, delta, gamma)
    return np.clip(1.0 + (upper - lower) / h, 0.0, None)


def dynes_dos_cell_average_symmetric(n: int, step: float, delta: float, gamma: float, *,
                                     edges: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
    r""":func:`dynes_dos_cell_average` on the symmetric grid ``step * arange(-n, n + 1)`` (no grid checks).

    :math:`H` is odd, so it is evaluated once per positive cell edge :math:`(j + 1/2)h`,
    ``j = 0..n`` (``edges`` may pass those energies, meV, when the caller has them).
    """
    h = float(step)
    pos = (np.arange(n + 1, dtype=float) + 0.5) * h if edges is None else edges
    h_pos = dynes_dos_antiderivative(pos, delta, gamma)
    h_edges = np.concatenate([-h_pos[::-1], h_pos])
    return np.maximum(1.0 + np.diff(h_edges) / h, 0.0)
