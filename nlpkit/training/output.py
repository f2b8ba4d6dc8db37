"""What a training run leaves on disk: the model folder (with its card and confusion picture)
and, for experiments, a results folder with metrics.json and summary.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..predictor import Predictor

__all__ = ["model_extra", "save_model", "write_metrics", "write_results", "without_times"]

_TIMES = {"seconds", "fit_seconds", "total_seconds", "predict_seconds", "texts_per_second"}


def without_times(data: Any) -> Any:
    """``data`` (nested dicts and lists) without its timings, which differ from run to run."""
    if isinstance(data, dict):
        return {k: without_times(v) for k, v in data.items() if k not in _TIMES}
    if isinstance(data, list):
        return [without_times(v) for v in data]
    return data


def model_extra(cfg: dict[str, Any], metrics: dict[str, Any]) -> dict[str, Any]:
    """What a model's manifest records of its training. No timings: the same inputs then give
    the same bytes, which is how a rebuild of a model is checked (`nlpkit diff`)."""
    kept = {
        "heldout": metrics["heldout"],
        "training": metrics["training"],
        "cross_validation": metrics["cross_validation"],
    }
    if "user_data" in metrics:
        kept["user_data"] = metrics["user_data"]
    return without_times(
        {
            "training_config": cfg,
            "corpus": metrics["corpus"],
            "training_inputs": metrics["training_inputs"],
            "metrics": kept,
        }
    )


def picture(cfg: dict[str, Any], metrics: dict[str, Any]) -> bytes | None:
    """The confusion picture of the card: the five classes on the hand-labelled held-out
    sample when the model knows out of scope, else the held-out part against its labels."""
    from ..card import confusion_png

    heldout = metrics["heldout"]
    hand_none = heldout.get("hand_none") or {}
    if hand_none.get("n"):
        return confusion_png(
            hand_none, f"{cfg['name']}: hand-labelled held-out sample, allow_none=True"
        )
    if heldout["distant"].get("n"):
        what = (
            "file's"
            if cfg["data"]["labels"] == "section" and not _reads_corpora(cfg)
            else cfg["data"]["labels"]
        )
        return confusion_png(
            heldout["distant"], f"{cfg['name']}: held-out part against its {what} labels"
        )
    return None


def _reads_corpora(cfg: dict[str, Any]) -> bool:
    return bool(cfg["data"]["corpora"] or cfg["data"]["files"])


def save_model(predictor: Predictor, path: str | Path, name: str | None = None) -> Path:
    """Write ``predictor`` as a model folder, with the card and confusion picture of its
    training when its manifest records one (a model of `nlpkit.train` or a loaded one)."""
    from .. import modelfile
    from ..card import model_card

    manifest = predictor.manifest or {}
    name = name or manifest.get("name") or Path(path).name
    if "training_config" not in manifest or "metrics" not in manifest:
        return modelfile.save(predictor, path, name=name)
    extra = {k: manifest[k] for k in ("training_config", "corpus", "training_inputs", "metrics")}
    image = picture(extra["training_config"], extra["metrics"])
    card_picture = "confusion_matrix.png" if image else None
    return modelfile.save(
        predictor,
        path,
        name=name,
        extra=extra,
        card=model_card(name, list(predictor.topics), extra, picture=card_picture),
        attachments={"confusion_matrix.png": image} if image else None,
    )


def write_metrics(metrics: dict[str, Any], path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def write_results(
    predictor: Predictor,
    metrics: dict[str, Any],
    cfg: dict[str, Any],
    model_dir: str | Path,
    results: str | Path | None,
) -> None:
    """The model folder, and in ``results`` metrics.json, summary.md and the picture."""
    from ..card import run_summary

    predictor.manifest = {"name": cfg["name"], **model_extra(cfg, metrics)}
    save_model(predictor, model_dir, name=cfg["name"])
    if results is None:
        return
    results = Path(results)
    results.mkdir(parents=True, exist_ok=True)
    write_metrics(metrics, results / "metrics.json")
    image = picture(cfg, metrics)
    if image:
        (results / "confusion_matrix.png").write_bytes(image)
    summary = run_summary(metrics, "confusion_matrix.png" if image else None)
    (results / "summary.md").write_text(summary + "\n", encoding="utf-8")
