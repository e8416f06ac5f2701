"""The run report: ``results.csv`` / ``.json`` / ``.h5``, the parameter plots and ``index.html``.

:func:`write_run_report` writes the files of a finished pipeline run from its records; the job
kinds' own report sections (series figures, join tables) come in as HTML fragments, so this module
knows nothing of the pipeline or the configuration classes (``cfg`` is read by attribute).
Layout of the run folder: ``docs/config.md``.
"""

from __future__ import annotations

import dataclasses
import html
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from fitkit.fitting.record import FitRecord
from fitkit.report.plots import plot_parameter_vs
from fitkit.report.series import annotate_points, figure_tag, format_quantity, plot_values_by_item
from fitkit.report.tables import records_to_frame, records_to_json, write_hdf5
from fitkit.report.writer import (
    atomic_write_csv,
    atomic_write_json,
    atomic_write_png,
    atomic_write_text,
    safe_id,
)

__all__ = ["MAX_PLOT_POINTS", "results_frame", "write_run_report"]

MAX_PLOT_POINTS = 200
"""Jobs with more records than this get no per-item plots and a truncated summary table (grids)."""


def results_frame(
    records: Sequence[FitRecord], display_units: Mapping[str, str], samples: Sequence[Any]
) -> pd.DataFrame:
    """The run's results table: ``job``, ``item_id``, the record columns
    (:func:`fitkit.report.tables.records_to_frame`), ``sweep_index`` and ``sample_<column>`` of the
    sample table (``samples``: rows with ``id``, ``values``, ``text``)."""
    frame = records_to_frame(records, display_units=dict(display_units))
    ids = pd.DataFrame({"job": [r.meta.get("job", "") for r in records],
                        "item_id": [r.meta.get("item_id", "") for r in records]}, index=frame.index)
    frame = pd.concat([ids, frame], axis=1)
    if any("sweep_index" in r.meta for r in records):
        frame["sweep_index"] = [r.meta.get("sweep_index", math.nan) for r in records]
    if samples:
        extra = pd.DataFrame(
            [
                {
                    "sample_id": s.id,
                    **{f"sample_{k}": v for k, v in s.values.items()},
                    **{f"sample_{k}": v for k, v in s.text.items()},
                }
                for s in samples
            ]
        )
        frame = frame.merge(extra, on="sample_id", how="left")
    return frame


def _parameter_plots(frame: Any, records: Sequence[FitRecord], outdir: Path) -> list[tuple[str, str, str]]:
    """One PNG per job and fitted quantity: value +- stderr against the item (sample) order.

    Returns ``(job, title, relative path)`` triples.
    """
    out = []
    for job in dict.fromkeys(frame["job"]):
        sub = frame[(frame["job"] == job) & (frame["success"].astype(bool))]
        if len(sub) < 2 or len(sub) > MAX_PLOT_POINTS:
            continue
        for col in _quantity_columns(sub, records, job):
            labels = [str(s or i) for s, i in zip(sub["sample_id"], sub["item_id"], strict=True)]
            fig = plot_values_by_item(
                labels,
                sub[col].to_numpy(float),
                sub[f"{col}_stderr"].to_numpy(float),
                ylabel=col,
                title=f"{job}: {col}",
            )
            name = f"plots/{safe_id(job)}__{safe_id(col)}.png"
            atomic_write_png(outdir / name, fig, dpi=100)
            out.append((str(job), f"{job}: {col}", name))
    return out


def _quantity_columns(sub: Any, records: Sequence[FitRecord], job: str) -> list[str]:
    """Value columns (with a ``_stderr`` column) of a job's varied parameters and derived quantities."""
    recs = [r for r in records if r.meta.get("job") == job and r.success]
    if not recs:
        return []
    names = list(dict.fromkeys(n for r in recs for n in r.values if r.vary.get(n)))
    names += list(dict.fromkeys(n for r in recs for n in r.derived))
    cols = []
    for col in sub.columns:
        if col.endswith("_stderr") or f"{col}_stderr" not in sub.columns or sub[col].isna().all():
            continue
        if sub[f"{col}_stderr"].isna().all():  # counts and fixed inputs: nothing was estimated
            continue
        if any(col == n or col.startswith(f"{n}_") for n in names):
            cols.append(col)
    return cols


def _against_plots(
    frame: Any, records: Sequence[FitRecord], cfg: Any, against: Mapping[str, Sequence[str]], outdir: Path
) -> list[tuple[str, str, str]]:
    """Each fitted quantity of a job against the sample variables of ``plot_against``.

    ``against`` maps a job name to the sample-table columns named by its ``plot_against``.
    Uses :func:`fitkit.report.plots.plot_parameter_vs` (error bars from the ``_stderr`` column);
    writes ``plots/<job>__<quantity>__vs__<variable>.png``; returns ``(job, title, path)``.
    """
    out: list[tuple[str, str, str]] = []
    if not cfg.samples:
        return out
    for job in cfg.jobs:
        cols = against.get(job.name) or []
        if not cols:
            continue
        sub = frame[(frame["job"] == job.name) & (frame["success"].astype(bool))]
        if len(sub) < 2 or len(sub) > MAX_PLOT_POINTS:
            continue
        for col in cols:
            if f"sample_{col}" not in sub.columns:
                continue
            xs = sub[f"sample_{col}"]
            rows = sub[xs.notna()]
            if len(rows) < 2:
                continue
            for qcol in _quantity_columns(rows, records, job.name):
                data = rows[[qcol, f"{qcol}_stderr", f"sample_{col}"]].rename(columns={f"sample_{col}": col})
                if col == qcol:
                    continue
                fig: Any = plot_parameter_vs(data, col, qcol)
                ax = fig.axes[0]
                ax.set_title(f"{job.name}: {qcol} vs {col}", fontsize="medium")
                ids = [str(s) for s in rows["sample_id"]]
                annotate_points(ax, data[col], data[qcol], ids, (3, 3))
                rel = f"plots/{safe_id(job.name)}__{safe_id(qcol)}__vs__{safe_id(col)}.png"
                atomic_write_png(outdir / rel, fig, dpi=100)
                out.append((job.name, f"{job.name}: {qcol} vs {col}", rel))
    return out


def write_run_report(
    outdir: Path,
    cfg: Any,
    records: Sequence[FitRecord],
    summary: Mapping[str, Any],
    *,
    sections: Mapping[str, str] | None = None,
    against: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """Write ``results.csv``/``.json``/``.h5``, the report plots and ``index.html`` of a finished run.

    Parameters
    ----------
    outdir
        The run folder.
    cfg
        The run configuration (read: ``name``, ``jobs`` (``name``, ``kind``, ``depends_on``),
        ``samples``, ``report`` (``formats``, ``display_units``, ``plots``)).
    records
        All records of the run.
    summary
        ``n_ok``, ``n_failed``, ``n_items``, ``n_resumed``.
    sections
        Job name -> the HTML of that job's own report section (series figures, tables).
    against
        Job name -> sample-table columns to plot each fitted quantity against (``plot_against``).

    Raises
    ------
    OSError
        If a file cannot be written.
    """
    formats = set(cfg.report.formats)
    disp = dict(cfg.report.display_units)
    frame = results_frame(records, disp, cfg.samples)
    if "csv" in formats:
        atomic_write_csv(outdir / "results.csv", frame)
    if "json" in formats:
        recs = records_to_json(records, display_units=disp)
        for doc, r in zip(recs, records, strict=True):
            doc.setdefault("job", r.meta.get("job", ""))
            doc.setdefault("item_id", r.meta.get("item_id", ""))
        atomic_write_json(
            outdir / "results.json",
            {"format": "fitkit-records", "version": 1, "run": cfg.name, "records": recs},
            indent=1,
        )
    if "hdf5" in formats:
        write_hdf5(outdir / "results.h5", [dataclasses.replace(r, result=None) for r in records])
    if "html" in formats:
        plots: list[tuple[str, str, str]] = []
        if cfg.report.plots and len(frame):
            plots = _parameter_plots(frame, records, outdir)
            plots += _against_plots(frame, records, cfg, against or {}, outdir)
        atomic_write_text(
            outdir / "index.html", _index_html(outdir, cfg, records, summary, plots, sections or {}, formats)
        )


_CSS = (
    "body{font-family:sans-serif;margin:1.5em;max-width:1400px}"
    "table{border-collapse:collapse;font-size:12px;margin:0.5em 0}"
    "td,th{border:1px solid #ccc;padding:2px 6px;vertical-align:top}th{background:#f3f3f3}"
    ".failed{background:#fdd}.suspect{background:#ffe9c7}.ok{color:#070}.warn{color:#a60;font-weight:bold}"
    ".bad{color:#a00;font-weight:bold}"
    "img{max-width:480px;margin:4px}img.thumb{max-width:160px;margin:0}"
    "figure{display:inline-block;margin:4px}figcaption{font-size:11px;max-width:480px}"
    "h2{border-bottom:1px solid #ccc;margin-top:1.5em}.muted{color:#777;font-size:11px}"
)


def _fit_figure(outdir: Path, rec: FitRecord) -> Path | None:
    """The per-fit folder (with ``fit.png``) of a record, if it was written."""
    job, item = str(rec.meta.get("job", "")), str(rec.meta.get("item_id", ""))
    base = outdir / "fits" / job / item
    cands = [base]
    if isinstance(rec.meta.get("sweep_index"), int):
        cands.insert(0, base / f"{rec.meta['sweep_index']:04d}")
    for c in cands:
        if (c / "fit.png").is_file():
            return c
    return None


def _key_quantities(records: Sequence[FitRecord]) -> list[tuple[str, str]]:
    """(name, kind) of the varied parameters and derived quantities, in first-seen order."""
    seen: dict[str, str] = {}
    for r in records:
        if not r.success:
            continue
        for n in r.values:
            if r.vary.get(n):
                seen.setdefault(n, "value")
        for n in r.derived:
            if math.isfinite(r.derived_stderr.get(n, math.nan)):  # not counts or fixed inputs
                seen.setdefault(n, "derived")
    return list(seen.items())


def _value_text(rec: FitRecord, name: str, disp: Mapping[str, str]) -> str:
    if name in rec.values:
        v, err, unit = rec.values[name], rec.stderr.get(name, math.nan), rec.units.get(name, "")
    elif name in rec.derived:
        v, unit = rec.derived[name], rec.derived_units.get(name, "")
        err = rec.derived_stderr.get(name, math.nan)
    else:
        return ""
    return format_quantity(v, err, unit, disp, name)


def _job_table(outdir: Path, job: Any, recs: Sequence[FitRecord], disp: Mapping[str, str]) -> list[str]:
    e = html.escape
    qty = _key_quantities(recs)
    extra = [k for k in ("regime",) if any(k in r.meta for r in recs)]
    head = ["item", "sample", "verdict", *[n for n, _ in qty], *extra, "χ²/ν (noise)", "reasons and notes",
            "fit"]
    parts = ["<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>"]
    shown = recs[:MAX_PLOT_POINTS]
    for r in shown:
        item = str(r.meta.get("item_id", ""))
        if "sweep_index" in r.meta:
            item += f" #{r.meta['sweep_index']}"
        cells = [e(item), e(r.sample_id)]
        vcls = {"ok": "ok", "suspect": "warn", "failed": "bad"}.get(r.verdict, "bad")
        cells.append(f"<span class='{vcls}'>{e(r.verdict)}</span>")
        cells += [e(_value_text(r, n, disp)) if r.success else "" for n, _ in qty]
        cells += [e(str(r.meta.get(k, ""))) for k in extra]
        chi2n = r.quality.get("chi2_noise")
        cells.append(f"{chi2n:.3g}" if isinstance(chi2n, float) and math.isfinite(chi2n) else "")
        warn = "; ".join(r.warnings) if r.success else r.message
        cells.append(f"<span class='muted'>{e(warn)}</span>")
        folder = _fit_figure(outdir, r)
        if folder is not None:
            rel = folder.relative_to(outdir).as_posix()
            cells.append(
                f"<a href='{e(rel)}/fit.png'><img class='thumb' src='{e(rel)}/fit.png' alt='fit'></a>"
                f"<br><a href='{e(rel)}/'>folder</a> · <a href='{e(rel)}/summary.md'>summary</a>"
            )
        else:
            cells.append("")
        cls = {"ok": "", "suspect": " class='suspect'"}.get(r.verdict, " class='failed'")
        parts.append(f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    parts.append("</table>")
    if len(recs) > len(shown):
        parts.append(f"<p class='muted'>{len(recs) - len(shown)} more records in results.csv.</p>")
    return parts


def _figures(items: Sequence[tuple[str, str]]) -> list[str]:
    return [figure_tag(p, t, alt=t) for t, p in items]


def _maps_html(outdir: Path) -> list[str]:
    """Everything under ``maps/<job>/``: PNGs inline, other files (``maps.h5``) as links."""
    e = html.escape
    root = outdir / "maps"
    if not root.is_dir():
        return []
    parts = ["<h2 id='maps'>Maps</h2>"]
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        files = sorted(f for f in folder.rglob("*") if f.is_file() and not f.name.startswith("."))
        if not files:
            continue
        parts.append(f"<h3>{e(folder.name)}</h3>")
        pngs = [f for f in files if f.suffix.lower() == ".png"]
        others = [f for f in files if f.suffix.lower() != ".png"]
        if others:
            links = ", ".join(
                f"<a href='{e(f.relative_to(outdir).as_posix())}'>{e(f.relative_to(folder).as_posix())}</a>"
                for f in others
            )
            parts.append(f"<p>Files: {links}</p>")
        parts += _figures(
            [(f.relative_to(folder).as_posix(), f.relative_to(outdir).as_posix()) for f in pngs]
        )
    return parts if len(parts) > 1 else []


def _index_html(
    outdir: Path,
    cfg: Any,
    records: Sequence[FitRecord],
    summary: Mapping[str, Any],
    plots: list[tuple[str, str, str]],
    sections: Mapping[str, str],
    formats: set[str] | None = None,
) -> str:
    e = html.escape
    disp = dict(cfg.report.display_units)
    formats = set(cfg.report.formats) if formats is None else formats
    files = [("results.csv", "csv"), ("results.json", "json"), ("results.h5", "hdf5")]
    links = [f"<a href='{n}'>{n}</a>" for n, f in files if f in formats] + ["<a href='run.json'>run.json</a>"]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>fitkit run {e(cfg.name)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>fitkit run: {e(cfg.name)}</h1>",
        f"<p>{summary.get('n_ok', 0)} records ok, {summary.get('n_suspect', 0)} suspect, "
        f"{summary.get('n_failed', 0)} failed (see <a href='#failures'>verdicts</a>); "
        f"{summary.get('n_items', 0)} items ({summary.get('n_resumed', 0)} reused from an earlier run). "
        f"Files: {', '.join(links)}.</p>",
        "<h2>Jobs</h2><table><tr><th>job</th><th>kind</th><th>from</th><th>records</th><th>ok</th>"
        "<th>suspect</th><th>failed</th></tr>",
    ]
    for job in cfg.jobs:
        rs = [r for r in records if r.meta.get("job") == job.name]
        nok = sum(r.verdict == "ok" for r in rs)
        nsus = sum(r.verdict == "suspect" for r in rs)
        parts.append(
            f"<tr><td><a href='#job-{e(job.name)}'>{e(job.name)}</a></td><td>{e(job.kind)}</td>"
            f"<td>{e(', '.join(job.depends_on))}</td><td>{len(rs)}</td><td>{nok}</td>"
            f"<td>{nsus}</td><td>{len(rs) - nok - nsus}</td></tr>"
        )
    parts.append("</table>")
    failed = [r for r in records if r.verdict != "ok"]
    if failed:
        parts.append(
            "<h2 id='failures'>Suspect and failed fits</h2><table><tr><th>verdict</th><th>job</th>"
            "<th>item</th><th>sample</th><th>source</th><th>reasons</th></tr>"
        )
        for r in sorted(failed, key=lambda r: r.verdict != "failed")[:MAX_PLOT_POINTS]:
            why = r.message if not r.success else "; ".join(r.verdict_reasons)
            parts.append(
                f"<tr class='{'failed' if r.verdict == 'failed' else 'suspect'}'><td>{e(r.verdict)}</td>"
                f"<td>{e(str(r.meta.get('job', '')))}</td>"
                f"<td>{e(str(r.meta.get('item_id', '')))}</td><td>{e(r.sample_id)}</td>"
                f"<td>{e(r.source_path)}</td>"
                f"<td>{e(why)}</td></tr>"
            )
        parts.append("</table>")
        if len(failed) > MAX_PLOT_POINTS:
            n_more = len(failed) - MAX_PLOT_POINTS
            parts.append(f"<p class='muted'>{n_more} more failures in results.csv.</p>")
    for job in cfg.jobs:
        rs = [r for r in records if r.meta.get("job") == job.name]
        parts.append(
            f"<h2 id='job-{e(job.name)}'>{e(job.name)} <span class='muted'>({e(job.kind)})</span></h2>"
        )
        if not rs:
            parts.append("<p class='muted'>no records</p>")
            continue
        parts += _job_table(outdir, job, rs, disp)
        if job.name in sections:
            parts.append(f"<h3>Series: {e(job.name)}</h3>")
            parts.append(sections[job.name])
        against = [(t, p) for j, t, p in plots if j == job.name and "__vs__" in p]
        if against:
            parts.append("<h3>Parameters vs sample variables</h3>")
            parts += _figures(against)
        order = [(t, p) for j, t, p in plots if j == job.name and "__vs__" not in p]
        if order:
            parts.append("<h3>Parameters across items</h3>")
            parts += _figures(order)
    parts += _maps_html(outdir)
    parts.append("</body></html>\n")
    return "\n".join(parts)
