"""Named benchmark datasets: ``load("yeast", "train")`` and friends.

Names (see :func:`list_datasets`): the 11 MULAN sets ``emotions``, ``yeast``, ``scene``,
``flags``, ``medical``, ``enron``, ``genbase``, ``bibtex``, ``corel5k``, ``delicious``,
``tmc2007-500``; ``reuters21578`` (ModApte, 90 topics); ``goemotions``; ``fashion-canvas``
(multi-label canvases of Fashion-MNIST items); ``corel5k-images`` (5,000 Corel photos, 260
tags; ``x`` = JPEG paths, :mod:`zoo.data.corel_images`). Files, URLs, hashes and citations are in
:mod:`zoo.data.catalog`; files come from the mirror ``$ZOO_DATA_DIR``, the download cache or the
network (:mod:`zoo.data.download`), always SHA-256 checked.

Splits
------
``split=`` is one of

* ``"test"`` — the official test split, untouched. Nothing is ever carved from it.
* ``"train_full"`` — the whole official training split.
* ``"valid"`` — the official validation split where the source publishes one (GoEmotions'
  ``dev``). Otherwise it is **carved from the official training split**: a
  ``valid_fraction`` share of its rows (default 0.1), chosen by iterative stratification
  (Sechidis et al. 2011, :mod:`zoo.data.stratify`) with ``seed`` (default 0), so every label
  keeps its train proportion as far as possible.
* ``"train"`` — ``train_full`` minus the carved validation rows (same ``valid_fraction`` and
  ``seed``); equals ``train_full`` where the validation split is official.

So ``train`` + ``valid`` == ``train_full`` (as row sets, rows in their original order) and
``valid`` never overlaps ``test``. One exception: ``fashion-canvas``, whose canvases reuse
source images, carves at the level of source images (``valid`` canvases are composed from a
class-stratified ``valid_fraction`` of the Fashion-MNIST train images, ``train`` canvases from
the rest), so that no item image is in both; its ``train_full`` is the official 60000 canvases.

Results comparable to the literature train on ``train_full`` (or ``train``, with ``valid`` for
early stopping and threshold calibration) and report on ``test``.

Parsed datasets are cached in-process (one parse per dataset and data location); every call
returns fresh copies, so callers may modify what they get.

Example:
    >>> from zoo.data import benchmarks
    >>> train = benchmarks.load("emotions", "train")          # doctest: +SKIP
    >>> len(train), train.num_labels                           # doctest: +SKIP
    (352, 6)
    >>> benchmarks.summary("emotions")["cardinality"]          # doctest: +SKIP
    1.8684654300168635
"""
from __future__ import annotations

import copy
import functools
import os
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from zoo.data import catalog, download
from zoo.data.dataset import MultiLabelDataset
from zoo.data.stratify import fold_sizes, iterative_stratification
from zoo.errors import DataFormatError

SPLITS = ("train", "valid", "test", "train_full")
DEFAULT_VALID_FRACTION = 0.1
DEFAULT_SEED = 0



def list_datasets() -> list[str]:
    """Names :func:`load` accepts, MULAN sets first."""
    return catalog.names()


def record(name: str) -> catalog.DatasetRecord:
    """The catalog record (files, citation, licence, published statistics) of ``name``."""
    return catalog.get(name)


def load(name: str, split: str = "train", valid_fraction: float = DEFAULT_VALID_FRACTION,
         seed: int = DEFAULT_SEED, cache_dir: str | os.PathLike | None = None
         ) -> MultiLabelDataset:
    """Load one split of a named benchmark.

    Args:
        name: a name from :func:`list_datasets`.
        split: ``"train"``, ``"valid"``, ``"test"`` or ``"train_full"`` (see the module
            docstring: without an official validation split, ``valid`` is carved from the
            official train split by iterative stratification and ``train`` is the rest).
        valid_fraction: share of the official train split carved out as ``valid`` (ignored
            where the validation split is official).
        seed: seed of the carve-out (ignored where the validation split is official).
        cache_dir: download cache (default ``$ZOO_CACHE_DIR`` or ``~/.cache/zoo/datasets``).

    Returns:
        A new :class:`MultiLabelDataset` with ``name`` and ``split`` set and ``info`` holding
        ``citation``, ``license``, ``files`` and, for carved splits, ``split_protocol``.

    Raises:
        NotFoundError: unknown ``name``; ValueError: unknown ``split``;
        ChecksumError / DownloadError: see :func:`zoo.data.download.fetch`.

    Example:
        >>> valid = load("yeast", "valid", valid_fraction=0.2, seed=3)   # doctest: +SKIP
        >>> len(valid)                                                    # doctest: +SKIP
        300
    """
    rec = catalog.get(name)
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if split == "test" or (split == "valid" and rec.has_official_valid):
        # only this split's files: evaluating on test does not need the train file (except
        # for Reuters-21578, whose files hold both splits; see _SPLIT_PARSERS)
        return _copy(_official_split(name, split, _location(cache_dir)), split)
    official = _official(name, _location(cache_dir))
    if split == "train_full" or (split == "train" and rec.has_official_valid):
        return _copy(official["train"], "train_full" if split == "train_full" else "train")
    if rec.loader == "fashion-canvas":
        _check_fraction(valid_fraction, len(official["train"]), name)
        parts = _fashion_carve(float(valid_fraction), int(seed), _location(cache_dir))
        return _copy(parts[0] if split == "train" else parts[1], split)
    tr, va = _carve(name, float(valid_fraction), int(seed), _location(cache_dir))
    idx = tr if split == "train" else va
    out = _subset(official["train"], idx, split)
    out.info["split_protocol"] = (
        f"{split} = {'the rest of ' if split == 'train' else ''}a {valid_fraction:g} share of "
        f"the official train split carved by iterative stratification (Sechidis, Tsoumakas, "
        f"Vlahavas, ECML PKDD 2011), seed {seed}; 'train' + 'valid' = 'train_full'")
    out.info["source_rows"] = idx.copy()
    return out


def fetch_files(name: str, cache_dir: str | os.PathLike | None = None) -> dict[str, Path]:
    """Make sure every file of ``name`` is available and verified; relpath -> local path."""
    rec = catalog.get(name)
    return _fetcher(rec)(rec.all_files(), cache_dir=cache_dir)


def summary(name: str, cache_dir: str | os.PathLike | None = None) -> dict:
    """Statistics of a named dataset over all its official splits (train + official valid, if
    any, + test), computed from the data — the quantities the MULAN datasets page publishes.

    Returns:
        ``{"name", "instances", "features", "labels", "cardinality", "density",
        "distinct_label_sets", "splits"}`` where ``splits`` maps each official split to its
        size. ``features`` is the number of input attributes (``None`` for text; the image
        shape's element count for images). For MULAN sets it counts every ARFF attribute
        that is not a label, as the MULAN page does, including identifier attributes the
        reader keeps aside in ``info["string_columns"]`` (genbase: 1185 feature columns +
        the protein id = MULAN's 1186).

    Example:
        >>> s = summary("scene")                                         # doctest: +SKIP
        >>> s["instances"], s["labels"], round(s["density"], 3)          # doctest: +SKIP
        (2407, 6, 0.179)
    """
    rec = catalog.get(name)
    official = _official(name, _location(cache_dir))
    order = [s for s in ("train", "valid", "test") if s in official]
    parts = [official[s] for s in order]
    stats = _label_stats([p.y for p in parts], rec.num_labels)
    features = _num_input_features(parts[0])
    if features is not None:  # identifier attributes a reader kept aside (genbase's protein)
        features += len(parts[0].info.get("string_columns") or {})
    return {"name": name, "instances": sum(len(p) for p in parts),
            "features": features, "labels": parts[0].num_labels,
            **stats, "splits": {s: len(official[s]) for s in order}}


def describe(dataset: MultiLabelDataset) -> dict:
    """Summary statistics of any :class:`MultiLabelDataset`.

    Returns a dict with ``name``, ``split``, ``kind``, ``instances``, ``features`` (as in
    :func:`summary`), ``labels``, ``cardinality`` (mean positives per row), ``density``
    (cardinality / labels), ``distinct_label_sets``, ``rows_without_labels`` and
    ``labels_without_positives`` (count of label columns with no positive row). Unknown
    entries (-1) count as not positive.

    Example:
        >>> import numpy as np
        >>> ds = MultiLabelDataset(np.zeros((3, 2), np.float32),
        ...                        np.array([[1, 0, 0], [1, 0, 0], [0, 0, 0]], np.int8),
        ...                        ["a", "b", "c"])
        >>> d = describe(ds)
        >>> d["cardinality"], d["distinct_label_sets"], d["labels_without_positives"]
        (0.6666666666666666, 2, 2)
    """
    return {"name": dataset.name, "split": dataset.split, "kind": dataset.kind,
            "instances": len(dataset), "features": _num_input_features(dataset),
            "labels": dataset.num_labels,
            **_label_stats([dataset.y], dataset.num_labels, extended=True)}


def clear_cache() -> None:
    """Forget the datasets parsed in this process (the next :func:`load` parses again)."""
    _official.cache_clear()
    _official_split.cache_clear()
    _carve.cache_clear()
    _fashion_carve.cache_clear()


# ---------------------------------------------------------------------------------------------
# internals
# ---------------------------------------------------------------------------------------------
def _location(cache_dir) -> tuple:
    """What decides where files come from; part of the in-process cache key."""
    mirror = download.mirror_dir()
    return (None if mirror is None else str(mirror.resolve()),
            str(download.resolve_cache_dir(cache_dir)),
            os.environ.get(download.URL_OVERRIDE_ENV) or None)


def _fetch(rec, files, location: tuple, split: str | None = None) -> dict:
    """Fetch ``files`` of ``rec``; a missing file's error says which split needed it and why."""
    try:
        return _fetcher(rec)(files, cache_dir=location[1])
    except download.DownloadError as e:
        need = f"{rec.name}" + (f" {split}" if split else "")
        why = ""
        if rec.loader not in _SPLIT_PARSERS:
            why = (f" ({rec.name} needs all of its files for any split: "
                   f"{_WHOLE_REASONS.get(rec.loader, 'its files hold every split')})")
        raise download.DownloadError(f"loading {need}{why}: {e}") from e.__cause__


def _finish(rec, split: str, ds: MultiLabelDataset, paths: dict) -> MultiLabelDataset:
    ds.name, ds.split = rec.name, split
    ds.info.setdefault("citation", rec.citation)
    ds.info.setdefault("license", rec.license)
    ds.info["files"] = [f.path for f in rec.files.get(split, ())]
    want = rec.split_sizes.get(split)
    if rec.loader in ("mulan", "goemotions") and want is not None and len(ds) != want:
        raise DataFormatError(f"{rec.name} {split} has {len(ds)} rows, the published split has "
                              f"{want}", path=str(paths[rec.files[split][0].path]))
    return ds


@functools.lru_cache(maxsize=None)
def _official_split(name: str, split: str, location: tuple) -> MultiLabelDataset:
    """One official split, parsed from that split's files only where its files are separate
    (so ``load(name, "test")`` works with only the test files present)."""
    rec = catalog.get(name)
    if rec.loader not in _SPLIT_PARSERS:
        return _official(name, location)[split]
    paths = _fetch(rec, rec.files[split], location, split)
    return _finish(rec, split, _SPLIT_PARSERS[rec.loader](rec, paths, split), paths)


@functools.lru_cache(maxsize=None)
def _official(name: str, location: tuple) -> dict[str, MultiLabelDataset]:
    """Parse the official splits of ``name``: {"train", "test"[, "valid"]} (cached)."""
    rec = catalog.get(name)
    if rec.loader in _SPLIT_PARSERS:
        return {split: _official_split(name, split, location) for split in rec.files}
    paths = _fetch(rec, rec.all_files(), location)
    out = _PARSERS[rec.loader](rec, paths)
    for split, ds in out.items():
        _finish(rec, split, ds, paths)
    return out


@functools.lru_cache(maxsize=64)
def _carve(name: str, valid_fraction: float, seed: int, location: tuple):
    full = _official(name, location)["train"]
    _check_fraction(valid_fraction, len(full), name)
    tr, va = iterative_stratification(full.y, [1.0 - valid_fraction, valid_fraction], seed)
    tr.flags.writeable = False
    va.flags.writeable = False
    return tr, va


def _check_fraction(valid_fraction, n: int, name: str) -> None:
    if not 0.0 < valid_fraction < 1.0:
        raise ValueError(f"valid_fraction must be in (0, 1), got {valid_fraction!r}")
    sizes = fold_sizes(n, [1 - valid_fraction, valid_fraction])
    if sizes.min() == 0:
        raise ValueError(f"valid_fraction={valid_fraction} leaves an empty train or validation "
                         f"split out of the {n} training rows of {name}")


def _copy_x(x):
    if isinstance(x, list):
        return list(x)
    return x.copy()


def _copy(ds: MultiLabelDataset, split: str) -> MultiLabelDataset:
    return MultiLabelDataset(x=_copy_x(ds.x), y=ds.y.copy(), label_names=list(ds.label_names),
                             kind=ds.kind,
                             feature_names=None if ds.feature_names is None
                             else list(ds.feature_names),
                             name=ds.name, split=split, info=copy.deepcopy(ds.info))


def _subset(ds: MultiLabelDataset, idx: np.ndarray, split: str) -> MultiLabelDataset:
    return ds.subset(idx, split=split)


def _positives(y):
    """``y > 0`` as CSR (sparse input) or a bool array (dense input)."""
    if sp.issparse(y):
        m = sp.csr_matrix(y, copy=True)
        m.data = m.data > 0
        m.eliminate_zeros()
        m.sort_indices()
        return m
    return np.asarray(y) > 0


def _label_stats(ys: list, num_labels: int, extended: bool = False) -> dict:
    pos = [_positives(y) for y in ys]
    n = sum(p.shape[0] for p in pos)
    per_row = np.concatenate([np.asarray(p.sum(axis=1)).ravel() for p in pos]) if pos else \
        np.zeros(0)
    per_label = sum(np.asarray(p.sum(axis=0)).ravel() for p in pos)
    sets = set()
    for p in pos:
        if sp.issparse(p):
            ind, ptr = p.indices.astype(np.int64), p.indptr
            sets.update(ind[a:b].tobytes() for a, b in zip(ptr[:-1], ptr[1:]))
        else:
            sets.update(map(bytes, np.packbits(p, axis=1)))
    card = float(per_row.mean()) if n else 0.0
    out = {"cardinality": card, "density": card / num_labels if num_labels else 0.0,
           "distinct_label_sets": len(sets)}
    if extended:
        out["rows_without_labels"] = int((per_row == 0).sum())
        out["labels_without_positives"] = int((np.asarray(per_label) == 0).sum())
    return out


def _num_input_features(ds: MultiLabelDataset):
    attrs = ds.info.get("num_attributes")  # readers that encode nominal attributes say so
    if attrs is not None:
        return int(attrs)
    if ds.kind == "features":
        return int(ds.x.shape[1])
    if ds.kind == "image" and hasattr(ds.x, "shape"):
        return int(np.prod(ds.x.shape[1:]))
    return None


# ---------------------------------------------------------------------------------------------
# parsers: (record, {relpath: local path}) -> {"train": ds, "test": ds[, "valid": ds]}
# ---------------------------------------------------------------------------------------------
def _parse_mulan_split(rec, paths, split):
    from zoo.data.arff import read_mulan

    arff, xml = rec.files[split]
    return read_mulan(paths[arff.path], paths[xml.path], name=rec.name, split=split)


def _parse_reuters(rec, paths):
    from zoo.data.reuters import load_reuters

    train, test = load_reuters([paths[f.path] for f in rec.files["train"]])
    return {"train": train, "test": test}


def read_goemotions(tsv_path, labels_path, split: str | None = None) -> MultiLabelDataset:
    """Read one GoEmotions split: ``text<TAB>comma-separated label ids<TAB>comment id`` lines,
    label names one per line in ``labels.txt`` (Demszky et al., ACL 2020).

    Returns a ``kind="text"`` dataset, ``y`` dense int8 (n, 28), ``info["ids"]`` the comment
    ids. Raises ``DataFormatError`` (path, line, column) on a malformed line or an id outside
    ``labels.txt``.
    """
    from zoo.data.text import read_label_names, read_tsv

    # The files are written with CSV quoting (texts holding quotes are wrapped in quotes and
    # inner quotes doubled); read_tsv undoes it, as pandas does.
    ds = read_tsv(tsv_path, label_names=read_label_names(labels_path), id_column=2,
                  name="goemotions", split=split)
    return MultiLabelDataset(x=ds.x, y=ds.labels_dense(), label_names=ds.label_names,
                             kind="text", name="goemotions", split=split,
                             info={"ids": list(ds.info["ids"])})


def _parse_goemotions_split(rec, paths, split):
    tsv, labels = rec.files[split]
    return read_goemotions(paths[tsv.path], paths[labels.path], split)


def _parse_fashion_canvas_split(rec, paths, split):
    from zoo.data import fashion

    images, labels = _fashion_sources(rec, paths, split)
    n, seed = fashion.DEFAULT_SIZES[split], fashion.DEFAULT_SEEDS[split]
    return fashion.make_canvases(images, labels, n, seed, split=split)


def _fashion_sources(rec, paths, split):
    from zoo.data import fashion

    images_f, labels_f = rec.files[split]
    images = fashion.read_idx(paths[images_f.path])
    labels = fashion.read_idx(paths[labels_f.path])
    if images.ndim != 3 or labels.shape != (images.shape[0],):
        raise DataFormatError(f"expected (n, 28, 28) images and (n,) labels, got "
                              f"{images.shape} and {labels.shape}", path=paths[labels_f.path])
    return images, labels


@functools.lru_cache(maxsize=2)
def _fashion_carve(valid_fraction: float, seed: int, location: tuple):
    """Leak-free train/valid canvases: the train *source images* are split by class
    (iterative stratification on their one-hot labels), then each part is composed on its
    own, one canvas per source image. Canvases of the official train split (``train_full``)
    reuse source images across canvases, so carving canvases would put the same item images in
    train and valid."""
    from zoo.data import fashion

    rec = catalog.get("fashion-canvas")
    paths = download.fetch_records(rec.files["train"], cache_dir=location[1])
    images, labels = _fashion_sources(rec, paths, "train")
    onehot = np.eye(len(fashion.FASHION_CLASSES), dtype=np.int8)[labels]
    tr, va = iterative_stratification(onehot, [1.0 - valid_fraction, valid_fraction], seed)
    base = fashion.DEFAULT_SEEDS["train"]
    out = []
    for split, idx, canvas_seed in (("train", tr, base), ("valid", va, base + 2)):
        ds = fashion.make_canvases(images[idx], labels[idx], int(idx.size), canvas_seed,
                                   split=split)
        ds.name = "fashion-canvas"
        ds.info["source_images"] = idx  # indices into the 60000 Fashion-MNIST train images
        share = "the rest" if split == "train" else f"a {valid_fraction:g} share"
        ds.info["split_protocol"] = (
            f"{split}: one canvas per image of {share} of the Fashion-MNIST train images "
            f"({idx.size} images, class-stratified by iterative stratification, seed {seed}), "
            f"canvas seed {canvas_seed}; train and valid use disjoint source images, so "
            "train + valid != train_full for this dataset")
        ds.info.setdefault("citation", rec.citation)
        ds.info.setdefault("license", rec.license)
        out.append(ds)
    return tuple(out)


def _parse_corel_images(rec, paths):
    from zoo.data import corel_images

    return corel_images.parse(rec, paths)


def _fetcher(rec):
    """How the files of ``rec`` are fetched: thousands of small photos go through
    :func:`zoo.data.corel_images.fetch` (threaded downloads, one clear error naming the
    missing files and ``$ZOO_DATA_DIR``); everything else through ``download.fetch_records``."""
    if rec.loader == "corel5k-images":
        from zoo.data import corel_images
        return corel_images.fetch
    return download.fetch_records


# Loaders whose official splits live in separate files: (record, paths, split) -> dataset.
_SPLIT_PARSERS = {"mulan": _parse_mulan_split, "goemotions": _parse_goemotions_split,
                  "fashion-canvas": _parse_fashion_canvas_split}
# Loaders whose files hold every split at once: (record, paths) -> {split: dataset}.
_PARSERS = {"reuters": _parse_reuters, "corel5k-images": _parse_corel_images}
# Why such a loader needs all its files, for the "file missing" error.
_WHOLE_REASONS = {"reuters": "ModApte's train/test assignment (LEWISSPLIT) is an attribute of "
                             "each document inside the 22 SGML files, so a split is only known "
                             "after reading all of them",
                 "corel5k-images": "the split lists and tag matrices are shared annotation "
                                   "files, and the photos are fetched as one set"}
