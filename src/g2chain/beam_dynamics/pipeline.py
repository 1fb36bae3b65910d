"""One dataset's beam-dynamics corrections from its recorded files (rule beam_dynamics).

Reads the calorimeters' fast-rotation signal and the trackers' vertices, runs C_e
(``efield.efield_analysis``) and C_p (``pitch.pitch_analysis``), and writes corrections.json and
the summary figure. C_ml, C_dd and C_pa are not evaluated yet (issue 6): the file says so under
``not_evaluated`` rather than carrying a number.
"""

from __future__ import annotations

import numpy as np

from ..config import dataset_settings
from ..io import read_h5, write_json
from .efield import efield_analysis
from .pitch import pitch_analysis


def read_fast_rotation(path):
    """(signal counts, bin width in us) from calorimeters.h5."""
    d, _ = read_h5(path, kind="calorimeters", names=["fast_rotation/signal", "binning/fast_rotation_time_edges"])
    edges = d["binning/fast_rotation_time_edges"]
    return d["fast_rotation/signal"], float(edges[1] - edges[0])


def read_trackers(path):
    """(vertices [station, t, x, y], x_edges, y_edges, time_edges) from trackers.h5."""
    names = ["vertices", "x_edges", "y_edges", "time_edges"]
    d, _ = read_h5(path, kind="trackers", names=names)
    return tuple(d[n] for n in names)


def analyse_beam_dynamics(cfg: dict, dataset: str, fast_rotation, trackers) -> dict:
    """All corrections of one dataset (ppb) from in-memory records."""
    bd = cfg["beam_dynamics"]
    n = float(cfg["datasets"][dataset]["field_index"])
    det = dataset_settings(cfg, dataset)["detector"]
    signal, bin_us = fast_rotation
    ce = efield_analysis(signal, bin_us, n, bd["efield"])
    vertices, x_edges, y_edges, t_edges = trackers
    p = bd["pitch"]
    acceptance = {"radial": det["acceptance_radial"], "vertical_quadratic": det["acceptance_vertical_quadratic"]}
    cp = pitch_analysis(vertices, x_edges, y_edges, t_edges, tuple(p["window_us"]), n, det["tracker_resolution_mm"],
                        p["tracker_vertical_falloff"], acceptance, p["variations"], n_boot=int(p["replicas"]))
    return {"C_e": ce, "C_p": cp}


def corrections_summary(dataset: str, res: dict) -> dict:
    """The corrections.json content: each correction with its statistical and systematic parts,
    evaluated vs external marked; private arrays (keys starting with '_') dropped."""
    ce, cp = res["C_e"], res["C_p"]
    public = {k: v for k, v in ce.items() if not k.startswith("_")}
    ext_ce = float(np.sqrt(sum(v**2 for v in ce["external_ppb"].values())))
    return {
        "dataset": dataset,
        "units": "ppb; C_e at eps_hw = 0 (blinded clock): C_e(true) = C_e + eps_hw * dCe_deps_ppb",
        "corrections": {
            "C_e": {"value": ce["C_e_ppb"], "stat": ce["stat_ppb"], "syst": ce["syst_ppb"], "external": ext_ce,
                    "dvalue_deps": ce["dCe_deps_ppb"], "kind": "evaluated", "correlated_syst": True},
            "C_p": {"value": cp["C_p_ppb"], "stat": cp["stat_ppb"], "syst": cp["syst_ppb"], "external": 0.0,
                    "dvalue_deps": 0.0, "kind": "evaluated", "correlated_syst": True},
        },
        "not_evaluated": ["C_ml", "C_dd", "C_pa"],
        "C_e": public,
        "C_p": {k: v for k, v in cp.items() if not k.startswith("_")},
    }


def run_beam_dynamics(cfg: dict, dataset: str, calorimeters_path, trackers_path, out_json, out_png=None) -> dict:
    """Rule adapter: read, analyse, write corrections.json (and the figure)."""
    res = analyse_beam_dynamics(cfg, dataset, read_fast_rotation(calorimeters_path), read_trackers(trackers_path))
    summary = corrections_summary(dataset, res)
    write_json(out_json, summary)
    if out_png is not None:
        from ..plots import beam_dynamics_summary

        beam_dynamics_summary(res, cfg["datasets"][dataset].get("label", dataset), out_png)
    return summary
