"""Untrusted strings in outputs (issue 11, item 4): CSV formula injection, Markdown/HTML escaping of
sample ids, file names with ``$`` never reaching matplotlib mathtext."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fitkit.config import load_config
from fitkit.fitting.record import FitRecord
from fitkit.pipeline import run
from fitkit.report.fit_report import summary_markdown
from fitkit.report.writer import atomic_write_csv, markdown_text, neutralise_cell

sys.path.insert(0, str(Path(__file__).parent))
from pipeline_support import forget_plugins, write_plugin, write_series  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _clean_registries():
    yield
    forget_plugins()


@pytest.mark.parametrize("text", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx", "=HYPERLINK(\"x\")"])
def test_formula_text_is_neutralised(tmp_path, text):
    p = atomic_write_csv(tmp_path / "t.csv", pd.DataFrame({"sample_id": [text], "value": [-1.5]}))
    with open(p, newline="") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) == 2
    assert rows[1][0] == "'" + text.replace("\r", "\n")
    assert rows[1][1] == "-1.5"  # numbers are never touched


@pytest.mark.parametrize("text", ["-1.5e-3", "+2", "W1", "", "a=b", "1-2"])
def test_plain_text_and_numbers_are_kept(text):
    assert neutralise_cell(text) == text
    assert neutralise_cell(-3.0) == -3.0


def test_markdown_escapes_html_and_table_breakers():
    rec = FitRecord(model_key="tk_step", sample_id="<img src=x onerror=alert(1)>|evil",
                    source_path="/d/a|b.csv", success=False, message="x")
    md = summary_markdown(rec)
    assert "<img" not in md and "&lt;img" in md
    assert "a|b" not in md and "evil" in md
    assert markdown_text("*bold* `code`") == "\\*bold\\* \\`code\\`"


_CONFIG = """
schema_version: 1
name: untrusted
plugins: [tk_plugin.py]
samples:
  - {id: "=cmd|' /C calc'!A0", width_nm: 100}
jobs:
  - name: rt
    kind: fit
    inputs:
      files:
        - {path: "data/W1.tkcsv", sample_id: "=cmd|' /C calc'!A0"}
        - {path: "data/x$^_$y.tkcsv"}
        - {path: "data/b<i>x.tkcsv", sample_id: "<b>bold</b>"}
      format: tk_csv
    model: {key: tk_step}
    params:
      width: {value: 100, unit: mK, min: 5}
report: {plots: true, formats: [csv, json, html]}
"""


def test_run_with_hostile_names(tmp_path):
    """``$`` and HTML in file names, a formula sample id: the run completes and every output is inert."""
    write_plugin(tmp_path)
    data = tmp_path / "data"
    ((p, _),) = write_series(data, np.random.default_rng(3), n=1, points=40)
    for name in ("x$^_$y.tkcsv", "b<i>x.tkcsv"):
        (data / name).write_bytes(p.read_bytes())
    from matplotlib.mathtext import MathTextParser

    with pytest.raises(ValueError):  # the name is bad mathtext: drawing it as math would crash
        MathTextParser("agg").parse("x$^_$y")
    cfg = tmp_path / "run.yaml"
    cfg.write_text(_CONFIG)
    out = tmp_path / "out"
    s = run(load_config(cfg), out, workers=1, progress=False)
    assert s.n_items == 3 and s.n_failed == 0
    assert not list(out.rglob("error.txt")), "a fit report failed to draw"
    assert len(list((out / "fits").rglob("fit.png"))) == 3
    with open(out / "results.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    ids = {r["sample_id"] for r in rows}
    assert "'=cmd|' /C calc'!A0" in ids
    assert not any(v.startswith(("=", "+", "@")) for r in rows for v in r.values())
    html = (out / "index.html").read_text()
    assert "<b>bold</b>" not in html and "b<i>x" not in html
    mds = [md.read_text() for md in (out / "fits").rglob("summary.md")]
    assert len(mds) == 3 and not any("<b>" in t or "<i>" in t for t in mds)
