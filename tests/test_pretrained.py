"""Every committed checkpoint loads in two lines and reproduces its metrics.json."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from zoo import registry

# Backbone checkpoints (zoo.json "task": "backbone", e.g. imagenet/efficientnet-lite0) have no
# zoo benchmark split to evaluate on; their own tests check them (tests/test_efficientnet_lite.py).
FOLDERS = sorted(p for p in registry.SOURCE_CHECKPOINTS.glob("*")
                 if (p / "zoo.json").is_file() and not p.name.startswith(".")
                 and json.loads((p / "zoo.json").read_text()).get("task") != "backbone")
NAMES = [json.loads((p / "zoo.json").read_text())["name"] for p in FOLDERS]


def test_there_are_checkpoints():
    assert NAMES, "checkpoints/ holds no checkpoint"


# metrics.json was measured on the machine that trained the checkpoint. Another CPU runs other
# float32 kernels (oneDNN dispatches on the instruction set), so scores differ in their last
# bits; tied or near-tied scores can then swap order. Measured on a second machine (2026-12-04,
# every checkpoint): at most 2.2e-4 (enron/bpmll LRAP; BP-MLL's saturated tanh scores tie
# often), most metrics identical or within 1e-5. A wrong weight, preprocessing or threshold
# moves metrics by far more.
CROSS_CPU = 5e-4


@pytest.mark.parametrize("name", NAMES)
def test_evaluate_reproduces_metrics_json(name):
    """`zoo evaluate NAME --json` on the test split gives the committed metrics.json."""
    folder = registry.SOURCE_CHECKPOINTS / registry.folder_name(name)
    stored = json.loads((folder / "metrics.json").read_text())
    out = subprocess.run([sys.executable, "-m", "zoo", "evaluate", name, "--json"],
                         capture_output=True, text=True, timeout=600,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}) if name == NAMES[0] else None
    if out is not None:  # the CLI path once, in a fresh process
        assert out.returncode == 0, out.stderr[-2000:]
        fresh = json.loads(out.stdout)
    else:
        import zoo
        fresh = json.loads(json.dumps(zoo.evaluate(name)))
    assert fresh["split"] == stored["split"] == "test"
    assert fresh["num_examples"] == stored["num_examples"]
    assert fresh["thresholds"] == stored["thresholds"]
    assert set(fresh["metrics"]) == set(stored["metrics"])
    for key, value in stored["metrics"].items():
        if value is None:  # undefined on this split (stored as null, never NaN)
            assert fresh["metrics"][key] is None, key
        else:
            assert fresh["metrics"][key] == pytest.approx(value, abs=CROSS_CPU), key


def test_two_line_load_in_a_fresh_process():
    """`import zoo; zoo.load(name)` for every checkpoint, in a process that has seen nothing;
    the same folder also loads with plain `keras.saving.load_model` after `import zoo`."""
    code = (
        "import json, sys, numpy as np, zoo\n"
        "from zoo.data import load\n"
        "out = {}\n"
        "import keras\n"
        "for name in json.loads(sys.argv[1]):\n"
        "    model = zoo.load(name)\n"
        "    plain = keras.saving.load_model(str(model.path))  # the folder is a Keras archive\n"
        "    assert plain.outputs[0].shape[-1] == len(model.label_names), name\n"
        "    x = load(model.card['dataset'], 'test').x[:3]\n"
        "    out[name] = model.predict_labels(x)\n"
        "print(json.dumps(out))\n")
    res = subprocess.run([sys.executable, "-c", code, json.dumps(NAMES)], capture_output=True,
                         text=True, timeout=900, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert res.returncode == 0, res.stderr[-3000:]
    labels = json.loads(res.stdout.strip().splitlines()[-1])
    assert sorted(labels) == sorted(NAMES)
    for name, sets in labels.items():
        known = set(json.loads((registry.SOURCE_CHECKPOINTS / registry.folder_name(name)
                                / "zoo.json").read_text())["label_names"])
        assert len(sets) == 3 and all(set(s) <= known for s in sets), name


@pytest.mark.parametrize("name", NAMES)
def test_checkpoint_is_small_and_cards_match_metrics(name):
    folder = registry.SOURCE_CHECKPOINTS / registry.folder_name(name)
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert size < 20 * 2**20, f"{name} is {size / 2**20:.1f} MB"
    card = json.loads((folder / "zoo.json").read_text())
    metrics = json.loads((folder / "metrics.json").read_text())["metrics"]
    readme = (folder / "README.md").read_text()
    assert f"value: {metrics['micro_f1']:.6g}" in readme
    assert card["training"]["hardware"]["accelerator"].startswith("none")
    assert np.isfinite(card["training"]["wall_time_s"])


def test_total_checkpoint_size():
    total = sum(p.stat().st_size for p in registry.SOURCE_CHECKPOINTS.rglob("*") if p.is_file())
    assert total < 400e6  # the budget: checkpoints/ under 400 MB in total
