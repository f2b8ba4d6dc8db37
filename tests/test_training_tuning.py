import pytest


def test_tune_none_offset_moves_none_to_the_best_line_on_a_sample(small_none_model):
    import copy

    from conftest import SMALL_CORPUS, SMALL_NONE

    from nlpkit.text import prepare
    from nlpkit.training.tuning import tune_none_offset

    model = copy.deepcopy(small_none_model[0])
    before = model.intercept.copy()
    texts = [t for ts in SMALL_CORPUS.values() for t in ts] + SMALL_NONE
    truth = [topic for topic, ts in SMALL_CORPUS.items() for _ in ts] + ["none"] * len(SMALL_NONE)
    chosen = tune_none_offset(model, [prepare(t) for t in texts], truth)
    assert model.intercept[-1] == before[-1] + chosen["offset"]
    assert (model.intercept[:-1] == before[:-1]).all()
    # The chosen offset is among the best of the grid, and the model answers as scored.
    assert chosen["grid"][f"{chosen['offset']:g}"] == chosen["dev_five_way_accuracy"]
    assert chosen["dev_five_way_accuracy"] == max(chosen["grid"].values())
    answers = ["none" if a is None else a for a in model.predict(texts, allow_none=True)]
    assert sum(a == t for a, t in zip(answers, truth)) / len(truth) == pytest.approx(
        chosen["dev_five_way_accuracy"], abs=1e-4
    )


def test_tune_none_offset_needs_a_model_with_none(small_model):
    from nlpkit.training.tuning import tune_none_offset

    with pytest.raises(ValueError, match="out of scope"):
        tune_none_offset(small_model[0], ["giá xăng"], ["energy"])


def test_tune_temperature_sets_the_least_log_loss_on_a_sample(small_none_model):
    import copy

    import numpy as np
    from conftest import SMALL_CORPUS, SMALL_NONE

    from nlpkit.predictor import softmax
    from nlpkit.text import prepare
    from nlpkit.training.tuning import tune_temperature

    model = copy.deepcopy(small_none_model[0])
    texts = [t for ts in SMALL_CORPUS.values() for t in ts] + SMALL_NONE
    truth = [topic for topic, ts in SMALL_CORPUS.items() for _ in ts] + ["none"] * len(SMALL_NONE)
    answers = model.predict(texts)
    tuned = tune_temperature(model, [prepare(t) for t in texts], truth)
    assert model.temperature == pytest.approx(tuned["temperature"], rel=1e-3)
    # The in-scope texts alone are read, and their log-loss against Platt's targets ((n + 1) /
    # (n + k) for the true topic, 1 / (n + k) for each other) is least at the chosen one.
    assert tuned["n"] == len(texts) - len(SMALL_NONE)
    scores = model.scores_prepared([prepare(t) for t in texts[: tuned["n"]]])[:, :4]
    y = np.asarray([model.topics.index(t) for t in truth[: tuned["n"]]])
    n, k = scores.shape
    targets = np.full((n, k), 1 / (n + k))
    targets[np.arange(n), y] = (n + 1) / (n + k)

    def loss(t: float) -> float:
        return float(-(targets * np.log(softmax(t * scores))).sum(axis=1).mean())

    for other in (0.5 * model.temperature, 2 * model.temperature):
        assert loss(other) >= loss(model.temperature)
    # The answers among the topics stay as they were.
    assert model.predict(texts) == answers


def test_tune_temperature_needs_two_topics_in_the_sample(small_model):
    import copy

    from nlpkit.training.tuning import tune_temperature

    with pytest.raises(ValueError, match="two topics or more"):
        tune_temperature(
            copy.deepcopy(small_model[0]), ["giá xăng", "xin chào"], ["energy", "none"]
        )
