import pytest
from conftest import ROOT


def test_seed_snippets_become_unsectioned_records():
    from nlpkit.training.labels import snippet_records

    records = snippet_records([str(ROOT / "seeds" / "*.txt")])
    assert len(records) == 8 and len({r.id for r in records}) == 8
    assert all(r.source_category == "" and r.text_kind == "title_sapo" for r in records)
    assert records[1].title.startswith("Toàn cảnh khí đốt EU")


def test_split_skips_copies_and_follows_vntc_protocol_when_asked():
    import copy

    from nlpkit.corpus import Record
    from nlpkit.training.config import DEFAULTS
    from nlpkit.training.labels import split_records as _split

    def rec(i, split, duplicate_of=None, original_heldout=None):
        return Record(
            id=i,
            source_dataset="vntc",
            source_category="The gioi",
            text=f"text of {duplicate_of or i}",
            split=split,
            duplicate_of=duplicate_of,
            original_heldout=original_heldout,
        )

    records = [
        rec("test", "Test_Full"),
        rec("train", "Train_Full"),
        rec("train-copy-of-test", "Train_Full", "test", True),
        rec("train-copy-of-train", "Train_Full", "train", False),
        rec("test-copy-of-train", "Test_Full", "train", False),
        rec("other-test", "Test_Full"),
        rec("plain", "Train_Full"),
    ]
    cfg = copy.deepcopy(DEFAULTS)
    train, heldout, unique = _split(records, cfg)
    # "train" has a held-out copy: its text is held out, so it is not trained either.
    assert [r.id for r in train] == ["plain"]
    assert [r.id for r in heldout] == [
        "test",
        "train-copy-of-test",
        "test-copy-of-train",
        "other-test",
    ]
    assert unique is heldout
    cfg["data"].update(split="vntc", datasets=["vntc"])
    train, heldout, unique = _split(records, cfg)
    assert [r.id for r in train] == ["train", "train-copy-of-test", "train-copy-of-train", "plain"]
    assert [r.id for r in heldout] == ["test", "test-copy-of-train", "other-test"]
    # Without copies: no test file whose text a training file shares.
    assert [r.id for r in unique] == ["other-test"]


def test_a_training_record_with_a_held_out_records_text_is_not_trained():
    import copy

    from nlpkit.corpus import Record
    from nlpkit.training.config import DEFAULTS
    from nlpkit.training.labels import split_records

    def rec(i, split, title="Tiêu đề", text="Nội dung"):
        return Record(id=i, source_dataset="news_2025_26", source_category="", title=title,
                      text=text, split=split)  # fmt: skip

    records = [rec("april", "validate"), rec("march", "train"), rec("other", "train", text="Khác")]
    train, heldout, _ = split_records(records, copy.deepcopy(DEFAULTS))
    # The same title and text as a held-out record: a copy of it, held out too (not trained).
    assert [r.id for r in train] == ["other"] and [r.id for r in heldout] == ["april"]


def test_a_snippets_pattern_that_matches_nothing_is_an_error(tmp_path):
    from nlpkit.training.labels import snippet_records

    with pytest.raises(
        ValueError, match=r"'data.snippets' pattern '.*nopages/\*.txt' matches no file"
    ):
        snippet_records([str(tmp_path / "nopages" / "*.txt")])


def test_headlines_join_with_their_articles_label_and_a_weight():
    from nlpkit.corpus import Record
    from nlpkit.training.labels import with_headlines

    article = Record(id="a", source_dataset="x", source_category="", text="body", title="Head")
    bare = Record(id="b", source_dataset="x", source_category="", text="body")
    examples = [(article, ("sports", 2.0, "hand")), (bare, ("energy", 1.0, "section"))]
    assert with_headlines(examples, 0.0) == examples
    out = with_headlines(examples, 0.5)
    assert len(out) == 3
    title, label = out[2]
    assert (title.id, title.text, title.title, title.text_kind) == ("a#title", "Head", "", "title")
    assert label == ("sports", 1.0, "hand")
