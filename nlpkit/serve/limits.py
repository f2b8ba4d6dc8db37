"""`Limits`: what one request may ask of the service, and how many may be in flight at once."""

from __future__ import annotations

from ..arguments import check_count

__all__ = ["Limits"]


class Limits:
    """The `nlpkit serve` options of the same names. (A plain class: the command line reads its
    defaults to build its help, and every nlpkit command builds that parser.)"""

    # A megabyte holds a batch of 1,000 long headlines, or one long article many times over
    # (the model reads the first 5,000 characters of a text).
    max_body: int = 1 << 20
    max_batch: int = 1000
    max_k: int = 100
    # Requests being read, answered or written at once; more get 503 at once rather than
    # waiting in a queue that grows without bound. 64 keep-alive clients fit with room.
    max_in_flight: int = 256
    # Seconds a request's body may take to come whole: a client that stalls in the middle of
    # one would hold its place among those in flight for as long as it liked.
    body_timeout: int = 30

    FIELDS = ("max_body", "max_batch", "max_k", "max_in_flight", "body_timeout")

    def __init__(
        self,
        max_body: int = max_body,
        max_batch: int = max_batch,
        max_k: int = max_k,
        max_in_flight: int = max_in_flight,
        body_timeout: int = body_timeout,
    ):
        values = (max_body, max_batch, max_k, max_in_flight, body_timeout)
        for name, value in zip(self.FIELDS, values):
            setattr(self, name, check_count(name, value))

    def to_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.FIELDS}

    def __repr__(self) -> str:
        return "Limits(" + ", ".join(f"{k}={v}" for k, v in self.to_dict().items()) + ")"
