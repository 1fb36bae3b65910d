"""The storage ring in the continuous-ESQ approximation (Table II): closed orbits, betatron
frequencies, optics functions, and the closed-orbit distortion a dipole harmonic drives."""

from __future__ import annotations

import math

import numpy as np

from ..constants import MAGIC_RADIUS_MM, OMEGA_C_MAGIC


def equilibrium_radius(delta, n: float):
    """Radial offset x_e = R0 delta / (1 - n) of the closed orbit for momentum offset delta."""
    return MAGIC_RADIUS_MM * delta / (1.0 - n)


def beam_frequencies(n: float, omega_c: float = OMEGA_C_MAGIC) -> dict:
    """Angular frequencies (rad/us) of Table II for field index n.

    f_x = sqrt(1-n) f_c, f_y = sqrt(n) f_c; at a fixed calorimeter the radial betatron motion
    aliases to f_CBO = f_c - f_x and the vertical width to f_VW = f_c - 2 f_y.
    """
    nu_x, nu_y = math.sqrt(1.0 - n), math.sqrt(n)
    return {
        "omega_c": omega_c,
        "omega_x": nu_x * omega_c,
        "omega_y": nu_y * omega_c,
        "omega_cbo": (1.0 - nu_x) * omega_c,
        "omega_vw": (1.0 - 2.0 * nu_y) * omega_c,
    }


def radial_cod(m1_profile_hz, phi, field_index: float, radius_mm: float = MAGIC_RADIUS_MM) -> np.ndarray:
    """Eq. 54: the radial closed-orbit distortion (mm) from the N = 1 Fourier component of the
    dipole profile m_1(phi): R0 b_1 / n cos(phi - phi_1), b_1 relative to the mean field."""
    m1 = np.asarray(m1_profile_hz, dtype=float)
    phi = np.asarray(phi, dtype=float)
    c1 = 2.0 * np.mean(m1 * np.exp(1j * phi))  # b_1 e^{i phi_1} in Hz
    b1, phi1 = abs(c1) / m1.mean(), np.angle(c1)
    return radius_mm * b1 / field_index * np.cos(phi - phi1)


def continuous_optics(field_index: float, radius_mm: float = MAGIC_RADIUS_MM) -> dict:
    """beta_x, beta_y (mm) and the dispersion D_x (mm per unit delta) of a ring with continuous
    focusing (the toy's ring: the ESQ fields smeared around the azimuth), the same everywhere."""
    return {"beta_x": radius_mm / np.sqrt(1.0 - field_index), "beta_y": radius_mm / np.sqrt(field_index),
            "dispersion": radius_mm / (1.0 - field_index)}
