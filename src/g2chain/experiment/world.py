"""The sealed world of one dataset: a_mu, the hardware blind, and the beam and detector
conditions the production runs under (DESIGN §2).

a_mu is the one sealed constant: R'_mu = a_mu / K (Eq. 56), and a muon in a field whose proton
frequency is f precesses at R'_mu 2 pi f. The kernel counts every spin phase from
omega_ref = R'_mu 2 pi f_ref (f_ref: the dataset's nominal dipole ``field.m1_hz``); each muon's
own frequency follows from the field it samples (``muon_field``) and its E-field and pitch terms.
omega_a^m, omega~'_p, B_K and B_Q are never set: their truths are what the detected muons
experienced (``truth.production``).
"""

from __future__ import annotations

import math
from collections import namedtuple

from .. import blinding
from ..config import dataset_settings, field_settings
from ..constants import (
    APERTURE_MM,
    E_MAX_GEV,
    GAMMA_MAGIC,
    MAGIC_RADIUS_MM,
    OMEGA_C_MAGIC,
    TAU_MU_US,
    k_constants,
)
from .beam import coherent_offset

# Every float the production kernel needs, in kernel units (us, mm, GeV, rad/us).
Conditions = namedtuple(
    "Conditions",
    [
        "n", "r0", "omega_c0", "delta_mean", "delta_rms", "rho_dt", "bunch_width", "bunch_edge",
        "sigma_x", "x_coh", "sigma_inj", "sigma_y", "vw_mismatch", "y_coh", "chrom_x", "chrom_y",
        "detune_x", "detune_y", "aperture", "scrape_mm", "t_scrape", "loss_rate", "loss_width",
        "loss_mom", "triple_eff", "omega_a", "phi0", "dphi0_ddelta", "gamma_magic", "tau_mu",
        "e_max", "acc_scale", "acc_low", "kappa_n", "kappa_a", "eta_y", "zeta_y", "phase_x",
        "phase_yy", "drift_min", "drift_max", "eres", "gain_if_amp", "gain_if_tau",
        "gain_st_amp", "gain_st_tau", "tau_res", "global_sep", "shadow_gap", "q_threshold",
        "tracker_res", "tracker_eff", "tracker_falloff", "tracker_ymin", "tracker_ymax", "eps_hw",
        "muons_per_fill", "intensity_rms", "count_e_min", "count_e_max", "count_t_min", "esq_relax",
        "esq_relax_tau", "tune_hwhm_x", "tune_coherent_x",
    ],
)


def count_window(window: dict | None) -> dict:
    """The kernel's counting window from ``production.count_window`` ({energy_gev: [lo, hi],
    t_min_us}); None: every hit above 1 GeV at any time."""
    if window is None:
        return {"count_e_min": 1.0, "count_e_max": math.inf, "count_t_min": -math.inf}
    lo, hi = (float(e) for e in window["energy_gev"])
    return {"count_e_min": lo, "count_e_max": hi, "count_t_min": float(window["t_min_us"])}


def build_world(cfg: dict, dataset: str) -> dict:
    """Sealed scalars of one dataset (units in ``WORLD_UNITS``): a_mu, K, R'_mu, the reference
    field f_ref and omega_ref = R'_mu 2 pi f_ref, the hardware blind, the spin phase at injection."""
    a_mu = float(cfg["truth"]["a_mu"])
    k = k_constants()
    r_mu = a_mu / k
    f_ref = float(field_settings(cfg, dataset)["m1_hz"])
    return {
        "a_mu": a_mu,
        "K_constants": k,
        "R_mu_prime": r_mu,
        "f_ref_hz": f_ref,
        "omega_a_ref": r_mu * 2.0 * math.pi * f_ref * 1e-6,  # rad/us
        "eps_hw": blinding.hardware_blind(cfg["blinding"]["hardware_phrase"], dataset),
        "phi0": float(cfg["truth"]["phi0_rad"]),
    }


WORLD_UNITS = {
    "a_mu": "1", "K_constants": "1", "R_mu_prime": "1", "f_ref_hz": "Hz", "omega_a_ref": "rad/us", "eps_hw": "1",
    "phi0": "rad",
}


def build_conditions(cfg: dict, dataset: str, world: dict) -> Conditions:
    """Kernel conditions of a dataset from its config and sealed world (``omega_a``: the
    reference omega_ref every spin phase is counted from)."""
    ds = cfg["datasets"][dataset]
    s = dataset_settings(cfg, dataset)
    b, d, p = s["beam"], s["detector"], s["production"]
    n = float(ds["field_index"])
    return Conditions(
        n=n,
        r0=MAGIC_RADIUS_MM,
        omega_c0=OMEGA_C_MAGIC,
        delta_mean=float(ds["momentum_offset_percent"]) * 1e-2,
        delta_rms=float(ds["momentum_rms_percent"]) * 1e-2,
        rho_dt=float(b["delta_t0_correlation"]),
        bunch_width=float(b["bunch_width_ns"]) * 1e-3,
        bunch_edge=float(b["bunch_edge_ns"]) * 1e-3,
        sigma_x=float(b["betatron_sigma_x_mm"]),
        x_coh=coherent_offset(
            float(ds["kicker_kV"]), float(b["coherent_offset_at_zero_kick_mm"]), float(b["full_kick_kV"])
        ),
        sigma_inj=float(b["inflector_sigma_x_mm"]),
        sigma_y=float(b["betatron_sigma_y_mm"]),
        vw_mismatch=float(b["vertical_mismatch"]),
        y_coh=float(b["vertical_offset_mm"]),
        chrom_x=float(b["chromaticity_x"]),
        chrom_y=float(b["chromaticity_y"]),
        detune_x=float(b["detuning_x"]),
        detune_y=float(b["detuning_y"]),
        # the field index's relaxation after scraping (beam.esq_relaxation; absent: none)
        esq_relax=float(b.get("esq_relaxation", {}).get("n_relative", 0.0)),
        esq_relax_tau=float(b.get("esq_relaxation", {}).get("tau_us", 1.0)),
        # a Lorentzian spread of the radial tune (beam.tune_spread_x; absent: none)
        tune_hwhm_x=float(b.get("tune_spread_x", {}).get("hwhm", 0.0)),
        tune_coherent_x=float(b.get("tune_spread_x", {}).get("coherent_fraction", 0.0)),
        aperture=APERTURE_MM,
        scrape_mm=float(b["scraping_mm"]),
        t_scrape=float(b["scraping_time_us"]),
        loss_rate=float(b["loss_rate_per_us"]),
        loss_width=float(b["loss_edge_width"]),
        loss_mom=float(b["loss_momentum_slope"]),
        triple_eff=float(b["triple_efficiency"]),
        omega_a=world["omega_a_ref"],
        phi0=world["phi0"],
        # mrad per % -> rad per unit delta, and from the paper's phase (Eq. 7: cos(omega t - phi0),
        # Sec. V D 1: -13.5 mrad/%) to the spin phase the kernel adds (spin = phi0_spin + ...): minus
        dphi0_ddelta=-float(b["dphi0_ddelta_mrad_per_percent"]) * 1e-3 * 100.0,
        gamma_magic=GAMMA_MAGIC,
        tau_mu=TAU_MU_US,
        e_max=E_MAX_GEV,
        acc_scale=float(d["acceptance_scale"]),
        acc_low=float(d["acceptance_low_energy"]),
        kappa_n=float(d["acceptance_radial"]),
        kappa_a=float(d["acceptance_radial_energy"]),
        eta_y=float(d["acceptance_vertical"]),
        zeta_y=float(d["acceptance_vertical_quadratic"]),
        phase_x=float(d["phase_radial_mrad"]) * 1e-3,
        phase_yy=float(d["phase_vertical_quadratic_mrad"]) * 1e-3,
        drift_min=float(d["drift_angle_min_rad"]),
        drift_max=float(d["drift_angle_max_rad"]),
        eres=float(d["energy_resolution"]),
        gain_if_amp=float(d["gain_in_fill"]),
        gain_if_tau=float(d["gain_in_fill_tau_us"]),
        gain_st_amp=float(d["gain_short_term"]),
        gain_st_tau=float(d["gain_short_term_tau_ns"]) * 1e-3,
        tau_res=float(d["resolving_time_ns"]) * 1e-3,
        global_sep=float(d["global_separation_mm"]),
        shadow_gap=float(d["shadow_gap_ns"]) * 1e-3,
        q_threshold=float(d["q_threshold_gev"]),
        tracker_res=float(d["tracker_resolution_mm"]),
        tracker_eff=float(d["tracker_efficiency"]),
        tracker_falloff=float(d["tracker_vertical_falloff"]),
        tracker_ymin=float(d["tracker_y_min"]),
        tracker_ymax=float(d["tracker_y_max"]),
        eps_hw=world["eps_hw"],
        muons_per_fill=float(p["muons_per_fill"]),
        intensity_rms=float(p["intensity_rms"]),
        # the positrons a dataset's ``positrons`` counts: every hit above 1 GeV, or those of a window
        # (Table I: 1-3 GeV after 30 us, ``production.count_window``), on the blinded clock
        **count_window(p.get("count_window")),
    )
