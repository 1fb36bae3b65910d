"""The fast-rotation signal and the joint distribution of revolution frequency and injection time
(Run-2/3 report Sec. V A 1, Eq. 15-16).

The calorimeter-aligned positron rate early in the fill is a sum of pulse trains: a muon
injected at tau with revolution frequency f passes the reference azimuth at tau + m / f. Divided
by its own average over one revolution (which removes the decay, the wiggle and every other slow
feature, as binning at T_c does in the paper's fit method) it becomes the fast-rotation ratio,
linear in the joint distribution rho(f, tau):

    R_k = sum_ij B_ij,k rho_ij                                               (Eq. 16)

B_ij,k is the mean number of passages per revolution of a muon uniformly spread over the (f, tau)
cell ij that fall in time bin k, computed exactly (uniform tau plus the nearly uniform m/f of the
cell is a trapezoid). rho is fitted non-negative on the grid: no shape is imposed on the
frequency distribution or on how it changes along the bunch, so the momentum-time correlation
the kicker leaves (Fig. 14) is part of the result. Times in us, frequencies in MHz.

Status (issue 6, in progress): the basis is exact and tested, but a free non-negative grid is
ill-conditioned on the toy's signal: over 10-60 us with 30 x 20 cells it fits the run2 ratio at
chi^2/ndf = 0.99 with a 21 mm rms x_e distribution (the truth is ~9 mm). The paper constrains the
shape (one frequency distribution whose mean, width and skew vary smoothly along the bunch, 62
parameters); that parameterisation is the next step. Nothing downstream uses this module yet.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import lsq_linear

from ..constants import OMEGA_C_MAGIC, R0_MM

F0_MHZ = OMEGA_C_MAGIC / (2.0 * np.pi)  # magic revolution frequency


def rebin(counts, factor: int) -> np.ndarray:
    """Sum groups of ``factor`` adjacent bins (a trailing partial group is dropped)."""
    c = np.asarray(counts, dtype=float)
    n = c.size // factor
    return c[: n * factor].reshape(n, factor).sum(axis=1)


def fast_rotation_ratio(counts, bin_us: float, period_us: float = 1.0 / F0_MHZ):
    """counts / (their average over one revolution centred on each bin) and its Poisson error:
    (ratio, sigma); the first and last half revolution are NaN."""
    c = np.asarray(counts, dtype=float)
    half = 0.5 * period_us / bin_us
    n_full = int(np.floor(half))
    frac = half - n_full  # the two edge bins enter with this weight
    kernel = np.concatenate([[frac], np.ones(2 * n_full + 1), [frac]])
    kernel /= kernel.sum()
    avg = np.convolve(c, kernel, mode="same")
    ratio = np.full_like(c, np.nan)
    sigma = np.full_like(c, np.nan)
    m = kernel.size // 2
    ok = np.zeros(c.size, bool)
    ok[m: c.size - m] = True
    ok &= avg > 0
    ratio[ok] = c[ok] / avg[ok]
    sigma[ok] = np.sqrt(np.maximum(c[ok], 1.0)) / avg[ok]
    return ratio, sigma


def _sum_of_uniforms_cdf(s, w1, w2):
    """CDF of U[0, w1] + U[0, w2] at s (broadcast)."""
    a, b = np.minimum(w1, w2), np.maximum(w1, w2)
    s = np.clip(s, 0.0, a + b)
    low = s**2 / (2 * a * b)
    mid = (s - 0.5 * a) / b
    high = 1.0 - (a + b - s) ** 2 / (2 * a * b)
    return np.where(s <= a, low, np.where(s <= b, mid, high))


def debunching_basis(t_edges, f_edges, tau_edges) -> np.ndarray:
    """B [time bins, f cells x tau cells]: per unit weight of a cell, the passages falling in
    each time bin times the mean revolution period over the bin width (so that a uniform ring of
    muons gives R = 1)."""
    t_edges = np.asarray(t_edges, dtype=float)
    f_edges, tau_edges = np.asarray(f_edges, float), np.asarray(tau_edges, float)
    width = np.diff(t_edges)
    if not np.allclose(width, width[0]):
        raise ValueError("t_edges: the basis needs equal time bins")
    bw = width[0]
    t0 = t_edges[0]
    n_t = t_edges.size - 1
    basis = np.zeros((n_t, (f_edges.size - 1) * (tau_edges.size - 1)))
    col = 0
    for i in range(f_edges.size - 1):
        p_lo, p_hi = 1.0 / f_edges[i + 1], 1.0 / f_edges[i]  # revolution periods of the cell
        period = 0.5 * (p_lo + p_hi)
        for j in range(tau_edges.size - 1):
            tau_lo, w_tau = tau_edges[j], tau_edges[j + 1] - tau_edges[j]
            m = np.arange(max(0, int((t_edges[0] - tau_edges[j + 1]) / p_hi) - 1),
                          int((t_edges[-1] - tau_lo) / p_lo) + 2)
            start = tau_lo + m * p_lo  # earliest passage of turn m
            w_m = np.maximum(m * (p_hi - p_lo), 1e-12)
            # bins each turn can reach
            k_lo = np.floor((start - t0) / bw).astype(int)
            span = int(np.ceil((w_tau + w_m.max()) / bw)) + 2
            k = k_lo[:, None] + np.arange(span)[None, :]
            cdf_hi = _sum_of_uniforms_cdf(t0 + (k + 1) * bw - start[:, None], w_tau, w_m[:, None])
            cdf_lo = _sum_of_uniforms_cdf(t0 + k * bw - start[:, None], w_tau, w_m[:, None])
            p = cdf_hi - cdf_lo
            inside = (k >= 0) & (k < n_t)
            np.add.at(basis[:, col], k[inside], p[inside])
            basis[:, col] *= period / bw
            col += 1
    return basis


def fit_joint_distribution(ratio, sigma, basis, n_f: int, n_tau: int) -> dict:
    """Non-negative weighted least squares of the ratio on the basis: rho [n_f, n_tau]
    (normalised), chi^2, ndf, and the covariance of the cells the fit leaves free. Unconstrained:
    see the module's status note before trusting rho."""
    ok = np.isfinite(ratio) & np.isfinite(sigma) & (sigma > 0)
    a = basis[ok] / sigma[ok, None]
    y = ratio[ok] / sigma[ok]
    res = lsq_linear(a, y, bounds=(0.0, np.inf), method="bvls", tol=1e-12)
    rho = res.x
    chi2 = float(np.sum((a @ rho - y) ** 2))
    free = rho > 0
    cov = np.zeros((rho.size, rho.size))
    if free.any():
        af = a[:, free]
        cov[np.ix_(free, free)] = np.linalg.pinv(af.T @ af)
    norm = rho.sum()
    return {"rho": (rho / norm).reshape(n_f, n_tau), "norm": norm, "chi2": chi2,
            "ndf": int(ok.sum() - free.sum()), "cov": cov / norm**2, "free": free.reshape(n_f, n_tau)}


def radial_offset(f_mhz, omega_c0: float = OMEGA_C_MAGIC) -> np.ndarray:
    """Equilibrium radius offset x_e (mm) of a revolution frequency (Eq. 14, beta constant)."""
    return R0_MM * (omega_c0 / (2.0 * np.pi * np.asarray(f_mhz, dtype=float)) - 1.0)
