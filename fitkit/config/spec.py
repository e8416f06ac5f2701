"""Declarative checks: an :class:`OptionSpec` table per section drives type, range and choice checks.

One small schema language serves the configuration's own sections (:mod:`fitkit.config.sections`)
and the options that each job kind declares (``JobKind.options``; see ``docs`` and
``/work/briefs/config_api.md``).  :func:`conform` walks a raw YAML value against a spec, records every
problem with its key path in a :class:`Problems` collector, and returns the cleaned value (shorthands
expanded, invalid entries dropped, so later semantic checks see well-typed data and never report the
same problem twice).  :func:`to_json_schema` turns the same spec into JSON Schema (draft 2020-12), so the
validator and the editor schema cannot drift apart.

Messages follow the house style::

    jobs[0].inputs.colour: unknown key (did you mean 'format'?); valid keys are ['files', ...]
    jobs[1].options.min_significance: -1 is not a number >= 0
"""

from __future__ import annotations

import difflib
import math
import re
import reprlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from fitkit.errors import ConfigError

__all__ = [
    "INVALID",
    "OptionSpec",
    "Problems",
    "conform",
    "did_you_mean",
    "is_number",
    "join",
    "short",
    "to_json_schema",
]

INVALID: Final = object()
"""Returned by :func:`conform` for a value that failed its checks (a problem was recorded)."""

_SHORT = reprlib.Repr()
_SHORT.maxstring = 60
_SHORT.maxother = 60
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxdict = 6
_SHORT.maxlevel = 2

_TYPE_NOUN = {
    "number": "a number",
    "integer": "an integer",
    "boolean": "true/false",
    "string": "a string",
    "array": "a list",
    "object": "a mapping",
    "any": "a value",
}
_JSON_TYPE = {
    "any": None,
    "number": "number",
    "integer": "integer",
    "boolean": "boolean",
    "string": "string",
    "array": "array",
    "object": "object",
}


def short(value: Any) -> str:
    """A bounded ``repr`` for messages (a YAML alias bomb or a long list never floods a message)."""
    return _SHORT.repr(value)


def join(path: str, key: object) -> str:
    """``path.key`` (or ``key`` at the top level)."""
    return f"{path}.{key}" if path else str(key)


def is_number(v: Any) -> bool:
    """An int or float (not a bool, not NaN)."""
    return (
        isinstance(v, (int, float))
        and not isinstance(v, bool)
        and not (isinstance(v, float) and math.isnan(v))
    )


def did_you_mean(word: object, options: Iterable[object]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``options``, or ``""``."""
    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


class Problems:
    """Collects ``(key path, message)`` problems; :meth:`raise_if_any` raises them all together."""

    def __init__(self) -> None:
        self.pairs: list[tuple[str, str]] = []

    def add(self, path: str, msg: str) -> None:
        """Record one problem (exact duplicates are kept once)."""
        if (path, msg) not in self.pairs:
            self.pairs.append((path, msg))

    @property
    def items(self) -> list[str]:
        """The problems as ``"path: message"`` lines."""
        return [f"{p}: {m}" if p else m for p, m in self.pairs]

    def __len__(self) -> int:
        return len(self.pairs)

    def raise_if_any(self, where: str) -> None:
        """Raise a :class:`ConfigError` listing every problem (``err.problems`` holds them) if any."""
        items = self.items
        if items:
            n = len(items)
            text = f"{where}: {n} problem{'s' if n > 1 else ''} in the configuration\n" + "\n".join(
                f"  - {p}" for p in items
            )
            err = ConfigError(text)
            err.problems = items  # type: ignore[attr-defined]
            raise err


@dataclass(frozen=True)
class OptionSpec:
    """What one configuration key (or job-kind option) accepts.

    Attributes
    ----------
    name
        Key name (informational; the key in the enclosing table is authoritative).
    type
        ``"number"``, ``"integer"``, ``"boolean"``, ``"string"``, ``"array"``, ``"object"`` or ``"any"``.
    required
        A missing (or null) key is a problem (message: ``missing`` + ``missing_hint``).
    default
        Value used when the key is absent (documentation and JSON Schema; :func:`conform` fills it in
        sections, never in job options, which are hashed as given).
    unit
        Unit token of a number (documentation and JSON Schema only; the value is taken in this unit).
    choices
        Allowed values (strings get a "did you mean").
    minimum, maximum, exclusive_minimum, exclusive_maximum
        Range of a number (exclusive flags make the bound strict).
    pattern
        Regular expression a string must match in full.
    items
        Spec of each element of an array.
    min_items, max_items
        Length limits of an array.
    increasing
        An array of numbers must be strictly increasing (``[lo, hi]`` pairs).
    fields
        Fixed keys of an object (unknown keys are problems, with a "did you mean").
    values
        Spec of every value of an object with free keys (``params``, ``display_units``).
    accepts, coerce
        Shorthand types also accepted, and the function that expands them (``"a.csv"`` -> ``["a.csv"]``).
    check
        Extra check on a well-typed value: returns a message, or None when fine.
    what
        Noun phrase for messages (``"a positive integer"`` gives ``0 is not a positive integer``).
    missing_hint
        Text after ``missing;`` for a required key.
    key_noun
        Word for the keys of ``fields`` in messages (``"key"``, ``"option"``).
    doc
        One line for documentation and JSON Schema ``description``.
    json_schema
        JSON Schema keywords added to (or replacing) the generated ones, for what ``check`` tests.
    """

    name: str = ""
    type: str = "any"
    required: bool = False
    default: Any = None
    unit: str | None = None
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    pattern: str | None = None
    items: OptionSpec | None = None
    min_items: int | None = None
    max_items: int | None = None
    increasing: bool = False
    fields: Mapping[str, OptionSpec] | None = None
    values: OptionSpec | None = None
    accepts: tuple[str, ...] = ()
    coerce: Callable[[Any], Any] | None = None
    check: Callable[[Any], str | None] | None = None
    what: str = ""
    missing_hint: str = ""
    key_noun: str = "key"
    doc: str = ""
    json_schema: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.type not in _TYPE_NOUN:
            raise ValueError(
                f"OptionSpec {self.name!r}: unknown type {self.type!r}; use one of {list(_TYPE_NOUN)}"
            )


def _type_ok(v: Any, t: str) -> bool:
    if t == "any":
        return True
    if t == "number":
        return is_number(v)
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "boolean":
        return isinstance(v, bool)
    if t == "string":
        return isinstance(v, str)
    if t == "array":
        return isinstance(v, (list, tuple))
    return isinstance(v, Mapping)


def _range_text(spec: OptionSpec) -> str:
    lo = None if spec.minimum is None else f"{'>' if spec.exclusive_minimum else '>='} {spec.minimum:g}"
    hi = None if spec.maximum is None else f"{'<' if spec.exclusive_maximum else '<='} {spec.maximum:g}"
    return " and ".join(x for x in (lo, hi) if x)


def _in_range(v: float, spec: OptionSpec) -> bool:
    if spec.minimum is not None and (v <= spec.minimum if spec.exclusive_minimum else v < spec.minimum):
        return False
    return not (
        spec.maximum is not None and (v >= spec.maximum if spec.exclusive_maximum else v > spec.maximum)
    )


def _type_problem(v: Any, spec: OptionSpec) -> str:
    noun = spec.what or _TYPE_NOUN[spec.type]
    if spec.type in ("array", "object"):
        return f"expected {noun}; got {short(v)}"
    return f"{short(v)} is not {noun}"


def conform(value: Any, spec: OptionSpec, path: str, problems: Problems) -> Any:
    """Check ``value`` against ``spec``; record problems under ``path``; return the cleaned value.

    Returns :data:`INVALID` when the value itself is unusable.  Inside arrays and objects, invalid
    elements are dropped (and reported), so the caller gets the usable rest.
    """
    if spec.coerce is not None and any(_type_ok(value, t) for t in spec.accepts):
        value = spec.coerce(value)
    if not _type_ok(value, spec.type):
        problems.add(path, _type_problem(value, spec))
        return INVALID
    if spec.choices is not None and value not in spec.choices:
        hint = did_you_mean(value, spec.choices) if isinstance(value, str) else ""
        problems.add(path, f"{short(value)} is not one of {list(spec.choices)}{hint}")
        return INVALID
    if spec.type in ("number", "integer") and not _in_range(value, spec):
        problems.add(path, f"{short(value)} is not {spec.what or 'a number ' + _range_text(spec)}")
        return INVALID
    if spec.pattern is not None and not re.fullmatch(spec.pattern, value):
        problems.add(path, _type_problem(value, spec))
        return INVALID
    if spec.type == "array":
        value = _conform_array(value, spec, path, problems)
    elif spec.type == "object" and (spec.fields is not None or spec.values is not None):
        value = _conform_object(value, spec, path, problems)
    if value is INVALID:
        return INVALID
    if spec.check is not None:
        msg = spec.check(value)
        if msg:
            problems.add(path, msg)
            return INVALID
    return value


def _conform_array(value: Any, spec: OptionSpec, path: str, problems: Problems) -> Any:
    n = len(value)
    if (spec.min_items is not None and n < spec.min_items) or (
        spec.max_items is not None and n > spec.max_items
    ):
        if spec.what:
            problems.add(path, _type_problem(value, spec))
        else:
            lo, hi = spec.min_items, spec.max_items
            count = f"{lo}" if lo == hi else f"{lo or 0} to {hi}" if hi is not None else f"at least {lo}"
            problems.add(path, f"expected a list of {count} items; got {short(value)}")
        return INVALID
    out = list(value)
    if spec.items is not None:
        out = []
        bad = False
        for i, item in enumerate(value):
            v = conform(item, spec.items, f"{path}[{i}]", problems)
            if v is INVALID:
                bad = True
            else:
                out.append(v)
        if bad and spec.increasing:
            return INVALID
    if spec.increasing and any(not b > a for a, b in zip(out, out[1:], strict=False)):
        problems.add(path, f"{short(value)}: expected increasing values (lo < hi)")
        return INVALID
    return out


def _conform_object(value: Mapping[str, Any], spec: OptionSpec, path: str, problems: Problems) -> Any:
    out: dict[str, Any] = {}
    if spec.fields is not None:
        names = list(spec.fields)
        noun = spec.key_noun
        for k in value:
            if k not in spec.fields and spec.values is None:
                problems.add(
                    join(path, k), f"unknown {noun}{did_you_mean(k, names)}; valid {noun}s are {names}"
                )
        for k, sub in spec.fields.items():
            v = value.get(k)
            if v is None:
                if sub.required:
                    problems.add(
                        join(path, k), f"missing; {sub.missing_hint}" if sub.missing_hint else "missing"
                    )
                continue
            v = conform(v, sub, join(path, k), problems)
            if v is not INVALID:
                out[k] = v
    if spec.values is not None:
        for k, v in value.items():
            if spec.fields is not None and k in spec.fields:
                continue
            c = conform(v, spec.values, join(path, k), problems)
            if c is not INVALID:
                out[str(k)] = c
    return out


def defaults(fields: Mapping[str, OptionSpec], given: Mapping[str, Any]) -> dict[str, Any]:
    """``given`` completed with the declared defaults of the fields it lacks."""
    out = {k: s.default for k, s in fields.items() if s.default is not None}
    out.update(given)
    return out


# ---------------------------------------------------------------------------------------- JSON Schema
def to_json_schema(spec: OptionSpec, *, nullable: bool = False) -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of ``spec``, with its shorthand forms as ``anyOf`` alternatives.

    ``check`` functions have no JSON equivalent and are left out (the schema is for editors; the
    validator stays the authority).
    """
    out: dict[str, Any] = {}
    jt = _JSON_TYPE[spec.type]
    if jt is not None:
        out["type"] = jt
    if spec.doc:
        out["description"] = spec.doc + (f" [{spec.unit}]" if spec.unit else "")
    if spec.default is not None:
        out["default"] = list(spec.default) if isinstance(spec.default, tuple) else spec.default
    if spec.choices is not None:
        out["enum"] = list(spec.choices)
    if spec.minimum is not None:
        out["exclusiveMinimum" if spec.exclusive_minimum else "minimum"] = spec.minimum
    if spec.maximum is not None:
        out["exclusiveMaximum" if spec.exclusive_maximum else "maximum"] = spec.maximum
    if spec.pattern is not None:
        out["pattern"] = f"^(?:{spec.pattern})$"
    if spec.items is not None:
        out["items"] = to_json_schema(spec.items)
    if spec.min_items is not None:
        out["minItems"] = spec.min_items
    if spec.max_items is not None:
        out["maxItems"] = spec.max_items
    if spec.fields is not None:
        out["properties"] = {k: to_json_schema(s, nullable=not s.required) for k, s in spec.fields.items()}
        req = [k for k, s in spec.fields.items() if s.required]
        if req:
            out["required"] = req
        if spec.values is None:
            out["additionalProperties"] = False
    if spec.values is not None:
        out["additionalProperties"] = to_json_schema(spec.values)
    if spec.json_schema is not None:
        out = {**out, **spec.json_schema}
    alternatives = [{"type": _JSON_TYPE[t]} for t in spec.accepts if _JSON_TYPE[t]]
    if alternatives:
        desc = out.pop("description", None)
        out = {"anyOf": [*alternatives, out]}
        if desc:
            out["description"] = desc
    if nullable:  # YAML's empty value means "not given"
        if "anyOf" in out:
            out["anyOf"] = [{"type": "null"}, *out["anyOf"]]
        elif "type" in out:
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
    return out
