"""One checkpoint folder = one Hugging Face Hub repository.

Layout (see DESIGN.md)::

    yeast-mlp/
      config.json  metadata.json  model.weights.h5   # the unzipped Keras 3 archive
      zoo.json       # name, architecture, dataset, labels, thresholds, recipe, training, hashes
      metrics.json   # test-split metrics written by `zoo evaluate`
      README.md      # generated model card with the Hub's YAML header
      assets/        # vocabularies, tokenizer files (when the model has any)

``keras.saving.load_model(folder)`` works on the folder once ``import zoo`` has registered the
zoo's classes. ``zoo.json["files"]`` records the SHA-256 of every other file; :func:`read` checks
them before anything is deserialized.

Writes are all-or-nothing: :func:`write` builds the folder under a temporary name next to the
target and renames it into place, so an interrupted save leaves no folder (and never a
half-written one) behind.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

from zoo._io import atomic_write_text, sha256_file
from zoo.errors import CheckpointError

FORMAT = 1
KERAS_FILES = ("config.json", "metadata.json", "model.weights.h5")
REQUIRED = KERAS_FILES + ("zoo.json",)
# Files that are not hashed into zoo.json["files"] (zoo.json cannot hash itself).
UNHASHED = ("zoo.json",)


def hardware() -> dict:
    """What this machine is, for the model card ("CPU-trained" is said plainly)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        mem_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    accel = "none (CPU only)"
    try:
        import tensorflow as tf
        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            accel = f"{len(gpus)} GPU(s)"
    except Exception:  # pragma: no cover - TF missing or broken: still describe the CPU
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": mem_gb, "accelerator": accel,
            "os": platform.platform()}


def versions() -> dict:
    import keras
    import numpy

    from zoo._version import __version__
    out = {"zoo": __version__, "keras": keras.__version__, "numpy": numpy.__version__,
           "python": platform.python_version(), "backend": keras.backend.backend()}
    try:
        import tensorflow as tf
        out["tensorflow"] = tf.__version__
    except ImportError:  # pragma: no cover
        pass
    return out


def file_hashes(folder: Path) -> dict[str, str]:
    folder = Path(folder)
    return {p.relative_to(folder).as_posix(): sha256_file(p)
            for p in sorted(folder.rglob("*"))
            if p.is_file() and p.relative_to(folder).as_posix() not in UNHASHED}


def _save_keras(model, folder: Path) -> None:
    """The unzipped Keras archive, without optimizer state (an inference checkpoint)."""
    import keras
    clean = model.__class__.from_config(model.get_config())
    clean.set_weights(model.get_weights())
    # A nested model that was compiled (an image head trained alone on cached features)
    # comes back compiled from its config: drop its optimizer, or its state is saved too.
    for layer in clean._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.Model) and getattr(layer, "optimizer", None) is not None:
            layer.optimizer = None
            layer.compiled = False
            layer._compile_config = None
    # State that is not a weight (vocabularies of TextVectorization/StringLookup) travels
    # through the layers' own asset hooks.
    pairs = zip(model._flatten_layers(include_self=False), clean._flatten_layers(include_self=False))
    for src, dst in pairs:
        if hasattr(src, "save_assets") and hasattr(dst, "load_assets"):
            with tempfile.TemporaryDirectory() as d:
                src.save_assets(d)
                dst.load_assets(d)
    keras.saving.save_model(clean, str(folder), zipped=False)
    # Keras' directory writer stages assets in a temp dir; models with assets carry them in
    # their config (vocabularies) or via `assets=` below, so an empty assets/ is not kept.
    assets = folder / "assets"
    if assets.is_dir() and not any(assets.iterdir()):
        assets.rmdir()


def _store_float16(path: Path) -> None:
    """Rewrite a Keras ``.weights.h5`` with its float32 arrays stored as float16 (half the
    bytes). Keras casts them back to the model's float32 variables when loading, so the model
    still computes in float32; only the stored precision drops (the checkpoint is evaluated
    from the written folder, so its metrics.json measures exactly these weights)."""
    import h5py
    import numpy as np
    tmp = path.with_name(path.name + ".f16.tmp")

    def copy(src, dst):
        for k, v in src.attrs.items():
            dst.attrs[k] = v
        for name, obj in src.items():
            if isinstance(obj, h5py.Group):
                copy(obj, dst.create_group(name))
            else:
                data = obj[()]
                if getattr(data, "dtype", None) == np.float32:
                    data = data.astype(np.float16)
                d = dst.create_dataset(name, data=data)
                for k, v in obj.attrs.items():
                    d.attrs[k] = v
    try:
        with h5py.File(path, "r") as src, h5py.File(tmp, "w") as dst:
            copy(src, dst)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write(folder, model, card: dict, metrics: dict | None = None, assets: dict | None = None,
          overwrite: bool = False) -> Path:
    """Write a complete checkpoint folder atomically and return its path.

    Args:
        folder: target folder (e.g. ``checkpoints/yeast-mlp``).
        model: the trained Keras model (logits out).
        card: the ``zoo.json`` content without ``files`` (filled in here).
        metrics: the ``metrics.json`` content, if already computed.
        assets: ``{relative name: text}`` written under ``assets/``.
            (``card["weights_dtype"] == "float16"`` stores the weights in half precision.)
        overwrite: replace an existing folder (the old one is removed only after the new one
            is complete).
    """
    folder = Path(folder)
    if folder.exists() and not overwrite:
        raise CheckpointError(f"{folder} already exists; pass overwrite=True to replace it")
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".partial", dir=folder.parent))
    os.chmod(tmp, 0o755)  # mkdtemp creates 0700
    try:
        _save_keras(model, tmp)
        if card.get("weights_dtype", "float32") == "float16":
            _store_float16(tmp / "model.weights.h5")
        for rel, text in (assets or {}).items():
            atomic_write_text(tmp / "assets" / rel, text)
        if metrics is not None:
            atomic_write_text(tmp / "metrics.json", json.dumps(metrics, indent=1, sort_keys=True) + "\n")
        card = dict(card)
        card.setdefault("format", FORMAT)
        _write_card_files(tmp, card, metrics)
        _replace_folder(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def _write_card_files(folder: Path, card: dict, metrics: dict | None) -> dict:
    from zoo.modelcard import render
    atomic_write_text(folder / "README.md", render(card, metrics))
    card["files"] = file_hashes(folder)
    atomic_write_text(folder / "zoo.json", json.dumps(card, indent=1, sort_keys=True) + "\n")
    return card


def _replace_folder(src: Path, dst: Path) -> None:
    if dst.exists():
        old = dst.with_name(f".{dst.name}.old-{os.getpid()}")
        os.replace(dst, old)
        os.replace(src, dst)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(src, dst)


def write_evaluated(out, model, card: dict, evaluate, overwrite: bool = True) -> dict:
    """Write a checkpoint folder, score it and only then move it to ``out``; returns the metrics.

    The folder is written under a staging name next to ``out``; ``evaluate(staging_folder)``
    computes the metric dict from what was written (so it also proves the folder loads back),
    which is stored as ``metrics.json`` before the staging folder is renamed into place.
    Nothing is left behind when any step fails.
    """
    out = Path(out)
    staging = out.with_name(f".{out.name}.staging-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        write(staging, model, card)
        metrics = evaluate(staging)
        update_metrics(staging, metrics)
        if out.exists() and not overwrite:
            raise CheckpointError(f"{out} appeared while training; pass overwrite=True to "
                                  "replace it")
        _replace_folder(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return metrics


def update_metrics(folder, metrics: dict) -> dict:
    """Store ``metrics`` as ``metrics.json``, regenerate the model card and the hashes.

    Each file is replaced atomically and ``zoo.json`` (which hashes the others) last, so a
    crash in between leaves a folder that :func:`read` refuses with a hash mismatch rather
    than one that silently disagrees with itself.
    """
    folder = Path(folder)
    card = read_card(folder)
    atomic_write_text(folder / "metrics.json", json.dumps(metrics, indent=1, sort_keys=True) + "\n")
    card.pop("files", None)
    return _write_card_files(folder, card, metrics)


def read_card(folder) -> dict:
    folder = Path(folder)
    path = folder / "zoo.json"
    if not path.is_file():
        raise CheckpointError(f"{folder} is not a zoo checkpoint: no zoo.json")
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path} is not valid JSON: {e}") from None


def verify(folder, expected: dict[str, str] | None = None) -> dict:
    """Check presence and SHA-256 of every file; return the card.

    ``expected`` (path -> sha256, e.g. from the shipped index) takes precedence over the hashes
    the folder records about itself, so a tampered ``zoo.json`` cannot vouch for itself.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"checkpoint folder {folder} does not exist")
    missing = [f for f in REQUIRED if not (folder / f).is_file()]
    if missing:
        raise CheckpointError(f"checkpoint {folder} is incomplete: missing {', '.join(missing)}")
    if expected and "zoo.json" in expected:
        actual = sha256_file(folder / "zoo.json")
        if actual != expected["zoo.json"]:
            raise CheckpointError(f"{folder / 'zoo.json'}: SHA-256 {actual} does not match the"
                                  f" registry's {expected['zoo.json']}; refusing to load")
    card = read_card(folder)
    recorded = dict(card.get("files") or {})
    if not recorded:
        raise CheckpointError(f"{folder / 'zoo.json'} records no file hashes")
    if expected:
        recorded.update({k: v for k, v in expected.items() if k not in UNHASHED})
    for rel, sha in sorted(recorded.items()):
        path = folder / rel
        if not path.is_file():
            raise CheckpointError(f"checkpoint {folder} is incomplete: missing {rel}")
        actual = sha256_file(path)
        if actual != sha:
            raise CheckpointError(f"{path}: SHA-256 {actual} does not match the recorded {sha};"
                                  " the file is corrupted or was modified. Refusing to load.")
    return card


def read(folder, expected_hashes: dict | None = None, verify_hashes: bool = True,
         card: dict | None = None):
    """Verify and load a checkpoint folder: ``(keras_model, card)``.

    ``card``: the already verified ``zoo.json`` (with ``verify_hashes=False``: the caller,
    :mod:`zoo.saved`, hashed the files once already). Keras ``safe_mode`` stays on (no
    arbitrary code from lambdas is deserialized). The model's layer classes must be registered
    (``import zoo.models``; :mod:`zoo.saved` does it): this module sits below the models.
    """
    import keras

    from zoo import losses, metrics, thresholds  # noqa: F401  (their Keras objects)

    folder = Path(folder)
    if card is None:
        card = verify(folder, expected_hashes) if verify_hashes else read_card(folder)
    try:
        model = keras.saving.load_model(str(folder), compile=False, safe_mode=True)
    except Exception as e:  # Keras raises many types; name the folder
        raise CheckpointError(f"could not load the Keras model in {folder}: {e}") from e
    labels = card.get("label_names") or []
    out_dim = model.outputs[0].shape[-1] if getattr(model, "outputs", None) else None
    if out_dim is not None and out_dim != len(labels):
        raise CheckpointError(f"{folder}: the model outputs {out_dim} scores but zoo.json names"
                              f" {len(labels)} labels")
    return model, card


def new_card(*, name: str, architecture: str, dataset: str, kind: str, label_names,
             input_spec: dict, architecture_options: dict, thresholds: dict, recipe: dict,
             training: dict, paper: str = "", license: str = "apache-2.0",
             extra: dict | None = None) -> dict:
    """Assemble a ``zoo.json`` dict with the zoo-wide fields filled in."""
    from zoo.naming import default_repo_id
    card = {
        "format": FORMAT,
        "name": name,
        "architecture": architecture,
        "architecture_options": architecture_options,
        "paper": paper,
        "dataset": dataset,
        "kind": kind,
        "input": input_spec,
        "label_names": list(label_names),
        "thresholds": thresholds,
        "recipe": recipe,
        "training": {**training, "hardware": hardware()},
        "versions": versions(),
        "license": license,
        "hub": {"repo_id": default_repo_id(name), "revision": "main"},
        "command": " ".join([Path(sys.argv[0]).name] + sys.argv[1:]) if sys.argv else "",
    }
    card.update(extra or {})
    return card
