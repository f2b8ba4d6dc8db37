"""Where an explanation's terms are in the text: character spans to highlight.

The model's terms are pyvi-segmented, lower-cased words and word pairs (``tổng_thống``,
``nga putin``); the page shows the text as it was typed. A term is found as the run of the
text's words (runs of letters and digits, compared lower-cased in NFC) that
spells its syllables in order: ``tổng_thống nga`` is the three words "Tổng thống Nga", whatever
the spaces, punctuation, line breaks or numbers between them (the features drop punctuation
and bare numbers too: "gần 163 triệu" holds the pair ``gần triệu``). A text written with HTML
character references ("Gi&#225; x&#259;ng") or tags ("<b>Giá</b> xăng") is read as the model
reads it, and its words are highlighted where they are written, references and all.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable

# The text preparation's own rules for datelines, references and tags, so that words here are
# the model's words.
from ..markup import PASSES, next_cut, read_markup
from ..text import DATELINE, DATELINE_HINT, INVISIBLE, INVISIBLE_CHARS, normalize
from ..vocabulary import _LETTER

__all__ = ["highlights"]

# Letters and digits (not the underscore, which joins the syllables of a segmented word), and
# combining accents, which a decomposed (NFD) text writes apart from their letters; within a
# word, the invisible characters text preparation removes ("x\u00adăng" is one word).
_WORD = re.compile(rf"(?:[^\W_]|[\u0300-\u036f])(?:[^\W_]|[\u0300-\u036f{INVISIBLE_CHARS}])*")


def _key(word: str) -> str:
    return unicodedata.normalize("NFC", INVISIBLE.sub("", word)).lower()


def _has_letter(key: str) -> bool:
    """Whether the features keep a word: one with a letter (`nlpkit.vocabulary.analyze`)."""
    return key.isalpha() or _LETTER.search(key) is not None


def _decoded(text: str) -> tuple[str, list[int], list[int]]:
    """`_read` of a text that may hold a reference or a tag; the text itself, and no offsets
    to map, of one that cannot."""
    return _read(text) if "&" in text or "<" in text else (text, [], [])


def _read(text: str) -> tuple[str, list[int], list[int]]:
    """``text`` as `read_markup` reads it, and where each of its characters is written in
    ``text``: the start and end of the reference or tag it comes from, or of itself."""
    plain = read_markup(text)
    starts, ends = list(range(len(text))), list(range(1, len(text) + 1))
    if plain == text:
        return text, starts, ends
    for pattern, decode, mark in PASSES:  # (as read_markup, pass by pass)
        if mark not in text:
            continue
        pieces: list[str] = []
        new_starts: list[int] = []
        new_ends: list[int] = []
        at = 0
        for m in pattern.finditer(text):
            pieces.append(text[at : m.start()])
            new_starts += starts[at : m.start()]
            new_ends += ends[at : m.start()]
            char = decode(m)
            pieces.append(char)
            new_starts += [starts[m.start()]] * len(char)
            new_ends += [ends[m.end() - 1]] * len(char)
            at = m.end()
        pieces.append(text[at:])
        new_starts += starts[at:]
        new_ends += ends[at:]
        text, starts, ends = "".join(pieces), new_starts, new_ends
    return text, starts, ends


def _words(text: str, limit: int | None = None) -> list[tuple[int, int, str]]:
    """The first ``limit`` words of ``text`` (all when None): (start, end, lower-cased NFC
    form), split as the model's text preparation splits them (a dateline glued to the first
    word, "HÀ NỘIPhó", is two)."""
    cuts = [m.end(1) for m in DATELINE.finditer(text)] if DATELINE_HINT.search(text) else []
    words: list[tuple[int, int, str]] = []
    for m in _WORD.finditer(text):
        if limit is not None and len(words) >= limit:
            break
        start, end = m.span()
        i = bisect_right(cuts, start)
        while i < len(cuts) and cuts[i] < end:
            words.append((start, cuts[i], _key(text[start : cuts[i]])))
            start, i = cuts[i], i + 1
        words.append((start, end, _key(text[start:end])))
    return words[:limit]


def highlights(
    text: str, terms: Iterable[tuple[str, float]], max_chars: int | None = None
) -> list[dict]:
    """Non-overlapping spans of ``text`` to highlight, in order: ``start`` and ``end`` (Unicode
    code points, end excluded), ``weight`` (the sum of the weights of the terms that cover the
    span: a word inside a listed pair carries the pair's weight too) and those ``terms``.

    A term found several times is highlighted every time, within what the model reads (its
    ``max_chars``: the words of the text's first ``max_chars`` characters once normalised); a
    term not found (a word the segmenter split otherwise) is left out.
    """
    # (the words of the text as the model reads it, each where it is written: a prefix's
    # references decoded, never the whole of a pasted archive's)
    written = text
    if max_chars is not None and len(written) > max_chars:
        # As many words as the part the model reads has, read from a prefix of the text long
        # enough to hold one more (a pasted archive is not read whole), cut before a space or
        # a newline outside every tag, which no reference holds (one cut in two would read as
        # other words).
        try:
            limit = len(_words(normalize(written, max_chars)))
        except ValueError:  # (nothing the model reads: no word to highlight)
            return []
        size = 2 * max_chars
        while True:
            cut = next_cut(written, size)
            end = len(written) if cut < 0 else cut
            text, starts, ends = _decoded(written[:end])
            words = _words(text, limit + 1)
            if len(words) > limit or end >= len(written):
                words = words[:limit]
                break
            size *= 4
    else:
        text, starts, ends = _decoded(written)
        words = _words(text)
    if not words:
        return []
    positions: dict[str, list[int]] = {}
    for i, (_, _, key) in enumerate(words):
        positions.setdefault(key, []).append(i)
    # Every character range a term covers, as (start, end, term, weight).
    covered: list[tuple[int, int, str, float]] = []
    for term, weight in terms:
        parts = [_key(p) for p in _WORD.findall(term)]
        if not parts:
            continue
        for i in positions.get(parts[0], ()):
            j, n = i + 1, 1  # (the next word of the text, the next part of the term)
            while n < len(parts) and j < len(words):
                if words[j][2] == parts[n]:
                    n += 1
                elif _has_letter(words[j][2]) or not _has_letter(parts[n]):
                    break
                j += 1  # (a bare number, which the features dropped)
            if n == len(parts):
                covered.append((words[i][0], words[j - 1][1], term, float(weight)))
    if starts:
        covered = [(starts[a], ends[b - 1], term, w) for a, b, term, w in covered]
    return _pieces(covered)


def _pieces(covered: list[tuple[int, int, str, float]]) -> list[dict]:
    """The spans of the character ranges terms cover (start, end, term, weight), in the
    order of the terms' first range."""
    if not covered:
        return []
    # Cut at every boundary; each piece gets the terms that cover all of it, in the order of
    # ``terms``: a sweep over the cuts, each range entering at its start and leaving at its
    # end (a text that repeats its terms has thousands of ranges).
    cuts = sorted({c for start, end, _, _ in covered for c in (start, end)})
    at = {c: i for i, c in enumerate(cuts)}
    rank: dict[str, int] = {}
    enter: dict[int, list[tuple[str, float]]] = {}
    leave: dict[int, list[str]] = {}
    for start, end, term, weight in covered:
        rank.setdefault(term, len(rank))
        enter.setdefault(at[start], []).append((term, weight))
        leave.setdefault(at[end], []).append(term)
    active: dict[str, list] = {}  # term -> [ranges covering the piece, weight]
    spans: list[dict] = []
    for i, (start, end) in enumerate(zip(cuts, cuts[1:])):
        for term in leave.get(i, ()):
            active[term][0] -= 1
            if not active[term][0]:
                del active[term]
        for term, weight in enter.get(i, ()):
            count = active[term][0] if term in active else 0
            active[term] = [count + 1, weight]
        if not active:
            continue
        names = sorted(active, key=rank.__getitem__)
        weight = sum(active[name][1] for name in names)
        last = spans[-1] if spans else None
        if last and last["end"] == start and last["terms"] == names:
            last["end"] = end  # the same terms go on: one span
        else:
            spans.append({"start": start, "end": end, "weight": weight, "terms": names})
    return spans
