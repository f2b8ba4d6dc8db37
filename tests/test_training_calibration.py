import warnings

import numpy as np
import pytest
from conftest import SMALL_CORPUS
from sklearn.model_selection import StratifiedKFold

import nlpkit
from nlpkit.training.calibration import calibration_split, fit_temperature

TEXTS = [t for texts in SMALL_CORPUS.values() for t in texts]
LABELS = [label for label, texts in SMALL_CORPUS.items() for _ in texts]


def test_with_ten_texts_a_label_the_tenth_is_scikit_learns_first_fold():
    # (what every model trained so far was calibrated on: unchanged)
    labels = ["a"] * 30 + ["b"] * 12 + ["c"] * 10
    train, cal = calibration_split(labels, 7)
    expected = next(StratifiedKFold(10, shuffle=True, random_state=7).split(labels, labels))
    assert train.tolist() == expected[0].tolist() and cal.tolist() == expected[1].tolist()


def test_labels_with_few_texts_give_a_tenth_at_least_one_and_no_warning():
    labels = ["a"] * 25 + ["b"] * 3 + ["c"] * 2 + ["lone"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train, cal = calibration_split(labels, 0)
    held = [labels[i] for i in cal]
    assert sorted(held) == ["a", "a", "b", "c"]  # a tenth of 25 is 2.5, rounded to even
    assert sorted(np.concatenate([train, cal]).tolist()) == list(range(len(labels)))
    assert labels.index("lone") in train
    again = calibration_split(labels, 0)
    assert again[1].tolist() == cal.tolist()
    assert calibration_split(labels, 1)[1].tolist() != cal.tolist()


def test_the_temperature_is_the_least_log_loss_one_against_platts_targets():
    from nlpkit.predictor import softmax

    rng = np.random.default_rng(0)
    scores = rng.normal(size=(400, 3))
    y = scores.argmax(axis=1)  # the margins are right every time
    t = fit_temperature(scores, y)
    # Against certainty the loss fell for ever: the grid's top, and a probability of 1 for
    # every answer. Against Platt's targets (401 / 403 for the true class) the temperature is
    # finite, and fewer texts say less.
    assert t < 10**2.5
    assert 0.9 < softmax(t * scores).max(axis=1).mean() < 0.999
    assert fit_temperature(scores[:24], y[:24]) < t
    y = rng.integers(0, 3, size=400)  # the margins say nothing: as flat as the grid goes
    assert fit_temperature(scores, y) == pytest.approx(0.1)


def test_a_small_file_answered_right_in_its_tenth_gets_no_probability_of_one():
    # A small or unbalanced file's calibration tenth, all answered right, gave a temperature
    # at the grid's top: wrong answers too at probabilities of 1 - 1e-11.
    texts = [t for texts in SMALL_CORPUS.values() for t in texts] * 3
    labels = [label for label, items in SMALL_CORPUS.items() for _ in items] * 3
    with pytest.warns(UserWarning, match="64 texts repeat an earlier one"):
        model = nlpkit.train(texts, labels, min_df=1, cache=False)
    assert model.temperature < 10**2.5
    top = [max(p.values()) for p in model.predict_proba(texts)]
    assert max(top) < 0.9999


def test_a_few_texts_a_label_train_without_a_scikit_learn_warning():
    # Three texts of each label: ten folds of scikit-learn would refuse (every label has
    # fewer than ten); a tenth of each label, at least one text, calibrates instead.
    texts, labels = [], []
    for label, items in SMALL_CORPUS.items():
        texts += items[:3]
        labels += [label] * 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = nlpkit.train(texts, labels, min_df=1, cache=False)
    assert model.temperature > 0
    proba = model.predict_proba(texts[0])
    assert sum(proba.values()) == pytest.approx(1.0)


def test_one_text_a_label_trains_with_the_temperature_at_one():
    texts = [items[0] for items in SMALL_CORPUS.values()]
    labels = list(SMALL_CORPUS)
    with pytest.warns(UserWarning, match="4 label.s. with one example"):
        model = nlpkit.train(texts, labels, min_df=1, cache=False)
    assert model.temperature == 1.0
    assert model.predict(texts[0]) in labels


def test_cross_validation_speaks_of_the_labels_not_of_scikit_learn():
    from nlpkit.training.config import OWN_DATA, make_config
    from nlpkit.training.fit import cross_validate

    texts = SMALL_CORPUS["geopolitics"] + SMALL_CORPUS["energy"][:4]
    labels = ["geopolitics"] * 8 + ["energy"] * 4
    weights = np.ones(len(texts))
    cfg = make_config({**OWN_DATA, "cv": 9, "features": {"min_df": 1}})
    with pytest.raises(ValueError, match=r"9-fold cross-validation needs a label with at least 9"):
        cross_validate(texts, labels, weights, cfg)
    cfg["cv"] = 5
    with pytest.warns(UserWarning, match=r"1 label\(s\) with fewer texts than the 5 folds") as seen:
        cross_validate(texts, labels, weights, cfg)
    assert not any("least populated" in str(w.message) for w in seen)


def test_cross_validation_scores_the_answers_the_model_gives_out_of_scope_included(monkeypatch):
    from conftest import SMALL_NONE

    from nlpkit.text import prepare
    from nlpkit.training import fit as fitting
    from nlpkit.training.config import make_config

    # An out-of-scope detector's row is a logit against all the topics, not a class's score:
    # each fold's figures are those of the model's own answers, none included.
    raw = [t for texts in SMALL_CORPUS.values() for t in texts] + SMALL_NONE
    labels = [label for label, texts in SMALL_CORPUS.items() for _ in texts]
    labels += ["none"] * len(SMALL_NONE)
    cfg = make_config(
        {"cv": 4, "features": {"min_df": 1}, "data": {"out_of_scope": "detector"}, "n_jobs": 1}
    )
    models, fit = [], fitting.fit
    monkeypatch.setattr(fitting, "fit", lambda *a, **k: models.append(fit(*a, **k)) or models[-1])
    texts = [prepare(t, segment=True, max_chars=cfg["data"]["max_chars"]) for t in raw]
    cv = fitting.cross_validate(texts, labels, np.ones(len(texts)), cfg)
    splitter = StratifiedKFold(4, shuffle=True, random_state=cfg["seed"])
    accuracy = []
    for model, (_, test) in zip(models, splitter.split(texts, labels)):
        assert model.none_head == "detector"
        answers = model.predict([raw[i] for i in test], allow_none=True)
        right = [(a or "none") == labels[i] for a, i in zip(answers, test)]
        accuracy.append(np.mean(right))
    assert len(models) == 4 and cv["accuracy_mean"] == round(float(np.mean(accuracy)), 4)


def test_calibration_figures_measure_confidence_against_rightness():
    from nlpkit.training.calibration import calibration_figures

    # Sure and right: nothing to correct.
    sure = calibration_figures(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0, 1]))
    assert sure["ece"] == 0 and sure["log_loss"] == 0 and sure["accuracy"] == 1
    # 0.9 sure every time and right half the time: 0.4 too sure, in one bin.
    probs = np.array([[0.9, 0.1]] * 4)
    half = calibration_figures(probs, np.array([0, 0, 1, 1]))
    assert half["ece"] == pytest.approx(0.4) and half["mean_top_probability"] == 0.9
    assert half["log_loss"] == pytest.approx(-(np.log(0.9) + np.log(0.1)) / 2, abs=1e-4)
    assert calibration_figures(np.zeros((0, 2)), np.zeros(0, dtype=int)) == {"n": 0}
