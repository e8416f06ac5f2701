r"""Job-level kinds that join or fit results across samples: ``qps_join`` and ``finkelstein``.

* ``qps_join`` (``from: [rt_job, spectra_job]``): per sample, :math:`g_\xi` from a phase-slip fit
  and :math:`g_Z` from a ``sis_plasmon`` fit give the QPS correlation length
  :math:`L_c = \xi\exp[(a g_\xi-\ln b)/(2-g_Z/8)]` with its propagated error
  (:func:`fitkit.analysis.qps.qps_join`, i.e. :func:`fitkit.physics.wire.qps_length_with_error`)
  and the regime of the wire (:func:`fitkit.physics.wire.qps_regime`, also at L_c +- sigma).
  A sample missing either partner becomes a failed record; the run goes on.
* ``finkelstein`` (``from: [transition_or_fit_job]``): one fit of Finkel'stein's
  :math:`T_c(R_\square)` (:func:`fitkit.physics.films.finkelstein_tc`, free :math:`T_{c0}` and
  :math:`\gamma = \ln(\hbar/k_BT_{c0}\tau)`) across the films of the sample table.

Both produce plain :class:`~fitkit.fitting.record.FitRecord` objects (numbers in ``values`` /
``derived``, text such as the regime in ``meta``) and draw their own report section
(:meth:`JobKind.report_section`): ``series/<job>/finkelstein.png`` and an L_c table.

References
----------
.. [1] K. Yu. Arutyunov et al., "Superconducting insulators and localization of Cooper pairs",
   Commun. Phys. 4, 146 (2021), Eq. (3).
.. [2] A. M. Finkel'stein, "Suppression of superconductivity in homogeneously disordered
   systems", Physica B 197, 636 (1994).
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fitkit import units as _units
from fitkit.errors import DataValidationError, FitError
from fitkit.fitting.batch import CAPTURED_ERRORS, failed_record
from fitkit.fitting.record import FitRecord
from fitkit.pipeline.jobs import JobKind, _param_root, register_job_kind
from fitkit.report.writer import atomic_write_png

if TYPE_CHECKING:
    from fitkit.config import JobConfig, RunConfig, Sample

__all__ = [
    "FinkelsteinJob",
    "QpsJoinJob",
    "combine",
    "fit_finkelstein",
    "find_quantity",
    "length_option",
]


# ------------------------------------------------------------------------------------------- helpers
def find_quantity(rec: FitRecord, name: str) -> tuple[float, float, str] | None:
    """``(value, stderr, unit)`` of a parameter or derived quantity of a record, or None.

    ``name`` matches a parameter by its root (``"t_c"`` matches ``t_c`` and ``w1_t_c``), or a
    derived quantity by its full name or its ``<name>_<unit>`` column (``"t_c50"`` matches
    ``t_c50`` stored in K, and so does ``"t_c50_K"``).

    Parameters
    ----------
    rec
        A fit or descriptor record.
    name
        Parameter root or quantity name.

    Returns
    -------
    tuple or None
        Value and standard error (NaN when unknown) in ``unit``.
    """
    # an exact name first: "xi" must not pick up "g_xi" as a prefixed "xi"
    hits = [n for n in rec.values if n == name] or [n for n in rec.values if _param_root(n, name)]
    for n in hits:
        return float(rec.values[n]), float(rec.stderr.get(n, math.nan)), rec.units.get(n, "")
    try:  # "t_zero_K" names the quantity t_zero (stored in any temperature unit)
        root = _units.parse_column(name)[0]
    except _units.UnitError:
        root = name
    for n, v in rec.derived.items():
        unit = rec.derived_units.get(n, "")
        if n in (name, root) or (unit and n == f"{name}_{unit}"):
            return float(v), float(rec.derived_stderr.get(n, math.nan)), unit
    return None


def _to(value: float, err: float, unit: str, target: str) -> tuple[float, float]:
    if unit in ("", target):
        return value, err
    f = _units.convert(1.0, unit, target)
    return value * f, err * f


def combine(values: Sequence[float], errors: Sequence[float]) -> tuple[float, float]:
    """Combine repeated measurements: inverse-variance mean when every error is finite and > 0.

    Parameters
    ----------
    values, errors
        Values and standard errors (same unit).

    Returns
    -------
    tuple of float
        Mean and its standard error (the plain mean and the standard error of the mean, or
        NaN for a single value, when some error is unknown).
    """
    v = np.asarray(values, dtype=float)
    e = np.asarray(errors, dtype=float)
    if v.size == 1:
        return float(v[0]), float(e[0])
    if np.all(np.isfinite(e) & (e > 0)):
        w = 1.0 / e**2
        return float(np.sum(w * v) / np.sum(w)), float(1.0 / np.sqrt(np.sum(w)))
    return float(v.mean()), float(v.std(ddof=1) / np.sqrt(v.size))


def length_option(spec: Any) -> float:
    """A length option in nm: ``{value: 145, unit: nm}`` or ``"2 um"``.

    Raises
    ------
    ValueError
        If the value is not a number with a length unit.
    """
    if isinstance(spec, Mapping):
        value, unit = spec.get("value"), spec.get("unit")
    elif isinstance(spec, str) and len(spec.split()) == 2:
        value, unit = spec.split()
    else:
        raise ValueError(f"{spec!r}: expected {{value: NUMBER, unit: nm|um|m}} or 'NUMBER UNIT'")
    try:
        v = float(value)
        u = _units.UNITS[_units.canonical_unit(str(unit))]
    except (TypeError, ValueError, _units.UnitError) as err:
        raise ValueError(f"{spec!r}: expected a number and a length unit ({err})") from err
    if u.quantity != "length" or not v > 0:
        raise ValueError(f"{spec!r}: expected a positive length (nm, um, m)")
    return float(_units.convert(v, u.token, "nm"))


def _positive_options(job: JobConfig, keys: Sequence[str]) -> list[tuple[str, str]]:
    """Problems of options that must be positive numbers when given."""
    out = []
    for key in keys:
        v = job.options.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0):
            out.append((f"options.{key}", f"{v!r} is not a positive number"))
    return out


def _sample_length(sample: Sample | None, quantity: str) -> float | None:
    if sample is None:
        return None
    try:
        return float(sample.get(quantity, "nm"))
    except KeyError:
        return None


def _fmt(value: float, err: float, unit: str, display_units: Mapping[str, str]) -> str:
    from fitkit.report.tables import resolve_display_unit
    from fitkit.report.writer import format_value_error

    du = unit
    if unit in _units.UNITS:
        try:
            du = resolve_display_unit("", unit, display_units)
        except _units.UnitError:
            du = unit
        value, err = _to(value, err, unit, du)
    return format_value_error(value, err, du)


# ------------------------------------------------------------------------------------------ qps_join
def _qps(
    g_xi: float,
    g_xi_err: float,
    g_z: float,
    g_z_err: float,
    xi_nm: float,
    length_nm: float,
    a: float,
    b: float,
    factor: float,
    sample_id: str,
) -> dict[str, Any]:
    """L_c, its error, ln L_c and the regime from :func:`fitkit.analysis.qps.qps_join`."""
    from fitkit.analysis.qps import qps_join

    res = qps_join(
        g_xi, g_xi_err, g_z, g_z_err, xi_nm, length_nm, a=a, b=b, factor=factor, sample_id=sample_id
    )
    return {
        k: getattr(res, k)
        for k in ("l_c_nm", "l_c_err_nm", "ln_l_c", "ln_l_c_err", "regime", "regime_lc_minus")
    } | {"regime_lc_plus": res.regime_lc_plus, "warnings": tuple(res.warnings)}


@register_job_kind
class QpsJoinJob(JobKind):
    r"""QPS correlation length per sample from a phase-slip fit and a plasmon fit (``kind: qps_join``).

    For each sample id found in the ``from:`` jobs, :math:`g_\xi` (option ``g_xi``, a parameter
    root, default ``"g_xi"``) comes from the records that fit it and :math:`g_Z` (option ``g_z``,
    default ``"g_z"``) from the records that fit that one (e.g. ``sis_plasmon``); repeated
    records of one sample are combined by inverse-variance weighting.  The coherence length
    :math:`\xi` and the wire length X come from the sample table (``xi_nm``, ``length_um``, any
    length unit), else the options ``xi`` / ``length`` (``{value: 145, unit: nm}``), else the
    phase-slip fit's fixed ``xi`` / ``length`` parameters.  ``a`` (default 1) and ``b`` (default:
    the fit's ``b``, else 1) are taken as exact; ``regime_factor`` (default 2) sets the crossover
    band of :func:`fitkit.physics.wire.qps_regime`.

    One record per sample, ``derived``: ``l_c`` [nm] with its first-order propagated error
    (g_xi and g_Z uncorrelated), ``g_xi``, ``g_z`` (with errors), ``xi``, ``length`` [nm] and
    ``length_over_l_c``; ``meta["regime"]`` is ``"superconducting"``, ``"crossover"`` or
    ``"insulating"`` (L_c = inf for g_Z >= 16 counts as superconducting).
    """

    name = "qps_join"
    derived_units = {"l_c": "nm", "length": "nm", "xi": "nm"}
    description = "QPS correlation length L_c per sample from g_xi (phase-slip fit) and g_Z (plasmon fit)"
    needs_inputs = False
    needs_from = True
    item_level = False
    option_keys = ("g_xi", "g_z", "xi", "length", "a", "b", "regime_factor")

    def validate(self, job: JobConfig, cfg: RunConfig) -> list[tuple[str, str]]:
        out = super().validate(job, cfg)
        for key in ("xi", "length"):
            if key in job.options:
                try:
                    length_option(job.options[key])
                except ValueError as err:
                    out.append((f"options.{key}", str(err)))
        out += _positive_options(job, ("a", "b", "regime_factor"))
        rf = job.options.get("regime_factor")
        if isinstance(rf, (int, float)) and not isinstance(rf, bool) and rf < 1:
            out.append(("options.regime_factor", f"{rf!r} must be >= 1"))
        return out

    def finalize(
        self,
        job: JobConfig,
        cfg: RunConfig,
        results: Mapping[str, list[FitRecord]],
        outdir: str | os.PathLike[str] | None = None,
    ) -> list[FitRecord]:
        opts = dict(job.options)
        gx_name, gz_name = str(opts.get("g_xi", "g_xi")), str(opts.get("g_z", "g_z"))
        a = float(opts.get("a", 1.0))
        factor = float(opts.get("regime_factor", 2.0))
        ok: dict[str, dict[str, list[FitRecord]]] = {}
        bad: dict[str, dict[str, list[FitRecord]]] = {}
        order: list[str] = []
        for dep in job.depends_on:
            for rec in results.get(dep, ()):
                sid = rec.sample_id or str(rec.meta.get("item_id", ""))
                if not rec.success:
                    bad.setdefault(sid, {}).setdefault("any", []).append(rec)
                    if sid not in order:
                        order.append(sid)
                    continue
                for role, pname in (("g_xi", gx_name), ("g_z", gz_name)):
                    if find_quantity(rec, pname) is not None:
                        ok.setdefault(sid, {}).setdefault(role, []).append(rec)
                        if sid not in order:
                            order.append(sid)
        out: list[FitRecord] = []
        for sid in order:
            meta: dict[str, Any] = {"job": job.name, "item_id": sid}
            have = ok.get(sid, {})
            missing = [r for r in ("g_xi", "g_z") if r not in have]
            if missing:
                role = missing[0]
                pname = gx_name if role == "g_xi" else gz_name
                what = "phase-slip" if role == "g_xi" else "plasmon"
                why = ""
                if bad.get(sid):
                    fails = bad[sid]["any"]
                    why = f"; {len(fails)} record(s) of this sample failed (first: {fails[0].message})"
                out.append(
                    failed_record(
                        f"qps_join: sample '{sid}' has no successful fit with parameter '{pname}' in jobs "
                        f"{list(job.depends_on)}{why}; expected one {what} fit per sample",
                        model_key=self.name,
                        sample_id=sid,
                        meta=meta,
                    )
                )
                continue
            try:
                out.append(
                    self._join(
                        job,
                        cfg,
                        sid,
                        have,
                        gx_name,
                        gz_name,
                        a,
                        factor,
                        meta,
                    )
                )
            except (*CAPTURED_ERRORS, KeyError) as err:
                out.append(failed_record(err, model_key=self.name, sample_id=sid, meta=meta))
        return out

    def _join(
        self,
        job: JobConfig,
        cfg: RunConfig,
        sid: str,
        have: Mapping[str, list[FitRecord]],
        gx_name: str,
        gz_name: str,
        a: float,
        factor: float,
        meta: dict[str, Any],
    ) -> FitRecord:
        warnings: list[str] = []
        parts = {}
        for role, pname in (("g_xi", gx_name), ("g_z", gz_name)):
            recs = have[role]
            vals = [find_quantity(r, pname) for r in recs]
            v, e = combine([x[0] for x in vals if x], [x[1] for x in vals if x])
            if len(recs) > 1:
                warnings.append(
                    f"{role}: {len(recs)} records of this sample combined (inverse-variance mean)"
                )
            if not (math.isfinite(e) and e > 0):
                warnings.append(f"{role} has no standard error; the error of L_c is unknown")
            parts[role] = (v, e)
        ps = have["g_xi"][0]
        sample = cfg.sample(sid)
        lengths: dict[str, float] = {}
        sources: dict[str, str] = {}
        for key in ("xi", "length"):
            v = _sample_length(sample, key)
            src = "sample table"
            if v is None and key in job.options:
                v, src = length_option(job.options[key]), "job option"
            if v is None:
                q = find_quantity(ps, key)
                if q is not None and q[2] in _units.UNITS:
                    v, src = float(_units.convert(q[0], q[2], "nm")), f"fixed parameter of {ps.model_key} fit"
            if v is None or not v > 0:
                raise DataValidationError(
                    f"qps_join: no {key} for sample '{sid}'; add a '{key}_nm' (or '{key}_um') column to the "
                    f"sample table or set options.{key} of job '{job.name}'"
                )
            lengths[key], sources[key] = v, src
        b_opt = job.options.get("b")
        if b_opt is not None:
            b, sources["b"] = float(b_opt), "job option"
        else:
            q = find_quantity(ps, "b")
            b, sources["b"] = (q[0], f"{ps.model_key} fit") if q is not None else (1.0, "default")
        (gx, gx_e), (gz, gz_e) = parts["g_xi"], parts["g_z"]
        res = _qps(gx, gx_e, gz, gz_e, lengths["xi"], lengths["length"], a, b, factor, sid)
        l_c, l_c_e, regime = res["l_c_nm"], res["l_c_err_nm"], res["regime"]
        warnings += list(res["warnings"])
        ratio = lengths["length"] / l_c
        ratio_e = ratio * l_c_e / l_c if math.isfinite(l_c) else 0.0
        meta.update(
            regime=regime,
            regime_range=[res["regime_lc_minus"], res["regime_lc_plus"]],
            a=a,
            b=b,
            regime_factor=factor,
            sources=sources,
            inputs={
                role: [f"{r.meta.get('job', '')}/{r.meta.get('item_id', '')}" for r in have[role]]
                for role in ("g_xi", "g_z")
            },
        )
        msg = (
            f"{regime}: L = {lengths['length'] / 1e3:.4g} um, L_c = {l_c / 1e3:.4g} um "
            f"(+- {l_c_e / 1e3:.2g} um)"
        )
        return FitRecord(
            model_key=self.name,
            sample_id=sid,
            source_path=ps.source_path,
            x_column="",
            y_column="",
            derived={
                "l_c": l_c,
                "g_xi": gx,
                "g_z": gz,
                "xi": lengths["xi"],
                "length": lengths["length"],
                "length_over_l_c": ratio,
                "ln_l_c": res["ln_l_c"],
            },
            derived_stderr={
                "l_c": l_c_e,
                "g_xi": gx_e,
                "g_z": gz_e,
                "length_over_l_c": ratio_e,
                "ln_l_c": res["ln_l_c_err"],
            },
            derived_units={
                "l_c": "nm",
                "g_xi": "1",
                "g_z": "1",
                "xi": "nm",
                "length": "nm",
                "length_over_l_c": "1",
                "ln_l_c": "1",
            },
            success=True,
            message=msg,
            warnings=tuple(warnings),
            config_digest="",
            meta=meta,
        )

    def report_section(
        self,
        job: JobConfig,
        cfg: RunConfig,
        records: Sequence[FitRecord],
        outdir: Path,
        display_units: Mapping[str, str],
    ) -> str:
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
                _fmt(d["g_xi"], s.get("g_xi", math.nan), "1", display_units),
                _fmt(d["g_z"], s.get("g_z", math.nan), "1", display_units),
                _fmt(d["xi"], math.nan, "nm", {"length": "nm", **display_units}),
                _fmt(d["length"], math.nan, "nm", {"length": "um", **display_units}),
                _fmt(d["l_c"], s.get("l_c", math.nan), "nm", {"length": "um", **display_units}),
                _fmt(d["length_over_l_c"], s.get("length_over_l_c", math.nan), "1", display_units),
            ]
            rows.append(
                f"<tr><td>{e(r.sample_id)}</td>"
                + "".join(f"<td>{e(c)}</td>" for c in cells)
                + f"<td>{e(str(r.meta.get('regime', '')))}</td></tr>"
            )
        rows.append("</table>")
        return "\n".join(rows)


# ------------------------------------------------------------------------------------------ finkelstein
def fit_finkelstein(
    r_sheet: Sequence[float],
    t_c: Sequence[float],
    t_c_stderr: Sequence[float] | None = None,
    *,
    t_c0_guess: float | None = None,
    gamma_guess: float | None = None,
    absolute_sigma: bool = True,
) -> dict[str, Any]:
    r"""Fit Finkel'stein's :math:`T_c(R_\square)` with free :math:`T_{c0}` and :math:`\gamma`.

    .. math::
        T_c = T_{c0}\,e^{\gamma}\left[\frac{1/\gamma + r/4 - \sqrt{r/2}}
        {1/\gamma + r/4 + \sqrt{r/2}}\right]^{1/\sqrt{2r}},\qquad r = R_\square/(2\pi^2\hbar/e^2)

    (:func:`fitkit.physics.films.finkelstein_tc`; :math:`\gamma = \ln(\hbar/k_BT_{c0}\tau)`).

    Parameters
    ----------
    r_sheet
        Sheet resistances [Ohm] (taken as exact).
    t_c
        Critical temperatures [K].
    t_c_stderr
        Their standard errors [K]; when all are finite and > 0 they weight the fit.
    t_c0_guess, gamma_guess
        Start values; default from a scan over gamma in [2.2, 15] with T_c0 solved linearly.
    absolute_sigma
        Take the errors as absolute (covariance not rescaled by the reduced chi-square); with
        no usable errors the covariance is always rescaled.

    Returns
    -------
    dict
        ``t_c0``, ``t_c0_stderr`` [K], ``gamma``, ``gamma_stderr``, ``correlation``, ``r_c`` and
        ``r_c_stderr`` [Ohm] (critical sheet resistance, error from gamma), ``redchi``, ``ndata``,
        ``weighted`` (bool), ``absolute_sigma`` (bool), ``success``, ``message``.

    Raises
    ------
    DataValidationError
        If fewer than 3 finite points are given, lengths differ, or R_sq < 0.
    FitError
        If the fit fails.

    References
    ----------
    .. [1] A. M. Finkel'stein, Physica B 197, 636 (1994).
    """
    import lmfit

    from fitkit.physics.films import (
        finkelstein_critical_sheet_resistance,
        finkelstein_tc,
        finkelstein_tc_ratio,
    )

    r = np.asarray(r_sheet, dtype=float).ravel()
    t = np.asarray(t_c, dtype=float).ravel()
    s = None if t_c_stderr is None else np.asarray(t_c_stderr, dtype=float).ravel()
    if r.shape != t.shape or (s is not None and s.shape != t.shape):
        raise DataValidationError(
            f"fit_finkelstein: r_sheet ({r.size}), t_c ({t.size}) and t_c_stderr must have equal lengths"
        )
    keep = np.isfinite(r) & np.isfinite(t)
    r, t = r[keep], t[keep]
    s = s[keep] if s is not None else None
    if r.size < 3:
        raise DataValidationError(f"fit_finkelstein: need >= 3 films with R_sq and T_c, got {r.size}")
    if np.any(r < 0):
        raise DataValidationError("fit_finkelstein: sheet resistances must be >= 0 Ohm")
    weighted = s is not None and bool(np.all(np.isfinite(s) & (s > 0)))
    w = 1.0 / s if weighted and s is not None else np.ones_like(t)
    # start values: scan gamma; for each, T_c0 is linear (weighted least squares)
    grid = np.linspace(2.2, 15.0, 257)
    ratio = finkelstein_tc_ratio(r[None, :], grid[:, None])
    num = np.sum(w**2 * t * ratio, axis=1)
    den = np.sum(w**2 * ratio**2, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        tc0s = np.where(den > 0, num / den, np.nan)
        chi = np.sum((w * (t - tc0s[:, None] * ratio)) ** 2, axis=1)
    chi = np.where(np.isfinite(chi), chi, np.inf)
    k = int(np.argmin(chi))
    g0 = float(gamma_guess) if gamma_guess is not None else float(grid[k])
    tc00 = (
        float(t_c0_guess) if t_c0_guess is not None else float(tc0s[k] if np.isfinite(tc0s[k]) else t.max())
    )
    model = lmfit.Model(finkelstein_tc, independent_vars=["r_sheet"])
    params = model.make_params(t_c0={"value": tc00, "min": 0.0}, gamma={"value": g0, "min": 0.5, "max": 50.0})
    try:
        res = model.fit(t, params, r_sheet=r, weights=w, scale_covar=not (weighted and absolute_sigma))
    except (ValueError, TypeError) as err:
        raise FitError(f"fit_finkelstein: the fit of {r.size} films failed ({err})") from err
    p = res.params
    t_c0, gam = float(p["t_c0"].value), float(p["gamma"].value)
    t_c0_e = float(p["t_c0"].stderr) if p["t_c0"].stderr is not None else math.nan
    gam_e = float(p["gamma"].stderr) if p["gamma"].stderr is not None else math.nan
    corr = (p["t_c0"].correl or {}).get("gamma", math.nan)
    r_c = float(finkelstein_critical_sheet_resistance(gam))
    h = 1e-4 * max(gam, 1.0)
    slope = float(
        (finkelstein_critical_sheet_resistance(gam + h) - finkelstein_critical_sheet_resistance(gam - h))
        / (2 * h)
    )
    ok = bool(res.success and math.isfinite(t_c0_e) and math.isfinite(gam_e))
    return {
        "t_c0": t_c0,
        "t_c0_stderr": t_c0_e,
        "gamma": gam,
        "gamma_stderr": gam_e,
        "correlation": float(corr) if corr is not None else math.nan,
        "r_c": r_c,
        "r_c_stderr": abs(slope) * gam_e,
        "redchi": float(res.redchi),
        "chisqr": float(res.chisqr),
        "ndata": int(r.size),
        "nfev": int(res.nfev),
        "aic": float(res.aic),
        "bic": float(res.bic),
        "weighted": weighted,
        "absolute_sigma": bool(weighted and absolute_sigma),
        "success": ok,
        "message": str(res.message) if ok else f"standard errors not estimated: {res.message}",
        "init": {"t_c0": tc00, "gamma": g0},
    }


@register_job_kind
class FinkelsteinJob(JobKind):
    r"""Finkel'stein :math:`T_c(R_\square)` fit across the films of a series (``kind: finkelstein``).

    Options: ``t_c`` (where each film's T_c comes from: a descriptor such as ``"t_c50"`` (default)
    or ``"t_zero"`` of a ``transition`` job, or a fit parameter root such as ``"t_c"``; any
    temperature unit is converted to K), ``r_sq`` (sample-table quantity, default ``"r_sq"``,
    converted to Ohm per square), ``errors`` (``"absolute"``, default: the T_c standard errors
    are absolute sigmas, or ``"scaled"``: the covariance is rescaled by the reduced chi-square),
    ``t_c0_guess`` [K], ``gamma_guess``.  One record (``sample_id = "series"``) with ``t_c0`` [K],
    ``gamma`` and the derived critical sheet resistance ``r_c`` [Ohm]; the points are in
    ``meta["points"]``.
    """

    name = "finkelstein"
    derived_units = {"t_c0": "K", "r_c": "ohm"}
    description = "Finkel'stein T_c(R_sq) fit (free T_c0, gamma) across the films of a series"
    needs_inputs = False
    needs_from = True
    item_level = False
    option_keys = ("t_c", "r_sq", "errors", "t_c0_guess", "gamma_guess")

    def validate(self, job: JobConfig, cfg: RunConfig) -> list[tuple[str, str]]:
        out = super().validate(job, cfg)
        if job.options.get("errors", "absolute") not in ("absolute", "scaled"):
            out.append(("options.errors", "expected 'absolute' or 'scaled'"))
        q = str(job.options.get("r_sq", "r_sq"))
        if not cfg.samples:
            out.append(("kind", f"kind 'finkelstein' needs a sample table with a '{q}_ohm_per_sq' column"))
        elif not any(_has(s, q) for s in cfg.samples):
            cols = sorted({c for s in cfg.samples for c in s.values})
            out.append(
                ("options.r_sq", f"no sample has a '{q}' column (e.g. {q}_ohm_per_sq); columns are {cols}")
            )
        tname = str(job.options.get("t_c", "t_c50"))
        for dep in job.depends_on:
            src = next((j for j in cfg.jobs if j.name == dep), None)
            if src is not None and src.kind == "transition":
                known = ("t_c50", "t_zero", "t_onset", "t_10")
                if tname not in known and tname not in [f"{k}_K" for k in known]:
                    out.append(
                        (
                            "options.t_c",
                            f"'{tname}' is not a temperature of the transition job '{dep}'; "
                            f"expected one of {list(known)}",
                        )
                    )
        out += _positive_options(job, ("t_c0_guess", "gamma_guess"))
        return out

    def finalize(
        self,
        job: JobConfig,
        cfg: RunConfig,
        results: Mapping[str, list[FitRecord]],
        outdir: str | os.PathLike[str] | None = None,
    ) -> list[FitRecord]:
        opts = dict(job.options)
        tname = str(opts.get("t_c", "t_c50"))
        rq = str(opts.get("r_sq", "r_sq"))
        meta: dict[str, Any] = {"job": job.name, "item_id": "series"}
        points: list[dict[str, Any]] = []
        skipped: list[str] = []
        for dep in job.depends_on:
            for rec in results.get(dep, ()):
                if not rec.success:
                    skipped.append(f"{rec.sample_id or rec.meta.get('item_id')}: its '{dep}' record failed")
                    continue
                q = find_quantity(rec, tname)
                sample = cfg.sample(rec.sample_id)
                if q is None:
                    skipped.append(f"{rec.sample_id}: no '{tname}' in its '{dep}' record")
                    continue
                if sample is None or not _has(sample, rq):
                    skipped.append(f"{rec.sample_id}: no '{rq}' in the sample table")
                    continue
                try:
                    t, te = _to(q[0], q[1], q[2], "K")
                except _units.UnitError:
                    skipped.append(f"{rec.sample_id}: '{tname}' is in '{q[2]}', not a temperature")
                    continue
                points.append(
                    {
                        "sample_id": rec.sample_id,
                        "r_sq_ohm_per_sq": sample.get(rq, "ohm_per_sq"),
                        "t_c_K": t,
                        "t_c_K_stderr": te,
                        "source": f"{dep}/{rec.meta.get('item_id', '')}",
                    }
                )
        meta.update(points=points, t_c_source=f"'{tname}' of jobs {list(job.depends_on)}", skipped=skipped)
        try:
            fit = fit_finkelstein(
                [p["r_sq_ohm_per_sq"] for p in points],
                [p["t_c_K"] for p in points],
                [p["t_c_K_stderr"] for p in points],
                t_c0_guess=opts.get("t_c0_guess"),
                gamma_guess=opts.get("gamma_guess"),
                absolute_sigma=opts.get("errors", "absolute") == "absolute",
            )
        except CAPTURED_ERRORS as err:
            return [failed_record(err, model_key=self.name, sample_id="series", meta=meta)]
        warnings = [f"left out {s}" for s in skipped]
        if not fit["weighted"]:
            warnings.append("some T_c have no standard error: unweighted fit, covariance scaled by redchi")
        meta.update(weighted=fit["weighted"], absolute_sigma=fit["absolute_sigma"])
        corr = fit["correlation"]
        return [
            FitRecord(
                model_key=self.name,
                sample_id="series",
                x_column="r_sq_ohm_per_sq",
                y_column="t_c_K",
                values={"t_c0": fit["t_c0"], "gamma": fit["gamma"]},
                stderr={"t_c0": fit["t_c0_stderr"], "gamma": fit["gamma_stderr"]},
                units={"t_c0": "K", "gamma": "1"},
                vary={"t_c0": True, "gamma": True},
                init_values=dict(fit["init"]),
                correlations={"t_c0": {"gamma": corr}, "gamma": {"t_c0": corr}},
                derived={"r_c": fit["r_c"]},
                derived_stderr={"r_c": fit["r_c_stderr"]},
                derived_units={"r_c": "ohm"},
                redchi=fit["redchi"],
                chisqr=fit["chisqr"],
                aic=fit["aic"],
                bic=fit["bic"],
                nfev=fit["nfev"],
                ndata=fit["ndata"],
                nvarys=2,
                success=fit["success"],
                message="Finkel'stein T_c(R_sq) fit" if fit["success"] else fit["message"],
                warnings=tuple(warnings),
                meta=meta,
            )
        ]

    def report_section(
        self,
        job: JobConfig,
        cfg: RunConfig,
        records: Sequence[FitRecord],
        outdir: Path,
        display_units: Mapping[str, str],
    ) -> str:
        from fitkit.physics.films import finkelstein_tc
        from fitkit.pipeline.output import figure_tag
        from fitkit.report.plots import plot_points_with_curve

        parts = []
        for k, rec in enumerate(records):
            pts = rec.meta.get("points") or []
            if not pts:
                continue
            r = np.array([p["r_sq_ohm_per_sq"] for p in pts], dtype=float)
            t = np.array([p["t_c_K"] for p in pts], dtype=float)
            s = np.array(
                [np.nan if p["t_c_K_stderr"] is None else p["t_c_K_stderr"] for p in pts], dtype=float
            )
            curve = None
            if rec.success:
                rr = np.linspace(0.0, 1.15 * float(r.max()), 200)
                lab = (
                    f"Finkel'stein: T_c0 = {_fmt(rec.values['t_c0'], rec.stderr['t_c0'], 'K', {})}, "
                    f"γ = {_fmt(rec.values['gamma'], rec.stderr['gamma'], '1', {})}"
                )
                curve = (rr, finkelstein_tc(rr, rec.values["t_c0"], rec.values["gamma"]), lab)
            fig = plot_points_with_curve(
                r, t, s, label="films", curve=curve, xlabel="sheet resistance R_sq (Ω/□)", ylabel="T_c (K)",
                title=f"{job.name}: T_c vs sheet resistance",
            )
            for p in pts:
                fig.axes[0].annotate(
                    str(p["sample_id"]),
                    (p["r_sq_ohm_per_sq"], p["t_c_K"]),
                    textcoords="offset points",
                    xytext=(4, 4),
                    fontsize=7,
                )
            name = "finkelstein.png" if k == 0 else f"finkelstein_{k}.png"
            rel = f"series/{job.name}/{name}"
            atomic_write_png(outdir / rel, fig)
            parts.append(figure_tag(rel, rec.message, alt=job.name, inline=True))
        return "\n".join(parts)


def _has(sample: Sample, quantity: str) -> bool:
    try:
        sample.get(quantity, "ohm_per_sq")
    except (KeyError, _units.UnitError):
        return False
    return True
