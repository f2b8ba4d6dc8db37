"""Work shared out among forked processes, which an interruption stops at once and quietly.

A Ctrl-C at a terminal reaches every process of the command's group. With
`concurrent.futures.ProcessPoolExecutor` the workers each printed a traceback, and a worker
stopped while sending a large result (a classifier's weights) left half a message that the
pool's own thread waited for, for ever: the command hung at exit. Here each worker is a forked
process with a pipe of its own, and no thread stands between: the workers leave interruptions
to the process that forked them, which, interrupted, stops them and closes their pipes; a
worker whose parent is gone, however it went, ends too.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from multiprocessing.connection import Connection, wait
from typing import Any

__all__ = [
    "WorkerDied",
    "run_forked",
    "forked",
    "end_with_parent",
    "become_worker",
    "stops_held",
    "may_start_processes",
]

# What stops a command: held back while a worker is forked, so that the worker is known (and
# stopped) before they can act, and left to the parent in the worker.
_STOPS = {signal.SIGINT, signal.SIGTERM}


def may_start_processes() -> bool:
    """Whether this process may start processes of its own: not a daemonic one, such as a
    `multiprocessing.Pool`'s worker, where starting one is an `AssertionError` from deep
    inside multiprocessing. Work meant for several processes is then done in this one."""
    return not multiprocessing.current_process().daemon


class WorkerDied(RuntimeError):
    """A worker process ended without an answer (killed: out of memory, say)."""


_DIED = "a worker process ended without an answer (killed? out of memory?)"


class _RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker, as its cause."""

    def __str__(self) -> str:
        return self.args[0]


def _load_prctl() -> Any:
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


# Looked up here, in the process that forks, not in each worker: a worker importing as it
# starts was seen to hang there (once in some hundred Ctrl-Cs), its parent waiting for it.
_prctl = _load_prctl() if sys.platform.startswith("linux") else None


def end_with_parent(parent: int) -> None:
    """Have the system end this worker (SIGTERM) when its parent ends, however it ends: killed
    (SIGKILL, out of memory), or interrupted while it was starting the workers. Otherwise a
    worker could wait forever for work (where its siblings hold the other end of its pipe, as
    an archive's workers do) or go on with work no one will read. Linux's PR_SET_PDEATHSIG;
    elsewhere the parent's own ending of its workers is all there is."""
    if _prctl is None:  # (not Linux, or no prctl)
        return
    _prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # (the parent ended before the request was made)
        os._exit(0)


@contextmanager
def stops_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM held back within, acting after: a process forked within is known,
    and stopped with the others, before they can act, and inherits them held back
    (`become_worker` lets them through)."""
    # Blocked in this thread, which a forked process inherits. This process may have other
    # threads (a BLAS library's, numpy's), which the system may hand the signal to, and whose
    # handling Python then runs in the main thread at once: in the main thread the handlers
    # are also replaced by one that notes the signal, which is raised again after.
    held = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
    noted: list[int] = []
    saved = {}
    if threading.current_thread() is threading.main_thread():
        for number in _STOPS:
            if signal.getsignal(number) is not None:  # (None: set outside Python, kept)
                saved[number] = signal.signal(number, lambda n, frame: noted.append(n))
    try:
        yield
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        for number in dict.fromkeys(noted):
            signal.raise_signal(number)


def become_worker(parent: int) -> None:
    """In a worker process: Ctrl-C is the forking process's to handle (it reaches the whole
    process group; the parent stops its workers); SIGTERM (being stopped) ends the process as
    the system ends any, not by a handler the command set before forking; both, held back
    while the process was forked (`stops_held`), act again; and the worker ends with its
    parent (`end_with_parent`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)
    end_with_parent(parent)


def _answer(index: int, func: Callable[[Any], Any], item: Any) -> tuple[Any, ...]:
    try:
        return (index, True, func(item), None)
    except BaseException as exc:
        text = "".join(traceback.format_exception(exc))
        try:
            # (an error that pickles but cannot be built again would fail in the parent)
            pickle.loads(pickle.dumps(exc))
        except Exception:
            exc = RuntimeError(f"item {index}: {type(exc).__name__}: {exc}")
        return (index, False, exc, text)


def _work(
    func: Callable[[Any], Any], items: Sequence[Any], conn: Connection, parent: int, others
) -> None:
    become_worker(parent)
    # The parent's ends of the pipes, this one's and those of the workers before it: with them
    # closed here, a pipe whose parent is gone reads as ended.
    for end in others:
        end.close()
    while True:
        try:
            index = conn.recv()
        except (EOFError, OSError):
            return
        if index is None:
            return
        answer = _answer(index, func, items[index])
        try:
            conn.send(answer)
        except Exception as exc:
            # (an answer that does not pickle: said in words)
            conn.send(
                (
                    index,
                    False,
                    RuntimeError(f"item {index}: its result cannot be sent: {exc}"),
                    None,
                )
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
    answers in order reach k. An item's exception is raised here, as ``func`` raised it, with
    the worker's traceback as its cause."""
    out = []
    with closing(forked(func, items, n_jobs)) as answers:
        for result in answers:
            out.append(result)
            if done:
                done(len(out))
    return out


def forked(func: Callable[[Any], Any], items: Sequence[Any], n_jobs: int) -> Iterator[Any]:
    """`run_forked`'s answers, in order, each as soon as it and those before it are in. Close
    the iterator (`contextlib.closing`) when leaving it early: its workers end then."""
    from .arguments import check_count

    n_jobs = check_count("n_jobs", n_jobs)
    if not may_start_processes():
        # (the same answers, in order, an item's exception raised as func raised it)
        return (func(item) for item in items)
    return _forked(func, items, n_jobs)


def _forked(func: Callable[[Any], Any], items: Sequence[Any], n_jobs: int) -> Iterator[Any]:
    context = multiprocessing.get_context("fork")
    workers: list[tuple[Any, Connection]] = []
    results: dict[int, Any] = {}
    ready = 0
    # A pipe's end runs code of its own when it is let go of (Connection.__del__), and a Ctrl-C
    # that lands there is lost ("Exception ignored"): every end is let go of while Ctrl-C and
    # SIGTERM are held back, and they act after.
    here = there = conn = others = None
    busy: set[Connection] = set()
    try:
        for _ in range(min(n_jobs, len(items))):
            # (held back until the worker is known, so that it is stopped with the others)
            with stops_held():
                try:
                    here, there = context.Pipe()
                    others = [conn for _, conn in workers] + [here]
                    process = context.Process(
                        target=_work, args=(func, items, there, os.getpid(), others)
                    )
                    workers.append((process, here))
                    process.start()
                finally:
                    if there is not None:
                        there.close()
                    there = others = conn = None
        given = 0
        for _, conn in workers:
            _send(conn, given)
            given += 1
        busy = {conn for _, conn in workers}
        while busy:
            # (a worker that ends, however, closes its end of the pipe: its own reads as ended)
            for conn in wait(list(busy)):
                try:
                    index, ok, value, text = conn.recv()
                except (EOFError, OSError):
                    raise WorkerDied(_DIED) from None
                if not ok:
                    if text:
                        value.__cause__ = _RemoteTraceback(f'\n"""\n{text}"""')
                    raise value
                results[index] = value
                _send(conn, given if given < len(items) else None)
                if given < len(items):
                    given += 1
                else:
                    busy.discard(conn)
            while ready in results:
                yield results.pop(ready)
                ready += 1
    finally:
        # Done, failed, interrupted or left: no worker outlives the call.
        with stops_held():
            for process, conn in workers:
                if process.pid is not None and process.is_alive():
                    process.terminate()
                conn.close()
            for process, _ in workers:
                if process.pid is None:
                    continue
                process.join(timeout=5)
                if process.is_alive():
                    os.kill(process.pid, signal.SIGKILL)
                    process.join()
                process.close()
            workers.clear()
            busy.clear()
            here = there = conn = others = None


def _send(conn: Connection, index: int | None) -> None:
    try:
        conn.send(index)
    except OSError:  # (the worker is gone)
        raise WorkerDied(_DIED) from None
