r"""Job kinds for Andreev spectroscopy: contact series and temperature series (PCAR: :mod:`.pcar_job`).

* ``andreev_contact_series`` - all input files of the job form **one** series (one item, run by a
  worker like any other item): the spectra of one tip position at increasing contact
  conductance.  :func:`fitkit.analysis.andreev_series.fit_contact_series` fits the tunnelling
  spectra (g < ``tunnel_below_G0``) with ``nis`` and the transparent ones with
  ``andreev_collective``; each transparent spectrum also gets the model-free collective gap of
  :func:`fitkit.analysis.collective_gap.collective_gap_from_derivatives` (derived
  ``delta_col_mf`` [meV] whose stderr is the total error, statistical and systematic in
  quadrature; ``delta_col_mf_stat`` and ``delta_col_mf_sys`` [meV] list the two parts).  The
  contact conductance of each file comes from the sample table, a file-name regex or the file's
  ``# g_contact_G0 = ...`` header line (option ``g_contact``).
* ``andreev_temperature_series`` - one contact at several temperatures:
  :func:`fitkit.analysis.andreev_series.fit_temperature_series` fits :math:`\Delta_{col}` per
  spectrum (Delta, Gamma, Z held at the lowest-temperature values) and the BCS-shaped law
  :math:`\Delta_{col}(T)=\Delta_{col}(0)\,g(T/T_c)`; the summary record holds ``t_c`` [K] and
  ``delta_col0`` [meV] with their standard errors.
* ``pcar_profile`` - in :mod:`fitkit.pipeline.pcar_job` (registered when this module is imported).

Every kind returns plain :class:`~fitkit.fitting.record.FitRecord` objects (so the numbers land
in ``results.csv/json/h5``); :meth:`finalize` writes the series tables and figures atomically into
``series/<job>/`` from those records (so a resumed run redraws them without refitting), and
:meth:`report_section` shows them in ``index.html``.

Example jobs::

    - name: contact
      kind: andreev_contact_series
      inputs: {files: "andreev_ino/contact_series/*.csv"}
      options: {g_contact: auto, tunnel_below_G0: 0.2}
    - name: tseries
      kind: andreev_temperature_series
      inputs: {files: "andreev_ino/temperature_series/*.csv"}

References
----------
.. [1] T. Dubouchet et al., "Collective energy gap of preformed Cooper pairs in disordered
   superconductors", Nat. Phys. 15, 233 (2019).
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fitkit import units as _units
from fitkit.errors import DataValidationError
from fitkit.fitting.batch import CAPTURED_ERRORS
from fitkit.fitting.record import FitRecord
from fitkit.pipeline.andreev_support import (
    check_bool,
    check_choice,
    check_number,
    check_pair,
    check_source,
    check_unused,
    contact_figure,
    contact_table,
    figure_html,
    finite,
    is_number,
    load_one,
    own_records,
    resolve_value,
    row_record,
    series_hash,
    temperature_figure,
    v_mod_mV,
    wmean,
)
from fitkit.pipeline.jobs import (
    ItemTask,
    JobKind,
    file_sample_id,
    item_failure,
    item_meta,
    register_job_kind,
)
from fitkit.report.writer import atomic_write_csv, atomic_write_png

if TYPE_CHECKING:
    from fitkit.config import JobConfig, RunConfig
    from fitkit.io.sweep import Sweep

__all__ = [
    "AndreevContactSeriesJob",
    "AndreevTemperatureSeriesJob",
    "PcarProfileJob",
    "resolve_value",
]

SERIES_ITEM = "series"
"""Item id of the single item of a series job (``items/<job>/series.json``)."""

_FORMS = ("pm2", "pm1", "pm3")


class _SeriesKind(JobKind):
    """Common part of the series kinds: all input files of the job are one item."""

    value_option: str = ""
    value_quantity: str = ""
    value_unit: str = ""
    table_file: str = ""
    figure_file: str = ""

    def expand(self, job: JobConfig, cfg: RunConfig, hashes: dict[Path, str]) -> list[tuple[str, dict, str]]:
        """One item holding every input file, with the per-file values known before loading."""
        if job.inputs is None:
            return []
        spec = job.options.get(self.value_option, "auto")
        files = []
        for f in job.inputs.files:
            sid = str(file_sample_id(job, f.path, f.sample_id, default=f.path.stem))
            value, source = resolve_value(
                spec, self.value_quantity, self.value_unit, f.path, cfg.sample(sid), sample_id=sid
            )
            files.append({"path": str(f.path), "sample_id": sid, "value": value, "source": source})
        payload = {"files": files}
        return [(SERIES_ITEM, payload, series_hash(files, hashes))]

    def _load(
        self, task: ItemTask
    ) -> tuple[list[tuple[Mapping[str, Any], Sweep, float, str]], list[FitRecord]]:
        """Load every file and its value; files that fail become failed records."""
        job = task.job
        spec = job.options.get(self.value_option, "auto")
        good, bad = [], []
        for f in task.payload["files"]:
            meta = {**item_meta(task), "file": Path(f["path"]).name}
            try:
                sw = load_one(f["path"], job)
                value, source = f["value"], f["source"]
                if value is None and source == "header":
                    value, source = resolve_value(
                        spec,
                        self.value_quantity,
                        self.value_unit,
                        Path(f["path"]),
                        None,
                        sw,
                        sample_id=f["sample_id"],
                    )
                if value is None or not math.isfinite(value):
                    raise DataValidationError(
                        f"{self.name} job '{job.name}': no {self._what()} for "
                        f"'{Path(f['path']).name}': {source}"
                    )
            except CAPTURED_ERRORS as err:
                sid, path = f["sample_id"], f["path"]
                bad.append(
                    item_failure(task, err, model_key=self.name, sample_id=sid, source_path=path, meta=meta)
                )
                continue
            good.append((f, sw, float(value), source))
        return good, bad

    def _series_failed(
        self, task: ItemTask, err: BaseException | str, earlier: Sequence[FitRecord]
    ) -> list[FitRecord]:
        """``earlier`` and a failed record of the whole series (an exception is re-raised when strict)."""
        failed = item_failure(task, err, model_key=self.name, sample_id=task.job.name, source_path="")
        return [*earlier, failed]

    def _table_and_figure(self, records: Sequence[FitRecord]) -> tuple[Any, Any] | None:
        """The series table and figure drawn from the job's records (None: nothing to draw)."""
        raise NotImplementedError

    def _caption(self, job: JobConfig, summary: FitRecord | None) -> str:
        """Caption of the series figure in ``index.html``."""
        raise NotImplementedError

    def finalize(
        self,
        job: JobConfig,
        cfg: RunConfig,
        results: Mapping[str, list[FitRecord]],
        outdir: str | os.PathLike[str] | None = None,
    ) -> list[FitRecord]:
        """Write ``series/<job>/<table_file>`` and ``<figure_file>`` from the records (no new records)."""
        if outdir is None:
            return []
        got = self._table_and_figure(own_records(results, job))
        if got is None:
            return []
        folder = Path(outdir) / "series" / job.name
        atomic_write_csv(folder / self.table_file, got[0])
        atomic_write_png(folder / self.figure_file, got[1])
        return []

    def report_section(
        self,
        job: JobConfig,
        cfg: RunConfig,
        records: Sequence[FitRecord],
        outdir: Path,
        display_units: Mapping[str, str],
    ) -> str:
        """The series figure (with the summary as caption) and the table link."""
        base = f"series/{job.name}/"
        summ = next((r for r in records if r.meta.get("summary")), None)
        files = [base + self.figure_file, base + self.table_file]
        return figure_html(job, files, self._caption(job, summ), outdir)

    def _what(self) -> str:
        return {"conductance": "contact conductance", "temperature": "temperature"}[self.value_quantity]

    def _validate_common(self, job: JobConfig) -> list[tuple[str, str]]:
        out = check_source(job.options.get(self.value_option, "auto"), self.value_option, self.value_quantity)
        v = job.options.get("v_mod_rms_mV")
        if v is not None and v != "auto" and not (is_number(v) and v >= 0):
            out.append(("options.v_mod_rms_mV", f"{v!r}: expected 'auto' or a number >= 0 (mV rms)"))
        out += check_choice(job, "form", _FORMS)
        if job.inputs is not None and len(job.inputs.files) < 2:
            out.append(
                (
                    "inputs.files",
                    f"a '{self.name}' job needs the files of a whole series (>= 2); "
                    f"got {len(job.inputs.files)}",
                )
            )
        return out


# --------------------------------------------------------------------------------- contact series
@register_job_kind
class AndreevContactSeriesJob(_SeriesKind):
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
    option_keys = (
        "g_contact",
        "tunnel_below_G0",
        "temperature_K",
        "v_mod_rms_mV",
        "form",
        "model_free",
        "search_mV",
        "derivative",
        "n_bootstrap",
    )
    value_option = "g_contact"
    value_quantity = "conductance"
    value_unit = "G0"
    table_file = "contact_series.csv"
    figure_file = "delta_vs_g_contact.png"

    def validate(self, job: JobConfig, cfg: RunConfig) -> list[tuple[str, str]]:
        """Kind-specific problems (option types, value source)."""
        out = super().validate(job, cfg) + self._validate_common(job) + check_unused(job, self.name)
        out += check_number(job, "tunnel_below_G0", 0.0, strict=True)
        out += check_number(job, "temperature_K", 0.0, strict=True)
        out += check_bool(job, "model_free") + check_pair(job, "search_mV")
        out += check_choice(job, "derivative", ("d2G", "dG"))
        nb = job.options.get("n_bootstrap")
        if nb is not None and (not isinstance(nb, int) or isinstance(nb, bool) or nb < 0):
            out.append(("options.n_bootstrap", f"{nb!r} is not an integer >= 0"))
        return out

    def run_item(self, task: ItemTask) -> list[FitRecord]:
        """Fit the whole series; one record per spectrum plus a summary record."""
        from fitkit.analysis.andreev_series import fit_contact_series

        job = task.job
        opts = dict(job.options)
        good, recs = self._load(task)
        base_meta = item_meta(task)
        if not good:
            msg = f"{self.name} job '{job.name}': no spectrum with a contact conductance could be read"
            return self._series_failed(task, msg, recs)
        v_mod, warn = v_mod_mV(job, [g[1] for g in good])
        form = str(opts.get("form", "pm2"))
        try:
            table, _fig = fit_contact_series(
                [g[1] for g in good],
                [g[2] for g in good],
                unit="G0",
                tunnel_below_G0=float(opts.get("tunnel_below_G0", 0.2)),
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
            rec = row_record(
                row,
                sw,
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
                warnings=tuple(warn),
            )
            if not tunnel and opts.get("model_free", True) and rec.success:
                rec = self._model_free(rec, sw, opts, task.strict)
            rows.append(rec)
        return [*rows, *recs, self._summary(rows, job, task, warn)]

    @staticmethod
    def _model_free(rec: FitRecord, sweep: Sweep, opts: Mapping[str, Any], strict: bool) -> FitRecord:
        from fitkit.analysis.collective_gap import collective_gap_from_derivatives

        delta = rec.values.get("delta", math.nan)
        search = opts.get("search_mV") or (0.1 * delta, 0.8 * delta)
        y = sweep.column("dIdV_norm") if "dIdV_norm" in sweep.data else sweep.column("dIdV_S")
        try:
            est = collective_gap_from_derivatives(
                _units.convert(sweep.column("bias_V"), "V", "mV"),
                y,
                search_mV=(float(search[0]), float(search[1])),
                derivative=opts.get("derivative", "d2G"),
                n_bootstrap=int(opts.get("n_bootstrap", 40)),
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
            m, e, chi = wmean(
                [r.values["delta"] for r in tun], [r.stderr.get("delta", math.nan) for r in tun]
            )
            put("delta", m, e, "meV")
            put("delta_chi2_red", chi, math.nan, "1")
        if andr:
            m, e, chi = wmean(
                [r.values["delta_col"] for r in andr], [r.stderr.get("delta_col", math.nan) for r in andr]
            )
            put("delta_col", m, e, "meV")
            put("delta_col_chi2_red", chi, math.nan, "1")
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
            meta={**item_meta(task), "summary": True},
        )

    def _table_and_figure(self, records: Sequence[FitRecord]) -> tuple[Any, Any] | None:
        rows = [r for r in records if "regime" in r.meta]
        if not rows:
            return None
        table = contact_table(rows)
        return table, contact_figure(table)

    def _caption(self, job: JobConfig, summary: FitRecord | None) -> str:
        return summary.message if summary is not None else job.name


# ----------------------------------------------------------------------------- temperature series
@register_job_kind
class AndreevTemperatureSeriesJob(_SeriesKind):
    r"""Delta_col(T) of one contact and its BCS-law T_c (``kind: andreev_temperature_series``).

    All input files form one series (one item).  Options: ``temperature`` (``auto`` = sample
    column ``temperature_<unit>``, else the file's metadata ``temperature_K``; or
    ``{column: ...}``, ``{regex: RX, unit: K}``, ``{header: KEY}``), ``v_mod_rms_mV`` (``auto``),
    ``form`` (``pm2``), ``hold`` (parameters fitted at the lowest temperature, then held; default
    ``[delta, gamma, z]``).

    Records: one per spectrum (``andreev_collective``; held parameters have vary = false) and a
    summary record (``model_key = andreev_temperature_series``): ``t_c`` [K], ``delta_col0``
    [meV] with standard errors, derived ``gap_ratio`` = Delta_col(0)/(k_B T_c) (error without
    the t_c-delta_col0 correlation, which the analysis does not return).  Files:
    ``series/<job>/temperature_series.csv``, ``series/<job>/delta_col_vs_T.png``.
    """

    name = "andreev_temperature_series"
    derived_units = {"t_c": "K", "delta_col0": "meV"}
    description = "Delta_col(T) of one Andreev contact and the BCS-law T_c, Delta_col(0)"
    option_keys = ("temperature", "v_mod_rms_mV", "form", "hold")
    value_option = "temperature"
    value_quantity = "temperature"
    value_unit = "K"
    table_file = "temperature_series.csv"
    figure_file = "delta_col_vs_T.png"

    def validate(self, job: JobConfig, cfg: RunConfig) -> list[tuple[str, str]]:
        """Kind-specific problems (option types, value source, held parameters)."""
        out = super().validate(job, cfg) + self._validate_common(job) + check_unused(job, self.name)
        hold = job.options.get("hold")
        if hold is not None:
            from fitkit.models import get_model

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
        from fitkit.analysis.andreev_series import fit_temperature_series
        from fitkit.constants import K_B_MEV_PER_K

        job = task.job
        opts = dict(job.options)
        good, bad = self._load(task)
        base_meta = item_meta(task)
        v_mod, warn = v_mod_mV(job, [g[1] for g in good]) if good else (0.0, [])
        form = str(opts.get("form", "pm2"))
        try:
            res = fit_temperature_series(
                [g[1] for g in good],
                [g[2] for g in good],
                v_mod_rms_mV=v_mod,
                form=form,  # type: ignore[arg-type]
                hold=tuple(opts.get("hold", ("delta", "gamma", "z"))),
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
            rec = row_record(
                row,
                sw,
                sample_id=f["sample_id"],
                options={"form": form},
                config_digest=task.config_digest,
                meta=meta,
                message=f"temperature series: Delta_col at {t:.4g} K",
            )
            rows.append(dataclasses.replace(rec, source_path=f["path"], warnings=tuple(warn)))
        kt = K_B_MEV_PER_K * res.t_c
        ratio_err = res.ratio * math.hypot(res.delta0_stderr / res.delta0, res.t_c_stderr / res.t_c)
        used = [r for r in rows if r.success and finite(r.stderr.get("delta_col"))]
        summary = FitRecord(
            model_key=self.name,
            sample_id=job.name,
            x_column="temperature_K",
            y_column="delta_col_meV",
            values={"t_c": res.t_c, "delta_col0": res.delta0},
            stderr={"t_c": res.t_c_stderr, "delta_col0": res.delta0_stderr},
            units={"t_c": "K", "delta_col0": "meV"},
            vary={"t_c": True, "delta_col0": True},
            derived={"gap_ratio": res.delta0 / kt},
            derived_stderr={"gap_ratio": ratio_err},
            derived_units={"gap_ratio": "1"},
            redchi=res.redchi,
            ndata=len(used),
            nvarys=2,
            success=bool(math.isfinite(res.t_c) and math.isfinite(res.delta0)),
            message=f"BCS law Delta_col(T) over {len(used)} spectra",
            warnings=(*warn, *([f"{len(bad)} file(s) left out (see their records)"] if bad else [])),
            config_digest=task.config_digest,
            meta={**base_meta, "summary": True, "hold": list(opts.get("hold", ("delta", "gamma", "z")))},
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
        return table, temperature_figure(table, summ)

    def _caption(self, job: JobConfig, summary: FitRecord | None) -> str:
        if summary is None or not summary.success:
            return job.name
        return (
            f"T_c = {summary.values['t_c']:.4g} ± {summary.stderr['t_c']:.2g} K, Δ_col(0) = "
            f"{summary.values['delta_col0']:.4g} ± {summary.stderr['delta_col0']:.2g} meV"
        )


# the PCAR kind lives in its own module; importing it here keeps registering it with the Andreev kinds
from fitkit.pipeline.pcar_job import PcarProfileJob  # noqa: E402
