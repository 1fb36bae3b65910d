"""The Michel spectrum: number and asymmetry against the closed forms of the mixture."""

import numpy as np

from g2chain.physics import michel


def test_michel_mixture_is_exact():
    y = np.linspace(0, 1, 101)
    n, a = michel.michel_number(y), michel.michel_number(y) * michel.michel_asymmetry(y)
    assert np.allclose(n + a, 4 * (1 - y**3))
    assert np.allclose(n - a, 6 * (1 - y) ** 2 * (2 * y + 1))
    assert abs(michel.ASYMMETRY_ZERO_Y - 0.4215) < 1e-4
    assert abs(michel.michel_asymmetry(michel.ASYMMETRY_ZERO_Y)) < 1e-12
