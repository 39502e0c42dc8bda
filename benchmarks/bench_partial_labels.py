"""Partial labels (issue 7): train on a copy with 30% of the label entries hidden.

Run by hand (not part of the test suite; about 20 minutes of wall time, under 10 of CPU, on
2 shared cores; 75 trainings)::

    ZOO_DATA_DIR=../shared/datasets nice -n 10 .venv/bin/python benchmarks/bench_partial_labels.py
    .venv/bin/python benchmarks/bench_partial_labels.py --markdown   # only re-render the doc
    ... bench_partial_labels.py --merge --conditions drop_rows_long   # add conditions to the JSON

Protocol. For each dataset and seed, ``--hide`` (default 30%) of the label ENTRIES (one entry =
one (row, label) cell) of the training split are hidden uniformly at random: exactly
``round(0.3 * n * L)`` cells, drawn without replacement. The carved validation split gets the
same treatment with its own draw (a user with partially labelled data has a partially labelled
validation split too). The test split is untouched. Every condition trains zoo's ``mlp`` with
``zoo.train.fit`` and the options of ``recipes/<dataset>/mlp.toml`` (1000 ReLU units, dropout
0.5, Adam 3e-4, batch 32, BCE, one global threshold tuned for micro-F1 on validation) except
the epoch budget, capped for speed at ``--epochs`` (60) with early-stopping patience
``--patience`` (10) instead of 300 / 20:

* ``full``             all labels known (train and valid): the upper bound.
* ``masked``           hidden entries are -1; zoo's ``bce`` leaves them out of the loss.
* ``drop_rows``        only the training rows without a hidden entry are kept.
* ``drop_rows_long``   the same rows, trained with the recipe's own budget (300 epochs,
                       patience 20): the few kept rows make few steps per epoch, so this
                       checks that ``drop_rows`` is not merely under-trained.
* ``assume_negative``  hidden training entries are set to 0 (the common naive baseline).

The three partial conditions share one hidden validation split, whose unknown entries are
ignored by the early-stopping loss and the threshold tuning, so only the treatment of the
training split differs between them. ``drop_rows`` keeps ``0.7 ** L`` of the rows in
expectation (about 0.7% on yeast's 14 labels); its rows-kept count is recorded.

Outputs: ``benchmarks/results/partial_labels.json`` (written atomically after every dataset)
and ``docs/partial_labels.md``, rendered from that JSON by :func:`render_markdown`.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "partial_labels.json"
DOC = ROOT / "docs" / "partial_labels.md"

DATASETS = ("emotions", "yeast", "scene")
CONDITIONS = ("full", "masked", "drop_rows", "drop_rows_long", "assume_negative")
# Conditions trained with the recipe's own epoch budget (300 epochs, patience 20) instead of
# the capped one: dropping rows leaves few batches per epoch, so the capped budget is also
# far fewer optimizer steps; this variant checks the baseline was not merely under-trained.
RECIPE_BUDGET = ("drop_rows_long",)
METRICS = ("micro_f1", "macro_f1", "mean_average_precision")
HIDE = 0.3
EPOCHS, PATIENCE = 60, 10


# ----------------------------------------------------------------------------- data

def hide_entries(y: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """A copy of ``y`` (n, L) with exactly ``round(fraction * n * L)`` cells set to -1,
    drawn uniformly without replacement."""
    y = np.array(y, dtype=np.int8, copy=True)
    k = int(round(fraction * y.size))
    cells = rng.choice(y.size, size=k, replace=False)
    y.reshape(-1)[cells] = -1
    return y


def _rng(seed: int, stream: int) -> np.random.Generator:
    # independent draws for the training and validation masks of one seed
    return np.random.default_rng([int(seed), int(stream)])


def with_labels(ds, y):
    """``ds`` with its label matrix replaced (inputs shared, not copied)."""
    from zoo.data.dataset import MultiLabelDataset
    return MultiLabelDataset(x=ds.x, y=y, label_names=list(ds.label_names), kind=ds.kind,
                             feature_names=ds.feature_names, name=ds.name, split=ds.split,
                             info=dict(ds.info))


def make_condition(condition: str, train, valid, seed: int, hide: float = HIDE):
    """(train, valid) for one condition of one seed; see the module docstring."""
    if condition not in CONDITIONS:
        raise ValueError(f"unknown condition {condition!r}; known: {CONDITIONS}")
    if condition == "full":
        return train, valid
    y_tr = hide_entries(train.labels_dense(), hide, _rng(seed, 1))
    y_va = hide_entries(valid.labels_dense(), hide, _rng(seed, 2))
    valid_h = with_labels(valid, y_va)
    if condition == "masked":
        return with_labels(train, y_tr), valid_h
    if condition == "assume_negative":
        return with_labels(train, np.where(y_tr < 0, 0, y_tr).astype(np.int8)), valid_h
    keep = np.flatnonzero((y_tr >= 0).all(axis=1))  # drop_rows, drop_rows_long
    if keep.size == 0:
        raise RuntimeError(f"{train.name} seed {seed}: no training row is fully labelled")
    return train.subset(keep), valid_h


def recipe_options(dataset: str) -> tuple[dict, dict, dict]:
    """(model options, train options, threshold options) of recipes/<dataset>/mlp.toml."""
    from zoo.recipes import read_recipe
    r = read_recipe(ROOT / "recipes" / dataset / "mlp.toml")
    return dict(r.get("model", {})), dict(r.get("train", {})), dict(r.get("thresholds", {}))


# ----------------------------------------------------------------------------- one run

def run_one(dataset: str, condition: str, seed: int, *, epochs: int = EPOCHS,
            patience: int = PATIENCE, hide: float = HIDE, splits=None) -> dict:
    """Train one condition and score it on the untouched test split."""
    from zoo import metrics as zm
    from zoo.data import benchmarks
    from zoo.inference import MultiLabelModel
    from zoo.train import fit

    if splits is None:
        splits = tuple(benchmarks.load(dataset, s) for s in ("train", "valid", "test"))
    train, valid, test = splits
    tr, va = make_condition(condition, train, valid, seed, hide)
    model_opts, train_opts, th_opts = recipe_options(dataset)
    if condition not in RECIPE_BUDGET:
        train_opts.update(epochs=int(epochs), patience=int(patience))
    t0 = time.perf_counter()
    res = fit("mlp", tr, va, model_opts, seed=seed, verbose=0, thresholds=th_opts, **train_opts)
    wall = time.perf_counter() - t0
    scorer = MultiLabelModel(res.model, tr.label_names, res.thresholds,
                             card={"kind": tr.kind, "input": {"num_features": tr.num_features}})
    scores = scorer.predict_proba(test.x)
    m = zm.evaluate(test.labels_dense(), scores, y_pred=res.thresholds.apply(scores))
    y_tr = tr.labels_dense()
    return {"seed": seed, "rows_kept": len(tr),
            "unknown_train_entries": int((y_tr < 0).sum()),
            "epochs_run": res.training["epochs_run"], "best_epoch": res.training["best_epoch"],
            "epochs_cap": int(train_opts["epochs"]), "patience": int(train_opts["patience"]),
            "threshold": res.thresholds.to_dict(), "wall_s": round(wall, 2),
            **{k: float(m[k]) for k in METRICS}}


def summarize(runs: list[dict]) -> dict:
    """Mean and sample standard deviation (ddof=1) over seeds of each metric, rows kept and
    wall time."""
    out = {}
    for key in METRICS + ("rows_kept", "wall_s", "epochs_run"):
        v = np.array([r[key] for r in runs], dtype=np.float64)
        out[key] = {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if v.size > 1 else 0.0,
                    "min": float(v.min()), "max": float(v.max())}
    return out


def wins(a: list[dict], b: list[dict]) -> dict:
    """Per metric: in how many seeds condition ``a`` scores strictly higher than ``b``."""
    by_seed = {r["seed"]: r for r in b}
    return {k: sum(int(r[k] > by_seed[r["seed"]][k]) for r in a if r["seed"] in by_seed)
            for k in METRICS}


# ----------------------------------------------------------------------------- report

def _pm(s: dict, digits: int = 3) -> str:
    return f"{s['mean']:.{digits}f} ± {s['std']:.{digits}f}"


def _cap(r: dict, protocol: dict) -> int:
    return int(r.get("epochs_cap", protocol["max_epochs"]))


def render_markdown(result: dict) -> str:
    """docs/partial_labels.md from the results JSON (no number is typed by hand)."""
    p = result["protocol"]
    hw = result["hardware"]
    pct = f"{100 * p['hide_fraction']:.0f}%"
    n_seeds = len(p["seeds"])
    lines = [
        "# Partial labels: training with unknown (-1) label entries",
        "",
        "<!-- Generated by `python benchmarks/bench_partial_labels.py --markdown` from",
        "     benchmarks/results/partial_labels.json; do not edit by hand. -->",
        "",
        "A label matrix in zoo holds 1 (relevant), 0 (irrelevant) and **-1 (unknown)**. Unknown",
        "entries are *not* negatives: every loss in `zoo.losses` (except the single-positive",
        "baselines `an` and `epr`, which assume negatives by design) leaves them out. The",
        "element-wise losses (`bce`, `focal`, `asl`, `hill`, `splc`) average over each example's",
        "*known* labels, `sum_j known_j * l_j / max(1, sum_j known_j)`: partial-BCE's",
        "normalisation (Durand et al., CVPR 2019), so a row with 3 known labels out of 6 weighs as",
        "much as a fully labelled one and an unknown entry sends no gradient to its output.",
        "The rest of the training path ignores them too: `to_tf_dataset` keeps -1 in the label",
        "batches, the streaming metrics logged during `fit` skip them, early stopping on",
        "`val_loss` uses the masked loss, threshold tuning (`zoo.thresholds`) skips them, and",
        "`zoo.metrics.evaluate` scores only known entries (`tests/test_partial_labels.py` checks",
        "each of these).",
        "",
        "## How to use it",
        "",
        "Mark what you do not know as unknown and train as usual:",
        "",
        "```python",
        "from zoo.data import read_csv",
        "from zoo.train import fit",
        "# label cells: 1 or 0, and empty, `?` or -1 where unknown (stored as -1)",
        "train = read_csv(\"train.csv\", label_columns=\"label_*\", split=\"train\")",
        "valid = read_csv(\"valid.csv\", label_columns=\"label_*\", split=\"valid\")",
        "result = fit(\"mlp\", train, valid, loss=\"bce\")  # -1: out of loss, metrics, thresholds",
        "```",
        "",
        "or set entries of `dataset.y` (int8) to -1 yourself. Do **not** replace unknown entries",
        "with 0 (that is the `assume_negative` row below) and do not drop partially labelled rows",
        "(`drop_rows`). (`mlgcn` does not take -1 yet: its label graph is built from binary",
        "training labels.)",
        "",
        "## Benchmark: masked loss vs dropping rows vs assuming negatives",
        "",
        f"{pct} of the label entries (one entry = one (row, label) cell) of each training split",
        "are hidden uniformly at random; the carved validation split gets its own draw of the",
        f"same {pct} (a user with partial labels has a partial validation split too), and the",
        "test split is untouched. Conditions, all zoo's `mlp` trained by `zoo.train.fit` with the",
        "options of `recipes/<dataset>/mlp.toml` (1000 ReLU units, dropout 0.5, Adam 3e-4, batch",
        "32, `bce`, one global threshold tuned for micro-F1 on validation):",
        "",
        "* **full**: nothing hidden, train and valid (the upper bound);",
        "* **masked**: hidden entries are -1 and left out of the `bce` loss;",
        "* **drop_rows**: only the training rows with no hidden entry are kept;",
        "* **drop_rows_long**: the same rows trained with the recipes' own budget (300 epochs,",
        "  patience 20): a few rows make only a few optimizer steps per epoch, so this checks",
        "  that `drop_rows` is not merely under-trained;",
        "* **assume_negative**: hidden training entries are set to 0.",
        "",
        "The partial conditions share the same hidden validation split (its -1 entries are",
        "ignored by early stopping and threshold tuning), so only the handling of the training",
        f"split differs. For speed every other condition trains at most {p['max_epochs']} epochs",
        f"with early-stopping patience {p['patience']} (recipes: 300 and 20). Scores are on the",
        "test split; mAP (macro average precision) needs no threshold. Mean ± standard deviation",
        f"(ddof=1) over {n_seeds} seed{'s' if n_seeds != 1 else ''}"
        f" ({', '.join(str(s) for s in p['seeds'])}); a seed fixes the hidden cells and the",
        "network's initialisation and shuffling. \"rows\": training rows the model saw (mean, and",
        "range over seeds); \"epochs\": mean epochs run; \"s\": mean training wall time per run.",
        "",
    ]
    for name, d in result["datasets"].items():
        lines += [f"### {name} ({d['train_rows']} training rows, {d['labels']} labels,"
                  f" {d['test_rows']} test rows)", "",
                  "| condition | micro-F1 | macro-F1 | mAP | rows | epochs | s |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for cond in CONDITIONS:
            c = d["conditions"].get(cond)
            if c is None:
                continue
            s = c["summary"]
            rk = s["rows_kept"]
            rows = (f"{rk['mean']:.0f}" if rk["min"] == rk["max"]
                    else f"{rk['mean']:.1f} ({rk['min']:.0f}-{rk['max']:.0f})")
            lines.append(f"| {cond} | {_pm(s['micro_f1'])} | {_pm(s['macro_f1'])} |"
                         f" {_pm(s['mean_average_precision'])} | {rows} |"
                         f" {s['epochs_run']['mean']:.0f} | {s['wall_s']['mean']:.1f} |")
        lines.append("")
        w = d.get("masked_wins", {})
        if w:
            parts = [f"{other} in {counts['micro_f1']}/{n_seeds} (micro-F1),"
                     f" {counts['macro_f1']}/{n_seeds} (macro-F1),"
                     f" {counts['mean_average_precision']}/{n_seeds} (mAP)"
                     for other, counts in w.items()]
            lines += ["Seeds where masked scores higher than " + "; ".join(parts) + ".", ""]
    runs = result.get("invocations", [])
    load = ", ".join(f"{r['load_average'][0]:.1f}" for r in runs) or "?"
    lines += [
        "### Reading the numbers",
        "",
        *findings(result),
        "",
        f"Run on {hw['cpu']}, {hw['cores']} cores shared with other jobs (load average at the"
        f" start of each invocation: {load}), TensorFlow"
        f" {result['versions'].get('tensorflow', '?')}, Keras {result['versions']['keras']};"
        f" {result['total_wall_s'] / 60:.1f} min wall time in all. Reproduce with",
        "`nice -n 10 .venv/bin/python benchmarks/bench_partial_labels.py` (raw per-seed numbers,",
        "thresholds and epochs in `benchmarks/results/partial_labels.json`).",
        "",
    ]
    return "\n".join(lines)


def findings(result: dict) -> list[str]:
    """Plain statements derived from the numbers (so the doc's prose cannot drift from them)."""
    out = []
    pct = f"{100 * result['protocol']['hide_fraction']:.0f}%"

    def diff(s, a, b):
        g = {m: s[a][m]["mean"] - s[b][m]["mean"] for m in METRICS}
        return (f"{g['micro_f1']:+.3f} micro-F1, {g['macro_f1']:+.3f} macro-F1,"
                f" {g['mean_average_precision']:+.3f} mAP")

    for name, d in result["datasets"].items():
        s = {k: v["summary"] for k, v in d["conditions"].items()}
        if "masked" not in s:
            continue
        parts = []
        for other in ("drop_rows", "drop_rows_long", "assume_negative"):
            if other in s:
                parts.append(f"masked minus {other}: {diff(s, 'masked', other)}")
        if "full" in s:
            parts.append(f"full minus masked (the cost of hiding {pct}):"
                         f" {diff(s, 'full', 'masked')}")
        kept = s.get("drop_rows", s.get("drop_rows_long"))
        if kept is not None:
            parts.append(f"dropping rows keeps {kept['rows_kept']['mean']:.0f} of"
                         f" {d['train_rows']} rows on average")
        out.append(f"* **{name}**: " + "; ".join(parts) + ".")
    capped = [(name, cond, sum(int(r["epochs_run"] >= _cap(r, result["protocol"]))
                               for r in c["runs"]), len(c["runs"]))
              for name, d in result["datasets"].items() for cond, c in d["conditions"].items()]
    hit = [f"{n} {c} ({k}/{m})" for n, c, k, m in capped if k]
    out.append("* Runs stopped by their epoch cap rather than by early stopping: "
               + (", ".join(hit) if hit else "none") + ".")
    return out


def write_doc(result: dict, doc: Path = DOC) -> None:
    from zoo._io import atomic_write_text
    atomic_write_text(doc, render_markdown(result))


# ----------------------------------------------------------------------------- main

def main(argv=None) -> dict | None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=list(DATASETS))
    ap.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1")
    ap.add_argument("--conditions", nargs="+", default=list(CONDITIONS), choices=CONDITIONS)
    ap.add_argument("--hide", type=float, default=HIDE)
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    ap.add_argument("--patience", type=int, default=PATIENCE)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--doc", type=Path, default=DOC)
    ap.add_argument("--merge", action="store_true",
                    help="add the given conditions to the existing results JSON (same protocol)")
    ap.add_argument("--markdown", action="store_true",
                    help="only re-render the doc from the existing results JSON")
    a = ap.parse_args(argv)
    if a.markdown:
        write_doc(json.loads(a.out.read_text()), a.doc)
        print(f"wrote {a.doc}")
        return None

    from zoo._io import atomic_write_text
    from zoo.checkpoint import hardware, versions
    from zoo.data import benchmarks

    seeds = list(range(a.seeds))
    protocol = {"hide_fraction": a.hide, "seeds": seeds, "max_epochs": a.epochs,
                "patience": a.patience, "architecture": "mlp",
                "options": "recipes/<dataset>/mlp.toml except epochs and patience"
                           f" (not for {', '.join(RECIPE_BUDGET)})",
                "valid": "hidden like train (own draw), -1 ignored in early stopping and"
                         " threshold tuning; full labels for 'full'",
                "test": "untouched", "std": "sample (ddof=1) over seeds"}
    if a.merge:
        result = json.loads(a.out.read_text())
        old = result["protocol"]
        for key in ("hide_fraction", "seeds", "max_epochs", "patience"):
            if old[key] != protocol[key]:
                raise SystemExit(f"--merge: {key} differs from the recorded run"
                                 f" ({old[key]!r} != {protocol[key]!r})")
        result["protocol"] = protocol
        if "invocations" not in result:  # a run recorded before invocations were logged
            result["invocations"] = [{"conditions": sorted(
                {c for d in result["datasets"].values() for c in d["conditions"]}),
                "datasets": list(result["datasets"]), "load_average": result["load_average"],
                "wall_s": result["total_wall_s"]}]
    else:
        result = {"benchmark": "partial labels: masked loss vs dropping rows vs assuming"
                               " negatives",
                  "protocol": protocol, "hardware": hardware(), "versions": versions(),
                  "load_average": list(os.getloadavg()), "invocations": [],
                  "total_wall_s": 0.0, "complete": False, "datasets": {}}
    result["complete"] = False
    inv = {"conditions": list(a.conditions), "datasets": list(a.datasets),
           "load_average": list(os.getloadavg()), "wall_s": 0.0}
    result["invocations"].append(inv)
    wall_before = result["total_wall_s"]
    t_all = time.perf_counter()
    cpu0 = sum(os.times()[:2])
    for name in a.datasets:
        splits = tuple(benchmarks.load(name, s) for s in ("train", "valid", "test"))
        d = result["datasets"].get(name) or {
            "train_rows": len(splits[0]), "valid_rows": len(splits[1]),
            "test_rows": len(splits[2]), "labels": splits[0].num_labels,
            "expected_rows_kept": len(splits[0]) * (1 - a.hide) ** splits[0].num_labels,
            "conditions": {}}
        runs = {c: [] for c in a.conditions}
        for seed in seeds:
            for cond in a.conditions:
                r = run_one(name, cond, seed, epochs=a.epochs, patience=a.patience,
                            hide=a.hide, splits=splits)
                runs[cond].append(r)
                print(f"{name:9s} seed {seed} {cond:16s} rows {r['rows_kept']:5d}"
                      f" micro-F1 {r['micro_f1']:.4f} macro-F1 {r['macro_f1']:.4f}"
                      f" mAP {r['mean_average_precision']:.4f} epochs {r['epochs_run']:3d}"
                      f" {r['wall_s']:.1f}s", flush=True)
        for cond, rs in runs.items():
            d["conditions"][cond] = {"summary": summarize(rs), "runs": rs}
        all_runs = {c: v["runs"] for c, v in d["conditions"].items()}
        if "masked" in all_runs:
            d["masked_wins"] = {o: wins(all_runs["masked"], all_runs[o])
                                for o in CONDITIONS if o in all_runs and o not in
                                ("masked", "full")}
        result["datasets"][name] = d
        inv["wall_s"] = time.perf_counter() - t_all
        result["total_wall_s"] = wall_before + inv["wall_s"]
        atomic_write_text(a.out, json.dumps(result, indent=1) + "\n")  # progress, per dataset
    result["complete"] = True
    inv["wall_s"] = time.perf_counter() - t_all
    inv["cpu_s"] = sum(os.times()[:2]) - cpu0  # this process's user + system CPU time
    result["total_wall_s"] = wall_before + inv["wall_s"]
    atomic_write_text(a.out, json.dumps(result, indent=1) + "\n")
    write_doc(result, a.doc)
    print(f"wrote {a.out} and {a.doc} ({inv['wall_s'] / 60:.1f} min)")
    return result


if __name__ == "__main__":
    main()
