"""`run_forked`: work shared out among forked processes, the same answers in order, and an
interruption that stops every worker at once, quietly."""

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
            run_forked(work, list(range(200)), 2)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            sys.exit(130)
    """)
    )
    for delay in (1.0, 1.5):
        process = subprocess.Popen(
            [sys.executable, str(script)], stderr=subprocess.PIPE, text=True,
            start_new_session=True,
        )  # fmt: skip
        time.sleep(delay)
        os.killpg(process.pid, signal.SIGINT)
        try:
            _, err = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail("the interrupted run hung")
        assert process.returncode == 130, err
        assert err.strip() == "interrupted"
