"""Data-parallel scaling on this machine: 1 process vs 1 and 2 MultiWorkerMirrored workers.

    .venv/bin/python benchmarks/bench_scaling.py [--recipe recipes/yeast/mlp.toml] [--epochs 5]
        [--out benchmarks/results/scaling.json]
    .venv/bin/python benchmarks/bench_scaling.py --docs-only   # rewrite the docs table only

Trains the recipe (its model and global batch, a fixed number of epochs, no early stop) three
ways, one after the other, each through the ``zoo train`` command in a fresh process:

* ``zoo train R``               one process, no strategy (how the checkpoints were trained);
* ``zoo train R --workers 1``   one MultiWorkerMirroredStrategy worker (the strategy's cost);
* ``zoo train R --workers 2``   two workers on localhost ports, each taking half of every
                                global batch and all-reducing the gradients.

For each run it records the end-to-end wall time of the command (process start-up, data
loading, training, threshold calibration, writing and evaluating the checkpoint), the training
time ``fit`` measured (``training.wall_time_s`` in the chief's card), training samples/s
(training rows x epochs / training time), the test micro-F1 from the checkpoint's
``metrics.json``, and the 1-minute load average before and after: the machine is shared, so
the numbers say what happened under that load. Writes JSON atomically and the table of
docs/scaling.md from it. Never assert on these numbers in tests.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "scaling.json"
DOCS = ROOT / "docs" / "scaling.md"
START, END = "<!-- bench:scaling start -->", "<!-- bench:scaling end -->"
RUNS = (("1 process, no strategy", []), ("1 worker (MultiWorkerMirrored)", ["--workers", "1"]),
        ("2 workers (MultiWorkerMirrored)", ["--workers", "2"]))


def bench_recipe(recipe: Path, epochs: int, folder: Path) -> tuple[Path, dict]:
    """The recipe with ``epochs`` fixed (patience beyond it), written into ``folder``."""
    doc = tomllib.loads(recipe.read_text())
    doc.pop("description", None)
    doc.setdefault("train", {}).update({"epochs": epochs, "patience": epochs + 1})
    from zoo.search import write_recipe
    path = write_recipe(doc, folder / "bench.toml")
    return path, doc


def run(label: str, args: list, recipe: Path, out: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    cmd = [sys.executable, "-m", "zoo", "train", str(recipe), "--out", str(out), *args]
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{label}: {' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    card = json.loads((out / "zoo.json").read_text())
    tr = card["training"]
    metrics = json.loads((out / "metrics.json").read_text())["metrics"]
    return {"run": label, "args": args, "num_workers": tr.get("num_workers", 1),
            "strategy": tr.get("strategy"), "wall_time_s": round(wall, 2),
            "train_time_s": tr["wall_time_s"], "epochs": tr["epochs_run"],
            "train_examples": tr["train_examples"],
            "samples_per_s": round(tr["train_examples"] * tr["epochs_run"] / tr["wall_time_s"], 1),
            "test_micro_f1": round(metrics["micro_f1"], 4),
            "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2)}


def render_markdown(doc: dict) -> str:
    """The docs/scaling.md table, from the results JSON (no number typed by hand)."""
    base = doc["runs"][0]["samples_per_s"]
    lines = [START, "",
             f"`{doc['recipe']}` with {doc['epochs']} epochs, global batch {doc['batch_size']}"
             f", {doc['cores']} CPU cores, measured {doc['date']} on a machine shared with other"
             " jobs (the load average is the 1-minute one, before / after each run).", "",
             "| run | wall time (s) | training time (s) | training samples/s | vs 1 process |"
             " test micro-F1 | load before / after |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for r in doc["runs"]:
        lines.append(f"| {r['run']} | {r['wall_time_s']:.1f} | {r['train_time_s']:.1f} | "
                     f"{r['samples_per_s']:,.0f} | {r['samples_per_s'] / base:.2f}x | "
                     f"{r['test_micro_f1']:.4f} | {r['load_before']:.1f} / "
                     f"{r['load_after']:.1f} |")
    lines += ["", END]
    return "\n".join(lines)


def write_docs(doc: dict, path: Path = DOCS) -> None:
    from zoo._io import atomic_write_text
    text = path.read_text()
    if START not in text:
        raise SystemExit(f"{path} has no {START} ... {END} section to fill")
    a, b = text.index(START), text.index(END) + len(END)
    atomic_write_text(path, text[:a] + render_markdown(doc) + text[b:])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--recipe", type=Path, default=ROOT / "recipes" / "yeast" / "mlp.toml")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--docs-only", action="store_true",
                    help="rewrite the docs table from the results JSON, without training")
    args = ap.parse_args(argv)
    if args.docs_only:
        write_docs(json.loads(args.out.read_text()))
        return
    with tempfile.TemporaryDirectory(prefix="zoo-bench-scaling-") as tmp:
        recipe, doc = bench_recipe(args.recipe, args.epochs, Path(tmp))
        runs = []
        for i, (label, extra) in enumerate(RUNS):
            runs.append(run(label, extra, recipe, Path(tmp) / f"out{i}"))
            print(json.dumps(runs[-1]), flush=True)
    result = {"recipe": args.recipe.resolve().relative_to(ROOT).as_posix(), "epochs": args.epochs,
              "batch_size": doc["train"].get("batch_size"), "cores": os.cpu_count(),
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "runs": runs}
    from zoo._io import atomic_write_text
    atomic_write_text(args.out, json.dumps(result, indent=1) + "\n")
    write_docs(result)
    print(args.out)


if __name__ == "__main__":
    main()
