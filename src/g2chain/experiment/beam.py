"""Beam model of the storage ring in the continuous-ESQ approximation (Table II).

The frequencies here are design values for a muon on the magic orbit; in the toy each muon
has its own, from its momentum (cyclotron frequency from its equilibrium radius) and
amplitudes (tune shifts), and the beam signals emerge from those.
"""

from __future__ import annotations

import math

import numpy as np

from ..physics.ring import equilibrium_radius


def coherent_offset(kicker_kV: float, offset_at_zero_kick_mm: float, full_kick_kV: float) -> float:
    """Residual radial injection offset left by an under-strength kicker (drives CBO)."""
    return offset_at_zero_kick_mm * max(0.0, 1.0 - kicker_kV / full_kick_kV)


def injection_offset(c, x_e, zx):
    """Radial betatron offset at injection (mm): every muon leaves the inflector near one radius
    x_i, so its offset from its own closed orbit is x_i - x_e (Eq. 17 state i). x_i sits x_coh
    (the missing kick) outside the closed orbit of the mean momentum, with a spread sigma_inj."""
    x_ref = c.r0 * c.delta_mean / (1.0 - c.n)
    return c.x_coh + x_ref - x_e + c.sigma_inj * zx


def injection(c, u, z_d, zx, zpx, zy, zpy) -> dict:
    """The production kernel's injection from its random variates (``c``: the kernel's
    Conditions): momentum offset delta with the delta-t0 correlation through the bunch position u,
    the equilibrium radius x_e, the betatron amplitudes a_x, a_y (mm) and the reach rho (the
    muon's largest excursion over the aperture radius; stored if rho < 1, scraped early if
    rho >= 1 - scraping/aperture)."""
    rho_corr = math.sqrt(max(0.0, 1.0 - c.rho_dt**2))
    delta = c.delta_mean + c.delta_rms * (c.rho_dt * (u - 0.5) * math.sqrt(12.0) + rho_corr * z_d)
    x_e = equilibrium_radius(delta, c.n)
    x0, px0 = injection_offset(c, x_e, zx), c.sigma_x * zpx
    y0, py0 = c.y_coh + c.sigma_y * (1.0 + c.vw_mismatch) * zy, c.sigma_y * (1.0 - c.vw_mismatch) * zpy
    a_x, a_y = np.hypot(x0, px0), np.hypot(y0, py0)
    rho = np.hypot(np.abs(x_e) + a_x, a_y) / c.aperture
    return {"delta": delta, "x_e": x_e, "a_x": a_x, "a_y": a_y, "rho": rho}


def stored_beam(c, n_muons: int, rng):
    """Transverse positions (x, y) in mm of stored muons at a random betatron phase: the beam the
    field sees once the coherent motion has decohered. Same injection as the production kernel
    (momentum with the delta-t0 correlation, betatron amplitudes, aperture and scraping cuts);
    ``c``: the kernel's Conditions. Used for the sealed truth of the muon-weighted field."""
    u = rng.uniform(size=n_muons)
    z_d = rng.normal(size=n_muons)
    zx, zpx, zy, zpy = rng.normal(size=(4, n_muons))
    m = injection(c, u, z_d, zx, zpx, zy, zpy)
    keep = m["rho"] < 1.0 - c.scrape_mm / c.aperture  # stored, and not scraped in the first microseconds
    psi_x, psi_y = rng.uniform(0.0, 2 * math.pi, size=(2, n_muons))
    x = m["x_e"] + m["a_x"] * np.cos(psi_x)
    y = m["a_y"] * np.cos(psi_y)
    return x[keep], y[keep]
