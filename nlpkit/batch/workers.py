"""Worker processes: jobs answered by several processes, each with the model once, and the
answers read back in input order.
"""

from __future__ import annotations

import multiprocessing as mp
import signal
from collections.abc import Iterator

from ..predictor import Predictor
from .answering import Answer, _run
from .reading import Job
from .records import _Settings


class WorkerError(RuntimeError):
    """A worker process failed or ended (killed, out of memory); the lines written so far are
    complete."""


# Each worker process has the model and the settings once: inherited from the parent where
# processes fork, loaded from the model folder where they spawn.
_inherited: tuple[Predictor, _Settings] | None = None


def _worker_main(conn, model_path: str | None, settings: _Settings) -> None:
    """A worker: answer the jobs that come on ``conn``, in order, until None comes."""
    # The parent decides what an interruption means: Ctrl-C reaches the whole process group, so
    # workers ignore it; the parent ends them with SIGTERM, at once.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if _inherited is not None:
        predictor, settings = _inherited
    else:
        from .. import load

        predictor = load(model_path)
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        try:
            answer = ("ok", _run(predictor, settings, job))
        except Exception as exc:  # a bug: the parent stops and says what
            answer = ("error", f"{type(exc).__name__}: {exc}")
        conn.send(answer)


class _Workers:
    """Worker processes, each with its own pipe, fed by a thread in turn and read in the same
    turn, so that answers come back in input order. (Not multiprocessing.Pool: its terminate()
    can wait forever for a lock that an idle worker holds; these are ended by a signal.)"""

    def __init__(self, n: int, model_path: str | None, settings: _Settings, predictor: Predictor):
        global _inherited
        fork = "fork" in mp.get_all_start_methods()
        context = mp.get_context("fork" if fork else "spawn")
        self.conns, self.procs = [], []
        _inherited = (predictor, settings) if fork else None
        try:
            for _ in range(n):
                ours, theirs = context.Pipe()
                proc = context.Process(
                    target=_worker_main, args=(theirs, model_path, settings), daemon=True
                )
                proc.start()
                theirs.close()
                self.conns.append(ours)
                self.procs.append(proc)
        except BaseException:
            self.stop()
            raise
        finally:
            _inherited = None

    def answers(self, jobs: Iterator[Job]) -> Iterator[Answer]:
        """The answers of ``jobs``, in order; at most two jobs per worker in flight."""
        import queue
        import threading

        n = len(self.conns)
        turns: queue.Queue = queue.Queue(maxsize=2 * n)

        def feed() -> None:
            try:
                for i, job in enumerate(jobs):
                    self.conns[i % n].send(job)
                    turns.put(i % n)
                turns.put(None)
            except BaseException as exc:  # (reading the input failed, or the workers ended)
                turns.put(exc)

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        while True:
            turn = turns.get()
            if turn is None:
                break
            if isinstance(turn, BaseException):
                raise turn
            try:
                status, answer = self.conns[turn].recv()
            except EOFError:
                raise WorkerError("a worker process ended unexpectedly") from None
            if status != "ok":
                raise WorkerError(f"a worker failed: {answer}")
            yield answer
        feeder.join()

    def stop(self, now: bool = False) -> None:
        for conn in self.conns:
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
        for conn in self.conns:
            conn.close()
