"""Figures for multi-label results: PR curves, label frequency vs F1, label co-occurrence,
training curves. Each function writes one image atomically and returns its path.

Needs matplotlib (``pip install 'zoo-mlc[plots]'``), imported only when a figure is drawn;
figures are rendered with the Agg backend without touching ``matplotlib.pyplot``'s global
state, so this works headless and inside other programs.

Example::

    >>> import zoo, zoo.data, zoo.plots
    >>> model = zoo.load("emotions/mlp")                                  # doctest: +SKIP
    >>> test = zoo.data.load("emotions", "test")                          # doctest: +SKIP
    >>> zoo.plots.pr_curves(test.y, model.predict_proba(test.x), test.label_names,
    ...                     "pr.png")                                     # doctest: +SKIP
    PosixPath('pr.png')

The same figures from the command line: ``zoo plot {pr,freq-f1,cooccurrence,history}``
(``docs/plots.md``).
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from zoo.errors import DataFormatError, ZooError

DPI = 100
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}


# ----------------------------------------------------------------------------- plumbing
def _figure(figsize):
    """A new Agg-backed Figure (no pyplot), or a ZooError saying how to install matplotlib."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ZooError("zoo.plots needs matplotlib, which is not installed: "
                       "pip install 'zoo-mlc[plots]' (or pip install matplotlib)") from None
    fig = Figure(figsize=figsize, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _format(path) -> str:
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise DataFormatError(f"cannot tell the image format of {str(path)!r}: use a .png "
                              "(or .svg / .pdf) file name")
    return fmt


def _save(fig, path) -> Path:
    from zoo._io import atomic_write_bytes
    path = Path(path)
    buf = io.BytesIO()
    fig.savefig(buf, format=_format(path), dpi=DPI)
    atomic_write_bytes(path, buf.getvalue())
    return path


def _targets(y, label_names, name="y"):
    from zoo.metrics import check_targets
    y = check_targets(y)
    if label_names is None:
        label_names = [str(j) for j in range(y.shape[1])]
    label_names = [str(n) for n in label_names]
    if len(label_names) != y.shape[1]:
        raise DataFormatError(f"{len(label_names)} label names for the {y.shape[1]} label "
                              f"columns of {name} (shape {y.shape})")
    return y, label_names


def _scores(scores, y, name="scores", allow_bool=False):
    s = scores.toarray() if sp.issparse(scores) else np.asarray(scores)
    if (s.dtype == bool and not allow_bool) or not (np.issubdtype(s.dtype, np.number)
                                                    or s.dtype == bool):
        raise DataFormatError(f"{name} must hold real numbers, got dtype {s.dtype}")
    if s.shape != y.shape:
        raise DataFormatError(f"shape mismatch: y has shape {y.shape} but {name} has shape "
                              f"{s.shape}; both must be (examples, labels)")
    s = s.astype(np.float64)
    bad = ~np.isfinite(s)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DataFormatError(f"{name} has {int(bad.sum())} NaN/infinite values, the first at "
                              f"row {r}, column {c}")
    return s


def _pick_labels(y, label_names, labels, top_k):
    """Column indices to draw: ``labels`` (names or indices) or the ``top_k`` most frequent."""
    if labels is None:
        freq = np.count_nonzero(y == 1, axis=0)
        order = np.argsort(-freq, kind="stable")
        return [int(j) for j in order[:max(1, int(top_k))] if freq[j] > 0]
    index = {n: j for j, n in enumerate(label_names)}
    out, unknown = [], []
    for lab in labels:
        if isinstance(lab, (int, np.integer)) and not isinstance(lab, bool):
            if not 0 <= int(lab) < len(label_names):
                unknown.append(lab)
            else:
                out.append(int(lab))
        elif str(lab) in index:
            out.append(index[str(lab)])
        else:
            unknown.append(lab)
    if unknown:
        shown = label_names if len(label_names) <= 30 else label_names[:30] + ["..."]
        raise DataFormatError(f"unknown label(s) {unknown}; the labels are {shown}")
    return out


def pr_curve(y_col, s_col):
    """Precision and recall at every distinct cut of one label's scores (unknowns dropped).

    Returns ``(recall, precision)`` starting at recall 0, precision 1; ``None`` when the
    label has no positive example.
    """
    y_col, s_col = np.asarray(y_col), np.asarray(s_col, dtype=np.float64)
    known = y_col != -1
    y, s = y_col[known] == 1, s_col[known]
    P = int(y.sum())
    if P == 0:
        return None
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s) != 0), s.size - 1]  # end of each tie group
    tp = np.cumsum(y)[last].astype(np.float64)
    precision = tp / (last + 1)
    recall = tp / P
    return np.r_[0.0, recall], np.r_[1.0, precision]


# ----------------------------------------------------------------------------- figures
def pr_curves(y, scores, label_names, path, labels=None, top_k: int = 8,
              title: str | None = None, micro: bool = True) -> Path:
    """Precision-recall curves, one per label, plus the micro-averaged curve.

    Args:
        y: (n, L) targets {1, 0, -1}; ``-1`` (unknown) entries are left out.
        scores: (n, L) real scores (probabilities or logits: only their order matters).
        label_names: the L label names.
        path: the image to write (``.png``; ``.svg``/``.pdf`` also work).
        labels: label names (or column indices) to draw; default the ``top_k`` labels with
            the most positive examples in ``y``.
        micro: also draw the micro-averaged curve (every known entry pooled).

    The legend gives each label's average precision (``zoo.metrics``' definition, as in
    ``mean_average_precision``) and its number of positives.
    """
    from zoo.metrics import per_label_report
    y, label_names = _targets(y, label_names)
    s = _scores(scores, y)
    cols = _pick_labels(y, label_names, labels, top_k)
    ap = per_label_report(y, s, y_pred=np.zeros(y.shape, bool))["average_precision"]
    fig = _figure((6.4, 4.8))
    ax = fig.add_subplot()
    for j in cols:
        curve = pr_curve(y[:, j], s[:, j])
        if curve is None:
            continue
        npos = int(np.count_nonzero(y[:, j] == 1))
        ax.step(curve[0], curve[1], where="pre", lw=1.3,
                label=f"{label_names[j]} (AP {ap[j]:.3f}, {npos} pos.)")
    if micro:
        known = y != -1
        curve = pr_curve(y[known], s[known])
        if curve is not None:
            from zoo.metrics.exact import label_ranking
            yk = y[known].reshape(-1, 1)
            micro_ap = label_ranking(yk, s[known].reshape(-1, 1))[0][0]
            ax.step(curve[0], curve[1], where="pre", lw=2.4, color="black",
                    label=f"micro-average (AP {micro_ap:.3f})")
    ax.set_xlim(0, 1.0)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.grid(alpha=0.3)
    if len(cols) == len(label_names):
        shown = f"all {len(cols)} labels"
    elif labels is not None:
        shown = f"{len(cols)} of {len(label_names)} labels"
    else:
        shown = f"{len(cols)} most frequent of {len(label_names)} labels"
    ax.set_title(title or f"Precision-recall per label ({shown})", fontsize=10)
    ax.legend(fontsize=7, loc="lower left", framealpha=0.85)
    return _save(fig, path)


def label_frequency_vs_f1(y, scores, label_names, path, thresholds=None, frequency=None,
                          frequency_label: str = "positive examples in y",
                          annotate: int = 8, title: str | None = None) -> Path:
    """Scatter of each label's frequency (log x) against its F1: how the long tail fares.

    Args:
        y: (n, L) targets {1, 0, -1}.
        scores: (n, L) scores, or a binary decision matrix.
        label_names: the L label names.
        path: the image to write.
        thresholds: the decision rule turning ``scores`` into decisions, as ``zoo compare``
            takes it (a number, per-label list, rule dict, ``zoo.thresholds`` rule, a JSON
            file or checkpoint name); default a global 0.5 cut, which leaves a 0/1 decision
            matrix unchanged.
        frequency: (L,) label counts for the x axis (e.g. positives in the training split);
            default the positives in ``y``. Labels with frequency 0 cannot sit on a log axis
            and are counted in the title instead.
        frequency_label: the x-axis caption after "label frequency".
        annotate: name this many of the most frequent labels (every label if L <= 15).
    """
    from zoo.compare import resolve_thresholds
    from zoo.metrics import per_label_report
    y, label_names = _targets(y, label_names)
    s = _scores(scores, y, allow_bool=True)
    rule = resolve_thresholds(thresholds, label_names)
    decisions = rule.apply(s)
    f1 = np.asarray(per_label_report(y, s, y_pred=decisions)["f1"], dtype=np.float64)
    if frequency is None:
        freq = np.count_nonzero(y == 1, axis=0).astype(np.float64)
    else:
        freq = np.asarray(frequency, dtype=np.float64)
        if freq.shape != (y.shape[1],):
            raise DataFormatError(f"frequency must have one value per label ({y.shape[1]},), "
                                  f"got shape {freq.shape}")
    shown = freq > 0
    fig = _figure((6.4, 4.6))
    ax = fig.add_subplot()
    ax.scatter(freq[shown], f1[shown], s=22, alpha=0.75, edgecolors="none")
    ax.set_xscale("log")
    ax.set_ylim(-0.03, 1.03)
    macro = float(np.mean(f1))
    ax.axhline(macro, color="grey", ls="--", lw=1, label=f"macro-F1 {macro:.3f} (all labels)")
    idx = np.flatnonzero(shown)
    if annotate:
        pick = idx if y.shape[1] <= 15 else idx[np.argsort(-freq[idx], kind="stable")][:annotate]
        for j in pick:
            ax.annotate(label_names[j], (freq[j], f1[j]), fontsize=7, xytext=(3, 3),
                        textcoords="offset points")
    ax.set_xlabel(f"label frequency ({frequency_label}, log scale)")
    ax.set_ylabel("per-label F1")
    ax.grid(alpha=0.3, which="both")
    hidden = int((~shown).sum())
    note = f"; {hidden} label(s) with frequency 0 not shown" if hidden else ""
    ax.set_title(title or f"Label frequency vs F1 ({len(label_names)} labels{note})", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    return _save(fig, path)


def cooccurrence(y, normalize: str = "conditional") -> np.ndarray:
    """The (L, L) label co-occurrence matrix of ``y`` (positives only), normalized.

    ``normalize``: ``"conditional"`` -- entry (i, j) is P(label j | label i), the share of
    label i's examples that also carry label j (rows sum to more than 1 in multi-label data);
    ``"jaccard"`` -- |i and j| / |i or j|, symmetric; ``"count"`` -- raw counts. The diagonal
    is NaN for the normalized forms; a label without positives gets a NaN row.
    """
    if sp.issparse(y):
        Y = sp.csr_matrix(y > 0, dtype=np.float64)
        C = np.asarray((Y.T @ Y).todense())
    else:
        Y = (np.asarray(y) == 1).astype(np.float64)
        C = Y.T @ Y
    if normalize == "count":
        return C
    d = np.diag(C).copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        if normalize == "conditional":
            M = C / d[:, None]
        elif normalize == "jaccard":
            M = C / (d[:, None] + d[None, :] - C)
        else:
            raise DataFormatError(f"normalize must be 'conditional', 'jaccard' or 'count', got "
                             f"{normalize!r}")
    np.fill_diagonal(M, np.nan)
    return M


def cooccurrence_heatmap(data, path, max_labels: int = 30, split: str = "train_full",
                         label_names=None, normalize: str = "conditional",
                         title: str | None = None) -> Path:
    """Heatmap of normalized label co-occurrence among the ``max_labels`` most frequent labels.

    Args:
        data: a benchmark name (its ``split`` is loaded), a ``MultiLabelDataset``, or a
            label matrix (n, L) with ``label_names``.
        path: the image to write.
        max_labels: how many of the most frequent labels to show (rows/columns ordered by
            frequency, most frequent first).
        normalize: see :func:`cooccurrence`; default P(column label | row label).
    """
    name = None
    if isinstance(data, str):
        from zoo.data import benchmarks
        name = f"{data} [{split}]"
        data = benchmarks.load(data, split)
    if hasattr(data, "labels_dense"):
        name = name or " ".join(str(v) for v in (data.name, data.split) if v)
        y, label_names = data.y, list(data.label_names)
    else:
        y = data
    if sp.issparse(y):
        if label_names is None or len(label_names) != y.shape[1]:
            raise DataFormatError(f"need {y.shape[1]} label names for a sparse label matrix")
        label_names = [str(n) for n in label_names]
    else:
        y, label_names = _targets(y, label_names)
    if int(max_labels) < 2:
        raise DataFormatError(f"max_labels must be >= 2, got {max_labels}")
    freq = np.asarray((y > 0).sum(axis=0) if sp.issparse(y) else (y == 1).sum(axis=0)).ravel()
    cols = np.argsort(-freq, kind="stable")[:int(max_labels)]
    sub = y[:, cols]
    M = cooccurrence(sub, normalize)
    k = len(cols)
    side = min(9.0, 3.0 + 0.2 * k)
    fig = _figure((side + 1.2, side))
    ax = fig.add_subplot()
    import matplotlib
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="0.85")
    vmax = 1.0 if normalize != "count" else None
    im = ax.imshow(np.ma.masked_invalid(M), cmap=cmap, vmin=0, vmax=vmax, interpolation="nearest")
    names = [label_names[j] for j in cols]
    fs = 8 if k <= 20 else 6 if k <= 40 else 4
    ax.set_xticks(range(k), names, rotation=90, fontsize=fs)
    ax.set_yticks(range(k), names, fontsize=fs)
    cap = {"conditional": "P(column label | row label)", "jaccard": "Jaccard overlap",
           "count": "examples with both labels"}[normalize]
    fig.colorbar(im, ax=ax, shrink=0.8, label=cap)
    shown = f"{k} most frequent of {len(label_names)} labels" if k < len(label_names) \
        else f"all {k} labels"
    ax.set_title(title or f"Label co-occurrence{' of ' + name if name else ''}\n({shown}; "
                 f"diagonal grey)", fontsize=10)
    return _save(fig, path)


def _check_history(history) -> dict[str, np.ndarray]:
    if hasattr(history, "history") and isinstance(history.history, dict):  # keras History
        history = history.history
    if not isinstance(history, dict) or not history:
        raise DataFormatError("history must be a non-empty dict {metric name: [one value per "
                              "epoch]} such as keras' History.history")
    out, length = {}, None
    for k, v in history.items():
        try:
            a = np.asarray(v, dtype=np.float64)
        except (TypeError, ValueError):
            raise DataFormatError(f"history[{k!r}] must be a list of numbers") from None
        if a.ndim != 1 or a.size == 0:
            raise DataFormatError(f"history[{k!r}] must be a non-empty list of numbers (one per "
                                  f"epoch), got shape {a.shape}")
        if length is not None and a.size != length:
            raise DataFormatError(f"history entries have different lengths: {k!r} has {a.size}"
                                  f" epochs, others {length}")
        length = a.size
        out[str(k)] = a
    return out


def training_curves(history, path, best_epoch: int | None = None, max_panels: int = 4,
                    title: str | None = None) -> Path:
    """Loss and metrics per epoch, training next to validation (``val_*``) curves.

    Args:
        history: ``{name: [value per epoch]}`` (keras ``History.history``, or the ``history``
            :func:`zoo.train.fit` returns); a ``keras.callbacks.History`` also works.
        path: the image to write.
        best_epoch: 1-based epoch whose weights were kept (early stopping); drawn as a
            dotted line.
        max_panels: loss first, then up to ``max_panels - 1`` other metrics (alphabetical).
    """
    h = _check_history(history)
    skip = {"lr", "learning_rate"}
    bases = [k for k in h if not k.startswith("val_") and k not in skip]
    bases += [k[4:] for k in h if k.startswith("val_") and k[4:] not in h]  # val-only keys
    bases = sorted(set(bases), key=lambda k: (k != "loss", k))[:max(1, int(max_panels))]
    n = len(bases)
    fig = _figure((min(4.0 * n, 13.0), 3.4))
    axes = fig.subplots(1, n, squeeze=False)[0]
    epochs = np.arange(1, len(next(iter(h.values()))) + 1)
    for ax, key in zip(axes, bases):
        if key in h:
            ax.plot(epochs, h[key], label="train", lw=1.5)
        if f"val_{key}" in h:
            ax.plot(epochs, h[f"val_{key}"], label="validation", lw=1.5)
        if best_epoch is not None:
            ax.axvline(int(best_epoch), color="grey", ls=":", lw=1,
                       label=f"best epoch {int(best_epoch)}")
        ax.set_xlabel("epoch")
        ax.set_title(key, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    return _save(fig, path)
