"""The model card: a short README.md written into every model folder."""

from __future__ import annotations

from typing import Any

__all__ = ["model_card"]


def _table(metrics: dict[str, Any]) -> list[str]:
    rows = ["| topic | precision | recall | F1 | support |", "| --- | --- | --- | --- | --- |"]
    for topic, m in metrics["per_label"].items():
        rows.append(
            f"| {topic} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} |"
        )
    return rows


def _confusion(metrics: dict[str, Any]) -> list[str]:
    cm = metrics["confusion_matrix"]
    labels = cm["labels"]
    rows = ["| true \\ predicted | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    rows += [
        f"| {lab} | " + " | ".join(map(str, row)) + " |" for lab, row in zip(labels, cm["matrix"])
    ]
    return rows


def _groups(metrics: dict[str, Any]) -> list[str]:
    rows = ["| slice | n | accuracy | macro-F1 |", "| --- | --- | --- | --- |"]
    for key in ("by_era", "by_text_kind"):
        for name, m in metrics.get(key, {}).items():
            rows.append(f"| {name} | {m['n']} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} |")
    return rows


def model_card(name: str, topics: list[str], info: dict[str, Any]) -> str:
    """Markdown for a model folder's README.md from its manifest's training and metric fields."""
    cfg = info["training_config"]
    heldout = info["metrics"]["heldout"]
    training = info["metrics"]["training"]
    lines = [
        f"# nlpkit model `{name}`",
        "",
        "Files Vietnamese news texts under one of: " + ", ".join(f"`{t}`" for t in topics) + ".",
        "",
        "## Training",
        "",
        f"- Data: the non-held-out part of {', '.join(info['corpus']['files'])} "
        f"(fingerprint `{info['corpus']['fingerprint'][:23]}…`), datasets {', '.join(cfg['data']['datasets'])}.",
        f"- Labels: weak labels from source sections and labelling functions (`nlpkit.weak`); "
        f"{training['labelled']:,} of {training['records']:,} records kept: {training['labels']}.",
        f"- Features: TF-IDF over pyvi-segmented words, n-grams {cfg['features']['ngram_range']}, "
        f"{training['terms']:,} terms; first {cfg['data']['max_chars']:,} characters of each text.",
        f"- Classifier: {cfg['classifier']['kind']} (C={cfg['classifier']['C']}), seed {cfg['seed']}.",
        "",
        "## Held-out results",
        "",
    ]
    for key, title in (
        ("hand", "Hand-labelled sample (read against the topic definitions)"),
        ("distant", "Distant labels (weak labels of all held-out records)"),
    ):
        m = heldout[key]
        if not m.get("n"):
            continue
        lines += [
            f"### {title}",
            "",
            f"n = {m['n']}, accuracy **{m['accuracy']:.3f}**, macro-F1 **{m['macro_f1']:.3f}**",
            "",
            *_table(m),
            "",
            *_groups(m),
            "",
            "Confusion matrix:",
            "",
            *_confusion(m),
            "",
        ]
    lines += [
        "## Limits",
        "",
        "Texts outside the four topics (technology, science, culture, lifestyle) still get one of "
        "them; a low top probability is the sign. Only the first "
        f"{cfg['data']['max_chars']:,} characters of a text are read.",
        "",
    ]
    return "\n".join(lines)
