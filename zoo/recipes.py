"""Recipes: the declarative record of how a checkpoint was made, and re-running it.

``zoo train recipes/<dataset>/<arch>.toml`` (or ``zoo train <checkpoint>``, which re-runs the
recipe the checkpoint recorded) trains with :func:`zoo.train.fit` - or fine-tunes with
:func:`zoo.finetune` when the recipe has a ``[finetune]`` section - writes the checkpoint
folder and scores it on the test split with the same code as ``zoo evaluate``; the folder only
appears, complete with ``metrics.json`` and model card, when all of that succeeded.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

from zoo.errors import DataFormatError, ZooError
from zoo.train import THRESHOLD_KEYS, TRAIN_DEFAULTS, fit


# ----------------------------------------------------------------------------- recipes

RECIPE_KEYS = {"name", "architecture", "dataset", "seed", "description", "model", "train",
               "thresholds", "data", "finetune", "weights_dtype",
               "search",    # [search]: how zoo.search chose the values (a record, not read)
               "ensemble"}  # ensemble: zoo.ensemble (architecture = "ensemble")
FINETUNE_KEYS = {"base", "freeze_epochs", "input_mismatch", "allow_empty_labels"}
DATA_KEYS = {"train_split", "valid_split",                      # a named benchmark's splits
             "train", "valid", "test", "reader_options"}        # files (fine-tuning)


def read_recipe(path) -> dict:
    """Parse and check a recipe: a TOML file, or the recipe a checkpoint recorded.

    ``path``: ``recipes/<dataset>/<arch>.toml``, or a checkpoint reference (folder, pretrained
    name): its ``zoo.json["recipe"]``, which trained and fine-tuned checkpoints both record in
    this one schema. Errors name the file and the offending key.

    Schema (every section optional but the three names)::

        name = "yeast/mlp"            architecture = "mlp"          dataset = "yeast"
        seed = 0
        [model]       architecture options (the builder's keyword arguments)
        [train]       zoo.train.TRAIN_DEFAULTS keys (loss, epochs, learning_rate, ...)
        [thresholds]  rule = "auto" (default) | "per_label" | "global" | "fixed", fallback, value,
                      at_least_one, candidates (for "auto": names in zoo.thresholds.CANDIDATES)
        [data]        train_split / valid_split of a named dataset, or, with [finetune],
                      train / valid / test files and reader_options
        [finetune]    base (name, folder or architecture), freeze_epochs, input_mismatch,
                      allow_empty_labels
        [search]      written by zoo.search: the space, every trial and the choice (a record)
        weights_dtype = "float16"   store the weights in half precision (the model computes
                      in float32; metrics.json is measured on the stored weights)
    """
    path = Path(path) if not isinstance(path, dict) else path
    if isinstance(path, dict):
        recipe, where = path, "recipe"
    elif path.suffix.lower() == ".toml" or path.is_file():
        try:
            recipe = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise ZooError(f"recipe {path} does not exist") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise DataFormatError(f"invalid TOML: {e}", path=path) from None
        where = path
    else:
        from zoo.saved import open_saved
        saved = open_saved(path)
        recipe = saved.card.get("recipe")
        if not isinstance(recipe, dict):
            raise ZooError(f"checkpoint {path} records no recipe")
        recipe = dict(recipe)
        recipe.setdefault("_source_folder", str(saved.folder))
        where = saved.folder / "zoo.json"
    for key in ("name", "architecture", "dataset"):
        if key not in recipe:
            raise DataFormatError(f"missing top-level key {key!r}", path=where)
    extra = set(recipe) - RECIPE_KEYS - {"_source_folder"}
    if extra:
        raise DataFormatError(f"unknown top-level key(s) {sorted(extra)}; allowed: "
                              f"{sorted(RECIPE_KEYS)}", path=where)
    for section, known in (("train", set(TRAIN_DEFAULTS)), ("thresholds", THRESHOLD_KEYS),
                           ("finetune", FINETUNE_KEYS), ("data", DATA_KEYS)):
        value = recipe.get(section, {})
        if not isinstance(value, dict):
            raise DataFormatError(f"[{section}] must be a table, got {type(value).__name__}",
                                  path=where)
        unknown = set(value) - known
        if unknown:
            raise DataFormatError(f"unknown [{section}] key(s) {sorted(unknown)}; known: "
                                  f"{sorted(known)}", path=where)
    if ("ensemble" in recipe) != (recipe["architecture"] == "ensemble"):
        raise DataFormatError("an [ensemble] table goes with architecture = 'ensemble' (and "
                              "that architecture needs one)", path=where)
    if recipe.get("weights_dtype", "float32") not in ("float32", "float16"):
        raise DataFormatError(f"weights_dtype must be 'float32' or 'float16', got "
                              f"{recipe['weights_dtype']!r}", path=where)
    if "finetune" in recipe and "base" not in recipe["finetune"]:
        raise DataFormatError("[finetune] needs base = <pretrained name, folder or "
                              "architecture>", path=where)
    if "finetune" not in recipe and any(k in recipe.get("data", {})
                                        for k in ("train", "valid", "test")):
        raise DataFormatError("[data] train/valid/test files need a [finetune] section (a base"
                              " model); a named dataset uses train_split/valid_split",
                              path=where)
    return recipe


def _data_file(value, recipe_path):
    """A recorded data path: as given, else relative to the recipe file's folder."""
    if value is None:
        return None
    p = Path(value)
    if p.exists() or p.is_absolute() or recipe_path is None:
        return str(p)
    alt = Path(recipe_path).parent / p
    return str(alt) if alt.exists() else str(p)


def output_folder(recipe: dict, out=None) -> Path:
    """Where a recipe's checkpoint goes: ``out``, else ``checkpoints/<dataset>-<arch>``."""
    from zoo import registry
    return Path(out) if out else (registry.checkpoints_dir() or Path("checkpoints")) / \
        registry.folder_name(recipe["name"])


def train_recipe(path, out=None, overwrite: bool = True, verbose: int = 1, strategy=None):
    """Train the checkpoint a recipe describes; returns the checkpoint folder.

    ``path``: a recipe TOML file or a checkpoint whose recorded recipe is re-run (trained and
    fine-tuned checkpoints alike; see :func:`read_recipe`). The folder is staged next to its
    destination, evaluated on the test split with :func:`zoo.evaluate` and only then renamed
    into place.

    ``strategy``: a ``tf.distribute`` strategy or its name (:func:`zoo.distributed.make_strategy`:
    ``"mirrored"``, ``"multiworker"``, ``"tpu"``, ``"data-parallel"``). The recipe's
    ``batch_size`` is the global batch, split over the replicas. Under ``"multiworker"`` every
    worker runs this function and only the chief (worker 0) keeps its folder
    (:func:`zoo.distributed.worker_output`); the card's ``training`` section records the
    strategy, ``num_workers`` and ``num_replicas``.
    """
    from zoo import checkpoint, distributed, kinds
    from zoo.data import benchmarks
    from zoo.evaluation import evaluate_folder
    from zoo.models import get_architecture

    recipe = read_recipe(path)
    name = recipe["name"]
    out = output_folder(recipe, out)
    if out.exists() and not overwrite:
        raise ZooError(f"{out} exists; pass overwrite=True (zoo train: --force) to replace it")
    if "finetune" in recipe:
        if strategy is not None:
            raise ZooError(f"{path}: a [finetune] recipe trains in one process (no strategy)")
        return _finetune_recipe(recipe, path, out, overwrite, verbose)
    if recipe["architecture"] == "ensemble":  # members combined, not trained: zoo.ensemble
        if strategy is not None:
            raise ZooError(f"{path}: an ensemble recipe combines trained members (no strategy)")
        from zoo.ensemble import train_ensemble
        return train_ensemble(recipe, path, out, overwrite, verbose, read_recipe=read_recipe)
    if isinstance(strategy, str):
        strategy = distributed.make_strategy(strategy)
    data = recipe.get("data", {})
    train = benchmarks.load(recipe["dataset"], data.get("train_split", "train"))
    valid = benchmarks.load(recipe["dataset"], data.get("valid_split", "valid"))
    result = fit(recipe["architecture"], train, valid, recipe.get("model", {}),
                 seed=int(recipe.get("seed", 0)), strategy=strategy, verbose=verbose,
                 thresholds=recipe.get("thresholds"), **recipe.get("train", {}))
    arch = get_architecture(recipe["architecture"])
    result.training["recipe_path"] = Path(path).as_posix()
    result.training.update({k: v for k, v in distributed.describe(strategy).items()
                            if k != "worker_index"})
    distributed.write_report(result.model, strategy, result.training, out)
    card = checkpoint.new_card(
        name=name, architecture=recipe["architecture"], dataset=recipe["dataset"],
        kind=train.kind, label_names=train.label_names,
        input_spec=kinds.get(train.kind).input_spec(train, result.model),
        architecture_options=result.architecture_options,
        thresholds=result.thresholds.to_dict(), recipe=recipe, training=result.training,
        paper=arch.paper, extra={"parameters": int(result.model.count_params()),
                                 "weights_dtype": recipe.get("weights_dtype", "float32"),
                                 "splits": {"train": train.split, "valid": valid.split,
                                            "test": "test"}})
    with distributed.worker_output(out, strategy) as target:  # non-chief: a temporary folder
        checkpoint.write_evaluated(target, result.model, card,
                                   lambda folder: evaluate_folder(folder, split="test"), overwrite)
    return out


def _finetune_recipe(recipe: dict, path, out: Path, overwrite: bool, verbose: int) -> Path:
    """Re-run a ``[finetune]`` recipe (what :func:`zoo.finetune` recorded)."""
    from zoo.finetune import finetune
    ft = recipe["finetune"]
    data = recipe.get("data", {})
    recipe_path = None if recipe.get("_source_folder") else (path if Path(path).is_file() else None)
    if not data.get("train"):
        raise ZooError(f"{path}: the [finetune] recipe records no training file ([data] train)")
    files = {k: _data_file(data.get(k), recipe_path) for k in ("train", "valid", "test")}
    finetune(ft["base"], files["train"], files["valid"], test=files["test"], out=out,
             freeze_epochs=int(ft.get("freeze_epochs", 0)),
             input_mismatch=ft.get("input_mismatch", "refuse"),
             allow_empty_labels=bool(ft.get("allow_empty_labels", False)),
             seed=int(recipe.get("seed", 0)), verbose=verbose,
             thresholds=recipe.get("thresholds"), name=recipe["name"],
             dataset=recipe["dataset"], model_options=recipe.get("model") or None,
             overwrite=overwrite, **dict(data.get("reader_options") or {}),
             **dict(recipe.get("train") or {}))
    return out
