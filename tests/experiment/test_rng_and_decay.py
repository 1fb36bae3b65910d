"""The generator and the Michel decay against analytic expectations."""

import numpy as np
from scipy import stats

from g2chain.experiment import decay
from g2chain.experiment.rng import fill_normal, fill_uniform, seed_state
from g2chain.physics import michel


def test_uniform_and_normal_moments():
    s = seed_state(7, 1)
    u = np.empty(2_000_000)
    fill_uniform(s, u)
    assert 0.0 < u.min() and u.max() <= 1.0
    assert abs(u.mean() - 0.5) < 5 * np.sqrt(1 / 12 / u.size)
    z = np.empty(2_000_000)
    fill_normal(s, z)
    assert abs(z.mean()) < 5 / np.sqrt(z.size)
    assert abs(z.var() - 1.0) < 5 * np.sqrt(2 / z.size)
    assert stats.kstest(z[:200_000], "norm").pvalue > 1e-3
    # the ziggurat tail beyond 3.65 sigma is populated at the right rate
    tail = np.mean(np.abs(z) > 4.0)
    assert abs(tail - 2 * stats.norm.sf(4.0)) < 5 * np.sqrt(2 * stats.norm.sf(4.0) / z.size)


def test_streams_differ_by_spawn_key_and_repeat_by_seed():
    assert not np.array_equal(seed_state(1, 2, 0), seed_state(1, 2, 1))
    assert np.array_equal(seed_state(1, 2, 0), seed_state(1, 2, 0))


def test_energy_sampling_follows_n_times_one_plus_a_cos():
    tables = decay.inverse_cdf_tables()
    rng = np.random.default_rng(3)
    for cos_theta in (-0.7, 0.0, 0.9):
        u = rng.random(400_000)
        y = np.array([decay.sample_energy_fraction(x, cos_theta, tables) for x in u[:400_000]])
        grid = np.linspace(0, 1, 2001)
        pdf = michel.michel_number(grid) * (1 + michel.michel_asymmetry(grid) * cos_theta) / 3.0
        cdf = np.concatenate([[0], np.cumsum(0.5 * (pdf[1:] + pdf[:-1]) * np.diff(grid))])
        assert stats.kstest(y, lambda v, c=cdf, g=grid: np.interp(v, g, c)).pvalue > 1e-3


def test_cos_sin_turns_matches_libm_to_rounding():
    from g2chain.experiment.trig import cos_sin_turns

    rng = np.random.default_rng(3)
    # small phases (truth), and betatron/spin phases up to 10^4 turns; the reference loses
    # ~r * 1e-16 rad forming 2 pi r, so compare in long double where it matters
    for r in (rng.uniform(-0.6, 0.6, 20000), rng.uniform(0.0, 1e4, 20000)):
        got = np.array([cos_sin_turns(v) for v in r[:2000]])
        ref = 2 * np.longdouble("3.14159265358979323846264338327950288") * r[:2000].astype(np.longdouble)
        assert np.max(np.abs(got[:, 0] - np.cos(ref))) < 1e-14  # a few ulp; libm itself is ~1 ulp
        assert np.max(np.abs(got[:, 1] - np.sin(ref))) < 1e-14
    # exact quadrant points
    for r, (c, s) in ((0.0, (1, 0)), (0.25, (0, 1)), (0.5, (-1, 0)), (-0.25, (0, -1)), (3.75, (0, -1))):
        got = cos_sin_turns(r)
        assert abs(got[0] - c) < 1e-15 and abs(got[1] - s) < 1e-15
