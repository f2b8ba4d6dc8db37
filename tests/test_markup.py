import re
import time

import pytest
from conftest import pure

from nlpkit.markup import MAX_TAG, TAG, next_cut, read_markup


@pytest.mark.parametrize(
    "text, cut",
    [
        ("ab cd", 2),
        ('<a href="x y">b c', 15),  # (past the tag, to the space after it)
        ("<p class=x\nb c", 2),  # (a tag holds no line end: no tag)
        ("x <3 y z", 4),  # ("<3" opens no tag)
        ("a <b c> d", 7),
        ("<b c d", 2),  # (no ">" closes it: no tag)
        ("x <a <a <a y", 4),  # (another "<" before any ">": no tag)
        ("abc", -1),
    ],
)
def test_next_cut_is_a_space_or_line_end_outside_every_tag(text, cut):
    assert next_cut(text, 2) == cut


def test_next_cut_takes_linear_time_over_what_may_be_tags():
    # "<" with no ">" after it: no tag, and each cut is found at once.
    text = "<a " + "x " * 5_000_000
    start = time.process_time()
    cuts, at = 0, 0
    while (at := next_cut(text, at + 1)) >= 0:
        cuts += 1
    assert cuts > 4_000_000 and time.process_time() - start < 20
    assert next_cut("<a " + "x" * 3 * MAX_TAG + " y>", 1) == 2  # (too long to be a tag)
    assert next_cut("<a href=x title=y> z", 1) == 18


def test_a_tag_longer_than_the_longest_is_text():
    long = "<a " + "x" * (MAX_TAG + 20) + ">"
    assert TAG.search(long) is None and read_markup(long) == long
    assert read_markup("<a " + "x" * 100 + ">b") == "b"


def test_markup_is_read_tags_first_then_references_twice():
    assert read_markup("<b>Gi&amp;#225;</b>") == "Giá"
    assert read_markup("&lt;b&gt;x&lt;/b&gt;") == "<b>x</b>"  # (shown as written, as a page does)
    assert read_markup("<p>a</p><p>b</p>") == "\na\n\nb\n"
    assert re.sub(r"\s", "", read_markup("<html><body><div>x</div></body></html>")) == "x"


def test_a_text_of_lt_signs_no_gt_closes_is_read_as_far_as_its_content_needs(markup_reads):
    # Every space after "<a" was passed by as maybe inside a tag: a 9 MB text read whole (7 s)
    # where its first 5,000 characters are all the model reads.
    import nlpkit.text as nlptext

    read = markup_reads
    text = "Giá xăng tăng " + "<a " * 1_000_000
    with pure():  # (Python's own reading, whose pieces are counted)
        assert nlptext.normalize(text, max_chars=5000) == nlptext.normalize(text)[:5000]
    read_whole = read.pop()
    assert nlptext.has_content(text) and sum(read) < read_whole / 20
    assert nlptext.normalize(text, max_chars=5000) == nlptext.normalize(text)[:5000]  # (the core)
