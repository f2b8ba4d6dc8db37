"""Classifying Dask collections: when one machine is not enough (``pip install nlpkit[dask]``).

`predict_partitions` adds the topic and the per-topic probabilities to every row of a Dask
dataframe (or every item of a Dask bag), partition by partition, with the same answers as
`nlpkit.predict` in-process. The model enters the task graph once: with a distributed client it
is scattered to every worker once, otherwise it is one shared task; partitions refer to it and
never carry their own copy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .predictor import Predictor
from .text import join_title

__all__ = ["predict_partitions"]


def _model_reference(predictor: Predictor):
    import dask

    try:
        from distributed import get_client

        client = get_client()
    except (ImportError, ValueError):
        # No distributed client: a single delayed value, computed once and shared by the
        # partitions of the local scheduler.
        return dask.delayed(predictor, pure=True, name="nlpkit-model")
    return client.scatter(predictor, broadcast=True, hash=False)


def _full_texts(frame, text_column: str, title_column: str | None) -> list[str]:
    texts = frame[text_column].astype(str).tolist()
    if title_column is None:
        return texts
    titles = frame[title_column].fillna("").astype(str).tolist()
    return [join_title(title, text) for title, text in zip(titles, texts)]


def _predict_frame(frame, predictor: Predictor, text_column: str, title_column: str | None):
    out = frame.copy()
    probs = (
        predictor.predict_proba(_full_texts(frame, text_column, title_column)) if len(frame) else []
    )
    out["topic"] = [max(p, key=p.get) for p in probs]
    for topic in predictor.topics:
        out[f"p_{topic}"] = [p[topic] for p in probs]
    return out


def _predict_items(items, predictor: Predictor, text_key: str, title_key: str | None):
    items = list(items)
    texts = [
        item
        if isinstance(item, str)
        else join_title((item.get(title_key) or "") if title_key else "", item[text_key])
        for item in items
    ]
    probs = predictor.predict_proba(texts) if texts else []
    return [
        {"text": item, "topic": max(p, key=p.get), "probabilities": p}
        if isinstance(item, str)
        else {**item, "topic": max(p, key=p.get), "probabilities": p}
        for item, p in zip(items, probs)
    ]


def predict_partitions(
    data: Any,
    model: Predictor | str | Path | None = None,
    text_column: str = "text",
    title_column: str | None = None,
):
    """Classify a Dask dataframe or bag lazily; compute the result as usual.

    - A dataframe gets the columns ``topic`` and ``p_<topic>`` for each topic; the text is in
      ``text_column``, with ``title_column`` (if given) put in front of it.
    - A bag of strings or of dicts (text in ``text_column``) becomes a bag of dicts with
      ``topic`` and ``probabilities`` added.

    ``model`` is a `Predictor`, a model folder, or None for the shipped model.
    """
    import dask.bag as db
    import dask.dataframe as dd

    from . import load

    if not isinstance(data, (dd.DataFrame, db.Bag)):
        raise TypeError(f"expected a dask DataFrame or Bag, got {type(data).__name__}")
    if isinstance(data, dd.DataFrame) and text_column not in data.columns:
        raise ValueError(f"no column {text_column!r} in the dataframe")
    predictor = model if isinstance(model, Predictor) else load(model)
    ref = _model_reference(predictor)
    if isinstance(data, dd.DataFrame):
        meta = data._meta.assign(
            topic=data._meta[text_column].astype(str),
            **{f"p_{t}": data._meta[text_column].astype(float) for t in predictor.topics},
        )
        return data.map_partitions(
            _predict_frame, ref, text_column, title_column, meta=meta, align_dataframes=False
        )
    return data.map_partitions(_predict_items, ref, text_column, title_column)
