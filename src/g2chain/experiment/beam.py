"""Beam model of the storage ring in the continuous-ESQ approximation (Table II).

The frequencies here are design values for a muon on the magic orbit; in the toy each muon
has its own, from its momentum (cyclotron frequency from its equilibrium radius) and
amplitudes (tune shifts), and the beam signals emerge from those.
"""

from __future__ import annotations

import math

from ..constants import OMEGA_C_MAGIC, R0_MM


def equilibrium_radius(delta, n: float):
    """Radial offset x_e = R0 delta / (1 - n) of the closed orbit for momentum offset delta."""
    return R0_MM * delta / (1.0 - n)


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


def coherent_offset(kicker_kV: float, offset_at_zero_kick_mm: float, full_kick_kV: float) -> float:
    """Residual radial injection offset left by an under-strength kicker (drives CBO)."""
    return offset_at_zero_kick_mm * max(0.0, 1.0 - kicker_kV / full_kick_kV)
