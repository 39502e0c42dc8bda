"""The `zoo` command, run as a user would (fresh processes)."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from zoo.data import load


def zoo_cmd(*args, check=True):
    res = subprocess.run([sys.executable, "-m", "zoo", *args], capture_output=True, text=True,
                         timeout=600, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    if check:
        assert res.returncode == 0, res.stderr[-2000:]
    return res


def test_list_info_download():
    names = json.loads(zoo_cmd("list", "--json").stdout)
    assert "yeast/mlp" in names and "emotions/mlp" in names
    def listed(*args):  # "name  where" per line
        return [line.split()[0] for line in zoo_cmd("list", *args).stdout.splitlines() if line]
    assert listed("*/bpmll") == sorted(n for n in names if n.endswith("/bpmll"))
    # a plain word matches a dataset or architecture name (no glob needed)
    assert listed("yeast") == sorted(n for n in names if n.startswith("yeast/"))
    assert all(line.split()[1] == "checkpoints"   # a clone has every checkpoint locally
               for line in zoo_cmd("list", "yeast").stdout.splitlines())
    info = json.loads(zoo_cmd("info", "yeast/mlp", "--json").stdout)
    assert info["name"] == "yeast/mlp" and len(info["label_names"]) == 14
    assert info["metrics"]["split"] == "test"
    assert zoo_cmd("download", "yeast/mlp").stdout.strip().endswith("yeast-mlp")


def test_predict_reads_an_exported_csv_ignoring_its_label_columns(tmp_path):
    import zoo
    from zoo.data import MultiLabelDataset
    from zoo.data.tabular import write_csv
    test = load("yeast", "test")
    x = test.features_dense()[:3]
    path = tmp_path / "export.csv"
    write_csv(MultiLabelDataset(x=x, y=test.labels_dense()[:3], label_names=test.label_names,
                                feature_names=test.feature_names), path)
    out = json.loads(zoo_cmd("predict", "yeast/mlp", str(path), "--json").stdout)
    want = zoo.load("yeast/mlp").predict_labels(x, return_scores=True)
    assert [[d["label"] for d in row["labels"]] for row in out] == [[l for l, _ in r] for r in want]


def test_predict_from_csv_matches_python(tmp_path):
    import zoo
    x = load("yeast", "test").features_dense()[:4]
    path = tmp_path / "rows.csv"
    header = ",".join(f"f{i}" for i in range(x.shape[1]))
    np.savetxt(path, x, delimiter=",", header=header, comments="", fmt="%.9g")
    out = json.loads(zoo_cmd("predict", "yeast/mlp", str(path), "--json").stdout)
    want = zoo.load("yeast/mlp").predict_labels(np.loadtxt(path, delimiter=",", skiprows=1),
                                                return_scores=True)
    assert [[d["label"] for d in row["labels"]] for row in out] == [[l for l, _ in r] for r in want]


def test_predict_bad_csv_names_line_and_column(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("1,2,3\n4,x,6\n")
    res = zoo_cmd("predict", "yeast/mlp", str(path), check=False)
    assert res.returncode == 2
    assert "rows.csv, line 2, column 2: expected a number, got 'x'" in res.stderr


def test_unknown_model_is_a_clear_error():
    res = zoo_cmd("info", "nope/mlp", check=False)
    assert res.returncode == 2 and "no model named 'nope/mlp'" in res.stderr
    assert "Traceback" not in res.stderr
    res = zoo_cmd("info", "yeast/mpl", check=False)
    assert res.returncode == 2 and "did you mean 'yeast/mlp'" in res.stderr
    assert "bibtex/bpmll" not in res.stderr  # not all 52 names


@pytest.mark.parametrize("cmd", [["--help"], ["evaluate", "--help"], ["train", "--help"],
                                 ["export-data", "--help"], ["export-model", "--help"]])
def test_help(cmd):
    assert "usage: zoo" in zoo_cmd(*cmd).stdout


def test_train_backend_auto_picks_jax_for_feature_recipes(tmp_path):
    """`zoo train` without $KERAS_BACKEND trains a MULAN recipe on JAX (when installed: the
    faster CPU path, docs/benchmarks.md) and the result loads on TensorFlow; text recipes,
    fine-tuning and tf.distribute strategies stay on TensorFlow."""
    import importlib.util

    import zoo
    from zoo.cli import auto_train_backend
    has_jax = importlib.util.find_spec("jax") is not None
    assert auto_train_backend("recipes/yeast/mlp.toml") == ("jax" if has_jax else "tensorflow")
    assert auto_train_backend("recipes/goemotions/kimcnn.toml") == "tensorflow"
    assert auto_train_backend("recipes/yeast/mlp.toml", "mirrored") == "tensorflow"
    assert auto_train_backend(tmp_path / "missing.toml") == "tensorflow"
    # re-running a published checkpoint's recipe: the backend its card records
    recorded = zoo.info("yeast/mlp")["training"]["backend"]
    assert auto_train_backend("yeast/mlp") == recorded
    recipe = tmp_path / "tiny.toml"
    recipe.write_text('name = "yeast/tiny"\narchitecture = "mlp"\ndataset = "yeast"\n'
                      '[model]\nhidden_units = [16]\n[train]\nepochs = 2\n')
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    for flag, want in [([], "jax" if has_jax else "tensorflow"),
                       (["--backend", "tensorflow"], "tensorflow")]:
        out = tmp_path / f"out-{want}-{len(flag)}"
        res = subprocess.run([sys.executable, "-m", "zoo", "train", str(recipe), "--out",
                              str(out), *flag], capture_output=True, text=True, timeout=600,
                             env={**env, "TF_CPP_MIN_LOG_LEVEL": "3"})
        assert res.returncode == 0, res.stderr[-2000:]
        card = json.loads((out / "zoo.json").read_text())
        assert card["training"]["backend"] == want
        assert card["training"]["input_pipeline"] == "arrays"
        test = load("yeast", "test")
        assert len(zoo.load(out).predict_labels(test.x[:3])) == 3   # this process: TensorFlow
