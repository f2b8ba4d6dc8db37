import pytest
from conftest import SEED_TITLES, SEEDS
from hypothesis import given, settings
from hypothesis import strategies as st

from nlpkit.pages import parse_page, read_page


def test_first_seed_has_title_date_source_and_no_related():
    page = read_page(SEEDS[0])
    assert page.title == "Tổng thống Nga và Thổ Nhĩ Kỳ thảo luận các đề xuất đảm bảo an ninh"
    assert page.date.startswith("Thứ Hai, 03/01/2022")
    assert page.source.startswith("https://www.vietnamplus.vn/")
    assert page.related == ()
    # The caption is printed twice on the page; the body keeps it once.
    assert page.body.count("Ảnh: THX/TTXVN") == 1
    assert "(Theo" not in page.body


def test_second_seed_related_news_deduplicated():
    page = read_page(SEEDS[1])
    assert page.title == "Tổng thống Nga Putin tuyên bố ưu tiên thỏa thuận với phương Tây"
    assert page.author == "Song Minh"
    titles = [s.title for s in page.related]
    assert titles == [t for t in SEED_TITLES if t not in (page.title, read_page(SEEDS[0]).title)]
    assert len(titles) == len(set(titles)) == 8
    assert page.related[0].author == "Khánh Minh"
    assert page.related[2].lead.startswith("Tập đoàn năng lượng Nga Gazprom")
    assert "TIN LIÊN QUAN" not in page.body
    assert not page.body.endswith("Song Minh")  # the signature is not body text


def test_page_text_is_title_and_body():
    page = parse_page("Tiêu đề bài\n\nĐoạn một.\n\nĐoạn hai.")
    assert page.text == "Tiêu đề bài\nĐoạn một.\nĐoạn hai."


def test_related_items_without_lead():
    page = parse_page(
        "Bài chính\nThân bài.\nTin liên quan\nMục một\nA |\nMục hai\nB |\nLời dẫn hai."
    )
    assert [(s.title, s.author, s.lead) for s in page.related] == [
        ("Mục một", "A", ""),
        ("Mục hai", "B", "Lời dẫn hai."),
    ]


@pytest.mark.parametrize("bad", ["", " \n. \n.", None])
def test_parse_page_rejects_empty(bad):
    with pytest.raises((ValueError, TypeError)):
        parse_page(bad)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_unicode_page_parses_or_says_it_is_empty(text):
    try:
        page = parse_page(text)
    except ValueError as exc:
        assert "empty" in str(exc) or "no title" in str(exc)
    else:
        assert page.title and page.title.strip() == page.title
