"""Score your own model's predictions on a zoo benchmark: ``zoo compare`` and :func:`compare`.

A researcher brings the **probabilities** their model gives on a benchmark split (default the
official test split) and gets exactly the metric dict the zoo's checkpoints get
(:func:`zoo.metrics.evaluate`, as in a checkpoint's ``metrics.json``), plus a leaderboard row
next to the checkpoints and baselines.

Score files (see ``docs/compare.md``):

* ``.npy`` -- a float array of shape (n, L), columns in the dataset's label order
  (``zoo.data.load(dataset, split).label_names``), rows in the split's order;
* ``.csv`` -- one row of L probabilities per example. With a header of label names the
  columns may come in any order (they are matched by name); without a header there must be
  exactly L columns, in the dataset's label order.

Scores must be probabilities in [0, 1] (no NaN, no infinity): logits are refused, because a
cut such as the default 0.5 or a checkpoint's calibrated threshold only means the same thing
on the probability scale.

Thresholds (what turns probabilities into label sets for the decision metrics: F1s, Hamming
loss, subset accuracy, Jaccard) -- ranking metrics (mAP, P@k, one-error, ...) never use them:

* ``None`` -- one global cut at 0.5 (``score > 0.5``, strict), as the untuned baselines use;
* a number in [0, 1] (or a string holding one, ``"0.4"``) -- one global cut;
* a list of L numbers in [0, 1], or a ``{label name: cut}`` dict -- one cut per label;
* ``"top_k:K"`` -- the K best labels of each example; ``"at_least_one:SPEC"`` -- SPEC plus
  the best label of an example SPEC leaves empty;
* a rule dict ``{"rule": ...}`` (:func:`zoo.thresholds.from_dict`), or a dict holding one under
  ``"thresholds"`` (a checkpoint's ``zoo.json`` or ``metrics.json``, a ``compare`` result);
* a ``zoo.thresholds`` rule;
* a string: a JSON file holding any of the above, or a checkpoint name (``"emotions/mlp"``)
  whose calibrated rule is used.

Example::

    >>> import zoo, zoo.data
    >>> model = zoo.load("emotions/mlp")                                  # doctest: +SKIP
    >>> test = zoo.data.load("emotions", "test")                          # doctest: +SKIP
    >>> r = zoo.compare(model.predict_proba(test.x), "emotions",
    ...                 thresholds="emotions/mlp", name="mine")           # doctest: +SKIP
    >>> r["metrics"]["micro_f1"]                                          # doctest: +SKIP
    0.7050528789659224
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path

import numpy as np

from zoo.errors import DataFormatError, NotFoundError, ZooError

SCORE_SUFFIXES = (".npy", ".csv")


# ----------------------------------------------------------------------------- writing
def write_scores(path, scores, label_names) -> Path:
    """Write a score matrix (n, L) to ``path`` (``.npy`` or ``.csv``), atomically.

    The CSV has a header of the label names and one row per example; every value is written
    with Python's shortest round-trip repr, so reading it back gives bit-identical floats.
    """
    from zoo._io import atomic_write_bytes, atomic_write_text
    path = Path(path)
    s = np.asarray(scores)
    names = [str(n) for n in label_names]
    if s.ndim != 2 or s.shape[1] != len(names):
        raise DataFormatError(f"scores have shape {s.shape}, expected (n, {len(names)}) for "
                              f"{len(names)} labels")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        buf = io.BytesIO()
        np.save(buf, s, allow_pickle=False)
        atomic_write_bytes(path, buf.getvalue())
    elif suffix == ".csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(names)
        for row in s.tolist():
            buf.write(",".join(repr(float(v)) for v in row))
            buf.write("\n")
        atomic_write_text(path, buf.getvalue())
    else:
        raise DataFormatError(f"unknown score file type {path.suffix!r}; use .npy or .csv",
                              path=path)
    return path


# ----------------------------------------------------------------------------- reading
class _Locator:
    """Turns a (row, column) of the score matrix into words naming where it is."""

    def __init__(self, label_names, path=None, lines=None, columns=None):
        self.label_names = list(label_names)
        self.path = None if path is None else str(path)
        self.lines = lines        # CSV: file line of each data row
        self.columns = columns    # CSV: file column (0-based) of each label

    def __call__(self, r: int, c: int) -> str:
        label = self.label_names[c] if c < len(self.label_names) else "?"
        if self.lines is not None:
            col = self.columns[c] if self.columns is not None else c
            return f"{self.path}, line {self.lines[r]}, column {col + 1} (label {label!r})"
        where = f"row {r}, column {c} (0-based; label {label!r})"
        return f"{self.path}: {where}" if self.path else where


def _read_error(path, e) -> DataFormatError:
    why = getattr(e, "strerror", None) or str(e)
    return DataFormatError(f"cannot read the scores file: {why}", path=path)


def read_scores(path, label_names):
    """Read a ``.npy`` or ``.csv`` score file; CSV columns are put in ``label_names`` order.

    Returns ``(scores, locate)``: the (n, L) array (float, not yet range-checked) and a
    callable ``locate(row, col)`` naming the file position of an entry, for error messages.
    Raises ``DataFormatError`` naming the file (and line/column) when it cannot be used.
    """
    path = Path(path)
    names = [str(n) for n in label_names]
    suffix = path.suffix.lower()
    if suffix not in SCORE_SUFFIXES:
        raise DataFormatError(f"unknown score file type {path.suffix or '(none)'!r}; use .npy "
                              "(an (n, L) float array) or .csv (label names in the header)",
                              path=path)
    if not path.is_file():
        raise DataFormatError("no such file" if not path.exists() else "not a file", path=path)
    if suffix == ".npy":
        try:
            s = np.load(path, allow_pickle=False)
        except OSError as e:
            raise _read_error(path, e) from None
        except ValueError as e:  # pickled objects, corrupt header, truncated data
            raise DataFormatError(f"not a readable .npy array ({str(e).splitlines()[0]})",
                                  path=path) from None
        if not isinstance(s, np.ndarray):
            raise DataFormatError("expected one array (.npy), got an archive", path=path)
        if s.ndim != 2:
            raise DataFormatError(f"expected a 2-D (examples, labels) array, got shape "
                                  f"{s.shape}", path=path)
        if s.shape[1] != len(names):
            raise DataFormatError(_columns_message(s.shape[1], names), path=path)
        return s, _Locator(names, path)
    return _read_csv(path, names)


def _columns_message(got: int, names) -> str:
    shown = ", ".join(names[:10]) + (f", ... ({len(names)} in all)" if len(names) > 10 else "")
    return (f"expected {len(names)} columns, one per label in the dataset's order ({shown}), "
            f"got {got}")


def _is_number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


def _read_csv(path: Path, names: list[str]):
    from zoo.data.tabular import is_header_row
    try:
        with open(path, newline="", encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise _read_error(path, e) from None
    except UnicodeDecodeError:
        raise DataFormatError("not a UTF-8 text CSV file", path=path) from None
    reader = csv.reader(io.StringIO(text))
    header, columns = None, None
    rows, lines = [], []
    width = None
    try:
        for cells in reader:
            if not cells or all(not c.strip() for c in cells):
                continue  # blank line
            cells = [c.strip() for c in cells]
            line = reader.line_num
            if header is None and not rows and width is None:
                width = len(cells)
                # a header by rule (label names, or no number at all), never because a cell
                # failed to parse: a typo in a headerless first row is an error below
                if set(cells) == set(names) or is_header_row(cells, names):
                    header = cells
                    columns = _match_header(header, names, path, line)
                    continue
            if len(cells) != width:
                first = "header" if header else "first row"
                raise DataFormatError(f"{len(cells)} columns, the {first} has {width}",
                                      path=path, line=line)
            try:
                rows.append([float(c) for c in cells])
            except ValueError:
                bad = next(i for i, c in enumerate(cells) if not _is_number(c))
                raise DataFormatError(f"expected a probability, got {cells[bad]!r}", path=path,
                                      line=line, column=bad + 1) from None
            lines.append(line)
    except csv.Error as e:
        raise DataFormatError(f"malformed CSV ({e})", path=path, line=reader.line_num) from None
    if header is None:
        if width is None:
            raise DataFormatError("the file is empty", path=path)
        if width != len(names):
            raise DataFormatError(_columns_message(width, names) + "; a CSV with a header of "
                                  "label names may hold them in any order", path=path)
        columns = list(range(len(names)))
    s = np.asarray(rows, dtype=np.float64).reshape(len(rows), width)
    return s[:, columns], _Locator(names, path, lines, columns)


def _match_header(header, names, path, line) -> list[int]:
    """File column of each label in ``names`` order, or an error listing what is off."""
    seen, dups = {}, []
    for i, h in enumerate(header):
        if h in seen:
            dups.append(h)
        seen.setdefault(h, i)
    if dups:
        raise DataFormatError(f"duplicate label name(s) in the header: {sorted(set(dups))}",
                              path=path, line=line)
    missing = [n for n in names if n not in seen]
    unknown = [h for h in header if h not in set(names)]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing label(s) {missing}")
        if unknown:
            parts.append(f"unknown label(s) {unknown}")
        msg = ("the header must name every label of the dataset exactly once: "
               + "; ".join(parts) + f"; the dataset's labels are {names}")
        if any(u == "" or u.lower().startswith("unnamed") or u.lower() in ("id", "index")
               for u in unknown):
            msg += " (an index column? write the CSV without it, e.g. pandas' index=False)"
        raise DataFormatError(msg, path=path, line=line)
    return [seen[n] for n in names]


# ----------------------------------------------------------------------------- checking
def check_scores(scores, dataset: str, split: str, label_names, num_rows: int,
                 locate=None) -> np.ndarray:
    """The score matrix, checked: shape (num_rows, L), real numbers, finite, in [0, 1].

    Float arrays keep their dtype (so a checkpoint's float32 scores are scored bit for bit as
    ``zoo evaluate`` scores them); other real dtypes become float64.
    """
    names = list(label_names)
    locate = locate or _Locator(names)
    prefix = f"{locate.path}: " if getattr(locate, "path", None) else ""
    try:
        s = np.asarray(scores)
    except Exception as e:  # ragged lists
        raise DataFormatError(f"scores are not a rectangular array ({e})") from None
    if s.dtype == bool or not np.issubdtype(s.dtype, np.number) or np.iscomplexobj(s):
        raise DataFormatError(f"{prefix}scores must be real numbers (probabilities), got dtype "
                              f"{s.dtype}")
    if s.ndim != 2:
        raise DataFormatError(f"{prefix}scores must be a 2-D (examples, labels) array, got "
                              f"shape {s.shape}")
    if s.shape[1] != len(names):
        raise DataFormatError(prefix + _columns_message(s.shape[1], names))
    if s.shape[0] != num_rows:
        raise DataFormatError(f"{prefix}expected {num_rows} rows for {dataset} {split} (one per "
                              f"example, in the split's order), got {s.shape[0]}")
    if not np.issubdtype(s.dtype, np.floating) or s.dtype.itemsize < 4:
        s = s.astype(np.float64)
    bad = ~np.isfinite(s)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DataFormatError(f"{int(bad.sum())} score(s) are NaN or infinite, the first at "
                              f"{locate(int(r), int(c))}: {float(s[r, c])}")
    bad = (s < 0) | (s > 1)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DataFormatError(
            f"{int(bad.sum())} score(s) are outside [0, 1], the first at "
            f"{locate(int(r), int(c))}: {float(s[r, c])!r}. Scores must be probabilities; logits "
            "and other unbounded scores are refused (a cut like 0.5 or a checkpoint's threshold is "
            "only comparable on the probability scale): apply a sigmoid, 1 / (1 + exp(-z)), "
            "first")
    return s


# ----------------------------------------------------------------------------- thresholds
def resolve_thresholds(spec, label_names, dataset: str | None = None):
    """The ``zoo.thresholds`` rule that ``spec`` describes (see the module docstring).

    Everything but the references (a JSON file, a checkpoint name, a ``zoo.json`` /
    ``metrics.json`` dict with its dataset check) is parsed by :func:`zoo.thresholds.parse`,
    the one parser of threshold specs, so ``"top_k:3"``, ``"0.4"`` and ``1.5`` (refused) mean
    here what they mean in ``predict``.
    """
    from zoo import thresholds as th
    names = [str(n) for n in label_names]
    if isinstance(spec, (str, os.PathLike)):
        if isinstance(spec, str) and not Path(spec).exists() and _looks_like_spec(spec):
            return th.parse(spec, len(names), names)
        return _thresholds_from_ref(spec, names, dataset)
    if isinstance(spec, dict) and "rule" not in spec and isinstance(spec.get("thresholds"), dict):
        return _thresholds_from_card(spec, names, dataset)
    return th.parse(spec, len(names), names)


def _looks_like_spec(text: str) -> bool:
    """A string that is a threshold spec (a number, ``top_k:K``, ``at_least_one:...``)
    rather than a file or checkpoint name."""
    low = text.strip().lower()
    if low.startswith(("top", "at_least_one:", "at-least-one:")) and "/" not in low:
        return True
    try:
        float(low)
        return True
    except ValueError:
        return False


def _check_rule_width(rule, L: int):
    from zoo import thresholds as th
    th.parse(rule, L)


def _thresholds_from_card(d: dict, names, dataset):
    """The rule of a ``zoo.json`` / ``metrics.json`` / compare-result dict, checked."""
    from zoo import thresholds as th
    if dataset is not None and d.get("dataset") not in (None, dataset):
        raise DataFormatError(f"thresholds: they were calibrated for dataset "
                              f"{d['dataset']!r}, not {dataset!r}")
    if "label_names" in d and [str(n) for n in d["label_names"]] != names:
        raise DataFormatError("thresholds: their label names (order) differ from the "
                              "dataset's")
    return th.parse(th.from_dict(d["thresholds"]), len(names), names)


def _thresholds_from_ref(ref, names, dataset):
    path = Path(ref)
    if path.is_file():
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as e:
            raise _read_error(path, e) from None
        except json.JSONDecodeError as e:
            raise DataFormatError(f"thresholds file is not valid JSON ({e})", path=path) from None
        if isinstance(doc, str):
            raise DataFormatError("thresholds file holds a string; expected a number, a list, "
                                  "or a rule dict", path=path)
        try:
            return resolve_thresholds(doc, names, dataset)
        except DataFormatError as e:
            raise DataFormatError(e.reason, path=path) from None
    if path.suffix.lower() == ".json" or path.exists():
        raise DataFormatError("no such thresholds file" if not path.exists() else
                              "not a file", path=path)
    from zoo import api
    try:
        card = api.info(str(ref))
    except NotFoundError:
        raise ZooError(f"thresholds {str(ref)!r}: neither a JSON file nor a checkpoint name "
                       "(`zoo list` shows the names)") from None
    if dataset is not None and card.get("dataset") != dataset:
        raise ZooError(f"thresholds {str(ref)!r}: that checkpoint is for dataset "
                       f"{card.get('dataset')!r}, not {dataset!r}")
    if [str(n) for n in card.get("label_names", names)] != names:
        raise ZooError(f"thresholds {str(ref)!r}: the checkpoint's labels differ from the "
                       "dataset's")
    from zoo import thresholds as th
    rule = th.from_dict(card.get("thresholds") or {"rule": "global", "threshold": 0.5})
    _check_rule_width(rule, len(names))
    return rule


# ----------------------------------------------------------------------------- compare
def compare(scores, dataset: str, split: str = "test", thresholds=None,
            name: str | None = None) -> dict:
    """Score predicted probabilities for ``dataset``'s ``split`` like a zoo checkpoint.

    Args:
        scores: an (n, L) array of probabilities (rows in the split's order, columns in the
            dataset's label order) or the path of a ``.npy`` / ``.csv`` score file.
        dataset: a benchmark name (``zoo.data.list_datasets()``).
        split: ``"test"`` (the leaderboard's) or another split name.
        thresholds: the decision rule; default one global cut at 0.5 (module docstring).
        name: the name of the result row (default: the file's stem, or ``"scores"``).

    Returns:
        ``{"name", "dataset", "split", "num_examples", "thresholds", "metrics"}``, the layout
        of a checkpoint's ``metrics.json`` (undefined metric values are ``None``).

    Raises:
        DataFormatError: wrong row or column count, unknown or missing CSV label names, NaN or
            infinite values, values outside [0, 1], an unreadable file, a bad threshold spec.
    """
    from zoo import metrics
    from zoo.data import benchmarks
    data = benchmarks.load(dataset, split)
    names = [str(n) for n in data.label_names]
    source = None
    if isinstance(scores, (str, os.PathLike)):
        source = Path(scores)
        scores, locate = read_scores(source, names)
    else:
        locate = None
    s = check_scores(scores, dataset, split, names, len(data), locate)
    rule = resolve_thresholds(thresholds, names, dataset)
    values = metrics.evaluate(data.labels_dense(), s, y_pred=rule.apply(s))
    return {"name": name or (source.stem if source is not None else "scores"),
            "dataset": dataset, "split": split, "num_examples": len(data),
            "thresholds": rule.to_dict(),
            "metrics": {k: (float(v) if math.isfinite(v) else None) for k, v in values.items()}}


def describe_thresholds(rule: dict) -> str:
    """A short human description of a rule dict: ``"global cut 0.5"``, ``"per-label cuts"``."""
    name = rule.get("rule")
    if name == "global":
        return f"global cut {rule['threshold']:.6g}"
    if name == "per_label":
        return f"per-label cuts ({len(rule['thresholds'])} labels)"
    if name == "top_k":
        return f"top {rule['k']} labels per example"
    if name == "at_least_one":
        return describe_thresholds(rule["inner"]) + ", at least one label per example"
    return str(name)


def leaderboard_row(result: dict, source=None) -> dict:
    """The ``kind="user"`` leaderboard row of a :func:`compare` result (test split only)."""
    import datetime

    import zoo
    if result.get("split") != "test":
        raise ZooError(f"only test-split results go on the leaderboard, this one is on "
                       f"{result.get('split')!r}")
    row = {"dataset": result["dataset"], "name": result["name"], "kind": "user",
           "split": "test", "num_examples": result["num_examples"],
           "thresholds": result["thresholds"], "threshold": result["thresholds"].get("rule"),
           "metrics": result["metrics"], "added": datetime.date.today().isoformat(),
           "zoo_version": zoo.__version__}
    if source is not None:
        from zoo._io import sha256_file
        row["source"] = {"file": Path(source).name, "sha256": sha256_file(source)}
    return row
