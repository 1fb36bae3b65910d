"""Muon decay in the lab frame: the boosted Michel spectrum (DESIGN §5).

With y = E/E_max the lab-frame positron density for a muon whose spin makes angle theta with
its momentum is N(y)[1 + A(y) cos theta], N(y) = (y-1)(4y^2-5y-5), A(y) = (-8y^2+y+1)/(4y^2-5y-5).
This is an exact mixture of two fixed densities with weights (1 +- cos theta)/2:
    N + N A = 4 (1 - y^3)          (positron along the spin's forward direction)
    N - N A = 6 (1 - y)^2 (2y + 1) (backward)
each integrating to 3 over [0, 1]. Sampling y therefore takes one table look-up in the inverse
CDF of the chosen component, whatever theta is.
"""

from __future__ import annotations

import numpy as np
from numba import njit

N_TABLE = 16385


def inverse_cdf_tables(n: int = N_TABLE) -> np.ndarray:
    """Inverse CDFs of the forward and backward components on a uniform grid of u in [0, 1].

    Returns an array (2, n): row 0 for 4(1-y^3)/3, row 1 for 2(1-y)^2(2y+1).
    """
    y = np.linspace(0.0, 1.0, 400001)
    f_forward = (4.0 * y - y**4) / 3.0
    f_backward = y**4 - 2.0 * y**3 + 2.0 * y
    u = np.linspace(0.0, 1.0, n)
    return np.vstack([np.interp(u, f_forward, y), np.interp(u, f_backward, y)])


@njit(inline="always", cache=True)
def sample_energy_fraction(u, cos_theta, tables):
    """Lab energy fraction y for spin angle cos_theta from one uniform u in (0, 1]."""
    row, x = energy_table_position(u, cos_theta, tables.shape[1] - 1)
    return interpolate_table(tables, row, x)


@njit(inline="always", cache=True)
def energy_table_position(u, cos_theta, n):
    """Where uniform u falls in the inverse-CDF tables (n + 1 entries a row) for spin angle
    cos_theta: (row, x), row 0 forward and 1 backward, x in [0, n]. Branch-free, as the choice is
    a coin flip (a branch would mispredict half the time)."""
    w_forward = 0.5 * (1.0 + cos_theta)
    backward = u > w_forward
    v = (u - w_forward if backward else u) / (1.0 - w_forward if backward else w_forward)
    return (1 if backward else 0), v * n


@njit(inline="always", cache=True)
def interpolate_table(tables, row, x):
    """tables[row] linearly interpolated at x in [0, n] (x = n gives the last entry exactly)."""
    i = min(int(x), tables.shape[1] - 2)
    frac = x - i
    return tables[row, i] * (1.0 - frac) + tables[row, i + 1] * frac


@njit(inline="always", cache=True)
def asymmetry_of(y):
    """A(y) inside the kernel."""
    return (-8.0 * y * y + y + 1.0) / (4.0 * y * y - 5.0 * y - 5.0)
