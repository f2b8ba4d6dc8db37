"""Model folders: saving and loading a `Predictor` without pickle.

A model folder holds

- ``manifest.json``: format version, library versions, topics, feature settings, training
  config, corpus fingerprint, metrics, and a SHA-256 for every other file;
- ``vocabulary.txt``: the terms, one per line, in column order;
- ``idf.npy``, ``coef.npy``, ``intercept.npy``: the numbers, in numpy's format, read by a
  reader of that format that unpickles nothing (and needs no numpy);
- ``README.md``: the model card.

Loading checks the manifest, then every checksum, then compatibility, before it reads any array,
and never runs code from the folder. Saving writes a temporary folder and puts it in place
(`nlpkit.folders`: on Linux, swapped with the old one in one step), so a model folder is
either whole or absent, and a failed save leaves an older model at the same path untouched.
"""

from __future__ import annotations

import hashlib
import json
import numbers
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import compiled
from .errors import ModelError
from .installed import package_folder
from .npyfile import all_finite, read_array
from .topics import check_topics
from .vocabulary import (
    Vocabulary,
    VocabularyFile,
    bad_vocabulary,
    parse_vocabulary,
)

if TYPE_CHECKING:
    from .predictor import Predictor

# How a model's last row reads when it has out of scope: a fifth class of one softmax, or a
# detector of its own (nlpkit.predictor.Predictor).
NONE_HEADS = ("class", "detector")

__all__ = [
    "ModelError",
    "save",
    "load",
    "read_manifest",
    "default_model_path",
    "library_versions",
    "seal",
    "manifest_seal",
]

FORMAT = "nlpkit-linear"
# The research export's (`nlpkit.joblib_export`): its folder is checked as a model folder is.
JOBLIB_FORMAT = "nlpkit-joblib"
JOBLIB_FILE = "pipeline.joblib"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
# The manifest's own checksum: every setting in it (topics, temperature, max_chars, features...)
# and every file's checksum, so that any edit of the manifest is refused like a changed file.
SEAL = "seal"
_ARRAYS = ("idf", "coef", "intercept")
_RESERVED = {MANIFEST, "README.md", "vocabulary.txt", *(f"{key}.npy" for key in _ARRAYS)}
# The settings' ranges: a text's first 100 million characters are more than any text needs,
# and a temperature beyond these makes every probability 0, 1 or the same.
MAX_CHARS_LIMIT = 100_000_000
TEMPERATURE_RANGE = (1e-6, 1e6)
_REQUIRED_FILES = {
    FORMAT: {"vocabulary.txt", *(f"{key}.npy" for key in _ARRAYS)},
    JOBLIB_FORMAT: {JOBLIB_FILE},
}


def library_versions() -> dict[str, str]:
    """Versions of Python and of the libraries a model's numbers depend on."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("nlpkit", "numpy", "scikit-learn", "pyvi"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "unknown"
    return out


class _RepeatedKey(ValueError):
    pass


def _without_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are each given once: with a key twice, Python keeps the last
    value and another reader (or a person) the first, so the seal would vouch for a setting
    that is not the one read."""
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _RepeatedKey(f"the key {key!r} is given twice")
        seen[key] = value
    return seen


def default_model_path() -> Path:
    """Where the shipped model is: inside the installed package, or, when the package is
    imported from a source checkout (the repository's root on the path shadows the installed
    copy), in the checkout's top-level models/ folder."""
    folder = package_folder("nlpkit.models")
    if folder is None:
        return Path(__file__).resolve().parent.parent / "models" / "default"
    return folder / "default"


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, in hex, read a block at a time: what a model folder's
    checksums are, and what a run records of the data it read."""
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _utf8(value: Any) -> Any:
    """``value`` with each lone surrogate of its strings (a file name's bytes that are no
    UTF-8) replaced by U+FFFD, through its lists and dicts."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        return value
    if isinstance(value, dict):
        return {_utf8(k): _utf8(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_utf8(v) for v in value)
    return value


def manifest_seal(manifest: dict[str, Any]) -> str:
    """The seal of a manifest: the SHA-256 of its canonical JSON (sorted keys, no spaces)
    without the seal itself, so that the layout of the file does not count, every value does."""
    body = {k: v for k, v in manifest.items() if k != SEAL}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    manifest[SEAL] = manifest_seal(manifest)
    (folder / MANIFEST).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def seal(path: str | Path) -> Path:
    """Seal the manifest of a model folder saved before manifests were sealed, in place and
    atomically, after checking every file's checksum and every value as `load` does. A folder
    whose manifest is sealed already is left as it is (and refused, if it was changed since)."""
    import tempfile

    path = Path(path)
    manifest = read_manifest(path, unsealed=True)
    if SEAL in manifest:
        return path
    _check_values(manifest, path / MANIFEST)
    tmp = Path(tempfile.mkdtemp(prefix=".seal.", dir=path))
    try:
        _write_manifest(tmp, manifest)
        os.replace(tmp / MANIFEST, path / MANIFEST)
    finally:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return path


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
    path = _given(path, "a model folder to write")
    features = predictor.features
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": name or path.name,
        "versions": library_versions(),
        "topics": list(predictor.topics),
        # true: the weights' last row is out of scope, "none": a fifth class of the softmax
        # ("none_head": "class") or a detector's log-odds ("detector")
        "none": predictor.none,
        **({"none_head": predictor.none_head} if predictor.none else {}),
        "features": _feature_settings(features.get_params()),
        "max_chars": _whole(predictor.max_chars),
        "segment": predictor.segment,
        "temperature": predictor.temperature,
        **(extra or {}),
    }
    # (a name or a data file's path in bytes that are no UTF-8 holds lone surrogates, which no
    # UTF-8 file can hold: each is a replacement character in the manifest and the card)
    manifest = _utf8(manifest)
    card = None if card is None else _utf8(card)

    import numpy as np

    arrays = {
        "idf": np.asarray(features.idf_, dtype=np.float64),
        "coef": np.asarray(predictor.coef, dtype=np.float64),
        "intercept": np.asarray(predictor.intercept, dtype=np.float64),
    }
    try:
        _check_topics(manifest, "the model")
        _check_values(manifest, "the model")
        terms = list(features.terms_)
        broken = next((t for t in terms if not isinstance(t, str) or "\n" in t), None)
        if broken is not None:
            raise ModelError(f"the model: a term holds a line end or is no string: {broken!r}")
        vocabulary = "".join(term + "\n" for term in terms)
        parse_vocabulary(vocabulary.encode("utf-8", "surrogatepass"), Path("the model's terms"))
        for key, array in arrays.items():
            # (the check loading makes of the file's numbers)
            if not all_finite(array, key == "idf"):
                kind = "non-positive or non-finite" if key == "idf" else "non-finite"
                raise ModelError(f"the model: its {key} holds {kind} numbers")
    except ModelError as exc:
        # (what load would refuse is never written, and never replaces a working model)
        raise ValueError(f"{exc}: nothing was written to {path}") from None

    def fill(folder: Path) -> None:
        for file_name, data in (attachments or {}).items():
            if Path(file_name).name != file_name or file_name in _RESERVED:
                raise ValueError(f"attachment name {file_name!r} is not allowed")
            (folder / file_name).write_bytes(data)
        (folder / "vocabulary.txt").write_text(vocabulary, encoding="utf-8")
        for key, array in arrays.items():
            np.save(folder / f"{key}.npy", array, allow_pickle=False)
        (folder / "README.md").write_text(card or _default_card(manifest), encoding="utf-8")

    _write_folder(path, manifest, fill)
    predictor.manifest = manifest
    return path


def save_model(predictor: Predictor, path: str | Path, name: str | None = None) -> Path:
    """Write ``predictor`` as a model folder, with the card and confusion picture of its
    training when its manifest records one (a model of `nlpkit.train` or a loaded one)."""
    from .card import card_picture, model_card

    manifest = predictor.manifest or {}
    name = name or manifest.get("name") or Path(path).name
    if "training_config" not in manifest or "metrics" not in manifest:
        return save(predictor, path, name=name)
    extra = {k: manifest[k] for k in ("training_config", "corpus", "training_inputs", "metrics")}
    image = card_picture(extra["training_config"], extra["metrics"])
    card_picture = "confusion_matrix.png" if image else None
    card = model_card(name, list(predictor.topics), extra, picture=card_picture)
    # Settings changed since training (a temperature set, topics renamed): the card says so,
    # and that its figures are of the model as it was trained; the trained ones are kept in
    # the manifest, so that a folder saved again says it too.
    trained = manifest.get("trained_settings") or {
        key: manifest[key] for key in ("topics", "temperature", "max_chars") if key in manifest
    }
    now = {
        "topics": list(predictor.topics),
        "temperature": predictor.temperature,
        "max_chars": predictor.max_chars,
    }
    changed = [f"{k} {v!r} → {now[k]!r}" for k, v in trained.items() if v != now[k]]
    if changed:
        extra["trained_settings"] = trained
        title, _, rest = card.partition("\n")
        card = (
            f"{title}\n\n**Changed since training**: {', '.join(changed)}. The figures below are "
            f"of the model as it was trained.\n{rest}"
        )
    return save(
        predictor,
        path,
        name=name,
        extra=extra,
        card=card,
        attachments={"confusion_matrix.png": image} if image else None,
    )


def check_replaceable(path: str | Path) -> None:
    """Raise `FileExistsError` saying why, unless a model folder may be written at ``path``:
    nothing there yet, an empty folder, or a model folder holding only the files its manifest
    lists (a model saved again, as a rebuild does). Anything else there is the user's: a model
    written in its place would delete it."""
    path = Path(path)
    if path.name in ("", ".", ".."):
        # (a folder is put in place of another beside it: "." would be the working folder
        # itself, swapped away from under the process)
        raise FileExistsError(
            f"{path} names no folder of its own: name the model folder (such as my-model)"
        )
    package = package_folder("nlpkit")
    shipped = package_folder("nlpkit.models")
    if (
        package is not None
        and shipped is not None
        and package.resolve() in shipped.resolve().parents
        and path.resolve() == (shipped / "default").resolve()
    ):
        # (in an installed copy: every caller's default model; a checkout's models/default,
        # outside the package's folder, is rebuilt by its recipe, and may be)
        raise FileExistsError(
            f"{path} is the model shipped inside the installed nlpkit, every caller's default: "
            "nothing was written; save elsewhere and load it from there"
        )
    if not path.exists():
        return
    if not path.is_dir():
        raise FileExistsError(f"{path} is a file: a model is a folder; name another path")
    held = {entry.name for entry in path.iterdir()}
    if not held:
        return
    listed: Any = None
    if MANIFEST in held:
        try:
            manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
            if manifest.get("format") in (FORMAT, JOBLIB_FORMAT):
                listed = manifest.get("files")
        except (OSError, ValueError, AttributeError, RecursionError):
            pass
    if not isinstance(listed, dict):
        raise FileExistsError(
            f"{path} is a folder that holds other files, not a model folder: nothing was "
            "written (a model goes in a new or empty folder, or replaces a model folder)"
        )
    others = sorted(held - set(listed) - {MANIFEST})
    if others:
        raise FileExistsError(
            f"{path} is a model folder that also holds files of its own ({', '.join(others[:3])}"
            f"{', ...' if len(others) > 3 else ''}): nothing was written, as saving would delete "
            "them; move them, or save elsewhere"
        )


def _can_write(path: Path) -> None:
    """Refuse, before anything is written, a folder that could not be saved whole at ``path``:
    a file on its way, a folder this process cannot create things in, or a model folder of
    its own that it cannot empty (swapped with the new one, it would stay behind, hidden)."""
    import errno

    ancestor = path.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise NotADirectoryError(
            errno.ENOTDIR, f"{ancestor} is a file, not a folder: nothing was written", str(path)
        )
    access = os.W_OK | os.X_OK
    for folder, what in ((ancestor, "cannot write in"), (path, "cannot replace the read-only")):
        if folder.is_dir() and not os.access(folder, access):
            raise PermissionError(
                errno.EACCES, f"{what} folder {folder}: nothing was written", str(path)
            )


def _write_folder(path: Path, manifest: dict[str, Any], fill) -> None:
    """Write a model folder atomically: ``fill(folder)`` writes the payload into a temporary
    folder beside ``path``; then the checksums and manifest; then the folder takes its place
    (only where `check_replaceable` allows: never a folder of the user's)."""
    import shutil

    from .folders import remove_leftovers, replace_folder, temporary_folder

    check_replaceable(path)
    if path.is_symlink():
        # (a link to a model folder: the folder it names is the one saved again)
        path = path.resolve()
    _can_write(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(path)
    tmp = temporary_folder(path)
    try:
        fill(tmp)
        manifest["files"] = {
            f.name: "sha256:" + file_sha256(f) for f in sorted(tmp.iterdir()) if f.name != MANIFEST
        }
        _write_manifest(tmp, manifest)
        replace_folder(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def read_manifest(
    path: str | Path, format: str = FORMAT, *, unsealed: bool = False
) -> dict[str, Any]:
    """Read and check a model folder's manifest and its seal, then every checksum, then the
    versions and topics; return the manifest. Nothing in the folder but the manifest is parsed.
    (``unsealed``: a manifest without a seal passes, for `seal`.)"""
    return _read_folder(path, format, keep=False, unsealed=unsealed)[0]


def _read_whole(file: Path) -> bytearray:
    """A file's bytes read straight into one writable buffer, which its arrays then use in
    place: no copy, and no memory touched twice."""
    with open(file, "rb", buffering=0) as data:
        content = bytearray(os.fstat(data.fileno()).st_size)
        with memoryview(content) as view:
            n = 0
            while n < len(content) and (got := data.readinto(view[n:])):
                n += got
        del content[n:]
        content += data.read()  # (a file changed meanwhile: its checksum decides)
    return content


def _read_folder(
    path: str | Path, format: str = FORMAT, keep: bool = True, *, unsealed: bool = False
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """`read_manifest`'s manifest, and (with ``keep``) the bytes of the files it lists as they
    were read for their checksums: what is loaded is what was checked, and each file is read
    once. (Without ``keep``, the files are hashed a block at a time, holding none whole.)

    A folder saved again while it is read (a service reloading what a trainer writes) is read
    again: the save swaps the whole folder in one step, so a read that met both the old files
    and the new ones finds the folder at the path changed, and the second read one whole."""
    path = Path(path)
    for tries_left in (2, 1, 0):
        # The folder read is held open: its inode number cannot go to a new folder meanwhile,
        # so a folder at the path with another one is another folder.
        try:
            held = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except OSError:
            held = None
        try:
            before = _identity(path) if held is None else _identity(held)
            try:
                return _read_folder_once(path, format, keep, unsealed)
            except ModelError:
                if not tries_left or _identity(path) == before:
                    raise
            except OSError as exc:
                if tries_left and _identity(path) != before:
                    continue
                where = exc.filename or path
                raise ModelError(f"{where}: cannot be read ({exc.strerror or exc})") from None
        finally:
            if held is not None:
                os.close(held)
    raise AssertionError("unreachable")


def _identity(path: Path | int) -> tuple[int, int] | None:
    """Which folder is at ``path`` now, or is the open folder ``path`` (device and inode)."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


def _read_folder_once(
    path: Path, format: str, keep: bool, unsealed: bool
) -> tuple[dict[str, Any], dict[str, bytes]]:
    if not path.is_dir():
        if path.exists():
            # (the manifest itself, or a file beside the folder, given for the folder)
            raise ModelError(f"{path} is a file, not a model folder: give the folder that holds it")
        raise ModelError(f"model folder not found: {path}")
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise ModelError(f"{manifest_path}: missing manifest; not an nlpkit model folder")
    _inside(path, manifest_path)
    try:
        manifest = json.loads(
            manifest_path.read_text(encoding="utf-8"), object_pairs_hook=_without_repeats
        )
    except (UnicodeDecodeError, json.JSONDecodeError, _RepeatedKey) as exc:
        raise ModelError(f"{manifest_path}: damaged manifest ({exc})") from None
    except RecursionError:
        raise ModelError(f"{manifest_path}: damaged manifest (nested too deeply)") from None
    if not isinstance(manifest, dict) or manifest.get("format") not in (FORMAT, JOBLIB_FORMAT):
        raise ModelError(f"{manifest_path}: not an nlpkit model manifest")
    if manifest["format"] != format:
        hint = (
            " (a joblib export: use nlpkit.joblib_export.import_joblib)" if format == FORMAT else ""
        )
        raise ModelError(f"{manifest_path}: a {manifest['format']!r} folder, not {format!r}{hint}")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"{manifest_path}: format version {manifest.get('format_version')!r} is not "
            f"supported by this nlpkit (reads version {FORMAT_VERSION})"
        )
    _check_seal(manifest, manifest_path, unsealed)
    files = manifest.get("files")
    required = _REQUIRED_FILES[format]
    if not isinstance(files, dict) or not required <= files.keys():
        raise ModelError(f"{manifest_path}: the manifest does not list the model's files")
    contents = {}
    for name, expected in files.items():
        file = path / name
        if not isinstance(name, str) or Path(name).name != name or name in ("", ".", ".."):
            raise ModelError(f"{manifest_path}: file name {name!r} points outside the folder")
        _inside(path, file)
        if not file.is_file():
            raise ModelError(f"{file}: missing model file")
        if keep:
            contents[name] = _read_whole(file) if name.endswith(".npy") else file.read_bytes()
        digest = hashlib.sha256(contents[name]).hexdigest() if keep else file_sha256(file)
        if "sha256:" + digest != expected:
            raise ModelError(f"{file}: checksum mismatch; the file is damaged or was changed")
    _check_versions(manifest, manifest_path)
    _check_topics(manifest, manifest_path)
    return manifest, contents


def _inside(folder: Path, file: Path) -> None:
    if file.is_symlink() and folder.resolve() not in file.resolve().parents:
        raise ModelError(f"{file}: a link to a file outside the model folder")


def _check_topics(manifest: dict[str, Any], where: Path | str) -> None:
    topics = manifest.get("topics")
    try:
        if not isinstance(topics, list):  # (JSON's list: a string would be its letters)
            raise TypeError
        # (a blank name, or one with a line end, would break the one-answer-a-line output)
        check_topics(topics)
    except (TypeError, ValueError):
        raise ModelError(
            f"{where}: 'topics' must be a list of two or more distinct names (none is not a "
            f"topic), got {topics!r}"
        ) from None


def _check_seal(manifest: dict[str, Any], manifest_path: Path, unsealed: bool) -> None:
    if SEAL not in manifest:
        if unsealed:
            return
        raise ModelError(
            f"{manifest_path}: the manifest is not sealed (saved by an older nlpkit, or its seal "
            "was removed); nlpkit.modelfile.seal(folder) seals a folder you trust"
        )
    if manifest[SEAL] != manifest_seal(manifest):
        raise ModelError(
            f"{manifest_path}: the manifest was changed since the model was saved (its seal does "
            "not match its settings); save the model again rather than editing the manifest"
        )


def _major(version_string: str) -> str:
    return str(version_string).split(".")[0]


def _check_versions(manifest: dict[str, Any], manifest_path: Path) -> None:
    saved = manifest.get("versions")
    if not isinstance(saved, dict) or "nlpkit" not in saved:
        raise ModelError(f"{manifest_path}: the manifest does not say which nlpkit wrote it")
    from .version import __version__ as ours  # (library_versions()'s, without its imports)

    if _major(saved["nlpkit"]) != _major(ours):
        raise ModelError(
            f"{manifest_path}: written by nlpkit {saved['nlpkit']}, which this nlpkit {ours} "
            "cannot read (different major version)"
        )


def _check_values(manifest: dict[str, Any], manifest_path: Path | str) -> None:
    """Every value the predictor uses must be of its kind and range: checksums only say the
    files are those the manifest lists, and whoever hands over a folder can reseal them."""

    def bad(key: str, want: str) -> ModelError:
        return ModelError(f"{manifest_path}: {key!r} must be {want}, got {manifest.get(key)!r}")

    if not isinstance(manifest.get("none", False), bool):
        raise bad("none", "true or false")
    if manifest.get("none_head", "class") not in NONE_HEADS:
        raise bad("none_head", " or ".join(NONE_HEADS))
    max_chars = manifest.get("max_chars", 5000)
    if max_chars is not None and (
        isinstance(max_chars, bool)
        or not isinstance(max_chars, int)
        or not 1 <= max_chars <= MAX_CHARS_LIMIT
    ):
        raise bad("max_chars", f"a whole number from 1 to {MAX_CHARS_LIMIT:,}, or null (all)")
    if not isinstance(manifest.get("segment", True), bool):
        raise bad("segment", "true or false")
    temperature = manifest.get("temperature", 1.0)
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, (int, float))
        or not TEMPERATURE_RANGE[0] <= temperature <= TEMPERATURE_RANGE[1]
    ):
        low, high = TEMPERATURE_RANGE
        raise bad("temperature", f"a number from {low:g} to {high:g}")
    features = manifest.get("features")
    ngrams = features.get("ngram_range") if isinstance(features, dict) else None
    if not (
        isinstance(ngrams, list)
        and len(ngrams) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) for n in ngrams)
        and 1 <= ngrams[0] <= ngrams[1] <= 4
        and isinstance(features.get("sublinear_tf", True), bool)
        and isinstance(features.get("repeat_title", False), bool)
    ):
        raise bad(
            "features", "the feature settings (ngram_range [low, high], sublinear_tf, repeat_title)"
        )


def _feature_settings(params: dict[str, Any]) -> dict[str, Any]:
    """The features' settings as the manifest holds them. ``repeat_title`` is written only
    when set: a model of the settings before it was one is saved as it was then."""
    settings = {**params, "ngram_range": list(params["ngram_range"])}
    if not settings.get("repeat_title", True):
        del settings["repeat_title"]
    return settings


def _whole(value: Any) -> Any:
    """A whole number as JSON writes it (numpy's integers too: a count computed with numpy is
    a whole number like another); anything else as it is, for the checks to name."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    return value


def _given(path: str | Path, what: str) -> Path:
    """``path`` as a Path; an empty string, which Path reads as the current folder, is a
    `ValueError`: a caller who meant no path meant something else."""
    if not str(path):
        raise ValueError(f"the path is empty: name {what}")
    return Path(path)


def load(path: str | Path, make: Callable[..., Predictor]) -> Predictor:
    """Load a model folder written by `save`, after checking it; raise `ModelError` if unusable.
    ``make`` builds the model from what was read: `nlpkit.predictor.Predictor` (`nlpkit.load`
    passes it; the model's class is no concern of its files')."""
    path = _given(path, "a model folder")
    manifest, contents = _read_folder(path)
    _check_values(manifest, path / MANIFEST)
    try:
        params = dict(manifest["features"])
        params["ngram_range"] = tuple(params["ngram_range"])
        vocabulary = path / "vocabulary.txt"
        data = contents["vocabulary.txt"]
        # Where the compiled core will predict, it reads (and checks) the file's bytes itself
        # when the predictor is made, below: no Python string per term.
        core_reads = (
            compiled.core is not None
            and manifest.get("segment", True)
            and Vocabulary.supports(params)
        )
        if core_reads and data and not data.endswith(b"\n"):
            raise bad_vocabulary(vocabulary, data.count(b"\n") + 1, "no newline at the end")
        terms = VocabularyFile(data) if core_reads else parse_vocabulary(data, vocabulary)
        n_topics = len(manifest["topics"]) + manifest.get("none", False)
        n_terms = terms.lines if core_reads else len(terms)
        shapes = {"idf": (n_terms,), "coef": (n_topics, n_terms), "intercept": (n_topics,)}
        arrays = {
            key: read_array(path / f"{key}.npy", contents[f"{key}.npy"], shape, key == "idf")
            for key, shape in shapes.items()
        }
        if Vocabulary.supports(params):  # plain data: prediction needs no scikit-learn
            features = Vocabulary(terms, arrays["idf"], **params)
        else:
            from .features import TfidfFeatures

            features = TfidfFeatures.from_vocabulary(terms, arrays["idf"], **params)
        predictor = make(
            features,
            arrays["coef"],
            arrays["intercept"],
            manifest["topics"],
            max_chars=manifest.get("max_chars", 5000),
            manifest=manifest,
            segment=bool(manifest.get("segment", True)),
            temperature=float(manifest.get("temperature", 1.0)),
            none=manifest.get("none", False),
            none_head=manifest.get("none_head", "class"),
        )
        if core_reads:
            try:
                predictor._scorer()  # made now, for the first prediction; checks the terms
            except ValueError as exc:
                raise bad_vocabulary(vocabulary, str(exc)) from None
        return predictor
    except ModelError:
        raise
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise ModelError(f"{path}: model files do not fit together ({exc})") from None


def _default_card(manifest: dict[str, Any]) -> str:
    return (
        f"# {manifest['name']}\n\nAn nlpkit topic model ({', '.join(manifest['topics'])}).\n"
        "See manifest.json for its training config, versions and metrics.\n"
    )
