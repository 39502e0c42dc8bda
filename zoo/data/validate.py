"""Checks on feature matrices before they reach a model: finite values, or imputation on request.

A NaN or an infinity in a model's input does not raise inside Keras: it gives every label a
score of about 0.5 (or NaN) and the caller gets a confident-looking wrong answer. Every reader
of feature input and every ``predict_*`` entry point therefore runs :func:`check_finite` (or
:func:`handle_missing` when the caller chose a missing-value policy) before predicting.

Row and column numbers in the messages are **1-based for files** (``line``/``column`` of a
:class:`zoo.errors.DataFormatError`, as an editor shows them) and **0-based for arrays**
(``x[row, col]``, as NumPy indexes them); each message says which it uses.

Example::

    >>> import numpy as np
    >>> check_finite(np.array([[1.0, 2.0]]), "x").shape
    (1, 2)
    >>> check_finite(np.array([[1.0, np.nan]]), "x")       # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    DataFormatError: x: 1 value(s) are NaN or infinite, the first at x[0, 1] = nan; ...
    >>> handle_missing(np.array([[1.0, np.nan], [3.0, 4.0]]), "mean")[0].tolist()
    [[1.0, 4.0], [3.0, 4.0]]
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.sparse as sp

from zoo.errors import DataFormatError

__all__ = ["check_finite", "handle_missing", "MISSING_POLICIES"]

#: What a reader may do with a missing (empty / NaN) feature value: refuse it (the default)
#: or replace it by its column's mean over the finite values of the same input.
MISSING_POLICIES = ("error", "mean")


def _describe(source, feature_names, lines, columns, r: int, c: int):
    """(message prefix, DataFormatError keyword args) naming entry (r, c)."""
    col = ""
    if feature_names is not None and c < len(feature_names):
        col = f" (feature {feature_names[c]!r})"
    if lines is not None:
        # a file: 1-based line and column, as the file shows them
        fc = (int(columns[c]) if columns is not None else c) + 1
        return f"data row {r + 1}, column {fc}{col}", {"path": source, "line": int(lines[r]),
                                                       "column": fc}
    name = source if source is not None else "x"
    return f"{name}[{r}, {c}] (0-based row, column){col}", {}


def check_finite(x, source: str | None = None, *, feature_names: Sequence[str] | None = None,
                 lines: Sequence[int] | None = None, columns: Sequence[int] | None = None):
    """Return ``x`` unchanged if every value is finite, else raise naming the first bad entry.

    Args:
        x: a 2-D NumPy array or SciPy sparse matrix of features (any real dtype; integer and
            boolean arrays are always finite and returned at once).
        source: what ``x`` is, for the message: a file path or a name such as ``"x"``.
        feature_names: column names, quoted in the message when given.
        lines: for data read from a file, the 1-based file line of each row; the error then
            carries ``path=source``, ``line`` and the 1-based ``column``.
        columns: with ``lines``, the 0-based file column of each column of ``x`` (when the
            file has other columns, e.g. labels, that were left out).

    Raises:
        DataFormatError: a NaN or +-inf value; the message gives how many, where the first is
            and what to do (fill the values, or read with ``missing="mean"``).

    Example::

        >>> check_finite(np.array([[0.5, np.inf]]), "inputs.npy")  # doctest: +SKIP
        DataFormatError: inputs.npy: 1 value(s) are NaN or infinite, the first at
        inputs.npy[0, 1] (0-based row, column) = inf; ...
    """
    data = x.data if sp.issparse(x) else np.asarray(x)
    if data.dtype == object:
        raise DataFormatError(f"{source or 'x'}: expected numbers, got an object array")
    if not np.issubdtype(data.dtype, np.floating) and not np.issubdtype(data.dtype,
                                                                        np.complexfloating):
        return x
    bad = ~np.isfinite(data)
    if not bad.any():
        return x
    if sp.issparse(x):
        coo = x.tocoo()
        k = int(np.flatnonzero(~np.isfinite(coo.data))[0])
        r, c, v = int(coo.row[k]), int(coo.col[k]), coo.data[k]
    else:
        if data.ndim == 1:
            data = data.reshape(1, -1)
            bad = bad.reshape(1, -1)
        first = np.argwhere(bad)[0]
        r, c = int(first[0]), int(first[-1])
        v = data[tuple(first)]
    where, kw = _describe(source, feature_names, lines, columns, r, c)
    prefix = f"{source}: " if source is not None and not kw else ""
    raise DataFormatError(
        f"{prefix}{int(bad.sum())} value(s) are NaN or infinite, the first at {where} = {v}; "
        "a model cannot score them (every label would get a meaningless ~0.5): fill or drop "
        "them first, or read the file with missing='mean' to impute column means", **kw)


def handle_missing(x, missing: str = "error", source: str | None = None, *,
                   feature_names: Sequence[str] | None = None,
                   lines: Sequence[int] | None = None,
                   columns: Sequence[int] | None = None):
    """Apply a missing-value policy to a dense feature matrix; returns ``(x, info)``.

    ``missing="error"`` is :func:`check_finite`. ``missing="mean"`` replaces each NaN by its
    column's mean over the column's finite values (a column with no finite value is an
    error); infinities are never imputed (an overflow is not a missing value) and raise.
    ``info`` is ``{"imputed": number of values replaced, "imputed_columns": [indices]}``.

    Example::

        >>> x, info = handle_missing(np.array([[np.nan, 1.0], [2.0, 3.0]]), "mean")
        >>> x.tolist(), info["imputed"]
        ([[2.0, 1.0], [2.0, 3.0]], 1)
    """
    if missing not in MISSING_POLICIES:
        raise ValueError(f"missing must be one of {MISSING_POLICIES}, got {missing!r}")
    if missing == "error" or sp.issparse(x):
        if missing != "error":
            raise ValueError("missing='mean' needs dense features (a sparse matrix has no "
                             "missing cells, only zeros)")
        return check_finite(x, source, feature_names=feature_names, lines=lines,
                            columns=columns), \
            {"imputed": 0, "imputed_columns": []}
    x = np.array(x, dtype=np.float32 if np.asarray(x).dtype != np.float64 else np.float64)
    inf = np.isinf(x)
    if inf.any():
        check_finite(np.where(np.isnan(x), 0, x), source, feature_names=feature_names,
                     lines=lines, columns=columns)
    nan = np.isnan(x)
    if not nan.any():
        return x, {"imputed": 0, "imputed_columns": []}
    cols = np.flatnonzero(nan.any(axis=0))
    counts = (~nan).sum(axis=0)
    empty = [int(c) for c in cols if counts[c] == 0]
    if empty:
        c = empty[0]
        name = f" ({feature_names[c]!r})" if feature_names is not None else ""
        raise DataFormatError(f"{source or 'x'}: column {c + 1}{name} has no value at all; "
                              "cannot impute its mean")
    with np.errstate(invalid="ignore"):
        means = np.nansum(x, axis=0) / np.maximum(counts, 1)
    r, c = np.nonzero(nan)
    x[r, c] = means[c].astype(x.dtype)
    return x, {"imputed": int(nan.sum()), "imputed_columns": [int(j) for j in cols]}
