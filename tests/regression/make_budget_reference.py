"""Regenerate tests/regression/budget_ci.csv: the ci config's budget with a tolerance per entry
from the seed-to-seed spread.

    python tests/regression/make_budget_reference.py --seeds 1 2 3 4 5

runs the ci workflow (config/ci.yaml) once with the config's own seed (the reference values: the
CI rerun is bit-identical) and once per extra seed in scratch copies of the workflow, and writes
each entry's tolerance as FACTOR x the standard deviation over the extra seeds (floor FLOOR_PPB,
for entries that do not vary with the seed, such as the constants). A deliberate change of the
budget reruns this in the same commit, with the reason in the commit message.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from conftest import copy_workflow  # noqa: E402

from g2chain.combine.budget import budget_values  # noqa: E402

FACTOR = 4.0
FLOOR_PPB = 0.05
OUT = ROOT / "tests" / "regression" / "budget_ci.csv"


def ci_budget(seed: int | None, scratch: Path) -> dict:
    work = copy_workflow(scratch / f"seed_{seed}")
    cmd = [sys.executable, "-m", "snakemake", "results/combined/budget.csv", "--cores", "2", "--configfile",
           "config/ci.yaml", "-q"]
    if seed is not None:
        cmd += ["--config", f"seed={seed}"]
    run = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    if run.returncode:
        sys.exit(f"seed {seed}: workflow failed\n{run.stderr[-3000:]}")
    return budget_values((work / "results/combined/budget.csv").read_text())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", required=True, help="extra seeds for the spread")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ref = ci_budget(None, Path(tmp))
        spread = [ci_budget(s, Path(tmp)) for s in args.seeds]
    lines = ["# The ci config's budget (ppb) for the CI regression test (tests/workflow/test_ci_workflow.py).",
             f"# Made by tests/regression/make_budget_reference.py --seeds {' '.join(map(str, args.seeds))}:",
             f"# value: the config's own seed; tolerance: {FACTOR:g} x the standard deviation over the",
             f"# {len(args.seeds)} extra seeds (floor {FLOOR_PPB} ppb); seed_std: that standard deviation.",
             "quantity,column,value_ppb,tolerance_ppb,seed_std_ppb"]
    for key, v in ref.items():
        s = np.array([b.get(key, np.nan) for b in spread])
        std = float(np.nanstd(s, ddof=1)) if np.isfinite(s).sum() > 1 else 0.0
        lines.append(f"{key[0]},{key[1]},{v:.3f},{max(FACTOR * std, FLOOR_PPB):.3f},{std:.3f}")
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT} ({len(ref)} entries)")


if __name__ == "__main__":
    main()
