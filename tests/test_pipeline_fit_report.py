"""Regression: the per-fit report of a ``fit`` job shows the *preprocessed* data that were fitted.

Before the fix, ``FitJob.run_item`` handed the raw loaded sweep to the report writer, so a job whose
``y`` column is made by a preprocess step (``normalize`` -> ``dIdV_norm``) wrote only ``error.txt``
(``MissingColumnError: column 'dIdV_norm' not found``) instead of ``fit.png`` and the tables.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from fitkit.config import load_config
from fitkit.pipeline import run


def test_fit_report_uses_preprocessed_sweep(tmp_path: Path, rng: np.random.Generator) -> None:
    from fitkit.physics.tunneling import nis_conductance

    v = np.linspace(-1.5e-3, 1.5e-3, 121)
    g = 2.5e-6 * nis_conductance(v * 1e3, 0.3, 0.01, 0.1) + rng.normal(0.0, 2e-8, v.size)
    pd.DataFrame({"bias_V": v, "dIdV_S": g}).to_csv(tmp_path / "spec.csv", index=False)
    (tmp_path / "cfg.yaml").write_text(
        "schema_version: 1\nname: t\njobs:\n"
        "  - name: j\n    kind: fit\n"
        "    inputs: {files: [spec.csv], format: text}\n"
        "    preprocess:\n      - {step: normalize, window: [0.0012, 0.0015]}\n"
        "    model: nis\n    y: dIdV_norm\n"
        "report: {plots: true, formats: [csv]}\n"
    )
    summary = run(load_config(tmp_path / "cfg.yaml"), tmp_path / "out", workers=1, progress=False)
    assert summary.n_ok == 1
    folder = tmp_path / "out" / "fits" / "j" / "spec"
    assert not (folder / "error.txt").exists(), (folder / "error.txt").read_text()
    assert (folder / "fit.png").is_file()
    assert (folder / "parameters.csv").is_file()
