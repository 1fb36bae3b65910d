"""File-level steps of the omega_a branch (called by the workflow's thin adapters)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..blinding import software_offset_ppm
from ..io import H5Views, read_h5, read_json, write_json
from .analysis_fit import fit_analysis, result_record
from .groups import analysis_spec, load_groups
from .wiggle import build_wiggle

GROUPS_SCHEMA = Path(__file__).resolve().parents[3] / "workflow" / "schemas" / "groups.schema.yaml"


def run_analysis(cfg: dict, dataset: str, analysis: str, calorimeters_path, lost_muons_path, groups_path,
                 out_json, log_path=None, schema_path=GROUPS_SCHEMA) -> dict:
    """Histogram, correct and fit one analysis; write its JSON record.

    A fit that does not converge raises FitError and nothing is written.
    """
    start = time.perf_counter()
    spec, calo, loss = _analysis_inputs(dataset, analysis, calorimeters_path, lost_muons_path, groups_path,
                                        schema_path)
    return _fit_one(cfg, spec, calo, loss, out_json, log_path, start)[0]


def _analysis_inputs(dataset, analysis, calorimeters_path, lost_muons_path, groups_path, schema_path):
    spec, calo = _spec_and_views(dataset, analysis, calorimeters_path, groups_path, schema_path)
    loss, _ = read_h5(lost_muons_path, kind="lost_muons")
    return spec, calo, loss


def _fit_one(cfg, spec, calo, loss, out_json, log_path, start):
    wiggle = build_wiggle(calo, spec)
    field_index = float(cfg["datasets"][spec.dataset]["field_index"])
    fits = fit_analysis(wiggle, spec, field_index, loss["time_edges"], loss["triple_coincidences"])
    record = result_record(spec, wiggle, fits)
    record["elapsed_s"] = round(time.perf_counter() - start, 2)
    write_json(out_json, record)
    if log_path:
        Path(log_path).write_text(
            f"{spec.dataset} {spec.name}: R = {record['R_ppm']:.4f} +- {record['R_err_ppm']:.4f} ppm (blinded), "
            f"chi2/ndf = {record['chi2']:.1f}/{record['ndf']}, p = {record['p_value']:.3g}, "
            f"{record['elapsed_s']} s\n")
    return record, wiggle, fits


def run_analysis_and_systematics(cfg: dict, dataset: str, analysis: str, calorimeters_path, lost_muons_path,
                                 groups_path, out_json, out_syst, log_fit=None, log_syst=None,
                                 schema_path=GROUPS_SCHEMA) -> tuple[dict, dict, dict]:
    """``run_analysis`` then ``run_systematics`` on inputs read once, the systematic variations
    sharing the nominal histogram and its randomization (what rule omega_a_fit runs). Returns the
    record, the systematic table and the staged fits (``figures.omega_a.omega_a_fit`` draws them). A failure
    (ValueError, RuntimeError: a fit that does not converge, bad input) is written as one line
    to the log of the step that failed, then raised."""
    step, log = "", log_fit
    try:
        start = time.perf_counter()
        spec, calo, loss = _analysis_inputs(dataset, analysis, calorimeters_path, lost_muons_path, groups_path,
                                            schema_path)
        record, wiggle, fits = _fit_one(cfg, spec, calo, loss, out_json, log_fit, start)
        step, log = " systematics", log_syst
        table = _systematics_of(cfg, spec, calo, loss, fit_result_from_record(record), out_syst, log_syst,
                                time.perf_counter(), wiggle)
    except (ValueError, RuntimeError) as exc:
        if log:
            Path(log).write_text(f"{dataset} {analysis}{step}: {type(exc).__name__}: {exc}\n")
        raise
    return record, table, fits


def relative_unblind(dataset: str, result_paths, groups_path, out_json, schema_path=GROUPS_SCHEMA) -> dict:
    """Remove each group's software blind Delta R (for comparison only; the hardware blind stays)."""
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
    write_json(out_json, table)
    return table


def fit_result_from_record(rec: dict):
    """The full fit of an analysis record as a FitResult (the base of its scans)."""
    from . import wiggle_model
    from .minimizer import FitResult

    values = {n: rec["parameters"][n]["value"] for n in wiggle_model.PARAMS}
    errors = {n: rec["parameters"][n]["error"] for n in wiggle_model.PARAMS}
    return FitResult(values, errors, list(rec["free_parameters"]), np.asarray(rec["covariance"]), rec["chi2"],
                     rec["ndf"], rec["nfev"], rec["envelope"])


def analysis_hist(dataset: str, analysis: str, calorimeters_path, groups_path, schema_path=GROUPS_SCHEMA):
    """The histogram an analysis fits, rebuilt exactly as rule omega_a_dataset_fits built it (its
    randomization seed, pileup subtraction, gain correction and energy weights), as a
    ``hist.Hist`` with Weight storage (the optional dependency hist): an axis ``t`` on the blinded
    clock, 149.2 ns bins, each holding the weighted sum and its variance. A ratio or smoothed
    analysis's bins are correlated (Wiggle.cov_band): the variance is the covariance's diagonal."""
    from ..records.binning import edges_from_centres
    from ..records.hists import axis_from_edges, histogram

    spec, calo = _spec_and_views(dataset, analysis, calorimeters_path, groups_path, schema_path)
    w = build_wiggle(calo, spec)
    axis = axis_from_edges(edges_from_centres(w.t, w.bin_us), "t", "time (blinded clock) [us]")
    return histogram([axis], w.y, w.var)


def _spec_and_views(dataset, analysis, calorimeters_path, groups_path, schema_path):
    spec = analysis_spec(load_groups(groups_path, schema_path), analysis, dataset)
    return spec, H5Views(calorimeters_path, kind="calorimeters")  # an analysis reads a few of its views


def run_scans(dataset: str, analysis: str, calorimeters_path, lost_muons_path, groups_path, result_path, out_json,
              schema_path=GROUPS_SCHEMA) -> dict:
    """Start-time, per-calorimeter and energy scans of one event-based analysis (Figs. 10, 11).

    The histogram is rebuilt exactly as the analysis built it (same randomization seed); the
    per-calorimeter histograms are the recorded 149.2 ns per-calorimeter views with the analysis's
    energy weights (not randomized, no pileup or gain correction: those are calorimeter sums).
    """
    from ..records import binning
    from . import minimizer, wiggle_model
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
    env = wiggle_model.ENVELOPES[spec.envelope]
    t = wiggle.t
    f_base = wiggle_model.wiggle(t, base.vector(), spec.delta_r_ppm, env, le, lc)
    var = minimizer.pearson_variance(wiggle.y, wiggle.var, f_base)
    window = spec.window_us
    starts = window[0] + np.arange(0.0, 64.0, 8.0)  # 8 start times over the first ~60 us (Fig. 10 range)
    scan_t = start_time_scan(t, wiggle.y, var, base, spec.delta_r_ppm, spec.envelope, le, lc, starts, window[1])
    w = np.asarray(wiggle.weights)
    per_calo = np.asarray(calo[f"{spec.recon}/calo"], dtype=float)
    y_calo = np.einsum("e,cet->ct", w, per_calo)
    v_calo = np.einsum("e,cet->ct", w**2, per_calo)
    scan_c = per_calorimeter_scan(y_calo, v_calo, t, window, base, spec.delta_r_ppm, spec.envelope, le, lc)
    counts_e, var_e, _ = _event_counts(calo, spec)
    scan_e = energy_scan(counts_e, var_e, t, window, binning.ENERGY_EDGES_GEV, base, spec.delta_r_ppm, spec.envelope,
                         le,
                         lc)
    record = {"analysis": analysis, "dataset": dataset, "start_time": _jsonable(scan_t),
              "per_calorimeter": _jsonable(scan_c), "energy": _jsonable(scan_e)}
    write_json(out_json, record)
    return record


def _event_counts(calo, spec):
    from .wiggle import event_histogram_et

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


def run_systematics(cfg: dict, dataset: str, analysis: str, calorimeters_path, lost_muons_path, groups_path,
                    result_path, out_json, log_path=None, schema_path=GROUPS_SCHEMA) -> dict:
    """The systematic table of one analysis (Table V categories), refitting its nominal fit."""
    start = time.perf_counter()
    spec, calo, loss = _analysis_inputs(dataset, analysis, calorimeters_path, lost_muons_path, groups_path,
                                        schema_path)
    return _systematics_of(cfg, spec, calo, loss, fit_result_from_record(read_json(result_path)), out_json,
                           log_path, start)


def _systematics_of(cfg, spec, calo, loss, nominal, out_json, log_path, start, nominal_wiggle=None):
    from .systematics import category_totals, systematic_table

    table = systematic_table(calo, loss, spec, float(cfg["datasets"][spec.dataset]["field_index"]),
                             cfg["omega_a_systematics"], nominal=nominal, nominal_wiggle=nominal_wiggle)
    table["blinding"] = "shifts only: independent of both blinds"
    table["elapsed_s"] = round(time.perf_counter() - start, 2)
    write_json(out_json, table)
    if log_path:
        cats = ", ".join(f"{k} {v:.2f}" for k, v in category_totals(table).items())
        Path(log_path).write_text(f"{spec.dataset} {spec.name}: systematics (ppb) {cats}; total "
                                  f"{table['total_ppb']:.2f}; {table['refits']} refits, {table['elapsed_s']} s\n")
    return table


def combine_correlations(trial_paths, out_h5, out_txt, cfg_hash: str = "") -> dict:
    """The analysis-to-analysis correlation matrix from all trials (Table XXVII analogue): HDF5
    (matrix, bootstrap errors, the trials' R values) and the table in text. Returns the matrix
    with its ``analyses`` and the file's ``attrs``."""
    from ..io import write_h5
    from .correlations import method_ordered, trial_correlation

    jobs = [read_json(p) for p in trial_paths]
    names = method_ordered(jobs[0]["analyses"])
    rows = [t for job in jobs for t in job["trials"].values()]
    r = np.array([[t[n].get("R_ppm", np.nan) for n in names] for t in rows])
    corr = trial_correlation(r)
    method = jobs[0].get("method", "trials")
    attrs = {"dataset": jobs[0]["dataset"], "method": method, "positrons_per_trial": jobs[0]["positrons_per_trial"],
             "trials_used": corr["trials_used"], "trials_dropped": corr["trials_dropped"], "analyses": names,
             "note": "statistical correlations of blinded R between analyses " + (
                 "by the delete-one jackknife over the chunks of one study production" if method == "jackknife"
                 else "over independent productions")}
    write_h5(out_h5, {"rho": (corr["rho"], "1"), "rho_err": (corr["rho_err"], "1"),
                      "rho_err_fisher": (corr["rho_err_fisher"], "1"), "R_trials": (r, "ppm (blinded)")},
             attrs, kind="omega_a_correlations", cfg_hash=cfg_hash)
    Path(out_txt).write_text(correlation_table_text(corr, names, attrs))
    return {**corr, "analyses": names, "attrs": attrs}


def sample_name(attrs: dict) -> str:
    """What the correlation study's samples are, for tables and plots (its file's ``attrs``)."""
    return "delete-one samples" if attrs.get("method") == "jackknife" else "trials"


def correlation_table_text(corr: dict, names, attrs: dict) -> str:
    """The upper triangle of the correlation matrix as text, each entry 'rho(err)'."""
    samples = sample_name(attrs)
    lines = [f"# omega_a analysis-to-analysis correlations ({attrs['dataset']} conditions, "
             f"{corr['trials_used']} {samples} of {attrs['positrons_per_trial']:.3g} e+, "
             f"{corr['trials_dropped']} dropped); bootstrap error in units of the last digit",
             "         " + " ".join(f"{n:>10}" for n in names[1:])]
    for i, n in enumerate(names[:-1]):
        cells = []
        for j in range(1, len(names)):
            if j <= i:
                cells.append(" " * 10)
            else:
                cells.append(f"{corr['rho'][i, j]:.3f}({min(999, round(1000 * corr['rho_err'][i, j])):d})".rjust(10))
        lines.append(f"{n:>8} " + " ".join(cells))
    return "\n".join(lines) + "\n"


def read_correlations(path) -> tuple[list, np.ndarray]:
    """(analysis names, correlation matrix) of an omega_a_correlations file."""
    import json

    data, attrs = read_h5(path, kind="omega_a_correlations", names=["rho"])
    names = attrs["analyses"]
    return (json.loads(names) if isinstance(names, str) else list(names)), np.asarray(data["rho"])


def dataset_average(cfg: dict, dataset: str, result_paths, syst_paths, correlations_path, groups_path, out_json,
                    schema_path=GROUPS_SCHEMA) -> dict:
    """omega_a^m of one dataset (Sec. IV K): the equal-weight average of the configured analyses
    with statistical and each systematic category fully correlated, the BLUE average beside it
    with the estimated statistical correlations, and the pulls of all analysis pairs. Software
    blinds removed (relative unblinding), hardware blind kept."""
    from ..records.uncertainty import CATEGORIES
    from . import average
    from .wiggle_model import omega_from_r

    groups = load_groups(groups_path, schema_path)["groups"]
    recs = {r["analysis"]: r for r in map(read_json, result_paths)}
    systs = {s["analysis"]: s for s in map(read_json, syst_paths)}
    corr_names, rho_all = read_correlations(correlations_path)
    names = [n for n in corr_names if n in recs]
    missing = sorted(set(recs) - set(names))
    if missing:
        raise ValueError(f"{correlations_path}: no correlations for {', '.join(missing)}")
    idx = [corr_names.index(n) for n in names]
    rho = rho_all[np.ix_(idx, idx)]
    y = np.array([recs[n]["R_ppm"] - software_offset_ppm(groups[recs[n]["group"]]["phrase"]) for n in names])
    stat = np.array([recs[n]["R_err_ppm"] for n in names])
    syst = {c: np.array([1e-3 * systs[n]["categories"][c]["ppb"] for n in names]) for c in CATEGORIES}
    limited = {c: np.array([1e-3 * systs[n]["categories"][c].get("statistics_limited_ppb", 0.0) for n in names])
               for c in CATEGORIES}
    chosen = list(cfg["omega_a_average"]["analyses"])
    unknown = [n for n in chosen if n not in names]
    if unknown:
        raise ValueError(f"omega_a_average.analyses: unknown analysis {', '.join(unknown)} (have {', '.join(names)})")
    k = [names.index(n) for n in chosen]
    eq = average.equal_weight_average(y[k], stat[k], {c: v[k] for c, v in syst.items()})
    cov = average.covariance_from(stat, rho, syst, syst_correlation=1.0)
    blue_value, blue_sigma, blue_w = average.blue_average(y[k], cov[np.ix_(k, k)])
    pulls = average.pairwise_pulls(y, cov)
    i, j = np.triu_indices(len(names), k=1)

    def omega(r_ppm):
        return float(omega_from_r(r_ppm, 0.0))

    record = {
        "dataset": dataset, "blinding": "hardware blind only (software offsets removed)",
        "analyses_averaged": chosen,
        "equal_weight": {"R_ppm": eq.value, "stat_ppm": eq.stat, "syst_ppm": {c: v for c, v in eq.syst.items()},
                         "syst_total_ppm": eq.syst_total, "total_ppm": eq.total,
                         # each category's part set by calibration statistics (shrinks as 1/sqrt(N))
                         "syst_statistics_limited_ppm": {c: float(eq.weights @ limited[c][k]) for c in CATEGORIES},
                         "omega_a_m_rad_per_us": omega(eq.value),
                         "omega_a_m_err_rad_per_us": abs(omega(eq.value + eq.total) - omega(eq.value)),
                         "weights": dict(zip(chosen, eq.weights.tolist(), strict=True)),
                         "correlation_assumed": "statistical and each systematic category fully correlated"},
        "blue": {"R_ppm": blue_value, "total_ppm": blue_sigma, "omega_a_m_rad_per_us": omega(blue_value),
                 "weights": dict(zip(chosen, blue_w.tolist(), strict=True)),
                 "correlation_assumed": "statistical: the trials' matrix; systematic categories fully correlated",
                 "delta_vs_equal_weight_ppm": blue_value - eq.value,
                 "sigma_ratio_vs_equal_weight": blue_sigma / eq.total},
        "pulls": {"n_pairs": int(pulls.size), "mean": float(pulls.mean()), "std": float(pulls.std(ddof=1)),
                  "max_abs": float(np.max(np.abs(pulls))),
                  "std_if_perfect": average.reference_summary(average.pull_std_reference([cov])),
                  "pairs": {f"{names[a]}/{names[b]}": float(p) for a, b, p in zip(i, j, pulls, strict=True)}},
        "analyses": {n: {"R_relative_ppm": float(y[m]), "stat_ppm": float(stat[m]),
                         "syst_ppm": {c: float(syst[c][m]) for c in CATEGORIES}} for m, n in enumerate(names)},
        "correlations_from": str(correlations_path),
        "analysis_order": names,
        "covariance_ppm2": cov.tolist(),
    }
    write_json(out_json, record)
    return record


def combined_pulls(average_paths, out_json) -> tuple[dict, dict]:
    """The pulls of all analysis pairs of all datasets together (Fig. 9 analogue): their number,
    mean and standard deviation, per dataset and overall. Returns the record and the pulls by
    dataset (arrays, for ``figures.omega_a.omega_a_pulls``)."""
    from .average import pull_std_reference, reference_summary

    per, covs = {}, []
    for path in average_paths:
        avg = read_json(path)
        per[avg["dataset"]] = np.array(list(avg["pulls"]["pairs"].values()))
        covs.append(avg["covariance_ppm2"])
    allp = np.concatenate(list(per.values()))
    reference = reference_summary(pull_std_reference(covs))
    record = {"n_pairs": int(allp.size), "mean": float(allp.mean()), "std": float(allp.std(ddof=1)),
              "std_if_perfect": reference,
              "note": "std_if_perfect: the pull spread of pseudo-experiments scattering exactly as the covariances "
                      "say (pairs sharing an analysis are correlated, so it lies below 1)",
              "datasets": {d: {"n_pairs": int(p.size), "mean": float(p.mean()), "std": float(p.std(ddof=1))}
                           for d, p in per.items()}}
    write_json(out_json, record)
    return record, per
