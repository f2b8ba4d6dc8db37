"""`Explanation`: why a text got its topic, term by term (`Predictor.explain`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Explanation"]


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

    topic: str
    runner_up: str
    probabilities: dict[str, float]
    terms: list[tuple[str, float]]
    other_terms: float = 0.0
    intercept: float = 0.0
    margin: float = 0.0
    # What ``margin`` measures when it is not the difference of two topics' scores: a model
    # with an out-of-scope detector explains "none" by the detector's log-odds.
    measure: str | None = None
    # The terms that pushed against the answer, strongest first.
    against: list[tuple[str, float]] = field(default_factory=list)
    # What kind of thing a listed term names, in words, where the gazetteer knows it
    # ("los_angeles": "a foreign city or region"; `nlpkit.names`).
    kinds: dict[str, str] = field(default_factory=dict)
    # The listed terms of the text's title, which a model with ``repeat_title`` counts twice
    # (empty for a text of one line, all title, and for other models).
    in_title: frozenset[str] = frozenset()

    def _named(self, pairs: list[tuple[str, float]]) -> list[tuple[str, float]]:
        named = []
        for t, w in pairs:
            notes = [self.kinds[t]] if t in self.kinds else []
            if t in self.in_title:
                notes.append("in the title, counted twice")
            named.append((f"{t} ({'; '.join(notes)})" if notes else t, w))
        return named

    def _entry(self, term: str, weight: float) -> dict[str, Any]:
        return {
            "term": term,
            "weight": weight,
            "kind": self.kinds.get(term),
            "in_title": term in self.in_title,
        }

    def __str__(self) -> str:
        terms, against = self._named(self.terms), self._named(self.against)
        rest = [("rest of the text", self.other_terms), ("(intercept)", self.intercept)]
        width = max(len(term) for term, _ in [*terms, *against, *rest])
        lines = [
            f"topic: {self.topic} ({self.probabilities[self.topic]:.3f}); "
            f"runner-up: {self.runner_up} ({self.probabilities[self.runner_up]:.3f})",
            f"{self.measure or f'score of {self.topic} minus score of {self.runner_up}'}: "
            f"{self.margin:+.4f}, made of",
            f" for {self.topic}:",
        ]
        lines += [
            f"  {term:<{width}}  {weight:+.4f}" for term, weight in terms or [("(none)", 0.0)]
        ]
        lines.append(f" against {self.topic} (for {self.runner_up}):")
        lines += [
            f"  {term:<{width}}  {weight:+.4f}" for term, weight in against or [("(none)", 0.0)]
        ]
        lines.append(" the rest:")
        lines += [f"  {term:<{width}}  {weight:+.4f}" for term, weight in rest]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
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
        }
