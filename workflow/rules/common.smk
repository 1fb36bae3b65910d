# Config validation (before any job), dataset lists and path helpers.
import sys
from pathlib import Path

from g2chain.config import ConfigError, validate_config

try:
    validate_config(config, Path(workflow.basedir) / "schemas" / "config.schema.yaml")
except ConfigError as err:
    sys.stderr.write(f"{err}\n")
    sys.exit(1)

DATASETS = sorted(config["datasets"])

from g2chain.experiment.field_pipeline import measurement_settings, world_settings
from g2chain.experiment.world import dataset_settings
from g2chain.omega_a.groups import analysis_names, analysis_spec, load_groups
from g2chain.studies.correlation_trials import correlation_jobs

try:
    GROUPS = load_groups("config/groups.yaml", Path(workflow.basedir) / "schemas" / "groups.schema.yaml")
except ConfigError as err:
    sys.stderr.write(f"{err}\n")
    sys.exit(1)
ANALYSES = analysis_names(GROUPS)


wildcard_constraints:
    dataset="|".join(DATASETS),
    chunk=r"\d+",
    job=r"\d+",
    analysis=r"[A-Za-z0-9]+-[A-Za-z0-9]+",


def groups_of(wildcards):
    """config/groups.yaml for an omega_a rule, after checking that the requested analysis exists:
    an unknown group or method stops the run with a one-line error naming it."""
    if wildcards.analysis not in ANALYSES:
        try:
            analysis_spec(GROUPS, wildcards.analysis, wildcards.dataset)
        except ConfigError as err:
            raise ValueError(str(err)) from None
    return "config/groups.yaml"


def chunk_files(wildcards):
    n = int(config["datasets"][wildcards.dataset]["chunks"])
    return [f"results/{wildcards.dataset}/sealed/chunks/chunk_{i}.h5" for i in range(n)]


def experiment_outputs():
    names = ["calorimeters.h5", "trackers.h5", "lost_muons.h5", "field.h5"]
    return [f"results/{d}/experiment/{n}" for d in DATASETS for n in names]


def omega_a_outputs():
    """Every analysis's result, the scans of the event-based T and A analyses, the comparisons."""
    scanned = [a for a in ANALYSES if a.split("-")[1] in ("T", "A")]
    return (
        expand("results/{dataset}/analysis/omega_a/{analysis}.json", dataset=DATASETS, analysis=ANALYSES)
        + expand("results/{dataset}/analysis/omega_a/{analysis}.scans.json", dataset=DATASETS, analysis=scanned)
        + expand("results/{dataset}/analysis/omega_a/comparison.png", dataset=DATASETS)
    )


def _dataset_keys(dataset):
    """The dataset's own scalar settings (field index, kicker, momentum, statistics)."""
    ds = config["datasets"][dataset]
    return {k: v for k, v in ds.items() if not isinstance(v, dict)}


def field_world_params(dataset):
    """What a dataset's sealed field world depends on: the seed, its world settings and the beam
    (the true k_i). Measurement and analysis keys are left out on purpose: changing them must not
    rebuild the world, whose truth feeds the production."""
    beam = {k: v for k, v in _dataset_keys(dataset).items() if k not in ("label", "positrons", "chunks")}
    return {"seed": config["seed"], "field": world_settings(config, dataset),
            "beam": dataset_settings(config, dataset)["beam"], **beam}


def world_params(dataset):
    """What the sealed world and the production depend on beyond the field world (the chunks
    follow the world by modification time, so a new statistics or detector setting reruns them)."""
    return {"seed": config["seed"], "truth": config["truth"], "blinding": config["blinding"],
            **dataset_settings(config, dataset), **_dataset_keys(dataset)}


def measure_field_params(dataset):
    """The measurement part of the field settings, and the seed of their noise."""
    return {"seed": config["seed"], **measurement_settings(config, dataset)}


def analysis_field_params(dataset):
    """The analysis part of a dataset's field settings and the detector facts it uses."""
    from g2chain.experiment.field_pipeline import MEASUREMENT_KEYS, WORLD_KEYS, field_settings

    s = field_settings(config, dataset)
    own = {k: v for k, v in s.items() if k not in WORLD_KEYS and k not in MEASUREMENT_KEYS}
    return {**own, "coverage": {"kicker": s["kicker"]["coverage"], "esq": s["esq"]["coverage"]},
            "field_index": config["datasets"][dataset]["field_index"],
            "tracker_resolution_mm": dataset_settings(config, dataset)["detector"]["tracker_resolution_mm"]}


def beam_dynamics_params(dataset):
    """The beam-dynamics analysis settings and the detector facts they use (rerun on change)."""
    det = dataset_settings(config, dataset)["detector"]
    return {**config["beam_dynamics"], "field_index": config["datasets"][dataset]["field_index"],
            "detector": {k: det[k] for k in ("tracker_resolution_mm", "acceptance_radial", "acceptance_radial_energy",
                                             "acceptance_vertical", "acceptance_vertical_quadratic",
                                             "phase_radial_mrad", "phase_vertical_quadratic_mrad", "drift_angle_min_rad",
                                             "drift_angle_max_rad")}}


def combination_inputs(wildcards=None):
    """Each dataset's omega_a^m average, beam-dynamics corrections and omega~'_p: what R'_mu is made of."""
    return {
        "averages": expand("results/{dataset}/analysis/omega_a/average.json", dataset=DATASETS),
        "corrections": expand("results/{dataset}/analysis/beam_dynamics/corrections.json", dataset=DATASETS),
        "omega_p": expand("results/{dataset}/analysis/field/omega_p.json", dataset=DATASETS),
    }
