"""g2chain.workers: forked workers return what a loop returns, in order, and pass errors up."""

import os

import pytest

from g2chain.workers import map_forked


def _square_and_pid(x):
    return x * x, os.getpid()


def _fails_on_three(x):
    if x == 3:
        raise ValueError("three")
    return x


@pytest.mark.parametrize("workers", [1, 2, 5])
def test_in_order_as_a_loop(workers):
    out = map_forked(_square_and_pid, range(7), workers)
    assert [v for v, _ in out] == [x * x for x in range(7)]
    pids = {pid for _, pid in out}
    # one worker runs in this process; more fork (never more workers than items)
    assert (pids == {os.getpid()}) if workers == 1 else (os.getpid() not in pids and 1 <= len(pids) <= workers)


def test_an_error_in_a_worker_is_raised_here():
    with pytest.raises(ValueError, match="three"):
        map_forked(_fails_on_three, range(6), 2)


def test_one_item_runs_here():
    assert map_forked(_square_and_pid, [4], 4) == [(16, os.getpid())]
