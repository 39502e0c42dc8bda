"""Re-choose a published checkpoint's decision rule on its validation split; weights untouched.

A checkpoint's decisions are its scores plus a rule (:mod:`zoo.thresholds`). The rule can be
improved without retraining: :func:`recalibrate` scores the checkpoint's own validation split
(the one recorded in its card), lets :func:`zoo.thresholds.choose_rule` pick among a global
cut, per-label cuts, shrunk per-label cuts and a rank cut by held-out halves of that split
(plus the recipe's fixed cut when it named one, e.g. BP-MLL's and SGM's own 0.5), and rewrites
the card (``thresholds``, ``training.threshold_selection``, the recipe's ``[thresholds]``),
``metrics.json`` (re-scored on test) and the model card. ``model.weights.h5`` is not
rewritten: its bytes and hash stay the same.

The folder is rewritten atomically: a staging copy is updated and scored, then swapped in.

Command line::

    python -m zoo.recalibrate checkpoints/yeast-mlp [more folders ...]

Checkpoints with a post-hoc logit adjustment (the Corel5k image heads) are refused: their
decisions reproduce the unadjusted model's calibrated cut by construction.
"""
from __future__ import annotations

import argparse
import datetime
import json
import shutil
import sys
from pathlib import Path

from zoo.errors import ZooError


def candidates_for(card: dict) -> list[str]:
    """The rules compared for ``card``: :data:`zoo.thresholds.CANDIDATES`, preceded by the
    recipe's fixed cut when its recipe named one (the paper's own decision rule)."""
    from zoo import thresholds as th
    recipe_rule = (card.get("recipe") or {}).get("thresholds") or {}
    names = list(recipe_rule.get("candidates") or th.CANDIDATES)
    if recipe_rule.get("rule") == "fixed":
        names = [f"fixed:{float(recipe_rule.get('value', 0.5))}"] + names
    return names


def recalibrate(ref, verbose: bool = True) -> dict:
    """Re-choose the decision rule of checkpoint ``ref`` (folder or name) on its validation
    split and rewrite the folder; returns ``{"name", "old", "new", "selection"}`` with the
    old and new test micro-/macro-F1."""
    from zoo import checkpoint
    from zoo import thresholds as th
    from zoo.data import benchmarks
    from zoo.evaluation import evaluate_folder
    from zoo.saved import open_saved
    saved = open_saved(ref)
    card = saved.card
    if "logit_adjustment" in card.get("training", {}):
        raise ZooError(f"{saved.folder}: a logit-adjusted checkpoint keeps its rule (see "
                       "zoo.train: rule 'global' expressed per label)")
    if (card.get("recipe") or {}).get("data") or (card.get("recipe") or {}).get("finetune"):
        raise ZooError(f"{saved.folder}: trained on user files; recalibrate takes checkpoints "
                       "of the benchmark datasets")
    model = saved.load()
    valid = benchmarks.load(card["dataset"], card["splits"]["valid"])
    rule, selection = th.choose_rule(valid.labels_dense(), model.predict_proba(valid.x),
                                     candidates=candidates_for(card))
    old = dict((saved.metrics or {}).get("metrics", {}))
    new_card = json.loads(json.dumps(card))
    new_card.pop("files", None)
    new_card["thresholds"] = rule.to_dict()
    selection = {**selection, "when": datetime.date.today().isoformat(),
                 "how": "python -m zoo.recalibrate (weights unchanged)"}
    new_card.setdefault("training", {})["threshold_selection"] = selection
    recipe_rule = {"rule": "auto"}
    if selection["candidates"] != list(th.CANDIDATES):
        recipe_rule["candidates"] = selection["candidates"]
    new_card.setdefault("recipe", {})["thresholds"] = recipe_rule

    folder = Path(saved.folder)
    staging = folder.with_name(f".{folder.name}.recalibrate")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        shutil.copytree(folder, staging)
        checkpoint._write_card_files(staging, new_card, saved.metrics)
        metrics = evaluate_folder(staging)
        for key in set(saved.metrics or {}) - set(metrics):  # e.g. a recorded source
            metrics[key] = saved.metrics[key]
        checkpoint.update_metrics(staging, metrics)
        checkpoint._replace_folder(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    out = {"name": card.get("name"), "selection": selection,
           "old": {k: old.get(k) for k in ("micro_f1", "macro_f1")},
           "new": {k: metrics["metrics"].get(k) for k in ("micro_f1", "macro_f1")}}
    if verbose:
        o, n = out["old"], out["new"]
        print(f"{out['name']}: {selection['chosen']}; test micro-F1 {o['micro_f1']:.4f} -> "
              f"{n['micro_f1']:.4f}, macro-F1 {o['macro_f1']:.4f} -> {n['macro_f1']:.4f}",
              flush=True)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m zoo.recalibrate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="+", help="checkpoint folders or names")
    args = parser.parse_args(argv)
    failed = 0
    for ref in args.checkpoints:
        try:
            recalibrate(ref)
        except ZooError as e:
            print(f"{ref}: skipped: {e}", file=sys.stderr)
            failed += 1
    return 1 if failed == len(args.checkpoints) else 0


if __name__ == "__main__":
    raise SystemExit(main())
