"""One dataset's beam-dynamics corrections from its recorded files (rule beam_dynamics).

Reads the calorimeters' fast-rotation signal and the trackers' vertices, runs C_e
(``efield.efield_analysis``), C_p (``pitch.pitch_analysis``), then the three phase drifts: C_dd
from the chi^2 method's joint momentum-time distribution (``differential_decay``), C_ml from the
trackers' radial drift and the effective phase-momentum slope (``muon_loss``), C_pa from the
trackers' M^T(x, y, t) and the detector model's maps (``phase_acceptance``); writes
corrections.json and the summary figure.
"""

from __future__ import annotations

import numpy as np

from ..constants import OMEGA_REF
from ..io import read_h5, write_json
from ..records.trackers import vertices_in_time
from ..units import quadrature
from . import differential_decay, muon_loss
from .corrections import BeamDynamicsResult, Correction, EfieldCorrection, MuonLossCorrection
from .efield import efield_analysis, unconstrained_error, unconstrained_population, with_tracker_method
from .phase_acceptance import betatron_averaged, phase_acceptance_analysis
from .pitch import pitch_analysis
from .spectrometric import tracker_efield

# the drift corrections are fractions of omega_a: the blinded reference frequency is within
# 50 ppm of it, far inside their errors
OMEGA_A = OMEGA_REF


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


def efield_corrections(cfg: dict, dataset: str, fast_rotation, trackers) -> EfieldCorrection:
    """C_e of one dataset (ppb) by the fast-rotation methods and the trackers' method, combined."""
    bd = cfg["beam_dynamics"]
    n = float(cfg["datasets"][dataset]["field_index"])
    det = cfg["detector_model"]  # the analysis's detector, never the world's
    signal, bin_us = fast_rotation
    ce = efield_analysis(signal, bin_us, n, bd["efield"])
    vertices, x_edges, y_edges, t_edges = trackers
    # the trackers' method (Eq. 17-19): the bunch length from the fast-rotation profile
    a_ns, b_ns, edge_ns = ce.record["methods"]["chi2"]["bunch_ns"]
    tr = tracker_efield(vertices, x_edges, t_edges, n, det["tracker_resolution_mm"],
                        differential_decay.t_method_radial_slope(det["acceptance_radial"],
                                                                 det["acceptance_radial_energy"]),
                        (b_ns - a_ns) * 1e-3, (det["drift_angle_min_rad"], det["drift_angle_max_rad"]),
                        bd["efield"]["tracker"], edge_us=edge_ns * 1e-3)
    return with_tracker_method(ce, tr)


def analyse_beam_dynamics(cfg: dict, dataset: str, fast_rotation, trackers,
                          efield: EfieldCorrection | None = None) -> BeamDynamicsResult:
    """All corrections of one dataset (ppb) from in-memory records; ``efield``: C_e already
    analysed (``efield_corrections``) with the same config and records, if at hand."""
    bd = cfg["beam_dynamics"]
    n = float(cfg["datasets"][dataset]["field_index"])
    det = cfg["detector_model"]  # the analysis's detector, never the world's
    ce = efield_corrections(cfg, dataset, fast_rotation, trackers) if efield is None else efield
    vertices, x_edges, y_edges, t_edges = trackers
    p = bd["pitch"]
    acceptance = {"radial": det["acceptance_radial"], "vertical_quadratic": det["acceptance_vertical_quadratic"]}
    cp = pitch_analysis(vertices, x_edges, y_edges, t_edges, tuple(p["window_us"]), n, det["tracker_resolution_mm"],
                        det["tracker_vertical_falloff"], acceptance, p["variations"], n_boot=int(p["replicas"]))
    drifts = phase_drift_corrections(bd["phase_drifts"], n, det, ce, trackers, det["tracker_vertical_falloff"])
    return BeamDynamicsResult(C_e=ce, C_p=cp, **drifts)


def phase_drift_corrections(settings: dict, field_index: float, det: dict, ce: EfieldCorrection, trackers,
                            vertical_falloff: float, seed: int = 0) -> dict:
    """C_dd, C_ml and C_pa (ppb) with statistical, systematic and external parts:
    {"C_dd": Correction, "C_ml": MuonLossCorrection, "C_pa": PhaseAcceptanceCorrection}."""
    win = tuple(settings["window_us"])
    # mrad per % -> rad per unit delta; the measurement is the paper's phase (Eq. 7, cos(omega t - phi0),
    # so Eq. 28 gives C_dd^bl = +sigma^2 dphi0/ddelta / (omega gamma tau)), the library's the spin
    # phase added to omega t (differential_decay, muon_loss): minus
    dphi = -settings["dphi0_ddelta_mrad_per_percent"] * 0.1
    dphi_err = settings["dphi0_ddelta_err_mrad_per_percent"] * 0.1
    model = settings["momentum_time_model"]
    # the momentum spread's relative uncertainty: C_e's (stat + syst), the same distribution
    rel_var = float(np.hypot(ce.record["stat_ppb"], ce.record["syst_ppb"]) / ce.value_ppb)
    ppb = 1e9

    # --- C_dd (Eq. 28, 33, 34) from the chi^2 method's joint distribution, its w solved without
    # the sign constraint (unbiased moments: the non-negative w widens the momentum spread on noisy
    # data) and the statistical error of both terms through the fit's covariance
    fit = ce.chi2_fit

    def population_of(distribution, rho):
        return differential_decay.joint_population({**distribution, "rho": rho}, field_index)

    def population(rho):
        return population_of(fit, rho)

    def terms(pop):  # (beamline, p-t0) step by step, with the detector model's radial acceptance
        acc = differential_decay.radial_acceptance(pop["x_e"], det["acceptance_radial"],
                                                   det["acceptance_radial_energy"])
        return differential_decay.differential_decay_terms(pop, dphi, OMEGA_A, win, acc)

    pop = population(unconstrained_population(fit))
    dd = terms(pop)
    # the chi^2 method's own bias, from its closure on a signal made from its fit (efield.ModelClosure):
    # each term scaled by input / estimate there (on the exact injection law, noise-free, the
    # estimator puts cov(delta, tau) ~11 % high: coarse cells, one-number tilt, coarse jitter);
    # half the shift is kept as a systematic, as for the Fourier method's correlation correction
    closure = ce.model_closure
    if closure is None:
        scale = {"beamline": 1.0, "p_t0": 1.0}
    else:
        est = terms(population_of(closure.fit, unconstrained_population(closure.fit)))
        inp = terms(population_of(closure.population, closure.population["rho"]))
        scale = {k: inp[k] / est[k] if est[k] != 0.0 else 1.0 for k in ("beamline", "p_t0")}
    bl, pt0 = dd["beamline"] * scale["beamline"] * ppb, dd["p_t0"] * scale["p_t0"] * ppb

    def first_order(rho):  # both terms to first order (Eq. 28, 33), as corrected: their statistical error
        eq28, eq33 = differential_decay.first_order_terms(differential_decay.momentum_moments(population(rho)), dphi,
                                                          OMEGA_A)
        return (scale["beamline"] * eq28 + scale["p_t0"] * eq33) * ppb

    dd_syst = {"dphi0/ddelta measurement": abs(bl) * dphi_err / abs(dphi),
               "momentum-time model": abs(pt0) * model,
               "chi^2 method closure on its own model (half the correction)":
                   0.5 * abs(bl + pt0 - (dd["beamline"] + dd["p_t0"]) * ppb)}
    dd_ext = {"p-x (Eq. 32)": settings["p_x_err_ppb"], "Michel N, A momentum dependence": settings["michel_ppb"]}
    c_dd = {"C_dd_ppb": bl + pt0 + settings["p_x_ppb"], "stat_ppb": unconstrained_error(fit, first_order),
            "syst_ppb": quadrature(dd_syst.values()), "external_ppb": dd_ext, "systematics_ppb": dd_syst,
            "parts_ppb": {"beamline": bl, "p_t0": pt0, "p_x": settings["p_x_ppb"]},
            "external_value_ppb": settings["p_x_ppb"],
            "first_order_ppb": {"beamline (Eq. 28)": dd["eq28_beamline"] * ppb, "p_t0 (Eq. 33)": dd["eq33_p_t0"] * ppb},
            "sigma_delta": float(np.sqrt(dd["var_delta"])), "dtau_ddelta_us": dd["dtau_ddelta_us"],
            "model_closure_scale": scale}

    # --- C_ml (Eq. 23): the trackers' radial drift beyond differential decay
    vertices, x_edges, y_edges, t_edges = trackers
    t, h = vertices_in_time(vertices, t_edges, win)
    tb, hb, f_cbo = betatron_averaged(t, h, x_edges)
    drift = muon_loss.radial_drift(tb, hb, x_edges)
    keff = muon_loss.effective_phase_slope(dphi, dd["dtau_ddelta_us"], OMEGA_A)
    ml = muon_loss.muon_loss_correction(drift, pop, keff, field_index, OMEGA_A)
    rng = np.random.default_rng(seed)
    reps = []
    for _ in range(int(settings["replicas"])):
        hr = betatron_averaged(t, rng.poisson(h).astype(float), x_edges, f_cbo)[1]
        drift_r = muon_loss.radial_drift(tb, hr, x_edges, drift["lines_mhz"])
        reps.append(muon_loss.muon_loss_correction(drift_r, pop, keff, field_index, OMEGA_A)["C_ml"] * ppb)
    c = ml["C_ml"] * ppb
    keff_err = float(np.hypot(dphi_err, OMEGA_A * dd["dtau_ddelta_us"] * model))
    ml_syst = {"(dphi/ddelta)_eff": abs(c) * keff_err / abs(keff),
               "differential-decay part of the drift": abs(c * ml["drift_dd_mm_per_us"] / ml["drift_ml_mm_per_us"])
               * rel_var}
    c_ml = {"C_ml_ppb": c, "stat_ppb": float(np.std(reps, ddof=1)), "syst_ppb": quadrature(ml_syst.values()),
            "external_ppb": {}, "systematics_ppb": ml_syst, "dphi_ddelta_eff_mrad_per_percent": keff * 10.0,
            **{k: v for k, v in ml.items() if k.startswith(("drift", "ddelta"))}, "cbo_mhz": f_cbo}

    # --- C_pa (Eq. 35-37) from M^T(x, y, t) and the detector model's maps
    maps_det = {k: det[k] for k in ("acceptance_radial", "acceptance_radial_energy", "acceptance_vertical",
                                    "acceptance_vertical_quadratic", "phase_radial_mrad",
                                    "phase_vertical_quadratic_mrad")}
    pa = phase_acceptance_analysis(t, h, x_edges, y_edges, maps_det, vertical_falloff, OMEGA_A,
                                   settings["variations"], int(settings["replicas"]), seed + 1,
                                   averaged=(tb, hb, f_cbo))
    return {"C_dd": Correction("C_dd", c_dd), "C_ml": MuonLossCorrection("C_ml", c_ml, drift=drift), "C_pa": pa}


def corrections_summary(dataset: str, res: BeamDynamicsResult) -> dict:
    """The corrections.json content: each correction with its statistical and systematic parts,
    evaluated vs external marked (``external``: the external inputs' uncertainty;
    ``external_value``: the part of ``value`` that is an external input, e.g. C_dd's p-x term),
    then each correction's full record."""
    ce, cp = res.C_e.record, res.C_p.record

    def entry(r, key, dvalue_deps=0.0):
        ext = r.get("external_ppb", {})
        return {"value": r[key], "stat": r["stat_ppb"], "syst": r["syst_ppb"], "external": quadrature(ext.values()),
                "external_value": r.get("external_value_ppb", 0.0),
                "dvalue_deps": dvalue_deps, "kind": "evaluated", "correlated_syst": True}

    return {
        "dataset": dataset,
        "units": "ppb; C_e at eps_hw = 0 (blinded clock): C_e(true) = C_e + eps_hw * dCe_deps_ppb",
        "corrections": {
            "C_e": entry(ce, "C_e_ppb", ce["dCe_deps_ppb"]),
            "C_p": entry(cp, "C_p_ppb"),
            "C_ml": entry(res.C_ml.record, "C_ml_ppb"),
            "C_dd": entry(res.C_dd.record, "C_dd_ppb"),
            "C_pa": entry(res.C_pa.record, "C_pa_ppb"),
        },
        **{name: c.record for name, c in res.corrections().items()},
    }


def run_beam_dynamics(cfg: dict, dataset: str, calorimeters_path, trackers_path,
                      out_json) -> tuple[dict, BeamDynamicsResult]:
    """Rule beam_dynamics_analysis: read, analyse, write corrections.json. Returns the summary and
    the full result (``figures.beam_dynamics.beam_dynamics_summary`` draws it)."""
    res = analyse_beam_dynamics(cfg, dataset, read_fast_rotation(calorimeters_path), read_trackers(trackers_path))
    summary = corrections_summary(dataset, res)
    write_json(out_json, summary)
    return summary, res
