"""Input kinds: what a model reads (feature rows, text, images) as objects, not strings.

Every place that used to branch on ``kind == "features"`` asks the dataset's or the card's
:class:`InputKind` instead. A kind knows

* how to **fit** its preprocessing on the training split and hand it to a builder
  (:meth:`InputKind.builder_inputs`: feature standardization, a vocabulary, ...),
* how to **restore** that preprocessing from a saved model (:meth:`InputKind.restore`), so a
  model rebuilt for fine-tuning or re-heading reads inputs exactly as the saved one,
* how to **write and read the card's input spec** (:meth:`InputKind.input_spec`),
* how to **check that data fits a model** (:meth:`InputKind.check_compatible`),
* how to **validate and adapt user inputs** (:meth:`InputKind.batches`: dense or sparse rows,
  strings, image paths or arrays), with errors that name the row and column,
* a one-line **description** for people.

Which classical baselines apply is said from the other side: each baseline registers with the
kind it takes (``zoo.baselines.register(name, kind="image", ...)``), so this module, which
sits below the models and baselines, imports neither.

Adding an input kind (audio, graphs, ...) is one subclass here plus :func:`register_kind`;
train, finetune, inference and the CLI need no new branch.

    >>> from zoo import kinds
    >>> kinds.get("features").input_spec(train)      # doctest: +SKIP
    {'kind': 'features', 'num_features': 103, 'sparse': False}
"""
from __future__ import annotations

from pathlib import Path

from zoo.errors import DataFormatError, NotFoundError, ZooError

# numpy / scipy / the validators are imported inside the methods: `zoo info` and `zoo list`
# ask a kind to describe itself and must start without them (issue 11: under 1 s).

_KINDS: dict[str, "InputKind"] = {}


def register_kind(kind: "InputKind") -> "InputKind":
    if kind.name in _KINDS:
        raise ValueError(f"input kind {kind.name!r} is registered twice")
    _KINDS[kind.name] = kind
    return kind


def get(name) -> "InputKind":
    """The :class:`InputKind` named ``name`` (``"features"``, ``"text"``, ``"image"``); an
    ``InputKind`` is returned as is."""
    if isinstance(name, InputKind):
        return name
    try:
        return _KINDS[name]
    except KeyError:
        raise NotFoundError(f"unknown input kind {name!r}; known: {sorted(_KINDS)}") from None


def of_card(card: dict) -> "InputKind":
    """The input kind a checkpoint card records (older cards without one hold features)."""
    return get(card.get("kind") or (card.get("input") or {}).get("kind") or "features")


def names() -> list[str]:
    return sorted(_KINDS)


def model_image_size(model):
    """``(height, width)`` of an image model's fixed input, or ``None``."""
    shape = tuple(model.inputs[0].shape[1:3]) if model is not None else ()
    return shape if len(shape) == 2 and all(isinstance(d, int) for d in shape) else None


class InputKind:
    """Base class; subclasses override what differs. See the module docstring."""
    name: str = ""
    # ---- what the tf.data pipeline (zoo.data.pipeline.to_tf_dataset) asks
    #: x batches are numbers, cast to float32 in the pipeline
    numeric: bool = True
    #: a deterministic ``preprocess`` (tokenizer) runs once, before the cache
    preprocess_before_cache: bool = False
    #: the default (label-preserving) augmentation applies
    augmentable: bool = False
    #: user inputs are strings (a text file is read one document per line)
    takes_strings: bool = False
    #: the CLI passes input files to the model as they are (image files), not read as rows
    takes_files: bool = False

    def tf_rows(self, ds, image_size=None):
        """``(per-row tf.data.Dataset of x, rows are sparse, per-row decode fn or None)``."""
        raise NotImplementedError

    def training_batches(self, ds, model, *, training: bool, batch_size: int, seed=0,
                         augment=None, drop_remainder: bool = False):
        """A kind's own ``tf.data`` pipeline for training ``model`` on ``ds``, or ``None`` for
        the generic :func:`zoo.data.pipeline.to_tf_dataset`."""
        return None

    # ------------------------------------------------------------------ training side
    def builder_inputs(self, arch, train, options: dict, fitted: dict) -> tuple[dict, dict]:
        """Builder keyword arguments fitted on ``train`` (unless ``fitted`` supplies them),
        and the options as built. ``options`` may hold kind options (e.g. ``standardize``),
        which are consumed here."""
        return {}, {}

    def restore(self, keras_model, card: dict) -> dict:
        """Builder arguments that make a rebuilt model read inputs as ``keras_model`` does."""
        return {}

    def input_spec(self, ds, model=None) -> dict:
        """The card's ``input`` entry for ``model`` trained on ``ds``."""
        return {"kind": self.name}

    def check_compatible(self, spec: dict, ds, source: str) -> None:
        """Raise a ``DataFormatError`` if ``ds`` cannot be fed to a model with input ``spec``
        (e.g. a validation file that does not match the training data)."""
        if ds.kind != self.name:
            raise DataFormatError(f"holds {ds.kind} inputs but the training data holds "
                                  f"{self.name}", path=source)

    def describe(self, spec: dict) -> str:
        return self.name

    def input_mismatch(self, spec: dict, ds, source: str = "the data") -> str | None:
        """A description of why ``ds`` does not fit a model with ``spec`` in a way that
        rebuilding the input layers fixes (fine-tuning's ``input_mismatch="retrain"``)."""
        return None

    def transfer_note(self, spec: dict, ds, retrained: bool) -> str | None:
        """What a fine-tuned model's card says about how it reads the new data."""
        return None

    # ------------------------------------------------------------------ inference side
    def batches(self, x, spec: dict, batch_size: int):
        """Validate user input ``x`` and yield model-ready numpy batches."""
        raise NotImplementedError


class FeaturesKind(InputKind):
    """Numeric feature rows (dense or sparse), standardized inside the model."""
    name = "features"

    def builder_inputs(self, arch, train, options, fitted):
        import numpy as np
        standardize = options.pop("standardize", True)
        kwargs = {"num_features": train.num_features}
        if standardize:
            if "mean" in fitted:
                mean, var = fitted["mean"], fitted["variance"]
            else:
                from zoo.data.tensors import feature_moments
                mean, var = feature_moments(train)
            kwargs["mean"] = np.asarray(mean, dtype=np.float32)
            kwargs["variance"] = np.asarray(var, dtype=np.float32)
        return kwargs, {"standardize": standardize}

    def restore(self, keras_model, card):
        import numpy as np
        import keras
        if not (card.get("architecture_options") or {}).get("standardize", True):
            return {}
        for la in keras_model._flatten_layers(include_self=False, recursive=True):
            if isinstance(la, keras.layers.Normalization):
                return {"mean": np.asarray(la.input_mean, dtype=np.float32).reshape(-1),
                        "variance": np.asarray(la.input_variance, dtype=np.float32).reshape(-1)}
        return {}

    def input_spec(self, ds, model=None):
        return {"kind": self.name, "num_features": ds.num_features, "sparse": bool(ds.is_sparse)}

    def check_compatible(self, spec, ds, source):
        super().check_compatible(spec, ds, source)
        want = spec.get("num_features")
        if want is not None and ds.num_features != want:
            raise DataFormatError(f"has {ds.num_features} features per row but the training "
                                  f"data has {want}", path=source)

    def input_mismatch(self, spec, ds, source="the data"):
        want, got = spec.get("num_features"), ds.num_features
        if want is None or want == got:
            return None
        return f"expects {want} features per row, but {source} has {got}"

    def transfer_note(self, spec, ds, retrained):
        got = ds.num_features
        if retrained:
            return (f"{got} features: rebuilt input layers (standardization refitted on the "
                    f"training split; base had {spec.get('num_features')})")
        return f"{got} features, the base's standardization"

    def describe(self, spec):
        n = spec.get("num_features")
        return f"{n} features per row" if n else "numeric feature rows"

    def tf_rows(self, ds, image_size=None):
        import numpy as np
        import scipy.sparse as sp
        import tensorflow as tf

        from zoo.data.tensors import sparse_tensor
        if sp.issparse(ds.x):
            return tf.data.Dataset.from_tensor_slices(sparse_tensor(ds.x)), True, None
        return tf.data.Dataset.from_tensor_slices(np.asarray(ds.x, dtype=np.float32)), \
            False, None

    def batches(self, x, spec, batch_size):
        import numpy as np
        import scipy.sparse as sp
        from zoo.data.validate import check_finite
        if sp.issparse(x):
            x = sp.csr_matrix(x)
        else:
            try:
                x = np.asarray(x, dtype=np.float32)
            except (TypeError, ValueError) as e:
                raise DataFormatError(f"feature rows must be numbers: {e}") from None
            if x.ndim == 1:
                x = x.reshape(1, -1)
        want = spec.get("num_features")
        if x.ndim != 2:
            raise DataFormatError(f"feature input has shape {tuple(x.shape)}; expected a 2-D "
                                  f"array (rows, {want or 'features'}) or one 1-D row")
        if want is not None and x.shape[1] != want:
            raise DataFormatError(f"this model takes {want} features per row, got {x.shape[1]}")
        check_finite(x, "x")
        for i in range(0, x.shape[0], batch_size):
            b = x[i:i + batch_size]
            yield np.asarray(b.toarray() if sp.issparse(b) else b, dtype=np.float32)


class TextKind(InputKind):
    """Raw strings; the tokenizer (vocabulary fitted on train) is inside the model."""
    name = "text"
    numeric = False
    preprocess_before_cache = True
    takes_strings = True

    def tf_rows(self, ds, image_size=None):
        import tensorflow as tf
        texts = list(ds.x)
        bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
        if bad:
            raise DataFormatError(
                f"text row {bad[0]} is a {type(texts[bad[0]]).__name__}, expected str"
                f" ({len(bad)} such rows)")
        return tf.data.Dataset.from_tensor_slices(tf.constant(texts, dtype=tf.string)), \
            False, None

    def builder_inputs(self, arch, train, options, fitted):
        if "vocabulary" in fitted:
            return {"vocabulary": fitted["vocabulary"]}, {}
        return {"train_inputs": train.x}, {}

    def restore(self, keras_model, card):
        import keras
        for la in keras_model._flatten_layers(include_self=False, recursive=True):
            if isinstance(la, keras.layers.TextVectorization):
                vocab = [str(t) for t in la.get_vocabulary()]
                if vocab[:2] != ["", "[UNK]"]:
                    raise ZooError(f"unexpected text vectorizer vocabulary start {vocab[:2]}")
                return {"vocabulary": vocab[2:]}  # text_input adds padding and OOV back
            if type(la).__name__ == "WordPieceTokenizer":
                return {"vocabulary": [str(t) for t in la.get_vocabulary()]}
        raise ZooError(f"the text model {keras_model.name!r} has no TextVectorization or "
                       "WordPiece layer to take its vocabulary from")

    def describe(self, spec):
        return "raw strings, tokenized inside the model"

    def transfer_note(self, spec, ds, retrained):
        return ("the base's vocabulary; words it does not hold map to the out-of-vocabulary "
                "token [UNK]")

    def batches(self, x, spec, batch_size):
        import numpy as np
        if isinstance(x, str):
            x = [x]
        if isinstance(x, np.ndarray) and x.ndim != 1:
            raise DataFormatError(f"a text model takes a list of strings; got an array of shape "
                                  f"{x.shape}")
        x = list(x)
        for i, t in enumerate(x):
            if not isinstance(t, str):
                raise DataFormatError(f"a text model takes strings; item {i} is a "
                                      f"{type(t).__name__}")
        for i in range(0, len(x), batch_size):
            yield np.asarray(x[i:i + batch_size], dtype=object)


class ImageKind(InputKind):
    """Images: file paths or arrays (n, h, w, c) / one (h, w, c); resizing is recorded."""
    name = "image"
    augmentable = True
    takes_files = True

    def training_batches(self, ds, model, *, training, batch_size, seed=0, augment=None,
                         drop_remainder=False):
        """Image files: decode, cache, random resized crop + flip when training
        (:func:`zoo.data.images.image_dataset`) at the model's input size."""
        import numpy as np
        if isinstance(ds.x, np.ndarray):
            return None
        from zoo.data.images import image_dataset
        size = model_image_size(model)
        return image_dataset(ds, image_size=size, training=training, batch_size=batch_size,
                             augment=bool(augment) and training, seed=seed,
                             drop_remainder=drop_remainder)

    def tf_rows(self, ds, image_size=None):
        import os

        import numpy as np

        import tensorflow as tf

        from zoo.data.tensors import image_decoder
        x = ds.x
        if isinstance(x, np.ndarray):
            arr = x[..., None] if x.ndim == 3 else x
            if arr.ndim != 4:
                raise DataFormatError(f"image array has shape {x.shape}, expected (n, h, w, c)"
                                      " or (n, h, w)")
            if image_size is not None:
                raise ValueError("image_size resizes decoded image files; resize arrays before"
                                 " building the dataset or use preprocess=keras.layers.Resizing")
            return tf.data.Dataset.from_tensor_slices(arr), False, None
        paths = [os.fspath(p) for p in x]
        return tf.data.Dataset.from_tensor_slices(tf.constant(paths, dtype=tf.string)), \
            False, image_decoder(paths, image_size)

    def builder_inputs(self, arch, train, options, fitted):
        return {}, {}

    def input_spec(self, ds, model=None):
        import numpy as np
        spec = {"kind": self.name}
        size = model_image_size(model)
        if size is not None:
            spec["image_size"] = [int(d) for d in size]        # the model's fixed input size
        elif isinstance(ds.x, np.ndarray):
            spec["image_size"] = [int(ds.x.shape[1]), int(ds.x.shape[2])]
        return spec

    def describe(self, spec):
        size = spec.get("image_size")
        return f"images ({size[0]}x{size[1]} RGB)" if size else "images (paths or arrays)"

    def batches(self, x, spec, batch_size):
        import numpy as np
        from zoo.data.validate import check_finite
        size = spec.get("image_size")
        if isinstance(x, (str, Path)):
            x = [x]
        if isinstance(x, (list, tuple)) and x and isinstance(x[0], (str, Path)):
            from zoo.data.images import load_images
            x = load_images([str(p) for p in x], size=tuple(size) if size else None)
        x = np.asarray(x)
        if x.ndim == 3:
            x = x[None]
        if x.ndim != 4:
            raise DataFormatError(f"image input has shape {tuple(x.shape)}; expected "
                                  "(n, height, width, channels), one (height, width, channels)"
                                  " image, or image file paths")
        if size and tuple(x.shape[1:3]) != tuple(size):
            raise DataFormatError(f"this model takes {size[0]}x{size[1]} images, got "
                                  f"{x.shape[1]}x{x.shape[2]} (pass file paths to resize)")
        check_finite(x, "images")
        for i in range(0, x.shape[0], batch_size):
            yield x[i:i + batch_size]


FEATURES = register_kind(FeaturesKind())
TEXT = register_kind(TextKind())
IMAGE = register_kind(ImageKind())
