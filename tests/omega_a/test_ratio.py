"""Ratio method (kernel construction) against analytic expectations and a Monte Carlo of its covariance."""

import numpy as np
import pytest
from scipy import sparse

from g2chain.omega_a.ratio import ratio_histogram, ratio_model, shift_kernel_weights

DT = 0.1492  # us
TAU = 64.44  # us
OMEGA = 1.4394  # rad/us
A = 0.37
PHI = 2.1
HALF = np.pi / OMEGA  # T_a/2, 14.63 bins: not an integer number of bins


def centres(n, t0=30.1):
    return t0 + (np.arange(n) + 0.5) * DT


def five_parameter(t, n0=2e5, tau=TAU, a=A, omega=OMEGA, phi=PHI):
    """N0 e^{-t/tau} (1 + A cos(omega t - phi))."""
    return n0 * np.exp(-t / tau) * (1.0 + a * np.cos(omega * t - phi))


def five_parameter_bins(t, n0=2e5):
    """The five-parameter rate integrated over bins of width DT centred at t (what a histogram holds)."""
    z = -1.0 / TAU + 1j * OMEGA

    def prim(x):  # antiderivative of e^{-x/tau} (1 + A cos(omega x - phi)) / DT
        return (-TAU * np.exp(-x / TAU) + A * np.real(np.exp(z * x - 1j * PHI) / z)) / DT

    return n0 * (prim(t + DT / 2) - prim(t - DT / 2))


# --- kernel and closed forms ---------------------------------------------------------------------------------------


def test_shift_kernel_is_linear_interpolation():
    offsets, w = shift_kernel_weights(HALF, DT)
    s = HALF / DT
    assert offsets.tolist() == [14, 15]
    assert np.allclose(w, [15 - s, s - 14], rtol=0, atol=1e-15) and abs(w.sum() - 1) < 1e-15
    # exact for a linear function of the bin index, in both directions
    i = np.arange(40, 60)
    assert np.allclose(sum(wm * (3.0 + 2.0 * (i + o)) for o, wm in zip(offsets, w, strict=True)), 3 + 2 * (i + s))
    assert np.allclose(sum(wm * (3.0 + 2.0 * (i - o)) for o, wm in zip(offsets, w, strict=True)), 3 + 2 * (i - s))
    # an integer shift needs a single bin
    o1, w1 = shift_kernel_weights(15 * DT, DT)
    assert o1.tolist() == [15] and w1.tolist() == [1.0]


def test_exact_model_closed_form():
    t = np.linspace(0, 200, 2001)
    # omega h = pi: R = A cos(omega t - phi) exactly (no (T_a/tau)^2 offset thanks to the e^{+-h/tau} weights)
    r = ratio_model(five_parameter(t), five_parameter(t + HALF), five_parameter(t - HALF), HALF, TAU)
    assert np.max(np.abs(r - A * np.cos(OMEGA * t - PHI))) < 1e-13
    # general closed form: omega h != pi and a lifetime in the data different from the weighting one
    omega, tau_mu = 1.02 * OMEGA, 61.0
    th, wh, eps = omega * t - PHI, omega * HALF, HALF * (1 / tau_mu - 1 / TAU)
    v = 2 * (1 + A * np.cos(th))
    u = 2 * (np.cosh(eps) + A * (np.cosh(eps) * np.cos(th) * np.cos(wh) + np.sinh(eps) * np.sin(th) * np.sin(wh)))
    f = [five_parameter(x, tau=tau_mu, omega=omega) for x in (t, t + HALF, t - HALF)]
    assert np.max(np.abs(ratio_model(*f, HALF, TAU) - (v - u) / (v + u))) < 1e-13
    # unweighted copies (E821 style) would leave an offset -tanh^2(h / 2 tau) ~ -(T_a/tau)^2/16; ours does not
    assert np.tanh(HALF / (2 * TAU)) ** 2 > 2e-4


def test_pure_exponential_gives_zero():
    t = centres(1200)
    for n0 in (1.0, 3e5):
        expo = n0 * np.exp(-t / TAU)
        r, _, valid = ratio_histogram(expo, expo, DT, HALF, TAU)
        assert np.max(np.abs(r)) < 1e-14  # includes the interpolation-convexity correction of the weights
        assert np.max(np.abs(ratio_model(expo, None, None, HALF, TAU, dt=DT)[valid])) < 1e-14
    # without the O((dt/tau)^2) convexity correction the offset would be ~f(1-f)(dt/tau)^2/4 ~ 3e-7
    r_far, _, _ = ratio_histogram(expo, expo, DT, HALF, TAU * 1.0001)
    assert np.max(np.abs(r_far)) < 1e-9  # a wrong weighting lifetime enters only at second order


def test_noiseless_histogram_equals_kernel_model():
    """(a) data path (sparse shift operator) and model path (slices) agree; both match the transfer-function form."""
    n = 2000
    t = centres(n)
    counts = five_parameter_bins(t)
    r, cov, valid = ratio_histogram(counts, counts, DT, HALF, TAU)
    offsets, w = shift_kernel_weights(HALF, DT)
    assert valid.sum() == n - 2 * offsets.max() and not valid[: offsets.max()].any() and valid[offsets.max()]
    assert r.shape == (valid.sum(),) and cov.shape == (valid.sum(),) * 2
    model = ratio_model(counts, None, None, HALF, TAU, dt=DT)
    assert np.all(np.isnan(model[~valid]))
    assert np.max(np.abs(model[valid] - r)) < 1e-12

    # closed form through the kernel's transfer function g+- = K+-(z) / K+-(-1/tau), z = -1/tau + i omega:
    # w+- (kernel-shifted grid values) = N0 e^{-t/tau} (1 + A Re(g+- e^{i theta}))
    tc = t[valid]
    grid = five_parameter(t)  # centre values: a five-parameter wiggle on the grid as well
    z = -1.0 / TAU + 1j * OMEGA
    g_plus = np.sum(w * np.exp(z * offsets * DT)) / np.sum(w * np.exp(-offsets * DT / TAU))
    g_minus = np.sum(w * np.exp(-z * offsets * DT)) / np.sum(w * np.exp(offsets * DT / TAU))
    e = np.exp(1j * (OMEGA * tc - PHI))
    v = 2 * (1 + A * np.real(e))
    u = 2 + A * np.real((g_plus + g_minus) * e)
    r_grid = ratio_model(grid, None, None, HALF, TAU, dt=DT)[valid]
    assert np.max(np.abs(r_grid - (v - u) / (v + u))) < 1e-12
    # interpolation smooths the shifted copies: amplitude 1 - f(1-f)(omega dt)^2/2 relative to an exact shift
    f = w[1]
    assert abs(-np.real(g_plus + g_minus) / 2 - (1 - f * (1 - f) * (OMEGA * DT) ** 2 / 2)) < 2e-4
    # ... so the exact (non-interpolated) model misses the data by ~A * 0.27%: the kernel matters
    exact = ratio_model(grid, five_parameter(t + HALF), five_parameter(t - HALF), HALF, TAU)[valid]
    assert 5e-4 < np.max(np.abs(exact - r_grid)) < 2e-3


# --- covariance ------------------------------------------------------------------------------------------------------


def test_covariance_matches_finite_difference_jacobian_with_correlated_input():
    n = 200
    t = centres(n)
    counts = five_parameter_bins(t, n0=5e4)
    rng = np.random.default_rng(11)
    m = sparse.diags([0.25, 0.5, 0.25], [-1, 0, 1], shape=(n, n)).toarray()  # a correlated input (smoothing)
    sigma = m @ np.diag(counts * rng.uniform(0.5, 2.0, n)) @ m.T
    r, cov, valid = ratio_histogram(counts, sigma, DT, HALF, TAU)
    jac = np.empty((valid.sum(), n))
    for j in range(n):
        step = 1e-4 * counts[j]
        up, dn = counts.copy(), counts.copy()
        up[j] += step
        dn[j] -= step
        jac[:, j] = (ratio_histogram(up, counts, DT, HALF, TAU)[0] - ratio_histogram(dn, counts, DT, HALF, TAU)[0]) / (
            2 * step)
    assert np.max(np.abs(jac @ sigma @ jac.T - cov)) < 1e-6 * np.max(np.abs(cov))
    # five input bins per R bin
    assert np.all(np.count_nonzero(np.abs(jac) > 1e-14, axis=1) == 5)
    # diagonal input: 1D, dense 2D and sparse 2D give the same answer
    var = counts * 1.7
    c1 = ratio_histogram(counts, var, DT, HALF, TAU)[1]
    assert np.allclose(ratio_histogram(counts, np.diag(var), DT, HALF, TAU)[1], c1, rtol=1e-13, atol=0)
    assert np.allclose(ratio_histogram(counts, sparse.diags(var), DT, HALF, TAU)[1], c1, rtol=1e-13, atol=0)
    # the covariance kept sparse (as the fits use it) or not computed: the same numbers
    r_sp, c_sp, valid_sp = ratio_histogram(counts, var, DT, HALF, TAU, covariance="sparse")
    assert sparse.issparse(c_sp) and np.allclose(c_sp.toarray(), c1, rtol=1e-13, atol=0)
    r_none, c_none, valid_none = ratio_histogram(counts, var, DT, HALF, TAU, covariance=None)
    assert c_none is None and np.array_equal(r_none, r_sp) and np.array_equal(valid_none, valid_sp)
    with pytest.raises(ValueError, match="covariance"):
        ratio_histogram(counts, var, DT, HALF, TAU, covariance="full")


@pytest.fixture(scope="module")
def replicas():
    """400 Poisson replicas of a 1500-bin five-parameter histogram, their R, and the propagated covariance."""
    n, n_rep = 1500, 400
    mean = five_parameter_bins(centres(n))
    rng = np.random.default_rng(20240611)
    r_pred, cov, valid = ratio_histogram(mean, mean, DT, HALF, TAU)
    rs = np.empty((n_rep, valid.sum()))
    for k in range(n_rep):
        obs = rng.poisson(mean).astype(float)
        rs[k], _, valid_k = ratio_histogram(obs, obs, DT, HALF, TAU)  # each replica with its own (observed) variances
        assert np.array_equal(valid_k, valid)
    return rs, r_pred, cov


def test_monte_carlo_covariance_bin_pairs(replicas):
    """(b) sample covariance of R vs J diag(var) J^T for chosen pairs: diagonal, neighbours, bins T_a/2 apart."""
    rs, r_pred, cov = replicas
    n_rep = rs.shape[0]
    sample = np.cov(rs, rowvar=False)
    k = int(HALF // DT)
    assert abs(np.mean(rs) - np.mean(r_pred)) < 1e-4  # R is unbiased at these statistics (bias ~ 1/N)
    for i in (40, 700, 1300):
        for lag in (0, 1, k, k + 1, 2 * k + 1):
            j = i + lag
            se = np.sqrt((cov[i, i] * cov[j, j] + cov[i, j] ** 2) / (n_rep - 1))  # Gaussian error of a sample cov
            assert abs(sample[i, j] - cov[i, j]) < 4.5 * se, (i, lag, sample[i, j], cov[i, j], se)


def test_monte_carlo_covariance_averaged_over_bins(replicas):
    """(b) the same, averaged over all bins per lag: precise enough that a diagonal-only covariance would fail."""
    rs, _, cov = replicas
    k = int(HALF // DT)
    groups = rs.reshape(20, 20, -1)  # batch means over 20 groups of 20 replicas give the statistical error
    sd = np.sqrt(np.diag(cov))
    for lag in (0, 1, k, k + 1, 2 * k + 1, 2 * k + 2, 2 * k + 3, 7):
        pred = np.diag(cov, lag) / (sd[: sd.size - lag] * sd[lag:])  # predicted correlation per pair
        stats = []
        for g in groups:
            x = g - g.mean(axis=0)
            s = np.sum(x[:, : x.shape[1] - lag] * x[:, lag:], axis=0) / (g.shape[0] - 1)
            stats.append(np.mean(s / (sd[: sd.size - lag] * sd[lag:]) - pred))
        stats = np.array(stats)
        se = stats.std(ddof=1) / np.sqrt(stats.size)
        assert abs(stats.mean()) < 4.5 * se + 1e-3, (lag, stats.mean(), se)
        if lag in (1, k, k + 1, 2 * k + 1, 2 * k + 2):
            assert abs(pred.mean()) > 10 * se  # off-diagonal terms are really needed
        elif lag != 0:
            assert np.max(np.abs(pred)) < 1e-15  # no shared input bins at this lag


def test_monte_carlo_covariance_with_non_poisson_variances():
    """Variances != counts (a weighted histogram): 3 x Poisson(N/3) has variance 3N; pass that, not N."""
    n, n_rep = 900, 200
    mean = five_parameter_bins(centres(n), n0=1e5)
    rng = np.random.default_rng(7)
    _, cov, valid = ratio_histogram(mean, 3 * mean, DT, HALF, TAU)
    rs = np.array([ratio_histogram(obs, 3 * obs, DT, HALF, TAU)[0] for obs in 3.0 * rng.poisson(mean / 3, (n_rep, n))])
    ratio = np.var(rs, axis=0, ddof=1) / np.diag(cov)
    # each ratio has error sqrt(2/199) = 0.1; the mean over ~870 bins (weakly correlated) is good to ~0.01
    assert abs(ratio.mean() - 1) < 0.04


# --- slow effects ----------------------------------------------------------------------------------------------------


def test_slow_multiplicative_distortion_cancels():
    """(c) N(t)(1 + d(t)), d = 0.01 e^{-t/30}: R changes by ~(1-R^2)/2 * d (cosh(h/30) - 1), not by ~d."""
    n = 2500
    t = centres(n, t0=5.0)
    counts = five_parameter_bins(t)
    d = 0.01 * np.exp(-t / 30.0)
    r0, _, valid = ratio_histogram(counts, counts, DT, HALF, TAU)
    r1, _, valid1 = ratio_histogram(counts * (1 + d), counts * (1 + d), DT, HALF, TAU)
    assert np.array_equal(valid, valid1)
    delta, dv = r1 - r0, d[valid]
    assert np.max(np.abs(delta)) < 3e-3 * np.max(dv)  # suppressed by ~(h/30 us)^2/4, i.e. > 300x
    # the surviving second-order term: both weighted copies sample d at t -+ h, average d(t) cosh(h/30)
    pred = -(1 - r0**2) / 2 * dv * (np.cosh(HALF / 30.0) - 1) / (1 + dv)
    assert np.max(np.abs(delta - pred)) < 0.1 * np.max(np.abs(pred))
    # the same distortion is fully visible in a non-ratio observable, e.g. N / expectation
    assert np.max(np.abs(counts * (1 + d) / counts - 1)) > 5e-3


# --- input checks ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"variances": "nan"}, "variances"),
        ({"variances": "negative"}, "variances"),
        ({"variances": "short"}, "variances"),
        ({"variances": "bad2d"}, "variances"),
        ({"counts": "2d"}, "counts"),
        ({"counts": "nan"}, "counts"),
        ({"half_period": 0.0}, "half_period"),
        ({"half_period": -HALF}, "half_period"),
        ({"half_period": 300 * DT / 4 + 1e-9}, "half_period"),
        ({"half_period": float("nan")}, "half_period"),
        ({"dt": 0.0}, "dt"),
        ({"tau": float("inf")}, "tau"),
    ],
)
def test_errors_name_the_argument(kwargs, name):
    n = 300
    counts = five_parameter_bins(centres(n), n0=1e4)
    args = {"counts": counts, "variances": counts.copy(), "dt": DT, "half_period": HALF, "tau": TAU}
    special = {
        "nan": lambda x: np.where(np.arange(n) == 17, np.nan, x),
        "negative": lambda x: np.where(np.arange(n) == 17, -1.0, x),
        "short": lambda x: x[:-1],
        "bad2d": lambda x: np.ones((n, n - 1)),
        "2d": lambda x: np.vstack([x, x]),
    }
    for key, value in kwargs.items():
        args[key] = special[value](args[key]) if isinstance(value, str) else value
    with pytest.raises(ValueError, match=name) as err:
        ratio_histogram(**args)
    msg = str(err.value)
    assert msg.startswith(name) and "\n" not in msg


def test_half_period_limit_is_inclusive_and_model_mode_errors():
    n = 300
    counts = five_parameter_bins(centres(n), n0=1e4)
    r, cov, valid = ratio_histogram(counts, counts, DT, n * DT / 4, TAU)  # exactly a quarter: allowed
    assert valid.sum() >= n // 2 - 2 and np.all(np.isfinite(r)) and np.all(np.diag(cov) > 0)
    with pytest.raises(ValueError, match="^f_plus"):
        ratio_model(counts, None, None, HALF, TAU)  # exact mode needs the shifted values
    with pytest.raises(ValueError, match="^f_plus"):
        ratio_model(counts, counts, counts, HALF, TAU, dt=DT)  # kernel mode builds them itself
    with pytest.raises(ValueError, match="^half_period"):
        ratio_model(counts[:40], None, None, HALF, TAU, dt=DT)  # 40 bins: T_a/2 > span/4
    with pytest.raises(ValueError, match="^counts"):
        ratio_histogram(np.zeros(n), np.zeros(n), DT, HALF, TAU)  # V + U = 0 everywhere
