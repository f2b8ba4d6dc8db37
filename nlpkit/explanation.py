"""`Explanation`: why a text got its topic, term by term (`Predictor.explain`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Explanation"]


@dataclass(frozen=True)
class Explanation:
    """Why a text got its topic: the terms that pushed it toward the topic and away from the
    runner-up, each with its contribution to the score difference (positive: for the topic).

    The parts add up: ``margin`` (the topic's score minus the runner-up's) is the sum of the
    listed ``terms``, ``other_terms`` (the text's remaining terms together) and ``intercept``
    (the difference of the two topics' intercepts: what the model says before reading a word).
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
    # What kind of thing a listed term names, in words, where the gazetteer knows it
    # ("los_angeles": "a foreign city or region"; `nlpkit.names`).
    kinds: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        rest = "rest of the text"
        named = [(f"{t} ({self.kinds[t]})" if t in self.kinds else t, w) for t, w in self.terms]
        rows = [*named, (rest, self.other_terms), ("(intercept)", self.intercept)]
        width = max(len(term) for term, _ in rows)
        lines = [
            f"topic: {self.topic} ({self.probabilities[self.topic]:.3f}); "
            f"runner-up: {self.runner_up} ({self.probabilities[self.runner_up]:.3f})",
            f"{self.measure or f'score of {self.topic} minus score of {self.runner_up}'}: "
            f"{self.margin:+.4f}, made of",
        ]
        lines += [f"  {term:<{width}}  {weight:+.4f}" for term, weight in rows]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "runner_up": self.runner_up,
            "probabilities": self.probabilities,
            "margin": self.margin,
            "terms": [{"term": t, "weight": w, "kind": self.kinds.get(t)} for t, w in self.terms],
            "other_terms": self.other_terms,
            "intercept": self.intercept,
            "measure": self.measure,
        }
