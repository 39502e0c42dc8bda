"""``q2l``: Query2Label -- a transformer decoder whose learnable label queries cross-attend to the
backbone's spatial feature tokens.

Paper: S. Liu, L. Zhang, X. Yang, H. Su, J. Zhu. "Query2Label: A Simple Transformer Way to
Multi-Label Classification". arXiv:2107.10834, 2021.

Defining mechanism: one learnable query per label. The backbone feature map (h, w, c) is
projected to ``d_model`` channels (a 1x1 convolution, here a Dense on each position), flattened
into ``h*w`` spatial tokens, given DETR's 2-D sine positional encoding, and refined by a
transformer encoder. The ``L`` label queries then go through transformer decoder layers that
cross-attend to the spatial tokens (keys = tokens + position, values = tokens): each label
pools the image regions relevant to it, adaptively (the attention weights are a softmax over
the ``h*w`` positions). A *group-wise linear* layer maps query ``k``'s output to logit ``k``
(one independent ``d``-dim classifier per label, ``GroupWiseLinear``).

Paper / reference-code defaults and what this module uses:

==========================  ===================  =====================================
setting                      paper (ResNet-101)    here (CPU; option)
==========================  ===================  =====================================
encoder layers               1                     1 (``encoder_layers``)
decoder layers               2                     2 (``decoder_layers``)
attention heads              4                     4 (``num_heads``)
d_model                      2048 (no projection)  256 (``d_model``), 1x1 projection
FFN width                    8192 (4 x d_model)    1024 = 4 x d_model (``intermediate_dim``)
dropout                      0.1                   0.1
positional encoding          2-D sine              2-D sine
norm placement               post-norm             post-norm
self-attention among queries paper eq.: yes        yes (``query_self_attention``)
==========================  ===================  =====================================

The paper's equations give each decoder layer a self-attention among the label queries
before the cross-attention; the authors' released code removes it by default (its
``--keep_*_self_attn_dec`` flags). We follow the paper (``query_self_attention=True``);
``False`` gives the released code's decoder. Q2L trains with a simplified ASL
(``gamma_neg=2, gamma_pos=0``): a recipe choice (``loss = "asl"`` with options).

Example::

    >>> import numpy as np
    >>> model = q2l(3, image_size=(64, 64), backbone="resnet-small", backbone_weights=None,
    ...             d_model=32, intermediate_dim=64)
    >>> tuple(model(np.zeros((2, 64, 64, 3), "float32")).shape)
    (2, 3)
"""
from __future__ import annotations

import keras

from zoo.models.image_common import (GroupWiseLinear, QueryDecoder, SinePositionEncoding2D,
                                     TransformerEncoderBlock, build_backbone, compose,
                                     feature_input, feature_shape, flatten_tokens)
from zoo.registry import register_architecture


def build_head(feature_shape, num_labels: int, d_model: int = 256, num_heads: int = 4,
               encoder_layers: int = 1, decoder_layers: int = 2, intermediate_dim: int = 1024,
               dropout: float = 0.1, query_self_attention: bool = True, name: str = "head"):
    """Feature map -> 1x1 projection -> tokens (+ sine position) -> encoder -> label-query
    decoder -> group-wise linear logits. Layer names: ``input_projection``,
    ``position_encoding``, ``encoder_<i>``, ``label_decoder`` (a :class:`QueryDecoder`),
    ``group_fc``."""
    if int(d_model) % int(num_heads):
        raise ValueError(f"d_model={d_model} must be divisible by num_heads={num_heads}")
    features = feature_input(feature_shape)
    x = keras.layers.Dense(int(d_model), name="input_projection")(features)   # = 1x1 conv
    pos = SinePositionEncoding2D(name="position_encoding")(x)
    tokens = flatten_tokens(x, name="tokens")
    for i in range(int(encoder_layers)):
        tokens = TransformerEncoderBlock(num_heads, intermediate_dim, dropout,
                                         name=f"encoder_{i}")(tokens, pos=pos)
    decoded = QueryDecoder(int(num_labels), num_layers=decoder_layers, num_heads=num_heads,
                           intermediate_dim=intermediate_dim, dropout=dropout,
                           self_attention=query_self_attention, learnable_queries=True,
                           name="label_decoder")(tokens, pos=pos)
    logits = GroupWiseLinear(name="group_fc")(decoded)
    return keras.Model(features, logits, name=name)


@register_architecture("q2l", kind="image", paper="Liu et al., arXiv:2107.10834, 2021",
                       head=("head",))
def q2l(num_labels: int, image_size=(224, 224), backbone: str = "efficientnet-lite0",
        backbone_weights="imagenet", d_model: int = 256, num_heads: int = 4,
        encoder_layers: int = 1, decoder_layers: int = 2, intermediate_dim: int = 1024,
        dropout: float = 0.1, query_self_attention: bool = True, name: str = "q2l"):
    """Backbone -> Query2Label head (see the module docstring for the defaults)."""
    net = build_backbone(backbone, weights=backbone_weights, image_size=image_size)
    head = build_head(feature_shape(net), num_labels, d_model=d_model, num_heads=num_heads,
                      encoder_layers=encoder_layers, decoder_layers=decoder_layers,
                      intermediate_dim=intermediate_dim, dropout=dropout,
                      query_self_attention=query_self_attention)
    return compose(net, head, name=name)
