"""`tb-nndebug demo --serve` for real: a smoke-sized demo group written by the
installed command, then the TensorBoard it starts, queried over HTTP while
it runs, then stopped with Ctrl-C (SIGINT)."""
from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tb_nndebug.demo.run import GROUPS, check_groups

pytestmark = [pytest.mark.training, pytest.mark.tensorboard]

TB_NNDEBUG = Path(sys.executable).parent / "tb-nndebug"
SIZES = ("undersized", "matched", "oversized")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get_json(url):
    with urllib.request.urlopen(url, timeout=30) as resp:
        return json.loads(resp.read())


def test_only_runs_the_named_groups_in_demo_order():
    assert check_groups(None) == GROUPS
    assert check_groups(["bugzoo", "table1"]) == ("table1", "bugzoo")
    assert check_groups("sizing") == ("sizing",)
    with pytest.raises(ValueError, match="only must name groups"):
        check_groups(["sizing", "nope"])


def test_demo_serve_writes_runs_then_serves_them_until_ctrl_c(tmp_path):
    port = _free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [str(TB_NNDEBUG), "demo", "--only", "sizing", "--smoke", "--no-progress",
         "--logdir", str(tmp_path), "--serve", "--port", str(port), "--host", "127.0.0.1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(ln) for ln in proc.stdout], daemon=True).start()
    out = []
    try:
        deadline = time.monotonic() + 240
        url = None
        while url is None:
            assert time.monotonic() < deadline and proc.poll() is None, "".join(out)
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            out.append(line)
            if "/#nndebug" in line:
                url = line.split("open ", 1)[1].split("/#nndebug", 1)[0]
        text = "".join(out)
        assert url == f"http://127.0.0.1:{port}"
        # the group's table was printed before serving, with the diagnosis's verdicts
        assert "== sizing" in text and "demo done in" in text
        for size, verdict in zip(SIZES, ("too_small", "matched", "oversized")):
            assert any(ln.startswith(size) and verdict in ln for ln in out), text
        wanted = {f"sizing/{s}/debugger" for s in SIZES}
        while True:
            runs = _get_json(url + "/data/plugin/nndebug/runs")["runs"]
            if wanted <= {r["run"] for r in runs}:
                break
            assert time.monotonic() < deadline, runs
            time.sleep(0.5)
        rows = {r["run"]: r for r in _get_json(url + "/data/plugin/nndebug/compare")["rows"]}
        assert [rows[f"sizing/{s}/debugger"]["verdict"] for s in SIZES] == [
            "too_small", "matched", "oversized"]
        # Keras's curves sit beside each debugger run
        scalar_runs = _get_json(url + "/data/runs")
        assert {f"sizing/{s}/{split}" for s in SIZES for split in ("train", "validation")} \
            <= set(scalar_runs)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    time.sleep(0.5)
    rest = []
    while not lines.empty():
        rest.append(lines.get())
    assert code == 0, "".join(out + rest)
    assert "TensorBoard stopped." in "".join(rest)
    with socket.socket() as s:  # the TensorBoard it started is gone too
        assert s.connect_ex(("127.0.0.1", port)) != 0


def test_rerunning_a_group_replaces_its_runs_only(tmp_path):
    from tb_nndebug.demo.run import run

    keep = tmp_path / "my_experiment" / "notes.txt"
    keep.parent.mkdir()
    keep.write_text("not the demo's")
    first = run(tmp_path, only="table1", smoke=True, progress=False)
    files_first = sorted((tmp_path / "table1").rglob("*tfevents*"))
    second = run(tmp_path, only=["table1"], smoke=True, progress=False)
    files_second = sorted((tmp_path / "table1").rglob("*tfevents*"))
    assert [g.group for g in second.groups] == ["table1"]
    assert [r["dataset"] for r in second.groups[0].rows] == [
        r["dataset"] for r in first.groups[0].rows]
    assert files_first and len(files_second) == len(files_first)  # replaced, not added
    assert not set(files_first) & set(files_second)
    assert keep.read_text() == "not the demo's"
