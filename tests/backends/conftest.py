"""The backends group: real fits under each Keras backend, each in its own subprocess."""
from __future__ import annotations

import os

import pytest

#: Set to 1 to run the slow-marked tests (the full bug zoo under JAX and PyTorch).
SLOW_ENV = "NNDEBUG_SLOW"


def pytest_configure(config):
    # pytest.ini declares no ``slow`` marker; declared here so --strict-markers accepts it
    config.addinivalue_line("markers", f"slow: minutes of training; run with {SLOW_ENV}=1")


def pytest_collection_modifyitems(config, items):
    if os.environ.get(SLOW_ENV) == "1":
        return
    skip = pytest.mark.skip(reason=f"slow: set {SLOW_ENV}=1 to run it")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
