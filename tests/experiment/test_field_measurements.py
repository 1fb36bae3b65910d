"""NMR measurements of the field world: each one, analysed by the field library, gives back the
world's values within its noise."""

import numpy as np
import pytest

from g2chain.experiment import field_measurements, field_world
from g2chain.field import fixed_probes
from g2chain.field.multipoles import fit_multipoles
from g2chain.records import field_layout

from ..helpers import small_field_world as _world

NOISE = 5.0  # Hz: ~80 ppb per reading


def test_layout_has_378_probes():
    layout = field_measurements.station_layout()
    assert layout.size == 72 and layout.sum() == 378 and (layout == 6).sum() == 45


def test_moments_along_a_run_at_one_time_are_the_map_at_that_time():
    w = _world(azimuths=720, time_step_s=1800.0)
    k = 40
    assert np.allclose(field_world.moments_along(w, np.full(w.phi.size, w.t_s[k])), field_world.moments_at(w, k),
                       rtol=0, atol=1e-6)


def test_calibration_campaign_measures_the_probe_offsets():
    rng = np.random.default_rng(2)
    w = _world(azimuths=720)
    offsets = rng.normal(0.0, 60.0, 17)  # ~1 ppm per probe, like Table XXVIII
    trolley, calib = field_measurements.calibration_campaign(w, offsets, 40, NOISE, rng)
    est = (trolley - calib).mean(axis=1)
    err = NOISE * np.sqrt(2 + 0.09) / np.sqrt(40)
    assert np.all(np.abs(est - offsets) < 4 * err)


def test_trolley_run_gives_back_the_map_along_the_run():
    rng = np.random.default_rng(3)
    w = _world(azimuths=720, time_step_s=1800.0)
    offsets = rng.normal(0.0, 60.0, 17)
    readings = field_measurements.trolley_run(w, w.access_s, 2, 2.0, offsets, NOISE, rng)
    m, resid = fit_multipoles(readings - offsets)
    true = field_world.moments_along(w, field_measurements.run_times(w.access_s, 2, 2.0, w.phi))
    pull = (m[:, 0] - true[:, 0]) / (NOISE / np.sqrt(17))
    assert abs(pull.mean()) < 4 / np.sqrt(pull.size) and 0.8 < pull.std() < 1.2
    assert np.sqrt(np.mean(resid**2)) == pytest.approx(NOISE * np.sqrt(5 / 17), rel=0.1)  # 17 - 12 dof


def test_fixed_probes_and_the_footprint_tie():
    rng = np.random.default_rng(4)
    w = _world(azimuths=720, time_step_s=1800.0)
    series = field_measurements.fixed_probe_readings(w, NOISE, rng)
    layout = field_measurements.station_layout()
    near = np.searchsorted(w.phi, w.station_phi)
    for s in (0, 1):  # a six- and a four-probe station
        cols = list(field_layout.STATION_MOMENTS[layout[s]])
        m = fixed_probes.station_moments(series[s], layout[s])
        moments = np.tile(w.static[near[s]], (w.t_s.size, 1))
        moments[:, :5] += w.drift[:, s, :]
        # what the station's fit of noise-free readings gives: the static m_6..m_12, amplified at
        # r ~ 80 mm, enter it, and a four-probe station's "dipole" carries -2.48 m_4 (x^2 - y^2 is
        # the same at its four probes): what the tracking Jacobian has to undo
        true = fixed_probes.station_moments(moments @ field_layout.station_design(layout[s]).T, layout[s])
        a = field_layout.station_design(layout[s])[:, cols]
        sigma = NOISE * np.sqrt(np.diag(np.linalg.inv(a.T @ a)))  # per resolved moment
        diff = m[:, cols] - true[:, cols]
        diff -= diff.mean(axis=0)  # the static offset
        assert np.all(np.abs(diff) < 5.5 * sigma)
        assert 0.9 < np.std(diff / sigma) < 1.1
    times, readings, passes = field_measurements.fixed_probe_passages(w, w.access_s, 2.0, 300.0, 20.0, 300.0, 2.0,
                                                                      NOISE, rng)
    k, s = 3, 0
    m = fixed_probes.station_moments(readings[k][s], layout[s])[:, 0]
    clean = fixed_probes.remove_footprint(times[k, s], m, passes[k, s], half_width_s=100.0)
    tied = fixed_probes.tie(times[k, s], clean, passes[k, s])
    drift = np.interp(passes[k, s], w.t_s, w.drift[:, s, 0])
    expected = fixed_probes.station_moments(w.static[near[s]] @ field_layout.station_design(6).T, 6)[0] + drift
    # after the replacement the tie is the line between the two 30 s baselines (15 samples each);
    # a six-probe station's m_1 per sample carries the noise of its five-moment fit
    a = field_layout.station_design(6)[:, list(field_layout.STATION_MOMENTS[6])]
    sigma_m1 = NOISE * np.sqrt(np.linalg.inv(a.T @ a)[0, 0])
    assert abs(tied - expected) < 4 * sigma_m1 / np.sqrt(30)
    assert fixed_probes.tie(times[k, s], m, passes[k, s]) - expected > 100.0  # the footprint, if not removed
