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
import warnings
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .predictor import Predictor
from .vocabulary import Vocabulary

__all__ = [
    "ModelError",
    "VersionMismatchWarning",
    "save",
    "load",
    "read_manifest",
    "export_joblib",
    "import_joblib",
    "default_model_path",
    "library_versions",
]

FORMAT = "nlpkit-linear"
JOBLIB_FORMAT = "nlpkit-joblib"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_ARRAYS = ("idf", "coef", "intercept")
_JOBLIB_FILE = "pipeline.joblib"
_RESERVED = {MANIFEST, "README.md", "vocabulary.txt", *(f"{key}.npy" for key in _ARRAYS)}
_REQUIRED_FILES = {
    FORMAT: {"vocabulary.txt", *(f"{key}.npy" for key in _ARRAYS)},
    JOBLIB_FORMAT: {_JOBLIB_FILE},
}


class ModelError(Exception):
    """A model folder is missing, damaged, tampered with, or incompatible."""


class VersionMismatchWarning(UserWarning):
    """A joblib export was written by another scikit-learn version than the one installed."""


def library_versions() -> dict[str, str]:
    """Versions of Python and of the libraries a model's numbers depend on."""
    from importlib.metadata import PackageNotFoundError, version

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
    attachments: dict[str, bytes] | None = None,
) -> Path:
    """Write ``predictor`` as a model folder at ``path``, atomically, and return the path.

    ``extra`` is merged into the manifest (training config, corpus fingerprint, metrics...);
    ``card`` is the model card's markdown (a short default is written otherwise);
    ``attachments`` are further files for the card (a confusion-matrix picture), checksummed too.
    """
    path = Path(path)
    features = predictor.features
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": name or path.name,
        "versions": library_versions(),
        "topics": list(predictor.topics),
        "features": {**features.get_params(), "ngram_range": list(features.ngram_range)},
        "max_chars": predictor.max_chars,
        "segment": predictor.segment,
        "temperature": predictor.temperature,
        **(extra or {}),
    }

    def fill(folder: Path) -> None:
        for file_name, data in (attachments or {}).items():
            if Path(file_name).name != file_name or file_name in _RESERVED:
                raise ValueError(f"attachment name {file_name!r} is not allowed")
            (folder / file_name).write_bytes(data)
        (folder / "vocabulary.txt").write_text(
            "".join(term + "\n" for term in features.terms_), encoding="utf-8"
        )
        arrays = {"idf": features.idf_, "coef": predictor.coef, "intercept": predictor.intercept}
        for key, array in arrays.items():
            np.save(folder / f"{key}.npy", np.asarray(array, dtype=np.float64), allow_pickle=False)
        (folder / "README.md").write_text(card or _default_card(manifest), encoding="utf-8")

    _write_folder(path, manifest, fill)
    predictor.manifest = manifest
    return path


def export_joblib(predictor: Predictor, path: str | Path, *, name: str | None = None) -> Path:
    """Write ``predictor`` as a scikit-learn `Pipeline` in a joblib file, for research use.

    The folder carries a manifest with checksums like a native model folder. Loading it back
    (`import_joblib`) unpickles, which can run code: prefer `save` for anything you share.
    """
    import joblib

    path = Path(path)
    manifest: dict[str, Any] = {
        "format": JOBLIB_FORMAT,
        "format_version": FORMAT_VERSION,
        "name": name or predictor.manifest.get("name") or path.name,
        "versions": library_versions(),
        "topics": list(predictor.topics),
        "max_chars": predictor.max_chars,
    }
    _write_folder(
        path, manifest, lambda folder: joblib.dump(predictor.to_pipeline(), folder / _JOBLIB_FILE)
    )
    return path


def import_joblib(path: str | Path, *, allow_pickle: bool = False, strict_versions: bool = False):
    """Load the `Pipeline` of a joblib export; refused unless ``allow_pickle=True``.

    Unpickling runs whatever code the file names, so it is an explicit opt-in, and happens
    only after the manifest and every checksum have been checked. A scikit-learn version other
    than the one that wrote the file warns (`VersionMismatchWarning`), or raises `ModelError`
    with ``strict_versions=True``: pickled estimators can break or change across versions.
    """
    path = Path(path)
    if not allow_pickle:
        raise ModelError(
            f"{path}: a joblib export is a pickle, and loading a pickle can run arbitrary code; "
            "pass allow_pickle=True only for files you trust"
        )
    manifest = read_manifest(path, format=JOBLIB_FORMAT)
    saved, ours = manifest["versions"].get("scikit-learn"), library_versions()["scikit-learn"]
    if saved != ours:
        message = f"{path}: written with scikit-learn {saved}, this is scikit-learn {ours}"
        if strict_versions:
            raise ModelError(message)
        warnings.warn(message + "; results may differ", VersionMismatchWarning, stacklevel=2)
    import joblib

    return joblib.load(path / _JOBLIB_FILE)


def _write_folder(path: Path, manifest: dict[str, Any], fill) -> None:
    """Write a model folder atomically: ``fill(folder)`` writes the payload into a temporary
    folder beside ``path``; then the checksums and manifest; then the folder takes its place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        fill(tmp)
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


def read_manifest(path: str | Path, format: str = FORMAT) -> dict[str, Any]:
    """Read and check a model folder's manifest, then every checksum, then the versions and
    topics; return the manifest. Nothing in the folder but the manifest is parsed."""
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
    if not isinstance(manifest, dict) or manifest.get("format") not in (FORMAT, JOBLIB_FORMAT):
        raise ModelError(f"{manifest_path}: not an nlpkit model manifest")
    if manifest["format"] != format:
        hint = " (a joblib export: use import_joblib)" if format == FORMAT else ""
        raise ModelError(f"{manifest_path}: a {manifest['format']!r} folder, not {format!r}{hint}")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"{manifest_path}: format version {manifest.get('format_version')!r} is not "
            f"supported by this nlpkit (reads version {FORMAT_VERSION})"
        )
    files = manifest.get("files")
    required = _REQUIRED_FILES[format]
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
    _check_versions(manifest, manifest_path)
    topics = manifest.get("topics")
    if (
        not isinstance(topics, list)
        or len(topics) < 2
        or not all(isinstance(t, str) and t for t in topics)
        or len(set(topics)) != len(topics)
    ):
        raise ModelError(f"{manifest_path}: 'topics' must be a list of distinct names")
    return manifest


def _major(version_string: str) -> str:
    return str(version_string).split(".")[0]


def _check_versions(manifest: dict[str, Any], manifest_path: Path) -> None:
    saved = manifest.get("versions")
    if not isinstance(saved, dict) or "nlpkit" not in saved:
        raise ModelError(f"{manifest_path}: the manifest does not say which nlpkit wrote it")
    from . import __version__ as ours  # (what library_versions() reads, without its imports)

    if _major(saved["nlpkit"]) != _major(ours):
        raise ModelError(
            f"{manifest_path}: written by nlpkit {saved['nlpkit']}, which this nlpkit {ours} "
            "cannot read (different major version)"
        )


def load(path: str | Path) -> Predictor:
    """Load a model folder written by `save`, after checking it; raise `ModelError` if unusable."""
    path = Path(path)
    manifest = read_manifest(path)
    try:
        terms = (path / "vocabulary.txt").read_text(encoding="utf-8").split("\n")[:-1]
        arrays = {key: np.load(path / f"{key}.npy", allow_pickle=False) for key in _ARRAYS}
        params = dict(manifest["features"])
        params["ngram_range"] = tuple(params["ngram_range"])
        if Vocabulary.supports(params):  # plain data: prediction needs no scikit-learn
            features = Vocabulary(terms, arrays["idf"], **params)
        else:
            from .features import TfidfFeatures

            features = TfidfFeatures.from_vocabulary(terms, arrays["idf"], **params)
        return Predictor(
            features,
            arrays["coef"],
            arrays["intercept"],
            manifest["topics"],
            max_chars=int(manifest.get("max_chars", 5000)),
            manifest=manifest,
            segment=bool(manifest.get("segment", True)),
            temperature=float(manifest.get("temperature", 1.0)),
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
