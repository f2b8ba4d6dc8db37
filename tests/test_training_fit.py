import pytest
from conftest import small_cfg as _small_cfg


@pytest.mark.parametrize("kind", ["linear_svc", "sgd", "complement_nb", "logistic_regression"])
def test_every_classifier_trains_a_linear_model(tmp_path, kind):
    from nlpkit.cache import SegmentCache
    from nlpkit.training import train_config as train

    cfg = _small_cfg(tmp_path, classifier={"kind": kind, "C": 1.0, "alpha": 0.01})
    predictor, metrics = train(cfg, cache=SegmentCache(tmp_path / "c.sqlite"))
    assert predictor.predict("Giá xăng dầu tăng mạnh, EVN tăng giá điện") == "energy"
    assert sum(predictor.predict_proba("Giá điện").values()) == pytest.approx(1)
    assert (predictor.temperature != 1.0) == (kind in ("linear_svc", "sgd"))
    assert metrics["training"]["temperature"] == predictor.temperature


def test_complement_nb_probabilities_are_scikit_learns(tmp_path):
    from sklearn.naive_bayes import ComplementNB

    from nlpkit.cache import SegmentCache
    from nlpkit.training import train_config as train
    from nlpkit.training.labels import label_of as _label

    cfg = _small_cfg(
        tmp_path, classifier={"kind": "complement_nb", "alpha": 0.5, "class_weight": ""}
    )
    predictor, _ = train(cfg, cache=SegmentCache(tmp_path / "c.sqlite"))
    from nlpkit.corpus import read_corpus
    from nlpkit.text import prepare

    records = list(read_corpus(cfg["data"]["corpora"]))
    texts = [prepare(r.full_text) for r in records]
    labels = [_label(r, cfg)[0] for r in records]
    weights = [_label(r, cfg)[1] for r in records]
    X = predictor.features.transform(texts)
    ref = ComplementNB(alpha=0.5).fit(X, labels, sample_weight=weights)
    order = [list(ref.classes_).index(t) for t in predictor.topics]
    queries = ["Giá xăng tăng", "Nga và NATO"]
    expected = ref.predict_proba(predictor.features.transform([prepare(q) for q in queries]))
    got = predictor.predict_proba(queries)
    for row, probs in zip(expected, got):
        assert [probs[t] for t in predictor.topics] == pytest.approx(row[order].tolist())


def test_a_naive_bayes_blend_adds_its_scores_to_the_topics_rows_and_nothing_else(tmp_path):
    import copy

    import numpy as np
    from sklearn.naive_bayes import ComplementNB

    from nlpkit.cache import SegmentCache
    from nlpkit.corpus import read_corpus
    from nlpkit.text import prepare
    from nlpkit.training import train_config as train
    from nlpkit.training.labels import label_of as _label

    cfg = _small_cfg(tmp_path, classifier={"kind": "logistic_regression", "C": 1.0})
    cache = SegmentCache(tmp_path / "c.sqlite")
    plain, _ = train(cfg, cache=cache)
    blended_cfg = copy.deepcopy(cfg)
    blended_cfg["classifier"].update(nb_blend=0.5, nb_alpha=0.2)
    blended, _ = train(blended_cfg, cache=cache)
    records = list(read_corpus(cfg["data"]["corpora"]))
    texts = [prepare(r.full_text) for r in records]
    labels = [_label(r, cfg)[0] for r in records]
    weights = [_label(r, cfg)[1] for r in records]
    ref = ComplementNB(alpha=0.2).fit(
        plain.features.transform(texts), labels, sample_weight=weights
    )
    order = [list(ref.classes_).index(t) for t in plain.topics]
    expected = plain.coef + 0.5 * ref.feature_log_prob_[order]
    assert np.allclose(blended.coef, expected, rtol=0, atol=1e-9)
    assert blended.intercept.tobytes() == plain.intercept.tobytes()
    queries = ["Giá xăng tăng", "Nga và NATO", "Đội tuyển thắng 2-0"]
    got = blended.predict_proba(queries)
    X = plain.features.transform([prepare(q) for q in queries])
    scores = np.asarray(X @ expected.T) + plain.intercept
    for row, probs in zip(scores, got):
        p = np.exp(row - row.max())
        assert [probs[t] for t in plain.topics] == pytest.approx((p / p.sum()).tolist())


def test_none_offset_moves_the_none_intercept_and_nothing_else(small_none_model, tmp_path):
    from conftest import _train_small

    predictor, _, cfg = small_none_model
    head = cfg["data"]["out_of_scope"]
    moved = _train_small(tmp_path, none=True, head=head, none_offset=-1.5)[0]
    assert moved.coef.tobytes() == predictor.coef.tobytes()
    assert moved.intercept[:-1].tobytes() == predictor.intercept[:-1].tobytes()
    assert moved.intercept[-1] == pytest.approx(predictor.intercept[-1] - 1.5)


def test_the_solvers_iterations_and_convergence_are_recorded(tmp_path, small_none_model):
    import warnings

    from nlpkit.cache import SegmentCache
    from nlpkit.training import train_config

    metrics = small_none_model[1]
    solver = metrics["training"]["solver"]
    head = small_none_model[2]["data"]["out_of_scope"]
    assert [s["model"] for s in solver] == (
        ["topics", "detector"] if head == "detector" else ["classes"]
    )
    assert all(s["converged"] and 0 < s["iterations"] < 2000 for s in solver)
    cfg = _small_cfg(tmp_path, classifier={"max_iter": 1, "tol": 1e-12})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn's ConvergenceWarning: what is tested
        _, stopped = train_config(cfg, cache=SegmentCache(tmp_path / "c.sqlite"))
    assert stopped["training"]["solver"] == [
        {"model": "classes", "iterations": 1, "converged": False}
    ]
    assert stopped["config"]["classifier"]["tol"] == 1e-12


def _small_texts():
    from conftest import SMALL_CORPUS

    # (three times over, each copy its own text: ten of each label for the temperature's split)
    texts = [t for ts in SMALL_CORPUS.values() for t in ts] * 3
    labels = [label for label, ts in SMALL_CORPUS.items() for _ in ts] * 3
    return [f"{t} ({i})" for i, t in enumerate(texts)], labels


def test_a_linear_svm_fitted_a_class_at_a_time_is_scikit_learns_one_vs_rest():
    # Each class's binary problem weighted as liblinear weighs it inside a multi-class fit
    # (balanced class weights computed with the sample weights, the rest at 1): the same
    # optimum, which a tight stop reaches from either side.
    import numpy as np

    from nlpkit.features import TfidfFeatures
    from nlpkit.text import prepare
    from nlpkit.training.api import own_data_config
    from nlpkit.training.fit import _Fit, _fit_all, build_classifier

    texts, labels = _small_texts()
    X = TfidfFeatures(min_df=1).fit_transform([prepare(t) for t in texts])
    weights = np.linspace(0.5, 2.0, len(labels))
    cfg = own_data_config({"name": "x", "tol": 1e-8, "max_iter": 100000})
    apart = _fit_all([_Fit(X, labels, weights)], cfg)[0]
    together = build_classifier(cfg).fit(X, labels, sample_weight=weights)
    assert len(set(labels)) > 2 and apart.classes_.tolist() == together.classes_.tolist()
    assert np.abs(apart.coef_ - together.coef_).max() < 1e-5
    assert np.abs(apart.intercept_ - together.intercept_).max() < 1e-5
    assert apart.n_iter_.shape == (len(set(labels)),)


def test_logistic_regressions_solvers_reach_one_optimum_newton_cg_in_fewer_steps():
    # Newton's steps (the shipped recipe's solver) and L-BFGS (scikit-learn's default) stopped
    # tight: the same weights, newton-cg in a fifth of the iterations or fewer.
    import numpy as np

    from nlpkit.features import TfidfFeatures
    from nlpkit.text import prepare
    from nlpkit.training.api import own_data_config
    from nlpkit.training.fit import build_classifier

    texts, labels = _small_texts()
    X = TfidfFeatures(min_df=1).fit_transform([prepare(t) for t in texts])
    fitted = {}
    for solver in ("lbfgs", "newton-cg"):
        cfg = own_data_config({"name": "x", "classifier": "logistic_regression", "C": 10.0,
                               "tol": 1e-9, "max_iter": 100000, "solver": solver})  # fmt: skip
        clf = build_classifier(cfg)
        assert clf.solver == solver
        fitted[solver] = clf.fit(X, labels)
    lbfgs, newton = fitted["lbfgs"], fitted["newton-cg"]
    assert np.abs(lbfgs.coef_ - newton.coef_).max() < 1e-4
    assert np.abs(lbfgs.intercept_ - newton.intercept_).max() < 1e-4
    assert newton.n_iter_.max() * 5 <= lbfgs.n_iter_.max()


@pytest.mark.parametrize("kind", ["linear_svc", "logistic_regression"])
def test_the_model_is_the_same_in_one_process_or_two(monkeypatch, kind):
    import nlpkit
    from nlpkit.training import fit as fitting

    # (the small data would be fitted in this process whatever n_jobs says)
    monkeypatch.setattr(fitting, "_MIN_PARALLEL_TEXTS", 0)
    texts, labels = _small_texts()
    one, two = (
        nlpkit.train(texts, labels, min_df=1, classifier=kind, n_jobs=n, cache=False)
        for n in (1, 2)
    )
    assert one.coef.tobytes() == two.coef.tobytes()
    assert one.intercept.tobytes() == two.intercept.tobytes()
    assert one.temperature == two.temperature


@pytest.mark.parametrize("bad", [-2, 1.5, "two", True])
def test_a_bad_n_jobs_is_one_clear_error(bad):
    import nlpkit

    texts, labels = _small_texts()
    with pytest.raises(ValueError, match="n_jobs"):
        nlpkit.train(texts, labels, n_jobs=bad, cache=False)


def test_the_topics_and_the_detector_are_the_same_fitted_side_by_side(
    small_none_model, tmp_path, monkeypatch
):
    import copy

    from nlpkit.training import fit as fitting
    from nlpkit.training import train_config as train

    predictor, _, cfg = small_none_model  # (fitted in this process: n_jobs 1)
    if cfg["data"]["out_of_scope"] != "detector":
        pytest.skip("the detector's case")
    monkeypatch.setattr(fitting, "_MIN_PARALLEL_TEXTS", 0)
    two, _ = train({**copy.deepcopy(cfg), "n_jobs": 2}, cache=False)
    assert two.coef.tobytes() == predictor.coef.tobytes()
    assert two.intercept.tobytes() == predictor.intercept.tobytes()


def test_a_temperature_given_in_the_config_is_the_models(tmp_path):
    from nlpkit.cache import SegmentCache
    from nlpkit.training import train_config as train

    cache = SegmentCache(tmp_path / "c.sqlite")
    for kind in ("linear_svc", "logistic_regression"):
        cfg = _small_cfg(tmp_path, classifier={"kind": kind, "temperature": 0.7})
        predictor, metrics = train(cfg, cache=cache)
        assert predictor.temperature == 0.7 == metrics["training"]["temperature"]
