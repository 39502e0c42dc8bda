"""Keep the encoder, new head: how a trained model becomes the start of another.

Every architecture declares its *head* when it registers (``register_architecture(...,
head=("logits",))``): the top-level layers whose weights depend on the label set. Everything
else is the *encoder*. Re-heading a saved model for a new label set (``zoo.create(arch,
num_labels=..., pretrained=NAME)``, ``zoo.finetune`` on data with other labels) therefore is:

1. rebuild the architecture with the saved model's options and input preprocessing
   (the input kind restores standardization or vocabulary from the saved model), for the new
   labels;
2. copy every encoder layer's weights from the saved model (a layer is re-initialized, with
   the reason recorded, only when it is not in the saved model or its weight shapes changed,
   e.g. the first Dense after an input-width change);
3. leave the head freshly initialized.

No probe model is built and no list of layer names is kept outside the architecture module.
"""
from __future__ import annotations

from typing import Any

from zoo.errors import ZooError


def top_layers(model) -> list:
    return list(model._flatten_layers(include_self=False, recursive=False))


def _shapes(layer) -> list:
    return [tuple(w.shape) for w in layer.weights]


def copy_encoder(base_model, model, head: list[str], same_labels: bool,
                 input_changed: bool = False) -> dict[str, Any]:
    """Copy ``base_model``'s weights into ``model`` layer by layer (matched by name).

    ``head``: the new model's head layers (re-initialized unless ``same_labels``).
    Returns ``{"reinitialized": {layer: reason}, "kept": [...], "head": [...]}``.
    """
    base_layers = {la.name: la for la in top_layers(base_model)}
    reinit, kept = {}, []
    head = list(head)
    for la in top_layers(model):
        if not la.weights:
            continue
        src = base_layers.get(la.name)
        if src is None or type(src).__name__ != type(la).__name__:
            reinit[la.name] = "not in the base model"
        elif la.name in head and not same_labels:
            reinit[la.name] = "depends on the label set (new labels)"
        elif _shapes(src) != _shapes(la):
            reinit[la.name] = (f"weight shapes {_shapes(src)} -> {_shapes(la)}"
                               + (" (input width changed)" if input_changed else ""))
        else:
            la.set_weights(src.get_weights())
            kept.append(la.name)
    return {"reinitialized": reinit, "kept": kept,
            "head": sorted(set(reinit) | set(head))}


def reheaded(saved, num_labels: int, options: dict | None = None, train=None):
    """``saved``'s architecture rebuilt for ``num_labels`` labels on its encoder.

    ``saved``: a :class:`zoo.saved.Saved`. ``train``: optional training data (builders that fit
    label statistics, e.g. ML-GCN's co-occurrence graph, take them from it; without it such a
    builder needs ``train_labels=`` in ``options``). Returns ``(keras_model, report)``.
    """
    from zoo import kinds
    from zoo.ensemble import refuse_as_base
    from zoo.models import get_architecture
    refuse_as_base(saved.card, str(saved.folder), "re-head")
    arch = get_architecture(saved.architecture)
    base_model = saved.keras_model()
    kind = kinds.of_card(saved.card)
    built = dict(saved.card.get("architecture_options") or {})
    extra = dict(options or {})
    fitted = kind.restore(base_model, saved.card)
    kwargs = {**built, **extra, "num_labels": int(num_labels)}
    kind_kwargs, _ = kind.builder_inputs(arch, _SpecData(saved.card, train), kwargs, fitted)
    kwargs.update(kind_kwargs)
    accepted = arch.parameters()
    if "train_labels" in accepted and "train_labels" not in kwargs:
        if train is None:
            raise ZooError(f"architecture {arch.name!r} fits label statistics on the training "
                           "labels: pass train_labels=<(n, num_labels) 0/1 array>")
        kwargs["train_labels"] = train.labels_dense()
    kwargs = {k: v for k, v in kwargs.items() if k in accepted}
    model = arch.build(**kwargs)
    report = copy_encoder(base_model, model, arch.head_layers(model), same_labels=False)
    if not report["kept"]:
        raise ZooError(f"no encoder layer of {saved.ref!r} fits the new model "
                       f"(re-initialized: {report['reinitialized']})")
    return model, report


class _SpecData:
    """What a kind's ``builder_inputs`` reads of a training split, taken from a card."""

    def __init__(self, card: dict, train=None):
        spec = card.get("input") or {}
        self.num_features = spec.get("num_features") if train is None else train.num_features
        self.kind = (card.get("kind") or "features") if train is None else train.kind
        self.x = None if train is None else train.x
