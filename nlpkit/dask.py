"""Classifying Dask collections: when one machine is not enough (``pip install '.[dask]'`` in
nlpkit's source folder).

`predict_partitions` adds the topic and the per-topic probabilities to every row of a Dask
dataframe (or every item of a Dask bag), partition by partition, with the same answers as
`nlpkit.predict` in-process. A row without a usable text (missing, not a string, empty) gets no
topic and an ``error`` saying why, as in `nlpkit predict --input`: one bad row never fails the
computation. The model enters the task graph once: with a distributed client it
is scattered to every worker once, otherwise it is one shared task; partitions refer to it and
never carry their own copy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .batch import probabilities_or_errors, topic_of
from .predictor import Predictor, check_flag
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


def _missing(value: object) -> bool:
    """None, NaN or pandas' NA: a cell with no value."""
    import pandas

    try:
        return bool(pandas.isna(value))
    except (TypeError, ValueError):  # a list or other container: a value, though not a text
        return False


def _full_text(title: object, text: object) -> object:
    """The text a classifier reads, or the value that makes the row an error."""
    if not isinstance(title, str) and _missing(title):
        title = ""
    if isinstance(title, str) and isinstance(text, str):
        return join_title(title, text)
    return text if not isinstance(text, str) else title


def _full_texts(frame, text_column: str, title_column: str | None) -> list[object]:
    texts = frame[text_column].tolist()
    if title_column is None:
        return texts
    return [_full_text(t, x) for t, x in zip(frame[title_column].tolist(), texts)]


def _answers(predictor: Predictor, texts: list[object], allow_none: bool) -> list[dict | str]:
    """`probabilities_or_errors`, but a missing value (None, NaN, pandas' NA) is said to be
    missing, where it was "text must be str, not NAType"."""
    missing = [not isinstance(t, str) and _missing(t) for t in texts]
    given = iter(
        probabilities_or_errors(predictor, [t for t, m in zip(texts, missing) if not m], allow_none)
    )
    return ["no text (a missing value)" if m else next(given) for m in missing]


def _columns(predictor: Predictor, allow_none: bool) -> tuple[str, ...]:
    return predictor.classes if allow_none else predictor.topics


def _predict_frame(
    frame, predictor: Predictor, text_column: str, title_column: str | None, allow_none: bool
):
    out = frame.copy()
    texts = _full_texts(frame, text_column, title_column)
    answers = _answers(predictor, texts, allow_none)
    out["topic"] = [None if isinstance(p, str) else topic_of(p) for p in answers]
    for topic in _columns(predictor, allow_none):
        out[f"p_{topic}"] = [float("nan") if isinstance(p, str) else p[topic] for p in answers]
    out["error"] = [p if isinstance(p, str) else None for p in answers]
    return out


_OURS = ("topic", "probabilities", "error")


def _predict_items(
    items, predictor: Predictor, text_key: str, title_key: str | None, allow_none: bool
):
    items = list(items)
    texts = [
        item
        if not isinstance(item, dict)
        else _full_text(item.get(title_key) if title_key else "", item.get(text_key))
        for item in items
    ]
    out = []
    for item, p in zip(items, _answers(predictor, texts, allow_none)):
        # (an item's own "topic" or "error" would stand beside nlpkit's answer: replaced, as
        # `nlpkit predict --input` replaces them)
        base = (
            {k: v for k, v in item.items() if k not in _OURS}
            if isinstance(item, dict)
            else {"text": item}
        )
        if isinstance(p, str):
            out.append({**base, "topic": None, "error": p})
        else:
            out.append({**base, "topic": topic_of(p), "probabilities": p})
    return out


def predict_partitions(
    data: Any,
    model: Predictor | str | Path | None = None,
    text_column: str = "text",
    title_column: str | None = None,
    allow_none: bool = False,
) -> Any:
    """Classify a Dask dataframe or bag lazily; compute the result as usual.

    - A dataframe gets the columns ``topic`` and ``p_<topic>`` for each topic; the text is in
      ``text_column``, with ``title_column`` (if given) put in front of it.
    - A bag of strings or of dicts (text in ``text_column``) becomes a bag of dicts with
      ``topic`` and ``probabilities`` added.

    ``model`` is a `Predictor`, a model folder, or None for the shipped model. A row or item
    without a usable text gets ``topic`` None and an ``error`` (a dataframe has an ``error``
    column, None where all went well). ``allow_none=True``: ``topic`` None for a text outside the
    model's topics, and a ``p_none`` column (``"none"`` among the probabilities).
    """
    try:
        import dask.bag as db
        import dask.dataframe as dd
    except ImportError as exc:
        raise ImportError(
            f"nlpkit.dask needs Dask ({exc}): install it with pip install '.[dask]' in nlpkit's source folder, or pip install 'dask[dataframe,distributed]'"
        ) from None

    from . import load

    check_flag("allow_none", allow_none)
    if not isinstance(data, (dd.DataFrame, db.Bag)):
        raise TypeError(f"expected a dask DataFrame or Bag, got {type(data).__name__}")
    if isinstance(data, dd.DataFrame):
        for column in (text_column, title_column):
            if column is not None and column not in data.columns:
                raise ValueError(f"no column {column!r} in the dataframe")
    predictor = model if isinstance(model, Predictor) else load(model)
    if allow_none:
        predictor.predict_proba([], allow_none=True)  # a model without none says so here
    ref = _model_reference(predictor)
    if isinstance(data, dd.DataFrame):
        meta = data._meta.assign(
            topic=data._meta[text_column].astype(object),
            **{
                f"p_{t}": data._meta[text_column].astype(float)
                for t in _columns(predictor, allow_none)
            },
            error=data._meta[text_column].astype(object),
        )
        return data.map_partitions(
            _predict_frame,
            ref,
            text_column,
            title_column,
            allow_none,
            meta=meta,
            align_dataframes=False,
        )
    return data.map_partitions(_predict_items, ref, text_column, title_column, allow_none)
