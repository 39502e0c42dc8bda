"""Score LibMultiLabel's test-split scores with the zoo's metric code; write results/peers.json.

Run with the zoo venv after ``run_libmultilabel.py`` (peer venv)::

    ZOO_DATA_DIR=/work/shared/datasets PYTHONPATH=$PWD .venv/bin/python \\
        benchmarks/peers/score.py --runs /work/peer-runs [--out results/peers.json]

For every ``<runs>/<dataset>/<config>/run.json``:

1. the data files it was trained on must be the zoo's current splits: the SHA-256s in
   ``run.json`` are checked against a fresh export (``export_splits.txt_lines`` of
   ``zoo.data.load(dataset, split)``), so a row can only describe our exact splits;
2. its ``test_scores.npy`` (decision values or logits, columns in the zoo's label order) must
   match the recorded SHA-256 and shape;
3. the scores become probabilities with a sigmoid (the library's own decision rules, "decision
   value > 0" for LIBLINEAR and "sigmoid(logit) > 0.5" for the networks, are both the zoo's
   0.5 cut on them) and are scored by :func:`zoo.compare.compare` (``zoo.metrics.evaluate``,
   the code of every checkpoint's ``metrics.json``) with the global 0.5 cut;
4. the probabilities are kept, float32 compressed, in ``results/peers/<dataset>--<config>.npz``
   (what ``tests/test_peers.py`` re-scores) and the row goes into ``results/peers.json``
   (atomic write; rows of other (dataset, name) pairs already there are kept).

Row layout: ``{"dataset", "name": "libmultilabel-<version>/<model>", "kind": "peer",
"library", "version", "config": {"name", "file", "sha256", "source", "values", "changes"},
"seed", "wall_seconds", "timing", "hardware", "details", "split": "test", "num_examples",
"thresholds", "threshold", "train_split", "note", "scores": {"file", "sha256"}, "metrics"}``.
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import io
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
import export_splits  # noqa: E402

PEERS_PATH = ROOT / "results" / "peers.json"
SCORES_DIR = ROOT / "results" / "peers"
FORMAT = 1

#: Row names and provenance per config stem: (model part of the name, where the values come
#: from, what had to change).
CONFIGS = {
    "linear_1vsrest": ("linear-1vsrest",
                       "example_config/rcv1/l2svm.yml of github.com/ASUS-AICS/LibMultiLabel",
                       "none (TF-IDF: the library's Preprocessor defaults)"),
    "kim_cnn": ("kimcnn-rand-emb",
                "example_config/rcv1/kim_cnn.yml of github.com/ASUS-AICS/LibMultiLabel",
                "random 300-d embeddings instead of glove.6B.300d (not downloadable here); "
                "network_config dropout renamed embed_dropout for 0.10.0"),
    "xml_cnn": ("xmlcnn-rand-emb",
                "example_config/rcv1/xml_cnn.yml of github.com/ASUS-AICS/LibMultiLabel",
                "random 300-d embeddings instead of glove.6B.300d (not downloadable here); "
                "encoder_dropout renamed post_encoder_dropout and fixed_length dropped for "
                "0.10.0"),
}


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function, float64.

    >>> sigmoid(np.array([0.0, 800.0, -800.0])).tolist()
    [0.5, 1.0, 0.0]
    """
    z = np.asarray(z, dtype=np.float64)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    e = np.exp(z[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def current_split_hashes(dataset: str) -> dict:
    """SHA-256 of each LibMultiLabel file the exporter would write now for ``dataset``."""
    from zoo.data import load
    out = {}
    names = None
    for split in export_splits.SPLITS:
        ds = load(dataset, split)
        names = export_splits.check_label_names(ds.label_names)
        text = "".join(line + "\n" for line in export_splits.txt_lines(ds))
        out[f"{split}.txt"] = _sha(text.encode("utf-8"))
    out["labels.txt"] = _sha("".join(n + "\n" for n in names).encode("utf-8"))
    return out


def npz_bytes(proba: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, proba=proba.astype(np.float32))
    return buf.getvalue()


def load_scores(path) -> np.ndarray:
    """The probabilities stored by :func:`score_run` (``results/peers/*.npz``)."""
    with np.load(path) as z:
        return z["proba"]


def score_run(run_dir: Path, hashes: dict, scores_dir: Path = SCORES_DIR) -> dict:
    """The ``kind="peer"`` row of one run folder (writes its probabilities to ``scores_dir``)."""
    from zoo._io import atomic_write_bytes
    from zoo.compare import compare
    run = json.loads((run_dir / "run.json").read_text())
    dataset, stem = run["dataset"], run["config"]["name"]
    bad = [f for f, h in hashes.items() if run["data_files"].get(f) != h]
    if bad:
        raise ValueError(f"{run_dir}: trained on other files than the zoo's current {dataset} "
                         f"splits ({', '.join(bad)} differ); re-export and re-run")
    raw_path = run_dir / run["scores"]["file"]
    if _sha(raw_path.read_bytes()) != run["scores"]["sha256"]:
        raise ValueError(f"{raw_path}: SHA-256 differs from run.json")
    raw = np.load(raw_path)
    if run["score_kind"] not in ("decision_value", "logit"):
        raise ValueError(f"{run_dir}: unknown score_kind {run['score_kind']!r}")
    proba = sigmoid(raw).astype(np.float32)
    model, source, changes = CONFIGS.get(stem, (run["model"], "", ""))
    name = f"{run['library']}-{run['version']}/{model}"
    blob = npz_bytes(proba)
    score_file = scores_dir / f"{dataset}--{stem}.npz"
    atomic_write_bytes(score_file, blob)
    res = compare(proba.astype(np.float64), dataset, split="test", thresholds=0.5, name=name)
    d = run.get("details", {})
    cfg = run["config"]["values"]
    note = [f"LibMultiLabel {run['version']} run with its {source.split(' of ')[0]} config "
            f"values (nearest dataset: RCV1)"]
    if run["score_kind"] == "logit":
        why = []
        if d.get("stopped_by_time_budget"):
            why.append(f"stopped by the CPU budget of {d.get('max_minutes'):g} min of training")
        elif d.get("epochs_cap") != d.get("epochs_config"):
            why.append(f"capped at {d.get('epochs_cap')} epochs, CPU budget")
        if d.get("stopped_early"):
            why.append("stopped early by the config's patience")
        note.append(f"trained on `train`: {d.get('epochs_run')} epochs of the config's "
                    f"{d.get('epochs_config')}" + (f" ({'; '.join(why)})" if why else "")
                    + f", best epoch {d.get('best_epoch')} by {d.get('val_metric')} on `valid`")
        note.append("random-initialised word embeddings (GloVe not available offline)")
    else:
        note.append("trained on `train` (valid unused)")
    note.append("decision: the library's default rule (0.5 on the sigmoid), no threshold "
                "tuning")
    row = {"dataset": dataset, "name": name, "kind": "peer", "library": run["library"],
           "version": run["version"], "model": model,
           "config": {"name": stem, "file": run["config"]["file"],
                      "sha256": run["config"]["sha256"], "source": source,
                      "changes": changes, "values": cfg},
           "seed": run.get("seed"), "wall_seconds": round(run["wall_seconds"], 2),
           "timing": {k: round(v, 2) for k, v in run["timing"].items()},
           "hardware": run["hardware"], "details": d, "started": run.get("started"),
           "split": "test", "num_examples": res["num_examples"],
           "train_split": "train", "thresholds": res["thresholds"], "threshold": 0.5,
           "score_kind": run["score_kind"],
           "note": "; ".join(note),
           "scores": {"file": score_file.relative_to(ROOT).as_posix()
                      if score_file.is_relative_to(ROOT) else str(score_file),
                      "sha256": _sha(blob)},
           "metrics": res["metrics"]}
    return row


def read_doc(path) -> dict:
    path = Path(path)
    if not path.is_file():
        return {"format": FORMAT, "rows": []}
    return json.loads(path.read_text())


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", required=True, help="the --out folder of run_libmultilabel.py")
    p.add_argument("--out", default=str(PEERS_PATH))
    a = p.parse_args(argv)
    import zoo
    from zoo._io import atomic_write_text
    runs = sorted(Path(a.runs).glob("*/*/run.json"))
    if not runs:
        raise SystemExit(f"no run.json under {a.runs}/<dataset>/<config>/")
    hashes = {}
    new = []
    for r in runs:
        ds = r.parent.parent.name
        if ds not in hashes:
            hashes[ds] = current_split_hashes(ds)
        row = score_run(r.parent, hashes[ds])
        m = row["metrics"]
        print(f"{row['dataset']:<13} {row['name']:<40} micro-F1 {m['micro_f1']:.4f}  "
              f"macro-F1 {m['macro_f1']:.4f}  mAP {m['mean_average_precision']:.4f}")
        new.append(row)
    doc = read_doc(a.out)
    keep = {(r["dataset"], r["name"]) for r in new}
    rows = [r for r in doc.get("rows", []) if (r["dataset"], r["name"]) not in keep] + new
    doc = {"format": FORMAT,
           "description": "LibMultiLabel (a peer library) trained with its own example configs "
                          "on the zoo's exact splits, its test scores scored by the zoo's "
                          "metric code (benchmarks/peers/, docs/compare.md)",
           "generated": datetime.date.today().isoformat(), "zoo_version": zoo.__version__,
           "rows": sorted(rows, key=lambda r: (r["dataset"], r["name"]))}
    atomic_write_text(a.out, json.dumps(doc, indent=1, sort_keys=True, allow_nan=False) + "\n")
    print(f"wrote {len(doc['rows'])} rows to {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
