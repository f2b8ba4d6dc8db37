import json
import os
import pickle

import numpy as np
import pytest

from nlpkit import ModelError, load, modelfile

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


def test_save_leaves_no_temporary_files(saved):
    assert [p.name for p in saved.parent.iterdir()] == ["model"]


def test_arrays_hold_no_pickles(saved):
    for name in ("idf", "coef", "intercept"):
        np.load(saved / f"{name}.npy", allow_pickle=False)


def test_missing_folder(tmp_path):
    with pytest.raises(ModelError, match="model folder not found"):
        load(tmp_path / "nothing")


def test_missing_manifest(saved):
    (saved / "manifest.json").unlink()
    with pytest.raises(ModelError, match="manifest.json: missing manifest"):
        load(saved)


def test_damaged_manifest(saved):
    (saved / "manifest.json").write_text('{"format": "nlpkit-linear", ', encoding="utf-8")
    with pytest.raises(ModelError, match="damaged manifest"):
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
    checksum = "sha256:" + modelfile._sha256(saved / "coef.npy")
    _rewrite_manifest(saved, lambda m: m["files"].update({"coef.npy": checksum}))
    with pytest.raises(ModelError):
        load(saved)
    assert not marker.exists()


def test_failed_save_keeps_the_old_model(small_model, saved, monkeypatch):
    before = (saved / "coef.npy").read_bytes()

    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(modelfile.np, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        modelfile.save(small_model[0], saved)
    assert (saved / "coef.npy").read_bytes() == before
    assert load(saved).predict(TEXTS) == small_model[0].predict(TEXTS)
    assert [p.name for p in saved.parent.iterdir()] == ["model"]


def test_save_over_an_existing_model_replaces_it(small_model, saved):
    modelfile.save(small_model[0], saved, name="again")
    assert load(saved).manifest["name"] == "again"
    assert [p.name for p in saved.parent.iterdir()] == ["model"]


def test_shipped_model_is_small_and_complete():
    path = modelfile.default_model_path()
    manifest = modelfile.read_manifest(path)
    size = sum(f.stat().st_size for f in path.iterdir())
    assert size <= 10 * 1024 * 1024
    assert manifest["topics"] == ["geopolitics", "energy", "domestic", "sports"]
    hand = manifest["metrics"]["heldout"]["hand"]
    assert hand["n"] >= 100


def _rewrite_manifest(folder, change):
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    change(manifest)
    path.write_text(json.dumps(manifest), encoding="utf-8")


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
    return modelfile.export_joblib(small_model[0], tmp_path / "export")


def test_joblib_export_round_trip_needs_opt_in(small_model, exported):
    with pytest.raises(ModelError, match="allow_pickle=True"):
        modelfile.import_joblib(exported)
    pipeline = modelfile.import_joblib(exported, allow_pickle=True)
    assert list(pipeline.predict(TEXTS)) == small_model[0].predict(TEXTS)
    probs = pipeline.predict_proba(TEXTS)
    expected = [[p[t] for t in small_model[0].topics] for p in small_model[0].predict_proba(TEXTS)]
    np.testing.assert_allclose(probs, expected, atol=1e-12)


def test_joblib_export_is_not_loaded_as_a_native_model(exported):
    with pytest.raises(ModelError, match="use import_joblib"):
        load(exported)


def test_tampered_joblib_export_is_refused_before_it_runs(exported, tmp_path):
    marker = tmp_path / "pwned"
    (exported / "pipeline.joblib").write_bytes(_exploit(marker))
    with pytest.raises(ModelError, match="pipeline.joblib: checksum mismatch"):
        modelfile.import_joblib(exported, allow_pickle=True)
    assert not marker.exists()


def test_joblib_export_from_another_scikit_learn_warns_or_refuses(exported):
    _rewrite_manifest(exported, lambda m: m["versions"].update({"scikit-learn": "0.24.2"}))
    with pytest.warns(modelfile.VersionMismatchWarning, match="scikit-learn 0.24.2"):
        modelfile.import_joblib(exported, allow_pickle=True)
    with pytest.raises(ModelError, match="scikit-learn 0.24.2"):
        modelfile.import_joblib(exported, allow_pickle=True, strict_versions=True)


def _reseal(folder):
    """What whoever hands over a folder can do: rewrite the checksums to fit the files."""
    import hashlib

    path = folder / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for name in manifest["files"]:
        manifest["files"][name] = (
            "sha256:" + hashlib.sha256((folder / name).read_bytes()).hexdigest()
        )
    path.write_text(json.dumps(manifest), encoding="utf-8")


def _set_manifest(folder, **values):
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest.update(values)
    path.write_text(json.dumps(manifest), encoding="utf-8")


@pytest.mark.parametrize(
    "values, message",
    [
        ({"temperature": -1}, "'temperature' must be a positive finite number"),
        ({"temperature": "hot"}, "'temperature' must be a positive finite number"),
        ({"max_chars": 0}, "'max_chars' must be a positive whole number"),
        ({"max_chars": 5.5}, "'max_chars' must be a positive whole number"),
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


def test_a_vocabulary_with_repeated_terms_is_refused(saved):
    terms = (saved / "vocabulary.txt").read_text(encoding="utf-8").split("\n")
    terms[1] = terms[0]
    (saved / "vocabulary.txt").write_text("\n".join(terms), encoding="utf-8")
    _reseal(saved)
    with pytest.raises(ModelError, match="one distinct, non-empty term per line"):
        load(saved)


def test_a_link_to_a_file_outside_the_folder_is_refused(saved, tmp_path):
    outside = tmp_path / "elsewhere.md"
    outside.write_bytes((saved / "README.md").read_bytes())
    (saved / "README.md").unlink()
    (saved / "README.md").symlink_to(outside)
    with pytest.raises(ModelError, match="README.md: a link to a file outside the model folder"):
        load(saved)
