import math
import unicodedata

import numpy as np
import pytest
from conftest import readable
from hypothesis import given, settings
from hypothesis import strategies as st

from nlpkit.explanation import Explanation

TEXTS = ["Giá xăng dầu tăng mạnh từ chiều nay", "Tuyển Việt Nam thắng Thái Lan ở AFF Cup"]


@pytest.fixture(scope="module")
def predictor(small_model):
    return small_model[0]


def test_string_in_one_answer_list_in_list(predictor):
    assert predictor.predict(TEXTS[0]) == "energy"
    assert predictor.predict(TEXTS) == ["energy", "sports"]
    assert predictor.predict(tuple(TEXTS)) == ["energy", "sports"]
    assert predictor.predict([]) == []


def test_numpy_arrays_and_pandas_series_are_batches(predictor):
    import numpy as np

    expected = predictor.predict(TEXTS)
    assert predictor.predict(np.array(TEXTS)) == expected
    assert predictor.predict(np.array(TEXTS, dtype=object)) == expected
    pandas = pytest.importorskip("pandas")
    assert predictor.predict(pandas.Series(TEXTS, index=[10, 20])) == expected
    with pytest.raises(TypeError, match="one-dimensional, not a 2-D ndarray"):
        predictor.predict(np.array([TEXTS]).T)
    with pytest.raises(TypeError, match=r"texts\[1\]: text must be str, not int"):
        predictor.predict(np.array(["Giá điện", 3], dtype=object))
    for unordered in (set(TEXTS), (t for t in TEXTS), dict.fromkeys(TEXTS)):
        with pytest.raises(TypeError, match="numpy array or pandas Series of str, not"):
            predictor.predict(unordered)


def test_batch_equals_one_by_one(predictor):
    texts = TEXTS + ["Nga và NATO hội đàm về an ninh", "Công an khởi tố vụ án tham nhũng"]
    assert predictor.predict(texts) == [predictor.predict(t) for t in texts]
    assert predictor.predict_proba(texts) == [predictor.predict_proba(t) for t in texts]


def test_probabilities_sum_to_one(predictor):
    probs = predictor.predict_proba(TEXTS[1])
    assert set(probs) == set(predictor.topics)
    assert sum(probs.values()) == pytest.approx(1.0)
    assert max(probs, key=probs.get) == "sports"


@pytest.mark.parametrize(
    "bad", [None, b"Gi\xc3\xa1 x\xc4\x83ng", 42, 3.14, {"text": "x"}, iter(["a"])]
)
def test_wrong_types_raise_type_error(predictor, bad):
    with pytest.raises(TypeError, match="must be str"):
        predictor.predict(bad)


def test_bad_item_in_a_batch_is_named(predictor):
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        predictor.predict(["Giá xăng tăng", None])
    with pytest.raises(ValueError, match=r"texts\[0\]: text is empty"):
        predictor.predict_proba(["  "])


@pytest.mark.parametrize("blank", ["", "   ", "\n\t"])
def test_empty_text_raises_value_error(predictor, blank):
    with pytest.raises(ValueError, match="empty"):
        predictor.predict(blank)


def test_unicode_forms_and_control_characters_do_not_change_the_answer(predictor):
    text = TEXTS[0]
    assert predictor.predict_proba(unicodedata.normalize("NFD", text)) == predictor.predict_proba(
        text
    )
    assert predictor.predict("Giá\x00 xăng\u200b dầu\x07 tăng mạnh từ chiều nay") == "energy"


@pytest.mark.parametrize(
    "odd", ["😀🔥", "!!! ??? ...", "12345", "Hello world, no Vietnamese here", "\udcff giá điện"]
)
def test_text_without_known_words_still_gets_a_topic(predictor, odd):
    assert predictor.predict(odd) in predictor.topics


def test_very_long_text_is_read_in_bounded_time(predictor):
    text = "Giá xăng dầu tăng mạnh. " * 200_000  # 4.8 million characters
    assert predictor.predict(text) == "energy"


def test_explain_names_terms_for_the_topic(predictor):
    exp = predictor.explain(TEXTS[0], k=5)
    assert isinstance(exp, Explanation)
    assert exp.topic == "energy" and exp.runner_up != "energy"
    assert len(exp.terms) == 5
    weights = [w for _, w in exp.terms]
    assert weights == sorted(weights, reverse=True) and weights[0] > 0
    assert any("xăng" in term for term, _ in exp.terms)
    assert "energy" in str(exp) and exp.to_dict()["terms"][0]["term"] == exp.terms[0][0]


def test_explain_shows_the_terms_against_the_answer_too():
    import nlpkit

    # A storm that cut the power: filed under energy, with the storm's words pulling the other
    # way; a reader sees both.
    text = "Bão số 3 gây mất điện diện rộng, hàng nghìn hộ dân phải sơ tán, điện lực khắc phục"
    exp = nlpkit.explain(text, k=4)
    assert exp.terms and exp.against
    assert all(w > 0 for _, w in exp.terms) and all(w < 0 for _, w in exp.against)
    weights = [w for _, w in exp.against]
    assert weights == sorted(weights)  # the strongest against first
    shown = str(exp)
    assert f"against {exp.topic} (for {exp.runner_up}):" in shown
    assert all(term in shown for term, _ in exp.against)
    assert [a["term"] for a in exp.to_dict()["against"]] == [t for t, _ in exp.against]


def test_explanation_adds_up_to_the_score_difference(predictor):
    for text in TEXTS + ["Nga và NATO hội đàm về an ninh"]:
        exp = predictor.explain(text, k=2)
        listed = sum(w for _, w in exp.terms) + sum(w for _, w in exp.against)
        parts = listed + exp.other_terms + exp.intercept
        assert parts == pytest.approx(exp.margin, abs=1e-9) and exp.margin >= 0
        # The margin is the log-odds of the two topics at the model's temperature.
        odds = math.log(exp.probabilities[exp.topic] / exp.probabilities[exp.runner_up])
        assert odds == pytest.approx(predictor.temperature * exp.margin, rel=1e-9)
        lines = str(exp).splitlines()
        assert lines[-1].lstrip().startswith("(intercept)") and "rest of the text" in lines[-2]


def test_explain_of_a_list_is_a_list_of_each_texts_explanation(predictor):
    texts = [TEXTS[0], "Nga và NATO hội đàm về an ninh"]
    explained = predictor.explain(texts, k=3)
    assert isinstance(explained, list) and len(explained) == 2
    for text, exp in zip(texts, explained):
        assert exp == predictor.explain(text, k=3)
    assert [e.topic for e in explained] == predictor.predict(texts)
    assert predictor.explain([]) == []
    with pytest.raises(ValueError, match=r"texts\[1\]: text is empty"):
        predictor.explain([TEXTS[0], "  "])


@pytest.mark.parametrize(
    "k, error",
    [(0, ValueError), (-1, ValueError), (np.int64(0), ValueError), (2.5, TypeError),
     (2.0, TypeError), ("3", TypeError), (True, TypeError)],
)  # fmt: skip
def test_explain_rejects_bad_k(predictor, k, error):
    # (a wrong type is a TypeError, as for texts; a whole number below 1 a ValueError)
    with pytest.raises(error, match="k must be a whole number, at least 1"):
        predictor.explain(TEXTS[0], k=k)


def test_counts_may_be_numpy_integers_and_flags_say_which_bool_they_are(predictor):
    # (a k or n_jobs computed with numpy is a whole number like any other)
    assert predictor.explain(TEXTS[0], k=np.int64(3)) == predictor.explain(TEXTS[0], k=3)
    assert predictor.predict(TEXTS, n_jobs=np.int32(1)) == predictor.predict(TEXTS)
    with pytest.raises(TypeError, match=r"allow_none must be True or False, got .* \(numpy\.bool"):
        predictor.predict(TEXTS, allow_none=np.True_)


def test_one_predictor_shared_by_threads_gives_the_sequential_answers(predictor):
    from concurrent.futures import ThreadPoolExecutor

    words = ["Giá xăng", "tuyển Việt Nam", "Tổng thống Nga", "công an khởi tố", "giá điện", "NATO"]
    texts = [f"{words[i % 6]} {words[(i * 7) % 6]} số {i}" for i in range(2000)]
    expected = [predictor.predict_proba(t) for t in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(predictor.predict_proba, texts))
    assert got == expected


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_any_unicode_text_gives_a_topic_or_a_documented_error(predictor, text):
    try:
        topic = predictor.predict(text)
    except ValueError as exc:
        assert "empty" in str(exc)
        assert not readable(text)
    else:
        assert topic in predictor.topics


def test_parallel_batches_give_the_same_answers_in_order(predictor):
    texts = [f"{TEXTS[i % 2]} số {i}" for i in range(2500)]
    assert predictor.predict(texts, n_jobs=2) == predictor.predict(texts)
    assert predictor.predict_proba(texts[:2100], n_jobs=2) == predictor.predict_proba(texts[:2100])


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-1, ValueError), (1.5, TypeError),
                                        (2.0, TypeError), (True, TypeError)])  # fmt: skip
def test_bad_n_jobs(predictor, bad, error):
    with pytest.raises(error, match="n_jobs must be a whole number, at least 1"):
        predictor.predict(TEXTS, n_jobs=bad)


# -- out of scope: a model with a none class ------------------------------------------------

OUT_OF_SCOPE = "Nữ ca sĩ ra mắt album nhạc mới và bộ phim hoạt hình"


@pytest.fixture(scope="module")
def with_none(small_none_model):
    return small_none_model[0]


def test_a_none_model_answers_a_topic_by_default_and_none_when_allowed(with_none):
    assert with_none.topics == ("geopolitics", "energy", "domestic", "sports")
    assert with_none.classes == with_none.topics + ("none",)
    assert with_none.predict(OUT_OF_SCOPE) in with_none.topics
    assert with_none.predict(OUT_OF_SCOPE, allow_none=True) is None
    assert with_none.predict(TEXTS, allow_none=True) == ["energy", "sports"]
    assert with_none.predict([OUT_OF_SCOPE, TEXTS[0]], allow_none=True) == [None, "energy"]


def test_none_probabilities_sum_to_one_with_the_topics(with_none):
    four = with_none.predict_proba(OUT_OF_SCOPE)
    five = with_none.predict_proba(OUT_OF_SCOPE, allow_none=True)
    assert set(four) == set(with_none.topics) and sum(four.values()) == pytest.approx(1)
    assert set(five) == set(with_none.classes) and sum(five.values()) == pytest.approx(1)
    assert max(five, key=five.get) == "none"
    # The four-topic probabilities are those of a text known to be in scope.
    rest = 1 - five["none"]
    assert all(four[t] == pytest.approx(five[t] / rest) for t in with_none.topics)


def test_explain_says_why_a_text_is_out_of_scope(with_none):
    exp = with_none.explain(OUT_OF_SCOPE, k=3, allow_none=True)
    assert exp.topic == "none" and exp.runner_up in with_none.topics
    listed = sum(w for _, w in exp.terms) + sum(w for _, w in exp.against)
    assert listed + exp.other_terms + exp.intercept == pytest.approx(exp.margin)
    assert with_none.explain(OUT_OF_SCOPE, k=3).topic in with_none.topics


def test_a_detector_leaves_the_default_answers_to_the_topics_alone(with_none):
    from nlpkit import Predictor
    from nlpkit.predictor import softmax

    if with_none.none_head != "detector":
        pytest.skip("a none class shares the softmax with the topics")
    n = len(with_none.topics)
    topics_only = Predictor(
        with_none._tfidf, with_none.coef[:n], with_none.intercept[:n], with_none.topics
    )
    texts = [OUT_OF_SCOPE, *TEXTS, "Giá điện tăng, người dân lo lắng"]
    assert with_none.predict(texts) == topics_only.predict(texts)
    assert with_none.predict_proba(texts) == topics_only.predict_proba(texts)
    # With allow_none, none has the sigmoid of the detector's score; the topics share the rest.
    scores = with_none._scores_of(texts)
    p_none = 1 / (1 + np.exp(-scores[:, n]))
    five = with_none.predict_proba(texts, allow_none=True)
    assert [p["none"] for p in five] == pytest.approx(p_none.tolist())
    rest = softmax(scores[:, :n]) * (1 - p_none)[:, None]
    np.testing.assert_allclose([[p[t] for t in with_none.topics] for p in five], rest)
    exp = with_none.explain(OUT_OF_SCOPE, allow_none=True)
    assert exp.measure and "log-odds" in str(exp) and exp.margin == pytest.approx(scores[0, n])
    with pytest.raises(ValueError, match="out-of-scope detector"):
        with_none.to_pipeline(allow_none=True)
    with pytest.raises(TypeError, match="allow_none must be True or False, got 'no'"):
        with_none.to_pipeline(allow_none="no")


def test_explain_with_none_names_the_next_answer_as_the_runner_up():
    # With allow_none the runner-up is the second most probable of the five answers: a topic
    # that wins with none close behind is explained by what kept it in scope (the detector's
    # score, the other way round), not against a topic it was never near.
    from nlpkit import load

    shipped = load()
    assert shipped.none_head == "detector"
    n = len(shipped.topics)
    texts = [
        "Hoa hậu Việt Nam tham gia chạy marathon từ thiện",
        "Giá xăng tăng mạnh",
        "Công thức nấu phở bò",
    ]
    near_none = 0
    for text in texts:
        exp = shipped.explain(text, k=5, allow_none=True)
        probs = shipped.predict_proba(text, allow_none=True)
        first, second = sorted(probs, key=probs.get, reverse=True)[:2]
        assert (exp.topic, exp.runner_up) == (first, second)
        listed = sum(w for _, w in exp.terms) + sum(w for _, w in exp.against)
        assert listed + exp.other_terms + exp.intercept == pytest.approx(exp.margin)
        if second == "none":
            near_none += 1
            score = shipped._scores_of([text])[0, n]
            assert exp.margin == pytest.approx(-score)
            assert exp.margin == pytest.approx(math.log((1 - probs["none"]) / probs["none"]))
            # (the detector's terms argue for being in scope, not for the topic among topics)
            assert "in scope" in exp.measure and " for being in scope:" in str(exp)
            assert " against being in scope (for none):" in str(exp)
            assert f" for {first}:" not in str(exp)
            assert exp.to_dict()["sides"] == {"for": "being in scope", "against": "none"}
        elif first == "none":
            assert " for none:" in str(exp) and " against none (for being in scope):" in str(exp)
        else:
            assert f" for {first}:" in str(exp) and f" against {first} (for {second}):" in str(exp)
            assert exp.to_dict()["sides"] == {"for": first, "against": second}
    assert near_none == 1


def test_a_none_model_exports_the_pipeline_of_its_answers(with_none):
    texts = [OUT_OF_SCOPE, *TEXTS]
    pipeline = with_none.to_pipeline()
    assert list(pipeline.predict(texts)) == with_none.predict(texts)
    np.testing.assert_allclose(
        pipeline.predict_proba(texts),
        [list(p.values()) for p in with_none.predict_proba(texts)],
        rtol=1e-12,
    )
    if with_none.none_head == "class":
        answers = with_none.predict(texts, allow_none=True)
        assert list(with_none.to_pipeline(allow_none=True).predict(texts)) == [
            a or "none" for a in answers
        ]


def test_allow_none_needs_a_model_with_none(predictor):
    # (an empty batch too: explain([]) gave [] where predict([]) said so)
    for method in (predictor.predict, predictor.predict_proba, predictor.explain):
        for texts in (TEXTS, []):
            with pytest.raises(ValueError, match="has no out-of-scope class"):
                method(texts, allow_none=True)
    with pytest.raises(ValueError, match="has no out-of-scope class"):
        predictor.explain(TEXTS[0], allow_none=True)


def test_a_none_model_saves_and_loads(with_none, tmp_path):
    from nlpkit import load, modelfile

    folder = modelfile.save(with_none, tmp_path / "m", name="small-none")
    again = load(folder)
    assert again.none and again.classes == with_none.classes
    texts = [OUT_OF_SCOPE, *TEXTS]
    assert again.predict_proba(texts, allow_none=True) == with_none.predict_proba(
        texts, allow_none=True
    )


@pytest.mark.parametrize("text", ["12345", "😀 😀", "Hello world", "!!! ???"])
def test_a_text_with_no_known_term_is_none_when_none_is_allowed(small_none_model, text):
    # No evidence for any topic: the intercepts alone would name the commonest topic.
    small_none_model = small_none_model[0]
    assert small_none_model.predict(text, allow_none=True) is None
    assert small_none_model.predict([text, TEXTS[0]], allow_none=True) == [None, "energy"]
    assert small_none_model.predict_proba(text, allow_none=True)["none"] == 1.0
    exp = small_none_model.explain(text, allow_none=True)
    assert exp.topic == "none" and "no term of the text is known" in exp.measure
    # (every topic at 0: the runner-up is the first, not the one the intercepts favour)
    assert exp.runner_up == small_none_model.topics[0]
    # Without allow_none, the four-topic classifier still gives its best topic.
    assert small_none_model.predict(text) in small_none_model.topics


def test_explain_says_which_terms_a_title_counts_twice(small_model):
    from nlpkit import load
    from nlpkit.text import prepare
    from nlpkit.vocabulary import analyze

    shipped = load()
    assert shipped._tfidf.repeat_title
    title, body = "Giá xăng tăng mạnh", "Doanh nghiệp vận tải tăng giá vé, giá dầu lên cao"
    exp = shipped.explain(f"{title}\n{body}", k=10)
    listed = {t for t, _ in exp.terms + exp.against}
    # (the title as the whole text segments it: pyvi reads its words in context)
    of_title = set(analyze(prepare(f"{title}\n{body}").partition("\n")[0], (1, 2)))
    assert exp.in_title == listed & of_title and exp.in_title and listed - of_title
    term = sorted(exp.in_title)[0]
    assert f"{term} (in the title, counted twice)" in str(exp)
    entries = exp.to_dict()["terms"] + exp.to_dict()["against"]
    assert {e["term"] for e in entries if e["in_title"]} == exp.in_title
    # A headline alone is all title, and a model that reads titles once has nothing to say.
    assert shipped.explain(title).in_title == frozenset()
    assert small_model[0].explain(f"{title}\n{body}").in_title == frozenset()


def test_explain_says_which_terms_only_the_title_read_twice_makes():
    # A title read twice meets itself: its last word, then its first, make a bigram the text
    # does not hold ("tăng giá" of "Giá điện tăng"). The explanation says so, where it lists it.
    from nlpkit import load
    from nlpkit.text import prepare
    from nlpkit.vocabulary import analyze

    shipped = load()
    for text in ["Giá điện tăng", "Giá điện tăng\nEVN tăng giá điện từ hôm nay"]:
        exp = shipped.explain(text, k=20)
        listed = {t for t, _ in exp.terms + exp.against}
        assert exp.title_seam == {"tăng giá"} <= listed
        assert "tăng giá" not in analyze(prepare(text), (1, 2))
        assert "tăng giá (the title's end, then its start: the title read twice)" in str(exp)
        entries = exp.to_dict()["terms"] + exp.to_dict()["against"]
        assert {e["term"] for e in entries if e["title_seam"]} == {"tăng giá"}
    # A bigram the text holds itself is its own, wherever else it comes from.
    exp = shipped.explain("Giá điện tăng\nGiá điện tăng, tăng giá điện từ hôm nay", k=20)
    assert "tăng giá" in {t for t, _ in exp.terms + exp.against} and not exp.title_seam


def test_explain_says_what_kind_of_thing_a_term_names(small_model):
    model = small_model[0]
    exp = model.explain("Thủ tướng Nhật Bản hội đàm với Tổng thống Hàn Quốc tại Tokyo", k=10)
    assert exp.kinds.get("hàn_quốc") == "a foreign country or territory"
    assert exp.kinds.get("tổng_thống") == "a foreign office holder"
    assert set(exp.kinds) <= {t for t, _ in exp.terms}
    assert "hàn_quốc (a foreign country or territory)" in str(exp)
    weight = dict(exp.terms)["hàn_quốc"]
    entry = {
        "term": "hàn_quốc",
        "weight": weight,
        "kind": "a foreign country or territory",
        "in_title": False,
    }
    assert {**entry, "title_seam": False} in (exp.to_dict()["terms"])


@pytest.mark.parametrize("ngram_range", [(1, 2), (1, 3), (2, 2), (2, 4)])
def test_the_title_and_seam_terms_are_those_of_the_whole_text_read_twice(ngram_range):
    # `_title_terms` reads the title alone where it can; its answer must be that of the whole
    # text read with and without its title again, for titles of any length.
    import numpy as np

    from nlpkit.features import TfidfFeatures
    from nlpkit.predictor import Predictor
    from nlpkit.text import prepare
    from nlpkit.vocabulary import analyze, with_title

    texts = [
        "Giá điện tăng\nEVN tăng giá điện từ hôm nay",
        "Giá điện tăng",
        "Giá\nđiện tăng mạnh ở Hà Nội",  # a title of one word: a trigram's seam reaches the body
        "12345 !!!\nGiá xăng tăng mạnh",  # a title with no word
        "Giá điện tăng\nGiá điện tăng, tăng giá điện từ hôm nay",  # the text holds the seam
        "Xăng\n\ndầu\nGiá xăng dầu tăng",
    ]
    prepared = [prepare(t) for t in texts]
    features = TfidfFeatures(ngram_range=ngram_range, min_df=1, repeat_title=True)
    features.fit(prepared)
    coef = np.random.default_rng(0).normal(size=(2, len(features.terms_)))
    model = Predictor(features, coef, np.zeros(2), ["a", "b"])
    for text, p in zip(texts, prepared):
        terms = sorted(set(analyze(with_title(p), ngram_range)))
        seam = set(analyze(with_title(p), ngram_range)) - set(analyze(p, ngram_range))
        title, newline, rest = p.partition("\n")
        in_title = set(analyze(title, ngram_range)) if newline and rest.strip() else set()
        assert model._title_terms(text, terms) == (in_title, seam), text


def test_settings_and_weights_set_on_a_model_are_checked_as_save_checks_them(predictor):
    import copy

    m = copy.deepcopy(predictor)
    refused = [
        ("temperature", -1.0, ValueError, "temperature must be a number from 1e-06 to 1e"),
        ("temperature", float("nan"), ValueError, "temperature must be a number from"),
        ("temperature", "2", TypeError, "temperature must be a number, got '2'"),
        ("max_chars", 0, ValueError, "max_chars must be from 1 to 100,000,000, or None"),
        ("max_chars", -5, ValueError, "max_chars must be from 1"),
        ("max_chars", "abc", TypeError, "max_chars must be a whole number or None"),
        ("coef", np.zeros((2, 2)), ValueError, r"weights of shape \(2, 2\)"),
        ("intercept", np.zeros(len(m.classes) + 1), ValueError, "do not fit"),
    ]
    for name, value, error, message in refused:
        with pytest.raises(error, match=message):
            setattr(m, name, value)
    coef = m.coef.copy()
    coef[0, 0] = np.nan
    with pytest.raises(ValueError, match="coef holds NaN or infinite numbers"):
        m.coef = coef
    intercept = m.intercept.copy()
    intercept[-1] = np.inf
    with pytest.raises(ValueError, match="intercept holds NaN or infinite numbers"):
        m.intercept = intercept
    # Nothing refused was kept: the model answers as before.
    assert m.predict(TEXTS) == predictor.predict(TEXTS)
    assert m.predict_proba(TEXTS) == predictor.predict_proba(TEXTS)
    m.max_chars, m.temperature = np.int64(300), np.float32(2.0)
    assert (m.max_chars, m.temperature) == (300, 2.0) and type(m.max_chars) is int


def test_weights_change_only_through_their_setters_and_are_kept_as_given(predictor):
    # An edit in place would reach the saved folder but not the scorers' own copies, and a
    # caller's array changed after it was set would bypass the checks.
    import copy

    from nlpkit.features import TfidfFeatures

    m = copy.deepcopy(predictor)
    for name in ("coef", "intercept"):
        with pytest.raises(ValueError, match="read-only"):
            getattr(m, name)[0] += 5.0
    given = m.coef.copy()
    m.coef = given
    given[:] = np.nan
    assert np.isfinite(m.coef).all()
    assert m.predict(TEXTS) == predictor.predict(TEXTS)
    small = TfidfFeatures(min_df=1).fit(["giá xăng tăng", "đội tuyển thắng"])
    with pytest.raises(ValueError, match="do not fit"):
        m.features = small
    with pytest.raises(ValueError, match="features must be fitted"):
        m.features = TfidfFeatures()
    assert m.predict(TEXTS) == predictor.predict(TEXTS)


def test_an_empty_list_checks_its_options_as_any_list(predictor):
    for call in (predictor.predict, predictor.predict_proba):
        assert call([]) == []
        with pytest.raises(ValueError, match="n_jobs must be a whole number, at least 1"):
            call([], n_jobs=0)
        with pytest.raises(TypeError, match="n_jobs must be a whole number, at least 1"):
            call([], n_jobs=1.5)
        with pytest.raises(TypeError, match="allow_none must be True or False"):
            call([], allow_none="no")


def test_a_model_pickled_when_its_settings_were_plain_attributes_loads(predictor):
    import pickle

    state = predictor.__getstate__()
    # as a model pickled before kept them
    for name in ("temperature", "topics", "none", "none_head", "manifest"):
        state[name] = state.pop("_" + name)
    state["topics"], state["classes"] = list(state["topics"]), predictor.classes
    old = object.__new__(type(predictor))
    old.__setstate__(state)
    again = pickle.loads(pickle.dumps(old))
    assert again.predict_proba(TEXTS) == predictor.predict_proba(TEXTS)


def test_topics_are_renamed_not_added_and_the_structure_is_fixed_by_the_weights(predictor):
    # Each setting that changes an answer is checked as it is set: a model whose names do not
    # fit its rows answered one thing in predict and another in predict_proba.
    import copy

    m = copy.deepcopy(predictor)
    renamed = ("world", "power", "home", "sport")
    m.topics = list(renamed)
    assert m.topics == renamed and m.classes == renamed
    assert m.predict(TEXTS) == [
        renamed[predictor.topics.index(t)] for t in predictor.predict(TEXTS)
    ]
    proba = m.predict_proba(TEXTS)
    assert [max(p, key=p.get) for p in proba] == m.predict(TEXTS)
    refused = [
        (("a", "b"), ValueError, "2 topics for weights of 4 rows"),
        (("a", "a", "b", "c"), ValueError, "two or more distinct names"),
        (("a", "b", "c", "none"), ValueError, "none is not a topic"),
        (("a", "b", "c", "ener\ngy"), ValueError, "holds a line end"),
        (("a", "b", "c", "ener\u2028gy"), ValueError, "holds a line end"),
        (("a", "b", "c", " "), ValueError, "empty"),
        (("a", "b", "c", 4), ValueError, "not a string"),
        ("abcd", TypeError, "topics must be a list or tuple"),
    ]
    for value, error, message in refused:
        with pytest.raises(error, match=message):
            m.topics = value
    for name in ("none", "classes"):
        with pytest.raises(AttributeError):
            setattr(m, name, False)
    with pytest.raises(ValueError, match="none_head must be one of"):
        m.none_head = "bogus"
    with pytest.raises(ValueError, match="'detector' needs a model with out of scope"):
        m.none_head = "detector"
    with pytest.raises(TypeError, match="manifest must be a dict, got NoneType"):
        m.manifest = None
    assert m.topics == renamed and m.none_head == predictor.none_head == "class"
