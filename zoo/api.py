"""The public face: ``zoo.load``, ``zoo.list_models``, ``zoo.info``, ``zoo.evaluate``,
``zoo.create`` (``zoo.compare`` lives in :mod:`zoo.compare`, ``zoo.finetune`` in
:mod:`zoo.finetune`). Each is a thin wrapper over the saved-model layer (:mod:`zoo.saved`)."""
from __future__ import annotations

from zoo import registry
from zoo.saved import open_saved


def load(ref, revision: str | None = None, download: bool = True):
    """Load a pretrained multi-label model by name, folder or ``hf://`` reference.

    Example::

        >>> import zoo
        >>> model = zoo.load("yeast/mlp")
        >>> model.predict_labels(x)

    The folder's files are checked against their recorded SHA-256 before anything is loaded;
    a mismatch, a missing file or a label-count mismatch raises ``zoo.CheckpointError``.
    """
    return open_saved(ref, revision=revision, download=download).load()


def list_models(pattern: str | None = None) -> list[str]:
    """Pretrained names such as ``"yeast/mlp"`` (glob ``pattern`` filters)."""
    return registry.list_models(pattern)


def info(ref) -> dict:
    """The checkpoint's ``zoo.json`` plus its ``metrics.json`` (without loading weights)."""
    return open_saved(ref).info()


def evaluate_folder(folder, split: str = "test", batch_size: int = 1024,
                    save_scores=None) -> dict:
    """Score a checkpoint folder on its dataset's ``split``: the ``metrics.json`` content."""
    from zoo.evaluation import evaluate_folder as _evaluate
    return _evaluate(folder, split, batch_size, save_scores)


def evaluate(ref, split: str = "test", batch_size: int = 1024, save_scores=None) -> dict:
    """``zoo evaluate NAME``: the metric dict of a pretrained model on its dataset's split.

    ``save_scores``: a ``.npy`` or ``.csv`` path to write the split's probabilities to
    (rows in the split's order, columns in label order), e.g. for ``zoo compare`` or plots.
    """
    from zoo.evaluation import evaluate_saved
    return evaluate_saved(open_saved(ref), split=split, batch_size=batch_size,
                          save_scores=save_scores)


def create(architecture: str, num_labels: int | None = None, *, pretrained=None,
           label_names=None, **options):
    """A fresh model of ``architecture``, optionally on a pretrained checkpoint's encoder.

    Example::

        >>> import zoo
        >>> net = zoo.create("mlp", num_labels=5, pretrained="yeast/mlp")   # yeast's encoder,
        >>> net.output.shape                                                # a new 5-label head
        (None, 5)

    Without ``pretrained`` this is :func:`zoo.build`: pass the builder's inputs
    (``num_features=...`` for a features model, ``train_inputs=...`` for a text model, ...).
    With ``pretrained`` (a name, folder or ``hf://`` reference of the same architecture) the
    model is built with the checkpoint's architecture options and input preprocessing, its
    encoder weights are copied and the head (the layers the architecture declares as its
    head) is freshly initialized for ``num_labels`` labels. ``label_names`` may be given
    instead of ``num_labels``. Returns a Keras model (logits out); train it with
    :func:`zoo.finetune` or ``model.fit``.
    """
    from zoo import transfer
    from zoo.models import get_architecture
    if label_names is not None:
        if num_labels is not None and num_labels != len(label_names):
            raise ValueError(f"num_labels={num_labels} but {len(label_names)} label_names")
        num_labels = len(label_names)
    if num_labels is None or int(num_labels) < 1:
        raise ValueError(f"num_labels must be a positive integer, got {num_labels!r}")
    if pretrained is not None:  # (an ensemble checkpoint: a clear error before the name)
        from zoo.ensemble import refuse_as_base
        saved = open_saved(pretrained)
        refuse_as_base(saved.card, str(pretrained), "re-head")
    arch = get_architecture(architecture)
    if pretrained is None:
        return arch.build(num_labels=int(num_labels), **options)
    if saved.architecture != arch.name:
        raise ValueError(f"{pretrained!r} is a {saved.architecture!r} checkpoint, not "
                         f"{arch.name!r}")
    model, _report = transfer.reheaded(saved, int(num_labels), options)
    return model
