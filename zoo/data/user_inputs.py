"""User inputs and outputs of the ``zoo`` command, as library functions (``zoo.cli`` only parses
arguments and prints).

* :func:`read_feature_rows` — feature rows from ``.npy`` or a numeric CSV (a header line is
  recognised by rule, never by a parse failure; NaN/inf are refused with row and column);
* :func:`read_texts` — one document per line from a text file, or ``-`` for standard input;
* :func:`select_labels` — the ``zoo export-data --labels/--rename`` column choice, checked;
* :func:`prediction_records` / :func:`write_predictions_csv` — label sets with row ids, as
  JSON-ready dicts or a CSV file (``id, labels, score:<label>...``);
* :func:`predict_in_batches` — probabilities with an optional tqdm progress bar.

Example::

    >>> from zoo.data.user_inputs import read_texts
    >>> read_texts("texts.txt")          # doctest: +SKIP
    ['I love it', 'this is awful']
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

from zoo.errors import DataFormatError, ZooError

__all__ = ["read_feature_rows", "read_texts", "select_labels", "prediction_records",
           "write_predictions_csv", "predict_in_batches", "label_sets", "read_history"]


def _cells(line: str) -> list[str]:
    return [c.strip().strip('"') for c in line.rstrip("\r\n").split(",")]


def read_feature_rows(path, feature_names=None):
    """Feature rows (float32, shape (n, d)) from a ``.npy`` file or a numeric CSV.

    A first line is a header when every cell is non-numeric, or when its cells are the
    model's ``feature_names``; any other non-number is an error naming line and column (a
    bad first row is never dropped as a "header"). NaN and inf are refused with their row
    and column. A CSV in the layout ``zoo export-data`` writes (``label:<name>`` or
    ``labels`` columns) is read with :func:`zoo.data.read_any`, its label columns ignored.

    >>> read_feature_rows("rows.csv").shape      # doctest: +SKIP
    (3, 103)
    """
    import numpy as np

    from zoo.data.tabular import is_number
    path = Path(path)
    if path.suffix == ".npy":
        x = np.load(path, allow_pickle=False)
        if x.ndim != 2:
            raise DataFormatError(f"expected a 2-D array (rows, features), got shape {x.shape}",
                                  path=path)
        _check_finite(x, path, first_line=None)
        return x.astype(np.float32)
    try:
        with open(path, encoding="utf-8", newline="") as f:
            first = f.readline()
    except UnicodeDecodeError:
        raise DataFormatError("not a UTF-8 text file (expected a numeric CSV or .npy)",
                              path=path) from None
    header = _cells(first)
    if any(c.startswith("label:") for c in header) or "labels" in header:
        from zoo.data import read_any
        x = read_any(path).features_dense().astype(np.float32)
        _check_finite(x, path, first_line=2)
        return x
    known = [str(n) for n in feature_names] if feature_names is not None else None
    has_header = bool(first.strip()) and (
        all(not is_number(c) for c in header) or (known is not None and header == known))
    rows, lines = [], []
    with open(path, newline="", encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if lineno == 1 and has_header:
                continue
            if not line.strip():
                continue
            cells = _cells(line)
            for col, c in enumerate(cells, 1):
                if not is_number(c):
                    what = "an empty cell" if c == "" else repr(c)
                    raise DataFormatError(f"expected a number, got {what}", path=path,
                                          line=lineno, column=col)
            rows.append([float(c) for c in cells])
            lines.append(lineno)
    widths = {len(r) for r in rows}
    if len(widths) > 1:
        first_width = len(rows[0])
        bad = next(i for i, r in enumerate(rows) if len(r) != first_width)
        raise DataFormatError(f"expected {first_width} columns like line {lines[0]}, got "
                              f"{len(rows[bad])}", path=path, line=lines[bad])
    x = np.asarray(rows, dtype=np.float32)
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            if not math.isfinite(v):
                raise DataFormatError(f"not a finite number ({v}); the model needs finite "
                                      "inputs (impute missing values first)", path=path,
                                      line=lines[i], column=j + 1)
    return x


def _check_finite(x, path, first_line):
    import numpy as np
    bad = np.argwhere(~np.isfinite(np.asarray(x, dtype=np.float64)))
    if len(bad):
        r, c = (int(v) for v in bad[0])
        where = {"line": r + first_line} if first_line else {}
        raise DataFormatError(f"not a finite number at row {r + 1}, column {c + 1} "
                              f"({x[r, c]}); the model needs finite inputs (impute missing "
                              "values first)", path=path, column=c + 1, **where)


def read_texts(source, stdin=None) -> list[str]:
    """Documents for a text model, one per line, from a file or ``"-"`` (standard input).

    Empty lines are skipped (their line numbers are not documents). A missing file is an
    error that says how to pass a literal string (``zoo predict NAME --text "..."``).
    """
    if str(source) == "-":
        lines = (stdin or sys.stdin).read().splitlines()
    else:
        path = Path(source)
        if not path.is_file():
            raise ZooError(f"{source}: no such file (give a text file with one document per "
                           "line, '-' for standard input, or --text \"a document\")")
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError as e:
            raise DataFormatError(f"not UTF-8 text ({e.reason} at byte {e.start})",
                                  path=path) from None
    return [ln for ln in (x.strip() for x in lines) if ln]


def select_labels(names, labels: str | None = None, rename: str | None = None,
                  dataset: str = "the dataset"):
    """``(column indices, new names)`` for ``--labels A,B`` and ``--rename OLD=NEW,...``.

    >>> select_labels(["a", "b", "c"], "c,a", "a=x")
    ([2, 0], ['c', 'x'])
    """
    names = list(names)
    known = f"{dataset}'s labels are {names}"
    keep = [n.strip() for n in labels.split(",") if n.strip()] if labels else list(names)
    unknown = [n for n in keep if n not in names]
    if not keep:
        raise ZooError(f"--labels names no label; {known}")
    if unknown or len(set(keep)) != len(keep):
        raise ZooError(f"--labels: unknown or repeated label(s) "
                       f"{unknown or sorted({n for n in keep if keep.count(n) > 1})}; {known}")
    mapping = {}
    for pair in (rename.split(",") if rename else []):
        old, sep, new = (s.strip() for s in pair.partition("="))
        if not sep or not old or not new:
            raise ZooError(f"--rename takes OLD=NEW pairs separated by commas, got {pair!r}")
        if old not in keep:
            raise ZooError(f"--rename: {old!r} is not an exported label; exported: {keep}")
        mapping[old] = new
    new_names = [mapping.get(n, n) for n in keep]
    if len(set(new_names)) != len(new_names):
        raise ZooError(f"--rename: the new label names are not distinct: {new_names}")
    return [names.index(n) for n in keep], new_names


def predict_in_batches(model, x, batch_size: int = 1024, progress: bool | None = None):
    """``model.predict_proba(x)`` batch by batch, with a tqdm bar on standard error when
    ``progress`` is true (``None``: when stderr is a terminal and there is more than one
    batch)."""
    import numpy as np
    n = len(x) if not hasattr(x, "shape") else x.shape[0]
    if progress is None:
        progress = n > batch_size and sys.stderr.isatty()
    if not progress or n <= batch_size:
        return model.predict_proba(x, batch_size)
    from tqdm import tqdm
    out = []
    with tqdm(total=n, unit="row", file=sys.stderr, desc="predict") as bar:
        for i in range(0, n, batch_size):
            out.append(model.predict_proba(x[i:i + batch_size], batch_size))
            bar.update(len(out[-1]))
    return np.concatenate(out, axis=0)


def label_sets(proba, rule, label_names) -> list[list[tuple[str, float]]]:
    """Per row, ``[(label, probability), ...]`` of the labels ``rule`` predicts, most
    probable first."""
    import numpy as np
    pred = rule.apply(proba).astype(bool)
    out = []
    for p, row in zip(proba, pred):
        idx = np.flatnonzero(row)
        idx = idx[np.argsort(-p[idx], kind="stable")]
        out.append([(str(label_names[i]), float(p[i])) for i in idx])
    return out


def prediction_records(sets, ids=None, inputs=None) -> list[dict]:
    """JSON-ready rows: ``{"id": ..., "labels": [{"label", "probability"}], ["input"]}``."""
    ids = list(range(len(sets))) if ids is None else list(ids)
    out = []
    for i, s in enumerate(sets):
        rec = {"id": ids[i],
               "labels": [{"label": lab, "probability": round(p, 4)} for lab, p in s]}
        if inputs is not None:
            rec["input"] = inputs[i]
        out.append(rec)
    return out


def write_predictions_csv(path, proba, sets, label_names, ids=None) -> Path:
    """Write ``id, labels, score:<label>...`` (labels joined by ``|``, most probable first),
    atomically."""
    import csv
    import io

    from zoo._io import atomic_write_text
    ids = list(range(len(sets))) if ids is None else list(ids)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["id", "labels"] + [f"score:{n}" for n in label_names])
    for i, (p, s) in enumerate(zip(proba, sets)):
        w.writerow([ids[i], "|".join(lab for lab, _ in s)] + [f"{float(v):.6g}" for v in p])
    atomic_write_text(path, buf.getvalue())
    return Path(path)


def read_history(source):
    """``(history dict, best epoch or None)`` for ``zoo plot history``: from a JSON file
    (``{metric: [per epoch]}`` or ``{"history": ..., "best_epoch": N}``) or from the card of
    a checkpoint that records its per-epoch history."""
    import json
    path = Path(source)
    if path.is_file():
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise DataFormatError(f"not a JSON history file ({e})", path=path) from None
        if isinstance(doc, dict) and isinstance(doc.get("history"), dict):
            return doc["history"], doc.get("best_epoch")
        return doc, None
    import zoo
    training = zoo.info(source).get("training") or {}
    if not isinstance(training.get("history"), dict):
        raise ZooError(f"{source}: the checkpoint's card records no per-epoch history (only "
                       f"epochs_run={training.get('epochs_run')}, best_epoch="
                       f"{training.get('best_epoch')}); save zoo.train.fit(...).history to a "
                       "JSON file and plot that")
    return training["history"], training.get("best_epoch")
