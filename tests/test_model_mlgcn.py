"""ML-GCN (Chen et al., CVPR 2019): correlation graph, GCN head, serialization, training."""
import keras
import numpy as np
import pytest

import zoo
from zoo import checkpoint
from zoo.models.mlgcn import (LabelGCNClassifier, conditional_probabilities, correlation_matrix,
                              mlgcn, normalize_adjacency)

# Hand-worked 4-label example (labels a, b, c, d; 5 training rows).
#   rows: {a,b} {a,b,c} {a} {b} {d}
#   N = (3, 3, 1, 1);  M_ab = 2, M_ac = 1, M_bc = 1, every pair with d = 0.
#   P(b|a) = 2/3, P(c|a) = 1/3, P(d|a) = 0
#   P(a|b) = 2/3, P(c|b) = 1/3, P(d|b) = 0
#   P(a|c) = 1,   P(b|c) = 1,   P(d|c) = 0
#   P(.|d) = 0
# tau = 0.4 -> A (off-diagonal): a->b, b->a, c->a, c->b; d has no neighbour.
# p = 0.2 (paper eq. 7): A'_ij = p / (#neighbours of i) for an edge, A'_ii = 1 - p:
#   row a: one neighbour  -> [0.8, 0.2, 0,   0]
#   row b: one neighbour  -> [0.2, 0.8, 0,   0]
#   row c: two neighbours -> [0.1, 0.1, 0.8, 0]
#   row d: none           -> [0,   0,   0,   1]  (documented choice: keeps all weight)
Y4 = np.array([[1, 1, 0, 0],
               [1, 1, 1, 0],
               [1, 0, 0, 0],
               [0, 1, 0, 0],
               [0, 0, 0, 1]], dtype=np.float32)
A4 = np.array([[0.8, 0.2, 0.0, 0.0],
               [0.2, 0.8, 0.0, 0.0],
               [0.1, 0.1, 0.8, 0.0],
               [0.0, 0.0, 0.0, 1.0]], dtype=np.float32)


def _leaky(x, slope=0.2):
    return np.where(x > 0, x, slope * x)


def test_conditional_probabilities_hand_worked():
    expected = np.array([[1, 2 / 3, 1 / 3, 0],
                         [2 / 3, 1, 1 / 3, 0],
                         [1, 1, 1, 0],
                         [0, 0, 0, 1]])
    np.testing.assert_allclose(conditional_probabilities(Y4), expected, atol=1e-12)


def test_correlation_matrix_hand_worked_and_row_sums():
    a = correlation_matrix(Y4, tau=0.4, p=0.2)
    np.testing.assert_allclose(a, A4, atol=1e-7)
    # Paper eq. 7: 1 - p on the diagonal + p spread over the neighbours -> each row sums to 1.
    np.testing.assert_allclose(a.sum(axis=1), np.ones(4), atol=1e-6)
    # another p: row c -> [0.25, 0.25, 0.5, 0]
    np.testing.assert_allclose(correlation_matrix(Y4, tau=0.4, p=0.5)[2], [0.25, 0.25, 0.5, 0])


def test_binarization_threshold_is_inclusive():
    # P(c|a) = P(c|b) = 1/3: an edge at tau <= 1/3, none above (A_ij = 1 iff P_ij >= tau).
    low = correlation_matrix(Y4, tau=1 / 3, p=0.2)
    np.testing.assert_allclose(low[0], [0.8, 0.1, 0.1, 0.0], atol=1e-7)
    np.testing.assert_allclose(low[1], [0.1, 0.8, 0.1, 0.0], atol=1e-7)
    high = correlation_matrix(Y4, tau=0.34, p=0.2)
    np.testing.assert_allclose(high, A4, atol=1e-7)
    # tau exactly 2/3 keeps the a<->b edges (>=); just above removes them, a and b isolated.
    at = correlation_matrix(Y4, tau=2 / 3, p=0.2)
    assert at[0, 1] == pytest.approx(0.2) and at[1, 0] == pytest.approx(0.2)
    above = correlation_matrix(Y4, tau=0.67, p=0.2)
    np.testing.assert_allclose(above[:2], [[1, 0, 0, 0], [0, 1, 0, 0]], atol=1e-7)
    np.testing.assert_allclose(above[2], [0.1, 0.1, 0.8, 0.0], atol=1e-7)  # P(.|c) = 1 stays


def test_unknown_labels_neither_add_nor_remove_evidence():
    from zoo.models.mlgcn import conditional_probabilities
    y = np.array([[1, 1, 0], [1, -1, 1], [1, 0, -1], [0, 1, 1]], np.float32)
    p = conditional_probabilities(y)
    # P(b | a): a positive in rows 0-2, b known in rows 0 and 2, positive in row 0 -> 1/2
    assert p[0, 1] == pytest.approx(0.5)
    # P(c | a): c known in rows 0 and 1, positive in row 1 -> 1/2
    assert p[0, 2] == pytest.approx(0.5)
    assert p[0, 0] == pytest.approx(1.0)
    # fully labelled rows give exactly M / N
    full = conditional_probabilities(Y4)
    m = Y4.T @ Y4
    np.testing.assert_allclose(full, m / np.diag(m)[:, None], atol=1e-12)
    import scipy.sparse as sp
    np.testing.assert_allclose(conditional_probabilities(sp.csr_matrix(y)), p, atol=1e-12)


def test_label_without_positives_is_isolated_and_errors():
    y = np.concatenate([Y4, np.zeros((5, 1), np.float32)], axis=1)  # label e never occurs
    a = correlation_matrix(y)
    np.testing.assert_allclose(a[4], [0, 0, 0, 0, 1])
    np.testing.assert_allclose(a[:, 4], [0, 0, 0, 0, 1])
    assert np.all(np.isfinite(a))
    with pytest.raises(ValueError, match="1 \\(positive\\), 0 \\(negative\\) or -1"):
        correlation_matrix(Y4 * 2)
    with pytest.raises(ValueError, match="tau"):
        correlation_matrix(Y4, tau=0.0)
    with pytest.raises(ValueError, match="train_labels"):
        mlgcn(num_features=3, num_labels=4)


@pytest.mark.multibackend
def test_symmetric_normalization_matches_hand_computation():
    a = np.array([[2.0, 2.0], [0.0, 0.5]], dtype=np.float32)  # row sums 4 and 0.5
    # D^-1/2 A D^-1/2: entry ij = a_ij / sqrt(d_i d_j)
    expected = np.array([[2 / 4, 2 / np.sqrt(4 * 0.5)], [0.0, 0.5 / 0.5]])
    np.testing.assert_allclose(np.asarray(normalize_adjacency(a)), expected, rtol=1e-6)
    # the paper's re-weighted matrices are row-stochastic: normalization leaves them unchanged
    np.testing.assert_allclose(np.asarray(normalize_adjacency(A4)), A4, atol=1e-6)


def _small_model(adjacency=A4, use_bias=False):
    keras.utils.set_random_seed(1)
    inputs = keras.Input((5,))
    head = LabelGCNClassifier(4, adjacency=adjacency, hidden_units=7, embedding_dim=3,
                              use_bias=use_bias, name="head")
    return keras.Model(inputs, head(inputs)), head


@pytest.mark.multibackend
def test_head_matches_numpy_reference_and_depends_on_graph():
    model, head = _small_model()
    x = np.random.default_rng(0).normal(size=(6, 5)).astype(np.float32)
    e, k1, k2 = (np.asarray(w) for w in (head.node_embedding, head.gcn_kernel_1, head.gcn_kernel_2))
    # paper eq. 2, two layers: W = Â LeakyReLU(Â E K1) K2 ; logits = x W^T  (Â = A4 here)
    w = A4 @ _leaky(A4 @ e @ k1) @ k2
    np.testing.assert_allclose(np.asarray(model(x)), x @ w.T, rtol=1e-4, atol=1e-5)
    before = np.asarray(model(x))
    head.adjacency.assign(np.eye(4, dtype=np.float32))
    after = np.asarray(model(x))
    w_id = _leaky(e @ k1) @ k2
    np.testing.assert_allclose(after, x @ w_id.T, rtol=1e-4, atol=1e-5)
    assert np.abs(after - before).max() > 1e-3
    assert "adjacency" not in {v.path.split("/")[-1] for v in head.trainable_weights}


def test_builder_stores_train_graph_and_survives_from_config():
    rng = np.random.default_rng(0)
    y = (rng.random((40, 4)) < 0.4).astype(np.float32)
    model = mlgcn(num_features=6, num_labels=4, train_labels=y, encoder_units=(8,), gcn_hidden=16,
                  embedding_dim=5, mean=np.zeros(6), variance=np.ones(6))
    head = model.get_layer("gcn_classifier")
    np.testing.assert_allclose(np.asarray(head.adjacency), correlation_matrix(y))
    # zoo.checkpoint._save_keras does exactly this
    clone = model.__class__.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    x = rng.normal(size=(3, 6)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(clone(x)), np.asarray(model(x)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(clone.get_layer("gcn_classifier").adjacency),
                               correlation_matrix(y))


def test_checkpoint_write_read_round_trip(tmp_path):
    model = mlgcn(num_features=6, num_labels=4, train_labels=Y4, encoder_units=(8,), gcn_hidden=16,
                  embedding_dim=5, use_bias=True)
    x = np.random.default_rng(1).normal(size=(5, 6)).astype(np.float32)
    card = checkpoint.new_card(
        name="toy/mlgcn", architecture="mlgcn", dataset="toy", kind="features",
        label_names=list("abcd"), input_spec={"kind": "features", "num_features": 6, "sparse": False},
        architecture_options={}, thresholds=zoo.thresholds.GlobalThreshold(0.5).to_dict(),
        recipe={}, training={"seed": 0}, paper="Chen et al., CVPR 2019")
    folder = checkpoint.write(tmp_path / "toy-mlgcn", model, card)
    loaded, _ = checkpoint.read(folder)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(loaded.get_layer("gcn_classifier").adjacency), A4)


def test_short_training_on_emotions_lowers_loss(emotions_train):
    x, y = emotions_train
    keras.utils.set_random_seed(0)
    model = mlgcn(num_features=x.shape[1], num_labels=y.shape[1], train_labels=y,
                  encoder_units=(64,), gcn_hidden=64, embedding_dim=16)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True), jit_compile=False)
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=10, batch_size=128, verbose=0)
    after = model.evaluate(x, y, verbose=0)
    assert after < 0.85 * before, (before, after)
