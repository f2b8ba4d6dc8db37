import re
import time

import pytest

from nlpkit.markup import MAX_TAG, TAG, next_cut, read_markup


@pytest.mark.parametrize(
    "text, cut",
    [
        ("ab cd", 2),
        ('<a href="x y">b c', 15),  # (past the tag, to the space after it)
        ("<p class=x\nb c", 12),  # (a tag holds no line end: past it, to what follows)
        ("x <3 y z", 4),  # ("<3" opens no tag)
        ("a <b c> d", 7),
        ("<b c d", -1),  # (no ">": past where it could have ended)
        ("abc", -1),
    ],
)
def test_next_cut_is_a_space_or_line_end_outside_every_tag(text, cut):
    assert next_cut(text, 2) == cut


def test_next_cut_takes_linear_time_over_what_may_be_tags():
    # "<" with no ">" after it: each step moves past where such a tag could have ended.
    text = "<a " + "x " * 5_000_000
    start = time.process_time()
    cuts, at = 0, 0
    while (at := next_cut(text, at + 1)) >= 0:
        cuts += 1
    assert cuts > 4_000_000 and time.process_time() - start < 20
    assert next_cut("<a " + "x" * 3 * MAX_TAG + " y", 1) == 3 * MAX_TAG + 3


def test_a_tag_longer_than_the_longest_is_text():
    long = "<a " + "x" * (MAX_TAG + 20) + ">"
    assert TAG.search(long) is None and read_markup(long) == long
    assert read_markup("<a " + "x" * 100 + ">b") == "b"


def test_markup_is_read_tags_first_then_references_twice():
    assert read_markup("<b>Gi&amp;#225;</b>") == "Giá"
    assert read_markup("&lt;b&gt;x&lt;/b&gt;") == "<b>x</b>"  # (shown as written, as a page does)
    assert read_markup("<p>a</p><p>b</p>") == "\na\n\nb\n"
    assert re.sub(r"\s", "", read_markup("<html><body><div>x</div></body></html>")) == "x"
