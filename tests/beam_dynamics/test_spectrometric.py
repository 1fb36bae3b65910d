"""The trackers' C_e method (spectrometric relation, Eq. 17-19) on a synthetic beam whose muons
all leave the inflector near one radius: the momentum spread comes back from the phase-dependent
radial moments, independent of the tracker resolution."""

import numpy as np
import pytest

from g2chain.beam_dynamics import fast_rotation
from g2chain.beam_dynamics.spectrometric import detected_mean_x2, tracker_efield
from g2chain.constants import OMEGA_C_MAGIC

N_IDX = 0.108
BIN_US = 4 * 0.1492
SETTINGS = {"window_us": [10.0, 50.0], "xi_momentum_correlation": 0.25, "smear_variation": 0.5,
            "acceptance_variation": 0.5}


def _synthetic_trackers(rng, n=3_000_000, resolution=2.0, skew=True):
    """Decay vertices [station, t, x, 1] of a beam with x_0 = x_i - x_e + w: x_e skewed (a
    Gaussian cut on one side, like the aperture does), betatron phase omega_CBO (t - t0) + phi_st
    minus the decay azimuth's advance."""
    x_e = rng.normal(5.0, 7.5, size=3 * n)
    if skew:
        x_e = x_e[x_e < 14.0]
    x_e = x_e[:n]
    m = x_e.size
    x_i = 16.0 + rng.normal(0.0, 2.0, m)
    px = rng.normal(0.0, 7.0, m)
    t = rng.uniform(9.0, 52.0, m)  # beyond the fit window: no partly filled bins
    t0 = rng.uniform(-0.06, 0.06, m)
    d = rng.uniform(0.05, 0.35, m)
    st = rng.integers(0, 2, m)
    omega = OMEGA_C_MAGIC * (1 - np.sqrt(1 - N_IDX))
    psi = omega * (t - t0) + np.where(st == 0, 0.3, 2.1) - d
    x = x_e + (x_i - x_e) * np.cos(psi) + px * np.sin(psi) + rng.normal(0, resolution, m)
    t_edges = np.arange(0.0, 60.0, BIN_US)
    x_edges = np.linspace(-60, 60, 41)
    h = np.zeros((2, t_edges.size - 1, 40, 1))
    for s in range(2):
        hh, _, _ = np.histogram2d(t[st == s], x[st == s], bins=[t_edges, x_edges])
        h[s, :, :, 0] = hh
    return h, x_edges, t_edges, x_e


@pytest.mark.parametrize("resolution", [1.0, 3.0])
def test_spectrometric_fit_recovers_the_momentum_spread(resolution):
    rng = np.random.default_rng(7)
    h, x_edges, t_edges, x_e = _synthetic_trackers(rng, resolution=resolution)
    r = tracker_efield(h, x_edges, t_edges, N_IDX, resolution, 0.0, 0.12, (0.05, 0.35), SETTINGS)
    true = fast_rotation.efield_coefficient(N_IDX) * np.mean(x_e**2)
    pull = (r["C_e"] - true) / r["stat"]
    print(f"res {resolution}: C_e {r['C_e'] * 1e9:.1f} +- {r['stat'] * 1e9:.1f} ppb, true {true * 1e9:.1f}, "
          f"pull {pull:+.2f}, chi2/ndf {r['fit']['chi2']:.0f}/{r['fit']['ndf']}, two-state "
          f"{r['C_e_two_state'] * 1e9:.1f}")
    assert abs(pull) < 3.0
    assert r["fit"]["chi2"] / r["fit"]["ndf"] < 1.3
    assert r["stat"] < 0.03 * true
    # the skewness is measured: the third moment of x_e
    k3 = np.mean((x_e - x_e.mean()) ** 3)
    assert abs(r["fit"]["params"]["K3"] - k3) < 4 * r["fit"]["errors"]["K3"]


def test_detected_mean_x2_is_the_acceptance_weighted_average():
    rng = np.random.default_rng(3)
    x = rng.gamma(4.0, 3.0, 2_000_000) - 6.0
    slope = 0.47
    w = 1 + slope * x / 45.0
    exact = np.average(x**2, weights=w)
    got = detected_mean_x2(x.mean(), x.var(), np.mean((x - x.mean()) ** 3), slope)
    assert got == pytest.approx(exact, rel=1e-9)


def _tracker_width_ratio(base_cfg, inflector_sigma_mm):
    """min/max of the trackers' radial variance over 10-30 us, from a small production."""
    from g2chain.beam_dynamics.spectrometric import radial_moment_series
    from g2chain.records import binning

    from ..conftest import produce

    views, _ = produce(base_cfg, positrons=1e6, beam={"inflector_sigma_x_mm": inflector_sigma_mm})
    t_edges = np.arange(binning.N_T_TRACK + 1) * binning.T_TRACK_US
    x_edges = np.linspace(-binning.XY_TRACK_MAX_MM, binning.XY_TRACK_MAX_MM, binning.N_XY_TRACK + 1)
    s = radial_moment_series(views["tracker"], x_edges, t_edges, (10.0, 30.0))
    v = s["var"][:, s["n"].min(0) > 100]
    return float(v.min() / v.max())


def test_the_ring_makes_the_spectrometric_relation(base_cfg):
    # every muon leaves the inflector near one radius: half a betatron period later the beam is
    # twice the momentum spread wide, at injection phase only the inflector spread and angles
    narrow = _tracker_width_ratio(base_cfg, 2.0)
    wide = _tracker_width_ratio(base_cfg, 15.0)
    print(f"min/max radial variance: inflector spread 2 mm {narrow:.2f}, 15 mm {wide:.2f}")
    assert narrow < 0.25
    assert wide > 2 * narrow
