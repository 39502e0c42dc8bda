"""The one training entry point: fit, early stopping, threshold calibration, checkpoint.

``fit`` trains any registered architecture on a :class:`~zoo.data.MultiLabelDataset` pair
(train, valid) and returns the model with decision thresholds calibrated on *valid* (the
test split is never looked at). :mod:`zoo.recipes` turns a declarative recipe into a
checkpoint folder with it.

GPU-ready: ``strategy`` takes any ``tf.distribute`` strategy (``MirroredStrategy`` on several
GPUs or logical CPUs), ``mixed_precision=True`` sets Keras' ``mixed_float16`` policy and
``jit_compile=True`` asks for XLA. The published weights were trained on a CPU.
"""
from __future__ import annotations

import contextlib
import inspect
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zoo.errors import DataFormatError, ZooError

TRAIN_DEFAULTS = {
    "loss": "bce", "loss_options": {}, "optimizer": "adam", "learning_rate": 1e-3,
    "weight_decay": None, "batch_size": 64, "epochs": 100, "patience": 10,
    "monitor": "val_loss", "mixed_precision": False, "jit_compile": "auto",
    # image models: "frozen" trains only the head, on the backbone's cached features
    # (zoo.encoding); "mirror" adds each training image's mirror image to that cache;
    # "augment" = "default" augments image batches in tf.data when the encoder trains.
    "encoder": "trainable", "mirror": False, "augment": None,
    # post-hoc logit adjustment (zoo.models.calibration, Menon et al. 2021): None, a fixed tau,
    # or {select_on = "<metric>", taus = [...]} to choose tau on the validation split
    "logit_adjustment": None,
    # "auto": in-memory numeric rows train from arrays (zoo.data.pipeline.training_arrays)
    # when they fit in memory and no strategy is used; "tf.data" always streams them
    "input_pipeline": "auto",
}
# "auto": the rule is chosen on valid among zoo.thresholds.CANDIDATES (plus "fixed" when a
# recipe names a fixed cut as its paper's own) by held-out halves (zoo.thresholds.choose_rule)
THRESHOLD_DEFAULTS = {"rule": "auto", "fallback": 0.5}
THRESHOLD_KEYS = {"rule", "fallback", "value", "at_least_one", "candidates"}


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
    if cfg["encoder"] not in ("trainable", "frozen"):
        raise ValueError(f"encoder must be 'trainable' or 'frozen', got {cfg['encoder']!r}")
    fit_model = model
    n_train = len(train)
    train_labels = train.labels_dense()
    if cfg["encoder"] == "frozen":
        if freeze_epochs:
            raise ZooError("encoder='frozen' trains the head alone already; freeze_epochs "
                           "does not apply")
        fit_model, train, valid_fit = _frozen_encoder_data(model, train, valid, cfg, verbose)
    else:
        valid_fit = valid

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
            fit_model.compile(optimizer=optimizer,
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
    own = kinds.get(train.kind) if fit_model is model else None
    train_data = own and own.training_batches(train, model, training=True, batch_size=bs,
                                              seed=seed, augment=cfg["augment"],
                                              drop_remainder=not uneven_ok)
    augment = cfg["augment"] if fit_model is model else None
    source = cfg["input_pipeline"]
    if source not in ("auto", "arrays", "tf.data"):
        raise ValueError(f"input_pipeline must be 'auto', 'arrays' or 'tf.data', got {source!r}")
    arrays = None
    if train_data is None and source != "tf.data" and uneven_ok and augment is None:
        limit = None if source == "arrays" else pipeline.ARRAYS_MAX_BYTES
        arrays = [pipeline.training_arrays(d, max_bytes=limit) for d in (train, valid_fit)]
        arrays = None if any(a is None for a in arrays) else arrays
    if source == "arrays" and arrays is None:
        raise ZooError("input_pipeline = 'arrays' needs in-memory numeric rows (features or an "
                       "image head's cached features), no tf.distribute strategy and no "
                       "augmentation")
    if train_data is not None:  # the input kind's own pipeline (e.g. image files)
        valid_data = own.training_batches(valid_fit, model, training=False, batch_size=vbs,
                                          drop_remainder=not uneven_ok)
        fit_data = {"x": train_data, "validation_data": valid_data, "shuffle": False}
    elif arrays:  # in-memory arrays: Keras gathers shuffled batches (the fast path)
        (x_tr, y_tr), valid_data = arrays
        fit_data = {"x": x_tr, "y": y_tr, "batch_size": bs, "shuffle": True,
                    "validation_data": valid_data, "validation_batch_size": vbs}
    else:
        train_data = pipeline.to_tf_dataset(
            train, batch_size=bs, shuffle=True, seed=seed, drop_remainder=not uneven_ok,
            augment=augment)
        valid_data = pipeline.to_tf_dataset(valid_fit, batch_size=vbs, shuffle=False,
                                            drop_remainder=not uneven_ok)
        fit_data = {"x": train_data, "validation_data": valid_data, "shuffle": False}
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
            hist = fit_model.fit(**fit_data, initial_epoch=first, epochs=last,
                                 callbacks=callbacks, verbose=verbose)
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
    adjustment_info, shift, s_val = None, None, None
    if cfg["logit_adjustment"] is not None:
        model, adjustment_info, shift, s_val = _logit_adjustment(model, train_labels, valid,
                                                                 cfg["logit_adjustment"])

    # Calibrate decisions on the validation split only.
    from zoo.inference import MultiLabelModel
    scorer = MultiLabelModel(model, train.label_names, card={
        "kind": valid.kind, "input": kinds.get(valid.kind).input_spec(valid, model)})
    if s_val is None:  # (choosing tau scored valid already: not again)
        s_val = scorer.predict_proba(valid.x)
    y_val = valid.labels_dense()
    rule_name = tcfg["rule"]
    selection = None
    if rule_name == "auto" and shift is not None:
        raise ZooError("thresholds rule 'auto' with a logit adjustment is not supported: use "
                       "rule = 'global' (the unadjusted model's cut, expressed per label)")
    if rule_name == "auto":
        rule, selection = th.choose_rule(y_val, s_val, candidates=tcfg.get("candidates"))
    elif rule_name == "per_label":
        rule = th.tune_per_label(y_val, s_val, fallback=float(tcfg["fallback"]))
    elif rule_name == "global" and shift is not None:
        # One global cut on the scores *before* the logit adjustment, expressed per label on
        # the adjusted scores: the decisions are those of the unadjusted model (whose scores
        # are calibrated), while the scores rank labels within an example the balanced way.
        p = np.clip(s_val.astype(np.float64), 1e-12, 1 - 1e-12)
        plain = 1 / (1 + np.exp(-(np.log(p / (1 - p)) - shift)))
        cut = float(th.tune_global(y_val, plain).threshold)
        cut_logit = np.log(cut / (1 - cut)) if 0 < cut < 1 else (-np.inf if cut <= 0 else np.inf)
        rule = th.PerLabelThreshold(1 / (1 + np.exp(-(cut_logit + shift))))
        adjustment_info["thresholds"] = (f"global cut {cut:.6g} tuned on the unadjusted valid "
                                         "scores, expressed per label on the adjusted scores")
        adjustment_info["global_cut"] = cut
    elif rule_name == "global":
        rule = th.tune_global(y_val, s_val)
    elif rule_name == "fixed":
        rule = th.GlobalThreshold(float(tcfg.get("value", 0.5)))
    else:
        raise ZooError(f"unknown threshold rule {rule_name!r}; use auto, per_label, global or "
                       "fixed")
    if tcfg.get("at_least_one"):
        rule = th.AtLeastOne(rule)

    training = {"wall_time_s": round(wall, 2), "epochs_run": epochs_run, "best_epoch": best_epoch,
                "seed": seed, "backend": keras.backend.backend(),
                "train_examples": n_train, "valid_examples": len(valid),
                "input_pipeline": "arrays" if arrays else "tf.data",
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
    if adjustment_info is not None:
        training["logit_adjustment"] = adjustment_info
    if selection is not None:
        training["threshold_selection"] = selection
    return TrainResult(model, rule, history, training, built_options)


DEFAULT_TAUS = (0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0)


def _logit_adjustment(model, train_labels, valid, spec):
    """Append a post-hoc logit adjustment (``zoo.models.calibration``) with ``tau`` fixed or
    chosen on ``valid`` (``{"select_on": metric, "taus": [...]}``); returns (model, info,
    the per-label logit shift or None, the returned model's valid probabilities or None when
    valid was not scored)."""
    from zoo import kinds
    from zoo import metrics as zm
    from zoo.inference import MultiLabelModel
    from zoo.metrics.exact import GROUPS
    from zoo.models.calibration import adjust, label_log_odds
    offsets = -label_log_odds(train_labels)
    info = {"method": "Menon et al., ICLR 2021: logits - tau * log-odds(train label frequency)"}
    s_val = None
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        tau = float(spec)
    elif isinstance(spec, dict):
        unknown = set(spec) - {"select_on", "taus"}
        if unknown or "select_on" not in spec:
            raise ValueError(f"logit_adjustment takes {{select_on = <metric>, taus = [...]}}; "
                             f"got {spec}")
        metric = spec["select_on"]
        taus = [float(t) for t in spec.get("taus", DEFAULT_TAUS)]
        scorer = MultiLabelModel(model, [str(i) for i in range(train_labels.shape[1])], card={
            "kind": valid.kind, "input": kinds.get(valid.kind).input_spec(valid, model)})
        p = np.clip(scorer.predict_proba(valid.x).astype(np.float64), 1e-12, 1 - 1e-12)
        logits = np.log(p / (1 - p))
        y = valid.labels_dense()
        groups = tuple(GROUPS)
        scores = {}
        for t in taus:
            values = zm.evaluate(y, 1 / (1 + np.exp(-(logits + t * offsets))), groups=groups)
            if metric not in values:
                raise ValueError(f"logit_adjustment select_on: unknown metric {metric!r}")
            scores[t] = float(values[metric])
        tau = max(taus, key=lambda t: (scores[t], -t))
        s_val = (1 / (1 + np.exp(-(logits + tau * offsets)))).astype(np.float32)
        info.update(select_on=metric, valid_scores={str(t): round(v, 6) for t, v in
                                                    scores.items()})
    else:
        raise ValueError(f"logit_adjustment must be a number or a table, got {spec!r}")
    info["tau"] = tau
    if tau == 0.0:
        info["note"] = "tau = 0: no layer appended"
        return model, info, None, s_val
    return adjust(model, tau * offsets), info, tau * offsets, s_val


def _frozen_encoder_data(model, train, valid, cfg, verbose):
    """``(head model, train, valid)`` with the datasets replaced by the frozen backbone's
    cached features (``zoo.encoding``); the head model shares its layers with ``model``."""
    from zoo.data import MultiLabelDataset
    from zoo.encoding import encode
    names = {la.name for la in model._flatten_layers(include_self=False, recursive=False)}
    if not {"backbone", "head"} <= names:
        raise ZooError("encoder='frozen' needs a model with a 'backbone' and a 'head' layer "
                       "(the image architectures' layout, docs/adding_a_model.md)")
    encoder, head = model.get_layer("backbone"), model.get_layer("head")
    encoder.trainable = False
    from zoo.kinds import model_image_size
    size = model_image_size(model)

    def feats(ds, mirror=False):
        return encode(encoder, ds, size, mirror=mirror, verbose=bool(verbose))

    x_train, y_train = feats(train), train.labels_dense()
    if cfg["mirror"]:
        x_train = np.concatenate([x_train, feats(train, mirror=True)])
        y_train = np.concatenate([y_train, y_train])

    def as_ds(x, y, like):
        return MultiLabelDataset(x=x, y=y, label_names=list(like.label_names), kind="image",
                                 name=like.name, split=like.split)
    return head, as_ds(x_train, y_train, train), as_ds(feats(valid), valid.labels_dense(), valid)


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
