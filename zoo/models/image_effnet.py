"""``effnet``: an ImageNet-pretrained EfficientNet-Lite0 backbone with a multi-label head, the
setup of the Asymmetric Loss paper.

Papers: T. Ridnik, E. Ben-Baruch, N. Zamir, A. Noy, I. Friedman, M. Protter, L. Zelnik-Manor.
"Asymmetric Loss For Multi-Label Classification". ICCV 2021 -- and the backbone: M. Tan,
Q. V. Le. "EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks". ICML 2019
(Lite variants: TensorFlow TPU repository, 2020: no squeeze-excite, ReLU6, fixed stem/head).

Defining mechanism: ASL's point is that the architecture stays a plain ImageNet backbone with a
global-average-pooled linear multi-label head, and the *loss* changes: the asymmetric loss
(``zoo.losses.AsymmetricLoss``, paper defaults ``gamma_neg=4, gamma_pos=0, clip=0.05``)
down-weights and hard-thresholds the many easy negatives of multi-label data. The recipes
train this model twice, with ``loss = "asl"`` and with ``loss = "bce"``, so the loss effect is
measured on the same network.

Head: GAP -> Dropout(0.2) -> Dense(L) logits. The dropout rate is EfficientNet-B0/Lite0's top
dropout (Tan & Le 2019); the ASL paper's TResNet heads have none, so set ``dropout=0`` for
that. ``backbone`` names any registered image backbone (``zoo.models.backbones``).

Example (a random tiny backbone; the default is ``"efficientnet-lite0"`` with ImageNet weights)::

    >>> import numpy as np
    >>> model = effnet(3, image_size=(64, 64), backbone="resnet-small", backbone_weights=None)
    >>> tuple(model(np.zeros((2, 64, 64, 3), "float32")).shape)
    (2, 3)
"""
from __future__ import annotations


from zoo.models import image_cnn
from zoo.models.image_common import build_backbone, compose, feature_shape
from zoo.registry import register_architecture


def build_head(feature_shape, num_labels: int, dropout: float = 0.2, name: str = "head"):
    """GAP -> Dropout(``dropout``) -> Dense(num_labels) logits on an (h, w, c) feature map."""
    return image_cnn.build_head(feature_shape, num_labels, dropout=dropout, name=name)


@register_architecture("effnet", kind="image", paper="Ridnik et al., ICCV 2021; Tan & Le, ICML 2019",
                       head=("head",))
def effnet(num_labels: int, image_size=(224, 224), backbone: str = "efficientnet-lite0",
           backbone_weights="imagenet", dropout: float = 0.2, name: str = "effnet"):
    """Pretrained backbone -> head (GAP -> Dropout -> Dense logits)."""
    net = build_backbone(backbone, weights=backbone_weights, image_size=image_size)
    head = build_head(feature_shape(net), num_labels, dropout=dropout)
    return compose(net, head, name=name)
