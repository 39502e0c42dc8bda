"""The object ``zoo.load`` returns: a Keras model plus its labels, thresholds and card."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


class MultiLabelModel:
    """A trained multi-label classifier.

    Attributes:
        keras_model: the Keras model (raw inputs in, logits out; preprocessing is inside).
        label_names: label names in output order.
        thresholds: the decision rule (a ``zoo.thresholds`` rule) calibrated on validation.
        card: the checkpoint's ``zoo.json`` as a dict.
        path: the checkpoint folder it was loaded from (``None`` if built in memory).

    Example::

        >>> import zoo
        >>> model = zoo.load("yeast/mlp")
        >>> model.predict_labels(x[:2])
        [['Class3', 'Class4', 'Class12', 'Class13'], ['Class1', 'Class2', 'Class12', 'Class13']]
    """

    def __init__(self, keras_model, label_names, thresholds=None, card: dict | None = None,
                 path: Path | None = None):
        from zoo import thresholds as th
        self.keras_model = keras_model
        self.label_names = list(label_names)
        if thresholds is None:
            thresholds = th.GlobalThreshold(0.5)
        elif isinstance(thresholds, dict):
            thresholds = th.from_dict(thresholds)
        self.thresholds = thresholds
        self.card = dict(card or {})
        self.path = path
        self._fn = None

    # ------------------------------------------------------------------ construction
    @property
    def name(self) -> str | None:
        return self.card.get("name")

    @property
    def kind(self) -> str:
        return self.card.get("kind", "features")

    def __repr__(self):
        return (f"MultiLabelModel(name={self.name!r}, architecture={self.card.get('architecture')!r},"
                f" labels={len(self.label_names)}, thresholds={self.thresholds!r})")

    # ------------------------------------------------------------------ inference
    def _compiled(self):
        """A compiled forward pass returning probabilities (no ``model.predict`` overhead)."""
        if self._fn is None:
            import keras
            model = self.keras_model
            backend = keras.backend.backend()
            if backend != "tensorflow" and not self.input_kind.numeric:
                from zoo.errors import ZooError
                raise ZooError(f"{self.name or 'this model'} reads raw {self.kind} with a "
                               "TensorFlow string tokenizer inside the model, which the "
                               f"{backend!r} Keras backend cannot run: use "
                               "KERAS_BACKEND=tensorflow for text models")
            if backend == "tensorflow":
                import tensorflow as tf

                @tf.function(reduce_retracing=True)
                def fn(x):
                    return tf.sigmoid(tf.cast(model(x, training=False), tf.float32))
            elif backend == "jax":
                import jax

                @jax.jit
                def _fn(tv, ntv, x):
                    logits, _ = model.stateless_call(tv, ntv, x, training=False)
                    return jax.nn.sigmoid(logits.astype("float32"))

                def fn(x):
                    return _fn([v.value for v in model.trainable_variables],
                               [v.value for v in model.non_trainable_variables], x)
            else:
                def fn(x):
                    return keras.ops.sigmoid(model.predict_on_batch(x))
            self._fn = fn
        return self._fn

    @property
    def input_kind(self):
        """The :class:`zoo.kinds.InputKind` this model reads."""
        from zoo import kinds
        return kinds.of_card(self.card)

    def _batches(self, x, batch_size: int):
        """Validated, adapted batches (checked before anything reaches the compiled call, so
        a bad input never changes the traced function)."""
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        return self.input_kind.batches(x, self.card.get("input") or {}, int(batch_size))

    def predict_proba(self, x, batch_size: int = 1024) -> np.ndarray:
        """Label probabilities, shape (n, num_labels), for raw inputs.

        ``x``: feature rows (``np.ndarray`` or ``scipy.sparse``, shape (n, d)), a list of
        strings for text models, an image array (n, h, w, c) or image paths for image models.
        """
        fn = self._compiled()
        out = [np.asarray(fn(b)) for b in self._batches(x, batch_size)]
        if not out:
            return np.zeros((0, len(self.label_names)), dtype=np.float32)
        return np.concatenate(out, axis=0)

    def predict(self, x, threshold=None, batch_size: int = 1024) -> np.ndarray:
        """Binary label matrix (n, num_labels) under the model's decision rule.

        ``threshold``: ``None`` (the calibrated rule), a float, a per-label array, or any
        ``zoo.thresholds`` rule.
        """
        return self._rule(threshold).apply(self.predict_proba(x, batch_size)).astype(np.int8)

    def predict_labels(self, x, threshold=None, batch_size: int = 1024,
                       return_scores: bool = False) -> list:
        """Label sets per input: ``[["gratitude", "joy"], ...]``.

        With ``return_scores=True`` each set is a list of ``(label, probability)`` sorted by
        probability.
        """
        proba = self.predict_proba(x, batch_size)
        pred = self._rule(threshold).apply(proba).astype(bool)
        names = np.asarray(self.label_names, dtype=object)
        out = []
        for p, row in zip(proba, pred):
            idx = np.flatnonzero(row)
            idx = idx[np.argsort(-p[idx], kind="stable")]
            out.append([(names[i], float(p[i])) for i in idx] if return_scores
                       else [names[i] for i in idx])
        return out

    def _rule(self, threshold):
        """The decision rule of a ``threshold`` spec (:func:`zoo.thresholds.parse`: the one
        parser; ``None`` is the calibrated rule, ``1.5`` or ``"top_k"`` are refused)."""
        from zoo import thresholds as th
        return th.parse(threshold, len(self.label_names), self.label_names,
                        default=self.thresholds)

    def evaluate(self, x, y, threshold=None, batch_size: int = 1024) -> dict[str, Any]:
        """``zoo.metrics.evaluate`` of this model's scores and decisions on (x, y)."""
        from zoo import metrics
        proba = self.predict_proba(x, batch_size)
        return metrics.evaluate(y, proba, y_pred=self._rule(threshold).apply(proba))
