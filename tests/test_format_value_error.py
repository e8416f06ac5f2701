"""Concise value(error) notation never misquotes the fitted central value (issue 9, item 7)."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fitkit.report.writer import format_value_error

_CONCISE = re.compile(r"^(-?\d+(?:\.\d+)?)\((\d+)\)(?:e(-?\d+))?$")
_PLUSMINUS = re.compile(r"^(-?\d+(?:\.\d+)?)(?:e(-?\d+))? ± (\d+(?:\.\d+)?)(?:e(-?\d+))?$")


def _last_digit(number: str) -> float:
    """Unit of the last significant printed digit of a plain decimal string.

    ``"0.30"`` -> 0.01, ``"12"`` -> 1, ``"320"`` -> 10 (trailing zeros of an integer are not significant).
    """
    if "." in number:
        return 10.0 ** -len(number.split(".")[1])
    digits = number.lstrip("-")
    return 10.0 ** (len(digits) - len(digits.rstrip("0"))) if digits.strip("0") else 1.0


def _parse(text: str) -> tuple[float, float, float, float]:
    """(central value, its last-digit unit, error, its last-digit unit) of either notation."""
    m = _CONCISE.match(text)
    if m:
        scale = 10.0 ** int(m.group(3) or 0)
        if "." in m.group(1):  # the parenthesised digits count units of the last decimal
            step = _last_digit(m.group(1))
            err = int(m.group(2)) * step
        else:  # integer notation: the error is written in full, value and error end at one place
            err = float(m.group(2))
            step = _last_digit(m.group(2))
        return float(m.group(1)) * scale, step * scale, err * scale, step * scale
    m = _PLUSMINUS.match(text)
    assert m, f"unparsable notation {text!r}"
    vs, es = 10.0 ** int(m.group(2) or 0), 10.0 ** int(m.group(4) or 0)
    return (float(m.group(1)) * vs, _last_digit(m.group(1)) * vs,
            float(m.group(3)) * es, _last_digit(m.group(3)) * es)


@pytest.mark.parametrize(("value", "err", "expected"), [
    (1.408, 12000.0, "1.4 ± 12000"),       # the g_xi: was "0(12000)"
    (-0.00004, 0.3, "-4.0e-5 ± 0.30"),     # was "0.00(30)"
    (0.6, 12.0, "0.60 ± 12"),              # was "1(12)": a digit that is not the value's own
    (3.0, 2.0e5, "3.0 ± 2.0e5"),           # was "0(2)e5"
    (5.3, 12.0, "5(12)"),                  # value keeps its leading digit: concise form stays
    (-0.0, 0.3, "0.00(30)"),               # no negative zero
    (0.0, 12.0, "0(12)"),                  # an exact zero is printed as zero
])
def test_error_dwarfing_the_value(value, err, expected):
    assert format_value_error(value, err) == expected


_MAGNITUDE = st.floats(min_value=-12.0, max_value=12.0)


@settings(max_examples=500, deadline=None)
@given(lv=_MAGNITUDE, le=_MAGNITUDE, negative=st.booleans())
def test_printed_value_rounds_to_the_fitted_value(lv, le, negative):
    """For any value/error pair: the printed central value is the fitted value rounded at the
    printed precision, it is 0 only for a zero value, and the printed error is the error
    rounded to one or two significant digits (PDG: at most 15 % off)."""
    v = (-1.0 if negative else 1.0) * 10.0**lv
    e = 10.0**le
    text = format_value_error(v, e)
    pv, pstep, pe, _estep = _parse(text)
    assert abs(pv - v) <= 0.5 * pstep * (1 + 1e-9) + 1e-12 * abs(v), text
    assert pv != 0, f"{text!r} prints a zero for {v!r}"
    assert math.copysign(1.0, pv) == math.copysign(1.0, v), text
    assert abs(pe / e - 1) <= 0.15, text
