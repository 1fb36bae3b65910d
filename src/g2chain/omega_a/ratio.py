"""Ratio histograms for omega_a: four copies of N(t), two shifted by +-T_a/2 ("kernel method").

Run-1 randomly split the positrons into four sub-histograms; Run-2/3 (detailed report, Sec. IV A and
IV F item 1) instead uses four identical copies of the one time histogram, which removes the
splitting noise at the price of bin-to-bin correlations. With h = T_a/2:

    V(t) = 2 N(t)
    U(t) = w+ N(t + h) + w- N(t - h)
    R(t) = (V - U) / (V + U)

A shift by half a precession period flips the sign of the wiggle, so U carries -A cos and V carries
+A cos: R keeps the omega_a modulation while anything slow and multiplicative (gain drifts,
muon losses, the exponential itself) cancels between numerator and denominator to first order.

Weights. For a pure exponential N(t) = C e^{-t/tau} one has N(t +- h) = e^{-+h/tau} N(t), so
w+- = e^{+-h/tau} make U = V exactly: with those weights no normalisation is needed (the
divisor is 1) and a noiseless five-parameter R has no (T_a/tau)^2 offset. (Unweighted copies, as
in E821, give R = A cos - tanh^2(h/2tau) ~ A cos - (T_a/tau)^2/16.) On a histogram the shifted
copies are linear interpolations between bins (``shift_kernel_weights``), and interpolating a
convex exponential overshoots slightly. Writing the kernel as N(t_i + h) ~ sum_m a_m N[i + o_m],
the weights that restore U = V exactly for any exponential histogram are

    w+ = 1 / sum_m a_m e^{-o_m dt/tau} = e^{+h/tau} / c+,   c+ = (1-f) e^{f d} + f e^{-(1-f) d}
    w- = 1 / sum_m a_m e^{+o_m dt/tau} = e^{-h/tau} / c-,   c- = (1-f) e^{-f d} + f e^{(1-f) d}

with h/dt = k + f (0 <= f < 1) and d = dt/tau; c+- = 1 + f(1-f) d^2/2 + O(d^3), i.e. about 6e-7
for dt = 0.1492 us, tau = 64.44 us. The exact (non-interpolated) construction has c+- = 1.

Covariance. R_i depends on five bins (i, i+k, i+k+1, i-k-1, i-k). With D = V + U,
dR/dV = 2U/D^2 and dR/dU = -2V/D^2, so the Jacobian J = dR/dN is banded and sparse:

    J_ij = (4 U_i / D_i^2) delta_ij - (2 V_i / D_i^2) (w+ S+_ij + w- S-_ij),

S+- the interpolation (shift) matrices, and to first order cov(R) = J Sigma J^T with Sigma the
input bin covariance (diag(var) for the usual per-bin variances).

Caveat for full-covariance fits. Along chains spaced by h, R is essentially a second difference
of N, so slow (and 2 omega) patterns of R have almost no first-order variance: cov(R) is badly
conditioned (condition number ~2e7 for 1500 bins at 2e5 -> 4e3 counts/bin). In exactly those
directions the neglected O(1/N) terms matter: in a Monte Carlo the variance along the lowest
eigenvectors was underestimated by x12, x3.5, x1.9 and the nonlinear O(1/N) bias of R appeared
at ~70 first-order sigma there. A chi^2 with the full inverse covariance is therefore sensitive to
any slow model mismatch (use ``ratio_model`` in kernel mode, and check chi^2/ndf with Monte Carlo).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

# A shift within this many bins of an integer is taken as an exact integer shift (single-bin kernel).
_INTEGER_SHIFT_TOL = 1e-9


def _positive_scalar(name: str, value) -> float:
    """A finite, strictly positive scalar, else a one-line ValueError naming it."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a positive number, got {value!r}") from None
    if not np.isfinite(x) or x <= 0:
        raise ValueError(f"{name}: must be finite and > 0, got {x}")
    return x


def _check_half_period(half_period, dt: float, n_bins: int) -> float:
    """half_period positive and at most a quarter of the histogram span (so >= ~half the bins remain valid)."""
    h = _positive_scalar("half_period", half_period)
    span = n_bins * dt
    if h > span / 4:
        raise ValueError(f"half_period: {h} us exceeds a quarter of the histogram span ({span / 4} us)")
    return h


def shift_kernel_weights(half_period: float, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Linear-interpolation kernel for the copy shifted by +T_a/2 on a grid of bin width ``dt``.

    With s = half_period / dt = k + f (k integer, 0 <= f < 1) the forward copy is
    N(t_i + T_a/2) ~ (1 - f) N[i + k] + f N[i + k + 1]. Returns ``(offsets, weights)`` (int array,
    float array summing to 1) so that N(t_i + T_a/2) ~ sum_m weights[m] N[i + offsets[m]]. The
    backward copy N(t_i - T_a/2) uses the mirrored kernel ``(-offsets, weights)``. If s is an
    integer (within 1e-9) the kernel is a single bin with weight 1 (no smoothing).

    Smoothing: the histogram bins are already a box of width dt; interpolating between bin centres
    convolves the sampled values with a triangle of half-width dt, evaluated at the fractional
    position f. For a modulation at omega this multiplies the shifted copy by
    (1 - f) + f e^{i omega dt} (relative to the exact shift): amplitude ~ 1 - f(1-f)(omega dt)^2/2,
    0.9946 for dt = 0.1492 us, omega = 1.4394 rad/us (f = 0.628). A model of R must see the same
    kernel (``ratio_model(..., dt=dt)``) or its amplitude is off by ~0.3%.
    """
    h = _positive_scalar("half_period", half_period)
    step = _positive_scalar("dt", dt)
    s = h / step
    k = int(np.floor(s))
    f = s - k
    if f < _INTEGER_SHIFT_TOL:
        return np.array([k]), np.array([1.0])
    if 1.0 - f < _INTEGER_SHIFT_TOL:
        return np.array([k + 1]), np.array([1.0])
    return np.array([k, k + 1]), np.array([1.0 - f, f])


def _copy_weights(offsets: np.ndarray, weights: np.ndarray, dt: float, tau: float) -> tuple[float, float]:
    """(w+, w-): make the weighted, interpolated copies of any exponential e^{-t/tau} equal to it at t."""
    d = dt / tau
    w_plus = 1.0 / np.sum(weights * np.exp(-offsets * d))  # -> e^{+h/tau} / c+
    w_minus = 1.0 / np.sum(weights * np.exp(offsets * d))  # -> e^{-h/tau} / c-
    return float(w_plus), float(w_minus)


def _check_covariance_input(variances, n: int):
    """Per-bin variances (1D) or a full n x n bin covariance (dense or scipy.sparse)."""
    if sparse.issparse(variances):
        if variances.shape != (n, n):
            raise ValueError(f"variances: covariance shape {variances.shape} does not match counts ({n} bins)")
        diag = variances.diagonal()
        if not np.all(np.isfinite(variances.data)):
            raise ValueError("variances: covariance contains NaN or infinite entries")
        if np.any(diag < 0):
            raise ValueError(f"variances: {np.count_nonzero(diag < 0)} negative diagonal entries")
        return sparse.csr_matrix(variances, dtype=float)
    var = np.asarray(variances, dtype=float)
    if var.ndim == 1 and var.shape != (n,):
        raise ValueError(f"variances: shape {var.shape} does not match counts shape ({n},)")
    if var.ndim == 2 and var.shape != (n, n):
        raise ValueError(f"variances: covariance shape {var.shape} does not match counts ({n} bins)")
    if var.ndim not in (1, 2):
        raise ValueError(f"variances: expected 1D variances or a 2D covariance, got {var.ndim}D")
    bad = ~np.isfinite(var)
    if np.any(bad):
        raise ValueError(f"variances: {np.count_nonzero(bad)} entries are NaN or infinite")
    diag = var if var.ndim == 1 else np.diagonal(var)
    if np.any(diag < 0):
        raise ValueError(f"variances: {np.count_nonzero(diag < 0)} bins have negative variance")
    return var


def ratio_histogram(counts, variances, dt: float, half_period: float, tau: float, covariance: str | None = "dense"):
    """Kernel-method ratio histogram R = (V - U)/(V + U) with its first-order covariance.

    Parameters
    ----------
    counts : (n,) array
        Time histogram N(t_i) (positron counts, or A/Q-weighted; negative bins are allowed).
    variances : (n,) array, or (n, n) covariance (dense or scipy.sparse)
        Bin variances of ``counts`` (need not equal counts: pileup-corrected or weighted
        histograms), or their full bin covariance if the bins are already correlated.
    dt : float
        Bin width [us]; bin i is taken to be centred at t_i = t_0 + i dt.
    half_period : float
        T_a/2 [us], any value (not a multiple of dt in general), 0 < T_a/2 <= n dt / 4.
    tau : float
        Lifetime [us] used in the exponential weights w+- (see module docstring).
    covariance : "dense", "sparse" or None
        How ``cov`` is returned: a dense array, a scipy.sparse CSR matrix (the covariance is
        banded, each N(t) entering a few R bins: the fits keep it sparse), or not computed (None).

    Returns
    -------
    r : (m,) array
        R on the valid bins, in time order.
    cov : (m, m) array, CSR matrix or None
        Covariance J Sigma J^T of ``r`` (first-order propagation), as ``covariance`` asks.
    valid : (n,) bool array
        Input bins where R is defined: both shifted copies lie inside the histogram (i.e.
        k+1 <= i <= n-k-2 for s = k + f) and V + U > 0. ``r`` and ``cov`` are ordered as
        ``np.flatnonzero(valid)``.
    """
    if covariance not in ("dense", "sparse", None):
        raise ValueError(f"covariance: expected 'dense', 'sparse' or None, got {covariance!r}")
    n_arr = np.asarray(counts, dtype=float)
    if n_arr.ndim != 1 or n_arr.size == 0:
        raise ValueError(f"counts: expected a non-empty 1D histogram, got shape {n_arr.shape}")
    if not np.all(np.isfinite(n_arr)):
        raise ValueError(f"counts: {np.count_nonzero(~np.isfinite(n_arr))} bins are NaN or infinite")
    n = n_arr.size
    sigma = _check_covariance_input(variances, n)
    dt = _positive_scalar("dt", dt)
    tau = _positive_scalar("tau", tau)
    h = _check_half_period(half_period, dt, n)

    offsets, a = shift_kernel_weights(h, dt)
    w_plus, w_minus = _copy_weights(offsets, a, dt, tau)
    reach = int(offsets.max())
    idx = np.arange(reach, n - reach)  # bins whose +-T_a/2 copies are inside the histogram
    m = idx.size

    # Shift operator U = S @ N with S = w+ S+ + w- S- (rows: idx, 2 * len(offsets) entries each).
    cols = np.concatenate([idx[:, None] + offsets[None, :], idx[:, None] - offsets[None, :]], axis=1)
    vals = np.concatenate([w_plus * a, w_minus * a])
    s_op = sparse.csr_matrix((np.broadcast_to(vals, cols.shape).ravel(), (np.repeat(np.arange(m), cols.shape[1]),
                                                                         cols.ravel())), shape=(m, n))
    v = 2.0 * n_arr[idx]
    u = s_op @ n_arr
    den = v + u
    good = den > 0
    if not np.any(good):
        raise ValueError("counts: no bin has V + U > 0, the ratio is undefined everywhere")
    v, u, den, idx = v[good], u[good], den[good], idx[good]
    s_op = s_op[np.flatnonzero(good)]
    r = (v - u) / den

    # Jacobian dR/dN: +4U/D^2 on the unshifted bin (V = 2N), -2V/D^2 times the shift operator.
    rows = np.arange(idx.size)
    jac = sparse.csr_matrix((4.0 * u / den**2, (rows, idx)), shape=(idx.size, n))
    jac = jac - sparse.diags(2.0 * v / den**2) @ s_op
    jac = jac.tocsr()
    valid = np.zeros(n, dtype=bool)
    valid[idx] = True
    if covariance is None:
        return r, None, valid
    # J Sigma J^T, symmetrised (the two triangles are summed in different orders) before densifying.
    if isinstance(sigma, np.ndarray) and sigma.ndim == 2:
        cov = np.asarray(jac @ np.asarray(jac @ sigma).T)
        cov += cov.T
        cov *= 0.5
    else:
        cov_sp = jac @ (sparse.diags(sigma) if isinstance(sigma, np.ndarray) else sigma) @ jac.T
        cov = 0.5 * (cov_sp + cov_sp.T)
        cov = cov.toarray() if covariance == "dense" else cov.tocsr()
    if covariance == "sparse" and not sparse.issparse(cov):
        cov = sparse.csr_matrix(cov)
    return r, cov, valid


def ratio_model(f_t, f_plus, f_minus, half_period: float, tau: float, *, dt: float | None = None):
    """Expected ratio R(t) from model values: what a fit of the ratio histogram compares to.

    Two modes:

    * exact (``dt=None``): ``f_t``, ``f_plus``, ``f_minus`` are the model at t, t + T_a/2 and
      t - T_a/2 (evaluated there, not interpolated; broadcastable arrays). Weights w+- = e^{+-h/tau}.
      Returns R with the broadcast shape.
    * kernel (``dt`` given, ``f_plus = f_minus = None``): ``f_t`` is the model on the full bin grid
      of the histogram (last axis; leading axes are batched). The shifted copies are built with
      exactly the interpolation kernel and weights of ``ratio_histogram``, so a noiseless
      histogram and its model give identical R. Returns an array of ``f_t``'s shape, NaN where
      R is undefined; select with the histogram's mask: ``ratio_model(...)[..., valid]``.

    The kernel mode is the one to fit with: the interpolated copies of the data are smoothed
    (shift_kernel_weights), which the exact mode does not reproduce (~0.3% on the amplitude for the
    nominal binning). The mismatch is not only an amplitude: in a noiseless five-parameter test
    (4400 bins from 30 us, fit of A, omega, phi) the exact mode biased omega_a by about -54 ppb with
    diagonal errors and failed outright with the full covariance, while the kernel mode recovered
    omega_a exactly. Model values should be what a bin holds (e.g. the bin integral of the rate),
    in both modes; bin integration acts identically on all four copies (it only rescales A, shifts phi).

    Closed form (exact mode). For f = N0 e^{-t/tau_mu} (1 + A cos theta), theta = omega t - phi,
    weights built with tau, and eps = h (1/tau_mu - 1/tau):

        V / (N0 e^{-t/tau_mu}) = 2 (1 + A cos theta)
        U / (N0 e^{-t/tau_mu}) = 2 [cosh eps + A (cosh eps cos theta cos(omega h) + sinh eps sin theta sin(omega h))]

    and R = (V - U)/(V + U). For tau_mu = tau (eps = 0) this is
    R = A cos theta (1 - cos omega h) / (2 + A cos theta (1 + cos omega h)), which for omega h = pi
    is exactly R = A cos(omega t - phi): the e^{+-h/tau} weights leave no O((T_a/tau)^2) term.
    A wrong weighting lifetime enters only at O(eps^2). In the kernel mode the same holds with
    e^{+-i omega h} replaced by the kernel's transfer function sum_m a_m e^{z o_m dt} / sum_m a_m
    e^{-o_m dt/tau}, z = -1/tau + i omega.
    """
    tau = _positive_scalar("tau", tau)
    if dt is None:
        if f_plus is None or f_minus is None:
            raise ValueError("f_plus: exact mode needs f_plus and f_minus (or pass dt for the kernel mode)")
        h = _positive_scalar("half_period", half_period)
        f0, fp, fm = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (f_t, f_plus, f_minus)))
        u = np.exp(h / tau) * fp + np.exp(-h / tau) * fm
        return _ratio(2.0 * f0, u)

    if f_plus is not None or f_minus is not None:
        raise ValueError("f_plus: kernel mode (dt given) builds the shifted copies itself; pass f_plus=f_minus=None")
    f = np.asarray(f_t, dtype=float)
    if f.ndim == 0 or f.shape[-1] == 0:
        raise ValueError(f"f_t: kernel mode needs model values on the bin grid (last axis), got shape {f.shape}")
    v, u, reach = _kernel_copies(f, half_period, tau, dt)
    n = f.shape[-1]
    out = np.full(f.shape, np.nan)
    out[..., reach:n - reach] = _ratio(v, u)
    return out


def _kernel_copies(f: np.ndarray, half_period: float, tau: float, dt: float):
    """V = 2 f(t) and U = w+ f(t + T_a/2) + w- f(t - T_a/2) by the shift kernel, on the interior
    bins reach..n-reach of the last axis (leading axes batched). Both are linear in f."""
    dt = _positive_scalar("dt", dt)
    n = f.shape[-1]
    h = _check_half_period(half_period, dt, n)
    offsets, a = shift_kernel_weights(h, dt)
    w_plus, w_minus = _copy_weights(offsets, a, dt, tau)
    reach = int(offsets.max())
    centre = f[..., reach:n - reach]
    # Same kernel as ratio_histogram, written as slices (an independent implementation of the shift).
    fwd = sum(w * f[..., reach + o:n - reach + o] for o, w in zip(offsets, a, strict=True))
    bwd = sum(w * f[..., reach - o:n - reach - o] for o, w in zip(offsets, a, strict=True))
    return 2.0 * centre, w_plus * fwd + w_minus * bwd, reach


def ratio_model_jacobian(f: np.ndarray, jac: np.ndarray, half_period: float, tau: float, dt: float):
    """Kernel-mode R(t) and its derivatives from the model on the bin grid: f (n,) and
    jac (n, k) = df/dp. Since V and U are linear in f, dR = 2 (U dV - V dU) / (V + U)^2.
    Returns (R (n,), dR (n, k)), NaN outside the interior bins."""
    f = np.asarray(f, dtype=float)
    v, u, reach = _kernel_copies(f, half_period, tau, dt)
    dv, du, _ = _kernel_copies(np.asarray(jac, dtype=float).T, half_period, tau, dt)
    n = f.size
    r = np.full(n, np.nan)
    r[reach:n - reach] = _ratio(v, u)
    d = np.full(jac.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        d[reach:n - reach] = (2.0 * (u * dv - v * du) / (v + u) ** 2).T
    return r, d


def _ratio(v: np.ndarray, u: np.ndarray) -> np.ndarray:
    """(V - U)/(V + U), NaN where V + U <= 0 (as ``ratio_histogram`` excludes those bins)."""
    den = v + u
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (v - u) / den
    return np.where(den > 0, r, np.nan)
