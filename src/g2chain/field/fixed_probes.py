"""Fixed-probe stations (Run-2/3 report Sec. VI E): geometry, station moments, trolley
footprint removal and tying to the trolley map (Eq. 48).

Each of the 72 stations has four or six NMR probes half above and half below the storage region
(y = +-77 mm). Fitted with the trolley basis of Eq. 39, six probes (x = -30, 0, +30 mm) resolve
m_1..m_5; four probes (x = -30, +30 mm) see (x^2 - y^2) as a constant and resolve m_1, m_2, m_3
and m_5. Times in s, fields in Hz.
"""

from __future__ import annotations

import numpy as np

from ..records.field_layout import STATION_MOMENTS, station_design
from .tracking import require_increasing


def station_moments(readings, n_probes: int) -> np.ndarray:
    """Moments of one station from its probe readings [..., n_probes] (Hz): the least-squares
    fit with the moments the station resolves; returns [..., 12] with NaN for the others."""
    r = np.asarray(readings, dtype=float)
    if r.shape[-1] != n_probes:
        raise ValueError(f"readings: last axis {r.shape[-1]}, station has {n_probes} probes")
    cols = list(STATION_MOMENTS[n_probes])
    a = station_design(n_probes)[:, cols]
    sol = np.linalg.lstsq(a, r.reshape(-1, n_probes).T, rcond=None)[0].T
    out = np.full(r.shape[:-1] + (12,), np.nan)
    out.reshape(-1, 12)[:, cols] = sol
    return out


def remove_footprint(t_s, series, t_pass_s: float, half_width_s: float, baseline_s: float = 30.0):
    """Replace the samples within +-half_width of the trolley passage by the straight line between
    the means of the ``baseline_s`` before and after (the paper's footprint replacement).
    ``series``: [T, ...]; returns a copy. A passage with no samples before or after raises."""
    t = np.asarray(t_s, dtype=float)
    y = np.array(series, dtype=float, copy=True)
    inside = np.abs(t - t_pass_s) <= half_width_s
    before = (t < t_pass_s - half_width_s) & (t >= t_pass_s - half_width_s - baseline_s)
    after = (t > t_pass_s + half_width_s) & (t <= t_pass_s + half_width_s + baseline_s)
    if not inside.any():
        return y
    if not (before.any() and after.any()):
        raise ValueError(f"trolley passage at {t_pass_s:.0f} s: no fixed-probe samples within {baseline_s:.0f} s "
                         "on both sides to bridge the footprint")
    t0, t1 = t[before].mean(), t[after].mean()
    y0, y1 = y[before].mean(axis=0), y[after].mean(axis=0)
    frac = ((t[inside] - t0) / (t1 - t0)).reshape((-1,) + (1,) * (y.ndim - 1))
    y[inside] = y0 + frac * (y1 - y0)
    return y


def tie(t_s, station_series, t_pass_s: float, window_s: float = 30.0) -> np.ndarray:
    """Eq. 48: the station's moments at the trolley passage, m^fp(phi_s, t_s^tr), averaged over
    +-window around it (footprint already removed); subtract it from the series to get the
    tracked change Delta m^fp(t)."""
    t = np.asarray(t_s, dtype=float)
    sel = np.abs(t - t_pass_s) <= window_s
    if not sel.any():
        raise ValueError(f"trolley passage at {t_pass_s:.0f} s: no fixed-probe sample within {window_s:.0f} s")
    return np.asarray(station_series, dtype=float)[sel].mean(axis=0)


def fill_gaps(t_s, series, max_gap_s: float, name: str = "fixed probe"):
    """Missing fixed-probe samples (NaN rows of ``series`` [T x ...], e.g. readout dropouts or
    data-quality cuts) bridged by linear interpolation in time when the gap is at most
    ``max_gap_s``; a longer gap, or one at either end of the series, is an error naming the probe
    series and the time span (the rule: never track through a hole the field could move in).
    Also checks that the time axis increases. Returns a filled copy."""
    t = require_increasing(t_s, f"{name}: time axis", "sample")
    y = np.array(series, dtype=float, copy=True)
    bad = ~np.all(np.isfinite(y.reshape(y.shape[0], -1)), axis=1)
    if not bad.any():
        return y
    edges = np.flatnonzero(np.diff(np.concatenate([[0], bad.astype(int), [0]])))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        if start == 0 or stop == t.size:
            raise ValueError(f"{name}: no readings at the {'start' if start == 0 else 'end'} of the series "
                             f"({t[start]:.0f}-{t[stop - 1]:.0f} s)")
        span = t[stop] - t[start - 1]
        if span > max_gap_s:
            raise ValueError(f"{name}: gap of {span:.0f} s ({t[start]:.0f}-{t[stop - 1]:.0f} s) longer than "
                             f"the {max_gap_s:.0f} s that may be bridged")
        frac = ((t[start:stop] - t[start - 1]) / span).reshape((-1,) + (1,) * (y.ndim - 1))
        y[start:stop] = y[start - 1] + frac * (y[stop] - y[start - 1])
    return y


def unresolved_aliases(n_probes: int, tracked=STATION_MOMENTS[6]) -> dict:
    """{j: a} for each moment j a station of ``n_probes`` does not resolve but a six-probe
    station does: a change dm_j moves the station's fitted moments by a dm_j (a [12], zero
    outside the resolved ones). Four probes at x = +-30 mm, y = +-77 mm see (x^2 - y^2) as the
    constant -2.48 (r0 = 45 mm): m_4 reads as m_1."""
    cols = list(STATION_MOMENTS[n_probes])
    design = station_design(n_probes)
    out = {}
    for j in tracked:
        if j in cols:
            continue
        a = np.zeros(12)
        a[cols] = np.linalg.lstsq(design[:, cols], design[:, j], rcond=None)[0]
        out[j] = a
    return out


def fill_unresolved(moments, station_probes, station_phi) -> np.ndarray:
    """Station moments [..., S, 12] with each moment a station does not resolve taken from its
    nearest resolving neighbours on either side (linear in azimuth) and its alias removed from
    the moments it does resolve (``unresolved_aliases``): without this a four-probe station
    reports the ring's m_4 drift as an m_1 drift, -2.48 times as large. Station-local changes of
    the unresolved moment stay unseen (the tracking offsets catch them)."""
    m = np.array(moments, dtype=float, copy=True)
    probes = np.asarray(station_probes)
    phi = np.asarray(station_phi, dtype=float)
    full = np.flatnonzero(probes == 6)
    if full.size < 2:
        raise ValueError("fixed probes: need at least two six-probe stations to fill the others' unresolved moments")
    aliases_of = {n: unresolved_aliases(int(n)) for n in np.unique(probes[probes != 6])}
    for s in np.flatnonzero(probes != 6):
        aliases = aliases_of[probes[s]]
        d = (phi[full] - phi[s]) % (2 * np.pi)  # azimuth from s forward to each six-probe station
        ahead, behind = full[np.argmin(d)], full[np.argmax(d)]
        da, db = d.min(), 2 * np.pi - d.max()
        for j, a in aliases.items():
            est = (db * m[..., ahead, j] + da * m[..., behind, j]) / (da + db)
            m[..., s, :] -= est[..., None] * a
            m[..., s, j] = est
    return m
