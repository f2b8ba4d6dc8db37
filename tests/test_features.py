import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from nlpkit.features import KindFeatures, Segmenter, TfidfFeatures, analyze
from nlpkit.names import KINDS, name_kinds
from nlpkit.vocabulary import with_title

DOCS = [
    "Giá xăng_dầu tăng mạnh , giá điện cũng tăng .",
    "Tuyển Việt_Nam thắng Thái_Lan 2 - 0 .",
    "Tổng_thống Nga điện_đàm với Tổng_thống Mỹ .",
    "Giá xăng_dầu giảm nhẹ .",
]


def test_max_features_keeps_the_most_frequent_terms_ties_alphabetically():
    # "a" occurs 3 times; "d", "b", "c" twice each (a tie at the cut); "e" once.
    docs = ["a d b", "a d c", "a b c e"]
    features = TfidfFeatures(ngram_range=(1, 1), min_df=1, max_features=3).fit(docs)
    assert features.terms_ == ["a", "b", "c"]
    # Without a tie at the cut, what scikit-learn's TfidfVectorizer keeps.
    ref = TfidfVectorizer(analyzer=lambda t: analyze(t, (1, 2)), max_features=5).fit(DOCS)
    ours = TfidfFeatures(ngram_range=(1, 2), min_df=1, max_features=5).fit(DOCS)
    counts = {t: sum(analyze(d, (1, 2)).count(t) for d in DOCS) for t in ours.terms_}
    assert min(counts.values()) > 1 and ours.terms_ == ref.get_feature_names_out().tolist()
    np.testing.assert_allclose(ours.idf_, ref.idf_)


def test_analyze_drops_punctuation_and_numbers_and_adds_bigrams():
    assert analyze("Tuyển Việt_Nam thắng 2 - 0 .", (1, 2)) == [
        "tuyển",
        "việt_nam",
        "thắng",
        "tuyển việt_nam",
        "việt_nam thắng",
    ]
    assert analyze("a b c", (2, 3)) == ["a b", "b c", "a b c"]


@pytest.mark.parametrize("sublinear", [True, False])
def test_transform_equals_scikit_learn(sublinear):
    ours = TfidfFeatures(ngram_range=(1, 2), min_df=1, sublinear_tf=sublinear).fit(DOCS)
    ref = TfidfVectorizer(analyzer=lambda t: analyze(t, (1, 2)), sublinear_tf=sublinear).fit(DOCS)
    new = DOCS + ["giá xăng_dầu mới", "không có từ nào quen"]
    np.testing.assert_allclose(
        ours.transform(new).toarray(), ref.transform(new).toarray(), atol=1e-12
    )
    assert ours.terms_ == ref.get_feature_names_out().tolist()
    fitted = TfidfFeatures(ngram_range=(1, 2), min_df=1, sublinear_tf=sublinear).fit_transform(DOCS)
    np.testing.assert_array_equal(fitted.toarray(), ours.transform(DOCS).toarray())


def test_training_weights_do_not_depend_on_numpys_log(monkeypatch):
    # numpy's vectorised log picks its code by the processor (AVX-512 or not) and may differ
    # from another machine's in the last bit, which a training recipe amplifies into another
    # model. The fit takes the C library's logarithms: a numpy log one bit off (another
    # machine's, say) changes nothing.
    import math

    before = TfidfFeatures(ngram_range=(1, 2), min_df=1).fit(DOCS)
    matrix = TfidfFeatures(ngram_range=(1, 2), min_df=1).fit_transform(DOCS)
    log = np.log

    def one_bit_up(x, out=None, **kwargs):
        shifted = np.nextafter(log(x, **kwargs), np.inf)
        if out is None:
            return shifted
        out = out[0] if isinstance(out, tuple) else out
        out[...] = shifted
        return out

    monkeypatch.setattr(np, "log", one_bit_up)
    after = TfidfFeatures(ngram_range=(1, 2), min_df=1).fit(DOCS)
    np.testing.assert_array_equal(after.idf_, before.idf_)
    np.testing.assert_array_equal(
        TfidfFeatures(ngram_range=(1, 2), min_df=1).fit_transform(DOCS).toarray(),
        matrix.toarray(),
    )
    df = sum("xăng_dầu" in analyze(d, (1, 2)) for d in DOCS)
    assert before.idf_[before.vocabulary_["xăng_dầu"]] == 1.0 + math.log(5 / (1 + df))


def test_with_title_reads_the_first_line_twice():
    assert with_title("Giá xăng tăng \n Hôm_nay giá xăng") == (
        "Giá xăng tăng  \n Giá xăng tăng \n Hôm_nay giá xăng"
    )
    assert analyze(with_title("a b \n c"), (1, 2)) == [
        *["a", "b", "a", "b", "c"],
        *["a b", "b a", "a b", "b c"],
    ]
    assert with_title("Giá xăng") == "Giá xăng \n Giá xăng"  # a headline is all title
    assert with_title("") == " \n "


def test_repeat_title_counts_the_first_lines_terms_twice():
    docs = ["Giá xăng tăng \n giá điện giảm", "Giá điện tăng", *DOCS]
    ours = TfidfFeatures(min_df=1, repeat_title=True)
    matrix = ours.fit_transform(docs)
    ref = TfidfFeatures(min_df=1).fit([with_title(d) for d in docs])
    assert ours.terms_ == ref.terms_
    np.testing.assert_allclose(ours.idf_, ref.idf_)
    np.testing.assert_allclose(
        matrix.toarray(), ref.transform([with_title(d) for d in docs]).toarray(), atol=1e-12
    )
    np.testing.assert_allclose(matrix.toarray(), ours.transform(docs).toarray(), atol=1e-12)

    # The title's "xăng" outweighs the body's "điện" only when the title counts twice.
    def ratio(features):
        row = features.transform(["Giá xăng \n giá điện"]).toarray()[0]
        return row[features.vocabulary_["xăng"]] / row[features.vocabulary_["điện"]]

    assert ratio(ours) > ratio(TfidfFeatures(min_df=1).fit(docs))


def test_rebuilt_from_vocabulary_is_equal():
    fitted = TfidfFeatures(min_df=1).fit(DOCS)
    rebuilt = TfidfFeatures.from_vocabulary(fitted.terms_, fitted.idf_, **fitted.get_params())
    assert (fitted.transform(DOCS) != rebuilt.transform(DOCS)).nnz == 0


def test_transform_refuses_a_single_string():
    with pytest.raises(TypeError):
        TfidfFeatures(min_df=1).fit(DOCS).transform("một văn bản")


def test_composes_in_a_pipeline():
    pipe = Pipeline(
        [
            ("segment", Segmenter()),
            ("tfidf", TfidfFeatures(min_df=1)),
            ("clf", LogisticRegression()),
        ]
    )
    raw = [
        "Giá xăng dầu tăng mạnh",
        "Tuyển Việt Nam thắng Thái Lan",
        "Giá điện và giá xăng tăng",
        "Đội tuyển thắng đậm",
    ]
    pipe.fit(raw, ["energy", "sports", "energy", "sports"])
    assert list(pipe.predict(["giá xăng giảm"])) == ["energy"]
    assert pipe.get_params()["tfidf__ngram_range"] == (1, 2)


def test_keep_terms_are_in_the_vocabulary_whatever_their_frequency():
    texts = ["giá xăng tăng", "giá xăng giảm", "giá điện tăng", "bóng_đá việt_nam"]
    plain = TfidfFeatures(min_df=2, ngram_range=(1, 1)).fit(texts)
    kept = TfidfFeatures(min_df=2, ngram_range=(1, 1))
    X = kept.fit_transform(texts, keep_terms=("bóng_đá", "los_angeles"))
    # The others as before; the kept ones beside them, seen once or never.
    assert set(kept.terms_) == set(plain.terms_) | {"bóng_đá", "los_angeles"}
    assert kept.terms_ == sorted(kept.terms_)
    unseen = kept.vocabulary_["los_angeles"]
    assert kept.idf_[unseen] == pytest.approx(np.log(5) + 1)  # smoothed idf of df = 0
    assert X[:, unseen].nnz == 0
    # What fit_transform gave is what transform gives.
    assert np.allclose(X.toarray(), kept.transform(texts).toarray())
    assert kept.transform(["los_angeles"])[0, unseen] == pytest.approx(1.0)
    # A fit parameter, not a setting: the fitted vocabulary holds the terms, and the
    # plain-data vocabulary (what a model folder keeps, what the compiled core reads) too.
    assert kept.get_params() == plain.get_params()
    assert kept.to_vocabulary().terms_ == kept.terms_


@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 2), (2, 2)])
@pytest.mark.parametrize(
    "min_df, max_df, max_features", [(1, 1.0, None), (2, 0.5, None), (2, 1.0, 12), (1, 3, 5)]
)
def test_keep_terms_chosen_in_the_counting_are_those_of_counting_everything(
    ngram_range, min_df, max_df, max_features
):
    # The kept terms chosen by count_terms (keep=) where it counts the n-gram range, against
    # every term counted first and the bounds and max_features applied after: the same
    # terms, idf and matrix, bit for bit.
    import random

    rng = random.Random(hash((ngram_range, min_df, max_df, max_features)) & 0xFFFF)
    vocab = [f"w{i}" for i in range(40)] + ["hà_nội", "los_angeles", "12", ","]
    keep = ["hà_nội", "w1", "w39 w38", "w2 w3", "never", "nor this", "Hà_Nội", "a b c", "12"]
    for _ in range(5):
        texts = [" ".join(rng.choice(vocab) for _ in range(rng.randint(1, 25))) for _ in range(30)]
        options = dict(ngram_range=ngram_range, min_df=min_df, max_df=max_df,
                       max_features=max_features)  # fmt: skip
        fast, slow = TfidfFeatures(**options), TfidfFeatures(**options)
        X = fast.fit_transform(texts, keep_terms=keep)
        Y = slow._fit_keeping_counted_all(texts, set(keep))
        assert fast.terms_ == slow.terms_ and set(keep) <= set(fast.terms_)
        assert fast.idf_.tobytes() == slow.idf_.tobytes()
        assert (X != Y).nnz == 0 and X.indices.tolist() == Y.indices.tolist()


def test_kept_terms_stay_where_the_bounds_leave_no_other_term():
    # min_df above max_df keeps no counted term, but the kept ones are kept whatever: the
    # counting of (1, 2) and that of every term give them alike.
    texts = ["xăng tăng", "nga mỹ", "giá xăng"]
    for ngram_range in ((1, 2), (1, 3)):
        features = TfidfFeatures(ngram_range=ngram_range, min_df=2, max_df=0.5)
        assert features.fit(texts, keep_terms=["xăng"]).terms_ == ["xăng"]


def test_document_frequency_bounds_of_numpy_integers_are_counts_in_every_counting():
    texts = ["xăng tăng", "nga mỹ", "giá xăng", "giá mỹ"]
    for ngram_range in ((1, 2), (1, 3)):
        features = TfidfFeatures(ngram_range=ngram_range, min_df=np.int64(2))
        assert features.fit(texts, keep_terms=["nga"]).terms_ == ["giá", "mỹ", "nga", "xăng"]


@pytest.mark.parametrize(
    "options, error, message",
    [
        ({"max_features": 0}, ValueError, "max_features must be a whole number of at least 1"),
        ({"max_features": 2.5}, ValueError, "max_features must be a whole number"),
        ({"min_df": "2"}, TypeError, "min_df must be a number, got '2'"),
        ({"max_df": 1.5}, ValueError, r"max_df must be a number of texts \(1 or more\)"),
        ({"min_df": 0}, ValueError, r"min_df must be a number of texts \(1 or more\)"),
        ({"sublinear_tf": "no"}, TypeError, "sublinear_tf must be True or False, got 'no'"),
        ({"repeat_title": 1}, TypeError, "repeat_title must be True or False, got 1"),
        ({"min_df": -1}, ValueError, "min_df must be a number of texts"),
        ({"ngram_range": (2, 1)}, ValueError, "ngram_range must be"),
        ({"ngram_range": (0, 1)}, ValueError, "ngram_range must be"),
    ],
)
def test_settings_out_of_range_are_refused_before_any_text_is_counted(options, error, message):
    with pytest.raises(error, match=message):
        TfidfFeatures(**options).fit(DOCS)


def test_to_vocabulary_shares_the_arrays_and_refuses_what_it_does_not_know():
    from nlpkit.vocabulary import Vocabulary

    class Other(TfidfFeatures):  # may analyse otherwise: keeps its own transform
        pass

    features = TfidfFeatures(min_df=1).fit(DOCS)
    vocabulary = features.to_vocabulary()
    assert vocabulary.terms_ is features.terms_ and vocabulary.idf_ is features.idf_
    assert vocabulary.get_params() == features.get_params()
    assert TfidfFeatures().to_vocabulary() is None  # not fitted
    assert Other(min_df=1).fit(DOCS).to_vocabulary() is None
    assert not Vocabulary.supports({"ngram_range": (1, 2), "analyzer": "syllables"})


def test_the_estimator_of_a_vocabulary_transforms_alike():
    features = TfidfFeatures(min_df=1, ngram_range=(1, 3)).fit(DOCS)
    rebuilt = TfidfFeatures.of(features.to_vocabulary())
    assert isinstance(rebuilt, TfidfFeatures) and rebuilt.get_params() == features.get_params()
    assert (rebuilt.transform(DOCS) != features.transform(DOCS)).nnz == 0


def test_kind_columns_fold_back_into_the_terms_weights():
    texts = ["tổng_thống hội_đàm tại los_angeles", "giá xăng tại quảng_ninh", "giá điện tăng"]
    features = TfidfFeatures(min_df=1)
    X = features.fit_transform(texts, keep_terms=tuple(name_kinds()))
    kinds = KindFeatures(features.terms_, features.idf_)
    wide = kinds.fit_transform(X)
    assert wide.shape == (3, len(features.terms_) + len(KINDS))
    coef = np.random.default_rng(0).normal(size=(2, wide.shape[1]))
    # The folded weights score the plain rows as the wide weights score the wide rows, for a
    # text with a name the training texts never had too.
    new = features.transform(["tổng_thống thăm california"])
    for rows in (X, new):
        assert np.allclose(kinds.transform(rows) @ coef.T, rows @ kinds.fold(coef).T)
    assert kinds.transform(new)[0, len(features.terms_) + kinds.kinds_.index("foreign_place")] > 0
    assert sp.issparse(wide)


def test_kind_features_is_an_estimator_of_its_vocabulary():
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError

    kinds = KindFeatures(["giá", "los_angeles"], np.array([1.0, 2.0]))
    with pytest.raises(NotFittedError):
        kinds.transform(sp.csr_matrix((1, 2)))
    assert clone(kinds).get_params()["terms"] == ["giá", "los_angeles"]
    with pytest.raises(ValueError, match="2 terms but"):
        KindFeatures(["giá", "los_angeles"], np.array([1.0])).fit()
    with pytest.raises(ValueError, match="rows of 3 columns for a vocabulary of 2"):
        kinds.fit(sp.csr_matrix((1, 3)))


def test_one_string_is_refused_where_a_list_of_texts_is_expected():
    # A string is an iterable of characters: each would be answered as a text of its own.
    fitted = TfidfFeatures(min_df=1).fit(DOCS)
    steps = [
        lambda: Segmenter().transform("Giá xăng"),
        lambda: Segmenter().fit("Giá xăng"),
        lambda: TfidfFeatures(min_df=1).fit("Giá xăng"),
        lambda: TfidfFeatures(min_df=1).fit_transform("Giá xăng"),
        lambda: fitted.transform("Giá xăng"),
    ]
    for step in steps:
        with pytest.raises(TypeError, match="expects a list of texts, not one string"):
            step()
