"""Sealed truth of the beam-dynamics corrections at the level of expectations.

The production's own truth histograms give C_e and C_p precisely (means of per-muon numbers),
but the slow phase drifts behind C_ml, C_dd and C_pa are tens of ppb, far below the noise of a
phase slope measured from 1e8 sampled decays (the 120 ns bunch alone spreads omega_a t0 by
0.05 rad). Here the same injection model is sampled (2e6 muons, ``beam.injection``) and every
muon's contribution to the detected wiggle is followed in expectation instead of sampled:

    W_mu(t) = a_mu exp(-(t - t0)/(gamma tau)) / (gamma tau) exp(-lambda_mu (t - t_scrape))
    Phi(t)  = sum_mu W_mu(t) phi_mu / sum_mu W_mu(t)

a_mu is the calorimeter acceptance averaged over the betatron phase, phi_mu the muon's detected
phase offset averaged the same way (acceptance-weighted). A fit with a constant phase absorbs
dPhi/dt into omega_a^m, so each correction is C = -(dPhi/dt) / omega_a, the slope weighted like
the fit (by the number of decays) over the T-method window.

The offset phi_mu has four parts: beamline (dphi0/ddelta delta), injection time (-omega_a t0),
radial and vertical phase acceptance. Phi(t) moves because the population changes: through the
momentum-dependent lifetime (differential decay) and through the losses. Each correction is one
set of (phase part x cause), computed with the other cause made muon-independent:

    C_dd = (beamline + t0) x decay            (Eq. 34: beamline and p-t0 terms)
    C_ml = (beamline + t0) x loss             (Eq. 23 with the effective dphi/dp)
    C_pa = (radial + vertical) x (decay + loss)

The split follows what each analysis measures: C_dd and C_ml move the spin phase the muons were
injected with, C_pa is the detector's phase acceptance seen through the evolving beam (the
trackers measure that evolution, whatever drives it). The toy has no spin-orbit correlation at
injection, so the paper's p-x term of C_dd (Eq. 29) is zero here (``p_x`` = 0).

The sum of the parts matches the slope with everything on to second order (returned as
``total_ppb`` and ``sum_of_parts_ppb``). Neglected here, and in the toy small: the energy
dependence of the radial acceptance slope (an effective slope for the T-method energies is
used), the energy threshold's 1e-3 dependence on delta and the change of <C_e + C_p> in time.
"""

from __future__ import annotations

import math

import numpy as np

from ..beam_dynamics.differential_decay import t_method_radial_slope
from ..experiment.beam import injection
from ..experiment.run_production import read_world
from ..experiment.world import build_conditions
from ..io import write_json
from ..numerics import weighted_slope
from ..seeds import dataset_key

T_METHOD_WINDOW_US = (30.1, 660.0)


def expected_t0(c, delta):
    """E[t0 | delta] (us) of the injection: t0 = W v + edge z, delta = delta_mean + a v + b z_d
    with v uniform on [-1/2, 1/2], so v | delta is a normal truncated to that interval. Using it
    instead of each muon's sampled t0 removes the sampling noise of the t0 phase (0.05 rad per
    muon) from the truth without changing its expectation: nothing else depends on t0."""
    from scipy.special import ndtr

    a = c.delta_rms * c.rho_dt * math.sqrt(12.0)
    if a == 0.0:
        return np.zeros_like(delta)
    b = c.delta_rms * math.sqrt(max(0.0, 1.0 - c.rho_dt**2))
    mu, s = (delta - c.delta_mean) / a, max(b / a, 1e-12)
    lo, hi = (-0.5 - mu) / s, (0.5 - mu) / s
    pdf = np.exp(-0.5 * lo**2) - np.exp(-0.5 * hi**2)
    mass = np.maximum(ndtr(hi) - ndtr(lo), 1e-300)
    v = np.clip(mu + s * pdf / (math.sqrt(2.0 * math.pi) * mass), -0.5, 0.5)
    return c.bunch_width * v


def sample_stored_muons(c, n_muons: int, seed: int, dataset: str) -> dict:
    """Stored muons of the production's injection that survive scraping (``c``: kernel
    Conditions): delta, t0 = E[t0 | delta] (us, see ``expected_t0``), x_e, a_x, a_y (mm) and the
    reach rho."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(dataset_key(dataset), 7))))
    u = rng.uniform(size=n_muons)
    z_d, zx, zpx, zy, zpy = rng.normal(size=(5, n_muons))
    m = injection(c, u, z_d, zx, zpx, zy, zpy)
    m["t0"] = expected_t0(c, m["delta"])
    keep = m["rho"] < 1.0 - c.scrape_mm / c.aperture
    return {k: v[keep] for k, v in m.items()}


def detection_averages(c, m: dict) -> dict:
    """Betatron-phase averages per muon: acceptance a_mu and the acceptance-weighted radial and
    vertical phase offsets (x = x_e + a_x cos psi, y = a_y cos psi; the kernel's acceptance and
    phase maps, analytically averaged over psi)."""
    ap = c.aperture
    kappa = t_method_radial_slope(c.kappa_n, c.kappa_a)  # the same effective slope the analysis uses
    x_e, a_x, a_y = m["x_e"], m["a_x"], m["a_y"]
    acc_x = 1.0 + kappa * x_e / ap
    acc_y = 1.0 - c.zeta_y * a_y**2 / (2 * ap**2)  # <eta y> = 0 over a period
    phase_x = c.phase_x * (x_e + kappa * (x_e**2 + 0.5 * a_x**2) / ap) / ap / acc_x
    y2 = a_y**2 / ap**2
    phase_y = c.phase_yy * (0.5 * y2 - c.zeta_y * 0.375 * y2**2) / acc_y
    return {"acceptance": acc_x * acc_y, "radial": phase_x, "vertical": phase_y}


def phase_drift_truth(c, m: dict, window=T_METHOD_WINDOW_US, n_times: int = 96) -> dict:
    """C_dd (with its beamline, p-t0 and p-x terms), C_ml and C_pa in ppb for the muons ``m`` of
    ``sample_stored_muons``, plus the detected-population C_e and C_p (ppb) as a cross-check of
    the weighting against the production's truth histograms."""
    det = detection_averages(c, m)
    delta, t0 = m["delta"], m["t0"]
    gamma_tau = c.gamma_magic * (1.0 + delta) * c.tau_mu
    gamma_tau_flat = c.gamma_magic * (1.0 + c.delta_mean) * c.tau_mu
    lam = c.loss_rate * np.exp((m["rho"] - (1.0 - c.scrape_mm / c.aperture)) / c.loss_width
                               + c.loss_mom * (delta - c.delta_mean) / c.delta_rms)
    parts = {
        "beamline": c.dphi0_ddelta * delta,
        "t0": -c.omega_a * t0,
        "radial": det["radial"],
        "vertical": det["vertical"],
    }
    beta2 = 1.0 - 1.0 / (c.gamma_magic * (1.0 + delta)) ** 2
    ce = 2.0 * c.n * (1.0 - c.n) / c.r0**2 * beta2 * m["x_e"] ** 2
    cp = c.n / (4.0 * c.r0**2) * m["a_y"] ** 2
    t = np.linspace(window[0], window[1], n_times)
    causes = ("all", "decay", "loss")
    phase = {(a, b): np.empty(n_times) for a in parts for b in causes}
    n_det = np.empty(n_times)
    sum_ce = sum_cp = 0.0
    for k, tk in enumerate(t):
        decay = np.exp(-(tk - t0) / gamma_tau) / gamma_tau
        decay_flat = np.exp(-(tk - t0) / gamma_tau_flat) / gamma_tau_flat
        survive = np.exp(-lam * (tk - c.t_scrape))
        weights = {
            "all": det["acceptance"] * decay * survive,
            "decay": det["acceptance"] * decay,
            "loss": det["acceptance"] * decay_flat * survive,
        }
        norms = {b: w.sum() for b, w in weights.items()}
        for a, phi in parts.items():
            for b in causes:
                phase[a, b][k] = weights[b] @ phi / norms[b]
        n_det[k] = norms["all"]
        sum_ce += weights["all"] @ ce
        sum_cp += weights["all"] @ cp

    def corr(a, b):  # C = -(dPhi/dt) / omega_a, in ppb
        return -weighted_slope(t, phase[a, b], n_det) / c.omega_a * 1e9

    dd = {"beamline": corr("beamline", "decay"), "p_t0": corr("t0", "decay"), "p_x": 0.0}
    ml_parts = {"beamline": corr("beamline", "loss"), "p_t0": corr("t0", "loss")}
    pa_parts = {f"{a}_{b}": corr(a, b) for a in ("radial", "vertical") for b in ("decay", "loss")}
    ml, pa = sum(ml_parts.values()), sum(pa_parts.values())
    total = -weighted_slope(t, sum(phase[a, "all"] for a in parts), n_det) / c.omega_a * 1e9
    c_dd = sum(dd.values())
    return {
        "C_dd_ppb": c_dd, "C_dd_parts_ppb": dd, "C_ml_ppb": ml, "C_ml_parts_ppb": ml_parts, "C_pa_ppb": pa,
        "C_pa_parts_ppb": pa_parts,
        "total_ppb": total, "sum_of_parts_ppb": c_dd + ml + pa,
        "C_e_ppb": sum_ce / n_det.sum() * 1e9, "C_p_ppb": sum_cp / n_det.sum() * 1e9,
        "muons": int(delta.size), "window_us": list(window),
    }


def beam_dynamics_truth(c, n_muons: int, seed: int, dataset: str) -> dict:
    """The sealed expectation-level truth of one dataset (see the module docstring)."""
    m = sample_stored_muons(c, n_muons, seed, dataset)
    out = phase_drift_truth(c, m)
    out["mean_delta"] = float(m["delta"].mean())
    out["rms_x_e_mm"] = float(math.sqrt(np.mean(m["x_e"] ** 2)))
    return out


def write_beam_truth(cfg: dict, dataset: str, world_path, out_path) -> dict:
    """Rule adapter: the dataset's conditions from its sealed world, the truth to JSON."""

    c = build_conditions(cfg, dataset, read_world(world_path))
    out = beam_dynamics_truth(c, int(cfg["beam_dynamics"]["truth_muons"]), int(cfg["seed"]), dataset)
    out["dataset"] = dataset
    write_json(out_path, out)
    return out
