r"""T_c of a thickness series (Simonin) and of S/N bilayers (Martinis), fitted across samples (pure).

:func:`fit_thickness_law` takes one :math:`T_c` per sample and the thicknesses from the sample table,
checks that every sample has a thickness (one sentence naming the samples otherwise), and fits the
registered model ``tc_thickness`` or ``tc_bilayer`` (:mod:`fitkit.models.films`) through
:func:`fitkit.fitting.fit_curve`.

References
----------
.. [1] J. Simonin, Phys. Rev. B 33, 7830 (1986).
.. [2] J. M. Martinis et al., Nucl. Instrum. Methods A 444, 23 (2000).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from fitkit.errors import DataValidationError, FitQualityWarning
from fitkit.fitting.fit import fit_curve
from fitkit.fitting.record import FitRecord
from fitkit.io.sweep import Sweep, SweepMeta
from fitkit.models import get_model

__all__ = ["fit_thickness_law"]


def fit_thickness_law(thickness: Sequence[Any] | np.ndarray | pd.Series, t_c: ArrayLike,
                      t_c_stderr: ArrayLike | None = None,
                      *, sample_ids: Sequence[str] | None = None, model: str = "tc_thickness",
                      options: Mapping[str, Any] | None = None, params: Mapping[str, Any] | None = None,
                      absolute_sigma: bool = True, uncertainty: str = "auto") -> FitRecord:
    r"""Fit :math:`T_c(d)` across a film series (model ``tc_thickness`` or ``tc_bilayer``).

    Parameters
    ----------
    thickness
        Thickness per sample [nm] (from the sample table); None/NaN/empty marks a missing value.
    t_c
        :math:`T_c` per sample [K].
    t_c_stderr
        Standard errors [K]; used as weights when all are finite and > 0.
    sample_ids
        Names of the samples (for the missing-thickness message).
    model
        ``"tc_thickness"`` (Simonin) or ``"tc_bilayer"`` (Martinis; then ``thickness`` is the varied
        layer's, see the model's ``layer`` option and the fixed ``d_other``).
    options
        Model options (``{"layer": "normal"}``).
    params
        Parameter overrides (``{"d_other": {"value": 40, "vary": False}}``).
    absolute_sigma
        Take the errors as absolute.
    uncertainty
        Interval method of :func:`fitkit.fitting.fit_curve`.

    Returns
    -------
    FitRecord

    Raises
    ------
    DataValidationError
        If a sample has no thickness (the sentence names them), lengths differ, a thickness is <= 0, or
        fewer points than free parameters + 1 remain.
    """
    ids = list(sample_ids) if sample_ids is not None else [f"#{k}" for k in range(len(list(thickness)))]
    raw = list(thickness)
    d = np.array([np.nan if (v is None or (isinstance(v, str) and not v.strip())) else float(v) for v in raw])
    t = np.asarray(t_c, dtype=float).ravel()
    if d.size != t.size or len(ids) != t.size:
        raise DataValidationError(
            f"fit_thickness_law: thickness ({d.size}), t_c ({t.size}) and sample_ids ({len(ids)}) must have "
            "equal lengths"
        )
    missing = [ids[k] for k in range(d.size) if not math.isfinite(d[k])]
    if missing:
        raise DataValidationError(
            f"fit_thickness_law: no thickness for sample(s) {', '.join(map(str, missing))} in the sample "
            "table; "
            "add a thickness_nm value for each sample of the series"
        )
    if np.any(d <= 0):
        bad = [ids[k] for k in range(d.size) if d[k] <= 0]
        raise DataValidationError(f"fit_thickness_law: thickness must be > 0 nm (sample(s) {', '.join(bad)})")
    s = None if t_c_stderr is None else np.asarray(t_c_stderr, dtype=float).ravel()
    keep = np.isfinite(t)
    d, t = d[keep], t[keep]
    s = s[keep] if s is not None else None
    cls = get_model(model)
    m = cls(**dict(options or {}))
    nfree = sum(1 for p in m.make_params().values() if p.vary)
    if t.size < nfree + 1:
        raise DataValidationError(f"fit_thickness_law: need >= {nfree + 1} samples with T_c, got {t.size}")
    weighted = s is not None and bool(np.all(np.isfinite(s) & (s > 0)))
    w = 1.0 / s if weighted and s is not None else None
    sweep = Sweep(pd.DataFrame({"thickness_nm": d, "t_c_K": t}), SweepMeta(sample_id="series"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitQualityWarning)
        rec = fit_curve(sweep, m, dict(params or {}), x="thickness_nm", y="t_c_K", weights=w,
                        fit_kws={"scale_covar": not (weighted and absolute_sigma)}, uncertainty=uncertainty)
    return dataclasses.replace(rec, meta={**rec.meta, "weighted": weighted})
