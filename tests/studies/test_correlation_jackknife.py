"""The jackknife correlation study: a delete-one sample is the study production without one chunk,
exactly as merging the other chunks would give it, and the Pearson correlation of delete-one
estimates is the correlation of the full-statistics estimates."""

import copy

import numpy as np
import pytest

from g2chain.omega_a.correlations import trial_correlation
from g2chain.records import experiment_files
from g2chain.studies import correlation_jackknife as jk

from ..conftest import ROOT

GROUPS = ROOT / "config" / "groups.yaml"


@pytest.fixture(scope="module")
def study(base_cfg, tmp_path_factory):
    """Four chunks of 2e4 e+ of the study world, written by two jobs of two, and their sum."""
    cfg = copy.deepcopy(base_cfg)
    cfg["omega_a_correlations"].update(trials=4, trials_per_job=2, positrons_per_trial=2e4)
    tmp = tmp_path_factory.mktemp("jackknife")
    paths = [tmp / f"job_{j}.npz" for j in range(2)]
    for j, path in enumerate(paths):
        jk.write_study_chunks(cfg, j, GROUPS, path)
    jk.sum_chunks(paths[::-1], tmp / "total.npz")  # the jobs' order does not matter
    with np.load(tmp / "total.npz") as f:
        total = {k: f[k] for k in f.files}
    return cfg, paths, total


def test_delete_one_is_the_merge_of_the_other_chunks(study):
    cfg, paths, total = study
    rows = {}
    for path in paths:
        s = jk.read_stacked(path)
        for row, k in enumerate(s["chunk"]):
            rows[int(k)] = {name: s[name][row] for name in s if name != "chunk"}
    assert sorted(rows) == [0, 1, 2, 3] and int(total["n_chunks"]) == 4
    k = 2
    calo, loss, randomized = jk.delete_one(total, rows[k], k, 0.01)
    # the merge rule's way (read_chunks): sum the additive views, average the laser means
    others = [rows[i] for i in (0, 1, 3)]
    merged = {name: sum(r[name].astype(np.int64) if r[name].dtype == np.int32 else r[name] for r in others)
              for name in jk.ADDITIVE_VIEWS}
    for name in jk.MEAN_VIEWS:
        merged[name] = sum(r[name] for r in others) / 3
    want = {n: v[0] for n, v in experiment_files.experiment_datasets(merged, [r["laser_longterm"] for r in others],
                                                                     0.01).items()}
    assert set(calo) == set(want)
    for name, value in want.items():
        if np.asarray(value).dtype.kind in "iu":
            assert np.array_equal(calo[name], value), name
        else:
            # total minus a chunk: float sums agree to rounding of the total's scale
            assert np.allclose(calo[name], value, rtol=0, atol=1e-12 * np.max(np.abs(value))), name
    assert np.array_equal(loss["triple_coincidences"], sum(r["lost"] for r in others))
    # each group's randomization is the sum of the other chunks' (the same draw in every sample)
    assert randomized and all(np.array_equal(randomized[g], sum(r[f"randomized_{g}"] for r in others))
                              for g in randomized)
    # chunk k is really gone: its positrons are not in the sample
    assert calo["local/sum_fine"].sum() == total["fine_hist"][0].sum() - rows[k]["fine_hist"][0].sum()


def test_missing_chunks_are_refused(study, tmp_path):
    _, paths, _ = study
    with pytest.raises(ValueError, match="not 0..1"):
        jk.sum_chunks(paths[1:], tmp_path / "total.npz")


def test_delete_one_correlation_is_the_full_sample_correlation():
    # two linear statistics of K chunks of Poisson counts: u = sum a n, v = sum b n over cells.
    # Over independent productions corr(u, v) = sum a b m / sqrt(sum a^2 m sum b^2 m); the
    # delete-one values of ONE production of K chunks estimate it with K - 1 degrees of freedom
    rng = np.random.default_rng(5)
    m = rng.uniform(50, 150, 30)  # expected counts per cell and chunk
    a, b = rng.normal(size=30), rng.normal(size=30)
    b = 0.7 * a + 0.3 * b
    want = np.sum(a * b * m) / np.sqrt(np.sum(a * a * m) * np.sum(b * b * m))
    k_chunks, estimates = 64, []
    for _ in range(20):
        n = rng.poisson(m, (k_chunks, m.size))
        rest = n.sum(axis=0)[None, :] - n  # every delete-one sample
        r = trial_correlation(np.stack([rest @ a, rest @ b], axis=1), n_boot=50)
        estimates.append(r["rho"][0, 1])
    spread = (1 - want**2) / np.sqrt(k_chunks - 3)  # Fisher's standard error at K - 1 dof
    assert abs(np.mean(estimates) - want) < 3 * spread / np.sqrt(20)
    assert np.std(estimates) == pytest.approx(spread, rel=0.5)


AVERAGED = ["I-A", "II-A", "III-A", "IV-A", "V-A", "VI-A"]  # omega_a_average's analyses in the default config


@pytest.mark.validation
def test_the_jackknife_agrees_with_independent_trials(base_cfg, tmp_path):
    """The jackknife of one production of N e+ in K chunks against K independent productions of N
    each, both analysed by every analysis (ci statistics, N = 2e6, K = 24): the two estimates of
    the averaged analyses' correlations differ by their sampling errors only. Each has
    sigma(rho) ~ (1 - rho^2)/sqrt(K - 3); the test takes the two bootstrap errors in quadrature."""
    from g2chain.omega_a.groups import analysis_names, load_groups
    from g2chain.omega_a.run_omega_a import GROUPS_SCHEMA
    from g2chain.studies.correlation_trials import correlation_trial, study_world

    k_chunks, n_total = 24, 2.0e6
    cfg = copy.deepcopy(base_cfg)
    cfg["omega_a_correlations"].update(method="jackknife", trials=k_chunks, trials_per_job=k_chunks,
                                       positrons_per_trial=n_total / k_chunks)
    groups_path = GROUPS
    jk.write_study_chunks(cfg, 0, groups_path, tmp_path / "chunks.npz")
    jk.sum_chunks([tmp_path / "chunks.npz"], tmp_path / "total.npz")
    jack = jk.run_jackknife_job(cfg, 0, groups_path, tmp_path / "total.npz", tmp_path / "chunks.npz",
                                tmp_path / "jack.json")
    study, groups = study_world(cfg, load_groups(groups_path, GROUPS_SCHEMA))
    names = analysis_names(groups)
    trials = {str(k): correlation_trial(study, groups, "run2", names, n_total, int(study["seed"]) + 100 + k)
              for k in range(k_chunks)}

    def corr(samples):
        r = np.array([[t[n].get("R_ppm", np.nan) for n in AVERAGED] for t in samples.values()])
        return trial_correlation(r, n_boot=400)

    a, b = corr(jack["trials"]), corr(trials)
    iu = np.triu_indices(len(AVERAGED), 1)
    pulls = (a["rho"] - b["rho"])[iu] / np.hypot(a["rho_err"], b["rho_err"])[iu]
    print("jackknife", np.round(a["rho"][iu], 3), "\ntrials   ", np.round(b["rho"][iu], 3))
    print("pulls", np.round(pulls, 2))
    # the 15 pairs share analyses, so their pulls are correlated: bound their mean and their worst
    assert abs(pulls.mean()) < 1.5
    assert np.max(np.abs(pulls)) < 3.5
