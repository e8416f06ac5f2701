"""The per-fit report folder: figure, parameter tables and a Markdown summary of one fit.

Layout (:func:`write_fit_report`)::

    <outdir>/<name>/            name = report_dirname(record): "<sample>__<model_key>"
        fit.png                 data + model (log-y for resistance), residual panel below
        parameters.csv          parameter_table(record): name, value, stderr, unit, vary,
                                at_bound, init, description (display units)
        parameters.json         write_json([record]): values, stderr, units, correlations,
                                statistics, warnings, provenance
        summary.md              short Markdown summary for a lab notebook

It sits above :mod:`fitkit.report.tables`, :mod:`fitkit.report.plots` and
:mod:`fitkit.report.writer` (which it uses), so none of them imports another upward.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from fitkit.fitting.record import FitRecord
from fitkit.models import MODEL_REGISTRY
from fitkit.report.plots import plot_fit
from fitkit.report.tables import parameter_table, records_to_json
from fitkit.report.writer import (
    atomic_write_csv,
    atomic_write_json,
    atomic_write_png,
    atomic_write_text,
    format_value_error,
    markdown_text,
    report_dirname,
)

__all__ = ["summary_markdown", "write_fit_report"]

log = logging.getLogger("fitkit")


def _model_notes(record: FitRecord) -> list[str]:
    notes: list[str] = []
    raw = record.meta.get("notes") if isinstance(record.meta, Mapping) else None
    if isinstance(raw, str):
        notes.append(raw)
    elif isinstance(raw, Iterable):
        notes.extend(str(n) for n in raw)
    for key in record.model_key.split("+"):
        cls = MODEL_REGISTRY.get(key)
        extra = getattr(cls, "report_notes", None) if cls is not None else None
        if isinstance(extra, str):
            extra = [extra]
        for n in extra or ():
            text = f"{key}: {n}" if "+" in record.model_key else str(n)
            if text not in notes:
                notes.append(text)
    return notes


def summary_markdown(record: FitRecord, *, display_units: Mapping[str, str] | None = None,
                     title: str | None = None, figure: str | None = "fit.png") -> str:
    """Return a short Markdown summary of one fit, for pasting into a lab notebook.

    Parameters
    ----------
    record
        The fit.
    display_units
        Display-unit overrides (see :func:`fitkit.report.tables.resolve_display_unit`).
    title
        Heading; defaults to ``"<sample> - <model_key>"``.
    figure
        Relative path of the figure to embed, or None.

    Returns
    -------
    str
        Markdown: provenance, outcome, parameter table (``0.231(4) meV``), derived quantities,
        reduced chi-square, warnings and model caveats.
    """
    sample = markdown_text(record.sample_id or (Path(record.source_path).stem if record.source_path else ""))
    heading = markdown_text(title) if title else f"{sample or 'fit'} - {record.model_key}"
    lines = [f"# {heading}", ""]
    status = {"ok": "ok", "suspect": "**SUSPECT**"}.get(record.verdict, "**FAILED**")
    chi2n = record.quality.get("chi2_noise")
    noise = str(record.quality.get("noise_method", ""))
    opts = ", ".join(f"{k}={v}" for k, v in sorted(record.options.items()))
    rows = [
        ("sample", sample or "-"),
        ("file", markdown_text(record.source_path) if record.source_path else "-"),
        ("model", f"`{record.model_key}`" + (f" ({opts})" if opts else "")),
        ("data", f"`{record.y_column}` vs `{record.x_column}`, {record.ndata} points, "
                 f"{record.nvarys} free parameters"),
        ("verdict", status + (": " + "; ".join(record.verdict_reasons) if record.verdict_reasons else "")),
        ("minimiser", ("converged" if record.success else "did not converge")
         + (f": {record.message}" if record.message else "")),
        ("chi^2/nu against the noise", f"{chi2n:.3g} (noise from {noise})"
         if isinstance(chi2n, float) and math.isfinite(chi2n) else "-"),
        ("reduced chi^2", f"{record.redchi:.4g}"),
        ("AIC / BIC", f"{record.aic:.5g} / {record.bic:.5g}"),
    ]
    lines += ["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows), ""]
    table = parameter_table(record, display_units=display_units)
    lines += ["## Parameters", "", "| parameter | value | | description |", "|---|---|---|---|"]
    row: Any  # pandas-stubs types itertuples() fields as a union of every scalar type
    for row in table.itertuples(index=False):
        value, stderr = float(row.value), float(row.stderr)
        val = format_value_error(value, stderr, str(row.unit))
        flag = ""
        if not row.vary and row.kind == "parameter":
            flag = "fixed" if math.isnan(stderr) else "constrained"
        if row.kind == "derived":
            flag = "derived"
        if row.at_bound:
            flag = (flag + ", " if flag else "") + "**at bound**"
        if row.interval not in ("", "linear") and row.kind == "parameter":
            lo, hi = float(row.lower), float(row.upper)
            span = (f"≤ {hi:.4g}" if "upper limit" in row.interval else f"≥ {lo:.4g}"
                    if "lower limit" in row.interval else f"[{lo:.4g}, {hi:.4g}]")
            flag = (flag + ", " if flag else "") + f"68 % {span} ({row.interval})"
        lines.append(f"| `{row.name}` | {val} | {flag} | {row.description} |")
    scaled = getattr(record.result, "scale_covar", None)
    widened = record.quality.get("error_scale", 1.0)
    lines += ["", "Errors are one-standard-deviation estimates from the fit covariance matrix"
              + (", scaled by sqrt(reduced chi^2)" if scaled else "")
              + (f", widened up to x{widened:.2g} for correlated residuals" if isinstance(widened, float)
                 and widened > 1.0 else "")
              + "; intervals marked profile/bootstrap replace them where the likelihood is not linear.", ""]
    lines += ["## Warnings", ""]
    lines += [f"- {w}" for w in record.warnings] or ["none"]
    notes = _model_notes(record)
    if notes:
        lines += ["", "## Model notes", "", *(f"- {n}" for n in notes)]
    if figure:
        lines += ["", f"![fit]({figure})"]
    return "\n".join(lines) + "\n"


def write_fit_report(record: FitRecord, sweep: Any, outdir: str | os.PathLike[str], *,
                     display_units: Mapping[str, str] | None = None, title: str | None = None,
                     name: str | None = None, dpi: int = 120) -> Path:
    """Write the report folder of one fit.

    Parameters
    ----------
    record
        The fit result.
    sweep
        The :class:`~fitkit.io.Sweep` that was fitted (for the figure); None writes no figure.
    outdir
        Parent folder; the report goes to ``outdir / name``.
    display_units
        Display-unit overrides (parameter name, unit token or quantity -> unit token).
    title
        Figure and summary title.
    name
        Folder name; defaults to :func:`report_dirname`.
    dpi
        Resolution of ``fit.png``.

    Returns
    -------
    Path
        The report folder, holding ``fit.png``, ``parameters.csv``, ``parameters.json`` and
        ``summary.md`` (see the module docstring).

    Raises
    ------
    OSError
        If a file cannot be written (each file is written atomically).
    fitkit.units.UnitError
        If a display unit does not match the quantity.
    """
    folder = Path(outdir) / (name or report_dirname(record))
    folder.mkdir(parents=True, exist_ok=True)
    figure = None
    if sweep is not None:
        fig = plot_fit(record, sweep, display_units=display_units)
        if title and isinstance(fig, Figure):
            fig.suptitle(title, parse_math=False)
        atomic_write_png(folder / "fit.png", fig, dpi=dpi)
        figure = "fit.png"
    atomic_write_csv(folder / "parameters.csv", parameter_table(record, display_units=display_units))
    atomic_write_json(folder / "parameters.json", records_to_json([record], display_units=display_units)[0])
    atomic_write_text(folder / "summary.md",
                      summary_markdown(record, display_units=display_units, title=title, figure=figure))
    log.info("wrote fit report %s", folder)
    return folder
