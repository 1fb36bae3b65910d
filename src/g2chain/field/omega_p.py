"""The field chain of one dataset, in memory (Run-2/3 report Sec. VI C-F): calibrate the trolley
probes, fit the trolley maps, tie and track with the fixed probes, weight by the muons in time
and in the transverse plane, and the Brownian-bridge uncertainty from the tracking offsets.

Inputs are the measurement records (``experiment.field_measurements``) and the beam projections
k_i; the result is the muon-weighted field omega~'_p in Hz with its evaluated uncertainties.
"""

from __future__ import annotations

import numpy as np

from ..numerics import periodic_linear_weights
from ..records.field_files import FieldMeasurements
from . import fixed_probes
from .calibration import probe_offsets
from .multipoles import fit_multipoles
from .tracking import (
    brownian_rate,
    dataset_bridge_uncertainty,
    ramp_correction,
    relaxation,
    track_azimuthal_average,
)
from .weighting import weighted_field

N_MOMENTS = 12


def station_weight_average(station_phi, n_azimuths: int = 3600) -> np.ndarray:
    """Azimuthal average of the linear station interpolation weights W_s(phi) (Eq. 49)."""
    phi = (np.arange(n_azimuths) + 0.5) * 2 * np.pi / n_azimuths
    return periodic_linear_weights(phi, station_phi).mean(axis=0)


def station_moments_and_ties(meas: FieldMeasurements, footprint_half_width_s: float, max_gap_s: float = 3600.0):
    """Station moments on the time grid and their values at each trolley passage (Eq. 48,
    footprint removed): returns (moments [T x S x 12], ties [K x S x 12]). A four-probe
    station's m_4 comes from its six-probe neighbours and its alias in m_1 is removed
    (``fixed_probes.fill_unresolved``); m_6..m_12 are zero (not tracked: interpolated between
    runs). Gaps
    in a station's readings up to ``max_gap_s`` are bridged linearly, longer ones stop the
    analysis with the station and time named (``fixed_probes.fill_gaps``)."""
    n_s = len(meas.fp_readings)
    t_n = meas.fp_times_s.size
    moments = np.zeros((t_n, n_s, N_MOMENTS))
    ties = np.zeros((meas.trolley_times_s.size, n_s, N_MOMENTS))
    for s in range(n_s):
        n_p = int(meas.station_probes[s])
        cols = list(fixed_probes.STATION_MOMENTS[n_p])
        readings = fixed_probes.fill_gaps(meas.fp_times_s, meas.fp_readings[s], max_gap_s, f"station {s}")
        moments[:, s, cols] = fixed_probes.station_moments(readings, n_p)[:, cols]
        for k in range(meas.trolley_times_s.size):
            fine = fixed_probes.station_moments(meas.passage_readings[k][s], n_p)[:, cols]
            t_fine, t_pass = meas.passage_window_times_s[k, s], meas.passage_times_s[k, s]
            clean = fixed_probes.remove_footprint(t_fine, fine, t_pass, footprint_half_width_s)
            ties[k, s, cols] = fixed_probes.tie(t_fine, clean, t_pass)
    return (fixed_probes.fill_unresolved(moments, meas.station_probes, meas.station_phi),
            fixed_probes.fill_unresolved(ties, meas.station_probes, meas.station_phi))


def trolley_maps(meas: FieldMeasurements, offsets_hz, temperature_coeff_hz_per_c: float = 0.0):
    """Multipole fits at every azimuth of every trolley run, calibration offsets removed and each
    run's probes brought back to the calibration temperature: (azimuthal averages [K x 12], the
    map averaged over the runs [A x 12], residual rms per run)."""
    means, rms, total = [], [], None
    temps = np.zeros(len(meas.trolley_readings)) if meas.trolley_temperature_c is None else meas.trolley_temperature_c
    for readings, temp in zip(meas.trolley_readings, temps, strict=True):
        m, resid = fit_multipoles(np.asarray(readings) - offsets_hz - temperature_coeff_hz_per_c * temp)
        means.append(m.mean(axis=0))
        rms.append(float(np.sqrt(np.nanmean(resid**2))))
        total = m if total is None else total + m
    return np.array(means), total / len(meas.trolley_readings), rms


def analyse_field(meas: FieldMeasurements, projections, ramp_model: dict,
                  footprint_half_width_s: float = 100.0, max_gap_s: float = 3600.0,
                  temperature_coeff_hz_per_c: float = 0.0) -> dict:
    """omega~'_p (Hz) of one dataset and its evaluated parts. ``projections``: k_i, either for the
    ring (12,) or per azimuth of the trolley map (A, 12), or a callable of the averaged map
    (A, 12) returning those (the COD of Eq. 54 needs the measured dipole map); ``ramp_model``: the
    external magnet-ramp relaxation (amplitude_ppb, amplitude_err_ppb, tau_hours), applied as a
    correction with its uncertainty; ``temperature_coeff_hz_per_c``: the trolley probes'
    temperature coefficient (from their bench calibration)."""
    offsets, offsets_err = probe_offsets(meas.calib_trolley, meas.calib_probe)
    m_tr, field_map, rms = trolley_maps(meas, offsets, temperature_coeff_hz_per_c)  # m_tr: (K, 12) azimuthal averages
    k = np.asarray(projections(field_map) if callable(projections) else projections, dtype=float)
    fp, ties = station_moments_and_ties(meas, footprint_half_width_s, max_gap_s)
    jac = np.zeros((len(meas.fp_readings), N_MOMENTS, N_MOMENTS))
    jac[:, np.arange(N_MOMENTS), np.arange(N_MOMENTS)] = 1.0  # geometric: the station's own moments
    w_s = station_weight_average(meas.station_phi)
    runs = meas.trolley_times_s
    inside = (meas.fp_times_s >= runs[0]) & (meas.fp_times_s <= runs[-1])
    t = meas.fp_times_s[inside]
    tracked = track_azimuthal_average(t, runs, m_tr, fp[inside], ties, w_s, jac)
    rate = meas.muon_rate[inside]
    moments = rate @ tracked / rate.sum()
    m1 = float(moments[0])
    unit = ramp_correction(t, rate, runs, meas.ramp_times_s, 1e-9 * m1, 3600.0 * float(ramp_model["tau_hours"]),
                           meas.trolley_run_s)
    ramp = unit * float(ramp_model["amplitude_ppb"])
    ramp_err = abs(unit) * float(ramp_model["amplitude_err_ppb"])
    moments[0] += ramp
    # tracking offsets: each run predicted from the previous one alone (W_k = 1) and the stations'
    # change between the two passages (each station at its own passage, as the trolley saw it),
    # vs measured. The modelled ramp relaxation between the runs, which the trolley sees and the
    # stations miss, is taken out: it has its own row and is not a random walk.
    predicted = m_tr[:-1] + np.einsum("s,sij,ksj->ki", w_s, jac, ties[1:] - ties[:-1])
    seen = relaxation(runs, meas.ramp_times_s, 3600.0 * float(ramp_model["tau_hours"]))
    offsets_m1 = m_tr[1:, 0] - predicted[:, 0] - 1e-9 * m1 * float(ramp_model["amplitude_ppb"]) * np.diff(seen)
    rate_m, rate_m_err = brownian_rate(offsets_m1, np.diff(runs))
    bridge = dataset_bridge_uncertainty(runs, rate_m, t, rate)
    return {"omega_p_hz": weighted_field(moments, field_map, k), "moments_hz": moments.tolist(),
            "projections": k, "field_map_hz": field_map,
            "ramp_correction_hz": ramp, "ramp_correction_err_hz": ramp_err,
            "brownian_rate_hz_per_sqrt_s": rate_m, "brownian_rate_err": rate_m_err,
            "brownian_bridge_hz": bridge, "tracking_offsets_m1_hz": offsets_m1.tolist(),
            "probe_offsets_hz": offsets.tolist(), "probe_offsets_err_hz": offsets_err.tolist(),
            "trolley_fit_residual_rms_hz": rms, "tracked_times_s": t, "tracked_moments_hz": tracked}
