"""Bounded YAML reading: a configuration file is refused with one sentence when it is not a sane document.

``yaml.safe_load`` constructs only plain data, but it still (a) recurses once per nesting level, so a
deeply nested document ends in ``RecursionError``, and (b) shares aliased nodes, so a small "billion
laughs" document of nested aliases becomes a structure whose *expanded* size is astronomic: any code
that walks or prints it (validation, error messages, ``run.json``) hangs.  :func:`read_yaml` refuses,
before anything is constructed:

* files over :data:`MAX_BYTES` bytes (a configuration is a few kB; big tables belong in a CSV file);
* text that is not UTF-8;
* nesting deeper than :data:`MAX_DEPTH` levels;
* documents whose alias-expanded node count exceeds :data:`MAX_NODES`, and recursive aliases.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from fitkit.errors import ConfigError

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "read_yaml"]

MAX_BYTES = 4 * 1024 * 1024
"""Largest configuration file read, in bytes."""

MAX_DEPTH = 64
"""Deepest nesting of mappings and lists accepted."""

MAX_NODES = 200_000
"""Largest number of YAML nodes after expanding aliases."""


class _TooDeep(Exception):
    pass


class _Recursive(Exception):
    pass


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that stops composing past :data:`MAX_DEPTH` levels."""

    _depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _TooDeep(f"line {self.line + 1}")
            node: Node | None = super().compose_node(parent, index)
            return node
        finally:
            self._depth -= 1


def _expanded_size(root: Node) -> int:
    """Node count of the document with every alias expanded (shared nodes counted at each use).

    Iterative and memoised per node, so it is linear in the *unexpanded* document; it stops as soon
    as the count exceeds :data:`MAX_NODES`.
    """
    size: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in size:
            continue
        if isinstance(node, SequenceNode):
            children: list[Node] = list(node.value)
        elif isinstance(node, MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            size[id(node)] = 1
            continue
        if not done:
            if id(node) in open_:  # an alias to an enclosing node: infinite when expanded
                raise _Recursive(f"line {node.start_mark.line + 1}")
            open_.add(id(node))
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in size)
            continue
        open_.discard(id(node))
        size[id(node)] = min(1 + sum(size[id(c)] for c in children), MAX_NODES + 1)
    return size[id(root)]


def read_yaml(path: Path, shown: str | Path | None = None) -> Any:
    """The parsed YAML document of ``path``, bounded in size, depth and alias expansion.

    Parameters
    ----------
    path
        The file.
    shown
        How to name the file in messages (default: ``path``).

    Raises
    ------
    ConfigError
        One sentence naming the file: too large, not UTF-8, too deeply nested, aliases expanding too
        far, or a YAML syntax error (with line and column).
    """
    where = str(shown if shown is not None else path)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise ConfigError(
            f"{where}: the file has {size} bytes; a configuration may have at most {MAX_BYTES} "
            "(put large tables in a CSV file, e.g. samples: {csv: samples.csv})"
        )
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(
            f"{where}: the file is not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start}); "
            "save it as UTF-8"
        ) from None
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node) > MAX_NODES:
            raise ConfigError(
                f"{where}: YAML aliases expand to more than {MAX_NODES} nodes; "
                "a configuration does not need that many (is it an alias bomb?)"
            )
        return loader.construct_document(node)
    except _Recursive as err:
        raise ConfigError(
            f"{where}: a YAML alias refers to a node that contains it (at {err}), "
            "which would be an infinite structure"
        ) from None
    except _TooDeep as err:
        raise ConfigError(
            f"{where}: the YAML is nested more than {MAX_DEPTH} levels deep (at {err})"
        ) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f"{where}:{mark.line + 1}:{mark.column + 1}" if mark is not None else where
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError(f"{at}: YAML syntax error: {problem}") from None
    finally:
        loader.dispose()
