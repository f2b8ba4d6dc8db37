import json

import pytest
from conftest import SMALL_CORPUS

import nlpkit

TEXTS = [t for texts in SMALL_CORPUS.values() for t in texts] * 3
LABELS = [label for label, texts in SMALL_CORPUS.items() for _ in texts] * 3
# Labels of the user's choosing, not the four topics.
SECTIONS = {"geopolitics": "world", "energy": "money", "domestic": "home", "sports": "games"}


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    from nlpkit.cache import SegmentCache

    return SegmentCache(tmp_path_factory.mktemp("cache") / "c.sqlite")


def test_train_save_load_in_three_lines(tmp_path, cache):
    texts = [f"{t} ({i})" for i, t in enumerate(TEXTS)]  # no repeated text
    model = nlpkit.train(texts, [SECTIONS[x] for x in LABELS], min_df=1, cache=cache)
    assert set(model.topics) == {"world", "money", "home", "games"}
    assert model.predict("Giá xăng dầu tăng mạnh, EVN tăng giá điện") == "money"
    model.save(tmp_path / "m")
    loaded = nlpkit.load(tmp_path / "m")
    queries = ["Tuyển Việt Nam thắng", "NATO họp về Nga", "Hà Nội ùn tắc giao thông"]
    assert loaded.predict(queries) == model.predict(queries)
    for a, b in zip(loaded.predict_proba(queries), model.predict_proba(queries)):
        assert a == pytest.approx(b) and all(type(k) is str for k in a)
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text("utf-8"))
    assert manifest["metrics"]["user_data"]["train"] == len(texts)
    assert manifest["training_config"]["data"]["files"] == []
    # Own data reads each title twice by default, and the folder and its card say so.
    assert manifest["features"]["repeat_title"] is True
    card = (tmp_path / "m" / "README.md").read_text("utf-8")
    assert "world" in card and "a text's first line (its title) counted twice" in card
    once = nlpkit.train(texts, [SECTIONS[x] for x in LABELS], min_df=1, repeat_title=False)
    saved = json.loads(once.save(tmp_path / "once").joinpath("manifest.json").read_text("utf-8"))
    assert "repeat_title" not in saved["features"]  # (written only when set)


def test_a_label_typed_decomposed_or_with_invisible_characters_is_one_label(tmp_path, cache):
    import unicodedata

    texts = [f"{t} ({i})" for i, t in enumerate(TEXTS)]
    composed = [SECTIONS[x] if x != "sports" else "Thể thao" for x in LABELS]
    typed = [  # (a Mac's decomposed form, a zero-width space, a byte-order mark)
        [unicodedata.normalize("NFD", y), y + "\u200b", "\ufeff" + y][i % 3]
        if y == "Thể thao"
        else y
        for i, y in enumerate(composed)
    ]
    assert len(set(typed)) == 6
    model = nlpkit.train(texts, typed, min_df=1, cache=cache)
    assert set(model.topics) == {"world", "money", "home", "Thể thao"}
    assert model.predict("Tuyển Việt Nam thắng Thái Lan") == "Thể thao"
    # and a file of them reads so too, for training and for evaluate
    from nlpkit.training.reading import read_file

    path = tmp_path / "typed.jsonl"
    lines = [json.dumps({"text": t, "label": y}, ensure_ascii=False) for t, y in zip(texts, typed)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert read_file(path).labels == composed


def test_a_holdout_is_scored_and_the_card_shows_it(tmp_path, cache):
    texts = [f"{t} ({i})" for i, t in enumerate(TEXTS)]
    model = nlpkit.train(texts, LABELS, holdout=0.25, min_df=1, seed=3, cache=cache)
    metrics = model.manifest["metrics"]
    assert metrics["user_data"]["heldout"] == 24 and metrics["heldout"]["distant"]["n"] == 24
    assert metrics["heldout"]["accuracy"] > 0.5
    model.save(tmp_path / "m")
    assert (tmp_path / "m" / "confusion_matrix.png").exists() or pytest.importorskip("matplotlib")
    card = (tmp_path / "m" / "README.md").read_text("utf-8")
    # (texts given in Python: no file to speak of)
    assert "The held-out texts, against their labels" in card and "the file" not in card
    # and how far the probabilities hold on them
    calibration = metrics["heldout"]["distant"]["calibration"]
    assert calibration["n"] == 24 and calibration["accuracy"] == metrics["heldout"]["accuracy"]
    assert f"for an accuracy of {calibration['accuracy']:.3f}" in card


def test_the_card_of_a_model_with_a_none_label_speaks_of_its_none(tmp_path, cache):
    from conftest import SMALL_NONE

    texts = TEXTS + SMALL_NONE * 3
    labels = LABELS + ["none"] * len(SMALL_NONE) * 3
    texts = [f"{t} ({i})" for i, t in enumerate(texts)]
    model = nlpkit.train(texts, labels, holdout=0.25, min_df=1, seed=3, cache=cache)
    distant = model.manifest["metrics"]["heldout"]["distant"]
    in_scope = distant["calibration"]["n"]
    assert in_scope < distant["n"]
    card = model.save(tmp_path / "m").joinpath("README.md").read_text("utf-8")
    assert "Texts like those labelled none get their nearest topic" in card
    assert "four topics (entertainment" not in card
    assert f"the {in_scope:,} of these texts labelled with a topic, not none" in card


def test_progress_is_reported_to_a_callback(cache):
    seen = []
    texts = [f"{t} [{i}]" for i, t in enumerate(TEXTS)]
    nlpkit.train(texts, LABELS, min_df=1, cache=cache, progress=lambda *a: seen.append(a))
    steps = {step for step, _, _ in seen}
    assert {"segmentation", "fitting"} <= steps
    assert all(0 <= done <= total and total for _, done, total in seen)  # (no empty step)
    fitting = [(done, total) for step, done, total in seen if step == "fitting"]
    assert fitting[0][0] == 0 and fitting[-1][0] == fitting[-1][1]


@pytest.mark.parametrize("kind", ["linear_svc", "complement_nb"])
def test_options_reach_the_config(kind, cache):
    texts = [f"{t} <{i}>" for i, t in enumerate(TEXTS)]
    model = nlpkit.train(texts, LABELS, classifier=kind, min_df=1, ngram_range=(1, 1), cache=cache)
    cfg = model.manifest["training_config"]
    assert cfg["classifier"]["kind"] == kind and cfg["features"]["ngram_range"] == [1, 1]
    assert all(" " not in term for term in model.features.terms_)


def test_a_naive_bayes_blend_is_an_option_of_a_logistic_regression(cache):
    texts = [f"{t} ({i})" for i, t in enumerate(TEXTS)]
    plain = nlpkit.train(texts, LABELS, classifier="logistic_regression", min_df=1, cache=cache)
    blended = nlpkit.train(
        texts, LABELS, classifier="logistic_regression", min_df=1, nb_blend=0.5, cache=cache
    )
    assert blended.manifest["training_config"]["classifier"]["nb_blend"] == 0.5
    assert not (blended.coef == plain.coef).all()
    with pytest.raises(ValueError, match="'classifier.nb_blend' is for logistic_regression"):
        nlpkit.train(texts, LABELS, classifier="linear_svc", nb_blend=0.5)


def test_a_temperature_given_is_the_models_and_changes_no_answer(tmp_path):
    from nlpkit.cache import SegmentCache

    cache = SegmentCache(tmp_path / "c.sqlite")
    texts = [f"{t} ({i})" for i, t in enumerate(TEXTS)]
    plain = nlpkit.train(texts, LABELS, classifier="logistic_regression", min_df=1, cache=cache)
    flat = nlpkit.train(
        texts, LABELS, classifier="logistic_regression", min_df=1, temperature=0.5, cache=cache
    )
    assert flat.temperature == 0.5 and plain.temperature == 1.0
    assert flat.predict(texts) == plain.predict(texts)
    surer = zip(flat.predict_proba(texts[:5]), plain.predict_proba(texts[:5]))
    assert all(max(a.values()) < max(b.values()) for a, b in surer)
    with pytest.raises(ValueError, match="'classifier.temperature' must be 0"):
        nlpkit.train(texts, LABELS, temperature=-1.0)


def test_bad_options_and_data_are_one_clear_error():
    with pytest.raises(TypeError, match="unknown training option 'colour'"):
        nlpkit.train(TEXTS, LABELS, colour="red")
    # (the list of known options left out train's own arguments, the one meant here)
    with pytest.raises(TypeError, match=r"unknown training option 'holdot' \(known: .*holdout"):
        nlpkit.train(TEXTS, LABELS, holdot=0.2)
    with pytest.raises(ValueError, match="'seed' must be int, got float 1.5"):
        nlpkit.train(TEXTS, LABELS, seed=1.5)
    with pytest.raises(ValueError, match="'seed' must be a whole number from 0 to 2"):
        nlpkit.train(TEXTS, LABELS, seed=-1)
    with pytest.raises(TypeError, match=r"progress must be a function of \(step, done, total\)"):
        nlpkit.train(TEXTS, LABELS, progress=5)
    with pytest.raises(TypeError, match="cache must be a nlpkit.cache.SegmentCache"):
        nlpkit.train(TEXTS, LABELS, cache="cache.sqlite")
    # (a setting the classifier would have ignored)
    with pytest.raises(ValueError, match="'classifier.solver' is for logistic_regression"):
        nlpkit.train(TEXTS, LABELS, classifier="linear_svc", solver="newton-cg")
    with pytest.raises(ValueError, match=r"only one label \('x'\)"):
        nlpkit.train(["a", "b"], ["x", "x"])
    # A string is a sequence of characters and a dict one of its keys: neither is a batch.
    for texts, labels, name, kind in [
        ("xyxyxyxyxyxy", "abababababab", "texts", "str"),
        ({"a": 1, "b": 2}, ["x", "y"], "texts", "dict"),
        (TEXTS, "".join(LABELS), "labels", "str"),
        ((t for t in TEXTS), LABELS, "texts", "generator"),
    ]:
        with pytest.raises(TypeError, match=f"{name} must be a list, .* not {kind}"):
            nlpkit.train(texts, labels)
    with pytest.raises(TypeError, match="titles must be a list, .* not str"):
        nlpkit.train(TEXTS, LABELS, titles="a title")
    n = len(set(TEXTS))  # (the texts once each: copies are a warning of their own)
    with pytest.raises(ValueError, match="min_df 1000 asks for terms in at least 1000 of the"):
        nlpkit.train(TEXTS[:n], LABELS[:n], min_df=1000)


def test_nlpkit_train_is_the_function_whatever_is_imported():
    import importlib

    for module in ("nlpkit.training", "nlpkit.training.api", "nlpkit.training.pipeline"):
        importlib.import_module(module)
    assert callable(nlpkit.train) and nlpkit.train.__module__ == "nlpkit"
    assert "train" in nlpkit.__all__


def test_held_out_texts_of_a_label_the_training_part_lacks_are_scored_wrong(tmp_path, cache):
    # A label only the held-out part has: never answered, so counted wrong, not left out.
    from nlpkit.training.api import train_file

    rows = [
        {"text": f"{t} ({i})", "label": x, "part": "train"}
        for i, (t, x) in enumerate(zip(TEXTS, LABELS))
    ]
    rows += [
        {"text": f"{t} [{i}]", "label": x, "part": "test"}
        for i, (t, x) in enumerate(zip(TEXTS[:8], LABELS[:8]))
    ]
    rows += [{"text": f"Một bài mới số {i}", "label": "zz", "part": "test"} for i in range(3)]
    path = tmp_path / "split.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    with pytest.warns(
        UserWarning, match=r"3 held-out texts have labels no training text has \('zz'\)"
    ):
        _, metrics, _ = train_file(path, split_field="part", min_df=1, cache=cache)
    distant = metrics["heldout"]["distant"]
    assert distant["n"] == 11 and distant["labels_the_model_lacks"] == {"zz": 3}
    assert distant["per_label"]["zz"]["support"] == 3 and distant["per_label"]["zz"]["recall"] == 0
    assert metrics["heldout"]["accuracy"] <= round(8 / 11, 4)


def test_numpy_integers_are_taken_as_counts(cache):
    import numpy as np

    texts = [f"{t} ({i})" for i, t in enumerate(TEXTS)]
    model = nlpkit.train(texts, LABELS, min_df=np.int64(1), n_jobs=np.int64(1), cache=cache)
    assert model.predict("Giá xăng dầu tăng mạnh") == "energy"
    with pytest.raises(ValueError, match="n_jobs"):
        nlpkit.train(texts, LABELS, n_jobs=np.int64(-1))


def test_a_holdout_of_numpys_floats_is_saved(tmp_path, cache):
    import numpy as np

    texts = [f"{t} ({i})" for i, t in enumerate(TEXTS)]
    model = nlpkit.train(texts, LABELS, holdout=np.float32(0.25), min_df=1, cache=cache)
    assert nlpkit.load(model.save(tmp_path / "m")).predict("Giá xăng dầu tăng mạnh") == "energy"
