"""Fitting Eq. 7 to a wiggle (Sec. IV E): chi^2 of Eq. 6, iminuit, staged from five parameters.

Stages: (1) the five-parameter fit, seeded by a linear projection at omega_ref; (2) the discrete
Fourier transform of its residuals locates the CBO, vertical-waist and vertical-centroid lines,
and a projection of the residuals at each frequency seeds that term's amplitude and phase;
(3) the full fit with the group's free parameters. Minuit runs with strategy 0, then HESSE for
the covariance. A fit whose minimum or covariance is not valid raises ``FitError``: it is never
returned as a result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from iminuit import Minuit
from scipy import stats

from . import model as M


class FitError(RuntimeError):
    """A fit that did not converge (one-line message)."""


@dataclass
class FitData:
    """A histogram ready to fit: bin centres t (us), contents y, and either per-bin variances or
    a lower-banded Cholesky factor of the bin covariance (chol[k, i] = L[i, i-k])."""

    t: np.ndarray
    y: np.ndarray
    var: np.ndarray | None = None
    chol: np.ndarray | None = None
    loss_edges: np.ndarray = field(default_factory=lambda: np.array([0.0, 1.0]))
    loss_counts: np.ndarray = field(default_factory=lambda: np.zeros(1))
    model: str = "wiggle"  # or "ratio": y is R(t) on the bins grid_index of grid_t
    ratio_half_period: float = 0.0
    ratio_tau: float = 64.44
    grid_t: np.ndarray | None = None  # ratio: the histogram's full bin grid (the kernel needs it)
    grid_index: np.ndarray | None = None


@dataclass
class FitResult:
    values: dict
    errors: dict
    free: list
    covariance: np.ndarray  # over the free parameters, in the order of ``free``
    chi2: float
    ndf: int
    nfev: int
    envelope: str

    @property
    def pvalue(self) -> float:
        return float(stats.chi2.sf(self.chi2, self.ndf))

    def vector(self) -> np.ndarray:
        return M.parameter_vector(self.values)


def banded_cholesky(cov_band_lower: np.ndarray) -> np.ndarray:
    """Cholesky factor of a banded covariance given in scipy's lower banded storage
    (ab[k, j] = C[j + k, j]), converted to the row storage ``whiten_banded`` uses."""
    from scipy.linalg import cholesky_banded

    ab = cholesky_banded(cov_band_lower, lower=True)
    bw, n = ab.shape
    chol = np.zeros_like(ab)
    for k in range(bw):
        chol[k, k:] = ab[k, : n - k]
    return chol


def model_values(data: FitData, p: np.ndarray, delta_r: float, envelope: int) -> np.ndarray:
    """Fit function at the data's bin centres (the wiggle, or its ratio construction)."""
    if data.model == "ratio":
        from .ratio import ratio_model

        # the same interpolation kernel as the data's shifted copies (kernel mode)
        grid = M.wiggle(data.grid_t, p, delta_r, envelope, data.loss_edges, data.loss_counts)
        dt = data.grid_t[1] - data.grid_t[0]
        r = ratio_model(grid, None, None, data.ratio_half_period, data.ratio_tau, dt=dt)
        return r[data.grid_index]
    return M.wiggle(data.t, p, delta_r, envelope, data.loss_edges, data.loss_counts)


def chi2(data: FitData, p: np.ndarray, delta_r: float, envelope: int) -> float:
    """Eq. 6 with diagonal or banded covariance."""
    if data.model == "wiggle" and data.chol is None:
        return M.chi2_diagonal(data.t, data.y, 1.0 / data.var, p, delta_r, envelope, data.loss_edges,
                               data.loss_counts)
    r = data.y - model_values(data, p, delta_r, envelope)
    if data.chol is not None:
        z = M.whiten_banded(data.chol, r)
        return float(z @ z)
    return float(np.sum(r * r / data.var))


def fit(data: FitData, start: dict, free: list, delta_r: float, envelope: str = "exp",
        penalties: dict | None = None, limits: dict | None = None, strategy: int = 0,
        intermediate: bool = False) -> FitResult:
    """Minimise chi^2 over the ``free`` parameters from ``start``; HESSE for the covariance.

    ``intermediate``: a staging step; no HESSE, and a non-converged minimum is returned as a
    starting point instead of raising (the final fit decides).
    """
    env = M.ENVELOPES[envelope]
    penalties = penalties or {}
    p0 = M.parameter_vector(start)

    def cost(p):
        c = chi2(data, p, delta_r, env)
        for name, (mean, sigma) in penalties.items():
            c += ((p[M.INDEX[name]] - mean) / sigma) ** 2
        return c

    m = Minuit(cost, p0, name=M.PARAMS)
    m.errordef = Minuit.LEAST_SQUARES
    m.strategy = strategy
    m.print_level = 0
    for name in M.PARAMS:
        m.fixed[name] = name not in free
        m.errors[name] = _step(name, p0[M.INDEX[name]])
    for name, lim in (limits or {}).items():
        m.limits[name] = lim
    m.migrad(ncall=20000)
    if not m.valid:
        m.migrad(ncall=20000)  # one restart from where it stopped, as a physicist would
    values = {n: float(m.values[n]) for n in M.PARAMS}
    if intermediate:
        nan = np.full((len(free), len(free)), np.nan)
        approx = {n: (float(m.errors[n]) if n in free else 0.0) for n in M.PARAMS}  # Migrad's estimate
        return FitResult(values, approx, list(free), nan, float(m.fval),
                         data.t.size - len(free), int(m.nfcn), envelope)
    if not m.valid:
        raise FitError(f"fit did not converge (edm {m.fmin.edm:.3g}, free: {', '.join(free)})")
    m.hesse()
    if not (m.accurate and m.fmin.has_posdef_covar):
        # strategy 0 stopped where the numerical Hessian disagrees with Migrad's estimate: polish
        # with strategy 1 from there (as one would by hand), then HESSE again
        m.strategy = 1
        m.migrad(ncall=20000)
        m.hesse()
    if not m.fmin.has_posdef_covar:
        raise FitError(f"covariance not positive definite after HESSE (free: {', '.join(free)})")
    cov = np.array(m.covariance)[np.ix_([M.INDEX[n] for n in free], [M.INDEX[n] for n in free])]
    values = {n: float(m.values[n]) for n in M.PARAMS}
    errors = {n: (float(m.errors[n]) if n in free else 0.0) for n in M.PARAMS}
    ndf = data.t.size - len(free)
    return FitResult(values, errors, list(free), cov, float(m.fval), ndf, int(m.nfcn), envelope)


def _step(name: str, value: float) -> float:
    if name == "N0":
        return max(abs(value) * 1e-3, 1e-6)
    if name == "R":
        return 1.0
    if name.startswith("tau"):
        return max(abs(value) * 0.02, 0.01)
    if name.startswith("omega"):
        return max(abs(value) * 1e-3, 1e-4)
    if name.startswith("phi"):
        return 0.05
    if name == "k_loss":
        return 1e-4
    return 1e-3


def five_parameter_start(t: np.ndarray, y: np.ndarray, delta_r: float, tau: float = 64.4) -> dict:
    """Seeds for the five-parameter fit: a linear least-squares projection at omega_ref."""
    omega = M.omega_from_r(0.0, delta_r)
    decay = np.exp(-t / tau)
    basis = np.stack([decay, decay * np.cos(omega * t), decay * np.sin(omega * t)], axis=1)
    w = 1.0 / np.sqrt(np.maximum(np.abs(y), 1.0))
    (n0, c, s), *_ = np.linalg.lstsq(basis * w[:, None], y * w, rcond=None)
    return {"N0": n0, "tau": tau, "A0": math.hypot(c, s) / n0, "R": 0.0, "phi0": math.atan2(s, c)}


def residual_spectrum(t: np.ndarray, resid: np.ndarray, oversample: int = 8):
    """|DFT| of the residuals (zero-padded): (frequency in MHz, amplitude)."""
    dt = t[1] - t[0]
    n = oversample * resid.size
    amp = np.abs(np.fft.rfft(resid - resid.mean(), n=n))
    return np.fft.rfftfreq(n, d=dt), amp


def peak_frequency(freq: np.ndarray, amp: np.ndarray, band) -> float:
    """Frequency (MHz) of the highest residual-spectrum peak inside ``band``."""
    sel = (freq >= band[0]) & (freq <= band[1])
    if not np.any(sel):
        raise FitError(f"no spectrum bins in band {band} MHz")
    return float(freq[sel][np.argmax(amp[sel])])


def project_term(t: np.ndarray, ratio_resid: np.ndarray, weights: np.ndarray, omega: float, envelope: np.ndarray):
    """Amplitude and phase of a term a env(t) cos(omega t + phi) in relative residuals (least squares)."""
    basis = np.stack([envelope * np.cos(omega * t), -envelope * np.sin(omega * t)], axis=1)
    sw = np.sqrt(weights)
    (c, s), *_ = np.linalg.lstsq(basis * sw[:, None], ratio_resid * sw, rcond=None)
    return math.hypot(c, s), math.atan2(s, c)


def smooth(values: np.ndarray, width: int = 29) -> np.ndarray:
    """Moving average over ``width`` bins (~ one g-2 period at 149.2 ns), edges by shrinking windows."""
    kernel = np.ones(width)
    num = np.convolve(values, kernel, mode="same")
    den = np.convolve(np.ones_like(values), kernel, mode="same")
    return num / den


def pearson_variance(y: np.ndarray, var: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Bin variances from the fit function: f times the (smoothed) variance-to-content ratio.

    Data variances (Neyman) pull a fit towards low fluctuations, which biases the lifetime and
    normalisation where counts are few; the model's expectation does not (Pearson chi^2).
    The ratio var/y carries the weighting (A-method sum w^2 N / sum w N, pileup subtraction).
    """
    global_ratio = np.sum(var) / max(np.sum(np.abs(y)), 1e-300)
    sy = smooth(np.abs(y))
    ratio = np.where(sy > 0, smooth(var) / np.where(sy > 0, sy, 1.0), global_ratio)
    return np.maximum(f, 1e-9 * np.max(f)) * np.maximum(ratio, 1e-3 * global_ratio)


def first_pass_variance(y: np.ndarray, var: np.ndarray) -> np.ndarray:
    """Variances for a first fit, before any model exists: smoothed data variances, floored at
    one entry's worth (so that runs of empty late bins do not get infinite weight)."""
    global_ratio = np.sum(var) / max(np.sum(np.abs(y)), 1e-300)
    return np.maximum(smooth(var), global_ratio)
