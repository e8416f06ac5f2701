"""Sphinx extension: the ``fitkit-api`` directive writes the API reference of a package.

``.. fitkit-api:: fitkit.io`` emits one section with an ``automodule`` for the package and for
every public submodule below it (names starting with ``_`` and ``__main__`` are skipped), so a
module added to the package shows up in the reference without editing a page.  With the
``:shallow:`` flag only the package and its direct non-package submodules are documented (the
page for the top-level ``fitkit`` modules), less those that have a page of their own in the same
folder.  Nothing is written into the source folder.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles


def public_modules(package: str, *, shallow: bool = False) -> list[str]:
    """Sorted dotted names of ``package`` and its public submodules (imports the subpackages)."""
    pkg = importlib.import_module(package)
    names = [package]
    path = getattr(pkg, "__path__", None)
    if path is None:
        return names
    if shallow:
        found = [f"{package}.{m.name}" for m in pkgutil.iter_modules(path) if not m.ispkg]
    else:
        found = [m.name for m in pkgutil.walk_packages(path, prefix=f"{package}.")]
    for name in found:
        parts = name.split(".")[1:]
        if any(p.startswith("_") for p in parts):
            continue
        names.append(name)
    return sorted(set(names), key=lambda n: (n != package, n))


class FitkitApi(SphinxDirective):
    """``.. fitkit-api:: package`` (option ``:shallow:``)."""

    required_arguments = 1
    has_content = False
    option_spec = {"shallow": directives.flag}

    def run(self) -> list[nodes.Node]:
        package = self.arguments[0]
        shallow = "shallow" in self.options
        folder = self.env.docname.rpartition("/")[0]
        lines: list[str] = []
        for name in public_modules(package, shallow=shallow):
            # a module with its own page (``api/config`` for ``fitkit.config``) is documented there
            if shallow and name != package and f"{folder}/{name.rpartition('.')[2]}" in self.env.found_docs:
                continue
            title = f"``{name}``"
            lines += [title, "-" * len(title), "", f".. automodule:: {name}", ""]
        content = StringList(lines, source=f"<fitkit-api {package}>")
        node = nodes.section()
        node.document = self.state.document
        nested_parse_with_titles(self.state, content, node)
        return list(node.children)


def setup(app: Any) -> dict[str, Any]:
    app.add_directive("fitkit-api", FitkitApi)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
