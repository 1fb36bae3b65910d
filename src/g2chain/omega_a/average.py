"""Combining the analyses of one dataset into omega_a^m (Run-2/3 report Sec. IV K, Appendix A).

Pure functions on arrays: the equal-weight average with statistical and each systematic category
treated as fully correlated across analyses (the paper's conservative choice), the best linear
unbiased estimate (BLUE) with a given covariance, and the pairwise pulls (y_i - y_j) / sigma_ij
that test the analyses against each other. Values are R in ppm with the software blinds removed
(relative unblinding); the hardware blind stays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Average:
    value: float
    stat: float
    syst: dict  # category -> uncertainty
    weights: np.ndarray

    @property
    def syst_total(self) -> float:
        return float(np.sqrt(sum(v**2 for v in self.syst.values())))

    @property
    def total(self) -> float:
        return float(np.hypot(self.stat, self.syst_total))


def _vector(name: str, values, n: int | None = None) -> np.ndarray:
    x = np.asarray(values, dtype=float).ravel()
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name}: NaN or infinite entries")
    if n is not None and x.size != n:
        raise ValueError(f"{name}: expected {n} entries, got {x.size}")
    return x


def equal_weight_average(values, stat, syst: dict | None = None) -> Average:
    """Mean of the analyses with every uncertainty fully correlated between them.

    With weights 1/n and correlation 1, an uncertainty of the mean is the mean of the
    uncertainties: sigma = sum_i sigma_i / n for the statistical part and for each systematic
    category (a category's contributions were already added linearly inside each analysis).
    """
    y = _vector("values", values)
    if y.size == 0:
        raise ValueError("values: no analyses to average")
    w = np.full(y.size, 1.0 / y.size)
    stat = _vector("stat", stat, y.size)
    syst = {k: float(w @ _vector(f"syst[{k}]", v, y.size)) for k, v in (syst or {}).items()}
    return Average(float(w @ y), float(w @ stat), syst, w)


def blue_average(values, covariance) -> tuple[float, float, np.ndarray]:
    """Best linear unbiased estimate: weights C^-1 1 / (1^T C^-1 1), variance 1 / (1^T C^-1 1).

    Returns (value, sigma, weights). Weights may be negative when analyses are strongly
    correlated and of unequal precision (a known property of BLUE, not an error).
    """
    y = _vector("values", values)
    cov = np.asarray(covariance, dtype=float)
    if cov.shape != (y.size, y.size):
        raise ValueError(f"covariance: expected shape {(y.size, y.size)}, got {cov.shape}")
    if not np.allclose(cov, cov.T, rtol=1e-10, atol=0.0):
        raise ValueError("covariance: not symmetric")
    ones = np.ones(y.size)
    try:
        c_inv_1 = np.linalg.solve(cov, ones)
    except np.linalg.LinAlgError:
        raise ValueError("covariance: singular") from None
    norm = float(ones @ c_inv_1)
    if not norm > 0:
        raise ValueError("covariance: not positive definite")
    w = c_inv_1 / norm
    return float(w @ y), float(np.sqrt(1.0 / norm)), w


def pairwise_pulls(values, covariance) -> np.ndarray:
    """(y_i - y_j) / sqrt(C_ii + C_jj - 2 C_ij) for all pairs i < j (n(n-1)/2 of them: 171 for 19
    analyses). Strongly correlated analyses differ by little, and sigma_ij is small accordingly."""
    y = _vector("values", values)
    cov = np.asarray(covariance, dtype=float)
    if cov.shape != (y.size, y.size):
        raise ValueError(f"covariance: expected shape {(y.size, y.size)}, got {cov.shape}")
    i, j = np.triu_indices(y.size, k=1)
    var = cov[i, i] + cov[j, j] - 2.0 * cov[i, j]
    if np.any(var <= 0):
        k = int(np.flatnonzero(var <= 0)[0])
        raise ValueError(f"covariance: analyses {i[k]} and {j[k]} have a non-positive difference variance")
    return (y[i] - y[j]) / np.sqrt(var)


def covariance_from(stat, correlation, syst: dict | None = None, syst_correlation: float = 1.0) -> np.ndarray:
    """Analysis-to-analysis covariance: statistical errors with their correlation matrix, plus each
    systematic category with correlation ``syst_correlation`` between analyses (1: fully)."""
    s = _vector("stat", stat)
    rho = np.asarray(correlation, dtype=float)
    if rho.shape != (s.size, s.size):
        raise ValueError(f"correlation: expected shape {(s.size, s.size)}, got {rho.shape}")
    cov = rho * np.outer(s, s)
    for k, v in (syst or {}).items():
        e = _vector(f"syst[{k}]", v, s.size)
        c = np.full((s.size, s.size), syst_correlation)
        np.fill_diagonal(c, 1.0)
        cov = cov + c * np.outer(e, e)
    return cov


def pull_std_reference(covariances, n_draws: int = 2000, seed: int = 0) -> np.ndarray:
    """Standard deviations of all pairwise pulls in ``n_draws`` pseudo-experiments whose analyses
    scatter exactly as ``covariances`` say (one matrix per dataset, datasets independent, all
    their pairs pooled). The reference for an observed pull spread: pairs that share an analysis
    are correlated, so even a perfect experiment gives a spread below 1, with a wide range."""
    rng = np.random.default_rng(seed)
    chols = []
    for cov in covariances:
        cov = np.asarray(cov, dtype=float)
        jitter = 1e-12 * np.trace(cov) / len(cov)
        chols.append((np.linalg.cholesky(cov + jitter * np.eye(len(cov))), cov))
    out = np.empty(n_draws)
    for k in range(n_draws):
        pulls = [pairwise_pulls(chol @ rng.standard_normal(len(cov)), cov) for chol, cov in chols]
        out[k] = np.concatenate(pulls).std(ddof=1)
    return out


def reference_summary(stds) -> dict:
    """Median and central 68 % / 95 % intervals of a pull-spread reference distribution."""
    q = np.percentile(stds, [50, 16, 84, 2.5, 97.5])
    return {"median": float(q[0]), "interval_68": [float(q[1]), float(q[2])], "interval_95": [float(q[3]), float(q[4])]}
