"""Train LibMultiLabel models on the exported zoo splits and save their test-split scores.

Runs in the ISOLATED peer environment (LibMultiLabel is not a dependency of the zoo; this file
imports nothing from ``zoo``)::

    python3 -m venv /work/peer-venv
    /work/peer-venv/bin/pip install --index-url https://download.pytorch.org/whl/cpu \\
        --extra-index-url https://pypi.org/simple 'libmultilabel[nn]==0.10.0'
    nice -n 10 /work/peer-venv/bin/python benchmarks/peers/run_libmultilabel.py \\
        --data /work/peer-data --dataset reuters21578 \\
        --config benchmarks/peers/configs/linear_1vsrest.yml --out /work/peer-runs \\
        [--max-epochs N] [--threads 1]

``--data`` is what ``export_splits.py`` wrote (``<data>/<dataset>/{train,valid,test}.txt``,
``labels.txt``, ``manifest.json``). The run writes ``<out>/<dataset>/<config stem>/``:

* ``test_scores.npy`` -- float32 (n_test, L), columns in the zoo's label order
  (``labels.txt``), rows in the test file's order: LIBLINEAR decision values
  (``score_kind: "decision_value"``, the library predicts a label when > 0) or network logits
  (``"logit"``, predicted when sigmoid > 0.5). ``score.py`` (zoo venv) turns both into
  probabilities with a sigmoid, so the zoo's 0.5 cut is the library's own rule.
* ``run.json`` -- library and version, config (file, SHA-256, the values used), seed, wall
  times, epochs run and best epoch, hardware, the SHA-256 of the data files and score file.

Linear configs (``linear: true``) follow the library's linear pipeline:
``libmultilabel.linear.Preprocessor()`` (TF-IDF with scikit-learn defaults) fitted on the
training file, ``linear.LINEAR_TECHNIQUES[linear_technique](y, x, options=...)``, and
``linear.predict_values``. The training file is the zoo's ``train`` split (the valid split is
not used by the linear techniques). Neural configs follow the library's ``nn`` API
(``load_datasets`` with the zoo's ``valid`` as the validation file, ``load_or_build_label``,
``load_or_build_text_dict``, ``init_model``, ``init_trainer`` with early stopping and the best
checkpoint on ``val_metric``); the test scores come from the best checkpoint.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

LIBRARY = "libmultilabel"


def sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def atomic_write(path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def save_npy(path, array) -> None:
    import io
    buf = io.BytesIO()
    np.save(buf, array)
    atomic_write(path, buf.getvalue())


def hardware(threads) -> dict:
    cpu = platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "threads": threads,
            "accelerator": "none (CPU only)", "os": platform.platform(),
            "python": platform.python_version()}


def read_labels(folder: Path) -> list[str]:
    return [s.strip() for s in (folder / "labels.txt").read_text().splitlines() if s.strip()]


def reorder(scores: np.ndarray, lib_labels, zoo_labels) -> np.ndarray:
    """Columns of ``scores`` (in the library's label order) rearranged to the zoo's order."""
    pos = {str(n): j for j, n in enumerate(lib_labels)}
    missing = [n for n in zoo_labels if n not in pos]
    if missing:
        raise ValueError(f"the library's label set lacks {missing[:5]} ({len(missing)} labels)")
    return scores[:, [pos[n] for n in zoo_labels]]


# ----------------------------------------------------------------------------- linear
def run_linear(cfg: dict, folder: Path, threads: int) -> dict:
    import libmultilabel.linear as linear
    from libmultilabel.linear.utils import LINEAR_TECHNIQUES
    if cfg.get("seed") is not None:
        np.random.seed(cfg["seed"])
    t0 = time.perf_counter()
    data = linear.load_dataset("txt", str(folder / "train.txt"), str(folder / "test.txt"),
                               str(folder / "labels.txt"))
    pre = linear.Preprocessor(include_test_labels=False, remove_no_label_data=False)
    ds = pre.fit_transform(data)
    t1 = time.perf_counter()
    technique = cfg.get("linear_technique", "1vsrest")
    options = cfg.get("liblinear_options", "")
    if "-m" not in options:  # the library adds "-m <physical cores>": honour the thread budget
        options = f"{options} -m {threads}"
    model = LINEAR_TECHNIQUES[technique](ds["train"]["y"], ds["train"]["x"],
                                                options=options)
    t2 = time.perf_counter()
    scores = np.asarray(linear.predict_values(model, ds["test"]["x"]), dtype=np.float64)
    t3 = time.perf_counter()
    return {"scores": scores, "lib_labels": [str(c) for c in pre.label_mapping],
            "score_kind": "decision_value",
            "timing": {"preprocess_seconds": t1 - t0, "train_seconds": t2 - t1,
                       "predict_seconds": t3 - t2},
            "details": {"liblinear_options_used": options, "linear_technique": technique,
                        "num_features": int(ds["train"]["x"].shape[1]),
                        "train_rows": int(ds["train"]["x"].shape[0])}}


# ----------------------------------------------------------------------------- neural
def random_embedding_file(word_dict: dict, dim: int, seed: int, path: Path) -> Path:
    """A GloVe-format text file with a random vector (uniform in [-0.25, 0.25], Kim 2014's
    CNN-rand) for every vocabulary word except the special tokens (<pad> stays zero; the
    library gives <unk> its own random vector)."""
    rng = np.random.default_rng(seed)
    lines = []
    for w in word_dict:
        if w in ("<pad>", "<unk>"):
            continue
        v = rng.uniform(-0.25, 0.25, dim)
        lines.append(w + " " + " ".join(f"{x:.6f}" for x in v))
    atomic_write(path, ("\n".join(lines) + "\n").encode("utf-8"))
    return path


def run_nn(cfg: dict, folder: Path, workdir: Path, threads: int, max_epochs,
           max_minutes=None) -> dict:
    import torch
    from libmultilabel.nn import data_utils, nn_utils
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    seed = cfg.get("seed", 1337)
    nn_utils.set_seed(seed)
    device = torch.device("cpu")
    t0 = time.perf_counter()
    ds = data_utils.load_datasets(training_data=str(folder / "train.txt"),
                                  test_data=str(folder / "test.txt"),
                                  val_data=str(folder / "valid.txt"),
                                  merge_train_val=False, tokenize_text=True,
                                  remove_no_label_data=False)
    classes = data_utils.load_or_build_label(ds, label_file=str(folder / "labels.txt"))
    # The vocabulary of the training texts (the library's default: no vocab_file).
    vocab = {w: i for i, w in enumerate(
        data_utils._build_word_dict([set(d["text"]) for d in ds["train"]],
                                    min_vocab_freq=cfg.get("min_vocab_freq", 1),
                                    specials=["<pad>", "<unk>"]))}
    emb_path = random_embedding_file(vocab, int(cfg.get("embed_dim", 300)), seed,
                                     workdir / "random_embeddings.txt")
    word_dict, embed_vecs = data_utils.load_or_build_text_dict(
        dataset=ds["train"], min_vocab_freq=cfg.get("min_vocab_freq", 1),
        embed_file=str(emb_path), silent=True)
    epochs = int(cfg["epochs"]) if max_epochs is None else min(int(cfg["epochs"]), max_epochs)
    val_metric = cfg.get("val_metric", "P@1")
    ckpt_dir = workdir / "checkpoints"
    model = nn_utils.init_model(
        model_name=cfg["model_name"], network_config=cfg["network_config"], classes=classes,
        embed_vecs=embed_vecs, learning_rate=cfg["learning_rate"], optimizer=cfg["optimizer"],
        momentum=cfg.get("momentum", 0.9), weight_decay=cfg.get("weight_decay", 0),
        val_metric=val_metric, metric_threshold=cfg.get("metric_threshold", 0.5),
        monitor_metrics=cfg.get("monitor_metrics"), silent=True, log_path=None)
    trainer = nn_utils.init_trainer(str(ckpt_dir), epochs=epochs,
                                    patience=cfg.get("patience", 5),
                                    early_stopping_metric=val_metric, val_metric=val_metric,
                                    silent=True, use_cpu=True)
    budget = {"stopped_by_time": False}
    if max_minutes is not None:
        import lightning as L

        class TimeBudget(L.Callback):
            """Stop after the first epoch that ends past the time budget (CPU share)."""

            def on_train_epoch_end(self, trainer, pl_module):
                if time.perf_counter() - t_fit[0] > 60 * max_minutes:
                    budget["stopped_by_time"] = True
                    trainer.should_stop = True
        trainer.callbacks.append(TimeBudget())
    t_fit = [0.0]
    min_len = max(cfg["network_config"].get("filter_sizes", [1]))
    max_len = cfg.get("max_seq_length", 500)

    def loader(split, shuffle, batch_size):
        dl = data_utils.get_dataset_loader(ds[split], classes, device, max_len,
                                           batch_size=batch_size, shuffle=shuffle,
                                           data_workers=0, word_dict=word_dict)
        # A batch whose longest document is shorter than the widest filter cannot be
        # convolved: pad such batches (with <pad>, id 0) to the filter width.
        base = dl.collate_fn

        def collate(items):
            b = base(items)
            if b["text"].shape[1] < min_len:
                b["text"] = torch.nn.functional.pad(b["text"], (0, min_len - b["text"].shape[1]))
            return b
        dl.collate_fn = collate
        return dl
    train_dl = loader("train", bool(cfg.get("shuffle", True)), int(cfg["batch_size"]))
    val_dl = loader("val", False, int(cfg.get("eval_batch_size", 256)))
    test_dl = loader("test", False, int(cfg.get("eval_batch_size", 256)))
    t1 = time.perf_counter()
    t_fit[0] = t1
    trainer.fit(model, train_dl, val_dl)
    t2 = time.perf_counter()
    best_path = ckpt_dir / "best_model.ckpt"
    state = torch.load(best_path, map_location="cpu", weights_only=False)
    model.load_state_dict(state["state_dict"])
    model.eval()
    out = []
    with torch.no_grad():
        for b in test_dl:
            out.append(model(b).float().numpy())
    scores = np.concatenate(out).astype(np.float64)
    t3 = time.perf_counter()
    ckpt_cb = trainer.checkpoint_callback
    es = [c for c in trainer.callbacks if type(c).__name__ == "EarlyStopping"]
    best_score = ckpt_cb.best_model_score
    return {"scores": scores, "lib_labels": list(classes), "score_kind": "logit",
            "timing": {"preprocess_seconds": t1 - t0, "train_seconds": t2 - t1,
                       "predict_seconds": t3 - t2},
            "details": {"epochs_config": int(cfg["epochs"]), "epochs_cap": epochs,
                        "epochs_run": int(trainer.current_epoch),
                        "best_epoch": int(state.get("epoch", -1)) + 1,
                        "stopped_early": bool(es and es[0].stopped_epoch > 0),
                        "stopped_by_time_budget": budget["stopped_by_time"],
                        "max_minutes": max_minutes,
                        "val_metric": val_metric,
                        "best_val_metric": None if best_score is None else float(best_score),
                        "vocab_size": len(word_dict), "embeddings": "random uniform[-0.25,0.25]"
                        f" {embed_vecs.shape[1]}-d (GloVe not downloadable here), trained",
                        "torch": torch.__version__, "train_rows": len(ds["train"]),
                        "val_rows": len(ds["val"]), "min_batch_length": min_len}}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True)
    p.add_argument("--dataset", required=True)
    p.add_argument("--config", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--max-epochs", type=int, default=None,
                   help="cap the config's epochs (CPU budget); recorded in run.json")
    p.add_argument("--max-minutes", type=float, default=None,
                   help="stop after the first epoch ending past this training time (CPU "
                        "budget); recorded in run.json")
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    from importlib.metadata import version
    folder = Path(a.data) / a.dataset
    cfg_path = Path(a.config)
    cfg = yaml.safe_load(cfg_path.read_text())
    zoo_labels = read_labels(folder)
    run_dir = Path(a.out) / a.dataset / cfg_path.stem
    run_dir.mkdir(parents=True, exist_ok=True)
    start = time.time()
    t = time.perf_counter()
    if cfg.get("linear"):
        res = run_linear(cfg, folder, a.threads)
    else:
        res = run_nn(cfg, folder, run_dir, a.threads, a.max_epochs, a.max_minutes)
    wall = time.perf_counter() - t
    scores = reorder(res["scores"], res["lib_labels"], zoo_labels).astype(np.float32)
    n_test = sum(1 for _ in open(folder / "test.txt", encoding="utf-8"))
    if scores.shape != (n_test, len(zoo_labels)):
        raise ValueError(f"scores have shape {scores.shape}, expected ({n_test}, "
                         f"{len(zoo_labels)}): the library dropped or added test rows")
    if not np.isfinite(scores).all():
        raise ValueError("non-finite test scores")
    save_npy(run_dir / "test_scores.npy", scores)
    manifest = json.loads((folder / "manifest.json").read_text())
    run = {"library": LIBRARY, "version": version(LIBRARY), "dataset": a.dataset,
           "config": {"name": cfg_path.stem, "file": cfg_path.as_posix(),
                      "sha256": sha256(cfg_path), "values": cfg},
           "model": cfg.get("model_name") or f"linear-{cfg.get('linear_technique', '1vsrest')}",
           "seed": cfg.get("seed"), "score_kind": res["score_kind"],
           "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start)),
           "wall_seconds": wall, "timing": res["timing"], "details": res["details"],
           "hardware": hardware(a.threads), "data_files": manifest["files"],
           "scores": {"file": "test_scores.npy", "sha256": sha256(run_dir / "test_scores.npy"),
                      "shape": list(scores.shape)},
           "max_epochs_arg": a.max_epochs, "max_minutes_arg": a.max_minutes}
    atomic_write(run_dir / "run.json", (json.dumps(run, indent=1) + "\n").encode())
    print(f"{a.dataset}/{cfg_path.stem}: {wall:.1f}s, scores {scores.shape} -> {run_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
