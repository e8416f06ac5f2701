"""Look a quantity up in a fit record: the one way to do it in fitkit.

A record keeps fitted parameters in ``values`` / ``stderr`` / ``units`` (names may carry an lmfit
prefix such as ``w1_``) and model-free or derived numbers in ``derived`` / ``derived_stderr`` /
``derived_units``.  :func:`find_quantity` resolves a name against both, in this order:

1. a parameter with exactly that name (``"xi"`` must not pick up ``"g_xi"``);
2. a parameter with that *root* behind an identifier prefix (``"t_c"`` matches ``w1_t_c``);
3. a derived quantity by its name, by the name without a unit suffix (``"t_zero_K"`` -> ``t_zero``)
   or by its ``<name>_<unit>`` column name.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from fitkit import units
from fitkit.fitting.record import FitRecord

__all__ = ["Quantity", "find_quantity", "matches_root", "quantity_in"]


class Quantity(NamedTuple):
    """A value with its standard error (NaN: unknown) and unit token (``""``: none)."""

    value: float
    error: float
    unit: str


def matches_root(name: str, root: str) -> bool:
    """True if parameter ``name`` is ``root`` or ``<prefix>_<root>`` with an identifier prefix.

    >>> matches_root("w1_t_c", "t_c"), matches_root("t_c", "t_c"), matches_root("g_xi", "xi")
    (True, True, True)
    >>> matches_root("xt_c", "t_c")
    False
    """
    return name == root or (name.endswith(f"_{root}") and name[: -len(root) - 1].isidentifier())


def find_quantity(rec: FitRecord, name: str) -> Quantity | None:
    """Value, standard error and unit of a parameter or derived quantity of ``rec`` (None if absent).

    See the module docstring for the lookup order.

    >>> r = FitRecord(model_key="m", values={"w1_t_c": 1.2}, stderr={"w1_t_c": 0.1}, units={"w1_t_c": "K"},
    ...               derived={"t_c50": 1.1}, derived_units={"t_c50": "K"})
    >>> find_quantity(r, "t_c"), find_quantity(r, "t_c50_K").value, find_quantity(r, "nope")
    (Quantity(value=1.2, error=0.1, unit='K'), 1.1, None)
    """
    hits = [n for n in rec.values if n == name] or [n for n in rec.values if matches_root(n, name)]
    for n in hits:
        return Quantity(float(rec.values[n]), float(rec.stderr.get(n, math.nan)), rec.units.get(n, ""))
    try:
        root = units.parse_column(name)[0]
    except units.UnitError:
        root = name
    for n, v in rec.derived.items():
        unit = rec.derived_units.get(n, "")
        if n in (name, root) or (unit and n == f"{name}_{unit}"):
            return Quantity(float(v), float(rec.derived_stderr.get(n, math.nan)), unit)
    return None


def quantity_in(q: Quantity, target: str) -> Quantity:
    """``q`` converted to unit ``target`` (no conversion when ``q`` has no unit or already that one).

    Raises
    ------
    fitkit.units.UnitError
        If the units are of different quantities.
    """
    if q.unit in ("", target):
        return q
    f = float(units.convert(1.0, q.unit, target))
    return Quantity(q.value * f, q.error * f, target)
