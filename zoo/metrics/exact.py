"""Exact multi-label evaluation in numpy (float64), one public function per metric.

``y_true`` is a (n, L) matrix of {1, 0, -1} (dense or scipy.sparse); -1 marks an *unknown*
entry (partial labels), which every metric leaves out (see docs/metrics.md). ``y_score`` is a
(n, L) matrix of finite real scores (probabilities or logits: ranking metrics only use the
order). ``y_pred`` is a binary (n, L) decision matrix; :func:`evaluate` derives it as
``y_score > threshold`` (strict) unless one is given. Conventions follow scikit-learn
(``zero_division=0``; ties counted pessimistically in coverage, LRAP, ranking loss and AP,
half in AUC); P@k, nDCG@k and one-error average over random tie-breaking.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from zoo.errors import DataFormatError
from zoo.metrics import _formulas as F

_CHUNK = 1 << 22  # entries per block in the row/column sorting passes (bounded memory)


# ------------------------------------------------------------------------------- validation
def _first(mask: np.ndarray) -> tuple[int, int]:
    r, c = np.unravel_index(int(np.argmax(mask)), mask.shape)
    return int(r), int(c)


def _dense(a, name):
    if sp.issparse(a):
        a = a.toarray()
    try:
        a = np.asarray(a)
    except Exception as e:  # ragged lists
        raise DataFormatError(f"{name} is not a rectangular array: {e}") from None
    if a.ndim != 2:
        raise DataFormatError(f"{name} must be a 2-D (examples, labels) matrix, got shape {a.shape}")
    return a


def check_targets(y_true) -> np.ndarray:
    """``y_true`` as an int8 (n, L) matrix of {1, 0, -1}; anything else is a DataFormatError."""
    y = _dense(y_true, "y_true")
    if y.dtype == bool:
        return y.astype(np.int8)
    if not (np.issubdtype(y.dtype, np.number)):
        raise DataFormatError(f"y_true must be numeric ({{1, 0, -1}}), got dtype {y.dtype}")
    bad = ~((y == 0) | (y == 1) | (y == -1))
    if bad.any():
        r, c = _first(bad)
        raise DataFormatError(
            f"y_true may only hold 1 (relevant), 0 (irrelevant) or -1 (unknown); "
            f"{int(bad.sum())} entries do not, the first at row {r}, column {c}: {y[r, c].item()!r}")
    return y.astype(np.int8)


def _same_shape(a, y, name):
    if a.shape != y.shape:
        raise DataFormatError(f"y_true has shape {y.shape} but {name} has shape {a.shape}")


def check_scores(y_score, y: np.ndarray) -> np.ndarray:
    """Finite float scores with the shape of ``y``; floats keep their dtype."""
    s = _dense(y_score, "y_score")
    _same_shape(s, y, "y_score")
    if s.dtype == bool or not np.issubdtype(s.dtype, np.number):
        raise DataFormatError(f"y_score must hold real numbers, got dtype {s.dtype}")
    if not np.issubdtype(s.dtype, np.floating) or s.dtype.itemsize < 4:
        s = s.astype(np.float64)
    bad = ~np.isfinite(s)
    if bad.any():
        r, c = _first(bad)
        raise DataFormatError(f"y_score has {int(bad.sum())} non-finite entries (NaN or inf), "
                              f"the first at row {r}, column {c}: {s[r, c]}")
    return s


def check_pred(y_pred, y: np.ndarray) -> np.ndarray:
    """A binary decision matrix with the shape of ``y``, as bool."""
    p = _dense(y_pred, "y_pred")
    _same_shape(p, y, "y_pred")
    if p.dtype != bool:
        if not np.issubdtype(p.dtype, np.number):
            raise DataFormatError(f"y_pred must be binary, got dtype {p.dtype}")
        bad = ~((p == 0) | (p == 1))
        if bad.any():
            r, c = _first(bad)
            raise DataFormatError(f"y_pred must be binary (0/1); {int(bad.sum())} entries are "
                                  f"not, the first at row {r}, column {c}: {p[r, c].item()!r}")
    return p.astype(bool)


def decide(y_score: np.ndarray, threshold) -> np.ndarray:
    """``y_score > threshold`` with a scalar or per-label (L,) threshold.

    Strictly greater, as Keras' thresholded metrics and ``zoo.thresholds`` rules decide, so
    ``evaluate(y, s, threshold=t)`` and ``evaluate(y, s, y_pred=GlobalThreshold(t).apply(s))``
    agree.
    """
    t = np.asarray(threshold, dtype=np.float64)
    if t.ndim not in (0, 1) or (t.ndim == 1 and t.shape[0] != y_score.shape[1]):
        raise DataFormatError(f"threshold must be a scalar or one value per label "
                              f"({y_score.shape[1]},), got shape {t.shape}")
    if np.isnan(t).any():
        raise DataFormatError("threshold contains NaN")
    return y_score > t


def _inputs(y_true, y_score=None, y_pred=None, threshold=None):
    y = check_targets(y_true)
    s = None if y_score is None else check_scores(y_score, y)
    if y_pred is not None:
        p = check_pred(y_pred, y)
    elif s is not None and threshold is not None:
        p = decide(s, threshold)
    else:
        p = None
    return y, s, p


# ------------------------------------------------------------------------------- counting
def label_counts(y: np.ndarray, p: np.ndarray):
    """Per-label (TP, FP, FN) over known entries, float64 (L,)."""
    pos, neg = y == 1, y == 0
    tp = np.count_nonzero(pos & p, axis=0).astype(np.float64)
    fp = np.count_nonzero(neg & p, axis=0).astype(np.float64)
    fn = np.count_nonzero(pos & ~p, axis=0).astype(np.float64)
    return tp, fp, fn


def _row_counts(y, p):
    pos, known = y == 1, y != -1
    pk = p & known
    tp = np.count_nonzero(pos & p, axis=1).astype(np.float64)
    n_true = np.count_nonzero(pos, axis=1).astype(np.float64)
    n_pred = np.count_nonzero(pk, axis=1).astype(np.float64)
    n_wrong = np.count_nonzero(pk != pos, axis=1).astype(np.float64)
    return tp, n_true, n_pred, n_wrong, np.count_nonzero(known, axis=1)


def _row_mean(values: np.ndarray, valid: np.ndarray) -> float:
    """Mean over rows with at least one known label (NaN if there is none)."""
    n = int(np.count_nonzero(valid))
    return float(np.sum(values[valid]) / n) if n else float("nan")


# ------------------------------------------------------------------------------- ranking core
def _order_key(s: np.ndarray, known: np.ndarray):
    """(order, group_key) of each row sorted by descending score, unknown entries last.

    Float32-representable scores are sorted as packed uint64 keys (score bits << 32 | column),
    which is a plain ``np.sort`` -- several times faster than ``argsort``; other float64 scores
    fall back to ``argsort``. Entries tie iff their group keys are equal.
    """
    m, L = s.shape
    s32 = s.astype(np.float32) + np.float32(0.0)  # + 0.0 maps -0.0 to +0.0
    if s.dtype == np.float32 or np.array_equal(s32, s):
        b = s32.view(np.uint32)
        key = np.where(b >> 31, ~b, b | np.uint32(0x80000000))  # order-preserving bits
        key = ~key  # descending
        key[~known] = np.uint32(0xFFFFFFFF)  # a finite score never maps here
        packed = (key.astype(np.uint64) << np.uint64(32)) | np.arange(L, dtype=np.uint64)
        packed.sort(axis=1)
        order = (packed & np.uint64(0xFFFFFFFF)).astype(np.int32)
        return order, (packed >> np.uint64(32)).astype(np.uint32)
    neg = np.where(known, -s.astype(np.float64), np.inf)
    order = np.argsort(neg, axis=1).astype(np.int32)
    return order, np.take_along_axis(neg, order, axis=1)


def sorted_ranks(s: np.ndarray, y: np.ndarray):
    """Tie-group statistics of each row of ``s`` sorted descending (see :mod:`_formulas`).

    Returns, in sorted order: rel (bool), lo, hi, crel_lo, crel_hi (int32) and ``order``
    (sorted position -> column).
    """
    m, L = s.shape
    order, g = _order_key(s, y != -1)
    rel = np.take_along_axis(y == 1, order, axis=1)
    same = g[:, 1:] == g[:, :-1]
    pos = np.arange(L, dtype=np.int32)
    start = np.ones((m, L), dtype=bool)
    start[:, 1:] = ~same
    end = np.ones((m, L), dtype=bool)
    end[:, :-1] = ~same
    lo = np.maximum.accumulate(np.where(start, pos, 0), axis=1)
    hi = np.minimum.accumulate(np.where(end, pos + 1, L)[:, ::-1], axis=1)[:, ::-1]
    crel = np.zeros((m, L + 1), dtype=np.int32)
    np.cumsum(rel, axis=1, out=crel[:, 1:])
    crel_lo = np.take_along_axis(crel, lo, axis=1)
    crel_hi = np.take_along_axis(crel, hi, axis=1)
    return rel, lo, hi, crel_lo, crel_hi, order


def _row_blocks(n, L):
    step = max(1, _CHUNK // max(L, 1))
    return [(i, min(n, i + step)) for i in range(0, n, step)]


def ranking_rows(y: np.ndarray, s: np.ndarray, ks=(1, 3, 5)) -> dict[str, np.ndarray]:
    """Per-row ranking values (lrap, ranking_loss, coverage, one_error, precision_at_k,
    ndcg_at_k) from one sort of each row, in row blocks of bounded memory."""
    n, L = y.shape
    pos = np.arange(L)
    out: dict[str, list] = {}
    for a, b in _row_blocks(n, L):
        yb = y[a:b]
        rel, lo, hi, clo, chi, _ = sorted_ranks(s[a:b], yb)
        n_rel = np.count_nonzero(rel, axis=1).astype(np.float64)
        n_known = np.count_nonzero(yb != -1, axis=1).astype(np.float64)
        vals = {}
        for k in sorted(set(ks) | {1}):
            c = min(k, L)  # only the first k sorted positions matter (see _formulas)
            top = (pos[:c], lo[:, :c], hi[:, :c], clo[:, :c], chi[:, :c])
            vals[f"precision_at_{k}"] = F.precision_at_k(F.NP, *top, k)
            vals[f"ndcg_at_{k}"] = F.ndcg_at_k(F.NP, *top, n_rel, k)
        vals.update(F.ranking_rows(F.NP, rel, hi, chi, n_rel, n_known, vals["precision_at_1"]))
        if 1 not in ks:
            del vals["precision_at_1"], vals["ndcg_at_1"]
        for key, v in vals.items():
            out.setdefault(key, []).append(v)
    return {k: np.concatenate(v) for k, v in out.items()}


def label_ranking(y: np.ndarray, s: np.ndarray):
    """Per-label (AP, AUC, #positives, #negatives), from one sort of each column.

    AP is NaN for labels without positives; AUC is NaN unless the label has both classes.
    """
    n, L = y.shape
    ap, auc = np.full(L, np.nan), np.full(L, np.nan)
    n_pos = np.count_nonzero(y == 1, axis=0).astype(np.float64)
    n_neg = np.count_nonzero(y == 0, axis=0).astype(np.float64)
    for a, b in _row_blocks(L, n):
        yb, sb = np.ascontiguousarray(y[:, a:b].T), np.ascontiguousarray(s[:, a:b].T)
        rel, lo, hi, crel_lo, crel_hi, _ = sorted_ranks(sb, yb)
        P, N = n_pos[a:b], n_neg[a:b]
        ap[a:b] = np.where(P > 0, F.precision_at_hits(F.NP, rel, hi, crel_hi, P), np.nan)
        u = F.auc_terms(F.NP, rel, lo, hi, crel_lo, crel_hi, N[:, None])
        auc[a:b] = np.where((P > 0) & (N > 0), F.safe_div(F.NP, u, P * N), np.nan)
    return ap, auc, n_pos, n_neg


def _nanmean(v: np.ndarray) -> float:
    v = v[~np.isnan(v)]
    return float(v.mean()) if v.size else float("nan")


# ------------------------------------------------------------------------------- public metrics
def _label_metric(fn, average):
    def metric(y_true, y_pred) -> float:
        y, _, p = _inputs(y_true, y_pred=y_pred)
        tp, fp, fn_ = label_counts(y, p)
        if average == "micro":
            return float(fn(F.NP, tp.sum(), fp.sum(), fn_.sum()))
        return float(np.mean(fn(F.NP, tp, fp, fn_)))
    metric.__name__ = metric.__qualname__ = f"{average}_{fn.__name__}"
    return metric


micro_precision = _label_metric(F.precision, "micro")
micro_recall = _label_metric(F.recall, "micro")
micro_f1 = _label_metric(F.f1, "micro")
macro_precision = _label_metric(F.precision, "macro")
macro_recall = _label_metric(F.recall, "macro")
macro_f1 = _label_metric(F.f1, "macro")
for _f, _doc in [(micro_precision, "sum TP / (sum TP + sum FP)"),
                 (micro_recall, "sum TP / (sum TP + sum FN)"),
                 (micro_f1, "2 sum TP / (2 sum TP + sum FP + sum FN)"),
                 (macro_precision, "mean over labels of TP / (TP + FP)"),
                 (macro_recall, "mean over labels of TP / (TP + FN)"),
                 (macro_f1, "mean over ALL labels of 2TP / (2TP + FP + FN)")]:
    _f.__doc__ = (f"{_doc}; counts over known entries, 0/0 = 0 (sklearn zero_division=0).\n\n"
                  f"    ``metric(y_true, y_pred) -> float``.")
del _f, _doc


def hamming_loss(y_true, y_pred) -> float:
    """Fraction of known (row, label) entries where the decision differs from the truth.

    >>> hamming_loss([[1, 0], [0, 1]], [[1, 1], [0, 1]])
    0.25
    """
    y, _, p = _inputs(y_true, y_pred=y_pred)
    known = y != -1
    n = np.count_nonzero(known)
    return float(np.count_nonzero((p != (y == 1)) & known) / n) if n else float("nan")


def _example_metric(key, doc):
    def metric(y_true, y_pred):
        y, _, p = _inputs(y_true, y_pred=y_pred)
        tp, nt, npred, nw, nk = _row_counts(y, p)
        return _row_mean(F.example_rows(F.NP, tp, nt, npred, nw)[key], nk > 0)
    metric.__name__ = metric.__qualname__ = key
    metric.__doc__ = doc + ("\n\n    Mean over rows with at least one known label; unknown entries"
                            " are dropped from the row.")
    return metric


subset_accuracy = _example_metric(
    "subset_accuracy", "Fraction of rows whose decisions match every known label (exact match).")
example_f1 = _example_metric(
    "example_f1", "Mean over rows of 2|T∩P| / (|T| + |P|); a row with T = P = {} scores 0 "
    "(sklearn f1_score(average='samples', zero_division=0)).")
jaccard = _example_metric(
    "jaccard", "Mean over rows of |T∩P| / |T∪P|; T = P = {} scores 0 "
    "(sklearn jaccard_score(average='samples', zero_division=0)).")
example_precision = _example_metric("example_precision", "Mean over rows of |T∩P| / |P|.")
example_recall = _example_metric("example_recall", "Mean over rows of |T∩P| / |T|.")


def _ranking_metric(key, doc, ks=None):
    def metric(y_true, y_score):
        y, s, _ = _inputs(y_true, y_score)
        return _row_mean(ranking_rows(y, s, ks=ks or ())[key], (y != -1).any(axis=1))
    metric.__name__ = metric.__qualname__ = key
    metric.__doc__ = doc
    return metric


lrap = _ranking_metric("lrap", """Label ranking average precision (sklearn's LRAP).

    Per row: mean over relevant j of |{relevant l: s_l >= s_j}| / |{l: s_l >= s_j}|; rows with
    no relevant label (or only relevant labels) score 1.""")
ranking_loss = _ranking_metric("ranking_loss", """Fraction of (relevant, irrelevant) pairs
    ordered wrongly or tied, per row (sklearn label_ranking_loss); degenerate rows score 0.""")
coverage = _ranking_metric("coverage", """How many labels, best first, must be taken to cover
    every relevant one, ties included (sklearn coverage_error; MULAN's is this minus 1).
    Rows with no relevant label score 0.""")
one_error = _ranking_metric("one_error", """Fraction of rows whose top-scored label is not
    relevant (Schapire & Singer 2000), tie-averaged; rows with no relevant label score 0.""")


def precision_at_k(y_true, y_score, k: int) -> float:
    """P@k: relevant labels among the k best-scored, divided by k, averaged over rows.

    Ties at the cut are averaged (the expectation under random tie-breaking), so the result does
    not depend on column order. Rows without relevant labels count as 0.

    >>> precision_at_k([[1, 0, 1]], [[0.9, 0.8, 0.1]], k=2)
    0.5
    """
    return _ranking_metric(f"precision_at_{int(k)}", "", ks=(int(k),))(y_true, y_score)


def ndcg_at_k(y_true, y_score, k: int) -> float:
    """XMC nDCG@k (Jain, Prabhu & Varma 2016; Bhatia et al., XMC repository).

    DCG@k = sum_{r<=k} y_(r)/log2(r+1) divided by sum_{r=1}^{min(k,|y|)} 1/log2(r+1); rows
    without relevant labels count as 0; ties tie-averaged. Not sklearn's ``ndcg_score(k=k)``,
    whose ideal DCG is also cut at k but which scores empty rows 0 as well -- see docs.
    """
    return _ranking_metric(f"ndcg_at_{int(k)}", "", ks=(int(k),))(y_true, y_score)


def average_precision_per_label(y_true, y_score) -> np.ndarray:
    """(L,) AP per label (sklearn average_precision_score per column); NaN without positives."""
    y, s, _ = _inputs(y_true, y_score)
    return label_ranking(y, s)[0]


def mean_average_precision(y_true, y_score) -> float:
    """Macro AP: mean of per-label AP over labels that have at least one positive."""
    return _nanmean(average_precision_per_label(y_true, y_score))


def macro_auc(y_true, y_score) -> float:
    """Mean ROC AUC over labels having both a positive and a negative (others are skipped;
    sklearn's roc_auc_score(average='macro') raises instead). Ties count 1/2."""
    y, s, _ = _inputs(y_true, y_score)
    return _nanmean(label_ranking(y, s)[1])


def micro_auc(y_true, y_score) -> float:
    """ROC AUC of all known (row, label) entries pooled (sklearn average='micro')."""
    y, s, _ = _inputs(y_true, y_score)
    return _micro_auc(y, s)


def _micro_auc(y, s) -> float:
    """Pooled Mann-Whitney U = sum over positives of (negatives below + half the tied ones)."""
    pos, neg = np.sort(s[y == 1]), np.sort(s[y == 0])
    if pos.size == 0 or neg.size == 0:
        return float("nan")
    below = int(np.searchsorted(neg, pos, side="left").sum())
    upto = int(np.searchsorted(neg, pos, side="right").sum())
    return float((below + 0.5 * (upto - below)) / (pos.size * neg.size))


# ------------------------------------------------------------------------------- XMC propensity
def jain_propensities(y_train, A: float = 0.55, B: float = 1.5) -> np.ndarray:
    """Label propensities p_l = 1 / (1 + C exp(-A log(N_l + B))), C = (log N - 1)(B + 1)^A.

    Jain, Prabhu & Varma, "Extreme Multi-label Loss Functions for Recommendation, Tagging,
    Ranking & Other Missing Label Applications", KDD 2016, eq. (2). N = training rows, N_l =
    positives of label l. The paper uses A=0.55, B=1.5 by default, (0.5, 0.4) for Wikipedia-LSHTC
    and (0.6, 2.6) for Amazon.

    >>> y = np.zeros((100, 3)); y[:2, 0] = 1; y[:20, 1] = 1
    >>> jain_propensities(y).round(3)
    array([0.25 , 0.475, 0.173])
    """
    y = check_targets(y_train)
    N = y.shape[0]
    if N < 1:
        raise DataFormatError("y_train has no rows")
    n_l = np.count_nonzero(y == 1, axis=0).astype(np.float64)
    C = (np.log(N) - 1.0) * (B + 1.0) ** A
    return 1.0 / (1.0 + C * np.exp(-A * np.log(n_l + B)))


def propensity_scored_precision_at_k(y_true, y_score, k: int, propensities,
                                     normalize: bool = False) -> float:
    """PSP@k = mean over rows of (1/k) sum_{l in top k} y_l / p_l (Jain et al. 2016, eq. 3).

    ``normalize=True`` divides by the best achievable PSP@k (each row's relevant labels taken
    in decreasing 1/p_l), the ratio of means the XMC repository's tools report. Ties at the cut
    are averaged like :func:`precision_at_k`; rows without relevant labels count as 0.
    """
    y, s, _ = _inputs(y_true, y_score)
    p = np.asarray(propensities, dtype=np.float64)
    if p.shape != (y.shape[1],):
        raise DataFormatError(f"propensities must have shape ({y.shape[1]},), got {p.shape}")
    if not (np.isfinite(p).all() and (p > 0).all()):
        raise DataFormatError("propensities must be finite and > 0")
    gain = (y == 1) / p  # unknown entries gain nothing
    num = den = 0.0
    k = int(k)
    for a, b in _row_blocks(*y.shape):
        _, lo, hi, _, _, order = sorted_ranks(s[a:b], y[a:b])
        cg = np.zeros((b - a, y.shape[1] + 1))
        np.cumsum(np.take_along_axis(gain[a:b], order, axis=1), axis=1, out=cg[:, 1:])
        c = min(k, y.shape[1])
        lo, hi = lo[:, :c], hi[:, :c]
        glo, ghi = np.take_along_axis(cg, lo, axis=1), np.take_along_axis(cg, hi, axis=1)
        num += F.precision_at_k(F.NP, np.arange(c), lo, hi, glo, ghi, k).sum()
        best = -np.sort(-gain[a:b], axis=1)[:, :k]
        den += best.sum() / k
    valid = (y != -1).any(axis=1).sum()
    if not valid:
        return float("nan")
    if normalize:
        return float(num / den) if den > 0 else 0.0
    return float(num / valid)


# ------------------------------------------------------------------------------- annotation
#: Key names of the image-annotation protocol group of :func:`evaluate` (top 5 per image).
ANNOTATION_KEYS = ("annot_top5_precision", "annot_top5_recall", "annot_top5_f1",
                   "annot_top5_n_plus")


def top_k_decisions(y_score, k: int) -> np.ndarray:
    """Boolean (n, L) matrix marking each row's ``min(k, L)`` highest scores.

    Ties are broken by column order (the lower label index wins), as a stable descending sort
    does (MATLAB's ``sort`` in the reference evaluation code), so the result is deterministic.

    >>> top_k_decisions([[0.1, 0.9, 0.5, 0.5]], 2).astype(int).tolist()
    [[0, 1, 1, 0]]
    """
    s = _dense(y_score, "y_score")
    k = int(k)
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    n, L = s.shape
    c = min(k, L)
    order = np.argsort(-s.astype(np.float64), axis=1, kind="stable")[:, :c]
    out = np.zeros((n, L), dtype=bool)
    np.put_along_axis(out, order, True, axis=1)
    return out


def annotation_metrics(y_true, y_score, k: int = 5) -> dict[str, float]:
    """The image-annotation protocol of Corel5k / ESP Game / IAPR TC-12 papers.

    Each image is annotated with its ``k`` best-scored labels (``min(k, L)`` when there are
    fewer labels; ties to the lower label index). Then, per label ``l``: precision
    ``P_l = TP_l / (#images annotated with l)`` and recall ``R_l = TP_l / (#images whose
    ground truth has l)``; ``P`` and ``R`` are the means of ``P_l`` and ``R_l`` over **all**
    ``L`` labels, where a label never predicted has ``P_l = 0`` and a label without positives
    has ``R_l = 0``; ``F1 = 2 P R / (P + R)`` is computed from the two means (not the mean of
    per-label F1s); ``N+`` is the number of labels with ``R_l > 0`` (at least one correct
    annotation). This is the protocol of Makadia, Pavlovic & Kumar (ECCV 2008), TagProp
    (Guillaumin, Mensink, Verbeek & Schmid, ICCV 2009) and 2PKNN (Verma & Jawahar, ECCV 2012):
    their published F1 equals 2PR/(P+R) of their published P and R (TagProp sigma-ML on
    Corel5k: P 33, R 42 -> F1 37.0; 2PKNN+ML: 44, 46 -> 45.0), and the evaluation code
    distributed with these baselines divides by ``max(#predicted, eps)``, i.e. ``P_l = 0``
    for a label never predicted. On Corel5k every one of the 260 labels has test positives.

    Unknown entries (-1) of ``y_true`` are left out: a top-k pick on an unknown entry counts
    neither as correct nor as predicted.

    Returns:
        ``{"annot_top{k}_precision", "annot_top{k}_recall", "annot_top{k}_f1",
        "annot_top{k}_n_plus"}`` (``n_plus`` as a float count).

    >>> y = [[1, 0, 0], [0, 1, 1]]
    >>> s = [[0.9, 0.8, 0.1], [0.2, 0.7, 0.1]]
    >>> r = annotation_metrics(y, s, k=1)     # picks: label 0, label 1
    >>> r["annot_top1_precision"], r["annot_top1_recall"], r["annot_top1_n_plus"]
    (0.6666666666666666, 0.6666666666666666, 2.0)
    """
    y, s, _ = _inputs(y_true, y_score)
    pick = top_k_decisions(s, k)
    pos, known = y == 1, y != -1
    tp = np.count_nonzero(pick & pos, axis=0).astype(np.float64)
    n_pred = np.count_nonzero(pick & known, axis=0).astype(np.float64)
    n_true = np.count_nonzero(pos, axis=0).astype(np.float64)
    p_l = np.divide(tp, n_pred, out=np.zeros_like(tp), where=n_pred > 0)
    r_l = np.divide(tp, n_true, out=np.zeros_like(tp), where=n_true > 0)
    P = float(p_l.mean()) if p_l.size else float("nan")
    R = float(r_l.mean()) if r_l.size else float("nan")
    f1 = 2.0 * P * R / (P + R) if P + R > 0 else 0.0
    key = f"annot_top{int(k)}"
    return {f"{key}_precision": P, f"{key}_recall": R, f"{key}_f1": float(f1),
            f"{key}_n_plus": float(np.count_nonzero(r_l > 0))}


# ------------------------------------------------------------------------------- composition
def per_label_report(y_true, y_score, threshold=0.5, *, y_pred=None, label_names=None) -> dict:
    """Per-label precision, recall, f1, support (known positives) and AP, as (L,) arrays.

    AP is NaN for a label without positives. ``label_names`` (if given) is returned as "label".
    """
    y, s, p = _inputs(y_true, y_score, y_pred, threshold)
    tp, fp, fn = label_counts(y, p)
    ap = label_ranking(y, s)[0]
    out = {"precision": F.precision(F.NP, tp, fp, fn), "recall": F.recall(F.NP, tp, fp, fn),
           "f1": F.f1(F.NP, tp, fp, fn), "support": np.count_nonzero(y == 1, axis=0),
           "average_precision": ap}
    if label_names is not None:
        if len(label_names) != y.shape[1]:
            raise DataFormatError(f"{len(label_names)} label names for {y.shape[1]} labels")
        out = {"label": list(label_names), **out}
    return out


#: Metric groups :func:`evaluate` computes by default. ``"annotation"`` (the image-annotation
#: protocol, :data:`ANNOTATION_KEYS`) is opt-in, so the metrics of existing results keep
#: exactly their keys; datasets that report it say so in their catalog record
#: (``extra["metric_groups"]``).
DEFAULT_GROUPS = ("decision", "ranking", "label_ranking")
GROUPS = DEFAULT_GROUPS + ("annotation",)


def evaluate(y_true, y_score, threshold=0.5, *, y_pred=None, ks=(1, 3, 5),
             groups=DEFAULT_GROUPS) -> dict[str, float]:
    """Every multi-label metric of scores ``y_score`` (and decisions) against ``y_true``.

    Decisions are ``y_score > threshold`` (strict) (scalar or per-label (L,)), or ``y_pred`` if given
    (e.g. a top-k rule). ``groups`` selects what to compute: "decision" (F1s, Hamming, subset
    accuracy, Jaccard), "ranking" (per-row: P@k, nDCG@k, LRAP, one-error, coverage, ranking
    loss), "label_ranking" (macro AP, micro/macro AUC) and, only when asked for,
    "annotation" (:func:`annotation_metrics` with k = 5: ``annot_top5_precision``,
    ``annot_top5_recall``, ``annot_top5_f1``, ``annot_top5_n_plus``; it ignores ``threshold``
    and ``y_pred``). Undefined values (e.g. macro AUC when no label has both classes) are NaN.

    >>> r = evaluate([[1, 0, 1], [0, 1, 0]], [[0.9, 0.2, 0.6], [0.3, 0.4, 0.1]])
    >>> r["micro_f1"], r["precision_at_1"], r["coverage"]
    (0.8, 1.0, 1.5)
    """
    unknown = set(groups) - set(GROUPS)
    if unknown:
        raise ValueError(f"unknown metric groups {sorted(unknown)}; choose from "
                         f"{', '.join(map(repr, GROUPS))}")
    ks = tuple(int(k) for k in ks)
    if any(k < 1 for k in ks):
        raise ValueError(f"every k in ks must be >= 1, got {ks}")
    y, s, p = _inputs(y_true, y_score, y_pred, threshold)
    out: dict[str, float] = {}
    valid = (y != -1).any(axis=1)
    if "decision" in groups:
        tp, fp, fn = label_counts(y, p)
        T, FP, FN = tp.sum(), fp.sum(), fn.sum()
        for name, f in [("precision", F.precision), ("recall", F.recall), ("f1", F.f1)]:
            out[f"micro_{name}"] = float(f(F.NP, T, FP, FN))
            out[f"macro_{name}"] = float(np.mean(f(F.NP, tp, fp, fn)))
        known = y != -1
        nk = np.count_nonzero(known)
        out["hamming_loss"] = (float(np.count_nonzero((p != (y == 1)) & known) / nk)
                               if nk else float("nan"))
        tpr, nt, npred, nw, _ = _row_counts(y, p)
        for key, v in F.example_rows(F.NP, tpr, nt, npred, nw).items():
            out[key] = _row_mean(v, valid)
    if "ranking" in groups:
        for key, v in ranking_rows(y, s, ks).items():
            out[key] = _row_mean(v, valid)
    if "label_ranking" in groups:
        ap, auc, _, _ = label_ranking(y, s)
        out["mean_average_precision"] = _nanmean(ap)
        out["macro_auc"] = _nanmean(auc)
        out["micro_auc"] = _micro_auc(y, s)
    if "annotation" in groups:
        out.update(annotation_metrics(y, s, k=5))
    return out
