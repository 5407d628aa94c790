"""A URL ``log_dir`` stays a URL: the callback writes through TensorFlow's file system
layer (``ram://`` stands in for ``gs://``), and the one reader reads it back."""
from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf
from tiny_models import two_class_data, two_class_mlp

from tb_nndebug.callback import DebuggerCallback
from tb_nndebug.cli import main
from tb_nndebug.records.reading import read_records


@pytest.mark.training
def test_callback_on_a_ram_url_writes_nothing_locally_and_reads_back(tmp_path, monkeypatch,
                                                                     capsys):
    monkeypatch.chdir(tmp_path)
    logdir = "ram://nndebug-remote/exp1"
    X, y = two_class_data(120, 6)
    model = two_class_mlp(6)
    cb = DebuggerCallback(logdir, train_data=(X, y), verbose=0, csg=False, projection=False)
    assert cb.run_dir == "ram://nndebug-remote/exp1/debugger"
    model.fit(X, y, epochs=2, batch_size=32, verbose=0, callbacks=[cb])

    assert list(tmp_path.iterdir()) == []  # no ./ram:/... folder
    assert tf.io.gfile.isdir(cb.run_dir)
    records = read_records(cb.run_dir)
    assert {"dataset", "model", "checks", "training"} <= set(records)
    assert "_errors" not in records
    (training,) = records["training"]
    assert training["step"] == 1 and len(training["history"]) == 2
    assert main(["report", logdir, "--json"]) == 0
    (run,) = json.loads(capsys.readouterr().out)["runs"]
    assert run["findings"] == [f.to_dict() for f in cb.findings]


def test_summary_api_and_cli_on_a_ram_url_write_nothing_locally(tmp_path, monkeypatch, capsys):
    from sklearn.datasets import load_digits

    from tb_nndebug import summary

    data_dir, work = tmp_path / "data", tmp_path / "work"
    data_dir.mkdir()
    work.mkdir()
    monkeypatch.chdir(work)
    X, y = load_digits(return_X_y=True)
    np.savez(data_dir / "digits.npz", x=X[:300] / 16.0, y=y[:300])

    with tf.summary.create_file_writer("ram://nndebug-remote/api/run").as_default():
        assert summary.balance("y", y[:300], step=0)
    assert main(["analyze", str(data_dir / "digits.npz"), "--logdir", "ram://nndebug-remote/cli",
                 "--no-csg", "--no-progress"]) == 0
    assert "run written: ram://nndebug-remote/cli/digits/debugger" in capsys.readouterr().out

    assert list(work.iterdir()) == []
    assert read_records("ram://nndebug-remote/api/run")["balance"][0]["value"]["counts"]
    cli = read_records("ram://nndebug-remote/cli/digits/debugger")
    assert cli["dataset"][0]["value"]["n_samples"] == 300


@pytest.mark.training
@pytest.mark.parametrize("group", ["table1", "sizing"])
def test_the_demo_on_a_ram_url_writes_nothing_locally(tmp_path, monkeypatch, group):
    from tb_nndebug.demo.run import run
    from tb_nndebug.records.reading import find_runs

    monkeypatch.chdir(tmp_path)
    logdir = f"ram://nndebug-remote/demo-{group}"
    run(logdir, only=[group], smoke=True, progress=False)
    run(logdir, only=[group], smoke=True, progress=False)  # a re-run replaces the group
    assert list(tmp_path.iterdir()) == []
    runs = find_runs(logdir)
    assert runs and all(r.startswith(logdir + "/" + group) for r in runs)
    assert all(read_records(r) for r in runs)
