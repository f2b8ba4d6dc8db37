import multiprocessing
import os

import pytest

from nlpkit.training.parallel import AUTO_JOBS_MAX, can_fork, fork_map, resolve_jobs


def test_forked_work_gives_the_same_results_in_order():
    items = list(range(2500))
    parent = os.getpid()
    done = fork_map(lambda i: (i * i, os.getpid() != parent), items, n_jobs=2)
    assert [square for square, _ in done] == [i * i for i in items]
    # where processes can be forked, the work was done in them
    assert all(forked for _, forked in done) == can_fork()
    few = fork_map(lambda i: (i, os.getpid() != parent), items[:10], n_jobs=2)
    assert few == [(i, False) for i in range(10)]  # too few items to be worth a process
    assert fork_map(str, items, n_jobs=1) == [str(i) for i in items]


def test_tasks_are_handed_out_one_by_one_and_come_back_in_order():
    from nlpkit.training.parallel import fork_tasks

    parent = os.getpid()
    seen = []
    done = fork_tasks(
        lambda i: (i * 10, os.getpid() != parent),
        [3, 1, 2],
        n_jobs=2,
        done=lambda k, n: seen.append((k, n)),
    )
    assert [r for r, _ in done] == [30, 10, 20]
    assert all(forked for _, forked in done) == can_fork()
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert fork_tasks(str, [1, 2], n_jobs=1) == ["1", "2"]


@pytest.mark.parametrize(
    "bad, error",
    [(-1, ValueError), (1.5, TypeError), ("2", TypeError), (True, TypeError), (None, TypeError)],
)
def test_a_bad_number_of_processes_is_a_clear_error(bad, error):
    with pytest.raises(error, match="n_jobs must be a whole number, at least 1, or 0"):
        resolve_jobs(bad)


def test_zero_processes_means_the_machines_cores_at_most_four():
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert resolve_jobs(0) == max(1, min(cores, AUTO_JOBS_MAX)) and 1 <= resolve_jobs(0) <= 4
    # more than the cores: the cores (hundreds of processes on two cores were only slower)
    assert resolve_jobs(1) == 1 and resolve_jobs(400) == cores == resolve_jobs(cores)


def test_strings_made_in_forked_processes_come_back_whole_and_in_order():
    from nlpkit.training.parallel import fork_strings

    items = [f"văn bản {i} " * (i % 7) + "\ud800" * (i % 3 == 0) for i in range(3001)]
    upper = str.upper
    assert fork_strings(upper, items, n_jobs=3) == [upper(t) for t in items]
    # a part that would not fit in the room reserved for it is made here, with the same result
    assert fork_strings(upper, items, n_jobs=2, room=lambda t: 1) == [upper(t) for t in items]


def test_a_failure_in_a_forked_process_is_raised_here(capfd):
    from nlpkit.training.parallel import fork_strings

    def fails_late(i: int) -> str:
        if i == 2999:
            raise ValueError("item 2999 is bad")
        return str(i)

    with pytest.raises(ValueError, match="item 2999 is bad"):
        fork_strings(fails_late, list(range(3000)), n_jobs=2, room=lambda i: 16)
    # (the forked process said nothing: the error is this process's own)
    assert "Traceback" not in capfd.readouterr().err
    with pytest.raises(ValueError, match="item 2999 is bad"):  # in this process's part
        fork_strings(lambda i: fails_late(2999 - i), list(range(3000)), n_jobs=2, room=lambda i: 16)
    assert not multiprocessing.active_children()


def test_a_part_too_large_to_map_is_made_here(monkeypatch):
    from nlpkit.training import parallel

    class Refusing:
        @staticmethod
        def mmap(*args, **kwargs):
            raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(parallel, "mmap", Refusing)
    items = [f"văn bản {i}" for i in range(3000)]
    assert parallel.fork_strings(str.upper, items, n_jobs=2) == [t.upper() for t in items]


@pytest.mark.skipif(not os.path.exists("/proc/self/environ"), reason="needs /proc")
def test_the_processes_making_strings_end_with_their_parent_and_leave_ctrl_c_to_it(tmp_path):
    # (as nlpkit.pools's workers do: killed, the parent left them segmenting for no one; a
    # Ctrl-C reached them too)
    import signal
    import subprocess
    import sys
    import time

    from test_pools import _gone, _marked

    script = tmp_path / "slow.py"
    script.write_text(
        "import time\nfrom nlpkit.training.parallel import fork_strings\n"
        "fork_strings(lambda t: time.sleep(0.01) or t, [str(i) for i in range(20000)], 2)\n"
    )
    for stop in (signal.SIGINT, signal.SIGKILL):
        mark = f"NLPKIT_TEST_STRINGS_{os.getpid()}_{stop}"
        process = subprocess.Popen(
            [sys.executable, str(script)], env={**os.environ, mark: "1"},
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while len(_marked(mark)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(_marked(mark)) == 2  # the script and the one forked process
        time.sleep(0.2)
        process.send_signal(stop)
        _, err = process.communicate(timeout=30)
        assert _gone(mark), "the forked process outlived its parent"
        if stop == signal.SIGINT:
            # one traceback, the parent's: none from the forked process
            assert err.count("Traceback") == 1 and err.rstrip().endswith("KeyboardInterrupt")
