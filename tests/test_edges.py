"""The user-facing edges (issues 11 and 14): lazy `import zoo`, a quiet CLI, readers, names,
exports, publishing offline, the wheel's bundled checkpoints."""
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def run(args, env=None, cwd=None, input=None, drop=()):
    full = {**os.environ, **(env or {})}
    for k in drop:
        full.pop(k, None)
    return subprocess.run([PY, *args], capture_output=True, text=True, timeout=600,
                          env=full, cwd=cwd, input=input)


def zoo(*args, **kw):
    return run(["-m", "zoo", *args], **kw)


# ----------------------------------------------------------------------------- lazy import

def test_import_zoo_list_and_info_do_not_import_tensorflow():
    res = run(["-c", "import sys, zoo; zoo.list_models(); zoo.info('yeast/mlp'); "
                     "zoo.thresholds; zoo.errors; "
                     "print(sorted(m for m in ('tensorflow', 'keras', 'jax') if m in sys.modules))"])
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip() == "[]"


def test_public_names_are_all_there():
    import zoo
    for name in ("load", "list_models", "info", "evaluate", "compare", "finetune",
                 "list_architectures", "build", "MultiLabelModel", "losses", "metrics",
                 "thresholds", "errors", "__version__", "create", "register_keras_objects"):
        assert name in dir(zoo), name
    assert callable(zoo.compare) and callable(zoo.finetune)
    import zoo.compare  # noqa: F401  (binding the submodule must not replace the function)
    import zoo.finetune  # noqa: F401
    assert callable(zoo.compare) and callable(zoo.finetune)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        zoo.nope


@pytest.mark.parametrize("order", ["import zoo, keras", "import zoo, tensorflow, keras",
                                   "import keras, zoo"])
def test_plain_keras_load_model_after_import_zoo(order):
    """mpvae has custom layers: load_model needs the zoo's registrations, whatever the order
    of the imports."""
    res = run(["-c", f"{order}\nm = keras.saving.load_model({str(ROOT / 'checkpoints/yeast-mpvae')!r})\n"
                     "print(m.outputs[0].shape[-1])"])
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.strip().splitlines()[-1] == "14"


# ----------------------------------------------------------------------------- quiet CLI

def test_cli_stderr_has_no_tensorflow_log_lines(tmp_path):
    x = np.random.default_rng(0).normal(size=(3, 103))
    np.savetxt(tmp_path / "rows.csv", x, delimiter=",")
    for env in ({}, {"TF_CPP_MIN_LOG_LEVEL": "2"}, {"TF_CPP_MIN_LOG_LEVEL": "3"}):
        res = zoo("predict", "yeast/mlp", str(tmp_path / "rows.csv"), env=env,
                  drop=("TF_CPP_MIN_LOG_LEVEL",))
        assert res.returncode == 0, res.stderr
        assert res.stderr == "", (env, res.stderr)
        assert res.stdout.count("[") == 3


def test_noise_filter_keeps_real_messages():
    from zoo._quiet import is_noise
    assert is_noise("I0000 00:00:1796338382.799046    5518 port.cc:153] oneDNN custom operations")
    assert is_noise("E0000 00:00:1796338401.728644    5722 cuda_platform.cc:52] failed call to cuInit: x")
    assert is_noise("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR")
    assert not is_noise("zoo predict: error: rows.csv, line 2: expected a number")
    assert not is_noise("UserWarning: something the user should see")


def test_version():
    import zoo as z
    res = zoo("--version")
    assert res.returncode == 0 and res.stdout.strip() == f"zoo {z.__version__}"


# ----------------------------------------------------------------------------- readers

def test_header_is_recognised_by_rule_not_by_a_parse_failure(tmp_path):
    from zoo.data.user_inputs import read_feature_rows
    from zoo.errors import DataFormatError
    p = tmp_path / "f.csv"
    p.write_text("1.2.3,4\n5,6\n7,8\n")
    with pytest.raises(DataFormatError, match=r"f.csv, line 1, column 1: expected a number, got '1.2.3'"):
        read_feature_rows(p)
    p.write_text(",4\n5,6\n")
    with pytest.raises(DataFormatError, match="line 1, column 1: expected a number, got an empty cell"):
        read_feature_rows(p)
    p.write_text("a,b\n5,6\n7,8\n")
    assert read_feature_rows(p).tolist() == [[5, 6], [7, 8]]
    p.write_text("f1,2\n5,6\n")       # a model's own column names count as a header
    assert read_feature_rows(p, feature_names=["f1", "2"]).tolist() == [[5, 6]]


@pytest.mark.parametrize("cell", ["nan", "inf", "-inf"])
def test_non_finite_inputs_are_refused_with_row_and_column(tmp_path, cell):
    from zoo.data.user_inputs import read_feature_rows
    from zoo.errors import DataFormatError
    p = tmp_path / "f.csv"
    p.write_text(f"1,2\n3,{cell}\n")
    with pytest.raises(DataFormatError, match="line 2, column 2: not a finite number"):
        read_feature_rows(p)
    a = np.array([[1.0, 2.0], [np.nan, 3.0]])
    np.save(tmp_path / "a.npy", a)
    with pytest.raises(DataFormatError, match="row 2, column 1"):
        read_feature_rows(tmp_path / "a.npy")


def test_read_texts_file_and_stdin(tmp_path):
    import io

    from zoo.data.user_inputs import read_texts
    from zoo.errors import ZooError
    p = tmp_path / "texts.txt"
    p.write_text("first doc\n\n  second doc  \n")
    assert read_texts(p) == ["first doc", "second doc"]
    assert read_texts("-", stdin=io.StringIO("a\nb\n")) == ["a", "b"]
    with pytest.raises(ZooError, match="no such file.*--text"):
        read_texts(tmp_path / "missing.txt")


def test_select_labels_moved_from_the_cli():
    from zoo.data.user_inputs import select_labels
    from zoo.errors import ZooError
    assert select_labels(["a", "b", "c"], "c,a", "a=x") == ([2, 0], ["c", "x"])
    with pytest.raises(ZooError, match="unknown or repeated"):
        select_labels(["a"], "z")


# ----------------------------------------------------------------------------- predict / info

def test_predict_text_file_stdin_and_flag(tmp_path):
    """A text model reads a file (one document a line) or '-', never the file's name."""
    p = tmp_path / "texts.txt"
    p.write_text("I love this, thank you so much!\nThis is awful, I am so angry.\n")
    out = json.loads(zoo("predict", "goemotions/transformer", str(p), "--json").stdout)
    assert [r["id"] for r in out] == [0, 1]
    assert [r["input"] for r in out] == ["I love this, thank you so much!",
                                         "This is awful, I am so angry."]
    res = zoo("predict", "goemotions/transformer", "-", "--text", "what a surprise", "--json",
              input="thanks a lot\n")
    assert res.returncode == 0, res.stderr
    assert [r["input"] for r in json.loads(res.stdout)] == ["thanks a lot", "what a surprise"]
    res = zoo("predict", "goemotions/transformer", "I love it")   # a bare string: not a file
    assert res.returncode == 2 and "I love it: no such file" in res.stderr
    assert "--text" in res.stderr


def test_predict_threshold_out_of_range(tmp_path):
    from zoo import cli
    assert cli.main(["predict", "yeast/mlp", str(tmp_path / "x.csv"), "--threshold", "1.5"]) == 2


def test_predict_out_csv_and_json_ids(tmp_path):
    import zoo as z
    from zoo.data import load
    x = load("yeast", "test").features_dense()[:5]
    np.savetxt(tmp_path / "rows.csv", x, delimiter=",", fmt="%.9g")
    res = zoo("predict", "yeast/mlp", str(tmp_path / "rows.csv"), "--out",
              str(tmp_path / "preds.csv"), "--json")
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    assert [r["id"] for r in rows] == list(range(5))
    lines = (tmp_path / "preds.csv").read_text().splitlines()
    model = z.load("yeast/mlp")
    assert lines[0].split(",") == ["id", "labels"] + [f"score:{n}" for n in model.label_names]
    want = model.predict_labels(np.loadtxt(tmp_path / "rows.csv", delimiter=","))
    for i, line in enumerate(lines[1:]):
        cells = line.split(",")
        assert int(cells[0]) == i
        assert (cells[1].split("|") if cells[1] else []) == want[i]
        assert np.allclose([float(c) for c in cells[2:]],
                           model.predict_proba(x[i:i + 1])[0], atol=1e-5)


def test_progress_bar_only_when_asked_or_on_a_terminal(capsys):
    import zoo as z
    from zoo.data.user_inputs import predict_in_batches
    model = z.load("yeast/mlp")
    x = np.zeros((50, 103), np.float32)
    p = predict_in_batches(model, x, batch_size=10, progress=True)
    assert p.shape == (50, 14) and np.allclose(p, model.predict_proba(x))
    assert "50/50" in capsys.readouterr().err
    predict_in_batches(model, x, batch_size=10)           # stderr is not a terminal here
    assert capsys.readouterr().err == ""


def test_info_summary_and_json():
    res = zoo("info", "yeast/mlp")
    assert res.returncode == 0, res.stderr
    text = res.stdout
    for needle in ("yeast/mlp: mlp on yeast (input: 103 features per row)", "labels:      14: Class1", "thresholds:",
                   "Micro-F1", "folder:", "KB"):
        assert needle in text, needle
    card = json.loads(zoo("info", "yeast/mlp", "--json").stdout)
    assert card["name"] == "yeast/mlp" and card["metrics"]["split"] == "test"


def test_demo_prints_readable_inputs():
    res = zoo("demo")
    assert res.returncode == 0, res.stderr
    assert "emotions test row 0: 72 features (" in res.stdout
    assert "\n  72 features\n" not in res.stdout


# ----------------------------------------------------------------------------- names

@pytest.mark.parametrize("args, needle", [
    (["info", "yeast/mpl"], "did you mean 'yeast/mlp'"),
    (["info", "yeast"], "did you mean 'yeast/bpmll'"),
    (["list", "yeasst"], "did you mean 'yeast'"),
    (["leaderboard", "--dataset", "yeasst"], "did you mean 'yeast'"),
])
def test_typos_get_suggestions_not_every_name(args, needle):
    res = zoo(*args)
    assert res.returncode == 2, res.stdout
    assert needle in res.stderr
    assert "bibtex/bpmll" not in res.stderr and len(res.stderr.splitlines()) == 1


def test_leaderboard_with_nothing_to_show_exits_non_zero(tmp_path, monkeypatch, capsys):
    from zoo import baselines, cli
    monkeypatch.setenv("ZOO_CHECKPOINTS", str(tmp_path / "none"))
    monkeypatch.setattr(baselines, "RESULTS_PATH", tmp_path / "none.json")
    from zoo import leaderboard
    monkeypatch.setattr(leaderboard, "PUBLISHED_DIR", tmp_path / "no-published")
    assert cli.main(["leaderboard"]) == 2
    assert "no leaderboard rows" in capsys.readouterr().err


# ----------------------------------------------------------------------------- publish

def test_publish_without_token_is_one_line(tmp_path):
    env = {"HF_HOME": str(tmp_path / "hf"), "HF_ENDPOINT": "http://127.0.0.1:9"}
    res = zoo("publish", "yeast/mlp", env=env, drop=("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN",
                                                      "HF_HUB_OFFLINE"))
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [
        "zoo publish: error: no Hugging Face token: run `huggingface-cli login` or set HF_TOKEN "
        "(or use --dry-run to see what would be uploaded)"]


def test_publish_offline_is_one_line(tmp_path):
    env = {"HF_HOME": str(tmp_path / "hf"), "HF_ENDPOINT": "http://127.0.0.1:9",
           "HF_TOKEN": "hf_fake"}
    res = zoo("publish", "yeast/mlp", env=env, drop=("HF_HUB_OFFLINE",))
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach the Hub at http://127.0.0.1:9" in lines[0]


def test_publish_dry_run_names_the_namespace(tmp_path):
    res = zoo("publish", "yeast/mlp", "--dry-run", env={"HF_HOME": str(tmp_path / "hf")},
              drop=("ZOO_HF_ORG",))
    assert res.returncode == 0, res.stderr
    assert "zoo-mlc/yeast-mlp: namespace 'zoo-mlc' (the zoo's default organisation" in res.stdout
    res = zoo("publish", "yeast/mlp", "--dry-run", "--repo-id", "me/x")
    assert "me/x: namespace 'me' (given with --repo-id)" in res.stdout


# ----------------------------------------------------------------------------- exports

def test_export_is_split_in_two(tmp_path):
    res = zoo("export", "yeast", "--out", str(tmp_path / "x.csv"))
    assert res.returncode == 2 and "export-data" in res.stderr and "export-model" in res.stderr


@pytest.mark.parametrize("fmt", ["savedmodel", "tflite", "onnx"])
def test_export_model_matches_keras(tmp_path, fmt):
    import zoo as z
    from zoo import cli
    from zoo.data import load
    x = load("yeast", "test").features_dense()[:6].astype(np.float32)
    want = z.load("yeast/mlp").predict_proba(x)
    out = tmp_path / {"savedmodel": "sm", "tflite": "m.tflite", "onnx": "m.onnx"}[fmt]
    assert cli.main(["export-model", "yeast/mlp", "--format", fmt, "--out", str(out)]) == 0
    if fmt == "savedmodel":
        import tensorflow as tf
        fn = tf.saved_model.load(str(out)).signatures["serving_default"]
        got = fn(features=tf.constant(x))["probabilities"].numpy()
        side = out / "zoo_labels.json"
    elif fmt == "tflite":
        import tensorflow as tf
        runner = tf.lite.Interpreter(model_path=str(out)).get_signature_runner("serving_default")
        got = runner(features=x)["probabilities"]
        side = out.with_name(out.name + ".labels.json")
    else:
        import onnxruntime as ort
        sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
        got = sess.run(None, {sess.get_inputs()[0].name: x})[0]
        side = out.with_name(out.name + ".labels.json")
    np.testing.assert_allclose(got, want, atol=1e-5)
    meta = json.loads(side.read_text())
    assert meta["label_names"] == z.load("yeast/mlp").label_names
    # an existing --out is kept unless --force
    assert cli.main(["export-model", "yeast/mlp", "--format", fmt, "--out", str(out)]) == 2


# ----------------------------------------------------------------------------- train / backends

def test_train_without_out_refuses_to_replace_a_checkpoint(tmp_path, monkeypatch, capsys):
    from zoo import cli
    (tmp_path / "yeast-mlp").mkdir()
    monkeypatch.setenv("ZOO_CHECKPOINTS", str(tmp_path))
    assert cli.main(["train", str(ROOT / "recipes/yeast/mlp.toml")]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'yeast-mlp'} exists" in err and "--force" in err


def test_python_m_zoo_records_zoo_as_the_command():
    res = run(["-c", "import runpy, sys; sys.argv = ['/x/zoo/__main__.py', '--version'];\n"
                     "try:\n    runpy.run_module('zoo', run_name='__main__')\n"
                     "except SystemExit:\n    pass\nprint(sys.argv[0])"])
    assert res.stdout.strip().splitlines()[-1] == "zoo"


@pytest.mark.slow
def test_jax_backend_text_model_is_a_clear_error():
    res = zoo("predict", "goemotions/transformer", "--text", "hello", env={"KERAS_BACKEND": "jax"})
    assert res.returncode == 2
    assert "text model" in res.stderr and "KERAS_BACKEND=tensorflow" in res.stderr
    assert "Traceback" not in res.stderr


# ----------------------------------------------------------------------------- the wheel

@pytest.mark.slow
def test_wheel_loads_bundled_checkpoints_offline(tmp_path):
    res = subprocess.run([PY, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                          "-w", str(tmp_path / "dist"), str(ROOT)], capture_output=True,
                         text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    wheel = next((tmp_path / "dist").glob("zoo_mlc-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        z.extractall(tmp_path / "site")
    assert "zoo/_checkpoints/yeast-mlp/zoo.json" in names
    assert not any(n.startswith("zoo/_checkpoints/bibtex-") for n in names)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PYTHONPATH": str(tmp_path / "site"), "HF_HUB_OFFLINE": "1",
           "HF_HOME": str(tmp_path / "hf")}
    code = ("import zoo, numpy as np\n"
            "m = zoo.load('yeast/mlp')\n"
            "print(m.path)\n"
            "print(m.predict_proba(np.zeros((2, 103), np.float32)).shape)\n")
    res = run(["-c", code], env=env, cwd=elsewhere, drop=("ZOO_CHECKPOINTS",))
    assert res.returncode == 0, res.stderr[-3000:]
    path, shape = res.stdout.strip().splitlines()[-2:]
    assert Path(path).is_relative_to(tmp_path / "site") and shape == "(2, 14)"
    res = run(["-m", "zoo", "list", "yeast"], env=env, cwd=elsewhere, drop=("ZOO_CHECKPOINTS",))
    listed = dict(line.split(None, 1) for line in res.stdout.splitlines() if line.strip())
    assert listed["yeast/mlp"] == "bundled" and listed["yeast/c2ae"].startswith("hub")
    res = run(["-m", "zoo", "info", "yeast/c2ae"], env=env, cwd=elsewhere,
              drop=("ZOO_CHECKPOINTS",))
    assert res.returncode == 2 and "ZOO_CHECKPOINTS" in res.stderr and "bundles" in res.stderr


# ----------------------------------------------------------------------------- make targets

def test_make_test_fast_is_a_subset_and_ci_runs_the_full_suite():
    res = subprocess.run(["make", "-n", "test-fast", "test"], capture_output=True, text=True,
                         cwd=ROOT, env={**os.environ, "PYTHON": sys.executable})
    assert res.returncode == 0, res.stderr
    fast = [ln for ln in res.stdout.splitlines() if "pytest" in ln and "not slow" in ln]
    assert len(fast) == 1 and "--ignore=tests/test_pretrained.py" in fast[0]
    assert any(ln.rstrip().endswith("-m pytest -q tests") for ln in res.stdout.splitlines())
    assert "make test\n" in (ROOT / ".ci" / "run").read_text()
