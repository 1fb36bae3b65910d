"""Pileup subtraction (Sec. IV C 2) from the recorded shadow-window estimates.

Each estimator records, per [energy x time] bin, the artificial doubles built from hits one
shadow gap apart (their summed energies, at the first hit's time) and the singles those doubles
replace, and the artificial triples (hits one and two gaps apart) with their pair sums and
singles. To first order the pileup spectrum to subtract is doubles - singles: it adds the merged
positrons and removes the two that merged; the triples carry the second order. Its
normalisation is checked (and fitted) above the positron endpoint, where everything recorded is
pileup (Fig. 6).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..records import binning

ENDPOINT_REGION_GEV = 3.6  # 1.16 E_max: above the endpoint by more than the resolution


@dataclass
class PileupCorrection:
    scale: float  # fitted normalisation of the estimate (1 = as recorded)
    scale_error: float
    chi2_above_endpoint: float
    ndf_above_endpoint: int


# Weights of the shadow-triple spectra in the second-order estimate (see pileup_estimate)
TRIPLE_WEIGHT, TRIPLE_PAIR_WEIGHT, TRIPLE_SINGLE_WEIGHT = 0.5, -2.0 / 3.0, 5.0 / 6.0


def pileup_estimate(doubles: np.ndarray, singles: np.ndarray, triples=None, triple_pairs=None, triple_singles=None):
    """The pileup spectrum to subtract, to second order in lambda = rate x resolving time, and its
    variance, per [energy x time] bin.

    A reconstruction that merges hits within the resolving time w of a cluster's first hit turns
    a Poisson stream with single-hit spectrum f into clusters of 1 + k hits, k ~ Poisson(lambda),
    N / (1 + lambda) clusters for N hits. Per hit the measured spectrum is then

        M = f (1 - 2 lambda + 5/2 lambda^2) + f*f (lambda - 2 lambda^2) + f*f*f lambda^2 / 2 + O(lambda^3)

    (f*f: the spectrum of summed pairs). The shadow doubles (lambda per hit) give D - S =
    lambda (f*f - 2 f), the first-order term; the shadow triples (lambda^2 per hit, two
    independent windows) give T = lambda^2 f*f*f, P3 = 3 lambda^2 f*f, S3 = 3 lambda^2 f, and
    T/2 - 2/3 P3 + 5/6 S3 is the second-order rest. The estimate is D - S (+ that), to be
    subtracted from M; its variance treats each recorded spectrum as Poisson.
    """
    d = np.asarray(doubles, dtype=float)
    s = np.asarray(singles, dtype=float)
    est, var = d - s, d + s
    if triples is not None:
        parts = [(TRIPLE_WEIGHT, triples), (TRIPLE_PAIR_WEIGHT, triple_pairs), (TRIPLE_SINGLE_WEIGHT, triple_singles)]
        for weight, spectrum in parts:
            spectrum = np.asarray(spectrum, dtype=float)
            est = est + weight * spectrum
            var = var + weight**2 * spectrum
    return est, var


def normalise_above_endpoint(counts_et, estimate_et, window_bins, edges=binning.ENERGY_EDGES_GEV) -> PileupCorrection:
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


def second_order_fraction(doubles, singles, triples, triple_pairs, triple_singles) -> float:
    """Size of the second-order part of the estimate relative to the first-order part (summed
    absolute contents): ~ lambda, the ratio by which each order of the series shrinks."""
    first = np.abs(np.asarray(doubles, float) - np.asarray(singles, float)).sum()
    second = np.abs(TRIPLE_WEIGHT * np.asarray(triples, float) + TRIPLE_PAIR_WEIGHT * np.asarray(triple_pairs, float)
                    + TRIPLE_SINGLE_WEIGHT * np.asarray(triple_singles, float)).sum()
    return float(second / first) if first > 0 else 0.0
