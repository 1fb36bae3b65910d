"""Transverse multipole expansion of the field (Run-2/3 report Eq. 38-39) and its fit to the
17 trolley probes.

    omega'_p(x, y) = sum_{i=1}^{N_max} m_i f_i(r, theta),
    f_1 = 1,  f_i = (r/r0)^{i/2} cos(i/2 theta) (even i),  (r/r0)^{(i-1)/2} sin((i-1)/2 theta) (odd i > 1)

with r0 = 45 mm: i = 2, 3 are the normal and skew quadrupole, 4, 5 the sextupole, ..., 12 the
normal 14-pole (cos 6 theta). Lengths in mm, field as proton frequency in Hz.
"""

from __future__ import annotations

import numpy as np

from ..physics.multipoles import MULTIPOLE_R0_MM, N_MAX, multipole_basis
from ..records.field_layout import trolley_probe_positions


def fit_multipoles(freqs, probe_xy=None, n_max: int = N_MAX, r0: float = MULTIPOLE_R0_MM):
    """Least-squares moments m_1..m_n_max from probe frequencies at each azimuth.

    ``freqs``: [..., 17] frequencies (Hz) of the probes at ``probe_xy`` (default: the trolley's).
    NaN marks a dead probe reading: that azimuth is fitted without it, and an azimuth with
    fewer live probes than moments raises. Returns (m [..., n_max], residuals [..., 17], NaN
    where the probe was dead).
    """
    probe_xy = trolley_probe_positions() if probe_xy is None else np.asarray(probe_xy, dtype=float)
    f = np.asarray(freqs, dtype=float)
    if f.shape[-1] != len(probe_xy):
        raise ValueError(f"freqs: last axis {f.shape[-1]}, expected one value per probe ({len(probe_xy)})")
    a = multipole_basis(probe_xy[:, 0], probe_xy[:, 1], n_max, r0).T  # (probes, n_max)
    flat = f.reshape(-1, f.shape[-1])
    m = np.empty((flat.shape[0], int(n_max)))
    dead = ~np.isfinite(flat)
    if not dead.any():
        m[:] = np.linalg.lstsq(a, flat.T, rcond=None)[0].T
    else:
        # group azimuths by their pattern of dead probes: one solve per pattern
        patterns, inverse = np.unique(dead, axis=0, return_inverse=True)
        for k, pattern in enumerate(patterns):
            rows = np.flatnonzero(inverse.ravel() == k)
            live = ~pattern
            if live.sum() < n_max or np.linalg.matrix_rank(a[live]) < n_max:
                raise ValueError(f"freqs: {int(pattern.sum())} dead probe(s) {np.flatnonzero(pattern).tolist()} "
                                 f"leave the {n_max} moments undetermined")
            m[rows] = np.linalg.lstsq(a[live], flat[rows][:, live].T, rcond=None)[0].T
    resid = flat - m @ a.T
    return m.reshape(f.shape[:-1] + (int(n_max),)), resid.reshape(f.shape)
