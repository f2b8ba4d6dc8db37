"""Gazetteer for nlpkit's labelling functions: is a Vietnamese news story set in
Vietnam or abroad?

All names are spelled as Vietnamese newspapers of 2005-2025 print them
(VnExpress, Tuổi Trẻ, Thanh Niên, Người Lao Động, baomoi aggregations).

Conventions
-----------
* Entries are bare names, without "tỉnh", "thành phố", "bang", "quận"... except
  where the qualifier is part of the name as printed ("Quận 1", "Quần đảo
  Marshall", "Cộng hòa Séc", "TP HCM").
* Tone placement: Vietnamese names whose syllable is an open "oa", "oe" or "uy"
  carrying a tone are listed in BOTH styles, new style first ("Hòa", "Thủy")
  then old style ("Hoà", "Thuỷ"). Newspapers use both (Tuổi Trẻ and
  VnExpress mostly "hòa", Người Lao Động and older texts often "hoà"). A
  matcher that normalises tone placement may drop the duplicates.
* Text is NFC-normalised Unicode. A matcher should NFC-normalise its input too.
* Capitalisation is the one printed mid-sentence ("châu Âu", "Bờ Tây"). Short
  country names such as "Anh", "Mỹ", "Đức" are only country names when
  capitalised mid-sentence; see AMBIGUOUS.
* Within the FOREIGN_* lists each name appears once; a name that is both a
  country and a region of another country (e.g. "Georgia") is listed once, in
  the first list where it fits, with a comment.

Names that newspapers are not known to print were left out rather than guessed.
`nlpkit.weak` builds its matchers from these lists.

The lists live in ``nlpkit/data/places/``, one file each (``foreign_countries.txt`` holds
FOREIGN_COUNTRIES...), with the comments that explain their entries; this module reads a list
when it is first asked for (``places.FOREIGN_COUNTRIES``) and keeps it.
"""

from __future__ import annotations

from .wordlists import read_list

# The lists of names, each in nlpkit/data/places/ under its name in lower case.
LISTS = (
    "FOREIGN_COUNTRIES",
    "FOREIGN_EPITHETS",
    "FOREIGN_HISTORICAL",
    "FOREIGN_REGIONS",
    "FOREIGN_BODIES",
    "VIETNAM_PROVINCES_63_CANONICAL",
    "VIETNAM_PROVINCES_63_VARIANTS",
    "VIETNAM_PROVINCES_34_CANONICAL",
    "VIETNAM_PROVINCES_34_VARIANTS",
    "VIETNAM_PLACES",
    "VIETNAM_AMBIGUOUS",
    "AMBIGUOUS",
)

# Lists made of others: a name of the province lists with its variant spellings, and all
# names of each side.
_JOINED = {
    "VIETNAM_PROVINCES_63": ("VIETNAM_PROVINCES_63_CANONICAL", "VIETNAM_PROVINCES_63_VARIANTS"),
    "VIETNAM_PROVINCES_34": ("VIETNAM_PROVINCES_34_CANONICAL", "VIETNAM_PROVINCES_34_VARIANTS"),
    "ALL_FOREIGN": ("FOREIGN_COUNTRIES", "FOREIGN_REGIONS", "FOREIGN_BODIES"),
    "ALL_VIETNAM": ("VIETNAM_PROVINCES_63", "VIETNAM_PROVINCES_34", "VIETNAM_PLACES"),
}

__all__ = ["LISTS", "names", *LISTS, *_JOINED]

# ---------------------------------------------------------------------------
# Overlaps, on purpose: "Hà Nam" (Vietnamese province / Henan) and "Sơn Tây"
# (town of Hà Nội / Shanxi) are in a FOREIGN_* and a VIETNAM_* list, and in
# AMBIGUOUS. Foreign short names inside Vietnamese names ("Anh" in Đông Anh,
# "Lào" in Lào Cai, "Mỹ" in Mỹ Tho, "Thái" in Thái Bình, "Trung" in Trung Bộ,
# "Đức" in Thủ Đức) are in AMBIGUOUS, the Vietnamese side in VIETNAM_AMBIGUOUS.
# tests/test_places.py checks that no name repeats within a list or across the
# FOREIGN_* lists, and the counts of the province lists (63 and 34).
# ---------------------------------------------------------------------------


def names(name: str) -> tuple[str, ...]:
    """The names of the list ``name`` (one of `LISTS`, or a list made of them such as
    ``ALL_FOREIGN``), in file order, read from its file on first use."""
    if name in _JOINED:
        return sum((names(part) for part in _JOINED[name]), ())
    if name in LISTS:
        return read_list(f"places/{name.lower()}.txt")
    raise ValueError(f"no list of places is called {name!r}")


def __getattr__(name: str) -> tuple[str, ...]:
    # ``places.FOREIGN_COUNTRIES`` reads its file on first use (PEP 562), not on import:
    # classifying a text does not need the gazetteer.
    if name in LISTS or name in _JOINED:
        return names(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
