"""The sealed expectation-level truth of the beam-dynamics corrections (truth/beam.py)
against analytic expectations and against the production's own per-muon truth."""

from __future__ import annotations

import copy

import numpy as np

from g2chain.experiment.world import build_conditions, build_world
from g2chain.truth import beam as beam_truth
from g2chain.truth import production as production_truth

from ..conftest import produce


def _conditions(cfg, dataset="run2", beam=None):
    cfg = copy.deepcopy(cfg)
    cfg["beam"].update(beam or {})
    return build_conditions(cfg, dataset, build_world(cfg, dataset))


def test_beamline_term_is_dphi_ddelta_times_the_differential_decay_drift(base_cfg):
    """Eq. 28 to first order: higher momenta live longer, so <delta> of the decaying population
    rises at var(delta) / (gamma tau) and the phase with it: C_dd(beamline) = -(dphi0/ddelta)
    var(delta) / (gamma tau omega_a)."""
    c = _conditions(base_cfg)
    m = beam_truth.sample_stored_muons(c, 400_000, 3, "run2")
    out = beam_truth.phase_drift_truth(c, m)
    w = beam_truth.detection_averages(c, m)["acceptance"]
    d = m["delta"]
    var = np.average((d - np.average(d, weights=w)) ** 2, weights=w)
    expected = -c.dphi0_ddelta * var / (c.gamma_magic * c.tau_mu * c.omega_a) * 1e9
    print(f"C_dd beamline {out['C_dd_parts_ppb']['beamline']:.2f} ppb, first-order {expected:.2f} ppb")
    assert abs(out["C_dd_parts_ppb"]["beamline"] / expected - 1) < 0.05
    # the parts add up to the drift with every cause on (second-order cross terms only)
    assert abs(out["sum_of_parts_ppb"] - out["total_ppb"]) < 0.02 * abs(out["total_ppb"]) + 1.0


def test_no_momentum_time_correlation_no_injection_time_terms(base_cfg):
    c = _conditions(base_cfg, beam={"delta_t0_correlation": 0.0})
    out = beam_truth.phase_drift_truth(c, beam_truth.sample_stored_muons(c, 400_000, 4, "run2"))
    # 400k muons: the sampled t0-delta covariance leaves ~1 ppb
    assert abs(out["C_dd_parts_ppb"]["p_t0"]) < 3.0, out
    c = _conditions(base_cfg, beam={"dphi0_ddelta_mrad_per_percent": 0.0, "delta_t0_correlation": 0.0})
    out = beam_truth.phase_drift_truth(c, beam_truth.sample_stored_muons(c, 400_000, 4, "run2"))
    assert abs(out["C_dd_parts_ppb"]["beamline"]) < 1e-9 and abs(out["C_ml_ppb"]) < 6.0, out


def test_expectation_weighting_matches_the_production_truth(base_cfg):
    """The same weighting gives the detected population's C_e and C_p that the production records
    muon by muon (3e6 e+: per-muon means to ~0.3 %)."""
    views, cond = produce(base_cfg, positrons=3e6, seed=31)
    prod = production_truth.true_omega_a_m(views["truth"], cond.omega_a, "T")
    out = beam_truth.phase_drift_truth(cond, beam_truth.sample_stored_muons(cond, 400_000, 5, "run2"))
    print(f"C_e {out['C_e_ppb']:.1f} vs {prod['mean_ce_ppb']:.1f}; "
          f"C_p {out['C_p_ppb']:.1f} vs {prod['mean_cp_ppb']:.1f}")
    assert abs(out["C_e_ppb"] / prod["mean_ce_ppb"] - 1) < 0.02
    assert abs(out["C_p_ppb"] / prod["mean_cp_ppb"] - 1) < 0.02
