"""ML-GCN: label classifiers produced by a graph convolutional network over label correlations.

Paper: Z.-M. Chen, X.-S. Wei, P. Wang, Y. Guo. "Multi-Label Image Recognition with Graph
Convolutional Networks". CVPR 2019.

Defining mechanism: the per-label classifiers are not free parameters. A GCN propagates label
node representations over a *label correlation graph* built from the training labels, and its
output ``W`` (``L x D``) is applied to the input's ``D``-dim representation:
``logits = f(x) W^T`` (paper eq. 4, ``y = W x``, no bias). Correlated labels therefore get
coupled classifiers.

Correlation matrix (paper Sec. 3.4, eqs. 5-7), from the TRAINING label matrix ``Y`` (n x L):

1. ``M = Y^T Y`` co-occurrence counts, ``N_i = M_ii`` positives of label ``i``;
   ``P_ij = M_ij / N_i = P(L_j | L_i)``.
2. Binarize (eq. 6): ``A_ij = 1 if P_ij >= tau else 0`` for ``i != j`` (paper ``tau = 0.4``).
3. Re-weight (eq. 7, against over-smoothing): ``A'_ij = p / sum_{k != i} A_ik * A_ij`` for
   ``i != j`` and ``A'_ii = 1 - p`` (paper ``p = 0.2``). Each row sums to ``1``: a node keeps
   ``1 - p`` of its own representation and spreads ``p`` over its neighbours.

   Edge case, defined here (the paper does not discuss it): a label with no neighbour at
   ``tau`` -- including labels with no positive in the training split, whose ``P_i.`` is
   undefined and taken as ``0`` -- has no neighbours to hand ``p`` to, so ``A'_ii = 1``. All
   rows then sum to 1.

4. Propagation (eq. 2, ``H^{l+1} = h(Â H^l W^l)``): the paper uses "the normalized version" of
   the correlation matrix following Kipf & Welling (ICLR 2017), ``Â = D^{-1/2} A' D^{-1/2}`` with
   ``D_ii = sum_j A'_ij``. We apply exactly that inside the layer (so a user-supplied graph is
   normalized too). With the re-weighting above every row of ``A'`` sums to 1, so ``D = I`` and
   ``Â = A'`` for the graphs the builder computes.

   The authors' released code (``gen_A`` / ``gen_adj``) differs from the paper's equations: it
   divides by *column* sums, uses ``p = 0.25``, adds ``I`` (diagonal 1, not ``1 - p``) and
   propagates with ``D^{-1/2} A^T D^{-1/2}``. We follow the paper's equations.

GCN (paper Sec. 3.3/4.1): two layers, LeakyReLU (negative slope 0.2) between them, no bias; the
second layer outputs the classifiers directly (no activation: classifier weights are signed).
Paper sizes: GCN hidden 1024, output ``D = 2048`` (the ResNet-101 pooled feature).

Deviations from the paper, stated plainly:

* **Node inputs.** The paper feeds 300-d GloVe word embeddings of the label names. MULAN label
  names are mostly not words (``"Class-12"``, ``"TAG_xml"``, corel5k codes), so the node inputs
  here are a *learnable* per-label embedding (``node_features="embedding"``, 300-d like GloVe)
  or the fixed one-hot identity (``node_features="identity"``; then the first GCN kernel is the
  per-label input). Either way the graph no longer injects outside semantic knowledge; it acts
  as a structural prior that ties the classifiers of correlated labels together.
* **Encoder.** The paper's image encoder is ResNet-101 with global max pooling (2048-d). For
  feature-vector benchmarks the encoder is an MLP (train-split standardization -> Dense(ReLU)
  -> Dropout), and ``D`` is its last width (default 512 instead of 2048); the GCN hidden width
  stays 1024.

Example::

    >>> import numpy as np
    >>> y = np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1]])
    >>> correlation_matrix(y, tau=0.4, p=0.2).round(2)   # P(L1|L0) = 0.5 >= 0.4; P(L0|L1) = 1
    array([[0.8, 0.2, 0. ],
           [0.2, 0.8, 0. ],
           [0. , 0. , 1. ]], dtype=float32)
    >>> model = mlgcn(num_features=8, num_labels=3, train_labels=y, encoder_units=(16,))
    >>> tuple(model(np.zeros((2, 8), "float32")).shape)
    (2, 3)
"""
from __future__ import annotations

import keras
import numpy as np
import scipy.sparse as sp
from keras import ops

from zoo.models.mlp import feature_input
from zoo.registry import register_architecture


# ----------------------------------------------------------------------------- the graph (numpy)

def _positive_known(train_labels):
    """(positive, known) float64 indicator matrices of a {1, 0, -1} label matrix."""
    if sp.issparse(train_labels):
        # Sparse label matrices hold 1 (and possibly -1) entries; absent entries are 0.
        y = sp.csr_matrix(train_labels, dtype=np.float64)
        values = y.data
    else:
        y = np.asarray(train_labels, dtype=np.float64)
        values = y
    if y.ndim != 2:
        raise ValueError(f"train_labels must be a 2-D (examples, labels) matrix, got shape {y.shape}")
    if values.size and not np.all((values == 0) | (values == 1) | (values == -1)):
        raise ValueError("train_labels must hold 1 (positive), 0 (negative) or -1 (unknown); got"
                         f" values {np.unique(values)[:5].tolist()}...")
    if sp.issparse(y):
        pos = (y == 1).astype(np.float64)
        unknown = (y == -1).astype(np.float64)
        known = np.ones(y.shape) - unknown.toarray()
        return pos, known
    return (y == 1).astype(np.float64), (y >= 0).astype(np.float64)


def cooccurrence(train_labels) -> tuple[np.ndarray, np.ndarray]:
    """Co-occurrence counts ``M = Y^T Y`` (L x L) and label counts ``N = diag(M)`` (L,).

    ``train_labels``: (n, L) array or scipy sparse matrix of 1 (positive), 0 (negative) and
    -1 (unknown); unknown entries count as neither (anything else raises).
    """
    pos, _ = _positive_known(train_labels)
    m = pos.T @ pos
    m = np.asarray(m.todense() if sp.issparse(m) else m)
    return m, np.diag(m).copy()


def conditional_probabilities(train_labels) -> np.ndarray:
    """``P_ij = M_ij / N_i = P(label j | label i)`` (paper eq. 5); rows of unseen labels are 0.

    With unknown entries (-1) the denominator counts only the rows where label i is positive
    *and* label j is known, so hidden labels neither add nor remove evidence; on fully labelled
    data this is exactly ``M_ij / N_i``.
    """
    pos, known = _positive_known(train_labels)
    m = pos.T @ pos
    m = np.asarray(m.todense() if sp.issparse(m) else m)
    k = np.asarray(pos.T @ known)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(k > 0, m / np.where(k > 0, k, 1.0), 0.0)
    return p


def correlation_matrix(train_labels, tau: float = 0.4, p: float = 0.2) -> np.ndarray:
    """The re-weighted binary correlation matrix ``A'`` (L x L, float32) of paper eqs. 5-7.

    ``A_ij = [P_ij >= tau]`` off the diagonal; ``A'_ij = p * A_ij / sum_{k != i} A_ik`` and
    ``A'_ii = 1 - p`` for labels with at least one neighbour, ``A'_ii = 1`` (and no edges)
    for labels without (see the module docstring). Every row sums to 1.
    """
    if not 0.0 < tau <= 1.0:
        raise ValueError(f"tau (binarization threshold) must be in (0, 1], got {tau}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p (neighbour weight) must be in [0, 1], got {p}")
    prob = conditional_probabilities(train_labels)
    num_labels = prob.shape[0]
    off_diag = ~np.eye(num_labels, dtype=bool)
    binary = ((prob >= tau) & off_diag).astype(np.float64)
    degree = binary.sum(axis=1)
    has_nb = degree > 0
    weights = np.where(has_nb, p / np.where(has_nb, degree, 1.0), 0.0)
    a = binary * weights[:, None]
    a[np.diag_indices(num_labels)] = np.where(has_nb, 1.0 - p, 1.0)
    return a.astype(np.float32)


def normalize_adjacency(a):
    """``D^{-1/2} A D^{-1/2}`` with ``D_ii = sum_j A_ij`` (zero-degree rows stay zero); keras.ops."""
    a = ops.convert_to_tensor(a)
    degree = ops.sum(a, axis=1)
    safe = ops.where(degree > 0, degree, ops.ones_like(degree))
    inv_sqrt = ops.where(degree > 0, ops.rsqrt(safe), ops.zeros_like(degree))
    return inv_sqrt[:, None] * a * inv_sqrt[None, :]


# ----------------------------------------------------------------------------- the head (keras)

@keras.saving.register_keras_serializable(package="zoo")
class LabelGCNClassifier(keras.layers.Layer):
    """ML-GCN head: a 2-layer GCN over the label graph yields classifiers ``W``; logits = ``f W^T``.

    Args:
        num_labels: ``L``.
        adjacency: the (L, L) correlation matrix ``A'`` (e.g. :func:`correlation_matrix`),
            normalized inside the layer as ``D^{-1/2} A' D^{-1/2}``. It is stored as a
            non-trainable weight (saved in ``model.weights.h5``, not in the config), so a model
            rebuilt by ``from_config`` gets it back through ``set_weights``/weight loading.
            ``None`` means the identity graph (no propagation between labels).
        hidden_units: width of the first GCN layer (paper: 1024).
        embedding_dim: size of the learnable label embeddings fed to the GCN (300, like the
            paper's GloVe vectors); ignored when ``node_features="identity"``.
        node_features: ``"embedding"`` (learnable) or ``"identity"`` (one-hot, fixed).
        negative_slope: LeakyReLU slope between the GCN layers (paper: 0.2).
        use_bias: add a per-label bias to the logits (the paper has none). Measured: it stays
            ~0 on emotions/medical and changes nothing, because the ReLU features have a
            positive mean that ``W`` already uses as an offset.

    Example::

        >>> head = LabelGCNClassifier(3, adjacency=np.eye(3, dtype="float32"), hidden_units=8,
        ...                           embedding_dim=4)
        >>> tuple(head(np.ones((2, 5), "float32")).shape)
        (2, 3)
    """

    def __init__(self, num_labels: int, adjacency=None, hidden_units: int = 1024,
                 embedding_dim: int = 300, node_features: str = "embedding",
                 negative_slope: float = 0.2, use_bias: bool = False, **kwargs):
        super().__init__(**kwargs)
        if node_features not in ("embedding", "identity"):
            raise ValueError(f"node_features must be 'embedding' or 'identity', got {node_features!r}")
        self.num_labels = int(num_labels)
        self.hidden_units = int(hidden_units)
        self.embedding_dim = int(embedding_dim)
        self.node_features = node_features
        self.negative_slope = float(negative_slope)
        self.use_bias = bool(use_bias)
        if adjacency is None:
            self._adjacency_init = np.eye(self.num_labels, dtype=np.float32)
        else:
            adjacency = np.asarray(adjacency, dtype=np.float32)
            if adjacency.shape != (self.num_labels, self.num_labels):
                raise ValueError(f"adjacency must have shape ({self.num_labels}, {self.num_labels}),"
                                 f" got {adjacency.shape}")
            if not np.all(np.isfinite(adjacency)) or np.any(adjacency < 0):
                raise ValueError("adjacency must be finite and non-negative")
            self._adjacency_init = adjacency

    def build(self, input_shape):
        feature_dim = int(input_shape[-1])
        self.adjacency = self.add_weight(
            name="adjacency", shape=(self.num_labels, self.num_labels), trainable=False,
            initializer=keras.initializers.Constant(self._adjacency_init))
        if self.node_features == "embedding":
            self.node_embedding = self.add_weight(
                name="node_embedding", shape=(self.num_labels, self.embedding_dim),
                # Rows of unit norm in expectation: keeps the initial classifiers, hence the
                # initial logits, O(1) (std 1 gave ~3x larger logits and a worse emotions valid
                # loss, 0.439 vs 0.355).
                initializer=keras.initializers.RandomNormal(stddev=self.embedding_dim ** -0.5))
            in_dim = self.embedding_dim
        else:
            self.node_embedding = None
            in_dim = self.num_labels
        self.gcn_kernel_1 = self.add_weight(name="gcn_kernel_1", shape=(in_dim, self.hidden_units),
                                            initializer="glorot_uniform")
        self.gcn_kernel_2 = self.add_weight(name="gcn_kernel_2",
                                            shape=(self.hidden_units, feature_dim),
                                            initializer="glorot_uniform")
        self.bias = (self.add_weight(name="bias", shape=(self.num_labels,), initializer="zeros")
                     if self.use_bias else None)

    def classifiers(self):
        """The GCN output ``W`` (L x D): one classifier vector per label (paper eq. 2)."""
        a_hat = normalize_adjacency(ops.cast(self.adjacency, self.compute_dtype))
        k1 = ops.cast(self.gcn_kernel_1, self.compute_dtype)
        if self.node_embedding is None:
            h = ops.matmul(a_hat, k1)                                   # Â I K1
        else:
            # (Â E) K1 == Â (E K1); multiplying the narrow side first is cheaper for E < K1.
            h = ops.matmul(ops.matmul(a_hat, ops.cast(self.node_embedding, self.compute_dtype)), k1)
        h = ops.leaky_relu(h, negative_slope=self.negative_slope)
        return ops.matmul(a_hat, ops.matmul(h, ops.cast(self.gcn_kernel_2, self.compute_dtype)))

    def call(self, features):
        logits = ops.matmul(features, ops.transpose(self.classifiers()))
        if self.bias is not None:
            logits = logits + ops.cast(self.bias, self.compute_dtype)
        return logits

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.num_labels,)

    def get_config(self):
        config = super().get_config()
        config.update(num_labels=self.num_labels, hidden_units=self.hidden_units,
                      embedding_dim=self.embedding_dim, node_features=self.node_features,
                      negative_slope=self.negative_slope, use_bias=self.use_bias)
        return config


@register_architecture("mlgcn", kind="features", paper="Chen et al., CVPR 2019",
                       head=("gcn_classifier",))
def mlgcn(num_features: int, num_labels: int, train_labels=None, encoder_units=(512,),
          dropout: float = 0.5, tau: float = 0.4, p: float = 0.2, gcn_hidden: int = 1024,
          embedding_dim: int = 300, node_features: str = "embedding", negative_slope: float = 0.2,
          use_bias: bool = False, mean=None, variance=None, name: str = "mlgcn"):
    """ML-GCN over an MLP feature encoder: features -> [Dense(ReLU) -> Dropout]* -> f (D-dim),
    label graph (from ``train_labels``) -> 2-layer GCN -> ``W`` (L x D); logits = ``f W^T``.

    ``train_labels`` (the dense (n, L) training label matrix, passed by ``zoo.train``) is
    required: the correlation graph is computed from it once and stored in the model as a
    non-trainable weight, so the checkpoint is self-contained. ``D`` = ``encoder_units[-1]``.
    """
    if train_labels is None:
        raise ValueError("ML-GCN builds its label graph from the training labels: pass"
                         " train_labels (zoo.train.build_model does this automatically)")
    if not encoder_units:
        raise ValueError("encoder_units must name at least one layer (its last width is D)")
    adjacency = correlation_matrix(train_labels, tau=tau, p=p)
    if adjacency.shape[0] != num_labels:
        raise ValueError(f"train_labels has {adjacency.shape[0]} labels, num_labels is {num_labels}")
    inputs, x = feature_input(num_features, mean, variance)
    for i, units in enumerate(encoder_units):
        x = keras.layers.Dense(int(units), activation="relu", name=f"encoder_{i}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout_{i}")(x)
    logits = LabelGCNClassifier(num_labels, adjacency=adjacency, hidden_units=gcn_hidden,
                                embedding_dim=embedding_dim, node_features=node_features,
                                negative_slope=negative_slope, use_bias=use_bias,
                                name="gcn_classifier")(x)
    return keras.Model(inputs, logits, name=name)
