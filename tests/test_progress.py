"""Progress lines of long rules (fraction, rate, ETA) and the production's sliced kernel."""

import numpy as np
import pytest

from g2chain.experiment import production
from g2chain.experiment.world import build_conditions, build_world, dataset_settings
from g2chain.progress import Progress, format_duration
from g2chain.truth.field import dataset_field_truth


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_progress_reports_fraction_rate_and_eta(tmp_path):
    clock = Clock()
    log = tmp_path / "job.log"
    p = Progress(log, "run2 chunk 0/4", 1000, "e+", interval_s=10.0, clock=clock)
    clock.t += 20.0
    p.update(250)  # 250 e+ in 20 s: 12.5 e+/s, 750 left -> 60 s
    clock.t += 5.0
    p.update(300)  # within the interval: not written
    clock.t += 55.0
    p.update(1000)  # complete: always written
    lines = log.read_text().splitlines()
    assert len(lines) == 2
    assert "25.0 %" in lines[0] and "12.5 e+/s" in lines[0] and "ETA 1 min 00 s" in lines[0]
    assert "100.0 %" in lines[1] and "ETA 0 s" in lines[1] and "elapsed 1 min 20 s" in lines[1]
    assert format_duration(7620) == "2 h 07 min"
    with pytest.raises(ValueError, match="total"):
        Progress(None, "x", 0, "trials")


def test_the_production_in_slices_is_the_production_in_one_call(base_cfg):
    # the kernel stops at each slice's target and resumes: random state and accumulators carry over
    world = build_world(base_cfg, "run2", dataset_field_truth(base_cfg, "run2"))
    cond = build_conditions(base_cfg, "run2", world)
    det = dataset_settings(base_cfg, "run2")["detector"]
    whole = production.simulate_chunk(cond, 2e5, 7, 0, 0, 1, det)
    p = Progress(None, "test", 2e5, "e+", interval_s=0.0)
    sliced = production.simulate_chunk(cond, 2e5, 7, 0, 0, 1, det, progress=p, steps=7)
    assert len(p.lines) == 7 and "100.0 %" in p.lines[-1]
    arrays = [k for k, v in whole.items() if isinstance(v, np.ndarray)]
    assert arrays and all(np.array_equal(whole[k], sliced[k]) for k in arrays)
