"""Command-line interface: ``fitkit fit | models | formats | validate | run``.

Each command parses its arguments, calls the library functions a notebook user would call
(:func:`fitkit.load`, :func:`fitkit.fit_curve`, :func:`fitkit.report.fit_report.write_fit_report`,
:func:`fitkit.config.load_config`, :func:`fitkit.pipeline.run`) and prints a summary.

Exit codes: 0 all fits succeeded; 1 the run completed but some fit failed; 2 usage, config or
data error before fitting (one line on stderr, no traceback); 3 an output file could not be
written.  See ``docs/cli.md``.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import inspect
import json
import logging
import re
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import click

from fitkit.errors import (
    ConfigError,
    DataValidationError,
    FitError,
    FitQualityWarning,
    LoaderError,
    UnknownModelError,
)
from fitkit.units import UnitError, to_si_factor

__all__ = ["EXIT_DATA", "EXIT_FAILED", "EXIT_OK", "EXIT_WRITE", "cli", "main"]

EXIT_OK, EXIT_FAILED, EXIT_DATA, EXIT_WRITE = 0, 1, 2, 3
_INPUT_ERRORS = (ConfigError, LoaderError, DataValidationError, UnknownModelError, UnitError,
                 FileNotFoundError)
log = logging.getLogger("fitkit")


def _fail(code: int, message: str) -> click.exceptions.Exit:
    click.echo(f"fitkit: error: {message}", err=True)
    return click.exceptions.Exit(code)


@contextlib.contextmanager
def _input_errors() -> Iterator[None]:
    """Map reading/config errors to exit code 2 with one line on stderr."""
    try:
        yield
    except _INPUT_ERRORS as err:
        raise _fail(EXIT_DATA, str(err).strip("'\"")) from None


@contextlib.contextmanager
def _write_errors() -> Iterator[None]:
    """Map OSError while writing outputs to exit code 3."""
    try:
        yield
    except OSError as err:
        raise _fail(EXIT_WRITE, f"cannot write output: {err}") from None


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    for h in [h for h in log.handlers if getattr(h, "_fitkit_cli", False)]:
        log.removeHandler(h)
    handler = logging.StreamHandler(sys.stderr)
    handler._fitkit_cli = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("fitkit: %(levelname)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(level)


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _parse_assignments(items: Sequence[str], what: str) -> dict[str, Any]:
    """``["units.V=mV", "kind=didv", 'columns={"V": "bias"}']`` -> nested dict (JSON values parsed)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"'{item}' is not KEY=VALUE", param_hint=what)
        *parents, leaf = key.split(".")
        node = out
        for p in parents:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise click.BadParameter(f"'{key}' mixes a value and a sub-key", param_hint=what)
        node[leaf] = _parse_value(value)
    return out


_QTY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-zµμΩ]*)\s*$")


def _parse_x_range(text: str | None, quantity: str | None) -> tuple[float | None, float | None] | None:
    """``"-2e-3:2e-3"``, ``"-2mV:2mV"``, ``"0.1:"`` -> SI bounds (None = open)."""
    if text is None:
        return None
    lo_s, sep, hi_s = text.partition(":")
    if not sep:
        raise click.BadParameter(f"'{text}' is not LO:HI", param_hint="--x-range")
    out: list[float | None] = []
    for part in (lo_s, hi_s):
        if not part.strip():
            out.append(None)
            continue
        m = _QTY.match(part)
        if not m:
            raise click.BadParameter(f"'{part}' is not a number with an optional unit",
                                     param_hint="--x-range")
        factor = 1.0
        if m.group(2):
            try:
                factor = to_si_factor(m.group(2), quantity)
            except UnitError as err:
                raise click.BadParameter(str(err), param_hint="--x-range") from None
        out.append(float(m.group(1)) * factor)
    return out[0], out[1]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="fitkit", prog_name="fitkit")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")
def cli(verbose: int, quiet: bool) -> None:
    """Fit superconducting R(T), tunnel and Andreev spectra with physical models."""
    import matplotlib

    matplotlib.use("Agg")
    _setup_logging(verbose, quiet)


@cli.command("fit")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("-m", "--model", "model_key", required=True, help="Model key (see `fitkit models`).")
@click.option("-f", "--format", "fmt", default=None,
              help="Loader key (see `fitkit formats`); guessed if omitted.")
@click.option("--option", "options", multiple=True, metavar="KEY=VALUE",
              help="Loader option; dotted keys nest (units.V=mV, columns.V=bias); values are JSON or text.")
@click.option("--model-option", "model_options", multiple=True, metavar="KEY=VALUE",
              help="Model option (e.g. prefactor=gz).")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="Start value of a parameter.")
@click.option("--fix", "fixed", multiple=True, metavar="NAME=VALUE", help="Fix a parameter at a value.")
@click.option("--x-range", default=None, metavar="LO:HI",
              help="Fit only LO <= x <= HI; SI or with a unit (-2mV:2mV, 0.1:); either side may be empty.")
@click.option("-x", "--x-column", default=None,
              help="x column (default from the model: bias_V, temperature_K).")
@click.option("-y", "--y-column", default=None,
              help="y column (default: first of resistance_ohm, dIdV_norm, dIdV_S).")
@click.option("--sweep", "sweep_index", type=int, default=None,
              help="Fit only sweep N of a multi-sweep file.")
@click.option("--display-unit", "display", multiple=True, metavar="KEY=UNIT",
              help="Display unit for a parameter, unit or quantity (delta=ueV, resistance=kohm).")
@click.option("--title", default=None, help="Title of the figure and summary.")
@click.option("-o", "--outdir", type=click.Path(path_type=Path), default=Path("fitkit-results"),
              show_default=True, help="Parent folder of the report folder.")
def fit_cmd(file: Path, model_key: str, fmt: str | None, options: tuple[str, ...],
            model_options: tuple[str, ...], params: tuple[str, ...], fixed: tuple[str, ...],
            x_range: str | None, x_column: str | None,
            y_column: str | None, sweep_index: int | None, display: tuple[str, ...], title: str | None,
            outdir: Path) -> None:
    """Fit one data FILE with one model and write a report folder per sweep."""
    from fitkit import fit_curve, get_model, load
    from fitkit.report.fit_report import write_fit_report
    from fitkit.report.tables import parameter_table
    from fitkit.report.writer import format_value_error, report_dirname

    loader_opts = _parse_assignments(options, "--option")
    overrides: dict[str, Any] = dict(_parse_assignments(params, "--param"))
    overrides.update({k: {"value": v, "vary": False} for k, v in _parse_assignments(fixed, "--fix").items()})
    display_units = {k: str(v) for k, v in _parse_assignments(display, "--display-unit").items()}
    with _input_errors():
        cls = get_model(model_key)
        model = cls(**_parse_assignments(model_options, "--model-option"))
        bounds = _parse_x_range(x_range, {"V": "voltage", "K": "temperature"}.get(cls.x_unit))
        data = load(file, format=fmt, **loader_opts)
        sweeps = data if isinstance(data, list) else [data]
        if sweep_index is not None:
            if not 0 <= sweep_index < len(sweeps):
                raise DataValidationError(f"{file}: --sweep {sweep_index} out of range; the file has "
                                          f"{len(sweeps)} sweep(s)")
            sweeps = [sweeps[sweep_index]]
    n_failed = 0
    for i, sweep in enumerate(sweeps):
        with _input_errors(), warnings.catch_warnings():
            warnings.simplefilter("ignore", FitQualityWarning)  # they are in record.warnings
            try:
                record = fit_curve(sweep, model, overrides or None, x=x_column, y=y_column, x_range=bounds)
            except FitError as err:
                n_failed += 1
                click.echo(f"fitkit: fit failed: {err}", err=True)
                continue
        name = report_dirname(record) + (f"__{i if sweep_index is None else sweep_index:03d}"
                                          if len(sweeps) > 1 or sweep_index is not None else "")
        with _write_errors(), _input_errors():
            folder = write_fit_report(record, sweep, outdir, display_units=display_units or None,
                                      title=title, name=name)
        n_failed += record.verdict == "failed"
        chi2n = record.quality.get("chi2_noise")
        fit_q = (f"chi^2/nu = {chi2n:.3g} against the noise measured from the data"
                 if isinstance(chi2n, float) and chi2n == chi2n else f"reduced chi^2 = {record.redchi:.4g}")
        click.echo(f"{record.sample_id or file.name}: model {record.model_key}: "
                   f"{record.verdict.upper() if record.verdict != 'ok' else 'ok'}, {fit_q}")
        for reason in record.verdict_reasons:
            click.echo(f"  {record.verdict.upper()}: {reason}")
        row: Any  # pandas-stubs types itertuples() fields as a union of every scalar type
        for row in parameter_table(record, display_units or None).itertuples(index=False):
            val = format_value_error(row.value, row.stderr, row.unit)
            is_fixed = not row.vary and row.kind == "parameter" and row.stderr != row.stderr  # NaN: fixed
            extra = ""
            if row.interval == "profile" or row.interval.startswith(("profile,", "bootstrap")):
                lo, hi = f"{row.lower:.4g}", f"{row.upper:.4g}"
                span = (f"<= {hi}" if "upper limit" in row.interval else f">= {lo}"
                        if "lower limit" in row.interval else f"[{lo}, {hi}]")
                extra = f"  68 % interval {span} ({row.interval})"
            click.echo(f"  {row.name:<16} {val}{'  (fixed)' if is_fixed else ''}{extra}")
        for w in record.warnings:
            if w not in record.verdict_reasons:
                click.echo(f"  note: {w}")
        click.echo(f"  report: {folder}")
    raise click.exceptions.Exit(EXIT_FAILED if n_failed else EXIT_OK)


def _fmt_num(v: float) -> str:
    return f"{v:g}"


@cli.command("models")
@click.argument("key", required=False)
def models_cmd(key: str | None) -> None:
    """List the models, or show the parameter table and options of model KEY."""
    from fitkit.models import DATA_UNIT, MODEL_REGISTRY, get_model

    def unit(u: str) -> str:
        return "data" if u == DATA_UNIT else u

    if key is None:
        for k in sorted(MODEL_REGISTRY):
            cls = MODEL_REGISTRY[k]
            doc = (inspect.getdoc(cls) or "").splitlines()
            first = doc[0] if doc else ""
            click.echo(f"{k:<22} {cls.x_name} [{cls.x_unit}] -> [{unit(cls.y_unit)}]  {first}")
        return
    with _input_errors():
        cls = get_model(key)
    doc = (inspect.getdoc(cls) or "").splitlines()
    click.echo(f"{key}: {doc[0] if doc else cls.__name__}")
    click.echo(f"x: {cls.x_name} [{cls.x_unit}]   y: [{unit(cls.y_unit)}]   "
               "(unit 'data': the unit of the fitted column)\n")
    rows = [("name", "unit", "default", "min", "max", "vary", "description")]
    rows += [(s.name, unit(s.unit), _fmt_num(s.value), _fmt_num(s.min), _fmt_num(s.max),
              "yes" if s.vary else "no", s.description) for s in cls.param_specs]
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    for r in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r[:6], widths, strict=True)) + "  " + r[6])
    if cls.option_choices:
        sig = inspect.signature(cls.model_function)
        click.echo("\noptions:")
        for name, choices in cls.option_choices.items():
            default = sig.parameters[name].default if name in sig.parameters else None
            click.echo(f"  {name} = {default!r}  (choices: {', '.join(map(repr, choices)) or 'any'})")
    notes = getattr(cls, "report_notes", None)
    if notes:
        click.echo("\nnotes:")
        for n in [notes] if isinstance(notes, str) else notes:
            click.echo(f"  - {n}")


@cli.command("formats")
def formats_cmd() -> None:
    """List the file formats (loaders) with description, extensions and options."""
    from fitkit.io import LOADERS, list_formats, loader_options

    for key in list_formats():
        cls = LOADERS[key]
        click.echo(f"{key}: {cls.description}")
        click.echo(f"  extensions: {', '.join(cls.extensions) or '-'}")
        opts = loader_options(key)
        click.echo("  options: " + (", ".join(f"{k}={v!r}" for k, v in opts.items()) or "-"))


@cli.command("validate")
@click.argument("config", type=click.Path(path_type=Path))
def validate_cmd(config: Path) -> None:
    """Validate a YAML run CONFIG without fitting (files, formats, models, parameters)."""
    from fitkit.config import load_config

    with _input_errors():
        cfg = load_config(config)
    jobs = getattr(cfg, "jobs", None)
    click.echo(f"{config}: OK" + (f" ({len(jobs)} job(s))" if jobs is not None else ""))


@cli.command("schema")
@click.option("--open", "open_registries", is_flag=True,
              help="Registry names (models, formats, kinds) as suggestions, not a closed list (for plugins).")
def schema_cmd(open_registries: bool) -> None:
    """Print the JSON Schema of run configurations (for editors: fitkit schema > fitkit.schema.json)."""
    from fitkit.config import json_schema

    click.echo(json.dumps(json_schema(open_registries=open_registries), indent=2))


@cli.command("run")
@click.argument("config", type=click.Path(path_type=Path))
@click.option("-o", "--outdir", type=click.Path(path_type=Path), default=None,
              help="Run folder [default: fitkit-results/<config file stem>].")
@click.option("--resume", is_flag=True, help="Skip fits whose results already exist in OUTDIR.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Number of worker processes.")
@click.option("--scheduler", default=None, metavar="ADDRESS", help="dask.distributed scheduler address.")
@click.option("--fail-fast", is_flag=True, help="Stop at the first failed fit (re-raises it).")
def run_cmd(config: Path, outdir: Path | None, resume: bool, workers: int | None, scheduler: str | None,
            fail_fast: bool) -> None:
    """Run all fits of a YAML run CONFIG and write tables, plots and run.json."""
    from fitkit.config import load_config
    from fitkit.pipeline import run

    with _input_errors():
        cfg = load_config(config)
    if outdir is None:
        outdir = Path("fitkit-results") / config.stem
    started = _dt.datetime.now(_dt.UTC)
    quiet = log.getEffectiveLevel() >= logging.ERROR
    try:
        with _write_errors(), _input_errors():
            summary = run(cfg, outdir, resume=resume, workers=workers, scheduler=scheduler,
                          fail_fast=fail_fast, progress=not quiet)
    except FitError as err:
        raise _fail(EXIT_FAILED, str(err)) from None
    secs = (_dt.datetime.now(_dt.UTC) - started).total_seconds()
    for s in summary.suspects:
        click.echo(f"SUSPECT {s.job}/{s.item_id}: {s.message}", err=True)
    for f in summary.failures:
        click.echo(f"FAILED  {f.job}/{f.item_id}: {f.message}", err=True)
    click.echo(f"{summary.n_ok} fit(s) ok, {summary.n_suspect} suspect, {summary.n_failed} failed in "
               f"{secs:.1f} s; results in {summary.outdir}")
    raise click.exceptions.Exit(EXIT_FAILED if summary.n_failed else EXIT_OK)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``) and return the exit code.

    Parameters
    ----------
    argv
        Arguments without the program name.

    Returns
    -------
    int
        0 ok, 1 some fit failed, 2 usage/config/data error, 3 output write failed.
    """
    try:
        args = list(argv) if argv is not None else None
        rv = cli.main(args=args, prog_name="fitkit", standalone_mode=False)
    except click.ClickException as err:
        err.show()
        return err.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted!", err=True)
        return EXIT_FAILED
    return rv if isinstance(rv, int) else EXIT_OK
