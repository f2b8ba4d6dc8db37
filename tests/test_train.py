import json
import re

import pytest
from conftest import ROOT, SEED_TITLES

from nlpkit.train import ConfigError, load_config


def write(tmp_path, text):
    path = tmp_path / "exp.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_config_defaults_and_name(tmp_path):
    cfg = load_config(write(tmp_path, "[features]\nmin_df = 3\n"))
    assert cfg["name"] == "exp" and cfg["features"]["min_df"] == 3
    assert cfg["features"]["ngram_range"] == [1, 2]


@pytest.mark.parametrize(
    "text, message",
    [
        ("colour = 1\n", "unknown config key 'colour'"),
        ("[features]\nngrams = [1, 2]\n", "unknown config key 'features.ngrams'"),
        ("[features]\nmin_df = 'two'\n", "'features.min_df' must be int"),
        ("[features]\nsublinear_tf = 1\n", "'features.sublinear_tf' must be bool"),
        ("[features]\nngram_range = [2, 1]\n", "ngram_range"),
        ("[classifier]\nkind = 'forest'\n", "'classifier.kind' must be one of"),
        ("[classifier]\nC = -1\n", "'classifier.C' must be positive"),
        ("features = 3\n", "'features' must be a table"),
        ("[data\n", "not valid TOML"),
        ("[data.weights]\nvntcc = 2.0\n", "'data.weights' names unknown dataset 'vntcc'"),
        ("[data.weights]\nvntc = -1\n", "'data.weights.vntc' must be a positive number"),
        ("[features]\nmax_df = 5.0\n", "'features.max_df' must be a share in (0, 1]"),
        ("[features]\nmin_df = 0\n", "'features.min_df' must be a share in (0, 1]"),
        ("[features]\nmin_df = 0.6\nmax_df = 0.5\n", "must not be above"),
        ("n_jobs = -7\n", "'n_jobs' must be at least 1, got -7"),
        ("[data]\ndatasets = ['vntc', 'reddit']\n", "unknown dataset 'reddit'"),
        ("[data]\ndatasets = []\n", "at least one dataset"),
        ("[classifier]\nclass_weight = 'even'\n", "'classifier.class_weight' must be"),
        ("[data]\ncleanup_threshold = 1.5\n", "'data.cleanup_threshold' must be within"),
        ("[data]\ntrain_files = ['other.jsonl']\n", "'data.train_files' names 'other.jsonl'"),
        ("[data]\nwithout_functions = ['abroadd']\n", "names unknown function 'abroadd'"),
        ("[data]\nout_of_scope = 'keep'\n", "must be drop, class or detector, got 'keep'"),
        ("[classifier]\nnone_offset = -1.5\n", "needs 'data.out_of_scope' class or detector"),
        (
            "[data]\nout_of_scope = 'detector'\n[classifier]\nkind = 'linear_svc'\n",
            "detector needs 'classifier.kind' logistic_regression",
        ),
    ],
)
def test_bad_configs_get_clear_errors(tmp_path, text, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(write(tmp_path, text))


def test_config_errors_name_the_line(tmp_path):
    with pytest.raises(ConfigError, match=r"exp.toml:3: unknown config key 'data.colour'"):
        load_config(write(tmp_path, "seed = 1\n[data]\ncolour = 'red'\n"))


def test_missing_config(tmp_path):
    with pytest.raises(ConfigError, match="config not found"):
        load_config(tmp_path / "none.toml")
    with pytest.raises(ConfigError, match="cannot read config .*: Is a directory"):
        load_config(tmp_path)


def test_missing_hand_labels_stop_training_with_their_name(tmp_path, small_model):
    import copy

    from nlpkit.train import train

    _, _, cfg = small_model
    cfg = copy.deepcopy(cfg)
    cfg["data"]["dev_labels"] = [str(tmp_path / "dev.tsv")]
    with pytest.raises(ValueError, match=r"development labels not found: .*dev.tsv"):
        train(cfg)


def test_hand_label_files_are_checked(tmp_path):
    from nlpkit.evaluate import read_labels

    path = tmp_path / "labels.tsv"
    path.write_text("id\ttopic\na\tenergy\nb\tsport\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"labels.tsv:3: expected an id and one of"):
        read_labels(path)
    path.write_text("id\ttopic\na\tenergy\na\tnone\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"labels.tsv:3: a is labelled twice"):
        read_labels(path)


@pytest.mark.parametrize("path", sorted((ROOT / "experiments").rglob("*.toml")))
def test_repository_configs_load(path):
    load_config(path)


def test_small_model_learns_energy_without_an_energy_section(small_model):
    predictor, metrics, _ = small_model
    assert metrics["training"]["labels"]["energy"] > 0
    assert predictor.topics == ("geopolitics", "energy", "domestic", "sports")


def test_small_model_predicts_the_seed_titles(small_model):
    predictor = small_model[0]
    titles = list(SEED_TITLES)
    right = sum(p == SEED_TITLES[t] for t, p in zip(titles, predictor.predict(titles)))
    assert right >= 8  # a 32-sentence corpus is not the shipped model; most must still be right


def test_training_is_reproducible(small_model, tmp_path):
    from nlpkit.cache import SegmentCache
    from nlpkit.train import train

    predictor, _, cfg = small_model
    again, _ = train(cfg, cache=SegmentCache(tmp_path / "c.sqlite"))
    assert (
        again.coef == predictor.coef
    ).all() and again.features.terms_ == predictor.features.terms_


@pytest.mark.corpus
@pytest.mark.slow
def test_train_on_a_slice_of_the_real_corpus(shared_data, tmp_path):
    """A small real model: a slice of the 2020s corpus, through the same trainer."""
    import copy

    from nlpkit.cache import SegmentCache
    from nlpkit.train import DEFAULTS, train

    subset = tmp_path / "slice.jsonl"
    with subset.open("w", encoding="utf-8") as out:
        for i, line in enumerate((shared_data / "vnexpress_2020s.jsonl").open(encoding="utf-8")):
            if i % 4 == 0:
                out.write(line)
    cfg = copy.deepcopy(DEFAULTS)
    cfg["data"]["corpora"] = [str(subset)]
    cfg["data"]["eval_labels"] = [str(ROOT / "experiments/labels/heldout.tsv")]
    predictor, metrics = train(cfg, cache=SegmentCache(tmp_path / "c.sqlite"))
    assert metrics["heldout"]["distant"]["n"] > 300
    assert metrics["heldout"]["distant"]["accuracy"] > 0.8
    assert predictor.predict("Giá xăng RON95 tăng hơn 1.000 đồng mỗi lít") == "energy"


def _small_cfg(tmp_path, **changes):
    import copy

    from conftest import write_small_corpus

    from nlpkit.train import DEFAULTS

    cfg = copy.deepcopy(DEFAULTS)
    cfg["name"] = "small"
    cfg["data"]["corpora"] = [str(write_small_corpus(tmp_path / "corpus.jsonl"))]
    cfg["data"]["eval_labels"] = []
    cfg["features"].update(min_df=1, max_features=0)
    cfg["n_jobs"] = 1
    for section, values in changes.items():
        if isinstance(values, dict):
            cfg[section].update(values)
        else:
            cfg[section] = values
    return cfg


@pytest.mark.parametrize("kind", ["linear_svc", "sgd", "complement_nb", "logistic_regression"])
def test_every_classifier_trains_a_linear_model(tmp_path, kind):
    from nlpkit.cache import SegmentCache
    from nlpkit.train import train

    cfg = _small_cfg(tmp_path, classifier={"kind": kind, "C": 1.0, "alpha": 0.01})
    predictor, metrics = train(cfg, cache=SegmentCache(tmp_path / "c.sqlite"))
    assert predictor.predict("Giá xăng dầu tăng mạnh, EVN tăng giá điện") == "energy"
    assert sum(predictor.predict_proba("Giá điện").values()) == pytest.approx(1)
    assert (predictor.temperature != 1.0) == (kind in ("linear_svc", "sgd"))
    assert metrics["training"]["temperature"] == predictor.temperature


def test_complement_nb_probabilities_are_scikit_learns(tmp_path):
    from sklearn.naive_bayes import ComplementNB

    from nlpkit.cache import SegmentCache
    from nlpkit.train import _label, train

    cfg = _small_cfg(
        tmp_path, classifier={"kind": "complement_nb", "alpha": 0.5, "class_weight": ""}
    )
    predictor, _ = train(cfg, cache=SegmentCache(tmp_path / "c.sqlite"))
    from nlpkit.corpus import read_corpus
    from nlpkit.text import prepare

    records = list(read_corpus(cfg["data"]["corpora"]))
    texts = [prepare(r.full_text) for r in records]
    labels = [_label(r, cfg)[0] for r in records]
    weights = [_label(r, cfg)[1] for r in records]
    X = predictor.features.transform(texts)
    ref = ComplementNB(alpha=0.5).fit(X, labels, sample_weight=weights)
    order = [list(ref.classes_).index(t) for t in predictor.topics]
    queries = ["Giá xăng tăng", "Nga và NATO"]
    expected = ref.predict_proba(predictor.features.transform([prepare(q) for q in queries]))
    got = predictor.predict_proba(queries)
    for row, probs in zip(expected, got):
        assert [probs[t] for t in predictor.topics] == pytest.approx(row[order].tolist())


def test_raw_syllables_and_section_labels_and_cross_validation(tmp_path):
    from nlpkit.cache import SegmentCache
    from nlpkit.train import train

    cfg = _small_cfg(tmp_path, features={"segment": False}, data={"labels": "section"}, cv=3)
    predictor, metrics = train(cfg, cache=SegmentCache(tmp_path / "c.sqlite"))
    assert not predictor.segment
    assert "Kinh doanh" in predictor.topics  # the sections themselves are the labels
    cv = metrics["cross_validation"]
    assert cv["folds"] == 3 and 0 <= cv["macro_f1_mean"] <= 1


def test_metrics_schema(small_model):
    _, metrics, _ = small_model
    assert {
        "name",
        "training",
        "cross_validation",
        "corpus",
        "heldout",
        "versions",
        "config",
    } <= metrics.keys()
    assert {"records", "labelled", "labels", "terms", "fit_seconds", "total_seconds"} <= metrics[
        "training"
    ].keys()
    assert metrics["corpus"]["fingerprint"].startswith("sha256:")
    assert {"accuracy", "macro_f1", "distant", "hand", "predict_seconds"} <= metrics[
        "heldout"
    ].keys()
    assert {"python", "scikit-learn", "pyvi", "numpy", "nlpkit"} <= metrics["versions"].keys()
    json.dumps(metrics)  # serialisable as it is


def test_seed_snippets_become_unsectioned_records():
    from nlpkit.train import snippet_records

    records = snippet_records([str(ROOT / "seeds" / "*.txt")])
    assert len(records) == 8 and len({r.id for r in records}) == 8
    assert all(r.source_category == "" and r.text_kind == "title_sapo" for r in records)
    assert records[1].title.startswith("Toàn cảnh khí đốt EU")


def test_cleanup_relabels_a_contradicted_label(tmp_path):
    import numpy as np

    from nlpkit.text import prepare
    from nlpkit.train import clean_labels

    cfg = _small_cfg(tmp_path, data={"cleanup": "relabel", "cleanup_threshold": 0.5})
    from conftest import SMALL_CORPUS

    texts, labels = [], []
    for topic, items in SMALL_CORPUS.items():
        for _ in range(3):
            texts += [prepare(t) for t in items]
            labels += [topic] * len(items)
    wrong = labels.index("sports")
    labels[wrong] = "geopolitics"  # a sports headline with a wrong weak label
    keep, new, info = clean_labels(texts, labels, np.ones(len(texts)), cfg)
    assert len(keep) == len(texts) and new[wrong] == "sports"
    assert info["changed"] >= 1 and "geopolitics->sports" in info["changes"]
    cfg["data"]["cleanup"] = "drop"
    keep, new, _ = clean_labels(texts, labels, np.ones(len(texts)), cfg)
    assert wrong not in keep and len(new) == len(keep)


def test_mapped_recipe_has_no_energy_and_scores_title_only(tmp_path):
    from nlpkit.cache import SegmentCache
    from nlpkit.train import train

    cfg = _small_cfg(tmp_path, data={"labels": "mapped"})
    predictor, metrics = train(cfg, cache=SegmentCache(tmp_path / "c.sqlite"))
    # Energy has no section: the section table alone cannot teach it.
    assert "energy" not in metrics["training"]["labels"]
    assert "hand_title_only" in metrics["heldout"] and "dev" in metrics


def test_split_skips_copies_and_follows_vntc_protocol_when_asked():
    import copy

    from nlpkit.corpus import Record
    from nlpkit.train import DEFAULTS, _split

    def rec(i, split, duplicate_of=None, original_heldout=None):
        return Record(
            id=i,
            source_dataset="vntc",
            source_category="The gioi",
            text="t",
            split=split,
            duplicate_of=duplicate_of,
            original_heldout=original_heldout,
        )

    records = [
        rec("test", "Test_Full"),
        rec("train", "Train_Full"),
        rec("train-copy-of-test", "Train_Full", "test", True),
        rec("train-copy-of-train", "Train_Full", "train", False),
        rec("test-copy-of-train", "Test_Full", "train", False),
        rec("other-test", "Test_Full"),
    ]
    cfg = copy.deepcopy(DEFAULTS)
    train, heldout, unique = _split(records, cfg)
    assert [r.id for r in train] == ["train"]
    assert [r.id for r in heldout] == [
        "test",
        "train-copy-of-test",
        "test-copy-of-train",
        "other-test",
    ]
    assert unique is heldout
    cfg["data"].update(split="vntc", datasets=["vntc"])
    train, heldout, unique = _split(records, cfg)
    assert [r.id for r in train] == ["train", "train-copy-of-test", "train-copy-of-train"]
    assert [r.id for r in heldout] == ["test", "test-copy-of-train", "other-test"]
    # Without copies: no test file whose text a training file shares.
    assert [r.id for r in unique] == ["other-test"]


def _sha256(path) -> str:
    import hashlib

    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def test_shipped_model_was_trained_on_the_inputs_the_repository_holds():
    # A hand label or news page changed since the shipped model was trained means the model
    # is not what `nlpkit train experiments/default.toml` builds: retrain it.
    manifest = json.loads((ROOT / "models/default/manifest.json").read_text(encoding="utf-8"))
    inputs = manifest["training_inputs"]
    assert inputs["hand_labels"] and inputs["pages"]
    for path, digest in {**inputs["hand_labels"], **inputs["pages"]}.items():
        assert _sha256(ROOT / path) == digest, f"{path} changed since the shipped model was trained"
    assert manifest["training_config"] == load_config(ROOT / "experiments/default.toml")


@pytest.mark.corpus
def test_shipped_model_was_trained_on_these_corpora(shared_data):
    manifest = json.loads((ROOT / "models/default/manifest.json").read_text(encoding="utf-8"))
    for name, digest in manifest["training_inputs"]["corpus"].items():
        assert _sha256(shared_data / name) == digest, f"{name} is not the corpus of the model"


def test_train_files_leave_the_other_files_to_evaluation(tmp_path, small_model):
    import copy

    from conftest import write_small_corpus

    from nlpkit.cache import SegmentCache
    from nlpkit.train import train

    _, metrics, cfg = small_model
    extra = write_small_corpus(tmp_path / "extra.jsonl", copies=1, heldout_copies=1)
    extra.write_text(extra.read_text(encoding="utf-8").replace('"test-', '"extra-'), "utf-8")
    cfg = copy.deepcopy(cfg)
    cfg["data"]["corpora"].append(str(extra))
    cfg["data"]["train_files"] = ["corpus.jsonl"]
    _, with_extra = train(cfg, cache=SegmentCache(tmp_path / "cache.sqlite"))
    # The extra file trains nothing but its held-out texts are scored.
    assert with_extra["training"]["records"] == metrics["training"]["records"]
    assert with_extra["heldout"]["distant"]["n"] > metrics["heldout"]["distant"].get("n", 0)


def test_a_label_model_learned_from_hand_labels(tmp_path, small_model):
    import copy

    from nlpkit.cache import SegmentCache
    from nlpkit.train import train

    _, _, cfg = small_model
    labels = tmp_path / "train.tsv"
    rows = [
        f"test-{t}-1-{i}\t{t}"
        for t in ("geopolitics", "energy", "domestic", "sports")
        for i in range(3)
    ]
    labels.write_text("id\ttopic\n" + "\n".join(rows) + "\n", encoding="utf-8")
    cfg = copy.deepcopy(cfg)
    cfg["data"].update(train_labels=[str(labels)], label_model="learned")
    predictor, metrics = train(cfg, cache=SegmentCache(tmp_path / "cache.sqlite"))
    assert metrics["training"]["hand_labelled"] == 12
    assert set(metrics["training"]["labels"]) == set(predictor.topics)
    assert predictor.predict("Giá xăng dầu tăng mạnh") == "energy"


def test_the_top_probability_threshold_baseline(small_model):
    import numpy as np

    from nlpkit.corpus import Record
    from nlpkit.train import _threshold_baseline

    predictor = small_model[0]
    records = [
        Record(id=str(i), source_dataset="vnexpress_2020s", source_category="x", text="t")
        for i in range(4)
    ]
    # Two sure texts of a topic, two unsure ones out of scope: a threshold between separates them.
    scores = np.array([[9.0, 0, 0, 0], [0, 9.0, 0, 0], [0.1, 0, 0, 0], [0, 0, 0.1, 0]])
    truth = ["geopolitics", "energy", "none", "none"]
    found = _threshold_baseline(predictor, scores, records, list(zip(records, truth)))
    assert found["accuracy"] == 1.0 and 0.26 < found["threshold"] <= 0.99
    assert found["median_top_probability_none"] < found["median_top_probability_in_scope"]
    assert (
        _threshold_baseline(predictor, scores, records[:2], list(zip(records[:2], truth))) is None
    )


def test_none_offset_moves_the_none_intercept_and_nothing_else(small_none_model, tmp_path):
    from conftest import _train_small

    predictor, _, cfg = small_none_model
    head = cfg["data"]["out_of_scope"]
    moved = _train_small(tmp_path, none=True, head=head, none_offset=-1.5)[0]
    assert moved.coef.tobytes() == predictor.coef.tobytes()
    assert moved.intercept[:-1].tobytes() == predictor.intercept[:-1].tobytes()
    assert moved.intercept[-1] == pytest.approx(predictor.intercept[-1] - 1.5)
