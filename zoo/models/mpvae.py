"""MPVAE: a VAE whose decoder feeds a covariance-aware multivariate probit model.

Paper: J. Bai, S. Kong, C. P. Gomes. "Disentangled Variational Autoencoder based Multi-Label
Classification with Covariance-Aware Multivariate Probit Model". IJCAI 2020
(arXiv:2007.06126; official TensorFlow 1 code: github.com/JunwenBai/MPVAE).

Defining mechanism
------------------
* Two encoders map into one Gaussian latent space: the *feature encoder* ``q(z|x)`` and the
  *label encoder* ``q(z|x, y)`` (the official code concatenates features and labels, "since
  this made the training more stable"). ``KL(q(z|x,y) || q(z|x))`` aligns the two posteriors,
  so at test time the feature branch alone lands where the labels would have put it.
* A shared decoder maps ``[x, z]`` (the official code concatenates x, as in a conditional VAE)
  to the mean ``mu`` of a **multivariate probit** model::

      y_j = 1[mu_j + eps_j > 0],   eps ~ N(0, Sigma),   Sigma = R R^T + I,

  with ``R`` a learned ``L x r`` matrix (``r`` = ``factor_dim``; the paper's scripts use
  ``r = L``). ``Sigma`` is positive definite for every ``R`` (its eigenvalues are >= 1).
  The unit diagonal is the idiosyncratic noise: a probit model is invariant to a common
  rescaling of ``mu`` and ``eps``, so a fixed unit diagonal loses no generality.
* The likelihood is estimated by Monte-Carlo over the *correlated* part of the noise only:
  writing ``eps = R w + u`` (``w ~ N(0, I_r)``, ``u ~ N(0, I_L)``), the labels are
  independent given ``w`` and ``u`` integrates out exactly::

      P(y | mu) = E_w[ prod_j Phi(s_j (mu_j + (R w)_j)) ],   s_j = 2 y_j - 1,

  estimated with ``S`` samples of ``w`` (paper Eq. 3; log-sum-exp over samples). Its
  logarithm is the per-example log-likelihood; both branches (``z`` from the label encoder
  and ``z`` from the feature encoder, sharing one reparameterization noise draw as the
  official code does) contribute an NLL term.

Loss: ``NLL(label branch) + NLL(feature branch) + beta * KL``, averaged over the batch
(labels marked unknown, ``-1``, drop out of the product). The official code weights
``nll_coeff * (NLL + NLL_x) + 1.1 * KL`` and adds a ranking loss; its default
``nll_coeff = 0.1`` gives our default ``beta = 11`` (``nll_coeff = 10`` in its bibtex /
delicious scripts would be ``beta = 0.11``). The ranking loss (``c_coeff``) is not used here.

Serving is deterministic: the feature branch with ``z`` = the posterior mean and the exact
probit marginal ``P(y_j = 1 | x) = Phi(mu_j / sqrt(Sigma_jj))``. The model outputs the
*logit* of that probability, ``log Phi(m) - log Phi(-m)`` (computed in log space, finite for
any ``m``), so ``sigmoid(output) = Phi(m)`` as everywhere in the zoo. (The paper instead
averages ``Phi(mu + R w)`` over 10,000 samples; its mean is the same marginal.)

Defaults (official ``config.py`` / scripts): latent dim 50; feature encoder 256-512-256,
label encoder 512-256, decoder 256-512, ReLU, dropout 0.5 in the encoders; 100 training
samples of ``w``; ``r = L``; Adam. Example::

    >>> from zoo.models.mpvae import MPVAE
    >>> model = MPVAE(num_features=72, num_labels=6, latent_dim=8, factor_dim=3)
    >>> tuple(model(np.zeros((2, 72), "float32")).shape)   # logits of the probit marginals
    (2, 6)
"""
from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from zoo.models.mlp import feature_input
from zoo.registry import register_architecture

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_TAIL = 10.0  # below -_TAIL, log Phi uses the asymptotic series (erfc would underflow near -13)


def log_ndtr(x):
    """``log Phi(x)`` (standard normal log-CDF), accurate and finite in float32 for any x.

    ``log(erfc(-x / sqrt 2) / 2)`` for ``x >= -10``; below that, the asymptotic series
    ``-x^2/2 - log(-x) - log(2 pi)/2 + log(1 - 1/x^2 + 3/x^4 - 15/x^6)`` (relative error of
    the tail < 1e-6 there). Both branches are evaluated on clipped inputs, so gradients are
    NaN-free.

    >>> [round(float(v), 2) for v in log_ndtr(ops.convert_to_tensor([0.0, -40.0]))]
    [-0.69, -804.61]
    """
    x = ops.convert_to_tensor(x)
    near = ops.maximum(x, -_TAIL)
    central = ops.log(0.5 * ops.erfc(-near / math.sqrt(2.0)))
    a = ops.maximum(-x, _TAIL)
    a2 = a * a
    tail = (-0.5 * a2 - ops.log(a) - _HALF_LOG_2PI
            + ops.log1p(-1.0 / a2 + 3.0 / (a2 * a2) - 15.0 / (a2 * a2 * a2)))
    return ops.where(x < -_TAIL, tail, central)


def probit_logit(m):
    """``logit(Phi(m)) = log Phi(m) - log Phi(-m)``: finite, odd, monotone in ``m``."""
    return log_ndtr(m) - log_ndtr(-m)


@keras.saving.register_keras_serializable(package="zoo")
class MultivariateProbit(keras.layers.Layer):
    """The covariance-aware multivariate probit head: ``Sigma = R R^T + I``.

    ``call(mu)`` returns the logits of the exact marginals ``Phi(mu_j / sqrt(Sigma_jj))``.
    ``sampled_log_likelihood(mu, y, noise)`` is the paper's Monte-Carlo estimate of
    ``log P(y | mu)`` with ``noise`` the standard normal draws ``w`` of shape (S, batch, r).

    Args:
        factor_dim: ``r``, the number of columns of ``R`` (rank of the correlated part).

    Example::

        >>> head = MultivariateProbit(factor_dim=2)
        >>> tuple(head(np.zeros((1, 4), "float32")).shape)
        (1, 4)
    """

    def __init__(self, factor_dim: int, **kwargs):
        super().__init__(**kwargs)
        if int(factor_dim) < 1:
            raise ValueError(f"factor_dim must be >= 1, got {factor_dim}")
        self.factor_dim = int(factor_dim)

    def build(self, input_shape):
        num_labels = int(input_shape[-1])
        # Official init: uniform(+-sqrt(6 / (L + r))), i.e. Glorot uniform on an (L, r) matrix.
        self.factor = self.add_weight(name="factor", shape=(num_labels, self.factor_dim),
                                      initializer="glorot_uniform", trainable=True)

    def covariance(self):
        """``Sigma = R R^T + I``, shape (L, L)."""
        r = ops.convert_to_tensor(self.factor)
        return ops.matmul(r, ops.transpose(r)) + ops.eye(ops.shape(r)[0], dtype=r.dtype)

    def marginal_std(self):
        """``sqrt(Sigma_jj) = sqrt(1 + sum_k R_jk^2)``, shape (L,)."""
        return ops.sqrt(1.0 + ops.sum(ops.square(self.factor), axis=-1))

    def call(self, mu):
        return probit_logit(mu / self.marginal_std())

    def sample_shifts(self, noise):
        """``R w`` for standard normal draws ``noise`` (S, batch, r) -> (S, batch, L)."""
        return ops.matmul(noise, ops.transpose(self.factor))

    def sampled_log_likelihood(self, mu, y, noise, known=None):
        """Monte-Carlo ``log P(y | mu) = log mean_s prod_j Phi(s_j (mu_j + (R w_s)_j))``.

        ``mu`` (batch, L), ``y`` (batch, L) in {0, 1}, ``noise`` (S, batch, r) standard normal,
        ``known`` optional (batch, L) mask (unknown labels leave the product). Returns (batch,).
        """
        t = mu[None] + self.sample_shifts(noise)                    # (S, B, L)
        sign = 2.0 * ops.cast(y, t.dtype) - 1.0
        log_p = log_ndtr(sign[None] * t)
        if known is not None:
            log_p = log_p * ops.cast(known, t.dtype)[None]
        per_sample = ops.sum(log_p, axis=-1)                        # (S, B)
        num = ops.cast(ops.shape(per_sample)[0], per_sample.dtype)
        return ops.logsumexp(per_sample, axis=0) - ops.log(num)

    def get_config(self):
        return {**super().get_config(), "factor_dim": self.factor_dim}


def _mlp_stack(units, dropout, prefix):
    layers = []
    for i, u in enumerate(units):
        layers.append(keras.layers.Dense(int(u), activation="relu", name=f"{prefix}_fc_{i}"))
        if dropout:
            layers.append(keras.layers.Dropout(float(dropout), name=f"{prefix}_dropout_{i}"))
    return layers


def _apply(layers, x, training=None):
    for layer in layers:
        x = layer(x, training=training) if isinstance(layer, keras.layers.Dropout) else layer(x)
    return x


@keras.saving.register_keras_serializable(package="zoo")
class MPVAE(keras.Model):
    """MPVAE (Bai, Kong, Gomes, IJCAI 2020): raw features -> logits of the probit marginals.

    The inference graph (standardize -> feature encoder mean -> decoder -> probit marginal)
    is a functional graph built in ``__init__``; the label encoder, the latent sampling and
    the Monte-Carlo likelihood live in :meth:`compute_loss` (training only). The class
    round-trips through ``from_config(get_config())`` + ``set_weights``.

    Args:
        num_features, num_labels: input width and label count.
        latent_dim: dimension of the shared latent space (paper: 50).
        feature_units / label_units / decoder_units: hidden ReLU layer widths.
        factor_dim: columns ``r`` of ``R`` in ``Sigma = R R^T + I`` (None: ``num_labels``).
        dropout: dropout rate after each encoder hidden layer (paper: keep_prob 0.5).
        num_samples: Monte-Carlo samples of the probit noise per training step (paper: 100).
        beta: weight of ``KL(q(z|x,y) || q(z|x))`` relative to the two NLL terms.
        mean, variance: train-split feature statistics for the standardization layer.
        seed: seed of the training-time noise.
    """

    def __init__(self, num_features: int, num_labels: int, latent_dim: int = 50,
                 feature_units=(256, 512, 256), label_units=(512, 256), decoder_units=(256, 512),
                 factor_dim: int | None = None, dropout: float = 0.5, num_samples: int = 100,
                 beta: float = 11.0, mean=None, variance=None, seed: int | None = None,
                 name: str = "mpvae", **kwargs):
        if int(num_samples) < 1:
            raise ValueError(f"num_samples must be >= 1, got {num_samples}")
        if float(beta) < 0:
            raise ValueError(f"beta must be >= 0, got {beta}")
        factor_dim = int(num_labels if factor_dim is None else factor_dim)

        inputs, xs = feature_input(int(num_features), mean, variance)
        feature_layers = _mlp_stack(feature_units, dropout, "feature_encoder")
        feature_mu = keras.layers.Dense(int(latent_dim), name="feature_encoder_mu")
        feature_logvar = keras.layers.Dense(int(latent_dim), name="feature_encoder_logvar")
        decoder_layers = [keras.layers.Dense(int(u), activation="relu", name=f"decoder_fc_{i}")
                          for i, u in enumerate(decoder_units)]
        decoder_mean = keras.layers.Dense(int(num_labels), name="probit_mean")
        probit = MultivariateProbit(factor_dim, name="multivariate_probit")

        h = _apply(feature_layers, xs)
        z_mean = feature_mu(h)
        feature_logvar(h)  # built here so its weights exist for set_weights; used in training
        d = _apply(decoder_layers, keras.layers.Concatenate(name="decoder_input")([xs, z_mean]))
        logits = probit(decoder_mean(d))

        # Label encoder q(z | x, y): not on the inference path; built symbolically now.
        label_in = keras.Input(shape=(int(num_labels),), name="labels")
        label_layers = _mlp_stack(label_units, dropout, "label_encoder")
        label_mu = keras.layers.Dense(int(latent_dim), name="label_encoder_mu")
        label_logvar = keras.layers.Dense(int(latent_dim), name="label_encoder_logvar")
        hl = _apply(label_layers, keras.layers.Concatenate(name="label_encoder_input")([xs, label_in]))
        label_encoder = keras.Model([inputs, label_in], [label_mu(hl), label_logvar(hl)],
                                    name="label_encoder")

        super().__init__(inputs=inputs, outputs=logits, name=name, **kwargs)
        self.label_encoder = label_encoder
        self.noise_seed = keras.random.SeedGenerator(seed)
        self._standardize = self.get_layer("standardize") if mean is not None else None
        self._feature_layers, self._feature_mu, self._feature_logvar = (
            feature_layers, feature_mu, feature_logvar)
        self._decoder_layers, self._decoder_mean, self.probit = decoder_layers, decoder_mean, probit
        self._concat = self.get_layer("decoder_input")
        self._config = {"num_features": int(num_features), "num_labels": int(num_labels),
                        "latent_dim": int(latent_dim),
                        "feature_units": [int(u) for u in feature_units],
                        "label_units": [int(u) for u in label_units],
                        "decoder_units": [int(u) for u in decoder_units],
                        "factor_dim": factor_dim, "dropout": float(dropout),
                        "num_samples": int(num_samples), "beta": float(beta),
                        "mean": None if mean is None else np.asarray(mean, np.float32).tolist(),
                        "variance": None if variance is None else np.asarray(variance, np.float32).tolist(),
                        "seed": seed}

    # ------------------------------------------------------------------ pieces
    def standardize(self, x):
        x = ops.cast(x, "float32")
        return self._standardize(x) if self._standardize is not None else x

    def feature_posterior(self, xs, training=False):
        """``(mu, logvar)`` of ``q(z | x)`` for standardized features ``xs``."""
        h = _apply(self._feature_layers, xs, training=training)
        return self._feature_mu(h), self._feature_logvar(h)

    def probit_mean(self, xs, z):
        """Decoder: ``[xs, z]`` -> the probit mean ``mu`` (batch, L)."""
        return self._decoder_mean(_apply(self._decoder_layers, self._concat([xs, z])))

    def covariance(self):
        """The learned label covariance ``Sigma = R R^T + I`` (L, L)."""
        return self.probit.covariance()

    # ------------------------------------------------------------------ training objective
    def mpvae_losses(self, x, y, training=True):
        """Per-example ``(nll_label_branch, nll_feature_branch, kl)``, each (batch,)."""
        x = ops.cast(x, "float32")
        xs = self.standardize(x)
        y = ops.cast(y, "float32")
        known = ops.cast(y >= 0, "float32")
        y01 = ops.where(y > 0, 1.0, 0.0)
        fx_mu, fx_logvar = self.feature_posterior(xs, training=training)
        fe_mu, fe_logvar = self.label_encoder([x, y01], training=training)
        eps = keras.random.normal(ops.shape(fx_mu), seed=self.noise_seed)
        z_x = fx_mu + eps * ops.exp(0.5 * fx_logvar)
        z_y = fe_mu + eps * ops.exp(0.5 * fe_logvar)
        s, r = self._config["num_samples"], self._config["factor_dim"]
        noise = keras.random.normal((s, ops.shape(x)[0], r), seed=self.noise_seed)
        nll_y = -self.probit.sampled_log_likelihood(self.probit_mean(xs, z_y), y01, noise, known)
        nll_x = -self.probit.sampled_log_likelihood(self.probit_mean(xs, z_x), y01, noise, known)
        # KL(N(fe_mu, e^fe_logvar) || N(fx_mu, e^fx_logvar)), summed over latent dimensions.
        kl = 0.5 * ops.sum(fx_logvar - fe_logvar - 1.0 + ops.exp(fe_logvar - fx_logvar)
                           + ops.square(fx_mu - fe_mu) / ops.exp(fx_logvar), axis=-1)
        return nll_y, nll_x, kl

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if y is None:
            raise ValueError("MPVAE trains on (features, labels) pairs; got no labels")
        nll_y, nll_x, kl = self.mpvae_losses(x, y, training=training)
        per_example = nll_y + nll_x + self._config["beta"] * kl
        if sample_weight is not None:
            w = ops.reshape(ops.cast(sample_weight, per_example.dtype), (-1,))
            loss = ops.sum(per_example * w) / ops.maximum(ops.sum(w), 1e-12)
        else:
            loss = ops.mean(per_example)
        for extra in self.losses:  # weight regularizers, if any
            loss = loss + ops.cast(extra, loss.dtype)
        return loss

    def get_config(self):
        return {"name": self.name, **self._config}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@register_architecture("mpvae", kind="features",
                       paper="Bai, Kong, Gomes, IJCAI 2020 (MPVAE)",
                       head=("label_encoder", "probit_mean", "multivariate_probit"))
def mpvae(num_features: int, num_labels: int, latent_dim: int = 50,
          feature_units=(256, 512, 256), label_units=(512, 256), decoder_units=(256, 512),
          factor_dim: int | None = None, dropout: float = 0.5, num_samples: int = 100,
          beta: float = 11.0, mean=None, variance=None, seed: int | None = None,
          name: str = "mpvae"):
    """Build an :class:`MPVAE` (defaults: the official code's; see the module docstring)."""
    return MPVAE(num_features, num_labels, latent_dim=latent_dim, feature_units=feature_units,
                 label_units=label_units, decoder_units=decoder_units, factor_dim=factor_dim,
                 dropout=dropout, num_samples=num_samples, beta=beta, mean=mean,
                 variance=variance, seed=seed, name=name)
