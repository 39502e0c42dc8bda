"""One module per architecture family; importing this package registers them all.

The lookups live here (not in :mod:`zoo.registry`), so the registry never imports the modules
that register into it: ``zoo.models`` -> ``zoo.registry``, never back.
"""
from zoo.models import backbones  # noqa: F401
from zoo.models import calibration  # noqa: F401
from zoo.models import mlp  # noqa: F401
from zoo.models import bpmll  # noqa: F401
from zoo.models import mlgcn  # noqa: F401
from zoo.models import c2ae  # noqa: F401
from zoo.models import mpvae  # noqa: F401
from zoo.models import kimcnn  # noqa: F401
from zoo.models import xmlcnn  # noqa: F401
from zoo.models import lwan  # noqa: F401
from zoo.models import lsan  # noqa: F401
from zoo.models import transformer  # noqa: F401
from zoo.models import sgm  # noqa: F401
from zoo.models import wide_deep  # noqa: F401
from zoo.models import efficientnet_lite  # noqa: F401
from zoo.models import image_cnn  # noqa: F401  (also registers the "resnet-small" backbone)
from zoo.models import image_effnet  # noqa: F401
from zoo.models import image_mlgcn  # noqa: F401
from zoo.models import image_q2l  # noqa: F401
from zoo.models import image_mldecoder  # noqa: F401
from zoo.models import image_ctran  # noqa: F401
from zoo.models import ensemble  # noqa: F401  (the ensemble checkpoints' ProbabilityMean)

from zoo.registry import Architecture, lookup_architecture, registered_architectures


def get_architecture(name: str) -> Architecture:
    """The registered architecture ``name`` (a :class:`zoo.registry.Architecture`)."""
    return lookup_architecture(name)


def list_architectures() -> list[str]:
    """Names of every registered architecture (``zoo.list_architectures()``)."""
    return registered_architectures()


def build(name: str, **kwargs):
    """Build a fresh (untrained) model of architecture ``name`` (``zoo.build``)."""
    return get_architecture(name).build(**kwargs)
