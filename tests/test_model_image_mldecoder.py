"""ML-Decoder (Ridnik et al., WACV 2023): cross-attention only (no self-attention), K fixed
group queries (default min(100, L)), group fully-connected expansion to L logits."""
import keras
import numpy as np
import pytest

from image_models import SMALL, check_head_arch, check_output, check_round_trips, fit_lowers_loss
from zoo.models.image_mldecoder import GroupFullyConnected, build_head, ml_decoder, num_groups_for
from zoo.models import get_architecture

OPTS = dict(d_model=16, num_heads=2, intermediate_dim=32, dropout=0.0)
FMAP = (2, 3, 8)


def _fmap(n=2, seed=0):
    return np.random.default_rng(seed).normal(size=(n,) + FMAP).astype("float32")


def test_number_of_group_queries():
    assert num_groups_for(260) == 100 and num_groups_for(5) == 5       # min(100, L)
    assert num_groups_for(7, 3) == 3 and num_groups_for(5, 10) == 5 and num_groups_for(9, -1) == 9
    with pytest.raises(ValueError, match="num_groups"):
        num_groups_for(5, 0)
    head = build_head(FMAP, 260, **OPTS)
    decoder, fc = head.get_layer("group_decoder"), head.get_layer("group_fc")
    assert decoder.num_queries == 100 and tuple(decoder.queries.shape) == (100, 16)
    assert fc.group_size == 3 and tuple(fc.kernel.shape) == (100, 16, 3)   # ceil(260 / 100)
    assert tuple(head.output.shape) == (None, 260)
    d = get_architecture("ml-decoder").defaults
    assert (d["num_groups"], d["d_model"], d["num_heads"], d["num_layers"],
            d["intermediate_dim"], d["learnable_queries"]) == (None, 768, 8, 1, 2048, False)


def test_decoder_has_no_self_attention():
    head = build_head(FMAP, 7, num_groups=3, num_layers=2, **OPTS)
    decoder = head.get_layer("group_decoder")
    assert all(b.self_attn is None and not b.self_attention for b in decoder.blocks)
    attention = [la for la in head._flatten_layers(include_self=False, recursive=True)
                 if isinstance(la, keras.layers.MultiHeadAttention)]
    assert [la.name for la in attention] == ["cross_attention", "cross_attention"]  # one per block


def test_group_queries_are_decoded_independently():
    """Without self-attention, moving one group query changes only its own group's logits."""
    keras.utils.set_random_seed(0)
    head = build_head(FMAP, 7, num_groups=3, **OPTS)           # g = 3: groups {0-2} {3-5} {6}
    fmap = _fmap()
    before = np.asarray(head(fmap))
    queries = head.get_layer("group_decoder").queries
    q = np.asarray(queries).copy()
    q[1] = np.random.default_rng(5).normal(size=q.shape[1])  # (a constant shift would vanish
                                                              # in the first LayerNorm)
    queries.assign(q)
    after = np.asarray(head(fmap))
    moved = np.abs(after - before).max(axis=0) > 1e-6
    np.testing.assert_array_equal(moved, [False, False, False, True, True, True, False])


def test_group_fully_connected_matches_numpy():
    layer = GroupFullyConnected(7)
    h = np.random.default_rng(1).normal(size=(2, 3, 4)).astype("float32")
    out = np.asarray(layer(h))
    w, b = np.asarray(layer.kernel), np.asarray(layer.bias)
    assert w.shape == (3, 4, 3)
    expected = np.stack([np.concatenate([h[i, k] @ w[k] for k in range(3)])[:7] for i in range(2)]) + b
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_queries_are_fixed_and_model_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    model = ml_decoder(5, **SMALL, num_groups=2, **OPTS)
    check_output(model, 5)
    check_head_arch(model, "ml-decoder")
    queries = model.get_layer("head").get_layer("group_decoder").queries
    assert not queries.trainable
    assert all(w.path != queries.path for w in model.trainable_weights)
    loaded = check_round_trips(model, tmp_path)     # the fixed queries travel with the weights
    np.testing.assert_array_equal(
        np.asarray(loaded.get_layer("head").get_layer("group_decoder").queries), np.asarray(queries))


def test_short_fit_lowers_loss_and_keeps_the_queries():
    keras.utils.set_random_seed(1)
    model = ml_decoder(5, **SMALL, num_groups=2, **OPTS)
    queries = model.get_layer("head").get_layer("group_decoder").queries
    start = np.asarray(queries).copy()
    fit_lowers_loss(model, 5)
    np.testing.assert_array_equal(np.asarray(queries), start)
