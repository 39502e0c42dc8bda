"""CSV reader and writer for users' own multi-label data (the fine-tuning format).

A CSV file has a header row and one example per row. Two label layouts are understood, and the
caller says which one (nothing is guessed):

* **binary columns** (``label_columns=``): one column per label, like a one-hot table from
  pandas. A cell is ``1`` / ``1.0`` / ``true`` (positive), ``0`` / ``0.0`` / ``false``
  (negative) or empty / ``?`` / ``-1`` (unknown, stored as -1 for partial-label training);
  case and surrounding spaces are ignored, anything else is an error naming line and column.
  ``label_columns`` is a list of column names or one glob pattern such as ``"label:*"``; with
  a pattern of the form ``"prefix*"`` the prefix is removed from the label names
  (``label:joy`` -> ``joy``).

    .. code-block:: text

        text,label:joy,label:anger
        what a day,1,0
        no idea,?,0

* **one label-list column** (``label_column=``): each cell holds the example's label names
  joined by ``label_separator`` (default ``"|"``; an empty cell is an example without labels),
  as scikit-learn's ``MultiLabelBinarizer`` input would be written out.

    .. code-block:: text

        f1,f2,labels
        0.5,1.25,sports|politics
        -1.0,3e-2,

The inputs are numeric feature columns (``kind="features"``, float32; by default every column
that is not a label column) or one text column (``text_column=``, ``kind="text"``).
``label_names`` fixes the set and order of labels: a label outside it is an error naming the
line; a label with no positive example is kept (the file may be a small split) and reported in
``info["warnings"]`` / ``info["labels_without_positives"]``. Without ``label_names`` the
labels are the label columns in file order (binary layout) or the sorted set of names that
occur (list layout).

Parsing follows RFC 4180 through Python's :mod:`csv` module (``newline=""``, quoted fields
may hold separators, quotes and line breaks; ``strict`` quoting). The file is decoded as a
whole (UTF-8 by default, a byte-order mark is dropped); bytes that are not valid in the
encoding are reported with line and byte offset. Every problem with the file's content raises
:class:`zoo.errors.DataFormatError` with the path, the 1-based line and, where it applies, the
1-based column; a missing file raises the usual ``FileNotFoundError`` and contradictory
arguments raise ``ValueError``.

Example::

    >>> ds = read_csv("reviews.csv", text_column="text", label_columns="label:*")  # doctest: +SKIP
    >>> ds.kind, ds.y.shape, ds.label_names  # doctest: +SKIP
    ('text', (1200, 5), ['food', 'price', 'service', 'staff', 'wait'])
    >>> write_csv(ds, "copy.csv")                      # atomic; read_csv reads it back  # doctest: +SKIP
"""
from __future__ import annotations

import codecs
import csv
import fnmatch
import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import scipy.sparse as sp

from zoo._io import atomic_write_bytes
from zoo.data.dataset import MultiLabelDataset
from zoo.errors import DataFormatError

__all__ = ["read_csv", "write_csv", "read_feature_rows", "is_header_row", "MISSING_VALUES",
           "POSITIVE_VALUES", "NEGATIVE_VALUES", "UNKNOWN_VALUES"]

#: Cell values of a binary label column (compared after ``strip().lower()``).
POSITIVE_VALUES = ("1", "1.0", "true")
NEGATIVE_VALUES = ("0", "0.0", "false")
UNKNOWN_VALUES = ("", "?", "-1", "-1.0")

_LABEL_CODES = {**dict.fromkeys(POSITIVE_VALUES, 1), **dict.fromkeys(NEGATIVE_VALUES, 0),
                **dict.fromkeys(UNKNOWN_VALUES, -1)}
_MAX_SHOWN = 12  # column names listed in an error message
#: Feature cells read as a missing value (compared after ``strip().lower()``); refused unless
#: the reader is called with ``missing="mean"``.
MISSING_VALUES = ("", "?", "nan", "na", "n/a", "null", "none")


# --------------------------------------------------------------------------- shared helpers
# (also used by zoo.data.text and zoo.data.images)

def _short(s, limit: int = 40) -> str:
    s = str(s)
    return repr(s if len(s) <= limit else s[:limit] + "...")


def _show_names(names: Sequence[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:_MAX_SHOWN])
    return shown + (f", ... ({len(names)} in all)" if len(names) > _MAX_SHOWN else "")


def _decode_file(path, encoding: str = "utf-8") -> str:
    """The whole file as text; invalid bytes raise DataFormatError with line and byte offset.

    A leading byte-order mark is dropped. Lines are not translated (``newline=""`` semantics).
    """
    try:
        codec = codecs.lookup(encoding)
    except LookupError:
        raise ValueError(f"unknown encoding {encoding!r}") from None
    raw = Path(path).read_bytes()
    is_utf8 = codec.name == "utf-8"
    try:
        text = raw.decode("utf-8-sig" if is_utf8 else encoding)
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        hint = "pass encoding=... with the file's encoding (e.g. encoding='cp1252' or 'latin-1')"
        if is_utf8 and raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
            hint = "the file starts with a UTF-16 byte-order mark: pass encoding='utf-16'"
        raise DataFormatError(
            f"not valid {encoding} text: byte 0x{raw[e.start]:02x} at byte offset {e.start}"
            f" ({e.reason}); {hint}", path=path, line=line) from None
    except UnicodeError as e:  # codecs that fail without a position
        raise DataFormatError(f"cannot decode the file as {encoding}: {e}", path=path) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def _check_encodable(s: str, what: str, path, line, column=None) -> None:
    """Reject strings holding lone surrogates (from JSON escapes such as ``"\\ud800"``)."""
    try:
        s.encode("utf-8")
    except UnicodeEncodeError as e:
        raise DataFormatError(f"{what} contains an unpaired surrogate "
                              f"U+{ord(s[e.start]):04X} (not valid Unicode text)",
                              path=path, line=line, column=column) from None


@dataclass
class _Table:
    """A parsed delimited file: header (or None), rows and the 1-based line of each row."""
    path: str
    header: list | None
    header_line: int | None
    rows: list
    lines: list

    def column_index(self, spec, what: str) -> int:
        """One column given by name (needs a header) or 0-based position."""
        width = len(self.header) if self.header is not None else \
            (len(self.rows[0]) if self.rows else 0)
        if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
            if not -width <= spec < width:
                raise DataFormatError(f"{what} {spec} is out of range: rows have {width} fields",
                                      path=self.path, line=self.lines[0] if self.lines else None)
            return int(spec) % width
        if not isinstance(spec, str):
            raise TypeError(f"{what} must be a column name or position, got {spec!r}")
        if self.header is None:
            raise ValueError(f"{what}={spec!r} names a column but the file is read without a "
                             "header; pass a 0-based position or header=True")
        try:
            return self.header.index(spec)
        except ValueError:
            raise DataFormatError(f"no {what} {spec!r}; the header has {_show_names(self.header)}",
                                  path=self.path, line=self.header_line) from None

    def select(self, spec, what: str) -> list:
        """Columns given by a list of names or one glob pattern; 0-based indices in spec order."""
        if isinstance(spec, str):
            idx = [j for j, h in enumerate(self.header) if fnmatch.fnmatchcase(h, spec)]
            if not idx:
                raise DataFormatError(f"no column matches {what} pattern {spec!r}; the header has"
                                      f" {_show_names(self.header)}",
                                      path=self.path, line=self.header_line)
            return idx
        names = list(spec)
        if not names:
            raise ValueError(f"{what} is an empty list")
        pos = {h: j for j, h in enumerate(self.header)}
        missing = [n for n in names if n not in pos]
        if missing:
            import difflib
            close = [c for n in missing for c in difflib.get_close_matches(n, self.header, 3, 0.5)]
            hint = f" (closest: {_show_names(list(dict.fromkeys(close)))})" if close else ""
            raise DataFormatError(f"{what} {_show_names(missing)} not in the header{hint}; the"
                                  f" header has {_show_names(self.header)}",
                                  path=self.path, line=self.header_line)
        if len(set(names)) != len(names):
            raise ValueError(f"{what} lists a column twice: {names}")
        return [pos[n] for n in names]


def _parse_delimited(path, text: str, delimiter: str, header: bool = True,
                     quoted: bool = True) -> _Table:
    """Split ``text`` into rows with the csv module; rows must all have the same width.

    ``quoted=False`` reads every ``"`` literally (no CSV quoting; fields cannot hold the
    delimiter or line breaks).
    """
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in "\r\n\"":
        raise ValueError(f"delimiter must be one character (not a quote or line break), "
                         f"got {delimiter!r}")
    path = str(path)
    nul = text.find("\x00")
    if nul >= 0:
        raise DataFormatError("the file contains a NUL character; it looks binary or corrupted",
                              path=path, line=text.count("\n", 0, nul) + 1,
                              column=nul - text.rfind("\n", 0, nul))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True,
                        quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE)
    old_limit = csv.field_size_limit()
    csv.field_size_limit(max(old_limit, len(text) + 1))  # a field cannot outgrow the file
    head, head_line, rows, lines = None, None, [], []
    try:
        for row in reader:
            if not row:  # a blank line
                continue
            if header and head is None:
                head, head_line = row, reader.line_num
                continue
            width = len(head) if head is not None else (len(rows[0]) if rows else len(row))
            if len(row) != width:
                against = "the header" if head is not None else f"line {lines[0]}"
                raise DataFormatError(
                    f"expected {width} fields as on {against}, got {len(row)} (delimiter "
                    f"{delimiter!r}; a field holding the delimiter must be quoted)",
                    path=path, line=reader.line_num)
            rows.append(row)
            lines.append(reader.line_num)
    except csv.Error as e:
        hint = "; a field holding quotes must be quoted itself, with inner quotes doubled"
        if delimiter == "\t":
            hint += " (if the file does not use CSV quoting at all, pass quoted=False)"
        raise DataFormatError(f"malformed {'CSV' if delimiter == ',' else 'delimited'} text: "
                              f"{e}{hint}", path=path, line=reader.line_num) from None
    finally:
        csv.field_size_limit(old_limit)
    if header:
        if head is None:
            raise DataFormatError("the file is empty; expected a header row naming the columns",
                                  path=path, line=1)
        seen, dup = set(), []
        for h in head:
            if h in seen and h not in dup:
                dup.append(h)
            seen.add(h)
        if dup:
            raise DataFormatError(f"duplicate column names in the header: {_show_names(dup)}",
                                  path=path, line=head_line)
    if not rows:
        raise DataFormatError("the file has a header row but no data rows" if header else
                              "the file has no rows", path=path, line=head_line)
    return _Table(path, head, head_line, rows, lines)


def _binary_labels(table: _Table, cols: list, names: list) -> np.ndarray:
    """int8 (n, L) from binary label cells; bad cells raise with line and column."""
    get = _LABEL_CODES.get
    codes = [get(row[j], 9) for row in table.rows for j in cols]  # 9: not an exact spelling
    y = np.array(codes, dtype=np.int8).reshape(len(table.rows), len(cols))
    for i, k in np.argwhere(y == 9):  # case / spaces differ (rare): normalize those cells
        j = cols[k]
        v = get(table.rows[i][j].strip().lower())
        if v is None:
            col = repr(table.header[j]) + ("" if names[k] == table.header[j] else
                                           f" (label {names[k]!r})")
            raise DataFormatError(
                f"label column {col} holds "
                f"{_short(table.rows[i][j])}; expected 1/true (positive), 0/false (negative) "
                "or empty/?/-1 (unknown)", path=table.path, line=table.lines[i], column=j + 1)
        y[i, k] = v
    return y


def _list_labels(table: _Table, col: int, label_names, separator: str):
    """(int8 (n, L), names) from a label-list column (names sorted unless ``label_names``)."""
    if not isinstance(separator, str) or not separator:
        raise ValueError(f"label_separator must be a non-empty string, got {separator!r}")
    fixed = label_names is not None
    index = {nm: k for k, nm in enumerate(label_names)} if fixed else {}
    rows, cols = [], []
    for i, row in enumerate(table.rows):
        for piece in row[col].split(separator):
            piece = piece.strip()
            if not piece:
                continue
            k = index.get(piece)
            if k is None:
                if fixed:
                    raise DataFormatError(
                        f"label {_short(piece)} is not one of label_names "
                        f"({_show_names(list(label_names))})",
                        path=table.path, line=table.lines[i], column=col + 1)
                k = index[piece] = len(index)
            rows.append(i)
            cols.append(k)
    names = list(index)
    cols = np.asarray(cols, dtype=np.int64)
    if not fixed:  # sorted names, independent of row order
        order = sorted(range(len(names)), key=names.__getitem__)
        remap = np.empty(len(names), dtype=np.int64)
        remap[order] = np.arange(len(names))
        names = [names[k] for k in order]
        cols = remap[cols] if len(cols) else cols
    y = np.zeros((len(table.rows), len(names)), dtype=np.int8)
    y[np.asarray(rows, dtype=np.int64), cols] = 1
    return y, names


def _check_label_names(label_names) -> list | None:
    if label_names is None:
        return None
    if isinstance(label_names, str):
        raise TypeError("label_names must be a list of names, not one string")
    names = [str(n) for n in label_names]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"label_names has duplicates: {dup}")
    if any(not n for n in names):
        raise ValueError("label_names holds an empty name")
    return names


def _read_labels(table: _Table, label_columns, label_column, label_names, label_separator):
    """The label matrix, label names, label column indices and layout of a headed table."""
    label_names = _check_label_names(label_names)
    if (label_columns is None) == (label_column is None):
        raise ValueError("say where the labels are: label_columns=[...] or a pattern such as "
                         "'label:*' (one 0/1 column per label), or label_column='labels' (one "
                         "column of label names joined by label_separator) - exactly one of them")
    if label_column is not None:
        j = table.column_index(label_column, "label_column")
        y, names = _list_labels(table, j, label_names, label_separator)
        return y, names, [j], "list"
    cols = table.select(label_columns, "label_columns")
    names = [table.header[j] for j in cols]
    if isinstance(label_columns, str) and label_columns.endswith("*") \
            and not any(c in label_columns[:-1] for c in "*?["):
        names = [n[len(label_columns) - 1:] for n in names]
        for n, j in zip(names, cols):
            if not n.strip():
                raise DataFormatError(f"column {table.header[j]!r} gives an empty label name",
                                      path=table.path, line=table.header_line, column=j + 1)
    if label_names is not None:
        where = {n: j for n, j in zip(names, cols)}
        wanted = set(label_names)
        for n, j in zip(names, cols):
            if n not in wanted:
                raise DataFormatError(
                    f"label column {table.header[j]!r} (label {n!r}) is not one of label_names "
                    f"({_show_names(label_names)})", path=table.path, line=table.header_line,
                    column=j + 1)
        missing = [n for n in label_names if n not in where]
        if missing:
            raise DataFormatError(f"label_names {_show_names(missing)} have no column in the "
                                  "file", path=table.path, line=table.header_line)
        cols, names = [where[n] for n in label_names], list(label_names)
    return _binary_labels(table, cols, names), names, cols, "columns"


def _label_warnings(y: np.ndarray, names: list) -> dict:
    """``info`` entries for labels without positives / with only unknown values."""
    pos = (y == 1).sum(axis=0)
    known = (y != -1).sum(axis=0)
    none = [names[k] for k in np.flatnonzero(pos == 0)]
    unknown = [names[k] for k in np.flatnonzero(known == 0)]
    msgs = []
    if none:
        msgs.append(f"{len(none)} label(s) have no positive example: {_show_names(none)}")
    if unknown:
        msgs.append(f"{len(unknown)} label(s) are unknown (-1) in every row: "
                    f"{_show_names(unknown)}")
    return {"warnings": msgs, "labels_without_positives": none,
            "rows_without_labels": int(((y == 1).sum(axis=1) == 0).sum())}


def _float_or_nan(cell: str) -> float:
    """``float(cell)``, NaN for a missing-value spelling; ValueError for anything else."""
    try:
        return float(cell)
    except ValueError:
        if cell.strip().lower() in MISSING_VALUES:
            return float("nan")
        raise


def _parse_features(table: _Table, cols: list, missing: str = "error",
                    names: list | None = None) -> tuple[np.ndarray, dict]:
    """float32 (n, d) from numeric cells, and the imputation info.

    A cell that is not a number (nor a missing-value spelling, :data:`MISSING_VALUES`) raises
    with line and column. Missing and non-finite values then go through
    :func:`zoo.data.validate.handle_missing`: refused by default (line and column named),
    imputed with the column mean when ``missing="mean"``.
    """
    from zoo.data.validate import MISSING_POLICIES, handle_missing
    if missing not in MISSING_POLICIES:
        raise ValueError(f"missing must be one of {MISSING_POLICIES}, got {missing!r}")
    names = names if names is not None else [table.header[j] for j in cols]
    n, d = len(table.rows), len(cols)
    try:  # Python's float() syntax, as numpy and pandas accept
        x = np.fromiter(map(float, (row[j] for row in table.rows for j in cols)),
                        dtype=np.float64, count=n * d)
    except ValueError:
        x = None
    if x is None:
        vals = []
        for i, row in enumerate(table.rows):  # slow path: name the first bad cell
            for k, j in enumerate(cols):
                try:
                    vals.append(_float_or_nan(row[j]))
                except ValueError:
                    raise DataFormatError(
                        f"feature column {names[k]!r} holds {_short(row[j])}, not a number "
                        "(missing values may be empty, 'nan' or '?'; choose other columns with "
                        "feature_columns= or a text column with text_column=)",
                        path=table.path, line=table.lines[i], column=j + 1) from None
        x = np.asarray(vals, dtype=np.float64)
    x = x.reshape(n, d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # float32 overflow -> inf, caught next
        x32 = x.astype(np.float32)
    over = np.isinf(x32) & np.isfinite(x)
    if over.any():
        i, k = np.argwhere(over)[0]
        raise DataFormatError(f"feature column {names[k]!r} holds {_short(table.rows[i][cols[k]])}"
                              ", too large for float32; features must be finite float32 numbers",
                              path=table.path, line=table.lines[i], column=cols[k] + 1)
    if missing == "error":
        bad = ~np.isfinite(x32)
        if bad.any():
            i, k = np.argwhere(bad)[0]
            cell = table.rows[i][cols[k]]
            what = (f"empty cell in feature column {names[k]!r}" if not cell.strip() else
                    f"feature column {names[k]!r} holds {_short(cell)}")
            raise DataFormatError(
                f"{what}: features must be finite numbers ({int(bad.sum())} missing or "
                "non-finite value(s) in the file); fill them, choose other columns with "
                "feature_columns=, or pass missing='mean' to impute column means",
                path=table.path, line=table.lines[i], column=cols[k] + 1)
    return handle_missing(x32, missing, table.path, feature_names=names, lines=table.lines,
                          columns=cols)


# --------------------------------------------------------------------------- read_csv

def read_csv(path, label_columns=None, label_column=None, feature_columns=None,
             text_column=None, label_names=None, delimiter: str = ",",
             label_separator: str = "|", encoding: str = "utf-8", name: str | None = None,
             split: str | None = None, missing: str = "error") -> MultiLabelDataset:
    """Read a headed CSV file of examples and labels into a :class:`MultiLabelDataset`.

    Args:
        path: the CSV file. The first non-blank row is the header; blank lines are skipped.
        label_columns: binary layout: a list of column names, or one glob pattern (``"label:*"``,
            ``"y_*"``; a ``"prefix*"`` pattern's prefix is removed from the label names).
        label_column: list layout: the column (name) holding ``label_separator``-joined names.
            Exactly one of ``label_columns`` / ``label_column`` is required.
        feature_columns: numeric input columns (list or glob pattern). Default: every column
            that is neither a label column nor ``text_column`` (so an id column must be left
            out by naming the features). Values must be finite numbers.
        text_column: the column holding the input text; gives ``kind="text"`` (other columns
            are ignored and listed in ``info["ignored_columns"]``).
        label_names: fixes the set and order of labels (see the module docstring).
        delimiter: the field separator (one character; ``";"`` or ``"\\t"`` for other dialects).
        label_separator: separator inside a label-list cell (list layout), default ``"|"``.
        encoding: text encoding of the file (default UTF-8; a BOM is dropped).
        name, split: stored on the dataset.
        missing: what to do with a missing feature value (an empty cell, ``nan``, ``?``, see
            :data:`MISSING_VALUES`): ``"error"`` (default) refuses it naming line and column;
            ``"mean"`` replaces it by its column's mean over this file (``info["imputed"]``
            counts them). Infinities are always refused.

    Returns:
        ``MultiLabelDataset`` with ``y`` int8 (n, L) in {1, 0, -1}, ``x`` float32 (n, d) with
        ``feature_names`` (``kind="features"``) or a list of ``str`` (``kind="text"``).
        ``info``: ``format``, ``source``, ``layout``, ``lines`` (file line of each row),
        ``warnings``, ``labels_without_positives``, ``rows_without_labels``.

    Raises:
        DataFormatError: anything wrong in the file (path, line and column in the message).
        ValueError: contradictory or missing arguments.

    Example::

        >>> ds = read_csv("data.csv", label_column="tags", label_separator=";")  # doctest: +SKIP
        >>> ds.x.dtype, ds.feature_names[:2], ds.label_names[:3]  # doctest: +SKIP
        (dtype('float32'), ['f1', 'f2'], ['art', 'music', 'sport'])
    """
    if text_column is not None and feature_columns is not None:
        raise ValueError("give either feature_columns (numeric inputs) or text_column (text "
                         "input), not both")
    table = _parse_delimited(path, _decode_file(path, encoding), delimiter, header=True)
    y, names, lcols, layout = _read_labels(table, label_columns, label_column, label_names,
                                           label_separator)
    info = {"format": "csv", "source": str(path), "layout": layout, "lines": table.lines}
    taken = set(lcols)
    if text_column is not None:
        j = table.column_index(text_column, "text_column")
        if j in taken:
            raise ValueError(f"text_column {text_column!r} is also a label column")
        x = [row[j] for row in table.rows]
        kind, feature_names = "text", None
        info["ignored_columns"] = [h for k, h in enumerate(table.header)
                                   if k != j and k not in taken]
    else:
        if feature_columns is not None:
            fcols = table.select(feature_columns, "feature_columns")
            clash = [table.header[j] for j in fcols if j in taken]
            if clash:
                raise ValueError(f"feature_columns {clash} are also label columns")
        else:
            fcols = [j for j in range(len(table.header)) if j not in taken]
            for j in fcols:
                if not table.header[j].strip():
                    raise DataFormatError(
                        f"column {j + 1} has no name; if it is a pandas index write the file "
                        "with index=False, or pass feature_columns=[...]",
                        path=table.path, line=table.header_line, column=j + 1)
        if fcols:
            x, imputed = _parse_features(table, fcols, missing)
            info["imputed"] = imputed["imputed"]
        else:
            x = np.zeros((len(table.rows), 0), np.float32)
        kind, feature_names = "features", [table.header[j] for j in fcols]
    info.update(_label_warnings(y, names))
    return MultiLabelDataset(x=x, y=y, label_names=names, kind=kind,
                             feature_names=feature_names, name=name, split=split, info=info)


# --------------------------------------------------------------------------- feature rows

def is_number(cell: str) -> bool:
    """Whether ``float(cell)`` parses (the header rule and the numeric readers use it)."""
    try:
        float(cell)
        return True
    except ValueError:
        return False


def _is_label_column(name: str) -> bool:
    return name.startswith("label:") or name == "labels"


def is_header_row(cells: Sequence[str], known_names: Sequence[str] | None = None) -> bool:
    """Whether the first row of a feature file is a header, decided by rule, never by a failed
    parse: a header either names the model's columns (every name of ``known_names`` occurs in
    it) or consists only of non-empty, non-numeric cells. A row with one bad or empty cell among
    numbers is a *data* row (and its bad cell an error), not a header.

    Example::

        >>> is_header_row(["f1", "f2"]), is_header_row(["1.2.3", "4", "5"])
        (True, False)
        >>> is_header_row(["0", "1"], known_names=["0", "1"])
        True
    """
    cells = [c.strip() for c in cells]
    if known_names is not None and len(known_names) and set(map(str, known_names)) <= set(cells):
        return True
    return bool(cells) and all(c and not is_number(c) for c in cells)


def read_feature_rows(path, feature_names: Sequence[str] | None = None,
                      num_features: int | None = None, missing: str = "error",
                      delimiter: str = ",", encoding: str = "utf-8",
                      return_info: bool = False):
    """Feature rows to score, from a ``.npy`` array or a numeric CSV (with or without header).

    The reader behind ``zoo predict MODEL rows.csv``. A CSV's first row is a header only by
    rule (:func:`is_header_row`: it names the model's features, or every cell is non-empty and
    non-numeric), so a headerless file whose first row has a typo is never silently shortened
    by one row: the typo is an error naming line and column. With a header, columns named
    ``label:<name>`` or ``labels`` (the layout ``zoo export`` writes) are ignored; when every
    name of ``feature_names`` occurs in the header, the columns are taken by name in the
    model's order (extra columns, e.g. ids, are left out), otherwise by position.

    Args:
        path: a ``.npy`` file (2-D float array) or a delimited text file.
        feature_names: the model's feature names (used to recognise the header and to pick
            columns by name).
        num_features: the width the model expects (default ``len(feature_names)``); a file of
            another width is an error.
        missing: ``"error"`` (default): an empty cell, ``nan``, ``?`` (:data:`MISSING_VALUES`) or
            a NaN in a ``.npy`` is refused, naming line and column (``.npy``: 0-based row and
            column); ``"mean"``: such values are replaced by their column's mean over this
            file. Infinities are always refused.
        delimiter, encoding: of a text file.
        return_info: also return ``{"header": [...] or None, "lines": [...] or None,
            "imputed": n, "ignored_columns": [...]}``.

    Returns:
        float32 array (n, d), or ``(x, info)`` with ``return_info=True``.

    Raises:
        DataFormatError: a cell that is not a number, a missing or non-finite value (with
            ``missing="error"``), rows of different widths, the wrong number of columns.

    Example::

        >>> x = read_feature_rows("rows.csv", feature_names=["f1", "f2"])   # doctest: +SKIP
        >>> x.shape, x.dtype                                                  # doctest: +SKIP
        ((3, 2), dtype('float32'))
    """
    from zoo.data.validate import MISSING_POLICIES, handle_missing
    if missing not in MISSING_POLICIES:
        raise ValueError(f"missing must be one of {MISSING_POLICIES}, got {missing!r}")
    path = Path(path)
    names = None if feature_names is None else [str(n) for n in feature_names]
    width = num_features if num_features is not None else (len(names) if names else None)
    info = {"header": None, "lines": None, "imputed": 0, "ignored_columns": []}
    if path.suffix.lower() == ".npy":
        try:
            x = np.load(path, allow_pickle=False)
        except ValueError as e:
            raise DataFormatError(f"not a readable .npy array ({str(e).splitlines()[0]})",
                                  path=path) from None
        if not isinstance(x, np.ndarray) or x.ndim != 2:
            got = "an archive" if not isinstance(x, np.ndarray) else f"shape {x.shape}"
            raise DataFormatError(f"expected a 2-D (rows, features) array, got {got}", path=path)
        if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
            raise DataFormatError(f"expected a numeric array, got dtype {x.dtype}", path=path)
        if width is not None and x.shape[1] != width:
            raise DataFormatError(f"expected {width} feature columns, got {x.shape[1]}", path=path)
        x, imp = handle_missing(x.astype(np.float32), missing, str(path), feature_names=names)
        info["imputed"] = imp["imputed"]
        return (x, info) if return_info else x

    table = _parse_delimited(path, _decode_file(path, encoding), delimiter, header=False)
    first = table.rows[0]
    if is_header_row(first, names):
        header = [c.strip() for c in first]
        table = _Table(table.path, header, table.lines[0], table.rows[1:], table.lines[1:])
        if not table.rows:
            raise DataFormatError("the file has a header row but no data rows", path=path,
                                  line=table.header_line)
        info["header"] = header
        feature_cols = [j for j, h in enumerate(header) if not _is_label_column(h)]
        if names and set(names) <= set(header):
            pos = {h: j for j, h in enumerate(header)}
            cols = [pos[n] for n in names]
        else:
            cols = feature_cols
        info["ignored_columns"] = [header[j] for j in range(len(header)) if j not in set(cols)]
        col_names = [header[j] for j in cols]
    else:
        cols = list(range(len(first)))
        col_names = names if names and len(names) == len(cols) else \
            [f"column {j + 1}" for j in cols]
        table = _Table(table.path, [f"column {j + 1}" for j in cols], None, table.rows,
                       table.lines)
    if width is not None and len(cols) != width:
        what = "feature columns (label columns left out)" if info["header"] else "columns"
        raise DataFormatError(f"expected {width} feature columns, the file has {len(cols)} "
                              f"{what}", path=path, line=table.lines[0])
    x, imp = _parse_features(table, cols, missing, names=col_names)
    info["imputed"] = imp["imputed"]
    info["lines"] = table.lines
    return (x, info) if return_info else x


# --------------------------------------------------------------------------- write_csv

def write_csv(dataset: MultiLabelDataset, path, layout: str = "columns", *,
              label_prefix: str = "label:", label_column: str = "labels",
              label_separator: str = "|", text_column: str = "text", path_column: str = "path",
              delimiter: str = ",") -> Path:
    """Write ``dataset`` as CSV that :func:`read_csv` reads back unchanged (atomic write).

    Columns: the inputs first (feature columns named by ``feature_names``, else ``f0``,
    ``f1``, ...; or one ``text_column``; or, for an image dataset of file paths, one
    ``path_column``), then the labels:

    * ``layout="columns"``: one column ``label_prefix + name`` per label with ``1``/``0`` and
      ``?`` for unknown; read back with ``read_csv(path, label_columns=label_prefix + "*")``.
    * ``layout="list"``: one column ``label_column`` of positive label names joined by
      ``label_separator``; read back with ``read_csv(path, label_column=label_column,
      label_names=dataset.label_names)`` (``label_names`` keeps labels without positives and
      the column order). This layout cannot hold unknown (-1) labels.

    Float features are written in the shortest form that parses back to the same float32.
    Returns the path. Example::

        >>> write_csv(ds, "train.csv")  # doctest: +SKIP
        >>> read_csv("train.csv", label_columns="label:*").y.shape == ds.y.shape  # doctest: +SKIP
        True
    """
    if layout not in ("columns", "list"):
        raise ValueError(f"layout must be 'columns' or 'list', got {layout!r}")
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in "\r\n\"":
        raise ValueError(f"delimiter must be one character, got {delimiter!r}")
    path = Path(path)
    names = [str(n) for n in dataset.label_names]
    y = dataset.labels_dense()
    n = len(dataset)
    if any(not nm.strip() for nm in names):
        raise DataFormatError("a label name is empty or blank; CSV columns need names",
                              path=path)
    if layout == "list":
        if (y == -1).any():
            raise DataFormatError("the dataset has unknown (-1) labels, which layout='list' "
                                  "cannot represent; use layout='columns'", path=path)
        for nm in names:
            if label_separator in nm or nm != nm.strip():
                raise DataFormatError(f"label name {nm!r} contains the separator "
                                      f"{label_separator!r} or surrounding spaces; use "
                                      "layout='columns' or another label_separator", path=path)
        label_header = [label_column]
    else:
        label_header = [label_prefix + nm for nm in names]

    kind = dataset.kind
    if kind == "features":
        d = dataset.x.shape[1]
        fnames = list(dataset.feature_names) if dataset.feature_names else \
            [f"f{j}" for j in range(d)]
        input_header = [str(f) for f in fnames]
        if len(input_header) != d or any(not f.strip() for f in input_header):
            raise DataFormatError(f"feature_names must be {d} non-blank names", path=path)
    elif kind == "text" or (kind == "image" and isinstance(dataset.x, (list, tuple))):
        input_header = [text_column if kind == "text" else path_column]
    else:
        raise DataFormatError("an image dataset held as a pixel array cannot be written as "
                              "CSV; write the images to files and a list of paths", path=path)
    header = input_header + label_header
    if len(set(header)) != len(header):
        dup = sorted({h for h in header if header.count(h) > 1})
        raise DataFormatError(f"the CSV header would have duplicate column names {dup}; pass "
                              "another label_prefix / text_column", path=path)

    if layout == "columns":
        label_cells = np.array(["?", "0", "1"])[y.astype(np.int64) + 1] if n else \
            np.empty((0, len(names)), dtype=str)
        label_rows = label_cells.tolist()
    else:
        label_rows = [[label_separator.join(names[k] for k in np.flatnonzero(r == 1))] for r in y]

    buf = io.StringIO(newline="")
    # RFC 4180 line ends; with "\r\n" as terminator the writer also quotes a field holding a lone
    # "\r" (with "\n" it would not, and the row would not read back)
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    w.writerow(header)
    if kind == "features":
        x = dataset.x
        step = 4096
        for s in range(0, n, step):
            block = x[s:s + step]
            block = block.toarray() if sp.issparse(block) else np.asarray(block)
            block = block.astype(np.float32, copy=False).astype(str).tolist()
            w.writerows(f + lab for f, lab in zip(block, label_rows[s:s + step]))
    else:
        w.writerows([str(v)] + lab for v, lab in zip(dataset.x, label_rows))
    text = buf.getvalue()
    if "\x00" in text:
        raise DataFormatError("a text or name contains a NUL character, which read_csv rejects",
                              path=path)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise DataFormatError(f"a text or name holds a character that is not valid Unicode "
                              f"({e.reason}, U+{ord(e.object[e.start]):04X})", path=path) from None
    atomic_write_bytes(path, data)
    return path

