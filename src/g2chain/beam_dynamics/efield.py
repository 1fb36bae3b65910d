"""E-field correction C_e from the fast-rotation signal (Run-2/3 report Sec. V A, Eq. 13-16).

Two methods, both on the fast-rotation ratio of ``fast_rotation``:

* Fourier (``fast_rotation.fourier_distribution``): the cosine transform of the ratio. It
  assumes the joint distribution of revolution frequency and injection time separable, so the
  kicker's momentum-time correlation biases it; its correlation systematic is evaluated by
  applying it to the chi^2 method's fitted signal with and without the fitted correlation (the
  difference is subtracted and half of it kept as an uncertainty).
* chi^2 (``fit_joint_distribution``): the ratio is fitted with the exact debunching basis
  (Eq. 16) for a joint distribution of x_e (through the frequency) and injection time tau

      rho(x, tau) = w(x) q(tau) exp(kappa x (tau - <tau>))

  w(x) free on x_e cells (non-negative), the injection-time profile q(tau) tied to the profile
  the first turns show (before the momentum spread smears it), with the bunch tails that the
  fold wrapped around the period removed (``unwrap_profile``), kappa one number: the log-linear
  momentum-time correlation. For a momentum distribution whose mean moves linearly along the
  bunch and is then cut by the aperture at fixed x_e, this form is exact; it has n_x + n_tau + 1
  parameters (30 + 24 + 1 by default). The covariance is that of (w, kappa) with q following
  through its tie to the profile. Every chi^2 is evaluated on the normal equations of the cell
  weights (``joint_normal_equations``: the basis is folded once into its Gram matrix).

The first-turn profile needs two corrections before q is tied to it: the fold wraps the bunch
tails around the period (``unwrap_profile``), and the momentum-time correlation already
stretches the bunch during those turns (its steep edges come out 3-10 % high): the profile is
corrected until the model's own first-turn fold matches the measured one. On a noise-free
signal from the exact injection law the whole analysis still puts cov(delta, tau) ~11 % high
(coarse cells, one-number tilt, jitter on the coarse grid): ``model_signal`` and
``ModelClosure`` measure that bias on the fit's own distribution, and C_dd corrects for it.

C_e = 2 n (1 - n) beta^2 <x_e^2> / R0^2 (Eq. 13). The fast-rotation times are on the blinded
clock: both methods quote C_e at eps_hw = 0 together with dC_e/deps, which ``unblind`` applies.

The third method, the trackers' spectrometric relation (Eq. 17-19), is in ``spectrometric``;
``with_tracker_method`` combines it with the fast-rotation result (chi^2 and Fourier together),
weighted by their total uncertainties. It measures positions, so its C_e has no clock dependence.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numba import njit
from scipy.optimize import minimize_scalar, nnls

from ..constants import APERTURE_MM
from ..units import quadrature
from . import fast_rotation
from .corrections import EfieldCorrection


def early_profile(ratio, t_us, t_ref_us: float, period_us: float, n_tau: int, fold_us=(0.1, 1.0)):
    """The injection-time profile: the ratio over the first turns folded at the beam's mean
    revolution period, on ``n_tau`` cells of one period centred on t_ref. Returns (tau_edges,
    profile normalised to 1)."""
    r = np.asarray(ratio, dtype=float)
    t = np.asarray(t_us, dtype=float)
    sel = (t > fold_us[0]) & (t < fold_us[1]) & np.isfinite(r)
    if sel.sum() < 4 * n_tau:
        raise ValueError(f"fast rotation: too few bins in the profile window {fold_us} us")
    k = (((t[sel] - t_ref_us) / period_us + 0.5) % 1.0 * n_tau).astype(int)
    counts = np.bincount(k, minlength=n_tau)
    p = np.clip(np.bincount(k, weights=r[sel], minlength=n_tau) / np.maximum(counts, 1), 0.0, None)
    tau_edges = (np.linspace(0.0, 1.0, n_tau + 1) - 0.5) * period_us + t_ref_us
    return tau_edges, p / p.sum()


def unwrap_profile(tau_edges, profile, period_us: float) -> dict:
    """Remove from the folded first-turn profile the bunch tails that wrapped around the period.

    The 120 ns bunch with its smeared edges is longer than the fold's one period minus the
    edges, so the fold adds the trailing tail onto the leading end and the other way round. The
    joint distribution ties x_e to tau through the kicker's correlation, so a wrapped tail sits
    with the wrong momenta: it has to go. The folded profile is fitted with a flat bunch with
    Gaussian edges plus its two aliases one period away (each cell integrated), and each cell
    keeps the fraction the unaliased bunch has of the model there. Returns the unwrapped
    profile (normalised) and the fitted bunch (start, end, edge width in ns)."""
    from scipy.optimize import least_squares
    from scipy.special import ndtr

    edges = np.asarray(tau_edges, dtype=float)
    p = np.asarray(profile, dtype=float) / np.sum(profile)
    centre = 0.5 * (edges[0] + edges[-1])
    e_ns = (edges - centre) * 1e3
    per = period_us * 1e3

    def cell_mass(a, b, sig, shift):  # integral over each cell of a flat bunch [a, b] smeared by sig
        def prim(z):  # antiderivative of Phi((z - a)/sig) - Phi((z - b)/sig)
            za, zb = (z - a) / sig, (z - b) / sig
            g = np.exp(-0.5 * za**2) / np.sqrt(2 * np.pi), np.exp(-0.5 * zb**2) / np.sqrt(2 * np.pi)
            return sig * (za * ndtr(za) + g[0]) - sig * (zb * ndtr(zb) + g[1])
        z = e_ns + shift
        return np.diff(prim(z))

    def model(par):
        amp, a, b, sig = par
        return amp * sum(cell_mass(a, b, sig, k * per) for k in (-1, 0, 1))

    half = 0.5 * per
    fit = least_squares(lambda par: model(par) - p, x0=[1.0 / per, -0.4 * per, 0.4 * per, 0.07 * per],
                        bounds=([0.0, -per, -half, 0.2], [np.inf, half, per, half]))
    amp, a, b, sig = fit.x
    main = amp * cell_mass(a, b, sig, 0.0)
    frac = np.clip(main / np.maximum(model(fit.x), 1e-300), 0.0, 1.0)
    out = p * frac
    return {"profile": out / out.sum(), "bunch_ns": [float(a), float(b), float(sig)],
            "wrapped_fraction": float(1.0 - out.sum())}


def nonnegative_least_squares(design, y) -> tuple[np.ndarray, float]:
    """min |D w - y|^2 over w >= 0; returns (w, chi^2), solved on the normal equations
    (``nonnegative_normal_equations``): the same minimum as scipy's nnls on the full tall matrix,
    ~10x faster for the few-tens of x_e cells here."""
    design, y = np.asarray(design, dtype=float), np.asarray(y, dtype=float)
    return nonnegative_normal_equations(design.T @ design, design.T @ y, float(y @ y))


def nonnegative_normal_equations(dtd, dty, yy: float) -> tuple[np.ndarray, float]:
    """min |D w - y|^2 over w >= 0 from the normal equations alone (D^T D, D^T y, y^T y): with
    D^T D = L L^T, |D w - y|^2 = |L^T w - L^-1 D^T y|^2 + const, so scipy's nnls on the small
    square factor gives the tall problem's minimum. L from Cholesky, or from the eigenvectors
    (directions without curvature dropped) if D^T D is not positive definite. Returns (w, chi^2)."""
    try:
        chol = np.linalg.cholesky(dtd)
        w, _ = nnls(chol.T, np.linalg.solve(chol, dty))
    except np.linalg.LinAlgError:
        lam, vec = np.linalg.eigh(dtd)
        keep = lam > lam.max() * 1e-14
        root = np.sqrt(lam[keep])
        w, _ = nnls(root[:, None] * vec[:, keep].T, (vec[:, keep].T @ dty) / root)
    return w, float(yy - 2.0 * w @ dty + w @ dtd @ w)


def _tilt(x, tau_ns, kappa):
    return np.exp(kappa * np.outer(x, tau_ns))


def time_jitter(h_ns, edge_ns: float, to_ns=None) -> np.ndarray:
    """[tau' x tau]: where a muon of bunch time tau' (``h_ns``) is injected, on the times
    ``to_ns`` (default: the same grid), a Gaussian jitter of ``edge_ns`` (rows sum to 1; on the
    same grid the identity for no jitter). The flat bunch's smeared edges (``unwrap_profile``)
    are this jitter: the kicker's momentum-time correlation follows the bunch time tau', not the
    jitter on top of it."""
    h = np.asarray(h_ns, dtype=float)
    if to_ns is None and edge_ns <= 0.0:
        return np.eye(h.size)
    to = h if to_ns is None else np.asarray(to_ns, dtype=float)
    k = np.exp(-0.5 * ((h[:, None] - to[None, :]) / edge_ns) ** 2)
    return k / k.sum(axis=1, keepdims=True)


def tie_profile(m_w, profile, jitter, q=None, tol: float = 1e-9, max_iter: int = 500) -> np.ndarray:
    """The bunch-time profile q whose jittered marginal ((m_w q) @ jitter, m_w = w @ tilt the
    x-summed tilt) equals the measured ``profile``: closed form without jitter, otherwise the
    multiplicative (Richardson-Lucy) deconvolution from ``q`` (or the profile). ``jitter`` None:
    no jitter."""
    p = np.asarray(profile, dtype=float)
    m = np.maximum(np.asarray(m_w, dtype=float), 1e-300)
    if jitter is None:
        return p / m
    q = (p / m) if q is None else np.asarray(q, dtype=float)
    return _richardson_lucy(np.ascontiguousarray(q), m, p, np.ascontiguousarray(jitter, dtype=float), tol, max_iter)


@njit(cache=True)
def _richardson_lucy(q, m, p, jitter, tol, max_iter):
    """q <- q (J (p / ((m q) J))) until no cell moves by more than tol max(q) (J's rows sum to 1)."""
    n = q.size
    q = q.copy()
    pred = np.empty(n)
    for _ in range(max_iter):
        for j in range(n):
            acc = 0.0
            for i in range(n):
                acc += m[i] * q[i] * jitter[i, j]
            pred[j] = p[j] / max(acc, 1e-300)
        step = 0.0
        top = 0.0
        for i in range(n):
            acc = 0.0
            for j in range(n):
                acc += jitter[i, j] * pred[j]
            new = q[i] * acc
            step = max(step, abs(new - q[i]))
            top = max(top, q[i])
            q[i] = new
        if step <= tol * top:
            break
    return q


@dataclasses.dataclass(frozen=True)
class JointNormalEquations:
    """The chi^2 method's data on its (x_e, tau) cells, reduced to the normal equations of the
    cell weights: with A[k, (x, tau)] the jittered debunching basis over sigma_k (Eq. 16) and
    y_k = ratio_k / sigma_k, chi^2(rho) = rho.G.rho - 2 b.rho + yy for any cell weights rho.
    gram: G [x, tau, x, tau]; b: A^T y [x, tau]; yy: y.y; n_bins: the fitted time bins; edge_ns:
    the jitter folded in. Built once per signal (``joint_normal_equations``), it serves every fit
    of that signal whatever the profile (the jitter depends on tau differences only)."""
    gram: np.ndarray
    b: np.ndarray
    yy: float
    n_bins: int
    edge_ns: float


def joint_normal_equations(ratio, sigma, t_us, tau_edges, x_edges, edge_ns: float = 0.0) -> JointNormalEquations:
    """The normal equations of the ratio (on equal bins t_us) in the joint distribution's cells,
    with the injection-time jitter ``edge_ns`` (``time_jitter``) folded into the basis."""
    r, s, t = (np.asarray(v, dtype=float) for v in (ratio, sigma, t_us))
    ok = np.isfinite(r) & np.isfinite(s) & (s > 0)
    r, s, t = r[ok], s[ok], t[ok]
    bw = float(np.median(np.diff(t)))
    t_edges = np.concatenate([t - 0.5 * bw, [t[-1] + 0.5 * bw]])
    x_edges = np.asarray(x_edges, dtype=float)
    tau_edges = np.asarray(tau_edges, dtype=float)
    n_x, n_tau = x_edges.size - 1, tau_edges.size - 1
    r0 = fast_rotation.MAGIC_RADIUS_MM
    f_edges = fast_rotation.F0_MHZ * r0 / (r0 + x_edges)  # descending with x
    basis = fast_rotation.debunching_basis(t_edges, f_edges[::-1], tau_edges).reshape(t.size, n_x, n_tau)[:, ::-1, :]
    a = basis / s[:, None, None]
    del basis
    if edge_ns > 0.0:
        jit = time_jitter(0.5e3 * (tau_edges[1:] + tau_edges[:-1]), edge_ns)
        a = np.einsum("kij,lj->kil", a, jit)  # the jitter folded into the basis
    a = a.reshape(t.size, n_x * n_tau)
    y = r / s
    gram = (a.T @ a).reshape(n_x, n_tau, n_x, n_tau)
    return JointNormalEquations(gram, (a.T @ y).reshape(n_x, n_tau), float(y @ y), int(t.size), float(edge_ns))


def fit_joint_distribution(ratio, sigma, t_us, tau_edges, profile, x_edges, kappa_bound: float = 3e-3,
                           max_inner: int = 60, tol: float = 1e-6, edge_ns: float = 0.0,
                           normal: JointNormalEquations | None = None) -> dict:
    """The chi^2 method: fit the ratio (on equal bins t_us) with the joint distribution of x_e and
    injection time of a bunch with time jitter ``edge_ns`` (``time_jitter``):

        rho(x, tau) = sum_tau' w(x) q(tau') exp(kappa x (tau' - <tau>)) J(tau', tau),

    q tied each iteration so that the tau marginal equals ``profile`` (``tie_profile``). kappa
    (1/(mm ns)) minimises chi^2, w is non-negative least squares at each kappa. At each kappa, w
    and q alternate until q changes by less than ``tol`` (relative): stopping after a fixed few
    steps (4, before) left chi^2 ~500 above the optimum on the default data and C_e 5 % lower.
    Every chi^2 is evaluated on the normal equations (``joint_normal_equations``; pass ``normal``
    to reuse them for another profile of the same signal).
    The covariance is that of (w on its active cells, kappa) with q following them through the
    tie (the profile comes from the first turns, whose statistics are far larger): treating q as
    free parameters of the later signal doubled kappa's error. Returns rho [x cells, tau cells],
    kappa and its error, chi^2, ndf, x and tau centres, and the covariance with dq/d(w, kappa)."""
    if normal is None:
        normal = joint_normal_equations(ratio, sigma, t_us, tau_edges, x_edges, edge_ns)
    elif normal.edge_ns != float(edge_ns):
        raise ValueError(f"fit_joint_distribution: normal equations with jitter {normal.edge_ns} ns, not {edge_ns}")
    x_edges = np.asarray(x_edges, dtype=float)
    xc = 0.5 * (x_edges[1:] + x_edges[:-1])
    tc = 0.5 * (tau_edges[1:] + tau_edges[:-1])
    p = np.asarray(profile, dtype=float)
    h = (tc - p @ tc) * 1e3  # ns from the profile's centre
    jit = time_jitter(h, edge_ns)
    tie_jitter = jit if edge_ns > 0.0 else None  # None: q in closed form (tie_profile)
    g, b = normal.gram, normal.b
    n_x, n_tau = xc.size, tc.size
    g_flat = g.reshape(n_x * n_tau, n_x * n_tau)

    def w_equations(m):  # normal equations of w for cell weights w_i m_ij
        return np.einsum("ijkl,ij,kl->ik", g, m, m, optimize=True), np.sum(b * m, axis=1)

    fits = {}
    warm = {}

    def chi2(kappa):
        tilt = _tilt(xc, h, kappa)
        w = warm.get("w", np.exp(-0.5 * (xc / 10.0) ** 2))  # warm start from the last kappa tried
        q = np.zeros_like(p)
        for _ in range(max_inner):
            q_new = tie_profile(w @ tilt, p, tie_jitter, warm.get("q"))
            done = np.max(np.abs(q_new / q_new.sum() - q / max(q.sum(), 1e-300))) < tol * np.max(p / p.sum())
            q = q_new
            w, chi2_w = nonnegative_normal_equations(*w_equations(tilt * q[None, :]), normal.yy)
            if done:
                break
        warm["w"], warm["q"] = w, q
        fits[kappa] = (w, q)
        return chi2_w

    res = minimize_scalar(chi2, bounds=(-kappa_bound, kappa_bound), method="bounded", options={"xatol": 1e-6})
    kappa = float(res.x)
    w, q = fits[kappa]
    tilt = _tilt(xc, h, kappa)
    free = w > 0
    # Jacobian in (w on its active cells, kappa), q following through the tie: the tie
    # F(q; w, kappa) = ((w @ tilt) q) @ J - profile = 0 gives dq = -(dF/dq)^-1 dF/d(w, kappa);
    # the chi^2's curvature is d rho/d theta . G . d rho/d theta (rho the unjittered cells: the
    # jitter is in G). Once with the active cells, once with every w cell free (and w without its
    # sign constraint: at the fitted kappa and q, the least-squares w is linear in the data, so
    # its moments carry no positivity bias; on ci-size noise the non-negative w puts weight into
    # the empty tails: var(x_e) +15 %)
    m_w = w @ tilt
    df_dq = (m_w[:, None] * jit).T                                          # [tau, tau']
    dk = ((w * xc) @ tilt * h)[None, :]                                      # d(w @ tilt)/d kappa

    def curvature(cells):
        dm = np.vstack([tilt[cells], dk])                                    # d(w @ tilt)/d(w_cells, kappa)
        dq = -np.linalg.lstsq(df_dq, ((dm * q[None, :]) @ jit).T, rcond=None)[0]  # [tau', param]
        idx = np.flatnonzero(cells)
        d_rho = (w * tilt.T).T[:, :, None] * dq[None, :, :]                  # through q
        d_rho[idx, :, np.arange(idx.size)] += tilt[idx] * q[None, :]         # w cells
        d_rho[:, :, -1] += tilt * np.outer(w * xc, q * h)                    # kappa
        d_flat = d_rho.reshape(n_x * n_tau, -1)
        return np.linalg.pinv(d_flat.T @ g_flat @ d_flat), dq

    cov, dq = curvature(free)
    cov_all, dq_all = curvature(np.ones(n_x, dtype=bool))
    dtd, dty = w_equations(tilt * q[None, :])
    w_ls = np.linalg.lstsq(dtd, dty, rcond=None)[0]
    rho = (w[:, None] * tilt * q[None, :]) @ jit
    return {"rho": rho / rho.sum(), "x_mm": xc, "tau_us": tc, "tau_edges_us": np.asarray(tau_edges),
            "x_edges_mm": x_edges, "kappa": kappa, "kappa_err": float(np.sqrt(cov[-1, -1])),
            "chi2": float(res.fun), "ndf": int(normal.n_bins - free.sum() - 1), "w": w, "q": q, "h_ns": h,
            "free": free, "cov": cov, "dq": dq, "jitter": jit, "edge_ns": float(edge_ns),
            "w_unconstrained": w_ls, "cov_unconstrained": cov_all, "dq_unconstrained": dq_all}


def unconstrained_population(fit: dict) -> np.ndarray:
    """rho [x cells, tau cells] of the chi^2 fit with its w solved without the sign constraint
    (``fit_joint_distribution``): unbiased moments, negative cells allowed, sum 1."""
    rho = (fit["w_unconstrained"][:, None] * _tilt(fit["x_mm"], fit["h_ns"], fit["kappa"])
           * fit["q"][None, :]) @ fit["jitter"]
    return rho / rho.sum()


def _propagated_error(w, cells, q, xc, h, kappa, jitter, cov, dq, quantity) -> float:
    """Statistical error of ``quantity(rho)`` (rho normalised) for the fit's w, its varied
    ``cells`` (a boolean mask), q and kappa, from ``cov`` in (w[cells], kappa) with q following
    through the profile tie (``dq``): a numerical gradient, chained through q."""
    nw = int(np.sum(cells))
    p0 = np.concatenate([w[cells], q, [kappa]])

    def f(p):
        ww = np.array(w, dtype=float, copy=True)
        ww[cells] = p[:nw]
        rho = (ww[:, None] * _tilt(xc, h, p[-1]) * p[nw:-1][None, :]) @ jitter
        return quantity(rho / rho.sum())

    base = f(p0)
    grad = np.empty(p0.size)
    for i in range(p0.size):
        step = 1e-6 * max(abs(p0[i]), 1e-3 if i < p0.size - 1 else 1e-6)
        dp = p0.copy()
        dp[i] += step
        grad[i] = (f(dp) - base) / step
    g = np.concatenate([grad[:nw], grad[-1:]]) + grad[nw:-1] @ dq
    return float(np.sqrt(max(g @ cov @ g, 0.0)))


def unconstrained_error(fit: dict, quantity) -> float:
    """Statistical error of ``quantity(rho)`` on ``unconstrained_population`` from the fit's
    covariance in (every w cell, kappa), q following through the profile tie."""
    w = fit["w_unconstrained"]
    return _propagated_error(w, np.ones(w.size, dtype=bool), fit["q"], fit["x_mm"], fit["h_ns"], fit["kappa"],
                             fit["jitter"], fit["cov_unconstrained"], fit["dq_unconstrained"], quantity)


def mean_x2_error(fit: dict) -> float:
    """Statistical error of <x_e^2> from the chi^2 fit's covariance in (w on its active cells,
    kappa), q following through the profile tie."""
    xc = fit["x_mm"]
    return _propagated_error(fit["w"], fit["free"], fit["q"], xc, fit["h_ns"], fit["kappa"], fit["jitter"],
                             fit["cov"], fit["dq"], lambda rho: float(rho.sum(1) @ xc**2))


def predict_ratio(t_edges, rho, x_edges, tau_edges) -> np.ndarray:
    """Ratio a joint distribution rho [x cells, tau cells] gives on equal time bins (Eq. 16)."""
    r0 = fast_rotation.MAGIC_RADIUS_MM
    f_edges = fast_rotation.F0_MHZ * r0 / (r0 + np.asarray(x_edges, dtype=float))
    flat = np.asarray(rho)[::-1].ravel()  # basis columns run in ascending frequency
    return fast_rotation.debunching_rate(t_edges, f_edges[::-1], tau_edges, flat)


@dataclasses.dataclass(frozen=True)
class ModelClosure:
    """The chi^2 method on a noise-free signal made from its own fitted distribution
    (``model_signal``): ``population`` is that distribution at fine resolution in the fit's form
    (rho, x_mm, h_ns), the input; ``fit`` is the chi^2 fit of the signal, the estimate. Their
    difference is the estimator's bias on a distribution like the data's: its coarse cells, the
    one-number tilt, the jitter on the coarse grid and the profile treatment."""
    population: dict
    fit: dict


def model_signal(fit: dict, counts, bin_us: float, t_end_us: float, fine_mm: float = 1.0,
                 fine_ns: float = 2.0) -> tuple[np.ndarray, dict]:
    """A noise-free fast-rotation signal (counts on ``bin_us`` bins up to ``t_end_us``) from the
    chi^2 ``fit``'s joint distribution at fine resolution: w(x) constant within its cells, q
    interpolated linearly, the tilt exp(kappa x tau') and the Gaussian jitter evaluated on
    ``fine_mm`` x ``fine_ns`` cells, each x_e delayed as the calorimeters' alignment delays it
    (``fast_rotation.calorimeter_alignment_delay_ns``), on the data's own slow envelope (its
    average over one revolution), so the fit weighs the times as it weighs the data's.
    Returns (counts, the fine distribution in the fit's form: rho [x, tau], x_mm, h_ns the
    injection times from the bunch centre, calorimeter_aligned False: no alignment delay in
    them, for ``differential_decay.joint_population``). On the ci
    data the closure's input/estimate ratio of cov(delta, tau) is the same to 5e-4 for fine cells
    of 0.5 mm x 0.5 ns ... 1.5 mm x 2 ns."""
    x_edges, tau_edges = np.asarray(fit["x_edges_mm"], dtype=float), np.asarray(fit["tau_edges_us"], dtype=float)
    h, e = np.asarray(fit["h_ns"], dtype=float), float(fit["edge_ns"])
    centre = float(np.mean(0.5 * (tau_edges[1:] + tau_edges[:-1]) - 1e-3 * h))  # the bunch centre (us)
    xf_edges = np.arange(x_edges[0], x_edges[-1] + 0.5 * fine_mm, fine_mm)
    xf = 0.5 * (xf_edges[1:] + xf_edges[:-1])
    wf = np.asarray(fit["w"])[np.clip(np.searchsorted(x_edges, xf) - 1, 0, x_edges.size - 2)]
    lo, hi = (tau_edges[0] - centre) * 1e3, (tau_edges[-1] - centre) * 1e3
    tp = np.arange(lo + 0.5 * fine_ns, hi, fine_ns)  # bunch times tau' (ns)
    qf = np.interp(tp, h, np.asarray(fit["q"]) / np.diff(tau_edges * 1e3))
    core = wf[:, None] * qf[None, :] * _tilt(xf, tp, fit["kappa"])
    out_edges = np.arange(lo - 4.0 * e, hi + 4.0 * e + 0.5 * fine_ns, fine_ns)  # injection times tau (ns)
    tau = 0.5 * (out_edges[1:] + out_edges[:-1])
    rho = core @ time_jitter(tp, max(e, 1e-6), tau)
    rho /= rho.sum()
    n_bins = min(int(round(t_end_us / bin_us)), np.size(counts))
    t_edges = np.arange(n_bins + 1) * bin_us
    r0 = fast_rotation.MAGIC_RADIUS_MM
    delay_us = 1e-3 * fast_rotation.calorimeter_alignment_delay_ns(xf)
    rate = np.zeros(n_bins)
    for i in range(xf.size):  # one x_e row at a time: each has its own alignment delay
        if wf[i] > 0.0:
            f = fast_rotation.F0_MHZ * r0 / (r0 + xf_edges[i:i + 2])
            rate += fast_rotation.debunching_rate(t_edges, f[::-1], centre + 1e-3 * out_edges + delay_us[i], rho[i])
    kernel = fast_rotation.period_kernel(1.0 / fast_rotation.F0_MHZ, bin_us)
    envelope = np.convolve(np.asarray(counts, dtype=float)[:n_bins], kernel, mode="same")
    rate_avg = np.convolve(rate, kernel, mode="same")
    sim = envelope * rate / np.where(rate_avg > 0.0, rate_avg, 1.0)
    population = {"rho": rho, "x_mm": xf, "h_ns": tau, "calorimeter_aligned": False}
    return sim, population


def _fourier_ce(ratio, t, field_index, settings):
    d = fast_rotation.fourier_distribution(ratio, t, t_start_us=settings["fourier_start_us"],
                                t_end_us=settings["fourier_end_us"])
    x, rho = d["x_mm"], d["rho"]
    return (d, fast_rotation.efield_correction(x, rho, field_index),
            fast_rotation.efield_blind_slope(x, rho, field_index))


def efield_analysis(signal, bin_us: float, field_index: float, settings: dict,
                    model_closure: bool = True) -> EfieldCorrection:
    """C_e of one dataset (ppb, at eps_hw = 0) by the chi^2 and Fourier methods and their
    combination. ``settings``: fit_window_us, rebin, n_x, n_tau, profile_window_us, profile_iterations,
    fourier_start_us, fourier_end_us, inflation, esq_alignment_ppb (external). With
    ``model_closure``, the whole analysis is repeated on ``model_signal`` of its chi^2 fit
    (``ModelClosure``: what C_dd's estimator bias is taken from)."""
    counts = np.asarray(signal, dtype=float)
    t = (np.arange(counts.size) + 0.5) * bin_us
    ratio, _ = fast_rotation.fast_rotation_ratio(counts, bin_us)
    four, ce_f, slope_f = _fourier_ce(ratio, t, field_index, settings)
    f_mean = float(four["rho"] @ four["f_mhz"])
    tau_edges, profile = early_profile(ratio, t, four["t0_us"], 1.0 / f_mean, int(settings["n_tau"]),
                                       tuple(settings["profile_window_us"]))
    k = int(settings["rebin"])
    c = fast_rotation.rebin(counts, k)
    tc = (np.arange(c.size) + 0.5) * bin_us * k
    rc, sc = fast_rotation.fast_rotation_ratio(c, bin_us * k)
    lo, hi = settings["fit_window_us"]
    sel = (tc > lo) & (tc < hi) & np.isfinite(rc)
    x_edges = np.linspace(-APERTURE_MM, APERTURE_MM, int(settings["n_x"]) + 1)
    unwrapped = unwrap_profile(tau_edges, profile, 1.0 / f_mean)
    target = unwrapped["profile"]
    edge_ns = unwrapped["bunch_ns"][2]  # the bunch's edges: the injection-time jitter
    normal = joint_normal_equations(rc[sel], sc[sel], tc[sel], tau_edges, x_edges, edge_ns)  # for every fit below
    fit = fit_joint_distribution(rc[sel], sc[sel], tc[sel], tau_edges, target, x_edges, edge_ns=edge_ns, normal=normal)
    # The first turns already show the bunch stretched by the momentum-time correlation (its
    # late, high-momentum end runs ahead turn by turn): a few % at the steep edges. The model
    # turns its injection-time profile into the same first-turn fold, so the profile it is tied
    # to is corrected until that fold matches the measured (unwrapped) one.
    fold_window = tuple(settings["profile_window_us"])
    t_first = np.arange(0.0, fold_window[1] + 0.2 + 0.5 * bin_us, bin_us)
    t_first_c = 0.5 * (t_first[1:] + t_first[:-1])
    for _ in range(int(settings["profile_iterations"])):
        model_fold = early_profile(predict_ratio(t_first, fit["rho"], x_edges, tau_edges), t_first_c,
                                   four["t0_us"], 1.0 / f_mean, int(settings["n_tau"]), fold_window)[1]
        target = np.clip(target * unwrapped["profile"] / np.maximum(model_fold, 1e-12), 0.0, None)
        target /= target.sum()
        fit = fit_joint_distribution(rc[sel], sc[sel], tc[sel], tau_edges, target, x_edges, edge_ns=edge_ns,
                                     normal=normal)
    x2 = float(fit["rho"].sum(1) @ fit["x_mm"] ** 2)
    ce_c = fast_rotation.efield_coefficient(field_index) * x2
    # the same fit tied to the folded profile as measured (wrapped tails kept, no correction for
    # the first turns' stretching): how much the profile treatment moves C_e
    fit_wrapped = fit_joint_distribution(rc[sel], sc[sel], tc[sel], tau_edges, profile, x_edges, edge_ns=edge_ns,
                                         normal=normal)
    ce_wrapped = (fast_rotation.efield_coefficient(field_index)
                  * float(fit_wrapped["rho"].sum(1) @ fit_wrapped["x_mm"] ** 2))
    ce_c_err = ce_c * mean_x2_error(fit) / x2
    marg_x = fit["rho"].sum(1)
    slope_c = fast_rotation.efield_blind_slope(fit["x_mm"], marg_x, field_index)
    # the Fourier method on the chi^2 fit's own signal, with and without the fitted correlation
    t_edges = np.arange(0.0, settings["fourier_end_us"] + bin_us, bin_us)
    tm = 0.5 * (t_edges[1:] + t_edges[:-1])
    separable = np.outer(marg_x, fit["rho"].sum(0))
    ce_model = _fourier_ce(predict_ratio(t_edges, fit["rho"], x_edges, tau_edges), tm, field_index, settings)[1]
    ce_sep = _fourier_ce(predict_ratio(t_edges, separable, x_edges, tau_edges), tm, field_index, settings)[1]
    bias = ce_model - ce_sep
    ce_f_corr = ce_f - bias
    # statistical error of the Fourier method: scaled from the chi^2 method's by the ratio of
    # their spreads in the toy (tests): taken equal here, the methods share the data
    ce_f_err = float(np.hypot(ce_c_err, 0.5 * bias))
    w = np.array([1.0 / ce_c_err**2, 1.0 / ce_f_err**2])
    w /= w.sum()
    ce = float(w @ [ce_c, ce_f_corr])
    spread = 0.5 * abs(ce_c - ce_f_corr)
    stat = float(w @ [ce_c_err, ce_c_err])  # the same data: fully correlated statistical errors
    syst_parts = {
        "fourier correlation (half the model bias)": float(w[1] * 0.5 * abs(bias)),
        "method difference (half)": spread,
        "injection profile: unwrapping and stretch (half the shift)": 0.5 * abs(ce_c - ce_wrapped),
    }
    infl = float(settings["inflation"])
    syst = infl * quadrature(syst_parts.values())
    ppb = 1e9
    record = {
        "C_e_ppb": ce * ppb,
        "stat_ppb": stat * ppb,
        "syst_ppb": syst * ppb,
        "external_ppb": {"ESQ alignment": float(settings["esq_alignment_ppb"])},
        "systematics_ppb": {k2: v * ppb for k2, v in syst_parts.items()},
        "inflation": infl,
        "dCe_deps_ppb": float(w @ [slope_c, slope_f]) * ppb,
        "methods": {
            "chi2": {"C_e_ppb": ce_c * ppb, "stat_ppb": ce_c_err * ppb, "kappa_per_mm_ns": fit["kappa"],
                     "C_e_wrapped_profile_ppb": ce_wrapped * ppb, "bunch_ns": unwrapped["bunch_ns"],
                     "wrapped_fraction": unwrapped["wrapped_fraction"],
                     "kappa_err": fit["kappa_err"], "chi2": fit["chi2"], "ndf": fit["ndf"],
                     "mean_x_mm": float(marg_x @ fit["x_mm"]), "rms_x_mm": float(np.sqrt(x2)),
                     "dCe_deps_ppb": slope_c * ppb},
            "fourier": {"C_e_ppb": ce_f_corr * ppb, "raw_ppb": ce_f * ppb, "correlation_bias_ppb": bias * ppb,
                        "stat_ppb": ce_f_err * ppb, "t0_us": four["t0_us"], "dCe_deps_ppb": slope_f * ppb},
        },
        "weights": {"chi2": float(w[0]), "fourier": float(w[1])},
    }
    closure = None
    if model_closure:
        sim, population = model_signal(fit, counts, bin_us, float(settings["fourier_end_us"]) + 1.0)
        closure = ModelClosure(population, efield_analysis(sim, bin_us, field_index, settings, False).chi2_fit)
    return EfieldCorrection("C_e", record, chi2_fit=fit, fourier=four, ratio=(t, ratio), profile=(tau_edges, target),
                            model_closure=closure)


def with_tracker_method(fast_rotation_ce: EfieldCorrection, tracker: dict) -> EfieldCorrection:
    """The C_e combination of the fast-rotation and tracker methods (ppb, at eps_hw = 0): their
    weighted average with each method's total uncertainty, taken as uncorrelated (Sec. V A 3,
    Table VII). The fast-rotation result is already the chi^2 and Fourier methods' combination
    (``efield_analysis``; they share the data, so they enter as one method). The tracker's C_e
    does not depend on the blinded clock. Returns a new result with the tracker method under
    ``methods``."""
    ppb = 1e9
    ce = fast_rotation_ce.record
    m = ce["methods"]
    infl = ce["inflation"]
    fr_syst = dict(ce["systematics_ppb"])  # its parts before the 1.5 inflation (only syst_ppb carries it)
    tr_syst = {k: v * ppb for k, v in tracker["systematics"].items()}
    val = {"fast rotation": ce["C_e_ppb"], "tracker": tracker["C_e"] * ppb}
    stat = {"fast rotation": ce["stat_ppb"], "tracker": tracker["stat"] * ppb}
    sig = {"fast rotation": float(np.hypot(stat["fast rotation"], quadrature(fr_syst.values()))),
           "tracker": float(np.hypot(stat["tracker"], quadrature(tr_syst.values())))}
    inv = {k: 1.0 / v**2 for k, v in sig.items()}
    wm = {k: v / sum(inv.values()) for k, v in inv.items()}
    value = sum(wm[k] * val[k] for k in wm)
    # per-method weights for the record: the fast-rotation weight split as inside efield_analysis
    w = {"chi2": wm["fast rotation"] * ce["weights"]["chi2"], "fourier": wm["fast rotation"] * ce["weights"]["fourier"],
         "tracker": wm["tracker"]}
    syst_parts = {
        **{f"fast rotation: {k}": wm["fast rotation"] * v for k, v in fr_syst.items()},
        **{f"tracker: {k}": wm["tracker"] * v for k, v in tr_syst.items()},
        "fast rotation vs tracker (half the difference)": 0.5 * abs(val["fast rotation"] - val["tracker"]),
    }
    series = tracker["series"]
    p, e = tracker["fit"]["params"], tracker["fit"]["errors"]
    out = dict(ce)
    out.update({
        "C_e_ppb": float(value), "stat_ppb": float(np.hypot(wm["fast rotation"] * stat["fast rotation"],
                                                             wm["tracker"] * stat["tracker"])),
        "syst_ppb": infl * quadrature(syst_parts.values()), "systematics_ppb": syst_parts,
        "dCe_deps_ppb": wm["fast rotation"] * ce["dCe_deps_ppb"],
        "weights": w, "method_weights": wm, "method_sigma_ppb": sig,
        "fast_rotation": {"C_e_ppb": val["fast rotation"], "stat_ppb": stat["fast rotation"],
                          "syst_ppb": ce["syst_ppb"]},
        "methods": {**m, "tracker": {
            "C_e_ppb": val["tracker"], "stat_ppb": tracker["stat"] * ppb,
            "systematics_ppb": {k: v * ppb for k, v in tracker["systematics"].items()},
            "C_e_two_state_ppb": tracker["C_e_two_state"] * ppb, "dCe_deps_ppb": 0.0,
            "mean_x_mm": p["mean_xe"], "rms_x_mm": tracker["rms_xe_mm"], "x_i_mm": tracker["x_i_mm"],
            "fit": {k: [p[k], e[k]] for k in p}, "chi2": tracker["fit"]["chi2"], "ndf": tracker["fit"]["ndf"],
            "error_scale": tracker["error_scale"],
            "vertices": float(series["n"].sum())}},
    })
    return dataclasses.replace(fast_rotation_ce, record=out, tracker=tracker)

