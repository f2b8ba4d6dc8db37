"""The gazetteer: complete province lists, no name twice, names as printed."""

import unicodedata

import pytest

from nlpkit import places

LISTS = {
    name: getattr(places, name)
    for name in (
        "FOREIGN_COUNTRIES",
        "FOREIGN_REGIONS",
        "FOREIGN_BODIES",
        "VIETNAM_PROVINCES_63",
        "VIETNAM_PROVINCES_34",
        "VIETNAM_PLACES",
        "AMBIGUOUS",
    )
}


def test_vietnam_has_63_provinces_before_2025_and_34_after():
    assert len(set(places.VIETNAM_PROVINCES_63_CANONICAL)) == 63
    assert len(set(places.VIETNAM_PROVINCES_34_CANONICAL)) == 34
    # Every province after the merger kept the name of one before it (Huế: the city the
    # province Thừa Thiên Huế became).
    before = set(places.VIETNAM_PROVINCES_63_CANONICAL) | {"Huế", "TP Hồ Chí Minh"}
    assert set(places.VIETNAM_PROVINCES_34_CANONICAL) <= before


@pytest.mark.parametrize("name", list(LISTS))
def test_no_name_twice_in_a_list_and_every_name_clean(name):
    names = LISTS[name]
    assert len(names) == len(set(names))
    for entry in names:
        assert entry == entry.strip() and entry == unicodedata.normalize("NFC", entry)


def test_foreign_lists_do_not_overlap():
    seen: dict[str, str] = {}
    for name in ("FOREIGN_COUNTRIES", "FOREIGN_REGIONS", "FOREIGN_BODIES"):
        for entry in LISTS[name]:
            assert entry not in seen, f"{entry} in {seen.get(entry)} and {name}"
            seen[entry] = name


def test_names_on_both_sides_are_marked_ambiguous():
    both = set(places.ALL_FOREIGN) & set(places.ALL_VIETNAM)
    assert both <= set(places.AMBIGUOUS) | set(places.VIETNAM_AMBIGUOUS)
