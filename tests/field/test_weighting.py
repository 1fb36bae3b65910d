"""The muon-weighting steps of the field branch: the tracker beam, the projections around the
ring, the weighted field."""

import math

import numpy as np
import pytest

from g2chain.field import weighting


def _gaussian_vertices(mx, sx, sy, res, n=2e6):
    edges = np.linspace(-60, 60, 81)
    c = 0.5 * (edges[1:] + edges[:-1])
    gx = np.exp(-0.5 * (c - mx) ** 2 / (sx**2 + res**2))
    gy = np.exp(-0.5 * c**2 / (sy**2 + res**2))
    eff = 1 - 0.5 * (c / 45.0) ** 2
    counts = np.outer(gx, gy * eff)
    counts *= n / counts.sum()
    return counts[None, None], edges, c


def test_tracker_beam_removes_the_acceptance_and_the_resolution():
    counts, edges, _ = _gaussian_vertices(5.0, 9.0, 12.0, 2.0)
    beam = weighting.tracker_beam(counts, edges, edges, np.array([30.0, 700.0]), 30.1 - 1.0, 2.0, 0.5)
    assert beam["x_mean"] == pytest.approx(5.0, abs=0.01)
    assert beam["x_rms"] == pytest.approx(9.0, abs=0.03) and beam["y_rms"] == pytest.approx(12.0, abs=0.03)
    naive = weighting.tracker_beam(counts, edges, edges, np.array([30.0, 700.0]), 29.0, 0.0, 0.0)
    assert naive["y_rms"] < 11.9  # the trackers' vertical efficiency narrows the raw profile
    with pytest.raises(ValueError, match="only 0 vertices"):
        weighting.tracker_beam(counts, edges, edges, np.array([30.0, 700.0]), 800.0, 2.0, 0.5)


def test_projections_around_the_ring_follow_the_closed_orbit():
    beam = {"x_mean": 5.0, "x_rms": 9.0, "y_rms": 12.0}
    phi = (np.arange(360) + 0.5) * 2 * np.pi / 360
    n = 0.108
    flat = np.full(phi.size, 61.79e6)
    k_flat = weighting.azimuthal_projections(beam, phi, flat, n)
    assert np.allclose(k_flat, weighting.gaussian_projections(5.0, 9.0, 12.0), atol=1e-12)
    # an N = 1 harmonic of b_1 = 2 ppm at phi_1 = 40 deg: x_cod = R0 b_1 / n cos(phi - phi_1) (Eq. 54)
    b1, phi1 = 2e-6, math.radians(40.0)
    k = weighting.azimuthal_projections(beam, phi, flat * (1 + b1 * np.cos(phi - phi1)), n)
    x_cod = 7112.0 * b1 / n * np.cos(phi - phi1)
    assert np.allclose(k[:, 1] - k_flat[:, 1], x_cod / 45.0, atol=1e-9)  # k_2 = <x> / r0
    # the weighted field: sum k_bar <m> plus the azimuthal covariance of k(phi) with the map
    m = np.zeros((phi.size, 12))
    m[:, 0] = 61.79e6
    m[:, 1] = 1000.0 + 500.0 * np.cos(phi - phi1)  # a normal quadrupole varying like the COD
    got = weighting.weighted_field(m.mean(axis=0), m, k)
    expected = np.mean(np.sum(m * k, axis=1))
    assert got == pytest.approx(expected, abs=1e-6)
    assert got - float(m.mean(axis=0) @ k.mean(axis=0)) == pytest.approx(0.5 * 500.0 * 7112 * b1 / n / 45, rel=1e-6)
