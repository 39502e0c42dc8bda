"""Partial labels (issue 7): unknown (-1) label entries through training, on real data.

The benchmark (benchmarks/bench_partial_labels.py, docs/partial_labels.md) compares masked
training, dropping partially labelled rows and assuming negatives over 5 seeds and 3 datasets;
this file checks the same claim on one small run, the mechanism behind it (an unknown entry
sends no gradient anywhere in the training path) and that the committed doc is generated from
the committed results.
"""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


pytestmark = pytest.mark.usefixtures("mirror_env")


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location(
        "bench_partial_labels", ROOT / "benchmarks" / "bench_partial_labels.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ----------------------------------------------------------------------------- hiding


def test_hide_entries_hides_exactly_the_fraction(bench):
    from zoo.data import benchmarks
    train = benchmarks.load("yeast", "train")
    y = train.labels_dense()
    h = bench.hide_entries(y, 0.3, np.random.default_rng([0, 1]))
    hidden = h == -1
    assert hidden.sum() == round(0.3 * y.size)
    assert np.array_equal(h[~hidden], y[~hidden]) and y.min() >= 0          # input untouched
    # uniform over cells: every label loses about 30% of its entries
    assert np.all(np.abs(hidden.mean(0) - 0.3) < 0.06)
    again = bench.hide_entries(y, 0.3, np.random.default_rng([0, 1]))
    other = bench.hide_entries(y, 0.3, np.random.default_rng([1, 1]))
    assert np.array_equal(h, again) and not np.array_equal(h, other)
    # the conditions share one hidden validation split; drop_rows keeps the complete rows
    valid = benchmarks.load("yeast", "valid")
    tr_m, va_m = bench.make_condition("masked", train, valid, seed=0)
    tr_d, va_d = bench.make_condition("drop_rows", train, valid, seed=0)
    tr_a, va_a = bench.make_condition("assume_negative", train, valid, seed=0)
    assert np.array_equal(va_m.y, va_d.y) and np.array_equal(va_m.y, va_a.y)
    assert (va_m.y == -1).sum() == round(0.3 * va_m.y.size)
    complete = (tr_m.y >= 0).all(1)
    assert len(tr_d) == complete.sum() and np.array_equal(tr_d.x, train.x[complete])
    assert 0 < len(tr_d) < 0.02 * len(train)                 # 0.7 ** 14: ~9 of 1350 rows
    assert np.array_equal(tr_a.y, np.maximum(tr_m.y, 0))


# ----------------------------------------------------------------------------- mechanism

LOSSES = ["bce", "focal", "asl", "hill", "splc", "bpmll", "lsep", "zlpr"]


@pytest.mark.parametrize("loss_name", LOSSES + ["an"])
def test_a_label_hidden_everywhere_gets_no_gradient(loss_name):
    """Every masking loss sends exactly zero gradient to the output unit of a label that is
    unknown in every row; the assume-negative loss ("an") is the control that does not."""
    import keras
    import tensorflow as tf

    import zoo
    from zoo import losses

    keras.utils.set_random_seed(0)
    model = zoo.build("mlp", num_features=6, num_labels=4, hidden_units=(16,), dropout=0.0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 6)).astype(np.float32)
    y = (rng.random((32, 4)) < 0.4).astype(np.float32)
    y[:4, 1], y[4:8, 1] = 1.0, 0.0                     # label 1 has both classes...
    y[:, 2] = -1.0                                     # ... label 2 is unknown everywhere
    y[rng.random((32, 4)) < 0.2] = -1.0                # and a few other cells are unknown
    loss = losses.get(loss_name)
    out = model.get_layer("logits")
    with tf.GradientTape() as tape:
        value = loss(y, model(x, training=True))
    g_kernel, g_bias = tape.gradient(value, [out.kernel, out.bias])
    g_bias, g_kernel = g_bias.numpy(), g_kernel.numpy()
    assert np.isfinite(g_bias).all() and np.isfinite(g_kernel).all()
    if loss_name == "an":
        assert g_bias[2] != 0.0                       # -1 read as a negative: a gradient
    else:
        assert g_bias[2] == 0.0 and not g_kernel[:, 2].any()
        assert g_bias[1] != 0.0                       # the known labels do learn


def test_fit_masks_unknowns_end_to_end(bench):
    """Through zoo.train.fit (tf.data pipeline, masked loss, Adam, early stopping, threshold
    tuning): the output unit of a label hidden in every training row never moves, the
    streaming metrics logged on a partially hidden split equal the exact ones over known
    entries, and the global threshold is the one tuned on the known validation entries."""
    import keras

    from zoo import metrics as zm
    from zoo import thresholds as th
    from zoo.data import benchmarks, pipeline
    from zoo.inference import MultiLabelModel
    from zoo.train import build_model, fit

    train = benchmarks.load("emotions", "train")
    valid = benchmarks.load("emotions", "valid")
    tr, va = bench.make_condition("masked", train, valid, seed=0)
    y = tr.labels_dense().copy()
    y[:, 3] = -1
    tr = bench.with_labels(tr, y)
    opts = {"hidden_units": [64], "dropout": 0.5}
    res = fit("mlp", tr, va, opts, seed=0, verbose=0, thresholds={"rule": "global"},
              epochs=3, patience=3, learning_rate=1e-2, batch_size=32)
    keras.utils.set_random_seed(0)                     # fit's initial weights, rebuilt
    init, _ = build_model("mlp", tr, opts)
    k0 = init.get_layer("logits").kernel.numpy()
    out = res.model.get_layer("logits")
    k, b = out.kernel.numpy(), out.bias.numpy()
    assert b[3] == 0.0 and np.array_equal(k[:, 3], k0[:, 3])
    assert np.all(b[[0, 1, 2, 4, 5]] != 0.0)

    logs = res.model.evaluate(pipeline.to_tf_dataset(va, batch_size=256), verbose=0,
                              return_dict=True)
    z = res.model.predict(va.x, verbose=0).astype(np.float64)
    p = 1.0 / (1.0 + np.exp(-z))
    exact = zm.evaluate(va.labels_dense(), p, threshold=0.5)
    for key in ("micro_f1", "macro_f1", "hamming_loss", "precision_at_1"):
        assert logs[key] == pytest.approx(exact[key], abs=1e-5), key
    # the global cut is the best micro-F1 cut over the KNOWN validation entries
    yv = va.labels_dense()
    assert (yv == -1).sum() == round(0.3 * yv.size)
    s = MultiLabelModel(res.model, va.label_names).predict_proba(va.x)
    assert res.thresholds == th.tune_global(yv, s)
    best = zm.micro_f1(yv, res.thresholds.apply(s))
    for t in np.unique(s):
        assert best >= zm.micro_f1(yv, s > t) - 1e-12


def test_fallback_max_uses_known_entries_only():
    from zoo import thresholds as th
    y = np.array([[0, 1], [-1, 0], [0, 1]])
    s = np.array([[0.4, 0.9], [0.95, 0.1], [0.2, 0.8]])
    rule, info = th.tune_per_label(y, s, fallback="max", return_info=True)
    assert info["reason"][0] == "few_positives"
    assert rule.thresholds[0] == 0.4                  # not the unknown row's 0.95
    y_all_unknown = np.array([[-1, 1], [-1, 0], [-1, 1]])
    rule = th.tune_per_label(y_all_unknown, s, fallback="max")
    assert rule.thresholds[0] == 0.95                 # nothing known: every row


# ----------------------------------------------------------------------------- the claim


@pytest.mark.slow
def test_masked_training_beats_dropping_rows_on_yeast(bench):
    """30% of yeast's training label entries hidden: training on every row with the unknowns
    masked beats training on the ~9 fully labelled rows, by a margin, on the test split.

    Conservative on time budgets: the masked model gets 10 epochs, the dropped-rows model the
    benchmark's 60 epochs with early stopping (its one batch per epoch makes epochs cheap)."""
    from zoo.data import benchmarks
    splits = tuple(benchmarks.load("yeast", s) for s in ("train", "valid", "test"))
    masked = bench.run_one("yeast", "masked", 0, epochs=10, patience=10, splits=splits)
    dropped = bench.run_one("yeast", "drop_rows", 0, splits=splits)
    assert masked["rows_kept"] == len(splits[0]) and dropped["rows_kept"] < 30
    assert masked["unknown_train_entries"] == round(0.3 * splits[0].y.size)
    assert masked["micro_f1"] - dropped["micro_f1"] > 0.05, (masked, dropped)
    assert masked["macro_f1"] - dropped["macro_f1"] > 0.03, (masked, dropped)
    assert masked["mean_average_precision"] - dropped["mean_average_precision"] > 0.05


# ----------------------------------------------------------------------------- recorded results


def test_doc_is_generated_from_the_recorded_results(bench):
    result = json.loads((ROOT / "benchmarks" / "results" / "partial_labels.json").read_text())
    assert result["complete"] and len(result["protocol"]["seeds"]) >= 3
    assert {"emotions", "yeast"} <= set(result["datasets"])
    assert result["protocol"]["hide_fraction"] == 0.3
    for name, d in result["datasets"].items():
        c = d["conditions"]
        assert set(c) == set(bench.CONDITIONS)
        for cond, entry in c.items():
            assert len(entry["runs"]) == len(result["protocol"]["seeds"])
            for key in ("micro_f1", "macro_f1", "mean_average_precision"):
                v = [r[key] for r in entry["runs"]]
                assert entry["summary"][key]["mean"] == pytest.approx(np.mean(v), abs=1e-12)
        # the claim, as recorded
        for key in ("micro_f1", "macro_f1", "mean_average_precision"):
            assert c["masked"]["summary"][key]["mean"] > c["drop_rows"]["summary"][key]["mean"]
    doc = (ROOT / "docs" / "partial_labels.md").read_text()
    assert doc == bench.render_markdown(result)
