"""Where the ci workflow's time goes: the whole run to a_mu and its closure, then the pieces timed
in-process on its outputs (a dataset's omega_a fits with their systematic tables, one beam-dynamics
analysis, with the C_e methods apart), and the fits as the one Snakemake job that makes them.
The target (issue 23) is 3 min on 2 cores.

    python benchmarks/ci_workflow.py            # ~6 min on 2 cores
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from conftest import copy_workflow  # noqa: E402


def _cfg(work: Path) -> dict:
    from g2chain.config import overlay

    return overlay(yaml.safe_load((work / "config/config.yaml").read_text()),
                   yaml.safe_load((work / "config/ci.yaml").read_text()))


def _snakemake(work: Path, *args) -> float:
    t = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "snakemake", *args, "--configfile", "config/ci.yaml", "-q"],
                         cwd=work, capture_output=True, text=True)
    if run.returncode:
        sys.exit(run.stderr[-3000:])
    return time.perf_counter() - t


def main():
    from g2chain.beam_dynamics import efield
    from g2chain.beam_dynamics.run_beam_dynamics import analyse_beam_dynamics, read_fast_rotation, read_trackers
    from g2chain.omega_a.groups import analysis_names, load_groups
    from g2chain.omega_a.run_omega_a import GROUPS_SCHEMA, run_analysis_and_systematics

    with tempfile.TemporaryDirectory() as tmp:
        work = copy_workflow(Path(tmp) / "wf")
        total = _snakemake(work, "results/combined/closure.json", "results/combined/budget_blinded.md",
                           "--cores", "2")
        print(f"ci workflow to a_mu and closure, 2 cores: {total / 60:.2f} min (target 3 min)")
        cfg = _cfg(work)
        exp = work / "results/run2/experiment"
        groups = work / "config/groups.yaml"
        out = Path(tmp)
        analyses = analysis_names(load_groups(groups, GROUPS_SCHEMA))
        times = {}
        for name in analyses:
            t = time.perf_counter()
            run_analysis_and_systematics(cfg, "run2", name, exp / "calorimeters.h5", exp / "lost_muons.h5", groups,
                                         out / "f.json", out / "s.json")
            times[name] = time.perf_counter() - t
        serial = sum(times.values())
        print(f"omega_a fits with systematic tables, run2: {len(analyses)} analyses {serial:.1f} s in-process "
              f"(I-A {times['I-A']:.2f} s, III-RA {times['III-RA']:.2f} s; figures not included)")
        for cores in (1, 2):
            job = _snakemake(work, "results/run2/analysis/omega_a/I-A.json", "--cores", str(cores), "--forcerun",
                             "omega_a_dataset_fits")
            print(f"  the dataset's omega_a_dataset_fits job on {cores} core(s), with its figures and the Snakemake "
                  f"DAG: {job:.1f} s ({job * cores / len(analyses):.2f} core-s an analysis)")
        fr, tr = read_fast_rotation(exp / "calorimeters.h5"), read_trackers(exp / "trackers.h5")
        t = time.perf_counter()
        ce = efield.efield_analysis(*fr, float(cfg["datasets"]["run2"]["field_index"]), cfg["beam_dynamics"]["efield"])
        t_ce = time.perf_counter() - t
        t = time.perf_counter()
        analyse_beam_dynamics(cfg, "run2", fr, tr)
        t_bd = time.perf_counter() - t
        print(f"beam dynamics (run2): {t_bd:.1f} s in-process, of which the fast-rotation C_e {t_ce:.1f} s "
              f"(chi^2 and Fourier; independent of the statistics); chi^2 cells {ce.chi2_fit['rho'].shape}")


if __name__ == "__main__":
    main()
