r"""Per-sample join of phase-slip and tunnel fits: the QPS correlation length and the wire's regime.

A wire's R(T) fit (model ``phase_slip_gz``) gives :math:`g_\xi = R_K/R_\xi`; its tunnel-spectrum fit
(model ``sis_plasmon``) gives :math:`g_Z = R_K/Z`.  Together with the coherence length
:math:`\xi` they fix the Cooper-pair localisation length of Arutyunov et al. (2021), Eq. (3),

.. math::
    L_c \simeq \xi \exp\!\Big[\frac{a g_\xi - \ln b}{2 - g_Z/8}\Big]\qquad (g_Z < 16),

computed by :func:`fitkit.physics.wire.qps_length_with_error` (first-order propagation of the
two fit errors, taken as uncorrelated because they come from different measurements), and the
regime of a wire of length X by :func:`fitkit.physics.wire.qps_regime`: ``"superconducting"``
for :math:`X \le L_c/2` (or :math:`g_Z \ge 16`), ``"insulating"`` for :math:`X \ge 2L_c`,
``"crossover"`` in between (a fitkit convention).

Caveats carried into every result: a and b are O(1) and unconfirmed (defaults 1), the g_xi
prefactor and the cutoff of the plasmon model carry systematics of tens of per cent that are not
in the propagated error, and because :math:`L_c` is exponential in :math:`g_\xi` the 1-sigma
interval is strongly skewed when the relative error exceeds ~0.3 (``ln_l_c`` and its error are
then the meaningful numbers).  The regime is also evaluated at :math:`L_c \pm \sigma`; if it
changes, a warning says so.

References
----------
.. [1] K. Yu. Arutyunov, J. S. Lehtinen, A. Radkevich, A. G. Semenov and A. D. Zaikin,
   "Superconducting insulators and localization of Cooper pairs", Commun. Phys. 4, 146 (2021),
   Eqs. (1)-(3).
.. [2] fitkit physics note ``transport.md`` section 1 (check C4: xi = 140 nm,
   a g_xi - ln b = 7.5, g_Z = 2.5 gives L_c = 11.92 um).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from fitkit.analysis.records import Quantity, find_quantity
from fitkit.analysis.stats import weighted_mean
from fitkit.errors import DataValidationError
from fitkit.fitting.record import FitRecord
from fitkit.physics.wire import qps_length_with_error, qps_regime
from fitkit.units import UnitError, convert

__all__ = ["QPSLength", "qps_join", "qps_join_records", "qps_join_samples", "qps_join_series", "qps_record"]


@dataclass(frozen=True)
class QPSLength:
    """QPS correlation length of one wire and its regime (lengths in nm).

    Attributes
    ----------
    sample_id
        Wire name.
    g_xi, g_xi_err, g_z, g_z_err
        Inputs (dimensionless) with standard errors.
    xi_nm, length_nm
        Coherence length and wire length X, nm (taken as exact).
    l_c_nm, l_c_err_nm
        :math:`L_c` and its first-order standard error, nm (``inf`` for g_Z >= 16).
    ln_l_c, ln_l_c_err
        :math:`\\ln(L_c/\\mathrm{nm})` and its standard error (= relative error of L_c).
    regime
        ``"superconducting"``, ``"crossover"`` or ``"insulating"`` at the central L_c.
    regime_lc_minus, regime_lc_plus
        The regime at :math:`L_c - \\sigma` and at :math:`L_c + \\sigma` (the range it spans).
    a, b
        QPS action coefficients used.
    sources
        Provenance of g_xi and g_Z (model key and file), when joined from records.
    warnings
        Caveats (skewed interval, regime not determined within 1 sigma, missing errors).
    """

    sample_id: str
    g_xi: float
    g_xi_err: float
    g_z: float
    g_z_err: float
    xi_nm: float
    length_nm: float
    l_c_nm: float
    l_c_err_nm: float
    ln_l_c: float
    ln_l_c_err: float
    regime: str
    regime_lc_minus: str
    regime_lc_plus: str
    a: float = 1.0
    b: float = 1.0
    sources: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for tables and JSON; tuples become '; '-joined strings)."""
        d = asdict(self)
        d["sources"] = "; ".join(self.sources)
        d["warnings"] = "; ".join(self.warnings)
        return d


def qps_join(
    g_xi: float,
    g_xi_err: float,
    g_z: float,
    g_z_err: float,
    xi_nm: float,
    length_nm: float,
    *,
    a: float = 1.0,
    b: float = 1.0,
    factor: float = 2.0,
    sample_id: str = "",
    sources: tuple[str, ...] = (),
) -> QPSLength:
    r"""QPS length with propagated error and regime from values (see the module docstring).

    Parameters
    ----------
    g_xi, g_xi_err
        :math:`g_\xi` (> 0) and its standard error (>= 0, NaN if unknown).
    g_z, g_z_err
        :math:`g_Z` (> 0) and its standard error (>= 0, NaN if unknown).
    xi_nm
        Coherence length, nm, > 0.
    length_nm
        Wire length X, nm, > 0.
    a, b
        QPS action coefficient and amplitude factor (O(1), unconfirmed; default 1).
    factor
        Width of the crossover band of :func:`fitkit.physics.wire.qps_regime` (default 2).
    sample_id
        Wire name.
    sources
        Provenance strings.

    Returns
    -------
    QPSLength

    Raises
    ------
    DataValidationError
        If g_xi, g_Z, xi or the length are not positive and finite.

    Examples
    --------
    >>> r = qps_join(7.5, 0.0, 2.5, 0.0, 140.0, 20000.0)  # physics note check C4
    >>> round(r.l_c_nm / 1e3, 2), r.regime
    (11.92, 'crossover')
    """
    vals = {"g_xi": g_xi, "g_z": g_z, "xi_nm": xi_nm, "length_nm": length_nm}
    bad = {k: v for k, v in vals.items() if not (np.isfinite(v) and v > 0)}
    if bad:
        raise DataValidationError(f"qps_join({sample_id or 'sample'}): {bad} must be positive and finite")
    warn: list[str] = []
    if not (np.isfinite(g_xi_err) and np.isfinite(g_z_err)):
        warn.append("a standard error of g_xi or g_Z is unknown; l_c_err_nm is NaN")
    lc_arr, err_arr = qps_length_with_error(g_xi, g_xi_err, g_z, g_z_err, xi_nm, a, b)
    lc, err = float(lc_arr), float(err_arr)
    if math.isinf(lc):
        ln_lc, ln_err = math.inf, math.nan
        regime = minus = plus = qps_regime(length_nm, lc, factor)
        warn.append("g_Z >= 16: no QPS localisation (superconducting side of the SIT)")
    else:
        ln_lc = math.log(lc)
        ln_err = err / lc if np.isfinite(err) else math.nan
        regime = qps_regime(length_nm, lc, factor)
        if np.isfinite(err):
            # L_c - sigma may be <= 0 for huge errors: the shortest physical L_c is then ~0 (insulating)
            minus = qps_regime(length_nm, lc - err, factor) if lc - err > 0 else "insulating"
            plus = qps_regime(length_nm, lc + err, factor)
        else:
            minus = plus = regime
        if np.isfinite(ln_err) and ln_err > 0.3:
            warn.append(f"relative error of L_c is {ln_err:.2f} (> 0.3): the interval is skewed; "
                        "quote ln_l_c +- ln_l_c_err")
        if minus != regime or plus != regime:
            warn.append(f"regime not determined within 1 sigma: {minus} at L_c - sigma, "
                        f"{plus} at L_c + sigma")
    return QPSLength(sample_id=sample_id, g_xi=float(g_xi), g_xi_err=float(g_xi_err), g_z=float(g_z),
                     g_z_err=float(g_z_err), xi_nm=float(xi_nm), length_nm=float(length_nm), l_c_nm=lc,
                     l_c_err_nm=err, ln_l_c=ln_lc, ln_l_c_err=ln_err, regime=regime, regime_lc_minus=minus,
                     regime_lc_plus=plus, a=float(a), b=float(b), sources=tuple(sources),
                     warnings=tuple(warn))


def _param(rec: FitRecord, name: str, prefix: str, role: str) -> Quantity:
    """The parameter ``<prefix><name>`` of ``rec`` (exact name), else DataValidationError."""
    key = f"{prefix}{name}"
    q = find_quantity(rec, key) if key in rec.values else None
    if q is None:
        where = rec.source_path or rec.sample_id or rec.model_key
        raise DataValidationError(
            f"{where}: {role} record (model '{rec.model_key}') has no parameter '{key}'; "
            f"available: {sorted(rec.values)} (set the prefix argument)"
        )
    return q


def _length_nm(value: float, unit: str, what: str, where: str) -> float:
    try:
        return float(convert(value, unit or "nm", "nm"))
    except UnitError as err:
        raise DataValidationError(f"{where}: {what} has unit '{unit}', expected a length unit") from err


def qps_join_records(
    phase_slip: FitRecord,
    tunnel: FitRecord,
    *,
    xi_nm: float | None = None,
    length_nm: float | None = None,
    phase_slip_prefix: str = "",
    tunnel_prefix: str = "",
    a: float = 1.0,
    b: float = 1.0,
    factor: float = 2.0,
) -> QPSLength:
    r"""Join a phase-slip fit (:math:`g_\xi`) and a tunnel fit (:math:`g_Z`) of the same wire.

    Parameters
    ----------
    phase_slip
        Record with a ``g_xi`` parameter (e.g. model ``phase_slip_gz``).
    tunnel
        Record with a ``g_z`` parameter (model ``sis_plasmon``).
    xi_nm, length_nm
        Coherence length and wire length, nm; default: the (fixed) ``xi`` and ``length``
        parameters of the phase-slip record, converted with their declared units.
    phase_slip_prefix, tunnel_prefix
        lmfit prefixes of the two models, if any.
    a, b, factor
        As in :func:`qps_join`.

    Returns
    -------
    QPSLength
        ``sample_id`` from the tunnel record (else the phase-slip one).

    Raises
    ------
    DataValidationError
        If a parameter is missing, has a wrong unit, or a value is not positive.
    """
    where = phase_slip.source_path or phase_slip.sample_id or phase_slip.model_key
    g_xi, g_xi_err, _ = _param(phase_slip, "g_xi", phase_slip_prefix, "phase-slip")
    g_z, g_z_err, _ = _param(tunnel, "g_z", tunnel_prefix, "tunnel")
    if xi_nm is None:
        v, _, unit = _param(phase_slip, "xi", phase_slip_prefix, "phase-slip")
        xi_nm = _length_nm(v, unit, "xi", where)
    if length_nm is None:
        v, _, unit = _param(phase_slip, "length", phase_slip_prefix, "phase-slip")
        length_nm = _length_nm(v, unit, "length", where)
    warn: list[str] = []
    if tunnel.sample_id and phase_slip.sample_id and tunnel.sample_id != phase_slip.sample_id:
        warn.append(f"sample ids differ: '{phase_slip.sample_id}' (R(T)) vs '{tunnel.sample_id}' (tunnel)")
    sources = (f"g_xi: {phase_slip.model_key} {phase_slip.source_path}".strip(),
               f"g_z: {tunnel.model_key} {tunnel.source_path}".strip())
    res = qps_join(g_xi, g_xi_err, g_z, g_z_err, float(xi_nm), float(length_nm), a=a, b=b, factor=factor,
                   sample_id=tunnel.sample_id or phase_slip.sample_id, sources=sources)
    if warn:
        res = QPSLength(**{**asdict(res), "warnings": (*warn, *res.warnings)})
    return res


def qps_join_samples(
    phase_slip: Mapping[str, FitRecord],
    tunnel: Mapping[str, FitRecord],
    *,
    geometry: Mapping[str, Mapping[str, float]] | None = None,
    a: float = 1.0,
    b: float = 1.0,
    factor: float = 2.0,
) -> pd.DataFrame:
    """Join phase-slip and tunnel records sample by sample into one table.

    Parameters
    ----------
    phase_slip, tunnel
        Records keyed by sample id.  Samples present in only one mapping are skipped and
        listed in ``frame.attrs["unmatched"]``.
    geometry
        Optional ``sample -> {"xi_nm": ..., "length_nm": ...}``; missing entries fall back to the
        phase-slip record's ``xi`` and ``length`` parameters.
    a, b, factor
        As in :func:`qps_join`.

    Returns
    -------
    pandas.DataFrame
        One row per joined sample with the fields of :class:`QPSLength` (lengths in nm).
    """
    rows = []
    for sid in sorted(set(phase_slip) & set(tunnel)):
        geo = dict((geometry or {}).get(sid, {}))
        rec = qps_join_records(phase_slip[sid], tunnel[sid], xi_nm=geo.get("xi_nm"),
                               length_nm=geo.get("length_nm"), a=a, b=b, factor=factor)
        row = rec.to_dict()
        row["sample_id"] = row["sample_id"] or sid
        rows.append(row)
    frame = pd.DataFrame(rows, columns=list(QPSLength.__dataclass_fields__))
    frame.attrs["unmatched"] = sorted(set(phase_slip) ^ set(tunnel))
    return frame


def qps_join_series(
    phase_slip: Sequence[FitRecord],
    tunnel: Sequence[FitRecord],
    *,
    g_xi: str = "g_xi",
    g_z: str = "g_z",
    xi_nm: tuple[float, str] | None = None,
    length_nm: tuple[float, str] | None = None,
    b: tuple[float, str] | None = None,
    a: float = 1.0,
    factor: float = 2.0,
    sample_id: str = "",
) -> QPSLength:
    r"""Join all phase-slip and tunnel records of one wire (repeated fits are averaged first).

    Each of :math:`g_\xi` and :math:`g_Z` is the inverse-variance mean
    (:func:`fitkit.analysis.stats.weighted_mean`, PDG-scaled) of the records that carry it (looked
    up with :func:`fitkit.analysis.records.find_quantity`, so prefixed names match), then
    :func:`qps_join` gives L_c and the regime.

    Parameters
    ----------
    phase_slip, tunnel
        The records with ``g_xi`` (phase-slip fits) and with ``g_z`` (plasmon fits), >= 1 each.
    g_xi, g_z
        Names (roots) of the two quantities.
    xi_nm, length_nm
        ``(value in nm, source description)``; None: the first phase-slip record's (fixed)
        ``xi`` / ``length`` parameter, converted with its declared unit.
    b
        ``(value, source)``; None: the phase-slip record's ``b``, else 1.
    a, factor
        As in :func:`qps_join`.
    sample_id
        Wire name.

    Returns
    -------
    QPSLength
        ``sources`` holds ``"<what>: <where from>"`` for xi, length and b; ``warnings`` says when
        records were averaged or errors are missing.

    Raises
    ------
    DataValidationError
        If a list is empty, a length is missing or not positive.
    """
    if not phase_slip or not tunnel:
        raise DataValidationError(
            f"qps_join_series({sample_id}): need >= 1 phase-slip and >= 1 tunnel record"
        )
    warn: list[str] = []
    parts: dict[str, tuple[float, float]] = {}
    for role, name, recs in (("g_xi", g_xi, phase_slip), ("g_z", g_z, tunnel)):
        qs = [q for q in (find_quantity(r, name) for r in recs) if q is not None]
        if not qs:
            raise DataValidationError(f"qps_join_series({sample_id}): no record has '{name}'")
        if len(qs) == 1:
            v, e = qs[0].value, qs[0].error
        else:
            m = weighted_mean([q.value for q in qs], [q.error for q in qs])
            v, e = m.mean, m.error
            warn.append(f"{role}: {len(qs)} records of this sample combined (inverse-variance mean)")
        if not (math.isfinite(e) and e > 0):
            warn.append(f"{role} has no standard error; the error of L_c is unknown")
        parts[role] = (v, e)
    ps = phase_slip[0]
    where = ps.source_path or ps.sample_id or ps.model_key
    got: dict[str, tuple[float, str]] = {}
    for key, given in (("xi", xi_nm), ("length", length_nm)):
        if given is None:
            q = find_quantity(ps, key)
            if q is not None and q.unit:
                given = (_length_nm(q.value, q.unit, key, where), f"fixed parameter of {ps.model_key} fit")
        if given is None or not given[0] > 0:
            raise DataValidationError(
                f"qps_join: no {key} for sample '{sample_id}' (give it, or fix '{key}' in the phase-slip fit)"
            )
        got[key] = given
    if b is None:
        qb = find_quantity(ps, "b")
        b = (qb.value, f"{ps.model_key} fit") if qb is not None else (1.0, "default")
    (gx, gx_e), (gz, gz_e) = parts["g_xi"], parts["g_z"]
    sources = tuple(f"{k}: {v[1]}" for k, v in (*got.items(), ("b", b)))
    res = qps_join(gx, gx_e, gz, gz_e, got["xi"][0], got["length"][0], a=a, b=float(b[0]), factor=factor,
                   sample_id=sample_id, sources=sources)
    return QPSLength(**{**asdict(res), "warnings": (*warn, *res.warnings)})


def qps_record(res: QPSLength, *, model_key: str = "qps_join", source_path: str = "",
               meta: Mapping[str, Any] | None = None) -> FitRecord:
    """A :class:`FitRecord` of a join: ``derived`` l_c, xi, length [nm], g_xi, g_z, length_over_l_c, ln_l_c.

    ``meta`` gets ``regime``, ``regime_range`` (at L_c -+ sigma), ``a``, ``b`` and the ``sources``
    (what -> where from) besides the given entries.
    """
    ratio = res.length_nm / res.l_c_nm
    ratio_e = ratio * res.l_c_err_nm / res.l_c_nm if math.isfinite(res.l_c_nm) else 0.0
    msg = (f"{res.regime}: L = {res.length_nm / 1e3:.4g} um, L_c = {res.l_c_nm / 1e3:.4g} um "
           f"(+- {res.l_c_err_nm / 1e3:.2g} um)")
    srcs = dict(s.split(": ", 1) for s in res.sources if ": " in s)
    return FitRecord(
        model_key=model_key,
        sample_id=res.sample_id,
        source_path=source_path,
        derived={"l_c": res.l_c_nm, "g_xi": res.g_xi, "g_z": res.g_z, "xi": res.xi_nm,
                 "length": res.length_nm, "length_over_l_c": ratio, "ln_l_c": res.ln_l_c},
        derived_stderr={"l_c": res.l_c_err_nm, "g_xi": res.g_xi_err, "g_z": res.g_z_err,
                        "length_over_l_c": ratio_e, "ln_l_c": res.ln_l_c_err},
        derived_units={"l_c": "nm", "g_xi": "1", "g_z": "1", "xi": "nm", "length": "nm",
                       "length_over_l_c": "1", "ln_l_c": "1"},
        success=True,
        message=msg,
        warnings=res.warnings,
        meta={**dict(meta or {}), "regime": res.regime,
              "regime_range": [res.regime_lc_minus, res.regime_lc_plus], "a": res.a, "b": res.b,
              "sources": srcs},
    )
