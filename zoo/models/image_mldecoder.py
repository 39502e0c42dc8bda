"""``ml-decoder``: ML-Decoder -- attention-based classification head with group decoding.

Paper: T. Ridnik, G. Sharir, A. Ben-Cohen, E. Ben-Baruch, A. Noy. "ML-Decoder: Scalable and
Versatile Classification Head". WACV 2023.

Defining mechanism (paper Sec. 3):

1. **No self-attention.** The transformer decoder block keeps cross-attention and the
   feed-forward network but drops the queries' self-attention: it costs ``O(K^2)`` and, the
   paper shows, adds nothing -- each query attends to the spatial tokens independently. (The
   reference implementation keeps the first norm as ``LN(t + Dropout(t))`` in the removed
   block's place; so do we, :class:`~zoo.models.image_common.QueryDecoderBlock` with
   ``self_attention=False``.)
2. **Group decoding.** Instead of one query per class, ``K`` *group queries* (default
   ``K = min(100, L)``, the reference's ``num_of_groups=-1``) each decode a group of
   ``g = ceil(L / K)`` labels.
3. **Group fully-connected.** Query ``k``'s output (d) is expanded to its ``g`` logits by its own
   ``d x g`` matrix (``GroupFullyConnected``); the ``K*g`` outputs are cut to ``L``, plus a
   per-label bias. Cost is linear in ``L``, hence "scalable".
4. The queries are **fixed** (random, non-learnable, ``learnable_queries=False``): the paper
   reports that learnable queries give the same accuracy (and fixed queries allow zero-shot
   word-vector queries, not used here).

Spatial tokens: the backbone map is flattened to ``h*w`` tokens and embedded by
``Dense(d) -> ReLU`` (the reference's ``embed_standart`` + ReLU); no positional encoding.
Defaults are the paper's: ``d = 768``, 8 heads, FFN 2048, one decoder layer, dropout 0.1.
They are kept on CPU: the head is cheap on cached feature maps (K <= 100 queries).

Example::

    >>> import numpy as np
    >>> model = ml_decoder(7, image_size=(64, 64), backbone="resnet-small", backbone_weights=None,
    ...                    num_groups=3, d_model=32, intermediate_dim=64, num_heads=4)
    >>> tuple(model(np.zeros((2, 64, 64, 3), "float32")).shape)      # 3 groups x 3 -> cut to 7
    (2, 7)
"""
from __future__ import annotations

import math

import keras
from keras import ops

from zoo.models.image_common import (QueryDecoder, build_backbone, compose, feature_input,
                                     feature_shape, flatten_tokens)
from zoo.registry import register_architecture

MAX_GROUPS = 100


def num_groups_for(num_labels: int, num_groups=None) -> int:
    """``K``: ``min(100, L)`` by default, else ``min(num_groups, L)`` (as the reference)."""
    num_labels = int(num_labels)
    k = MAX_GROUPS if num_groups is None or int(num_groups) < 0 else int(num_groups)
    if k == 0:
        raise ValueError("num_groups must be positive (or None / -1 for min(100, L))")
    return min(k, num_labels)


@keras.saving.register_keras_serializable(package="zoo")
class GroupFullyConnected(keras.layers.Layer):
    """ML-Decoder's group fully-connected output: ``(B, K, d)`` -> ``(B, L)``.

    Query ``k`` owns labels ``k*g .. k*g + g - 1`` (``g = ceil(L / K)``):
    ``logits[:, k*g + j] = h[:, k] . W[k, :, j]``, then the first ``L`` are kept and a per-label
    bias added. Kernel: Glorot-normal per group; bias zeros (as the reference).

    Example::

        >>> tuple(GroupFullyConnected(5)(np.ones((2, 2, 4), "float32")).shape)   # g = 3
        (2, 5)
    """

    def __init__(self, num_labels: int, **kwargs):
        super().__init__(**kwargs)
        self.num_labels = int(num_labels)

    def build(self, input_shape):
        groups, dim = int(input_shape[-2]), int(input_shape[-1])
        self.group_size = math.ceil(self.num_labels / groups)
        self.kernel = self.add_weight(
            name="kernel", shape=(groups, dim, self.group_size),
            initializer=keras.initializers.RandomNormal(stddev=(2.0 / (dim + self.group_size)) ** 0.5))
        self.bias = self.add_weight(name="bias", shape=(self.num_labels,), initializer="zeros")

    def call(self, h):
        out = ops.einsum("bkd,kdg->bkg", h, ops.cast(self.kernel, h.dtype))
        out = ops.reshape(out, (ops.shape(h)[0], -1))[:, :self.num_labels]
        return out + ops.cast(self.bias, h.dtype)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_labels)

    def get_config(self):
        config = super().get_config()
        config.update(num_labels=self.num_labels)
        return config


def build_head(feature_shape, num_labels: int, num_groups=None, d_model: int = 768,
               num_heads: int = 8, num_layers: int = 1, intermediate_dim: int = 2048,
               dropout: float = 0.1, learnable_queries: bool = False, name: str = "head"):
    """Feature map -> tokens -> Dense(d)+ReLU -> K group queries cross-attending (no
    self-attention) -> group fully-connected -> L logits. Layer names: ``token_embedding``,
    ``group_decoder`` (a :class:`QueryDecoder`), ``group_fc``."""
    groups = num_groups_for(num_labels, num_groups)
    if int(d_model) % int(num_heads):
        raise ValueError(f"d_model={d_model} must be divisible by num_heads={num_heads}")
    features = feature_input(feature_shape)
    tokens = flatten_tokens(features, name="tokens")
    tokens = keras.layers.Dense(int(d_model), activation="relu", name="token_embedding")(tokens)
    decoded = QueryDecoder(groups, num_layers=num_layers, num_heads=num_heads,
                           intermediate_dim=intermediate_dim, dropout=dropout,
                           self_attention=False, learnable_queries=learnable_queries,
                           name="group_decoder")(tokens)
    logits = GroupFullyConnected(int(num_labels), name="group_fc")(decoded)
    return keras.Model(features, logits, name=name)


@register_architecture("ml-decoder", kind="image", paper="Ridnik et al., WACV 2023", head=("head",))
def ml_decoder(num_labels: int, image_size=(224, 224), backbone: str = "efficientnet-lite0",
               backbone_weights="imagenet", num_groups=None, d_model: int = 768,
               num_heads: int = 8, num_layers: int = 1, intermediate_dim: int = 2048,
               dropout: float = 0.1, learnable_queries: bool = False, name: str = "ml-decoder"):
    """Backbone -> ML-Decoder head (``num_groups=None``: ``min(100, num_labels)``)."""
    net = build_backbone(backbone, weights=backbone_weights, image_size=image_size)
    head = build_head(feature_shape(net), num_labels, num_groups=num_groups, d_model=d_model,
                      num_heads=num_heads, num_layers=num_layers,
                      intermediate_dim=intermediate_dim, dropout=dropout,
                      learnable_queries=learnable_queries)
    return compose(net, head, name=name)
