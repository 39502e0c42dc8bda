"""Is the input pipeline the bottleneck? Pipeline-only throughput vs training throughput.

Three measurements, written to ``benchmarks/results/pipeline.json`` (atomically) and quoted in
``docs/pipelines.md``:

(a) bibtex (MULAN, 4880 train rows, 1836 sparse binary features, 159 labels) with an MLP
    (two hidden layers of 512, ReLU, logits out): rows/s of iterating
    ``to_tf_dataset(train, 64, shuffle=True)`` alone, and rows/s of ``model.fit`` steps over
    the same pipeline.
(b) Reuters-21578 ModApte R90 (7770 train stories, 90 topics) with a small Kim (2014) CNN
    (TextVectorization in the pipeline, 256 tokens, embedding 128, convolutions of widths
    3/4/5 x 100 filters, ReLU, max-over-time pooling, dropout 0.5, logits): the same two
    numbers. The first pipeline epoch includes the tokenization that fills the cache and is
    reported separately.
(c) Ways to batch sparse CSR features, pipeline-only, on bibtex and delicious:
    ``slices`` (the one :func:`zoo.data.pipeline.to_tf_dataset` uses: ``from_tensor_slices``
    of a ``tf.SparseTensor`` -> shuffle -> batch -> ``tf.sparse.to_dense``),
    ``slices_cached`` (the same with ``cache()`` before the shuffle), ``graph_gather``
    (CSR arrays as tensors, shuffled row ids batched, rows gathered and scattered into a
    dense batch in the graph) and ``py_generator`` (scipy row slicing +
    ``toarray`` in a ``from_generator`` Python generator).

Run: ``ZOO_DATA_DIR=../shared/datasets .venv/bin/python benchmarks/bench_pipeline.py``
(``--quick`` for fewer repetitions). Timings are wall-clock on whatever machine runs it;
the JSON records the CPU count and load average, since a busy machine slows both sides.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from zoo._io import atomic_write_text  # noqa: E402
from zoo.data.pipeline import text_vectorizer, to_tf_dataset  # noqa: E402
from zoo.data.tensors import sparse_tensor as _sparse_tensor  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "pipeline.json"
BATCH = 64


# ------------------------------------------------------------------------------ data
def load(name: str):
    """Train split of a named benchmark: zoo.data.benchmarks, else the raw readers."""
    try:
        from zoo.data import benchmarks

        return benchmarks.load(name, "train_full"), "zoo.data.benchmarks.load"
    except ImportError:
        pass
    mirror = Path(os.environ.get("ZOO_DATA_DIR", Path(__file__).resolve().parents[2]
                                 / "shared" / "datasets"))
    if name == "reuters21578":
        from zoo.data.reuters import load_reuters

        return load_reuters(sorted((mirror / "reuters21578").glob("reut2-*.sgm")))[0], \
            "zoo.data.reuters.load_reuters"
    from zoo.data.arff import read_mulan

    folder = mirror / "mulan" / name
    return read_mulan(folder / f"{name}-train.arff", folder / f"{name}.xml", name, "train"), \
        "zoo.data.arff.read_mulan"


# ------------------------------------------------------------------------------ timing
def pipeline_rate(dataset, rows: int, epochs: int) -> dict:
    """rows/s of iterating the dataset: the first epoch, and the median of the next ones."""
    times = []
    for _ in range(1 + epochs):
        t0 = time.perf_counter()
        for _ in dataset:
            pass
        times.append(time.perf_counter() - t0)
    return {"first_epoch_rows_per_s": rows / times[0],
            "rows_per_s": rows / float(np.median(times[1:])),
            "epoch_seconds": [round(t, 4) for t in times]}


class _StepTimer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._t0)


def train_rate(model, dataset, steps: int, epochs: int, batch: int) -> dict:
    """rows/s of model.fit over the pipeline; epoch 0 (tracing, cache fill) is left out."""
    timer = _StepTimer()
    model.fit(dataset.repeat(), steps_per_epoch=steps, epochs=1 + epochs, verbose=0, shuffle=False,
              callbacks=[timer])
    rows = steps * batch
    return {"rows_per_s": rows / float(np.median(timer.times[1:])),
            "steps_per_epoch": steps, "epoch_seconds": [round(t, 4) for t in timer.times]}


# ------------------------------------------------------------------------------ models
def mlp(num_features: int, num_labels: int):
    inputs = keras.Input((num_features,))
    h = keras.layers.Dense(512, activation="relu")(inputs)
    h = keras.layers.Dense(512, activation="relu")(h)
    model = keras.Model(inputs, keras.layers.Dense(num_labels)(h), name="mlp_512_512")
    model.compile(keras.optimizers.Adam(1e-3), keras.losses.BinaryCrossentropy(from_logits=True))
    return model


def kim_cnn(vocab_size: int, sequence_length: int, num_labels: int):
    """Kim (2014), "Convolutional Neural Networks for Sentence Classification", EMNLP."""
    inputs = keras.Input((sequence_length,), dtype="int64")
    e = keras.layers.Embedding(vocab_size, 128)(inputs)
    pooled = [keras.layers.GlobalMaxPooling1D()(
        keras.layers.Conv1D(100, width, activation="relu")(e)) for width in (3, 4, 5)]
    h = keras.layers.Dropout(0.5)(keras.layers.Concatenate()(pooled))
    model = keras.Model(inputs, keras.layers.Dense(num_labels)(h), name="kim_cnn")
    model.compile(keras.optimizers.Adam(1e-3), keras.losses.BinaryCrossentropy(from_logits=True))
    return model


# ------------------------------------------------------------------------------ (a), (b)
def bench_bibtex(epochs: int) -> dict:
    train, source = load("bibtex")
    n = len(train)
    ds = to_tf_dataset(train, BATCH, shuffle=True, seed=0)
    out = {"dataset": "bibtex", "loader": source, "rows": n, "features": train.num_features,
           "labels": train.num_labels, "batch_size": BATCH, "model": "MLP 512-512 ReLU"}
    out["pipeline"] = pipeline_rate(ds, n, epochs)
    model = mlp(train.num_features, train.num_labels)
    out["params"] = model.count_params()
    out["train"] = train_rate(model, ds, steps=n // BATCH, epochs=epochs, batch=BATCH)
    out["pipeline_over_train"] = out["pipeline"]["rows_per_s"] / out["train"]["rows_per_s"]
    return out


def bench_reuters(epochs: int, steps: int) -> dict:
    train, source = load("reuters21578")
    n = len(train)
    t0 = time.perf_counter()
    tv = text_vectorizer(train, max_tokens=20000, sequence_length=256)
    adapt_s = time.perf_counter() - t0
    ds = to_tf_dataset(train, BATCH, shuffle=True, seed=0, preprocess=tv)
    out = {"dataset": "reuters21578 (ModApte R90)", "loader": source, "rows": n,
           "labels": train.num_labels, "batch_size": BATCH, "sequence_length": 256,
           "vocabulary": len(tv.get_vocabulary()), "adapt_seconds": round(adapt_s, 3),
           "model": "Kim CNN, embedding 128, widths 3/4/5 x 100, max pool"}
    out["pipeline"] = pipeline_rate(ds, n, epochs)
    model = kim_cnn(len(tv.get_vocabulary()), 256, train.num_labels)
    out["params"] = model.count_params()
    out["train"] = train_rate(model, ds, steps=steps, epochs=epochs, batch=BATCH)
    out["pipeline_over_train"] = out["pipeline"]["rows_per_s"] / out["train"]["rows_per_s"]
    out["pipeline_first_epoch_over_train"] = (out["pipeline"]["first_epoch_rows_per_s"]
                                              / out["train"]["rows_per_s"])
    return out


# ------------------------------------------------------------------------------ (c)
def graph_gather(train, batch, seed):
    """Alternative: CSR arrays in the graph, gather rows of shuffled ids, scatter to dense."""
    def rows_fn(m):
        m = m.tocsr()
        indptr = tf.constant(m.indptr.astype(np.int64))
        cols = tf.constant(m.indices.astype(np.int64))
        vals = tf.constant(m.data.astype(np.float32))
        d = int(m.shape[1])

        def f(idx):
            starts = tf.gather(indptr, idx)
            lens = tf.gather(indptr, idx + 1) - starts
            b = tf.size(idx, out_type=tf.int64)
            row = tf.repeat(tf.range(b), lens)
            pos = tf.range(tf.reduce_sum(lens)) - tf.gather(tf.cumsum(lens, exclusive=True), row) \
                + tf.gather(starts, row)
            key = row * d + tf.gather(cols, pos)
            dense = tf.math.unsorted_segment_sum(tf.gather(vals, pos), key, b * d)
            return tf.reshape(dense, tf.stack([b, d]))
        return f

    fx, fy = rows_fn(train.x), rows_fn(train.y)
    n = len(train)
    return (tf.data.Dataset.range(n).shuffle(n, seed=seed).batch(batch)
            .map(lambda i: (fx(i), fy(i)), num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE))


def slices_cached(train, batch, seed):
    """Alternative: the ``slices`` pipeline with ``cache()`` before the shuffle."""
    n = len(train)
    return (tf.data.Dataset.from_tensor_slices((_sparse_tensor(train.x), _sparse_tensor(train.y)))
            .cache().shuffle(n, seed=seed).batch(batch)
            .map(lambda x, y: (tf.sparse.to_dense(x), tf.sparse.to_dense(y)),
                 num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE))


def py_generator(train, batch, seed):
    """Alternative: scipy slicing + toarray in a Python generator (holds the GIL)."""
    import scipy.sparse as sp

    x, y = train.x.tocsr(), train.y
    n, d, L = x.shape[0], x.shape[1], train.num_labels
    epoch = [0]

    def gen():
        order = np.random.default_rng([seed, epoch[0]]).permutation(n)
        epoch[0] += 1
        for s in range(0, n, batch):
            i = order[s:s + batch]
            yb = y[i].toarray() if sp.issparse(y) else y[i]
            yield x[i].toarray().astype(np.float32), yb.astype(np.float32)

    sig = (tf.TensorSpec((None, d), tf.float32), tf.TensorSpec((None, L), tf.float32))
    return tf.data.Dataset.from_generator(gen, output_signature=sig).prefetch(tf.data.AUTOTUNE)


def bench_sparse_strategies(epochs: int) -> dict:
    out = {}
    for name in ("bibtex", "delicious"):
        train, _ = load(name)
        n = len(train)
        pipes = {"slices": to_tf_dataset(train, BATCH, shuffle=True, seed=0),
                 "slices_cached": slices_cached(train, BATCH, 0),
                 "graph_gather": graph_gather(train, BATCH, 0),
                 "py_generator": py_generator(train, BATCH, 0)}
        col_sums = np.asarray(train.x.sum(axis=0)).ravel()
        for key, pipe in pipes.items():  # warm-up epoch (fills caches, traces) + sanity check
            rows, sums = 0, np.zeros_like(col_sums)
            for x, _ in pipe:
                rows += x.shape[0]
                sums += x.numpy().sum(axis=0)
            assert rows == n and np.allclose(sums, col_sums), f"{key} lost or changed rows"
        times = {k: [] for k in pipes}
        for _ in range(epochs):  # interleaved, so machine load hits all alike
            for k, pipe in pipes.items():
                t0 = time.perf_counter()
                for _ in pipe:
                    pass
                times[k].append(time.perf_counter() - t0)
        out[name] = {"rows": n, "features": train.num_features, "labels": train.num_labels,
                     "nnz_per_row": float(train.x.nnz / n),
                     **{k: {"rows_per_s": n / float(np.median(v)),
                            "epoch_seconds": [round(t, 4) for t in v]}
                        for k, v in times.items()}}
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer repetitions")
    p.add_argument("--out", default=str(RESULTS))
    args = p.parse_args(argv)
    reps = 2 if args.quick else 4
    result = {
        "benchmark": "bench_pipeline",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "load_avg_before": os.getloadavg(),
                    "platform": platform.platform(), "python": platform.python_version(),
                    "tensorflow": tf.__version__, "keras": keras.__version__,
                    "backend": keras.backend.backend()},
    }
    t0 = time.perf_counter()
    result["sparse_strategies"] = bench_sparse_strategies(reps + 1)
    print(json.dumps(result["sparse_strategies"], indent=1), flush=True)
    result["bibtex_mlp"] = bench_bibtex(reps)
    print(json.dumps(result["bibtex_mlp"], indent=1), flush=True)
    result["reuters_kimcnn"] = bench_reuters(reps, steps=15 if args.quick else 30)
    print(json.dumps(result["reuters_kimcnn"], indent=1), flush=True)
    result["machine"]["load_avg_after"] = os.getloadavg()
    result["seconds"] = round(time.perf_counter() - t0, 1)
    out = Path(args.out)
    atomic_write_text(out, json.dumps(result, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
