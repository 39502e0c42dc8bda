"""Ensembles as a checkpoint kind: ``<dataset>/ensemble`` averages its members' probabilities.

An ensemble checkpoint is an ordinary checkpoint folder (the Hub layout of
:mod:`zoo.checkpoint`): one Keras model that feeds the raw input to every member model (each
nested as a layer ``member_<i>``, with its own preprocessing) and combines their outputs with a
:class:`ProbabilityMean` layer. ``zoo.load("enron/ensemble")``, ``predict_proba``,
``predict_labels``, ``zoo evaluate`` and the leaderboard treat it like any other checkpoint;
its ``zoo.json`` lists the members (name, architecture, seed, weight) under ``"ensemble"`` and
the model card prints them.

**Probabilities, not logits, are averaged.** The members' logits live on different scales
(BP-MLL outputs ``c(x) - t(x)``, a difference of tanh units; MPVAE a probit-derived logit;
C2AE and the BCE models unbounded logits), so a mean of logits lets the member with the widest
scale dominate and is only meaningful between models of one family. The weighted mean of
probabilities is the mixture ``p(y_k | x) = sum_i w_i p_i(y_k | x)``: each member's
contribution is bounded by its weight, whatever its scale. The model still outputs logits (the
zoo-wide convention): ``logit(sum_i w_i sigmoid(z_i))``, clipped at ``1e-7`` so the logit is
finite; ``predict_proba`` (a sigmoid) returns the mean back.

**Weights** (``[ensemble] weighting`` in the recipe):

* ``"uniform"``: every member weighs ``1/M``.
* a list of numbers: fixed weights (normalized to sum 1).
* ``"greedy"``: ensemble selection with replacement (Caruana, Niculescu-Mizil, Crew, Ksikes,
  "Ensemble selection from libraries of models", ICML 2004) on the **validation** split:
  starting from the best single member, repeatedly add (again, possibly) the member whose
  addition gives the best criterion, for ``steps`` rounds; the best prefix wins (ties: the
  shorter one). Weights = how often each member was picked / picks; members picked never are
  left out of the saved model. The criterion is the mean of micro-F1 and macro-F1 of the
  decisions after calibrating the recipe's threshold rule on valid (:func:`zoo.thresholds.choose_rule`).

The test split is never looked at before the finished folder is scored.

**Members** (``[ensemble] members``): a checkpoint reference (``"enron/mlp"``, a folder) or a
table ``{recipe = "recipes/yeast/mlp.toml", seed = 1}``: that recipe re-trained in memory with
another seed (a seed ensemble needs no published checkpoint per seed). All members must have
the same dataset kind, the same label names in the same order and the same input
description (number of features); a mismatch is an error naming both members.

Recipe (``recipes/enron/ensemble.toml``; ``zoo train`` rebuilds it)::

    name = "enron/ensemble"
    architecture = "ensemble"
    dataset = "enron"
    weights_dtype = "float16"

    [ensemble]
    members = ["enron/mlp", "enron/c2ae", "enron/mpvae"]
    weighting = "greedy"        # or "uniform", or [0.5, 0.25, 0.25]
    steps = 10                  # greedy rounds
    max_members = 3             # at most 3 distinct members (keeps the checkpoint small)

    [thresholds]
    rule = "global"             # calibrated on valid like every checkpoint

Example::

    >>> import zoo
    >>> ens = zoo.load("enron/ensemble")                              # doctest: +SKIP
    >>> [m["name"] for m in ens.card["ensemble"]["members"]]          # doctest: +SKIP
    ['enron/mlp', 'enron/mpvae']
    >>> ens.predict_labels(x[:1])                                     # doctest: +SKIP
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from zoo.errors import DataFormatError, ZooError
from zoo.models.ensemble import combine

ENSEMBLE_KEYS = {"members", "weighting", "steps", "max_members"}
WEIGHTINGS = ("uniform", "greedy")
PAPER = ("Caruana, Niculescu-Mizil, Crew, Ksikes. Ensemble selection from libraries of models."
         " ICML 2004 (greedy weights); members' probabilities averaged")


# ----------------------------------------------------------------------------- members

@dataclass
class Member:
    """One ensemble member, loaded: its :class:`~zoo.inference.MultiLabelModel` and record."""
    model: object                     # MultiLabelModel
    record: dict                      # name, architecture, source, seed (written to zoo.json)
    valid_proba: np.ndarray | None = field(default=None, repr=False)


def _member_spec(spec, where) -> dict:
    if isinstance(spec, str):
        return {"checkpoint": spec}
    if isinstance(spec, dict):
        unknown = set(spec) - {"recipe", "seed"}
        if unknown or "recipe" not in spec:
            raise DataFormatError(f"an [ensemble] member table takes recipe = <path> and an "
                                  f"optional seed, got keys {sorted(spec)}", path=where)
        return {"recipe": str(spec["recipe"]), "seed": spec.get("seed")}
    raise DataFormatError(f"an [ensemble] member is a checkpoint name/folder or a table "
                          f"{{recipe, seed}}, got {spec!r}", path=where)


def load_member(spec: dict, verbose: int = 0, read_recipe=None) -> Member:
    """Load a checkpoint member, or train a ``{recipe, seed}`` member in memory
    (``read_recipe``: :func:`zoo.recipes.read_recipe`, passed in by :mod:`zoo.recipes`, which
    calls this module: no import cycle)."""
    if "checkpoint" in spec:
        from zoo.saved import open_saved
        saved = open_saved(spec["checkpoint"])
        model = saved.load()
        return Member(model, {"name": saved.name, "architecture": saved.architecture,
                              "source": "checkpoint", "dataset": saved.card.get("dataset"),
                              "seed": (saved.card.get("training") or {}).get("seed")})
    if read_recipe is None:
        raise ZooError("a {recipe, seed} ensemble member needs read_recipe (zoo.recipes)")
    return _train_member(read_recipe(spec["recipe"]), spec["recipe"], spec.get("seed"),
                         verbose)


def _train_member(recipe: dict, recipe_path: str, seed, verbose: int) -> Member:
    from zoo import kinds
    from zoo.data import benchmarks
    from zoo.inference import MultiLabelModel
    from zoo.train import fit
    if recipe["architecture"] == "ensemble" or "finetune" in recipe:
        raise ZooError(f"{recipe_path}: an ensemble member recipe must train one architecture "
                       "on a named dataset (no ensemble, no [finetune])")
    seed = int(recipe.get("seed", 0) if seed is None else seed)
    data = recipe.get("data", {})
    train = benchmarks.load(recipe["dataset"], data.get("train_split", "train"))
    valid = benchmarks.load(recipe["dataset"], data.get("valid_split", "valid"))
    t0 = time.perf_counter()
    result = fit(recipe["architecture"], train, valid, recipe.get("model", {}), seed=seed,
                 verbose=verbose, thresholds=recipe.get("thresholds"),
                 **recipe.get("train", {}))
    card = {"name": f"{recipe['name']}@seed{seed}", "architecture": recipe["architecture"],
            "dataset": recipe["dataset"], "kind": train.kind,
            "input": kinds.get(train.kind).input_spec(train, result.model),
            "label_names": list(train.label_names)}
    model = MultiLabelModel(result.model, train.label_names, result.thresholds, card)
    return Member(model, {"name": card["name"], "architecture": recipe["architecture"],
                          "source": "recipe", "recipe": Path(recipe_path).as_posix(),
                          "dataset": recipe["dataset"], "seed": seed,
                          "epochs_run": result.training["epochs_run"],
                          "wall_time_s": round(time.perf_counter() - t0, 2)})


def check_members(members: list[Member], dataset: str | None = None) -> None:
    """All members read the same input and predict the same labels (in order); ``dataset``,
    when given, is every member's dataset. Errors name the first mismatching member."""
    if not members:
        raise ZooError("an ensemble needs at least one member")
    ref = members[0]
    ref_name = ref.record["name"]
    for m in members:
        nm = m.record["name"]
        if dataset is not None and m.record.get("dataset") != dataset:
            raise ZooError(f"ensemble member {nm!r} was trained on dataset "
                           f"{m.record.get('dataset')!r}, not {dataset!r}")
        if m.model.kind != ref.model.kind:
            raise ZooError(f"ensemble members {ref_name!r} and {nm!r} read different inputs: "
                           f"{ref.model.kind} vs {m.model.kind}")
        if list(m.model.label_names) != list(ref.model.label_names):
            a, b = list(ref.model.label_names), list(m.model.label_names)
            diff = sorted(set(a) ^ set(b))
            why = (f"labels only in one of them: {diff[:10]}" if diff
                   else "the same labels in a different order")
            raise ZooError(f"ensemble members {ref_name!r} ({len(a)} labels) and {nm!r} "
                           f"({len(b)} labels) have different label sets: {why}")
        a_in = {k: v for k, v in (ref.model.card.get("input") or {}).items()}
        b_in = {k: v for k, v in (m.model.card.get("input") or {}).items()}
        if a_in != b_in:
            raise ZooError(f"ensemble members {ref_name!r} and {nm!r} expect different inputs:"
                           f" {a_in} vs {b_in}")


# ----------------------------------------------------------------------------- calibration, weights

def _rule_config(thresholds: dict | None) -> dict:
    from zoo.train import THRESHOLD_DEFAULTS
    cfg = {**THRESHOLD_DEFAULTS, **(thresholds or {})}
    if cfg["rule"] == "select":  # the name ensemble recipes used before "auto"
        cfg["rule"] = "auto"
    if cfg["rule"] not in ("auto", "global", "per_label", "fixed"):
        raise ZooError(f"unknown threshold rule {cfg['rule']!r}; use auto, per_label, global "
                       "or fixed")
    return cfg


def _candidates(cfg: dict) -> list:
    from zoo import thresholds as th
    if cfg["rule"] == "auto":
        return list(cfg.get("candidates") or th.CANDIDATES)
    if cfg["rule"] == "fixed":
        return [f"fixed:{float(cfg.get('value', 0.5))}"]
    return [cfg["rule"]]


def rule_scores(thresholds: dict | None, y_val, s_val, seed: int = 0) -> dict:
    """Held-out scores of each candidate rule on valid (:func:`zoo.thresholds.heldout_scores`:
    the rule tuned on one random half of valid, the mean of micro-F1 and macro-F1 measured on
    the other, both ways, 5 halvings), as single checkpoints and the tuned baselines are
    scored. ``auto`` compares :data:`zoo.thresholds.CANDIDATES`; any other rule is the only
    candidate."""
    from zoo import thresholds as th
    cfg = _rule_config(thresholds)
    return {r: th.heldout_scores(y_val, s_val, r, seed=seed) for r in _candidates(cfg)}


def criterion(y_val, s_val, thresholds: dict | None) -> float:
    """The ensemble's selection criterion on valid: the mean held-out score of the rule
    :func:`zoo.thresholds.choose_rule` would choose."""
    from zoo import thresholds as th
    scores = rule_scores(thresholds, y_val, s_val)
    return float(np.mean(scores[th.pick(scores)[0]]))


def mean_proba(probas, weights) -> np.ndarray:
    """``sum_i w_i p_i`` with the weights normalized (what :class:`ProbabilityMean` does)."""
    w = np.asarray(weights, dtype=np.float64)
    w = w / w.sum()
    return np.tensordot(w, np.stack([np.asarray(p, np.float64) for p in probas]), axes=1)


def greedy_weights(y_val, probas, thresholds: dict | None, steps: int = 10,
                   max_members: int | None = None):
    """Caruana et al. (2004) ensemble selection with replacement on valid.

    ``max_members`` caps the number of distinct members (the checkpoint's size): once reached,
    only members already picked can be picked again.

    Returns ``(counts per member, trace)``: ``trace`` lists each round's pick and criterion.
    The kept prefix is the one with the best criterion (ties: the shortest).
    """
    m = len(probas)
    counts = np.zeros(m, dtype=int)
    total = np.zeros_like(np.asarray(probas[0], np.float64))
    trace, best, best_counts = [], -np.inf, None
    for step in range(max(1, int(steps))):
        full = max_members is not None and np.count_nonzero(counts) >= max_members
        allowed = [i for i in range(m) if counts[i] or not full]
        scores = np.full(m, -np.inf)
        for i in allowed:
            scores[i] = criterion(y_val, (total + probas[i]) / (step + 1), thresholds)
        pick = int(np.argmax(scores))            # ties: the earlier member
        counts[pick] += 1
        total = total + probas[pick]
        trace.append({"step": step + 1, "pick": pick, "valid_criterion": round(scores[pick], 6)})
        if scores[pick] > best + 1e-12:
            best, best_counts = scores[pick], counts.copy()
    return best_counts, trace


# ----------------------------------------------------------------------------- the recipe

def read_ensemble_section(recipe: dict, where) -> dict:
    """Check a recipe's ``[ensemble]`` table; returns it with defaults filled in."""
    sec = recipe.get("ensemble")
    if not isinstance(sec, dict):
        raise DataFormatError("architecture = 'ensemble' needs an [ensemble] table with "
                              "members = [...]", path=where)
    unknown = set(sec) - ENSEMBLE_KEYS
    if unknown:
        raise DataFormatError(f"unknown [ensemble] key(s) {sorted(unknown)}; known: "
                              f"{sorted(ENSEMBLE_KEYS)}", path=where)
    members = sec.get("members")
    if not isinstance(members, list) or not members:
        raise DataFormatError("[ensemble] members must be a non-empty list", path=where)
    weighting = sec.get("weighting", "uniform")
    if isinstance(weighting, list):
        if len(weighting) != len(members) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0
                for v in weighting) or sum(weighting) <= 0:
            raise DataFormatError(f"[ensemble] weighting as a list needs one non-negative "
                                  f"number per member ({len(members)}), with a positive sum;"
                                  f" got {weighting}", path=where)
    elif weighting not in WEIGHTINGS:
        raise DataFormatError(f"[ensemble] weighting must be one of {list(WEIGHTINGS)} or a "
                              f"list of numbers, got {weighting!r}", path=where)
    max_members = sec.get("max_members")
    if max_members is not None and (not isinstance(max_members, int) or
                                    isinstance(max_members, bool) or max_members < 1):
        raise DataFormatError(f"[ensemble] max_members must be a positive integer, got "
                              f"{max_members!r}", path=where)
    steps = sec.get("steps", 10)
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise DataFormatError(f"[ensemble] steps must be a positive integer, got {steps!r}",
                              path=where)
    return {"members": [_member_spec(s, where) for s in members], "weighting": weighting,
            "steps": steps, "max_members": max_members}


def _resolve_recipe(spec: dict, anchor: Path | None) -> dict:
    """A ``{recipe}`` member's path as written if it exists (relative to the working
    directory), else relative to a folder above the ensemble recipe (``recipes/x/mlp.toml``
    written in ``recipes/x/ensemble.toml`` resolves from any working directory)."""
    if "recipe" not in spec or Path(spec["recipe"]).exists() or anchor is None:
        return spec
    for parent in Path(anchor).resolve().parents:
        if (parent / spec["recipe"]).is_file():
            return {**spec, "recipe": str(parent / spec["recipe"])}
    raise ZooError(f"{anchor}: ensemble member recipe {spec['recipe']!r} not found (relative "
                   "to the working directory or a folder above the recipe)")


def train_ensemble(recipe: dict, path, out: Path, overwrite: bool = True,
                   verbose: int = 0, read_recipe=None) -> Path:
    """Build the ensemble a recipe describes into the checkpoint folder ``out``.

    Members are loaded (or trained), scored on the valid split, weighted (on valid),
    combined into one Keras model, thresholds calibrated on valid, and the folder written,
    scored on test and renamed into place (:func:`zoo.checkpoint.write_evaluated`).
    """
    from zoo import checkpoint
    from zoo.data import benchmarks
    from zoo.evaluation import evaluate_folder
    where = path if not isinstance(path, dict) else "recipe"
    sec = read_ensemble_section(recipe, where)
    dataset = recipe["dataset"]
    data = recipe.get("data", {})
    valid = benchmarks.load(dataset, data.get("valid_split", "valid"))
    t0 = time.perf_counter()
    anchor = None if isinstance(path, dict) else Path(path)
    members = []
    for spec in sec["members"]:
        members.append(load_member(_resolve_recipe(spec, anchor), verbose, read_recipe))
        if "recipe" in spec:  # recorded as written (portable), not as resolved here
            members[-1].record["recipe"] = spec["recipe"]
    check_members(members, dataset)
    if list(members[0].model.label_names) != list(valid.label_names):
        raise ZooError(f"the members' labels differ from dataset {dataset!r}'s labels")
    y_val = valid.labels_dense()
    for m in members:
        m.valid_proba = m.model.predict_proba(valid.x)
        m.record["valid_criterion"] = round(criterion(y_val, m.valid_proba,
                                                      recipe.get("thresholds")), 6)
    weighting, trace = sec["weighting"], None
    if weighting == "uniform":
        raw = np.ones(len(members))
    elif weighting == "greedy":
        raw, trace = greedy_weights(y_val, [m.valid_proba for m in members],
                                    recipe.get("thresholds"), sec["steps"],
                                    sec["max_members"])
    else:
        raw = np.asarray(weighting, dtype=np.float64)
    keep = [i for i in range(len(members)) if raw[i] > 0]
    weights = raw[keep] / raw[keep].sum()
    kept = [members[i] for i in keep]
    s_val = mean_proba([m.valid_proba for m in kept], weights)
    # the rule chosen as zoo.train.fit chooses a checkpoint's (the same record in the card)
    from zoo import thresholds as th
    cfg = _rule_config(recipe.get("thresholds"))
    rule, selection = th.choose_rule(y_val, s_val, candidates=_candidates(cfg))
    if cfg.get("at_least_one"):
        rule = th.AtLeastOne(rule)
    valid_score = selection["valid_scores"][selection["chosen"]]
    model = combine([m.model.keras_model for m in kept], list(weights),
                    name=recipe["name"].replace("/", "_"))
    for m, w in zip(kept, weights):
        m.record["weight"] = round(float(w), 6)
    info = {"members": [m.record for m in kept],
            "candidates": [m.record["name"] for m in members],
            "left_out": [m.record for i, m in enumerate(members) if i not in keep],
            "weighting": weighting if isinstance(weighting, str) else "fixed",
            "combination": "weighted mean of the members' probabilities (output: its logit)",
            "selection_split": valid.split, "valid_criterion": round(valid_score, 6),
            "criterion": "mean of micro-F1 and macro-F1 on held-out halves of valid, the "
                         "threshold rule tuned on the other half (both ways; zoo.thresholds."
                         "choose_rule)",
            "rule_scores": selection["valid_scores"]}
    if trace is not None:
        info["greedy"] = {"steps": sec["steps"], "max_members": sec["max_members"], "trace": trace,
                          "method": "Caruana et al., ICML 2004: selection with replacement"}
    training = {"wall_time_s": round(time.perf_counter() - t0, 2), "epochs_run": 0,
                "best_epoch": 0, "seed": recipe.get("seed", 0),
                "valid_examples": len(valid), "threshold_selection": selection,
                "recipe_path": Path(path).as_posix() if not isinstance(path, dict) else None}
    first = kept[0].model
    card = checkpoint.new_card(
        name=recipe["name"], architecture="ensemble", dataset=dataset, kind=first.kind,
        label_names=first.label_names, input_spec=dict(first.card.get("input") or {}),
        architecture_options={"members": [m.record["name"] for m in kept],
                              "weights": [float(w) for w in weights]},
        thresholds=rule.to_dict(), recipe={k: v for k, v in recipe.items()
                                           if k != "_source_folder"},
        training=training, paper=PAPER,
        extra={"parameters": int(model.count_params()), "ensemble": info,
               "weights_dtype": recipe.get("weights_dtype", "float32"),
               "splits": {"valid": valid.split, "test": "test"}})
    checkpoint.write_evaluated(out, model, card,
                               lambda folder: evaluate_folder(folder, split="test"), overwrite)
    return out


def refuse_as_base(card: dict, ref: str, action: str) -> None:
    """Raise a clear :class:`~zoo.errors.ZooError` when ``card`` is an ensemble's: an
    ensemble has no encoder and head of its own to re-use (``action``: "fine-tune",
    "re-head"), but each member does."""
    if card.get("architecture") != "ensemble":
        return
    members = (card.get("ensemble") or {}).get("members", [])
    listed = ", ".join(str(m.get("name") or m.get("architecture")) for m in members)
    bases = [m["name"] for m in members if m.get("source") == "checkpoint" and m.get("name")]
    use = (f"use one of its checkpoint members as the base instead: {', '.join(bases)}"
           if bases else "use one of its members' architectures as the base instead")
    raise ZooError(f"{ref} is an ensemble (a weighted mean of {listed or 'its members'}); it "
                   f"has no single encoder to {action}: {use}")

