"""zoo.finetune / `zoo finetune`: custom data, new heads, frozen epochs, input checks, errors.

Data: MULAN yeast exported to CSV with write_csv under a different label set (5 of its 14
labels, renamed), emotions for a 72-feature width, and a small hand-written JSONL text set for
goemotions/kimcnn. Runs are 1-2 epochs on a few hundred rows: the assertions are about what the
fine-tuning machinery does (which weights were copied, frozen, re-initialized, masked), checked
against the base checkpoints' actual weights, not about accuracy.
"""
import importlib
import json
import sys

import numpy as np
import pytest

import zoo
from zoo import cli
from zoo.data import MultiLabelDataset, load, read_any
from zoo.data.tabular import write_csv
from zoo.errors import DataFormatError, ZooError

ft = importlib.import_module("zoo.finetune")  # zoo.finetune is the function; this is its module

PICK = [0, 1, 2, 3, 11]  # yeast columns Class1, Class2, Class3, Class6, Class12
NEW = ["energy", "metabolism", "transcription", "synthesis", "transport"]


def _subset(ds, rows, cols, names):
    return MultiLabelDataset(x=ds.x[rows], y=ds.labels_dense()[rows][:, cols],
                             label_names=list(names), feature_names=ds.feature_names,
                             name="yeast5")


@pytest.fixture(scope="module")
def yeast():
    tr, te = load("yeast", "train_full"), load("yeast", "test")
    return {"train": _subset(tr, np.arange(400), PICK, NEW),
            "test": _subset(te, np.arange(200), PICK, NEW), "full_test": te}


@pytest.fixture(scope="module")
def yeast_csv(yeast, tmp_path_factory):
    d = tmp_path_factory.mktemp("yeast_csv")
    return write_csv(yeast["train"], d / "train.csv"), write_csv(yeast["test"], d / "test.csv")


@pytest.fixture(scope="module")
def base_mlp():
    return zoo.load("yeast/mlp")


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# ============================================================================ new labels

def test_cli_new_labels_writes_a_loadable_checkpoint(yeast, yeast_csv, tmp_path, capsys,
                                                     base_mlp):
    train_csv, test_csv = yeast_csv
    out = tmp_path / "yeast5"
    rc = cli.main(["finetune", "yeast/mlp", "--train", str(train_csv), "--test", str(test_csv),
                   "--out", str(out), "--epochs", "2"])
    printed = capsys.readouterr().out
    assert rc == 0
    assert f"folder:         {out}" in printed
    assert "test:           200 examples, micro-F1" in printed
    assert "fine-tuned from yeast/mlp" in printed and "re-initialized: logits\n" in printed
    assert _leftovers(tmp_path) == []
    model = zoo.load(out)
    assert model.label_names == NEW
    sets = model.predict_labels(yeast["test"].x[:20])
    assert len(sets) == 20 and any(sets) and all(set(s) <= set(NEW) for s in sets)
    card, metrics = model.card, json.loads((out / "metrics.json").read_text())
    assert metrics["split"] == "test" and metrics["num_examples"] == 200
    assert metrics["source"] == str(test_csv)
    # metrics.json is the loaded folder's evaluation on the test file
    again = model.evaluate(yeast["test"].x, yeast["test"].labels_dense())
    assert metrics["metrics"]["micro_f1"] == pytest.approx(again["micro_f1"])
    info = card["finetune"]
    assert info["base"] == "yeast/mlp" and info["base_labels"] == base_mlp.label_names
    assert list(info["reinitialized"]) == ["logits"] and info["kept"] == ["hidden_0"]
    assert info["valid"].startswith("carved from train: 40 of 400 rows")
    assert card["training"]["train_examples"] == 360 and card["training"]["hardware"]["cores"]
    assert card["splits"] == {"train": str(train_csv), "valid": "carved from train",
                              "test": str(test_csv)}
    # the kept encoder is the base's (2 epochs moved it, but from the base's weights)
    base_h = base_mlp.keras_model.get_layer("hidden_0").get_weights()[0]
    new_h = model.keras_model.get_layer("hidden_0").get_weights()[0]
    assert np.corrcoef(base_h.ravel(), new_h.ravel())[0, 1] > 0.9
    readme = (out / "README.md").read_text()
    assert "fine-tuned from `yeast/mlp`" in readme
    assert "re-initialized: `logits` (depends on the label set" in readme


def test_python_freeze_epochs_keep_the_encoder_then_unfreeze(yeast, tmp_path, base_mlp):
    import keras

    snaps = []

    class Snapshot(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snaps.append({n: self.model.get_layer(n).get_weights()[0].copy()
                          for n in ("hidden_0", "logits")})

    r = zoo.finetune("yeast/mlp", yeast["train"], out=tmp_path / "m", test=yeast["test"],
                     epochs=2, freeze_epochs=1, patience=5, verbose=0, callbacks=[Snapshot()])
    base_h = base_mlp.keras_model.get_layer("hidden_0").get_weights()[0]
    assert len(snaps) == 2
    np.testing.assert_array_equal(snaps[0]["hidden_0"], base_h)       # frozen epoch 1
    assert not np.array_equal(snaps[1]["hidden_0"], base_h)            # trained in epoch 2
    assert not np.array_equal(snaps[0]["logits"], snaps[1]["logits"])
    freeze = r.card["training"]["freeze"]
    assert freeze == {"freeze_epochs": 1, "frozen_epochs_run": 1,
                      "trained_while_frozen": ["logits"], "frozen_layers": ["hidden_0"]}
    assert r.folder == tmp_path / "m" and zoo.load(r.folder).label_names == NEW
    assert r.model.predict(yeast["test"].x).shape == (200, 5)
    assert r.card["dataset"] == "yeast5" and r.card["name"] == "yeast5/mlp"


def test_same_labels_continue_training_the_whole_model(yeast, tmp_path, base_mlp):
    full = load("yeast", "train_full")
    perm = np.random.default_rng(0).permutation(full.num_labels)  # columns in another order
    shuffled = MultiLabelDataset(x=full.x[:300], y=full.labels_dense()[:300][:, perm],
                                 label_names=[full.label_names[k] for k in perm])
    path = write_csv(shuffled, tmp_path / "same.csv")
    # learning rate 0: the result must be the base itself, label for label
    r = zoo.finetune(base_mlp, path, epochs=1, learning_rate=0.0, verbose=0)
    assert r.model.label_names == base_mlp.label_names
    info = r.card["finetune"]
    assert info["reinitialized"] == {} and info["kept"] == ["hidden_0", "logits"]
    assert info["labels"].startswith("same label set")
    x = yeast["full_test"].x[:50]
    np.testing.assert_allclose(r.model.predict_proba(x), base_mlp.predict_proba(x), atol=1e-6)
    assert r.folder is None and r.metrics["split"] == "valid" and "optimistic" in r.metrics["note"]
    # the base's training configuration is the default, the call's options win
    cfg = r.card["training"]["train_config"]
    assert cfg["batch_size"] == 32 and cfg["learning_rate"] == 0.0 and cfg["loss"] == "bce"


# ============================================================================ labels, inputs

def test_unknowns_are_masked_in_training_and_architecture_base(yeast, tmp_path):
    ds = yeast["train"]
    rows = ["f1,f2,f3,label:a,label:b,label:c"]
    for xr, yr in zip(ds.x[:300], ds.labels_dense()[:300]):
        rows.append(",".join(f"{v:.5g}" for v in xr[:3]) + f",{yr[0]},{yr[4]},")  # c: empty
    path = tmp_path / "partial.csv"
    path.write_text("\n".join(rows) + "\n")
    assert (read_any(path).y[:, 2] == -1).all()  # an empty label cell is unknown
    with pytest.raises(DataFormatError, match=r"no positive example.*'c'.*allow_empty_labels"):
        zoo.finetune("mlp", path, model_options={"hidden_units": [8]}, epochs=1, verbose=0)
    r = zoo.finetune("mlp", path, valid=path, model_options={"hidden_units": [8]}, epochs=2,
                     allow_empty_labels=True, pos_weight="auto", verbose=0)
    bias = r.model.keras_model.get_layer("logits").get_weights()[1]
    # label c is unknown everywhere: a masked loss gives its output no gradient at all, so
    # Adam leaves its bias at the initial 0; the known labels' biases moved
    assert bias[2] == 0.0 and bias[0] != 0.0 and bias[1] != 0.0
    y = ds.labels_dense()[:300][:, [0, 4]]
    want = [float((c == 0).sum() / (c == 1).sum()) for c in y.T] + [1.0]
    assert r.card["training"]["train_config"]["loss_options"]["pos_weight"] == \
        pytest.approx(want)
    assert r.card["finetune"]["fresh"] and r.card["architecture_options"] == \
        {"hidden_units": [8], "standardize": True}


def test_feature_width_mismatch_refused_or_retrained(tmp_path, base_mlp, yeast):
    full = load("yeast", "train_full")
    narrow = MultiLabelDataset(x=full.x[:300, :72], y=full.labels_dense()[:300],
                               label_names=full.label_names)
    path = write_csv(narrow, tmp_path / "narrow.csv")
    out = tmp_path / "out"
    with pytest.raises(ZooError, match=r"expects 103 features per row, but .*narrow.csv has 72"
                                       r".*input_mismatch='retrain'"):
        zoo.finetune("yeast/mlp", path, out=out, epochs=1, verbose=0)
    assert not out.exists()
    rc = cli.main(["finetune", "yeast/mlp", "--train", str(path), "--out", str(out)])
    assert rc == 2 and not out.exists()
    r = zoo.finetune("yeast/mlp", path, out=out, epochs=1, input_mismatch="retrain", verbose=0)
    info = r.card["finetune"]
    assert list(info["reinitialized"]) == ["hidden_0"] and info["kept"] == ["logits"]
    assert "input width changed" in info["reinitialized"]["hidden_0"]
    assert r.card["input"]["num_features"] == 72
    model = zoo.load(out)
    assert model.predict_proba(narrow.x[:4]).shape == (4, 14)
    with pytest.raises(DataFormatError, match="takes 72 features"):
        model.predict(yeast["test"].x[:2])
    # a text model cannot read feature rows, whatever input_mismatch says
    with pytest.raises(ZooError, match="reads text inputs but .* holds features"):
        zoo.finetune("kimcnn", path, input_mismatch="retrain", verbose=0)


# ============================================================================ text

TOPICS = {"pets": ["my cat", "the dog", "a puppy", "our kitten"],
          "food": ["pizza", "the soup", "fresh bread", "pasta"],
          "weather": ["the rain", "sunshine", "a storm", "snow"]}


def _texts(n, seed):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        labels = [t for t in TOPICS if rng.random() < 0.45] or [list(TOPICS)[i % 3]]
        words = [str(rng.choice(TOPICS[t])) for t in labels] + ["zorblax"]  # an unseen word
        out.append({"text": " and ".join(words) + " today", "labels": labels})
    return out


def test_text_base_gets_a_new_head_and_keeps_its_vocabulary(tmp_path):
    train, valid = tmp_path / "train.jsonl", tmp_path / "valid.jsonl"
    train.write_text("".join(json.dumps(o) + "\n" for o in _texts(80, 0)))
    valid.write_text("".join(json.dumps(o) + "\n" for o in _texts(30, 1)))
    base = zoo.load("goemotions/kimcnn")
    r = zoo.finetune(base, train, valid, out=tmp_path / "topics", epochs=2, freeze_epochs=2,
                     batch_size=16, verbose=0)
    model = zoo.load(tmp_path / "topics")
    assert model.label_names == ["food", "pets", "weather"]
    sets = model.predict_labels(["my cat in the rain", "fresh bread"])
    assert all(set(s) <= {"food", "pets", "weather"} for s in sets)
    info = r.card["finetune"]
    assert list(info["reinitialized"]) == ["logits"] and "[UNK]" in info["input"]
    assert set(info["kept"]) == {"embedding", "conv_3", "conv_4", "conv_5"}
    tv = model.keras_model.get_layer("text_vectorizer")
    assert tv.get_vocabulary() == base.keras_model.get_layer("text_vectorizer").get_vocabulary()
    # every epoch was frozen: the encoder is exactly the base's
    for name in ("embedding", "conv_3"):
        for a, b in zip(model.keras_model.get_layer(name).get_weights(),
                        base.keras_model.get_layer(name).get_weights()):
            np.testing.assert_array_equal(a, b)
    assert r.metrics["split"] == "valid" and r.metrics["num_examples"] == 30


# ============================================================================ failures

def test_failed_evaluation_leaves_no_folder(yeast, tmp_path, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("evaluation failed")

    monkeypatch.setattr(ft, "_metrics", boom)
    out = tmp_path / "never"
    small = yeast["train"].subset(np.arange(150))
    with pytest.raises(RuntimeError, match="evaluation failed"):
        zoo.finetune("yeast/mlp", small, out=out, epochs=1, verbose=0)
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_bad_custom_data_errors(yeast_csv, tmp_path, capsys):
    train_csv, _ = yeast_csv
    out = tmp_path / "out"
    # an unknown column in --label-columns: the error lists the header
    rc = cli.main(["finetune", "yeast/mlp", "--train", str(train_csv), "--out", str(out),
                   "--label-columns", "label:energy,label:nope"])
    err = capsys.readouterr().err
    assert rc == 2 and "'label:nope' not in the header (closest: 'label:" in err
    assert "the header has 'Att1', 'Att2'" in err and "(108 in all)" in err
    # no label columns at all
    p = tmp_path / "nolabels.csv"
    p.write_text("a,b,c\n1,2,3\n4,5,6\n")
    with pytest.raises(DataFormatError, match=r"no label columns.*'a', 'b', 'c'") as e:
        zoo.finetune("mlp", p, out=out)
    assert e.value.line == 1 and e.value.path == str(p)
    # a text file in two encodings: line and byte position
    j = tmp_path / "mixed.jsonl"
    j.write_bytes(b'{"text": "ok", "labels": ["a"]}\n{"text": "fine", "labels": ["b"]}\n'
                  b'{"text": "caf\xe9", "labels": ["a"]}\n')
    with pytest.raises(DataFormatError, match=r"byte 0xe9 at byte offset 79") as e:
        zoo.finetune("kimcnn", j, out=out)
    assert e.value.line == 3
    # --label-columns with a reader that has no such option
    rc = cli.main(["finetune", "kimcnn", "--train", str(j), "--out", str(out),
                   "--label-columns", "a,b"])
    assert rc == 2 and "do not apply to jsonl files" in capsys.readouterr().err
    # an existing output folder is refused before any training
    out.mkdir()
    with pytest.raises(ZooError, match="already exists.*overwrite"):
        zoo.finetune("yeast/mlp", train_csv, out=out)
    assert list(out.iterdir()) == []
    out.rmdir()
    # valid/test must have the training labels
    bad = tmp_path / "other_labels.csv"
    bad.write_text(train_csv.read_text().replace("label:energy", "label:power", 1))
    with pytest.raises(DataFormatError, match="power"):
        zoo.finetune("yeast/mlp", train_csv, test=bad, out=out)
    # freeze_epochs needs a pretrained encoder
    with pytest.raises(ZooError, match="freeze_epochs=2 needs a pretrained base"):
        zoo.finetune("mlp", train_csv, freeze_epochs=2)
    assert not out.exists() and _leftovers(tmp_path) == []


def test_read_any_conventions(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("text,labels\nhello there,x|y\nbye,\n")
    ds = read_any(p)
    assert ds.kind == "text" and ds.x == ["hello there", "bye"] and ds.label_names == ["x", "y"]
    q = tmp_path / "f.csv"
    q.write_text("f1,f2,y_a,y_b\n1,2,1,0\n3,4,,1\n")
    ds = read_any(q, label_columns="y_*")
    assert ds.kind == "features" and ds.label_names == ["a", "b"]
    np.testing.assert_array_equal(ds.y, [[1, 0], [-1, 1]])
    with pytest.raises(DataFormatError, match="cannot tell the format"):
        (tmp_path / "x.parquet").write_text("")
        read_any(tmp_path / "x.parquet")


def test_cli_feature_columns_leave_an_id_column_out(yeast_csv, tmp_path, capsys):
    train_csv, test_csv = yeast_csv
    with_id = []
    for path in (train_csv, test_csv):
        lines = path.read_text().splitlines()
        p = tmp_path / f"id-{path.name}"
        p.write_text("\n".join([f"row_id,{lines[0]}"]
                               + [f"{i},{line}" for i, line in enumerate(lines[1:])]) + "\n")
        with_id.append(p)
    out = tmp_path / "with-id"
    # by default the numeric id column is a feature: 104 columns for a 103-feature base
    rc = cli.main(["finetune", "yeast/mlp", "--train", str(with_id[0]), "--out", str(out),
                   "--epochs", "1"])
    assert rc == 2 and "103 features" in capsys.readouterr().err and not out.exists()
    rc = cli.main(["finetune", "yeast/mlp", "--train", str(with_id[0]), "--test", str(with_id[1]),
                   "--out", str(out), "--epochs", "1", "--feature-columns", "Att*"])
    assert rc == 0, capsys.readouterr().err
    assert zoo.load(out).card["input"]["num_features"] == 103
