"""Blinding (DESIGN §2): a hardware clock blind and per-group software offsets (Eq. 5).

Both blinds are derived from secret phrases by a cryptographic hash, so nobody reading the
config learns them, yet the same phrase always gives the same offset.
"""

from __future__ import annotations

import hashlib

HARDWARE_BLIND_RANGE = 25e-6  # the clock is off by at most +-25 ppm
SOFTWARE_BLIND_RANGE_PPM = 24.0  # Delta R within +-24 ppm (Sec. IV D)


def _unit_interval(text: str) -> float:
    """Map a text to a number in [-1, 1) through SHA-256."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**63 - 1.0


def hardware_blind(phrase: str, dataset: str) -> float:
    """Fractional clock offset eps_hw of a dataset, within +-25 ppm.

    Every experiment time is recorded as t_true / (1 + eps_hw), so every measured angular
    frequency is omega_true * (1 + eps_hw).
    """
    return HARDWARE_BLIND_RANGE * _unit_interval(f"hardware|{dataset}|{phrase}")


def software_offset_ppm(group_phrase: str) -> float:
    """Software blinding offset Delta R of an analysis group in ppm (Eq. 5), within +-24 ppm."""
    return SOFTWARE_BLIND_RANGE_PPM * _unit_interval(f"software|{group_phrase}")


def blinded_time(t_true, eps_hw: float):
    """Time as read off the blinded clock."""
    return t_true / (1.0 + eps_hw)
