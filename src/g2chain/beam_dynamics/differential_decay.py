"""Differential-decay correction C_dd (Run-2/3 report Sec. V D, Eq. 25-34).

Muons of higher momentum live longer (gamma(delta) tau_mu), so the decaying population's mean
momentum rises through the fill at var(delta) / (gamma_0 tau_mu) (Eq. 26) and any phase that
depends on momentum drifts with it. Two such phases are evaluated here from the experiment's own
data:

* beamline (Eq. 28): the measured phase-momentum correlation dphi0/ddelta at injection (an
  external measurement in the toy as in the paper) with the momentum distribution of the
  fast-rotation chi^2 method;
* p-t0 (Eq. 33): the spin of a muon entering later has precessed less, phi = -omega_a t0, and the
  kicker correlates t0 with momentum: the joint (x_e, injection time) distribution of the chi^2
  method supplies it.

Both are computed "step by step" as the paper does: the fitted joint distribution decays cell by
cell with its own lifetime, weighted by the calorimeters' radial acceptance, and the slope of the
ensemble phase over the fit window is the correction (``phase_drift``). Eq. 28 and Eq. 33 are
returned beside it as the first-order check. The p-x term (Eq. 29) needs spin-orbit tracking
through the beamline that the toy does not have: an external input (config).
"""

from __future__ import annotations

import numpy as np

from ..constants import APERTURE_MM, GAMMA_MAGIC, MAGIC_RADIUS_MM, TAU_MU_US
from ..numerics import weighted_slope
from .fast_rotation import calorimeter_alignment_delay_ns
from .phase_drift import decay_weights, drift_correction, ensemble_phase

# T-method positrons (y > 0.55) sit on average 0.25 above y = 1/2: the effective energy-dependent
# radial acceptance slope of the detector model, kappa_n + kappa_a <y - 1/2>
T_METHOD_MEAN_Y_OFFSET = 0.25


def joint_population(fit: dict, field_index: float) -> dict:
    """The chi^2 method's joint distribution as a population of (x_e, tau) cells: x_e (mm),
    delta = (1 - n) x_e / R0 (Eq. 12), tau (us, the injection time from the bunch centre: the
    fitted time less the delay the calorimeters' alignment adds at x_e,
    ``fast_rotation.calorimeter_alignment_delay_ns``, unless ``fit["calorimeter_aligned"]`` is
    False) and the cell weights."""
    rho = np.asarray(fit["rho"], dtype=float)
    x = np.repeat(np.asarray(fit["x_mm"], dtype=float), rho.shape[1])
    tau = np.tile(np.asarray(fit["h_ns"], dtype=float) * 1e-3, rho.shape[0])
    if fit.get("calorimeter_aligned", True):
        tau = tau - 1e-3 * calorimeter_alignment_delay_ns(x)
    return {"x_e": x, "delta": (1.0 - field_index) * x / MAGIC_RADIUS_MM, "tau": tau, "weight": rho.ravel() / rho.sum()}


def t_method_radial_slope(kappa_n: float, kappa_a: float) -> float:
    """The detector model's radial acceptance slope for T-method positrons: kappa_n + kappa_a <y - 1/2>."""
    return kappa_n + kappa_a * T_METHOD_MEAN_Y_OFFSET


def radial_acceptance(x_mm, kappa_n: float, kappa_a: float, aperture_mm: float = APERTURE_MM):
    """The calorimeters' acceptance of T-method positrons vs equilibrium radius (detector model),
    betatron-averaged: 1 + (kappa_n + kappa_a <y - 1/2>) x_e / a."""
    return 1.0 + t_method_radial_slope(kappa_n, kappa_a) * np.asarray(x_mm, dtype=float) / aperture_mm


def momentum_moments(pop: dict) -> dict:
    """Mean and variance of delta, cov(delta, tau) and the regression slope d<tau>/d delta (us)."""
    w, d, tau = pop["weight"], pop["delta"], pop["tau"]
    md, mt = w @ d, w @ tau
    var = w @ (d - md) ** 2
    cov = w @ ((d - md) * (tau - mt))
    return {"mean_delta": float(md), "var_delta": float(var), "cov_delta_tau_us": float(cov),
            "dtau_ddelta_us": float(cov / var)}


def differential_decay_terms(pop: dict, dphi0_ddelta: float, omega_a: float, window_us, acceptance=None,
                             n_times: int = 128) -> dict:
    """C_dd beamline and p-t0 (fractional) by the step-by-step method: the population ``pop``
    (``joint_population``) decays cell by cell over the window, weighted by ``acceptance`` per
    cell; each phase part's ensemble drift is fitted by ``drift_correction``. With Eq. 28 and
    Eq. 33 to first order for comparison."""
    t = np.linspace(window_us[0], window_us[1], n_times)
    gamma_tau = GAMMA_MAGIC * (1.0 + pop["delta"]) * TAU_MU_US
    acc = np.ones_like(pop["weight"]) if acceptance is None else np.asarray(acceptance, dtype=float)
    w = decay_weights(t, gamma_tau) * np.exp(pop["tau"] / gamma_tau)[None, :] * (pop["weight"] * acc)[None, :]
    n_t = w.sum(axis=1)
    beamline = drift_correction(t, ensemble_phase(w, dphi0_ddelta * pop["delta"]), n_t, omega_a)
    p_t0 = drift_correction(t, ensemble_phase(w, -omega_a * pop["tau"]), n_t, omega_a)
    mom = momentum_moments(pop)
    eq28, eq33 = first_order_terms(mom, dphi0_ddelta, omega_a)
    return {"beamline": beamline, "p_t0": p_t0, "eq28_beamline": eq28, "eq33_p_t0": eq33, **mom}


def first_order_terms(moments: dict, dphi0_ddelta: float, omega_a: float) -> tuple[float, float]:
    """C_dd's beamline (Eq. 28) and p-t0 (Eq. 33) terms to first order (fractional), from the
    population's ``momentum_moments``: -dphi0/ddelta var(delta) / (omega_a gamma tau) and
    cov(delta, tau) / (gamma tau). ``dphi0_ddelta`` is the slope of the spin phase the world adds
    (rad per unit delta): minus the paper's Eq. 7 phase slope, so Eq. 28's sign is the paper's."""
    gt0 = GAMMA_MAGIC * TAU_MU_US
    return (-dphi0_ddelta * moments["var_delta"] / (omega_a * gt0), moments["cov_delta_tau_us"] / gt0)


def mean_radius_drift(pop: dict, t_us, weights_t) -> float:
    """d<x_e>/dt (mm/us) that differential decay alone gives the decaying population, fitted with
    the trackers' own time weights: what the trackers see of it."""
    gamma_tau = GAMMA_MAGIC * (1.0 + pop["delta"]) * TAU_MU_US
    w = decay_weights(t_us, gamma_tau) * pop["weight"][None, :]
    return weighted_slope(t_us, ensemble_phase(w, pop["x_e"]), weights_t)
