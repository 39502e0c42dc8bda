"""The leaderboard: every checkpoint's test metrics next to the classical baselines.

Rows come from four sources, never mixed up:

* ``"checkpoint"`` — each checkpoint folder's ``metrics.json`` (the test-split metrics that
  ``zoo evaluate`` computes), found via :func:`zoo.registry.scan_checkpoints`;
* ``"baseline"`` — ``results/baselines.json``, written by :func:`zoo.baselines.run`
  (``zoo baselines``);
* ``"user"`` — results a researcher scored with ``zoo compare`` (:func:`zoo.compare.compare`)
  and saved with ``--add-to`` to a user results file (:func:`add_user_row`); only read when
  asked (``zoo leaderboard --extra FILE``, ``leaderboard(extra=...)``), so they never enter
  the generated ``docs/leaderboard.md`` by default;
* ``"published"`` — numbers typed in from papers, each with its exact citation
  (:data:`PUBLISHED`). It is deliberately empty: no number from the literature was found whose
  protocol (MULAN's standard train/test split, same metric definition) could be confirmed
  exactly, and an unverified number is worse than none.

Every row is ``{"dataset", "name", "kind", "metrics": {<zoo.metrics.evaluate keys>}, ...}``.

Example::

    >>> rows = [{"dataset": "d", "name": "a", "kind": "baseline",
    ...          "metrics": {"micro_f1": 0.5, "hamming_loss": 0.2}},
    ...         {"dataset": "d", "name": "b", "kind": "baseline",
    ...          "metrics": {"micro_f1": 0.6, "hamming_loss": 0.3}}]
    >>> md = render_markdown(rows, columns=[("micro_f1", "Micro-F1"), ("hamming_loss", "HL")])
    >>> "| b | baseline (untuned) | **0.6000** | 0.3000 |" in md
    True
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from zoo.errors import CheckpointError

KINDS = ("checkpoint", "baseline", "user", "published")
USER_FORMAT = 1  # the "format" of a user results file (see add_user_row)
# Table columns: (metric key, header). Keys are zoo.metrics.evaluate's.
COLUMNS = [
    ("micro_f1", "Micro-F1"), ("macro_f1", "Macro-F1"), ("example_f1", "Example-F1"),
    ("hamming_loss", "Hamming loss ↓"), ("mean_average_precision", "mAP"),
    ("one_error", "One-error ↓"), ("ranking_loss", "Ranking loss ↓"),
]
LOWER_IS_BETTER = {"hamming_loss", "one_error", "ranking_loss", "coverage"}

# Published reference rows: {"dataset", "name", "kind": "published", "metrics", "citation"}
# with "citation" naming the paper AND the table. Intentionally empty (see module docstring).
PUBLISHED: list[dict] = []


def checkpoint_rows(root=None) -> list[dict]:
    """One row per checkpoint folder under ``root`` (default: the checkpoints dir) that has a
    test-split ``metrics.json``; folders without one (still training) are left out."""
    from zoo.registry import checkpoints_dir, folder_name, scan_checkpoints
    root = checkpoints_dir() if root is None else Path(root)
    rows = []
    for name, rec in scan_checkpoints(root).items():
        path = Path(root) / folder_name(name) / "metrics.json"
        if not path.is_file():
            continue
        try:
            m = json.loads(path.read_text())
        except json.JSONDecodeError as e:
            raise CheckpointError(f"{path}: not valid JSON ({e})") from None
        if m.get("split", "test") != "test" or not isinstance(m.get("metrics"), dict):
            continue
        rows.append({"dataset": rec["dataset"], "name": name, "kind": "checkpoint",
                     "architecture": rec["architecture"], "metrics": m["metrics"],
                     "threshold": (m.get("thresholds") or {}).get("rule")})
    return rows


def baseline_rows(path=None) -> list[dict]:
    """The rows of the baselines results file (``results/baselines.json`` by default); each
    carries ``tuned`` (True: hyper-parameters and thresholds chosen on valid)."""
    from zoo.baselines import RESULTS_PATH, read_results
    doc = read_results(RESULTS_PATH if path is None else path)
    return [dict(r, kind="baseline", tuned=bool(r.get("tuned"))) for r in doc.get("rows", [])]


def kind_label(row: dict) -> str:
    """The Kind cell of a row: ``"baseline (tuned)"`` / ``"baseline (untuned)"`` for
    baselines, else the kind."""
    if row["kind"] == "baseline":
        return "baseline (tuned)" if row.get("tuned") else "baseline (untuned)"
    return row["kind"]


def published_rows(rows=None) -> list[dict]:
    """Published reference rows, checked: each must carry a non-empty ``citation``."""
    rows = PUBLISHED if rows is None else rows
    for r in rows:
        if not str(r.get("citation", "")).strip():
            raise ValueError(f"published row {r.get('dataset')}/{r.get('name')} has no citation")
    return [dict(r, kind="published") for r in rows]


def read_user_results(path) -> dict:
    """A user results file (what ``zoo compare --add-to PATH`` writes), checked.

    Layout: ``{"format": 1, "description": ..., "rows": [row, ...]}``, each row
    ``{"dataset", "name", "kind": "user", "split": "test", "num_examples", "thresholds",
    "threshold", "metrics": {<zoo.metrics.evaluate keys>: float or null}, "added",
    "zoo_version", "source": {"file", "sha256"}}``. A missing file reads as no rows.
    """
    from zoo.errors import DataFormatError
    path = Path(path)
    if not path.exists():
        return {"format": USER_FORMAT, "rows": []}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataFormatError(f"not a valid JSON user results file ({e})", path=path) from None
    if not isinstance(doc, dict) or doc.get("format") != USER_FORMAT \
            or not isinstance(doc.get("rows"), list):
        raise DataFormatError(f'not a user results file: expected {{"format": {USER_FORMAT}, '
                              '"rows": [...]}} (written by `zoo compare --add-to`)', path=path)
    for i, r in enumerate(doc["rows"]):
        if not (isinstance(r, dict) and isinstance(r.get("dataset"), str)
                and isinstance(r.get("name"), str) and isinstance(r.get("metrics"), dict)):
            raise DataFormatError(f"row {i} needs a string 'dataset' and 'name' and a "
                                  "'metrics' dict", path=path)
        if r.get("split", "test") != "test":
            raise DataFormatError(f"row {i} ({r['dataset']}/{r['name']}) is not on the test "
                                  "split", path=path)
    return doc


def user_rows(paths) -> list[dict]:
    """The rows of one or more user results files, each tagged ``kind="user"``."""
    if paths is None:
        return []
    if isinstance(paths, (str, Path)):
        paths = [paths]
    return [dict(r, kind="user") for p in paths for r in read_user_results(p)["rows"]]


def add_user_row(path, row: dict) -> dict:
    """Add ``row`` (from :func:`zoo.compare.leaderboard_row`) to the user results file at
    ``path`` (created if missing), replacing a row of the same dataset and name; atomic."""
    from zoo._io import atomic_write_text
    doc = read_user_results(path)
    rows = [r for r in doc["rows"] if (r["dataset"], r["name"]) != (row["dataset"], row["name"])]
    rows.append(dict(row, kind="user"))
    doc = {"format": USER_FORMAT,
           "description": doc.get("description") or (
               "Test-split results scored with `zoo compare` from user-supplied predictions; "
               "the zoo computed the metrics but did not produce or verify the predictions."),
           "rows": sorted(rows, key=lambda r: (r["dataset"], r["name"]))}
    atomic_write_text(path, json.dumps(doc, indent=1, sort_keys=True, allow_nan=False) + "\n")
    return doc


def leaderboard(dataset: str | None = None, *, checkpoints=None, results=None,
                published=None, extra=None) -> list[dict]:
    """All leaderboard rows (optionally of one ``dataset``), sorted by dataset, kind, name.

    Args:
        dataset: keep only this dataset's rows.
        checkpoints: the checkpoints folder (default :func:`zoo.registry.checkpoints_dir`).
        results: the baselines results file (default ``results/baselines.json``).
        published: published rows (default :data:`PUBLISHED`).
        extra: user results file(s) to add (``kind="user"`` rows, :func:`add_user_row`);
            default none.
    """
    rows = (checkpoint_rows(checkpoints) + baseline_rows(results) + user_rows(extra)
            + published_rows(published))
    if dataset is not None:
        rows = [r for r in rows if r["dataset"] == dataset]
    return sort_rows(rows)


def sort_rows(rows: list[dict]) -> list[dict]:
    """Rows in leaderboard order: by dataset, then kind (:data:`KINDS` order), then name."""
    kind_order = {k: i for i, k in enumerate(KINDS)}
    return sorted(rows, key=lambda r: (r["dataset"], kind_order.get(r["kind"], 9), r["name"]))


def _value(row, key):
    v = row["metrics"].get(key)
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def best(rows: list[dict], key: str) -> float | None:
    """The best value of metric ``key`` among ``rows`` (min for lower-is-better metrics)."""
    vals = [v for v in (_value(r, key) for r in rows) if v is not None]
    if not vals:
        return None
    return min(vals) if key in LOWER_IS_BETTER else max(vals)


def _cells(rows, columns, mark):
    """Formatted cells; the best value per column (ties included) wrapped by ``mark``."""
    bests = {k: best(rows, k) for k, _ in columns}
    out = []
    for r in rows:
        cells = []
        for k, _ in columns:
            v = _value(r, k)
            if v is None:
                cells.append("–")
                continue
            s = f"{v:.4f}"
            # Compare at the printed precision so that equal-looking numbers are marked alike.
            cells.append(mark(s) if bests[k] is not None and s == f"{bests[k]:.4f}" else s)
        out.append(cells)
    return out


def _by_dataset(rows):
    groups: dict[str, list] = {}
    for r in rows:
        groups.setdefault(r["dataset"], []).append(r)
    return groups


def render_markdown(rows: list[dict], columns=COLUMNS) -> str:
    """One markdown table per dataset, best value per column in bold (ours only).

    Published rows go in a separate table under each dataset, never bolded or compared.
    """
    out = []
    for dataset, group in _by_dataset(rows).items():
        ours = [r for r in group if r["kind"] != "published"]
        pub = [r for r in group if r["kind"] == "published"]
        out += [f"## {dataset}", ""]
        header = "| Model | Kind | " + " | ".join(h for _, h in columns) + " |"
        rule = "|---|---|" + "---:|" * len(columns)
        if ours:
            out += [header, rule]
            for r, cells in zip(ours, _cells(ours, columns, lambda s: f"**{s}**")):
                out.append(f"| {r['name']} | {kind_label(r)} | " + " | ".join(cells) + " |")
            out.append("")
        if pub:
            out += ["Published (not reproduced here; protocol may differ):", "",
                    header.replace("| Kind |", "| Source |"), rule]
            for r, cells in zip(pub, _cells(pub, columns, lambda s: s)):
                out.append(f"| {r['name']} | {r['citation']} | " + " | ".join(cells) + " |")
            out.append("")
    return "\n".join(out)


def render_text(rows: list[dict], columns=COLUMNS, highlight=None) -> str:
    """The terminal table: per dataset, best value per column (ours only) marked with ``*``.

    ``highlight``: a predicate on rows; the rows it accepts are flagged with ``>`` (``zoo
    compare`` flags the row being compared).
    """
    out = []
    flagged = highlight is not None and any(highlight(r) for r in rows)
    name = ((lambda r: ("> " if highlight(r) else "  ") + r["name"]) if flagged
            else (lambda r: r["name"]))
    for dataset, group in _by_dataset(rows).items():
        ours = [r for r in group if r["kind"] != "published"]
        pub = [r for r in group if r["kind"] == "published"]
        heads = [("  " if flagged else "") + "model", "kind"] + [h.replace(" ↓", "(-)")
                                                                 for _, h in columns]
        body = ([[name(r), kind_label(r)] + c for r, c in zip(ours, _cells(ours, columns,
                                                                        lambda s: s + "*"))]
                + [[name(r), "published"] + c for r, c in zip(pub, _cells(pub, columns,
                                                                         lambda s: s))])
        widths = [max(len(x) for x in col) for col in zip(heads, *body)]
        fmt = lambda cells: "  ".join(  # noqa: E731
            c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
        out += [f"== {dataset}", fmt(heads)] + [fmt(c) for c in body] + [""]
    if out:
        if any(r["kind"] == "user" for r in rows):
            out.append("* best per column among the rows above (user rows included, published"
                       " rows excluded); (-) lower is better")
        else:
            out.append("* best of ours per column; (-) lower is better")
        if flagged:
            out.append("> the row being compared")
    return "\n".join(out)


INTRO = """\
# Leaderboard

Test-split metrics of every checkpoint in `checkpoints/` and of the classical baselines in
`results/baselines.json`, on the standard splits: MULAN's train/test files, Reuters-21578
ModApte with the 90 topics present in both train and test ("R90", 7770 / 3019 documents), and
GoEmotions' official train/dev/test (43410 / 5426 / 5427 comments, 28 labels). Generated by
`zoo leaderboard --markdown docs/leaderboard.md`; do not edit by hand (refit the baselines with
`zoo baselines`, retrain a checkpoint with `zoo train`).

* **checkpoint** rows: the checkpoint's `metrics.json`. Trained on `train` (official train minus
  a stratified 10% `valid` carve-out, used for early stopping and threshold calibration);
  decisions use the thresholds calibrated on `valid` (rule in the checkpoint's `zoo.json`).
* **baseline (untuned)** rows (`zoo.baselines`, named `br-lr`, `ecc-lr`, ...): fitted on the
  whole official train split (`train_full`), no tuning at all, fixed decision threshold 0.5 on
  their probabilities. `br-lr`: binary relevance with L2 logistic regression (C=1, features
  standardized when dense). `ecc-lr`: ensemble of 10 classifier chains (Read et al., Machine
  Learning 2011), random label orders, bootstrap samples, same logistic regression,
  probabilities averaged. `mlknn`: ML-kNN (Zhang & Zhou, Pattern Recognition 2007), k=10, s=1,
  Euclidean distance on min-max scaled features; 0.5 is its MAP rule. These three run on the
  MULAN (feature) sets. On the raw-text sets (reuters21578, goemotions) the baselines are
  TF-IDF ones instead, the vectorizer fitted on the train texts only (unigrams + bigrams in
  >= 2 train documents, at most 100k, sublinear tf, L2-normalized rows): `tfidf-br-lr`, binary
  relevance with the same logistic regression (C=1), and `tfidf-br-svm`, one-vs-rest linear
  SVM (LinearSVC, C=1, as in Joachims, ECML 1998 and Lewis et al., JMLR 2004), its score the
  sigmoid of the decision function so that the 0.5 cut is the SVM's own sign rule.
* **baseline (tuned)** rows (named `<baseline>-tuned`): the checkpoints' treatment. Fitted on
  `train`; the hyper-parameters (C for LR/SVM, k for ML-kNN, leaf size/depth for the random
  forest) chosen on `valid` from a small grid, together with the decision rule (one global cut
  tuned for micro-F1, or per-label F1 cuts with the 0.5 fallback, the tuners `zoo train`
  uses): each candidate is scored by the mean of micro- and macro-F1 with its rule tuned on
  one half of `valid` and applied to the other (both ways), so per-label cuts cannot win by
  overfitting `valid`; the winner's rule is re-tuned on all of `valid`. Two extra baselines
  only have tuned rows: `br-svm` (binary relevance with a linear SVM on standardized features)
  and `rf` (a multi-output random forest, 100 trees). Grids, trials and the choice are in
  `results/baselines.json` (`selection`).
* **published** rows would be numbers copied from papers with their exact citation, shown in
  a separate table and never compared; there are none yet (none could be verified to use the
  same split and metric definitions).

Decision metrics (F1s, Hamming loss) of untuned baselines are uncalibrated; compare checkpoints
with the tuned rows (the summary below does). Ranking metrics (mAP = macro average precision, one-error, ranking
loss) do not depend on thresholds. Metric definitions: `docs/metrics.md`. Bold: best value
of the column among the rows of that dataset; ↓: lower is better. Macro-F1 averages over
all labels, including those without positive test examples (F1 = 0 there: 0/0 = 0), which
several MULAN test files have; mAP leaves such labels out (see `docs/metrics.md`).
"""


USER_NOTE = """\
* **user** rows (added with `zoo leaderboard --extra FILE`): test-split predictions
  supplied by a user and scored by `zoo compare` with the same metric code; the zoo did not
  produce or verify the predictions. Their decision rule is the one recorded in the row
  (default: a fixed 0.5 cut). Bold values take user rows into account.
"""


# The measures of the summary; every one is compared against the *tuned* baselines, whose
# thresholds are calibrated on valid like the checkpoints' (mAP is threshold-free anyway).
SUMMARY_KEYS = (("micro_f1", "micro-F1"), ("macro_f1", "macro-F1"), ("example_f1", "example-F1"),
                ("mean_average_precision", "mAP"))


def zoo_vs_baselines(rows: list[dict]) -> list[dict]:
    """Per dataset and summary measure: the best checkpoint against the best **tuned** baseline.

    A dataset without tuned baseline rows is compared with its untuned ones (and says so in
    ``baseline_tuned``). Returns rows ``{"dataset", "metric", "zoo", "zoo_value", "baseline",
    "baseline_value", "baseline_tuned", "zoo_wins"}`` for datasets that have both kinds; a tie
    is not a win.
    """
    out = []
    for dataset, drows in _by_dataset(rows).items():
        ours = [r for r in drows if r["kind"] == "checkpoint"]
        baselines = [r for r in drows if r["kind"] == "baseline"]
        tuned = [r for r in baselines if r.get("tuned")]
        theirs = tuned or baselines
        if not ours or not theirs:
            continue
        for key, _ in SUMMARY_KEYS:
            a = max(ours, key=lambda r: _value(r, key) if _value(r, key) is not None else -1)
            b = max(theirs, key=lambda r: _value(r, key) if _value(r, key) is not None else -1)
            va, vb = _value(a, key), _value(b, key)
            if va is None or vb is None:
                continue
            out.append({"dataset": dataset, "metric": key, "zoo": a["name"], "zoo_value": va,
                        "baseline": b["name"], "baseline_value": vb,
                        "baseline_tuned": bool(tuned), "zoo_wins": va > vb})
    return out


def render_summary(rows: list[dict]) -> str:
    """Markdown: where the best zoo checkpoint beats the best tuned baseline, and where not."""
    comp = zoo_vs_baselines(rows)
    if not comp:
        return ""
    wins = sum(c["zoo_wins"] for c in comp)
    untuned = sorted({c["dataset"] for c in comp if not c["baseline_tuned"]})
    lines = ["## Zoo vs baselines", "",
             f"Best checkpoint against the best **tuned** baseline per dataset and measure: the "
             f"zoo is ahead in {wins} of {len(comp)} comparisons. Tuned baselines get the "
             "checkpoints' treatment: fitted on `train`, hyper-parameters and decision rule "
             "chosen on `valid`, thresholds calibrated on `valid`; mAP is threshold-free."]
    if untuned:
        lines[-1] += (" Datasets without tuned baseline rows are compared with the untuned "
                      f"ones: {', '.join(untuned)}.")
    lines += ["", "| dataset | measure | best zoo | best baseline | zoo ahead? |",
              "|---|---|---|---|---|"]
    label = dict(SUMMARY_KEYS)
    for c in comp:
        lines.append(f"| {c['dataset']} | {label[c['metric']]} | {c['zoo']} {c['zoo_value']:.4f}"
                     f" | {c['baseline']} {c['baseline_value']:.4f} |"
                     f" {'yes' if c['zoo_wins'] else '**no**'} |")
    return "\n".join(lines) + "\n"


def render_markdown_document(rows: list[dict], results=None) -> str:
    """The whole ``docs/leaderboard.md``: :data:`INTRO`, the tables, the skipped baselines."""
    from zoo.baselines import RESULTS_PATH, read_results
    doc = read_results(RESULTS_PATH if results is None else results)
    datasets = {r["dataset"] for r in rows}
    skipped = [s for s in doc.get("skipped", []) if s["dataset"] in datasets or not rows]
    parts = [INTRO, render_summary(rows), render_markdown(rows)]
    if any(r["kind"] == "user" for r in rows):
        parts.insert(1, USER_NOTE)
    if skipped:
        parts += ["## Baselines not run", ""]
        parts += [f"* {s['dataset']} / {s['name']}: {s['reason']}" for s in skipped]
        parts.append("")
    hw = doc.get("hardware") or {}
    if doc.get("rows"):
        parts.append(f"Baselines generated {doc.get('generated')} with zoo {doc.get('zoo_version')}"
                     f" on {hw.get('cpu', '?')} ({hw.get('cores', '?')} cores, shared);"
                     " fit times are in `results/baselines.json`.\n")
    return "\n".join(parts)
