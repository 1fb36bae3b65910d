# Config validation (before any job), dataset lists and path helpers.
import os
import sys
from pathlib import Path

from g2chain.config import ConfigError, read_yaml, select, validate_config
from g2chain.provenance import script_code_hash

try:
    for configfile_path in workflow.configfiles:  # Snakemake keeps the last of a key given twice: refuse it
        read_yaml(os.path.relpath(configfile_path))
    validate_config(config, Path(workflow.basedir) / "schemas" / "config.schema.yaml")
except ConfigError as err:
    sys.stderr.write(f"{err}\n")
    sys.exit(1)

DATASETS = sorted(config["datasets"])

from g2chain.experiment.run_field_systems import MEASUREMENT_KEYS, WORLD_KEYS
from g2chain.omega_a.groups import analysis_names, analysis_spec, load_groups
from g2chain.studies.correlation_trials import correlation_jobs, study_method

try:
    GROUPS = load_groups("config/groups.yaml", Path(workflow.basedir) / "schemas" / "groups.schema.yaml", DATASETS)
    ANALYSES = analysis_names(GROUPS)
    SCANNED = [a for a in ANALYSES if a.split("-")[1] in ("T", "A")]  # the event-based analyses' scans
    unknown = [a for a in config["omega_a_average"]["analyses"] if a not in ANALYSES]
    if unknown:
        raise ConfigError(f"config error: omega_a_average.analyses: unknown analysis {', '.join(unknown)} "
                          f"(the groups run {', '.join(ANALYSES)})")
except ConfigError as err:
    sys.stderr.write(f"{err}\n")
    sys.exit(1)


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
    return (
        expand("results/{dataset}/analysis/omega_a/{analysis}.json", dataset=DATASETS, analysis=ANALYSES)
        + expand("results/{dataset}/analysis/omega_a/{analysis}.scans.json", dataset=DATASETS, analysis=SCANNED)
        + expand("results/{dataset}/analysis/omega_a/comparison.png", dataset=DATASETS)
    )


def code(script):
    """Hash of the library code a rule's script runs (the modules it imports and all they need):
    a change of the library reruns the rules that run the changed code and nothing else."""
    return script_code_hash(Path(workflow.basedir) / "scripts" / script)


# What each step reads of the config (DESIGN §3: params hold exactly what the step uses). A rule
# declares ``params: config=lambda w: step_config(w, ...)`` and its script hands that part, not
# the whole config, to the library: a step that reads a key outside it fails at once, and a change
# inside it reruns the step.
DATASET_BLOCKS = ("beam", "detector", "production")  # common blocks a dataset may override


def step_config(wildcards, *paths):
    """The config at ``paths`` ("{dataset}" filled from the wildcards), with the dataset's own
    entry always present (possibly empty) so that its overrides can be looked up."""
    ds = getattr(wildcards, "dataset", None)
    part = select(config, *(p.format(dataset=ds) for p in paths))
    if ds is not None:
        part.setdefault("datasets", {}).setdefault(ds, {})
    return part


def dataset_blocks(dataset="{dataset}", detector=()):
    """The paths of the common beam, detector and production blocks and the dataset's overrides;
    with ``detector``, only those keys of the detector block."""
    if detector:
        return [p for k in detector for p in (f"detector.{k}", f"datasets.{dataset}.detector.{k}")]
    return [p for b in DATASET_BLOCKS for p in (b, f"datasets.{dataset}.{b}")]



def dataset_scalars(dataset="{dataset}"):
    """The dataset's own physics scalars (field index, kicker, momentum; not its statistics)."""
    return [f"datasets.{dataset}.{k}" for k in ("field_index", "kicker_kV", "momentum_offset_percent",
                                               "momentum_rms_percent", "label")]


def field_keys(keys, dataset="{dataset}"):
    return [p for k in keys for p in (f"field.{k}", f"datasets.{dataset}.field.{k}")]


# the field world: the magnet and its transients (a measurement or analysis key must not rebuild
# the world or rerun the production)
FIELD_WORLD_CONFIG = ("seed", *field_keys(WORLD_KEYS))
# the sealed world and the production: truth, blinds, beam, detector, statistics, and the field
# world's keys (the muons sample its field and transients; the field world file carries the map)
WORLD_CONFIG = ("seed", "truth", "blinding", "datasets.{dataset}", *dataset_blocks(), *field_keys(WORLD_KEYS))
# the correlation study builds worlds of its own from the physics of the trials' dataset
_CORR = config["omega_a_correlations"]["dataset"]
CORRELATION_STUDY_CONFIG = ("seed", "truth", "omega_a_correlations", *field_keys(WORLD_KEYS, _CORR),
                            f"datasets.{_CORR}", *dataset_blocks(_CORR))
# the field analysis reads its own keys only: never the world's (the transients' true extent
# is sealed; the analysis has its transient_model) nor the instrument's truths
FIELD_ANALYSIS_KEYS = ("transient_model", "fit_start_us", "footprint_half_width_s", "max_gap_s", "ramp_model",
                       "trolley_temperature", "configuration_model", "external_ppb")
# the measurement runs on the world's access plan (a world key), so it reads both parts
# (and the dataset's kick, which sets the kicker's eddy field its magnetometer traces)
MEASURE_FIELD_CONFIG = ("seed", "datasets.{dataset}.kicker_kV", *field_keys(WORLD_KEYS + MEASUREMENT_KEYS))


def combination_inputs(wildcards=None):
    """Each dataset's omega_a^m average, beam-dynamics corrections and omega~'_p: what R'_mu is made of."""
    return {
        "averages": expand("results/{dataset}/analysis/omega_a/average.json", dataset=DATASETS),
        "corrections": expand("results/{dataset}/analysis/beam_dynamics/corrections.json", dataset=DATASETS),
        "omega_p": expand("results/{dataset}/analysis/field/omega_p.json", dataset=DATASETS),
    }


# omega_a rules' inputs and outputs (workflow/rules/omega_a.smk)
def fit_outputs(analyses):
    """The named outputs of a fit rule for ``analyses`` ("{analysis}" for the one-analysis rule)."""
    names = {"result": "results/{{dataset}}/analysis/omega_a/{analysis}.json",
             "plot": "results/{{dataset}}/analysis/omega_a/{analysis}.png",
             "systematics": "results/{{dataset}}/analysis/omega_a/{analysis}.syst.json"}
    out = {k: expand(v, analysis=analyses) for k, v in names.items()}
    out["plot"] = report(out["plot"], caption="../report/omega_a_fit.rst", category="omega_a",
                         subcategory="{dataset}")
    return out


def fit_logs(analyses):
    return {"fit": expand("logs/{{dataset}}/omega_a/{analysis}.log", analysis=analyses),
            "systematics": expand("logs/{{dataset}}/omega_a/{analysis}.syst.log", analysis=analyses)}


def scan_outputs(analyses):
    """The named outputs of a scans rule for ``analyses`` ("{analysis}" for the one-analysis rule)."""
    plots = expand("results/{{dataset}}/analysis/omega_a/{analysis}.scans.png", analysis=analyses)
    return {"scans": expand("results/{{dataset}}/analysis/omega_a/{analysis}.scans.json", analysis=analyses),
            "plot": report(plots, caption="../report/omega_a_scans.rst", category="omega_a",
                           subcategory="{dataset}")}


# the correlation study's inputs: the jackknife's study chunks and their total (none for "trials")
def correlation_study_inputs(wildcards):
    if study_method(config["omega_a_correlations"]) != "jackknife":
        return {}
    return {"total": "results/combined/omega_a_correlation_study/total.npz",
            "chunks": f"results/combined/omega_a_correlation_study/chunks_{wildcards.job}.npz"}
