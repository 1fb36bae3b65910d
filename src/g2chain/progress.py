"""Progress lines for long steps: fraction done, rate and estimated time left, written to a log.

A long rule (a production chunk, the correlation trials, the field tracking) gives its work in
units it knows (positrons, trials, trolley runs) and calls ``update`` as it goes; at most one line
every ``interval_s`` seconds (and always the last) is appended to its log file, so that
``tail -f logs/run2/simulate_chunk_0.log`` shows how far a job is and when it will finish.
"""

from __future__ import annotations

import time
from pathlib import Path


def format_duration(seconds: float) -> str:
    """'42 s', '3 min 05 s', '2 h 07 min'."""
    s = max(0.0, float(seconds))
    if s < 60:
        return f"{s:.0f} s"
    if s < 3600:
        return f"{int(s // 60)} min {int(s % 60):02d} s"
    return f"{int(s // 3600)} h {int(s % 3600 // 60):02d} min"


class Progress:
    """Progress of ``total`` units of work named ``unit``, labelled ``label``, appended to ``log_path``
    (or nothing written when ``log_path`` is None: the object then only keeps time). ``fresh``
    empties the log first (a rerun of the job starts its log anew; its summary is appended after)."""

    def __init__(self, log_path, label: str, total: float, unit: str, interval_s: float = 10.0, clock=time.monotonic,
                 fresh: bool = False):
        if not total > 0:
            raise ValueError(f"progress of {label!r}: total must be positive, got {total}")
        self.path = Path(log_path) if log_path else None
        if fresh and self.path is not None:
            self.path.write_text("")
        self.label, self.total, self.unit, self.interval_s, self.clock = label, float(total), unit, interval_s, clock
        self.start = clock()
        self._last_write = -float("inf")
        self.lines: list[str] = []

    def line(self, done: float) -> str:
        """The progress line for ``done`` units, as of now."""
        elapsed = self.clock() - self.start
        frac = min(max(done / self.total, 0.0), 1.0)
        rate = done / elapsed if elapsed > 0 else float("nan")
        eta = (self.total - done) / rate if rate > 0 else float("nan")
        eta_text = format_duration(eta) if eta == eta else "?"
        return (f"[progress] {self.label}: {100 * frac:5.1f} % ({done:.4g} / {self.total:.4g} {self.unit}), "
                f"{rate:.3g} {self.unit}/s, elapsed {format_duration(elapsed)}, ETA {eta_text}")

    def update(self, done: float, force: bool = False) -> None:
        """Record ``done`` units finished; write a line if ``interval_s`` has passed, the work is
        complete, or ``force``."""
        now = self.clock()
        if not (force or done >= self.total or now - self._last_write >= self.interval_s):
            return
        self._last_write = now
        text = self.line(done)
        self.lines.append(text)
        if self.path is not None:
            with open(self.path, "a") as f:
                f.write(text + "\n")
