"""Multi-label metrics: one definition each, with an exact numpy face and a streaming Keras face.

Exact (numpy, float64, matches scikit-learn where it has the metric)::

    >>> import numpy as np, zoo.metrics as zm
    >>> y = np.array([[1, 0, 1], [0, 1, 0]]); s = np.array([[.9, .2, .6], [.3, .4, .1]])
    >>> zm.evaluate(y, s)["micro_f1"], zm.coverage(y, s)
    (0.8, 1.5)

Streaming (``keras.metrics.Metric`` subclasses for ``model.compile(metrics=...)``, taking logits
by default)::

    model.compile(loss=..., metrics=zm.default_training_metrics(threshold=0.5))

The shared formulas live in :mod:`zoo.metrics._formulas`; conventions (ties, empty rows, unknown
``-1`` labels) are documented in ``docs/metrics.md``.
"""
from zoo.metrics.exact import (  # noqa: F401
    ANNOTATION_KEYS, DEFAULT_GROUPS, annotation_metrics, top_k_decisions,
    average_precision_per_label, check_targets, coverage, evaluate, example_f1,
    example_precision, example_recall, hamming_loss, jaccard, jain_propensities, lrap,
    macro_auc, macro_f1, macro_precision, macro_recall, mean_average_precision, micro_auc,
    micro_f1, micro_precision, micro_recall, ndcg_at_k, one_error, per_label_report,
    precision_at_k, propensity_scored_precision_at_k, ranking_loss, subset_accuracy,
)
from zoo.metrics.streaming import (  # noqa: F401
    LRAP, NDCGAtK, Coverage, ExampleF1, HammingLoss, Jaccard, MacroF1, MacroPrecision,
    MacroRecall, MicroF1, MicroPrecision, MicroRecall, OneError, PrecisionAtK, RankingLoss,
    SubsetAccuracy, default_training_metrics,
)

__all__ = [k for k in dir() if not k.startswith("_") and k not in ("exact", "streaming")]
