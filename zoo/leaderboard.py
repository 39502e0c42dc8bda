"""The leaderboard: every checkpoint's test metrics next to the classical baselines.

Rows come from five sources, never mixed up:

* ``"checkpoint"`` — each checkpoint folder's ``metrics.json`` (the test-split metrics that
  ``zoo evaluate`` computes), found via :func:`zoo.registry.scan_checkpoints`;
* ``"baseline"`` — ``results/baselines.json``, written by :func:`zoo.baselines.run`
  (``zoo baselines``);
* ``"peer"`` — another multi-label library (LibMultiLabel 0.10.0) trained with its own
  example configs on the zoo's exact splits, its test scores scored by the zoo's metric code:
  ``results/peers.json``, written by ``benchmarks/peers/score.py`` (:func:`peer_rows`). They
  are named ``<library>-<version>/<model>`` and carry their config; they sit in each dataset's
  table and get their own "zoo vs peers" summary, never the baseline comparison;
* ``"user"`` — results a researcher scored with ``zoo compare`` (:func:`zoo.compare.compare`)
  and saved with ``--add-to`` to a user results file (:func:`add_user_row`); only read when
  asked (``zoo leaderboard --extra FILE``, ``leaderboard(extra=...)``), so they never enter
  the generated ``docs/leaderboard.md`` by default;
* ``"published"`` — numbers typed in from papers, each with its citation, read from the
  files ``results/published/<dataset>.json`` (:func:`read_published`; format below). Only
  datasets whose protocol (split and metric definition) matches the papers' have one: so far
  ``corel5k-images`` (TagProp and 2PKNN+ML in the top-5 image-annotation protocol). No MULAN
  number could be confirmed to use the standard split and the same metric definitions, and an
  unverified number is worse than none.

Datasets whose rows carry the image-annotation metrics (``annot_top5_*``,
:func:`zoo.metrics.annotation_metrics`; corel5k-images) get four more columns (P, R, F1, N+ of
the top-5 protocol, :data:`ANNOTATION_COLUMNS`) and the annotation F1 in the "zoo vs
baselines" summary; the other datasets' tables keep exactly :data:`COLUMNS`.

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

KINDS = ("checkpoint", "baseline", "peer", "user", "published")
USER_FORMAT = 1  # the "format" of a user results file (see add_user_row)
# Table columns: (metric key, header). Keys are zoo.metrics.evaluate's.
COLUMNS = [
    ("micro_f1", "Micro-F1"), ("macro_f1", "Macro-F1"), ("example_f1", "Example-F1"),
    ("hamming_loss", "Hamming loss ↓"), ("mean_average_precision", "mAP"),
    ("one_error", "One-error ↓"), ("ranking_loss", "Ranking loss ↓"),
]
LOWER_IS_BETTER = {"hamming_loss", "one_error", "ranking_loss", "coverage"}
#: The image-annotation columns (top-5 protocol), added to the tables of datasets whose rows
#: have these metrics (:func:`columns_for`).
ANNOTATION_COLUMNS = [
    ("annot_top5_precision", "Annot. P@5"), ("annot_top5_recall", "Annot. R@5"),
    ("annot_top5_f1", "Annot. F1@5"), ("annot_top5_n_plus", "N+"),
]
#: Cell formats other than 4 decimals (N+ is a count of labels).
FORMATS = {"annot_top5_n_plus": "{:.0f}"}

#: Where the published reference rows live: one ``<dataset>.json`` per dataset.
PUBLISHED_DIR = Path(__file__).resolve().parents[1] / "results" / "published"
PUBLISHED_FORMAT = 1
#: The peer-library results (``benchmarks/peers/score.py`` writes it).
PEERS_PATH = Path(__file__).resolve().parents[1] / "results" / "peers.json"
PEERS_FORMAT = 1


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
    baselines, ``"peer (<config file>[, <epochs run>/<config epochs> epochs])"`` for peer rows
    (:func:`peer_label`), else the kind."""
    if row["kind"] == "baseline":
        return "baseline (tuned)" if row.get("tuned") else "baseline (untuned)"
    if row["kind"] == "peer":
        return peer_label(row)
    return row["kind"]


def peer_label(row: dict) -> str:
    """The Kind cell of a peer row: its config file, and for a trained-by-epochs model the
    epochs run of the config's.

    >>> peer_label({"config": {"file": "benchmarks/peers/configs/kim_cnn.yml"},
    ...             "details": {"epochs_run": 3, "epochs_config": 50}})
    'peer (kim_cnn.yml, 3/50 epochs)'
    """
    cfg = row.get("config") or {}
    d = row.get("details") or {}
    bits = [Path(cfg["file"]).name] if cfg.get("file") else []
    if d.get("epochs_run") and d.get("epochs_config"):
        bits.append(f"{d['epochs_run']}/{d['epochs_config']} epochs")
    return f"peer ({', '.join(bits)})" if bits else "peer"


def read_published(path) -> list[dict]:
    """The rows of one published-results file, checked.

    Layout: ``{"format": 1, "dataset", "description", "rows": [row, ...]}``, each row
    ``{"dataset" (= the file's), "name", "kind": "published", "metrics": {<zoo.metrics keys>:
    number}, "citation", ["as_published", "notes"]}``; metric values are fractions (the
    papers' percentages / 100) except counts such as ``annot_top5_n_plus``.

    Example::

        >>> rows = read_published(PUBLISHED_DIR / "corel5k-images.json")   # doctest: +SKIP
        >>> [(r["name"], r["metrics"]["annot_top5_f1"]) for r in rows]      # doctest: +SKIP
        [('TagProp σML', 0.37), ('2PKNN+ML', 0.45)]
    """
    from zoo.errors import DataFormatError
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataFormatError(f"not a valid JSON published-results file ({e})",
                              path=path) from None
    if not isinstance(doc, dict) or doc.get("format") != PUBLISHED_FORMAT \
            or not isinstance(doc.get("rows"), list) or not isinstance(doc.get("dataset"), str):
        raise DataFormatError(f'not a published-results file: expected {{"format": '
                              f'{PUBLISHED_FORMAT}, "dataset": ..., "rows": [...]}}', path=path)
    out = []
    for i, r in enumerate(doc["rows"]):
        if not (isinstance(r, dict) and isinstance(r.get("name"), str)
                and isinstance(r.get("metrics"), dict) and r["metrics"]):
            raise DataFormatError(f"row {i} needs a string 'name' and a non-empty 'metrics' "
                                  "dict", path=path)
        if r.get("dataset", doc["dataset"]) != doc["dataset"]:
            raise DataFormatError(f"row {i} ({r['name']}) is for dataset {r['dataset']!r}, the "
                                  f"file for {doc['dataset']!r}", path=path)
        bad = [k for k, v in r["metrics"].items()
               if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)]
        if bad:
            raise DataFormatError(f"row {i} ({r['name']}): metric(s) {bad} are not finite "
                                  "numbers", path=path)
        out.append(dict(r, dataset=doc["dataset"], source=path.name))
    return out


def published_files(folder=None) -> list[Path]:
    """The published-results files (``*.json`` in :data:`PUBLISHED_DIR`), sorted; none if the
    folder does not exist (e.g. an installed wheel without ``results/``)."""
    folder = Path(PUBLISHED_DIR if folder is None else folder)
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def published_rows(rows=None) -> list[dict]:
    """Published reference rows (default: every file of :data:`PUBLISHED_DIR`), checked: each
    must carry a non-empty ``citation``."""
    if rows is None:
        rows = [r for f in published_files() for r in read_published(f)]
    for r in rows:
        if not str(r.get("citation", "")).strip():
            raise ValueError(f"published row {r.get('dataset')}/{r.get('name')} has no citation")
    return [dict(r, kind="published") for r in rows]


def read_peers(path=None) -> dict:
    """The peer results file (default :data:`PEERS_PATH`), checked; a missing file reads as
    no rows (an installed wheel has no ``results/``).

    Layout: ``{"format": 1, "description", "generated", "zoo_version", "rows": [row, ...]}``,
    each row ``{"dataset", "name": "<library>-<version>/<model>", "kind": "peer", "library",
    "version", "config": {"name", "file", "sha256", "source", "changes", "values"}, "seed",
    "wall_seconds", "hardware", "split": "test", "num_examples", "thresholds", "note",
    "scores": {"file", "sha256"}, "metrics": {<zoo.metrics.evaluate keys>: float or null}}``.

    Example::

        >>> rows = read_peers()["rows"]                                      # doctest: +SKIP
        >>> sorted({r["name"] for r in rows})[0]                             # doctest: +SKIP
        'libmultilabel-0.10.0/kimcnn-rand-emb'
    """
    from zoo.errors import DataFormatError
    path = Path(PEERS_PATH if path is None else path)
    if not path.is_file():
        return {"format": PEERS_FORMAT, "rows": []}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataFormatError(f"not a valid JSON peer results file ({e})", path=path) from None
    if not isinstance(doc, dict) or doc.get("format") != PEERS_FORMAT \
            or not isinstance(doc.get("rows"), list):
        raise DataFormatError(f'not a peer results file: expected {{"format": {PEERS_FORMAT}, '
                              '"rows": [...]}} (written by benchmarks/peers/score.py)', path=path)
    for i, r in enumerate(doc["rows"]):
        if not (isinstance(r, dict) and isinstance(r.get("dataset"), str)
                and isinstance(r.get("name"), str) and isinstance(r.get("metrics"), dict)):
            raise DataFormatError(f"row {i} needs a string 'dataset' and 'name' and a "
                                  "'metrics' dict", path=path)
        missing = [k for k in ("library", "version", "config") if not r.get(k)]
        if missing:
            raise DataFormatError(f"row {i} ({r['dataset']}/{r['name']}) lacks {missing}: a "
                                  "peer row must say which library, version and config", path=path)
        if r.get("split", "test") != "test":
            raise DataFormatError(f"row {i} ({r['dataset']}/{r['name']}) is not on the test "
                                  "split", path=path)
    return doc


def peer_rows(path=None) -> list[dict]:
    """The rows of the peer results file (:func:`read_peers`), each tagged ``kind="peer"``."""
    return [dict(r, kind="peer") for r in read_peers(path)["rows"]]


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
                published=None, extra=None, peers=None) -> list[dict]:
    """All leaderboard rows (optionally of one ``dataset``), sorted by dataset, kind, name.

    Args:
        dataset: keep only this dataset's rows.
        checkpoints: the checkpoints folder (default :func:`zoo.registry.checkpoints_dir`).
        results: the baselines results file (default ``results/baselines.json``).
        published: published rows (default: the files in :data:`PUBLISHED_DIR`).
        extra: user results file(s) to add (``kind="user"`` rows, :func:`add_user_row`);
            default none.
        peers: the peer results file (``kind="peer"`` rows; default: ``peers.json`` in the
            folder of the baselines results file, i.e. :data:`PEERS_PATH`).
    """
    if peers is None:
        from zoo.baselines import RESULTS_PATH
        peers = Path(RESULTS_PATH if results is None else results).parent / PEERS_PATH.name
    rows = (checkpoint_rows(checkpoints) + baseline_rows(results) + peer_rows(peers)
            + user_rows(extra) + published_rows(published))
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


def _fmt(key, v) -> str:
    return FORMATS.get(key, "{:.4f}").format(v)


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
            s = _fmt(k, v)
            # Compare at the printed precision so that equal-looking numbers are marked alike.
            cells.append(mark(s) if bests[k] is not None and s == _fmt(k, bests[k]) else s)
        out.append(cells)
    return out


def has_annotation(rows) -> bool:
    """Whether any of ``rows`` carries an image-annotation metric (``annot_top5_*``)."""
    keys = {k for k, _ in ANNOTATION_COLUMNS}
    return any(_value(r, k) is not None for r in rows for k in keys & set(r["metrics"]))


def columns_for(rows, columns=COLUMNS) -> list:
    """The columns of one dataset's table: ``columns``, plus :data:`ANNOTATION_COLUMNS` when
    the dataset's rows carry annotation metrics (corel5k-images); other datasets keep
    ``columns`` unchanged.

    >>> [h for _, h in columns_for([{"metrics": {"annot_top5_f1": 0.4}}], [("micro_f1", "F")])]
    ['F', 'Annot. P@5', 'Annot. R@5', 'Annot. F1@5', 'N+']
    >>> columns_for([{"metrics": {"micro_f1": 0.4}}], [("micro_f1", "F")])
    [('micro_f1', 'F')]
    """
    columns = list(columns)
    if has_annotation(rows):
        columns += [c for c in ANNOTATION_COLUMNS if c not in columns]
    return columns


def _by_dataset(rows):
    groups: dict[str, list] = {}
    for r in rows:
        groups.setdefault(r["dataset"], []).append(r)
    return groups


def render_markdown(rows: list[dict], columns=COLUMNS) -> str:
    """One markdown table per dataset, best value per column in bold (ours only).

    A dataset whose rows carry annotation metrics gets the :data:`ANNOTATION_COLUMNS` too
    (:func:`columns_for`). Published rows go in a separate table under each dataset, never
    bolded or compared, with only the columns they report.
    """
    out = []
    for dataset, group in _by_dataset(rows).items():
        ours = [r for r in group if r["kind"] != "published"]
        pub = [r for r in group if r["kind"] == "published"]
        cols = columns_for(group, columns)
        out += [f"## {dataset}", ""]
        if ours:
            out += ["| Model | Kind | " + " | ".join(h for _, h in cols) + " |",
                    "|---|---|" + "---:|" * len(cols)]
            for r, cells in zip(ours, _cells(ours, cols, lambda s: f"**{s}**")):
                out.append(f"| {r['name']} | {kind_label(r)} | " + " | ".join(cells) + " |")
            out.append("")
        if pub:
            pcols = [c for c in cols if any(_value(r, c[0]) is not None for r in pub)] or cols
            out += ["Published (not reproduced here; protocol may differ):", "",
                    "| Model | Source | " + " | ".join(h for _, h in pcols) + " |",
                    "|---|---|" + "---:|" * len(pcols)]
            for r, cells in zip(pub, _cells(pub, pcols, lambda s: s)):
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
        cols = columns_for(group, columns)
        heads = [("  " if flagged else "") + "model", "kind"] + [h.replace(" ↓", "(-)")
                                                                 for _, h in cols]
        body = ([[name(r), kind_label(r)] + c for r, c in zip(ours, _cells(ours, cols,
                                                                        lambda s: s + "*"))]
                + [[name(r), "published"] + c for r, c in zip(pub, _cells(pub, cols,
                                                                         lambda s: s))])
        widths = [max(len(x) for x in col) for col in zip(heads, *body)]
        fmt = lambda cells: "  ".join(  # noqa: E731
            c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
        out += [f"== {dataset}", fmt(heads)] + [fmt(c) for c in body] + [""]
    if out:
        extra = [f"{k} rows included" for k in ("user", "peer") if any(r["kind"] == k
                                                                      for r in rows)]
        if extra:
            out.append(f"* best per column among the rows above ({', '.join(extra)}, "
                       "published rows excluded); (-) lower is better")
        else:
            out.append("* best of ours per column; (-) lower is better")
        if flagged:
            out.append("> the row being compared")
    return "\n".join(out)


INTRO = """\
# Leaderboard

Test-split metrics of every checkpoint in `checkpoints/` and of the classical baselines in
`results/baselines.json`, on the standard splits: MULAN's train/test files, Reuters-21578
ModApte with the 90 topics present in both train and test ("R90", 7770 / 3019 documents),
GoEmotions' official train/dev/test (43410 / 5426 / 5427 comments, 28 labels), and for
corel5k-images (5,000 Corel photos, 260 tags) the image-annotation split of Duygulu et al.
(ECCV 2002: 4500 / 499 photos). Generated by
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
  sigmoid of the decision function so that the 0.5 cut is the SVM's own sign rule. On the
  image set (corel5k-images) the baselines are `img-br-lr` and `img-mlknn`: the same `br-lr`
  and `mlknn` on the features of a frozen ImageNet EfficientNet-Lite0 (the zoo's
  `imagenet-efficientnet-lite0` backbone, photos resized to 224 x 224, its 7 x 7 x 1280 map
  global-average pooled to 1280 numbers per photo; nothing of the backbone is trained). The
  backbone, image size and pooling of each row are in `results/baselines.json` (`encoder`).
  The MULAN `corel5k` table is the same photo collection with MULAN's features instead of
  pixels (499 binary "blob" words per photo, 374 keywords, MULAN's 4500 / 500 split): a
  reference for the feature baselines, not the same task or label set.
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
* **published** rows: numbers copied from papers with their citation
  (`results/published/<dataset>.json`), shown in a separate table under the dataset and never
  bolded or compared. Only corel5k-images has them: TagProp σML (Guillaumin et al., ICCV 2009)
  and 2PKNN+ML (Verma & Jawahar, ECCV 2012), in the top-5 image-annotation protocol, with
  hand-crafted features rather than a CNN. No MULAN number could be verified to use the same
  split and metric definitions.
* **Annotation columns** (corel5k-images only): the Corel5k image-annotation protocol of
  those papers (`zoo.metrics.annotation_metrics`): every test photo is annotated with its 5
  best-scored tags; Annot. P@5 and R@5 are the per-tag precision and recall averaged over all
  260 tags (a tag never predicted has precision 0), Annot. F1@5 = 2PR/(P+R) of the two means,
  N+ the number of tags with recall > 0. They use no threshold: untuned and tuned rows of a
  baseline differ there only by their hyper-parameters and training rows (`train_full` vs
  `train`).

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
# The extra summary measure of datasets with annotation metrics (threshold-free: top 5 scores).
ANNOTATION_SUMMARY_KEYS = (("annot_top5_f1", "annotation F1@5"),)


def summary_keys(rows) -> tuple:
    """The summary measures of one dataset's rows: :data:`SUMMARY_KEYS`, plus the annotation
    F1 (top-5 protocol) when its rows carry annotation metrics."""
    return SUMMARY_KEYS + (ANNOTATION_SUMMARY_KEYS if has_annotation(rows) else ())


def _top(rows: list[dict], key: str):
    """The row with the highest ``key`` value (the first of equals), or None if none has one."""
    scored = [r for r in rows if _value(r, key) is not None]
    return max(scored, key=lambda r: _value(r, key)) if scored else None


def zoo_vs_baselines(rows: list[dict]) -> list[dict]:
    """Per dataset and summary measure: the best checkpoint against the best **tuned** baseline.

    A dataset without tuned baseline rows is compared with its untuned ones (and says so in
    ``baseline_tuned``). The measures are :func:`summary_keys` (datasets with annotation
    metrics, corel5k-images, add the top-5 annotation F1). Returns rows ``{"dataset",
    "metric", "zoo", "zoo_value", "baseline", "baseline_value", "baseline_tuned",
    "zoo_wins"}`` for datasets that have both kinds; a tie is not a win. Published rows are
    never compared.
    """
    out = []
    for dataset, drows in _by_dataset(rows).items():
        ours = [r for r in drows if r["kind"] == "checkpoint"]
        baselines = [r for r in drows if r["kind"] == "baseline"]
        tuned = [r for r in baselines if r.get("tuned")]
        theirs = tuned or baselines
        if not ours or not theirs:
            continue
        for key, _ in summary_keys(ours + theirs):
            a, b = _top(ours, key), _top(theirs, key)
            if a is None or b is None:
                continue
            va, vb = _value(a, key), _value(b, key)
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
    annot = sorted({c["dataset"] for c in comp if c["metric"] in dict(ANNOTATION_SUMMARY_KEYS)})
    if annot:
        lines[-1] += (" Datasets scored in the image-annotation protocol also compare its top-5"
                      " annotation F1 (threshold-free: each image's 5 best-scored labels): "
                      f"{', '.join(annot)}.")
    if untuned:
        lines[-1] += (" Datasets without tuned baseline rows are compared with the untuned "
                      f"ones: {', '.join(untuned)}.")
    lines += ["", "| dataset | measure | best zoo | best baseline | zoo ahead? |",
              "|---|---|---|---|---|"]
    label = dict(SUMMARY_KEYS + ANNOTATION_SUMMARY_KEYS)
    for c in comp:
        lines.append(f"| {c['dataset']} | {label[c['metric']]} | {c['zoo']} {c['zoo_value']:.4f}"
                     f" | {c['baseline']} {c['baseline_value']:.4f} |"
                     f" {'yes' if c['zoo_wins'] else '**no**'} |")
    return "\n".join(lines) + "\n"


def zoo_vs_peers(rows: list[dict]) -> list[dict]:
    """Per dataset, peer row and summary measure: the best checkpoint against that peer row.

    Peer rows (``kind="peer"``, another library on the same splits) are compared one by one,
    not pooled, because each is a different library model and config; they never enter
    :func:`zoo_vs_baselines`. Returns rows ``{"dataset", "peer", "metric", "zoo", "zoo_value",
    "peer_value", "zoo_wins"}``; a tie is not a win.

    >>> rows = [{"dataset": "d", "name": "c", "kind": "checkpoint", "metrics": {"micro_f1": 0.7}},
    ...         {"dataset": "d", "name": "lib-1/m", "kind": "peer", "metrics": {"micro_f1": 0.6}}]
    >>> [(c["peer"], c["metric"], c["zoo_wins"]) for c in zoo_vs_peers(rows)]
    [('lib-1/m', 'micro_f1', True)]
    """
    out = []
    for dataset, drows in _by_dataset(rows).items():
        ours = [r for r in drows if r["kind"] == "checkpoint"]
        peers = [r for r in drows if r["kind"] == "peer"]
        if not ours or not peers:
            continue
        for p in peers:
            for key, _ in summary_keys(ours + [p]):
                vp, a = _value(p, key), _top(ours, key)
                if vp is None or a is None:
                    continue
                out.append({"dataset": dataset, "peer": p["name"], "metric": key,
                            "zoo": a["name"], "zoo_value": _value(a, key), "peer_value": vp,
                            "zoo_wins": _value(a, key) > vp})
    return out


def render_peer_summary(rows: list[dict]) -> str:
    """Markdown "Zoo vs peers": one line per dataset and peer row, one cell per measure."""
    comp = zoo_vs_peers(rows)
    if not comp:
        return ""
    label = dict(SUMMARY_KEYS + ANNOTATION_SUMMARY_KEYS)
    keys = [k for k in label if any(c["metric"] == k for c in comp)]
    wins = sum(c["zoo_wins"] for c in comp)
    lines = ["## Zoo vs peers", "",
             f"Best checkpoint against each peer-library row (same splits, same metric code): "
             f"the zoo is ahead in {wins} of {len(comp)} comparisons. Each cell: best zoo value "
             "(checkpoint) vs the peer's; the peers decide with their library's default rule "
             "(no threshold tuning), the checkpoints with thresholds calibrated on `valid`; "
             "mAP is threshold-free. Configs, epochs and embeddings of the peer rows are in "
             "`results/peers.json`.", "",
             "| dataset | peer | " + " | ".join(label[k] for k in keys) + " |",
             "|---|---|" + "---|" * len(keys)]
    groups: dict = {}
    for c in comp:
        groups.setdefault((c["dataset"], c["peer"]), {})[c["metric"]] = c
    for (dataset, peer), cells in groups.items():
        out = []
        for k in keys:
            c = cells.get(k)
            if c is None:
                out.append("–")
                continue
            arch = c["zoo"].split("/", 1)[-1]
            mark = "yes" if c["zoo_wins"] else "**no**"
            out.append(f"{mark}: {c['zoo_value']:.4f} ({arch}) vs {c['peer_value']:.4f}")
        lines.append(f"| {dataset} | {peer} | " + " | ".join(out) + " |")
    return "\n".join(lines) + "\n"


PEER_NOTE = """\
* **peer** rows (named `<library>-<version>/<model>`, from `results/peers.json`): another
  multi-label library, [LibMultiLabel](https://github.com/ASUS-AICS/LibMultiLabel) 0.10.0,
  run from an isolated environment (not a zoo dependency) with its own example configs for
  the nearest dataset it ships configs for (RCV1), on our exact `train` / `valid` / `test`
  splits; its test scores are scored by the zoo's metric code. `linear-1vsrest`: its
  LIBLINEAR one-vs-rest (L2-loss SVM, `-s 1 -B 1 -e 0.0001`) on its default TF-IDF features,
  trained on `train`. `kimcnn-rand-emb`, `xmlcnn-rand-emb`: its KimCNN and XML-CNN, early
  stopping and best epoch on `valid`, but with **randomly initialised word embeddings**
  (the configs' GloVe vectors cannot be downloaded here) and **fewer epochs than the configs'
  50** (CPU budget; each row's `note` in the JSON says how many). Decisions use the library's
  default rule (decision value > 0, or sigmoid > 0.5), not tuned on `valid`. Bold values take
  peer rows into account. Reproduce: [compare.md](compare.md#peer-libraries-libmultilabel).
"""


def render_markdown_document(rows: list[dict], results=None) -> str:
    """The whole ``docs/leaderboard.md``: :data:`INTRO`, the tables, the skipped baselines."""
    from zoo.baselines import RESULTS_PATH, read_results
    doc = read_results(RESULTS_PATH if results is None else results)
    datasets = {r["dataset"] for r in rows}
    skipped = [s for s in doc.get("skipped", []) if s["dataset"] in datasets or not rows]
    parts = [INTRO, render_summary(rows), render_peer_summary(rows), render_markdown(rows)]
    if any(r["kind"] == "user" for r in rows):
        parts.insert(1, USER_NOTE)
    if any(r["kind"] == "peer" for r in rows):
        parts.insert(1, PEER_NOTE)
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
