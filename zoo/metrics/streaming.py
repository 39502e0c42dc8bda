"""Streaming Keras metrics: the batch-decomposable metrics of :mod:`zoo.metrics.exact`.

Each metric accumulates exactly what its exact definition sums -- per-label TP/FP/FN for the
micro/macro scores, mismatch and known-entry counts for the Hamming loss, per-row values and
row counts for example-based and ranking metrics -- so after any number of batches ``result()``
equals :func:`zoo.metrics.evaluate` on the concatenated arrays (up to float32 rounding). The
per-row and per-label formulas are the shared ones in :mod:`zoo.metrics._formulas`.

Inputs: ``y_true`` (batch, L) of {1, 0, -1} (-1 = unknown, masked everywhere) and ``y_pred``
= model logits (``from_logits=True``, the default) or probabilities. Decisions are
``sigmoid(logit) > threshold`` (computed as ``logit > log(t / (1 - t))``), never top-1.
Ranking metrics rank the logits (the same order as the probabilities).
"""
from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from zoo.metrics import _formulas as F

KO = F.KO


def _logit(t: float) -> float:
    if t <= 0.0:
        return -math.inf
    if t >= 1.0:
        return math.inf
    return math.log(t) - math.log1p(-t)


class _ZooMetric(keras.metrics.Metric):
    """Shared input handling: masking, thresholding, per-row ranks."""

    def __init__(self, threshold=0.5, from_logits: bool = True, name=None, dtype="float32"):
        super().__init__(name=name, dtype=dtype)
        if isinstance(threshold, (list, tuple, np.ndarray)):
            threshold = [float(t) for t in np.asarray(threshold, dtype=np.float64).ravel()]
        else:
            threshold = float(threshold)
        self.threshold = threshold
        self.from_logits = bool(from_logits)

    def _cut(self):
        t = self.threshold
        if self.from_logits:
            t = [_logit(v) for v in t] if isinstance(t, list) else _logit(t)
        return ops.convert_to_tensor(np.asarray(t, dtype=np.float32))

    def _prepare(self, y_true, y_pred, sample_weight):
        if sample_weight is not None:
            raise ValueError(f"{type(self).__name__} is unweighted (its exact twin in "
                             "zoo.metrics.evaluate has no weights); pass it in compile(metrics="
                             "...), not weighted_metrics=")
        y_true = ops.cast(y_true, "float32")
        y_pred = ops.cast(y_pred, "float32")
        if tuple(y_true.shape) != tuple(y_pred.shape) and None not in y_true.shape:
            raise ValueError(f"y_true has shape {tuple(y_true.shape)} but y_pred has shape "
                             f"{tuple(y_pred.shape)}")
        known = ops.not_equal(y_true, -1.0)
        rel = ops.cast(ops.equal(y_true, 1.0), "float32")
        return y_true, y_pred, known, rel

    def _decide(self, y_pred, known):
        pred = ops.greater(y_pred, self._cut())
        return ops.cast(ops.logical_and(pred, known), "float32")

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold,
                "from_logits": self.from_logits}


# ------------------------------------------------------------------------------ label counts
class _LabelCounts(_ZooMetric):
    """Accumulates per-label TP, FP, FN over known entries (variables built on first batch)."""

    _fn = None
    _average = "micro"

    def __init__(self, threshold=0.5, from_logits=True, num_labels=None, name=None,
                 dtype="float32"):
        super().__init__(threshold, from_logits, name=name, dtype=dtype)
        self.num_labels = num_labels
        self._built_counts = False
        if num_labels is not None:
            self._build_counts(int(num_labels))

    def _build_counts(self, L):
        for v in ("tp", "fp", "fn"):
            setattr(self, v, self.add_variable(shape=(L,), initializer="zeros", name=v,
                                               dtype=self.dtype))
        self.num_labels = L
        self._built_counts = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred, known, rel = self._prepare(y_true, y_pred, sample_weight)
        if not self._built_counts:
            self._build_counts(int(y_pred.shape[-1]))
        pred = self._decide(y_pred, known)
        neg = ops.cast(ops.equal(y_true, 0.0), "float32")
        self.tp.assign_add(ops.sum(rel * pred, axis=0))
        self.fp.assign_add(ops.sum(neg * pred, axis=0))
        self.fn.assign_add(ops.sum(rel * (1.0 - pred), axis=0))

    def result(self):
        if not self._built_counts:
            return ops.convert_to_tensor(0.0, dtype=self.dtype)
        fn = type(self)._fn
        tp, fp, fn_ = (v.value for v in (self.tp, self.fp, self.fn))
        if self._average == "micro":
            return fn(KO, ops.sum(tp), ops.sum(fp), ops.sum(fn_))
        return ops.mean(fn(KO, tp, fp, fn_))

    def get_config(self):
        return {**super().get_config(), "num_labels": self.num_labels}


def _counts_metric(cls_name, fn, average, default_name, doc):
    cls = type(cls_name, (_LabelCounts,), {
        "_fn": staticmethod(fn), "_average": average, "__doc__": doc,
        "__init__": lambda self, threshold=0.5, from_logits=True, num_labels=None,
        name=default_name, dtype="float32": _LabelCounts.__init__(
            self, threshold, from_logits, num_labels, name, dtype),
        "__module__": __name__})
    return keras.saving.register_keras_serializable(package="zoo")(cls)


MicroPrecision = _counts_metric("MicroPrecision", F.precision, "micro", "micro_precision",
                                "Streaming :func:`zoo.metrics.micro_precision`.")
MicroRecall = _counts_metric("MicroRecall", F.recall, "micro", "micro_recall",
                             "Streaming :func:`zoo.metrics.micro_recall`.")
MicroF1 = _counts_metric("MicroF1", F.f1, "micro", "micro_f1",
                         """Streaming micro-F1 = 2 sum TP / (2 sum TP + sum FP + sum FN).

    >>> m = MicroF1(threshold=0.5, from_logits=False)
    >>> m.update_state([[1, 0, -1]], [[0.7, 0.6, 0.9]]); float(m.result())
    0.6666666865348816
    """)
MacroPrecision = _counts_metric("MacroPrecision", F.precision, "macro", "macro_precision",
                                "Streaming :func:`zoo.metrics.macro_precision`.")
MacroRecall = _counts_metric("MacroRecall", F.recall, "macro", "macro_recall",
                             "Streaming :func:`zoo.metrics.macro_recall`.")
MacroF1 = _counts_metric("MacroF1", F.f1, "macro", "macro_f1",
                         "Streaming :func:`zoo.metrics.macro_f1` (all labels, 0/0 = 0).")


# ------------------------------------------------------------------------------ Hamming
@keras.saving.register_keras_serializable(package="zoo")
class HammingLoss(_ZooMetric):
    """Streaming :func:`zoo.metrics.hamming_loss`: wrong known entries / known entries."""

    def __init__(self, threshold=0.5, from_logits=True, name="hamming_loss", dtype="float32"):
        super().__init__(threshold, from_logits, name=name, dtype=dtype)
        self.wrong = self.add_variable(shape=(), initializer="zeros", name="wrong")
        self.known = self.add_variable(shape=(), initializer="zeros", name="known")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred, known, rel = self._prepare(y_true, y_pred, sample_weight)
        pred = self._decide(y_pred, known)
        kn = ops.cast(known, "float32")
        self.wrong.assign_add(ops.sum(ops.abs(pred - rel) * kn))
        self.known.assign_add(ops.sum(kn))

    def result(self):
        return F.safe_div(KO, self.wrong.value, self.known.value)


# ------------------------------------------------------------------------------ per-row means
class _RowMean(_ZooMetric):
    """Mean of a per-row value over rows with at least one known label."""

    def __init__(self, threshold=0.5, from_logits=True, name=None, dtype="float32"):
        super().__init__(threshold, from_logits, name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def _rows(self, y_true, y_pred, known, rel):  # -> (batch,) values
        raise NotImplementedError

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred, known, rel = self._prepare(y_true, y_pred, sample_weight)
        valid = ops.cast(ops.any(known, axis=-1), "float32")
        values = self._rows(y_true, y_pred, known, rel)
        self.total.assign_add(ops.sum(values * valid))
        self.count.assign_add(ops.sum(valid))

    def result(self):
        return F.safe_div(KO, self.total.value, self.count.value)


class _ExampleRows(_RowMean):
    _key = None

    def _rows(self, y_true, y_pred, known, rel):
        pred = self._decide(y_pred, known)
        tp = ops.sum(rel * pred, axis=-1)
        n_true = ops.sum(rel, axis=-1)
        n_pred = ops.sum(pred, axis=-1)
        n_wrong = ops.sum(ops.abs(pred - rel), axis=-1)
        return F.example_rows(KO, tp, n_true, n_pred, n_wrong)[self._key]


def _example_metric(cls_name, key, doc):
    cls = type(cls_name, (_ExampleRows,), {
        "_key": key, "__doc__": doc, "__module__": __name__,
        "__init__": lambda self, threshold=0.5, from_logits=True, name=key, dtype="float32":
        _ExampleRows.__init__(self, threshold, from_logits, name, dtype)})
    return keras.saving.register_keras_serializable(package="zoo")(cls)


SubsetAccuracy = _example_metric("SubsetAccuracy", "subset_accuracy",
                                 "Streaming :func:`zoo.metrics.subset_accuracy`.")
ExampleF1 = _example_metric("ExampleF1", "example_f1",
                            "Streaming :func:`zoo.metrics.example_f1`.")
Jaccard = _example_metric("Jaccard", "jaccard", "Streaming :func:`zoo.metrics.jaccard`.")


def row_ranks(y_pred, known, rel):
    """Tie-group statistics of each row sorted by descending score, with keras.ops.

    Unknown entries get score -inf (sorted last, a group of their own). ``lo`` (first position
    of an entry's tie group) comes from a sort of the group start positions, since keras.ops has
    no cumulative max. Returns float32 (rel, pos, lo, hi, crel_lo, crel_hi) in sorted order.
    """
    L = int(y_pred.shape[-1])
    s = ops.where(known, y_pred, -math.inf)
    order = ops.argsort(-s, axis=-1)
    v = ops.take_along_axis(s, order, axis=-1)
    r = ops.take_along_axis(rel, order, axis=-1)
    first = ops.ones_like(v[..., :1], dtype="bool")
    start = ops.concatenate([first, ops.not_equal(v[..., 1:], v[..., :-1])], axis=-1)
    pos = ops.broadcast_to(ops.arange(L, dtype="int32"), ops.shape(v))
    group = ops.cumsum(ops.cast(start, "int32"), axis=-1) - 1
    starts = ops.sort(ops.where(start, pos, pos + L), axis=-1)
    starts = ops.concatenate([starts, ops.full_like(starts[..., :1], L)], axis=-1)
    lo = ops.take_along_axis(starts, group, axis=-1)
    hi = ops.minimum(ops.take_along_axis(starts, group + 1, axis=-1), L)
    crel = ops.concatenate([ops.zeros_like(r[..., :1]), ops.cumsum(r, axis=-1)], axis=-1)
    crel_lo = ops.take_along_axis(crel, lo, axis=-1)
    crel_hi = ops.take_along_axis(crel, hi, axis=-1)
    f = "float32"
    return (r, ops.cast(pos, f), ops.cast(lo, f), ops.cast(hi, f), crel_lo, crel_hi)


class _RankingRows(_RowMean):
    _key = None

    def _rows(self, y_true, y_pred, known, rel):
        r, pos, lo, hi, clo, chi = row_ranks(y_pred, known, rel)
        n_rel = ops.sum(r, axis=-1)
        n_known = ops.sum(ops.cast(known, "float32"), axis=-1)
        p1 = F.precision_at_k(KO, pos[..., :1], lo[..., :1], hi[..., :1], clo[..., :1],
                              chi[..., :1], 1)
        return F.ranking_rows(KO, r, hi, chi, n_rel, n_known, p1)[self._key]


def _ranking_metric(cls_name, key, doc):
    cls = type(cls_name, (_RankingRows,), {
        "_key": key, "__doc__": doc, "__module__": __name__,
        "__init__": lambda self, from_logits=True, name=key, dtype="float32":
        _RankingRows.__init__(self, 0.5, from_logits, name, dtype),
        "get_config": lambda self: {"from_logits": self.from_logits, "name": self.name,
                                    "dtype": self.dtype}})
    return keras.saving.register_keras_serializable(package="zoo")(cls)


LRAP = _ranking_metric("LRAP", "lrap", "Streaming :func:`zoo.metrics.lrap`.")
RankingLoss = _ranking_metric("RankingLoss", "ranking_loss",
                              "Streaming :func:`zoo.metrics.ranking_loss`.")
Coverage = _ranking_metric("Coverage", "coverage", "Streaming :func:`zoo.metrics.coverage`.")
OneError = _ranking_metric("OneError", "one_error", "Streaming :func:`zoo.metrics.one_error`.")


class _AtK(_RowMean):
    def __init__(self, k=1, from_logits=True, name=None, dtype="float32"):
        self.k = int(k)
        if self.k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        super().__init__(0.5, from_logits, name=name or f"{self._prefix}_at_{self.k}",
                         dtype=dtype)

    def get_config(self):
        return {"k": self.k, "from_logits": self.from_logits, "name": self.name,
                "dtype": self.dtype}


@keras.saving.register_keras_serializable(package="zoo")
class PrecisionAtK(_AtK):
    """Streaming :func:`zoo.metrics.precision_at_k` (tie-averaged at the cut)."""

    _prefix = "precision"

    def _rows(self, y_true, y_pred, known, rel):
        k = self.k
        if k > int(y_pred.shape[-1]):  # fewer labels than k: the general tie-group path
            _, pos, lo, hi, clo, chi = row_ranks(y_pred, known, rel)
            return F.precision_at_k(KO, pos[..., :k], lo[..., :k], hi[..., :k],
                                    clo[..., :k], chi[..., :k], k)
        # O(L) per row plus a top-k, instead of sorting every row (which made the training
        # metrics grow as L log L, docs/benchmarks.md "Cost growth"): with v the k-th best
        # score, the `above` entries scoring more than v are all in the top k and the `tied`
        # ones scoring exactly v share its k - above remaining places, each with the same
        # chance (the tie-averaged P@k of zoo.metrics.precision_at_k). Unknown entries
        # score -inf, so they fill places only when a row has fewer than k known labels.
        s = ops.where(known, y_pred, -math.inf)
        v = ops.top_k(s, k, sorted=True)[0][..., k - 1:k]
        above = ops.cast(ops.greater(s, v), "float32")
        tied = ops.cast(ops.equal(s, v), "float32")
        n_above = ops.sum(above, axis=-1)
        n_tied = ops.maximum(ops.sum(tied, axis=-1), 1.0)
        rel_above = ops.sum(rel * above, axis=-1)
        rel_tied = ops.sum(rel * tied, axis=-1)
        return (rel_above + (float(k) - n_above) * rel_tied / n_tied) / float(k)


@keras.saving.register_keras_serializable(package="zoo")
class NDCGAtK(_AtK):
    """Streaming :func:`zoo.metrics.ndcg_at_k` (XMC definition)."""

    _prefix = "ndcg"

    def _rows(self, y_true, y_pred, known, rel):
        r, pos, lo, hi, clo, chi = row_ranks(y_pred, known, rel)
        k = self.k
        return F.ndcg_at_k(KO, pos[..., :k], lo[..., :k], hi[..., :k], clo[..., :k],
                           chi[..., :k], ops.sum(r, axis=-1), k)


def default_training_metrics(threshold=0.5, from_logits: bool = True) -> list:
    """The metrics ``zoo.train`` logs per epoch: micro/macro F1, Hamming loss, P@1.

    Decisions cut the probabilities at ``threshold`` (scalar or per label), never top-1.
    """
    return [MicroF1(threshold, from_logits), MacroF1(threshold, from_logits),
            HammingLoss(threshold, from_logits), PrecisionAtK(1, from_logits)]
