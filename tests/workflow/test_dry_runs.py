"""Snakemake dry runs in the checkout and in a copy: a bad config or an unknown analysis stops the
plan with one line, and the paper config plans every chunk of Table I."""

import subprocess
import sys

import pytest
import yaml

from ..conftest import ROOT, copy_workflow


def test_snakemake_stops_before_any_job_with_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"datasets": {"run2": {"positrons": -1}}}))
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--cores", "1", "--configfile", str(bad)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode != 0
    lines = [ln for ln in proc.stderr.splitlines() if "config error" in ln]
    assert lines == ["config error: datasets.run2.positrons: -1 is less than or equal to the minimum of 0"]
    assert "Job stats" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("analysis, message", [
    ("IX-T", "analysis 'IX-T': unknown group 'IX' (groups: I, II, III, IV, V, VI, VII)"),
    ("I-Q", "analysis 'I-Q': group I has no method 'Q' (methods: T, A)"),
])
def test_unknown_analysis_target_names_it(analysis, message):
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--cores", "1", f"results/run2/analysis/omega_a/{analysis}.json"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr  # snakemake prints the exception on stdout


def test_paper_config_plans_every_chunk(tmp_path):
    """`snakemake -n --configfile config/paper.yaml` plans Table I's statistics in >= 200 chunks."""
    paper = yaml.safe_load((ROOT / "config" / "paper.yaml").read_text())
    table_i = {"run2": 24.7e9, "run3a": 33.1e9, "run3b": 11.9e9}
    for ds, n in table_i.items():
        assert paper["datasets"][ds]["positrons"] == pytest.approx(n, rel=0.01)
        assert paper["datasets"][ds]["chunks"] >= 200
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--cores", "2", "--configfile", "config/paper.yaml"],
        cwd=copy_workflow(tmp_path / "wf"), capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    counts = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    assert counts.get("simulate_chunk") == sum(paper["datasets"][ds]["chunks"] for ds in table_i), counts
