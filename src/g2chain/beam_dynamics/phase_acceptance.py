"""Phase-acceptance correction C_pa (Run-2/3 report Sec. V E, Eq. 35-37).

The phase a calorimeter detects depends on where the muon decayed; as the beam's transverse
distribution evolves through the fill (losses of large amplitudes, the radial drift of losses and
differential decay) the detected phase drifts. The trackers measure M^T(x, y, t); the detector
model (the toy's analogue of the paper's GM2RINGSIM maps) gives per decay position the
acceptance eps(x, y), the asymmetry A(x, y) and the phase phi(x, y); then

    phi_pa(t) = arctan[ sum M eps A sin(phi) / sum M eps A cos(phi) ]           (Eq. 37)

and a fit with a constant phase moves omega_a^m by d phi_pa/dt: C_pa = -(d phi_pa/dt) / omega_a.

Eq. 35-36 carry the tracker distributions to each calorimeter with the simulated beta functions
and dispersion. The toy's ring is a continuous ESQ with the same beta functions everywhere, so
the ratios are 1 and the extrapolation is the identity (``field.weighting.extrapolate_beam`` is
the general form, used for the field's muon weighting).
The asymmetry's position dependence is not in the toy's detector model (A = const), and the
tracker resolution adds constant widths that do not move the slope.
"""

from __future__ import annotations

import numpy as np

from ..constants import APERTURE_MM
from ..records.trackers import radial_moments, vertical_efficiency
from ..units import quadrature
from .corrections import PhaseAcceptanceCorrection
from .differential_decay import t_method_radial_slope
from .phase_drift import oscillation_lines, slow_drift


def detector_maps(x_edges, y_edges, detector: dict, aperture_mm: float = APERTURE_MM) -> dict:
    """Acceptance, asymmetry and phase (rad) on the tracker's (x, y) grid from the detector model:
    eps = (1 + kappa x/a)(1 + eta y/a - zeta (y/a)^2), phi = phi_x x/a + phi_yy (y/a)^2.
    ``detector``: acceptance_radial, acceptance_radial_energy, acceptance_vertical,
    acceptance_vertical_quadratic, phase_radial_mrad, phase_vertical_quadratic_mrad."""
    xc = 0.5 * (np.asarray(x_edges)[1:] + np.asarray(x_edges)[:-1]) / aperture_mm
    yc = 0.5 * (np.asarray(y_edges)[1:] + np.asarray(y_edges)[:-1]) / aperture_mm
    kappa = t_method_radial_slope(detector["acceptance_radial"], detector["acceptance_radial_energy"])
    eps = np.outer(1.0 + kappa * xc, 1.0 + detector["acceptance_vertical"] * yc
                   - detector["acceptance_vertical_quadratic"] * yc**2)
    phase = (detector["phase_radial_mrad"] * 1e-3 * xc[:, None]
             + detector["phase_vertical_quadratic_mrad"] * 1e-3 * (yc**2)[None, :])
    return {"acceptance": np.clip(eps, 0.0, None), "asymmetry": np.ones_like(eps), "phase": phase}


def tracker_muon_distribution(h_txy, y_edges, vertical_falloff: float, aperture_mm: float = APERTURE_MM):
    """M^T(x, y, t): the vertex histogram with the trackers' vertical efficiency divided out."""
    yc = 0.5 * (np.asarray(y_edges)[1:] + np.asarray(y_edges)[:-1])
    return np.asarray(h_txy, dtype=float) / vertical_efficiency(yc, vertical_falloff, aperture_mm)[None, None, :]


def phase_acceptance_phase(m_txy, maps: dict) -> np.ndarray:
    """phi_pa(t) (rad) by Eq. 37 for a [time, x, y] muon distribution."""
    wa = maps["acceptance"] * maps["asymmetry"]
    s = np.einsum("txy,xy->t", m_txy, wa * np.sin(maps["phase"]))
    c = np.einsum("txy,xy->t", m_txy, wa * np.cos(maps["phase"]))
    return np.arctan2(s, c)


def betatron_averaged(t_us, h_txy, x_edges, f_cbo_mhz: float | None = None):
    """The vertex histogram averaged over one CBO period (found in the trackers' <x>(t)): the
    coherent radial motion leaves the distribution, which is then the betatron-phase average each
    muon contributes over a fill. (Eq. 37 on the raw distribution would turn the decohering CBO
    squared into a slow phase drift the omega_a fit's own CBO terms take care of.) Returns
    (times, averaged histogram, CBO frequency MHz)."""
    if f_cbo_mhz is None:
        n, mean, _ = radial_moments(h_txy, x_edges)
        lines = oscillation_lines(t_us, mean, n)
        if not lines:
            return np.asarray(t_us), np.asarray(h_txy, dtype=float), None
        f_cbo_mhz = lines[0]
    h, ok = period_average(h_txy, 1.0 / f_cbo_mhz, float(t_us[1] - t_us[0]))
    return np.asarray(t_us)[ok], h[ok], f_cbo_mhz


def phase_acceptance_slope(t_us, h_txy, y_edges, maps: dict, vertical_falloff: float, lines=None) -> dict:
    """phi_pa(t) of a (betatron-averaged) vertex histogram and the slope a constant-phase fit sees
    (rad/us), the remaining beam lines fitted out (``phase_drift.slow_drift``)."""
    m = tracker_muon_distribution(h_txy, y_edges, vertical_falloff)
    phi = phase_acceptance_phase(m, maps)
    n = np.einsum("txy,xy->t", m, maps["acceptance"])
    if lines is None:
        lines = oscillation_lines(t_us, phi, n)
    # per-bin variance of phi from the counts: the slope's error comes from replicas instead
    fit = slow_drift(t_us, phi, n, 1.0 / np.maximum(n, 1.0), lines)
    return {"slope": fit["slope"], "phi": phi, "counts": n, "lines": lines, "fit": fit}


def phase_acceptance_analysis(t_us, h_txy, x_edges, y_edges, detector: dict, vertical_falloff: float,
                              omega_a: float, variations: dict, replicas: int = 20, seed: int = 0,
                              averaged=None) -> PhaseAcceptanceCorrection:
    """C_pa (ppb) with its statistical error (Poisson replicas of M^T(x, y, t)) and systematics:
    the phase maps, the acceptance maps and the trackers' vertical efficiency, each varied by its
    relative ``variations`` entry (half the spread of the +- variations). ``averaged``: the
    (times, histogram, CBO MHz) of ``betatron_averaged`` if the caller has it already."""
    t, h, f_cbo = averaged if averaged is not None else betatron_averaged(t_us, h_txy, x_edges)

    def c_pa(hist=h, det=detector, falloff=vertical_falloff, lines=None):
        r = phase_acceptance_slope(t, hist, y_edges, detector_maps(x_edges, y_edges, det), falloff, lines)
        return -r["slope"] / omega_a * 1e9, r

    value, nominal = c_pa()
    rng = np.random.default_rng(seed)
    reps = []  # replicas of the recorded histogram, averaged like the nominal one
    for _ in range(replicas):
        hr = rng.poisson(h_txy).astype(float)
        if f_cbo:
            hr = betatron_averaged(t_us, hr, x_edges, f_cbo)[1]
        reps.append(c_pa(hr, lines=nominal["lines"])[0])
    groups = {"phase_maps": ("phase_radial_mrad", "phase_vertical_quadratic_mrad"),
              "acceptance_maps": ("acceptance_radial", "acceptance_radial_energy", "acceptance_vertical",
                                  "acceptance_vertical_quadratic")}
    syst = {}
    for name, rel in variations.items():
        if name == "tracker_efficiency":
            shifted = [c_pa(falloff=vertical_falloff * (1 + s * rel), lines=nominal["lines"])[0] for s in (-1, 1)]
        elif name in groups:
            shifted = [c_pa(det={**detector, **{k: detector[k] * (1 + s * rel) for k in groups[name]}},
                            lines=nominal["lines"])[0] for s in (-1, 1)]
        else:
            raise ValueError(f"phase_acceptance variation '{name}': expected phase_maps, acceptance_maps or "
                             f"tracker_efficiency")
        syst[f"{name} +-{rel:.0%}"] = 0.5 * abs(shifted[1] - shifted[0])
    record = {"C_pa_ppb": value, "stat_ppb": float(np.std(reps, ddof=1)) if len(reps) > 1 else float("nan"),
              "syst_ppb": quadrature(syst.values()), "systematics_ppb": syst,
              "cbo_mhz": f_cbo, "lines_mhz": nominal["lines"]}
    return PhaseAcceptanceCorrection("C_pa", record, t_us=t, phi_pa=nominal["phi"], phi_fit=nominal["fit"])


def period_average(h_t, period_us: float, bin_us: float):
    """Running average of a time-major array over exactly one oscillation period (``period_kernel``):
    a coherent betatron oscillation of that period (and its harmonics) averages out, leaving the
    betatron-phase-averaged beam. Returns (averaged array, mask of the bins a full period covers)."""
    from scipy.ndimage import convolve1d

    from .fast_rotation import period_kernel

    k = period_kernel(period_us, bin_us)
    out = convolve1d(np.asarray(h_t, dtype=float), k, axis=0, mode="nearest")
    ok = np.zeros(out.shape[0], bool)
    ok[k.size // 2: out.shape[0] - k.size // 2] = True
    return out, ok
