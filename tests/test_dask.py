"""The Dask extra on a real local cluster: two worker processes, same answers as in-process."""

import pytest

pytest.importorskip(
    "distributed", reason="the dask extra is not installed (pip install nlpkit[dask])"
)

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
