"""Unit tests of the omega_a steps against analytic expectations."""

import math

import numpy as np
import pytest

from g2chain.config import ConfigError
from g2chain.omega_a import histograms, minimizer, seeding, wiggle_model
from g2chain.omega_a.groups import analysis_names, analysis_spec, load_groups
from g2chain.omega_a.pileup import normalise_above_endpoint
from g2chain.omega_a.wiggle import AnalysisError, window_mask
from g2chain.records import binning

from ..conftest import ROOT

GROUPS = ROOT / "config" / "groups.yaml"
GROUPS_SCHEMA = ROOT / "workflow" / "schemas" / "groups.schema.yaml"


def test_randomization_moves_each_positron_by_at_most_half_a_bin_and_kills_fast_rotation():
    rng = np.random.default_rng(1)
    per = binning.FINE_PER_BIN
    n = 400
    # a fast-rotation-like pattern: all positrons in the first 4 of 16 sub-bins
    fine = np.zeros(n * per, np.int64)
    fine.reshape(n, per)[:, :4] = 1000
    out = histograms.randomize_cyclotron(fine, rng)
    # interior bins: total conserved, and each bin gets the average of its own and the previous
    # bin's early quarter: 4000 in, shared evenly -> 4000 per bin in expectation
    # only positrons of the first bin pushed below t = 0 are lost
    assert fine.sum() - 4000 <= out.sum() <= fine.sum()
    interior = out[1:-1]
    assert abs(interior.mean() - 4000) < 5 * math.sqrt(4000 / interior.size)
    # the input is exact, so the scatter is the binomial splitting's: a bin keeps its own stayers
    # and receives the next bin's movers, each with variance 1000 sum p(1-p)
    p4 = np.abs((np.arange(4) + 0.5) / per - 0.5)
    expect_var = 2 * 1000 * np.sum(p4 * (1 - p4))
    assert abs(interior.var() / expect_var - 1) < 4 * math.sqrt(2 / interior.size)
    # the positions: a positron at sub-bin p moves to the previous bin with prob. 1/2 - (p+1/2)/16
    p_move = np.abs((np.arange(4) + 0.5) / per - 0.5)
    expect_prev = 1000 * p_move.sum()
    fine1 = np.zeros(3 * per, np.int64)
    fine1[per: per + 4] = 1000
    moved = np.mean([histograms.randomize_cyclotron(fine1, rng)[0] for _ in range(200)])
    assert abs(moved - expect_prev) < 5 * math.sqrt(expect_prev / 200)


def test_threshold_weights_and_off_edge_threshold():
    w = histograms.threshold_weights(1.7)
    assert w.sum() == binning.N_E - 17 and w[16] == 0 and w[17] == 1
    with pytest.raises(histograms.HistogramError, match="1.75 GeV is not an energy bin edge"):
        histograms.threshold_weights(1.75)


def test_nan_and_negative_bins_named():
    with pytest.raises(histograms.HistogramError, match="local/sum_fine: 1 bins are NaN"):
        histograms.check_counts("local/sum_fine", np.array([1.0, np.nan, 2.0]))
    with pytest.raises(histograms.HistogramError, match="energy/q_sum2_fine: 2 bins are negative"):
        histograms.check_counts("energy/q_sum2_fine", np.array([1.0, -1.0, -2.0]))


def test_window_outside_data_named():
    t = np.arange(100) + 0.5
    with pytest.raises(AnalysisError, match="I-T: fit window \\[30.1, 660.0\\] us outside the data"):
        window_mask(t, (30.1, 660.0), "I-T")


def test_gain_correction_restores_a_linear_spectrum():
    edges = binning.ENERGY_EDGES_GEV[:33]  # 0 .. 3.2 GeV in 0.1 GeV bins
    # true density n(E) = 100 (3.2 - E): counts per bin are exact integrals
    cum = lambda e: 100 * (3.2 * e - e**2 / 2)  # noqa: E731
    g = 0.98
    true = np.diff(cum(edges))
    # recorded at g E: the recorded count in [a, b) is the true count in [a/g, b/g)
    rec = np.diff(cum(np.minimum(edges / g, 3.2)))
    out = histograms.gain_corrected_spectrum(rec[:, None], np.array([g]), edges)[:, 0]
    # linear interpolation of a quadratic cumulative: exact to the curvature term, tiny here
    assert np.allclose(out[:-3], true[:-3], rtol=2e-3)


def test_spread_uniform_conserves_energy_and_gives_banded_covariance():
    q = np.zeros(1000)
    q[500] = 1.0
    hist, m = histograms.spread_uniform(q, 0.015, 0.1492, 0.150, 100)
    assert abs(hist.sum() - 1.0) < 1e-12
    assert np.count_nonzero(hist) == 2  # a 149.2 ns wide box covers at most two 150 ns bins
    cov = (m @ m.T).toarray()
    assert np.allclose(np.triu(cov, 2), 0)


def test_loss_integral_of_a_constant_loss_rate():
    edges = np.arange(0, 701, 1.0)
    counts = np.ones(700)
    t = np.array([100.0, 300.0])
    tau = 64.4
    got = wiggle_model.loss_integral(t, tau, edges, counts) * counts.sum()
    exact = tau * (np.exp(t / tau) - 1)  # int_0^t e^{t'/tau} dt'
    assert np.allclose(got, exact, rtol=2e-4)


def test_model_reduces_to_five_parameters():
    t = np.linspace(30, 600, 500)
    p = wiggle_model.parameter_vector({"N0": 1e4, "tau": 64.4, "A0": 0.37, "R": 5.0, "phi0": 1.1})
    omega = wiggle_model.omega_from_r(5.0, 2.0)
    expect = 1e4 * np.exp(-t / 64.4) * (1 + 0.37 * np.cos(omega * t - 1.1))
    got = wiggle_model.wiggle(t, p, 2.0, 0, np.array([0.0, 1.0]), np.zeros(1))
    assert np.allclose(got, expect, rtol=1e-12)
    assert abs(wiggle_model.r_from_omega(omega, 2.0) - 5.0) < 1e-9


def _poisson_wiggle(values, seed, n_bins=4400):
    t = (np.arange(n_bins) + 0.5) * 0.1492
    p = wiggle_model.parameter_vector(values)
    f = wiggle_model.wiggle(t, p, 0.0, wiggle_model.ENVELOPES["exp"], np.array([0.0, 1.0]), np.zeros(1))
    return t, np.random.default_rng(seed).poisson(f).astype(float)


def test_fit_recovers_omega_and_cbo_from_a_model_histogram():
    truth = {"N0": 3e4, "tau": 64.4, "A0": 0.37, "R": -40.0, "phi0": 2.0, "A_cbo_N": 0.03, "phi_cbo_N": 0.5,
             "omega_cbo": 2.34, "tau_cbo": 150.0}
    t, y = _poisson_wiggle(truth, 7)
    sel = (t > 30.1) & (t < 600)
    data = minimizer.FitData(t[sel], y[sel], minimizer.smooth(y[sel]))
    start = seeding.five_parameter_start(t[sel], y[sel], 0.0)
    r5 = minimizer.fit(data, start, ["N0", "tau", "A0", "R", "phi0"], 0.0)
    assert r5.pvalue < 1e-6  # the CBO is there, the five parameters cannot describe it
    start = {**r5.values, "A_cbo_N": 0.005, "phi_cbo_N": 0.0, "omega_cbo": 2.3, "tau_cbo": 200.0}
    f5 = wiggle_model.wiggle(t[sel], r5.vector(), 0.0, 0, data.loss_edges, data.loss_counts)
    freq, amp = seeding.residual_spectrum(t[sel], (y[sel] - f5) / np.sqrt(data.var))
    start["omega_cbo"] = 2 * math.pi * seeding.peak_frequency(freq, amp, (0.3, 0.45))
    free = ["N0", "tau", "A0", "R", "phi0", "A_cbo_N", "phi_cbo_N", "omega_cbo", "tau_cbo"]
    res = minimizer.fit(data, start, free, 0.0)
    assert res.pvalue > 1e-3
    for name in ("R", "omega_cbo", "A_cbo_N", "tau"):
        assert abs(res.values[name] - truth[name]) < 4 * res.errors[name], name


def test_pileup_normalisation_recovers_a_known_scale():
    rng = np.random.default_rng(3)
    est = np.zeros((binning.N_E, 50))
    est[36:, :] = 200.0
    data = rng.poisson(1.3 * est).astype(float)
    norm = normalise_above_endpoint(data, est, np.arange(50))
    assert abs(norm.scale - 1.3) < 4 * norm.scale_error


def test_groups_give_19_analyses_and_bad_names_are_named():
    g = load_groups(GROUPS, GROUPS_SCHEMA)
    names = analysis_names(g)
    assert len(names) == 19 and "III-RA" in names and "VII-RQ" in names
    spec = analysis_spec(g, "III-RA", "run3b")
    assert spec.is_ratio and spec.tau == "fixed" and "N0" not in spec.free_parameters()
    for bad, msg in (("VIII-T", "unknown group 'VIII'"), ("I-Q", "group I has no method 'Q'"), ("IT", "expected")):
        with pytest.raises(ConfigError, match=msg):
            analysis_spec(g, bad, "run2")
    # the full fits have parameter counts like Table III's 14-38
    counts = [len(analysis_spec(g, n, "run2").free_parameters()) for n in names]
    assert min(counts) >= 12 and max(counts) <= 38


def test_group_config_errors_are_one_line(tmp_path):
    import yaml

    cfg = yaml.safe_load(GROUPS.read_text())
    cfg["groups"]["I"]["methods"] = ["T", "X"]
    bad = tmp_path / "groups.yaml"
    bad.write_text(yaml.safe_dump(cfg))
    with pytest.raises(ConfigError) as exc:
        load_groups(bad, GROUPS_SCHEMA)
    assert "groups.I.methods.1" in str(exc.value) and "\n" not in str(exc.value)


# every term of Eq. 7-9 switched on, so that each column of the Jacobian is exercised
ALL_TERMS = {"N0": 4e5, "tau": 64.4, "A0": 0.37, "R": -60.0, "phi0": -2.0, "A_cbo_N": 0.012, "phi_cbo_N": 2.0,
             "omega_cbo": 2.336, "tau_cbo": 150.0, "C_cbo": 0.1, "A_cbo_A": 0.02, "phi_cbo_A": 1.0,
             "A_cbo_phi": 0.02, "phi_cbo_phi": -0.5, "A_2cbo": 0.01, "phi_2cbo": 0.3, "A_vw": 0.01, "phi_vw": 1.5,
             "omega_vw": 14.45, "tau_vw": 25.0, "A_y": 0.004, "phi_y": -1.0, "omega_y": 13.87, "tau_y": 80.0,
             "A_xy": 0.01, "phi_xy": 0.5, "k_loss": 0.02, "A_drift": 0.05, "tau_drift": 15.0, "A_ring": 0.01,
             "phi_ring": 0.2, "omega_ring": 10.5, "tau_ring": 20.0}
LOSS_EDGES = np.arange(4701) * 0.1492
LOSS_COUNTS = np.exp(-(LOSS_EDGES[:-1] + 0.0746) / 30.0) * 50 + 0.01


def _central_difference(fn, p, k):
    h = 1e-6 * max(abs(p[k]), 1e-2)
    up, down = p.copy(), p.copy()
    up[k] += h
    down[k] -= h
    return (fn(up) - fn(down)) / (2 * h)


@pytest.mark.parametrize("envelope", ["exp", "exp+C", "reciprocal"])
def test_analytic_jacobian_matches_finite_differences(envelope):
    t = np.linspace(30, 660, 3000)
    p = wiggle_model.parameter_vector(ALL_TERMS)
    env = wiggle_model.ENVELOPES[envelope]
    f, jac = wiggle_model.wiggle_jacobian(t, p, 7.0, env, LOSS_EDGES, LOSS_COUNTS)
    assert np.allclose(f, wiggle_model.wiggle(t, p, 7.0, env, LOSS_EDGES, LOSS_COUNTS), rtol=1e-13)
    for k, name in enumerate(wiggle_model.PARAMS):
        num = _central_difference(lambda q: wiggle_model.wiggle(t, q, 7.0, env, LOSS_EDGES, LOSS_COUNTS), p, k)
        scale = np.max(np.abs(num))
        if name == "C_cbo" and envelope != "exp+C":
            assert scale == 0 and np.all(jac[:, k] == 0)
            continue
        assert np.max(np.abs(jac[:, k] - num)) < 1e-5 * scale, name


def test_ratio_jacobian_matches_finite_differences_and_ignores_n0():
    t = (np.arange(4700) + 0.5) * 0.1492
    index = np.arange(300, 4000)
    data = minimizer.FitData(t[index], np.zeros(index.size), np.ones(index.size), loss_edges=LOSS_EDGES,
                             loss_counts=LOSS_COUNTS, model="ratio",
                             ratio_half_period=math.pi / wiggle_model.omega_from_r(-60, 7),
                     ratio_tau=64.44, grid_t=t, grid_index=index)
    p = wiggle_model.parameter_vector(ALL_TERMS)
    r, jac = minimizer.model_jacobian(data, p, 7.0, 0)
    assert np.allclose(r, minimizer.model_values(data, p, 7.0, 0), rtol=1e-13)
    assert np.max(np.abs(jac[:, wiggle_model.INDEX["N0"]])) < 1e-15  # a ratio does not know the normalisation
    for name in ("tau", "A0", "R", "phi0", "A_cbo_N", "omega_cbo", "tau_cbo", "k_loss", "omega_vw"):
        k = wiggle_model.INDEX[name]
        num = _central_difference(lambda q: minimizer.model_values(data, q, 7.0, 0), p, k)
        assert np.max(np.abs(jac[:, k] - num)) < 1e-5 * np.max(np.abs(num)), name


def test_gauss_newton_covariance_is_the_linear_least_squares_covariance():
    # for a model linear in its parameters the Gauss-Newton matrix is exact: (X^T W X)^-1
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 3)) * [1.0, 1e3, 1e-3]  # badly scaled columns on purpose
    sigma = rng.uniform(0.5, 2.0, 200)
    cov = minimizer.gauss_newton_covariance(x / sigma[:, None])
    exact = np.linalg.inv((x / sigma[:, None] ** 2).T @ x)
    assert np.allclose(cov, exact, rtol=1e-10)
    with pytest.raises(minimizer.FitError, match="zero column"):
        minimizer.gauss_newton_covariance(np.column_stack([x, np.zeros(200)]))
    with pytest.raises(minimizer.FitError, match="not positive definite"):
        minimizer.gauss_newton_covariance(np.column_stack([x, 2 * x[:, 0]]))


def test_fit_errors_agree_with_a_numerical_hessian_and_limits_hold():
    truth = {"N0": 3e4, "tau": 64.4, "A0": 0.37, "R": -40.0, "phi0": 2.0}
    t, y = _poisson_wiggle(truth, 11)
    sel = (t > 30.1) & (t < 600)
    data = minimizer.FitData(t[sel], y[sel],
                             np.maximum(wiggle_model.wiggle(t[sel], wiggle_model.parameter_vector(truth), 0.0, 0,
                                                            np.array([0.0, 1.0]), np.zeros(1)), 1.0))
    # tau fixed: the free parameters are not the leading ones of PARAMS (iminuit 2.33 would take
    # the leading block of a full-size Hessian; fit.py hands Minuit the free parameters only)
    free = ["N0", "A0", "R", "phi0"]
    res = minimizer.fit(data, {**seeding.five_parameter_start(t[sel], y[sel], 0.0), "tau": 64.4}, free, 0.0)
    # the chi^2 Hessian by finite differences of the analytic gradient, at the minimum
    ls = minimizer.WhitenedResiduals(data, 0.0, 0)
    p = res.vector()
    idx = [wiggle_model.INDEX[n] for n in free]

    def grad(q):
        z, jw = ls(q)
        return -2 * (jw[:, idx].T @ z)

    hess = np.array([_central_difference(lambda q: grad(q), p, k) for k in idx]).T
    errors = np.sqrt(np.diag(np.linalg.inv(0.5 * hess)))
    assert np.allclose([res.errors[n] for n in free], errors, rtol=3e-3)
    # a limit that excludes the minimum: the fit ends on it instead of leaving it
    edge = res.values["A0"] - 0.01
    held = minimizer.fit(data, res.values, free, 0.0, limits={"A0": (0.0, edge)}, intermediate=True)
    assert held.values["A0"] == edge
    assert held.chi2 > res.chi2


def test_best_threshold_of_the_ideal_lab_frame_spectrum():
    # positrons from muons at the magic momentum, ideal detector, y = E / E_max (E_max = 3.1 GeV):
    # N(y) ~ (y - 1)(4y^2 - 5y - 5), N(y) A(y) ~ (y - 1)(-8y^2 + y + 1). The T-method figure of merit
    # N_T A_T^2 = (int_y0^1 N A)^2 / int_y0^1 N has its maximum near y0 = 0.6
    from scipy.integrate import quad
    from scipy.optimize import minimize_scalar

    def n_of(y):
        return (y - 1) * (4 * y * y - 5 * y - 5)

    def na_of(y):
        return (y - 1) * (-8 * y * y + y + 1)

    e_max = 3.1
    edges = binning.ENERGY_EDGES_GEV
    bins = [(lo / e_max, min(hi / e_max, 1.0)) for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    n = np.array([quad(n_of, lo, hi)[0] if lo < 1 else 0.0 for lo, hi in bins])
    na = np.array([quad(na_of, lo, hi)[0] if lo < 1 else 0.0 for lo, hi in bins])
    a = np.divide(na, n, out=np.zeros_like(n), where=n > 0)
    err = np.where(n > 0, 0.01, np.inf)
    y_best = minimize_scalar(lambda y0: -quad(na_of, y0, 1)[0] ** 2 / quad(n_of, y0, 1)[0], bounds=(0.2, 0.95),
                             method="bounded").x
    best, scanned, rel = histograms.best_threshold(a, err, 1e6 * n, (1.0, 2.6))
    assert abs(best - y_best * e_max) <= 0.05 + 1e-9  # the bin edge nearest the continuous optimum
    assert 1.7 <= best <= 2.0
    assert rel[np.flatnonzero(np.isclose(scanned, best))[0]] == 1.0 and np.all(rel >= 1.0)
    with pytest.raises(histograms.HistogramError, match="holds no energy bin edge"):
        histograms.best_threshold(a, err, n, (1.01, 1.09))
