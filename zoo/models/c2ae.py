"""C2AE: Canonical-Correlated AutoEncoder, a deep latent space shared by features and labels.

Paper: C.-K. Yeh, W.-C. Wu, W.-J. Ko, Y.-C. F. Wang. "Learning Deep Latent Spaces for
Multi-Label Classification". AAAI 2017 (arXiv:1707.00418). Authors' code:
github.com/chihkuanyeh/C2AE (MATLAB; ``DCCA_grad.m``, ``CORR_error.m``, ``BR_error.m``).

Defining mechanism: three networks, a feature embedding ``Fx``, a label encoder ``Fe`` and a
label decoder ``Fd``, trained jointly with::

    min  Phi(Fx, Fe) + alpha * Gamma(Fe, Fd)

* ``Phi`` -- the canonical-correlation-style *embedding* loss: ``||Fx(X) - Fe(Y)||_F^2``
  subject to ``Fx(X) Fx(X)^T = Fe(Y) Fe(Y)^T = I`` (decorrelated, unit-scale latent codes,
  which rules out the trivial all-zero embedding). As in the authors' ``CORR_error.m`` the
  constraint enters as a quadratic penalty with weight ``lambda = 0.5``; we normalise by the
  batch size ``B`` so the objective does not depend on it::

      Phi = (1/B) ||Zx - Ze||_F^2 + lambda (||Zx^T Zx / B - I||_F^2 + ||Ze^T Ze / B - I||_F^2)

  with ``Zx = Fx(x)``, ``Ze = Fe(y)`` of shape (B, latent_dim) (the authors' unnormalised
  batch sums are the same objective for codes scaled by ``1/sqrt(B)``).
* ``Gamma`` -- the label-correlation-aware *output* loss on the autoencoder's reconstruction
  ``Fd(Fe(y))``: for each example, the BP-MLL pairwise exponential loss
  ``1/(|Y||Ybar|) sum_{k in Y, l in Ybar} exp(-(c_k - c_l))`` over its (positive, negative)
  label pairs (:class:`zoo.losses.BPMLLLoss`), averaged over the batch.

``Gamma`` never reaches ``Fx`` (the authors' code propagates the output loss to ``Fe`` and
``Fd`` only); ``Fx`` learns solely to land on the label codes. Prediction is
``y_hat = Fd(Fx(x))``: ``Fe`` is a training-only branch. It lives on the model (its layers are
attributes, so its weights are saved with the checkpoint) and is used only by
:meth:`C2AE.compute_loss`; the inference graph (``call``) is features -> ``Fx`` -> ``Fd``.

Defaults (the authors' released code, ``demo.m`` / ``DCCAtrain_SGD.m``): ``Fx`` = two
fully-connected layers of 512 leaky-ReLU units then a linear map to the latent space, ``Fe`` =
one 512-unit leaky-ReLU layer then the latent map, ``Fd`` = one 512-unit leaky-ReLU layer then
``num_labels`` outputs; latent size ``round(0.8 * num_labels)`` (their ``reduction_rate``);
constraint weight ``lambda = 0.5``. Deviations, stated: the authors squash the latent codes
with ``sigmoid - 0.5`` and the decoder outputs with a sigmoid (their output loss is
``exp(-5 (p_k - p_l))`` on probabilities); here the codes are linear (a bounded code cannot
meet the batch-normalised identity constraint) and ``Fd``'s outputs are unbounded scores used
as logits. ``alpha``: the demo uses 2 as a *divisor* of a batch-summed output loss (batch 500),
i.e. a large weight in our per-example-mean normalisation; our default ``alpha = 10`` and the
recipes tune it on the validation split. The paper predicts by thresholding ``Fd(Fx(x))`` at
0.5 on sigmoid outputs; the zoo instead calibrates decision thresholds on the validation split
(``zoo.train.fit``).

Example::

    >>> import numpy as np, keras
    >>> model = C2AE(num_features=72, num_labels=6)
    >>> model.latent_dim
    5
    >>> model.compile(optimizer="adam")           # the loss is C2AE's own (compute_loss)
    >>> x = np.random.rand(32, 72).astype("float32")
    >>> y = (np.random.rand(32, 6) > 0.7).astype("float32")
    >>> _ = model.fit(x, y, epochs=1, verbose=0)
    >>> model.predict(x, verbose=0).shape         # Fd(Fx(x)): logits
    (32, 6)
"""
from __future__ import annotations

import keras
import numpy as np
from keras import ops

from zoo.models.mlp import feature_input
from zoo.registry import register_architecture

PAPER = "Yeh et al., AAAI 2017"

__all__ = ["C2AE", "c2ae", "embedding_loss", "output_loss"]


def embedding_loss(zx, ze, constraint_weight: float = 0.5):
    """C2AE's ``Phi``: latent distance plus the orthonormality penalty (see module docstring).

    ``zx``, ``ze``: (B, k) codes of the same examples. Returns a scalar::

        (1/B) ||zx - ze||_F^2 + w (||zx^T zx / B - I||_F^2 + ||ze^T ze / B - I||_F^2)

    >>> import numpy as np
    >>> z = np.array([[2.0, 0.0], [0.0, 2.0], [0.0, 0.0], [0.0, 0.0]], "float32")  # z^T z / 4 = I
    >>> float(embedding_loss(z, z))
    0.0
    >>> float(embedding_loss(z, -z))              # opposite codes: ||2z||^2 / 4 = 32 / 4
    8.0
    """
    zx = ops.convert_to_tensor(zx)
    ze = ops.cast(ops.convert_to_tensor(ze), zx.dtype)
    b = ops.cast(ops.shape(zx)[0], zx.dtype)
    k = zx.shape[-1] if zx.shape[-1] is not None else ops.shape(zx)[-1]
    eye = ops.eye(k, dtype=zx.dtype)
    distance = ops.sum(ops.square(zx - ze)) / b
    gram_x = ops.matmul(ops.transpose(zx), zx) / b - eye
    gram_e = ops.matmul(ops.transpose(ze), ze) / b - eye
    constraint = ops.sum(ops.square(gram_x)) + ops.sum(ops.square(gram_e))
    return distance + constraint_weight * constraint


_BPMLL = None


def output_loss(y_true, scores, sample_weight=None):
    """C2AE's ``Gamma``: the batch mean of the per-example BP-MLL pairwise exponential loss
    ``1/(|Y||Ybar|) sum_{k in Y, l in Ybar} exp(-(c_k - c_l))`` (examples without a
    (positive, negative) pair contribute 0; labels < 0 are unknown and skipped)."""
    global _BPMLL
    if _BPMLL is None:
        from zoo.losses import BPMLLLoss
        _BPMLL = BPMLLLoss()
    return _BPMLL(y_true, scores, sample_weight=sample_weight)


@keras.saving.register_keras_serializable(package="zoo")
class C2AE(keras.Model):
    """C2AE (Yeh et al., AAAI 2017): features -> ``Fx`` -> ``Fd`` -> logits, trained with the
    label encoder ``Fe`` through ``Phi + alpha * Gamma`` (see the module docstring).

    Args:
        num_features: input width.
        num_labels: number of labels L.
        latent_dim: size of the shared latent space; ``None`` = ``round(0.8 * L)`` (authors'
            code), at least 1.
        hidden_units: width of every hidden layer (512 in the paper's code).
        feature_layers: hidden layers in ``Fx`` (2); ``Fe`` and ``Fd`` have one each.
        alpha: weight of the output loss ``Gamma``.
        constraint_weight: ``lambda``, weight of the orthonormality penalty in ``Phi`` (0.5).
        mean, variance: train-split feature statistics for the standardization layer.

    The compiled loss (if any) is not used: :meth:`compute_loss` returns C2AE's objective
    (plus any layer regularization losses). ``sample_weight`` weighs ``Gamma``'s per-example
    terms; ``Phi`` is a batch-level quantity and is unweighted.
    """

    def __init__(self, num_features: int, num_labels: int, latent_dim: int | None = None,
                 hidden_units: int = 512, feature_layers: int = 2, alpha: float = 10.0,
                 constraint_weight: float = 0.5, mean=None, variance=None, name: str = "c2ae",
                 **kwargs):
        num_features, num_labels = int(num_features), int(num_labels)
        if num_labels < 1 or num_features < 1:
            raise ValueError(f"C2AE needs num_features >= 1 and num_labels >= 1, got"
                             f" {num_features} and {num_labels}")
        if latent_dim is None:
            latent_dim = max(1, int(round(0.8 * num_labels)))
        latent_dim, hidden_units, feature_layers = int(latent_dim), int(hidden_units), int(feature_layers)
        if latent_dim < 1 or hidden_units < 1 or feature_layers < 1:
            raise ValueError(f"latent_dim, hidden_units and feature_layers must be >= 1, got"
                             f" {latent_dim}, {hidden_units}, {feature_layers}")
        if float(alpha) < 0 or float(constraint_weight) < 0:
            raise ValueError(f"alpha and constraint_weight must be >= 0, got {alpha} and"
                             f" {constraint_weight}")

        # === Fe: the training-only label encoder (built now so its weights exist) ===
        self.fe_hidden = keras.layers.Dense(hidden_units, activation="leaky_relu", name="fe_hidden")
        self.fe_latent = keras.layers.Dense(latent_dim, name="fe_latent")
        self.fe_hidden.build((None, num_labels))
        self.fe_latent.build((None, hidden_units))

        # === inference graph: features -> Fx -> Fd -> logits ===
        inputs, h = feature_input(num_features, mean, variance)
        fx_names = (["standardize"] if mean is not None else [])
        for i in range(feature_layers):
            fx_names.append(f"fx_hidden_{i}")
            h = keras.layers.Dense(hidden_units, activation="leaky_relu", name=fx_names[-1])(h)
        fx_names.append("fx_latent")
        z = keras.layers.Dense(latent_dim, name="fx_latent")(h)
        h = keras.layers.Dense(hidden_units, activation="leaky_relu", name="fd_hidden")(z)
        logits = keras.layers.Dense(num_labels, name="logits")(h)
        super().__init__(inputs=inputs, outputs=logits, name=name, **kwargs)

        # === config ===
        self.num_features, self.num_labels = num_features, num_labels
        self.latent_dim, self.hidden_units, self.feature_layers = latent_dim, hidden_units, feature_layers
        self.alpha, self.constraint_weight = float(alpha), float(constraint_weight)
        self._mean = None if mean is None else np.asarray(mean, dtype=np.float32).ravel().tolist()
        self._variance = None if variance is None else np.asarray(variance, dtype=np.float32).ravel().tolist()
        self._fx_names = tuple(fx_names)

    # ------------------------------------------------------------------ the three networks
    def encode_features(self, x, training=False):
        """``Fx(x)``: latent codes (B, latent_dim) of raw feature rows."""
        h = ops.convert_to_tensor(x, dtype=self.compute_dtype)
        for n in self._fx_names:
            h = self.get_layer(n)(h, training=training)
        return h

    def encode_labels(self, y, training=False):
        """``Fe(y)``: latent codes of label rows (unknown entries, < 0, are read as 0)."""
        y = ops.convert_to_tensor(y, dtype=self.compute_dtype)
        y = ops.where(ops.greater_equal(y, 0.0), y, ops.zeros_like(y))
        return self.fe_latent(self.fe_hidden(y, training=training), training=training)

    def decode(self, z, training=False):
        """``Fd(z)``: label scores (logits) of latent codes."""
        h = self.get_layer("fd_hidden")(z, training=training)
        return self.get_layer("logits")(h, training=training)

    # ------------------------------------------------------------------ training objective
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """``Phi(Fx, Fe) + alpha * Gamma(Fe, Fd)`` (+ layer regularization losses).

        ``y_pred`` (= ``Fd(Fx(x))``) is not part of the objective: ``Fd`` is trained on the
        label autoencoder's path only, as in the paper.
        """
        if y is None:
            raise ValueError("C2AE's objective needs the labels y (Fe encodes them)")
        if isinstance(x, dict):
            x = next(iter(x.values()))
        elif isinstance(x, (list, tuple)):
            x = x[0]
        y = ops.cast(y, self.compute_dtype)
        zx = self.encode_features(x, training=training)
        ze = self.encode_labels(y, training=training)
        loss = embedding_loss(zx, ze, self.constraint_weight)
        loss = loss + self.alpha * output_loss(y, self.decode(ze, training=training), sample_weight)
        if self.losses:
            loss = loss + ops.sum(ops.stack([ops.cast(v, loss.dtype) for v in self.losses]))
        return loss

    # ------------------------------------------------------------------ serialization
    def get_config(self):
        return {"num_features": self.num_features, "num_labels": self.num_labels,
                "latent_dim": self.latent_dim, "hidden_units": self.hidden_units,
                "feature_layers": self.feature_layers, "alpha": self.alpha,
                "constraint_weight": self.constraint_weight, "mean": self._mean,
                "variance": self._variance, "name": self.name, "trainable": self.trainable}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@register_architecture("c2ae", kind="features", paper=PAPER,
                       head=("fe_*", "fx_latent", "fd_hidden", "logits"))
def c2ae(num_features: int, num_labels: int, latent_dim: int | None = None,
         hidden_units: int = 512, feature_layers: int = 2, alpha: float = 10.0,
         constraint_weight: float = 0.5, mean=None, variance=None, name: str = "c2ae"):
    """C2AE (Yeh et al., AAAI 2017); see :class:`C2AE`. Returns the trainable model whose
    output is ``Fd(Fx(x))`` logits."""
    return C2AE(num_features, num_labels, latent_dim=latent_dim, hidden_units=hidden_units,
                feature_layers=feature_layers, alpha=alpha, constraint_weight=constraint_weight,
                mean=mean, variance=variance, name=name)
