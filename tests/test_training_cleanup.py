from conftest import small_cfg as _small_cfg


def test_cleanup_relabels_a_contradicted_label(tmp_path):
    import numpy as np

    from nlpkit.text import prepare
    from nlpkit.training.cleanup import clean_labels

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
