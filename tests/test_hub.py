"""zoo.hub and zoo.api.load against a fake Hugging Face Hub (tests/fake_hub.py).

A real small checkpoint is trained here; the fake Hub serves it over HTTP on 127.0.0.1 using
the protocol ``huggingface_hub`` speaks. Covered: (a) a pre-populated HF cache with
``HF_HUB_OFFLINE=1`` and the network gone, (b) downloads from ``HF_ENDPOINT`` verified against
the shipped index, (c) ``zoo publish`` (dry run and real upload), (d) misses naming what was
tried. ``huggingface_hub`` reads its environment at import, so in-process tests patch its
constants (``fake_hub.configure_hf``) and two tests run a fresh process with real variables.
"""
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fake_hub import FakeHub, configure_hf

from zoo import api, checkpoint, registry
from zoo import hub as zhub
from zoo import publish as zpublish
from zoo.errors import CheckpointError, NotFoundError

NAME = "emotions/mlp"
LABELS = ["amazed-suprised", "happy-pleased", "relaxing-calm", "quiet-still", "sad-lonely",
          "angry-aggresive"]
CHILD_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "HF_HUB_DISABLE_PROGRESS_BARS": "1"}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (symlinks followed) as {posix relative path: bytes}."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def trained(emotions_train, tmp_path_factory):
    """(checkpoint folder, card, x, reference probabilities of the in-memory Keras model)."""
    import keras
    from sklearn.metrics import f1_score

    from zoo import thresholds
    from zoo.models.mlp import mlp
    x, y = emotions_train
    keras.utils.set_random_seed(0)
    model = mlp(num_features=x.shape[1], num_labels=y.shape[1], hidden_units=(16,), dropout=0.0,
                mean=x.mean(0), variance=x.var(0))
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True))
    model.fit(x, y, epochs=4, batch_size=64, verbose=0)
    proba = 1.0 / (1.0 + np.exp(-np.asarray(model(x[:32]), dtype=np.float64)))
    metrics = {"split": "train", "num_examples": 32,
               "metrics": {"micro_f1": float(f1_score(y[:32], proba > 0.5, average="micro"))}}
    card = checkpoint.new_card(
        name=NAME, architecture="mlp", dataset="emotions", kind="features", label_names=LABELS,
        input_spec={"kind": "features", "num_features": 72, "sparse": False},
        architecture_options={"hidden_units": [16], "dropout": 0.0},
        thresholds=thresholds.GlobalThreshold(0.5).to_dict(),
        recipe={}, training={"wall_time_s": 0.0, "seed": 0}, paper="Nam et al. 2014")
    root = tmp_path_factory.mktemp("ckpts")
    folder = checkpoint.write(root / "emotions-mlp", model, card, metrics=metrics)
    return folder, checkpoint.read_card(folder), x[:32], proba


@pytest.fixture()
def folder(trained):
    return trained[0]


@pytest.fixture()
def repo_id(trained):
    return trained[1]["hub"]["repo_id"]          # zoo-mlc/emotions-mlp (ZOO_HF_ORG default)


@pytest.fixture()
def index(trained, tmp_path, monkeypatch):
    """A temporary shipped index naming the checkpoint; no local checkpoints folder."""
    folder, card = trained[0], trained[1]
    path = tmp_path / "_index.json"
    path.write_text(json.dumps({"format": 1, "models": {NAME: registry.index_record(card, folder)}}))
    monkeypatch.setattr(registry, "INDEX_PATH", path)
    empty = tmp_path / "no-checkpoints"
    empty.mkdir()
    monkeypatch.setenv("ZOO_CHECKPOINTS", str(empty))
    return path


@pytest.fixture()
def hub(folder, repo_id, tmp_path, monkeypatch):
    """A running fake Hub serving the checkpoint; huggingface_hub points at it, empty cache."""
    server = FakeHub(token="fake").start()
    server.add_repo(repo_id, folder)
    configure_hf(monkeypatch, endpoint=server.url, home=tmp_path / "hf", offline=False)
    yield server
    server.stop()


def _assert_predicts_like_original(model, trained):
    _, _, x, want = trained
    assert model.label_names == LABELS
    np.testing.assert_allclose(model.predict_proba(x), want, rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- (a) offline cache

def test_offline_load_from_prepopulated_cache(hub, index, trained, repo_id, tmp_path, monkeypatch):
    import huggingface_hub
    cached = Path(huggingface_hub.snapshot_download(repo_id))     # populate the HF cache
    commit = hub.repos[repo_id].refs["main"]
    assert cached == tmp_path / "hf" / "hub" / "models--zoo-mlc--emotions-mlp" / "snapshots" / commit
    configure_hf(monkeypatch, offline=True)
    before = list(hub.requests)
    model = api.load(NAME)
    assert model.path == cached
    assert hub.requests == before, "HF_HUB_OFFLINE=1 must not send anything"
    _assert_predicts_like_original(model, trained)
    hub.stop()                                                    # the network is gone too
    configure_hf(monkeypatch, offline=False)                     # ... and nobody told us
    model = api.load(NAME)
    assert model.path == cached
    _assert_predicts_like_original(model, trained)


def test_offline_env_in_fresh_process(hub, folder, repo_id, tmp_path):
    """The real variables (read at import by huggingface_hub), in a new process."""
    import huggingface_hub
    huggingface_hub.snapshot_download(repo_id)
    hub.stop()
    code = ("import numpy as np, zoo.api\n"
            f"m = zoo.api.load('hf://{repo_id}')\n"
            "print(m.path)\n"
            "np.save('p.npy', m.predict_proba(np.load('x.npy')))\n")
    x = np.random.default_rng(0).normal(size=(3, 72)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    env = {**os.environ, **CHILD_ENV, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1",
           "HF_ENDPOINT": hub.url}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert Path(out.stdout.split()[-1]).parent.parent.name == "models--zoo-mlc--emotions-mlp"
    want = checkpoint.read(folder)[0](x)
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), 1 / (1 + np.exp(-np.asarray(want))),
                               rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- (b) HF_ENDPOINT

def test_download_from_endpoint_is_verified_and_loaded(hub, index, trained, folder, repo_id,
                                                       tmp_path):
    assert not (tmp_path / "hf" / "hub").exists()
    model = api.load(NAME)
    assert Path(model.path).is_relative_to(tmp_path / "hf" / "hub")
    assert _tree(model.path) == _tree(folder)
    _assert_predicts_like_original(model, trained)
    commit = hub.repos[repo_id].refs["main"]
    got = {p for m, p in hub.requests if m == "GET" and "/resolve/" in p}
    assert got == {f"/{repo_id}/resolve/{commit}/{f}" for f in _tree(folder)}
    # A second load is served by the cache: no new file transfer.
    n = len(hub.requests)
    assert api.load(NAME).path == model.path
    assert hub.requests[n:] == []


def test_flipped_byte_on_the_hub_is_refused(hub, index, repo_id, monkeypatch):
    import keras
    loads = []
    real = keras.saving.load_model
    monkeypatch.setattr(keras.saving, "load_model", lambda *a, **k: loads.append(a) or real(*a, **k))
    hub.flip_byte(repo_id, "model.weights.h5")
    with pytest.raises(CheckpointError, match=r"model\.weights\.h5: SHA-256 .* does not match"):
        api.load(NAME)
    # Without the index the folder's own zoo.json still catches it.
    with pytest.raises(CheckpointError, match=r"model\.weights\.h5: SHA-256"):
        api.load(f"hf://{repo_id}")
    assert loads == [], "nothing may be deserialized from a corrupted checkpoint"


def test_index_hashes_beat_a_self_consistent_repo(hub, index, folder, repo_id, tmp_path):
    """A repo whose files agree with its own zoo.json but not with the index is refused by name."""
    from zoo import thresholds
    other = tmp_path / "other"
    other.mkdir()
    for rel, data in _tree(folder).items():
        (other / rel).write_bytes(data)
    card = checkpoint.read_card(other)
    card["thresholds"] = thresholds.GlobalThreshold(0.01).to_dict()
    (other / "zoo.json").write_text(json.dumps(card))
    checkpoint.verify(other)                              # self-consistent
    hub.add_repo(repo_id, other, message="replace zoo.json")
    with pytest.raises(CheckpointError, match="zoo.json.*registry"):
        api.load(NAME)
    # The same repo by hf:// reference (no registry entry) loads, with its own thresholds.
    assert api.load(f"hf://{repo_id}").thresholds == thresholds.GlobalThreshold(0.01)


def test_hf_reference_downloads_any_repo(hub, folder, trained, tmp_path):
    hub.add_repo("someone/my-emotions", folder)
    model = api.load("hf://someone/my-emotions")
    assert Path(model.path).is_relative_to(tmp_path / "hf" / "hub" / "models--someone--my-emotions")
    _assert_predicts_like_original(model, trained)


# ----------------------------------------------------------------------------- (c) publish

def _expected_plan(folder):
    return [{"path": rel, "bytes": len(data), "sha256": _sha256(data)}
            for rel, data in sorted(_tree(folder).items())]


def test_publish_dry_run_lists_files_and_sends_nothing(hub, folder, repo_id):
    plan = zpublish.publish(folder, dry_run=True)
    assert plan["dry_run"] is True and plan["repo_id"] == repo_id
    assert plan["files"] == _expected_plan(folder)
    assert {f["path"] for f in plan["files"]} == {"config.json", "metadata.json",
                                                  "model.weights.h5", "zoo.json",
                                                  "metrics.json", "README.md"}
    assert hub.requests == []


def test_cli_publish_dry_run_json(hub, folder, repo_id, tmp_path):
    env = {**os.environ, **CHILD_ENV, "HF_ENDPOINT": hub.url, "HF_HOME": str(tmp_path / "hf"),
           "ZOO_CHECKPOINTS": str(folder.parent)}
    out = subprocess.run([sys.executable, "-m", "zoo", "publish", NAME, "--dry-run", "--json"],
                         capture_output=True, text=True, env=env, timeout=120,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 0, out.stderr[-2000:]
    plan = json.loads(out.stdout)
    assert plan["repo_id"] == repo_id and plan["dry_run"] is True
    assert Path(plan["folder"]) == folder
    assert plan["files"] == _expected_plan(folder)
    assert hub.requests == [], "a dry run must not contact the Hub"


def test_publish_then_fresh_download_is_byte_identical(hub, index, folder, tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_CHECKPOINTS", str(folder.parent))     # publish by name
    target = "me/published-emotions"
    with pytest.raises(Exception, match="401"):
        zpublish.publish(NAME, repo_id=target, token="wrong")
    plan = zpublish.publish(NAME, repo_id=target, token="fake")
    assert plan["commit"] == hub.repos[target].refs["main"]
    posted = [p for m, p in hub.requests if m == "POST"]
    assert f"/api/models/{target}/commit/main" in posted
    uploaded = hub.files(target)
    assert set(uploaded) == set(_tree(folder)) | {".gitattributes"}
    # A fresh cache downloads exactly the bytes of the folder.
    configure_hf(monkeypatch, home=tmp_path / "fresh")
    model = api.load(f"hf://{target}")
    assert Path(model.path).is_relative_to(tmp_path / "fresh")
    got = _tree(model.path)
    got.pop(".gitattributes")
    assert got == _tree(folder)
    # Publishing the same folder again commits nothing new.
    before = hub.repos[target].refs["main"]
    assert zpublish.publish(NAME, repo_id=target, token="fake")["commit"] == before


# ----------------------------------------------------------------------------- (d) misses

def test_unknown_name_names_everything_tried(hub, index, tmp_path):
    with pytest.raises(NotFoundError) as e:
        api.load("nope/nothing")
    msg = str(e.value)
    assert "'nope/nothing'" in msg
    assert "local folder nope/nothing" in msg
    assert str(tmp_path / "no-checkpoints" / "nope-nothing") in msg
    assert f"Known pretrained names: {NAME}" in msg


def test_registered_name_missing_everywhere_names_cache_and_hub(hub, index, repo_id, monkeypatch):
    del hub.repos[repo_id]
    with pytest.raises(NotFoundError) as e:
        api.load(NAME)
    msg = str(e.value)
    assert f"checkpoints folder {os.environ['ZOO_CHECKPOINTS']}" in msg
    assert f"Hugging Face cache for {repo_id}@main" in msg
    assert f"Hub download from {hub.url} for {repo_id}@main" in msg
    assert "RepositoryNotFoundError" in msg
    # Offline, the Hub is not contacted and the message says why.
    configure_hf(monkeypatch, offline=True)
    n = len(hub.requests)
    with pytest.raises(NotFoundError, match=rf"no Hub download for {repo_id}@main \(HF_HUB_OFFLINE is set\)"):
        api.load(f"hf://{repo_id}")
    assert len(hub.requests) == n


def test_publish_refuses_unrecorded_files(folder, tmp_path):
    import shutil
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    (copy / "notes.txt").write_text("not part of the checkpoint")
    with pytest.raises(CheckpointError, match="does not record: notes.txt"):
        zpublish.publish(copy, dry_run=True)
