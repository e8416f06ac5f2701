"""Unit checks shared by the validator and the sample table (messages name the expected unit tokens)."""

from __future__ import annotations

from typing import Any

from fitkit import units as _units
from fitkit.config.spec import Problems, short

__all__ = ["article", "quantity_mismatch", "quantity_tokens", "unit_of"]


def article(word: str) -> str:
    """``"an"`` before a vowel, else ``"a"``."""
    return "an" if word[:1] in "aeiou" else "a"


def quantity_tokens(quantity: str) -> list[str]:
    """Unit tokens of one physical quantity, sorted (``["K", "mK"]`` for temperature)."""
    return sorted(u.token for u in _units.UNITS.values() if u.quantity == quantity)


def quantity_mismatch(given: str, quantity: str, extra: str = "") -> str:
    """``"'mV' is not a temperature unit; expected one of ['K', 'mK']"`` (+ ``extra``)."""
    return (
        f"'{given}' is not {article(quantity)} {quantity} unit; expected one of "
        f"{quantity_tokens(quantity)}{extra}"
    )


def unit_of(text: Any, path: str, problems: Problems) -> _units.Unit | None:
    """The :class:`fitkit.units.Unit` named by ``text``, or None (a problem is recorded)."""
    if not isinstance(text, str):
        problems.add(path, f"{short(text)} is not a unit name; expected a unit token such as 'meV'")
        return None
    try:
        return _units.UNITS[_units.canonical_unit(text)]
    except _units.UnitError:
        problems.add(path, f"unknown unit '{text}'; known units are {sorted(_units.UNITS)}")
        return None
