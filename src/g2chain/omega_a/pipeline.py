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
