"""Hyper-parameter search for a recipe, scored on the validation split only.

A recipe (:mod:`zoo.recipes`) fixes one architecture, its options and its training settings.
:func:`search` tries other values of chosen keys -- a grid, or ``trials`` random draws from
it -- by training each variant on ``train`` (early stopping on ``valid``, as every recipe
does) and scoring it by the held-out criterion of its decision rule: the mean of micro- and
macro-F1 on held-out halves of ``valid`` for the rule ``rule = "auto"`` chooses
(:func:`zoo.thresholds.choose_rule`). The test split is never read. The best variant is
written as a new recipe TOML (atomically), ready for ``zoo train``; every trial is recorded in
that recipe's ``[search]`` notes and in the returned list.

Keys are dotted paths into the recipe: ``model.hidden_units``, ``model.dropout``,
``train.learning_rate``, ``train.loss``, ``train.epochs``, ``seed``...

Example (the command line is ``python -m zoo.search``)::

    python -m zoo.search recipes/yeast/mlp.toml --out recipes/yeast/mlp.toml \\
        --set model.hidden_units='[[256],[1000],[512,512]]' \\
        --set model.dropout='[0.2,0.5]' --set train.loss='["bce","asl"]' --trials 8

    >>> from zoo.search import search                                  # doctest: +SKIP
    >>> best, trials = search("recipes/yeast/mlp.toml",
    ...                       {"model.dropout": [0.2, 0.5], "train.learning_rate": [1e-3, 3e-4]})
"""
from __future__ import annotations

import argparse
import copy
import itertools
import json
import random
import time
from pathlib import Path

from zoo.errors import ZooError


def _set(recipe: dict, key: str, value) -> None:
    parts = key.split(".")
    node = recipe
    for p in parts[:-1]:
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            raise ZooError(f"search key {key!r}: {p!r} is not a table of the recipe")
    node[parts[-1]] = value


def variants(space: dict, trials: int | None = None, seed: int = 0) -> list[dict]:
    """The grid of ``space`` (key -> list of values) in order, or ``trials`` distinct random
    points of it (all of it when the grid is smaller)."""
    if not space:
        raise ZooError("the search space is empty: give at least one key with values")
    for key, values in space.items():
        if not isinstance(values, (list, tuple)) or not values:
            raise ZooError(f"search key {key!r}: expected a non-empty list of values, got "
                           f"{values!r}")
    keys = list(space)
    grid = [dict(zip(keys, combo)) for combo in itertools.product(*(space[k] for k in keys))]
    if trials is None or trials >= len(grid):
        return grid
    return random.Random(seed).sample(grid, int(trials))


def score_variant(recipe: dict, verbose: int = 0) -> dict:
    """Train ``recipe`` (a dict) on its train split and score it on valid; returns
    ``{"valid_score", "rule", "epochs_run", "seconds"}``."""
    from zoo.data import benchmarks
    from zoo.train import fit
    data = recipe.get("data", {})
    train = benchmarks.load(recipe["dataset"], data.get("train_split", "train"))
    valid = benchmarks.load(recipe["dataset"], data.get("valid_split", "valid"))
    tcfg = dict(recipe.get("thresholds") or {})
    tcfg["rule"] = "auto"
    t0 = time.perf_counter()
    result = fit(recipe["architecture"], train, valid, recipe.get("model", {}),
                 seed=int(recipe.get("seed", 0)), verbose=verbose, thresholds=tcfg,
                 **recipe.get("train", {}))
    sel = result.training["threshold_selection"]
    return {"valid_score": sel["valid_scores"][sel["chosen"]], "rule": sel["chosen"],
            "epochs_run": result.training["epochs_run"],
            "seconds": round(time.perf_counter() - t0, 1)}


def search(recipe_path, space: dict, trials: int | None = None, seed: int = 0,
           out=None, verbose: int = 0, log=print, scorer=score_variant):
    """Search ``space`` around the recipe at ``recipe_path``; returns ``(best recipe dict,
    trials)``. With ``out``, the best recipe is written there as TOML, its ``[search]`` table
    recording the space, every trial and the criterion. The unchanged recipe is always the
    first trial, so the result is never worse on valid than the starting point."""
    from zoo.recipes import read_recipe
    base = read_recipe(recipe_path)
    for key in ("finetune",):
        if key in base:
            raise ZooError(f"{recipe_path}: search takes benchmark recipes, not [{key}] ones")
    points = [{}] + [v for v in variants(space, trials, seed)]
    results = []
    best = None
    for i, point in enumerate(points):
        recipe = copy.deepcopy(base)
        recipe.pop("search", None)
        for key, value in point.items():
            _set(recipe, key, value)
        res = {"point": point, **scorer(recipe, verbose)}
        results.append(res)
        if log is not None:
            log(f"[{i + 1}/{len(points)}] {json.dumps(point) if point else 'as recorded'}: "
                f"valid {res['valid_score']:.4f} ({res['rule']}, {res['epochs_run']} epochs, "
                f"{res['seconds']} s)")
        if best is None or res["valid_score"] > best[1]["valid_score"]:
            best = (recipe, res)
    recipe, res = best
    recipe["search"] = {
        "criterion": "held-out mean of micro- and macro-F1 on valid of the rule chosen by "
                     "rule = 'auto' (zoo.thresholds.choose_rule); test never read",
        "from": Path(recipe_path).as_posix(), "space": space, "seed": seed,
        "chosen": res["point"], "valid_score": res["valid_score"],
        "trials": [{"point": json.dumps(r["point"]), "valid_score": r["valid_score"],
                    "rule": r["rule"], "epochs_run": r["epochs_run"]} for r in results]}
    if out is not None:
        write_recipe(recipe, out)
    return recipe, results


def _key(k: str) -> str:
    import re
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k)


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_key(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise ZooError(f"cannot write {v!r} to TOML")


def to_toml(recipe: dict) -> str:
    """A recipe dict as TOML (top-level keys, then one table per section; nested tables of
    a section, such as ``[search].space``, are written inline)."""
    lines = [f"{_key(k)} = {_toml_value(v)}" for k, v in recipe.items()
             if not isinstance(v, dict)]
    for section, table in recipe.items():
        if isinstance(table, dict):
            lines += ["", f"[{_key(section)}]"]
            lines += [f"{_key(k)} = {_toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def write_recipe(recipe: dict, path) -> Path:
    """Write ``recipe`` as TOML atomically; it reads back as the same recipe."""
    import tomllib

    from zoo._io import atomic_write_text
    text = to_toml(recipe)
    if tomllib.loads(text) != json.loads(json.dumps(recipe)):
        raise ZooError("internal: the recipe does not survive a TOML round trip")
    path = Path(path)
    atomic_write_text(path, text)
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m zoo.search", description=__doc__.split("\n\n")[0])
    ap.add_argument("recipe")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=JSON_LIST",
                    help="a dotted recipe key and a JSON list of values (repeatable)")
    ap.add_argument("--trials", type=int, help="random points of the grid (default: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", help="write the best recipe here (TOML)")
    args = ap.parse_args(argv)
    space = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            ap.error(f"--set {item!r}: expected KEY=JSON_LIST")
        try:
            space[key.strip()] = json.loads(value)
        except json.JSONDecodeError as e:
            ap.error(f"--set {key}: the values are not JSON ({e})")
    try:
        recipe, _ = search(args.recipe, space, args.trials, args.seed, args.out)
    except ZooError as e:
        print(f"error: {e}")
        return 2
    print(f"best: {json.dumps(recipe['search']['chosen'])} valid "
          f"{recipe['search']['valid_score']:.4f}" + (f" -> {args.out}" if args.out else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
