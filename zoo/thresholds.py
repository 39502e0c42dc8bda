"""Decision rules: turn a score matrix ``(n, L)`` into a binary label matrix, and tune them.

A multi-label model outputs one score per (example, label). A *rule* decides which labels to
predict. Every rule has the same small interface and is plain data, so a checkpoint's
``zoo.json`` carries it::

    rule.apply(scores)          # -> bool array (n, L)
    rule.to_dict(), rule.to_json()
    zoo.thresholds.from_dict(d), zoo.thresholds.from_json(s)

Rules (the names follow Yang, 2001, "A study of thresholding strategies for text
categorization", SIGIR, doi:10.1145/383952.383975):

* :class:`GlobalThreshold` -- one cut for every label (a fixed or globally tuned "SCut").
* :class:`PerLabelThreshold` -- one cut per label (SCut); tune it with :func:`tune_per_label`.
* :class:`TopK` -- the ``k`` best-scoring labels of each row (Yang's rank cut, RCut).
* :class:`AtLeastOne` -- wraps any rule; a row left empty gets its best-scoring label.

Conventions (one place, for every rule and tuner):

* A label is predicted when its score is **strictly greater** than the threshold
  (``score > t``), as Keras' thresholded metrics do. Tuned thresholds lie strictly between
  two validation scores, so the convention only matters for hand-set cuts such as 0.5.
* Scores may be probabilities (the default cut 0.5 assumes them) or any real-valued scores
  such as logits: every rule only compares and orders scores, so it works on logits with a
  cut on the logit scale (0.0 is the logit of 0.5). Scores must be finite; NaN or
  infinity raises :class:`zoo.errors.DataFormatError`.
* Ties between labels of one row (:class:`TopK`, :class:`AtLeastOne`): the lower label
  index wins.
* Label matrices for tuning hold 1 (positive), 0 (negative) and -1 (unknown); unknown
  entries are ignored (they neither count nor define a candidate cut).

Tuning runs on a **validation** split, never on test data. It is exact and vectorized: the
scores are sorted once and every cut between two adjacent distinct scores is evaluated
from cumulative counts, so no grid of candidate values and no Python loop over rows.

Example::

    >>> import numpy as np
    >>> from zoo import thresholds as th
    >>> s = np.array([[0.9, 0.2, 0.6], [0.1, 0.3, 0.2]])
    >>> th.GlobalThreshold(0.5).apply(s).astype(int)
    array([[1, 0, 1],
           [0, 0, 0]])
    >>> th.AtLeastOne(th.GlobalThreshold(0.5)).apply(s).astype(int)
    array([[1, 0, 1],
           [0, 1, 0]])
    >>> rule = th.from_json(th.TopK(1).to_json()); rule
    TopK(1)
"""
from __future__ import annotations

import json
import numbers
from typing import Any

import numpy as np

from zoo.errors import DataFormatError

__all__ = [
    "Rule", "GlobalThreshold", "PerLabelThreshold", "TopK", "AtLeastOne",
    "from_dict", "from_json", "tune_per_label", "tune_global", "tune_shrunk", "tune_top_k",
    "choose_rule", "crossfit_score", "heldout_scores", "pick", "CANDIDATES", "CRITERION", "parse", "SPEC_FORMS",
]

#: Tuning sweeps at most about this many (n+1) x labels cells at once (memory bound).
_BLOCK_CELLS = 1 << 22


# ----------------------------------------------------------------------------- validation

def _where(idx) -> str:
    return "[" + ", ".join(str(int(i)) for i in idx) + "]"


def _as_scores(scores, name: str = "scores") -> np.ndarray:
    """``scores`` as a finite float64 (n, L) array, or a DataFormatError naming the problem."""
    if hasattr(scores, "toarray"):  # scipy.sparse
        scores = scores.toarray()
    try:
        s = np.asarray(scores)
    except Exception as e:  # ragged lists and the like
        raise DataFormatError(f"{name}: cannot be read as a numeric array ({e})") from None
    if s.dtype == object or not (np.issubdtype(s.dtype, np.number) or s.dtype == bool):
        raise DataFormatError(f"{name}: expected a numeric array, got dtype {s.dtype}")
    if s.ndim != 2:
        raise DataFormatError(f"{name}: expected a 2-D array (examples, labels),"
                              f" got shape {s.shape}")
    if s.shape[1] == 0:
        raise DataFormatError(f"{name}: has no label columns (shape {s.shape})")
    s = s.astype(np.float64, copy=False)
    bad = ~np.isfinite(s)
    if bad.any():
        idx = np.argwhere(bad)[0]
        raise DataFormatError(f"{name}: {int(bad.sum())} non-finite value(s), first {name}"
                              f"{_where(idx)} = {s[tuple(idx)]}; scores must be finite numbers")
    return s


def _as_labels(y, name: str = "y_val") -> np.ndarray:
    """``y`` as an int8 (n, L) array with values in {1, 0, -1}."""
    if hasattr(y, "toarray"):
        y = y.toarray()
    try:
        a = np.asarray(y)
    except Exception as e:
        raise DataFormatError(f"{name}: cannot be read as a numeric array ({e})") from None
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise DataFormatError(f"{name}: expected a numeric label matrix, got dtype {a.dtype}")
    if a.ndim != 2:
        raise DataFormatError(f"{name}: expected a 2-D label matrix (examples, labels),"
                              f" got shape {a.shape}")
    ok = (a == 1) | (a == 0) | (a == -1)
    if not ok.all():
        idx = np.argwhere(~ok)[0]
        raise DataFormatError(f"{name}: {int((~ok).sum())} value(s) outside {{0, 1, -1}}, first"
                              f" {name}{_where(idx)} = {a[tuple(idx)].item()}; expected"
                              " 1 (positive), 0 (negative) or -1 (unknown)")
    return a.astype(np.int8)


def _check_pair(y_val, s_val) -> tuple[np.ndarray, np.ndarray]:
    y = _as_labels(y_val, "y_val")
    s = _as_scores(s_val, "s_val")
    if y.shape != s.shape:
        raise DataFormatError(f"y_val has shape {y.shape} but s_val has shape {s.shape};"
                              " they must match (validation examples, labels)")
    if y.shape[0] == 0:
        raise DataFormatError("y_val and s_val have no rows; tuning needs validation examples")
    return y, s


def _finite_float(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise DataFormatError(f"{what}: expected a number, got {value!r}")
    v = float(value)
    if not np.isfinite(v):
        raise DataFormatError(f"{what}: expected a finite number, got {v}")
    return v


def _beta(metric: str, beta: float, allowed: tuple[str, str]) -> float:
    f1, fbeta = allowed
    if metric == f1:
        return 1.0
    if metric == fbeta:
        b = _finite_float(beta, "beta")
        if b <= 0:
            raise ValueError(f"beta must be > 0, got {beta}")
        return b
    raise ValueError(f"unknown metric {metric!r}; use {f1!r} or {fbeta!r} (with beta=...)")


# ----------------------------------------------------------------------------- rules

class Rule:
    """Base class of the decision rules. Subclasses define ``apply``, ``to_dict``, ``_from``."""

    #: the ``"rule"`` value in :meth:`to_dict`; the key of :func:`from_dict`'s dispatch.
    name: str = ""

    def apply(self, scores) -> np.ndarray:
        """Binary decisions: a bool array of the shape of ``scores`` (n, L)."""
        raise NotImplementedError

    def __call__(self, scores) -> np.ndarray:
        return self.apply(scores)

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def to_json(self, indent: int | None = None) -> str:
        """The rule as strict JSON (``allow_nan=False``): what a checkpoint's ``zoo.json`` holds."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def _from(cls, d: dict) -> "Rule":
        raise NotImplementedError

    def __eq__(self, other):
        if not isinstance(other, Rule):
            return NotImplemented
        return type(self) is type(other) and self.to_dict() == other.to_dict()

    def __hash__(self):
        return hash(self.to_json())


class GlobalThreshold(Rule):
    """Predict label ``j`` of row ``i`` when ``scores[i, j] > t``; one cut for every label.

    Args:
        t: the cut, a finite number. 0.5 for probabilities; on logits use 0.0 for the same
            decisions. :func:`tune_global` chooses it on validation data.

    Example::

        >>> GlobalThreshold(0.5).apply(np.array([[0.7, 0.5, 0.2]]))
        array([[ True, False, False]])
    """

    name = "global"

    def __init__(self, t: float = 0.5):
        self.t = _finite_float(t, "GlobalThreshold threshold")

    @property
    def threshold(self) -> float:
        return self.t

    def apply(self, scores) -> np.ndarray:
        return _as_scores(scores) > self.t

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.name, "threshold": self.t}

    @classmethod
    def _from(cls, d):
        return cls(_get(d, "threshold"))

    def __repr__(self):
        return f"GlobalThreshold({self.t!r})"


class PerLabelThreshold(Rule):
    """Predict label ``j`` of row ``i`` when ``scores[i, j] > thresholds[j]`` (Yang's SCut).

    Args:
        thresholds: array-like (L,) of finite cuts, one per label (column order of the
            scores). :func:`tune_per_label` chooses them on validation data.

    Example::

        >>> PerLabelThreshold([0.3, 0.8]).apply(np.array([[0.5, 0.5]]))
        array([[ True, False]])
    """

    name = "per_label"

    def __init__(self, thresholds):
        try:
            t = np.array(thresholds, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise DataFormatError(f"PerLabelThreshold thresholds: expected numbers ({e})") from None
        if t.ndim != 1 or t.size == 0:
            raise DataFormatError("PerLabelThreshold thresholds: expected a non-empty 1-D array"
                                  f" (one per label), got shape {t.shape}")
        if not np.isfinite(t).all():
            j = int(np.flatnonzero(~np.isfinite(t))[0])
            raise DataFormatError(f"PerLabelThreshold thresholds: thresholds[{j}] = {t[j]} is"
                                  " not finite")
        t.setflags(write=False)
        self.thresholds = t

    @property
    def num_labels(self) -> int:
        return int(self.thresholds.size)

    def apply(self, scores) -> np.ndarray:
        s = _as_scores(scores)
        if s.shape[1] != self.thresholds.size:
            raise DataFormatError(f"scores have {s.shape[1]} label columns but the rule has"
                                  f" {self.thresholds.size} thresholds")
        return s > self.thresholds

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.name, "thresholds": [float(v) for v in self.thresholds]}

    @classmethod
    def _from(cls, d):
        t = _get(d, "thresholds")
        if not isinstance(t, (list, tuple)) or any(isinstance(v, bool) or not
                                                   isinstance(v, numbers.Real) for v in t):
            raise DataFormatError("rule 'per_label': 'thresholds' must be a list of numbers")
        return cls(t)

    def __repr__(self):
        t = [f"{v:.6g}" for v in self.thresholds]
        if len(t) > 12:  # summarize long vectors (XMC label sets)
            t = t[:3] + ["..."] + t[-3:] + [f"<{self.thresholds.size} labels>"]
        return f"PerLabelThreshold([{', '.join(t)}])"


class TopK(Rule):
    """Predict the ``k`` highest-scoring labels of every row (Yang's rank cut, RCut).

    Ties are broken towards the lower label index; with ``k >= L`` every label is predicted.

    Example::

        >>> TopK(2).apply(np.array([[0.2, 0.9, 0.2, 0.2]])).astype(int)
        array([[1, 1, 0, 0]])
    """

    name = "top_k"

    def __init__(self, k: int = 1):
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
            raise DataFormatError(f"TopK: k must be an integer >= 1, got {k!r}")
        self.k = int(k)

    def apply(self, scores) -> np.ndarray:
        s = _as_scores(scores)
        k = min(self.k, s.shape[1])
        out = np.zeros(s.shape, dtype=bool)
        # A stable sort of the negated scores keeps equal scores in label order.
        idx = np.argsort(-s, axis=1, kind="stable")[:, :k]
        np.put_along_axis(out, idx, True, axis=1)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.name, "k": self.k}

    @classmethod
    def _from(cls, d):
        return cls(_get(d, "k"))

    def __repr__(self):
        return f"TopK({self.k})"


class AtLeastOne(Rule):
    """Wrap ``rule``; every row it leaves empty gets its single best-scoring label.

    Multi-label benchmarks rarely have examples without labels, so an empty prediction is
    usually a recall loss. Ties for the best score go to the lower label index.

    Example::

        >>> AtLeastOne(GlobalThreshold(0.5)).apply(np.array([[0.1, 0.3, 0.3]])).astype(int)
        array([[0, 1, 0]])
    """

    name = "at_least_one"

    def __init__(self, rule: Rule):
        if not isinstance(rule, Rule):
            raise TypeError(f"AtLeastOne wraps a zoo.thresholds rule, got {type(rule).__name__}")
        self.rule = rule

    def apply(self, scores) -> np.ndarray:
        s = _as_scores(scores)
        out = np.array(self.rule.apply(s), dtype=bool, copy=True)
        empty = np.flatnonzero(~out.any(axis=1))
        out[empty, np.argmax(s[empty], axis=1)] = True  # argmax: first (lowest) index on ties
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.name, "inner": self.rule.to_dict()}

    @classmethod
    def _from(cls, d):
        inner = _get(d, "inner")
        if not isinstance(inner, dict):
            raise DataFormatError("rule 'at_least_one': 'inner' must be a rule dict")
        return cls(from_dict(inner))

    def __repr__(self):
        return f"AtLeastOne({self.rule!r})"


_RULES: dict[str, type[Rule]] = {c.name: c for c in (GlobalThreshold, PerLabelThreshold,
                                                     TopK, AtLeastOne)}
_KEYS = {"global": {"threshold"}, "per_label": {"thresholds"}, "top_k": {"k"},
         "at_least_one": {"inner"}}


def _get(d: dict, key: str):
    if key not in d:
        raise DataFormatError(f"rule {d.get('rule')!r}: missing key {key!r}")
    return d[key]


def from_dict(d: dict) -> Rule:
    """The rule a :meth:`Rule.to_dict` produced (``{"rule": name, ...}``).

    Example::

        >>> from_dict({"rule": "per_label", "thresholds": [0.4, 0.6]})
        PerLabelThreshold([0.4, 0.6])
    """
    if not isinstance(d, dict):
        raise DataFormatError(f"a threshold rule must be a dict, got {type(d).__name__}")
    name = d.get("rule")
    if name not in _RULES:
        raise DataFormatError(f"unknown threshold rule {name!r}; known: {sorted(_RULES)}")
    extra = set(d) - {"rule"} - _KEYS[name]
    if extra:
        raise DataFormatError(f"rule {name!r}: unexpected key(s) {sorted(extra)};"
                              f" expected {sorted(_KEYS[name])}")
    return _RULES[name]._from(d)


def from_json(s: str) -> Rule:
    """The rule a :meth:`Rule.to_json` produced."""
    try:
        d = json.loads(s)
    except (TypeError, ValueError) as e:
        raise DataFormatError(f"threshold rule: not valid JSON ({e})") from None
    return from_dict(d)


# ----------------------------------------------------------------------------- tuning

def _midpoint(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """A cut ``t`` with ``lo <= t < hi`` (so ``hi > t`` and not ``lo > t``), near the middle.

    When ``hi`` and ``lo`` are adjacent floats the middle rounds to one of them; ``lo`` is then
    used, which still separates them under the ``score > t`` convention.
    """
    t = 0.5 * hi + 0.5 * lo
    return np.where((t >= lo) & (t < hi), t, lo)


def _sweep(y: np.ndarray, s: np.ndarray, beta2: float):
    """Best F_beta cut for every column of ``y``/``s`` (one block of labels).

    Sort each column by decreasing score (unknown entries last, as -inf); cut ``k`` predicts
    the top ``k`` known rows. Cut ``k`` is a real threshold only where the k-th and (k+1)-th
    known scores differ, or at ``k = 0`` (none) and ``k = m`` (all ``m`` known rows).

    Returns (threshold, best F, best k, known count m, positives P), arrays over the columns.
    Among cuts with equal F the smallest ``k`` (highest threshold) wins.
    """
    n, b = y.shape
    known = y >= 0
    key = np.where(known, s, -np.inf)
    # Order within tied scores is irrelevant: cuts inside a tie are not candidates.
    order = np.argsort(-key, axis=0)
    srt = np.take_along_axis(key, order, axis=0)
    ysrt = np.take_along_axis(y, order, axis=0)
    tp = np.zeros((n + 1, b), dtype=np.int64)
    pp = np.zeros((n + 1, b), dtype=np.int64)
    np.cumsum(ysrt == 1, axis=0, out=tp[1:])
    np.cumsum(ysrt >= 0, axis=0, out=pp[1:])
    m = pp[-1]
    pos = tp[-1]
    denom = beta2 * pos + pp
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(denom > 0, (1.0 + beta2) * tp / np.where(denom > 0, denom, 1), 0.0)
    k = np.arange(n + 1)[:, None]
    valid = np.zeros((n + 1, b), dtype=bool)
    valid[0] = True
    valid[1:n] = (srt[:-1] > srt[1:]) & (k[1:n] < m)
    valid |= k == m
    best_k = np.argmax(np.where(valid, f, -1.0), axis=0)
    best_f = f[best_k, np.arange(b)]
    # Threshold of cut k: between srt[k-1] (last predicted) and srt[k] (first not predicted).
    cols = np.arange(b)
    hi = srt[np.maximum(best_k - 1, 0), cols]
    lo = srt[np.minimum(best_k, n - 1), cols]
    thr = _midpoint(hi, lo)
    top = srt[0]
    thr = np.where(best_k == 0, top, thr)                   # predict none: t = max score
    last = srt[np.maximum(m - 1, 0), cols]
    thr = np.where((best_k == m) & (m > 0), np.nextafter(last, -np.inf), thr)  # predict all
    return thr, best_f, best_k, m, pos


def tune_per_label(y_val, s_val, metric: str = "f1", fallback: float | str = 0.5,
                   min_positives: int = 1, fbr: float = 0.1, beta: float = 1.0,
                   return_info: bool = False):
    """Per-label thresholds maximizing each label's F1 on a validation split (SCutFBR).

    Yang's SCut (Yang, 2001, SIGIR, doi:10.1145/383952.383975) picks, for every label
    separately, the cut that maximizes that label's F on validation data. It overfits rare
    labels, so -- like Yang's SCutFBR -- a label falls back to a default cut when its tuned cut
    is not trustworthy. Here a label gets ``fallback`` when

    1. it has fewer than ``min_positives`` positive validation examples (``"few_positives"``;
       with none, F1 is 0 for every cut and nothing can be tuned), or
    2. its best validation F is below ``fbr`` (``"below_fbr"``; Yang's F1 "fbr" floor;
       default 0.1, our choice: such a label's scores carry almost no signal), or
    3. the best cut predicts *every* known validation row positive (``"predicts_all"``: the
       optimum is the trivial "always" rule, which fails as soon as a negative appears).

    Yang's SCutFBR.1 sets such a label's cut to its top validation score (predict almost
    never); pass ``fallback="max"`` for that (the top score among the label's known entries).
    The default, a fixed 0.5, is the untuned rule.

    The search is exact: each label's known scores are sorted once and F is computed for
    every cut between adjacent distinct scores from cumulative counts (vectorized over rows
    and labels). The stored threshold is the **midpoint** between the last predicted and the
    first rejected validation score, so that test scores close to either side are treated
    as their neighbours were. Among cuts with equal F the highest threshold (fewest
    positives) wins. Unknown entries (-1) are ignored.

    Args:
        y_val: (n, L) validation labels in {1, 0, -1} (dense or scipy.sparse).
        s_val: (n, L) finite validation scores (probabilities or logits -- the cut is on
            the same scale; then use a fallback on that scale, e.g. 0.0 for logits).
        metric: ``"f1"``, or ``"fbeta"`` with ``beta`` (F_beta of the label).
        fallback: a number (the cut for untrustworthy labels) or ``"max"`` (SCutFBR.1).
        min_positives: fewest validation positives a label needs to be tuned (>= 1).
        fbr: the F floor below which the fallback is used (0 disables the check).
        return_info: also return a dict of per-label arrays: ``reason`` ("tuned",
            "few_positives", "below_fbr", "predicts_all"), ``f_val`` (best validation F of
            the tuned cut), ``tuned`` (the tuned cut before any fallback), ``positives``.

    Returns:
        :class:`PerLabelThreshold`, or ``(rule, info)`` with ``return_info=True``.

    Example::

        >>> y = np.array([[1, 0], [1, 0], [0, 0], [0, 1]])
        >>> s = np.array([[0.9, 0.1], [0.6, 0.2], [0.3, 0.3], [0.2, 0.7]])
        >>> tune_per_label(y, s)
        PerLabelThreshold([0.45, 0.5])
    """
    y, s = _check_pair(y_val, s_val)
    beta2 = _beta(metric, beta, ("f1", "fbeta")) ** 2
    if isinstance(fallback, str):
        if fallback != "max":
            raise ValueError(f"fallback must be a number or 'max' (SCutFBR.1), got {fallback!r}")
    else:
        fallback = _finite_float(fallback, "fallback")
    if isinstance(min_positives, bool) or not isinstance(min_positives, numbers.Integral) \
            or min_positives < 1:
        raise ValueError(f"min_positives must be an integer >= 1, got {min_positives!r}")
    fbr = _finite_float(fbr, "fbr")

    n, num_labels = y.shape
    thr = np.empty(num_labels)
    f_val = np.empty(num_labels)
    best_k = np.empty(num_labels, dtype=np.int64)
    m = np.empty(num_labels, dtype=np.int64)
    pos = np.empty(num_labels, dtype=np.int64)
    step = max(1, _BLOCK_CELLS // (n + 1))
    for a in range(0, num_labels, step):  # blocks of labels bound the memory, not the speed
        sl = slice(a, a + step)
        thr[sl], f_val[sl], best_k[sl], m[sl], pos[sl] = _sweep(y[:, sl], s[:, sl], beta2)

    reason = np.full(num_labels, "tuned", dtype=object)
    reason[best_k == m] = "predicts_all"
    reason[f_val < fbr] = "below_fbr"
    reason[pos < min_positives] = "few_positives"
    fall = reason != "tuned"
    if fallback == "max":
        # Yang's SCutFBR.1: the label's top validation score, over known entries only (an
        # unknown entry's score says nothing about the label; all unknown: over every row)
        known = y >= 0
        top_known = np.where(known, s, -np.inf).max(axis=0)
        fb = np.where(known.any(axis=0), top_known, s.max(axis=0))
    else:
        fb = np.full(num_labels, fallback)
    rule = PerLabelThreshold(np.where(fall, fb, thr))
    if not return_info:
        return rule
    info = {"reason": reason.astype(str), "f_val": f_val, "tuned": thr, "positives": pos}
    return rule, info


def tune_global(y_val, s_val, metric: str = "micro_f1", fallback: float = 0.5,
                beta: float = 1.0) -> GlobalThreshold:
    """One threshold for all labels maximizing micro-averaged F1 on a validation split.

    Exact: the ``n * L`` known scores are sorted once; micro-F at every cut between adjacent
    distinct scores follows from cumulative true-positive counts. The cut is the midpoint
    between neighbouring scores; ties in F go to the highest threshold. Unknown entries (-1)
    are ignored. Returns ``GlobalThreshold(fallback)`` when the split has no positive at all
    or when the best cut would predict every known entry positive.

    Args:
        y_val: (n, L) validation labels in {1, 0, -1}.
        s_val: (n, L) finite validation scores.
        metric: ``"micro_f1"``, or ``"micro_fbeta"`` with ``beta``.
        fallback: the cut returned when tuning is impossible or trivial (see above).

    Example::

        >>> y = np.array([[1, 0], [0, 1], [0, 0]])
        >>> s = np.array([[0.8, 0.3], [0.2, 0.6], [0.1, 0.4]])
        >>> tune_global(y, s)
        GlobalThreshold(0.5)
    """
    y, s = _check_pair(y_val, s_val)
    beta2 = _beta(metric, beta, ("micro_f1", "micro_fbeta")) ** 2
    fallback = _finite_float(fallback, "fallback")
    known = y >= 0
    sk = s[known]
    pos = np.sort(sk[y[known] == 1])[::-1]          # positives' scores, high to low
    if pos.size == 0:
        return GlobalThreshold(fallback)
    # Only cuts that end just after a positive's tie group can be best: moving the cut further
    # down adds only negatives, which lowers F. So sort the scores (values, not indices) once
    # and count, for each distinct positive score v, the known entries scoring >= v. This is
    # the cut _sweep would find (the same F values, ties to the highest cut), without an
    # argsort of all n * L entries (docs/benchmarks.md, "Cost growth").
    allv = np.sort(sk)
    cand = np.unique(pos)[::-1]                       # distinct positive scores, high to low
    tp = np.searchsorted(-pos, -cand, side="right")   # positives scoring >= v
    pp = allv.size - np.searchsorted(allv, cand, side="left")   # known entries >= v
    f = (1.0 + beta2) * tp / (beta2 * pos.size + pp)
    best = int(np.argmax(f))                          # first maximum: the highest cut
    v = cand[best]
    below = np.searchsorted(allv, v, side="left")     # entries scoring < v
    if below == 0:                                    # the cut predicts every known entry
        return GlobalThreshold(fallback)
    return GlobalThreshold(float(_midpoint(np.asarray(v), np.asarray(allv[below - 1]))))


def tune_shrunk(y_val, s_val, strength: float = 10.0, return_info: bool = False, *,
                _parts=None):
    """Per-label cuts shrunk towards one global cut: SCut that does not overfit rare labels.

    A per-label cut tuned on a label's ``P`` validation positives is noisy when ``P`` is
    small. This rule starts from both tuned cuts, the label's own ``t_j``
    (:func:`tune_per_label`) and the global micro-F1 cut ``t_g`` (:func:`tune_global`), and
    uses their positive-count weighted mean, ``(P_j * t_j + strength * t_g) / (P_j +
    strength)`` -- the posterior mean of a label's cut under a prior centred on the global cut
    worth ``strength`` positives (empirical-Bayes shrinkage). Labels whose own cut cannot be
    tuned (no positive, best F below 0.1, or the trivial "predict all" cut, see
    :func:`tune_per_label`) get ``t_g``. With probabilities the mean is taken on the logit
    scale (cuts of 0.01 and 0.1 are as far apart as 0.5 and 0.9 there); other scores are
    averaged as they are.

    ``strength=0`` is :func:`tune_per_label` with the global cut as fallback; a very large
    strength is :func:`tune_global`.

    Example::

        >>> y = np.array([[1, 0], [1, 0], [0, 0], [0, 1], [0, 1]])
        >>> s = np.array([[0.9, 0.1], [0.6, 0.2], [0.3, 0.3], [0.2, 0.7], [0.1, 0.8]])
        >>> r = tune_shrunk(y, s, strength=2)
        >>> bool(tune_per_label(y, s).thresholds[0] <= r.thresholds[0])
        True
    """
    strength = _finite_float(strength, "strength")
    if strength < 0:
        raise ValueError(f"strength must be >= 0, got {strength}")
    parts = _parts if _parts is not None else _Parts(*_check_pair(y_val, s_val))
    s = parts.s
    g = parts.global_cut().threshold
    own, info = parts.per_label()
    weight = np.where(info["reason"] == "tuned", info["positives"], 0).astype(np.float64)
    weight = weight / np.maximum(weight + strength, 1e-12)
    t = own.thresholds
    if s.min() >= 0.0 and s.max() <= 1.0 and 0.0 <= g <= 1.0:
        eps = 1e-7

        def logit(v):
            v = np.clip(v, eps, 1 - eps)
            return np.log(v / (1 - v))
        mixed = weight * logit(t) + (1 - weight) * logit(np.float64(g))
        cut = 1 / (1 + np.exp(-mixed))
        # a label's own cut at the clip edge (predict none above 1 - eps) keeps its own value
        cut = np.where(weight >= 1.0, t, cut)
    else:
        cut = weight * t + (1 - weight) * g
    rule = PerLabelThreshold(cut)
    if not return_info:
        return rule
    return rule, {**info, "global": g, "weight": weight}


def tune_top_k(y_val, s_val, max_k: int = 10) -> TopK:
    """The rank cut ``TopK(k)`` with the ``k`` in ``1..max_k`` that maximizes the mean of
    micro- and macro-F1 (:data:`CRITERION`) on a validation split (ties: the smaller ``k``).

    Example::

        >>> y = np.array([[1, 1, 0], [1, 0, 1], [0, 1, 1]])
        >>> s = np.array([[0.9, 0.8, 0.1], [0.7, 0.2, 0.6], [0.1, 0.5, 0.4]])
        >>> tune_top_k(y, s)
        TopK(2)
    """
    y, s = _check_pair(y_val, s_val)
    if isinstance(max_k, bool) or not isinstance(max_k, numbers.Integral) or max_k < 1:
        raise ValueError(f"max_k must be an integer >= 1, got {max_k!r}")
    order = np.argsort(-s, axis=1, kind="stable")
    pred = np.zeros(s.shape, dtype=bool)
    best_k, best = 1, -1.0
    for k in range(1, min(int(max_k), s.shape[1]) + 1):
        np.put_along_axis(pred, order[:, k - 1:k], True, axis=1)
        v = criterion(y, pred)
        if v > best + 1e-12:
            best_k, best = k, v
    return TopK(best_k)


# ----------------------------------------------------------------------------- choosing a rule

#: What :func:`choose_rule` maximizes on held-out validation rows.
CRITERION = "mean of micro-F1 and macro-F1"


def f1_pair(y, pred) -> tuple[float, float]:
    """(micro-F1, macro-F1) of 0/1 decisions ``pred`` against labels ``y`` in {1, 0, -1}
    (unknown entries ignored); a label with no positive and no prediction has F1 0, the 0/0 = 0
    convention of :func:`zoo.metrics.evaluate`."""
    y = np.asarray(y)
    known = y >= 0
    pos = (y == 1)
    pred = np.asarray(pred, dtype=bool) & known
    tp = (pos & pred).sum(axis=0).astype(np.float64)
    fp = (~pos & pred).sum(axis=0)
    fn = (pos & ~pred).sum(axis=0)
    denom = 2 * tp + fp + fn
    micro = 2 * tp.sum() / denom.sum() if denom.sum() else 0.0
    macro = np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0).mean()
    return float(micro), float(macro)


def criterion(y, pred) -> float:
    """:data:`CRITERION` of decisions ``pred``."""
    return float(np.mean(f1_pair(y, pred)))


class _Parts:
    """The tuned pieces the candidate rules share on one ``(y, s)`` split, each computed at
    most once: the global micro-F1 cut and the per-label sweep (:func:`tune_per_label` with the
    global cut as fallback). :func:`choose_rule` tunes every candidate on each of ``2 *
    repeats`` halves; sharing them tunes the global cut once per half instead of four times
    and the per-label sweep once instead of four times, the dominant cost on wide label sets
    (docs/benchmarks.md, "Cost growth")."""

    def __init__(self, y, s):
        self.y, self.s = y, s
        self._global = self._per_label = None

    def global_cut(self) -> GlobalThreshold:
        if self._global is None:
            self._global = tune_global(self.y, self.s)
        return self._global

    def per_label(self):
        """``(rule, info)`` of :func:`tune_per_label` with the global cut as fallback."""
        if self._per_label is None:
            self._per_label = tune_per_label(self.y, self.s, fallback=self.global_cut().threshold,
                                             return_info=True)
        return self._per_label

    def per_label_with(self, fallback: float) -> PerLabelThreshold:
        """:func:`tune_per_label` with another fixed ``fallback`` (the same sweep)."""
        _, info = self.per_label()
        return PerLabelThreshold(np.where(info["reason"] == "tuned", info["tuned"], fallback))


#: The candidate rules :func:`choose_rule` compares (name -> tuner on (y, s)), simplest first:
#: one cut, the rank cut, shrunk per-label cuts from strong to weak shrinkage, free per-label
#: cuts. A tuner also takes the split's shared :class:`_Parts` (``parts=``).
CANDIDATES = {
    "global": lambda y, s, parts=None: (parts or _Parts(y, s)).global_cut(),
    "top_k": lambda y, s, parts=None: tune_top_k(y, s),
    "shrunk-30": lambda y, s, parts=None: tune_shrunk(y, s, strength=30, _parts=parts),
    "shrunk-10": lambda y, s, parts=None: tune_shrunk(y, s, strength=10, _parts=parts),
    "shrunk-3": lambda y, s, parts=None: tune_shrunk(y, s, strength=3, _parts=parts),
    "per_label": lambda y, s, parts=None: (parts or _Parts(y, s)).per_label_with(0.5),
}


def _check_candidate(name: str) -> str:
    if not isinstance(name, str) or (not name.startswith("fixed:") and name not in CANDIDATES):
        raise ValueError(f"unknown rule {name!r}; candidates: {list(CANDIDATES)} or "
                         "'fixed:<cut>'")
    return name


def tune(name: str, y_val, s_val, parts: _Parts | None = None) -> Rule:
    """The candidate rule ``name`` (a key of :data:`CANDIDATES`, or ``"fixed:<cut>"``) tuned on
    ``(y_val, s_val)`` (``parts``: their shared tuned pieces, when several rules are tuned on
    the same split)."""
    if _check_candidate(name).startswith("fixed:"):
        return GlobalThreshold(_cut(float(name[len("fixed:"):]), name))
    if parts is None:
        y_val, s_val = _check_pair(y_val, s_val)
        parts = _Parts(y_val, s_val)
    return CANDIDATES[name](parts.y, parts.s, parts)


def split_halves(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two disjoint random halves of ``range(n)`` (sorted), for cross-fitted rule choice."""
    if n < 2:
        raise DataFormatError(f"the validation split has {n} row(s); choosing a rule needs at"
                              " least 2")
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[: n // 2]), np.sort(perm[n // 2:])


def heldout_scores(y_val, s_val, name: str, repeats: int = 5, seed: int = 0) -> np.ndarray:
    """:data:`CRITERION` of rule ``name`` tuned on one half of the validation rows and applied
    to the other half, both directions, for ``repeats`` random halvings (seeds ``seed ..
    seed + repeats - 1``): ``2 * repeats`` held-out scores, in a fixed order (so two rules'
    scores pair up half by half)."""
    return _heldout_table(y_val, s_val, [name], repeats, seed)[name]


def _heldout_table(y_val, s_val, names, repeats: int, seed: int) -> dict:
    """:func:`heldout_scores` of several rules at once (name -> scores): each half is tuned
    once for all of them (its :class:`_Parts` are shared)."""
    y, s = _check_pair(y_val, s_val)
    scores = {name: [] for name in names}
    for r in range(int(repeats)):
        halves = split_halves(len(y), seed + r)
        for fit_idx, eval_idx in (halves, halves[::-1]):
            parts = _Parts(y[fit_idx], s[fit_idx])
            for name in names:
                rule = tune(name, parts.y, parts.s, parts)
                scores[name].append(criterion(y[eval_idx], rule.apply(s[eval_idx])))
    return {name: np.asarray(v) for name, v in scores.items()}


def crossfit_score(y_val, s_val, name: str, repeats: int = 5, seed: int = 0) -> float:
    """The mean of :func:`heldout_scores`."""
    return float(heldout_scores(y_val, s_val, name, repeats, seed).mean())


def pick(scores: dict) -> tuple[str, str]:
    """``(chosen, best)`` among candidates' paired held-out scores (name -> array, simplest
    first): ``best`` has the highest mean; ``chosen`` is the first (simplest) candidate whose
    mean is within one standard error of the paired differences from ``best``'s (the "one
    standard error rule" of model selection, Hastie, Tibshirani & Friedman, *Elements of
    Statistical Learning*, 2nd ed., sec. 7.10): a more flexible rule must win by more than the
    noise of the small validation split to be used."""
    names = list(scores)
    best = max(names, key=lambda n: (round(float(np.mean(scores[n])), 12), -names.index(n)))
    for name in names:
        d = np.asarray(scores[best]) - np.asarray(scores[name])
        se = float(d.std(ddof=1) / np.sqrt(d.size)) if d.size > 1 else 0.0
        if float(d.mean()) <= se + 1e-12:
            return name, best
    return best, best


def choose_rule(y_val, s_val, candidates=None, repeats: int = 5, seed: int = 0):
    """Choose the decision rule on a validation split without letting it overfit the split.

    Every candidate (default :data:`CANDIDATES`, simplest first: one global cut, the best rank
    cut, per-label cuts shrunk towards the global one with strengths 30, 10 and 3, free
    per-label cuts; ``"fixed:<cut>"`` adds a fixed cut such as a paper's own) is tuned on one
    random half of the validation rows and scored (:data:`CRITERION`) on the other half, both
    ways, over ``repeats`` random halvings. The simplest candidate within one standard error
    of the best is chosen (:func:`pick`) and re-tuned on all validation rows. This is how the
    checkpoints (``rule = "auto"``, the default of :func:`zoo.train.fit`) and the tuned
    baselines choose, so both get the same treatment.

    Returns ``(rule, selection)`` with ``selection = {"criterion", "candidates",
    "valid_scores" (name -> mean held-out score), "best", "chosen", "repeats", "seed"}``.

    Example::

        >>> rng = np.random.default_rng(0)
        >>> y = (rng.random((200, 4)) < 0.3).astype(int)
        >>> s = np.clip(y * 0.4 + rng.random((200, 4)) * 0.6, 0, 1)
        >>> rule, sel = choose_rule(y, s)
        >>> sel["chosen"] in sel["valid_scores"]
        True
    """
    y, s = _check_pair(y_val, s_val)
    names = [_check_candidate(n) for n in (list(CANDIDATES) if candidates is None
                                           else list(candidates))]
    if not names:
        raise ValueError("choose_rule needs at least one candidate")
    scores = _heldout_table(y, s, names, repeats, seed)
    chosen, best = pick(scores)
    selection = {"criterion": f"{CRITERION} on held-out halves of valid (rule tuned on the other"
                              f" half, both ways, {int(repeats)} random halvings); the simplest"
                              " candidate within one standard error of the best",
                 "candidates": names, "repeats": int(repeats), "seed": int(seed),
                 "valid_scores": {n: round(float(v.mean()), 6) for n, v in scores.items()},
                 "best": best, "chosen": chosen}
    return tune(chosen, y, s), selection


# ----------------------------------------------------------------------------- user specs

#: The forms :func:`parse` accepts, quoted in every error it raises.
SPEC_FORMS = ("None (the default rule); a number in [0, 1] (one cut for every label, e.g. 0.4 "
              "or \"0.4\"); a list/array of one cut in [0, 1] per label; a {label name: cut} "
              "dict naming every label; a rule dict such as {\"rule\": \"top_k\", \"k\": 3}; "
              "a zoo.thresholds rule object; the strings \"top_k:K\" (the K best labels of "
              "each row) or \"at_least_one:SPEC\" (SPEC, plus the best label of a row left "
              "empty)")


def _spec_error(msg: str) -> DataFormatError:
    return DataFormatError(f"threshold {msg}; valid forms: {SPEC_FORMS}".replace("  ", " "))


def _cut(v, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise _spec_error(f"{what}: expected a number, got {v!r}".lstrip(": "))
    f = float(v)
    if not 0.0 <= f <= 1.0:  # also refuses NaN
        raise _spec_error(f"{what + ' ' if what else ''}= {f!r} is outside [0, 1]: cuts apply "
                          "to probabilities "
                          "(score > cut), so a cut above 1 predicts nothing and one below 0 "
                          "everything")
    return f


def _check_width(rule: Rule, num_labels: int) -> Rule:
    inner = rule
    while isinstance(inner, AtLeastOne):
        inner = inner.rule
    if isinstance(inner, PerLabelThreshold) and inner.num_labels != num_labels:
        raise _spec_error(f"the per-label rule has {inner.num_labels} cuts but there are "
                          f"{num_labels} labels")
    return rule


def parse(spec, num_labels: int, label_names=None, default: Rule | None = None) -> Rule:
    """The decision rule a user-facing threshold ``spec`` describes; the one parser of them.

    ``predict(x, threshold=...)``, ``zoo predict --threshold``, :func:`zoo.compare.compare` and
    the baselines all go through it, so a spec means the same everywhere and a bad one fails
    the same way: a :class:`zoo.errors.DataFormatError` (a ``ValueError``) that says what is
    wrong and lists the valid forms (:data:`SPEC_FORMS`).

    Args:
        spec: ``None`` -> ``default`` (or ``GlobalThreshold(0.5)``); a number in [0, 1] or a
            string holding one -> :class:`GlobalThreshold`; a sequence/array of ``num_labels``
            numbers in [0, 1] -> :class:`PerLabelThreshold`; a ``{label: cut}`` dict (needs
            ``label_names``; every label exactly once); a rule dict (``{"rule": ...}``,
            :func:`from_dict`); a :class:`Rule`; ``"top_k:K"`` -> :class:`TopK`;
            ``"at_least_one:SPEC"`` -> :class:`AtLeastOne` of SPEC's rule.
        num_labels: the model's (dataset's) number of labels: per-label rules must match it.
        label_names: the label names, for ``{label: cut}`` dicts.
        default: the rule for ``spec=None`` (a checkpoint passes its calibrated rule).

    Rule objects and rule dicts are taken as they are (a rule may work on another score scale);
    bare numbers must lie in [0, 1], the probability scale of ``predict_proba``.

    Example::

        >>> parse(0.4, 3), parse("top_k:2", 3), parse([0.2, 0.5, 0.9], 3)
        (GlobalThreshold(0.4), TopK(2), PerLabelThreshold([0.2, 0.5, 0.9]))
        >>> parse({"b": 0.3, "a": 0.6}, 2, label_names=["a", "b"])
        PerLabelThreshold([0.6, 0.3])
        >>> parse("at_least_one:0.5", 2)
        AtLeastOne(GlobalThreshold(0.5))
        >>> parse(1.5, 3)                                   # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        DataFormatError: threshold = 1.5 is outside [0, 1]: ...
    """
    if isinstance(num_labels, bool) or not isinstance(num_labels, numbers.Integral) \
            or num_labels < 1:
        raise ValueError(f"num_labels must be an integer >= 1, got {num_labels!r}")
    names = None if label_names is None else [str(n) for n in label_names]
    if spec is None:
        return default if default is not None else GlobalThreshold(0.5)
    if isinstance(spec, Rule):
        return _check_width(spec, num_labels)
    if isinstance(spec, bool):
        raise _spec_error(f"{spec!r} is a boolean")
    if isinstance(spec, numbers.Real):
        return GlobalThreshold(_cut(spec, ""))
    if isinstance(spec, str):
        text = spec.strip()
        low = text.lower()
        for prefix in ("at_least_one:", "at-least-one:"):
            if low.startswith(prefix):
                inner = text[len(prefix):].strip()
                if not inner:
                    raise _spec_error(f"{spec!r} names no inner rule after {prefix!r}")
                return AtLeastOne(parse(inner, num_labels, names, default=default))
        for prefix in ("top_k:", "top-k:", "topk:", "top_k=", "top"):
            if low.startswith(prefix):
                k = low[len(prefix):].strip()
                if not k.isdigit() or int(k) < 1:
                    raise _spec_error(f"{spec!r}: top-k needs a positive integer K, "
                                      "written \"top_k:K\" (e.g. \"top_k:3\")")
                return TopK(int(k))
        try:
            value = float(text)
        except ValueError:
            raise _spec_error(f"{spec!r} is not understood") from None
        return GlobalThreshold(_cut(value, f"{spec!r}"))
    if isinstance(spec, dict):
        if "rule" in spec:
            return _check_width(from_dict(spec), num_labels)
        if names is None:
            raise _spec_error("given as a {label: cut} dict, but the label names are not known "
                              "here; pass a list of cuts in label order")
        missing = [n for n in names if n not in spec]
        unknown = [k for k in spec if str(k) not in set(names)]
        if missing or unknown:
            raise _spec_error(f"{{label: cut}} dict must name every label once; missing "
                              f"{missing[:10]}, unknown {unknown[:10]}")
        return PerLabelThreshold([_cut(spec[n], f"[{n!r}]") for n in names])
    try:
        t = np.asarray(spec)
    except Exception as e:
        raise _spec_error(f"{type(spec).__name__} cannot be read ({e})") from None
    if t.dtype == object or t.dtype.kind in "USb" or not np.issubdtype(t.dtype, np.number):
        raise _spec_error(f"of type {type(spec).__name__} (dtype {t.dtype}) is not understood")
    if t.ndim == 0:
        return GlobalThreshold(_cut(t.item(), ""))
    if t.ndim != 1 or t.shape[0] != num_labels:
        raise _spec_error(f"a per-label array needs {num_labels} values (one per label), got "
                          f"shape {t.shape}")
    t = t.astype(np.float64)
    bad = ~((t >= 0) & (t <= 1))
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        _cut(float(t[j]), f"[{j}]")
    return PerLabelThreshold(t)
