"""The built-in job kinds, one module per kind; importing this package registers them all.

:data:`fitkit.registry.JOB_KINDS` imports this package by name on first use.  Each module holds one
thin adapter (a :class:`fitkit.pipeline.base.JobKind` subclass): the numbers come from
:mod:`fitkit.analysis` / :mod:`fitkit.fitting`, the figures and tables from :mod:`fitkit.report`.

==============================  ===========================  =======================================
kind                            module                       science
==============================  ===========================  =======================================
``fit``                         :mod:`.fit`                  :func:`fitkit.fitting.batch.fit_series`
``transition``                  :mod:`.transition`           :mod:`fitkit.analysis.transition`
``gap_temperature``             :mod:`.gap_temperature`      :mod:`fitkit.analysis.gap_temperature`
``qps_join``                    :mod:`.qps_join`             :mod:`fitkit.analysis.qps`
``finkelstein``                 :mod:`.finkelstein`          :mod:`fitkit.analysis.finkelstein`
``map``                         :mod:`.map`                  :mod:`fitkit.analysis.gridmap`
``andreev_contact_series``      :mod:`.andreev_contact`      :mod:`fitkit.analysis.andreev_series`
``andreev_temperature_series``  :mod:`.andreev_temperature`  :mod:`fitkit.analysis.andreev_series`
``pcar_profile``                :mod:`.pcar_profile`         :mod:`fitkit.analysis.pcar`
==============================  ===========================  =======================================
"""

from __future__ import annotations

from fitkit.pipeline.kinds import (
    andreev_contact,
    andreev_temperature,
    finkelstein,
    fit,
    gap_temperature,
    pcar_profile,
    qps_join,
    transition,
)
from fitkit.pipeline.kinds import map as map_kind

__all__ = [
    "andreev_contact",
    "andreev_temperature",
    "finkelstein",
    "fit",
    "gap_temperature",
    "map_kind",
    "pcar_profile",
    "qps_join",
    "transition",
]
