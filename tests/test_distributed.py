"""Data-parallel training (zoo.distributed, `zoo train --workers N / --strategy S`).

The slow tests start real worker processes: two MultiWorkerMirroredStrategy workers on localhost
ports (TensorFlow), and one JAX process with two virtual CPU devices (Keras DataParallel). They
check that the workers agree bit for bit and that the result equals single-process training
with the same global batch within a tolerance (justified at TOLERANCE below).
"""
import io
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from zoo import distributed
from zoo.errors import ZooError

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable

# A small recipe: yeast's 1350 training rows split into 9 global batches of 150 (no remainder,
# so single-process training sees exactly the batches the workers see), no dropout (its masks
# are drawn per process, which would make the runs differ by design), 2 epochs.
TINY = """\
name = "yeast/mlp"
architecture = "mlp"
dataset = "yeast"
seed = 0
[model]
hidden_units = [16]
dropout = 0.0
[train]
learning_rate = 0.001
batch_size = 150
epochs = 2
patience = 100
[thresholds]
rule = "global"
"""
# Under a strategy fit streams tf.data batches (never the in-memory arrays path): the
# single-process reference of a distributed run reads the same pipeline, hence the same batches.
TINY_TFDATA = TINY.replace("[train]\n", '[train]\ninput_pipeline = "tf.data"\n')

# Tolerance between the 2-worker result and single-process training. What differs is only the
# order of float32 additions: each worker averages the gradient over its 75 rows, and the
# all-reduce adds the two halves, where one process sums 150 rows at once. Measured on this
# machine: max |weight difference| 6e-8 (3 epochs, batch 90; about one float32 ulp at the
# weights' scale of 0.25), test metrics equal to every digit. Adam divides each update by
# sqrt(v), which can amplify rounding on weights whose gradient is near zero, so the bound
# leaves ~100x headroom: 1e-5. It is still ~1000x below the 0.012-0.014 differences measured
# when the batches differ (e.g. a shuffle order shifted by one epoch, which Keras' own
# multi-worker build step caused before zoo.distributed.patch_keras_for_multiworker).
TOLERANCE = 1e-5


def _env(**extra):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.update(extra)
    return env


def _weights(folder) -> list:
    import h5py
    out = []
    with h5py.File(Path(folder) / "model.weights.h5") as h:
        h.visititems(lambda name, obj: out.append((name, np.array(obj)))
                     if isinstance(obj, h5py.Dataset) else None)
    return [w for _, w in sorted(out, key=lambda t: t[0])]


def _max_diff(a, b) -> float:
    wa, wb = _weights(a), _weights(b)
    assert [w.shape for w in wa] == [w.shape for w in wb]
    return max(float(np.abs(x - y).max()) for x, y in zip(wa, wb))


# ----------------------------------------------------------------------------- TF_CONFIG

def test_tf_config_round_trip_and_errors():
    text = distributed.tf_config(["localhost:1", "localhost:2"], 1)
    assert distributed.read_tf_config({"TF_CONFIG": text})["task"] == {"type": "worker", "index": 1}
    with pytest.raises(ZooError, match="needs the TF_CONFIG environment variable"):
        distributed.read_tf_config({})
    with pytest.raises(ZooError, match=r"not valid JSON: .* line 1, column 2"):
        distributed.read_tf_config({"TF_CONFIG": "{cluster"})
    with pytest.raises(ZooError, match='needs "cluster"'):
        distributed.read_tf_config({"TF_CONFIG": '{"task": {"type": "worker", "index": 0}}'})
    with pytest.raises(ZooError, match="index into cluster"):
        distributed.read_tf_config({"TF_CONFIG": json.dumps(
            {"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 2}})})


def test_free_ports_are_distinct_and_bindable():
    import socket
    ports = distributed.free_ports(4)
    assert len(set(ports)) == 4
    for p in ports:
        with socket.socket() as s:
            s.bind(("localhost", p))


def test_worker_commands_give_each_worker_its_task(tmp_path):
    cmds, envs = distributed.worker_commands("r.toml", 3, tmp_path, out="o", force=True,
                                             env={"ZOO_STRATEGY": "mirrored"})
    assert cmds[0] == cmds[2] and cmds[0][-6:] == ["r.toml", "--strategy", "multiworker",
                                                   "--out", "o", "--force"]
    cfgs = [json.loads(e["TF_CONFIG"]) for e in envs]
    assert [c["task"]["index"] for c in cfgs] == [0, 1, 2]
    assert len({tuple(c["cluster"]["worker"]) for c in cfgs}) == 1
    assert len(set(cfgs[0]["cluster"]["worker"])) == 3
    assert all("ZOO_STRATEGY" not in e for e in envs)
    assert envs[1][distributed.REPORT_ENV] == str(tmp_path / "worker-1.json")


def test_strategy_names():
    assert distributed.make_strategy(None) is None
    assert distributed.describe(None) == {"strategy": None, "num_workers": 1,
                                          "num_replicas": 1, "worker_index": 0}
    with pytest.raises(ZooError, match="unknown strategy 'ring'"):
        distributed.make_strategy("ring")


def test_multiworker_without_tf_config_says_how(monkeypatch):
    import keras
    if keras.backend.backend() != "tensorflow":
        pytest.skip("tf.distribute strategies need the TensorFlow backend (tested there)")
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ZooError, match="--strategy multiworker needs the TF_CONFIG"):
        distributed.make_strategy("multiworker")
    with pytest.raises(ZooError, match="needs KERAS_BACKEND=jax"):
        distributed.make_strategy("data-parallel")


# ----------------------------------------------------------------------------- the launcher

def test_run_workers_prefixes_output():
    log = io.StringIO()
    code = "import sys; print('hello'); print('to stderr', file=sys.stderr)"
    pids = distributed.run_workers([[PY, "-c", code]] * 2, [_env()] * 2, log=log)
    assert len(pids) == 2
    lines = log.getvalue().splitlines()
    for i in (0, 1):
        assert f"[worker {i}] hello" in lines and f"[worker {i}] to stderr" in lines


def test_a_crashing_worker_stops_the_others_and_is_named(tmp_path):
    """Worker 1 fails: the error names it, its exit code and its last stderr lines; worker 0
    (which would run for a minute) is stopped at once, and the staging folder it had started
    (what zoo.checkpoint.write_evaluated writes before renaming) is removed."""
    out = tmp_path / "ckpt"
    chief = ("import os, time; from pathlib import Path; "
             f"Path({str(tmp_path)!r}, '.ckpt.staging-' + str(os.getpid())).mkdir(); "
             "print('chief started', flush=True); time.sleep(60)")
    crash = ("import sys, time; time.sleep(1); print('loading data', file=sys.stderr); "
             "print('Traceback: ValueError: boom', file=sys.stderr); sys.exit(3)")
    t0 = time.monotonic()
    with pytest.raises(distributed.WorkerFailed) as e:
        distributed.run_workers([[PY, "-c", chief], [PY, "-c", crash]], [_env()] * 2, out=out,
                                log=io.StringIO())
    assert time.monotonic() - t0 < 30
    err = e.value
    assert err.worker == 1 and err.returncode == 3
    assert "worker 1 of 2 failed with exit code 3" in str(err)
    assert "Traceback: ValueError: boom" in str(err) and "loading data" in err.stderr_tail
    assert list(tmp_path.iterdir()) == []  # no checkpoint, no staging folder


def test_timeout_stops_every_worker():
    with pytest.raises(distributed.WorkerFailed, match="did not finish within 1 s"):
        distributed.run_workers([[PY, "-c", "import time; time.sleep(60)"]] * 2, [_env()] * 2,
                                timeout=1, log=io.StringIO())


def test_launch_refuses_finetune_recipes_and_bad_counts(tmp_path, capsys):
    from zoo.cli import main
    r = tmp_path / "ft.toml"
    r.write_text('name = "x/y"\narchitecture = "mlp"\ndataset = "x"\n'
                 '[finetune]\nbase = "yeast/mlp"\n[data]\ntrain = "t.csv"\n')
    assert main(["train", str(r), "--workers", "2", "--out", str(tmp_path / "o")]) == 2
    assert "trains in one process" in capsys.readouterr().err
    with pytest.raises(ZooError, match="at least 1"):
        distributed.launch(r, 0, out=tmp_path / "o")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ft.toml"]


def test_cli_workers_does_not_combine_with_other_strategies(capsys):
    from zoo.cli import main
    assert main(["train", "recipes/yeast/mlp.toml", "--workers", "2",
                 "--strategy", "mirrored"]) == 2
    assert "does not combine with --strategy mirrored" in capsys.readouterr().err


def test_cli_workers_refuses_an_existing_checkpoint_without_force(tmp_path, monkeypatch, capsys):
    from zoo.cli import main
    (tmp_path / "yeast-mlp").mkdir()
    monkeypatch.setenv("ZOO_CHECKPOINTS", str(tmp_path))
    assert main(["train", "recipes/yeast/mlp.toml", "--workers", "2"]) == 2
    assert "yeast-mlp exists; pass --force" in capsys.readouterr().err


# ----------------------------------------------------------------------------- real training

@pytest.mark.slow
def test_two_workers_agree_and_match_single_process(tmp_path, mirror_env):
    """Two MultiWorkerMirroredStrategy workers on localhost train the tiny recipe; both end
    with identical weights, only the chief's folder exists, and it equals single-process
    training (same global batch) within TOLERANCE."""
    import keras
    if keras.backend.backend() != "tensorflow":
        pytest.skip("MultiWorkerMirroredStrategy is TensorFlow's (the JAX test is below)")
    recipe = tmp_path / "tiny.toml"
    recipe.write_text(TINY)
    log = io.StringIO()
    result = distributed.launch(recipe, 2, out=tmp_path / "two", timeout=600, log=log)
    reports = result.reports
    assert [r["worker_index"] for r in reports] == [0, 1]
    assert reports[0]["weights"] == reports[1]["weights"]  # bit-identical (sha256 and sum)
    assert reports[0]["pid"] != reports[1]["pid"]
    assert all(r["num_workers"] == 2 and r["num_replicas"] == 2 for r in reports)
    assert "[worker 1] Epoch 2/2" in log.getvalue()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.toml", "two"]
    card = json.loads((tmp_path / "two" / "zoo.json").read_text())
    assert card["training"]["strategy"] == "MultiWorkerMirroredStrategy"
    assert card["training"]["num_workers"] == 2 and card["training"]["num_replicas"] == 2

    from zoo.recipes import train_recipe
    same_pipeline = tmp_path / "tiny-tfdata.toml"
    same_pipeline.write_text(TINY_TFDATA)
    single = train_recipe(same_pipeline, out=tmp_path / "one", verbose=0)
    diff = _max_diff(single, tmp_path / "two")
    assert diff <= TOLERANCE, diff
    m1 = json.loads((single / "metrics.json").read_text())["metrics"]
    m2 = json.loads((tmp_path / "two" / "metrics.json").read_text())["metrics"]
    for key in ("micro_f1", "macro_f1", "hamming_loss", "ranking_loss"):
        assert m2[key] == pytest.approx(m1[key], abs=1e-4), key


@pytest.mark.slow
def test_crashing_worker_leaves_no_checkpoint(tmp_path, mirror_env):
    """A real chief (`zoo train --strategy multiworker`) waits for worker 1, which dies: the
    launcher stops the chief and names worker 1; no checkpoint folder appears."""
    recipe = tmp_path / "tiny.toml"
    recipe.write_text(TINY)
    commands, envs = distributed.worker_commands(recipe, 2, tmp_path, out=tmp_path / "out",
                                                 env=_env())
    # worker 1 dies after the chief has started (it then waits for worker 1 to connect)
    commands[1] = [PY, "-c", "import sys, time; time.sleep(8); "
                   "print('worker 1: out of memory', file=sys.stderr); sys.exit(137)"]
    with pytest.raises(distributed.WorkerFailed, match="worker 1 of 2 failed with exit code 137"
                       ) as e:
        distributed.run_workers(commands, envs, out=tmp_path / "out", timeout=300,
                                log=io.StringIO())
    assert "out of memory" in e.value.stderr_tail
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.toml"]


@pytest.mark.slow
def test_jax_data_parallel_on_two_virtual_devices(tmp_path, mirror_env):
    """The Keras distribution API (JAX backend): DataParallel over two virtual CPU devices
    equals one-device training of the same recipe within TOLERANCE."""
    recipe = tmp_path / "tiny.toml"
    recipe.write_text(TINY)
    single = tmp_path / "tiny-tfdata.toml"  # (the distributed run streams tf.data batches)
    single.write_text(TINY_TFDATA)
    script = textwrap.dedent(f"""
        import json, jax
        from zoo._quiet import import_backend
        import_backend()
        from zoo.recipes import train_recipe
        assert len(jax.devices()) == 2, jax.devices()
        train_recipe({str(single)!r}, out={str(tmp_path / 'one')!r}, verbose=0)
        train_recipe({str(recipe)!r}, out={str(tmp_path / 'dp')!r}, verbose=0,
                     strategy="data-parallel")
    """)
    env = _env(KERAS_BACKEND="jax", XLA_FLAGS="--xla_force_host_platform_device_count=2")
    run = subprocess.run([PY, "-c", script], env=env, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    card = json.loads((tmp_path / "dp" / "zoo.json").read_text())
    assert card["training"]["backend"] == "jax"
    assert card["training"]["strategy"] == "KerasDataParallel"
    assert card["training"]["num_replicas"] == 2
    assert _max_diff(tmp_path / "one", tmp_path / "dp") <= TOLERANCE
