"""Score your own model's predictions on a zoo benchmark: ``zoo compare`` and :func:`compare`.

A researcher brings the **probabilities** their model gives on a benchmark split (default the
official test split) and gets exactly the metric dict the zoo's checkpoints get
(:func:`zoo.metrics.evaluate`, as in a checkpoint's ``metrics.json``), plus a leaderboard row
next to the checkpoints and baselines.

Score files (see ``docs/compare.md``):

* ``.npy`` -- a float array of shape (n, L), columns in the dataset's label order
  (``zoo.data.load(dataset, split).label_names``), rows in the split's order;
* ``.csv`` -- one row of L probabilities per example. With a header of label names the
  columns may come in any order (they are matched by name); without a header there must be
  exactly L columns, in the dataset's label order.

Scores must be probabilities in [0, 1] (no NaN, no infinity): logits are refused, because a
cut such as the default 0.5 or a checkpoint's calibrated threshold only means the same thing
on the probability scale.

Thresholds (what turns probabilities into label sets for the decision metrics: F1s, Hamming
loss, subset accuracy, Jaccard) -- ranking metrics (mAP, P@k, one-error, ...) never use them:

* ``None`` -- one global cut at 0.5 (``score > 0.5``, strict), as the untuned baselines use;
* a number in [0, 1] (or a string holding one, ``"0.4"``) -- one global cut;
* a list of L numbers in [0, 1], or a ``{label name: cut}`` dict -- one cut per label;
* ``"top_k:K"`` -- the K best labels of each example; ``"at_least_one:SPEC"`` -- SPEC plus
  the best label of an example SPEC leaves empty;
* a rule dict ``{"rule": ...}`` (:func:`zoo.thresholds.from_dict`), or a dict holding one under
  ``"thresholds"`` (a checkpoint's ``zoo.json`` or ``metrics.json``, a ``compare`` result);
* a ``zoo.thresholds`` rule;
* a string: a JSON file holding any of the above, or a checkpoint name (``"emotions/mlp"``)
  whose calibrated rule is used.

Example::

    >>> import zoo, zoo.data
    >>> model = zoo.load("emotions/mlp")                                  # doctest: +SKIP
    >>> test = zoo.data.load("emotions", "test")                          # doctest: +SKIP
    >>> r = zoo.compare(model.predict_proba(test.x), "emotions",
    ...                 thresholds="emotions/mlp", name="mine")           # doctest: +SKIP
    >>> r["metrics"]["micro_f1"]                                          # doctest: +SKIP
    0.7050528789659224
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path


from zoo.errors import DataFormatError, NotFoundError, ZooError
# Score-file I/O lives in zoo.scores; re-exported here for existing imports.
from zoo.scores import (SCORE_SUFFIXES, _Locator, _read_error, check_scores,  # noqa: F401
                        read_scores, write_scores)


# ----------------------------------------------------------------------------- thresholds
def resolve_thresholds(spec, label_names, dataset: str | None = None):
    """The ``zoo.thresholds`` rule that ``spec`` describes (see the module docstring).

    Everything but the references (a JSON file, a checkpoint name, a ``zoo.json`` /
    ``metrics.json`` dict with its dataset check) is parsed by :func:`zoo.thresholds.parse`,
    the one parser of threshold specs, so ``"top_k:3"``, ``"0.4"`` and ``1.5`` (refused) mean
    here what they mean in ``predict``.
    """
    from zoo import thresholds as th
    names = [str(n) for n in label_names]
    if isinstance(spec, (str, os.PathLike)):
        if isinstance(spec, str) and not Path(spec).exists() and _looks_like_spec(spec):
            return th.parse(spec, len(names), names)
        return _thresholds_from_ref(spec, names, dataset)
    if isinstance(spec, dict) and "rule" not in spec and isinstance(spec.get("thresholds"), dict):
        return _thresholds_from_card(spec, names, dataset)
    return th.parse(spec, len(names), names)


def _looks_like_spec(text: str) -> bool:
    """A string that is a threshold spec (a number, ``top_k:K``, ``at_least_one:...``)
    rather than a file or checkpoint name."""
    low = text.strip().lower()
    if low.startswith(("top", "at_least_one:", "at-least-one:")) and "/" not in low:
        return True
    try:
        float(low)
        return True
    except ValueError:
        return False


def _check_rule_width(rule, L: int):
    from zoo import thresholds as th
    th.parse(rule, L)


def _thresholds_from_card(d: dict, names, dataset):
    """The rule of a ``zoo.json`` / ``metrics.json`` / compare-result dict, checked."""
    from zoo import thresholds as th
    if dataset is not None and d.get("dataset") not in (None, dataset):
        raise DataFormatError(f"thresholds: they were calibrated for dataset "
                              f"{d['dataset']!r}, not {dataset!r}")
    if "label_names" in d and [str(n) for n in d["label_names"]] != names:
        raise DataFormatError("thresholds: their label names (order) differ from the "
                              "dataset's")
    return th.parse(th.from_dict(d["thresholds"]), len(names), names)


def _thresholds_from_ref(ref, names, dataset):
    path = Path(ref)
    if path.is_file():
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as e:
            raise _read_error(path, e) from None
        except json.JSONDecodeError as e:
            raise DataFormatError(f"thresholds file is not valid JSON ({e})", path=path) from None
        if isinstance(doc, str):
            raise DataFormatError("thresholds file holds a string; expected a number, a list, "
                                  "or a rule dict", path=path)
        try:
            return resolve_thresholds(doc, names, dataset)
        except DataFormatError as e:
            raise DataFormatError(e.reason, path=path) from None
    if path.suffix.lower() == ".json" or path.exists():
        raise DataFormatError("no such thresholds file" if not path.exists() else
                              "not a file", path=path)
    from zoo.saved import open_saved
    try:
        card = open_saved(str(ref)).info()
    except NotFoundError:
        raise ZooError(f"thresholds {str(ref)!r}: neither a JSON file nor a checkpoint name "
                       "(`zoo list` shows the names)") from None
    if dataset is not None and card.get("dataset") != dataset:
        raise ZooError(f"thresholds {str(ref)!r}: that checkpoint is for dataset "
                       f"{card.get('dataset')!r}, not {dataset!r}")
    if [str(n) for n in card.get("label_names", names)] != names:
        raise ZooError(f"thresholds {str(ref)!r}: the checkpoint's labels differ from the "
                       "dataset's")
    from zoo import thresholds as th
    rule = th.from_dict(card.get("thresholds") or {"rule": "global", "threshold": 0.5})
    _check_rule_width(rule, len(names))
    return rule


# ----------------------------------------------------------------------------- compare
def compare(scores, dataset: str, split: str = "test", thresholds=None,
            name: str | None = None) -> dict:
    """Score predicted probabilities for ``dataset``'s ``split`` like a zoo checkpoint.

    Args:
        scores: an (n, L) array of probabilities (rows in the split's order, columns in the
            dataset's label order) or the path of a ``.npy`` / ``.csv`` score file.
        dataset: a benchmark name (``zoo.data.list_datasets()``).
        split: ``"test"`` (the leaderboard's) or another split name.
        thresholds: the decision rule; default one global cut at 0.5 (module docstring).
        name: the name of the result row (default: the file's stem, or ``"scores"``).

    Returns:
        ``{"name", "dataset", "split", "num_examples", "thresholds", "metrics"}``, the layout
        of a checkpoint's ``metrics.json`` (undefined metric values are ``None``).

    Raises:
        DataFormatError: wrong row or column count, unknown or missing CSV label names, NaN or
            infinite values, values outside [0, 1], an unreadable file, a bad threshold spec.
    """
    from zoo import metrics
    from zoo.data import benchmarks
    data = benchmarks.load(dataset, split)
    names = [str(n) for n in data.label_names]
    source = None
    if isinstance(scores, (str, os.PathLike)):
        source = Path(scores)
        scores, locate = read_scores(source, names)
    else:
        locate = None
    s = check_scores(scores, dataset, split, names, len(data), locate)
    rule = resolve_thresholds(thresholds, names, dataset)
    values = metrics.evaluate(data.labels_dense(), s, y_pred=rule.apply(s))
    return {"name": name or (source.stem if source is not None else "scores"),
            "dataset": dataset, "split": split, "num_examples": len(data),
            "thresholds": rule.to_dict(),
            "metrics": {k: (float(v) if math.isfinite(v) else None) for k, v in values.items()}}


def describe_thresholds(rule: dict) -> str:
    """A short human description of a rule dict: ``"global cut 0.5"``, ``"per-label cuts"``."""
    name = rule.get("rule")
    if name == "global":
        return f"global cut {rule['threshold']:.6g}"
    if name == "per_label":
        return f"per-label cuts ({len(rule['thresholds'])} labels)"
    if name == "top_k":
        return f"top {rule['k']} labels per example"
    if name == "at_least_one":
        return describe_thresholds(rule["inner"]) + ", at least one label per example"
    return str(name)


def leaderboard_row(result: dict, source=None) -> dict:
    """The ``kind="user"`` leaderboard row of a :func:`compare` result (test split only)."""
    import datetime

    import zoo
    if result.get("split") != "test":
        raise ZooError(f"only test-split results go on the leaderboard, this one is on "
                       f"{result.get('split')!r}")
    row = {"dataset": result["dataset"], "name": result["name"], "kind": "user",
           "split": "test", "num_examples": result["num_examples"],
           "thresholds": result["thresholds"], "threshold": result["thresholds"].get("rule"),
           "metrics": result["metrics"], "added": datetime.date.today().isoformat(),
           "zoo_version": zoo.__version__}
    if source is not None:
        from zoo._io import sha256_file
        row["source"] = {"file": Path(source).name, "sha256": sha256_file(source)}
    return row
