"""Production kernel throughput: e+ (E > 1 GeV) per second per core, 2-process scaling, and the
rate as a fraction of the RNG-bound limit (numpy Generator drawing the kernel's variate mix).

    python benchmarks/production.py [positrons_per_process]   (default 1e7; a default-config
                                                              chunk is 2.5e7)
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import yaml

from g2chain.experiment import production
from g2chain.experiment.world import build_conditions, build_world, dataset_settings
from g2chain.records import experiment_files
from g2chain.seeds import dataset_key
from g2chain.truth.field import dataset_field_truth

ROOT = Path(__file__).resolve().parents[1]


def run(positrons: float, chunk: int = 0):
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    world = build_world(cfg, "run2", dataset_field_truth(cfg, "run2"))
    cond = build_conditions(cfg, "run2", world)
    det = dataset_settings(cfg, "run2")["detector"]
    production.simulate_chunk(cond, 1e3, 1, dataset_key("run2"), chunk, 4, det)  # compile / load cache
    start = time.perf_counter()
    views = production.simulate_chunk(cond, positrons, 1, dataset_key("run2"), chunk, 4, det)
    elapsed = time.perf_counter() - start
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    except ImportError:  # pragma: no cover
        peak = float("nan")
    return elapsed, dict(zip(experiment_files.COUNTER_NAMES, views["counters"].tolist(), strict=True)), peak


def main():
    n = float(sys.argv[1]) if len(sys.argv) > 1 else 1e7
    elapsed, c, peak = run(n)
    e1 = c["hits_above_1gev"]
    rate = e1 / elapsed
    print(f"production kernel, 1 process : {e1:.3g} e+ (E>1 GeV) in {elapsed:.2f} s -> {rate:.3g} e+/s per core"
          f"  (peak RSS {peak:.2f} GiB)")
    with ProcessPoolExecutor(2) as pool:
        start = time.perf_counter()
        results = list(pool.map(run, [n, n], [1, 2]))
        wall = time.perf_counter() - start
    # the wall time includes process start and cache load; use the kernels' own times as well
    total = sum(r[1]["hits_above_1gev"] for r in results)
    kernel_wall = max(r[0] for r in results)
    print(f"production kernel, 2 processes: {total / kernel_wall:.3g} e+/s -> speed-up "
          f"{total / kernel_wall / rate:.2f}x (kernel time), {total / wall / rate:.2f}x (incl. start-up)")
    per = {k: c[f"variates_{k}"] / e1 for k in ("uniform", "normal", "exponential")}
    g = np.random.default_rng(1)
    m = 2_000_000
    out = np.empty(m)
    g.random(out=out), g.standard_normal(out=out), g.standard_exponential(out=out)
    t = {}
    for k, f in (("uniform", g.random), ("normal", g.standard_normal), ("exponential", g.standard_exponential)):
        start = time.perf_counter()
        for _ in range(5):
            f(out=out)
        t[k] = (time.perf_counter() - start) / (5 * m)
    cost = sum(per[k] * t[k] for k in per)
    print("variates per detected e+: " + ", ".join(f"{k} {v:.1f}" for k, v in per.items()))
    print(f"RNG-bound limit (numpy Generator, same mix): {1 / cost:.3g} e+/s -> kernel at {rate * cost:.0%} of it")


if __name__ == "__main__":
    main()
