"""Reading the word lists shipped in ``nlpkit/data``: the gazetteer and the lexicons.

Each file holds one entry a line; ``#`` starts a comment (a whole line, or the rest of an
entry's line) and blank lines are skipped. The first line of every file says its format.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

__all__ = ["DATA_DIR", "read_list"]

DATA_DIR = Path(__file__).parent / "data"


@cache
def read_list(name: str) -> tuple[str, ...]:
    """The entries of the data file ``name`` (a path inside ``nlpkit/data``), in file order.

    Read once, on first use. A missing file raises `FileNotFoundError` naming it.
    """
    path = DATA_DIR / name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"nlpkit's data file {name} is missing from {DATA_DIR}: reinstall nlpkit"
        ) from None
    entries = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return tuple(entry for entry in entries if entry)
