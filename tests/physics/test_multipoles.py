"""The multipole basis (Eq. 39) against its closed form."""

import numpy as np
import pytest

from g2chain.physics import multipoles


def test_basis_is_eq_39():
    x, y = 12.0, -7.0
    r, th = np.hypot(x, y) / 45.0, np.arctan2(y, x)
    f = multipoles.multipole_basis(x, y, 12)
    assert f[0] == 1.0
    assert f[1] == pytest.approx(r * np.cos(th)) and f[2] == pytest.approx(r * np.sin(th))
    assert f[3] == pytest.approx(r**2 * np.cos(2 * th)) and f[4] == pytest.approx(r**2 * np.sin(2 * th))
    assert f[11] == pytest.approx(r**6 * np.cos(6 * th))
