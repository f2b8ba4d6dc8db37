"""Work shared out among forked processes, which an interruption stops at once and quietly.

A Ctrl-C at a terminal reaches every process of the command's group. With
`concurrent.futures.ProcessPoolExecutor` the workers each printed a traceback, and a worker
stopped while sending a large result (a classifier's weights) left half a message that the
pool's own thread waited for, for ever: the command hung at exit. Here each worker is a forked
process with a pipe of its own, and no thread stands between: the workers leave interruptions
to the process that forked them, which, interrupted, stops them and closes their pipes.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

__all__ = ["WorkerDied", "run_forked", "forked"]


class WorkerDied(RuntimeError):
    """A worker process ended without an answer (killed: out of memory, say)."""


_DIED = "a worker process ended without an answer (killed? out of memory?)"


def _work(func: Callable[[Any], Any], items: Sequence[Any], conn: Connection) -> None:
    # Ctrl-C is the forking process's to handle; SIGTERM (being stopped) ends the process as
    # the system ends any, not by a handler the command set before forking.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    while True:
        index = conn.recv()
        if index is None:
            return
        try:
            answer = (index, True, func(items[index]))
        except BaseException as exc:
            answer = (index, False, exc)
        try:
            conn.send(answer)
        except Exception as exc:
            # (an answer, or an error, that does not pickle: said in words)
            what = "result" if answer[1] else f"error ({answer[2]!r})"
            conn.send(
                (index, False, RuntimeError(f"item {index}: its {what} cannot be sent: {exc}"))
            )


def run_forked(
    func: Callable[[Any], Any],
    items: Sequence[Any],
    n_jobs: int,
    done: Callable[[int], None] | None = None,
) -> list[Any]:
    """``[func(item) for item in items]``, in ``n_jobs`` processes forked from this one (which
    see ``func`` and ``items`` without their being sent), each given the next item as soon as
    it is free, so that items are best given longest first. ``done(k)`` is called as the
    answers in order reach k. An item's exception is raised here, as ``func`` raised it."""
    out = []
    for result in forked(func, items, n_jobs):
        out.append(result)
        if done:
            done(len(out))
    return out


def forked(func: Callable[[Any], Any], items: Sequence[Any], n_jobs: int) -> Iterator[Any]:
    """`run_forked`'s answers, in order, each as soon as it and those before it are in."""
    context = multiprocessing.get_context("fork")
    workers: list[tuple[Any, Connection]] = []
    results: dict[int, Any] = {}
    ready = 0
    try:
        for _ in range(min(n_jobs, len(items))):
            here, there = context.Pipe()
            process = context.Process(target=_work, args=(func, items, there))
            process.start()
            there.close()
            workers.append((process, here))
        given = 0
        for _, conn in workers:
            try:
                conn.send(given)
            except OSError:
                raise WorkerDied(_DIED) from None
            given += 1
        busy = {conn for _, conn in workers}
        while busy:
            # (a worker that ends, however, closes its end of the pipe: its own reads as ended)
            for conn in wait(list(busy)):
                try:
                    index, ok, value = conn.recv()
                    if ok:
                        conn.send(given if given < len(items) else None)
                except (EOFError, OSError):
                    raise WorkerDied(_DIED) from None
                if not ok:
                    raise value
                results[index] = value
                if given < len(items):
                    given += 1
                else:
                    busy.discard(conn)
            while ready in results:
                yield results.pop(ready)
                ready += 1
    finally:
        # Done, failed, interrupted or left: no worker outlives the call.
        for process, conn in workers:
            if process.is_alive():
                process.terminate()
            conn.close()
        for process, _ in workers:
            process.join(timeout=5)
            if process.is_alive():
                os.kill(process.pid, signal.SIGKILL)
                process.join()
