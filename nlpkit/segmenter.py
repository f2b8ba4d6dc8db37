"""A fast word segmenter that returns exactly what ``pyvi.ViTokenizer.tokenize`` returns.

pyvi segments text in four steps: a regular expression cuts the NFC-normalised text into
syllables; every syllable gets a dict of features (itself lower-cased, its case and digit flags,
its neighbours, dictionary bigrams and trigrams); a linear-chain CRF (crfsuite, via
sklearn-crfsuite) labels each syllable ``B_W`` or ``I_W`` by Viterbi decoding; and the labels
join syllables with ``_``. It spends ~16 µs per syllable building dicts and handing them to
crfsuite, and it builds its output by repeated string concatenation, which is quadratic.

This module computes the same thing from the same model, without the dicts:

* the weights and the dictionary are read from the installed pyvi at first use
  (`nlpkit.pyvi_model`: never copied into this repository), the weights bit for bit from
  crfsuite's binary model inside pyvi's pickle;
* each distinct syllable's share of the score is computed once and cached; a text's scores are
  then a handful of vectorised gathers and additions, made in the same order crfsuite adds the
  same numbers, so every float (and so every tie) comes out identical;
* the two-label Viterbi runs in a tight Python loop over plain floats, with crfsuite's
  tie-breaking (the lower label id wins);
* the output is built with one ``str.join``.

Time is linear in the length of the text (pyvi's own regular expression is not, on long runs of
e-mail characters: see `syllabize`).

Every quirk of pyvi is kept on purpose, e.g. the input is returned unchanged when it has no
syllable, and pycrfsuite's C strings stop at a NUL character.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING

from .compiled import CACHE_LIMIT
from .pyvi_model import crfsuite_bytes, model_file, read_crfsuite

if TYPE_CHECKING:
    import numpy as np

__all__ = ["segment", "syllabize", "tag"]

# --- Syllables -------------------------------------------------------------------------------
# pyvi's pattern, alternative by alternative and in its order (the first alternative that
# matches wins). Groups are non-capturing here: findall then returns strings, not tuples.
_ABBREVIATIONS = r"[A-ZĐ]+\.|Tp\.|Mr\.|Mrs\.|Ms\.|Dr\.|ThS\."
_SPECIALS = r"==>|->|\.\.\.|>>|\n"
_WEB = r"\w+://[^\s]+"
_EMAIL = r"[a-zA-Z0-9_.+-]+@(?:[a-zA-Z0-9-]+\.)+[a-zA-Z0-9-]+"
_DIGIT = r"\d+(?:[\.,_]\d+)+"
_NON_WORD = r"[^\w\s]"
_WORD = r"\w+"

_BEFORE_EMAIL = "|".join([_ABBREVIATIONS, _SPECIALS, _WEB])
_AFTER_EMAIL = "|".join([_DIGIT, _NON_WORD, _WORD])
# The e-mail alternative needs an "@": without one the pattern below finds the same syllables.
# It is also the only alternative that can make Python's regex engine quadratic (it scans a
# whole run of [a-zA-Z0-9_.+-] at every syllable in it), so it is only tried where an "@" is.
_RE_NO_EMAIL = re.compile(f"{_BEFORE_EMAIL}|{_AFTER_EMAIL}")
_RE_BEFORE_EMAIL = re.compile(_BEFORE_EMAIL)
_RE_AFTER_EMAIL = re.compile(_AFTER_EMAIL)
_RE_DOMAIN = re.compile(r"(?:[a-zA-Z0-9-]+\.)+[a-zA-Z0-9-]+")
_EMAIL_LOCAL = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+-")


def syllabize(text: str) -> tuple[str, list[str]]:
    """pyvi's ``sylabelize``: the NFC-normalised text and its syllables (tokens).

    Same result as pyvi for every string, in time linear in its length.
    """
    text = unicodedata.normalize("NFC", text)
    # No syllable contains white space except "\n", which is one on its own, so the text's
    # syllables are those of its lines, with "\n" between, and a line's are those of its
    # white-space separated chunks (str.split and regex \s agree on what white space is). A
    # chunk of letters only is one syllable (no alternative before \w+ can match it and \w+
    # takes all of it); others are cut by pyvi's pattern, and remembered.
    out: list[str] = []
    append = out.append
    for line in text.split("\n"):
        for chunk in line.split():
            if chunk.isalpha():
                append(chunk)
            else:
                out += _chunk_syllables(chunk)
        append("\n")
    out.pop()
    return text, out


_chunk_cache: dict[str, tuple[str, ...]] = {}


def _chunk_syllables(chunk: str) -> tuple[str, ...]:
    """The syllables of a white-space free chunk, as pyvi's pattern finds them."""
    found = _chunk_cache.get(chunk)
    if found is None:
        found = tuple(_RE_NO_EMAIL.findall(chunk) if "@" not in chunk else _with_email(chunk))
        if len(chunk) <= 64:
            if len(_chunk_cache) >= 1 << 16:
                _chunk_cache.clear()
            _chunk_cache[chunk] = found
    return found


def _with_email(chunk: str) -> list[str]:
    # The e-mail alternative matches at p only if the run of [a-zA-Z0-9_.+-] from p ends right
    # before an "@" (the local part cannot stop earlier: the next character would not be "@"),
    # and then its domain part is the same whatever p is: one regex match per "@". Trying it
    # only there keeps this linear, where the regex engine would rescan the run at each p.
    out: list[str] = []
    end = len(chunk)
    runs: list[tuple[int, int]] = []  # (run start, position of its "@")
    at = chunk.find("@")
    floor = 0
    while at >= 0:
        run = at
        while run > floor and chunk[run - 1] in _EMAIL_LOCAL:
            run -= 1
        runs.append((run, at))
        floor = at + 1
        at = chunk.find("@", at + 1)
    domains: dict[int, int] = {}
    k = p = 0
    while p < end:
        m = _RE_BEFORE_EMAIL.match(chunk, p)
        if m is None:
            while k < len(runs) and runs[k][1] <= p:
                k += 1
            if k < len(runs) and runs[k][0] <= p:
                at = runs[k][1]
                stop = domains.get(at)
                if stop is None:
                    d = _RE_DOMAIN.match(chunk, at + 1)
                    stop = domains[at] = d.end() if d else -1
                if stop > 0:
                    out.append(chunk[p:stop])
                    p = stop
                    continue
            # Every non-space character is \w or [^\w\s], so this always matches.
            m = _RE_AFTER_EMAIL.match(chunk, p)
        out.append(m.group())
        p = m.end()
    return out


# --- The model -------------------------------------------------------------------------------

# A syllable's cached row (a column of `_Arrays.rows`): rows 0-1 are its own features (bias,
# lower-cased form, isupper, istitle, isdigit, summed in that order) for B_W and I_W; rows 2-7
# what it adds to the syllable after it ("-1:" lower, istitle, isupper) and rows 8-13 what it
# adds to the one before it ("+1:" lower, istitle, isupper).
_NROWS = 14
_OK_TO_JOIN, _TITLE_FIRST = 1, 2  # flag bits used by pyvi's joining rule
_CACHE_LIMIT = CACHE_LIMIT  # (a module setting: the tests lower it)


@dataclass(frozen=True)
class _Model:
    state: dict[str, list[float]]  # attribute -> [weight of B_W, weight of I_W]
    trans: tuple[float, float, float, float]  # B->B, B->I, I->B, I->I
    vocab: dict[str, int]  # syllables of the dictionary's bigrams and trigrams -> id
    # Sorted codes of the dictionary's bigrams, then of its trigrams shifted past every bigram
    # code (one search finds both), then a sentinel.
    ngrams: np.ndarray
    # Rows "-1:word.bi_gram()", "+1:word.bi_gram()", "-2:word.tri_gram()" and
    # "+2:word.tri_gram()", each for B_W then I_W; column 0 for an absent n-gram, 1 for a
    # present one. (crfsuite adds weight * False, +-0.0, for an absent one: the same as 0.0.)
    ngram_weights: np.ndarray
    base: int  # the radix of n-gram codes; id len(vocab) stands for "not in the dictionary"
    # The separator before syllable i, by flags(i-1) << 3 | flags(i) << 1 | (label(i) is I_W).
    separators: np.ndarray

    @classmethod
    def load(cls) -> _Model:
        labels, state, trans = read_crfsuite(crfsuite_bytes(model_file("pyvi3.pkl")))
        if labels != ["B_W", "I_W"]:
            # The decoder below hard-codes two labels with B_W first (ties go to the lower id).
            raise ValueError(f"unexpected labels in pyvi's model: {labels}")
        # pyvi: codecs.open(words.txt, encoding="utf-8").read().split("\n"), no newline
        # translation; entries of two or three space-separated parts.
        words = model_file("words.txt").decode("utf-8").split("\n")
        grams = [w.split(" ") for w in words]
        grams = [g for g in grams if len(g) in (2, 3)]
        vocab: dict[str, int] = {}
        for g in grams:
            for part in g:
                vocab.setdefault(part, len(vocab))
        base = len(vocab) + 1
        codes2, codes3 = set(), set()
        for g in grams:
            ids = [vocab[p] for p in g]
            if len(ids) == 2:
                codes2.add(ids[0] * base + ids[1])
            else:
                codes3.add((ids[0] * base + ids[1]) * base + ids[2])
        import numpy as np  # (here, not at the top: the compiled path needs no numpy)

        shift = base * base  # trigram codes go after all bigram codes
        codes = sorted(codes2) + [code + shift for code in sorted(codes3)]
        codes.append(np.iinfo(np.int64).max)  # searchsorted then never runs off the end

        names = [
            "-1:word.bi_gram()",
            "+1:word.bi_gram()",
            "-2:word.tri_gram()",
            "+2:word.tri_gram()",
        ]
        present = [w for name in names for w in state.get(name, [0.0, 0.0])]
        return cls(
            state=state,
            trans=(trans[0][0], trans[0][1], trans[1][0], trans[1][1]),
            vocab=vocab,
            ngrams=np.array(codes, dtype=np.int64),
            ngram_weights=np.array([[0.0] * len(present), present]).T.copy(),
            base=base,
            separators=np.array(
                [_separator(p, c, i) for p in range(4) for c in range(4) for i in range(2)],
                dtype=object,
            ),
        )

    def row(self, syllable: str) -> tuple[list[float], int, int] | None:
        """A syllable's cached row, dictionary id and flags; None if crfsuite cannot take it."""
        lower = syllable.lower()
        try:
            lower.encode("utf-8")  # pycrfsuite encodes feature values (fails on surrogates)
        except UnicodeEncodeError:
            return None
        # pycrfsuite passes attribute names to crfsuite as C strings: a NUL ends them.
        key = lower.split("\0", 1)[0]
        get = self.state.get
        zero = [0.0, 0.0]
        upper, title, digit = syllable.isupper(), syllable.istitle(), syllable.isdigit()
        # The state score starts at 0.0 and gets each present attribute's weight, in the order
        # of pyvi's feature dict; an absent or False one adds (+-)0.0, which changes nothing.
        own = [0.0 + w for w in get("bias", zero)]
        for name, on in [
            ("word.lower():" + key, True),
            ("word.isupper()", upper),
            ("word.istitle()", title),
            ("word.isdigit()", digit),
        ]:
            if on:
                own = [a + w for a, w in zip(own, get(name, zero))]
        row = own
        for side in ("-1:", "+1:"):
            row = row + get(side + "word.lower():" + key, zero)
            row = row + (get(side + "word.istitle()", zero) if title else zero)
            row = row + (get(side + "word.isupper()", zero) if upper else zero)
        # pyvi's joining rule looks at whole-syllable punctuation (a substring test on
        # string.punctuation) and at the first character.
        import string  # (here: the compiled core never builds rows, and needs no import)

        joinable = syllable not in string.punctuation and not syllable[0].isdigit()
        flags = (_OK_TO_JOIN if joinable else 0) | (_TITLE_FIRST if syllable[0].istitle() else 0)
        return row, self.vocab.get(lower, len(self.vocab)), flags


@dataclass(frozen=True)
class _Arrays:
    rows: np.ndarray  # (_NROWS, capacity) float64: the cached rows, one column per syllable
    vids: np.ndarray  # (capacity,) int64: dictionary ids
    flags: np.ndarray  # (capacity,) uint8: _OK_TO_JOIN | _TITLE_FIRST

    @classmethod
    def empty(cls, capacity: int) -> _Arrays:
        import numpy as np

        return cls(
            rows=np.zeros((_NROWS, capacity), dtype=np.float64),
            vids=np.zeros(capacity, dtype=np.int64),
            flags=np.zeros(capacity, dtype=np.uint8),
        )


class _Cache:
    """Distinct syllables -> column number in growing arrays of their cached rows.

    Column 0 is all zeros with no dictionary id: it pads the ends of a text. Readers never
    lock: a column is written before its syllable is published in ``index``, and when the
    arrays grow the old columns are copied first and all arrays are replaced at once, so
    whatever ``arrays`` a reader picks up after finding its syllables hold their columns.
    Writers serialise on ``lock``.
    """

    def __init__(self, model: _Model) -> None:
        self.index: dict[str, int] = {}
        self.arrays = _Arrays.empty(1024)
        self.arrays.vids[0] = len(model.vocab)  # no dictionary id
        self.size = 1
        self.lock = threading.Lock()

    def add(self, model: _Model, syllables: list[str]) -> None:
        with self.lock:
            index = self.index
            new = [s for s in dict.fromkeys(syllables) if s not in index]
            computed = [model.row(s) for s in new]
            if None in computed:
                # pyvi fails inside pycrfsuite when it encodes the first such syllable's
                # lower-cased form (as a SystemError wrapping this UnicodeEncodeError).
                bad = next(s for s in syllables if model.row(s) is None)
                bad.lower().encode("utf-8")
            size = self.size
            need = size + len(new)
            arrays = self.arrays
            if need > len(arrays.vids):
                arrays = _Arrays.empty(max(need, 2 * len(arrays.vids)))
                arrays.rows[:, :size] = self.arrays.rows[:, :size]
                arrays.vids[:size] = self.arrays.vids[:size]
                arrays.flags[:size] = self.arrays.flags[:size]
            for i, (row, vid, flag) in enumerate(computed, size):
                arrays.rows[:, i] = row
                arrays.vids[i] = vid
                arrays.flags[i] = flag
            self.arrays = arrays
            for i, syllable in enumerate(new, size):
                index[syllable] = i
            self.size = need


_lock = threading.Lock()
_model: _Model | None = None
_cache: _Cache | None = None


def _load() -> _Model:
    global _model, _cache
    if _model is None:
        with _lock:
            if _model is None:
                model = _Model.load()
                _cache = _Cache(model)
                _model = model
    return _model


def _lookup(model: _Model, syllables: list[str]) -> tuple[_Cache, np.ndarray]:
    """The cache holding the syllables' rows, and their column numbers with two padding
    columns at each end."""
    import numpy as np

    global _cache
    cache = _cache
    assert cache is not None
    n = len(syllables) + 4
    try:
        ids = np.fromiter(chain(_PAD, map(cache.index.__getitem__, syllables), _PAD), np.intp, n)
    except KeyError:
        if len(cache.index) > _CACHE_LIMIT:
            with _lock:
                if _cache is cache:
                    _cache = _Cache(model)
                cache = _cache
        cache.add(model, syllables)
        ids = np.fromiter(chain(_PAD, map(cache.index.__getitem__, syllables), _PAD), np.intp, n)
    return cache, ids


_PAD = (0, 0)


def _labels(model: _Model, cache: _Cache, ext: np.ndarray) -> np.ndarray:
    """Viterbi labels (1 = I_W) of the syllables with padded column numbers ``ext``, exactly
    as crfsuite computes them."""
    import numpy as np

    n = len(ext) - 4
    arrays = cache.arrays
    g = arrays.rows[:, ext]  # position i of the text is column i + 2
    vid = arrays.vids[ext]
    base = model.base
    # Dictionary n-grams: codes[k] for columns (k, k+1), codes[n+3+k] for (k, k+1, k+2).
    codes = np.empty(2 * n + 5, dtype=np.int64)
    code2, code3 = codes[: n + 3], codes[n + 3 :]
    np.multiply(vid[:-1], base, out=code2)
    code2 += vid[1:]
    np.multiply(code2[:-1], base, out=code3)
    code3 += vid[2:] + base * base
    ngrams = model.ngrams
    found = (ngrams[ngrams.searchsorted(codes)] == codes).view(np.uint8)
    w = model.ngram_weights.take(found, axis=1)
    b, t = w[:4, : n + 3], w[4:, n + 3 :]
    # State scores: crfsuite's sums, term by term in pyvi's feature order, for all positions
    # at once (numpy adds float64 exactly as C does). Missing neighbours read the zero column.
    s = g[0:2, 2:-2].copy()
    s += g[2:4, 1:-3]  # -1:word.lower()
    s += g[4:6, 1:-3]  # -1:word.istitle()
    s += g[6:8, 1:-3]  # -1:word.isupper()
    s += b[0:2, 1:-2]  # -1:word.bi_gram()
    s += t[0:2, :-2]  # -2:word.tri_gram()
    s += g[8:10, 3:-1]  # +1:word.lower()
    s += g[10:12, 3:-1]  # +1:word.istitle()
    s += g[12:14, 3:-1]  # +1:word.isupper()
    s += b[2:4, 2:-1]  # +1:word.bi_gram()
    s += t[2:4, 2:]  # +2:word.tri_gram()
    s0, s1 = s.tolist()
    return _viterbi(s0, s1, model.trans)


def _viterbi(
    s0: list[float], s1: list[float], trans: tuple[float, float, float, float]
) -> np.ndarray:
    """crfsuite's Viterbi decoding (crf1dc_viterbi) for two labels: the best label sequence
    (1 = I_W) given each position's state scores for label 0 (``s0``) and 1 (``s1``) and the
    transition scores (0->0, 0->1, 1->0, 1->1). The same float operations in the same order,
    and the same ties: label 1 replaces label 0 only when strictly better."""
    t00, t01, t10, t11 = trans
    a0, a1 = s0[0], s1[0]
    # back[t-1] = 2 * (best predecessor of label 1 at t) + (best predecessor of label 0 at t)
    back = bytearray()
    push = back.append
    for x0, x1 in zip(s0[1:], s1[1:]):
        p = a0 + t00  # (separate statements: faster than one tuple assignment)
        q = a1 + t10
        r = a0 + t01
        u = a1 + t11
        if p < q:
            a0 = q + x0
            if r < u:
                a1 = u + x1
                push(3)
            else:
                a1 = r + x1
                push(1)
        else:
            a0 = p + x0
            if r < u:
                a1 = u + x1
                push(2)
            else:
                a1 = r + x1
                push(0)
    push(3 if a0 < a1 else 0)  # the best last label (label 0 on a tie), as a step fixing it
    # Back-tracking: label[t] = (back[t] >> label[t+1]) & 1. Where both labels at t+1 came
    # from the same one (codes 0 and 3: nearly always), label[t] is that one whatever follows;
    # only the other steps need label[t+1], and are done last to first.
    labels = back.translate(_FIXED_LABEL)
    for step in reversed([m.start() for m in _RE_UNFIXED.finditer(back)]):
        labels[step] = (back[step] >> labels[step + 1]) & 1
    import numpy as np

    return np.frombuffer(labels, dtype=np.uint8)


# A step's code -> label[t] when it does not depend on label[t+1] (codes 0 and 3; 1 and 2 are
# placeholders, fixed afterwards).
_FIXED_LABEL = bytes([0, 0, 0, 1]) + bytes(252)
_RE_UNFIXED = re.compile(b"[\x01\x02]")


def tag(syllables: list[str]) -> list[str]:
    """The labels pyvi's CRF gives these syllables ("B_W" or "I_W"), as
    ``ViTokenizer.model.predict([ViTokenizer.sent2features(syllables, False)])[0]``."""
    model = _load()
    if not syllables:
        return []
    cache, ext = _lookup(model, syllables)
    return [("B_W", "I_W")[x] for x in _labels(model, cache, ext).tolist()]


def _separator(prev: int, cur: int, inside: int) -> str:
    """pyvi's joining rule: "_" before an I_W syllable when neither it nor the one before is
    punctuation or starts with a digit, and it does not start with a title-case letter after
    one that does not; else " "."""
    title_after_other = cur & _TITLE_FIRST and not prev & _TITLE_FIRST
    join = inside and prev & _OK_TO_JOIN and cur & _OK_TO_JOIN and not title_after_other
    return "_" if join else " "


def segment(text: str) -> str:
    """Word-segment ``text``: exactly ``pyvi.ViTokenizer.ViTokenizer.tokenize(text)``.

    Syllables of one word are joined by ``_``, words by one space; the model is pyvi's, loaded
    once (thread-safely) at the first call.
    """
    model = _load()
    _, syllables = syllabize(text)
    if not syllables:
        return text  # pyvi returns its input unchanged (not normalised) when it finds nothing
    cache, ext = _lookup(model, syllables)  # also raises where pyvi's tagger would fail
    n = len(syllables)
    if n == 1:
        return syllables[0]
    inside = _labels(model, cache, ext)
    flags = cache.arrays.flags[ext[2:-2]]
    key = flags[:-1] << 3
    key |= flags[1:] << 1
    key |= inside[1:]
    out: list[str] = [""] * (2 * n - 1)
    out[::2] = syllables
    out[1::2] = model.separators[key].tolist()
    return "".join(out)
