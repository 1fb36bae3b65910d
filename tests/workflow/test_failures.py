"""A job that fails on a bad file says so in one line, in its log and on the terminal, and leaves
the other rules' results alone (issue 20)."""

import shutil
import subprocess
import sys

import pytest


@pytest.mark.workflow
def test_a_truncated_tracker_file_stops_the_beam_dynamics_job_with_one_line(ci_run, tmp_path):
    work = tmp_path / "wf"
    shutil.copytree(ci_run, work, symlinks=True)
    trackers = work / "results/run2/experiment/trackers.h5"
    trackers.write_bytes(trackers.read_bytes()[:4096])
    other = (work / "results/run3a/analysis/beam_dynamics/corrections.json").read_bytes()
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1", "--configfile", "config/ci.yaml", "-f",
                           "results/run2/analysis/beam_dynamics/corrections.json"], cwd=work, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode != 0
    log = (work / "logs/run2/beam_dynamics.log").read_text().splitlines()
    assert len(log) == 1 and log[0].startswith(
        "run2 beam dynamics: DataFileError: results/run2/experiment/trackers.h5: not a readable HDF5 file"), log
    assert log[0] in proc.stderr  # the same line on the terminal
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (work / "results/run2/analysis/beam_dynamics/corrections.json").exists()
    assert (work / "results/run3a/analysis/beam_dynamics/corrections.json").read_bytes() == other
