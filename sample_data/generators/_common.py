"""File-writing helpers shared by the sample-data generators (not a generator itself).

``sample_data/generate.py`` skips modules whose name starts with ``_``.  Every generator module defines
``generate(outdir, seed) -> list[Path]``: it creates ``outdir``, draws its noise from
``numpy.random.default_rng(seed)`` and returns the paths of the files it wrote.  It writes its
curves as small CSV files (``# `` comment lines, one header line, one row per point, ``\\n`` line
ends, UTF-8), then ``truth.json`` (indent 2, trailing newline) and ``README.md``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np


def start(outdir: Path, seed: int) -> tuple[Path, np.random.Generator]:
    """Create ``outdir`` (with parents) and return it with ``numpy.random.default_rng(seed)``."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    return outdir, np.random.default_rng(seed)


def write_csv(path: Path, comments: Iterable[str], header: str, columns: Sequence[np.ndarray],
              formats: Sequence[str]) -> Path:
    """Write ``# comment`` lines, a header line and one comma-separated row per point.

    Parameters
    ----------
    path
        File to write (its folder must exist).
    comments
        Comment texts, each written as ``# <text>``.
    header
        Column header line (without line end).
    columns
        Equal-length columns.
    formats
        One format spec per column (``".6f"``, ``".6g"`` ...).

    Returns
    -------
    Path
        ``path``.
    """
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for text in comments:
            fh.write(f"# {text}\n")
        fh.write(header + "\n")
        for row in zip(*columns, strict=True):
            fh.write(",".join(format(v, spec) for v, spec in zip(row, formats, strict=True)) + "\n")
    return path


def write_truth_and_readme(outdir: Path, truth: dict[str, Any], readme: str) -> list[Path]:
    """Write ``truth.json`` (indent 2) and ``README.md`` into ``outdir``; return both paths."""
    tpath = outdir / "truth.json"
    tpath.write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    rpath = outdir / "README.md"
    rpath.write_text(readme, encoding="utf-8")
    return [tpath, rpath]
