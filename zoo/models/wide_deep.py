"""Wide & Deep for multi-label text: a linear model on TF-IDF n-grams + a CNN, trained jointly.

Paper: H.-T. Cheng, L. Koc, J. Harmsen, et al. "Wide & Deep Learning for Recommender
Systems". DLRS @ RecSys 2016. Applied to text as in the hybrid (shallow + deep) family of the
multi-label text classification surveys: the wide part memorises exact word and phrase
evidence, the deep part generalises over word embeddings.

Defining mechanism: ONE model whose logits are the SUM of a WIDE part, a linear layer over
sparse cross-product features (here a TF-IDF weighted bag of word uni- and bi-grams, the
bigrams being the text analogue of the paper's cross-product transformations), and a DEEP
part (here Kim's CNN over word embeddings, :mod:`zoo.models.kimcnn`), both trained JOINTLY by
back-propagating the same loss into both at once (not an ensemble of separately trained
models). Cheng et al. train the wide part with FTRL + L1; the zoo trainer has one optimizer,
so the wide part gets an L2 penalty (``wide_l2``) instead.

The wide features follow the zoo's TF-IDF baseline (:data:`zoo.baselines.estimators.TFIDF`):
unigrams + bigrams kept if they occur in >= 2 training documents, sublinear tf
(``1 + log tf``), smoothed idf ``log((1 + n) / (1 + df)) + 1``, rows L2-normalised. They are
computed INSIDE the model from the token ids of the one ``TextVectorization`` (vocabulary
fitted on train) that also feeds the deep part (:class:`NgramTfIdf`): the bigram vocabulary
(the ``max_bigrams`` bigrams of highest training document frequency) and the idf weights are
non-trainable weights of that layer, so the saved model takes raw strings and re-heading
keeps them like any encoder weight. Departures from the baseline: Keras' tokenisation
(lower case, punctuation stripped, whitespace split) and the unigram vocabulary of the deep
part (``max_tokens``) instead of scikit-learn's 100k-n-gram vocabulary; the wide part reads
at most ``wide_length`` tokens per text, the CNN the first ``sequence_length`` of them.

Example:
    >>> texts = ["grain wheat exports", "wheat exports rise", "oil prices rise"]
    >>> m = wide_deep(num_labels=2, train_inputs=texts, sequence_length=8, wide_length=8,
    ...               embedding_dim=4, num_filters=2, filter_widths=(2,), max_bigrams=4)
    >>> tuple(m(keras.ops.convert_to_tensor(["wheat exports"])).shape)
    (1, 2)
"""
from __future__ import annotations

import keras
import numpy as np
from keras import ops

from zoo.models.kimcnn import _check_widths, embed_tokens, max_over_time_features
from zoo.models.text_common import DEFAULT_MAX_TOKENS, text_input
from zoo.registry import register_architecture

#: bigram-key slots not filled by a training bigram hold this (sorts after every real key)
_EMPTY_KEY = np.iinfo(np.int32).max


def bigram_keys(ids: np.ndarray, vocab_size: int) -> np.ndarray:
    """Integer keys ``a * vocab_size + b`` of the adjacent in-vocabulary token pairs of each
    row of ``ids`` (b, n); pairs touching padding (0) or ``[UNK]`` (1) get -1.

    Example:
        >>> bigram_keys(np.array([[2, 3, 1, 4, 0]]), 10).tolist()
        [[23, -1, -1, -1]]
    """
    a, b = ids[:, :-1].astype(np.int64), ids[:, 1:].astype(np.int64)
    return np.where((a > 1) & (b > 1), a * vocab_size + b, -1)


def fit_tfidf(ids: np.ndarray, vocab_size: int, max_bigrams: int, min_df: int = 2):
    """Fit the wide part's n-gram vocabulary and idf on training token ids ``(n_docs, len)``.

    Returns ``(keys (max_bigrams,) int32 sorted, idf (vocab_size + max_bigrams,) float32)``:
    the bigrams of highest document frequency (ties: smaller key first) with ``df >= min_df``,
    empty slots holding ``2**31 - 1``; ``idf = log((1 + n) / (1 + df)) + 1`` for every kept
    unigram and bigram, 0 for padding, ``[UNK]``, unigrams below ``min_df`` and empty slots.

    Example:
        >>> ids = np.array([[2, 3, 0], [2, 3, 4], [4, 2, 3]])
        >>> keys, idf = fit_tfidf(ids, 5, 2)
        >>> keys.tolist()                 # (2, 3) in all 3 documents; (3, 4), (4, 2) once
        [13, 2147483647]
        >>> np.round(idf.astype(float), 3).tolist()     # [pad, UNK, 2, 3, 4, bigram 13, empty slot]
        [0.0, 0.0, 1.0, 1.0, 1.288, 1.0, 0.0]
    """
    n = len(ids)
    if vocab_size * vocab_size >= _EMPTY_KEY:
        raise ValueError(f"wide-deep: vocabulary of {vocab_size} tokens is too large for int32"
                         " bigram keys (at most 46340)")
    uni_df = np.zeros(vocab_size, np.int64)
    keys = bigram_keys(ids, vocab_size)
    big = {}
    for row_ids, row_keys in zip(ids, keys):
        uni_df[np.unique(row_ids)] += 1
        for k in np.unique(row_keys[row_keys >= 0]):
            big[int(k)] = big.get(int(k), 0) + 1
    ranked = sorted((k for k, d in big.items() if d >= min_df), key=lambda k: (-big[k], k))
    kept = np.array(sorted(ranked[:max_bigrams]), dtype=np.int64)
    out_keys = np.full(max_bigrams, _EMPTY_KEY, np.int32)
    out_keys[:len(kept)] = kept
    idf = np.zeros(vocab_size + max_bigrams, np.float32)
    smooth = lambda df: np.log((1.0 + n) / (1.0 + df)) + 1.0  # noqa: E731
    keep_uni = uni_df >= min_df
    keep_uni[:2] = False
    idf[:vocab_size][keep_uni] = smooth(uni_df[keep_uni])
    idf[vocab_size:vocab_size + len(kept)] = smooth(np.array([big[int(k)] for k in kept]))
    return out_keys, idf


@keras.saving.register_keras_serializable(package="zoo")
class NgramTfIdf(keras.layers.Layer):
    """Token ids ``(b, n)`` -> L2-normalised TF-IDF vector over unigrams + kept bigrams,
    ``(b, vocab_size + max_bigrams)``.

    Feature ``j < vocab_size`` is token ``j``; feature ``vocab_size + i`` is the i-th kept
    bigram (``keys[i] = a * vocab_size + b``, found by binary search in the sorted keys).
    Value: ``(1 + log count) * idf`` (0 where the count is 0), then divided by the row's L2
    norm. ``keys`` and ``idf`` are non-trainable weights set by :func:`fit_tfidf` (a freshly
    built layer has no bigrams and zero idf: all-zero features).

    Example:
        >>> la = NgramTfIdf(vocab_size=5, max_bigrams=2)
        >>> la.build((None, 3))
        >>> _ = la.keys.assign([13, 2**31 - 1]), la.idf.assign([0, 0, 1, 1, 1, 2, 0])
        >>> np.round(keras.ops.convert_to_numpy(la(np.array([[2, 3, 0]]))).astype(float), 3).tolist()
        [[0.0, 0.0, 0.408, 0.408, 0.0, 0.816, 0.0]]
    """

    def __init__(self, vocab_size: int, max_bigrams: int, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.max_bigrams = int(vocab_size), int(max_bigrams)
        if self.max_bigrams < 1:
            raise ValueError(f"max_bigrams must be >= 1, got {max_bigrams}")

    @property
    def num_features(self):
        return self.vocab_size + self.max_bigrams

    def build(self, input_shape):
        self.keys = self.add_weight(
            name="bigram_keys", shape=(self.max_bigrams,), dtype="int32", trainable=False,
            initializer=keras.initializers.Constant(int(_EMPTY_KEY)))
        self.idf = self.add_weight(name="idf", shape=(self.num_features,), trainable=False,
                                   initializer="zeros")

    def call(self, ids):
        ids = ops.cast(ids, "int32")
        a, b = ids[:, :-1], ids[:, 1:]
        key = a * self.vocab_size + b
        flat = ops.reshape(key, (-1,))
        pos = ops.minimum(ops.searchsorted(self.keys, flat), self.max_bigrams - 1)
        hit = ops.logical_and(ops.equal(ops.take(self.keys, pos), flat),
                              ops.reshape(ops.logical_and(a > 1, b > 1), (-1,)))
        big = ops.reshape(ops.where(hit, pos + self.vocab_size, 0), ops.shape(key))
        grams = ops.concatenate([ids, big], axis=1)
        counts = ops.cast(ops.bincount(grams, minlength=self.num_features), "float32")
        counts = ops.reshape(counts[:, :self.num_features], (-1, self.num_features))
        tf = ops.where(counts > 0, 1.0 + ops.log(ops.maximum(counts, 1.0)), 0.0)
        x = tf * self.idf[None, :]
        norm = ops.sqrt(ops.sum(x * x, axis=1, keepdims=True))
        return x / ops.maximum(norm, 1e-12)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_features)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size,
                "max_bigrams": self.max_bigrams}


@keras.saving.register_keras_serializable(package="zoo")
class FirstTokens(keras.layers.Layer):
    """``(b, n) -> (b, length)``: the first ``length`` token ids (the deep part's window).

    Example:
        >>> FirstTokens(2)(np.array([[5, 6, 7]])).numpy().tolist()
        [[5, 6]]
    """

    def __init__(self, length: int, **kwargs):
        super().__init__(**kwargs)
        self.length = int(length)

    def call(self, ids):
        return ids[:, :self.length]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.length)

    def get_config(self):
        return {**super().get_config(), "length": self.length}


@register_architecture("wide-deep", kind="text", paper="Cheng et al., DLRS 2016",
                       head=("wide_logits", "deep_logits"))
def wide_deep(num_labels: int, train_inputs=None, vocabulary=None,
              max_tokens: int = DEFAULT_MAX_TOKENS, sequence_length: int = 256,
              wide_length: int = 512, max_bigrams: int = 20000, min_df: int = 2,
              wide_l2: float = 0.0, embedding_dim: int = 128, embeddings: str | None = None,
              filter_widths=(3, 4, 5), num_filters: int = 100, dropout: float = 0.5,
              seed: int = 0, name: str = "wide_deep"):
    """Wide & Deep text model: raw strings -> logits ``wide(tfidf) + deep(cnn)``, (b, L).

    Args:
        num_labels: number of labels.
        train_inputs / vocabulary: training texts (the vocabulary, bigrams and idf are fitted on
            them) or a restored vocabulary (bigrams and idf then come from copied weights).
        max_tokens: unigram vocabulary size (shared by both parts, incl. padding and [UNK]).
        sequence_length: tokens the CNN reads; wide_length: tokens the TF-IDF bag reads.
        max_bigrams, min_df: bigram slots of the wide part; minimum training document
            frequency of a kept unigram or bigram.
        wide_l2: L2 penalty on the wide weights (Cheng et al.: FTRL with L1).
        embedding_dim, embeddings: word vector size; ``"wordllama-l2-256"`` initialises the
            table from WordLlama (:mod:`zoo.models.token_embeddings`; ``embedding_dim`` must
            be 256), None = Kim's U[-0.25, 0.25].
        filter_widths, num_filters, dropout: the deep Kim-CNN (windows, maps per window,
            dropout on the pooled features).
        seed: seed of the pretrained table's random rows.
    """
    widths = _check_widths(filter_widths, sequence_length, "wide-deep")
    if int(sequence_length) > int(wide_length):
        raise ValueError(f"wide-deep: sequence_length={sequence_length} exceeds "
                         f"wide_length={wide_length} (the CNN reads a prefix of the wide tokens)")
    inputs, ids, vocab_size = text_input(train_inputs, max_tokens, wide_length,
                                         vocabulary=vocabulary)
    tfidf_layer = NgramTfIdf(vocab_size, max_bigrams, name="ngram_tfidf")
    reg = keras.regularizers.L2(float(wide_l2)) if wide_l2 else None
    wide = keras.layers.Dense(num_labels, kernel_initializer="zeros", kernel_regularizer=reg,
                              name="wide_logits")(tfidf_layer(ids))

    deep_ids = FirstTokens(sequence_length, name="deep_tokens")(ids)
    full_vocabulary = keras.Model(inputs, ids).get_layer("text_vectorizer").get_vocabulary()
    emb = embed_tokens(deep_ids, vocab_size, embedding_dim, embeddings, full_vocabulary, seed)
    h = max_over_time_features(emb, widths, num_filters)
    if dropout:
        h = keras.layers.Dropout(float(dropout), name="dropout")(h)
    deep = keras.layers.Dense(num_labels, name="deep_logits")(h)
    logits = keras.layers.Add(name="logits")([wide, deep])
    model = keras.Model(inputs, logits, name=name)

    tv = model.get_layer("text_vectorizer")
    if train_inputs is not None:
        train_ids = np.asarray(tv(np.asarray(list(train_inputs), dtype=object)))
        keys, idf = fit_tfidf(train_ids, vocab_size, max_bigrams, min_df)
        tfidf_layer.keys.assign(keys)
        tfidf_layer.idf.assign(idf)
    return model
