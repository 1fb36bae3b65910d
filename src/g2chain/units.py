"""Unit conventions (DESIGN §4): time us, angular frequency rad/us, energy GeV, length mm,
field as proton frequency in Hz, fractional shifts in ppb."""

from __future__ import annotations

import math

US = "us"
RAD_PER_US = "rad/us"
GEV = "GeV"
MM = "mm"
HZ = "Hz"
PPB = "ppb"
PPM = "ppm"
COUNTS = "counts"
RAD = "rad"
ONE = "1"


def to_ppb(fraction: float) -> float:
    """Fractional shift -> ppb."""
    return fraction * 1e9


def from_ppb(ppb: float) -> float:
    """ppb -> fractional shift."""
    return ppb * 1e-9


def hz_to_rad_per_us(f_hz: float) -> float:
    """Frequency in Hz -> angular frequency in rad/us."""
    return 2.0 * math.pi * f_hz * 1e-6


def rad_per_us_to_hz(omega: float) -> float:
    """Angular frequency in rad/us -> frequency in Hz."""
    return omega / (2.0 * math.pi) * 1e6


def quadrature(values) -> float:
    """Independent uncertainties added in quadrature: sqrt(sum v^2) of any iterable."""
    return math.sqrt(sum(float(v) ** 2 for v in values))
