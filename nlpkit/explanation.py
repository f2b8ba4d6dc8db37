"""`Explanation`: why a text got its topic, term by term, and its making (`Predictor.explain`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .predictor import Predictor

__all__ = ["Explanation", "explain"]


@dataclass(frozen=True)
class Explanation:
    """Why a text got its topic: the terms that pushed it toward the topic and away from the
    runner-up (``terms``, positive contributions to the score difference) and the terms that
    pushed it the other way (``against``, negative: what the answer overruled).

    The parts add up: ``margin`` (the topic's score minus the runner-up's) is the sum of the
    listed ``terms`` and ``against``, ``other_terms`` (the text's remaining terms together) and
    ``intercept`` (the difference of the two topics' intercepts: what the model says before
    reading a word).
    """

    # (its dicts and lists are not hashable: refused by its own name, not a dict's)
    __hash__ = None  # type: ignore[assignment]

    topic: str
    runner_up: str
    probabilities: dict[str, float]
    terms: list[tuple[str, float]]
    other_terms: float = 0.0
    intercept: float = 0.0
    margin: float = 0.0
    # What ``margin`` measures when it is not the difference of two topics' scores: a model
    # with an out-of-scope detector explains "none", as the answer or the runner-up, by the
    # detector's log-odds.
    measure: str | None = None
    # The terms that pushed against the answer, strongest first.
    against: list[tuple[str, float]] = field(default_factory=list)
    # What kind of thing a listed term names, in words, where the gazetteer knows it
    # ("los_angeles": "a foreign city or region"; `nlpkit.names`).
    kinds: dict[str, str] = field(default_factory=dict)
    # The listed terms of the text's title, which a model with ``repeat_title`` counts twice
    # (empty for a text of one line, all title, and for other models).
    in_title: frozenset[str] = frozenset()
    # The listed terms made where a title read twice meets itself (its last words, then its
    # first): counted by a model with ``repeat_title``, but not words of the text.
    title_seam: frozenset[str] = frozenset()
    # What the two lists of terms argue for and against, when not the topic and the runner-up:
    # a detector's terms argue for or against being in scope, for no topic in particular.
    sides: tuple[str, str] | None = None

    def _named(self, pairs: list[tuple[str, float]]) -> list[tuple[str, float]]:
        named = []
        for t, w in pairs:
            notes = [self.kinds[t]] if t in self.kinds else []
            if t in self.in_title:
                notes.append("in the title, counted twice")
            if t in self.title_seam:
                notes.append("the title's end, then its start: the title read twice")
            named.append((f"{t} ({'; '.join(notes)})" if notes else t, w))
        return named

    def _entry(self, term: str, weight: float) -> dict[str, Any]:
        return {
            "term": term,
            "weight": weight,
            "kind": self.kinds.get(term),
            "in_title": term in self.in_title,
            "title_seam": term in self.title_seam,
        }

    def __str__(self) -> str:
        terms, against = self._named(self.terms), self._named(self.against)
        rest = [("rest of the text", self.other_terms), ("(intercept)", self.intercept)]
        width = max(len(term) for term, _ in [*terms, *against, *rest])
        pro, con = self.sides or (self.topic, self.runner_up)
        lines = [
            f"topic: {self.topic} ({self.probabilities[self.topic]:.3f}); "
            f"runner-up: {self.runner_up} ({self.probabilities[self.runner_up]:.3f})",
            f"{self.measure or f'score of {self.topic} minus score of {self.runner_up}'}: "
            f"{self.margin:+.4f}, made of",
            f" for {pro}:",
        ]
        lines += [
            f"  {term:<{width}}  {weight:+.4f}" for term, weight in terms or [("(none)", 0.0)]
        ]
        lines.append(f" against {pro} (for {con}):")
        lines += [
            f"  {term:<{width}}  {weight:+.4f}" for term, weight in against or [("(none)", 0.0)]
        ]
        lines.append(" the rest:")
        lines += [f"  {term:<{width}}  {weight:+.4f}" for term, weight in rest]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        pro, con = self.sides or (self.topic, self.runner_up)
        return {
            "topic": self.topic,
            "runner_up": self.runner_up,
            "probabilities": self.probabilities,
            "margin": self.margin,
            "terms": [self._entry(t, w) for t, w in self.terms],
            "against": [self._entry(t, w) for t, w in self.against],
            "other_terms": self.other_terms,
            "intercept": self.intercept,
            "measure": self.measure,
            # (what ``terms`` argue for and ``against`` against: the topic and the runner-up,
            # or, where an out-of-scope detector decides, none and being in scope)
            "sides": {"for": pro, "against": con},
        }


def explain(model: Predictor, text: str, k: int, allow_none: bool) -> Explanation:
    """`Predictor.explain` of one checked text: its topic against the runner-up, the next most
    probable answer (or, where a detector's none is one of the two, the detector's log-odds),
    and the terms on each side."""
    import numpy as np

    from .names import describe

    names = model._columns(allow_none)
    doc, col, w = model._weights([text])
    all_scores = model._scores(doc, col, w, 1)
    probs = model._probabilities(all_scores, allow_none)[0]
    n = len(model.topics)
    detector = model._detects(allow_none)
    # Topics are explained against the runner-up topic (or class); a detector's none by its
    # own log-odds, against the best topic.
    scores = all_scores[0, :n] if detector else all_scores[0, : len(names)]
    order = np.argsort(-scores, kind="stable")
    top, runner = int(order[0]), int(order[1])
    measure, sides = None, None
    if allow_none and not len(col):
        # (every topic at 0: the runner-up is the first of them, as the page's bars list them)
        top, runner = len(names) - 1, 0
        contrib, intercept, margin = np.zeros(0), 0.0, 0.0
        measure = "no term of the text is known to the model: no evidence for any topic"
    elif detector and int(probs.argmax()) == n:
        top, runner = n, int(order[0])
        contrib = w * model.coef[n, col]
        intercept, margin = model.intercept[n], all_scores[0, n]
        measure = "log-odds that the text is out of scope (the detector's score)"
        sides = ("none", "being in scope")
    elif detector and probs[n] > probs[runner]:
        # A topic, with none the nearest answer: what kept the text in scope is the
        # detector's score, the other way round (the runner-up topic was never close).
        runner = n
        contrib = -w * model.coef[n, col]
        intercept, margin = -model.intercept[n], -all_scores[0, n]
        measure = "log-odds that the text is in scope (minus the detector's score)"
        sides = ("being in scope", "none")
    else:
        contrib = w * (model.coef[top, col] - model.coef[runner, col])
        intercept = model.intercept[top] - model.intercept[runner]
        margin = all_scores[0, top] - all_scores[0, runner]
    # Both sides: the terms that pushed most toward the answer, and those that pushed most
    # against it, so that a reader sees what was overruled.
    order = np.argsort(-contrib, kind="stable")
    best = [i for i in order[:k] if contrib[i] > 0]
    worst = [i for i in order[::-1][:k] if contrib[i] < 0]
    terms = [(model._tfidf.terms_[col[i]], float(contrib[i])) for i in best]
    against = [(model._tfidf.terms_[col[i]], float(contrib[i])) for i in worst]
    listed = float(contrib[best].sum() + contrib[worst].sum()) if best or worst else 0.0
    kinds = {term: kind for term, _ in terms + against if (kind := describe(term))}
    in_title, seam = model._title_terms(text, [t for t, _ in terms + against])
    return Explanation(
        in_title=in_title,
        title_seam=seam,
        topic=names[top],
        runner_up=names[runner],
        probabilities=dict(zip(names, map(float, probs))),
        terms=terms,
        against=against,
        other_terms=float(contrib.sum()) - listed,
        intercept=float(intercept),
        margin=float(margin),
        measure=measure,
        sides=sides,
        kinds=kinds,
    )
