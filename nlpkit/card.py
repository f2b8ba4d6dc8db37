"""The model card: a short README.md written into every model folder."""

from __future__ import annotations

from typing import Any

__all__ = ["model_card", "card_picture"]


def _cell(name: str) -> str:
    """A label as a Markdown table's cell: a user's label may hold a "|", which would end it."""
    return name.replace("\\", "\\\\").replace("|", "\\|")


def _table(metrics: dict[str, Any]) -> list[str]:
    rows = ["| topic | precision | recall | F1 | support |", "| --- | --- | --- | --- | --- |"]
    for topic, m in metrics["per_label"].items():
        rows.append(
            f"| {_cell(topic)} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} "
            f"| {m['support']} |"
        )
    return rows


def _title_rows(heldout: dict[str, Any], key: str = "hand_title_only") -> list[str]:
    """Rows for the slice table: the hand-labelled texts' titles read alone."""
    titles = heldout.get(key) or {}
    if not titles.get("n"):
        return []
    rows = [f"| title only | {titles['n']} | {titles['accuracy']:.3f} | {titles['macro_f1']:.3f} |"]
    for name, m in titles.get("by_era", {}).items():
        rows.append(
            f"| title only, {name} | {m['n']} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} |"
        )
    return rows


def _confusion(metrics: dict[str, Any]) -> list[str]:
    cm = metrics["confusion_matrix"]
    labels = cm["labels"]
    rows = [
        "| true \\ predicted | " + " | ".join(map(_cell, labels)) + " |",
        "|---" * (len(labels) + 1) + "|",
    ]
    rows += [
        f"| {_cell(lab)} | " + " | ".join(map(str, row)) + " |"
        for lab, row in zip(labels, cm["matrix"])
    ]
    return rows


def _groups(
    metrics: dict[str, Any], keys: tuple[str, ...] = ("by_era", "by_text_kind")
) -> list[str]:
    rows = ["| slice | n | accuracy | macro-F1 |", "| --- | --- | --- | --- |"]
    for key in keys:
        for name, m in metrics.get(key, {}).items():
            rows.append(f"| {name} | {m['n']} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} |")
    return rows if len(rows) > 2 else []


def _classifier_params(c: dict[str, Any]) -> str:
    if c["kind"] in ("logistic_regression", "linear_svc"):
        params = f"C={c['C']}, class_weight={c['class_weight'] or 'none'}"
        if c.get("nb_blend"):
            params += f"; a complement naive Bayes's scores added, weighing {c['nb_blend']}"
        return params
    if c["kind"] == "sgd":
        return f"alpha={c['alpha']}, class_weight={c['class_weight'] or 'none'}"
    return f"alpha={c['alpha']}"


def _data_lines(info: dict[str, Any], cfg: dict[str, Any], training: dict[str, Any]) -> list[str]:
    """The card's lines on the training data: a user's file, or the corpora and their labels."""
    user = info["metrics"].get("user_data")
    corpora = [f for f in info["corpus"]["files"] if not user or f != user["file"]]
    lines = []
    if user:
        held = (
            "its split field's held-out texts"
            if user["holdout"] is None
            else f"stratified, a share of {user['holdout']:g}, seed {user['seed']}"
        )
        lines.append(
            f"- Data: {user['file'] or 'texts given in Python'}, {user['train']:,} texts trained "
            f"and {user['heldout']:,} held out ({held}), labels as "
            f"{'the file gives them' if user['file'] else 'given'}"
            + (f", sample weight {user['weight']:g}" if corpora else "")
            + "."
        )
    if corpora:
        # (none for a user's file read from a stream: its bytes were read once, for training)
        fingerprint = info["corpus"].get("fingerprint")
        shown = f" (fingerprint `{fingerprint[:23]}…`)" if fingerprint else ""
        lines.append(
            f"- Data: the non-held-out part of {', '.join(corpora)}{shown}, datasets "
            f"{', '.join(cfg['data']['datasets'])}."
        )
        lines.append(
            (
                "- Labels: weak labels from source sections and labelling functions (`nlpkit.weak`); "
                if cfg["data"]["labels"] == "weak"
                else "- Labels: the source sections themselves; "
            )
            + f"{training['labelled']:,} training texts from {training['records']:,} records"
            + (
                f" ({training['headlines']:,} of them headlines alone)"
                if training.get("headlines")
                else ""
            )
            + (
                f", {training['snippets']} related-news snippets"
                if training.get("snippets")
                else ""
            )
            + (
                f", {training['cleanup']['changed']:,} labels changed by clean-up"
                if training.get("cleanup")
                else ""
            )
            + f": {training['labels']}."
        )
    else:
        heads = training.get("headlines")
        also = f" ({heads:,} of them a titled text's headline alone)" if heads else ""
        lines.append(f"- Training texts by label{also}: {training['labels']}.")
    feed = training.get("feed")
    if feed:
        digest = f" (`sha256:{feed['sha256'][:16]}…`)" if feed.get("sha256") else ""
        source = f" of {feed['file']}{digest}" if feed.get("file") else ""
        teacher = feed.get("teacher") or {}
        named = f" `{teacher['name']}`" if teacher.get("name") else ""
        seal = (teacher.get("seal") or "").removeprefix("sha256:")
        sealed = f" (seal `sha256:{seal[:16]}…`)" if seal else ""
        lines.append(
            f"- Feed: {feed['labelled']:,} of the {feed['records']:,} unlabelled texts"
            f"{source} labelled by the model adapted from{named}{sealed} (those it gave a "
            f"probability of at least {feed['threshold']:g}) or by a boundary rule of the "
            f"topic definitions: {feed['labels']}; by {feed['by']}."
        )
    return lines


def model_card(
    name: str, topics: list[str], info: dict[str, Any], picture: str | None = None
) -> str:
    """Markdown for a model folder's README.md from its manifest's training and metric fields."""
    cfg = info["training_config"]
    heldout = info["metrics"]["heldout"]
    training = info["metrics"]["training"]
    user_file = (info["metrics"].get("user_data") or {}).get("file")
    lines = [
        f"# nlpkit model `{name}`",
        "",
        "Files Vietnamese news texts under one of: " + ", ".join(f"`{t}`" for t in topics) + ".",
        "",
        "## Training",
        "",
        *_data_lines(info, cfg, training),
        f"- Features: TF-IDF over {'pyvi-segmented words' if cfg['features']['segment'] else 'syllables'}, "
        f"n-grams {cfg['features']['ngram_range']}, {training['terms']:,} terms; first "
        f"{cfg['data']['max_chars']:,} characters of each text"
        f"{_title_note(cfg['features'])}.",
        f"- Classifier: {cfg['classifier']['kind']} ({_classifier_params(cfg['classifier'])}), "
        f"seed {cfg['seed']}; probabilities: softmax of the scores"
        + (
            f" at temperature {training['temperature']:.3g}"
            + (" (read off the development sample)." if training.get("temperature_tuning") else ".")
            if training["temperature"] != 1
            else "."
        ),
        *(
            [
                "- Out of scope: a detector, a second classifier of the same kind fitted on "
                "every training text (none against any topic), beside the topics' classifier, "
                "fitted on the in-scope texts alone; with `allow_none=True` the probability of "
                "none is the sigmoid of the detector's score and the topics share the rest."
            ]
            if cfg["data"].get("out_of_scope") == "detector"
            else []
        ),
        "",
        "## Held-out results",
        "",
    ]
    cv = info["metrics"].get("cross_validation")
    if cv:
        lines += [
            f"Cross-validation on the training data ({cv['folds']} folds): macro-F1 "
            f"{cv['macro_f1_mean']:.3f} ± {cv['macro_f1_std']:.3f}.",
            "",
        ]
    sections = [
        ("hand", "Hand-labelled sample: the four topics", _IN_SCOPE, ("by_era", "by_text_kind")),
        (
            "hand_none",
            "Hand-labelled sample, out of scope included",
            _NONE,
            ("by_era", "by_text_kind"),
        ),
        ("boundaries", "Boundaries slice", _BOUNDARIES, ("by_kind", "by_era")),
        (
            "distant",
            f"The held-out texts{' of the file' if user_file else ''}, against their labels"
            if _own_labels(cfg, info["metrics"])
            else f"Distant labels ({cfg['data']['labels']} labels of all held-out records)",
            "",
            ("by_era", "by_text_kind"),
        ),
    ]
    scored = bool(cv)
    for key, title, note, groups in sections:
        m = heldout.get(key) or {}
        if not m.get("n"):
            continue
        scored = True
        lines += [f"### {title}", ""]
        if note:
            lines += [note, ""]
        lines += [
            f"n = {m['n']}, accuracy **{m['accuracy']:.3f}**, macro-F1 **{m['macro_f1']:.3f}**",
            "",
            *_table(m),
            "",
            *_groups(m, groups),
            *(_title_rows(heldout, f"{key}_title_only") if key.startswith("hand") else []),
            "",
            "Confusion matrix (rows: the truth):",
            "",
            *_confusion(m),
            "",
        ]
        if picture and key == ("hand_none" if heldout.get("hand_none") else "distant"):
            lines += [f"![the confusion matrix above]({picture})", ""]
        calibration = {
            "hand": heldout.get("hand_calibration"),
            "hand_none": heldout.get("hand_none_calibration"),
            "distant": m.get("calibration"),
        }.get(key)
        lines += _calibration_lines(calibration, five=key == "hand_none", of=m.get("n"))
        baseline = heldout.get("top_probability_threshold")
        if key == "hand_none" and baseline:
            lines += [
                "Without a none class, answering none below a top probability of the four "
                f"topics does at best {baseline['accuracy']:.3f} on the same texts (threshold "
                f"{baseline['threshold']:.2f}, chosen on them); the median top probability is "
                f"{baseline['median_top_probability_none']:.2f} for the out-of-scope texts and "
                f"{baseline['median_top_probability_in_scope']:.2f} for the others.",
                "",
            ]
    user_heldout = (info["metrics"].get("user_data") or {}).get("heldout_scores")
    if user_heldout and user_heldout["after"].get("n"):
        before, after = user_heldout["before"], user_heldout["after"]
        lines += [
            "### The file's held-out texts",
            "",
            f"n = {after['n']}: accuracy {before['accuracy']:.3f} by the base model, "
            f"**{after['accuracy']:.3f}** with the file's labels; macro-F1 "
            f"{before['macro_f1']:.3f} and **{after['macro_f1']:.3f}**.",
            "",
            *_table(after),
            "",
        ]
    if user_heldout and user_heldout["after"].get("n"):
        scored = True
    if not scored:
        why = (
            "an adapted model is fitted on its feed, which has no labels"
            if training.get("feed")
            else "every text was trained"
        )
        lines += [
            f"No held-out texts were scored: {why}. `nlpkit evaluate MODEL --data FILE` "
            "scores it on labelled texts of your own.",
            "",
        ]
    measured = (heldout.get("hand_none") or {}).get("n")
    if "none" not in training["labels"]:
        scope = (
            "This model has no out-of-scope class: texts outside its topics get their "
            "nearest topic."
        )
    elif _own_labels(cfg, info["metrics"]):
        scope = (
            f"Texts like those {'the file labels' if user_file else 'labelled'} none get "
            "their nearest topic by default; `allow_none=True` (`--allow-none`) answers none "
            "for them."
        )
    else:
        scope = (
            "Texts outside the four topics (entertainment, lifestyle, gadgets, science...) get "
            "their nearest topic by default; `allow_none=True` (`--allow-none`) answers none "
            "for them" + (", as measured above." if measured else ".")
        )
    lines += [
        "## Limits",
        "",
        scope + f" Only the first {cfg['data']['max_chars']:,} characters of a text are read.",
        "",
    ]
    return "\n".join(lines)


def _calibration_lines(
    c: dict[str, Any] | None, five: bool = False, of: int | None = None
) -> list[str]:
    """The card's paragraph on how far the topic probabilities (``five``: none's too) can be
    taken at their word; none where ``c`` has no texts (a run without them, or before the
    figures were written). ``of``: the number of texts the figures above it are of, which the
    topic probabilities' may not all be (those labelled none have no topic)."""
    if not (c or {}).get("n"):
        return []
    call = "`predict_proba(..., allow_none=True)`" if five else "`predict_proba`"
    which = (
        "the same texts"
        if of is None or of == c["n"]
        else f"the {c['n']:,} of these texts labelled with a topic, not none"
    )
    return [
        f"Probabilities ({call}, {which}): the top probability is "
        f"{c['mean_top_probability']:.3f} on average for an accuracy of {c['accuracy']:.3f}; "
        f"expected calibration error {c['ece']:.3f} (ten bins of the top probability), "
        f"log-loss {c['log_loss']:.3f}.",
        "",
    ]


_IN_SCOPE = (
    "The held-out texts labelled with one of the four topics by reading them against the topic "
    "definitions, and the topic the model gives them (`predict`). Title only: the same texts' "
    "headlines read alone."
)
_NONE = (
    "All the hand-labelled held-out texts, the out-of-scope ones (`none`) included, and the "
    "answer of `predict(..., allow_none=True)`."
)
_BOUNDARIES = (
    "Held-out texts of the kinds the topic definitions settle case by case (Vietnam's "
    "diplomacy, stories set abroad, crime and prices around energy, energy companies' "
    "finances), labelled by reading; the topic the model gives the in-scope ones."
)


def confusion_png(metrics: dict[str, Any], title: str) -> bytes | None:
    """A confusion-matrix picture (PNG bytes) of a metrics block, or None without matplotlib
    (``pip install '.[train]'`` in nlpkit's source folder)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    import warnings

    with warnings.catch_warnings():
        # A label of a script the font lacks is drawn as boxes; the picture is a card's
        # illustration, and matplotlib's warning per missing glyph would only be noise.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        return _confusion_png(metrics, title, plt)


# Above this many labels, the confusion picture's cells are not numbered.
_NUMBERED_LABELS = 30


def _confusion_png(metrics: dict[str, Any], title: str, plt: Any) -> bytes:
    import io

    cm = metrics["confusion_matrix"]
    labels, matrix = cm["labels"], cm["matrix"]
    # Many labels: a picture of bounded size, its cells coloured but not numbered (each
    # number is a text for matplotlib to lay out: 200 labels took minutes and 4 MB; the
    # numbers are in the card and the manifest).
    size = min(2.2 + 0.65 * len(labels), 16.0)
    fig, ax = plt.subplots(figsize=(size + 1, size), dpi=100)
    rows = [sum(row) or 1 for row in matrix]
    shares = [[value / total for value in row] for row, total in zip(matrix, rows)]
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    if len(labels) <= _NUMBERED_LABELS:
        for i, row in enumerate(matrix):
            for j, value in enumerate(row):
                colour = "white" if shares[i][j] > 0.6 else "black"
                ax.text(j, i, str(value), ha="center", va="center", color=colour, fontsize=8)
    ticks = max(3.0, min(10.0, 600 / len(labels)))
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=ticks)
    ax.set_yticks(range(len(labels)), labels, fontsize=ticks)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=ax, fraction=0.046, label="share of the true row")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def _title_note(features: dict[str, Any]) -> str:
    # (configs of metrics written before the setting existed do not have it)
    return "; a text's first line (its title) counted twice" if features.get("repeat_title") else ""


def run_summary(metrics: dict[str, Any], picture: str | None = None) -> str:
    """The markdown summary of one training run, written beside its metrics.json."""
    cfg, training, heldout = metrics["config"], metrics["training"], metrics["heldout"]
    f, c = cfg["features"], cfg["classifier"]
    lines = [
        f"# Run `{metrics['name']}`",
        "",
        *_data_lines(
            {"metrics": metrics, "corpus": metrics.get("corpus") or {"files": []}}, cfg, training
        ),
        f"- Features: {'pyvi words' if f['segment'] else 'raw syllables'}, n-grams "
        f"{f['ngram_range']}, min_df {f['min_df']}, max_df {f['max_df']}, sublinear tf "
        f"{f['sublinear_tf']}, {training['terms']:,} terms{_title_note(f)}",
        f"- Classifier: {c['kind']} ({_classifier_params(c)}), seed {cfg['seed']}",
        f"- Time: fit {training['fit_seconds']} s, held-out prediction "
        f"{heldout['predict_seconds']} s, whole run {training['total_seconds']} s",
    ]
    cv = metrics.get("cross_validation")
    if cv:
        lines.append(
            f"- Cross-validation ({cv['folds']} folds, training data): macro-F1 "
            f"{cv['macro_f1_mean']:.4f} ± {cv['macro_f1_std']:.4f}, accuracy "
            f"{cv['accuracy_mean']:.4f} ({cv['seconds']} s)"
        )
    distant = heldout["distant"]
    lines += ["", "## Held-out", ""]
    if distant.get("n"):
        lines += [
            f"Against {heldout_labels(cfg, metrics)}: n = {distant['n']:,}, accuracy "
            f"**{distant['accuracy']:.4f}**, macro-F1 **{distant['macro_f1']:.4f}**",
            "",
            *_table(distant),
            "",
        ]
        lines += _calibration_lines(distant.get("calibration"), of=distant["n"])
        if picture:
            lines += [f"![confusion matrix]({picture})", ""]
    hand = heldout["hand"]
    if hand.get("n"):
        lines += [
            f"Against the hand labels: n = {hand['n']}, accuracy **{hand['accuracy']:.4f}**, "
            f"macro-F1 **{hand['macro_f1']:.4f}**",
            "",
            *_table(hand),
            "",
            *_groups(hand),
            "",
        ]
        lines += _calibration_lines(heldout.get("hand_calibration"))
    if not distant.get("n") and not hand.get("n"):
        lines += ["No held-out texts were scored.", ""]
    return "\n".join(lines)


def _figure(value: float | None) -> str:
    # (a run that scored no held-out text: trained on everything, or adapted from a feed)
    return "–" if value is None else f"{value:.4f}"


def compare_table(runs: list[dict[str, Any]]) -> str:
    """A markdown table of several runs' settings, scores and times, one row per run."""
    rows = [
        "| run | labels | words | n-grams | sublinear | classifier | terms | CV macro-F1 "
        "| held-out accuracy | held-out macro-F1 | hand macro-F1 | fit s | run s |",
        "|---" * 13 + "|",
    ]
    for m in runs:
        cfg, t, h = m["config"], m["training"], m["heldout"]
        f, cv = cfg["features"], m.get("cross_validation")
        cv_text = f"{cv['macro_f1_mean']:.4f} ± {cv['macro_f1_std']:.4f}" if cv else "–"
        hand = f"{h['hand']['macro_f1']:.4f}" if h["hand"].get("n") else "–"
        rows.append(
            f"| {m['name']} | {cfg['data']['labels']} | {'pyvi' if f['segment'] else 'syllables'} "
            f"| {f['ngram_range'][0]}-{f['ngram_range'][1]} | {f['sublinear_tf']} "
            f"| {cfg['classifier']['kind']} | {t['terms']:,} | {cv_text} | {_figure(h['accuracy'])} "
            f"| {_figure(h['macro_f1'])} | {hand} | {t['fit_seconds']} | {t['total_seconds']} |"
        )
    return "\n".join(rows)


def compare_hand_table(runs: list[dict[str, Any]]) -> str:
    """A markdown table of several runs' hand-labelled scores: the development sample, the
    held-out sample overall and by era (the four topics), energy and geopolitics F1, titles
    alone, the boundaries slice, and with out of scope as an answer (five-way accuracy and the
    F1 of none) for the runs that have it."""
    eras = sorted({e for m in runs for e in m["heldout"]["hand"].get("by_era", {})})
    columns = [
        "dev macro-F1",
        "held-out macro-F1",
        *(f"{e} macro-F1" for e in eras),
        "energy F1",
        "geopolitics F1",
        "titles alone macro-F1",
        "boundaries accuracy",
        "five-way accuracy",
        "none F1",
    ]
    rows = ["| run | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]

    def f(value: float | None) -> str:
        return "–" if value is None else f"{value:.3f}"

    for m in runs:
        heldout = m["heldout"]
        hand, dev = heldout["hand"], m.get("dev") or {}
        per_label = hand.get("per_label", {})
        none = heldout.get("hand_none") or {}
        values = [
            dev.get("hand", {}).get("macro_f1"),
            hand.get("macro_f1"),
            *(hand.get("by_era", {}).get(e, {}).get("macro_f1") for e in eras),
            per_label.get("energy", {}).get("f1"),
            per_label.get("geopolitics", {}).get("f1"),
            heldout.get("hand_title_only", {}).get("macro_f1"),
            (heldout.get("boundaries") or {}).get("accuracy"),
            none.get("accuracy"),
            none.get("per_label", {}).get("none", {}).get("f1"),
        ]
        rows.append(f"| {m['name']} | " + " | ".join(map(f, values)) + " |")
    return "\n".join(rows)


def compare_era_table(runs: list[dict[str, Any]], era: str) -> str:
    """A markdown table of several runs' hand-labelled scores on one era's texts: the
    development sample's and the held-out sample's (the four topics, energy and geopolitics
    F1, titles alone, and with out of scope as an answer)."""
    columns = [
        "dev macro-F1",
        "dev five-way accuracy",
        "held-out macro-F1",
        "geopolitics F1",
        "energy F1",
        "titles alone macro-F1",
        "five-way accuracy",
        "none F1",
        "n",
    ]
    rows = ["| run | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]

    def of(block: dict[str, Any] | None) -> dict[str, Any]:
        return ((block or {}).get("by_era") or {}).get(era) or {}

    def f(value: float | None) -> str:
        return "–" if value is None else f"{value:.3f}"

    for m in runs:
        heldout, dev = m["heldout"], m.get("dev") or {}
        hand, none = of(heldout["hand"]), of(heldout.get("hand_none"))
        per_label = hand.get("per_label", {})
        values = [
            of(dev.get("hand")).get("macro_f1"),
            of(dev.get("hand_none")).get("accuracy"),
            hand.get("macro_f1"),
            per_label.get("geopolitics", {}).get("f1"),
            per_label.get("energy", {}).get("f1"),
            of(heldout.get("hand_title_only")).get("macro_f1"),
            none.get("accuracy"),
            none.get("per_label", {}).get("none", {}).get("f1"),
        ]
        n = none.get("n") or hand.get("n")
        rows.append(f"| {m['name']} | " + " | ".join(map(f, values)) + f" | {n if n else '–'} |")
    return "\n".join(rows)


def card_picture(cfg: dict[str, Any], metrics: dict[str, Any]) -> bytes | None:
    """The confusion picture of the card: the five classes on the hand-labelled held-out
    sample when the model knows out of scope, else the held-out part against its labels."""
    heldout = metrics["heldout"]
    hand_none = heldout.get("hand_none") or {}
    if hand_none.get("n"):
        return confusion_png(
            hand_none, f"{cfg['name']}: hand-labelled held-out sample, allow_none=True"
        )
    if heldout["distant"].get("n"):
        return confusion_png(
            heldout["distant"],
            f"{cfg['name']}: held-out part against {heldout_labels(cfg, metrics)}",
        )
    return None


def _reads_corpora(cfg: dict[str, Any]) -> bool:
    return bool(cfg["data"]["corpora"] or cfg["data"]["files"])


def _own_labels(cfg: dict[str, Any], metrics: dict[str, Any]) -> str | None:
    """Whose labels a model trained on a user's texts alone learned, in words ("the file's",
    or, for texts given in Python, "the given"); None for a recipe's model."""
    user = metrics.get("user_data")
    if not user or _reads_corpora(cfg):
        return None
    return "the file's" if user.get("file") else "the given"


def heldout_labels(cfg: dict[str, Any], metrics: dict[str, Any]) -> str:
    """What the held-out part is scored against, in words: a user's own labels (of a file, or
    given in Python) when the model was trained on them alone, else the recipe's kind of
    labels ("weak", "section")."""
    own = _own_labels(cfg, metrics)
    return f"{own} labels" if own else f"the {cfg['data']['labels']} labels"
