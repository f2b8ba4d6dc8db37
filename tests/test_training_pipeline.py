import json

import pytest
from conftest import ROOT, SEED_TITLES
from conftest import small_cfg as _small_cfg

from nlpkit.training.config import load_config


def test_missing_hand_labels_stop_training_with_their_name(tmp_path, small_model):
    import copy

    from nlpkit.training import train_config as train

    _, _, cfg = small_model
    cfg = copy.deepcopy(cfg)
    cfg["data"]["dev_labels"] = [str(tmp_path / "dev.tsv")]
    with pytest.raises(ValueError, match=r"development labels not found: .*dev.tsv"):
        train(cfg)


@pytest.mark.parametrize("key", ["train_labels", "dev_labels", "eval_labels", "boundary_labels"])
def test_missing_hand_labels_are_named_before_the_corpora_are_read(tmp_path, small_model, key):
    # (reading the corpora takes a minute: a label file missing is said before it)
    import copy

    from nlpkit.training import train_config as train

    cfg = copy.deepcopy(small_model[2])
    cfg["data"]["corpora"] = [str(tmp_path / "no-corpus.jsonl")]
    cfg["data"][key] = [str(tmp_path / "missing.tsv")]
    with pytest.raises(ValueError, match=r"labels not found: .*missing.tsv"):
        train(cfg)


def test_a_missing_corpus_or_snippet_page_is_named_before_any_corpus_is_read(
    tmp_path, small_model, monkeypatch
):
    # (a typo in the second of two corpora was found after the first was read: a minute)
    import copy

    from nlpkit.corpus import CorpusError
    from nlpkit.training import labels
    from nlpkit.training import train_config as train

    def never(*args, **kwargs):
        raise AssertionError("a corpus was read")

    monkeypatch.setattr(labels, "read_corpus", never)
    cfg = copy.deepcopy(small_model[2])
    real = cfg["data"]["corpora"][0]
    for corpora, snippets, error, message in [
        ([real, str(tmp_path / "typo.jsonl")], [], CorpusError, "corpus file not found: .*typo"),
        ([real, str(tmp_path)], [], CorpusError, "corpus file not a regular file"),
        ([real], [str(tmp_path / "none*.txt")], ValueError, "'data.snippets' pattern .* matches"),
    ]:
        cfg["data"]["corpora"], cfg["data"]["snippets"] = corpora, snippets
        with pytest.raises(error, match=message):
            train(cfg)


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
    from nlpkit.training import train_config as train

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
    from nlpkit.training import train_config as train
    from nlpkit.training.config import DEFAULTS

    subset = tmp_path / "slice.jsonl"
    with subset.open("w", encoding="utf-8") as out:
        for i, line in enumerate((shared_data / "vnexpress_2020s.jsonl").open(encoding="utf-8")):
            if i % 4 == 0:
                out.write(line)
    cfg = copy.deepcopy(DEFAULTS)
    cfg["data"]["corpora"] = [str(subset)]
    for key in ("eval_labels", "dev_labels", "boundary_labels"):
        cfg["data"][key] = [str(ROOT / path) for path in cfg["data"][key]]
    predictor, metrics = train(cfg, cache=SegmentCache(tmp_path / "c.sqlite"))
    assert metrics["heldout"]["distant"]["n"] > 300
    assert metrics["heldout"]["distant"]["accuracy"] > 0.8
    assert predictor.predict("Giá xăng RON95 tăng hơn 1.000 đồng mỗi lít") == "energy"


def test_raw_syllables_and_section_labels_and_cross_validation(tmp_path):
    from nlpkit.cache import SegmentCache
    from nlpkit.training import train_config as train

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


def test_mapped_recipe_has_no_energy_and_scores_title_only(tmp_path):
    from nlpkit.cache import SegmentCache
    from nlpkit.training import train_config as train

    cfg = _small_cfg(tmp_path, data={"labels": "mapped"})
    predictor, metrics = train(cfg, cache=SegmentCache(tmp_path / "c.sqlite"))
    # Energy has no section: the section table alone cannot teach it.
    assert "energy" not in metrics["training"]["labels"]
    assert "hand_title_only" in metrics["heldout"] and "dev" in metrics


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
    # The recipe the model records, read with today's defaults (a key added since, at a
    # default that keeps the old behaviour, changes nothing), is the repository's recipe.
    from nlpkit.training.config import make_config

    recorded = make_config(manifest["training_config"])
    recipe = load_config(ROOT / "experiments/default.toml")
    # (n_jobs says how many processes fitted it, not what was fitted: the model is the same
    # whatever the number, tests/test_training_fit.py)
    recorded["n_jobs"] = recipe["n_jobs"]
    assert recorded == recipe


@pytest.mark.corpus
def test_shipped_model_was_trained_on_these_corpora(shared_data):
    manifest = json.loads((ROOT / "models/default/manifest.json").read_text(encoding="utf-8"))
    for name, digest in manifest["training_inputs"]["corpus"].items():
        assert _sha256(shared_data / name) == digest, f"{name} is not the corpus of the model"


def test_train_files_leave_the_other_files_to_evaluation(tmp_path, small_model):
    import copy

    from conftest import write_small_corpus

    from nlpkit.cache import SegmentCache
    from nlpkit.training import train_config as train

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
    from nlpkit.training import train_config as train

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


def test_a_recipe_reads_its_temperature_off_the_development_sample(tmp_path):
    from conftest import SMALL_CORPUS

    from nlpkit.cache import SegmentCache
    from nlpkit.card import model_card
    from nlpkit.training import train_config as train

    dev = tmp_path / "dev.tsv"
    rows = [
        f"test-{topic}-2-{i}\t{topic}" for topic, ts in SMALL_CORPUS.items() for i in range(len(ts))
    ]
    dev.write_text("id\ttopic\n" + "\n".join(rows) + "\n", encoding="utf-8")
    cfg = _small_cfg(
        tmp_path,
        classifier={"kind": "logistic_regression", "tune_temperature": True},
        data={"dev_labels": [str(dev)]},
    )
    predictor, metrics = train(cfg, cache=SegmentCache(tmp_path / "c.sqlite"))
    tuned = metrics["training"]["temperature_tuning"]
    assert tuned["n"] == len(rows)
    assert predictor.temperature == pytest.approx(tuned["temperature"], rel=1e-3)
    assert metrics["training"]["temperature"] == predictor.temperature != 1.0
    info = {"training_config": cfg, "metrics": metrics, "corpus": {"files": []}}
    card = model_card("small", list(predictor.topics), info)
    assert "(read off the development sample)" in card


def test_held_out_texts_the_recipes_corpora_train_on_are_left_out_of_the_scores(
    tmp_path, small_model
):
    # --base: a newsroom's held-out texts may be news the recipe's corpora hold; scored,
    # they would count what both models were trained on.
    from conftest import SMALL_CORPUS

    from nlpkit.cache import SegmentCache
    from nlpkit.training.pipeline import run
    from nlpkit.training.reading import from_lists
    from nlpkit.training.userdata import split

    cfg = _small_cfg(tmp_path)
    texts = [
        f"Bản tin riêng số {i}: {t}" for i, (_, ts) in enumerate(SMALL_CORPUS.items()) for t in ts
    ]
    labels = [topic for topic, ts in SMALL_CORPUS.items() for _ in ts]
    # (the corpus's own training records read "title\ntext.": two of them, held out)
    copies = [(t, f"{t}.") for t in SMALL_CORPUS["sports"][:2]]
    data = from_lists(
        texts + [text for _, text in copies],
        labels + ["sports", "sports"],
        titles=[""] * len(texts) + [title for title, _ in copies],
    )
    user = split(data, holdout=0.3, seed=0)
    user.train = [r for r in user.train if r.title == ""]
    user.heldout = [r for r in user.heldout if r.title == ""]
    user.heldout += [r for r in split(data, holdout=0).train if r.title]
    before = len(user.heldout)
    with pytest.warns(UserWarning, match=f"2 of your {before} held-out texts are in the recipe"):
        _, metrics = run(
            cfg, cache=SegmentCache(tmp_path / "c.sqlite"), user=user, base=small_model[0]
        )
    assert metrics["user_data"]["heldout_scores"]["after"]["n"] == before - 2
