"""Peer-library rows (LibMultiLabel on the zoo's splits): results/peers.json, its re-derivable
metrics, the leaderboard's "peer" rows and "Zoo vs peers" summary, and the exporter that
writes LibMultiLabel's txt format. The peer venv itself is never needed here."""
import csv
import hashlib
import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest

from zoo import leaderboard as lb
from zoo.data import MultiLabelDataset

ROOT = Path(__file__).resolve().parents[1]
PEERS = ROOT / "benchmarks" / "peers"
TEST_SIZES = {"reuters21578": 3019, "goemotions": 5427}  # docs/compare.md
UNIT = {"micro_f1", "macro_f1", "example_f1", "hamming_loss", "mean_average_precision",
        "one_error", "ranking_loss", "micro_precision", "micro_recall", "subset_accuracy",
        "jaccard", "lrap", "precision_at_1"}


def _module(name):
    spec = importlib.util.spec_from_file_location(f"peers_{name}", PEERS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


exporter = _module("export_splits")


def _sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ----------------------------------------------------------------------------- results file
@pytest.fixture(scope="module")
def doc():
    return lb.read_peers()


def test_peers_file_schema(doc):
    assert doc["format"] == lb.PEERS_FORMAT and doc["rows"], "results/peers.json has no rows"
    seen = set()
    for r in doc["rows"]:
        key = (r["dataset"], r["name"])
        assert key not in seen, f"duplicate peer row {key}"
        seen.add(key)
        assert r["kind"] == "peer" and r["split"] == "test"
        assert r["library"] == "libmultilabel" and r["version"] == "0.10.0"
        assert r["name"] == f"libmultilabel-{r['version']}/{r['model']}"
        assert r["num_examples"] == TEST_SIZES[r["dataset"]]
        cfg = r["config"]
        path = ROOT / cfg["file"]
        assert path.is_file(), f"{r['name']}: config {cfg['file']} is not in the repository"
        assert _sha(path) == cfg["sha256"], f"{cfg['file']} changed since the run"
        assert cfg["source"] and cfg["values"] and "changes" in cfg
        assert isinstance(r["seed"], int) and r["wall_seconds"] > 0
        assert r["hardware"]["cpu"] and r["hardware"]["threads"] >= 1
        assert r["thresholds"] == {"rule": "global", "threshold": 0.5}
        assert r["note"]
        if r["score_kind"] == "logit":   # neural rows say how much of the config ran
            d = r["details"]
            assert 1 <= d["best_epoch"] <= d["epochs_run"] <= d["epochs_config"]
            assert f"of the config's {d['epochs_config']}" in r["note"]
            assert "random-initialised word embeddings" in r["note"]
        m = r["metrics"]
        assert UNIT <= set(m), f"{r['name']}: missing metrics {sorted(UNIT - set(m))}"
        for k in UNIT:
            assert 0.0 <= m[k] <= 1.0, f"{r['dataset']}/{r['name']}: {k}={m[k]}"
        assert m["coverage"] >= 0


def test_every_peer_row_is_rederived_from_its_stored_scores(doc, mirror_env):
    """The stored test probabilities (results/peers/*.npz) give exactly the row's metrics
    under the zoo's own scoring (zoo.compare.compare, as score.py computed them)."""
    from zoo.compare import compare
    score = _module("score")
    for r in doc["rows"]:
        f = ROOT / r["scores"]["file"]
        assert _sha(f) == r["scores"]["sha256"], f"{f} differs from the row's SHA-256"
        proba = score.load_scores(f)
        assert proba.shape == (TEST_SIZES[r["dataset"]], len(lb_labels(r["dataset"])))
        assert np.isfinite(proba).all() and proba.min() >= 0 and proba.max() <= 1
        res = compare(proba.astype(np.float64), r["dataset"], thresholds=0.5, name=r["name"])
        for k, v in r["metrics"].items():
            w = res["metrics"][k]
            assert (v is None and w is None) or math.isclose(v, w, rel_tol=1e-12,
                                                             abs_tol=1e-12), (r["name"], k, v, w)


def lb_labels(dataset):
    from zoo.data import load
    return load(dataset, "test").label_names


def test_read_peers_refuses_rows_without_provenance(tmp_path):
    assert lb.read_peers(tmp_path / "missing.json")["rows"] == []
    bad = tmp_path / "peers.json"
    bad.write_text(json.dumps({"format": 1, "rows": [
        {"dataset": "d", "name": "x", "metrics": {"micro_f1": 0.5}}]}))
    with pytest.raises(Exception, match="library.*version.*config"):
        lb.read_peers(bad)
    bad.write_text(json.dumps({"format": 2, "rows": []}))
    with pytest.raises(Exception, match="not a peer results file"):
        lb.read_peers(bad)


# ----------------------------------------------------------------------------- leaderboard
def test_leaderboard_shows_peer_rows_labelled_peer(doc):
    rows = lb.leaderboard()
    md = lb.render_markdown(rows)
    for r in doc["rows"]:
        section = md.split(f"## {r['dataset']}\n", 1)[1].split("\n## ", 1)[0]
        assert f"| {r['name']} | {lb.peer_label(r)} |" in section
        assert lb.peer_label(r).startswith(f"peer ({Path(r['config']['file']).name}")
    assert "peer" in lb.render_text(rows)
    # never pooled into the baseline comparison, compared one by one in their own section
    comp = lb.zoo_vs_baselines(rows)
    assert not any("libmultilabel" in c["baseline"] for c in comp)
    peers = lb.zoo_vs_peers(rows)
    assert {(c["dataset"], c["peer"]) for c in peers} == {(r["dataset"], r["name"])
                                                          for r in doc["rows"]}
    full = lb.render_markdown_document(rows)
    assert "## Zoo vs peers" in full and "**peer** rows" in full
    summary = full.split("## Zoo vs peers", 1)[1].split("\n## ", 1)[0]
    assert all(r["name"] in summary for r in doc["rows"])


def test_zoo_vs_peers_compares_each_peer_separately():
    rows = [
        {"dataset": "d", "name": "d/a", "kind": "checkpoint",
         "metrics": {"micro_f1": 0.7, "mean_average_precision": 0.5}},
        {"dataset": "d", "name": "d/b", "kind": "checkpoint",
         "metrics": {"micro_f1": 0.6, "mean_average_precision": 0.9}},
        {"dataset": "d", "name": "lib-1/x", "kind": "peer",
         "metrics": {"micro_f1": 0.8, "mean_average_precision": 0.4}},
        {"dataset": "d", "name": "lib-1/y", "kind": "peer",
         "metrics": {"micro_f1": 0.7, "mean_average_precision": 0.95}},
        {"dataset": "d", "name": "br", "kind": "baseline", "tuned": True,
         "metrics": {"micro_f1": 0.1, "mean_average_precision": 0.1}},
        {"dataset": "e", "name": "lib-1/x", "kind": "peer", "metrics": {"micro_f1": 0.1}},
    ]
    got = {(c["peer"], c["metric"]): (c["zoo"], c["zoo_wins"]) for c in lb.zoo_vs_peers(rows)}
    assert got == {("lib-1/x", "micro_f1"): ("d/a", False),
                   ("lib-1/x", "mean_average_precision"): ("d/b", True),
                   ("lib-1/y", "micro_f1"): ("d/a", False),   # a tie is not a win
                   ("lib-1/y", "mean_average_precision"): ("d/b", False)}
    assert [c["baseline"] for c in lb.zoo_vs_baselines(rows)] == ["br", "br"]
    md = lb.render_peer_summary(rows)
    assert "| d | lib-1/x | **no**: 0.7000 (a) vs 0.8000 | yes: 0.9000 (b) vs 0.4000 |" in md
    assert lb.render_peer_summary(rows[:2]) == ""


# ----------------------------------------------------------------------------- exporter
def _read_like_libmultilabel(path):
    """LibMultiLabel's txt reader, without pandas: tab-separated, no quoting, exactly two
    columns (labels, text), labels split on whitespace."""
    out = []
    with open(path, encoding="utf-8", newline="") as f:
        for i, row in enumerate(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)):
            assert len(row) == 2, f"line {i + 1}: {len(row)} columns"
            out.append((row[0].split(), row[1]))
    return out


def _tiny(texts, y, names=("a-b", "c"), split="train"):
    return MultiLabelDataset(x=list(texts), y=np.array(y, np.int8), label_names=list(names),
                             kind="text", name="tiny", split=split)


def test_exporter_writes_what_libmultilabel_reads(tmp_path):
    texts = ['He said "no"\tthen\nleft', "  tabs\t\tand\r\nCRLF  ", "\u2028odd\u00a0space",
             "'single' quote, comma"]
    y = [[1, 1], [0, 1], [0, 0], [1, -1]]   # -1 (unknown) is not a positive
    ds = _tiny(texts, y)
    assert exporter.write_txt(ds, tmp_path / "t.txt") == 4
    back = _read_like_libmultilabel(tmp_path / "t.txt")
    assert back == [(["a-b", "c"], 'He said "no" then left'), (["c"], "tabs and CRLF"),
                    ([], "odd space"), (["a-b"], "'single' quote, comma")]
    assert (tmp_path / "t.txt").read_bytes().count(b"\n") == 4


@pytest.mark.parametrize("texts,names,match", [
    ([" \t\n"], ("a", "b"), "empty"),
    (["NA"], ("a", "b"), "NaN"),
    (["ok"], ("a b", "c"), "without spaces"),
    (["ok"], ("", "c"), "non-empty"),
])
def test_exporter_refuses_what_libmultilabel_would_misread(tmp_path, texts, names, match):
    with pytest.raises(ValueError, match=match):
        exporter.write_txt(_tiny(texts, [[1, 0]], names), tmp_path / "t.txt")
    assert not (tmp_path / "t.txt").exists()


def test_export_dataset_writes_splits_labels_and_manifest(tmp_path):
    data = {"train": _tiny(["x y", "z"], [[1, 0], [0, 1]]),
            "valid": _tiny(["v"], [[1, 1]], split="valid"),
            "test": _tiny(["t 1", "u"], [[0, 1], [1, 0]], split="test")}
    m = exporter.export_dataset("tiny", tmp_path, loader=lambda name, split: data[split])
    folder = tmp_path / "tiny"
    assert m["splits"] == {"train": {"rows": 2, "positives": 2},
                           "valid": {"rows": 1, "positives": 2},
                           "test": {"rows": 2, "positives": 2}}
    assert (folder / "labels.txt").read_text() == "a-b\nc\n"
    assert json.loads((folder / "manifest.json").read_text()) == m
    for f, h in m["files"].items():
        assert _sha(folder / f) == h
    assert _read_like_libmultilabel(folder / "test.txt") == [(["c"], "t 1"), (["a-b"], "u")]
    other = dict(data, valid=_tiny(["v"], [[1, 1]], names=("a-b", "d")))
    with pytest.raises(ValueError, match="other labels"):
        exporter.export_dataset("tiny", tmp_path / "2", loader=lambda n, s: other[s])


def test_score_sigmoid_keeps_the_libraries_decision_rules():
    """sigmoid(decision value) > 0.5 iff decision value > 0 (LIBLINEAR's rule), and the
    networks' rule is sigmoid(logit) > 0.5: the zoo's 0.5 cut is each library rule."""
    score = _module("score")
    z = np.array([-30.0, -1e-9, 0.0, 1e-9, 3.0, 800.0, -800.0])
    p = score.sigmoid(z)
    assert ((p > 0.5) == (z > 0)).all() and p.min() >= 0 and p.max() <= 1
