"""The training entry point: recipes, determinism, tf.distribute, the written checkpoint."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import zoo
from zoo import recipes, train
from zoo.data import load
from zoo.errors import DataFormatError

RECIPE = """
name = "emotions/mlp"
architecture = "mlp"
dataset = "emotions"
seed = 3

[model]
hidden_units = [16]

[train]
epochs = 3
batch_size = 64
patience = 2

[thresholds]
rule = "global"
"""


def test_recipe_to_checkpoint(tmp_path):
    recipe = tmp_path / "mlp.toml"
    recipe.write_text(RECIPE)
    out = recipes.train_recipe(recipe, out=tmp_path / "emotions-mlp", verbose=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["emotions-mlp", "mlp.toml"]
    model = zoo.load(out)
    card = model.card
    assert card["recipe"]["seed"] == 3 and card["training"]["epochs_run"] <= 3
    assert card["thresholds"]["rule"] == "global"
    hist = card["training"]["history"]  # per-epoch curves for `zoo plot history`
    assert len(hist["loss"]) == card["training"]["epochs_run"] and "val_micro_f1" in hist
    assert card["architecture_options"] == {"hidden_units": [16], "standardize": True}
    stored = json.loads((out / "metrics.json").read_text())
    assert stored["split"] == "test" and stored["num_examples"] == len(load("emotions", "test"))
    # metrics.json is what evaluating the folder gives.
    again = zoo.api.evaluate_folder(out)
    assert again["metrics"] == pytest.approx(stored["metrics"])


def test_pos_weight_auto_from_the_training_labels():
    tr, va = load("emotions", "train"), load("emotions", "valid")
    y = tr.labels_dense()
    w = train.resolve_pos_weight("auto", "bce", tr)
    np.testing.assert_allclose(w, (y == 0).sum(0) / (y == 1).sum(0))
    r = train.fit("mlp", tr, va, {"hidden_units": [8]}, verbose=0, epochs=1,
                  loss_options={"pos_weight": "auto"})
    assert r.model.loss.pos_weight == pytest.approx(w)
    assert r.training["train_config"]["loss_options"] == {"pos_weight": "auto"}
    with pytest.raises(zoo.ZooError, match="binary cross-entropy"):
        train.resolve_pos_weight("auto", "asl", tr)
    with pytest.raises(ValueError, match="6 labels"):
        train.resolve_pos_weight([1.0, 2.0], "bce", tr)


def test_same_seed_same_weights():
    tr, va = load("emotions", "train"), load("emotions", "valid")
    a = train.fit("mlp", tr, va, {"hidden_units": [8]}, seed=1, verbose=0, epochs=2)
    b = train.fit("mlp", tr, va, {"hidden_units": [8]}, seed=1, verbose=0, epochs=2)
    for wa, wb in zip(a.model.get_weights(), b.model.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert a.thresholds == b.thresholds


def test_input_pipelines_arrays_and_tf_data():
    """In-memory features train from arrays by default (the fast path); ``tf.data`` streams the
    same rows. Both learn the same task about equally well; bad values and impossible requests
    are refused by name."""
    import scipy.sparse as sp

    from zoo.data.pipeline import training_arrays
    tr, va = load("emotions", "train"), load("emotions", "valid")
    runs = {src: train.fit("mlp", tr, va, {"hidden_units": [16]}, seed=0, verbose=0, epochs=3,
                           input_pipeline=src) for src in ("auto", "tf.data")}
    assert runs["auto"].training["input_pipeline"] == "arrays"
    assert runs["tf.data"].training["input_pipeline"] == "tf.data"
    losses = {k: r.history["val_loss"][-1] for k, r in runs.items()}
    assert losses["auto"] == pytest.approx(losses["tf.data"], rel=0.1), losses
    # the arrays: dense float32, unknown labels (-1) kept, sparse rows densified, size-capped
    y = tr.labels_dense().copy()
    y[0, 0] = -1
    sparse = zoo.data.MultiLabelDataset(x=sp.csr_matrix(tr.features_dense()), y=y,
                                        label_names=tr.label_names)
    x, ya = training_arrays(sparse)
    assert x.dtype == ya.dtype == np.float32 and ya[0, 0] == -1
    np.testing.assert_array_equal(x, tr.features_dense())
    assert training_arrays(sparse, max_bytes=1000) is None
    text = zoo.data.MultiLabelDataset(x=["a b"] * 3, y=y[:3], label_names=tr.label_names,
                                      kind="text")
    assert training_arrays(text) is None
    with pytest.raises(ValueError, match="input_pipeline must be"):
        train.fit("mlp", tr, va, verbose=0, epochs=1, input_pipeline="fast")


@pytest.mark.parametrize("text,match", [
    ("name = 'x/y'\narchitecture = 'mlp'\n", "missing top-level key 'dataset'"),
    ("extra = 1\n" + RECIPE, "unknown top-level key"),
    (RECIPE + "\nthreshold = 0.3\n", r"unknown \[thresholds\] key"),
    (RECIPE.replace("epochs = 3", "epoch = 3"), r"unknown \[train\] key.*epoch"),
    ("name = [", "invalid TOML"),
])
def test_bad_recipes_name_the_file(tmp_path, text, match):
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(DataFormatError, match=match) as e:
        recipes.read_recipe(p)
    assert "bad.toml" in str(e.value)


def test_architecture_and_data_kind_must_agree():
    tr = load("emotions", "train")
    text = zoo.data.MultiLabelDataset(x=["a b"] * len(tr), y=tr.labels_dense(),
                                      label_names=tr.label_names, kind="text")
    with pytest.raises(zoo.ZooError, match="takes features inputs"):
        train.build_model("mlp", text)


def test_mirrored_strategy_on_two_logical_cpus(tmp_path):
    """fit() under tf.distribute.MirroredStrategy over two logical CPU devices."""
    code = textwrap.dedent("""
        import json, sys, tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])
        from zoo import train
        from zoo.data import load
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        tr, va = load("emotions", "train"), load("emotions", "valid")
        r = train.fit("mlp", tr, va, {"hidden_units": [16]}, strategy=strategy, verbose=0,
                      epochs=3, batch_size=32)
        print(json.dumps({"replicas": strategy.num_replicas_in_sync,
                          "loss": r.history["loss"], "strategy": r.training["strategy"]}))
    """)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=600, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["replicas"] == 2 and out["strategy"] == "MirroredStrategy"
    assert out["loss"][-1] < out["loss"][0]
