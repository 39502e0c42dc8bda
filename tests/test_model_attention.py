"""Label-wise attention (LWAN / CAML) and LSAN: attention, fusion, masking, checkpoints."""
import keras
import numpy as np
import pytest

import zoo
from zoo import checkpoint
from zoo.models.lsan import AdaptiveFusion, LabelAttention, lsan
from zoo.models.lwan import LabelWiseAttention, LabelWiseDense, lwan

TEXTS = ["the film was good", "a bad bad film", "", "good good news today for everyone here"]
SMALL = {"embedding_dim": 6, "rnn_units": 3}


def _np_softmax_masked(s, m):
    """Reference: softmax over axis 0 of the entries with m true, 0 elsewhere."""
    s = np.where(m, s, -np.inf)
    e = np.exp(s - s.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


@pytest.mark.multibackend
@pytest.mark.parametrize("units", [None, 5])
def test_label_wise_attention_is_one_distribution_per_label_zero_on_padding(units):
    rng = np.random.default_rng(0)
    h = rng.normal(size=(3, 7, 4)).astype(np.float32)
    mask = np.array([[1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0]], bool)
    layer = LabelWiseAttention(num_labels=6, attention_units=units)
    v, a = layer(h, mask=mask, return_attention=True)
    a, v = np.asarray(a), np.asarray(v)
    assert a.shape == (3, 6, 7) and v.shape == (3, 6, 4)
    np.testing.assert_allclose(a.sum(-1), np.ones((3, 6)), atol=1e-6)
    assert np.all(a[:, :, :][~np.broadcast_to(mask[:, None, :], a.shape)] == 0.0)
    assert np.all(a >= 0)
    # one token only: all of its weight goes there, so v_l = H_0 for every label
    np.testing.assert_allclose(v[2], np.repeat(h[2, :1], 6, axis=0), atol=1e-6)
    # labels have different distributions (their own queries)
    assert np.abs(a[0, 0] - a[0, 1]).max() > 1e-4


@pytest.mark.multibackend
def test_label_wise_attention_hand_example_and_numpy_reference():
    # Hand example (CAML scores u_l . H_t): 3 tokens (the last one padding), d = 2, 2 labels.
    #   H = [[0, 0], [ln 3, 1], [9, 9]];  u_1 = (1, 0), u_2 = (0, -1)
    #   label 1: scores (0, ln 3)  -> a = (1/4, 3/4, 0), v = 1/4 H_0 + 3/4 H_1 = (3/4 ln 3, 3/4)
    #   label 2: scores (0, -1)    -> a = (e/(e+1), 1/(e+1), 0), v = (ln3/(e+1), 1/(e+1))
    ln3, e = np.log(3.0), np.e
    h = np.array([[[0.0, 0.0], [ln3, 1.0], [9.0, 9.0]]], np.float32)
    mask = np.array([[True, True, False]])
    layer = LabelWiseAttention(num_labels=2)
    layer.build(h.shape)
    layer.queries.assign(np.array([[1.0, 0.0], [0.0, -1.0]], np.float32))   # (d, L) = [u_1 u_2]
    v, a = layer(h, mask=mask, return_attention=True)
    np.testing.assert_allclose(np.asarray(a)[0], [[0.25, 0.75, 0], [e / (e + 1), 1 / (e + 1), 0]],
                               atol=1e-6)
    np.testing.assert_allclose(np.asarray(v)[0], [[0.75 * ln3, 0.75], [ln3 / (e + 1), 1 / (e + 1)]],
                               atol=1e-6)

    # tanh form against an independent numpy computation, random weights
    rng = np.random.default_rng(3)
    h = rng.normal(size=(2, 5, 4)).astype(np.float32)
    mask = np.array([[1, 1, 1, 1, 0], [1, 1, 0, 0, 0]], bool)
    layer = LabelWiseAttention(num_labels=3, attention_units=6)
    v, a = layer(h, mask=mask, return_attention=True)
    w, c, u = (np.asarray(x, np.float64) for x in (layer.projection, layer.projection_bias, layer.queries))
    for i in range(2):
        s = np.tanh(h[i] @ w + c) @ u                                   # (T, L)
        ref_a = _np_softmax_masked(s, np.repeat(mask[i][:, None], 3, axis=1))
        np.testing.assert_allclose(np.asarray(a)[i], ref_a.T, atol=1e-5)
        np.testing.assert_allclose(np.asarray(v)[i], ref_a.T @ h[i], atol=1e-5)


@pytest.mark.multibackend
def test_empty_document_gets_zero_attention_not_nan():
    v, a = LabelWiseAttention(2)(np.ones((1, 4, 3), np.float32), mask=np.zeros((1, 4), bool),
                                 return_attention=True)
    assert np.all(np.asarray(a) == 0) and np.all(np.asarray(v) == 0)


@pytest.mark.multibackend
def test_label_wise_dense_is_one_weight_vector_per_label():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 3, 4)).astype(np.float32)
    layer = LabelWiseDense()
    out = np.asarray(layer(x))
    w, b = np.asarray(layer.kernel), np.asarray(layer.bias)
    ref = np.stack([[x[n, l] @ w[l] + b[l] for l in range(3)] for n in range(2)])
    np.testing.assert_allclose(out, ref, atol=1e-5)


@pytest.mark.multibackend
def test_adaptive_fusion_hand_example():
    # w_s = 0, b_s = 0 -> sigmoid 1/2;  w_l = 0, b_l = ln 3 -> sigmoid 3/4
    # alpha = (1/2) / (1/2 + 3/4) = 0.4, beta = 0.6;  out = 0.4 M_s + 0.6 M_l
    m_s = np.array([[[1.0, 2.0], [10.0, 0.0]]], np.float32)
    m_l = np.array([[[3.0, -2.0], [0.0, 5.0]]], np.float32)
    layer = AdaptiveFusion()
    layer.build([m_s.shape, m_l.shape])
    layer.self_kernel.assign(np.zeros((2, 1), np.float32))
    layer.label_kernel.assign(np.zeros((2, 1), np.float32))
    layer.label_bias.assign(np.array([np.log(3.0)], np.float32))
    out, (alpha, beta) = layer([m_s, m_l], return_weights=True)
    np.testing.assert_allclose(np.asarray(alpha), np.full((1, 2, 1), 0.4), atol=1e-6)
    np.testing.assert_allclose(np.asarray(beta), np.full((1, 2, 1), 0.6), atol=1e-6)
    np.testing.assert_allclose(np.asarray(out), [[[2.2, -0.4], [4.0, 3.0]]], atol=1e-5)


@pytest.mark.multibackend
def test_adaptive_fusion_weights_sum_to_one_and_fuse_convexly():
    rng = np.random.default_rng(2)
    m_s, m_l = (rng.normal(size=(4, 5, 6)).astype(np.float32) for _ in range(2))
    layer = AdaptiveFusion()
    out, (alpha, beta) = layer([m_s, m_l], return_weights=True)
    alpha, beta, out = np.asarray(alpha), np.asarray(beta), np.asarray(out)
    np.testing.assert_allclose(alpha + beta, np.ones((4, 5, 1)), atol=1e-6)
    ws, bs, wl, bl = (np.asarray(x, np.float64) for x in
                      (layer.self_kernel, layer.self_bias, layer.label_kernel, layer.label_bias))
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    p, q = sig(m_s @ ws + bs), sig(m_l @ wl + bl)
    np.testing.assert_allclose(alpha, p / (p + q), atol=1e-5)
    np.testing.assert_allclose(out, alpha * m_s + beta * m_l, atol=1e-5)
    assert alpha.std() > 1e-3   # weights depend on the inputs (not a constant mix)


@pytest.mark.multibackend
@pytest.mark.parametrize("normalize", ["none", "softmax"])
def test_label_attention_matches_numpy_reference(normalize):
    rng = np.random.default_rng(4)
    k, num_labels = 3, 4
    h = rng.normal(size=(2, 5, 2 * k)).astype(np.float32)
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0]], bool)
    layer = LabelAttention(num_labels, normalize=normalize)
    out = np.asarray(layer(h, mask=mask))
    c = np.asarray(layer.label_embeddings, np.float64)                  # (L, k)
    for i in range(2):
        halves = []
        for hh in (h[i, :, :k], h[i, :, k:]):
            a = c @ hh.T                                                 # (L, T)  A = C H^T
            if normalize == "softmax":
                a = _np_softmax_masked(a.T, np.repeat(mask[i][:, None], num_labels, 1)).T
            else:
                a = a * mask[i]
            halves.append(a @ hh)
        np.testing.assert_allclose(out[i], np.concatenate(halves, axis=1), atol=1e-5)
    # padding states do not matter
    h2 = h.copy()
    h2[1, 2:] = 100.0
    np.testing.assert_allclose(np.asarray(layer(h2, mask=mask))[1], out[1], atol=1e-5)


@pytest.mark.parametrize("builder,extra", [(lwan, {}), (lwan, {"attention_units": 4}),
                                           (lsan, {"attention_units": 4, "mlp_units": 5})])
def test_models_ignore_padding_end_to_end(builder, extra):
    """The padding mask reaches the attention: more padding leaves the logits unchanged."""
    keras.utils.set_random_seed(0)
    short = builder(num_labels=3, train_inputs=TEXTS, sequence_length=8, **SMALL, **extra)
    vocab = short.get_layer("text_vectorizer").get_vocabulary()[2:]
    long = builder(num_labels=3, vocabulary=vocab, sequence_length=20, **SMALL, **extra)
    long.set_weights(short.get_weights())
    x = np.array(TEXTS[:2])
    np.testing.assert_allclose(np.asarray(long(x)), np.asarray(short(x)), atol=1e-5)
    # ...while the words themselves do matter
    assert np.abs(np.asarray(short(x))[0] - np.asarray(short(x))[1]).max() > 1e-6


def test_registered_and_builder_defaults():
    assert {"lwan", "lsan"} <= set(zoo.models.list_architectures())
    d = zoo.models.get_architecture("lsan").defaults
    assert (d["embedding_dim"], d["rnn_units"], d["attention_units"]) == (300, 300, 200)
    assert zoo.models.get_architecture("lwan").kind == "text"
    with pytest.raises(ValueError, match="normalize"):
        LabelAttention(2, normalize="sparsemax")
    with pytest.raises(ValueError, match="even"):
        LabelAttention(2)(np.ones((1, 3, 5), np.float32))


@pytest.mark.parametrize("arch", ["lwan", "lsan"])
def test_checkpoint_round_trip_with_raw_strings(arch, tmp_path):
    keras.utils.set_random_seed(1)
    extra = {"attention_units": 4, "mlp_units": 5} if arch == "lsan" else {}
    model = zoo.models.build(arch, num_labels=3, train_inputs=TEXTS, sequence_length=10,
                               **SMALL, **extra)
    card = checkpoint.new_card(
        name=f"toy/{arch}", architecture=arch, dataset="toy", kind="text",
        label_names=["a", "b", "c"], input_spec={"kind": "text"}, architecture_options={},
        thresholds=zoo.thresholds.GlobalThreshold(0.5).to_dict(), recipe={},
        training={"seed": 1}, paper="")
    folder = checkpoint.write(tmp_path / f"toy-{arch}", model, card)
    loaded, _ = checkpoint.read(folder)
    x = np.array(["good film", "unseen words only", "", "bad news film"])
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=1e-6)
    assert loaded.get_layer("text_vectorizer").get_vocabulary() == \
        model.get_layer("text_vectorizer").get_vocabulary()
