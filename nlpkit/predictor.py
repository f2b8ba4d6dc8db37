"""The `Predictor`: a loaded model that files texts under topics and says why.

A string in gives one answer; a list in gives a list, in order, computed as one batch.
The model is linear (TF-IDF features, one weight vector and intercept per topic, probabilities
the softmax of the scores at a stored temperature), so after segmentation a prediction is a
weighted sum over the text's terms, and every decision can be explained term by term.
"""

from __future__ import annotations

import numbers
import warnings
from array import array
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, overload

from . import compiled
from .arguments import check_count, check_flag
from .modelfile import MAX_CHARS_LIMIT, NONE_HEADS, TEMPERATURE_RANGE
from .topics import check_topics
from .vocabulary import Vocabulary, analyze, as_array, float64, log_tf, with_title

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np

    from .explanation import Explanation
    from .text import Texts
else:
    Texts = Sequence[str]  # (at run time; to a type checker, numpy's arrays too: nlpkit.text)

# numpy, scikit-learn and the Python text path are imported by the calls that need them: a
# prediction on the compiled core needs none of them, and importing numpy alone takes longer
# than loading the model and answering.

__all__ = ["Predictor", "Explanation"]


def __getattr__(name: str) -> Any:
    # Explanation has its own module, imported when an explanation is asked for (dataclasses
    # imports inspect, which a prediction does not need).
    if name == "Explanation":
        from .explanation import Explanation

        return Explanation
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Below this many texts, starting processes costs more than it saves.
_MIN_PARALLEL = 2000
_worker_predictor: Predictor | None = None


def _set_worker_predictor(predictor: Predictor) -> None:
    global _worker_predictor
    _worker_predictor = predictor


def _worker_scores(texts: list[str]) -> np.ndarray:
    assert _worker_predictor is not None
    return _worker_predictor._scores_of(texts)


def _temperature(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"temperature must be a number, got {value!r} ({type(value).__name__})")
    low, high = TEMPERATURE_RANGE
    # (NaN is within no range: refused too)
    if not low <= value <= high:
        raise ValueError(f"temperature must be a number from {low:g} to {high:g}, got {value!r}")
    return float(value)


def _max_chars(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"max_chars must be a whole number or None (all), got {value!r} "
            f"({type(value).__name__})"
        )
    if not 1 <= value <= MAX_CHARS_LIMIT:
        raise ValueError(
            f"max_chars must be from 1 to {MAX_CHARS_LIMIT:,}, or None (all), got {value!r}"
        )
    return int(value)


def _finite(name: str, values: Any) -> None:
    # NaN or infinite weights give every text the same answer, without a word.
    from .npyfile import all_finite

    if not all_finite(values):
        raise ValueError(f"{name} holds NaN or infinite numbers")


def _n_terms(features: Any) -> int:
    n_terms = getattr(features, "n_terms_", None)
    if n_terms is None:
        terms = getattr(features, "terms_", None)
        if terms is None:
            raise ValueError(
                f"features must be fitted (a fitted TfidfFeatures or Vocabulary), got a "
                f"{type(features).__name__} without terms"
            )
        n_terms = len(terms)
    return n_terms


def _read_only(values: np.ndarray) -> np.ndarray:
    view = values.view()
    view.flags.writeable = False
    return view


def _own_copy(values: Any) -> np.ndarray:
    import numpy as np

    if isinstance(values, memoryview) and values.format == "d":
        values = np.asarray(values)
    return np.array(values, dtype=np.float64)


def _fit_weights(coef: Any, intercept: Any, n_classes: int, n_terms: int) -> None:
    shapes = tuple(coef.shape), tuple(intercept.shape)
    if shapes != ((n_classes, n_terms), (n_classes,)):
        raise ValueError(
            f"weights of shape {shapes[0]} and {shapes[1]} do not fit "
            f"{n_classes} classes and {n_terms} terms"
        )


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by each row's maximum so that no exponent overflows."""
    import numpy as np

    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


class Predictor:
    """A topic model ready to predict: features, linear weights and the topic names.

    Use `nlpkit.load(path)` to get one from a model folder; the module-level `nlpkit.predict`
    uses the shipped default model. ``features`` is a fitted `nlpkit.features.TfidfFeatures`
    or its plain-data `nlpkit.vocabulary.Vocabulary` (what model folders load, without
    scikit-learn); the ``features`` attribute is always the estimator, built when asked for.
    Predictions go through the compiled core when it is built (`nlpkit.compiled`), with the
    same results as the pure-Python path.

    A model that knows out of scope (``none``: its weights are the last row) answers with one
    of its topics by default, as a topic classifier is expected to; with ``allow_none=True`` it
    answers None for a text that is none of them, and its probabilities gain a ``"none"``
    entry. The last row is either a fifth class of one softmax (``none_head="class"``) or an
    out-of-scope detector (``none_head="detector"``): the log-odds that the text is out of
    scope, whatever its topic, so that the topics' rows are those of a model of the topics
    alone and the default answers do not change with it. A detector's probability of none is
    the sigmoid of its score, and the topics share the rest as their softmax says.
    """

    def __init__(
        self,
        features: Any,
        coef: np.ndarray,
        intercept: np.ndarray,
        topics: Sequence[str],
        max_chars: int = 5000,
        manifest: dict[str, Any] | None = None,
        segment: bool = True,
        temperature: float = 1.0,
        none: bool = False,
        none_head: str = "class",
    ):
        # What is made at first use, set first and always as attributes (never through
        # __dict__, which makes every attribute of the object slower to read): predict reads
        # them on a path of a few microseconds.
        self._scorer_ = self._fast_ = self._coef_t_ = None
        # Numpy arrays, or the float64 memoryviews of a model folder (made numpy arrays when
        # something asks for `coef` or `intercept`; the compiled core reads them as they are).
        coef, intercept = float64(coef), float64(intercept)
        _fit_weights(coef, intercept, len(topics) + bool(none), _n_terms(features))
        # (a model folder's weights, memoryviews, were checked as they were read)
        for name, values in (("coef", coef), ("intercept", intercept)):
            if not isinstance(values, memoryview):
                _finite(name, values)
        # What transforms texts: the plain-data vocabulary where its settings are known (the
        # compiled core reads it too), else the given transformer itself.
        if isinstance(features, Vocabulary):
            self._features, self._tfidf = None, features
        else:
            self._features = features
            self._tfidf = _vocabulary_of(features) or features
        self._coef, self._intercept = coef, intercept
        self._none = check_flag("none", none)
        self.topics = topics
        self.none_head = none_head if self._none else "class"
        self.max_chars = max_chars
        self.manifest = {} if manifest is None else manifest
        self.segment = segment
        # Probabilities are softmax(temperature * scores): 1 for models whose scores are
        # log-probabilities already (logistic regression, naive Bayes); fitted for margins (SVM).
        self.temperature = temperature

    @property
    def temperature(self) -> float:
        """Probabilities are softmax(temperature * scores)."""
        return self._temperature

    @temperature.setter
    def temperature(self, temperature: float) -> None:
        self._temperature = _temperature(temperature)

    def save(self, path: str | Path) -> Path:
        """Write the model as a folder that `nlpkit.load` reads (atomically), with the card
        and figures of its training when it has them; returns the path. The folder is new or
        empty, or a model folder, which it replaces; a folder that holds anything else is
        refused (`FileExistsError`), as replacing it would delete what it holds."""
        from .modelfile import save_model

        return save_model(self, path)

    def __repr__(self) -> str:
        name = self.manifest.get("name", "unsaved")
        return (
            f"<nlpkit.Predictor {name!r}: {', '.join(self.classes)}; {self._coef.shape[1]} terms>"
        )

    @property
    def topics(self) -> tuple[str, ...]:
        """The topics' names, in the order of the weights' rows (renamed by setting them: as
        many names, all distinct, none of them "none")."""
        return self._topics

    @topics.setter
    def topics(self, topics: Sequence[str]) -> None:
        topics = check_topics(topics)
        rows = len(topics) + self._none
        if rows != self._coef.shape[0]:
            raise ValueError(
                f"{len(topics)} topics{' and none' if self._none else ''} for weights of "
                f"{self._coef.shape[0]} rows: topics can be renamed, not added or removed"
            )
        self._topics = topics
        self._drop_scorer()

    @property
    def none(self) -> bool:
        """Whether the model knows out of scope (its weights' last row); fixed by the weights."""
        return self._none

    @property
    def classes(self) -> tuple[str, ...]:
        """The classes of the weights' rows: the topics, then "none" when the model has it."""
        return self._topics + (("none",) if self._none else ())

    @property
    def none_head(self) -> str:
        """How out of scope is told: "class" (its row is a class like the topics') or
        "detector" (its row is a detector's, against all the topics)."""
        return self._none_head

    @none_head.setter
    def none_head(self, none_head: str) -> None:
        if none_head not in NONE_HEADS:
            raise ValueError(f"none_head must be one of {NONE_HEADS}, got {none_head!r}")
        if none_head == "detector" and not self._none:
            raise ValueError("none_head 'detector' needs a model with out of scope (none)")
        self._none_head = none_head

    @property
    def manifest(self) -> dict[str, Any]:
        """What the model's folder says of it (name, training, figures): a dict."""
        return self._manifest

    @manifest.setter
    def manifest(self, manifest: dict[str, Any]) -> None:
        if not isinstance(manifest, dict):
            raise TypeError(f"manifest must be a dict, got {type(manifest).__name__}")
        self._manifest = manifest

    @property
    def coef(self) -> np.ndarray:
        """The weights, one row per class (the topics, then none), one column per term: a
        read-only view (the scorers keep copies of their own, which an edit in place would
        not reach); set ``coef`` to change them."""
        self._coef = as_array(self._coef)
        return _read_only(self._coef)

    @coef.setter
    def coef(self, coef: np.ndarray) -> None:
        # (a copy: the caller's array, changed later, would bypass the checks)
        coef = _own_copy(coef)
        _fit_weights(coef, self._intercept, len(self.classes), _n_terms(self._tfidf))
        _finite("coef", coef)
        self._coef = coef
        self._drop_scorer()
        self._coef_t_ = None

    @property
    def intercept(self) -> np.ndarray:
        """The intercepts, one per class: a read-only view, as `coef`."""
        self._intercept = as_array(self._intercept)
        return _read_only(self._intercept)

    @intercept.setter
    def intercept(self, intercept: np.ndarray) -> None:
        intercept = _own_copy(intercept)
        _fit_weights(self._coef, intercept, len(self.classes), _n_terms(self._tfidf))
        _finite("intercept", intercept)
        self._intercept = intercept
        self._drop_scorer()

    @property
    def features(self) -> Any:
        """The fitted `TfidfFeatures` (a scikit-learn estimator), built at first use for a
        model loaded from a folder."""
        if self._features is None:
            from .features import TfidfFeatures

            self._features = TfidfFeatures.of(self._tfidf)
        return self._features

    @features.setter
    def features(self, features: Any) -> None:
        tfidf = _vocabulary_of(features) or features
        # (checked now, as the weights are: else the next predict would fail, far from here)
        _fit_weights(self._coef, self._intercept, len(self.classes), _n_terms(tfidf))
        self._features, self._tfidf = features, tfidf
        self._drop_scorer()

    @property
    def _coef_t(self) -> np.ndarray:
        # One contiguous row of topic weights per term: the pure-Python path gathers the rows
        # of each text's terms. Made at first use: the compiled core keeps its own.
        coef_t = self._coef_t_
        if coef_t is None:
            import numpy as np

            coef_t = self._coef_t_ = np.ascontiguousarray(self.coef.T)
        return coef_t

    @property
    def max_chars(self) -> int | None:
        """How many characters of a text are read (its start; None: all of it)."""
        return self._max_chars

    @max_chars.setter
    def max_chars(self, max_chars: int | None) -> None:
        self._max_chars = _max_chars(max_chars)
        self._drop_scorer()

    @property
    def segment(self) -> bool:
        """Whether texts are word-segmented (False: the raw-syllable models of experiments)."""
        return self._segment

    @segment.setter
    def segment(self, segment: bool) -> None:
        self._segment = check_flag("segment", segment)
        self._drop_scorer()

    def _scorer(self):
        """The compiled scorer of this model, or None where the pure-Python path predicts
        (no compiled core, NLPKIT_PURE set, raw-syllable models, unknown feature settings)."""
        # Made at first use, from the weights and settings as they are then; setting them
        # again drops it.
        scorer = self._scorer_
        if scorer is not None and compiled.core is not None:
            return scorer
        if compiled.core is None or not self.segment or not isinstance(self._tfidf, Vocabulary):
            return None
        scorer = _compiled_scorer(
            self._tfidf, self._coef, self._intercept, self.max_chars, self.topics
        )
        self._scorer_ = scorer
        self._fast_ = scorer.topic
        return scorer

    def _drop_scorer(self) -> None:
        self._scorer_ = None
        # predict's one call into the core for a text or a list: the scorer's bound `topic`,
        # kept beside it so that predict (the core's method, or this class's) reads one
        # attribute, not two
        self._fast_ = None

    def __getstate__(self) -> dict[str, Any]:
        # The compiled scorer stays in its process (workers and Dask make their own); the
        # transposed weights are cheaper to rebuild than to send.
        state = dict(self.__dict__)
        state["_scorer_"] = state["_fast_"] = state["_coef_t_"] = None
        # A model folder's weights are memoryviews, which do not pickle: numpy arrays do.
        state["_coef"], state["_intercept"] = self.coef, self.intercept
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        # (pickled before these were checked settings: plain attributes then)
        for name in ("temperature", "topics", "none", "none_head", "manifest"):
            if name in state:
                state["_" + name] = state.pop(name)
        state.pop("classes", None)
        if "_topics" in state:
            state["_topics"] = tuple(state["_topics"])
        self.__dict__.update(state)

    # -- input handling -------------------------------------------------------------------

    @staticmethod
    def _as_batch(texts: str | Texts) -> tuple[list[str], bool]:
        from .text import check_batch, check_text

        if isinstance(texts, str):
            return [check_text(texts)], True
        return check_batch(texts), False

    def _prepare(self, batch: list[str]) -> list[str]:
        # The main subject of a news text is set out at its start; reading a bounded prefix of
        # its content keeps time and memory bounded for pasted archives and scraped pages.
        from .text import prepare

        return [prepare(text, segment=self.segment, max_chars=self.max_chars) for text in batch]

    def scores_prepared(self, segmented: list[str]) -> np.ndarray:
        """Linear scores (texts x topics) of already prepared (segmented) texts."""
        scorer = self._scorer()
        if scorer is None:
            return self._scores(*self._tfidf.weights(segmented), len(segmented))
        return self._compiled_scores(scorer, segmented, prepared=True)

    def _scores_of(self, batch: list[str]) -> np.ndarray:
        """Linear scores of checked raw texts: compiled where the core is built."""
        scorer = self._scorer()
        if scorer is None:
            return self.scores_prepared(self._prepare(batch))
        return self._compiled_scores(scorer, batch)

    def _compiled_scores(self, scorer, texts, prepared: bool = False) -> np.ndarray:
        import numpy as np

        scores = np.empty((len(texts), len(self.classes)))
        todo = scorer.scores(texts, scores, prepared)
        if todo is None:  # an invalid text: the Python path says which and why
            self._as_batch(texts)
            todo = range(len(texts))
        if todo:
            # The few texts the core leaves to Python (no syllable at all, or a term repeated
            # beyond its table of logarithms): the same results, computed by the reference.
            rest = [texts[i] for i in todo]
            rest = rest if prepared else self._prepare(rest)
            scores[list(todo)] = self._scores(*self._tfidf.weights(rest), len(rest))
        return scores

    def _scores(self, doc: np.ndarray, col: np.ndarray, w: np.ndarray, n: int) -> np.ndarray:
        # Straight from the flat TF-IDF arrays: no sparse matrix to build and check, which on
        # one short text costs more than the arithmetic.
        import numpy as np

        contrib = self._coef_t[col] * w[:, None]
        scores = np.empty((n, len(self.classes)))
        for k in range(len(self.classes)):
            scores[:, k] = np.bincount(doc, weights=contrib[:, k], minlength=n)
        return scores + self.intercept

    def _weights(self, batch: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """TF-IDF weights (text, column, weight) of one checked raw text."""
        scorer = self._scorer()
        found = scorer.weights(batch[0]) if scorer is not None else None
        if found is None:
            return self._tfidf.weights(self._prepare(batch))
        import numpy as np

        col = np.array(found[0], dtype=np.int64)
        return np.zeros(len(col), dtype=np.int64), col, np.array(found[1], dtype=np.float64)

    def _title_terms(self, text: str, terms: list[str]) -> tuple[frozenset[str], frozenset[str]]:
        """Where the model counts a title's terms twice (``repeat_title``), those of ``terms``
        that the text's title holds (when the text has more than its title), and those made
        only at the seam of the title read twice (its last words, then its first: terms the
        text itself does not hold)."""
        if not getattr(self._tfidf, "repeat_title", False):
            return frozenset(), frozenset()
        prepared, ngrams = self._prepare([text])[0], tuple(self._tfidf.ngram_range)
        title, newline, rest = prepared.partition("\n")
        in_title = set(analyze(title, ngrams))
        # A seam's n-grams lie within the title's two copies when the title has n - 1 words or
        # more; then the whole text is read only when one of them is among ``terms`` (rarely),
        # to see whether the text holds it too.
        short = not in_title or (ngrams[1] > 2 and len(analyze(title, (1, 1))) < ngrams[1] - 1)
        read_twice = with_title(prepared if short else title)
        seam = (set(analyze(read_twice, ngrams)) - in_title) & set(terms)
        if seam:
            seam -= set(analyze(prepared, ngrams))
        if not newline or not rest.strip():
            return frozenset(), frozenset(seam)
        return frozenset(terms) & in_title, frozenset(seam)

    def to_pipeline(self, allow_none: bool = False) -> Any:
        """The same model as a fitted scikit-learn `Pipeline` (segment, features, classifier),
        for research use; `nlpkit.joblib_export.export_joblib` saves it. Its answers and
        probabilities are those of `predict` and `predict_proba` with the same ``allow_none``:
        by default the topics', with ``allow_none=True`` none's too (a model with none as a
        class; a detector's sigmoid beside the topics' softmax is no one scikit-learn
        classifier). One exception: with ``allow_none=True``, a text with no known term is
        None for `predict` whatever the intercepts favour, where the pipeline's classifier
        answers what its intercepts favour."""
        check_flag("allow_none", allow_none)
        names = self._columns(allow_none)
        if self._detects(allow_none):
            raise ValueError(
                "a model with an out-of-scope detector is two linear models (the topics' softmax "
                "and the detector's sigmoid), which no one scikit-learn classifier holds: "
                "export it with allow_none=False for its topics"
            )
        import numpy as np
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline

        from .features import Segmenter

        rows = len(names)
        clf = LogisticRegression()
        # A fitted multinomial logistic regression is exactly these arrays: its predict_proba
        # is the softmax of X @ coef_.T + intercept_, as in `predict_proba` here.
        clf.classes_ = np.asarray(names, dtype=object)
        # Scaling the weights by the temperature keeps the argmax and gives the same softmax.
        clf.coef_ = self.temperature * self.coef[:rows]
        clf.intercept_ = self.temperature * self.intercept[:rows]
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

    def _columns(self, allow_none: bool) -> tuple[str, ...]:
        """The classes a decision is made among (the first columns of the scores)."""
        if not allow_none:
            return self.topics
        if not self.none:
            raise ValueError(
                f"model {self.manifest.get('name', 'unsaved')!r} has no out-of-scope class: it "
                "always answers with a topic (allow_none needs a model trained with none)"
            )
        return self.classes

    @overload
    def predict(  # type: ignore[overload-overlap]
        self, texts: str, n_jobs: int = 1, allow_none: bool = False
    ) -> str | None: ...
    @overload
    def predict(
        self, texts: Texts, n_jobs: int = 1, allow_none: bool = False
    ) -> list[str | None]: ...

    def predict(
        self, texts: str | Texts, n_jobs: int = 1, allow_none: bool = False
    ) -> str | None | list[str | None]:
        """The topic of a text (str), or the topics of a list of texts (list, same order).

        ``n_jobs > 1`` spreads a large list over that many processes, in chunks; the answers
        and their order are the same. ``allow_none=True``: None for a text that is out of scope
        (a model trained with a ``none`` class).
        """
        fast = self._fast_
        if fast is not None and compiled.core is not None:
            # The commonest calls (a text or a list of texts, topics) in one call into the
            # core, which says None to anything else. (On the compiled core, a call without
            # keywords comes here only when the core's own predict, below, leaves it to Python.)
            topic = fast(texts, n_jobs, allow_none)
            if topic is not None:
                return topic
        check_flag("allow_none", allow_none)
        names = self._columns(allow_none)
        scorer = self._scorer() if n_jobs == 1 and type(n_jobs) is int else None
        if scorer is not None and not allow_none:
            # One call into the core for the whole answer, no Python per text. (With
            # allow_none the answer also asks whether a text has any known term: below.)
            among = len(names)
            if isinstance(texts, str):
                found = scorer.predict_one(texts, among)
                if found >= 0:
                    return names[found]
            elif type(texts) in (list, tuple):
                found = scorer.predict(texts, among)
                if found is not None:
                    if -1 in found:
                        rest = [i for i, j in enumerate(found) if j < 0]
                        scores = self._scores_of([texts[i] for i in rest])
                        for i, j in zip(rest, self._decide(scores, False).tolist()):
                            found[i] = j
                    return [names[i] for i in found]
        batch, single = self._as_batch(texts)
        if not batch:
            check_count("n_jobs", n_jobs)  # (checked as for a list with texts)
            return []
        best = self._decide(self._batch_scores(batch, n_jobs), allow_none)
        topics = [self._answer(names[i], allow_none) for i in best]
        return topics[0] if single else topics

    def _detects(self, allow_none: bool) -> bool:
        return allow_none and self.none_head == "detector"

    def _probabilities(self, scores: np.ndarray, allow_none: bool) -> np.ndarray:
        """Probabilities of the classes of `_columns` from the linear scores of all rows."""
        import numpy as np

        n = len(self.topics)
        if self._detects(allow_none):
            # sigmoid(z) and 1 - sigmoid(z), without overflow for large |z|.
            z = scores[:, n]
            p_none, p_scope = np.exp(-np.logaddexp(0.0, -z)), np.exp(-np.logaddexp(0.0, z))
            topics = softmax(self.temperature * scores[:, :n]) * p_scope[:, None]
            probs = np.column_stack([topics, p_none])
        else:
            probs = softmax(self.temperature * scores[:, : len(self._columns(allow_none))])
        if allow_none:
            # A text with no term the model knows ('12345', emoji, another language) has no
            # evidence for any topic: the intercepts alone would name the commonest one.
            blind = self._no_evidence(scores)
            probs[blind] = 0.0
            probs[blind, -1] = 1.0
        return probs

    def _no_evidence(self, scores: np.ndarray) -> np.ndarray:
        """Rows whose scores are the intercepts exactly: texts with no known term (every term
        of a model moves some score, so no mix of known terms gives the intercepts back)."""
        return (scores == self.intercept).all(axis=1)

    def _decide(self, scores: np.ndarray, allow_none: bool) -> np.ndarray:
        """The index, in `_columns`, of each text's answer, from the linear scores of all rows."""
        if self._detects(allow_none):
            return self._probabilities(scores, allow_none).argmax(axis=1)
        best = scores[:, : len(self._columns(allow_none))].argmax(axis=1)
        if allow_none:
            best[self._no_evidence(scores)] = len(self.classes) - 1
        return best

    @staticmethod
    def _answer(name: str, allow_none: bool) -> str | None:
        return None if allow_none and name == "none" else name

    @overload
    def predict_proba(  # type: ignore[overload-overlap]
        self, texts: str, n_jobs: int = 1, allow_none: bool = False
    ) -> dict[str, float]: ...
    @overload
    def predict_proba(
        self, texts: Texts, n_jobs: int = 1, allow_none: bool = False
    ) -> list[dict[str, float]]: ...

    def predict_proba(
        self, texts: str | Texts, n_jobs: int = 1, allow_none: bool = False
    ) -> dict[str, float] | list[dict[str, float]]:
        """Probabilities per topic (summing to 1) for a text, or a list of them for a list;
        ``n_jobs`` as in `predict`. ``allow_none=True`` adds the probability of ``"none"``
        (out of scope), the five summing to 1; without it, the topics' probabilities are
        those of a text known to be in scope."""
        names = self._columns(check_flag("allow_none", allow_none))
        batch, single = self._as_batch(texts)
        if not batch:
            check_count("n_jobs", n_jobs)
            return []
        probs = self._probabilities(self._batch_scores(batch, n_jobs), allow_none)
        out = [dict(zip(names, map(float, row))) for row in probs]
        return out[0] if single else out

    def _proba_cp(
        self, data: bytes, bounds: bytes, allow_none: bool = False
    ) -> tuple[tuple[str, ...], np.ndarray, dict[int, str]] | None:
        """`predict_proba` of texts given as code points, the compiled core's form (what
        ``nlpkit._core.json_lines`` makes of JSON lines, never made str objects): text i is
        ``data[bounds[i]:bounds[i + 1]]`` (4 bytes a code point in the machine's order; bounds:
        int64). Returns the class names, their probabilities (a row a text, the same numbers
        `predict_proba` gives) and the message of each text that has none (nothing to read),
        by position; None where the compiled core does not predict for this model."""
        scorer = self._scorer()
        if scorer is None or not hasattr(scorer, "scores_cp"):
            return None
        import sys

        import numpy as np

        from .text import check_text

        names = self._columns(check_flag("allow_none", allow_none))
        scores = np.empty((len(bounds) // 8 - 1, len(self.classes)))
        failed: dict[int, str] = {}
        # (the core lets other threads run while it scores: a stream reads and writes meanwhile)
        todo = scorer.scores_cp(data, bounds, scores)
        if todo:
            # The few the core leaves to Python (nothing to read, no syllable): as str.
            at = memoryview(bounds).cast("q")
            codec = "utf-32-le" if sys.byteorder == "little" else "utf-32-be"
            texts = {
                i: bytes(data[4 * at[i] : 4 * at[i + 1]]).decode(codec, "surrogatepass")
                for i in todo
            }
            for i, text in texts.items():
                try:
                    check_text(text)
                    scores[i] = self._scores_of([text])[0]
                except (TypeError, ValueError) as exc:
                    failed[i] = str(exc)
                    scores[i] = 0.0
        return names, self._probabilities(scores, allow_none), failed

    def _batch_scores(self, batch: list[str], n_jobs: int) -> np.ndarray:
        n_jobs = check_count("n_jobs", n_jobs)
        if n_jobs == 1 or len(batch) < _MIN_PARALLEL:
            return self._scores_of(batch)
        from .pools import may_start_processes

        if not may_start_processes():
            warnings.warn(
                f"n_jobs={n_jobs} in a daemonic process (a multiprocessing.Pool's worker), "
                "which may not start processes of its own: the texts are scored in this one",
                stacklevel=3,
            )
            return self._scores_of(batch)
        import multiprocessing as mp

        import numpy as np

        # Four chunks per process balance uneven text lengths; where processes fork, each
        # worker has the predictor as this process has it, not pickled.
        size = -(-len(batch) // (4 * n_jobs))
        chunks = [batch[i : i + size] for i in range(0, len(batch), size)]
        if "fork" in mp.get_all_start_methods():
            from .pools import run_forked

            return np.vstack(run_forked(self._scores_of, chunks, n_jobs))
        from concurrent.futures import ProcessPoolExecutor

        context = mp.get_context("spawn")
        with ProcessPoolExecutor(
            n_jobs, mp_context=context, initializer=_set_worker_predictor, initargs=(self,)
        ) as pool:
            return np.vstack(list(pool.map(_worker_scores, chunks)))

    @overload
    def explain(  # type: ignore[overload-overlap]
        self, texts: str, k: int = 10, allow_none: bool = False
    ) -> Explanation: ...
    @overload
    def explain(self, texts: Texts, k: int = 10, allow_none: bool = False) -> list[Explanation]: ...
    def explain(
        self, texts: str | Texts, k: int = 10, allow_none: bool = False
    ) -> Explanation | list[Explanation]:
        """The topic of a text and the ``k`` terms that pushed it most toward that topic and
        against the runner-up, with their contributions to the difference of the two scores;
        for a list of texts, a list of those, in order.

        With ``allow_none=True`` the topic may be ``"none"``: the terms then say why the text
        reads as out of scope rather than as its best topic."""
        k = check_count("k", k)
        check_flag("allow_none", allow_none)
        self._columns(allow_none)  # (a model without none says so, for an empty batch too)
        from .explanation import explain

        batch, single = self._as_batch(texts)
        explained = [explain(self, text, k, allow_none) for text in batch]
        return explained[0] if single else explained


def _vocabulary_of(features: Any) -> Vocabulary | None:
    """The plain-data vocabulary of a fitted `TfidfFeatures`, or None for any other
    transformer or settings `Vocabulary` does not know."""
    from .features import TfidfFeatures  # (imported already by whoever fitted the features)

    return features.to_vocabulary() if isinstance(features, TfidfFeatures) else None


def _compiled_scorer(
    vocabulary: Vocabulary,
    coef: Any,
    intercept: Any,
    max_chars: int | None,
    names: tuple[str, ...] | None = None,
) -> Any:
    """A compiled scorer for a linear model over a `Vocabulary`, on the process's compiled
    segmenter; the weights are float64 numpy arrays or memoryviews; ``names``, the topics its
    ``topic`` method answers with (the first rows'). A vocabulary file that is not one
    distinct, non-empty UTF-8 term per line is a ValueError naming the line."""
    # The sublinear tf values come from the same table as the Python path's. A term occurs
    # at most once per character read; a text with a count beyond the table goes to Python
    # (so a model reading millions of characters does not make a table of millions).
    size = min(max_chars if max_chars is not None else 1 << 16, 1 << 16) + 2
    low, high = vocabulary.ngram_range
    return compiled.core.Scorer(
        compiled.segmenter(),
        vocabulary._core_terms(),
        _contiguous(vocabulary._idf),
        _contiguous(coef),
        _contiguous(intercept),
        (int(low), int(high)),
        bool(vocabulary.sublinear_tf),
        max_chars,
        array("d", log_tf(size)),
        names,
        repeat_title=bool(vocabulary.repeat_title),
    )


def _contiguous(values: Any) -> Any:
    if isinstance(values, memoryview):  # a model file's, contiguous float64 already
        return values
    import numpy as np  # (imported already: the values are a numpy array)

    return np.ascontiguousarray(values, dtype=np.float64)


# On the compiled core, predict(texts) is a method of the core: the call users make most takes
# a few microseconds there, and a Python method's frame would add 0.3 µs to each. It answers
# what the method above answers (a call with keywords, or a text the core leaves to Python,
# goes to that method); the signature is the method's, for help() and inspect.
PREDICT_SIGNATURE = "($self, /, texts, n_jobs=1, allow_none=False)"
_python_predict = Predictor.predict
if compiled.core is not None:
    Predictor.predict = compiled.core.predict_method(  # type: ignore[method-assign]
        Predictor, _python_predict, PREDICT_SIGNATURE, compiled
    )
