"""File-level steps of the omega_a branch (called by the workflow's thin adapters)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..blinding import software_offset_ppm
from ..io import read_h5, read_json, write_json
from .analysis import build_wiggle, fit_analysis, result_record
from .groups import analysis_spec, load_groups

GROUPS_SCHEMA = Path(__file__).resolve().parents[3] / "workflow" / "schemas" / "groups.schema.yaml"


def run_analysis(cfg: dict, dataset: str, analysis: str, calorimeters_path, lost_muons_path, groups_path,
                 out_json, out_png, log_path=None, schema_path=GROUPS_SCHEMA) -> dict:
    """Histogram, correct and fit one analysis; write its JSON record and its plot.

    A fit that does not converge raises FitError and nothing is written.
    """
    from ..plots import omega_a_fit

    start = time.perf_counter()
    groups = load_groups(groups_path, schema_path)
    spec = analysis_spec(groups, analysis, dataset)
    calo, _ = read_h5(calorimeters_path, kind="calorimeters")
    loss, _ = read_h5(lost_muons_path, kind="lost_muons")
    wiggle = build_wiggle(calo, spec)
    field_index = float(cfg["datasets"][dataset]["field_index"])
    fits = fit_analysis(wiggle, spec, field_index, loss["time_edges"], loss["triple_coincidences"])
    record = result_record(spec, wiggle, fits)
    record["elapsed_s"] = round(time.perf_counter() - start, 2)
    omega_a_fit(fits, record, field_index, out_png)
    write_json(out_json, record)
    if log_path:
        Path(log_path).write_text(
            f"{dataset} {analysis}: R = {record['R_ppm']:.4f} +- {record['R_err_ppm']:.4f} ppm (blinded), "
            f"chi2/ndf = {record['chi2']:.1f}/{record['ndf']}, p = {record['p_value']:.3g}, "
            f"{record['elapsed_s']} s\n")
    return record


def relative_unblind(dataset: str, result_paths, groups_path, out_json, out_png, schema_path=GROUPS_SCHEMA) -> dict:
    """Remove each group's software blind Delta R (for comparison only; the hardware blind stays)."""
    from ..plots import omega_a_comparison

    groups = load_groups(groups_path, schema_path)["groups"]
    rows = []
    for path in result_paths:
        rec = read_json(path)
        delta = software_offset_ppm(groups[rec["group"]]["phrase"])
        rows.append({"analysis": rec["analysis"], "R_relative_ppm": rec["R_ppm"] - delta, "R_err_ppm": rec["R_err_ppm"],
                     "p_value": rec["p_value"], "chi2_ndf": rec["chi2_ndf"]})
    vals = np.array([r["R_relative_ppm"] for r in rows])
    table = {"dataset": dataset, "blinding": "hardware blind only (software offsets removed)",
             "analyses": rows, "spread_ppm": float(vals.std(ddof=1)) if vals.size > 1 else 0.0}
    omega_a_comparison(rows, out_png, f"{dataset}: relative unblinding of the omega_a analyses")
    write_json(out_json, table)
    return table


def fit_result_from_record(rec: dict):
    """The full fit of an analysis record as a FitResult (the base of its scans)."""
    from . import model as M
    from .fit import FitResult

    values = {n: rec["parameters"][n]["value"] for n in M.PARAMS}
    errors = {n: rec["parameters"][n]["error"] for n in M.PARAMS}
    return FitResult(values, errors, list(rec["free_parameters"]), np.asarray(rec["covariance"]), rec["chi2"],
                     rec["ndf"], rec["nfev"], rec["envelope"])


def run_scans(dataset: str, analysis: str, calorimeters_path, lost_muons_path, groups_path, result_path, out_json,
              out_png, schema_path=GROUPS_SCHEMA) -> dict:
    """Start-time, per-calorimeter and energy scans of one event-based analysis (Figs. 10, 11).

    The histogram is rebuilt exactly as the analysis built it (same randomization seed); the
    per-calorimeter histograms are the recorded 149.2 ns per-calorimeter views with the analysis's
    energy weights (not randomized, no pileup or gain correction: those are calorimeter sums).
    """
    from ..experiment import binning as B
    from ..plots import omega_a_scans
    from . import fit as F
    from . import model as M
    from .scans import energy_scan, per_calorimeter_scan, start_time_scan

    groups = load_groups(groups_path, schema_path)
    spec = analysis_spec(groups, analysis, dataset)
    if spec.is_ratio or spec.base_method == "Q":
        raise ValueError(f"{analysis}: scans are defined for the event-based T and A analyses")
    rec = read_json(result_path)
    base = fit_result_from_record(rec)
    calo, _ = read_h5(calorimeters_path, kind="calorimeters")
    loss, _ = read_h5(lost_muons_path, kind="lost_muons")
    wiggle = build_wiggle(calo, spec)
    le, lc = np.asarray(loss["time_edges"], float), np.asarray(loss["triple_coincidences"], float)
    env = M.ENVELOPES[spec.envelope]
    t = wiggle.t
    f_base = M.wiggle(t, base.vector(), spec.delta_r_ppm, env, le, lc)
    var = F.pearson_variance(wiggle.y, wiggle.var, f_base)
    window = spec.window_us
    starts = window[0] + np.arange(0.0, 64.0, 8.0)  # 8 start times over the first ~60 us (Fig. 10 range)
    scan_t = start_time_scan(t, wiggle.y, var, base, spec.delta_r_ppm, spec.envelope, le, lc, starts, window[1])
    w = np.asarray(wiggle.weights)
    per_calo = np.asarray(calo[f"{spec.recon}/calo"], dtype=float)
    y_calo = np.einsum("e,cet->ct", w, per_calo)
    v_calo = np.einsum("e,cet->ct", w**2, per_calo)
    scan_c = per_calorimeter_scan(y_calo, v_calo, t, window, base, spec.delta_r_ppm, spec.envelope, le, lc)
    counts_e, var_e, _ = _event_counts(calo, spec)
    scan_e = energy_scan(counts_e, var_e, t, window, B.ENERGY_EDGES_GEV, base, spec.delta_r_ppm, spec.envelope, le,
                         lc)
    record = {"analysis": analysis, "dataset": dataset, "start_time": _jsonable(scan_t),
              "per_calorimeter": _jsonable(scan_c), "energy": _jsonable(scan_e)}
    omega_a_scans(record, out_png)
    write_json(out_json, record)
    return record


def _event_counts(calo, spec):
    from .analysis import event_histogram_et

    return event_histogram_et(calo, spec)


def _jsonable(d: dict) -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, np.ndarray):
            out[k] = np.where(np.isfinite(v), v, np.nan).tolist() if v.dtype.kind == "f" else v.tolist()
        elif isinstance(v, np.generic):
            out[k] = v.item()
        else:
            out[k] = v
    return out
