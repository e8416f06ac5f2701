"""Every synthetic data set in sample_data/ is reproduced by its generator, and its truth is documented."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
GENERATORS = sorted(p.stem for p in (SAMPLE / "generators").glob("*.py") if not p.stem.startswith("_"))


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"gen_{name}", SAMPLE / "generators" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _numeric_table(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, comment="#")


@pytest.mark.slow
@pytest.mark.parametrize("name", GENERATORS)
def test_generator_reproduces_committed_files(name, tmp_path):
    written = _module(name).generate(tmp_path / name)
    assert written, f"{name} wrote nothing"
    committed = SAMPLE / name
    assert (committed / "README.md").is_file(), f"sample_data/{name} has no README.md"
    for new in written:
        rel = Path(new).relative_to(tmp_path / name)
        old = committed / rel
        assert old.is_file(), f"sample_data/{name}/{rel} is written by the generator but not committed"
        if old.suffix == ".csv":
            a, b = _numeric_table(old), _numeric_table(Path(new))
            assert list(a.columns) == list(b.columns)
            num = a.select_dtypes("number").columns
            # last-digit differences from FFT rounding on another machine are allowed, nothing more
            np.testing.assert_allclose(b[num].to_numpy(), a[num].to_numpy(), rtol=1e-5, atol=1e-4)
        elif old.suffix == ".json":
            assert json.loads(Path(new).read_text()) == json.loads(old.read_text())
        elif old.suffix == ".md":
            assert Path(new).read_text() == old.read_text()
        else:
            assert Path(new).stat().st_size == old.stat().st_size


@pytest.mark.parametrize("name", GENERATORS)
def test_truth_is_documented(name):
    folder = SAMPLE / name
    assert (folder / "README.md").is_file()
    assert any(folder.glob("truth.*")), f"sample_data/{name} has no truth file"
