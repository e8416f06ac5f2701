"""Physical constants used by fitkit, all derived from :mod:`scipy.constants` (CODATA).

No other module of fitkit writes a physical constant as a literal.  Values are SI unless the
name says otherwise.

Names
-----
R_K_OHM
    von Klitzing constant h/e^2 = 25 812.807 Ohm.  Zaikin and Arutyunov call this ``R_q``.
R_Q_OHM
    superconducting resistance quantum h/(4e^2) = 6 453.202 Ohm.  Lau, Tinkham and Bezryadin
    call *this* ``R_q``.  The two literatures differ by a factor 4; fitkit keeps both names.
HBAR_OVER_E2_OHM
    hbar/e^2 = 4 108.236 Ohm.
G0_S
    conductance quantum 2e^2/h = 77.48 uS.
PHI0_WB
    magnetic flux quantum h/(2e).
K_B_MEV_PER_K
    Boltzmann constant in meV/K (0.08617333 meV/K).
"""

from __future__ import annotations

from scipy import constants as _sc

K_B: float = _sc.k
"""Boltzmann constant k_B [J/K]."""
E_CHARGE: float = _sc.e
"""Elementary charge e [C]."""
H_PLANCK: float = _sc.h
"""Planck constant h [J s]."""
HBAR: float = _sc.hbar
"""Reduced Planck constant hbar [J s]."""
EPSILON_0: float = _sc.epsilon_0
"""Vacuum permittivity [F/m]."""
MU_0: float = _sc.mu_0
"""Vacuum permeability [H/m]."""

K_B_MEV_PER_K: float = _sc.physical_constants["Boltzmann constant in eV/K"][0] * 1e3
"""Boltzmann constant [meV/K]."""
K_B_EV_PER_K: float = _sc.physical_constants["Boltzmann constant in eV/K"][0]
"""Boltzmann constant [eV/K]."""
R_K_OHM: float = _sc.h / _sc.e**2
"""h/e^2 [Ohm] (the resistance quantum of Zaikin's g_xi = R_K/R_xi)."""
R_Q_OHM: float = _sc.h / (4.0 * _sc.e**2)
"""h/(4e^2) [Ohm] (the pair resistance quantum of Lau/Tinkham's LAMH formula)."""
HBAR_OVER_E2_OHM: float = _sc.hbar / _sc.e**2
"""hbar/e^2 [Ohm]."""
G0_S: float = _sc.physical_constants["conductance quantum"][0]
"""Conductance quantum 2e^2/h [S]."""
PHI0_WB: float = _sc.physical_constants["mag. flux quantum"][0]
"""Magnetic flux quantum h/2e [Wb]."""
HBAR_MEV_S: float = _sc.hbar / _sc.e * 1e3
"""hbar [meV s]."""
