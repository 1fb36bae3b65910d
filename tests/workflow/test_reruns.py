"""Nothing stale: on a copy of the finished ci run, a change plans the rules that read it and no
other. Each case is a dry run (`snakemake -n`) whose planned rules are compared with the rules
that read the changed key or run the changed code."""

import os
import re
import shutil
import subprocess
import sys

import pytest

from ..conftest import CI_TARGETS, ROOT

# the rules that only collect targets (no output of their own)
TARGETS = {"all", "experiment", "omega_a", "correlations", "field", "beam_dynamics", "beam_truth_all"}
# what follows the combination's inputs: the budget, a_mu, the closure and the paper comparison
COMBINATION = {"combine", "unblind", "closure", "paper_comparison"}
# everything downstream of the omega_a average, which every omega_a change reaches
AFTER_AVERAGE = {"omega_a_dataset_average", "omega_a_average", *COMBINATION}
# a fresh production reruns every rule but the two correlation steps (their study has its own world)
PRODUCTION_ON = {"field_world", "measure_field", "world", "simulate_chunk", "merge", "beam_truth", "summary_plot",
                 "omega_a_dataset_fits", "omega_a_dataset_scans", "relative_unblind", "field_analysis",
                 "beam_dynamics_analysis", *AFTER_AVERAGE}
# (the study's chunk files are temporary: whatever reruns the jackknife samples reproduces them)
TRIALS = {"omega_a_correlation_chunks", "omega_a_correlation_total", "omega_a_correlation_trials",
          "omega_a_correlations"}
# the blinds and the truth make a new world but leave the field world as it is
NEW_WORLD = PRODUCTION_ON - {"field_world", "measure_field"}
# the rules whose scripts run omega_a/run_omega_a.py, which needs omega_a/average.py, and what follows
OMEGA_A_CODE = {"omega_a_dataset_fits", "omega_a_dataset_scans", "relative_unblind", *TRIALS, *AFTER_AVERAGE}


@pytest.fixture(scope="module")
def finished(ci_run, tmp_path_factory):
    """A copy of the finished ci run with its own copy of the library (so that a test may edit the
    code), which plans nothing as it is."""
    work = tmp_path_factory.mktemp("reruns") / "wf"
    shutil.copytree(ci_run, work, symlinks=True)
    shutil.copytree(ROOT / "src", work / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    assert planned(work) == set()
    return work


def planned(work, *args) -> set:
    """The rules a dry run plans on the ci config with ``args``, the library taken from work/src."""
    run = subprocess.run([sys.executable, "-m", "snakemake", "-n", *CI_TARGETS, "--configfile", "config/ci.yaml",
                          *args], cwd=work, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "PYTHONPATH": str(work / "src")})
    assert run.returncode == 0, run.stderr[-2000:]
    if "Nothing to be done" in run.stdout + run.stderr:
        return set()
    table = (run.stdout + run.stderr).split("Job stats:")[1]
    return {m.group(1) for m in re.finditer(r"^(\w+)\s+\d+$", table, re.M)} - {"total"} - TARGETS


@pytest.mark.workflow
@pytest.mark.parametrize("change, expected", [
    # the three stale cases of issue 20
    ("omega_a_average={analyses: [I-A]}", AFTER_AVERAGE),
    # (the scans and the relative unblinding read the fit records: they follow them)
    ("omega_a_systematics={slow_term_step: 5.0e-3}", {"omega_a_dataset_fits", "omega_a_dataset_scans",
                                                      "relative_unblind", *AFTER_AVERAGE}),
    ("omega_a_correlations={seed_offset: 7000}", TRIALS | AFTER_AVERAGE),
    # the seed makes new worlds: the production and the correlation study
    ("seed=7", PRODUCTION_ON | TRIALS),
    # every top-level block of the physics: the blinds are not the study's, a_mu is (randomized)
    ("blinding={hardware_phrase: another phrase}", NEW_WORLD),
    ("truth={a_mu: 1.1659e-3}", NEW_WORLD | TRIALS),
    # the beam, detector and production leave the magnet alone: the field world and its
    # measurements stay (the muons sample the field in the production)
    ("beam={scraping_time_us: 6.5}", NEW_WORLD | TRIALS),
    ("detector={energy_resolution: 0.07}", NEW_WORLD | TRIALS),
    ("production={intensity_rms: 0.12}", NEW_WORLD | TRIALS),
    # one dataset (not the study's): its chain only (the ci targets scan run2 alone), with its
    # field measurement: the kick sets the kicker's eddy field the magnetometer traces
    ("datasets={run3b: {kicker_kV: 150}}", (NEW_WORLD - {"omega_a_dataset_scans"}) | {"measure_field"}),
    ("field={daily_cycle_ppm: 0.5}", PRODUCTION_ON | TRIALS),  # a world key
    # a measurement key: the field measurements and analysis only (README, "Change a condition")
    ("field={trolley_interval_days: 6}", {"measure_field", "field_analysis", *COMBINATION}),
    # an analysis key of one branch
    ("beam_dynamics={truth_muons: 100000}", {"beam_truth", "closure"}),
    # the analyses' detector model: the two analyses that read it, never the world or the production
    ("detector_model={phase_radial_mrad: 9.0}", {"beam_dynamics_analysis", "field_analysis", *COMBINATION}),
    # the analysis's model of the transients: the field analysis only; the world's extent: the production
    ("field={transient_model: {kicker: {coverage: 0.09, coverage_err: 0.02}, esq: {coverage: 0.433, "
     "coverage_err: 0.23}}}", {"field_analysis", *COMBINATION}),
    ("combination={constants: scipy}", COMBINATION),
])
def test_a_config_change_reruns_what_reads_it(finished, change, expected):
    assert planned(finished, "--config", change) == expected


@pytest.mark.workflow
@pytest.mark.parametrize("module, expected", [
    ("omega_a/average.py", OMEGA_A_CODE),  # the omega_a rules and what follows, not the production
    ("experiment/beam.py", NEW_WORLD | TRIALS),  # the injection: not the magnet
])
def test_a_code_change_reruns_the_rules_that_run_it(finished, module, expected):
    source = finished / "src" / "g2chain" / module
    text = source.read_text()
    try:
        source.write_text(text + "\n# a change of the code\n")
        assert planned(finished) == expected
    finally:
        source.write_text(text)
    assert planned(finished) == set()
