"""Correlation trials per minute (rule omega_a_correlation_trials), split into production and the
19 analyses, on one process and on two in parallel, and the projected wall time of
`snakemake --cores 2 correlations` with the configured trial count.

    python benchmarks/correlations.py [--trials 2] [--config config/config.yaml]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time
from pathlib import Path

# one thread per process, as Snakemake runs each job (two BLAS pools on two cores fight)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import yaml  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _trials(cfg_path: str, n: int, first_seed: int) -> tuple[float, float]:
    """Run n trials in this process; returns (production s, analysis s) summed over them."""
    from g2chain.experiment.run_production import produce_in_memory
    from g2chain.omega_a.groups import analysis_names, load_groups
    from g2chain.studies.correlation_trials import analyse_trial, study_world

    cfg = yaml.safe_load(Path(cfg_path).read_text())
    s = cfg["omega_a_correlations"]
    groups = load_groups(ROOT / "config" / "groups.yaml", ROOT / "workflow" / "schemas" / "groups.schema.yaml")
    names = analysis_names(groups)
    cfg, groups = study_world(cfg, groups)
    t_prod = t_fit = 0.0
    for k in range(n):
        t0 = time.perf_counter()
        calo, loss, _, _ = produce_in_memory(cfg, s["dataset"], float(s["positrons_per_trial"]), first_seed + k)
        t1 = time.perf_counter()
        analyse_trial(cfg, groups, s["dataset"], names, calo, loss)
        t_prod += t1 - t0
        t_fit += time.perf_counter() - t1
    return t_prod, t_fit


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=2, help="trials per process")
    ap.add_argument("--config", default=str(ROOT / "config" / "config.yaml"))
    args = ap.parse_args()
    cfg = yaml.safe_load(Path(args.config).read_text())
    s = cfg["omega_a_correlations"]
    _trials(args.config, 1, 999_000)  # numba compilation and caches, not timed
    t0 = time.perf_counter()
    prod, fit = _trials(args.config, args.trials, 999_100)
    one = time.perf_counter() - t0
    rate1 = 60.0 * args.trials / one
    print(f"correlation trials ({s['positrons_per_trial']:.2g} e+ each, 19 analyses), 1 process: "
          f"{rate1:.2f} trials/min ({one / args.trials:.1f} s per trial: production {prod / args.trials:.1f} s, "
          f"analyses {fit / args.trials:.1f} s)")
    ctx = mp.get_context("spawn")
    t0 = time.perf_counter()
    with ctx.Pool(2) as pool:
        pool.starmap(_trials, [(args.config, args.trials, 999_200), (args.config, args.trials, 999_300)])
    two = time.perf_counter() - t0
    rate2 = 60.0 * 2 * args.trials / two
    print(f"                   2 processes: {rate2:.2f} trials/min -> {rate2 / rate1:.2f}x the single process "
          f"(incl. start-up)")
    n = int(s["trials"])
    print(f"projected `snakemake --cores 2 correlations` with {n} trials: {n / rate2:.1f} min (target <= 20 min)")


if __name__ == "__main__":
    main()
