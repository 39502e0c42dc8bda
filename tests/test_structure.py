"""The house's shape: no import cycles, architectures declare their heads truthfully, a
recorded recipe (fine-tuned ones included) re-runs with `zoo train`."""
from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1] / "zoo"


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """module -> the zoo modules it imports, at module level *or inside functions*."""
    mods = {}
    for p in root.rglob("*.py"):
        parts = p.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        mods[name] = p

    def known(m: str) -> str:
        while m not in mods and "." in m:
            m = m.rsplit(".", 1)[0]
        return m

    graph = defaultdict(set)
    for name, p in mods.items():
        pkg = name if p.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(p.read_text())):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = pkg if node.level == 1 else pkg.rsplit(".", node.level - 1)[0]
                    mod = base + ("." + node.module if node.module else "")
                else:
                    mod = node.module or ""
                targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in mods else mod
                           for a in node.names]
            for t in targets:
                if t.split(".")[0] == "zoo":
                    t = known(t)
                    if t != name:
                        graph[name].add(t)
        graph.setdefault(name, set())
    return graph


def cycles(graph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(max(10000, sys.getrecursionlimit()))

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def test_cycle_finder_can_fail():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_among_library_modules():
    found = cycles(import_graph())
    assert not found, "import cycles (function-level imports count too): " + "; ".join(
        " <-> ".join(c) for c in found)


def test_naming_depends_on_nothing():
    assert import_graph()["zoo.naming"] == set()


def _tiny(kind, num_labels, rng):
    from zoo.data import MultiLabelDataset
    y = (rng.random((40, num_labels)) < 0.3).astype(np.int8)
    y[0] = 1
    if kind == "features":
        x = rng.random((40, 7)).astype(np.float32)
    else:
        x = [" ".join(rng.choice(list("abcdef"), 6)) for _ in range(40)]
    return MultiLabelDataset(x=x, y=y, label_names=[f"l{i}" for i in range(num_labels)],
                             kind=kind, name="tiny")


SMALL = {"kimcnn": {"sequence_length": 8}, "xmlcnn": {"sequence_length": 32},
         "lwan": {"sequence_length": 8}, "lsan": {"sequence_length": 8},
         "sgm": {"sequence_length": 8}, "transformer": {"sequence_length": 8},
         "wide-deep": {"sequence_length": 8, "wide_length": 8, "max_bigrams": 10}}


@pytest.mark.parametrize("name", ["mlp", "bpmll", "c2ae", "mpvae", "mlgcn", "kimcnn",
                                  "xmlcnn", "lwan", "lsan", "sgm", "transformer",
                                  "wide-deep"])
def test_declared_head_is_every_label_dependent_layer(name):
    """The architecture's declared head holds every layer whose weights change with the label
    count (found here the slow way, with a model of one label more), so re-heading keeps only
    layers that can be kept."""
    from zoo.models import get_architecture
    from zoo.train import build_model
    arch = get_architecture(name)
    rng = np.random.default_rng(0)
    a, _ = build_model(name, _tiny(arch.kind, 5, rng), SMALL.get(name, {}))
    b, _ = build_model(name, _tiny(arch.kind, 6, rng), SMALL.get(name, {}))
    shapes_b = {la.name: [tuple(w.shape) for w in la.weights]
                for la in b._flatten_layers(include_self=False, recursive=False)}
    depends = {la.name for la in a._flatten_layers(include_self=False, recursive=False)
               if la.weights and [tuple(w.shape) for w in la.weights] != shapes_b.get(la.name)}
    assert depends, "a model of more labels must change some layer"
    assert depends <= set(arch.head_layers(a))
    encoder = [la.name for la in a._flatten_layers(include_self=False, recursive=False)
               if la.weights and la.name not in arch.head_layers(a)]
    assert encoder, "an architecture must keep some encoder"


def test_create_reheads_a_pretrained_encoder():
    import zoo
    net = zoo.create("mlp", num_labels=5, pretrained="yeast/mlp")
    assert net.output.shape[-1] == 5
    base = zoo.load("yeast/mlp").keras_model
    np.testing.assert_array_equal(net.get_layer("hidden_0").get_weights()[0],
                                  base.get_layer("hidden_0").get_weights()[0])
    # the same input layers: standardization restored from the checkpoint
    np.testing.assert_allclose(np.asarray(net.get_layer("standardize").mean),
                               np.asarray(base.get_layer("standardize").mean))
    with pytest.raises(ValueError, match="not 'bpmll'"):
        zoo.create("bpmll", num_labels=5, pretrained="yeast/mlp")
    with pytest.raises(ValueError, match="num_labels"):
        zoo.create("mlp", pretrained="yeast/mlp")


def test_input_kinds_refuse_bad_shapes_before_the_compiled_call():
    import zoo
    from zoo.errors import DataFormatError
    model = zoo.load("yeast/mlp")
    ok = model.predict_proba(np.zeros((2, 103)))
    with pytest.raises(DataFormatError, match="2-D"):
        model.predict_proba(np.zeros((2, 3, 103)))
    x = np.zeros((3, 103))
    x[2, 7] = np.inf
    with pytest.raises(DataFormatError, match=r"x\[2, 7\] \(0-based row, column\) = inf"):
        model.predict_proba(x)
    # the model still works on good input after refusing bad input
    np.testing.assert_array_equal(model.predict_proba(np.zeros((2, 103))), ok)
