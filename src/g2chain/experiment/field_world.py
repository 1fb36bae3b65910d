"""The sealed field world of one dataset (Run-2/3 report Sec. VI; DESIGN §5).

The field in the storage region is the multipole expansion of Eq. 38 with moments

    m_i(phi, t) = static_i(phi) + drift_i(phi, t) + delta_i1 [untracked(t) + ramp(phi, t)]

* ``static``: the shimmed ring, m_1 with an azimuthal profile of ~17 ppm rms (Fig. 22: a smooth
  spectrum plus bumps at the 12 yoke boundaries), m_2..m_12 with the dataset means of Table XVII
  and azimuthal variations;
* ``drift``: slow changes of m_1..m_5 at the 72 fixed-probe stations (a daily temperature cycle
  and a per-station random walk), linear in azimuth between stations: what the fixed probes see
  and the tracking follows;
* ``untracked``: a ring-wide random walk of m_1 at Brownian rate M (Hz/sqrt(s)), invisible to the
  fixed probes (Sec. VI E 4);
* ``ramp``: after each magnet ramp the field relaxes, A(phi) exp(-(t - t_ramp)/tau), largest at
  the yoke boundaries, and the fixed probes do not follow it (Sec. VI E 3);
* ``configuration`` (optional): while muons are stored the collimators are in and the rails in
  their muon position, and their materials add a local field at each collimator, a Gaussian bump
  of m_1 in azimuth (Sec. VI D, delta^config). The trolley maps with them retracted, so only the
  muons (and a local probe at each collimator) see it; the collimators sit between fixed-probe
  stations, whose probes it does not reach.

Arrays are kept on a time grid (``time_step_s``) and the station/azimuth grids; the full
m_i(phi, t) is evaluated only where it is needed (trolley runs, muon weighting). Field as proton
frequency in Hz, time in s, azimuth in rad.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..numerics import periodic_gaussians, periodic_linear_weights
from ..physics.transients import relaxation

N_STATIONS = 72
N_YOKES = 12
N_TRACKED = 5  # moments a six-probe station resolves (m_1..m_5)
DAY_S = 86400.0


@dataclass
class FieldWorld:
    """One dataset's field as the magnet makes it: the static map, the drifts the stations see,
    the untracked walk, the ramps, the access windows and the muon schedule (units per field)."""

    phi: np.ndarray            # (A,) azimuths of the map [rad]
    static: np.ndarray         # (A, 12) static moments [Hz]
    t_s: np.ndarray            # (T,) time grid [s]
    station_phi: np.ndarray    # (72,) station azimuths [rad]
    drift: np.ndarray          # (T, 72, 5) tracked changes of m_1..m_5 at the stations [Hz]
    untracked: np.ndarray      # (T,) ring-wide untracked m_1 walk [Hz]
    ramp_s: np.ndarray         # (R,) magnet ramp times [s]
    ramp_profile: np.ndarray   # (A,) initial relaxation amplitude after a ramp [Hz]
    ramp_tau_s: float
    access_s: np.ndarray       # (W,) centres of the beam-off access windows [s]
    muon_rate: np.ndarray      # (T,) relative muon rate (0 while no muons are stored)
    # the collimators (none: empty): azimuths [rad], their m_1 bump at the centre while muons are
    # stored [Hz], the bumps' Gaussian width in azimuth [rad]
    collimator_phi: np.ndarray = field(default_factory=lambda: np.zeros(0))
    collimator_hz: np.ndarray = field(default_factory=lambda: np.zeros(0))
    collimator_width_rad: float = 0.0


def _spectral_profile(phi, n_modes, slope, rng) -> np.ndarray:
    """A smooth random azimuthal profile: Fourier modes n = 1..n_modes with amplitudes ~ n^-slope."""
    n = np.arange(1, n_modes + 1)
    amp = rng.normal(size=n_modes) * n**-slope
    ph = rng.uniform(0, 2 * math.pi, n_modes)
    return np.cos(np.outer(phi, n) + ph) @ amp


def _yoke_bumps(phi, width_rad) -> np.ndarray:
    """Bumps at the 12 yoke boundaries (every 30 degrees): where shimming is hardest."""
    d = np.angle(np.exp(1j * N_YOKES * phi)) / N_YOKES  # distance to the nearest boundary
    return np.exp(-0.5 * (d / width_rad) ** 2)


def build_field_world(settings: dict, m1_hz: float, multipole_ratios_ppb,
                      seed_seq: np.random.SeedSequence) -> FieldWorld:
    """One dataset's field world from the ``field`` config block (see config/config.yaml), the
    dataset's mean dipole and Table XVII-like mean ratios m_i/m_1 (i = 2..12, ppb)."""
    rng = np.random.default_rng(seed_seq)
    s = settings
    a = int(s["azimuths"])
    phi = (np.arange(a) + 0.5) * 2 * math.pi / a
    ratios = np.asarray(multipole_ratios_ppb, dtype=float)
    if ratios.shape != (11,):
        raise ValueError(f"multipole_ratios_ppb: expected 11 values (m_2..m_12 over m_1), got {ratios.size}")
    static = np.empty((a, 12))
    # m_1: smooth spectrum plus yoke-boundary bumps, scaled to the configured rms
    prof = _spectral_profile(phi, 60, 1.0, rng) + 0.8 * _yoke_bumps(phi, math.radians(1.5)) * rng.choice([-1, 1])
    prof -= prof.mean()
    static[:, 0] = m1_hz * (1 + 1e-6 * float(s["dipole_profile_ppm_rms"]) * prof / prof.std())
    for i in range(1, 12):
        var = _spectral_profile(phi, 30, 1.0, rng)
        var = (var - var.mean()) / var.std()
        static[:, i] = m1_hz * 1e-9 * (ratios[i - 1] + float(s["multipole_azimuthal_ppb_rms"]) * var)
    # the run plan: beam-off access windows every access_interval_days, from the first to the
    # last day; trolley runs happen in some of them (a measurement choice, see
    # experiment.field_measurements.trolley_times), so the muon schedule and the truth do not
    # depend on the trolley interval
    span = float(s["dataset_days"]) * DAY_S
    every = float(s["access_interval_days"]) * DAY_S
    n_windows = int(round(span / every))
    if n_windows < 1 or abs(n_windows * every - span) > 1.0:
        raise ValueError(f"field.dataset_days ({s['dataset_days']}) is not a whole number of access intervals "
                         f"({s['access_interval_days']} days)")
    access = np.arange(n_windows + 1) * every
    dt = float(s["time_step_s"])
    t = np.arange(0.0, access[-1] + 0.5 * dt, dt)
    station_phi = (np.arange(N_STATIONS) + 0.5) * 2 * math.pi / N_STATIONS
    # tracked drift: a daily temperature cycle common to the ring (5 % station spread) and a
    # random walk per station, in m_1; a tenth of that in m_2..m_5
    daily = float(s["daily_cycle_ppm"]) * 1e-6 * m1_hz * np.sin(2 * math.pi * t / DAY_S + rng.uniform(0, 2 * math.pi))
    spread = 1 + 0.05 * rng.normal(size=(N_STATIONS, N_TRACKED))
    scale = np.array([1.0, 0.1, 0.1, 0.1, 0.1])
    walk_rate = float(s["tracked_walk_hz_per_sqrt_s"])
    steps = rng.normal(0.0, walk_rate * math.sqrt(dt), size=(t.size, N_STATIONS, N_TRACKED))
    steps[0] = 0.0
    drift = (daily[:, None, None] * spread[None] + np.cumsum(steps, axis=0)) * scale
    # untracked ring-wide walk of m_1
    u_steps = rng.normal(0.0, float(s["untracked_rate_hz_per_sqrt_s"]) * math.sqrt(dt), size=t.size)
    u_steps[0] = 0.0
    untracked = np.cumsum(u_steps)
    # magnet ramps (days from the start; 0 = the ramp that began the dataset)
    ramps = np.asarray(s["ramp_days"], dtype=float) * DAY_S
    bumps = _yoke_bumps(phi, math.radians(2.0))
    ramp_profile = 1e-9 * float(s["ramp_amplitude_ppb"]) * m1_hz * bumps / bumps.mean()
    # muons are stored except in the access windows (trolley runs) and for a while after a ramp
    rate = np.ones_like(t)
    for tr in access:
        rate[np.abs(t - tr) < 0.5 * float(s["access_hours"]) * 3600.0] = 0.0
    for tr in ramps:
        rate[(t >= tr) & (t < tr + float(s["ramp_wait_hours"]) * 3600.0)] = 0.0
    # the collimators' field while muons are stored (drawn last: a world without it keeps its draws)
    coll_phi, coll_hz, coll_width = np.zeros(0), np.zeros(0), 0.0
    if "configuration" in s:
        c = s["configuration"]
        coll_phi = np.radians(np.asarray(c["azimuths_deg"], dtype=float)) % (2 * math.pi)
        coll_hz = 1e-9 * m1_hz * float(c["amplitude_ppb"]) * (
            1.0 + float(c.get("amplitude_rms", 0.0)) * rng.standard_normal(coll_phi.size))
        coll_width = math.radians(float(c["width_deg"]))
    return FieldWorld(phi, static, t, station_phi, drift, untracked, ramps, ramp_profile,
                      float(s["ramp_tau_hours"]) * 3600.0, access, rate, coll_phi, coll_hz, coll_width)


def storage_field(world: FieldWorld, phi) -> np.ndarray:
    """The m_1 change [Hz] at azimuths phi while muons are stored (the collimators in, Sec. VI D):
    the sum of the collimators' Gaussian bumps; zero in a world without them."""
    if world.collimator_phi.size == 0:
        return np.zeros(np.shape(phi))
    return periodic_gaussians(phi, world.collimator_phi, world.collimator_hz, world.collimator_width_rad)


def ramp_relaxation(world: FieldWorld, t_s) -> np.ndarray:
    """The relaxation factor sum over past ramps exp(-(t - t_ramp)/tau) at times t (s)."""
    return relaxation(np.atleast_1d(t_s), world.ramp_s, world.ramp_tau_s)


def moments_at(world: FieldWorld, t_index: int, phi_index=None) -> np.ndarray:
    """m_i(phi, t) at one grid time, for all azimuths of the map (or ``phi_index``): (A, 12) Hz."""
    idx = slice(None) if phi_index is None else phi_index
    phi = world.phi[idx]
    m = world.static[idx].copy()
    m[:, :N_TRACKED] += periodic_linear_weights(phi, world.station_phi) @ world.drift[t_index]
    m[:, 0] += world.untracked[t_index] + world.ramp_profile[idx] * ramp_relaxation(world, world.t_s[t_index])[0]
    return m


def muon_weighted_map(world: FieldWorld) -> np.ndarray:
    """<m_i(phi)> over time weighted by the muon rate, at every azimuth of the map: (A, 12) Hz.
    Every piece of the field is linear, so the average is taken piece by piece."""
    w_t = world.muon_rate / world.muon_rate.sum()
    m = world.static.copy()
    m[:, :N_TRACKED] += periodic_linear_weights(world.phi, world.station_phi) @ np.einsum("t,tsj->sj", w_t, world.drift)
    m[:, 0] += w_t @ world.untracked + world.ramp_profile * (w_t @ ramp_relaxation(world, world.t_s))
    if world.collimator_phi.size:  # the muons are stored only with the collimators in
        m[:, 0] += storage_field(world, world.phi)
    return m


def muon_weighted_moments(world: FieldWorld) -> np.ndarray:
    """<m_i> over azimuth (uniform: the muons fill the ring) and time (the muon rate): (12,) Hz."""
    return muon_weighted_map(world).mean(axis=0)


def true_omega_p(world: FieldWorld, projections, weighted_map=None) -> float:
    """The muon-weighted field omega~'_p (Eq. 40-43), Hz: the ring average of sum_i k_i(phi)
    <m_i(phi)>_t for beam projections k_i that are constant in time, given either per azimuth
    of the map (A, N) or for the whole ring (N,). ``weighted_map``: ``muon_weighted_map(world)``
    if the caller has it already."""
    k = np.asarray(projections, dtype=float)
    m = (muon_weighted_map(world) if weighted_map is None else weighted_map)[:, : k.shape[-1]]
    return float(np.mean(m @ k)) if k.ndim == 1 else float(np.mean(np.sum(m * k, axis=1)))


def moments_along(world: FieldWorld, t_of_phi_s) -> np.ndarray:
    """m_i(phi, t(phi)) for every azimuth of the map at its own time (a trolley run goes around
    the ring in ~2 h while the field drifts): (A, 12) Hz."""
    t = np.asarray(t_of_phi_s, dtype=float)
    if t.shape != world.phi.shape:
        raise ValueError(f"t_of_phi_s: shape {t.shape}, expected one time per azimuth {world.phi.shape}")
    m = world.static.copy()
    w = periodic_linear_weights(world.phi, world.station_phi)  # (A, S), two neighbours each
    n_tracked = world.drift.shape[2]
    for s in range(world.station_phi.size):
        rows = np.flatnonzero(w[:, s])
        if rows.size:
            d = np.stack([np.interp(t[rows], world.t_s, world.drift[:, s, j]) for j in range(n_tracked)], 1)
            m[rows, :n_tracked] += w[rows, s, None] * d
    m[:, 0] += np.interp(t, world.t_s, world.untracked) + world.ramp_profile * ramp_relaxation(world, t)
    return m
