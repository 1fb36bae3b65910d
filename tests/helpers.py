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

from .conftest import ROOT, SCHEMA

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


def config_merged(base: dict, over: dict) -> dict:
    """``over`` merged into ``base`` key by key, as Snakemake merges a --configfile."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = config_merged(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def ci_config() -> dict:
    """config.yaml with config/ci.yaml merged over it, as the shared ci run uses it."""
    return config_merged(*(yaml.safe_load((ROOT / "config" / name).read_text()) for name in ("config.yaml", "ci.yaml")))


# the phase-drift world (mutation and adding-up tests): a strong momentum-time correlation, strong
# momentum-dependent losses and phase maps 3.5x the default's, where C_ml and C_pa are resolved
PHASE_DRIFT_WORLD = {
    "beam": {"delta_t0_correlation": 0.6, "loss_rate_per_us": 0.01, "loss_momentum_slope": 1.5},
    "detector": {"phase_radial_mrad": 40.0, "phase_vertical_quadratic_mrad": -20.0},
    # the analysis's model of it: 10 % off, inside its 25 % map uncertainty
    "detector_model": {"phase_radial_mrad": 36.0, "phase_vertical_quadratic_mrad": -18.0},
}


def phase_drift_config() -> dict:
    """``ci_config`` with the PHASE_DRIFT_WORLD blocks merged over it."""
    cfg = ci_config()
    for block, update in PHASE_DRIFT_WORLD.items():
        cfg[block].update(update)
    return cfg
