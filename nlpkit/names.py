"""Kinds of names: evidence that carries over to names a model has never seen.

A bag of words learns yesterday's names; the news keeps bringing new leaders, cities and
bodies. The gazetteer (`nlpkit.places`) and the lists of offices (``data/names``) know
far more names than any training corpus holds, and what kind of thing each names: a foreign
state, a foreign city or region, an international body, a place in Vietnam, a Vietnamese or a
foreign office holder. `nlpkit.features.KindFeatures` gives a linear model one column per kind
beside its terms, so that the weight learned from the names seen in training carries to the
names of the same kind that were not.

Because the kind columns are sums of term columns, the fitted weights fold back into the
terms' own (`KindFeatures.fold`): a saved model is an ordinary vocabulary and weight matrix,
scored by the same code (compiled or not) as any other, and every name of the gazetteer is in
its vocabulary.
"""

from __future__ import annotations

from functools import cache

__all__ = ["KINDS", "name_kinds", "describe"]

# The kinds, with the words `explain` uses for them.
KINDS: dict[str, str] = {
    "foreign_state": "a foreign country or territory",
    "foreign_place": "a foreign city or region",
    "international_body": "an international body or foreign institution",
    "vietnamese_place": "a place in Vietnam",
    "vietnamese_office": "a Vietnamese office holder",
    "foreign_office": "a foreign office holder",
}


def _offices() -> list[tuple[str, str]]:
    from .wordlists import read_list

    return [
        (title, kind)
        for kind in ("vietnamese_office", "foreign_office")
        for title in read_list(f"names/{kind}s.txt")
    ]


@cache
def name_kinds() -> dict[str, str]:
    """Each term, as the features spell it (segmented, lower-cased word or word bigram), that
    names a thing of a known kind -> that kind.

    Names are segmented on their own, as pyvi segments them in a sentence in most cases; a
    name of more than two words is left out (no term of the features spells it). A name that
    is also a word or a Vietnamese name ("Anh", "Mỹ Tho") is left out: its term would say
    nothing sure."""
    from . import places
    from .text import prepare

    ambiguous = set(places.AMBIGUOUS) | set(places.VIETNAM_AMBIGUOUS)
    lists = [
        ("vietnamese_place", places.ALL_VIETNAM),
        ("international_body", places.FOREIGN_BODIES),
        ("foreign_place", places.FOREIGN_REGIONS),
        (
            "foreign_state",
            places.FOREIGN_COUNTRIES + places.FOREIGN_EPITHETS + places.FOREIGN_HISTORICAL,
        ),
    ]
    named = [(n, kind) for kind, names in lists for n in names if n not in ambiguous]
    named += _offices()
    kinds: dict[str, str] = {}
    clash: set[str] = set()
    for name, kind in named:
        words = prepare(name).lower().split()
        if not 1 <= len(words) <= 2:
            continue
        term = " ".join(words)
        if kinds.get(term, kind) != kind:
            clash.add(term)
        kinds[term] = kind
    # A term of two kinds ("Georgia" the state and the country is one kind; "Hà Nam" of both
    # countries is not) says nothing sure either.
    return {t: k for t, k in kinds.items() if t not in clash}


def describe(term: str) -> str | None:
    """What kind of thing ``term`` names, in words ("a foreign country or territory"), or None."""
    kind = name_kinds().get(term)
    return KINDS[kind] if kind else None
