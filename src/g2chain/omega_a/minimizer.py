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
import warnings
from dataclasses import dataclass, field

import numpy as np
from iminuit import Minuit
from iminuit.util import IMinuitWarning
from scipy.special import chdtrc  # chi^2 survival function chdtrc(ndf, chi2)

from . import wiggle_model

# Levenberg-Marquardt's goal, the expected chi^2 distance to the minimum (EDM): a result sits
# within ~sqrt(EDM) sigma of its minimum. A staging step only hands a start to the next one, and
# its decisions (which terms the data resolve, at 3 sigma) do not move with 1e-2 sigma.
FINAL_EDM = 1e-8
STAGING_EDM = 1e-4
STAGING_STALL = 1e-4  # chi^2 decrease per step below which a staging step has stopped moving


class FitError(RuntimeError):
    """A fit that did not converge (one-line message); ``parameter`` names the free parameter
    responsible where one is (e.g. one that ended on its limit) and ``value`` where it ended."""

    def __init__(self, message: str, parameter: str | None = None, value: float | None = None):
        super().__init__(message)
        self.parameter, self.value = parameter, value


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
        return float(chdtrc(self.ndf, self.chi2))

    def vector(self) -> np.ndarray:
        return wiggle_model.parameter_vector(self.values)


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
        grid = wiggle_model.wiggle(data.grid_t, p, delta_r, envelope, data.loss_edges, data.loss_counts)
        dt = data.grid_t[1] - data.grid_t[0]
        r = ratio_model(grid, None, None, data.ratio_half_period, data.ratio_tau, dt=dt)
        return r[data.grid_index]
    return wiggle_model.wiggle(data.t, p, delta_r, envelope, data.loss_edges, data.loss_counts)


def chi2(data: FitData, p: np.ndarray, delta_r: float, envelope: int) -> float:
    """Eq. 6 with diagonal or banded covariance."""
    if data.model == "wiggle" and data.chol is None:
        return wiggle_model.chi2_diagonal(data.t, data.y, 1.0 / data.var, p, delta_r, envelope, data.loss_edges,
                               data.loss_counts)
    r = data.y - model_values(data, p, delta_r, envelope)
    if data.chol is not None:
        z = wiggle_model.whiten_banded(data.chol, r)
        return float(z @ z)
    return float(np.sum(r * r / data.var))


def model_jacobian(data: FitData, p: np.ndarray, delta_r: float, envelope: int):
    """Fit function and its analytic derivatives with respect to every parameter of PARAMS at the
    data's bins: (f (n,), J (n, N_PARAMS)); for a ratio fit through the kernel construction."""
    if data.model == "ratio":
        from .ratio import ratio_model_jacobian

        f, jac = wiggle_model.wiggle_jacobian(data.grid_t, p, delta_r, envelope, data.loss_edges, data.loss_counts)
        dt = data.grid_t[1] - data.grid_t[0]
        r, d = ratio_model_jacobian(f, jac, data.ratio_half_period, data.ratio_tau, dt)
        return r[data.grid_index], d[data.grid_index]
    return wiggle_model.wiggle_jacobian(data.t, p, delta_r, envelope, data.loss_edges, data.loss_counts)


class WhitenedResiduals:
    """Eq. 6 as a sum of squares, chi^2 = |z|^2: z are the whitened residuals (y - f)/sigma, or
    L^-1 (y - f) with the banded Cholesky factor L of the bin covariance, plus one row
    (mean - p)/sigma per Gaussian penalty. ``__call__`` returns z and the whitened Jacobian
    Jw = -dz/dp over all PARAMS (so chi^2(p + d) ~ |z - Jw d|^2)."""

    def __init__(self, data: FitData, delta_r: float, envelope: int, penalties: dict | None = None):
        self.data, self.delta_r, self.envelope = data, delta_r, envelope
        self.penalties = [(wiggle_model.INDEX[name], mean, sigma) for name, (mean, sigma) in (penalties or {}).items()]
        self.inv_sigma = None if data.chol is not None else 1.0 / np.sqrt(data.var)

    def residuals(self, p: np.ndarray) -> np.ndarray:
        """z alone (the model without derivatives: half the cost)."""
        r = self.data.y - model_values(self.data, p, self.delta_r, self.envelope)
        z = wiggle_model.whiten_banded(self.data.chol, r) if self.inv_sigma is None else r * self.inv_sigma
        if self.penalties:
            z = np.concatenate([z, [(mean - p[i]) / sigma for i, mean, sigma in self.penalties]])
        return z

    def __call__(self, p: np.ndarray):
        f, jac = model_jacobian(self.data, p, self.delta_r, self.envelope)
        r = self.data.y - f
        if self.inv_sigma is None:
            chol = self.data.chol
            z, jw = wiggle_model.whiten_banded(chol, r), wiggle_model.whiten_banded_columns(chol, jac)
        else:
            z, jw = r * self.inv_sigma, jac * self.inv_sigma[:, None]
        if self.penalties:
            zp = np.array([(mean - p[i]) / sigma for i, mean, sigma in self.penalties])
            jp = np.zeros((len(self.penalties), wiggle_model.N_PARAMS))
            for row, (i, _, sigma) in enumerate(self.penalties):
                jp[row, i] = 1.0 / sigma
            z, jw = np.concatenate([z, zp]), np.vstack([jw, jp])
        return z, jw


def gauss_newton_covariance(jw: np.ndarray, ridge: float = 0.0) -> np.ndarray:
    """(J^T V^-1 J)^-1 from the whitened Jacobian over the free parameters: the covariance of a
    least-squares fit (errordef 1), what HESSE gives up to the residual-curvature term. Computed
    on the column-scaled matrix; raises FitError if it is not positive definite.

    ``ridge`` > 0 (staging only) adds ridge x identity to the scaled matrix, so that a degenerate
    direction (say the phase of a term whose amplitude is zero) gets a huge variance instead of
    making every error undefined."""
    a = jw.T @ jw
    d = np.sqrt(np.diag(a))
    if ridge > 0:
        d = np.where(d > 0, d, 1.0)
    elif not np.all(d > 0):
        raise FitError("a free parameter does not change the fit function (zero column of the Jacobian)")
    scaled = a / np.outer(d, d) + ridge * np.eye(d.size)
    try:
        chol = np.linalg.cholesky(scaled)
    except np.linalg.LinAlgError:
        raise FitError("Gauss-Newton matrix not positive definite (degenerate free parameters)") from None
    inv_chol = np.linalg.inv(chol)
    return (inv_chol.T @ inv_chol) / np.outer(d, d)


def levenberg_marquardt(ls: WhitenedResiduals, p0: np.ndarray, cols: np.ndarray, lower: np.ndarray,
                        upper: np.ndarray, edm_goal: float = 1e-8, max_iter: int = 200, stall: float = 0.0):
    """Minimise |z|^2 over the parameters ``cols`` from p0 with the analytic Jacobian.

    Levenberg-Marquardt on the column-scaled normal equations, with Nielsen's damping update
    (the damping follows the ratio of actual to predicted chi^2 decrease). A step component that
    would cross a limit is cut to go half way to it (so a jump cannot strand a term in a dead
    corner, e.g. a lifetime of 1 us, where its derivatives vanish), and a parameter that
    reaches a limit while chi^2 pushes outwards is held there (active set). Converged when the
    expected distance to the minimum, edm = z^T J (J^T J)^-1 J^T z (Minuit's EDM for errordef 1),
    is below ``edm_goal``: the parameters then sit within ~sqrt(edm) sigma of the minimum.
    With ``stall`` > 0 (staging) it also stops, unconverged, once three steps in a row have each
    lowered chi^2 by less than ``stall``: a degenerate direction (the phase of a term the data do
    not resolve) can keep the EDM up for hundreds of steps that change nothing.
    Returns (p, chi2, edm, z, jw, converged).
    """
    p = p0.copy()
    z, jw = ls(p)
    chi = float(z @ z)
    lam, nu = 1e-3, 2.0
    edm = math.inf
    small_steps = 0
    for _ in range(max_iter):
        jc = jw[:, cols]  # the free columns, copied once per iteration
        g_all = jc.T @ z  # descent direction of chi^2 (up to a factor -2)
        a_all = jc.T @ jc
        # active set: a parameter on a limit whose descent direction points outwards stays there
        low, high = _on_limits(p[cols], lower, upper)
        at_limit = (low & (g_all < 0)) | (high & (g_all > 0))
        keep = ~at_limit
        move = cols[keep]
        a, g = (a_all, g_all) if keep.all() else (a_all[np.ix_(keep, keep)], g_all[keep])
        d = np.sqrt(np.diag(a))
        d[d == 0] = 1.0
        a_s, g_s = a / np.outer(d, d), g / d
        try:
            edm = float(g_s @ np.linalg.solve(a_s, g_s))
        except np.linalg.LinAlgError:
            edm = math.inf
        if edm < edm_goal:
            return p, chi, edm, z, jw, True
        lo, hi = lower[~at_limit], upper[~at_limit]
        while True:
            try:
                step_s = np.linalg.solve(a_s + lam * np.eye(move.size), g_s)
            except np.linalg.LinAlgError:
                step_s = None
            if step_s is not None:
                q = p.copy()
                q[move] = p[move] + _inside(p[move], step_s / d, lo, hi)
                z_new = ls.residuals(q)
                chi_new = float(z_new @ z_new)
                # decrease the linearised model promises for the step taken
                taken = (q[move] - p[move]) * d
                predicted = float(taken @ (2.0 * g_s - a_s @ taken))
                if np.isfinite(chi_new) and chi_new <= chi and predicted > 0:
                    break
            lam *= nu
            nu *= 2.0
            if lam > 1e12:
                return p, chi, edm, z, jw, False
        rho = (chi - chi_new) / predicted
        lam *= max(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3)
        nu = 2.0
        p = q
        z, jw = ls(p)
        small_steps = small_steps + 1 if chi - chi_new < stall else 0
        chi = float(z @ z)
        if small_steps >= 3:
            return p, chi, edm, z, jw, False
    return p, chi, edm, z, jw, False


def _on_limits(x: np.ndarray, lower: np.ndarray, upper: np.ndarray):
    """Which parameters sit on their lower / upper limit (to 1e-9 of the limit's scale)."""
    with np.errstate(invalid="ignore"):
        return (np.isfinite(lower) & (x - lower <= 1e-9 * np.maximum(1.0, np.abs(lower))),
                np.isfinite(upper) & (upper - x <= 1e-9 * np.maximum(1.0, np.abs(upper))))


def _inside(x: np.ndarray, step: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """The step with each component that would cross more than half its distance to a limit cut
    to that half (a parameter within 1e-9 of a limit goes onto it); the others are untouched."""
    room = np.where(step > 0, upper - x, x - lower)
    out = np.sign(step) * np.minimum(np.abs(step), 0.5 * room)
    low, high = _on_limits(x + out, lower, upper)
    return np.where(low, lower - x, np.where(high, upper - x, out))


def fit(data: FitData, start: dict, free: list, delta_r: float, envelope: str = "exp",
        penalties: dict | None = None, limits: dict | None = None, strategy: int = 0,
        intermediate: bool = False) -> FitResult:
    """Minimise chi^2 over the ``free`` parameters from ``start``.

    Levenberg-Marquardt with the analytic Jacobian of Eq. 7 brings the fit to its minimum; Minuit
    Migrad (``strategy``, analytic gradient -2 J^T V^-1 r and Gauss-Newton Hessian 2 J^T V^-1 J)
    then certifies it (valid minimum, EDM below its tolerance) and takes over where
    Levenberg-Marquardt stopped short, and HESSE, with that Hessian, gives the covariance
    (J^T V^-1 J)^-1: what curve_fit and lmfit report too, without a numerical Hessian.

    ``intermediate``: a staging step: Levenberg-Marquardt alone, its end point returned as a
    starting point even if not converged (the final fit decides); errors are the Gauss-Newton
    ones where defined, else NaN.
    """
    env = wiggle_model.ENVELOPES[envelope]
    limits = limits or {}
    unknown = [n for n in free if n not in wiggle_model.INDEX]
    if unknown:
        raise FitError(f"unknown free parameter(s): {', '.join(unknown)}")
    ls = WhitenedResiduals(data, delta_r, env, penalties)
    cols = np.array([wiggle_model.INDEX[n] for n in free], dtype=np.int64)
    lower = np.array([limits.get(n, (-np.inf, np.inf))[0] for n in free])
    upper = np.array([limits.get(n, (-np.inf, np.inf))[1] for n in free])
    p0 = wiggle_model.parameter_vector(start)
    p0[cols] = np.clip(p0[cols], lower, upper)
    p, chi, edm, z, jw, converged = levenberg_marquardt(ls, p0, cols, lower, upper,
                                                        edm_goal=STAGING_EDM if intermediate else FINAL_EDM,
                                                        stall=STAGING_STALL if intermediate else 0.0)
    ndf = data.t.size - len(free)
    if intermediate:
        # a starting point for the next stage, converged or not (the final fit decides); its
        # errors only judge which terms the data resolve, so a degenerate direction must not
        # hide the others (ridge)
        try:
            cov = gauss_newton_covariance(jw[:, cols], ridge=1e-12)
        except FitError:
            cov = np.full((len(free), len(free)), np.nan)
        return _result(p, cov, free, chi, ndf, 0, envelope)
    if converged:
        low, high = _on_limits(p[cols], lower, upper)
        at_limit = [k for k in range(len(free)) if low[k] or high[k]]
        if at_limit:
            k = at_limit[0]
            name, value = free[k], float(lower[k] if low[k] else upper[k])
            raise FitError(f"{name} ended on its limit ({value:.6g})", parameter=name, value=value)
        # Migrad certifies the minimum with the Gauss-Newton Hessian. No limits are handed to it:
        # the minimum lies inside them, and iminuit (2.33) does not transform a user Hessian for
        # limits (see _migrad)
        m = _migrad(ls, p, free, {}, strategy, with_hessian=True)
    else:
        # Migrad takes over with the gradient alone (the Gauss-Newton matrix may be singular here)
        m = _migrad(ls, p, free, limits, strategy, with_hessian=False)
    if not m.valid:
        raise FitError(f"fit did not converge (edm {m.fmin.edm:.3g}, free: {', '.join(free)})")
    p = p.copy()
    p[cols] = np.array(m.values)
    outside = [n for k, n in enumerate(free) if not lower[k] <= p[cols[k]] <= upper[k]]
    if outside:
        name = outside[0]
        raise FitError(f"{name} left its limits ({p[wiggle_model.INDEX[name]]:.6g})", parameter=name,
                       value=float(np.clip(p[wiggle_model.INDEX[name]], *limits[name])))
    if converged:
        m.hesse()  # with the user Hessian: (J^T V^-1 J)^-1
        if not m.fmin.has_posdef_covar:
            raise FitError(f"covariance not positive definite after HESSE (free: {', '.join(free)})")
        cov = np.array(m.covariance)
    else:
        cov = gauss_newton_covariance(ls(p)[1][:, cols])
    return _result(p, cov, free, float(m.fval), ndf, int(m.nfcn), envelope)


def _result(p, cov, free, chi, ndf, nfev, envelope) -> FitResult:
    values = {n: float(p[wiggle_model.INDEX[n]]) for n in wiggle_model.PARAMS}
    errors = dict.fromkeys(wiggle_model.PARAMS, 0.0)
    errors.update({n: float(math.sqrt(cov[k, k])) if cov[k, k] >= 0 else math.nan for k, n in enumerate(free)})
    return FitResult(values, errors, list(free), cov, chi, ndf, nfev, envelope)


def _migrad(ls: WhitenedResiduals, p: np.ndarray, free: list, limits: dict, strategy: int,
            with_hessian: bool = True) -> Minuit:
    """Minuit on |z|^2 over the free parameters only, from p, with the analytic gradient and
    (``with_hessian``) the Gauss-Newton Hessian (one Jacobian evaluation serves both at a point);
    Migrad with ``strategy``, restarted once with strategy 1 if not valid.

    Minuit sees only the free parameters because iminuit 2.33 hands a user Hessian to Minuit2
    without reducing it to the free parameters (it takes the leading block) or transforming it
    for limits; over the free parameters, without limits, internal and external coincide.
    """
    cols = np.array([wiggle_model.INDEX[n] for n in free], dtype=np.int64)
    base = p.copy()
    last = {}

    def full(q):
        x = base.copy()
        x[cols] = q
        return x

    def at(q):
        key = np.asarray(q).tobytes()
        if key not in last:
            last.clear()
            last[key] = ls(full(q))
        return last[key]

    def cost(q):
        z = ls.residuals(full(q))
        return float(z @ z)

    def grad(q):
        z, jw = at(q)
        return -2.0 * (jw[:, cols].T @ z)

    def hessian(q):
        _, jw = at(q)
        j = jw[:, cols]
        return 2.0 * (j.T @ j)

    def g2(q):
        _, jw = at(q)
        return 2.0 * np.einsum("ij,ij->j", jw[:, cols], jw[:, cols])

    with warnings.catch_warnings():
        # iminuit warns that g2 is redundant next to the Hessian; Minuit2 still asks for it in places
        warnings.simplefilter("ignore", IMinuitWarning)
        if with_hessian:
            m = Minuit(cost, p[cols], grad=grad, g2=g2, hessian=hessian, name=list(free))
        else:
            m = Minuit(cost, p[cols], grad=grad, name=list(free))
    m.errordef = Minuit.LEAST_SQUARES
    m.strategy = strategy
    m.print_level = 0
    for name in free:
        m.errors[name] = _step(name, p[wiggle_model.INDEX[name]])
        if name in limits:
            m.limits[name] = limits[name]
    m.migrad(ncall=20000)
    if not m.valid:
        m.strategy = max(strategy, 1)
        m.migrad(ncall=20000)
    return m


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


def smooth(values: np.ndarray, width: int = 29) -> np.ndarray:
    """Moving average over ``width`` bins (default 29: ~ one g-2 period at 149.2 ns), edges by
    shrinking windows."""
    kernel = np.ones(width)
    num = np.convolve(values, kernel, mode="same")
    den = np.convolve(np.ones_like(values), kernel, mode="same")
    return num / den


RATIO_SMOOTHING_BINS = 301  # ~45 us at 149.2 ns: the variance-to-content ratio changes slowly


def pearson_variance(y: np.ndarray, var: np.ndarray, f: np.ndarray, width: int = RATIO_SMOOTHING_BINS) -> np.ndarray:
    """Bin variances from the fit function: f times the (smoothed) variance-to-content ratio.

    Data variances (Neyman) pull a fit towards low fluctuations, which biases the lifetime and
    normalisation where counts are few; the model's expectation does not (Pearson chi^2; with
    var = f, iterating it is the Poisson maximum likelihood). The ratio var/y carries the
    weighting (A-method sum w^2 N / sum w N, pileup subtraction, gain-corrected fractional
    counts). It is smoothed over ``width`` bins: where a late window holds only a few entries, a
    narrow average still follows the bin's own content (a fractional entry with var = y^2 < y
    lowers it), and that data-dependent weight biased T-method fits of the ci config by ~1 us in
    tau and ~4 sigma in R before the window was widened from 29 bins.
    """
    global_ratio = np.sum(var) / max(np.sum(np.abs(y)), 1e-300)
    sy = smooth(np.abs(y), width)
    ratio = np.where(sy > 0, smooth(var, width) / np.where(sy > 0, sy, 1.0), global_ratio)
    return np.maximum(f, 1e-9 * np.max(f)) * np.maximum(ratio, 1e-3 * global_ratio)


def first_pass_variance(y: np.ndarray, var: np.ndarray) -> np.ndarray:
    """Variances for a first fit, before any model exists: smoothed data variances, floored at
    one entry's worth (so that runs of empty late bins do not get infinite weight)."""
    global_ratio = np.sum(var) / max(np.sum(np.abs(y)), 1e-300)
    return np.maximum(smooth(var), global_ratio)
