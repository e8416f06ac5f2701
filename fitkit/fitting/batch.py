"""Fit many curves with one model: :func:`fit_series`, with per-item error capture.

One bad file or one failed fit never stops a series: it becomes a
``FitRecord(success=False, message=...)`` and the loop goes on.  ``strict=True`` (the CLI's
``--fail-fast``) re-raises instead, for debugging.
"""

from __future__ import annotations

import dataclasses
import logging
import traceback
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import lmfit

from fitkit.errors import FitkitError, FitQualityWarning
from fitkit.fitting.fit import fit_curve
from fitkit.fitting.record import FitRecord
from fitkit.io import Sweep, load

__all__ = ["CAPTURED_ERRORS", "failed_record", "fit_series", "load_sweeps"]

log = logging.getLogger("fitkit")

CAPTURED_ERRORS: tuple[type[BaseException], ...] = (Exception,)
"""Exceptions recorded per item: every ``Exception`` (fitkit's own, lmfit/numpy failures, file-system
errors, ``_csv.Error``, a ``NameError`` from a bad ``expr``, ...). Only ``KeyboardInterrupt``,
``SystemExit`` and ``GeneratorExit`` (not ``Exception`` subclasses) end a batch (docs/guarantees.md)."""


def failed_record(
    err: BaseException | str,
    *,
    model_key: str = "",
    sample_id: str = "",
    source_path: str = "",
    config_digest: str = "",
    meta: Mapping[str, Any] | None = None,
) -> FitRecord:
    """A ``success=False`` record carrying the error type and message.

    Parameters
    ----------
    err
        The exception (its type name is kept in the message) or a message.
    model_key, sample_id, source_path, config_digest, meta
        Identifiers copied into the record.

    Returns
    -------
    FitRecord
    """
    msg = err if isinstance(err, str) else f"{type(err).__name__}: {err}"
    return FitRecord(
        model_key=model_key,
        sample_id=sample_id,
        source_path=source_path,
        success=False,
        message=msg,
        warnings=(msg,),
        config_digest=config_digest,
        meta=dict(meta or {}),
    )


def load_sweeps(
    path: str | Path,
    format: str | None = None,
    options: Mapping[str, Any] | None = None,
    block: tuple[int, int] | None = None,
) -> list[Sweep]:
    """Read a file into a list of sweeps, optionally keeping only ``sweeps[start:stop]``.

    Raises
    ------
    FileNotFoundError, LoaderError, DataValidationError
    """
    got = load(path, format=format, **dict(options or {}))
    sweeps = list(got) if isinstance(got, (list, tuple)) else [got]
    if block is not None:
        sweeps = sweeps[block[0] : block[1]]
    return sweeps


def _model_key(model: Any) -> str:
    if isinstance(model, str):
        return model
    if isinstance(model, lmfit.model.CompositeModel):
        return f"{_model_key(model.left)}+{_model_key(model.right)}"
    return str(getattr(model, "key", getattr(model, "name", "")))


def fit_series(
    sweeps: Iterable[Sweep | str | Path],
    model: lmfit.Model | str | Callable[[], lmfit.Model],
    params: Mapping[str, Any] | None = None,
    *,
    x: str | None = None,
    y: str | None = None,
    x_range: tuple[float | None, float | None] | None = None,
    method: str = "leastsq",
    preprocess: Sequence[Mapping[str, Any]] = (),
    format: str | None = None,
    load_options: Mapping[str, Any] | None = None,
    sample_id: str | None = None,
    strict: bool = False,
    fit_kws: Mapping[str, Any] | None = None,
    config_digest: str = "",
    meta: Mapping[str, Any] | None = None,
    on_record: Callable[[FitRecord, Sweep | None], None] | None = None,
    uncertainty: str = "auto",
) -> list[FitRecord]:
    """Fit every sweep (or every sweep of every file) with the same model and settings.

    Parameters
    ----------
    sweeps
        Sweeps, or paths to read with :func:`fitkit.load` (a multi-curve file gives several records).
    model
        A model instance, a registry key, or a zero-argument factory; a fresh model is used per curve
        when a key or a factory is given.
    params
        Overrides ``name -> value`` or ``name -> {value, min, max, vary, expr}`` in declared units,
        applied on top of ``model.guess`` for each curve.
    x, y, x_range, method, fit_kws
        Passed to :func:`fitkit.fit_curve` (``x_range`` in the x column's SI unit).
    preprocess
        Steps for :func:`fitkit.preprocess.apply_steps`, applied to each sweep before fitting.
    format, load_options
        Loader key and options for path items.
    sample_id
        Overrides the loader's sample id (useful when the file name does not carry it).
    strict
        Re-raise the first error instead of recording it (``--fail-fast``).
    config_digest
        Stored in every record.
    meta
        Extra items merged into every record's ``meta`` (e.g. ``{"job": ..., "item_id": ...}``).
    on_record
        Called with each record as it is made and the sweep that was fitted (after ``preprocess``;
        None for a failed record), e.g. to draw the fit without preprocessing the sweep again.
    uncertainty
        ``"linear"``, ``"profile"``, ``"bootstrap"`` or ``"auto"``: how intervals are stated (see
        :func:`fitkit.fit_curve`).

    Returns
    -------
    list of FitRecord
        One record per curve, in input order; failed items have ``success=False`` and a
        ``message`` of the form ``"<ErrorType>: <what went wrong>"``.  Records keep the lmfit
        ``ModelResult`` in ``record.result`` (memory only).

    Raises
    ------
    FitkitError and the captured error types
        Only when ``strict`` is true.
    """
    records: list[FitRecord] = []
    extra = dict(meta or {})
    key = _model_key(model) if isinstance(model, (str, lmfit.Model)) else ""

    def make_model() -> lmfit.Model | str:
        if isinstance(model, (str, lmfit.Model)):
            return model
        return model()

    def fail(err: BaseException, source: str, sid: str, index: int | None) -> None:
        if strict:
            raise err
        if not isinstance(err, FitkitError):
            log.error(
                "unexpected %s while fitting %s:\n%s",
                type(err).__name__,
                source or sid,
                "".join(traceback.format_exception(err)),
            )
        else:
            log.warning("%s: %s", source or sid or "item", err)
        m = {**extra, **({"sweep_index": index} if index is not None else {})}
        records.append(
            failed_record(
                err, model_key=key, sample_id=sid, source_path=source, config_digest=config_digest, meta=m
            )
        )
        if on_record is not None:
            on_record(records[-1], None)

    for item in sweeps:
        if isinstance(item, Sweep):
            todo: list[Sweep] = [item]
            source = item.meta.source_path
        else:
            source = str(item)
            try:
                todo = load_sweeps(item, format, load_options)
            except CAPTURED_ERRORS as err:
                fail(err, source, sample_id or Path(source).stem, None)
                continue
        for k, sw in enumerate(todo):
            index = k if len(todo) > 1 else None
            sid = (
                sample_id
                or sw.meta.sample_id
                or (Path(sw.meta.source_path).stem if sw.meta.source_path else "")
            )
            try:
                if sample_id is not None or not sw.meta.sample_id:
                    sw = Sweep(sw.data, sw.meta.replace(sample_id=sid))
                if preprocess:
                    from fitkit.preprocess import apply_steps

                    sw = apply_steps(sw, list(preprocess))
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", FitQualityWarning)
                    rec = fit_curve(
                        sw,
                        make_model(),
                        params,
                        x=x,
                        y=y,
                        x_range=x_range,
                        method=method,
                        strict=strict,
                        fit_kws=fit_kws,
                        uncertainty=uncertainty,
                    )
            except CAPTURED_ERRORS as err:
                fail(err, sw.meta.source_path or source, sid, index)
                continue
            meta_out = {**rec.meta, **extra, **({"sweep_index": index} if index is not None else {})}
            records.append(dataclasses.replace(rec, config_digest=config_digest, meta=meta_out))
            if on_record is not None:
                on_record(records[-1], sw)
    return records
