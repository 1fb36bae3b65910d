"""Closure of the field chain on a small world: measurements -> omega~'_p against the world's
muon-weighted truth, with the beam projections k_i given (truth read only here)."""

import numpy as np
import pytest

from g2chain.experiment import field_measurements, field_world
from g2chain.field.omega_p import analyse_field

from ..helpers import FIELD_WORLD_SETTINGS as SETTINGS
from ..helpers import M1
from ..helpers import PAPER_FIELD_TABLES as DATA

MEAS = {"trolley_noise_hz": 3.0, "fixed_probe_noise_hz": 5.0, "trolley_run_hours": 2.0, "calibration_swaps": 20,
        "footprint_hz": 300.0, "footprint_width_s": 20.0, "passage_window_s": 300.0, "passage_sample_s": 2.0}


RAMP = {"amplitude_ppb": 100.0, "amplitude_err_ppb": 100.0, "tau_hours": 12.0}  # the paper's model


def _closure(seed, **over):
    settings = {**SETTINGS, "azimuths": 720, "time_step_s": 1800.0, **over}
    world = field_world.build_field_world(settings, M1, DATA["table_xvii_multipole_ratios_ppb"]["run2"],
                                 np.random.SeedSequence(seed))
    rng = np.random.default_rng(seed + 1000)
    offsets = rng.normal(0.0, 60.0, 17)
    meas = field_measurements.measure_field(world, {**settings, **MEAS}, offsets, rng)
    k = np.array(DATA["table_xviii_beam_projections"]["run2"])
    out = analyse_field(meas, k, RAMP)
    truth = field_world.true_omega_p(world, k)
    return out, truth


@pytest.mark.slow
def test_field_chain_closes_within_its_bridge_uncertainty():
    pulls = []
    for seed in range(6):
        out, truth = _closure(seed)
        sigma = np.hypot(out["brownian_bridge_hz"], out["ramp_correction_err_hz"])
        pulls.append((out["omega_p_hz"] - truth) / sigma)
        print(f"seed {seed}: omega_p - truth = {out['omega_p_hz'] - truth:+.3f} Hz, bridge {sigma:.3f} Hz, "
              f"ramp {out['ramp_correction_hz']:+.3f} +- {out['ramp_correction_err_hz']:.3f} Hz, "
              f"M = {out['brownian_rate_hz_per_sqrt_s']:.4f} +- {out['brownian_rate_err']:.4f}")
        assert np.all(np.abs(np.array(out["probe_offsets_err_hz"])) < 2.0)
    pulls = np.array(pulls)
    assert np.all(np.abs(pulls) < 3), pulls


def test_ramp_correction_follows_the_missed_relaxation():
    """A world whose ramps relax with 3000 ppb (the model assumes 100): what tracking misses is
    30 times the correction the model applies, within the bridge noise. The sign depends on the
    timing: a ramp right at a trolley run makes the linear interpolation overshoot."""
    # a quiet magnet otherwise (untracked walk 10x slower), so that the ramps stand out
    out, truth = _closure(3, ramp_days=[0.0, 4.2, 9.3, 13.1], ramp_amplitude_ppb=3000.0,
                          untracked_rate_hz_per_sqrt_s=0.0018)
    missed = truth - (out["omega_p_hz"] - out["ramp_correction_hz"])
    print(f"missed {missed:+.3f} Hz, 30 x correction {30 * out['ramp_correction_hz']:+.3f} Hz")
    assert abs(missed) > 1.0
    assert abs(missed - 30 * out["ramp_correction_hz"]) < 0.05 * abs(missed) + 0.2
