"""Per-architecture speed of the corel5k-images checkpoints on this CPU.

    .venv/bin/python benchmarks/bench_image_models.py [--archs effnet q2l ...] [--steps 5]
        [--out benchmarks/results/image_models.json]

For each checkpoint ``corel5k-images/<arch>`` (loaded with ``zoo.load``):

* **head training**: images/s of one optimizer step of the ``head`` sub-model on a batch of 64
  cached backbone feature maps (what ``encoder = "frozen"`` training does), median of
  ``--steps`` steps after warm-up; ``cnn`` (trained end to end) is timed on image batches;
* **inference**: images/s of ``MultiLabelModel.predict_proba`` on decoded 224x224 images
  (112x112 for ``cnn``), at batch 1 and batch 32 (backbone and head, compiled call);
* **pipeline vs step**: images/s of the training ``tf.data`` pipeline
  (``zoo.data.images.image_dataset``: decode, random resized crop, flip; cached) against the
  ``cnn`` training step, the one model here whose training reads images; the pipeline must
  not starve the step.

Writes JSON (atomically) with the load average before and after: the machine may be shared;
never assert on these numbers in tests.
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
RESULTS = ROOT / "benchmarks" / "results" / "image_models.json"
ARCHS = ("cnn", "effnet", "effnet-bce", "mlgcn-image", "q2l", "ml-decoder", "ctran")


def _median_time(fn, repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def bench_arch(arch: str, steps: int, paths: list, labels) -> dict:
    import numpy as np

    import zoo
    from zoo import losses
    from zoo.data.images import decode_images
    model = zoo.load(f"corel5k-images/{arch}")
    net = model.keras_model
    size = tuple(model.card["input"]["image_size"])
    images = decode_images(paths[:32], size).astype("float32")
    out = {"arch": arch, "image_size": list(size), "parameters": int(net.count_params())}
    y = np.asarray(labels[:64], dtype="float32")
    cfg = model.card["training"]["train_config"]
    if cfg.get("encoder") == "frozen":
        head = net.get_layer("head")
        feats = np.asarray(net.get_layer("backbone")(images, training=False))
        feats = np.concatenate([feats, feats])[:64]
        head.compile(optimizer="adam", loss=losses.get(cfg.get("loss", "bce")))
        t = _median_time(lambda: head.train_on_batch(feats, y), steps)
        out["head_train_images_per_s"] = 64 / t
        out["head_train_step_s"] = t
    else:
        batch = np.concatenate([images, images])[:64]
        net.compile(optimizer="adam", loss=losses.get(cfg.get("loss", "bce")))
        t = _median_time(lambda: net.train_on_batch(batch, y), steps)
        out["train_images_per_s"] = 64 / t
        out["train_step_s"] = t
    for b in (1, 32):
        t = _median_time(lambda: model.predict_proba(images[:b], batch_size=b), steps)
        out[f"inference_images_per_s_batch{b}"] = b / t
    return out


def bench_pipeline(paths, labels, size=(112, 112), batches: int = 20) -> dict:
    from zoo.data.images import image_dataset
    ds = image_dataset(paths, labels, image_size=size, training=True, batch_size=64, seed=0)
    it = iter(ds.repeat())
    for _ in range(3):
        next(it)
    t0 = time.perf_counter()
    for _ in range(batches):
        next(it)
    dt = time.perf_counter() - t0
    return {"image_size": list(size), "batch": 64, "images_per_s": 64 * batches / dt,
            "note": "first pass decodes; later epochs read the in-memory cache"}


DOCS = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench:image-models start -->", "<!-- bench:image-models end -->"


def render_markdown(doc: dict) -> str:
    """The docs/benchmarks.md section, from the results JSON (no number typed by hand)."""
    lines = [START, "",
             f"Load average before/after: {', '.join(f'{v:.2f}' for v in doc['load_before'])}"
             f" / {', '.join(f'{v:.2f}' for v in doc['load_after'])} ({doc['cores']} cores).", "",
             "| checkpoint | input | training images/s (what trains) | inference images/s, "
             "batch 1 | batch 32 |", "|---|---|---:|---:|---:|"]
    for r in doc["models"]:
        what, v = (("head on cached features", r["head_train_images_per_s"])
                   if "head_train_images_per_s" in r else
                   ("whole network on images", r["train_images_per_s"]))
        lines.append(f"| corel5k-images/{r['arch']} | {r['image_size'][0]}x{r['image_size'][1]}"
                     f" | {v:,.0f} ({what}) | {r['inference_images_per_s_batch1']:,.1f} | "
                     f"{r['inference_images_per_s_batch32']:,.1f} |")
    p = doc["pipeline"]
    ratio = doc.get("pipeline_over_cnn_step")
    lines += ["", f"Training input pipeline (`image_dataset`, {p['image_size'][0]}x"
              f"{p['image_size'][1]}, random resized crop + flip, cached): "
              f"{p['images_per_s']:,.0f} images/s"
              + (f", {ratio:.1f}x the `cnn` training step: the pipeline does not starve it."
                 if ratio else "."), "", END]
    return "\n".join(lines)


def write_docs(doc: dict, path: Path = DOCS) -> None:
    from zoo._io import atomic_write_text
    text = path.read_text()
    section = render_markdown(doc)
    if START in text:
        a, b = text.index(START), text.index(END) + len(END)
        text = text[:a] + section + text[b:]
    else:
        text = text.rstrip() + "\n\n## Image architectures (corel5k-images checkpoints)\n\n" + (
            "`benchmarks/bench_image_models.py` (run by hand; the section below is written "
            "from `benchmarks/results/image_models.json`). Images are decoded before timing; "
            "the head rows time one optimizer step on cached backbone features, which is "
            "how these heads were trained on this CPU.\n\n") + section + "\n"
    atomic_write_text(path, text)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--archs", nargs="*", default=list(ARCHS))
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--docs-only", action="store_true",
                    help="rewrite the docs section from the results JSON, without timing")
    args = ap.parse_args(argv)
    if args.docs_only:
        write_docs(json.loads(args.out.read_text()))
        return
    from zoo.data import benchmarks
    train = benchmarks.load("corel5k-images", "train")
    paths, labels = list(train.x[:512]), train.labels_dense()[:512]
    load_before = os.getloadavg()
    rows = []
    for arch in args.archs:
        rows.append(bench_arch(arch, args.steps, paths, labels))
        print(json.dumps(rows[-1]), flush=True)
    pipe = bench_pipeline(paths, labels)
    print(json.dumps(pipe), flush=True)
    cnn = next((r for r in rows if "train_images_per_s" in r), None)
    doc = {"models": rows, "pipeline": pipe,
           "pipeline_over_cnn_step": (pipe["images_per_s"] / cnn["train_images_per_s"]
                                      if cnn else None),
           "cores": os.cpu_count(), "load_before": load_before, "load_after": os.getloadavg()}
    from zoo._io import atomic_write_text
    atomic_write_text(args.out, json.dumps(doc, indent=1) + "\n")
    write_docs(doc)
    print(args.out)


if __name__ == "__main__":
    main()
