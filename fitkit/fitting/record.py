"""The :class:`FitRecord`: a plain-data result of one fit (no lmfit objects when serialised)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FitRecord"]


@dataclass(frozen=True)
class FitRecord:
    """Result of fitting one curve.

    All per-parameter dictionaries are keyed by the (prefixed) lmfit parameter name; values
    are in the parameter's declared unit (``units``).  ``stderr`` is NaN when it could not be
    estimated.  ``derived`` holds quantities computed from the fit (with ``derived_stderr`` and
    ``derived_units``), e.g. the gap-to-T_c ratio or the QPS length.

    ``result`` keeps the lmfit ``ModelResult`` in memory only; :meth:`to_dict` never includes it.

    Verdict and intervals (see :mod:`fitkit.fitting.quality`):

    ``verdict``
        ``"ok"``, ``"suspect"`` or ``"failed"``; ``verdict_reasons`` holds one sentence per reason.
    ``quality``
        Goodness-of-fit figures measured independently of the model: ``noise_sigma`` (noise per
        point in weighted-residual units), ``noise_method``, ``chi2_noise`` (χ²/ν against that
        noise), ``lag1`` (residual lag-1 autocorrelation), ``durbin_watson``, ``runs_z`` and
        ``error_scale`` (how much the linear errors were widened for correlated residuals).
    ``lower``, ``upper``
        The 68 % interval of each parameter in its unit (NaN when unknown); for a one-sided
        limit the open side is the parameter bound.
    ``interval_method``
        ``"linear"``, ``"profile"`` or ``"bootstrap"`` per parameter.
    ``interval_kind``
        ``"two-sided"``, ``"upper limit"``, ``"lower limit"`` or ``"not determined"``.
    """

    model_key: str
    sample_id: str = ""
    source_path: str = ""
    x_column: str = ""
    y_column: str = ""
    values: dict[str, float] = field(default_factory=dict)
    stderr: dict[str, float] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    vary: dict[str, bool] = field(default_factory=dict)
    at_bound: dict[str, bool] = field(default_factory=dict)
    init_values: dict[str, float] = field(default_factory=dict)
    correlations: dict[str, dict[str, float]] = field(default_factory=dict)
    derived: dict[str, float] = field(default_factory=dict)
    derived_stderr: dict[str, float] = field(default_factory=dict)
    derived_units: dict[str, str] = field(default_factory=dict)
    redchi: float = math.nan
    chisqr: float = math.nan
    aic: float = math.nan
    bic: float = math.nan
    nfev: int = 0
    ndata: int = 0
    nvarys: int = 0
    success: bool = False
    message: str = ""
    warnings: tuple[str, ...] = ()
    verdict: str = "ok"
    verdict_reasons: tuple[str, ...] = ()
    quality: dict[str, Any] = field(default_factory=dict)
    lower: dict[str, float] = field(default_factory=dict)
    upper: dict[str, float] = field(default_factory=dict)
    interval_method: dict[str, str] = field(default_factory=dict)
    interval_kind: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    config_digest: str = ""
    result: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        # a record that did not succeed can never carry the verdict "ok"
        if not self.success and self.verdict == "ok":
            object.__setattr__(self, "verdict", "failed")
            if not self.verdict_reasons:
                reason = self.message or "the fit did not converge"
                object.__setattr__(self, "verdict_reasons", (reason,))

    def value(self, name: str) -> float:
        """Fitted value of a parameter (or derived quantity)."""
        return self.values[name] if name in self.values else self.derived[name]

    def error(self, name: str) -> float:
        """Standard error of a parameter (or derived quantity); NaN when unknown."""
        if name in self.stderr:
            return self.stderr[name]
        return self.derived_stderr.get(name, math.nan)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly plain dict (non-finite floats become None)."""

        def clean(v: Any) -> Any:
            if isinstance(v, float) and not math.isfinite(v):
                return None
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            if isinstance(v, (list, tuple)):
                return [clean(x) for x in v]
            if hasattr(v, "item") and callable(v.item):  # numpy scalars
                return clean(v.item())
            return v

        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "result"}
        return clean(out)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FitRecord:
        """Rebuild a record from :meth:`to_dict` output (None -> NaN for floats)."""

        def unclean(v: Any) -> Any:
            if v is None:
                return math.nan
            if isinstance(v, dict):
                return {k: unclean(x) for k, x in v.items()}
            return v

        kw = dict(d)
        for k in ("values", "stderr", "init_values", "derived", "derived_stderr", "lower", "upper",
                  "quality"):
            if k in kw:
                kw[k] = unclean(kw[k])
        for k in ("redchi", "chisqr", "aic", "bic"):
            if kw.get(k) is None:
                kw[k] = math.nan
        if "correlations" in kw:
            kw["correlations"] = {a: unclean(b) for a, b in kw["correlations"].items()}
        kw["warnings"] = tuple(kw.get("warnings", ()))
        kw["verdict_reasons"] = tuple(kw.get("verdict_reasons", ()))
        return cls(**kw)
