"""Muon decay in the lab frame: the boosted Michel spectrum N(y) and asymmetry A(y), y = E/E_max."""

from __future__ import annotations

import numpy as np


def michel_number(y):
    """Unpolarised lab-frame density N(y) (unnormalised; integral 3)."""
    y = np.asarray(y, dtype=float)
    return (y - 1.0) * (4.0 * y**2 - 5.0 * y - 5.0)


def michel_asymmetry(y):
    """Lab-frame decay asymmetry A(y); zero at y = (1 + sqrt(33))/16 = 0.4215."""
    y = np.asarray(y, dtype=float)
    return (-8.0 * y**2 + y + 1.0) / (4.0 * y**2 - 5.0 * y - 5.0)


ASYMMETRY_ZERO_Y = (1.0 + np.sqrt(33.0)) / 16.0
