"""Muon weighting of the field (Run-2/3 report Eq. 40-43): beam multipole projections k_i and
the muon-weighted field sum_i k_i m_i."""

from __future__ import annotations

import numpy as np

from .multipoles import R0_MM, multipole_basis


def beam_projections(density, x_mm, y_mm, n_max: int = 12, r0: float = R0_MM) -> np.ndarray:
    """k_i = int M f_i dx dy / int M dx dy (Eq. 42) for a beam density M on the grid x_mm (columns
    of ``density``'s first axis) x y_mm (second axis), e.g. a tracker [x, y] histogram."""
    m = np.asarray(density, dtype=float)
    x, y = np.meshgrid(np.asarray(x_mm, float), np.asarray(y_mm, float), indexing="ij")
    if m.shape != x.shape:
        raise ValueError(f"density: shape {m.shape}, expected {x.shape} from x_mm, y_mm")
    if np.any(m < 0) or not np.all(np.isfinite(m)):
        raise ValueError("density: negative or non-finite entries")
    total = m.sum()
    if not total > 0:
        raise ValueError("density: empty")
    basis = multipole_basis(x, y, n_max, r0)
    return np.einsum("ixy,xy->i", basis, m) / total


def muon_weighted_field(moments, projections) -> np.ndarray:
    """sum_i k_i m_i (Eq. 41) over the last axis of both (moments and projections broadcast)."""
    m, k = np.asarray(moments, dtype=float), np.asarray(projections, dtype=float)
    if m.shape[-1] != k.shape[-1]:
        raise ValueError(f"moments ({m.shape[-1]}) and projections ({k.shape[-1]}) differ in N_max")
    return np.sum(m * k, axis=-1)
