"""The model warehouse: one architecture family, built at a capacity in bits.

The paper's section 4 asks for "several categories of the architecture of the
same capacity … for users to select", so that the Debugger's advice "shrink
to about N bits" becomes a model one can train. Each builder here takes an
input shape, a class count and ``target_bits`` and searches the family's
size until :func:`tb_nndebug.model_capacity` (the paper's Algorithm 1) of the
built model is as close to the target as the integer layer widths allow.

Returned models are **uncompiled** Keras 3 functional models (compile them
with the optimizer you want; with the default ``output_activation="softmax"``
use ``sparse_categorical_crossentropy``). The capacity reached is attached as
``model.warehouse``, a :class:`WarehouseInfo` (``bits``, ``target_bits``,
``ratio``, ``widths``, ``structure``, ...). It is a plain Python attribute:
it does not survive ``model.save`` / ``load_model``; call ``model_capacity``
again there.

Tolerance: a build succeeds when ``|bits / target_bits − 1| <= tolerance``
(default :data:`DEFAULT_TOLERANCE` = 10 %); otherwise a ``ValueError`` names
the range the family reaches (pass ``tolerance=None`` to accept the closest).

How each family reaches a target follows from Friedland's rules, which give
the first layer all its parameters (it sees raw input) and cap every later
layer by the number of units feeding it:

* ``mlp`` scales its hidden width. One hidden unit on a ``d``-value input
  costs ``d + 1`` bits, so targets below a few units' worth (1,000 bits on
  28×28 images) are met by **average-pooling the image first**
  (``input_pool``, the least pooling that reaches the target): pooling has no
  parameters and passes the raw input on, so each unit costs fewer bits.
* ``alexnet_like`` and ``resnet_like`` scale their width up to the
  **efficient width** — the first stage's filter count ``c = ⌈H·W / 9⌉``
  at which a full-resolution 3×3 convolution has as many weights (``9c²``)
  as the units feeding it (``H·W·c``); wider filters add parameters faster
  than bits. Larger targets add **depth** at that width, where each layer
  buys about one bit per parameter: extra residual 3×3 conv layers after
  ``conv1`` (``extra_layers``) or extra residual blocks in the first stage
  (``extra_blocks``). Each identical full-resolution layer adds
  the same bits, so the depth is solved from two shallow builds, not by
  building deep candidates. This is how 10⁷ bits fit in about 10–17 M
  parameters on MNIST- and CIFAR-shaped inputs; width alone stops near 10⁵
  bits for the AlexNet layout (its dense head holds most parameters).

Pass ``input_pool=1`` / ``extra_layers=0`` / ``extra_blocks=0`` to scale width
only (up to ``max_params``), or another integer to fix the structure.
"""
from __future__ import annotations

from .cnn import alexnet_like, resnet_like
from .mlp import mlp
from .search import DEFAULT_MAX_PARAMS as DEFAULT_MAX_PARAMS  # re-exported, not in __all__
from .search import DEFAULT_TOLERANCE, WarehouseInfo

__all__ = ["mlp", "alexnet_like", "resnet_like", "WarehouseInfo", "DEFAULT_TOLERANCE",
           "FAMILIES"]

#: The builders by family name (used by the capacity sweep's demo).
FAMILIES = {"mlp": mlp, "alexnet_like": alexnet_like, "resnet_like": resnet_like}
