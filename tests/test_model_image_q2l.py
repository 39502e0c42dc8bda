"""Query2Label (Liu et al. 2021): learnable label queries cross-attending to the spatial
feature tokens (+ 2-D sine positions), group-wise linear output."""
import keras
import numpy as np
import pytest

from image_models import SMALL, check_head_arch, check_output, check_round_trips, fit_lowers_loss
from zoo.models.image_q2l import build_head, q2l
from zoo.models import get_architecture

OPTS = dict(d_model=16, num_heads=2, intermediate_dim=32, dropout=0.0)
FMAP = (3, 3, 8)


def _head(**kw):
    keras.utils.set_random_seed(0)
    return build_head(FMAP, 4, **{**OPTS, **kw})


def _fmap(n=2, seed=0):
    return np.random.default_rng(seed).normal(size=(n,) + FMAP).astype("float32")


def _memory(head, fmap):
    """The decoder's inputs: encoded spatial tokens and their sine positions."""
    probe = keras.Model(head.input, [head.get_layer("encoder_0").output,
                                     head.get_layer("position_encoding").output])
    return probe(fmap)


def test_paper_defaults_scaled_for_cpu():
    d = get_architecture("q2l").defaults
    assert (d["encoder_layers"], d["decoder_layers"], d["num_heads"]) == (1, 2, 4)
    assert d["d_model"] == 256 and d["intermediate_dim"] == 4 * d["d_model"]
    assert d["dropout"] == 0.1 and d["query_self_attention"] is True


def test_one_learnable_query_per_label_attending_over_spatial_tokens():
    head = _head()
    decoder = head.get_layer("label_decoder")
    assert tuple(decoder.queries.shape) == (4, 16) and decoder.queries.trainable
    assert len(decoder.blocks) == 2 and all(b.self_attn is not None for b in decoder.blocks)
    tokens, pos = _memory(head, _fmap())
    weights = decoder.attention_weights(tokens, pos)
    assert len(weights) == 2                                    # one per decoder layer
    for w in weights:
        w = np.asarray(w)
        assert w.shape == (2, 2, 4, 9)                          # (batch, heads, labels, h*w)
        assert np.all(w >= 0)
        np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-5)   # softmax over positions
        assert w.std(axis=-1).max() > 0     # not uniform: queries weigh positions differently


def test_changing_one_spatial_token_changes_the_logits():
    head = _head()
    fmap = _fmap(1)
    before = np.asarray(head(fmap))
    changed = fmap.copy()
    changed[0, 2, 1] += 3.0                                     # one of the 9 positions
    after = np.asarray(head(changed))
    assert np.all(np.abs(after - before) > 1e-6)                # every label's logit moves


def test_positions_matter_through_the_sine_encoding():
    head = _head()
    fmap = _fmap(1)
    swapped = fmap.copy()
    swapped[0, 0, 0], swapped[0, 2, 2] = fmap[0, 2, 2], fmap[0, 0, 0]
    assert np.abs(np.asarray(head(swapped)) - np.asarray(head(fmap))).max() > 1e-5


def test_decoder_without_query_self_attention_option():
    head = _head(query_self_attention=False)
    assert all(b.self_attn is None for b in head.get_layer("label_decoder").blocks)
    with pytest.raises(ValueError, match="divisible"):
        build_head(FMAP, 4, d_model=10, num_heads=4)


def test_full_model_round_trip(tmp_path):
    keras.utils.set_random_seed(0)
    model = q2l(5, **SMALL, **OPTS)
    check_output(model, 5)
    check_head_arch(model, "q2l")
    check_round_trips(model, tmp_path)


def test_short_fit_lowers_loss():
    # one decoder layer: tracing the gradient of every attention layer is what costs time here
    keras.utils.set_random_seed(0)
    fit_lowers_loss(q2l(5, **SMALL, **{**OPTS, "decoder_layers": 1}), 5)
