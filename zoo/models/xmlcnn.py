"""XML-CNN: a CNN for (extreme) multi-label text classification.

Paper: J. Liu, W.-C. Chang, Y. Wu, Y. Yang. "Deep Learning for Extreme Multi-label Text
Classification". SIGIR 2017.

Defining mechanisms (what separates it from Kim's CNN, :mod:`zoo.models.kimcnn`):

1. DYNAMIC MAX POOLING (:class:`DynamicMaxPooling`): each convolution feature map of length
   ``m`` is cut over time into ``p`` contiguous chunks and each chunk is max-pooled, so every
   map yields ``p`` numbers instead of Kim's single maximum, keeping coarse position
   information (what is said at the beginning vs. the end of a document).
2. A BOTTLENECK hidden layer (ReLU, paper: 512 units) between the pooled features and the
   output layer, so the output layer, whose size grows with the label count, works on a small
   representation instead of the (maps x p) pooled vector.
3. BINARY CROSS-ENTROPY over sigmoid outputs (the paper compares it with softmax cross-entropy
   over the normalized label vector and keeps BCE).

Defaults: convolution widths 2, 4, 8 and a 512-unit bottleneck with dropout 0.5 follow the
paper; the paper uses 300-dimensional word2vec embeddings (trained from scratch in the zoo,
randomly initialized) and leaves the number of feature maps and the chunk count ``p`` to
tuning per data set: our defaults (128 maps per width, p = 4) are ours, and the recipes record
the values used. Dropout sits before the bottleneck and before the output layer (placement
ours). The released implementation also uses strided convolutions; we use stride 1.

Example:
    >>> m = xmlcnn(num_labels=3, vocabulary=["good", "bad", "movie"], sequence_length=16,
    ...            embedding_dim=4, num_filters=2, pool_chunks=3, bottleneck_units=8)
    >>> tuple(m(keras.ops.convert_to_tensor(["good movie"])).shape)
    (1, 3)
"""
from __future__ import annotations

import keras
import numpy as np
from keras import ops

from zoo.models.kimcnn import _check_widths, embedded_text
from zoo.models.text_common import DEFAULT_MAX_TOKENS, DEFAULT_SEQUENCE_LENGTH, text_input
from zoo.registry import register_architecture


def chunk_bounds(length: int, chunks: int) -> np.ndarray:
    """Start offsets (``chunks + 1`` values) of ``chunks`` near-equal contiguous pieces of
    ``range(length)``, the split of ``numpy.array_split``: the first ``length % chunks``
    pieces hold one element more than the others.

    Example:
        >>> chunk_bounds(7, 3).tolist()   # pieces [0, 1, 2] [3, 4] [5, 6]
        [0, 3, 5, 7]
    """
    length, chunks = int(length), int(chunks)
    if chunks < 1:
        raise ValueError(f"the number of chunks must be >= 1, got {chunks}")
    if length < chunks:
        raise ValueError(f"cannot split a feature map of length {length} into {chunks}"
                         " non-empty chunks; use a longer sequence_length or a smaller pool_chunks")
    q, r = divmod(length, chunks)
    i = np.arange(chunks + 1)
    return i * q + np.minimum(i, r)


def _chunk_gather_index(length: int, chunks: int) -> np.ndarray:
    """``(chunks, ceil(length / chunks))`` time indices; row i lists chunk i's positions, a
    shorter chunk repeating its last position (a repeat does not change a maximum)."""
    b = chunk_bounds(length, chunks)
    width = int(np.max(np.diff(b)))
    idx = b[:-1, None] + np.arange(width)[None, :]
    return np.minimum(idx, b[1:, None] - 1).astype("int32")


@keras.saving.register_keras_serializable(package="zoo")
class DynamicMaxPooling(keras.layers.Layer):
    """XML-CNN's dynamic max pooling: ``(b, m, c) -> (b, p, c)``.

    Output ``[:, i, k]`` is the maximum of feature map ``k`` over the i-th of ``p`` contiguous
    time chunks. When ``m`` is not divisible by ``p`` the chunks differ in size by one, the
    first ``m % p`` chunks being the longer ones (exactly ``numpy.array_split``); ``m < p``
    is an error. ``p = 1`` is Kim's max-over-time pooling. The time length must be static
    (the text input stage pads to a fixed ``sequence_length``). Implementation: one gather
    of the chunk positions into a ``(b, p, ceil(m/p), c)`` tensor and a max over its third
    axis, vectorized and differentiable on every backend.

    Args:
        pool_chunks: ``p``, the number of chunks per feature map.

    Example:
        >>> x = keras.ops.reshape(keras.ops.arange(7.0), (1, 7, 1))   # one map 0..6
        >>> keras.ops.convert_to_numpy(DynamicMaxPooling(3)(x))[0, :, 0].tolist()
        [2.0, 4.0, 6.0]
    """

    def __init__(self, pool_chunks: int = 2, **kwargs):
        super().__init__(**kwargs)
        if int(pool_chunks) < 1:
            raise ValueError(f"pool_chunks must be >= 1, got {pool_chunks}")
        self.pool_chunks = int(pool_chunks)

    def call(self, inputs):
        length = inputs.shape[1]
        if length is None:
            raise ValueError("DynamicMaxPooling needs a static time length; pad the texts to a"
                             " fixed sequence_length")
        idx = _chunk_gather_index(length, self.pool_chunks)
        p, width = idx.shape
        gathered = ops.take(inputs, ops.convert_to_tensor(idx.reshape(-1)), axis=1)
        gathered = ops.reshape(gathered, (-1, p, width, inputs.shape[-1]))
        return ops.max(gathered, axis=2)

    def compute_output_shape(self, input_shape):
        if input_shape[1] is not None:
            chunk_bounds(input_shape[1], self.pool_chunks)  # raises on length < p
        return (input_shape[0], self.pool_chunks, input_shape[2])

    def get_config(self):
        return {**super().get_config(), "pool_chunks": self.pool_chunks}


@register_architecture("xmlcnn", kind="text", paper="Liu, Chang, Wu, Yang, SIGIR 2017")
def xmlcnn(num_labels: int, train_inputs=None, vocabulary=None,
           max_tokens: int = DEFAULT_MAX_TOKENS, sequence_length: int = DEFAULT_SEQUENCE_LENGTH,
           embedding_dim: int = 300, filter_widths=(2, 4, 8), num_filters: int = 128,
           pool_chunks: int = 4, bottleneck_units: int = 512, dropout: float = 0.5,
           embeddings: str | None = None, name: str = "xmlcnn"):
    """XML-CNN: raw strings -> label logits ``(b, num_labels)``.

    Args:
        num_labels: number of labels (one logit each).
        train_inputs / vocabulary: the training texts to fit the vocabulary on, or a vocabulary.
        max_tokens, sequence_length: vocabulary size and padded token length.
        embedding_dim: word vector size (paper: 300 from word2vec; trained from scratch here).
        filter_widths, num_filters: convolution widths (paper: 2, 4, 8) and maps per width.
        pool_chunks: ``p`` of dynamic max pooling (chunks per feature map).
        bottleneck_units: size of the ReLU bottleneck layer (paper: 512).
        dropout: dropout rate before the bottleneck and before the output layer (paper: 0.5).
        embeddings: ``"wordllama-l2-256"`` starts the table from pretrained vectors
            (:mod:`zoo.models.token_embeddings`; embedding_dim 256); None = random init.
    """
    widths = _check_widths(filter_widths, sequence_length, "xmlcnn")
    if sequence_length is not None:
        shortest = int(sequence_length) - max(widths) + 1
        if shortest < int(pool_chunks):
            raise ValueError(f"xmlcnn: the width-{max(widths)} feature map has {shortest} steps,"
                             f" fewer than pool_chunks={pool_chunks}")
    inputs, emb = embedded_text(train_inputs, max_tokens, sequence_length, vocabulary,
                                embedding_dim, embeddings)
    pooled = []
    for w in widths:
        fmap = keras.layers.Conv1D(int(num_filters), w, padding="valid", activation="relu",
                                   name=f"conv_{w}")(emb)
        chunks = DynamicMaxPooling(pool_chunks, name=f"dynamic_max_pool_{w}")(fmap)
        pooled.append(keras.layers.Flatten(name=f"flatten_{w}")(chunks))
    h = keras.layers.Concatenate(name="features")(pooled) if len(pooled) > 1 else pooled[0]
    if dropout:
        h = keras.layers.Dropout(float(dropout), name="dropout_features")(h)
    h = keras.layers.Dense(int(bottleneck_units), activation="relu", name="bottleneck")(h)
    if dropout:
        h = keras.layers.Dropout(float(dropout), name="dropout_bottleneck")(h)
    logits = keras.layers.Dense(num_labels, name="logits")(h)
    return keras.Model(inputs, logits, name=name)
