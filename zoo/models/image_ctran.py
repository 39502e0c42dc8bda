"""``ctran``: C-Tran -- a transformer encoder over image feature tokens and label tokens with
known/unknown label states, trained by Label Mask Training.

Paper: J. Lanchantin, T. Wang, V. Ordonez, Y. Qi. "General Multi-label Image Classification
with Transformers". CVPR 2021.

Defining mechanism:

* **One sequence of image and label tokens.** The backbone map gives ``h*w`` feature tokens;
  each label ``i`` gives a token ``l_i + s_i``: a learned label embedding plus a learned *state
  embedding* for ``s_i`` in {unknown, negative, positive}. The unknown state is the zero vector
  (the reference code's ``padding_idx=0``). The concatenation is layer-normalized and passed
  through a transformer encoder (full self-attention: labels attend to image regions *and* to
  each other); label ``i``'s output token goes through its own linear classifier (group-wise
  linear) to logit ``i``.
* **Label Mask Training (LMT).** During training a random subset of each image's labels is
  revealed -- their true state (positive/negative) is put on their tokens -- and the model
  learns to predict the rest from the image *and* the revealed labels. As in the reference
  code, the number revealed is uniform in ``{0, ..., floor(0.75 L)}`` (at least 25% unknown),
  and the labels are chosen uniformly. The loss is computed on the unknown labels only
  (``loss_on="unknown"``, the reference's ``--loss_labels unk``; ``"all"`` also scores the
  revealed ones). At inference every label is unknown (or some states may be given, the
  paper's "partial labels at inference" setting: :func:`predict_with_states`).

How LMT runs under ``keras.Model.fit`` (TensorFlow backend): the model -- and its ``head``
sub-model -- are :class:`LabelMaskModel`, a functional ``keras.Model`` whose ``train_step``
samples the revealed states from the batch's ``y``, hands them to the :class:`CTranEncoder`
layer for that step (a trace-time attribute, cleared afterwards), and replaces the revealed
labels' targets by ``-1`` ("unknown") so the zoo losses (``zoo.losses``, which ignore ``-1``)
and the zoo metrics score only the unknown labels; then Keras' own ``train_step`` does the rest
(loss scaling, trackers, distribution). So the model's only input is the images -- the saved
model predicts from images alone, with all labels unknown -- and both ``model.fit(images, y)``
and ``model.get_layer("head").fit(cached_features, y)`` train with LMT. ``evaluate`` and
``predict`` never reveal anything. A model composed outside this module (a plain
``keras.Model``) trains with all labels unknown, i.e. without LMT. With ``loss_on="unknown"``
the compiled loss must be a zoo loss (a ``-1``-aware one); anything else raises.
Labels already unknown in ``y`` (``-1``, partial annotations) are never revealed.

Sizes: paper (ResNet-101 at 576x576): 3 encoder layers, 4 heads, ``d = 2048`` (the backbone
width, no projection), FFN width ``d`` (reference ``dim_feedforward = d_model``), dropout 0.1,
no positional encoding. Here (CPU): a Dense projection to ``d_model = 256``, FFN 256, 3 layers,
4 heads, dropout 0.1.

Example::

    >>> model = ctran(4, image_size=(64, 64), backbone="resnet-small", backbone_weights=None,
    ...               d_model=32, num_heads=4)
    >>> tuple(model(np.zeros((2, 64, 64, 3), "float32")).shape)
    (2, 4)
"""
from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from zoo.models.image_common import (GroupWiseLinear, TransformerEncoderBlock, batch_broadcast,
                                     build_backbone, compose, feature_input, feature_shape)
from zoo.registry import register_architecture

UNKNOWN, NEGATIVE, POSITIVE = -1, 0, 1


@keras.saving.register_keras_serializable(package="zoo")
class CTranEncoder(keras.layers.Layer):
    """C-Tran's transformer over ``[feature tokens; label tokens + state embeddings]``.

    ``call(features, label_states=None)``: ``features`` (B, h, w, c); ``label_states`` (B, L)
    in the label-matrix convention -- ``1`` positive, ``0`` negative, ``-1`` unknown -- or
    ``None`` for all unknown. Returns logits (B, L).

    Args:
        num_labels: ``L``.
        d_model: token width (a Dense projects the feature channels to it).
        num_heads, num_layers, intermediate_dim, dropout: the transformer encoder
            (``intermediate_dim=None``: ``d_model``, as the reference).
        max_known_fraction: LMT reveals ``U{0, ..., floor(max_known_fraction * L)}`` labels.
        loss_on: ``"unknown"`` (score the unrevealed labels only) or ``"all"``.
        seed: of the LMT sampler.
    """

    def __init__(self, num_labels: int, d_model: int = 256, num_heads: int = 4,
                 num_layers: int = 3, intermediate_dim=None, dropout: float = 0.1,
                 max_known_fraction: float = 0.75, loss_on: str = "unknown", seed=None, **kwargs):
        super().__init__(**kwargs)
        if loss_on not in ("unknown", "all"):
            raise ValueError(f"loss_on must be 'unknown' or 'all', got {loss_on!r}")
        if not 0.0 <= float(max_known_fraction) < 1.0:
            raise ValueError(f"max_known_fraction must be in [0, 1), got {max_known_fraction}")
        if int(d_model) % int(num_heads):
            raise ValueError(f"d_model={d_model} must be divisible by num_heads={num_heads}")
        self.num_labels = int(num_labels)
        self.d_model = int(d_model)
        self.num_heads = int(num_heads)
        self.num_layers = int(num_layers)
        self.intermediate_dim = int(intermediate_dim or d_model)
        self.dropout = float(dropout)
        self.max_known_fraction = float(max_known_fraction)
        self.loss_on = loss_on
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self._pending_states = None  # set by LabelMaskModel.train_step for one traced step

    def build(self, features_shape, label_states_shape=None):
        h, w, c = (int(s) for s in features_shape[1:])
        self.num_tokens = h * w
        self.input_projection = keras.layers.Dense(self.d_model, name="input_projection")
        self.input_projection.build((None, self.num_tokens, c))
        self.label_embedding = self.add_weight(
            name="label_embedding", shape=(self.num_labels, self.d_model),
            initializer=keras.initializers.RandomNormal(stddev=1.0))
        # rows: negative, positive (unknown is the zero vector, the reference's padding_idx)
        self.state_embedding = self.add_weight(
            name="state_embedding", shape=(2, self.d_model),
            initializer=keras.initializers.RandomNormal(stddev=1.0))
        seq_shape = (None, self.num_tokens + self.num_labels, self.d_model)
        self.norm = keras.layers.LayerNormalization(epsilon=1e-5, name="embedding_norm")
        self.norm.build(seq_shape)
        self.blocks = []
        for i in range(self.num_layers):
            block = TransformerEncoderBlock(self.num_heads, self.intermediate_dim, self.dropout,
                                            name=f"encoder_{i}")
            block.build(seq_shape)
            self.blocks.append(block)
        self.output_layer = GroupWiseLinear(name="group_fc")
        self.output_layer.build((None, self.num_labels, self.d_model))

    # ------------------------------------------------------------------ label states
    def state_vectors(self, label_states, dtype):
        """(B, L) states in {1, 0, -1} -> (B, L, d): the state embeddings (0 for unknown)."""
        s = ops.cast(label_states, dtype)[..., None]
        table = ops.cast(self.state_embedding, dtype)
        pos = ops.cast(s > 0.5, dtype)
        neg = ops.cast(ops.logical_and(s > -0.5, s < 0.5), dtype)
        return neg * table[0] + pos * table[1]

    def sample_label_states(self, y):
        """LMT for one batch: ``(states, y_loss)``, both (B, L) in {1, 0, -1}.

        Per example, ``k ~ U{0, ..., floor(max_known_fraction * L)}`` of its known labels
        (capped at how many are known) are revealed in ``states``; the others are ``-1``. With
        ``loss_on="unknown"``, ``y_loss`` is ``y`` with the revealed labels set to ``-1``.
        """
        y = ops.cast(ops.convert_to_tensor(y), "float32")
        known = y >= 0
        max_reveal = int(math.floor(self.max_known_fraction * self.num_labels))
        batch = ops.shape(y)[0]
        u = keras.random.uniform(ops.shape(y), seed=self.seed_generator)
        u = ops.where(known, u, ops.full_like(u, 2.0))          # never reveal unknown labels
        k = ops.floor(keras.random.uniform((batch,), seed=self.seed_generator) * (max_reveal + 1))
        k = ops.minimum(k, ops.sum(ops.cast(known, "float32"), axis=1))
        rank = ops.cast(ops.argsort(ops.argsort(u, axis=1), axis=1), "float32")
        revealed = rank < k[:, None]
        minus = ops.full_like(y, float(UNKNOWN))
        states = ops.where(revealed, y, minus)
        y_loss = ops.where(revealed, minus, y) if self.loss_on == "unknown" else y
        return states, y_loss

    # ------------------------------------------------------------------ forward
    def call(self, features, label_states=None, training=None):
        b = ops.shape(features)[0]
        tokens = ops.reshape(features, (b, self.num_tokens, int(features.shape[-1])))
        tokens = self.input_projection(tokens)
        labels = batch_broadcast(self.label_embedding, tokens)
        if label_states is None and training and self._pending_states is not None:
            label_states = self._pending_states
        if label_states is not None:
            labels = labels + self.state_vectors(label_states, labels.dtype)
        seq = self.norm(ops.concatenate([tokens, labels], axis=1))
        for block in self.blocks:
            seq = block(seq, training=training)
        return self.output_layer(seq[:, self.num_tokens:])

    def compute_output_shape(self, features_shape, label_states_shape=None):
        return (features_shape[0], self.num_labels)

    def get_config(self):
        config = super().get_config()
        config.update(num_labels=self.num_labels, d_model=self.d_model, num_heads=self.num_heads,
                      num_layers=self.num_layers, intermediate_dim=self.intermediate_dim,
                      dropout=self.dropout, max_known_fraction=self.max_known_fraction,
                      loss_on=self.loss_on, seed=self.seed)
        return config


def _find_ctran(model) -> CTranEncoder:
    found = [la for la in model._flatten_layers(include_self=False, recursive=True)
             if isinstance(la, CTranEncoder)]
    if len(found) != 1:
        raise ValueError(f"a LabelMaskModel must contain exactly one CTranEncoder, found {len(found)}")
    return found[0]


@keras.saving.register_keras_serializable(package="zoo")
class LabelMaskModel(keras.Model):
    """A functional model whose ``fit`` does C-Tran's Label Mask Training (see the module
    docstring). Inference (``predict``, ``evaluate``, ``__call__``) is the plain functional
    model: all labels unknown. TensorFlow (and PyTorch) backends; JAX's stateless
    ``train_step`` is not supported."""

    def __init__(self, *args, **kwargs):   # (*args, **kwargs): from_config revives it as functional
        super().__init__(*args, **kwargs)

    def train_step(self, *args):
        if keras.backend.backend() == "jax":
            raise NotImplementedError("C-Tran's label mask training runs on the TensorFlow or"
                                      " PyTorch backend (its train_step is not stateless)")
        data = args[-1]
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        if y is None:
            raise ValueError("C-Tran's label mask training needs labels: fit(x, y)")
        layer = _find_ctran(self)
        if layer.loss_on == "unknown":
            from zoo.losses import _MultiLabelLoss
            if not isinstance(self.loss, _MultiLabelLoss):
                raise TypeError("C-Tran computes the loss on the unknown labels only by marking the"
                                " revealed ones -1, which only the zoo losses ignore: compile with"
                                " a zoo.losses loss (e.g. zoo.losses.get('bce')), got"
                                f" {self.loss!r}; or build the model with loss_on='all'")
        states, y_loss = layer.sample_label_states(y)
        layer._pending_states = states
        try:
            return super().train_step(
                *args[:-1], keras.utils.pack_x_y_sample_weight(x, y_loss, sample_weight))
        finally:
            layer._pending_states = None


def predict_with_states(model, inputs, label_states, batch_size: int = 32) -> np.ndarray:
    """Logits of a C-Tran model (full, or its head) with some labels' states given.

    ``inputs``: images (full model) or feature maps (head); ``label_states`` (n, L) in
    {1 positive, 0 negative, -1 unknown}. All ``-1`` gives exactly ``model.predict(inputs)``.
    """
    layer = _find_ctran(model)
    backbone = next((la for la in model.layers if la.name == "backbone"), None)
    inputs = np.asarray(inputs, dtype="float32")
    label_states = np.asarray(label_states, dtype="float32")
    if label_states.shape != (len(inputs), layer.num_labels):
        raise ValueError(f"label_states must have shape ({len(inputs)}, {layer.num_labels}),"
                         f" got {label_states.shape}")
    out = []
    for i in range(0, len(inputs), batch_size):
        x = inputs[i:i + batch_size]
        if backbone is not None:
            x = backbone(x, training=False)
        out.append(np.asarray(layer(x, label_states=label_states[i:i + batch_size],
                                    training=False)))
    return np.concatenate(out) if out else np.zeros((0, layer.num_labels), "float32")


def build_head(feature_shape, num_labels: int, d_model: int = 256, num_heads: int = 4,
               num_layers: int = 3, intermediate_dim=None, dropout: float = 0.1,
               max_known_fraction: float = 0.75, loss_on: str = "unknown", seed=None,
               name: str = "head"):
    """Feature map -> :class:`CTranEncoder` -> logits, as a :class:`LabelMaskModel`."""
    features = feature_input(feature_shape)
    logits = CTranEncoder(int(num_labels), d_model=d_model, num_heads=num_heads,
                          num_layers=num_layers, intermediate_dim=intermediate_dim,
                          dropout=dropout, max_known_fraction=max_known_fraction,
                          loss_on=loss_on, seed=seed, name="ctran")(features)
    return LabelMaskModel(features, logits, name=name)


@register_architecture("ctran", kind="image", paper="Lanchantin et al., CVPR 2021", head=("head",))
def ctran(num_labels: int, image_size=(224, 224), backbone: str = "efficientnet-lite0",
          backbone_weights="imagenet", d_model: int = 256, num_heads: int = 4,
          num_layers: int = 3, intermediate_dim=None, dropout: float = 0.1,
          max_known_fraction: float = 0.75, loss_on: str = "unknown", seed=None,
          name: str = "ctran"):
    """Backbone -> C-Tran head; the model (a :class:`LabelMaskModel`) trains with LMT."""
    net = build_backbone(backbone, weights=backbone_weights, image_size=image_size)
    head = build_head(feature_shape(net), num_labels, d_model=d_model, num_heads=num_heads,
                      num_layers=num_layers, intermediate_dim=intermediate_dim, dropout=dropout,
                      max_known_fraction=max_known_fraction, loss_on=loss_on, seed=seed)
    return compose(net, head, name=name, model_class=LabelMaskModel)
