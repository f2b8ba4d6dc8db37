"""Reading a news page saved as text: title, body, date/source, and the related-news snippets.

News pages list short "related news" items under an article (title, author, lead). They are
labelled by nobody, but they are real headlines of the same era, so they serve as weakly
labelled training data and as test cases for short texts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .text import check_text, join_title, normalize
from .wordlists import read_list

__all__ = ["Page", "Snippet", "parse_page", "read_page"]

_RELATED = re.compile(
    rf"^({'|'.join(map(re.escape, read_list('lexicons/related_headings.txt')))})\s*:?$",
    re.IGNORECASE,
)
_AUTHOR = re.compile(r"^(?P<author>[^|]{0,80}?)\s*\|$")
_DATE = re.compile(
    r"^(?:(?:thứ\s+\w+|chủ\s+nhật)\s*,\s*)?\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}.*$", re.IGNORECASE
)
_SOURCE = re.compile(r"^\((?:theo|nguồn)\s*:?\s*(?P<source>.+)\)$", re.IGNORECASE)
_PUNCT_ONLY = re.compile(r"^[\W_]*$")


@dataclass(frozen=True)
class Snippet:
    """One related-news item listed under an article."""

    title: str
    author: str = ""
    lead: str = ""

    @property
    def text(self) -> str:
        """Title and lead, the text a classifier reads."""
        return join_title(self.title, self.lead)


@dataclass(frozen=True)
class Page:
    """A news page: the article itself and what it lists as related news."""

    title: str
    body: str
    date: str = ""
    source: str = ""
    author: str = ""
    related: tuple[Snippet, ...] = field(default_factory=tuple)

    @property
    def text(self) -> str:
        """Title and body of the article, without the related-news block."""
        return join_title(self.title, self.body)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n")]


def _parse_related(lines: list[str]) -> tuple[Snippet, ...]:
    snippets: list[Snippet] = []
    seen: set[str] = set()
    lines = [line for line in lines if line and not _PUNCT_ONLY.match(line)]
    i = 0
    while i < len(lines):
        author_here = _AUTHOR.match(lines[i + 1]) if i + 1 < len(lines) else None
        title = lines[i]
        if author_here:
            author = author_here.group("author").strip()
            lead = ""
            # A lead follows the author line unless the next line starts another item.
            if i + 2 < len(lines) and not (i + 3 < len(lines) and _AUTHOR.match(lines[i + 3])):
                lead = lines[i + 2]
                i += 3
            else:
                i += 2
        else:
            author, lead = "", ""
            i += 1
        # Pages repeat items (a "most read" list under the related one); keep the first.
        key = title.casefold()
        if key not in seen:
            seen.add(key)
            snippets.append(Snippet(title=title, author=author, lead=lead))
    return tuple(snippets)


def parse_page(text: str) -> Page:
    """Split a news page saved as plain text into its parts.

    Understands what news sites print around an article: a dateline ("Thứ Hai, 03/01/2022,
    19:56 (GMT+7)"), an author line ("Song Minh |"), a source line ("(Theo https://...)"),
    captions printed twice, and a related-news block ("TIN LIÊN QUAN") of title / author / lead
    items, which it de-duplicates.
    """
    lines = _lines(normalize(check_text(text)))
    related: tuple[Snippet, ...] = ()
    for i, line in enumerate(lines):
        if _RELATED.match(line):
            related = _parse_related(lines[i + 1 :])
            lines = lines[:i]
            break

    date = source = author = ""
    kept: list[str] = []
    for line in lines:
        if not line or _PUNCT_ONLY.match(line):
            continue
        if not date and not kept and _DATE.match(line):
            date = line
            continue
        match = _SOURCE.match(line)
        if match:
            source = match.group("source").strip()
            continue
        match = _AUTHOR.match(line)
        if match and len(kept) == 1 and not author:
            author = match.group("author").strip()
            continue
        if kept and line == kept[-1]:
            continue  # a caption or lead printed twice
        kept.append(line)

    if not kept:
        raise ValueError("the page has no title or body text")
    if author and len(kept) > 1 and kept[-1] == author:
        kept.pop()  # the author's signature under the article
    return Page(
        title=kept[0],
        body="\n".join(kept[1:]),
        date=date,
        source=source,
        author=author,
        related=related,
    )


def read_page(path: str | Path) -> Page:
    """Read and parse a news page from a UTF-8 text file."""
    return parse_page(Path(path).read_text(encoding="utf-8"))
