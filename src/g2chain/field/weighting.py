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


def radial_cod(m1_profile_hz, phi, field_index: float, radius_mm: float = 7112.0) -> np.ndarray:
    """Eq. 54: the radial closed-orbit distortion (mm) from the N = 1 Fourier component of the
    dipole profile m_1(phi): R0 b_1 / n cos(phi - phi_1), b_1 relative to the mean field."""
    m1 = np.asarray(m1_profile_hz, dtype=float)
    phi = np.asarray(phi, dtype=float)
    c1 = 2.0 * np.mean(m1 * np.exp(1j * phi))  # b_1 e^{i phi_1} in Hz
    b1, phi1 = abs(c1) / m1.mean(), np.angle(c1)
    return radius_mm * b1 / field_index * np.cos(phi - phi1)


def extrapolate_beam(x_rms_tkr: float, y_rms_tkr: float, beta_x, beta_y, dispersion, beta_x_tkr: float,
                     beta_y_tkr: float, dispersion_tkr: float, delta_mean: float, delta_rms: float, x_cod=0.0):
    """Eq. 50-53: the beam's mean and rms around the ring from the widths at a tracker station.
    beta_x, beta_y, dispersion (m, m, mm per unit delta... any consistent units) at the azimuths
    wanted; returns (<x>, x_rms, y_rms) there (<y> = 0, Eq. 51)."""
    bx, by, dx = (np.asarray(a, dtype=float) for a in (beta_x, beta_y, dispersion))
    betatron2 = x_rms_tkr**2 - dispersion_tkr**2 * delta_rms**2
    if betatron2 < 0:
        raise ValueError("x_rms at the tracker is smaller than its dispersive part D delta_rms")
    x_mean = np.asarray(x_cod, dtype=float) + dx * delta_mean
    x_rms = np.sqrt(bx / beta_x_tkr * betatron2 + dx**2 * delta_rms**2)
    y_rms = np.sqrt(by / beta_y_tkr) * y_rms_tkr
    return x_mean, x_rms, y_rms


def gaussian_projections(x_mean, x_rms, y_rms, n_max: int = 12, r0: float = R0_MM, order: int = 24) -> np.ndarray:
    """k_i (Eq. 42) of an upright Gaussian beam (<y> = 0) at each azimuth: [..., n_max], by
    Gauss-Hermite quadrature (exact for the polynomial f_i up to degree 2 order - 1)."""
    from numpy.polynomial.hermite_e import hermegauss

    u, w = hermegauss(order)
    w = w / w.sum()
    xm, xr, yr = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (x_mean, x_rms, y_rms)))
    x = xm[..., None, None] + xr[..., None, None] * u[:, None]
    y = yr[..., None, None] * u[None, :]
    basis = multipole_basis(x, y, n_max, r0)  # (n, ..., order, order)
    return np.moveaxis(np.einsum("i...ab,a,b->i...", basis, w, w), 0, -1)
