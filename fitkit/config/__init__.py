"""YAML run configuration: parsed once into frozen, validated objects (:class:`RunConfig`).

The schema (``schema_version: 1``) is documented in ``docs/config.md``.  Everything is checked
in one pass and **all** problems are reported together, each with its key path::

    ConfigError: configs/run.yaml: 2 problems
      - jobs[2].params.delta.unit: 'mV' is not an energy unit; expected one of ['eV', 'meV', 'ueV']
      - jobs[0].inputs.files[1]: 'data/W9.csv' does not exist (relative to /home/me/configs)

Layout of the package (it imports the lower layers, never :mod:`fitkit.pipeline`):

``schema``
    The typed schema: frozen dataclasses (:class:`RunConfig`, :class:`JobConfig`, ...).
``spec``
    :class:`OptionSpec`, the declarative check language (types, ranges, choices, shorthands) and its
    JSON Schema form; job kinds declare their options with it.
``sections``
    The configuration's own sections as OptionSpec tables.
``reader``
    Bounded YAML reading (size, nesting depth, alias expansion, UTF-8).
``samples``
    The sample table.
``kinds``
    How the validator finds job kinds (entry-point group ``fitkit.job_kinds``) and checks a kind's
    declared options.
``validate``
    The registry-aware validator (:func:`load_config`, :func:`validate_config`).
``export``
    :func:`json_schema` for editors.
``plugins``
    :func:`load_plugins`.
"""

from __future__ import annotations

from fitkit.config.export import json_schema
from fitkit.config.kinds import job_kinds, option_values
from fitkit.config.plugins import load_plugins
from fitkit.config.samples import sample_column
from fitkit.config.schema import (
    REPORT_FORMATS,
    SCHEMA_VERSION,
    FrozenDict,
    InputFile,
    InputsConfig,
    JobConfig,
    ModelComponent,
    ModelConfig,
    ParamOverride,
    ReportConfig,
    RunConfig,
    Sample,
)
from fitkit.config.spec import OptionSpec
from fitkit.config.validate import load_config, validate_config

__all__ = [
    "REPORT_FORMATS",
    "SCHEMA_VERSION",
    "FrozenDict",
    "InputFile",
    "InputsConfig",
    "JobConfig",
    "ModelComponent",
    "ModelConfig",
    "OptionSpec",
    "ParamOverride",
    "ReportConfig",
    "RunConfig",
    "Sample",
    "job_kinds",
    "json_schema",
    "load_config",
    "load_plugins",
    "option_values",
    "sample_column",
    "validate_config",
]
