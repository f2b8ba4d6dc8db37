import json

import numpy as np
import pytest

from nlpkit import heap
from nlpkit.features import TfidfFeatures

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


def _stream_lines(tmp_path, name, workers):
    from nlpkit.batch import predict_file

    src = tmp_path / "in.jsonl"
    if not src.exists():
        texts = DOCS[:200] + ["Tuyển Việt Nam thắng Thái Lan ở AFF Cup", "{broken"]
        src.write_text(
            "\n".join(
                t if t.startswith("{") else json.dumps({"title": f"Tin {i}", "text": t})
                for i, t in enumerate(texts)
            )
            + "\n",
            encoding="utf-8",
        )
    out = tmp_path / name
    predict_file(src, out, workers=workers, batch_size=16)
    return out.read_bytes()


@pytest.mark.parametrize("workers", [1, 2])
def test_a_stream_in_the_kept_heap_writes_the_same_lines(tmp_path, workers):
    plain = _stream_lines(tmp_path, "plain.jsonl", workers)
    heap.allow()  # (as `nlpkit predict --input` does; its workers always keep their heap)
    try:
        kept = _stream_lines(tmp_path, "kept.jsonl", workers)
    finally:
        heap.allow(False)
    assert kept == plain and plain.count(b"\n") == 202


def test_a_stream_leaves_a_python_callers_process_as_it_is(tmp_path, monkeypatch):
    called = []
    monkeypatch.setattr(heap, "_allowed", False)
    monkeypatch.setattr(heap, "_libc", lambda: called.append(1))
    _stream_lines(tmp_path, "out.jsonl", 1)
    assert not called
