"""Muon weighting of the field (Run-2/3 report Eq. 40-43): beam multipole projections k_i and
the muon-weighted field sum_i k_i m_i."""

from __future__ import annotations

import numpy as np

from ..physics.multipoles import MULTIPOLE_R0_MM, multipole_basis
from ..physics.ring import continuous_optics, radial_cod
from ..records.trackers import vertical_efficiency, vertices_in_window


def beam_projections(density, x_mm, y_mm, n_max: int = 12, r0: float = MULTIPOLE_R0_MM) -> np.ndarray:
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


def gaussian_projections(x_mean, x_rms, y_rms, n_max: int = 12, r0: float = MULTIPOLE_R0_MM,
                         order: int = 24) -> np.ndarray:
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


def tracker_beam(vertices, x_edges, y_edges, time_edges, t_min_us: float, resolution_mm: float,
                 vertical_falloff: float, aperture_mm: float = 45.0) -> dict:
    """The beam's transverse distribution from the trackers' decay-vertex histograms
    [station, time, x, y] (counts): decays after ``t_min_us`` (the omega_a fit start: the beam
    the fit weighs), both stations, each bin divided by the trackers' vertical efficiency
    1 - F (y / aperture)^2. Returns the corrected density and bin centres, the means, the rms
    with the vertex resolution removed in quadrature, and their statistical errors."""
    counts = vertices_in_window(vertices, time_edges, (t_min_us, np.inf))
    n = counts.sum()
    if n < 100:
        raise ValueError(f"trackers: only {n:.0f} vertices after {t_min_us} us; cannot measure the beam")
    xc = 0.5 * (np.asarray(x_edges)[1:] + np.asarray(x_edges)[:-1])
    yc = 0.5 * (np.asarray(y_edges)[1:] + np.asarray(y_edges)[:-1])
    density = counts / vertical_efficiency(yc, vertical_falloff, aperture_mm)[None, :]
    w = density / density.sum()
    px, py = w.sum(axis=1), w.sum(axis=0)
    mx, my = float(px @ xc), float(py @ yc)
    vx, vy = float(px @ (xc - mx) ** 2), float(py @ (yc - my) ** 2)
    res2 = resolution_mm**2
    if min(vx, vy) <= res2:
        raise ValueError("trackers: beam narrower than the vertex resolution")
    return {"density": density, "x_mm": xc, "y_mm": yc, "vertices": float(n),
            "x_mean": mx, "y_mean": my, "x_rms": float(np.sqrt(vx - res2)), "y_rms": float(np.sqrt(vy - res2)),
            "x_mean_err": float(np.sqrt(vx / n)), "x_rms_err": float(np.sqrt(vx / (2 * n))),
            "y_rms_err": float(np.sqrt(vy / (2 * n)))}


def azimuthal_projections(beam: dict, phi, m1_map_hz, field_index: float, optics: dict | None = None,
                          delta_rms: float = 0.0, n_max: int = 12) -> np.ndarray:
    """k_i(phi) (Eq. 42) around the ring, [len(phi), n_max]: the tracker beam (``tracker_beam``)
    carried to every azimuth by Eq. 50-53 with the optics there (default: continuous focusing,
    where the widths do not change) plus the closed-orbit distortion that the N = 1 harmonic of the
    measured dipole map drives (Eq. 54). The toy's trackers sit on the ideal orbit, so the COD is
    added on top of their mean."""
    phi = np.asarray(phi, dtype=float)
    opt = optics or continuous_optics(field_index)
    ones = np.ones_like(phi)
    x_cod = radial_cod(m1_map_hz, phi, field_index)
    x_mean, x_rms, y_rms = extrapolate_beam(
        beam["x_rms"], beam["y_rms"], opt["beta_x"] * ones, opt["beta_y"] * ones, opt["dispersion"] * ones,
        opt["beta_x"], opt["beta_y"], opt["dispersion"], 0.0, delta_rms, x_cod)
    # the tracker mean (D <delta> and any betatron offset) is carried unchanged: in the toy's ring
    # the dispersion is the same at the trackers as everywhere else
    x_mean = x_mean + beam["x_mean"]
    return gaussian_projections(x_mean, x_rms, y_rms, n_max)


def weighted_field(moments_hz, map_hz, projections_of_phi) -> float:
    """omega~'_p (Eq. 40-43) from the ring- and muon-time-averaged moments <m_i> (12,), the
    time-averaged map m_i(phi) (A, 12), and the projections k_i(phi) (A, 12): sum_i k_bar_i <m_i>
    plus the azimuthal covariance of k_i(phi) with the map (exact when the beam does not change
    in time and the map's time variation is azimuthally uniform)."""
    m = np.asarray(moments_hz, dtype=float)
    a = np.asarray(map_hz, dtype=float)
    k = np.asarray(projections_of_phi, dtype=float)
    n = k.shape[-1]
    if k.ndim == 1:
        return float(m[:n] @ k)
    k_bar = k.mean(axis=0)
    cov = np.mean(np.sum((k - k_bar) * (a[:, :n] - a[:, :n].mean(axis=0)), axis=1))
    return float(m[:n] @ k_bar + cov)
