r"""Per-file numbers of series jobs: where a contact conductance or a temperature comes from.

A value source (job option such as ``g_contact`` or ``temperature``) is ``auto`` (the sample-table
column ``<name>_<unit>``, then the file's ``# <name>_<unit> = ...`` header line or loader metadata),
``{column: NAME}``, ``{regex: RX, unit: U}`` (first group of the file name) or ``{header: KEY}``
(:func:`resolve_value`).  The lock-in modulation comes from the option or the files' metadata
(:func:`v_mod_mV`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fitkit import units as _units
from fitkit.config import JobConfig, Sample
from fitkit.io.sweep import Sweep

__all__ = ["convert_to", "header_value", "resolve_value", "sample_value", "v_mod_mV"]


def convert_to(value: float, unit: str, target: str) -> float:
    if _units.canonical_unit(unit) == target:  # no round trip through SI (0.03 G0 must stay 0.03)
        return float(value)
    return float(_units.convert(float(value), unit, target))


def _first_value(
    items: Any, name: str, target: str, key: str | None, unit: str | None
) -> tuple[float, str] | None:
    """The first ``(key, value)`` item that converts to ``target``: the named ``key``, or any key
    ``<name>_<unit>``; ``unit`` overrides the key's unit suffix.  Returns ``(value, key)``."""
    for k, v in items:
        if key is not None and k != key:
            continue
        u = unit
        if u is None:
            try:
                q, u = _units.parse_column(str(k))
            except _units.UnitError:
                continue
            if key is None and q != name:
                continue
        try:
            return convert_to(float(v), u, target), str(k)
        except (TypeError, ValueError, _units.UnitError):
            continue
    return None


def sample_value(
    sample: Sample | None, quantity: str, target: str, column: str | None, unit: str | None
) -> tuple[float, str] | None:
    """A number of the sample table in ``target`` unit: the named column, or any ``<quantity>_<unit>``."""
    if sample is None:
        return None
    got = _first_value({**dict(sample.values), **dict(sample.text)}.items(), quantity, target, column, unit)
    return None if got is None else (got[0], f"sample table '{sample.id}'.{got[1]}")


def header_value(
    sweep: Sweep, quantity: str, target: str, key: str | None = None, unit: str | None = None
) -> tuple[float, str] | None:
    """A number stored with a sweep (``# key = value`` header line or loader metadata), in ``target``.

    Parameters
    ----------
    sweep
        The sweep.
    quantity
        Physical quantity of the unit (``"conductance"``, ``"temperature"``) when ``key`` is None:
        any key ``<name>_<unit>`` whose name is ``name`` ... is accepted (see Notes).
    target
        Unit token of the result (``"G0"``, ``"K"``).
    key
        Exact header key (``"g_contact_G0"``); None: the first key ``<q>_<unit>`` with ``<q>``
        equal to the conventional name (``g_contact`` / ``temperature``).
    unit
        Unit of the header value when the key has no unit suffix.

    Returns
    -------
    tuple or None
        ``(value in target, description of the source)``, None when absent.

    Notes
    -----
    Without ``key``, a conductance is looked up as ``g_contact_<unit>`` and a temperature as
    ``temperature_<unit>``.
    """
    name = {"conductance": "g_contact", "temperature": "temperature"}.get(quantity, quantity)
    for label, source in (("header", sweep.meta.raw_header), ("metadata", sweep.meta.extra)):
        got = _first_value(source.items(), name, target, key, unit)
        if got is not None:
            return got[0], f"{label} '{got[1]}'"
    return None


def resolve_value(
    spec: Any,
    quantity: str,
    target: str,
    path: Path,
    sample: Sample | None,
    sweep: Sweep | None = None,
    sample_id: str | None = None,
) -> tuple[float | None, str]:
    """Per-file number from the sample table, the file name or the header, in ``target`` unit.

    Parameters
    ----------
    spec
        ``"auto"`` (sample table column ``<name>_<unit>``, then the header), ``{column: NAME}``,
        ``{regex: RX, unit: U}`` (first group of the file name) or ``{header: KEY}``
        (``unit:`` optional when the name ends in a unit token).
    quantity
        ``"conductance"`` or ``"temperature"``.
    target
        Unit token of the result.
    path
        The input file.
    sample
        Its sample-table row (or None).
    sweep
        The loaded sweep (None: header sources are not resolved yet; the source is ``"header"``).
    sample_id
        Sample id for messages when ``sample`` is None.

    Returns
    -------
    tuple
        ``(value or None, source or the reason it is missing)``.
    """
    name = {"conductance": "g_contact", "temperature": "temperature"}.get(quantity, quantity)
    sid = sample.id if sample is not None else sample_id
    if spec == "auto":
        got = sample_value(sample, name, target, None, None)
        if got is not None:
            return got
        if sweep is None:
            return None, "header"
        got = header_value(sweep, quantity, target)
        if got is not None:
            return got
        return None, (
            f"the sample table has no '{name}_<unit>' value for sample '{sid}' and the file has no "
            f"'# {name}_<unit> = ...' header line (e.g. '# {name}_{target} = ...'); add one, or "
            f"set options.{'g_contact' if quantity == 'conductance' else quantity}"
        )
    unit = spec.get("unit")
    if "column" in spec:
        got = sample_value(sample, name, target, spec["column"], unit)
        if got is not None:
            return got
        if sample is not None:
            return None, f"sample '{sid}' has no value in column '{spec['column']}' of the sample table"
        return None, (
            f"the sample table has no row with id '{sid}' (the file's sample id, from "
            f"inputs.sample_id_regex or the file stem); add one with a '{spec['column']}' value"
        )
    if "regex" in spec:
        m = re.search(spec["regex"], path.name)
        if m is None:
            return None, f"file name '{path.name}' does not match the regex '{spec['regex']}'"
        try:
            return convert_to(float(m.group(1)), unit, target), f"file name ({m.group(0)})"
        except (TypeError, ValueError, _units.UnitError) as err:
            return None, f"'{m.group(1)}' matched in '{path.name}' is not a number in {unit}: {err}"
    if sweep is None:
        return None, "header"
    got = header_value(sweep, quantity, target, key=spec["header"], unit=unit)
    if got is not None:
        return got
    return None, f"the file has no header line '# {spec['header']} = <number>'"


def v_mod_mV(job: JobConfig, sweeps: Sequence[Sweep]) -> tuple[float, list[str]]:
    """Lock-in modulation [mV rms]: the option, else the files' metadata (``v_mod_rms_*``), else 0."""
    opt = job.options.get("v_mod_rms_mV", "auto")
    if opt != "auto":
        return float(opt), []
    found = []
    for sw in sweeps:
        for src in (sw.meta.extra, sw.meta.raw_header):
            got = None
            for k, v in src.items():
                try:
                    q, u = _units.parse_column(str(k))
                    if q == "v_mod_rms":
                        got = convert_to(float(v), u, "mV")
                        break
                except (_units.UnitError, TypeError, ValueError):
                    continue
            if got is not None:
                found.append(got)
                break
    if not found:
        return 0.0, [
            "no lock-in modulation in the files' metadata: v_mod fixed at 0 (set options.v_mod_rms_mV)"
        ]
    warn = []
    if max(found) - min(found) > 1e-3 * max(abs(max(found)), 1e-12):
        warn.append(f"v_mod_rms differs between files ({min(found)}..{max(found)} mV); the median is used")
    return float(np.median(found)), warn
