"""The configuration correction (Sec. VI D, delta^config): the collimators' field while muons are
stored, which the trolley maps miss. Analytic: a Gaussian bump's ring average and the discrepancy
with a local probe. World: the muons see the collimators and the trolley does not. Closure: the
field chain with the correction recovers the muons' field, and without it misses by the bump."""

import math

import numpy as np
import pytest

from g2chain.experiment import field_measurements, field_world
from g2chain.experiment.muon_field import muon_field
from g2chain.field.configuration import configuration_correction
from g2chain.field.omega_p import analyse_field
from g2chain.records.field_files import ConfigurationProbes

from ..helpers import FIELD_WORLD_SETTINGS, M1, PAPER_FIELD_TABLES

PHI = (np.arange(36000) + 0.5) * 2 * math.pi / 36000
COLLIMATORS = {"azimuths_deg": [35.0, 100.0, 165.0, 230.0, 295.0], "width_deg": 0.5}
MEAS = {"trolley_noise_hz": 3.0, "fixed_probe_noise_hz": 5.0, "trolley_run_hours": 2.0, "calibration_swaps": 20,
        "footprint_hz": 300.0, "footprint_width_s": 20.0, "passage_window_s": 300.0, "passage_sample_s": 2.0}
RAMP = {"amplitude_ppb": 100.0, "amplitude_err_ppb": 100.0, "tau_hours": 12.0}


def _probes(step_factor, amp_hz, offset_rad=0.004):
    centres = np.radians(COLLIMATORS["azimuths_deg"])
    at = centres + offset_rad
    width = math.radians(COLLIMATORS["width_deg"])
    step = step_factor * amp_hz * np.exp(-0.5 * (offset_rad / width) ** 2) * np.ones(centres.size)
    return ConfigurationProbes(centres, at, step, np.full(centres.size, 1e-3))


def test_a_calculation_the_probes_confirm_gives_the_gaussians_area_and_no_discrepancy():
    """Five bumps of amplitude A and width sigma average to 5 A sigma sqrt(2 pi) / 2 pi over the
    ring; probes that read the calculation leave only their own noise."""
    amp_hz = -400e-9 * M1
    model = {"amplitude_ppb": -400.0, "width_deg": COLLIMATORS["width_deg"]}
    out = configuration_correction(_probes(1.0, amp_hz), model, M1, PHI, np.ones(PHI.size))
    sigma = math.radians(COLLIMATORS["width_deg"])
    assert out.correction_hz == pytest.approx(5 * amp_hz * sigma * math.sqrt(2 * math.pi) / (2 * math.pi), rel=1e-6)
    assert out.discrepancy_hz == pytest.approx(0.0, abs=1e-9)
    assert np.allclose(out.ratio, 1.0)


def test_probes_reading_four_times_the_calculation_book_three_times_the_correction():
    """The report's case: the correction stays the calculation, the miss at the probes (x4) is
    carried to the ring as the uncertainty, (4 - 1) x the correction."""
    amp_hz = -400e-9 * M1
    model = {"amplitude_ppb": -400.0, "width_deg": COLLIMATORS["width_deg"]}
    out = configuration_correction(_probes(4.0, amp_hz), model, M1, PHI, np.ones(PHI.size))
    assert out.discrepancy_hz == pytest.approx(3.0 * abs(out.correction_hz), rel=1e-6)
    # a bump where the calculation puts no field at the probe cannot be compared: named, not divided by 0
    with pytest.raises(ValueError, match="configuration_model"):
        configuration_correction(_probes(1.0, amp_hz, offset_rad=1.0), model, M1, PHI, np.ones(PHI.size))


def _world(amplitude_ppb, seed=4):
    settings = {**FIELD_WORLD_SETTINGS, "azimuths": 9000, "time_step_s": 1800.0}
    if amplitude_ppb is not None:
        settings["configuration"] = {**COLLIMATORS, "amplitude_ppb": amplitude_ppb, "amplitude_rms": 0.2}
    return field_world.build_field_world(settings, M1, PAPER_FIELD_TABLES["table_xvii_multipole_ratios_ppb"]["run2"],
                                         np.random.SeedSequence(seed)), settings


def test_the_muons_see_the_collimators_and_the_trolley_does_not():
    """Drawn last, the collimators leave the rest of the world as it was: the trolley's maps are
    identical with and without them, while the field the muons sample (the kernel's tables) and
    the muon-weighted map move by the bumps' ring average."""
    bare, s_bare = _world(None)
    with_c, s_c = _world(-1666.0)
    expected = np.sum(with_c.collimator_hz) * with_c.collimator_width_rad * math.sqrt(2 * math.pi) / (2 * math.pi)
    assert np.std(with_c.collimator_hz) > 0  # each collimator its own (amplitude_rms)
    shift = field_world.muon_weighted_moments(with_c)[0] - field_world.muon_weighted_moments(bare)[0]
    assert shift == pytest.approx(expected, rel=1e-4)
    transients = {"kicker": {"amplitude_ppb": 0.0, "tau_us": 80.0, "coverage": 0.1},
                  "esq": {"amplitude_ppb": 0.0, "tau_us": 10.0, "frequency_hz": 1e5, "phase_rad": 0.0,
                          "coverage": 0.4}}
    tables = [muon_field(w, transients, 0.108, M1, 1.0, 10.0) for w in (bare, with_c)]
    # the constant coefficient at the closed orbit's centre: the ring-averaged m_1, as a fraction
    assert (tables[1].coef[:, 0] - tables[0].coef[:, 0]) * M1 == pytest.approx(np.full(bare.t_s.size, expected),
                                                                              rel=2e-3)
    runs = [field_measurements.measure_field(w, {**s, **MEAS}, np.zeros(17), np.random.default_rng(5))
            for w, s in ((bare, s_bare), (with_c, s_c))]
    assert np.array_equal(np.stack(runs[0].trolley_readings), np.stack(runs[1].trolley_readings))
    assert runs[0].configuration is None and runs[1].configuration is None  # no local probes configured


@pytest.mark.parametrize("apply", [True, False])
def test_the_field_chain_closes_only_with_the_configuration_correction(apply):
    """A world whose collimators are as calculated (20 % apart from each other): the chain plus
    the correction recovers the muons' field within its uncertainty (bridge, ramp model, the
    correction's own); the chain without it (the mutation) misses by the collimators' -87 ppb."""
    world, settings = _world(-5000.0, seed=6)
    meas = field_measurements.measure_field(world, {**settings, **MEAS,
                                                    "configuration_probe": {"offset_deg": 0.25, "changes": 20}},
                                            np.zeros(17), np.random.default_rng(8))
    k = np.array([1.0] + [0.0] * 11)
    out = analyse_field(meas, k, RAMP)
    model = {"amplitude_ppb": -5000.0, "width_deg": COLLIMATORS["width_deg"]}
    config = configuration_correction(meas.configuration, model, M1, world.phi, np.ones(world.phi.size))
    omega = out["omega_p_hz"] + (config.correction_hz if apply else 0.0)
    sigma = math.hypot(math.hypot(out["brownian_bridge_hz"], out["ramp_correction_err_hz"]),
                       config.error_hz if apply else 0.0)
    pull = (omega - field_world.true_omega_p(world, k)) / sigma
    print(f"apply={apply}: correction {config.correction_hz / M1 * 1e9:+.1f} ppb +- {config.error_hz / M1 * 1e9:.1f} "
          f"(ratios {np.round(config.ratio, 2)}), pull {pull:+.2f}")
    assert (abs(pull) < 3) == apply


def test_the_collimators_and_their_probes_go_through_the_files(base_cfg, tmp_path):
    """The world file keeps the collimators (and a world without them writes none), and
    experiment/field.h5 carries the local probes' readings to the analysis's record type."""
    from g2chain.experiment import run_field_systems
    from g2chain.records.field_files import read_field_measurements

    from ..helpers import field_config

    cfg = field_config(base_cfg, dataset_days=12.0,
                       configuration={**COLLIMATORS, "amplitude_ppb": -1666.0, "amplitude_rms": 0.2},
                       configuration_probe={"offset_deg": 0.25, "changes": 20})
    world = run_field_systems.dataset_field_world(cfg, "run2")
    run_field_systems.write_field_world(cfg, "run2", world, tmp_path / "world.h5")
    back = run_field_systems.read_field_world(tmp_path / "world.h5")
    assert np.array_equal(back.collimator_hz, world.collimator_hz) and back.collimator_width_rad > 0
    run_field_systems.write_field_measurements(cfg, "run2", tmp_path / "world.h5", tmp_path / "field.h5")
    meas, _ = read_field_measurements(tmp_path / "field.h5")
    probes = meas.configuration
    assert probes is not None and probes.step_hz.shape == (5,)
    expected = field_world.storage_field(world, probes.probe_azimuth_rad)
    assert np.all(np.abs(probes.step_hz - expected) < 5 * probes.step_err_hz)
    bare = field_config(base_cfg, dataset_days=12.0)
    run_field_systems.write_field_world(bare, "run2", run_field_systems.dataset_field_world(bare, "run2"),
                                        tmp_path / "bare.h5")
    assert run_field_systems.read_field_world(tmp_path / "bare.h5").collimator_phi.size == 0
