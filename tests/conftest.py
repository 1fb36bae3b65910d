"""Shared fixtures: the default config and small productions made straight from the library."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy.optimize import curve_fit

from g2chain.experiment import production as production_kernel
from g2chain.experiment.run_production import cached_muon_field
from g2chain.experiment.world import build_conditions, build_world, dataset_settings
from g2chain.records import experiment_files
from g2chain.records.binning import T_BIN_US
from g2chain.seeds import dataset_key

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"


def copy_workflow(dest: Path) -> Path:
    """The workflow's own files copied to ``dest`` (so a test run never touches the checkout's results)."""
    import shutil

    dest.mkdir(parents=True, exist_ok=True)
    for item in ("workflow", "config", "profiles", "environment.yml"):
        src = ROOT / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / item)
    return dest


# everything `rule all` builds except 35 of the 36 scans, which issue 3's tests cover and which
# would cost CI ~1.5 min of job start-ups
CI_TARGETS = ["experiment", "omega_a_average", "field", "beam_dynamics", "beam_truth_all",
              "results/combined/budget_blinded.md", "results/combined/closure.json",
              "results/combined/paper_comparison.md",
              "results/run2/analysis/omega_a/I-A.scans.json"] + [
    f"results/{ds}/{what}" for ds in ("run2", "run3a", "run3b")
    for what in ("experiment/summary.png", "analysis/omega_a/comparison.png")]


@pytest.fixture(scope="session")
def ci_run(tmp_path_factory) -> Path:
    """A copy of the workflow in which the ci config has run to a_mu and its closure, once per test
    session: the workflow test checks it, the README test runs the README's commands in (a copy
    of) it. Tests must not change it."""
    import subprocess
    import sys

    work = copy_workflow(tmp_path_factory.mktemp("ci_run") / "wf")
    run = subprocess.run([sys.executable, "-m", "snakemake", *CI_TARGETS, "--cores", "2", "--configfile",
                          "config/ci.yaml"], cwd=work, capture_output=True, text=True, timeout=900)
    if run.returncode:
        pytest.fail(f"the ci workflow failed:\n{run.stderr[-3000:]}")
    return work


@pytest.fixture(scope="session")
def base_cfg():
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def produce(cfg, dataset="run2", positrons=3e5, chunk=0, n_chunks=1, seed=None, beam=None, detector=None,
            production=None, **cond_overrides):
    """Simulate one chunk with config overrides; returns (views, conditions)."""
    cfg = copy.deepcopy(cfg)
    for block, upd in (("beam", beam), ("detector", detector), ("production", production)):
        if upd:
            cfg[block].update(upd)
    world = build_world(cfg, dataset)
    cond = build_conditions(cfg, dataset, world)._replace(**cond_overrides)
    seed = cfg["seed"] if seed is None else seed
    views = production_kernel.simulate_chunk(cond, cached_muon_field(cfg, dataset, world), positrons, seed,
                                             dataset_key(dataset), chunk, n_chunks,
                                             dataset_settings(cfg, dataset)["detector"])
    return views, cond


def counter(views, name):
    return views["counters"][experiment_files.COUNTER_NAMES.index(name)]


def five_parameter(t, n0, tau, a, omega, phi):
    """N0 exp(-t/tau) (1 + A cos(omega t - phi)): the five-parameter wiggle."""
    return n0 * np.exp(-t / tau) * (1.0 + a * np.cos(omega * t - phi))


def fit_wiggle(counts, window=(30.1, 660.0), omega0=1.4394, tau0=64.4):
    """Five-parameter chi^2 fit of a 149.2 ns histogram; returns (params, errors, t, residuals).

    Bin variances come from the model (Pearson chi^2, iterated): with data variances (Neyman) the
    late, low-count bins pull the normalisation down and bias tau low by percents.
    """
    t = (np.arange(counts.size) + 0.5) * T_BIN_US
    sel = (t > window[0]) & (t < window[1])
    t, y = t[sel], counts[sel].astype(float)
    n0 = y[0] * np.exp(t[0] / tau0)
    # phase seeded by a linear projection at the nominal frequency
    c = np.sum((y - y.mean()) * np.cos(omega0 * t) * np.exp(t / tau0))
    s = np.sum((y - y.mean()) * np.sin(omega0 * t) * np.exp(t / tau0))
    popt = [n0, tau0, 0.3, omega0, np.arctan2(s, c)]
    sig = np.sqrt(np.maximum(y, 1.0))
    for _ in range(3):
        popt, pcov = curve_fit(five_parameter, t, y, p0=popt, sigma=sig, absolute_sigma=True, maxfev=20000)
        sig = np.sqrt(np.maximum(five_parameter(t, *popt), 1e-3))
    return popt, np.sqrt(np.diag(pcov)), t, (y - five_parameter(t, *popt)) / sig
