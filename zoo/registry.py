"""Architectures and pretrained names.

Two registries, one module (after timm's ``_registry.py``):

* **Architectures** are builder functions registered with :func:`register_architecture`.
  A builder takes the input description and label count and returns a Keras model that
  outputs logits; its keyword defaults are the paper's. ``zoo.models.build("mlp", ...)``
  creates one (``zoo.models`` imports every model module, then looks up here; this module
  imports none of them, so there is no import cycle).
* **Pretrained names** (``"<dataset>/<arch>"``) are *derived*: from ``checkpoints/*/zoo.json``
  in a source checkout (or ``$ZOO_CHECKPOINTS``), and from the generated index
  ``zoo/_index.json`` that ships in the wheel (``zoo index`` rebuilds it from the folders; a
  test keeps the two in sync). There is no hand-kept second list.
"""
from __future__ import annotations

import fnmatch
import inspect
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from zoo._io import sha256_file
from zoo.errors import NotFoundError

INDEX_PATH = Path(__file__).with_name("_index.json")
SOURCE_CHECKPOINTS = Path(__file__).resolve().parents[1] / "checkpoints"


@dataclass(frozen=True)
class Architecture:
    name: str
    builder: Callable
    kind: str            # "features" | "text" | "image"
    paper: str           # citation of the paper whose mechanism the module implements
    defaults: dict = field(default_factory=dict)
    # The task head: glob patterns of the model's top-level layer names that depend on the
    # label set. Every other layer is the encoder, kept when a model is re-headed
    # (``zoo.create(arch, num_labels=..., pretrained=NAME)``, ``zoo.finetune`` on new labels).
    head: tuple = ("logits",)

    def parameters(self) -> set[str]:
        """The builder's keyword arguments."""
        return set(inspect.signature(self.builder).parameters)

    def head_layers(self, model) -> list[str]:
        """Names of ``model``'s top-level layers that belong to the head."""
        names = [la.name for la in model._flatten_layers(include_self=False, recursive=False)]
        # a post-hoc logit adjustment (zoo.models.calibration) depends on the labels too
        patterns = tuple(self.head) + ("logit_adjustment",)
        return [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in patterns)]

    def build(self, **kwargs):
        unknown = set(kwargs) - set(inspect.signature(self.builder).parameters)
        if unknown:
            raise TypeError(f"architecture {self.name!r} has no option(s) {sorted(unknown)};"
                            f" it takes {sorted(inspect.signature(self.builder).parameters)}")
        return self.builder(**kwargs)


_ARCHITECTURES: dict[str, Architecture] = {}


def register_architecture(name: str, *, kind: str, paper: str, head=("logits",)):
    """Decorator registering a model builder under ``name``.

    ``head``: glob patterns of the top-level layer names that form the task head (the layers
    whose weights depend on the label set); the rest of the model is the encoder.

    Example::

        @register_architecture("mlp", kind="features", paper="Nam et al. 2014", head=("logits",))
        def mlp(num_features, num_labels, hidden_units=(1000,), dropout=0.5): ...
    """
    def wrap(fn):
        if name in _ARCHITECTURES:
            raise ValueError(f"architecture {name!r} is registered twice")
        defaults = {k: p.default for k, p in inspect.signature(fn).parameters.items()
                    if p.default is not inspect.Parameter.empty}
        _ARCHITECTURES[name] = Architecture(name, fn, kind, paper, defaults,
                                            tuple([head] if isinstance(head, str) else head))
        return fn
    return wrap


def lookup_architecture(name: str) -> Architecture:
    """The architecture registered as ``name`` (only those whose module was imported: use
    :func:`zoo.models.get_architecture`, which imports them all)."""
    try:
        return _ARCHITECTURES[name]
    except KeyError:
        from zoo.naming import suggestion
        raise NotFoundError(f"unknown architecture {name!r}{suggestion(name, _ARCHITECTURES)}"
                            f" (known: {', '.join(sorted(_ARCHITECTURES))})") from None


def registered_architectures() -> list[str]:
    return sorted(_ARCHITECTURES)


# ----------------------------------------------------------------------------- pretrained names

def checkpoints_dir() -> Path | None:
    """The folder holding one sub-folder per pretrained checkpoint, if any."""
    env = os.environ.get("ZOO_CHECKPOINTS")
    if env:
        return Path(env)
    return SOURCE_CHECKPOINTS if SOURCE_CHECKPOINTS.is_dir() else None


def folder_name(name: str) -> str:
    """``"yeast/mlp"`` -> ``"yeast-mlp"`` (the folder and Hub repository name)."""
    from zoo import naming
    try:
        return naming.folder_name(name)
    except ValueError as e:
        raise NotFoundError(str(e)) from None


def scan_checkpoints(root: Path | None = None) -> dict[str, dict]:
    """Entries derived from ``<root>/*/zoo.json``: name -> index record."""
    root = checkpoints_dir() if root is None else Path(root)
    out = {}
    if root is None or not root.is_dir():
        return out
    for card_path in sorted(root.glob("*/zoo.json")):
        if card_path.parent.name.startswith("."):
            continue  # a folder being staged by `zoo train`, not a checkpoint yet
        card = json.loads(card_path.read_text())
        out[card["name"]] = index_record(card, card_path.parent)
    return out


def index_record(card: dict, folder: Path | None = None) -> dict:
    """What the shipped index keeps of one checkpoint: enough to fetch and verify it."""
    from zoo.naming import default_repo_id
    files = dict(card["files"])
    if folder is not None:
        files["zoo.json"] = sha256_file(Path(folder) / "zoo.json")
    return {
        "name": card["name"],
        "architecture": card["architecture"],
        "dataset": card["dataset"],
        "repo_id": card.get("hub", {}).get("repo_id") or default_repo_id(card["name"]),
        "revision": card.get("hub", {}).get("revision", "main"),
        "files": files,
    }


def load_index() -> dict[str, dict]:
    if INDEX_PATH.is_file():
        return json.loads(INDEX_PATH.read_text())["models"]
    return {}


def write_index(root: Path | None = None, path: Path = INDEX_PATH) -> dict:
    """Regenerate ``zoo/_index.json`` from the checkpoint folders (``zoo index``)."""
    from zoo._io import atomic_write_text
    models = scan_checkpoints(root)
    atomic_write_text(path, json.dumps({"format": 1, "models": models}, indent=1, sort_keys=True) + "\n")
    return models


def pretrained() -> dict[str, dict]:
    """All known pretrained names: the shipped index, overridden by local folders."""
    entries = load_index()
    entries.update(scan_checkpoints())
    return entries


def list_models(pattern: str | None = None) -> list[str]:
    """Pretrained names, optionally filtered by a glob (``zoo.list_models("*/mlp")``); a
    pattern without wildcards matches a dataset or architecture name, or any substring
    (``zoo.list_models("yeast")``)."""
    names = sorted(pretrained())
    if pattern is None:
        return names
    if not any(c in pattern for c in "*?["):
        return [n for n in names if pattern in n]
    return [n for n in names if fnmatch.fnmatch(n, pattern)]
