"""BiGRU with label-wise attention (LWAN): one attention distribution and one document vector per label.

Papers:
    J. Mullenbach, S. Wiegreffe, J. Duke, J. Sun, J. Eisenstein. "Explainable Prediction of
    Medical Codes from Clinical Text" (CAML). NAACL 2018 -- the per-label attention.
    The bidirectional-GRU encoder in front of it follows the ``BiGRULWAN`` model of the
    LibMultiLabel toolkit (ASUS-AICS/LibMultiLabel), whose label-wise attention is CAML's.

Defining mechanism (CAML, section 2.2): from the encoder states ``H`` (T x d) every label
``l`` gets its own attention over the tokens and its own document vector::

    a_l = softmax_t(u_l . H_t)            # CAML's form (default, ``attention_units=None``)
    a_l = softmax_t(u_l . tanh(W H_t))    # with ``attention_units=k`` (W: d -> k), as in LAAT
    v_l = sum_t a_lt H_t
    logit_l = w_l . v_l + b_l             # one weight vector per label (CAML eq. 3)

Padding tokens (id 0) get exactly zero attention; a document without a single token gets a
zero vector ``v_l`` (its logits are the biases).

The model takes RAW STRINGS (TextVectorization fitted on the training texts is its first
layer). CPU sizes: the recipes use a 64-unit-per-direction GRU and 100-d embeddings; CAML
itself used a CNN encoder with 50 filters over 100-d word2vec embeddings.

Example::

    >>> import numpy as np
    >>> model = lwan(num_labels=3, train_inputs=["good film", "bad film"], sequence_length=8,
    ...              embedding_dim=8, rnn_units=4)
    >>> model(np.array(["good film"])).shape
    (1, 3)
"""
from __future__ import annotations

import keras
from keras import ops

from zoo.models.text_common import DEFAULT_MAX_TOKENS, text_input
from zoo.registry import register_architecture

_NEG = -1e9


def masked_softmax(scores, mask, axis: int = 1):
    """Softmax of ``scores`` along ``axis`` restricted to positions where ``mask`` is true.

    Masked positions get exactly 0; a slice with no unmasked position gets all zeros
    (not NaN). ``mask`` broadcasts against ``scores``.
    """
    scores = ops.cast(scores, "float32")
    m = ops.cast(mask, "float32")
    s = ops.where(m > 0, scores, ops.full_like(scores, _NEG))
    s = s - ops.max(s, axis=axis, keepdims=True)
    e = ops.exp(s) * m
    return e / ops.maximum(ops.sum(e, axis=axis, keepdims=True), 1e-30)


@keras.saving.register_keras_serializable(package="zoo")
class LabelWiseAttention(keras.layers.Layer):
    """Label-wise attention (CAML, Mullenbach et al. 2018): (b, T, d) states -> (b, L, d).

    For every label ``l`` a query ``u_l`` scores each time step; the softmax over the
    non-padding steps weights the states into a label-specific document vector.

    Args:
        num_labels: number of labels ``L`` (one attention distribution each).
        attention_units: ``None`` -> scores ``u_l . H_t`` (CAML); an int ``k`` -> scores
            ``u_l . tanh(W H_t + c)`` with ``W: d -> k`` (the LAAT/structured self-attention form).

    Call arguments:
        inputs: (b, T, d) states. mask: optional (b, T) boolean, true on real tokens (Keras
        propagates it from ``Embedding(mask_zero=True)``). return_attention: also return the
        (b, L, T) attention weights.

    Example::

        >>> layer = LabelWiseAttention(num_labels=2)
        >>> v, a = layer(np.ones((1, 3, 4)), mask=np.array([[True, True, False]]),
        ...              return_attention=True)
        >>> v.shape, a.shape          # a[..., 2] == 0 and a.sum(-1) == 1
        ((1, 2, 4), (1, 2, 3))
    """

    def __init__(self, num_labels: int, attention_units: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if int(num_labels) < 1:
            raise ValueError(f"num_labels must be >= 1, got {num_labels}")
        if attention_units is not None and int(attention_units) < 1:
            raise ValueError(f"attention_units must be None or >= 1, got {attention_units}")
        self.num_labels = int(num_labels)
        self.attention_units = None if attention_units is None else int(attention_units)
        self.supports_masking = True

    def build(self, input_shape):
        d = int(input_shape[-1])
        k = d
        if self.attention_units is not None:
            k = self.attention_units
            self.projection = self.add_weight(name="projection", shape=(d, k),
                                              initializer="glorot_uniform")
            self.projection_bias = self.add_weight(name="projection_bias", shape=(k,),
                                                   initializer="zeros")
        self.queries = self.add_weight(name="queries", shape=(k, self.num_labels),
                                       initializer="glorot_uniform")

    def scores(self, inputs):
        """Unnormalized (b, T, L) attention scores."""
        keys = inputs
        if self.attention_units is not None:
            keys = ops.tanh(ops.matmul(inputs, self.projection) + self.projection_bias)
        return ops.matmul(keys, self.queries)

    def call(self, inputs, mask=None, return_attention=False):
        s = self.scores(inputs)                                     # (b, T, L)
        if mask is None:
            mask = ops.ones(ops.shape(s)[:2], dtype="bool")
        a = masked_softmax(s, ops.expand_dims(mask, -1), axis=1)    # (b, T, L)
        a = ops.cast(ops.transpose(a, (0, 2, 1)), inputs.dtype)     # (b, L, T)
        v = ops.matmul(a, inputs)                                   # (b, L, d)
        return (v, a) if return_attention else v

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_labels, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "num_labels": self.num_labels,
                "attention_units": self.attention_units}


@keras.saving.register_keras_serializable(package="zoo")
class LabelWiseDense(keras.layers.Layer):
    """One linear unit per label on label-specific vectors: (b, L, d) -> (b, L) logits,
    ``logit_l = w_l . v_l + b_l`` (CAML eq. 3; not shared across labels).

    Example::

        >>> LabelWiseDense()(np.ones((2, 5, 3))).shape
        (2, 5)
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(int(input_shape[-2]), int(input_shape[-1])),
                                      initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(int(input_shape[-2]),), initializer="zeros")

    def call(self, inputs):
        return ops.sum(inputs * self.kernel, axis=-1) + self.bias

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1])


def text_encoder(token_ids, vocab_size: int, embedding_dim: int, rnn_units: int, cell: str,
                 embedding_dropout: float, encoder_dropout: float):
    """Embedding (mask_zero) -> dropout -> bidirectional RNN states (b, T, 2 * rnn_units).

    The padding mask travels with the tensors (Keras masking), so the backward direction starts
    at the last real token and the attention layers see which steps are padding.
    """
    x = keras.layers.Embedding(vocab_size, embedding_dim, mask_zero=True, name="embedding")(token_ids)
    if embedding_dropout:
        x = keras.layers.Dropout(embedding_dropout, name="embedding_dropout")(x)
    rnn = {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM}[cell]
    h = keras.layers.Bidirectional(rnn(rnn_units, return_sequences=True), name=f"bi{cell}")(x)
    if encoder_dropout:
        h = keras.layers.Dropout(encoder_dropout, name="encoder_dropout")(h)
    return h


@register_architecture("lwan", kind="text",
                       paper="Mullenbach et al., NAACL 2018 (CAML label-wise attention); BiGRU-LWAN",
                       head=("label_attention", "logits"))
def lwan(num_labels: int, train_inputs=None, vocabulary=None, max_tokens: int = DEFAULT_MAX_TOKENS,
         sequence_length: int = 256, embedding_dim: int = 100, rnn_units: int = 64,
         attention_units: int | None = None, embedding_dropout: float = 0.2,
         encoder_dropout: float = 0.2, name: str = "lwan"):
    """BiGRU-LWAN: strings -> tokens -> Embedding -> BiGRU -> label-wise attention -> logits.

    Args:
        num_labels: output size.
        train_inputs / vocabulary: training texts to fit the vocabulary on, or the vocabulary.
        max_tokens, sequence_length: vocabulary size and pad/truncate length.
        embedding_dim: word embedding size (CAML: 100, word2vec-initialized; here random).
        rnn_units: GRU units per direction (states are ``2 * rnn_units`` wide).
        attention_units: ``None`` = CAML scores ``u_l . H_t``; ``k`` = ``u_l . tanh(W H_t)``.
        embedding_dropout, encoder_dropout: dropout on embeddings / GRU states.
    """
    inputs, token_ids, vocab_size = text_input(train_inputs, max_tokens, sequence_length,
                                               vocabulary=vocabulary)
    h = text_encoder(token_ids, vocab_size, embedding_dim, rnn_units, "gru",
                     embedding_dropout, encoder_dropout)
    v = LabelWiseAttention(num_labels, attention_units, name="label_attention")(h)
    logits = LabelWiseDense(name="logits")(v)
    return keras.Model(inputs, logits, name=name)
