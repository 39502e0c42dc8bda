"""Resolve a model reference to a verified local checkpoint folder (publishing: zoo.publish).

``zoo.load(ref)`` tries, in order, and a miss names everything it tried:

1. ``ref`` is a local folder holding ``zoo.json``;
2. ``ref`` is a pretrained name (``"yeast/mlp"``) found in the checkpoints folder
   (the source checkout's ``checkpoints/`` or ``$ZOO_CHECKPOINTS``), or among the few
   checkpoints a wheel bundles (``zoo/_checkpoints/``, see :data:`BUNDLED`);
3. the Hugging Face cache (``huggingface_hub.snapshot_download(..., local_files_only=True)``);
4. a Hub download of repository ``<org>/<dataset>-<arch>`` at the pinned revision
   (org: ``$ZOO_HF_ORG``, default ``zoo-mlc``; endpoint: ``$HF_ENDPOINT``).

``hf://owner/repo`` skips the name lookup and goes to 3-4 directly. Files fetched from the Hub
are checked against the SHA-256 the shipped index records for that name.

``huggingface_hub`` reads ``HF_ENDPOINT``, ``HF_HUB_OFFLINE`` and ``HF_HOME`` once, at import
(``huggingface_hub.constants``); messages here report those values, not ``os.environ``.
See docs/hub.md.
"""
from __future__ import annotations

import os
from pathlib import Path

from zoo.errors import CheckpointError, NotFoundError


# Checkpoints shipped inside the wheel (setup.py copies them at build time; a clone has none:
# its checkpoints/ folder holds them all).
BUNDLED = Path(__file__).resolve().with_name("_checkpoints")


def local_source(name: str) -> str | None:
    """Where pretrained ``name`` is on this machine without a download: ``"checkpoints"``
    (a clone or ``$ZOO_CHECKPOINTS``), ``"bundled"`` (in the wheel), ``"cache"`` (the Hugging
    Face cache), or ``None``. Reads no file contents."""
    from zoo import registry
    from zoo.naming import folder_name, is_pretrained_name
    if not is_pretrained_name(name):
        return None
    root = registry.checkpoints_dir()
    if root is not None and (root / folder_name(name) / "zoo.json").is_file():
        return "checkpoints"
    if (BUNDLED / folder_name(name) / "zoo.json").is_file():
        return "bundled"
    entry = registry.pretrained().get(name)
    if entry:
        cache = Path(os.environ.get("HF_HUB_CACHE") or Path(
            os.environ.get("HF_HOME") or Path.home() / ".cache" / "huggingface") / "hub")
        repo = cache / ("models--" + entry["repo_id"].replace("/", "--")) / "snapshots"
        if repo.is_dir() and any(repo.iterdir()):
            return "cache"
    return None


def _snapshot(repo_id: str, revision: str, local_only: bool) -> Path:
    import huggingface_hub

    from zoo._version import __version__
    path = huggingface_hub.snapshot_download(
        repo_id=repo_id, revision=revision, local_files_only=local_only,
        library_name="zoo", library_version=__version__)
    return Path(path)


def resolve(ref, revision: str | None = None, download: bool = True):
    """Return ``(folder, expected_hashes)`` for a model reference (see module docstring).

    ``expected_hashes`` is the registry's record (path -> SHA-256) when the folder came from
    the Hub, else ``None`` (a local folder is checked against its own ``zoo.json``).
    """
    from zoo import registry

    ref = str(ref)
    tried = []
    if not ref.startswith("hf://"):
        local = Path(ref).expanduser()
        if local.is_dir():
            if (local / "zoo.json").is_file():
                return local, None
            raise CheckpointError(f"{local} is a folder but not a zoo checkpoint (no zoo.json)")
        tried.append(f"local folder {local} (does not exist)")

    entry = None
    if ref.startswith("hf://"):
        repo_id = ref[len("hf://"):]
        rev = revision or "main"
    else:
        entries = registry.pretrained()
        entry = entries.get(ref)
        root = registry.checkpoints_dir()
        if "/" in ref and ref.count("/") == 1 and root is not None:
            candidate = root / registry.folder_name(ref)
            if (candidate / "zoo.json").is_file():
                return candidate, None
            tried.append(f"checkpoints folder {candidate}")
        if "/" in ref and ref.count("/") == 1:
            bundled = BUNDLED / registry.folder_name(ref)
            if (bundled / "zoo.json").is_file():
                return bundled, None
        if entry is None:
            from zoo.naming import suggestion
            hint = suggestion(ref, entries) or "."
            known = (f"Known pretrained names: {', '.join(sorted(entries)) or 'none'}"
                     if len(entries) <= 10 or hint == "." else f"{len(entries)} pretrained names")
            raise NotFoundError(f"no model named {ref!r}{hint} Tried: " + "; ".join(tried)
                                + f". {known}; `zoo list` shows them.")
        repo_id = entry["repo_id"]
        rev = revision or entry.get("revision", "main")

    expected = entry["files"] if entry else None
    errors = []
    from huggingface_hub import constants as hf_constants
    for local_only in (True, False):
        if not local_only and not download:
            break
        # huggingface_hub fixed its endpoint and offline flag when it was imported: report those.
        if not local_only and hf_constants.HF_HUB_OFFLINE:
            tried.append(f"no Hub download for {repo_id}@{rev} (HF_HUB_OFFLINE is set)")
            break
        where = "Hugging Face cache" if local_only else f"Hub download from {hf_constants.ENDPOINT}"
        try:
            return _snapshot(repo_id, rev, local_only), expected
        except Exception as e:  # huggingface_hub raises several types for "not there"
            tried.append(f"{where} for {repo_id}@{rev}")
            errors.append(f"{type(e).__name__}: {e}".splitlines()[0])
    raise NotFoundError(f"could not find model {ref!r}. Tried: " + "; ".join(tried)
                        + ". Last error: " + (errors[-1].rstrip(".") if errors else "none")
                        + ". An installed wheel bundles only a few checkpoints (`zoo list` marks"
                        " them); get the others from the Hub (online) or point ZOO_CHECKPOINTS "
                        "at a clone's checkpoints/ folder")
