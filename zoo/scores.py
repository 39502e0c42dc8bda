"""Score files: the one place that writes, reads and checks (n, L) score matrices.

``zoo evaluate --save-scores``, :func:`zoo.evaluate` (``save_scores=``), ``zoo compare`` /
:func:`zoo.compare.compare` and ``zoo plot`` all go through these three functions:

* :func:`write_scores` -- ``.npy`` (the float array) or ``.csv`` (a header of label names, one
  row per example, shortest round-trip float repr); atomic (write, then rename).
* :func:`read_scores` -- either format back; CSV columns are matched to the label names by the
  header (any order) or, without a header, taken in label order. A CSV's first row is a header
  only by rule (it names the labels, or holds no number at all): a typo in the first row of a
  headerless file is an error naming line and column, never a silently dropped row.
* :func:`check_scores` -- shape, real dtype, finite, within [0, 1] (probabilities; logits are
  refused), every error naming the file position of the first bad entry.

Example::

    >>> import numpy as np, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "s.csv")
    >>> _ = write_scores(p, np.array([[0.25, 0.5]]), ["a", "b"])
    >>> s, locate = read_scores(p, ["b", "a"])
    >>> s.tolist(), locate(0, 1).endswith("line 2, column 1 (label 'a')")
    ([[0.5, 0.25]], True)
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from zoo.errors import DataFormatError

__all__ = ["write_scores", "read_scores", "check_scores", "SCORE_SUFFIXES"]

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


def _read_csv(path: Path, names: list[str]):
    from zoo.data.tabular import is_header_row, is_number
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
                bad = next(i for i, c in enumerate(cells) if not is_number(c))
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
