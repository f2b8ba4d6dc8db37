import math

import pytest


def test_hand_label_files_are_checked(tmp_path):
    from nlpkit.evaluate import read_labels

    path = tmp_path / "labels.tsv"
    path.write_text("id\ttopic\na\tenergy\nb\tsport\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"labels.tsv:3: expected an id and one of"):
        read_labels(path)
    path.write_text("id\ttopic\na\tenergy\na\tnone\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"labels.tsv:3: a is labelled twice"):
        read_labels(path)


def test_the_top_probability_threshold_baseline(small_model):
    import numpy as np

    from nlpkit.corpus import Record
    from nlpkit.evaluate import _threshold_baseline

    predictor = small_model[0]
    records = [
        Record(id=str(i), source_dataset="vnexpress_2020s", source_category="x", text="t")
        for i in range(4)
    ]
    # Two sure texts of a topic, two unsure ones out of scope: a threshold between separates them.
    scores = np.array([[9.0, 0, 0, 0], [0, 9.0, 0, 0], [0.1, 0, 0, 0], [0, 0, 0.1, 0]])
    truth = ["geopolitics", "energy", "none", "none"]
    found = _threshold_baseline(predictor, scores, records, list(zip(records, truth)))
    assert found["accuracy"] == 1.0 and 0.26 < found["threshold"] <= 0.99
    assert found["median_top_probability_none"] < found["median_top_probability_in_scope"]
    assert (
        _threshold_baseline(predictor, scores, records[:2], list(zip(records[:2], truth))) is None
    )


def test_held_out_calibration_is_of_the_in_scope_hand_labels(small_none_model):
    import numpy as np

    from nlpkit.corpus import Record
    from nlpkit.evaluate import _calibration

    predictor = small_none_model[0]
    records = [
        Record(id=str(i), source_dataset="vnexpress_2020s", source_category="x", text="t")
        for i in range(3)
    ]
    scores = np.zeros((3, len(predictor.classes)))
    scores[0, 0] = scores[1, 1] = 20.0
    truth = ["geopolitics", "domestic", "none"]  # (none is not a topic: left out)
    found = _calibration(predictor, scores, records, list(zip(records, truth)))
    assert found["n"] == 2 and found["accuracy"] == 0.5
    assert set(found["by_era"]) == {records[0].era}
    # Five ways, the out-of-scope text too, against the answers allow_none=True gives.
    five = _calibration(predictor, scores, records, list(zip(records, truth)), allow_none=True)
    answers = predictor._decide(scores, True)
    right = [predictor.classes[i] == t for i, t in zip(answers, truth)]
    assert five["n"] == 3 and five["accuracy"] == round(sum(right) / 3, 4)


def test_score_files_allow_none_is_a_flag(tmp_path, small_model):
    # (a string such as "no" is true in Python: it scored five ways, silently)
    from nlpkit.evaluate import score_file

    path = tmp_path / "x.jsonl"
    path.write_text('{"text": "Giá xăng tăng", "label": "energy"}\n', encoding="utf-8")
    with pytest.raises(TypeError, match="allow_none must be True or False, got 'no'"):
        score_file(small_model, str(path), allow_none="no")


def test_a_models_labels_typed_decomposed_are_read_as_the_files_labels(tmp_path):
    # (a model trained before labels were read as typed kept the decomposed names)
    import json
    import unicodedata

    from conftest import SMALL_CORPUS

    import nlpkit
    from nlpkit.evaluate import score_file

    texts = [f"{t} ({i})" for i, t in enumerate(t for ts in SMALL_CORPUS.values() for t in ts)]
    labels = [("Thể thao" if x == "sports" else x) for x, ts in SMALL_CORPUS.items() for _ in ts]
    model = nlpkit.train(texts, labels, min_df=1)
    model.topics = [unicodedata.normalize("NFD", t) for t in model.topics]
    path = tmp_path / "test.jsonl"
    rows = [json.dumps({"text": t, "label": y}, ensure_ascii=False) for t, y in zip(texts, labels)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = score_file(model, str(path))
    assert "labels_the_model_lacks" not in result and result["per_label"]["Thể thao"]["support"] > 0
    assert result["calibration"]["n"] == len(texts)


def test_a_file_of_headlines_scored_on_its_title_field_reads_each_once(tmp_path, small_model):
    from nlpkit.evaluate import score_file

    path = tmp_path / "heads.jsonl"
    path.write_text(
        '{"title": "Giá xăng tăng mạnh", "label": "energy"}\n'
        '{"title": "Đội tuyển thắng đậm", "label": "sports"}\n',
        encoding="utf-8",
    )
    predictor = small_model[0]
    result = score_file(predictor, str(path), text_field="title", title_field="title")
    assert result["fields"] == {"text": "title", "label": "label", "title": None}
    # (the figures of the texts as they are, each once)
    proba = predictor.predict_proba(["Giá xăng tăng mạnh", "Đội tuyển thắng đậm"])
    assert result["calibration"]["log_loss"] == round(
        -(math.log(proba[0]["energy"]) + math.log(proba[1]["sports"])) / 2, 4
    )
