"""Gain corrections from the laser calibration system (Sec. IV C 1).

In-fill: the laser samples each calorimeter's gain at fixed times in the fill; the mean over
calorimeters, fitted by 1 - a e^{-t/tau}, is the correction at any t. Short-term: the laser's
pulse pairs give the sag after a prior 1 GeV deposit as a function of separation, fitted by
1 - b e^{-dt/tau_s}; the average sag at time t is b tau_s times the energy rate per calorimeter.
Each fitted parameter comes with its error, for the gain systematic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import curve_fit

from ..constants import N_CALOS


@dataclass
class GainModel:
    infill_amp: float
    infill_amp_err: float
    infill_tau_us: float
    shortterm_amp: float  # sag per GeV of prior deposit at zero separation
    shortterm_amp_err: float
    shortterm_tau_ns: float

    def infill(self, t_us: np.ndarray, scale: float = 1.0) -> np.ndarray:
        return 1.0 - scale * self.infill_amp * np.exp(-t_us / self.infill_tau_us)

    def shortterm(self, energy_rate_gev_per_ns: np.ndarray, scale: float = 1.0) -> np.ndarray:
        """Mean gain at a calorimeter seeing this energy rate per fill (GeV/ns)."""
        return 1.0 - scale * self.shortterm_amp * self.shortterm_tau_ns * energy_rate_gev_per_ns


def fit_gain_model(infill: np.ndarray, infill_times: np.ndarray, shortterm: np.ndarray,
                   shortterm_dt_ns: np.ndarray) -> GainModel:
    """Fit the laser records (per-calorimeter in-fill [calo, time], pulse-pair [calo, dt])."""
    g = infill.mean(axis=0) / infill.mean(axis=0)[-10:].mean()  # normalise to the late-fill gain

    def sag(t, a, tau):
        return 1.0 - a * np.exp(-t / tau)

    (a, tau), cov = curve_fit(sag, infill_times, g, p0=[1e-3, 15.0], bounds=([-1, 0.5], [1, 500]))
    s = shortterm.mean(axis=0)
    (b, tau_s), cov_s = curve_fit(sag, shortterm_dt_ns, s, p0=[0.02, 20.0], bounds=([-1, 0.1], [1, 1000]))
    return GainModel(float(a), float(np.sqrt(cov[0, 0])), float(tau), float(b), float(np.sqrt(cov_s[0, 0])),
                     float(tau_s))


def total_gain(model: GainModel, t_us: np.ndarray, energy_per_bin_gev: np.ndarray, n_fills: float, bin_ns: float,
               infill_scale: float = 1.0, shortterm_scale: float = 1.0) -> np.ndarray:
    """Mean gain vs time for the calorimeter sum, from the in-fill curve and the data's own rate."""
    rate = energy_per_bin_gev / (n_fills * N_CALOS * bin_ns)  # GeV per ns per calorimeter per fill
    return model.infill(t_us, infill_scale) * model.shortterm(rate, shortterm_scale)
