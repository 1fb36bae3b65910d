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


def test_kicker_pulses_vary_as_the_world_draws_them():
    # the world's campaign: M pulses, each eddy current off the mean by pulse_rms; the analysis's
    # mean-of-pulses error must be B_K pulse_rms / sqrt(M) on average over campaigns
    from g2chain.experiment.run_field_systems import transient_traces

    settings = {"trace": {"length_us": 700.0, "spacing_us": 0.5, "kicker_noise_ppb": 20.0, "esq_noise_ppb": 5.0,
                          "kicker_pulses": 6},
                "kicker": {"amplitude_ppb": -1175.0, "tau_us": 80.0, "pulse_rms": 0.45},
                "esq": {"amplitude_ppb": 100.0, "tau_us": 200.0, "frequency_hz": 100.0, "phase_rad": 0.0}}
    rng = np.random.default_rng(7)
    errs, means = [], []
    for _ in range(40):
        tr = transient_traces(settings, rng)
        assert tr["kicker_pulses"].shape == (6, tr["t_us"].size)
        b = transients.pulse_shifts(tr["t_us"], tr["kicker_pulses"], 2e-8, 0.075)
        means.append(np.mean(b))
        errs.append(np.std(b, ddof=1) / np.sqrt(len(b)))
    true_b = 0.075 * transients.precession_shift(lambda x: physics_transients.exponential_transient(x, -1175e-9, 80.0))
    # c4 bias of a 6-sample standard deviation: E[s] = 0.95 sigma
    assert np.mean(errs) == pytest.approx(0.95 * 0.45 * abs(true_b) / np.sqrt(6), rel=0.15)  # 3 x 0.3 / sqrt(40)
    assert np.std(means) == pytest.approx(0.45 * abs(true_b) / np.sqrt(6), rel=0.3)
    assert np.mean(means) == pytest.approx(true_b, rel=0.1)  # 3 x 0.45 / sqrt(6 x 40)
    # one pulse (the default world): no pulse record, the trace as before
    one = transient_traces({**settings, "trace": {**settings["trace"], "kicker_pulses": 1}}, rng)
    assert "kicker_pulses" not in one


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
