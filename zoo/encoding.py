"""Frozen-encoder features, computed once and cached on disk.

Training an image head on a frozen ImageNet backbone is what 2 CPU cores can afford: the
backbone's feature maps of every training and validation image are computed once (optionally
also of each image's horizontal mirror, the augmentation that survives caching), stored under
the zoo's cache folder, and the head trains on them for as many epochs as it likes.

The images are decoded and resized by the same code as inference
(:meth:`zoo.kinds.ImageKind.batches`), so a cached feature is exactly what the saved model
computes for that file.

Cache key: the dataset rows (file paths and sizes, or array bytes), the image size, the
mirroring, and the SHA-256 of the encoder's weights; files are written to a temporary name and
renamed (an interrupted run leaves no half-written cache). ``$ZOO_CACHE_DIR`` moves the cache
(default ``~/.cache/zoo``); ``cache=False`` skips it.

    >>> from zoo.encoding import encode
    >>> feats = encode(model.get_layer("backbone"), train, image_size=(224, 224))  # doctest: +SKIP
    >>> feats.shape                                                                # doctest: +SKIP
    (4050, 7, 7, 1280)
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np


def cache_dir() -> Path:
    root = os.environ.get("ZOO_CACHE_DIR")
    return (Path(root) if root else Path.home() / ".cache" / "zoo") / "features"


def weights_digest(model) -> str:
    h = hashlib.sha256()
    for w in model.weights:  # values and shapes in order (not names: a renamed copy matches)
        a = np.ascontiguousarray(np.asarray(w))
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _rows_digest(x) -> str:
    h = hashlib.sha256()
    if isinstance(x, np.ndarray):
        h.update(str((x.shape, x.dtype)).encode())
        h.update(np.ascontiguousarray(x).tobytes())
    else:
        for p in x:
            p = os.fspath(p)
            try:
                st = os.stat(p)
                h.update(f"{p}\0{st.st_size}\n".encode())
            except OSError:
                h.update(f"{p}\0missing\n".encode())
    return h.hexdigest()


def encode(encoder, ds, image_size=None, *, mirror: bool = False, batch_size: int = 32,
           cache: bool = True, dtype="float16", verbose: bool = True) -> np.ndarray:
    """``encoder``'s outputs for every image of ``ds`` (``mirror``: of its mirror images).

    Returns an array ``(n, *encoder.output.shape[1:])`` in ``dtype`` (float16 halves the
    memory; the head casts back to float32).
    """
    from zoo import kinds
    spec = {"image_size": list(image_size)} if image_size else {}
    key = hashlib.sha256("|".join([
        _rows_digest(ds.x), str(spec), str(mirror), str(dtype), weights_digest(encoder),
    ]).encode()).hexdigest()[:24]
    path = cache_dir() / f"{ds.name or 'data'}-{ds.split or 'split'}-{key}.npy"
    if cache and path.is_file():
        return np.load(path)

    import tensorflow as tf

    @tf.function(reduce_retracing=True)
    def forward(x):
        x = tf.cast(x, tf.float32)
        if mirror:
            x = tf.reverse(x, axis=[2])
        return encoder(x, training=False)

    out = None
    n = len(ds)
    bar = None
    if verbose:
        from tqdm.auto import tqdm
        bar = tqdm(total=n, desc=f"encoding {ds.name or ''} {ds.split or ''}".strip(),
                   unit="img", leave=False)
    i = 0
    for batch in kinds.get("image").batches(ds.x, spec, batch_size):
        f = np.asarray(forward(batch)).astype(dtype)
        if out is None:
            out = np.empty((n,) + f.shape[1:], dtype=dtype)
        out[i:i + len(f)] = f
        i += len(f)
        if bar is not None:
            bar.update(len(f))
    if bar is not None:
        bar.close()
    if out is None:
        raise ValueError("encode() got no images")
    if cache:
        from zoo._io import atomic_write_bytes
        import io
        buf = io.BytesIO()
        np.save(buf, out)
        atomic_write_bytes(path, buf.getvalue())
    return out
