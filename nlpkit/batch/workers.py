"""Worker processes: jobs answered by several processes, each with the model once, and the
answers written in input order.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections import deque
from collections.abc import Iterator
from multiprocessing.connection import wait

from .. import heap
from ..pools import become_worker, stops_held
from ..predictor import Predictor
from .answering import Answer, _run
from .reading import Job
from .records import _Settings

# Jobs a worker holds at once: the one it answers and the next, so that it never waits for the
# parent between two jobs.
_PER_WORKER = 2
# A pipe's buffer, where the system lets it be set (Linux): a whole job or answer (about
# 0.5 MB for 256 full articles) then goes in without waiting for the other side to read it.
_PIPE_BYTES = 1 << 20


class WorkerError(RuntimeError):
    """A worker process failed or ended (killed, out of memory); the lines written so far are
    complete."""


# Each worker process has the model and the settings once: inherited from the parent where
# processes fork, loaded from the model folder where they spawn.
_inherited: tuple[Predictor, _Settings] | None = None


def _worker_main(jobs, answers, model_path: str | None, settings: _Settings, parent: int) -> None:
    """A worker: answer the jobs that come on ``jobs``, in order, until None comes."""
    # The parent decides what an interruption means: Ctrl-C reaches the whole process group, so
    # workers ignore it; the parent ends them with SIGTERM, at once.
    become_worker(parent)
    if _inherited is not None:
        predictor, settings = _inherited
    else:
        from .. import load

        predictor = load(model_path)
    # This process is nlpkit's own: each job's chunk and output lines reuse the memory of the
    # one before instead of faulting in fresh pages (nlpkit.heap).
    heap.allow()
    with heap.kept_heap():
        while True:
            try:
                job = _receive(jobs)
            except EOFError:
                return
            if job is None:
                return
            try:
                answer = ("ok", _run(predictor, settings, job))
            except Exception as exc:  # a bug: the parent stops and says what
                answer = ("error", f"{type(exc).__name__}: {exc}")
            if answer[0] == "ok":
                data, *counts = answer[1]
                answers.send(("ok", (counts, len(data))))
                _send_data(answers, data)
            else:
                answers.send(answer)


# A chunk's bytes, and the output lines that answer it, go into the pipe as they are, after a
# pickled header that gives their length: pickled, they would be copied twice more on their way;
# through send_bytes and recv_bytes, once more on each side (recv_bytes gathers what it reads
# in a buffer of its own and copies it out).
_RAW = hasattr(os, "readv")  # (POSIX; elsewhere the pipes' own framing)


def _send(conn, job: Job) -> None:
    first, lines, sep = job
    if isinstance(lines, bytes):
        conn.send((first, len(lines), sep))
        _send_data(conn, lines)
    else:
        conn.send(job)


def _receive(conn) -> Job | None:
    job = conn.recv()
    if job is not None and isinstance(job[1], int):
        job = (job[0], _receive_data(conn, job[1]), job[2])
    return job


def _send_data(conn, data: bytes) -> None:
    if not _RAW:
        conn.send_bytes(data)
        return
    view, fd = memoryview(data), conn.fileno()
    while view:
        view = view[os.write(fd, view) :]


def _receive_data(conn, n: int, into: bool = False) -> bytes | bytearray:
    """The ``n`` bytes `_send_data` sent: as bytes, or, ``into``, as a bytearray the pipe is
    read straight into (for the parent, which only writes them out)."""
    if not _RAW:
        return conn.recv_bytes()
    fd = conn.fileno()
    if into:
        buffer = bytearray(n)
        view, got = memoryview(buffer), 0
        while got < n:
            k = os.readv(fd, [view[got:]])
            if not k:
                raise EOFError
            got += k
        return buffer
    parts, got = [], 0
    while got < n:
        part = os.read(fd, n - got)
        if not part:
            raise EOFError
        parts.append(part)
        got += len(part)
    return parts[0] if len(parts) == 1 else b"".join(parts)  # (b"" for none)


def _widen(conn) -> None:
    """Give a pipe a buffer of `_PIPE_BYTES` where the system allows it (else it keeps its
    own: slower, not wrong)."""
    try:
        import fcntl

        fcntl.fcntl(conn.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), _PIPE_BYTES)
    except (ImportError, OSError, ValueError):
        pass


class _Workers:
    """Worker processes, each with a pipe of jobs and a pipe of answers. Each job goes to the
    worker with the fewest in hand, and the answers are put back in input order, so that a
    worker with a long job does not hold up the others. (Not multiprocessing.Pool: its
    terminate() can wait forever for a lock that an idle worker holds; these are ended by a
    signal.)"""

    def __init__(self, n: int, model_path: str | None, settings: _Settings, predictor: Predictor):
        global _inherited
        # numpy, which each worker needs for its probabilities and this process for cutting
        # the input into chunks, imported once before the workers fork rather than once in
        # each of them.
        import numpy  # noqa: F401

        fork = "fork" in mp.get_all_start_methods()
        context = mp.get_context("fork" if fork else "spawn")
        self.jobs, self.answers_of, self.procs = [], [], []
        _inherited = (predictor, settings) if fork else None
        try:
            for _ in range(n):
                jobs_in, jobs_out = context.Pipe(duplex=False)
                answers_in, answers_out = context.Pipe(duplex=False)
                _widen(jobs_out)
                _widen(answers_out)
                proc = context.Process(
                    target=_worker_main,
                    args=(jobs_in, answers_out, model_path, settings, os.getpid()),
                    daemon=True,
                )
                # (a Ctrl-C while forking acts once the worker and its pipes are known, so that
                # stop() ends it too)
                with stops_held():
                    proc.start()
                    jobs_in.close()
                    answers_out.close()
                    self.jobs.append(jobs_out)
                    self.answers_of.append(answers_in)
                    self.procs.append(proc)
        except BaseException:
            self.stop()
            raise
        finally:
            _inherited = None

    def answers(self, jobs: Iterator[Job]) -> Iterator[Answer]:
        """The answers of ``jobs``, in order. At most `_PER_WORKER` jobs per worker are in
        flight, and twice that many held at once, answered or not, so memory stays bounded
        whatever the input's size."""
        import threading

        n = len(self.procs)
        held: list[deque[int]] = [deque() for _ in range(n)]  # each worker's jobs, in order
        ahead = 2 * _PER_WORKER * n
        state = {"sent": 0, "written": 0, "end": False, "error": None, "closed": False}
        turn = threading.Condition()

        # Jobs are sent by a thread of their own: a send waits while the worker's pipe is full,
        # and the worker may be waiting for its answer to be read, which the calling thread
        # does meanwhile.
        def feed() -> None:
            try:
                for job in jobs:
                    with turn:
                        while True:
                            if state["closed"]:  # (the caller stopped reading answers)
                                return
                            k = min(range(n), key=lambda k: len(held[k]))
                            if (
                                len(held[k]) < _PER_WORKER
                                and state["sent"] - state["written"] < ahead
                            ):
                                break
                            turn.wait()
                        held[k].append(state["sent"])
                        state["sent"] += 1
                        turn.notify_all()
                    _send(self.jobs[k], job)
            except BaseException as exc:  # (reading the input failed, or the workers ended)
                state["error"] = exc
            with turn:
                state["end"] = True
                turn.notify_all()

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        done: dict[int, Answer] = {}
        worker_of = {conn: k for k, conn in enumerate(self.answers_of)}
        try:
            while True:
                with turn:
                    while not any(held) and not state["end"]:
                        turn.wait()
                    busy = [self.answers_of[k] for k in range(n) if held[k]]
                    if not busy:
                        break
                for conn in wait(busy):
                    k = worker_of[conn]
                    try:
                        status, answer = conn.recv()
                        if status == "ok":
                            counts, size = answer
                            answer = (_receive_data(conn, size, into=True), *counts)
                    except EOFError:
                        raise WorkerError("a worker process ended unexpectedly") from None
                    if status != "ok":
                        raise WorkerError(f"a worker failed: {answer}")
                    with turn:
                        done[held[k].popleft()] = answer
                while state["written"] in done:
                    yield done.pop(state["written"])
                    with turn:
                        state["written"] += 1
                        turn.notify_all()
        finally:
            with turn:
                state["closed"] = True
                turn.notify_all()
        feeder.join()
        if state["error"] is not None:
            raise state["error"]

    def stop(self, now: bool = False) -> None:
        for conn in self.jobs:
            if not now:
                try:
                    conn.send(None)
                except OSError:
                    pass
        for proc in self.procs:
            if now:
                proc.terminate()
            proc.join(timeout=None if not now else 5)
            if proc.is_alive():
                proc.kill()
                proc.join()
        for conn in (*self.jobs, *self.answers_of):
            conn.close()
