"""omega~'_p from a world made from the config: the Brownian bridge's scaling with the trolley
interval, and the trolley temperature correction with the bench coefficient."""

import math

import numpy as np
import pytest

from g2chain.experiment import field_measurements, run_field_systems
from g2chain.field.omega_p import analyse_field

from ..helpers import field_config as _cfg


def _bridge_per_rate(cfg, dataset="run2"):
    """Analyse the dataset's world with the config's trolley plan: (bridge / estimated M, M, its error)."""
    world = run_field_systems.dataset_field_world(cfg, dataset)
    s = run_field_systems.field_settings(cfg, dataset)
    meas = field_measurements.measure_field(world, s, run_field_systems.true_probe_offsets(cfg, dataset),
                                            np.random.default_rng(7))
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


def test_trolley_temperature_is_corrected_with_the_bench_coefficient(base_cfg):
    """Each run's probes read coeff x (T_run - T_calibration) high: a pure m_1 shift of that run's
    map. Corrected with the true coefficient it is gone; with none, omega~'_p moves by the
    coefficient times the runs' temperatures weighted as tracking weighs the runs (half weight
    at the ends: linear interpolation between runs)."""
    cfg = _cfg(base_cfg, dataset_days=12.0, trolley_temperature_rms_c=2.0)
    s = run_field_systems.field_settings(cfg, "run2")
    world = run_field_systems.dataset_field_world(cfg, "run2")
    meas = field_measurements.measure_field(world, s, run_field_systems.true_probe_offsets(cfg, "run2"),
                                            np.random.default_rng(3))
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
