"""Text preparation: input checks, normalisation and word segmentation.

Everything that turns a caller's string into the segmented text the features read lives here,
so training and prediction prepare text in exactly the same way.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence, Set
from typing import TYPE_CHECKING, overload

from . import compiled
from .markup import next_cut, read_markup

if TYPE_CHECKING:
    import numpy as np

    # A batch of texts: a list or tuple of strings, or a numpy array of them (a pandas Series
    # is taken too). A string is a sequence of strings as well, so each function's overload for
    # one string comes first.
    Texts = Sequence[str] | np.ndarray
else:
    Texts = Sequence[str]  # (at run time: numpy is not imported to say so)

__all__ = ["check_text", "normalize", "segment", "prepare", "segmenter_version", "join_title"]

# Control characters other than tab and newline carry no meaning in news text; scrapers leave
# them behind (NUL bytes, escape codes) and they would glue words: a space each (those that end
# a line, below, a newline).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
# Line ends other than LF, CRLF and CR, as str.splitlines reads them (vertical tab, form feed,
# the file, group and record separators, NEL, the line and paragraph separators: editors and
# web pages' scripts write them): a newline each, so that a title stays its text's first line.
_LINE_END = re.compile(r"[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# Invisible format characters (soft hyphen, zero-width space and joiners, direction marks and
# embeddings, word joiner, byte-order mark): editors and scrapers leave them inside words
# ("x\u00adăng"), where a space would split the word and change the answer. Removed.
INVISIBLE_CHARS = "\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
INVISIBLE = re.compile(f"[{INVISIBLE_CHARS}]")
# A character that is none of those nor white space: what makes a text non-empty.
_CONTENT = re.compile(rf"[^\s\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029{INVISIBLE_CHARS}]")
_SPACES = re.compile(r"[ \t\xa0\u2000-\u200a\u202f\u205f\u3000]+")
_ODD_SPACE = re.compile(r"[\t\xa0\u2000-\u200a\u202f\u205f\u3000]")
# VnExpress leads start with an upper-case dateline glued to the first word ("HÀ NỘIPhó chủ
# tịch ...", "LÀOTiền đạo ..."): at least two capitals (digits allowed), then a capital followed
# by two small letters. Requiring two small letters keeps plurals of acronyms ("CEOs") whole.
# One regular expression over all cased letters does it without a Python call per word.
UPPER_LETTERS = "".join(re.escape(c) for c in map(chr, range(0x2000)) if c.isupper())
LOWER_LETTERS = "".join(re.escape(c) for c in map(chr, range(0x2000)) if c.islower())
DATELINE_HINT = re.compile(rf"[{UPPER_LETTERS}\d][{UPPER_LETTERS}][{LOWER_LETTERS}]")
DATELINE = re.compile(
    rf"(?<!\w)(?=\d*[{UPPER_LETTERS}])([{UPPER_LETTERS}\d]{{2,}})(?=[{UPPER_LETTERS}][{LOWER_LETTERS}]{{2}})"
)


def _check_type(text: object) -> str:
    if isinstance(text, (bytes, bytearray)):
        raise TypeError("text must be str, not bytes: decode it first (e.g. data.decode('utf-8'))")
    if not isinstance(text, str):
        # (a pandas column with gaps holds NaN, a float, where a text is missing)
        missing = text is None or (isinstance(text, float) and text != text)
        raise TypeError(
            f"text must be str, not {type(text).__name__}"
            + (f": a missing value ({text}); drop or fill it first" if missing else "")
        )
    return text


def has_content(text: str) -> bool:
    """Whether a str holds a character that is not white space, a control or an invisible
    format character, written as it is or as an HTML character reference, outside HTML tags:
    what text preparation keeps something of."""
    if _CONTENT.search(text) is None:
        return False
    if "&" not in text and "<" not in text:
        return True
    # A reference may stand for white space or an invisible character ("&nbsp;", "&#8203;"),
    # and a tag stands for none ("<p></p>"). Read a piece at a time, each cut where no
    # reference or tag is split: a text has its content near its start, and a pasted archive
    # is not read whole to find it.
    start = 0
    while start < len(text):
        cut = next_cut(text, start + 4096)
        end = len(text) if cut < 0 else cut
        if _CONTENT.search(read_markup(text[start:end])) is not None:
            return True
        start = end
    return False


def check_text(text: object) -> str:
    """Return ``text`` if it is a usable text, or raise a clear error saying why not."""
    if not has_content(_check_type(text)):
        if text.strip():
            raise ValueError(
                "text is empty once cleaned: only white space and control characters, HTML tags, "
                "or HTML references to white space"
            )
        raise ValueError("text is empty or whitespace only")
    return text


def normalize(text: str, max_chars: int | None = None) -> str:
    """HTML tags removed and character references decoded (`nlpkit.markup.read_markup`), NFC,
    no control or invisible format characters, single spaces, one newline between
    paragraphs; then, with ``max_chars``, the first ``max_chars`` characters of that content.

    The cut is made after normalising, so leading white space, blank lines and control
    characters never count toward it, and the work stays proportional to what is kept (plus the
    white space skipped), not to the length of a pasted archive. Lone surrogates (from badly
    decoded input) are replaced rather than allowed to crash the encoder later on. A text with
    nothing but white space and control characters is a `ValueError` (`check_text`).
    """
    text = check_text(text)
    if compiled.core is not None and _core_max_chars(max_chars):
        # (the compiled core's normalisation is the same, in a third of the time or less)
        out = compiled.segmenter().normalize(text, max_chars)
        if out is not None:
            return out
    return _normalize(text) if max_chars is None else _normalize_prefix(text, max_chars)


def _core_max_chars(max_chars: object) -> bool:
    """Whether the compiled core takes ``max_chars`` as given (None, or a whole number not
    below 0); Python's path answers any other."""
    return max_chars is None or (type(max_chars) is int and max_chars >= 0)


# Normalising a prefix that ends before a space or newline gives the start of the whole text's
# normalisation, except for its last few characters (a line strip, a dateline whose capitals
# the cut separates from the word after them): a margin of this many characters covers them.
_CUT_MARGIN = 16


def _normalize_prefix(text: str, max_chars: int) -> str:
    size = max_chars + 4 * _CUT_MARGIN
    if len(text) <= size:
        return _normalize(text)[:max_chars]
    while True:
        # Cut only before an ASCII space or newline: no Unicode composition or reordering
        # crosses one, so NFC of the prefix is the prefix of NFC; and never inside a tag.
        cut = next_cut(text, size)
        if cut < 0:
            return _normalize(text)[:max_chars]
        out = _normalize(text[:cut])
        if len(out) >= max_chars + _CUT_MARGIN:
            return out[:max_chars]
        size *= 4  # mostly white space so far: read on, in geometric steps (linear in all)


def _normalize(text: str) -> str:
    if "&" in text or "<" in text:
        # (first: a reference may stand for white space, an invisible or a combining mark)
        text = read_markup(text)
    text = text.encode("utf-8", "replace").decode("utf-8") if _has_surrogates(text) else text
    if INVISIBLE.search(text):
        # (before NFC, which then composes a letter and an accent they kept apart)
        text = INVISIBLE.sub("", text)
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _LINE_END.search(text):
        text = _LINE_END.sub("\n", text)
    text = _CONTROL.sub(" ", text)
    # Each step first looks (in C) whether it has anything to do: this runs on every text a
    # predictor sees, and most need none of it.
    if "  " in text or _ODD_SPACE.search(text):
        text = _SPACES.sub(" ", text)
    text = "\n".join(line for line in map(str.strip, text.split("\n")) if line)
    if DATELINE_HINT.search(text):
        text = DATELINE.sub(r"\1 ", text)
    return text


def join_title(title: str, body: str) -> str:
    """Title and body as the one text a classifier reads: a line each, either may be empty."""
    return f"{title}\n{body}" if title and body else title or body


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _tokenize(text: str) -> str:
    # nlpkit.segmenter gives pyvi's exact output, at least ten times faster, in linear time,
    # and is safe to call from many threads (pyvi's own tagger is not); the compiled core
    # gives the same output faster still.
    if compiled.core is not None:
        out = compiled.segmenter().segment(text)
        if out is not None:  # None: a text the core leaves to Python (lone surrogates)
            return out
    from .segmenter import segment as fast_segment

    return fast_segment(text)


def segmenter_version() -> str:
    """The name and version of the word segmenter, for manifests and caches."""
    from importlib.metadata import version

    return f"pyvi-{version('pyvi')}"


@overload
def segment(text: str) -> str: ...  # type: ignore[overload-overlap]
@overload
def segment(text: Texts) -> list[str]: ...
def segment(text: str | Texts) -> str | list[str]:
    """Word-segment Vietnamese text: syllables of one word are joined by ``_``.

    Returns exactly what ``pyvi.ViTokenizer.tokenize(text)`` returns (pyvi's model, decoded by
    `nlpkit.segmenter`), in time linear in the length of the text, for every string: an empty
    one included, which pyvi returns as it is. A list, tuple, numpy array or pandas Series of
    strings gives a list, in order. Anything else is a `TypeError`; a string with a lone
    surrogate, which pyvi fails on, a `ValueError` saying where.
    """
    if isinstance(text, str):
        return _tokenize(_segmentable(text))
    return [_tokenize(one) for one in check_batch(text, _segmentable)]


def _segmentable(text: object) -> str:
    """A str that pyvi can segment: not one with a lone surrogate (half of a UTF-16 pair, from
    badly decoded input), which its tagger fails on. (`prepare` replaces them instead.)"""
    text = _check_type(text)
    if _has_surrogates(text):
        at = next(i for i, c in enumerate(text) if "\ud800" <= c <= "\udfff")
        raise ValueError(
            f"text holds a lone surrogate (U+{ord(text[at]):04X} at position {at}), which is not "
            "valid Unicode: decode the input with errors='replace', or clean it"
        )
    return text


def check_batch(texts: object, check: Callable[[object], str] = check_text) -> list[str]:
    """The texts of a batch (a list, tuple, 1-D numpy array or pandas Series), each passed by
    ``check``; its first refusal is raised again saying which text (with ``batch_index`` and
    ``reason``, for a caller that names the text its own way: a file's line)."""
    if getattr(texts, "ndim", 1) != 1:
        raise TypeError(
            f"a batch of texts must be one-dimensional, not a {texts.ndim}-D {type(texts).__name__}"
        )
    if not is_sequence(texts):
        # Generators, sets and other iterables are refused too: a batch must keep its order
        # and its length, so that answer i belongs to text i.
        if hasattr(texts, "__iter__") and not isinstance(texts, (str, bytes, bytearray)):
            raise TypeError(
                "text must be str, or texts a list, tuple, numpy array or pandas Series of "
                f"str, not {type(texts).__name__}: a batch keeps its order and length, so that "
                "answer i is text i (make it a list first)"
            )
        check(texts)  # raises the TypeError that names the type
    batch = list(texts)
    for i, text in enumerate(batch):
        try:
            check(text)
        except (TypeError, ValueError) as exc:
            error = type(exc)(f"texts[{i}]: {exc}")
            error.batch_index, error.reason = i, str(exc)
            raise error from None
    return batch


def is_sequence(texts: object) -> bool:
    """A list, tuple or other sequence, a 1-D numpy array or a pandas Series: ordered, sized,
    indexable; not bytes, a mapping or a set."""
    if isinstance(texts, (str, bytes, bytearray, Mapping, Set)):
        return False
    if isinstance(texts, Sequence):
        return True
    # numpy arrays and pandas Series are not registered as Sequence; both have a length, item
    # access and a dimension count.
    return getattr(texts, "ndim", None) == 1 and hasattr(texts, "__len__")


_SYLLABLE = re.compile(r"\w+|[^\w\s]")


def prepare(text: str, segment: bool = True, max_chars: int | None = None) -> str:
    """Normalise and segment ``text`` the way the models were trained: the one entry point.

    ``max_chars`` keeps the first that many characters of the normalised text (see
    `normalize`). Time grows linearly with the length of the text. With ``segment=False`` the
    text is only split into syllables and punctuation (the raw-syllable baseline of the
    experiments).
    """
    if segment and compiled.core is not None and _core_max_chars(max_chars):
        # All of it in the compiled core, with the same result; None where Python must
        # answer (an invalid text, which it refuses with the right error; no syllable).
        out = compiled.segmenter().prepare(text, max_chars)
        if out is not None:
            return out
    text = normalize(text, max_chars)
    if not segment:
        return "\n".join(" ".join(_SYLLABLE.findall(line)) for line in text.split("\n"))
    return _tokenize(text)
