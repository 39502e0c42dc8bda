"""Upload a checkpoint folder to the Hugging Face Hub (``zoo publish NAME``).

:func:`publish` verifies the folder, works out the target repository and says whose namespace
it is in; a dry run stops there and contacts nothing. A real upload first checks that there is
a token and that the Hub endpoint answers, so an offline machine gets one line saying so
instead of a connection traceback.

    >>> from zoo.publish import publish
    >>> plan = publish("yeast/mlp", dry_run=True)        # doctest: +SKIP
    >>> plan["repo_id"], plan["namespace"]
    ('zoo-mlc/yeast-mlp', 'zoo-mlc')
"""
from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlsplit

from zoo._io import sha256_file
from zoo.errors import CheckpointError, ZooError
from zoo.naming import DEFAULT_ORG, default_repo_id


class PublishError(ZooError):
    """A publish could not start or did not complete (no token, no network, Hub refusal)."""


def _namespace_note(repo_id: str, source: str) -> str:
    owner = repo_id.split("/")[0]
    if source == "--repo-id":
        where = "given with --repo-id"
    elif owner == DEFAULT_ORG:
        where = (f"the zoo's default organisation; publish under your own account with "
                 f"--repo-id YOUR_NAME/{repo_id.split('/')[1]} or ZOO_HF_ORG=YOUR_NAME")
    elif source == "zoo.json":
        where = "recorded in the checkpoint's zoo.json (hub.repo_id)"
    else:
        where = "from $ZOO_HF_ORG"
    return f"namespace {owner!r} ({where}); the token must have write access to it"


def check_can_upload(token: str | None = None, endpoint: str | None = None,
                     timeout: float = 5.0) -> str:
    """The token to upload with, after checking that one exists and that ``endpoint`` (the
    Hub that ``huggingface_hub`` uses) accepts connections. Raises :class:`PublishError`
    with a one-line reason otherwise."""
    from huggingface_hub import constants as hf_constants
    if hf_constants.HF_HUB_OFFLINE:
        raise PublishError("HF_HUB_OFFLINE is set: unset it to publish (or use --dry-run)")
    if token is None:
        import huggingface_hub
        token = huggingface_hub.get_token()
    if not token:
        raise PublishError("no Hugging Face token: run `huggingface-cli login` or set HF_TOKEN "
                           "(or use --dry-run to see what would be uploaded)")
    endpoint = endpoint or hf_constants.ENDPOINT
    url = urlsplit(endpoint)
    host = url.hostname
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as e:
        raise PublishError(f"cannot reach the Hub at {endpoint} ({e.strerror or e}); check the "
                           "network or HF_ENDPOINT (or use --dry-run)") from None
    return token


def plan_upload(ref, repo_id: str | None = None) -> dict:
    """What :func:`publish` would upload: ``{"repo_id", "namespace", "namespace_note",
    "folder", "files": [{"path", "bytes", "sha256"}]}``; the folder is verified first."""
    from zoo.saved import open_saved
    saved = open_saved(ref, download=False)
    folder, card = saved.folder, saved.card
    if repo_id:
        source = "--repo-id"
    elif card.get("hub", {}).get("repo_id"):
        repo_id, source = card["hub"]["repo_id"], "zoo.json"
    else:
        repo_id = default_repo_id(card["name"])
        source = "ZOO_HF_ORG" if os.environ.get("ZOO_HF_ORG") else "default"
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise PublishError(f"a Hub repository id looks like 'owner/name', got {repo_id!r}")
    folder = Path(folder)
    recorded = set(card["files"]) | {"zoo.json"}

    def visible(p):
        return p.is_file() and not any(part.startswith(".")
                                       for part in p.relative_to(folder).parts)
    extra = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                   if visible(p) and p.relative_to(folder).as_posix() not in recorded)
    if extra:
        raise CheckpointError(f"{folder} holds files that zoo.json does not record: "
                              f"{', '.join(extra)}; remove them or rewrite the checkpoint "
                              "before publishing")
    files = []
    for p in sorted(folder.rglob("*")):
        if visible(p):
            rel = p.relative_to(folder).as_posix()
            # verify() checked the recorded hashes; zoo.json (not self-hashed) is hashed here.
            files.append({"path": rel, "bytes": p.stat().st_size,
                          "sha256": card["files"].get(rel) or sha256_file(p)})
    return {"repo_id": repo_id, "namespace": repo_id.split("/")[0],
            "namespace_note": _namespace_note(repo_id, source), "name": card["name"],
            "folder": str(folder), "files": files}


def publish(ref, repo_id: str | None = None, dry_run: bool = False, token: str | None = None,
            commit_message: str | None = None) -> dict:
    """Upload a checkpoint folder to the Hub; returns the plan (plus ``"commit"``).

    With ``dry_run=True`` nothing is sent: the returned dict lists exactly the files (path,
    bytes, SHA-256) that would be uploaded, the target repository and its namespace.
    """
    plan = plan_upload(ref, repo_id)
    plan["dry_run"] = dry_run
    if dry_run:
        return plan
    token = check_can_upload(token)
    import huggingface_hub
    from huggingface_hub.errors import HfHubHTTPError
    api = huggingface_hub.HfApi(token=token)
    try:
        api.create_repo(plan["repo_id"], exist_ok=True, repo_type="model")
        info = api.upload_folder(folder_path=plan["folder"], repo_id=plan["repo_id"],
                                 repo_type="model",
                                 allow_patterns=[f["path"] for f in plan["files"]],
                                 commit_message=commit_message or f"zoo publish {plan['name']}")
    except HfHubHTTPError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise PublishError(f"the Hub refused the upload to {plan['repo_id']}: {first}") from None
    except OSError as e:  # connection dropped mid-upload
        raise PublishError(f"upload to {plan['repo_id']} failed: {type(e).__name__}: "
                           f"{str(e).splitlines()[0] if str(e) else ''}") from None
    plan["commit"] = getattr(info, "oid", None) or str(info)
    return plan
