"""What a slowly drifting ensemble phase does to a fit with a constant phase (Sec. V C-E).

C_ml, C_dd and C_pa share one mechanism: the detected population changes during the fill
(muons decay at momentum-dependent rates, some are lost, the beam's transverse distribution
evolves), so the phase Phi(t) of the summed wiggle cos(omega_a t + Phi(t)) drifts. A fit with a
constant phase absorbs dPhi/dt into the frequency, omega_a^m = omega_a + dPhi/dt, so the
correction that restores omega_a = omega_a^m (1 + C) is

    C = -(dPhi/dt) / omega_a                                        (Eq. 23, 25; sign: Sec. V C)

with dPhi/dt the slope a fit over the window sees: the least-squares slope of Phi(t) weighted
by the number of decays. (The toy adds its phase offsets to the spin phase; the paper's fit
function subtracts phi_0, hence its C = +(1/omega_a) dphi_0/dt.)
"""

from __future__ import annotations

import numpy as np

from ..numerics import weighted_slope


def drift_correction(t, phase, weights, omega_a: float) -> float:
    """C = -(dPhi/dt) / omega_a (fractional) for the ensemble phase ``phase`` (rad) at times t
    (us), the slope weighted by ``weights`` (decays per bin)."""
    return -weighted_slope(t, phase, weights) / omega_a


def decay_weights(t, gamma_tau, t0=0.0) -> np.ndarray:
    """[times, population cells]: the decay density exp(-(t - t0)/(gamma tau)) / (gamma tau) of
    each cell (its own time-dilated lifetime, Eq. 26's mechanism)."""
    t = np.asarray(t, dtype=float)[:, None]
    gt = np.asarray(gamma_tau, dtype=float)[None, :]
    return np.exp(-(t - t0) / gt) / gt


def ensemble_phase(weights_tc, phase_c) -> np.ndarray:
    """Phi(t) = sum_c W_c(t) phi_c / sum_c W_c(t) for weights [times, cells] and phases [cells]."""
    w = np.asarray(weights_tc, dtype=float)
    return w @ np.asarray(phase_c, dtype=float) / w.sum(axis=1)


def oscillation_lines(t, y, weights, early_us: float = 200.0, n_lines: int = 4, min_ratio: float = 25.0,
                     min_mhz: float = 0.2):
    """Frequencies (MHz) of the coherent beam oscillations (CBO, VW and their aliases at the
    sampling) in a per-bin beam moment y(t): the highest peaks of the residual periodogram of a
    straight line over the early, large-amplitude part, ``min_ratio`` above its median power and
    above ``min_mhz`` (the lowest beam line at the trackers is f_CBO ~ 0.37 MHz; below are the
    slow drifts that are the signal)."""
    t, y, w = (np.asarray(a, dtype=float) for a in (t, y, weights))
    sel = t < t[0] + early_us
    if sel.sum() < 32:
        return []
    ts, r = t[sel], y[sel] - np.polyval(np.polyfit(t[sel], y[sel], 1, w=np.sqrt(w[sel])), t[sel])
    dt = float(np.median(np.diff(ts)))
    nfft = 8 * ts.size
    p = np.abs(np.fft.rfft(r * np.hanning(ts.size), nfft)) ** 2
    f = np.fft.rfftfreq(nfft, dt)
    p[f < max(min_mhz, 5.0 / (ts[-1] - ts[0]))] = 0.0
    floor = np.median(p[p > 0])
    lines = []
    for _ in range(n_lines):
        k = int(np.argmax(p))
        if p[k] < min_ratio * floor:
            break
        lines.append(float(f[k]))
        p[np.abs(f - f[k]) < 4.0 / (ts[-1] - ts[0])] = 0.0  # the peak and its window sidelobes
    return lines


# Envelopes of the lines fitted out of a slow drift (us). They span the decoherence the beam gives
# after one CBO period's average (tau_CBO ~ 160 us in the Run-2/3 world, > 1 ms in the default one;
# a 60 us exponential or reciprocal envelope is still taken to ~1 %), and none is short: the lines
# left in tracker moments crowd near f_a (0.20-0.24 MHz), where a 10 us envelope spans two periods
# and neighbouring lines combine into a free offset over the first ~10 us of the window, which the
# decays weight most. On the 1 % Run-2/3 trackers a 10-250 us basis took 4-7 ppb (a third) out of
# C_pa and 3-8 ppb out of C_ml that way, the same in every Poisson replica (docs/beam_dynamics.md).
LINE_ENVELOPES_US = (80.0, 250.0)


def slow_drift(t, y, weights, variance, lines=(), envelope_taus_us=LINE_ENVELOPES_US) -> dict:
    """The slope of y(t) with the coherent oscillations fitted out: weighted (by ``weights``, the
    decays) least squares of a + b (t - <t>) + sum over ``lines`` of envelopes
    exp(-(t - t_0)/tau_k) times cos and sin (``LINE_ENVELOPES_US``: long enough that the basis
    cannot stand in for the early part of the slow drift itself). Returns the slope b, its error
    (sandwich with the per-bin ``variance``) and the fitted oscillation for plotting."""
    t, y, w, v = (np.asarray(a, dtype=float) for a in (t, y, weights, variance))
    tm = np.sum(w * t) / w.sum()
    cols = [np.ones_like(t), t - tm]
    for f in lines:
        for tau in envelope_taus_us:
            env = np.exp(-(t - t[0]) / tau)
            cols += [env * np.cos(2 * np.pi * f * t), env * np.sin(2 * np.pi * f * t)]
    x = np.column_stack(cols)
    xtw = x.T * w
    bread = np.linalg.pinv(xtw @ x)
    beta = bread @ (xtw @ y)
    cov = bread @ ((xtw * v) @ xtw.T) @ bread
    return {"slope": float(beta[1]), "slope_err": float(np.sqrt(cov[1, 1])), "lines_mhz": list(lines),
            "oscillation": x[:, 2:] @ beta[2:], "offset": float(beta[0]), "t_mean": float(tm)}
