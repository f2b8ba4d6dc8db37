"""HTML in text: the character references and tags that feeds and scraped pages leave in it.

`nlpkit.text.normalize` reads them first (`read_markup`), and so does the compiled core's
normalisation (it is given `read_markup`), so that both paths read the same characters.
"""

from __future__ import annotations

import html
import re
from functools import cache
from html.entities import html5

from .wordlists import read_list

__all__ = [
    "read_markup",
    "unescape_entities",
    "REFERENCE",
    "decode_reference",
    "TAG",
    "decode_tag",
    "PASSES",
    "MAX_TAG",
    "next_cut",
]

# HTML character references, as feeds and scraped pages carry them ("Gi&#225; x&#259;ng",
# "&quot;", "&nbsp;"): left as they are, the segmenter reads "x & # 259 ; ng" and the answer
# changes (for almost half of the titles written so). Only a complete reference, ended by its
# semicolon, is one: "AT&T", "Q&A" and "&notice" are text.
REFERENCE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")

# The longest tag read as one, in characters between its "<" and its ">".
MAX_TAG = 1000
# An HTML tag ("<p>", "</p>", "<br/>", '<a href="...">'): left in, its name and attributes are
# words to the model ("a href https vnexpress net": a page's markup changed one answer in
# sixteen). A tag holds no "<", ">" or line end, so that a cut before a space outside every
# "<...>" (`next_cut`) never splits one; only a name of `line_elements.txt` or
# `inline_elements.txt` makes a tag: "<b" in "a <b> b" is one, "x <3 y" and "<Tên>" are text.
TAG = re.compile(rf"<(/?)([A-Za-z][A-Za-z0-9]{{0,15}})(?:[ \t\r\f\v/][^<>\n]{{0,{MAX_TAG}}})?>")
_CUT_CHARS = re.compile(r"[<>\n]")
_OPENS = re.compile(r"[A-Za-z/]")  # (what may follow the "<" of a tag)
_SPACE_OR_NEWLINE = re.compile(r"[ \n]")


@cache
def _tag_kinds() -> dict[str, str]:
    kinds = dict.fromkeys(read_list("markup/inline_elements.txt"), "")
    kinds.update(dict.fromkeys(read_list("markup/line_elements.txt"), "\n"))
    return kinds


def decode_reference(match: re.Match[str]) -> str:
    """What one reference that `REFERENCE` found stands for: a number's character (as
    `html.unescape` reads it: U+FFFD for one no text may hold), or a name's, where HTML
    defines the name with its semicolon. (`html.unescape` also reads the old names that need
    none at the start of a longer one: "&amplifier;" would be "&lifier;".)"""
    reference = match.group()
    if reference[1] == "#":
        return html.unescape(reference)
    return html5.get(reference[1:], reference)


def decode_tag(match: re.Match[str]) -> str:
    """What one tag that `TAG` found leaves in the text: a line end for an element that stands
    on lines of its own (a paragraph, a line break, a table cell), nothing for one inside a line
    (a link, bold), and the tag as written for a name that is no element of those lists."""
    return _tag_kinds().get(match.group(2).lower(), match.group())


# The passes of `read_markup`, in order: the tags, then the references, twice over for a feed
# that escaped its text once more ("&amp;#259;"). A reference to "<" is the character a page
# shows: "&lt;p&gt;" reads "<p>", as text.
PASSES = (
    (TAG, decode_tag, "<"),
    (REFERENCE, decode_reference, "&"),
    (REFERENCE, decode_reference, "&"),
)


def read_markup(text: str) -> str:
    """``text`` as a reader of the page sees it: its tags removed (a line end for a paragraph,
    a line break or a cell; nothing for a link or bold), then its character references as the
    characters they stand for, twice over for a feed escaped once more (``&amp;#259;``). The
    first step of `nlpkit.text.normalize`."""
    for pattern, decode, mark in PASSES:
        if mark in text:
            text = pattern.sub(decode, text)
    return text


def unescape_entities(text: str) -> str:
    """``text`` with its HTML character references (``&#259;``, ``&#x103;``, ``&quot;``) as the
    characters they stand for, twice over for a feed escaped once more (``&amp;#259;``); a
    name HTML does not define is left as it is written. Tags are left as they are."""
    for _ in range(2):
        if "&" not in text:
            break
        text = REFERENCE.sub(decode_reference, text)
    return text


def next_cut(text: str, start: int) -> int:
    """The first position from ``start`` that holds a space or a line end outside every tag,
    or -1: a text cut there reads as the start of the whole text, as far as the last few
    characters before the cut (no reference holds a space; no tag is split). The time is
    linear: each step moves past a tag's ">"; a "<" that no ">" closes is passed by at once."""
    n = len(text)
    while start < n:
        found = _SPACE_OR_NEWLINE.search(text, start)
        if found is None:
            return -1
        cut = found.start()
        if text[cut] == "\n":
            return cut  # (no tag holds a line end)
        opened = text.rfind("<", max(0, cut - MAX_TAG - 20), cut)
        if (
            opened < 0
            or not _OPENS.match(text, opened + 1)
            or _CUT_CHARS.search(text, opened + 1, cut) is not None
        ):
            return cut
        # A "<" and a letter before the cut: a tag only if a ">" closes it before any "<" or
        # line end, within a tag's length; then on past its end.
        end = _CUT_CHARS.search(text, cut, opened + MAX_TAG + 21)
        if end is None or text[end.start()] != ">":
            return cut
        start = end.start() + 1
    return -1
