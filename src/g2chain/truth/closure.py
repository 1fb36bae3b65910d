"""Closure: a_mu and every stage of the chain against the sealed truth, as pulls
(value - truth) / sigma. Reads the sealed files; only rule closure calls it.

Stages per dataset: the omega_a^m average (truth: the equal-weight mean of the averaged
analyses' true omega_a^m, each for its own energy weights and window), each beam-dynamics
correction (C_e, C_p: the production's detected-positron averages; C_dd, C_ml, C_pa: the
expectation-level beam truth), omega~'_p, B_K, B_Q (what the T-method's detected muons
experienced, ``truth.production``) and R'_mu; then R'_mu and a_mu combined. The
sigma of each stage is its evaluated uncertainty: the toy makes none of the effects behind the
external inputs (the field's map row, C_dd's p-x and Michel terms), so a correction is compared
without its external value (C_dd's p-x) and against its stat and syst only. R'_mu's sigma is its
total, and a_mu's is given both ways.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..io import read_h5, read_json, write_json
from ..records.experiment_files import TRUTH_ROWS
from .production import method_weights, true_omega_a_m_weighted

CORRECTION_TRUTH = {"C_e": "mean_ce_ppb", "C_p": "mean_cp_ppb"}


def pull(value: float, truth: float, sigma: float) -> dict:
    """One closure entry: value, truth, sigma and (value - truth) / sigma."""
    return {"value": float(value), "truth": float(truth), "sigma": float(sigma), "pull": float((value - truth) / sigma)}


def correction_pull(entry: dict, truth: float, eps_hw: float) -> dict:
    """The closure entry of one beam-dynamics correction (an entry of corrections.json's
    ``corrections``) against its truth (ppb): on the true clock (C_e's eps_hw slope applied),
    without the external inputs' value and uncertainty (the toy makes none of their effects, as
    it makes none of the field's external rows): sigma is the evaluated stat and syst."""
    value = entry["value"] - entry["external_value"] + eps_hw * entry.get("dvalue_deps", 0.0)
    out = pull(value, truth, float(np.hypot(entry["stat"], entry["syst"])))
    out["units"] = "ppb; value without external inputs; sigma: evaluated (stat, syst)"
    return out


def production_truth(truth_h5) -> np.ndarray:
    """The production's truth histograms [``TRUTH_ROWS``] x energy x time."""
    d, _ = read_h5(truth_h5, kind="production_truth")
    return np.stack([d[f"truth/{k}"] for k in TRUTH_ROWS])


def true_omega_a_m(truth: np.ndarray, omega_a_ref: float, record: dict) -> float:
    """The true omega_a^m an omega_a analysis measures: the production truth (``production_truth``)
    for its energy weights and fit window."""
    weights = record["corrections"].get("energy_weights") or method_weights("Q")
    return true_omega_a_m_weighted(truth, omega_a_ref, weights, record["window_us"])


def dataset_stages(paths: dict, eps_hw: float) -> dict:
    """Pulls of one dataset's stages. ``paths``: average, analyses (dir of omega_a results),
    corrections, omega_p, world, production_truth_h5, production_truth_json, beam_truth."""
    world, _ = read_h5(paths["world"], kind="world")
    avg = read_json(paths["average"])
    eq = avg["equal_weight"]
    folder = paths["analyses"]
    truth = production_truth(paths["production_truth_h5"])
    true = float(np.mean([true_omega_a_m(truth, float(world["omega_a_ref"]), read_json(f"{folder}/{n}.json"))
                          for n in avg["analyses_averaged"]]))
    measured = eq["omega_a_m_rad_per_us"] / (1.0 + eps_hw)
    out = {"omega_a_m": pull((measured / true - 1) * 1e9, 0.0, eq["total_ppm"] * 1e3)}
    out["omega_a_m"]["units"] = "ppb relative to the truth"
    corr = read_json(paths["corrections"])
    pt = read_json(paths["production_truth_json"])["methods"]["T"]
    bt = read_json(paths["beam_truth"])
    for name in ("C_e", "C_p", "C_ml", "C_dd", "C_pa"):
        c = corr["corrections"][name]
        truth = pt[CORRECTION_TRUTH[name]] if name in CORRECTION_TRUTH else bt[f"{name}_ppb"]
        out[name] = correction_pull(c, truth, eps_hw)
    fp = read_json(paths["omega_p"])
    f_true = float(pt["omega_p_tilde_hz"])
    out["omega_p_tilde"] = pull((fp["omega_p_tilde_hz"] / f_true - 1) * 1e9, 0.0,
                                fp["uncertainty_ppb"]["omega_p_evaluated"])
    out["omega_p_tilde"]["units"] = "ppb relative to the truth; sigma: evaluated"
    out["B_K"] = pull(fp["B_K_ppb"], pt["B_K_ppb"], fp["B_K_err_ppb"])
    out["B_Q"] = pull(fp["B_Q_ppb"], pt["B_Q_ppb"], fp["B_Q_err_ppb"])
    return {"stages": out, "R_mu_true": float(world["R_mu_prime"]), "a_mu_true": float(world["a_mu"])}


def closure(a_mu_record: dict, per_dataset: dict) -> dict:
    """The closure record: every stage per dataset, R'_mu per dataset and combined, a_mu."""
    out = {"datasets": {}, "combined": {}}
    for ds, st in per_dataset.items():
        r = a_mu_record["datasets"][ds]
        out["datasets"][ds] = {**st["stages"],
                               "R_mu": pull(r["R_mu"], st["R_mu_true"], r["R_mu"] * r["R_mu_err_ppb"] * 1e-9)}
    first = next(iter(per_dataset.values()))
    c = a_mu_record["combined"]
    out["combined"]["R_mu"] = pull(c["R_mu"], first["R_mu_true"], c["R_mu"] * c["error_ppb"] * 1e-9)
    out["combined"]["a_mu"] = pull(c["a_mu"], first["a_mu_true"], c["a_mu_err"])
    # sigma without the external inputs (config values, the constants) that the toy does not vary
    out["combined"]["a_mu_evaluated"] = pull(c["a_mu"], first["a_mu_true"], c["a_mu"] * c["evaluated_ppb"] * 1e-9)
    pulls = [e["pull"] for d in out["datasets"].values() for e in d.values()]
    out["summary"] = {"n_pulls": len(pulls), "mean": float(np.mean(pulls)), "std": float(np.std(pulls, ddof=1)),
                      "max_abs": float(np.max(np.abs(pulls)))}
    return out


def hardware_blinds(world_paths) -> list[float]:
    """eps_hw of each dataset from its sealed world (the blinded clock runs at 1 + eps_hw)."""
    return [float(read_h5(p, kind="world")[0]["eps_hw"]) for p in world_paths]


def run_closure(datasets, inputs, out_json) -> dict:
    """Rule closure: every stage, R'_mu and a_mu against the sealed truth.
    ``inputs``: the rule's named inputs (lists in the order of ``datasets``)."""

    rec = read_json(inputs.a_mu)
    per = {}
    for i, ds in enumerate(datasets):
        paths = {"average": inputs.averages[i], "analyses": str(Path(inputs.averages[i]).parent),
                 "corrections": inputs.corrections[i], "omega_p": inputs.omega_p[i], "world": inputs.worlds[i],
                 "production_truth_h5": inputs.production_truth[i],
                 "production_truth_json": inputs.production_truth_json[i], "beam_truth": inputs.beam_truth[i]}
        per[ds] = dataset_stages(paths, rec["eps_hw"][ds])
    out = closure(rec, per)
    write_json(out_json, out)
    return out
