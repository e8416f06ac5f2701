"""Helpers for the config, pipeline, CLI and report tests (not a test module).

The engine is tested with a tiny plugin (a logistic R(T) step model and a two-column CSV
loader) written into ``tmp_path`` and named in the config's ``plugins:``, so the tests do not
depend on the real models and loaders and work in spawned worker processes too (the plugin is
source text for that reason: it cannot share code with the in-process toy models below).

:class:`ToyLorentzBase` is the toy Lorentzian conductance peak of the CLI and report tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from fitkit.models import FitkitModel, ParamSpec
from fitkit.units import MEV_PER_VOLT

PLUGIN_SRC = '''
"""Test plugin: logistic R(T) step model 'tk_step' and CSV loader 'tk_csv'."""
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from fitkit.errors import LoaderError
from fitkit.io import Loader, Sweep, SweepMeta, register_loader
from fitkit.models import FitkitModel, ParamSpec, register_model


def tk_step_resistance(temperature, r_n, t_c, width):
    """R = r_n / (1 + exp(-(T - t_c)/width)) [ohm]."""
    arg = np.clip(-(np.asarray(temperature, dtype=float) - t_c) / width, -700.0, 700.0)
    return r_n / (1.0 + np.exp(arg))


@register_model
class TkStepModel(FitkitModel):
    """Logistic resistive transition used only by the pipeline tests (a smooth step from 0 to r_n)."""

    key = "tk_step"
    x_name, x_unit, y_unit = "temperature", "K", "ohm"
    param_specs = (
        ParamSpec("r_n", "ohm", 100.0, min=0.0, description="normal-state resistance"),
        ParamSpec("t_c", "K", 5.0, min=0.0, description="midpoint temperature"),
        ParamSpec("width", "K", 0.1, min=1e-3, description="transition width"),
    )
    model_function = staticmethod(tk_step_resistance)

    def guess(self, data, x, **overrides):
        data = np.asarray(data, float)
        x = np.asarray(x, float)
        r_n = float(np.max(data))
        t_c = float(x[np.argmin(np.abs(data - r_n / 2))])
        return self._finish_guess({"r_n": r_n, "t_c": t_c, "width": (x.max() - x.min()) / 20}, **overrides)


@register_loader
class TkCsvLoader(Loader):
    """Two-column CSV temperature_K,resistance_ohm (tests only)."""

    key = "tk_csv"
    description = "test CSV"
    extensions = (".tkcsv",)

    def read(self, path, *, split: int = 1, sample_id: str = ""):
        delay = float(os.environ.get("FITKIT_TEST_DELAY", "0"))
        if delay:
            time.sleep(delay)
        try:
            arr = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
        except ValueError as err:
            raise LoaderError(f"{path}: not a tk_csv file: {err}") from err
        if arr.shape[1] != 2:
            raise LoaderError(f"{path}: expected 2 columns, found {arr.shape[1]}")
        out = []
        for k, chunk in enumerate(np.array_split(arr, split)):
            frame = pd.DataFrame({"temperature_K": chunk[:, 0], "resistance_ohm": chunk[:, 1]})
            meta = SweepMeta(source_path=str(path), loader=self.key, sample_id=sample_id or Path(path).stem,
                             extra={"chunk": k})
            out.append(Sweep(frame, meta))
        return out[0] if split == 1 else out
'''


def write_plugin(folder: Path) -> Path:
    """Write the test plugin into ``folder`` and return its path."""
    p = folder / "tk_plugin.py"
    p.write_text(PLUGIN_SRC)
    return p


def write_series(
    folder: Path, rng: np.random.Generator, n: int = 6, *, points: int = 60, repeats: int = 1
) -> list[tuple[Path, float]]:
    """Write ``n`` noisy step curves ``W<k>.tkcsv``; return (path, true t_c) pairs.

    ``repeats`` concatenates that many independent curves in one file (for split/block tests).
    """
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for k in range(n):
        t_c = 4.0 + 0.3 * k
        rows = []
        for _ in range(repeats):
            t = np.linspace(t_c - 1.5, t_c + 1.5, points)
            r = 120.0 / (1.0 + np.exp(-(t - t_c) / 0.15)) + rng.normal(0, 0.5, t.size)
            rows.append(np.column_stack([t, r]))
        arr = np.vstack(rows)
        p = folder / f"W{k + 1}.tkcsv"
        np.savetxt(p, arr, delimiter=",", header="temperature_K,resistance_ohm", comments="")
        out.append((p, t_c))
    return out


def forget_plugins() -> None:
    """Remove the test plugin's registrations and module so no other test sees them."""
    from fitkit.io import LOADERS
    from fitkit.models import MODEL_REGISTRY

    MODEL_REGISTRY.pop("tk_step", None)
    LOADERS.pop("tk_csv", None)
    for name in [m for m in sys.modules if m.startswith("fitkit_plugin_tk_plugin")]:
        del sys.modules[name]


def toy_lorentz_S(bias, center, width, g_peak, g_bg):
    """Lorentzian dI/dV peak on a background: energies in meV, conductances in uS, output in S."""
    e = bias * MEV_PER_VOLT
    with np.errstate(invalid="ignore", divide="ignore"):  # width = 0 is used to make a fit fail
        return 1e-6 * (g_bg + g_peak * width**2 / ((e - center) ** 2 + width**2))


def toy_lorentz_specs(*, g_bg_vary: bool = True) -> tuple[ParamSpec, ...]:
    """Parameters of the toy peak (``g_bg_vary=False`` holds the background fixed)."""
    return (
        ParamSpec("center", "meV", 0.0, description="peak position"),
        ParamSpec("width", "meV", 0.2, min=0.0, description="half width at half maximum"),
        ParamSpec("g_peak", "uS", 5.0, min=0.0, description="peak height"),
        ParamSpec("g_bg", "uS", 10.0, vary=g_bg_vary, description="background conductance"),
    )


class ToyLorentzBase(FitkitModel):
    """Toy Lorentzian conductance peak (bias in V, output in S); subclasses set ``key``, ``param_specs``."""

    x_name, x_unit, y_unit = "bias", "V", "S"
    model_function = staticmethod(toy_lorentz_S)

    def guess(self, data, x, **overrides):
        g_bg = float(np.min(data)) * 1e6
        i = int(np.argmax(data))
        return self._finish_guess({"center": x[i] * MEV_PER_VOLT, "width": 0.2,
                                   "g_peak": float(data[i]) * 1e6 - g_bg, "g_bg": g_bg}, **overrides)
