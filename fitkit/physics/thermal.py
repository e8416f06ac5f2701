r"""Fermi function, thermal and lock-in smearing on a uniform energy grid.

This module is the shared energy-grid machinery of the spectroscopy models (N-I-S, S-I-S,
BTK, plasmon-broadened tunnelling).  Units: energies and voltages in meV (``eV`` in meV equals
``V`` in mV), temperatures in K, lock-in amplitudes as rms values in meV.

The documented pattern for a conductance that is a spectral function convolved with
:math:`-\partial f/\partial E` and then with the lock-in kernel (N-I-S, BTK) is::

    grid, step = choose_grid(e_max, widths=(gamma, K_B_MEV_PER_K * temperature, v_mod_rms))
    spectral = cell_averages_of(1.0 + a_coef - b_coef)  # or dos.dynes_dos_cell_average(grid, step, ...)
    g_grid = smear(grid, spectral, temperature, v_mod_rms)          # cell_averages=True (default)
    g_bias = interp_on_grid(grid, g_grid, bias_mV)                  # eV in meV == V in mV

``e_max`` must cover the largest \|eV\| plus the kernels' reach (38 k_B T + sqrt(2) V_rms) so
that no kernel reaches the constant extension beyond the grid.  ``smear`` expects *cell averages*
over ``[E - step/2, E + step/2]`` by default (exact for singular spectra, e.g.
:func:`fitkit.physics.dos.dynes_dos_cell_average`); pass ``cell_averages=False`` for point values
of a spectrum that is smooth on the scale of ``step`` (this only changes the O(h^2) sharpening).

Why cell averages.  A discrete convolution of cell averages of two functions equals their
continuous convolution smoothed by (approximately) a triangle of half-width ``step``: the
result is exact for integrable singularities and for the :math:`T \to 0` limit of the kernel,
and its error is a smooth :math:`O(h^2)` blur rather than a sampling error.  The antiderivative
of :math:`-f'` is :math:`f`, so the cell average of the thermal kernel is
:math:`(f(x-h/2)-f(x+h/2))/h` (one exact cell at :math:`T=0`); the semicircular lock-in kernel
has a closed-form antiderivative too.

References
----------
.. [1] N. W. Ashcroft and N. D. Mermin, *Solid State Physics* (Holt, Rinehart and Winston,
   1976), ch. 2 (Fermi-Dirac distribution).
.. [2] J. Klein, A. Leger, M. Belin, D. Defourneau and M. J. L. Sangster, "Inelastic-electron-
   tunneling spectroscopy of metal-insulator-metal junctions", Phys. Rev. B 7, 2336 (1973)
   (lock-in modulation broadening; citation [unverified] in the physics note).
.. [3] fitkit physics note ``spectroscopy.md`` sections 0, 5 and 12 (kernel moments, numerical
   advice: step <= min(Gamma, k_B T, V_rms)/5, window ``|V|max + 30 k_B T + a few Delta``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import fft as sfft
from scipy import special

from fitkit.constants import K_B_MEV_PER_K

__all__ = [
    "DEFAULT_MAX_POINTS",
    "DEFAULT_POINTS_PER_WIDTH",
    "THERMAL_CUTOFF",
    "choose_grid",
    "fermi",
    "fermi_cell_average_kernel",
    "grid_size",
    "interp_on_grid",
    "lockin_cell_average_kernel",
    "lockin_kernel",
    "minus_dfermi",
    "interp_uniform",
    "smear",
    "smear_uniform",
    "smearing_kernel",
]

DEFAULT_POINTS_PER_WIDTH: float = 8.0
"""Grid cells per smallest relevant width (Gamma, k_B T, V_rms); see :func:`choose_grid`."""

DEFAULT_MAX_POINTS: int = 2**17
"""Upper bound on the number of grid points returned by :func:`choose_grid`."""

THERMAL_CUTOFF: float = 38.0
"""Half-width of the truncated thermal kernel in units of k_B T (tail mass 2 exp(-38) ~ 6e-17)."""

_MIN_HALF_POINTS: int = 400


def fermi(energy: ArrayLike, temperature: ArrayLike) -> NDArray[np.float64]:
    r"""Fermi-Dirac occupation :math:`f(E) = 1/(e^{E/k_BT} + 1)`.

    Parameters
    ----------
    energy
        Energy measured from the Fermi level, meV (any real value).
    temperature
        Temperature, K, >= 0 (broadcast against ``energy``).  At ``T = 0`` the result is the
        step :math:`\Theta(-E)` with value 0.5 at :math:`E = 0`.

    Returns
    -------
    numpy.ndarray
        Occupation in [0, 1] (dimensionless).

    Raises
    ------
    ValueError
        If any temperature is negative.

    Notes
    -----
    Evaluated as ``scipy.special.expit(-E / k_B T)``, which neither overflows nor loses
    relative precision in the exponentially small tail.

    Examples
    --------
    >>> float(fermi(0.0, 1.0)), float(fermi(1.0, 0.0))
    (0.5, 0.0)
    """
    e = np.asarray(energy, dtype=float)
    t = np.asarray(temperature, dtype=float)
    if np.any(t < 0):
        raise ValueError(f"fermi: temperature must be >= 0 K, got min {t.min()!r}")
    kt = K_B_MEV_PER_K * t
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(kt > 0, -e / np.where(kt > 0, kt, 1.0), 0.0)
    warm = special.expit(x)
    cold = np.heaviside(-e, 0.5)
    return np.where(kt > 0, warm, cold)


def minus_dfermi(energy: ArrayLike, temperature: float) -> NDArray[np.float64]:
    r"""Thermal kernel :math:`-\partial f/\partial E = 1/(4k_BT\cosh^2(E/2k_BT))`.

    Parameters
    ----------
    energy
        Energy, meV.
    temperature
        Temperature, K, > 0 (at ``T = 0`` the kernel is a delta function; use
        :func:`fermi_cell_average_kernel` for grids).

    Returns
    -------
    numpy.ndarray
        Kernel in 1/meV; unit area, FWHM :math:`3.5255\,k_BT`, variance :math:`\pi^2(k_BT)^2/3`.

    Raises
    ------
    ValueError
        If ``temperature <= 0``.

    Notes
    -----
    Computed as :math:`f(E)\,f(-E)/k_BT` with both factors from ``expit`` (no overflow).

    Examples
    --------
    >>> kt = 1.0 / 0.08617333262  # temperature with k_B T = 1 meV
    >>> round(float(minus_dfermi(0.0, kt)), 6)
    0.25
    """
    t = float(temperature)
    if not t > 0:
        raise ValueError(f"minus_dfermi: temperature must be > 0 K, got {t!r}")
    kt = K_B_MEV_PER_K * t
    x = np.asarray(energy, dtype=float) / kt
    return special.expit(x) * special.expit(-x) / kt


def lockin_kernel(v: ArrayLike, v_mod_rms: float) -> NDArray[np.float64]:
    r"""Lock-in (first-harmonic) modulation kernel, a unit-area semicircle.

    .. math:: K(v) = \frac{2}{\pi V_m^2}\sqrt{V_m^2 - v^2}\ (|v| \le V_m),\quad V_m = \sqrt{2}\,V_{rms}.

    Parameters
    ----------
    v
        Voltage offset, mV (equivalently meV).
    v_mod_rms
        Modulation amplitude, rms, mV, > 0.

    Returns
    -------
    numpy.ndarray
        Kernel in 1/mV; variance :math:`V_m^2/4`, FWHM :math:`\sqrt{3}V_m`.

    Raises
    ------
    ValueError
        If ``v_mod_rms <= 0``.

    Notes
    -----
    Measured conductance: :math:`G_{meas}(V) = \int dv\,G(V+v)K(v)` (physics note section 5).

    References
    ----------
    .. [1] J. Klein et al., Phys. Rev. B 7, 2336 (1973) [unverified in the physics note].

    Examples
    --------
    >>> round(float(lockin_kernel(0.0, 1.0 / np.sqrt(2.0))), 6)  # V_m = 1: 2/pi
    0.63662
    """
    vr = float(v_mod_rms)
    if not vr > 0:
        raise ValueError(f"lockin_kernel: v_mod_rms must be > 0 mV, got {vr!r}")
    vm = np.sqrt(2.0) * vr
    u = np.asarray(v, dtype=float) / vm
    return 2.0 / (np.pi * vm) * np.sqrt(np.clip(1.0 - u * u, 0.0, None))


def _lockin_antiderivative(v: NDArray[np.float64], vm: float) -> NDArray[np.float64]:
    """Integral of the semicircle kernel from 0 to ``v`` (odd; +-1/2 at +-V_m)."""
    u = np.clip(v / vm, -1.0, 1.0)
    return (u * np.sqrt(1.0 - u * u) + np.arcsin(u)) / np.pi


def fermi_cell_average_kernel(step: float, temperature: float) -> NDArray[np.float64]:
    r"""Cell averages of :math:`-f'` on a grid of spacing ``step`` centred on 0.

    Parameters
    ----------
    step
        Grid spacing h, meV, > 0.
    temperature
        Temperature, K, >= 0.

    Returns
    -------
    numpy.ndarray
        Odd-length array ``k[j] = (f(x_j - h/2) - f(x_j + h/2)) / h`` (1/meV) for
        :math:`x_j = jh`, :math:`|x_j| \le 38 k_BT + h`.  ``sum(k) * h`` equals 1 up to the
        truncated tail (< 1e-16).  At ``T = 0`` it is ``[1/h]`` (the identity).

    Notes
    -----
    The kernel is even; the difference is evaluated at :math:`|x|` so that neither end loses
    precision by cancellation.
    """
    h = float(step)
    kt = K_B_MEV_PER_K * float(temperature)
    m = int(np.ceil(THERMAL_CUTOFF * kt / h)) if kt > 0 else 0
    x = np.abs(np.arange(-m, m + 1, dtype=float) * h)
    return (fermi(x - 0.5 * h, temperature) - fermi(x + 0.5 * h, temperature)) / h


def lockin_cell_average_kernel(step: float, v_mod_rms: float) -> NDArray[np.float64]:
    r"""Cell averages of the semicircle lock-in kernel on a grid of spacing ``step`` centred on 0.

    Parameters
    ----------
    step
        Grid spacing h, mV (= meV), > 0.
    v_mod_rms
        Modulation amplitude, rms, mV, >= 0 (0 gives the identity ``[1/h]``).

    Returns
    -------
    numpy.ndarray
        Odd-length array (1/mV) of exact cell averages from the antiderivative
        :math:`(u\sqrt{1-u^2} + \arcsin u)/\pi`, :math:`u = v/V_m`; ``sum * h == 1``.
    """
    h = float(step)
    vr = float(v_mod_rms)
    if vr <= 0:
        return np.array([1.0 / h])
    vm = np.sqrt(2.0) * vr
    m = int(np.ceil(vm / h - 0.5)) if vm > 0.5 * h else 0
    x = np.arange(-m, m + 1, dtype=float) * h
    return (_lockin_antiderivative(x + 0.5 * h, vm) - _lockin_antiderivative(x - 0.5 * h, vm)) / h


def choose_grid(
    e_max: float,
    *,
    widths: Iterable[float],
    points_per_width: float = DEFAULT_POINTS_PER_WIDTH,
    max_points: int = DEFAULT_MAX_POINTS,
) -> tuple[NDArray[np.float64], float]:
    r"""Uniform energy grid symmetric about 0 (containing 0) for the smearing convolutions.

    Parameters
    ----------
    e_max
        Half-range, meV, > 0: the grid covers ``[-e_max, e_max]`` (rounded up to whole cells).
        Choose it >= the largest \|eV\| needed + 30 k_B T + a few Delta (physics note section 12);
        beyond the grid :func:`smear` extends values with the edge value.
    widths
        Relevant energy widths, meV: Dynes Gamma, k_B T, V_rms, ...; non-positive or non-finite
        entries are ignored.
    points_per_width
        Cells per smallest width (default 8; the physics note recommends >= 5).  With the
        O(h^2) sharpening of :func:`smear` the N-I-S error against quad is ~5e-6 at 5 cells per
        resolved width (measured, tests/physics/test_tunneling.py); without it, the blur error
        is relative :math:`\sim (h/w)^2/8` and ~24 cells per width are needed for 1e-4.
    max_points
        Cap on the number of grid points (default 2**17 = 131072).

    Returns
    -------
    energy_grid : numpy.ndarray
        ``step * arange(-n, n + 1)``, meV (odd length, ``energy_grid[n] == 0``).
    step : float
        Grid spacing h, meV.

    Raises
    ------
    ValueError
        If ``e_max`` is not positive and finite.

    Notes
    -----
    ``step = min(width) / points_per_width``, but at most ``e_max / 400`` (so that even without
    any broadening, e.g. T = 0 and Gamma = 0, the grid resolves the bias window), and at least
    ``2 e_max / (max_points - 1)``.  Trade-off of the cap: with it, FFT cost stays ~ms; when it
    binds (a width below ~ ``e_max * points_per_width / 65536``) the step is coarser than the
    width and the result is the exact spectrum blurred by about one cell (cell averages keep
    integrals exact; only the resolution is lost).
    """
    n, step = grid_size(e_max, widths=widths, points_per_width=points_per_width, max_points=max_points)
    return step * np.arange(-n, n + 1, dtype=float), step


def grid_size(
    e_max: float,
    *,
    widths: Iterable[float],
    points_per_width: float = DEFAULT_POINTS_PER_WIDTH,
    max_points: int = DEFAULT_MAX_POINTS,
) -> tuple[int, float]:
    """Half-size ``n`` and step of the grid :func:`choose_grid` returns (``step * arange(-n, n + 1)``),
    without building it (same arguments and rule; ValueError for a bad ``e_max``)."""
    e = float(e_max)
    if not (math.isfinite(e) and e > 0):
        raise ValueError(f"choose_grid: e_max must be a positive finite energy in meV, got {e_max!r}")
    w = [float(x) for x in widths]
    w = [x for x in w if math.isfinite(x) and x > 0]
    step = e / _MIN_HALF_POINTS
    if w:
        step = min(step, min(w) / float(points_per_width))
    half_cap = max((int(max_points) - 1) // 2, 1)
    step = max(step, e / half_cap)
    n = int(math.ceil(e / step - 1e-9))
    return min(n, half_cap), step


@functools.lru_cache(maxsize=64)
def smearing_kernel(step: float, temperature: float, v_mod_rms: float) -> tuple[NDArray[np.float64], int]:
    r"""Combined cell-averaged thermal and lock-in kernel on a grid of spacing ``step`` (cached).

    Parameters
    ----------
    step
        Grid spacing h, meV, > 0.
    temperature
        Temperature, K, >= 0.
    v_mod_rms
        Lock-in modulation, rms, mV, >= 0.

    Returns
    -------
    kernel : numpy.ndarray
        ``h^2 (k_T * k_L)`` (dimensionless weights summing to 1), odd length, **read-only**:
        the array is shared by every caller with the same arguments.
    boxes : int
        Number of resolved cell-averaged kernels (0-2), for the sharpening of :func:`smear`.

    Notes
    -----
    The kernels depend only on (h, T, V_rms), which are fixed during most fits, so they are
    built once per process (LRU cache of 64 entries) instead of once per model evaluation.
    """
    h = float(step)
    k_t = fermi_cell_average_kernel(h, float(temperature))
    k_l = lockin_cell_average_kernel(h, float(v_mod_rms))
    kernel = np.convolve(k_t, k_l) * h * h
    kernel.setflags(write=False)
    return kernel, int(k_t.size > 1) + int(k_l.size > 1)


@functools.lru_cache(maxsize=64)
def _kernel_spectrum(step: float, temperature: float, v_mod_rms: float, size: int) -> NDArray[np.complex128]:
    """Real FFT of :func:`smearing_kernel` zero-padded to ``size`` (cached, read-only)."""
    spec = sfft.rfft(smearing_kernel(step, temperature, v_mod_rms)[0], size)
    spec.setflags(write=False)
    return spec


def _smear_edge(values: NDArray[np.float64], step: float, temperature: float,
                v_mod_rms: float) -> NDArray[np.float64]:
    """``sum_j kernel[j] values[i - j + m]`` (values extended by their edge values), one real FFT pair;
    the kernel and its FFT come from the caches."""
    kernel = smearing_kernel(step, temperature, v_mod_rms)[0]
    m = (kernel.size - 1) // 2
    if m == 0:
        return values * kernel[0]
    n = values.size
    padded = np.concatenate([np.full(m, values[0]), values, np.full(m, values[-1])])
    # circular convolution of length >= n + 2m: the wrapped tail of the linear convolution lands on
    # outputs [0, 2m), which are not used; outputs [2m, 2m + n) are the exact 'valid' part
    size = sfft.next_fast_len(n + 2 * m, real=True)
    full = sfft.irfft(sfft.rfft(padded, size) * _kernel_spectrum(step, temperature, v_mod_rms, size), size)
    return full[2 * m: 2 * m + n]


def smear(
    energy_grid: NDArray[np.float64],
    values: ArrayLike,
    temperature: float,
    v_mod_rms: float = 0.0,
    *,
    cell_averages: bool = True,
    sharpen: bool = True,
) -> NDArray[np.float64]:
    r"""Convolve grid values with :math:`-f'` (thermal) and then with the lock-in kernel.

    .. math::
        G(V) = \int dv\,K(v) \int dE\, g(E)\,\left[-\partial_E f(E - eV - ev)\right]

    Parameters
    ----------
    energy_grid
        Uniform grid from :func:`choose_grid`, meV.
    values
        Spectral function on the grid (same length): cell averages for singular functions,
        point values for smooth ones (dimensionless or any unit; linear operation).
    temperature
        Temperature, K, >= 0 (0: no thermal smearing).
    v_mod_rms
        Lock-in modulation, rms, mV, >= 0 (0: none).
    cell_averages
        True (default) when ``values`` are cell averages over ``[E - h/2, E + h/2]`` (e.g.
        :func:`fitkit.physics.dos.dynes_dos_cell_average`), False for point values.
    sharpen
        Remove the leading :math:`O(h^2)` blur of the cell-averaged scheme (default True), so
        that the output approximates *point values* of the continuous convolution with error
        :math:`O(h^4)`.  Set False when the result is not smooth on the scale of the step
        (T = 0, V_rms = 0 and an unresolved singular spectrum, e.g. Gamma = 0), where the
        correction would overshoot next to the singularity.

    Returns
    -------
    numpy.ndarray
        Smeared values on the same grid (same unit as ``values``), indexed by ``eV`` in meV.

    Raises
    ------
    ValueError
        If the grid is not uniform, lengths differ, or T or V_rms is negative.

    Notes
    -----
    Both kernels are even, so correlation and convolution coincide.  The two cell-averaged
    kernels are first convolved with each other (short arrays), then applied once by FFT; the
    kernel and its FFT are cached per (step, T, V_rms) (:func:`smearing_kernel`), so a fit that
    varies only the spectrum pays one FFT pair per evaluation.  Values outside the grid are taken
    equal to the nearest edge value (constant extension); this is exact for spectra that have reached their
    normal-state value 1 at the edges, so make ``e_max`` large enough.

    Sharpening.  Averaging over a cell is a convolution with a box of variance :math:`h^2/12`;
    the cell-averaged input and each resolved cell-averaged kernel contribute one box, so the
    grid result is :math:`G + b\,(h^2/24)\,G'' + O(h^4)` with :math:`b` boxes.  The correction
    :math:`G_i \approx R_i - (b/24)(R_{i+1} - 2R_i + R_{i-1})` removes that term.
    """
    grid = np.asarray(energy_grid, dtype=float)
    vals = np.asarray(values, dtype=float)
    if grid.ndim != 1 or vals.shape != grid.shape:
        raise ValueError(
            f"smear: values shape {vals.shape} must equal the 1-D energy_grid shape {grid.shape}"
        )
    if float(temperature) < 0 or float(v_mod_rms) < 0:
        raise ValueError(
            f"smear: temperature ({temperature!r} K) and v_mod_rms ({v_mod_rms!r} mV) must be >= 0"
        )
    return smear_uniform(_grid_step(grid), vals, float(temperature), float(v_mod_rms),
                         cell_averages=cell_averages, sharpen=sharpen)


def smear_uniform(step: float, values: NDArray[np.float64], temperature: float, v_mod_rms: float = 0.0,
                  *, cell_averages: bool = True, sharpen: bool = True) -> NDArray[np.float64]:
    """:func:`smear` on a grid known to be uniform with spacing ``step`` (no checks; for callers that
    built the grid themselves, e.g. :func:`fitkit.physics.tunneling.nis_conductance`)."""
    out = _smear_edge(values, step, temperature, v_mod_rms)
    boxes = int(cell_averages) + smearing_kernel(step, temperature, v_mod_rms)[1]
    if sharpen and boxes and out.size > 1:
        # second difference with edge-value extension (the edge terms reduce to one difference)
        d2 = np.empty_like(out)
        d2[1:-1] = out[2:] - 2.0 * out[1:-1] + out[:-2]
        d2[0] = out[1] - out[0]
        d2[-1] = out[-2] - out[-1]
        out = out - (boxes / 24.0) * d2
    return out


def _grid_step(grid: NDArray[np.float64]) -> float:
    """Spacing of a uniform grid (ValueError if it is not uniform)."""
    if grid.size < 3:
        raise ValueError(f"energy grid must have >= 3 points, got {grid.size}")
    step = (grid[-1] - grid[0]) / (grid.size - 1)
    if not step > 0 or np.max(np.abs(np.diff(grid) - step)) > 1e-6 * step:
        raise ValueError("energy grid must be uniform and increasing (use choose_grid)")
    return float(step)


def interp_on_grid(
    energy_grid: NDArray[np.float64], values: ArrayLike, energies: ArrayLike
) -> NDArray[np.float64]:
    r"""Interpolate values on a uniform grid at arbitrary energies (4-point cubic Lagrange).

    Parameters
    ----------
    energy_grid
        Uniform increasing grid, meV.
    values
        Values on the grid.
    energies
        Where to evaluate, meV (any shape).  Points outside the grid take the edge value
        (consistent with the constant extension of :func:`smear`).

    Returns
    -------
    numpy.ndarray
        Interpolated values, shape of ``energies``.

    Raises
    ------
    ValueError
        If the grid is not uniform or lengths differ.

    Notes
    -----
    Cubic Lagrange through the four nearest nodes: error :math:`O(h^4 g'''')`, continuous, and
    exact at the nodes.  It costs a few vector operations per point (no spline solve).
    """
    grid = np.asarray(energy_grid, dtype=float)
    vals = np.asarray(values, dtype=float)
    if vals.shape != grid.shape:
        raise ValueError(f"interp_on_grid: values shape {vals.shape} != grid shape {grid.shape}")
    return interp_uniform(float(grid[0]), _grid_step(grid), vals, energies)


def interp_uniform(start: float, step: float, values: NDArray[np.float64],
                   energies: ArrayLike) -> NDArray[np.float64]:
    """:func:`interp_on_grid` on the uniform grid ``start + step * arange(len(values))`` (no checks)."""
    e = np.asarray(energies, dtype=float)
    s = np.minimum(np.maximum((e - start) / step, 0.0), values.size - 1.0)
    i = np.minimum(np.maximum(s.astype(np.intp), 1), values.size - 3)  # floor (s >= 0), clipped
    t = s - i
    y0, y1, y2, y3 = values.take(i - 1), values.take(i), values.take(i + 1), values.take(i + 2)
    tm1, tm2, tp1 = t - 1.0, t - 2.0, t + 1.0
    return (-y0 * t * tm1 * tm2 / 6.0 + y1 * tp1 * tm1 * tm2 / 2.0
            - y2 * tp1 * t * tm2 / 2.0 + y3 * tp1 * t * tm1 / 6.0)
