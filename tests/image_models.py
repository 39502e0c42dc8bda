"""Helpers shared by the image-architecture tests (tests/test_model_image_*.py).

The tests run on a random ``resnet-small`` backbone at 64x64 (a 2x2 feature map), never on
the pretrained EfficientNet, so that each file stays fast.
"""
import keras
import numpy as np

import zoo

SIZE = 64
SMALL = dict(image_size=(SIZE, SIZE), backbone="resnet-small", backbone_weights=None)


def images(n=4, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (n, SIZE, SIZE, 3)).astype("float32")


def labels(n=4, num_labels=5, seed=0, rate=0.4):
    y = (np.random.default_rng(seed + 1).random((n, num_labels)) < rate).astype("float32")
    y[:, 0] = 1.0  # every label column sees both values across rows in the usual sizes
    y[0, 0] = 0.0
    return y


def check_output(model, num_labels, n=3):
    out = np.asarray(model(images(n), training=False))
    assert out.shape == (n, num_labels)
    assert np.all(np.isfinite(out))
    assert [la.name for la in model.layers] == ["images", "backbone", "head"]
    return out


def check_round_trips(model, tmp_path, x=None):
    """``zoo.checkpoint``'s path: from_config + set_weights, then an unzipped Keras archive
    saved and loaded by ``keras.saving``: same class, same outputs."""
    x = images(3, seed=7) if x is None else x
    expected = np.asarray(model(x, training=False))
    clean = model.__class__.from_config(model.get_config())
    clean.set_weights(model.get_weights())
    np.testing.assert_allclose(np.asarray(clean(x, training=False)), expected, rtol=1e-5, atol=1e-5)
    folder = tmp_path / "archive"
    keras.saving.save_model(clean, str(folder), zipped=False)
    loaded = keras.saving.load_model(str(folder), compile=False, safe_mode=True)
    assert type(loaded) is type(model)
    np.testing.assert_allclose(np.asarray(loaded(x, training=False)), expected, rtol=1e-5, atol=1e-5)
    return loaded


def check_head_arch(model, arch):
    """The registered head pattern selects exactly the ``head`` sub-model."""
    assert zoo.models.get_architecture(arch).head_layers(model) == ["head"]


def fit_lowers_loss(model, num_labels, epochs=10, lr=3e-3, loss="bce"):
    """The CPU training path: cache the frozen backbone's feature maps once, fit the ``head``
    sub-model on them for a few steps (random data), and the full model -- which shares the
    head's weights -- has a lower loss on the images."""
    keras.utils.set_random_seed(0)
    x, y = images(16, seed=3), labels(16, num_labels, seed=3)
    backbone, head = model.get_layer("backbone"), model.get_layer("head")
    features = np.asarray(backbone.predict(x, verbose=0))
    head.compile(optimizer=keras.optimizers.Adam(lr), loss=zoo.losses.get(loss),
                 jit_compile=False)
    before = head.evaluate(features, y, verbose=0, batch_size=16)
    history = head.fit(features, y, epochs=epochs, batch_size=8, verbose=0)
    after = head.evaluate(features, y, verbose=0, batch_size=16)
    assert np.all(np.isfinite(history.history["loss"]))
    assert after < 0.9 * before, (before, after)
    # the full model now predicts with the trained head
    np.testing.assert_allclose(np.asarray(model(x[:4], training=False)),
                               np.asarray(head(features[:4], training=False)), rtol=1e-4, atol=1e-5)
    return before, after


def full_fit_runs(model, num_labels, epochs=3, lr=1e-3, loss="bce"):
    """Fine-tuning the whole model (backbone trainable) with ``fit``: finite, falling loss."""
    keras.utils.set_random_seed(0)
    x, y = images(16, seed=3), labels(16, num_labels, seed=3)
    model.compile(optimizer=keras.optimizers.Adam(lr), loss=zoo.losses.get(loss),
                  jit_compile=False)
    history = model.fit(x, y, epochs=epochs, batch_size=16, verbose=0).history["loss"]
    assert np.all(np.isfinite(history)) and history[-1] < history[0], history
    return history
