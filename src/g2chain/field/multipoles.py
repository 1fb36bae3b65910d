"""Transverse multipole expansion of the field (Run-2/3 report Eq. 38-39) and its fit to the
17 trolley probes.

    omega'_p(x, y) = sum_{i=1}^{N_max} m_i f_i(r, theta),
    f_1 = 1,  f_i = (r/r0)^{i/2} cos(i/2 theta) (even i),  (r/r0)^{(i-1)/2} sin((i-1)/2 theta) (odd i > 1)

with r0 = 45 mm: i = 2, 3 are the normal and skew quadrupole, 4, 5 the sextupole, ..., 12 the
normal 14-pole (cos 6 theta). Lengths in mm, field as proton frequency in Hz.
"""

from __future__ import annotations

import numpy as np

R0_MM = 45.0
N_MAX = 12


def trolley_probe_positions() -> np.ndarray:
    """(x, y) in mm of the 17 trolley probes: one at the centre, 4 on a 17.5 mm circle, 12 on a
    35 mm circle every 30 degrees. With the outer ring at multiples of 30 degrees, cos 6 theta
    (i = 12) is resolved and sin 6 theta vanishes at every outer probe: that degeneracy is why
    the expansion stops at N_max = 12 (Sec. VI D)."""
    inner = np.deg2rad(np.arange(4) * 90.0)
    outer = np.deg2rad(np.arange(12) * 30.0)
    r = np.concatenate([[0.0], np.full(4, 17.5), np.full(12, 35.0)])
    th = np.concatenate([[0.0], inner, outer])
    return np.column_stack([r * np.cos(th), r * np.sin(th)])


def multipole_basis(x, y, n_max: int = N_MAX, r0: float = R0_MM) -> np.ndarray:
    """f_i(x, y) of Eq. 39 for i = 1..n_max: array of shape (n_max, *x.shape)."""
    if not 1 <= int(n_max) <= 40:
        raise ValueError(f"n_max: {n_max} outside 1..40")
    z = (np.asarray(x, dtype=float) + 1j * np.asarray(y, dtype=float)) / r0
    out = np.empty((int(n_max),) + z.shape)
    out[0] = 1.0
    for i in range(2, int(n_max) + 1):
        # (r/r0)^n e^{i n theta} = z^n: its real part is the normal, imaginary the skew moment
        n = i // 2
        zn = z**n
        out[i - 1] = zn.real if i % 2 == 0 else zn.imag
    return out


def field_from_multipoles(m, x, y, r0: float = R0_MM) -> np.ndarray:
    """omega'_p at (x, y) from the moments m: m of shape (N,) at any x, y; or one set per azimuth,
    m of shape (A, N) with x, y of shape (A, ...)."""
    m = np.asarray(m, dtype=float)
    basis = np.moveaxis(multipole_basis(x, y, m.shape[-1], r0), 0, -1)  # (*xy, N)
    return basis @ m if m.ndim == 1 else np.einsum("a...i,ai->a...", basis, m)


def fit_multipoles(freqs, probe_xy=None, n_max: int = N_MAX, r0: float = R0_MM):
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
