"""HTML character references in text: what feeds and scraped pages leave in it.

`nlpkit.text.normalize` decodes them first, and so does the compiled core's normalisation (it
is given `unescape_entities`), so that both paths read a reference as the same characters.
"""

from __future__ import annotations

import html
import re
from html.entities import html5

__all__ = ["unescape_entities", "REFERENCE", "decode_reference"]

# HTML character references, as feeds and scraped pages carry them ("Gi&#225; x&#259;ng",
# "&quot;", "&nbsp;"): left as they are, the segmenter reads "x & # 259 ; ng" and the answer
# changes (for almost half of the titles written so). Only a complete reference, ended by its
# semicolon, is one: "AT&T", "Q&A" and "&notice" are text.
REFERENCE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def decode_reference(match: re.Match[str]) -> str:
    """What one reference that `REFERENCE` found stands for: a number's character (as
    `html.unescape` reads it: U+FFFD for one no text may hold), or a name's, where HTML
    defines the name with its semicolon. (`html.unescape` also reads the old names that need
    none at the start of a longer one: "&amplifier;" would be "&lifier;".)"""
    reference = match.group()
    if reference[1] == "#":
        return html.unescape(reference)
    return html5.get(reference[1:], reference)


def unescape_entities(text: str) -> str:
    """``text`` with its HTML character references (``&#259;``, ``&#x103;``, ``&quot;``) as the
    characters they stand for, twice over for a feed escaped once more (``&amp;#259;``); a
    name HTML does not define is left as it is written. The first step of
    `nlpkit.text.normalize`."""
    for _ in range(2):
        if "&" not in text:
            break
        plain = REFERENCE.sub(decode_reference, text)
        if plain == text:
            break
        text = plain
    return text
