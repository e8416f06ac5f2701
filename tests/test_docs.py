"""The documentation stays true: the how-to pages' worked examples run, every docstring example
passes, and the Sphinx site (API reference included) builds without a single warning.

Worked examples: a page's fenced blocks are its example.  A ```` ```{code-block} python ```` block
with ``:caption: some/path.py`` is written to that file (in a temporary folder); the plain
```` ```python ```` blocks run, in page order, as one script in a fresh interpreter (so the models,
loaders and job kinds the pages register never leak into this test session's registries).
"""

from __future__ import annotations

import doctest
import importlib
import os
import pkgutil
import re
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

import fitkit

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"

# the suite's warning policy (pyproject filterwarnings), for the example subprocesses
_WARNING_FLAGS = [
    "-W", "error",
    "-W", "ignore::fitkit.errors.FitQualityWarning",
    "-W", "ignore::DeprecationWarning:dask",
    "-W", "ignore::DeprecationWarning:distributed",
]


@dataclass(frozen=True)
class CodeBlock:
    """One fenced Python block of a page: ``path`` is the file it defines (None: script)."""

    line: int
    code: str
    path: str | None


def code_blocks(page: Path) -> list[CodeBlock]:
    """The ```` ```python ```` and ```` ```{code-block} python ```` blocks of a Markdown page."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[CodeBlock] = []
    i = 0
    while i < len(lines):
        info = lines[i].strip()
        if not info.startswith("```"):
            i += 1
            continue
        lang = info[3:].strip()
        start = i + 1
        j = start
        options: dict[str, str] = {}
        if lang.startswith("{code-block}"):
            while j < len(lines) and lines[j].startswith(":"):
                key, _, value = lines[j][1:].partition(":")
                options[key.strip()] = value.strip()
                j += 1
            lang = lang.removeprefix("{code-block}").strip()
        end = j
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        if end == len(lines):
            raise AssertionError(f"{page.name}:{i + 1}: code fence not closed")
        if lang == "python":
            code = "\n".join(lines[j:end]).strip("\n") + "\n"
            blocks.append(CodeBlock(i + 1, code, options.get("caption")))
        i = end + 1
    return blocks


def run_page(page: Path, tmp_path: Path, epilogue: str = "") -> str:
    """Write the page's files into ``tmp_path``, run its script (plus ``epilogue``); return stdout."""
    blocks = code_blocks(page)
    assert blocks, f"{page.name} has no Python code block"
    script = []
    for b in blocks:
        if b.path:
            target = tmp_path / b.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(b.code, encoding="utf-8")
        else:
            script.append(f"# --- {page.name}, block at line {b.line}\n{b.code}")
    assert script, f"{page.name} has no script block (a plain ```python fence) to run"
    main = tmp_path / "page_example.py"
    main.write_text("\n".join(script) + textwrap.dedent(epilogue), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(REPO)]), MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, *_WARNING_FLAGS, str(main)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{page.name} example failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


# ------------------------------------------------------------------ worked examples of the pages

_CONTRACT_FILE = REPO / "tests" / "models" / "test_contract.py"
CONTRACT = f"""

# --- tests/test_docs.py: fitkit's model contract suite on the page's model
import importlib.util as _ilu
import inspect as _inspect

_spec = _ilu.spec_from_file_location("model_contract", {str(_CONTRACT_FILE)!r})
_contract = _ilu.module_from_spec(_spec)
_spec.loader.exec_module(_contract)
_ran = []
for _name, _fn in sorted(vars(_contract).items()):
    if _name.startswith("test_") and list(_inspect.signature(_fn).parameters) == ["key"]:
        _fn("al2d_example")
        _ran.append(_name)
print("contract tests passed:", len(_ran), _ran)
"""


def test_adding_a_model_example(tmp_path):
    out = run_page(DOCS / "adding-a-model.md", tmp_path, CONTRACT)
    n = int(re.search(r"contract tests passed: (\d+)", out).group(1))
    assert n >= 5, out


def test_adding_a_loader_example(tmp_path):
    out = run_page(DOCS / "adding-a-loader.md", tmp_path)
    assert "refused:" in out  # the page's wrong-unit file is refused by the loader


def test_adding_a_job_kind_example(tmp_path):
    out = run_page(DOCS / "adding-a-job-kind.md", tmp_path)
    assert "refused:" in out


def test_code_block_parser_sees_files_and_script(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("text\n```{code-block} python\n:caption: pkg/a.py\n\nX = 1\n```\n"
                    "```python\nfrom pkg.a import X\n```\n```yaml\nnot: python\n```\n", encoding="utf-8")
    blocks = code_blocks(page)
    assert [(b.path, b.code) for b in blocks] == [("pkg/a.py", "X = 1\n"), (None, "from pkg.a import X\n")]


# ------------------------------------------------------------------------------ docstring examples

def _modules_with_examples() -> list[str]:
    names = []
    for path in sorted((REPO / "fitkit").rglob("*.py")):
        if ">>>" not in path.read_text(encoding="utf-8"):
            continue
        rel = path.relative_to(REPO).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        if parts[-1] != "__main__":
            names.append(".".join(parts))
    return names


DOCTEST_MODULES = _modules_with_examples()


def test_doctest_modules_found():
    assert len(DOCTEST_MODULES) >= 5, DOCTEST_MODULES


@pytest.mark.parametrize("name", DOCTEST_MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(verbose=False)
    report: list[str] = []
    attempted = 0
    for test in finder.find(module, name):
        result = runner.run(test, out=report.append)
        attempted += result.attempted
    assert attempted > 0, f"{name} mentions >>> but has no runnable example"
    assert runner.failures == 0, "".join(report)


# -------------------------------------------------------------------------------- the Sphinx site

def test_api_reference_covers_every_subpackage():
    pages = {p.stem: p.read_text(encoding="utf-8") for p in (DOCS / "api").glob("*.rst")}
    index = (DOCS / "api" / "index.md").read_text(encoding="utf-8")
    for m in pkgutil.iter_modules(fitkit.__path__):
        if m.ispkg and not m.name.startswith("_"):
            assert f".. fitkit-api:: fitkit.{m.name}" in pages.get(m.name, ""), (
                f"fitkit.{m.name} has no API page docs/api/{m.name}.rst"
            )
            assert re.search(rf"^{m.name}$", index, flags=re.MULTILINE), f"api/index.md misses {m.name}"


@pytest.mark.slow
def test_sphinx_build_has_no_warnings(tmp_path):
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(tmp_path / "html")],
        cwd=REPO, capture_output=True, text=True, timeout=600,
        env=dict(os.environ, MPLBACKEND="Agg"),
    )
    elapsed = time.perf_counter() - start
    assert proc.returncode == 0, f"sphinx-build -W failed after {elapsed:.0f} s:\n{proc.stderr}"
    assert (tmp_path / "html" / "api" / "models.html").is_file()
    html = (tmp_path / "html" / "api" / "models.html").read_text(encoding="utf-8")
    assert "fitkit.models.base.FitkitModel" in html
