"""`run_forked`: work shared out among forked processes, the same answers in order, and an
interruption that stops every worker at once, quietly."""

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from nlpkit.pools import WorkerDied, run_forked
from nlpkit.training.parallel import can_fork

pytestmark = pytest.mark.skipif(not can_fork(), reason="forked processes: Linux only")


def test_answers_in_order_whatever_the_items_cost():
    items = [0.05, 0.0, 0.02, 0.0, 0.01] * 4
    seen = []
    out = run_forked(lambda x: (time.sleep(x), x * 2)[1], items, 3, seen.append)
    assert out == [x * 2 for x in items]
    assert seen == list(range(1, len(items) + 1))
    assert run_forked(str, [], 2) == []


def test_an_items_exception_is_raised_here_as_it_was_raised_there():
    def odd(x):
        if x == 3:
            raise KeyError("three")
        return x

    with pytest.raises(KeyError, match="three"):
        run_forked(odd, list(range(8)), 2)


def test_a_worker_that_dies_is_said_not_waited_for():
    with pytest.raises(WorkerDied, match="ended without an answer"):
        run_forked(lambda x: os._exit(3) if x == 2 else x, list(range(6)), 2)


def test_a_result_that_cannot_be_sent_is_said():
    with pytest.raises(RuntimeError, match="item 1: its result cannot be sent"):
        run_forked(lambda x: threading.Lock() if x == 1 else x, [0, 1, 2], 2)


def test_an_interruption_stops_the_workers_at_once_and_quietly(tmp_path):
    # Ctrl-C at a terminal reaches the whole process group: the workers among them, in the
    # middle of their work or of sending a large result.
    script = tmp_path / "work.py"
    script.write_text(
        textwrap.dedent("""
        import sys, time
        import numpy as np
        from nlpkit.pools import run_forked

        def work(i):
            time.sleep(0.1)
            return np.ones((1000, 2000))

        try:
            print("ready", flush=True)
            run_forked(work, list(range(200)), 2)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            sys.exit(130)
    """)
    )
    for delay in (0.5, 1.0):
        _interrupt(script, delay)


def _interrupt(script, delay: float, env: dict | None = None) -> None:
    """Run ``script`` in a group of its own, Ctrl-C the group ``delay`` seconds after the script
    says it is ready (past Python's start and imports, where a Ctrl-C is Python's own
    traceback), and check that it says it was interrupted, and that alone, promptly."""
    process = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True, env=env,
    )  # fmt: skip
    assert process.stdout.readline() == "ready\n"
    time.sleep(delay)
    os.killpg(process.pid, signal.SIGINT)
    try:
        _, err = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        # CPython drops an exception raised inside a weakref callback ("Exception ignored in:
        # <function WeakSet...._remove>"), a Ctrl-C that lands there too: the user presses it
        # again. Only that loss is forgiven, once.
        os.killpg(process.pid, signal.SIGINT)
        try:
            _, err = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail("the interrupted run went on")
        lost, _, err = err.rpartition("KeyboardInterrupt: \n")
        assert lost.startswith("Exception ignored in: <function WeakSet") and "_remove" in lost
    assert process.returncode == 130 and err.strip() == "interrupted", err


def test_a_worker_count_below_one_is_refused():
    for wrong, error in ((0, ValueError), (-1, ValueError), (1.5, TypeError), (True, TypeError)):
        with pytest.raises(error, match="n_jobs must be a whole number, at least 1"):
            run_forked(str, [1, 2], wrong)


def test_the_workers_traceback_is_the_cause_of_its_exception():
    def odd(x):
        if x == 1:
            raise KeyError("one")
        return x

    with pytest.raises(KeyError) as caught:
        run_forked(odd, [0, 1, 2], 2)
    assert "in odd" in str(caught.value.__cause__) and 'raise KeyError("one")' in str(
        caught.value.__cause__
    )


def _marked(mark: str) -> list[int]:
    """The processes whose environment holds ``mark``: a script's, and its workers'."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/environ", "rb") as environ:
                    if mark.encode() in environ.read():
                        found.append(int(entry))
            except OSError:
                continue
    return found


def _gone(mark: str, seconds: float = 10) -> bool:
    """Whether the marked processes are gone within ``seconds``; those left are killed, so that
    a failing test leaves none behind."""
    deadline = time.monotonic() + seconds
    while _marked(mark):
        if time.monotonic() > deadline:
            for pid in _marked(mark):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            return False
        time.sleep(0.1)
    return True


LOOP = textwrap.dedent("""
    import sys, time
    from nlpkit.pools import run_forked

    try:
        run_forked(lambda i: i, list(range(4)), 2)
        print("ready", flush=True)
        while True:
            run_forked(lambda i: i, list(range(4)), 2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
""")


@pytest.mark.slow
def test_an_interruption_while_workers_are_forked_leaves_none_behind(tmp_path):
    # Workers forked over and over: a Ctrl-C lands while one is being forked, sooner or later.
    script = tmp_path / "loop.py"
    script.write_text(LOOP)
    for delay in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5):
        mark = f"NLPKIT_TEST_POOL_{os.getpid()}_{delay}"
        _interrupt(script, delay, {**os.environ, mark: "1"})
        assert _gone(mark), "a worker outlived the interrupted run"


def test_workers_end_when_their_parent_is_killed(tmp_path):
    script = tmp_path / "slow.py"
    script.write_text("from nlpkit.pools import run_forked\nimport time\n"
                      "run_forked(lambda x: time.sleep(1) or x, list(range(100)), 2)\n")  # fmt: skip
    mark = f"NLPKIT_TEST_POOL_{os.getpid()}_killed"
    process = subprocess.Popen([sys.executable, str(script)], env={**os.environ, mark: "1"})
    deadline = time.monotonic() + 20
    while len(_marked(mark)) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(_marked(mark)) == 3  # the script and its two workers
    process.kill()
    process.wait()
    assert _gone(mark), "the workers outlived their parent"


def test_a_stop_within_stops_held_acts_after_it_whatever_thread_receives_it():
    # A process with other threads (a BLAS library's): the system may hand them the signal,
    # and Python then runs its handler in the main thread at once, mask or not.
    from nlpkit.pools import stops_held

    idle = threading.Event()
    threading.Thread(target=idle.wait, daemon=True).start()
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    reached = []
    try:
        with pytest.raises(KeyboardInterrupt):
            with stops_held():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.2)
                reached.append("the end of the block")
    finally:
        signal.signal(signal.SIGINT, previous)
        idle.set()
    assert reached == ["the end of the block"]
    assert signal.getsignal(signal.SIGINT) is previous


def _in_a_pool_worker(job):
    """What nlpkit does inside a multiprocessing.Pool's worker, a daemonic process."""
    import warnings

    import nlpkit
    from nlpkit.batch import predict_file
    from nlpkit.training.parallel import fork_map

    kind, arg = job
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        if kind == "predict":
            out = nlpkit.predict(arg, n_jobs=2)
        elif kind == "map":
            out = fork_map(len, arg, n_jobs=2, minimum=1)
        elif kind == "cache":
            from nlpkit.cache import prepare_many

            out = prepare_many(arg, None, n_jobs=2)
        else:
            src, dst = arg
            out = predict_file(src, dst, workers=2).written
    return out, [str(w.message) for w in said]


def test_work_for_several_processes_is_done_in_a_daemonic_one(tmp_path):
    # A Pool's worker may not start processes: multiprocessing's bare AssertionError
    # ("daemonic processes are not allowed to have children") was what a caller met.
    import multiprocessing

    import nlpkit

    texts = ["Giá xăng tăng", "Tuyển Việt Nam thắng Thái Lan"] * 1500
    src = tmp_path / "in.txt"
    src.write_text("\n".join(texts[:40]) + "\n", "utf-8")
    jobs = [
        ("predict", texts),
        ("map", texts),
        ("file", (src, tmp_path / "out.jsonl")),
        ("cache", [f"Giá xăng tăng {i}" for i in range(3000)]),
    ]
    with multiprocessing.get_context("fork").Pool(1) as pool:
        (answers, said), (lengths, quiet), (written, capped), (prepared, _) = pool.map(
            _in_a_pool_worker, jobs
        )
    assert answers == nlpkit.predict(texts) and "daemonic process" in said[0]
    assert lengths == [len(t) for t in texts] and not quiet
    from nlpkit.text import prepare

    assert prepared == [prepare(f"Giá xăng tăng {i}") for i in range(3000)]
    assert written == 40 and "using 1" in capped[0]
