"""Muon-loss correction C_ml (Run-2/3 report Sec. V C, Eq. 23).

Losses that depend on momentum change the mean momentum of the stored beam during the fill,
(d delta/dt)_ml, and with it every phase correlated with momentum:

    C_ml = -(1/omega_a) (dphi/d delta)_eff (d delta/dt)_ml                (Eq. 23, toy's sign)

* (d delta/dt)_ml: the trackers see the mean decay radius <x>(t) = <x_e>(t) (the betatron
  motion averages out); its slope over the fit window, weighted by the decays as the omega_a fit
  weighs them, minus the part differential decay gives (from the fast-rotation momentum
  distribution), is the loss-driven drift; delta = (1 - n) x_e / R0 (Eq. 12).
* (dphi/d delta)_eff = dphi0/d delta (beamline, external) - omega_a d<t0>/d delta (the kicker's
  momentum-time correlation from the chi^2 method's joint distribution): both phase offsets the
  muons were injected with.

Linear in delta: exact if the loss rate's dependence on momentum and the phase's are linear over
the beam, as in the toy to first order. Tracker times are on the blinded clock, a 25 ppm effect
on a slope known to several %.
"""

from __future__ import annotations

import numpy as np

from ..constants import MAGIC_RADIUS_MM
from ..records.trackers import radial_moments
from .differential_decay import mean_radius_drift
from .phase_drift import oscillation_lines, slow_drift


def radial_drift(t_us, h_txy, x_edges, lines=None) -> dict:
    """Slope of the trackers' mean decay radius (mm/us), weighted by the decays per bin, with the
    coherent beam lines fitted out (``slow_drift``) and its statistical error; with the per-bin
    means for plotting. ``h_txy`` is best betatron-averaged first (``phase_acceptance``)."""
    n, mean, var_mean = radial_moments(h_txy, x_edges)
    ok = n > 0
    t, n, mean, var_mean = (np.asarray(a)[ok] for a in (t_us, n, mean, var_mean))
    if lines is None:
        lines = oscillation_lines(t, mean, n)
    fit = slow_drift(t, mean, n, var_mean, lines)
    return {"slope_mm_per_us": fit["slope"], "slope_err": fit["slope_err"], "lines_mhz": lines,
            "t_us": t, "counts": n, "mean_x_mm": mean, "fit": fit}


def effective_phase_slope(dphi0_ddelta: float, dtau_ddelta_us: float, omega_a: float) -> float:
    """(dphi/d delta)_eff (rad per unit delta): beamline correlation plus the injection-time
    phase -omega_a t0 carried by the momentum-time correlation."""
    return dphi0_ddelta - omega_a * dtau_ddelta_us


def muon_loss_correction(drift: dict, pop: dict, dphi_ddelta_eff: float, field_index: float,
                         omega_a: float) -> dict:
    """C_ml (fractional) from the trackers' radial drift ``drift`` (``radial_drift``), the
    fast-rotation population ``pop`` (for the differential-decay part of the drift) and the
    effective phase-momentum slope. Returns the drifts (mm/us) and d delta/dt (per us) too."""
    dd = mean_radius_drift(pop, drift["t_us"], drift["counts"])
    ml = drift["slope_mm_per_us"] - dd
    ddelta_dt = (1.0 - field_index) * ml / MAGIC_RADIUS_MM
    c = -dphi_ddelta_eff * ddelta_dt / omega_a
    return {"C_ml": c, "drift_total_mm_per_us": drift["slope_mm_per_us"], "drift_dd_mm_per_us": dd,
            "drift_ml_mm_per_us": ml, "ddelta_dt_per_us": ddelta_dt,
            "C_ml_stat": abs(dphi_ddelta_eff * (1.0 - field_index) / MAGIC_RADIUS_MM * drift["slope_err"] / omega_a)}
