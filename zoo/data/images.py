"""Reader for users' own multi-label image data: a folder of image files plus a CSV of labels.

Layout::

    photos/
      labels.csv          path,cat,dog,person       (binary label columns)
      img/001.png         img/001.png,1,0,1
      img/002.jpg         img/002.jpg,0,1,0

or, with one label-list column (``label_column="labels"``, names joined by ``"|"``)::

    filename,labels
    001.png,cat|person

:func:`read_image_folder` reads the CSV with the same rules as :func:`zoo.data.tabular.read_csv`
(header, quoting, binary cells ``1``/``0``/empty or ``?`` for unknown, ``label_names``) and
returns a ``kind="image"`` :class:`~zoo.data.dataset.MultiLabelDataset` whose ``x`` is the
list of absolute image paths (decoding is left to the input pipeline or to
:func:`load_images`). Paths in the CSV are relative to ``root`` (absolute paths are kept).
Every listed file must exist and have a supported extension (PNG, JPEG, BMP, GIF: the
formats ``tf.io.decode_image`` reads); otherwise a :class:`zoo.errors.DataFormatError` names
the CSV lines.

Example::

    >>> ds = read_image_folder("photos")   # labels.csv: path + labels  # doctest: +SKIP
    >>> ds.x[0], ds.label_names                                          # doctest: +SKIP
    ('/home/me/photos/img/001.png', ['cat', 'dog', 'person'])
    >>> pixels = load_images(ds.x[:32], size=(224, 224))  # uint8        # doctest: +SKIP

Training and evaluation read images through :func:`image_dataset`, a ``tf.data`` pipeline
(decode, resize, random resized crop + flip when training, cache, prefetch);
:func:`decode_images` gives the same evaluation-time pixels as a NumPy array.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Sequence

import numpy as np

from zoo.data.dataset import MultiLabelDataset
from zoo.data.tabular import (_decode_file, _label_warnings, _parse_delimited, _read_labels,
                              _short, _show_names)
from zoo.errors import DataFormatError

__all__ = ["read_image_folder", "load_images", "image_dataset", "decode_images", "check_images",
           "IMAGE_EXTENSIONS", "DEFAULT_CROP_SCALE", "DEFAULT_CROP_RATIO"]

#: File extensions read_image_folder accepts (compared case-insensitively).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")

_PATH_COLUMNS = ("path", "filename")
_SHOW_MISSING = 5


def read_image_folder(root, labels_csv="labels.csv", path_column=None, label_columns=None,
                      label_column=None, label_names=None, label_separator: str = "|",
                      delimiter: str = ",", encoding: str = "utf-8", name: str | None = None,
                      split: str | None = None) -> MultiLabelDataset:
    """Read an image folder and its CSV of labels.

    Args:
        root: the folder the image paths are relative to.
        labels_csv: the CSV file; a relative path is taken relative to ``root``.
        path_column: the column of image paths; default ``"path"``, else ``"filename"``.
        label_columns: binary label columns (list or glob pattern, as in ``read_csv``).
            Default, when ``label_column`` is not given either: every column except the path
            column.
        label_column: a label-list column (names joined by ``label_separator``).
        label_names: fixes the set and order of labels.
        label_separator, delimiter, encoding: as in :func:`zoo.data.tabular.read_csv`.
        name, split: stored on the dataset.

    Returns:
        ``MultiLabelDataset(kind="image")`` with ``x`` the absolute file paths (``str``),
        ``y`` int8 (n, L); ``info["lines"]`` the CSV line of each row, ``info["warnings"]``.

    Raises:
        DataFormatError: a CSV problem, an unsupported extension, or missing files (the
            first few with their CSV lines, and how many in all).
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"image folder {str(root)!r} does not exist or is not a folder")
    csv_path = Path(labels_csv)
    if not csv_path.is_absolute():
        csv_path = root / csv_path
    table = _parse_delimited(csv_path, _decode_file(csv_path, encoding), delimiter, header=True)
    if path_column is None:
        found = [c for c in _PATH_COLUMNS if c in table.header]
        if not found:
            raise DataFormatError(f"no image path column: expected a column named 'path' or "
                                  f"'filename' (or pass path_column=); the header has "
                                  f"{_show_names(table.header)}",
                                  path=csv_path, line=table.header_line)
        path_column = found[0]
    pj = table.column_index(path_column, "path_column")
    if label_columns is None and label_column is None:
        label_columns = [h for j, h in enumerate(table.header) if j != pj]
        if not label_columns:
            raise DataFormatError("the CSV has no label columns besides the path column",
                                  path=csv_path, line=table.header_line)
    y, names, lcols, layout = _read_labels(table, label_columns, label_column, label_names,
                                           label_separator)
    if pj in lcols:
        raise ValueError(f"path column {table.header[pj]!r} is also a label column")

    base = os.path.abspath(root)
    paths, missing = [], []
    for row, line in zip(table.rows, table.lines):
        cell = row[pj]
        if not cell.strip():
            raise DataFormatError("empty image path", path=csv_path, line=line, column=pj + 1)
        if os.path.splitext(cell)[1].lower() not in IMAGE_EXTENSIONS:
            raise DataFormatError(f"{_short(cell)} does not have an image extension "
                                  f"({', '.join(IMAGE_EXTENSIONS)})",
                                  path=csv_path, line=line, column=pj + 1)
        full = os.path.normpath(os.path.join(base, cell))
        if not os.path.isfile(full):
            missing.append((line, full))
        paths.append(full)
    if missing:
        shown = "; ".join(f"line {ln}: {p}" for ln, p in missing[:_SHOW_MISSING])
        more = f" (and {len(missing) - _SHOW_MISSING} more)" if len(missing) > _SHOW_MISSING else ""
        raise DataFormatError(f"{len(missing)} of {len(paths)} image files do not exist: "
                              f"{shown}{more}", path=csv_path, line=missing[0][0],
                              column=pj + 1)
    info = {"format": "image-folder", "source": str(csv_path), "root": base, "layout": layout,
            "lines": table.lines}
    info.update(_label_warnings(y, names))
    dup = len(paths) - len(set(paths))
    if dup:
        info["warnings"].append(f"{dup} row(s) repeat an image path listed earlier")
    return MultiLabelDataset(x=paths, y=y, label_names=names, kind="image", name=name,
                             split=split, info=info)


def _tf_message(e) -> str:
    msg = getattr(e, "message", None) or str(e)
    msg = re.sub(r"\{\{[^}]*\}\}\s*", "", msg)
    return re.sub(r"\s*\[Op:\w+\]\s*$", "", msg).strip()


def _to_channels(img: np.ndarray, channels: int) -> np.ndarray:
    """Convert (h, w, c) uint8 with c in 1..4 to ``channels`` (alpha dropped, not composited;
    grey from RGB with the ITU-R BT.601 weights that ``tf.image.rgb_to_grayscale`` uses)."""
    c = img.shape[-1]
    if c == channels:
        return img
    if c in (2, 4):  # drop alpha
        img, c = img[..., :c - 1], c - 1
    if channels == 1:
        if c == 3:
            grey = img.astype(np.float32) @ np.array([0.2989, 0.5870, 0.1140], np.float32)
            img = np.clip(np.round(grey), 0, 255).astype(np.uint8)[..., None]
        return img
    if c == 1:
        img = np.repeat(img, 3, axis=-1)
    if channels == 4:
        img = np.concatenate([img, np.full(img.shape[:-1] + (1,), 255, np.uint8)], axis=-1)
    return img


def load_images(paths: Sequence, size=None, channels: int | None = 3) -> np.ndarray:
    """Decode image files into one uint8 array (n, h, w, c) with ``tf.io.decode_image``.

    Args:
        paths: image file paths (e.g. ``dataset.x`` of :func:`read_image_folder`).
        size: ``None`` (all images must have the same height and width), an int or
            ``(height, width)``: every image is resized to it (bilinear with antialiasing,
            aspect ratio not kept), then rounded to uint8.
        channels: 1 (grey), 3 (RGB, default) or 4 (RGBA); alpha is dropped, not composited,
            and grey is replicated. ``None`` keeps the files' channels (they must agree).
            GIF animations give their first frame.

    Raises:
        DataFormatError: a file that cannot be read or decoded (named), or images of
            different sizes when ``size=None``.

    Example::

        >>> load_images(["a.png", "b.jpg"], size=64).shape     # doctest: +SKIP
        (2, 64, 64, 3)
    """
    import tensorflow as tf

    if channels not in (None, 1, 3, 4):
        raise ValueError(f"channels must be 1, 3, 4 or None, got {channels!r}")
    if size is not None:
        size = (int(size), int(size)) if np.ndim(size) == 0 else tuple(int(s) for s in size)
        if len(size) != 2 or min(size) < 1:
            raise ValueError(f"size must be a positive int or (height, width), got {size!r}")
    paths = [str(p) for p in paths]
    out = None
    for i, p in enumerate(paths):
        try:
            with open(p, "rb") as f:
                data = f.read()
        except OSError as e:
            raise DataFormatError(f"cannot read image file: {e.strerror}", path=p) from None
        try:
            img = tf.io.decode_image(data, channels=0, expand_animations=False)
            if size is not None and tuple(img.shape[:2]) != size:
                img = tf.image.resize(img, size, method="bilinear", antialias=True)
                img = tf.cast(tf.clip_by_value(tf.round(img), 0, 255), tf.uint8)
            img = img.numpy()
        except (tf.errors.OpError, ValueError) as e:
            raise DataFormatError(f"cannot decode image: {_tf_message(e)}", path=p) from None
        if channels is not None:
            img = _to_channels(img, channels)
        if out is None:
            out = np.empty((len(paths),) + img.shape, np.uint8)
        elif img.shape != out.shape[1:]:
            hint = "pass size=(height, width)" if img.shape[:2] != out.shape[1:3] else \
                "pass channels=1, 3 or 4"
            raise DataFormatError(f"image is {img.shape[0]}x{img.shape[1]} with {img.shape[2]} "
                                  f"channel(s), but {paths[0]} is {out.shape[1]}x{out.shape[2]} "
                                  f"with {out.shape[3]}; {hint}", path=p)
        out[i] = img
    if out is None:
        h, w = size if size is not None else (0, 0)
        return np.empty((0, h, w, channels or 3), np.uint8)
    return out


# ---------------------------------------------------------------------------------------------
# tf.data image pipeline
# ---------------------------------------------------------------------------------------------
#: Random resized crop: share of the image area kept, and aspect-ratio range of the crop.
#: The area range starts at 0.3, not ImageNet's 0.08: in multi-label images a small crop often
#: cuts every instance of a tagged object out while its label stays on (label noise).
DEFAULT_CROP_SCALE = (0.3, 1.0)
DEFAULT_CROP_RATIO = (3 / 4, 4 / 3)
# Leading bytes of the formats tf.io.decode_image reads.
_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"BM")


def _size2(image_size) -> tuple:
    size = (int(image_size), int(image_size)) if np.ndim(image_size) == 0 else \
        tuple(int(s) for s in image_size)
    if len(size) != 2 or min(size) < 1:
        raise ValueError(f"image_size must be a positive int or (height, width), got "
                         f"{image_size!r}")
    return size


def _check_paths(paths: list) -> None:
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        shown = ", ".join(missing[:_SHOW_MISSING])
        more = f" (and {len(missing) - _SHOW_MISSING} more)" if len(missing) > _SHOW_MISSING \
            else ""
        raise DataFormatError(f"{len(missing)} of {len(paths)} image files do not exist: "
                              f"{shown}{more}", path=missing[0])


def _graph_fns(image_size, channels: int, crop_scale, crop_ratio):
    """The per-image graph functions shared by image_dataset and decode_images."""
    import tensorflow as tf

    h, w = image_size
    cache_side = max(h, w)

    def read(path):
        data = tf.io.read_file(path)
        head = tf.strings.substr(data, 0, 4)
        ok = tf.reduce_any([tf.strings.substr(head, 0, len(m)) == m for m in _MAGIC])
        with tf.control_dependencies([tf.debugging.Assert(
                ok, ["not a JPEG, PNG, GIF or BMP image file:", path], summarize=1)]):
            img = tf.io.decode_image(data, channels=channels, expand_animations=False)
        img.set_shape([None, None, channels])
        return shrink(img)

    def shrink(img):
        """uint8 image made no larger than needed: shorter side <= max(image_size) (aspect
        kept, antialiased); smaller images are left as they are. Bounds the cache's memory."""
        shape = tf.shape(img)
        ih, iw = tf.cast(shape[0], tf.float32), tf.cast(shape[1], tf.float32)
        f = tf.minimum(1.0, cache_side / tf.minimum(ih, iw))
        nh = tf.maximum(1, tf.cast(tf.round(ih * f), tf.int32))
        nw = tf.maximum(1, tf.cast(tf.round(iw * f), tf.int32))

        def down():
            r = tf.image.resize(img, tf.stack([nh, nw]), method="bilinear", antialias=True)
            return tf.cast(tf.clip_by_value(tf.round(r), 0.0, 255.0), tf.uint8)

        return tf.cond(f < 1.0, down, lambda: tf.cast(img, tf.uint8))

    def to_channels(img):
        c = img.shape[-1]
        if c == channels:
            return img
        if c == 1 and channels == 3:
            return tf.image.grayscale_to_rgb(img)
        if c == 3 and channels == 1:
            return tf.cast(tf.round(tf.image.rgb_to_grayscale(tf.cast(img, tf.float32))),
                           img.dtype)
        raise ValueError(f"cannot convert {c}-channel image arrays to {channels} channels")

    def evaluate(img):
        """Deterministic: resize the whole image to image_size (aspect not kept)."""
        r = tf.image.resize(tf.cast(img, tf.float32), (h, w), method="bilinear",
                            antialias=True)
        return tf.clip_by_value(r, 0.0, 255.0)

    def augment(img, seed):
        """Random resized crop (stateless, from ``seed``) then a random horizontal flip."""
        shape = tf.shape(img)
        begin, size, _ = tf.image.stateless_sample_distorted_bounding_box(
            shape, bounding_boxes=tf.zeros([1, 0, 4]), seed=seed,
            area_range=crop_scale, aspect_ratio_range=crop_ratio, max_attempts=10,
            use_image_if_no_bounding_boxes=True, min_object_covered=0.0)
        crop = tf.slice(img, begin, size)
        out = tf.image.resize(tf.cast(crop, tf.float32), (h, w), method="bilinear",
                              antialias=True)
        out = tf.image.stateless_random_flip_left_right(out, seed=seed[::-1])
        return tf.clip_by_value(out, 0.0, 255.0)

    return read, to_channels, evaluate, augment


def image_dataset(images, labels=None, image_size=(224, 224), training: bool = False,
                  batch_size: int = 32, augment: bool = True, cache=True,
                  shuffle: bool | None = None, seed: int | None = None, channels: int = 3,
                  crop_scale=DEFAULT_CROP_SCALE, crop_ratio=DEFAULT_CROP_RATIO,
                  drop_remainder: bool = False):
    """A ``tf.data.Dataset`` of ``(images, labels)`` batches for training or evaluation.

    Per image: read and decode (JPEG, PNG, GIF first frame, BMP) or take the array row, then
    shrink images larger than needed (shorter side <= ``max(image_size)``, aspect kept) —
    this is what the cache holds. Evaluation (``training=False`` or ``augment=False``):
    bilinear antialiased resize of the whole image to ``image_size``, no randomness at all, so
    the same image always gives the same pixels (equal to :func:`decode_images`). Training
    with ``augment``: a random resized crop (area share in ``crop_scale``, aspect ratio in
    ``crop_ratio``, Szegedy et al. 2015 "Going deeper with convolutions") resized to
    ``image_size``, then a random horizontal flip; both are stateless ops seeded from
    ``tf.data.Dataset.random(seed)``, drawn anew each epoch, all inside the graph. Decoding
    and augmentation run in parallel (``num_parallel_calls=AUTOTUNE``, order kept) and
    batches are prefetched.

    Args:
        images: a list of image file paths, an array (n, h, w, c) (uint8 or 0..255 floats),
            or a ``kind="image"`` :class:`MultiLabelDataset` (its ``x``, and its labels unless
            ``labels`` is given).
        labels: (n, L) label matrix (1, 0 and -1 unknown kept), or ``None`` for images only.
        image_size: output ``(height, width)`` (or an int).
        training: shuffle (unless ``shuffle=False``) and augment (unless ``augment=False``).
        batch_size: batch size; ``drop_remainder`` drops a last partial batch.
        augment: random resized crop + flip when ``training``.
        cache: ``True`` keeps the decoded (shrunk) images in memory after the first pass, so
            later epochs do not read or decode files again (Corel5k train: ~0.3 GB); a
            string caches to that file prefix (``tf.data.Dataset.cache(filename)``);
            ``False`` decodes every epoch. Image arrays are already in memory: never cached.
        shuffle: shuffle the images each epoch (default: ``training``).
        seed: seed of the shuffle and the augmentation (``None``: nondeterministic).
        channels: 3 (RGB; grey images are replicated) or 1 (grey).

    Returns:
        ``tf.data.Dataset`` of ``(x, y)`` — ``x`` float32 (b, h, w, channels) with values in
        [0, 255] (models rescale), ``y`` float32 (b, L) — or of ``x`` alone without labels.

    Raises:
        DataFormatError: missing image files (named, before anything is built); while
            iterating, a file that is not a JPEG/PNG/GIF/BMP raises ``InvalidArgumentError``
            whose message names the file. A corrupt file with a valid header fails in
            TensorFlow's decoder; :func:`check_images` names it.

    Example::

        >>> from zoo.data import benchmarks
        >>> train = benchmarks.load("corel5k-images", "train")            # doctest: +SKIP
        >>> ds = image_dataset(train.x, train.labels_dense(), training=True, seed=0)  # doctest: +SKIP
        >>> x, y = next(iter(ds)); x.shape, y.shape                        # doctest: +SKIP
        (TensorShape([32, 224, 224, 3]), TensorShape([32, 260]))
    """
    import tensorflow as tf

    if isinstance(images, MultiLabelDataset):
        if images.kind != "image":
            raise ValueError(f"image_dataset needs an image dataset, got kind {images.kind!r}")
        labels = images.labels_dense() if labels is None else labels
        images = images.x
    size = _size2(image_size)
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    read, to_channels, evaluate, rand = _graph_fns(size, channels, tuple(crop_scale),
                                                   tuple(crop_ratio))
    auto = tf.data.AUTOTUNE
    do_shuffle = training if shuffle is None else shuffle
    from_files = not (isinstance(images, np.ndarray) and images.ndim == 4)
    if not from_files:
        n = images.shape[0]
        if images.shape[-1] not in (1, 3):
            raise DataFormatError(f"image array has {images.shape[-1]} channels; expected 1 "
                                  "or 3")
        arr = images if images.dtype == np.uint8 else np.clip(images, 0, 255).astype(np.float32)
        x = tf.data.Dataset.from_tensor_slices(arr)
    else:
        if isinstance(images, np.ndarray) and images.ndim != 1:
            raise DataFormatError(f"image array has shape {images.shape}, expected (n, h, w, c)"
                                  " or a list of file paths")
        paths = [os.fspath(p) for p in images]
        _check_paths(paths)
        n = len(paths)
        x = tf.data.Dataset.from_tensor_slices(tf.constant(paths, tf.string)) if n else \
            tf.data.Dataset.from_tensor_slices(tf.zeros([0], tf.string))
    if labels is not None:
        y = labels.toarray() if hasattr(labels, "toarray") else np.asarray(labels)
        if y.ndim != 2 or y.shape[0] != n:
            raise DataFormatError(f"labels have shape {y.shape}, expected ({n}, L): one row "
                                  "per image")
        ds = tf.data.Dataset.zip((x, tf.data.Dataset.from_tensor_slices(
            y.astype(np.float32))))
    else:
        ds = x.map(lambda img: (img,))
    buffer = max(1, min(n, 10_000))
    # Without a cache, shuffle the (cheap) paths before decoding, so the shuffle buffer holds
    # no pixels; with it, shuffle the cached images (the buffer shares their memory).
    if do_shuffle and not (from_files and cache):
        ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    first = read if from_files else to_channels
    ds = ds.map(lambda *el: (first(el[0]),) + tuple(el[1:]), num_parallel_calls=auto,
                deterministic=True)
    if from_files and cache:
        ds = ds.cache("" if cache is True else os.fspath(cache))
        if do_shuffle:
            ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    if training and augment:
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        ds = tf.data.Dataset.zip((ds, seeds)).map(
            lambda el, s: (rand(el[0], s),) + tuple(el[1:]), num_parallel_calls=auto)
    else:
        ds = ds.map(lambda *el: (evaluate(el[0]),) + tuple(el[1:]), num_parallel_calls=auto)
    if labels is None:
        ds = ds.map(lambda img: img)
    return ds.batch(int(batch_size), drop_remainder=drop_remainder,
                    num_parallel_calls=auto).prefetch(auto)


def check_images(paths: Sequence) -> None:
    """Decode every file once in Python and raise ``DataFormatError`` naming the first one that
    is missing, unreadable or cannot be decoded (what ``tf.data`` cannot report by name)."""
    import tensorflow as tf

    for p in (os.fspath(p) for p in paths):
        try:
            with open(p, "rb") as f:
                data = f.read()
        except OSError as e:
            raise DataFormatError(f"cannot read image file: {e.strerror}", path=p) from None
        if not data.startswith(_MAGIC):
            raise DataFormatError("not a JPEG, PNG, GIF or BMP image file (unknown leading "
                                  f"bytes {data[:4]!r})", path=p)
        try:
            tf.io.decode_image(data, expand_animations=False)
        except (tf.errors.OpError, ValueError) as e:
            raise DataFormatError(f"cannot decode image: {_tf_message(e)}", path=p) from None


def decode_images(paths: Sequence, image_size=(224, 224), channels: int = 3) -> np.ndarray:
    """Evaluation-time pixels of a few image files: float32 (n, h, w, channels) in [0, 255].

    Exactly what :func:`image_dataset` yields with ``training=False`` (same decode, shrink and
    resize graph), for inference on a handful of paths. A file that is missing or cannot be
    decoded raises ``DataFormatError`` naming it.

    Example::

        >>> decode_images(["beach.jpg"], (224, 224)).shape      # doctest: +SKIP
        (1, 224, 224, 3)
    """
    import tensorflow as tf

    size = _size2(image_size)
    read, _, evaluate, _ = _graph_fns(size, channels, DEFAULT_CROP_SCALE, DEFAULT_CROP_RATIO)
    paths = [os.fspath(p) for p in paths]
    out = np.empty((len(paths),) + size + (channels,), np.float32)
    fn = tf.function(lambda p: evaluate(read(p)))
    for i, p in enumerate(paths):
        try:
            out[i] = fn(tf.constant(p)).numpy()
        except (tf.errors.OpError, ValueError):
            check_images([p])  # names the file and says what is wrong
            raise
    return out
