"""Regenerate the figures in docs/images/ (shown in docs/plots.md).

    ZOO_DATA_DIR=../shared/datasets .venv/bin/python docs/make_figures.py [--retrain]

Every figure is made by the `zoo plot` command printed before it (run here in-process through
`zoo.cli.main`, so the commands in docs/plots.md are exactly these). The checkpoints' cards do
not record per-epoch training history, so the training-curves figure retrains emotions/mlp
from its recipe (same seed and settings, about 30 s on a CPU; it stops at the same epochs as
the published checkpoint, best epoch 22 of 42), saves that run's history to
docs/images/history-emotions-mlp.json and plots it. The retraining runs when that JSON file
is missing or with --retrain.
"""
from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGES = Path("docs/images")

COMMANDS = [
    f"zoo plot pr emotions/mlp --out {IMAGES}/pr-emotions-mlp.png",
    f"zoo plot freq-f1 reuters21578/lsan --out {IMAGES}/freq-f1-reuters21578-lsan.png",
    f"zoo plot cooccurrence --dataset yeast --out {IMAGES}/cooccurrence-yeast.png",
]
HISTORY_JSON = IMAGES / "history-emotions-mlp.json"
HISTORY_COMMAND = (f"zoo plot history {HISTORY_JSON} --title 'emotions/mlp (recipe retrained)'"
                   f" --out {IMAGES}/history-emotions-mlp.png")


def retrain_history(recipe_path="recipes/emotions/mlp.toml", out=HISTORY_JSON) -> Path:
    """Train the recipe's model again (not saved) and write its per-epoch history as JSON."""
    from zoo._io import atomic_write_text
    from zoo.data import benchmarks
    from zoo.recipes import read_recipe
    from zoo.train import fit
    recipe = read_recipe(recipe_path)
    data = recipe.get("data", {})
    train = benchmarks.load(recipe["dataset"], data.get("train_split", "train"))
    valid = benchmarks.load(recipe["dataset"], data.get("valid_split", "valid"))
    result = fit(recipe["architecture"], train, valid, recipe.get("model", {}),
                 seed=int(recipe.get("seed", 0)), verbose=0,
                 thresholds=recipe.get("thresholds"), **recipe.get("train", {}))
    doc = {"recipe": str(recipe_path), "best_epoch": result.training["best_epoch"],
           "epochs_run": result.training["epochs_run"], "history": result.history}
    atomic_write_text(out, json.dumps(doc, indent=1) + "\n")
    return Path(out)


def run(command: str) -> None:
    from zoo.cli import main
    print(f"$ {command}", flush=True)
    argv = shlex.split(command)[1:]
    if main(argv) != 0:
        raise SystemExit(f"failed: {command}")


def main(argv=None) -> int:
    import os
    os.chdir(ROOT)
    args = sys.argv[1:] if argv is None else argv
    for command in COMMANDS:
        run(command)
    if "--retrain" in args or not HISTORY_JSON.is_file():
        print(f"# retrain recipes/emotions/mlp.toml -> {HISTORY_JSON}", flush=True)
        retrain_history()
    run(HISTORY_COMMAND)
    return 0


if __name__ == "__main__":
    sys.exit(main())
