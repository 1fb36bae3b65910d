"""Beam-synchronous field transients the NMR cannot see (Run-2/3 report Sec. VI G): kicker eddy
currents (B_K) and ESQ plate vibrations (B_Q).

A transient b(t) (fractional field change at time t in the fill, azimuthally averaged) makes the
spin phase run ahead by omega_a int_0^t b dt'. Its effect on omega_a^m depends on how the fit
weighs the fill, so B is defined as the paper does it: the fractional omega_a shift of a
five-parameter fit to a noiseless wiggle carrying the transient. Times in us.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import cumulative_trapezoid
from scipy.optimize import curve_fit, least_squares

OMEGA_A = 1.4394  # rad/us: the toy's anomalous precession (only the phase scale matters here)


def _wiggle(t, n0, tau, a, omega, phi):
    return n0 * np.exp(-t / tau) * (1.0 + a * np.cos(omega * t - phi))


def precession_shift(b_of_t, window_us=(30.1, 660.0), tau_us: float = 64.4, asym: float = 0.37,
                     bin_us: float = 0.1492, omega: float = OMEGA_A) -> float:
    """Fractional omega_a shift of a five-parameter fit (Poisson weights) to a noiseless wiggle
    whose phase carries omega int_0^t b dt'. ``b_of_t``: callable of t (us) -> fractional field."""
    t_all = np.arange(0.0, window_us[1] + bin_us, bin_us)
    phase = omega * cumulative_trapezoid(b_of_t(t_all), t_all, initial=0.0)
    sel = (t_all >= window_us[0]) & (t_all <= window_us[1])
    t = t_all[sel]
    y = 1e6 * np.exp(-t / tau_us) * (1.0 + asym * np.cos(omega * t + phase[sel] - 1.0))
    w = 1.0 / np.sqrt(y)

    def resid(p):
        return (_wiggle(t, *p) - y) * w

    p0 = [1e6, tau_us, asym, omega, 1.0]
    fit = least_squares(resid, p0, x_scale=[1e4, 1.0, 0.01, 1e-6, 1e-3], xtol=1e-15, ftol=1e-15, gtol=1e-15)
    return float(fit.x[3] / omega - 1.0)


def exponential_transient(t, amplitude, tau_us):
    """Kicker eddy-current model: b(t) = amplitude exp(-t / tau)."""
    return amplitude * np.exp(-np.asarray(t, dtype=float) / tau_us)


def fit_kicker_trace(t_us, trace, sigma, coverage: float, n_draws: int = 200, seed: int = 0) -> dict:
    """B_K from a magnetometer trace at the kicker: fit the exponential model to the trace
    (fractional field, with per-sample error ``sigma``), scale by the kickers' azimuthal coverage
    (the ring average of a local transient), and take the five-parameter shift. The error comes
    from the fit covariance (draws of the model parameters)."""
    t, y = np.asarray(t_us, dtype=float), np.asarray(trace, dtype=float)
    if np.any(np.diff(t) <= 0):
        raise ValueError("t_us: the trace's time axis is not increasing")
    if not np.all(np.isfinite(y)):
        raise ValueError("trace: NaN samples")
    guess = [y[: max(3, y.size // 50)].mean(), max(t[-1] / 5, 1.0)]
    p, cov = curve_fit(exponential_transient, t, y, p0=guess, sigma=np.full_like(y, sigma), absolute_sigma=True)
    value = coverage * precession_shift(lambda x: exponential_transient(x, *p))
    rng = np.random.default_rng(seed)
    draws = rng.multivariate_normal(p, cov, size=n_draws)
    spread = [coverage * precession_shift(lambda x, q=q: exponential_transient(x, *q)) for q in draws[:40]]
    return {"B": value, "B_err": float(np.std(spread, ddof=1)), "amplitude": float(p[0]), "tau_us": float(p[1]),
            "amplitude_err": float(np.sqrt(cov[0, 0])), "tau_err_us": float(np.sqrt(cov[1, 1]))}
