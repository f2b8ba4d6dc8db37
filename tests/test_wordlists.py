"""The word lists shipped as data files: their format line, their parsing, a clear error."""

import pytest

from nlpkit import places, weak
from nlpkit.wordlists import DATA_DIR, read_list

FILES = sorted(DATA_DIR.rglob("*.txt")) + sorted(DATA_DIR.rglob("*.tsv"))


def test_data_files_are_shipped_and_the_lexicons_all_used():
    assert {f.parent.name for f in FILES} == {"places", "lexicons", "sections", "names", "markup"}
    lexicons_used = [lex for lex in vars(weak).values() if isinstance(lex, weak._Lexicon)]
    used = {lex.name for lex in lexicons_used} | {
        lex.unless.name for lex in lexicons_used if lex.unless is not None
    }
    # (lists read as they are, not as a lexicon of terms: a dateline's places, the syllables
    # after which a term is another word, a news page's related-news headings)
    lists = {"foreign_datelines", "next_syllables", "related_headings"}
    lexicons = {f.stem for f in FILES if f.parent.name == "lexicons"} - lists
    assert used == lexicons
    for name in lists:
        assert read_list(f"lexicons/{name}.txt")


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_file_says_its_format_on_its_first_line(path):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# nlpkit ") and "one " in first and "per line" in first


def test_comments_and_blank_lines_are_not_entries():
    countries = read_list("places/foreign_countries.txt")
    assert "TQ" in countries  # written "TQ  # TQ: headline abbreviation"
    assert all("#" not in name and name == name.strip() and name for name in countries)
    assert places.FOREIGN_COUNTRIES is countries  # read once


def test_regular_expression_entries_keep_their_meaning():
    # "re: dầu(?! (?:ăn|gội|...))": oil, but not cooking oil or shampoo.
    assert weak.ENERGY_TERMS.search("giá dầu tăng")
    assert not weak.ENERGY_TERMS.search("dầu ăn giảm giá")
    # "re: v.league": any character between ("V League", "V–League" are printed too).
    assert weak.SPORTS_TERMS.search("vòng 3 v league")
    # The world terms are matched with case: "Fed" is the central bank, "fed" is not a term.
    assert weak.WORLD_TERMS.search("Fed tăng lãi suất")
    assert not weak.WORLD_TERMS.search("fed tăng lãi suất")


def test_the_sections_table_gives_topics_and_kinds():
    from nlpkit.topics import SECTION_TOPICS, section_kinds, section_topic

    assert section_topic("vnexpress_2020s", "Thể thao") == "sports"
    assert SECTION_TOPICS["vntc", "Suc khoe"] == "none"
    assert section_kinds("vnexpress_2020s", "Kinh doanh") == {"business", "dateline"}
    assert section_kinds("vntc", "The gioi") == frozenset()
    assert section_topic("nowhere", "Thể thao") is None


def test_a_missing_file_is_named():
    with pytest.raises(FileNotFoundError, match="no_such_list.txt"):
        read_list("places/no_such_list.txt")
