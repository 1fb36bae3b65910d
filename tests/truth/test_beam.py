"""The sealed expectation-level truth of the beam-dynamics corrections (truth/beam.py)
against analytic expectations and against the production's own per-muon truth."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from g2chain.experiment.world import build_conditions, build_world
from g2chain.truth import beam as beam_truth
from g2chain.truth import production as production_truth

from ..conftest import produce


def _conditions(cfg, dataset="run2", beam=None):
    cfg = copy.deepcopy(cfg)
    cfg["beam"].update(beam or {})
    return build_conditions(cfg, dataset, build_world(cfg, dataset))


def _kappa(cfg, c, dataset="run2"):
    return beam_truth.dataset_kappa_calo(cfg, dataset, c)


def _drifts(cfg, c, n_muons, seed):
    return beam_truth.phase_drift_truth(c, _kappa(cfg, c), beam_truth.sample_stored_muons(c, n_muons, seed, "run2"))


def test_beamline_term_is_dphi_ddelta_times_the_differential_decay_drift(base_cfg):
    """Eq. 28 to first order: higher momenta live longer, so <delta> of the decaying population
    rises at var(delta) / (gamma tau) and the phase with it: C_dd(beamline) = -(dphi0/ddelta)
    var(delta) / (gamma tau omega_a)."""
    c = _conditions(base_cfg)
    m = beam_truth.sample_stored_muons(c, 400_000, 3, "run2")
    out = beam_truth.phase_drift_truth(c, _kappa(base_cfg, c), m)
    w = beam_truth.detection_averages(c, _kappa(base_cfg, c), m)["acceptance"]
    d = m["delta"]
    var = np.average((d - np.average(d, weights=w)) ** 2, weights=w)
    expected = -c.dphi0_ddelta * var / (c.gamma_magic * c.tau_mu * c.omega_a) * 1e9
    print(f"C_dd beamline {out['C_dd_parts_ppb']['beamline']:.2f} ppb, first-order {expected:.2f} ppb")
    assert abs(out["C_dd_parts_ppb"]["beamline"] / expected - 1) < 0.05
    # the parts add up to the drift with every cause on (second-order cross terms only)
    assert abs(out["sum_of_parts_ppb"] - out["total_ppb"]) < 0.02 * abs(out["total_ppb"]) + 1.0


def test_injection_time_term_follows_the_momentum_time_covariance(base_cfg):
    """C_dd's p-t0 term to first order: higher momenta live longer, so <t0> of the decaying
    population moves at cov(t0, delta) / (gamma tau) and the phase -omega_a <t0> with it:
    C_dd(p-t0) = cov(t0, delta) / (gamma tau), the covariance of the stored muons (the aperture
    trims the injected W sigma_delta rho / sqrt(12) by ~15 %): linear in the correlation rho."""
    terms = []
    for rho in (0.2, 0.4):
        c = _conditions(base_cfg, beam={"delta_t0_correlation": rho})
        m = beam_truth.sample_stored_muons(c, 400_000, 4, "run2")
        out = beam_truth.phase_drift_truth(c, _kappa(base_cfg, c), m)
        expected = np.cov(m["t0"], m["delta"])[0, 1] / (c.gamma_magic * c.tau_mu) * 1e9
        print(f"rho {rho}: C_dd(p-t0) {out['C_dd_parts_ppb']['p_t0']:.1f} ppb, first order {expected:.1f}")
        assert out["C_dd_parts_ppb"]["p_t0"] == pytest.approx(expected, rel=0.1) and expected > 50
        terms.append(out["C_dd_parts_ppb"]["p_t0"])
    assert terms[1] == pytest.approx(2 * terms[0], rel=0.1)


def test_momentum_dependent_losses_make_c_ml_negative(base_cfg):
    """Losses that rise with momentum take the high-delta, late-t0 muons first: <t0> falls, the
    phase -omega_a <t0> rises, and C_ml = -(dPhi/dt)/omega_a < 0; without the momentum slope the
    losses are blind to delta and C_ml nearly vanishes."""
    beam = {"dphi0_ddelta_mrad_per_percent": 0.0}
    c = _conditions(base_cfg, beam=beam)
    sloped = _drifts(base_cfg, c, 400_000, 4)["C_ml_ppb"]
    c = _conditions(base_cfg, beam={**beam, "loss_momentum_slope": 0.0})
    flat = _drifts(base_cfg, c, 400_000, 4)["C_ml_ppb"]
    print(f"C_ml: {sloped:.1f} ppb with the momentum slope, {flat:.1f} without")
    assert sloped < -5.0 and abs(flat) < 0.2 * abs(sloped)


def test_expectation_weighting_matches_the_production_truth(base_cfg):
    """The same weighting gives the detected population's C_e and C_p that the production records
    muon by muon (3e6 e+: per-muon means to ~0.3 %)."""
    views, cond = produce(base_cfg, positrons=3e6, seed=31)
    prod = production_truth.true_omega_a_m(views["truth"], cond.omega_a, "T")
    out = _drifts(base_cfg, cond, 400_000, 5)
    print(f"C_e {out['C_e_ppb']:.1f} vs {prod['mean_ce_ppb']:.1f}; "
          f"C_p {out['C_p_ppb']:.1f} vs {prod['mean_cp_ppb']:.1f}")
    assert abs(out["C_e_ppb"] / prod["mean_ce_ppb"] - 1) < 0.02
    assert abs(out["C_p_ppb"] / prod["mean_cp_ppb"] - 1) < 0.02


def test_detection_average_is_the_kernels_detection_sampled(base_cfg):
    """The truth's per-muon detection (quadrature over betatron phases, calorimeters and Michel
    energies, interpolated on its grid) against sampling the kernel's detection for four muons:
    a uniform radial and vertical betatron phase, a uniform calorimeter, a T-method energy from
    the Michel density N(y), kept with the acceptance clipped to [0, 1] (written out here from
    the kernel's formula, with its per-calorimeter slopes). Asymmetry-weighted mean phases agree
    within the sampling error."""
    from g2chain.experiment.decay import asymmetry_of

    c = _conditions(base_cfg, beam={})
    c = c._replace(phase_x=0.04, phase_yy=-0.02)  # maps 3.5x the default's: the clipping shows
    kappa = _kappa(base_cfg, c)
    muons = {"x_e": np.array([-12.0, 0.0, 9.0, 15.0]), "a_x": np.array([20.0, 10.0, 25.0, 8.0]),
             "a_y": np.array([5.0, 25.0, 15.0, 30.0]), "delta": np.zeros(4)}
    # the grid spans the sampled population in the truth; here a wider one
    pop = {k: np.concatenate([v, [-40.0, 40.0] if k == "x_e" else [0.0, 44.0]]) for k, v in muons.items()
           if k != "delta"}
    det = {k: v[:4] for k, v in beam_truth.detection_averages(c, kappa, pop).items()}
    rng = np.random.default_rng(11)
    n = 2_000_000
    ap = c.aperture
    for i in range(4):
        x_e, a_x, a_y = muons["x_e"][i], muons["a_x"][i], muons["a_y"][i]
        y_lo = 1.7 / (c.e_max * (1.0 + x_e * (1.0 - c.n) / c.r0))
        y = rng.uniform(y_lo, 1.0, n)  # Michel N(y) by rejection (N <= 2 on [0, 1])
        y = y[rng.uniform(0, 2.0, n) < (y - 1.0) * (4 * y * y - 5 * y - 5)]
        m = y.size
        xn = (x_e + a_x * np.cos(rng.uniform(0, 2 * np.pi, m))) / ap
        yn = a_y * np.cos(rng.uniform(0, 2 * np.pi, m)) / ap
        calo = rng.integers(0, kappa.size, m)
        acc = (c.acc_scale * (c.acc_low + (1 - c.acc_low) * y) * (1 + kappa[calo] * xn + c.kappa_a * (y - 0.5) * xn)
               * (1 + c.eta_y * yn - c.zeta_y * yn * yn))
        kept = rng.uniform(size=m) < acc
        a = asymmetry_of(y[kept])
        sampled = np.average(c.phase_x * xn[kept], weights=a)
        err = np.sqrt(np.sum(a**2 * (c.phase_x * xn[kept] - sampled) ** 2)) / a.sum()
        print(f"muon {i}: radial phase {det['radial'][i] * 1e3:.3f} mrad, sampled {sampled * 1e3:.3f} +- "
              f"{err * 1e3:.3f} (orbit centre {c.phase_x * x_e / ap * 1e3:.3f})")
        assert abs(det["radial"][i] - sampled) < 4 * err
        vertical = np.average(c.phase_yy * yn[kept] ** 2, weights=a)
        assert det["vertical"][i] == pytest.approx(vertical, rel=0.02, abs=2e-5)
