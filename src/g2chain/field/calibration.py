"""Trolley-probe calibration (Run-2/3 report Sec. VI C, Eq. 47): each trolley probe's offset
from the calibration probe, measured in swap campaigns at one azimuth."""

from __future__ import annotations

import numpy as np


def probe_offsets(trolley_readings, calibration_readings) -> tuple[np.ndarray, np.ndarray]:
    """Per probe, the mean of (trolley - calibration probe) over the swaps and its standard
    error from their scatter: ([17], [17]) Hz. Inputs [17 x n_swaps]; NaN swaps are skipped."""
    d = np.asarray(trolley_readings, dtype=float) - np.asarray(calibration_readings, dtype=float)
    if d.ndim != 2:
        raise ValueError(f"readings: expected [probes x swaps], got shape {d.shape}")
    n = np.sum(np.isfinite(d), axis=1)
    if np.any(n < 2):
        raise ValueError(f"calibration: probe(s) {np.flatnonzero(n < 2).tolist()} have fewer than two good swaps")
    return np.nanmean(d, axis=1), np.nanstd(d, axis=1, ddof=1) / np.sqrt(n)
