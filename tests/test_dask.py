"""The Dask extra on a real local cluster: two worker processes, same answers as in-process."""

import pytest

pytest.importorskip("distributed", reason="the dask extra is not installed (pip install '.[dask]')")

import dask.bag as db  # noqa: E402
import dask.dataframe as dd  # noqa: E402
import pandas as pd  # noqa: E402
from distributed import Client, Future, LocalCluster  # noqa: E402

import nlpkit  # noqa: E402
from nlpkit.dask import _model_reference, predict_partitions  # noqa: E402

TEXTS = [
    "Giá xăng dầu tăng mạnh từ chiều nay",
    "Tuyển Việt Nam thắng Thái Lan ở AFF Cup",
    "Tổng thống Nga điện đàm với Tổng thống Mỹ",
    "Công an khởi tố giám đốc trung tâm đăng kiểm",
] * 6


@pytest.fixture(scope="module")
def client():
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def test_dataframe_on_a_local_cluster_equals_in_process(client):
    frame = pd.DataFrame({"id": range(len(TEXTS)), "title": "", "text": TEXTS})
    result = predict_partitions(
        dd.from_pandas(frame, npartitions=5), title_column="title"
    ).compute()
    assert result["topic"].tolist() == nlpkit.predict(TEXTS)
    assert result["id"].tolist() == list(range(len(TEXTS)))
    expected = nlpkit.predict_proba(TEXTS)
    for topic in nlpkit.TOPICS:
        assert result[f"p_{topic}"].tolist() == pytest.approx([p[topic] for p in expected])


def test_bag_on_a_local_cluster_equals_in_process(client):
    records = [{"id": i, "text": t} for i, t in enumerate(TEXTS)]
    out = predict_partitions(db.from_sequence(records, npartitions=4)).compute()
    assert [r["topic"] for r in out] == nlpkit.predict(TEXTS)
    strings = predict_partitions(db.from_sequence(TEXTS, npartitions=3)).compute()
    assert [r["topic"] for r in strings] == nlpkit.predict(TEXTS)


def test_the_model_is_sent_to_each_worker_once(client):
    ref = _model_reference(nlpkit.load())
    assert isinstance(ref, Future)
    holders = client.who_has([ref])[ref.key]
    assert len(holders) == len(client.scheduler_info()["workers"]) == 2


def test_wrong_input_types(client):
    with pytest.raises(TypeError, match="expected a dask DataFrame or Bag"):
        predict_partitions(TEXTS)
    with pytest.raises(ValueError, match="no column 'body'"):
        predict_partitions(
            dd.from_pandas(pd.DataFrame({"text": TEXTS}), npartitions=2), text_column="body"
        )
    with pytest.raises(ValueError, match="no column 'headline'"):
        predict_partitions(
            dd.from_pandas(pd.DataFrame({"text": TEXTS}), npartitions=2), title_column="headline"
        )


def test_a_row_without_usable_text_gets_an_error_not_a_failed_computation(client):
    frame = pd.DataFrame(
        {"title": ["", None, "", "Tin"], "text": [TEXTS[0], TEXTS[1], "   ", None]}
    )
    result = predict_partitions(
        dd.from_pandas(frame, npartitions=2), title_column="title"
    ).compute()
    assert result["topic"].tolist()[:2] == nlpkit.predict(TEXTS[:2])
    assert result["error"].isna().tolist() == [True, True, False, False]
    assert result["topic"].isna().tolist() == [False, False, True, True]
    assert "empty" in result["error"].iloc[2]
    assert result["error"].iloc[3] == "no text (a missing value)"
    assert result["p_energy"].isna().tolist() == [False, False, True, True]
    items = [{"text": TEXTS[0]}, {"id": 1}, {"text": 5}]
    first, second, third = predict_partitions(db.from_sequence(items, npartitions=1)).compute()
    assert first["topic"] == nlpkit.predict(TEXTS[0])
    assert second["topic"] is None and second["error"] == "no text (a missing value)"
    assert third["topic"] is None and third["error"] == "text must be str, not int"
    # An item's own fields named like the answer's are replaced: no "error" beside a topic.
    items = [{"text": TEXTS[0], "error": "old", "topic": "x"}, {"text": 5, "topic": "sports"}]
    answered, failed = predict_partitions(db.from_sequence(items, npartitions=1)).compute()
    assert "error" not in answered and answered["topic"] == nlpkit.predict(TEXTS[0])
    assert failed["topic"] is None and failed["error"] == "text must be str, not int"


def test_without_dask_the_error_says_what_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_dask(name, *args, **kwargs):
        if name.startswith("dask"):
            raise ModuleNotFoundError("No module named 'dask'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    with pytest.raises(ImportError, match=r"pip install '\.\[dask\]' in nlpkit's source folder"):
        predict_partitions(TEXTS)


def test_allow_none_gives_topic_none_and_a_p_none_column(client, small_none_model, small_model):
    predictor = small_none_model[0]
    texts = ["Nữ ca sĩ ra mắt album nhạc mới và bộ phim hoạt hình", TEXTS[0]]
    frame = dd.from_pandas(pd.DataFrame({"text": texts}), npartitions=1)
    result = predict_partitions(frame, model=predictor, allow_none=True).compute()
    assert result["topic"].tolist()[1] == "energy" and pd.isna(result["topic"].iloc[0])
    assert result["p_none"].iloc[0] > 0.5
    bag = predict_partitions(db.from_sequence(texts), model=predictor, allow_none=True).compute()
    assert [r["topic"] for r in bag] == [None, "energy"]
    with pytest.raises(ValueError, match="has no out-of-scope class"):
        predict_partitions(frame, model=small_model[0], allow_none=True)
    # (refused when called, not at compute: "no" is true in Python)
    with pytest.raises(TypeError, match="allow_none must be True or False, got 'no'"):
        predict_partitions(frame, model=predictor, allow_none="no")
