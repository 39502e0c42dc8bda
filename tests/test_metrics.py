"""zoo.metrics: exact face vs scikit-learn / brute force / hand-worked values; streaming vs exact."""
import itertools
import json
import math

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import metrics as skm

import zoo.metrics as zm
from zoo.errors import DataFormatError

SHAPES = [(60, 7, 0), (150, 13, 1), (41, 30, 2)]


def make(n, L, seed, ties=True, density=0.3, f32=True):
    """Random labels with an empty row, an all-zero and an all-one column; scores with ties."""
    rng = np.random.default_rng(seed)
    y = (rng.random((n, L)) < density).astype(np.int64)
    y[0] = 0  # empty true set
    y[:, 1] = 0  # label without positives
    y[:, 2] = 1  # label without negatives
    y[1, 3] = y[2, 3] = 1
    s = rng.random((n, L))
    if ties:
        s = np.round(s * 8) / 8  # many ties within rows and columns
        s[3] = 0.5  # a row of equal scores
    s = s.astype(np.float32) if f32 else s  # float32 (fast path) or float64 (argsort path)
    return y, s


def both_classes(y):
    return ((y == 1).any(0) & (y == 0).any(0))


# ---------------------------------------------------------------------------- vs scikit-learn
@pytest.mark.parametrize("n,L,seed", SHAPES)
@pytest.mark.parametrize("f32", [True, False])
def test_matches_sklearn(n, L, seed, f32):
    y, s = make(n, L, seed, f32=f32)
    r = zm.evaluate(y, s, threshold=0.5)
    p = (s > 0.5).astype(int)
    tol = dict(rel=0, abs=1e-9)
    for avg in ("micro", "macro", "samples"):
        key = {"samples": "example"}.get(avg, avg)
        assert r[f"{key}_f1"] == pytest.approx(skm.f1_score(y, p, average=avg, zero_division=0), **tol)
        assert r[f"{key}_precision"] == pytest.approx(
            skm.precision_score(y, p, average=avg, zero_division=0), **tol)
        assert r[f"{key}_recall"] == pytest.approx(
            skm.recall_score(y, p, average=avg, zero_division=0), **tol)
    assert r["hamming_loss"] == pytest.approx(skm.hamming_loss(y, p), **tol)
    assert r["subset_accuracy"] == pytest.approx(skm.accuracy_score(y, p), **tol)
    assert r["jaccard"] == pytest.approx(
        skm.jaccard_score(y, p, average="samples", zero_division=0), **tol)
    assert r["coverage"] == pytest.approx(skm.coverage_error(y, s), **tol)
    assert r["ranking_loss"] == pytest.approx(skm.label_ranking_loss(y, s), **tol)
    assert r["lrap"] == pytest.approx(skm.label_ranking_average_precision_score(y, s), **tol)
    assert r["micro_auc"] == pytest.approx(skm.roc_auc_score(y, s, average="micro"), **tol)
    keep = both_classes(y)
    assert not keep.all()  # the excluded labels exist
    assert r["macro_auc"] == pytest.approx(
        skm.roc_auc_score(y[:, keep], s[:, keep], average="macro"), **tol)
    has_pos = (y == 1).any(0)
    assert r["mean_average_precision"] == pytest.approx(
        skm.average_precision_score(y[:, has_pos], s[:, has_pos], average="macro"), **tol)
    for k in (1, 3, 5):  # for 0/1 relevance sklearn's ndcg_score(k) is the XMC nDCG@k
        assert r[f"ndcg_at_{k}"] == pytest.approx(skm.ndcg_score(y, s, k=k), **tol)
    # the public single-metric functions are the same definitions
    assert zm.micro_f1(y, p) == r["micro_f1"] and zm.coverage(y, s) == r["coverage"]
    assert zm.macro_auc(y, s) == r["macro_auc"] and zm.jaccard(y, p) == r["jaccard"]


def test_per_label_report_matches_sklearn():
    y, s = make(80, 9, 5)
    rep = zm.per_label_report(y, s, 0.5, label_names=[f"l{i}" for i in range(9)])
    P, R, F1, S = skm.precision_recall_fscore_support(y, s > 0.5, average=None, zero_division=0)
    np.testing.assert_allclose(rep["precision"], P, atol=1e-12)
    np.testing.assert_allclose(rep["recall"], R, atol=1e-12)
    np.testing.assert_allclose(rep["f1"], F1, atol=1e-12)
    np.testing.assert_array_equal(rep["support"], S)
    assert np.isnan(rep["average_precision"][1])  # no positives
    for j in (0, 2, 5):
        assert rep["average_precision"][j] == pytest.approx(
            skm.average_precision_score(y[:, j], s[:, j]), abs=1e-12)
    assert rep["label"][3] == "l3"


# ---------------------------------------------------------------------------- tie-averaged top-k
def brute_topk(y, s, k):
    """Exact expectation over uniformly random tie-breaking: average over all L! tie-break orders."""
    n, L = y.shape
    perms = list(itertools.permutations(range(L)))
    disc = 1 / np.log2(np.arange(2, L + 2))
    p_at, ndcg, one = np.zeros(n), np.zeros(n), np.zeros(n)
    for i in range(n):
        for perm in perms:  # sort by score desc, then by the random permutation
            order = sorted(range(L), key=lambda j: (-s[i, j], perm[j]))
            top = [y[i, j] for j in order[:k]]
            p_at[i] += sum(top) / k
            nrel = y[i].sum()
            idcg = disc[:min(k, nrel)].sum()
            ndcg[i] += (sum(t * disc[r] for r, t in enumerate(top)) / idcg) if nrel else 0.0
            one[i] += (y[i, order[0]] == 0) if nrel else 0.0
        p_at[i] /= len(perms)
        ndcg[i] /= len(perms)
        one[i] /= len(perms)
    return p_at.mean(), ndcg.mean(), one.mean()


@pytest.mark.parametrize("seed", [0, 1])
def test_topk_tie_averaging_vs_enumeration(seed):
    rng = np.random.default_rng(seed)
    y = (rng.random((12, 5)) < 0.4).astype(int)
    y[0] = 0
    s = rng.integers(0, 3, size=(12, 5)) / 2.0  # heavy ties
    for k in (1, 2, 3):
        bp, bn, bo = brute_topk(y, s, k)
        assert zm.precision_at_k(y, s, k) == pytest.approx(bp, abs=1e-12)
        assert zm.ndcg_at_k(y, s, k) == pytest.approx(bn, abs=1e-12)
    assert zm.one_error(y, s) == pytest.approx(brute_topk(y, s, 1)[2], abs=1e-12)


def test_topk_without_ties_is_plain_top_k():
    rng = np.random.default_rng(3)
    y = (rng.random((100, 20)) < 0.2).astype(int)
    s = rng.random((100, 20))
    top = np.argsort(-s, axis=1)
    for k in (1, 3, 5):
        hits = np.take_along_axis(y, top[:, :k], 1)
        assert zm.precision_at_k(y, s, k) == pytest.approx(hits.sum(1).mean() / k, abs=1e-12)
        d = 1 / np.log2(np.arange(2, k + 2))
        idcg = np.array([d[:min(k, m)].sum() for m in y.sum(1)])
        ref = np.where(idcg > 0, (hits * d).sum(1) / np.where(idcg > 0, idcg, 1), 0)
        assert zm.ndcg_at_k(y, s, k) == pytest.approx(ref.mean(), abs=1e-12)
    assert zm.one_error(y, s) == pytest.approx(
        np.mean([(y[i].sum() > 0) and y[i, top[i, 0]] == 0 for i in range(100)]), abs=1e-12)


# ---------------------------------------------------------------------------- by hand
def test_hand_worked_example_one():
    # y = [[1,0,1,0],   s = [[.9,.8,.3,.1],    threshold .5 -> p = [[1,1,0,0],
    #      [0,1,0,0]]        [.2,.6,.6,.1]]                          [0,1,1,0]]
    # counts per label: l0 TP1; l1 TP1 FP1; l2 FP1 FN1; l3 -. Sum TP2 FP2 FN1
    # micro P = 2/4, R = 2/3, F1 = 4/(4+2+1) = 4/7. Per-label F1: 1, 2/3, 0, 0 -> macro 5/12.
    # Hamming: wrong entries (0,1),(0,2),(1,2) = 3/8. Subset acc 0.
    # Example F1: row0 2*1/(2+2)=1/2, row1 2*1/(1+2)=2/3 -> 7/12. Jaccard: 1/3, 1/2 -> 5/12.
    # Ranking row0: relevant ranks 1 and 3 -> coverage 3; LRAP (1/1 + 2/3)/2 = 5/6;
    #   bad pairs: (l2 vs l1) -> 1 of 2*2 = 1/4. Row1: l1 ties l2 at .6 -> coverage 2,
    #   LRAP 1/2, bad pairs (l1,l2 tie) 1 of 3 = 1/3; P@1 tie-averaged = 1/2.
    # coverage 2.5, LRAP 2/3, ranking loss 7/24, P@1 (1 + 1/2)/2 = 3/4, one-error 1/4.
    y = [[1, 0, 1, 0], [0, 1, 0, 0]]
    s = [[.9, .8, .3, .1], [.2, .6, .6, .1]]
    r = zm.evaluate(y, s)
    expected = dict(micro_precision=.5, micro_recall=2 / 3, micro_f1=4 / 7, macro_f1=5 / 12,
                    hamming_loss=3 / 8, subset_accuracy=0, example_f1=7 / 12, jaccard=5 / 12,
                    coverage=2.5, lrap=2 / 3, ranking_loss=7 / 24, precision_at_1=.75,
                    one_error=.25)
    for k, v in expected.items():
        assert r[k] == pytest.approx(v, abs=1e-12), k


def test_hand_worked_example_two_columns():
    # label 0: y = [1,0,1,0], s = [.8,.8,.4,.1]: AP = (precision@.8 = 1/2 for the first
    #   positive, precision@.4 = 2/3 for the second) / 2 = 7/12. AUC: pos .8 beats 1 negative
    #   (.1) and ties 1 (.8): 1.5; pos .4 beats 1: 1 -> 2.5 / (2*2) = 5/8.
    # label 1: y = [0,0,0,1], s = [.1,.2,.3,.4]: AP 1, AUC 1. macro AP = 19/24, macro AUC 13/16.
    # micro AUC: positives .8,.4,.4 vs negatives .8,.1,.1,.2,.3 ->
    #   .8: 4 + .5 ; .4: 4 ; .4: 4 -> 12.5 / 15 = 5/6.
    y = np.array([[1, 0], [0, 0], [1, 0], [0, 1]])
    s = np.array([[.8, .1], [.8, .2], [.4, .3], [.1, .4]])
    r = zm.evaluate(y, s)
    assert r["mean_average_precision"] == pytest.approx(19 / 24, abs=1e-12)
    assert r["macro_auc"] == pytest.approx(13 / 16, abs=1e-12)
    assert r["micro_auc"] == pytest.approx(5 / 6, abs=1e-12)


def test_hand_worked_propensities():
    # N = 100 rows, label 0 has 2 positives: C = (ln 100 - 1) * 2.5^0.55 = 3.60517 * 1.65528
    # = 5.96757; (N_l + B)^-A = 3.5^-0.55 = 0.50209 -> p = 1 / (1 + 2.99626) = 0.25023.
    y = np.zeros((100, 2)); y[:2, 0] = 1; y[:50, 1] = 1
    p = zm.jain_propensities(y)
    assert p[0] == pytest.approx(0.25023, abs=2e-5)
    C = (math.log(100) - 1) * 2.5 ** 0.55
    assert p[1] == pytest.approx(1 / (1 + C * 51.5 ** -0.55), abs=1e-12)
    # PSP@1 with rows [1,0] and [0,1], both ranked correctly: (1/p0 + 1/p1) / 2
    yt, sc = np.array([[1, 0], [0, 1]]), np.array([[.9, .1], [.2, .8]])
    assert zm.propensity_scored_precision_at_k(yt, sc, 1, p) == pytest.approx(
        (1 / p[0] + 1 / p[1]) / 2, abs=1e-12)
    assert zm.propensity_scored_precision_at_k(yt, sc, 1, p, normalize=True) == pytest.approx(1)
    yb, sb = make(50, 8, 4)
    assert zm.propensity_scored_precision_at_k(yb, sb, 3, np.ones(8)) == pytest.approx(
        zm.precision_at_k(yb, sb, 3), abs=1e-12)


# ---------------------------------------------------------------------------- edge cases
def test_empty_rows_ties_and_missing_positives():
    y = np.array([[0, 0, 0], [1, 0, 0]])
    s = np.array([[.9, .5, .1], [.3, .3, .3]])
    r = zm.evaluate(y, s, y_pred=np.zeros((2, 3)))
    # row 0 (empty truth & empty decision): F1/Jaccard 0 like sklearn zero_division=0
    assert r["example_f1"] == 0 and r["jaccard"] == 0
    rows = zm.exact.ranking_rows(zm.check_targets(y), s)
    assert rows["lrap"][0] == 1 and rows["ranking_loss"][0] == 0 and rows["coverage"][0] == 0
    assert rows["one_error"][0] == 0 and rows["precision_at_1"][0] == 0 and rows["ndcg_at_3"][0] == 0
    # row 1, all scores equal: coverage 3, P@1 = 1/3, ranking loss 1 (ties are errors)
    assert rows["coverage"][1] == 3 and rows["precision_at_1"][1] == pytest.approx(1 / 3)
    assert rows["ranking_loss"][1] == 1
    # all-equal scores -> AUC 0.5; labels 1, 2 have no positives -> excluded from macro AUC/AP,
    # which are label 0's: its positive (.3) is below its negative (.9): AUC 0, AP 1/2
    assert zm.macro_auc([[1], [0], [1]], [[.2], [.2], [.2]]) == 0.5
    assert r["macro_auc"] == 0.0 and r["mean_average_precision"] == 0.5
    assert math.isnan(zm.macro_auc(np.zeros((3, 2)), np.ones((3, 2))))
    # macro F1 counts labels without positives as 0
    assert zm.macro_f1([[1, 0], [1, 0]], [[1, 0], [1, 0]]) == 0.5


def test_partial_labels_equal_deleting_unknown_entries():
    rng = np.random.default_rng(7)
    y, s = make(40, 8, 7, f32=False)
    y = y.copy()
    y[rng.random(y.shape) < 0.2] = -1
    y[5] = -1  # a row with no known label is dropped from every per-row mean
    r = zm.evaluate(y, s)
    rows = [i for i in range(40) if (y[i] != -1).any()]
    # per-row metrics: each row scored on its known columns only
    lr, cov, rl, f1 = [], [], [], []
    for i in rows:
        k = y[i] != -1
        yi, si = y[i, k][None], s[i, k][None]
        lr.append(skm.label_ranking_average_precision_score(yi, si) if k.sum() > 1 else 1.0)
        cov.append(skm.coverage_error(yi, si))
        rl.append(skm.label_ranking_loss(yi, si) if k.sum() > 1 else 0.0)
        f1.append(skm.f1_score(yi, (si > .5).astype(int), average="samples", zero_division=0))
    assert r["lrap"] == pytest.approx(np.mean(lr), abs=1e-12)
    assert r["coverage"] == pytest.approx(np.mean(cov), abs=1e-12)
    assert r["ranking_loss"] == pytest.approx(np.mean(rl), abs=1e-12)
    assert r["example_f1"] == pytest.approx(np.mean(f1), abs=1e-12)
    # label-wise: each column scored on its known rows only
    f1s, aps = [], []
    for j in range(8):
        k = y[:, j] != -1
        f1s.append(skm.f1_score(y[k, j], s[k, j] > .5, zero_division=0))
        if (y[k, j] == 1).any():
            aps.append(skm.average_precision_score(y[k, j], s[k, j]))
    assert r["macro_f1"] == pytest.approx(np.mean(f1s), abs=1e-12)
    assert r["mean_average_precision"] == pytest.approx(np.mean(aps), abs=1e-12)
    k = y != -1
    assert r["hamming_loss"] == pytest.approx(np.mean((s[k] > .5) != y[k]), abs=1e-12)
    assert r["micro_auc"] == pytest.approx(skm.roc_auc_score(y[k], s[k]), abs=1e-12)
    # scores at unknown entries do not matter
    s2 = np.where(y == -1, rng.random(y.shape), s)
    assert zm.evaluate(y, s2) == pytest.approx(r, abs=1e-12)


def test_thresholds_ypred_and_sparse():
    y, s = make(70, 6, 9)
    t = np.array([.2, .3, .4, .5, .6, .7])
    r = zm.evaluate(y, s, threshold=t)
    assert r["micro_f1"] == pytest.approx(skm.f1_score(y, s > t, average="micro"), abs=1e-12)
    top2 = np.zeros_like(y)
    np.put_along_axis(top2, np.argsort(-s, axis=1, kind="stable")[:, :2], 1, axis=1)
    r2 = zm.evaluate(y, s, y_pred=top2)
    assert r2["example_f1"] == pytest.approx(
        skm.f1_score(y, top2, average="samples", zero_division=0), abs=1e-12)
    assert zm.evaluate(sp.csr_matrix(y), s) == pytest.approx(zm.evaluate(y, s), abs=0)
    assert zm.evaluate(y.astype(bool), s.astype(np.float64)) == pytest.approx(
        zm.evaluate(y, s), abs=1e-12)


def test_clear_errors():
    y = np.array([[1, 0], [0, 1]])
    with pytest.raises(DataFormatError, match=r"1 entries do not, the first at row 1, column 0: 2"):
        zm.evaluate([[1, 0], [2, 1]], [[.1, .2], [.3, .4]])
    with pytest.raises(DataFormatError, match=r"row 0, column 1: 0.5"):
        zm.micro_f1([[1, 0.5]], [[1, 0]])
    with pytest.raises(ValueError, match=r"y_true has shape \(2, 2\) but y_score has shape \(2, 3\)"):
        zm.evaluate(y, np.zeros((2, 3)))
    with pytest.raises(DataFormatError, match=r"2 non-finite .* first at row 0, column 1: nan"):
        zm.lrap(y, [[.1, np.nan], [np.inf, .2]])
    with pytest.raises(DataFormatError, match=r"y_pred must be binary.*row 0, column 0: -1"):
        zm.evaluate(y, y, y_pred=[[-1, 0], [0, 1]])
    with pytest.raises(DataFormatError, match=r"one value per label \(2,\), got shape \(3,\)"):
        zm.evaluate(y, y, threshold=[.5, .5, .5])
    with pytest.raises(DataFormatError, match="2-D"):
        zm.evaluate([1, 0], [.2, .3])
    with pytest.raises(DataFormatError, match=r"propensities must have shape \(2,\)"):
        zm.propensity_scored_precision_at_k(y, y, 1, [1.0])


# ---------------------------------------------------------------------------- streaming
def _batches(seed=11, n=90, L=9):
    rng = np.random.default_rng(seed)
    y, _ = make(n, L, seed)
    y = y.astype(np.float32)
    y[rng.random(y.shape) < 0.1] = -1
    y[7] = -1
    logits = (np.round(rng.normal(0, 2, size=(n, L)) * 2) / 2).astype(np.float32)  # ties
    logits[4] = 1.0
    return y, logits


@pytest.mark.multibackend
@pytest.mark.parametrize("threshold", [0.5, [0.3, 0.4, 0.5, 0.6, 0.7, 0.5, 0.5, 0.2, 0.9]])
def test_streaming_equals_exact(threshold):
    y, z = _batches()
    proba = 1 / (1 + np.exp(-z.astype(np.float64)))
    exact = zm.evaluate(y, proba, threshold=np.asarray(threshold))
    metrics = [zm.MicroF1(threshold), zm.MicroPrecision(threshold), zm.MicroRecall(threshold),
               zm.MacroF1(threshold), zm.MacroPrecision(threshold), zm.MacroRecall(threshold),
               zm.HammingLoss(threshold), zm.SubsetAccuracy(threshold), zm.ExampleF1(threshold),
               zm.Jaccard(threshold), zm.PrecisionAtK(1), zm.PrecisionAtK(3),
               zm.NDCGAtK(3), zm.NDCGAtK(5), zm.OneError(), zm.Coverage(), zm.RankingLoss(),
               zm.LRAP()]
    for a, b in [(0, 25), (25, 26), (26, 64), (64, 90)]:  # uneven batches, one of size 1
        for m in metrics:
            m.update_state(y[a:b], z[a:b])
    for m in metrics:
        assert float(m.result()) == pytest.approx(exact[m.name], rel=1e-6, abs=1e-6), m.name
    # P@k past the number of labels (the sorting path of PrecisionAtK) against the exact face
    m = zm.PrecisionAtK(12)
    for a, b in [(0, 25), (25, 90)]:
        m.update_state(y[a:b], z[a:b])
    assert float(m.result()) == pytest.approx(zm.precision_at_k(y, proba, 12), abs=1e-6)
    m = metrics[0]
    m.reset_state()
    m.update_state(y[:10], z[:10])
    assert float(m.result()) == pytest.approx(
        zm.evaluate(y[:10], proba[:10], np.asarray(threshold))["micro_f1"], abs=1e-6)


@pytest.mark.multibackend
def test_streaming_probabilities_serialization_and_fit():
    import keras
    y, z = _batches(seed=3, n=40, L=5)
    proba = (1 / (1 + np.exp(-z))).astype(np.float32)
    m = zm.NDCGAtK(3, from_logits=False)
    m.update_state(y, proba)
    assert float(m.result()) == pytest.approx(zm.ndcg_at_k(y, proba, 3), abs=1e-6)
    for metric in zm.default_training_metrics(0.4) + [zm.NDCGAtK(5), zm.ExampleF1(0.3)]:
        cfg = keras.saving.serialize_keras_object(metric)
        assert "zoo>" in json.dumps(cfg)
        back = keras.saving.deserialize_keras_object(cfg)
        assert type(back) is type(metric) and back.get_config() == metric.get_config()
    x = np.random.default_rng(0).normal(size=(40, 4)).astype(np.float32)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5)])
    model.compile(optimizer="sgd", loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=zm.default_training_metrics(0.5) + [zm.LRAP()])
    yb = np.clip(y, 0, 1)
    hist = model.fit(x, yb, batch_size=16, epochs=1, verbose=0)
    assert {"micro_f1", "macro_f1", "hamming_loss", "precision_at_1", "lrap"} <= set(hist.history)
    logs = model.evaluate(x, yb, batch_size=16, verbose=0, return_dict=True)
    ref = zm.evaluate(yb, 1 / (1 + np.exp(-model.predict(x, verbose=0).astype(np.float64))))
    for key in ("micro_f1", "macro_f1", "hamming_loss", "precision_at_1", "lrap"):
        assert logs[key] == pytest.approx(ref[key], abs=1e-5), key
    with pytest.raises(ValueError, match="unweighted"):
        zm.MicroF1().update_state(yb, z, sample_weight=np.ones(40))
