import hashlib
import json
from collections import Counter

import pytest
from conftest import ROOT

from nlpkit.corpus import CorpusError, CorpusReport, Record, is_heldout, read_corpus
from nlpkit.evaluate import read_labels


def _rec(**kw) -> str:
    base = {
        "id": "x",
        "source_dataset": "vntc",
        "source_category": "The gioi",
        "title": "T",
        "text": "Nội dung",
    }
    base.update(kw)
    return json.dumps(base, ensure_ascii=False)


def test_malformed_lines_are_counted_with_line_numbers(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text(
        "\n".join(
            [
                _rec(id="a"),
                "{not json",
                "[1, 2]",
                _rec(id="b", text=5),
                json.dumps({"id": "c", "text": "x"}),
                "",
                _rec(id="a"),
                _rec(id="d", text_kind="video"),
                _rec(id="e"),
            ]
        ),
        encoding="utf-8",
    )
    report = CorpusReport()
    ids = [r.id for r in read_corpus(path, report)]
    assert ids == ["a", "e"]
    assert report.records == 2 and report.skipped == 6
    assert report.errors[0].startswith("c.jsonl:2: not valid JSON")
    assert "c.jsonl:3: expected a JSON object" in report.errors[1]
    assert "c.jsonl:4: field 'text' must be a string" in report.errors[2]
    assert "c.jsonl:5: missing field(s): source_dataset, source_category" in report.errors[3]
    assert "c.jsonl:7: duplicate id 'a'" in report.errors[4]
    assert "unknown text_kind" in report.errors[5]
    assert "6 malformed lines skipped" in report.summary()


def test_missing_corpus_file_is_an_error(tmp_path):
    with pytest.raises(CorpusError, match="not found"):
        list(read_corpus(tmp_path / "nope.jsonl"))


def test_outlet_is_read_when_present(tmp_path):
    path = tmp_path / "c.jsonl"
    lines = [
        _rec(id="a", outlet="VNE"),
        _rec(id="b", outlet=None),
        _rec(id="c"),
        _rec(id="d", outlet=3),
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    report = CorpusReport()
    assert [(r.id, r.outlet) for r in read_corpus(path, report)] == [
        ("a", "VNE"),
        ("b", ""),
        ("c", ""),
    ]
    assert "field 'outlet' must be a string" in report.errors[0]


LABEL_FILES = (
    "heldout",
    "boundaries",
    "dev",
    "train",
    "train_2025_26",
    "train_2025_26b",
    "train_fuel",
)


def test_hand_label_files_read_cleanly():
    for name in LABEL_FILES:
        labels = read_labels(ROOT / f"experiments/labels/{name}.tsv")
        assert set(labels.values()) <= {"geopolitics", "energy", "domestic", "sports", "none"}


def test_heldout_rule():
    vntc = dict(source_category="x", text="t")
    assert is_heldout(Record(id="a", source_dataset="vntc", split="Test_Full", **vntc))
    assert not is_heldout(Record(id="a", source_dataset="vntc", split="Train_Full", **vntc))
    assert is_heldout(Record(id="a", source_dataset="vnexpress_2020s", split="validate", **vntc))
    assert not is_heldout(Record(id="a", source_dataset="vnexpress_2020s", split="train", **vntc))
    for i in range(50):
        rid = f"baomoi_tc201805-{i:04d}"
        expected = int(hashlib.sha1(rid.encode()).hexdigest(), 16) % 5 == 0
        assert is_heldout(Record(id=rid, source_dataset="baomoi_tc201805", **vntc)) == expected
    # Unknown corpora never leak into training.
    assert is_heldout(Record(id="a", source_dataset="new_corpus", **vntc))


def test_a_copy_of_a_heldout_text_is_held_out(tmp_path):
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text(
        "\n".join([_rec(id="test", split="Test_Full"), _rec(id="train", split="Train_Full")]),
        encoding="utf-8",
    )
    second.write_text(
        "\n".join(
            [
                _rec(id="copy-of-test", split="Train_Full", duplicate_of="test"),
                _rec(id="copy-of-train", split="Train_Full", duplicate_of="train"),
                _rec(id="copy-of-copy", split="Train_Full", duplicate_of="copy-of-test"),
                _rec(id="copy-of-unread", split="Train_Full", duplicate_of="elsewhere"),
                _rec(id="bad", split="Train_Full", duplicate_of=7),
            ]
        ),
        encoding="utf-8",
    )
    report = CorpusReport()
    records = {r.id: r for r in read_corpus([first, second], report)}
    assert {i: is_heldout(r) for i, r in records.items()} == {
        "test": True,
        "train": False,
        "copy-of-test": True,
        "copy-of-train": False,
        "copy-of-copy": True,
        # Read without its original, a copy cannot be shown to be safe to train on.
        "copy-of-unread": True,
    }
    assert records["copy-of-train"].duplicate_of == "train"
    assert "b.jsonl:5: field 'duplicate_of' must be a record id or null" in report.errors


def test_record_full_text_and_era():
    r = Record(
        id="a", source_dataset="vnexpress_2020s", source_category="x", title="Tiêu đề", text="Thân"
    )
    assert r.full_text == "Tiêu đề\nThân" and r.era == "2020s"
    assert (
        Record(id="b", source_dataset="vntc", source_category="x", text="Thân").full_text == "Thân"
    )


@pytest.mark.corpus
@pytest.mark.slow  # (every record of every corpus: about ten seconds)
def test_real_corpus_reads_cleanly_and_labels_respect_the_heldout_rule(shared_data):
    report = CorpusReport()
    paths = [shared_data / "raw_corpus.jsonl", shared_data / "vnexpress_2020s.jsonl"]
    records = {r.id: r for r in read_corpus(paths, report)}
    assert report.skipped == 0 and len(records) == 59786 + 24584
    assert sum(map(is_heldout, records.values())) == 31052
    records = {r.id: r for r in read_corpus([*paths, shared_data / "vntc_extra.jsonl"])}
    assert len(records) == 59786 + 24584 + 43346
    today = list(read_corpus(shared_data / "news_2025_26.jsonl", report))
    # Four items in five have no section: read, not skipped; April 2026 is held out.
    assert report.skipped == 0 and len(today) == 114203
    assert sum(not r.source_category for r in today) == 84945 + 9834
    heldout = [r for r in today if is_heldout(r)]
    assert len(heldout) == 11968 and min(r.date for r in heldout) == "2026-04-01"
    assert {r.era for r in today} == {"2025-26"}
    records.update((r.id, r) for r in today)
    labels = {name: read_labels(ROOT / f"experiments/labels/{name}.tsv") for name in LABEL_FILES}
    assert len(labels["heldout"]) >= 700 and len(labels["boundaries"]) >= 150
    assert len(labels["train"]) >= 800 and len(labels["dev"]) >= 400
    # Today's news has its own held-out and development samples.
    era = Counter(records[i].era for i in labels["heldout"])
    assert era["2025-26"] >= 600 and Counter(records[i].era for i in labels["dev"])["2025-26"]
    # Held-out samples are held out; the development and training samples are not, and no
    # text is in two of them.
    for name in ("heldout", "boundaries"):
        assert all(is_heldout(records[i]) for i in labels[name])
    training = ("train", "train_2025_26", "train_2025_26b", "train_fuel")
    for name in ("dev", *training):
        assert not any(is_heldout(records[i]) for i in labels[name])
    for i, first in enumerate(("dev", *training)):
        for second in ("dev", *training)[i + 1 :]:
            assert not labels[first].keys() & labels[second].keys(), (first, second)


@pytest.mark.corpus
def test_all_of_vntc_with_its_published_split_and_copies(shared_data):
    from collections import Counter

    vntc = [
        r
        for r in read_corpus([shared_data / "raw_corpus.jsonl", shared_data / "vntc_extra.jsonl"])
        if r.source_dataset == "vntc"
    ]
    assert Counter(r.split for r in vntc) == {"Train_Full": 33759, "Test_Full": 50373}
    by_id = {r.id: r for r in vntc}
    copies = Counter(
        (r.split, by_id[r.duplicate_of].split) for r in vntc if r.duplicate_of is not None
    )
    # The data documentation's counts: training copies of test files, test copies of test files.
    assert copies[("Train_Full", "Test_Full")] == 1928
    assert copies[("Test_Full", "Test_Full")] == 853
    train_heldout = [r for r in vntc if r.split == "Train_Full" and is_heldout(r)]
    assert len(train_heldout) == 1928


def test_sample_texts_reads_each_kind_the_same_way_every_time(tmp_path):
    from conftest import write_small_corpus

    from nlpkit.corpus import sample_texts

    write_small_corpus(tmp_path / "vnexpress_2020s.jsonl")
    headlines = sample_texts("headline", 5, tmp_path)
    assert len(headlines) == 5 and headlines == sample_texts("headline", 5, tmp_path)
    assert all("\n" not in h for h in headlines)
    assert all("\n" in t for t in sample_texts("title_lead", 5, tmp_path))
    with pytest.raises(ValueError, match="unknown text kind 'tweet'"):
        sample_texts("tweet", 5, tmp_path)
    with pytest.raises(CorpusError, match="not found"):
        sample_texts("full_article", 5, tmp_path)
