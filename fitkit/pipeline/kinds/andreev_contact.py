r"""Job kind ``andreev_contact_series``: a tunnelling -> Andreev series at increasing contact conductance.

The science is :func:`fitkit.analysis.andreev_series.fit_contact_series` (``nis`` fits of the
tunnelling spectra, ``andreev_collective`` fits of the transparent ones) and
:func:`fitkit.analysis.collective_gap.collective_gap_from_derivatives` (model-free collective gap);
the series means use :func:`fitkit.analysis.stats.weighted_mean`.  Table and figure:
:mod:`fitkit.report.series`.

References
----------
.. [1] T. Dubouchet et al., "Collective energy gap of preformed Cooper pairs in disordered
   superconductors", Nat. Phys. 15, 233 (2019).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fitkit import units as _units
from fitkit.analysis.andreev_series import fit_contact_series
from fitkit.analysis.collective_gap import collective_gap_from_derivatives
from fitkit.analysis.stats import weighted_mean
from fitkit.config import JobConfig, OptionSpec, RunConfig
from fitkit.fitting.batch import CAPTURED_ERRORS
from fitkit.fitting.record import FitRecord
from fitkit.io.sweep import Sweep
from fitkit.pipeline.base import ItemTask
from fitkit.pipeline.kinds._series import SERIES_OPTIONS, SeriesKind, finite, series_record, source_doc
from fitkit.pipeline.sources import v_mod_mV
from fitkit.registry import register_job_kind
from fitkit.report.series import contact_figure, contact_table

__all__ = ["AndreevContactSeriesJob"]


@register_job_kind
class AndreevContactSeriesJob(SeriesKind):
    r"""Tunnelling -> Andreev series at increasing contact conductance (``kind: andreev_contact_series``).

    All input files form one series (one item).  Options: ``g_contact`` (where each file's
    contact conductance comes from: ``auto`` = the sample-table column ``g_contact_<unit>``
    (``G0``, ``S``, ``uS``) of the file's sample, else the header ``# g_contact_<unit> = ...``;
    or ``{column: NAME}``, ``{regex: RX, unit: G0}``, ``{header: KEY}``), ``tunnel_below_G0``
    (default 0.2), ``temperature_K`` (default: each file's metadata), ``v_mod_rms_mV`` (default
    ``auto``: the files' metadata, else 0), ``form`` (``pm2``), ``model_free`` (default true),
    ``search_mV`` (``[lo, hi]``, default ``[0.1, 0.8]`` x the fitted Delta of the spectrum),
    ``derivative`` (``d2G``/``dG``), ``n_bootstrap`` (default 40).

    Records: one per spectrum (``nis`` or ``andreev_collective`` values; derived ``g_contact``
    [G0], and for transparent spectra ``delta_col_mf`` [meV] with stderr = statistical (+)
    systematic error, and the parts ``delta_col_mf_stat``, ``delta_col_mf_sys`` [meV]); a file
    without a contact conductance is a failed record; one
    summary record (``model_key = andreev_contact_series``): weighted means ``delta`` of the
    tunnelling fits, ``delta_col`` of the Andreev fits (errors scaled by sqrt(chi2_red) when > 1)
    and the mean model-free ``delta_col_mf`` (``delta_col_mf_stat``: statistical error of the mean;
    ``delta_col_mf_sys``: mean systematic error, which does not average down; stderr: both in
    quadrature).  Files: ``series/<job>/contact_series.csv``
    and ``series/<job>/delta_vs_g_contact.png``.
    """

    name = "andreev_contact_series"
    derived_units = {"delta_col_mf": "meV", "delta": "meV", "delta_col": "meV"}
    description = "tunnelling -> Andreev contact series (nis / andreev_collective fits, model-free Delta_col)"
    options = {
        "g_contact": OptionSpec("g_contact", "any", default="auto", doc=source_doc("contact conductance")),
        "tunnel_below_G0": OptionSpec(
            "tunnel_below_G0", "number", default=0.2, minimum=0, exclusive_minimum=True, unit="G0",
            doc="spectra below this conductance are fitted as tunnelling (nis)",
        ),
        "temperature_K": OptionSpec("temperature_K", "number", minimum=0, exclusive_minimum=True, unit="K",
                                    doc="temperature of all spectra (default: each file's metadata)"),
        **SERIES_OPTIONS,
        "model_free": OptionSpec("model_free", "boolean", default=True, doc="model-free Delta_col as well"),
        "search_mV": OptionSpec("search_mV", "array", items=OptionSpec(type="number", minimum=0), min_items=2,
                                max_items=2, increasing=True, unit="mV",
                                doc="search window of the model-free gap (default 0.1-0.8 x fitted Delta)"),
        "derivative": OptionSpec("derivative", "string", default="d2G", choices=("d2G", "dG")),
        "n_bootstrap": OptionSpec("n_bootstrap", "integer", default=40, minimum=0),
    }
    value_option = "g_contact"
    value_quantity = "conductance"
    value_unit = "G0"
    table_file = "contact_series.csv"
    figure_file = "delta_vs_g_contact.png"

    def validate(self, job: JobConfig, cfg: RunConfig) -> list[tuple[str, str]]:
        """Problems the option table cannot express: the value source, the number of files."""
        return super().validate(job, cfg) + self._validate_common(job)

    def run_item(self, task: ItemTask) -> list[FitRecord]:
        """Fit the whole series; one record per spectrum plus a summary record."""
        job = task.job
        opts = self.opts(job)
        good, recs = self._load(task)
        base_meta = task.meta()
        if not good:
            msg = f"{self.name} job '{job.name}': no spectrum with a contact conductance could be read"
            return self._series_failed(task, msg, recs)
        v_mod, warn = v_mod_mV(job, [g[1] for g in good])
        form = str(opts["form"])
        try:
            table, fitted = fit_contact_series(
                [g[1] for g in good],
                [g[2] for g in good],
                unit="G0",
                tunnel_below_G0=float(opts["tunnel_below_G0"]),
                temperature_K=opts.get("temperature_K"),
                v_mod_rms_mV=v_mod,
                form=form,  # type: ignore[arg-type]
            )
        except CAPTURED_ERRORS as err:
            return self._series_failed(task, err, recs)
        by_path = {str(g[1].meta.source_path): g for g in good}
        rows: list[FitRecord] = []
        for k, row in enumerate(table.to_dict(orient="records")):
            f, sw, g, source = by_path.get(str(row["source_path"]), good[k])
            tunnel = row["regime"] == "tunnelling"
            meta = {
                **base_meta,
                "regime": row["regime"],
                "g_contact_source": source,
                "file": Path(f["path"]).name,
            }
            rec = series_record(
                fitted[k],
                sample_id=f["sample_id"],
                config_digest=task.config_digest,
                options={} if tunnel else {"form": form},
                meta=meta,
                message=f"contact series: {row['regime']} fit ({row['model']})",
            )
            rec = dataclasses.replace(
                rec,
                source_path=f["path"],
                derived={"g_contact": g},
                derived_stderr={"g_contact": math.nan},
                derived_units={"g_contact": "G0"},
                warnings=(*warn, *rec.warnings),
            )
            if not tunnel and opts["model_free"] and rec.success:
                rec = self._model_free(rec, sw, opts, task.strict)
            rows.append(rec)
        return [*rows, *recs, self._summary(rows, job, task, warn)]

    @staticmethod
    def _model_free(rec: FitRecord, sweep: Sweep, opts: Mapping[str, Any], strict: bool) -> FitRecord:
        delta = rec.values.get("delta", math.nan)
        search = opts.get("search_mV") or (0.1 * delta, 0.8 * delta)
        y = sweep.column("dIdV_norm") if "dIdV_norm" in sweep.data else sweep.column("dIdV_S")
        try:
            est = collective_gap_from_derivatives(
                _units.convert(sweep.column("bias_V"), "V", "mV"),  # type: ignore[arg-type]
                y,
                search_mV=(float(search[0]), float(search[1])),
                derivative=opts["derivative"],
                n_bootstrap=int(opts["n_bootstrap"]),
            )
        except CAPTURED_ERRORS as err:
            if strict:
                raise
            return dataclasses.replace(
                rec, warnings=(*rec.warnings, f"model-free Delta_col: {type(err).__name__}: {err}")
            )
        if not est.significant:  # no feature above the noise: report why, not a number
            return dataclasses.replace(rec, warnings=(*rec.warnings, f"model-free Delta_col: {est.reason}"))
        stat = est.stat_error if math.isfinite(est.stat_error) else 0.0
        derived = {
            **rec.derived,
            "delta_col_mf": est.delta_col,
            "delta_col_mf_stat": est.stat_error,
            "delta_col_mf_sys": est.sys_error,
        }
        # stderr = total: the systematic part (window spread, edge resolution) dominates
        dstd = {
            **rec.derived_stderr,
            "delta_col_mf": math.hypot(stat, est.sys_error),
            "delta_col_mf_stat": math.nan,
            "delta_col_mf_sys": math.nan,
        }
        dunits = {
            **rec.derived_units,
            "delta_col_mf": "meV",
            "delta_col_mf_stat": "meV",
            "delta_col_mf_sys": "meV",
        }
        meta = {
            **rec.meta,
            "model_free": {
                "derivative": est.derivative,
                "search_mV": [float(s) for s in search],
                "windows_mV": list(est.windows_mV),
                "values_meV": list(est.values),
                "bias_offset_mV": est.bias_offset,
            },
        }
        return dataclasses.replace(rec, derived=derived, derived_stderr=dstd, derived_units=dunits, meta=meta)

    def _summary(
        self, rows: Sequence[FitRecord], job: JobConfig, task: ItemTask, warn: list[str]
    ) -> FitRecord:
        ok = [r for r in rows if r.success]
        tun = [r for r in ok if r.meta.get("regime") == "tunnelling"]
        andr = [r for r in ok if r.meta.get("regime") == "andreev"]
        derived: dict[str, float] = {}
        dstd: dict[str, float] = {}
        dunits: dict[str, str] = {}
        notes = list(warn)

        def put(name: str, v: float, e: float, unit: str) -> None:
            derived[name], dstd[name], dunits[name] = v, e, unit

        if tun:
            wm = weighted_mean(
                [r.values["delta"] for r in tun], [r.stderr.get("delta", math.nan) for r in tun]
            )
            put("delta", wm.mean, wm.error, "meV")
            put("delta_chi2_red", wm.chi2_red, math.nan, "1")
        if andr:
            wm = weighted_mean(
                [r.values["delta_col"] for r in andr], [r.stderr.get("delta_col", math.nan) for r in andr]
            )
            put("delta_col", wm.mean, wm.error, "meV")
            put("delta_col_chi2_red", wm.chi2_red, math.nan, "1")
            mf = [r for r in andr if finite(r.derived.get("delta_col_mf"))]
            if mf:
                vals = np.array([r.derived["delta_col_mf"] for r in mf])
                stat = float(
                    np.sqrt(np.nansum([r.derived.get("delta_col_mf_stat", math.nan) ** 2 for r in mf]))
                )
                stat /= vals.size
                sys_ = float(np.mean([r.derived["delta_col_mf_sys"] for r in mf]))
                put("delta_col_mf", float(vals.mean()), math.hypot(stat, sys_), "meV")
                put("delta_col_mf_stat", stat, math.nan, "meV")
                put("delta_col_mf_sys", sys_, math.nan, "meV")
        put("n_tunnelling", float(len(tun)), math.nan, "1")
        put("n_andreev", float(len(andr)), math.nan, "1")
        n_bad = sum(not r.success for r in rows)
        if n_bad:
            notes.append(f"{n_bad} spectrum fit(s) failed and are left out of the means")
        success = bool(andr or tun)
        return FitRecord(
            model_key=self.name,
            sample_id=job.name,
            x_column="g_contact_G0",
            y_column="delta_meV",
            derived=derived,
            derived_stderr=dstd,
            derived_units=dunits,
            success=success,
            message=(
                f"contact series: {len(tun)} tunnelling and {len(andr)} Andreev spectra"
                if success
                else "contact series: no spectrum was fitted"
            ),
            warnings=tuple(notes),
            config_digest=task.config_digest,
            meta=task.meta(summary=True),
        )

    def _table_and_figure(self, records: Sequence[FitRecord]) -> tuple[Any, Any] | None:
        rows = [r for r in records if "regime" in r.meta]
        if not rows:
            return None
        table = contact_table(rows)
        return table, contact_figure(table)

    def _caption(self, job: JobConfig, summary: FitRecord | None) -> str:
        return summary.message if summary is not None else job.name
