"""Corel5k as real photos: the ``corel5k-images`` benchmark (5,000 JPEGs, 260 tags).

The standard image-annotation split of Duygulu, Barnard, de Freitas & Forsyth ("Object
recognition as machine translation", ECCV 2002), as used by TagProp (Guillaumin, Mensink,
Verbeek & Schmid, ICCV 2009) and 2PKNN (Verma & Jawahar, ECCV 2012): 4,500 train / 499 test
images, 260 tags (the words that occur in the test set), 1-5 tags per image (7 train images
have none). One of the 5,000 photos (``121000/121060.jpeg``) is in neither list and is not used.

Files
-----
Upstream: repository ``TonyZZX/MultiGraph_MultiLabel_Learning`` at commit
:data:`COMMIT`, folder ``Corel5k/``: the photos ``<dir>/<id>.jpeg`` and the annotation files
``corel5k_{train,test}_list.txt`` (image ids in row order), ``corel5k_{train,test}_annot.mat``
(0/1 uint16 matrices ``annot1`` (4500, 260) and ``annot2`` (499, 260) in list order) and
``corel5k_words.txt`` (the 260 tags in column order). In the mirror / cache layout the photos are
``corel5k-images/<dir>/<id>.jpeg`` and the annotation files ``corel5k-images/annotations/<name>``.

The SHA-256 of every file is shipped with the package in the manifest
``zoo/data/manifests/corel5k-images.txt`` (one ``<role> <sha256> <path>`` line per file, path
relative to ``corel5k-images/``; role = ``train``/``test`` photo, ``meta`` annotation file,
``unlisted`` photo or ``derived`` mirror convenience file). It is generated from the mirror's
``SHA256SUMS`` and annotation lists by :func:`write_manifest`. The mirror's ``train.csv`` /
``test.csv`` are derived files (not upstream): the loader reads the upstream annotation files,
and ``tests/test_corel_images.py`` checks they agree with the CSVs.

Loading
-------
:func:`zoo.data.benchmarks.load` ("corel5k-images", split) returns a ``kind="image"``
:class:`~zoo.data.dataset.MultiLabelDataset` whose ``x`` is the list of absolute JPEG paths
(nothing is decoded; see :func:`zoo.data.images.image_dataset`) and ``y`` int8 (n, 260).
Label order: ``corel5k_words.txt``. Every label has at least one train positive and one test
positive, so no label column is dropped. ``valid`` is carved from the 4,500 train images by
iterative stratification (``valid_fraction`` 0.1, ``seed`` 0 by default), like every dataset
without an official validation split. Files come from ``$ZOO_DATA_DIR`` (the mirror), the
download cache or the network, each SHA-256 checked (:func:`fetch`).

Licence: the photos are Corel stock images distributed for research and study only; never
commit them.

Example::

    >>> from zoo.data import benchmarks
    >>> test = benchmarks.load("corel5k-images", "test")    # doctest: +SKIP
    >>> len(test), test.num_labels, test.x[0][-15:]          # doctest: +SKIP
    (499, 260, '1000/1001.jpeg')
"""
from __future__ import annotations

import functools
import os
import re
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import numpy as np

from zoo.data.dataset import MultiLabelDataset
from zoo.errors import DataFormatError

__all__ = ["NAME", "COMMIT", "RAW_URL", "MANIFEST_PATH", "PREFIX", "read_manifest",
           "url_for", "fetch", "parse", "read_split", "write_manifest"]

NAME = "corel5k-images"
COMMIT = "5d6bf599ccf72a7c7e96ccd1696602c4d074ce0a"
RAW_URL = ("https://raw.githubusercontent.com/TonyZZX/MultiGraph_MultiLabel_Learning/"
           f"{COMMIT}/Corel5k/")
PREFIX = NAME + "/"
MANIFEST_PATH = Path(__file__).with_name("manifests") / f"{NAME}.txt"
ROLES = ("train", "test", "meta", "unlisted", "derived")
#: The annotation files of each split (relative to ``corel5k-images/``), words file first.
META = {"train": ("annotations/corel5k_words.txt", "annotations/corel5k_train_list.txt",
                  "annotations/corel5k_train_annot.mat"),
        "test": ("annotations/corel5k_words.txt", "annotations/corel5k_test_list.txt",
                 "annotations/corel5k_test_annot.mat")}
SPLIT_SIZES = {"train": 4500, "test": 499}
NUM_LABELS = 260
_DOWNLOAD_THREADS = 8
_LINE = re.compile(r"^(\w+) ([0-9a-f]{64}) (\S+)$")


@functools.lru_cache(maxsize=4)
def read_manifest(path: str | os.PathLike = MANIFEST_PATH) -> tuple:
    """The manifest as a tuple of ``(role, sha256, path)``, path relative to ``corel5k-images/``.

    Lines starting with ``#`` and blank lines are skipped. Raises ``DataFormatError`` (file,
    line) on a malformed line, an unknown role or a repeated path.
    """
    out, seen = [], set()
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            m = _LINE.match(line)
            if m is None:
                raise DataFormatError("expected '<role> <64 hex sha256> <relative path>'",
                                      path=str(path), line=i)
            role, sha, rel = m.groups()
            if role not in ROLES:
                raise DataFormatError(f"unknown role {role!r}; expected one of {ROLES}",
                                      path=str(path), line=i)
            if rel in seen:
                raise DataFormatError(f"{rel} is listed twice", path=str(path), line=i)
            seen.add(rel)
            out.append((role, sha, rel))
    return tuple(out)


def url_for(rel: str) -> str:
    """Canonical URL of a file given its path relative to ``corel5k-images/``."""
    if rel.startswith("annotations/"):
        rel = rel[len("annotations/"):]
    return RAW_URL + rel


def fetch(records, cache_dir=None, base_url=None) -> dict:
    """Verified local copies of many small files (relpath -> local path).

    Like :func:`zoo.data.download.fetch_records`, but files already in the mirror or the cache
    are resolved first and the missing ones are downloaded by a few threads. When a download
    fails, the :class:`~zoo.data.download.DownloadError` names the first missing relative
    paths, how many are missing, and the mirror (``$ZOO_DATA_DIR``) and cache looked in.
    """
    from zoo.data import download

    records = list(records)
    mirror = download.mirror_dir()
    cache = download.resolve_cache_dir(cache_dir)
    out, missing = {}, []
    for r in records:
        if (mirror is not None and (mirror / r.path).is_file()) or (cache / r.path).is_file():
            out[r.path] = download.fetch(r.path, r.url, r.sha256, cache_dir, base_url)
        else:
            missing.append(r)
    if not missing:
        return out

    def one(r):
        return r.path, download.fetch(r.path, r.url, r.sha256, cache_dir, base_url)

    pool = ThreadPoolExecutor(_DOWNLOAD_THREADS)
    try:
        for fut in as_completed([pool.submit(one, r) for r in missing]):
            rel, path = fut.result()
            out[rel] = path
    except download.DownloadError as e:
        pool.shutdown(wait=True, cancel_futures=True)
        shown = ", ".join(r.path for r in missing[:3])
        where = (f"{download.DATA_DIR_ENV}={mirror}" if mirror is not None
                 else f"{download.DATA_DIR_ENV} is not set")
        raise download.DownloadError(
            f"{len(missing)} of {len(records)} files of {NAME} are neither in the mirror "
            f"({where}) nor in the cache ({cache}), e.g. {shown}; downloading them failed: {e}. "
            f"Point {download.DATA_DIR_ENV} at a folder holding {PREFIX}<relative path> for "
            "every file (see zoo/data/manifests/corel5k-images.txt).") from e
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return out


def _words(path) -> list:
    words = [w.strip() for w in Path(path).read_text(encoding="utf-8").splitlines()]
    words = [w for w in words if w]
    if len(words) != NUM_LABELS or len(set(words)) != NUM_LABELS:
        raise DataFormatError(f"expected {NUM_LABELS} distinct tags, one per line, got "
                              f"{len(words)} ({len(set(words))} distinct)", path=str(path))
    return words


def _ids(path) -> list:
    ids = []
    for i, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        s = line.strip()
        if not s:
            continue
        if not re.fullmatch(r"\d+/\d+", s):
            raise DataFormatError(f"expected an image id '<dir>/<number>', got {s[:40]!r}",
                                  path=str(path), line=i)
        ids.append(s)
    return ids


def _annot(path, n: int) -> np.ndarray:
    from scipy.io import loadmat

    try:
        mat = loadmat(str(path))
    except Exception as e:  # scipy raises several types for a corrupt file
        raise DataFormatError(f"not a readable MATLAB v5 file ({e})", path=str(path)) from None
    names = [k for k in mat if not k.startswith("__")]
    if len(names) != 1:
        raise DataFormatError(f"expected one matrix in the file, found {names}", path=str(path))
    a = np.asarray(mat[names[0]])
    if a.shape != (n, NUM_LABELS):
        raise DataFormatError(f"matrix {names[0]!r} has shape {a.shape}, expected ({n}, "
                              f"{NUM_LABELS}) (one row per listed image)", path=str(path))
    bad = (a != 0) & (a != 1)
    if bad.any():
        r, c = map(int, np.argwhere(bad)[0])
        raise DataFormatError(f"annotation matrix must be 0/1; row {r}, column {c} holds "
                              f"{a[r, c]}", path=str(path))
    return a.astype(np.int8)


def read_split(split: str, paths: dict) -> MultiLabelDataset:
    """One official split from resolved files (``relpath -> local path``, mirror layout)."""
    words_f, list_f, annot_f = (paths[PREFIX + m] for m in META[split])
    words, ids = _words(words_f), _ids(list_f)
    if len(ids) != SPLIT_SIZES[split]:
        raise DataFormatError(f"{split} list has {len(ids)} images, the published split has "
                              f"{SPLIT_SIZES[split]}", path=str(list_f))
    y = _annot(annot_f, len(ids))
    x = []
    for i in ids:
        rel = f"{PREFIX}{i}.jpeg"
        if rel not in paths:
            raise DataFormatError(f"image {i} of the {split} list is not in the manifest",
                                  path=str(list_f))
        x.append(os.path.abspath(paths[rel]))
    return MultiLabelDataset(
        x=x, y=y, label_names=words, kind="image", name=NAME, split=split,
        info={"ids": ids, "format": "corel5k-images",
              "protocol": "Duygulu et al. (ECCV 2002) split as used by TagProp (Guillaumin et "
                          "al., ICCV 2009): 4500 train / 499 test, 260 tags; evaluate with "
                          "zoo.metrics.annotation_metrics (top-5 per image)."})


def parse(rec, paths) -> dict:
    """The ``zoo.data.benchmarks`` parser: ``{"train": ds, "test": ds}``."""
    return {split: read_split(split, paths) for split in ("train", "test")}


def write_manifest(mirror, out=MANIFEST_PATH) -> Path:
    """(Re)generate the manifest from a mirror: ``SHA256SUMS`` + the two image lists.

    Every ``corel5k-images/`` line of ``SHA256SUMS`` becomes ``<role> <sha256> <path>``. The
    file is written atomically (temporary file, then rename). Used once to create the shipped
    manifest; ``tests/test_corel_images.py`` checks that they agree.
    """
    mirror = Path(mirror)
    sums = {}
    for line in (mirror / "SHA256SUMS").read_text().splitlines():
        digest, path = line.split(None, 1)
        path = path.strip().removeprefix("./")
        if path.startswith(PREFIX):
            sums[path[len(PREFIX):]] = digest
    split_of = {}
    for split in ("train", "test"):
        for i in _ids(mirror / PREFIX / META[split][1]):
            split_of[f"{i}.jpeg"] = split
    meta = set(META["train"]) | set(META["test"])
    lines = [f"# {NAME}: role sha256 path (relative to {PREFIX}); generated by "
             "zoo.data.corel_images.write_manifest from the mirror's SHA256SUMS.",
             f"# Upstream: {RAW_URL}<path without 'annotations/'>. Roles: train/test photos, "
             "meta = annotation files, unlisted = photo in neither list, derived = mirror-only "
             "CSVs (not upstream, not read by the loader)."]
    for rel in sorted(sums, key=lambda r: (r.startswith("annotations/") is False,
                                           r.endswith(".csv"), r)):
        if rel in meta:
            role = "meta"
        elif rel.endswith(".csv"):
            role = "derived"
        elif rel.endswith(".jpeg"):
            role = split_of.get(rel, "unlisted")
        else:
            raise ValueError(f"unexpected file {PREFIX}{rel} in SHA256SUMS")
        lines.append(f"{role} {sums[rel]} {rel}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, out)
    read_manifest.cache_clear()
    return out
