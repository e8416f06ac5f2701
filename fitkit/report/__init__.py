"""Reports: FitRecords -> tables, plots and files.  The only layer that applies display units."""
