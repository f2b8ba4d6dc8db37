"""The research export: a model as a fitted scikit-learn `Pipeline` in a joblib file, in a
folder with a manifest and checksums like a model folder's. Loading it unpickles, which can run
code: an explicit opt-in, after every checksum is checked. A model folder (`nlpkit.modelfile`)
is what to share; this is for research that wants scikit-learn's objects."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .arguments import check_flag
from .errors import ModelError
from .modelfile import (
    FORMAT_VERSION,
    JOBLIB_FILE,
    JOBLIB_FORMAT,
    _whole,
    _write_folder,
    library_versions,
    read_manifest,
)

if TYPE_CHECKING:
    from .predictor import Predictor

__all__ = ["export_joblib", "import_joblib", "VersionMismatchWarning"]


class VersionMismatchWarning(UserWarning):
    """A joblib export was written by another scikit-learn version than the one installed."""


def export_joblib(predictor: Predictor, path: str | Path, *, name: str | None = None) -> Path:
    """Write ``predictor`` as a scikit-learn `Pipeline` in a joblib file, for research use:
    `Predictor.to_pipeline()`, the pipeline of its default answers (the topics).

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
        "max_chars": _whole(predictor.max_chars),
    }
    _write_folder(
        path, manifest, lambda folder: joblib.dump(predictor.to_pipeline(), folder / JOBLIB_FILE)
    )
    return path


def import_joblib(
    path: str | Path, *, allow_pickle: bool = False, strict_versions: bool = False
) -> Any:
    """Load the `Pipeline` of a joblib export; refused unless ``allow_pickle=True``.

    Unpickling runs whatever code the file names, so it is an explicit opt-in, and happens
    only after the manifest and every checksum have been checked. A scikit-learn version other
    than the one that wrote the file warns (`VersionMismatchWarning`), or raises `ModelError`
    with ``strict_versions=True``: pickled estimators can break or change across versions.
    """
    path = Path(path)
    # (a flag given as "no" is true in Python: here it would be the opt-in to run code)
    check_flag("allow_pickle", allow_pickle)
    check_flag("strict_versions", strict_versions)
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

    return joblib.load(path / JOBLIB_FILE)
