"""Base class of fitkit models: an :class:`lmfit.Model` with declared, unit-carrying parameters."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import lmfit
import numpy as np

from fitkit.errors import ConfigError

__all__ = ["DATA_UNIT", "FitkitModel", "ParamSpec", "apply_overrides"]

DATA_UNIT = "y"
"""Pseudo-unit of a parameter measured in the unit of the fitted data column (e.g. ``g_n``)."""


@dataclass(frozen=True)
class ParamSpec:
    """Declaration of one fit parameter.

    Attributes
    ----------
    name
        Parameter name == argument name of the model function (no unit suffix).
    unit
        Unit token from :mod:`fitkit.units`, ``"1"`` when dimensionless, or :data:`DATA_UNIT`.
    value
        Typical start value in ``unit`` (magnitude within 1e-3..1e3, or 0).
    min, max
        Physical bounds.
    vary
        Whether the parameter is free by default.
    description
        One line for tables and reports.
    """

    name: str
    unit: str
    value: float
    min: float = -np.inf
    max: float = np.inf
    vary: bool = True
    description: str = ""


_OVERRIDE_KEYS = frozenset({"value", "min", "max", "vary", "expr"})


def apply_overrides(params: lmfit.Parameters, overrides: Mapping[str, Any] | None,
                    where: str = "params") -> lmfit.Parameters:
    """Apply user overrides to parameters, in place, and return them.

    Parameters
    ----------
    params
        Parameters to change.
    overrides
        ``name -> number`` (sets the value) or ``name -> {value, min, max, vary, expr}``.
    where
        Prefix for error messages (a config key path).

    Returns
    -------
    lmfit.Parameters

    Raises
    ------
    ConfigError
        For unknown parameter names or keys (all problems are reported together).
    """
    if not overrides:
        return params
    problems: list[str] = []
    for name, spec in overrides.items():
        if name not in params:
            problems.append(f"{where}.{name}: unknown parameter; valid names are {sorted(params)}")
            continue
        par = params[name]
        if isinstance(spec, Mapping):
            bad = sorted(set(spec) - _OVERRIDE_KEYS)
            if bad:
                problems.append(
                    f"{where}.{name}: unknown key(s) {bad}; valid keys are {sorted(_OVERRIDE_KEYS)}"
                )
                continue
            if "min" in spec:
                par.min = float(spec["min"])
            if "max" in spec:
                par.max = float(spec["max"])
            if "value" in spec:
                par.value = float(spec["value"])
            if "vary" in spec:
                par.vary = bool(spec["vary"])
            if "expr" in spec:
                par.expr = spec["expr"]
        else:
            try:
                par.value = float(spec)
            except (TypeError, ValueError):
                problems.append(f"{where}.{name}: value {spec!r} is not a number")
    if problems:
        raise ConfigError("; ".join(problems))
    return params


class FitkitModel(lmfit.Model):
    """An :class:`lmfit.Model` whose parameters are declared with units and bounds.

    Subclasses set the class variables below, provide ``model_function`` (a module-level
    function whose first argument is the independent variable, in SI) and implement
    :meth:`guess`.  Instances behave as plain lmfit models: ``+`` composition, prefixes,
    ``fit``, ``dumps``/``loads``.

    Class variables
    ---------------
    key
        Stable registry key used in YAML configs.
    x_name, x_unit
        Name and SI unit of the independent variable (``"bias"``, ``"V"``).
    x_example
        Optional ``(lo, hi)`` of a typical range of the independent variable in ``x_unit``, used by
        the contract tests and examples (None: a default range for ``temperature``/``bias``).
    y_unit
        Unit of the output (``"ohm"``, ``"S"``, ``"norm"``, or :data:`DATA_UNIT`).
    param_specs
        The declared parameters.
    option_choices
        Allowed values of keyword options of the model function (``{"prefactor": ("mh", "gz")}``).
    """

    key: ClassVar[str]
    x_name: ClassVar[str]
    x_unit: ClassVar[str]
    x_example: ClassVar[tuple[float, float] | None] = None
    y_unit: ClassVar[str]
    param_specs: ClassVar[tuple[ParamSpec, ...]]
    option_choices: ClassVar[Mapping[str, tuple[Any, ...]]] = {}
    model_function: ClassVar[Callable[..., Any]]

    def __init__(self, *, prefix: str = "", nan_policy: str = "raise", **options: Any) -> None:
        unknown = sorted(set(options) - set(self.option_choices))
        if unknown:
            raise ConfigError(
                f"model '{self.key}': unknown option(s) {unknown}; "
                f"valid options are {sorted(self.option_choices)}"
            )
        for name, value in options.items():
            choices = self.option_choices[name]
            if choices and value not in choices:
                raise ConfigError(
                    f"model '{self.key}': option {name}={value!r} is not one of {list(choices)}"
                )
        func = type(self).__dict__.get("model_function")
        if func is None:
            func = self.model_function
        func = getattr(func, "__func__", func)
        super().__init__(func, independent_vars=[self.x_name],
                         param_names=[s.name for s in self.param_specs],
                         prefix=prefix, nan_policy=nan_policy, **options)
        self._set_paramhints_prefix()

    def _set_paramhints_prefix(self) -> None:
        # lmfit calls this hook from __init__ and whenever ``prefix`` is reassigned.
        for spec in getattr(self, "param_specs", ()):
            self.set_param_hint(spec.name, value=spec.value, min=spec.min, max=spec.max, vary=spec.vary)

    @property
    def options(self) -> dict[str, Any]:
        """Keyword options this instance passes to its model function."""
        return dict(self.opts)

    @property
    def param_units(self) -> dict[str, str]:
        """Prefixed parameter name -> unit token."""
        return {f"{self.prefix}{s.name}": s.unit for s in self.param_specs}

    @property
    def param_descriptions(self) -> dict[str, str]:
        """Prefixed parameter name -> description."""
        return {f"{self.prefix}{s.name}": s.description for s in self.param_specs}

    def spec(self, name: str) -> ParamSpec:
        """Return the :class:`ParamSpec` of an (unprefixed) parameter name."""
        for s in self.param_specs:
            if s.name == name:
                return s
        raise KeyError(name)

    def default_weights(self, x: np.ndarray, y: np.ndarray) -> np.ndarray | None:
        """Weights to use when the caller gives none (None: unweighted least squares)."""
        return None

    def _finish_guess(self, values: Mapping[str, float], **overrides: Any) -> lmfit.Parameters:
        """Build Parameters from estimated (unprefixed) values, clipped into bounds; overrides last."""
        pars = self.make_params()
        for name, val in values.items():
            par = pars[f"{self.prefix}{name}"]
            v = float(val)
            if np.isfinite(v):
                lo = par.min if np.isfinite(par.min) else -np.inf
                hi = par.max if np.isfinite(par.max) else np.inf
                par.value = float(np.clip(v, lo, hi))
        return lmfit.models.update_param_vals(pars, self.prefix, **overrides)

    def guess(self, data: np.ndarray, x: np.ndarray, **overrides: Any) -> lmfit.Parameters:
        """Estimate starting parameters from the data; overrides (``name=value``) are applied last."""
        raise NotImplementedError(f"{type(self).__name__} must estimate start values from data")
