"""One module per architecture family; importing this package registers them all."""
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
from zoo.models import image_cnn  # noqa: F401  (also registers the "resnet-small" backbone)
from zoo.models import image_effnet  # noqa: F401
from zoo.models import image_mlgcn  # noqa: F401
from zoo.models import image_q2l  # noqa: F401
from zoo.models import image_mldecoder  # noqa: F401
from zoo.models import image_ctran  # noqa: F401
