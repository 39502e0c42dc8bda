"""zoo: a Keras 3 model zoo for multi-label classification.

    >>> import zoo
    >>> model = zoo.load("yeast/mlp")
    >>> model.predict_labels(x)

Importing zoo registers its Keras layers, losses and metrics (package ``"zoo"``), so
``keras.saving.load_model`` can read the zoo's checkpoint folders.
"""
from zoo.errors import ZooError, DataFormatError, ChecksumError, CheckpointError, NotFoundError

from zoo._version import __version__  # noqa: E402

from zoo import losses, metrics, thresholds  # noqa: E402  (register Keras objects)
from zoo import models  # noqa: E402,F401
from zoo.api import load, list_models, info, evaluate, create  # noqa: E402
from zoo.models import list_architectures, build  # noqa: E402
from zoo.inference import MultiLabelModel  # noqa: E402
from zoo.compare import compare  # noqa: E402  (the function shadows the module name)
from zoo.finetune import finetune  # noqa: E402  (the function shadows the module name)

__all__ = ["load", "list_models", "info", "evaluate", "create", "compare", "finetune",
           "list_architectures", "build", "MultiLabelModel", "losses", "metrics", "thresholds",
           "ZooError", "DataFormatError", "ChecksumError", "CheckpointError", "NotFoundError",
           "__version__"]
