"""zoo: a Keras 3 model zoo for multi-label classification.

    >>> import zoo
    >>> model = zoo.load("yeast/mlp")
    >>> model.predict_labels(x)

``import zoo`` is cheap: it does not import TensorFlow or Keras. The public names below are
loaded on first use (PEP 562), so ``zoo.list_models()``, ``zoo.info(name)`` and the ``zoo
list`` / ``zoo info`` / ``zoo --help`` commands start without TensorFlow.

Keras objects (the zoo's layers, losses and metrics, package ``"zoo"``) are registered with
Keras so ``keras.saving.load_model`` can read the zoo's checkpoint folders:

* at ``import zoo`` when Keras is already imported;
* when Keras is imported later, right after its import finishes;
* on first use of any Keras-touching name (``zoo.load``, ``zoo.build``, ``zoo.losses``, ...).

``zoo.register_keras_objects()`` does it explicitly (idempotent)::

    >>> import zoo, keras
    >>> zoo.register_keras_objects()
    >>> keras.saving.load_model("checkpoints/yeast-mlp")
"""
from __future__ import annotations

import importlib
import sys

from zoo.errors import ZooError, DataFormatError, ChecksumError, CheckpointError, NotFoundError

from zoo._version import __version__  # noqa: E402

# name -> (module, attribute or None for the module itself, touches Keras)
_LAZY = {
    "load": ("zoo.api", "load", True),
    "evaluate": ("zoo.api", "evaluate", True),
    "create": ("zoo.api", "create", True),
    "list_models": ("zoo.api", "list_models", False),
    "info": ("zoo.api", "info", False),
    "compare": ("zoo.compare", "compare", True),       # the function shadows the module name
    "finetune": ("zoo.finetune", "finetune", True),    # the function shadows the module name
    "list_architectures": ("zoo.models", "list_architectures", True),
    "build": ("zoo.models", "build", True),
    "MultiLabelModel": ("zoo.inference", "MultiLabelModel", True),
    "losses": ("zoo.losses", None, True),
    "metrics": ("zoo.metrics", None, True),
    "models": ("zoo.models", None, True),
    "thresholds": ("zoo.thresholds", None, False),
    "errors": ("zoo.errors", None, False),
}

__all__ = ["load", "list_models", "info", "evaluate", "compare", "finetune", "create",
           "list_architectures", "build", "MultiLabelModel", "losses", "metrics", "thresholds",
           "errors", "register_keras_objects",
           "ZooError", "DataFormatError", "ChecksumError", "CheckpointError", "NotFoundError",
           "__version__"]

_registered = False


def register_keras_objects() -> None:
    """Register the zoo's Keras layers, losses and metrics (imports Keras; idempotent).

    Needed only for plain ``keras.saving.load_model(folder)`` in a process where nothing else
    has done it (``zoo.load`` and every Keras-touching ``zoo.*`` name do it themselves)::

        >>> import zoo
        >>> zoo.register_keras_objects()
    """
    global _registered
    if _registered:
        return
    importlib.import_module("zoo.losses")
    importlib.import_module("zoo.metrics")
    importlib.import_module("zoo.models")
    _registered = True


def __getattr__(name):
    try:
        module, attr, keras_side = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'zoo' has no attribute {name!r}") from None
    if keras_side:
        register_keras_objects()
    # import_module, not getattr(zoo, ...): zoo.compare / zoo.finetune name both a submodule
    # and the function that replaces it here.
    value = importlib.import_module(module)
    if attr is not None:
        value = getattr(value, attr)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


class _RegisterAfterKeras:
    """A ``sys.meta_path`` finder that registers the zoo's Keras objects right after a later
    ``import keras`` finishes, so ``import zoo; import keras; keras.saving.load_model(folder)``
    works as it did when ``import zoo`` imported Keras itself."""

    _busy = False

    def find_spec(self, fullname, path=None, target=None):
        # Only a spec is asked for here (TensorFlow asks for keras's without importing it);
        # the hook goes away once keras's module code has run.
        if fullname != "keras" or self._busy:
            return None
        from importlib.util import find_spec
        self._busy = True
        try:
            spec = find_spec("keras")
        finally:
            self._busy = False
        loader = getattr(spec, "loader", None) if spec else None
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module

        def exec_module(module):
            _remove_hook()
            run(module)
            try:
                register_keras_objects()
            except ImportError:  # never break `import keras`; the first zoo.load retries
                pass
        loader.exec_module = exec_module
        return spec

    def invalidate_caches(self):
        pass


def _remove_hook():
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _RegisterAfterKeras)]


class _ZooModule(type(sys)):
    """``zoo.compare`` and ``zoo.finetune`` are functions that shadow their submodules: when
    the import system binds a submodule of that name on the package (``import zoo.compare``
    anywhere), the function is bound instead, as the eager ``import zoo`` used to do."""

    def __setattr__(self, name, value):
        if name in _SHADOWED and isinstance(value, type(sys)) and hasattr(value, name):
            value = getattr(value, name)
        super().__setattr__(name, value)


_SHADOWED = ("compare", "finetune")
sys.modules[__name__].__class__ = _ZooModule

if "keras" in sys.modules:
    register_keras_objects()
else:
    _remove_hook()
    sys.meta_path.insert(0, _RegisterAfterKeras())
