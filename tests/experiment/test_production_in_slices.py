"""The production's sliced kernel (progress lines of a long chunk): stopping at each slice and
resuming gives the production in one call."""

import numpy as np

from g2chain.experiment import production
from g2chain.experiment.run_production import cached_muon_field
from g2chain.experiment.world import build_conditions, build_world, dataset_settings
from g2chain.progress import Progress


def test_the_production_in_slices_is_the_production_in_one_call(base_cfg):
    # the kernel stops at each slice's target and resumes: random state and accumulators carry over
    world = build_world(base_cfg, "run2")
    cond = build_conditions(base_cfg, "run2", world)
    field = cached_muon_field(base_cfg, "run2", world)
    det = dataset_settings(base_cfg, "run2")["detector"]
    whole = production.simulate_chunk(cond, field, 2e5, 7, 0, 0, 1, det)
    p = Progress(None, "test", 2e5, "e+", interval_s=0.0)
    sliced = production.simulate_chunk(cond, field, 2e5, 7, 0, 0, 1, det, progress=p, steps=7)
    assert len(p.lines) == 7 and "100.0 %" in p.lines[-1]
    arrays = [k for k, v in whole.items() if isinstance(v, np.ndarray)]
    assert arrays and all(np.array_equal(whole[k], sliced[k]) for k in arrays)
