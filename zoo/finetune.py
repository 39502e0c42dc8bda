"""Fine-tune a pretrained checkpoint (or train an architecture) on your own multi-label data.

    >>> import zoo
    >>> r = zoo.finetune("yeast/mlp", "train.csv", test="test.csv", out="my-yeast", epochs=30)
    >>> r.folder, r.metrics["metrics"]["micro_f1"]
    >>> zoo.load("my-yeast").predict_labels(x)          # the new label names

Command line: ``zoo finetune yeast/mlp --train train.csv --test test.csv --out my-yeast``.

**Base.** A pretrained name (``"yeast/mlp"``), a checkpoint folder or ``hf://`` reference
(resolved as :func:`zoo.load` does), a loaded :class:`~zoo.MultiLabelModel`, or an
architecture name from :func:`zoo.list_architectures` (fresh weights, built by
:func:`zoo.train.build_model` with ``model_options``).

**Data.** ``train``/``valid``/``test`` are :class:`~zoo.data.MultiLabelDataset` objects or
paths read by :func:`zoo.data.read_any` (CSV, TSV, JSONL, ARFF+XML, libsvm, image folder);
reader options (``label_columns``, ``label_column``, ``text_column``, ...) are passed as
keyword arguments. ``valid`` and ``test`` are read with the training file's label names, so a
label missing from them, or one they add, is an error. Without ``valid``, 10% of ``train`` is
carved out by iterative stratification (:mod:`zoo.data.stratify`, ``seed``) and the card says
so. A label without a positive training example cannot be learned and is an error unless
``allow_empty_labels=True``. Unknown labels (``-1``; an empty or ``?`` cell in a CSV label
column) are masked in the loss (every :mod:`zoo.losses` loss ignores them).

**Labels (re-heading).** If the data's label set equals the base's (in any order: columns are
put in the base's order), the whole model continues training. Otherwise the model is rebuilt
for the new labels with the base's architecture options, and each top-level layer of the base
is copied into it unless its weights depend on the number of labels or changed shape; those
layers are re-initialized: they are the *head*. Which layers depend on the label count is
found, for any architecture, by building a probe with one label more and comparing weight
shapes (timm's ``reset_classifier``, generalized; no per-architecture list to maintain). For
``mlp``, ``kimcnn``, ``xmlcnn`` and ``transformer`` the head is the final Dense ``logits``;
``bpmll``: ``scores`` and the ``threshold`` function (refitted after training); ``lwan``:
``label_attention`` and ``logits``; ``lsan``: ``self_attention`` and ``label_attention``;
``mlgcn``: the ``gcn_classifier``; ``sgm``: the ``decoder``; ``mpvae``: ``label_encoder``,
``probit_mean``, ``multivariate_probit``; ``c2ae``: its label encoder ``fe_*``, ``fx_latent``,
``fd_hidden`` and ``logits`` (the latent size follows the label count). For the
label-embedding models (c2ae, mpvae, mlgcn, sgm) much of the network is therefore new and only
the feature/text encoder is reused; the card lists every re-initialized layer with the reason.

**Inputs.** A features base takes rows of exactly its ``num_features`` width and keeps its own
standardization. Other widths are refused (``input_mismatch="refuse"``) unless
``input_mismatch="retrain"``: then the standardization is refitted on the new training split
and every layer whose weight shapes follow the input width (the first Dense) is
re-initialized, keeping the rest. A text base keeps its vocabulary (it is inside the model):
words it never saw map to the out-of-vocabulary token ``[UNK]``; that is not an error. A base
whose input kind differs from the data's (text model, feature rows) is always refused.

**Training.** :func:`zoo.train.fit` with the base's training configuration (``loss``,
``loss_options``, ``optimizer``, ``learning_rate``, ``weight_decay``, ``batch_size``) as
defaults, then :data:`zoo.train.TRAIN_DEFAULTS`; keyword arguments override (``epochs``,
``learning_rate``, ``batch_size``, ``patience``, ...). ``loss`` takes any
:func:`zoo.losses.get` name; ``pos_weight="auto"`` weights each label's positives by
``#negatives / #positives`` on the training split (:meth:`WeightedBinaryCrossentropy.from_labels
<zoo.losses.WeightedBinaryCrossentropy.from_labels>`), or give one weight per label.
``freeze_epochs=N``: the first N of the ``epochs`` train only the head - the re-initialized
layers plus those whose weights depend on the label count (with the base's own label set:
just those, e.g. ``logits``) - with every other layer frozen; then everything is unfrozen
and training continues from a freshly compiled optimizer at the configured learning rate;
early stopping spans both phases. Thresholds are calibrated on the validation split with the
base recipe's rule (default: one global threshold).

**Output.** With ``out``, a complete checkpoint folder (Keras archive, ``zoo.json``,
``metrics.json``, model card) written under a staging name and renamed into place only after
it loaded back and was evaluated: on ``test`` if given, else on the validation split, and
``metrics.json`` names that split (validation scores are optimistic: the same split chose the
epoch and the thresholds). Nothing is left behind when anything fails. ``zoo.load(out)``
loads it. The card's ``finetune`` entry records the base, the re-initialized layers, the
frozen epochs, the validation split and the wall time; ``training`` holds the hardware.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import DataFormatError, NotFoundError, ZooError

__all__ = ["finetune", "FinetuneResult", "INPUT_MISMATCH", "VALID_FRACTION"]

INPUT_MISMATCH = ("refuse", "retrain")
VALID_FRACTION = 0.1
#: Training options inherited from the base checkpoint's training configuration.
INHERITED = ("loss", "loss_options", "optimizer", "learning_rate", "weight_decay", "batch_size",
             "encoder", "mirror")  # an image base trained on cached features fine-tunes so too
DEFAULT_THRESHOLDS = {"rule": "global"}


@dataclass
class FinetuneResult:
    """What :func:`finetune` returns.

    Attributes:
        model: the fine-tuned :class:`~zoo.MultiLabelModel` (loaded back from ``folder`` when
            one was written).
        folder: the checkpoint folder, or ``None`` without ``out``.
        metrics: the ``metrics.json`` content (``split`` says which data it was computed on).
        history: per-epoch Keras history (both phases with ``freeze_epochs``).
        card: the ``zoo.json`` content (without file hashes).
    """
    model: Any
    folder: Path | None
    metrics: dict
    history: dict = field(default_factory=dict)
    card: dict = field(default_factory=dict)

    def __repr__(self):
        m = self.metrics.get("metrics", {})
        head = ", ".join(f"{k}={m[k]:.4f}" for k in ("micro_f1", "macro_f1")
                         if isinstance(m.get(k), float))
        return (f"FinetuneResult(folder={str(self.folder) if self.folder else None!r}, "
                f"labels={len(self.model.label_names)}, {self.metrics.get('split')}: {head})")


@dataclass
class _Base:
    ref: str
    architecture: str
    kind: str
    model: Any = None         # the base Keras model (None: fresh weights)
    card: dict | None = None
    folder: Path | None = None

    @property
    def fresh(self) -> bool:
        return self.model is None

    @property
    def label_names(self) -> list:
        return list((self.card or {}).get("label_names") or [])

    @property
    def num_features(self):
        return (self.card or {}).get("input", {}).get("num_features")


# ----------------------------------------------------------------------------- public

def finetune(base, train, valid=None, *, out=None, test=None, freeze_epochs: int = 0,
             input_mismatch: str = "refuse", loss=None, pos_weight=None, seed: int = 0,
             verbose: int = 1, thresholds: dict | None = None, name: str | None = None,
             dataset: str | None = None, model_options: dict | None = None,
             allow_empty_labels: bool = False, overwrite: bool = False, callbacks=None,
             **options) -> FinetuneResult:
    """Fine-tune ``base`` on ``train`` (see the module docstring for the whole story).

    Args:
        base: pretrained name, checkpoint folder, ``hf://`` reference, loaded
            ``MultiLabelModel``, or architecture name (fresh weights).
        train, valid, test: ``MultiLabelDataset`` objects or data file paths
            (:func:`zoo.data.read_any`). ``valid=None``: 10% of ``train``, stratified.
        out: checkpoint folder to write (``None``: keep the model in memory only).
        test: scored into ``metrics.json`` (else the validation split is, and named so).
        freeze_epochs: first N epochs train only the head (re-initialized / label layers).
        input_mismatch: ``"refuse"`` (default) or ``"retrain"`` the input layers of a
            features base when the feature width differs.
        loss: a :func:`zoo.losses.get` name (default: the base's loss, else ``"bce"``).
        pos_weight: ``"auto"`` or one positive weight per label (BCE only).
        seed: seed of the head initialization, the validation carve-out and the shuffling.
        verbose: Keras ``fit`` verbosity (1: progress bars, 2: one line per epoch, 0: quiet).
        thresholds: threshold rule config as in a recipe's ``[thresholds]`` (default: the
            base recipe's, else ``{"rule": "global"}``).
        name, dataset: the card's ``"<dataset>/<arch>"`` name and dataset name (defaults:
            ``dataset`` = the dataset object's name or ``"custom"``).
        model_options: architecture options for a fresh (architecture-name) base.
        allow_empty_labels: keep labels without a positive training example.
        overwrite: replace an existing ``out`` folder (only once the new one is complete).
        callbacks: extra Keras callbacks for ``fit``.
        **options: reader options (:data:`zoo.data.READER_OPTIONS`, e.g. ``label_columns``,
            ``text_column``) and training options (:data:`zoo.train.TRAIN_DEFAULTS`, e.g.
            ``epochs``, ``learning_rate``, ``batch_size``, ``patience``).

    Returns:
        :class:`FinetuneResult` (``.model``, ``.folder``, ``.metrics``, ``.history``, ``.card``).

    Raises:
        ZooError: input mismatch, no positives for a label, an existing ``out`` folder, ...
        DataFormatError: a data file that cannot be read (path, line, column).
    """
    import keras

    from zoo import checkpoint, registry
    from zoo.data import READER_OPTIONS
    from zoo.saved import open_saved
    from zoo.train import TRAIN_DEFAULTS, build_model, fit, resolve_pos_weight

    t_start = time.perf_counter()
    reader_keys = set().union(*READER_OPTIONS.values()) - {"label_names"}
    reader_options = {k: v for k, v in options.items() if k in reader_keys}
    train_options = {k: v for k, v in options.items() if k not in reader_keys}
    unknown = set(train_options) - set(TRAIN_DEFAULTS)
    if unknown:
        raise TypeError(f"finetune() got unknown option(s) {sorted(unknown)}; reader options: "
                        f"{sorted(reader_keys)}; training options: {sorted(TRAIN_DEFAULTS)}")
    if input_mismatch not in INPUT_MISMATCH:
        raise ValueError(f"input_mismatch must be one of {INPUT_MISMATCH}, got {input_mismatch!r}")
    if int(freeze_epochs) < 0:
        raise ValueError(f"freeze_epochs must be >= 0, got {freeze_epochs}")
    freeze_epochs = int(freeze_epochs)

    b = _resolve_base(base)
    if b.fresh and freeze_epochs:
        raise ZooError(f"freeze_epochs={freeze_epochs} needs a pretrained base: the architecture"
                       f" name {b.ref!r} starts from fresh weights, so there is no encoder to"
                       " keep frozen")
    if not b.fresh and model_options:
        raise ValueError("model_options only apply to an architecture name (fresh weights); a "
                         "checkpoint base keeps its own architecture options")

    # ---------------------------------------------------------------- data
    train_ds, train_src = _read(train, reader_options, "train", None, b)
    same_labels = (not b.fresh) and set(train_ds.label_names) == set(b.label_names) \
        and len(b.label_names) == train_ds.num_labels
    names = b.label_names if same_labels else list(train_ds.label_names)
    train_ds = _align(train_ds, names, train_src)
    _check_labels(train_ds, train_src, allow_empty_labels)
    retrain_input = _check_inputs(b, train_ds, train_src, input_mismatch)
    width = train_ds.num_features
    if valid is None:
        train_ds, valid_ds, valid_desc = _carve(train_ds, seed, train_src)
        valid_src = None
    else:
        valid_ds, valid_src = _read(valid, reader_options, "valid", names, b, width)
        valid_ds = _align(valid_ds, names, valid_src)
        _check_same_inputs(train_ds, valid_ds, valid_src)
        valid_desc = f"given: {valid_src} ({len(valid_ds)} rows)"
    test_ds, test_src = (None, None)
    if test is not None:
        test_ds, test_src = _read(test, reader_options, "test", names, b, width)
        test_ds = _align(test_ds, names, test_src)
        _check_same_inputs(train_ds, test_ds, test_src)

    # ---------------------------------------------------------------- names, out, options
    dataset = dataset or (train_ds.name if not isinstance(train, (str, os.PathLike))
                          and train_ds.name else "custom")
    name = name or f"{dataset}/{b.architecture}"
    registry.folder_name(name)  # a "<dataset>/<arch>" name, checked before any training
    if out is not None:
        out = Path(out)
        if out.exists() and not overwrite:
            raise ZooError(f"{out} already exists; pass overwrite=True (zoo finetune: "
                           "--overwrite) to replace it")
    cfg = _train_config(b, same_labels, loss, train_options)
    tcfg = dict(thresholds) if thresholds is not None else dict(
        ((b.card or {}).get("recipe") or {}).get("thresholds") or DEFAULT_THRESHOLDS)
    if pos_weight is not None:
        cfg["loss_options"] = {**cfg.get("loss_options", {}),
                               "pos_weight": resolve_pos_weight(pos_weight, cfg["loss"], train_ds)}
    _check_loss(cfg)

    # ---------------------------------------------------------------- model
    keras.utils.set_random_seed(seed)
    if b.fresh:
        model, built_options = build_model(b.architecture, train_ds, model_options)
        report = {"reinitialized": "all layers (fresh weights)", "head": None}
    else:
        model, built_options, report = _transfer(b, train_ds, same_labels, retrain_input)
    head = report.get("head") or []
    if freeze_epochs and not head:
        raise ZooError("freeze_epochs: this model has no head to train alone (no layer depends "
                       "on the number of labels and none was re-initialized)")

    result = fit(b.architecture, train_ds, valid_ds, built_options, model=model, seed=seed,
                 verbose=verbose, thresholds=tcfg, head=head, freeze_epochs=freeze_epochs,
                 callbacks=callbacks, **cfg)

    # ---------------------------------------------------------------- card
    from zoo.inference import MultiLabelModel
    info = _finetune_info(b, train_ds, same_labels, retrain_input, report, freeze_epochs,
                          valid_desc, input_mismatch)
    from zoo import kinds
    kind = train_ds.kind
    input_spec = kinds.get(kind).input_spec(train_ds, result.model)
    recipe = {"name": name, "architecture": b.architecture, "dataset": dataset, "seed": seed,
              "finetune": {"base": b.ref, "freeze_epochs": freeze_epochs,
                           "input_mismatch": input_mismatch,
                           "allow_empty_labels": bool(allow_empty_labels)},
              "model": dict(model_options or {}), "train": cfg, "thresholds": tcfg,
              "data": {"train": train_src, "valid": valid_src, "test": test_src,
                       "reader_options": _jsonable(reader_options)}}
    paper = ""
    try:
        from zoo.models import get_architecture
        paper = get_architecture(b.architecture).paper
    except NotFoundError:
        pass
    eval_split = "test" if test_ds is not None else "valid"
    eval_ds = test_ds if test_ds is not None else valid_ds
    info["total_wall_time_s"] = round(time.perf_counter() - t_start, 2)
    card = checkpoint.new_card(
        name=name, architecture=b.architecture, dataset=dataset, kind=kind, label_names=names,
        input_spec=input_spec, architecture_options=_jsonable(result.architecture_options),
        thresholds=result.thresholds.to_dict(), recipe=_jsonable(recipe),
        training=_jsonable(result.training), paper=paper,
        extra={"parameters": int(result.model.count_params()), "finetune": _jsonable(info),
               "splits": {"train": train_src, "valid": valid_src or "carved from train",
                          "test": test_src}})

    def score(m):
        return _metrics(m, eval_ds, eval_split, test_src if test_ds is not None else valid_src,
                        name, dataset)

    if out is None:
        fitted = MultiLabelModel(result.model, names, result.thresholds, card, None)
        return FinetuneResult(fitted, None, score(fitted), result.history, card)

    # scored from what was written, so the folder is known to load back
    metrics = checkpoint.write_evaluated(
        out, result.model, card, lambda folder: score(open_saved(folder).load()),
        overwrite)
    loaded = open_saved(out).load()
    return FinetuneResult(loaded, out, metrics, result.history, checkpoint.read_card(out))


# ----------------------------------------------------------------------------- base

def _resolve_base(base) -> _Base:
    from zoo.inference import MultiLabelModel
    from zoo.models import get_architecture, list_architectures
    from zoo.saved import open_saved
    from zoo.ensemble import refuse_as_base
    if isinstance(base, MultiLabelModel):
        card = dict(base.card)
        if "architecture" not in card:
            raise ZooError("a MultiLabelModel base needs its card (load it with zoo.load)")
        refuse_as_base(card, str(base.name or base.path), "fine-tune")
        return _Base(str(base.name or base.path), card["architecture"], base.kind,
                     base.keras_model, card, base.path)
    ref = str(base)
    archs = list_architectures()
    if ref in archs and not Path(ref).exists():
        return _Base(ref, ref, get_architecture(ref).kind)
    try:
        saved = open_saved(ref)
    except NotFoundError as e:
        raise NotFoundError(f"{e}; or pass an architecture name to train from fresh weights: "
                            f"{', '.join(archs)}") from None
    refuse_as_base(saved.card, ref, "fine-tune")
    return _Base(ref, saved.architecture, saved.kind, saved.keras_model(), saved.card,
                 saved.folder)


def _transfer(b: _Base, train, same_labels: bool, retrain_input: bool):
    """The base architecture rebuilt for ``train``: encoder copied, head new (zoo.transfer)."""
    from zoo import kinds, transfer
    from zoo.models import get_architecture
    from zoo.train import build_model
    options = dict(b.card.get("architecture_options") or {})
    fitted = {} if retrain_input else kinds.get(b.kind).restore(b.model, b.card)
    model, built = build_model(b.architecture, train, options, fitted=fitted)
    head = get_architecture(b.architecture).head_layers(model)
    report = transfer.copy_encoder(b.model, model, head, same_labels, retrain_input)
    report["label_layers"] = head
    if not report["kept"]:
        import warnings
        warnings.warn(f"no layer of the base {b.ref!r} could be kept (re-initialized: "
                      f"{', '.join(report['reinitialized'])}): this is training "
                      f"{b.architecture!r} from fresh weights", stacklevel=3)
    return model, built, report


# ----------------------------------------------------------------------------- data

def _read(obj, reader_options: dict, split: str, label_names, b: _Base, width=None):
    """``(dataset, source description)`` of a dataset object or a file path."""
    from zoo.data import MultiLabelDataset, READER_OPTIONS, read_any, reader_format
    if isinstance(obj, MultiLabelDataset):
        return obj, f"<{obj.name or 'dataset'}:{obj.split or split}, {len(obj)} rows>"
    if not isinstance(obj, (str, os.PathLike)):
        raise TypeError(f"{split} must be a MultiLabelDataset or a file path, got "
                        f"{type(obj).__name__}")
    opts = dict(reader_options)
    fmt = reader_format(obj, opts.pop("format", None))
    if label_names is not None and "label_names" in READER_OPTIONS[fmt]:
        opts["label_names"] = list(label_names)
    if fmt == "libsvm" and "num_features" not in opts:
        want = width if width is not None else b.num_features
        if want is not None:
            opts["num_features"] = want
    try:
        ds = read_any(obj, format=fmt, split=split, **opts)
    except ValueError as e:
        if isinstance(e, ZooError):
            raise
        raise ZooError(f"{obj}: {e}") from None
    return ds, str(obj)


def _align(ds, names: list, source: str):
    """``ds`` with its label columns in the order ``names`` (the same set, or an error)."""
    if list(ds.label_names) == list(names):
        return ds
    have, want = list(ds.label_names), list(names)
    missing = [n for n in want if n not in have]
    extra = [n for n in have if n not in want]
    if missing or extra or len(have) != len(want):
        raise DataFormatError(f"the labels differ from the training data's: missing {missing}, "
                              f"not in the training data {extra}", path=source)
    from zoo.data import MultiLabelDataset
    idx = [have.index(n) for n in want]
    return MultiLabelDataset(x=ds.x, y=ds.labels_dense()[:, idx], label_names=want,
                             kind=ds.kind, feature_names=ds.feature_names, name=ds.name,
                             split=ds.split, info=dict(ds.info))


def _check_labels(ds, source: str, allow_empty: bool) -> None:
    from zoo.data.tabular import _show_names
    y = ds.labels_dense()
    empty = [n for n, p in zip(ds.label_names, (y == 1).sum(axis=0)) if p == 0]
    if empty and not allow_empty:
        raise DataFormatError(
            f"{len(empty)} label(s) have no positive example in the training data: "
            f"{_show_names(empty)}. A label without positives cannot be learned: drop its "
            "column, add positive examples, or pass allow_empty_labels=True (zoo finetune: "
            "--allow-empty-labels) to keep it anyway", path=source)


def _check_inputs(b: _Base, train, source: str, mode: str) -> bool:
    """Whether the input layers must be retrained; refuses what cannot be fine-tuned."""
    from zoo import kinds
    if b.kind != train.kind:
        raise ZooError(
            f"input mismatch: base {b.ref!r} ({b.architecture}) reads {b.kind} inputs but "
            f"{source} holds {train.kind} inputs; a {b.kind} encoder cannot read them. Fine-tune "
            f"a {train.kind} model, or train an architecture from fresh weights by passing its "
            "name as the base (zoo.list_architectures())")
    if b.fresh:
        return False
    mismatch = kinds.get(b.kind).input_mismatch((b.card or {}).get("input") or {}, train,
                                                 source)
    if mismatch is None:
        return False
    if mode == "refuse":
        raise ZooError(
            f"input mismatch: base {b.ref!r} {mismatch}. input_mismatch='retrain' "
            "(zoo finetune: --input-mismatch retrain) rebuilds the input layers - a new "
            "standardization fitted on your training data and a freshly initialized first "
            "layer - and keeps the rest of the network; or pass an architecture name to train "
            "from fresh weights")
    return True


def _check_same_inputs(train, other, source: str) -> None:
    from zoo import kinds
    kind = kinds.get(train.kind)
    kind.check_compatible(kind.input_spec(train), other, source)


def _carve(train, seed: int, source: str):
    from zoo.data.stratify import fold_sizes, iterative_stratification
    n = len(train)
    sizes = fold_sizes(n, [1 - VALID_FRACTION, VALID_FRACTION])
    if sizes.min() < 1:
        raise ZooError(f"{source} has {n} rows: too few to carve a validation split from; "
                       "pass valid= (zoo finetune: --valid FILE)")
    tr, va = iterative_stratification(train.labels_dense(), [1 - VALID_FRACTION, VALID_FRACTION],
                                      seed)
    desc = (f"carved from train: {len(va)} of {n} rows ({VALID_FRACTION:g}) by iterative "
            f"stratification (Sechidis et al. 2011, zoo.data.stratify), seed {seed}; "
            f"training used the other {len(tr)}")
    parts = []
    for idx, split in ((tr, "train"), (va, "valid")):
        part = train.subset(idx, split=split)
        part.info["split_protocol"] = desc
        parts.append(part)
    return parts[0], parts[1], desc


# ----------------------------------------------------------------------------- training

def _train_config(b: _Base, same_labels: bool, loss, train_options: dict) -> dict:
    from zoo.train import TRAIN_DEFAULTS
    base_cfg = ((b.card or {}).get("training") or {}).get("train_config") or {}
    cfg = {k: base_cfg.get(k, TRAIN_DEFAULTS[k]) for k in INHERITED}
    opts = dict(cfg.get("loss_options") or {})
    if not same_labels:
        opts.pop("pos_weight", None)  # one weight per base label
    cfg["loss_options"] = opts
    if loss is not None:
        cfg["loss"] = loss
        cfg["loss_options"] = {}
    cfg.update(train_options)
    return cfg


def _check_loss(cfg: dict) -> None:
    from zoo import losses
    losses.get(cfg.get("loss", "bce"), **(cfg.get("loss_options") or {}))


def _finetune_info(b: _Base, train, same_labels, retrain_input, report, freeze_epochs,
                   valid_desc, input_mismatch) -> dict:
    info = {"base": b.ref, "fresh": b.fresh, "base_name": (b.card or {}).get("name"),
            "base_architecture": b.architecture,
            "base_folder": str(b.folder) if b.folder else None,
            "freeze_epochs": freeze_epochs, "input_mismatch": input_mismatch,
            "valid": valid_desc}
    if b.fresh:
        info.update(labels="fresh model for the data's labels",
                    reinitialized=report["reinitialized"], head=None)
        return info
    n_base = len(b.label_names)
    info["base_labels"] = b.label_names
    info["labels"] = ("same label set as the base: the whole model continues training"
                      if same_labels else
                      f"new label set ({train.num_labels} labels, base {n_base}): new head")
    info.update(reinitialized=report["reinitialized"], kept=report["kept"],
                head=report["head"])
    from zoo import kinds
    note = kinds.get(b.kind).transfer_note((b.card or {}).get("input") or {}, train,
                                            retrain_input)
    if note:
        info["input"] = note
    return info


def _metrics(model, ds, split: str, source, name: str, dataset: str) -> dict:
    from zoo.evaluation import score
    note = None if split == "test" else (
        "no test set was given: these are validation-split scores, and the same split chose "
        "the best epoch and the thresholds, so they are optimistic")
    return score(model, ds.x, ds.labels_dense(), name=name, dataset=dataset, split=split,
                 source=source, note=note)


def _jsonable(obj):
    """Numpy values and tuples as plain JSON types (the card is JSON)."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    return obj
