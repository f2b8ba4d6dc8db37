"""Latent directions of the terms beside them: the final fit's examples (`refit.py examples`)
refitted with k columns more, each text's TF-IDF vector projected on the k leading singular
directions of the training texts' matrix (a truncated SVD: terms that share contexts share
directions, so a name seen in few labelled texts weighs through the words it comes with).
The projection is linear in the terms, so its weights fold back into theirs, as the kinds of
names do: a saved model would be terms and weights as any other. Scored on the development
sample as `refit.py fit` scores, never the held-out part.

    python experiments/today/latent.py EXAMPLES.pkl --k 0          # the refit as it is
    python experiments/today/latent.py EXAMPLES.pkl --k 100 --scale 1
"""

from __future__ import annotations

import argparse
import pickle
import time

import numpy as np
import scipy.sparse as sp
from refit import score_dev  # (this folder: the script's own)

from nlpkit.training import fit as fitting


class _Latent:
    """k columns more: the texts' rows projected on ``basis`` (terms x k), times ``scale``;
    wrapped around the kinds' columns, when the recipe has them."""

    def __init__(self, inner, basis: np.ndarray, scale: float, n_terms: int):
        self.inner, self.basis, self.scale, self.n_terms = inner, basis, scale, n_terms

    def transform(self, X):
        base = self.inner.transform(X) if self.inner is not None else X
        latent = (X[:, : self.n_terms] @ self.basis) * self.scale
        return sp.hstack([base, sp.csr_matrix(latent)], format="csr")

    def fold(self, coef: np.ndarray) -> np.ndarray:
        k = self.basis.shape[1]
        head, tail = coef[:, :-k], coef[:, -k:]
        head = head.copy()
        head[:, : self.n_terms] += self.scale * (self.basis @ tail.T).T
        return self.inner.fold(head) if self.inner is not None else head


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("examples")
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    with open(args.examples, "rb") as f:
        d = pickle.load(f)
    cfg = d["cfg"]
    original = fitting._features

    def features(tfidf, texts, cfg):
        X, kinds = original(tfidf, texts, cfg)
        if not args.k:
            return X, kinds
        from sklearn.decomposition import TruncatedSVD

        n_terms = len(tfidf.terms_)
        started = time.monotonic()
        svd = TruncatedSVD(args.k, algorithm="randomized", random_state=cfg["seed"])
        svd.fit(X[:, :n_terms])
        print(
            f"SVD of {X.shape[0]:,} x {n_terms:,}: {time.monotonic() - started:.0f} s", flush=True
        )
        latent = _Latent(kinds, svd.components_.T.copy(), args.scale, n_terms)
        # (the kinds' columns first, as the recipe has them; the latent ones after)
        return latent.transform(X[:, :n_terms]), latent

    fitting._features = features
    started = time.monotonic()
    predictor = fitting.fit(d["texts"], list(d["labels"]), np.array(d["weights"]), cfg)
    print(f"fit: {time.monotonic() - started:.0f} s", flush=True)
    score_dev(predictor, cfg, f"k {args.k}, scale {args.scale:g}: ")


if __name__ == "__main__":
    main()
