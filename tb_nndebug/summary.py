"""The writing API, one function per record with ``tf.summary``'s conventions:
:mod:`tb_nndebug.records.writers` (documents in :mod:`tb_nndebug.records.documents`)."""
from .records.writers import *  # noqa: F403
from .records.writers import __all__  # noqa: F401
