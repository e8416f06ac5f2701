"""Timing of the ``text`` loader on a large generated CSV (run: python benchmarks/io_text_table.py).

Prints the median of repeated loads of a 200 000-row R(T) CSV with ``T (mK)``/``R (kOhm)`` headers,
compared with a bare ``pandas.read_csv`` plus the same unit scaling measured in the same run (the
naive reference does none of the checks: no unit parsing, no line-numbered errors, no NaN/duplicate
policy).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from _timing import median_time  # benchmarks/ is on sys.path when run as a script

from fitkit.io import load

N_ROWS = 200_000
REPEATS = 5


def main() -> None:
    rng = np.random.default_rng(1)
    t_mk = np.sort(rng.uniform(50.0, 5000.0, N_ROWS))
    r_kohm = 1.0 + rng.normal(0.0, 0.01, N_ROWS)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big_rt.csv"
        pd.DataFrame({"T (mK)": t_mk, "R (kOhm)": r_kohm}).to_csv(path, index=False)

        def ours() -> None:
            load(path, format="text")

        def naive() -> None:
            df = pd.read_csv(path)
            pd.DataFrame({"temperature_K": df["T (mK)"] * 1e-3, "resistance_ohm": df["R (kOhm)"] * 1e3})

        t_ours = median_time(ours, REPEATS)
        t_naive = median_time(naive, REPEATS)
    print(f"text loader, {N_ROWS} rows: median {t_ours * 1e3:.1f} ms over {REPEATS} runs")
    print(f"pandas.read_csv reference: median {t_naive * 1e3:.1f} ms")
    print(f"ratio (loader / reference): {t_ours / t_naive:.1f}")


if __name__ == "__main__":
    main()
