"""Production kernel throughput: e+ (E > 1 GeV) per second per core, 2-process scaling, and the
rate as a fraction of the RNG-bound limit (numpy Generator drawing the kernel's variate mix).

    python benchmarks/production.py [positrons_per_process]   (default 1e7; a default-config
                                                              chunk is 2.5e7)
    python benchmarks/production.py --against REV [positrons [rounds]]   (this kernel against the one
                                   of git revision REV, alternating in one process; default 1e7, 5)

With G2CHAIN_BENCH_CONFIG=config/paper.yaml the run2 conditions are the Run-2/3 world's (its tune
spread and ESQ relaxation cost the kernel a tangent and two exponentials per muon).
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import yaml

from g2chain.experiment import production
from g2chain.experiment.run_production import cached_muon_field
from g2chain.experiment.world import build_conditions, build_world, dataset_settings
from g2chain.records import experiment_files
from g2chain.seeds import dataset_key

ROOT = Path(__file__).resolve().parents[1]


def _config() -> dict:
    """config/config.yaml, with the file named by G2CHAIN_BENCH_CONFIG over it."""
    import os

    from g2chain.config import overlay

    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    extra = os.environ.get("G2CHAIN_BENCH_CONFIG")
    return overlay(cfg, yaml.safe_load((ROOT / extra).read_text())) if extra else cfg


def run(positrons: float, chunk: int = 0):
    cfg = _config()
    world = build_world(cfg, "run2")
    cond = build_conditions(cfg, "run2", world)
    field = cached_muon_field(cfg, "run2", world)
    det = dataset_settings(cfg, "run2")["detector"]
    production.simulate_chunk(cond, field, 1e3, 1, dataset_key("run2"), chunk, 4, det)  # compile / load cache
    start = time.perf_counter()
    views = production.simulate_chunk(cond, field, positrons, 1, dataset_key("run2"), chunk, 4, det)
    elapsed = time.perf_counter() - start
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    except ImportError:  # pragma: no cover
        peak = float("nan")
    return elapsed, dict(zip(experiment_files.COUNTER_NAMES, views["counters"].tolist(), strict=True)), peak


def _previous_package(rev: str):
    """The g2chain package of git revision ``rev``, imported as ``g2chain_prev`` (its imports are
    relative, so it runs beside this one in the same process)."""
    import importlib
    import io
    import subprocess
    import tarfile
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="g2chain_prev_"))
    tar = subprocess.run(["git", "archive", rev, "src/g2chain"], cwd=ROOT, capture_output=True, check=True).stdout
    tarfile.open(fileobj=io.BytesIO(tar)).extractall(tmp, filter="data")
    (tmp / "src" / "g2chain").rename(tmp / "g2chain_prev")
    sys.path.insert(0, str(tmp))
    return importlib.import_module("g2chain_prev")


def _kernel_of(package, positrons: float, chunk: int):
    """A closure timing one chunk of ``package``'s kernel under the default run2 conditions."""
    import importlib

    cfg = _config()
    name = package.__name__
    world_mod = importlib.import_module(f"{name}.experiment.world")
    production_mod = importlib.import_module(f"{name}.experiment.production")
    extra = ()
    try:  # muons that sample the field world (issue 21)
        importlib.import_module(f"{name}.experiment.muon_field")
        world = world_mod.build_world(cfg, "run2")
        extra = (importlib.import_module(f"{name}.experiment.run_production").cached_muon_field(cfg, "run2", world),)
        key = importlib.import_module(f"{name}.seeds").dataset_key("run2")
    except ModuleNotFoundError:
        try:  # one omega_a per dataset from the field truth (which sampled a stored beam of its own)
            cfg["field"].setdefault("truth_muons", 1_000_000)
            field = importlib.import_module(f"{name}.truth.field").dataset_field_truth(cfg, "run2")
            world = world_mod.build_world(cfg, "run2", field)
            key = importlib.import_module(f"{name}.seeds").dataset_key("run2")
        except ModuleNotFoundError:  # before the truth layer: the world computed its field itself
            world = world_mod.build_world(cfg, "run2")
            key = importlib.import_module(f"{name}.experiment.rng").dataset_key("run2")
    cond = world_mod.build_conditions(cfg, "run2", world)
    det = world_mod.dataset_settings(cfg, "run2")["detector"]
    production_mod.simulate_chunk(cond, *extra, 1e3, 1, key, chunk, 4, det)  # compile / load cache

    def timed():
        start = time.perf_counter()
        views = production_mod.simulate_chunk(cond, *extra, positrons, 1, key, chunk, 4, det)
        return time.perf_counter() - start, views

    return timed


def against(rev: str, positrons: float, rounds: int = 5):
    """This kernel and the one of ``rev``, alternating in one process: rates and their ratio."""
    import g2chain

    kernels = {"this": _kernel_of(g2chain, positrons, 0), rev: _kernel_of(_previous_package(rev), positrons, 0)}
    times = {k: [] for k in kernels}
    same, float_rel = True, 0.0
    for _ in range(rounds):
        views = {}
        for k, f in kernels.items():
            dt, views[k] = f()
            times[k].append(dt)
        for v, a in views["this"].items():
            b = views[rev].get(v)
            if b is None or np.shape(a) != np.shape(b):
                same = False
            elif np.issubdtype(np.asarray(a).dtype, np.integer):
                same &= np.array_equal(a, b)
            else:  # float accumulators (Q sums, truth): summation order and FMA contraction
                scale = max(float(np.max(np.abs(b), initial=0.0)), 1e-300)
                float_rel = max(float_rel, float(np.max(np.abs(a - b), initial=0.0)) / scale)
    hits = positrons
    rate = {k: hits / min(v) for k, v in times.items()}
    for k, v in times.items():
        print(f"{k:>10}: best of {rounds} {min(v):.2f} s ({', '.join(f'{t:.2f}' for t in v)}) -> {rate[k]:.3g} e+/s")
    median = float(np.median(np.array(times[rev]) / np.array(times["this"])))
    print(f"this / {rev}: {rate['this'] / rate[rev]:.3f} in best rate, {median:.3f} median of the rounds' ratios; "
          f"integer views identical: {same}; float views within {float_rel:.1e} (relative to each view's max)")
    if not same:
        same_physics(views["this"], views[rev], rev)


def _chi2(a, b, label):
    """Two histograms of independent realizations, each normalized to its total: chi2 over the
    bins with > 20 entries together, and its pull (chi2 - ndf) / sqrt(2 ndf)."""
    a, b = np.asarray(a, float).ravel(), np.asarray(b, float).ravel()
    na, nb = a.sum(), b.sum()
    ok = a + b > 20
    chi2 = float(np.sum((a[ok] / na - b[ok] / nb) ** 2 / (a[ok] / na**2 + b[ok] / nb**2)))
    ndf = int(ok.sum()) - 1
    print(f"  {label:34s} chi2/ndf {chi2:8.1f}/{ndf:<5d} pull {(chi2 - ndf) / np.sqrt(2 * ndf):+.2f}")


def same_physics(this: dict, prev: dict, rev: str):
    """When a kernel changes the random realization, the views must agree within statistics."""
    from g2chain.records import binning

    print(f"views of this kernel and of {rev} (independent realizations of the same conditions):")
    calo = {k: v["calo_hist"][0] for k, v in (("this", this), ("prev", prev))}  # [calo, E, t]
    rebin = lambda h: h[..., : h.shape[-1] // 8 * 8].reshape(h.shape[:-1] + (-1, 8)).sum(-1)  # noqa: E731
    high = binning.ENERGY_EDGES_GEV[:-1] >= 1.7 - 1e-9
    _chi2(calo["this"].sum(axis=2), calo["prev"].sum(axis=2), "calorimeter x energy")
    _chi2(rebin(calo["this"].sum(axis=(0, 1))), rebin(calo["prev"].sum(axis=(0, 1))), "time (1.2 us)")
    _chi2(rebin(calo["this"][:, high].sum(axis=1)), rebin(calo["prev"][:, high].sum(axis=1)),
          "calorimeter x time, E > 1.7 GeV")
    _chi2(this["tracker"].sum(axis=(0, 1)), prev["tracker"].sum(axis=(0, 1)), "tracker x-y")
    _chi2(this["tracker"].sum(axis=(0, 2, 3)), prev["tracker"].sum(axis=(0, 2, 3)), "tracker time")
    _chi2(this["lost"], prev["lost"], "lost muons (triples)")
    _chi2(this["pileup"][0, 0].sum(axis=1), prev["pileup"][0, 0].sum(axis=1), "shadow doubles by energy")
    _chi2(this["truth"][0].sum(axis=1), prev["truth"][0].sum(axis=1), "truth count by true energy")
    counts = dict(zip(experiment_files.COUNTER_NAMES, this["counters"], strict=True))
    before = dict(zip(experiment_files.COUNTER_NAMES, prev["counters"], strict=True))
    for k in ("muons_stored", "muons_scraped", "muons_lost_slow", "positrons_accepted", "tracker_vertices"):
        a, b = counts[k] / counts["muons_injected"], before[k] / before["muons_injected"]
        sigma = np.sqrt(a * (1 - a) / counts["muons_injected"] + b * (1 - b) / before["muons_injected"])
        print(f"  {k + ' per injected muon':34s} {a:.5f} vs {b:.5f}  pull {(a - b) / sigma:+.2f}")


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--against":
        against(sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 1e7,
                int(sys.argv[4]) if len(sys.argv) > 4 else 5)
        return
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
