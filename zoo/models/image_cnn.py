"""``cnn``: a small ResNet-style CNN trained from scratch with binary cross-entropy (the plain
image baseline).

Paper: K. He, X. Zhang, S. Ren, J. Sun. "Deep Residual Learning for Image Recognition".
CVPR 2016. The multi-label use (shared convolutional trunk, one sigmoid per label, BCE) is the
standard baseline of the multi-label image literature (e.g. Wang et al., "CNN-RNN", CVPR 2016).

Defining mechanism: residual learning. Each block computes ``y = ReLU(F(x) + s(x))`` where
``F`` is conv3x3-BN-ReLU-conv3x3-BN (the paper's "basic block") and ``s`` is the identity, or a
1x1 strided convolution + BN ("projection shortcut", the paper's option B) when the block
changes resolution or width. Batch normalization after every convolution, ReLU, global average
pooling, one Dense layer of logits. Trained with BCE (``loss = "bce"`` in its recipes).

Layout: ResNet-18's (stem 7x7/2 conv + 3x3/2 max-pool, four stages of two basic blocks, stride
2 at the first block of stages 2-4), scaled down for CPU training from scratch: widths
``(32, 64, 128, 256)`` instead of ``(64, 128, 256, 512)`` (about a quarter of the FLOPs, 2.8 M
parameters instead of 11.7 M). At 224x224 the trunk outputs a 7x7x256 feature map.

The trunk is also the image backbone ``"resnet-small"`` (random initialization only: there are
no pretrained weights), usable under any image head, e.g. in tests.

Example::

    >>> import numpy as np
    >>> model = cnn(num_labels=5, image_size=(64, 64))
    >>> [la.name for la in model.layers]
    ['images', 'backbone', 'head']
    >>> tuple(model(np.zeros((2, 64, 64, 3), "float32")).shape)
    (2, 5)
"""
from __future__ import annotations

import keras

from zoo.models.backbones import register_backbone
from zoo.models.image_common import (compose, feature_input, feature_shape, image_size_2d)
from zoo.registry import register_architecture

WIDTHS = (32, 64, 128, 256)
BLOCKS = (2, 2, 2, 2)


@keras.saving.register_keras_serializable(package="zoo")
class ResidualBlock(keras.layers.Layer):
    """ResNet basic block: ``ReLU(BN(conv3x3(ReLU(BN(conv3x3_s(x))))) + shortcut(x))``.

    ``shortcut`` is the identity when ``stride == 1`` and the width is unchanged, else a 1x1
    convolution with stride ``stride`` followed by BN (He et al. 2016, option B).

    Example::

        >>> tuple(ResidualBlock(16, stride=2)(np.zeros((1, 8, 8, 4), "float32")).shape)
        (1, 4, 4, 16)
    """

    def __init__(self, filters: int, stride: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.stride = int(stride)

    def build(self, input_shape):
        in_channels = int(input_shape[-1])

        def conv(k, s, name):
            return keras.layers.Conv2D(self.filters, k, strides=s, padding="same", use_bias=False,
                                       kernel_initializer="he_normal", name=name)

        self.conv1 = conv(3, self.stride, "conv1")
        self.bn1 = keras.layers.BatchNormalization(name="bn1")
        self.conv2 = conv(3, 1, "conv2")
        self.bn2 = keras.layers.BatchNormalization(name="bn2")
        self.projection = in_channels != self.filters or self.stride != 1
        if self.projection:
            self.shortcut_conv = conv(1, self.stride, "shortcut_conv")
            self.shortcut_bn = keras.layers.BatchNormalization(name="shortcut_bn")
        # Build the sub-layers now so that weights exist before any call (set_weights, loading).
        self.conv1.build(input_shape)
        out_shape = self.conv1.compute_output_shape(input_shape)
        self.bn1.build(out_shape)
        self.conv2.build(out_shape)
        self.bn2.build(out_shape)
        if self.projection:
            self.shortcut_conv.build(input_shape)
            self.shortcut_bn.build(out_shape)

    def residual(self, x, training=None):
        """The residual branch ``F(x)`` alone (before the addition and the last ReLU)."""
        h = keras.activations.relu(self.bn1(self.conv1(x), training=training))
        return self.bn2(self.conv2(h), training=training)

    def shortcut(self, x, training=None):
        if not self.projection:
            return x
        return self.shortcut_bn(self.shortcut_conv(x), training=training)

    def call(self, x, training=None):
        return keras.activations.relu(self.residual(x, training) + self.shortcut(x, training))

    def compute_output_shape(self, input_shape):
        b, h, w, _ = input_shape
        def down(n):
            return None if n is None else -(-n // self.stride)
        return (b, down(h), down(w), self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, stride=self.stride)
        return config


@register_backbone("resnet-small")
def resnet_small(weights=None, input_shape=(224, 224, 3), widths=WIDTHS, blocks=BLOCKS):
    """The ``cnn`` trunk as a backbone: images in ``[0, 255]`` -> ``(h/32, w/32, widths[-1])``.

    Random initialization only (``weights`` must be ``None``).
    """
    if weights is not None:
        raise ValueError(f"backbone 'resnet-small' is trained from scratch and has no pretrained"
                         f" weights; pass weights=None (got {weights!r})")
    if len(widths) != len(blocks) or not widths:
        raise ValueError(f"widths and blocks must be equally long and non-empty, got {widths}"
                         f" and {blocks}")
    images = keras.Input(shape=tuple(input_shape), name="images", dtype="float32")
    x = keras.layers.Rescaling(1 / 127.5, offset=-1.0, name="rescale")(images)  # -> [-1, 1]
    x = keras.layers.Conv2D(int(widths[0]), 7, strides=2, padding="same", use_bias=False,
                            kernel_initializer="he_normal", name="stem_conv")(x)
    x = keras.layers.BatchNormalization(name="stem_bn")(x)
    x = keras.layers.ReLU(name="stem_relu")(x)
    x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name="stem_pool")(x)
    for stage, (width, count) in enumerate(zip(widths, blocks)):
        for i in range(int(count)):
            stride = 2 if stage > 0 and i == 0 else 1
            x = ResidualBlock(int(width), stride=stride, name=f"stage{stage + 1}_block{i + 1}")(x)
    return keras.Model(images, x, name="resnet-small")


def build_head(feature_shape, num_labels: int, dropout: float = 0.0, name: str = "head"):
    """GAP -> (Dropout) -> Dense(num_labels) logits, on a ``feature_shape`` (h, w, c) map."""
    features = feature_input(feature_shape)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(features)
    if dropout:
        x = keras.layers.Dropout(float(dropout), name="dropout")(x)
    logits = keras.layers.Dense(int(num_labels), name="logits")(x)
    return keras.Model(features, logits, name=name)


@register_architecture("cnn", kind="image", paper="He et al., CVPR 2016", head=("head",))
def cnn(num_labels: int, image_size=(224, 224), widths=WIDTHS, blocks=BLOCKS,
        dropout: float = 0.0, name: str = "cnn"):
    """ResNet-style CNN from scratch: images -> backbone (the ``resnet-small`` trunk) -> head
    (GAP -> Dense logits). ``dropout`` before the logits: 0, as in ResNet."""
    h, w = image_size_2d(image_size)
    trunk = resnet_small(weights=None, input_shape=(h, w, 3), widths=tuple(widths),
                         blocks=tuple(blocks))
    trunk.name = "backbone"
    head = build_head(feature_shape(trunk), num_labels, dropout=dropout)
    return compose(trunk, head, name=name)
