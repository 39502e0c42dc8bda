"""Tests of zoo.thresholds: decision rules, their JSON form, and exact validation tuning.

Tuning is checked against brute-force searches written here with plain loops over every
candidate cut (an independent implementation, not the sort-and-cumsum sweep of the module).
"""
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zoo import thresholds as th
from zoo.errors import DataFormatError, ZooError


# ----------------------------------------------------------------------------- references

def f_beta(y, pred, beta=1.0):
    """F_beta of one label from 0/1 vectors, by counting; 0 when undefined (0/0)."""
    tp = fp = fn = 0
    for t, p in zip(y, pred):
        tp += int(t == 1 and p)
        fp += int(t == 0 and p)
        fn += int(t == 1 and not p)
    b2 = beta * beta
    denom = (1 + b2) * tp + b2 * fn + fp
    return (1 + b2) * tp / denom if denom else 0.0


def brute_label(y, s, beta=1.0):
    """Every achievable decision set of one label (known rows only) and its F.

    Candidates: "predict the rows scoring >= c" for each distinct known score c, plus
    "predict nothing". Returns a list of (F, number predicted, prediction vector).
    """
    known = y >= 0
    yk, sk = y[known], s[known]
    out = [(f_beta(yk, np.zeros(len(yk), bool), beta), 0, np.zeros(len(yk), bool))]
    for c in sorted(set(sk.tolist())):
        pred = sk >= c
        out.append((f_beta(yk, pred, beta), int(pred.sum()), pred))
    return out


def micro_f1(y, pred):
    """Micro-F1 over known entries by explicit loops."""
    tp = fp = fn = 0
    for i in range(y.shape[0]):
        for j in range(y.shape[1]):
            if y[i, j] < 0:
                continue
            tp += int(y[i, j] == 1 and pred[i, j])
            fp += int(y[i, j] == 0 and pred[i, j])
            fn += int(y[i, j] == 1 and not pred[i, j])
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0


def random_problem(seed, n=50, num_labels=7, unknown=0.1, decimals=2):
    """Correlated labels/scores with many ties (rounded scores) and some unknown entries."""
    rng = np.random.default_rng(seed)
    prior = rng.uniform(0.05, 0.6, num_labels)
    y = (rng.random((n, num_labels)) < prior).astype(np.int8)
    s = np.clip(0.35 * y + rng.normal(0.35, 0.2, (n, num_labels)), 0, 1).round(decimals)
    y[rng.random((n, num_labels)) < unknown] = -1
    return y, s


# ----------------------------------------------------------------------------- per-label tuning

def check_against_brute_force(y, s, beta=1.0):
    metric = "f1" if beta == 1.0 else "fbeta"
    rule, info = th.tune_per_label(y, s, metric=metric, beta=beta, fbr=0.0,
                                   fallback=0.5, return_info=True)
    pred = rule.apply(s)
    tuned = 0
    for j in range(y.shape[1]):
        known = y[:, j] >= 0
        cands = brute_label(y[:, j], s[:, j], beta)
        best = max(c[0] for c in cands)
        if (y[known, j] == 1).sum() == 0:
            assert info["reason"][j] == "few_positives"
            assert rule.thresholds[j] == 0.5
            continue
        assert info["f_val"][j] == pytest.approx(best, abs=1e-12)
        n_all = int(known.sum())
        if info["reason"][j] == "predicts_all":
            # the optimum really is "everything", and nothing smaller reaches it
            assert f_beta(y[known, j], np.ones(n_all, bool), beta) == pytest.approx(best)
            assert all(c[0] < best - 1e-12 for c in cands if c[1] < n_all)
            assert rule.thresholds[j] == 0.5
            continue
        assert info["reason"][j] == "tuned"
        tuned += 1
        # The rule's own decisions on validation reach the brute-force optimum ...
        assert f_beta(y[known, j], pred[known, j], beta) == pytest.approx(best, abs=1e-12)
        # ... with the fewest predicted rows among all optimal cuts (ties -> highest cut) ...
        fewest = min(c[1] for c in cands if c[0] >= best - 1e-12)
        assert int(pred[known, j].sum()) == fewest
        # ... and the threshold is the midpoint of the neighbouring known scores.
        sk = s[known, j]
        hi, lo = sk[pred[known, j]].min(), sk[~pred[known, j]].max()
        assert lo < rule.thresholds[j] < hi
        assert rule.thresholds[j] == pytest.approx((hi + lo) / 2, abs=1e-12)
    return tuned


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("beta", [1.0, 2.0])
def test_per_label_equals_brute_force(seed, beta):
    y, s = random_problem(seed)
    assert check_against_brute_force(y, s, beta) >= 3  # the comparison is not vacuous


@settings(max_examples=120, deadline=None)
@given(st.integers(1, 12), st.integers(1, 4), st.integers(0, 2**31 - 1),
       st.sampled_from([0, 1, 3]))
def test_per_label_brute_force_property(n, num_labels, seed, decimals):
    """Tiny problems with heavy ties (scores rounded to 0, 1 or 3 decimals)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(-1, 2, (n, num_labels)).astype(np.int8)
    s = rng.random((n, num_labels)).round(decimals)
    check_against_brute_force(y, s)


def test_adjacent_float_scores_are_separated():
    hi = 0.5
    lo = np.nextafter(0.5, 0.0)
    y = np.array([[1], [0]])
    s = np.array([[hi], [lo]])
    rule = th.tune_per_label(y, s, fbr=0.0)
    np.testing.assert_array_equal(rule.apply(s), [[True], [False]])
    assert th.tune_global(y, s).apply(s).tolist() == [[True], [False]]


def test_blocks_of_labels_give_the_same_result(monkeypatch):
    y, s = random_problem(7, n=40, num_labels=9)
    whole = th.tune_per_label(y, s)
    monkeypatch.setattr(th, "_BLOCK_CELLS", 41 * 2)  # two labels per block
    assert th.tune_per_label(y, s) == whole


def test_per_label_is_invariant_to_monotone_score_transforms():
    y, p = random_problem(11, decimals=6)
    p = np.clip(p, 1e-4, 1 - 1e-4)
    logits = np.log(p) - np.log1p(-p)
    a = th.tune_per_label(y, p, fallback=0.5)
    b = th.tune_per_label(y, logits, fallback=0.0)
    np.testing.assert_array_equal(a.apply(p), b.apply(logits))


# ----------------------------------------------------------------------------- fallbacks

def test_fallback_on_labels_without_positives():
    y = np.array([[1, 0, -1], [0, 0, -1], [1, 0, -1], [0, 0, -1]])
    s = np.array([[0.9, 0.8, 0.3], [0.1, 0.1, 0.2], [0.7, 0.3, 0.9], [0.2, 0.2, 0.1]])
    rule, info = th.tune_per_label(y, s, fallback=0.37, return_info=True)
    assert list(info["reason"]) == ["tuned", "few_positives", "few_positives"]
    assert rule.thresholds[1] == 0.37 and rule.thresholds[2] == 0.37
    assert rule.thresholds[0] == pytest.approx(0.45)   # midpoint of 0.7 and 0.2


def test_fallback_when_tuned_cut_predicts_every_row():
    # Scores rank the only negative first: F1 of top-1..4 = 0, 0.4, 0.667, 0.857 -> "all".
    y = np.array([[1, 1], [1, 0], [1, 1], [0, 0]])
    s = np.array([[0.2, 0.9], [0.3, 0.1], [0.4, 0.8], [0.9, 0.2]])
    for j in range(2):  # the reference agrees that predicting every row is the optimum
        cands = brute_label(y[:, j], s[:, j])
        best = max(c for c in cands)
        assert best[1] == (4 if j == 0 else 2)
    rule, info = th.tune_per_label(y, s, fallback=0.5, fbr=0.0, return_info=True)
    assert list(info["reason"]) == ["predicts_all", "tuned"]
    assert info["f_val"][0] == pytest.approx(6 / 7)
    assert info["tuned"][0] < 0.2                      # the cut that was rejected
    assert rule.thresholds[0] == 0.5
    assert rule.thresholds[1] == pytest.approx(0.5)    # midpoint of 0.8 and 0.2


def test_fallback_below_fbr_and_min_positives():
    # best F1 of label 0 is 2/3 (top-1); label 1 has two positives and best F1 1.
    y = np.array([[1, 1], [0, 1], [1, 0], [0, 0], [0, 0], [0, 0]])
    s = np.array([[0.9, 0.9], [0.8, 0.8], [0.1, 0.3], [0.7, 0.2], [0.6, 0.1], [0.5, 0.0]])
    _, info = th.tune_per_label(y, s, fbr=0.5, return_info=True)
    assert list(info["reason"]) == ["tuned", "tuned"]
    assert info["f_val"] == pytest.approx([2 / 3, 1.0])
    rule, info = th.tune_per_label(y, s, fbr=0.7, fallback=0.25, return_info=True)
    assert list(info["reason"]) == ["below_fbr", "tuned"]
    assert rule.thresholds[0] == 0.25
    rule, info = th.tune_per_label(y, s, min_positives=3, return_info=True)
    assert list(info["reason"]) == ["few_positives", "few_positives"]
    np.testing.assert_array_equal(rule.thresholds, [0.5, 0.5])


def test_fallback_max_is_scutfbr1():
    y = np.array([[0, 1], [0, 0], [0, 1]])
    s = np.array([[0.4, 0.9], [0.7, 0.1], [0.2, 0.8]])
    rule, info = th.tune_per_label(y, s, fallback="max", return_info=True)
    assert info["reason"][0] == "few_positives"
    assert rule.thresholds[0] == 0.7                   # the label's top validation score
    assert not rule.apply(s)[:, 0].any()               # ... predicts no validation row
    assert rule.apply(np.array([[0.71, 0.0]]))[0, 0]   # ... but a higher test score


# ----------------------------------------------------------------------------- global tuning

@pytest.mark.parametrize("seed", [0, 5, 9])
def test_global_equals_brute_force_micro_f1(seed):
    y, s = random_problem(seed, n=40, num_labels=6)
    rule = th.tune_global(y, s)
    known = y >= 0
    best, fewest = -1.0, None
    for c in sorted(set(s[known].tolist())) + [np.inf]:
        pred = s >= c
        f = micro_f1(y, pred)
        npred = int(pred[known].sum())
        if f > best + 1e-12 or (abs(f - best) <= 1e-12 and npred < fewest):
            best, fewest = f, npred
    pred = rule.apply(s)
    assert micro_f1(y, pred) == pytest.approx(best, abs=1e-12)
    assert int(pred[known].sum()) == fewest
    assert micro_f1(y, pred) >= micro_f1(y, th.GlobalThreshold(0.5).apply(s)) - 1e-12


def test_global_fallbacks():
    s = np.array([[0.9, 0.2], [0.4, 0.3]])
    assert th.tune_global(np.zeros((2, 2)), s, fallback=0.3) == th.GlobalThreshold(0.3)
    assert th.tune_global(-np.ones((2, 2)), s) == th.GlobalThreshold(0.5)
    y_all = np.ones((2, 2))  # every entry positive: the optimum "predict all" is trivial
    assert th.tune_global(y_all, s, fallback=0.1) == th.GlobalThreshold(0.1)


# ----------------------------------------------------------------------------- rules by hand

def test_global_and_per_label_are_strict():
    s = np.array([[0.5, 0.6, 0.4]])
    assert th.GlobalThreshold(0.5).apply(s).tolist() == [[False, True, False]]
    assert th.PerLabelThreshold([0.4, 0.6, 0.3]).apply(s).tolist() == [[True, False, True]]
    assert th.GlobalThreshold().apply(s).dtype == bool


def test_top_k_with_ties_prefers_lower_index():
    s = np.array([[0.2, 0.9, 0.2, 0.2],
                  [0.5, 0.5, 0.5, 0.5],
                  [0.1, 0.3, 0.7, 0.3]])
    np.testing.assert_array_equal(th.TopK(2).apply(s).astype(int),
                                  [[1, 1, 0, 0], [1, 1, 0, 0], [0, 1, 1, 0]])
    np.testing.assert_array_equal(th.TopK(1).apply(s).astype(int),
                                  [[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 0]])
    assert th.TopK(9).apply(s).all()                  # k >= L: every label
    assert th.TopK(3).apply(np.zeros((0, 4))).shape == (0, 4)


def test_at_least_one_fills_only_empty_rows():
    s = np.array([[0.1, 0.3, 0.3],     # empty, tie 0.3: lower index (1)
                  [0.9, 0.2, 0.6],     # untouched
                  [0.2, 0.2, 0.2]])    # empty, all tied: label 0
    inner = th.GlobalThreshold(0.5)
    np.testing.assert_array_equal(th.AtLeastOne(inner).apply(s).astype(int),
                                  [[0, 1, 0], [1, 0, 1], [1, 0, 0]])
    np.testing.assert_array_equal(inner.apply(s).astype(int), [[0, 0, 0], [1, 0, 1], [0, 0, 0]])
    wrapped = th.AtLeastOne(th.PerLabelThreshold([0.95, 0.25, 0.95]))
    np.testing.assert_array_equal(wrapped.apply(s).astype(int),
                                  [[0, 1, 0], [1, 0, 0], [1, 0, 0]])


def test_logit_scores_with_matching_cut():
    rng = np.random.default_rng(3)
    logits = rng.normal(0, 3, (30, 5))
    p = 1 / (1 + np.exp(-logits))
    np.testing.assert_array_equal(th.GlobalThreshold(0.0).apply(logits),
                                  th.GlobalThreshold(0.5).apply(p))


# ----------------------------------------------------------------------------- serialization

def all_rules():
    y, s = random_problem(4)
    tuned = th.tune_per_label(y, s)
    return [th.GlobalThreshold(), th.GlobalThreshold(0.1 + 0.2), th.tune_global(y, s),
            th.PerLabelThreshold([0.25, 0.5, 1 / 3]), tuned, th.TopK(1), th.TopK(3),
            th.AtLeastOne(th.GlobalThreshold(0.7)), th.AtLeastOne(tuned),
            th.AtLeastOne(th.AtLeastOne(th.TopK(2)))]


@pytest.mark.parametrize("rule", all_rules(), ids=repr)
def test_json_round_trip(rule):
    text = json.dumps(rule.to_dict())
    back = th.from_json(text)
    assert back == rule and hash(back) == hash(rule)
    assert type(back) is type(rule)
    assert th.from_dict(json.loads(rule.to_json(indent=2))) == rule
    assert back.to_dict() == rule.to_dict()
    assert isinstance(rule.to_dict()["rule"], str)
    s = np.random.default_rng(0).random((20, 7))
    if not isinstance(rule, th.PerLabelThreshold) or rule.num_labels == 7:
        np.testing.assert_array_equal(back.apply(s), rule.apply(s))
    assert repr(back) == repr(rule)
    if "PerLabelThreshold" not in repr(rule):  # (its repr rounds to 6 digits)
        assert eval(repr(rule), dict(vars(th))) == rule


def test_equality_and_repr():
    assert th.GlobalThreshold(0.5) == th.GlobalThreshold(0.5)
    assert th.GlobalThreshold(0.5) != th.GlobalThreshold(0.4)
    assert th.GlobalThreshold(0.5) != th.PerLabelThreshold([0.5])
    assert th.TopK(2) != th.AtLeastOne(th.TopK(2))
    assert th.PerLabelThreshold([0.1, 0.2]) != th.PerLabelThreshold([0.1, 0.2, 0.3])
    assert repr(th.AtLeastOne(th.TopK(2))) == "AtLeastOne(TopK(2))"
    assert repr(th.PerLabelThreshold([0.25, 0.5])) == "PerLabelThreshold([0.25, 0.5])"
    long = repr(th.PerLabelThreshold(np.linspace(0, 1, 100)))
    assert "<100 labels>" in long and len(long) < 120


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("y, s, match", [
    (np.zeros((3, 2)), np.zeros((3, 3)), r"shape \(3, 2\).*shape \(3, 3\)"),
    (np.array([[0, 2], [1, 0]]), np.zeros((2, 2)), r"y_val\[0, 1\] = 2"),
    (np.array([[0, 0.5]]), np.zeros((1, 2)), r"outside \{0, 1, -1\}"),
    (np.array([[0, np.nan]]), np.zeros((1, 2)), r"outside \{0, 1, -1\}"),
    (np.zeros((2, 2)), np.array([[0.1, np.nan], [0.2, 0.3]]), r"s_val\[0, 1\] = nan"),
    (np.zeros((2, 2)), np.array([[0.1, 0.2], [np.inf, 0.3]]), r"s_val\[1, 0\] = inf"),
    (np.zeros(3), np.zeros(3), r"y_val: expected a 2-D"),
    (np.zeros((2, 2)), np.array([["a", "b"], ["c", "d"]]), r"s_val: expected a numeric"),
    (np.zeros((0, 2)), np.zeros((0, 2)), r"no rows"),
])
def test_bad_tuning_input(y, s, match):
    for tune in (th.tune_per_label, th.tune_global):
        with pytest.raises(DataFormatError, match=match) as e:
            tune(y, s)
        assert isinstance(e.value, ZooError) and isinstance(e.value, ValueError)


def test_bad_rules_and_options():
    with pytest.raises(DataFormatError, match="2 label columns but the rule has 3"):
        th.PerLabelThreshold([0.1, 0.2, 0.3]).apply(np.zeros((4, 2)))
    with pytest.raises(DataFormatError, match=r"scores\[1, 0\] = nan"):
        th.TopK(1).apply(np.array([[0.1], [np.nan]]))
    with pytest.raises(DataFormatError, match="2-D"):
        th.GlobalThreshold().apply(np.zeros(4))
    with pytest.raises(DataFormatError, match="not finite"):
        th.PerLabelThreshold([0.1, np.inf])
    with pytest.raises(DataFormatError, match="finite"):
        th.GlobalThreshold(float("nan"))
    for k in (0, 1.5, True, "2"):
        with pytest.raises(DataFormatError, match="k must be an integer"):
            th.TopK(k)
    with pytest.raises(TypeError, match="wraps a zoo.thresholds rule"):
        th.AtLeastOne(0.5)
    y, s = random_problem(0, n=10, num_labels=2)
    with pytest.raises(ValueError, match="unknown metric 'accuracy'"):
        th.tune_per_label(y, s, metric="accuracy")
    with pytest.raises(ValueError, match="unknown metric 'f1'"):
        th.tune_global(y, s, metric="f1")
    with pytest.raises(ValueError, match="fallback must be a number or 'max'"):
        th.tune_per_label(y, s, fallback="min")
    with pytest.raises(ValueError, match="min_positives"):
        th.tune_per_label(y, s, min_positives=0)


@pytest.mark.parametrize("text, match", [
    ('{"rule": "pcut", "p": 0.1}', r"unknown threshold rule 'pcut'"),
    ('{"threshold": 0.5}', r"unknown threshold rule None"),
    ('{"rule": "global"}', r"missing key 'threshold'"),
    ('{"rule": "global", "threshold": 0.5, "t": 1}', r"unexpected key\(s\) \['t'\]"),
    ('{"rule": "global", "threshold": "0.5"}', r"expected a number"),
    ('{"rule": "per_label", "thresholds": [0.1, null]}', r"list of numbers"),
    ('{"rule": "at_least_one", "inner": 3}', r"'inner' must be a rule dict"),
    ('{"rule": "at_least_one", "inner": {"rule": "top_k", "k": 0}}', r"k must be an integer"),
    ('[1, 2]', r"must be a dict"),
    ('{"rule": "global", ', r"not valid JSON"),
])
def test_bad_serialized_rules(text, match):
    with pytest.raises(DataFormatError, match=match):
        th.from_json(text)


# ----------------------------------------------------------------------------- real data

def test_tuning_on_emotions_validation_split(emotions_train):
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    x, y = emotions_train
    y = y.astype(np.int8)
    idx = np.random.default_rng(0).permutation(len(x))
    tr, va = idx[:260], idx[260:]
    clf = OneVsRestClassifier(LogisticRegression(C=0.1, max_iter=2000)).fit(x[tr], y[tr])
    s_val = clf.predict_proba(x[va])
    rule, info = th.tune_per_label(y[va], s_val, return_info=True)
    assert rule.num_labels == 6 and set(info["reason"]) <= {"tuned", "predicts_all"}
    base = micro_f1(y[va], th.GlobalThreshold(0.5).apply(s_val))
    tuned = micro_f1(y[va], rule.apply(s_val))
    glob = micro_f1(y[va], th.tune_global(y[va], s_val).apply(s_val))
    assert 0.3 < base <= tuned
    assert base <= glob
    for j in range(6):  # every tuned label at least matches the 0.5 cut on its own F1
        if info["reason"][j] == "tuned":
            assert f_beta(y[va, j], rule.apply(s_val)[:, j]) >= f_beta(y[va, j], s_val[:, j] > 0.5)


# ----------------------------------------------------------------------------- parse (user specs)

def test_parse_accepts_every_documented_form():
    names = ["a", "b", "c"]
    assert th.parse(None, 3) == th.GlobalThreshold(0.5)
    assert th.parse(None, 3, default=th.TopK(1)) == th.TopK(1)
    assert th.parse(0.4, 3) == th.GlobalThreshold(0.4)
    assert th.parse(np.float32(0.25), 3) == th.GlobalThreshold(0.25)
    assert th.parse("0.4", 3) == th.GlobalThreshold(0.4)
    assert th.parse(0, 3) == th.GlobalThreshold(0.0) and th.parse(1, 3) == th.GlobalThreshold(1.0)
    assert th.parse([0.1, 0.2, 0.3], 3) == th.PerLabelThreshold([0.1, 0.2, 0.3])
    assert th.parse(np.array([0.1, 0.2, 0.3]), 3) == th.PerLabelThreshold([0.1, 0.2, 0.3])
    assert th.parse({"c": 0.3, "a": 0.1, "b": 0.2}, 3, names) == \
        th.PerLabelThreshold([0.1, 0.2, 0.3])
    assert th.parse({"rule": "top_k", "k": 2}, 3) == th.TopK(2)
    assert th.parse(th.TopK(2), 3) == th.TopK(2)
    assert th.parse("top_k:2", 3) == th.TopK(2)
    assert th.parse(" TOP_K:5 ", 3) == th.TopK(5)
    assert th.parse("at_least_one:0.6", 3) == th.AtLeastOne(th.GlobalThreshold(0.6))
    assert th.parse("at_least_one:top_k:1", 3) == th.AtLeastOne(th.TopK(1))


@pytest.mark.parametrize("spec, match", [
    (1.5, r"= 1\.5 is outside \[0, 1\]"),
    (-0.1, r"outside \[0, 1\]"),
    (float("nan"), r"outside \[0, 1\]"),
    ("1.5", r"outside \[0, 1\]"),
    ("top_k", r"top-k needs a positive integer K, written \"top_k:K\""),
    ("top_k:0", r"positive integer"),
    ("top_k:x", r"positive integer"),
    ("best", r"'best' is not understood"),
    ("at_least_one:", r"names no inner rule"),
    (True, "boolean"),
    ([0.5, 0.5], r"needs 3 values \(one per label\), got shape \(2,\)"),
    ([0.5, 2.0, 0.5], r"\[1\] = 2\.0 is outside"),
    ([[0.5, 0.5, 0.5]], "needs 3 values"),
    (["a", "b", "c"], "not understood"),
    ({"a": 0.5}, "label names are not known"),
    (th.PerLabelThreshold([0.5, 0.5]), "per-label rule has 2 cuts but there are 3 labels"),
    ({"rule": "per_label", "thresholds": [0.5]}, "per-label rule has 1 cuts"),
])
def test_parse_refuses_with_the_valid_forms(spec, match):
    with pytest.raises(DataFormatError, match=match) as ei:
        th.parse(spec, 3)
    assert isinstance(ei.value, ValueError)
    if "label names are not known" not in match:
        assert "valid forms:" in str(ei.value) and "top_k:K" in str(ei.value)


def test_parse_label_dict_must_name_every_label():
    with pytest.raises(DataFormatError, match=r"missing \['c'\], unknown \['z'\]"):
        th.parse({"a": 0.1, "b": 0.2, "z": 0.3}, 3, ["a", "b", "c"])
    with pytest.raises(DataFormatError, match=r"\['b'\] = 1\.2 is outside"):
        th.parse({"a": 0.1, "b": 1.2, "c": 0.3}, 3, ["a", "b", "c"])


# ----------------------------------------------------------------------------- rule choice
# (issue 13 item 2: per-label cuts that do not overfit small validation splits)

def _signal(n=300, L=6, seed=0, noise=0.6):
    rng = np.random.default_rng(seed)
    y = (rng.random((n, L)) < 0.3).astype(np.int8)
    s = np.clip(y * (1 - noise) + rng.random((n, L)) * noise, 0, 1)
    return y, s


def test_shrunk_interpolates_between_per_label_and_global():
    y, s = _signal()
    s[:, 0] = s[:, 0] * 0.5                   # label 0 needs a much lower cut than the others
    g = th.tune_global(y, s).threshold
    own = th.tune_per_label(y, s, fallback=g).thresholds
    np.testing.assert_allclose(th.tune_shrunk(y, s, strength=0).thresholds, own)
    np.testing.assert_allclose(th.tune_shrunk(y, s, strength=1e12).thresholds, g, rtol=1e-6)
    mid = th.tune_shrunk(y, s, strength=30).thresholds
    lo, hi = np.minimum(own, g), np.maximum(own, g)
    assert np.all((mid >= lo - 1e-12) & (mid <= hi + 1e-12))
    assert mid[0] != pytest.approx(own[0]) and mid[0] != pytest.approx(g)
    # a label with no validation positive takes the global cut, not 0.5
    y2 = y.copy()
    y2[:, 3] = 0
    assert th.tune_shrunk(y2, s, strength=10).thresholds[3] == pytest.approx(
        th.tune_global(y2, s).threshold)
    with pytest.raises(ValueError, match="strength"):
        th.tune_shrunk(y, s, strength=-1)


def test_shrunk_weights_a_label_by_its_positives():
    y, s = _signal(n=400, L=2, seed=3)
    _, info = th.tune_shrunk(y, s, strength=10, return_info=True)
    np.testing.assert_allclose(info["weight"], info["positives"] / (info["positives"] + 10))


def test_top_k_tuner_finds_the_label_count():
    rng = np.random.default_rng(0)
    y = np.zeros((100, 8), dtype=np.int8)
    for row in y:
        row[rng.choice(8, 3, replace=False)] = 1   # every row has exactly 3 labels
    s = y * 0.5 + rng.random(y.shape) * 0.4          # ... and they score highest
    assert th.tune_top_k(y, s) == th.TopK(3)
    assert th.tune_top_k(y, s, max_k=2) == th.TopK(2)


def test_choose_rule_refuses_to_reward_overfitting():
    rng = np.random.default_rng(1)
    y = (rng.random((120, 40)) < 0.05).astype(np.int8)   # rare labels, scores without signal
    s = rng.random((120, 40))
    in_sample = th.criterion(y, th.tune_per_label(y, s).apply(s))
    assert in_sample > th.crossfit_score(y, s, "per_label") + 0.05
    # informative scores: the choice is the best held-out candidate, re-tuned on all rows
    y, s = _signal(n=400, L=5, seed=2)
    rule, sel = th.choose_rule(y, s)
    assert sel["candidates"] == list(th.CANDIDATES)
    assert sel["best"] == max(sel["valid_scores"], key=sel["valid_scores"].get)
    assert list(sel["valid_scores"]).index(sel["chosen"]) <= list(sel["valid_scores"]).index(sel["best"])
    assert rule == th.tune(sel["chosen"], y, s)


def test_choose_rule_takes_a_fixed_cut_and_prefers_earlier_candidates_on_ties():
    y, s = _signal(n=100, L=3, seed=4, noise=0.0)  # perfectly separable: every rule is perfect
    rule, sel = th.choose_rule(y, s, candidates=["fixed:0.5", "global", "per_label"])
    assert sel["chosen"] == "fixed:0.5" and rule == th.GlobalThreshold(0.5)
    with pytest.raises(ValueError, match="unknown rule"):
        th.choose_rule(y, s, candidates=["median"])


def test_fit_chooses_the_rule_on_valid_by_default():
    from zoo.data import load
    from zoo.train import fit
    tr, va = load("emotions", "train"), load("emotions", "valid")
    r = fit("mlp", tr, va, {"hidden_units": [8]}, verbose=0, epochs=2)
    sel = r.training["threshold_selection"]
    assert sel["chosen"] in th.CANDIDATES and set(sel["valid_scores"]) == set(th.CANDIDATES)
    s_val = r.model.predict(va.x, verbose=0)
    s_val = 1 / (1 + np.exp(-s_val))
    np.testing.assert_allclose(np.asarray(r.thresholds.apply(s_val), dtype=int),
                               th.tune(sel["chosen"], va.labels_dense(), s_val).apply(s_val))


def test_pick_prefers_the_simplest_rule_within_one_standard_error():
    noisy = {"global": np.array([0.50, 0.52, 0.48, 0.50]),
             "per_label": np.array([0.53, 0.50, 0.50, 0.49])}   # ahead by less than the noise
    assert th.pick(noisy) == ("global", "per_label")
    clear = {"global": np.array([0.50, 0.52, 0.48, 0.50]),
             "per_label": np.array([0.56, 0.58, 0.54, 0.57])}   # ahead every time
    assert th.pick(clear) == ("per_label", "per_label")
