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


def get(name: str, weights=None, input_shape=(224, 224, 3), **kwargs):
    """Build backbone ``name`` (``weights=None``: random init; ``"imagenet"``: pretrained).

    The modules that register backbones are imported by :mod:`zoo.models` (this module does
    not import them: that would be an import cycle)."""
    try:
        factory = _BACKBONES[name]
    except KeyError:
        raise NotFoundError(f"unknown image backbone {name!r}; known: {sorted(_BACKBONES)}") from None
    return factory(weights=weights, input_shape=tuple(input_shape), **kwargs)
