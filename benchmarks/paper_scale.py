"""Core-hours of a finished workflow run, by rule, and their extrapolation to the paper's statistics.

    python benchmarks/paper_scale.py [WORKDIR] [--log .snakemake/log/<run>.snakemake.log] [--configfile ...]

Reads the Snakemake log of the run (the newest under WORKDIR/.snakemake/log by default) for each
job's wall time (one core per job: every rule here is single-threaded), groups them by rule and
scales each rule to the full Run-2/3 statistics of Table I (69.7e9 positrons, counted as the run's
config counts them: config/paper.yaml counts Table I's way, 1-3 GeV after 30 us) by how its
work grows: the production (simulate_chunk) and the merge of its chunks with the positrons, every
other rule not at all (fits and corrections work on histograms whose size is fixed; the field and
the beam truth do not depend on the positrons; the correlation trials have their own fixed size).
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
PAPER_POSITRONS = 69.7e9  # PRD110 Table I: 24.7 + 33.1 + 11.9 e9 positrons in the final fits
SCALES_WITH_POSITRONS = {"simulate_chunk", "merge"}


def job_times(log_text: str) -> dict[str, list[float]]:
    """{rule: [wall seconds of each job]} from a Snakemake log (timestamps at 1 s)."""
    stamp, rule, start = None, None, {}
    times = collections.defaultdict(list)
    for line in log_text.splitlines():
        if m := re.match(r"\[(\w{3} \w{3} +\d+ [\d:]+ \d{4})\]", line):
            stamp = datetime.datetime.strptime(m.group(1), "%a %b %d %H:%M:%S %Y")
        elif m := re.match(r"(?:local)?rule (\w+):", line):
            rule = m.group(1)
        elif (m := re.match(r"\s+jobid: (\d+)", line)) and rule:
            start[m.group(1)] = (rule, stamp)
            rule = None
        elif (m := re.match(r"Finished jobid: (\d+)", line)) and m.group(1) in start:
            name, t0 = start.pop(m.group(1))
            times[name].append((stamp - t0).total_seconds())
    return dict(times)


def run_positrons(workdir: Path, configfiles: list[Path]) -> float:
    """Positrons of the run's config (config.yaml with the given config files over it)."""
    sys.path.insert(0, str(ROOT / "src"))
    from g2chain.config import overlay

    cfg = yaml.safe_load((workdir / "config/config.yaml").read_text())
    for path in configfiles:
        cfg = overlay(cfg, yaml.safe_load(path.read_text()))
    return sum(float(d["positrons"]) for d in cfg["datasets"].values())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("workdir", nargs="?", type=Path, default=ROOT)
    ap.add_argument("--log", type=Path, help="the run's Snakemake log (default: the newest)")
    ap.add_argument("--configfile", type=Path, nargs="*", default=[], help="the config files the run layered")
    ap.add_argument("--wall-min", type=float, help="the run's measured wall time (min), for the table")
    args = ap.parse_args()
    log = args.log or max((args.workdir / ".snakemake/log").glob("*.snakemake.log"), key=lambda p: p.stat().st_mtime)
    times = job_times(log.read_text())
    if not times:
        sys.exit(f"{log}: no finished jobs in this log")
    n = run_positrons(args.workdir, [args.workdir / p if not p.is_absolute() else p for p in args.configfile])
    factor = PAPER_POSITRONS / n
    print(f"run: {log.name}, {n:.3g} positrons; the paper's statistics are {factor:.0f}x that")
    print(f"{'rule':32s} {'jobs':>5s} {'core-h':>8s} {'scales':>8s} {'paper core-h':>13s}")
    total, paper = 0.0, 0.0
    for rule, t in sorted(times.items(), key=lambda kv: -sum(kv[1])):
        hours = sum(t) / 3600
        scaled = hours * (factor if rule in SCALES_WITH_POSITRONS else 1.0)
        total, paper = total + hours, paper + scaled
        print(f"{rule:32s} {len(t):5d} {hours:8.3f} {'x N' if rule in SCALES_WITH_POSITRONS else '-':>8s} "
              f"{scaled:13.2f}")
    wall = f", wall {args.wall_min:.1f} min" if args.wall_min else ""
    print(f"{'total':32s} {sum(map(len, times.values())):5d} {total:8.3f} {'':8s} {paper:13.2f}{wall}")


if __name__ == "__main__":
    main()
