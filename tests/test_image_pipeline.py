"""zoo.data.images: the tf.data image pipeline, decode_images, and image folders + CSV."""
import os

import numpy as np
import pytest
import tensorflow as tf

from zoo.data.dataset import MultiLabelDataset
from zoo.data.images import (check_images, decode_images, image_dataset, load_images,
                             read_image_folder)
from zoo.errors import DataFormatError


def _write(path, arr):
    path.parent.mkdir(parents=True, exist_ok=True)
    enc = tf.io.encode_png if path.suffix == ".png" else tf.io.encode_jpeg
    path.write_bytes(enc(tf.constant(arr)).numpy())


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """6 generated images of different sizes (PNG and JPEG, one grey) + labels.csv."""
    root = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    specs = [("img/a.png", (40, 60, 3)), ("img/b.png", (50, 30, 3)), ("img/c.jpg", (64, 64, 3)),
             ("img/d.png", (33, 47, 1)), ("e.jpg", (80, 120, 3)), ("img/f.png", (20, 20, 3))]
    labels = ["cat|dog", "dog", "", "cat|person", "person", "cat"]
    lines = ["path,labels"]
    for (rel, shape), lab in zip(specs, labels):
        # smooth gradients + noise: a crop or a flip visibly changes the pixels
        yy, xx = np.mgrid[:shape[0], :shape[1]]
        base = (yy * 3 + xx * 5)[..., None] % 256
        img = np.clip(base + rng.integers(0, 40, shape), 0, 255).astype(np.uint8)
        _write(root / rel, img)
        lines.append(f"{rel},{lab}")
    (root / "labels.csv").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="module")
def data(folder):
    return read_image_folder(folder, label_column="labels", label_names=["cat", "dog",
                                                                         "person"])


def test_image_folder_gives_paths_like_the_named_datasets(data, folder):
    assert isinstance(data, MultiLabelDataset) and data.kind == "image"
    assert isinstance(data.x, list) and len(data.x) == 6
    assert all(isinstance(p, str) and os.path.isabs(p) and os.path.isfile(p) for p in data.x)
    assert data.x[4] == os.path.join(os.path.abspath(folder), "e.jpg")
    assert data.labels_dense().tolist() == [[1, 1, 0], [0, 1, 0], [0, 0, 0], [1, 0, 1],
                                           [0, 0, 1], [1, 0, 0]]
    sub = data.subset([1, 3])
    assert sub.x == [data.x[1], data.x[3]] and sub.kind == "image"


def test_shapes_dtype_range_and_labels(data):
    ds = image_dataset(data.x, data.labels_dense(), image_size=(32, 48), batch_size=4)
    batches = list(ds)
    assert [tuple(x.shape) for x, _ in batches] == [(4, 32, 48, 3), (2, 32, 48, 3)]
    x = np.concatenate([b[0].numpy() for b in batches])
    y = np.concatenate([b[1].numpy() for b in batches])
    assert x.dtype == np.float32 and 0.0 <= x.min() and x.max() <= 255.0 and x.max() > 100
    np.testing.assert_array_equal(y, data.labels_dense().astype(np.float32))
    x2, y2 = next(iter(image_dataset(data, image_size=(32, 48), batch_size=6)))  # a dataset
    np.testing.assert_array_equal(x2.numpy(), x)
    np.testing.assert_array_equal(y2.numpy(), y)
    # the grey PNG (d.png) becomes 3 equal channels
    np.testing.assert_array_equal(x[3, ..., 0], x[3, ..., 2])
    # images only, and a channels=1 variant
    (only,) = list(image_dataset(data.x[:2], None, image_size=16, batch_size=8))
    assert tuple(only.shape) == (2, 16, 16, 3)
    grey = next(iter(image_dataset(data.x, None, image_size=16, channels=1)))
    assert tuple(grey.shape) == (6, 16, 16, 1)


def test_unknown_labels_are_kept(data):
    y = data.labels_dense().copy()
    y[0, 2] = -1
    _, yb = next(iter(image_dataset(data.x, y, image_size=8, batch_size=6)))
    assert yb.numpy()[0, 2] == -1.0


def test_evaluation_is_deterministic_and_equals_decode_images(data):
    def run(**kw):
        return np.concatenate([x.numpy() for x, _ in image_dataset(
            data.x, data.labels_dense(), image_size=(40, 40), batch_size=4, **kw)])

    a = run()
    np.testing.assert_array_equal(a, run())
    np.testing.assert_array_equal(a, run(cache=False))
    # augment=False while training: shuffled, but each image is the plain resize
    b = run(training=True, augment=False, seed=3)
    for row in b:
        assert any(np.array_equal(row, r) for r in a)
    np.testing.assert_array_equal(decode_images(data.x, (40, 40)), a)
    # the eval resize is the whole image, squashed: the JPEG e.jpg (80x120) at its own size
    # is just its decoded pixels
    full = decode_images([data.x[4]], (80, 120))[0]
    np.testing.assert_array_equal(full, load_images([data.x[4]])[0].astype(np.float32))


def test_training_augmentation_varies_and_is_seeded(data):
    ds = image_dataset(data.x, data.labels_dense(), image_size=(32, 32), training=True,
                       shuffle=False, batch_size=6, seed=7)
    e1, e2 = (next(iter(ds))[0].numpy() for _ in range(2))
    assert np.abs(e1 - e2).mean() > 1.0  # new crops / flips each epoch
    ev = next(iter(image_dataset(data.x, None, image_size=(32, 32), batch_size=6))).numpy()
    assert np.abs(e1 - ev).mean() > 1.0
    again = image_dataset(data.x, data.labels_dense(), image_size=(32, 32), training=True,
                          shuffle=False, batch_size=6, seed=7)
    np.testing.assert_array_equal(next(iter(again))[0].numpy(), e1)
    assert e1.min() >= 0.0 and e1.max() <= 255.0


def test_flip_only_augmentation_is_a_mirror_image(data):
    """crop_scale=(1, 1) and ratio = the image's own keep the whole image: every training
    sample is the eval image or its mirror, and both occur."""
    p = [data.x[2]] * 16  # 64x64 JPEG
    tr = next(iter(image_dataset(p, None, image_size=64, training=True, batch_size=16,
                                 seed=0, crop_scale=(1.0, 1.0), crop_ratio=(1.0, 1.0))))
    ev = decode_images([data.x[2]], 64)[0]
    kinds = set()
    for img in tr.numpy():
        if np.allclose(img, ev, atol=1e-3):
            kinds.add("same")
        elif np.allclose(img, ev[:, ::-1], atol=1e-3):
            kinds.add("flipped")
        else:
            raise AssertionError("a sample is neither the image nor its mirror")
    assert kinds == {"same", "flipped"}


def test_cache_decodes_each_file_once(data, tmp_path):
    """With the cache, a second epoch reads nothing: deleting the files after epoch 1 does
    not matter. Without it, epoch 2 fails on the missing file."""
    import shutil
    copies = []
    for i, p in enumerate(data.x):
        q = tmp_path / f"{i}{p[p.rfind('.'):]}"
        shutil.copy(p, q)
        copies.append(str(q))
    cached = image_dataset(copies, None, image_size=16, batch_size=6)
    uncached = image_dataset(copies, None, image_size=16, batch_size=6, cache=False)
    first = next(iter(cached)).numpy()
    next(iter(uncached))
    for q in copies:
        (tmp_path / q.rsplit("/", 1)[1]).unlink()
    np.testing.assert_array_equal(next(iter(cached)).numpy(), first)
    with pytest.raises(tf.errors.NotFoundError):
        next(iter(uncached))


def test_arrays_are_accepted(data):
    arr = np.stack([load_images([p], size=(20, 20))[0] for p in data.x])
    x, y = next(iter(image_dataset(arr, data.labels_dense(), image_size=20, batch_size=6)))
    np.testing.assert_allclose(x.numpy(), arr.astype(np.float32))
    grey = arr[..., :1]
    x = next(iter(image_dataset(grey, None, image_size=10, batch_size=6, training=True,
                                seed=0)))
    assert tuple(x.shape) == (6, 10, 10, 3)


def test_missing_and_bad_files_are_named(data, tmp_path):
    with pytest.raises(DataFormatError, match="1 of 2 image files do not exist.*nope.png"):
        image_dataset([data.x[0], str(tmp_path / "nope.png")], None)
    bad = tmp_path / "notes.png"
    bad.write_text("this is not an image")
    ds = image_dataset([data.x[0], str(bad)], None, image_size=8, batch_size=2)
    with pytest.raises(tf.errors.InvalidArgumentError, match="notes.png"):
        next(iter(ds))
    with pytest.raises(DataFormatError, match="notes.png.*not a JPEG"):
        decode_images([str(bad)], 8)
    trunc = tmp_path / "trunc.jpg"
    trunc.write_bytes(open(data.x[4], "rb").read()[:40])
    with pytest.raises(DataFormatError, match="trunc.jpg"):
        check_images([data.x[0], str(trunc)])
    with pytest.raises(DataFormatError, match="trunc.jpg"):
        decode_images([str(trunc)], 8)


def test_bad_arguments():
    with pytest.raises(ValueError, match="image_size"):
        image_dataset([], None, image_size=(0, 3))
    with pytest.raises(ValueError, match="batch_size"):
        image_dataset([], None, batch_size=0)
    with pytest.raises(DataFormatError, match="labels have shape"):
        image_dataset(np.zeros((3, 8, 8, 3), np.uint8), np.zeros((2, 4)))


@pytest.mark.parametrize("cache", [True, False])
def test_training_shuffles_each_epoch(data, cache):
    ids = np.arange(6, dtype=np.float32)[:, None]  # the row index as the "label"
    # seed 3 happens to give the identity order first for 6 elements (TF's shuffle); 1 does not
    ds = image_dataset(data.x, ids, image_size=8, training=True, augment=False, seed=1,
                       batch_size=6, cache=cache)
    orders = [tuple(next(iter(ds))[1].numpy().ravel().astype(int)) for _ in range(3)]
    assert all(sorted(o) == list(range(6)) for o in orders)
    assert len(set(orders)) > 1 and orders[0] != tuple(range(6))
    # images still ride with their labels: image i is decode_images(x[i])
    x, y = next(iter(ds))
    ev = decode_images(data.x, 8)
    for img, i in zip(x.numpy(), y.numpy().ravel().astype(int)):
        np.testing.assert_array_equal(img, ev[i])
