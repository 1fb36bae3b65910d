"""Field branch, step by step against analytic expectations: multipole fits, beam projections,
Brownian-bridge tracking uncertainty."""

import numpy as np
import pytest

from g2chain.field import multipoles, tracking, weighting
from g2chain.physics import multipoles as physics_multipoles

from ..helpers import PAPER_FIELD_TABLES as DATA


def _known_field(n_azimuths=50, seed=1):
    """Moments of a ring-like field: m_1 = 61.79 MHz with a ppm-scale azimuthal profile, higher
    moments of tens of ppb to ppm (Hz)."""
    rng = np.random.default_rng(seed)
    m = rng.normal(0.0, 30.0, size=(n_azimuths, 12)) * np.array([0, 1, 1, 1, 1, 0.5, 0.5, 0.3, 0.3, 0.2, 0.2, 0.1])
    m[:, 0] = 61.79e6 + rng.normal(0.0, 1000.0, n_azimuths)
    return m


def _probe_readings(m, xy):
    """What the 17 probes at xy read at each azimuth of the moments m [azimuths x 12]."""
    return physics_multipoles.field_from_multipoles(m, np.broadcast_to(xy[:, 0], (len(m), 17)),
                                    np.broadcast_to(xy[:, 1], (len(m), 17)))


def test_known_moments_recovered_exactly_at_n_max_12():
    m = _known_field()
    xy = multipoles.trolley_probe_positions()
    freqs = _probe_readings(m, xy)
    fit, resid = multipoles.fit_multipoles(freqs)
    assert np.max(np.abs(fit - m)) < 1e-6  # Hz, on 61.79 MHz
    assert np.max(np.abs(resid)) < 1e-6


def test_truncation_error_appears_below_n_max_12():
    m = _known_field()
    xy = multipoles.trolley_probe_positions()
    freqs = _probe_readings(m, xy)
    rms = []
    for n_max in (12, 9, 6, 3):
        fit, resid = multipoles.fit_multipoles(freqs, n_max=n_max)
        rms.append(float(np.sqrt(np.mean(resid**2))))
        # the harmonics are orthogonal on the probe rings, so m_1 stays right; the truncation
        # shows in the residuals and in the field between the probes, where the muons are
        xq, yq = np.array([20.0, -10.0, 30.0]), np.array([10.0, 25.0, -15.0])
        err = np.abs(fit @ multipoles.multipole_basis(xq, yq, n_max) - m @ multipoles.multipole_basis(xq, yq, 12))
        assert (np.max(err) < 1e-6) if n_max == 12 else (np.max(err) > 1e-2)
    assert rms[0] < 1e-6 and rms[1] > 1e-3 and rms[1] < rms[2] < rms[3]


def test_a_dead_probe_is_fitted_around_or_named():
    m = _known_field(4)
    xy = multipoles.trolley_probe_positions()
    freqs = _probe_readings(m, xy)
    freqs[1, 3] = np.nan  # an inner probe: the 12 outer ones still resolve all 12 moments
    fit, resid = multipoles.fit_multipoles(freqs)
    assert np.max(np.abs(fit - m)) < 1e-6 and np.isnan(resid[1, 3])
    freqs[2, 5:17:2] = np.nan  # six outer probes: 11 live ones cannot give 12 moments
    with pytest.raises(ValueError, match="dead probe"):
        multipoles.fit_multipoles(freqs)


def test_beam_projections_of_a_gaussian_beam():
    x = np.linspace(-60, 60, 241)
    y = np.linspace(-60, 60, 241)
    x0, y0, sx, sy = 4.0, -1.5, 9.0, 7.0
    dens = np.exp(-0.5 * ((x[:, None] - x0) / sx) ** 2 - 0.5 * ((y[None, :] - y0) / sy) ** 2)
    k = weighting.beam_projections(dens, x, y)
    r0 = 45.0
    assert k[0] == pytest.approx(1.0)
    assert k[1] == pytest.approx(x0 / r0, abs=1e-6) and k[2] == pytest.approx(y0 / r0, abs=1e-6)
    # <r^2 cos 2 theta> = <x^2 - y^2>, <r^2 sin 2 theta> = <2 x y>
    assert k[3] == pytest.approx((x0**2 + sx**2 - y0**2 - sy**2) / r0**2, abs=1e-5)
    assert k[4] == pytest.approx(2 * x0 * y0 / r0**2, abs=1e-6)
    with pytest.raises(ValueError, match="density: negative"):
        weighting.beam_projections(-dens, x, y)


@pytest.mark.parametrize("dataset", ["run2", "run3a", "run3b"])
def test_paper_tables_give_their_muon_weighted_shift(dataset):
    ratios = np.array([0.0] + DATA["table_xvii_multipole_ratios_ppb"][dataset])  # m_i / m_1 in ppb, i >= 2
    k = np.array(DATA["table_xviii_beam_projections"][dataset])
    m1 = 61.79e6
    moments = m1 * np.concatenate([[1.0], ratios[1:] * 1e-9])
    shift_ppb = (weighting.muon_weighted_field(moments, k) / m1 - 1.0) * 1e9
    # by hand: sum_{i>=2} k_i (m_i/m_1); the quadrupole and sextupole terms dominate
    expected = {"run2": 0.139 * 331 - 0.001 * 611 + 0.001 * -310 + 0.081 * 383 - 0.001 * 217 - 0.002 * -24
                + 0.001 * 23 - 0.004 * -697 - 0.001 * -1068,
                "run3a": 0.136 * -113 - 0.006 * -6 - 0.001 * 23 + 0.076 * 40 - 0.001 * -9 - 0.001 * 127
                - 0.001 * -22 + 0.001 * 15 - 0.003 * -725 - 0.001 * -1056,
                "run3b": 0.073 * -14 - 0.005 * -43 + 0.046 * 35 - 0.006 * 127 + 0.003 * -21 + 0.001 * -727
                + 0.001 * -1057}[dataset]
    assert shift_ppb == pytest.approx(expected, abs=1e-6)
    assert abs(shift_ppb) < 100  # tens of ppb: the muons sit near the field's centre


def test_brownian_bridge_matches_simulated_random_walks():
    rng = np.random.default_rng(5)
    rate, day = 0.018, 86400.0
    runs = np.arange(0, 31) * 3 * day  # a trolley run every 3 days for 90 days
    t = np.linspace(runs[0], runs[-1], 3001)
    reps = 1500
    steps = rng.normal(0.0, rate * np.sqrt(np.diff(t)), size=(reps, t.size - 1))
    walk = np.concatenate([np.zeros((reps, 1)), np.cumsum(steps, axis=1)], axis=1)
    tracked = np.stack([np.interp(t, runs, np.interp(runs, t, w)) for w in walk])  # linear between runs
    error = walk - tracked
    mid = (t > runs[4]) & (t < runs[5])
    expected_var = tracking.brownian_bridge_variance(t[mid], runs[4], runs[5], rate)
    assert np.allclose(error[:, mid].var(axis=0)[5:-5], expected_var[5:-5], rtol=0.15)
    # the muon-weighted (uniform) dataset average
    sim = error.mean(axis=1).std()
    assert sim == pytest.approx(tracking.dataset_bridge_uncertainty(runs, rate), rel=0.1)


def test_bridge_uncertainty_scales_with_the_trolley_interval():
    rate, day = 0.018, 86400.0
    span = 120 * day
    per_run = {}
    total = {}
    for interval in (3, 6):
        runs = np.arange(0, span + 1, interval * day)
        per_run[interval] = np.sqrt(tracking.interval_average_variance(interval * day, rate))
        total[interval] = tracking.dataset_bridge_uncertainty(runs, rate)
    # one interval's average: sqrt(2) for twice the interval; the dataset average over a fixed
    # span (half as many independent intervals, each sqrt(2) worse): a factor 2
    assert per_run[6] / per_run[3] == pytest.approx(np.sqrt(2), rel=1e-12)
    assert total[6] / total[3] == pytest.approx(2.0, rel=1e-9)
    # muons given explicitly, uniform: the same as the analytic uniform case
    runs = np.arange(0, span + 1, 3 * day)
    muons = np.linspace(0, span, 4000, endpoint=False) + span / 8000
    assert tracking.dataset_bridge_uncertainty(runs, rate, muons) == pytest.approx(total[3], rel=0.02)
    with pytest.raises(ValueError, match="not increasing"):
        tracking.dataset_bridge_uncertainty([0.0, 5.0, 5.0], rate)


def test_brownian_rate_from_tracking_offsets():
    rng = np.random.default_rng(9)
    rate, intervals = 0.018, rng.uniform(2, 3, 400) * 86400.0
    offsets = rng.normal(0.0, rate * np.sqrt(intervals))
    m, err = tracking.brownian_rate(offsets, intervals)
    assert abs(m - rate) < 3 * err and err == pytest.approx(rate / np.sqrt(800), rel=0.1)


def test_gaussian_projections_match_the_grid_integral():
    x = np.linspace(-70, 70, 561)
    xm, xr, yr = 5.0, 9.0, 8.0
    dens = np.exp(-0.5 * ((x[:, None] - xm) / xr) ** 2 - 0.5 * (x[None, :] / yr) ** 2)
    assert np.allclose(weighting.gaussian_projections(xm, xr, yr), weighting.beam_projections(dens, x, x), atol=2e-6)
    per_phi = weighting.gaussian_projections(np.array([0.0, 5.0]), np.array([9.0, 9.0]), np.array([8.0, 8.0]))
    assert per_phi.shape == (2, 12) and per_phi[1, 1] == pytest.approx(5.0 / 45.0)


def test_radial_cod_from_the_dipole_harmonic():
    phi = (np.arange(3600) + 0.5) * 2 * np.pi / 3600
    m1 = 61.79e6 * (1 + 10e-6 * np.cos(phi - 0.7) + 5e-6 * np.cos(3 * phi))
    cod = weighting.radial_cod(m1, phi, field_index=0.108)
    # R0 b_1 / n = 7112 mm x 10 ppm / 0.108 = 0.66 mm (the paper: 0.6-1.5 mm in Run-2)
    assert np.max(cod) == pytest.approx(7112.0 * 10e-6 / 0.108, rel=1e-6)
    assert phi[np.argmax(cod)] == pytest.approx(0.7, abs=2e-3)


def test_beam_extrapolation_eq_50_to_53():
    x_mean, x_rms, y_rms = weighting.extrapolate_beam(10.0, 8.0, beta_x=[8.0, 10.0], beta_y=[20.0, 18.0],
                                              dispersion=[8.0, 9.0], beta_x_tkr=8.0, beta_y_tkr=20.0,
                                              dispersion_tkr=8.0, delta_mean=0.7, delta_rms=1.0)
    # at the tracker's own optics nothing changes; elsewhere the betatron part scales with beta
    assert x_rms[0] == pytest.approx(10.0) and y_rms[0] == pytest.approx(8.0)
    assert x_rms[1] == pytest.approx(np.sqrt(10 / 8 * (100 - 64) + 81))
    assert y_rms[1] == pytest.approx(8.0 * np.sqrt(18 / 20)) and x_mean[1] == pytest.approx(9.0 * 0.7)
    with pytest.raises(ValueError, match="dispersive part"):
        weighting.extrapolate_beam(5.0, 8.0, 8.0, 20.0, 8.0, 8.0, 20.0, 8.0, 0.0, 1.0)
