"""JSON Schema (draft 2020-12) of a run configuration, for editors (``fitkit schema > fitkit.schema.json``).

Built from the same :class:`~fitkit.config.spec.OptionSpec` tables the validator uses, completed with the
registries as they are when it is called: job kinds (with each kind's declared option schema, or its
option names), model keys, loader formats and preprocessing steps with their options.  Plugins are
included only if they were loaded in this process.  The validator stays the authority: unit
compatibility, file existence, parameter names and ``expr`` constraints are not expressible here.

Use it in VS Code (YAML extension) with a first line ``# yaml-language-server: $schema=fitkit.schema.json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fitkit.config.kinds import job_kinds, kind_option_spec
from fitkit.config.schema import SCHEMA_VERSION
from fitkit.config.sections import JOB, MODEL_COMPONENT, TOP
from fitkit.config.spec import OptionSpec, to_json_schema
from fitkit.config.validate import step_fields
from fitkit.io import LOADERS
from fitkit.models import list_models
from fitkit.preprocess import STEPS

__all__ = ["json_schema"]


def _full(schema: dict[str, Any]) -> dict[str, Any]:
    """The full (non-shorthand, non-null) form inside an ``anyOf`` produced by :func:`to_json_schema`."""
    return _full(schema["anyOf"][-1]) if "anyOf" in schema else schema


def _names(names: list[str], open_registries: bool, *, nullable: bool = False) -> dict[str, Any]:
    """A registry name: an ``enum`` (closed) or ``examples`` (open); null allowed when ``nullable``."""
    out: dict[str, Any] = {"type": ["string", "null"] if nullable else "string"}
    if open_registries:
        out["examples"] = names
    else:
        out["enum"] = [*names, None] if nullable else names
    return out


def _step(name: str) -> dict[str, Any]:
    fields = {"step": OptionSpec("step", "string", required=True), **step_fields(STEPS[name])}
    schema = to_json_schema(OptionSpec(type="object", fields=fields))
    schema["properties"]["step"] = {"const": name}
    doc = (STEPS[name].__doc__ or "").strip().splitlines()
    if doc:
        schema["description"] = doc[0]
    return schema


def _kind_rule(name: str, kind: Any, default: bool) -> dict[str, Any]:
    cond: dict[str, Any] = {"properties": {"kind": {"const": name}}, "required": ["kind"]}
    if default:
        cond = {"anyOf": [cond, {"not": {"required": ["kind"]}}]}
    then: dict[str, Any] = {"properties": {}}
    required = []
    spec = kind_option_spec(kind)
    if spec is not None:
        options = to_json_schema(spec)
        options["properties"]["plot_against"] = to_json_schema(JOB["plot_against"])
        then["properties"]["options"] = options
    elif getattr(kind, "option_keys", None) is not None:
        then["properties"]["options"] = {
            "type": "object",
            "propertyNames": {"enum": [*kind.option_keys, "plot_against"]},
        }
    flags = (
        ("inputs", getattr(kind, "needs_inputs", True), getattr(kind, "needs_inputs", True)),
        (
            "model",
            getattr(kind, "needs_model", False),
            getattr(kind, "needs_model", False) or getattr(kind, "allows_model", False),
        ),
        ("from", getattr(kind, "needs_from", False), getattr(kind, "needs_from", False)),
    )
    for key, needed, allowed in flags:
        if needed:
            required.append(key)
        elif not allowed:
            then["properties"][key] = {"type": "null"}
    if required:
        then["required"] = required
    out: dict[str, Any] = {"if": cond, "then": then}
    if getattr(kind, "description", ""):
        out["description"] = f"kind '{name}': {kind.description}"
    return out


def json_schema(*, open_registries: bool = False, kinds: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The JSON Schema of ``schema_version: 1`` configurations.

    Parameters
    ----------
    open_registries
        False (default): model keys, formats and job kinds are ``enum`` s of what is registered now, so
        an editor flags typos.  True: they are only ``examples`` (for configs that use plugins).
    kinds
        ``name -> job kind`` (default: the registered kinds).

    Returns
    -------
    dict
        A JSON-serialisable schema.
    """
    kinds = dict(kinds) if kinds is not None else job_kinds()
    schema = to_json_schema(OptionSpec(type="object", fields=TOP))
    props = schema["properties"]
    props["schema_version"] = {"const": SCHEMA_VERSION, "description": "configuration schema version"}

    job = to_json_schema(OptionSpec(type="object", fields=JOB))
    jp = job["properties"]
    jp["kind"].update(_names(sorted(kinds), open_registries, nullable=True))
    _full(jp["inputs"])["properties"]["format"].update(
        _names(sorted(LOADERS), open_registries, nullable=True)
    )
    _full(jp["preprocess"])["items"] = {"oneOf": [{"$ref": f"#/$defs/step_{n}"} for n in sorted(STEPS)]}
    component = to_json_schema(OptionSpec(type="object", fields=MODEL_COMPONENT))
    component["properties"]["key"] = _names(list_models(), open_registries)
    jp["model"] = {
        "description": jp["model"].get("description", ""),
        "anyOf": [
            {"type": "null"},
            _names(list_models(), open_registries),
            {"$ref": "#/$defs/model_component"},
            {
                "type": "array",
                "minItems": 1,
                "items": {
                    "anyOf": [_names(list_models(), open_registries), {"$ref": "#/$defs/model_component"}]
                },
            },
        ],
    }
    job["allOf"] = [_kind_rule(n, k, n == "fit") for n, k in sorted(kinds.items())]
    _full(props["jobs"])["items"] = {"$ref": "#/$defs/job"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"fitkit run configuration (schema_version {SCHEMA_VERSION})",
        **schema,
        "$defs": {
            "job": job,
            "model_component": component,
            **{f"step_{n}": _step(n) for n in sorted(STEPS)},
        },
    }
