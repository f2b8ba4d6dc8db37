import json
import re
import warnings
from collections import Counter

import pytest
from conftest import SMALL_CORPUS

from nlpkit.text import join_title
from nlpkit.training.reading import DataError, from_lists, read_file
from nlpkit.training.userdata import split


def jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def small_rows():
    return [{"text": t, "label": topic} for topic, texts in SMALL_CORPUS.items() for t in texts]


def test_the_holdout_is_stratified_seeded_and_keeps_every_label_in_training():
    texts = [f"text {i}" for i in range(103)]
    labels = ["a"] * 50 + ["b"] * 50 + ["c"] * 2 + ["d"]
    with pytest.warns(UserWarning, match=r"1 label\(s\) with one example \('d'\)"):
        first = split(from_lists(texts, labels), holdout=0.2, seed=7)
    held = Counter(r.source_category for r in first.heldout)
    assert held == {"a": 10, "b": 10}  # 20% of 2 rounds to none held out
    assert {r.source_category for r in first.train} == {"a", "b", "c", "d"}
    with pytest.warns(UserWarning):
        again = split(from_lists(texts, labels), holdout=0.2, seed=7)
        other = split(from_lists(texts, labels), holdout=0.2, seed=8)
    assert [r.text for r in again.heldout] == [r.text for r in first.heldout]
    assert [r.text for r in other.heldout] != [r.text for r in first.heldout]
    with pytest.warns(UserWarning):
        everything = split(from_lists(texts, labels), holdout=0)
    assert not everything.heldout and len(everything.train) == 103


def test_labels_alike_but_for_case_or_spacing_are_a_warning():
    texts = [f"text {i}" for i in range(12)]
    labels = ["Sports"] * 3 + ["sports"] * 3 + ["Thế giới"] * 3 + ["thế  giới"] * 3
    with pytest.warns(UserWarning) as caught:
        out = split(from_lists(texts, labels), holdout=0)
    assert [str(w.message) for w in caught] == [
        "labels that differ only in case or spacing are different classes: "
        "'Sports' and 'sports', 'Thế giới' and 'thế  giới'"
    ]
    assert {r.source_category for r in out.train} == set(labels)  # (trained as given)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        split(from_lists(texts, ["a"] * 6 + ["b"] * 6), holdout=0)


def test_copies_are_trained_as_given_and_never_on_both_sides():
    texts = ["same text", " same text\n", "other", "third", "fourth", "other", "x", "y"]
    labels = ["a", "a", "b", "a", "b", "a", "a", "b"]
    with pytest.warns(UserWarning) as caught:
        out = split(from_lists(texts, labels), holdout=0.5, seed=1)
    messages = [str(w.message) for w in caught]
    assert any(
        m.startswith("1 texts repeat an earlier one with the same label (e.g. texts[1] = texts[0])")
        for m in messages
    )
    assert any(
        "1 texts repeat an earlier one with another label (e.g. texts[5] 'a' = texts[2] 'b')" in m
        for m in messages
    )
    assert len(out.train) + len(out.heldout) == 8
    for part, other in ((out.train, out.heldout), (out.heldout, out.train)):
        same = {" ".join(r.text.split()) for r in part}
        assert not same & {" ".join(r.text.split()) for r in other}
    assert out.fields["repeated"] == 1 and out.fields["relabelled_copies"] == 1


def test_a_split_field_decides_and_a_text_in_both_parts_is_an_error(tmp_path):
    rows = [
        {"text": "a", "label": "x", "part": "train"},
        {"text": "b", "label": "y", "part": "train"},
        {"text": "c", "label": "x", "part": "test"},
    ]
    # ('y' has one example: a warning says it cannot be held out and is poorly learned)
    with pytest.warns(UserWarning, match=r"1 label\(s\) with one example \('y'\)"):
        out = split(read_file(jsonl(tmp_path / "x.jsonl", rows), split_field="part"))
    assert [r.text for r in out.heldout] == ["c"] and out.holdout is None
    rows.append({"text": "a", "label": "x", "part": "test"})
    with pytest.raises(
        DataError,
        match=r"x.jsonl:4: the same text as .*x.jsonl:1, one in the training part and one held out",
    ):
        split(read_file(jsonl(tmp_path / "x.jsonl", rows), split_field="part"))
    rows[-1] = {"text": "d", "label": "x", "part": "later"}
    with (
        pytest.warns(UserWarning, match="one example"),
        pytest.raises(DataError, match=re.escape("split value 'later' is neither training")),
    ):
        split(read_file(jsonl(tmp_path / "x.jsonl", rows), split_field="part"))


@pytest.mark.parametrize(
    "train, message",
    [
        (
            ["x", "x", "none", "none"],
            "the training part has one label only besides none ('none', 'x'): ",
        ),
        (["none", "none"], "the training part has no label besides none ('none'): training"),
    ],
)
def test_a_training_part_of_too_few_labels_says_how_many(tmp_path, train, message):
    rows = [{"text": f"t{i}", "label": label, "part": "train"} for i, label in enumerate(train)]
    rows += [{"text": f"h{i}", "label": label, "part": "test"} for i, label in enumerate("xy")]
    with pytest.raises(DataError, match=re.escape(message)):
        split(read_file(jsonl(tmp_path / "x.jsonl", rows), split_field="part"))


def test_copies_in_another_unicode_form_or_spacing_are_one_text_for_the_split():
    # The model reads NFD and NFC, or "a  b" and "a b", as one text: held out on one side and
    # trained on the other, a copy would be scored on what the model learned.
    import unicodedata

    base = [f"Bài số {i}: Giá xăng dầu tăng, người dân lo lắng về chi phí" for i in range(40)]
    texts = base + [unicodedata.normalize("NFD", t) for t in base[:20]]
    texts += [t.replace(" ", "  ", 1) + "\n" for t in base[20:]]
    labels = (["a", "b"] * 20) * 2
    assert len(set(texts)) == 80
    with pytest.warns(UserWarning, match="40 texts repeat an earlier one with the same label"):
        out = split(from_lists(texts, labels), holdout=0.3, seed=0)
    assert out.heldout
    key = lambda r: " ".join(unicodedata.normalize("NFC", r.text).split())  # noqa: E731
    assert not {key(r) for r in out.train} & {key(r) for r in out.heldout}


def test_copies_with_invisible_characters_or_html_are_one_text_for_the_split(tmp_path):
    # The model removes soft hyphens and zero-width spaces and reads HTML as a page shows it:
    # such copies were trained on one side and held out on the other (held-out scores 1.0),
    # and a split field's test copy of a training text was not refused.
    from nlpkit.text import normalize

    base = [f"Bài số {i}: Giá xăng dầu tăng, người dân lo lắng về chi phí" for i in range(40)]
    texts = base + [t[:3] + "\u200b" + t[3:] for t in base[:10]]
    texts += ["\u00ad" + t for t in base[10:20]]
    texts += [t.replace("Giá", "Gi&#225;") for t in base[20:30]]
    texts += [f"<p class='lead'>{t}</p>" for t in base[30:]]
    labels = (["a", "b"] * 20) * 2
    with pytest.warns(UserWarning, match="40 texts repeat an earlier one with the same label"):
        out = split(from_lists(texts, labels), holdout=0.3, seed=0)
    assert out.heldout
    assert not {normalize(r.text) for r in out.train} & {normalize(r.text) for r in out.heldout}
    rows = [{"text": t, "label": "ab"[i % 2], "part": "train"} for i, t in enumerate(base)]
    rows += [{"text": "\u00ad" + base[0], "label": "a", "part": "test"}]
    # (a page of markup before it: its start was cut before the text's began)
    page = ('<div class="' + "c " * 300 + '">') * 4
    rows += [{"text": page + base[1], "label": "b", "part": "test"}]
    with pytest.raises(DataError, match="x.jsonl:41: the same text as .*x.jsonl:1, one in the tra"):
        split(read_file(jsonl(tmp_path / "x.jsonl", rows), split_field="part"))
    with pytest.raises(DataError, match="y.jsonl:41: the same text as .*y.jsonl:2, one in the tra"):
        split(read_file(jsonl(tmp_path / "y.jsonl", rows[:40] + rows[41:]), split_field="part"))


def test_copies_in_other_letter_case_or_with_the_title_apart_are_one_text_for_the_split():
    # The terms are lower-cased, and a title is read as the text's first line: a headline in
    # capitals, or a title given apart in one export and inside the text in another, is the
    # text the model trained on.
    base = [f"Bài số {i}: Giá xăng dầu tăng" for i in range(40)]
    leads = [f"Người dân lo lắng về chi phí, lần {i}" for i in range(40)]
    texts = [f"{t}\n{lead}" for t, lead in zip(base, leads)]
    titles = [""] * 40
    texts += [f"{t.upper()}\n{lead}" for t, lead in zip(base[:20], leads[:20])]
    titles += [""] * 20
    texts += leads[20:]  # (their titles apart)
    titles += base[20:]
    labels = (["a", "b"] * 20) * 2
    with pytest.warns(UserWarning, match="40 texts repeat an earlier one with the same label"):
        out = split(from_lists(texts, labels, titles), holdout=0.3, seed=0)
    assert out.heldout
    key = lambda r: join_title(r.title, r.text).casefold()  # noqa: E731
    assert not {key(r) for r in out.train} & {key(r) for r in out.heldout}


def test_a_holdout_of_most_of_the_file_is_said():
    texts = [f"Bài số {i}: tin {i}" for i in range(40)]
    labels = ["a", "b"] * 20
    with pytest.warns(UserWarning, match="a holdout of 0.9 trains on 4 texts and holds out 36"):
        split(from_lists(texts, labels), holdout=0.9, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        split(from_lists(texts, labels), holdout=0.5, seed=0)  # (as many each side: not said)


def test_a_label_whose_texts_are_copies_of_another_labels_is_never_held_out_whole():
    texts = [f"text {i}" for i in range(60)] + [f"text {i}" for i in range(12)]
    labels = ["a", "b"] * 30 + [f"q{i}" for i in range(12)]
    with pytest.warns(UserWarning):
        out = split(from_lists(texts, labels), holdout=0.5, seed=3)
    assert {r.source_category for r in out.train} == set(labels)


def test_a_none_of_another_case_is_a_warning():
    texts = [f"text {i}" for i in range(6)]
    with pytest.warns(UserWarning, match="label 'None' is a class of its own: out of scope"):
        split(from_lists(texts, ["a", "a", "None", "None", "b", "b"]), holdout=0)


def test_a_label_the_split_field_holds_out_whole_is_not_said_to_train(tmp_path):
    rows = [{"text": f"a {i}", "label": "x", "part": "train"} for i in range(3)]
    rows += [{"text": f"b {i}", "label": "y", "part": "train"} for i in range(3)]
    rows += [{"text": "c", "label": "z", "part": "test"}]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        split(read_file(jsonl(tmp_path / "x.jsonl", rows), split_field="part"))
    assert not any("one example" in str(w.message) for w in caught)


def test_a_holdout_of_most_of_the_texts_added_to_a_recipe_is_not_said():
    # (with a recipe's texts the model learns from far more than the user's training part)
    texts = [f"Bài số {i}: tin {i}" for i in range(40)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        split(from_lists(texts, ["a", "b"] * 20), holdout=0.9, seed=0, alone=False)


def test_a_copy_after_much_white_space_is_still_a_copy():
    texts = [f"Bài số {i}: Giá xăng dầu tăng" for i in range(20)]
    texts += [" " * 200 + t for t in texts[:10]]
    with pytest.warns(UserWarning, match="10 texts repeat an earlier one with the same label"):
        split(from_lists(texts, (["a", "b"] * 10) + (["a", "b"] * 5)), holdout=0.3, seed=0)


def test_texts_of_one_topic_added_to_a_recipe_are_split():
    # (corrections of one topic: the recipe's texts have the others)
    texts = [f"Bài số {i}: tin thể thao" for i in range(10)]
    out = split(from_lists(texts, ["sports"] * 10), holdout=0.2, seed=0, alone=False)
    assert len(out.train) == 8 and len(out.heldout) == 2
    with pytest.raises(DataError, match="only one label"):
        split(from_lists(texts, ["sports"] * 10), holdout=0.2, seed=0)


def test_a_models_name_that_a_card_cannot_carry_is_refused():
    import nlpkit

    for name in ("", "a\nb"):
        with pytest.raises(ValueError, match="name"):
            nlpkit.train(
                [t for ts in SMALL_CORPUS.values() for t in ts],
                [x for x, ts in SMALL_CORPUS.items() for _ in ts],
                name=name,
            )
