"""The ci config through SLURM (profiles/slurm) gives the local run's budget, number for number.

Opt-in, against a running cluster with a partition "main" (the one-node cluster on localhost of
tests/slurm/start_local_slurm.sh):

    bash tests/slurm/start_local_slurm.sh
    python -m pytest -m slurm tests/workflow/test_slurm.py -v -s

Needs snakemake-executor-plugin-slurm. The same seeds and code on both sides: every number of the
budget must be equal exactly, not within a tolerance; so must every other result the two runs make
(only the jobs' own wall-clock times, ``elapsed_s``, differ).
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..conftest import ROOT, copy_workflow

pytestmark = pytest.mark.slurm

PARTITION = "main"  # default-resources.slurm_partition of profiles/slurm
SITE_PROFILE = ROOT / "tests" / "slurm" / "localhost"  # squeue for job states: the test cluster has no sacct
TARGETS = ["results/combined/budget.csv", "results/combined/budget_blinded.csv"]
TIMING_KEYS = {"elapsed_s"}  # wall-clock seconds of a job, recorded in some JSON results
TIMEOUT_S = 3600


def _cluster_problem() -> str | None:
    """Why the SLURM run cannot happen here, or None."""
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        return "snakemake-executor-plugin-slurm is not installed (pip install snakemake-executor-plugin-slurm)"
    if shutil.which("sinfo") is None or shutil.which("sbatch") is None:
        return "no SLURM client on PATH (sinfo, sbatch): run bash tests/slurm/start_local_slurm.sh"
    try:
        info = subprocess.run(["sinfo", "-h", "-p", PARTITION, "-o", "%T"], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "sinfo does not answer within 30 s (slurmctld down?): run bash tests/slurm/start_local_slurm.sh"
    if info.returncode:
        return f"sinfo fails ({info.stderr.strip()}): run bash tests/slurm/start_local_slurm.sh"
    states = info.stdout.split()
    if not states:
        return f"the cluster has no partition {PARTITION!r}, which profiles/slurm submits to"
    if not any(s.rstrip("*~#$@+^-") in ("idle", "mixed", "allocated", "completing") for s in states):
        return f"no node of partition {PARTITION!r} is up (states: {', '.join(states)})"
    return None


def _snakemake(work: Path, src: Path, *args: str) -> tuple[float, subprocess.CompletedProcess]:
    """Snakemake on the ci config in ``work``, importing g2chain from ``src`` (sbatch --export=ALL
    hands PYTHONPATH to the SLURM jobs)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(src), os.environ.get("PYTHONPATH")]))}
    t = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "snakemake", *TARGETS, *args, "--configfile", "config/ci.yaml"],
                         cwd=work, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    return time.perf_counter() - t, run


def _numbers(path: Path):
    """A CSV as rows of cells, numbers as floats; a JSON record as parsed, timings left out."""
    if path.suffix == ".json":
        def drop(x):
            if isinstance(x, dict):
                return {k: drop(v) for k, v in x.items() if k not in TIMING_KEYS}
            return [drop(v) for v in x] if isinstance(x, list) else x

        return drop(json.loads(path.read_text()))

    def cell(s):
        try:
            return float(s)
        except ValueError:
            return s

    return [[cell(c) for c in row] for row in csv.reader(io.StringIO(path.read_text()))]


def _differences(a, b, where=""):
    """Where two parsed records differ (exact comparison of every number)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{where}: keys {sorted(set(a) ^ set(b))}"] if set(a) != set(b) else []
        return out + [d for k in sorted(set(a) & set(b)) for d in _differences(a[k], b[k], f"{where}/{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} vs {len(b)} entries"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in _differences(x, y, f"{where}[{i}]")]
    return [] if a == b else [f"{where}: local {a!r}, slurm {b!r}"]


def test_ci_budget_through_slurm_equals_local(tmp_path):
    problem = _cluster_problem()
    if problem:
        pytest.skip(problem)
    # one snapshot of the workflow and the library for both runs (the editable install would follow edits
    # made to src/ between them); the library finds workflow/schemas beside its src/, numba's caches come along
    snapshot = copy_workflow(tmp_path / "snapshot")
    src = snapshot / "src"
    shutil.copytree(ROOT / "src", src, ignore=shutil.ignore_patterns("*.egg-info"))
    local, slurm = (shutil.copytree(snapshot, tmp_path / name, ignore=shutil.ignore_patterns("src"))
                    for name in ("local", "slurm"))

    t_local, run = _snakemake(local, src, "--cores", "2")
    assert run.returncode == 0, run.stderr[-3000:]
    t_slurm, run = _snakemake(slurm, src, "--profile", str(SITE_PROFILE), "--workflow-profile", "profiles/slurm")
    assert run.returncode == 0, run.stderr[-5000:]
    print(f"\nci config to the budget: local --cores 2 {t_local / 60:.2f} min, through SLURM {t_slurm / 60:.2f} min")

    # the jobs did go through SLURM: one sbatch per job of the plan, none run in the submitting process
    submitted = run.stderr.count("has been submitted with SLURM jobid")
    planned = int(re.search(r"^total\s+(\d+)$", run.stderr, re.M).group(1))  # the first "Job stats" table
    assert submitted == planned > 80, (submitted, planned)

    # the budget, number for number and byte for byte
    for name in TARGETS:
        bad = _differences(_numbers(local / name), _numbers(slurm / name), name)
        assert not bad, "SLURM budget differs from the local one:\n" + "\n".join(bad[:50])
        assert (local / name).read_bytes() == (slurm / name).read_bytes(), name
    # and everything else both runs made: JSON records equal but for the jobs' wall-clock times, the
    # HDF5 files, tables and texts byte for byte (plots are not compared)
    made = sorted(p.relative_to(local) for p in (local / "results").rglob("*") if p.is_file())
    assert made == sorted(p.relative_to(slurm) for p in (slurm / "results").rglob("*") if p.is_file())
    bad = []
    for name in made:
        if name.suffix == ".json":
            bad += _differences(_numbers(local / name), _numbers(slurm / name), str(name))
        elif name.suffix in (".h5", ".csv", ".md", ".txt", ".html") and (local / name).read_bytes() != (
                slurm / name).read_bytes():
            bad.append(f"{name}: bytes differ")
    assert not bad, "SLURM run differs from the local run:\n" + "\n".join(bad[:50])
