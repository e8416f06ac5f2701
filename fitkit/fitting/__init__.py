"""Fitting: one curve (:func:`fit_curve`), many curves (:func:`fit_series`), and :class:`FitRecord`."""

from fitkit.fitting.batch import fit_series
from fitkit.fitting.fit import default_y_column, fit_curve, record_from_result
from fitkit.fitting.record import FitRecord

__all__ = ["FitRecord", "default_y_column", "fit_curve", "fit_series", "record_from_result"]
