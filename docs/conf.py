"""Sphinx configuration of the fitkit documentation (API reference + how-to pages).

Build with ``python3 -m sphinx -W -b html docs docs/_build/html`` (tests/test_docs.py does this with
warnings as errors).  The API pages are generated at build time by the ``fitkit-api`` directive
(``docs/_ext/fitkit_api.py``): every public module of a package gets an ``automodule`` section, so
a new module appears in the reference without editing any page.
"""

from __future__ import annotations

import hashlib
import re
import sys
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent))

project = "fitkit"
author = "fitkit developers"
copyright = "fitkit developers (MIT licence)"
try:
    release = metadata.version("fitkit")
except metadata.PackageNotFoundError:  # building from a source tree that is not installed
    release = "unknown"
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "myst_parser",
    "fitkit_api",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "figures", "README.md"]
# numpydoc "References" lists are often not cited in the text; that is not an error
suppress_warnings = ["ref.footnote"]

# numpydoc-style docstrings through napoleon
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_ivar = True
napoleon_custom_sections = [("Class variables", "params_style"), ("Accuracy", "notes_style"),
                            ("Row policy", "notes_style"), ("Honesty", "notes_style")]

# ignore-module-all: a package documents what it defines, not what it re-exports (fitkit.Sweep is
# documented once, as fitkit.io.sweep.Sweep)
autodoc_default_options = {"members": True, "show-inheritance": True, "ignore-module-all": True}
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_class_signature = "separated"
autodoc_preserve_defaults = False

myst_heading_anchors = 3
myst_enable_extensions = ["dollarmath"]

html_theme = "alabaster"
html_title = f"fitkit {release}"
html_static_path: list[str] = []


_FOOTNOTE_DEF = re.compile(r"^(\s*\.\. )\[(\d+)\]", flags=re.MULTILINE)
_FOOTNOTE_REF = re.compile(r"\[(\d+)\]_")


def _unique_footnotes(app: object, what: str, name: str, obj: object, options: object,
                      lines: list[str]) -> None:
    """Make the numbered references ``.. [1]`` / ``[1]_`` of a docstring unique on its page.

    numpydoc-style "References" sections number from 1 in every docstring; on one API page these
    would be duplicate targets.  They become auto-numbered footnotes with a label derived from the
    object's name (``.. [#r1f2e3d4c-1]``), as numpydoc's own Sphinx extension does.
    """
    key = "r" + hashlib.sha1(name.encode()).hexdigest()[:8]
    text = "\n".join(lines)
    if "[" not in text:
        return
    text = _FOOTNOTE_DEF.sub(lambda m: f"{m.group(1)}[#{key}-{m.group(2)}]", text)
    text = _FOOTNOTE_REF.sub(lambda m: f"[#{key}-{m.group(1)}]_", text)
    lines[:] = text.split("\n")


_BARS = re.compile(r"(?<![\\|`])\|([^|`\s]{1,24})\|(?![|`_])")


def _absolute_values(app: object, what: str, name: str, obj: object, options: object,
                     lines: list[str]) -> None:
    """Escape ``|R|``-style absolute values in plain docstring text.

    fitkit docstrings use no reST substitutions, so ``1/|R|`` means an absolute value; unescaped it
    would be an undefined substitution.  Text inside backticks (roles such as ``:math:``, literals)
    and grid-table rows are left alone.
    """
    for i, line in enumerate(lines):
        if "|" not in line or line.lstrip().startswith(("|", "+")):
            continue
        out: list[str] = []
        quote = ""  # the backtick run that opened the current literal/role content, if any
        for token in re.split(r"(`+)", line):
            if token.startswith("`"):
                quote = "" if token == quote else (quote or token)
            elif not quote:
                token = _BARS.sub(r"\\|\1\\|", token)
            out.append(token)
        lines[i] = "".join(out)


def setup(app: object) -> None:
    app.connect("autodoc-process-docstring", _unique_footnotes)  # type: ignore[attr-defined]
    app.connect("autodoc-process-docstring", _absolute_values)  # type: ignore[attr-defined]
