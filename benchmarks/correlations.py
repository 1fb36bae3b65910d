"""The correlation study's cost (rules omega_a_correlation_chunks, _total, _trials): one chunk of the
study production and one delete-one sample analysed by the 19 analyses (jackknife, the default), or
one independent trial (method trials), on one process; and the projected core and wall time of
`snakemake --cores 2 correlations` with the configured sizes.

    python benchmarks/correlations.py [--samples 2] [--config config/config.yaml]
"""

from __future__ import annotations

import argparse
import copy
import os
import tempfile
import time
from pathlib import Path

# one thread per process, as Snakemake runs each job (two BLAS pools on two cores fight)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import yaml  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main():
    from g2chain.config import overlay
    from g2chain.experiment.run_production import produce_in_memory
    from g2chain.omega_a.groups import analysis_names, load_groups
    from g2chain.studies import correlation_jackknife as jk
    from g2chain.studies.correlation_trials import analyse_trial, study_world

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=2, help="chunks and delete-one samples (or trials) timed")
    ap.add_argument("--config", default=None, help="a config file over config/config.yaml (e.g. config/ci.yaml)")
    args = ap.parse_args()
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    if args.config:
        cfg = overlay(cfg, yaml.safe_load((ROOT / args.config).read_text()))
    s = cfg["omega_a_correlations"]
    groups = load_groups(ROOT / "config" / "groups.yaml", ROOT / "workflow" / "schemas" / "groups.schema.yaml")
    study, study_groups = study_world(cfg, groups)
    names = analysis_names(study_groups)
    k_total, n = int(s["trials"]), args.samples
    if s.get("method", "trials") == "jackknife":
        c = copy.deepcopy(cfg)
        c["omega_a_correlations"].update(trials=n, trials_per_job=n)  # n chunks of the configured size
        with tempfile.TemporaryDirectory() as tmp:
            groups_path = ROOT / "config" / "groups.yaml"
            jk.write_study_chunks(c, 0, groups_path, Path(tmp) / "warm.npz")  # numba caches, not timed
            t0 = time.perf_counter()
            jk.write_study_chunks(c, 0, groups_path, Path(tmp) / "chunks.npz")
            t_chunk = (time.perf_counter() - t0) / n
            jk.sum_chunks([Path(tmp) / "chunks.npz"], Path(tmp) / "total.npz")
            with __import__("numpy").load(Path(tmp) / "total.npz") as f:
                total = {k: f[k] for k in f.files}
            stacked = jk.read_stacked(Path(tmp) / "chunks.npz")
            noise = float(study["detector"]["pedestal_noise_gev"])
            row = {k: stacked[k][0] for k in stacked}
            calo, loss, randomized = jk.delete_one(total, row, 0, noise)
            analyse_trial(study, study_groups, s["dataset"], names, calo, loss, randomized)  # warm
            t0 = time.perf_counter()
            for _ in range(n):
                analyse_trial(study, study_groups, s["dataset"], names, calo, loss, randomized)
            t_sample = (time.perf_counter() - t0) / n
        core = k_total * (t_chunk + t_sample)
        print(f"jackknife: one chunk of {float(s['positrons_per_trial']):.2g} e+ {t_chunk:.1f} s; one delete-one "
              f"sample, 19 analyses, {t_sample:.1f} s (at {n - 1} chunks' statistics here)")
        print(f"projected {k_total} chunks + {k_total} samples: {core / 60:.1f} core-min, {core / 120:.1f} min on "
              f"2 cores")
    else:
        produce_in_memory(cfg, s["dataset"], 1e4, 999_000)  # numba caches, not timed
        t_prod = t_fit = 0.0
        for k in range(n):
            t0 = time.perf_counter()
            calo, loss, _, _ = produce_in_memory(study, s["dataset"], float(s["positrons_per_trial"]), 999_100 + k)
            t1 = time.perf_counter()
            analyse_trial(study, study_groups, s["dataset"], names, calo, loss)
            t_prod, t_fit = t_prod + t1 - t0, t_fit + time.perf_counter() - t1
        core = k_total * (t_prod + t_fit) / n
        print(f"trials: production {t_prod / n:.1f} s, 19 analyses {t_fit / n:.1f} s per trial of "
              f"{float(s['positrons_per_trial']):.2g} e+")
        print(f"projected {k_total} trials: {core / 60:.1f} core-min, {core / 120:.1f} min on 2 cores")


if __name__ == "__main__":
    main()
