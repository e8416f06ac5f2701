"""Job-option values the declarative option tables (:class:`fitkit.config.OptionSpec`) cannot check alone.

* :func:`check_source`: a per-file value source (``auto`` | ``{column|regex|header: ..., unit: ...}``),
  with problems on sub-paths (``options.g_contact.regex``) for :meth:`JobKind.validate`;
* :func:`length_option`: a length given as ``{value, unit}`` or ``"2 um"``, in nm.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from fitkit import units as _units

__all__ = ["SOURCE_KEYS", "check_source", "is_number", "length_option"]

SOURCE_KEYS = ("column", "regex", "header", "unit")


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))


def check_source(spec: Any, option: str, quantity: str) -> list[tuple[str, str]]:
    """Problems of a value-source option (``auto`` | ``{column|regex|header: ..., unit: ...}``)."""
    path = f"options.{option}"
    if spec == "auto":
        return []
    if not isinstance(spec, Mapping):
        return [
            (path, f"{spec!r}: expected 'auto', {{column: NAME}}, {{regex: RX, unit: U}} or {{header: KEY}}")
        ]
    out = [
        (f"{path}.{k}", f"unknown key; valid keys are {list(SOURCE_KEYS)}")
        for k in spec
        if k not in SOURCE_KEYS
    ]
    which = [k for k in ("column", "regex", "header") if k in spec]
    if len(which) != 1:
        out.append((path, f"give exactly one of 'column', 'regex', 'header'; got {which}"))
        return out
    unit = spec.get("unit")
    if unit is not None:
        try:
            u = _units.UNITS[_units.canonical_unit(str(unit))]
            if u.quantity != quantity:
                out.append((f"{path}.unit", f"'{unit}' is not a {quantity} unit"))
        except (_units.UnitError, KeyError):
            out.append((f"{path}.unit", f"unknown unit '{unit}'; expected a {quantity} unit"))
    key = which[0]
    text = spec[key]
    if not isinstance(text, str) or not text:
        out.append((f"{path}.{key}", f"{text!r} is not a string"))
        return out
    if key == "regex":
        try:
            if re.compile(text).groups < 1:
                out.append((f"{path}.regex", "needs one capturing group, e.g. 'gc_([0-9.]+)G0'"))
        except re.error as err:
            out.append((f"{path}.regex", f"invalid regular expression: {err}"))
        if unit is None:
            out.append((f"{path}.unit", f"missing; the number matched by the regex needs a {quantity} unit"))
    elif unit is None:
        try:
            col_unit = _units.parse_column(text)[1]
            if _units.UNITS[str(col_unit)].quantity != quantity:
                out.append((f"{path}.{key}", f"'{text}' does not end in a {quantity} unit; add 'unit:'"))
        except _units.UnitError:
            out.append((f"{path}.{key}", f"'{text}' has no {quantity} unit suffix; add 'unit:'"))
    return out


def length_option(spec: Any) -> float:
    """A length option in nm: ``{value: 145, unit: nm}`` or ``"2 um"``.

    Raises
    ------
    ValueError
        If the value is not a number with a length unit.
    """
    if isinstance(spec, Mapping):
        value, unit = spec.get("value"), spec.get("unit")
    elif isinstance(spec, str) and len(spec.split()) == 2:
        value, unit = spec.split()
    else:
        raise ValueError(f"{spec!r}: expected {{value: NUMBER, unit: nm|um|m}} or 'NUMBER UNIT'")
    try:
        v = float(str(value))
        u = _units.UNITS[_units.canonical_unit(str(unit))]
    except (TypeError, ValueError, _units.UnitError) as err:
        raise ValueError(f"{spec!r}: expected a number and a length unit ({err})") from err
    if u.quantity != "length" or not v > 0:
        raise ValueError(f"{spec!r}: expected a positive length (nm, um, m)")
    return float(_units.convert(v, u.token, "nm"))
