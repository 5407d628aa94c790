"""The pure builders behind the plugin's routes (``tb_nndebug.plugin.views``)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tb_nndebug import metadata
from tb_nndebug.plugin.views import (
    compare_row,
    curves_from_scalars,
    curves_from_training,
    group_of,
    markers,
    severity_counts,
)


def content(kind, version=1):
    return json.dumps({"kind": kind, "version": version}).encode()


def tensor(kind, doc):
    return np.array([metadata.encode_record(kind, doc)], dtype=object)


@pytest.mark.parametrize("run, group", [
    ("exp1/debugger", "exp1"), ("a/b/debugger", "a/b"), ("debugger", "."), (".", "."),
    ("a\\b\\debugger", "a/b"), ("exp1/debugger/", "exp1"),
])
def test_group_is_the_parent_directory_of_the_run(run, group):
    assert group_of(run) == group


def test_curves_from_scalars_keep_epoch_tags_and_finite_values_only():
    curves = curves_from_scalars({
        "exp/train": {"epoch_loss": [(1, 0.5), (0, 1.0), (2, float("nan"))],
                      "epoch_learning_rate": [(0, 0.01)], "batch_loss": [(0, 3.0)]},
        "exp/validation": {"epoch_loss": [(0, 1.2)],
                           "evaluation_loss_vs_iterations": [(30, 1.2)]},
    })
    keys = [(c["metric"], c["split"]) for c in curves]
    assert keys == [("learning_rate", "train"), ("loss", "train"), ("loss", "validation")]
    assert curves[1]["points"] == [[0, 1.0], [1, 0.5]]
    assert curves[1]["tag"] == "epoch_loss" and curves[1]["run"] == "exp/train"


def test_curves_from_training_split_val_prefix_and_drop_nulls():
    records = {"training": [{"tag": "training", "step": 2, "value": {
        "epoch": 2, "history": {"loss": [1.0, None, 0.5], "val_accuracy": [0.1, 0.2, 0.3]}}}]}
    curves = curves_from_training(records, "r")
    assert [(c["metric"], c["split"]) for c in curves] == [("accuracy", "validation"),
                                                           ("loss", "train")]
    assert curves[1]["points"] == [[0, 1.0], [2, 0.5]]
    assert curves_from_training({}, "r") == []


def test_markers_and_counts_follow_the_findings():
    findings = [{"id": "a", "severity": "warning", "step": 5},
                {"id": "b", "severity": "error", "step": 5},
                {"id": "c", "severity": "info", "step": None},
                {"id": "d", "severity": "ok", "step": 1}]
    assert markers(findings) == [{"step": 1, "id": "d", "severity": "ok"},
                                 {"step": 5, "id": "b", "severity": "error"},
                                 {"step": 5, "id": "a", "severity": "warning"}]
    assert severity_counts(findings) == ({"error": 1, "warning": 1, "info": 1, "ok": 1}, "error")
    assert severity_counts([]) == ({"error": 0, "warning": 0, "info": 0, "ok": 0}, None)


def test_compare_row_of_a_run_without_records_is_all_null():
    row = compare_row("g/debugger", {}, [])
    assert row["run"] == "g/debugger" and row["group"] == "g"
    numbers = {k: v for k, v in row.items() if k not in ("run", "group", "counts", "worst")}
    assert set(numbers.values()) == {None}
    assert row["worst"] is None


def test_compare_row_prefers_the_train_dataset_and_falls_back_to_balance_records():
    records = {
        "dataset": [
            {"tag": "test", "step": 0, "value": {"complexity": {"expected_bits": 9}}},
            {"tag": "train", "step": 0, "value": {"complexity": {"expected_bits": 100,
                                                                  "max_bits": 500}}}],
        "model": [{"tag": "model", "step": 0, "value": {"bits": 250}}],
        "balance": [{"tag": "y", "step": 0, "value": {"stage": "before", "imbalance_ratio": 9.0}},
                    {"tag": "y2", "step": 0, "value": {"stage": "after",
                                                       "imbalance_ratio": 1.5}}],
    }
    findings = [{"id": "capacity.matched", "severity": "ok", "step": 0}]
    row = compare_row("r", records, findings)
    assert row["expected_bits"] == 100 and row["max_bits"] == 500 and row["ratio"] == 2.5
    assert row["verdict"] == "matched" and row["imbalance_ratio"] == 1.5
    assert row["counts"]["ok"] == 1 and row["worst"] == "ok"


def test_report_thins_a_long_per_step_history_to_a_bounded_even_sample():
    from tb_nndebug.plugin import views
    from tb_nndebug.plugin.routes import REPORT_HISTORY_POINTS

    hist = [{"step": s, "value": {"epoch": s}} for s in range(10_000)]
    records = {"training": [{"tag": "training", "step": 9_999, "value": {}, "history": hist}],
               "model": [{"tag": "model", "step": 0, "value": {}}]}
    (entry,) = views.thinned_histories(records, REPORT_HISTORY_POINTS)["training"]
    steps = [h["step"] for h in entry["history"]]
    assert len(steps) == REPORT_HISTORY_POINTS and steps[0] == 0 and steps[-1] == 9_999
    assert steps == sorted(set(steps)) and entry["history_thinned_from"] == 10_000
    assert records["training"][0]["history"] is hist  # the cached analysis is not changed


def test_the_tab_says_an_event_file_is_truncated(tmp_path):
    import tensorflow as tf
    from plugin_client import ROUTE, make_client

    from tb_nndebug.records import writers

    run_dir = tmp_path / "exp" / "debugger"
    with tf.summary.create_file_writer(str(run_dir)).as_default():
        for e in range(3):
            writers.write_document("training", "training", {"epoch": e, "history": {}}, step=e)
    (path,) = [p for p in run_dir.iterdir() if "tfevents" in p.name]
    path.write_bytes(path.read_bytes()[:-5])
    client, _ = make_client(tmp_path)
    body = json.loads(client.get(f"{ROUTE}/report?run=exp/debugger").get_data())
    (f,) = [f for f in body["findings"] if f["id"] == "record.unsupported"]
    assert "truncated" in f["title"] and any("truncated" in w for w in body["warnings"])
