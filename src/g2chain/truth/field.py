"""Sealed truth of the field: omega~'_p the stored muons see (Eq. 40 with the true beam and the true
muon schedule) and the transient corrections B_K, B_Q of the world's kicker and ESQ transients."""

from __future__ import annotations

import numpy as np

from ..config import field_settings
from ..experiment.beam import stored_beam
from ..experiment.field_world import FieldWorld, muon_weighted_map, true_omega_p
from ..experiment.run_field_systems import dataset_field_world
from ..experiment.world import build_conditions
from ..field.transients import precession_shift
from ..io import config_hash
from ..physics.multipoles import N_MAX, multipole_basis
from ..physics.ring import radial_cod
from ..physics.transients import esq_vibration, exponential_transient
from ..seeds import dataset_key

# spawn key of the stored-beam sample (DESIGN §4), beside the field world's 1_000_001..3
_TRUTH_STREAM = 1_000_004


def true_projections(cfg: dict, dataset: str, world: FieldWorld) -> np.ndarray:
    """k_i(phi) of the stored beam at every azimuth of the world's map, (A, 12): the transverse
    distribution of the production's injection (``beam.stored_beam``) shifted by the closed-orbit
    distortion of the world's true dipole map (Eq. 54)."""
    cond = build_conditions(cfg, dataset, {"omega_a_true": 0.0, "phi0": 0.0, "eps_hw": 0.0})
    rng = np.random.default_rng(np.random.SeedSequence(int(cfg["seed"]), spawn_key=(dataset_key(dataset),
                                                                                      _TRUTH_STREAM)))
    x, y = stored_beam(cond, int(field_settings(cfg, dataset)["truth_muons"]), rng)
    x_cod = radial_cod(world.static[:, 0], world.phi, float(cfg["datasets"][dataset]["field_index"]))
    # <f_i(x + s, y)> is a polynomial of degree <= 6 in the shift s: exact from 13 shifts
    lo, hi = float(x_cod.min()), float(x_cod.max())
    half = max(0.5 * (hi - lo), 1e-3)
    nodes = 0.5 * (hi + lo) + half * np.cos(np.pi * (np.arange(13) + 0.5) / 13)
    k_nodes = np.stack([multipole_basis(x + s, y, N_MAX).mean(axis=1) for s in nodes])  # (13, 12)
    coef = np.polynomial.chebyshev.chebfit((nodes - 0.5 * (hi + lo)) / half, k_nodes, 12)
    return np.polynomial.chebyshev.chebval((x_cod - 0.5 * (hi + lo)) / half, coef).T


def transient_truth(settings: dict) -> dict:
    """B_K and B_Q (fractional) of the world's transients: the five-parameter-fit shift of the
    true local transient times the system's azimuthal coverage (Sec. VI G). The shift is the
    field analysis's own ``precession_shift``: a truth the analysis shares, until issue 21 lets the
    production's muons integrate the transients into their phase."""
    kick, esq = settings["kicker"], settings["esq"]
    b_k = float(kick["coverage"]) * precession_shift(
        lambda t: exponential_transient(t, 1e-9 * float(kick["amplitude_ppb"]), float(kick["tau_us"])))
    b_q = float(esq["coverage"]) * precession_shift(lambda t: esq_vibration(
        t, 1e-9 * float(esq["amplitude_ppb"]), float(esq["tau_us"]), 1e-6 * float(esq["frequency_hz"]),
        float(esq["phase_rad"])))
    return {"B_K": b_k, "B_Q": b_q}


def field_truth(cfg: dict, dataset: str, world: FieldWorld | None = None) -> dict:
    """The sealed field truth of a dataset: omega~'_p (Hz, Eq. 40 with the true beam and the true
    muon schedule), B_K, B_Q, and the ring-averaged true k_i."""
    world = dataset_field_world(cfg, dataset) if world is None else world
    k_phi = true_projections(cfg, dataset, world)
    m = muon_weighted_map(world)
    omega_p = true_omega_p(world, k_phi, m)
    return {"omega_p_tilde_hz": omega_p, **transient_truth(field_settings(cfg, dataset)),
            "projections": k_phi.mean(axis=0), "projections_of_phi": k_phi, "moments_hz": m.mean(axis=0)}


_FIELD_TRUTH: dict = {}


def dataset_field_truth(cfg: dict, dataset: str) -> dict:
    """omega~'_p (Hz), B_K and B_Q of the dataset's sealed field world (computed once per config
    and dataset in a process: the correlation trials build many worlds of one dataset)."""
    key = (config_hash(cfg), dataset)
    if key not in _FIELD_TRUTH:
        t = field_truth(cfg, dataset)
        _FIELD_TRUTH[key] = {k: t[k] for k in ("omega_p_tilde_hz", "B_K", "B_Q")}
    return _FIELD_TRUTH[key]
