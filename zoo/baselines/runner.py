"""Fit the registered baselines on the benchmark splits and write ``results/baselines.json``.

Two variants of every baseline, both scored on the official **test** split with
:func:`zoo.metrics.evaluate` (with the metric groups the dataset's catalog record asks for,
:func:`zoo.evaluation.metric_groups`: corel5k-images rows also carry the image-annotation
``annot_top5_*`` metrics):

* **untuned** (row name = the baseline's name, ``"tuned": false``) -- the historical rows:
  fitted on ``train_full`` (the whole official train split) with the builder's default
  hyper-parameters (C=1, k=10, ...) and the fixed decision cut 0.5 on the scores (ML-kNN: its
  MAP rule; linear SVM: the sign of its margin). Nothing is tuned. :func:`evaluate_baseline`.
* **tuned** (row name ``<name>-tuned``, ``"tuned": true``) -- the same treatment as the
  checkpoints (:func:`tune_baseline`): fitted on ``train`` (official train minus the ``valid``
  carve-out the checkpoints use; GoEmotions: the official train/dev), its hyper-parameters
  chosen among the registered grid (:mod:`zoo.baselines.catalog`) on ``valid``, and its
  decision rule chosen and calibrated on ``valid`` with the checkpoints' candidates and tuners
  (:mod:`zoo.thresholds`, as ``zoo.train`` does). Test data is never used for a choice.

How the tuned choice is made, so that per-label cuts do not win by overfitting ``valid``:
the validation rows are split into two random halves (5 random halvings from ``seed``). For
every grid setting and every candidate rule (:data:`RULES`: a global cut, per-label cuts,
per-label cuts shrunk towards the global one, the best rank cut -- the checkpoints'
``zoo.thresholds.choose_rule`` candidates), the rule is tuned on one half and scored on the
other, both ways; the score is the mean of micro-F1 and macro-F1 over the held-out halves
(:func:`zoo.thresholds.heldout_scores`). Per setting, the simplest rule within one standard
error of that setting's best is its rule (:func:`zoo.thresholds.pick`); the setting whose rule
scores best wins (ties: the earlier grid entry); its rule is then
re-tuned on all of ``valid`` (what the checkpoints do) and applied to the test scores. The row
records every trial under ``selection``.

:func:`run` runs the pairs that apply to each dataset's kind (feature baselines on the MULAN
sets, TF-IDF baselines on the raw-text sets, frozen-backbone baselines ``img-br-lr`` /
``img-mlknn`` on the image sets, whose rows record the backbone and pooling under
``encoder``), merges the rows into the results file (atomic
rewrite after every row) and lists the pairs it skips, with their reason. ``zoo baselines``
and ``python -m zoo.baselines`` are its commands. scikit-learn is an optional dependency
(``pip install zoo-mlc[baselines]``).

Example::

    >>> row = tune_baseline("emotions", "mlknn")                        # doctest: +SKIP
    >>> row["name"], row["selection"]["chosen"]                          # doctest: +SKIP
    ('mlknn-tuned', {'params': {'k': 20}, 'rule': 'per_label'})
"""
from __future__ import annotations

import datetime
import json
import time
import warnings
from pathlib import Path

from zoo.baselines import catalog, registry  # noqa: F401  (catalog registers the baselines)
from zoo.errors import ZooError

FORMAT = 2
#: Formats :func:`read_results` reads (format 1: untuned rows only, read as ``tuned: false``).
READABLE_FORMATS = (1, 2)
RESULTS_PATH = Path(__file__).resolve().parents[2] / "results" / "baselines.json"
# The feature (MULAN) datasets and the raw-text datasets.
DATASETS = ("emotions", "yeast", "scene", "flags", "medical", "enron", "genbase", "bibtex",
            "corel5k", "delicious", "tmc2007-500")
TEXT_DATASETS = ("reuters21578", "goemotions")
# The image datasets: their baselines run on a frozen backbone's pooled features.
IMAGE_DATASETS = ("corel5k-images",)
ALL_DATASETS = DATASETS + TEXT_DATASETS + IMAGE_DATASETS
# Baselines with an untuned row, per kind (the historical rows), and all of them.
NAMES = registry.names("features", untuned=True)
TEXT_NAMES = registry.names("text", untuned=True)
IMAGE_NAMES = registry.names("image", untuned=True)
ALL_NAMES = NAMES + TEXT_NAMES + IMAGE_NAMES
BASELINES_BY_KIND = {"features": NAMES, "text": TEXT_NAMES, "image": IMAGE_NAMES}
TUNED_BY_KIND = {k: registry.names(k) for k in registry.KINDS}
VARIANTS = ("untuned", "tuned")
TUNED_SUFFIX = "-tuned"
#: The selection criterion of the tuned rows (on held-out halves of ``valid``).
CRITERION = "mean of micro-F1 and macro-F1"
#: The candidate rules, the checkpoints' (``zoo.thresholds.CANDIDATES``, ``rule = "auto"``).
RULES = ("global", "top_k", "shrunk-30", "shrunk-10", "shrunk-3", "per_label")
#: Random halvings of ``valid`` per (setting, rule) score, as ``zoo.thresholds.choose_rule``.
REPEATS = 5
# (dataset, row name) pairs not run by default, with the reason recorded in the results file.
SKIP = {
    ("delicious", "ecc-lr"): "too slow on 2 shared CPU cores: 10 chains x 983 labels = 9830"
                             " logistic regressions on 12920 rows with up to 1482 features",
    ("delicious", "ecc-lr-tuned"): "too slow on 2 shared CPU cores (as the untuned row; a grid"
                                   " of 2 C values doubles it)",
    ("delicious", "rf-tuned"): "out of memory: a multi-output forest stores 983 x 2 class "
                               "shares in every node (the first fully grown forest took 222 s "
                               "and the process was then killed, exit 137)",
    ("bibtex", "ecc-lr-tuned"): "too slow for the time budget of the tuned run on 2 shared"
                                " cores: the untuned fit alone takes 8 min, the grid doubles it",
    ("corel5k", "ecc-lr-tuned"): "too slow for the time budget of the tuned run on 2 shared"
                                 " cores: the untuned fit alone takes 4 min, the grid doubles it",
}
# (dataset, baseline) -> (grid restriction {param: allowed values}, reason), for slow fits.
GRID_LIMITS: dict = {
    ("delicious", "br-lr"): ({"C": (0.01, 0.1, 1.0)}, "C=10 left out on delicious (983 labels):"
                             " too slow for the time budget on 2 shared cores"),
    ("delicious", "br-svm"): ({"C": (0.001, 0.01, 0.1)}, "C=1 left out on delicious (983 "
                              "labels): too slow for the time budget on 2 shared cores"),
    ("bibtex", "br-lr"): ({"C": (0.01, 0.1, 1.0)}, "C=10 left out on bibtex (159 labels, 1836 "
                          "features): too slow for the time budget on 2 shared cores"),
}


def tuned_name(name: str) -> str:
    """The row name of ``name``'s tuned variant: ``"br-lr"`` -> ``"br-lr-tuned"``."""
    return name + TUNED_SUFFIX


def kind_of(dataset: str) -> str:
    """The kind of a benchmark dataset ("features", "text" or "image") that picks its
    baselines."""
    if dataset in DATASETS:
        return "features"
    if dataset in TEXT_DATASETS:
        return "text"
    if dataset in IMAGE_DATASETS:
        return "image"
    from zoo import data
    return data.load(dataset, "test").kind


def names_for(dataset: str, names=None, variant: str = "untuned") -> tuple:
    """The baselines among ``names`` (default: all) that apply to ``dataset``'s kind and have
    the ``variant`` (``"untuned"``: the historical ones; ``"tuned"``: every registered one)."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    kind = kind_of(dataset)
    applicable = registry.names(kind, untuned=True if variant == "untuned" else None)
    pool = applicable if names is None else names
    return tuple(n for n in pool if n in applicable)


def make(name: str, seed: int = 0, **overrides):
    """A fresh ``(estimator, params_record)`` of registered baseline ``name`` (its defaults,
    i.e. the untuned settings, updated with ``overrides``)."""
    return registry.get(name).make(seed=seed, **overrides)


def inputs(ds):
    """What a baseline of ``ds``'s kind is fitted on / applied to: the rows ``ds.x``, or for
    an image dataset the dataset itself (:class:`~zoo.baselines.estimators.BackboneFeatures`
    names its feature cache after the dataset and split)."""
    return ds if ds.kind == "image" else ds.x


def _metric_groups(dataset: str) -> tuple:
    """The metric groups ``dataset`` is scored with (:func:`zoo.evaluation.metric_groups`: the
    defaults, plus e.g. the image-annotation ``annot_top5_*`` for corel5k-images)."""
    from zoo.evaluation import metric_groups
    return metric_groups(dataset)


def _describe_features(row: dict, model) -> dict:
    """Add what the features were: the TF-IDF vocabulary size, or the frozen image encoder
    (backbone, weights, size, pooling, feature-map shape)."""
    if hasattr(model, "vectorizer_"):
        row["features"] = len(model.vectorizer_.vocabulary_)
    if hasattr(model, "encoder_record"):
        row["encoder"] = model.encoder_record()
        row["params"] = dict(row["params"], encoder=row["encoder"])
    return row


def _check_applies(name: str, dataset: str, kind: str):
    spec = registry.get(name)
    if spec.kind != kind:
        raise ValueError(f"baseline {name!r} does not apply to {dataset!r} (kind {kind!r});"
                         f" its baselines: {list(TUNED_BY_KIND.get(kind, ()))}")


def evaluate_baseline(dataset: str, name: str, seed: int = 0, **overrides) -> dict:
    """The **untuned** row: fit ``name`` (defaults) on ``train_full``, cut at 0.5 on test.

    Returns ``{"dataset", "name", "baseline", "tuned": False, "kind": "baseline", "metrics",
    "fit_seconds", "params", "threshold": 0.5, "train_split", "split"}``.
    """
    from zoo import data
    from zoo.metrics import evaluate
    train, test = data.load(dataset, "train_full"), data.load(dataset, "test")
    _check_applies(name, dataset, train.kind)
    if name not in BASELINES_BY_KIND.get(train.kind, ()):
        raise ValueError(f"baseline {name!r} has no untuned variant; tune_baseline() runs it")
    model, params = make(name, seed=seed, **overrides)
    t0 = time.perf_counter()
    model.fit(inputs(train), train.labels_dense())
    fit_seconds = time.perf_counter() - t0
    proba = model.predict_proba(inputs(test))
    metrics = evaluate(test.labels_dense(), proba, threshold=0.5,
                       groups=_metric_groups(dataset))
    row = {"dataset": dataset, "name": name, "baseline": name, "tuned": False,
           "kind": "baseline", "metrics": metrics, "fit_seconds": round(fit_seconds, 2),
           "params": params, "threshold": 0.5, "train_split": "train_full", "split": "test"}
    return _describe_features(row, model)


# ----------------------------------------------------------------------------- tuning

def calibrate(rule: str, y_val, s_val):
    """The decision rule ``rule`` (a name in :data:`RULES`) tuned on validation labels/scores
    with the checkpoints' tuners (:func:`zoo.thresholds.tune`)."""
    from zoo import thresholds as th
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    return th.tune(rule, y_val, s_val)


def grid_for(dataset: str, name: str) -> tuple[list, str | None]:
    """The grid of ``name`` on ``dataset`` (registered grid, restricted by :data:`GRID_LIMITS`)
    and the reason of a restriction (or ``None``)."""
    grid = list(registry.get(name).grid) or [{}]
    limit = GRID_LIMITS.get((dataset, name))
    if limit is None:
        return grid, None
    allowed, reason = limit
    kept = [g for g in grid if all(g.get(k) in v for k, v in allowed.items())]
    return kept, reason


def tune_baseline(dataset: str, name: str, seed: int = 0, grid=None, log=None) -> dict:
    """The **tuned** row of baseline ``name`` on ``dataset`` (see the module docstring).

    Returns the row: ``{"dataset", "name": "<name>-tuned", "baseline", "tuned": True,
    "kind": "baseline", "metrics", "params", "thresholds" (the rule dict), "threshold" (its
    name), "selection": {"criterion", "rules", "halves_seed", "trials", "chosen", ...},
    "fit_seconds" (the chosen fit), "search_seconds", "train_split": "train", "valid_split":
    "valid", "split": "test"}``.
    """
    from zoo import data
    from zoo import thresholds as th
    from zoo.metrics import evaluate
    train, valid, test = (data.load(dataset, s) for s in ("train", "valid", "test"))
    _check_applies(name, dataset, train.kind)
    note = None
    if grid is None:
        grid, note = grid_for(dataset, name)
    if not grid:
        raise ValueError(f"empty grid for {name!r} on {dataset!r}")
    y_tr, y_va = train.labels_dense(), valid.labels_dense()
    trials, best = [], None
    t_search = time.perf_counter()
    for params in grid:
        model, record = make(name, seed=seed, **params)
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(inputs(train), y_tr)
        fit_seconds = time.perf_counter() - t0
        unconverged = sum("converge" in str(w.message) for w in caught)
        s_va = model.predict_proba(inputs(valid))
        held = {rule: th.heldout_scores(y_va, s_va, rule, repeats=REPEATS, seed=seed)
                for rule in RULES}
        scores = {r: float(v.mean()) for r, v in held.items()}
        trial_rule, _ = th.pick(held)  # the simplest rule within one SE of the best
        trials.append({"params": dict(params), "fit_seconds": round(fit_seconds, 2),
                       "valid_score": {r: round(v, 6) for r, v in scores.items()},
                       "rule": trial_rule})
        if unconverged:  # recorded, not hidden: the solver stopped at max_iter for some labels
            trials[-1]["convergence_warnings"] = unconverged
        if log is not None:
            log(f"  {dataset} {name} {params}: " + ", ".join(f"{r} {v:.4f}"
                                                             for r, v in scores.items())
                + f" -> {trial_rule} (fit {fit_seconds:.1f}s)")
        if best is None or scores[trial_rule] > best["score"]:
            best = {"score": scores[trial_rule], "params": dict(params), "record": record,
                    "rule": trial_rule, "model": model, "s_va": s_va,
                    "fit_seconds": fit_seconds}
        del model
    rule = calibrate(best["rule"], y_va, best["s_va"])
    proba = best["model"].predict_proba(inputs(test))
    metrics = evaluate(test.labels_dense(), proba, y_pred=rule.apply(proba),
                       groups=_metric_groups(dataset))
    chosen_params = best["params"]
    edge = [k for k, v in chosen_params.items()
            if len({g.get(k) for g in grid}) > 2 and v in (grid[0].get(k), grid[-1].get(k))]
    selection = {"criterion": f"{CRITERION} on held-out halves of valid (rule tuned on the "
                              f"other half, both ways, {REPEATS} random halvings); per setting"
                              " the simplest rule within one standard error of its best",
                 "rules": list(RULES), "halves_seed": seed, "repeats": REPEATS,
                 "trials": trials,
                 "chosen": {"params": chosen_params, "rule": best["rule"],
                            "valid_score": round(best["score"], 6)},
                 "chosen_at_grid_edge": edge}
    if note:
        selection["grid_note"] = note
    row = {"dataset": dataset, "name": tuned_name(name), "baseline": name, "tuned": True,
           "kind": "baseline", "metrics": metrics, "params": best["record"],
           "thresholds": rule.to_dict(), "threshold": best["rule"], "selection": selection,
           "fit_seconds": round(best["fit_seconds"], 2),
           "search_seconds": round(time.perf_counter() - t_search, 2),
           "train_split": "train", "valid_split": "valid", "split": "test"}
    return _describe_features(row, best["model"])


# ----------------------------------------------------------------------------- results file

def _upgrade_row(r: dict) -> dict:
    r = dict(r)
    r.setdefault("tuned", r.get("name", "").endswith(TUNED_SUFFIX))
    r.setdefault("baseline", r["name"][: -len(TUNED_SUFFIX)] if r["tuned"] else r["name"])
    return r


def read_results(path=None) -> dict:
    """The results file (rows upgraded to carry ``tuned`` / ``baseline``), or an empty one if
    it does not exist yet."""
    path = Path(RESULTS_PATH if path is None else path)
    if not path.is_file():
        return {"format": FORMAT, "rows": [], "skipped": []}
    doc = json.loads(path.read_text())
    if doc.get("format") not in READABLE_FORMATS:
        raise ZooError(f"{path}: results format {doc.get('format')!r}, this zoo reads"
                       f" formats {list(READABLE_FORMATS)}")
    doc["rows"] = [_upgrade_row(r) for r in doc.get("rows", [])]
    return doc


DECISION = {
    "untuned": "fixed threshold 0.5 on the probabilities (ML-kNN: its MAP rule; linear SVM: "
               "sigmoid of the decision function, i.e. its sign); fitted on train_full",
    "tuned": "fitted on train; hyper-parameters and the rule (global micro-F1 cut, per-label F1"
             " cuts, shrunk per-label cuts or rank cut: zoo.thresholds.CANDIDATES) chosen on"
             " valid by " + CRITERION + " on held-out halves; the chosen rule re-tuned on all"
             " of valid",
}


def run(datasets=ALL_DATASETS, names=None, out=None, skip=None, seed: int = 0,
        variants=VARIANTS, log=print) -> dict:
    """Run ``names`` x ``datasets`` x ``variants`` and merge the rows into the results file.

    Each dataset gets the baselines among ``names`` (default: all registered) that apply to
    its kind and have the variant (:func:`names_for`). Rows of other pairs already in ``out``
    are kept; pairs in ``skip`` (default :data:`SKIP`, keyed by row name) are not run and are
    listed under ``"skipped"`` with their reason. The file is rewritten atomically after every
    finished row.
    """
    import zoo
    from zoo._io import atomic_write_text
    from zoo.checkpoint import hardware
    out = RESULTS_PATH if out is None else out
    skip = SKIP if skip is None else skip
    for v in variants:
        if v not in VARIANTS:
            raise ValueError(f"variants must be among {VARIANTS}, got {v!r}")
    doc = read_results(out)
    rows = {(r["dataset"], r["name"]): r for r in doc.get("rows", [])}
    skipped = {(r["dataset"], r["name"]): r for r in doc.get("skipped", [])}
    hw = hardware()

    def write():
        order = {d: i for i, d in enumerate(ALL_DATASETS)}
        key = lambda k: (order.get(k[0], len(order)), k[0], k[1])  # noqa: E731
        body = {"format": FORMAT, "zoo_version": zoo.__version__,
                "generated": datetime.date.today().isoformat(), "hardware": hw,
                "decision": DECISION,
                "rows": [rows[k] for k in sorted(rows, key=key)],
                "skipped": [skipped[k] for k in sorted(skipped, key=key)]}
        atomic_write_text(out, json.dumps(body, indent=1, sort_keys=True) + "\n")

    for dataset in datasets:
        for variant in variants:
            for name in names_for(dataset, names, variant):
                row_name = name if variant == "untuned" else tuned_name(name)
                if (dataset, row_name) in skip:
                    rows.pop((dataset, row_name), None)
                    skipped[(dataset, row_name)] = {"dataset": dataset, "name": row_name,
                                                    "reason": skip[(dataset, row_name)]}
                    log(f"{dataset:<12} {row_name:<16} skipped: {skip[(dataset, row_name)]}")
                    continue
                if variant == "untuned":
                    row = evaluate_baseline(dataset, name, seed=seed)
                else:
                    row = tune_baseline(dataset, name, seed=seed, log=log)
                rows[(dataset, row_name)] = row
                skipped.pop((dataset, row_name), None)
                m = row["metrics"]
                annot = (f" annot-F1 {m['annot_top5_f1']:.4f} N+ {m['annot_top5_n_plus']:.0f}"
                         if "annot_top5_f1" in m else "")
                log(f"{dataset:<12} {row_name:<16} micro-F1 {m['micro_f1']:.4f} macro-F1"
                    f" {m['macro_f1']:.4f} mAP {m['mean_average_precision']:.4f}{annot}"
                    f" fit {row['fit_seconds']:.1f}s")
                write()
    write()
    return read_results(out)


def main(argv=None) -> int:
    """``python -m zoo.baselines [--dataset D ...] [--name N ...] [--variant V ...] [--out F]``"""
    import argparse
    p = argparse.ArgumentParser(prog="python -m zoo.baselines",
                                description="Refit the classical baselines into the results "
                                            "file (untuned and tuned-on-valid variants).")
    p.add_argument("--dataset", action="append", help="dataset (repeatable; default: all)")
    p.add_argument("--name", action="append", help="baseline name (repeatable; default: all)")
    p.add_argument("--variant", action="append", choices=VARIANTS,
                   help="untuned and/or tuned (repeatable; default: both)")
    p.add_argument("--out", help="results file (default results/baselines.json)")
    a = p.parse_args(argv)
    run(datasets=a.dataset or ALL_DATASETS, names=a.name, out=a.out,
        variants=tuple(a.variant or VARIANTS))
    return 0
