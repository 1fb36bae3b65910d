"""The two-dimensional multipole expansion of the field over the storage region (Eq. 38-39)."""

from __future__ import annotations

import numpy as np

MULTIPOLE_R0_MM = 45.0


N_MAX = 12


def multipole_basis(x, y, n_max: int = N_MAX, r0: float = MULTIPOLE_R0_MM) -> np.ndarray:
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


def field_from_multipoles(m, x, y, r0: float = MULTIPOLE_R0_MM) -> np.ndarray:
    """omega'_p at (x, y) from the moments m: m of shape (N,) at any x, y; or one set per azimuth,
    m of shape (A, N) with x, y of shape (A, ...)."""
    m = np.asarray(m, dtype=float)
    basis = np.moveaxis(multipole_basis(x, y, m.shape[-1], r0), 0, -1)  # (*xy, N)
    return basis @ m if m.ndim == 1 else np.einsum("a...i,ai->a...", basis, m)
