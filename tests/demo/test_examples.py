"""The example scripts in ``demo/`` run as a user would run them, and do what they say.

Each script runs in its own process in its ``--smoke`` mode, with ``--logdir``
in a temporary folder. The test checks the exit status, reads the records the
run wrote back from its event files, and looks for the findings in what the
script printed.
"""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tb_nndebug.records.reading import read_records

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "demo"
TIMEOUT = 240  # seconds per script; the smoke runs take 5 to 25 s on two cores

pytestmark = pytest.mark.training


@dataclass(frozen=True)
class Example:
    script: str
    extra_args: tuple
    runs: dict        # run folder under the logdir -> record kinds it must hold
    printed: tuple    # strings the script's stdout must contain


EXAMPLES = [
    Example("keras_fit.py", (), {"debugger": {"dataset", "model", "checks", "training"}},
            ("findings (", "capacity.", "tensorboard --logdir")),
    Example("custom_loop.py", (), {"debugger": {"dataset", "model", "checks", "training"}},
            ("records read back from", "findings (", "capacity.matched",
             "tensorboard --logdir")),
    Example("cli_on_file.py", (), {"creditcard/debugger": {"dataset", "model"}},
            ("$ tb-nndebug analyze", "run written:", "SEVERITY", "capacity.",
             "tensorboard --logdir")),
    # two of the five groups keep the test short; the engine's own tests cover the rest
    Example("paper_experiments.py", ("--only", "table1", "bugzoo"),
            {"table1/xor": {"dataset"},
             "bugzoo/clean/debugger": {"dataset", "model", "checks", "training"},
             "bugzoo/lr_too_high/debugger": {"training"}},
            ("== table1", "== bugzoo", "most severe finding per run:",
             "bugzoo/lr_too_high/debugger: ERROR", "training.lr_too_high")),
]


def run_script(example: Example, logdir: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", MPLBACKEND="Agg", PYTHONHASHSEED="0")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    cmd = [sys.executable, str(DEMO / example.script), "--logdir", str(logdir), "--smoke",
           *example.extra_args]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)


def test_every_script_is_tested_and_documented():
    scripts = sorted(p.name for p in DEMO.glob("*.py"))
    assert scripts == sorted(e.script for e in EXAMPLES)
    readme = (DEMO / "README.md").read_text(encoding="utf-8")
    for name in scripts:
        assert f"`{name}`" in readme, f"demo/README.md has no paragraph on {name}"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.script)
def test_example_runs_and_writes_records(example, tmp_path):
    logdir = tmp_path / "runs" / Path(example.script).stem
    proc = run_script(example, logdir, tmp_path)
    assert proc.returncode == 0, (
        f"{example.script} exited with {proc.returncode}\n--- stdout\n{proc.stdout[-3000:]}"
        f"\n--- stderr\n{proc.stderr[-3000:]}")
    for run, kinds in example.runs.items():
        records = read_records(logdir / run)
        assert kinds <= set(records), f"{run}: records {sorted(records)}, expected {sorted(kinds)}"
        assert not records.get("_errors"), records.get("_errors")
    for text in example.printed:
        assert text in proc.stdout, f"{example.script} did not print {text!r}:\n{proc.stdout}"
    # nothing was written outside --logdir but in the working folder it ran from
    assert {p.name for p in tmp_path.iterdir()} == {"runs"}
