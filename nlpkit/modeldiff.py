"""How two model folders differ: in their files (`differences`), and whether models that differ
in their bytes still give the same answers (`compare`).

A model rebuilt on another machine is rarely the same to the last bit (its fit adds numbers in
another order); what matters is whether it answers the same. `compare` reads two model folders,
measures how far their weights are apart, and compares their answers and probabilities on texts.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .modelfile import MANIFEST, SEAL, read_manifest
from .vocabulary import read_vocabulary

__all__ = ["differences", "compare", "read_texts", "DEFAULT_TOLERANCE"]

# Probabilities within this of each other are the same figure to four decimals, all but a
# rounding's worth.
DEFAULT_TOLERANCE = 1e-4


def read_texts(path: str | Path) -> Iterator[str]:
    """The texts of a file: JSON lines (a ``text`` field, a ``title`` read before it; a corpus
    file, a batch input) or plain text, one text a line; gzipped or not. A ValueError names
    what cannot be read: a line, a damaged gzip file."""
    path = Path(path)
    try:
        yield from _texts(path)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise ValueError(f"damaged gzip file ({exc})") from None


def _texts(path: Path) -> Iterator[str]:
    from .text import join_title

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8-sig") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            if line.lstrip().startswith("{"):
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
                if not isinstance(row, dict):
                    raise ValueError(f"{path}:{number}: expected a JSON object")
                fields = [row.get("title") or "", row.get("text") or ""]
                if not all(isinstance(f, str) for f in fields):
                    raise ValueError(f"{path}:{number}: 'title' and 'text' must be strings")
                text = join_title(*fields)
            else:
                text = line.rstrip("\n")
            if text.strip():
                yield text


def differences(first: str | Path, second: str | Path) -> list[str]:
    """How two model folders differ, one line per difference; empty when every file is the
    same, byte for byte, and the manifests say the same but for how long things took (their
    timings differ from run to run) and how many processes trained it. Both folders are
    checked as `load` checks them."""
    first, second = Path(first), Path(second)
    manifests = [read_manifest(first), read_manifest(second)]
    files = [m["files"] for m in manifests]
    out = []
    for name in sorted(set(files[0]) | set(files[1])):
        if name not in files[0] or name not in files[1]:
            out.append(f"{name}: only in {first if name in files[0] else second}")
        elif files[0][name] != files[1][name]:
            out.append(f"{name}: differs{_how(first, second, name, manifests)}")
    if _without_timings(manifests[0]) != _without_timings(manifests[1]):
        out.append(f"{MANIFEST}: differs{_how(first, second, MANIFEST, manifests)}")
    return out


# What a manifest records that changes no answer and differs from run to run, or with the
# machine: timings, and the processes it was trained with (the same model whatever n_jobs).
_UNCOMPARED = ("files", SEAL, "texts_per_second", "n_jobs")


def _without_timings(value: Any) -> Any:
    """A manifest (or part of one) without "files", its timings (seconds and rates) and the
    processes it was trained with."""
    if isinstance(value, dict):
        return {
            k: _without_timings(v)
            for k, v in value.items()
            if k not in _UNCOMPARED and not k.endswith("_seconds")
        }
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


def _how(first: Path, second: Path, name: str, manifests: list[dict[str, Any]]) -> str:
    if name == "vocabulary.txt":
        a, b = (set(read_vocabulary(folder / name)) for folder in (first, second))
        return f" ({len(a - b):,} terms only in the first, {len(b - a):,} only in the second)"
    if name.endswith(".npy"):
        import numpy as np

        a, b = (np.load(folder / name, allow_pickle=False) for folder in (first, second))
        if a.shape != b.shape:
            return f" (shapes {a.shape} and {b.shape})"
        return f" (largest difference {np.abs(a - b).max():.3g})"
    if name == MANIFEST:
        a, b = (_without_timings(m) for m in manifests)
        keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        return f" (keys {', '.join(keys)})"
    return ""


def _weights(first: Any, second: Any) -> dict[str, Any]:
    import numpy as np

    a, b = first.features.terms_, second.features.terms_
    same_terms = list(a) == list(b) and first.classes == second.classes
    out: dict[str, Any] = {"same_terms": same_terms}
    if same_terms:
        for name in ("coef", "intercept"):
            out[f"{name}_max_difference"] = float(
                np.abs(np.asarray(getattr(first, name)) - np.asarray(getattr(second, name))).max()
            )
        out["idf_max_difference"] = float(
            np.abs(np.asarray(first.features.idf_) - np.asarray(second.features.idf_)).max()
        )
    return out


def compare(
    first: Any,
    second: Any,
    texts: list[str],
    tolerance: float = DEFAULT_TOLERANCE,
    batch: int = 2000,
) -> dict[str, Any]:
    """How two loaded models (`Predictor`) differ: their weights (when they share their terms
    and classes), and on ``texts`` the answers they give (out of scope allowed when both have
    it) and the largest difference of a probability. ``same``: every answer is the same and
    every probability within ``tolerance``."""
    import numpy as np

    out = _weights(first, second)
    allow_none = first.none and second.none
    if list(first.classes) != list(second.classes):
        out.update(same=False, why="the models have different classes")
        return out
    differ, largest, examples = 0, 0.0, []
    for start in range(0, len(texts), batch):
        part = texts[start : start + batch]
        a = first.predict_proba(part, allow_none=allow_none)
        b = second.predict_proba(part, allow_none=allow_none)
        keys = list(a[0]) if a else []
        pa = np.array([[p[k] for k in keys] for p in a])
        pb = np.array([[p[k] for k in keys] for p in b])
        if len(part):
            largest = max(largest, float(np.abs(pa - pb).max()))
        answers_a = first.predict(part, allow_none=allow_none)
        answers_b = second.predict(part, allow_none=allow_none)
        for i, (x, y) in enumerate(zip(answers_a, answers_b)):
            if x != y:
                differ += 1
                if len(examples) < 3:
                    examples.append({"text": part[i][:80], "first": x, "second": y})
    out.update(
        texts=len(texts),
        answers_differ=differ,
        probability_max_difference=largest,
        examples=examples,
        tolerance=tolerance,
        same=differ == 0 and largest <= tolerance,
    )
    return out
