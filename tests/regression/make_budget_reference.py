"""The ci chain over seeds: the budget regression reference and the closure coverage table.

    python tests/regression/make_budget_reference.py --seeds 11 12 13 14 15 16 17 18

runs the ci workflow (config/ci.yaml) to its budget and closure once with the config's own seed
(the reference values: the CI rerun is bit-identical) and once per extra seed, in scratch copies
of the workflow, then

    python tests/regression/make_budget_reference.py --seeds 11 12 ... --draw-worlds

does the same with each extra seed's world drawing its sealed deviations (detector maps, tracker
response, transient coverages, dphi0/ddelta) from the analysis's stated uncertainties
(``studies.world_draws``): the coverage of the systematic errors too. Such a sweep writes only
the coverage table (coverage_ci_drawn.md), never the budget reference. ``--keep DIR`` keeps
each seed's closure and budget; ``--add-kept DIR`` adds such a folder's seeds (from the same code)
to the tables, so that a sweep can be extended by more seeds without rerunning the first ones.

* prints the coverage table: per closure stage, the mean and standard deviation of the pulls
  (value - truth) / sigma over the extra seeds' datasets (issue 21: each std within 0.7-1.4);
  with ``--write`` also to tests/regression/coverage_ci.md;
* with ``--write``, writes tests/regression/budget_ci.csv: each entry's tolerance is FACTOR x its
  standard deviation over the extra seeds (floor FLOOR_PPB for entries that do not vary with the
  seed, such as the constants). An entry is guarded only if that tolerance is below half its
  value, so that a sign flip or a doubling fails; the others (noise at ci statistics) are listed
  as unguarded. A deliberate change of the budget reruns this in the same commit, with the
  reason in the commit message.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from conftest import copy_workflow  # noqa: E402

from g2chain.combine.budget import UNGUARDED, budget_values  # noqa: E402
from g2chain.studies.world_draws import drawn_world  # noqa: E402

FACTOR = 4.0
FLOOR_PPB = 0.05
OUT = ROOT / "tests" / "regression" / "budget_ci.csv"
COVERAGE = ROOT / "tests" / "regression" / "coverage_ci.md"
COVERAGE_DRAWN = ROOT / "tests" / "regression" / "coverage_ci_drawn.md"
TARGETS = ["results/combined/budget.csv", "results/combined/closure.json"]


def ci_chain(seed: int | None, scratch: Path, draw_world: bool = False, keep: Path | None = None
             ) -> tuple[dict, dict] | None:
    """(budget values, closure record) of the ci chain with ``seed`` (None: the config's), its
    world's sealed deviations drawn (``studies.world_draws``) if ``draw_world``; None if an extra
    seed's chain fails (its last error lines are printed)."""
    work = copy_workflow(scratch / f"seed_{seed}")
    configs = ["config/ci.yaml"]
    if draw_world:
        cfg = yaml.safe_load((work / "config/config.yaml").read_text())
        (work / "config/drawn_world.yaml").write_text(yaml.safe_dump(drawn_world(cfg, seed)))
        configs.append("config/drawn_world.yaml")
    cmd = [sys.executable, "-m", "snakemake", *TARGETS, "--cores", "2", "--configfile", *configs, "-q"]
    if seed is not None:
        cmd += ["--config", f"seed={seed}"]
    run = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    if run.returncode:
        errors = [ln for ln in run.stderr.splitlines() if "Error" in ln or ": " in ln and "run" in ln][-3:]
        if seed is None:
            sys.exit("the config's own seed: workflow failed\n" + run.stderr[-3000:])
        print(f"seed {seed}: the chain failed, left out: " + " | ".join(errors), flush=True)
        return None
    closure = json.loads((work / "results/combined/closure.json").read_text())
    if keep is not None:  # the seed's closure and budget, to look at the pulls' values and sigmas later
        keep.mkdir(parents=True, exist_ok=True)
        for name in ("closure.json", "budget.csv"):
            (keep / f"seed_{seed}_{name}").write_text((work / "results/combined" / name).read_text())
    return budget_values((work / "results/combined/budget.csv").read_text()), closure


def coverage_table(closures: list[dict], seeds, drawn: bool = False) -> str:
    """Markdown: per stage, the number of pulls, their mean and standard deviation."""
    pulls: dict = {}
    for c in closures:
        for stages in c["datasets"].values():
            for stage, e in stages.items():
                pulls.setdefault(stage, []).append(e["pull"])
        for stage in ("a_mu", "R_mu"):
            pulls.setdefault(f"{stage} (combined)", []).append(c["combined"][stage]["pull"])
    worlds = " (each seed's world drawn from the analysis's stated uncertainties: --draw-worlds)" if drawn else ""
    lines = [f"Closure pulls of the ci chain over seeds {' '.join(map(str, seeds))}{worlds} "
             "(tests/regression/make_budget_reference.py)", "",
             "| stage | pulls | mean | std | max abs |", "|---|---|---|---|---|"]
    for stage, p in pulls.items():
        p = np.asarray(p)
        lines.append(f"| {stage} | {p.size} | {p.mean():+.2f} | {p.std(ddof=1):.2f} | {np.abs(p).max():.2f} |")
    return "\n".join(lines) + "\n"


def reference_csv(ref: dict, spread: list[dict], seeds) -> str:
    lines = ["# The ci config's budget (ppb) for the CI regression test (tests/workflow/test_ci_workflow.py).",
             f"# Made by tests/regression/make_budget_reference.py --seeds {' '.join(map(str, seeds))} --write:",
             f"# value: the config's own seed; tolerance: {FACTOR:g} x the standard deviation over the",
             f"# {len(seeds)} extra seeds (floor {FLOOR_PPB} ppb); seed_std: that standard deviation. An entry",
             "# is kept only if its tolerance is below half its value (a sign flip or a doubling fails);",
             "# the entries too noisy at ci statistics for that are listed as unguarded."]
    rows, unguarded = [], []
    for key, v in ref.items():
        s = np.array([b.get(key, np.nan) for b in spread])
        std = float(np.nanstd(s, ddof=1)) if np.isfinite(s).sum() > 1 else 0.0
        tol = max(FACTOR * std, FLOOR_PPB)
        if tol < 0.5 * abs(v) or (std == 0.0 and abs(v) < FLOOR_PPB):
            rows.append(f"{key[0]},{key[1]},{v:.3f},{tol:.3f},{std:.3f}")
        else:
            unguarded.append(f"{UNGUARDED}{key[0]} / {key[1]}")
    return "\n".join(lines + unguarded + ["quantity,column,value_ppb,tolerance_ppb,seed_std_ppb"] + rows) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", required=True, help="extra seeds (>= 8 for the coverage)")
    ap.add_argument("--write", action="store_true", help="write budget_ci.csv and coverage_ci.md "
                    "(with --draw-worlds: coverage_ci_drawn.md only)")
    ap.add_argument("--draw-worlds", action="store_true", help="draw each extra seed's sealed deviations")
    ap.add_argument("--keep", type=Path, help="copy each seed's closure.json and budget.csv into this folder")
    ap.add_argument("--add-kept", type=Path, help="a folder an earlier sweep of the same code wrote with --keep: "
                    "its seeds join the tables (seeds run now take precedence)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ref = None if args.draw_worlds else ci_chain(None, Path(tmp))[0]
        runs, used = [], []
        for s in args.seeds:
            out = ci_chain(s, Path(tmp), args.draw_worlds, args.keep)
            if out is not None:
                runs.append(out)
                used.append(s)
                print(f"seed {s} done", flush=True)
    if len(used) < len(args.seeds):
        print(f"{len(args.seeds) - len(used)} seed(s) failed: the run uses seeds {used}")
    if args.add_kept is not None:
        for path in args.add_kept.glob("seed_*_closure.json"):
            seed = int(path.name.split("_")[1])
            if seed not in used:
                budget = budget_values((args.add_kept / f"seed_{seed}_budget.csv").read_text())
                runs.append((budget, json.loads(path.read_text())))
                used.append(seed)
        order = np.argsort(used)
        runs, used = [runs[i] for i in order], [used[i] for i in order]
    table = coverage_table([c for _, c in runs], used, args.draw_worlds)
    print(table)
    if args.write and args.draw_worlds:
        COVERAGE_DRAWN.write_text(table)
        print(f"wrote {COVERAGE_DRAWN}")
    elif args.write:
        OUT.write_text(reference_csv(ref, [b for b, _ in runs], used))
        COVERAGE.write_text(table)
        print(f"wrote {OUT} and {COVERAGE}")


if __name__ == "__main__":
    main()
