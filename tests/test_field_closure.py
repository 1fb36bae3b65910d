"""Closure of the field chain on a small world: measurements -> omega~'_p against the world's
muon-weighted truth, with the beam projections k_i given (truth read only here)."""

import numpy as np
import pytest

from g2chain.experiment import field_measurements as FM
from g2chain.experiment import field_world as FW
from g2chain.field.analysis import analyse_field

from .test_field_units import DATA
from .test_field_world import M1, SETTINGS

MEAS = {"trolley_noise_hz": 3.0, "fixed_probe_noise_hz": 5.0, "trolley_run_hours": 2.0, "calibration_swaps": 20,
        "footprint_hz": 300.0, "footprint_width_s": 20.0, "passage_window_s": 300.0, "passage_sample_s": 2.0}


def _closure(seed, **over):
    settings = {**SETTINGS, "azimuths": 720, "time_step_s": 1800.0, "ramp_amplitude_ppb": 0.0, **over}
    world = FW.build_field_world(settings, M1, DATA["table_xvii_multipole_ratios_ppb"]["run2"],
                                 np.random.SeedSequence(seed))
    rng = np.random.default_rng(seed + 1000)
    offsets = rng.normal(0.0, 60.0, 17)
    meas = FM.measure_field(world, {**settings, **MEAS}, offsets, rng)
    k = np.array(DATA["table_xviii_beam_projections"]["run2"])
    out = analyse_field(meas, k)
    truth = FW.true_omega_p(world, k)
    return out, truth


@pytest.mark.slow
def test_field_chain_closes_within_its_bridge_uncertainty():
    pulls = []
    for seed in range(6):
        out, truth = _closure(seed)
        sigma = out["brownian_bridge_hz"]
        pulls.append((out["omega_p_hz"] - truth) / sigma)
        print(f"seed {seed}: omega_p - truth = {out['omega_p_hz'] - truth:+.3f} Hz, bridge {sigma:.3f} Hz, "
              f"M = {out['brownian_rate_hz_per_sqrt_s']:.4f} +- {out['brownian_rate_err']:.4f}")
        assert np.all(np.abs(np.array(out["probe_offsets_err_hz"])) < 2.0)
    pulls = np.array(pulls)
    assert np.all(np.abs(pulls) < 3), pulls
