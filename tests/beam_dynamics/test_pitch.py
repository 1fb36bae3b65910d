"""Pitch correction (Sec. V B): the arcsine relation and its inversion against analytic cases,
the calorimeter weighting, and closure of C_p from the trackers against the production's truth
(the detected positrons' mean per-muon pitch term)."""

import numpy as np
import pytest

from g2chain.beam_dynamics import pitch
from g2chain.records import binning
from g2chain.truth import production as production_truth

from ..conftest import produce

EDGES = np.linspace(-60.0, 60.0, 41)


def _profile_of(amplitudes, weights, resolution, edges=EDGES):
    """Expected counts of y = A cos(psi) + resolution for an amplitude histogram (forward model)."""
    return pitch._kernel(edges, amplitudes, resolution) @ weights


def test_moments_of_a_single_amplitude_follow_the_arcsine_law():
    a = np.array([20.0])
    counts = _profile_of(a, np.array([1e6]), 2.0, np.linspace(-60, 60, 1201))
    a2, a4 = pitch.amplitude_moments(np.linspace(-60, 60, 1201), counts, 2.0)
    assert a2 == pytest.approx(400.0, rel=2e-3) and a4 == pytest.approx(160000.0, rel=5e-3)


def test_unfolding_recovers_an_amplitude_distribution():
    a = (np.arange(30) + 0.5) * 1.5
    true = a * np.exp(-0.5 * (a / 13.0) ** 2)  # Rayleigh: a Gaussian beam's amplitudes
    true /= true.sum()
    yc = 0.5 * (EDGES[1:] + EDGES[:-1])
    eff = 1 - 0.5 * (yc / 45.0) ** 2
    counts = _profile_of(a, true * 1e7, 2.0) * eff
    got_a, w = pitch.amplitude_distribution(EDGES, counts, eff, 2.0)
    assert np.allclose(got_a, a)
    assert w @ a**2 == pytest.approx(true @ a**2, rel=1e-3)
    m2, _ = pitch.amplitude_moments(EDGES, counts / eff, 2.0)
    assert m2 == pytest.approx(true @ a**2, rel=5e-3)  # bin width removed as Sheppard's correction


def test_calorimeter_weighting_is_the_phase_averaged_acceptance():
    rng = np.random.default_rng(2)
    amp = rng.rayleigh(13.0, 400_000)
    psi = rng.uniform(0, 2 * np.pi, amp.size)
    w = 1 + 0.1 * amp * np.cos(psi) / 45 - 0.3 * (amp * np.cos(psi) / 45) ** 2  # detection probability
    brute = np.sum(w * amp**2) / np.sum(w)
    formula = pitch.detected_mean_a2(np.mean(amp**2), np.mean(amp**4), 0.3)
    assert formula == pytest.approx(brute, rel=2e-3)
    assert pitch.pitch_correction(300.0, 0.108) == pytest.approx(0.108 * 300 / (4 * 7112.0**2))


@pytest.mark.slow
def test_pitch_correction_closes_on_the_production_truth(base_cfg):
    views, cond = produce(base_cfg, positrons=3e6, seed=21)
    truth = production_truth.true_omega_a_m(views["truth"], cond.omega_a, "T")["mean_cp_ppb"]
    edges_t = binning.time_edges(binning.T_TRACK_US, binning.N_T_TRACK)
    det = base_cfg["detector_model"]  # the analysis's model; the world's trackers differ within it
    out = pitch.pitch_analysis(views["tracker"], EDGES, EDGES, edges_t, (30.1, 660.0), cond.n,
                               det["tracker_resolution_mm"],
                           det["tracker_vertical_falloff"], {"radial": det["acceptance_radial"],
                                 "vertical_quadratic": det["acceptance_vertical_quadratic"]},
                           {"resolution": 0.25, "tracker_efficiency": 0.5, "vertical_quadratic": 0.5}, n_boot=20).record
    pull = (out["C_p_ppb"] - truth) / out["total_ppb"]
    print(f"C_p {out['C_p_ppb']:.2f} +- {out['stat_ppb']:.2f} (stat) +- {out['syst_ppb']:.2f} (syst) ppb, "
          f"truth {truth:.2f} ppb, pull {pull:+.2f}; methods {out['method1_ppb']:.2f}, {out['method2_ppb']:.2f}")
    assert abs(pull) < 3
    assert 140 < out["C_p_ppb"] < 200  # Table VIII scale
    assert abs(out["method1_ppb"] - out["method2_ppb"]) < out["total_ppb"]
