"""Wiggle histograms of the T, A and Q methods from the recorded calorimeter views (Sec. IV B-C).

Inputs are the experiment's [energy x time] views; outputs are one time histogram with its
per-bin variance on the analysis binning (149.2 ns event-based, 150 ns energy-based), summed over
calorimeters. Fast rotation is handled as in Sec. IV C 3: event-based histograms are randomized
by +-T_c/2 per positron (done exactly from the T_c/16 view by binomial splitting), energy-based
ones spread uniformly over one cyclotron period.
"""

from __future__ import annotations

import numpy as np

from ..records import binning


class HistogramError(ValueError):
    """A histogram input that cannot be analysed (one-line message naming it)."""


def check_counts(name: str, values: np.ndarray) -> np.ndarray:
    """Reject NaN or negative bins with a one-line error naming the input."""
    values = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(values)):
        raise HistogramError(f"{name}: {np.count_nonzero(~np.isfinite(values))} bins are NaN or infinite")
    if np.any(values < 0):
        raise HistogramError(f"{name}: {np.count_nonzero(values < 0)} bins are negative")
    return values


def threshold_weights(threshold_gev: float, edges=binning.ENERGY_EDGES_GEV) -> np.ndarray:
    """T-method weights per energy bin: 1 for bins at or above the threshold (which must be an edge)."""
    k = np.flatnonzero(np.isclose(edges, threshold_gev, atol=1e-9))
    if k.size != 1:
        raise HistogramError(f"threshold {threshold_gev} GeV is not an energy bin edge (edges every 0.1 GeV to 3.2)")
    w = np.zeros(edges.size - 1)
    w[k[0]:] = 1.0
    return w


def measured_asymmetry(counts_et: np.ndarray, t: np.ndarray, window, omega: float, tau: float, phase: float):
    """A(E) per energy bin measured from the data (A-method weights, Sec. IV B).

    Per energy bin a linear least-squares fit of n e^{-t/tau} (1 + a_c cos wt + a_s sin wt) with
    omega, tau from a preceding T-method fit; the asymmetry is the amplitude projected on the
    T-method phase, A(E) = (a_c cos phi + a_s sin phi), so that a phase that changes with energy
    reduces the weight. Bin variances from the smooth exponential (Pearson).
    Returns (A, sigma_A) per energy bin.
    """
    sel = (t >= window[0]) & (t <= window[1])
    ts = t[sel]
    decay = np.exp(-ts / tau)
    basis = np.stack([decay, decay * np.cos(omega * ts), decay * np.sin(omega * ts)], axis=1)
    a = np.zeros(counts_et.shape[0])
    err = np.full(counts_et.shape[0], np.inf)
    for e in range(counts_et.shape[0]):
        y = counts_et[e, sel].astype(float)
        total = y.sum()
        if total < 100:
            continue
        var = np.maximum(total / decay.sum() * decay, 1.0)  # smooth exponential as the variance model
        w = 1.0 / np.sqrt(var)
        coef, *_ = np.linalg.lstsq(basis * w[:, None], y * w, rcond=None)
        cov = np.linalg.inv((basis * w[:, None]).T @ (basis * w[:, None]))
        n, ac, as_ = coef
        proj = ac * np.cos(phase) + as_ * np.sin(phase)  # n A(E)
        a[e] = proj / n
        grad = np.array([-proj / n**2, np.cos(phase) / n, np.sin(phase) / n])
        err[e] = np.sqrt(grad @ cov @ grad)
    return a, err


def best_threshold(a: np.ndarray, a_err: np.ndarray, n_per_bin: np.ndarray, search_gev,
                   edges=binning.ENERGY_EDGES_GEV):
    """T-method threshold with the smallest expected sigma_R, from the measured A(E).

    For E > E_th the T method counts N_T = sum N_i with asymmetry A_T = sum N_i A_i / N_T, and
    sigma_omega ~ sqrt(2) / (A_T sqrt(N_T) omega tau): the figure of merit is
    N_T A_T^2 = (sum N_i A_i)^2 / sum N_i, scanned over the bin edges inside ``search_gev``.
    Returns (threshold, thresholds, sigma_R relative to the best).
    """
    lo = edges[:-1]
    ok = np.isfinite(a_err)
    na = np.where(ok, n_per_bin * a, 0.0)
    n = np.where(ok, n_per_bin, 0.0)
    cand = edges[(edges >= search_gev[0] - 1e-9) & (edges <= search_gev[1] + 1e-9)]
    if cand.size == 0:
        raise HistogramError(f"threshold search {list(search_gev)} GeV holds no energy bin edge")
    fom = np.array([na[lo >= e - 1e-9].sum() ** 2 / max(n[lo >= e - 1e-9].sum(), 1e-300) for e in cand])
    if not np.any(fom > 0):
        raise HistogramError("threshold search: no energy bin with a measured asymmetry")
    best = int(np.argmax(fom))
    with np.errstate(divide="ignore"):
        rel = np.sqrt(fom[best] / fom)
    return float(cand[best]), cand, rel


def asymmetry_weights(a: np.ndarray, err: np.ndarray, e_min_gev: float, edges=binning.ENERGY_EDGES_GEV) -> np.ndarray:
    """A-method weights: the measured A(E) above e_min, zero below and where A is unmeasured."""
    lo = edges[:-1]
    return np.where((lo >= e_min_gev - 1e-9) & np.isfinite(err), a, 0.0)


def randomize_cyclotron(fine_et: np.ndarray, rng: np.random.Generator,
                        per_bin: int = binning.FINE_PER_BIN) -> np.ndarray:
    """Event-based +-T_c/2 randomization, rebinned to the analysis bins (Sec. IV C 3).

    Each positron's time is shifted by u ~ U(-T/2, T/2), T the analysis bin width (= T_c), then
    binned. A positron in fine sub-bin p of bin i (position q = (p + 1/2)/per_bin) lands in bin i-1
    with probability max(0, 1/2 - q), in bin i+1 with probability max(0, q - 1/2), else in bin i:
    each fine bin is therefore split between two analysis bins by one binomial draw, which is the
    event-level randomization exactly (to the fine-bin resolution of the positions).
    Input [..., n_fine]; output [..., n_fine // per_bin] counts.
    """
    fine = np.asarray(fine_et)
    n_fine = fine.shape[-1]
    if n_fine % per_bin:
        raise HistogramError(f"fine histogram of {n_fine} bins is not a multiple of {per_bin}")
    n = n_fine // per_bin
    sub = fine.reshape(fine.shape[:-1] + (n, per_bin)).astype(np.int64)
    q = (np.arange(per_bin) + 0.5) / per_bin
    p_move = np.abs(q - 0.5)
    # only the occupied fine bins draw (Generator.binomial draws nothing for n = 0, so the
    # randomization is the one of drawing them all, at a fraction of the cost at low statistics)
    moved = np.zeros_like(sub)
    occupied = sub > 0
    moved[occupied] = rng.binomial(sub[occupied], np.broadcast_to(p_move, sub.shape)[occupied])
    stay = sub - moved
    out = stay.sum(axis=-1)
    early = q < 0.5
    down = moved[..., early].sum(axis=-1)  # to bin i-1
    up = moved[..., ~early].sum(axis=-1)  # to bin i+1
    # movers of bin 0 to t < 0 and of the last bin past the end are lost, as with real data
    out[..., :-1] += down[..., 1:]
    out[..., 1:] += up[..., :-1]
    return out


def spread_uniform(fine: np.ndarray, fine_width: float, period: float, out_width: float, n_out: int):
    """Energy-based fast-rotation handling: each fine bin's content spread uniformly over
    [t - period/2, t + period/2] (t its centre), then integrated into bins of ``out_width``.

    Linear in the input: returns (histogram, M) with histogram = M @ fine, M a sparse matrix, so
    the bin covariance of the output is M diag(var) M^T.
    """
    from scipy import sparse

    n_fine = fine.shape[-1]
    centres = (np.arange(n_fine) + 0.5) * fine_width
    lo, hi = centres - period / 2, centres + period / 2
    rows, cols, vals = [], [], []
    first = np.floor(lo / out_width).astype(int)
    last = np.floor(hi / out_width).astype(int)
    for k in range(int((last - first).max()) + 1):
        j = first + k
        a = np.maximum(lo, j * out_width)
        b = np.minimum(hi, (j + 1) * out_width)
        frac = np.clip(b - a, 0.0, None) / period
        ok = (frac > 0) & (j >= 0) & (j < n_out)
        rows.append(j[ok])
        cols.append(np.flatnonzero(ok))
        vals.append(frac[ok])
    m = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_out, n_fine))
    return m @ fine, m


def weighted_histogram(counts_et: np.ndarray, weights: np.ndarray):
    """Sum over energy with per-bin weights: (histogram, variance = sum w^2 N)."""
    counts_et = np.asarray(counts_et, dtype=float)
    return weights @ counts_et, (weights**2) @ counts_et


def gain_corrected_spectrum(counts_et: np.ndarray, gain_t: np.ndarray, edges=binning.ENERGY_EDGES_GEV) -> np.ndarray:
    """Undo a time-dependent gain g(t) on an [energy x time] histogram.

    A positron of energy E is recorded at g E, so the true count above E is the recorded count
    above g E: the cumulative (from above) spectrum is re-read at g(t) x edges, linearly within
    bins, and differenced back into bins. Exact to first order in the spectrum's curvature.
    """
    counts_et = np.asarray(counts_et, dtype=float)
    above = np.cumsum(counts_et[::-1], axis=0)[::-1]  # recorded count above each lower edge
    above = np.vstack([above, np.zeros((1, counts_et.shape[1]))])  # ... and above the top edge
    out = np.empty_like(counts_et)
    # np.interp(edges * g_j, edges, above[:, j]) for every time bin j at once, with its formula
    # (slope (x - x_k) + y_k, the ends held) so the result is the same to the bit
    x = edges[:, None] * np.asarray(gain_t, dtype=float)[None, :]
    k = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, edges.size - 2)
    y0 = np.take_along_axis(above, k, axis=0)
    y1 = np.take_along_axis(above, k + 1, axis=0)
    slope = (y1 - y0) / (edges[k + 1] - edges[k])
    cum_true = np.where(x <= edges[0], above[:1], np.where(x >= edges[-1], above[-1:], slope * (x - edges[k]) + y0))
    cum_true = np.where(x == edges[k], y0, cum_true)
    out[:] = cum_true[:-1] - cum_true[1:]
    return out
