"""File-level steps of the experiment branch: world, chunk, merge. Workflow scripts call these."""

from __future__ import annotations

import json
import time

import numpy as np

from ..io import config_hash, read_h5, write_h5
from ..progress import Progress
from ..records import binning, experiment_files
from ..seeds import dataset_key
from .field_world import FieldWorld
from .muon_field import MuonField, muon_field
from .production import simulate_chunk
from .run_field_systems import dataset_field_world, read_field_world, world_field_settings
from .world import WORLD_UNITS, build_conditions, build_world, dataset_settings

_MUON_FIELD_UNITS = {"t_s": "s", "coef": "1 (B / f_ref - 1 per monomial)", "schedule": "1", "x_cod_mm": "mm",
                     "transient_phase": "rad"}


def dataset_muon_field(cfg: dict, dataset: str, world: dict, field_world: FieldWorld) -> MuonField:
    """The dataset's field world as its muons sample it (``muon_field.muon_field``)."""
    t_max = binning.N_T * binning.T_BIN_US * 1.001  # the longest recorded time on the true clock
    return muon_field(field_world, world_field_settings(cfg, dataset), float(cfg["datasets"][dataset]["field_index"]),
                      world["f_ref_hz"], world["omega_a_ref"], t_max)


def write_world(cfg: dict, dataset: str, path, field_world_path):
    """Sealed world of a dataset: the truth scalars, the kernel conditions and the field world
    as the muons sample it (``muon_field/``)."""
    world = build_world(cfg, dataset)
    cond = build_conditions(cfg, dataset, world)
    field = dataset_muon_field(cfg, dataset, world, read_field_world(field_world_path))
    data = {k: (np.float64(v), WORLD_UNITS[k]) for k, v in world.items()}
    for name, value in cond._asdict().items():
        data[f"conditions/{name}"] = (np.float64(value), "kernel units (us, mm, GeV, rad/us)")
    for name, unit in _MUON_FIELD_UNITS.items():
        data[f"muon_field/{name}"] = (getattr(field, name), unit)
    write_h5(path, data, {"dataset": dataset}, kind="world", cfg_hash=config_hash(cfg))


def read_world(path) -> dict:
    """Truth scalars of a world file."""
    data, _ = read_h5(path, kind="world")
    return {k: float(v) for k, v in data.items() if "/" not in k}


def read_muon_field(path) -> MuonField:
    """The ``muon_field/`` arrays of a world file."""
    data, _ = read_h5(path, kind="world")
    return MuonField(**{k: np.asarray(data[f"muon_field/{k}"]) for k in _MUON_FIELD_UNITS},
                     f_ref_hz=float(data["f_ref_hz"]))


def chunk_positrons(cfg: dict, dataset: str, chunk: int) -> float:
    """This chunk's share of the dataset's positrons (E > 1 GeV)."""
    ds = cfg["datasets"][dataset]
    n_chunks = int(ds["chunks"])
    base = float(ds["positrons"]) / n_chunks
    return max(1.0, round(base))


def write_chunk(cfg: dict, dataset: str, chunk: int, world_path, path, log=None):
    """Simulate one chunk and write it (sealed: it holds truth accumulators)."""
    stored = read_world(world_path)
    # a_mu, the constants and the blind are checked against the config
    world = build_world(cfg, dataset)
    for key in ("omega_a_ref", "eps_hw"):
        if not np.isclose(stored[key], world[key], rtol=0, atol=0):
            raise RuntimeError(f"{world_path}: world does not match the config (rerun the 'world' rule)")
    cond = build_conditions(cfg, dataset, world)
    n_chunks = int(cfg["datasets"][dataset]["chunks"])
    target = chunk_positrons(cfg, dataset, chunk)
    progress = Progress(log, f"{dataset} chunk {chunk}/{n_chunks}", target, "e+", fresh=True)
    start = time.perf_counter()
    views = simulate_chunk(cond, read_muon_field(world_path), target, int(cfg["seed"]), dataset_key(dataset), chunk,
                           n_chunks,
                           dataset_settings(cfg, dataset)["detector"], progress=progress)
    elapsed = time.perf_counter() - start
    experiment_files.write_chunk(path, views, {"dataset": dataset, "chunk": chunk, "n_chunks": n_chunks},
                        config_hash(cfg))
    if log:
        counters = dict(zip(experiment_files.COUNTER_NAMES, views["counters"].tolist(), strict=True))
        rate = counters["hits_above_1gev"] / elapsed
        with open(log, "a") as f:
            f.write(f"{dataset} chunk {chunk}/{n_chunks}: {counters['hits_above_1gev']:.0f} e+ > 1 GeV in "
                    f"{counters['fills']:.0f} fills, {elapsed:.1f} s ({rate:.3g} e+/s)\n")
            f.write(json.dumps(counters, indent=1) + "\n")


def merge_dataset(cfg: dict, dataset: str, chunk_paths, out: dict) -> dict:
    """Merge chunks into the experiment files and the sealed production truth histograms.

    ``out`` maps 'calorimeters', 'trackers', 'lost_muons', 'truth' to paths. Returns the merged
    views (``truth.production.truth_summary`` makes the truth's JSON summary of them).
    """
    total, longterm = experiment_files.read_chunks(chunk_paths)
    h = config_hash(cfg)
    attrs = {"dataset": dataset, "clock": "blinded"}
    write_h5(out["calorimeters"], experiment_files.experiment_datasets(
        total, longterm, dataset_settings(cfg, dataset)["detector"]["pedestal_noise_gev"]), attrs, "calorimeters", h)
    write_h5(out["trackers"], experiment_files.tracker_datasets(total), attrs, "trackers", h)
    write_h5(out["lost_muons"], experiment_files.loss_datasets(total), attrs, "lost_muons", h)
    write_h5(out["truth"], experiment_files.truth_datasets(total), {"dataset": dataset}, "production_truth", h)
    return total


_MUON_FIELDS: dict = {}


def cached_muon_field(cfg: dict, dataset: str, world: dict) -> MuonField:
    """``dataset_muon_field`` of the config's own field world, built once per config and dataset
    in a process (the correlation trials produce many times in one world)."""
    key = (config_hash(cfg), dataset)
    if key not in _MUON_FIELDS:
        _MUON_FIELDS[key] = dataset_muon_field(cfg, dataset, world, dataset_field_world(cfg, dataset))
    return _MUON_FIELDS[key]


def produce_in_memory(cfg: dict, dataset: str, positrons: float, seed: int):
    """One single-chunk production under ``dataset``'s conditions and field world, kept in memory
    (simulate-and-analyse studies, tests): (calorimeter views, lost-muon views, world scalars,
    truth accumulators), the first two exactly as the experiment files hold them."""
    world = build_world(cfg, dataset)
    cond = build_conditions(cfg, dataset, world)
    det = dataset_settings(cfg, dataset)["detector"]
    views = simulate_chunk(cond, cached_muon_field(cfg, dataset, world), positrons, seed, dataset_key(dataset), 0, 1,
                           det)
    views = {k: (v.astype(np.int64) if v.dtype == np.int32 else v) for k, v in views.items()}
    calo = {k: v[0] for k, v in experiment_files.experiment_datasets(views, [views["laser_longterm"]],
                                                             det["pedestal_noise_gev"]).items()}
    loss = {k: v[0] for k, v in experiment_files.loss_datasets(views).items()}
    return calo, loss, world, views["truth"]
