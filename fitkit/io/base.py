"""The loader interface: every file format is one :class:`Loader` subclass in the registry."""

from __future__ import annotations

import abc
from pathlib import Path
from typing import ClassVar

from fitkit.io.sweep import Sweep

__all__ = ["Loader"]


class Loader(abc.ABC):
    """One file format.

    Subclasses set :attr:`key`, :attr:`description` and :attr:`extensions`, implement
    :meth:`can_read` (cheap: extension and a sniff of the first bytes) and :meth:`read` with
    **explicit keyword options** (no ``**kwargs``) so ``fitkit formats`` can list them, and are
    registered with :func:`fitkit.io.register_loader`, which wraps :meth:`read` in the loader
    contract (:func:`fitkit.io._registry.contract`): regular files of at most :attr:`max_bytes`
    only, every exception a fitkit error naming the file, values checked for physical sense.
    """

    key: ClassVar[str]
    description: ClassVar[str]
    extensions: ClassVar[tuple[str, ...]] = ()
    max_bytes: ClassVar[int | None] = 256 * 2**20
    """Largest file this loader accepts (None: no limit, for formats read through a memory map)."""

    @classmethod
    def can_read(cls, path: Path) -> bool:
        """Return True if the file looks like this format (default: extension match)."""
        return path.suffix.lower() in cls.extensions

    @abc.abstractmethod
    def read(self, path: Path) -> Sweep | list[Sweep]:
        """Read the file into one sweep (or a list, for multi-curve files)."""
