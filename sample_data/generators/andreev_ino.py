"""Synthetic a:InO-like Andreev data: a contact-conductance series and a temperature series.

Physics: the phenomenological PM-2 collective-gap model (``fitkit.physics.andreev``,
``form="pm2"``; a proposal of the fitkit physics note, not a published model) with a single-particle
gap Delta ~ 0.55 meV, a collective gap Delta_col ~ 0.21 meV that follows a BCS-shaped law with
T_c = 1.5 K, Dynes Gamma, thermal and lock-in smearing.  Loosely modelled on Dubouchet et al.,
Nat. Phys. 15, 233 (2019) (STM point contacts on amorphous InO, tunnelling to contact regime).

Files (CSV, comment lines ``# key = value`` then header ``V (mV),G (norm)``):

* ``contact_series/ino_gc_<g>G0.csv``: 8 spectra at 50 mK, contact conductance 0.01-4 G0
  (G0 = 2e^2/h; 4 G0 = 3.2 kOhm), barrier Z falling from 4 to 0.5 as the contact closes;
* ``temperature_series/ino_T_<T>K.csv``: 8 spectra of one transparent contact, 0.05-1.4 K;
* ``truth.json`` (all parameters, noise, seed, units) and ``README.md``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from fitkit.physics.andreev import collective_gap_conductance
from fitkit.physics.bcs import bcs_gap
from fitkit.physics.tunneling import nis_conductance

if str(Path(__file__).resolve().parent) not in sys.path:  # generators are loaded by file path
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import start, write_csv, write_truth_and_readme  # noqa: E402

DELTA_MEV = 0.55
DELTA_COL0_MEV = 0.21
T_C_K = 1.5
GAMMA_MEV = 0.008
V_MOD_RMS_MV = 0.005
NOISE = 0.006
BIAS_MAX_MV = 1.8
BIAS_STEP_MV = 0.003
CONTACT_G0 = (0.01, 0.03, 0.1, 0.3, 0.8, 1.5, 2.5, 4.0)
CONTACT_Z = (4.0, 3.0, 2.2, 1.5, 1.0, 0.75, 0.6, 0.5)
TUNNEL_BELOW_G0 = 0.2
BASE_T_K = 0.05
SERIES_T_K = (0.05, 0.3, 0.5, 0.7, 0.9, 1.1, 1.3, 1.4)
SERIES_Z = 0.6
SERIES_G0 = 2.0


def _write(path: Path, bias: np.ndarray, g: np.ndarray, meta: dict[str, float]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_csv(path, [f"{k} = {v}" for k, v in meta.items()], "V (mV),G (norm)", (bias, g),
                     (".4f", ".6f"))


def generate(outdir: Path, seed: int = 3) -> list[Path]:
    """Write the contact and temperature series, truth.json and README.md into ``outdir``.

    The contract of every generator (see ``_common``): ``outdir`` is created if missing, ``seed`` seeds
    the noise generator, the paths of the files written are returned.
    """
    outdir, rng = start(outdir, seed)
    n = int(round(BIAS_MAX_MV / BIAS_STEP_MV))
    bias = np.arange(-n, n + 1) * BIAS_STEP_MV
    written: list[Path] = []
    truth: dict = {
        "model": ("g_contact < 0.2 G0: fitkit.physics.tunneling.nis_conductance (Dynes N-I-S); otherwise "
                  "fitkit.physics.andreev.collective_gap_conductance, form='pm2' (phenomenological)"),
        "units": {"bias": "mV", "G": "G/G_N (normalised)", "delta": "meV", "delta_col": "meV",
                  "gamma": "meV", "temperature": "K", "v_mod_rms": "mV", "g_contact": "G0 = 2e^2/h"},
        "seed": seed,
        "noise_sigma_norm": NOISE,
        "delta_meV": DELTA_MEV,
        "gamma_meV": GAMMA_MEV,
        "v_mod_rms_mV": V_MOD_RMS_MV,
        "delta_col_law": {"form": "fitkit.physics.bcs.bcs_gap", "t_c_K": T_C_K, "delta0_meV": DELTA_COL0_MEV},
        "contact_series": [],
        "temperature_series": [],
    }
    dcol_base = float(bcs_gap(BASE_T_K, T_C_K, DELTA_COL0_MEV))
    for g0, z in zip(CONTACT_G0, CONTACT_Z, strict=True):
        tunnel = g0 < TUNNEL_BELOW_G0
        if tunnel:
            # PM-2 with Gamma > 0 cuts the Dynes tail below Delta (hard window edges), so the
            # tunnelling spectra are written as the physical N-I-S limit instead
            g = nis_conductance(bias, DELTA_MEV, GAMMA_MEV, BASE_T_K, V_MOD_RMS_MV)
        else:
            g = collective_gap_conductance(bias, DELTA_MEV, dcol_base, GAMMA_MEV, z, BASE_T_K, V_MOD_RMS_MV)
        g = g + rng.normal(0.0, NOISE, bias.size)
        name = f"contact_series/ino_gc_{g0:.2f}G0.csv"
        meta = {"g_contact_G0": g0, "temperature_K": BASE_T_K, "v_mod_rms_mV": V_MOD_RMS_MV}
        written.append(_write(outdir / name, bias, g, meta))
        truth["contact_series"].append({"file": name, "g_contact_G0": g0, "delta_meV": DELTA_MEV,
                                        "model": "nis" if tunnel else "pm2", "z": None if tunnel else z,
                                        "delta_col_meV": None if tunnel else dcol_base,
                                        "temperature_K": BASE_T_K})
    for t in SERIES_T_K:
        dcol = float(bcs_gap(t, T_C_K, DELTA_COL0_MEV))
        g = collective_gap_conductance(bias, DELTA_MEV, dcol, GAMMA_MEV, SERIES_Z, t, V_MOD_RMS_MV)
        g = g + rng.normal(0.0, NOISE, bias.size)
        name = f"temperature_series/ino_T_{t:.2f}K.csv"
        meta = {"g_contact_G0": SERIES_G0, "temperature_K": t, "v_mod_rms_mV": V_MOD_RMS_MV}
        written.append(_write(outdir / name, bias, g, meta))
        truth["temperature_series"].append({"file": name, "temperature_K": t, "z": SERIES_Z,
                                            "delta_meV": DELTA_MEV, "delta_col_meV": dcol})
    text = _README.format(seed=seed, noise=NOISE, delta=DELTA_MEV, dcol=dcol_base, tc=T_C_K,
                          dcol0=DELTA_COL0_MEV, gamma=GAMMA_MEV, vmod=V_MOD_RMS_MV,
                          g0=", ".join(f"{x:g}" for x in CONTACT_G0),
                          zs=", ".join(f"{x:g}" for x in CONTACT_Z),
                          ts=", ".join(f"{x:g}" for x in SERIES_T_K), sz=SERIES_Z)
    return [*written, *write_truth_and_readme(outdir, truth, text)]


_README = """# andreev_ino: synthetic a:InO-like Andreev spectra (contact and temperature series)

**Synthetic** data written by `sample_data/generators/andreev_ino.py`
(`python sample_data/generate.py andreev_ino`), seed {seed}.  Model of the Andreev spectra: the
phenomenological PM-2 collective-gap conductance of
`fitkit.physics.andreev.collective_gap_conductance` (a proposal of the fitkit physics note, **not a
published model**), inspired by Dubouchet et al., Nat. Phys. 15, 233 (2019).

| quantity | value | unit |
|---|---|---|
| single-particle gap Delta | {delta} | meV |
| collective gap Delta_col at 50 mK | {dcol:.5f} | meV |
| Delta_col(T) | `bcs_gap(T, t_c={tc}, delta0={dcol0})` | meV |
| Dynes Gamma | {gamma} | meV |
| lock-in modulation | {vmod} | mV rms |
| Gaussian noise on G/G_N | sigma = {noise} | 1 |

Files are CSV: comment lines `# key = value` (`g_contact_G0`, `temperature_K`, `v_mod_rms_mV`), header
`V (mV),G (norm)`; V is the bias in mV, G the conductance normalised to the normal state.

* `contact_series/`: T = 50 mK; contact conductance g = {g0} G0 (G0 = 2e^2/h = 77.48 uS, so 4 G0 = 3.2 kOhm)
  with barrier Z = {zs}.  Spectra below 0.2 G0 are N-I-S tunnelling spectra (Dynes DOS, gap Delta
  only; `fitkit.physics.tunneling.nis_conductance`), the others PM-2 Andreev spectra with peaks
  at +/-Delta_col (their Z is listed in truth.json).
* `temperature_series/`: one contact (Z = {sz}) at T = {ts} K; Delta stays, Delta_col follows the BCS law.
* `truth.json`: every parameter per file, noise, seed and units.
"""
