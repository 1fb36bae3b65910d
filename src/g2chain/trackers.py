"""The straw trackers as the analyses know them: their decay-vertex histograms summed over a
window of the fill, and their vertical efficiency (the detector model the production uses)."""

from __future__ import annotations

import numpy as np

from .constants import APERTURE_MM, TRACKER_VERTICAL_FALLOFF


def vertices_in_window(vertices, time_edges, window_us) -> np.ndarray:
    """The [x, y] vertex histogram of both stations for the time bins starting in
    [window_us[0], window_us[1]) of a [station, time, x, y] record."""
    t_lo = np.asarray(time_edges, dtype=float)[:-1]
    sel = (t_lo >= window_us[0]) & (t_lo < window_us[1])
    return np.asarray(vertices, dtype=float)[:, sel].sum(axis=(0, 1))


def vertical_efficiency(y_mm, falloff: float = TRACKER_VERTICAL_FALLOFF, aperture_mm: float = APERTURE_MM):
    """The trackers' relative vertical efficiency 1 - F (y/a)^2, held at its edge value beyond the
    aperture (vertices there are smeared in by the resolution)."""
    return 1.0 - falloff * (np.minimum(np.abs(np.asarray(y_mm, dtype=float)), aperture_mm) / aperture_mm) ** 2
