"""The image-annotation protocol metrics (annot_top5_*) against hand-worked examples."""
import json
from pathlib import Path

import numpy as np
import pytest

import zoo.metrics as zm
from zoo.metrics.exact import GROUPS

# 3 images, 7 labels. Top-5 of each row (the two excluded labels in brackets):
#   r0 scores .9 .1 .8 .7 .6 .5 .05 -> picks {0,2,3,4,5}   [1, 6]
#   r1 scores .1 .2 .3 .4 .5 .6 .7  -> picks {2,3,4,5,6}   [0, 1]
#   r2 scores .0 .9 .8 .7 .6 .1 .5  -> picks {1,2,3,4,6}   [0, 5]
Y = np.array([[1, 1, 0, 0, 0, 0, 0],
              [0, 0, 1, 0, 0, 0, 1],
              [1, 0, 0, 0, 0, 1, 0]])
S = np.array([[.9, .1, .8, .7, .6, .5, .05],
              [.1, .2, .3, .4, .5, .6, .7],
              [.0, .9, .8, .7, .6, .1, .5]])
# per label: (TP, #predicted, #true) -> (P_l, R_l)
#   0: (1, 1, 2) -> (1, 1/2)      1: (0, 1, 1) -> (0, 0)     2: (1, 3, 1) -> (1/3, 1)
#   3: (0, 3, 0) -> (0, 0)        4: (0, 3, 0) -> (0, 0)     5: (0, 2, 1) -> (0, 0)
#   6: (1, 2, 1) -> (1/2, 1)
# P = (1 + 1/3 + 1/2) / 7 = 11/42, R = (1/2 + 1 + 1) / 7 = 5/14
# F1 = 2PR / (P + R) = 55/182 (the mean of per-label F1s would be 11/42), N+ = 3
HAND = {"annot_top5_precision": 11 / 42, "annot_top5_recall": 5 / 14,
        "annot_top5_f1": 55 / 182, "annot_top5_n_plus": 3.0}


def test_hand_worked_example():
    assert zm.annotation_metrics(Y, S) == pytest.approx(HAND, abs=1e-12)
    r = zm.evaluate(Y, S, groups=GROUPS)
    assert {k: r[k] for k in zm.ANNOTATION_KEYS} == pytest.approx(HAND, abs=1e-12)
    # F1 of the means, not the mean of per-label F1s
    assert r["annot_top5_f1"] != pytest.approx(11 / 42)


def test_top_k_smaller_k_and_ties():
    # k = 2 on the same data: picks r0 {0,2}, r1 {6,5}, r2 {1,2}
    #   0: (1,1,2) P1 R.5; 1: (0,1,1); 2: (0,2,1); 5: (0,1,1); 6: (1,1,1) P1 R1
    r = zm.annotation_metrics(Y, S, k=2)
    assert r == pytest.approx({"annot_top2_precision": 2 / 7, "annot_top2_recall": 1.5 / 7,
                               "annot_top2_f1": 2 * (2 / 7) * (1.5 / 7) / (3.5 / 7),
                               "annot_top2_n_plus": 2.0}, abs=1e-12)
    # ties go to the lower label index, whatever the column order looks like
    pick = zm.top_k_decisions([[0.5, 0.5, 0.5, 0.9], [0.0, 0.0, 0.0, 0.0]], 2)
    assert pick.astype(int).tolist() == [[1, 0, 0, 1], [1, 1, 0, 0]]


def test_fewer_labels_than_k_and_unknown_entries():
    y = np.array([[1, 0, 0], [0, 1, 0]])
    s = np.random.default_rng(0).random((2, 3))
    r = zm.annotation_metrics(y, s)  # every label is picked for every image
    assert r == pytest.approx({"annot_top5_precision": (0.5 + 0.5 + 0) / 3,
                               "annot_top5_recall": 2 / 3, "annot_top5_n_plus": 2.0,
                               "annot_top5_f1": 2 * (1 / 3) * (2 / 3) / 1.0})
    # an unknown entry that is picked counts neither as correct nor as predicted
    yu = np.array([[1, -1, 0], [0, 1, 0]])
    r = zm.annotation_metrics(yu, s)
    # label 1: picked twice, once unknown -> TP 1 / predicted 1 = 1
    assert r["annot_top5_precision"] == pytest.approx((0.5 + 1.0 + 0.0) / 3)


def test_never_predicted_label_has_precision_zero_and_all_labels_count():
    y = np.array([[1, 1], [0, 1]])
    s = np.array([[0.2, 0.9], [0.1, 0.8]])
    r = zm.annotation_metrics(y, s, k=1)  # label 0 never predicted
    assert r["annot_top1_precision"] == pytest.approx((0.0 + 1.0) / 2)
    assert r["annot_top1_recall"] == pytest.approx((0.0 + 1.0) / 2)
    assert r["annot_top1_n_plus"] == 1.0
    nothing = zm.annotation_metrics([[0, 0]], [[0.1, 0.2]], k=1)
    assert nothing["annot_top1_f1"] == 0.0 and nothing["annot_top1_n_plus"] == 0.0


def test_default_evaluate_keys_and_values_are_unchanged():
    """The annotation group is opt-in: the default key set is exactly the old one (so every
    committed metrics.json still matches), and asking for it adds keys without changing any
    other value."""
    rng = np.random.default_rng(1)
    y = (rng.random((40, 9)) < 0.3).astype(int)
    s = rng.random((40, 9))
    default = zm.evaluate(y, s)
    assert not set(default) & set(zm.ANNOTATION_KEYS)
    full = zm.evaluate(y, s, groups=GROUPS)
    assert set(full) == set(default) | set(zm.ANNOTATION_KEYS)
    assert {k: full[k] for k in default} == default
    ckpts = Path(__file__).resolve().parents[1] / "checkpoints"
    from zoo.evaluation import metric_groups
    stored = [json.loads(p.read_text()) for p in ckpts.glob("*/metrics.json")]
    for m in stored:
        # datasets whose catalog asks for the annotation protocol (corel5k-images) add its keys
        want = set(default) | (set(zm.ANNOTATION_KEYS) if "annotation" in
                               metric_groups(m["dataset"]) else set())
        assert set(m["metrics"]) == want, m["name"]
    with pytest.raises(ValueError, match="annotation"):
        zm.evaluate(y, s, groups=("nope",))


def test_published_rows_file():
    path = Path(__file__).resolve().parents[1] / "results" / "published" / "corel5k-images.json"
    doc = json.loads(path.read_text())
    rows = {r["name"]: r for r in doc["rows"]}
    assert set(rows) == {"TagProp σML", "2PKNN+ML"}
    for r in rows.values():
        m = r["metrics"]
        assert r["dataset"] == "corel5k-images" and r["kind"] == "published" and r["citation"]
        assert set(m) == set(zm.ANNOTATION_KEYS)
        p, rc = m["annot_top5_precision"], m["annot_top5_recall"]
        # the published F1 is 2PR/(P+R) of the published P and R (to the printed decimal)
        assert round(200 * p * rc / (p + rc), 1) == pytest.approx(100 * m["annot_top5_f1"])
    assert rows["TagProp σML"]["as_published"] == {"P": 33, "R": 42, "F1": 37.0, "N+": 160}
    assert rows["2PKNN+ML"]["as_published"] == {"P": 44, "R": 46, "F1": 45.0, "N+": 191}
