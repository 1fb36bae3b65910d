"""The correlation study runs on a world of its own: its seed, a_mu and blinds are not the data's."""

import copy

import pytest

from g2chain.blinding import hardware_blind, software_offset_ppm
from g2chain.omega_a.groups import load_groups
from g2chain.studies.correlation_trials import STUDY_A_MU_RANGE, study_world

from ..conftest import ROOT

SCHEMA = ROOT / "workflow" / "schemas" / "groups.schema.yaml"


def test_the_study_world_is_not_the_sealed_one(base_cfg):
    groups = load_groups(ROOT / "config" / "groups.yaml", SCHEMA)
    cfg, before, groups_before = copy.deepcopy(base_cfg), copy.deepcopy(base_cfg), copy.deepcopy(groups)
    study, study_groups = study_world(cfg, groups)
    assert cfg == before and groups == groups_before  # the run's own config is left alone
    assert study["seed"] == cfg["seed"] + cfg["omega_a_correlations"]["seed_offset"]
    a_mu, a_study = cfg["truth"]["a_mu"], study["truth"]["a_mu"]
    assert a_study != a_mu and abs(a_study / a_mu - 1) <= STUDY_A_MU_RANGE
    ds = cfg["omega_a_correlations"]["dataset"]
    assert hardware_blind(study["blinding"]["hardware_phrase"], ds) != hardware_blind(
        cfg["blinding"]["hardware_phrase"], ds)
    for name, g in groups["groups"].items():
        assert software_offset_ppm(study_groups["groups"][name]["phrase"]) != pytest.approx(
            software_offset_ppm(g["phrase"]), abs=1e-9)
    # the physics the correlations depend on is the data's: beam, detector, dataset conditions
    for block in ("beam", "detector", "production", "field", "datasets"):
        assert study[block] == cfg[block]


def test_a_different_run_seed_gives_a_different_study_world(base_cfg):
    groups = load_groups(ROOT / "config" / "groups.yaml", SCHEMA)
    one, _ = study_world(base_cfg, groups)
    two, _ = study_world({**base_cfg, "seed": base_cfg["seed"] + 1}, groups)
    assert one["truth"]["a_mu"] != two["truth"]["a_mu"]
