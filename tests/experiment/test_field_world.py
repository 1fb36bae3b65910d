"""The field world: the structure the issue asks for, and its muon-weighted truth."""

import math

import numpy as np
import pytest

from g2chain.experiment import field_world
from g2chain.field.tracking import brownian_rate
from g2chain.records import field_layout

from ..helpers import M1
from ..helpers import PAPER_FIELD_TABLES as DATA
from ..helpers import small_field_world as _world


def test_static_map_has_the_configured_profile_and_means():
    w = _world()
    m1 = w.static[:, 0]
    assert m1.mean() == pytest.approx(M1, rel=1e-12)
    assert (m1.std() / M1) * 1e6 == pytest.approx(17.0, rel=1e-9)
    ratios = w.static[:, 1:].mean(axis=0) / M1 * 1e9
    assert np.allclose(ratios, DATA["table_xvii_multipole_ratios_ppb"]["run2"], atol=1e-6)
    assert len(w.access_s) == 9 and np.allclose(np.diff(w.access_s), 2.5 * field_world.DAY_S)
    again = _world()
    assert np.array_equal(again.static, w.static) and np.array_equal(again.untracked, w.untracked)


def test_untracked_walk_has_the_configured_brownian_rate():
    w = _world()
    # offsets of the untracked walk between consecutive trolley runs: variance M^2 T
    idx = np.searchsorted(w.t_s, w.access_s)
    rates = []
    for seed in range(8):
        u = _world(seed=seed + 10).untracked
        rates.append(brownian_rate(np.diff(u[idx]), np.diff(w.access_s))[0])
    assert np.mean(rates) == pytest.approx(0.018, rel=0.15)


def test_ramp_relaxation_and_muon_gaps():
    w = _world()
    r = field_world.ramp_relaxation(w, [0.0, 12 * 3600.0, 9.3 * field_world.DAY_S + 1.0])
    assert r[0] == pytest.approx(1.0) and r[1] == pytest.approx(math.exp(-1))
    assert r[2] == pytest.approx(math.exp(-1 / 43200) + math.exp(-9.3 * 24 / 12), rel=1e-9)
    # profile largest at the yoke boundaries, azimuthal mean as configured
    assert w.ramp_profile.mean() / M1 * 1e9 == pytest.approx(100.0)
    boundary = np.argmin(np.abs(w.phi - math.radians(30.0)))
    middle = np.argmin(np.abs(w.phi - math.radians(15.0)))
    assert w.ramp_profile[boundary] > 10 * w.ramp_profile[middle]
    assert np.all(w.muon_rate[np.abs(w.t_s - w.access_s[3]) < 3000] == 0)
    assert np.all(w.muon_rate[(w.t_s > 9.3 * field_world.DAY_S) & (w.t_s < 9.3 * field_world.DAY_S + 5 * 3600)] == 0)


def test_muon_weighted_moments_equal_the_brute_force_average():
    w = _world(azimuths=720, time_step_s=3600.0)
    wt = w.muon_rate / w.muon_rate.sum()
    brute = sum(wt[k] * field_world.moments_at(w, k).mean(axis=0) for k in range(w.t_s.size) if wt[k] > 0)
    assert np.allclose(field_world.muon_weighted_moments(w), brute, rtol=0, atol=1e-6)
    k = np.array(DATA["table_xviii_beam_projections"]["run2"])
    assert field_world.true_omega_p(w, k) == pytest.approx(float(brute @ k), abs=1e-6)


def test_tracking_between_trolley_runs_leaves_only_the_untracked_bridge():
    """Eq. 49 on the world itself: trolley maps at the runs, six-probe stations reading the
    world's field, Jacobian = identity on m_1..m_5. What tracking cannot follow is the untracked
    walk, and its error is the Brownian bridge between the runs."""
    from g2chain.field import fixed_probes, tracking
    w = _world(azimuths=720, time_step_s=1800.0, ramp_amplitude_ppb=0.0)
    run_idx = np.searchsorted(w.t_s, w.access_s)
    m_tr = np.stack([field_world.moments_at(w, k).mean(axis=0) for k in run_idx])
    # what six-probe stations read: the field at their probes from the station's own moments
    xy = field_layout.station_probe_positions(6)
    design = field_layout.station_design(6)
    station_field = w.static[np.searchsorted(w.phi, w.station_phi)]  # static moments near each station
    readings = (station_field[None, :, :] + np.pad(w.drift, ((0, 0), (0, 0), (0, 7)))) @ design.T  # (T, S, 6)
    fp = fixed_probes.station_moments(readings, 6)[..., :5]  # (T, S, 5)
    assert xy.shape == (6, 2)
    ties = np.stack([fixed_probes.tie(w.t_s, fp, w.t_s[k], window_s=1.0) for k in run_idx])
    jac = np.zeros((field_world.N_STATIONS, 12, 5))
    jac[:, np.arange(5), np.arange(5)] = 1.0
    wbar = field_world.periodic_linear_weights(w.phi, w.station_phi).mean(axis=0)
    tracked = tracking.track_azimuthal_average(w.t_s, w.access_s, m_tr, fp, ties, wbar, jac)
    truth = np.stack([field_world.moments_at(w, k).mean(axis=0) for k in range(w.t_s.size)])
    bridge = w.untracked - np.interp(w.t_s, w.access_s, w.untracked[run_idx])
    assert np.allclose(truth[:, 1:] - tracked[:, 1:], 0.0, atol=1e-6)
    assert np.allclose(truth[:, 0] - tracked[:, 0], bridge, atol=1e-6)
    with pytest.raises(ValueError, match="outside the trolley runs"):
        tracking.run_weights([w.access_s[-1] + 10.0], w.access_s)
