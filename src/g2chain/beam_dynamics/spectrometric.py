"""C_e from the trackers: the spectrometric relation (Run-2/3 report Sec. V A, Eq. 17-19).

Every muon leaves the inflector near one radius x_i, so its betatron offset from its own closed
orbit x_e is x_i - x_e. Half a betatron period later it sits at x_f = 2 x_e - x_i (Eq. 17): the
radial distribution there is the momentum distribution, scaled by 2 and shifted (Eq. 18). At a
fixed tracker station the two states alternate at the aliased CBO period.

The paper reads the two states off the radial profiles of minimal and maximal width. The toy's
tracker bins are 0.6 us wide against a 2.7 us CBO period, and a bin also mixes the injection
times (the bunch) and the decay azimuths the tracker accepts, so no bin is a pure state. The
method here fits the whole phase dependence instead, which Eq. 17 gives for every phase psi of
the coherent betatron motion: with u = x_e - <x_e>, w the spread around x_i and s the angular
term,

    x(psi) - <x>(psi) = u (1 - cos psi) + w cos psi + s sin psi       (+ tracker resolution)
    <x>(psi) = <x_e> + (x_i - <x_e>) cos psi

so per tracker bin the mean, variance and third central moment of x are the mixture over the
phases the bin holds of

    mean  <x_e> + A cos psi
    var   S_u (1 - cos psi)^2 + S_w cos^2 psi + S_s sin^2 psi + sigma_res^2
    mu_3  K_3 (1 - cos psi)^3

(psi = omega_CBO t + phi_station). S_u, the momentum spread, is fixed by the term linear in
cos psi alone, so the tracker resolution (a constant) does not enter it; a correlation c_uw
between the inflector-exit spread and momentum would read as S_u - c_uw (the assumption of a
common x_i that Eq. 18 makes; it is a systematic here). K_3 (the skewness the aperture gives the
momentum distribution) and <x_e> are needed to weight the tracker's x_e distribution with the
calorimeters' radial acceptance, since C_e is the average over the detected positrons.

The trackers measure positions, so this C_e does not depend on the blinded clock
(dC_e/deps = 0), unlike the fast-rotation methods.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares

from ..constants import APERTURE_MM, MAGIC_RADIUS_MM, OMEGA_C_MAGIC
from . import fast_rotation

PARAMS = ("mean_xe", "A", "S_u", "S_w", "S_s", "K3", "omega", "phi_1", "phi_2")


def radial_moment_series(vertices, x_edges, time_edges, window_us):
    """Per station and tracker time bin in the window: (t centres, counts, mean, variance, third
    central moment of x, and their errors), x in mm. The variance is corrected for the bin width
    (Sheppard); the resolution is left in."""
    edges = np.asarray(time_edges, dtype=float)
    sel = (edges[:-1] >= window_us[0]) & (edges[:-1] < window_us[1])
    t = 0.5 * (edges[:-1] + edges[1:])[sel]
    xe = np.asarray(x_edges, dtype=float)
    xc, dx = 0.5 * (xe[1:] + xe[:-1]), float(xe[1] - xe[0])
    hx = np.asarray(vertices, dtype=float)[:, sel].sum(axis=3)  # [station, t, x]
    n = hx.sum(axis=2)
    safe = np.maximum(n, 1.0)
    mean = hx @ xc / safe
    d = xc[None, None, :] - mean[..., None]
    m2 = (hx * d**2).sum(2) / safe
    m3 = (hx * d**3).sum(2) / safe
    m4 = (hx * d**4).sum(2) / safe
    m6 = (hx * d**6).sum(2) / safe
    # large-sample errors of the sample moments
    err = {"mean": np.sqrt(m2 / safe), "var": np.sqrt(np.maximum(m4 - m2**2, 1e-12) / safe),
           "mu3": np.sqrt(np.maximum(m6 - m3**2 - 6 * m4 * m2 + 9 * m2**3, 1e-12) / safe)}
    return {"t_us": t, "n": n, "mean": mean, "var": m2 - dx**2 / 12.0, "mu3": m3, "err": err,
            "bin_us": float(edges[1] - edges[0]), "x_mm": xc, "hx": hx}


def moment_model(theta, t_us, station, widths_us, edge_us, drift_span, resolution_mm):
    """The mixture moments (mean, variance, mu_3) of x per tracker bin for parameters ``theta``
    (see PARAMS) at bin centres ``t_us`` of ``station`` (0 or 1).

    A bin holds a spread of betatron phases: its time width and the bunch's injection times (the
    phase runs with t - t0), both uniform boxes (``widths_us``), the bunch edges (Gaussian,
    ``edge_us``), and the decay azimuths the tracker accepts (a box ``drift_span`` in rad: the
    phase advances with the azimuth, tune ~ 1). Every moment is a polynomial of degree <= 3 in
    cos psi, so the mixture is exact through E[cos k psi] = cos(k psi_c) prod_j sinc(k w_j / 2)."""
    me, a, s_u, s_w, s_s, k3, om, p1, p2 = theta
    psi = om * np.asarray(t_us) + np.where(station == 0, p1, p2)

    def e_cos(k):
        f = np.exp(-0.5 * (k * om * edge_us) ** 2) * np.sinc(k * drift_span / (2 * np.pi))
        for w in widths_us:
            f = f * np.sinc(k * om * w / (2 * np.pi))  # numpy sinc(x) = sin(pi x) / (pi x)
        return np.cos(k * psi) * f

    e1, e2, e3 = e_cos(1), e_cos(2), e_cos(3)
    c1, c2, c3 = e1, 0.5 * (1 + e2), 0.25 * (3 * e1 + e3)  # E[c], E[c^2], E[c^3]
    mean = me + a * c1
    var_in = s_u * (1 - 2 * c1 + c2) + s_w * c2 + s_s * (1 - c2)
    var_c = s_u * (c1 - 2 * c2 + c3) + s_w * c3 + s_s * (c1 - c3)  # E[var(psi) cos psi]
    v_mix = var_in + a**2 * (c2 - c1**2) + resolution_mm**2
    k_mix = (k3 * (1 - 3 * c1 + 3 * c2 - c3) + 3 * a * (var_c - var_in * c1)
             + a**3 * (c3 - 3 * c1 * c2 + 2 * c1**3))
    return mean, v_mix, k_mix


def fit_spectrometric(series: dict, field_index: float, resolution_mm: float, bunch_us: float,
                      drift_rad, omega0: float | None = None, edge_us: float = 0.0) -> dict:
    """Fit the phase-dependent moments of both stations (Eq. 17 at every phase): the momentum
    distribution's mean, variance S_u and third moment K3 (mm), with their covariance."""
    t, n = series["t_us"], series["n"]
    ns, nt = n.shape
    tt = np.tile(t, ns)
    st = np.repeat(np.arange(ns), nt)
    ok = np.repeat(n.ravel() > 50, 1)
    y = [series["mean"].ravel(), series["var"].ravel(), series["mu3"].ravel()]
    e = [series["err"][k].ravel() for k in ("mean", "var", "mu3")]
    span = float(drift_rad[1] - drift_rad[0])
    widths = (series["bin_us"], bunch_us)
    if omega0 is None:
        omega0 = OMEGA_C_MAGIC * (1.0 - np.sqrt(1.0 - field_index))  # aliased f_c - f_x
    # starting phases and amplitude from a linear fit of each station's mean at omega0
    p0, amp = [], []
    for s in range(ns):
        b = np.column_stack([np.ones(nt), np.cos(omega0 * t), np.sin(omega0 * t)])
        coef = np.linalg.lstsq(b * np.sqrt(n[s])[:, None], series["mean"][s] * np.sqrt(n[s]), rcond=None)[0]
        amp.append(np.hypot(coef[1], coef[2]))
        p0.append(np.arctan2(-coef[2], coef[1]))
    v0 = float(np.average(series["var"], weights=n))
    theta0 = np.array([float(np.average(series["mean"], weights=n)), float(np.mean(amp)), 0.5 * v0, 2.0,
                       0.3 * v0, 0.0, omega0, p0[0], p0[1] if ns > 1 else p0[0]])

    def resid(th):
        m, v, k = moment_model(th, tt, st, widths, edge_us, span, resolution_mm)
        r = [(y[0] - m) / e[0], (y[1] - v) / e[1], (y[2] - k) / e[2]]
        return np.concatenate([ri[ok] for ri in r])

    lo = [-np.inf, -np.inf, 0.0, 0.0, 0.0, -np.inf, 0.8 * omega0, -np.inf, -np.inf]
    hi = [np.inf, np.inf, np.inf, np.inf, np.inf, np.inf, 1.2 * omega0, np.inf, np.inf]
    # the amplitude sign and phase are degenerate (A cos psi = -A cos(psi + pi)): start A > 0
    sol = least_squares(resid, theta0, bounds=(lo, hi), x_scale="jac")
    jac = sol.jac
    cov = np.linalg.pinv(jac.T @ jac)
    chi2 = float(sol.fun @ sol.fun)
    ndf = int(sol.fun.size - theta0.size)
    return {"theta": sol.x, "cov": cov, "chi2": chi2, "ndf": ndf,
            "params": dict(zip(PARAMS, map(float, sol.x), strict=True)),
            "errors": dict(zip(PARAMS, map(float, np.sqrt(np.diag(cov))), strict=True))}


def detected_mean_x2(mean_xe: float, s_u: float, k3: float, radial_slope: float,
                     aperture_mm: float = APERTURE_MM) -> float:
    """<x_e^2> over the detected positrons: the tracker's x_e distribution (moments mean, S_u,
    K3) weighted by the calorimeters' betatron-averaged radial acceptance 1 + k x_e / a."""
    k = radial_slope / aperture_mm
    x2 = s_u + mean_xe**2
    x3 = k3 + 3 * mean_xe * s_u + mean_xe**3
    return (x2 + k * x3) / (1.0 + k * mean_xe)


def state_bins(series: dict, fit: dict, station: int, half_width_rad: float = 0.35):
    """Masks of the tracker bins of ``station`` nearest the state of minimal width (psi = 0, i)
    and of maximal width (psi = pi, f), by the fitted phase."""
    p = fit["params"]
    psi = p["omega"] * series["t_us"] + (p["phi_1"] if station == 0 else p["phi_2"])
    return (np.abs(np.angle(np.exp(1j * psi))) < half_width_rad,
            np.abs(np.angle(np.exp(1j * (psi - np.pi)))) < half_width_rad)


def two_state_x2(series: dict, fit: dict, resolution_mm: float) -> float:
    """The paper's two-state reading of Eq. 18 as a cross-check: x_i the mean of the bins nearest
    the minimal width (psi = 0), the x_e spread a quarter of the variance of the bins nearest the
    maximal width (psi = pi), resolution removed; <x_e^2> from those (mm^2). Biased by the phases a
    bin mixes, which the phase fit models."""
    x2 = []
    for s in range(series["n"].shape[0]):
        near_i, near_f = state_bins(series, fit, s)
        w = series["n"][s]
        if not near_i.any() or not near_f.any():
            continue
        x_i = np.average(series["mean"][s][near_i], weights=w[near_i])
        x_f = np.average(series["mean"][s][near_f], weights=w[near_f])
        var_f = np.average(series["var"][s][near_f], weights=w[near_f]) - resolution_mm**2
        x2.append(0.25 * var_f + (0.5 * (x_i + x_f)) ** 2)
    return float(np.mean(x2)) if x2 else float("nan")


def tracker_efield(vertices, x_edges, time_edges, field_index: float, resolution_mm: float,
                   radial_slope: float, bunch_us: float, drift_rad, settings: dict, edge_us: float = 0.0) -> dict:
    """C_e (fractions) from the trackers by the spectrometric relation, with its statistical error,
    systematic parts and the fit. ``radial_slope``: the calorimeters' radial acceptance slope per
    aperture (``differential_decay.t_method_radial_slope``); ``bunch_us``, ``edge_us``: the bunch's
    flat length and edge width (from the fast-rotation profile); ``drift_rad``: the decay azimuths
    upstream of a station the tracker accepts. ``settings``: window_us, xi_momentum_correlation,
    smear_variation, acceptance_variation."""
    win = tuple(settings["window_us"])
    series = radial_moment_series(vertices, x_edges, time_edges, win)
    fit = fit_spectrometric(series, field_index, resolution_mm, bunch_us, drift_rad, edge_us=edge_us)
    p = fit["params"]
    coef = fast_rotation.efield_coefficient(field_index)

    def ce_of(th, slope=radial_slope):
        return coef * detected_mean_x2(th[0], th[2], th[5], slope)

    ce = ce_of(fit["theta"])
    grad = np.zeros(len(PARAMS))
    for i in (0, 2, 5):
        h = 1e-4 * max(abs(fit["theta"][i]), 1.0)
        th = fit["theta"].copy()
        th[i] += h
        grad[i] = (ce_of(th) - ce) / h
    # the moment model leaves chi^2/ndf of a few at the toy's 10^6-10^7 vertices (the aperture
    # correlates u, w and s, which the model takes independent): errors scaled by sqrt(chi^2/ndf)
    scale = float(np.sqrt(max(fit["chi2"] / fit["ndf"], 1.0)))
    stat = scale * float(np.sqrt(max(grad @ fit["cov"] @ grad, 0.0)))
    # systematics: a momentum correlation of the inflector-exit spread (reads as S_u - c_uw), the
    # phase mixture inside a bin (bunch length, accepted azimuths), the acceptance weighting
    c_uw = float(settings["xi_momentum_correlation"]) * np.sqrt(p["S_u"] * p["S_w"])
    syst = {"common x_i (Eq. 18)": coef * c_uw}
    sv = float(settings["smear_variation"])
    fit_s = fit_spectrometric(series, field_index, resolution_mm, bunch_us * (1 + sv),
                              (drift_rad[0], drift_rad[0] + (drift_rad[1] - drift_rad[0]) * (1 + sv)),
                              edge_us=edge_us * (1 + sv))
    syst["phase mixture in a tracker bin"] = abs(ce_of(fit_s["theta"]) - ce)
    av = float(settings["acceptance_variation"])
    syst["calorimeter acceptance weighting"] = abs(ce_of(fit["theta"], radial_slope * (1 + av)) - ce)
    # the window: half of it (less decoherence, fewer vertices) against the whole
    half = (win[0], 0.5 * (win[0] + win[1]))
    fit_h = fit_spectrometric(radial_moment_series(vertices, x_edges, time_edges, half), field_index,
                              resolution_mm, bunch_us, drift_rad, edge_us=edge_us)
    syst["fit window (first half alone)"] = abs(ce_of(fit_h["theta"]) - ce)
    x2_two = two_state_x2(series, fit, resolution_mm)
    return {"C_e": ce, "stat": stat, "error_scale": scale, "systematics": syst, "fit": fit, "series": series,
            "mean_xe_mm": p["mean_xe"], "rms_xe_mm": float(np.sqrt(p["S_u"])),
            "x_i_mm": p["mean_xe"] + p["A"], "C_e_two_state": coef * x2_two,
            "delta_rms_percent": float(np.sqrt(p["S_u"]) * (1 - field_index) / MAGIC_RADIUS_MM * 100),
            "_model_args": ((series["bin_us"], bunch_us), edge_us, float(drift_rad[1] - drift_rad[0]), resolution_mm)}
