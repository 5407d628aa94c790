"""Soak (issue #15 acceptance 2): real fits write 20 runs (one refitted, one resumed) while
8 clients poll every route of a real TensorBoard on loopback. No 5xx; within a session the
training step never goes back and the history always ends at the record's epoch; afterwards
the tab, read_records, the CLI and the console agree on every run."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import defaultdict
from pathlib import Path

import pytest
from test_one_reader import comparable

from tb_nndebug.cli import main
from tb_nndebug.diagnosis import diagnose
from tb_nndebug.records.reading import read_records

pytestmark = [pytest.mark.tensorboard, pytest.mark.training]

ROUTE = "/data/plugin/nndebug"
RUNS, EPOCHS, CLIENTS = 20, 3, 8
#: Seconds each client waits between rounds: a browser tab polls, it does not spin (and a
#: spinning client would starve the writer of the two cores).
PAUSE = 0.5


class Poller(threading.Thread):
    """One client: every route in turn until told to stop; keeps what it saw."""

    def __init__(self, tb, stop, seed):
        super().__init__(daemon=True)
        self.tb, self.stop, self.seed = tb, stop, seed
        self.statuses: list[tuple[str, int]] = []
        self.problems: list[str] = []
        self.last_step: dict[tuple, int] = {}

    def run(self):
        i = self.seed
        while not self.stop.is_set():
            status, _, body = self.tb.get(f"{ROUTE}/runs")
            self.statuses.append(("/runs", status))
            runs = [r["run"] for r in json.loads(body)["runs"]] if status == 200 else []
            status, _, _ = self.tb.get(f"{ROUTE}/compare")
            self.statuses.append(("/compare", status))
            for run in runs[i % max(len(runs), 1):][:3]:
                path = f"{ROUTE}/report?run={urllib.parse.quote(run)}"
                status, _, body = self.tb.get(path)
                self.statuses.append((path, status))
                if status == 200:
                    self.check(run, json.loads(body))
            i += 1
            time.sleep(PAUSE)

    def check(self, run, body):
        for entry in body["records"].get("training", []):
            v = entry["value"]
            sid = v["session"]["id"]
            if entry["step"] < self.last_step.get((run, sid), -1):
                self.problems.append(f"{run}: step went back to {entry['step']}")
            self.last_step[(run, sid)] = entry["step"]
            if v["history_epochs"][-1] != v["epoch"] or \
                    len(v["history"]["loss"]) != len(v["history_epochs"]):
                self.problems.append(f"{run}: history does not end at epoch {v['epoch']}")


def test_twenty_runs_written_live_stay_consistent_under_eight_clients(tmp_path,
                                                                      tensorboard_server,
                                                                      capsys):
    logdir = tmp_path / "logs"
    logdir.mkdir()
    tb = tensorboard_server(logdir, reload_interval=0.5)
    writer = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("soak_writer.py")), str(logdir),
         "--runs", str(RUNS), "--epochs", str(EPOCHS)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    stop = threading.Event()
    pollers = [Poller(tb, stop, seed) for seed in range(CLIENTS)]
    for p in pollers:
        p.start()
    try:
        out, _ = writer.communicate(timeout=300)
    finally:
        stop.set()
        for p in pollers:
            p.join(timeout=30)
        writer.kill()
    assert writer.returncode == 0
    console = {d["run"]: d["findings"] for d in map(json.loads, out.splitlines())}
    assert len(console) == RUNS

    statuses = [s for p in pollers for s in p.statuses]
    with capsys.disabled():
        print(f"\nsoak: {len(statuses)} requests from {CLIENTS} clients while {RUNS} runs were "
              f"written; {sum(s[1] >= 500 for s in statuses)} answered 5xx")
    assert len(statuses) > 100 and not [s for s in statuses if s[1] >= 500]
    assert not [problem for p in pollers for problem in p.problems]

    final = _settled(tb, sorted(console))
    assert main(["report", str(logdir), "--json"]) == 0
    cli = {r["run"]: r["findings"] for r in json.loads(capsys.readouterr().out)["runs"]}
    for run, findings in console.items():
        files = diagnose(read_records(logdir / run))
        assert comparable(findings) == comparable(files) == comparable(cli[run]) \
            == comparable(final[run]["findings"]), run
    assert "run.sessions" in {f["id"] for f in final["run01/debugger"]["findings"]}
    resumed = final["run02/debugger"]["records"]["training"][0]["value"]
    assert resumed["history_epochs"] == list(range(2 * EPOCHS))


def _settled(tb, runs, timeout=60):
    """Each run's /report once TensorBoard has loaded the writer's last epoch."""
    deadline = time.monotonic() + timeout
    # Keras's epochs: run01's newest session is its second fit (epochs=EPOCHS - 1), run02's
    # the resumed one (initial_epoch=EPOCHS, epochs=2 * EPOCHS)
    want = defaultdict(lambda: EPOCHS - 1, {"run01/debugger": EPOCHS - 2,
                                            "run02/debugger": 2 * EPOCHS - 1})
    while True:
        reports = {r: tb.get_json(f"{ROUTE}/report?run={urllib.parse.quote(r)}") for r in runs}
        done = all(rep["records"].get("training") and
                   rep["records"]["training"][0]["value"]["epoch"] == want[r]
                   for r, rep in reports.items())
        if done:
            return reports
        assert time.monotonic() < deadline, "TensorBoard did not load the last epochs in time"
        time.sleep(0.5)
