"""The README stays true: its model table is the registry's, its commands are the ones CI runs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def test_model_table_matches_registry():
    spec = importlib.util.spec_from_file_location("model_table", REPO / "docs" / "model_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.model_table() in README


def test_ci_runs_the_readme_test_command():
    command = ('python3 -m venv .venv && . .venv/bin/activate && python3 -m pip install -e ".[test]" '
               "&& python3 -m pytest -q")
    assert command in README
    assert command in (REPO / ".ci" / "run").read_text()


def test_readme_main_command_names_existing_config():
    assert ("python3 -m venv .venv && . .venv/bin/activate && python3 -m pip install -e . && "
            "python3 -m fitkit run configs/demo.yaml -o fitkit-report") in README
    assert (REPO / "configs" / "demo.yaml").is_file()
