"""Run-folder output of the pipeline: item files, per-fit folders, tables, index.html, run.json.

The file formats themselves belong to :mod:`fitkit.report` (tables, plots, writer); this module
only decides *where* things go in a run folder and falls back to plain JSON when a report
function is unavailable.  Layout: see ``docs/config.md``.
"""

from __future__ import annotations

import dataclasses
import html
import io
import json
import logging
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fitkit.fitting.record import FitRecord

__all__ = ["atomic_write_json", "atomic_write_text", "read_item", "write_fit_folder", "write_run_report"]

log = logging.getLogger("fitkit")


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write text atomically: temporary file in the same folder, fsync, :func:`os.replace`.

    Raises
    ------
    OSError
        If the file cannot be written (the destination is then untouched).
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


def _finite(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Mapping):
        return {str(k): _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):
        return _finite(obj.item())
    if isinstance(obj, Path):
        return str(obj)
    return obj


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Write strict JSON (NaN -> null) atomically."""
    return atomic_write_text(path, json.dumps(_finite(obj), indent=1, allow_nan=False) + "\n")


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
        from fitkit.report.writer import write_fit_report
    except ImportError:
        atomic_write_json(folder / "record.json", record.to_dict())
        return
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
    frame.insert(0, "item_id", [r.meta.get("item_id", "") for r in records])
    frame.insert(0, "job", [r.meta.get("job", "") for r in records])
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


def _parameter_plots(frame: Any, records: Sequence[FitRecord], outdir: Path) -> list[tuple[str, str]]:
    """One PNG per job and fitted quantity: value +- stderr against the item (sample) order."""
    from matplotlib.figure import Figure

    out = []
    for job in dict.fromkeys(frame["job"]):
        sub = frame[(frame["job"] == job) & (frame["success"].astype(bool))]
        if len(sub) < 2:
            continue
        recs = [r for r in records if r.meta.get("job") == job and r.success]
        names = [n for n in recs[0].values if recs[0].vary.get(n)] + list(recs[0].derived) if recs else []
        for col in sub.columns:
            if col.endswith("_stderr") or f"{col}_stderr" not in sub.columns:
                continue
            if not any(col == n or col.startswith(f"{n}_") for n in names):
                continue
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
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=100)
            name = f"plots/{job}__{col}.png"
            _atomic_bytes(outdir / name, buf.getvalue())
            out.append((f"{job}: {col}", name))
    return out


def _atomic_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_run_report(
    outdir: Path, cfg: Any, records: Sequence[FitRecord], summary: Mapping[str, Any]
) -> None:
    """Write ``results.csv``/``.json``/``.h5`` and ``index.html`` of a finished run.

    Raises
    ------
    OSError
        If a file cannot be written.
    """
    formats = set(cfg.report.formats)
    disp = dict(cfg.report.display_units)
    frame = _frame(records, disp, cfg.samples)
    if "csv" in formats:
        atomic_write_text(outdir / "results.csv", frame.to_csv(index=False, lineterminator="\n"))
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
        )
    if "hdf5" in formats:
        try:
            from fitkit.report.tables import write_hdf5

            write_hdf5(outdir / "results.h5", [dataclasses.replace(r, result=None) for r in records])
        except ImportError:
            log.warning("fitkit.report.tables.write_hdf5 is not available; results.h5 not written")
    if "html" in formats:
        plots = _parameter_plots(frame, records, outdir) if cfg.report.plots and len(frame) else []
        atomic_write_text(outdir / "index.html", _index_html(outdir, cfg, frame, records, summary, plots))


def _index_html(
    outdir: Path,
    cfg: Any,
    frame: Any,
    records: Sequence[FitRecord],
    summary: Mapping[str, Any],
    plots: list[tuple[str, str]],
) -> str:
    e = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>fitkit run {e(cfg.name)}</title>",
        "<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;font-size:12px}"
        "td,th{border:1px solid #ccc;padding:2px 6px}.failed{background:#fdd}img{max-width:480px;margin:4px}"
        "</style></head><body>",
        f"<h1>fitkit run: {e(cfg.name)}</h1>",
        f"<p>{summary.get('n_ok', 0)} fits succeeded, {summary.get('n_failed', 0)} failed; "
        f"{summary.get('n_items', 0)} items ({summary.get('n_resumed', 0)} reused from an earlier run). "
        "Files: <a href='results.csv'>results.csv</a>, <a href='results.json'>results.json</a>, "
        "<a href='results.h5'>results.h5</a>, <a href='run.json'>run.json</a>.</p>",
        "<h2>Jobs</h2><table><tr><th>job</th><th>kind</th><th>records</th><th>ok</th><th>failed</th></tr>",
    ]
    for job in cfg.jobs:
        rs = [r for r in records if r.meta.get("job") == job.name]
        nok = sum(r.success for r in rs)
        parts.append(
            f"<tr><td>{e(job.name)}</td><td>{e(job.kind)}</td><td>{len(rs)}</td><td>{nok}</td>"
            f"<td>{len(rs) - nok}</td></tr>"
        )
    parts.append("</table>")
    failed = [r for r in records if not r.success]
    if failed:
        parts.append(
            "<h2>Failures</h2><table><tr><th>job</th><th>item</th><th>source</th><th>message</th></tr>"
        )
        for r in failed:
            parts.append(
                f"<tr class='failed'><td>{e(str(r.meta.get('job', '')))}</td>"
                f"<td>{e(str(r.meta.get('item_id', '')))}</td><td>{e(r.source_path)}</td>"
                f"<td>{e(r.message)}</td></tr>"
            )
        parts.append("</table>")
    parts.append("<h2>Results</h2>")
    parts.append(frame.to_html(index=False, na_rep="", float_format=lambda v: f"{v:.6g}", border=0))
    if plots:
        parts.append("<h2>Parameters across samples</h2>")
        parts += [
            f"<figure style='display:inline-block'><img src='{e(p)}' alt='{e(t)}'>"
            f"<figcaption>{e(t)}</figcaption></figure>"
            for t, p in plots
        ]
    figs = sorted(outdir.glob("fits/*/*/**/fit.png"))
    if figs:
        parts.append("<h2>Fits</h2>")
        for f in figs:
            rel = f.relative_to(outdir).as_posix()
            parts.append(
                f"<figure style='display:inline-block'><a href='{e(rel)}'><img src='{e(rel)}'></a>"
                f"<figcaption>{e(str(Path(rel).parent))}</figcaption></figure>"
            )
    parts.append("</body></html>\n")
    return "\n".join(parts)
