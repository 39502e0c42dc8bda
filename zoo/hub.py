"""Resolve a model reference to a verified local checkpoint folder; publish folders to the Hub.

``zoo.load(ref)`` tries, in order, and a miss names everything it tried:

1. ``ref`` is a local folder holding ``zoo.json``;
2. ``ref`` is a pretrained name (``"yeast/mlp"``) found in the checkpoints folder
   (the source checkout's ``checkpoints/`` or ``$ZOO_CHECKPOINTS``);
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

from zoo._io import sha256_file
from zoo.errors import CheckpointError, NotFoundError

from zoo.naming import DEFAULT_ORG, default_repo_id, hub_org  # noqa: F401  (re-exported)


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
        if entry is None:
            known = ", ".join(sorted(entries)) or "none"
            raise NotFoundError(f"no model named {ref!r}. Tried: " + "; ".join(tried)
                                + f". Known pretrained names: {known}. `zoo list` shows them.")
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
                        + ". Last error: " + (errors[-1] if errors else "none"))


def publish(ref, repo_id: str | None = None, dry_run: bool = False, token: str | None = None,
            commit_message: str | None = None) -> dict:
    """Upload a checkpoint folder to the Hub (``zoo publish NAME``).

    The folder is verified first. With ``dry_run=True`` nothing is sent; the returned dict lists
    exactly the files (path, bytes, SHA-256) that would be uploaded and the target repository.
    """
    from zoo import checkpoint
    folder, expected = resolve(ref, download=False)
    card = checkpoint.verify(folder, expected)
    repo_id = repo_id or card.get("hub", {}).get("repo_id") or default_repo_id(card["name"])
    recorded = set(card["files"]) | {"zoo.json"}
    extra = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                   if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
                   and p.relative_to(folder).as_posix() not in recorded)
    if extra:
        raise CheckpointError(f"{folder} holds files that zoo.json does not record: {', '.join(extra)};"
                              " remove them or rewrite the checkpoint before publishing")
    files = []
    for p in sorted(folder.rglob("*")):
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts):
            rel = p.relative_to(folder).as_posix()
            # verify() checked the recorded hashes; zoo.json (not self-hashed) is hashed here.
            files.append({"path": rel, "bytes": p.stat().st_size,
                          "sha256": card["files"].get(rel) or sha256_file(p)})
    plan = {"repo_id": repo_id, "folder": str(folder), "files": files, "dry_run": dry_run}
    if dry_run:
        return plan
    import huggingface_hub
    api = huggingface_hub.HfApi(token=token)
    api.create_repo(repo_id, exist_ok=True, repo_type="model")
    info = api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="model",
                             allow_patterns=[f["path"] for f in files],
                             commit_message=commit_message or f"zoo publish {card['name']}")
    plan["commit"] = getattr(info, "oid", None) or str(info)
    return plan
