"""Scoring a saved checkpoint on a split, and the one layout of a metric record.

A metric record is what ``metrics.json`` holds and what ``zoo evaluate`` prints::

    {"name", "dataset", "split", "num_examples", "thresholds", "metrics", ["source", "note"]}

:func:`metric_record` builds it (every writer of ``metrics.json`` uses it, so the layout has one
definition); undefined values (NaN, e.g. macro AUC when no label has both classes) become
``null`` so the file stays strict JSON.
"""
from __future__ import annotations

import math

from zoo.errors import CheckpointError, NotFoundError


def metric_record(*, name, dataset, split, num_examples, thresholds: dict, values: dict,
                  source=None, note: str | None = None) -> dict:
    out = {"name": name, "dataset": dataset, "split": split, "num_examples": int(num_examples),
           "thresholds": thresholds,
           "metrics": {k: (float(v) if math.isfinite(v) else None) for k, v in values.items()}}
    if source is not None:
        out["source"] = source
    if note:
        out["note"] = note
    return out


def metric_groups(dataset: str | None) -> tuple:
    """The metric groups a dataset is scored with: the default ones, plus those its catalog
    record asks for (corel5k-images: the image-annotation protocol's ``annot_top5_*``)."""
    from zoo.metrics.exact import DEFAULT_GROUPS
    from zoo.data import catalog
    try:
        extra = catalog.get(dataset).extra if dataset else {}
    except NotFoundError:  # a user's own dataset name: the defaults
        extra = {}
    return tuple(DEFAULT_GROUPS) + tuple(g for g in (extra or {}).get("metric_groups", ())
                                         if g not in DEFAULT_GROUPS)


def score(model, x, y, *, name, dataset, split, source=None, note=None, save_scores=None,
          batch_size: int = 1024) -> dict:
    """The metric record of a :class:`~zoo.inference.MultiLabelModel` on ``(x, y)``."""
    from zoo import metrics
    proba = model.predict_proba(x, batch_size)
    if save_scores is not None:
        from zoo.scores import write_scores
        write_scores(save_scores, proba, model.label_names)
    values = metrics.evaluate(y, proba, y_pred=model.thresholds.apply(proba),
                              groups=metric_groups(dataset))
    return metric_record(name=name, dataset=dataset, split=split, num_examples=len(proba),
                         thresholds=model.thresholds.to_dict(), values=values, source=source,
                         note=note)


def evaluate_saved(saved, split: str = "test", batch_size: int = 1024, save_scores=None) -> dict:
    """Score a :class:`zoo.saved.Saved` checkpoint on its benchmark dataset's ``split``."""
    from zoo.data import benchmarks
    model = saved.load()
    data = benchmarks.load(model.card["dataset"], split)
    if list(data.label_names) != list(model.label_names):
        raise CheckpointError(f"{saved.folder}: the model's labels differ from dataset"
                              f" {model.card['dataset']!r}'s labels")
    return score(model, data.x, data.labels_dense(), name=model.card["name"],
                 dataset=model.card["dataset"], split=split, save_scores=save_scores,
                 batch_size=batch_size)


def evaluate_folder(folder, split: str = "test", batch_size: int = 1024, save_scores=None) -> dict:
    """Score a checkpoint folder (verified first) on its dataset's ``split``."""
    from zoo.saved import open_saved
    return evaluate_saved(open_saved(folder), split, batch_size, save_scores)
