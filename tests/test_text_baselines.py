"""TF-IDF text baselines: the features against a hand-written TF-IDF, train-only vocabulary,
BR-LR against independent per-label fits, the SVM score mapping, the per-kind dispatch of
`run`, and reproduction of the stored reuters21578 tfidf-br-lr row."""
import json
import math
import re
from collections import Counter

import numpy as np
import pytest
import scipy.sparse as sp

from zoo import baselines as B

TRAIN = ["Oil prices rose sharply.", "Oil output was cut; prices rose.", "Wheat harvest up",
         "The wheat crop and the wheat harvest", "Gold prices fell", "gold and oil prices fell",
         "Cocoa crop damaged", "cocoa prices rose"]
Y = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1], [0, 1, 0],
              [0, 1, 0]])
# "copper" and "zinc" occur only here; "prices rose" appears again (its df must stay 3).
TEST = ["Copper prices rose", "zinc and copper", "oil prices rose", "wheat harvest"]


def tfidf_reference(train, texts, min_df=2):
    """TF-IDF written out: lower-cased runs of >= 2 word characters, unigrams + bigrams,
    n-grams in >= min_df train docs, tf -> 1 + log tf, idf = ln((1 + n) / (1 + df)) + 1,
    rows L2-normalized. Returns ({ngram: column}, dense matrix of `texts`)."""
    def grams(t):
        toks = re.findall(r"(?u)\b\w\w+\b", t.lower())
        return toks + [f"{a} {b}" for a, b in zip(toks, toks[1:])]
    df = Counter(g for t in train for g in set(grams(t)))
    vocab = {g: i for i, g in enumerate(sorted(g for g, c in df.items() if c >= min_df))}
    n = len(train)
    out = np.zeros((len(texts), len(vocab)))
    for r, t in enumerate(texts):
        for g, tf in Counter(grams(t)).items():
            if g in vocab:
                out[r, vocab[g]] = (1 + math.log(tf)) * (math.log((1 + n) / (1 + df[g])) + 1)
        norm = np.linalg.norm(out[r])
        out[r] /= norm if norm else 1
    return vocab, out


def test_tfidf_features_match_reference_and_use_train_texts_only():
    m = B.TfidfBinaryRelevance("lr").fit(TRAIN, Y)
    vocab, ref = tfidf_reference(TRAIN, TEST)
    assert m.vectorizer_.vocabulary_ == vocab
    assert not any("copper" in g or "zinc" in g for g in m.vectorizer_.vocabulary_)
    np.testing.assert_allclose(m.transform(TEST).toarray(), ref, rtol=1e-12, atol=1e-15)
    assert not m.transform(["zinc copper"]).nnz            # only unseen n-grams -> empty row
    # Transforming (or scoring) test texts changes nothing fitted.
    before = m.vectorizer_.idf_.copy()
    m.predict_proba(TEST)
    np.testing.assert_array_equal(m.vectorizer_.idf_, before)


def test_tfidf_lr_equals_independent_logistic_regressions():
    from sklearn.linear_model import LogisticRegression
    vocab, xtr = tfidf_reference(TRAIN, TRAIN)
    _, xte = tfidf_reference(TRAIN, TEST)
    p = B.TfidfBinaryRelevance("lr", C=3.0).fit(TRAIN, Y).predict_proba(TEST)
    for j in range(Y.shape[1]):
        lr = LogisticRegression(C=3.0, solver="liblinear", max_iter=1000).fit(xtr, Y[:, j])
        np.testing.assert_allclose(p[:, j], lr.predict_proba(xte)[:, 1], rtol=1e-6)


def test_svm_score_is_a_sigmoid_of_the_margin():
    f = np.array([-40.0, -3.0, -1e-3, 0.0, 1e-3, 3.0])
    s = B.svm_score(f)
    np.testing.assert_allclose(s, [1 / (1 + math.exp(-v)) for v in f], rtol=1e-12)
    assert s[3] == 0.5 and (np.diff(s) > 0).all()
    assert ((s > 0.5) == (f > 0)).all()


def test_tfidf_svm_scores_are_the_mapped_linear_svm_margins():
    from sklearn.svm import LinearSVC
    _, xtr = tfidf_reference(TRAIN, TRAIN)
    _, xte = tfidf_reference(TRAIN, TEST)
    p = B.TfidfBinaryRelevance("svm").fit(TRAIN, Y).predict_proba(TEST)
    pred = np.zeros_like(p, dtype=np.int8)
    for j in range(Y.shape[1]):
        svm = LinearSVC(C=1.0, dual=True, random_state=0, max_iter=1000).fit(xtr, Y[:, j])
        f = svm.decision_function(xte)
        np.testing.assert_allclose(p[:, j], 1 / (1 + np.exp(-f)), rtol=1e-6)
        np.testing.assert_array_equal(p[:, j] > 0.5, svm.predict(xte) == 1)
        pred[:, j] = svm.predict(xte)
    assert ((p > 0) & (p < 1)).all()
    # The fixed 0.5 cut of zoo.metrics.evaluate is the SVM's own decision.
    from zoo.metrics import evaluate
    yte = np.array([[0, 0, 0], [0, 0, 0], [1, 0, 0], [0, 1, 0]])
    cut, own = evaluate(yte, p, threshold=0.5), evaluate(yte, p, y_pred=pred)
    assert all(cut[k] == own[k] or (np.isnan(cut[k]) and np.isnan(own[k])) for k in cut)


def test_text_baseline_rejects_bad_arguments():
    with pytest.raises(ValueError, match="'lr' or 'svm'"):
        B.TfidfBinaryRelevance("nb")
    with pytest.raises(ValueError, match="unknown tfidf"):
        B.TfidfBinaryRelevance(tfidf={"ngrams": 3})
    with pytest.raises(ValueError, match="sequence of str"):
        B.TfidfBinaryRelevance().fit("one string", Y[:1])


# ----------------------------------------------------------------------------- run dispatch

def test_baselines_apply_per_dataset_kind():
    assert B.names_for("emotions") == B.NAMES
    assert B.names_for("goemotions") == B.TEXT_NAMES
    assert B.names_for("reuters21578", ["br-lr", "tfidf-br-svm"]) == ("tfidf-br-svm",)
    with pytest.raises(ValueError, match="does not apply"):
        B.evaluate_baseline("emotions", "tfidf-br-lr")


def test_run_merges_and_never_records_inapplicable_pairs(tmp_path, monkeypatch):
    out = tmp_path / "baselines.json"
    kept = {"dataset": "yeast", "name": "mlknn", "kind": "baseline", "fit_seconds": 1.0,
            "params": {"k": 10}, "metrics": {"micro_f1": 0.123}}
    out.write_text(json.dumps({"format": B.FORMAT, "rows": [kept], "skipped": []}))
    calls = []

    def fake(dataset, name, seed=0):
        calls.append((dataset, name))
        return {"dataset": dataset, "name": name, "kind": "baseline", "fit_seconds": 0.0,
                "params": {}, "metrics": {"micro_f1": 0.5, "macro_f1": 0.4,
                                          "mean_average_precision": 0.3}}
    monkeypatch.setattr("zoo.baselines.runner.evaluate_baseline", fake)
    doc = B.run(datasets=["goemotions", "emotions"], names=["br-lr", "tfidf-br-lr"], out=out,
                variants=("untuned",), log=lambda *_: None)
    assert calls == [("goemotions", "tfidf-br-lr"), ("emotions", "br-lr")]
    assert doc["skipped"] == []
    # Kept row untouched; rows ordered MULAN sets first, then the text sets.
    assert [(r["dataset"], r["name"]) for r in doc["rows"]] == [
        ("emotions", "br-lr"), ("yeast", "mlknn"), ("goemotions", "tfidf-br-lr")]
    assert doc["rows"][1] == dict(kept, tuned=False, baseline="mlknn")  # format-1 row, upgraded


# ----------------------------------------------------------------------------- stored results

@pytest.fixture(scope="module")
def stored():
    doc = json.loads(B.RESULTS_PATH.read_text())
    return {(r["dataset"], r["name"]): r for r in doc["rows"]}


def test_results_file_has_every_text_row_and_no_cross_kind_pairs(stored):
    from zoo.metrics import evaluate
    keys = set(evaluate([[1, 0], [0, 1]], [[0.9, 0.2], [0.4, 0.6]]))
    for d in B.TEXT_DATASETS:
        for n in B.TEXT_NAMES:
            r = stored[(d, n)]
            assert set(r["metrics"]) == keys and r["train_split"] == "train_full"
            assert r["params"]["tfidf"]["ngram_range"] == [1, 2] and r["threshold"] == 0.5
            assert 0 < r["features"] <= 100_000
        assert not any((d, n) in stored for n in B.NAMES)
    assert not any((d, n) in stored for d in B.DATASETS for n in B.TEXT_NAMES)


def test_reuters_lr_refit_is_deterministic_and_fits_on_train_texts_only(mirror, stored,
                                                                        monkeypatch):
    """evaluate_baseline("reuters21578", "tfidf-br-lr") on a 1500-doc train_full subsample (and
    400 test docs), twice. The full refit takes 15-40 s on the shared 2 cores, over this file's
    budget; a spy on `fit` checks that the vectorizer gets exactly the train texts."""
    from sklearn.base import clone

    from zoo import data
    load = data.load
    rng = np.random.default_rng(0)
    full, test = load("reuters21578", "train_full"), load("reuters21578", "test")
    sub = {"train_full": full.subset(np.sort(rng.choice(len(full), 1500, replace=False))),
           "test": test.subset(np.sort(rng.choice(len(test), 400, replace=False)))}
    monkeypatch.setattr(data, "load", lambda name, split: sub[split])
    seen = []
    fit = B.TfidfBinaryRelevance.fit

    def spy(self, texts, y):
        seen.append((list(texts), self))
        return fit(self, texts, y)
    monkeypatch.setattr(B.TfidfBinaryRelevance, "fit", spy)
    a = B.evaluate_baseline("reuters21578", "tfidf-br-lr")
    b = B.evaluate_baseline("reuters21578", "tfidf-br-lr")
    assert a["metrics"] == b["metrics"] and a["features"] == b["features"]
    assert a["params"] == stored[("reuters21578", "tfidf-br-lr")]["params"]
    (texts, model), _ = seen
    assert texts == list(sub["train_full"].x)
    unseen = set(sub["test"].x) - set(texts)
    assert unseen and not unseen & set(texts)
    vocab = model.vectorizer_.vocabulary_
    assert vocab == clone(model.vectorizer_).fit(texts).vocabulary_
    # Power check: a vectorizer that had also seen the test texts would differ.
    assert vocab != clone(model.vectorizer_).fit(texts + list(sub["test"].x)).vocabulary_
