"""The compiled core against the pure-Python path, in one process, bit for bit.

`nlpkit.compiled.core` set to None switches every call to the pure-Python path, so each test
runs the same call both ways and compares: syllables, segmentation (and pyvi's), normalisation,
preparation, TF-IDF weights, scores, probabilities and explanations, on hand-picked edge
cases, arbitrary Unicode (hypothesis), the seeds and, marked ``corpus``, thousands of real
texts. Without a built core these tests skip, and the rest of the suite tests the fallback;
the subprocess tests at the end run the fallback (NLPKIT_PURE=1) next to the core.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pickle
import random
import subprocess
import sys
import tempfile
import threading
import unicodedata

import numpy as np
import pytest
from conftest import SEED_TITLES, SEEDS, in_threads, pure, readable
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyvi import ViTokenizer
from test_segmenter import ALPHABET, EDGE_CASES
from test_text import _PIECES

import nlpkit
from nlpkit import compiled, segmenter
from nlpkit import text as nlptext
from nlpkit.features import TfidfFeatures
from nlpkit.pages import read_page
from nlpkit.predictor import Predictor, softmax

CORE = compiled.core
# What a process without NLPKIT_PURE says it predicts with (this one may have it set).
UNFORCED = (
    "compiled core"
    if importlib.util.find_spec("nlpkit._core") is not None
    else "pure Python: the compiled core is not built"
)
needs_core = pytest.mark.skipif(CORE is None, reason=f"no compiled core: {compiled.describe()}")

PROPERTY = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def outcome(f, *args, **kwargs):
    """What a call gives: its value, or its exception's type and message."""
    try:
        return "value", f(*args, **kwargs)
    except Exception as exc:  # compared, not hidden: both paths must fail alike
        return "error", type(exc), str(exc)


def both(f, *args, **kwargs):
    """f on the compiled path, then on the pure-Python path; they must agree."""
    fast = outcome(f, *args, **kwargs)
    with pure():
        slow = outcome(f, *args, **kwargs)
    assert fast == slow, f"input {args[:1]!r:.300}"
    return fast


def seed_texts() -> list[str]:
    texts = []
    for path in SEEDS:
        raw = path.read_text(encoding="utf-8")
        page = read_page(path)
        texts += [raw, page.text, *raw.split("\n"), *(s.text for s in page.related)]
    return texts + list(SEED_TITLES)


SEED_TEXTS = seed_texts()
READABLE = [t for t in SEED_TEXTS if readable(t)]
MAX_CHARS = [None, 0, 1, 7, 60, 5000]


@pytest.fixture(scope="module")
def shipped():
    return nlpkit.load()


# --- Segmentation -----------------------------------------------------------------------------


@needs_core
@pytest.mark.parametrize("text", EDGE_CASES + SEED_TEXTS[:40])
def test_syllables_and_segmentation(text):
    assert compiled.segmenter().syllabize(text) == segmenter.syllabize(text)
    out = both(nlptext.segment, text)
    assert out == ("value", ViTokenizer.tokenize(text))


@needs_core
def test_tags_across_the_cut_are_read_alike_on_both_paths():
    # The cut at max_chars is made outside every tag, the same way in C and in Python; a "<"
    # that no ">" closes is no tag, on either side of the cut.
    pieces = ['<a href="/x y" title="Giá xăng">', "</a>", "<p class=lead>", "<br/>", "<a ",
              "<p\nclass=x>", "Giá xăng tăng ", "Hà Nội ", "x <3 y ", "&lt;b&gt; "]  # fmt: skip
    for i in range(len(pieces)):
        text = "Tin " * 1240 + "".join(pieces[i:] + pieces[:i]) * 40
        for max_chars in (4980, 5000, 5007, 5023):
            with pure():  # (nlpkit.text.normalize is the core's where it is built)
                python, whole = nlptext.normalize(text, max_chars), nlptext.normalize(text)
            assert compiled.segmenter().normalize(text, max_chars) == python == whole[:max_chars]
            both(nlptext.prepare, text, True, max_chars)


@needs_core
@PROPERTY
@given(st.text(alphabet=ALPHABET, max_size=200) | st.text(max_size=120))
def test_any_text_segments_alike(text):
    assert compiled.segmenter().syllabize(text) == segmenter.syllabize(text)
    got = both(nlptext.segment, text)
    if got[0] == "value":
        assert got[1] == ViTokenizer.tokenize(text)


@needs_core
@pytest.mark.parametrize(
    "word",
    ["Tp. HCM", "TpHCM", "Tp.HCM", "Mr.Smith", "Mrs. X", "Mrs", "ThS.Nguyễn", "ThS", "Dr.No",
     "Drx. a", "ABC.", "ABCd.", "ĐHQG.", "Đà.", "TP.HCM", "U.S.A.", "Tpx.", "T.", "M.D.",
     "Mr.X@a.b", "Ab@c.d", "Mr-x", "Ms+1", "ThS:", "V.League", "Việt@x.com", "ThS.."],
)  # fmt: skip
def test_capitalised_words_titles_and_abbreviations(word):
    # A syllable starting with a capital takes the core's quick way unless what follows it
    # could make an abbreviation, a title (Mr. ...), an address or an e-mail address.
    for text in (word, f"{word} sau", f"trước {word}"):
        assert compiled.segmenter().syllabize(text) == segmenter.syllabize(text)
        assert both(nlptext.segment, text) == ("value", ViTokenizer.tokenize(text))


@needs_core
def test_syllables_get_the_same_entry_without_python():
    # A syllable of Latin letters (with tone marks), digits and punctuation gets its cache entry
    # from the core's case table, without calling Python; any other from Python's str
    # methods. The two must agree on every character of the table, alone and in syllables
    # of mixed case (title-case letters such as ǅ, digits, NUL), up to the longest it takes.
    seg = compiled.make_segmenter()
    table = [chr(c) for c in (*range(0x250), *range(0x1E00, 0x1F00))]
    for ch in table:
        fast, slow = seg._entry_both_ways(ch)
        assert fast == slow or (fast is None and ch == "\u0130"), repr(ch)  # İ lowers to two
    rng = random.Random(0)
    pool = table + list("AaĐđƠơƯưẠạ0123456789ǄǅǆĐÀ") * 20
    taken = 0
    for _ in range(20_000):
        syllable = "".join(rng.choices(pool, k=rng.choice([2, 3, 4, 7, 12, 64])))
        fast, slow = seg._entry_both_ways(syllable)
        assert fast is None or fast == slow, repr(syllable)
        taken += fast is not None
    assert taken > 15_000
    # Outside the table, or longer than the core takes: Python's way alone.
    for syllable in ("İstanbul", "Σοφία", "Москва", "東京", "x" * 65, "a😀"):
        assert seg._entry_both_ways(syllable)[0] is None


@needs_core
def test_syllables_of_every_key_length(tiny_cache):
    # The cache finds syllables of up to 8 code points below U+FFFF by a fixed-size key and
    # the others by their code points: lengths on both sides of 8, U+FFFF and astral
    # characters, each seen again once cached and again after the cache starts over.
    syllables = ["a", "ng", "nghiêng", "nghiêngx", "nghiêngxy", "abcdefghijklmnop"]
    syllables += ["a\uffff", "\uffffb", "x\U0001f600", "\U0001f600", "Đường", "ĐƯỜNG"]
    text = " ".join(f"{s} {s.upper()} {s}." for s in syllables)
    for _ in range(4):
        assert both(nlptext.segment, text) == ("value", ViTokenizer.tokenize(text))


@needs_core
def test_long_texts_and_email_runs():
    text = "\n".join(p.read_text(encoding="utf-8") for p in SEEDS)
    both(nlptext.segment, (text * 30)[:60_000])
    for unit in ("a.", "a-", "A.b", "1.a", "x+", "TP.", "1,5"):
        for tail in ("", "@", "@b", "@b.c", "@b.c@d.e", " @x.y", "://x"):
            assert both(nlptext.segment, unit * 300 + tail)[0] == "value"


@needs_core
def test_lone_surrogates_are_refused_alike():
    # pyvi's tagger fails on them; segment says so, as a ValueError, on both paths.
    for text in ["\ud800", "a \udcff b", "Hà Nội \ud83d"]:
        kind, error, _ = both(nlptext.segment, text)
        assert kind == "error" and error is ValueError


# --- Normalisation and preparation ------------------------------------------------------------


@needs_core
@pytest.mark.parametrize("max_chars", MAX_CHARS)
def test_normalize_and_prepare_on_edge_cases(max_chars):
    texts = EDGE_CASES + SEED_TEXTS + [
        "HÀ NỘIPhó chủ tịch", "TP HCMSáng nay", "12ABcd", "LÀOTiền", "a\u1680 b\u1680",
        " \u1680x\u2028y\x85z ", "\r\r\n\r", "x\u0301\u0323 \u0323\u0301", "İSTANBULda",
    ]  # fmt: skip
    for text in texts:
        both(nlptext.prepare, text, True, max_chars)
        if readable(text):
            with pure():
                python = nlptext.normalize(text, max_chars)
            assert compiled.segmenter().normalize(text, max_chars) == python


@needs_core
@PROPERTY
@given(
    st.lists(_PIECES, max_size=120).map("".join) | st.text(max_size=200),
    st.sampled_from(MAX_CHARS),
)
def test_any_text_prepares_alike(text, max_chars):
    both(nlptext.prepare, text, True, max_chars)


@needs_core
def test_long_text_is_cut_alike():
    text = "Tổng thống Nga điện đàm với Tổng thống Mỹ.\u0301 " * 3000
    for max_chars in (5000, 4999, 100, None):
        both(nlptext.prepare, text, True, max_chars)
    both(nlptext.prepare, " \n" * 40_000 + text, True, 5000)


def test_normalisation_keeps_nfc_text_nfc():
    # The core skips the second NFC of a text that was not cut. After the first, normalisation
    # only replaces white space and control characters by " ", removes them next to " " or
    # "\n" (or the ends), and inserts " " before an upper-case letter below U+2000. That keeps
    # an NFC text NFC if " " and "\n" take part in no canonical composition and have
    # combining class 0 (nothing composes or reorders across them), and those upper-case
    # letters are never the second half of a composition (so none was composed with what now
    # stands before its new space).
    firsts, seconds = set(), set()
    for c in map(chr, range(0x110000)):
        parts = unicodedata.decomposition(c).split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            firsts.add(chr(int(parts[0], 16)))
            seconds.add(chr(int(parts[1], 16)))
    for c in " \n":
        assert unicodedata.combining(c) == 0 and c not in firsts | seconds
    upper = [c for c in map(chr, range(0x2000)) if c.isupper()]
    assert "Đ" in upper and not seconds.intersection(upper)


@needs_core
def test_texts_the_core_takes_as_nfc_are():
    # The core skips Python's NFC for a text made only of characters it reads as inert: NFC on
    # their own, combining class 0, and neither they nor the first character of their NFD
    # ever the second half of a composition, so nothing composes or reorders across them.
    seconds = set()
    for c in map(chr, range(0x110000)):
        parts = unicodedata.decomposition(c).split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            seconds.add(chr(int(parts[1], 16)))
    inert = [chr(c) for c in range(0x3000) if CORE.nfc_inert(c)]
    assert set("aĐđưƠ“”–…ạệỹ ") <= set(inert) and "\u0301" not in inert
    for c in inert:
        assert unicodedata.is_normalized("NFC", c) and unicodedata.combining(c) == 0, repr(c)
        assert c not in seconds and unicodedata.normalize("NFD", c)[0] not in seconds, repr(c)
    assert not any(CORE.nfc_inert(c) for c in range(0x3000, 0x110000, 97))


# --- Scores -----------------------------------------------------------------------------------


def assert_scores_alike(predictor: Predictor, texts: list[str]) -> None:
    fast = predictor._scores_of(texts)
    with pure():
        slow = predictor._scores_of(texts)
    assert fast.tobytes() == slow.tobytes()  # bit for bit
    # A model with a none class decides among the four topics by default, among all five
    # classes with allow_none.
    modes = [False, True] if predictor.none else [False]
    for allow_none in modes:
        names = predictor.classes if allow_none else predictor.topics
        columns = slow[:, : len(names)]
        best = columns.argmax(axis=1)
        expected = softmax(predictor.temperature * columns)
        if allow_none and predictor.none_head == "detector":
            # The detector's score is the log-odds of none; the topics share the rest.
            n = len(predictor.topics)
            p_none = 1 / (1 + np.exp(-slow[:, n]))
            topics = softmax(predictor.temperature * slow[:, :n]) * (1 - p_none)[:, None]
            expected = np.column_stack([topics, p_none])
            best = expected.argmax(axis=1)
        if allow_none:
            # A text with no known term (its scores are the intercepts) is out of scope.
            blind = (slow == predictor.intercept).all(axis=1)
            expected[blind] = np.eye(len(names))[-1]
            best = np.where(blind, len(names) - 1, best)
        answers = [None if names[i] == "none" else names[i] for i in best]
        assert predictor.predict(texts, allow_none=allow_none) == answers
        assert [predictor.predict(t, allow_none=allow_none) for t in texts] == answers
        probs = predictor.predict_proba(texts, allow_none=allow_none)
        if allow_none and predictor.none_head == "detector":
            np.testing.assert_allclose(
                [list(p.values()) for p in probs], expected, rtol=1e-9, atol=1e-15
            )
        else:
            assert [list(p.values()) for p in probs] == expected.tolist()


@needs_core
def test_shipped_model_scores_alike(shipped):
    texts = [t for t in EDGE_CASES + SEED_TEXTS if readable(t)]
    assert_scores_alike(shipped, texts)
    for text in READABLE[:12]:
        fast = shipped.explain(text, k=8)
        with pure():
            assert shipped.explain(text, k=8) == fast


@needs_core
def test_a_line_end_pyvi_joins_to_a_word_ends_the_title_alike(shipped):
    # pyvi segments "x\ny\nz" as "x \n_y \n z": the title is still "x", on both paths.
    texts = ["x\ny\nz\nw", "Giá\ny\nxăng", "x\u2028y\u2028z", "Nga\nA\nB\nMỹ"]
    assert "\n_" in nlptext.prepare(texts[0])
    assert_scores_alike(shipped, texts)
    for text in texts:
        fast = shipped.explain(text, k=8)
        with pure():
            assert shipped.explain(text, k=8) == fast


@needs_core
@settings(max_examples=150, deadline=None, database=None)
@given(st.lists(st.text(alphabet=ALPHABET, min_size=1, max_size=300), min_size=1, max_size=5))
def test_any_texts_score_alike(shipped, texts):
    texts = [t for t in texts if readable(t)] or ["x"]
    assert_scores_alike(shipped, texts)


@needs_core
def test_prepared_texts_score_alike(shipped):
    prepared = [nlptext.prepare(t, max_chars=5000) for t in READABLE] + ["", "  ", "A B\nc"]
    fast = shipped.scores_prepared(prepared)
    with pure():
        assert shipped.scores_prepared(prepared).tobytes() == fast.tobytes()


def _variant(ngram_range, sublinear_tf, seed=0, repeat_title=False):
    docs = [nlptext.prepare(t) for t in READABLE]
    features = TfidfFeatures(
        ngram_range=ngram_range, min_df=1, sublinear_tf=sublinear_tf, repeat_title=repeat_title
    )
    features.fit(docs)
    rng = np.random.default_rng(seed)
    coef = rng.normal(size=(3, len(features.terms_)))
    return Predictor(features, coef, rng.normal(size=3), ["a", "b", "c"], temperature=0.7)


@needs_core
@pytest.mark.parametrize(
    "ngram_range, sublinear_tf", [((1, 3), False), ((2, 2), True), ((1, 1), True), ((2, 4), True)]
)
def test_other_feature_settings_score_alike(ngram_range, sublinear_tf):
    predictor = _variant(ngram_range, sublinear_tf)
    assert predictor._scorer() is not None
    assert_scores_alike(predictor, READABLE + ["văn bản không có từ nào quen"])


# Titles over one line and several, a headline alone, lines with no word, a first line
# cut by max_chars, and a text whose first line holds every word of the rest.
TITLED = [
    "Giá xăng tăng mạnh\nHôm nay giá xăng RON95 tăng 500 đồng, giá dầu diesel giảm.",
    "Giá xăng tăng mạnh",
    "12345 !!!\nGiá xăng tăng mạnh",
    "\n\nGiá xăng\n\ntăng mạnh\n",
    "Thủ tướng hội đàm với Thủ tướng Nhật Bản " * 200 + "\nđội tuyển bóng đá",
    "bóng đá bóng đá bóng đá\nbóng đá",
    "Giá điện\r\ntăng mạnh\rở Hà Nội",
    "Giá điện\u2028tăng\u2029mạnh\x85ở Hà Nội\nhôm nay",
    "  \t Giá điện \u00a0 tăng\n\n\nmạnh",
]


@needs_core
@pytest.mark.parametrize("ngram_range", [(1, 2), (1, 3), (2, 2)])
def test_titles_repeated_score_alike(ngram_range):
    predictor = _variant(ngram_range, True, repeat_title=True)
    assert predictor._scorer() is not None
    texts = READABLE + TITLED
    assert_scores_alike(predictor, texts)
    prepared = [nlptext.prepare(t, max_chars=5000) for t in texts] + ["a b\nc", "\n", ""]
    fast = predictor.scores_prepared(prepared)
    with pure():
        assert predictor.scores_prepared(prepared).tobytes() == fast.tobytes()
    assert_code_points_score_alike(predictor, texts)


@needs_core
def test_one_text_gets_the_same_topic_by_every_road(shipped):
    # predict(text) answers in one call into the core (Scorer.topic), which leaves anything
    # but one str, n_jobs 1 and allow_none False to the other roads.
    texts = READABLE[:40]
    fast = [shipped.predict(t) for t in texts]

    class Text(str):
        pass

    assert fast == shipped.predict(texts)
    assert [shipped.predict(Text(t)) for t in texts] == fast
    with pure():
        assert [shipped.predict(t) for t in texts] == fast
    topic = shipped._scorer().topic
    assert topic(texts[0], 1, False) == fast[0]
    for args in [(Text(texts[0]), 1, False), (texts[0], True, False), (texts[0], 2**70, False),
                 (texts[0], 2, False), (texts[0], 1, True), (texts[0], 1, None), (b"x", 1, False),
                 ("   ", 1, False)]:  # fmt: skip
        assert topic(*args) is None
    with pytest.raises(TypeError, match="n_jobs must be a whole number, at least 1"):
        shipped.predict(texts[0], n_jobs=True)
    with pytest.raises(ValueError, match="empty"):
        shipped.predict("   ")


def code_points(texts: list[str]) -> tuple[bytes, bytes]:
    """Texts as Scorer.scores_cp takes them: their code points (4 bytes each, lone surrogates
    kept) one after the other, and where each starts (int64)."""
    points = [ord(c) for t in texts for c in t]
    bounds = np.cumsum([0] + [len(t) for t in texts], dtype=np.int64)
    return np.array(points, dtype=np.uint32).tobytes(), bounds.tobytes()


def assert_code_points_score_alike(predictor, texts):
    """Scorer.scores_cp (the stream's texts, never made str objects) against scores (a str
    each), text by text: the same scores bit for bit, the same texts left to Python, and an
    invalid text left to Python too; and the probabilities of Predictor._proba_cp."""
    scorer, k = predictor._scorer(), len(predictor.classes)
    for text in texts:
        data, bounds = code_points([text])
        got, want = np.empty((1, k)), np.empty((1, k))
        left = scorer.scores_cp(data, bounds, got)
        todo = scorer.scores([text], want)
        assert left == ([0] if todo is None else todo), f"{text!r:.200}"
        if not left:
            assert got.tobytes() == want.tobytes(), f"{text!r:.200}"
    readable_ = [t for t in texts if readable(t)]
    names, probs, failed = predictor._proba_cp(*code_points(texts), False)
    assert names == predictor.topics
    assert sorted(failed) == [i for i, t in enumerate(texts) if not readable(t)]
    want = predictor.predict_proba(readable_)
    assert [list(p.values()) for p in want] == [
        row for i, row in enumerate(probs.tolist()) if i not in failed
    ]


@needs_core
def test_code_points_score_alike(shipped):
    texts = EDGE_CASES + SEED_TEXTS + ["x\ud83d lone", "\U0010ffff", "e\u0301 not NFC", "\ud800"]
    texts += ["Giá xăng " * 2000, "Giá xăng" * 2000 + " tăng", "A\u0301 " + "b " * 6000]
    assert_code_points_score_alike(shipped, texts)
    # in place or from a copy, wherever the data starts
    data, bounds = code_points(READABLE[:5])
    out, moved = np.empty((5, len(shipped.classes))), np.empty((5, len(shipped.classes)))
    assert shipped._scorer().scores_cp(data, bounds, out) == []
    assert shipped._scorer().scores_cp(memoryview(b"x" + data)[1:], bounds, moved) == []
    assert out.tobytes() == moved.tobytes()
    with pytest.raises(ValueError, match="bounds must rise"):
        shipped._scorer().scores_cp(data, bounds[8:] + bounds[:8], out)


@needs_core
@settings(max_examples=150, deadline=None, database=None)
@given(st.lists(st.text(alphabet=ALPHABET, max_size=300) | st.text(max_size=50), max_size=4))
def test_any_code_points_score_alike(shipped, texts):
    assert_code_points_score_alike(shipped, texts)


@needs_core
@pytest.mark.parametrize("max_chars", [None, 1, 7, 60])
def test_code_points_score_alike_at_any_cut(max_chars):
    predictor = _variant((1, 2), True)
    predictor.max_chars = max_chars
    assert_code_points_score_alike(predictor, READABLE[:60] + ["Giá xăng tăng " * 40])


@needs_core
def test_weights_anywhere_in_memory_score_alike():
    # The core reads a model's weights in place where their float64 values are aligned, and
    # from a copy where not (a memoryview may start anywhere in its bytes).
    predictor = _variant((1, 2), True)
    raw = bytearray(4) + predictor.coef.tobytes()
    predictor.coef = memoryview(raw)[4:].cast("d", predictor.coef.shape)
    assert_scores_alike(predictor, READABLE)


@needs_core
def test_models_with_none_score_alike(small_none_model):
    # Both kinds of none: a fifth class, and a detector whose answers Python derives from the
    # core's scores.
    assert_scores_alike(small_none_model[0], READABLE + ["Nữ ca sĩ ra mắt album nhạc mới"])


@needs_core
def test_texts_the_core_leaves_to_python_score_alike():
    predictor = _variant((1, 2), True)
    predictor.max_chars = None
    # A term counted past the core's table of logarithms, and a text cut to one letter.
    word = next(t for t in predictor._tfidf.terms_ if t.isalpha())
    long = f"{word} " * 70_000
    assert predictor._scorer().weights(long) is None  # left to Python
    assert_scores_alike(predictor, [long, f"{word} xăng tăng"])
    predictor.max_chars = 1
    assert_scores_alike(predictor, ["giá xăng"])


@needs_core
def test_unknown_transformers_stay_on_the_python_path(small_model):
    predictor = small_model[0]
    odd = Predictor(
        _OddFeatures(predictor.features), predictor.coef, predictor.intercept, predictor.topics
    )
    assert odd._scorer() is None
    assert odd.predict(["Giá xăng dầu tăng"]) == ["energy"]


class _OddFeatures:
    """A transformer the core does not know (not a TfidfFeatures)."""

    def __init__(self, features):
        self.inner, self.terms_ = features, features.terms_

    def weights(self, texts):
        return self.inner.weights(texts)


# --- The cache, threads, pickling -------------------------------------------------------------


@pytest.fixture
def tiny_cache(monkeypatch):
    """A segmenter whose cache starts over every few dozen syllables."""
    small = compiled.make_segmenter(40)
    monkeypatch.setattr(compiled, "_segmenter", small)
    return small


@needs_core
def test_cache_starting_over(tiny_cache):
    predictor = nlpkit.load()
    texts = [f"{t} số{i} từ{i}mới" for i, t in enumerate(READABLE * 2)]
    assert_scores_alike(predictor, texts)
    distinct = {s for t in texts for s in segmenter.syllabize(t)[1]}
    assert tiny_cache.cache_size() < len(distinct) // 4  # it started over, more than once


@needs_core
def test_threads_share_a_predictor(tiny_cache):
    predictor = nlpkit.load()
    lines = [line for t in READABLE for line in t.split("\n") if readable(line)]
    texts = [" ".join(random.Random(i).sample(lines, 3)) + f" mã{i}" for i in range(300)]
    with pure():
        expected = predictor.predict_proba(texts)
    got: dict[int, dict] = {}

    def work(k: int) -> None:
        for i in range(k, len(texts), 8):
            got[i] = predictor.predict_proba(texts[i])

    in_threads(work, 8)
    assert [got[i] for i in range(len(texts))] == expected


@needs_core
def test_threads_scoring_code_points_share_a_predictor(tiny_cache):
    # The core scores code points without the interpreter's lock (a stream's texts): threads
    # doing so beside threads that score str and segment, on one segmenter whose cache keeps
    # starting over, get what one thread gets.
    predictor = nlpkit.load()
    lines = [line for t in READABLE for line in t.split("\n") if readable(line)]
    texts = [" ".join(random.Random(i).sample(lines, 3)) + f" mã{i} số{i}" for i in range(240)]
    with pure():
        expected = predictor.predict_proba(texts)
        expected_words = [segmenter.segment(t) for t in texts]
    got: dict[int, dict] = {}
    words: dict[int, str] = {}

    def work(k: int) -> None:
        for start in range(5 * k, len(texts), 40):
            chunk = list(range(start, min(start + 5, len(texts))))
            if k % 2:
                for i in chunk:
                    got[i] = predictor.predict_proba(texts[i])
                    words[i] = segmenter.segment(texts[i])
                continue
            names, probs, failed = predictor._proba_cp(*code_points([texts[i] for i in chunk]))
            assert not failed
            for i, row in zip(chunk, probs.tolist()):
                got[i] = dict(zip(names, row))

    in_threads(work, 8)
    assert [got[i] for i in range(len(texts))] == expected
    assert all(words[i] == expected_words[i] for i in words) and len(words) == len(texts) // 2


@needs_core
def test_the_core_lets_other_threads_run_while_it_scores_code_points(shipped):
    import time

    texts = READABLE * (3000 // len(READABLE) + 1)
    data, bounds = code_points(texts)
    out = np.empty((len(texts), len(shipped.classes)))
    scorer = shipped._scorer()
    scorer.scores_cp(data, bounds, out)  # (its syllables in the cache)
    start, seen = threading.Event(), []
    other = threading.Thread(target=lambda: (start.wait(), seen.append(time.perf_counter())))
    other.start()
    interval = sys.getswitchinterval()
    # No thread switch but where a thread lets the lock go: the other thread runs before the
    # call ends only if the core lets it.
    sys.setswitchinterval(1000)
    try:
        start.set()
        scorer.scores_cp(data, bounds, out)
        ended = time.perf_counter()
    finally:
        sys.setswitchinterval(interval)
    other.join()
    assert seen[0] < ended


@needs_core
def test_a_segmenter_without_its_model_is_an_error_not_a_crash():
    empty = CORE.Segmenter.__new__(CORE.Segmenter)
    for call in (
        lambda: empty.segment("Giá xăng"),
        lambda: empty.prepare("Giá xăng", None),
        lambda: empty.syllabize("Giá xăng"),
        lambda: empty.normalize("Giá xăng", None),
    ):
        with pytest.raises(ValueError, match="has no model"):
            call()


@needs_core
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_child_forked_while_a_thread_scores_can_score():
    # The thread holds the segmenter's lock when the process forks; the child has no such
    # thread, and must not wait for it.
    code = """
import os, sys, threading, time
import numpy as np
import nlpkit
p = nlpkit.load()
texts = [f"Giá xăng dầu tăng mạnh từ chiều nay, tuyển Việt Nam thắng {i}" for i in range(200000)]
points = np.array([ord(c) for t in texts for c in t], dtype=np.uint32).tobytes()
bounds = np.cumsum([0] + [len(t) for t in texts], dtype=np.int64).tobytes()
p.predict("x")
ended = []
def score():
    p._proba_cp(points, bounds)
    ended.append(time.perf_counter())
t = threading.Thread(target=score)
t.start()
time.sleep(0.05)  # (the thread in the core meanwhile, which lets this one run)
forked = time.perf_counter()
pid = os.fork()
if pid == 0:
    print(p.predict("Giá xăng dầu tăng mạnh từ chiều nay"), flush=True)
    os._exit(0)
t.join()
_, status = os.waitpid(pid, 0)
print("inside" if ended[0] > forked else "after")
sys.exit(os.waitstatus_to_exitcode(status))
"""
    # (outside the checkout, whose source folder would shadow the installed package)
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tempfile.gettempdir(),
        env={**os.environ, "NLPKIT_PURE": ""},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["energy", "inside"]


# --- predict as a method of the core -----------------------------------------------------------


@needs_core
def test_predict_is_the_cores_method_with_the_python_methods_answers(shipped):
    from nlpkit.predictor import _python_predict

    assert type(Predictor.predict).__name__ == "method_descriptor"
    calls = [
        ((READABLE[0],), {}),
        ((READABLE[:7],), {}),
        ((tuple(READABLE[:3]),), {}),
        (([],), {}),
        ((READABLE[1], 1), {}),
        ((READABLE[1], 1, False), {}),
        ((READABLE[:4], 1, True), {}),
        ((READABLE[1], True), {}),
        ((READABLE[:3], 2), {}),
        ((READABLE[1],), {"n_jobs": 1}),
        ((), {"texts": READABLE[2]}),
        ((READABLE[3],), {"allow_none": False}),
        ((None,), {}),
        (("  \n",), {}),
        ((5,), {}),
        (([READABLE[0], None],), {}),
        ((iter(READABLE[:2]),), {}),
        ((READABLE[0], 0), {}),
        ((), {}),
        ((READABLE[0], 1, False, 4), {}),
        ((READABLE[0],), {"topics": 1}),
    ]
    for args, kwargs in calls:
        got = outcome(shipped.predict, *args, **kwargs)
        expected = outcome(_python_predict, shipped, *args, **kwargs)
        assert got == expected, (args, kwargs)
        with pure():  # the switch the tests use: the core's method leaves it to Python
            assert outcome(shipped.predict, *args, **kwargs) == got


@needs_core
def test_predict_method_signature_doc_and_pickle(shipped):
    import inspect

    from nlpkit.predictor import _python_predict

    python = inspect.signature(_python_predict).parameters
    core = inspect.signature(Predictor.predict).parameters
    assert [(p.name, p.default) for p in python.values()] == [
        (p.name, p.default) for p in core.values()
    ]
    assert list(inspect.signature(shipped.predict).parameters) == ["texts", "n_jobs", "allow_none"]
    assert Predictor.predict.__doc__ == _python_predict.__doc__
    clone = pickle.loads(pickle.dumps(shipped.predict))
    assert clone(READABLE[:5]) == shipped.predict(READABLE[:5])


@needs_core
def test_pickled_predictor_makes_its_own_scorer(shipped):
    shipped.predict("Giá xăng tăng")
    clone = pickle.loads(pickle.dumps(shipped))
    assert clone._scorer_ is None and clone._fast_ is None
    assert clone.predict_proba(READABLE[:5]) == shipped.predict_proba(READABLE[:5])
    assert clone._scorer_ is not None and clone._scorer_ is not shipped._scorer_


# --- The fallback, in a process of its own ----------------------------------------------------


def _run(code: str, pure_env: bool) -> str:
    """What a fresh interpreter prints, with the nlpkit these tests import: the installed
    package, or a checkout's source folder when the tests run from it (`python -m pytest`,
    which puts the checkout first on the path, where the core may not be built)."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(nlpkit.__file__)))
    path = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "NLPKIT_PURE": "1" if pure_env else "", "PYTHONPATH": path}
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=tempfile.gettempdir(),
    )
    return out.stdout


def test_forced_fallback_gives_the_same_probabilities():
    code = (
        "import json, nlpkit\nfrom nlpkit import compiled\n"
        f"texts = {READABLE[:8]!r}\n"
        "print(json.dumps([compiled.describe(), nlpkit.predict_proba(texts)]))"
    )
    slow_path, slow = json.loads(_run(code, pure_env=True))
    assert slow_path == "pure Python: NLPKIT_PURE is set"
    fast_path, fast = json.loads(_run(code, pure_env=False))
    assert fast_path == UNFORCED
    assert fast == slow  # (floats survive JSON exactly)


@pytest.mark.parametrize("pure_env", [True, False])
def test_version_says_which_path_predicts(pure_env):
    line = _run("from nlpkit.cli import main\nmain(['--version'])", pure_env)
    assert line.startswith(f"nlpkit {nlpkit.__version__} (")
    if pure_env:
        assert "(pure Python: NLPKIT_PURE is set)" in line
    else:
        assert f"({UNFORCED})" in line


# --- Real texts -------------------------------------------------------------------------------


@needs_core
@pytest.mark.corpus
@pytest.mark.parametrize(
    "kind, n", [("headline", 3000), ("title_lead", 3000), ("full_article", 1200)]
)
def test_corpus_texts(shared_data, shipped, kind, n):
    from nlpkit.corpus import sample_texts

    texts = sample_texts(kind, n, folder=shared_data)
    assert len(texts) == n
    assert_scores_alike(shipped, texts)
    for text in texts[: n // 3]:
        fast = nlptext.prepare(text, max_chars=5000)
        with pure():
            assert nlptext.prepare(text, max_chars=5000) == fast
    for text in texts[:300]:
        assert nlptext.segment(text) == ViTokenizer.tokenize(text)


@needs_core
@PROPERTY
@given(
    st.lists(
        st.text(alphabet=ALPHABET + " \t\n\u00a0\u2003\u3000\x1c", max_size=80)
        # one word in several cases (the core lower-cases a way of writing a token once)
        | st.text(alphabet="aAiIİıΣσςĐđ\u0307 ", max_size=30)
        | st.text(max_size=40),
        max_size=8,
    )
)
def test_tokens_are_numbered_as_python_splits_them(texts):
    # Training's word numbering: text.lower().split() of each text, numbered by first sight.
    ids, docs, tokens = compiled.core.number_tokens(texts)
    numbers: dict[str, int] = {}
    expected_ids, expected_docs = [], []
    for d, text in enumerate(texts):
        for token in text.lower().split():
            expected_ids.append(numbers.setdefault(token, len(numbers)))
            expected_docs.append(d)
    assert tokens == list(numbers)
    assert np.frombuffer(ids, np.int64).tolist() == expected_ids
    assert np.frombuffer(docs, np.int64).tolist() == expected_docs


@needs_core
def test_training_counts_terms_alike():
    from nlpkit.counting import count_terms
    from nlpkit.text import prepare

    texts = [prepare(path.read_text(encoding="utf-8")) for path in SEEDS]
    texts = [t + " 12 , Đà_Nẵng\u00a0ΣΑΣ\u2003x" for t in texts] + ["", "İ ǅ ß"]
    fast = count_terms(texts, (1, 2), 1, 1.0, 50)
    with pure():
        slow = count_terms(texts, (1, 2), 1, 1.0, 50)
    assert fast[1].tolist() == slow[1].tolist()
    assert (fast[0] != slow[0]).nnz == 0
    with pytest.raises(TypeError, match=r"texts\[1\] must be a str"):
        compiled.core.number_tokens(["a", b"b"])


@needs_core
def test_the_counting_steps_refuse_numbers_they_cannot_read():
    # (numbers out of range would be read outside the arrays)
    core = compiled.core

    def b(*values):
        return np.asarray(values, dtype=np.int64).tobytes()

    with pytest.raises(ValueError, match="bad word numbers"):
        core.count_ngrams(b(0), b(0), b(5), 2, True, True)
    with pytest.raises(ValueError, match="bad token or text numbers"):
        core.count_ngrams(b(0, 1), b(1, 0), b(0, 1), 2, True, True)
    with pytest.raises(ValueError, match="bad rows or terms"):
        core.keep_columns(b(1, 0), b(0, 0), b(1, 1), b(0), 2)
    with pytest.raises(ValueError, match="bad columns"):
        core.keep_columns(b(0), b(0), b(1), b(3), 1)
    for huge in (2**61, 2**62, 2**63 - 1):
        with pytest.raises(OverflowError, match="too many texts"):
            core.keep_columns(b(), b(), b(), b(), huge)
    indptr, indices, data, wide = core.keep_columns(b(0, 0, 2), b(0, 1, 1), b(3, 4, 5), b(-1, 0), 3)
    assert not wide and np.frombuffer(indptr, np.int32).tolist() == [0, 1, 1, 2]
    assert np.frombuffer(indices, np.int32).tolist() == [0, 0]
    assert np.frombuffer(data, np.int64).tolist() == [4, 5]
