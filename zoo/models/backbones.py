"""Image backbones: name -> a Keras model mapping images to a spatial feature map.

A backbone takes float32 RGB images in ``[0, 255]`` of shape ``(batch, height, width, 3)`` (it
does its own normalization inside) and returns a feature map ``(batch, h, w, channels)``.
Image architectures (``zoo.models.image_*``) put their multi-label head on top of one; the
backbone is their *encoder* (kept on re-heading, frozen while features are cached).

    >>> from zoo.models import backbones
    >>> net = backbones.get("efficientnet-lite0", weights="imagenet", input_shape=(224, 224, 3))
    >>> net.output.shape        # (None, 7, 7, 1280)

Register one with :func:`register_backbone`; a factory takes ``weights`` (``None`` for random
initialization, or a name such as ``"imagenet"``) and ``input_shape`` and returns a
``keras.Model`` whose ``name`` is the backbone name.

Any keras-hub image backbone preset also works, by the name ``"keras_hub:<preset>"`` (a
built-in preset name, an ``hf://``/``kaggle://`` handle or a local preset folder): see
:func:`keras_hub_backbone`.

    >>> net = backbones.get("keras_hub:resnet_18_imagenet", weights="preset")  # doctest: +SKIP
"""
from __future__ import annotations

from typing import Callable

from zoo.errors import NotFoundError

_BACKBONES: dict[str, Callable] = {}


def register_backbone(name: str):
    """Decorator: ``@register_backbone("efficientnet-lite0") def f(weights=None, input_shape=...)``."""
    def wrap(fn):
        if name in _BACKBONES:
            raise ValueError(f"backbone {name!r} is registered twice")
        _BACKBONES[name] = fn
        return fn
    return wrap


def names() -> list[str]:
    """Registered backbones (every one, once :mod:`zoo.models` is imported)."""
    return sorted(_BACKBONES)


KERAS_HUB_PREFIX = "keras_hub:"


def keras_hub_backbone(preset: str, weights="preset", input_shape=(224, 224, 3),
                       include_top=False):
    """A keras-hub image backbone preset as a zoo backbone (``[0, 255]`` RGB in, features out).

    ``keras_hub.models.Backbone.from_preset(preset)`` builds the network; the preset's own
    image converter (``image_converter.json``, if it has one) gives the input scale and offset,
    applied inside the returned model by a per-channel ``Normalization`` layer (no resizing:
    ``input_shape`` is used as given). Without a converter, pixels go in unchanged.

    Args:
        preset: built-in preset name, ``hf://``/``kaggle://`` handle, or local preset folder.
        weights: ``"preset"`` (or ``"imagenet"``, an alias): the preset's weights; ``None``:
            the preset's architecture with random initialization.
        input_shape: ``(H, W, C)``.
        include_top: not supported (a keras-hub ``Backbone`` has no classifier).

    A backbone whose output is a dict (a feature pyramid) contributes its last entry in key
    order (the coarsest level, e.g. ``"P5"``).
    """
    import keras
    import keras_hub
    import numpy as np

    if include_top:
        raise ValueError(f"keras-hub backbone {preset!r}: include_top is not supported (a"
                         " keras_hub Backbone has no classifier; use ImageClassifier)")
    if weights not in (None, "preset", "imagenet"):
        raise NotFoundError(f"keras-hub backbone {preset!r}: weights must be None (random"
                            f" init) or 'preset' (the preset's weights), got {weights!r}")
    backbone = keras_hub.models.Backbone.from_preset(preset, load_weights=weights is not None)
    try:
        converter = keras_hub.layers.ImageConverter.from_preset(preset)
    except Exception:  # the preset ships no image converter: pixels go in as they are
        converter = None
    inputs = keras.Input(shape=tuple(input_shape), dtype="float32", name="image")
    x = inputs
    if converter is not None and (converter.scale is not None or converter.offset is not None):
        channels = input_shape[-1]
        scale = np.broadcast_to(np.asarray(1.0 if converter.scale is None else converter.scale,
                                           "float64"), (channels,))
        offset = np.broadcast_to(np.asarray(0.0 if converter.offset is None
                                            else converter.offset, "float64"), (channels,))
        # x * scale + offset == (x - mean) / sqrt(variance)
        x = keras.layers.Normalization(axis=-1, mean=(-offset / scale).tolist(),
                                       variance=(1.0 / scale ** 2).tolist(),
                                       name="normalize")(x)
    out = backbone(x)
    if isinstance(out, dict):
        out = out[sorted(out)[-1]]
    base = preset.rstrip("/").rsplit("/", 1)[-1]   # Keras names may not contain "/"
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in base)
    return keras.Model(inputs, out, name=f"keras_hub_{safe}")


def get(name: str, weights=None, input_shape=(224, 224, 3), **kwargs):
    """Build backbone ``name`` (``weights=None``: random init; ``"imagenet"``: pretrained).

    ``name`` may also be ``"keras_hub:<preset>"`` (:func:`keras_hub_backbone`). The modules
    that register backbones are imported by :mod:`zoo.models` (this module does not import
    them: that would be an import cycle).
    """
    if name.startswith(KERAS_HUB_PREFIX):
        return keras_hub_backbone(name[len(KERAS_HUB_PREFIX):], weights=weights,
                                  input_shape=tuple(input_shape), **kwargs)
    try:
        factory = _BACKBONES[name]
    except KeyError:
        raise NotFoundError(f"unknown image backbone {name!r}; known: {sorted(_BACKBONES)}") from None
    return factory(weights=weights, input_shape=tuple(input_shape), **kwargs)
