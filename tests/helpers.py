"""Helpers shared by test modules of different folders (not fixtures: those are in conftest.py).

Imported package-relatively, e.g. ``from ..helpers import small_field_world``.
"""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path

import numpy as np
import yaml

from g2chain.config import validate_config
from g2chain.experiment import field_world
from g2chain.experiment.run_production import produce_in_memory

from .conftest import SCHEMA

# the paper's field tables (Tables XVII, XVIII, ...): tests/data/paper_field_tables.yaml
PAPER_FIELD_TABLES = yaml.safe_load((Path(__file__).parent / "data" / "paper_field_tables.yaml").read_text())

# a small field world: the structure of the issue, quick to build
FIELD_WORLD_SETTINGS = {
    "azimuths": 9000, "dipole_profile_ppm_rms": 17.0, "multipole_azimuthal_ppb_rms": 200.0,
    "dataset_days": 20.0, "trolley_interval_days": 2.5, "access_interval_days": 2.5, "access_hours": 2.0,
    "time_step_s": 600.0, "daily_cycle_ppm": 0.3,
    "tracked_walk_hz_per_sqrt_s": 0.05, "untracked_rate_hz_per_sqrt_s": 0.018, "ramp_days": [0.0, 9.3],
    "ramp_amplitude_ppb": 100.0, "ramp_tau_hours": 12.0, "trolley_run_hours": 2.0, "ramp_wait_hours": 6.0}
M1 = 61.79e6


def small_field_world(seed=1, **over):
    """The field world of FIELD_WORLD_SETTINGS (overridden by ``over``) with Run-2's multipole ratios."""
    return field_world.build_field_world({**FIELD_WORLD_SETTINGS, **over}, M1,
                                         PAPER_FIELD_TABLES["table_xvii_multipole_ratios_ppb"]["run2"],
                                         np.random.SeedSequence(seed))


def field_config(base_cfg, **field):
    """The default config with a quick field world (720 azimuths, 30 min steps) and ``field`` overrides,
    validated against the schema."""
    cfg = copy.deepcopy(base_cfg)
    cfg["field"].update({"azimuths": 720, "time_step_s": 1800.0, **field})
    return validate_config(cfg, SCHEMA)


def experiment_views(cfg, dataset, positrons, seed):
    """One production made in memory: (recorded calorimeter views, lost muons, world, truth)."""
    return produce_in_memory(cfg, dataset, positrons, seed)


def sha256_of(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def package_tree(root, files: dict):
    """A toy ``g2chain`` package under ``root`` from {relative path: source}; returns ``root``."""
    import textwrap

    for rel, text in files.items():
        f = root / "g2chain" / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(textwrap.dedent(text))
    return root
