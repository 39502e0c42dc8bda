"""Row-level conversions shared by the input kinds and the tf.data pipeline.

scipy sparse -> ``tf.SparseTensor``, image file decoding in the graph, and the train-only
feature statistics (column mean/variance) that feature standardization uses. Kept below both
:mod:`zoo.kinds` and :mod:`zoo.data.pipeline` so neither imports the other's internals.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from zoo.data.dataset import MultiLabelDataset
from zoo.errors import DataFormatError


def _tf():
    import tensorflow as tf
    return tf


def image_decoder(paths: list, image_size):
    """Per-row graph function: path -> uint8 (h, w, c), channels and size from file 0."""
    tf = _tf()
    if not paths:
        return lambda p: tf.zeros([0, 0, 1], tf.uint8)
    try:
        first = tf.io.decode_image(tf.io.read_file(paths[0]), expand_animations=False)
    except (tf.errors.OpError, OSError) as e:
        raise DataFormatError(f"cannot decode image: {e}", path=paths[0]) from None
    h, w, c = (int(s) for s in first.shape)
    if image_size is not None:
        h, w = (int(s) for s in image_size)

    def decode(path):
        img = tf.io.decode_image(tf.io.read_file(path), channels=c, expand_animations=False)
        if image_size is not None:
            img = tf.image.resize(img, (h, w), antialias=True)  # as zoo.data.images.load_images
            img = tf.cast(tf.clip_by_value(tf.round(img), 0.0, 255.0), tf.uint8)
        else:
            check = tf.debugging.assert_equal(
                tf.shape(img)[:2], tf.constant([h, w]),
                message=f"image size differs from the first file's {h}x{w}"
                        f" ({paths[0]}); pass image_size=(h, w) to resize")
            with tf.control_dependencies([check]):
                img = tf.identity(img)
        return tf.ensure_shape(img, (h, w, c))

    return decode




def canonical_csr(m) -> sp.csr_matrix:
    m = m if m.format == "csr" else m.tocsr()
    if not m.has_canonical_format:
        m = m.copy()
        m.sum_duplicates()  # also sorts the column indices
    return m


def sparse_tensor(m):
    """scipy sparse (n, d) -> ``tf.SparseTensor`` with row-major ordered indices."""
    tf = _tf()
    m = canonical_csr(m)
    rows = np.repeat(np.arange(m.shape[0], dtype=np.int64), np.diff(m.indptr))
    idx = np.stack([rows, m.indices.astype(np.int64)], axis=1)
    return tf.SparseTensor(idx, m.data.astype(np.float32), [int(m.shape[0]), int(m.shape[1])])




def require_train(ds, what: str) -> None:
    split = getattr(ds, "split", None)
    if split in ("valid", "test"):
        raise ValueError(f"{what} must be fitted on the training split, got the {split!r} split"
                         f" of {getattr(ds, 'name', None) or 'the dataset'}")




def feature_moments(train_ds) -> tuple[np.ndarray, np.ndarray]:
    """Float64 column mean and variance of the TRAIN rows, as :func:`feature_normalizer`
    uses them (sparse input is never densified; zero-variance columns get variance 1)."""
    if isinstance(train_ds, MultiLabelDataset):
        if train_ds.kind != "features":
            raise ValueError(f"feature_normalizer needs a features dataset, got {train_ds.kind!r}")
        require_train(train_ds, "feature_normalizer")
        x = train_ds.x
    else:
        x = train_ds
    if sp.issparse(x):
        mean, var = _sparse_moments(canonical_csr(x))
    else:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] == 0:
            raise ValueError(f"feature_normalizer needs a non-empty (n, d) matrix, got {x.shape}")
        _check_finite(x)
        mean, var = x.mean(axis=0), x.var(axis=0)
    return mean, np.where(var > 0.0, var, 1.0)


def _sparse_moments(m: sp.csr_matrix):
    n, d = m.shape
    if n == 0:
        raise ValueError("feature_normalizer needs at least one training row")
    data = m.data.astype(np.float64)
    _check_finite(data, m.indices)
    mean = np.bincount(m.indices, weights=data, minlength=d) / n
    nnz = np.bincount(m.indices, minlength=d)
    ss = np.bincount(m.indices, weights=(data - mean[m.indices]) ** 2, minlength=d)
    return mean, (ss + (n - nnz) * mean ** 2) / n


def _check_finite(values: np.ndarray, columns: np.ndarray | None = None) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        pos = np.argwhere(bad)[0]
        col = int(columns[pos[0]]) if columns is not None else int(pos[-1])
        raise DataFormatError(f"feature column {col} holds a non-finite value ({int(bad.sum())}"
                              " in all); impute or drop missing values before scaling")
