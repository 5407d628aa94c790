"""Shared pytest fixtures (keep this file small; put helpers in their own modules)."""
from __future__ import annotations

import pytest
from tb_process import TensorBoardProcess


@pytest.fixture
def tensorboard_server():
    """Factory fixture: ``tb = tensorboard_server(logdir, *flags, **kwargs)``.

    Starts a real ``tensorboard`` subprocess (see ``tests/tb_process.py``)
    listening on 127.0.0.1 and returns the started :class:`TensorBoardProcess`
    (``tb.url``, ``tb.get``, ``tb.get_json``, ``tb.wait_for_runs``). Every
    process started through the factory is stopped when the test ends.
    """
    started: list[TensorBoardProcess] = []

    def start(logdir, *args: str, **kwargs) -> TensorBoardProcess:
        tb = TensorBoardProcess(logdir, *args, **kwargs)
        started.append(tb)
        return tb.start()

    yield start
    for tb in started:
        tb.stop()


@pytest.fixture(scope="session")
def nndebug_standard_logdir(tmp_path_factory):
    """The plugin tests' shared read-only logdir (see ``tests/nndebug_logdirs.py``)."""
    import nndebug_logdirs

    return nndebug_logdirs.standard_logdir(tmp_path_factory.mktemp("nndebug_std"))
