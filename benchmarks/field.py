"""Field-branch throughput: azimuthal multipole fits per second (vs one lstsq per azimuth, the
straightforward peer) and tracked fixed-probe samples per second (tying and Eq. 49 on a
dataset-sized world).

    python benchmarks/field.py
"""

from __future__ import annotations

import resource
import time

import numpy as np

from g2chain.experiment import field_measurements, field_world
from g2chain.field.multipoles import fit_multipoles, multipole_basis, trolley_probe_positions
from g2chain.field.omega_p import analyse_field, station_moments_and_ties

SETTINGS = {"azimuths": 9000, "dipole_profile_ppm_rms": 17.0, "multipole_azimuthal_ppb_rms": 200.0,
            "dataset_days": 40.0, "trolley_interval_days": 2.5, "access_interval_days": 2.5, "access_hours": 2.0,
            "time_step_s": 600.0, "daily_cycle_ppm": 0.3,
            "tracked_walk_hz_per_sqrt_s": 0.05, "untracked_rate_hz_per_sqrt_s": 0.018, "ramp_days": [0.0, 20.3],
            "ramp_amplitude_ppb": 100.0, "ramp_tau_hours": 12.0, "trolley_run_hours": 2.0, "ramp_wait_hours": 6.0,
            "trolley_noise_hz": 3.0, "fixed_probe_noise_hz": 5.0, "calibration_swaps": 20, "footprint_hz": 300.0,
            "footprint_width_s": 20.0, "passage_window_s": 300.0, "passage_sample_s": 2.0}


def _best(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    rng = np.random.default_rng(1)
    ratios = [331, 611, -310, 383, 94, 217, -24, 23, -697, -167, -1068]
    world = field_world.build_field_world(SETTINGS, 61.79e6, ratios, np.random.SeedSequence(1))
    offsets = rng.normal(0.0, 60.0, 17)
    readings = field_measurements.trolley_run(world, world.access_s, 3, 2.0, offsets, 3.0, rng)
    n = readings.shape[0]
    ours = _best(lambda: fit_multipoles(readings))
    xy = trolley_probe_positions()
    a = multipole_basis(xy[:, 0], xy[:, 1], 12).T

    def peer():
        for row in readings:
            np.linalg.lstsq(a, row, rcond=None)

    theirs = _best(peer, 1)
    print(f"multipole fits (17 probes, N_max = 12): {n / ours:.3g} azimuths/s "
          f"({n} in {ours * 1e3:.1f} ms); one lstsq per azimuth: {n / theirs:.3g}/s -> {theirs / ours:.0f}x")
    t0 = time.perf_counter()
    meas = field_measurements.measure_field(world, SETTINGS, offsets, rng)
    t_meas = time.perf_counter() - t0
    samples = sum(r.size for r in meas.fp_readings) + sum(x.size for k in meas.passage_readings for x in k)
    t_track = _best(lambda: station_moments_and_ties(meas, 100.0), 1)
    print(f"tying + station moments: {samples / t_track:.3g} fixed-probe samples/s ({samples:.3g} samples, "
          f"{meas.trolley_times_s.size} trolley runs, 72 stations, {t_track:.2f} s)")
    k = np.array([1.0, 0.139, -0.001, 0.001, 0.081, 0.0, -0.001, -0.002, 0.001, -0.004, 0.0, -0.001])
    ramp = {"amplitude_ppb": 100.0, "amplitude_err_ppb": 100.0, "tau_hours": 12.0}
    t_all = _best(lambda: analyse_field(meas, k, ramp), 1)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"whole in-memory chain of one 40-day dataset: {t_all:.2f} s (measurements simulated in {t_meas:.2f} s; "
          f"peak RSS {rss:.2f} GiB)")


if __name__ == "__main__":
    main()
