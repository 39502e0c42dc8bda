"""C-Tran (Lanchantin et al., CVPR 2021): one transformer over image tokens and label tokens with
state embeddings; Label Mask Training inside ``fit``; images-only inference."""
import keras
import numpy as np
import pytest

import zoo
from image_models import (SMALL, check_head_arch, check_output, check_round_trips,
                          fit_lowers_loss, images)
from zoo.models.image_ctran import CTranEncoder, LabelMaskModel, build_head, ctran, predict_with_states
from zoo.models import get_architecture

OPTS = dict(d_model=16, num_heads=2, num_layers=2, dropout=0.0)
FMAP = (2, 2, 8)
L = 6


def _head(**kw):
    keras.utils.set_random_seed(0)
    return build_head(FMAP, L, **{**OPTS, **kw})


def _fmap(n=3, seed=0):
    return np.random.default_rng(seed).normal(size=(n,) + FMAP).astype("float32")


def test_paper_defaults():
    d = get_architecture("ctran").defaults
    assert (d["num_layers"], d["num_heads"], d["dropout"]) == (3, 4, 0.1)
    assert d["max_known_fraction"] == 0.75 and d["loss_on"] == "unknown"
    assert d["intermediate_dim"] is None          # = d_model, as the reference


def test_revealing_a_label_changes_the_other_labels_logits():
    head = _head()
    layer = head.get_layer("ctran")
    f = _fmap()
    unknown = np.full((3, L), -1.0, "float32")
    base = np.asarray(layer(f, label_states=unknown))
    # inference: the model's own forward pass is the all-unknown one
    np.testing.assert_allclose(np.asarray(head(f)), base, rtol=1e-5, atol=1e-6)
    for value in (1.0, 0.0):                       # reveal label 0 as positive / as negative
        states = unknown.copy()
        states[:, 0] = value
        moved = np.abs(np.asarray(layer(f, label_states=states)) - base)
        assert np.all(moved[:, 1:] > 1e-6), (value, moved)   # every other label's logit moves
    pos, neg = unknown.copy(), unknown.copy()
    pos[:, 0], neg[:, 0] = 1.0, 0.0
    assert np.abs(np.asarray(layer(f, label_states=pos)) - np.asarray(layer(f, label_states=neg))).max() > 1e-5


def test_unknown_state_is_the_zero_vector():
    layer = _head().get_layer("ctran")
    v = np.asarray(layer.state_vectors(np.array([[-1.0, 0.0, 1.0]]), "float32"))[0]
    table = np.asarray(layer.state_embedding)
    np.testing.assert_array_equal(v[0], 0.0)
    np.testing.assert_allclose(v[1], table[0])
    np.testing.assert_allclose(v[2], table[1])


def test_label_mask_sampling():
    layer = CTranEncoder(8, seed=3)                # floor(0.75 * 8) = 6 labels at most
    rng = np.random.default_rng(0)
    y = (rng.random((3000, 8)) < 0.3).astype("float32")
    y[:100, :4] = -1.0                             # already-unknown labels
    states, y_loss = (np.asarray(t) for t in layer.sample_label_states(y))
    revealed = states != -1
    counts = revealed.sum(axis=1)
    assert counts.min() == 0 and counts.max() == 6
    # k ~ U{0..6}: each count about 1/7 of the rows (rows with unknowns capped lower)
    freq = np.bincount(counts[100:], minlength=7) / 2900
    assert np.all(np.abs(freq - 1 / 7) < 0.03), freq
    np.testing.assert_array_equal(states[revealed], y[revealed])   # revealed = true state
    assert not revealed[:100, :4].any()                            # unknowns never revealed
    np.testing.assert_array_equal(y_loss[revealed], -1.0)          # loss on the unknown ones
    np.testing.assert_array_equal(y_loss[~revealed], y[~revealed])
    # every label position gets revealed about equally often
    per_label = revealed[100:].mean(axis=0)
    assert per_label.max() - per_label.min() < 0.05
    all_loss = CTranEncoder(8, seed=3, loss_on="all")
    np.testing.assert_array_equal(np.asarray(all_loss.sample_label_states(y)[1]), y)


class _RecordingBCE(zoo.losses.WeightedBinaryCrossentropy):
    seen = []

    def call(self, y_true, y_pred):
        self.seen.append((np.asarray(y_true), np.asarray(y_pred)))
        return super().call(y_true, y_pred)


def test_fit_feeds_sampled_states_and_scores_unknown_labels(monkeypatch):
    head = _head(seed=1)
    layer = head.get_layer("ctran")
    sampled = []
    original = layer.sample_label_states

    def spy(y):
        out = original(y)
        sampled.append(tuple(np.asarray(t) for t in out))
        return out

    monkeypatch.setattr(layer, "sample_label_states", spy)
    f = _fmap(16, seed=2)
    y = (np.random.default_rng(2).random((16, L)) < 0.5).astype("float32")
    _RecordingBCE.seen.clear()
    head.compile(optimizer=keras.optimizers.SGD(0.0), loss=_RecordingBCE(), run_eagerly=True)
    logs = head.fit(f, y, epochs=1, batch_size=16, shuffle=False, verbose=0).history
    (states, y_loss), = sampled
    (y_true, y_pred), = _RecordingBCE.seen
    assert (states != -1).any()
    np.testing.assert_array_equal(y_true, y_loss)                  # revealed labels -> -1
    with_states = np.asarray(layer(f, label_states=states))
    np.testing.assert_allclose(y_pred, with_states, rtol=1e-5, atol=1e-6)   # states were used
    assert np.abs(with_states - np.asarray(head(f))).max() > 1e-5
    expected = float(zoo.losses.get("bce")(y_loss, with_states))
    assert logs["loss"][0] == pytest.approx(expected, rel=1e-5)
    assert layer._pending_states is None                           # cleared after the step


def test_loss_must_ignore_unknown_labels():
    head = _head()
    head.compile(optimizer="sgd", loss=keras.losses.BinaryCrossentropy(from_logits=True))
    with pytest.raises(TypeError, match="zoo.losses"):
        head.fit(_fmap(4), np.ones((4, L), "float32"), verbose=0)
    with pytest.raises(ValueError, match="loss_on"):
        build_head(FMAP, L, loss_on="revealed")


def test_images_only_model_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    model = ctran(5, **SMALL, **OPTS)
    assert isinstance(model, LabelMaskModel) and isinstance(model.get_layer("head"), LabelMaskModel)
    assert len(model.inputs) == 1 and model.inputs[0].name == "images"
    check_output(model, 5)
    check_head_arch(model, "ctran")
    loaded = check_round_trips(model, tmp_path)
    assert isinstance(loaded.get_layer("head"), LabelMaskModel)
    x = images(2)
    np.testing.assert_allclose(predict_with_states(model, x, np.full((2, 5), -1.0)),
                               model.predict(x, verbose=0), rtol=1e-5, atol=1e-5)
    revealed = predict_with_states(model, x, np.array([[1, -1, -1, -1, -1]] * 2))
    assert np.abs(revealed[:, 1:] - model.predict(x, verbose=0)[:, 1:]).max() > 1e-6
    with pytest.raises(ValueError, match="label_states"):
        predict_with_states(model, x, np.zeros((2, 4)))


def test_head_fit_on_cached_features_lowers_loss():
    keras.utils.set_random_seed(1)
    fit_lowers_loss(ctran(5, **SMALL, **{**OPTS, "num_layers": 1}), 5, epochs=12)


def test_full_model_fit_runs_label_mask_training(monkeypatch):
    """``fit`` on the images-only full model goes through the same LMT step (the backbone is
    frozen here only to keep the test fast)."""
    keras.utils.set_random_seed(2)
    model = ctran(5, **SMALL, **{**OPTS, "num_layers": 1})
    layer = model.get_layer("head").get_layer("ctran")
    calls = []
    original = layer.sample_label_states
    monkeypatch.setattr(layer, "sample_label_states", lambda y: calls.append(1) or original(y))
    model.get_layer("backbone").trainable = False
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=zoo.losses.get("bce"),
                  jit_compile=False)
    x, y = images(8, seed=3), (np.random.default_rng(3).random((8, 5)) < 0.4).astype("float32")
    loss = model.fit(x, y, epochs=2, batch_size=8, verbose=0).history["loss"]
    assert calls and np.all(np.isfinite(loss))
    assert layer._pending_states is None
