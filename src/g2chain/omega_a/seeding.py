"""Start values of the ω_a fit: the five-parameter fit, and each beam term seeded from the residual
spectrum at its frequency (Fig. 7)."""

from __future__ import annotations

import math

import numpy as np

from . import minimizer, wiggle_model
from .groups import AnalysisSpec
from .minimizer import FitError

GAMMA_TAU_NOMINAL_US = 64.44  # gamma tau_mu at the magic momentum: the start value (and VI's penalty centre)


def five_parameter_fit(t, y, var, delta_r, loss=None) -> minimizer.FitResult:
    """Five-parameter fit with Pearson variances (seeded by projection)."""
    data = minimizer.FitData(t, y, minimizer.first_pass_variance(y, var))
    start = five_parameter_start(t, y, delta_r, GAMMA_TAU_NOMINAL_US)
    free = ["N0", "tau", "A0", "R", "phi0"]
    res = minimizer.fit(data, start, free, delta_r)
    f5 = wiggle_model.wiggle(t, res.vector(), delta_r, 0, data.loss_edges, data.loss_counts)
    data.var = minimizer.pearson_variance(y, var, f5)
    return minimizer.fit(data, res.values, free, delta_r)


def seed_terms(t, y, f5, weights, spec: AnalysisSpec, nominal: dict, start: dict, spectrum) -> dict:
    """Frequencies from the residual spectrum, amplitudes and phases by projection."""
    freq, amp = spectrum
    rel = (y - f5) / f5
    two_pi = 2 * math.pi
    w_cbo = nominal["omega_cbo"]
    f_cbo = peak_frequency(freq, amp, (0.85 * w_cbo / two_pi, 1.15 * w_cbo / two_pi))
    start["omega_cbo"] = two_pi * f_cbo
    start["tau_cbo"] = 200.0
    env = np.exp(-t / start["tau_cbo"])
    a, ph = project_term(t, rel, weights, start["omega_cbo"], env)
    start["A_cbo_N"], start["phi_cbo_N"] = a, ph
    if "vw" in spec.terms:
        f_vw = nominal["omega_vw"] / two_pi
        f = peak_frequency(freq, amp, (0.97 * f_vw, 1.03 * f_vw))
        start["omega_vw"], start["tau_vw"] = two_pi * f, 30.0
        start["A_vw"], start["phi_vw"] = project_term(t, rel, weights, two_pi * f, np.exp(-t / 30.0))
    if "y" in spec.terms:
        f_y = nominal["omega_y"] / two_pi
        f = peak_frequency(freq, amp, (0.97 * f_y, 1.03 * f_y))
        start["omega_y"], start["tau_y"] = two_pi * f, 100.0
        start["A_y"], start["phi_y"] = project_term(t, rel, weights, two_pi * f, np.exp(-t / 100.0))
    if "cbo_drift" in spec.terms:
        start["tau_drift"] = spec.cbo_drift_tau_us
    if "ringing" in spec.terms:
        start["omega_ring"], start["tau_ring"], start["A_ring"] = two_pi / 0.6, 20.0, 0.0  # ~600 ns ringing
    return start


def five_parameter_start(t: np.ndarray, y: np.ndarray, delta_r: float, tau: float = 64.4) -> dict:
    """Seeds for the five-parameter fit: a linear least-squares projection at omega_ref."""
    omega = wiggle_model.omega_from_r(0.0, delta_r)
    decay = np.exp(-t / tau)
    basis = np.stack([decay, decay * np.cos(omega * t), decay * np.sin(omega * t)], axis=1)
    w = 1.0 / np.sqrt(np.maximum(np.abs(y), 1.0))
    (n0, c, s), *_ = np.linalg.lstsq(basis * w[:, None], y * w, rcond=None)
    return {"N0": n0, "tau": tau, "A0": math.hypot(c, s) / n0, "R": 0.0, "phi0": math.atan2(s, c)}


def residual_spectrum(t: np.ndarray, resid: np.ndarray, oversample: int = 8):
    """|DFT| of the residuals (zero-padded): (frequency in MHz, amplitude)."""
    dt = t[1] - t[0]
    n = oversample * resid.size
    amp = np.abs(np.fft.rfft(resid - resid.mean(), n=n))
    return np.fft.rfftfreq(n, d=dt), amp


def peak_frequency(freq: np.ndarray, amp: np.ndarray, band) -> float:
    """Frequency (MHz) of the highest residual-spectrum peak inside ``band``."""
    sel = (freq >= band[0]) & (freq <= band[1])
    if not np.any(sel):
        raise FitError(f"no spectrum bins in band {band} MHz")
    return float(freq[sel][np.argmax(amp[sel])])


def project_term(t: np.ndarray, ratio_resid: np.ndarray, weights: np.ndarray, omega: float, envelope: np.ndarray):
    """Amplitude and phase of a term a env(t) cos(omega t + phi) in relative residuals (least squares)."""
    basis = np.stack([envelope * np.cos(omega * t), -envelope * np.sin(omega * t)], axis=1)
    sw = np.sqrt(weights)
    (c, s), *_ = np.linalg.lstsq(basis * sw[:, None], ratio_resid * sw, rcond=None)
    return math.hypot(c, s), math.atan2(s, c)
