"""Worlds drawn from what the analysis believes: the coverage study's sealed deviations.

The ci and default worlds deviate from the analysis's models by fixed sealed amounts (the
detector's maps, the trackers' response, the transients' azimuthal extent, the beamline's
phase-momentum slope). Over seeds those deviations never change, so a stage whose error is
mostly systematic shows a pull spread far below 1 whether its systematic is honest or not. A
coverage study asks instead: if the world were any one the analysis's stated uncertainties
allow, would its errors cover? Each seed's world then draws every such quantity from the
analysis's own prior: a normal around the model's value with the model's stated uncertainty
(the relative variations its systematics use), truncated to the physical range.

``drawn_world(cfg, seed)`` returns a config overlay for the world blocks only (``detector``,
``field.kicker``, ``field.esq``, ``beam``); the analysis's blocks are untouched, so it still
believes the same model whatever the draw.
"""

from __future__ import annotations

import numpy as np

# the world's detector keys drawn around detector_model's values: (key, the relative variation the
# analysis's systematic uses: beam_dynamics.<analysis>.variations.<name>, lower, upper bound)
DETECTOR_DRAWS = (
    ("phase_radial_mrad", ("phase_drifts", "phase_maps"), None, None),
    ("phase_vertical_quadratic_mrad", ("phase_drifts", "phase_maps"), None, None),
    ("acceptance_radial", ("pitch", "radial"), 0.05, 0.9),
    ("acceptance_radial_energy", ("phase_drifts", "acceptance_maps"), 0.0, None),
    ("acceptance_vertical_quadratic", ("pitch", "vertical_quadratic"), 0.0, 0.9),
    ("tracker_vertical_falloff", ("pitch", "tracker_efficiency"), 0.0, 0.95),
    ("tracker_resolution_mm", ("pitch", "resolution"), 0.2, None),
)
TRANSIENT_LOWER = 0.005  # a transient's coverage stays positive


def _normal(rng, mean: float, sigma: float, lower=None, upper=None) -> float:
    """One draw of N(mean, sigma) truncated to [lower, upper] (redrawn until inside)."""
    for _ in range(1000):
        v = float(rng.normal(mean, sigma))
        if (lower is None or v >= lower) and (upper is None or v <= upper):
            return v
    raise ValueError(f"no draw of N({mean}, {sigma}) inside [{lower}, {upper}]")


def drawn_world(cfg: dict, seed: int) -> dict:
    """Config overlay of the world's sealed deviations for ``seed``, each drawn from the
    analysis's model and its stated uncertainty (module docstring)."""
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(3_000_017,)))
    model, bd = cfg["detector_model"], cfg["beam_dynamics"]
    detector = {}
    for key, (analysis, name), lower, upper in DETECTOR_DRAWS:
        mean = float(model[key])
        detector[key] = _normal(rng, mean, abs(mean) * float(bd[analysis]["variations"][name]), lower, upper)
    field = {}
    for name, t in cfg["field"]["transient_model"].items():
        field[name] = {"coverage": _normal(rng, float(t["coverage"]), float(t["coverage_err"]), TRANSIENT_LOWER)}
    pd = bd["phase_drifts"]
    beam = {"dphi0_ddelta_mrad_per_percent": _normal(rng, float(pd["dphi0_ddelta_mrad_per_percent"]),
                                                     float(pd["dphi0_ddelta_err_mrad_per_percent"]))}
    return {"detector": detector, "field": field, "beam": beam}
