import json
import os
import pickle
import textwrap

import numpy as np
import pytest

from nlpkit import ModelError, joblib_export, load, modeldiff, modelfile

TEXTS = ["Giá xăng dầu tăng mạnh", "Tuyển Việt Nam thắng Thái Lan", "Nga và NATO hội đàm"]


@pytest.fixture
def saved(small_model, tmp_path):
    predictor = small_model[0]
    return modelfile.save(predictor, tmp_path / "model", name="small")


def test_round_trip_gives_identical_answers(small_model, saved):
    loaded = load(saved)
    assert loaded.topics == small_model[0].topics
    assert loaded.predict_proba(TEXTS) == small_model[0].predict_proba(TEXTS)
    manifest = json.loads((saved / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format_version"] == modelfile.FORMAT_VERSION
    assert {"python", "nlpkit", "scikit-learn", "pyvi", "numpy"} <= manifest["versions"].keys()
    assert set(manifest["files"]) == {
        "vocabulary.txt",
        "idf.npy",
        "coef.npy",
        "intercept.npy",
        "README.md",
    }


def test_each_file_is_read_once_and_what_is_loaded_is_what_was_checked(saved, monkeypatch):
    # A file changed between its checksum and its reading would be loaded unchecked: the
    # loader reads every file once, checks those bytes and parses the same bytes.
    import builtins
    import io
    from pathlib import Path

    reads = []  # (Path.open, read_bytes and read_text open files with io.open)
    open_ = io.open

    def counted(file, *args, **kwargs):
        reads.append(Path(file).name if isinstance(file, (str, os.PathLike)) else None)
        return open_(file, *args, **kwargs)

    monkeypatch.setattr(io, "open", counted)
    monkeypatch.setattr(builtins, "open", counted)
    predictor = load(saved)
    monkeypatch.undo()
    model_files = ["vocabulary.txt", "idf.npy", "coef.npy", "intercept.npy", "README.md"]
    assert sorted(n for n in reads if n in model_files) == sorted(model_files)
    assert predictor.predict(TEXTS) == load(saved).predict(TEXTS)


def test_save_leaves_no_temporary_files(saved):
    assert [p.name for p in saved.parent.iterdir()] == ["model"]


def test_arrays_hold_no_pickles(saved):
    for name in ("idf", "coef", "intercept"):
        np.load(saved / f"{name}.npy", allow_pickle=False)


def test_missing_folder(tmp_path):
    with pytest.raises(ModelError, match="model folder not found"):
        load(tmp_path / "nothing")


def test_a_file_given_for_the_folder_is_named_as_such(saved):
    with pytest.raises(ModelError, match="manifest.json is a file, not a model folder"):
        load(saved / "manifest.json")


def test_missing_manifest(saved):
    (saved / "manifest.json").unlink()
    with pytest.raises(ModelError, match="manifest.json: missing manifest"):
        load(saved)


def test_damaged_manifest(saved):
    (saved / "manifest.json").write_text('{"format": "nlpkit-linear", ', encoding="utf-8")
    with pytest.raises(ModelError, match="damaged manifest"):
        load(saved)


def test_a_key_given_twice_in_the_manifest_is_refused(saved):
    # (Python keeps the last value, another reader the first: the seal, over what Python read,
    # would vouch for a value a reader of the file does not see)
    path = saved / "manifest.json"
    text = path.read_text(encoding="utf-8")
    temperature = json.loads(text)["temperature"]
    edited = text.replace(
        f'"temperature": {temperature}', f'"temperature": 9.0, "temperature": {temperature}', 1
    )
    assert edited != text
    path.write_text(edited, encoding="utf-8")
    with pytest.raises(ModelError, match="damaged manifest .the key 'temperature' is given twice"):
        load(saved)


def test_unknown_format_version(saved):
    path = saved / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["format_version"] = 99
    path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ModelError, match="format version 99 is not supported"):
        load(saved)


@pytest.mark.parametrize("name", ["coef.npy", "vocabulary.txt"])
def test_changed_or_truncated_file_is_refused(saved, name):
    data = (saved / name).read_bytes()
    (saved / name).write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match=f"{name}: checksum mismatch"):
        load(saved)


def test_missing_file_is_refused(saved):
    (saved / "idf.npy").unlink()
    with pytest.raises(ModelError, match="idf.npy: missing model file"):
        load(saved)


def _exploit(marker) -> bytes:
    """A pickle that creates ``marker`` when it is loaded."""

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    return pickle.dumps(Exploit())


def test_tampered_array_with_a_pickle_never_runs(saved, tmp_path):
    # An attacker swaps in a pickle and fixes the checksum: loading must still not execute it.
    marker = tmp_path / "pwned"
    (saved / "coef.npy").write_bytes(_exploit(marker))
    checksum = "sha256:" + modelfile.file_sha256(saved / "coef.npy")
    _rewrite_manifest(saved, lambda m: m["files"].update({"coef.npy": checksum}))
    with pytest.raises(ModelError):
        load(saved)
    assert not marker.exists()


def test_failed_save_keeps_the_old_model(small_model, saved, monkeypatch):
    before = (saved / "coef.npy").read_bytes()

    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        modelfile.save(small_model[0], saved)
    assert (saved / "coef.npy").read_bytes() == before
    assert load(saved).predict(TEXTS) == small_model[0].predict(TEXTS)
    assert [p.name for p in saved.parent.iterdir()] == ["model"]


def test_save_over_an_existing_model_replaces_it(small_model, saved):
    modelfile.save(small_model[0], saved, name="again")
    assert load(saved).manifest["name"] == "again"
    assert [p.name for p in saved.parent.iterdir()] == ["model"]


def _tree(folder):
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.mark.parametrize("save_as", ["save", "predictor", "joblib"])
def test_a_folder_of_the_users_is_never_replaced_by_a_model(small_model, tmp_path, save_as):
    # A model saved into a folder that holds other things (a home folder, a results folder)
    # would delete them: refused, with nothing written and nothing left behind.
    mine = tmp_path / "documents"
    (mine / "notes").mkdir(parents=True)
    (mine / "thesis.txt").write_text("three years of work", encoding="utf-8")
    (mine / "notes" / "a.md").write_text("# notes", encoding="utf-8")
    before = _tree(mine)
    write = {
        "save": lambda: modelfile.save(small_model[0], mine),
        "predictor": lambda: small_model[0].save(mine),
        "joblib": lambda: joblib_export.export_joblib(small_model[0], mine),
    }[save_as]
    with pytest.raises(FileExistsError, match="holds other files, not a model folder"):
        write()
    assert _tree(mine) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["documents"]


def test_a_model_folder_with_files_of_ones_own_is_not_replaced(small_model, saved):
    (saved / "my-notes.txt").write_text("why this model", encoding="utf-8")
    with pytest.raises(FileExistsError, match=r"also holds files of its own \(my-notes.txt\)"):
        modelfile.save(small_model[0], saved)
    assert (saved / "my-notes.txt").exists() and load(saved).manifest["name"] == "small"


def test_a_model_goes_into_an_empty_folder_but_not_onto_a_file(small_model, tmp_path):
    (tmp_path / "empty").mkdir()
    modelfile.save(small_model[0], tmp_path / "empty")
    assert load(tmp_path / "empty").predict(TEXTS) == small_model[0].predict(TEXTS)
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(FileExistsError, match="is a file: a model is a folder"):
        modelfile.save(small_model[0], tmp_path / "file")
    assert (tmp_path / "file").read_text(encoding="utf-8") == "x"


def test_shipped_model_is_small_and_complete():
    path = modelfile.default_model_path()
    manifest = modelfile.read_manifest(path)
    size = sum(f.stat().st_size for f in path.iterdir())
    assert size <= 10 * 1024 * 1024
    assert manifest["topics"] == ["geopolitics", "energy", "domestic", "sports"]
    hand = manifest["metrics"]["heldout"]["hand"]
    assert hand["n"] >= 100


def _write_sealed(path, manifest):
    """What whoever hands over a folder can do: seal an edited manifest again (the checks of
    values below are for such folders)."""
    manifest["seal"] = modelfile.manifest_seal(manifest)
    path.write_text(json.dumps(manifest), encoding="utf-8")


@pytest.mark.parametrize(
    "change",
    [
        {"temperature": 2.0},
        {"topics": ["geopolitics", "energy", "domestic", "sport"]},
        {"max_chars": 4000},
        {"segment": False},
        {"none": True},
        {"features": {"ngram_range": [1, 1], "sublinear_tf": True}},
        {"features": {"ngram_range": [1, 2], "sublinear_tf": True, "repeat_title": True}},
        {"name": "another"},
        {"files": {}},
    ],
    ids=lambda change: next(iter(change)),
)
def test_any_edit_of_the_manifest_is_refused(saved, change):
    path = saved / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest.update(change)
    path.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    with pytest.raises(
        ModelError, match=r"manifest.json: the manifest was changed since the model was saved"
    ):
        load(saved)


def test_the_seal_counts_values_not_layout(saved, small_model):
    path = saved / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(dict(reversed(manifest.items()))), encoding="utf-8")
    assert load(saved).predict(TEXTS) == small_model[0].predict(TEXTS)


def test_an_unsealed_manifest_is_refused_and_seal_seals_it_once(saved, small_model):
    path = saved / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    del manifest["seal"]
    path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ModelError, match="manifest.json: the manifest is not sealed"):
        load(saved)
    modelfile.seal(saved)
    assert load(saved).predict(TEXTS) == small_model[0].predict(TEXTS)
    # An edit of a sealed manifest is not sealed again by seal(): it is refused.
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["temperature"] = 3.0
    path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ModelError, match="was changed since"):
        modelfile.seal(saved)


def test_the_shipped_model_is_sealed_as_save_writes_it(tmp_path):
    """models/default is what saving it writes: resaved, it is the same folder."""
    shipped = modelfile.default_model_path()
    predictor = load(shipped)
    manifest = predictor.manifest
    standard = {
        "format", "format_version", "name", "versions", "topics", "none", "none_head",
        "features", "max_chars", "segment", "temperature", "files", "seal",
    }  # fmt: skip
    if manifest["versions"] != modelfile.library_versions():
        pytest.skip("other library versions than those the shipped model was saved with")
    modelfile.save(
        predictor,
        tmp_path / "again",
        name=manifest["name"],
        extra={k: v for k, v in manifest.items() if k not in standard},
        card=(shipped / "README.md").read_text(encoding="utf-8"),
        attachments={
            name: (shipped / name).read_bytes()
            for name in manifest["files"]
            if name not in modelfile._RESERVED
        },
    )
    assert modeldiff.differences(shipped, tmp_path / "again") == []
    assert (tmp_path / "again/manifest.json").read_bytes() == (
        shipped / "manifest.json"
    ).read_bytes()
    # A user's way: load, save.
    predictor.save(tmp_path / "resaved")
    assert modeldiff.differences(shipped, tmp_path / "resaved") == []


def _rewrite_manifest(folder, change):
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    change(manifest)
    _write_sealed(path, manifest)


def test_empty_folder_is_refused(tmp_path):
    with pytest.raises(ModelError, match="missing manifest"):
        load(tmp_path)


def test_other_major_version_is_refused(saved):
    _rewrite_manifest(saved, lambda m: m["versions"].update(nlpkit="99.0.0"))
    with pytest.raises(ModelError, match="written by nlpkit 99.0.0"):
        load(saved)


def test_file_names_outside_the_folder_are_refused(saved):
    _rewrite_manifest(saved, lambda m: m["files"].update({"../x": "sha256:0"}))
    with pytest.raises(ModelError, match="points outside the folder"):
        load(saved)


@pytest.fixture
def exported(small_model, tmp_path):
    return joblib_export.export_joblib(small_model[0], tmp_path / "export")


def test_joblib_export_round_trip_needs_opt_in(small_model, exported):
    with pytest.raises(ModelError, match="allow_pickle=True"):
        joblib_export.import_joblib(exported)
    # An opt-in to run a file's code is True itself: "no" (true in Python) is refused.
    for option in ("allow_pickle", "strict_versions"):
        with pytest.raises(TypeError, match=f"{option} must be True or False, got 'no'"):
            joblib_export.import_joblib(exported, **{option: "no"})
    pipeline = joblib_export.import_joblib(exported, allow_pickle=True)
    assert list(pipeline.predict(TEXTS)) == small_model[0].predict(TEXTS)
    probs = pipeline.predict_proba(TEXTS)
    expected = [[p[t] for t in small_model[0].topics] for p in small_model[0].predict_proba(TEXTS)]
    np.testing.assert_allclose(probs, expected, atol=1e-12)


def test_joblib_export_is_not_loaded_as_a_native_model(exported):
    with pytest.raises(ModelError, match="use nlpkit.joblib_export.import_joblib"):
        load(exported)


def test_tampered_joblib_export_is_refused_before_it_runs(exported, tmp_path):
    marker = tmp_path / "pwned"
    (exported / "pipeline.joblib").write_bytes(_exploit(marker))
    with pytest.raises(ModelError, match="pipeline.joblib: checksum mismatch"):
        joblib_export.import_joblib(exported, allow_pickle=True)
    assert not marker.exists()


def test_joblib_export_from_another_scikit_learn_warns_or_refuses(exported):
    _rewrite_manifest(exported, lambda m: m["versions"].update({"scikit-learn": "0.24.2"}))
    with pytest.warns(joblib_export.VersionMismatchWarning, match="scikit-learn 0.24.2"):
        joblib_export.import_joblib(exported, allow_pickle=True)
    with pytest.raises(ModelError, match="scikit-learn 0.24.2"):
        joblib_export.import_joblib(exported, allow_pickle=True, strict_versions=True)


def _reseal(folder):
    """What whoever hands over a folder can do: rewrite the checksums to fit the files."""
    import hashlib

    path = folder / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for name in manifest["files"]:
        manifest["files"][name] = (
            "sha256:" + hashlib.sha256((folder / name).read_bytes()).hexdigest()
        )
    _write_sealed(path, manifest)


def _set_manifest(folder, **values):
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest.update(values)
    _write_sealed(path, manifest)


@pytest.mark.parametrize(
    "values, message",
    [
        ({"temperature": -1}, "'temperature' must be a number from 1e-06 to 1e"),
        ({"temperature": "hot"}, "'temperature' must be a number from"),
        # (beyond the range every probability is NaN, or all the same)
        ({"temperature": 1e308}, "'temperature' must be a number from"),
        ({"temperature": 1e-320}, "'temperature' must be a number from"),
        ({"max_chars": 0}, "'max_chars' must be a whole number from 1 to 100,000,000"),
        ({"max_chars": 5.5}, "'max_chars' must be a whole number"),
        ({"max_chars": 100_000_001}, "'max_chars' must be a whole number"),
        ({"segment": "yes"}, "'segment' must be true or false"),
        ({"none_head": "oracle"}, "'none_head' must be class or detector"),
        ({"features": {"ngram_range": [2, 9]}}, "'features' must be the feature settings"),
    ],
)
def test_resealed_manifest_values_are_checked(saved, values, message):
    _set_manifest(saved, **values)
    with pytest.raises(ModelError, match=message):
        load(saved)


@pytest.mark.parametrize(
    "name, change, message",
    [
        ("coef.npy", lambda a: a.__setitem__((0, 0), np.nan), "non-finite"),
        ("intercept.npy", lambda a: a.__setitem__(0, np.inf), "non-finite"),
        ("idf.npy", lambda a: a.__setitem__(0, -1.0), "non-positive"),
    ],
)
def test_resealed_arrays_with_bad_numbers_are_refused(saved, name, change, message):
    array = np.load(saved / name)
    change(array)
    np.save(saved / name, array)
    _reseal(saved)
    with pytest.raises(ModelError, match=f"{name}: holds .*{message}"):
        load(saved)


def test_an_array_header_claiming_a_huge_shape_is_refused_before_reading(saved):
    header = {"descr": "<f8", "fortran_order": False, "shape": (4, 10**11)}
    with (saved / "coef.npy").open("wb") as out:
        np.lib.format.write_array_header_1_0(out, header)
        out.write(b"\0" * 64)
    _reseal(saved)
    with pytest.raises(ModelError, match=r"coef.npy: expected float64 numbers of shape"):
        load(saved)


def test_an_array_of_the_wrong_dtype_or_size_is_refused(saved):
    coef = np.load(saved / "coef.npy")
    np.save(saved / "coef.npy", coef.astype(np.float32))
    _reseal(saved)
    with pytest.raises(ModelError, match="expected float64 numbers"):
        load(saved)
    np.save(saved / "coef.npy", coef)
    (saved / "coef.npy").write_bytes((saved / "coef.npy").read_bytes()[:-8])
    _reseal(saved)
    with pytest.raises(ModelError, match="bytes of data where"):
        load(saved)


def _damage_terms(terms: list[str], how: str) -> tuple[bytes, int]:
    """The bytes of a vocabulary file with one kind of damage, and the line it is on."""
    words = [i for i, t in enumerate(terms) if " " not in t]
    pairs = [i for i, t in enumerate(terms) if t.count(" ") == 1]
    lines = [t.encode("utf-8") + b"\n" for t in terms]
    if how == "repeated word":
        lines[words[3]] = lines[words[1]]
        return b"".join(lines), words[3] + 1
    if how == "repeated pair":
        lines[pairs[3]] = lines[pairs[1]]
        return b"".join(lines), pairs[3] + 1
    if how == "empty term":
        lines[5] = b"\n"
        return b"".join(lines), 6
    if how.startswith("not UTF-8"):
        bad = {"not UTF-8": b"\xff", "not UTF-8, a surrogate": b"\xed\xa0\x80",
               "not UTF-8, overlong": b"\xc0\xaf", "not UTF-8, cut short": b"\xe1\xba"}[how]  # fmt: skip
        lines[3] = lines[3][:-1] + bad + b"\n"
        return b"".join(lines), 4
    if how == "Windows line ends":
        return b"".join(line[:-1] + b"\r\n" for line in lines), 1
    if how == "a NUL in a term":
        lines[7] = lines[7][:-1] + b"\0\n"
        return b"".join(lines), 8
    if how == "a byte-order mark":
        return "\ufeff".encode() + b"".join(lines), 1
    assert how == "no newline at the end"
    return b"".join(lines)[:-1], len(lines)


@pytest.mark.parametrize("on", ["compiled core", "pure Python"])
@pytest.mark.parametrize(
    "how",
    [
        "repeated word",
        "repeated pair",
        "empty term",
        "not UTF-8",
        "not UTF-8, a surrogate",
        "not UTF-8, overlong",
        "not UTF-8, cut short",
        "no newline at the end",
        "Windows line ends",
        "a NUL in a term",
        "a byte-order mark",
    ],
)
def test_a_damaged_vocabulary_is_refused_on_either_path(saved, on, how):
    # The compiled core reads a vocabulary file's bytes itself: it must refuse what the
    # Python reader refuses, with the same message.
    from conftest import pure

    from nlpkit import compiled

    if on == "compiled core" and compiled.core is None:
        pytest.skip("the compiled core is not built here")
    terms = (saved / "vocabulary.txt").read_text(encoding="utf-8").split("\n")[:-1]
    data, line = _damage_terms(terms, how)
    (saved / "vocabulary.txt").write_bytes(data)
    _reseal(saved)
    control = "a control character or byte-order mark in a term"
    problem = {"repeated word": "a term given twice", "repeated pair": "a term given twice",
               "empty term": "an empty term", "Windows line ends": control,
               "a NUL in a term": control, "a byte-order mark": control,
               }.get(how, how.split(",")[0])  # fmt: skip
    message = rf"vocabulary.txt: expected one distinct, non-empty term per line \(line {line}: {problem}\)"
    with pure() if on == "pure Python" else _nothing():
        with pytest.raises(ModelError, match=message):
            load(saved)


def _nothing():
    import contextlib

    return contextlib.nullcontext()


def test_a_vocabulary_of_any_characters_loads_the_same_on_either_path(saved, small_model):
    # Terms with characters of every UTF-8 length, and a format character no text keeps, are
    # terms like any other: both paths read the file the same, and score the same. (A control
    # character or byte-order mark is refused: see above.)
    from conftest import pure

    terms = (saved / "vocabulary.txt").read_text(encoding="utf-8").split("\n")[:-1]
    odd = ["giá_xăng\u00ad", "x\u200by", "😀", "ü ñ"]
    terms[-len(odd) :] = odd
    (saved / "vocabulary.txt").write_text("".join(t + "\n" for t in terms), encoding="utf-8")
    _reseal(saved)
    fast = load(saved)
    with pure():
        slow = load(saved)
        assert slow._tfidf.terms_ == terms
        expected = slow.predict_proba(TEXTS)
    assert fast._tfidf.terms_ == terms
    assert fast.predict_proba(TEXTS) == expected


def test_an_array_header_in_another_form_is_read(saved, small_model):
    # numpy writes its header's keys in one order; any other form of the same dict is read too.
    import ast

    path = saved / "intercept.npy"
    data = path.read_bytes()
    size = int.from_bytes(data[8:10], "little")
    header = ast.literal_eval(data[10 : 10 + size].decode("latin-1"))
    text = repr(dict(reversed(header.items()))).encode("latin-1")
    text += b" " * (-(10 + len(text) + 1) % 64) + b"\n"
    path.write_bytes(data[:8] + len(text).to_bytes(2, "little") + text + data[10 + size :])
    _reseal(saved)
    assert (load(saved).intercept == small_model[0].intercept).all()


def test_loaded_weights_are_numpy_arrays_that_can_change(saved):
    import pickle as pickle_

    loaded = load(saved)
    assert isinstance(loaded.coef, np.ndarray) and isinstance(loaded.intercept, np.ndarray)
    before = loaded.predict_proba(TEXTS)
    assert pickle_.loads(pickle_.dumps(loaded)).predict_proba(TEXTS) == before
    loaded.intercept = loaded.intercept + np.array([0.0, 50.0, 0.0, 0.0])
    assert loaded.predict(TEXTS) == ["energy"] * len(TEXTS)


def test_a_link_to_a_file_outside_the_folder_is_refused(saved, tmp_path):
    outside = tmp_path / "elsewhere.md"
    outside.write_bytes((saved / "README.md").read_bytes())
    (saved / "README.md").unlink()
    (saved / "README.md").symlink_to(outside)
    with pytest.raises(ModelError, match="README.md: a link to a file outside the model folder"):
        load(saved)


def test_an_empty_path_is_refused_not_read_as_the_current_folder(tmp_path, monkeypatch):
    import nlpkit

    monkeypatch.chdir(tmp_path)  # (an empty folder: a save there would have gone through)
    with pytest.raises(ValueError, match="the path is empty: name a model folder"):
        nlpkit.load("")
    with pytest.raises(ValueError, match="the path is empty: name a model folder to write"):
        nlpkit.load().save("")
    assert list(tmp_path.iterdir()) == []


# -- saving while others read -------------------------------------------------------------------


def test_a_folder_saved_again_while_it_is_read_is_always_read_whole(small_model, tmp_path):
    # A service reloading a model that a trainer saves again: every load finds one whole
    # model, the old or the new, never a missing or mixed folder.
    import threading

    first = small_model[0]
    second = load(modelfile.save(first, tmp_path / "b", name="b"))
    second.intercept = second.intercept + 1.0  # (another model: other probabilities)
    target = tmp_path / "target"
    modelfile.save(first, target, name="a")
    expected = {
        "a": first.predict_proba(TEXTS[0]),
        "b": second.predict_proba(TEXTS[0]),
    }
    stop, problems, loads = threading.Event(), [], []

    def reader() -> None:
        while not stop.is_set():
            try:
                model = load(target)
            except Exception as exc:  # noqa: BLE001 (any failure is the finding)
                problems.append(repr(exc))
                continue
            loads.append(model.predict_proba(TEXTS[0]) == expected[model.manifest["name"]])

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for k in range(40):
            model, name = (first, "a") if k % 2 else (second, "b")
            modelfile.save(model, target, name=name)
    finally:
        stop.set()
        thread.join()
    assert problems == [] and loads and all(loads)


def test_what_load_refuses_is_never_saved_and_the_old_model_stays(small_model, tmp_path):
    model = load(modelfile.save(small_model[0], tmp_path / "m", name="m"))
    # (the settings' own setters refuse these values too: set here past them, as a subclass
    # or a damaged object could hold them)
    for attribute, value, message in [
        ("_max_chars", 0, "'max_chars' must be a whole number"),
        ("_max_chars", 2.5, "'max_chars' must be a whole number"),
        ("_temperature", float("nan"), "'temperature' must be a number"),
        ("_topics", ("energy", "energy", "sports", "domestic"), "'topics' must be a list"),
    ]:
        saved_value = getattr(model, attribute)
        setattr(model, attribute, value)
        with pytest.raises(ValueError, match=message) as caught:
            model.save(tmp_path / "m")
        assert "nothing was written" in str(caught.value)
        setattr(model, attribute, saved_value)
        assert load(tmp_path / "m").predict_proba(TEXTS) == small_model[0].predict_proba(TEXTS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]
    # None, "all of the text", is a setting a folder keeps.
    model.max_chars = None
    assert load(model.save(tmp_path / "all")).max_chars is None


def test_a_saved_folder_has_the_permissions_of_the_umask(small_model, tmp_path):
    # (tempfile's folders are its owner's alone: a model another account serves must not be)
    old = os.umask(0o022)
    try:
        path = small_model[0].save(tmp_path / "shared")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o755
    assert (path / "coef.npy").stat().st_mode & 0o777 == 0o644


def test_a_killed_save_leaves_nothing_a_later_save_keeps(small_model, tmp_path):
    from nlpkit import folders

    host = folders._host()
    dead = tmp_path / f".model.{host}.999999999.0123abcd.tmp"  # (no process has that number)
    aside = tmp_path / f".model.{host}.999999999.old"
    alive = tmp_path / f".model.{host}.{os.getppid()}.0123abcd.tmp"  # (a running process's)
    elsewhere = tmp_path / ".model.another-host.999999999.0123abcd.tmp"
    for folder in (dead, aside, alive, elsewhere):
        folder.mkdir()
        (folder / "coef.npy").write_bytes(b"half")
    small_model[0].save(tmp_path / "model")
    assert not dead.exists() and not aside.exists()
    assert alive.exists() and elsewhere.exists()


def test_an_unreadable_or_nested_manifest_is_a_model_error(saved, tmp_path):
    with pytest.raises(ModelError, match="cannot be read"):
        load(tmp_path / ("x" * 5000))  # (a name longer than the system takes)
    manifest = json.loads((saved / "manifest.json").read_text(encoding="utf-8"))
    manifest["name"] = "NESTED"
    deep = "[" * 100_000 + "]" * 100_000
    (saved / "manifest.json").write_text(json.dumps(manifest).replace('"NESTED"', deep))
    with pytest.raises(ModelError, match="damaged manifest"):
        load(saved)


def test_a_manifest_linked_from_outside_the_folder_is_refused(saved, tmp_path):
    outside = tmp_path / "elsewhere.json"
    (saved / "manifest.json").rename(outside)
    (saved / "manifest.json").symlink_to(outside)
    with pytest.raises(ModelError, match="a link to a file outside the model folder"):
        load(saved)


def test_a_model_reading_the_most_characters_loads_and_answers_as_any(saved, small_model):
    # (the compiled scorer's table of tf values was as long as max_chars: 10**8 entries)
    _set_manifest(saved, max_chars=modelfile.MAX_CHARS_LIMIT)
    model = load(saved)
    assert model.max_chars == modelfile.MAX_CHARS_LIMIT
    assert model.predict_proba(TEXTS) == small_model[0].predict_proba(TEXTS)


def test_the_model_shipped_inside_an_installed_nlpkit_is_never_replaced(
    small_model, tmp_path, monkeypatch
):
    # Installed, the shipped model is every caller's default: a save onto it is refused. (A
    # checkout's models/default, outside the package's folder, is rebuilt by its recipe.)
    site = tmp_path / "site-packages" / "nlpkit"
    (site / "models" / "default").mkdir(parents=True)
    folders = {"nlpkit": site, "nlpkit.models": site / "models"}
    monkeypatch.setattr(modelfile, "package_folder", folders.get)
    with pytest.raises(FileExistsError, match="the model shipped inside the installed nlpkit"):
        small_model[0].save(site / "models" / "default")
    assert not any((site / "models" / "default").iterdir())
    checkout = {
        "nlpkit": tmp_path / "repo" / "nlpkit",
        "nlpkit.models": tmp_path / "repo" / "models",
    }
    monkeypatch.setattr(modelfile, "package_folder", checkout.get)
    assert load(small_model[0].save(tmp_path / "repo" / "models" / "default")).topics


def test_terms_a_vocabulary_file_cannot_hold_are_refused_when_saving(small_model, tmp_path):
    import copy

    for bad in ["giá\nxăng", "giá\rxăng", "giá\x00"]:
        model = copy.deepcopy(small_model[0])
        terms = list(model.features.terms_)
        terms[3] = bad
        model.features.terms_ = terms
        with pytest.raises(ValueError, match="nothing was written"):
            modelfile.save(model, tmp_path / "m")
        assert not (tmp_path / "m").exists()


def test_numbers_load_would_refuse_are_never_saved(small_model, tmp_path):
    import copy

    good = modelfile.save(small_model[0], tmp_path / "m", name="m")
    for change, message in [
        # (the setters refuse such numbers: the weights are changed behind them, as an old
        # pickle or a subclass could)
        (lambda m: m._coef.__setitem__((0, 5), np.nan), "its coef holds non-finite"),
        (lambda m: m._intercept.__setitem__(1, np.inf), "its intercept holds non-finite"),
        (lambda m: m.features.idf_.__setitem__(3, -1.0), "its idf holds non-positive"),
        (lambda m: m.features.terms_.__setitem__(7, "zzqx\nqqzy"), "holds a line end"),
    ]:
        model = copy.deepcopy(small_model[0])
        model._coef, model._intercept = np.array(model.coef), np.array(model.intercept)
        model.features.idf_ = np.array(model.features.idf_)
        model.features.terms_ = list(model.features.terms_)
        change(model)
        with pytest.raises(ValueError, match=message) as caught:
            modelfile.save(model, good)
        assert "nothing was written" in str(caught.value)
        assert load(good).predict_proba(TEXTS) == small_model[0].predict_proba(TEXTS)
    model = copy.deepcopy(small_model[0])
    model.max_chars = np.int64(300)  # (a count computed with numpy)
    assert load(modelfile.save(model, tmp_path / "n")).max_chars == 300


def _without_privileges() -> list[str]:
    """A command prefix that runs a child without the privileges that pass over permissions
    (root's), or none when this process has none to drop."""
    import shutil

    if os.geteuid() != 0:
        return []
    if not shutil.which("setpriv"):
        pytest.skip("running as root, and no setpriv to drop root's privileges")
    return ["setpriv", "--bounding-set=-all", "--inh-caps=-all"]


def test_a_folder_that_cannot_be_saved_whole_is_refused_before_anything_is_written(tmp_path):
    # A read-only model folder was swapped out and then could not be emptied: it stayed
    # beside the new one, hidden; a file on the way gave "File exists".
    import subprocess
    import sys

    script = textwrap.dedent("""
        import os, sys
        from nlpkit import load
        model = load()
        model.save("rom")
        os.chmod("rom", 0o555)
        os.mkdir("ro")
        os.chmod("ro", 0o555)
        open("afile", "w").close()
        for target in ("rom", "ro/m", "afile/sub"):
            try:
                model.save(target)
            except OSError as exc:
                print(type(exc).__name__, exc.strerror)
        print(sorted(os.listdir(".")))
    """)
    try:
        result = subprocess.run(
            [*_without_privileges(), sys.executable, "-c", script],
            cwd=tmp_path, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        for folder in ("rom", "ro"):
            if (tmp_path / folder).exists():
                (tmp_path / folder).chmod(0o755)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "PermissionError cannot replace the read-only folder rom: nothing was written",
        f"PermissionError cannot write in folder {tmp_path / 'ro'}: nothing was written",
        f"NotADirectoryError {tmp_path / 'afile'} is a file, not a folder: nothing was written",
        "['afile', 'ro', 'rom']",
    ]


def test_paths_of_every_shape_save_where_they_say(small_model, tmp_path, monkeypatch):
    model = small_model[0]
    # "." or "..": the working folder itself would be swapped away: refused, before anything.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path / "empty")
    for name in (".", ".."):
        with pytest.raises(FileExistsError, match="names no folder of its own"):
            model.save(name)
    assert list((tmp_path / "empty").iterdir()) == []
    # A link to a model folder saves the folder it names, and leaves no link behind.
    target = modelfile.save(model, tmp_path / "target", name="first")
    (tmp_path / "link").symlink_to(target)
    modelfile.save(model, tmp_path / "link", name="second")
    assert (tmp_path / "link").is_symlink()
    assert load(target).manifest["name"] == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "link", "target"]
    # A long name (the system's limit is 255): its hidden twin fits too.
    long = tmp_path / ("m" * 240)
    assert load(model.save(long)).topics == model.topics


def test_a_card_says_which_settings_changed_since_training(tmp_path):
    # A temperature set after training was saved beside a card of the one trained.
    model = load()
    model.save(tmp_path / "same")
    assert "Changed since training" not in (tmp_path / "same" / "README.md").read_text("utf-8")
    model.temperature = 2.0
    model.save(tmp_path / "warmer")
    card = (tmp_path / "warmer" / "README.md").read_text("utf-8")
    assert "**Changed since training**: temperature 1.0 → 2.0. The figures below are" in card
    assert load(tmp_path / "warmer").temperature == 2.0
    # Saved again, by the same object or loaded from the folder, the card still says it.
    model.save(tmp_path / "again")
    load(tmp_path / "warmer").save(tmp_path / "loaded")
    for folder in ("again", "loaded"):
        card = (tmp_path / folder / "README.md").read_text("utf-8")
        assert "**Changed since training**: temperature 1.0 → 2.0." in card, folder
    model.temperature = 1.0
    model.save(tmp_path / "back")
    assert "Changed since training" not in (tmp_path / "back" / "README.md").read_text("utf-8")
