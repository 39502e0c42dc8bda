"""How fast does the tf.data image pipeline feed a model? Images/s of decode + resize + augment.

Measures :func:`zoo.data.images.image_dataset` on the corel5k-images ``train`` split (4,050
JPEGs of 192x128 / 128x192, after the carved ``valid``) at 224x224, batch 32, iterating the
dataset alone (no model), and writes ``benchmarks/results/image_pipeline.json`` (atomically):

* ``train_augment``: training pipeline (shuffle, random resized crop + flip) with the
  in-memory cache: epoch 1 reads and decodes every JPEG and fills the cache, later epochs only
  shuffle, crop, resize and flip the cached uint8 images;
* ``train_augment_nocache``: the same with ``cache=False`` (every epoch decodes again);
* ``eval``: evaluation pipeline (deterministic resize, no shuffle) with the cache;
* ``decode_only``: read + decode of the JPEGs (no resize), the cost the cache removes.

Compare with a model's training step rate (images/s) to see whether the pipeline starves the
step: on this 2-core machine a CNN step at 224 is far slower than the cached pipeline.

Run: ``ZOO_DATA_DIR=../shared/datasets .venv/bin/python benchmarks/bench_image_pipeline.py``
(``--quick``: 2 epochs, 1024 images). Wall-clock timings on a shared machine: the JSON records
the CPU count and load averages.
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

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tensorflow as tf  # noqa: E402

from zoo._io import atomic_write_text  # noqa: E402
from zoo.data import benchmarks  # noqa: E402
from zoo.data.images import image_dataset  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "image_pipeline.json"
SIZE = (224, 224)
BATCH = 32


def epochs_rate(ds, n: int, epochs: int) -> list[dict]:
    out = []
    for e in range(epochs):
        t = time.perf_counter()
        seen = 0
        for batch in ds:
            x = batch[0] if isinstance(batch, tuple) else batch
            seen += int(x.shape[0])
        dt = time.perf_counter() - t
        assert seen == n, (seen, n)
        out.append({"epoch": e + 1, "seconds": round(dt, 3), "images_per_s": round(n / dt, 1)})
    return out


def decode_only(paths) -> tf.data.Dataset:
    def f(p):
        img = tf.io.decode_image(tf.io.read_file(p), channels=3, expand_animations=False)
        return tf.shape(img)
    return (tf.data.Dataset.from_tensor_slices(paths)
            .map(f, num_parallel_calls=tf.data.AUTOTUNE).batch(BATCH).prefetch(tf.data.AUTOTUNE))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--epochs", type=int, default=3)
    a = ap.parse_args(argv)
    epochs = 2 if a.quick else a.epochs
    t = time.perf_counter()
    train = benchmarks.load("corel5k-images", "train")
    load_s = time.perf_counter() - t
    x, y = train.x, train.labels_dense()
    if a.quick:
        x, y = x[:1024], y[:1024]
    n = len(x)
    result = {
        "benchmark": "zoo.data.images.image_dataset on corel5k-images train",
        "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "load_avg_before": os.getloadavg(),
                    "platform": platform.platform(), "tensorflow": tf.__version__},
        "settings": {"images": n, "image_size": list(SIZE), "batch_size": BATCH,
                     "epochs": epochs, "quick": a.quick},
        "dataset_load_seconds": round(load_s, 3),
        "runs": {},
    }
    runs = {
        "decode_only": lambda: decode_only(x),
        "train_augment": lambda: image_dataset(x, y, SIZE, training=True, batch_size=BATCH,
                                               seed=0),
        "train_augment_nocache": lambda: image_dataset(x, y, SIZE, training=True,
                                                       batch_size=BATCH, seed=0, cache=False),
        "eval": lambda: image_dataset(x, y, SIZE, training=False, batch_size=BATCH),
    }
    for name, make in runs.items():
        rates = epochs_rate(make(), n, 1 if name == "decode_only" else epochs)
        result["runs"][name] = rates
        print(name, json.dumps(rates), flush=True)
    result["machine"]["load_avg_after"] = os.getloadavg()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(RESULTS, json.dumps(result, indent=1) + "\n")
    print("wrote", RESULTS)


if __name__ == "__main__":
    main()
