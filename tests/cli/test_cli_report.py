"""``tb-nndebug report``: the tab's findings of every run under a path, for the console and CI."""
from __future__ import annotations

import json

import tensorflow as tf

from tb_nndebug import summary
from tb_nndebug.cli import main


def _balanced_and_skewed(logdir):
    for run, counts in (("fine/debugger", [50, 50]), ("skewed/debugger", [96, 4])):
        with tf.summary.create_file_writer(str(logdir / run)).as_default():
            summary.balance("y", [c for c, n in enumerate(counts) for _ in range(n)], step=0)


def test_report_prints_the_findings_of_every_run_under_the_logdir(tmp_path, capsys):
    _balanced_and_skewed(tmp_path)
    assert main(["report", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "run: fine/debugger\nNo findings." in out
    assert "run: skewed/debugger" in out and "balance.imbalanced" in out


def test_report_fail_on_warning_exits_1_like_a_linter(tmp_path, capsys):
    _balanced_and_skewed(tmp_path)
    assert main(["report", str(tmp_path / "fine"), "--fail-on", "warning"]) == 0
    assert main(["report", str(tmp_path), "--fail-on", "warning"]) == 1
    assert main(["report", str(tmp_path), "--fail-on", "error"]) == 0


def test_report_json_lists_runs_with_findings_and_warnings(tmp_path, capsys):
    _balanced_and_skewed(tmp_path)
    main(["report", str(tmp_path), "--json"])
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert [r["run"] for r in runs] == ["fine/debugger", "skewed/debugger"]
    assert [f["id"] for f in runs[1]["findings"]] == ["balance.imbalanced", "balance.rare_class"]
    assert runs[0]["warnings"] == []


def test_report_on_a_path_without_runs_is_one_line_naming_path(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "PATH" in err[0] and "no debugger runs" in err[0]
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "PATH: no such directory" in capsys.readouterr().err
