"""One registry class for the extension points of fitkit, and the job-kind registry.

:class:`Registry` is a mutable mapping ``key -> object`` that fills itself on first use from

1. *built-in modules*, given by module name and imported with :func:`importlib.import_module`
   (each registers its objects when imported), then
2. the *entry points* of a group (``[project.entry-points."fitkit.job_kinds"]`` in a third-party
   package's ``pyproject.toml``): each entry point is loaded; if it returns an object with a
   ``name`` that is not registered yet, it is registered under that name (a class is
   instantiated first).

Loading by name keeps this module at the bottom of the layer order (it imports nothing from
fitkit but :mod:`fitkit.errors`), so :mod:`fitkit.config` can validate job kinds without importing
the pipeline, and the pipeline's kinds can import the config: no import cycle.

:data:`JOB_KINDS` is the registry of pipeline job kinds (``fit``, ``transition``, ...); the
built-in kinds live in :mod:`fitkit.pipeline.kinds`.  Add one with :func:`register_job_kind` on a
:class:`fitkit.pipeline.JobKind` subclass.

Examples
--------
>>> reg = Registry("colour")
>>> reg.register("red", 1)
>>> sorted(reg), reg["red"]
(['red'], 1)
>>> reg.register("red", 2)
Traceback (most recent call last):
...
ValueError: colour 'red' is already registered
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping, Sequence
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

__all__ = ["JOB_KINDS", "Registry", "register_job_kind"]

T = TypeVar("T")
C = TypeVar("C", bound=type)


class Registry(MutableMapping[str, T], Generic[T]):
    """A named mapping of extension objects, filled lazily from built-in modules and entry points.

    Parameters
    ----------
    what
        What the registry holds, for messages (``"job kind"``).
    group
        Entry-point group searched for third-party objects (None: none).
    builtins
        Module names imported on first use; they register their objects themselves.
    """

    def __init__(self, what: str, *, group: str | None = None, builtins: Sequence[str] = ()) -> None:
        self.what = what
        self.group = group
        self.builtins = tuple(builtins)
        self._items: dict[str, T] = {}
        self._loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True  # before importing: the modules register into this registry
        for name in self.builtins:
            importlib.import_module(name)
        if self.group:
            for ep in entry_points(group=self.group):
                obj: Any = ep.load()
                if isinstance(obj, type):
                    if getattr(obj, "name", None) in self._items:
                        continue
                    obj = obj()
                key = getattr(obj, "name", ep.name)
                if key not in self._items:
                    self._items[key] = obj

    def register(self, key: str, obj: T, *, replace: bool = False) -> None:
        """Add ``obj`` under ``key``; an existing key raises ``ValueError`` unless ``replace``."""
        self._load()
        if key in self._items and not replace:
            raise ValueError(f"{self.what} '{key}' is already registered")
        self._items[key] = obj

    def __getitem__(self, key: str) -> T:
        self._load()
        return self._items[key]

    def __setitem__(self, key: str, value: T) -> None:
        self._load()
        self._items[key] = value

    def __delitem__(self, key: str) -> None:
        self._load()
        del self._items[key]

    def __iter__(self) -> Iterator[str]:
        self._load()
        return iter(list(self._items))

    def __len__(self) -> int:
        self._load()
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        self._load()
        return key in self._items

    def __repr__(self) -> str:
        return f"Registry({self.what!r}, {sorted(self._items)!r})"


JOB_KINDS: Registry[Any] = Registry("job kind", group="fitkit.job_kinds", builtins=("fitkit.pipeline.kinds",))
"""Registered pipeline job kinds (instances of :class:`fitkit.pipeline.JobKind`) keyed by ``kind``."""


def register_job_kind(cls: C) -> C:
    """Class decorator adding a job kind (an instance of ``cls``) to :data:`JOB_KINDS`; duplicates raise."""
    JOB_KINDS.register(str(getattr(cls, "name")), cls())  # noqa: B009  (C is any class with a name)
    return cls
