"""HDF5 loader (format key ``"hdf5"``): two 1-D datasets chosen by path, read through h5py.

The caller names the x and y datasets (``x="/data/T"``, ``y="/data/R"``).  The unit of each comes
from the dataset attribute ``units`` (or ``unit``) when present, otherwise it must be declared with
``units=`` (keys: the dataset path as given, its name without the leading ``/``, its last path
component, or the quantity); a declared unit that contradicts the attribute raises.  Nothing is
guessed.

The kind follows from the x unit (temperature -> R(T), voltage -> bias sweep) unless ``kind=`` is
given; for a bias sweep the y quantity follows from its unit (current -> ``current_A``, siemens ->
``dIdV_S``, ``norm`` -> ``dIdV_norm``, ``arb`` -> ``dIdV_arb``).  File (root) attributes go to
``meta.raw_header`` (bytes decoded, numpy scalars and arrays turned into Python values); the
attributes of the two datasets go to ``meta.extra["dataset_attrs"]``.

Row policy as in :mod:`fitkit.io._common` (non-finite rows dropped and counted, R(T) sorted with
exact-duplicate temperatures averaged, bias sweeps kept in order with direction inferred).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from fitkit.errors import FitkitError, LoaderError, MissingColumnError
from fitkit.io._common import (
    ColumnPlan,
    build_sweep,
    canonical_target,
    kind_from_x_unit,
    read_head,
    units_agree,
    y_quantity,
)
from fitkit.io._registry import register_loader
from fitkit.io.base import Loader
from fitkit.io.sweep import Sweep

__all__ = ["HDF5Loader"]

_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_SIGNATURE_OFFSETS = (0, 512, 1024, 2048)


def _py(value: Any) -> Any:
    """Attribute value as a plain Python object (str for bytes, list for arrays)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.ndarray):
        return [_py(v) for v in value.tolist()] if value.dtype.kind in "SO" else value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _datasets(f: h5py.File) -> list[str]:
    names: list[str] = []
    f.visititems(lambda name, obj: names.append("/" + name) if isinstance(obj, h5py.Dataset) else None)
    return names


MAX_VALUES = 1 << 25
"""Largest dataset read (33 554 432 values, 256 MiB as float64; a measured sweep is far smaller)."""


def _check_dataset_size(path: Path, name: str, obj: h5py.Dataset) -> None:
    """Refuse, before reading, a dataset too large to be a sweep or one that was never written.

    HDF5 allocates storage lazily: a 6.8 kB file can declare datasets of gigabytes that read as
    fill values.  The declared shape is checked against :data:`MAX_VALUES`, and a dataset with no
    stored bytes is refused (it holds only the fill value).
    """
    n = int(obj.size or 0)
    if n > MAX_VALUES:
        raise LoaderError(f"{path}: dataset '{name}' declares {n} values (shape {obj.shape}); expected "
                          f"at most {MAX_VALUES} values in a sweep")
    try:
        stored = int(obj.id.get_storage_size())
    except Exception:  # noqa: BLE001 - h5py raises assorted types on damaged files
        stored = -1
    if n > 0 and stored == 0:
        raise LoaderError(f"{path}: dataset '{name}' declares {n} values but none were ever written "
                          "(no storage allocated); expected measured data")


@register_loader
class HDF5Loader(Loader):
    """Two 1-D datasets of an HDF5 (or NeXus) file."""

    key = "hdf5"
    description = "HDF5/NeXus file: x and y dataset paths, units from a 'units' attribute or units="
    extensions = (".h5", ".hdf5", ".nxs")
    max_bytes = None

    @classmethod
    def can_read(cls, path: Path) -> bool:
        """Known extension and the HDF5 signature at offset 0, 512, 1024 or 2048."""
        if path.suffix.lower() not in cls.extensions:
            return False
        head = read_head(path, 2048 + len(_SIGNATURE))
        return any(head[o:o + len(_SIGNATURE)] == _SIGNATURE for o in _SIGNATURE_OFFSETS)

    def read(
        self,
        path: Path,
        *,
        x: str | None = None,
        y: str | None = None,
        kind: str | None = None,
        units: Mapping[str, str] | None = None,
        normalized: bool = False,
        sample_id: str | None = None,
    ) -> Sweep:
        """Read two datasets into an R(T) or bias-sweep :class:`Sweep`.

        Parameters
        ----------
        path
            File to read.
        x, y
            Dataset paths (``"/data/T"``); both required.
        kind
            ``"rt"``, ``"didv"`` or None (from the x unit).
        units
            Dataset path / name / quantity -> unit text, for datasets without a ``units`` attribute.
        normalized
            A y conductance dataset without a unit is a normalised conductance ``dIdV_norm``.
        sample_id
            Sample name; default the file stem.

        Returns
        -------
        Sweep

        Raises
        ------
        LoaderError
            Empty or unreadable file, x/y not given, not 1-D numeric, length mismatch, undeclared unit.
        MissingColumnError
            A dataset path does not exist (the message lists the datasets).
        """
        path = Path(path)
        if kind not in (None, "rt", "didv"):
            raise LoaderError(f"{path}: kind={kind!r} is not valid; expected 'rt', 'didv' or None")
        if path.stat().st_size == 0:
            raise LoaderError(f"{path}: file is empty")
        units = dict(units or {})
        try:
            f = h5py.File(path, "r")
        except OSError as err:
            raise LoaderError(f"{path}: not a readable HDF5 file ({err})") from err
        try:
            with f:
                available = _datasets(f)
                if x is None or y is None:
                    raise LoaderError(f"{path}: pass x= and y= dataset paths; datasets in the file: "
                                      f"{available}")
                arrays: dict[str, np.ndarray] = {}
                attr_units: dict[str, str | None] = {}
                ds_attrs: dict[str, dict[str, Any]] = {}
                for name, p in (("x", x), ("y", y)):
                    obj = f.get(p)
                    if obj is None:
                        raise MissingColumnError(f"{path}: {name} dataset '{p}' not found; available: "
                                                 f"{available}")
                    if not isinstance(obj, h5py.Dataset):
                        raise LoaderError(f"{path}: '{p}' is a group, not a dataset; datasets: {available}")
                    if obj.dtype.kind not in "iuf" or obj.ndim != 1:
                        raise LoaderError(f"{path}: dataset '{p}' has dtype {obj.dtype} and shape "
                                          f"{obj.shape}; expected a 1-D numeric array")
                    _check_dataset_size(path, p, obj)
                    arrays[p] = np.asarray(obj[()], dtype=float)
                    ds_attrs[p] = {k: _py(v) for k, v in obj.attrs.items()}
                    u = ds_attrs[p].get("units", ds_attrs[p].get("unit"))
                    attr_units[p] = str(u) if u is not None else None
                raw_header = {k: _py(v) for k, v in f.attrs.items()}
        except (FitkitError, MemoryError):
            raise
        except Exception as err:  # noqa: BLE001 - h5py raises OSError/KeyError/RuntimeError/... on damage
            raise LoaderError(f"{path}: damaged HDF5 structure ({type(err).__name__}: "
                              f"{' '.join(str(err).split())[:160]}); expected a readable HDF5 file") from err
        if arrays[x].size != arrays[y].size:
            raise LoaderError(f"{path}: datasets '{x}' ({arrays[x].size} values) and '{y}' ({arrays[y].size} "
                              "values) differ in length; expected equal lengths")
        if arrays[x].size == 0:
            raise LoaderError(f"{path}: dataset '{x}' is empty; the table is empty")

        def unit_for(p: str, quantity: str | None) -> str | None:
            keys = [p, p.lstrip("/"), p.rsplit("/", 1)[-1]] + ([quantity] if quantity else [])
            declared = next((units[k] for k in keys if k in units), None)
            found = attr_units[p]
            label = f"dataset '{p}'"
            if declared is not None and found is not None and not units_agree(path, label, declared, found):
                raise LoaderError(f"{path}: dataset '{p}' has attribute units='{found}' but units= "
                                  f"declares "
                                  f"'{declared}'; expected them to agree")
            return declared if declared is not None else found

        x_q = {"rt": "temperature", "didv": "bias"}.get(kind or "")
        x_unit = unit_for(x, x_q)
        if x_q is None:
            if x_unit is None:
                raise LoaderError(f"{path}: dataset '{x}' has no 'units' attribute and fitkit never "
                                  f"guesses one; "
                                  f"declare it, e.g. pass units={{'{x}': 'K'}}")
            kind, x_q = kind_from_x_unit(path, f"dataset '{x}'", x_unit)
        y_q = "resistance" if kind == "rt" else None
        y_unit = unit_for(y, y_q)
        if y_q is None:
            y_q = y_quantity(path, f"dataset '{y}'", y_unit)
        assert kind is not None
        plan = ColumnPlan(kind=kind)
        plan.targets[x] = canonical_target(path, x, x_q, x_unit)
        plan.targets[y] = canonical_target(path, y, y_q, y_unit, normalized=normalized)
        values = {canon: arrays[raw] * factor for raw, (canon, factor, _) in plan.targets.items()}
        raw_units = {k: v for k, v in ((x, x_unit), (y, y_unit)) if v is not None}
        extra = {"datasets": available, "dataset_attrs": ds_attrs}
        return build_sweep(path, loader=self.key, kind=kind, values=values,
                           conversion=plan.conversion(raw_units), sample_id=sample_id,
                           raw_header=raw_header, extra=extra)
