"""Model registry.  Model modules register their classes with :func:`register_model`.

All public submodules of this package are imported here, so the registry is complete after
``import fitkit``.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from typing import TypeVar

from fitkit.errors import UnknownModelError
from fitkit.models.base import DATA_UNIT, FitkitModel, ParamSpec, apply_overrides

__all__ = [
    "DATA_UNIT",
    "MODEL_REGISTRY",
    "FitkitModel",
    "ParamSpec",
    "apply_overrides",
    "get_model",
    "list_models",
    "register_model",
]

MODEL_REGISTRY: dict[str, type[FitkitModel]] = {}
"""Registered model classes keyed by their stable ``key``."""

M = TypeVar("M", bound=type[FitkitModel])


def register_model(cls: M) -> M:
    """Class decorator that adds a model class to :data:`MODEL_REGISTRY` (duplicates raise)."""
    if cls.key in MODEL_REGISTRY:
        raise ValueError(f"model key '{cls.key}' is already registered by {MODEL_REGISTRY[cls.key].__name__}")
    MODEL_REGISTRY[cls.key] = cls
    return cls


def get_model(key: str) -> type[FitkitModel]:
    """Return the model class registered under ``key``.

    Raises
    ------
    UnknownModelError
        With the sorted list of keys and the closest match.
    """
    try:
        return MODEL_REGISTRY[key]
    except KeyError:
        close = difflib.get_close_matches(key, list(MODEL_REGISTRY), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise UnknownModelError(
            f"unknown model '{key}'; registered models are {list_models()}{hint}"
        ) from None


def list_models() -> list[str]:
    """Sorted keys of all registered models."""
    return sorted(MODEL_REGISTRY)


_INFRASTRUCTURE = {"base", "guesses"}
for _m in pkgutil.iter_modules(__path__):
    if not _m.name.startswith("_") and _m.name not in _INFRASTRUCTURE:
        importlib.import_module(f"{__name__}.{_m.name}")
