"""What a training run leaves on disk: the model folder (with its card and confusion picture)
and, for experiments, a results folder with metrics.json and summary.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..predictor import Predictor

__all__ = ["model_extra", "write_metrics", "write_results", "without_times"]

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


def write_metrics(metrics: dict[str, Any], path: str | Path) -> None:
    from ..folders import write_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_file(path, json.dumps(metrics, indent=2, ensure_ascii=False) + "\n")


def write_results(
    predictor: Predictor,
    metrics: dict[str, Any],
    cfg: dict[str, Any],
    model_dir: str | Path,
    results: str | Path | None,
) -> None:
    """The model folder, and in ``results`` metrics.json, summary.md and the picture."""
    from ..card import card_picture, run_summary
    from ..modelfile import save_model

    # Everything made first, then the model saved and each file written whole and renamed in
    # place, one after the other: an interruption leaves the files of one run, not a new model
    # or metrics.json beside the summary of the run before (but for the moment between two
    # renames).
    if results is not None:
        image = card_picture(cfg, metrics)
        summary = run_summary(metrics, "confusion_matrix.png" if image else None)
    predictor.manifest = {"name": cfg["name"], **model_extra(cfg, metrics)}
    save_model(predictor, model_dir, name=cfg["name"])
    if results is None:
        return
    from ..folders import write_file

    results = Path(results)
    results.mkdir(parents=True, exist_ok=True)
    if image:
        write_file(results / "confusion_matrix.png", image)
    write_file(results / "summary.md", summary + "\n")
    write_metrics(metrics, results / "metrics.json")
