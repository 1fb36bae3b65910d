"""The ω_a correlations by the delete-one jackknife over the chunks of one study production.

Independent trials estimate Table XXVII's correlations at the trials' statistics, and a trial small
enough to be affordable is too small to be honest: the ratio analyses cut their fit window where
the copies' expected counts fall below ``ratio_fit.MIN_ENTRIES``, near 400 us at 3e6 positrons,
while T and A keep 30-660 us. The jackknife needs no small samples. The study world (the trials'
world, ``correlation_trials.study_world``) is produced once, as the experiment is, in K chunks of
``positrons_per_trial`` each; sample k is that production without chunk k, at (K - 1)/K of its
statistics, and every analysis is run on every sample exactly as the workflow runs it on data.

For a smooth estimator the delete-one values scatter like -1/(K - 1) times the chunks' own
estimates would, so (K - 1)/K sum_k (R_(-k) - mean)(R_(-k) - mean)^T is the jackknife covariance of
the full-statistics estimates, and the Pearson correlation of the R_(-k) (scale-free) is the
jackknife estimate of the analyses' correlation, with K - 1 degrees of freedom as K independent
trials would have: ``omega_a.correlations.trial_correlation`` applies to the samples unchanged
(docs/omega_a.md, "Correlations").

The one part of the analyses that is not a smooth function of the data is the +-T_c/2
randomization: each evaluation draws its own, and an independent draw per delete-one sample would
add a noise of full-statistics size to deviations that are only 1/sqrt(K) of it, and decorrelate
the analyses (at K = 24 the six A analyses came out at 0.85 instead of the trials' 0.99). So each
chunk is randomized once per group, with the group's seed and recon, when it is produced; the
randomizations add up, and every sample uses the sum over its chunks: the same draw for the same
positrons in every sample, as one randomization of the whole production would be.
"""

from __future__ import annotations

import time

import numpy as np

from ..experiment.production import simulate_chunk
from ..experiment.run_production import cached_muon_field
from ..experiment.world import build_conditions, build_world, dataset_settings
from ..io import write_json
from ..omega_a import histograms
from ..omega_a.groups import analysis_names, analysis_spec, load_groups
from ..omega_a.run_omega_a import GROUPS_SCHEMA
from ..progress import Progress
from ..records import experiment_files
from ..records.experiment_files import RECONSTRUCTIONS
from ..seeds import dataset_key
from .correlation_trials import analyse_trial, study_world, trial_range

# what the omega_a analyses read of a chunk (experiment_files.experiment_datasets' sources, without
# the per-calorimeter histograms, the fast-rotation signal, the trackers and the truth)
ADDITIVE_VIEWS = ("fine_hist", "pileup", "q_calo", "q_fine", "q_fine2", "lost", "counters")
MEAN_VIEWS = ("laser_infill", "laser_shortterm")  # per-chunk means of the laser monitor


def group_randomizations(groups: dict, dataset: str) -> dict:
    """{group: (recon, seed)} of the groups whose analyses randomize (the event-based methods)."""
    out = {}
    for name in analysis_names(groups):
        spec = analysis_spec(groups, name, dataset)
        if spec.base_method != "Q":
            out.setdefault(spec.group, (spec.recon, spec.seed))
    return out


def chunk_views(cfg: dict, groups: dict, dataset: str, chunk: int, n_chunks: int, positrons: float) -> dict:
    """Chunk ``chunk`` of ``n_chunks`` of the study production under ``dataset``'s conditions
    (``cfg``, ``groups``: the study world's): the views the analyses read, counts as int32, and
    ``randomized_<group>``, the chunk's +-T_c/2 randomization with each group's recon and seed."""
    world = build_world(cfg, dataset)
    cond = build_conditions(cfg, dataset, world)
    det = dataset_settings(cfg, dataset)["detector"]
    views = simulate_chunk(cond, cached_muon_field(cfg, dataset, world), positrons, int(cfg["seed"]),
                           dataset_key(dataset), chunk, n_chunks, det)
    out = {k: views[k] for k in (*ADDITIVE_VIEWS, *MEAN_VIEWS, "laser_longterm")}
    for group, (recon, seed) in group_randomizations(groups, dataset).items():
        # a spawn key of its own per chunk (the data's randomization uses (dataset,) or (dataset, offset))
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(dataset_key(dataset), 0, chunk)))
        fine = views["fine_hist"][RECONSTRUCTIONS.index(recon)]
        out[f"randomized_{group}"] = histograms.randomize_cyclotron(fine, rng).astype(np.int32)
    return out


def _additive(names) -> list:
    return [*ADDITIVE_VIEWS, *(n for n in names if n.startswith("randomized_"))]


def write_study_chunks(cfg: dict, job: int, groups_path, out_npz, log_path=None, schema_path=GROUPS_SCHEMA):
    """Produce correlation job ``job``'s chunks of the study world (``study_world``) and write
    them stacked, one row per chunk, with their indices."""
    settings = cfg["omega_a_correlations"]
    study, groups = study_world(cfg, load_groups(groups_path, schema_path))
    chunks = list(trial_range(settings, job))
    n_chunks = int(settings["trials"])
    progress = Progress(log_path, f"correlation study chunks, job {job}", len(chunks), "chunks", interval_s=0.0,
                        fresh=True)
    rows = []
    for n, k in enumerate(chunks):
        rows.append(chunk_views(study, groups, settings["dataset"], k, n_chunks,
                                float(settings["positrons_per_trial"])))
        progress.update(n + 1)
    stacked = {name: np.stack([r[name] for r in rows]) for name in rows[0]}
    np.savez(out_npz, chunk=np.array(chunks), **stacked)


def read_stacked(path) -> dict:
    """A ``write_study_chunks`` file as {view: [chunks x ...]} with ``chunk`` the indices."""
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def sum_chunks(paths, out_npz):
    """The whole study production from its chunk files: additive views summed, the laser means
    averaged over chunks, the long-term laser records kept per chunk in chunk order."""
    total, means, longterm, index = {}, {}, [], []
    for path in paths:
        s = read_stacked(path)
        index.append(s["chunk"])
        longterm.append(s["laser_longterm"])
        for name in _additive(s):
            part = s[name].astype(np.int64) if s[name].dtype == np.int32 else s[name]
            total[name] = total.get(name, 0) + part.sum(axis=0)
        for name in MEAN_VIEWS:
            means[name] = means.get(name, 0) + s[name].sum(axis=0)
    index = np.concatenate(index)
    if not np.array_equal(np.sort(index), np.arange(index.size)):
        raise ValueError(f"study chunks: indices {sorted(index.tolist())} are not 0..{index.size - 1}")
    order = np.argsort(index)
    np.savez(out_npz, n_chunks=np.int64(index.size), laser_longterm=np.concatenate(longterm)[order],
             **total, **{k: v / index.size for k, v in means.items()})


def delete_one(total: dict, chunk: dict, k: int, pedestal_noise_gev: float) -> tuple[dict, dict, dict]:
    """The study production without chunk ``k`` (``chunk``: its views), as the calorimeter and
    lost-muon views the analyses read (``produce_in_memory``'s form), and each group's randomized
    counts {group: [energy x time]} (the sum of its chunks' randomizations)."""
    n = int(total["n_chunks"])
    rest = {name: total[name] - chunk[name] for name in _additive(total)}
    for name in MEAN_VIEWS:
        rest[name] = (n * total[name] - chunk[name]) / (n - 1)
    return _analysis_views(rest, list(np.delete(total["laser_longterm"], k, axis=0)), pedestal_noise_gev)


def whole_study(total: dict, pedestal_noise_gev: float) -> tuple[dict, dict, dict]:
    """The whole study production in ``delete_one``'s form."""
    views = {name: total[name] for name in _additive(total)}
    views.update({name: total[name] for name in MEAN_VIEWS})
    return _analysis_views(views, list(total["laser_longterm"]), pedestal_noise_gev)


def _analysis_views(views: dict, longterm: list, pedestal_noise_gev: float) -> tuple[dict, dict, dict]:
    calo = {name: v[0] for name, v in experiment_files.experiment_datasets(views, longterm,
                                                                          pedestal_noise_gev).items()}
    loss = {name: v[0] for name, v in experiment_files.loss_datasets(views).items()}
    randomized = {name.removeprefix("randomized_"): views[name].astype(float) for name in views
                  if name.startswith("randomized_")}
    return calo, loss, randomized


def run_jackknife_job(cfg: dict, job: int, groups_path, total_path, chunks_path, out_json, log_path=None,
                      schema_path=GROUPS_SCHEMA) -> dict:
    """Every analysis on each delete-one sample of correlation job ``job``'s chunks; the record
    has the form of a trials job (``correlation_trials.run_correlation_trials``)."""
    settings = cfg["omega_a_correlations"]
    study, groups = study_world(cfg, load_groups(groups_path, schema_path))
    names = analysis_names(groups)
    dataset = settings["dataset"]
    noise = float(dataset_settings(study, dataset)["detector"]["pedestal_noise_gev"])
    start = time.perf_counter()
    with np.load(total_path) as f:
        total = {k: f[k] for k in f.files}
    stacked = read_stacked(chunks_path)
    progress = Progress(log_path, f"correlation jackknife, job {job}", len(stacked["chunk"]), "samples",
                        interval_s=0.0, fresh=True)
    # each analysis fitted once on the whole production; every delete-one sample (63/64 of it)
    # starts from that fit with its parameter set (the systematic refits' warm start) instead of
    # staging from the seeds again
    whole = {}
    analyse_trial(study, groups, dataset, names, *whole_study(total, noise), fits_out=whole)
    samples = {}
    for row, k in enumerate(stacked["chunk"].tolist()):
        calo, loss, randomized = delete_one(total, {name: stacked[name][row] for name in stacked}, k, noise)
        samples[str(k)] = analyse_trial(study, groups, dataset, names, calo, loss, randomized, reuse=whole)
        progress.update(row + 1)
    elapsed = time.perf_counter() - start
    n = int(total["n_chunks"])
    out = {"dataset": dataset, "method": "jackknife", "chunks": n,
           "positrons_per_trial": (n - 1) * float(settings["positrons_per_trial"]),
           "analyses": names, "trials": samples, "elapsed_s": round(elapsed, 2)}
    write_json(out_json, out)
    if log_path:
        failed = sum("error" in r for t in samples.values() for r in t.values())
        with open(log_path, "a") as f:
            f.write(f"correlation jackknife job {job}: {len(samples)} delete-one samples in {elapsed:.1f} s, "
                    f"{failed} failed fits\n")
    return out
