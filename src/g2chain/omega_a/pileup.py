"""Pileup subtraction (Sec. IV C 2) from the recorded shadow-window estimates.

Each estimator records, per [energy x time] bin, the artificial doubles built from hits one
shadow gap apart (their summed energies, at the first hit's time) and the singles those doubles
replace. The pileup spectrum to subtract is doubles - singles: it adds the merged positrons
and removes the two that merged. Its normalisation is checked (and fitted) above the positron
endpoint, where everything recorded is pileup (Fig. 6).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..experiment import binning as B

ENDPOINT_REGION_GEV = 3.6  # 1.16 E_max: above the endpoint by more than the resolution


@dataclass
class PileupCorrection:
    scale: float  # fitted normalisation of the estimate (1 = as recorded)
    scale_error: float
    chi2_above_endpoint: float
    ndf_above_endpoint: int


def pileup_estimate(doubles: np.ndarray, singles: np.ndarray):
    """(estimate = doubles - singles, its variance = doubles + singles) per [energy x time] bin."""
    d = np.asarray(doubles, dtype=float)
    s = np.asarray(singles, dtype=float)
    return d - s, d + s


def normalise_above_endpoint(counts_et, estimate_et, window_bins, edges=B.ENERGY_EDGES_GEV) -> PileupCorrection:
    """Least-squares scale of the estimate to the data above the endpoint, in the fit window.

    Summed over the window per energy bin (the time shape is checked by the fit itself); the
    variance of each bin is data + estimate counts.
    """
    above = edges[:-1] >= ENDPOINT_REGION_GEV - 1e-9
    data = np.asarray(counts_et, dtype=float)[above][:, window_bins].sum(axis=1)
    est = np.asarray(estimate_et, dtype=float)[above][:, window_bins].sum(axis=1)
    var = np.maximum(data + np.abs(est), 1.0)
    ok = est > 0
    if not np.any(ok):
        return PileupCorrection(1.0, np.inf, 0.0, 0)
    scale = np.sum(data[ok] * est[ok] / var[ok]) / np.sum(est[ok] ** 2 / var[ok])
    err = 1.0 / np.sqrt(np.sum(est[ok] ** 2 / var[ok]))
    chi2 = float(np.sum((data[ok] - scale * est[ok]) ** 2 / var[ok]))
    return PileupCorrection(float(scale), float(err), chi2, int(ok.sum()) - 1)


def subtract_pileup(counts_et, var_et, estimate_et, estimate_var_et, scale: float = 1.0):
    """Pileup-corrected [energy x time] histogram and its variance."""
    corrected = np.asarray(counts_et, dtype=float) - scale * estimate_et
    return corrected, np.asarray(var_et, dtype=float) + scale**2 * estimate_var_et
