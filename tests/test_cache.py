import sqlite3

from conftest import in_threads

from nlpkit.cache import SegmentCache, prepare_many
from nlpkit.text import prepare

TEXTS = ["Tổng thống Nga điện đàm", "Giá xăng dầu tăng mạnh", "Tuyển Việt Nam thắng"]


def test_results_equal_prepare_and_are_reused(tmp_path, monkeypatch):
    expected = [prepare(t) for t in TEXTS]
    assert prepare_many(TEXTS, SegmentCache(tmp_path / "seg.sqlite")) == expected
    # A second run, even from another cache object, must not segment again.
    monkeypatch.setattr("nlpkit.cache.prepare", lambda *a, **k: 1 / 0)
    assert prepare_many(TEXTS, SegmentCache(tmp_path / "seg.sqlite")) == expected


def test_keys_depend_on_the_text_and_the_segmenter_version(tmp_path, monkeypatch):
    cache = SegmentCache(tmp_path / "seg.sqlite")
    key = cache.key(TEXTS[0])
    assert key != cache.key(TEXTS[0] + " ")
    monkeypatch.setattr("nlpkit.cache.segmenter_version", lambda: "pyvi-9.9")
    assert SegmentCache(tmp_path / "seg.sqlite").key(TEXTS[0]) != key


def test_deleting_the_cache_is_safe(tmp_path):
    path = tmp_path / "seg.sqlite"
    prepare_many(TEXTS, SegmentCache(path))
    for file in tmp_path.iterdir():
        file.unlink()
    assert prepare_many(TEXTS, SegmentCache(path)) == [prepare(t) for t in TEXTS]


def test_two_writers_at_once(tmp_path):
    path = tmp_path / "seg.sqlite"
    texts = [f"Bản tin số {i} về giá điện" for i in range(300)]
    in_threads(lambda k: prepare_many(texts[k::2] + texts[:50], SegmentCache(path)), 2)
    rows = sqlite3.connect(path).execute("SELECT COUNT(*) FROM seg").fetchone()[0]
    assert rows == 300
    assert prepare_many(texts, SegmentCache(path)) == [prepare(t) for t in texts]


def test_runs_starting_at_once_on_a_new_cache_all_start(tmp_path):
    # Switching a new SQLite file to WAL fails at once, without waiting, while another
    # connection sets it up: a start that does not try again fails a few times in a hundred.
    for round_ in range(100):
        path = tmp_path / f"seg{round_}.sqlite"
        in_threads(lambda _, path=path: SegmentCache(path).close(), 4)


def test_parallel_segmentation_keeps_order(tmp_path):
    texts = [f"Tin {i}: Tổng thống Nga điện đàm" for i in range(1200)]
    assert prepare_many(texts, None, n_jobs=2) == [prepare(t) for t in texts]


def test_raw_syllables_skip_the_cache(tmp_path):
    out = prepare_many(
        ["Tổng thống Nga, điện đàm."], SegmentCache(tmp_path / "s.sqlite"), segment=False
    )
    assert out == ["Tổng thống Nga , điện đàm ."]
