"""The classical multi-label estimators: each ``fit(x, y)`` / ``predict_proba(x)``.

``x`` is a dense array or a SciPy sparse matrix (raw texts for :class:`TfidfBinaryRelevance`),
``y`` a binary (n, L) matrix; ``predict_proba`` returns (n, L) scores in [0, 1].

* :class:`BinaryRelevance` -- one independent binary classifier per label: L2 logistic
  regression (``classifier="lr"``, default) or a linear SVM (``"svm"``, scores
  :func:`svm_score`). The standard reference point (Tsoumakas, Katakis & Vlahavas, "Mining
  Multi-label Data", Data Mining and Knowledge Discovery Handbook, 2010).
* :class:`EnsembleClassifierChains` -- ECC of Read, Pfahringer, Holmes & Frank, "Classifier
  chains for multi-label classification", Machine Learning 85(3):333-359, 2011: ``m`` chains,
  each with a random label order and trained on a bootstrap sample of the train set; link
  ``j`` sees the features plus labels ``1..j-1`` of its order (true labels in training, the
  chain's own 0/1 decisions when predicting). Read et al. sum the chains' votes; here the
  chains' **probabilities are averaged** (a finer score for the ranking metrics).
* :class:`MLkNN` -- Zhang & Zhou, "ML-KNN: A lazy learning approach to multi-label
  learning", Pattern Recognition 40(7):2038-2048, 2007.
* :class:`RandomForest` -- a multi-output random forest (Breiman, "Random forests", Machine
  Learning 45:5-32, 2001; scikit-learn's multi-output trees: one forest for all labels, each
  split chosen for the mean impurity decrease over the labels); a label's score is the mean
  over trees of the positive share in the leaf.
* :class:`TfidfBinaryRelevance` -- TF-IDF features (fitted on the training texts only) +
  binary relevance with logistic regression or a linear SVM (Joachims, ECML 1998; Lewis,
  Yang, Rose & Li, JMLR 5:361-397, 2004).

The named, registered configurations of these estimators (and their search grids) are in
:mod:`zoo.baselines.catalog`; fitting and scoring on the benchmark splits in
:mod:`zoo.baselines.runner`.

Example::

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(60, 4)); y = (x[:, :2] > 0).astype(np.int8)
    >>> MLkNN(k=5).fit(x, y).predict_proba(x[:3]).shape
    (3, 2)
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from zoo.errors import ZooError


class MissingDependencyError(ZooError, ImportError):
    """An optional dependency (here scikit-learn) is not installed."""


def _sklearn():
    try:
        import sklearn  # noqa: F401
    except ImportError as e:  # pragma: no cover - the test env has it
        raise MissingDependencyError(
            "zoo.baselines needs scikit-learn: pip install 'zoo-mlc[baselines]'"
            " (or pip install scikit-learn)") from e
    import sklearn
    return sklearn


def _check_xy(x, y=None):
    if not sp.issparse(x):
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f"x must be 2-D (rows, features), got shape {x.shape}")
    else:
        x = sp.csr_matrix(x, dtype=np.float64)
    if y is None:
        return x
    y = y.toarray() if sp.issparse(y) else np.asarray(y)
    if y.ndim != 2 or y.shape[0] != x.shape[0]:
        raise ValueError(f"y must be (rows, labels) with {x.shape[0]} rows, got shape {y.shape}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("y must be a binary 0/1 matrix (unknown -1 labels are not supported"
                         " by the baselines)")
    return x, y.astype(np.int8)


def _scaler(x, kind: str):
    """A fitted scaler for ``x``: ``kind`` "standard" (dense: zero mean, unit variance) or
    "minmax" (dense: [0, 1] with the train ranges). Sparse input is scaled by its max-abs per
    column instead (centering would destroy sparsity; a no-op on the 0/1 bag-of-words sets)."""
    from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, StandardScaler
    if sp.issparse(x):
        return MaxAbsScaler().fit(x)
    return (StandardScaler() if kind == "standard" else MinMaxScaler()).fit(x)


def _default_lr(C: float, max_iter: int):
    """L2 logistic regression with liblinear's trust-region Newton solver (deterministic; several
    times faster than lbfgs on these small problems). Note liblinear also penalizes the
    intercept (``intercept_scaling=1``), a small difference from an unpenalized intercept."""
    from sklearn.linear_model import LogisticRegression
    return LogisticRegression(C=C, max_iter=max_iter, solver="liblinear", random_state=0)


def _one_thread():
    """BLAS/OpenMP limited to one thread: many tiny fits gain nothing from threads and lose a
    lot to oversubscription on a shared machine."""
    from threadpoolctl import threadpool_limits
    return threadpool_limits(1)


class _Constant:
    """The predictor of a label with a single class in its training rows: P(y=1) = that class."""

    def __init__(self, value: float):
        self.value = float(value)

    def positive_proba(self, x):
        return np.full(x.shape[0], self.value)


def _fit_binary(estimator, x, t):
    """Clone and fit ``estimator`` on one binary target ``t``; a constant if ``t`` has one class."""
    from sklearn.base import clone
    if t.min() == t.max():
        return _Constant(t[0])
    return clone(estimator).fit(x, t)


def svm_score(decision):
    """The SVM's probability-like score: the logistic sigmoid of its decision function ``f``.

    ``sigmoid(0) = 0.5`` and the sigmoid is strictly increasing, so the fixed cut
    ``score > 0.5`` of :func:`zoo.metrics.evaluate` (strictly greater) is the SVM's own rule
    ``f > 0`` of ``LinearSVC.predict`` (the only difference: ``0 < f < 1.2e-16``, where the
    sigmoid rounds to exactly 0.5 in float64), and every ranking metric sees the same order as
    the raw margins (up to ties made by float64 rounding: ``|f| < 1e-16`` or ``f > 37``). It
    is *not* a calibrated probability (no Platt fit: that would need held-out data); it only
    puts the margins on the [0, 1] scale the metrics expect.

    Example:
        >>> svm_score(np.array([-2.0, 0.0, 2.0])).round(4).tolist()
        [0.1192, 0.5, 0.8808]
    """
    from scipy.special import expit
    return expit(np.asarray(decision, dtype=np.float64))


def _positive_proba(model, x):
    if isinstance(model, _Constant):
        return model.positive_proba(x)
    if not hasattr(model, "predict_proba"):          # margin classifiers (LinearSVC)
        f = model.decision_function(x)               # > 0 means classes_[1]
        return svm_score(f if list(model.classes_).index(1) == 1 else -f)
    return model.predict_proba(x)[:, list(model.classes_).index(1)]


class BinaryRelevance:
    """One binary classifier per label (BR).

    Args:
        estimator: a scikit-learn classifier, cloned per label (with ``predict_proba``, or a
            margin classifier with ``decision_function`` whose score is :func:`svm_score`);
            default: built from ``classifier`` and ``C``.
        standardize: scale features first (dense: zero mean / unit variance from the train
            rows; sparse: max-abs per column, a no-op on 0/1 features).
        C: inverse regularization strength of the default classifier.
        max_iter: solver iteration cap of the default classifier.
        classifier: ``"lr"`` (L2 logistic regression, liblinear) or ``"svm"`` (L2 squared-hinge
            linear SVM, ``LinearSVC``).

    Labels with a single class in the training rows (e.g. the medical, genbase, corel5k labels
    that have no positive example in train) get a constant predictor of that class.

    Example:
        >>> import numpy as np
        >>> x = np.array([[0.], [1.], [2.], [3.]]); y = np.array([[0, 1], [0, 1], [1, 1], [1, 1]])
        >>> p = BinaryRelevance().fit(x, y).predict_proba(x)
        >>> p[:, 1].tolist(), bool(p[3, 0] > 0.5)
        ([1.0, 1.0, 1.0, 1.0], True)
    """

    def __init__(self, estimator=None, standardize: bool = True, C: float = 1.0,
                 max_iter: int = 1000, classifier: str = "lr"):
        _sklearn()
        if classifier not in ("lr", "svm"):
            raise ValueError(f"classifier must be 'lr' or 'svm', got {classifier!r}")
        if estimator is None:
            estimator = _default_lr(C, max_iter) if classifier == "lr" else \
                _linear_svm(C, max_iter)
        self.estimator = estimator
        self.standardize = standardize

    def fit(self, x, y):
        x, y = _check_xy(x, y)
        self.scaler_ = _scaler(x, "standard") if self.standardize else None
        xs = self.scaler_.transform(x) if self.scaler_ is not None else x
        with _one_thread():
            self.models_ = [_fit_binary(self.estimator, xs, y[:, j]) for j in range(y.shape[1])]
        return self

    def predict_proba(self, x):
        x = _check_xy(x)
        xs = self.scaler_.transform(x) if self.scaler_ is not None else x
        with _one_thread():
            return np.stack([_positive_proba(m, xs) for m in self.models_], axis=1)


def _linear_svm(C: float, max_iter: int):
    """L2-regularized squared-hinge linear SVM (liblinear dual coordinate descent, fixed
    ``random_state`` so that refits are identical)."""
    from sklearn.svm import LinearSVC
    return LinearSVC(C=C, max_iter=max_iter, dual=True, random_state=0)


class RandomForest:
    """A multi-output random forest over all labels (Breiman 2001; scikit-learn's trees).

    One :class:`~sklearn.ensemble.RandomForestClassifier` is fitted on the whole label matrix
    (multi-output trees: a split is chosen for its mean Gini decrease over the labels), so the
    cost grows with the number of labels but not with one forest per label. A label's score is
    the forest's mean leaf share of positives; a label with one class in the training rows
    gets that class as a constant.

    Args:
        n_estimators: number of trees.
        max_depth: depth limit (``None``: grow until leaves are pure or ``min_samples_leaf``).
        min_samples_leaf: fewest training rows in a leaf (larger: smoother scores).
        max_features: features tried per split (``"sqrt"``: sqrt of the feature count).
        seed: ``random_state`` of the forest (fixed => refits are identical).

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0); x = rng.normal(size=(80, 3))
        >>> y = np.stack([x[:, 0] > 0, x[:, 1] > 0], axis=1).astype(int)
        >>> p = RandomForest(n_estimators=20).fit(x, y).predict_proba(x[:2])
        >>> p.shape, bool(((p >= 0) & (p <= 1)).all())
        ((2, 2), True)
    """

    def __init__(self, n_estimators: int = 100, max_depth: int | None = None,
                 min_samples_leaf: int = 1, max_features="sqrt", seed: int = 0):
        _sklearn()
        if n_estimators < 1:
            raise ValueError(f"n_estimators must be >= 1, got {n_estimators}")
        self.n_estimators = int(n_estimators)
        self.max_depth = max_depth
        self.min_samples_leaf = int(min_samples_leaf)
        self.max_features = max_features
        self.seed = seed

    def fit(self, x, y):
        from sklearn.ensemble import RandomForestClassifier
        x, y = _check_xy(x, y)
        self.num_labels_ = y.shape[1]
        self.constant_ = {j: float(y[0, j]) for j in range(y.shape[1])
                          if y[:, j].min() == y[:, j].max()}
        self.fitted_ = [j for j in range(y.shape[1]) if j not in self.constant_]
        if self.fitted_:
            self.forest_ = RandomForestClassifier(
                n_estimators=self.n_estimators, max_depth=self.max_depth,
                min_samples_leaf=self.min_samples_leaf, max_features=self.max_features,
                random_state=self.seed, n_jobs=1)
            with _one_thread():
                self.forest_.fit(x.astype(np.float32), y[:, self.fitted_])
        return self

    def predict_proba(self, x):
        x = _check_xy(x)
        out = np.empty((x.shape[0], self.num_labels_))
        for j, v in self.constant_.items():
            out[:, j] = v
        if self.fitted_:
            with _one_thread():
                probs = self.forest_.predict_proba(x.astype(np.float32))
            if len(self.fitted_) == 1:
                probs = [probs]
            for j, p, classes in zip(self.fitted_, probs, self.forest_.classes_):
                out[:, j] = p[:, list(classes).index(1)]
        return out


def _hstack(x, cols: np.ndarray):
    """``[x, cols]`` keeping ``x``'s storage (sparse stays CSR)."""
    if sp.issparse(x):
        return sp.hstack([x, sp.csr_matrix(cols)], format="csr")
    return np.hstack([x, cols])


class ClassifierChain:
    """One classifier chain (Read et al. 2011) in a given label ``order``.

    Link ``j`` is trained on ``[x, y[:, order[:j]]]`` (the true earlier labels) and, at
    prediction time, fed the chain's own 0/1 decisions (probability >= ``threshold``) for them.
    ``x`` is expected already scaled (see :class:`EnsembleClassifierChains`).
    """

    def __init__(self, estimator, order, threshold: float = 0.5):
        self.estimator = estimator
        self.order = np.asarray(order)
        self.threshold = threshold

    def fit(self, x, y):
        prev = y[:, self.order].astype(np.float64)
        self.models_ = [_fit_binary(self.estimator, _hstack(x, prev[:, :j]), prev[:, j])
                        for j in range(len(self.order))]
        return self

    def predict_proba(self, x):
        n, L = x.shape[0], len(self.order)
        proba = np.empty((n, L))
        decided = np.empty((n, L))
        for j, m in enumerate(self.models_):
            proba[:, j] = _positive_proba(m, _hstack(x, decided[:, :j]))
            decided[:, j] = proba[:, j] >= self.threshold
        out = np.empty_like(proba)
        out[:, self.order] = proba
        return out


class EnsembleClassifierChains:
    """ECC (Read, Pfahringer, Holmes & Frank, Machine Learning 85(3), 2011).

    Args:
        n_chains: number of chains ``m`` (Read et al. use 10).
        sample_fraction: each chain is trained on a bootstrap sample (drawn with replacement)
            of ``sample_fraction * n`` train rows — the "random subset of D" that makes the
            ensemble diverse; ``None`` trains every chain on all rows (orders still differ).
        seed: seed of the label orders and samples (fixed => refits are identical).
        standardize, C, max_iter: as in :class:`BinaryRelevance` (logistic regression links).

    ``predict_proba`` is the mean of the chains' probabilities.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0); x = rng.normal(size=(80, 3))
        >>> y = np.stack([x[:, 0] > 0, (x[:, 0] > 0) & (x[:, 1] > 0)], axis=1).astype(int)
        >>> EnsembleClassifierChains(n_chains=3).fit(x, y).predict_proba(x[:2]).shape
        (2, 2)
    """

    def __init__(self, n_chains: int = 10, sample_fraction: float | None = 1.0, seed: int = 0,
                 estimator=None, standardize: bool = True, C: float = 1.0,
                 max_iter: int = 1000):
        _sklearn()
        if n_chains < 1:
            raise ValueError(f"n_chains must be >= 1, got {n_chains}")
        self.n_chains = n_chains
        self.sample_fraction = sample_fraction
        self.seed = seed
        self.estimator = estimator if estimator is not None else _default_lr(C, max_iter)
        self.standardize = standardize

    def fit(self, x, y):
        x, y = _check_xy(x, y)
        self.scaler_ = _scaler(x, "standard") if self.standardize else None
        xs = self.scaler_.transform(x) if self.scaler_ is not None else x
        rng = np.random.default_rng(self.seed)
        n, L = y.shape
        self.chains_ = []
        for _ in range(self.n_chains):
            order = rng.permutation(L)
            rows = (np.arange(n) if self.sample_fraction is None
                    else rng.integers(0, n, size=max(1, int(round(self.sample_fraction * n)))))
            with _one_thread():
                self.chains_.append(ClassifierChain(self.estimator, order).fit(xs[rows], y[rows]))
        return self

    def predict_proba(self, x):
        x = _check_xy(x)
        xs = self.scaler_.transform(x) if self.scaler_ is not None else x
        with _one_thread():
            return np.mean([c.predict_proba(xs) for c in self.chains_], axis=0)


class MLkNN:
    """ML-kNN (Zhang & Zhou, Pattern Recognition 40(7):2038-2048, 2007).

    Training (paper, Fig. 1, steps 1-13), for every label ``l`` with ``m`` train rows:

    * prior ``P(H1_l) = (s + sum_i y_il) / (2s + m)``, ``P(H0_l) = 1 - P(H1_l)``;
    * ``C_il`` = number of the ``k`` nearest neighbours of train row ``i`` (itself excluded)
      having label ``l``; ``c_l[j]`` / ``c'_l[j]`` = number of train rows with / without
      label ``l`` whose ``C_il = j``;
    * ``P(E_j | H1_l) = (s + c_l[j]) / (s(k+1) + sum_p c_l[p])``, likewise ``H0`` with ``c'``.

    Prediction (steps 14-18): with ``C_tl`` counted over the test row's ``k`` nearest train
    rows, the probability is the posterior
    ``r_tl = P(H1)P(E_C|H1) / (P(H1)P(E_C|H1) + P(H0)P(E_C|H0))``; the paper's MAP decision is
    ``r_tl > 0.5`` (an exact tie is read as "not more probable", the same strict cut as
    ``zoo.metrics.evaluate``).

    Distances are Euclidean (as in the paper) on features min-max scaled to [0, 1] with the
    train ranges (what MULAN's ML-kNN gets from Weka's normalizing EuclideanDistance; set
    ``scale=False`` for raw features). Sparse input is scaled by max-abs (a no-op on 0/1).
    Vectorized: neighbour counts are one sparse product ``A @ Y`` (``A`` the n x n 0/1
    neighbour matrix) and the ``c`` tables one ``bincount``.

    Example:
        >>> import numpy as np
        >>> x = np.arange(12.)[:, None]; y = (x >= 6).astype(int)
        >>> p = MLkNN(k=3).fit(x, y).predict_proba([[0.], [11.]])
        >>> bool(p[0, 0] < 0.5 < p[1, 0])
        True
    """

    def __init__(self, k: int = 10, s: float = 1.0, scale: bool = True):
        _sklearn()
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        if not s > 0:
            raise ValueError(f"smoothing s must be > 0 (the paper uses 1), got {s}")
        self.k = int(k)
        self.s = float(s)
        self.scale = scale

    def _neighbour_counts(self, idx: np.ndarray) -> np.ndarray:
        """(n, L) counts of each label among the neighbours listed in ``idx`` (n, k)."""
        n, k = idx.shape
        a = sp.csr_matrix((np.ones(n * k, dtype=np.int32), idx.ravel(),
                           np.arange(0, n * k + 1, k)), shape=(n, self.y_.shape[0]))
        return np.asarray((a @ self.y_).todense(), dtype=np.int64)

    def fit(self, x, y):
        from sklearn.neighbors import NearestNeighbors
        x, y = _check_xy(x, y)
        m, L = y.shape
        if m <= self.k:
            raise ValueError(f"ML-kNN needs more than k={self.k} training rows, got {m}")
        self.scaler_ = _scaler(x, "minmax") if self.scale else None
        xs = self.scaler_.transform(x) if self.scaler_ is not None else x
        self.nn_ = NearestNeighbors(n_neighbors=self.k,
                                    algorithm="brute" if sp.issparse(xs) else "auto").fit(xs)
        self.y_ = sp.csr_matrix(y, dtype=np.int32)
        # kneighbors() without X excludes each training row from its own neighbours.
        counts = self._neighbour_counts(self.nn_.kneighbors(return_distance=False))
        k, s = self.k, self.s
        self.prior_ = (s + y.sum(axis=0)) / (2 * s + m)                 # P(H1_l), (L,)
        cell = counts + (k + 1) * np.arange(L)                             # bin j + (k+1) l
        pos = y.astype(bool)
        c1 = np.bincount(cell[pos], minlength=(k + 1) * L).reshape(L, k + 1)
        c0 = np.bincount(cell[~pos], minlength=(k + 1) * L).reshape(L, k + 1)
        self.cond1_ = (s + c1) / (s * (k + 1) + c1.sum(axis=1, keepdims=True))  # (L, k+1)
        self.cond0_ = (s + c0) / (s * (k + 1) + c0.sum(axis=1, keepdims=True))
        return self

    def predict_proba(self, x):
        x = _check_xy(x)
        xs = self.scaler_.transform(x) if self.scaler_ is not None else x
        counts = self._neighbour_counts(self.nn_.kneighbors(xs, return_distance=False))
        lab = np.arange(counts.shape[1])
        p1 = self.prior_ * self.cond1_[lab, counts]
        p0 = (1 - self.prior_) * self.cond0_[lab, counts]
        return p1 / (p1 + p0)          # s > 0 makes every factor positive

    def predict(self, x):
        """The paper's MAP label sets (``predict_proba(x) > 0.5``), int8 (n, L)."""
        return (self.predict_proba(x) > 0.5).astype(np.int8)


# ----------------------------------------------------------------------------- text baselines

# TF-IDF settings of the text baselines, fixed a priori (never tuned on valid or test):
# lower-cased, accents stripped, scikit-learn's default word tokens (runs of >= 2 word
# characters: punctuation and emoji are dropped), unigrams + bigrams kept if they occur in
# >= 2 training documents, at most the 100k most frequent n-grams, sublinear tf (1 + log tf),
# smoothed idf ``log((1 + n) / (1 + df)) + 1``, rows L2-normalized.
TFIDF = {"lowercase": True, "strip_accents": "unicode", "ngram_range": (1, 2), "min_df": 2,
         "max_features": 100_000, "sublinear_tf": True, "smooth_idf": True, "norm": "l2"}


class TfidfBinaryRelevance:
    """TF-IDF features + one linear classifier per label, on raw texts.

    The :class:`~sklearn.feature_extraction.text.TfidfVectorizer` (settings :data:`TFIDF`,
    overridable with ``tfidf=``) is fitted on the **training texts only**: vocabulary, document
    frequencies and idf weights never see a test text; test texts are only transformed (unseen
    n-grams are dropped). The per-label classifiers are :class:`BinaryRelevance` without
    feature scaling (the rows are already L2-normalized).

    Args:
        classifier: ``"lr"`` — L2 logistic regression (liblinear), probabilities from
            ``predict_proba``; ``"svm"`` — linear SVM (``LinearSVC``, squared hinge), scores
            :func:`svm_score` of its decision function.
        C: inverse regularization strength of each per-label classifier (1.0: the library
            default and the C of Lewis et al.'s SVM.1 runs).
        max_iter: solver iteration cap.
        tfidf: overrides of :data:`TFIDF`.

    Example:
        >>> texts = ["cheap oil prices", "oil output cut", "wheat harvest up", "wheat crop"] * 3
        >>> y = np.array([[1, 0], [1, 0], [0, 1], [0, 1]] * 3)
        >>> m = TfidfBinaryRelevance("svm", tfidf={"min_df": 1}).fit(texts, y)
        >>> (m.predict_proba(["oil prices fall", "a wheat crop"]) > 0.5).astype(int).tolist()
        [[1, 0], [0, 1]]
    """

    def __init__(self, classifier: str = "lr", C: float = 1.0, max_iter: int = 1000,
                 tfidf: dict | None = None):
        _sklearn()
        if classifier not in ("lr", "svm"):
            raise ValueError(f"classifier must be 'lr' or 'svm', got {classifier!r}")
        unknown = set(tfidf or {}) - set(TFIDF)
        if unknown:
            raise ValueError(f"unknown tfidf settings {sorted(unknown)}; known: {sorted(TFIDF)}")
        self.classifier = classifier
        self.C = C
        self.max_iter = max_iter
        self.tfidf = TFIDF | dict(tfidf or {})

    @staticmethod
    def _texts(texts):
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise ValueError("texts must be a sequence of str (one document per row)")
        return list(texts)

    def fit(self, texts, y):
        from sklearn.feature_extraction.text import TfidfVectorizer
        texts = self._texts(texts)
        est = (_default_lr(self.C, self.max_iter) if self.classifier == "lr"
               else _linear_svm(self.C, self.max_iter))
        self.vectorizer_ = TfidfVectorizer(dtype=np.float64, **self.tfidf).fit(texts)
        x = self.vectorizer_.transform(texts)
        self.br_ = BinaryRelevance(estimator=est, standardize=False).fit(x, y)
        return self

    def transform(self, texts):
        """The TF-IDF matrix (CSR, one L2-normalized row per text) of ``texts``."""
        return self.vectorizer_.transform(self._texts(texts))

    def predict_proba(self, texts):
        return self.br_.predict_proba(self.transform(texts))


# ----------------------------------------------------------------------------- image baselines

#: Poolings of a backbone's (n, h, w, c) feature map into one vector per image.
POOLINGS = {"avg": "global average pooling (mean over the spatial axes 1, 2)",
            "max": "global max pooling (max over the spatial axes 1, 2)"}

_BACKBONES: dict = {}          # (name, weights, input_shape) -> built backbone (one per process)
_POOLED: dict = {}             # feature key -> pooled (n, c) float32 features (small; see below)
_POOLED_MAX = 8


class _Rows:
    """What :func:`zoo.encoding.encode` needs of a dataset: ``x``, ``name``, ``split``, len."""

    def __init__(self, x, name=None, split=None):
        self.x, self.name, self.split = x, name, split

    def __len__(self):
        return len(self.x)


class BackboneFeatures:
    """A feature baseline on a **frozen image backbone**: images -> pooled features -> estimator.

    Every image goes through backbone ``backbone`` (:func:`zoo.models.backbones.get`, e.g. the
    ImageNet EfficientNet-Lite0) at ``image_size``, the (n, h, w, c) feature map is pooled over
    its spatial axes (``pooling``: :data:`POOLINGS`) into an (n, c) float32 matrix, and the
    wrapped feature estimator (:class:`BinaryRelevance`, :class:`MLkNN`, ...) is fitted /
    applied on those vectors. Nothing of the backbone is trained.

    The feature maps come from :func:`zoo.encoding.encode`, so they are the cached ones (under
    ``$ZOO_CACHE_DIR/features``, keyed by the image rows, the size and the backbone's weights)
    when the image classifiers were trained on the same split; the pooled vectors are also kept
    in memory for the process (a grid search encodes each split once). The backbone is built
    once per process and setting (so ``weights=None``, random initialization, still gives the
    same features to ``fit`` and ``predict_proba``).

    Args:
        estimator: the feature estimator (``fit(x, y)`` / ``predict_proba(x)``).
        backbone: backbone name (``zoo.models.backbones.names()`` or ``"keras_hub:<preset>"``).
        weights: ``"imagenet"`` (pretrained) or ``None`` (random initialization).
        image_size: ``(height, width)`` the images are resized to.
        pooling: ``"avg"`` or ``"max"``.

    ``x`` is a ``kind="image"`` :class:`~zoo.data.dataset.MultiLabelDataset` (its name and split
    name the cache file) or the image rows themselves (file paths or a uint8 (n, h, w, 3) array).

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> imgs = rng.integers(0, 255, size=(24, 32, 32, 3), dtype=np.uint8)
        >>> y = (imgs.mean(axis=(1, 2, 3)) > 127).astype(int)[:, None]
        >>> m = BackboneFeatures(MLkNN(k=3), "resnet-small", weights=None, image_size=(32, 32))
        >>> m.fit(imgs, y).predict_proba(imgs[:2]).shape                    # doctest: +SKIP
        (2, 1)
    """

    def __init__(self, estimator, backbone: str = "efficientnet-lite0", weights="imagenet",
                 image_size=(224, 224), pooling: str = "avg"):
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {sorted(POOLINGS)}, got {pooling!r}")
        image_size = tuple(int(v) for v in image_size)
        if len(image_size) != 2 or min(image_size) < 1:
            raise ValueError(f"image_size must be (height, width), got {image_size!r}")
        self.estimator = estimator
        self.backbone = backbone
        self.weights = weights
        self.image_size = image_size
        self.pooling = pooling

    def encoder_record(self) -> dict:
        """What the results row records about the features (``"encoder"``)."""
        rec = {"backbone": self.backbone, "weights": self.weights,
               "image_size": list(self.image_size), "pooling": self.pooling,
               "pooling_description": POOLINGS[self.pooling], "frozen": True}
        if getattr(self, "feature_map_shape_", None) is not None:
            rec["feature_map"] = list(self.feature_map_shape_)
        return rec

    def _encoder(self):
        key = (self.backbone, self.weights, self.image_size + (3,))
        if key not in _BACKBONES:
            import zoo.models  # noqa: F401  (registers the backbones)
            from zoo.models import backbones
            _BACKBONES[key] = backbones.get(self.backbone, weights=self.weights,
                                            input_shape=self.image_size + (3,))
        return _BACKBONES[key]

    def features(self, x) -> np.ndarray:
        """The pooled (n, c) float32 features of the images ``x`` (see the class docstring)."""
        from zoo import encoding
        if getattr(x, "kind", "image") != "image":
            raise ValueError(f"BackboneFeatures needs images, got a {x.kind!r} dataset")
        rows = x if hasattr(x, "x") and hasattr(x, "split") else _Rows(x)
        if isinstance(rows.x, str) or len(rows) == 0:
            raise ValueError("BackboneFeatures needs a non-empty sequence of images")
        encoder = self._encoder()
        key = (self.backbone, self.weights, self.image_size, self.pooling, rows.name,
               rows.split, encoding._rows_digest(rows.x), id(encoder))
        if key not in _POOLED:
            fmap = encoding.encode(encoder, rows, self.image_size, verbose=False)
            if fmap.ndim != 4:
                raise ValueError(f"backbone {self.backbone!r} returned shape {fmap.shape}; "
                                 "expected a (n, h, w, c) feature map")
            self.feature_map_shape_ = fmap.shape[1:]
            pooled = (fmap.mean(axis=(1, 2), dtype=np.float32) if self.pooling == "avg"
                      else fmap.max(axis=(1, 2)).astype(np.float32))
            while len(_POOLED) >= _POOLED_MAX:
                _POOLED.pop(next(iter(_POOLED)))
            _POOLED[key] = (pooled, fmap.shape[1:])
        pooled, shape = _POOLED[key]
        self.feature_map_shape_ = tuple(int(v) for v in shape)
        return pooled

    def fit(self, x, y):
        self.estimator.fit(self.features(x), y)
        return self

    def predict_proba(self, x):
        return self.estimator.predict_proba(self.features(x))
