"""The one training entry point: fit, early stopping, threshold calibration, checkpoint.

``fit`` trains any registered architecture on a :class:`~zoo.data.MultiLabelDataset` pair
(train, valid) and returns the model with decision thresholds calibrated on *valid* (the
test split is never looked at). ``train_recipe`` reads a declarative recipe
(``recipes/<dataset>/<arch>.toml``), trains, writes the checkpoint folder and scores it on
the test split with the same code as ``zoo evaluate``; the folder only appears, complete with
``metrics.json`` and model card, when all of that succeeded.

GPU-ready: ``strategy`` takes any ``tf.distribute`` strategy (``MirroredStrategy`` on several
GPUs or logical CPUs), ``mixed_precision=True`` sets Keras' ``mixed_float16`` policy and
``jit_compile=True`` asks for XLA. The published weights were trained on a CPU.
"""
from __future__ import annotations

import contextlib
import inspect
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import DataFormatError, ZooError

TRAIN_DEFAULTS = {
    "loss": "bce", "loss_options": {}, "optimizer": "adam", "learning_rate": 1e-3,
    "weight_decay": None, "batch_size": 64, "epochs": 100, "patience": 10,
    "monitor": "val_loss", "mixed_precision": False, "jit_compile": "auto",
}
THRESHOLD_DEFAULTS = {"rule": "per_label", "fallback": 0.5}
THRESHOLD_KEYS = {"rule", "fallback", "value", "at_least_one"}


@dataclass
class TrainResult:
    model: Any                      # the trained Keras model (best epoch's weights)
    thresholds: Any                 # the calibrated zoo.thresholds rule
    history: dict
    training: dict                  # wall time, epochs, best epoch, seed, backend
    architecture_options: dict = field(default_factory=dict)


def build_model(architecture: str, train, options: dict | None = None, *,
                fitted: dict | None = None):
    """Instantiate ``architecture`` for ``train``'s inputs and labels (fitting preprocessing
    such as feature standardization on the training split only).

    The input kind (:mod:`zoo.kinds`) supplies what it fits on ``train`` (a features model's
    ``mean``/``variance``, a text model's vocabulary); ``fitted`` overrides that with a saved
    model's (:meth:`zoo.kinds.InputKind.restore`), so a rebuilt model reads inputs exactly as
    the saved one did. Returns ``(model, options as built)``.
    """
    from zoo import kinds
    from zoo.models import get_architecture
    arch = get_architecture(architecture)
    kind = kinds.get(train.kind)
    if arch.kind != kind.name:
        raise ZooError(f"architecture {architecture!r} takes {arch.kind} inputs but the dataset"
                       f" {train.name!r} holds {train.kind}")
    options = dict(options or {})
    fitted = dict(fitted or {})
    kwargs = {"num_labels": train.num_labels, **options}
    kind_kwargs, kind_options = kind.builder_inputs(arch, train, kwargs, fitted)
    kwargs.update({k: v for k, v in kind_kwargs.items() if k in arch.parameters()})
    built_options = {**options, **kind_options}
    # Builders that fit something on the training labels say so by taking ``train_labels``
    # (e.g. ML-GCN's label co-occurrence).
    if "train_labels" in arch.parameters():
        kwargs["train_labels"] = train.labels_dense()
    kwargs.update({k: v for k, v in fitted.items() if k not in ("mean", "variance")
                   and k in arch.parameters()})
    return arch.build(**kwargs), built_options


def _early_stopping(**kwargs):
    """``keras.callbacks.EarlyStopping`` that keeps its best epoch and weights across
    consecutive ``model.fit`` calls (the frozen and the unfrozen phase of fine-tuning): the
    second call only resets the patience count."""
    import keras

    class PhasedEarlyStopping(keras.callbacks.EarlyStopping):
        _started = False

        def on_train_begin(self, logs=None):
            if not self._started:
                super().on_train_begin(logs)
                self._started = True
            else:
                self.wait = 0
                self.stopped_epoch = 0

    return PhasedEarlyStopping(**kwargs)


def fit(architecture: str, train, valid, options: dict | None = None, *, seed: int = 0,
        strategy=None, verbose: int = 1, thresholds: dict | None = None, model=None,
        head=None, freeze_epochs: int = 0, callbacks=None, **train_options):
    """Train ``architecture`` on ``train``, early-stop and calibrate thresholds on ``valid``.

    ``train_options`` override :data:`TRAIN_DEFAULTS` (loss, optimizer, learning_rate,
    batch_size, epochs, patience, monitor, mixed_precision, jit_compile).

    Fine-tuning (:func:`zoo.finetune`) passes an already-built ``model`` (built under
    ``strategy.scope()`` if a strategy is used; ``options`` are then only recorded as the
    architecture options). With ``freeze_epochs=N`` the first N of the ``epochs`` train only
    the layers named in ``head`` (every other layer is frozen); then all layers are unfrozen,
    the model is recompiled with a fresh optimizer at the configured learning rate and training
    continues. Early stopping spans both phases (best epoch and patience carry over).
    ``callbacks`` are extra Keras callbacks.
    """
    import keras

    from zoo import kinds, losses, metrics
    from zoo import thresholds as th
    from zoo.models import get_architecture
    from zoo.data import pipeline

    unknown = set(train_options) - set(TRAIN_DEFAULTS)
    if unknown:
        raise TypeError(f"unknown training option(s) {sorted(unknown)}; known: {sorted(TRAIN_DEFAULTS)}")
    cfg = {**TRAIN_DEFAULTS, **train_options}
    tcfg = {**THRESHOLD_DEFAULTS, **(thresholds or {})}
    if train.label_names != valid.label_names:
        raise DataFormatError("train and valid splits have different label names")
    epochs = int(cfg["epochs"])
    if int(freeze_epochs or 0) < 0:
        raise ValueError(f"freeze_epochs must be >= 0, got {freeze_epochs}")
    freeze_epochs = min(int(freeze_epochs or 0), epochs)

    keras.utils.set_random_seed(seed)
    if cfg["mixed_precision"]:
        keras.mixed_precision.set_global_policy("mixed_float16")

    def scope():  # a fresh context each time: strategy.scope() cannot be entered twice
        return strategy.scope() if strategy is not None else contextlib.nullcontext()

    if model is None:
        with scope():
            model, built_options = build_model(architecture, train, options)
    else:
        built_options = dict(options or {})
    frozen = []
    if freeze_epochs:
        head = set(head or ())
        layers = list(model._flatten_layers(include_self=False, recursive=False))
        missing = head - {layer.name for layer in layers}
        if not head or missing:
            why = f"not in the model: {sorted(missing)}" if head else "none given"
            raise ZooError(f"freeze_epochs needs the head's layer names (head=); {why}")
        frozen = [layer for layer in layers if layer.name not in head and layer.weights]
    was_trainable = [layer.trainable for layer in frozen]

    loss_options = dict(cfg["loss_options"])
    if loss_options.get("pos_weight") is not None:  # "auto" or one weight per label
        loss_options["pos_weight"] = resolve_pos_weight(loss_options["pos_weight"], cfg["loss"],
                                                        train)

    def compile_model(frozen_phase: bool):
        for layer, trainable in zip(frozen, was_trainable):
            layer.trainable = trainable and not frozen_phase
        with scope():
            opt_kwargs = {"learning_rate": cfg["learning_rate"]}
            if cfg["weight_decay"]:
                opt_kwargs["weight_decay"] = cfg["weight_decay"]
            optimizer = keras.optimizers.get({"class_name": cfg["optimizer"], "config": opt_kwargs})
            model.compile(optimizer=optimizer,
                          loss=losses.get(cfg["loss"], **loss_options),
                          metrics=metrics.default_training_metrics(threshold=0.5),
                          jit_compile=cfg["jit_compile"])

    compile_model(frozen_phase=bool(freeze_epochs))
    bs = int(cfg["batch_size"])
    vbs = max(bs, 256)
    uneven_ok = strategy is None
    if not uneven_ok:
        # tf.distribute splits each batch over the replicas and fails on a remainder that
        # does not split evenly: batches are made equal, dropping at most replicas - 1 rows
        # of the early-stopping pass (thresholds are still calibrated on all of valid).
        rep = strategy.num_replicas_in_sync
        bs = max(rep, bs - bs % rep)
        vbs = max(rep, min(vbs, len(valid) - len(valid) % rep))
    train_data = pipeline.to_tf_dataset(train, batch_size=bs, shuffle=True, seed=seed,
                                        drop_remainder=not uneven_ok)
    valid_data = pipeline.to_tf_dataset(valid, batch_size=vbs, shuffle=False,
                                        drop_remainder=not uneven_ok)
    mode = "min" if "loss" in cfg["monitor"] else "max"
    stopper = _early_stopping(monitor=cfg["monitor"], mode=mode, patience=int(cfg["patience"]),
                              restore_best_weights=True)
    callbacks = [stopper, *(callbacks or [])]
    if cfg["loss"] == "splc":
        callbacks.append(losses.SPLCEpochCallback())
    # (first epoch, last epoch) of each phase: the frozen one, then everything trainable
    phases = [(0, freeze_epochs), (freeze_epochs, epochs)] if freeze_epochs else [(0, epochs)]
    history: dict = {}
    phase_epochs = []
    t0 = time.perf_counter()
    try:
        for first, last in phases:
            if first >= last:
                continue
            if first > 0:  # unfreeze: recompile with a fresh optimizer
                compile_model(frozen_phase=False)
            hist = model.fit(train_data, validation_data=valid_data, initial_epoch=first,
                             epochs=last, shuffle=False, callbacks=callbacks, verbose=verbose)
            phase_epochs.append(len(hist.history.get("loss", [])))
            for k, vals in hist.history.items():
                history.setdefault(k, []).extend(float(v) for v in vals)
    finally:
        for layer, trainable in zip(frozen, was_trainable):
            layer.trainable = trainable
    wall = time.perf_counter() - t0
    epochs_run = len(history.get("loss", []))
    best_epoch = stopper.best_epoch + 1  # weights of this epoch are restored at the end

    # An architecture whose builder module defines ``post_fit(model, train, valid)`` finishes
    # the trained model here (e.g. BP-MLL fits its threshold function on train); a returned
    # dict is recorded under training["post_fit"].
    post_fit = getattr(inspect.getmodule(get_architecture(architecture).builder),
                       "post_fit", None)
    post_fit_info = post_fit(model, train, valid) if callable(post_fit) else None

    # Calibrate decisions on the validation split only.
    from zoo.inference import MultiLabelModel
    scorer = MultiLabelModel(model, train.label_names, card={
        "kind": train.kind, "input": kinds.get(train.kind).input_spec(train)})
    s_val = scorer.predict_proba(valid.x)
    y_val = valid.labels_dense()
    rule_name = tcfg["rule"]
    if rule_name == "per_label":
        rule = th.tune_per_label(y_val, s_val, fallback=float(tcfg["fallback"]))
    elif rule_name == "global":
        rule = th.tune_global(y_val, s_val)
    elif rule_name == "fixed":
        rule = th.GlobalThreshold(float(tcfg.get("value", 0.5)))
    else:
        raise ZooError(f"unknown threshold rule {rule_name!r}; use per_label, global or fixed")
    if tcfg.get("at_least_one"):
        rule = th.AtLeastOne(rule)

    training = {"wall_time_s": round(wall, 2), "epochs_run": epochs_run, "best_epoch": best_epoch,
                "seed": seed, "backend": keras.backend.backend(),
                "train_examples": len(train), "valid_examples": len(valid),
                "strategy": type(strategy).__name__ if strategy is not None else None,
                "train_config": cfg,
                # per-epoch curves (`zoo plot history NAME` draws them from the card)
                "history": {k: [round(v, 6) for v in vals] for k, vals in history.items()}}
    if freeze_epochs:
        training["freeze"] = {"freeze_epochs": freeze_epochs, "frozen_epochs_run": phase_epochs[0],
                              "trained_while_frozen": sorted(head),
                              "frozen_layers": [layer.name for layer in frozen]}
    if post_fit_info is not None:
        training["post_fit"] = post_fit_info
    return TrainResult(model, rule, history, training, built_options)


def resolve_pos_weight(pos_weight, loss, train) -> list:
    """Per-label positive weights for the BCE loss: ``"auto"`` gives ``#known negatives /
    #positives`` of each label on ``train`` (:meth:`zoo.losses.WeightedBinaryCrossentropy.
    from_labels`); a sequence must hold one weight per label. Recipes write
    ``[train] loss_options = {pos_weight = "auto"}``."""
    from zoo import losses
    if not isinstance(losses.get(loss or "bce"), losses.WeightedBinaryCrossentropy):
        raise ZooError(f"pos_weight applies to the binary cross-entropy loss ('bce'), not "
                       f"{loss!r}")
    if isinstance(pos_weight, str):
        if pos_weight != "auto":
            raise ValueError(f"pos_weight must be 'auto' or one weight per label, got "
                             f"{pos_weight!r}")
        return losses.WeightedBinaryCrossentropy.from_labels(train.labels_dense()).pos_weight
    w = np.asarray(pos_weight, dtype=np.float64).reshape(-1)
    if w.size != train.num_labels:
        raise ValueError(f"pos_weight has {w.size} entries for {train.num_labels} labels")
    return [float(v) for v in w]


# ----------------------------------------------------------------------------- recipes

RECIPE_KEYS = {"name", "architecture", "dataset", "seed", "description", "model", "train",
               "thresholds", "data", "finetune"}
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
        [thresholds]  rule = "per_label" | "global" | "fixed", fallback, value, at_least_one
        [data]        train_split / valid_split of a named dataset, or, with [finetune],
                      train / valid / test files and reader_options
        [finetune]    base (name, folder or architecture), freeze_epochs, input_mismatch,
                      allow_empty_labels
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


def train_recipe(path, out=None, overwrite: bool = True, verbose: int = 1, strategy=None):
    """Train the checkpoint a recipe describes; returns the checkpoint folder.

    ``path``: a recipe TOML file or a checkpoint whose recorded recipe is re-run (trained and
    fine-tuned checkpoints alike; see :func:`read_recipe`). The folder is staged next to its
    destination, evaluated on the test split with :func:`zoo.evaluate` and only then renamed
    into place.
    """
    from zoo import checkpoint, kinds, registry
    from zoo.data import benchmarks
    from zoo.evaluation import evaluate_folder
    from zoo.models import get_architecture

    recipe = read_recipe(path)
    name = recipe["name"]
    out = Path(out) if out else (registry.checkpoints_dir() or Path("checkpoints")) / registry.folder_name(name)
    if out.exists() and not overwrite:
        raise ZooError(f"{out} exists; pass overwrite=True (zoo train: --force) to replace it")
    if "finetune" in recipe:
        return _finetune_recipe(recipe, path, out, overwrite, verbose)
    data = recipe.get("data", {})
    train = benchmarks.load(recipe["dataset"], data.get("train_split", "train"))
    valid = benchmarks.load(recipe["dataset"], data.get("valid_split", "valid"))
    result = fit(recipe["architecture"], train, valid, recipe.get("model", {}),
                 seed=int(recipe.get("seed", 0)), strategy=strategy, verbose=verbose,
                 thresholds=recipe.get("thresholds"), **recipe.get("train", {}))
    arch = get_architecture(recipe["architecture"])
    result.training["recipe_path"] = Path(path).as_posix()
    card = checkpoint.new_card(
        name=name, architecture=recipe["architecture"], dataset=recipe["dataset"],
        kind=train.kind, label_names=train.label_names,
        input_spec=kinds.get(train.kind).input_spec(train),
        architecture_options=result.architecture_options,
        thresholds=result.thresholds.to_dict(), recipe=recipe, training=result.training,
        paper=arch.paper, extra={"parameters": int(result.model.count_params()),
                                 "splits": {"train": train.split, "valid": valid.split,
                                            "test": "test"}})
    checkpoint.write_evaluated(out, result.model, card,
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
