"""The reader keeps one session of a run: the newest unless asked, records without a
session always, and only the latest training document's loss history."""
from __future__ import annotations

import json

from tb_nndebug.records import contract, reading, sessions


def point(step, wall, doc):
    return reading.Point(step, wall, doc)


def series(tag, kind, points):
    content = contract.create_summary_metadata(kind).plugin_data.content
    return reading.Series(tag, content, tuple(points))


def sess(sid, started, **kw):
    return {"id": sid, "started": started, "index": 1, "first_step": 0, "initial_epoch": 0,
            "continues": None, "concurrent": [], **kw}


def train(epoch, sid, started, hist=None):
    return {"kind": "training", "epoch": epoch, "history": {"loss": hist or [1.0]},
            "history_epochs": list(range(epoch + 1 - len(hist or [1.0]), epoch + 1)),
            "session": sess(sid, started)}


def two_fits():
    a = [point(e, 100.0 + e, train(e, "a", 100.0, [1.0] * (e + 1))) for e in range(4)]
    b = [point(4 + e, 200.0 + e, train(e, "b", 200.0, [0.5] * (e + 1))) for e in range(3)]
    checks = [point(0, 100.0, {"kind": "checks", "session": sess("a", 100.0)}),
              point(4, 200.0, {"kind": "checks", "session": sess("b", 200.0, index=2)})]
    mine = [point(0, 50.0, {"kind": "run_info", "note": "written by hand"})]
    return [series("training", "training", a + b), series("checks", "checks", checks),
            series("notes", "run_info", mine)]


def test_the_newest_session_wins_and_records_without_a_session_stay():
    d = reading.decode_series(two_fits())
    assert d.session == "b"
    t = d.records["training"][0]
    assert t["step"] == 6 and t["value"]["epoch"] == 2
    assert [h["step"] for h in t["history"]] == [4, 5, 6]
    assert d.records["checks"][0]["step"] == 4
    assert d.records["run_info"][0]["value"]["note"] == "written by hand"
    assert set(d.sessions) == {"a", "b"}
    assert d.sessions["a"]["max_step"] == 3 and d.sessions["a"]["n_records"] == 5


def test_a_session_can_be_read_by_its_id():
    t = reading.decode_series(two_fits(), session="a").records["training"][0]
    assert t["step"] == 3 and t["value"]["history"]["loss"] == [1.0] * 4


def test_only_the_latest_training_document_keeps_its_loss_history():
    t = reading.decode_series(two_fits()).records["training"][0]
    older = [h["value"] for h in t["history"][:-1]]
    assert all("history" not in v and "history_epochs" not in v for v in older)
    assert t["history"][-1]["value"]["history"]["loss"] == [0.5] * 3


def test_a_malformed_session_belongs_to_every_session():
    bad = {"kind": "run_info", "session": {"id": 3, "started": "x"}}
    d = reading.decode_series(two_fits() + [series("odd", "run_info", [point(9, 1.0, bad)])])
    assert any(e["tag"] == "odd" for e in d.records["run_info"])


def test_a_session_that_wrote_after_another_started_is_concurrent_with_it():
    seen = sessions.summarise([(0, 100.0, {"session": sess("a", 100.0)}),
                               (5, 250.0, {"session": sess("a", 100.0)}),
                               (1, 200.0, {"session": sess("b", 200.0)})])
    assert sessions.concurrent_with(seen, "b") == ["a"]
    assert sessions.concurrent_with(seen, "a") == ["b"]
    done = sessions.summarise([(0, 100.0, {"session": sess("a", 100.0)}),
                               (1, 200.0, {"session": sess("b", 200.0)})])
    assert sessions.concurrent_with(done, "b") == []


def test_run_reader_drops_the_loss_history_of_superseded_training_points(tmp_path):
    import tensorflow as tf

    from tb_nndebug.records import writers

    with tf.summary.create_file_writer(str(tmp_path)).as_default():
        for e in range(5):
            doc = train(e, "a", 100.0, [1.0] * (e + 1))
            doc.pop("kind")
            writers.write_document("training", "training", doc, step=e)
    reader = reading.RunReader(tmp_path)
    (s,) = reader.series()
    kept = [p.value for p in s.points]
    assert ["history" in v for v in kept] == [False] * 4 + [True]
    assert len(json.dumps(kept)) < 2000


def test_a_truncated_event_file_is_said_not_taken_for_a_clean_run(tmp_path):
    import tensorflow as tf

    from tb_nndebug.diagnosis import diagnose
    from tb_nndebug.records import writers

    with tf.summary.create_file_writer(str(tmp_path)).as_default():
        for e in range(3):
            writers.write_document("training", "training", {"epoch": e, "history": {}}, step=e)
    (path,) = [p for p in tmp_path.iterdir() if "tfevents" in p.name]
    data = path.read_bytes()
    path.write_bytes(data[:-7])  # the last record cut short, as a copy or a kill can leave it
    records = reading.read_records(tmp_path)
    assert records["training"][0]["step"] == 1  # what came before the cut is read
    (f,) = [f for f in diagnose(records) if f.id == "record.unsupported"]
    assert f.severity == "warning" and "truncated" in f.title and path.name in f.title
    path.write_bytes(data)
    assert not reading.RunReader(tmp_path).read().errors


def test_a_latest_only_reader_keeps_one_point_per_tag_and_session(tmp_path):
    import tensorflow as tf

    from tb_nndebug.records import writers

    with tf.summary.create_file_writer(str(tmp_path)).as_default():
        for e in range(50):
            doc = train(e, "a", 100.0)
            doc.pop("kind")
            writers.write_document("training", "training", doc, step=e)
    reader = reading.RunReader(tmp_path, latest_only=True)
    (s,) = reader.series()
    assert [p.step for p in s.points] == [49]
    assert reader.read().records["training"][0]["value"]["epoch"] == 49
