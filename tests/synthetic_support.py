"""Synthetic sweeps for the verdict, coverage and warning-calibration tests (no files outside the repo).

Each generator evaluates a registered model (or a closed-form shape that no fitkit model describes)
on a grid and adds seeded Gaussian noise: white, or AR(1) with the same marginal standard deviation.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from fitkit.io.sweep import Sweep, SweepMeta
from fitkit.models import get_model

__all__ = ["ar1_noise", "bias_sweep", "model_y", "rt_sweep", "xy_sweep"]


def ar1_noise(rng: np.random.Generator, n: int, sigma: float, phi: float = 0.0) -> np.ndarray:
    """Gaussian AR(1) noise :math:`e_i = \\phi e_{i-1} + \\sqrt{1-\\phi^2}\\,\\sigma\\,w_i`, stationary
    start, marginal standard deviation ``sigma`` (``phi=0``: white noise)."""
    w = rng.standard_normal(n)
    e = np.empty(n)
    e[0] = w[0]
    c = np.sqrt(1.0 - phi**2)
    for i in range(1, n):
        e[i] = phi * e[i - 1] + c * w[i]
    return sigma * e


def model_y(key: str, x: np.ndarray, params: Mapping[str, float] | None = None) -> np.ndarray:
    """The registered model ``key`` at its defaults overridden by ``params``, on grid ``x`` (SI unit)."""
    cls = get_model(key)
    m = cls()
    pars = m.make_params()
    for name, value in (params or {}).items():
        pars[name].set(value=value)
    return np.asarray(m.eval(pars, **{cls.x_name: x}), dtype=float)


def _meta(sample_id: str) -> SweepMeta:
    return SweepMeta(source_path="", loader="synthetic", sample_id=sample_id)


def bias_sweep(bias_v: np.ndarray, g: np.ndarray, sample_id: str = "synthetic") -> Sweep:
    """A normalised tunnelling/Andreev spectrum: columns ``bias_V`` [V] and ``dIdV_norm`` [G_N]."""
    return Sweep(pd.DataFrame({"bias_V": bias_v, "dIdV_norm": g}), _meta(sample_id))


def rt_sweep(t_k: np.ndarray, r_ohm: np.ndarray, sample_id: str = "synthetic") -> Sweep:
    """An R(T) curve: columns ``temperature_K`` [K] and ``resistance_ohm`` [Ω]."""
    return Sweep(pd.DataFrame({"temperature_K": t_k, "resistance_ohm": r_ohm}), _meta(sample_id))


def xy_sweep(x_column: str, x: np.ndarray, y_column: str, y: np.ndarray,
             sample_id: str = "synthetic") -> Sweep:
    """Any two-column sweep (series laws: ``temperature_K`` vs ``delta_meV`` ...)."""
    return Sweep(pd.DataFrame({x_column: x, y_column: y}), _meta(sample_id))
