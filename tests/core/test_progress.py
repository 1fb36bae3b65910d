"""Progress lines of long rules: fraction, rate, ETA."""

import pytest

from g2chain.progress import Progress, format_duration


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
