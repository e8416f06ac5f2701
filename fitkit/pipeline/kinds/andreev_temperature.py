r"""Job kind ``andreev_temperature_series``: Delta_col(T) of one Andreev contact and its BCS-law T_c.

The science is :func:`fitkit.analysis.andreev_series.fit_temperature_series` (Delta_col per
spectrum with Delta, Gamma, Z held at the lowest-temperature values, then the BCS-shaped law
:math:`\Delta_{col}(T)=\Delta_{col}(0)\,g(T/T_c)`).  Table and figure: :mod:`fitkit.report.series`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fitkit.analysis.andreev_series import fit_temperature_series
from fitkit.config import JobConfig, OptionSpec, RunConfig
from fitkit.fitting.batch import CAPTURED_ERRORS, failed_record
from fitkit.fitting.record import FitRecord
from fitkit.models import get_model
from fitkit.pipeline.base import ItemTask
from fitkit.pipeline.kinds._series import SERIES_OPTIONS, SeriesKind, finite, series_record, source_doc
from fitkit.pipeline.sources import v_mod_mV
from fitkit.registry import register_job_kind
from fitkit.report.plots import model_curve
from fitkit.report.series import contact_table, temperature_figure

__all__ = ["AndreevTemperatureSeriesJob"]


@register_job_kind
class AndreevTemperatureSeriesJob(SeriesKind):
    r"""Delta_col(T) of one contact and its BCS-law T_c (``kind: andreev_temperature_series``).

    All input files form one series (one item).  Options: ``temperature`` (``auto`` = sample
    column ``temperature_<unit>``, else the file's metadata ``temperature_K``; or
    ``{column: ...}``, ``{regex: RX, unit: K}``, ``{header: KEY}``), ``v_mod_rms_mV`` (``auto``),
    ``form`` (``pm2``), ``hold`` (parameters fitted at the lowest temperature, then held; default
    ``[delta, gamma, z]``).

    Records: one per spectrum (``andreev_collective``; held parameters have vary = false) and a
    summary record (``meta["summary"]``): the law's own record from
    :func:`fitkit.analysis.andreev_series.fit_delta_col_law` (model ``delta_col_temperature``):
    ``t_c`` [K], ``delta_col0`` [meV] with standard errors and verdict, derived ``gap_ratio`` =
    Delta_col(0)/(k_B T_c) (error with the t_c-delta_col0 correlation).  Files:
    ``series/<job>/temperature_series.csv``, ``series/<job>/delta_col_vs_T.png``.
    """

    name = "andreev_temperature_series"
    derived_units = {"t_c": "K", "delta_col0": "meV"}
    description = "Delta_col(T) of one Andreev contact and the BCS-law T_c, Delta_col(0)"
    options = {
        "temperature": OptionSpec("temperature", "any", default="auto", doc=source_doc("temperature")),
        **SERIES_OPTIONS,
        "hold": OptionSpec("hold", "array", default=("delta", "gamma", "z"), items=OptionSpec(type="string"),
                           doc="parameters fitted at the lowest temperature, then held"),
    }
    value_option = "temperature"
    value_quantity = "temperature"
    value_unit = "K"
    table_file = "temperature_series.csv"
    figure_file = "delta_col_vs_T.png"

    def validate(self, job: JobConfig, cfg: RunConfig) -> list[tuple[str, str]]:
        """Kind-specific problems (option types, value source, held parameters)."""
        out = super().validate(job, cfg) + self._validate_common(job)
        hold = job.options.get("hold")
        if hold is not None:
            names = [s.name for s in get_model("andreev_collective").param_specs]
            if not isinstance(hold, (list, tuple)) or not all(h in names and h != "delta_col" for h in hold):
                out.append(
                    (
                        "options.hold",
                        f"{hold!r}: expected a list of andreev_collective parameters "
                        f"other than delta_col, from {names}",
                    )
                )
        return out

    def run_item(self, task: ItemTask) -> list[FitRecord]:
        """Fit Delta_col per spectrum and the BCS law; per-spectrum records and a summary record."""
        job = task.job
        opts = self.opts(job)
        good, bad = self._load(task)
        base_meta = task.meta()
        v_mod, warn = v_mod_mV(job, [g[1] for g in good]) if good else (0.0, [])
        form = str(opts["form"])
        try:
            res = fit_temperature_series(
                [g[1] for g in good],
                [g[2] for g in good],
                v_mod_rms_mV=v_mod,
                form=form,  # type: ignore[arg-type]
                hold=tuple(opts["hold"]),
            )
        except CAPTURED_ERRORS as err:
            return self._series_failed(task, err, bad)
        by_path = {str(g[1].meta.source_path): g for g in good}
        rows = []
        for k, row in enumerate(res.table.to_dict(orient="records")):
            f, sw, t, source = by_path.get(str(row["source_path"]), good[k])
            meta = {
                **base_meta,
                "regime": "andreev",
                "temperature_source": source,
                "file": Path(f["path"]).name,
            }
            rec = series_record(
                res.records[k],
                sample_id=f["sample_id"],
                options={"form": form},
                config_digest=task.config_digest,
                meta=meta,
                message=f"temperature series: Delta_col at {t:.4g} K",
            )
            rows.append(dataclasses.replace(rec, source_path=f["path"], warnings=(*warn, *rec.warnings)))
        used = [r for r in rows if r.success and finite(r.stderr.get("delta_col"))]
        notes = (*warn, *([f"{len(bad)} file(s) left out (see their records)"] if bad else []))
        hold = list(opts["hold"])
        if res.law is not None:  # the law's own record (fit_curve: verdict, intervals, correlated gap ratio)
            summary = dataclasses.replace(
                res.law,
                sample_id=job.name,
                message=f"BCS law Delta_col(T) over {len(used)} spectra",
                warnings=(*notes, *res.law.warnings),
                config_digest=task.config_digest,
                meta={**res.law.meta, **base_meta, "summary": True, "hold": hold},
            )
        else:
            summary = failed_record(
                "temperature series: the Delta_col(T) law was not fitted",
                model_key=self.name, sample_id=job.name, config_digest=task.config_digest,
                meta={**base_meta, "summary": True, "hold": hold},
            )
        return [*rows, *bad, summary]

    def _table_and_figure(self, records: Sequence[FitRecord]) -> tuple[Any, Any] | None:
        rows = [r for r in records if r.meta.get("regime") == "andreev"]
        if not rows:
            return None
        table = contact_table(rows).drop(
            columns=[
                "g_contact_G0",
                "delta_col_mf_meV",
                "delta_col_mf_meV_stderr",
                "delta_col_mf_meV_stat",
                "delta_col_mf_meV_sys",
            ]
        )
        table = table.sort_values("temperature_K", kind="stable", ignore_index=True)
        summ = next((r for r in records if r.meta.get("summary") and r.success), None)
        law = None
        if summ is not None:
            tt = np.linspace(0.0, summ.values["t_c"], 200)
            curve = model_curve(summ, tt)
            law = None if curve is None else (tt, curve)
        return table, temperature_figure(table, summ, law)

    def _caption(self, job: JobConfig, summary: FitRecord | None) -> str:
        if summary is None or not summary.success:
            return job.name
        return (
            f"T_c = {summary.values['t_c']:.4g} ± {summary.stderr['t_c']:.2g} K, Δ_col(0) = "
            f"{summary.values['delta_col0']:.4g} ± {summary.stderr['delta_col0']:.2g} meV"
        )
