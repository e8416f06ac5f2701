"""BTK and collective-gap physics: published/closed-form values, limits, and an independent quad reference."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate

from fitkit.constants import K_B_MEV_PER_K
from fitkit.physics import andreev as an

# --- physics note §12 BTK table (T = 0, Gamma = 0), E in units of Delta = 1 -------------------
BTK_TABLE = {
    0.0: (2, 2, 2, 1.14590, 1.07180, 1.01021),
    0.3: (1.56564, 1.68431, 2.18, 1.15987, 1.07819, 1.01106),
    0.5: (1.11111, 40 / 31, 2.5, 1.18034, 1.08741, 1.01227),
    1.0: (0.44444, 4 / 7, 4, np.sqrt(5) - 1, 1.11171, 1.01539),
    1.5: (0.21488, 0.28338, 6.5, 1.27465, 1.12786, 1.01739),
    3.0: (0.05540, 0.07380, 20, 1.31911, 1.14584, 1.01957),
}
BTK_E = np.array([0.0, 0.5, 1.0 - 1e-13, 1.5, 2.0, 5.0])


@pytest.mark.parametrize("z", sorted(BTK_TABLE))
def test_btk_table_t0(z):
    np.testing.assert_allclose(an.btk_t0(BTK_E, 1.0, 0.0, z), BTK_TABLE[z], atol=6e-6, rtol=0)


def test_btk_closed_forms_t0(rng):
    z = rng.uniform(0, 3, 20)
    g0 = np.array([float(an.btk_t0(0.0, 0.7, 0.0, zi)) for zi in z])
    np.testing.assert_allclose(g0, 2 * (1 + z**2) / (1 + 2 * z**2) ** 2, rtol=1e-13)
    np.testing.assert_allclose(g0, an.btk_zero_bias_t0(z), rtol=1e-13)
    e = rng.uniform(1.001, 10, 50)
    np.testing.assert_allclose(an.btk_t0(e, 1.0, 0.0, 0.0), 2 * e / (e + np.sqrt(e**2 - 1)), rtol=1e-12)
    # Z = 0 inside the gap: perfect Andreev reflection, G = 2
    np.testing.assert_allclose(an.btk_t0(rng.uniform(-0.999, 0.999, 50), 1.0, 0.0, 0.0), 2.0, rtol=1e-14)


def test_btk_even_and_normal_state():
    e = np.linspace(-3, 3, 301)
    g = an.btk_t0(e, 1.0, 0.05, 0.7)
    np.testing.assert_allclose(g, g[::-1], rtol=1e-14)
    np.testing.assert_allclose(an.btk_t0(e, 0.0, 0.0, 0.7), 1.0, rtol=1e-14)  # Delta = 0: normal metal
    a, b = an.btk_coefficients(0.0, 0.0, 0.0, 0.7)  # the single 0/0 point takes its limit
    assert float(a) == 0.0 and float(b) == pytest.approx(0.49 / 1.49)


def test_dynes_btk_closed_form_zero_bias():
    # check 15 (Gamma in units of Delta = 1)
    for z, gam, ref in [(0, 0.1, 1.819002), (0.5, 0.1, 1.123016), (1, 0.2, 0.621957), (0, 0.01, 1.980199)]:
        assert float(an.btk_t0(0.0, 1.0, gam, z)) == pytest.approx(ref, abs=1e-6)


def test_dynes_btk_continuous_at_gap_edge():
    # Plecenik values of the physics note table; the piecewise-Re variant would give 2.322/1.532
    g = an.btk_t0(np.array([0.999, 1.001]), 1.0, 0.1, 0.5)
    np.testing.assert_allclose(g, [1.629, 1.626], atol=6e-4)
    g = an.btk_t0(np.array([0.999, 1.001]), 1.0, 0.1, 0.0)
    np.testing.assert_allclose(g, [1.530, 1.527], atol=6e-4)


def test_dynes_btk_to_btk_as_gamma_to_zero():
    e = np.linspace(-4, 4, 4001)
    e = e[np.abs(np.abs(e) - 1.0) > 1e-3]
    for z in (0.0, 0.4, 1.3):
        np.testing.assert_allclose(an.btk_t0(e, 1.0, 1e-9, z), an.btk_t0(e, 1.0, 0.0, z), atol=2e-6)


def test_large_z_is_tunnelling_dos():
    e = np.linspace(-3, 3, 601)
    for gam in (0.02, 0.1):
        w = np.abs(e) + 1j * gam
        dos = (w / np.sqrt(w * w - 1.0)).real  # written independently of the module
        np.testing.assert_allclose(an.btk_t0(e, 1.0, gam, 1000.0), dos, rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize(("z", "ref"), [
    (0.0, (1.99995, 1.99660, 1.71152, 1.16563, 1.07463)),
    (0.5, (1.13323, 1.33545, 1.76625, 1.20554, 1.09099)),
    (1.0, (0.45986, 0.64060, 1.78538, 1.27115, 1.11655)),
])
def test_check13_finite_temperature(z, ref):
    v = np.array([0.0, 0.5, 1.0, 1.5, 2.0])
    # the grid scheme of thermal.smear blurs by O(h^2): a few 1e-5 at the Gamma = 0 gap edge
    g = an.btk_conductance(v, 1.0, 0.0, z, 0.1 / K_B_MEV_PER_K)
    np.testing.assert_allclose(g, ref, atol=1e-4)


def test_check14_dynes_finite_temperature():
    v = np.array([0.0, 0.5, 1.0, 1.5])
    t = 0.05 / K_B_MEV_PER_K
    np.testing.assert_allclose(an.btk_conductance(v, 1.0, 0.05, 0.5, t), [1.12349, 1.29316, 1.72207, 1.18409],
                               atol=2e-5)
    np.testing.assert_allclose(an.btk_conductance(v, 1.0, 0.05, 0.0, t), [1.90449, 1.88983, 1.61490, 1.14896],
                               atol=2e-5)
    v = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(an.btk_conductance(v, 0.5, 0.01, 0.5, 0.05),
                               [1.11467, 1.28869, 2.00892, 1.18034, 1.08741], atol=2e-5)


def test_check16_strijkers():
    for p, ref in [(0.25, 1.5), (0.5, 1.0), (1.0, 0.0)]:
        assert float(an.spin_polarized_t0(0.0, 1.0, 0.0, 0.0, p)) == pytest.approx(ref, abs=1e-14)
    g = an.btk_polarized_conductance(np.array([0.0, 1.0, 2.0]), 1.0, 0.0, 0.5, 0.4, 0.1 / K_B_MEV_PER_K)
    np.testing.assert_allclose(g, [0.67998, 1.28047, 1.06176], atol=5e-5)


def test_check17_strijkers_gaussian_stoner_convention():
    g = an.btk_polarized_conductance(np.array([0.0, 1.5, 3.0]), 1.5, 0.0, 0.15, 0.42, smearing=0.5)
    np.testing.assert_allclose(g, [1.0969, 1.1660, 1.0502], atol=6e-4)


def test_polarized_forms_differ_at_gap_edge():
    s = float(an.spin_polarized_t0(1.2, 1.0, 0.0, 0.5, 1.0, form="strijkers"))
    m = float(an.spin_polarized_t0(1.2, 1.0, 0.0, 0.5, 1.0, form="mazin"))
    assert s == pytest.approx(1.0699, abs=1e-4)
    assert m == pytest.approx(1.0174, abs=1e-4)
    # E -> Delta+: Strijkers -> 1 + Z^2, Mazin -> 0; both forms equal BTK at P = 0
    assert float(an.spin_polarized_t0(1 + 1e-10, 1.0, 0.0, 0.5, 1.0)) == pytest.approx(1.25, abs=1e-4)
    edge = float(an.spin_polarized_t0(1 + 1e-10, 1.0, 0.0, 0.5, 1.0, form="mazin"))
    assert edge == pytest.approx(0, abs=1e-4)
    e = np.linspace(-3, 3, 61)
    for form in ("strijkers", "mazin"):
        np.testing.assert_allclose(an.spin_polarized_t0(e, 1.0, 0.03, 0.6, 0.0, form=form),
                                   an.btk_t0(e, 1.0, 0.03, 0.6), rtol=1e-14)
    with pytest.raises(ValueError, match="form"):
        an.spin_polarized_t0(e, 1.0, 0.0, 0.5, 0.5, form="woods")


def test_mazin_real_formula_above_gap(rng):
    e = rng.uniform(1.01, 5, 30)
    z = 0.7
    beta = e / np.sqrt(e**2 - 1)
    ref = (1 + z**2) * 4 * beta / ((1 + beta) ** 2 + 4 * z**2)
    np.testing.assert_allclose(an.spin_polarized_t0(e, 1.0, 0.0, z, 1.0, form="mazin"), ref, rtol=1e-12)
    np.testing.assert_allclose(an.spin_polarized_t0(rng.uniform(0, 0.99, 30), 1.0, 0.0, z, 1.0, form="mazin"),
                               0.0, atol=1e-14)


def test_two_gap_is_weighted_sum():
    e = np.linspace(-2, 2, 41)
    g = an.two_gap_t0(e, 1.0, 0.02, 0.5, 0.3, 0.01, 0.8, 0.3)
    np.testing.assert_allclose(g, 0.3 * an.btk_t0(e, 1.0, 0.02, 0.5) + 0.7 * an.btk_t0(e, 0.3, 0.01, 0.8))


# --- collective gap (§7.2, check 18) ------------------------------------------------------------
PM_E = np.array([0.0, 0.1, 0.3, 0.55, 0.61, 0.9, 3.0])
PM_TABLE = {
    (0.0, "pm2"): (2, 2, 0.29180, 0.07089, 1.69444, 1.14590, 1.01021),
    (0.0, "pm3"): (2, 2, 0.29180, 0.07089, 0.36240, 0.87942, 0.99202),
    (0.5, "pm2"): (1.11111, 1.29032, 0.24768, 0.05752, 1.96774, 1.18034, 1.01227),
    (0.5, "pm3"): (1.11111, 1.29032, 0.24768, 0.05752, 0.51530, 0.95302, 0.99766),
    (1.0, "pm2"): (0.44444, 0.57143, 0.16976, 0.03673, 2.59574, 1.23607, 1.01539),
    (1.0, "pm3"): (0.44444, 0.57143, 0.16976, 0.03673, 0.99530, 1.07913, 1.00619),
}


@pytest.mark.parametrize(("z", "form"), sorted(PM_TABLE))
def test_collective_table(z, form):
    g = an.collective_gap_t0(PM_E, 0.6, 0.2, 0.0, z, form=form)
    np.testing.assert_allclose(g, PM_TABLE[(z, form)], atol=6e-6)


def test_collective_reduces_to_btk(rng):
    e = np.linspace(-2, 2, 401)
    for _ in range(5):
        d, gam, z = rng.uniform(0.2, 1), rng.uniform(0, 0.1), rng.uniform(0, 3)
        for form in ("pm2", "pm3"):
            np.testing.assert_allclose(an.collective_gap_t0(e, d, d, gam, z, form=form),
                                       an.btk_t0(e, d, gam, z), rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(an.collective_gap_t0(e, d, d, gam, z, form="pm1", alpha=1.0),
                                   an.btk_t0(e, d, gam, z), rtol=1e-14)
        t = rng.uniform(0.05, 1)
        np.testing.assert_allclose(an.collective_gap_conductance(e, d, d, gam, z, t),
                                   an.btk_conductance(e, d, gam, z, t), rtol=1e-12)


def test_pm3_large_z_and_pm1_peaks():
    assert float(an.collective_gap_t0(0.7, 0.6, 0.2, 0.0, 20.0, form="pm3")) == pytest.approx(1.936, abs=1e-3)
    assert 0.7 / np.sqrt(0.7**2 - 0.6**2) == pytest.approx(1.941, abs=1e-3)  # the BCS DOS it tends to
    assert float(an.collective_gap_t0(0.61, 0.6, 0.2, 0.0, 0.0, form="pm3")) == pytest.approx(0.36, abs=5e-3)
    assert float(an.collective_gap_t0(0.61, 0.6, 0.2, 0.0, 0.0, form="pm2")) == pytest.approx(1.69, abs=5e-3)
    v = np.arange(0.0, 1.0, 0.0005)
    g = an.collective_gap_conductance(v, 0.6, 0.2, 0.005, 0.5, 0.05, form="pm1", alpha=0.3)
    inner = (v > 0.1) & (v < 0.4)
    outer = v > 0.45
    assert v[inner][np.argmax(g[inner])] == pytest.approx(0.192, abs=0.002)
    assert v[outer][np.argmax(g[outer])] == pytest.approx(0.607, abs=0.002)


# --- independent slow reference: quad over the T = 0 spectrum written from the BTK formulas ---------
def _btk_reference_point(e: float, delta: float, gamma: float, z: float) -> float:
    """Dynes-BTK written from u0^2, v0^2, gamma of BTK (not the module's simplified form)."""
    w = abs(e) + 1j * gamma  # gamma > 0 here, so w != 0
    om = np.sqrt(w * w - delta * delta)
    u2 = 0.5 * (1 + om / w)
    v2 = 1 - u2
    g = u2 + z * z * (u2 - v2)
    a = abs(u2 * v2) / abs(g) ** 2
    b = abs(u2 - v2) ** 2 * z * z * (1 + z * z) / abs(g) ** 2
    return (1 + z * z) * (1 + a - b)


def _quad_reference(v: float, delta: float, gamma: float, z: float, temperature: float) -> float:
    kt = K_B_MEV_PER_K * temperature

    def integrand(e: float) -> float:
        x = (e - v) / (2 * kt)
        return _btk_reference_point(e, delta, gamma, z) / (4 * kt * np.cosh(x) ** 2)

    lo, hi = v - 40 * kt, v + 40 * kt
    pts = [p for p in (-delta, delta, v) if lo < p < hi]
    val, _ = integrate.quad(integrand, lo, hi, points=pts, limit=400, epsabs=1e-11, epsrel=1e-10)
    return val


def test_quad_cross_check_random_parameters(rng):
    worst = 0.0
    for _ in range(4):
        delta = rng.uniform(0.3, 1.5)
        gamma = rng.uniform(0.005, 0.1) * delta
        z = rng.uniform(0.0, 2.0)
        temperature = rng.uniform(0.1, 0.4) * delta / K_B_MEV_PER_K
        v = rng.uniform(-2.5 * delta, 2.5 * delta, 5)
        got = an.btk_conductance(v, delta, gamma, z, temperature)
        ref = np.array([_quad_reference(x, delta, gamma, z, temperature) for x in v])
        worst = max(worst, float(np.max(np.abs(got / ref - 1))))
    print(f"quad agreement: Dynes-BTK {worst:.1e}")
    assert worst <= 1e-4


def test_lockin_and_gaussian_preserve_area():
    # a unit-area smearing leaves the integral of G - 1 unchanged
    v = np.linspace(-6, 6, 4801)
    g0 = an.btk_conductance(v, 1.0, 0.02, 0.8, 0.5)
    g1 = an.btk_conductance(v, 1.0, 0.02, 0.8, 0.5, v_mod_rms=0.1, smearing=0.2)
    assert np.trapezoid(g1 - 1, v) == pytest.approx(np.trapezoid(g0 - 1, v), rel=2e-3)
    assert g1.max() < g0.max()


def test_scalar_and_validation():
    assert np.ndim(an.btk_conductance(0.3, 1.0, 0.01, 0.5, 1.0)) == 0
    with pytest.raises(ValueError, match=">= 0"):
        an.btk_conductance(0.3, 1.0, 0.01, 0.5, -1.0)
    with pytest.raises(ValueError, match="form"):
        an.collective_gap_t0(0.3, 1.0, 0.5, 0.01, 0.5, form="pm4")


def _pm2_reference_point(e: float, delta: float, delta_col: float, gamma: float, z: float) -> float:
    """PM-2 of physics note 7.2 written out region by region, from the BTK u0/v0 reference."""
    e = abs(e)
    if e >= delta:
        return _btk_reference_point(e, delta, gamma, z)
    w = e + 1j * gamma
    om = np.sqrt(w * w - delta_col * delta_col)
    u2 = 0.5 * (1 + om / w)
    v2 = 1 - u2
    g = u2 + z * z * (u2 - v2)
    a = abs(u2 * v2) / abs(g) ** 2
    b = abs(u2 - v2) ** 2 * z * z * (1 + z * z) / abs(g) ** 2 if e < delta_col else 1 - a
    return (1 + z * z) * (1 + a - b)


def _piecewise_btk(e: float, delta: float, z: float) -> float:
    e, c = abs(e), 1 + 2 * z * z
    if e < delta:
        a = delta**2 / (e * e + (delta**2 - e * e) * c * c)
        b = 1 - a
    else:
        eps = e / np.sqrt(e * e - delta**2)
        a = (eps**2 - 1) / (eps + c) ** 2
        b = 4 * z * z * (1 + z * z) / (eps + c) ** 2
    return (1 + z * z) * (1 + a - b)


def _quad_thermal(func, v: float, kt: float, breaks: tuple[float, ...]) -> float:
    lo, hi = v - 40 * kt, v + 40 * kt
    pts = sorted({lo, hi, *(p for p in breaks if lo < p < hi)})
    total = 0.0
    for a, b in zip(pts[:-1], pts[1:], strict=True):
        total += integrate.quad(lambda e: func(e) / (4 * kt * np.cosh((e - v) / (2 * kt)) ** 2), a, b,
                                limit=300, epsabs=1e-12, epsrel=1e-11)[0]
    return total


def test_quad_cross_check_gamma_zero_and_pm2(rng):
    worst_btk, worst_pm2 = 0.0, 0.0
    for _ in range(3):
        delta, z = rng.uniform(0.4, 1.2), rng.uniform(0.0, 1.5)
        t = rng.uniform(0.05, 0.2) * delta / K_B_MEV_PER_K
        kt = K_B_MEV_PER_K * t
        v = rng.uniform(-2 * delta, 2 * delta, 4)
        got = an.btk_conductance(v, delta, 0.0, z, t)
        ref = [_quad_thermal(lambda e, d=delta, zz=z: _piecewise_btk(e, d, zz), x, kt, (-delta, delta))
               for x in v]
        worst_btk = max(worst_btk, float(np.max(np.abs(got / np.array(ref) - 1))))
        dcol, gam = rng.uniform(0.2, 0.6) * delta, rng.uniform(0.005, 0.03) * delta
        got = an.collective_gap_conductance(v, delta, dcol, gam, z, t)
        ref = [_quad_thermal(lambda e, d=delta, dc=dcol, g=gam, zz=z: _pm2_reference_point(e, d, dc, g, zz),
                             x, kt, (-delta, -dcol, dcol, delta)) for x in v]
        worst_pm2 = max(worst_pm2, float(np.max(np.abs(got / np.array(ref) - 1))))
    print(f"quad agreement: BTK Gamma=0 {worst_btk:.1e}, PM-2 {worst_pm2:.1e}")
    assert worst_btk <= 1e-4
    assert worst_pm2 <= 1e-4
