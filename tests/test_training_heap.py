import numpy as np

from nlpkit.features import TfidfFeatures
from nlpkit.training import heap

DOCS = [f"văn_bản số {i} nói về giá điện và giá xăng {i % 7} lần thứ {i % 13}" for i in range(3000)]


def test_features_in_the_kept_heap_are_the_same():
    plain = TfidfFeatures(min_df=1).fit_transform(DOCS)
    heap.allow()
    try:
        with heap.kept_heap():
            kept = TfidfFeatures(min_df=1).fit_transform(DOCS)
        after = TfidfFeatures(min_df=1).fit_transform(DOCS)  # with the settings restored
    finally:
        heap.allow(False)
    for other in (kept, after):
        assert np.array_equal(other.indptr, plain.indptr)
        assert np.array_equal(other.indices, plain.indices)
        assert other.data.tobytes() == plain.data.tobytes()


def test_a_python_callers_process_is_left_as_it_is(monkeypatch):
    called = []
    monkeypatch.setattr(heap, "_allowed", False)  # (as `nlpkit train` has not said otherwise)
    monkeypatch.setattr(heap, "_libc", lambda: called.append(1))
    with heap.kept_heap():
        pass
    assert not called  # not allowed: malloc's settings never looked at
