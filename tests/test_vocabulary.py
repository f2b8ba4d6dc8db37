import pickle

import numpy as np
import pytest

import nlpkit
from nlpkit.features import TfidfFeatures
from nlpkit.vocabulary import Vocabulary, VocabularyFile, analyze

DOCS = [
    "Giá xăng_dầu tăng mạnh , giá điện cũng tăng .",
    "Tuyển Việt_Nam thắng Thái_Lan 2 - 0 .",
    "Tổng_thống Nga điện_đàm với Tổng_thống Mỹ .",
    "Giá xăng_dầu giảm nhẹ .",
]


@pytest.mark.parametrize(
    "params",
    [{}, {"ngram_range": (1, 3), "sublinear_tf": False}, {"repeat_title": True}],
)
def test_weights_are_the_estimators(params):
    features = TfidfFeatures(min_df=1, **params).fit(DOCS)
    vocabulary = Vocabulary(features.terms_, features.idf_, **features.get_params())
    new = DOCS + ["giá xăng_dầu mới", "không có từ nào quen"]
    for ours, theirs in zip(vocabulary.weights(new), features.weights(new)):
        assert ours.tobytes() == theirs.tobytes()
    assert vocabulary.vocabulary_ == features.vocabulary_


def test_checks_and_pickling():
    with pytest.raises(ValueError, match="3 terms but"):
        Vocabulary(["a", "b", "c"], np.ones(2))
    vocabulary = Vocabulary(["a", "b c"], np.ones(2))
    assert vocabulary.vocabulary_ == {"a": 0, "b c": 1}
    clone = pickle.loads(pickle.dumps(vocabulary))
    assert clone._index is None and clone.vocabulary_ == vocabulary.vocabulary_


def test_loaded_model_holds_plain_data_and_builds_its_estimator_when_asked(small_model, tmp_path):
    from nlpkit import modelfile

    predictor = nlpkit.load(modelfile.save(small_model[0], tmp_path / "m"))
    assert isinstance(predictor._tfidf, Vocabulary) and predictor._features is None
    features = predictor.features
    assert isinstance(features, TfidfFeatures) and predictor.features is features
    assert features.terms_ == predictor._tfidf.terms_
    texts = ["Giá xăng dầu tăng mạnh", "Tuyển Việt Nam thắng Thái Lan"]
    assert list(predictor.to_pipeline().predict(texts)) == predictor.predict(texts)


def test_analyze_is_the_features_analyzer():
    from nlpkit import features

    assert features.analyze is analyze


def test_features_can_be_set(small_model):
    from nlpkit.features import TfidfFeatures

    predictor = nlpkit.load()
    before = predictor.predict_proba("Giá xăng tăng")
    same = TfidfFeatures.of(predictor._tfidf)
    predictor.features = same
    assert predictor.features is same
    assert predictor._tfidf.terms_ == same.terms_
    assert predictor._scorer_ is None
    assert predictor.predict_proba("Giá xăng tăng") == before
    # Features of other terms than the weights' columns are refused as they are set.
    with pytest.raises(ValueError, match="do not fit"):
        predictor.features = small_model[0].features
    assert predictor.features is same


def test_a_vocabulary_file_counted_once_is_the_same_vocabulary():
    data = "giá xăng\nxăng\ngiá\n".encode()
    idf = np.array([2.0, 1.5, 1.0])
    counted = Vocabulary(VocabularyFile(data), idf)
    assert VocabularyFile(data).lines == 3
    assert counted.n_terms_ == Vocabulary(data, idf).n_terms_ == 3
    assert counted.terms_ == ["giá xăng", "xăng", "giá"]
    with pytest.raises(ValueError, match="3 terms but"):
        Vocabulary(VocabularyFile(data), idf[:2])
