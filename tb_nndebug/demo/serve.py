"""Start TensorBoard on a logdir in the foreground (``tb-nndebug demo --serve``)."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

_URL_RE = re.compile(r"TensorBoard \S+ at (http://\S+?)/? \(Press CTRL\+C")


def tensorboard_command(logdir, *, port=6006, host="localhost") -> list:
    """The ``tensorboard`` command line for ``logdir`` (the venv's own script first)."""
    exe = Path(sys.executable).parent / "tensorboard"
    exe = str(exe) if exe.exists() else shutil.which("tensorboard")
    if exe is None:
        raise ValueError("cannot find the tensorboard command; pip install tensorboard")
    return [exe, "--logdir", str(logdir), "--port", str(int(port)), "--host", str(host)]


def serve(logdir, *, port=6006, host="localhost") -> int:
    """Run TensorBoard until it exits or Ctrl-C; print the Debugger tab's URL.

    Returns
    -------
    int
        0 after Ctrl-C, else TensorBoard's exit status.

    Raises
    ------
    ValueError
        If TensorBoard exits before serving (e.g. the port is taken).
    """
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    proc = subprocess.Popen(tensorboard_command(logdir, port=port, host=host),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    lines = []
    served = False
    try:
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip()
            lines.append(line)
            match = _URL_RE.search(line)
            if match and not served:
                served = True
                url = match.group(1).rstrip("/")
                print(f"\nTensorBoard is serving {logdir}: open {url}/#nndebug "
                      "(the Debugger tab); Ctrl-C to stop.", flush=True)
            elif served:
                print(line, flush=True)
        code = proc.wait()
    except KeyboardInterrupt:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        print("\nTensorBoard stopped.")
        return 0
    if not served:
        last = next((ln for ln in reversed(lines) if ln.strip()), "no output")
        raise ValueError(f"tensorboard exited ({code}) before serving: {last}")
    return code
