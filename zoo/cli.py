"""The ``zoo`` command (also ``python -m zoo``).

    zoo --version
    zoo list [PATTERN]                 pretrained names, and where each is available
    zoo info NAME [--json]             summary (labels, thresholds, metrics, size) of a checkpoint
    zoo download NAME                  fetch (and verify) a checkpoint into the HF cache
    zoo export-data DATASET [--split S] --out F.csv [--labels A,B] [--rename A=X,...]
                                       a benchmark split as CSV (the `zoo finetune` format)
    zoo export-model NAME --format savedmodel|tflite|onnx --out PATH
    zoo predict NAME FILE... [--text S] [--out PREDS.csv] [--json]
                                       label sets for feature rows (CSV/.npy) or text files
                                       (one document a line; '-' = stdin)
    zoo evaluate NAME [--split S] [--json] [--save-scores FILE.npy|.csv]
    zoo train RECIPE [--out DIR | --force] [--workers N] [--strategy S]
                                       (data-parallel: docs/scaling.md)
    zoo finetune BASE --train FILE [--valid FILE] [--test FILE] --out DIR [--epochs N] ...
                                       fine-tune a checkpoint (or an architecture) on your data
    zoo publish NAME [--repo-id ID] [--dry-run]
    zoo index                          regenerate zoo/_index.json from checkpoints/
    zoo demo                           label the bundled example inputs offline
    zoo leaderboard [--dataset D] [--json] [--markdown PATH] [--extra USER.json ...]
    zoo compare SCORES --dataset D [--threshold T | --thresholds FILE|NAME] [--add-to USER.json]
    zoo plot {pr,freq-f1,cooccurrence,history} ... --out FIG.png
    zoo baselines [--dataset D ...] [--out PATH]   refit the classical baselines

This module only parses arguments and prints; the work is in the library (readers and
prediction output in :mod:`zoo.data.user_inputs`, exports in :mod:`zoo.exporting`, uploads
in :mod:`zoo.publish`). ``list``, ``info`` and ``--help`` never import TensorFlow.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent / "examples"


def _print_json(obj):
    print(json.dumps(obj, indent=1, sort_keys=True, default=str))


def _format_sets(records, as_json: bool, texts: bool = False):
    """Print :func:`zoo.data.user_inputs.prediction_records` as JSON or one block per row."""
    if as_json:
        _print_json(records)
        return
    for r in records:
        print(f"[{r['id']}]" + (f" {r['input']!r}" if texts and "input" in r else ""))
        print("    " + (", ".join(f"{d['label']} ({d['probability']:.2f})" for d in r["labels"])
                        or "(no label)"))


def cmd_list(a):
    import zoo
    from zoo import hub
    names = zoo.list_models(a.pattern)
    if not names and a.pattern:
        from zoo.errors import NotFoundError
        from zoo.naming import suggestion
        everything = zoo.list_models()
        words = sorted({w for n in everything for w in n.split("/")})
        raise NotFoundError(f"no pretrained name matches {a.pattern!r}"
                            + (suggestion(a.pattern, words) or suggestion(a.pattern, everything)
                               or "; `zoo list` shows them all"))
    if a.json:
        _print_json(names)
        return
    if not names:
        print("no pretrained models found")
        return 1
    where = {n: hub.local_source(n) for n in names}
    width = max(len(n) for n in names)
    remote = ("hub (HF_HUB_OFFLINE is set: not available)" if os.environ.get("HF_HUB_OFFLINE")
              not in (None, "", "0") else "hub (downloaded on first use)")
    for n in names:
        print(f"{n:<{width}}  {where[n] or remote}")
    missing = sum(1 for v in where.values() if not v)
    if missing:
        print(f"\n{len(names) - missing} of {len(names)} are on this machine; the others are "
              "fetched from the Hub on first use, or set ZOO_CHECKPOINTS to a clone's "
              "checkpoints/ folder", file=sys.stderr)


def _size(nbytes: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if nbytes < 1024 or unit == "GB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1024


def cmd_info(a):
    import zoo
    card = zoo.info(a.name)
    if a.json:
        _print_json(card)
        return
    from zoo.modelcard import CARD_METRICS
    names = card.get("label_names", [])
    folder = Path(card["path"])
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    inp = card.get("input") or {}
    from zoo import kinds
    what = kinds.of_card(card).describe(inp)
    print(f"{card['name']}: {card.get('architecture')} on {card.get('dataset')} "
          f"(input: {what})")
    print(f"  folder:      {folder} ({_size(size)}"
          + (f", {card['parameters']:,} parameters)" if card.get("parameters") else ")"))
    shown = ", ".join(names[:12]) + (f", ... ({len(names)} in all)" if len(names) > 12 else "")
    print(f"  labels:      {len(names)}: {shown}")
    th = card.get("thresholds")
    if th is not None:
        from zoo.compare import describe_thresholds
        print(f"  thresholds:  {describe_thresholds(th)}")
    m = card.get("metrics") or {}
    vals = m.get("metrics") or {}
    if vals:
        print(f"  metrics ({m.get('split', '?')} split, {m.get('num_examples', '?')} examples):")
        for key, label in CARD_METRICS:
            if vals.get(key) is not None:
                print(f"    {label:<18} {vals[key]:.4f}")
    tr = card.get("training") or {}
    if tr.get("epochs_run") is not None:
        print(f"  training:    {tr.get('epochs_run')} epochs (best {tr.get('best_epoch')})"
              + (f", {tr['wall_time_s']:.0f} s" if tr.get("wall_time_s") else ""))
    print("  (all fields: zoo info NAME --json)")


def cmd_download(a):
    from zoo.saved import open_saved
    print(open_saved(a.name, revision=a.revision).folder)


def cmd_export_data(a):
    """Write a benchmark split as a CSV file that `zoo finetune` reads (zoo.data.write_csv)."""
    from zoo.data import MultiLabelDataset, benchmarks, write_csv
    from zoo.data.user_inputs import select_labels
    ds = benchmarks.load(a.dataset, a.split)
    cols, new_names = select_labels(list(ds.label_names), a.labels, a.rename, a.dataset)
    y = ds.y[:, cols]
    out = write_csv(MultiLabelDataset(x=ds.x, y=y, label_names=new_names, kind=ds.kind,
                                      feature_names=ds.feature_names, name=ds.name,
                                      split=ds.split), a.out, layout=a.layout)
    from zoo import kinds
    kind = kinds.get(ds.kind)
    what = kind.describe(kind.input_spec(ds))
    print(f"wrote {a.dataset} {a.split}: {len(ds)} rows ({what}, {len(new_names)} labels: "
          f"{', '.join(new_names)}) to {out}")


def cmd_export_removed(a):
    from zoo.errors import ZooError
    raise ZooError("`zoo export` was split in two: `zoo export-data DATASET --out F.csv` writes "
                   "a benchmark split as CSV; `zoo export-model NAME --format "
                   "savedmodel|tflite|onnx --out PATH` exports a model")


def cmd_export_model(a):
    from zoo.exporting import export_model
    out = export_model(a.name, a.out, a.format, overwrite=a.force)
    print(out)


def cmd_predict(a):
    import zoo
    from zoo.data import user_inputs as ui
    from zoo.errors import ZooError
    if not a.inputs and not a.text:
        raise ZooError("give input files (CSV/.npy feature rows, image files, or a text file "
                       "with one document per line; '-' reads standard input) or --text \"...\"")
    if a.threshold is not None and not 0.0 <= a.threshold <= 1.0:
        raise ZooError(f"--threshold is a probability cut in [0, 1], got {a.threshold}")
    model = zoo.load(a.name)
    texts = model.input_kind.takes_strings
    if a.text and not texts:
        raise ZooError(f"--text is for text models; {a.name} takes {model.kind} inputs "
                       "(give CSV or .npy files)")
    ids = None
    if texts:
        x = [t for src in a.inputs for t in ui.read_texts(src)] + list(a.text or [])
    elif model.input_kind.takes_files:  # image files: the paths are the inputs and the ids
        x = ids = list(a.inputs)
    else:
        import numpy as np
        names = (model.card.get("input") or {}).get("feature_names")
        x = np.concatenate([ui.read_feature_rows(p, names) for p in a.inputs], axis=0)
    rule = model._rule(a.threshold)
    proba = ui.predict_in_batches(model, x, progress=a.progress)
    sets = ui.label_sets(proba, rule, model.label_names)
    if a.out:
        ui.write_predictions_csv(a.out, proba, sets, model.label_names, ids=ids)
        print(f"wrote {len(sets)} predictions to {a.out}", file=sys.stderr)
        if not a.json:
            return
    _format_sets(ui.prediction_records(sets, ids=ids, inputs=x if texts else None), a.json,
                 texts)


def cmd_evaluate(a):
    import zoo
    from zoo.modelcard import CARD_METRICS
    result = zoo.evaluate(a.name, split=a.split, save_scores=a.save_scores)
    if a.save_scores:
        print(f"wrote the {result['split']} scores of {result['name']} ({result['num_examples']}"
              f" rows) to {a.save_scores}", file=sys.stderr)
    if a.json:
        _print_json(result)
        return
    print(f"{result['name']} on {result['dataset']} [{result['split']}], {result['num_examples']} examples")
    for key, label in CARD_METRICS:
        if key in result["metrics"]:
            print(f"  {label:<18} {result['metrics'][key]:.4f}")


def cmd_train(a):
    if a.workers is not None:  # the launcher: N local worker processes, each one `zoo train`
        from zoo import distributed
        from zoo.errors import ZooError
        if a.strategy not in (None, "multiworker"):
            raise ZooError(f"--workers starts MultiWorkerMirroredStrategy workers; it does not "
                           f"combine with --strategy {a.strategy}")
        from zoo.recipes import output_folder, read_recipe
        recipe = read_recipe(a.recipe)
        if "finetune" in recipe:
            raise ZooError(f"{a.recipe}: a [finetune] recipe trains in one process; --workers "
                           "applies to recipes that train an architecture")
        out = output_folder(recipe, a.out)
        if a.out is None and out.exists() and not a.force:
            raise ZooError(f"{out} exists; pass --force to replace it (or --out DIR)")
        r = distributed.launch(a.recipe, a.workers, out=out, force=a.force)
        digest = r.reports[0]["weights"]["sha256"][:16]
        print(f"{a.workers} workers finished in {r.wall_time_s:.1f} s; their final weights are "
              f"identical (sha256 {digest}...); the chief wrote the checkpoint", file=sys.stderr)
        print(r.out)
        return
    from zoo.recipes import train_recipe
    # train_recipe refuses an existing checkpoint folder before training unless overwrite
    out = train_recipe(a.recipe, out=a.out, overwrite=a.force or a.out is not None,
                       verbose=1 if sys.stderr.isatty() else 2, strategy=a.strategy)
    print(out)


def _label_columns_arg(text):
    """``--label-columns``: comma-separated column names, or one glob pattern (``'y_*'``)."""
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    if len(names) == 1 and any(c in names[0] for c in "*?["):
        return names[0]
    return names


def cmd_finetune(a):
    """Fine-tune BASE on the data files; print the folder and the metrics headline."""
    import zoo
    from zoo.errors import ZooError
    pos_weight = a.pos_weight
    if pos_weight not in (None, "auto"):
        try:
            pos_weight = [float(v) for v in pos_weight.split(",")]
        except ValueError:
            raise ZooError(f"--pos-weight takes 'auto' or one number per label, comma-separated;"
                           f" got {a.pos_weight!r}") from None
    train_options = {k: v for k, v in (("epochs", a.epochs), ("learning_rate", a.learning_rate),
                                       ("batch_size", a.batch_size), ("patience", a.patience))
                     if v is not None}
    import warnings
    try:
        with warnings.catch_warnings():  # the summary says when nothing of the base was kept
            warnings.filterwarnings("ignore", message="no layer of the base")
            r = zoo.finetune(
                a.base, a.train, a.valid, out=a.out, test=a.test,
                freeze_epochs=a.freeze_epochs, input_mismatch=a.input_mismatch, loss=a.loss,
                pos_weight=pos_weight, seed=a.seed, verbose=1 if sys.stdout.isatty() else 2,
                name=a.name, allow_empty_labels=a.allow_empty_labels, overwrite=a.overwrite,
                label_columns=_label_columns_arg(a.label_columns), label_column=a.label_column,
                text_column=a.text_column, label_separator=a.label_separator,
                feature_columns=_label_columns_arg(a.feature_columns), **train_options)
    except ValueError as e:  # argument problems (DataFormatError is already a ZooError)
        if isinstance(e, ZooError):
            raise
        raise ZooError(str(e)) from None
    ft, tr, m = r.card["finetune"], r.card["training"], r.metrics
    names = r.model.label_names
    shown = ", ".join(names[:8]) + (f", ... ({len(names)} in all)" if len(names) > 8 else "")
    reinit = ft.get("reinitialized")
    if isinstance(reinit, dict):
        reinit = (", ".join(reinit) or "none") + ("" if ft.get("kept") else
                                                  " (nothing of the base was kept)")
    origin = "fresh weights" if ft.get("fresh") else f"fine-tuned from {ft['base']}"
    print(f"folder:         {r.folder}")
    print(f"model:          {r.card['name']} ({r.card['architecture']}, {origin});"
          f" {len(names)} labels: {shown}")
    print(f"re-initialized: {reinit}" + (
        f"; epochs 1-{ft['freeze_epochs']} trained only {', '.join(ft.get('head') or [])}"
        if ft.get("freeze_epochs") else ""))
    print(f"training:       {tr['epochs_run']} epochs (best {tr['best_epoch']}), "
          f"{tr['wall_time_s']:.1f} s; validation split {ft['valid']}")
    vals = m["metrics"]
    head = "  ".join(f"{label} {vals[key]:.4f}" for key, label in
                     (("micro_f1", "micro-F1"), ("macro_f1", "macro-F1"),
                      ("example_f1", "example-F1"), ("mean_average_precision", "mAP"))
                     if vals.get(key) is not None)
    print(f"{m['split'] + ':':<15} {m['num_examples']} examples, {head}"
          + ("  (validation split: optimistic)" if m["split"] != "test" else ""))
    print(f"load it:        zoo.load({str(r.folder)!r})")


def cmd_publish(a):
    from zoo.publish import publish
    plan = publish(a.name, repo_id=a.repo_id, dry_run=a.dry_run)
    if a.json:
        _print_json(plan)
        return
    verb = "would upload" if a.dry_run else "uploaded"
    print(f"{verb} {len(plan['files'])} files to {plan['repo_id']}:")
    for f in plan["files"]:
        print(f"  {f['path']:<22} {f['bytes']:>10} bytes  {f['sha256']}")
    print(f"{plan['repo_id']}: {plan['namespace_note']}")


def cmd_index(a):
    from zoo import registry
    models = registry.write_index()
    print(f"wrote {registry.INDEX_PATH} with {len(models)} models")


def _demo_input(inp, i, ex) -> str:
    """A line a person can read for one demo input: the text, or the benchmark row it is."""
    if isinstance(inp, str):
        return repr(inp)
    import re
    rows = re.search(r"load\('([^']+)', '([^']+)'\) rows \[([\d, ]+)\]", ex.get("source", ""))
    first = ", ".join(f"{v:.3f}" for v in inp[:4])
    if rows:
        ids = [int(v) for v in rows.group(3).split(",")]
        where = f"{rows.group(1)} {rows.group(2)} row {ids[i] if i < len(ids) else i}"
    else:
        where = f"example {i + 1}"
    return f"{where}: {len(inp)} features ({first}, ...)"


def cmd_demo(a):
    """Label bundled example inputs with bundled checkpoints, offline."""
    import zoo
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    shown = 0
    for spec in sorted(EXAMPLES.glob("*.json")):
        ex = json.loads(spec.read_text())
        if ex["model"] not in zoo.list_models():
            continue
        model = zoo.load(ex["model"])
        print(f"\n== {ex['model']}: {ex['description']}")
        sets = model.predict_labels(ex["inputs"], return_scores=True)
        truths = ex.get("true_labels", [None] * len(sets))
        for i, (inp, truth, s) in enumerate(zip(ex["inputs"], truths, sets)):
            print(f"  {_demo_input(inp, i, ex)}")
            print("    predicted: " + (", ".join(f"{lab} ({p:.2f})" for lab, p in s) or "(none)"))
            if truth is not None:
                print("    true:      " + (", ".join(truth) or "(none)"))
        shown += 1
    if not shown:
        print("no bundled checkpoint with examples found (run `zoo list`)")
        return 1


def cmd_leaderboard(a):
    from zoo import leaderboard as lb
    from zoo.errors import NotFoundError
    rows = lb.leaderboard(a.dataset, extra=a.extra)
    if not rows and a.dataset is not None:
        from zoo.data import catalog
        from zoo.naming import did_you_mean
        known = sorted(set(catalog.names()) | {r["dataset"] for r in
                                               lb.leaderboard(None, extra=a.extra)})
        if a.dataset not in known:
            close = did_you_mean(a.dataset, known)
            raise NotFoundError(f"unknown dataset {a.dataset!r}" + (
                "; did you mean " + " or ".join(repr(c) for c in close) + "?" if close
                else f"; known: {', '.join(known)}"))
    if not rows:
        raise NotFoundError("no leaderboard rows" + (f" for {a.dataset}" if a.dataset else "")
                            + ": no checkpoint metrics and no baseline results were found (a "
                            "wheel ships only some; see `zoo list`, or run from a clone)")
    if a.markdown:
        from zoo._io import atomic_write_text
        atomic_write_text(a.markdown, lb.render_markdown_document(rows))
        print(f"wrote {a.markdown} ({len(rows)} rows)", file=sys.stderr)
    if a.json:
        _print_json(rows)
    else:
        print(lb.render_text(rows))


COMPARE_DESCRIPTION = """\
Score your own model's predicted probabilities on a zoo benchmark split with the zoo's
metric code (the metric dict of a checkpoint's metrics.json) and show the dataset's
leaderboard with your row (marked '>') next to the checkpoints and baselines.

SCORES file:
  .npy  float array (n, L): one row per example in the split's order, one column per label
        in the dataset's label order (zoo.data.load(D, "test").label_names)
  .csv  one row of L probabilities per example; with a header of label names the columns
        may be in any order (matched by name); without a header exactly L columns in the
        dataset's label order
Values must be probabilities in [0, 1]; logits are refused (apply a sigmoid first).
`zoo evaluate NAME --save-scores FILE` writes a checkpoint's scores in these formats.

Thresholds (decision metrics only: F1s, Hamming loss, subset accuracy, Jaccard; ranking
metrics such as mAP, P@k and one-error ignore them):
  default            one global cut, score > 0.5 (what the baselines use)
  --threshold T      one global cut T
  --thresholds X     X is a JSON file holding a number, a list of L cuts, a {label: cut}
                     dict, a rule dict ({"rule": "global"|"per_label"|"top_k"|
                     "at_least_one", ...}) or a zoo.json / metrics.json (its "thresholds");
                     or a checkpoint name (e.g. emotions/mlp) whose calibrated rule is used
Checkpoints decide with thresholds calibrated on the validation split, baselines with 0.5:
compare like with like, and tune your thresholds on validation data, never on test.
"""


def cmd_compare(a):
    from zoo import leaderboard as lb
    from zoo.compare import compare, describe_thresholds, leaderboard_row
    from zoo.modelcard import CARD_METRICS
    if a.add_to and a.split != "test":
        from zoo.errors import ZooError
        raise ZooError(f"--add-to: only test-split results go on the leaderboard, not {a.split!r}")
    thresholds = a.threshold if a.threshold is not None else a.thresholds
    result = compare(a.predictions, a.dataset, split=a.split, thresholds=thresholds,
                     name=a.name)
    row = leaderboard_row(result, source=a.predictions) if (a.add_to or a.split == "test") \
        else None
    if a.add_to:
        lb.add_user_row(a.add_to, row)
        print(f"saved the row {result['name']!r} ({a.dataset}) to {a.add_to}", file=sys.stderr)
    if a.json:
        _print_json(result)
        return
    print(f"{result['name']} on {result['dataset']} [{result['split']}], "
          f"{result['num_examples']} examples, thresholds: "
          f"{describe_thresholds(result['thresholds'])}")
    for key, label in CARD_METRICS:
        if key not in result["metrics"]:
            continue  # a metric group this dataset is not scored with (e.g. annotation)
        v = result["metrics"][key]
        print(f"  {label:<18} " + ("–" if v is None else f"{v:.4f}"))
    if row is None:
        print(f"\n(the leaderboard holds test-split results; this is {result['split']!r})")
        return
    rows = lb.leaderboard(a.dataset, extra=a.add_to)
    if not a.add_to:
        rows = lb.sort_rows(rows + [row])
    print()
    print(lb.render_text(rows, highlight=lambda r: r["kind"] == "user"
                         and r["name"] == row["name"]))


def _plot_scores(a):
    """(y, scores, label_names, rule or None, dataset, what) for `zoo plot pr/freq-f1`."""
    from zoo.data import benchmarks
    from zoo.errors import ZooError
    if a.scores:
        from zoo.compare import check_scores, read_scores
        if not a.dataset:
            raise ZooError("--scores needs --dataset (the benchmark the scores are for)")
        data = benchmarks.load(a.dataset, a.split)
        names = list(data.label_names)
        s, locate = read_scores(a.scores, names)
        s = check_scores(s, a.dataset, a.split, names, len(data), locate)
        return data.labels_dense(), s, names, None, a.dataset, Path(a.scores).name
    if not a.name:
        raise ZooError("give a checkpoint NAME, or --scores FILE with --dataset D")
    import zoo
    model = zoo.load(a.name)
    dataset = model.card["dataset"]
    if a.dataset and a.dataset != dataset:
        raise ZooError(f"{a.name} is a {dataset} checkpoint, not {a.dataset}")
    data = benchmarks.load(dataset, a.split)
    if list(data.label_names) != list(model.label_names):
        raise ZooError(f"{a.name}: the model's labels differ from {dataset}'s")
    return (data.labels_dense(), model.predict_proba(data.x), model.label_names,
            model.thresholds, dataset, a.name)


def cmd_plot(a):
    from zoo import plots
    if a.figure == "pr":
        y, s, names, _, dataset, what = _plot_scores(a)
        labels = [x.strip() for x in a.labels.split(",")] if a.labels else None
        k = len(labels) if labels else min(a.top_k, len(names))
        out = plots.pr_curves(y, s, names, a.out, labels=labels, top_k=a.top_k, title=(
            f"{what} on {dataset} [{a.split}]: precision-recall, "
            + (f"{k} labels" if labels or k == len(names)
               else f"{k} most frequent of {len(names)} labels")))
    elif a.figure == "freq-f1":
        from zoo.compare import describe_thresholds, resolve_thresholds
        from zoo.data import benchmarks
        y, s, names, rule, dataset, what = _plot_scores(a)
        spec = a.threshold if a.threshold is not None else a.thresholds
        rule = resolve_thresholds(spec if spec is not None else rule, names, dataset)
        train = benchmarks.load(dataset, a.frequency_split)
        freq = (train.labels_dense() == 1).sum(axis=0)
        out = plots.label_frequency_vs_f1(
            y, s, names, a.out, thresholds=rule, frequency=freq,
            frequency_label=f"positive examples in {dataset} {a.frequency_split}",
            annotate=a.annotate,
            title=f"{what} on {dataset} [{a.split}]: per-label F1\n"
                  f"(thresholds: {describe_thresholds(rule.to_dict())})")
    elif a.figure == "cooccurrence":
        out = plots.cooccurrence_heatmap(a.dataset, a.out, max_labels=a.max_labels,
                                         split=a.split, normalize=a.normalize)
    else:  # history
        from zoo.data.user_inputs import read_history
        history, best_epoch = read_history(a.source)
        out = plots.training_curves(history, a.out, best_epoch=best_epoch,
                                    title=a.title or f"training curves: {a.source}")
    print(out)


def cmd_baselines(a):
    from zoo import baselines
    kwargs = {"out": a.out} if a.out else {}
    baselines.run(datasets=a.dataset or baselines.ALL_DATASETS, **kwargs)


# Commands that never import TensorFlow/Keras (start in well under a second).
LIGHT_COMMANDS = {"list", "info", "download", "publish", "index", "leaderboard", "export"}


def auto_train_backend(recipe_ref, strategy=None):
    """The backend ``zoo train --backend auto`` picks for a recipe when ``$KERAS_BACKEND`` is
    not set: ``"jax"`` for an architecture recipe on a named feature dataset (MULAN) when jax
    is installed, no ``tf.distribute`` strategy is asked for and the machine has no NVIDIA GPU
    (``/dev/nvidia*``: TensorFlow uses a GPU by itself, a CPU-only jax wheel would not), else
    ``"tensorflow"``.

    The zoo's training path runs about 2.2x faster on the JAX backend on a CPU than on
    TensorFlow (``benchmarks/bench_speed.py``, docs/benchmarks.md); every feature
    architecture trains under both, and the saved ``.keras`` file loads under either. Text and
    image recipes stay on TensorFlow (their tokenizers and image decoding run TensorFlow ops).
    Re-running a checkpoint's recorded recipe (``zoo train yeast/mlp``) uses the backend its
    card records, so a retrain reproduces the published one as closely as possible.
    """
    import importlib.util

    from zoo.data import catalog
    from zoo.errors import ZooError
    from zoo.recipes import read_recipe
    import glob
    if strategy not in (None, "data-parallel") or importlib.util.find_spec("jax") is None \
            or glob.glob("/dev/nvidia[0-9]*"):
        return "tensorflow"
    try:
        recipe = read_recipe(recipe_ref)
    except ZooError:
        return "tensorflow"  # `zoo train` reports the recipe's problem itself
    dataset = recipe.get("dataset")
    if "finetune" in recipe or dataset not in catalog.names():
        return "tensorflow"
    if "_source_folder" in recipe:  # re-running a checkpoint: the backend it was trained on
        card = json.loads((Path(recipe["_source_folder"]) / "zoo.json").read_text())
        recorded = (card.get("training") or {}).get("backend")
        if recorded in ("tensorflow", "jax"):
            return recorded
    return "jax" if catalog.get(dataset).kind == "features" else "tensorflow"


def _choose_train_backend(a):
    """Set ``KERAS_BACKEND`` for ``zoo train`` before Keras is imported (``--backend``)."""
    from zoo.errors import ZooError
    choice = a.backend
    if choice == "auto":
        if os.environ.get("KERAS_BACKEND") or "keras" in sys.modules:
            return  # the user's backend, or the one this process already runs
        choice = auto_train_backend(a.recipe, a.strategy)
    if "keras" in sys.modules:
        import keras
        if keras.backend.backend() != choice:
            raise ZooError(f"--backend {choice}: Keras is already running on "
                           f"{keras.backend.backend()!r} in this process")
        return
    os.environ["KERAS_BACKEND"] = choice


def _check_backend(a):
    """Text models and exports need TensorFlow ops: refuse other Keras backends clearly."""
    if a.command not in ("predict", "evaluate", "export-model", "finetune", "train", "demo"):
        return
    if "keras" not in sys.modules:
        return
    import keras
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return
    from zoo.errors import ZooError
    name = getattr(a, "name", None) or getattr(a, "base", None)
    if a.command == "export-model":
        raise ZooError(f"export-model needs KERAS_BACKEND=tensorflow (it is {backend!r})")
    if name:
        import zoo
        try:
            from zoo import kinds
            kind = kinds.of_card(zoo.info(name))
        except ZooError:
            return  # the command reports the name problem itself
        if not kind.numeric:
            raise ZooError(f"{name} is a text model: its tokenizer runs TensorFlow string ops, "
                           f"which the {backend!r} Keras backend cannot run; use "
                           "KERAS_BACKEND=tensorflow (the default)")


def main(argv=None) -> int:
    from zoo import __version__
    from zoo._quiet import set_env_defaults
    set_env_defaults()  # before anything can import TensorFlow
    p = argparse.ArgumentParser(prog="zoo", description="A Keras 3 model zoo for multi-label classification.")
    p.add_argument("--version", action="version", version=f"zoo {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("list", help="pretrained model names")
    s.add_argument("pattern", nargs="?")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=cmd_list)

    s = sub.add_parser("info", help="model card and metrics of a checkpoint")
    s.add_argument("name")
    s.add_argument("--json", action="store_true", help="the raw card and metrics as JSON")
    s.set_defaults(fn=cmd_info)

    s = sub.add_parser("download", help="fetch and verify a checkpoint; prints its folder")
    s.add_argument("name")
    s.add_argument("--revision")
    s.set_defaults(fn=cmd_download)

    s = sub.add_parser("export-data", help="write a benchmark split as CSV (the `zoo "
                       "finetune` input format), optionally a subset of its labels, renamed",
                       description="Write a benchmark split (zoo.data.load) as a CSV file: the "
                       "input columns, then one column 'label:<name>' per label (1/0), which "
                       "`zoo finetune` and zoo.data.read_any read without options.")
    s.add_argument("dataset", help="a benchmark name (`zoo.data.list_datasets()`)")
    s.add_argument("--split", default="train_full",
                   help="train_full (default), train, valid or test")
    s.add_argument("--out", required=True, metavar="FILE.csv")
    s.add_argument("--labels", metavar="A,B,C", help="export only these labels, in this order")
    s.add_argument("--rename", metavar="OLD=NEW,...", help="rename exported labels")
    s.add_argument("--layout", choices=("columns", "list"), default="columns",
                   help="columns: one 1/0 column per label (default); list: one 'labels' "
                        "column of names joined by '|'")
    s.set_defaults(fn=cmd_export_data)

    s = sub.add_parser("export-model", help="export a checkpoint as a TensorFlow SavedModel, "
                       "TFLite or ONNX file (outputs probabilities)",
                       description="Export a checkpoint for serving: savedmodel (a folder), "
                       "tflite or onnx (a file, via tf2onnx). The export outputs probabilities; "
                       "the label names and the calibrated thresholds are written next to it "
                       "(<out>.labels.json, or zoo_labels.json inside the SavedModel folder).")
    s.add_argument("name")
    s.add_argument("--format", required=True, choices=("savedmodel", "tflite", "onnx"))
    s.add_argument("--out", required=True, metavar="PATH")
    s.add_argument("--force", action="store_true", help="replace an existing --out")
    s.set_defaults(fn=cmd_export_model)

    s = sub.add_parser("export", help="(split into export-data and export-model)",
                       add_help=False)
    s.add_argument("rest", nargs=argparse.REMAINDER)
    s.set_defaults(fn=cmd_export_removed)

    s = sub.add_parser("predict", help="label sets for inputs (CSV/.npy feature rows, image "
                       "files, or text files with one document per line)",
                       description="Label sets for inputs. Feature models: CSV or .npy files of "
                       "feature rows. Image models: image files. Text models: text files with "
                       "one document per line, '-' for standard input, or --text \"a document\" "
                       "(repeatable).")
    s.add_argument("name")
    s.add_argument("inputs", nargs="*", metavar="FILE")
    s.add_argument("--text", action="append", metavar="STRING",
                   help="a document to classify (text models; repeatable)")
    s.add_argument("--threshold", type=float)
    s.add_argument("--json", action="store_true", help="print rows {id, labels} as JSON")
    s.add_argument("--out", metavar="PREDS.csv",
                   help="write id, labels and one score column per label to this CSV")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--progress", action="store_true", default=None,
                   help="show a progress bar (default: on a terminal, for long inputs)")
    g.add_argument("--no-progress", dest="progress", action="store_false")
    s.set_defaults(fn=cmd_predict)

    s = sub.add_parser("evaluate", help="metrics of a checkpoint on its dataset split")
    s.add_argument("name")
    s.add_argument("--split", default="test")
    s.add_argument("--json", action="store_true")
    s.add_argument("--save-scores", metavar="FILE",
                   help="also write the split's probabilities to FILE (.npy, or .csv with a "
                        "header of label names), e.g. for `zoo compare` or `zoo plot`")
    s.set_defaults(fn=cmd_evaluate)

    s = sub.add_parser("train", help="train the checkpoint a recipe describes (a recipe TOML, "
                                     "or a checkpoint: re-run the recipe it recorded)")
    s.add_argument("recipe", help="recipes/<dataset>/<arch>.toml, or a checkpoint folder or name "
                                  "(trained or fine-tuned) whose recorded recipe is re-run")
    s.add_argument("--out", help="checkpoint folder (default: checkpoints/<dataset>-<arch>)")
    s.add_argument("--force", action="store_true",
                   help="without --out: replace an existing checkpoints/<dataset>-<arch>")
    s.add_argument("--workers", type=int, metavar="N",
                   help="start N local worker processes (MultiWorkerMirroredStrategy, "
                        "localhost ports); the recipe's batch_size is the global batch "
                        "(docs/scaling.md)")
    s.add_argument("--strategy", choices=["mirrored", "multiworker", "tpu", "data-parallel"],
                   default=os.environ.get("ZOO_STRATEGY") or None,
                   help="distribute this process's training: mirrored (the GPUs of this "
                        "machine), multiworker (one worker of a cluster, configured by "
                        "TF_CONFIG), tpu, data-parallel (Keras distribution API, JAX backend);"
                        " default $ZOO_STRATEGY or none")
    s.add_argument("--backend", choices=["auto", "tensorflow", "jax"], default="auto",
                   help="Keras backend to train on; auto (default): $KERAS_BACKEND when set, "
                        "else JAX for a recipe on a named feature dataset when jax is "
                        "installed (about 2x faster on a CPU, docs/benchmarks.md), else "
                        "TensorFlow")
    s.set_defaults(fn=cmd_train)

    s = sub.add_parser(
        "finetune", help="fine-tune a checkpoint (or train an architecture) on your own data",
        description="Fine-tune BASE (a pretrained name, a checkpoint folder or an architecture "
                    "name for fresh weights) on data files (CSV, TSV, JSONL, ARFF, libsvm, image "
                    "folder). A new label set gets a new head; see zoo.finetune.")
    s.add_argument("base")
    s.add_argument("--train", required=True, metavar="FILE")
    s.add_argument("--valid", metavar="FILE", help="default: 10%% of --train, stratified")
    s.add_argument("--test", metavar="FILE", help="scored into metrics.json (else: valid)")
    s.add_argument("--out", required=True, metavar="DIR", help="checkpoint folder to write")
    s.add_argument("--epochs", type=int)
    s.add_argument("--freeze-epochs", type=int, default=0, metavar="N",
                   help="first N epochs train only the new head")
    s.add_argument("--learning-rate", type=float)
    s.add_argument("--batch-size", type=int)
    s.add_argument("--patience", type=int, help="early-stopping patience (epochs)")
    s.add_argument("--loss", help="a zoo.losses name (bce, asl, focal, ...); default: the base's")
    s.add_argument("--pos-weight", metavar="auto|W1,W2,...",
                   help="BCE positive weights: auto (#neg/#pos per label) or one per label")
    s.add_argument("--label-columns", metavar="A,B,C",
                   help="binary label columns (or one glob pattern such as 'y_*')")
    s.add_argument("--label-column", metavar="COL", help="one column of label lists")
    s.add_argument("--label-separator", help="separator inside a label-list cell")
    s.add_argument("--text-column", metavar="COL", help="the input text column")
    s.add_argument("--feature-columns", metavar="A,B,C",
                   help="numeric input columns (or one glob pattern such as 'f_*'); default: "
                        "every column that is not a label (an id column would be a feature)")
    s.add_argument("--input-mismatch", choices=["refuse", "retrain"], default="refuse",
                   help="a different feature width: refuse (default) or retrain the input layers")
    s.add_argument("--allow-empty-labels", action="store_true",
                   help="keep labels without a positive training example")
    s.add_argument("--name", help="the card's '<dataset>/<arch>' name (default custom/<arch>)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--overwrite", action="store_true", help="replace an existing --out folder")
    s.set_defaults(fn=cmd_finetune)

    s = sub.add_parser("publish", help="upload a checkpoint folder to the Hugging Face Hub")
    s.add_argument("name")
    s.add_argument("--repo-id")
    s.add_argument("--dry-run", action="store_true")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=cmd_publish)

    s = sub.add_parser("index", help="regenerate zoo/_index.json from checkpoints/")
    s.set_defaults(fn=cmd_index)

    s = sub.add_parser("demo", help="label bundled example inputs offline")
    s.set_defaults(fn=cmd_demo)

    s = sub.add_parser("leaderboard", help="checkpoints and baselines, test metrics per dataset")
    s.add_argument("--dataset")
    s.add_argument("--json", action="store_true")
    s.add_argument("--markdown", metavar="PATH", help="write the markdown leaderboard here")
    s.add_argument("--extra", action="append", metavar="USER.json",
                   help="also show the user rows of this results file (written by `zoo "
                        "compare --add-to`); repeatable; never included unless given")
    s.set_defaults(fn=cmd_leaderboard)

    s = sub.add_parser("compare", help="score your own test-split probabilities against the "
                       "leaderboard", description=COMPARE_DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("predictions", metavar="SCORES", help="a .npy or .csv score file")
    s.add_argument("--dataset", required=True, help="the benchmark (`zoo.data.list_datasets()`)")
    s.add_argument("--split", default="test", help="default test (the leaderboard's split)")
    s.add_argument("--name", help="name of your row (default: the file name without suffix)")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--threshold", type=float, metavar="T", help="one global cut (default 0.5)")
    g.add_argument("--thresholds", metavar="FILE|NAME",
                   help="a JSON thresholds file or a checkpoint name (see above)")
    s.add_argument("--json", action="store_true", help="print the metric dict as JSON")
    s.add_argument("--add-to", metavar="USER.json",
                   help="save the row to this user results file (`zoo leaderboard --extra`)")
    s.set_defaults(fn=cmd_compare)

    s = sub.add_parser("plot", help="figures: PR curves, frequency vs F1, co-occurrence, "
                       "training curves (needs matplotlib)")
    psub = s.add_subparsers(dest="figure", required=True)
    for fig, text in (("pr", "precision-recall curves of the most frequent labels"),
                      ("freq-f1", "label frequency (log) vs per-label F1 scatter")):
        f = psub.add_parser(fig, help=text, description=text + ": of a checkpoint (NAME) on "
                            "its dataset's split, or of a score file (--scores, --dataset)")
        f.add_argument("name", nargs="?", metavar="NAME", help="a checkpoint, e.g. emotions/mlp")
        f.add_argument("--scores", metavar="FILE", help="a .npy/.csv score file instead")
        f.add_argument("--dataset", help="the benchmark of --scores")
        f.add_argument("--split", default="test")
        f.add_argument("--out", required=True, metavar="FIG.png")
        if fig == "pr":
            f.add_argument("--labels", help="comma-separated label names to draw")
            f.add_argument("--top-k", type=int, default=8,
                           help="draw the K most frequent labels (default 8)")
        else:
            t = f.add_mutually_exclusive_group()
            t.add_argument("--threshold", type=float, metavar="T", help="one global cut")
            t.add_argument("--thresholds", metavar="FILE|NAME", help="as in `zoo compare`; "
                           "default: the checkpoint's calibrated rule, or 0.5 for --scores")
            f.add_argument("--frequency-split", default="train_full",
                           help="split whose positives give the x axis (default train_full)")
            f.add_argument("--annotate", type=int, default=8,
                           help="name the N most frequent labels (default 8)")
        f.set_defaults(fn=cmd_plot)
    f = psub.add_parser("cooccurrence", help="heatmap of normalized label co-occurrence")
    f.add_argument("--dataset", required=True)
    f.add_argument("--split", default="train_full")
    f.add_argument("--max-labels", type=int, default=30,
                   help="show the N most frequent labels (default 30)")
    f.add_argument("--normalize", choices=("conditional", "jaccard", "count"),
                   default="conditional",
                   help="conditional: P(column | row) (default); jaccard; count")
    f.add_argument("--out", required=True, metavar="FIG.png")
    f.set_defaults(fn=cmd_plot)
    f = psub.add_parser("history", help="loss and metrics per epoch")
    f.add_argument("source", metavar="HISTORY.json|NAME",
                   help="a JSON {metric: [per epoch]} (or {\"history\": ..., \"best_epoch\": "
                        "N}) file, or a checkpoint whose card records a history")
    f.add_argument("--title")
    f.add_argument("--out", required=True, metavar="FIG.png")
    f.set_defaults(fn=cmd_plot)

    s = sub.add_parser("baselines", help="refit the classical baselines into the results file")
    s.add_argument("--dataset", action="append", help="repeatable; default: every MULAN and text benchmark")
    s.add_argument("--out", help="results file (default results/baselines.json)")
    s.set_defaults(fn=cmd_baselines)

    a = p.parse_args(argv)
    from zoo.errors import ZooError
    try:
        if a.command == "train" and a.workers is None:
            _choose_train_backend(a)
        if a.command not in LIGHT_COMMANDS and getattr(a, "workers", None) is None:
            from zoo._quiet import import_backend  # (the --workers launcher needs no backend)
            import_backend()  # TensorFlow's start-up log lines are dropped
        _check_backend(a)
        return a.fn(a) or 0
    except BrokenPipeError:  # `zoo list | head`: the reader left; not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except (ZooError, OSError) as e:  # OSError: files, network, Hub HTTP errors
        print(f"zoo {a.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
