"""Model folders: saving and loading a `Predictor` without pickle.

A model folder holds

- ``manifest.json``: format version, library versions, topics, feature settings, training
  config, corpus fingerprint, metrics, and a SHA-256 for every other file;
- ``vocabulary.txt``: the terms, one per line, in column order;
- ``idf.npy``, ``coef.npy``, ``intercept.npy``: the numbers, read with ``allow_pickle=False``;
- ``README.md``: the model card.

Loading checks the manifest, then every checksum, then compatibility, before it reads any array,
and never runs code from the folder. Saving writes a temporary folder and renames it into
place, so a model folder is either whole or absent, and a failed save leaves an older model at
the same path untouched.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from .features import TfidfFeatures
from .predictor import Predictor

__all__ = ["ModelError", "save", "load", "default_model_path", "library_versions"]

FORMAT = "nlpkit-linear"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_ARRAYS = ("idf", "coef", "intercept")


class ModelError(Exception):
    """A model folder is missing, damaged, tampered with, or incompatible."""


def library_versions() -> dict[str, str]:
    """Versions of Python and of the libraries a model's numbers depend on."""
    out = {"python": platform.python_version()}
    for name in ("nlpkit", "numpy", "scikit-learn", "pyvi"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "unknown"
    return out


def default_model_path() -> Path:
    """Where the shipped model is, wherever the package is installed."""
    return Path(str(resources.files("nlpkit.models") / "default"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save(
    predictor: Predictor,
    path: str | Path,
    *,
    name: str | None = None,
    extra: dict[str, Any] | None = None,
    card: str | None = None,
) -> Path:
    """Write ``predictor`` as a model folder at ``path``, atomically, and return the path.

    ``extra`` is merged into the manifest (training config, corpus fingerprint, metrics...);
    ``card`` is the model card's markdown (a short default is written otherwise).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        features = predictor.features
        (tmp / "vocabulary.txt").write_text(
            "".join(term + "\n" for term in features.terms_), encoding="utf-8"
        )
        arrays = {"idf": features.idf_, "coef": predictor.coef, "intercept": predictor.intercept}
        for key, array in arrays.items():
            np.save(tmp / f"{key}.npy", np.asarray(array, dtype=np.float64), allow_pickle=False)
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "name": name or path.name,
            "versions": library_versions(),
            "topics": list(predictor.topics),
            "features": features.get_params(),
            "max_chars": predictor.max_chars,
            **(extra or {}),
        }
        manifest["features"]["ngram_range"] = list(manifest["features"]["ngram_range"])
        (tmp / "README.md").write_text(card or _default_card(manifest), encoding="utf-8")
        manifest["files"] = {
            f.name: "sha256:" + _sha256(f) for f in sorted(tmp.iterdir()) if f.name != MANIFEST
        }
        (tmp / MANIFEST).write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        _replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    predictor.manifest = manifest
    return path


def _replace(new: Path, path: Path) -> None:
    # os.replace cannot swap a folder for a non-empty one; move the old one aside first so
    # that at every moment either the old or the new model is complete at ``path``.
    if not path.exists():
        os.replace(new, path)
        return
    old = path.with_name(f".{path.name}.old-{os.getpid()}")
    os.replace(path, old)
    try:
        os.replace(new, path)
    except BaseException:
        os.replace(old, path)
        raise
    shutil.rmtree(old, ignore_errors=True)


def read_manifest(path: str | Path) -> dict[str, Any]:
    """Read and check a model folder's manifest and checksums; return the manifest."""
    path = Path(path)
    if not path.is_dir():
        raise ModelError(f"model folder not found: {path}")
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise ModelError(f"{manifest_path}: missing manifest; not an nlpkit model folder")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{manifest_path}: damaged manifest ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelError(f"{manifest_path}: not an nlpkit model manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"{manifest_path}: format version {manifest.get('format_version')!r} is not "
            f"supported by this nlpkit (reads version {FORMAT_VERSION})"
        )
    files = manifest.get("files")
    required = {"vocabulary.txt", *(f"{key}.npy" for key in _ARRAYS)}
    if not isinstance(files, dict) or not required <= files.keys():
        raise ModelError(f"{manifest_path}: the manifest does not list the model's files")
    for name, expected in files.items():
        file = path / name
        if Path(name).name != name:
            raise ModelError(f"{manifest_path}: file name {name!r} points outside the folder")
        if not file.is_file():
            raise ModelError(f"{file}: missing model file")
        if "sha256:" + _sha256(file) != expected:
            raise ModelError(f"{file}: checksum mismatch; the file is damaged or was changed")
    topics = manifest.get("topics")
    if (
        not isinstance(topics, list)
        or len(topics) < 2
        or not all(isinstance(t, str) and t for t in topics)
        or len(set(topics)) != len(topics)
    ):
        raise ModelError(f"{manifest_path}: 'topics' must be a list of distinct names")
    return manifest


def load(path: str | Path) -> Predictor:
    """Load a model folder written by `save`, after checking it; raise `ModelError` if unusable."""
    path = Path(path)
    manifest = read_manifest(path)
    try:
        terms = (path / "vocabulary.txt").read_text(encoding="utf-8").split("\n")[:-1]
        arrays = {key: np.load(path / f"{key}.npy", allow_pickle=False) for key in _ARRAYS}
        params = dict(manifest["features"])
        params["ngram_range"] = tuple(params["ngram_range"])
        features = TfidfFeatures.from_vocabulary(terms, arrays["idf"], **params)
        return Predictor(
            features,
            arrays["coef"],
            arrays["intercept"],
            manifest["topics"],
            max_chars=int(manifest.get("max_chars", 5000)),
            manifest=manifest,
        )
    except ModelError:
        raise
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise ModelError(f"{path}: model files do not fit together ({exc})") from None


def _default_card(manifest: dict[str, Any]) -> str:
    return (
        f"# {manifest['name']}\n\nAn nlpkit topic model ({', '.join(manifest['topics'])}).\n"
        "See manifest.json for its training config, versions and metrics.\n"
    )
