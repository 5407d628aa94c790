"""One hostile logdir, four faces: the callback's console, read_records + diagnose,
``tb-nndebug report`` and the tab's ``/report`` give the same findings."""
from __future__ import annotations

import json

import pytest
import tensorflow as tf
from plugin_client import ROUTE, make_client
from tensorboard.compat.proto import summary_pb2
from tiny_models import two_class_data, two_class_mlp

from tb_nndebug import metadata
from tb_nndebug.callback import DebuggerCallback
from tb_nndebug.cli import main
from tb_nndebug.diagnosis import diagnose
from tb_nndebug.records.reading import read_records


def _raw_record(tag, content: dict, payload: bytes, step=0):
    md = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(
            plugin_name=metadata.PLUGIN_NAME, content=json.dumps(content).encode()),
        data_class=summary_pb2.DATA_CLASS_TENSOR)
    tf.summary.write(tag, tf.constant([payload]), step=step, metadata=md)


def write_hostile_records(run_dir):
    """A record of a version newer than this reader and one that is not JSON."""
    writer = tf.summary.create_file_writer(str(run_dir))
    with writer.as_default():
        future = metadata.CONTENT_VERSION + 1
        _raw_record("from_the_future", {"kind": "model", "version": future},
                    json.dumps({"kind": "model", "version": future, "bits": 1}).encode())
        _raw_record("broken", {"kind": "run_info", "version": 1}, b"{not json")
    writer.close()


def comparable(findings):
    """What a user reads of a finding; ``evidence.run`` names the run only where a run name
    is known (the tab, the CLI and the callback know it; ``read_records`` of a bare
    directory does not)."""
    out = []
    for f in findings:
        d = f.to_dict() if hasattr(f, "to_dict") else dict(f)
        d["evidence"] = {k: v for k, v in d["evidence"].items() if k != "run"}
        out.append(d)
    return out


@pytest.mark.training
def test_a_hostile_logdir_gives_the_same_findings_through_all_four_readers(tmp_path, capsys):
    logdir = tmp_path / "logs"
    run_dir = logdir / "debugger"
    write_hostile_records(run_dir)
    X, y = two_class_data(200, 8)
    model = two_class_mlp(8)
    cb = DebuggerCallback(logdir, train_data=(X, y), verbose=1, csg=False, projection=False)
    model.fit(X, y, epochs=2, batch_size=32, verbose=0, callbacks=[cb])
    console = capsys.readouterr().out

    from_callback = comparable(cb.findings)
    from_files = comparable(diagnose(read_records(run_dir)))
    assert main(["report", str(logdir), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    (cli_run,) = report["runs"]
    from_cli = comparable(cli_run["findings"])
    client, _ = make_client(logdir)
    resp = client.get(f"{ROUTE}/report?run=debugger")
    assert resp.status_code == 200
    from_tab = comparable(json.loads(resp.get_data())["findings"])

    unsupported = [f for f in from_tab if f["id"] == "record.unsupported"]
    assert {f["evidence"]["tag"] for f in unsupported} == {"from_the_future", "broken"}
    assert from_callback == from_files == from_cli == from_tab
    assert cli_run["warnings"] == json.loads(resp.get_data())["warnings"]
    for f in unsupported:
        assert f"record.unsupported: Record '{f['evidence']['tag']}'" in console
