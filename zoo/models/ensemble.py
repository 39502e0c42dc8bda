"""The ensemble's Keras side: :class:`ProbabilityMean` and :func:`combine` (one model that
feeds its input to every member and averages their probabilities).

Paper: Caruana, Niculescu-Mizil, Crew, Ksikes. "Ensemble selection from libraries of models".
ICML 2004 (the greedy weights :mod:`zoo.ensemble` chooses on the validation split).

Defining mechanism: the output is ``logit(sum_i w_i sigmoid(z_i))``, the weighted mixture of
the members' probabilities (why probabilities and not logits: :mod:`zoo.ensemble`). Building
ensembles from recipes, the members' checks and the weights live in :mod:`zoo.ensemble`.
"""
from __future__ import annotations

import keras
from keras import ops

from zoo.errors import ZooError

EPS = 1e-7


@keras.saving.register_keras_serializable(package="zoo")
class ProbabilityMean(keras.layers.Layer):
    """Weighted mean of the members' probabilities, returned as a logit.

    ``call([z_1, ..., z_M])`` with logits ``z_i`` of shape (batch, labels) returns
    ``logit(sum_i w_i * sigmoid(z_i))``, the mean clipped to ``[eps, 1 - eps]`` so the logit
    is finite. Weights are normalized to sum 1.

    Example::

        >>> layer = ProbabilityMean([3, 1])
        >>> z = layer([ops.zeros((1, 2)), ops.full((1, 2), 100.0)])
        >>> ops.sigmoid(z)   # 0.75 * 0.5 + 0.25 * 1.0 = 0.625
    """

    def __init__(self, member_weights, eps: float = EPS, **kwargs):
        super().__init__(**kwargs)
        w = [float(v) for v in member_weights]
        if not w or any(v < 0 for v in w) or sum(w) <= 0:
            raise ValueError(f"member_weights must be non-negative with a positive sum, got {w}")
        self.member_weights = [v / sum(w) for v in w]
        self.eps = float(eps)

    def call(self, inputs):
        if len(inputs) != len(self.member_weights):
            raise ValueError(f"ProbabilityMean got {len(inputs)} inputs for "
                             f"{len(self.member_weights)} weights")
        p = None
        for w, z in zip(self.member_weights, inputs):
            term = w * ops.sigmoid(ops.cast(z, "float32"))
            p = term if p is None else p + term
        p = ops.clip(p, self.eps, 1.0 - self.eps)
        return ops.log(p) - ops.log1p(-p)

    def compute_output_shape(self, input_shapes):
        return tuple(input_shapes[0])

    def get_config(self):
        return {**super().get_config(), "member_weights": list(self.member_weights),
                "eps": self.eps}



def combine(members, weights, name: str = "ensemble"):
    """One Keras model: the raw input goes to every member, :class:`ProbabilityMean` combines.

    ``members``: Keras models (logits out) reading the same input; they are copied (from
    their config, with their weights) under the names ``member_0``, ``member_1``, ... so the
    originals are untouched. ``weights``: one non-negative number per member.

    Example::

        >>> model = combine([mlp_a, mlp_b], [0.5, 0.5])                  # doctest: +SKIP
        >>> model(x)   # logit of the mean of the two members' probabilities
    """
    if len(members) != len(weights) or not members:
        raise ZooError(f"combine needs one weight per member, got {len(members)} members and "
                       f"{len(weights)} weights")
    first = members[0]
    spec = first.inputs[0] if getattr(first, "inputs", None) else None
    if spec is None:
        raise ZooError("the first member has no symbolic input (a subclassed model that was "
                       "never called); call it once on data before combining")
    inp = keras.Input(shape=tuple(spec.shape[1:]), dtype=spec.dtype, name="inputs")
    outs = []
    for i, m in enumerate(members):
        outs.append(_renamed_copy(m, f"member_{i}")(inp))
    out = ProbabilityMean(list(weights), name="ensemble_mean")(outs)
    return keras.Model(inp, out, name=name)


def _renamed_copy(model, name: str):
    """A copy of ``model`` named ``name`` (same class, config and weights)."""
    cfg = keras.saving.serialize_keras_object(model)
    cfg["config"] = dict(cfg["config"], name=name)
    clone = keras.saving.deserialize_keras_object(cfg)
    if not clone.built and getattr(model, "inputs", None):
        spec = model.inputs[0]
        clone(keras.Input(shape=tuple(spec.shape[1:]), dtype=spec.dtype))
    clone.set_weights(model.get_weights())
    return clone


