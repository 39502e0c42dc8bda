"""Shared structure of the image architectures: ``images -> backbone -> head``.

Every image architecture (``zoo.models.image_*``) builds the same two-part model::

    images (H, W, 3) float32 in [0, 255]
      -> "backbone"  a nested keras.Model: the encoder (zoo.models.backbones), feature map (h, w, c)
      -> "head"      a nested keras.Model: feature map (h, w, c) -> logits (L,)

and registers ``head=("head",)``: the head is the part that depends on the label set, the
backbone is kept when a model is re-headed. The split is what makes CPU training affordable:
a trainer can run the frozen backbone once over the data, cache the feature maps, and fit the
``head`` sub-model alone on them (``model.get_layer("head").fit(features, y)``: its weights are
shared with the full model, so nothing needs composing afterwards), then optionally unfreeze the
top of the backbone and fine-tune the full model. Each module also exposes
``build_head(feature_shape, num_labels, **options)`` that builds the head alone.

This module holds the plumbing and the layers two or more heads share: the 2-D sine
positional encoding (DETR; Q2L), a post-norm transformer encoder block (Q2L, C-Tran) and the
group-wise linear output (Q2L, C-Tran: one independent linear classifier per label token).

Example::

    >>> net = build_backbone("resnet-small", weights=None, image_size=(64, 64))
    >>> net.name, feature_shape(net)
    ('backbone', (2, 2, 256))
"""
from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

IMAGE_INPUT = "images"
FEATURE_INPUT = "features"


def image_size_2d(image_size) -> tuple[int, int]:
    """``224`` or ``(224, 224)`` -> ``(224, 224)`` (positive ints), else a ValueError."""
    if isinstance(image_size, (int, np.integer)):
        image_size = (int(image_size), int(image_size))
    try:
        h, w = (int(v) for v in image_size)
    except (TypeError, ValueError):
        raise ValueError(f"image_size must be an int or (height, width), got {image_size!r}") from None
    if h < 1 or w < 1:
        raise ValueError(f"image_size must be positive, got {(h, w)}")
    return h, w


def build_backbone(backbone: str, weights=None, image_size=(224, 224), **kwargs) -> keras.Model:
    """The named backbone (``zoo.models.backbones``), renamed ``"backbone"`` (the encoder)."""
    from zoo.models import backbones
    h, w = image_size_2d(image_size)
    if not isinstance(backbone, str):
        raise TypeError(f"backbone must be a registered backbone name, got {type(backbone).__name__};"
                        f" known: {backbones.names()}")
    net = backbones.get(backbone, weights=weights, input_shape=(h, w, 3), **kwargs)
    feature_shape(net)  # validates the output rank
    net.name = "backbone"
    return net


def feature_shape(backbone_model) -> tuple[int, int, int]:
    """``(h, w, c)`` of a backbone's output feature map (static sizes required)."""
    shape = tuple(backbone_model.output.shape)
    if len(shape) != 4 or any(s is None for s in shape[1:]):
        raise ValueError(f"an image backbone must output a (batch, h, w, channels) feature map with"
                         f" static sizes; {backbone_model.name!r} outputs {shape}")
    return tuple(int(s) for s in shape[1:])


def check_feature_shape(shape) -> tuple[int, int, int]:
    try:
        shape = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        shape = None
    if shape is None or len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"feature_shape must be (h, w, channels) of the backbone's feature map,"
                         f" got {shape!r}")
    return shape


def feature_input(shape) -> keras.KerasTensor:
    return keras.Input(shape=check_feature_shape(shape), name=FEATURE_INPUT, dtype="float32")


def compose(backbone_model: keras.Model, head_model: keras.Model, name: str,
            model_class=None) -> keras.Model:
    """``images -> backbone -> head`` as one functional model (``model_class``: a functional
    ``keras.Model`` subclass such as C-Tran's, default ``keras.Model``)."""
    if backbone_model.name != "backbone" or head_model.name != "head":
        raise ValueError(f"compose expects sub-models named 'backbone' and 'head', got"
                         f" {backbone_model.name!r} and {head_model.name!r}")
    h, w, _ = tuple(int(s) for s in backbone_model.input.shape[1:])
    images = keras.Input(shape=(h, w, 3), name=IMAGE_INPUT, dtype="float32")
    logits = head_model(backbone_model(images))
    return (model_class or keras.Model)(images, logits, name=name)


# ----------------------------------------------------------------------------- shared layers

def sine_position_encoding(height: int, width: int, dim: int, temperature: float = 10000.0):
    """DETR's 2-D sine positional encoding (Carion et al., ECCV 2020), ``(height*width, dim)``.

    Half the channels encode the row, half the column; each half interleaves
    ``sin``/``cos`` of the normalized coordinate (``(i + 1) / height * 2 pi``) at
    ``dim / 4`` geometric frequencies, as in DETR's ``PositionEmbeddingSine(normalize=True)``.
    Rows are laid out row-major, matching ``reshape(batch, h*w, c)`` of a feature map.
    """
    if dim % 4:
        raise ValueError(f"the sine position encoding needs a model width divisible by 4, got {dim}")
    half = dim // 2
    eps, scale = 1e-6, 2 * math.pi
    y = (np.arange(1, height + 1, dtype=np.float64) / (height + eps) * scale)
    x = (np.arange(1, width + 1, dtype=np.float64) / (width + eps) * scale)
    freq = temperature ** (2 * (np.arange(half) // 2) / half)

    def encode(v):  # (n,) -> (n, half): sin on even channels, cos on odd ones
        a = v[:, None] / freq[None, :]
        out = np.empty_like(a)
        out[:, 0::2] = np.sin(a[:, 0::2])
        out[:, 1::2] = np.cos(a[:, 1::2])
        return out

    py, px = encode(y), encode(x)
    pos = np.concatenate([np.repeat(py[:, None, :], width, axis=1),
                          np.repeat(px[None, :, :], height, axis=0)], axis=-1)
    return pos.reshape(height * width, dim).astype(np.float32)


@keras.saving.register_keras_serializable(package="zoo")
class SinePositionEncoding2D(keras.layers.Layer):
    """Feature map ``(B, h, w, d)`` -> the constant ``(1, h*w, d)`` sine encoding of its grid.

    Example::

        >>> pos = SinePositionEncoding2D()(np.zeros((2, 3, 4, 8), "float32"))
        >>> tuple(pos.shape)
        (1, 12, 8)
    """

    def call(self, feature_map):
        h, w, d = (int(s) for s in feature_map.shape[1:])
        return ops.convert_to_tensor(sine_position_encoding(h, w, d)[None], dtype=self.compute_dtype)

    def compute_output_shape(self, input_shape):
        h, w, d = input_shape[1:]
        return (1, h * w, d)


def flatten_tokens(feature_map, name=None):
    """``(B, h, w, c)`` -> ``(B, h*w, c)`` (row-major) as a Keras layer."""
    h, w, c = (int(s) for s in feature_map.shape[1:])
    return keras.layers.Reshape((h * w, c), name=name)(feature_map)


@keras.saving.register_keras_serializable(package="zoo")
class TransformerEncoderBlock(keras.layers.Layer):
    """Post-norm transformer encoder layer (Vaswani et al. 2017, as DETR / ``nn.Transformer``):
    ``x = LN(x + Drop(MHA(x + pos, x + pos, x)))``; ``x = LN(x + Drop(FFN(x)))``.

    ``pos`` (optional, broadcastable to ``x``) is added to queries and keys only, as in DETR.

    Example::

        >>> block = TransformerEncoderBlock(num_heads=2, intermediate_dim=16)
        >>> tuple(block(np.zeros((2, 5, 8), "float32")).shape)
        (2, 5, 8)
    """

    def __init__(self, num_heads: int, intermediate_dim: int, dropout: float = 0.1,
                 activation: str = "relu", **kwargs):
        super().__init__(**kwargs)
        self.num_heads = int(num_heads)
        self.intermediate_dim = int(intermediate_dim)
        self.dropout = float(dropout)
        self.activation = activation

    def build(self, input_shape):
        dim = int(input_shape[-1])
        if dim % self.num_heads:
            raise ValueError(f"model width {dim} is not divisible by num_heads={self.num_heads}")
        self.attention = keras.layers.MultiHeadAttention(self.num_heads, dim // self.num_heads,
                                                         dropout=self.dropout, name="attention")
        self.attention.build(input_shape, input_shape, input_shape)
        self.norm1 = keras.layers.LayerNormalization(epsilon=1e-5, name="norm1")
        self.norm1.build(input_shape)
        self.ffn1 = keras.layers.Dense(self.intermediate_dim, activation=self.activation, name="ffn1")
        self.ffn1.build(input_shape)
        self.ffn2 = keras.layers.Dense(dim, name="ffn2")
        self.ffn2.build(tuple(input_shape[:-1]) + (self.intermediate_dim,))
        self.norm2 = keras.layers.LayerNormalization(epsilon=1e-5, name="norm2")
        self.norm2.build(input_shape)
        self.drop = keras.layers.Dropout(self.dropout)

    def call(self, x, pos=None, attention_mask=None, training=None, return_attention_scores=False):
        qk = x if pos is None else x + ops.cast(pos, x.dtype)
        out = self.attention(qk, x, key=qk, attention_mask=attention_mask, training=training,
                             return_attention_scores=return_attention_scores)
        scores = None
        if return_attention_scores:
            out, scores = out
        x = self.norm1(x + self.drop(out, training=training))
        h = self.ffn2(self.drop(self.ffn1(x), training=training))
        x = self.norm2(x + self.drop(h, training=training))
        return (x, scores) if return_attention_scores else x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(num_heads=self.num_heads, intermediate_dim=self.intermediate_dim,
                      dropout=self.dropout, activation=self.activation)
        return config


@keras.saving.register_keras_serializable(package="zoo")
class GroupWiseLinear(keras.layers.Layer):
    """One independent linear classifier per label token: ``(B, L, d)`` -> ``(B, L)``,
    ``logit_l = w_l . h_l + b_l`` (Q2L's "GroupWiseLinear"; C-Tran's per-label output FFN).

    Initialized uniform in ``+-1/sqrt(d)`` like ``nn.Linear`` (and Q2L's reference).

    Example::

        >>> tuple(GroupWiseLinear()(np.ones((2, 3, 4), "float32")).shape)
        (2, 3)
    """

    def __init__(self, use_bias: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.use_bias = bool(use_bias)

    def build(self, input_shape):
        num_labels, dim = int(input_shape[-2]), int(input_shape[-1])
        init = keras.initializers.RandomUniform(-dim ** -0.5, dim ** -0.5)
        self.kernel = self.add_weight(name="kernel", shape=(num_labels, dim), initializer=init)
        self.bias = (self.add_weight(name="bias", shape=(num_labels,), initializer=init)
                     if self.use_bias else None)

    def call(self, x):
        out = ops.sum(x * ops.cast(self.kernel, x.dtype), axis=-1)
        if self.bias is not None:
            out = out + ops.cast(self.bias, x.dtype)
        return out

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1])

    def get_config(self):
        config = super().get_config()
        config.update(use_bias=self.use_bias)
        return config


def batch_broadcast(table, like):
    """``table`` (n, d) repeated over the batch of ``like`` (B, ...) -> (B, n, d)."""
    table = ops.cast(table, like.dtype)
    return ops.broadcast_to(table[None], (ops.shape(like)[0],) + tuple(table.shape))


@keras.saving.register_keras_serializable(package="zoo")
class QueryDecoderBlock(keras.layers.Layer):
    """Post-norm transformer decoder layer over a set of queries ``t`` (B, K, d) and memory
    tokens ``m`` (B, N, d) (Vaswani et al. 2017; DETR's arrangement of positions):

    * ``self_attention=True``: ``t = LN(t + Drop(MHA(t, t, t)))`` (queries talk to each other);
      ``False``: the layer has NO self-attention; ``t = LN(t + Drop(t))`` stands in its place,
      as in ML-Decoder's reference implementation (Ridnik et al. 2023);
    * cross-attention: ``t = LN(t + Drop(MHA(query=t, key=m + pos, value=m)))``;
    * ``t = LN(t + Drop(FFN(t)))``.

    ``call(..., return_attention_scores=True)`` also returns the cross-attention weights
    (B, heads, K, N): a softmax over the N memory tokens for each query.
    """

    def __init__(self, num_heads: int, intermediate_dim: int, dropout: float = 0.1,
                 self_attention: bool = True, activation: str = "relu", **kwargs):
        super().__init__(**kwargs)
        self.num_heads = int(num_heads)
        self.intermediate_dim = int(intermediate_dim)
        self.dropout = float(dropout)
        self.self_attention = bool(self_attention)
        self.activation = activation

    def build(self, queries_shape, memory_shape=None):
        query_shape = queries_shape
        dim = int(query_shape[-1])
        memory_shape = memory_shape or query_shape
        if dim % self.num_heads:
            raise ValueError(f"model width {dim} is not divisible by num_heads={self.num_heads}")
        if self.self_attention:
            self.self_attn = keras.layers.MultiHeadAttention(
                self.num_heads, dim // self.num_heads, dropout=self.dropout, name="self_attention")
            self.self_attn.build(query_shape, query_shape, query_shape)
        else:
            self.self_attn = None
        self.cross_attn = keras.layers.MultiHeadAttention(
            self.num_heads, dim // self.num_heads, dropout=self.dropout, name="cross_attention")
        self.cross_attn.build(query_shape, memory_shape, memory_shape)
        self.norm1, self.norm2, self.norm3 = (
            keras.layers.LayerNormalization(epsilon=1e-5, name=f"norm{i}") for i in (1, 2, 3))
        for norm in (self.norm1, self.norm2, self.norm3):
            norm.build(query_shape)
        self.ffn1 = keras.layers.Dense(self.intermediate_dim, activation=self.activation, name="ffn1")
        self.ffn1.build(query_shape)
        self.ffn2 = keras.layers.Dense(dim, name="ffn2")
        self.ffn2.build(tuple(query_shape[:-1]) + (self.intermediate_dim,))
        self.drop = keras.layers.Dropout(self.dropout)

    def call(self, queries, memory, pos=None, training=None, return_attention_scores=False):
        t = queries
        if self.self_attn is not None:
            t = self.norm1(t + self.drop(self.self_attn(t, t, key=t, training=training),
                                         training=training))
        else:
            t = self.norm1(t + self.drop(t, training=training))
        keys = memory if pos is None else memory + ops.cast(pos, memory.dtype)
        out, scores = self.cross_attn(t, memory, key=keys, training=training,
                                      return_attention_scores=True)
        t = self.norm2(t + self.drop(out, training=training))
        h = self.ffn2(self.drop(self.ffn1(t), training=training))
        t = self.norm3(t + self.drop(h, training=training))
        return (t, scores) if return_attention_scores else t

    def compute_output_shape(self, queries_shape, memory_shape=None):
        return queries_shape

    def get_config(self):
        config = super().get_config()
        config.update(num_heads=self.num_heads, intermediate_dim=self.intermediate_dim,
                      dropout=self.dropout, self_attention=self.self_attention,
                      activation=self.activation)
        return config


@keras.saving.register_keras_serializable(package="zoo")
class QueryDecoder(keras.layers.Layer):
    """``num_queries`` query embeddings decoded against memory tokens by ``num_layers``
    :class:`QueryDecoderBlock` s: ``memory`` (B, N, d) -> (B, num_queries, d).

    ``learnable_queries=False`` keeps the (random normal) query table fixed -- stored as a
    non-trainable weight -- as ML-Decoder does; Q2L learns its label queries.
    ``attention_weights(memory, pos)`` returns each block's cross-attention weights.

    Example::

        >>> dec = QueryDecoder(4, num_layers=1, num_heads=2, intermediate_dim=16)
        >>> tuple(dec(np.zeros((2, 6, 8), "float32")).shape)
        (2, 4, 8)
    """

    def __init__(self, num_queries: int, num_layers: int = 1, num_heads: int = 8,
                 intermediate_dim: int = 2048, dropout: float = 0.1, self_attention: bool = True,
                 learnable_queries: bool = True, **kwargs):
        super().__init__(**kwargs)
        if int(num_queries) < 1 or int(num_layers) < 1:
            raise ValueError(f"num_queries and num_layers must be >= 1, got {num_queries}, {num_layers}")
        self.num_queries = int(num_queries)
        self.num_layers = int(num_layers)
        self.num_heads = int(num_heads)
        self.intermediate_dim = int(intermediate_dim)
        self.dropout = float(dropout)
        self.self_attention = bool(self_attention)
        self.learnable_queries = bool(learnable_queries)

    def build(self, memory_shape, pos_shape=None):
        dim = int(memory_shape[-1])
        self.queries = self.add_weight(name="queries", shape=(self.num_queries, dim),
                                       initializer=keras.initializers.RandomNormal(stddev=1.0),
                                       trainable=self.learnable_queries)
        query_shape = (memory_shape[0], self.num_queries, dim)
        self.blocks = []
        for i in range(self.num_layers):
            block = QueryDecoderBlock(self.num_heads, self.intermediate_dim, self.dropout,
                                      self_attention=self.self_attention, name=f"block_{i}")
            block.build(query_shape, memory_shape)
            self.blocks.append(block)

    def call(self, memory, pos=None, training=None, return_attention_scores=False):
        t = batch_broadcast(self.queries, memory)
        scores = []
        for block in self.blocks:
            t, s = block(t, memory, pos=pos, training=training, return_attention_scores=True)
            scores.append(s)
        return (t, scores) if return_attention_scores else t

    def attention_weights(self, memory, pos=None):
        """Cross-attention weights of every block, each (B, heads, num_queries, N)."""
        return self.call(memory, pos=pos, training=False, return_attention_scores=True)[1]

    def compute_output_shape(self, memory_shape, pos_shape=None):
        return (memory_shape[0], self.num_queries, memory_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(num_queries=self.num_queries, num_layers=self.num_layers,
                      num_heads=self.num_heads, intermediate_dim=self.intermediate_dim,
                      dropout=self.dropout, self_attention=self.self_attention,
                      learnable_queries=self.learnable_queries)
        return config
