"""Run-folder output of the pipeline: item files, per-fit folders, tables, index.html, run.json.

The file formats and the atomic writes belong to :mod:`fitkit.report` (tables, plots, writer);
this module only decides *where* things go in a run folder.  Layout: see ``docs/config.md``.
"""

from __future__ import annotations

import dataclasses
import html
import json
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fitkit.fitting.record import FitRecord
from fitkit.report.writer import (
    atomic_write_csv,
    atomic_write_json,
    atomic_write_png,
    atomic_write_text,
    write_fit_report,
)

__all__ = ["figure_tag", "read_item", "write_fit_folder", "write_run_report"]

log = logging.getLogger("fitkit")


def read_item(path: Path) -> dict[str, Any] | None:
    """Parse an item file; None when it is missing, partial or not an item result."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("records"), list):
        return None
    return doc


def write_fit_folder(
    record: FitRecord, sweep: Any, folder: Path, display_units: Mapping[str, str] | None = None
) -> None:
    """Write the per-fit report folder (figure, parameter tables, summary) of one record.

    Uses :func:`fitkit.report.writer.write_fit_report`; a failure to draw or write is logged
    and recorded in ``folder/error.txt``, it never fails the fit.
    """
    try:
        write_fit_report(
            record,
            sweep if record.success else None,
            folder.parent,
            display_units=dict(display_units or {}),
            name=folder.name,
        )
    except Exception as err:  # a report problem must never lose the fit result
        log.error("could not write the fit report in %s: %s: %s", folder, type(err).__name__, err)
        atomic_write_text(folder / "error.txt", f"{type(err).__name__}: {err}\n")


def _frame(records: Sequence[FitRecord], display_units: Mapping[str, str], samples: Sequence[Any]) -> Any:
    import pandas as pd

    try:
        from fitkit.report.tables import records_to_frame

        frame = records_to_frame(records, display_units=dict(display_units))
    except ImportError:
        rows = []
        for r in records:
            row = {
                "sample_id": r.sample_id,
                "model_key": r.model_key,
                "source": r.source_path,
                "success": r.success,
                "redchi": r.redchi,
                "message": r.message,
            }
            for n, v in {**r.values, **r.derived}.items():
                u = r.units.get(n, r.derived_units.get(n, ""))
                col = f"{n}_{u}" if u and u != "1" and not n.endswith(f"_{u}") else n
                row[col] = v
                row[f"{col}_stderr"] = r.error(n)
            rows.append(row)
        frame = pd.DataFrame(rows)
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


MAX_PLOT_POINTS = 200
"""Jobs with more records than this get no per-item plots and a truncated summary table (grids)."""


def _parameter_plots(frame: Any, records: Sequence[FitRecord], outdir: Path) -> list[tuple[str, str, str]]:
    """One PNG per job and fitted quantity: value +- stderr against the item (sample) order.

    Returns ``(job, title, relative path)`` triples.
    """
    from matplotlib.figure import Figure

    out = []
    for job in dict.fromkeys(frame["job"]):
        sub = frame[(frame["job"] == job) & (frame["success"].astype(bool))]
        if len(sub) < 2 or len(sub) > MAX_PLOT_POINTS:
            continue
        for col in _quantity_columns(sub, records, job):
            fig = Figure(figsize=(max(4.0, 0.35 * len(sub) + 2), 3.2))
            ax = fig.add_subplot()
            labels = [str(s or i) for s, i in zip(sub["sample_id"], sub["item_id"], strict=True)]
            ax.errorbar(
                range(len(sub)),
                sub[col].to_numpy(float),
                yerr=sub[f"{col}_stderr"].to_numpy(float),
                fmt="o",
                capsize=3,
            )
            ax.set_xticks(range(len(sub)), labels, rotation=60, ha="right", fontsize=7)
            ax.set_ylabel(col)
            ax.set_title(f"{job}: {col}")
            fig.tight_layout()
            name = f"plots/{safe_name(job)}__{safe_name(col)}.png"
            atomic_write_png(outdir / name, fig, dpi=100)
            out.append((str(job), f"{job}: {col}", name))
    return out


def safe_name(text: str) -> str:
    """File-name-safe text (letters, digits, ``_ - .``)."""
    from fitkit.pipeline.jobs import safe_id

    return safe_id(str(text))


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
    frame: Any, records: Sequence[FitRecord], cfg: Any, outdir: Path
) -> list[tuple[str, str, str]]:
    """Each fitted quantity of a job against the sample variables of ``plot_against``.

    Uses :func:`fitkit.report.plots.plot_parameter_vs` (error bars from the ``_stderr`` column);
    writes ``plots/<job>__<quantity>__vs__<variable>.png``; returns ``(job, title, path)``.
    """
    from fitkit.config import sample_column
    from fitkit.report.plots import plot_parameter_vs

    out: list[tuple[str, str, str]] = []
    if not cfg.samples:
        return out
    for job in cfg.jobs:
        names = job.plot_against or cfg.report.plot_against
        if not names:
            continue
        sub = frame[(frame["job"] == job.name) & (frame["success"].astype(bool))]
        if len(sub) < 2 or len(sub) > MAX_PLOT_POINTS:
            continue
        for name in names:
            col = sample_column(cfg.samples, name)
            if col is None or f"sample_{col}" not in sub.columns:
                continue
            xs = sub[f"sample_{col}"]
            rows = sub[xs.notna()]
            if len(rows) < 2:
                continue
            for qcol in _quantity_columns(rows, records, job.name):
                data = rows[[qcol, f"{qcol}_stderr", f"sample_{col}"]].rename(columns={f"sample_{col}": col})
                if col == qcol:
                    continue
                fig = plot_parameter_vs(data, col, qcol)
                fig.axes[0].set_title(f"{job.name}: {qcol} vs {col}", fontsize="medium")
                for x, y, sid in zip(data[col], data[qcol], rows["sample_id"], strict=True):
                    fig.axes[0].annotate(
                        str(sid), (x, y), textcoords="offset points", xytext=(3, 3), fontsize=7
                    )
                rel = f"plots/{safe_name(job.name)}__{safe_name(qcol)}__vs__{safe_name(col)}.png"
                atomic_write_png(outdir / rel, fig, dpi=100)
                out.append((job.name, f"{job.name}: {qcol} vs {col}", rel))
    return out


def write_run_report(
    outdir: Path, cfg: Any, records: Sequence[FitRecord], summary: Mapping[str, Any]
) -> None:
    """Write ``results.csv``/``.json``/``.h5``, the report plots and ``index.html`` of a finished run.

    Raises
    ------
    OSError
        If a file cannot be written.
    """
    formats = set(cfg.report.formats)
    disp = dict(cfg.report.display_units)
    frame = _frame(records, disp, cfg.samples)
    if "csv" in formats:
        atomic_write_csv(outdir / "results.csv", frame)
    if "json" in formats:
        try:
            from fitkit.report.tables import records_to_json

            recs = records_to_json(records, display_units=disp)
        except ImportError:
            recs = [r.to_dict() for r in records]
        for doc, r in zip(recs, records, strict=True):
            doc.setdefault("job", r.meta.get("job", ""))
            doc.setdefault("item_id", r.meta.get("item_id", ""))
        atomic_write_json(
            outdir / "results.json",
            {"format": "fitkit-records", "version": 1, "run": cfg.name, "records": recs},
            indent=1,
        )
    if "hdf5" in formats:
        try:
            from fitkit.report.tables import write_hdf5

            write_hdf5(outdir / "results.h5", [dataclasses.replace(r, result=None) for r in records])
        except ImportError:
            log.warning("fitkit.report.tables.write_hdf5 is not available; results.h5 not written")
    if "html" in formats:
        plots: list[tuple[str, str, str]] = []
        if cfg.report.plots and len(frame):
            plots = _parameter_plots(frame, records, outdir) + _against_plots(frame, records, cfg, outdir)
        sections = _series_sections(outdir, cfg, records, disp)
        atomic_write_text(
            outdir / "index.html", _index_html(outdir, cfg, records, summary, plots, sections, formats)
        )


def _series_sections(
    outdir: Path, cfg: Any, records: Sequence[FitRecord], disp: Mapping[str, str]
) -> dict[str, str]:
    """HTML of each job kind's report section (series fits, joins); drawing errors are shown, not raised."""
    from fitkit.pipeline.jobs import JOB_KINDS

    out: dict[str, str] = {}
    for job in cfg.jobs:
        kind = JOB_KINDS.get(job.kind)
        if kind is None:
            continue
        recs = [r for r in records if r.meta.get("job") == job.name]
        try:
            text = kind.report_section(job, cfg, recs, outdir, disp) if recs and cfg.report.plots else ""
        except Exception as err:  # a report problem must never lose the results
            log.error("report section of job '%s' failed: %s: %s", job.name, type(err).__name__, err)
            text = (
                f"<p class='failed'>report section failed: {html.escape(f'{type(err).__name__}: {err}')}</p>"
            )
        if text:
            out[job.name] = text
    return out


_CSS = (
    "body{font-family:sans-serif;margin:1.5em;max-width:1400px}"
    "table{border-collapse:collapse;font-size:12px;margin:0.5em 0}"
    "td,th{border:1px solid #ccc;padding:2px 6px;vertical-align:top}th{background:#f3f3f3}"
    ".failed{background:#fdd}.ok{color:#070}.bad{color:#a00;font-weight:bold}"
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
    from fitkit.report.tables import resolve_display_unit
    from fitkit.report.writer import format_value_error
    from fitkit.units import UnitError, convert

    if name in rec.values:
        v, err, unit = rec.values[name], rec.stderr.get(name, math.nan), rec.units.get(name, "")
    elif name in rec.derived:
        v, err, unit = (
            rec.derived[name],
            rec.derived_stderr.get(name, math.nan),
            rec.derived_units.get(name, ""),
        )
    else:
        return ""
    try:
        du = resolve_display_unit(name, unit, disp)
        if du != unit:
            f = float(convert(1.0, unit, du))
            v, err = v * f, err * f
        unit = du
    except (UnitError, KeyError):
        pass
    try:
        return format_value_error(v, err, unit)
    except (ValueError, OverflowError):
        return f"{v:.6g}"


def _job_table(outdir: Path, job: Any, recs: Sequence[FitRecord], disp: Mapping[str, str]) -> list[str]:
    e = html.escape
    qty = _key_quantities(recs)
    extra = [k for k in ("regime",) if any(k in r.meta for r in recs)]
    head = ["item", "sample", "success", *[n for n, _ in qty], *extra, "redchi", "warnings", "fit"]
    parts = ["<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>"]
    shown = recs[:MAX_PLOT_POINTS]
    for r in shown:
        item = str(r.meta.get("item_id", ""))
        if "sweep_index" in r.meta:
            item += f" #{r.meta['sweep_index']}"
        cells = [e(item), e(r.sample_id)]
        cells.append("<span class='ok'>yes</span>" if r.success else "<span class='bad'>no</span>")
        cells += [e(_value_text(r, n, disp)) if r.success else "" for n, _ in qty]
        cells += [e(str(r.meta.get(k, ""))) for k in extra]
        cells.append(f"{r.redchi:.4g}" if math.isfinite(r.redchi) else "")
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
        cls = "" if r.success else " class='failed'"
        parts.append(f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    parts.append("</table>")
    if len(recs) > len(shown):
        parts.append(f"<p class='muted'>{len(recs) - len(shown)} more records in results.csv.</p>")
    return parts


def figure_tag(src: str, caption: str, *, alt: str | None = None, inline: bool = False) -> str:
    """HTML of a figure linked to its image, with a caption (``inline``: side by side with others)."""
    e = html.escape
    style = " style='display:inline-block'" if inline else ""
    alt_attr = f" alt='{e(alt)}'" if alt is not None else ""
    return (
        f"<figure{style}><a href='{e(src)}'><img src='{e(src)}'{alt_attr}></a>"
        f"<figcaption>{e(caption)}</figcaption></figure>"
    )


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
        f"<p>{summary.get('n_ok', 0)} records succeeded, {summary.get('n_failed', 0)} failed; "
        f"{summary.get('n_items', 0)} items ({summary.get('n_resumed', 0)} reused from an earlier run). "
        f"Files: {', '.join(links)}.</p>",
        "<h2>Jobs</h2><table><tr><th>job</th><th>kind</th><th>from</th><th>records</th><th>ok</th>"
        "<th>failed</th></tr>",
    ]
    for job in cfg.jobs:
        rs = [r for r in records if r.meta.get("job") == job.name]
        nok = sum(r.success for r in rs)
        parts.append(
            f"<tr><td><a href='#job-{e(job.name)}'>{e(job.name)}</a></td><td>{e(job.kind)}</td>"
            f"<td>{e(', '.join(job.depends_on))}</td><td>{len(rs)}</td><td>{nok}</td>"
            f"<td>{len(rs) - nok}</td></tr>"
        )
    parts.append("</table>")
    failed = [r for r in records if not r.success]
    if failed:
        parts.append(
            "<h2 id='failures'>Failures</h2><table><tr><th>job</th><th>item</th><th>sample</th>"
            "<th>source</th><th>message</th></tr>"
        )
        for r in failed[:MAX_PLOT_POINTS]:
            parts.append(
                f"<tr class='failed'><td>{e(str(r.meta.get('job', '')))}</td>"
                f"<td>{e(str(r.meta.get('item_id', '')))}</td><td>{e(r.sample_id)}</td>"
                f"<td>{e(r.source_path)}</td>"
                f"<td>{e(r.message)}</td></tr>"
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
