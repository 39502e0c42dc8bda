"""Classical baselines: ML-kNN against a loop transcription of the paper, BR/ECC behaviour, and
reproduction of the stored emotions/yeast numbers in results/baselines.json."""
import json
import math

import numpy as np
import pytest
import scipy.sparse as sp

from zoo import baselines as B


# ----------------------------------------------------------------------------- ML-kNN reference

def mlknn_reference(xtr, ytr, xte, k=10, s=1.0):
    """Zhang & Zhou 2007, Fig. 1, transcribed loop by loop (no scaling, Euclidean, brute force).

    Returns (prior P(H1_l), P(E_j|H1_l), P(E_j|H0_l), posteriors r_tl, MAP decisions)."""
    m, L = len(ytr), len(ytr[0])

    def neighbours(x, exclude=None):
        d = [math.dist(x, xtr[i]) if i != exclude else math.inf for i in range(m)]
        return sorted(range(m), key=lambda i: d[i])[:k]

    prior = [0.0] * L
    for l in range(L):                                   # steps (1)-(3)
        prior[l] = (s + sum(ytr[i][l] for i in range(m))) / (s * 2 + m)
    nbrs = [neighbours(xtr[i], exclude=i) for i in range(m)]   # step (4)
    ph1 = [[0.0] * (k + 1) for _ in range(L)]
    ph0 = [[0.0] * (k + 1) for _ in range(L)]
    for l in range(L):                                   # steps (5)-(13)
        c = [0] * (k + 1)
        c_ = [0] * (k + 1)
        for i in range(m):
            delta = sum(ytr[a][l] for a in nbrs[i])
            if ytr[i][l] == 1:
                c[delta] += 1
            else:
                c_[delta] += 1
        for j in range(k + 1):
            ph1[l][j] = (s + c[j]) / (s * (k + 1) + sum(c))
            ph0[l][j] = (s + c_[j]) / (s * (k + 1) + sum(c_))
    post = np.zeros((len(xte), L))
    dec = np.zeros((len(xte), L), dtype=np.int8)
    for t, x in enumerate(xte):                          # steps (14)-(18)
        nb = neighbours(x)
        for l in range(L):
            ct = sum(ytr[a][l] for a in nb)
            a1 = prior[l] * ph1[l][ct]
            a0 = (1 - prior[l]) * ph0[l][ct]
            dec[t, l] = int(a1 > a0)
            post[t, l] = a1 / (a1 + a0)
    return np.array(prior), np.array(ph1), np.array(ph0), post, dec


@pytest.fixture(scope="module")
def small_problem():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(70, 5))
    w = rng.normal(size=(5, 4))
    y = (x @ w + 0.7 * rng.normal(size=(70, 4)) > 0.4).astype(np.int8)
    y[:, 3] = 0
    y[:5, 3] = 1                                          # a rare label
    return x[:50], y[:50], x[50:], y[50:]


@pytest.mark.parametrize("k,s", [(10, 1.0), (3, 0.5)])
def test_mlknn_matches_loop_transcription(small_problem, k, s):
    xtr, ytr, xte, _ = small_problem
    prior, ph1, ph0, post, dec = mlknn_reference(xtr.tolist(), ytr.tolist(), xte.tolist(), k, s)
    m = B.MLkNN(k=k, s=s, scale=False).fit(xtr, ytr)
    np.testing.assert_allclose(m.prior_, prior, rtol=1e-12)
    np.testing.assert_allclose(m.cond1_, ph1, rtol=1e-12)
    np.testing.assert_allclose(m.cond0_, ph0, rtol=1e-12)
    np.testing.assert_allclose(m.predict_proba(xte), post, rtol=1e-12)
    np.testing.assert_array_equal(m.predict(xte), dec)


def test_mlknn_sparse_input_equals_dense(small_problem):
    xtr, ytr, xte, _ = small_problem
    # Non-negative, continuous (no distance ties), every column has zeros: then the dense
    # min-max scaling and the sparse max-abs scaling coincide.
    xtr, xte = np.where(xtr > -0.5, xtr + 0.5, 0.0), np.where(xte > -0.5, xte + 0.5, 0.0)
    xtr[0], xte = 0.0, np.minimum(xte, xtr.max(0))
    assert sp.csr_matrix(xtr).nnz < xtr.size
    dense = B.MLkNN(k=5).fit(xtr, ytr).predict_proba(xte)
    sparse = B.MLkNN(k=5).fit(sp.csr_matrix(xtr), sp.csr_matrix(ytr)).predict_proba(
        sp.csr_matrix(xte))
    np.testing.assert_allclose(sparse, dense, rtol=1e-12)


def test_mlknn_minmax_scaling_is_the_default():
    # Feature 1 has a huge range and is noise; scaled to [0, 1] it no longer dominates.
    rng = np.random.default_rng(1)
    x = np.c_[np.repeat([0.0, 1.0], 40), rng.uniform(0, 1e4, 80)]
    y = x[:, :1].astype(int)
    scaled = B.MLkNN(k=5).fit(x, y).predict(x)
    raw = B.MLkNN(k=5, scale=False).fit(x, y).predict(x)
    assert (scaled == y).mean() > 0.95 > (raw == y).mean()


def test_mlknn_rejects_bad_inputs():
    with pytest.raises(ValueError, match="more than k=10"):
        B.MLkNN().fit(np.zeros((10, 2)), np.zeros((10, 1)))
    with pytest.raises(ValueError, match="smoothing"):
        B.MLkNN(s=0)
    with pytest.raises(ValueError, match="binary"):
        B.MLkNN(k=1).fit(np.zeros((3, 2)), -np.ones((3, 1)))


# ----------------------------------------------------------------------------- BR and ECC

def test_binary_relevance_equals_independent_logistic_regressions(small_problem):
    from sklearn.linear_model import LogisticRegression
    xtr, ytr, xte, _ = small_problem
    p = B.BinaryRelevance(C=0.5).fit(xtr, ytr).predict_proba(xte)
    mu, sd = xtr.mean(0), xtr.std(0)
    for j in range(ytr.shape[1]):
        lr = LogisticRegression(C=0.5, solver="liblinear", max_iter=1000)
        lr.fit((xtr - mu) / sd, ytr[:, j])
        np.testing.assert_allclose(p[:, j], lr.predict_proba((xte - mu) / sd)[:, 1], rtol=1e-6)


def test_single_class_labels_get_constant_predictors():
    x = np.random.default_rng(0).normal(size=(30, 3))
    y = np.c_[np.zeros(30), np.ones(30), (x[:, 0] > 0)].astype(int)
    for model in (B.BinaryRelevance(), B.EnsembleClassifierChains(n_chains=3)):
        p = model.fit(x, y).predict_proba(x)
        assert (p[:, 0] == 0).all() and (p[:, 1] == 1).all()
        assert ((p[:, 2] >= 0.5) == y[:, 2]).mean() > 0.9


def test_chain_feeds_earlier_decisions():
    # Label 1 = NOT label 0, which x predicts only noisily: a chain ordered (0, 1) must
    # learn label 1 from the fed-in label 0 and, predicting, follow its own label-0 decision.
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 2))
    y0 = (x[:, 0] + rng.normal(size=200) > 0).astype(int)
    y = np.c_[y0, 1 - y0]
    sx = (x - x.mean(0)) / x.std(0)
    from sklearn.linear_model import LogisticRegression
    chain = B.ClassifierChain(LogisticRegression(solver="liblinear"), order=[0, 1]).fit(sx, y)
    w = chain.models_[1].coef_[0]
    assert chain.models_[1].n_features_in_ == 3 and abs(w[2]) > 2 * max(abs(w[:2]))
    p = chain.predict_proba(sx)
    np.testing.assert_array_equal((p[:, 1] >= 0.5), (p[:, 0] < 0.5))


def test_ecc_is_deterministic_and_sparse_ok(small_problem):
    xtr, ytr, xte, _ = small_problem
    a = B.EnsembleClassifierChains(n_chains=4, seed=5).fit(xtr, ytr).predict_proba(xte)
    b = B.EnsembleClassifierChains(n_chains=4, seed=5).fit(xtr, ytr).predict_proba(xte)
    c = B.EnsembleClassifierChains(n_chains=4, seed=6).fit(xtr, ytr).predict_proba(xte)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    xb = (xtr > 0).astype(float)
    dense = B.EnsembleClassifierChains(n_chains=2).fit(xb, ytr).predict_proba(xb)
    sparse = B.EnsembleClassifierChains(n_chains=2).fit(sp.csr_matrix(xb), ytr).predict_proba(
        sp.csr_matrix(xb))
    assert sparse.shape == dense.shape and ((sparse >= 0) & (sparse <= 1)).all()


def test_ecc_averages_its_chains(small_problem):
    xtr, ytr, xte, _ = small_problem
    ecc = B.EnsembleClassifierChains(n_chains=3).fit(xtr, ytr)
    xs = ecc.scaler_.transform(xte)
    np.testing.assert_allclose(ecc.predict_proba(xte),
                               sum(c.predict_proba(xs) for c in ecc.chains_) / 3)
    orders = [tuple(c.order) for c in ecc.chains_]
    assert all(sorted(o) == list(range(ytr.shape[1])) for o in orders)


# ----------------------------------------------------------------------------- stored results

@pytest.fixture(scope="module")
def stored():
    doc = json.loads(B.RESULTS_PATH.read_text())
    assert doc["format"] == B.FORMAT and doc["zoo_version"] and doc["generated"]
    return {(r["dataset"], r["name"]): r for r in doc["rows"]}


def test_results_file_covers_every_dataset_and_names_its_skips(stored):
    doc = json.loads(B.RESULTS_PATH.read_text())
    skipped = {(r["dataset"], r["name"]) for r in doc["skipped"]}
    assert all(r["reason"] for r in doc["skipped"])
    for d in B.DATASETS:
        for n in B.NAMES:
            assert ((d, n) in stored) != ((d, n) in skipped), (d, n)
    from zoo.evaluation import metric_groups
    from zoo.metrics import evaluate
    for r in stored.values():
        keys = set(evaluate([[1, 0], [0, 1]], [[0.9, 0.2], [0.4, 0.6]],
                            groups=metric_groups(r["dataset"])))
        assert set(r["metrics"]) == keys and r["kind"] == "baseline" and r["fit_seconds"] >= 0


@pytest.mark.parametrize("dataset,name", [("emotions", "br-lr"), ("emotions", "ecc-lr"),
                                          ("emotions", "mlknn"), ("yeast", "br-lr"),
                                          ("yeast", "mlknn")])
def test_refit_reproduces_stored_numbers(mirror, stored, dataset, name):
    row = B.evaluate_baseline(dataset, name)
    ref = stored[(dataset, name)]
    assert row["params"] == ref["params"]
    for key, v in ref["metrics"].items():
        assert row["metrics"][key] == pytest.approx(v, rel=1e-6, abs=1e-9, nan_ok=True), key


# ----------------------------------------------------------------------------- package + registry
# (issue 11: estimators and a runner, a decorator registry instead of an if-chain)

def test_registry_decorator_and_lookup(monkeypatch):
    from zoo.baselines import registry
    assert registry.names("features") == ("br-lr", "br-svm", "ecc-lr", "mlknn", "rf")
    assert registry.names("text") == ("tfidf-br-lr", "tfidf-br-svm")
    assert registry.names("features", untuned=True) == B.NAMES == ("br-lr", "ecc-lr", "mlknn")
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))

    @registry.register("toy-mlknn", kind="features", grid=[{"k": 3}], untuned=False)
    def toy(seed=0, k=2):
        """A toy baseline registered from the test."""
        return B.MLkNN(k=k), {"k": k}

    spec = registry.get("toy-mlknn")
    assert spec.kind == "features" and spec.grid == ({"k": 3},) and not spec.untuned
    assert spec.description == "A toy baseline registered from the test."
    model, params = B.make("toy-mlknn", k=4)
    assert isinstance(model, B.MLkNN) and model.k == 4 and params == {"k": 4}
    assert "toy-mlknn" in B.names_for("emotions", variant="tuned")
    assert "toy-mlknn" not in B.names_for("emotions")             # no untuned variant
    with pytest.raises(ValueError, match="already registered"):
        registry.register("toy-mlknn", kind="features")(toy)
    with pytest.raises(ValueError, match="kind must be one of"):
        registry.register("x", kind="images")
    with pytest.raises(ValueError, match=r"unknown baseline 'nope'; known: \['br-lr'"):
        B.make("nope")


def test_no_if_chain_over_names_in_the_runner():
    import inspect

    from zoo.baselines import runner
    src = inspect.getsource(runner)
    assert 'name == "br-lr"' not in src and "if name in (" not in src


def test_untuned_params_are_the_historical_ones():
    assert B.make("br-lr")[1] == {"C": 1.0, "max_iter": 1000, "standardize": True}
    assert B.make("mlknn")[1] == {"k": 10, "s": 1.0, "scale": True}
    assert B.make("ecc-lr", seed=3)[1]["seed"] == 3


def test_binary_relevance_svm_equals_independent_linear_svms(small_problem):
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC
    xtr, ytr, xte, _ = small_problem
    p = B.BinaryRelevance(classifier="svm", C=0.1).fit(xtr, ytr).predict_proba(xte)
    sc = StandardScaler().fit(xtr)
    for j in range(ytr.shape[1]):
        f = LinearSVC(C=0.1, max_iter=1000, dual=True, random_state=0).fit(
            sc.transform(xtr), ytr[:, j]).decision_function(sc.transform(xte))
        np.testing.assert_allclose(p[:, j], B.svm_score(f), rtol=1e-10)
    with pytest.raises(ValueError, match="classifier must be 'lr' or 'svm'"):
        B.BinaryRelevance(classifier="rf")


def test_random_forest_scores_constants_and_determinism(small_problem):
    xtr, ytr, xte, _ = small_problem
    y = ytr.copy()
    y[:, 2] = 1                                                   # one class only in train
    a = B.RandomForest(n_estimators=15, seed=1).fit(xtr, y).predict_proba(xte)
    b = B.RandomForest(n_estimators=15, seed=1).fit(sp.csr_matrix(xtr), y).predict_proba(xte)
    assert a.shape == (len(xte), 4) and ((a >= 0) & (a <= 1)).all()
    np.testing.assert_array_equal(a[:, 2], 1.0)
    np.testing.assert_allclose(a, b)                              # sparse input, same forest
    # the score is the mean leaf share of positives over the trees
    from sklearn.ensemble import RandomForestClassifier
    rf = RandomForestClassifier(n_estimators=15, random_state=1, max_features="sqrt",
                                n_jobs=1).fit(xtr.astype(np.float32), y[:, [0, 1, 3]])
    ref = rf.predict_proba(xte.astype(np.float32))
    np.testing.assert_allclose(a[:, 0], ref[0][:, 1])
    with pytest.raises(ValueError, match="n_estimators"):
        B.RandomForest(n_estimators=0)


# ----------------------------------------------------------------------------- tuned rows
# (issue 13 item 1: hyper-parameters and thresholds chosen on valid, like the checkpoints)

def test_crossfit_rule_choice_does_not_reward_overfitting():
    from zoo import thresholds as th
    from zoo.baselines import runner
    rng = np.random.default_rng(0)
    n, L = 200, 30
    y = (rng.random((n, L)) < 0.05).astype(np.int8)             # rare labels
    s = rng.random((n, L))                                       # scores carry no signal
    halves = th.split_halves(n, 0)
    assert len(set(halves[0]) & set(halves[1])) == 0 and len(halves[0]) + len(halves[1]) == n
    in_sample = {r: th.criterion(y, runner.calibrate(r, y, s).apply(s)) for r in runner.RULES}
    held_out = {r: th.crossfit_score(y, s, r) for r in runner.RULES}
    # tuned on the rows it is scored on, per-label cuts look far better than they are
    assert in_sample["per_label"] > held_out["per_label"] + 0.04
    # the baselines compare the checkpoints' candidates
    assert set(runner.RULES) == set(th.CANDIDATES)


def test_f1_pair_matches_the_metrics_module():
    from zoo import thresholds as th
    from zoo.metrics import evaluate
    rng = np.random.default_rng(1)
    y = (rng.random((40, 6)) < 0.3).astype(np.int8)
    y[:, 5] = 0
    s = rng.random((40, 6))
    m = evaluate(y, s, threshold=0.5)
    micro, macro = th.f1_pair(y, s > 0.5)
    assert micro == pytest.approx(m["micro_f1"]) and macro == pytest.approx(m["macro_f1"])


def test_tune_baseline_chooses_on_valid_and_touches_test_once(monkeypatch, small_problem):
    """A fake dataset: the grid and the rule are chosen from valid scores only; test rows are
    scored once, by the chosen model, with the rule calibrated on all of valid."""
    from zoo import data
    from zoo.baselines import runner
    from zoo.data.dataset import MultiLabelDataset
    xtr, ytr, xte, yte = small_problem
    rng = np.random.default_rng(3)
    xva = rng.normal(size=(40, 5))
    yva = (xva[:, :4] > 0).astype(np.int8)
    splits = {s: MultiLabelDataset(x=x, y=y, label_names=list("abcd"), kind="features",
                                   name="toy", split=s)
              for s, x, y in (("train", xtr, ytr), ("valid", xva, yva), ("test", xte, yte))}
    monkeypatch.setattr(data, "load", lambda name, split: splits[split])
    seen = []
    orig = B.MLkNN.predict_proba

    def spy(self, x):
        seen.append((self.k, len(x)))
        return orig(self, x)
    monkeypatch.setattr(B.MLkNN, "predict_proba", spy)
    monkeypatch.setattr(runner, "kind_of", lambda d: "features")
    row = runner.tune_baseline("toy", "mlknn", grid=[{"k": 3}, {"k": 5}, {"k": 7}])
    assert row["name"] == "mlknn-tuned" and row["tuned"] and row["baseline"] == "mlknn"
    trials = row["selection"]["trials"]
    assert [t["params"]["k"] for t in trials] == [3, 5, 7]
    best = max((t["valid_score"][t["rule"]], -i, t["rule"], t["params"]["k"])
               for i, t in enumerate(trials))
    assert row["selection"]["chosen"]["params"]["k"] == best[3]
    assert row["threshold"] == row["selection"]["chosen"]["rule"]
    # valid scored once per grid entry, test once by the chosen model
    assert seen == [(3, 40), (5, 40), (7, 40), (best[3], len(xte))]
    # the recorded rule is the chosen tuner applied to all of valid
    model = B.MLkNN(k=best[3]).fit(xtr, ytr)
    rule = runner.calibrate(row["threshold"], yva, orig(model, xva))
    assert row["thresholds"] == rule.to_dict()
    from zoo.metrics import evaluate
    p = orig(model, xte)
    want = evaluate(yte, p, y_pred=rule.apply(p))
    assert row["metrics"]["micro_f1"] == pytest.approx(want["micro_f1"])
    assert row["train_split"] == "train" and row["valid_split"] == "valid"


CHECKPOINT_DATASETS = ("emotions", "yeast", "scene", "medical", "enron", "corel5k", "bibtex",
                       "delicious", "flags", "genbase", "tmc2007-500")


def test_results_have_tuned_rows_on_every_checkpoint_dataset(stored):
    doc = json.loads(B.RESULTS_PATH.read_text())
    skipped = {(r["dataset"], r["name"]): r["reason"] for r in doc["skipped"]}
    for d in CHECKPOINT_DATASETS + ("reuters21578", "goemotions"):
        for n in B.names_for(d, variant="tuned"):
            key = (d, B.tuned_name(n))
            assert (key in stored) != (key in skipped), key
            if key in stored:
                r = stored[key]
                assert r["tuned"] and r["baseline"] == n and r["train_split"] == "train"
                assert r["threshold"] in r["selection"]["rules"]
                kind = {"global": "global", "top_k": "top_k"}.get(r["threshold"], "per_label")
                assert r["thresholds"]["rule"] == kind
                chosen = r["selection"]["chosen"]["params"]
                assert chosen in [t["params"] for t in r["selection"]["trials"]]
                assert all(r["params"][k] == v for k, v in chosen.items())
    for d in CHECKPOINT_DATASETS:                 # the untuned rows are kept, labelled as such
        for n in B.NAMES:
            if (d, n) in stored:
                assert stored[(d, n)]["tuned"] is False and stored[(d, n)]["threshold"] == 0.5


def test_tuned_row_reproduces(mirror, stored):
    row = B.tune_baseline("emotions", "mlknn")
    ref = stored[("emotions", "mlknn-tuned")]
    assert row["params"] == ref["params"] and row["thresholds"] == ref["thresholds"]
    for key, v in ref["metrics"].items():
        assert row["metrics"][key] == pytest.approx(v, rel=1e-6, abs=1e-9, nan_ok=True), key


# ----------------------------------------------------------------------------- image baselines
# (issue 12: BR-LR and ML-kNN on a frozen ImageNet backbone's pooled features, corel5k-images)

def _image_splits(n_train=48, n_valid=24, n_test=20, size=64, name="corel5k-images"):
    """A tiny synthetic image dataset: label 0 = a bright image, label 1 = a red-ish one."""
    from zoo.data.dataset import MultiLabelDataset
    rng = np.random.default_rng(5)
    out = {}
    for split, n in (("train", n_train), ("valid", n_valid), ("test", n_test)):
        bright = rng.random(n) < 0.5
        red = rng.random(n) < 0.4
        img = rng.integers(0, 90, size=(n, size, size, 3)).astype(np.int16)
        img += np.where(bright, 150, 0)[:, None, None, None]
        img[..., 0] += np.where(red, 100, 0)[:, None, None]
        y = np.stack([bright, red], axis=1).astype(np.int8)
        out[split] = MultiLabelDataset(x=np.clip(img, 0, 255).astype(np.uint8), y=y,
                                       label_names=["bright", "red"], kind="image", name=name,
                                       split=split)
    out["train_full"] = out["train"]
    return out


TINY = {"backbone": "resnet-small", "weights": None, "image_size": (64, 64)}


@pytest.fixture
def tiny_images(monkeypatch, tmp_path):
    """The runner on the synthetic images (named corel5k-images, so its catalog record asks for
    the annotation metrics), with a tiny random backbone and a private feature cache."""
    from zoo import data
    from zoo.baselines import catalog, registry
    splits = _image_splits()
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(data, "load", lambda name, split: splits[split])
    # the registered image baselines with the tiny backbone as their default encoder
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    for name, build in (("img-br-lr", catalog.img_br_lr), ("img-mlknn", catalog.img_mlknn)):
        spec = registry._REGISTRY[name]
        registry._REGISTRY[name] = type(spec)(
            spec.name, spec.kind, lambda seed=0, _b=build, **kw: _b(seed, **(TINY | kw)),
            spec.grid, spec.untuned, spec.description)
    return splits


def test_image_baselines_are_registered_for_the_image_kind():
    from zoo.baselines import registry
    assert registry.names("image") == ("img-br-lr", "img-mlknn") == B.IMAGE_NAMES
    assert B.kind_of("corel5k-images") == "image" and "corel5k-images" in B.ALL_DATASETS
    assert B.names_for("corel5k-images") == ("img-br-lr", "img-mlknn")
    assert "br-lr" not in B.names_for("corel5k-images", variant="tuned")
    model, params = B.make("img-br-lr")
    assert isinstance(model, B.BackboneFeatures) and isinstance(model.estimator,
                                                                B.BinaryRelevance)
    assert params["C"] == 1.0 and params["encoder"]["backbone"] == "efficientnet-lite0"
    assert params["encoder"]["weights"] == "imagenet" and params["encoder"]["pooling"] == "avg"
    assert params["encoder"]["image_size"] == [224, 224]
    assert B.make("img-mlknn")[1]["k"] == 10
    with pytest.raises(ValueError, match="pooling must be one of"):
        B.BackboneFeatures(B.MLkNN(), pooling="median")


@pytest.mark.parametrize("pooling", ["avg", "max"])
def test_backbone_features_pool_the_encoded_maps(monkeypatch, tmp_path, pooling):
    from zoo.encoding import encode
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path))
    ds = _image_splits()["test"]
    m = B.BackboneFeatures(B.MLkNN(k=3), pooling=pooling, **TINY)
    f = m.features(ds)
    fmap = encode(m._encoder(), ds, (64, 64), verbose=False).astype(np.float32)
    assert fmap.ndim == 4 and fmap.shape[1:3] != (1, 1)       # a real spatial map to pool
    want = fmap.mean(axis=(1, 2)) if pooling == "avg" else fmap.max(axis=(1, 2))
    assert f.dtype == np.float32 and f.shape == (len(ds), fmap.shape[-1])
    np.testing.assert_allclose(f, want, rtol=1e-3, atol=1e-3)
    assert m.encoder_record()["feature_map"] == list(fmap.shape[1:])
    # raw image rows (no dataset) give the same features
    np.testing.assert_allclose(B.BackboneFeatures(B.MLkNN(k=3), pooling=pooling, **TINY)
                               .features(ds.x), f)
    with pytest.raises(ValueError, match="needs images"):
        m.features(type(ds)(x=np.zeros((2, 3), np.float32), y=np.zeros((2, 1), np.int8),
                            label_names=["a"]))


def test_image_baseline_rows_on_a_tiny_image_dataset(tiny_images):
    """Untuned and tuned image rows: fitted on the pooled features of the (tiny, random)
    backbone, the encoder recorded, the annotation metrics of corel5k-images included."""
    from zoo.evaluation import metric_groups
    from zoo.metrics import evaluate
    row = B.evaluate_baseline("corel5k-images", "img-br-lr")
    assert row["name"] == "img-br-lr" and not row["tuned"] and row["train_split"] == "train_full"
    enc = row["encoder"]
    assert enc["backbone"] == "resnet-small" and enc["pooling"] == "avg" and enc["frozen"]
    assert row["params"]["encoder"] == enc and len(enc["feature_map"]) == 3
    assert {"annot_top5_precision", "annot_top5_recall", "annot_top5_f1",
            "annot_top5_n_plus"} <= set(row["metrics"])
    # the row's metrics are BR-LR on the pooled features, scored with the dataset's groups
    feats = {s: B.BackboneFeatures(B.MLkNN(), **TINY).features(tiny_images[s])
             for s in ("train", "test")}
    p = B.BinaryRelevance(C=1.0).fit(feats["train"], tiny_images["train"].y).predict_proba(
        feats["test"])
    want = evaluate(tiny_images["test"].y, p, groups=metric_groups("corel5k-images"))
    for k, v in want.items():
        assert row["metrics"][k] == pytest.approx(v, nan_ok=True), k
    # the two labels are visible in the pixels: ranking clearly beats chance
    assert row["metrics"]["mean_average_precision"] > 0.6

    tuned = B.tune_baseline("corel5k-images", "img-mlknn", grid=[{"k": 3}, {"k": 5}])
    assert tuned["name"] == "img-mlknn-tuned" and tuned["tuned"]
    assert tuned["encoder"]["backbone"] == "resnet-small"
    assert [t["params"] for t in tuned["selection"]["trials"]] == [{"k": 3}, {"k": 5}]
    assert tuned["params"]["k"] == tuned["selection"]["chosen"]["params"]["k"]
    assert "annot_top5_f1" in tuned["metrics"]


def test_run_writes_image_rows_and_keeps_the_others(tiny_images, tmp_path):
    out = tmp_path / "baselines.json"
    out.write_text(json.dumps({"format": 2, "rows": [
        {"dataset": "emotions", "name": "br-lr", "tuned": False, "metrics": {"micro_f1": 0.5}}],
        "skipped": []}))
    logs = []
    doc = B.run(["corel5k-images"], names=["img-mlknn"], variants=("untuned",), out=out,
                log=logs.append)
    assert [(r["dataset"], r["name"]) for r in doc["rows"]] == [
        ("emotions", "br-lr"), ("corel5k-images", "img-mlknn")]
    assert "annot-F1" in logs[-1] and "N+" in logs[-1]


def test_stored_corel5k_images_rows(stored):
    """results/baselines.json has the image baselines on corel5k-images, untuned and tuned,
    on the ImageNet EfficientNet-Lite0's average-pooled features, with annotation metrics."""
    for name in ("img-br-lr", "img-mlknn", "img-br-lr-tuned", "img-mlknn-tuned"):
        r = stored[("corel5k-images", name)]
        assert r["encoder"]["backbone"] == "efficientnet-lite0"
        assert r["encoder"]["weights"] == "imagenet" and r["encoder"]["pooling"] == "avg"
        assert r["encoder"]["feature_map"] == [7, 7, 1280]
        assert 0 <= r["metrics"]["annot_top5_f1"] <= 1
        assert 0 < r["metrics"]["annot_top5_n_plus"] <= 260
        assert r["tuned"] == name.endswith("-tuned")
