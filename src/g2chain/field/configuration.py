"""The configuration correction of the field maps (Run-2/3 report Sec. VI D, delta^config, Table XV).

The trolley maps the field with the collimators retracted and the rails in their trolley
position; while muons are stored the collimators are in, and their materials' field is not in
the maps. The correction is the analysis's *calculation* of that field (a Gaussian bump of m_1 in
azimuth per collimator, ``configuration_model``) averaged over the ring as the muons weight it.
Its uncertainty is the discrepancy between the calculation and what a local probe at each
collimator measures (collimator in minus out), carried to the ring: each collimator's calculated
contribution scaled by (measured / calculated - 1) at its probe, summed, with the probes'
statistical error beside it. The report used the calculation and booked that discrepancy; so does
this module. ``docs/field.md`` section 3.1 has the derivation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..numerics import periodic_gaussians
from ..records.field_files import ConfigurationProbes


@dataclass
class ConfigurationCorrection:
    """delta^config of one dataset. ``correction_hz``: what is added to omega~'_p (the calculated
    field of the collimators, ring-averaged with the muons' k_1(phi)); ``discrepancy_hz``: the
    calculation's miss at the local probes carried to the ring (the systematic);
    ``statistical_hz``: the probes' noise carried the same way; ``ratio``: (C,) measured over
    calculated step at each probe."""

    correction_hz: float
    discrepancy_hz: float
    statistical_hz: float
    ratio: np.ndarray

    @property
    def error_hz(self) -> float:
        """The whole uncertainty of the correction (Hz)."""
        return float(math.hypot(self.discrepancy_hz, self.statistical_hz))


def collimator_bump(phi, centre, amplitude_hz: float, width_rad: float) -> np.ndarray:
    """A collimator's calculated m_1 change [Hz] at azimuths phi: a Gaussian of ``width_rad``
    around ``centre`` (nearest image on the ring)."""
    return periodic_gaussians(phi, [centre], [amplitude_hz], width_rad)


def configuration_correction(probes: ConfigurationProbes, model: dict, m1_hz: float, phi,
                             k1_of_phi) -> ConfigurationCorrection:
    """delta^config from the local probes and the calculation ``model`` ({amplitude_ppb, width_deg}:
    each collimator's m_1 bump at its centre, in ppb of ``m1_hz``, and its Gaussian width).
    ``phi`` (A,): the map's azimuths, uniform over the ring; ``k1_of_phi`` (A,): the muons'
    dipole projection there (Eq. 40-43; 1 for a centred beam)."""
    amp = 1e-9 * float(model["amplitude_ppb"]) * m1_hz
    width = math.radians(float(model["width_deg"]))
    k1 = np.asarray(k1_of_phi, dtype=float)
    each = np.array([np.mean(collimator_bump(phi, c, amp, width) * k1) for c in probes.collimator_azimuth_rad])
    calc_at_probe = np.array([collimator_bump(p, c, amp, width) for c, p in
                              zip(probes.collimator_azimuth_rad, probes.probe_azimuth_rad, strict=True)])
    if np.any(calc_at_probe == 0.0):
        raise ValueError("field.configuration_model: the calculation gives no field at a local probe")
    ratio = probes.step_hz / calc_at_probe
    statistical = float(np.sqrt(np.sum((probes.step_err_hz / calc_at_probe * each) ** 2)))
    discrepancy = float(abs(np.sum((ratio - 1.0) * each)))
    return ConfigurationCorrection(float(each.sum()), discrepancy, statistical, ratio)
