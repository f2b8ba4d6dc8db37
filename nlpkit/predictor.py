"""The `Predictor`: a loaded model that files texts under topics and says why.

A string in gives one answer; a list in gives a list, in order, computed as one batch.
The model is linear (TF-IDF features, one weight vector and intercept per topic, softmax
probabilities), so prediction is a sparse matrix product after segmentation, and every
decision can be explained term by term.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np

from .features import TfidfFeatures
from .text import check_text, prepare

__all__ = ["Predictor", "Explanation"]


@dataclass(frozen=True)
class Explanation:
    """Why a text got its topic: the terms that pushed it toward the topic and away from the
    runner-up, each with its contribution to the score difference (positive: for the topic)."""

    topic: str
    runner_up: str
    probabilities: dict[str, float]
    terms: list[tuple[str, float]]

    def __str__(self) -> str:
        lines = [
            f"topic: {self.topic} ({self.probabilities[self.topic]:.3f}); "
            f"runner-up: {self.runner_up} ({self.probabilities[self.runner_up]:.3f})",
            f"terms for {self.topic} against {self.runner_up}:",
        ]
        width = max((len(term) for term, _ in self.terms), default=0)
        lines += [f"  {term:<{width}}  {weight:+.4f}" for term, weight in self.terms]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "runner_up": self.runner_up,
            "probabilities": self.probabilities,
            "terms": [{"term": t, "weight": w} for t, w in self.terms],
        }


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


class Predictor:
    """A topic model ready to predict: features, linear weights and the topic names.

    Use `nlpkit.load(path)` to get one from a model folder; the module-level `nlpkit.predict`
    uses the shipped default model.
    """

    def __init__(
        self,
        features: TfidfFeatures,
        coef: np.ndarray,
        intercept: np.ndarray,
        topics: Sequence[str],
        max_chars: int = 5000,
        manifest: dict[str, Any] | None = None,
        segment: bool = True,
        temperature: float = 1.0,
    ):
        coef = np.asarray(coef, dtype=np.float64)
        intercept = np.asarray(intercept, dtype=np.float64)
        n_terms = len(features.terms_)
        if coef.shape != (len(topics), n_terms) or intercept.shape != (len(topics),):
            raise ValueError(
                f"weights of shape {coef.shape} and {intercept.shape} do not fit "
                f"{len(topics)} topics and {n_terms} terms"
            )
        self.features = features
        self.coef = coef
        # Column-major transposed copy: X @ coef_t is the hot operation of every prediction.
        self._coef_t = np.ascontiguousarray(coef.T)
        self.intercept = intercept
        self.topics = tuple(topics)
        self.max_chars = max_chars
        self.manifest = manifest or {}
        self.segment = segment
        # Probabilities are softmax(temperature * scores): 1 for models whose scores are
        # log-probabilities already (logistic regression, naive Bayes); fitted for margins (SVM).
        self.temperature = float(temperature)

    def __repr__(self) -> str:
        name = self.manifest.get("name", "unsaved")
        return f"<nlpkit.Predictor {name!r}: {', '.join(self.topics)}; {len(self.features.terms_)} terms>"

    # -- input handling -------------------------------------------------------------------

    @staticmethod
    def _as_batch(texts: str | Sequence[str]) -> tuple[list[str], bool]:
        if isinstance(texts, str):
            return [check_text(texts)], True
        if isinstance(texts, (bytes, bytearray)) or not isinstance(texts, Sequence):
            # Generators, sets and other iterables are refused too: a batch must keep its order.
            check_text(texts)  # raises the TypeError that names the type
        batch = list(texts)
        for i, text in enumerate(batch):
            try:
                check_text(text)
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"text #{i} of the batch: {exc}") from None
        return batch, False

    def _prepare(self, batch: list[str]) -> list[str]:
        # The main subject of a news text is set out at its start; reading a bounded prefix
        # keeps time and memory bounded for pasted archives and scraped pages of megabytes.
        return [prepare(text[: self.max_chars], segment=self.segment) for text in batch]

    def scores_prepared(self, segmented: list[str]):
        """Features and linear scores (texts x topics) of already prepared (segmented) texts."""
        X = self.features.transform(segmented)
        return X, np.asarray(X @ self._coef_t) + self.intercept

    def to_pipeline(self):
        """The same model as a fitted scikit-learn `Pipeline` (segment, features, classifier),
        for research use; `nlpkit.modelfile.export_joblib` saves it."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline

        from .features import Segmenter

        clf = LogisticRegression()
        # A fitted multinomial logistic regression is exactly these arrays: its predict_proba
        # is the softmax of X @ coef_.T + intercept_, as in `predict_proba` here.
        clf.classes_ = np.asarray(self.topics, dtype=object)
        # Scaling the weights by the temperature keeps the argmax and gives the same softmax.
        clf.coef_ = self.temperature * self.coef
        clf.intercept_ = self.temperature * self.intercept
        clf.n_features_in_ = self.coef.shape[1]
        clf.n_iter_ = np.zeros(1, dtype=np.int32)
        return Pipeline(
            [
                ("segment", Segmenter(max_chars=self.max_chars, segment=self.segment)),
                ("features", self.features),
                ("classifier", clf),
            ]
        )

    # -- public API -----------------------------------------------------------------------

    @overload
    def predict(self, texts: str) -> str: ...
    @overload
    def predict(self, texts: Sequence[str]) -> list[str]: ...

    def predict(self, texts):
        """The topic of a text (str), or the topics of a list of texts (list, same order)."""
        batch, single = self._as_batch(texts)
        if not batch:
            return []
        _, scores = self.scores_prepared(self._prepare(batch))
        topics = [self.topics[i] for i in scores.argmax(axis=1)]
        return topics[0] if single else topics

    @overload
    def predict_proba(self, texts: str) -> dict[str, float]: ...
    @overload
    def predict_proba(self, texts: Sequence[str]) -> list[dict[str, float]]: ...

    def predict_proba(self, texts):
        """Probabilities per topic (summing to 1) for a text, or a list of them for a list."""
        batch, single = self._as_batch(texts)
        if not batch:
            return []
        _, scores = self.scores_prepared(self._prepare(batch))
        probs = _softmax(self.temperature * scores)
        out = [dict(zip(self.topics, map(float, row))) for row in probs]
        return out[0] if single else out

    def explain(self, text: str, k: int = 10) -> Explanation:
        """The topic of ``text`` and the ``k`` terms that pushed it most toward that topic and
        against the runner-up, with their contributions to the difference of the two scores."""
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        batch, _ = self._as_batch(check_text(text))
        X, scores = self.scores_prepared(self._prepare(batch))
        order = np.argsort(-scores[0])
        top, runner = int(order[0]), int(order[1])
        row = X.getrow(0)
        contrib = row.data * (self.coef[top, row.indices] - self.coef[runner, row.indices])
        best = np.argsort(-contrib)[:k]
        terms = [(self.features.terms_[row.indices[i]], float(contrib[i])) for i in best]
        probs = _softmax(self.temperature * scores)[0]
        return Explanation(
            topic=self.topics[top],
            runner_up=self.topics[runner],
            probabilities=dict(zip(self.topics, map(float, probs))),
            terms=terms,
        )
