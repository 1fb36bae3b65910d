"""Blinding (DESIGN §2): a hardware clock blind and per-group software offsets (Eq. 5).

Each offset is a SHA-256 hash of a phrase, so the same phrase always gives the same offset.

What the blinds protect against: an analyst tuning a choice (a fit function, a cut, a
correction) while watching a_mu move towards an expected value. The numbers an analysis prints
carry both blinds; the relative unblinding removes only the software offsets (the groups can be
compared with each other, not with the truth), and only rule ``unblind`` removes the hardware one.

What they do not protect against, in this project: the phrases are in the config files
(``blinding.hardware_phrase``, each group's ``phrase`` in ``config/groups.yaml``), so anyone who
reads them can compute both blinds with these functions, and the sealed files (``results/*/sealed/``)
hold eps_hw and the truth in the clear. The blinds keep an honest analyst blind, not a curious
one; in the experiment the hardware blind was set by people outside the analysis.
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
