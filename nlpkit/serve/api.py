"""What the service's JSON endpoints accept and answer, apart from any web framework.

Each request body is checked field by field: a wrong type, an empty text or a field the
endpoint does not know is a `RequestError` (HTTP 422) naming the field; a batch over the
limit is a 413. The answers are those of `Predictor.predict`, `predict_proba` and `explain`.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from ..batch import topic_of
from ..card import heldout_labels
from ..text import check_text
from .highlight import highlights
from .limits import Limits

if TYPE_CHECKING:
    from ..explanation import Explanation
    from ..predictor import Predictor

__all__ = [
    "RequestError",
    "parse_json",
    "predict",
    "explain",
    "explanation_json",
    "model_info",
]


class RequestError(Exception):
    """A request the service cannot answer: an HTTP status, a one-line message and, for a
    field with a wrong value, the field's name (``texts[3]`` for an item of a list)."""

    def __init__(self, status: int, message: str, field: str | None = None):
        super().__init__(message)
        self.status, self.message, self.field = status, message, field

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.message}
        if self.field is not None:
            out["field"] = self.field
        return out


def parse_json(body: bytes) -> dict[str, Any]:
    """The request's JSON object; 400 for a body that is not JSON, 422 for JSON that is not an
    object."""
    if not body.strip():
        raise RequestError(400, "empty body: send a JSON object")
    try:
        # (decoded first: json.loads of bytes takes UTF-16 and UTF-32 too, where a JSON body
        # is UTF-8; a UTF-8 byte-order mark, which JSON's readers may ignore, is)
        data = json.loads(body.decode("utf-8-sig"), object_pairs_hook=_one_each)
    except UnicodeDecodeError as exc:
        raise RequestError(400, f"body is not UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise RequestError(400, f"body is not valid JSON: {exc}") from None
    except RecursionError:
        raise RequestError(400, "body is JSON nested too deeply to read") from None
    except ValueError as exc:  # (an integer of more digits than Python reads: 4,300)
        raise RequestError(400, f"body is not JSON that can be read: {exc}") from None
    if not isinstance(data, dict):
        raise RequestError(422, f"body must be a JSON object, not {_kind(data)}")
    return data


def _one_each(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are each given once: a key given twice is read by one reader
    as its first value and by another as its last (Python's), an answer to a text the
    caller may not have meant."""
    out = dict(pairs)
    if len(out) < len(pairs):
        seen: set[str] = set()
        twice = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise RequestError(400, f"body gives the key {twice!r} twice: give each once")
    return out


def _kind(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)


def _only(data: dict[str, Any], known: tuple[str, ...]) -> None:
    unknown = [key for key in data if key not in known]
    if unknown:
        # A misspelt option ("allow-none") must not be ignored in silence.
        raise RequestError(
            422, f"unknown field {unknown[0]!r} (known: {', '.join(known)})", unknown[0]
        )


def _flag(data: dict[str, Any], name: str) -> bool:
    value = data.get(name, False)
    if type(value) is not bool:
        raise RequestError(422, f"{name} must be true or false, not {_kind(value)}", name)
    return value


def _text(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise RequestError(422, f"{field} must be a string, not {_kind(value)}", field)
    try:
        return check_text(value)
    except ValueError as exc:
        message = str(exc)  # "text is empty ...": say which text
        message = field + message[4:] if message.startswith("text ") else f"{field}: {message}"
        raise RequestError(422, message, field) from None


def _allow_none(data: dict[str, Any], predictor: Predictor) -> bool:
    allow_none = _flag(data, "allow_none")
    if allow_none and not predictor.none:
        raise RequestError(
            422,
            "allow_none: this model has no out-of-scope class (it was trained without none)",
            "allow_none",
        )
    return allow_none


def _texts(data: dict[str, Any], limits: Limits) -> tuple[list[str] | str, bool]:
    """The text, or list of texts, of a /predict request, and whether it is one ``text``.
    The texts themselves are checked by the predictor (`_check_texts` names the culprit)."""
    if ("text" in data) == ("texts" in data):
        raise RequestError(422, "give either 'text' (a string) or 'texts' (a list of strings)")
    if "text" in data:
        text = data["text"]
        if not isinstance(text, str):
            _text(text, "text")
        return text, True
    texts = data["texts"]
    if not isinstance(texts, list):
        raise RequestError(422, f"texts must be a list of strings, not {_kind(texts)}", "texts")
    if len(texts) > limits.max_batch:
        raise RequestError(
            413,
            f"texts: {len(texts)} texts is over the limit of {limits.max_batch} per request "
            "(send several requests)",
            "texts",
        )
    return texts, False


def _each_text(texts: list[str] | str, single: bool) -> None:
    """Raise the error of the first unusable text, named as its field (``texts[3]``)."""
    for i, text in enumerate([texts] if single else texts):
        _text(text, "text" if single else f"texts[{i}]")


def _check_texts(texts: list[str] | str, single: bool, exc: Exception) -> RequestError:
    """The error to answer for texts the predictor refused with ``exc``: the first bad one,
    named as its field."""
    _each_text(texts, single)
    return RequestError(422, str(exc), "text" if single else "texts")


def predict(predictor: Predictor, data: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """POST /predict: ``{"topic"}`` for a ``text``, ``{"topics"}`` for ``texts``; with
    ``"proba": true`` the probabilities too. The topic is null for a text out of scope
    (``"allow_none": true``)."""
    _only(data, ("text", "texts", "allow_none", "proba"))
    texts, single = _texts(data, limits)
    allow_none, proba = _allow_none(data, predictor), _flag(data, "proba")
    # The predictor checks every text as it reads it: checking them here first would cost as
    # much again on a batch of headlines. Only a refused request is read twice.
    try:
        if proba:
            probs = predictor.predict_proba(texts, 1, allow_none)
            if single:
                return {"topic": topic_of(probs), "probabilities": probs}
            return {"topics": [topic_of(p) for p in probs], "probabilities": probs}
        # Positional arguments: the compiled core answers such a call without a Python frame.
        topics = predictor.predict(texts, 1, allow_none)
    except (TypeError, ValueError) as exc:
        raise _check_texts(texts, single, exc) from None
    return {"topic": topics} if single else {"topics": topics}


def explain(predictor: Predictor, data: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """POST /explain: what `Predictor.explain` says (`explanation_json`) of a ``text``, or
    ``{"explanations": [...]}`` for ``texts``, in order."""
    _only(data, ("text", "texts", "k", "allow_none"))
    texts, single = _texts(data, limits)
    _each_text(texts, single)  # (before k, as a request of one text always was)
    k = data.get("k", 10)
    if type(k) is not int or not 1 <= k <= limits.max_k:
        raise RequestError(
            422, f"k must be a whole number from 1 to {limits.max_k}, not {json.dumps(k)}", "k"
        )
    allow_none = _allow_none(data, predictor)
    explained = predictor.explain(texts, k=k, allow_none=allow_none)
    if single:
        return explanation_json(explained, texts, predictor.max_chars)
    return {
        "explanations": [
            explanation_json(one, text, predictor.max_chars) for one, text in zip(explained, texts)
        ]
    }


def _term_pairs(key: str, value: object) -> list[tuple[str, float]]:
    """The (term, weight) pairs of a field of an explanation, if it is a list of terms."""
    if not isinstance(value, list):
        return []
    pairs = []
    for item in value:
        if isinstance(item, dict) and {"term", "weight"} <= item.keys():
            term, weight = item["term"], item["weight"]
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            term, weight = item
        else:
            return []
        if not isinstance(term, str) or not isinstance(weight, (int, float)):
            return []
        # A list of terms against the answer counts against it, however its weights are signed.
        pairs.append((term, -abs(weight) if "against" in key else float(weight)))
    return pairs


def explanation_json(
    explanation: Explanation, text: str, max_chars: int | None = None
) -> dict[str, Any]:
    """An explanation as JSON: its own fields (`Explanation.to_dict`), plus ``highlights``, the
    spans of ``text`` its terms cover (`nlpkit.serve.highlight.highlights`; within the first
    ``max_chars`` characters, which the model read): a positive weight pushed toward the
    answer, a negative one against it.

    Every list of terms among the fields is highlighted, so that a new field of terms (terms
    against the answer, say) shows on the page without a change here.
    """
    out = explanation.to_dict() if hasattr(explanation, "to_dict") else asdict(explanation)
    pairs: dict[str, float] = {}
    for key, value in out.items():
        for term, weight in _term_pairs(key, value):
            pairs.setdefault(term, weight)
    out["highlights"] = highlights(text, pairs.items(), max_chars)
    return out


# The model card's key figures: (manifest key under metrics.heldout, what it measures; the
# held-out part's labels are said as the card says them: the file's, weak or section labels).
FIGURES = {
    "hand": "hand-labelled held-out sample, four topics",
    "hand_none": "hand-labelled held-out sample, four topics and none (allow_none)",
    "hand_title_only": "the same four-topic sample, headlines alone",
    "distant": "held-out part against {labels}",
}


def model_info(predictor: Predictor, limits: Limits) -> dict[str, Any]:
    """GET /model: the model's name, topics, versions and key held-out figures, and the limits."""
    from .. import __version__

    manifest = predictor.manifest
    metrics = manifest.get("metrics", {})
    heldout = metrics.get("heldout", {})
    config = manifest.get("training_config")
    labels = heldout_labels(config, metrics) if config else "its labels"
    figures = {}
    for key, about in FIGURES.items():
        found = heldout.get(key)
        if isinstance(found, dict) and found.get("n"):
            figures[key] = {
                "about": about.format(labels=labels),
                **{name: found.get(name) for name in ("n", "accuracy", "macro_f1")},
            }
    return {
        "name": manifest.get("name", "unsaved"),
        "topics": list(predictor.topics),
        "allow_none": predictor.none,
        "max_chars": predictor.max_chars,
        "nlpkit_version": __version__,
        "trained_with": manifest.get("versions", {}),
        "corpus": manifest.get("corpus", {}).get("fingerprint"),
        "heldout": figures,
        "limits": limits.to_dict(),
    }
