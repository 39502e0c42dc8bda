"""Side-by-side training and inference speed on this CPU, against its own matmul ceiling.

Run by hand on a quiet machine (not part of the test suite)::

    ZOO_DATA_DIR=../shared/datasets .venv/bin/python benchmarks/bench_speed.py
    ... --epochs 5 --repeats 3        # the defaults
    ... --only sklearn keras-tf-xla   # a subset
    ... --force                       # run even above the load limit (results marked)

Every implementation runs in its **own process** (Keras picks its backend at import; BLAS
thread pools start once), one after the other, never two at a time. Before each one the
1-minute load average must be below ``--max-load`` (1.5): the script waits up to
``--wait`` seconds for it, then refuses (exit 2) unless ``--force``. The load before and
after each run is recorded next to its numbers.

What is measured (bibtex, the 4,880-row official train split, 1,836 binary features, 159
labels; float32 everywhere):

* **the network**: 1836 -> 512 ReLU -> 159 logits, binary cross-entropy, Adam (lr 1e-3), batch
  200, no dropout and no weight decay (scikit-learn's ``MLPClassifier`` has neither), the same
  ``--epochs`` for everyone, after one untimed warm-up epoch (tracing and compilation are not
  training throughput), repeated ``--repeats`` times; the median is reported.
* ``numpy-matmul``: the ceiling -- float32 GEMM throughput of this machine's BLAS, at
  4096 x 4096 x 4096 and at the network's own shapes, measured twice: with the environment as
  it is and with ``OPENBLAS_CORETYPE`` / ``OPENBLAS_L2_SIZE`` removed (some machines here set
  them; forcing the Haswell kernel on an AVX-512 CPU slows OpenBLAS down). The BLAS library,
  its kernel ("architecture") and thread count come from ``threadpoolctl``.
* ``sklearn``: ``MLPClassifier`` (adam, ``alpha=0``, ``tol=0``; its loss is the same
  per-label logistic loss).
* ``keras-tf`` / ``keras-tf-xla`` / ``keras-jax``: a bare ``keras.Sequential`` of the same two
  ``Dense`` layers, ``model.fit`` on NumPy arrays; TensorFlow without and with XLA
  (``jit_compile``), and the JAX backend (always XLA).
* ``zoo-fit`` / ``zoo-fit-xla`` / ``zoo-fit-jax``: the zoo's own training path,
  :func:`zoo.train.fit` with its defaults (in-memory arrays, the training metrics, a
  validation pass and early stopping bookkeeping every epoch, ``jit_compile="auto"``, which
  Keras resolves to no XLA on a TensorFlow CPU); ``zoo-fit-xla`` passes ``jit_compile=True``
  on TensorFlow, ``zoo-fit-jax`` runs the defaults on the JAX backend; the ``-tfdata``
  variants stream the rows through ``zoo.data.pipeline.to_tf_dataset`` instead of the
  in-memory arrays (``input_pipeline="tf.data"``, the only path before 2026-12-04); on the
  zoo's ``mlp`` (it also standardizes its inputs) with the same
  width, batch and epochs; samples/s counts the training rows only, so the per-epoch validation
  pass is part of its cost.
* inference (``--predict``, on by default): ``MultiLabelModel.predict_proba`` at batch 1024
  against a bare compiled call of the same Keras model on the same batches (the ratio is the
  serving overhead the zoo adds).

Achieved GFLOP/s counts the network's matmul work, 3 x the forward pass (forward, gradient of
the weights, gradient of the hidden layer's input: ``6 * (1836*512 + 512*159)`` FLOPs per
training row; the first layer's input gradient is not needed and not counted); % of ceiling
divides it by the best ``numpy-matmul`` figure. Peak memory is each process's maximum RSS.

Results: ``benchmarks/results/speed.json`` (atomic write); ``docs/benchmarks.md``'s table
between the ``speed`` markers is written from that file (``--doc-only`` rewrites it without
running anything).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "speed.json"
DOC = ROOT / "docs" / "benchmarks.md"
HIDDEN, BATCH, LR = 512, 200, 1e-3
IMPLS = ("numpy-matmul", "numpy-matmul-unset", "sklearn", "keras-tf", "keras-tf-xla",
         "keras-jax", "zoo-fit", "zoo-fit-xla", "zoo-fit-jax", "zoo-fit-tfdata",
         "zoo-fit-jax-tfdata")
BACKEND = {"keras-jax": "jax", "zoo-fit-jax": "jax", "zoo-fit-jax-tfdata": "jax"}
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def flops_per_row(d: int, h: int, L: int) -> float:
    """Training matmul FLOPs per row: forward 2(dh + hL), the weight gradients 2(dh + hL) and
    the hidden layer's input gradient 2hL (the first layer's input gradient is not needed)."""
    return 2 * (d * h + h * L) * 2 + 2 * h * L


# ----------------------------------------------------------------------------- children

def _data():
    import numpy as np

    from zoo.data import load
    train, test = load("bibtex", "train_full"), load("bibtex", "test")
    x = np.ascontiguousarray(train.features_dense())
    y = train.labels_dense().astype(np.float32)
    xt = np.ascontiguousarray(test.features_dense())
    return train, x, y, xt, test.labels_dense()


def _blas() -> list:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keep = ("user_api", "internal_api", "version", "architecture", "num_threads", "filepath")
    return [{k: info.get(k) for k in keep} for info in threadpool_info()]


def _micro_f1(y, scores) -> float:
    from zoo.metrics import evaluate
    return float(evaluate(y, scores, threshold=0.5)["micro_f1"])


def child_numpy(args) -> dict:
    import numpy as np
    rng = np.random.default_rng(0)
    out = {}
    shapes = {"gemm_4096": (4096, 4096, 4096),
              "layer1_fwd": (BATCH, 1836, HIDDEN), "layer1_wgrad": (1836, BATCH, HIDDEN)}
    for name, (m, k, n) in shapes.items():
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        a @ b  # warm-up (thread pool start)
        reps = max(3, int(2e10 // (2 * m * k * n)))
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            for _ in range(reps):
                a @ b
            best = min(best, (time.perf_counter() - t0) / reps)
        out[name] = {"shape": [m, k, n], "gflops": 2 * m * k * n / best / 1e9}
    return {"matmul": out, "gflops": out["gemm_4096"]["gflops"], "blas": _blas(),
            "openblas_env": {v: os.environ.get(v) for v in OPENBLAS_VARS}}


def child_sklearn(args) -> dict:
    import warnings

    from sklearn.neural_network import MLPClassifier
    train, x, y, xt, yt = _data()
    times = []
    clf = None
    for r in range(args.repeats):
        clf = MLPClassifier(hidden_layer_sizes=(HIDDEN,), activation="relu", solver="adam",
                            alpha=0.0, batch_size=BATCH, learning_rate_init=LR,
                            max_iter=args.epochs, tol=0.0, n_iter_no_change=10**9,
                            shuffle=True, random_state=r)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning: the epoch count is fixed
            t0 = time.perf_counter()
            clf.fit(x, y)
            times.append(time.perf_counter() - t0)
    return {"train_seconds": times, "rows": len(x), "epochs": args.epochs,
            "weights_dtype": str(clf.coefs_[0].dtype),
            "test_micro_f1": _micro_f1(yt, clf.predict_proba(xt)), "blas": _blas(),
            "note": "per-epoch timing includes scikit-learn's own loss bookkeeping"}


def _bare_model(d, L, jit):
    import keras
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((d,)), keras.layers.Dense(HIDDEN, activation="relu"),
                              keras.layers.Dense(L)])
    model.compile(optimizer=keras.optimizers.Adam(LR),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True), jit_compile=jit)
    return model


def child_keras(args) -> dict:
    import keras
    train, x, y, xt, yt = _data()
    jit = args.impl != "keras-tf"
    model = _bare_model(x.shape[1], y.shape[1], jit)
    model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=True, verbose=0)  # warm-up
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        model.fit(x, y, batch_size=BATCH, epochs=args.epochs, shuffle=True, verbose=0)
        times.append(time.perf_counter() - t0)
    out = {"train_seconds": times, "rows": len(x), "epochs": args.epochs,
           "backend": keras.backend.backend(), "jit_compile": jit,
           "test_micro_f1": _micro_f1(yt, keras.ops.convert_to_numpy(
               keras.ops.sigmoid(model.predict_on_batch(xt)))), "blas": _blas()}
    if args.predict:
        out["predict"] = _predict(model, xt, train.label_names)
    return out


def _predict(model, xt, label_names) -> dict:
    """Rows/s of ``MultiLabelModel.predict_proba`` vs a bare compiled call, batch 1024."""
    import numpy as np

    from zoo.inference import MultiLabelModel
    bs = 1024
    reps = 20
    xb = np.concatenate([xt] * max(1, -(-bs * 4 // len(xt))))[: bs * 4]
    m = MultiLabelModel(model, label_names,
                        card={"kind": "features", "input": {"num_features": xt.shape[1]}})
    fn = _compiled_call(model)
    m.predict_proba(xb, bs)
    for i in range(0, len(xb), bs):
        fn(xb[i:i + bs])

    def rate(f):
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            for _ in range(reps):
                f()
            best = min(best, time.perf_counter() - t0)
        return reps * len(xb) / best

    def bare():
        for i in range(0, len(xb), bs):
            np.asarray(fn(xb[i:i + bs]))
    zoo_rate = rate(lambda: m.predict_proba(xb, bs))
    bare_rate = rate(bare)
    return {"batch_size": bs, "zoo_rows_per_s": zoo_rate, "bare_rows_per_s": bare_rate,
            "ratio": zoo_rate / bare_rate}


def _compiled_call(model):
    """The fastest plain call of ``model`` on this backend: jitted, sigmoid included."""
    import keras
    if keras.backend.backend() == "jax":
        import jax
        params = (model.trainable_variables, model.non_trainable_variables)

        @jax.jit
        def call(tv, ntv, x):
            logits, _ = model.stateless_call(tv, ntv, x, training=False)
            return jax.nn.sigmoid(logits)
        tv = [v.value for v in params[0]]
        ntv = [v.value for v in params[1]]
        return lambda x: call(tv, ntv, x)
    import tensorflow as tf
    f = tf.function(lambda x: tf.sigmoid(model(x, training=False)), jit_compile=True,
                    reduce_retracing=True)
    return lambda x: f(tf.constant(x))


def child_zoo(args) -> dict:
    import keras

    from zoo.data import load
    from zoo.train import fit
    train, x, y, xt, yt = _data()
    valid = load("bibtex", "valid")

    class EpochTimer(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self.t0)

    times, calls, result = [], [], None
    for r in range(args.repeats):
        timer = EpochTimer()
        t0 = time.perf_counter()
        result = fit("mlp", train, valid, {"hidden_units": [HIDDEN], "dropout": 0.0},
                     seed=r, verbose=0, batch_size=BATCH, learning_rate=LR,
                     epochs=args.epochs + 1, patience=10**6, callbacks=[timer],
                     **({"jit_compile": True} if args.impl == "zoo-fit-xla" else {}),
                     **({"input_pipeline": "tf.data"} if args.impl.endswith("-tfdata") else {}))
        calls.append(time.perf_counter() - t0)
        times.append(sum(timer.times[1:]))  # the first epoch traces and compiles
    from zoo.inference import MultiLabelModel
    m = MultiLabelModel(result.model, train.label_names,
                        card={"kind": "features", "input": {"num_features": x.shape[1]}})
    out = {"train_seconds": times, "rows": len(train), "epochs": args.epochs,
           "fit_call_seconds": calls, "backend": keras.backend.backend(),
           "jit_compile": result.training["train_config"]["jit_compile"],
           "input_pipeline": result.training.get("input_pipeline"),
           "note": "zoo.train.fit epochs 2..N+1 (each with the zoo's tf.data pipeline, the "
                   "validation pass and the training metrics); fit_call_seconds is the whole "
                   "call (model building, tracing, the first epoch, the rule choice)",
           "test_micro_f1": _micro_f1(yt, m.predict_proba(xt)), "blas": _blas()}
    if args.predict:
        out["predict"] = _predict(result.model, xt, train.label_names)
    return out


CHILDREN = {"numpy-matmul": child_numpy, "numpy-matmul-unset": child_numpy,
            "sklearn": child_sklearn, "keras-tf": child_keras, "keras-tf-xla": child_keras,
            "keras-jax": child_keras, "zoo-fit": child_zoo, "zoo-fit-xla": child_zoo,
            "zoo-fit-jax": child_zoo, "zoo-fit-tfdata": child_zoo,
            "zoo-fit-jax-tfdata": child_zoo}


def run_child(args) -> None:
    out = CHILDREN[args.impl](args)
    out["impl"] = args.impl
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(out), flush=True)


# ----------------------------------------------------------------------------- parent

def wait_for_quiet(max_load: float, wait: float, force: bool) -> float:
    t0 = time.time()
    while True:
        load = os.getloadavg()[0]
        if load <= max_load:
            return load
        if time.time() - t0 > wait:
            if force:
                print(f"  load {load:.2f} > {max_load}: running anyway (--force), marked",
                      flush=True)
                return load
            print(f"refusing to run: 1-minute load average {load:.2f} > {max_load} after "
                  f"waiting {wait:.0f} s (stop other work, or pass --force)", file=sys.stderr)
            raise SystemExit(2)
        time.sleep(10)


def summarize(row: dict, ceiling: float | None) -> dict:
    if "train_seconds" in row:
        import statistics
        secs = statistics.median(row["train_seconds"])
        row["samples_per_s"] = row["rows"] * row["epochs"] / secs
        row["gflops"] = row["samples_per_s"] * flops_per_row(1836, HIDDEN, 159) / 1e9
        if ceiling:
            row["pct_of_ceiling"] = 100 * row["gflops"] / ceiling
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", nargs="+", choices=IMPLS)
    ap.add_argument("--max-load", type=float, default=1.5)
    ap.add_argument("--wait", type=float, default=600)
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--no-predict", dest="predict", action="store_false")
    ap.add_argument("--doc-only", action="store_true")
    ap.add_argument("--child", dest="impl", choices=IMPLS, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.impl:
        run_child(args)
        return 0
    if args.doc_only:
        write_doc(json.loads(OUT.read_text()))
        return 0
    from zoo._io import atomic_write_text
    from zoo.checkpoint import hardware
    rows = []
    for impl in args.only or IMPLS:
        load_before = wait_for_quiet(args.max_load, args.wait, args.force)
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3",
               "KERAS_BACKEND": BACKEND.get(impl, "tensorflow")}
        if impl == "numpy-matmul-unset":
            for v in OPENBLAS_VARS:
                env.pop(v, None)
        cmd = [sys.executable, __file__, "--child", impl, "--epochs", str(args.epochs),
               "--repeats", str(args.repeats)] + ([] if args.predict else ["--no-predict"])
        t0 = time.time()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
        if proc.returncode or not lines:
            print(f"{impl} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}",
                  file=sys.stderr)
            return 1
        row = json.loads(lines[-1][len("RESULT "):])
        row.update(load_before=round(load_before, 2), load_after=round(os.getloadavg()[0], 2),
                   process_seconds=round(time.time() - t0, 1),
                   forced=load_before > args.max_load)
        rows.append(row)
        print(_line(summarize(dict(row), None)), flush=True)
    ceilings = [r["gflops"] for r in rows if r["impl"].startswith("numpy-matmul")]
    ceiling = max(ceilings) if ceilings else None
    if ceiling is None and OUT.is_file():  # a subset run: the recorded ceiling
        ceiling = json.loads(OUT.read_text()).get("ceiling_gflops")
    rows = [summarize(r, ceiling) for r in rows]
    result = {"benchmark": "mlp 1836-512-159 training on bibtex, side by side",
              "hardware": hardware(), "epochs": args.epochs, "repeats": args.repeats,
              "batch_size": BATCH, "hidden": HIDDEN, "max_load": args.max_load,
              "ceiling_gflops": ceiling, "flops_per_row": flops_per_row(1836, HIDDEN, 159),
              "rows": rows, "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    if args.only and OUT.is_file():  # merge into the recorded run
        old = json.loads(OUT.read_text())
        keep = [r for r in old.get("rows", []) if r["impl"] not in set(args.only)]
        result["rows"] = sorted(keep + rows, key=lambda r: IMPLS.index(r["impl"]))
        result["ceiling_gflops"] = ceiling
    atomic_write_text(OUT, json.dumps(result, indent=1) + "\n")
    write_doc(result)
    return 0


def _line(r: dict) -> str:
    if "samples_per_s" in r:
        return (f"{r['impl']:<20} {r['samples_per_s']:>9.0f} samples/s {r['gflops']:>6.1f} GFLOP/s"
                f"  micro-F1 {r['test_micro_f1']:.3f}  RSS {r['peak_rss_mb']:.0f} MB"
                f"  load {r['load_before']}")
    return f"{r['impl']:<20} {r['gflops']:>6.1f} GFLOP/s (GEMM 4096)  load {r['load_before']}"


def write_doc(result: dict) -> None:
    """Replace the tables between the ``speed`` markers of docs/benchmarks.md."""
    from zoo._io import replace_between_markers
    start, end = "<!-- speed:start -->", "<!-- speed:end -->"
    hw = result["hardware"]
    rows = result["rows"]
    ceiling = result.get("ceiling_gflops")
    forced = any(r.get("forced") for r in rows)
    lines = [start, "",
             f"{hw['cpu']}, {hw['cores']} cores, {hw.get('memory_gb', '?')} GB; run "
             f"{result['when']}; {result['epochs']} timed epochs x {result['repeats']} repeats "
             f"(median), batch {result['batch_size']}, network 1836-{result['hidden']}-159."
             + (" **Some rows ran above the load limit (--force): not credible.**"
                if forced else ""), ""]
    blas = {}
    for r in rows:
        if r["impl"].startswith("numpy"):
            b = next((x for x in r.get("blas", []) if x.get("user_api") == "blas"), {})
            blas[r["impl"]] = b
    lines += ["| matmul ceiling | OpenBLAS env | BLAS kernel | GEMM 4096 GFLOP/s | "
              "200x1836x512 | 1836x200x512 | load |", "|---|---|---|---:|---:|---:|---:|"]
    for r in rows:
        if not r["impl"].startswith("numpy"):
            continue
        b = blas[r["impl"]]
        env = ", ".join(f"{k}={v}" for k, v in r["openblas_env"].items() if v) or "unset"
        mm = r["matmul"]
        lines.append(f"| {r['impl']} | {env} | {b.get('internal_api', '?')} "
                     f"{b.get('version', '')} {b.get('architecture', '')}, "
                     f"{b.get('num_threads', '?')} threads | {mm['gemm_4096']['gflops']:.1f} | "
                     f"{mm['layer1_fwd']['gflops']:.1f} | {mm['layer1_wgrad']['gflops']:.1f} | "
                     f"{r['load_before']} |")
    lines += ["", "| training | samples/s | x scikit-learn | GFLOP/s | % of ceiling | "
              "test micro-F1 (0.5) | peak RSS MB | load before/after |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    sk = next((r["samples_per_s"] for r in rows if r["impl"] == "sklearn"), None)
    for r in rows:
        if "samples_per_s" not in r:
            continue
        pct = f"{r['pct_of_ceiling']:.0f}%" if ceiling else "-"
        rel = f"{r['samples_per_s'] / sk:.2f}" if sk else "-"
        lines.append(f"| {r['impl']} | {r['samples_per_s']:.0f} | {rel} | {r['gflops']:.1f} |"
                     f" {pct} | {r['test_micro_f1']:.4f} | {r['peak_rss_mb']:.0f} | "
                     f"{r['load_before']}/{r['load_after']} |")
    preds = [r for r in rows if "predict" in r]
    if preds:
        lines += ["", "| inference, batch 1024 | predict_proba rows/s | bare compiled call "
                  "rows/s | ratio |", "|---|---:|---:|---:|"]
        for r in preds:
            p = r["predict"]
            lines.append(f"| {r['impl']} | {p['zoo_rows_per_s']:.0f} | "
                         f"{p['bare_rows_per_s']:.0f} | {p['ratio']:.2f} |")
    lines += ["", end]
    replace_between_markers(DOC, start, end, "\n".join(lines))


if __name__ == "__main__":
    raise SystemExit(main())
