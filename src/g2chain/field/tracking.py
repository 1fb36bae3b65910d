"""Field tracking between trolley runs and its Brownian-bridge uncertainty (Run-2/3 report
Sec. VI E 4, Ref. [7] of the report).

Field changes the fixed probes do not see are modelled as a random walk of rate M (Hz/sqrt(s)):
after a time T the untracked change has variance M^2 T. Tracking from a pair of trolley runs
interpolates linearly between them, so the error left is a Brownian bridge, zero at both runs,
with variance M^2 (t - t_a)(t_b - t)/T at time t. Times in s, fields in Hz.
"""

from __future__ import annotations

import numpy as np

from ..physics.transients import relaxation


def require_increasing(t_s, name: str, unit: str = "sample") -> np.ndarray:
    """A time axis as an array, or a one-line error naming ``name`` and where it stops increasing."""
    t = np.asarray(t_s, dtype=float)
    step = np.diff(t)
    if np.any(step <= 0):
        k = int(np.flatnonzero(step <= 0)[0])
        raise ValueError(f"{name} not increasing at {unit} {k + 1} ({t[k + 1]:.0f} s after {t[k]:.0f} s)")
    return t


def _intervals(trolley_times_s) -> np.ndarray:
    t = np.asarray(trolley_times_s, dtype=float)
    if t.ndim != 1 or t.size < 2:
        raise ValueError("trolley_times_s: need at least two trolley runs")
    return require_increasing(t, "trolley_times_s:", "run")


def brownian_bridge_variance(t_s, t_a: float, t_b: float, rate: float) -> np.ndarray:
    """Variance (Hz^2) of the tracking error at times t between trolley runs at t_a < t_b."""
    t = np.asarray(t_s, dtype=float)
    if not t_b > t_a:
        raise ValueError(f"t_b ({t_b}) must follow t_a ({t_a})")
    inside = (t >= t_a) & (t <= t_b)
    return np.where(inside, rate**2 * (t - t_a) * (t_b - t) / (t_b - t_a), 0.0)


def interval_average_variance(duration_s: float, rate: float) -> float:
    """Variance of the time average of a Brownian bridge over its whole interval T: M^2 T / 12
    (uniform muon rate inside the interval)."""
    return rate**2 * float(duration_s) / 12.0


def dataset_bridge_uncertainty(trolley_times_s, rate: float, muon_times_s=None, muon_weights=None) -> float:
    """Uncertainty (Hz) of the muon-weighted average field of a dataset from the untracked
    changes: intervals between consecutive trolley runs are independent bridges, each entering
    with its share W_k of the muons,

        Var = sum_k W_k^2 Var_k / (sum_k W_k)^2,

    Var_k the variance of the muon-weighted average inside interval k (M^2 T_k / 12 for a uniform
    rate). Without muon times the muons are spread uniformly over the trolley span. With them
    (``muon_times_s``, optional ``muon_weights``) each interval's W_k and Var_k come from the
    muons inside it (the bridge covariance M^2 min(s,t)(T-max(s,t))/T summed over their pairs).
    """
    t = _intervals(trolley_times_s)
    dur = np.diff(t)
    if muon_times_s is None:
        var_k, w_k = rate**2 * dur / 12.0, dur
    else:
        mt = np.asarray(muon_times_s, dtype=float)
        mw = np.ones_like(mt) if muon_weights is None else np.asarray(muon_weights, dtype=float)
        k = np.searchsorted(t, mt, side="right") - 1
        ok = (k >= 0) & (k < dur.size)
        var_k, w_k = np.zeros(dur.size), np.zeros(dur.size)
        for j in range(dur.size):
            sel = ok & (k == j)
            if not sel.any():
                continue
            s, w = mt[sel] - t[j], mw[sel]
            lo, hi = np.minimum.outer(s, s), np.maximum.outer(s, s)
            cov = rate**2 * lo * (dur[j] - hi) / dur[j]
            w_k[j] = w.sum()
            var_k[j] = float(w @ cov @ w) / w_k[j] ** 2
    total = w_k.sum()
    if not total > 0:
        raise ValueError("muon_times_s: no muons between the trolley runs")
    return float(np.sqrt(np.sum(w_k**2 * var_k)) / total)


def brownian_rate(tracking_offsets_hz, intervals_s) -> tuple[float, float]:
    """Rate M (Hz/sqrt(s)) of the untracked random walk from tracking offsets: the change between
    a trolley run's prediction from the previous run and its measurement has variance M^2 T.
    Maximum likelihood M^2 = mean(d_k^2 / T_k); returns (M, its standard error)."""
    d = np.asarray(tracking_offsets_hz, dtype=float)
    dt = np.asarray(intervals_s, dtype=float)
    if d.shape != dt.shape or d.size < 2:
        raise ValueError("tracking_offsets_hz, intervals_s: need two or more offsets with one interval each")
    if np.any(dt <= 0) or not np.all(np.isfinite(d)):
        raise ValueError("tracking offsets: non-positive interval or non-finite offset")
    m2 = float(np.mean(d**2 / dt))
    # chi^2 with n degrees of freedom: sigma(M^2) = M^2 sqrt(2/n), sigma(M) = M / sqrt(2n)
    return float(np.sqrt(m2)), float(np.sqrt(m2) / np.sqrt(2 * d.size))


def run_weights(t_s, trolley_times_s) -> np.ndarray:
    """W_k(t) of Eq. 49 for tracking between consecutive trolley runs: linear in time between the
    two runs that bracket t ([T x K]; each row sums to 1). Times outside the runs raise."""
    runs = _intervals(trolley_times_s)
    t = np.asarray(t_s, dtype=float)
    if np.any(t < runs[0]) or np.any(t > runs[-1]):
        raise ValueError(f"t_s: times outside the trolley runs ({runs[0]:.0f}-{runs[-1]:.0f} s) cannot be tracked "
                         "between a pair")
    k = np.clip(np.searchsorted(runs, t, side="right") - 1, 0, runs.size - 2)
    f = (t - runs[k]) / (runs[k + 1] - runs[k])
    w = np.zeros((t.size, runs.size))
    w[np.arange(t.size), k] = 1 - f
    w[np.arange(t.size), k + 1] += f
    return w


def track_azimuthal_average(t_s, trolley_times_s, trolley_moments, fp_moments, fp_ties, station_weight, jacobian):
    """Eq. 49 averaged over azimuth: the tracked moments <m_i>(t) [T x 12] (Hz).

    ``trolley_moments``: [K x 12] azimuthal averages of each trolley map; ``fp_moments``:
    [T x S x J] the stations' moments; ``fp_ties``: [K x S x J] their values at each run's
    passage (Eq. 48); ``station_weight``: [S] the azimuthal average of W_s(phi); ``jacobian``:
    [S x 12 x J], J_ij = d m_i^tr / d m_j^fp per station. With sum_k W_k = 1,
        <m>(t) = sum_k W_k(t) (m_tr_k - J tie_k) + J m^fp(t),
    so no [runs x times] array is formed.
    """
    w = run_weights(t_s, trolley_times_s)  # (T, K)
    ws, jac = np.asarray(station_weight, dtype=float), np.asarray(jacobian, dtype=float)
    tied = np.einsum("s,sij,ksj->ki", ws, jac, np.asarray(fp_ties, dtype=float))  # (K, 12)
    now = np.einsum("s,sij,tsj->ti", ws, jac, np.asarray(fp_moments, dtype=float))  # (T, 12)
    return w @ (np.asarray(trolley_moments, dtype=float) - tied) + now


def ramp_correction(t_s, muon_rate, trolley_times_s, ramp_times_s, amplitude_hz: float, tau_s: float,
                    run_s: float = 0.0) -> float:
    """The muon-weighted field change after magnet ramps that tracking misses (Sec. VI E 4): the
    relaxation A exp(-(t - t_ramp)/tau) (an external model: amplitude and time constant from
    dedicated trolley campaigns) minus what the trolley runs themselves catch of it (tracking
    interpolates linearly between runs; a run of duration ``run_s`` sees the relaxation at the
    time it passes each azimuth). Add it to the tracked field (Hz)."""
    t = np.asarray(t_s, dtype=float)
    runs = _intervals(trolley_times_s)
    along = (np.arange(64) + 0.5) / 64 - 0.5  # the run's azimuths, as fractions of its duration
    caught = np.array([relaxation(r + run_s * along, ramp_times_s, tau_s).mean() for r in runs])
    missed = relaxation(t, ramp_times_s, tau_s) - np.interp(t, runs, caught)
    w = np.asarray(muon_rate, dtype=float)
    return float(amplitude_hz * (w @ missed) / w.sum())
