"""Checkpoint folders, the registry and zoo.load, against a small real model trained here."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import zoo
from zoo import checkpoint, registry
from zoo.errors import CheckpointError, NotFoundError

LABELS = ["amazed-suprised", "happy-pleased", "relaxing-calm", "quiet-still", "sad-lonely",
          "angry-aggresive"]


@pytest.fixture(scope="module")
def trained(emotions_train):
    import keras
    x, y = emotions_train
    keras.utils.set_random_seed(0)
    model = zoo.build("mlp", num_features=x.shape[1], num_labels=y.shape[1], hidden_units=(32,),
                      mean=x.mean(0), variance=x.var(0))
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=zoo.losses.get("bce"))
    model.fit(x, y, epochs=15, batch_size=64, verbose=0)
    return model, x, y


def _card(name="emotions/mlp", labels=LABELS, thresholds=None):
    return checkpoint.new_card(
        name=name, architecture="mlp", dataset="emotions", kind="features", label_names=labels,
        input_spec={"kind": "features", "num_features": 72, "sparse": False},
        architecture_options={"hidden_units": [32]},
        thresholds=thresholds or zoo.thresholds.GlobalThreshold(0.4).to_dict(),
        recipe={}, training={"wall_time_s": 1.0, "seed": 0}, paper="Nam et al. 2014")


@pytest.fixture()
def folder(trained, tmp_path):
    model, x, y = trained
    proba = 1 / (1 + np.exp(-np.asarray(model(x[:50]))))
    metrics = {"split": "test", "num_examples": 50,
               "metrics": zoo.metrics.evaluate(y[:50], proba, threshold=0.4)}
    return checkpoint.write(tmp_path / "ckpts" / "emotions-mlp", model, _card(), metrics=metrics)


def test_folder_layout_and_hashes(folder):
    names = {p.name for p in folder.iterdir()}
    assert {"config.json", "metadata.json", "model.weights.h5", "zoo.json", "metrics.json",
            "README.md"} <= names
    card = json.loads((folder / "zoo.json").read_text())
    assert set(card["files"]) == {"config.json", "metadata.json", "model.weights.h5",
                                  "metrics.json", "README.md"}
    assert card["label_names"] == LABELS
    assert card["training"]["hardware"]["cores"] == os.cpu_count()
    readme = (folder / "README.md").read_text()
    assert readme.startswith("---\nlibrary_name: keras\n")
    assert "model-index:" in readme and "micro_f1" in readme
    # The card's numbers are the metrics.json numbers.
    m = json.loads((folder / "metrics.json").read_text())["metrics"]
    assert f"{m['micro_f1']:.4f}" in readme
    # Nothing left behind by the atomic writer.
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]


def test_load_predicts_like_the_keras_model(folder, trained):
    model, x, _ = trained
    loaded = zoo.load(folder)
    assert loaded.label_names == LABELS
    want = 1 / (1 + np.exp(-np.asarray(model(x[:20]), dtype=np.float64)))
    np.testing.assert_allclose(loaded.predict_proba(x[:20]), want, rtol=1e-5, atol=1e-6)
    sets = loaded.predict_labels(x[:20])
    assert sets == [[LABELS[j] for j in np.argsort(-want[i], kind="stable") if want[i, j] >= 0.4]
                    for i in range(20)]
    # One row, sparse rows, and a different batch size give the same numbers.
    import scipy.sparse as sp
    np.testing.assert_allclose(loaded.predict_proba(x[0]), want[:1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(loaded.predict_proba(sp.csr_matrix(x[:20]), batch_size=7), want,
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(zoo.DataFormatError, match="72 features"):
        loaded.predict_proba(x[:3, :10])


def test_plain_keras_load_in_fresh_process(folder):
    code = (
        "import numpy as np, keras, zoo\n"
        f"m = keras.saving.load_model({str(folder)!r})\n"
        "print(m.outputs[0].shape[-1])\n"
        f"z = zoo.load({str(folder)!r})\n"
        "print(len(z.predict_labels(np.zeros((2, 72), 'float32'))))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["6", "2"]


def test_flipped_byte_is_refused(folder):
    w = folder / "model.weights.h5"
    data = bytearray(w.read_bytes())
    data[len(data) // 2] ^= 0x01
    w.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="model.weights.h5.*SHA-256"):
        zoo.load(folder)


def test_missing_file_is_refused(folder):
    (folder / "config.json").unlink()
    with pytest.raises(CheckpointError, match="missing config.json"):
        zoo.load(folder)


def test_wrong_label_count_is_refused(folder):
    card = json.loads((folder / "zoo.json").read_text())
    card["label_names"] = LABELS[:5]
    (folder / "zoo.json").write_text(json.dumps(card))
    with pytest.raises(CheckpointError, match="outputs 6 scores but zoo.json names 5 labels"):
        zoo.load(folder)


def test_index_hashes_override_the_folder(folder):
    """A tampered zoo.json cannot vouch for itself when the registry knows better."""
    expected = registry.index_record(checkpoint.read_card(folder), folder)["files"]
    card = json.loads((folder / "zoo.json").read_text())
    card["thresholds"] = zoo.thresholds.GlobalThreshold(0.01).to_dict()
    (folder / "zoo.json").write_text(json.dumps(card))
    checkpoint.verify(folder)  # its own hashes still agree
    with pytest.raises(CheckpointError, match="zoo.json.*registry"):
        checkpoint.verify(folder, expected)


def test_interrupted_save_leaves_nothing(trained, tmp_path, monkeypatch):
    import zoo.modelcard

    def boom(*a, **k):
        raise KeyboardInterrupt("simulated crash while writing the card")

    monkeypatch.setattr(zoo.modelcard, "render", boom)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.write(tmp_path / "emotions-mlp", trained[0], _card())
    assert list(tmp_path.iterdir()) == []


def test_overwrite_replaces_only_when_complete(folder, trained):
    with pytest.raises(CheckpointError, match="already exists"):
        checkpoint.write(folder, trained[0], _card())
    before = (folder / "zoo.json").read_text()
    checkpoint.write(folder, trained[0], _card(thresholds=zoo.thresholds.GlobalThreshold(0.3).to_dict()),
                     overwrite=True)
    assert (folder / "zoo.json").read_text() != before
    assert zoo.load(folder).thresholds == zoo.thresholds.GlobalThreshold(0.3)


def test_update_metrics_rehashes(folder):
    checkpoint.update_metrics(folder, {"split": "test", "num_examples": 1, "metrics": {"micro_f1": 0.5}})
    card = checkpoint.verify(folder)
    assert "0.5000" in (folder / "README.md").read_text()
    assert card["files"]["metrics.json"]


def test_registry_names_derive_from_folders(folder, monkeypatch):
    monkeypatch.setenv("ZOO_CHECKPOINTS", str(folder.parent))
    assert "emotions/mlp" in zoo.list_models()
    assert zoo.list_models("*/mlp") == ["emotions/mlp"] or "emotions/mlp" in zoo.list_models("*/mlp")
    assert zoo.list_models("nothing/*") == []
    assert zoo.load("emotions/mlp").path == folder
    with pytest.raises(NotFoundError, match="no model named 'nope/mlp'.*Tried"):
        zoo.load("nope/mlp")


def test_architecture_registry():
    assert "mlp" in zoo.list_architectures()
    arch = zoo.models.get_architecture("mlp")
    assert arch.defaults["hidden_units"] == (1000,) and arch.defaults["dropout"] == 0.5
    with pytest.raises(TypeError, match="no option"):
        zoo.build("mlp", num_features=3, num_labels=2, hiden_units=(4,))
    with pytest.raises(NotFoundError, match="unknown architecture"):
        zoo.build("nope")


def test_shipped_index_in_sync_with_checkpoint_folders():
    """zoo/_index.json is generated by `zoo index`; it must match checkpoints/ exactly."""
    if not registry.SOURCE_CHECKPOINTS.is_dir():
        pytest.fail("source checkout without checkpoints/")
    assert registry.load_index() == registry.scan_checkpoints(registry.SOURCE_CHECKPOINTS)
