"""Kim's CNN for sentence classification, multi-label head (sigmoid / binary cross-entropy).

Paper: Y. Kim. "Convolutional Neural Networks for Sentence Classification". EMNLP 2014.

Defining mechanism: word embeddings -> PARALLEL 1-D convolutions of several window widths
(narrow/"valid" convolutions, ReLU) -> MAX-OVER-TIME POOLING (one number per feature map: the
largest activation anywhere in the text, so the feature is position independent and the
varying text length disappears) -> dropout -> one dense layer to the label logits.

Paper defaults (the builder's defaults): windows 3, 4, 5 with 100 feature maps each, ReLU,
dropout 0.5 on the penultimate layer, an l2-norm cap s = 3 on the output weight vectors,
300-dimensional embeddings. Kim's best variants start from word2vec vectors; the zoo trains its
embeddings FROM SCRATCH, i.e. Kim's "CNN-rand" variant (embeddings drawn from U[-0.25, 0.25] as
in his code). Padding positions get the zero vector (Kim re-zeroes the padding row after
every update; here the padding embedding is multiplied by 0 instead). Kim trains a softmax with
Adadelta; a multi-label problem gets one sigmoid per label and BCE, and our recipes name the
optimizer. Kim's single-label softmax over classes is the only departure in the head.

Example:
    >>> m = kimcnn(num_labels=3, vocabulary=["good", "bad", "movie"], sequence_length=8,
    ...            embedding_dim=4, num_filters=2)
    >>> tuple(m(keras.ops.convert_to_tensor(["good movie"])).shape)
    (1, 3)
"""
from __future__ import annotations

import keras
from keras import ops

from zoo.models.text_common import DEFAULT_MAX_TOKENS, DEFAULT_SEQUENCE_LENGTH, text_input
from zoo.registry import register_architecture


@keras.saving.register_keras_serializable(package="zoo")
class ZeroPadEmbedding(keras.layers.Layer):
    """Zero the embedding of padding positions: ``[emb (b, n, d), ids (b, n)] -> emb * (ids != 0)``.

    Kim (2014) pads every text to one length with a padding word whose vector is held at 0,
    so a convolution window over padding sees zeros (and a ReLU map reports its bias there).

    Example:
        >>> emb = keras.ops.ones((1, 3, 2)); ids = keras.ops.convert_to_tensor([[5, 0, 7]])
        >>> keras.ops.convert_to_numpy(ZeroPadEmbedding()([emb, ids]))[0, :, 0].tolist()
        [1.0, 0.0, 1.0]
    """

    def call(self, inputs):
        emb, ids = inputs
        keep = ops.cast(ops.not_equal(ids, 0), emb.dtype)
        return emb * ops.expand_dims(keep, -1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])


@keras.saving.register_keras_serializable(package="zoo")
class MaxOverTimePooling(keras.layers.Layer):
    """Kim's max-over-time pooling: ``(b, time, maps) -> (b, maps)``, ``max_t x[:, t, :]``.

    Example:
        >>> x = keras.ops.convert_to_tensor([[[1., 5.], [3., 2.], [0., 4.]]])
        >>> keras.ops.convert_to_numpy(MaxOverTimePooling()(x)).tolist()
        [[3.0, 5.0]]
    """

    def call(self, inputs):
        return ops.max(inputs, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])


def _check_widths(filter_widths, sequence_length, what):
    widths = [int(w) for w in filter_widths]
    if not widths or min(widths) < 1:
        raise ValueError(f"{what}: filter_widths must be positive integers, got {filter_widths!r}")
    if sequence_length is not None and max(widths) > int(sequence_length):
        raise ValueError(f"{what}: the widest filter ({max(widths)}) is longer than"
                         f" sequence_length={sequence_length}; a valid convolution has no output")
    return widths


def embed_tokens(ids, vocab_size, embedding_dim, embeddings=None, vocabulary=None, seed=0):
    """Token ids -> embeddings with padding positions set to zero. The table starts from Kim's
    CNN-rand init U[-0.25, 0.25], or, with ``embeddings="wordllama-l2-256"``, from pretrained
    vectors for ``vocabulary`` (the vectorizer's full vocabulary ``["", "[UNK]", ...]``; see
    :mod:`zoo.models.token_embeddings`)."""
    layer = keras.layers.Embedding(
        int(vocab_size), int(embedding_dim), name="embedding",
        embeddings_initializer=keras.initializers.RandomUniform(-0.25, 0.25))
    emb = layer(ids)
    if embeddings:
        from zoo.models import token_embeddings
        token_embeddings.initialise(layer, vocabulary, embeddings, seed=seed)
    return ZeroPadEmbedding(name="zero_padding")([emb, ids])


def embedded_text(train_inputs, max_tokens, sequence_length, vocabulary, embedding_dim,
                  embeddings=None):
    """String input -> token ids -> :func:`embed_tokens`. Shared by Kim-CNN and XML-CNN."""
    inputs, ids, vocab_size = text_input(train_inputs, max_tokens, sequence_length,
                                         vocabulary=vocabulary)
    full = None
    if embeddings:
        full = keras.Model(inputs, ids).get_layer("text_vectorizer").get_vocabulary()
    return inputs, embed_tokens(ids, vocab_size, embedding_dim, embeddings, full)


def max_over_time_features(emb, widths, num_filters):
    """Kim's parallel valid convolutions (ReLU) of each width, max-over-time pooled and
    concatenated: ``(b, n, d) -> (b, len(widths) * num_filters)``."""
    pooled = []
    for w in widths:
        fmap = keras.layers.Conv1D(int(num_filters), w, padding="valid", activation="relu",
                                   name=f"conv_{w}")(emb)
        pooled.append(MaxOverTimePooling(name=f"max_over_time_{w}")(fmap))
    return keras.layers.Concatenate(name="features")(pooled) if len(pooled) > 1 else pooled[0]


@register_architecture("kimcnn", kind="text", paper="Kim, EMNLP 2014")
def kimcnn(num_labels: int, train_inputs=None, vocabulary=None,
           max_tokens: int = DEFAULT_MAX_TOKENS, sequence_length: int = DEFAULT_SEQUENCE_LENGTH,
           embedding_dim: int = 300, filter_widths=(3, 4, 5), num_filters: int = 100,
           dropout: float = 0.5, max_norm: float | None = 3.0, embeddings: str | None = None,
           name: str = "kimcnn"):
    """Kim-CNN (CNN-rand): raw strings -> label logits ``(b, num_labels)``.

    Args:
        num_labels: number of labels (one logit each).
        train_inputs / vocabulary: the training texts to fit the vocabulary on, or a vocabulary.
        max_tokens, sequence_length: vocabulary size and padded token length.
        embedding_dim: word vector size (paper: 300 from word2vec; trained from scratch here).
        filter_widths, num_filters: convolution window widths and feature maps per width.
        dropout: dropout rate on the pooled features (paper: 0.5).
        max_norm: l2-norm cap on each label's output weight vector (paper: s = 3; None = off).
        embeddings: ``"wordllama-l2-256"`` starts the table from pretrained vectors (Kim's
            CNN-non-static variant, with WordLlama instead of word2vec; embedding_dim 256);
            None = CNN-rand.
    """
    widths = _check_widths(filter_widths, sequence_length, "kimcnn")
    inputs, emb = embedded_text(train_inputs, max_tokens, sequence_length, vocabulary,
                                embedding_dim, embeddings)
    h = max_over_time_features(emb, widths, num_filters)
    if dropout:
        h = keras.layers.Dropout(float(dropout), name="dropout")(h)
    constraint = keras.constraints.MaxNorm(float(max_norm), axis=0) if max_norm else None
    logits = keras.layers.Dense(num_labels, kernel_constraint=constraint, name="logits")(h)
    return keras.Model(inputs, logits, name=name)
