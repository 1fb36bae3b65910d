"""The field a muon samples (experiment/muon_field.py) against brute-force averages of the world's
map, the closed orbit against its analytic harmonics, the transient phases against quadrature."""

import math

import numpy as np
import pytest
from scipy.integrate import quad

from g2chain.experiment import muon_field
from g2chain.experiment.field_world import moments_at, muon_weighted_map, muon_weighted_moments
from g2chain.physics.multipoles import multipole_basis
from g2chain.physics.ring import radial_cod

from ..helpers import M1, small_field_world


@pytest.fixture(scope="module")
def world():
    return small_field_world(seed=3)


@pytest.fixture(scope="module")
def field(world):
    settings = {"kicker": {"amplitude_ppb": -2000.0, "tau_us": 80.0, "coverage": 0.1},
                "esq": {"amplitude_ppb": -100.0, "tau_us": 2e4, "frequency_hz": 100.0, "phase_rad": 0.4,
                        "coverage": 0.4}}
    return muon_field.muon_field(world, settings, 0.108, M1, 1.44, 700.0)


@pytest.mark.parametrize("x_e, a_x, a_y", [(0.0, 0.0, 0.0), (7.0, 12.0, 15.0), (-20.0, 30.0, 5.0)])
@pytest.mark.parametrize("t_index", [0, 200])
def test_orbit_polynomial_is_the_map_averaged_over_the_orbit(world, field, x_e, a_x, a_y, t_index):
    # brute force: the map at that time on the orbit x_e + x_cod(phi) + A_x cos psi, y = A_y cos chi,
    # averaged over phi and 16 x 16 betatron phases (exact for the degree-6 f_i)
    x_cod = muon_field.closed_orbit(world.static[:, 0], world.phi, 0.108)
    psi = (np.arange(16) + 0.5) * 2 * np.pi / 16
    x = x_e + x_cod[:, None, None] + a_x * np.cos(psi)[None, :, None] + 0 * psi
    y = a_y * np.cos(psi)[None, None, :] + 0 * x
    b = np.einsum("iaxy,ai->a", multipole_basis(x, y), moments_at(world, t_index)).mean() / 256
    r0 = 45.0
    got = muon_field.orbit_field_fraction(field.coef[t_index], x_e / r0, (a_x / r0) ** 2, (a_y / r0) ** 2)
    assert got == pytest.approx(b / M1 - 1, abs=1e-14)


def test_closed_orbit_harmonics():
    phi = (np.arange(3600) + 0.5) * 2 * np.pi / 3600
    n, b1, b3 = 0.108, 5e-6, 8e-6
    one = M1 * (1 + b1 * np.cos(phi - 0.7))
    # N = 1: R0 b_1 / n, as Eq. 54 (the analysis keeps only this term)
    assert np.allclose(muon_field.closed_orbit(one, phi, n), radial_cod(one, phi, n), atol=1e-9)
    three = M1 * (1 + b3 * np.sin(3 * phi))
    assert np.allclose(muon_field.closed_orbit(three, phi, n), 7112.0 * b3 / (9 - 1 + n) * np.sin(3 * phi), atol=1e-9)


def test_transient_phases_are_the_integrated_fields(field):
    omega, t = 1.44, 333.3
    kick = omega * 0.1 * quad(lambda s: -2e-6 * math.exp(-s / 80.0), 0, t)[0]
    esq = omega * 0.4 * quad(lambda s: -1e-7 * math.exp(-s / 2e4) * math.sin(2 * math.pi * 1e-4 * s + 0.4), 0, t)[0]
    assert muon_field.transient_phase(field.transient_phase[0], t) == pytest.approx(kick, rel=1e-6)
    assert muon_field.transient_phase(field.transient_phase[1], t) == pytest.approx(esq, rel=1e-6)
    assert muon_field.transient_phase(field.transient_phase[0], -0.05) == 0.0


def test_fills_follow_the_muon_schedule(world, field):
    # fills evenly spread over the schedule see the muon-rate-weighted field; none falls where no
    # muons are stored (accesses, after a ramp)
    q = (np.arange(4000) + 0.5) / 4000
    rows = np.array([muon_field.fill_field(field, x) for x in q])
    times = np.array([muon_field.fill_coefficients(field.t_s, field.coef, field.schedule, x, np.empty(30)) for x in q])
    rate = np.interp(times, world.t_s, world.muon_rate)
    assert rate.min() > 0
    weights = world.muon_rate / world.muon_rate.sum()
    assert np.allclose(rows.mean(axis=0), weights @ field.coef, rtol=0, atol=2e-11)  # 1 mHz of 62 MHz
    # the constant term (a muon on the closed orbit, no betatron motion) is the ring's mean dipole
    # plus each normal 2n-pole seen along the closed orbit, <m_2n (x_cod / r0)^n>
    m = muon_weighted_map(world)
    x_cod = muon_field.closed_orbit(world.static[:, 0], world.phi, 0.108) / 45.0
    on_orbit = m[:, 0].mean() + sum(np.mean(m[:, 2 * n - 1] * x_cod**n) for n in range(1, 7))
    assert (weights @ field.coef[:, 0] + 1) * M1 == pytest.approx(on_orbit, abs=1e-6)
    assert abs(on_orbit - muon_weighted_moments(world)[0]) > 0.05  # the closed orbit matters here (> 1 ppb)


def test_the_kickers_eddy_field_follows_the_datasets_kick():
    """The eddy currents follow the kicker current: Run-3b's 161 kV against the 142 kV the
    amplitude is quoted at gives 161/142 of it, and the transient phase (linear in it) follows."""
    settings = {"kicker": {"amplitude_ppb": -2000.0, "reference_kV": 142.0, "tau_us": 80.0, "coverage": 0.1},
                "esq": {"amplitude_ppb": -100.0, "tau_us": 2e4, "frequency_hz": 100.0, "phase_rad": 0.4,
                        "coverage": 0.4}}
    kicked = muon_field.with_kick(settings, 161.0)
    assert kicked["kicker"]["amplitude_ppb"] == pytest.approx(-2000.0 * 161.0 / 142.0)
    assert kicked["esq"] == settings["esq"] and settings["kicker"]["amplitude_ppb"] == -2000.0  # a copy
    assert muon_field.with_kick(settings, 142.0)["kicker"]["amplitude_ppb"] == -2000.0
    ref, strong = (muon_field.transient_phase_tables(s, 1.44, 700.0) for s in (settings, kicked))
    assert strong[0] == pytest.approx(ref[0] * 161.0 / 142.0) and np.array_equal(strong[1], ref[1])


def test_orbit_polynomial_follows_the_monomial_order():
    # every coefficient in its MONOMIALS place: random coefficients against the plain sum
    rng = np.random.default_rng(3)
    g = rng.normal(size=muon_field.N_COEF)
    for u, qx, qy in rng.uniform(-0.7, 0.7, (5, 3)):
        p, q, r = muon_field.MONOMIALS.T
        want = np.sum(g * u**p * qx**q * qy**r)
        assert muon_field.orbit_field_fraction(g, u, qx, qy) == pytest.approx(want, rel=1e-13, abs=1e-15)


def test_the_block_orbit_polynomial_equals_the_muon_by_muon_one():
    # the production kernel evaluates a block of muons in one vectorized loop, under fastmath
    from numba import njit

    @njit(fastmath=True)
    def block(g, u, qx, qy):
        out = np.empty(u.size)
        muon_field.orbit_field_fraction_block(g, u, qx, qy, u.size, out)
        return out

    rng = np.random.default_rng(5)
    g = rng.normal(size=muon_field.N_COEF)
    u, qx, qy = rng.uniform(-0.7, 0.7, (3, 300))
    want = np.array([muon_field.orbit_field_fraction(g, *v) for v in zip(u, qx, qy, strict=True)])
    np.testing.assert_allclose(block(g, u, qx, qy), want, rtol=1e-13, atol=1e-15)
