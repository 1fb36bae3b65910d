"""C_dd, C_ml and C_pa (Sec. V C-E) against analytic expectations on synthetic inputs."""

from __future__ import annotations

import numpy as np
import pytest

from g2chain.beam_dynamics import differential_decay, fast_rotation, muon_loss, phase_acceptance
from g2chain.beam_dynamics.phase_acceptance import period_average
from g2chain.beam_dynamics.phase_drift import drift_correction, oscillation_lines, slow_drift
from g2chain.constants import GAMMA_MAGIC, MAGIC_RADIUS_MM, OMEGA_REF, TAU_MU_US
from g2chain.numerics import weighted_slope

N_INDEX = 0.108
GT0 = GAMMA_MAGIC * TAU_MU_US


def _gaussian_population(sigma_x=9.0, mean_x=5.0, slope_tau_per_mm=0.0, n_x=81, n_tau=161, aligned=False):
    """A joint (x_e, tau) grid: Gaussian in x_e and in tau (35 ns), with <tau | x_e> moving
    linearly (the kicker's correlation); tau the injection times, or with ``aligned`` the times
    a calorimeter-aligned signal shows (the alignment delay added)."""
    x = np.linspace(-45, 45, n_x)
    h = np.linspace(-200, 200, n_tau)  # ns, wide enough that the shifted profile is not cut
    wx = np.exp(-0.5 * ((x - mean_x) / sigma_x) ** 2)
    shift = slope_tau_per_mm * (x - mean_x) + (fast_rotation.calorimeter_alignment_delay_ns(x) if aligned else 0.0)
    # a shift of the bunch by slope * x: rho(x, tau) = wx(x) * flat(tau - slope (x - mean))
    rho = wx[:, None] * np.exp(-0.5 * ((h[None, :] - shift[:, None]) / 35.0) ** 2)
    return differential_decay.joint_population({"rho": rho, "x_mm": x, "h_ns": h, "calorimeter_aligned": aligned},
                                               N_INDEX)


def test_the_calorimeters_alignment_delay_is_taken_out_of_the_injection_times():
    # calorimeter k's times are shifted by its azimuth at the magic period: a muon at x_e decays
    # on average half a turn in, (T_x - T0)/2 = T0 x_e / (2 R0) late (0.0105 ns/mm)
    assert fast_rotation.calorimeter_alignment_delay_ns(10.0) == pytest.approx(
        0.5 * 1e3 / fast_rotation.F0_MHZ * 10.0 / MAGIC_RADIUS_MM, rel=1e-12)
    assert fast_rotation.calorimeter_alignment_delay_ns(10.0) == pytest.approx(0.105, rel=0.01)
    slope = 0.87
    true = differential_decay.momentum_moments(_gaussian_population(slope_tau_per_mm=slope))
    seen = differential_decay.momentum_moments(_gaussian_population(slope_tau_per_mm=slope, aligned=True))
    assert seen["dtau_ddelta_us"] == pytest.approx(true["dtau_ddelta_us"], rel=1e-3)
    # left in, the delay would add T0 / (2 (1 - n)) to d<tau>/d delta: 1.4 % of the toy's slope
    raw = {**_gaussian_population(slope_tau_per_mm=slope, aligned=True)}
    raw["tau"] = raw["tau"] + 1e-3 * fast_rotation.calorimeter_alignment_delay_ns(raw["x_e"])
    extra = differential_decay.momentum_moments(raw)["dtau_ddelta_us"] - true["dtau_ddelta_us"]
    assert extra == pytest.approx(0.5 / fast_rotation.F0_MHZ / (1 - N_INDEX), rel=0.01)


def test_weighted_slope_and_oscillations_fitted_out():
    t = np.arange(30.0, 660.0, 0.6)
    n = 1e6 * np.exp(-t / GT0)
    line = 2e-3 + 1e-6 * t
    cbo = 1e-2 * np.exp(-t / 60.0) * np.cos(2 * np.pi * 0.372 * t + 0.3)
    assert weighted_slope(t, line, n) == pytest.approx(1e-6, rel=1e-9)
    # the decohering CBO biases a plain slope; found and fitted out it does not
    assert abs(weighted_slope(t, line + cbo, n) / 1e-6 - 1) > 0.1
    lines = oscillation_lines(t, line + cbo, n)
    assert lines and lines[0] == pytest.approx(0.372, abs=2e-3)
    fit = slow_drift(t, line + cbo, n, np.full_like(t, 1e-12), lines)
    assert fit["slope"] == pytest.approx(1e-6, rel=0.02)
    # one period's running average suppresses it (betatron-phase average; on 0.6 us samples of a
    # 2.69 us period the sampled fractional edges leave ~1.5 %, which the line fit then takes)
    avg, ok = period_average(cbo[:, None], 1 / 0.372, 0.6)
    assert np.max(np.abs(avg[ok, 0])) < 0.03 * np.max(np.abs(cbo))


def test_short_envelopes_would_absorb_an_early_drift():
    # a slow drift with an early transient (the part the decays weight most) and the lines the
    # 1 % Run-2/3 trackers leave: residual CBO, its f_a sideband, two lines near f_a
    t = np.arange(31.3, 658.6, 0.5968)
    n = 1e6 * np.exp(-t / GT0)
    slow = 3e-8 * t - 5e-6 * np.exp(-(t - t[0]) / 3.0)
    y = (slow + 5e-6 * np.exp(-t / 200.0) * np.cos(2 * np.pi * 0.371 * t) + 2e-6 * np.cos(2 * np.pi * 0.6 * t)
         + 1e-6 * np.cos(2 * np.pi * 0.229 * t))
    lines = [0.371, 0.6, 0.203, 0.238]
    truth = weighted_slope(t, slow, n)
    fit = slow_drift(t, y, n, 1.0 / n, lines)
    assert fit["slope"] == pytest.approx(truth, rel=0.005)
    # envelopes of 10 and 30 us let the close lines stand in for the early transient
    short = slow_drift(t, y, n, 1.0 / n, lines, (10.0, 30.0, 80.0, 250.0))
    assert abs(short["slope"] / truth - 1) > 0.02


def test_beamline_term_is_eq28_and_no_correlation_no_p_t0():
    pop = _gaussian_population()
    dphi = -1.35  # -13.5 mrad / % in rad per unit delta
    out = differential_decay.differential_decay_terms(pop, dphi, OMEGA_REF, (30.1, 660.0))
    expected = -dphi * out["var_delta"] / (OMEGA_REF * GT0)
    print(f"beamline {out['beamline'] * 1e9:.2f} ppb vs Eq. 28 {expected * 1e9:.2f}")
    assert out["beamline"] == pytest.approx(expected, rel=0.03)
    assert abs(out["p_t0"]) < 1e-11


def test_p_t0_term_is_eq33():
    slope = 0.87  # ns per mm of x_e: the toy's kicker correlation
    pop = _gaussian_population(slope_tau_per_mm=slope)
    out = differential_decay.differential_decay_terms(pop, 0.0, OMEGA_REF, (30.1, 660.0))
    # d<tau>/d delta = slope (ns/mm) x R0 / (1 - n)
    assert out["dtau_ddelta_us"] == pytest.approx(slope * 1e-3 * MAGIC_RADIUS_MM / (1 - N_INDEX), rel=0.02)
    eq33 = out["cov_delta_tau_us"] / GT0
    print(f"p-t0 {out['p_t0'] * 1e9:.1f} ppb vs Eq. 33 {eq33 * 1e9:.1f}")
    assert out["p_t0"] == pytest.approx(eq33, rel=0.03)
    assert 50e-9 < out["p_t0"] < 200e-9  # the toy's ~100 ppb scale


def test_muon_loss_correction_is_eq23():
    """A loss-driven radial drift of -5e-4 mm/us on top of differential decay's own gives
    C_ml = -(dphi/ddelta)_eff (1 - n)/R0 (drift) / omega_a."""
    pop = _gaussian_population(slope_tau_per_mm=0.87)
    t = np.arange(30.0, 660.0, 0.6)
    counts = 1e7 * np.exp(-t / GT0)
    dd = differential_decay.mean_radius_drift(pop, t, counts)
    assert dd == pytest.approx(np.sum(pop["weight"] * (pop["x_e"] - pop["weight"] @ pop["x_e"])
                                      * pop["delta"]) / GT0, rel=0.05)
    drift = {"slope_mm_per_us": dd - 5e-4, "slope_err": 1e-5, "t_us": t, "counts": counts}
    keff = muon_loss.effective_phase_slope(-1.35, 7.0, OMEGA_REF)
    assert keff == pytest.approx(-1.35 - 7.0 * OMEGA_REF)
    out = muon_loss.muon_loss_correction(drift, pop, keff, N_INDEX, OMEGA_REF)
    expected = -keff * (1 - N_INDEX) / MAGIC_RADIUS_MM * (-5e-4) / OMEGA_REF
    assert out["C_ml"] == pytest.approx(expected, rel=1e-6)
    assert out["C_ml"] < 0  # high momenta lost first, later muons of low delta: phase rises


def _shrinking_beam(t, y_rms0=13.0, dy2_dt=-0.01, n0=2e5):
    """Expected [t, x, y] counts of a beam whose <y^2> falls linearly (losses of large amplitudes)."""
    xe = np.linspace(-60, 60, 41)
    ye = np.linspace(-60, 60, 41)
    xc, yc = 0.5 * (xe[1:] + xe[:-1]), 0.5 * (ye[1:] + ye[:-1])
    s2 = y_rms0**2 + dy2_dt * (t - t[0])
    hx = np.exp(-0.5 * (xc / 10.0) ** 2)
    hy = np.exp(-0.5 * yc[None, :] ** 2 / s2[:, None]) / np.sqrt(s2)[:, None]
    n = n0 * np.exp(-t / GT0)
    h = n[:, None, None] * hx[None, :, None] * hy[:, None, :]
    return xe, ye, h / h.sum(axis=(1, 2), keepdims=True) * n[:, None, None], s2


def test_phase_acceptance_of_a_shrinking_vertical_width():
    """Flat acceptance, phase phi_yy (y/a)^2: phi_pa(t) = phi_yy <y^2>(t) / a^2 exactly, so
    C_pa = -phi_yy (d<y^2>/dt) / (a^2 omega_a)."""
    t = np.arange(30.0, 660.0, 0.6)
    xe, ye, h, s2 = _shrinking_beam(t)
    det = {"acceptance_radial": 0.0, "acceptance_radial_energy": 0.0, "acceptance_vertical": 0.0,
           "acceptance_vertical_quadratic": 0.0, "phase_radial_mrad": 0.0, "phase_vertical_quadratic_mrad": -5.0}
    maps = phase_acceptance.detector_maps(xe, ye, det)
    m = phase_acceptance.tracker_muon_distribution(h, ye, 0.0)
    phi = phase_acceptance.phase_acceptance_phase(m, maps)
    yc = 0.5 * (ye[1:] + ye[:-1])
    y2 = (m.sum(axis=1) @ yc**2) / m.sum(axis=(1, 2))
    np.testing.assert_allclose(phi, -5e-3 * y2 / 45.0**2, rtol=1e-5)
    c = drift_correction(t, phi, m.sum(axis=(1, 2)), OMEGA_REF)
    expected = 5e-3 * weighted_slope(t, y2, m.sum(axis=(1, 2))) / 45.0**2 / OMEGA_REF
    assert c == pytest.approx(expected, rel=1e-6) and c < 0
    # the full analysis (no CBO in this beam: no period averaging) on Poisson data
    rng = np.random.default_rng(3)
    out = phase_acceptance.phase_acceptance_analysis(t, rng.poisson(h).astype(float), xe, ye, det, 0.0, OMEGA_REF,
                                       {"phase_maps": 0.5}, replicas=8).record
    pull = (out["C_pa_ppb"] - c * 1e9) / out["stat_ppb"]
    print(f"C_pa {out['C_pa_ppb']:.1f} +- {out['stat_ppb']:.1f} ppb, expected {c * 1e9:.1f}")
    assert abs(pull) < 3
    assert out["systematics_ppb"]["phase_maps +-50%"] == pytest.approx(0.5 * abs(out["C_pa_ppb"]), rel=1e-3)


def test_period_kernel_spans_exactly_one_period():
    """The running average behind the fast-rotation ratio and the betatron average covers one
    period: whole bins plus two fractional edges adding up to period / bin (it was one bin wider)."""
    from g2chain.beam_dynamics.fast_rotation import period_kernel

    for period, bw in ((0.149185, 0.001), (0.149185, 0.004), (2.687, 0.5968), (0.3, 0.1)):
        k = period_kernel(period, bw)
        length = period / bw
        assert k.sum() == pytest.approx(1.0)
        assert k.size % 2 == 1 and 0.0 <= k[0] * length < 1.0
        assert (k.size - 2) + 2 * k[0] * length == pytest.approx(length)
