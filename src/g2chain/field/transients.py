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

from ..physics.transients import exponential_transient, quadratic_transient
from .tracking import require_increasing

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


def fit_transient_trace(t_us, trace, sigma, model, p0, coverage: float, n_draws: int = 40, seed: int = 0,
                        bounds=(-np.inf, np.inf)) -> dict:
    """B from a measured transient trace (fractional field, per-sample error ``sigma``): fit
    ``model`` to it, scale by the system's azimuthal coverage (the ring average of a local
    transient), and take the five-parameter shift; the error from draws of the fitted
    parameters. Returns B, its error and the fitted parameters with errors."""
    t, y = require_increasing(t_us, "t_us: the trace's time axis"), np.asarray(trace, dtype=float)
    if not np.all(np.isfinite(y)):
        raise ValueError("trace: NaN samples")
    p, cov = curve_fit(model, t, y, p0=p0, sigma=np.full_like(y, sigma), absolute_sigma=True, bounds=bounds)
    value = coverage * precession_shift(lambda x: model(x, *p))
    lo, hi = (np.broadcast_to(np.asarray(b, dtype=float), p.shape) for b in bounds)
    draws = np.random.default_rng(seed).multivariate_normal(p, cov, size=4 * n_draws)
    draws = draws[np.all((draws >= lo) & (draws <= hi), axis=1)][:n_draws]  # physical parameters only
    if len(draws) < 2:
        raise ValueError("transient trace: the fitted parameters are too uncertain to propagate")
    spread = [coverage * precession_shift(lambda x, q=q: model(x, *q)) for q in draws]
    return {"B": value, "B_err": float(np.std(spread, ddof=1)), "parameters": p.tolist(),
            "parameter_errors": np.sqrt(np.diag(cov)).tolist()}


_KICKER_BOUNDS = ([-np.inf, 1e-3], [np.inf, np.inf])  # (amplitude, decay time): a decay time is positive


def _kicker_start(t_us, y) -> list:
    """Start values of the eddy-current fit: the trace's first samples, a fifth of its length."""
    return [y[: max(3, y.size // 50)].mean(), max(float(np.asarray(t_us)[-1]) / 5, 1.0)]


def fit_kicker_trace(t_us, trace, sigma, coverage: float) -> dict:
    """B_K from a magnetometer trace at the kickers (exponential eddy-current model)."""
    y = np.asarray(trace, dtype=float)
    out = fit_transient_trace(t_us, trace, sigma, exponential_transient, _kicker_start(t_us, y), coverage,
                              bounds=_KICKER_BOUNDS)
    out["amplitude"], out["tau_us"] = out["parameters"]
    return out


def pulse_shifts(t_us, pulses, sigma, coverage: float) -> list:
    """B_K of each recorded kicker pulse ([pulses, samples], per-sample error ``sigma``; the
    exponential eddy-current fit without error propagation): the spread of these is the
    pulse-to-pulse variance of the transient, their mean's standard error what it leaves on the
    campaign-averaged B_K."""
    t = require_increasing(t_us, "t_us: the trace's time axis")
    out = []
    for y in np.asarray(pulses, dtype=float):
        p, _ = curve_fit(exponential_transient, t, y, p0=_kicker_start(t, y), sigma=np.full_like(y, sigma),
                         absolute_sigma=True, bounds=_KICKER_BOUNDS)
        out.append(coverage * precession_shift(lambda x, p=p: exponential_transient(x, *p)))
    return out


def fit_esq_trace(t_us, trace, sigma, coverage: float) -> dict:
    """B_Q from a field trace at an ESQ over the fill (quadratic: what one fill resolves)."""
    return fit_transient_trace(t_us, trace, sigma, quadratic_transient, [0.0, 0.0, 0.0], coverage)
