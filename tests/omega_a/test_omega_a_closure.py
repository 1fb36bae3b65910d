"""Closure of the omega_a analysis against the sealed truth: pulls over independent productions.

The truth (the omega_a^m the detected wiggle carries, recorded by the production) is read only
here, inside the test. Both blinds are removed by the test: the software offset from the group's
phrase, the hardware clock blind from the sealed world.
"""

import copy
import math

import numpy as np
import pytest

from g2chain.blinding import software_offset_ppm
from g2chain.omega_a.analysis_fit import fit_analysis
from g2chain.omega_a.groups import analysis_spec, load_groups
from g2chain.omega_a.wiggle import build_wiggle
from g2chain.omega_a.wiggle_model import omega_from_r
from g2chain.truth import production as production_truth

from ..conftest import ROOT
from ..helpers import experiment_views

GROUPS = load_groups(ROOT / "config" / "groups.yaml", ROOT / "workflow" / "schemas" / "groups.schema.yaml")


def closure_pull(cfg, dataset, name, positrons, seed):
    """(pull, record) of one analysis against the production's true omega_a^m."""
    calo, loss, world, truth = experiment_views(cfg, dataset, positrons, seed)
    spec = analysis_spec(GROUPS, name, dataset)
    wiggle = build_wiggle(calo, spec)
    fits = fit_analysis(wiggle, spec, float(cfg["datasets"][dataset]["field_index"]), loss["time_edges"],
                        loss["triple_coincidences"])
    full = fits.full
    omega = omega_from_r(full.values["R"], software_offset_ppm(GROUPS["groups"][spec.group]["phrase"]))
    omega_true_clock = omega / (1.0 + world["eps_hw"])
    weights = np.asarray(wiggle.weights) if wiggle.weights is not None else production_truth.method_weights("Q")
    true = production_truth.true_omega_a_m_weighted(truth, world["omega_a_ref"], weights, spec.window_us)
    sigma = full.errors["R"] * 1e-6 * omega_true_clock
    return (omega_true_clock - true) / sigma, full


@pytest.mark.slow
def test_i_a_pulls_over_independent_productions(base_cfg):
    """>= 20 seeds of a tiny production: the I-A pulls have mean ~0 and unit spread."""
    cfg = copy.deepcopy(base_cfg)
    pulls = [closure_pull(cfg, "run2", "I-A", 2e6, 1000 + s)[0] for s in range(20)]
    pulls = np.array(pulls)
    mean, std = pulls.mean(), pulls.std(ddof=1)
    print(f"I-A closure over {pulls.size} seeds: mean pull {mean:+.3f} +- {std / math.sqrt(pulls.size):.3f}, "
          f"std {std:.3f}; pulls {np.round(pulls, 2).tolist()}")
    assert abs(mean) < 0.5, pulls
    assert 0.7 < std < 1.4, pulls
