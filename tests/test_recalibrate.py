"""python -m zoo.recalibrate: re-choose a checkpoint's decision rule, weights untouched."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import zoo
from zoo import thresholds as th
from zoo.data import load
from zoo.errors import ZooError
from zoo.recalibrate import candidates_for, main, recalibrate

CKPT = Path(__file__).resolve().parents[1] / "checkpoints"


def test_recalibrate_rewrites_the_rule_and_metrics_but_not_the_weights(tmp_path):
    folder = tmp_path / "emotions-mlp"
    shutil.copytree(CKPT / "emotions-mlp", folder)
    card = json.loads((folder / "zoo.json").read_text())
    card["thresholds"] = {"rule": "global", "threshold": 0.5}   # a stale rule to be replaced
    (folder / "zoo.json").write_text(json.dumps(card))
    weights = (folder / "model.weights.h5").read_bytes()
    del card["files"]
    out = recalibrate(folder, verbose=False)
    assert (folder / "model.weights.h5").read_bytes() == weights
    new = json.loads((folder / "zoo.json").read_text())
    sel = new["training"]["threshold_selection"]
    assert out["selection"]["chosen"] == sel["chosen"] and new["recipe"]["thresholds"]["rule"] == "auto"
    # the stored rule is the chosen candidate tuned on the card's validation split
    model = zoo.load(folder)
    valid = load("emotions", "valid")
    s_val = model.predict_proba(valid.x)
    assert th.from_dict(new["thresholds"]) == th.tune(sel["chosen"], valid.labels_dense(), s_val)
    # metrics.json is what evaluating the rewritten folder gives; no staging folder is left
    stored = json.loads((folder / "metrics.json").read_text())
    assert zoo.api.evaluate_folder(folder)["metrics"] == pytest.approx(stored["metrics"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["emotions-mlp"]
    assert "one standard error" in (folder / "README.md").read_text()


def test_recalibrate_keeps_a_papers_fixed_cut_as_first_candidate_and_refuses_adjusted():
    card = json.loads((CKPT / "yeast-bpmll" / "zoo.json").read_text())
    assert candidates_for(card)[0] == "fixed:0.5"
    assert candidates_for({"recipe": {}}) == list(th.CANDIDATES)
    with pytest.raises(ZooError, match="logit-adjusted"):
        recalibrate(CKPT / "corel5k-images-effnet", verbose=False)
    assert main([str(CKPT / "corel5k-images-effnet")]) == 1


def test_published_cards_record_their_rule_choice():
    for path in sorted(CKPT.glob("*/zoo.json")):
        card = json.loads(path.read_text())
        training = card.get("training", {})
        if "logit_adjustment" in training or card["dataset"] == "imagenet":
            continue  # logit-adjusted heads keep their rule; the ImageNet backbone is top-k
        sel = training["threshold_selection"]
        assert sel["chosen"] in sel["candidates"], path
        assert np.isfinite(list(sel["valid_scores"].values())).all(), path
