"""Training image models the CPU way: frozen backbone, cached features, mirror images, post-hoc
logit adjustment, float16 weight storage (zoo.train / zoo.encoding / zoo.models.calibration)."""
from __future__ import annotations

import numpy as np
import pytest

from zoo.data import MultiLabelDataset


def _images(n, seed, L=4):
    rng = np.random.default_rng(seed)
    y = np.zeros((n, L), np.int8)
    x = rng.integers(0, 60, size=(n, 32, 32, 3)).astype(np.uint8)
    for i in range(n):
        labels = rng.choice(L, size=rng.integers(1, 3), replace=False, p=[0.55, 0.25, 0.15, 0.05])
        y[i, labels] = 1
        for j in labels:  # a bright stripe per label: learnable
            x[i, 4 + 6 * j: 8 + 6 * j, :, j % 3] = 250
    return MultiLabelDataset(x=x, y=y, label_names=[f"t{j}" for j in range(L)], kind="image",
                             name="stripes", split="train" if seed == 0 else "valid")


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "features"


def test_frozen_encoder_trains_only_the_head_and_caches_features(cache):
    from zoo.train import fit
    train, valid = _images(96, 0), _images(48, 1)
    opts = {"image_size": [32, 32], "backbone": "resnet-small", "backbone_weights": None}
    import keras
    keras.utils.set_random_seed(0)
    from zoo.train import build_model
    ref, _ = build_model("effnet", train, opts)
    before = [w.copy() for w in ref.get_layer("backbone").get_weights()]
    r = fit("effnet", train, valid, opts, epochs=3, batch_size=32, verbose=0, encoder="frozen",
            mirror=True, thresholds={"rule": "global"},
            logit_adjustment={"select_on": "precision_at_1", "taus": [0.0, 0.5, 1.0]})
    after = r.model.get_layer("backbone").get_weights()
    # same seed, same initial backbone; frozen: unchanged by training
    assert all(np.array_equal(a, b) for a, b in zip(before, after))
    assert sorted(p.name.split("-")[1] for p in cache.glob("*.npy")) == ["train", "train",
                                                                          "valid"]
    assert r.training["train_examples"] == 96          # the real rows, not the mirrored copies
    info = r.training["logit_adjustment"]
    assert info["select_on"] == "precision_at_1" and set(info["valid_scores"]) == {
        "0.0", "0.5", "1.0"}
    # a second run reuses the cache (no new files)
    fit("effnet", train, valid, opts, epochs=1, batch_size=32, verbose=0, encoder="frozen",
        mirror=True)
    assert len(list(cache.glob("*.npy"))) == 3


def test_logit_adjustment_keeps_the_unadjusted_decisions(cache):
    import keras

    from zoo import thresholds as th
    from zoo.inference import MultiLabelModel
    from zoo.train import fit
    train, valid = _images(96, 0), _images(48, 1)
    opts = {"image_size": [32, 32], "backbone": "resnet-small", "backbone_weights": None}
    r = fit("effnet", train, valid, opts, epochs=2, batch_size=32, verbose=0,
            encoder="frozen", thresholds={"rule": "global"}, logit_adjustment=1.0)
    names = [la.name for la in r.model._flatten_layers(include_self=False, recursive=False)]
    assert names[-1] == "logit_adjustment"
    assert isinstance(r.thresholds, th.PerLabelThreshold)
    plain = keras.Model(r.model.inputs, r.model.get_layer("logit_adjustment").input)
    adjusted = MultiLabelModel(r.model, train.label_names, r.thresholds,
                               card={"kind": "image", "input": {"image_size": [32, 32]}})
    unadjusted = MultiLabelModel(plain, train.label_names, card={"kind": "image",
                                                               "input": {"image_size": [32, 32]}})
    s_plain = unadjusted.predict_proba(valid.x)
    cut = r.training["logit_adjustment"]["global_cut"]
    np.testing.assert_array_equal(adjusted.predict(valid.x), (s_plain > cut).astype(np.int8))


def test_float16_storage_halves_the_weights_and_loads_as_float32(tmp_path):
    import zoo
    from zoo import checkpoint
    from zoo.models import build
    net = build("mlp", num_features=20, num_labels=3, hidden_units=(2000,))
    card = {"name": "t/mlp", "architecture": "mlp", "dataset": "t", "kind": "features",
            "input": {"kind": "features", "num_features": 20}, "label_names": ["a", "b", "c"]}
    full = checkpoint.write(tmp_path / "f32", net, card)
    half = checkpoint.write(tmp_path / "f16", net, {**card, "weights_dtype": "float16"})
    size = [(f / "model.weights.h5").stat().st_size for f in (full, half)]
    assert size[1] < 0.7 * size[0]
    a, b = zoo.load(full), zoo.load(half)
    assert all(str(w.dtype) == "float32" for w in b.keras_model.weights)
    x = np.random.default_rng(0).random((5, 20)).astype("float32")
    np.testing.assert_allclose(b.predict_proba(x), a.predict_proba(x), atol=2e-3)


@pytest.mark.slow
def test_finetune_an_image_checkpoint_on_an_image_folder(tmp_path, cache, capsys):
    """The README's promise: `zoo finetune` on a user image folder + label CSV, new labels."""
    import zoo
    from zoo.data.images import load_images  # noqa: F401  (TensorFlow decodes the PNGs)
    import tensorflow as tf
    rng = np.random.default_rng(0)
    rows = ["path,cat,dog"]
    for i in range(24):
        img = rng.integers(0, 255, size=(40, 48, 3)).astype(np.uint8)
        cat, dog = i % 2, int(i % 3 == 0)
        img[:, :, 0] = 250 if cat else img[:, :, 0]
        tf.io.write_file(str(tmp_path / f"im{i}.png"), tf.io.encode_png(img))
        rows.append(f"im{i}.png,{cat},{dog}")
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "mine"
    r = zoo.finetune("corel5k-images/effnet", str(tmp_path), out=out, epochs=2, verbose=0,
                     name="pets/effnet")
    assert r.card["finetune"]["reinitialized"]["head"].startswith("depends on the label set")
    assert "backbone" in r.card["finetune"]["kept"]
    assert r.card["training"]["train_config"]["encoder"] == "frozen"   # inherited
    model = zoo.load(out)
    assert model.label_names == ["cat", "dog"]
    sets = model.predict_labels([str(tmp_path / "im0.png"), str(tmp_path / "im1.png")])
    assert len(sets) == 2 and all(set(s) <= {"cat", "dog"} for s in sets)
    # `zoo predict` takes image files as they are (ids are the paths)
    import json

    from zoo import cli
    assert cli.main(["predict", str(out), str(tmp_path / "im0.png"), str(tmp_path / "im1.png"),
                     "--json"]) in (0, None)
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == [str(tmp_path / "im0.png"), str(tmp_path / "im1.png")]
