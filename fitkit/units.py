"""Unit vocabulary, column-name conventions and scale factors.

Frames hold SI quantities in columns named ``<quantity>_<unit>`` (``bias_V``,
``temperature_K``, ``resistance_ohm``); the unit is the text after the **last** underscore.
Physics functions use meV, K, nm; the conversion between the two lives here and in the
model adapters only.  Constants of nature live in :mod:`fitkit.constants`; this module holds
bookkeeping factors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fitkit.constants import G0_S
from fitkit.errors import FitkitError

__all__ = [
    "DIMENSIONLESS",
    "MEV_PER_VOLT",
    "UNITS",
    "UnitError",
    "Unit",
    "canonical_unit",
    "convert",
    "format_column",
    "label",
    "parse_column",
    "parse_unit_text",
    "to_si_factor",
]

MEV_PER_VOLT: float = 1e3
"""Energy in meV of an electron at 1 V (e*V / meV)."""

DIMENSIONLESS = "1"


class UnitError(FitkitError, ValueError):
    """A unit string is unknown or belongs to the wrong quantity."""


@dataclass(frozen=True)
class Unit:
    """One unit of the closed vocabulary.

    Attributes
    ----------
    token
        ASCII token used in column names and configs (``"mV"``).
    quantity
        Physical quantity (``"voltage"``).
    si_factor
        Multiply a value in this unit by ``si_factor`` to get the SI base unit (1e-3 for mV).
    display
        Label used in plots (``"mV"``, ``"µV"``).
    """

    token: str
    quantity: str
    si_factor: float
    display: str


_UNIT_LIST: tuple[Unit, ...] = (
    Unit("V", "voltage", 1.0, "V"),
    Unit("mV", "voltage", 1e-3, "mV"),
    Unit("uV", "voltage", 1e-6, "µV"),
    Unit("A", "current", 1.0, "A"),
    Unit("mA", "current", 1e-3, "mA"),
    Unit("uA", "current", 1e-6, "µA"),
    Unit("nA", "current", 1e-9, "nA"),
    Unit("pA", "current", 1e-12, "pA"),
    Unit("S", "conductance", 1.0, "S"),
    Unit("mS", "conductance", 1e-3, "mS"),
    Unit("uS", "conductance", 1e-6, "µS"),
    Unit("nS", "conductance", 1e-9, "nS"),
    Unit("G0", "conductance", G0_S, "2e²/h"),  # conductance quantum (contact conductances)
    Unit("ohm", "resistance", 1.0, "Ω"),
    Unit("kohm", "resistance", 1e3, "kΩ"),
    Unit("Mohm", "resistance", 1e6, "MΩ"),
    Unit("mohm", "resistance", 1e-3, "mΩ"),
    Unit("K", "temperature", 1.0, "K"),
    Unit("mK", "temperature", 1e-3, "mK"),
    Unit("T", "field", 1.0, "T"),
    Unit("mT", "field", 1e-3, "mT"),
    Unit("s", "time", 1.0, "s"),
    Unit("Hz", "frequency", 1.0, "Hz"),
    Unit("eV", "energy", 1.0, "eV"),
    Unit("meV", "energy", 1e-3, "meV"),
    Unit("ueV", "energy", 1e-6, "µeV"),
    Unit("m", "length", 1.0, "m"),
    Unit("um", "length", 1e-6, "µm"),
    Unit("nm", "length", 1e-9, "nm"),
    Unit("F_per_m", "capacitance_per_length", 1.0, "F/m"),
    Unit("pF_per_m", "capacitance_per_length", 1e-12, "pF/m"),
    Unit("ohm_per_sq", "sheet_resistance", 1.0, "Ω/□"),
    Unit("per_V", "inverse_voltage", 1.0, "1/V"),
    Unit("per_mV", "inverse_voltage", 1e3, "1/mV"),
    Unit("norm", "dimensionless", 1.0, "G/G_N"),
    Unit("arb", "arbitrary", 1.0, "arb. u."),
    Unit("deg", "angle", 1.0, "°"),
    Unit(DIMENSIONLESS, "dimensionless", 1.0, ""),
)

UNITS: dict[str, Unit] = {u.token: u for u in _UNIT_LIST}
"""The closed unit vocabulary, keyed by token."""

# Spellings found in instrument headers -> token.  Case matters for m/M (milli/mega).
_ALIASES: dict[str, str] = {
    "volt": "V", "volts": "V", "v": "V",
    "µv": "uV", "μv": "uV",
    "amp": "A", "amps": "A", "a": "A", "µa": "uA", "μa": "uA",
    "siemens": "S", "µs": "uS", "μs": "uS",
    "ω": "ohm", "Ω": "ohm", "ohms": "ohm", "kω": "kohm", "kΩ": "kohm", "mω": "mohm", "MΩ": "Mohm",
    "kelvin": "K", "k": "K",
    "tesla": "T",
    "sec": "s", "seconds": "s",
    "µev": "ueV", "μev": "ueV",
    "µm": "um", "μm": "um",
    "degrees": "deg", "°": "deg",
    "a.u.": "arb", "au": "arb", "arb.": "arb", "arb. u.": "arb",
}


def canonical_unit(text: str) -> str:
    """Return the vocabulary token for a unit as written in a header or config.

    Parameters
    ----------
    text
        Unit text such as ``"mV"``, ``"kOhm"``, ``"Ω"``, ``"K"``.

    Returns
    -------
    str
        The vocabulary token (``"kohm"`` for ``"kOhm"``).

    Raises
    ------
    UnitError
        If the text is not a known unit.
    """
    t = text.strip()
    if t in UNITS:
        return t
    if t in _ALIASES:
        return _ALIASES[t]
    low = t.lower()
    # resistance spellings are case-insensitive except for the m/M prefix
    m = re.fullmatch(r"([kKmM]?)(ohm|ohms|Ω|ω)", t, flags=re.IGNORECASE)
    if m:
        prefix = {"": "", "k": "k", "K": "k", "m": "m", "M": "M"}[m.group(1)]
        return {"": "ohm", "k": "kohm", "m": "mohm", "M": "Mohm"}[prefix]
    if low in _ALIASES:
        return _ALIASES[low]
    raise UnitError(f"unknown unit '{text}'; known units are {sorted(UNITS)}")


def to_si_factor(unit: str, quantity: str | None = None) -> float:
    """Return the factor that converts a value in ``unit`` to SI.

    Parameters
    ----------
    unit
        Unit token or alias.
    quantity
        If given, the unit must measure this quantity (``"voltage"``).

    Returns
    -------
    float
        SI factor (1e-3 for ``"mV"``).

    Raises
    ------
    UnitError
        If the unit is unknown or measures another quantity.
    """
    u = UNITS[canonical_unit(unit)]
    if quantity is not None and u.quantity != quantity:
        valid = sorted(x.token for x in _UNIT_LIST if x.quantity == quantity)
        raise UnitError(f"unit '{unit}' is a {u.quantity} unit; expected a {quantity} unit, one of {valid}")
    return u.si_factor


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """Convert ``value`` between two units of the same quantity.

    Raises
    ------
    UnitError
        If the units are unknown or measure different quantities.
    """
    fu, tu = UNITS[canonical_unit(from_unit)], UNITS[canonical_unit(to_unit)]
    if fu.quantity != tu.quantity:
        raise UnitError(f"cannot convert '{from_unit}' ({fu.quantity}) to '{to_unit}' ({tu.quantity})")
    return value * fu.si_factor / tu.si_factor


def parse_column(name: str) -> tuple[str, str]:
    """Split a canonical column name into (quantity, unit): ``"bias_V"`` -> ``("bias", "V")``.

    Raises
    ------
    UnitError
        If the name has no unit suffix from the vocabulary.
    """
    for token in sorted(UNITS, key=len, reverse=True):
        if token != DIMENSIONLESS and name.endswith("_" + token):
            return name[: -len(token) - 1], token
    raise UnitError(f"column '{name}' has no unit suffix from the vocabulary {sorted(UNITS)}")


def format_column(quantity: str, unit: str) -> str:
    """Build a canonical column name: ``("bias", "V")`` -> ``"bias_V"``."""
    return f"{quantity}_{canonical_unit(unit)}" if unit != DIMENSIONLESS else quantity


_HEADER_UNIT = re.compile(r"^\s*(?P<name>.*?)\s*[\(\[](?P<unit>[^\)\]]*)[\)\]]\s*$")


def parse_unit_text(header: str) -> tuple[str, str | None]:
    """Split a header such as ``"T (mK)"`` or ``"Bias [V]"`` into name and unit text.

    Returns
    -------
    tuple
        ``(name, unit)`` with ``unit`` None when the header carries no unit in brackets.
    """
    m = _HEADER_UNIT.match(header)
    if not m:
        return header.strip(), None
    return m.group("name"), m.group("unit").strip()


def label(quantity: str, unit: str) -> str:
    """Return a plot label such as ``"bias (mV)"`` using the display form of the unit."""
    u = UNITS.get(unit)
    disp = u.display if u else unit
    return f"{quantity} ({disp})" if disp else quantity
