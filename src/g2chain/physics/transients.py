"""Shapes in time of the field changes the magnet and its neighbours make: kicker eddy currents,
ESQ plate vibrations (Sec. VI G) and the relaxation after a magnet ramp (Sec. VI E 4)."""

from __future__ import annotations

import numpy as np


def exponential_transient(t, amplitude, tau_us):
    """Kicker eddy-current model: b(t) = amplitude exp(-t / tau)."""
    return amplitude * np.exp(-np.asarray(t, dtype=float) / tau_us)


def esq_vibration(t, amplitude, tau_us, freq_per_us, phase):
    """ESQ plate-vibration model of the field at one place: a damped oscillation synchronous to
    injection (~100 Hz, i.e. slow next to a 700 us fill)."""
    t = np.asarray(t, dtype=float)
    return amplitude * np.exp(-t / tau_us) * np.sin(2 * np.pi * freq_per_us * t + phase)


def quadratic_transient(t, c0, c1, c2):
    """What a trace over one fill resolves of a ~100 Hz vibration: a quadratic in t (us)."""
    t = np.asarray(t, dtype=float) / 1000.0
    return c0 + c1 * t + c2 * t * t


def relaxation(t_s, ramp_times_s, tau_s: float) -> np.ndarray:
    """sum over past magnet ramps of exp(-(t - t_ramp)/tau) at times t (s): the field's relaxation
    after ramps, in units of its initial amplitude (Sec. VI E 4)."""
    dt = np.asarray(t_s, dtype=float)[:, None] - np.asarray(ramp_times_s, dtype=float)[None, :]
    return np.where(dt >= 0, np.exp(-np.clip(dt, 0, None) / tau_s), 0.0).sum(axis=1)
