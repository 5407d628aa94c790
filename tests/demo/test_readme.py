"""The README's examples run, so they cannot rot.

A fenced ``python`` or ``sh`` block directly preceded by the line
``<!-- test -->`` is runnable. The runnable blocks of one file run in order,
each in its own process, in one fresh temporary directory (a later block may
use the files an earlier one wrote, as a reader following along would).
``sh`` blocks run with ``bash -e`` and the venv's ``bin`` first on ``PATH``.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MARK = "<!-- test -->"
DOCS = [ROOT / "README.md"]

pytestmark = pytest.mark.training

_FENCE = re.compile(r"^```(\w*)\s*$")


def runnable_blocks(text: str):
    """``[(line, language, code)]`` of the blocks marked runnable, in order."""
    lines = text.splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        start = i
        end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("```")), None)
        if end is None:
            raise ValueError(f"unclosed code block at line {start + 1}")
        prev = next((lines[j].strip() for j in range(start - 1, -1, -1) if lines[j].strip()),
                    "")
        if prev == MARK:
            if opening.group(1) not in ("python", "sh"):
                raise ValueError(f"line {start + 1}: only python and sh blocks can be runnable")
            blocks.append((start + 1, opening.group(1), "\n".join(lines[start + 1:end]) + "\n"))
        i = end + 1
    return blocks


def test_runnable_blocks_are_found_in_order():
    text = "\n".join([  # noqa: FLY002 - one list item per line of markdown
        "intro", MARK, "```python", "print(1)", "```", "", "```python", "print('not marked')",
        "```", MARK, "", "```sh", "echo hi", "```", "```text", "output", "```"])
    assert runnable_blocks(text) == [(3, "python", "print(1)\n"), (12, "sh", "echo hi\n")]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_readme_examples_run(doc, tmp_path):
    blocks = runnable_blocks(doc.read_text(encoding="utf-8"))
    assert blocks, f"{doc.name} has no runnable examples (blocks preceded by {MARK})"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", MPLBACKEND="Agg")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for line, lang, code in blocks:
        cmd = [sys.executable, "-c", code] if lang == "python" else ["bash", "-e", "-c", code]
        proc = subprocess.run(cmd, check=False, cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 0, (
            f"{doc.name}, {lang} block at line {line} failed ({proc.returncode}):\n"
            f"{code}\n--- stdout\n{proc.stdout[-2000:]}\n--- stderr\n{proc.stderr[-3000:]}")
