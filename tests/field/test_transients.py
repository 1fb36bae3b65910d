"""Field transients: the five-parameter definition of B against analytic cases, and a noisy
kicker trace giving back its B_K."""

import numpy as np
import pytest

from g2chain.field import transients
from g2chain.physics import transients as physics_transients


def test_a_constant_transient_shifts_omega_by_itself():
    assert transients.precession_shift(lambda t: np.full_like(t, 40e-9)) == pytest.approx(40e-9, rel=1e-4)
    assert transients.precession_shift(lambda t: np.zeros_like(t)) == pytest.approx(0.0, abs=1e-13)


def test_shift_is_linear_and_weighted_towards_the_fill_start():
    b = 1e-6

    def decaying(t):
        return b * np.exp(-t / 50.0)

    one = transients.precession_shift(decaying)
    assert transients.precession_shift(lambda t: 2 * decaying(t)) == pytest.approx(2 * one, rel=1e-3)
    # a transient that has decayed by the fit start moves the phase, hardly the frequency
    assert abs(one) < b * np.exp(-30.1 / 50.0)
    late = transients.precession_shift(lambda t: b * (t > 300.0))
    assert 0 < late < b


def test_kicker_trace_gives_back_its_b_k():
    rng = np.random.default_rng(4)
    t = np.arange(0.0, 700.0, 0.5)
    truth = (-2.0e-7, 60.0)  # fractional field at the kicker, eddy-current decay time
    sigma = 2.0e-8
    trace = physics_transients.exponential_transient(t, *truth) + rng.normal(0.0, sigma, t.size)
    coverage = 0.085  # the kickers' share of the ring average
    out = transients.fit_kicker_trace(t, trace, sigma, coverage)
    true_b = coverage * transients.precession_shift(lambda x: physics_transients.exponential_transient(x, *truth))
    assert abs(out["B"] - true_b) < 3 * out["B_err"] and out["B_err"] > 0
    with pytest.raises(ValueError, match="not increasing"):
        transients.fit_kicker_trace(t[::-1], trace, sigma, coverage)


def test_esq_trace_gives_back_its_b_q():
    rng = np.random.default_rng(6)
    t = np.arange(0.0, 700.0, 0.5)
    truth = (3.0e-7, 2.0e4, 1.0e-4, 0.4)  # ~100 Hz vibration, slow to ring down
    sigma = 2.0e-8
    trace = physics_transients.esq_vibration(t, *truth) + rng.normal(0.0, sigma, t.size)
    coverage = 0.433  # the ESQs cover 43.3 % of the ring
    out = transients.fit_esq_trace(t, trace, sigma, coverage)
    true_b = coverage * transients.precession_shift(lambda x: physics_transients.esq_vibration(x, *truth))
    assert abs(out["B"] - true_b) < 3 * out["B_err"] + 1e-10
    assert abs(true_b) > 5 * out["B_err"]  # a measured, not a null, effect
