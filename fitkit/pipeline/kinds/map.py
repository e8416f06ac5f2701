"""Job kind ``map``: parameter maps of grid spectroscopy (Nanonis ``.3ds``), block by block.

Each input grid is split into items of ``inputs.block_size`` consecutive pixels (default 256,
row-major flat index), so a killed run resumes per block and local or Dask workers share the
blocks.  An item fits its block with :func:`fitkit.analysis.gridmap.fit_block` (serpentine
warm starts that never leave the block, so the result does not depend on the backend) and
returns one :class:`~fitkit.fitting.record.FitRecord` per pixel (``meta``: ``iy``, ``ix``,
``start``).  :meth:`MapJob.finalize` assembles the maps of every grid, writes
``maps/<job>/gap_map.png``, ``histogram.png`` and ``maps.h5`` (``maps/<job>/<file stem>/``
when the job has several grids) and returns one summary record per grid (mean, spread and
median of the mapped parameter, success fraction).

Example job::

    - name: gapmap
      kind: map
      inputs: {files: sample_data/grid_3ds/sc_grid.3ds, block_size: 64}
      model: nis
      params: {bias_offset: {value: 0.0}}
      options: {channel: "LI Demod 1 X (A)", min_significance: 3}

Options: ``channel`` (Nanonis or variable name of the conductance channel; default the first
lock-in channel), ``warm_start`` (default true), ``use_metadata`` (fix ``temperature`` and
``v_mod`` at the file's metadata unless ``params`` sets them; default true),
``min_significance`` (a pixel whose ``delta`` is below this many standard errors, e.g. a normal
region, is a successful fit marked ``significant = False`` in its record meta and in the maps, with a
warning; it is left out of the gap statistics; default 3), ``parameter`` (mapped parameter,
default ``delta``), ``fast`` (default true).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fitkit.analysis.gridmap import (
    DEFAULT_BLOCK,
    BlockFit,
    assemble_maps,
    blocks_of,
    channel_unit,
    fit_block,
    map_summary,
    metadata_overrides,
    preprocess_spectra,
    resolve_channel,
)
from fitkit.config import JobConfig, OptionSpec, RunConfig
from fitkit.fitting.batch import CAPTURED_ERRORS, failed_record
from fitkit.fitting.grid import VERDICT_CODES, pixel_records
from fitkit.fitting.record import FitRecord
from fitkit.io.nanonis_3ds import open_grid
from fitkit.models import get_model
from fitkit.pipeline.base import ItemTask, JobContext, JobKind, descriptor_record
from fitkit.registry import register_job_kind
from fitkit.report.maps import save_maps
from fitkit.report.series import figure_tag

__all__ = ["MapJob", "maps_from_records"]

_VERDICT_CODE = {v: k for k, v in VERDICT_CODES.items()}


def _channel(job: JobConfig) -> str | None:
    ch = job.options.get("channel")
    if ch is None and job.inputs is not None:
        ch = job.inputs.options.get("channel")
    return None if ch is None else str(ch)


@register_job_kind
class MapJob(JobKind):
    """Fit every pixel of each ``.3ds`` grid and assemble parameter maps (``kind: map``)."""

    name = "map"
    description = "parameter maps of grid spectroscopy (.3ds): one warm-started fit per pixel"
    needs_model = True
    options = {
        "channel": OptionSpec("channel", "string", doc="conductance channel"),
        "warm_start": OptionSpec("warm_start", "boolean", default=True, doc="start from fitted neighbours"),
        "use_metadata": OptionSpec("use_metadata", "boolean", default=True,
                                   doc="fix temperature, v_mod at the metadata"),
        "min_significance": OptionSpec("min_significance", "number", default=3.0, minimum=0,
                                       doc="delta/stderr below which a pixel has no significant gap"),
        "parameter": OptionSpec("parameter", "string", default="delta", doc="the mapped parameter"),
        "fast": OptionSpec("fast", "boolean", default=True, doc="the grid fitter's fast path"),
    }

    def validate(self, job: JobConfig, cfg: RunConfig) -> list[tuple[str, str]]:
        """Kind-specific problems: grid inputs, one model component, option types."""
        out = super().validate(job, cfg)
        if job.model is not None and len(job.model.components) != 1:
            out.append(("model", "a 'map' job fits one model (no composite)"))
        if job.inputs is not None:
            for k, f in enumerate(job.inputs.files):
                if f.path.suffix.lower() != ".3ds":
                    out.append((f"inputs.files[{k}]", f"'{f.path.name}' is not a .3ds grid"))
        if job.model is not None and "parameter" in job.options:
            names = [s.name for s in get_model(job.model.components[0].key).param_specs]
            if job.options["parameter"] not in names:
                out.append(("options.parameter", f"{job.options['parameter']!r} is not one of {names}"))
        return out

    def blocks(self, job: JobConfig, path: Path) -> list[tuple[int, int] | None]:
        bs = (job.inputs.block_size if job.inputs else None) or DEFAULT_BLOCK
        complete = int(open_grid(path).attrs["pixels_complete"])
        return list(blocks_of(complete, bs)) or [(0, 0)]

    def run_item(self, task: ItemTask) -> list[FitRecord]:
        """Fit one block of pixels; one record per pixel (failed records for failed pixels)."""
        job = task.job
        p = task.payload
        assert job.model is not None
        comp = job.model.components[0]
        sid = p.get("sample_id") or Path(p["path"]).stem
        meta = task.meta()
        try:
            ds = open_grid(p["path"])
            var = _channel(job)
            var = resolve_channel(ds, var)
            model = job.model.build()
            overrides = job.overrides()
            opts = self.opts(job)
            if opts["use_metadata"]:
                overrides = {**metadata_overrides(ds, model, overrides), **overrides}
            start, stop = (int(v) for v in p["block"])
            ny, nx = ds.sizes["y"], ds.sizes["x"]
            bias = np.asarray(ds["bias_V"].values, dtype=float)
            data = np.asarray(ds[var].data.reshape(ny * nx, bias.size)[start:stop], dtype=float)
            y_unit = channel_unit(ds, var)
            if job.preprocess:
                data, bias, y_unit = preprocess_spectra(data, bias, list(job.preprocess), p["path"])
            iy, ix = np.divmod(np.arange(start, stop), nx)
            fit = fit_block(bias, data, model=model, params=overrides, iy=iy, ix=ix,
                            warm_start=bool(opts["warm_start"]), x_range=job.x_range,
                            method=job.method, fast=bool(opts["fast"]), y_unit=y_unit,
                            min_significance=float(opts["min_significance"]))
        except CAPTURED_ERRORS as err:
            if task.strict:
                raise
            return [failed_record(err, model_key=comp.key, sample_id=sid, source_path=p["path"],
                                  config_digest=task.config_digest, meta=meta)]
        return pixel_records(fit, iy, ix, model_key=comp.key, sample_id=sid, source_path=p["path"],
                             y_column=var, config_digest=task.config_digest, meta=meta)

    def finalize(self, ctx: JobContext) -> list[FitRecord]:
        """Assemble the maps of each grid, write them under ``<outdir>/maps/<job>/``, return summaries.

        Returns
        -------
        list of FitRecord
            One summary record per grid (``derived``: ``<parameter>_mean_<unit>`` and its
            stderr, ``_sd_``, ``_median_``, ``success_fraction``, ``n_success``, ``n_measured``);
            without a run folder nothing is written (the summary records say so).
        """
        job, outdir = ctx.job, ctx.outdir
        parameter = str(self.opts(job)["parameter"])
        by_file: dict[str, list[FitRecord]] = {}
        for r in ctx.own_records():
            if r.meta.get("item_id") == "_map" or "iy" not in r.meta:
                continue
            by_file.setdefault(r.source_path, []).append(r)
        files = [str(f.path) for f in job.inputs.files] if job.inputs else sorted(by_file)
        out: list[FitRecord] = []
        for path in files:
            stem = Path(path).stem
            meta = ctx.meta("_map", file=stem)
            try:
                ds = open_grid(path)
                maps = maps_from_records(by_file.get(path, []), ds.sizes["y"], ds.sizes["x"])
                maps = maps.assign_coords({c: ds[c] for c in ("x_m", "y_m") if c in ds.coords})
                maps.attrs.update({"model": job.model.key if job.model else "", "source_path": path,
                                   "job": job.name, "block": (job.inputs.block_size or DEFAULT_BLOCK)
                                   if job.inputs else DEFAULT_BLOCK,
                                   "pixels_complete": int(ds.attrs.get("pixels_complete", 0))})
                summary = map_summary(maps, parameter)
                warn = []
                if outdir is not None:
                    folder = Path(outdir) / "maps" / job.name
                    if len(files) > 1:
                        folder = folder / stem
                    save_maps(maps, folder, parameter=parameter)
                    meta["maps_dir"] = str(folder)
                else:
                    warn.append("maps not written: no run folder given to finalize")
            except (*CAPTURED_ERRORS,) as err:
                out.append(failed_record(err, model_key=self.name, sample_id=stem, source_path=path,
                                         meta=meta))
                continue
            rec = descriptor_record({**summary, "warnings": warn}, model_key=self.name, sample_id=stem,
                                    source_path=path, meta=meta)
            ok = math.isfinite(summary.get("success_fraction", math.nan)) and summary["n_success"] > 0
            out.append(rec if ok else _failed_summary(rec))
        return out

    def report_section(self, ctx: JobContext, records: Sequence[FitRecord]) -> str:
        """The gap map and histogram of each grid (files written by :meth:`finalize`) for ``index.html``."""
        assert ctx.outdir is not None
        outdir = ctx.outdir
        parts = []
        for rec in records:
            folder = rec.meta.get("maps_dir") if rec.meta.get("item_id") == "_map" else None
            if not folder:
                continue
            try:
                rel = Path(folder).resolve().relative_to(Path(outdir).resolve()).as_posix()
            except ValueError:
                continue
            d = rec.derived
            mean = next((v for k, v in d.items() if "_mean" in k), math.nan)
            sd = next((v for k, v in d.items() if "_sd" in k), math.nan)
            unit = next((u for k, u in rec.derived_units.items() if "_mean" in k), "")
            frac, n = d.get("success_fraction", math.nan), d.get("n_measured", math.nan)
            caption = (f"{rec.sample_id}: mean {mean:.4g} {unit}, sd {sd:.3g} {unit}, success "
                       f"{frac:.3f} of {n:.0f} pixels")
            for name in ("gap_map.png", "histogram.png"):
                parts.append(figure_tag(f"{rel}/{name}", caption, inline=True))
        return "\n".join(parts)


def _failed_summary(rec: FitRecord) -> FitRecord:
    return dataclasses.replace(rec, success=False, message="no pixel of the map was fitted successfully")


def maps_from_records(records: list[FitRecord], ny: int, nx: int) -> Any:
    """Rebuild the (y, x) maps of :func:`fitkit.analysis.gridmap.fit_grid` from per-pixel records.

    Parameters
    ----------
    records
        Per-pixel records of a ``map`` job (``meta`` with ``iy``, ``ix``, ``start``).
    ny, nx
        Grid size; pixels without a record are NaN / unsuccessful.

    Returns
    -------
    xarray.Dataset
        Maps with coordinates ``iy``, ``ix``.

    Raises
    ------
    ValueError
        If no record has parameter values.
    """
    ok = [r for r in records if r.values and "iy" in r.meta]
    if not ok:
        raise ValueError("no per-pixel fit results to assemble into maps")
    names = tuple(ok[0].values)
    fit = BlockFit(
        names=names, units=dict(ok[0].units), vary=dict(ok[0].vary),
        values=np.array([[r.values.get(n, math.nan) for n in names] for r in ok], dtype=float),
        stderr=np.array([[r.stderr.get(n, math.nan) for n in names] for r in ok], dtype=float),
        redchi=np.array([r.redchi for r in ok], dtype=float),
        chisqr=np.array([r.chisqr for r in ok], dtype=float),
        nfev=np.array([r.nfev for r in ok], dtype=np.int64),
        success=np.array([r.success for r in ok], dtype=bool),
        start=np.array([r.meta.get("start", 1) for r in ok], dtype=np.int8),
        message=[r.message for r in ok],
        significant=np.array([bool(r.meta.get("significant", r.success)) for r in ok], dtype=bool),
        verdict=np.array([_VERDICT_CODE.get(r.verdict, 2) for r in ok], dtype=np.int8),
    )
    iy = np.array([r.meta["iy"] for r in ok], dtype=np.int64)
    ix = np.array([r.meta["ix"] for r in ok], dtype=np.int64)
    ds = assemble_maps([fit], [(iy, ix)], ny, nx)
    return ds.assign_coords({"iy": ("y", np.arange(ny)), "ix": ("x", np.arange(nx))})
