"""The field truth from config: the muon-weighted field of the world, which no measurement choice
moves, near the configured dipole, with B_K and B_Q as configured."""

import pytest

from g2chain.truth.field import field_truth

from ..helpers import field_config as _cfg


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
