"""Plugin files: Python files named in a config's ``plugins:`` that register models, loaders or kinds."""

from __future__ import annotations

import hashlib
import importlib.util
import re
import sys
from collections.abc import Iterable
from pathlib import Path

from fitkit.errors import ConfigError

__all__ = ["load_plugins"]


def load_plugins(paths: Iterable[str | Path]) -> list[str]:
    """Import plugin modules (files that register models/loaders) once per process.

    Parameters
    ----------
    paths
        Python files; each is imported under a name derived from its content hash, so the
        same plugin is never executed twice in one process (workers call this too).

    Returns
    -------
    list of str
        The module names.

    Raises
    ------
    ConfigError
        If a plugin cannot be imported.
    """
    names = []
    for p in paths:
        path = Path(p)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        name = f"fitkit_plugin_{re.sub(r'[^0-9A-Za-z_]', '_', path.stem)}_{digest}"
        names.append(name)
        if name in sys.modules:
            continue
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ConfigError(f"plugins: cannot import '{path}'")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as err:
            del sys.modules[name]
            raise ConfigError(f"plugins: importing '{path}' failed: {type(err).__name__}: {err}") from err
    return names
