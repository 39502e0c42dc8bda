"""The leaderboard: rows from checkpoint folders + the baselines results file, best marking,
markdown/terminal rendering and the `zoo leaderboard` command."""
import json
import math

import pytest

from zoo import leaderboard as lb
from zoo.cli import main


def _metrics(**kv):
    base = {"micro_f1": 0.5, "macro_f1": 0.4, "example_f1": 0.45, "hamming_loss": 0.2,
            "mean_average_precision": 0.6, "one_error": 0.3, "ranking_loss": 0.15}
    return base | kv


def _checkpoint(root, name, metrics=None, split="test"):
    folder = root / name.replace("/", "-")
    folder.mkdir(parents=True)
    dataset, arch = name.split("/")
    (folder / "zoo.json").write_text(json.dumps(
        {"name": name, "architecture": arch, "dataset": dataset, "files": {}}))
    if metrics is not None:
        (folder / "metrics.json").write_text(json.dumps(
            {"name": name, "dataset": dataset, "split": split, "metrics": metrics,
             "thresholds": {"rule": "per_label", "thresholds": [0.5]}}))


@pytest.fixture
def fake(tmp_path):
    ck = tmp_path / "checkpoints"
    _checkpoint(ck, "toy/mlp", _metrics(micro_f1=0.70, hamming_loss=0.10))
    _checkpoint(ck, "toy/bpmll", _metrics(micro_f1=0.65, one_error=0.25, ranking_loss=0.15))
    _checkpoint(ck, "other/mlp", _metrics(macro_f1=0.9))
    _checkpoint(ck, "toy/training", None)                       # no metrics.json yet
    _checkpoint(ck, "toy/validonly", _metrics(), split="valid")  # not test metrics
    _checkpoint(ck, ".staging/mlp", _metrics())                 # hidden staging folder
    (ck / "toy-garbage").mkdir()                                 # no zoo.json at all
    results = tmp_path / "baselines.json"
    results.write_text(json.dumps({"format": 1, "zoo_version": "0", "generated": "2020-01-01",
                                   "hardware": {}, "skipped": [
                                       {"dataset": "toy", "name": "ecc-lr", "reason": "slow"}],
                                   "rows": [
        {"dataset": "toy", "name": "br-lr", "kind": "baseline", "fit_seconds": 1.0,
         "params": {}, "metrics": _metrics(macro_f1=0.55, mean_average_precision=0.8,
                                           ranking_loss=0.15, example_f1=float("nan"))},
        {"dataset": "other", "name": "mlknn", "kind": "baseline", "fit_seconds": 1.0,
         "params": {}, "metrics": _metrics()}]}))
    return ck, results


def test_rows_from_checkpoints_and_results(fake):
    ck, results = fake
    rows = lb.leaderboard(checkpoints=ck, results=results, published=[])
    assert [(r["dataset"], r["name"], r["kind"]) for r in rows] == [
        ("other", "other/mlp", "checkpoint"), ("other", "mlknn", "baseline"),
        ("toy", "toy/bpmll", "checkpoint"), ("toy", "toy/mlp", "checkpoint"),
        ("toy", "br-lr", "baseline")]
    mlp = next(r for r in rows if r["name"] == "toy/mlp")
    assert mlp["metrics"]["micro_f1"] == 0.70 and mlp["architecture"] == "mlp"
    assert mlp["threshold"] == "per_label"
    only = lb.leaderboard("other", checkpoints=ck, results=results, published=[])
    assert {r["name"] for r in only} == {"other/mlp", "mlknn"}


def test_missing_results_file_and_empty_checkpoints(tmp_path):
    assert lb.leaderboard(checkpoints=tmp_path / "none", results=tmp_path / "none.json",
                          published=[]) == []


def test_published_rows_need_a_citation_and_stay_separate(fake):
    ck, results = fake
    with pytest.raises(ValueError, match="citation"):
        lb.leaderboard(checkpoints=ck, results=results,
                       published=[{"dataset": "toy", "name": "x", "metrics": _metrics()}])
    pub = [{"dataset": "toy", "name": "paper-x", "citation": "Someone 2000, Table 3",
            "metrics": _metrics(micro_f1=0.99)}]
    rows = lb.leaderboard("toy", checkpoints=ck, results=results, published=pub)
    assert rows[-1]["kind"] == "published"
    md = lb.render_markdown(rows)
    ours, published = md.split("Published")
    assert "paper-x" not in ours and "Someone 2000, Table 3" in published
    assert "**0.7000**" in ours          # 0.99 published does not take the bold from 0.70
    assert "**" not in published


def _table(md, dataset):
    """{model: {header: cell}} of the first table under '## dataset'."""
    block = md.split(f"## {dataset}\n")[1].strip("\n").split("\n\n")[0]
    lines = [ln.strip("|").split("|") for ln in block.strip().splitlines()]
    head = [c.strip() for c in lines[0]]
    return {c[0].strip(): dict(zip(head, (x.strip() for x in c))) for c in lines[2:]}


def test_best_marking(fake):
    ck, results = fake
    t = _table(lb.render_markdown(lb.leaderboard(checkpoints=ck, results=results,
                                                 published=[])), "toy")
    bold = {(m, h) for m, cells in t.items() for h, v in cells.items() if v.startswith("**")}
    assert bold == {
        ("toy/mlp", "Micro-F1"),                       # higher is better: 0.70
        ("br-lr", "Macro-F1"),                          # 0.55
        ("toy/bpmll", "Example-F1"), ("toy/mlp", "Example-F1"),  # tie 0.45; br-lr NaN
        ("toy/mlp", "Hamming loss ↓"),                 # lower is better: 0.10
        ("br-lr", "mAP"),                               # 0.8
        ("toy/bpmll", "One-error ↓"),                  # lower: 0.25
        # ranking loss: a three-way tie at 0.15
        ("toy/bpmll", "Ranking loss ↓"), ("toy/mlp", "Ranking loss ↓"),
        ("br-lr", "Ranking loss ↓")}
    assert t["br-lr"]["Example-F1"] == "–"
    assert t["toy/mlp"]["Kind"] == "checkpoint" and t["br-lr"]["Kind"] == "baseline (untuned)"


def test_best_function_directions():
    rows = [{"metrics": {"hamming_loss": 0.3, "micro_f1": 0.2, "one_error": math.nan}},
            {"metrics": {"hamming_loss": 0.1, "micro_f1": 0.4, "one_error": 0.5}}]
    assert lb.best(rows, "hamming_loss") == 0.1
    assert lb.best(rows, "micro_f1") == 0.4
    assert lb.best(rows, "one_error") == 0.5
    assert lb.best(rows, "coverage") is None


def test_cli_text_json_and_markdown(fake, tmp_path, monkeypatch, capsys):
    ck, results = fake
    monkeypatch.setenv("ZOO_CHECKPOINTS", str(ck))
    monkeypatch.setattr("zoo.baselines.RESULTS_PATH", results)
    monkeypatch.setattr(lb, "PUBLISHED_DIR", tmp_path / "no-published")
    assert main(["leaderboard", "--dataset", "toy"]) == 0
    text = capsys.readouterr().out
    assert "== toy" in text and "0.7000*" in text and "other" not in text
    assert main(["leaderboard", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 5
    out = tmp_path / "docs" / "lb.md"
    assert main(["leaderboard", "--markdown", str(out)]) == 0
    md = out.read_text()
    assert md.startswith("# Leaderboard") and "## toy" in md and "## other" in md
    assert "toy / ecc-lr: slow" in md
    assert [p.name for p in out.parent.iterdir()] == ["lb.md"]   # no temp file left behind


def test_real_leaderboard_has_the_baselines():
    rows = lb.leaderboard("emotions")
    names = {r["name"] for r in rows if r["kind"] == "baseline"}
    assert names == {"br-lr", "ecc-lr", "mlknn", "br-lr-tuned", "br-svm-tuned", "ecc-lr-tuned",
                     "mlknn-tuned", "rf-tuned"}
    assert all(r["tuned"] == r["name"].endswith("-tuned") for r in rows if r["kind"] == "baseline")
    assert all(r["kind"] != "published" or r.get("citation") for r in rows)


def test_summary_compares_with_the_tuned_baselines_only():
    """Issue 13: the untuned rows (C=1, cut 0.5) flattered the zoo; the summary must compare
    with the tuned rows even where an untuned row scores higher."""
    rows = [
        {"dataset": "d", "name": "d/mlp", "kind": "checkpoint",
         "metrics": {"micro_f1": 0.6, "macro_f1": 0.3}},
        {"dataset": "d", "name": "br-lr", "kind": "baseline", "tuned": False,
         "metrics": {"micro_f1": 0.9, "macro_f1": 0.1}},
        {"dataset": "d", "name": "br-lr-tuned", "kind": "baseline", "tuned": True,
         "metrics": {"micro_f1": 0.5, "macro_f1": 0.4}},
        {"dataset": "e", "name": "e/mlp", "kind": "checkpoint", "metrics": {"micro_f1": 0.5}},
        {"dataset": "e", "name": "mlknn", "kind": "baseline", "metrics": {"micro_f1": 0.4}},
    ]
    comp = {(c["dataset"], c["metric"]): c for c in lb.zoo_vs_baselines(rows)}
    assert comp[("d", "micro_f1")]["baseline"] == "br-lr-tuned"
    assert comp[("d", "micro_f1")]["zoo_wins"] and not comp[("d", "macro_f1")]["zoo_wins"]
    assert comp[("d", "micro_f1")]["baseline_tuned"]
    assert comp[("e", "micro_f1")]["baseline"] == "mlknn"        # no tuned rows: untuned ones
    assert not comp[("e", "micro_f1")]["baseline_tuned"]
    md = lb.render_summary(rows)
    assert "best **tuned** baseline" in md and "compared with the untuned ones: e." in md
    table = lb.render_markdown(lb.sort_rows([dict(r, tuned=r.get("tuned", False)) for r in rows]))
    assert "| br-lr-tuned | baseline (tuned) |" in table
    assert "| br-lr | baseline (untuned) |" in table


def test_real_summary_uses_tuned_rows_on_every_checkpoint_dataset():
    comp = lb.zoo_vs_baselines(lb.leaderboard())
    datasets = {c["dataset"] for c in comp}
    assert {"emotions", "yeast", "scene", "medical", "enron", "corel5k", "bibtex", "delicious",
            "reuters21578", "goemotions"} <= datasets
    assert all(c["baseline_tuned"] and c["baseline"].endswith("-tuned") for c in comp)


def test_zoo_vs_baselines_summary():
    from zoo.leaderboard import render_summary, zoo_vs_baselines
    rows = [
        {"dataset": "d", "name": "d/mlp", "kind": "checkpoint",
         "metrics": {"micro_f1": 0.6, "macro_f1": 0.2, "example_f1": 0.5, "mean_average_precision": 0.4}},
        {"dataset": "d", "name": "d/c2ae", "kind": "checkpoint",
         "metrics": {"micro_f1": 0.5, "macro_f1": 0.3, "example_f1": 0.4, "mean_average_precision": 0.3}},
        {"dataset": "d", "name": "br-lr", "kind": "baseline",
         "metrics": {"micro_f1": 0.55, "macro_f1": 0.35, "example_f1": 0.5, "mean_average_precision": 0.45}},
        {"dataset": "e", "name": "mlknn", "kind": "baseline", "metrics": {"micro_f1": 0.9}},
    ]
    comp = {c["metric"]: c for c in zoo_vs_baselines(rows)}
    assert set(comp) == {"micro_f1", "macro_f1", "example_f1", "mean_average_precision"}
    assert comp["micro_f1"]["zoo"] == "d/mlp" and comp["micro_f1"]["zoo_wins"]
    assert comp["macro_f1"]["zoo"] == "d/c2ae" and not comp["macro_f1"]["zoo_wins"]
    assert not comp["example_f1"]["zoo_wins"]  # a tie is not a win
    assert "ahead in 1 of 4 comparisons" in render_summary(rows)


def test_committed_leaderboard_document_is_generated():
    """docs/leaderboard.md is exactly what `zoo leaderboard --markdown` writes today."""
    from pathlib import Path

    from zoo.leaderboard import leaderboard, render_markdown_document
    doc = Path(__file__).resolve().parents[1] / "docs" / "leaderboard.md"
    assert doc.read_text() == render_markdown_document(leaderboard())


# ----------------------------------------------------------------------------- corel5k-images
# (issue 12: published rows with citations, the image-annotation columns and summary measure)

ANNOT = {"annot_top5_precision": 0.30, "annot_top5_recall": 0.40, "annot_top5_f1": 0.3429,
         "annot_top5_n_plus": 150.0}


def test_real_published_rows_for_corel5k_images():
    rows = [r for r in lb.leaderboard("corel5k-images") if r["kind"] == "published"]
    by = {r["name"]: r for r in rows}
    assert set(by) == {"TagProp σML", "2PKNN+ML"}
    assert by["TagProp σML"]["metrics"] == {"annot_top5_precision": 0.33,
                                            "annot_top5_recall": 0.42, "annot_top5_f1": 0.37,
                                            "annot_top5_n_plus": 160}
    assert by["2PKNN+ML"]["metrics"]["annot_top5_f1"] == 0.45
    assert by["2PKNN+ML"]["metrics"]["annot_top5_n_plus"] == 191
    assert "ICCV 2009" in by["TagProp σML"]["citation"]
    assert "ECCV 2012" in by["2PKNN+ML"]["citation"]
    assert all(r["source"] == "corel5k-images.json" for r in rows)
    # published rows exist only where a file says so
    assert not [r for r in lb.leaderboard("emotions") if r["kind"] == "published"]


def _published_file(tmp_path, doc):
    path = tmp_path / "pub.json"
    path.write_text(json.dumps(doc))
    return path


def test_read_published_checks_the_file(tmp_path, monkeypatch):
    from zoo.errors import DataFormatError
    row = {"name": "p", "metrics": {"annot_top5_f1": 0.4}, "citation": "A. Paper, 2000"}
    ok = lb.read_published(_published_file(tmp_path, {"format": 1, "dataset": "d",
                                                      "rows": [row]}))
    assert ok == [dict(row, dataset="d", source="pub.json")]
    bad = [({"format": 2, "dataset": "d", "rows": []}, "not a published-results file"),
           ({"format": 1, "rows": []}, "not a published-results file"),
           ({"format": 1, "dataset": "d", "rows": [{"name": "p"}]}, "row 0 needs"),
           ({"format": 1, "dataset": "d", "rows": [dict(row, dataset="e")]}, "for dataset 'e'"),
           ({"format": 1, "dataset": "d", "rows": [dict(row, metrics={"f": "high"})]},
            r"metric\(s\) \['f'\]")]
    for doc, msg in bad:
        with pytest.raises(DataFormatError, match=msg):
            lb.read_published(_published_file(tmp_path, doc))
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(DataFormatError, match="broken.json.*not a valid JSON"):
        lb.read_published(tmp_path / "broken.json")
    # a published row without a citation is refused when the rows are assembled
    monkey_dir = tmp_path / "dir"
    monkey_dir.mkdir()
    (monkey_dir / "d.json").write_text(json.dumps(
        {"format": 1, "dataset": "d", "rows": [{"name": "p", "metrics": {"micro_f1": 0.1}}]}))
    assert [p.name for p in lb.published_files(monkey_dir)] == ["d.json"]
    assert lb.published_files(tmp_path / "missing") == []
    monkeypatch.setattr(lb, "PUBLISHED_DIR", monkey_dir)
    with pytest.raises(ValueError, match="d/p has no citation"):
        lb.published_rows()


def _image_rows():
    return [
        {"dataset": "img", "name": "img/effnet", "kind": "checkpoint",
         "metrics": _metrics(**ANNOT)},
        {"dataset": "img", "name": "img-br-lr-tuned", "kind": "baseline", "tuned": True,
         "metrics": _metrics(micro_f1=0.6, annot_top5_f1=0.36, annot_top5_n_plus=170.0,
                             annot_top5_precision=0.31, annot_top5_recall=0.42)},
        {"dataset": "img", "name": "paper", "kind": "published", "citation": "P. 2009",
         "metrics": {"annot_top5_f1": 0.37, "annot_top5_n_plus": 160}},
        {"dataset": "toy", "name": "toy/mlp", "kind": "checkpoint", "metrics": _metrics()},
        {"dataset": "toy", "name": "br-lr-tuned", "kind": "baseline", "tuned": True,
         "metrics": _metrics(micro_f1=0.6)},
    ]


def test_annotation_columns_only_for_datasets_that_have_them():
    rows = lb.sort_rows(_image_rows())
    md = lb.render_markdown(rows)
    img, toy = _table(md, "img"), _table(md, "toy")
    assert list(img["img/effnet"])[2:] == [h for _, h in lb.COLUMNS + lb.ANNOTATION_COLUMNS]
    assert list(toy["toy/mlp"])[2:] == [h for _, h in lb.COLUMNS]      # unchanged
    assert img["img/effnet"]["N+"] == "150" and img["img-br-lr-tuned"]["N+"] == "**170**"
    assert img["img/effnet"]["Annot. F1@5"] == "0.3429"
    assert img["img-br-lr-tuned"]["Annot. F1@5"] == "**0.3600**"       # published not compared
    # the published table shows only what the paper reports, never in bold
    pub = md.split("## img\n")[1].split("## toy")[0].split("Published")[1]
    head = [ln for ln in pub.splitlines() if ln.startswith("| Model")][0]
    assert head == "| Model | Source | Annot. F1@5 | N+ |"
    assert "| paper | P. 2009 | 0.3700 | 160 |" in pub
    text = lb.render_text(rows)
    img_t, toy_t = text.split("== toy")
    assert "N+" in img_t and "Annot. F1@5" in img_t and "N+" not in toy_t


def test_summary_adds_the_annotation_f1_where_it_exists():
    comp = lb.zoo_vs_baselines(_image_rows())
    metrics = {(c["dataset"], c["metric"]) for c in comp}
    assert ("img", "annot_top5_f1") in metrics and ("toy", "annot_top5_f1") not in metrics
    assert {m for d, m in metrics if d == "toy"} == {k for k, _ in lb.SUMMARY_KEYS}
    c = next(c for c in comp if c["metric"] == "annot_top5_f1")
    assert c["baseline"] == "img-br-lr-tuned" and not c["zoo_wins"]     # 0.3429 < 0.36
    md = lb.render_summary(_image_rows())
    assert "| img | annotation F1@5 | img/effnet 0.3429 | img-br-lr-tuned 0.3600 | **no** |" in md
    assert "also compare its top-5 annotation F1" in md and ": img." in md
    # without annotation rows the summary text is as before
    assert "annotation" not in lb.render_summary([r for r in _image_rows()
                                                  if r["dataset"] == "toy"])


def test_real_corel5k_images_table_has_annotation_columns():
    rows = lb.leaderboard()
    md = lb.render_markdown(rows)
    sections = {s.split("\n", 1)[0]: s for s in md.split("## ")[1:]}
    assert "N+" in sections["corel5k-images"] and "Annot. F1@5" in sections["corel5k-images"]
    assert "TagProp σML" in sections["corel5k-images"]
    assert all("Annot." not in body for name, body in sections.items()
               if name != "corel5k-images")
    names = {r["name"] for r in rows if r["dataset"] == "corel5k-images"}
    assert {"img-br-lr", "img-mlknn", "img-br-lr-tuned", "img-mlknn-tuned"} <= names
