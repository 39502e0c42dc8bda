"""zoo.search: recipe hyper-parameters chosen on valid (issue 13 item 3)."""
import tomllib

import pytest

from zoo import search as S
from zoo.errors import ZooError
from zoo.recipes import read_recipe

RECIPE = """
name = "emotions/mlp-search-test"
architecture = "mlp"
dataset = "emotions"
seed = 0

[model]
hidden_units = [8]

[train]
epochs = 1
batch_size = 64
loss_options = {pos_weight = "auto"}

[thresholds]
rule = "auto"
"""


def test_grid_and_random_points():
    space = {"a": [1, 2], "b": ["x", "y", "z"]}
    grid = S.variants(space)
    assert len(grid) == 6 and grid[0] == {"a": 1, "b": "x"}
    pick = S.variants(space, trials=3, seed=1)
    assert len(pick) == 3 and all(p in grid for p in pick) and len({str(p) for p in pick}) == 3
    assert S.variants(space, trials=3, seed=1) == pick
    with pytest.raises(ZooError, match="non-empty list"):
        S.variants({"a": 3})


def test_search_keeps_the_best_on_valid_and_writes_a_recipe_that_reads_back(tmp_path):
    path = tmp_path / "r.toml"
    path.write_text(RECIPE)
    seen = []

    def fake(recipe, verbose):     # valid score = dropout (a known optimum), no training
        seen.append(dict(recipe))
        d = recipe["model"].get("dropout", 0.0)
        return {"valid_score": d, "rule": "global", "epochs_run": 1, "seconds": 0.0}
    best, trials = S.search(path, {"model.dropout": [0.1, 0.3, 0.2]}, out=tmp_path / "best.toml",
                            scorer=fake, log=None)
    assert [t["point"] for t in trials] == [{}, {"model.dropout": 0.1},
                                            {"model.dropout": 0.3}, {"model.dropout": 0.2}]
    assert best["model"]["dropout"] == 0.3 and best["search"]["chosen"] == {"model.dropout": 0.3}
    assert all("search" not in r for r in seen)
    back = read_recipe(tmp_path / "best.toml")
    assert back["model"] == {"hidden_units": [8], "dropout": 0.3}
    assert back["train"]["loss_options"] == {"pos_weight": "auto"}
    assert tomllib.loads((tmp_path / "best.toml").read_text())["search"]["space"] == {
        "model.dropout": [0.1, 0.3, 0.2]}


def test_search_trains_for_real_on_valid_only(tmp_path):
    path = tmp_path / "r.toml"
    path.write_text(RECIPE)
    best, trials = S.search(path, {"train.learning_rate": [0.01]}, log=None)
    assert len(trials) == 2 and all(0 < t["valid_score"] <= 1 for t in trials)
    assert best["search"]["valid_score"] == max(t["valid_score"] for t in trials)
    with pytest.raises(ZooError, match="not a table"):
        S._set({"seed": 1}, "seed.x", 2)


def test_docs_search_results_table_matches_the_committed_files():
    """docs/search.md's results table quotes test scores: each checkpoint pair must be its
    metrics.json (rounded to 4 places) and each baseline pair the best tuned baseline of the
    leaderboard's "Zoo vs baselines", so the page cannot drift from the files."""
    import json
    import re
    from pathlib import Path

    from zoo import leaderboard, registry
    root = Path(__file__).resolve().parents[1]
    text = (root / "docs" / "search.md").read_text()
    table = text[text.index("## Results"):]
    rows = [ln for ln in table.splitlines() if ln.startswith("| ") and not ln.startswith(
        ("| dataset", "|---"))]
    assert len(rows) >= 5
    best = {(c["dataset"], c["metric"]): c["baseline_value"]
            for c in leaderboard.zoo_vs_baselines(leaderboard.leaderboard())}
    pair = re.compile(r"(\d\.\d{4}) / (?:[\w-]+ )?(\d\.\d{4})")

    def metrics(name):
        folder = registry.SOURCE_CHECKPOINTS / registry.folder_name(name)
        m = json.loads((folder / "metrics.json").read_text())["metrics"]
        return round(m["micro_f1"], 4), round(m["macro_f1"], 4)

    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        dataset = cells[0]
        mlp = "yeast/mlp-searched" if dataset == "yeast" else f"{dataset}/mlp"
        for cell, name in ((cells[3], mlp), (cells[5], f"{dataset}/ensemble")):
            got = tuple(float(v) for v in pair.search(cell).groups())
            assert got == metrics(name), (dataset, name, cell)
        got = tuple(float(v) for v in pair.search(cells[6]).groups())
        assert got == (round(best[dataset, "micro_f1"], 4), round(best[dataset, "macro_f1"], 4))
