"""EfficientNet-Lite0 in Keras 3: an ImageNet-pretrained image backbone for the zoo.

Papers and sources:

* M. Tan, Q. V. Le. "EfficientNet: Rethinking Model Scaling for Convolutional Neural
  Networks". ICML 2019 -- the B0 network: a 3x3 stride-2 stem, seven stages of MBConv blocks
  (inverted residual bottlenecks of Sandler et al. 2018: 1x1 expansion, depthwise conv, 1x1
  linear projection, identity shortcut when shape allows), a 1x1 head conv to 1280 channels,
  global average pooling, dropout, and a linear classifier.
* The EfficientNet-Lite notes of the TensorFlow TPU repository
  (``models/official/efficientnet/lite/README.md`` and ``efficientnet_lite_builder.py``,
  2020): for mobile accelerators the Lite variants remove squeeze-and-excitation, replace
  swish by ReLU6, keep the stem (32) and head (1280) channel counts fixed when scaling, and
  feed inputs normalized with the "inception-style" mean 127 and standard deviation 128.
  Batch normalization keeps epsilon 1e-3 and momentum 0.99.

Defining mechanism (what :func:`efficientnet_lite0` reproduces exactly, so converted weights
give the same logits as the reference): the block table of B0 without squeeze-excite, ReLU6
everywhere except after the projection convs (linear bottleneck), and TensorFlow "SAME"
padding. For a stride-2 conv TensorFlow pads *asymmetrically* (for an even input size and a
3x3 kernel: 0 before, 1 after); the reference PyTorch port of these weights
(``efficientnet_lite_pytorch``, ``Conv2dStaticSamePadding``) reproduces that with a static
``ZeroPad2d``. Here every strided conv gets an explicit :class:`keras.layers.ZeroPadding2D`
computed from the static input size followed by a ``"valid"`` conv, so the result does not
depend on how a Keras backend implements ``"same"``. (With an unknown spatial size, the
conv falls back to ``padding="same"``, which is TensorFlow's rule on the TensorFlow backend.)
Stride-1 convs with odd kernels pad symmetrically under either convention.

The model takes float32 RGB images in ``[0, 255]`` of shape ``(batch, H, W, 3)`` and does its
own normalization (``(x - 127) / 128``). Without the top it outputs the ReLU6 feature map of
the head conv, ``(batch, H/32, W/32, 1280)``; with ``include_top=True`` it adds average
pooling, dropout 0.2 and a 1000-way ``Dense`` producing ImageNet logits.

Example::

    >>> from zoo.models import backbones
    >>> net = backbones.get("efficientnet-lite0", input_shape=(224, 224, 3))  # random init
    >>> tuple(net.output.shape)
    (None, 7, 7, 1280)
    >>> net = backbones.get("efficientnet-lite0", weights="imagenet")  # doctest: +SKIP

``weights="imagenet"`` loads the converted checkpoint ``imagenet/efficientnet-lite0``
(``checkpoints/imagenet-efficientnet-lite0``, written by
``scripts/convert_efficientnet_lite0.py``) through :func:`zoo.hub.resolve` and
:func:`zoo.checkpoint.verify`, and copies its weights into the requested input size.
"""
from __future__ import annotations

import math

import keras
from keras import layers

from zoo.models.backbones import register_backbone

NAME = "efficientnet-lite0"
PRETRAINED = {"imagenet": "imagenet/efficientnet-lite0"}
MEAN_RGB = 127.0   # efficientnet_lite_builder.py: MEAN_RGB = [127.0] * 3
STDDEV_RGB = 128.0  # STDDEV_RGB = [128.0] * 3
BN_EPSILON = 1e-3
BN_MOMENTUM = 0.99
STEM_FILTERS = 32
HEAD_FILTERS = 1280
FEATURE_LAYER = "head_relu6"

# (repeats, kernel, stride of the first block, expand ratio, input filters, output filters):
# EfficientNet-B0's table (Tan & Le 2019, Table 1) with SE removed, as in the Lite builder.
BLOCKS = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)


def block_specs():
    """The 16 MBConv blocks, in order: ``(kernel, stride, expand, filters_in, filters_out)``.

    >>> len(block_specs()), block_specs()[1]
    (16, (3, 2, 6, 16, 24))
    """
    out = []
    for repeats, k, s, e, fin, fout in BLOCKS:
        for r in range(repeats):
            out.append((k, s if r == 0 else 1, e, fin if r == 0 else fout, fout))
    return out


def same_padding(size, kernel: int, stride: int):
    """TensorFlow "SAME" padding ``(before, after)`` for one spatial axis of ``size``.

    >>> same_padding(224, 3, 2), same_padding(56, 5, 2), same_padding(225, 3, 2)
    ((0, 1), (1, 2), (1, 1))
    """
    if size is None:
        return None
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _conv(x, conv_layer_kwargs: dict, kernel: int, stride: int, name: str, depthwise=False):
    """A conv with TensorFlow "SAME" semantics made explicit (see the module docstring)."""
    h, w = x.shape[1], x.shape[2]
    pads = (same_padding(h, kernel, stride), same_padding(w, kernel, stride))
    if None in pads:
        padding = "same"
    else:
        if any(pads[0]) or any(pads[1]):
            x = layers.ZeroPadding2D(padding=pads, name=f"{name}_pad")(x)
        padding = "valid"
    cls = layers.DepthwiseConv2D if depthwise else layers.Conv2D
    return cls(kernel_size=kernel, strides=stride, padding=padding, use_bias=False,
               name=name, **conv_layer_kwargs)(x)


def _bn(x, name):
    return layers.BatchNormalization(axis=-1, momentum=BN_MOMENTUM, epsilon=BN_EPSILON,
                                     name=name)(x)


def _relu6(x, name):
    return layers.ReLU(max_value=6.0, name=name)(x)


def efficientnet_lite0(input_shape=(224, 224, 3), include_top=False, num_classes=1000,
                       dropout=0.2, name=NAME) -> keras.Model:
    """Build EfficientNet-Lite0 (random weights): ``[0, 255]`` RGB in, features or logits out.

    Args:
        input_shape: ``(H, W, 3)``; ``H`` and ``W`` may be ``None`` (then strided convs use
            ``padding="same"``).
        include_top: add pooling, dropout and the ``num_classes`` logits layer ``"logits"``.
        num_classes: classifier size (1000 for the ImageNet weights).
        dropout: dropout before the classifier (0.2 in the paper for B0/Lite0).
        name: the model name.

    Layer names follow the PyTorch state dict (``stem_conv`` <- ``_conv_stem``,
    ``block3_dwconv`` <- ``_blocks.3._depthwise_conv``, ...) so conversion is by name.

    >>> m = efficientnet_lite0((64, 64, 3), include_top=True, num_classes=5)
    >>> tuple(m.output.shape), m.count_params()
    ((None, 5), 3419429)
    """
    input_shape = tuple(input_shape)
    if len(input_shape) != 3 or input_shape[-1] != 3:
        raise ValueError(f"EfficientNet-Lite0 takes RGB images: input_shape must be (H, W, 3),"
                         f" got {input_shape}")
    inputs = keras.Input(shape=input_shape, dtype="float32", name="image")
    x = layers.Rescaling(scale=1.0 / STDDEV_RGB, offset=-MEAN_RGB / STDDEV_RGB,
                         name="normalize")(inputs)
    x = _conv(x, {"filters": STEM_FILTERS}, 3, 2, "stem_conv")
    x = _relu6(_bn(x, "stem_bn"), "stem_relu6")
    for i, (k, s, e, fin, fout) in enumerate(block_specs()):
        p = f"block{i}"
        shortcut = x
        if e != 1:
            x = _conv(x, {"filters": fin * e}, 1, 1, f"{p}_expand_conv")
            x = _relu6(_bn(x, f"{p}_expand_bn"), f"{p}_expand_relu6")
        x = _conv(x, {}, k, s, f"{p}_dwconv", depthwise=True)
        x = _relu6(_bn(x, f"{p}_dw_bn"), f"{p}_dw_relu6")
        x = _conv(x, {"filters": fout}, 1, 1, f"{p}_project_conv")
        x = _bn(x, f"{p}_project_bn")  # linear bottleneck: no activation
        if s == 1 and fin == fout:
            x = layers.Add(name=f"{p}_add")([x, shortcut])
    x = _conv(x, {"filters": HEAD_FILTERS}, 1, 1, "head_conv")
    x = _relu6(_bn(x, "head_bn"), FEATURE_LAYER)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dropout(dropout, name="top_dropout")(x)
        x = layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, x, name=name)


def copy_weights_by_name(src: keras.Model, dst: keras.Model) -> int:
    """Copy the weights of every layer of ``dst`` that has weights from ``src``'s layer of the
    same name; returns how many layers were copied. A missing layer or a shape mismatch
    raises ``ValueError`` naming the layer."""
    copied = 0
    for layer in dst.layers:
        if not layer.weights:
            continue
        try:
            other = src.get_layer(layer.name)
        except ValueError:
            raise ValueError(f"layer {layer.name!r} of {dst.name} has no counterpart in "
                             f"{src.name}") from None
        values = other.get_weights()
        for w, v in zip(layer.weights, values):
            if tuple(w.shape) != tuple(v.shape):
                raise ValueError(f"layer {layer.name!r}: weight {w.path} has shape "
                                 f"{tuple(w.shape)} but the source has {tuple(v.shape)}")
        layer.set_weights(values)
        copied += 1
    return copied


def load_pretrained(weights: str, input_shape=(224, 224, 3), include_top=False):
    """EfficientNet-Lite0 with the converted checkpoint's weights (see the module docstring).

    The checkpoint is found by name through :func:`zoo.hub.resolve`, its file hashes are
    checked by :func:`zoo.checkpoint.read` before anything is deserialized, and its weights
    are copied by layer name into a model built for ``input_shape``.
    """
    from zoo import checkpoint, hub
    from zoo.errors import NotFoundError
    if weights not in PRETRAINED:
        raise NotFoundError(f"no {NAME} weights named {weights!r}; known: {sorted(PRETRAINED)}"
                            " (or None for random initialization)")
    folder, expected = hub.resolve(PRETRAINED[weights])
    source, card = checkpoint.read(folder, expected)
    if card.get("architecture") != NAME:
        raise ValueError(f"{folder}/zoo.json: architecture is {card.get('architecture')!r},"
                         f" expected {NAME!r}")
    model = efficientnet_lite0(input_shape, include_top=include_top,
                               num_classes=source.output.shape[-1])
    copy_weights_by_name(source, model)
    return model


@register_backbone(NAME)
def efficientnet_lite0_backbone(weights=None, input_shape=(224, 224, 3), include_top=False):
    """Backbone factory: ``backbones.get("efficientnet-lite0", weights="imagenet")``.

    ``weights=None``: random initialization; ``"imagenet"``: the converted ImageNet-1k
    weights. Output: the 1280-channel feature map (or 1000 logits with ``include_top``).
    """
    if weights is None:
        return efficientnet_lite0(input_shape, include_top=include_top)
    return load_pretrained(weights, input_shape, include_top=include_top)
