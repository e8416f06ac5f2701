"""Fitting: one curve (:func:`fit_curve`) and records (:class:`FitRecord`)."""

from fitkit.fitting.fit import default_y_column, fit_curve, record_from_result
from fitkit.fitting.record import FitRecord

__all__ = ["FitRecord", "default_y_column", "fit_curve", "record_from_result"]
