"""The fixed-probe stations as built: a four-probe station's design cannot resolve the normal
sextupole, and only four- and six-probe stations exist."""

import numpy as np
import pytest

from g2chain.records import field_layout


def test_four_probe_stations_cannot_see_the_normal_sextupole():
    a = field_layout.station_design(4)
    # (x^2 - y^2)/r0^2 is the same at all four probes: degenerate with the dipole
    assert np.ptp(a[:, 3]) < 1e-12 and np.linalg.matrix_rank(a[:, list(field_layout.STATION_MOMENTS[4])]) == 4
    with pytest.raises(ValueError, match="4 or 6 probes"):
        field_layout.station_probe_positions(5)
