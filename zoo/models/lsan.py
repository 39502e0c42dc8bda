"""LSAN: label-specific document representations from self-attention and label attention.

Paper: L. Xiao, X. Huang, B. Chen, L. Jing. "Label-Specific Document Representation for
Multi-Label Text Classification". EMNLP-IJCNLP 2019, pp. 466-475.

Defining mechanism (section 2 of the paper), from BiLSTM states ``H = [H_fwd; H_bwd]``
(T x 2k) of a document:

1. Label-specific self-attention: ``A_s = softmax_t(W2 tanh(W1 H^T))`` (L x T) and
   ``M_s = A_s H`` (L x 2k) -- one attention distribution per label learned from the text
   alone (:class:`zoo.models.lwan.LabelWiseAttention` with ``attention_units = d_a``).
2. Label attention with label embeddings ``C`` (L x k): ``A_fwd = C H_fwd^T``,
   ``A_bwd = C H_bwd^T`` (L x T, *not* softmax-normalized in the paper and its code) and
   ``M_l = [A_fwd H_fwd ; A_bwd H_bwd]`` (L x 2k) -- :class:`LabelAttention`.
3. Adaptive fusion: ``alpha = sigmoid(M_s w3 + b3)``, ``beta = sigmoid(M_l w4 + b4)`` per label,
   renormalized so that ``alpha + beta = 1``, and ``M = alpha * M_s + beta * M_l`` --
   :class:`AdaptiveFusion`.
4. Per-label MLP (paper eq. 9, weights shared over labels): ``logit_j = w6 . relu(W5 M_j + b5) + b6``.

Paper defaults: 300-d word embeddings, k = 300 LSTM units per direction, d_a = 200, label
embeddings of size k, embedding dropout 0.3 (official code), Adam, batch 64. Sizes here are
REDUCED FOR CPU training (recipes: 100-d embeddings, k = 64, d_a = 64, MLP of 64 units);
label embeddings are learned from scratch (the authors initialize them from a label graph).
Padding tokens get zero weight in both attentions (the paper does not discuss padding). As
in the authors' code, ``W1`` and the fusion projections ``w3``/``w4`` carry biases.

Example::

    >>> import numpy as np
    >>> model = lsan(num_labels=3, train_inputs=["good film", "bad film"], sequence_length=8,
    ...              embedding_dim=8, rnn_units=4, attention_units=5, mlp_units=6)
    >>> model(np.array(["good film"])).shape
    (1, 3)
"""
from __future__ import annotations

import keras
from keras import ops

from zoo.models.lwan import LabelWiseAttention, masked_softmax, text_encoder
from zoo.models.text_common import DEFAULT_MAX_TOKENS, text_input
from zoo.registry import register_architecture


@keras.saving.register_keras_serializable(package="zoo")
class LabelAttention(keras.layers.Layer):
    """LSAN label attention (Xiao et al. 2019, eqs. 5-6): (b, T, 2k) BiLSTM states -> (b, L, 2k).

    Label embeddings ``C`` (L, k) score the forward and the backward halves of the states
    separately: ``A_fwd = C H_fwd^T``, ``M_fwd = A_fwd H_fwd`` (same for backward), and the two
    are concatenated. ``normalize="none"`` keeps the raw scores (the paper); ``"softmax"``
    turns each row of ``A`` into a distribution over the tokens. Padding steps (mask false)
    get weight 0.

    Example::

        >>> LabelAttention(num_labels=2)(np.ones((1, 3, 4))).shape
        (1, 2, 4)
    """

    def __init__(self, num_labels: int, normalize: str = "none", **kwargs):
        super().__init__(**kwargs)
        if normalize not in ("none", "softmax"):
            raise ValueError(f"normalize must be 'none' or 'softmax', got {normalize!r}")
        self.num_labels = int(num_labels)
        self.normalize = normalize
        self.supports_masking = True

    def build(self, input_shape):
        d = int(input_shape[-1])
        if d % 2:
            raise ValueError(f"LabelAttention needs bidirectional states [forward; backward] of even"
                             f" width, got width {d}")
        self.label_embeddings = self.add_weight(name="label_embeddings", shape=(self.num_labels, d // 2),
                                                initializer="glorot_uniform")

    def attention(self, inputs, mask=None):
        """(A_fwd, A_bwd), each (b, L, T), zero on padding steps."""
        half = ops.shape(inputs)[-1] // 2
        out = []
        for h in (inputs[..., :half], inputs[..., half:]):
            a = ops.einsum("lk,btk->blt", self.label_embeddings, h)
            if self.normalize == "softmax":
                m = ops.ones_like(a) if mask is None else ops.expand_dims(mask, 1)
                a = ops.cast(masked_softmax(a, m, axis=2), inputs.dtype)
            elif mask is not None:
                a = a * ops.cast(ops.expand_dims(mask, 1), a.dtype)
            out.append(a)
        return tuple(out)

    def call(self, inputs, mask=None):
        half = ops.shape(inputs)[-1] // 2
        a_f, a_b = self.attention(inputs, mask)
        return ops.concatenate([ops.matmul(a_f, inputs[..., :half]),
                                ops.matmul(a_b, inputs[..., half:])], axis=-1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_labels, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "num_labels": self.num_labels, "normalize": self.normalize}


@keras.saving.register_keras_serializable(package="zoo")
class AdaptiveFusion(keras.layers.Layer):
    """LSAN adaptive fusion (Xiao et al. 2019, eqs. 7-8) of two (b, L, d) representations.

    ``alpha = sigmoid(M_s w_s + b_s)``, ``beta = sigmoid(M_l w_l + b_l)`` (one scalar per
    document and label), renormalized ``alpha <- alpha / (alpha + beta)``, ``beta <- 1 - alpha``;
    output ``alpha * M_s + beta * M_l``. Call on ``[M_s, M_l]``; ``return_weights=True`` also
    returns ``(alpha, beta)`` of shape (b, L, 1).

    Example::

        >>> out, (alpha, beta) = AdaptiveFusion()([np.ones((1, 2, 3)), np.zeros((1, 2, 3))],
        ...                                       return_weights=True)   # alpha + beta == 1
    """

    def build(self, input_shape):
        d = int(input_shape[0][-1])
        if int(input_shape[1][-1]) != d:
            raise ValueError(f"AdaptiveFusion needs two representations of equal width, got"
                             f" {input_shape[0]} and {input_shape[1]}")
        self.self_kernel = self.add_weight(name="self_kernel", shape=(d, 1), initializer="glorot_uniform")
        self.self_bias = self.add_weight(name="self_bias", shape=(1,), initializer="zeros")
        self.label_kernel = self.add_weight(name="label_kernel", shape=(d, 1), initializer="glorot_uniform")
        self.label_bias = self.add_weight(name="label_bias", shape=(1,), initializer="zeros")

    def weights_for(self, m_self, m_label):
        """Normalized fusion weights ``(alpha, beta)``, each (b, L, 1), summing to 1."""
        a = ops.sigmoid(ops.matmul(m_self, self.self_kernel) + self.self_bias)
        b = ops.sigmoid(ops.matmul(m_label, self.label_kernel) + self.label_bias)
        alpha = a / (a + b)   # both sigmoids are > 0, so the sum never vanishes
        return alpha, 1.0 - alpha

    def call(self, inputs, return_weights=False):
        m_self, m_label = inputs
        alpha, beta = self.weights_for(m_self, m_label)
        out = alpha * m_self + beta * m_label
        return (out, (alpha, beta)) if return_weights else out

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])


@register_architecture("lsan", kind="text", paper="Xiao, Huang, Chen, Jing, EMNLP 2019",
                       head=("self_attention", "label_attention"))
def lsan(num_labels: int, train_inputs=None, vocabulary=None, max_tokens: int = DEFAULT_MAX_TOKENS,
         sequence_length: int = 256, embedding_dim: int = 300, rnn_units: int = 300,
         attention_units: int = 200, mlp_units: int = 300, label_attention: str = "none",
         embedding_dropout: float = 0.3, encoder_dropout: float = 0.0, name: str = "lsan"):
    """LSAN: strings -> Embedding -> BiLSTM -> {self-attention, label attention} -> fusion -> MLP.

    Defaults are the paper's sizes (embedding 300, k = rnn_units = 300, d_a = attention_units
    = 200); ``mlp_units`` is the hidden width ``b`` of the per-label MLP (eq. 9).
    ``label_attention`` is ``"none"`` (raw ``C H^T`` scores, the paper) or ``"softmax"``.
    """
    inputs, token_ids, vocab_size = text_input(train_inputs, max_tokens, sequence_length,
                                               vocabulary=vocabulary)
    h = text_encoder(token_ids, vocab_size, embedding_dim, rnn_units, "lstm",
                     embedding_dropout, encoder_dropout)
    m_self = LabelWiseAttention(num_labels, attention_units, name="self_attention")(h)
    m_label = LabelAttention(num_labels, label_attention, name="label_attention")(h)
    m = AdaptiveFusion(name="adaptive_fusion")([m_self, m_label])
    z = keras.layers.Dense(mlp_units, activation="relu", name="mlp_hidden")(m)   # per label, shared
    z = keras.layers.Dense(1, name="mlp_out")(z)
    logits = keras.layers.Reshape((num_labels,), name="logits")(z)
    return keras.Model(inputs, logits, name=name)
