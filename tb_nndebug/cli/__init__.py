"""The ``tb-nndebug`` command line: ``analyze`` a data file, ``report`` a logdir, run the
``demo``."""
from .main import main

__all__ = ["main"]
