"""Start a real ``tensorboard`` process for tests, benchmarks and demos.

Usage (``tests/`` is on ``sys.path`` under pytest because of its
``conftest.py``; scripts elsewhere add it themselves)::

    from tb_process import tensorboard_process

    with tensorboard_process(logdir) as tb:          # default: Rust data server
        tb.wait_for_runs(["exp1/debugger"])           # data loads asynchronously
        listing = tb.get_json("/data/plugins_listing")
        body = tb.get("/data/plugin/nndebug/runs")    # -> (status, headers, bytes)

    with tensorboard_process(logdir, "--load_fast=false", "--path_prefix=/foo") as tb:
        tb.url        # "http://127.0.0.1:PORT/foo" (no trailing slash)

In pytest, use the ``tensorboard_server`` fixture of ``tests/conftest.py``,
which stops every process it started at the end of the test.

The process runs the venv's own ``tensorboard`` script (the one next to
``sys.executable``), listens on ``127.0.0.1`` on a free port (``--port 0``)
and is found through the URL it prints. Stopping sends SIGTERM to the process
group it was started in (TensorBoard and its Rust data server), then SIGKILL
after a grace period.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["TensorBoardProcess", "TensorBoardStartError", "tensorboard_process"]

#: TensorBoard prints ``TensorBoard 2.21.0 at http://127.0.0.1:PORT/ (Press CTRL+C to quit)``.
_URL_RE = re.compile(r"TensorBoard \S+ at (http://\S+?)/? \(Press CTRL\+C")


class TensorBoardStartError(RuntimeError):
    """TensorBoard exited or did not answer in time; carries its output."""


def tensorboard_executable() -> Path:
    """The ``tensorboard`` script installed next to the running Python."""
    return Path(sys.executable).parent / "tensorboard"


class TensorBoardProcess:
    """A running ``tensorboard`` subprocess and a tiny HTTP client for it.

    Parameters
    ----------
    logdir : str or Path
        Passed as ``--logdir``.
    *args : str
        Extra command-line flags, e.g. ``"--load_fast=false"``,
        ``"--path_prefix=/foo"``, ``"--samples_per_plugin=nndebug=0"``.
    reload_interval : float
        ``--reload_interval`` in seconds (1 by default so data written after
        start shows up quickly; 0 loads once).
    start_timeout : float
        Seconds to wait for the URL to be printed and the server to answer.
    """

    def __init__(self, logdir, *args: str, reload_interval: float = 1.0,
                 start_timeout: float = 120.0):
        self.logdir = str(logdir)
        self.args = tuple(args)
        self.reload_interval = reload_interval
        self.start_timeout = start_timeout
        self.url: str | None = None
        self.proc: subprocess.Popen | None = None
        self._lines: list[str] = []
        self._reader: threading.Thread | None = None
        self._url_found = threading.Event()

    # -- lifecycle ---------------------------------------------------------
    def command(self) -> list[str]:
        """The command line this object runs."""
        return [
            str(tensorboard_executable()),
            "--logdir", self.logdir,
            "--port", "0",
            "--host", "127.0.0.1",
            "--reload_interval", str(self.reload_interval),
            *self.args,
        ]

    def start(self) -> TensorBoardProcess:
        """Start the process and block until it answers HTTP requests."""
        env = dict(os.environ)
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        env.setdefault("CUDA_VISIBLE_DEVICES", "")
        self.proc = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group: we stop it and its data server
        )
        self._reader = threading.Thread(target=self._read_output, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + self.start_timeout
        while not self._url_found.wait(0.1):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise TensorBoardStartError(
                    f"tensorboard did not start (exit code {self.proc.returncode}):\n"
                    + self.output
                )
        while True:
            try:
                status, _, _ = self.get("/data/environment", timeout=5)
                if status == 200:
                    return self
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise TensorBoardStartError(
                    f"tensorboard at {self.url} never answered:\n" + self.output
                )
            time.sleep(0.1)

    def _read_output(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace")
            self._lines.append(line)
            if self.url is None:
                match = _URL_RE.search(line)
                if match:
                    self.url = match.group(1).rstrip("/")
                    self._url_found.set()

    @property
    def output(self) -> str:
        """Everything the process printed so far (stdout and stderr)."""
        return "".join(self._lines)

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM the process group, then SIGKILL after ``grace`` seconds."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(grace)
        if self._reader is not None:
            self._reader.join(2)

    def __enter__(self) -> TensorBoardProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- HTTP --------------------------------------------------------------
    def get(self, path: str, timeout: float = 30.0) -> tuple[int, dict, bytes]:
        """GET ``path`` (relative to the base URL, e.g. ``/data/runs``).

        Returns ``(status, headers, body)``; HTTP errors are returned, not raised.
        """
        if self.url is None:
            raise RuntimeError("tensorboard is not running")
        if not path.startswith("/"):
            path = "/" + path
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read()

    def get_json(self, path: str, timeout: float = 30.0):
        """GET ``path`` and decode JSON; raises ``AssertionError`` on non-200."""
        status, _, body = self.get(path, timeout=timeout)
        assert status == 200, f"GET {path} -> {status}: {body[:500]!r}"
        return json.loads(body)

    def wait_for_runs(self, runs: Iterable[str], timeout: float = 60.0) -> list[str]:
        """Block until ``/data/runs`` lists every run in ``runs``; return the list."""
        wanted = set(runs)
        deadline = time.monotonic() + timeout
        while True:
            listed = self.get_json("/data/runs")
            if wanted <= set(listed):
                return listed
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"runs {sorted(wanted - set(listed))} not loaded after {timeout}s; "
                    f"listed: {listed}"
                )
            time.sleep(0.2)

    def wait_for(self, path: str, predicate, timeout: float = 60.0):
        """Poll JSON route ``path`` until ``predicate(json)`` is true; return the JSON."""
        deadline = time.monotonic() + timeout
        while True:
            status, _, body = self.get(path)
            if status == 200:
                data = json.loads(body)
                if predicate(data):
                    return data
            if time.monotonic() > deadline:
                raise TimeoutError(f"{path} did not satisfy the condition after {timeout}s; "
                                   f"last answer {status}: {body[:300]!r}")
            time.sleep(0.2)


@contextmanager
def tensorboard_process(logdir, *args: str, **kwargs) -> Iterator[TensorBoardProcess]:
    """Context manager: a started :class:`TensorBoardProcess`, stopped on exit."""
    tb = TensorBoardProcess(logdir, *args, **kwargs)
    tb.start()
    try:
        yield tb
    finally:
        tb.stop()
