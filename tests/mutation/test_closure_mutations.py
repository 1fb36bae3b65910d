"""Mutation tests of the closures (issue 21): a realistic analysis mistake, run on a world where
its effect is resolved, must pull its stage more than 3 sigma off the sealed truth, while the
correct analysis on the same world stays within 3.

Two worlds and the combination:
- the shared ci world (``ci_run``), where the field stages, C_e, C_p and C_dd are resolved. Each
  case reruns one analysis step of run2 in this process (so that the test may patch it), writes
  its record beside the finished run's, and takes the stage's pull with the closure's own code
  (``truth.closure.dataset_stages``) against the production's truth. (B_K and B_Q carry the 31 %
  and 52 % errors of the transients' azimuthal model, so only a mistake of their size or more is
  resolved: a flipped sign, the azimuthal coverage left out.)
- a small phase-drift world made in this process (``phase_drift_world``: 5e6 e+, a strong
  momentum-time correlation, strong momentum-dependent losses, phase maps 3.5x the default's),
  where C_ml and C_pa are resolved; at ci statistics on the ci world their statistical errors
  (~750 and ~90 ppb) hide any mistake. Its truths are the production's (C_e, C_p) and the
  expectation-level beam truth (``truth.beam``), as the closure's.
- the ci run's combination (``combined_closure``): Eq. 56 redone with one of its factors wrong.

Not covered here: omega_a^m. Its error at ci statistics is 46 ppm per dataset, while every
realistic omega_a^m mistake measured on the ci data moves it by at most a few ppm (no pileup
subtraction, the gain correction or the CBO terms left out; docs/omega_a.md section 14):
resolving one at 3 sigma needs ~1e9-1e10 e+ per dataset, hours of production."""

from __future__ import annotations

import copy
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from g2chain.beam_dynamics import differential_decay, fast_rotation, muon_loss, run_beam_dynamics
from g2chain.combine import amu
from g2chain.combine.run_combination import run_unblind
from g2chain.config import field_settings
from g2chain.experiment.world import build_world
from g2chain.field import omega_p, run_field
from g2chain.io import read_json, write_json
from g2chain.records import binning, experiment_files
from g2chain.truth.beam import beam_dynamics_truth, dataset_kappa_calo
from g2chain.truth.closure import CORRECTION_TRUTH, correction_pull, dataset_stages, hardware_blinds, run_closure
from g2chain.truth.production import true_omega_a_m

from ..conftest import produce
from ..helpers import ci_config, phase_drift_config

DATASET = "run2"


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


def beam_records(work: Path) -> tuple:
    """(fast-rotation signal, trackers) of run2 as the beam-dynamics analysis reads them."""
    ds = work / "results" / DATASET
    return (run_beam_dynamics.read_fast_rotation(ds / "experiment/calorimeters.h5"),
            run_beam_dynamics.read_trackers(ds / "experiment/trackers.h5"))


def corrections_record(work: Path, cfg: dict, efield=None) -> dict:
    """corrections.json of run2 for the analysis under ``cfg``; ``efield``: C_e to reuse."""
    res = run_beam_dynamics.analyse_beam_dynamics(cfg, DATASET, *beam_records(work), efield)
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


def kicker_coverage_left_out(monkeypatch, cfg):
    """The kicker's eddy field, traced between its plates, taken to act around the whole ring (its
    8.5 % azimuthal coverage left out of B_K)."""
    cfg["field"]["transient_model"]["kicker"]["coverage"] = 1.0


def efield_factor_two_dropped(monkeypatch, cfg):
    """Eq. 13 copied without its factor 2: C_e = n (1 - n) beta^2 <x_e^2> / R0^2."""
    coefficient = fast_rotation.efield_coefficient
    monkeypatch.setattr(fast_rotation, "efield_coefficient", lambda n, *a, **k: 0.5 * coefficient(n, *a, **k))


def momentum_time_correlation_left_out(monkeypatch, cfg):
    """C_dd from the chi^2 method's momentum and injection-time distributions as if independent:
    the joint distribution replaced by the product of its marginals (no p-t0 term, Eq. 33)."""
    population = differential_decay.joint_population

    def separable(fit, field_index):
        rho = np.asarray(fit["rho"], dtype=float)
        return population({**fit, "rho": np.outer(rho.sum(1), rho.sum(0)) / rho.sum()}, field_index)
    monkeypatch.setattr(differential_decay, "joint_population", separable)


def loss_phase_slope_beamline_only(monkeypatch, cfg):
    """C_ml with the beamline's phase-momentum slope alone: the injection-time phase the kicker's
    momentum-time correlation ties to momentum left out of (dphi/d delta)_eff (Eq. 23)."""
    monkeypatch.setattr(muon_loss, "effective_phase_slope", lambda dphi0_ddelta, dtau_ddelta_us, omega_a: dphi0_ddelta)


def phase_maps_sign_flipped(monkeypatch, cfg):
    """The simulation's detected-phase maps read with the opposite sign convention (phase
    subtracted instead of added)."""
    for key in ("phase_radial_mrad", "phase_vertical_quadratic_mrad"):
        cfg["detector_model"][key] = -cfg["detector_model"][key]


MUTATIONS = {
    "omega_p_tilde: trolley calibration left out": ("omega_p_tilde", "field", trolley_calibration_left_out),
    "omega_p_tilde: fixed-probe tracking left out": ("omega_p_tilde", "field", tracking_left_out),
    "B_K: kicker magnetometer polarity flipped": ("B_K", "field", trace_sign_flipped("fit_kicker_trace")),
    "B_Q: ESQ trace sign flipped": ("B_Q", "field", trace_sign_flipped("fit_esq_trace")),
    "C_p: trackers' vertical efficiency not corrected": ("C_p", "beam_dynamics", tracker_efficiency_not_corrected),
    "B_K: the kicker's azimuthal coverage left out": ("B_K", "field", kicker_coverage_left_out),
    "C_e: Eq. 13's factor 2 dropped": ("C_e", "beam_dynamics", efield_factor_two_dropped),
    "C_dd: momentum-time correlation left out": ("C_dd", "beam_dynamics", momentum_time_correlation_left_out),
}
RECORDS = {"field": (field_record, "omega_p_record"), "beam_dynamics": (corrections_record, "corrections")}


@pytest.fixture(scope="module")
def ci_efield(ci_run):
    """The correct C_e analysis of run2 (a mistake elsewhere in beam dynamics leaves it alone)."""
    return run_beam_dynamics.efield_corrections(ci_config(), DATASET, *beam_records(ci_run))


@pytest.fixture(scope="module")
def correct(ci_run, ci_efield, tmp_path_factory):
    """The unmutated analyses rerun in this process: every stage within 3 sigma."""
    cfg, tmp = ci_config(), tmp_path_factory.mktemp("correct")
    pulls = stage_pulls(ci_run, tmp, omega_p_record=field_record(ci_run, cfg),
                        corrections=corrections_record(ci_run, cfg, ci_efield))
    assert all(abs(p) < 3 for p in pulls.values()), pulls
    return pulls


@pytest.mark.mutation
@pytest.mark.workflow
@pytest.mark.parametrize("name", list(MUTATIONS))
def test_a_mistake_fails_its_closure(ci_run, correct, ci_efield, monkeypatch, tmp_path, name):
    stage, branch, mutate = MUTATIONS[name]
    cfg = copy.deepcopy(ci_config())
    mutate(monkeypatch, cfg)
    make, key = RECORDS[branch]
    # C_e's own mistakes rerun it; the others reuse the correct one
    record = make(ci_run, cfg) if branch == "field" or stage == "C_e" else make(ci_run, cfg, ci_efield)
    pulls = stage_pulls(ci_run, tmp_path, **{key: record})
    print(f"{name}: pull {pulls[stage]:+.1f} (correct analysis {correct[stage]:+.2f})")
    assert abs(pulls[stage]) > 3, pulls


# --- the phase-drift world: C_ml and C_pa resolved
PHASE_DRIFT_MUTATIONS = {
    "C_ml: (dphi/d delta)_eff from the beamline alone": ("C_ml", loss_phase_slope_beamline_only),
    "C_pa: phase maps' sign flipped": ("C_pa", phase_maps_sign_flipped),
}


class PhaseDriftWorld:
    """A 5e6 e+ production of run2 in ``helpers.PHASE_DRIFT_WORLD``, its records in memory and its truths."""

    def __init__(self):
        self.cfg = phase_drift_config()
        views, cond = produce(self.cfg, DATASET, positrons=5e6)
        self.eps_hw = cond.eps_hw
        self.fast_rotation = (views["fast_rot"], binning.T_FR_US)
        trk = {k: v[0] for k, v in experiment_files.tracker_datasets(views).items()}
        self.trackers = (trk["vertices"], trk["x_edges"], trk["y_edges"], trk["time_edges"])
        production = true_omega_a_m(views["truth"], build_world(self.cfg, DATASET)["omega_a_ref"], "T")
        beam = beam_dynamics_truth(cond, dataset_kappa_calo(self.cfg, DATASET, cond),
                                   int(self.cfg["beam_dynamics"]["truth_muons"]), self.cfg["seed"], DATASET)
        self.truth = {name: production[key] for name, key in CORRECTION_TRUTH.items()}
        self.truth.update({name: beam[f"{name}_ppb"] for name in ("C_dd", "C_ml", "C_pa")})

    def pulls(self, cfg: dict, efield=None) -> dict:
        """Every beam-dynamics stage's pull for the analysis under ``cfg`` (as the closure takes it);
        ``efield``: the C_e analysis to reuse (the phase-drift mistakes leave it alone)."""
        res = run_beam_dynamics.analyse_beam_dynamics(cfg, DATASET, self.fast_rotation, self.trackers, efield)
        out = {}
        for name, c in run_beam_dynamics.corrections_summary(DATASET, res)["corrections"].items():
            out[name] = correction_pull(c, self.truth[name], self.eps_hw)["pull"]
        return out


@pytest.fixture(scope="module")
def phase_drift_world():
    world = PhaseDriftWorld()
    world.efield = run_beam_dynamics.efield_corrections(world.cfg, DATASET, world.fast_rotation, world.trackers)
    world.correct = world.pulls(copy.deepcopy(world.cfg), world.efield)
    assert all(abs(p) < 3 for p in world.correct.values()), world.correct
    return world


@pytest.mark.mutation
@pytest.mark.parametrize("name", list(PHASE_DRIFT_MUTATIONS))
def test_a_mistake_fails_its_closure_on_the_phase_drift_world(phase_drift_world, monkeypatch, name):
    stage, mutate = PHASE_DRIFT_MUTATIONS[name]
    cfg = copy.deepcopy(phase_drift_world.cfg)
    mutate(monkeypatch, cfg)
    pulls = phase_drift_world.pulls(cfg, phase_drift_world.efield)
    print(f"{name}: pull {pulls[stage]:+.1f} (correct analysis {phase_drift_world.correct[stage]:+.2f})")
    assert abs(pulls[stage]) > 3, pulls


# --- the combination: a_mu from R'_mu (Eq. 56) on the ci run
def electron_moment_in_bohr_magnetons(monkeypatch):
    """Eq. 56 with the shielded proton's moment in Bohr magnetons (mu'_p/mu_B, the CODATA entry next
    to mu'_p/mu_e) where it wants electron moments: the electron's g_e/2 = 1 + a_e left out."""
    constants = amu.eq56_constants

    def without_g_e(edition="codata2018"):
        return {**constants(edition), "g_e/2": (1.0, 0.1e-9)}
    monkeypatch.setattr(amu, "eq56_constants", without_g_e)


def combined_closure(work: Path, tmp: Path) -> dict:
    """The unblinding and the closure of the whole ci run redone in this process (under whatever
    the test has patched): the closure record's ``combined`` block."""
    datasets = ["run2", "run3a", "run3b"]
    res = work / "results"
    files = {name: [str(res / ds / rel) for ds in datasets] for name, rel in (
        ("averages", "analysis/omega_a/average.json"), ("corrections", "analysis/beam_dynamics/corrections.json"),
        ("omega_p", "analysis/field/omega_p.json"), ("worlds", "sealed/world.h5"),
        ("production_truth", "sealed/production_truth.h5"),
        ("production_truth_json", "sealed/production_truth.json"), ("beam_truth", "sealed/beam_truth.json"))}
    run_unblind(ci_config(), datasets, files["averages"], files["corrections"], files["omega_p"],
                hardware_blinds(files["worlds"]), tmp / "a_mu.json", tmp / "budget.csv", tmp / "budget.md")
    inputs = SimpleNamespace(a_mu=str(tmp / "a_mu.json"), **files)
    return run_closure(datasets, inputs, tmp / "closure.json")["combined"]


@pytest.mark.mutation
@pytest.mark.workflow
def test_a_mistake_in_eq56_fails_the_a_mu_closure(ci_run, monkeypatch, tmp_path):
    """a_mu's error at ci statistics is ~25 ppm (omega_a^m's statistics), so only a mistake of order
    100 ppm is resolved: of Eq. 56's factors, g_e/2 (1160 ppm). The shielded-for-free proton
    moment (25.7 ppm) or mu_e(H)/mu_e (17.7 ppm) are not resolved at this size."""
    correct = combined_closure(ci_run, tmp_path / "correct")["a_mu"]
    assert abs(correct["pull"]) < 3, correct
    electron_moment_in_bohr_magnetons(monkeypatch)
    mutated = combined_closure(ci_run, tmp_path / "mutated")["a_mu"]
    print(f"a_mu: g_e/2 left out of Eq. 56: pull {mutated['pull']:+.1f} (correct analysis {correct['pull']:+.2f})")
    assert abs(mutated["pull"]) > 3, mutated
