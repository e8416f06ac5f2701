"""Tests of fitkit.physics.thermal: Fermi function, kernels (note check 10), grid and smearing."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad

from fitkit.constants import K_B_MEV_PER_K
from fitkit.physics.thermal import (
    choose_grid,
    fermi,
    fermi_cell_average_kernel,
    interp_on_grid,
    lockin_cell_average_kernel,
    lockin_kernel,
    minus_dfermi,
    smear,
)

T_1MEV = 1.0 / K_B_MEV_PER_K  # temperature with k_B T = 1 meV


def test_fermi_limits_and_overflow():
    assert fermi(0.0, 1.0) == 0.5
    np.testing.assert_array_equal(fermi([-1.0, 0.0, 1.0], 0.0), [1.0, 0.5, 0.0])
    with np.errstate(all="raise"):
        out = fermi(np.array([-1e6, 1e6]), 1e-3)
    np.testing.assert_array_equal(out, [1.0, 0.0])
    x = np.linspace(-5, 5, 11)
    np.testing.assert_allclose(fermi(x, T_1MEV), 1.0 / (np.exp(x) + 1.0), rtol=1e-14)
    with pytest.raises(ValueError, match="temperature"):
        fermi(0.0, -1.0)


def test_minus_dfermi_area_fwhm_variance():
    """Check 10: area 1, FWHM 3.5255 k_B T, variance pi^2 (k_B T)^2 / 3."""
    area = quad(lambda e: minus_dfermi(e, T_1MEV), -60, 60, points=[0.0])[0]
    assert area == pytest.approx(1.0, abs=1e-12)
    var = quad(lambda e: e * e * minus_dfermi(e, T_1MEV), -80, 80, points=[0.0])[0]
    assert var == pytest.approx(np.pi**2 / 3.0, rel=1e-10)
    e = np.linspace(0, 3, 300001)
    k = minus_dfermi(e, T_1MEV)
    half = e[np.argmin(np.abs(k - 0.125))]
    assert 2 * half == pytest.approx(3.5255, abs=2e-4)
    assert np.all(np.isfinite(minus_dfermi([-1e5, 1e5], 0.01)))


def test_lockin_kernel_moments():
    """Check 10: V_m = 1 semicircle has area 1, variance 0.25, FWHM 1.7321."""
    vr = 1.0 / np.sqrt(2.0)
    area = quad(lambda v: lockin_kernel(v, vr), -1, 1)[0]
    var = quad(lambda v: v * v * lockin_kernel(v, vr), -1, 1)[0]
    assert area == pytest.approx(1.0, abs=1e-10)
    assert var == pytest.approx(0.25, abs=1e-10)
    peak = lockin_kernel(0.0, vr)
    v = np.linspace(0, 1, 200001)
    half = v[np.argmin(np.abs(lockin_kernel(v, vr) - peak / 2))]
    assert 2 * half == pytest.approx(1.7321, abs=1e-4)


@pytest.mark.parametrize("step", [0.003, 0.07, 0.9])
def test_cell_average_kernels_have_unit_mass(step):
    assert fermi_cell_average_kernel(step, 2.0).sum() * step == pytest.approx(1.0, abs=1e-14)
    assert lockin_cell_average_kernel(step, 0.2).sum() * step == pytest.approx(1.0, abs=1e-14)
    np.testing.assert_array_equal(fermi_cell_average_kernel(step, 0.0), [1.0 / step])


def test_choose_grid_properties():
    grid, step = choose_grid(2.0, widths=(0.01, 0.0, -1.0, np.nan), points_per_width=5)
    assert step == pytest.approx(0.002)
    assert grid.size % 2 == 1 and grid[grid.size // 2] == 0.0
    assert grid[-1] >= 2.0 and grid[0] == -grid[-1]
    np.testing.assert_allclose(np.diff(grid), step)
    big, bstep = choose_grid(100.0, widths=(1e-6,))
    assert big.size <= 2**17 and bstep == pytest.approx(100.0 / (2**16 - 1), rel=1e-3)
    with pytest.raises(ValueError, match="e_max"):
        choose_grid(0.0, widths=(1.0,))


def test_smear_identity_and_constant():
    grid, _ = choose_grid(1.0, widths=(0.05,))
    vals = np.sin(grid) + 2.0
    np.testing.assert_allclose(smear(grid, vals, 0.0, 0.0, sharpen=False), vals, rtol=1e-14)
    np.testing.assert_allclose(smear(grid, np.full(grid.size, 3.0), 1.0, 0.02), 3.0, rtol=1e-12)


def test_smear_matches_quad_for_smooth_function():
    """Thermal + lock-in smearing of a Lorentzian against nested quad at a few points."""
    grid, step = choose_grid(3.0, widths=(0.05, K_B_MEV_PER_K * 0.5, 0.04))

    def lor(e):
        return 0.05 / ((e - 0.3) ** 2 + 0.05**2) / np.pi

    vm = np.sqrt(2.0) * 0.04
    h = step
    cell = (np.arctan((grid + h / 2 - 0.3) / 0.05) - np.arctan((grid - h / 2 - 0.3) / 0.05)) / (np.pi * h)
    out = smear(grid, cell, 0.5, 0.04)
    for v0 in (0.0, 0.25, 0.31, 0.6):
        def thermal(v):
            return quad(lambda e: lor(e) * minus_dfermi(e - v, 0.5), v - 2, v + 2, points=[0.3], limit=200)[0]

        ref = quad(lambda th, v0=v0: thermal(v0 + vm * np.sin(th)) * 2 / np.pi * np.cos(th) ** 2,
                   -np.pi / 2, np.pi / 2, limit=200)[0]
        assert interp_on_grid(grid, out, v0) == pytest.approx(ref, rel=1e-4)


def test_interp_on_grid_exact_for_cubics_and_clamps():
    grid = np.linspace(-1, 1, 41)
    vals = grid**3 - 2 * grid
    x = np.array([-0.987, -0.3, 0.0123, 0.77])
    np.testing.assert_allclose(interp_on_grid(grid, vals, x), x**3 - 2 * x, atol=1e-13)
    np.testing.assert_allclose(interp_on_grid(grid, vals, [-5.0, 5.0]), [vals[0], vals[-1]])
