r"""Tables, figures and HTML fragments of the series job kinds and of the run report.

Everything here draws from records and tables (no fitting, no physics): the contact-series and
temperature-series tables and figures of the Andreev kinds, the PCAR figure, the correlation table
of a record, the per-job "value across items" figure, and the ``<figure>`` HTML of ``index.html``.
Object-oriented matplotlib only (no pyplot state); write figures with
:func:`fitkit.report.writer.atomic_write_png`.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from fitkit import units as _units
from fitkit.fitting.record import FitRecord
from fitkit.report.plots import model_curve
from fitkit.report.tables import resolve_display_unit
from fitkit.report.writer import format_value_error

__all__ = [
    "TABLE_PARAMS",
    "annotate_points",
    "contact_figure",
    "contact_table",
    "correlation_table",
    "figure_html",
    "figure_tag",
    "format_quantity",
    "pcar_figure",
    "plot_contact_series",
    "plot_values_by_item",
    "qps_table_html",
    "temperature_figure",
]

TABLE_PARAMS = {
    "delta_meV": ("delta", "meV"),
    "gamma_meV": ("gamma", "meV"),
    "delta_col_meV": ("delta_col", "meV"),
    "z": ("z", "1"),
    "temperature_K": ("temperature", "K"),
    "g_n_norm": ("g_n", "norm"),
}
"""Series-table column -> (parameter, unit) of the Andreev series tables."""


def format_quantity(
    value: float, err: float, unit: str, display_units: Mapping[str, str] | None = None, name: str = ""
) -> str:
    """``value +- err`` in concise notation (``0.231(4) meV``), in the display unit of ``name`` / ``unit``.

    The display unit follows :func:`fitkit.report.tables.resolve_display_unit`; a display unit of
    another quantity is ignored here (the tables raise for it); a value that cannot be formatted is
    shown with 6 significant digits.
    """
    du = unit
    if unit in _units.UNITS:
        try:
            du = resolve_display_unit(name, unit, display_units)
        except _units.UnitError:
            du = unit
        if du != unit:
            f = float(_units.convert(1.0, unit, du))
            value, err = value * f, err * f
    try:
        return format_value_error(value, err, du)
    except (ValueError, OverflowError):
        return f"{value:.6g}"


def qps_table_html(records: Sequence[FitRecord], display_units: Mapping[str, str]) -> str:
    """HTML table of ``qps_join`` records: g_xi, g_Z, xi, L, L_c, L/L_c and the regime per sample."""
    e = html.escape
    rows = [
        "<table><tr><th>sample</th><th>g<sub>ξ</sub></th><th>g<sub>Z</sub></th><th>ξ</th>"
        "<th>L</th><th>L<sub>c</sub></th><th>L/L<sub>c</sub></th><th>regime</th></tr>"
    ]
    for r in records:
        if not r.success:
            rows.append(
                f"<tr class='failed'><td>{e(r.sample_id)}</td><td colspan='7'>{e(r.message)}</td></tr>"
            )
            continue
        d, s = r.derived, r.derived_stderr
        cells = [
            format_quantity(d["g_xi"], s.get("g_xi", math.nan), "1", display_units),
            format_quantity(d["g_z"], s.get("g_z", math.nan), "1", display_units),
            format_quantity(d["xi"], math.nan, "nm", {"length": "nm", **display_units}),
            format_quantity(d["length"], math.nan, "nm", {"length": "um", **display_units}),
            format_quantity(d["l_c"], s.get("l_c", math.nan), "nm", {"length": "um", **display_units}),
            format_quantity(d["length_over_l_c"], s.get("length_over_l_c", math.nan), "1", display_units),
        ]
        rows.append(
            f"<tr><td>{e(r.sample_id)}</td>"
            + "".join(f"<td>{e(c)}</td>" for c in cells)
            + f"<td>{e(str(r.meta.get('regime', '')))}</td></tr>"
        )
    rows.append("</table>")
    return "\n".join(rows)


def figure_tag(src: str, caption: str, *, alt: str | None = None, inline: bool = False) -> str:
    """HTML of a figure linked to its image, with a caption (``inline``: side by side with others)."""
    e = html.escape
    style = " style='display:inline-block'" if inline else ""
    alt_attr = f" alt='{e(alt)}'" if alt is not None else ""
    return (
        f"<figure{style}><a href='{e(src)}'><img src='{e(src)}'{alt_attr}></a>"
        f"<figcaption>{e(caption)}</figcaption></figure>"
    )


def figure_html(files: Sequence[str], caption: str, outdir: Path) -> str:
    """Figures (``.png``) and links (other files) of those ``files`` (relative to ``outdir``) that exist."""
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


def annotate_points(ax: Any, xs: Any, ys: Any, labels: Sequence[str],
                    offset: tuple[int, int] = (4, 4)) -> None:
    """Write a small label next to each point (sample ids on series figures), ``offset`` points away."""
    for x, y, text in zip(xs, ys, labels, strict=True):
        ax.annotate(str(text), (x, y), textcoords="offset points", xytext=offset, fontsize=7,
                    parse_math=False)


def plot_values_by_item(labels: Sequence[str], y: Any, yerr: Any, *, ylabel: str, title: str) -> Figure:
    """Value +- stderr of one quantity against the item order (one point per item, labelled ticks)."""
    fig = Figure(figsize=(max(4.0, 0.35 * len(labels) + 2), 3.2))
    ax = fig.add_subplot()
    ax.errorbar(range(len(labels)), np.asarray(y, float), yerr=np.asarray(yerr, float), fmt="o", capsize=3)
    ax.set_xticks(range(len(labels)), list(labels), rotation=60, ha="right", fontsize=7, parse_math=False)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    fig.tight_layout()
    return fig


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


def plot_contact_series(table: pd.DataFrame) -> Figure:
    r"""Figure of :math:`\Delta` and :math:`\Delta_{col}` versus contact conductance (contact-series table).

    Parameters
    ----------
    table
        The table of :func:`fit_contact_series`.

    Returns
    -------
    matplotlib.figure.Figure
        One axes, log conductance axis, error bars = fit stderr.
    """
    fig = Figure(figsize=(5.5, 4.0))
    ax = fig.add_subplot()
    ok = table["success"].to_numpy(dtype=bool)
    tun = ok & (table["regime"] == "tunnelling").to_numpy()
    andr = ok & (table["regime"] == "andreev").to_numpy()
    g = table["g_contact_G0"].to_numpy()

    def err(col: str, mask: np.ndarray) -> np.ndarray:
        return np.nan_to_num(table[f"{col}_stderr"].to_numpy()[mask], nan=0.0)

    ax.errorbar(g[tun], table["delta_meV"].to_numpy()[tun], yerr=err("delta_meV", tun), fmt="o",
                label="Δ (NIS fit, tunnelling)")
    ax.errorbar(g[andr], table["delta_meV"].to_numpy()[andr], yerr=err("delta_meV", andr), fmt="s",
                mfc="none", label="Δ (Andreev fit)")
    ax.errorbar(g[andr], table["delta_col_meV"].to_numpy()[andr], yerr=err("delta_col_meV", andr), fmt="D",
                label="Δ_col (Andreev fit)")
    ax.set_xscale("log")
    ax.set_xlabel("contact conductance (2e²/h)")
    ax.set_ylabel("energy (meV)")
    ax.set_ylim(bottom=0)
    ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    return fig


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


def temperature_figure(table: Any, summary: FitRecord | None, law: tuple[Any, Any] | None = None) -> Any:
    r"""Delta_col per spectrum (fit stderr) against temperature, with the fitted BCS law.

    Parameters
    ----------
    table
        Per-spectrum table (``temperature_K``, ``delta_col_meV`` and its stderr, ``success``).
    summary
        The summary record (``t_c``, ``delta_col0``), or None (points only).
    law
        ``(temperature, delta_col)`` of the fitted law on a grid (drawn with the summary's label).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = Figure(figsize=(5.0, 3.8), layout="constrained")
    ax = fig.add_subplot()
    ok = table["success"].to_numpy(dtype=bool)
    t = table["temperature_K"].to_numpy(dtype=float)[ok]
    d = table["delta_col_meV"].to_numpy(dtype=float)[ok]
    e = np.nan_to_num(table["delta_col_meV_stderr"].to_numpy(dtype=float)[ok])
    ax.errorbar(t, d, yerr=e, fmt="o", capsize=2, label="Δ_col (fit per spectrum)")
    if summary is not None and law is not None:
        tc, d0 = summary.values["t_c"], summary.values["delta_col0"]
        ax.plot(
            law[0],
            law[1],
            label=f"BCS law: T_c = {tc:.3f} ± {summary.stderr['t_c']:.1g} K, Δ_col(0) = {d0:.4f} meV",
        )
    ax.set_xlabel("temperature (K)")
    ax.set_ylabel("Δ_col (meV)")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.legend(loc="best", fontsize="small")
    return fig


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
    names = [n for n, v in rec.vary.items() if v]
    rows = []
    for a in names:
        row: dict[str, Any] = {"parameter": a}
        for b in names:
            row[b] = 1.0 if a == b else float(rec.correlations.get(a, {}).get(b, math.nan))
        rows.append(row)
    return pd.DataFrame(rows, columns=["parameter", *names])


def pcar_figure(rec: FitRecord, profile: Any, sweep: Any) -> Any:
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
        p_text = rec.meta.get("polarization_statement") or (
            f"P = {v['polarization']:.3f} ± {e.get('polarization', math.nan):.3f}")
        ax.set_title(
            f"{p_text}, Z = {v['z']:.3f}, "
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
