"""The straw trackers as the analyses know them: their decay-vertex histograms summed over a
window of the fill, and the form of their vertical efficiency (its size F is the analysis's
``detector_model`` or, in the world, the sealed ``detector`` block)."""

from __future__ import annotations

import numpy as np

from ..constants import APERTURE_MM


def vertices_in_window(vertices, time_edges, window_us) -> np.ndarray:
    """The [x, y] vertex histogram of both stations for the time bins starting in
    [window_us[0], window_us[1]) of a [station, time, x, y] record."""
    t_lo = np.asarray(time_edges, dtype=float)[:-1]
    sel = (t_lo >= window_us[0]) & (t_lo < window_us[1])
    return np.asarray(vertices, dtype=float)[:, sel].sum(axis=(0, 1))


def vertical_efficiency(y_mm, falloff: float, aperture_mm: float = APERTURE_MM):
    """The trackers' relative vertical efficiency 1 - F (y/a)^2, held at its edge value beyond the
    aperture (vertices there are smeared in by the resolution)."""
    return 1.0 - falloff * (np.minimum(np.abs(np.asarray(y_mm, dtype=float)), aperture_mm) / aperture_mm) ** 2


def vertices_in_time(vertices, time_edges, window_us):
    """(time-bin centres, [time, x, y] histogram of both stations) for the bins starting in
    [window_us[0], window_us[1]) of a [station, time, x, y] record: the M^T(x, y, t) of Sec. V E."""
    edges = np.asarray(time_edges, dtype=float)
    sel = (edges[:-1] >= window_us[0]) & (edges[:-1] < window_us[1])
    h = np.asarray(vertices, dtype=float)[:, sel].sum(axis=0)
    return 0.5 * (edges[:-1] + edges[1:])[sel], h


def radial_moments(h_txy, x_edges):
    """Per time bin of an [time, x, y] histogram: (counts, mean x, variance of that mean) in mm.
    The betatron motion averages out of the mean, so <x>(t) follows the equilibrium radius of the
    decaying population (and its coherent CBO centroid)."""
    xc = 0.5 * (np.asarray(x_edges)[1:] + np.asarray(x_edges)[:-1])
    hx = np.asarray(h_txy, dtype=float).sum(axis=2)
    n = hx.sum(axis=1)
    safe = np.maximum(n, 1.0)
    mean = hx @ xc / safe
    var = np.maximum(hx @ xc**2 / safe - mean**2, 0.0)
    return n, mean, var / safe


