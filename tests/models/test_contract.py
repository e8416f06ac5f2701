"""Registry contract: every registered model obeys the shape every other part of fitkit relies on."""

from __future__ import annotations

import inspect

import lmfit
import numpy as np
import pytest

import fitkit
from fitkit.models import DATA_UNIT, MODEL_REGISTRY, get_model
from fitkit.units import UNITS

KEYS = sorted(MODEL_REGISTRY)


def _x(model_cls):
    """A typical grid of the model's declared independent variable (``x_example`` if declared)."""
    if model_cls.x_example is not None:
        lo, hi = model_cls.x_example
        return np.linspace(lo, hi, 41)
    if model_cls.x_name == "temperature":
        return np.linspace(0.05, 0.6, 41)
    if model_cls.x_name == "bias":
        return np.linspace(-3e-3, 3e-3, 61)
    raise AssertionError(f"{model_cls.key}: independent variable '{model_cls.x_name}' has no x_example range")


@pytest.mark.parametrize("key", KEYS)
def test_declared_independent_variable(key):
    cls = get_model(key)
    m = cls()
    assert m.independent_vars == [cls.x_name]
    assert cls.x_name.isidentifier() and cls.x_unit in UNITS
    if cls.x_example is not None:
        lo, hi = cls.x_example
        assert lo < hi


def test_registry_not_empty():
    assert KEYS, "no model registered"
    assert fitkit.list_models() == KEYS


@pytest.mark.parametrize("key", KEYS)
def test_specs_match_function_arguments(key):
    cls = get_model(key)
    sig = inspect.signature(cls.model_function)
    names = list(sig.parameters)
    assert names[0] == cls.x_name
    numeric = [
        n for n, p in sig.parameters.items()
        if n != cls.x_name and (p.default is inspect.Parameter.empty
                                or (isinstance(p.default, (int, float)) and not isinstance(p.default, bool)))
    ]
    assert numeric == [s.name for s in cls.param_specs]
    for opt in cls.option_choices:
        assert opt in sig.parameters, f"option {opt} is not an argument of the model function"


@pytest.mark.parametrize("key", KEYS)
def test_units_and_scale(key):
    cls = get_model(key)
    for s in cls.param_specs:
        assert s.unit in UNITS or s.unit == DATA_UNIT, f"{key}.{s.name}: unit {s.unit!r} not in vocabulary"
        assert s.value == 0 or 1e-3 <= abs(s.value) <= 1e3, f"{key}.{s.name}: default {s.value} badly scaled"
        assert s.min <= s.value <= s.max
        assert s.description, f"{key}.{s.name} has no description"
    assert cls.x_unit in UNITS
    assert cls.__doc__ and len(cls.__doc__) > 80


@pytest.mark.parametrize("key", KEYS)
def test_finite_at_defaults_and_readonly_input(key):
    cls = get_model(key)
    m = cls()
    x = _x(cls)
    x.setflags(write=False)
    y = m.eval(m.make_params(), **{cls.x_name: x})
    assert y.shape == x.shape
    assert np.all(np.isfinite(y))


@pytest.mark.parametrize("key", KEYS)
def test_scalar_x_gives_scalar(key):
    cls = get_model(key)
    m = cls()
    x0 = float(_x(cls)[5])
    y = m.eval(m.make_params(), **{cls.x_name: x0})
    assert np.ndim(y) == 0


@pytest.mark.parametrize("key", KEYS)
def test_prefix_follows_hints_and_composition(key):
    cls = get_model(key)
    m = cls(prefix="a_")
    assert set(m.make_params()) == {f"a_{s.name}" for s in cls.param_specs}
    m.prefix = "b_"
    pars = m.make_params()
    assert set(pars) == {f"b_{s.name}" for s in cls.param_specs}
    first = cls.param_specs[0]
    assert pars[f"b_{first.name}"].min == first.min
    comp = cls(prefix="one_") + cls(prefix="two_")
    x = _x(cls)
    y = comp.eval(comp.make_params(), **{cls.x_name: x})
    y1 = cls().eval(cls().make_params(), **{cls.x_name: x})
    np.testing.assert_allclose(y, 2 * y1, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("key", KEYS)
def test_guess_recovers_defaults_roughly(key):
    cls = get_model(key)
    m = cls()
    x = _x(cls)
    y = m.eval(m.make_params(), **{cls.x_name: x})
    pars = m.guess(y, x)
    assert isinstance(pars, lmfit.Parameters)
    assert set(pars) >= {s.name for s in cls.param_specs}
    for p in pars.values():
        assert np.isfinite(p.value)
        assert p.min <= p.value <= p.max


@pytest.mark.parametrize("key", KEYS)
def test_dumps_loads_roundtrip(key):
    cls = get_model(key)
    m = cls()
    s = m.dumps()
    m2 = lmfit.Model(lambda x: x).loads(s, funcdefs={cls.model_function.__name__: cls.model_function})
    x = _x(cls)
    np.testing.assert_allclose(m2.eval(m2.make_params(), **{cls.x_name: x}),
                               m.eval(m.make_params(), **{cls.x_name: x}), rtol=1e-12)
