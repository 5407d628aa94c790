"""Each fit is a session of the run: a refit, a resumed fit and a second writer keep one
true run, and the console, read_records, the CLI and the tab agree on it (issue #15)."""
from __future__ import annotations

import json

import pytest
from plugin_client import ROUTE, make_client
from test_one_reader import comparable
from tiny_models import two_class_data, two_class_mlp

from tb_nndebug.callback import DebuggerCallback
from tb_nndebug.cli import main
from tb_nndebug.diagnosis import diagnose
from tb_nndebug.records.reading import read_records

pytestmark = pytest.mark.training


def callback(logdir, data, **kw):
    return DebuggerCallback(logdir, train_data=data, verbose=0, csg=False, projection=False,
                            **kw)


def four_ways(logdir, cb, capsys):
    """The findings of the callback, read_records, `tb-nndebug report` and /report."""
    capsys.readouterr()
    from_files = comparable(diagnose(read_records(logdir / "debugger")))
    assert main(["report", str(logdir), "--json"]) == 0
    (cli_run,) = json.loads(capsys.readouterr().out)["runs"]
    client, _ = make_client(logdir)
    body = json.loads(client.get(f"{ROUTE}/report?run=debugger").get_data())
    return comparable(cb.findings), from_files, comparable(cli_run["findings"]), \
        comparable(body["findings"]), body


def test_a_second_fit_is_a_new_session_that_wins_everywhere(tmp_path, capsys):
    X, y = two_class_data(200, 8)
    model = two_class_mlp(8)
    cb = callback(tmp_path, (X, y))
    model.fit(X, y, epochs=4, batch_size=32, verbose=0, callbacks=[cb])
    model.fit(X, y, epochs=3, batch_size=32, verbose=0, callbacks=[cb])
    t = read_records(tmp_path / "debugger")["training"][0]
    assert t["value"]["epoch"] == 2 and t["value"]["history_epochs"] == [0, 1, 2]
    assert t["step"] == 6  # after the first fit's steps 0-3: TensorBoard keeps both
    assert [h["value"]["session"]["index"] for h in t["history"]] == [2, 2, 2]
    cb_f, files, cli, tab, body = four_ways(tmp_path, cb, capsys)
    assert cb_f == files == cli == tab
    assert "run.sessions" in {f["id"] for f in tab}
    assert "training.lr_too_low" not in {f["id"] for f in tab}
    assert [p[0] for c in body["curves"]["series"] for p in c["points"]][:3] == [0, 1, 2] \
        or body["curves"]["source"] is None


def test_a_resumed_fit_continues_the_history_with_kerass_epochs(tmp_path, capsys):
    X, y = two_class_data(200, 8)
    model = two_class_mlp(8)
    model.fit(X, y, epochs=3, batch_size=32, verbose=0, callbacks=[callback(tmp_path, (X, y))])
    # a new process would build a new callback on the same log_dir, as here
    cb = callback(tmp_path, (X, y))
    model.fit(X, y, initial_epoch=3, epochs=6, batch_size=32, verbose=0, callbacks=[cb])
    t = read_records(tmp_path / "debugger")["training"][0]
    v = t["value"]
    assert t["step"] == 5 and v["epoch"] == 5  # no earlier step rewritten: steps are epochs
    assert v["history_epochs"] == [0, 1, 2, 3, 4, 5] and len(v["history"]["loss"]) == 6
    assert v["session"]["continues"] is not None and v["session"]["initial_epoch"] == 3
    cb_f, files, cli, tab, _ = four_ways(tmp_path, cb, capsys)
    assert cb_f == files == cli == tab
    (note,) = [f for f in tab if f["id"] == "run.sessions"]
    assert note["severity"] == "info" and "resumes at epoch 3" in note["title"]


def test_a_resumed_fit_into_an_empty_run_names_its_epochs(tmp_path):
    X, y = two_class_data(200, 8)
    model = two_class_mlp(8)
    cb = callback(tmp_path, (X, y))
    model.fit(X, y, initial_epoch=20, epochs=23, batch_size=32, verbose=0, callbacks=[cb])
    t = read_records(tmp_path / "debugger")["training"][0]
    assert t["step"] == 22 and t["value"]["history_epochs"] == [20, 21, 22]
    assert t["value"]["session"]["continues"] is None


def test_two_callbacks_on_one_run_in_one_fit_warn_of_each_other(tmp_path, capsys):
    X, y = two_class_data(200, 8)
    model = two_class_mlp(8)
    a, b = callback(tmp_path, (X, y)), callback(tmp_path, (X, y))
    model.fit(X, y, epochs=3, batch_size=32, verbose=0, callbacks=[a, b])
    for cb in (a, b):
        assert "run.concurrent_writers" in {f.id for f in cb.findings}
    cb_f, files, cli, tab, _ = four_ways(tmp_path, b, capsys)
    assert cb_f == files == cli == tab
    (w,) = [f for f in tab if f["id"] == "run.concurrent_writers"]
    assert w["severity"] == "warning"


def test_a_single_fit_has_no_session_finding(tmp_path):
    X, y = two_class_data(200, 8)
    model = two_class_mlp(8)
    cb = callback(tmp_path, (X, y))
    model.fit(X, y, epochs=2, batch_size=32, verbose=0, callbacks=[cb])
    assert not {"run.sessions", "run.concurrent_writers"} & {f.id for f in cb.findings}
