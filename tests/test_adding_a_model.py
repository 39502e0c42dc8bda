"""docs/adding_a_model.md, followed step by step by a toy architecture registered right here:
module -> recipe -> `zoo train` -> checkpoint -> index -> `zoo.load` -> leaderboard row,
then `zoo.create` and `zoo.finetune` re-head it, and the fine-tuned checkpoint's recorded
recipe re-runs with `zoo train`."""
from __future__ import annotations

import json

import keras
import numpy as np
import pytest

import zoo
from zoo import recipes, registry
from zoo.registry import register_architecture


@register_architecture("toy-linear", kind="features", paper="(test) a linear scorer",
                       head=("logits",))
def toy_linear(num_features: int, num_labels: int, hidden: int = 8, mean=None, variance=None):
    """Step 1 of the guide: a builder with the paper's defaults, logits out."""
    from zoo.models.mlp import feature_input
    inputs, x = feature_input(num_features, mean, variance)
    x = keras.layers.Dense(hidden, activation="relu", name="encoder_dense")(x)
    return keras.Model(inputs, keras.layers.Dense(num_labels, name="logits")(x), name="toy")


RECIPE = """
name = "emotions/toy-linear"
architecture = "toy-linear"
dataset = "emotions"
seed = 0

[model]
hidden = 8

[train]
epochs = 2
batch_size = 64
patience = 2

[thresholds]
rule = "global"
"""


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("toy")
    recipe = root / "recipes" / "emotions" / "toy-linear.toml"
    recipe.parent.mkdir(parents=True)
    recipe.write_text(RECIPE)
    ckpts = root / "checkpoints"
    out = recipes.train_recipe(recipe, out=ckpts / "emotions-toy-linear", verbose=0)
    return root, recipe, ckpts, out


def test_train_writes_a_complete_checkpoint(trained):
    _, _, _, out = trained
    for f in ("config.json", "metadata.json", "model.weights.h5", "zoo.json", "metrics.json",
              "README.md"):
        assert (out / f).is_file(), f
    card = json.loads((out / "zoo.json").read_text())
    assert card["architecture"] == "toy-linear" and card["kind"] == "features"
    assert card["input"] == {"kind": "features", "num_features": 72, "sparse": False}
    assert json.loads((out / "metrics.json").read_text()) == zoo.evaluate(out)


def test_index_load_and_leaderboard(trained, tmp_path, monkeypatch):
    _, _, ckpts, _ = trained
    index = registry.write_index(ckpts, tmp_path / "_index.json")
    assert list(index) == ["emotions/toy-linear"]
    monkeypatch.setenv("ZOO_CHECKPOINTS", str(ckpts))
    assert "emotions/toy-linear" in zoo.list_models("emotions")
    model = zoo.load("emotions/toy-linear")
    assert len(model.predict_labels(np.zeros((2, 72)))) == 2
    from zoo import leaderboard
    rows = leaderboard.checkpoint_rows(ckpts)
    assert [r["name"] for r in rows] == ["emotions/toy-linear"]
    written = json.loads((ckpts / "emotions-toy-linear" / "metrics.json").read_text())
    assert rows[0]["metrics"] == written["metrics"]


def test_create_and_finetune_rehead_the_toy(trained, tmp_path):
    _, _, _, out = trained
    net = zoo.create("toy-linear", num_labels=3, pretrained=out)
    assert net.output.shape[-1] == 3
    base = zoo.load(out).keras_model
    np.testing.assert_array_equal(net.get_layer("encoder_dense").get_weights()[0],
                                  base.get_layer("encoder_dense").get_weights()[0])

    # fine-tune on 3 of emotions' labels (a new label set: new head), from a CSV
    from zoo.data import MultiLabelDataset, load, write_csv
    ds = load("emotions", "train")
    sub = MultiLabelDataset(x=ds.x, y=ds.labels_dense()[:, :3], label_names=ds.label_names[:3],
                            name="mine")
    csv = write_csv(sub, tmp_path / "mine.csv")
    ft_out = tmp_path / "mine-toy"
    r = zoo.finetune(str(out), str(csv), out=ft_out, epochs=1, verbose=0,
                     label_columns="label:*", name="mine/toy-linear")
    assert r.card["finetune"]["reinitialized"] == {
        "logits": "depends on the label set (new labels)"}
    assert r.card["finetune"]["kept"] == ["encoder_dense"]

    # the fine-tuned checkpoint's recorded recipe re-runs with `zoo train`
    recipe = recipes.read_recipe(ft_out)
    assert recipe["finetune"]["base"] == str(out)
    again = recipes.train_recipe(ft_out, out=tmp_path / "again", verbose=0)
    card = json.loads((again / "zoo.json").read_text())
    assert card["finetune"]["base"] == str(out) and card["label_names"] == ds.label_names[:3]
    assert json.loads((again / "metrics.json").read_text())["num_examples"] == r.metrics[
        "num_examples"]


def test_recipe_schema_errors_name_the_key(tmp_path):
    from zoo.errors import DataFormatError
    bad = tmp_path / "bad.toml"
    bad.write_text(RECIPE + "\n[finetune]\nfreeze = 1\n")
    with pytest.raises(DataFormatError, match=r"bad.toml: unknown \[finetune\] key"):
        recipes.read_recipe(bad)
    bad.write_text(RECIPE.replace("[train]", "[data]\ntrain = 'x.csv'\n[train]"))
    with pytest.raises(DataFormatError, match=r"need a \[finetune\] section"):
        recipes.read_recipe(bad)
