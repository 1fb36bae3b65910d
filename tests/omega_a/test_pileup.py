"""Pileup: the production's shadow-window spectra and the analysis' second-order estimate against
an explicit Poisson stream of hits, merged the way the local reconstruction merges them."""

import numpy as np
import pytest
from numba import njit

from g2chain.experiment.production import N_T, T_BIN, _shadow, energy_bin
from g2chain.omega_a.pileup import pileup_estimate
from g2chain.records import binning

WIDTH = 0.005  # us: resolving time
GAP = 0.010  # us: shadow gap


@njit
def _merge(t, e, width, out):
    """Clusters of hits within ``width`` of their first hit, energies summed (as production does)."""
    q = 0
    while q < t.size:
        esum = e[q]
        r = q + 1
        while r < t.size and t[r] - t[q] < width:
            esum += e[r]
            r += 1
        out[energy_bin(esum)] += 1
        q = r


def _stream(lam, n_fills, seed):
    """Per fill a Poisson stream of lambda hits per resolving time over the histogram range,
    energies uniform in 0.3-2.8 GeV. Returns (merged spectrum, true spectrum, shadow spectra)."""
    rng = np.random.default_rng(seed)
    rate = lam / WIDTH
    t_max = N_T * T_BIN - 3 * (GAP + WIDTH)
    merged = np.zeros(binning.N_E)
    true = np.zeros(binning.N_E)
    shadow = np.zeros((5, binning.N_E, N_T), np.int32)
    for _ in range(n_fills):
        n = rng.poisson(rate * t_max)
        t = np.sort(rng.uniform(0.0, t_max, n))
        e = rng.uniform(0.3, 2.8, n)
        _merge(t, e, WIDTH, merged)
        true += np.bincount(np.minimum((e * 10).astype(int), binning.N_E - 1), minlength=binning.N_E)
        xy = np.zeros(n)
        _shadow(t, e, xy, xy, n, GAP, WIDTH, 1.0, False, shadow)
    return merged, true, shadow.sum(axis=2).astype(float)


@pytest.mark.parametrize("lam", [0.05])
def test_second_order_estimate_restores_the_single_hit_spectrum(lam):
    merged, true, sh = _stream(lam, 200, 5)
    first, first_var = pileup_estimate(sh[0], sh[1])
    full, full_var = pileup_estimate(*sh)
    # the merged spectrum is the truth plus pileup; the estimates are built from the same hits
    var = merged + full_var
    ok = var > 0
    chi2_none = np.sum(((merged - true)[ok]) ** 2 / var[ok])
    chi2_first = np.sum(((merged - first - true)[ok]) ** 2 / var[ok])
    chi2_full = np.sum(((merged - full - true)[ok]) ** 2 / var[ok])
    ndf = int(ok.sum())
    assert chi2_none > 100 * ndf  # pileup is there
    assert chi2_first > 3 * ndf  # the first order leaves the lambda^2 terms
    assert chi2_full < ndf + 4 * np.sqrt(2 * ndf)  # the second order closes (third order ~ lambda^3)
    # counts: N (1 - lambda + lambda^2 - ...) clusters; the estimate removes -lambda + lambda^2
    n = true.sum()
    assert abs((merged.sum() - full.sum()) - n) < 5 * np.sqrt(n * lam**3) + 5 * np.sqrt(full_var.sum())


def test_triples_are_the_product_of_two_shadow_windows():
    # one anchor a, two hits (b, c) in its first shadow window, one (d) in its second: doubles
    # a-b, a-c and b-d (d is in b's first window), triples a-b-d and a-c-d
    t = np.array([1.0, 1.0 + GAP + 0.001, 1.0 + GAP + 0.002, 1.0 + 2 * GAP + 0.001])
    e = np.array([1.05, 0.55, 0.35, 0.25])
    out = np.zeros((5, binning.N_E, N_T), np.int32)
    xy = np.zeros(4)
    _shadow(t, e, xy, xy, 4, GAP, WIDTH, 1.0, False, out)
    tb = int(1.0 / T_BIN)
    per_bin = out[:, :, tb]
    assert per_bin[0].sum() == 3 and per_bin[1].sum() == 6
    assert per_bin[2].sum() == 2 and per_bin[3].sum() == 6 and per_bin[4].sum() == 6
    assert per_bin[2, energy_bin(1.05 + 0.55 + 0.25)] == 1 and per_bin[2, energy_bin(1.05 + 0.35 + 0.25)] == 1
