"""``tb-nndebug report`` prints a failed diagnostic's message; its traceback (local paths)
only with ``--debug``, in the text and the JSON output alike."""
from __future__ import annotations

import json

import tensorflow as tf

from tb_nndebug import summary
from tb_nndebug.cli import main

FRAME = 'File "/home/me/secret/train.py", line 12, in <module>'


def _failed_run(logdir):
    with tf.summary.create_file_writer(str(logdir / "r" / "debugger")).as_default():
        summary.diagnostic_error("dead_units", f"ValueError: no ReLU layer\n  {FRAME}",
                                 epoch=0, step=0)


def test_report_prints_the_message_without_the_traceback(tmp_path, capsys):
    _failed_run(tmp_path)
    assert main(["report", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Diagnostic 'dead_units' failed: ValueError: no ReLU layer" in out
    assert "/home/me/secret" not in out and "details of" not in out


def test_report_debug_prints_the_traceback_after_the_findings(tmp_path, capsys):
    _failed_run(tmp_path)
    assert main(["report", str(tmp_path), "--debug"]) == 0
    out = capsys.readouterr().out
    table, _, details = out.partition("details of diagnostic.failed:")
    assert "no ReLU layer" in table and "/home/me/secret" not in table
    assert f"    {FRAME}" in details


def test_report_json_has_the_detail_only_with_debug(tmp_path, capsys):
    _failed_run(tmp_path)

    def evidence(*flags):
        main(["report", str(tmp_path), "--json", *flags])
        (run,) = json.loads(capsys.readouterr().out)["runs"]
        (f,) = [f for f in run["findings"] if f["id"] == "diagnostic.failed"]
        return f["evidence"]

    assert "detail" not in evidence()
    assert evidence("--debug")["detail"] == f"  {FRAME}"
