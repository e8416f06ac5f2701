"""The :class:`Sweep` container: one measured curve as an SI frame plus frozen metadata."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from fitkit.errors import DataValidationError, MissingColumnError

__all__ = ["Sweep", "SweepMeta", "validate_didv", "validate_rt"]


def _freeze(d: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(d or {}))


@dataclass(frozen=True)
class SweepMeta:
    """Provenance and instrument metadata of a sweep.

    Attributes
    ----------
    source_path
        Path of the file the data came from ("" for synthetic data).
    loader
        Registry key of the loader that read it.
    sample_id
        Sample name (from the file, the caller, or the file stem).
    raw_header
        Header items as found in the file (key -> text).
    units_conversion
        Raw column name -> ``{"column": canonical name, "factor": SI factor}``.
    extra
        Parsed metadata useful downstream (``lockin_amplitude_V``, ``temperature_K`` ...) and
        the record of preprocessing steps (``steps``: a list of dicts).
    """

    source_path: str = ""
    loader: str = ""
    sample_id: str = ""
    raw_header: Mapping[str, Any] = field(default_factory=dict)
    units_conversion: Mapping[str, Any] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("raw_header", "units_conversion", "extra"):
            object.__setattr__(self, name, _freeze(getattr(self, name)))

    def replace(self, **changes: Any) -> SweepMeta:
        """Return a copy with some fields replaced (``extra`` merged, not overwritten, when a dict)."""
        if "extra" in changes and changes.get("merge_extra", True):
            merged = dict(self.extra)
            merged.update(changes["extra"])
            changes["extra"] = merged
        changes.pop("merge_extra", None)
        return dataclasses.replace(self, **changes)

    def with_step(self, step: Mapping[str, Any]) -> SweepMeta:
        """Return a copy whose ``extra['steps']`` list has ``step`` appended."""
        steps = [*self.extra.get("steps", ()), dict(step)]
        return self.replace(extra={"steps": tuple(steps)})

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict copy (JSON-friendly where the contents are)."""
        return {
            "source_path": self.source_path,
            "loader": self.loader,
            "sample_id": self.sample_id,
            "raw_header": dict(self.raw_header),
            "units_conversion": dict(self.units_conversion),
            "extra": dict(self.extra),
        }


@dataclass(frozen=True)
class Sweep:
    """One curve: an SI :class:`pandas.DataFrame` and its :class:`SweepMeta`.

    The metadata are mirrored into ``data.attrs`` for users who only keep the frame, but the
    pipeline always reads :attr:`meta` (``attrs`` does not survive every pandas operation).
    """

    data: pd.DataFrame
    meta: SweepMeta = field(default_factory=SweepMeta)

    def __post_init__(self) -> None:
        self.data.attrs.update(self.meta.to_dict())

    @property
    def columns(self) -> list[str]:
        """Column names of the frame."""
        return list(self.data.columns)

    def column(self, name: str) -> np.ndarray:
        """Return one column as a float array.

        Raises
        ------
        MissingColumnError
            If the column does not exist; the message lists the columns that do.
        """
        if name not in self.data.columns:
            raise MissingColumnError(
                f"{self.meta.source_path or 'sweep'}: column '{name}' not found; "
                f"available: {list(self.data.columns)}"
            )
        return self.data[name].to_numpy(dtype=float)

    def with_data(self, data: pd.DataFrame, step: Mapping[str, Any] | None = None) -> Sweep:
        """Return a new sweep with new data, optionally recording a processing step."""
        meta = self.meta.with_step(step) if step is not None else self.meta
        return Sweep(data, meta)

    def __repr__(self) -> str:
        src = self.meta.source_path or "<memory>"
        return f"Sweep({len(self.data)} rows, columns={list(self.data.columns)}, source={src!r})"


def _check_x(data: pd.DataFrame, x: str, where: str, *, require_monotonic: bool) -> None:
    values = data[x].to_numpy(dtype=float)
    if not np.all(np.isfinite(values)):
        bad = int(np.flatnonzero(~np.isfinite(values))[0])
        raise DataValidationError(f"{where}: column '{x}' has a non-finite value at row {bad}")
    if require_monotonic and values.size > 1:
        d = np.diff(values)
        if not (np.all(d > 0) or np.all(d < 0)):
            raise DataValidationError(f"{where}: column '{x}' is not strictly monotonic")


def _validate(sweep: Sweep, required: tuple[str, ...], x: str, min_rows: int,
              require_monotonic: bool) -> Sweep:
    where = sweep.meta.source_path or "sweep"
    missing = [c for c in required if c not in sweep.data.columns]
    if missing:
        raise MissingColumnError(
            f"{where}: missing column(s) {missing}; available: {list(sweep.data.columns)}"
        )
    if len(sweep.data) < min_rows:
        raise DataValidationError(f"{where}: {len(sweep.data)} data rows; at least {min_rows} are needed")
    _check_x(sweep.data, x, where, require_monotonic=require_monotonic)
    return sweep


def validate_rt(sweep: Sweep, *, min_rows: int = 3) -> Sweep:
    """Check that a sweep is a usable R(T) curve (columns, finite, sorted temperatures).

    Raises
    ------
    MissingColumnError, DataValidationError
    """
    return _validate(sweep, ("temperature_K", "resistance_ohm"), "temperature_K", min_rows, True)


def validate_didv(sweep: Sweep, *, min_rows: int = 5) -> Sweep:
    """Check that a sweep is a usable bias sweep (a ``bias_V`` column, finite).

    Raises
    ------
    MissingColumnError, DataValidationError
    """
    return _validate(sweep, ("bias_V",), "bias_V", min_rows, False)
