"""Forward speed of an image backbone on this CPU: images per second at batch 1 and batch 32.

    .venv/bin/python benchmarks/bench_image_backbone.py [--backbone efficientnet-lite0]
        [--weights imagenet] [--size 224] [--calls 30] [--out benchmarks/results/image_backbone.json]

The backbone comes from ``zoo.models.backbones.get`` (by default EfficientNet-Lite0 with the
converted ImageNet weights, ``(224, 224, 3)`` float32 in, ``(7, 7, 1280)`` features out; the
weights' values do not change the arithmetic, so ``--weights none`` times the same thing).
Each batch size is timed on the compiled forward pass (``tf.function`` around
``model(x, training=False)``, numpy in and out) after warm-up: the median call time over
``--calls`` calls (fewer at batch 32 when the budget says so), with the 10th/90th percentiles,
converted to images/s. ``model.predict`` (Keras' batch loop) is timed once per batch size too,
for reference.

The result JSON (written atomically) records the CPU, the core count, TensorFlow's thread
settings and the load average before and after: the machine is shared, so timings are noisy.
Never assert on these numbers in tests.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "image_backbone.json"


def _pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def time_calls(fn, x, calls: int, warmup: int = 3) -> dict:
    for _ in range(warmup):
        fn(x)
    ts = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn(x)
        ts.append(time.perf_counter() - t0)
    med = statistics.median(ts)
    return {"batch": int(x.shape[0]), "calls": calls, "median_ms": med * 1e3,
            "p10_ms": _pct(ts, 0.1) * 1e3, "p90_ms": _pct(ts, 0.9) * 1e3,
            "images_per_s": x.shape[0] / med}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backbone", default="efficientnet-lite0")
    ap.add_argument("--weights", default="imagenet", help="'none' for random initialization")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--calls", type=int, default=30)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)

    import keras
    import numpy as np
    import tensorflow as tf

    from zoo import checkpoint
    from zoo._io import atomic_write_text
    from zoo.models import backbones

    load_before = os.getloadavg()
    weights = None if args.weights.lower() == "none" else args.weights
    t0 = time.perf_counter()
    net = backbones.get(args.backbone, weights=weights, input_shape=(args.size, args.size, 3))
    build_s = time.perf_counter() - t0
    fn = tf.function(lambda x: net(x, training=False), reduce_retracing=True)

    def forward(x):
        return fn(x).numpy()

    rng = np.random.default_rng(0)
    rows = []
    for batch, calls in ((1, args.calls), (32, max(5, args.calls // 3))):
        x = rng.uniform(0, 255, (batch, args.size, args.size, 3)).astype("float32")
        r = time_calls(forward, x, calls)
        t0 = time.perf_counter()
        net.predict(x, batch_size=batch, verbose=0)
        r["model_predict_once_ms"] = (time.perf_counter() - t0) * 1e3
        rows.append(r)
        print(f"batch {batch:3d}: {r['images_per_s']:8.1f} images/s "
              f"(median {r['median_ms']:.1f} ms/call, p10 {r['p10_ms']:.1f}, p90 {r['p90_ms']:.1f})")
    result = {
        "benchmark": "image backbone forward",
        "backbone": args.backbone, "weights": weights, "input_shape": [args.size, args.size, 3],
        "output_shape": list(net.output.shape[1:]), "parameters": int(net.count_params()),
        "build_and_load_s": build_s,
        "results": rows,
        "machine": {**checkpoint.hardware(),
                    "tf_intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
                    "tf_inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads()},
        "niceness": os.nice(0),
        "load_average_before": list(load_before), "load_average_after": list(os.getloadavg()),
        "versions": checkpoint.versions(), "keras_backend": keras.backend.backend(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "note": "shared 2-core machine; other processes were running (see load averages)",
    }
    atomic_write_text(args.out, json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
