"""Mutation tests of the closures (issue 21): a realistic analysis mistake, run on the shared ci
world where its effect is resolved, must pull its stage more than 3 sigma off the sealed truth,
while the correct analysis on the same world stays within 3. (B_K and B_Q carry the 31 % and 52 %
errors of the transients' azimuthal model, so only a mistake of their size or more is resolved:
a flipped sign.)

Each case reruns one analysis step of run2 in this process (so that the test may patch it),
writes its record beside the finished run's, and takes the stage's pull with the closure's own
code (``truth.closure.dataset_stages``) against the production's truth."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml

from g2chain.beam_dynamics import run_beam_dynamics
from g2chain.config import field_settings
from g2chain.field import omega_p, run_field
from g2chain.io import read_json, write_json
from g2chain.truth.closure import dataset_stages

from ..conftest import ROOT

DATASET = "run2"


def ci_config() -> dict:
    """config.yaml with config/ci.yaml merged over it, as the shared run used it."""
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    for k, v in yaml.safe_load((ROOT / "config" / "ci.yaml").read_text())["datasets"].items():
        cfg["datasets"][k].update(v)
    return cfg


def stage_pulls(work: Path, tmp: Path, omega_p_record=None, corrections=None) -> dict:
    """Every closure stage of run2 with the given field or beam-dynamics record in place of the
    run's own: {stage: pull}."""
    ds = work / "results" / DATASET
    paths = {"average": ds / "analysis/omega_a/average.json", "analyses": ds / "analysis/omega_a",
             "corrections": ds / "analysis/beam_dynamics/corrections.json",
             "omega_p": ds / "analysis/field/omega_p.json", "world": ds / "sealed/world.h5",
             "production_truth_h5": ds / "sealed/production_truth.h5",
             "production_truth_json": ds / "sealed/production_truth.json", "beam_truth": ds / "sealed/beam_truth.json"}
    for key, rec in (("omega_p", omega_p_record), ("corrections", corrections)):
        if rec is not None:
            paths[key] = tmp / f"{key}.json"
            write_json(paths[key], rec)
    eps = read_json(work / "results/combined/a_mu.json")["eps_hw"][DATASET]
    return {k: v["pull"] for k, v in dataset_stages({k: str(v) for k, v in paths.items()}, eps)["stages"].items()}


def field_record(work: Path, cfg: dict) -> dict:
    ds = work / "results" / DATASET
    model = cfg["detector_model"]
    return run_field.analyse_dataset(field_settings(cfg, DATASET), float(cfg["datasets"][DATASET]["field_index"]),
                                     model["tracker_resolution_mm"], ds / "experiment/field.h5",
                                     ds / "experiment/trackers.h5", model["tracker_vertical_falloff"]).record


def corrections_record(work: Path, cfg: dict) -> dict:
    ds = work / "results" / DATASET
    res = run_beam_dynamics.analyse_beam_dynamics(
        cfg, DATASET, run_beam_dynamics.read_fast_rotation(ds / "experiment/calorimeters.h5"),
        run_beam_dynamics.read_trackers(ds / "experiment/trackers.h5"))
    return run_beam_dynamics.corrections_summary(DATASET, res)


# --- the mistakes: each patches the analysis (monkeypatch) or its own config block (cfg)
def trolley_calibration_left_out(monkeypatch, cfg):
    """The calibration campaign's per-probe offsets not subtracted from the trolley readings."""
    def no_offsets(trolley, probe):
        n = np.asarray(trolley).shape[0]
        return np.zeros(n), np.full(n, 1e-3)
    monkeypatch.setattr(omega_p, "probe_offsets", no_offsets)


def tracking_left_out(monkeypatch, cfg):
    """No fixed-probe tracking: the field between trolley runs interpolated linearly in time (the
    runs, every third day, see the daily temperature cycle at one phase)."""
    def interpolated(t, runs, m_tr, *rest):
        return np.stack([np.interp(t, runs, m_tr[:, i]) for i in range(m_tr.shape[1])], axis=1)
    monkeypatch.setattr(omega_p, "track_azimuthal_average", interpolated)


def trace_sign_flipped(fitter: str):
    """A transient trace's sign taken the wrong way (the magnetometer's polarity, the sealed
    probes' frequency-to-field sign): ``fitter`` ('fit_kicker_trace', 'fit_esq_trace') sees -trace."""
    def mutate(monkeypatch, cfg):
        fit = getattr(run_field, fitter)
        monkeypatch.setattr(run_field, fitter, lambda t, trace, *a, **k: fit(t, -np.asarray(trace), *a, **k))
    return mutate


def tracker_efficiency_not_corrected(monkeypatch, cfg):
    """The pitch analysis takes the trackers' vertical profile as the beam's (no efficiency)."""
    cfg["detector_model"]["tracker_vertical_falloff"] = 0.0


MUTATIONS = {
    "omega_p_tilde: trolley calibration left out": ("omega_p_tilde", "field", trolley_calibration_left_out),
    "omega_p_tilde: fixed-probe tracking left out": ("omega_p_tilde", "field", tracking_left_out),
    "B_K: kicker magnetometer polarity flipped": ("B_K", "field", trace_sign_flipped("fit_kicker_trace")),
    "B_Q: ESQ trace sign flipped": ("B_Q", "field", trace_sign_flipped("fit_esq_trace")),
    "C_p: trackers' vertical efficiency not corrected": ("C_p", "beam_dynamics", tracker_efficiency_not_corrected),
}
RECORDS = {"field": (field_record, "omega_p_record"), "beam_dynamics": (corrections_record, "corrections")}


@pytest.fixture(scope="module")
def correct(ci_run, tmp_path_factory):
    """The unmutated analyses rerun in this process: every stage within 3 sigma."""
    cfg, tmp = ci_config(), tmp_path_factory.mktemp("correct")
    pulls = stage_pulls(ci_run, tmp, omega_p_record=field_record(ci_run, cfg),
                        corrections=corrections_record(ci_run, cfg))
    assert all(abs(p) < 3 for p in pulls.values()), pulls
    return pulls


@pytest.mark.mutation
@pytest.mark.workflow
@pytest.mark.parametrize("name", list(MUTATIONS))
def test_a_mistake_fails_its_closure(ci_run, correct, monkeypatch, tmp_path, name):
    stage, branch, mutate = MUTATIONS[name]
    cfg = copy.deepcopy(ci_config())
    mutate(monkeypatch, cfg)
    make, key = RECORDS[branch]
    pulls = stage_pulls(ci_run, tmp_path, **{key: make(ci_run, cfg)})
    print(f"{name}: pull {pulls[stage]:+.1f} (correct analysis {correct[stage]:+.2f})")
    assert abs(pulls[stage]) > 3, pulls
