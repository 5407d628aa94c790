"""A record that nests 3,000 deep or holds a 5,000-digit integer is that record's
``record.unsupported`` finding: the routes stay 200 and the other runs stay listed.
NaN / Infinity literals in a record reach the routes as null."""
from __future__ import annotations

import json

import tensorflow as tf
from plugin_client import ROUTE, make_client
from tensorboard.compat.proto import summary_pb2

from tb_nndebug import metadata, summary


def _raw(tag, payload: bytes):
    md = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(
            plugin_name=metadata.PLUGIN_NAME,
            content=json.dumps({"kind": "run_info", "version": 1}).encode()),
        data_class=summary_pb2.DATA_CLASS_TENSOR)
    tf.summary.write(tag, tf.constant([payload]), step=0, metadata=md)


def test_deep_and_huge_records_do_not_take_the_routes_down(tmp_path):
    with tf.summary.create_file_writer(str(tmp_path / "good" / "debugger")).as_default():
        summary.balance("y", [0] * 96 + [1] * 4, step=0)
    with tf.summary.create_file_writer(str(tmp_path / "hostile" / "debugger")).as_default():
        _raw("deep", b'{"kind": "run_info", "version": 1, "x": ' + b"[" * 3000 + b"]" * 3000
             + b"}")
        _raw("huge", b'{"kind": "run_info", "version": 1, "x": ' + b"9" * 5000 + b"}")
        _raw("nan", b'{"kind": "run_info", "version": 1, "architecture": NaN, '
                    b'"capacity_level": Infinity}')
    client, _ = make_client(tmp_path)

    runs = client.get(f"{ROUTE}/runs")
    assert runs.status_code == 200
    listed = {r["run"]: r for r in json.loads(runs.get_data())["runs"]}
    assert set(listed) == {"good/debugger", "hostile/debugger"}
    assert listed["hostile/debugger"]["n_warnings"] == 2
    assert client.get(f"{ROUTE}/compare").status_code == 200
    report = client.get(f"{ROUTE}/report?run=hostile/debugger")
    assert report.status_code == 200
    findings = json.loads(report.get_data())["findings"]
    assert sorted(f["evidence"]["tag"] for f in findings if f["id"] == "record.unsupported") == [
        "deep", "huge"]
    body = report.get_data(as_text=True)
    assert "NaN" not in body and "Infinity" not in body  # the contract says null
    (row,) = json.loads(client.get(f"{ROUTE}/compare?runs=hostile/debugger").get_data())["rows"]
    assert row["architecture"] is None and row["capacity_level"] is None
    good = json.loads(client.get(f"{ROUTE}/report?run=good/debugger").get_data())
    assert "balance.imbalanced" in {f["id"] for f in good["findings"]}
