import os

from nlpkit.training.parallel import can_fork, fork_map


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
