"""Ensemble checkpoints (zoo.ensemble): the averaging, the members' checks, the recipe rebuild."""
import json

import numpy as np
import pytest

from zoo.errors import DataFormatError, ZooError


def _tiny_mlp(seed, num_features=4, num_labels=3):
    import keras

    from zoo import models
    keras.utils.set_random_seed(seed)
    return models.build("mlp", num_features=num_features, num_labels=num_labels,
                        hidden_units=[5], dropout=0.0)


def _sigmoid(z):
    return 1 / (1 + np.exp(-np.asarray(z, np.float64)))


def test_combined_model_is_the_weighted_mean_of_member_probabilities(tmp_path):
    import keras

    from zoo.models.ensemble import combine
    a, b = _tiny_mlp(1), _tiny_mlp(2)
    # large weights so the members disagree strongly (probabilities near 0 and 1)
    b.set_weights([w * 5 for w in b.get_weights()])
    x = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
    ens = combine([a, b], [3, 1])
    want = 0.75 * _sigmoid(a(x)) + 0.25 * _sigmoid(b(x))
    got = _sigmoid(ens(x))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert not np.allclose(got, _sigmoid((0.75 * np.asarray(a(x)) + 0.25 * np.asarray(b(x)))),
                           atol=1e-3)  # probabilities are averaged, not logits
    # the originals are untouched and the combined model survives a Keras save/load
    assert a.name != "member_0"
    keras.saving.save_model(ens, tmp_path / "e.keras")
    back = keras.saving.load_model(tmp_path / "e.keras")
    np.testing.assert_allclose(_sigmoid(back(x)), want, rtol=1e-5, atol=1e-6)


def test_probability_mean_rejects_bad_weights():
    from zoo.models.ensemble import ProbabilityMean, combine
    with pytest.raises(ValueError, match="non-negative"):
        ProbabilityMean([1.0, -1.0])
    with pytest.raises(ZooError, match="one weight per member"):
        combine([_tiny_mlp(0)], [0.5, 0.5])


def _member(name, labels, features=4, dataset="toy"):
    from zoo.ensemble import Member
    from zoo.inference import MultiLabelModel
    card = {"name": name, "kind": "features", "dataset": dataset,
            "input": {"kind": "features", "num_features": features, "sparse": False}}
    model = MultiLabelModel(_tiny_mlp(0, features, len(labels)), labels, card=card)
    return Member(model, {"name": name, "dataset": dataset})


def test_mismatched_label_sets_are_clear_errors():
    from zoo.ensemble import check_members
    ok = _member("toy/a", ["x", "y", "z"])
    with pytest.raises(ZooError, match=r"'toy/a' \(3 labels\) and 'toy/b' \(3 labels\) have "
                                       r"different label sets: labels only in one of them: "
                                       r"\['w', 'z'\]"):
        check_members([ok, _member("toy/b", ["x", "y", "w"])])
    with pytest.raises(ZooError, match="the same labels in a different order"):
        check_members([ok, _member("toy/c", ["z", "y", "x"])])
    with pytest.raises(ZooError, match="expect different inputs"):
        check_members([ok, _member("toy/d", ["x", "y", "z"], features=5)])
    with pytest.raises(ZooError, match="trained on dataset 'other', not 'toy'"):
        check_members([ok, _member("toy/e", ["x", "y", "z"], dataset="other")], "toy")
    check_members([ok, _member("toy/f", ["x", "y", "z"])], "toy")  # a match passes


def test_greedy_selection_prefers_the_informative_member():
    from zoo.ensemble import greedy_weights, mean_proba
    rng = np.random.default_rng(0)
    y = (rng.random((200, 4)) < 0.3).astype(int)
    good = np.clip(y * 0.7 + rng.random(y.shape) * 0.3, 0, 1)
    noise = rng.random(y.shape)
    counts, trace = greedy_weights(y, [noise, good], {"rule": "global"}, steps=4)
    assert counts[1] > counts[0] and trace[0]["pick"] == 1
    np.testing.assert_allclose(mean_proba([noise, good], [1, 3]), 0.25 * noise + 0.75 * good)
    # max_members caps the distinct members: only the first pick can be picked again
    counts, _ = greedy_weights(y, [noise, good, good * 0.9 + 0.05], {"rule": "global"},
                               steps=5, max_members=1)
    assert np.count_nonzero(counts) == 1 and counts[1] == counts.sum()


def test_ensemble_section_is_checked(tmp_path):
    from zoo.ensemble import read_ensemble_section
    base = {"name": "toy/ensemble", "architecture": "ensemble", "dataset": "toy"}
    with pytest.raises(DataFormatError, match=r"needs an \[ensemble\] table"):
        read_ensemble_section(base, "r.toml")
    with pytest.raises(DataFormatError, match=r"unknown \[ensemble\] key\(s\) \['member'\]"):
        read_ensemble_section({**base, "ensemble": {"member": ["a"]}}, "r.toml")
    with pytest.raises(DataFormatError, match="one non-negative number per member"):
        read_ensemble_section({**base, "ensemble": {"members": ["a", "b"],
                                                    "weighting": [1.0]}}, "r.toml")
    with pytest.raises(DataFormatError, match="weighting must be one of"):
        read_ensemble_section({**base, "ensemble": {"members": ["a"], "weighting": "best"}},
                              "r.toml")
    with pytest.raises(DataFormatError, match="takes recipe"):
        read_ensemble_section({**base, "ensemble": {"members": [{"seed": 1}]}}, "r.toml")


TINY_MLP = """
name = "emotions/tiny-mlp"
architecture = "mlp"
dataset = "emotions"
seed = 0
[model]
hidden_units = [8]
dropout = 0.0
[train]
epochs = 2
patience = 1
batch_size = 128
[thresholds]
rule = "global"
"""


def test_recipe_rebuild_and_load_by_name(tmp_path, monkeypatch):
    """A tiny seed ensemble rebuilt from its recipe: loads by name, its output is the mean of
    its nested members' probabilities, metrics.json is what zoo.evaluate computes."""
    import zoo
    from zoo import registry
    from zoo.data import load
    from zoo.recipes import train_recipe
    (tmp_path / "tiny.toml").write_text(TINY_MLP)
    member = (tmp_path / "tiny.toml").as_posix()
    (tmp_path / "ensemble.toml").write_text(f"""
name = "emotions/ensemble"
architecture = "ensemble"
dataset = "emotions"
weights_dtype = "float16"
[ensemble]
members = [{{recipe = "{member}", seed = 0}}, {{recipe = "{member}", seed = 1}}]
weighting = "uniform"
[thresholds]
rule = "select"
""")
    root = tmp_path / "checkpoints"
    monkeypatch.setenv("ZOO_CHECKPOINTS", str(root))
    out = train_recipe(tmp_path / "ensemble.toml", out=root / "emotions-ensemble", verbose=0)
    model = zoo.load("emotions/ensemble")
    assert model.path == out and model.card["architecture"] == "ensemble"
    info = model.card["ensemble"]
    assert [m["name"] for m in info["members"]] == ["emotions/tiny-mlp@seed0",
                                                    "emotions/tiny-mlp@seed1"]
    assert [m["weight"] for m in info["members"]] == [0.5, 0.5]
    assert model.card["thresholds"]["rule"] in ("global", "per_label", "top_k")
    x = load("emotions", "test").x[:20]
    km = model.keras_model
    parts = [_sigmoid(km.get_layer(f"member_{i}")(x.astype("float32"))) for i in (0, 1)]
    np.testing.assert_allclose(model.predict_proba(x), (parts[0] + parts[1]) / 2, atol=1e-5)
    assert len(model.predict_labels(x)) == 20
    stored = json.loads((out / "metrics.json").read_text())
    fresh = json.loads(json.dumps(zoo.evaluate("emotions/ensemble")))
    assert fresh["metrics"]["micro_f1"] == pytest.approx(stored["metrics"]["micro_f1"])
    assert "emotions/tiny-mlp@seed0" in (out / "README.md").read_text()
    # a member with another label set is refused before anything is written
    yeast = (registry.SOURCE_CHECKPOINTS / "yeast-mlp").as_posix()
    (tmp_path / "bad.toml").write_text(f"""
name = "emotions/ensemble"
architecture = "ensemble"
dataset = "emotions"
[ensemble]
members = [{{recipe = "{member}"}}, "{yeast}"]
""")
    with pytest.raises(ZooError, match="trained on dataset 'yeast', not 'emotions'"):
        train_recipe(tmp_path / "bad.toml", out=tmp_path / "bad", verbose=0)
    assert not (tmp_path / "bad").exists()


def test_member_recipe_paths_resolve_from_any_working_directory(tmp_path, monkeypatch):
    from zoo.ensemble import _resolve_recipe
    (tmp_path / "recipes" / "x").mkdir(parents=True)
    (tmp_path / "recipes" / "x" / "mlp.toml").write_text("")
    anchor = tmp_path / "recipes" / "x" / "ensemble.toml"
    monkeypatch.chdir(tmp_path / "recipes")           # "recipes/x/mlp.toml" is not here
    got = _resolve_recipe({"recipe": "recipes/x/mlp.toml", "seed": 1}, anchor)
    assert got == {"recipe": str(tmp_path / "recipes" / "x" / "mlp.toml"), "seed": 1}
    assert _resolve_recipe({"checkpoint": "x/mlp"}, anchor) == {"checkpoint": "x/mlp"}
    with pytest.raises(ZooError, match="member recipe 'recipes/x/nope.toml' not found"):
        _resolve_recipe({"recipe": "recipes/x/nope.toml"}, anchor)


def test_an_ensemble_is_refused_as_a_fine_tuning_base_by_name():
    """An ensemble has no single encoder to re-use: fine-tuning from it or re-heading it says
    so and names its members (the bases to use instead)."""
    import re

    import zoo
    from zoo import registry
    from zoo.data import load
    tr = load("enron", "train").subset(np.arange(40))
    card = json.loads((registry.SOURCE_CHECKPOINTS / "enron-ensemble" / "zoo.json").read_text())
    bases = [m["name"] for m in card["ensemble"]["members"] if m["source"] == "checkpoint"]
    assert bases  # the published enron ensemble has checkpoint members
    with pytest.raises(ZooError, match=r"enron/ensemble is an ensemble.*checkpoint members as "
                                       rf"the base instead: {re.escape(', '.join(bases))}"):
        zoo.finetune("enron/ensemble", tr, epochs=1)
    with pytest.raises(ZooError, match=r"is an ensemble.*re-head"):
        zoo.create("ensemble", 3, pretrained="enron/ensemble")
