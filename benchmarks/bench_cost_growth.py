"""How cost grows with the number of labels and rows: training, inference, memory, metrics.

Run by hand (not part of the test suite)::

    .venv/bin/python benchmarks/bench_cost_growth.py             # the full sweep, ~15 min
    .venv/bin/python benchmarks/bench_cost_growth.py --quick     # a smoke run
    .venv/bin/python benchmarks/bench_cost_growth.py --plot-only # redraw from the JSON

Synthetic problems (no dataset needed): ``rows`` x 256 float32 features, ``labels`` labels
with about 1% positives per label (at least 1 per row), labels drawn from a random linear
model so training has something to learn. Two sweeps, each point in its **own process** (so
the peak RSS is that point's):

* labels 10, 100, 1,000, 10,000 at 8,000 rows;
* rows 2,000, 8,000, 32,000 at 1,000 labels.

Per point: the zoo's ``mlp`` (256 -> 512 ReLU -> labels) trained with :func:`zoo.train.fit`
for 2 epochs (batch 256; the second epoch is timed, so tracing is excluded), with its default
decision-rule choice (``rule = "auto"``, :func:`zoo.thresholds.choose_rule`) on a 2,000-row
validation split; ``predict_proba`` on the training rows (batch 1024); :func:`zoo.metrics.
evaluate` with every metric group; the process's peak RSS. Each timing is reported with its
log-log slope between neighbouring points (1 = linear growth); the load average before each
point is recorded.

Results: ``benchmarks/results/cost_growth.json`` and ``docs/images/cost_growth.png``; the
table in docs/benchmarks.md between the ``cost_growth`` markers is written from the JSON.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "cost_growth.json"
PNG = ROOT / "docs" / "images" / "cost_growth.png"
DOC = ROOT / "docs" / "benchmarks.md"
FEATURES, HIDDEN, BATCH, VALID = 256, 512, 256, 2000
LABEL_SWEEP = (10, 100, 1000, 10000)
ROW_SWEEP = (2000, 8000, 32000)
TIMINGS = ("train_epoch_s", "fit_total_s", "threshold_choice_s", "predict_s", "metrics_s")


def make_problem(rows: int, labels: int, seed: int = 0):
    import numpy as np

    from zoo.data import MultiLabelDataset
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, FEATURES), dtype=np.float32)
    w = rng.standard_normal((FEATURES, labels), dtype=np.float32) / math.sqrt(FEATURES)
    z = x @ w + 0.5 * rng.standard_normal((rows, labels), dtype=np.float32)
    cut = np.quantile(z, 0.99, axis=0)            # ~1% positives per label
    y = (z > cut).astype(np.int8)
    y[np.arange(rows), z.argmax(axis=1)] = 1      # every row has a label
    names = [f"l{j}" for j in range(labels)]
    return MultiLabelDataset(x=x, y=y, label_names=names, kind="features", name="synthetic",
                             split="train")


def child(rows: int, labels: int) -> dict:
    import numpy as np

    import keras

    from zoo import metrics as zm
    from zoo import thresholds as th
    from zoo.inference import MultiLabelModel
    from zoo.train import fit
    data = make_problem(rows + VALID, labels)
    train = data.subset(np.arange(rows), split="train")
    valid = data.subset(np.arange(rows, rows + VALID), split="valid")

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.last = time.perf_counter() - self.t0

    timer = EpochTimer()
    t0 = time.perf_counter()
    result = fit("mlp", train, valid, {"hidden_units": [HIDDEN], "dropout": 0.0}, verbose=0,
                 batch_size=BATCH, epochs=2, patience=10, callbacks=[timer])
    fit_total = time.perf_counter() - t0
    model = MultiLabelModel(result.model, train.label_names,
                            card={"kind": "features", "input": {"num_features": FEATURES}})
    s_val = model.predict_proba(valid.x)
    t0 = time.perf_counter()
    th.choose_rule(valid.labels_dense(), s_val)
    choice = time.perf_counter() - t0
    model.predict_proba(train.x[:BATCH])          # warm-up
    t0 = time.perf_counter()
    scores = model.predict_proba(train.x, 1024)
    predict = time.perf_counter() - t0
    t0 = time.perf_counter()
    zm.evaluate(train.labels_dense(), scores, threshold=0.5)
    metrics = time.perf_counter() - t0
    return {"rows": rows, "labels": labels, "train_epoch_s": timer.last,
            "fit_total_s": fit_total, "threshold_choice_s": choice, "predict_s": predict,
            "metrics_s": metrics, "parameters": int(result.model.count_params()),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def slopes(points: list, key: str, by: str) -> list:
    """log-log slope of ``key`` against ``by`` between neighbouring points."""
    out = []
    for a, b in zip(points, points[1:]):
        if a[key] > 0 and b[key] > 0:
            out.append(round(math.log(b[key] / a[key]) / math.log(b[by] / a[by]), 2))
        else:
            out.append(None)
    return out


def run_point(rows: int, labels: int) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    load = os.getloadavg()[0]
    proc = subprocess.run([sys.executable, __file__, "--child", str(rows), str(labels)],
                          capture_output=True, text=True, env=env)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode or not lines:
        raise SystemExit(f"point rows={rows} labels={labels} failed (exit {proc.returncode}):"
                         f"\n{proc.stderr[-3000:]}")
    row = json.loads(lines[-1][len("RESULT "):])
    row["load_before"] = round(load, 2)
    print(f"rows {rows:>6} labels {labels:>6}: " + ", ".join(
        f"{k} {row[k]:.3f}" for k in TIMINGS) + f", RSS {row['peak_rss_mb']:.0f} MB, "
        f"load {load:.2f}", flush=True)
    return row


def plot(result: dict) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    for ax, (sweep, by) in zip(axes[:2], (("labels", "labels"), ("rows", "rows"))):
        pts = result[sweep]
        xs = [p[by] for p in pts]
        for k in TIMINGS:
            ax.loglog(xs, [max(p[k], 1e-4) for p in pts], marker="o", label=k)
        ax.set_xlabel(f"number of {by}")
        ax.set_ylabel("seconds")
        fixed = "rows" if by == "labels" else "labels"
        ax.set_title(f"time vs {by} ({fixed} = {pts[0][fixed]:,})")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    for sweep, by in (("labels", "labels"), ("rows", "rows")):
        pts = result[sweep]
        axes[2].loglog([p[by] for p in pts], [p["peak_rss_mb"] for p in pts], marker="o",
                       label=f"vs {by}")
    axes[2].set_title("peak RSS (MB)")
    axes[2].set_xlabel("labels or rows")
    axes[2].legend(fontsize=8)
    axes[2].grid(True, which="both", alpha=0.3)
    fig.suptitle(f"zoo cost growth on {result['hardware']['cpu']}, "
                 f"{result['hardware']['cores']} cores ({result['when']})", fontsize=10)
    fig.tight_layout()
    PNG.parent.mkdir(parents=True, exist_ok=True)
    tmp = PNG.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=90)
    os.replace(tmp, PNG)


def write_doc(result: dict) -> None:
    from zoo._io import replace_between_markers
    start, end = "<!-- cost_growth:start -->", "<!-- cost_growth:end -->"
    lines = [start, "", f"Run {result['when']} ({result['hardware']['cpu']}, "
             f"{result['hardware']['cores']} cores); slopes are log-log between neighbouring "
             "points (1 = linear).", "",
             "![cost growth](images/cost_growth.png)", ""]
    for sweep, by in (("labels", "labels"), ("rows", "rows")):
        pts = result[sweep]
        lines += [f"| {by} | " + " | ".join(TIMINGS) + " | peak RSS MB | load |",
                  "|---:|" + "---:|" * (len(TIMINGS) + 2)]
        for p in pts:
            lines.append(f"| {p[by]:,} | " + " | ".join(f"{p[k]:.3f}" for k in TIMINGS)
                         + f" | {p['peak_rss_mb']:.0f} | {p['load_before']} |")
        lines.append("| slope | " + " | ".join(
            ", ".join(str(v) for v in result["slopes"][sweep][k]) for k in TIMINGS)
            + " | | |")
        lines.append("")
    lines.append(end)
    replace_between_markers(DOC, start, end, "\n".join(lines))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sweeps (smoke run)")
    ap.add_argument("--plot-only", action="store_true")
    ap.add_argument("--child", nargs=2, type=int, metavar=("ROWS", "LABELS"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print("RESULT " + json.dumps(child(*args.child)), flush=True)
        return 0
    if args.plot_only:
        result = json.loads(OUT.read_text())
        plot(result)
        write_doc(result)
        return 0
    from zoo._io import atomic_write_text
    from zoo.checkpoint import hardware
    label_sweep = (10, 100) if args.quick else LABEL_SWEEP
    row_sweep = (1000, 2000) if args.quick else ROW_SWEEP
    labels_pts = [run_point(8000 if not args.quick else 1000, L) for L in label_sweep]
    rows_pts = [run_point(n, 1000 if not args.quick else 10) for n in row_sweep]
    result = {"benchmark": "cost growth with labels and rows", "hardware": hardware(),
              "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "features": FEATURES, "hidden": HIDDEN, "batch_size": BATCH,
              "valid_rows": VALID, "quick": args.quick,
              "labels": labels_pts, "rows": rows_pts,
              "slopes": {"labels": {k: slopes(labels_pts, k, "labels") for k in TIMINGS},
                         "rows": {k: slopes(rows_pts, k, "rows") for k in TIMINGS}}}
    if args.quick:
        print(json.dumps(result["slopes"]))
        return 0
    atomic_write_text(OUT, json.dumps(result, indent=1) + "\n")
    plot(result)
    write_doc(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
