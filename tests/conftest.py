"""Shared fixtures: seeded random generator, paths to bundled and shared data."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DATA = REPO / "sample_data"
CONFIGS = REPO / "configs"
TEST_DATA = Path(__file__).resolve().parent / "data"
SHARED = REPO.parent / "shared"
SHARED_DATA = SHARED / "sample_data_external"


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator; tests never use numpy's global random state."""
    return np.random.default_rng(20261122)


@pytest.fixture
def test_data() -> Path:
    """Folder of tiny loader fixtures, one quirk each (see tests/data/README.md)."""
    return TEST_DATA


@pytest.fixture
def sample_data() -> Path:
    """The bundled sample_data/ folder."""
    return SAMPLE_DATA


@pytest.fixture
def shared_data() -> Path:
    """../shared/sample_data_external; the test is skipped when it is absent (users have no shared/)."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/sample_data_external is not present")
    return SHARED_DATA
