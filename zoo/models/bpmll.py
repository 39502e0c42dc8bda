"""BP-MLL: a one-hidden-layer network trained with a pairwise ranking loss, plus its learned
threshold function.

Paper: M.-L. Zhang, Z.-H. Zhou. "Multilabel Neural Networks with Applications to Functional
Genomics and Text Categorization". IEEE TKDE 18(10):1338-1351, 2006.

Defining mechanisms, as in the paper:

* **Network** (Sec. 3.1): input -> one hidden layer of tanh units -> one tanh output unit
  ``c_k(x)`` per label. The paper's hidden layer has 20% as many units as there are inputs
  (``hidden_units=None``, ``hidden_ratio=0.2`` here).
* **Loss** (Sec. 3.2, Eq. 3): per example, the mean over (relevant k, irrelevant l) pairs of
  ``exp(-(c_k - c_l))`` -- :class:`zoo.losses.BPMLLLoss` (recipe ``loss = "bpmll"``) -- with
  L2 weight decay on the weights (``l2`` below adds ``l2 * sum(W**2)`` per layer kernel to
  the batch-mean loss).
* **Threshold function** (Sec. 3.3): the outputs rank the labels; which are *predicted* is
  decided by a per-example threshold ``t(x) = w . c(x) + b``, a linear function of the output
  vector fitted by least squares on the training set after training. The target of training
  example i is the threshold minimising the number of misclassified labels,
  ``t_i = argmin_t |{k in Y_i: c_k <= t}| + |{l in Ybar_i: c_l >= t}|``
  (:func:`threshold_targets`), and a label is predicted when ``c_k(x) > t(x)``.

The saved model stays "raw features in, logits out": its last layer, :class:`ThresholdShift`,
outputs ``c(x) - t(x)`` with ``w`` and ``b`` held as non-trainable weights. They are zero while
training (output = ``c(x)``) and set by :func:`fit_threshold_function` afterwards, which
:func:`post_fit` runs inside :func:`zoo.train.fit` (after early stopping, before threshold
calibration). Then ``sigmoid(output) > 0.5`` -- the zoo rule ``GlobalThreshold(0.5)``, recipe
``[thresholds] rule = "fixed"`` -- is exactly the paper's ``c_k(x) > t(x)``.

Shifting all of an example's scores by the same ``t(x)`` leaves every difference
``c_k - c_l`` unchanged, so the BP-MLL loss (and every per-example ranking metric) of the
output is the same before and after the threshold function is installed.

Example::

    >>> import numpy as np
    >>> m = bpmll(num_features=4, num_labels=3, hidden_units=2)
    >>> [l.name for l in m.layers][-2:]
    ['scores', 'threshold']
    >>> threshold_targets(np.array([[0.8, -0.2, 0.3]]), np.array([[1, 0, 1]]))
    array([0.05])
"""
from __future__ import annotations

import keras
import numpy as np
import scipy.sparse as sp
from keras import ops

from zoo.models.mlp import feature_input
from zoo.registry import register_architecture

SCORES_LAYER = "scores"
THRESHOLD_LAYER = "threshold"


@keras.saving.register_keras_serializable(package="zoo")
class ThresholdShift(keras.layers.Layer):
    """``c - t(c)`` with the linear threshold function ``t(c) = c . w + b`` (BP-MLL Sec. 3.3).

    ``w`` (shape ``(L,)``) and ``b`` (scalar) are non-trainable weights, initialised to zero
    (the layer is then the identity) and set with :meth:`set_threshold_function`.

    Example::

        >>> layer = ThresholdShift()
        >>> _ = layer(np.zeros((1, 2), "float32"))
        >>> layer.set_threshold_function([0.5, 0.0], 0.1)
        >>> np.asarray(layer(np.array([[0.4, -0.2]], "float32")), "float64").round(3).tolist()
        [[0.1, -0.5]]
    """

    def build(self, input_shape):
        num_labels = int(input_shape[-1])
        self.w = self.add_weight(shape=(num_labels,), initializer="zeros", trainable=False,
                                 name="w")
        self.b = self.add_weight(shape=(), initializer="zeros", trainable=False, name="b")

    def call(self, scores):
        t = ops.sum(scores * ops.cast(self.w, scores.dtype), axis=-1, keepdims=True)
        return scores - (t + ops.cast(self.b, scores.dtype))

    def threshold(self, scores):
        """``t(c)`` for a batch of output vectors, shape ``(n,)`` (numpy)."""
        scores = np.asarray(scores, dtype=np.float64)
        return scores @ np.asarray(self.w.numpy(), np.float64) + float(self.b.numpy())

    def set_threshold_function(self, w, b):
        w = np.asarray(w, dtype=np.float32).reshape(-1)
        if w.shape != tuple(self.w.shape):
            raise ValueError(f"threshold weights must have shape {tuple(self.w.shape)}, got {w.shape}")
        if not (np.all(np.isfinite(w)) and np.isfinite(b)):
            raise ValueError("threshold function weights must be finite")
        self.w.assign(w)
        self.b.assign(np.float32(b))

    def compute_output_shape(self, input_shape):
        return input_shape


@register_architecture("bpmll", kind="features", paper="Zhang & Zhou, IEEE TKDE 2006",
                       head=("scores", "threshold"))
def bpmll(num_features: int, num_labels: int, hidden_units: int | None = None,
          hidden_ratio: float = 0.2, l2: float = 0.0, mean=None, variance=None,
          name: str = "bpmll"):
    """BP-MLL network: features -> Dense(tanh) -> Dense(num_labels, tanh) ``c(x)`` ->
    :class:`ThresholdShift` -> ``c(x) - t(x)`` (logits whose sign is the paper's decision).

    Args:
        hidden_units: hidden layer width; ``None`` = ``round(hidden_ratio * num_features)``
            (paper: 20% of the input dimensionality), at least 1.
        l2: L2 weight-decay coefficient on both kernels (added to the batch-mean loss).
        mean, variance: training-split feature statistics (standardization layer).

    Train it with ``loss = "bpmll"``; :func:`post_fit` then fits the threshold function.
    """
    if hidden_units is None:
        hidden_units = max(1, int(round(float(hidden_ratio) * num_features)))
    if int(hidden_units) < 1:
        raise ValueError(f"hidden_units must be >= 1, got {hidden_units}")
    if l2 < 0:
        raise ValueError(f"l2 must be >= 0, got {l2}")
    reg = keras.regularizers.L2(float(l2)) if l2 else None
    inputs, x = feature_input(num_features, mean, variance)
    h = keras.layers.Dense(int(hidden_units), activation="tanh", kernel_regularizer=reg,
                           name="hidden")(x)
    c = keras.layers.Dense(num_labels, activation="tanh", kernel_regularizer=reg,
                           name=SCORES_LAYER)(h)
    out = ThresholdShift(name=THRESHOLD_LAYER)(c)
    return keras.Model(inputs, out, name=name)


# ----------------------------------------------------------------------------- threshold function

def threshold_targets(scores, y, low: float = -1.0, high: float = 1.0) -> np.ndarray:
    """The paper's per-example target thresholds (BP-MLL Sec. 3.3), vectorized.

    ``t_i = argmin_t |{k in Y_i: c_k <= t}| + |{l in Ybar_i: c_l >= t}|``: sort the example's
    scores; a threshold strictly between the j-th and (j+1)-th smallest score misclassifies the
    relevant labels among the j lowest and the irrelevant ones among the rest. The optimum is a
    gap between consecutive scores (neighbouring gaps differ by exactly one error, so optimal
    gaps never touch); its midpoint is returned, as in the paper. The outermost gaps are
    bounded by the tanh output range ``[low, high]`` (widened to the scores if they exceed it),
    so an example with no relevant label gets the midpoint of ``(max c, high)`` and one with
    only relevant labels the midpoint of ``(low, min c)``. When several gaps are optimal the
    lowest is chosen (the paper does not say). Entries of ``y`` < 0 are unknown and ignored.

    Args:
        scores: ``(n, L)`` network outputs ``c(x_i)``.
        y: ``(n, L)`` targets: > 0.5 relevant, 0..0.5 irrelevant, < 0 unknown.

    Example (labels 0 and 2 relevant: the gap (-0.2, 0.3) separates them, midpoint 0.05)::

        >>> threshold_targets(np.array([[0.8, -0.2, 0.3]]), np.array([[1, 0, 1]]))
        array([0.05])
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(y.toarray() if sp.issparse(y) else y, dtype=np.float64)
    if s.ndim != 2 or s.shape != y.shape:
        raise ValueError(f"scores and y must be (n, L) arrays of one shape, got {s.shape} and {y.shape}")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores contain NaN or infinite values")
    n, L = s.shape
    order = np.argsort(s, axis=1, kind="stable")
    s_sorted = np.take_along_axis(s, order, axis=1)
    y_sorted = np.take_along_axis(y, order, axis=1)
    pos = (y_sorted > 0.5).astype(np.int64)
    neg = ((y_sorted >= 0) & (y_sorted <= 0.5)).astype(np.int64)
    zeros = np.zeros((n, 1), np.int64)
    # Gap j in 0..L lies above the j smallest scores: errors = relevant below + irrelevant above.
    pos_below = np.concatenate([zeros, np.cumsum(pos, axis=1)], axis=1)
    neg_above = np.concatenate([zeros, np.cumsum(neg[:, ::-1], axis=1)], axis=1)[:, ::-1]
    errors = pos_below + neg_above
    j = np.argmin(errors, axis=1)
    lo_end = np.minimum(low, s_sorted[:, :1])
    hi_end = np.maximum(high, s_sorted[:, -1:])
    edges = np.concatenate([lo_end, s_sorted, hi_end], axis=1)  # gap j = (edges[j], edges[j+1])
    rows = np.arange(n)
    return 0.5 * (edges[rows, j] + edges[rows, j + 1])


def _batched_predict(fn, x, batch_size: int = 512) -> np.ndarray:
    out = []
    for i in range(0, x.shape[0], batch_size):
        b = x[i:i + batch_size]
        b = b.toarray() if sp.issparse(b) else np.asarray(b)
        out.append(np.asarray(fn(b.astype(np.float32, copy=False)), dtype=np.float64))
    return np.concatenate(out, axis=0)


def output_scores(model, x, batch_size: int = 512) -> np.ndarray:
    """The network outputs ``c(x)`` (before the threshold shift), shape ``(n, L)``."""
    scorer = keras.Model(model.input, model.get_layer(SCORES_LAYER).output)
    return _batched_predict(lambda b: scorer(b, training=False), x, batch_size)


def fit_threshold_function(model, x_train, y_train, batch_size: int = 512,
                           rcond: float = 1e-4) -> dict:
    """Fit BP-MLL's linear threshold function on the training set and install it in ``model``.

    Computes ``c(x_i)`` for every training row, the targets :func:`threshold_targets`, and the
    least-squares solution ``[w; b] = argmin sum_i (w . c(x_i) + b - t_i)^2``, then writes ``w``, ``b`` into the model's
    :class:`ThresholdShift` layer, whose output becomes ``c(x) - t(x)``.

    Saturated tanh outputs (a rare label whose ``c_k`` is ~-1 on every row) make the columns
    of ``[c, 1]`` nearly collinear, and the exact solution then has huge weights that amplify
    tiny output changes on new data. The solve is the minimum-norm pseudo-inverse solution
    with singular values below ``rcond`` times the largest treated as zero (``rcond=None``:
    machine precision, the plain least squares).

    Returns a summary (``w`` itself lives in the model's weights): ``{"b", "w_norm", "rmse",
    "train_target_errors", "train_fitted_errors"}`` -- the last two are the mean number of
    misclassified labels per training example with the ideal targets and with the fitted
    linear threshold.

    Example::

        model = zoo.models.bpmll.bpmll(num_features=72, num_labels=6)
        model.compile(optimizer="adam", loss=zoo.losses.get("bpmll")); model.fit(x, y)
        fit_threshold_function(model, x, y)   # model(x) > 0 <=> c_k(x) > t(x)
    """
    y = np.asarray(y_train.toarray() if sp.issparse(y_train) else y_train, dtype=np.float64)
    c = output_scores(model, x_train, batch_size)
    if c.shape != y.shape:
        raise ValueError(f"the model outputs {c.shape} scores but y_train has shape {y.shape}")
    t = threshold_targets(c, y)
    design = np.concatenate([c, np.ones((c.shape[0], 1))], axis=1)
    coef, *_ = np.linalg.lstsq(design, t, rcond=rcond)
    w, b = coef[:-1], float(coef[-1])
    model.get_layer(THRESHOLD_LAYER).set_threshold_function(w, b)
    fitted = design @ coef
    pos, neg = y > 0.5, (y >= 0) & (y <= 0.5)

    def mistakes(thr):
        wrong = (pos & (c <= thr[:, None])) | (neg & (c >= thr[:, None]))
        return float(wrong.sum(axis=1).mean())

    return {"b": b, "w_norm": float(np.linalg.norm(w)),
            "rmse": float(np.sqrt(np.mean((fitted - t) ** 2))),
            "train_target_errors": mistakes(t), "train_fitted_errors": mistakes(fitted)}


def post_fit(model, train, valid=None) -> dict:
    """Hook run by :func:`zoo.train.fit` after training: fit the threshold function on the
    training split (never on ``valid``). Returns the summary for the training record."""
    return {"threshold_function": fit_threshold_function(model, train.x, train.labels_dense())}
