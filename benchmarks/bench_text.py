"""Text architectures: training time per epoch, inference docs/s, tokenizer throughput in tf.data.

    ZOO_DATA_DIR=../shared/datasets nice -n 5 .venv/bin/python benchmarks/bench_text.py \
        [--dataset reuters21578|goemotions] [--archs kimcnn,lsan] [--quick] [--no-doc]
    .venv/bin/python benchmarks/bench_text.py --markdown     # re-render the docs section only

For each text architecture (kimcnn, xmlcnn, lwan, lsan, sgm, transformer) and dataset
(reuters21578, goemotions), with the hyper-parameters of ``recipes/<dataset>/<arch>.toml``:

* **training time per epoch**: the model is built as ``zoo.train.fit`` builds it
  (``train.build_model`` with the recipe's ``[model]`` options on the recipe's training split,
  vocabulary adapted on all of it; seeded; compiled with the recipe's optimizer, loss, default
  training metrics and ``jit_compile``), fed by ``pipeline.to_tf_dataset(..., shuffle=True)``
  with the recipe's batch size as ``fit`` does. One untimed warm-up epoch over
  ``--warmup-docs`` random training documents (traces the train step), then ``--epochs``
  timed epochs over ``--train-docs`` other random training documents. Reported: measured
  seconds per 1000 documents (median epoch) and, EXTRAPOLATED linearly from it, seconds per
  epoch over the whole training split. ``fit``'s per-epoch validation pass is not included.
* **inference**: the published checkpoint (``zoo.load("<dataset>/<arch>")``),
  ``MultiLabelModel.predict_proba`` on test-split texts: batch size 1 (median latency of
  ``--latency-calls`` single-document calls) and batch 256 (median over ``--infer-repeats``
  passes over ``--infer-docs`` documents), after warm-up calls of both sizes. The number of
  traces of the compiled function is recorded before and after the timed calls (a retrace
  during timing would show there).
* **tokenizer in tf.data**: the checkpoint's own tokenizer layer (``TextVectorization`` for
  the CNN/RNN models and SGM, keras-hub ``WordPieceTokenizer`` for the transformer) in
  ``Dataset.from_tensor_slices(texts).batch(b).map(tok, num_parallel_calls=AUTOTUNE)
  .prefetch(AUTOTUNE)`` over all training texts (b = the recipe batch size and 1024; one
  warm-up pass that also counts the ids, then the median of ``--tok-repeats`` passes):
  docs/s, emitted (non-padding, i.e. after truncation) ids/s and raw whitespace words/s.
  ``zoo.train.fit`` does NOT tokenize in the pipeline: ``to_tf_dataset`` hands the model raw
  strings and the tokenizer, the model's first layer, runs inside every train step. Both are
  measured: ``to_tf_dataset`` as ``fit`` builds it (strings only, per dataset) and with the
  tokenizer as ``preprocess=`` (tokenized once into the cache: first epoch vs cached epochs).
* **size**: parameters (trainable / total) and the checkpoint folder's bytes on disk.

Results go to ``benchmarks/results/text.json`` (atomic write; a run restricted by ``--archs``
or ``--dataset`` updates only its entries) and, unless ``--no-doc``, into the section between
the ``text-benchmark`` markers of ``docs/benchmarks.md``. ``--quick`` uses tiny sizes (a smoke
run: nothing is written unless ``--out`` is given). The machine is shared: the load average
is recorded at the start and end of the run and around every entry; the figures are upper
bounds on time (lower bounds on throughput). Never assert on these numbers in tests.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import gc
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "benchmarks" / "results" / "text.json"
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- text-benchmark:start -->", "<!-- text-benchmark:end -->"
ARCHS = ("kimcnn", "xmlcnn", "lwan", "lsan", "sgm", "transformer")
DATASETS = ("reuters21578", "goemotions")


@dataclasses.dataclass(frozen=True)
class Sizes:
    """How much work each measurement does."""
    warmup_docs: int = 512           # untimed warm-up epoch (traces the train step)
    train_docs: int = 2048           # documents per timed epoch
    epochs: int = 1                  # timed epochs (median reported; steps are timed too)
    latency_calls: int = 50          # batch-1 predict_proba calls
    infer_docs: int = 1024           # documents per batch-256 inference pass
    infer_repeats: int = 3           # batch-256 inference passes (median reported)
    infer_batch: int = 256
    tok_repeats: int = 2             # timed tokenizer passes over the training texts
    tok_batch: int = 1024            # second tokenizer batch size (besides the recipe's)
    tok_docs: int | None = None      # None: all training texts
    pipeline_epochs: int = 2         # cached to_tf_dataset epochs timed after the first


QUICK = Sizes(warmup_docs=64, train_docs=128, epochs=1, latency_calls=5, infer_docs=64,
              infer_repeats=2, infer_batch=32, tok_repeats=1, tok_batch=64, tok_docs=512,
              pipeline_epochs=1)


# ------------------------------------------------------------------------------ helpers
def loadavg() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def _median(xs) -> float:
    return float(statistics.median(xs))


def recipe_config(recipe: dict) -> dict:
    """The training configuration ``zoo.train.fit`` would use for this recipe."""
    from zoo.train import TRAIN_DEFAULTS
    return {**TRAIN_DEFAULTS, **recipe.get("train", {})}


def compile_like_fit(model, cfg: dict) -> None:
    """``model.compile`` exactly as ``zoo.train.fit`` does it."""
    import keras

    from zoo import losses, metrics
    opt_kwargs = {"learning_rate": cfg["learning_rate"]}
    if cfg["weight_decay"]:
        opt_kwargs["weight_decay"] = cfg["weight_decay"]
    optimizer = keras.optimizers.get({"class_name": cfg["optimizer"], "config": opt_kwargs})
    model.compile(optimizer=optimizer, loss=losses.get(cfg["loss"], **cfg["loss_options"]),
                  metrics=metrics.default_training_metrics(threshold=0.5),
                  jit_compile=cfg["jit_compile"])


def find_tokenizer(keras_model):
    """The raw-text -> token-id layer of a text model: ``(layer, description dict)``."""
    import keras
    layers = list(keras_model._flatten_layers(include_self=False))
    for layer in layers:
        if isinstance(layer, keras.layers.TextVectorization):
            cfg = layer.get_config()
            return layer, {"type": "TextVectorization", "vocabulary_size": int(layer.vocabulary_size()),
                           "sequence_length": cfg.get("output_sequence_length"),
                           "standardize": cfg.get("standardize"), "split": cfg.get("split"),
                           "pad_id": 0}
    for layer in layers:
        if type(layer).__name__ == "WordPieceTokenizer":
            return layer, {"type": "WordPieceTokenizer", "vocabulary_size": int(layer.vocabulary_size()),
                           "sequence_length": layer.sequence_length,
                           "lowercase": layer.lowercase, "pad_id": int(layer.token_to_id("[PAD]"))}
    raise ValueError(f"no tokenizer layer (TextVectorization / WordPieceTokenizer) in {keras_model.name}")


def _folder_bytes(folder: Path) -> dict:
    files = [p for p in Path(folder).rglob("*") if p.is_file()]
    weights = Path(folder) / "model.weights.h5"
    assets = [p for p in files if "assets" in p.relative_to(folder).parts]
    return {"total_bytes": sum(p.stat().st_size for p in files),
            "weights_bytes": weights.stat().st_size if weights.is_file() else None,
            "assets_bytes": sum(p.stat().st_size for p in assets), "files": len(files)}


# ------------------------------------------------------------------------------ training
class _EpochTimer:
    """Keras callback collecting wall seconds per epoch (created lazily: keras import)."""

    def __new__(cls):
        import keras

        class Timer(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.times = []

                self.steps = []

            def on_epoch_begin(self, epoch, logs=None):
                self._t0 = self._last = time.perf_counter()

            def on_train_batch_end(self, batch, logs=None):
                now = time.perf_counter()
                self.steps.append(now - self._last)
                self._last = now

            def on_epoch_end(self, epoch, logs=None):
                self.times.append(time.perf_counter() - self._t0)

        return Timer()


def bench_training(arch: str, train, recipe: dict, sizes: Sizes, vocabulary=None) -> dict:
    """Seconds per 1000 docs of ``fit`` steps (recipe model, optimizer, batch, pipeline),
    measured on ``sizes.train_docs`` training documents and extrapolated to ``len(train)``.

    ``vocabulary``: build with this vocabulary instead of learning one on ``train`` (the
    builders' ``vocabulary=`` option; same layers and sizes)."""
    import keras

    from zoo.data import pipeline
    from zoo.train import build_model

    cfg = recipe_config(recipe)
    seed = int(recipe.get("seed", 0))
    bs = int(cfg["batch_size"])
    n = len(train)
    # whole batches only: a smaller last batch would be traced again inside a timed epoch
    n_timed = max(bs, min(sizes.train_docs, n) // bs * bs)
    n_warm = max(bs, min(sizes.warmup_docs, n) // bs * bs)
    perm = np.random.default_rng(seed).permutation(n)
    timed_idx = perm[:n_timed]
    rest = perm[n_timed:]
    warm_idx = rest[:n_warm] if len(rest) >= n_warm else perm[-n_warm:]

    keras.utils.set_random_seed(seed)
    t0 = time.perf_counter()
    options = dict(recipe.get("model", {}))
    if vocabulary is not None:
        options["vocabulary"] = list(vocabulary)
    model, _ = build_model(arch, train, options)
    build_s = time.perf_counter() - t0
    compile_like_fit(model, cfg)

    warm = pipeline.to_tf_dataset(train.subset(warm_idx), batch_size=bs, shuffle=True, seed=seed)
    t0 = time.perf_counter()
    model.fit(warm, epochs=1, verbose=0, shuffle=False)
    warm_s = time.perf_counter() - t0

    timed = pipeline.to_tf_dataset(train.subset(timed_idx), batch_size=bs, shuffle=True, seed=seed)
    timer = _EpochTimer()
    model.fit(timed, epochs=int(sizes.epochs), verbose=0, shuffle=False, callbacks=[timer])
    epoch_s = _median(timer.times)
    per_doc = epoch_s / n_timed
    out = {
        "batch_size": bs, "jit_compile": cfg["jit_compile"], "optimizer": cfg["optimizer"],
        "loss": cfg["loss"], "train_split_docs": n,
        "vocabulary": ("learned on the training split, as fit does" if vocabulary is None
                       else "the checkpoint's (learning skipped)"),
        "build_seconds": round(build_s, 3),   # vocabulary (if learned) + layers
        "warmup_docs": n_warm, "warmup_seconds": round(warm_s, 3),
        "timed_docs": n_timed, "timed_epochs": int(sizes.epochs),
        "epoch_seconds": [round(t, 4) for t in timer.times],
        "seconds_per_1000_docs": 1000 * per_doc,
        "median_step_seconds": _median(timer.steps),
        "median_step_seconds_per_1000_docs": 1000 * _median(timer.steps) / bs,
        "docs_per_s": 1 / per_doc,
        "extrapolated_seconds_per_full_epoch": per_doc * n,
        "params": int(model.count_params()),
    }
    del model, warm, timed
    keras.backend.clear_session()
    gc.collect()
    return out


# ------------------------------------------------------------------------------ inference
def _tracing_count(mlm):
    fn = getattr(mlm, "_fn", None)
    get = getattr(fn, "experimental_get_tracing_count", None)
    return int(get()) if get else None


def bench_inference(mlm, texts: list, sizes: Sizes) -> dict:
    """``predict_proba`` latency at batch 1 and throughput at ``sizes.infer_batch``."""
    b = int(sizes.infer_batch)
    n_big = max(b, min(sizes.infer_docs, len(texts)) // b * b)
    big = texts[:n_big]
    ones = [texts[i % len(texts)] for i in range(sizes.latency_calls)]
    t0 = time.perf_counter()
    mlm.predict_proba(texts[:1], batch_size=1)
    first1 = time.perf_counter() - t0
    t0 = time.perf_counter()
    mlm.predict_proba(big[:b], batch_size=b)
    first_b = time.perf_counter() - t0
    for t in ones[:3]:                                 # settle
        mlm.predict_proba([t], batch_size=1)
    traces_before = _tracing_count(mlm)
    lat = []
    for t in ones:
        t0 = time.perf_counter_ns()
        mlm.predict_proba([t], batch_size=1)
        lat.append((time.perf_counter_ns() - t0) / 1e6)
    passes = []
    for _ in range(sizes.infer_repeats):
        t0 = time.perf_counter()
        p = mlm.predict_proba(big, batch_size=b)
        passes.append(time.perf_counter() - t0)
    assert p.shape == (n_big, len(mlm.label_names))
    med_ms = _median(lat)
    med_pass = _median(passes)
    lat_sorted = sorted(lat)
    return {
        "first_call_seconds": {"batch_1": round(first1, 4), f"batch_{b}": round(first_b, 4)},
        "batch_1": {"calls": len(lat), "median_ms": med_ms,
                    "p10_ms": lat_sorted[int(0.1 * (len(lat) - 1))],
                    "p90_ms": lat_sorted[int(round(0.9 * (len(lat) - 1)))],
                    "ms_per_doc": med_ms, "docs_per_s": 1000 / med_ms},
        "batch_large": {"batch_size": b, "docs": n_big, "repeats": len(passes),
                        "pass_seconds": [round(t, 4) for t in passes],
                        "ms_per_doc": 1000 * med_pass / n_big, "docs_per_s": n_big / med_pass},
        "traces_before_timing": traces_before, "traces_after_timing": _tracing_count(mlm),
    }


# ------------------------------------------------------------------------------ tokenizer
def bench_tokenizer(layer, pad_id: int, texts: list, batch_sizes, repeats: int) -> dict:
    """raw text -> ids inside tf.data, ``from_tensor_slices.batch.map(AUTOTUNE).prefetch``."""
    import tensorflow as tf
    n = len(texts)
    words = sum(len(t.split()) for t in texts)
    out = {"docs": n, "raw_whitespace_words": words, "by_batch": {}}
    strings = tf.constant(texts, dtype=tf.string)
    for b in batch_sizes:
        ds = (tf.data.Dataset.from_tensor_slices(strings).batch(int(b))
              .map(layer, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE))
        t0 = time.perf_counter()
        ids = 0
        for x in ds:                                   # warm-up pass (traces), counts the ids
            ids += int(np.count_nonzero(x.numpy() != pad_id))
        warm_s = time.perf_counter() - t0
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            for _ in ds:
                pass
            times.append(time.perf_counter() - t0)
        s = _median(times)
        out["by_batch"][str(int(b))] = {
            "batch_size": int(b), "warmup_pass_seconds": round(warm_s, 4),
            "pass_seconds": [round(t, 4) for t in times], "emitted_ids": ids,
            "docs_per_s": n / s, "ids_per_s": ids / s, "words_per_s": words / s}
    return out


def bench_to_tf_dataset(train, batch_size: int, preprocess=None, epochs: int = 2) -> dict:
    """Iterate ``pipeline.to_tf_dataset(train, batch_size, shuffle=True, preprocess=...)``:
    build time, first epoch (tokenizes and fills the cache when ``preprocess`` is given) and
    the median of the next ``epochs`` epochs."""
    from zoo.data import pipeline
    n = len(train)
    t0 = time.perf_counter()
    ds = pipeline.to_tf_dataset(train, batch_size=batch_size, shuffle=True, seed=0,
                                preprocess=preprocess)
    build_s = time.perf_counter() - t0
    times = []
    for _ in range(1 + epochs):
        t0 = time.perf_counter()
        rows = 0
        for x, _ in ds:
            rows += int(x.shape[0])
        times.append(time.perf_counter() - t0)
    assert rows == n, (rows, n)
    return {"batch_size": batch_size, "docs": n, "build_seconds": round(build_s, 4),
            "epoch_seconds": [round(t, 4) for t in times],
            "first_epoch_docs_per_s": n / times[0],
            "later_epochs_docs_per_s": n / _median(times[1:]) if epochs else None}


# ------------------------------------------------------------------------------ one entry
def _log(msg: str) -> None:
    print(msg, flush=True)


def run_arch(arch: str, train, test, recipe: dict, ref, sizes: Sizes, log=_log,
             fit_wordpiece: bool = False) -> dict:
    """All measurements for one (dataset, architecture): ``train``/``test`` are the text
    datasets, ``recipe`` the parsed recipe dict, ``ref`` what ``zoo.load`` takes (the
    pretrained name ``"<dataset>/<arch>"`` or a checkpoint folder)."""
    import keras

    import zoo
    entry = {"architecture": arch, "recipe_model_options": recipe.get("model", {}),
             "measured_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
             "loadavg_before": loadavg()}
    t_all = time.perf_counter()
    t0 = time.perf_counter()
    mlm = zoo.load(ref)
    entry["load_seconds"] = round(time.perf_counter() - t0, 3)   # hash check + deserialization
    folder = Path(mlm.path)
    km = mlm.keras_model
    entry["checkpoint"] = {"name": mlm.card.get("name"), "folder": folder.name,
                           "params": int(km.count_params()),
                           "trainable_params": int(sum(int(np.prod(w.shape)) for w in km.trainable_weights)),
                           **_folder_bytes(folder)}
    tr = mlm.card.get("training", {})
    if tr.get("wall_time_s") and tr.get("epochs_run"):
        entry["published_training"] = {
            "wall_time_s": tr["wall_time_s"], "epochs_run": tr["epochs_run"],
            "seconds_per_epoch_incl_validation": tr["wall_time_s"] / tr["epochs_run"],
            "train_examples": tr.get("train_examples"), "valid_examples": tr.get("valid_examples"),
            "cpu": (tr.get("hardware") or {}).get("cpu")}
    log(f"  inference ({len(test)} test docs available) ...")
    entry["inference"] = bench_inference(mlm, list(test.x), sizes)
    layer, desc = find_tokenizer(km)
    texts = list(train.x) if sizes.tok_docs is None else list(train.x)[:sizes.tok_docs]
    cfg = recipe_config(recipe)
    bs = int(cfg["batch_size"])
    log(f"  tokenizer {desc['type']} on {len(texts)} training texts ...")
    entry["tokenizer"] = {**desc, **bench_tokenizer(layer, desc["pad_id"], texts,
                                                    sorted({bs, sizes.tok_batch}),
                                                    sizes.tok_repeats)}
    sub = train if sizes.tok_docs is None else train.subset(np.arange(len(texts)))
    entry["tokenizer"]["to_tf_dataset_preprocess"] = bench_to_tf_dataset(
        sub, bs, preprocess=layer, epochs=sizes.pipeline_epochs)
    # Learning a WordPiece vocabulary (keras-hub compute_word_piece_vocabulary) takes minutes
    # on this CPU and is not part of an epoch: the transformer is built with the checkpoint's
    # vocabulary (learned on the same split with the same options) unless fit_wordpiece.
    vocab = None
    if desc["type"] == "WordPieceTokenizer" and not fit_wordpiece:
        vocab = [str(t) for t in layer.get_vocabulary()]
    del mlm, km, layer
    keras.backend.clear_session()
    gc.collect()
    log("  training ...")
    entry["training"] = bench_training(arch, train, recipe, sizes, vocabulary=vocab)
    entry["loadavg_after"] = loadavg()
    entry["seconds"] = round(time.perf_counter() - t_all, 1)
    return entry


# ------------------------------------------------------------------------------ machine
def machine_info() -> dict:
    import keras
    import tensorflow as tf

    from zoo.checkpoint import hardware
    hw = hardware()
    info = {"cpu": hw["cpu"], "cores": os.cpu_count(), "memory_gb": hw["memory_gb"],
            "accelerator": hw["accelerator"], "os": platform.platform(),
            "python": platform.python_version(), "tensorflow": tf.__version__,
            "keras": keras.__version__, "backend": keras.backend.backend(),
            "nice": os.nice(0),
            "tf_threads": {"intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
                           "inter_op": tf.config.threading.get_inter_op_parallelism_threads()}}
    try:
        import keras_hub
        info["keras_hub"] = keras_hub.__version__
    except Exception:  # pragma: no cover
        pass
    return info


# ------------------------------------------------------------------------------ markdown
def _n(x: float) -> str:
    """Readable number: 3 significant digits below 100, thousands separators above."""
    if x is None:
        return "-"
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def _mb(b) -> str:
    return f"{b / 1e6:.1f}"


def render_markdown(res: dict) -> str:
    m = res["machine"]
    ds_blocks = res["datasets"]
    def order(names, known):
        return [x for x in known if x in names] + sorted(x for x in names if x not in known)

    entries = [(d, a, ds_blocks[d]["archs"][a]) for d in order(ds_blocks, DATASETS)
               for a in order(ds_blocks[d]["archs"], ARCHS)]
    dates = sorted({e["measured_at"][:10] for _, _, e in entries})
    loads = [e["loadavg_before"][0] for _, _, e in entries] + \
        [e["loadavg_after"][0] for _, _, e in entries]
    s = res["settings"]
    cpus = sorted({e.get("published_training", {}).get("cpu") for _, _, e in entries} - {None, m["cpu"]})
    L = []
    L.append(f"Measured {', '.join(dates)} on {m['cpu']}, {m['cores']} cores"
             f" ({m['backend']} backend, TensorFlow {m['tensorflow']}, Keras {m['keras']},"
             f" keras-hub {m.get('keras_hub', '?')}), run under `nice -n {m['nice']}`."
             f" **The machine was shared with other jobs**: 1-min load average"
             f" {res['loadavg_start'][0]:.1f} at the start and {res['loadavg_end'][0]:.1f} at the"
             f" end of the last run, {min(loads):.1f}-{max(loads):.1f} around the individual"
             " measurements (last column of the first table). Every time below is an upper"
             " bound (every rate a lower bound) for this hardware; run-to-run noise is tens of"
             " percent. Raw numbers: `benchmarks/results/text.json`.")
    L.append("")
    L.append(f"**Training** (`fit` steps as `zoo.train.fit` runs them: recipe model, optimizer,"
             f" batch size and `to_tf_dataset` pipeline; tokenization happens inside the model)."
             f" One warm-up epoch of {s['warmup_docs']} documents, then the median of"
             f" {s['epochs']} timed epoch(s) over {s['train_docs']} other training documents."
             " The full-epoch column is *extrapolated* linearly from that rate to the whole"
             " training split and excludes `fit`'s validation pass. The \"published run\" column"
             " is the wall time per epoch (validation included) recorded in the checkpoint's card"
             " when it was trained, under a different load" + (
                 f"; * = trained on {', '.join(cpus)}, not this CPU" if cpus else "") +
             ": context, not a like-for-like comparison.")
    reused = [f"{d}/{a}" for d, a, e in entries if not e["training"]["vocabulary"].startswith("learned")]
    if reused:
        L[-1] += (f" {', '.join(reused)}: built with the checkpoint's WordPiece vocabulary (learned"
                  " on the same split with the same options) instead of learning it again: keras-hub's"
                  " `compute_word_piece_vocabulary` takes minutes here and is not part of an epoch"
                  " (`--fit-wordpiece` includes it in `build_seconds` of the JSON).")
    L.append("")
    L.append("| dataset | arch | params | batch | seq. length | measured s / 1000 docs |"
             " extrapolated s / full epoch | published run s / epoch | load before-after |")
    L.append("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for d, a, e in entries:
        t, tok = e["training"], e["tokenizer"]
        pt = e.get("published_training", {})
        pub = pt.get("seconds_per_epoch_incl_validation")
        star = "*" if pt.get("cpu") not in (None, m["cpu"]) else ""
        L.append(f"| {d} | {a} | {e['checkpoint']['params']:,} | {t['batch_size']} |"
                 f" {tok['sequence_length']} | {t['seconds_per_1000_docs']:.1f} |"
                 f" {t['extrapolated_seconds_per_full_epoch']:.0f} ({t['train_split_docs']:,} docs) |"
                 f" {_n(pub)}{star} | {e['loadavg_before'][0]:.1f}-{e['loadavg_after'][0]:.1f} |")
    L.append("")
    b = next((e["inference"]["batch_large"]["batch_size"] for _, _, e in entries), 256)
    L.append(f"**Inference** (`zoo.load(name).predict_proba` on test-split texts, raw strings in,"
             f" probabilities out; after warm-up). Batch 1: median of {s['latency_calls']}"
             f" single-document calls. Batch {b}: median of {s['infer_repeats']} passes over"
             f" {s['infer_docs']} documents. Checkpoint size: the folder on disk (weights +"
             " vocabulary + card).")
    L.append("")
    L.append(f"| dataset | arch | batch 1 ms/doc | batch 1 docs/s | batch {b} ms/doc |"
             f" batch {b} docs/s | checkpoint MB | trainable params |")
    L.append("|---|---|---:|---:|---:|---:|---:|---:|")
    for d, a, e in entries:
        i, c = e["inference"], e["checkpoint"]
        L.append(f"| {d} | {a} | {i['batch_1']['ms_per_doc']:.1f} | {_n(i['batch_1']['docs_per_s'])} |"
                 f" {i['batch_large']['ms_per_doc']:.2f} | {_n(i['batch_large']['docs_per_s'])} |"
                 f" {_mb(c['total_bytes'])} | {c['trainable_params']:,} |")
    L.append("")
    L.append("**Tokenizer inside tf.data** (the checkpoint's own layer;"
             " `from_tensor_slices(texts).batch(b).map(tok, num_parallel_calls=AUTOTUNE).prefetch`"
             f" over all training texts, median of {s['tok_repeats']} passes after a warm-up pass)."
             " ids/s counts the emitted non-padding ids (after truncation to the sequence"
             " length); words/s the raw whitespace-separated words consumed. The last two"
             " columns are `to_tf_dataset(train, batch, shuffle=True, preprocess=tok)`: the"
             " first epoch tokenizes and fills the cache, later epochs read the cache.")
    L.append("")
    L.append("| dataset | arch | tokenizer (vocab / length) | b | docs/s | ids/s | words/s |"
             " b=1024 docs/s | to_tf_dataset 1st epoch docs/s | cached epochs docs/s |")
    L.append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for d, a, e in entries:
        tok = e["tokenizer"]
        bs = str(e["training"]["batch_size"])
        r = tok["by_batch"][bs]
        big = tok["by_batch"].get(str(s["tok_batch"]), {})
        p = tok["to_tf_dataset_preprocess"]
        L.append(f"| {d} | {a} | {tok['type']} {tok['vocabulary_size']:,} / {tok['sequence_length']} |"
                 f" {bs} | {_n(r['docs_per_s'])} | {_n(r['ids_per_s'])} | {_n(r['words_per_s'])} |"
                 f" {_n(big.get('docs_per_s'))} | {_n(p['first_epoch_docs_per_s'])} |"
                 f" {_n(p['later_epochs_docs_per_s'])} |")
    L.append("")
    pipes = [(d, ds_blocks[d]["to_tf_dataset_strings"]) for d in order(ds_blocks, DATASETS)
             if "to_tf_dataset_strings" in ds_blocks[d]]
    if pipes:
        L.append("`to_tf_dataset` as `fit` builds it for text (raw strings, shuffled and batched;"
                 " no tokenization in the pipeline): " + "; ".join(
                     f"{d} {_n(p['later_epochs_docs_per_s'])} docs/s (batch {p['batch_size']},"
                     f" first epoch {_n(p['first_epoch_docs_per_s'])})" for d, p in pipes) + ".")
        L.append("")
    L.append("Share of a training epoch spent tokenizing, if the tokenizer cost inside the train"
             " step equals its cost in tf.data at the recipe batch size (an estimate, not a"
             " measurement of the step): " + "; ".join(
                 f"{d}/{a} {100 * (1000 / e['tokenizer']['by_batch'][str(e['training']['batch_size'])]['docs_per_s']) / e['training']['seconds_per_1000_docs']:.1f} %"
                 for d, a, e in entries) + ".")
    L.append("")
    L.append("Reproduce: `ZOO_DATA_DIR=../shared/datasets nice -n 5 .venv/bin/python"
             " benchmarks/bench_text.py` (5-15 minutes depending on the load; `--archs`, `--dataset` run a subset"
             " and update only those entries; `--markdown` re-renders this section from the"
             " JSON).")
    return "\n".join(L)


def update_doc(text: str, doc: Path = DOC) -> bool:
    """Replace the section between the text-benchmark markers of ``doc``; False if absent."""
    from zoo._io import atomic_write_text
    if not Path(doc).is_file():
        return False
    body = Path(doc).read_text()
    if START not in body or END not in body:
        return False
    head, rest = body.split(START, 1)
    _, tail = rest.split(END, 1)
    atomic_write_text(doc, f"{head}{START}\n\n{text}\n\n{END}{tail}")
    return True


# ------------------------------------------------------------------------------ main
def run(datasets, archs, sizes: Sizes, log=_log, fit_wordpiece: bool = False) -> dict:
    from zoo.data import benchmarks
    from zoo.recipes import read_recipe

    res = {"benchmark": "bench_text", "loadavg_start": loadavg(), "machine": machine_info(),
           "settings": dataclasses.asdict(sizes), "command": " ".join(sys.argv),
           "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "datasets": {}}
    t_run = time.perf_counter()
    for d in datasets:
        recipes = {a: read_recipe(ROOT / "recipes" / d / f"{a}.toml") for a in archs}
        split = {recipes[a].get("data", {}).get("train_split", "train") for a in archs}
        if len(split) != 1:
            raise SystemExit(f"{d}: recipes use different training splits {split}")
        train = benchmarks.load(d, split.pop())
        test = benchmarks.load(d, "test")
        block = {"train_split": train.split, "train_docs": len(train), "test_docs": len(test),
                 "mean_words_per_train_doc": float(np.mean([len(t.split()) for t in train.x])),
                 "archs": {}}
        bs = int(recipe_config(recipes[archs[0]])["batch_size"])
        sub = train if sizes.tok_docs is None else train.subset(np.arange(min(sizes.tok_docs, len(train))))
        block["to_tf_dataset_strings"] = bench_to_tf_dataset(sub, bs, None, sizes.pipeline_epochs)
        res["datasets"][d] = block
        for a in archs:
            log(f"{d}/{a}  (1-min load {loadavg()[0]})")
            block["archs"][a] = run_arch(a, train, test, recipes[a], f"{d}/{a}", sizes, log=log,
                                         fit_wordpiece=fit_wordpiece)
            e = block["archs"][a]
            log(f"  train {e['training']['seconds_per_1000_docs']:.1f} s/1000 docs"
                f" (extrapolated {e['training']['extrapolated_seconds_per_full_epoch']:.0f} s/epoch);"
                f" infer b1 {e['inference']['batch_1']['ms_per_doc']:.1f} ms/doc,"
                f" b{sizes.infer_batch} {e['inference']['batch_large']['docs_per_s']:.0f} docs/s;"
                f" entry {e['seconds']} s")
    res["loadavg_end"] = loadavg()
    res["seconds"] = round(time.perf_counter() - t_run, 1)
    return res


def merge(old: dict | None, new: dict) -> dict:
    """``new`` with the (dataset, arch) entries of ``old`` it did not re-measure kept."""
    if not old or old.get("benchmark") != "bench_text":
        return new
    out = json.loads(json.dumps(new))
    for d, block in old.get("datasets", {}).items():
        if d not in out["datasets"]:
            out["datasets"][d] = block
            continue
        for a, e in block.get("archs", {}).items():
            out["datasets"][d]["archs"].setdefault(a, e)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", choices=[*DATASETS, "both"], default="both")
    p.add_argument("--archs", default=",".join(ARCHS), help="comma-separated (default: all six)")
    p.add_argument("--quick", action="store_true", help="tiny sizes (smoke run; writes nothing"
                   " unless --out is given)")
    p.add_argument("--train-docs", type=int, help=f"documents per timed epoch (default {Sizes.train_docs})")
    p.add_argument("--warmup-docs", type=int, help=f"warm-up epoch documents (default {Sizes.warmup_docs})")
    p.add_argument("--epochs", type=int, help=f"timed epochs (default {Sizes.epochs})")
    p.add_argument("--latency-calls", type=int)
    p.add_argument("--infer-docs", type=int)
    p.add_argument("--fit-wordpiece", action="store_true", help="build the transformer by"
                   " learning its WordPiece vocabulary on the training split, as fit does (minutes"
                   " on a 2-core CPU; by default the checkpoint's vocabulary is used)")
    p.add_argument("--out", type=Path, help=f"results JSON (default {RESULTS.relative_to(ROOT)})")
    p.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md")
    p.add_argument("--markdown", action="store_true", help="only re-render the docs section"
                   " from the results JSON (no measurement)")
    a = p.parse_args(argv)
    from zoo._io import atomic_write_text
    out = a.out or (None if a.quick else RESULTS)
    if a.markdown:
        src = a.out or RESULTS
        text = render_markdown(json.loads(Path(src).read_text()))
        if not update_doc(text):
            raise SystemExit(f"{DOC} has no {START} ... {END} block")
        print(text)
        return 0
    archs = [x.strip() for x in a.archs.split(",") if x.strip()]
    bad = sorted(set(archs) - set(ARCHS))
    if bad:
        raise SystemExit(f"unknown architecture(s) {bad}; choose from {list(ARCHS)}")
    archs = [x for x in ARCHS if x in archs]
    datasets = list(DATASETS) if a.dataset == "both" else [a.dataset]
    sizes = QUICK if a.quick else Sizes()
    over = {k: v for k, v in {"train_docs": a.train_docs, "warmup_docs": a.warmup_docs,
                              "epochs": a.epochs, "latency_calls": a.latency_calls,
                              "infer_docs": a.infer_docs}.items() if v is not None}
    sizes = dataclasses.replace(sizes, **over)
    res = run(datasets, archs, sizes, fit_wordpiece=a.fit_wordpiece)
    res["quick"] = bool(a.quick)
    if out is None:
        print(json.dumps(res, indent=1)[:4000])
        return 0
    old = json.loads(Path(out).read_text()) if Path(out).is_file() else None
    if old and old.get("settings") != res["settings"] or (old or {}).get("quick") != res["quick"]:
        old = None  # different sizes: do not mix entries measured differently
    res = merge(old, res)
    atomic_write_text(out, json.dumps(res, indent=1) + "\n")
    print(f"wrote {out} ({res['seconds']} s)")
    if not a.no_doc and not a.quick and out == RESULTS:
        text = render_markdown(res)
        if not update_doc(text):
            print(f"note: {DOC} has no {START} ... {END} block; section not written", file=sys.stderr)
        else:
            print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
