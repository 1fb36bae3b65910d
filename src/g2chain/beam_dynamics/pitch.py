"""Pitch correction C_p (Run-2/3 report Sec. V B, Eq. 20-22) from the trackers' vertical decay
distributions.

After the vertical betatron motion has decohered, a muon of amplitude A sits at y = A cos(psi)
with psi uniform, so the measured profile is the amplitude distribution folded with the arcsine
kernel (and the vertex resolution). Two ways back to amplitude space, as the paper's method-1
and method-2:

* ``amplitude_moments``: moments, <y^2> = <A^2>/2 and <y^4> = 3<A^4>/8 after the resolution and
  the bin width are removed (a functional form: the arcsine relation);
* ``amplitude_distribution``: the amplitude histogram itself, unfolded from the profile by
  non-negative least squares with the arcsine kernel smeared by the resolution (data-driven).

Both then weight by the calorimeters' vertical acceptance, which averaged over the betatron phase
is 1 - zeta A^2 / (2 a^2) for an acceptance 1 + eta y/a - zeta (y/a)^2: C_p is the bias of the
positrons the calorimeters detect. Lengths in mm.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import nnls
from scipy.special import erf

from ..constants import APERTURE_MM, MAGIC_RADIUS_MM
from ..records.trackers import vertical_efficiency, vertices_in_window
from ..units import quadrature
from .corrections import PitchCorrection


def amplitude_moments(y_edges, density, resolution_mm: float) -> tuple[float, float]:
    """Method 1: (<A^2>, <A^4>) from the profile's moments about its mean, the resolution and the
    bin width (uniform within a bin) removed: <y^2> = <A^2>/2, <y^4> = 3 <A^4>/8."""
    edges = np.asarray(y_edges, dtype=float)
    yc, w = 0.5 * (edges[1:] + edges[:-1]), np.diff(edges)
    p = np.asarray(density, dtype=float) / np.sum(density)
    d = yc - p @ yc
    m2, m4 = p @ d**2, p @ d**4
    # remove independent smearings, innermost last: Gaussian resolution s, then the bin (uniform, u)
    for var, kurt in ((resolution_mm**2, 3.0), (float(np.mean(w)) ** 2 / 12.0, 1.8)):
        m4 = m4 - 6.0 * (m2 - var) * var - kurt * var**2
        m2 = m2 - var
    return 2.0 * m2, 8.0 * m4 / 3.0


def _kernel(y_edges, a_centres, resolution_mm: float, n_phase: int = 256) -> np.ndarray:
    """Probability that a muon of amplitude a lands in each y bin: y = a cos(psi), psi uniform,
    plus Gaussian resolution; [y bins, amplitudes]."""
    psi = (np.arange(n_phase) + 0.5) * np.pi / n_phase
    y = np.outer(np.cos(psi), a_centres)  # (phase, amplitude)
    edges = np.asarray(y_edges, dtype=float)
    s = max(resolution_mm, 1e-6) * np.sqrt(2.0)
    cdf = 0.5 * (1.0 + erf((edges[:, None, None] - y[None]) / s))  # (edges, phase, amplitude)
    return np.diff(cdf, axis=0).mean(axis=1)


def amplitude_distribution(y_edges, counts, efficiency, resolution_mm: float, a_max_mm: float = APERTURE_MM,
                           n_amplitudes: int = 30):
    """Method 2: the amplitude distribution unfolded from the measured profile (Poisson-weighted
    non-negative least squares, efficiency applied in the forward model). Returns (amplitude bin
    centres, weights summing to 1)."""
    a = (np.arange(n_amplitudes) + 0.5) * a_max_mm / n_amplitudes
    k = _kernel(y_edges, a, resolution_mm) * np.asarray(efficiency, dtype=float)[:, None]
    c = np.asarray(counts, dtype=float)
    sigma = np.sqrt(np.maximum(c, 1.0))
    w, _ = nnls(k / sigma[:, None], c / sigma)
    # the weights count muons seen through the efficiency: back to muons
    return a, w / w.sum()


def detected_mean_a2(a2: float, a4: float, zeta: float, aperture_mm: float = APERTURE_MM) -> float:
    """<A^2> of the muons whose positrons the calorimeters detect: weighted by the phase-averaged
    vertical acceptance 1 - zeta A^2 / (2 a^2)."""
    c = zeta / (2.0 * aperture_mm**2)
    return (a2 - c * a4) / (1.0 - c * a2)


def pitch_correction(mean_a2_mm2: float, field_index: float, radius_mm: float = MAGIC_RADIUS_MM) -> float:
    """Eq. 22: C_p = n <A^2> / (4 R0^2) (fractional)."""
    return field_index * mean_a2_mm2 / (4.0 * radius_mm**2)


def _profiles(h_xy, x_edges, y_edges, radial_slope: float, vertical_falloff: float, aperture_mm: float):
    """Vertical profile of an [x, y] vertex histogram weighted by the calorimeters' radial
    acceptance 1 + k x/a (linear in x: a pointwise weight gives its betatron-phase average), as
    counts and efficiency-corrected density, with the trackers' efficiency per y bin."""
    xc = 0.5 * (np.asarray(x_edges)[1:] + np.asarray(x_edges)[:-1])
    yc = 0.5 * (np.asarray(y_edges)[1:] + np.asarray(y_edges)[:-1])
    counts = (np.asarray(h_xy, dtype=float) * (1.0 + radial_slope * xc / aperture_mm)[:, None]).sum(axis=0)
    eff = vertical_efficiency(yc, vertical_falloff, aperture_mm)
    return counts, counts / eff, eff


def pitch_from_histogram(h_xy, x_edges, y_edges, field_index: float, resolution_mm: float, vertical_falloff: float,
                         acceptance: dict, aperture_mm: float = APERTURE_MM) -> dict:
    """C_p (ppb) by both methods from a time-integrated [x, y] vertex histogram; ``acceptance``:
    the calorimeters' ``radial`` slope k and ``vertical_quadratic`` zeta."""
    counts, dens, eff = _profiles(h_xy, x_edges, y_edges, acceptance["radial"], vertical_falloff, aperture_mm)
    zeta = acceptance["vertical_quadratic"]
    a2, a4 = amplitude_moments(y_edges, dens, resolution_mm)
    a, w = amplitude_distribution(y_edges, counts, eff, resolution_mm, aperture_mm)
    m1 = pitch_correction(detected_mean_a2(a2, a4, zeta, aperture_mm), field_index) * 1e9
    m2 = pitch_correction(detected_mean_a2(w @ a**2, w @ a**4, zeta, aperture_mm), field_index) * 1e9
    return {"method1": m1, "method2": m2, "C_p": 0.5 * (m1 + m2), "mean_A2_mm2": a2, "amplitudes_mm": a,
            "amplitude_weights": w}


def pitch_analysis(vertices, x_edges, y_edges, time_edges, window_us, field_index: float, resolution_mm: float,
                   vertical_falloff: float, acceptance: dict, variations: dict, n_boot: int = 40,
                   seed: int = 0) -> PitchCorrection:
    """C_p of one dataset with its uncertainties (ppb): the average of the two methods; the
    statistical error from Poisson replicas of the vertex histogram; systematics from the
    tracker resolution, the tracker efficiency shape and the calorimeter acceptance, each varied
    by its relative ``variations`` entry (half the spread of the +-variations); the two methods'
    difference as a method systematic."""
    h = vertices_in_window(vertices, time_edges, window_us)
    if h.sum() < 100:
        raise ValueError(f"trackers: only {h.sum():.0f} vertices in {window_us} us; cannot measure C_p")

    def run(hist=h, res=resolution_mm, falloff=vertical_falloff, acc=acceptance):
        return pitch_from_histogram(hist, x_edges, y_edges, field_index, res, falloff, acc)

    nominal = run()
    rng = np.random.default_rng(seed)
    boot = [run(rng.poisson(h).astype(float))["C_p"] for _ in range(n_boot)]
    syst = {}
    for name, rel in variations.items():
        if name == "resolution":
            shifted = [run(res=resolution_mm * (1 + s * rel))["C_p"] for s in (-1, 1)]
        elif name == "tracker_efficiency":
            shifted = [run(falloff=vertical_falloff * (1 + s * rel))["C_p"] for s in (-1, 1)]
        elif name in ("radial", "vertical_quadratic"):
            shifted = [run(acc={**acceptance, name: acceptance[name] * (1 + s * rel)})["C_p"] for s in (-1, 1)]
        else:
            raise ValueError(f"pitch variation '{name}': expected resolution, tracker_efficiency, radial or "
                             f"vertical_quadratic")
        syst[f"{name} +-{rel:.0%}"] = 0.5 * abs(shifted[1] - shifted[0])
    syst["method difference"] = 0.5 * abs(nominal["method1"] - nominal["method2"])
    stat = float(np.std(boot, ddof=1))
    total_syst = quadrature(syst.values())
    record = {"C_p_ppb": nominal["C_p"], "method1_ppb": nominal["method1"], "method2_ppb": nominal["method2"],
            "stat_ppb": stat, "syst_ppb": total_syst, "systematics_ppb": syst,
            "total_ppb": float(np.hypot(stat, total_syst)), "mean_A2_mm2": nominal["mean_A2_mm2"],
            "vertices": float(h.sum())}
    return PitchCorrection("C_p", record, amplitudes_mm=nominal["amplitudes_mm"],
                           amplitude_weights=nominal["amplitude_weights"])
