"""The data contract (plugin name, record kinds, encoding): :mod:`tb_nndebug.records.contract`.

Kept as the public name of the contract, as TensorBoard's own plugins name theirs.
"""
from .records.contract import *  # noqa: F403
from .records.contract import __all__  # noqa: F401
