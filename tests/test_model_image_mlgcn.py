"""ML-GCN on images (Chen et al., CVPR 2019): classifiers from a GCN over the train-label
co-occurrence graph, applied to the globally max-pooled backbone feature."""
import keras
import numpy as np
import pytest

from image_models import (SMALL, check_head_arch, check_output, check_round_trips,
                          fit_lowers_loss, labels)
from zoo.models.image_mlgcn import build_head, mlgcn_image
from zoo.models.mlgcn import correlation_matrix

# labels a, b co-occur (P(b|a) = P(a|b) = 2/3); c always comes with a and b (P(a|c) = 1);
# d never co-occurs with anything (isolated: A'_dd = 1).
Y = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1]], "float32")
GRAPH = dict(gcn_hidden=16, embedding_dim=8)


def _leaky(x, slope=0.2):
    return np.where(x > 0, x, slope * x)


def test_graph_from_train_labels_with_paper_defaults():
    keras.utils.set_random_seed(0)
    model = mlgcn_image(4, train_labels=Y, **SMALL, **GRAPH)
    check_output(model, 4)
    check_head_arch(model, "mlgcn-image")
    gcn = model.get_layer("head").get_layer("gcn_classifier")
    # tau = 0.4, p = 0.2 (paper eqs. 5-7), computed from the training labels
    np.testing.assert_allclose(np.asarray(gcn.adjacency), correlation_matrix(Y, tau=0.4, p=0.2))
    assert np.asarray(gcn.adjacency)[0, 1] == pytest.approx(0.2)
    assert "adjacency" not in [w.path.split("/")[-1] for w in model.trainable_weights]
    # the paper's image representation: global max pooling of the feature map
    assert "global_max_pool" in [la.name for la in model.get_layer("head").layers]


def test_logits_are_pooled_feature_times_gcn_classifiers():
    keras.utils.set_random_seed(1)
    head = build_head((3, 3, 6), 4, train_labels=Y, **GRAPH)
    fmap = np.random.default_rng(0).normal(size=(2, 3, 3, 6)).astype("float32")
    gcn = head.get_layer("gcn_classifier")
    a = correlation_matrix(Y)            # row-stochastic: the symmetric normalization keeps it
    e, k1, k2 = (np.asarray(w) for w in (gcn.node_embedding, gcn.gcn_kernel_1, gcn.gcn_kernel_2))
    w = a @ _leaky(a @ e @ k1) @ k2                      # (L, D) classifiers, paper eq. 2
    f = fmap.max(axis=(1, 2))                            # global max pooling, (B, D)
    np.testing.assert_allclose(np.asarray(head(fmap)), f @ w.T, rtol=1e-4, atol=1e-5)


def test_classifiers_depend_on_the_cooccurrence_matrix():
    keras.utils.set_random_seed(2)
    correlated = build_head((2, 2, 6), 4, train_labels=Y, **GRAPH)
    keras.utils.set_random_seed(2)                       # same initial weights ...
    independent = build_head((2, 2, 6), 4, train_labels=np.eye(4, dtype="float32"), **GRAPH)
    for a, b in zip(correlated.weights, independent.weights):
        if "adjacency" not in a.path:
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    w_corr = np.asarray(correlated.get_layer("gcn_classifier").classifiers())
    w_ind = np.asarray(independent.get_layer("gcn_classifier").classifiers())
    # ... different graphs: a and b (linked in Y) get different classifiers; d (isolated in
    # both graphs, A'_dd = 1) keeps its own
    assert np.abs(w_corr[:2] - w_ind[:2]).max() > 1e-3
    np.testing.assert_allclose(w_corr[3], w_ind[3], rtol=1e-5, atol=1e-6)


def test_train_labels_required_and_checked():
    with pytest.raises(ValueError, match="train_labels"):
        mlgcn_image(4, **SMALL)
    with pytest.raises(ValueError, match="label columns"):
        build_head((2, 2, 6), 5, train_labels=Y)
    with pytest.raises(ValueError, match="pooling"):
        build_head((2, 2, 6), 4, train_labels=Y, pooling="sum")


def test_round_trip_keeps_the_graph(tmp_path):
    keras.utils.set_random_seed(3)
    model = mlgcn_image(4, train_labels=Y, **SMALL, **GRAPH)
    loaded = check_round_trips(model, tmp_path)
    np.testing.assert_allclose(
        np.asarray(loaded.get_layer("head").get_layer("gcn_classifier").adjacency),
        correlation_matrix(Y))


def test_short_fit_lowers_loss():
    keras.utils.set_random_seed(4)
    model = mlgcn_image(5, train_labels=labels(16, 5, seed=3), **SMALL, **GRAPH)
    fit_lowers_loss(model, 5)
