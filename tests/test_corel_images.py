"""corel5k-images: manifest, catalog entry, loading, splits, missing files, downloads."""
import csv
import functools
import http.server
import os
import threading

import numpy as np
import pytest

from zoo.data import benchmarks, catalog, corel_images, download
from zoo.data.download import DownloadError

NAME = "corel5k-images"


def _sums(mirror):
    out = {}
    for line in (mirror / "SHA256SUMS").read_text().splitlines():
        digest, path = line.split(None, 1)
        path = path.strip().removeprefix("./")
        if path.startswith(NAME + "/"):
            out[path] = digest
    return out


def test_manifest_matches_the_mirror_and_the_catalog(mirror, tmp_path):
    sums = _sums(mirror)
    manifest = {corel_images.PREFIX + rel: sha for _, sha, rel in corel_images.read_manifest()}
    assert manifest == sums and len(sums) == 5007
    assert all(catalog.SHA256[p] == h for p, h in sums.items())
    # regenerating from the mirror gives the shipped file byte for byte
    again = corel_images.write_manifest(mirror, tmp_path / "m.txt")
    assert again.read_bytes() == corel_images.MANIFEST_PATH.read_bytes()
    roles = [r for r, _, _ in corel_images.read_manifest()]
    assert {r: roles.count(r) for r in set(roles)} == {
        "train": 4500, "test": 499, "meta": 5, "unlisted": 1, "derived": 2}


def test_catalog_record():
    rec = catalog.get(NAME)
    assert rec.kind == "image" and rec.num_labels == 260 and not rec.has_official_valid
    assert rec.split_sizes == {"train": 4500, "test": 499}
    assert len(rec.files["train"]) == 4503 and len(rec.files["test"]) == 502
    base = ("https://raw.githubusercontent.com/TonyZZX/MultiGraph_MultiLabel_Learning/"
            "5d6bf599ccf72a7c7e96ccd1696602c4d074ce0a/Corel5k/")
    by_path = {f.path: f for f in rec.all_files()}
    assert by_path["corel5k-images/1000/1001.jpeg"].url == base + "1000/1001.jpeg"
    assert by_path["corel5k-images/annotations/corel5k_words.txt"].url == \
        base + "corel5k_words.txt"
    assert by_path["corel5k-images/1000/1001.jpeg"].sha256 == \
        "5e589bd9ad3aa3bbbf71731c4331af48704ca7ec8e72d858aa4404671b9e344f"
    assert rec.extra["metric_groups"] == ("annotation",)
    # every mirror file is a dataset file, the one unlisted photo or a derived CSV
    other = {f.path for f in rec.extra["unlisted_files"]} | set(rec.extra["derived_files"])
    assert len(by_path) + len(other) == 5007


@pytest.fixture(scope="module")
def splits(mirror_env):
    benchmarks.clear_cache()
    return {s: benchmarks.load(NAME, s) for s in ("train", "valid", "test", "train_full")}


def _csv_labels(path, words):
    rows = list(csv.reader(open(path, newline="")))[1:]
    y = np.zeros((len(rows), len(words)), np.int8)
    col = {w: j for j, w in enumerate(words)}
    for i, (_, labels) in enumerate(rows):
        for w in labels.split():
            y[i, col[w]] = 1
    return [r[0] for r in rows], y


def test_loaded_splits_match_the_mirror_csvs(splits, mirror):
    words = (mirror / NAME / "annotations" / "corel5k_words.txt").read_text().split()
    for split, csv_name in (("train_full", "train.csv"), ("test", "test.csv")):
        ds = splits[split]
        assert ds.kind == "image" and ds.name == NAME and ds.label_names == words
        assert ds.y.dtype == np.int8
        rel, y = _csv_labels(mirror / NAME / csv_name, words)
        assert [os.path.relpath(p, mirror / NAME) for p in ds.x] == rel
        np.testing.assert_array_equal(ds.labels_dense(), y)
        assert all(os.path.isabs(p) and os.path.isfile(p) for p in ds.x[:50])
    assert len(splits["test"]) == 499 and len(splits["train_full"]) == 4500
    # every label has train and test positives; 7 train images have none
    assert (splits["train_full"].y.sum(0) > 0).all() and (splits["test"].y.sum(0) > 0).all()
    assert int((splits["train_full"].y.sum(1) == 0).sum()) == 7


def test_valid_is_carved_by_iterative_stratification(splits):
    tr, va, full = splits["train"], splits["valid"], splits["train_full"]
    assert (len(tr), len(va)) == (4050, 450)
    assert sorted(tr.x + va.x) == sorted(full.x) and not set(tr.x) & set(va.x)
    assert not set(va.x) & set(splits["test"].x)
    assert "iterative stratification" in va.info["split_protocol"]
    # stratified: a label with >= 10 train positives keeps about a tenth of them in valid
    pos = full.y.sum(0)
    share = va.y.sum(0)[pos >= 20] / pos[pos >= 20]
    assert np.abs(share - 0.1).max() < 0.06
    again = benchmarks.load(NAME, "valid", seed=0)
    assert again.x == va.x
    other = benchmarks.load(NAME, "valid", seed=1)
    assert other.x != va.x


def _partial_mirror(tmp_path, mirror, keep_images=3):
    root = tmp_path / "mirror"
    for rel in sorted(set(corel_images.META["train"]) | set(corel_images.META["test"])):
        (root / NAME / rel).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(mirror / NAME / rel, root / NAME / rel)
    kept = [rel for role, _, rel in corel_images.read_manifest() if role == "test"][:keep_images]
    for rel in kept:
        (root / NAME / rel).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(mirror / NAME / rel, root / NAME / rel)
    return root


def test_missing_files_name_the_path_and_the_mirror(tmp_path, mirror, monkeypatch):
    root = _partial_mirror(tmp_path, mirror)
    monkeypatch.setenv("ZOO_DATA_DIR", str(root))
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ZOO_DATA_URL_OVERRIDE", "http://127.0.0.1:9")  # nothing listens
    benchmarks.clear_cache()
    try:
        with pytest.raises(DownloadError) as e:
            benchmarks.load(NAME, "test")
    finally:
        benchmarks.clear_cache()
    msg = str(e.value)
    assert "4996 of 5004 files of corel5k-images" in msg
    assert f"ZOO_DATA_DIR={root}" in msg and "corel5k-images/1000/1000.jpeg" in msg
    assert not list((tmp_path / "cache").rglob("*.jpeg"))


@pytest.fixture()
def http_mirror(mirror):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(mirror))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_threaded_download_into_the_cache_is_verified(tmp_path, http_mirror, monkeypatch):
    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)
    recs = catalog.get(NAME).files["test"][:40]
    got = corel_images.fetch(recs, cache_dir=tmp_path, base_url=http_mirror)
    assert set(got) == {r.path for r in recs}
    for r in recs:
        assert got[r.path] == tmp_path / r.path
        assert download.sha256_file(got[r.path]) == r.sha256
    # a wrong hash in the record: the download is rejected and leaves nothing behind
    from dataclasses import replace
    from zoo.errors import ChecksumError
    bad = replace(catalog.get(NAME).files["test"][50], sha256="0" * 64)
    with pytest.raises(ChecksumError):
        corel_images.fetch([bad], cache_dir=tmp_path / "c2", base_url=http_mirror)
    assert not (tmp_path / "c2" / bad.path).exists()


def test_loading_decodes_nothing(mirror_env, monkeypatch):
    """The dataset object holds paths: building it never calls an image decoder."""
    import tensorflow as tf

    def boom(*a, **k):
        raise AssertionError("an image was decoded while loading the dataset")

    monkeypatch.setattr(tf.io, "decode_image", boom)
    monkeypatch.setattr(tf.io, "decode_jpeg", boom)
    benchmarks.clear_cache()
    ds = benchmarks.load(NAME, "test")
    assert len(ds) == 499 and ds.x[0].endswith("1000/1001.jpeg")
