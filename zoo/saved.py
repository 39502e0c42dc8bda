"""The saved-model layer: one path from a reference to a loaded checkpoint.

    reference ──resolve──> folder ──verify (hash every file once)──> card ──load──> Keras model

``zoo.load``, ``zoo.info``, ``zoo.evaluate``, ``zoo.finetune``, ``zoo.create`` and
``zoo.compare`` (thresholds taken from a checkpoint) all go through :func:`open_saved`; nothing
else resolves, hashes or deserializes a checkpoint folder.

A reference is a checkpoint folder, a pretrained name (``"yeast/mlp"``) or ``hf://org/repo``
(:func:`zoo.hub.resolve` says where each is looked for).

    >>> from zoo.saved import open_saved
    >>> saved = open_saved("yeast/mlp")          # resolved and verified, nothing loaded yet
    >>> saved.card["architecture"], saved.metrics["metrics"]["micro_f1"]
    >>> model = saved.load()                     # a zoo.MultiLabelModel
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from zoo import checkpoint, hub


@dataclass
class Saved:
    """A resolved, verified checkpoint folder (weights not loaded yet)."""
    ref: str
    folder: Path
    card: dict

    @property
    def metrics(self) -> dict | None:
        """The folder's ``metrics.json`` (``None`` when it has none)."""
        path = self.folder / "metrics.json"
        return json.loads(path.read_text()) if path.is_file() else None

    @property
    def name(self) -> str | None:
        return self.card.get("name")

    @property
    def architecture(self) -> str | None:
        return self.card.get("architecture")

    @property
    def kind(self) -> str:
        return self.card.get("kind", "features")

    def keras_model(self):
        """The Keras model (files were verified by :func:`open_saved`: not hashed again)."""
        import zoo.models  # noqa: F401  (registers the zoo's layers and architectures)
        model, _ = checkpoint.read(self.folder, verify_hashes=False, card=self.card)
        return model

    def load(self):
        """A :class:`zoo.inference.MultiLabelModel`."""
        from zoo.inference import MultiLabelModel
        return MultiLabelModel(self.keras_model(), self.card["label_names"],
                               self.card.get("thresholds"), self.card, self.folder)

    def info(self) -> dict:
        """``zoo.info``: the card plus ``metrics`` and ``path``."""
        out = dict(self.card)
        metrics = self.metrics
        if metrics is not None:
            out["metrics"] = metrics
        out["path"] = str(self.folder)
        return out


def open_saved(ref, revision: str | None = None, download: bool = True,
               verify: bool = True) -> Saved:
    """Resolve ``ref`` and verify every file's SHA-256 (once); see the module docstring."""
    folder, expected = hub.resolve(ref, revision=revision, download=download)
    folder = Path(folder)
    card = checkpoint.verify(folder, expected) if verify else checkpoint.read_card(folder)
    return Saved(str(ref), folder, card)
