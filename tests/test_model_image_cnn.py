"""Image plumbing (images -> backbone -> head), the ``cnn`` baseline (He et al. 2016: residual
blocks) and ``effnet`` (Ridnik et al. 2021 setup: pretrained backbone + GAP/dropout/linear)."""
import keras
import numpy as np
import pytest

from image_models import (SMALL, check_head_arch, check_output, check_round_trips, fit_lowers_loss,
                          full_fit_runs, images)
from zoo.errors import NotFoundError
from zoo.models import backbones
from zoo.models.image_cnn import ResidualBlock, build_head, cnn
from zoo.models.image_common import GroupWiseLinear, sine_position_encoding
from zoo.models.image_effnet import effnet
from zoo.models import get_architecture

TINY = dict(image_size=(64, 64), widths=(8, 16), blocks=(1, 1))


# ----------------------------------------------------------------------------- residual blocks
def _zero_residual_branch(block):
    """Make F(x) == 0: the last BN of the residual branch outputs beta = 0 (gamma = 0)."""
    block.bn2.gamma.assign(np.zeros(block.bn2.gamma.shape, "float32"))
    block.bn2.beta.assign(np.zeros(block.bn2.beta.shape, "float32"))


def test_identity_block_adds_its_input():
    keras.utils.set_random_seed(0)
    block = ResidualBlock(6)
    x = np.random.default_rng(0).normal(size=(2, 5, 5, 6)).astype("float32")
    out = np.asarray(block(x, training=False))
    f = np.asarray(block.residual(x, training=False))
    np.testing.assert_allclose(out, np.maximum(f + x, 0), rtol=1e-5, atol=1e-5)
    assert not block.projection
    # with the residual branch silenced the block is ReLU(x): the identity path carries x
    _zero_residual_branch(block)
    np.testing.assert_allclose(np.asarray(block(x, training=False)), np.maximum(x, 0), atol=1e-6)


def test_projection_shortcut_when_shape_changes():
    keras.utils.set_random_seed(1)
    block = ResidualBlock(8, stride=2)
    x = np.random.default_rng(1).normal(size=(2, 6, 6, 4)).astype("float32")
    assert tuple(block(x).shape) == (2, 3, 3, 8) and block.projection
    _zero_residual_branch(block)
    # only the 1x1 strided projection (+BN, inference mode) remains
    expected = np.maximum(np.asarray(block.shortcut_bn(block.shortcut_conv(x), training=False)), 0)
    np.testing.assert_allclose(np.asarray(block(x, training=False)), expected, atol=1e-5)
    assert np.abs(expected).max() > 1e-3


def test_trunk_with_silenced_branches_still_passes_the_image():
    """Residual connection end to end: with every F == 0 the output still depends on the image."""
    trunk = backbones.get("resnet-small", weights=None, input_shape=(64, 64, 3),
                          widths=(8, 16), blocks=(2, 2))
    for layer in trunk.layers:
        if isinstance(layer, ResidualBlock):
            _zero_residual_branch(layer)
    a, b = (np.asarray(trunk(images(1, seed=s), training=False)) for s in (1, 2))
    assert np.abs(a - b).max() > 1e-4


def test_resnet_small_backbone_registry():
    assert "resnet-small" in backbones.names()
    net = backbones.get("resnet-small", weights=None, input_shape=(64, 64, 3))
    assert tuple(net.output.shape) == (None, 2, 2, 256)       # /32, width 256
    with pytest.raises(ValueError, match="no pretrained weights"):
        backbones.get("resnet-small", weights="imagenet")
    with pytest.raises(NotFoundError, match="resnet-small"):
        backbones.get("no-such-net")


# ----------------------------------------------------------------------------- cnn
def test_cnn_output_head_and_round_trip(tmp_path):
    keras.utils.set_random_seed(0)
    model = cnn(4, **TINY)
    check_output(model, 4)
    check_head_arch(model, "cnn")
    assert tuple(model.get_layer("head").input.shape) == (None, 8, 8, 16)   # stem /4, stage 2 /2
    check_round_trips(model, tmp_path)
    # the paper's ResNet-18 layout at half width: 4 stages x 2 basic blocks
    full = cnn(3)
    blocks = [la for la in full.get_layer("backbone").layers if isinstance(la, ResidualBlock)]
    assert [b.filters for b in blocks] == [32, 32, 64, 64, 128, 128, 256, 256]
    assert tuple(full.get_layer("backbone").output.shape) == (None, 7, 7, 256)


def test_cnn_trains_from_scratch():
    keras.utils.set_random_seed(0)
    model = cnn(5, **TINY)
    full_fit_runs(model, 5, epochs=4)


def test_build_head_alone_matches_the_model_head():
    head = build_head((2, 2, 16), 3)
    assert head.name == "head" and tuple(head.output.shape) == (None, 3)
    with pytest.raises(ValueError, match="feature_shape"):
        build_head((2, 16), 3)


# ----------------------------------------------------------------------------- effnet
def test_effnet_defaults_and_head():
    arch = get_architecture("effnet")
    assert arch.defaults["backbone"] == "efficientnet-lite0"
    assert arch.defaults["backbone_weights"] == "imagenet"
    assert arch.defaults["dropout"] == 0.2 and arch.kind == "image" and arch.head == ("head",)
    keras.utils.set_random_seed(0)
    model = effnet(5, **SMALL)
    check_output(model, 5)
    head = model.get_layer("head")
    assert [type(la).__name__ for la in head.layers] == [
        "InputLayer", "GlobalAveragePooling2D", "Dropout", "Dense"]
    with pytest.raises(NotFoundError, match="unknown image backbone"):
        effnet(5, backbone="no-such-net", backbone_weights=None)


def test_effnet_round_trip_and_fit(tmp_path):
    keras.utils.set_random_seed(0)
    model = effnet(5, **SMALL)
    check_round_trips(model, tmp_path)
    fit_lowers_loss(model, 5, loss="asl")


# ----------------------------------------------------------------------------- shared layers
def test_sine_position_encoding_layout():
    pos = sine_position_encoding(3, 4, 8)
    assert pos.shape == (12, 8) and np.all(np.abs(pos) <= 1)
    grid = pos.reshape(3, 4, 8)
    # first half encodes the row only, second half the column only (row-major tokens)
    np.testing.assert_allclose(grid[:, 0, :4], grid[:, 3, :4])
    np.testing.assert_allclose(grid[0, :, 4:], grid[2, :, 4:])
    # DETR normalize=True: y = (i + 1) / h * 2 pi; channel 0 = sin(y), channel 1 = cos(y)
    y = 1 / (3 + 1e-6) * 2 * np.pi
    np.testing.assert_allclose(grid[0, 0, :2], [np.sin(y), np.cos(y)], rtol=1e-6)
    assert len({tuple(r.round(5)) for r in pos}) == 12    # every position distinct
    with pytest.raises(ValueError, match="divisible by 4"):
        sine_position_encoding(2, 2, 6)


def test_group_wise_linear_is_one_classifier_per_label():
    layer = GroupWiseLinear()
    h = np.random.default_rng(0).normal(size=(2, 3, 4)).astype("float32")
    out = np.asarray(layer(h))
    w, b = np.asarray(layer.kernel), np.asarray(layer.bias)
    np.testing.assert_allclose(out, np.einsum("bld,ld->bl", h, w) + b, rtol=1e-5, atol=1e-6)
