"""Binning of every recorded view (DESIGN §5): chosen per use, so records stay lean.

All experiment times are on the blinded clock, measured from the injection trigger.
"""

from __future__ import annotations

import numpy as np

from ..constants import N_CALOS, T_C_MAGIC_US

# analysis-level bins of the event-based methods: 149.2 ns (Sec. IV E)
T_BIN_US = 0.1492
N_T = 4700  # 0 .. 701.24 us: covers the 30.1-660 us window and the randomization margin
T_END_US = T_BIN_US * N_T

# calorimeter-summed view at 1/16 of that bin, for +-T_c/2 randomization by redistribution
FINE_PER_BIN = 16
T_FINE_US = T_BIN_US / FINE_PER_BIN
N_T_FINE = N_T * FINE_PER_BIN

# energy-integrated (Q) view: 150 ns bins per calorimeter, 15 ns bins summed
TQ_BIN_US = 0.150
N_TQ = int(round(T_END_US / TQ_BIN_US))
TQ_FINE_US = 0.015
N_TQ_FINE = N_TQ * 10

# fast-rotation view: 1 ns bins over the first 350 us, calorimeter-aligned
T_FR_US = 0.001
N_FR = 350_000
FR_ENERGY_MIN_GEV = 1.0

# truth (sealed) time bins: 8 analysis bins
T_TRUTH_US = 8 * T_BIN_US
N_T_TRUTH = N_T // 8 + 1

# trackers: 4 analysis bins, 3 mm in x and y over +-60 mm
T_TRACK_US = 4 * T_BIN_US
N_T_TRACK = N_T // 4
N_XY_TRACK = 40
XY_TRACK_MAX_MM = 60.0
XY_TRACK_BIN_MM = 2 * XY_TRACK_MAX_MM / N_XY_TRACK

# energy: 100 MeV bins to 3.2 GeV, then 400 MeV bins to 6.4 GeV (pileup region)
N_E_FINE = 32
E_FINE_GEV = 0.1
E_SPLIT_GEV = 3.2
E_COARSE_GEV = 0.4
N_E = N_E_FINE + 8
ENERGY_EDGES_GEV = np.concatenate(
    [np.arange(N_E_FINE + 1) * E_FINE_GEV, E_SPLIT_GEV + np.arange(1, 9) * E_COARSE_GEV]
)

# laser gain monitor: in-fill sampling times and short-term pulse separations
LASER_INFILL_TIMES_US = np.arange(0.0, 700.0, 10.0)
LASER_SHORTTERM_DT_NS = np.array([2.5, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 50.0, 80.0, 120.0])

# calorimeter k sits at azimuth (k + 1/2) x 15 deg downstream of the injection point
CALO_ALIGN_US = (np.arange(N_CALOS) + 0.5) / N_CALOS * T_C_MAGIC_US


def edges_from_centres(centres, width: float) -> np.ndarray:
    """Bin edges of equally wide bins of ``width`` around ``centres``."""
    centres = np.asarray(centres, dtype=float)
    return np.append(centres - 0.5 * width, centres[-1] + 0.5 * width)


def time_edges(width: float, n: int) -> np.ndarray:
    """Bin edges 0, width, ..., n*width."""
    return np.arange(n + 1) * width


def energy_centers() -> np.ndarray:
    """Centres of the recorded energy bins."""
    return 0.5 * (ENERGY_EDGES_GEV[1:] + ENERGY_EDGES_GEV[:-1])
