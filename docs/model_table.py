"""Print the README's model table from the model registry.

Usage: ``python docs/model_table.py``.  ``tests/test_readme.py`` checks that README.md contains
exactly this table, so the README cannot drift from the registry.
"""

from __future__ import annotations

from fitkit.models import MODEL_REGISTRY


def model_table() -> str:
    """Markdown table: key, one-line physics, parameters with units."""
    lines = ["| key | physics | parameters (unit) |", "|---|---|---|"]
    for key in sorted(MODEL_REGISTRY):
        cls = MODEL_REGISTRY[key]
        first = (cls.__doc__ or "").strip().splitlines()[0].rstrip(".")
        first = first.replace(":math:", "").replace("`", "").replace("|", "/")
        params = ", ".join(
            f"`{s.name}` ({'data' if s.unit == 'y' else s.unit})" for s in cls.param_specs
        )
        lines.append(f"| `{key}` | {first} | {params} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(model_table())
