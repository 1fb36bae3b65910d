"""Sealed truth of the beam-dynamics corrections at the level of expectations.

The production's own truth histograms give C_e and C_p precisely (means of per-muon numbers),
but the slow phase drifts behind C_ml, C_dd and C_pa are tens of ppb, far below the noise of a
phase slope measured from 1e8 sampled decays (the 120 ns bunch alone spreads omega_a t0 by
0.05 rad). Here the same injection model is sampled (2e6 muons, ``beam.injection``) and every
muon's contribution to the detected wiggle is followed in expectation instead of sampled:

    W_mu(t) = a_mu exp(-(t - t0)/(gamma tau)) / (gamma tau) exp(-lambda_mu (t - t_scrape))
    Phi(t)  = sum_mu W_mu(t) phi_mu / sum_mu W_mu(t)

a_mu is the muon's weight in the T method's asymmetry-weighted phase and phi_mu its detected
phase offset, both from the production's own detector (``_detection_table``): the kernel's
``calorimeter_acceptance`` with its per-calorimeter radial slopes, clipped to [0, 1] as the
kernel's draw clips it, averaged over the muon's radial and vertical betatron phases, the 24
calorimeters and the Michel energies above the T method's 1.7 GeV, each positron weighted by
its asymmetry A(y). No analysis estimator or detector model enters. A fit with a constant phase
absorbs dPhi/dt into omega_a^m, so each correction is C = -(dPhi/dt) / omega_a, the slope
weighted like the fit (by the asymmetry-weighted decays) over the T-method window.

The offset phi_mu has five parts: beamline (dphi0/ddelta delta), injection time (-omega_a t0),
radial and vertical phase acceptance, and the energy-dependent flight time to the calorimeter
(-omega_a drift R0 / c). Phi(t) moves because the population changes: through the
momentum-dependent lifetime (differential decay) and through the losses. Each correction is one
set of (phase part x cause), computed with the other cause made muon-independent:

    C_dd = (beamline + t0) x decay            (Eq. 34: beamline and p-t0 terms)
    C_ml = (beamline + t0) x loss             (Eq. 23 with the effective dphi/dp)
    C_pa = (radial + vertical + timing) x (decay + loss)

The split follows what each analysis measures: C_dd and C_ml move the spin phase the muons were
injected with, C_pa is the detector's phase acceptance seen through the evolving beam (the
trackers measure that evolution, whatever drives it). The toy has no spin-orbit correlation at
injection, so the paper's p-x term of C_dd (Eq. 29) is zero here (``p_x`` = 0).

The sum of the parts matches the slope with everything on to second order (returned as
``total_ppb`` and ``sum_of_parts_ppb``). Left out, and in the toy small: the closed orbit
(0.03 mm rms) and the coherent betatron motion at early times (the average is over uniform
betatron phases: the decohered beam), the reconstructed-energy smearing of the 1.7 GeV cut,
and the change of <C_e + C_p> in time (under strong losses the fit sees C_e a few % below its
mean: docs/beam_dynamics.md §7).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..constants import C_MM_PER_US
from ..experiment.beam import injection
from ..experiment.production import calorimeter_acceptance, calorimeter_radial_sensitivity
from ..experiment.run_production import read_world
from ..experiment.world import build_conditions, dataset_settings
from ..io import write_json
from ..numerics import weighted_slope
from ..physics.michel import michel_asymmetry, michel_number
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


# The T method's positrons: true energy above 1.7 GeV, as the production truth's T weights
T_METHOD_ENERGY_GEV = 1.7


@njit(cache=True)
def _detection_table(c, kappa_calo, xe_grid, ax_grid, ay_grid, y_nodes, n_weight, na_weight, n_psi):
    """The kernel's detection of one muon's T-method positrons, averaged over its radial and
    vertical betatron phases, the calorimeters (a debunched muon decays at every azimuth alike)
    and the lab energy, on a grid of (x_e, a_x, a_y). ``y_nodes`` [x_e, q]: the energy nodes
    above the T-method threshold of each x_e, ``n_weight`` and ``na_weight`` their Michel N and
    N A quadrature weights. Per cell: [sum N, sum N A, sum N A x/a, sum N A (y/a)^2,
    sum N A y_E] over the nodes, each term times the detection probability (the kernel's
    acceptance clipped to [0, 1]). N A is the weight a positron carries in the
    asymmetry-weighted phase the truth records."""
    ap = c.aperture
    n_calo = kappa_calo.size
    out = np.zeros((5, xe_grid.size, ax_grid.size, ay_grid.size))
    norm = 1.0 / (n_psi * (n_psi // 2) * n_calo)
    for i in range(xe_grid.size):
        x_e = xe_grid[i]
        for j in range(ax_grid.size):
            for k in range(ay_grid.size):
                sn = sna = sx = syy = se = 0.0
                for a in range(n_psi):  # radial phase: midpoints over a period
                    xn = (x_e + ax_grid[j] * math.cos(2.0 * math.pi * (a + 0.5) / n_psi)) / ap
                    for b in range(n_psi // 2):  # vertical: cos over half a period takes every value once
                        yn = ay_grid[k] * math.cos(math.pi * (b + 0.5) / (n_psi // 2)) / ap
                        for q in range(y_nodes.shape[1]):
                            y = y_nodes[i, q]
                            p = 0.0  # summed over the calorimeters
                            for calo in range(n_calo):
                                p += min(max(calorimeter_acceptance(c, kappa_calo, calo, y, xn, yn), 0.0), 1.0)
                            wa = p * na_weight[i, q]
                            sn += p * n_weight[i, q]
                            sna += wa
                            sx += wa * xn
                            syy += wa * yn * yn
                            se += wa * y
                out[0, i, j, k] = sn * norm
                out[1, i, j, k] = sna * norm
                out[2, i, j, k] = sx * norm
                out[3, i, j, k] = syy * norm
                out[4, i, j, k] = se * norm
    return out


def detection_averages(c, kappa_calo, m: dict, n_grid=(48, 32, 12), n_psi: int = 16, n_y: int = 16) -> dict:
    """Per muon of ``m``: its T-method detection as the production's detector makes it
    (``_detection_table`` interpolated at its x_e, a_x, a_y): ``count`` (detected positrons per
    decay, up to a constant), ``acceptance`` (their asymmetry weight, the muon's weight in the
    recorded phase) and the asymmetry-weighted radial, vertical and timing phase offsets (rad).
    ``kappa_calo``: the calorimeters' radial slopes (``production.calorimeter_radial_sensitivity``).
    ``n_grid``: cells in x_e, a_x, a_y (the clipping's kink runs through the radial plane; the
    vertical dependence is smooth); interpolation and quadrature agree with sampling the kernel's
    detection to 0.1 % of the radial phase (tests/truth/test_beam.py)."""
    from scipy.interpolate import RegularGridInterpolator

    ap = c.aperture
    xe_grid = np.linspace(min(m["x_e"].min(), -1.0), max(m["x_e"].max(), 1.0), n_grid[0] + 1)
    ax_grid = np.linspace(0.0, max(m["a_x"].max(), 1.0), n_grid[1] + 1)
    ay_grid = np.linspace(0.0, min(max(m["a_y"].max(), 1.0), ap), n_grid[2] + 1)
    # energy: n_y midpoints above the T method's threshold on the true energy y E_max (1 + delta)
    delta = xe_grid * (1.0 - c.n) / c.r0
    y_lo = np.minimum(T_METHOD_ENERGY_GEV / (c.e_max * (1.0 + delta)), 1.0)
    width = (1.0 - y_lo) / n_y
    y_nodes = y_lo[:, None] + width[:, None] * (np.arange(n_y) + 0.5)
    n_weight = michel_number(y_nodes) * width[:, None]
    table = _detection_table(c, np.asarray(kappa_calo, dtype=float), xe_grid, ax_grid, ay_grid, y_nodes, n_weight,
                             n_weight * michel_asymmetry(y_nodes), n_psi)
    points = np.column_stack([m["x_e"], m["a_x"], m["a_y"]])
    sn, sna, sx, syy, se = (RegularGridInterpolator((xe_grid, ax_grid, ay_grid), t)(points) for t in table)
    # the flight time to the calorimeter grows with the energy: drift angle x R0 / c
    timing = -c.omega_a * (c.drift_min + (c.drift_max - c.drift_min) * se / sna) * c.r0 / C_MM_PER_US
    return {"count": sn, "acceptance": sna, "radial": c.phase_x * sx / sna, "vertical": c.phase_yy * syy / sna,
            "timing": timing}


def phase_drift_truth(c, kappa_calo, m: dict, window=T_METHOD_WINDOW_US, n_times: int = 96) -> dict:
    """C_dd (with its beamline, p-t0 and p-x terms), C_ml and C_pa in ppb for the muons ``m`` of
    ``sample_stored_muons``, plus the detected-population C_e and C_p (ppb) as a cross-check of
    the weighting against the production's truth histograms. ``kappa_calo``: the calorimeters'
    radial slopes the production used."""
    det = detection_averages(c, kappa_calo, m)
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
        "timing": det["timing"],
    }
    beta2 = 1.0 - 1.0 / (c.gamma_magic * (1.0 + delta)) ** 2
    ce = 2.0 * c.n * (1.0 - c.n) / c.r0**2 * beta2 * m["x_e"] ** 2
    cp = c.n / (4.0 * c.r0**2) * m["a_y"] ** 2
    t = np.linspace(window[0], window[1], n_times)
    causes = ("all", "decay", "loss")
    phase = {(a, b): np.empty(n_times) for a in parts for b in causes}
    n_det = np.empty(n_times)
    sum_ce = sum_cp = n_count = 0.0
    for k, tk in enumerate(t):
        decay = np.exp(-(tk - t0) / gamma_tau) / gamma_tau
        decay_flat = np.exp(-(tk - t0) / gamma_tau_flat) / gamma_tau_flat
        survive = np.exp(-lam * (tk - c.t_scrape))
        weights = {
            "all": det["acceptance"] * decay * survive,
            "count": det["count"] * decay * survive,
            "decay": det["acceptance"] * decay,
            "loss": det["acceptance"] * decay_flat * survive,
        }
        norms = {b: w.sum() for b, w in weights.items()}
        for a, phi in parts.items():
            for b in causes:
                phase[a, b][k] = weights[b] @ phi / norms[b]
        n_det[k] = norms["all"]
        n_count += norms["count"]
        sum_ce += weights["count"] @ ce
        sum_cp += weights["count"] @ cp

    def corr(a, b):  # C = -(dPhi/dt) / omega_a, in ppb
        return -weighted_slope(t, phase[a, b], n_det) / c.omega_a * 1e9

    dd = {"beamline": corr("beamline", "decay"), "p_t0": corr("t0", "decay"), "p_x": 0.0}
    ml_parts = {"beamline": corr("beamline", "loss"), "p_t0": corr("t0", "loss")}
    pa_parts = {f"{a}_{b}": corr(a, b) for a in ("radial", "vertical", "timing") for b in ("decay", "loss")}
    ml, pa = sum(ml_parts.values()), sum(pa_parts.values())
    total = -weighted_slope(t, sum(phase[a, "all"] for a in parts), n_det) / c.omega_a * 1e9
    c_dd = sum(dd.values())
    return {
        "C_dd_ppb": c_dd, "C_dd_parts_ppb": dd, "C_ml_ppb": ml, "C_ml_parts_ppb": ml_parts, "C_pa_ppb": pa,
        "C_pa_parts_ppb": pa_parts,
        "total_ppb": total, "sum_of_parts_ppb": c_dd + ml + pa,
        "C_e_ppb": sum_ce / n_count * 1e9, "C_p_ppb": sum_cp / n_count * 1e9,
        "muons": int(delta.size), "window_us": list(window),
    }


def beam_dynamics_truth(c, kappa_calo, n_muons: int, seed: int, dataset: str) -> dict:
    """The sealed expectation-level truth of one dataset (see the module docstring); ``c``, the
    kernel's Conditions, ``kappa_calo`` its calorimeters' radial slopes."""
    m = sample_stored_muons(c, n_muons, seed, dataset)
    out = phase_drift_truth(c, kappa_calo, m)
    out["mean_delta"] = float(m["delta"].mean())
    out["rms_x_e_mm"] = float(math.sqrt(np.mean(m["x_e"] ** 2)))
    return out


def dataset_kappa_calo(cfg: dict, dataset: str, c) -> np.ndarray:
    """The calorimeters' radial acceptance slopes the production of ``dataset`` used."""
    spread = dataset_settings(cfg, dataset)["detector"]["acceptance_radial_calo_spread"]
    return calorimeter_radial_sensitivity(c.kappa_n, spread)


def write_beam_truth(cfg: dict, dataset: str, world_path, out_path) -> dict:
    """Rule adapter: the dataset's conditions from its sealed world, the truth to JSON."""

    c = build_conditions(cfg, dataset, read_world(world_path))
    out = beam_dynamics_truth(c, dataset_kappa_calo(cfg, dataset, c), int(cfg["beam_dynamics"]["truth_muons"]),
                              int(cfg["seed"]), dataset)
    out["dataset"] = dataset
    write_json(out_path, out)
    return out
