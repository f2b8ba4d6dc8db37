import json
import re
import warnings

import pytest
from conftest import ROOT, SMALL_CORPUS, SMALL_NONE, small_cfg

import nlpkit
from nlpkit.adapt import adapt, feed_labels, feed_records
from nlpkit.cli import main

# A feed: the tests' own sentences, without labels or sections, each a few times (so that
# their terms reach a vocabulary), and a fuel crime the boundary rules settle.
FUEL_CRIME = "Công an bắt giữ nhóm buôn lậu xăng dầu qua biên giới"
FEED = [t for texts in SMALL_CORPUS.values() for t in texts] * 3 + SMALL_NONE * 3 + [FUEL_CRIME]


@pytest.fixture(scope="module")
def teacher(small_none_model):
    return small_none_model[0]


def test_feed_labels_take_the_boundary_rules_then_a_sure_teacher(teacher):
    records = feed_records(FEED, None)
    labels = feed_labels(teacher, records, threshold=0.5)
    assert len(labels) == len(records)
    # The fuel crime is domestic by the topic definitions' table, whatever the teacher says.
    assert labels[-1][0] == "domestic" and labels[-1][2] == "energy_crime"
    sure = [label for label in labels if label and label[2] == "teacher"]
    assert sure and all(weight >= 0.5 for _, weight, _ in sure)
    # A teacher's probability is a weight to two decimals: its last bits, which the machine's
    # arithmetic moves, do not reach training.
    assert all(weight == round(weight, 2) for _, weight, _ in sure)
    # Nothing is sure at a threshold of 1 but what the rules settle.
    strict = feed_labels(teacher, records, threshold=1.0)
    assert all(label is None or label[2] != "teacher" for label in strict)
    with pytest.raises(ValueError, match="threshold"):
        feed_labels(teacher, records, threshold=0)


def test_a_model_of_other_labels_gets_no_topic_of_the_labelling_functions():
    # A newsroom's own sections: the boundary rules' "domestic" for the fuel crime (and any
    # other function's topic) is no class of this model, and must not become one.
    sections = {"geopolitics": "world", "energy": "money", "domestic": "home", "sports": "games"}
    texts = [f"{t} ({i})" for i, t in enumerate(FEED[: 32 * 3])]
    labels = [sections[label] for label, items in SMALL_CORPUS.items() for _ in items] * 3
    own = nlpkit.train(texts, labels, min_df=1, cache=False)
    given = feed_labels(own, feed_records(FEED, None), threshold=0.5)
    assert given[-1] is None or given[-1][2] == "teacher"
    assert {label for label, _, _ in filter(None, given)} <= set(own.classes)
    model, _ = adapt(FEED, model=own, threshold=0.5)
    assert set(model.classes) == set(own.classes)


def test_a_text_the_teacher_knows_nothing_of_is_left_unlabelled(teacher):
    # Out of scope for want of evidence is no evidence that it is out of scope.
    unknown = feed_records(["Lorem ipsum dolor sit amet", "12345"], None)
    assert feed_labels(teacher, unknown, threshold=0.5) == [None, None]


def test_adapt_fits_a_model_of_the_feed_with_the_teachers_settings(teacher, tmp_path):
    model, metrics = adapt(FEED, model=teacher, threshold=0.5)
    feed = metrics["training"]["feed"]
    assert feed["records"] == len(FEED) and 0 < feed["labelled"] <= len(FEED)
    assert model.none == teacher.none and model.none_head == teacher.none_head
    assert model.predict("Giá xăng dầu tăng mạnh từ chiều nay") == "energy"
    model.save(tmp_path / "adapted")
    again = nlpkit.load(tmp_path / "adapted")
    assert again.predict(FEED[:5]) == model.predict(FEED[:5])


def test_adapt_from_the_shipped_model_keeps_its_out_of_scope_line():
    # The shipped recipe sets its line on a development sample, which a feed does not have.
    shipped = nlpkit.load()
    with pytest.warns(
        UserWarning, match="training examples of the feed alone, where the model it refreshes"
    ):
        model, metrics = adapt(FEED, threshold=0.5)
    recorded = shipped.manifest["training_config"]["classifier"]
    tuned = shipped.manifest["metrics"]["training"]["none_offset"]["offset"]
    classifier = model.manifest["training_config"]["classifier"]
    assert recorded["tune_none_offset"] and not classifier["tune_none_offset"]
    assert classifier["none_offset"] == recorded["none_offset"] + tuned
    assert model.none_head == "detector" and metrics["training"]["feed"]["labelled"] > 0


def test_a_temperature_read_off_a_development_sample_is_kept(teacher):
    import copy

    # A feed has no development sample to read one off again.
    tuned = copy.deepcopy(teacher)
    tuned.temperature = 0.8
    tuned.manifest = copy.deepcopy(teacher.manifest or {})
    recorded = tuned.manifest.setdefault("training_config", {}).setdefault("classifier", {})
    recorded["tune_temperature"] = True
    model, _ = adapt(FEED, model=tuned, threshold=0.5)
    classifier = model.manifest["training_config"]["classifier"]
    assert not classifier["tune_temperature"] and classifier["temperature"] == 0.8
    assert model.temperature == 0.8


def test_adapt_joins_a_recipe(teacher, tmp_path):
    cfg = small_cfg(tmp_path)
    model, metrics = adapt(FEED, model=teacher, config=cfg, threshold=0.5)
    assert metrics["training"]["feed"]["labelled"] > 0
    assert metrics["training"]["records"] > len(FEED)


def test_adapt_refuses_a_threshold_out_of_range(teacher):
    with pytest.raises(ValueError, match=r"threshold must be within \(0, 1\], got 0"):
        adapt(FEED, model=teacher, threshold=0)
    with pytest.raises(TypeError, match="threshold must be a number, got str"):
        adapt(FEED, model=teacher, threshold="0.5")


def test_adapt_refuses_one_string(teacher):
    with pytest.raises(TypeError, match="adapt takes texts as a list"):
        adapt("Giá xăng tăng", model=teacher)


@pytest.mark.parametrize(
    "texts, titles, error, message",
    [
        ((t for t in FEED), None, TypeError, "adapt takes texts as a list, .* not generator"),
        (FEED[:3], "abc", TypeError, "adapt takes titles as a list, .* not str"),
        (FEED[:2] + [b"x"], None, TypeError, r"texts\[2\] must be str, not bytes"),
        (FEED[:2], ["a", 5], TypeError, r"titles\[1\] must be str, not int"),
        (FEED[:2], ["a"], ValueError, "2 texts but 1 titles"),
        (FEED[:2] + [" "], None, ValueError, r"texts\[2\] has nothing to read"),
    ],
)
def test_adapt_refuses_what_is_not_a_feed_naming_the_item(teacher, texts, titles, error, message):
    with pytest.raises(error, match=message):
        adapt(texts, titles=titles, model=teacher)


def test_a_missing_title_is_no_title_and_the_model_is_named(teacher):
    import numpy as np

    texts = FEED + ["", ""]
    # (None, any float NaN: an empty cell, as pandas and numpy give it)
    titles = [None] * (len(FEED) - 1) + [np.float32("nan"), "Giá xăng dầu tăng mạnh", "Giá điện"]
    model, metrics = adapt(texts, titles=titles, model=teacher, threshold=0.5, name="feed-2026")
    assert model.manifest["name"] == "feed-2026"
    assert metrics["training"]["feed"]["records"] == len(texts)
    for bad, error in [("", ValueError), ("a\nb", ValueError), (5, TypeError)]:
        with pytest.raises(error, match="name"):
            adapt(FEED, model=teacher, name=bad)


def test_the_counts_say_that_headlines_count_on_their_own(teacher):
    # Each labelled text with a title gives two examples: the log must not look doubled.
    from nlpkit.training.progress import Progress

    seen = []
    adapt(FEED, titles=[t.split(" ")[0] for t in FEED], model=teacher, threshold=0.5,
          progress=Progress(log=seen.append))  # fmt: skip
    line = next(m for m in seen if m.startswith("training labels:"))
    assert f"from {len(FEED)} records, with " in line and "of their headlines on their own" in line


def test_command_adapts_a_model_folder(small_none_folder, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in FEED))
    code = main(
        ["adapt", "--unlabeled", str(feed), "--model", str(small_none_folder), "--quiet",
         "--threshold", "0.5"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and "feed:" in out and "; by teacher " in out
    adapted = nlpkit.load(tmp_path / "feed-adapted")
    assert adapted.predict("Giá điện tăng") == "energy"
    assert adapted.manifest["name"] == "feed-adapted"  # (its errors name it as its folder)
    # The card says which feed made the model, and why nothing was scored.
    import hashlib

    card = (tmp_path / "feed-adapted" / "README.md").read_text("utf-8")
    digest = hashlib.sha256(feed.read_bytes()).hexdigest()
    assert f"unlabelled texts of feed.jsonl (`sha256:{digest[:16]}" in card
    assert "No held-out texts were scored: an adapted model is fitted on its feed" in card
    assert "as measured above" not in card


def test_command_refuses_to_write_over_the_model_it_refreshes(
    small_none_folder, tmp_path, capsys, monkeypatch
):
    import shutil

    monkeypatch.chdir(tmp_path)
    shutil.copytree(small_none_folder, tmp_path / "mine")
    (tmp_path / "link").symlink_to(tmp_path / "mine")
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in FEED))
    before = {p.name: p.read_bytes() for p in (tmp_path / "mine").iterdir()}
    named = [("mine", "mine"), ("mine", "./mine/"), ("link", str(tmp_path / "mine"))]
    for model, output in [*named, ("link", "mine/sub")]:  # (inside it, too)
        args = ["adapt", "--unlabeled", "feed.jsonl", "--model", model, "--output", output]
        assert main([*args, "--threshold", "0.5"]) == 2
        err = capsys.readouterr().err
        assert "is, or is in, the model being refreshed" in err and err.count("\n") == 1
    # Nor its results, which would be files of the user's in a model folder.
    args = ["adapt", "--unlabeled", "feed.jsonl", "--model", "mine", "--output", "new"]
    assert main([*args, "--results", "link"]) == 2
    assert "--results link is in the model being refreshed" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in (tmp_path / "mine").iterdir()} == before
    # Nor the shipped model, the one refreshed when --model is not given.
    from nlpkit.modelfile import default_model_path

    assert main(["adapt", "--unlabeled", "feed.jsonl", "--output", str(default_model_path())]) == 2
    assert "is, or is in, the model being refreshed" in capsys.readouterr().err


def test_command_reads_a_feed_of_plain_text(small_none_folder, tmp_path, capsys, monkeypatch):
    # One text a line (.txt, gzipped or not), as `nlpkit predict --input` reads plain text.
    import gzip

    monkeypatch.chdir(tmp_path)
    lines = "\n\n".join(FEED) + "\n"  # (blank lines between: skipped)
    (tmp_path / "feed.txt").write_text(lines, encoding="utf-8")
    with gzip.open(tmp_path / "more.txt.gz", "wt", encoding="utf-8") as out:
        out.write(lines)
    for name in ("feed.txt", "more.txt.gz"):
        args = ["adapt", "--unlabeled", name, "--model", str(small_none_folder), "--quiet"]
        assert main([*args, "--threshold", "0.5"]) == 0
        assert f"of {len(FEED):,} texts labelled" in capsys.readouterr().out
    # Under another name, plain text is read as CSV: the error says how to have it read as text.
    (tmp_path / "feed").write_text(lines, encoding="utf-8")
    assert main(["adapt", "--unlabeled", "feed", "--model", str(small_none_folder)]) == 2
    assert "is read so when its name ends in .txt" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--text-field", "body"], "no field 'body'"),
        (["--threshold", "1.5"], "--threshold must be within (0, 1]"),
        (["--model", "/no/such/model"], "model folder not found: /no/such/model"),
        (["--corpus", "/nowhere.jsonl"], "--corpus applies to --config only"),
        (
            ["--config", str(ROOT / "experiments" / "default.toml"), "--corpus", "/nowhere.jsonl"],
            "--corpus: 'data.self_training.files' names 'news_2025_26.jsonl', which data.corpora",
        ),
    ],
)
def test_command_bad_input_is_one_line_and_exit_2(tmp_path, capsys, args, message):
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"text": "Giá xăng tăng"}) + "\n")
    code = main(["adapt", "--unlabeled", str(feed), *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_a_feed_of_one_topic_is_refused_in_the_feeds_words(teacher):
    sports = SMALL_CORPUS["sports"] * 5
    with pytest.raises(ValueError, match="the feed gave too little to learn from: training"):
        adapt(sports, model=teacher, threshold=0.5)


def test_topics_the_feed_all_but_lacks_are_said(teacher):
    few = [t for topic, texts in SMALL_CORPUS.items() if topic != "energy" for t in texts] * 3
    # (the teacher may still read energy into a few of the others)
    with pytest.warns(UserWarning, match=r"the adapted model (has no energy|learned energy from)"):
        adapt(few + SMALL_NONE * 3, model=teacher, threshold=0.5)


def test_a_feed_smaller_than_what_the_teacher_learned_from_is_said():
    # (a model of nlpkit.train: its manifest says how many texts it learned from)
    texts = [t for ts in SMALL_CORPUS.values() for t in ts] + SMALL_NONE
    labels = [label for label, ts in SMALL_CORPUS.items() for _ in ts]
    labels += ["none"] * len(SMALL_NONE)
    teacher = nlpkit.train([f"{t} ({i})" for i, t in enumerate(texts * 2)], labels * 2, min_df=1)
    taught = teacher.manifest["metrics"]["training"]["labelled"]
    small = FEED[: len(SMALL_CORPUS) * 8 + 2]
    assert len(small) < taught < len(FEED)
    said = rf"learned from \d+ training examples of the feed alone, where the model it refreshes learned from {taught}"
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        adapt(small, model=teacher, threshold=0.5)  # (its topics too few: said as well)
    assert any(re.search(said, str(w.message)) for w in seen)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        adapt(FEED, model=teacher, threshold=0.5)  # (more texts than the teacher's: nothing said)


def test_out_of_scope_the_feed_lacks_is_said(teacher):
    # A feed of the topics alone: the adapted model has no none, and allow_none is refused by
    # it, where the teacher took it.
    topics = [t for texts in SMALL_CORPUS.values() for t in texts] * 3
    assert teacher.none
    with pytest.warns(UserWarning, match=r"has no none.*\(allow_none is refused by it\)"):
        student, _ = adapt(topics, model=teacher, threshold=0.5)
    assert not student.none


def test_the_adapted_model_names_the_model_it_was_adapted_from(teacher, tmp_path):
    student, metrics = adapt(FEED, model=teacher, threshold=0.5)
    said = metrics["training"]["feed"]["teacher"]
    assert said == {"name": teacher.manifest.get("name"), "seal": teacher.manifest.get("seal")}
    card = (student.save(tmp_path / "m") / "README.md").read_text(encoding="utf-8")
    assert f"labelled by the model adapted from `{teacher.manifest['name']}`" in card
