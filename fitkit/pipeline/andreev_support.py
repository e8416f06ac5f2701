r"""Helpers of the Andreev job kinds (:mod:`fitkit.pipeline.andreev_jobs`): value sources, tables, figures.

* per-file numbers (contact conductance, temperature) from the sample table, a file-name regex or
  the file's ``# key = value`` header (:func:`resolve_value`);
* option checks shared by the kinds;
* records from the rows of the series tables of :mod:`fitkit.analysis.andreev_series`;
* the tables and figures written to ``series/<job>/`` (object-oriented matplotlib, atomic writes).
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fitkit import units as _units
from fitkit.errors import DataValidationError
from fitkit.fitting.batch import load_sweeps
from fitkit.fitting.record import FitRecord
from fitkit.pipeline.jobs import file_hash, preprocess_sweep, safe_id

if TYPE_CHECKING:
    from fitkit.config import JobConfig, Sample
    from fitkit.io.sweep import Sweep

__all__ = [
    "contact_figure",
    "contact_table",
    "correlation_table",
    "header_value",
    "pcar_figure",
    "resolve_value",
    "temperature_figure",
]

SOURCE_KEYS = ("column", "regex", "header", "unit")
# table column of fit_contact_series / fit_temperature_series -> (parameter, unit)
TABLE_PARAMS = {
    "delta_meV": ("delta", "meV"),
    "gamma_meV": ("gamma", "meV"),
    "delta_col_meV": ("delta_col", "meV"),
    "z": ("z", "1"),
    "temperature_K": ("temperature", "K"),
    "g_n_norm": ("g_n", "norm"),
}


# --------------------------------------------------------------------------- per-file value sources
def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))


def check_source(spec: Any, option: str, quantity: str) -> list[tuple[str, str]]:
    """Problems of a value-source option (``auto`` | ``{column|regex|header: ..., unit: ...}``)."""
    path = f"options.{option}"
    if spec == "auto":
        return []
    if not isinstance(spec, Mapping):
        return [
            (path, f"{spec!r}: expected 'auto', {{column: NAME}}, {{regex: RX, unit: U}} or {{header: KEY}}")
        ]
    out = [
        (f"{path}.{k}", f"unknown key; valid keys are {list(SOURCE_KEYS)}")
        for k in spec
        if k not in SOURCE_KEYS
    ]
    which = [k for k in ("column", "regex", "header") if k in spec]
    if len(which) != 1:
        out.append((path, f"give exactly one of 'column', 'regex', 'header'; got {which}"))
        return out
    unit = spec.get("unit")
    if unit is not None:
        try:
            u = _units.UNITS[_units.canonical_unit(str(unit))]
            if u.quantity != quantity:
                out.append((f"{path}.unit", f"'{unit}' is not a {quantity} unit"))
        except (_units.UnitError, KeyError):
            out.append((f"{path}.unit", f"unknown unit '{unit}'; expected a {quantity} unit"))
    key = which[0]
    text = spec[key]
    if not isinstance(text, str) or not text:
        out.append((f"{path}.{key}", f"{text!r} is not a string"))
        return out
    if key == "regex":
        try:
            if re.compile(text).groups < 1:
                out.append((f"{path}.regex", "needs one capturing group, e.g. 'gc_([0-9.]+)G0'"))
        except re.error as err:
            out.append((f"{path}.regex", f"invalid regular expression: {err}"))
        if unit is None:
            out.append((f"{path}.unit", f"missing; the number matched by the regex needs a {quantity} unit"))
    elif unit is None:
        try:
            q, u = _units.parse_column(text)
            if _units.UNITS[u].quantity != quantity:
                out.append((f"{path}.{key}", f"'{text}' does not end in a {quantity} unit; add 'unit:'"))
        except _units.UnitError:
            out.append((f"{path}.{key}", f"'{text}' has no {quantity} unit suffix; add 'unit:'"))
    return out


def convert_to(value: float, unit: str, target: str) -> float:
    if _units.canonical_unit(unit) == target:  # no round trip through SI (0.03 G0 must stay 0.03)
        return float(value)
    return float(_units.convert(float(value), unit, target))


def _first_value(
    items: Any, name: str, target: str, key: str | None, unit: str | None
) -> tuple[float, str] | None:
    """The first ``(key, value)`` item that converts to ``target``: the named ``key``, or any key
    ``<name>_<unit>``; ``unit`` overrides the key's unit suffix.  Returns ``(value, key)``."""
    for k, v in items:
        if key is not None and k != key:
            continue
        u = unit
        if u is None:
            try:
                q, u = _units.parse_column(str(k))
            except _units.UnitError:
                continue
            if key is None and q != name:
                continue
        try:
            return convert_to(float(v), u, target), str(k)
        except (TypeError, ValueError, _units.UnitError):
            continue
    return None


def sample_value(
    sample: Sample | None, quantity: str, target: str, column: str | None, unit: str | None
) -> tuple[float, str] | None:
    """A number of the sample table in ``target`` unit: the named column, or any ``<quantity>_<unit>``."""
    if sample is None:
        return None
    got = _first_value({**dict(sample.values), **dict(sample.text)}.items(), quantity, target, column, unit)
    return None if got is None else (got[0], f"sample table '{sample.id}'.{got[1]}")


def header_value(
    sweep: Sweep, quantity: str, target: str, key: str | None = None, unit: str | None = None
) -> tuple[float, str] | None:
    """A number stored with a sweep (``# key = value`` header line or loader metadata), in ``target``.

    Parameters
    ----------
    sweep
        The sweep.
    quantity
        Physical quantity of the unit (``"conductance"``, ``"temperature"``) when ``key`` is None:
        any key ``<name>_<unit>`` whose name is ``name`` ... is accepted (see Notes).
    target
        Unit token of the result (``"G0"``, ``"K"``).
    key
        Exact header key (``"g_contact_G0"``); None: the first key ``<q>_<unit>`` with ``<q>``
        equal to the conventional name (``g_contact`` / ``temperature``).
    unit
        Unit of the header value when the key has no unit suffix.

    Returns
    -------
    tuple or None
        ``(value in target, description of the source)``, None when absent.

    Notes
    -----
    Without ``key``, a conductance is looked up as ``g_contact_<unit>`` and a temperature as
    ``temperature_<unit>``.
    """
    name = {"conductance": "g_contact", "temperature": "temperature"}.get(quantity, quantity)
    for label, source in (("header", sweep.meta.raw_header), ("metadata", sweep.meta.extra)):
        got = _first_value(source.items(), name, target, key, unit)
        if got is not None:
            return got[0], f"{label} '{got[1]}'"
    return None


def resolve_value(
    spec: Any,
    quantity: str,
    target: str,
    path: Path,
    sample: Sample | None,
    sweep: Sweep | None = None,
    sample_id: str | None = None,
) -> tuple[float | None, str]:
    """Per-file number from the sample table, the file name or the header, in ``target`` unit.

    Parameters
    ----------
    spec
        ``"auto"`` (sample table column ``<name>_<unit>``, then the header), ``{column: NAME}``,
        ``{regex: RX, unit: U}`` (first group of the file name) or ``{header: KEY}``
        (``unit:`` optional when the name ends in a unit token).
    quantity
        ``"conductance"`` or ``"temperature"``.
    target
        Unit token of the result.
    path
        The input file.
    sample
        Its sample-table row (or None).
    sweep
        The loaded sweep (None: header sources are not resolved yet; the source is ``"header"``).
    sample_id
        Sample id for messages when ``sample`` is None.

    Returns
    -------
    tuple
        ``(value or None, source or the reason it is missing)``.
    """
    name = {"conductance": "g_contact", "temperature": "temperature"}.get(quantity, quantity)
    sid = sample.id if sample is not None else sample_id
    if spec == "auto":
        got = sample_value(sample, name, target, None, None)
        if got is not None:
            return got
        if sweep is None:
            return None, "header"
        got = header_value(sweep, quantity, target)
        if got is not None:
            return got
        return None, (
            f"the sample table has no '{name}_<unit>' value for sample '{sid}' and the file has no "
            f"'# {name}_<unit> = ...' header line (e.g. '# {name}_{target} = ...'); add one, or "
            f"set options.{'g_contact' if quantity == 'conductance' else quantity}"
        )
    unit = spec.get("unit")
    if "column" in spec:
        got = sample_value(sample, name, target, spec["column"], unit)
        if got is not None:
            return got
        if sample is not None:
            return None, f"sample '{sid}' has no value in column '{spec['column']}' of the sample table"
        return None, (
            f"the sample table has no row with id '{sid}' (the file's sample id, from "
            f"inputs.sample_id_regex or the file stem); add one with a '{spec['column']}' value"
        )
    if "regex" in spec:
        m = re.search(spec["regex"], path.name)
        if m is None:
            return None, f"file name '{path.name}' does not match the regex '{spec['regex']}'"
        try:
            return convert_to(float(m.group(1)), unit, target), f"file name ({m.group(0)})"
        except (TypeError, ValueError, _units.UnitError) as err:
            return None, f"'{m.group(1)}' matched in '{path.name}' is not a number in {unit}: {err}"
    if sweep is None:
        return None, "header"
    got = header_value(sweep, quantity, target, key=spec["header"], unit=unit)
    if got is not None:
        return got
    return None, f"the file has no header line '# {spec['header']} = <number>'"


# ------------------------------------------------------------------------------------ shared helpers
def check_number(job: JobConfig, key: str, lo: float = 0.0, strict: bool = False) -> list[tuple[str, str]]:
    v = job.options.get(key)
    if v is None:
        return []
    if not is_number(v) or (v <= lo if strict else v < lo):
        rel = ">" if strict else ">="
        return [(f"options.{key}", f"{v!r} is not a number {rel} {lo}")]
    return []


def check_choice(job: JobConfig, key: str, choices: Sequence[Any]) -> list[tuple[str, str]]:
    v = job.options.get(key)
    if v is not None and v not in choices:
        return [(f"options.{key}", f"{v!r} is not one of {list(choices)}")]
    return []


def check_bool(job: JobConfig, key: str) -> list[tuple[str, str]]:
    v = job.options.get(key)
    if v is not None and not isinstance(v, bool):
        return [(f"options.{key}", f"{v!r} is not true/false")]
    return []


def check_unused(job: JobConfig, kind: str) -> list[tuple[str, str]]:
    """Problems for job keys a kind does not use (x_range, x, y): refused rather than ignored."""
    out = []
    if job.x_range is not None:
        out.append(
            (
                "x_range",
                f"not used by kind '{kind}'; crop the spectra with preprocess: "
                "[{step: crop, v_min: ..., v_max: ...}]",
            )
        )
    for key in ("x", "y"):
        if getattr(job, key) is not None:
            out.append((key, f"not used by kind '{kind}' (it reads bias_V and dIdV_norm)"))
    return out


def check_pair(job: JobConfig, key: str) -> list[tuple[str, str]]:
    v = job.options.get(key)
    if v is None:
        return []
    if (
        not isinstance(v, (list, tuple))
        or len(v) != 2
        or not all(is_number(x) for x in v)
        or not 0 <= v[0] < v[1]
    ):
        return [(f"options.{key}", f"{v!r}: expected [lo, hi] with 0 <= lo < hi")]
    return []


def series_hash(files: Sequence[Mapping[str, Any]], hashes: dict[Path, str]) -> str:
    h = hashlib.sha256()
    for f in files:
        p = Path(f["path"])
        if p not in hashes:
            hashes[p] = file_hash(p)
        h.update(hashes[p].encode())
    h.update(json.dumps(list(files), sort_keys=True, default=str).encode())
    return h.hexdigest()


def load_one(path: str, job: JobConfig) -> Sweep:
    inp = job.inputs
    assert inp is not None
    sweeps = load_sweeps(path, inp.format, inp.options)
    if len(sweeps) != 1:
        raise DataValidationError(
            f"{Path(path).name}: {len(sweeps)} spectra in the file; a series job expects one spectrum "
            "per file"
        )
    return preprocess_sweep(job, sweeps[0])


def v_mod_mV(job: JobConfig, sweeps: Sequence[Sweep]) -> tuple[float, list[str]]:
    """Lock-in modulation [mV rms]: the option, else the files' metadata (``v_mod_rms_*``), else 0."""
    opt = job.options.get("v_mod_rms_mV", "auto")
    if opt != "auto":
        return float(opt), []
    found = []
    for sw in sweeps:
        for src in (sw.meta.extra, sw.meta.raw_header):
            got = None
            for k, v in src.items():
                try:
                    q, u = _units.parse_column(str(k))
                    if q == "v_mod_rms":
                        got = convert_to(float(v), u, "mV")
                        break
                except (_units.UnitError, TypeError, ValueError):
                    continue
            if got is not None:
                found.append(got)
                break
    if not found:
        return 0.0, [
            "no lock-in modulation in the files' metadata: v_mod fixed at 0 (set options.v_mod_rms_mV)"
        ]
    warn = []
    if max(found) - min(found) > 1e-3 * max(abs(max(found)), 1e-12):
        warn.append(f"v_mod_rms differs between files ({min(found)}..{max(found)} mV); the median is used")
    return float(np.median(found)), warn


def finite(x: Any) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def row_record(
    row: Mapping[str, Any],
    sweep: Sweep | None,
    *,
    sample_id: str,
    options: Mapping[str, Any],
    config_digest: str,
    meta: Mapping[str, Any],
    message: str,
) -> FitRecord:
    """A FitRecord from one row of a series table (values, stderr; fixed = no stderr)."""
    values: dict[str, float] = {}
    stderr: dict[str, float] = {}
    unit_of: dict[str, str] = {}
    vary: dict[str, bool] = {}
    for col, (name, unit) in TABLE_PARAMS.items():
        v = row.get(col, math.nan)
        if not finite(v):
            continue
        values[name] = float(v)
        e = row.get(f"{col}_stderr", math.nan)
        stderr[name] = float(e) if finite(e) else math.nan
        unit_of[name] = unit
        vary[name] = finite(e)
    ndata = int(len(sweep.data)) if sweep is not None else 0
    nvarys = int(sum(vary.values()))
    redchi = float(row.get("redchi", math.nan))
    model = str(row.get("model", ""))
    return FitRecord(
        model_key=model,
        sample_id=sample_id,
        source_path=str(row.get("source_path", "")),
        x_column="bias_V",
        y_column="dIdV_norm",
        values=values,
        stderr=stderr,
        units=unit_of,
        vary=vary,
        redchi=redchi,
        chisqr=redchi * (ndata - nvarys) if ndata > nvarys else math.nan,
        ndata=ndata,
        nvarys=nvarys,
        success=bool(row.get("success", False)),
        message=message if bool(row.get("success", False)) else f"{message}: the fit did not converge",
        options=dict(options),
        config_digest=config_digest,
        meta=dict(meta),
    )


def wmean(values: Sequence[float], errors: Sequence[float]) -> tuple[float, float, float]:
    """Inverse-variance mean, its error scaled by sqrt(max(1, chi2_red)), and chi2_red."""
    v, e = np.asarray(values, float), np.asarray(errors, float)
    ok = np.isfinite(v) & np.isfinite(e) & (e > 0)
    if not ok.any():
        return math.nan, math.nan, math.nan
    v, w = v[ok], 1.0 / e[ok] ** 2
    m = float(np.sum(w * v) / np.sum(w))
    chi = float(np.sum(w * (v - m) ** 2) / (v.size - 1)) if v.size > 1 else math.nan
    err = float(1.0 / np.sqrt(np.sum(w)) * math.sqrt(max(1.0, chi if math.isfinite(chi) else 1.0)))
    return m, err, chi


def own_records(results: Mapping[str, list[FitRecord]], job: JobConfig) -> list[FitRecord]:
    return list(results.get(job.name, ()))


def figure_html(job: JobConfig, files: Sequence[str], caption: str, outdir: Path) -> str:
    from fitkit.pipeline.output import figure_tag

    e = html.escape
    parts = []
    for rel in files:
        if not (outdir / rel).is_file():
            continue
        if rel.endswith(".png"):
            parts.append(figure_tag(rel, caption))
        else:
            parts.append(f"<p><a href='{e(rel)}'>{e(Path(rel).name)}</a></p>")
    return "\n".join(parts)


def contact_table(records: Sequence[FitRecord]) -> Any:
    """The contact-series table (as :func:`fit_contact_series`, plus model-free columns) from records.

    Parameters
    ----------
    records
        Per-spectrum records of an ``andreev_contact_series`` job (``meta["regime"]`` set).

    Returns
    -------
    pandas.DataFrame
        Sorted by ``g_contact_G0``: regime, fitted values and stderr, ``delta_col_mf_meV`` with
        its total error ``delta_col_mf_meV_stderr`` and the parts ``delta_col_mf_meV_stat``,
        ``delta_col_mf_meV_sys``, redchi, success, model, source_path.
    """
    import pandas as pd

    out = []
    for r in records:
        row: dict[str, Any] = {
            "g_contact_G0": r.derived.get("g_contact", math.nan),
            "regime": r.meta.get("regime", ""),
            "sample_id": r.sample_id,
        }
        for col, (name, _unit) in TABLE_PARAMS.items():
            row[col] = r.values.get(name, math.nan)
            row[f"{col}_stderr"] = r.stderr.get(name, math.nan) if r.vary.get(name) else math.nan
        row["delta_col_mf_meV"] = r.derived.get("delta_col_mf", math.nan)
        row["delta_col_mf_meV_stderr"] = r.derived_stderr.get("delta_col_mf", math.nan)
        row["delta_col_mf_meV_stat"] = r.derived.get("delta_col_mf_stat", math.nan)
        row["delta_col_mf_meV_sys"] = r.derived.get("delta_col_mf_sys", math.nan)
        row.update(redchi=r.redchi, success=r.success, model=r.model_key, source_path=r.source_path)
        out.append(row)
    return pd.DataFrame(out).sort_values("g_contact_G0", kind="stable", ignore_index=True)


def contact_figure(table: Any) -> Any:
    r"""Delta and Delta_col (fits) and the model-free Delta_col (total error bars) vs contact conductance.

    Parameters
    ----------
    table
        Output of :func:`contact_table`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from fitkit.analysis.andreev_series import plot_contact_series

    fig = plot_contact_series(table)
    ax = fig.axes[0]
    ok = table["success"].to_numpy(dtype=bool) & np.isfinite(table["delta_col_mf_meV"].to_numpy(dtype=float))
    if ok.any():
        err = np.nan_to_num(table["delta_col_mf_meV_stderr"].to_numpy(dtype=float)[ok])
        ax.errorbar(
            table["g_contact_G0"].to_numpy(dtype=float)[ok] * 1.06,
            table["delta_col_mf_meV"].to_numpy(dtype=float)[ok],
            yerr=err,
            fmt="v",
            mfc="none",
            capsize=2,
            label="Δ_col (model-free d²G/dV², stat ⊕ sys)",
        )
        ax.legend(loc="best", fontsize="small")
    return fig


def temperature_figure(table: Any, summary: FitRecord | None) -> Any:
    r"""Delta_col per spectrum (fit stderr) against temperature, with the fitted BCS law.

    Parameters
    ----------
    table
        Per-spectrum table (``temperature_K``, ``delta_col_meV`` and its stderr, ``success``).
    summary
        The summary record (``t_c``, ``delta_col0``), or None (points only).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    from fitkit.analysis.andreev_series import bcs_delta_col_law

    fig = Figure(figsize=(5.0, 3.8), layout="constrained")
    ax = fig.add_subplot()
    ok = table["success"].to_numpy(dtype=bool)
    t = table["temperature_K"].to_numpy(dtype=float)[ok]
    d = table["delta_col_meV"].to_numpy(dtype=float)[ok]
    e = np.nan_to_num(table["delta_col_meV_stderr"].to_numpy(dtype=float)[ok])
    ax.errorbar(t, d, yerr=e, fmt="o", capsize=2, label="Δ_col (fit per spectrum)")
    if summary is not None:
        tc, d0 = summary.values["t_c"], summary.values["delta_col0"]
        tt = np.linspace(0.0, tc, 200)
        ax.plot(
            tt,
            bcs_delta_col_law(tt, tc, d0),
            label=f"BCS law: T_c = {tc:.3f} ± {summary.stderr['t_c']:.1g} K, Δ_col(0) = {d0:.4f} meV",
        )
    ax.set_xlabel("temperature (K)")
    ax.set_ylabel("Δ_col (meV)")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.legend(loc="best", fontsize="small")
    return fig


def pcar_dirname(rec: FitRecord) -> str:
    item = safe_id(str(rec.meta.get("item_id", rec.sample_id or "pcar")))
    return item if "sweep_index" not in rec.meta else f"{item}__{int(rec.meta['sweep_index']):04d}"


def correlation_table(rec: FitRecord) -> Any:
    """Correlation matrix of the varied parameters of a fit record (diagonal 1, NaN if not estimated).

    Parameters
    ----------
    rec
        A fit record.

    Returns
    -------
    pandas.DataFrame
        Column ``parameter`` then one column per varied parameter.
    """
    import pandas as pd

    names = [n for n, v in rec.vary.items() if v]
    rows = []
    for a in names:
        row: dict[str, Any] = {"parameter": a}
        for b in names:
            row[b] = 1.0 if a == b else float(rec.correlations.get(a, {}).get(b, math.nan))
        rows.append(row)
    return pd.DataFrame(rows, columns=["parameter", *names])


def pcar_figure(rec: FitRecord, profile: Any, sweep: Sweep | None) -> Any:
    r"""Data, fit and residuals (when the sweep is given) and the chi^2(P) profile.

    Parameters
    ----------
    rec
        The ``btk_polarized`` fit record (the curve is rebuilt from its values).
    profile
        The :func:`fitkit.analysis.pcar.chi2_profile` table.
    sweep
        The fitted spectrum, or None (profile only).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    from fitkit.report.plots import model_curve

    fig = Figure(figsize=(9.0, 4.2), layout="constrained")
    grid = fig.add_gridspec(2, 2, height_ratios=(3, 1))
    if sweep is not None:
        ax = fig.add_subplot(grid[0, 0])
        axr = fig.add_subplot(grid[1, 0], sharex=ax)
        x, y = sweep.column("bias_V"), sweep.column("dIdV_norm")
        order = np.argsort(x)
        x, y = x[order], y[order]
        xmv = _units.convert(x, "V", "mV")
        ax.plot(xmv, y, ".", ms=3, label="data")
        fit = model_curve(rec, x)
        if fit is not None:
            ax.plot(xmv, fit, "-", label=f"btk_polarized fit ({rec.options.get('polarized_form', '')})")
            axr.plot(xmv, y - fit, ".", ms=3)
        axr.axhline(0.0, color="0.5", lw=0.8)
        ax.set_ylabel("G/G_N")
        axr.set_xlabel("bias (mV)")
        axr.set_ylabel("residual")
        ax.legend(loc="best", fontsize="small")
        v, e = rec.values, rec.stderr
        ax.set_title(
            f"P = {v['polarization']:.3f} ± {e.get('polarization', math.nan):.3f}, Z = {v['z']:.3f}, "
            f"Δ = {v['delta']:.3f} meV",
            fontsize="small",
        )
    axp = fig.add_subplot(grid[:, 1])
    axp.plot(profile["polarization"], profile["chisqr"], "o-", label="χ²(P), others refitted")
    axp.axhline(rec.chisqr, color="0.5", ls="--", lw=0.8, label="free-P fit")
    axp.set_xlabel("spin polarisation P (fixed)")
    axp.set_ylabel("χ² (sum of squared residuals)")
    axp.set_yscale("log")
    axp.legend(loc="best", fontsize="small")
    return fig
