"""tf.data input pipelines and train-only preprocessing state for :class:`MultiLabelDataset`.

One function turns the in-memory dataset into batches for ``model.fit`` / ``predict``::

    >>> from zoo.data.pipeline import to_tf_dataset, feature_normalizer     # doctest: +SKIP
    >>> train_ds = to_tf_dataset(train, batch_size=64, shuffle=True, seed=0)  # doctest: +SKIP
    >>> test_ds = to_tf_dataset(test, batch_size=256)                        # doctest: +SKIP

The stage order follows the TensorFlow guide "Better performance with the tf.data API"
(https://www.tensorflow.org/guide/data_performance): deterministic, expensive work (image
decoding, tokenization) runs *before* ``cache()``, so it happens once; random work (shuffling,
augmentation) runs *after* it, so it differs every epoch; ``prefetch(AUTOTUNE)`` comes last so
the input pipeline overlaps the training step. Per kind:

============================  ================================================================
kind / input                  stages
============================  ================================================================
features, dense ndarray       rows -> shuffle -> batch -> cast -> [preprocess]
features, scipy sparse        SparseTensor rows -> shuffle -> batch (a (b, d)
                              SparseTensor) -> ``tf.sparse.to_dense`` -> [preprocess]
text, list of str             strings -> [preprocess in chunks] -> cache -> shuffle -> batch
image, uint8 (n, h, w, c)     rows -> shuffle -> batch -> float32 -> [preprocess]
                              -> [augment]
image, list of file paths     ``tf.io.read_file`` + ``tf.io.decode_image`` -> cache ->
                              shuffle -> batch -> float32 -> [preprocess] -> [augment]
============================  ================================================================

then ``prefetch(AUTOTUNE)``. Labels ride along as rows (dense int8 or sparse) and leave as a
dense ``float32`` (b, L) batch with ``-1`` (unknown, partial labels) preserved.

Sparse features are never densified as a whole: each batch of sparse rows is densified on its
own. ``benchmarks/bench_pipeline.py`` measured this (``from_tensor_slices`` of a
``tf.SparseTensor``, batched, then ``to_dense``) against gathering CSR rows in the graph and
against slicing the scipy matrix in a Python generator; it was the fastest on bibtex and
delicious (numbers in ``docs/pipelines.md``).

Preprocessing state (feature scaling, vocabularies) is *fitted on the training split only*
(:func:`feature_normalizer`, :func:`text_vectorizer`, :func:`wordpiece_tokenizer`); fitting
it on validation or test rows leaks their statistics into the model. The returned Keras
layers belong inside the model (or in ``preprocess=``), so a saved model takes raw inputs.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import scipy.sparse as sp

from zoo._io import atomic_write_text
from zoo.data.dataset import MultiLabelDataset
from zoo.data.tensors import (feature_moments, require_train,  # noqa: F401
                              sparse_tensor)
from zoo.errors import DataFormatError

__all__ = [
    "to_tf_dataset", "training_arrays", "default_augmentation", "feature_normalizer", "text_vectorizer",
    "save_vocabulary", "load_text_vectorizer", "wordpiece_tokenizer",
    "load_wordpiece_tokenizer",
]

# Rows per call of a text ``preprocess`` before the cache (vectorized, not per string).
_PREPROCESS_CHUNK = 1024
_WORDPIECE_RESERVED = ("[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]")


def _tf():
    import tensorflow as tf  # deferred: importing zoo.data must not pay for TensorFlow

    return tf


# ---------------------------------------------------------------------------------------------
# to_tf_dataset
# ---------------------------------------------------------------------------------------------
def to_tf_dataset(ds: MultiLabelDataset, batch_size: int = 64, shuffle: bool = False,
                  seed: int | None = 0, cache: bool = True, drop_remainder: bool = False,
                  preprocess: Callable | None = None, augment=None, labels: bool = True, *,
                  image_size: tuple[int, int] | None = None):
    """A batched ``tf.data.Dataset`` of ``(x, y)`` (or ``x`` alone) from a dataset.

    Args:
        ds: the :class:`~zoo.data.dataset.MultiLabelDataset`.
        batch_size: rows per batch.
        shuffle: shuffle the rows (a full, uniform permutation: the buffer holds every row).
            The order is reshuffled every epoch and is a deterministic function of ``seed``:
            two pipelines built with the same seed yield the same sequence of epoch orders.
            Use it for training pipelines only.
        seed: shuffle seed; ``None`` draws a fresh one (not reproducible).
        cache: cache the rows after the deterministic stages (decoded image files,
            tokenized text) in memory, so they are computed once; costs the memory of those
            rows. In-memory arrays (dense or sparse features, image arrays) are never copied
            into a cache.
        drop_remainder: drop the last, smaller batch.
        preprocess: a deterministic callable (e.g. a Keras ``TextVectorization`` or
            ``Normalization`` layer) mapped over *batches* of ``x`` inside the graph with
            ``num_parallel_calls=AUTOTUNE``. For text it runs before the cache (tokenized
            once, in chunks of 1024 rows) and must return a fixed-length tensor per row
            (e.g. ``sequence_length`` set); for features and images it runs on every batch.
        augment: random augmentation of image batches (training pipelines only; leave it
            ``None`` for validation, test and prediction). ``"default"`` (or ``True``) uses
            :func:`default_augmentation`; a Keras layer is called with ``training=True``;
            any other callable is called on the float32 batch. Labels are not changed, so
            only label-preserving transformations belong here.
        labels: yield ``(x, y)`` batches; ``False`` yields ``x`` alone (for ``predict``).
        image_size: ``(height, width)`` to resize decoded image *files* to (bilinear,
            rounded back to uint8 values). Without it every file must have the size of the
            first one.

    Returns:
        ``tf.data.Dataset`` of ``(x, y)``: ``x`` is float32 (b, d) for features, a string
        (b,) tensor for text (or the ``preprocess`` output), float32 (b, h, w, c) with the
        raw 0..255 values for images (the model rescales); ``y`` is float32 (b, L) with 1, 0
        and -1 (unknown) as in ``ds.y``.

    Raises:
        TypeError: ``ds`` is not a MultiLabelDataset, or ``augment`` is of a wrong type.
        ValueError: a bad ``batch_size``, a ``"default"`` augmentation for non-images, or a
            ``preprocess`` with ragged (variable-length) output.
        DataFormatError: a text row that is not a string, an image array of the wrong
            shape, or an image file that cannot be decoded (raised when iterated).

    Example:
        >>> import numpy as np
        >>> from zoo.data.dataset import MultiLabelDataset
        >>> d = MultiLabelDataset(x=np.eye(3, dtype="float32"),
        ...                       y=np.array([[1, -1], [0, 1], [1, 0]], "int8"),
        ...                       label_names=["a", "b"])
        >>> x, y = next(iter(to_tf_dataset(d, batch_size=2)))
        >>> x.shape, y.numpy().tolist()
        (TensorShape([2, 3]), [[1.0, -1.0], [0.0, 1.0]])
    """
    tf = _tf()
    if not isinstance(ds, MultiLabelDataset):
        raise TypeError(f"to_tf_dataset expects a MultiLabelDataset, got {type(ds).__name__}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    batch_size = int(batch_size)
    from zoo import kinds
    kind = kinds.get(ds.kind)
    augment = _resolve_augment(augment, kind, seed)
    if preprocess is not None and not callable(preprocess):
        raise TypeError(f"preprocess must be callable, got {type(preprocess).__name__}")
    autotune = tf.data.AUTOTUNE
    n = len(ds)

    x_rows, x_sparse, decode = kind.tf_rows(ds, image_size)
    y_rows, y_sparse = _y_rows(ds.y)
    rows = tf.data.Dataset.zip((x_rows, y_rows)) if labels else x_rows

    def on_x(fn):  # apply fn to the x part of an element, keep y
        return (lambda x, y: (fn(x), y)) if labels else fn

    early_text = kind.preprocess_before_cache and preprocess is not None
    # In-memory arrays (dense or CSR) are already what the cache would hold: caching them
    # only copies them (no consistent speed-up for CSR rows, see docs/pipelines.md).
    in_memory = not kind.preprocess_before_cache and decode is None
    if cache and not in_memory:
        # deterministic stages first, cached once
        if decode is not None:
            rows = rows.map(on_x(decode), num_parallel_calls=autotune)
        if early_text:
            rows = _chunked(rows, on_x(preprocess), autotune)
        rows = rows.cache()
    if shuffle:
        # The permutation depends only on the seed and the number of rows, not on the
        # element contents, so shuffling before or after the decode gives the same order.
        rows = rows.shuffle(max(n, 1), seed=seed, reshuffle_each_iteration=True)
    if not cache and decode is not None:
        rows = rows.map(on_x(decode), num_parallel_calls=autotune)
    batches = rows.batch(batch_size, drop_remainder=drop_remainder)

    x_steps = []
    if x_sparse:
        x_steps.append(tf.sparse.to_dense)
    if kind.numeric:
        x_steps.append(lambda x: tf.cast(x, tf.float32))
    if preprocess is not None and (not early_text or not cache):
        x_steps.append(preprocess)
    if augment is not None:
        x_steps.append(augment)
    y_steps = [tf.sparse.to_dense] if y_sparse else []
    y_steps.append(lambda y: tf.cast(y, tf.float32))

    def finish(*element):
        x = element[0]
        for f in x_steps:
            x = f(x)
        if not labels:
            return x
        y = element[1]
        for f in y_steps:
            y = f(y)
        return x, y

    batches = batches.map(finish, num_parallel_calls=autotune)
    _check_dense_output(batches, labels)
    return batches.prefetch(autotune)


# In-memory numeric datasets up to this size (features + labels, float32) train from arrays.
ARRAYS_MAX_BYTES = 2 * 2**30


def training_arrays(ds: MultiLabelDataset, max_bytes: int | None = ARRAYS_MAX_BYTES):
    """``(x, y)`` as dense float32 arrays for ``model.fit(x, y, ...)``, or ``None`` when the
    dataset should stream through :func:`to_tf_dataset` instead.

    The fast path for in-memory numeric features: Keras batches arrays by gathering whole
    batches of a shuffled index (one gather per batch, no per-row ``tf.data`` elements; on the
    JAX backend no ``tf.data`` at all). ``benchmarks/bench_speed.py`` measures the difference
    (docs/benchmarks.md). ``None`` for text, image files and image arrays (which need the
    kind's own stages), and for data whose dense float32 copy (features and labels) would
    exceed ``max_bytes`` (``None``: no limit). Labels keep ``-1`` (unknown) as :func:`to_tf_dataset` does.

    Example:
        >>> import numpy as np
        >>> from zoo.data.dataset import MultiLabelDataset
        >>> d = MultiLabelDataset(x=np.eye(3), y=np.array([[1, -1], [0, 1], [1, 0]], "int8"),
        ...                       label_names=["a", "b"])
        >>> x, y = training_arrays(d)
        >>> x.dtype, y[0].tolist()
        (dtype('float32'), [1.0, -1.0])
    """
    from zoo import kinds
    x = ds.x
    # 2-D numeric rows: feature matrices, and an image head's cached backbone features
    if not kinds.get(ds.kind).numeric or not (sp.issparse(x) or isinstance(x, np.ndarray)) \
            or x.ndim != 2:
        return None
    if max_bytes is not None and x.shape[0] * (x.shape[1] + ds.num_labels) * 4 > max_bytes:
        return None
    x = x.toarray() if sp.issparse(x) else x
    return np.asarray(x, dtype=np.float32), ds.labels_dense().astype(np.float32)


def _chunked(rows, fn, autotune):
    """Map ``fn`` over chunks of rows (vectorized), then split back into rows."""
    out = rows.batch(_PREPROCESS_CHUNK).map(fn, num_parallel_calls=autotune)
    _check_dense_output(out, isinstance(out.element_spec, tuple), fixed=True)
    return out.unbatch()


def _check_dense_output(batches, labels, fixed=False):
    """preprocess output must be dense (and, before the cache, of a fixed row shape)."""
    tf = _tf()
    spec = batches.element_spec[0] if labels else batches.element_spec
    if not isinstance(spec, tf.TensorSpec) or (fixed and not spec.shape[1:].is_fully_defined()):
        raise ValueError(
            f"preprocess must return a dense tensor of a fixed shape per row, got {spec};"
            " give the tokenizer a fixed output length (e.g. sequence_length=256)")


def _y_rows(y):
    tf = _tf()
    if sp.issparse(y):
        return tf.data.Dataset.from_tensor_slices(sparse_tensor(y)), True
    return tf.data.Dataset.from_tensor_slices(np.asarray(y, dtype=np.int8)), False


def _resolve_augment(augment, kind, seed):
    if augment is None or augment is False:
        return None
    if augment is True or (isinstance(augment, str) and augment == "default"):
        if not kind.augmentable:
            raise ValueError(f"the default augmentation is for image datasets, this one is"
                             f" {kind.name!r}; pass a callable to augment other inputs")
        augment = default_augmentation(seed=seed)
    if not callable(augment):
        raise TypeError(f"augment must be None, 'default' or a callable, got {augment!r}")
    import keras

    if isinstance(augment, keras.layers.Layer):
        layer = augment
        return lambda x: layer(x, training=True)
    return augment


def default_augmentation(seed: int | None = None, translation: float = 0.1,
                         flip: str | None = "horizontal"):
    """A light, label-preserving image augmentation as Keras preprocessing layers.

    A random flip and a random translation by up to ``translation`` of the height and width,
    filling with zeros (``fill_mode="constant"``): a reflected fill would paste mirrored
    copies of objects near the border into the image, which can add an object whose label
    the row does not carry.

    Example:
        >>> aug = default_augmentation(seed=0)
        >>> [type(l).__name__ for l in aug.layers]
        ['RandomFlip', 'RandomTranslation']
    """
    import keras

    layers = []
    if flip:
        layers.append(keras.layers.RandomFlip(flip, seed=seed))
    if translation:
        layers.append(keras.layers.RandomTranslation(
            translation, translation, fill_mode="constant", fill_value=0.0,
            seed=None if seed is None else seed + 1))
    # keras.layers.Pipeline, not Sequential: it stays tf.data-compatible on every backend
    # (a Sequential converts its inputs to JAX arrays inside the tf.data graph and fails)
    return keras.layers.Pipeline(layers, name="default_augmentation")


# ---------------------------------------------------------------------------------------------
# feature scaling
# ---------------------------------------------------------------------------------------------
def feature_normalizer(train_ds, name: str = "feature_normalizer"):
    """A ``keras.layers.Normalization`` with the column mean and variance of the TRAIN rows.

    Place the layer inside the model (first layer), so a saved model takes raw features and
    carries its scaling in its config. Mean and variance (population, ``ddof=0``, as Keras'
    own ``adapt``) are computed in float64 with numpy; for a scipy sparse matrix they come
    from the stored entries, column by column, without densifying::

        mean_j = sum(v) / n,   var_j = (sum((v - mean_j)^2) + (n - nnz_j) * mean_j^2) / n

    (the exact two-pass formula, no ``E[x^2] - E[x]^2`` cancellation). Columns with zero
    variance on train get variance 1, as scikit-learn's ``StandardScaler`` does: Keras would
    divide by ``epsilon`` and blow a word that is absent from train but present in a test
    row up to 1e7.

    Args:
        train_ds: a ``"features"`` :class:`MultiLabelDataset` (not a valid/test split), a
            dense array or a scipy sparse matrix (n, d).
        name: the layer name.

    Raises:
        ValueError: a validation/test split, or no rows.
        DataFormatError: a NaN or infinite feature (the message names the column).

    Example:
        >>> import numpy as np
        >>> layer = feature_normalizer(np.array([[0., 1.], [2., 1.]]))
        >>> layer(np.array([[2., 5.]])).numpy().tolist()
        [[1.0, 4.0]]
    """
    import keras
    mean, var = feature_moments(train_ds)
    layer = keras.layers.Normalization(axis=-1, mean=mean.astype(np.float32),
                                       variance=var.astype(np.float32), name=name)
    layer.build((None, mean.shape[0]))  # so layer.mean / layer.variance exist right away
    return layer


# ---------------------------------------------------------------------------------------------
# text: TextVectorization and WordPiece, fitted on train only
# ---------------------------------------------------------------------------------------------
def _train_texts(train_texts, what: str) -> list:
    if isinstance(train_texts, MultiLabelDataset):
        if train_texts.kind != "text":
            raise ValueError(f"{what} needs a text dataset, got {train_texts.kind!r}")
        require_train(train_texts, what)
        train_texts = train_texts.x
    if isinstance(train_texts, str):
        raise TypeError(f"{what} expects a list of texts, got one str")
    texts = list(train_texts)
    if not texts:
        raise ValueError(f"{what} needs at least one training text")
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise DataFormatError(f"text {bad[0]} is a {type(texts[bad[0]]).__name__}, expected"
                              f" str ({len(bad)} such texts)")
    return texts


def text_vectorizer(train_texts, max_tokens: int | None = 20000, sequence_length: int | None = 256,
                    standardize="lower_and_strip_punctuation", *, split="whitespace",
                    ngrams=None, name: str = "text_vectorizer"):
    """A ``keras.layers.TextVectorization`` whose vocabulary is adapted on TRAIN texts only.

    Output: int64 token ids (b, ``sequence_length``), 0 = padding, 1 = out-of-vocabulary
    (``[UNK]``); the vocabulary holds the ``max_tokens - 2`` most frequent train tokens.
    A token that occurs only in validation or test texts is out-of-vocabulary, as it would be
    for a new user text. Use it as ``preprocess=`` of :func:`to_tf_dataset` (runs in the
    input pipeline) and save the vocabulary with :func:`save_vocabulary`.

    Args:
        train_texts: the training texts (list of str) or a ``"text"``
            :class:`MultiLabelDataset` that is not a valid/test split.
        max_tokens: vocabulary size including padding and ``[UNK]``; ``None`` = all tokens.
        sequence_length: pad/truncate to this many tokens; ``None`` = ragged output.
        standardize, split, ngrams: as ``keras.layers.TextVectorization``.

    Example:
        >>> tv = text_vectorizer(["good movie", "bad movie"], sequence_length=4)
        >>> tv(["good unseen movie"]).numpy().tolist()
        [[3, 1, 2, 0]]
    """
    import keras
    tf = _tf()

    texts = _train_texts(train_texts, "text_vectorizer")
    layer = keras.layers.TextVectorization(
        max_tokens=max_tokens, standardize=standardize, split=split, ngrams=ngrams,
        output_mode="int", output_sequence_length=sequence_length, name=name)
    layer.adapt(tf.data.Dataset.from_tensor_slices(tf.constant(texts)).batch(_PREPROCESS_CHUNK))
    return layer


def save_vocabulary(layer, path) -> Path:
    """Write the vocabulary of ``layer`` to ``path``, one token per line (UTF-8, atomic).

    The file is the one the library of the layer itself reads back:

    * ``TextVectorization`` / ``StringLookup``: the tokens *without* the padding ``""`` and
      ``[UNK]`` entries (Keras adds those when given a vocabulary file), so line ``k``
      (0-based) is token id ``k + 2``. ``keras.layers.TextVectorization(vocabulary=path)``
      or :func:`load_text_vectorizer` rebuild the layer.
    * keras-hub tokenizers (``WordPieceTokenizer``): every token, reserved ones included,
      line ``k`` = id ``k``; ``WordPieceTokenizer(vocabulary=path)`` or
      :func:`load_wordpiece_tokenizer` rebuild it.

    Raises:
        ValueError: the layer has no vocabulary, or a token is empty or contains a line
            break (the one-token-per-line format cannot hold it).

    Example:
        >>> import tempfile, os
        >>> tv = text_vectorizer(["a b b"], sequence_length=3)
        >>> p = save_vocabulary(tv, os.path.join(tempfile.mkdtemp(), "vocab.txt"))
        >>> p.read_text().splitlines()
        ['b', 'a']
    """
    import keras

    if isinstance(layer, (keras.layers.TextVectorization, keras.layers.StringLookup)):
        vocab = layer.get_vocabulary(include_special_tokens=False)
    elif hasattr(layer, "get_vocabulary"):
        vocab = layer.get_vocabulary()
    else:
        raise ValueError(f"{type(layer).__name__} has no vocabulary (no get_vocabulary())")
    tokens = [t.decode("utf-8") if isinstance(t, bytes) else str(t) for t in vocab]
    if not tokens:
        raise ValueError(f"{type(layer).__name__} {getattr(layer, 'name', '')!r} has an empty"
                         " vocabulary; adapt it on the training texts first")
    for i, t in enumerate(tokens):
        if t == "" or "\n" in t or "\r" in t:
            raise ValueError(f"vocabulary token {i} ({t!r}) is empty or contains a line break;"
                             " it cannot be written one token per line")
    path = Path(path)
    atomic_write_text(path, "\n".join(tokens) + "\n")
    return path


def _read_vocabulary(path) -> list:
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataFormatError(f"vocabulary file is not UTF-8 ({e.reason} at byte {e.start})",
                              path=path) from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    seen = {}
    for i, tok in enumerate(lines):
        tok = tok[:-1] if tok.endswith("\r") else tok
        lines[i] = tok
        if tok == "":
            raise DataFormatError("empty token; the file must hold one token per line",
                                  path=path, line=i + 1)
        if tok in seen:
            raise DataFormatError(f"token {tok!r} repeats line {seen[tok]}", path=path,
                                  line=i + 1)
        seen[tok] = i + 1
    if not lines:
        raise DataFormatError("vocabulary file is empty", path=path)
    return lines


def load_text_vectorizer(path, sequence_length: int | None = 256,
                         standardize="lower_and_strip_punctuation", *, split="whitespace",
                         ngrams=None, name: str = "text_vectorizer"):
    """Rebuild a :func:`text_vectorizer` layer from a :func:`save_vocabulary` file.

    ``sequence_length``, ``standardize``, ``split`` and ``ngrams`` are not in the file: pass
    the values the layer was built with (a checkpoint keeps them in ``zoo.json``).

    Raises:
        DataFormatError: the file is not UTF-8, has an empty line or a repeated token.
    """
    import keras

    vocab = _read_vocabulary(path)
    if vocab[0] == "[UNK]":
        raise DataFormatError("first token is [UNK]: this looks like a file with the special"
                              " tokens; save_vocabulary writes a TextVectorization vocabulary"
                              " without them", path=path, line=1)
    return keras.layers.TextVectorization(
        vocabulary=vocab, standardize=standardize, split=split, ngrams=ngrams,
        output_mode="int", output_sequence_length=sequence_length, name=name)


def wordpiece_tokenizer(train_texts, vocabulary_size: int = 20000,
                        sequence_length: int | None = 256, *, lowercase: bool = True,
                        strip_accents: bool = True,
                        reserved_tokens: Sequence[str] = _WORDPIECE_RESERVED):
    """A keras-hub ``WordPieceTokenizer`` whose vocabulary is learned on TRAIN texts only.

    WordPiece (Schuster & Nakajima 2012; the BERT tokenizer, Devlin et al. 2019) splits
    rare words into frequent sub-word pieces (``"##ing"``), so few words fall out of the
    vocabulary. The vocabulary is learned with
    ``keras_hub.tokenizers.compute_word_piece_vocabulary`` on the training texts (passed as
    a ``tf.data.Dataset``: given a plain list, that function would read it as *file names*).
    A word whose characters never occur in train maps to ``[UNK]``.

    Output: int32 ids (b, ``sequence_length``) padded with 0 = ``[PAD]`` (the first reserved
    token), or ragged when ``sequence_length`` is None.

    Example:
        >>> tok = wordpiece_tokenizer(["the cat sat", "the cats sat"], vocabulary_size=30,
        ...                           sequence_length=4)                  # doctest: +SKIP
        >>> tok(["the cat"]).numpy().shape                                 # doctest: +SKIP
        (1, 4)
    """
    tf = _tf()
    from keras_hub.tokenizers import WordPieceTokenizer, compute_word_piece_vocabulary

    texts = _train_texts(train_texts, "wordpiece_tokenizer")
    reserved = list(reserved_tokens)
    if "[UNK]" not in reserved:
        raise ValueError("reserved_tokens must contain the out-of-vocabulary token '[UNK]'")
    data = tf.data.Dataset.from_tensor_slices(tf.constant(texts)).batch(_PREPROCESS_CHUNK)
    vocab = compute_word_piece_vocabulary(
        data, vocabulary_size, lowercase=lowercase, strip_accents=strip_accents,
        reserved_tokens=reserved)
    return WordPieceTokenizer(vocabulary=vocab, sequence_length=sequence_length,
                              lowercase=lowercase, strip_accents=strip_accents,
                              oov_token="[UNK]")


def load_wordpiece_tokenizer(path, sequence_length: int | None = 256, *, lowercase: bool = True,
                             strip_accents: bool = True):
    """Rebuild a :func:`wordpiece_tokenizer` from its :func:`save_vocabulary` file."""
    from keras_hub.tokenizers import WordPieceTokenizer

    vocab = _read_vocabulary(path)
    if "[UNK]" not in vocab:
        raise DataFormatError("a WordPiece vocabulary needs the [UNK] token", path=path)
    return WordPieceTokenizer(vocabulary=vocab, sequence_length=sequence_length,
                              lowercase=lowercase, strip_accents=strip_accents,
                              oov_token="[UNK]")
