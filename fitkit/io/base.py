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
    registered with :func:`fitkit.io.register_loader`.
    """

    key: ClassVar[str]
    description: ClassVar[str]
    extensions: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def can_read(cls, path: Path) -> bool:
        """Return True if the file looks like this format (default: extension match)."""
        return path.suffix.lower() in cls.extensions

    @abc.abstractmethod
    def read(self, path: Path) -> Sweep | list[Sweep]:
        """Read the file into one sweep (or a list, for multi-curve files)."""
