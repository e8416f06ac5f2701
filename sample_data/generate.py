"""Regenerate every synthetic data set in sample_data/ from its generator module.

Usage::

    python sample_data/generate.py            # all generators
    python sample_data/generate.py rt_wires   # one generator

Each module in ``sample_data/generators/`` defines ``generate(outdir: Path, seed: int = ...) -> list[Path]``
and writes its files (and a truth.json + README.md) into ``sample_data/<module name>/``.  The outputs are
committed, so users never need to run this; it exists so that every synthetic file can be reproduced.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _load(name: str):
    path = HERE / "generators" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"fitkit_generators.{name}", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    """Run the named generators (default: all) and print the files they wrote."""
    available = sorted(p.stem for p in (HERE / "generators").glob("*.py") if not p.stem.startswith("_"))
    names = argv if argv else available
    for name in names:
        module = _load(name)
        paths = module.generate(HERE / name)
        print(f"{name}: wrote {len(paths)} files")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
