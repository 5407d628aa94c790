"""Run ``backend_scenarios.py`` under one Keras backend in a subprocess, results as a dict.

Keras fixes its backend at import time, so every backend gets its own process;
results are cached per (backend, scenarios) for the test session.
"""
from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).with_name("backend_scenarios.py")
MARKER = "@@RESULT@@"
BACKENDS = ("tensorflow", "jax", "torch")


@functools.lru_cache(maxsize=None)
def run_scenario(backend: str, *scenarios: str, timeout: float = 540) -> dict:
    """``{"backend", scenario: result}`` of ``scenarios`` run under ``backend``.

    Raises ``AssertionError`` with the subprocess's output when it fails or prints no result.
    """
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=os.pathsep.join([str(Path(__file__).parents[2]),
                                           os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, str(SCRIPT), *scenarios], env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith(MARKER)]
    assert proc.returncode == 0 and lines, (
        f"{backend} {scenarios}: exit {proc.returncode}\n{proc.stdout[-3000:]}\n"
        f"{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len(MARKER):])
