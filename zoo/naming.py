"""Names, and nothing else: no imports from the rest of the library (so every module may use it).

* a pretrained name is ``"<dataset>/<arch>"`` (``"yeast/mlp"``);
* its checkpoint folder and Hub repository are named ``"<dataset>-<arch>"``;
* its default Hub repository id is ``"<org>/<dataset>-<arch>"`` (``$ZOO_HF_ORG``, default
  ``zoo-mlc``);
* :func:`did_you_mean` turns a typo into a suggestion for error messages.
"""
from __future__ import annotations

import difflib
import os

DEFAULT_ORG = "zoo-mlc"


def hub_org() -> str:
    """The Hub namespace of the zoo's repositories (``$ZOO_HF_ORG`` overrides it)."""
    return os.environ.get("ZOO_HF_ORG", DEFAULT_ORG)


def is_pretrained_name(name: str) -> bool:
    return isinstance(name, str) and name.count("/") == 1 and all(name.split("/"))


def split_name(name: str) -> tuple[str, str]:
    """``"yeast/mlp"`` -> ``("yeast", "mlp")``; a ``ValueError`` for anything else."""
    if not is_pretrained_name(name):
        raise ValueError(f"a pretrained name looks like '<dataset>/<arch>', got {name!r}")
    dataset, arch = name.split("/")
    return dataset, arch


def folder_name(name: str) -> str:
    """``"yeast/mlp"`` -> ``"yeast-mlp"`` (the folder and Hub repository name)."""
    split_name(name)
    return name.replace("/", "-")


def default_repo_id(name: str) -> str:
    return f"{hub_org()}/{folder_name(name)}"


def did_you_mean(word: str, candidates, n: int = 3) -> list[str]:
    """The closest ``candidates`` to ``word`` (a typo, a bare dataset or architecture name)."""
    candidates = list(candidates)
    word = str(word)
    # A bare dataset or architecture word names every model it is part of.
    parts = [c for c in candidates if word in c.split("/")]
    if parts:
        return parts[:max(n, len(parts))] if len(parts) <= 8 else parts[:8]
    return difflib.get_close_matches(word, candidates, n=n, cutoff=0.6)


def suggestion(word: str, candidates) -> str:
    """``"; did you mean 'yeast/mlp'?"`` or ``""``."""
    close = did_you_mean(word, candidates)
    if not close:
        return ""
    return "; did you mean " + " or ".join(repr(c) for c in close) + "?"
