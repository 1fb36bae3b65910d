"""The field branch from config: a truth that no measurement choice moves, the trolley plan and
its one-line errors, the Brownian bridge's scaling with the trolley interval on a small world,
and the muon-weighting steps (tracker beam, projections around the ring, the weighted field)."""

import copy
import math

import numpy as np
import pytest

from g2chain.config import ConfigError, validate_config
from g2chain.experiment import field_measurements, run_field_systems
from g2chain.field import weighting
from g2chain.field.omega_p import analyse_field
from g2chain.truth.field import field_truth

from .conftest import SCHEMA


def _cfg(base_cfg, **field):
    cfg = copy.deepcopy(base_cfg)
    cfg["field"].update({"azimuths": 720, "time_step_s": 1800.0, "truth_muons": 20000, **field})
    return validate_config(cfg, SCHEMA)


def test_truth_depends_on_the_world_not_on_the_measurements(base_cfg):
    nominal = field_truth(_cfg(base_cfg), "run2")
    other = field_truth(_cfg(base_cfg, trolley_interval_days=6.0, trolley_noise_hz=30.0,
                                 fixed_probe_noise_hz=1.0, max_gap_s=10.0), "run2")
    for key in ("omega_p_tilde_hz", "B_K", "B_Q"):
        assert other[key] == nominal[key]
    warmer = field_truth(_cfg(base_cfg, daily_cycle_ppm=0.5), "run2")
    assert warmer["omega_p_tilde_hz"] != nominal["omega_p_tilde_hz"]
    # the muon-weighted field sits within a few ppm of the configured dipole; B as configured
    m1 = base_cfg["datasets"]["run2"]["field"]["m1_hz"]
    assert abs(nominal["omega_p_tilde_hz"] / m1 - 1) < 5e-6
    assert nominal["B_K"] * 1e9 == pytest.approx(-37.0, abs=0.5)
    assert nominal["B_Q"] * 1e9 == pytest.approx(-21.0, abs=0.5)


@pytest.mark.parametrize("field, message", [
    ({"trolley_interval_days": 5.0}, r"field\.trolley_interval_days: 5\.0 is not a whole number of access"),
    ({"trolley_interval_days": 4.5, "dataset_days": 24.0}, r"trolley_interval_days: 4\.5 does not divide dataset_days"),
    ({"trolley_run_hours": 3.0}, r"trolley_run_hours: longer than an access"),
    ({"dataset_days": 25.0}, r"dataset_days: 25\.0 is not a whole number"),
    ({"trolley_interval_days": 24.0}, r"field\.trolley_interval_days: 2 trolley runs in 24\.0 days"),
    ({"access_hours": 40.0}, r"field\.access_hours: the beam would be off all the time"),
    ({"ramp_days": [0.0, 30.0]}, r"field\.ramp_days: a ramp after the dataset"),
    ({"passage_window_s": 120.0}, r"field\.passage_window_s: must exceed"),
])
def test_a_trolley_plan_that_cannot_be_run_is_one_line(base_cfg, field, message):
    with pytest.raises(ConfigError, match=message) as err:
        _cfg(base_cfg, **field)
    assert "\n" not in str(err.value)


def test_numbers_from_a_nested_command_line_value_are_typed(base_cfg):
    cfg = copy.deepcopy(base_cfg)
    cfg["field"]["trolley_interval_days"] = "6"  # what snakemake --config field='{...}' delivers
    cfg["field"]["kicker"]["tau_us"] = "8.0e+1"
    validate_config(cfg, SCHEMA)
    assert cfg["field"]["trolley_interval_days"] == 6 and cfg["field"]["kicker"]["tau_us"] == 80.0
    assert cfg["datasets"]["run2"]["label"] == "Run-2"


def _bridge_per_rate(cfg, dataset="run2"):
    """Analyse the dataset's world with the config's trolley plan: (bridge / estimated M, M, its error)."""
    world = run_field_systems.dataset_field_world(cfg, dataset)
    s = run_field_systems.field_settings(cfg, dataset)
    meas = field_measurements.measure_field(world, s, run_field_systems.true_probe_offsets(cfg, dataset), np.random.default_rng(7))
    out = analyse_field(meas, np.array([1.0] + [0.0] * 11), s["ramp_model"])
    m = out["brownian_rate_hz_per_sqrt_s"]
    return out["brownian_bridge_hz"] / m, m, out["brownian_rate_err"]


def test_bridge_uncertainty_scales_with_the_trolley_interval(base_cfg):
    """Doubling the trolley interval: with as many runs (the span doubles) the bridge grows by
    sqrt(2), as each interval's does; over a fixed span (half the intervals) by 2. Each at the
    estimated Brownian rate, which itself does not depend on the plan."""
    small = {"ramp_days": [0.0], "untracked_rate_hz_per_sqrt_s": 0.018}
    short3 = _bridge_per_rate(_cfg(base_cfg, dataset_days=12.0, trolley_interval_days=3.0, **small))
    long6 = _bridge_per_rate(_cfg(base_cfg, dataset_days=24.0, trolley_interval_days=6.0, **small))
    span3 = _bridge_per_rate(_cfg(base_cfg, dataset_days=24.0, trolley_interval_days=3.0, **small))
    print(f"bridge/M: 4 runs x 3 d {short3[0]:.1f}, 4 runs x 6 d {long6[0]:.1f}, 8 runs x 3 d {span3[0]:.1f} s^0.5; "
          f"M = {short3[1]:.4f}({short3[2]:.4f}), {long6[1]:.4f}({long6[2]:.4f}), {span3[1]:.4f}({span3[2]:.4f})")
    assert long6[0] / short3[0] == pytest.approx(math.sqrt(2), rel=0.2)
    assert long6[0] / span3[0] == pytest.approx(2.0, rel=0.2)
    for _, m, err in (short3, long6, span3):
        assert abs(m - 0.018) < 3 * err


def _gaussian_vertices(mx, sx, sy, res, n=2e6):
    edges = np.linspace(-60, 60, 81)
    c = 0.5 * (edges[1:] + edges[:-1])
    gx = np.exp(-0.5 * (c - mx) ** 2 / (sx**2 + res**2))
    gy = np.exp(-0.5 * c**2 / (sy**2 + res**2))
    eff = 1 - 0.5 * (c / 45.0) ** 2
    counts = np.outer(gx, gy * eff)
    counts *= n / counts.sum()
    return counts[None, None], edges, c


def test_tracker_beam_removes_the_acceptance_and_the_resolution():
    counts, edges, _ = _gaussian_vertices(5.0, 9.0, 12.0, 2.0)
    beam = weighting.tracker_beam(counts, edges, edges, np.array([30.0, 700.0]), 30.1 - 1.0, 2.0, 0.5)
    assert beam["x_mean"] == pytest.approx(5.0, abs=0.01)
    assert beam["x_rms"] == pytest.approx(9.0, abs=0.03) and beam["y_rms"] == pytest.approx(12.0, abs=0.03)
    naive = weighting.tracker_beam(counts, edges, edges, np.array([30.0, 700.0]), 29.0, 0.0, 0.0)
    assert naive["y_rms"] < 11.9  # the trackers' vertical efficiency narrows the raw profile
    with pytest.raises(ValueError, match="only 0 vertices"):
        weighting.tracker_beam(counts, edges, edges, np.array([30.0, 700.0]), 800.0, 2.0, 0.5)


def test_projections_around_the_ring_follow_the_closed_orbit():
    beam = {"x_mean": 5.0, "x_rms": 9.0, "y_rms": 12.0}
    phi = (np.arange(360) + 0.5) * 2 * np.pi / 360
    n = 0.108
    flat = np.full(phi.size, 61.79e6)
    k_flat = weighting.azimuthal_projections(beam, phi, flat, n)
    assert np.allclose(k_flat, weighting.gaussian_projections(5.0, 9.0, 12.0), atol=1e-12)
    # an N = 1 harmonic of b_1 = 2 ppm at phi_1 = 40 deg: x_cod = R0 b_1 / n cos(phi - phi_1) (Eq. 54)
    b1, phi1 = 2e-6, math.radians(40.0)
    k = weighting.azimuthal_projections(beam, phi, flat * (1 + b1 * np.cos(phi - phi1)), n)
    x_cod = 7112.0 * b1 / n * np.cos(phi - phi1)
    assert np.allclose(k[:, 1] - k_flat[:, 1], x_cod / 45.0, atol=1e-9)  # k_2 = <x> / r0
    # the weighted field: sum k_bar <m> plus the azimuthal covariance of k(phi) with the map
    m = np.zeros((phi.size, 12))
    m[:, 0] = 61.79e6
    m[:, 1] = 1000.0 + 500.0 * np.cos(phi - phi1)  # a normal quadrupole varying like the COD
    got = weighting.weighted_field(m.mean(axis=0), m, k)
    expected = np.mean(np.sum(m * k, axis=1))
    assert got == pytest.approx(expected, abs=1e-6)
    assert got - float(m.mean(axis=0) @ k.mean(axis=0)) == pytest.approx(0.5 * 500.0 * 7112 * b1 / n / 45, rel=1e-6)


def test_trolley_temperature_is_corrected_with_the_bench_coefficient(base_cfg):
    """Each run's probes read coeff x (T_run - T_calibration) high: a pure m_1 shift of that run's
    map. Corrected with the true coefficient it is gone; with none, omega~'_p moves by the
    coefficient times the runs' temperatures weighted as tracking weighs the runs (half weight
    at the ends: linear interpolation between runs)."""
    cfg = _cfg(base_cfg, dataset_days=12.0, trolley_temperature_rms_c=2.0)
    s = run_field_systems.field_settings(cfg, "run2")
    world = run_field_systems.dataset_field_world(cfg, "run2")
    meas = field_measurements.measure_field(world, s, run_field_systems.true_probe_offsets(cfg, "run2"), np.random.default_rng(3))
    k = np.array([1.0] + [0.0] * 11)
    coeff = s["trolley_temperature_coeff_hz_per_c"]
    right = analyse_field(meas, k, s["ramp_model"], temperature_coeff_hz_per_c=coeff)["omega_p_hz"]
    none = analyse_field(meas, k, s["ramp_model"])["omega_p_hz"]
    temps = meas.trolley_temperature_c
    assert temps.size == 5 and np.std(temps) > 0.5
    w = np.ones(temps.size)
    w[[0, -1]] = 0.5
    expected = coeff * float(w @ temps / w.sum())
    assert none - right == pytest.approx(expected, rel=0.1, abs=0.02)
