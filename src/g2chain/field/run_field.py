"""File-level step of the field analysis (rule ``field``): experiment/field.h5 and the trackers ->
omega~'_p, B_K, B_Q and the Table XXII-shaped uncertainty table of one dataset.

Every uncertainty row is either *evaluated* here from the toy's own measurements or an
*external* input from config (the paper's value for an effect the toy does not create); the two
kinds are never merged, and each carries whether it is correlated across datasets.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..io import read_h5, write_json
from ..physics.multipoles import multipole_basis
from ..records.field_files import read_field_measurements
from ..records.field_layout import trolley_probe_positions
from .configuration import configuration_correction
from .omega_p import analyse_field
from .transients import fit_esq_trace, fit_kicker_trace, pulse_shifts
from .weighting import (
    azimuthal_projections,
    beam_projections,
    gaussian_projections,
    radial_cod,
    tracker_beam,
    weighted_field,
)

# Table XXII rows, in the paper's order: key -> (label, section)
TABLE_XXII = {
    "calibration_probe": ("Calibration probe", "VI B"),
    "trolley_calibration": ("Trolley calibration", "VI C"),
    "spatial_field_maps": ("Spatial field maps", "VI D"),
    "tracking": ("Tracking", "VI E"),
    "muon_weighting": ("Muon weighting", "VI F"),
    "transient_booster": ("Transient booster", "VI G"),
    "transient_kicker": ("Transient kicker", "VI G 1"),
    "transient_esq": ("Transient ESQ", "VI G 2"),
}



@dataclass
class FieldResult:
    """The field analysis of one dataset (Sec. VI). ``record``: what omega_p.json holds — omega~'_p
    in Hz, its uncertainty table in ppb (Table XXII rows, each marked evaluated or external and
    correlated or not across datasets), B_K and B_Q in ppb. The arrays are what the figure shows:
    the azimuthal map (Hz) at ``phi`` (rad), the tracked moments at ``tracked_times_s``, the
    trolley runs' times and tracking offsets of m_1 (Hz), the muon-weighted k_i(phi), and the
    kicker and ESQ traces (fractional field, over ``trace_t_us``) with their fits."""

    record: dict
    phi: np.ndarray
    field_map_hz: np.ndarray
    tracked_times_s: np.ndarray
    tracked_moments_hz: np.ndarray
    trolley_times_s: np.ndarray
    tracking_offsets_m1_hz: np.ndarray
    projections_of_phi: np.ndarray
    trace_t_us: np.ndarray
    traces: dict
    trace_fits: dict

def _entry(row, source, kind, correlated, ppb, statistical=False):
    """One Table XXII entry (ppb); ``statistical``: it shrinks as 1/sqrt(N) with the muon sample."""
    return {"row": row, "source": source, "kind": kind, "correlated": bool(correlated), "ppb": float(abs(ppb)),
            "statistical": bool(statistical)}


def uncertainty_table(entries: list) -> dict:
    """Rows of Table XXII from the individual entries: per row the evaluated and the external
    parts (each in quadrature), the correlated and uncorrelated subtotals, and the totals."""
    rows = []
    for key, (label, section) in TABLE_XXII.items():
        mine = [e for e in entries if e["row"] == key]
        part = {kind: float(np.sqrt(sum(e["ppb"] ** 2 for e in mine if e["kind"] == kind)))
                for kind in ("evaluated", "external")}
        rows.append({"row": key, "label": label, "section": section, **part,
                     "total": float(np.hypot(part["evaluated"], part["external"])), "entries": mine})

    def quad(sel):
        return float(np.sqrt(sum(e["ppb"] ** 2 for e in entries if sel(e))))

    def field_only(e):  # the rows of omega~'_p itself; the transient rows are B_K's and B_Q's
        return not e["row"].startswith("transient")

    return {"rows": rows,
            "omega_p_evaluated": quad(lambda e: field_only(e) and e["kind"] == "evaluated"),
            "omega_p_total": quad(field_only),
            "subtotal_uncorrelated": quad(lambda e: not e["correlated"]),
            "subtotal_correlated": quad(lambda e: e["correlated"]),
            "evaluated": quad(lambda e: e["kind"] == "evaluated"),
            "external": quad(lambda e: e["kind"] == "external"),
            "total": quad(lambda e: True)}


def _probe_lever(k_bar) -> np.ndarray:
    """d(sum_i k_i m_i) / d(reading of trolley probe p): the multipole fit's pseudo-inverse."""
    xy = trolley_probe_positions()
    return k_bar @ np.linalg.pinv(multipole_basis(xy[:, 0], xy[:, 1], 12).T)


def _calibration_error_hz(offsets_err, k_bar) -> float:
    """The offsets' errors through the multipole fit (one set for every azimuth) into sum k_i m_i."""
    return float(np.sqrt(np.sum((_probe_lever(k_bar) * np.asarray(offsets_err)) ** 2)))


def _map_noise_hz(residual_rms, n_azimuths: int, k_bar) -> float:
    """Trolley-probe noise on the ring-averaged map, averaged over the runs."""
    per_probe = np.mean(residual_rms) * np.sqrt(17 / (17 - 12))  # residual rms -> probe noise
    lever = _probe_lever(k_bar)
    return float(per_probe * np.sqrt(np.sum(lever**2)) / np.sqrt(n_azimuths * len(residual_rms)))


def analyse_dataset(settings: dict, field_index: float, resolution_mm: float, field_path,
                    trackers_path, vertical_falloff: float) -> FieldResult:
    """omega~'_p of one dataset with its uncertainty table; ``settings``: the dataset's field
    block (fit start, tying, gaps, ramp model, external rows); ``resolution_mm`` and
    ``vertical_falloff``: the trackers as the analysis's detector model has them."""
    meas, traces = read_field_measurements(field_path)
    trk, _ = read_h5(trackers_path, kind="trackers")
    beam = tracker_beam(trk["vertices"], trk["x_edges"], trk["y_edges"], trk["time_edges"],
                        float(settings["fit_start_us"]), resolution_mm, vertical_falloff)
    phi = np.asarray(traces["azimuth_rad"])

    def projections(field_map, b=beam):
        return azimuthal_projections(b, phi, field_map[:, 0], field_index)

    temp = settings["trolley_temperature"]
    out = analyse_field(meas, projections, settings["ramp_model"], float(settings["footprint_half_width_s"]),
                        float(settings["max_gap_s"]), float(temp["coeff_hz_per_c"]))
    omega = out["omega_p_hz"]
    to_ppb = 1e9 / omega
    moments, fmap, k_phi = np.array(out["moments_hz"]), out["field_map_hz"], out["projections"]
    k_bar = k_phi.mean(axis=0)
    entries = []
    # trolley calibration and map noise: the toy's own statistics, independent per dataset
    entries.append(_entry("trolley_calibration", "calibration-campaign statistics", "evaluated", False,
                          _calibration_error_hz(out["probe_offsets_err_hz"], k_bar) * to_ppb))
    entries.append(_entry("spatial_field_maps", "trolley-probe noise on the maps", "evaluated", False,
                          _map_noise_hz(out["trolley_fit_residual_rms_hz"], phi.size, k_bar) * to_ppb))
    # the temperature correction of the trolley probes: its coefficient's error times the runs'
    # mean temperature offset (each run's map counts about equally in the tracked average)
    entries.append(_entry("spatial_field_maps", "trolley temperature coefficient", "evaluated", True,
                          float(temp["coeff_err_hz_per_c"]) * abs(np.mean(meas.trolley_temperature_c)) * to_ppb))
    # the collimators' field while muons are stored, which the maps miss (delta^config): the
    # calculation as the correction, its discrepancy with the local probes as the uncertainty
    config = None
    if meas.configuration is not None:
        if "configuration_model" not in settings:
            raise ValueError("field.configuration_model: required, the field records have local collimator probes")
        config = configuration_correction(meas.configuration, settings["configuration_model"], float(moments[0]),
                                          phi, k_phi[:, 0])
        entries.append(_entry("spatial_field_maps", "configuration: calculation vs local probes (delta^config)",
                              "evaluated", True, config.error_hz * to_ppb))
    # tracking: the Brownian bridge (uncorrelated) and the ramp model (correlated)
    entries.append(_entry("tracking", "Brownian bridge (untracked field between trolley runs)", "evaluated", False,
                          out["brownian_bridge_hz"] * to_ppb))
    entries.append(_entry("tracking", "magnet-ramp relaxation model", "evaluated", True,
                          out["ramp_correction_err_hz"] * to_ppb))
    # muon weighting: tracker statistics, and the Gaussian beam model against the measured shape
    shifts = []
    for key in ("x_mean", "x_rms", "y_rms"):
        varied = {**beam, key: beam[key] + beam[f"{key}_err"]}
        shifts.append(weighted_field(moments, fmap, projections(fmap, varied)) - omega)
    entries.append(_entry("muon_weighting", "tracker statistics (beam mean and widths)", "evaluated", False,
                          float(np.sqrt(np.sum(np.square(shifts)))) * to_ppb, statistical=True))
    cod = radial_cod(fmap[:, 0], phi, field_index)
    k_hist = beam_projections(beam["density"], beam["x_mm"], beam["y_mm"])
    k_gauss = gaussian_projections(beam["x_mean"], beam["x_rms"], beam["y_rms"])  # at the trackers, no COD
    shape = float((k_hist - k_gauss) @ moments)
    entries.append(_entry("muon_weighting", "beam shape (Gaussian model vs tracker histogram)", "evaluated", True,
                          shape * to_ppb))
    # transients: fits of the measured traces, scaled to the ring by the analysis's model of their
    # azimuthal extent (``transient_model``), whose error is the leading one (Tables XX, XXI)
    t_us = np.asarray(traces["t_us"])
    model = settings["transient_model"]
    kick = fit_kicker_trace(t_us, traces["kicker"], float(traces["kicker_noise"]), float(model["kicker"]["coverage"]))
    esq = fit_esq_trace(t_us, traces["esq"], float(traces["esq_noise"]), float(model["esq"]["coverage"]))
    for row, name, fit in (("transient_kicker", "kicker", kick), ("transient_esq", "esq", esq)):
        label = "kicker" if name == "kicker" else "ESQ"
        coverage = model[name]
        fit["B_coverage_err"] = abs(fit["B"]) * float(coverage["coverage_err"]) / float(coverage["coverage"])
        entries.append(_entry(row, f"{label} trace fit", "evaluated", False, fit["B_err"] * 1e9))
        entries.append(_entry(row, f"{label} azimuthal extent (transient_model)", "evaluated", True,
                              fit["B_coverage_err"] * 1e9))
        fit["B_err"] = float(np.hypot(fit["B_err"], fit["B_coverage_err"]))
    if "kicker_pulses" in traces:
        # the campaign's pulses differ (Table XX's transient variance): the mean's standard error
        kick["B_pulses"] = pulse_shifts(t_us, traces["kicker_pulses"], float(traces["kicker_noise"]),
                                        float(model["kicker"]["coverage"]))
        kick["B_pulse_err"] = float(np.std(kick["B_pulses"], ddof=1) / np.sqrt(len(kick["B_pulses"])))
        entries.append(_entry("transient_kicker", "kicker pulse-to-pulse variance (mean of the campaign's pulses)",
                              "evaluated", True, kick["B_pulse_err"] * 1e9))
        kick["B_err"] = float(np.hypot(kick["B_err"], kick["B_pulse_err"]))
    for key, value in settings["external_ppb"].items():
        entries.append(_entry(key, "external input (config field.external_ppb)", "external", True, value))
    table = uncertainty_table(entries)
    record = {
        # the maps' weighted field plus the configuration correction (which the rows above vary around)
        "omega_p_tilde_hz": omega + (config.correction_hz if config else 0.0),
        # omega~'_p's own rows (VI B-F); B_K and B_Q carry the transient rows as their own errors
        "omega_p_tilde_err_hz": {"evaluated": table["omega_p_evaluated"] / to_ppb,
                                 "total": table["omega_p_total"] / to_ppb},
        "B_K_ppb": kick["B"] * 1e9, "B_K_err_ppb": kick["B_err"] * 1e9,
        "B_Q_ppb": esq["B"] * 1e9, "B_Q_err_ppb": esq["B_err"] * 1e9,
        "uncertainty_ppb": table,
        "moments_hz": moments.tolist(),
        "projections": k_bar.tolist(),
        "beam_at_trackers": {k: beam[k] for k in ("x_mean", "x_rms", "y_mean", "y_rms", "x_mean_err",
                                                   "x_rms_err", "y_rms_err", "vertices")},
        "cod_amplitude_mm": float(np.max(np.abs(cod))),
        "ramp_correction_ppb": out["ramp_correction_hz"] * to_ppb,
        **({"configuration_ppb": {"correction": config.correction_hz * to_ppb,
                                  "discrepancy": config.discrepancy_hz * to_ppb,
                                  "statistical": config.statistical_hz * to_ppb,
                                  "measured_over_calculated": config.ratio.tolist()}} if config else {}),
        "brownian_rate_hz_per_sqrt_s": [out["brownian_rate_hz_per_sqrt_s"], out["brownian_rate_err"]],
        "trolley_runs": int(meas.trolley_times_s.size),
        "trolley_fit_residual_rms_hz": out["trolley_fit_residual_rms_hz"],
        "probe_offsets_hz": out["probe_offsets_hz"], "probe_offsets_err_hz": out["probe_offsets_err_hz"],
        "kicker_fit": {k: kick[k] for k in ("amplitude", "tau_us", "parameter_errors")},
        **({"kicker_pulses_B_K_ppb": [b * 1e9 for b in kick["B_pulses"]]} if "B_pulses" in kick else {}),
        "esq_fit": {k: esq[k] for k in ("parameters", "parameter_errors")},
        "units": {"omega_p_tilde_hz": "Hz (proton frequency)", "uncertainty_ppb": "ppb of omega~'_p",
                  "moments_hz": "Hz, muon-time- and ring-averaged m_1..m_12",
                  "beam_at_trackers": "mm (vertices: count)",
                  "omega_p_tilde_err_hz": "Hz, rows VI B-F (without the transients, which are B_K's and B_Q's)"},
    }
    return FieldResult(record, phi=phi, field_map_hz=fmap, tracked_times_s=out["tracked_times_s"],
                       tracked_moments_hz=out["tracked_moments_hz"], trolley_times_s=meas.trolley_times_s,
                       tracking_offsets_m1_hz=np.array(out["tracking_offsets_m1_hz"]), projections_of_phi=k_phi,
                       trace_t_us=t_us,
                       traces={"kicker": np.asarray(traces["kicker"]), "esq": np.asarray(traces["esq"])},
                       trace_fits={"kicker": kick, "esq": esq})


def run_field(cfg: dict, dataset: str, field_path, trackers_path, out_json,
              log_path=None) -> tuple[dict, FieldResult]:
    """Rule ``field_analysis``: analyse one dataset and write omega_p.json (and a one-line summary
    with the elapsed time to ``log_path``). Returns the record and the full result
    (``figures.field.field_summary`` draws it)."""
    import time

    from ..config import field_settings

    start = time.perf_counter()
    ds = cfg["datasets"][dataset]
    model = cfg["detector_model"]  # the analysis's trackers, never the world's
    result = analyse_dataset(field_settings(cfg, dataset), float(ds["field_index"]),
                             float(model["tracker_resolution_mm"]), field_path, trackers_path,
                             float(model["tracker_vertical_falloff"]))
    record = {"dataset": dataset, **result.record}
    write_json(out_json, record)
    if log_path:
        Path(log_path).write_text(f"{dataset}: omega~'_p = {record['omega_p_tilde_hz']:.3f} +- "
                                  f"{record['omega_p_tilde_err_hz']['total']:.3f} Hz, "
                                  f"{time.perf_counter() - start:.1f} s\n")
    return record, result
