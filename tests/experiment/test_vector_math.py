"""The kernel's vectorizable exp, log and normal pairs, and its lane generator."""

import numpy as np
from numba import njit
from scipy import stats

from g2chain.experiment import rng as kernel_rng
from g2chain.experiment.vector_math import exp_v, log_v, normal_pair_v


@njit(error_model="numpy", fastmath=True)
def _apply(kind, x):
    out = np.empty(x.size)
    for i in range(x.size):
        out[i] = exp_v(x[i]) if kind == 0 else log_v(x[i])
    return out


@njit(error_model="numpy", fastmath=True)
def _normals(u1, u2):
    z = np.empty(2 * u1.size)
    for i in range(u1.size):
        z[2 * i], z[2 * i + 1] = normal_pair_v(u1[i], u2[i])
    return z


@njit
def _draw(lanes, n):
    out = np.empty(n)
    kernel_rng.fill_uniforms(lanes, out, n)
    return out


def test_exp_matches_numpy_over_the_kernels_arguments():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.uniform(-700.0, 700.0, 200_000), rng.uniform(-1.0, 1.0, 200_000),
                        [0.0, -0.3465735902799726, 0.3465735902799726, -708.0, 709.0]])
    rel = np.abs(_apply(0, x) / np.exp(x) - 1.0)
    # fastmath may fold the two-part reduction x - k ln2: the error grows as |x| 1e-16
    assert np.max(rel[np.abs(x) < 30.0]) < 4e-15
    assert np.max(rel) < 1e-13
    assert _apply(0, np.array([-1e4]))[0] == _apply(0, np.array([-708.0]))[0] > 2.2e-308  # clamped: never 0 or denormal


def test_log_matches_numpy_from_the_smallest_uniform_to_large_values():
    rng = np.random.default_rng(2)
    # a uniform's range (0, 1] down to 2^-53, and beyond
    x = np.concatenate([rng.random(200_000) + 2.0**-53, 10.0 ** rng.uniform(-300, 300, 100_000),
                        [2.0**-53, 0.5, 1.0, np.sqrt(2.0), np.nextafter(1.0, 0.0), np.nextafter(1.0, 2.0)]])
    got = _apply(1, x)
    ref = np.log(x)
    err = np.abs(got - ref) / np.maximum(np.abs(ref), 1.0)
    assert np.max(err) < 1e-15
    assert _apply(1, np.array([1.0]))[0] == 0.0


def test_box_muller_pairs_are_independent_standard_normals():
    rng = np.random.default_rng(3)
    u1, u2 = 1.0 - rng.random((2, 1_000_000))  # (0, 1], as the kernel's uniforms
    z = _normals(u1, u2)
    a, b = z[0::2], z[1::2]
    n = a.size
    for v in (a, b):
        assert abs(v.mean()) < 5 / np.sqrt(n)
        assert abs(v.var() - 1.0) < 5 * np.sqrt(2 / n)
        assert stats.kstest(v[:200_000], "norm").pvalue > 1e-3
        tail = np.mean(np.abs(v) > 4.0)  # the tails, which Box-Muller reaches through log u1
        assert abs(tail - 2 * stats.norm.sf(4.0)) < 5 * np.sqrt(2 * stats.norm.sf(4.0) / n)
    assert abs(np.corrcoef(a, b)[0, 1]) < 5 / np.sqrt(n)
    assert abs(np.corrcoef(a**2, b**2)[0, 1]) < 5 / np.sqrt(n)  # no shared radius left over


def test_lane_generator_is_uniform_reproducible_and_its_lanes_independent():
    lanes = kernel_rng.seed_lanes(7, 1, 2, 3)
    assert lanes.shape == (4, kernel_rng.LANES)
    assert np.array_equal(lanes, kernel_rng.seed_lanes(7, 1, 2, 3))
    assert not np.array_equal(lanes, kernel_rng.seed_lanes(7, 1, 2, 0))
    u = _draw(lanes.copy(), 1_600_000)
    assert 0.0 < u.min() and u.max() <= 1.0
    assert abs(u.mean() - 0.5) < 5 * np.sqrt(1 / 12 / u.size)
    assert stats.kstest(u[:200_000], "uniform").pvalue > 1e-3
    by_lane = u.reshape(-1, kernel_rng.LANES)
    c = np.corrcoef(by_lane.T)
    assert np.max(np.abs(c - np.eye(kernel_rng.LANES))) < 5 / np.sqrt(by_lane.shape[0])
    # draws continue where they stopped: two halves equal one whole
    again = kernel_rng.seed_lanes(7, 1, 2, 3)
    halves = np.concatenate([_draw(again, 800_000), _draw(again, 800_000)])
    assert np.array_equal(halves, u)
