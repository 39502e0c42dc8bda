"""Post-hoc logit adjustment for long-tailed label sets.

Paper: A. K. Menon, S. Jayasumana, A. S. Rawat, H. Jain, A. Veit, S. Kumar. "Long-tail
learning via logit adjustment". ICLR 2021.

Defining mechanism: a classifier trained on skewed labels ranks frequent labels too high; its
logits are shifted by ``-tau * log-prior`` so that rare labels compete on equal terms (the
"balanced" posterior). For sigmoid (one-vs-rest) outputs the per-label offset is
``-tau * log(pi / (1 - pi))`` with ``pi`` the label's training frequency. ``tau`` is chosen on
the validation split (:func:`zoo.train.fit` with ``logit_adjustment``); the layer is appended
to the trained model as ``logit_adjustment`` and belongs to its head (it depends on the labels).
Per-label ranking metrics (each label's AP and AUC) are unchanged by it; what moves is the
ranking of labels within an example (top-k annotation, precision@k) and thresholded metrics,
whose thresholds are calibrated after the adjustment.
"""
from __future__ import annotations

import keras
import numpy as np


@keras.saving.register_keras_serializable(package="zoo")
class LogitAdjustment(keras.layers.Layer):
    """Adds a fixed per-label offset to the logits: ``logits + offsets``.

    Example::

        >>> layer = LogitAdjustment([0.5, -1.0])
        >>> layer(np.zeros((1, 2), "float32")).numpy().tolist()
        [[0.5, -1.0]]
    """

    def __init__(self, offsets, **kwargs):
        super().__init__(**kwargs)
        self.offsets = [float(v) for v in np.asarray(offsets, dtype=np.float64).reshape(-1)]
        self._offsets = keras.ops.convert_to_tensor(np.asarray(self.offsets, dtype="float32"))

    def call(self, logits):
        return logits + keras.ops.cast(self._offsets, logits.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "offsets": list(self.offsets)}


def label_log_odds(y, eps_count: float = 1.0) -> np.ndarray:
    """Per-label ``log(pi / (1 - pi))`` of a 0/1/-1 label matrix (unknown ``-1`` ignored),
    with ``pi`` smoothed as ``(positives + eps) / (known + 2 eps)`` so no label is 0 or 1."""
    y = np.asarray(y)
    known = (y >= 0).sum(axis=0)
    pos = (y == 1).sum(axis=0)
    pi = (pos + eps_count) / (known + 2 * eps_count)
    return np.log(pi / (1 - pi))


def adjust(model, offsets, name: str = "logit_adjustment"):
    """``model`` with :class:`LogitAdjustment` appended to its logits (a new functional model
    sharing every layer of ``model``)."""
    out = LogitAdjustment(offsets, name=name)(model.outputs[0])
    return keras.Model(model.inputs, out, name=model.name)
