"""nlpkit.segmenter must return exactly what pyvi's ViTokenizer.tokenize returns, for any string.

Every test compares against pyvi itself, run in this process on the same input.
"""

from __future__ import annotations

import importlib.resources
import json
import math
import random
import re
import subprocess
import sys
import unicodedata

import pytest
from conftest import SEEDS, in_threads
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyvi import ViTokenizer

from nlpkit import segmenter
from nlpkit.pyvi_model import crfsuite_bytes

PYVI = ViTokenizer.ViTokenizer


def pyvi_segment(text: str) -> str:
    return PYVI.tokenize(text)


def assert_same(text: str) -> None:
    expected = pyvi_segment(text)
    got = segmenter.segment(text)
    assert got == expected, f"input {text[:200]!r}"


# --- Hand-picked inputs ----------------------------------------------------------------------

EDGE_CASES = [
    "",
    " ",
    "   \t  ",
    "\n",
    "\n\n\n",
    " \n \n ",
    "\r\n",
    "\u3000\xa0",
    "a",
    "A",
    "Đ",
    "7",
    ".",
    "xin chào",
    "Xin Chào",
    "XIN CHÀO VIỆT NAM",
    "Tổng thống Nga và Thổ Nhĩ Kỳ thảo luận các đề xuất đảm bảo an ninh",
    "Giá xăng tăng 2.000 đồng, lãi suất 1,5% và 3_4 điểm; 1.000.000 người",
    "2.000",
    "1,5",
    "1.",
    ",5",
    "12:30 ngày 1/2/2022",
    "50% 100 %",
    "...",
    "..",
    "....",
    "Chờ đã... rồi sao?!",
    "==>",
    "a==>b",
    "->",
    "a->b",
    "-->",
    ">>",
    ">>>",
    "<<>>",
    "!!! ??? ;;; ,,,",
    "«Không» “Có” ‘Ừ’ — – -",
    "(phải) [trái] {giữa}",
    "TP.",
    "TP. Hồ Chí Minh",
    "Tp.HCM",
    "TP.HCM",
    "tp. hcm",
    "Mr. Smith, Mrs. Jones, Ms. Lee, Dr. Who và ThS. Nguyễn Văn A",
    "MR. Smith",
    "U.S.A. và E.U.",
    "ĐHQG. Đ. Ð.",
    "HCM.",
    "A. B. Nguyễn",
    "Ông A.",
    "Donald Trump gặp Vladimir Putin và Recep Tayyip Erdogan ở Ankara",
    "iPhone McDonald's O'Neil d'Artagnan",
    "Park Hang-seo, Nga-Ukraina, COVID-19, F-16",
    "http://vnexpress.net/the-gioi/nga-123.html?x=1&y=2 đọc thêm",
    "https://x.y/z,",
    "ftp://a",
    "xem tại www.vnexpress.net.",
    "liên hệ: a.b-c+d@e-f.g.com.vn, x@y hoặc @",
    "a@b.c@d.e",
    "@b.c",
    "a@",
    "a@b",
    "a@b.",
    "mail:a@b.c.",
    "..a@b.c",
    "-a@b.c",
    "Đà@b.c",
    "😀 vui quá 😀😀",
    "👍🏽 tuyệt",
    unicodedata.normalize("NFD", "Tổng thống Nga và Thổ Nhĩ Kỳ"),
    unicodedata.normalize("NFD", "ĐẢM BẢO AN NINH"),
    "a\u0301",
    "\u0301",
    "\x00",
    "a\x00b",
    "và\x00",
    "http://a\x00b",
    "\ufeffTổng thống",
    "xin\u200bchào",
    "ǅemal ǈ",
    "ΣΑΣ ΣΑΣ Σ",
    "İstanbul",
    "ﬁ ﬂ",
    "²³ ½ ⅷ ٣.٤ ١٢",
    "x\x85y\u2028z\x1cw",
    "Hà Nội\tHải Phòng\vĐà Nẵng\fHuế",
    "dòng một\n\ndòng hai\n",
    "\n\nBa dòng\ntrống\n\n",
    "_",
    "__init__",
    "a_b",
    "1_000",
    "Việt Nam" * 20,
    "Hà Nội " * 300,
]


@pytest.mark.parametrize("text", EDGE_CASES)
def test_edge_cases(text):
    assert_same(text)


@pytest.mark.parametrize("text", EDGE_CASES)
def test_syllables_are_pyvis(text):
    assert segmenter.syllabize(text) == PYVI.sylabelize(text)


def test_character_classes_behind_the_shortcuts():
    # syllabize cuts at str.split() white space and takes an isalpha() chunk whole: that needs
    # regex \s to be str.isspace(), and letters to be \w but neither \d nor "_".
    every = "".join(map(chr, range(0x110000)))
    assert re.findall(r"\s", every) == [c for c in every if c.isspace()]
    letters = "".join(c for c in every if c.isalpha())
    assert re.fullmatch(r"[^\W\d_]*", letters)


def test_nothing_to_segment_returns_the_input_itself():
    for text in ["", "   ", "\t\r", unicodedata.normalize("NFD", " \u3000 ")]:
        assert segmenter.segment(text) == pyvi_segment(text) == text


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name)
def test_seed_files(path):
    text = path.read_text(encoding="utf-8")
    assert_same(text)
    for line in text.split("\n"):
        assert_same(line)


def test_labels_are_pyvis_crf_labels():
    for path in SEEDS:
        _, syllables = PYVI.sylabelize(path.read_text(encoding="utf-8"))
        expected = PYVI.model.predict([PYVI.sent2features(syllables, False)])[0]
        assert segmenter.tag(syllables) == list(expected)
    for syllables in (["Hà"], ["nội"], ["Hà", "Nội"], ["\x00", "b"]):
        expected = PYVI.model.predict([PYVI.sent2features(syllables, False)])[0]
        assert segmenter.tag(syllables) == list(expected)
    assert segmenter.tag([]) == []


def test_long_texts():
    text = "\n".join(p.read_text(encoding="utf-8") for p in SEEDS)
    long20k = (text * (20_000 // len(text) + 1))[:20_000]
    assert_same(long20k)
    long400k = (text * (400_000 // len(text) + 1))[:400_000]
    out = segmenter.segment(long400k)
    # Only spaces and "_" are added or removed, and no syllable is lost.
    assert "".join(out.replace("_", " ").split()) == "".join(long400k.replace("_", " ").split())


def test_long_runs_of_email_characters():
    # pyvi's regular expression rescans such runs at every syllable in them (quadratic time);
    # the syllables must still be the same.
    for unit in ("a.", "a-", "A.b", "1.a", "x+"):
        for tail in ("", "@", "@b", "@b.c", "@b.c@d.e", " @x.y"):
            text = unit * 300 + tail
            assert segmenter.syllabize(text) == PYVI.sylabelize(text)
            assert_same(text)
    big = "a." * 200_000 + "@b " + "a-" * 200_000  # just has to finish
    assert len(segmenter.syllabize(big)[1]) == 800_002


def test_surrogates_fail_like_pyvi():
    # pycrfsuite cannot encode lone surrogates: pyvi raises (a SystemError wrapping this
    # UnicodeEncodeError); nlpkit raises the UnicodeEncodeError itself.
    for text in ["\ud800", "a \udcff b", "Hà Nội \ud83d", "x\ud800y z"]:
        with pytest.raises(Exception) as pyvi_error:
            pyvi_segment(text)
        cause = pyvi_error.value.__cause__ or pyvi_error.value.__context__ or pyvi_error.value
        assert isinstance(cause, UnicodeEncodeError)
        with pytest.raises(UnicodeEncodeError) as error:
            segmenter.segment(text)
        assert error.value.object == cause.object
        # The surrogate stays out of the cache: the next call fails the same way.
        with pytest.raises(UnicodeEncodeError):
            segmenter.segment(text)


@pytest.mark.parametrize("value", [None, b"bytes", 3])
def test_non_strings_fail_like_pyvi(value):
    with pytest.raises(TypeError):
        pyvi_segment(value)
    with pytest.raises(TypeError):
        segmenter.segment(value)


# --- Arbitrary text ---------------------------------------------------------------------------

_VI = "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵ"
ALPHABET = (
    _VI
    + _VI.upper()
    + "fjwzFJWZ0123456789"
    + " " * 12
    + "\n\n\t\r\xa0\u2028"
    + ".,;:!?-_/()[]\"'“”…=><@%&+*#~"
    + "\x00\u0300\u0301\u0323\ufeff\u200b\u00ad\u200d\u2060\u202eΣςİǅ²½٣😀"
)
_SEED_WORDS = sorted(
    {w for p in SEEDS for w in p.read_text(encoding="utf-8").split()}
    | {"TP.", "Tp.", "Mr.", "ThS.", "==>", "->", "...", ">>", "2.000", "1,5", "a@b.c", "http://x.y"}
)
_words = st.sampled_from(_SEED_WORDS)
_cased = st.builds(
    lambda w, how: [w, w.lower(), w.upper(), w.title(), unicodedata.normalize("NFD", w)][how],
    _words,
    st.integers(0, 4),
)
_glue = st.sampled_from([" ", " ", " ", " ", "\n", "", ", ", ". ", "-", "  ", "\t"])
_PROPERTY = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@_PROPERTY
@given(st.text(alphabet=ALPHABET, max_size=200))
def test_any_text(text):
    assert segmenter.syllabize(text) == PYVI.sylabelize(text)
    assert_same(text)


@_PROPERTY
@given(st.lists(st.tuples(_cased, _glue), max_size=60))
def test_any_sentence(parts):
    assert_same("".join(w + g for w, g in parts))


# --- The model and the decoder ----------------------------------------------------------------


def test_model_is_pyvis(tmp_path):
    model = segmenter._load()
    pickled = (importlib.resources.files("pyvi") / "models" / "pyvi3.pkl").read_bytes()
    with open(PYVI.model.modelfile.name, "rb") as f:  # the file pyvi's own tagger reads
        assert crfsuite_bytes(pickled) == f.read()
    words = {i: w for w, i in model.vocab.items()}
    base, shift = model.base, model.base**2
    bigrams, trigrams = set(), set()
    for code in model.ngrams[:-1].tolist():
        if code < shift:
            bigrams.add(f"{words[code // base]} {words[code % base]}")
        else:
            code -= shift
            a, b, c = code // shift, code // base % base, code % base
            trigrams.add(f"{words[a]} {words[b]} {words[c]}")
    assert bigrams == PYVI.bi_grams
    assert trigrams == PYVI.tri_grams
    assert PYVI.model.classes_ == ["B_W", "I_W"]
    # crfsuite's own dump prints the transition weights rounded to six decimals.
    dump = tmp_path / "dump.txt"
    PYVI.model.tagger_.dump(str(dump))
    printed = re.findall(r"\((?:1)\) (\S+) --> (\S+): (\S+)", dump.read_text(encoding="utf-8"))
    ids = {"B_W": 0, "I_W": 1}
    assert len(printed) == 4
    for src, dst, weight in printed:
        assert round(model.trans[2 * ids[src] + ids[dst]], 6) == float(weight)


def _states(items: list[dict[str, float]]) -> tuple[list[float], list[float]]:
    """crfsuite's state scores for items of (attribute: value): 0.0, then + weight * value per
    attribute, in the item's order."""
    state = segmenter._load().state
    scores = ([], [])
    for item in items:
        for label in (0, 1):
            total = 0.0
            for attribute, value in item.items():
                total += state[attribute][label] * value
            scores[label].append(total)
    return scores


def _decode(items: list[dict[str, float]]) -> list[str]:
    """The labels crfsuite itself and our decoder give these items; they must agree."""
    s0, s1 = _states(items)
    ours = [("B_W", "I_W")[x] for x in segmenter._viterbi(s0, s1, segmenter._load().trans).tolist()]
    theirs = PYVI.model.tagger_.tag(items)
    assert ours == theirs, items
    return ours


def _exact_tie(f) -> tuple[float, float]:
    """(v, u) with f(v, u) == 0.0 exactly in float arithmetic: for u = 1/997, 2/997, ...,
    bisect f(., u) to its sign change and look a few ulps around it (often the two sides of a
    tie live on float grids that never meet; another u shifts them)."""
    for k in range(1, 5000):
        u = k / 997
        lo, hi = -1e3, 1e3
        negative = f(lo, u) < 0
        for _ in range(200):
            mid = (lo + hi) / 2
            if (f(mid, u) < 0) == negative:
                lo = mid
            else:
                hi = mid
        v = lo
        for _ in range(64):
            v = math.nextafter(v, -math.inf)
        for _ in range(128):
            if f(v, u) == 0.0:
                return v, u
            v = math.nextafter(v, math.inf)
    raise AssertionError("no exact tie found")


def test_decoder_matches_crfsuite_on_arbitrary_scores():
    rng = random.Random(7)
    names = ["bias", "word.isdigit()", "word.istitle()", "+1:word.bi_gram()", "-1:word.isupper()"]
    assert _decode([{}]) == ["B_W"]  # a tie on the last label goes to B_W
    assert _decode([{}, {}, {}])
    for _ in range(300):
        n = rng.randint(1, 25)
        _decode(
            [
                {a: rng.uniform(-3, 3) for a in rng.sample(names, rng.randint(0, 3))}
                for _ in range(n)
            ]
        )


def _crf1dc_viterbi(s0, s1, trans):
    """crfsuite's crf1dc_viterbi, transcribed loop for loop (L = 2)."""
    state, t = [s0, s1], [[trans[0], trans[1]], [trans[2], trans[3]]]
    score = [[state[j][0] for j in range(2)]]
    back = [[0, 0]]
    for k in range(1, len(s0)):
        cur, links = [0.0, 0.0], [0, 0]
        for j in range(2):
            best = -sys.float_info.max
            for i in range(2):
                candidate = score[-1][i] + t[i][j]
                if best < candidate:
                    best, links[j] = candidate, i
            cur[j] = best + state[j][k]
        score.append(cur)
        back.append(links)
    labels = [0 if not score[-1][0] < score[-1][1] else 1]
    for k in range(len(s0) - 1, 0, -1):
        labels.append(back[k][labels[-1]])
    return labels[::-1]


def test_decoder_is_crfsuites_algorithm():
    # Any transition scores (pyvi's never make a label keep itself while the other switches),
    # with ties made likely by scores on a coarse grid.
    rng = random.Random(3)
    for _ in range(2000):
        trans = tuple(rng.choice([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0]) for _ in range(4))
        n = rng.randint(1, 12)
        s0 = [rng.choice([-1.0, -0.5, 0.0, 0.5, 1.0]) for _ in range(n)]
        s1 = [rng.choice([-1.0, -0.5, 0.0, 0.5, 1.0]) for _ in range(n)]
        assert segmenter._viterbi(s0, s1, trans).tolist() == _crf1dc_viterbi(s0, s1, trans)


def test_decoder_breaks_ties_like_crfsuite():
    model = segmenter._load()
    t00, t01, t10, t11 = model.trans
    w0, w1 = model.state["bias"]
    far = 1e3 / (w0 - w1)  # with this "bias" B_W beats I_W by 1000 (with -far, the reverse)

    # Into B_W at position 1, from B_W and from I_W tie: B_W (the lower label id) is kept.
    def into_b(v, u):
        s0, s1 = _states([{"bias": v, "word.isdigit()": u}])
        return (s0[0] + t00) - (s1[0] + t10)

    v, u = _exact_tie(into_b)
    assert _decode([{"bias": v, "word.isdigit()": u}, {"bias": far}]) == ["B_W", "B_W"]

    # Into I_W at position 1: likewise.
    def into_i(v, u):
        s0, s1 = _states([{"bias": v, "word.isdigit()": u}])
        return (s0[0] + t01) - (s1[0] + t11)

    v, u = _exact_tie(into_i)
    assert _decode([{"bias": v, "word.isdigit()": u}, {"bias": -far}]) == ["B_W", "I_W"]

    # The last position's two scores tie: B_W wins.
    def last(v, u):
        s0, s1 = _states([{"bias": u}, {"bias": v}])
        p, q, r, w = s0[0] + t00, s1[0] + t10, s0[0] + t01, s1[0] + t11
        return ((q if p < q else p) + s0[1]) - ((w if r < w else r) + s1[1])

    v, u = _exact_tie(last)
    assert _decode([{"bias": u}, {"bias": v}])[-1] == "B_W"


def test_cache_starting_over(monkeypatch):
    monkeypatch.setattr(segmenter, "_CACHE_LIMIT", 50)
    segmenter._load()
    first = segmenter._cache
    lines = [line for p in SEEDS for line in p.read_text(encoding="utf-8").split("\n")][:60]
    for i, line in enumerate(lines):
        assert_same(f"Từ{i} mới{i} {line} {i}xyz")  # new syllables: misses
    assert segmenter._cache is not first
    assert len(segmenter._cache.index) < 50 + 200


def test_threads():
    lines = [line for p in SEEDS for line in p.read_text(encoding="utf-8").split("\n")]
    texts = [" ".join(random.Random(i).sample(lines, 5)) for i in range(40)]
    texts = [t.upper() if i % 3 == 0 else t for i, t in enumerate(texts)]
    expected = [pyvi_segment(t) for t in texts]
    results: dict[int, str] = {}

    def work(k: int) -> None:
        for i in range(k, len(texts), 4):
            results[i] = segmenter.segment(texts[i])

    in_threads(work, 4)
    assert [results[i] for i in range(len(texts))] == expected


def test_loading_runs_no_pickled_code():
    # The weights come from the crfsuite file inside pyvi's pickle, read without unpickling
    # sklearn-crfsuite's classes (nor importing it).
    code = (
        "import sys; from nlpkit import segmenter; "
        "assert segmenter.segment('Hà Nội') == 'Hà_Nội'; "
        "print('sklearn_crfsuite' in sys.modules, 'pycrfsuite' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# --- The real corpora -------------------------------------------------------------------------


@pytest.mark.corpus
def test_corpus_texts(shared_data):
    texts = []
    for name in ("raw_corpus.jsonl", "vnexpress_2020s.jsonl"):
        with open(shared_data / name, encoding="utf-8") as f:
            for i, line in enumerate(f):
                if i % 60 == 0:  # (about 1,400 texts: pyvi takes most of the time)
                    record = json.loads(line)
                    text = (record.get("title") or "") + "\n" + (record.get("text") or "")
                    texts.append(text[:3000])
    assert len(texts) > 1000
    different = [t for t in texts if segmenter.segment(t) != pyvi_segment(t)]
    print(f"{len(texts) - len(different)} of {len(texts)} corpus texts segmented exactly as pyvi")
    assert not different, different[:3]
