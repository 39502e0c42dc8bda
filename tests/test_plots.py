"""zoo.plots and `zoo plot`: each figure is a valid PNG written atomically; bad inputs are
refused with errors that say what is wrong; a missing matplotlib says how to install it."""
import json
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from zoo import plots  # noqa: E402
from zoo.cli import main  # noqa: E402
from zoo.errors import DataFormatError, ZooError  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def _is_png(path, min_kb=5):
    data = path.read_bytes()
    return data[:8] == PNG and len(data) > min_kb * 1024


@pytest.fixture(scope="module")
def toy():
    rng = np.random.default_rng(0)
    n, L = 300, 12
    y = (rng.random((n, L)) < np.linspace(0.5, 0.02, L)).astype(np.int8)
    y[0, 0] = -1                                       # an unknown entry
    scores = np.clip(0.6 * y + 0.5 * rng.random((n, L)), 0, 1)
    names = [f"label{j}" for j in range(L)]
    return y, scores, names


def test_pr_curves(toy, tmp_path):
    y, s, names = toy
    out = plots.pr_curves(y, s, names, tmp_path / "pr.png")
    assert out == tmp_path / "pr.png" and _is_png(out)
    assert plots.pr_curves(y, s, names, tmp_path / "two.png", labels=["label3", 0]).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pr.png", "two.png"]  # no temp files
    with pytest.raises(DataFormatError, match=r"shape mismatch: y has shape \(300, 12\) but "
                                              r"scores has shape \(300, 11\)"):
        plots.pr_curves(y, s[:, :11], names, tmp_path / "x.png")
    with pytest.raises(DataFormatError, match="11 label names for the 12 label columns"):
        plots.pr_curves(y, s, names[:11], tmp_path / "x.png")
    with pytest.raises(DataFormatError, match=r"unknown label\(s\) \['nope'\]"):
        plots.pr_curves(y, s, names, tmp_path / "x.png", labels=["nope"])
    bad = s.copy()
    bad[3, 4] = np.nan
    with pytest.raises(DataFormatError, match="row 3, column 4"):
        plots.pr_curves(y, bad, names, tmp_path / "x.png")
    with pytest.raises(DataFormatError, match=r"\.png"):
        plots.pr_curves(y, s, names, tmp_path / "x.jpeg")
    assert not (tmp_path / "x.png").exists()


def test_pr_curve_matches_sklearn(toy):
    sk = pytest.importorskip("sklearn.metrics")
    y, s, _ = toy
    s = np.round(s, 2)                                  # ties
    recall, precision = plots.pr_curve(y[:, 1], s[:, 1])
    p_sk, r_sk, _ = sk.precision_recall_curve(y[:, 1], s[:, 1])
    # sklearn: decreasing thresholds reversed, ending at (recall 0, precision 1); it stops at
    # full recall, so compare the points up to there.
    p_sk, r_sk = p_sk[::-1], r_sk[::-1]
    k = len(r_sk)
    np.testing.assert_allclose(recall[:k], r_sk)
    np.testing.assert_allclose(precision[:k], p_sk)
    assert plots.pr_curve(np.zeros(5), np.ones(5)) is None


def test_label_frequency_vs_f1(toy, tmp_path):
    y, s, names = toy
    out = plots.label_frequency_vs_f1(y, s, names, tmp_path / "f.png", thresholds=0.6)
    assert _is_png(out)
    freq = np.arange(12) * 3                           # one label with frequency 0
    assert _is_png(plots.label_frequency_vs_f1(y, s > 0.5, names, tmp_path / "g.png",
                                               frequency=freq))
    with pytest.raises(DataFormatError, match=r"frequency must have one value per label"):
        plots.label_frequency_vs_f1(y, s, names, tmp_path / "h.png", frequency=[1, 2])
    with pytest.raises(DataFormatError, match="needs 12 values"):
        plots.label_frequency_vs_f1(y, s, names, tmp_path / "h.png", thresholds=[0.5] * 3)
    with pytest.raises(DataFormatError, match="shape mismatch"):
        plots.label_frequency_vs_f1(y[:10], s, names, tmp_path / "h.png")


def test_cooccurrence(toy, tmp_path):
    y, _, names = toy
    m = plots.cooccurrence(np.array([[1, 1, 0], [1, 0, 0], [0, 1, 1]]))
    np.testing.assert_allclose(m[0], [np.nan, 0.5, 0.0])      # P(col | row 0)
    np.testing.assert_allclose(m[2], [0.0, 1.0, np.nan])
    j = plots.cooccurrence(np.array([[1, 1, 0], [1, 0, 0], [0, 1, 1]]), "jaccard")
    assert j[0, 1] == pytest.approx(1 / 3) and j[1, 0] == j[0, 1]
    assert _is_png(plots.cooccurrence_heatmap(y, tmp_path / "c.png", max_labels=8,
                                              label_names=names))
    assert _is_png(plots.cooccurrence_heatmap("emotions", tmp_path / "e.png"))
    with pytest.raises(DataFormatError, match="max_labels must be >= 2"):
        plots.cooccurrence_heatmap(y, tmp_path / "d.png", max_labels=1, label_names=names)
    with pytest.raises(DataFormatError, match="label names"):
        plots.cooccurrence_heatmap(y, tmp_path / "d.png", label_names=names[:3])


def test_training_curves(tmp_path):
    h = {"loss": [0.7, 0.5, 0.4, 0.38], "val_loss": [0.6, 0.5, 0.45, 0.47],
         "micro_f1": [0.3, 0.5, 0.6, 0.65], "val_micro_f1": [0.35, 0.5, 0.55, 0.54],
         "learning_rate": [1e-3] * 4}
    assert _is_png(plots.training_curves(h, tmp_path / "h.png", best_epoch=3))
    with pytest.raises(DataFormatError, match="different lengths"):
        plots.training_curves({"loss": [1, 2], "val_loss": [1]}, tmp_path / "x.png")
    with pytest.raises(DataFormatError, match="non-empty dict"):
        plots.training_curves({}, tmp_path / "x.png")
    with pytest.raises(DataFormatError, match="list of numbers"):
        plots.training_curves({"loss": ["a", "b"]}, tmp_path / "x.png")


def test_missing_matplotlib_says_how_to_install(toy, tmp_path, monkeypatch):
    for mod in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setitem(sys.modules, "matplotlib", None)      # import matplotlib -> ImportError
    y, s, names = toy
    with pytest.raises(ZooError, match=r"pip install 'zoo-mlc\[plots\]'"):
        plots.pr_curves(y, s, names, tmp_path / "pr.png")


def test_cli_plots(tmp_path, capsys):
    from zoo.data import benchmarks
    test = benchmarks.load("emotions", "test")
    rng = np.random.default_rng(1)
    np.save(tmp_path / "s.npy", rng.random((len(test), test.num_labels)))
    assert main(["plot", "pr", "--scores", str(tmp_path / "s.npy"), "--dataset", "emotions",
                 "--labels", "sad-lonely,quiet-still", "--out", str(tmp_path / "pr.png")]) == 0
    assert main(["plot", "freq-f1", "--scores", str(tmp_path / "s.npy"), "--dataset",
                 "emotions", "--threshold", "0.4", "--out", str(tmp_path / "f.png")]) == 0
    assert main(["plot", "cooccurrence", "--dataset", "emotions", "--normalize", "jaccard",
                 "--out", str(tmp_path / "c.png")]) == 0
    (tmp_path / "h.json").write_text(json.dumps({"best_epoch": 2, "history": {
        "loss": [0.5, 0.4, 0.45], "val_loss": [0.6, 0.5, 0.55]}}))
    assert main(["plot", "history", str(tmp_path / "h.json"), "--out",
                 str(tmp_path / "h.png")]) == 0
    for name in ("pr", "f", "c", "h"):
        assert _is_png(tmp_path / f"{name}.png"), name
    capsys.readouterr()
    assert main(["plot", "pr", "--scores", str(tmp_path / "s.npy"), "--out",
                 str(tmp_path / "x.png")]) == 2
    assert "--scores needs --dataset" in capsys.readouterr().err
    assert main(["plot", "history", "emotions/mlp", "--out", str(tmp_path / "x.png")]) == 2
    assert "records no per-epoch history" in capsys.readouterr().err


def test_cli_plot_pr_of_a_checkpoint(tmp_path):
    assert main(["plot", "pr", "emotions/mlp", "--top-k", "3", "--out",
                 str(tmp_path / "pr.png")]) == 0
    assert _is_png(tmp_path / "pr.png")


def test_docs_images_are_small_pngs():
    from pathlib import Path
    images = Path(__file__).resolve().parents[1] / "docs" / "images"
    pngs = sorted(images.glob("*.png"))
    assert len(pngs) >= 4
    for p in pngs:
        assert _is_png(p) and p.stat().st_size < 150 * 1024, p.name
