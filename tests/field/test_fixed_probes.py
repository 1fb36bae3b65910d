"""Fixed-probe stations: which moments they resolve, footprint removal and tying (Eq. 48)."""

import numpy as np
import pytest

from g2chain.field import fixed_probes
from g2chain.field.multipoles import multipole_basis
from g2chain.records import field_layout


@pytest.mark.parametrize("n", [6, 4])
def test_station_resolves_its_moments(n):
    m = np.zeros(12)
    m[list(field_layout.STATION_MOMENTS[n])] = [61.79e6, 40.0, -25.0, 12.0, -8.0][
        : len(field_layout.STATION_MOMENTS[n])]
    xy = field_layout.station_probe_positions(n)
    readings = m @ multipole_basis(xy[:, 0], xy[:, 1], 12)
    got = fixed_probes.station_moments(readings, n)
    cols = list(field_layout.STATION_MOMENTS[n])
    assert np.allclose(got[cols], m[cols], atol=1e-6)
    assert np.all(np.isnan(np.delete(got, cols)))


def test_footprint_is_replaced_by_the_line_through_its_surroundings():
    t = np.arange(0.0, 600.0, 2.0)
    line = 100.0 + 0.05 * t
    bump = line + 30.0 * np.exp(-0.5 * ((t - 300.0) / 5.0) ** 2)
    fixed = fixed_probes.remove_footprint(t, bump, 300.0, half_width_s=40.0)  # the bump is gone by 40 s (8 sigma)
    assert np.allclose(fixed, line, atol=1e-9)
    assert fixed_probes.tie(t, fixed, 300.0) == pytest.approx(100.0 + 0.05 * 300.0)
    with pytest.raises(ValueError, match="both sides"):
        fixed_probes.remove_footprint(t, bump, 5.0, half_width_s=20.0)


def test_gaps_are_bridged_or_named_and_time_must_increase():
    t = np.arange(0.0, 6000.0, 600.0)
    y = np.column_stack([100.0 + 0.01 * t, 50.0 - 0.02 * t])
    holed = y.copy()
    holed[3:5] = np.nan  # 1800 s between the neighbours
    assert np.allclose(fixed_probes.fill_gaps(t, holed, 3600.0), y)
    with pytest.raises(ValueError, match="station 7: gap of 1800 s"):
        fixed_probes.fill_gaps(t, holed, 1200.0, "station 7")
    holed[:1] = np.nan
    with pytest.raises(ValueError, match="no readings at the start"):
        fixed_probes.fill_gaps(t, holed, 3600.0)
    with pytest.raises(ValueError, match="not increasing at sample 5"):
        fixed_probes.fill_gaps(np.r_[t[:5], t[3], t[6:]], y, 3600.0)
