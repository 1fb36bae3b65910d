"""Statistical correlation of T- and A-method estimates against the analytic weight formula."""

import numpy as np

from g2chain.omega_a import correlations as C
from g2chain.omega_a import fit as F
from g2chain.omega_a import model as M


def test_t_and_a_correlation_of_a_pure_five_parameter_toy():
    # ideal lab-frame spectrum in 0.2 GeV bins above 1 GeV: N(y) ~ (y-1)(4y^2-5y-5), A(y) = NA/N
    y = (np.arange(1.1, 3.1, 0.2)) / 3.1
    n_frac = (y - 1) * (4 * y * y - 5 * y - 5)
    a = (-8 * y * y + y + 1) / (4 * y * y - 5 * y - 5)
    n_frac /= n_frac.sum()
    t = (np.arange(2400) + 0.5) * 0.1492 + 30.0
    shape = {"N0": 1.0, "tau": 64.4, "R": 0.0, "phi0": 1.0}
    f_e = np.array([M.wiggle(t, M.parameter_vector({**shape, "A0": ae}), 0.0, 0, np.array([0.0, 1.0]), np.zeros(1))
                    for ae in a])
    n0_total = 2e5  # counts per bin at t = 0, all energies: the large-sample regime of the formula
    w_t = (y * 3.1 >= 1.9).astype(float)
    w_a = a
    rng = np.random.default_rng(11)
    r_t, r_a = [], []
    expected_counts = n0_total * n_frac[:, None] * f_e
    for _ in range(250):
        counts = rng.poisson(expected_counts)
        for w, out in ((w_t, r_t), (w_a, r_a)):
            h = w @ counts
            data = F.FitData(t, h, (w * w) @ expected_counts)  # the variances a Pearson fit converges to
            res = F.fit(data, F.five_parameter_start(t, h, 0.0), ["N0", "tau", "A0", "R", "phi0"], 0.0)
            out.append(res.values["R"])
    empirical = np.corrcoef(r_t, r_a)[0, 1]
    expected = C.weight_correlation(w_t, w_a, n_frac)
    # rho ~ 0.89 here; its estimate from 250 replicas scatters by (1 - rho^2)/sqrt(250) ~ 0.013
    assert 0.8 < expected < 0.95
    print(f"rho(T, A): {empirical:.3f} from 250 replicas, {expected:.3f} from the weights")
    assert abs(empirical - expected) < 0.045, (empirical, expected)


def test_paper_table_and_the_weight_formula_agree_on_t_versus_a():
    labels, rho = C.paper_correlations()
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
        r = C.weight_correlation((y * 3.1 >= threshold).astype(float), a_e, n)
        assert block.min() - 0.02 < r < block.max() + 0.02, (threshold, r, block.min(), block.max())
