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


@pytest.mark.workflow
def test_a_negative_bin_stops_the_dataset_fits_with_one_line_per_analysis(ci_run, tmp_path):
    """The dataset's analyses run in one job (omega_a_dataset_fits): those that read the bad view
    each name it in one line, in their log and on the terminal; the job writes no result of that
    dataset and leaves the others' alone."""
    import h5py

    work = tmp_path / "wf"
    shutil.copytree(ci_run, work, symlinks=True)
    calorimeters = work / "results/run2/experiment/calorimeters.h5"
    calorimeters.unlink()  # a copy of its own, not the finished run's file
    shutil.copy(ci_run / "results/run2/experiment/calorimeters.h5", calorimeters)
    with h5py.File(calorimeters, "r+") as f:
        f["local/sum_fine"][3, 1000] = -7
    other = (work / "results/run3a/analysis/omega_a/I-T.json").read_bytes()
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", "--configfile", "config/ci.yaml", "-f",
                           "results/run2/analysis/omega_a/I-T.json"], cwd=work, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode != 0
    log = (work / "logs/run2/omega_a/I-T.log").read_text().splitlines()
    assert log == ["run2 I-T: HistogramError: local/sum_fine: 1 bins are negative"], log
    assert log[0] in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (work / "results/run2/analysis/omega_a/I-T.json").exists()
    assert not (work / "results/run2/analysis/omega_a/VII-Q.json").exists()  # the job's other results
    assert (work / "results/run3a/analysis/omega_a/I-T.json").read_bytes() == other
