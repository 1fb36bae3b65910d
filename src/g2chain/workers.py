"""Many short independent tasks in one job: forked workers that share the parent's start-up.

A job of the workflow pays ~1.7 s before its first line of physics (the interpreter, numpy, scipy,
matplotlib, h5py, numba and its cached functions). An omega_a fit takes ~2 s at ci size, so its
dataset's 19 fits run in one job (rules omega_a_dataset_fits and omega_a_dataset_scans): the job
imports once and forks, and each worker process inherits those modules.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor


def map_forked(fn: Callable, items: Iterable, workers: int) -> list:
    """``[fn(item) for item in items]`` in ``workers`` forked processes, in order (in this process
    when ``workers`` is 1 or there is one item). ``fn`` is sent to the workers by name, so it must
    be defined at a module's top level; an exception it raises is raised here. Each worker loads
    the numba functions it calls once (from the cache), then serves several items."""
    items = list(items)
    workers = max(1, min(int(workers), len(items)))
    if workers == 1:
        return [fn(item) for item in items]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(fn, items))
