"""Prediction benchmarks on fixed inputs: `pytest tests/benchmarks --benchmark-only`.

They measure and never assert a time. The "plain pipeline" rows are the baseline a user would
write: pyvi, then a fitted scikit-learn TfidfVectorizer and classifier, one call per text.
"""

import pytest
from pyvi import ViTokenizer

import nlpkit
from nlpkit.modelfile import default_model_path

# A 780-character news-like text written for the benchmarks (the corpus' average length).
TEXT = (
    "Giá xăng dầu trong nước được điều chỉnh tăng từ 15h chiều nay theo quyết định của liên "
    "bộ Công Thương - Tài chính. Theo đó, xăng E5 RON92 tăng 500 đồng mỗi lít, xăng RON95 "
    "tăng 620 đồng, dầu diesel tăng 410 đồng. Đây là lần tăng thứ ba liên tiếp kể từ đầu "
    "tháng, khi giá dầu thô thế giới leo thang vì OPEC+ cắt giảm sản lượng và căng thẳng ở "
    "Trung Đông. Các doanh nghiệp đầu mối như Petrolimex, PV Oil cho biết nguồn cung vẫn được "
    "bảo đảm, không để xảy ra tình trạng đứt hàng tại các cửa hàng bán lẻ. Cơ quan điều hành "
    "đồng thời trích lập quỹ bình ổn giá với mức 300 đồng mỗi lít đối với xăng và dầu. Các "
    "chuyên gia dự báo giá nhiên liệu còn biến động trong quý tới, ảnh hưởng tới chi phí vận "
    "tải, giá cước taxi và giá hàng hóa thiết yếu."
)
_SENTENCES = TEXT.split(". ")
# 200 different texts of about the same length: the sentences rotated, each with a number.
BATCH = [
    f"Bản tin số {i}. "
    + ". ".join(_SENTENCES[i % len(_SENTENCES) :] + _SENTENCES[: i % len(_SENTENCES)])
    for i in range(200)
]
LARGE = BATCH * 20  # 4,000 texts, for parallel prediction


@pytest.fixture(scope="module")
def predictor():
    return nlpkit.load()


@pytest.fixture(scope="module")
def plain_pipeline(predictor):
    """The same model as scikit-learn objects, fed pyvi output one text at a time."""
    pipeline = predictor.to_pipeline()
    features, clf = pipeline.named_steps["features"], pipeline.named_steps["classifier"]

    def predict(texts):
        return clf.predict(features.transform([ViTokenizer.tokenize(t) for t in texts]))

    return predict


def test_single_predict_nlpkit(benchmark, predictor):
    assert benchmark(predictor.predict, TEXT) == "energy"


def test_single_predict_plain_pipeline(benchmark, plain_pipeline):
    assert list(benchmark(plain_pipeline, [TEXT])) == ["energy"]


def test_batch_predict_nlpkit(benchmark, predictor):
    assert benchmark(predictor.predict, BATCH) == ["energy"] * len(BATCH)


def test_batch_predict_plain_pipeline(benchmark, plain_pipeline):
    assert list(benchmark(plain_pipeline, BATCH)) == ["energy"] * len(BATCH)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_large_batch_predict_nlpkit(benchmark, predictor, n_jobs):
    out = benchmark.pedantic(predictor.predict, (LARGE,), {"n_jobs": n_jobs}, rounds=3)
    assert out == ["energy"] * len(LARGE)


def test_model_load(benchmark):
    predictor = benchmark(nlpkit.load, default_model_path())
    assert predictor.topics == nlpkit.TOPICS
