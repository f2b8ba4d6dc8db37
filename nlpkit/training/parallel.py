"""Pure work spread over forked processes: the same results, in order, in less time.

Training's slow steps are pure: each item's result depends on that item alone (labelling
functions over every record, the folds of clean-up, the classifiers of a fit). Where the config
allows more than one process (``n_jobs``) and processes can be forked (Linux), the items are
shared out among the processes; a forked process sees the function and the data without their
being sent to it, and only results come back. Elsewhere, or for few items, the work is done
here. Either way the results are the same: nothing an item computes depends on where.
"""

from __future__ import annotations

import mmap
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

__all__ = [
    "fork_map",
    "fork_strings",
    "fork_tasks",
    "can_fork",
    "resolve_jobs",
    "usable_cores",
    "AUTO_JOBS_MAX",
]

# ``n_jobs = 0`` (the default) uses the machine's cores, at most this many: training's parallel
# steps are a few classifiers or folds, and each process holds its own copy of the solver's
# data, so more processes than this add memory sooner than speed.
AUTO_JOBS_MAX = 4


def can_fork() -> bool:
    from ..pools import may_start_processes

    return (
        sys.platform.startswith("linux")
        and "fork" in multiprocessing.get_all_start_methods()
        and may_start_processes()
    )


def resolve_jobs(n_jobs: int) -> int:
    """The number of processes ``n_jobs`` asks for: itself when positive, at most the cores
    this process may run on; 0 is those cores, at most `AUTO_JOBS_MAX`."""
    from ..arguments import check_count

    n_jobs = check_count("n_jobs", n_jobs, zero="the machine's cores")
    # (more processes than cores make pure work no faster: hundreds of them, only slower)
    return min(n_jobs, usable_cores()) if n_jobs else max(1, min(usable_cores(), AUTO_JOBS_MAX))


def usable_cores() -> int:
    """The cores this process may run on (its affinity, where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # (not on every platform)
        return os.cpu_count() or 1


def _parts(n: int, n_jobs: int) -> list[tuple[int, int]]:
    """``range(n)`` in at most ``n_jobs`` consecutive parts of equal size (the last smaller)."""
    step = -(-n // n_jobs)
    return [(i, min(i + step, n)) for i in range(0, n, step)]


def fork_map(
    func: Callable[[Any], Any], items: Sequence[Any], n_jobs: int, minimum: int = 1000
) -> list[Any]:
    """``[func(item) for item in items]``, in ``n_jobs`` forked processes (0: the machine's
    cores, `resolve_jobs`) when there are at least ``minimum`` items, one part of the items
    to each process."""
    n_jobs = resolve_jobs(n_jobs)
    if n_jobs <= 1 or len(items) < minimum or not can_fork():
        return [func(item) for item in items]
    from ..pools import run_forked

    bounds = _parts(len(items), n_jobs)
    parts = run_forked(lambda b: [func(item) for item in items[b[0] : b[1]]], bounds, len(bounds))
    return [result for part in parts for result in part]


def fork_tasks(
    func: Callable[[Any], Any],
    items: Sequence[Any],
    n_jobs: int,
    done: Callable[[int, int], None] | None = None,
) -> list[Any]:
    """``[func(item) for item in items]`` for a few items of unequal cost (classifiers to fit):
    in ``n_jobs`` forked processes, each taking the next item as soon as it is free, so that
    the items are best given longest first. ``done(k, len(items))`` is called as the results
    come in (in order)."""
    n_jobs = min(resolve_jobs(n_jobs), len(items))

    def collect(results: Iterator[Any]) -> list[Any]:
        out = []
        for result in results:
            out.append(result)
            if done:
                done(len(out), len(items))
        return out

    if n_jobs <= 1 or not can_fork():
        return collect(map(func, items))
    from ..pools import run_forked

    return run_forked(func, items, n_jobs, done and (lambda k: done(k, len(items))))


def _fill(
    func: Callable[[Any], str], items: Sequence[Any], bounds, data, ends, parent: int
) -> None:
    """In a forked process: the UTF-8 of ``func`` of the items within ``bounds``, one after the
    other in ``data``, where each ends in ``ends`` (-1 first: no room, or an error, which the
    parent meets again and reports, rather than a second traceback from here)."""
    from ..pools import become_worker

    # (as `nlpkit.pools`'s workers: Ctrl-C left to the parent, which stops this process, and
    # an end with the parent however it ends)
    become_worker(parent)
    at = 0
    try:
        for k in range(bounds[0], bounds[1]):
            out = func(items[k]).encode("utf-8", "surrogatepass")
            if at + len(out) > len(data):
                ends[0] = -1
                return
            data[at : at + len(out)] = out
            at += len(out)
            ends[k - bounds[0] + 1] = at
    except BaseException:
        ends[0] = -1


def fork_strings(
    func: Callable[[Any], str],
    items: Sequence[Any],
    n_jobs: int,
    minimum: int = 1000,
    room: Callable[[Any], int] = lambda item: 4 * len(item) + 64,
) -> list[str]:
    """``[func(item) for item in items]`` for a cheap function giving a str (segmenting texts):
    this process does the first of ``n_jobs`` parts while forked processes do the others, each
    writing its strings' UTF-8 into memory it shares with this one. Pickling the strings back
    cost as much as making them. ``room(item)``: at most how many bytes ``func(item)`` takes
    (the memory is reserved, and only what is written is used); a part that does not fit, or
    whose process fails, is done here, so the result is always this process's."""
    import numpy as np

    n_jobs = resolve_jobs(n_jobs)
    if n_jobs <= 1 or len(items) < minimum or not can_fork():
        return [func(item) for item in items]
    from ..pools import stops_held

    bounds = _parts(len(items), n_jobs)
    context = multiprocessing.get_context("fork")
    others = []
    for lo, hi in bounds[1:]:
        try:
            data = mmap.mmap(-1, max(1, sum(room(items[k]) for k in range(lo, hi))))
            ends = np.frombuffer(mmap.mmap(-1, 8 * (hi - lo + 1)), dtype=np.int64)
        except OSError:  # (more room than the system will map: the part is done here)
            others.append((lo, hi, None, None, None))
            continue
        process = context.Process(
            target=_fill, args=(func, items, (lo, hi), data, ends, os.getpid())
        )
        # (known before Ctrl-C or SIGTERM can act, so that it is stopped with the others)
        with stops_held():
            process.start()
            others.append((lo, hi, process, data, ends))
    try:
        out = [func(items[k]) for k in range(*bounds[0])]
        for lo, hi, process, data, ends in others:
            if process is not None:
                process.join()
            if process is None or process.exitcode != 0 or ends[0] < 0:
                out += [func(items[k]) for k in range(lo, hi)]
                continue
            at = ends.tolist()
            out += [
                data[at[k] : at[k + 1]].decode("utf-8", "surrogatepass") for k in range(hi - lo)
            ]
    finally:
        # (an error here leaves no process behind)
        for _, _, process, data, _ in others:
            if process is not None:
                if process.is_alive():
                    process.terminate()
                process.join()
                data.close()
    return out
