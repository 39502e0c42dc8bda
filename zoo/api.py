"""The public face: ``zoo.load``, ``zoo.list_models``, ``zoo.info``, ``zoo.evaluate``
(``zoo.compare`` lives in :mod:`zoo.compare`)."""
from __future__ import annotations

import math
from pathlib import Path

from zoo import checkpoint, hub, registry


def load(ref, revision: str | None = None, download: bool = True):
    """Load a pretrained multi-label model by name, folder or ``hf://`` reference.

    Example::

        >>> import zoo
        >>> model = zoo.load("yeast/mlp")
        >>> model.predict_labels(x)

    The folder's files are checked against their recorded SHA-256 before anything is loaded;
    a mismatch, a missing file or a label-count mismatch raises ``zoo.CheckpointError``.
    """
    from zoo.inference import MultiLabelModel
    folder, expected = hub.resolve(ref, revision=revision, download=download)
    return MultiLabelModel.from_folder(folder, expected)


def list_models(pattern: str | None = None) -> list[str]:
    """Pretrained names such as ``"yeast/mlp"`` (glob ``pattern`` filters)."""
    return registry.list_models(pattern)


def info(ref) -> dict:
    """The checkpoint's ``zoo.json`` plus its ``metrics.json`` (without loading weights)."""
    import json
    folder, expected = hub.resolve(ref)
    card = checkpoint.verify(folder, expected)
    metrics_path = Path(folder) / "metrics.json"
    if metrics_path.is_file():
        card["metrics"] = json.loads(metrics_path.read_text())
    card["path"] = str(folder)
    return card


def evaluate_folder(folder, split: str = "test", batch_size: int = 1024,
                    save_scores=None) -> dict:
    """Score a checkpoint folder on its dataset's ``split``: the ``metrics.json`` content.

    ``save_scores``: also write the split's probabilities (n, L) to this ``.npy`` or ``.csv``
    path (:func:`zoo.compare.write_scores`; the CSV has a header of label names).
    """
    from zoo import metrics
    from zoo.data import benchmarks
    from zoo.inference import MultiLabelModel
    model = MultiLabelModel.from_folder(folder)
    data = benchmarks.load(model.card["dataset"], split)
    if list(data.label_names) != list(model.label_names):
        from zoo.errors import CheckpointError
        raise CheckpointError(f"{folder}: the model's labels differ from dataset"
                              f" {model.card['dataset']!r}'s labels")
    # What MultiLabelModel.evaluate does, keeping the probabilities for save_scores.
    proba = model.predict_proba(data.x, batch_size)
    if save_scores is not None:
        from zoo.compare import write_scores
        write_scores(save_scores, proba, model.label_names)
    values = metrics.evaluate(data.labels_dense(), proba, y_pred=model.thresholds.apply(proba))
    return {"name": model.card["name"], "dataset": model.card["dataset"], "split": split,
            "num_examples": len(data), "thresholds": model.thresholds.to_dict(),
            # Undefined values (NaN, e.g. macro AUC when no label has both classes) are
            # written as null: metrics.json stays strict JSON.
            "metrics": {k: (float(v) if math.isfinite(v) else None) for k, v in values.items()}}


def evaluate(ref, split: str = "test", batch_size: int = 1024, save_scores=None) -> dict:
    """``zoo evaluate NAME``: the metric dict of a pretrained model on its dataset's split.

    ``save_scores``: a ``.npy`` or ``.csv`` path to write the split's probabilities to
    (rows in the split's order, columns in label order), e.g. for ``zoo compare`` or plots.
    """
    folder, expected = hub.resolve(ref)
    checkpoint.verify(folder, expected)
    return evaluate_folder(folder, split=split, batch_size=batch_size, save_scores=save_scores)
