"""Generic numerics on arrays, shared by every layer: no physics model and no estimator of one branch."""

from __future__ import annotations

import math

import numpy as np


def weighted_slope(t, y, weights) -> float:
    """Least-squares slope of y(t) with weights (the decays in each time bin)."""
    t, y, w = (np.asarray(a, dtype=float) for a in (t, y, weights))
    tm = np.sum(w * t) / w.sum()
    ym = np.sum(w * y) / w.sum()
    return float(np.sum(w * (t - tm) * (y - ym)) / np.sum(w * (t - tm) ** 2))


def periodic_linear_weights(phi, station_phi) -> np.ndarray:
    """(A, S) linear-interpolation weights in azimuth between neighbouring stations (periodic)."""
    s = np.asarray(station_phi, dtype=float)
    n = s.size
    step = 2 * math.pi / n
    pos = ((np.asarray(phi, dtype=float) - s[0]) % (2 * math.pi)) / step
    lo = np.floor(pos).astype(int) % n
    f = pos - np.floor(pos)
    w = np.zeros((pos.size, n))
    w[np.arange(pos.size), lo] = 1 - f
    w[np.arange(pos.size), (lo + 1) % n] += f
    return w


def periodic_gaussians(phi, centres, amplitudes, width_rad: float) -> np.ndarray:
    """Sum of Gaussians in azimuth, amplitude a_c at centre phi_c and width ``width_rad``, each at
    its nearest image on the ring, evaluated at phi (any shape): sum_c a_c exp(-d_c^2 / 2 w^2)."""
    d = np.angle(np.exp(1j * (np.asarray(phi, dtype=float)[..., None] - np.asarray(centres, dtype=float))))
    return np.sum(np.asarray(amplitudes, dtype=float) * np.exp(-0.5 * (d / width_rad) ** 2), axis=-1)
