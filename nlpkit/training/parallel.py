"""Pure work spread over forked processes: the same results, in order, in less time.

Training's slow Python steps (labelling functions over every record, the folds of clean-up)
are pure: each item's result depends on that item alone. Where the config allows more than one
process (``n_jobs``) and processes can be forked (Linux), the items are split into one part per
process; a forked process sees the function and the data without their being sent to it, and
only results come back. Elsewhere, or for few items, the work is done here.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["fork_map", "can_fork"]

_JOB: tuple[Callable[[Any], Any], Sequence[Any]] | None = None


def can_fork() -> bool:
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def _run(bounds: tuple[int, int]) -> list[Any]:
    assert _JOB is not None
    func, items = _JOB
    return [func(item) for item in items[bounds[0] : bounds[1]]]


def fork_map(
    func: Callable[[Any], Any], items: Sequence[Any], n_jobs: int, minimum: int = 1000
) -> list[Any]:
    """``[func(item) for item in items]``, in ``n_jobs`` forked processes when there are at
    least ``minimum`` items."""
    if n_jobs <= 1 or len(items) < minimum or not can_fork():
        return [func(item) for item in items]
    from concurrent.futures import ProcessPoolExecutor

    global _JOB
    step = -(-len(items) // n_jobs)
    bounds = [(i, min(i + step, len(items))) for i in range(0, len(items), step)]
    _JOB = (func, items)
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(len(bounds), mp_context=context) as pool:
            parts = list(pool.map(_run, bounds))
    finally:
        _JOB = None
    return [result for part in parts for result in part]
