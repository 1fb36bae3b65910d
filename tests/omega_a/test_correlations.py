"""Statistical correlation of T- and A-method estimates against the analytic weight formula."""

import numpy as np

from g2chain.omega_a import correlations, minimizer, seeding, wiggle_model


def test_trial_correlation_matrix_of_a_pure_five_parameter_toy():
    """Replicas of a pure five-parameter toy in energy bins, fitted with T (two thresholds) and A
    weights: the trials' correlation matrix is a proper one and its T-A entries match the
    analytic weight correlation."""
    # ideal lab-frame spectrum in 0.2 GeV bins above 1 GeV: N(y) ~ (y-1)(4y^2-5y-5), A(y) = NA/N
    y = (np.arange(1.1, 3.1, 0.2)) / 3.1
    n_frac = (y - 1) * (4 * y * y - 5 * y - 5)
    a = (-8 * y * y + y + 1) / (4 * y * y - 5 * y - 5)
    n_frac /= n_frac.sum()
    t = (np.arange(2400) + 0.5) * 0.1492 + 30.0
    shape = {"N0": 1.0, "tau": 64.4, "R": 0.0, "phi0": 1.0}
    f_e = np.array([wiggle_model.wiggle(t, wiggle_model.parameter_vector({**shape, "A0": ae}), 0.0, 0,
                                        np.array([0.0, 1.0]), np.zeros(1))
                    for ae in a])
    n0_total = 2e5  # counts per bin at t = 0, all energies: the large-sample regime of the formula
    weights = {"T1.9": (y * 3.1 >= 1.9).astype(float), "T1.5": (y * 3.1 >= 1.5).astype(float), "A": a}
    rng = np.random.default_rng(11)
    expected_counts = n0_total * n_frac[:, None] * f_e
    trials = []
    for _ in range(250):
        counts = rng.poisson(expected_counts)
        row = []
        for w in weights.values():
            h = w @ counts
            data = minimizer.FitData(t, h, (w * w) @ expected_counts)  # the variances a Pearson fit converges to
            res = minimizer.fit(data, seeding.five_parameter_start(t, h, 0.0), ["N0", "tau", "A0", "R", "phi0"], 0.0)
            row.append(res.values["R"])
        trials.append(row)
    trials = np.array(trials)
    trials[7, 1] = np.nan  # a failed fit: that trial is left out
    corr = correlations.trial_correlation(trials, n_boot=400)
    rho, err = corr["rho"], corr["rho_err"]
    assert corr["trials_used"] == 249 and corr["trials_dropped"] == 1
    assert np.array_equal(rho, rho.T) and np.all(np.diag(rho) == 1.0)
    assert np.linalg.eigvalsh(rho).min() >= -1e-12
    # the bootstrap error agrees with the Fisher-z expectation (1 - rho^2)/sqrt(n - 3) within 30 %
    off = ~np.eye(3, dtype=bool)
    assert np.all(np.abs(err[off] / corr["rho_err_fisher"][off] - 1) < 0.3), (err, corr["rho_err_fisher"])
    names = list(weights)
    for i, j in ((0, 2), (1, 2), (0, 1)):
        expected = correlations.weight_correlation(weights[names[i]], weights[names[j]], n_frac)
        print(f"rho({names[i]}, {names[j]}): {rho[i, j]:.3f} +- {err[i, j]:.3f} from the trials, "
              f"{expected:.3f} from the weights")
        assert abs(rho[i, j] - expected) < 3.5 * err[i, j], (names[i], names[j], rho[i, j], expected, err[i, j])
    assert 0.8 < rho[0, 2] < 0.95


def test_method_order_and_text_table():
    from g2chain.omega_a.run_omega_a import correlation_table_text

    names = correlations.method_ordered(["VII-RQ", "II-A", "I-T", "III-RA", "VII-Q", "III-RT", "I-A", "II-T", "IV-T"])
    assert names == ["I-T", "II-T", "IV-T", "I-A", "II-A", "III-RT", "III-RA", "VII-Q", "VII-RQ"]
    corr = {"rho": np.array([[1.0, 0.9], [0.9, 1.0]]), "rho_err": np.array([[0.0, 0.012], [0.012, 0.0]]),
            "trials_used": 10, "trials_dropped": 0}
    text = correlation_table_text(corr, ["I-T", "I-A"], {"dataset": "run2", "positrons_per_trial": 3e6})
    assert "0.900(12)" in text and text.count("\n") == 3


def test_paper_table_and_the_weight_formula_agree_on_t_versus_a():
    labels, rho = correlations.paper_correlations()
    assert len(labels) == 19 and rho.shape == (19, 19)
    assert np.array_equal(rho, rho.T) and np.all(np.diag(rho) == 1.0)
    t = [k for k, lab in enumerate(labels) if lab.endswith("_T")]
    a = [k for k, lab in enumerate(labels) if lab.endswith("_A")]
    block = rho[np.ix_(t, a)]
    # ideal lab-frame spectrum (no acceptance) in 0.1 GeV bins above 1 GeV, T at 1.7-1.9 GeV
    y = np.arange(1.05, 3.1, 0.1) / 3.1
    n = (y - 1) * (4 * y * y - 5 * y - 5)
    a_e = (-8 * y * y + y + 1) / (4 * y * y - 5 * y - 5)
    for threshold in (1.7, 1.8, 1.9):
        r = correlations.weight_correlation((y * 3.1 >= threshold).astype(float), a_e, n)
        assert block.min() - 0.02 < r < block.max() + 0.02, (threshold, r, block.min(), block.max())
