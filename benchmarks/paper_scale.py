"""Core-hours of a finished workflow run, by rule, and their extrapolation to the paper's statistics.

    python benchmarks/paper_scale.py [WORKDIR] [--log .snakemake/log/<run>.snakemake.log] [--configfile ...]
                                     [--paper-config config/paper.yaml]

Reads the Snakemake log of the run (the newest under WORKDIR/.snakemake/log by default) for each
job's core time (its wall time times the threads Snakemake gave it: the dataset fits and scans run
that many workers; every other rule is single-threaded), groups them by rule and
scales each rule to the full Run-2/3 statistics of Table I as config/paper.yaml runs them
(69.7e9 positrons counted Table I's way, 1-3 GeV after 30 us, in the chunks that config sets)
by how its work grows:
  - simulate_chunk: the kernel's time (each chunk log's "... fills, X s" line) with the positrons;
    the rest of the job (start-up, world and field, writing the chunk file) with the chunks;
  - merge: with the chunks (every chunk file holds views of the same size);
  - every other rule not at all (fits and corrections work on histograms whose size is fixed; the
    field and the beam truth do not depend on the positrons; the correlations have their own size).
"""

from __future__ import annotations

import argparse
import collections
import datetime
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SCALES_WITH_CHUNKS = {"merge"}
CHUNK_LINE = re.compile(r"chunk \d+/\d+: [\d.e+]+ e\+ > 1 GeV in [\d.e+]+ fills, ([\d.]+) s")


def job_times(log_text: str) -> dict[str, list[float]]:
    """{rule: [core seconds of each job]} from a Snakemake log (timestamps at 1 s): wall time times
    the job's threads (the "threads:" line Snakemake prints for a job given more than one)."""
    stamp, rule, start = None, None, {}
    times = collections.defaultdict(list)
    for line in log_text.splitlines():
        if m := re.match(r"\[(\w{3} \w{3} +\d+ [\d:]+ \d{4})\]", line):
            stamp = datetime.datetime.strptime(m.group(1), "%a %b %d %H:%M:%S %Y")
        elif m := re.match(r"(?:local)?rule (\w+):", line):
            rule, job = m.group(1), None
        elif (m := re.match(r"\s+jobid: (\d+)", line)) and rule:
            job = m.group(1)
            start[job] = [rule, stamp, 1]
            rule = None
        elif (m := re.match(r"\s+threads: (\d+)", line)) and job in start:
            start[job][2] = int(m.group(1))
        elif (m := re.match(r"Finished jobid: (\d+)", line)) and m.group(1) in start:
            name, t0, threads = start.pop(m.group(1))
            times[name].append((stamp - t0).total_seconds() * threads)
    return dict(times)


def statistics(workdir: Path, configfiles: list[Path]) -> tuple[float, int]:
    """(positrons, chunks) of a config: config.yaml with the given config files over it."""
    sys.path.insert(0, str(ROOT / "src"))
    from g2chain.config import overlay

    cfg = yaml.safe_load((workdir / "config/config.yaml").read_text())
    for path in configfiles:
        cfg = overlay(cfg, yaml.safe_load(path.read_text()))
    datasets = cfg["datasets"].values()
    return sum(float(d["positrons"]) for d in datasets), sum(int(d["chunks"]) for d in datasets)


def kernel_seconds(workdir: Path) -> float | None:
    """The production kernel's seconds summed over the run's chunk logs (None if there are none)."""
    found = [float(m.group(1)) for log in workdir.glob("logs/*/simulate_chunk_*.log")
             if (m := CHUNK_LINE.search(log.read_text()))]
    return sum(found) if found else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("workdir", nargs="?", type=Path, default=ROOT)
    ap.add_argument("--log", type=Path, help="the run's Snakemake log (default: the newest)")
    ap.add_argument("--configfile", type=Path, nargs="*", default=[], help="the config files the run layered")
    ap.add_argument("--wall-min", type=float, help="the run's measured wall time (min), for the table")
    ap.add_argument("--paper-config", type=Path, default=ROOT / "config/paper.yaml",
                    help="the config of the full statistics (default config/paper.yaml)")
    args = ap.parse_args()
    log = args.log or max((args.workdir / ".snakemake/log").glob("*.snakemake.log"), key=lambda p: p.stat().st_mtime)
    times = job_times(log.read_text())
    if not times:
        sys.exit(f"{log}: no finished jobs in this log")
    n, chunks = statistics(args.workdir, [args.workdir / p if not p.is_absolute() else p for p in args.configfile])
    n_paper, chunks_paper = statistics(ROOT, [args.paper_config])
    per_n, per_chunk = n_paper / n, chunks_paper / chunks
    kernel = kernel_seconds(args.workdir) if "simulate_chunk" in times else None
    print(f"run: {log.name}, {n:.3g} positrons in {chunks} chunks; {args.paper_config.name}: {n_paper:.3g} in "
          f"{chunks_paper} chunks ({per_n:.0f}x the positrons, {per_chunk:.1f}x the chunks)")
    print(f"{'rule':32s} {'jobs':>5s} {'core-h':>8s} {'scales':>12s} {'paper core-h':>13s}")
    total, paper = 0.0, 0.0
    for rule, t in sorted(times.items(), key=lambda kv: -sum(kv[1])):
        hours = sum(t) / 3600
        if rule == "simulate_chunk" and kernel is not None:
            rest = max(hours - kernel / 3600, 0.0)
            scaled, how = kernel / 3600 * per_n + rest * per_chunk, "kernel x N"
        elif rule == "simulate_chunk":  # no chunk logs: all of it with the positrons
            scaled, how = hours * per_n, "x N"
        elif rule in SCALES_WITH_CHUNKS:
            scaled, how = hours * per_chunk, "x chunks"
        else:
            scaled, how = hours, "-"
        total, paper = total + hours, paper + scaled
        print(f"{rule:32s} {len(t):5d} {hours:8.3f} {how:>12s} {scaled:13.2f}")
    if kernel is not None:
        print(f"  (simulate_chunk: kernel {kernel / 3600:.3f} core-h x N, the rest of its jobs "
              f"{max(sum(times['simulate_chunk']) - kernel, 0) / 3600:.3f} core-h x chunks)")
    wall = f", wall {args.wall_min:.1f} min" if args.wall_min else ""
    print(f"{'total':32s} {sum(map(len, times.values())):5d} {total:8.3f} {'':12s} {paper:13.2f}{wall}")


if __name__ == "__main__":
    main()
