"""The coverage study's drawn worlds (studies.world_draws): each sealed deviation is a draw from
the analysis's own stated uncertainty, the analysis's blocks are untouched, and the drawn config
is a valid one."""

from __future__ import annotations

import numpy as np
import pytest

from g2chain.config import validate_against_schema
from g2chain.studies.world_draws import DETECTOR_DRAWS, drawn_world

from ..conftest import SCHEMA
from ..helpers import config_merged


def test_draws_follow_the_models_stated_uncertainties(base_cfg):
    draws = [drawn_world(base_cfg, seed) for seed in range(400)]
    model, bd = base_cfg["detector_model"], base_cfg["beam_dynamics"]
    for key, (analysis, name), lower, upper in DETECTOR_DRAWS:
        v = np.array([d["detector"][key] for d in draws])
        rel = bd[analysis]["variations"][name]
        # truncation narrows the wide ones (50 % variations truncated near 1.6-2 sigma)
        assert np.mean(v) == pytest.approx(model[key], abs=0.15 * abs(model[key])), key
        assert 0.6 * rel < np.std(v) / abs(model[key]) < 1.1 * rel, key
        assert (lower is None or v.min() >= lower) and (upper is None or v.max() <= upper), key
    kick = np.array([d["field"]["kicker"]["coverage"] for d in draws])
    t = base_cfg["field"]["transient_model"]["kicker"]
    assert np.mean(kick) == pytest.approx(t["coverage"], abs=3 * t["coverage_err"] / 20)
    assert np.std(kick) == pytest.approx(t["coverage_err"], rel=0.15)
    slope = np.array([d["beam"]["dphi0_ddelta_mrad_per_percent"] for d in draws])
    assert np.std(slope) == pytest.approx(bd["phase_drifts"]["dphi0_ddelta_err_mrad_per_percent"], rel=0.15)
    # different seeds, different worlds; one seed, one world
    assert drawn_world(base_cfg, 1) == drawn_world(base_cfg, 1) != drawn_world(base_cfg, 2)


def test_a_drawn_world_is_a_valid_config_that_leaves_the_analysis_alone(base_cfg):
    cfg = config_merged(base_cfg, drawn_world(base_cfg, 7))
    validate_against_schema(cfg, SCHEMA)
    for block in ("detector_model", "beam_dynamics", "omega_a_systematics"):
        assert cfg[block] == base_cfg[block]
    assert cfg["field"]["transient_model"] == base_cfg["field"]["transient_model"]
    assert cfg["detector"]["phase_radial_mrad"] != base_cfg["detector"]["phase_radial_mrad"]
