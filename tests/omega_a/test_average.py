"""The dataset average of the omega_a analyses against analytic expectations."""

import math

import numpy as np
import pytest

from g2chain.omega_a import average


def test_equal_weight_average_with_fully_correlated_errors():
    y = np.array([1.0, 2.0, 6.0])
    avg = average.equal_weight_average(y, [0.3, 0.6, 0.9], {"pileup": [0.1, 0.2, 0.3], "gain": [0.0, 0.0, 0.3]})
    assert avg.value == pytest.approx(3.0)
    assert avg.stat == pytest.approx(0.6)  # fully correlated: the mean of the errors
    assert avg.syst == pytest.approx({"pileup": 0.2, "gain": 0.1})
    assert avg.total == pytest.approx(math.sqrt(0.36 + 0.04 + 0.01))
    # the same number from the general covariance with rho = 1 everywhere
    cov = average.covariance_from([0.3, 0.6, 0.9], np.ones((3, 3)))
    w = avg.weights
    assert math.sqrt(w @ cov @ w) == pytest.approx(avg.stat)


def test_blue_reduces_to_inverse_variance_weights_and_handles_correlation():
    y, s = np.array([10.0, 12.0]), np.array([1.0, 2.0])
    value, sigma, w = average.blue_average(y, np.diag(s**2))
    assert w == pytest.approx([0.8, 0.2])
    assert value == pytest.approx(10.4) and sigma == pytest.approx(1 / math.sqrt(1.25))
    # two measurements correlated by rho = s1/s2: the better one alone is the BLUE (weight 0 on the other)
    cov = average.covariance_from(s, np.array([[1.0, 0.5], [0.5, 1.0]]))
    value, sigma, w = average.blue_average(y, cov)
    assert w == pytest.approx([1.0, 0.0], abs=1e-12) and sigma == pytest.approx(1.0)
    with pytest.raises(ValueError, match="covariance: not symmetric"):
        average.blue_average(y, [[1.0, 0.1], [0.2, 1.0]])


def test_pairwise_pulls_are_unit_normal_for_correlated_gaussian_analyses():
    rng = np.random.default_rng(9)
    n = 19
    s = rng.uniform(6.0, 10.0, n)
    rho = 0.5 + 0.45 * np.exp(-np.abs(np.subtract.outer(np.arange(n), np.arange(n))) / 3.0)
    np.fill_diagonal(rho, 1.0)
    cov = average.covariance_from(s, rho)
    chol = np.linalg.cholesky(cov)
    pulls = np.concatenate([average.pairwise_pulls(chol @ rng.standard_normal(n), cov) for _ in range(400)])
    assert pulls.size == 400 * 171
    assert abs(pulls.mean()) < 0.03 and abs(pulls.std() - 1.0) < 0.03
    with pytest.raises(ValueError, match="analyses 0 and 1 have a non-positive difference variance"):
        average.pairwise_pulls([1.0, 2.0], np.ones((2, 2)))


def test_dataset_average_from_files(tmp_path):
    """The average rule's file step on made-up records: software blinds removed, equal weights
    with fully correlated errors, 171 pulls, and a clear error for an unknown analysis."""
    import pytest

    from g2chain.blinding import software_offset_ppm
    from g2chain.io import read_json, write_h5, write_json
    from g2chain.omega_a.groups import analysis_names, load_groups
    from g2chain.omega_a.run_omega_a import dataset_average
    from g2chain.omega_a.systematics import CATEGORIES

    from ..conftest import ROOT

    groups_path = ROOT / "config" / "groups.yaml"
    groups = load_groups(groups_path, ROOT / "workflow" / "schemas" / "groups.schema.yaml")
    names = analysis_names(groups)
    rng = np.random.default_rng(3)
    common = rng.normal()
    results, systs = [], []
    for k, name in enumerate(names):
        group = name.split("-")[0]
        rec = {"analysis": name, "group": group, "R_err_ppm": 1.0 + 0.1 * k,
               "R_ppm": 5.0 + common + 0.05 * rng.normal() + software_offset_ppm(groups["groups"][group]["phrase"])}
        write_json(tmp_path / f"{name}.json", rec)
        write_json(tmp_path / f"{name}.syst.json", {"analysis": name, "categories": {
            c: {"ppb": 10.0 * (j + 1), "sources": {}} for j, c in enumerate(CATEGORIES)}})
        results.append(tmp_path / f"{name}.json")
        systs.append(tmp_path / f"{name}.syst.json")
    rho = np.full((19, 19), 0.99) + 0.01 * np.eye(19)
    write_h5(tmp_path / "corr.h5", {"rho": (rho, "1")}, {"analyses": names}, kind="omega_a_correlations")
    cfg = {"omega_a_average": {"analyses": ["I-A", "II-A", "III-RA", "IV-RA", "V-A", "VI-A"]}}
    out = dataset_average(cfg, "run2", results, systs, tmp_path / "corr.h5", groups_path, tmp_path / "avg.json")
    eq = out["equal_weight"]
    chosen = [names.index(n) for n in cfg["omega_a_average"]["analyses"]]
    assert eq["R_ppm"] == pytest.approx(5.0 + common, abs=0.1)  # the blinds are gone
    assert eq["stat_ppm"] == pytest.approx(np.mean([1.0 + 0.1 * k for k in chosen]))
    assert eq["syst_ppm"]["cbo"] == pytest.approx(0.010) and out["pulls"]["n_pairs"] == 171
    assert read_json(tmp_path / "avg.json")["blue"]["total_ppm"] <= eq["total_ppm"] + 1e-12
    cfg["omega_a_average"]["analyses"] = ["I-A", "IX-A"]
    with pytest.raises(ValueError, match="omega_a_average.analyses: unknown analysis IX-A"):
        dataset_average(cfg, "run2", results, systs, tmp_path / "corr.h5", groups_path, tmp_path / "a.json")
