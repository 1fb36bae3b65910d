"""What the NMR systems record of the field world (Run-2/3 report Sec. VI B-E): trolley runs,
the calibration campaign, and the fixed-probe stations with the trolley's footprint.

Each function returns the raw readings (proton frequencies in Hz) an analysis starts from; the
true values they were made from stay in the world. Times in s, azimuths in rad, lengths in mm.
"""

from __future__ import annotations

import math

import numpy as np

from ..physics.multipoles import field_from_multipoles
from ..records.field_layout import station_design, trolley_probe_positions
from .field_world import DAY_S, N_STATIONS, FieldWorld, moments_along, storage_field


def station_layout() -> np.ndarray:
    """Probes per station: 45 six-probe and 27 four-probe stations, 378 probes in all (the
    four-probe ones every third of each eight, standing in for the crowded azimuths)."""
    return np.array([4 if s % 8 in (1, 4, 6) else 6 for s in range(N_STATIONS)])


def trolley_times(world: FieldWorld, interval_days: float) -> np.ndarray:
    """The trolley plan: a run in every n-th access window, n = interval / access interval, from
    the first window to the last (so that tracking covers the whole dataset). An interval that is
    not a whole number of access intervals, or does not divide the dataset, is a one-line error."""
    every = float(np.diff(world.access_s[:2])[0])
    n = interval_days * DAY_S / every
    step = int(round(n))
    if step < 1 or abs(n - step) > 1e-6:
        raise ValueError(f"field.trolley_interval_days ({interval_days}) is not a whole number of access intervals "
                         f"({every / DAY_S:g} days)")
    if (world.access_s.size - 1) % step:
        raise ValueError(f"field.trolley_interval_days ({interval_days}) does not divide field.dataset_days "
                         f"({world.access_s[-1] / DAY_S:g})")
    return world.access_s[::step].copy()


def run_times(runs_s, k: int, run_hours: float, phi) -> np.ndarray:
    """When trolley run k (at ``runs_s[k]``) is at azimuth phi: once around the ring, centred on
    the run time."""
    return runs_s[k] + (np.asarray(phi, dtype=float) / (2 * math.pi) - 0.5) * run_hours * 3600.0


def trolley_run(world: FieldWorld, runs_s, k: int, run_hours: float, probe_offsets_hz, noise_hz: float,
                rng) -> np.ndarray:
    """Readings [azimuths x 17] of trolley run k: the field at each probe's position, at the time
    the trolley is at that azimuth, plus each probe's own calibration offset and noise."""
    m = moments_along(world, run_times(runs_s, k, run_hours, world.phi))
    xy = trolley_probe_positions()
    a = m.shape[0]
    f = field_from_multipoles(m, np.broadcast_to(xy[:, 0], (a, 17)), np.broadcast_to(xy[:, 1], (a, 17)))
    return f + np.asarray(probe_offsets_hz, float)[None, :] + rng.normal(0.0, noise_hz, size=f.shape)


def calibration_campaign(world: FieldWorld, probe_offsets_hz, n_repeats: int, noise_hz: float, rng):
    """Swap measurements at one azimuth: for each trolley probe n, the trolley probe and then the
    calibration probe read the field at probe n's position, n_repeats times. Returns (trolley
    readings, calibration-probe readings), each [17 x n_repeats]; their difference measures the
    probe's offset (Eq. 47: the calibration constant)."""
    m = world.static[0]  # the calibration azimuth, at a quiet time: the static field there
    xy = trolley_probe_positions()
    true = field_from_multipoles(m, xy[:, 0], xy[:, 1])
    # the field moves a little between the two halves of each swap (a fraction of the noise)
    wander = rng.normal(0.0, 0.3 * noise_hz, size=(17, n_repeats))
    trolley = true[:, None] + np.asarray(probe_offsets_hz, float)[:, None] + rng.normal(0.0, noise_hz, (17, n_repeats))
    calib = true[:, None] + wander + rng.normal(0.0, noise_hz, (17, n_repeats))
    return trolley, calib


def _station_map_index(world: FieldWorld) -> np.ndarray:
    """The map azimuth nearest each station (the static field the station sits in)."""
    return np.searchsorted(world.phi, world.station_phi) % world.phi.size


def _station_readings(world: FieldWorld, s: int, n_probes: int, static_row: int, drift, extra, noise_hz, rng):
    """What station s's probes read: its static moments plus ``drift`` [n x 5] (Hz), through the
    station's probe positions, plus ``extra`` (a footprint, or 0) and noise."""
    m = np.tile(world.static[static_row], (drift.shape[0], 1))
    m[:, : drift.shape[1]] += drift
    design = station_design(n_probes)
    return m @ design.T + extra + rng.normal(0.0, noise_hz, size=(drift.shape[0], design.shape[0]))


def fixed_probe_readings(world: FieldWorld, noise_hz: float, rng) -> list:
    """Per station, readings [T x probes] on the world's time grid: the static field at the
    station plus the tracked drift (not the untracked walk or the ramp relaxation, which is why
    they are untracked), and noise."""
    layout, near = station_layout(), _station_map_index(world)
    return [_station_readings(world, s, int(layout[s]), near[s], world.drift[:, s, :], 0.0, noise_hz, rng)
            for s in range(N_STATIONS)]


def passage_time(world: FieldWorld, runs_s, k: int, s: int, run_hours: float) -> float:
    """When the trolley passes station s during run k."""
    return float(run_times(runs_s, k, run_hours, world.station_phi[s]))


def fixed_probe_passages(world: FieldWorld, runs_s, run_hours: float, footprint_hz: float, footprint_s: float,
                         window_s: float, sample_s: float, noise_hz: float, rng):
    """Finely sampled fixed-probe readings around every trolley passage, with the trolley's
    footprint (a Gaussian bump of ``footprint_hz`` and width ``footprint_s`` on every probe of the
    station). Returns (times [K x S x n], readings: list over K of lists over S of [n x probes],
    passage times [K x S])."""
    layout, near = station_layout(), _station_map_index(world)
    offsets = np.arange(-window_s, window_s + 0.5 * sample_s, sample_s)
    bump = footprint_hz * np.exp(-0.5 * (offsets / footprint_s) ** 2)
    n_runs = len(runs_s)
    times = np.empty((n_runs, N_STATIONS, offsets.size))
    passes = np.empty((n_runs, N_STATIONS))
    readings = []
    for k in range(n_runs):
        per_station = []
        for s in range(N_STATIONS):
            tp = passage_time(world, runs_s, k, s, run_hours)
            t = tp + offsets
            drift = np.stack([np.interp(t, world.t_s, world.drift[:, s, j]) for j in range(world.drift.shape[2])], 1)
            per_station.append(_station_readings(world, s, int(layout[s]), near[s], drift, bump[:, None], noise_hz,
                                                 rng))
            times[k, s], passes[k, s] = t, tp
        readings.append(per_station)
    return times, readings, passes


def measure_field(world: FieldWorld, settings: dict, probe_offsets_hz, rng):
    """Every record of one dataset's field systems (``settings``: the ``field`` config block):
    trolley runs, the calibration campaign, fixed probes on the world's time grid and around
    each trolley passage, and the stored-muon schedule."""
    from ..records.field_files import FieldMeasurements

    noise_tr, noise_fp = float(settings["trolley_noise_hz"]), float(settings["fixed_probe_noise_hz"])
    run_h = float(settings["trolley_run_hours"])
    if run_h > float(settings["access_hours"]):
        raise ValueError(f"field.trolley_run_hours ({run_h}) is longer than an access window "
                         f"({settings['access_hours']} h)")
    plan = trolley_times(world, float(settings["trolley_interval_days"]))
    # each run's trolley temperature relative to the calibration campaign's (a mean offset, as the
    # ring's runs sit several degrees from the calibration's, and a run-to-run spread) shifts every
    # probe by the true coefficient (the same for all 17: a pure m_1 shift)
    temps = rng.normal(float(settings.get("trolley_temperature_offset_c", 0.0)),
                       float(settings.get("trolley_temperature_rms_c", 0.0)), plan.size)
    coeff = float(settings.get("trolley_temperature_coeff_hz_per_c", 0.0))
    runs = [trolley_run(world, plan, k, run_h, probe_offsets_hz, noise_tr, rng) + coeff * temps[k]
            for k in range(plan.size)]
    calib_tr, calib_cp = calibration_campaign(world, probe_offsets_hz, int(settings["calibration_swaps"]), noise_tr,
                                              rng)
    fp = fixed_probe_readings(world, noise_fp, rng)
    times, fine, passes = fixed_probe_passages(
        world, plan, run_h, float(settings["footprint_hz"]), float(settings["footprint_width_s"]),
        float(settings["passage_window_s"]), float(settings["passage_sample_s"]), noise_fp, rng)
    return FieldMeasurements(plan, runs, calib_tr, calib_cp, world.t_s.copy(), fp, station_layout(),
                             world.station_phi.copy(), passes, times, fine, world.muon_rate.copy(),
                             world.ramp_s.copy(), run_h * 3600.0, temps,
                             configuration_probes(world, settings.get("configuration_probe"), noise_fp, rng))


def configuration_probes(world: FieldWorld, probe: dict | None, noise_hz: float, rng):
    """What the local probe at each collimator reads (Sec. VI D): the field with the collimator in
    minus out at ``probe["offset_deg"]`` from its centre, averaged over ``probe["changes"]``
    configuration changes (two readings of ``noise_hz`` each). None where the world has no
    collimators or no local probes are configured."""
    from ..records.field_files import ConfigurationProbes

    if probe is None or world.collimator_phi.size == 0:
        return None
    at = (world.collimator_phi + math.radians(float(probe["offset_deg"]))) % (2 * math.pi)
    err = noise_hz * math.sqrt(2.0 / int(probe["changes"]))
    step = storage_field(world, at) + rng.normal(0.0, err, at.size)
    return ConfigurationProbes(world.collimator_phi.copy(), at, step, np.full(at.size, err))
