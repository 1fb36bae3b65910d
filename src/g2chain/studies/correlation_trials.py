"""The ω_a correlation trials (Sec. IV K, Table XXVII): independent reduced productions, each
analysed by every analysis exactly as the workflow does, on a world of the study's own.

The study's world is not the sealed one: its seed is the run's seed plus
``omega_a_correlations.seed_offset``, its a_μ is drawn within ±25 ppm of the configured one, its
hardware blind comes from a phrase of its own and every group's software blind is re-hashed.
Correlations between analyses do not depend on any of these; what the trials' files hold then
tells nothing about the data's truth or blinds.
"""

from __future__ import annotations

import copy
import time

import numpy as np

from ..experiment.run_production import produce_in_memory
from ..io import write_json
from ..omega_a.analysis_fit import fit_analysis
from ..omega_a.groups import analysis_names, analysis_spec, load_groups
from ..omega_a.run_omega_a import GROUPS_SCHEMA
from ..omega_a.wiggle import build_wiggle
from ..progress import Progress

STUDY_A_MU_RANGE = 25e-6  # fractional: the study's a_mu lies within this of the configured one


def study_world(cfg: dict, groups: dict) -> tuple[dict, dict]:
    """(config, groups) of the study's own world: seed + seed_offset, a randomized a_mu, a hardware
    blind phrase and group phrases of its own."""
    settings = cfg["omega_a_correlations"]
    seed = int(cfg["seed"]) + int(settings["seed_offset"])
    u = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2_000_001,))).uniform(-1.0, 1.0)
    study = copy.deepcopy(cfg)
    study["seed"] = seed
    study["truth"]["a_mu"] = float(cfg["truth"]["a_mu"]) * (1.0 + STUDY_A_MU_RANGE * u)
    study["blinding"] = {"hardware_phrase": f"correlation study {seed}"}  # the data's phrase is not read
    study_groups = copy.deepcopy(groups)
    for name, g in study_groups["groups"].items():
        g["phrase"] = f"correlation study {seed} {name}"
    return study, study_groups


def correlation_trial(cfg: dict, groups: dict, dataset: str, names, positrons: float, seed: int) -> dict:
    """One independent production of ``positrons`` under ``dataset``'s conditions, analysed by
    every analysis in ``names`` exactly as the workflow does (staged fits, blinded R).
    Returns {name: {"R_ppm", "R_err_ppm"} or {"error": message}} (a fit that fails at reduced
    statistics is recorded, not raised)."""
    calo, loss, _, _ = produce_in_memory(cfg, dataset, positrons, seed)
    return analyse_trial(cfg, groups, dataset, names, calo, loss)


def analyse_trial(cfg: dict, groups: dict, dataset: str, names, calo: dict, loss: dict,
                  randomized: dict | None = None, reuse: dict | None = None, fits_out: dict | None = None) -> dict:
    """Every analysis in ``names`` on one production's views (see ``correlation_trial``);
    ``randomized`` {group: counts}: the groups' +-T_c/2 randomized [energy x time] counts to use
    instead of drawing them (the jackknife's, ``correlation_jackknife``). ``reuse`` {analysis:
    FitResult}: start each analysis' fit from it with its parameter set (``fit_analysis``'s
    reuse) instead of staging it; ``fits_out``: a dict that receives each analysis' full fit."""
    field_index = float(cfg["datasets"][dataset]["field_index"])
    out = {}
    for name in names:
        spec = analysis_spec(groups, name, dataset)
        given = {0: randomized[spec.group]} if randomized and spec.group in randomized else None
        try:
            fits = fit_analysis(build_wiggle(calo, spec, randomized=given), spec, field_index, loss["time_edges"],
                                loss["triple_coincidences"], reuse=(reuse or {}).get(name))
            out[name] = {"R_ppm": float(fits.full.values["R"]), "R_err_ppm": float(fits.full.errors["R"])}
            if fits_out is not None:
                fits_out[name] = fits.full
        except (ValueError, RuntimeError) as exc:
            out[name] = {"error": f"{type(exc).__name__}: {exc}"}
    return out


def study_method(settings: dict) -> str:
    """The correlation study's method, ``omega_a_correlations.method``: "jackknife" or "trials"
    (the method of a config written before the jackknife, which has no such key)."""
    return settings.get("method", "trials")


def trial_range(settings: dict, job: int) -> range:
    """The trial indices of correlation job ``job`` (trials_per_job each, the last one shorter)."""
    per, total = int(settings["trials_per_job"]), int(settings["trials"])
    return range(job * per, min((job + 1) * per, total))


def correlation_jobs(settings: dict) -> int:
    """How many correlation jobs the trials are split into."""
    return -(-int(settings["trials"]) // int(settings["trials_per_job"]))


def run_correlation_trials(cfg: dict, job: int, groups_path, out_json, log_path=None,
                           schema_path=GROUPS_SCHEMA) -> dict:
    """Independent reduced productions of one correlation job on the study's world
    (``study_world``), each analysed by all analyses."""
    settings = cfg["omega_a_correlations"]
    cfg, groups = study_world(cfg, load_groups(groups_path, schema_path))
    names = analysis_names(groups)
    start = time.perf_counter()
    trials = {}
    todo = trial_range(settings, job)
    progress = Progress(log_path, f"correlation job {job}", len(todo), "trials", interval_s=0.0, fresh=True)
    for n, k in enumerate(todo):
        seed = int(cfg["seed"]) + k  # the study seed: the run's seed + seed_offset
        trials[str(k)] = correlation_trial(cfg, groups, settings["dataset"], names,
                                           float(settings["positrons_per_trial"]), seed)
        progress.update(n + 1)
    elapsed = time.perf_counter() - start
    out = {"dataset": settings["dataset"], "positrons_per_trial": float(settings["positrons_per_trial"]),
           "analyses": names, "trials": trials, "elapsed_s": round(elapsed, 2)}
    write_json(out_json, out)
    if log_path:
        failed = sum("error" in r for t in trials.values() for r in t.values())
        with open(log_path, "a") as f:
            f.write(f"correlation job {job}: {len(trials)} trials in {elapsed:.1f} s, {failed} failed fits\n")
    return out
